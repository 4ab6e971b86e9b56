/* SPDX-License-Identifier: MIT */
/* Entry of a plain ELF64 guest: started in long mode with RDI = the FDT. */

#include "segments.h"

/*
 * The VMM enters e_entry in 64-bit mode with its own GDT, identity page
 * tables and stack in low memory. Tests are free to overwrite low memory
 * (real-mode trampolines), so switch at once to our own GDT, page tables
 * and stack, which live in the image.
 */
	.section .text.boot, "ax"
	.code64
	.globl _start
_start:
	cli
	movq %rdi, %rbx		/* the FDT; RBX is callee-saved */
	lgdt gdt_desc
	movl $pml4, %eax
	movq %rax, %cr3

	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movq $stack_top, %rsp

	/* Reload CS from our GDT: a far return to the next instruction. */
	pushq $SEL_CODE64
	pushq $1f
	lretq
1:
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $3, %ecx
	xorl %eax, %eax
	rep stosq

	movl $PROTO_FDT, %edi
	xorl %esi, %esi
	movq %rbx, %rdx
	call guest_entry
2:	cli
	hlt
	jmp 2b

/* No executable stack: keeps ld from warning about this object. */
	.section .note.GNU-stack, "", @progbits
