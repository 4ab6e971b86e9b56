/* SPDX-License-Identifier: MIT */
/* AP start: real-mode trampoline (copied low), then 32-bit and 64-bit entry. */

#include "segments.h"

/*
 * The trampoline is the only code that runs from the low page the SIPI
 * names (CS = page << 8, IP = 0). It is position independent: it loads
 * the image's GDT through a pseudo-descriptor it carries (CS-relative),
 * turns on protection and jumps far to ap_entry32 in the image, which
 * does the rest at its linked address. SI carries CS (the SIPI page
 * << 8) on to C, so a test can tell which trampoline started an AP.
 * Kept tiny: every instruction is interpreted on the PVM hosts.
 */
	.section .rodata, "a"
	.code16
	.balign 16
	.globl smp_trampoline_start, smp_trampoline_end
smp_trampoline_start:
	cli
	movw %cs, %si
	lgdtl %cs:(tramp_gdt_desc - smp_trampoline_start)
	movl %cr0, %eax
	orl $1, %eax		/* PE */
	movl %eax, %cr0
	ljmpl $SEL_CODE32, $ap_entry32
	.balign 8
tramp_gdt_desc:
	.word GDT_SIZE - 1
	.long gdt
smp_trampoline_end:

	.text
	.code32
ap_entry32:
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss

	/* Straight to long mode: PAE, CR3, EFER.LME, then PG (never
	 * paging with LME clear, which PVM cannot run). */
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	/* PG; clear CD and NW, which INIT sets. */
	andl $~(CR0_CD | CR0_NW), %eax
	orl $CR0_PG, %eax
	movl %eax, %cr0
	ljmp $SEL_CODE64, $ap_entry64

	.code64
ap_entry64:
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs

	/* A stack slot per start: restarted APs take a fresh one. */
	movl $1, %eax
	lock xaddl %eax, ap_next_slot
	cmpl $AP_STACK_SLOTS, %eax
	jae 2f
	incl %eax
	imull $AP_STACK_SIZE, %eax
	leaq ap_stacks(%rip), %rsp
	addq %rax, %rsp

	movzwl %si, %edi
	shrl $8, %edi		/* the SIPI page */
	call ap_start
2:	cli
	hlt
	jmp 2b

	.section .bss, "aw", @nobits
	.balign 4
	.globl ap_next_slot
ap_next_slot:
	.skip 4

/* Not zeroed at boot (see guest.ld): stacks need no clearing. */
	.section .noinit, "aw", @nobits
	.balign 16
ap_stacks:
	.skip AP_STACK_SIZE * AP_STACK_SLOTS

/* No executable stack: keeps ld from warning about this object. */
	.section .note.GNU-stack, "", @progbits
