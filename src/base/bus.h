/* SPDX-License-Identifier: MIT */
/* Port I/O and MMIO buses: address ranges mapped to devices. */
#ifndef SPLITVM_BUS_H
#define SPLITVM_BUS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "device.h"

struct bus_region {
	uint64_t base;
	uint64_t size;
	const struct device_ops *ops;
	void *dev;
};

/*
 * Regions are registered before the VM starts and never change while it
 * runs, so lookups take no lock.
 */
struct bus {
	const char *name; /* "pio" or "mmio", for messages */
	struct bus_region *regions; /* sorted by base, never overlapping */
	unsigned int nr_regions;
	unsigned int cap;
	atomic_uint_fast64_t unclaimed; /* accesses no device took */
};

void bus_init(struct bus *bus, const char *name);
void bus_free(struct bus *bus);

/*
 * Maps [base, base + size) to a device.
 * Returns 0, -EINVAL (size 0 or wrapping), -EEXIST (overlaps a region),
 * -ENOMEM.
 */
int bus_register(struct bus *bus, uint64_t base, uint64_t size,
		 const struct device_ops *ops, void *dev);

/* The region holding [addr, addr + len), or NULL. */
const struct bus_region *bus_find(const struct bus *bus, uint64_t addr,
				  unsigned int len);

/*
 * Dispatches a read or write. An access that no region holds whole is
 * unclaimed: reads give all ones, writes are dropped, both are counted.
 * Returns true when a device took the access.
 */
bool bus_read(struct bus *bus, uint64_t addr, unsigned int len, int vcpu,
	      uint64_t *val);
bool bus_write(struct bus *bus, uint64_t addr, unsigned int len, int vcpu,
	       uint64_t val);

#endif /* SPLITVM_BUS_H */
