/* SPDX-License-Identifier: MIT */
/* What every emulated device provides to the bus and to the machine. */
#ifndef SPLITVM_DEVICE_H
#define SPLITVM_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "splitvm.h"

/* One guest access, as the bus hands it to a device. */
struct io_access {
	uint64_t addr;	  /* port number or guest-physical address */
	uint64_t offset;  /* addr minus the base of the device's region */
	unsigned int len; /* 1, 2, 4 or 8 bytes; always inside the region */
	int vcpu;	  /* index of the accessing vCPU, -1 for the host */
};

/*
 * A device's callbacks. read and write may be called from several vCPU
 * threads at once: a device with mutable state locks it itself. A device
 * ignores an access of a size it does not implement (reads give all
 * ones); nothing a guest does may stop the VM unless that is the device's
 * purpose (debug-exit, reset).
 */
struct device_ops {
	const char *name;
	uint64_t (*read)(void *dev, const struct io_access *a);
	void (*write)(void *dev, const struct io_access *a, uint64_t val);
	/* Back to the power-on state, on a VM reset; no vCPU runs (may be NULL). */
	void (*reset)(void *dev);
	/* Adds the device's node to the machine-description FDT (may be NULL). */
	int (*describe)(void *dev, void *fdt, int parent);
	/* Frees the device (may be NULL when the device is not heap-owned). */
	void (*destroy)(void *dev);
	/*
	 * Snapshots (src/core/snapshot.c). save writes what decides the
	 * device's future into buf, at most cap bytes, and returns the length
	 * (0 for a device with no state), or -ENOSPC. It saves state, not
	 * wiring: irq lines, clocks, callbacks and locks stay the device's
	 * own. Host-clock times are saved relative to now, the VM's clock
	 * (vm_now_ns()) at the snapshot, so that a count in progress goes on
	 * from where it was.
	 *
	 * load puts back what save wrote, with times rebased on its own now,
	 * and re-arms the device's timer and drives its lines as the state
	 * says. The bytes may come from a hostile file: load checks every
	 * value first and returns -EINVAL, the device unchanged, for a length
	 * or a value save could not have written.
	 *
	 * Both run with the VM paused: no vCPU runs and the I/O thread fires
	 * no timer. A device without them cannot be snapshotted: the snapshot
	 * is refused, naming it.
	 */
	int (*save)(void *dev, void *buf, size_t cap, uint64_t now);
	int (*load)(void *dev, const void *buf, size_t len, uint64_t now);
};

/*
 * The little-endian fields of the devices' snapshot records: n bytes of v
 * at p, or read from p; and the same moving along a record.
 */
static inline void put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t get_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/*
 * Whether the len bytes at p (len > 0) are all zero: the first byte, then
 * each byte against the one before it, which is libc's vectorised memcmp
 * at any alignment rather than a loop of single bytes.
 */
static inline bool mem_is_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	return !b[0] && !memcmp(b, b + 1, len - 1);
}

struct snap_out {
	uint8_t *p;
};

struct snap_in {
	const uint8_t *p;
};

static inline void snap_put(struct snap_out *o, uint64_t v, unsigned int n)
{
	put_le(o->p, v, n);
	o->p += n;
}

static inline uint64_t snap_get(struct snap_in *in, unsigned int n)
{
	uint64_t v = get_le(in->p, n);

	in->p += n;
	return v;
}

/* All ones of an access's width: what an unclaimed read returns. */
static inline uint64_t io_all_ones(unsigned int len)
{
	return len >= 8 ? ~0ull : (1ull << (len * 8)) - 1;
}

/*
 * An interrupt line a device drives. Devices know only this: the router
 * behind set() decides which PIC and IOAPIC pins the line reaches.
 */
struct irq_line {
	void (*set)(void *router, unsigned int line, bool level);
	void *router;
	unsigned int line;
};

static inline void irq_line_set(const struct irq_line *l, bool level)
{
	if (l->set)
		l->set(l->router, l->line, level);
}

/* How a device ends the run (debug-exit, reset and shutdown ports). */
struct vm_end_hook {
	void (*end)(void *vm, enum splitvm_outcome outcome, uint32_t code,
		    int vcpu);
	void *vm;
};

/* Where a device's text output goes (the serial console). */
struct console_sink {
	void (*write)(void *ctx, const char *data, size_t len);
	void *ctx;
};

#endif /* SPLITVM_DEVICE_H */
