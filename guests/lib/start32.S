/* SPDX-License-Identifier: MIT */
/*
 * 32-bit entry: switch to long mode, call C. Assembled as is, it carries a
 * Multiboot v1 header; with GUEST_PVH defined, a Xen PVH entry note
 * instead (the two entry states differ only in EAX and what EBX points
 * at).
 */

#include "segments.h"

#define MB_MAGIC 0x1BADB002
/*
 * Bit 0: page-align modules; bit 1: give us mem_lower/mem_upper (and the
 * memory map). No bit 16: the loader uses the ELF program headers, which
 * is why the image is an ELF32 (objcopy -O elf32-i386) wrapping 64-bit
 * code.
 */
#define MB_FLAGS 0x00000003

#ifndef GUEST_PVH
/* The linker script places this first, well inside the first 8 KiB. */
	.section .multiboot, "a"
	.balign 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
#define ENTRY_PROTOCOL PROTO_MULTIBOOT
#else
/*
 * Xen's public/elfnote.h: XEN_ELFNOTE_PHYS32_ENTRY (18), named "Xen", holds
 * the physical address of the 32-bit entry (docs/misc/pvh.pandoc). The
 * linker script gives .note.Xen a PT_NOTE segment.
 */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4			/* n_namesz: "Xen" and its NUL */
	.long 4			/* n_descsz */
	.long 18		/* n_type */
	.asciz "Xen"
	.long _start
#define ENTRY_PROTOCOL PROTO_PVH
#endif

/*
 * Entry state (Multiboot 0.6.96 section 3.2): EAX = 0x2BADB002, EBX =
 * the multiboot info, flat protected mode with paging off, the GDTR
 * possibly invalid, no stack. PVH (pvh.pandoc): the same with EBX = the
 * hvm_start_info and EAX undefined. Nothing here loops: each instruction costs
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

	movl $ENTRY_PROTOCOL, %edi
	movl %ebp, %esi		/* zero-extends: magic */
	movl %ebx, %edx		/* multiboot info address */
	call guest_entry
1:	cli
	hlt
	jmp 1b

/* No executable stack: keeps ld from warning about this object. */
	.section .note.GNU-stack, "", @progbits
