// SPDX-License-Identifier: MIT
/* libFuzzer harness: bus registration and dispatch against a linear model. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "bus.h"
#include "fuzz.h"

/*
 * Input: operations, one opcode byte each followed by its operands. Bases
 * and addresses are built relative to a few anchors (0, a page, the top
 * of the address space) plus a fuzzed delta, so that regions meet, overlap
 * and wrap often instead of never.
 */
enum op {
	OP_REGISTER, /* anchor byte, delta u16, size selector, ops byte */
	OP_READ,     /* anchor byte, delta u16, len byte (1..8) */
	OP_WRITE,    /* anchor byte, delta u16, len byte (1..8), u64 value */
	OP_FIND,     /* anchor byte, delta u16, len byte (0..15) */
	NR_OPS
};

#define MAX_REGIONS 64

/* The model: regions in registration order, found by a linear search. */
struct region {
	uint64_t base, size;
	unsigned int id;
};

/* What a device sees of one access. */
struct dev {
	struct harness *h;
	unsigned int id;
};

struct harness {
	struct bus bus;
	struct region regions[MAX_REGIONS];
	struct dev devs[MAX_REGIONS];
	unsigned int nr;
	/* the access being dispatched, as the model expects it to arrive */
	int want_id; /* -1: unclaimed */
	uint64_t want_addr, want_offset, want_val;
	unsigned int want_len;
	unsigned int calls;
};

static uint64_t dev_value(unsigned int id, uint64_t addr)
{
	/* wider than any access, so that the bus must truncate it */
	return 0xa5a5a5a5a5a5a5a5ull ^ (addr * 0x9e3779b97f4a7c15ull) ^ id;
}

static void check_access(struct dev *d, const struct io_access *a)
{
	struct harness *h = d->h;

	h->calls++;
	FUZZ_CHECK(h->want_id == (int)d->id);
	FUZZ_CHECK(a->addr == h->want_addr);
	FUZZ_CHECK(a->offset == h->want_offset);
	FUZZ_CHECK(a->len == h->want_len);
	FUZZ_CHECK(a->vcpu == 3);
	/* device.h: "always inside the region" */
	FUZZ_CHECK(a->offset < h->regions[d->id].size);
	FUZZ_CHECK(a->len <= h->regions[d->id].size - a->offset);
}

static uint64_t dev_read(void *dev, const struct io_access *a)
{
	struct dev *d = dev;

	check_access(d, a);
	return dev_value(d->id, a->addr);
}

static void dev_write(void *dev, const struct io_access *a, uint64_t val)
{
	struct dev *d = dev;

	check_access(d, a);
	/* the bus passes the access's low len bytes only */
	FUZZ_CHECK(val == (d->h->want_val & io_all_ones(a->len)));
}

static const struct device_ops ops_rw = {
	.name = "rw",
	.read = dev_read,
	.write = dev_write,
};
static const struct device_ops ops_ro = { .name = "ro", .read = dev_read };
static const struct device_ops ops_wo = { .name = "wo", .write = dev_write };
static const struct device_ops ops_none = { .name = "none" };

static uint64_t pick_addr(struct fuzz_in *in)
{
	static const uint64_t anchors[] = {
		0,
		0x1000,
		0x10000,
		0xfec00000ull,
		UINT64_MAX - 0xffff,
		UINT64_MAX - 0xff,
		0x8000000000000000ull,
		0x3f8,
	};
	uint8_t a = fuzz_u8(in);
	uint16_t delta = fuzz_u16(in);

	return anchors[a % FUZZ_ARRAY_SIZE(anchors)] + delta;
}

static uint64_t pick_size(struct fuzz_in *in)
{
	static const uint64_t sizes[] = {
		0,
		1,
		2,
		3,
		4,
		8,
		0x10,
		0x1000,
		0x10000,
		UINT64_MAX,
		0x8000000000000000ull,
		0x100000000ull,
	};
	uint8_t b = fuzz_u8(in);

	return b < 0xc0 ? sizes[b % FUZZ_ARRAY_SIZE(sizes)] : b & 0x3f;
}

/* The region holding [addr, addr + len), by brute force; -1 if none. */
static int model_find(const struct harness *h, uint64_t addr, unsigned int len)
{
	uint64_t last = addr + len - 1;

	if (!len || last < addr)
		return -1;
	for (unsigned int i = 0; i < h->nr; i++) {
		const struct region *r = &h->regions[i];

		if (addr >= r->base && last <= r->base + (r->size - 1))
			return (int)i;
	}
	return -1;
}

/* bus.h: -EINVAL for size 0 or wrapping, -EEXIST for any overlap. */
static int model_register_result(const struct harness *h, uint64_t base,
				 uint64_t size)
{
	uint64_t last = base + size - 1;

	if (!size || last < base)
		return -EINVAL;
	for (unsigned int i = 0; i < h->nr; i++) {
		const struct region *r = &h->regions[i];

		if (base <= r->base + (r->size - 1) && r->base <= last)
			return -EEXIST;
	}
	return 0;
}

static void do_register(struct harness *h, struct fuzz_in *in)
{
	static const struct device_ops *const ops[] = { &ops_rw, &ops_rw,
							&ops_ro, &ops_wo,
							&ops_none };
	uint64_t base = pick_addr(in), size = pick_size(in);
	const struct device_ops *o = ops[fuzz_u8(in) % FUZZ_ARRAY_SIZE(ops)];
	int want = model_register_result(h, base, size), r;

	if (h->nr == MAX_REGIONS)
		return; /* the model is full */
	h->devs[h->nr] = (struct dev){ h, h->nr };
	r = bus_register(&h->bus, base, size, o, &h->devs[h->nr]);
	FUZZ_CHECK(r == want);
	if (r)
		return;
	h->regions[h->nr] = (struct region){ base, size, h->nr };
	h->nr++;
	/* the table stays sorted and disjoint */
	for (unsigned int i = 1; i < h->bus.nr_regions; i++) {
		const struct bus_region *p = &h->bus.regions[i - 1];

		FUZZ_CHECK(p->base + (p->size - 1) < h->bus.regions[i].base);
	}
	FUZZ_CHECK(h->bus.nr_regions == h->nr);
}

/* Which ops a model region was registered with, through the bus table. */
static const struct device_ops *region_ops(const struct harness *h, int id)
{
	for (unsigned int i = 0; i < h->bus.nr_regions; i++)
		if (h->bus.regions[i].dev == &h->devs[id])
			return h->bus.regions[i].ops;
	return NULL;
}

static void expect(struct harness *h, uint64_t addr, unsigned int len,
		   bool read)
{
	int id = model_find(h, addr, len);
	const struct device_ops *o = id >= 0 ? region_ops(h, id) : NULL;

	/* a region without the callback leaves the access unclaimed */
	if (o && (read ? !o->read : !o->write))
		id = -1;
	h->want_id = id;
	h->want_addr = addr;
	h->want_offset = id >= 0 ? addr - h->regions[id].base : 0;
	h->want_len = len;
	h->calls = 0;
}

static void do_read(struct harness *h, struct fuzz_in *in)
{
	uint64_t addr = pick_addr(in), val, unclaimed = h->bus.unclaimed;
	unsigned int len = fuzz_u8(in) % 8 + 1;
	bool took;

	expect(h, addr, len, true);
	took = bus_read(&h->bus, addr, len, 3, &val);
	FUZZ_CHECK(took == (h->want_id >= 0));
	FUZZ_CHECK(h->calls == (took ? 1u : 0u));
	if (took) {
		FUZZ_CHECK(val == (dev_value((unsigned int)h->want_id, addr) &
				   io_all_ones(len)));
		FUZZ_CHECK(h->bus.unclaimed == unclaimed);
	} else {
		/* unclaimed reads are all ones and counted */
		FUZZ_CHECK(val == io_all_ones(len));
		FUZZ_CHECK(h->bus.unclaimed == unclaimed + 1);
	}
}

static void do_write(struct harness *h, struct fuzz_in *in)
{
	uint64_t addr = pick_addr(in), unclaimed = h->bus.unclaimed;
	unsigned int len = fuzz_u8(in) % 8 + 1;
	bool took;

	expect(h, addr, len, false);
	h->want_val = fuzz_u64(in);
	took = bus_write(&h->bus, addr, len, 3, h->want_val);
	FUZZ_CHECK(took == (h->want_id >= 0));
	FUZZ_CHECK(h->calls == (took ? 1u : 0u));
	FUZZ_CHECK(h->bus.unclaimed == unclaimed + !took);
}

static void do_find(struct harness *h, struct fuzz_in *in)
{
	uint64_t addr = pick_addr(in);
	unsigned int len = fuzz_u8(in) % 16;
	const struct bus_region *r = bus_find(&h->bus, addr, len);
	int id = model_find(h, addr, len);

	if (id < 0) {
		FUZZ_CHECK(!r);
		return;
	}
	FUZZ_CHECK(r && r->dev == &h->devs[id]);
	FUZZ_CHECK(r->base == h->regions[id].base);
	FUZZ_CHECK(r->size == h->regions[id].size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct harness h;
	struct fuzz_in in;

	fuzz_in_init(&in, data, size);
	memset(&h, 0, sizeof(h));
	bus_init(&h.bus, "fuzz");
	while (fuzz_more(&in)) {
		switch ((enum op)(fuzz_u8(&in) % NR_OPS)) {
		case OP_REGISTER:
			do_register(&h, &in);
			break;
		case OP_READ:
			do_read(&h, &in);
			break;
		case OP_WRITE:
			do_write(&h, &in);
			break;
		case OP_FIND:
			do_find(&h, &in);
			break;
		case NR_OPS:
			break;
		}
	}
	bus_free(&h.bus);
	return 0;
}
