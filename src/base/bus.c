// SPDX-License-Identifier: MIT
/* Port I/O and MMIO buses: a sorted table of regions, searched by address. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
}

void bus_free(struct bus *bus)
{
	free(bus->regions);
	bus->regions = NULL;
	bus->nr_regions = bus->cap = 0;
}

/* Index of the first region whose base is above addr. */
static unsigned int bus_upper(const struct bus *bus, uint64_t addr)
{
	unsigned int lo = 0, hi = bus->nr_regions;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (bus->regions[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t size,
		 const struct device_ops *ops, void *dev)
{
	uint64_t last = base + size - 1;
	unsigned int i;

	if (size == 0 || last < base || !ops)
		return -EINVAL;
	i = bus_upper(bus, base);
	if (i > 0) {
		const struct bus_region *prev = &bus->regions[i - 1];

		if (prev->base + prev->size - 1 >= base)
			return -EEXIST;
	}
	if (i < bus->nr_regions && bus->regions[i].base <= last)
		return -EEXIST;
	if (bus->nr_regions == bus->cap) {
		unsigned int cap = bus->cap ? bus->cap * 2 : 16;
		struct bus_region *r = realloc(bus->regions, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		bus->regions = r;
		bus->cap = cap;
	}
	memmove(&bus->regions[i + 1], &bus->regions[i],
		(bus->nr_regions - i) * sizeof(bus->regions[0]));
	bus->regions[i] = (struct bus_region){base, size, ops, dev};
	bus->nr_regions++;
	return 0;
}

const struct bus_region *bus_find(const struct bus *bus, uint64_t addr,
				  unsigned int len)
{
	unsigned int i = bus_upper(bus, addr);
	const struct bus_region *r;

	if (i == 0 || len == 0)
		return NULL;
	r = &bus->regions[i - 1];
	/* The whole access must fall inside: addr - base + len <= size. */
	if (addr - r->base > r->size || len > r->size - (addr - r->base))
		return NULL;
	return r;
}

bool bus_read(struct bus *bus, uint64_t addr, unsigned int len, int vcpu,
	      uint64_t *val)
{
	const struct bus_region *r = bus_find(bus, addr, len);
	struct io_access a;

	if (!r || !r->ops->read) {
		atomic_fetch_add_explicit(&bus->unclaimed, 1,
					  memory_order_relaxed);
		*val = io_all_ones(len);
		return false;
	}
	a = (struct io_access){addr, addr - r->base, len, vcpu};
	*val = r->ops->read(r->dev, &a) & io_all_ones(len);
	return true;
}

bool bus_write(struct bus *bus, uint64_t addr, unsigned int len, int vcpu,
	       uint64_t val)
{
	const struct bus_region *r = bus_find(bus, addr, len);
	struct io_access a;

	if (!r || !r->ops->write) {
		atomic_fetch_add_explicit(&bus->unclaimed, 1,
					  memory_order_relaxed);
		return false;
	}
	a = (struct io_access){addr, addr - r->base, len, vcpu};
	r->ops->write(r->dev, &a, val & io_all_ones(len));
	return true;
}
