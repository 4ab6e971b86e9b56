/* SPDX-License-Identifier: MIT */
/* What PC firmware leaves in low memory for real-mode code: IVT, handlers. */
#ifndef SPLITVM_BIOS_H
#define SPLITVM_BIOS_H

#include <stdint.h>

/*
 * splitvm runs no BIOS, but real-mode code (kvm-unit-tests' realmode, an
 * OS's S3 waking vector, an AP trampoline that enables interrupts) expects
 * what a BIOS leaves behind: an interrupt vector table whose every entry
 * leads to a handler that returns, and handlers that EOI the PIC's
 * interrupts, so that `sti; hlt` wakes up on the timer and goes on. The
 * layout follows SeaBIOS's (QEMU's firmware): every vector at the IRET at
 * F000:FF53, the PIC's vectors at handlers that send it an EOI.
 */

/* Real-mode interrupt vector table: 256 far pointers (offset, segment). */
#define BIOS_IVT_ADDR 0x0ull
#define BIOS_IVT_ENTRIES 256
#define BIOS_IVT_SIZE (BIOS_IVT_ENTRIES * 4)

/*
 * The vector bases the 8259As are left at (irqchip/pic.h PIC_FW_*, as
 * SeaBIOS programs them): IRQ 0-7 at 0x08-0x0f, IRQ 8-15 at 0x70-0x77.
 */
#define BIOS_MASTER_VECTOR 0x08
#define BIOS_SLAVE_VECTOR 0x70

/*
 * The handlers, in the BIOS segment F000, in 20 bytes at F000:FF40; the
 * VM reserves exactly these bytes in every memory map, as it does its
 * ACPI and MP tables, so no image loads over them.
 */
#define BIOS_SEGMENT 0xf000
#define BIOS_STUBS_ADDR 0xfff40ull
#define BIOS_STUBS_SIZE 0x14
/* Offsets in BIOS_SEGMENT of each handler. */
#define BIOS_MASTER_EOI_OFFSET 0xff40 /* push ax; EOI master; pop ax; iret */
#define BIOS_SLAVE_EOI_OFFSET 0xff48  /* the same, EOI slave then master */
#define BIOS_IRET_OFFSET 0xff53	      /* iret, where SeaBIOS has its own */

/**
 * bios_build_ivt() - the interrupt vector table as firmware leaves it.
 * @ivt: BIOS_IVT_SIZE bytes, for guest memory at BIOS_IVT_ADDR.
 *
 * Vectors BIOS_MASTER_VECTOR..+7 point at the master's EOI handler,
 * BIOS_SLAVE_VECTOR..+7 at the slave's, every other one at the IRET.
 */
void bios_build_ivt(uint8_t ivt[BIOS_IVT_SIZE]);

/**
 * bios_build_stubs() - the handlers the IVT points at.
 * @stubs: BIOS_STUBS_SIZE bytes, for guest memory at BIOS_STUBS_ADDR.
 *
 * 16-bit code: each PIC handler saves AX, writes a non-specific EOI
 * (OCW2 0x20) to the slave (0xa0) if the interrupt came through it, then
 * to the master (0x20), restores AX and returns with IRET, as SeaBIOS's
 * handlers of unused IRQs do; the timer's IRQ0 is taken the same way
 * (SeaBIOS also counts ticks in its data area, which splitvm does not
 * keep). Bytes between the handlers are IRETs.
 */
void bios_build_stubs(uint8_t stubs[BIOS_STUBS_SIZE]);

#endif /* SPLITVM_BIOS_H */
