/* SPDX-License-Identifier: MIT */
/* Multiboot v1 header and 32-bit entry: switch to long mode, call C. */

#include "segments.h"

#define MB_MAGIC 0x1BADB002
/*
 * Bit 0: page-align modules; bit 1: give us mem_lower/mem_upper (and the
 * memory map). No bit 16: the loader uses the ELF program headers, which
 * is why the image is an ELF32 (objcopy -O elf32-i386) wrapping 64-bit
 * code.
 */
#define MB_FLAGS 0x00000003

/* The linker script places this first, well inside the first 8 KiB. */
	.section .multiboot, "a"
	.balign 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

/*
 * Entry state (Multiboot 0.6.96 section 3.2): EAX = 0x2BADB002, EBX =
 * the multiboot info, flat protected mode with paging off, the GDTR
 * possibly invalid, no stack. Nothing here loops: each instruction costs
 * ~0.5 us on an interpreting host.
 */
	.section .text.boot, "ax"
	.code32
	.globl _start
_start:
	cli
	movl %eax, %ebp		/* magic; EAX/EDX are clobbered by RDMSR */
				/* EBX (the info) survives untouched */
	lgdt gdt_desc

	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4

	movl $pml4, %eax
	movl %eax, %cr3

	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr

	/* PG with LME set enters long mode directly (never PAE-only paging,
	 * which PVM cannot run). */
	movl %cr0, %eax
	orl $CR0_PG, %eax
	movl %eax, %cr0

	ljmp $SEL_CODE64, $long_entry

	.code64
long_entry:
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movq $stack_top, %rsp

	/* Zero .bss (and the stack in it) in one REP STOSQ. */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $3, %ecx
	xorl %eax, %eax
	rep stosq

	movl $PROTO_MULTIBOOT, %edi
	movl %ebp, %esi		/* zero-extends: magic */
	movl %ebx, %edx		/* multiboot info address */
	call guest_entry
1:	cli
	hlt
	jmp 1b

/* No executable stack: keeps ld from warning about this object. */
	.section .note.GNU-stack, "", @progbits
