/* SPDX-License-Identifier: MIT */
/* The guest's own GDT and identity page tables, built at assembly time. */

/*
 * Everything here is data the assembler and linker fill in: guest kernel
 * code is interpreted on the PVM machines (~0.5 us per instruction), so
 * the 2048 page directory entries must not be written by a loop at boot.
 */

#include "segments.h"

	.section .data.pagetables, "aw"
	.balign 4096

/* PML4: one entry, the PDPT covering 0-512 GiB (only 0-4 GiB used). */
	.globl pml4
pml4:
	.quad pdpt + PTE_P + PTE_RW
	.fill 511, 8, 0

/* PDPT: four page directories, one per GiB. */
pdpt:
	.quad pd + 0 * 4096 + PTE_P + PTE_RW
	.quad pd + 1 * 4096 + PTE_P + PTE_RW
	.quad pd + 2 * 4096 + PTE_P + PTE_RW
	.quad pd + 3 * 4096 + PTE_P + PTE_RW
	.fill 508, 8, 0

/*
 * Four page directories of 2 MiB pages mapping 0-4 GiB 1:1. The top GiB
 * holds the MMIO windows (IOAPIC 0xfec00000, LAPIC 0xfee00000, the test
 * device at 0xff000000), so it is mapped uncached (PCD|PWT) as a PC's
 * MTRRs would make it; RAM below 3 GiB is write-back.
 */
pd:
	.set addr, 0
	.rept 3 * 512
	.quad addr + PTE_P + PTE_RW + PTE_PS
	.set addr, addr + 0x200000
	.endr
	.rept 512
	.quad addr + PTE_P + PTE_RW + PTE_PS + PTE_PWT + PTE_PCD
	.set addr, addr + 0x200000
	.endr

/*
 * GDT. Descriptors are pre-marked accessed so that loading a selector
 * never makes the CPU (or KVM's emulator) write back into the table.
 */
	.section .data, "aw"
	.balign 16
	.globl gdt
gdt:
	.quad 0			/* null */
	.quad 0x00af9b000000ffff	/* SEL_CODE64: L=1, DPL 0, exec/read */
	.quad 0x00cf93000000ffff	/* SEL_DATA: flat 4 GiB, read/write */
	.quad 0x00cf9b000000ffff	/* SEL_CODE32: flat 4 GiB, D=1 */
gdt_end:
	.if gdt_end - gdt - GDT_SIZE
	.error "GDT_SIZE in segments.h does not match the GDT"
	.endif

/*
 * The pseudo-descriptor for LGDT: 32-bit code reads limit + 4 bytes of
 * base, 64-bit code limit + 8; the .quad serves both.
 */
	.balign 16
	.word 0, 0, 0		/* pad, so that the base is 8-byte aligned */
	.globl gdt_desc
gdt_desc:
	.word gdt_end - gdt - 1
	.quad gdt

/* The boot CPU's stack; .bss is zeroed before the first push. */
	.section .bss, "aw", @nobits
	.balign 16
	.globl stack_bottom, stack_top
stack_bottom:
	.skip STACK_SIZE
stack_top:

/* No executable stack: keeps ld from warning about this object. */
	.section .note.GNU-stack, "", @progbits
