/* SPDX-License-Identifier: MIT */
/* Interrupt entry stubs: one per vector, then a common register save. */

/*
 * Each stub is 16 bytes apart (isr_stubs + 16 * vector) so that C can
 * point a gate at any vector without a table of addresses. The CPU pushes
 * an error code only for vectors 8, 10-14, 17, 21, 29 and 30 (SDM vol. 3
 * 6.3.1); the other stubs push a 0 in its place so every frame has the
 * layout of struct ex_regs.
 */
	.text
	.code64
	.balign 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	.if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || \
	      vec == 21 || vec == 29 || vec == 30)
	pushq $0
	.endif
	pushq $vec
	jmp isr_common
	.set vec, vec + 1
	.endr

/*
 * Saves the general registers below the vector and error code, calls
 * idt_dispatch(struct ex_regs *), and returns with IRETQ (the handler may
 * have edited the saved registers). The CPU aligned RSP to 16 before its
 * 5-word frame; 2 + 15 more words keep the call site 16-byte aligned.
 */
isr_common:
	pushq %r15
	pushq %r14
	pushq %r13
	pushq %r12
	pushq %r11
	pushq %r10
	pushq %r9
	pushq %r8
	pushq %rbp
	pushq %rdi
	pushq %rsi
	pushq %rdx
	pushq %rcx
	pushq %rbx
	pushq %rax
	cld
	movq %rsp, %rdi
	call idt_dispatch
	popq %rax
	popq %rbx
	popq %rcx
	popq %rdx
	popq %rsi
	popq %rdi
	popq %rbp
	popq %r8
	popq %r9
	popq %r10
	popq %r11
	popq %r12
	popq %r13
	popq %r14
	popq %r15
	addq $16, %rsp		/* vector and error code */
	iretq

/* No executable stack: keeps ld from warning about this object. */
	.section .note.GNU-stack, "", @progbits
