/* SPDX-License-Identifier: MIT */
/* The Intel MultiProcessor Specification 1.4 table, from the machine desc. */
#ifndef SPLITVM_MPTABLE_H
#define SPLITVM_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "acpi.h"

/*
 * The MP table's APIC IDs are 8 bits and 0xff means "all local APICs", so
 * it can describe APIC IDs 0..254 only: up to 255 CPUs.
 */
#define MPTABLE_MAX_CPUS 255

/* Identification in the configuration table header (MP spec 4.2). */
#define MPTABLE_OEM_ID "SPLTVM  "	     /* 8 characters */
#define MPTABLE_PRODUCT_ID "SPLITVM     " /* 12 characters */

/*
 * What each processor entry claims (MP spec 4.3.1): family 6, FPU and
 * APIC present, as SeaBIOS writes when CPUID gives nothing better. Linux
 * reads only the APIC ID and the flags.
 */
#define MPTABLE_CPU_SIGNATURE 0x600
#define MPTABLE_CPU_FEATURES ((1u << 0) | (1u << 9))

/*
 * Bytes mptable_build() needs for m, or 0 if machine_desc_check() rejects
 * m or it has more than MPTABLE_MAX_CPUS CPUs.
 */
size_t mptable_size(const struct machine_desc *m);

/**
 * mptable_build() - Lays out the MP floating pointer and configuration table.
 * @m: the machine.
 * @buf: the bytes that will be guest memory at @gpa; at least
 *	 mptable_size(m).
 * @size: bytes in @buf.
 * @gpa: guest-physical address of @buf[0]; 16-byte aligned (the floating
 *	 pointer's alignment, MP spec 4.1) and below 4 GiB with the table.
 * @ret_mpf: set to the floating pointer's guest-physical address (@gpa).
 *
 * Writes the 16-byte floating pointer structure at @buf[0] and the
 * configuration table right after it, at @gpa + 16: one processor entry
 * per CPU (the BSP, APIC ID 0, flagged), an ISA bus, the IOAPIC, an I/O
 * interrupt entry per connected ISA IRQ (IRQ0 at INTIN 2, none for the
 * cascade IRQ2, the SCI level-triggered: machine_isa_irq()), ExtINT to
 * the BSP's LINT0 and NMI to every CPU's LINT1. Virtual wire mode (no
 * IMCR). Bytes of @buf after the table are left alone.
 *
 * A guest finds the floating pointer only where it scans: Linux looks at
 * [0, 0x400), the last KiB of base memory [0x9fc00, 0xa0000), the BIOS
 * area [0xf0000, 0x100000) and the first KiB of the EBDA, on 16-byte
 * boundaries. The table outgrows a KiB past 40 CPUs, so put @buf in the
 * BIOS area, e.g. at 0xf0000.
 *
 * Return: 0, -EINVAL (@m rejected by machine_desc_check(), @gpa unaligned
 * or the table not below 4 GiB), -ERANGE (more than MPTABLE_MAX_CPUS
 * CPUs: leave the MP table out, the MADT describes them), -ENOSPC (@size
 * too small).
 */
int mptable_build(const struct machine_desc *m, void *buf, size_t size,
		  uint64_t gpa, uint64_t *ret_mpf);

#endif /* SPLITVM_MPTABLE_H */
