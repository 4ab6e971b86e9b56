/* SPDX-License-Identifier: MIT */
/* The machine-description flattened device tree, built with libfdt. */

#ifndef SPLITVM_FDT_MACHINE_H
#define SPLITVM_FDT_MACHINE_H

#include <stddef.h>
#include <stdint.h>

#include "acpi.h"
#include "guest_mem.h"

#define FDT_MAX_SIZE 0x10000

/*
 * Starts a tree in buf: root (compatible "splitvm,pc"), /chosen (bootargs),
 * /memory nodes for the RAM ranges, /cpus with one node per CPU (reg = APIC
 * ID), and an /isa node (#address-cells 2: space 1 = I/O ports, 0 =
 * memory) for devices to describe themselves under.
 * Returns the offset of the /isa node, or a negative errno (-ENOSPC).
 */
int fdt_machine_begin(void *buf, size_t size, const struct guest_mem *mem,
		      unsigned int cpus, const char *cmdline);

/*
 * Adds the interrupt controllers of m: /interrupt-controller@fec00000 (the
 * IOAPIC: reg, its ID, version and pin count, and "isa-irq-map" triples
 * <ISA IRQ, GSI, MPS INTI flags> for each connected ISA IRQ, as the MADT's
 * overrides and the MP table's entries say), and the LAPIC at 0xfee00000.
 * Returns 0 or -ENOSPC.
 */
int fdt_add_interrupt_controllers(void *fdt, const struct machine_desc *m);

/* Packs the tree. Returns 0 or -ENOSPC. */
int fdt_machine_finish(void *buf);

/* Adds a child of parent named "name@unit" with compatible and I/O ports
 * [port, port + len) and, if irq >= 0, interrupts = <irq>. Returns the new
 * node's offset or -ENOSPC. A helper for devices' describe callbacks. */
int fdt_add_isa_device(void *fdt, int parent, const char *name,
		       const char *compatible, uint32_t port, uint32_t len,
		       int irq);

#endif /* SPLITVM_FDT_MACHINE_H */
