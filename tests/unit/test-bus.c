// SPDX-License-Identifier: MIT
/* Unit tests of the PIO/MMIO bus: registration, lookup and dispatch. */
#include <errno.h>
#include <stdlib.h>

#include "bus.h"
#include "unit.h"

/* A device that records its last access and answers reads with a tag. */
struct probe {
	struct io_access last;
	uint64_t written;
	unsigned int reads, writes;
	uint64_t tag;
};

static uint64_t probe_read(void *dev, const struct io_access *a)
{
	struct probe *p = dev;

	p->last = *a;
	p->reads++;
	return p->tag;
}

static void probe_write(void *dev, const struct io_access *a, uint64_t val)
{
	struct probe *p = dev;

	p->last = *a;
	p->written = val;
	p->writes++;
}

static const struct device_ops probe_ops = {
	.name = "probe",
	.read = probe_read,
	.write = probe_write,
};

START_TEST(bus_register_rejects_overlaps)
{
	static const struct {
		uint64_t base, size;
		int expect;
	} cases[] = {
		{0x100, 0x10, 0},	  {0x100, 0x10, -EEXIST},
		{0x10f, 1, -EEXIST},	  {0xf8, 0x9, -EEXIST},
		{0xf8, 0x8, 0},		  {0x110, 0x10, 0},
		{0x105, 2, -EEXIST},	  {0x0, 0, -EINVAL},
		{~0ull - 1, 4, -EINVAL}, {~0ull, 1, 0},
		{0x50, 0x1000, -EEXIST},
	};
	struct bus bus;
	struct probe p = {0};

	bus_init(&bus, "pio");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(bus_register(&bus, cases[i].base, cases[i].size,
					   &probe_ops, &p) == cases[i].expect,
			      "case %zu", i);
	ck_assert_uint_eq(bus.nr_regions, 4);
	for (unsigned int i = 1; i < bus.nr_regions; i++)
		ck_assert(bus.regions[i - 1].base < bus.regions[i].base);
	bus_free(&bus);
}
END_TEST

START_TEST(bus_dispatch_gives_offset_len_vcpu)
{
	struct bus bus;
	struct probe a = {.tag = 0x1122334455667788ull}, b = {.tag = 7};
	uint64_t v;

	bus_init(&bus, "mmio");
	ck_assert_int_eq(bus_register(&bus, 0x1000, 0x100, &probe_ops, &a), 0);
	ck_assert_int_eq(bus_register(&bus, 0x2000, 0x10, &probe_ops, &b), 0);

	ck_assert(bus_read(&bus, 0x1010, 2, 3, &v));
	ck_assert_uint_eq(v, 0x7788); /* masked to the access width */
	ck_assert_uint_eq(a.last.offset, 0x10);
	ck_assert_uint_eq(a.last.addr, 0x1010);
	ck_assert_uint_eq(a.last.len, 2);
	ck_assert_int_eq(a.last.vcpu, 3);

	ck_assert(bus_write(&bus, 0x200c, 4, 1, 0xdeadbeefcafeull));
	ck_assert_uint_eq(b.written, 0xbeefcafe);
	ck_assert_uint_eq(b.last.offset, 0xc);
	ck_assert_uint_eq(a.writes, 0);
	bus_free(&bus);
}
END_TEST

START_TEST(bus_unclaimed_reads_all_ones_and_counts)
{
	static const struct {
		uint64_t addr;
		unsigned int len;
		uint64_t expect;
	} cases[] = {
		{0x0fff, 1, 0xff},
		{0x0ffe, 4, 0xffffffff}, /* straddles the region start */
		{0x10fe, 4, 0xffffffff}, /* straddles the region end */
		{0x1100, 8, ~0ull},
		{0x5000, 2, 0xffff},
	};
	struct bus bus;
	struct probe p = {.tag = 0};
	uint64_t v;

	bus_init(&bus, "mmio");
	ck_assert_int_eq(bus_register(&bus, 0x1000, 0x100, &probe_ops, &p), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert(!bus_read(&bus, cases[i].addr, cases[i].len, 0, &v));
		ck_assert_uint_eq(v, cases[i].expect);
		ck_assert(!bus_write(&bus, cases[i].addr, cases[i].len, 0, 1));
	}
	ck_assert_uint_eq(p.reads + p.writes, 0);
	ck_assert_uint_eq(atomic_load(&bus.unclaimed), 10);
	/* The last byte of a region is still claimed. */
	ck_assert(bus_read(&bus, 0x10ff, 1, 0, &v));
	bus_free(&bus);
}
END_TEST

START_TEST(bus_write_only_device_reads_unclaimed)
{
	static const struct device_ops wo = {.name = "wo",
					     .write = probe_write};
	struct bus bus;
	struct probe p = {0};
	uint64_t v;

	bus_init(&bus, "pio");
	ck_assert_int_eq(bus_register(&bus, 0xf4, 4, &wo, &p), 0);
	ck_assert(!bus_read(&bus, 0xf4, 4, 0, &v));
	ck_assert_uint_eq(v, 0xffffffff);
	ck_assert(bus_write(&bus, 0xf4, 4, 0, 42));
	ck_assert_uint_eq(p.written, 42);
	bus_free(&bus);
}
END_TEST

/* Random regions and accesses: lookups agree with a linear scan. */
START_TEST(bus_lookup_matches_linear_scan)
{
	struct bus bus;
	struct probe p = {0};

	srand(1234);
	bus_init(&bus, "pio");
	for (int i = 0; i < 300; i++)
		bus_register(&bus, (uint64_t)(rand() % 0x10000),
			     (uint64_t)(rand() % 64 + 1), &probe_ops, &p);
	for (int i = 0; i < 20000; i++) {
		uint64_t addr = (uint64_t)(rand() % 0x10040);
		unsigned int len = 1u << (rand() % 4);
		const struct bus_region *want = NULL;

		for (unsigned int j = 0; j < bus.nr_regions; j++) {
			const struct bus_region *r = &bus.regions[j];

			if (addr >= r->base && addr + len <= r->base + r->size)
				want = r;
		}
		ck_assert_ptr_eq(bus_find(&bus, addr, len), want);
	}
	bus_free(&bus);
}
END_TEST

UNIT_SUITE("bus", bus_register_rejects_overlaps,
	   bus_dispatch_gives_offset_len_vcpu,
	   bus_unclaimed_reads_all_ones_and_counts,
	   bus_write_only_device_reads_unclaimed,
	   bus_lookup_matches_linear_scan)
