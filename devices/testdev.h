/* SPDX-License-Identifier: MIT */
/* pc-testdev: QEMU's x86 test device, as kvm-unit-tests drive it. */
#ifndef SPLITVM_TESTDEV_H
#define SPLITVM_TESTDEV_H

#include <stdint.h>

#include "device.h"

/*
 * Ports 0xe0-0xeb, one region for testdev_port_ops: a 32-bit latch at
 * 0xe0, the flush-page port at 0xe4, and the same latch again at 0xe8
 * (QEMU's "ioport-byte" window, which its memory core feeds a byte at a
 * time; the result is the latch's bytes either way).
 */
#define TESTDEV_PORT_BASE 0xe0
#define TESTDEV_PORT_SIZE 12
#define TESTDEV_LATCH_PORT 0xe0
#define TESTDEV_FLUSH_PORT 0xe4
#define TESTDEV_LATCH_BYTE_PORT 0xe8

/* Ports 0x2000 + n for line n < nr_lines, for testdev_irq_ops. */
#define TESTDEV_IRQ_BASE 0x2000
#define TESTDEV_DEFAULT_LINES 24 /* QEMU's region: one per IOAPIC pin */
#define TESTDEV_MAX_LINES 120

/* Emulated-MMIO scratch (not RAM), for testdev_mmio_ops. */
#define TESTDEV_IOMEM_BASE 0xff000000ull
#define TESTDEV_IOMEM_SIZE 0x10000

struct testdev;

/* What the device asks of the VM. */
struct testdev_hooks {
	/*
	 * Drops the guest page at gpa (page-aligned, below 4 GiB) from the
	 * guest's mappings, keeping its contents, so that the guest's next
	 * access to it faults into KVM again (QEMU mprotects the host page
	 * PROT_NONE and back). Called from a vCPU thread with no device lock
	 * held; returns 0 or a negative errno, which is only counted. May be
	 * NULL: flush requests are then counted and ignored.
	 */
	int (*flush_page)(void *ctx, uint64_t gpa);
	void *ctx;
};

struct testdev_stats {
	uint64_t latch_writes; /* writes reaching the 0xe0/0xe8 latch */
	uint64_t flushes;      /* flush requests (4-byte writes to 0xe4) */
	uint64_t flush_errors; /* ... for which the hook failed */
	uint64_t line_writes;  /* line writes, all lines together */
	uint64_t ignored;      /* accesses of a width or to a port not served */
};

/*
 * Ports 0xe0-0xeb (register TESTDEV_PORT_BASE, TESTDEV_PORT_SIZE). Holds
 * the device's reset, describe, destroy, save and load (the latch, line
 * levels, counters and MMIO scratch): pass this table to the VM's device
 * list; the other two tables read and write, and their save and load
 * hold nothing (0 bytes).
 */
extern const struct device_ops testdev_port_ops;
/* Ports TESTDEV_IRQ_BASE + [0, nr_lines). */
extern const struct device_ops testdev_irq_ops;
/* MMIO TESTDEV_IOMEM_BASE + [0, TESTDEV_IOMEM_SIZE). */
extern const struct device_ops testdev_mmio_ops;

/**
 * testdev_new() - creates the device.
 * @router: the interrupt router: a write to port 0x2000 + n calls
 *	    router->set(router->router, n, level); router->line is unused.
 *	    Copied. NULL, or a NULL set, makes line writes only record the
 *	    level.
 * @nr_lines: how many line ports, 1 to TESTDEV_MAX_LINES (one per IOAPIC
 *	      pin: TESTDEV_DEFAULT_LINES for the 24-pin IOAPIC).
 * @hooks: the flush-page hook; copied; NULL for none.
 * @ret: receives the device; free it with testdev_port_ops.destroy.
 *
 * Returns 0, or -EINVAL (ret NULL, nr_lines 0 or above
 * TESTDEV_MAX_LINES), -ENOMEM.
 */
int testdev_new(const struct irq_line *router, unsigned int nr_lines,
		const struct testdev_hooks *hooks, struct testdev **ret);

/* The nr_lines given to testdev_new(): the size of the line-port region. */
unsigned int testdev_nr_lines(const struct testdev *t);

/* Writes to line port n so far (0 for n >= nr_lines). Thread-safe. */
uint64_t testdev_line_writes(struct testdev *t, unsigned int line);

/* A snapshot of the counters. Thread-safe. */
void testdev_get_stats(struct testdev *t, struct testdev_stats *ret);

#endif /* SPLITVM_TESTDEV_H */
