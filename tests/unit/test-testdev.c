// SPDX-License-Identifier: MIT
/* Unit tests of pc-testdev: latch, flush hook, line ports, MMIO scratch. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "rng.h"
#include "testdev.h"
#include "unit.h"
#include "snapshot_checks.h"

#define MAX_CALLS 64

/* Records what the device asked of the router and of the VM. */
struct fake {
	unsigned int calls;
	unsigned int line[MAX_CALLS];
	bool level[MAX_CALLS];
	unsigned int flushes;
	uint64_t gpa;
	int flush_ret;
};

static void fake_set(void *router, unsigned int line, bool level)
{
	struct fake *f = router;

	if (f->calls < MAX_CALLS) {
		f->line[f->calls] = line;
		f->level[f->calls] = level;
	}
	f->calls++;
}

static int fake_flush(void *ctx, uint64_t gpa)
{
	struct fake *f = ctx;

	f->flushes++;
	f->gpa = gpa;
	return f->flush_ret;
}

static struct testdev *mk_lines(struct fake *f, unsigned int nr_lines)
{
	const struct irq_line router = {fake_set, f, 999};
	const struct testdev_hooks hooks = {fake_flush, f};
	struct testdev *t;

	ck_assert_int_eq(testdev_new(&router, nr_lines, &hooks, &t), 0);
	return t;
}

static struct testdev *mk(struct fake *f)
{
	return mk_lines(f, TESTDEV_DEFAULT_LINES);
}

static uint64_t port_in(struct testdev *t, uint64_t port, unsigned int len)
{
	const struct io_access a = {port, port - TESTDEV_PORT_BASE, len, 0};

	return testdev_port_ops.read(t, &a);
}

static void port_out(struct testdev *t, uint64_t port, unsigned int len,
		     uint64_t val)
{
	const struct io_access a = {port, port - TESTDEV_PORT_BASE, len, 0};

	testdev_port_ops.write(t, &a, val);
}

static uint64_t line_in(struct testdev *t, unsigned int n, unsigned int len)
{
	const struct io_access a = {TESTDEV_IRQ_BASE + n, n, len, 1};

	return testdev_irq_ops.read(t, &a);
}

static void line_out(struct testdev *t, unsigned int n, unsigned int len,
		     uint64_t val)
{
	const struct io_access a = {TESTDEV_IRQ_BASE + n, n, len, 1};

	testdev_irq_ops.write(t, &a, val);
}

static uint64_t mem_in(struct testdev *t, uint64_t off, unsigned int len)
{
	const struct io_access a = {TESTDEV_IOMEM_BASE + off, off, len, 0};

	return testdev_mmio_ops.read(t, &a);
}

static void mem_out(struct testdev *t, uint64_t off, unsigned int len,
		    uint64_t val)
{
	const struct io_access a = {TESTDEV_IOMEM_BASE + off, off, len, 0};

	testdev_mmio_ops.write(t, &a, val);
}

static struct testdev_stats stats(struct testdev *t)
{
	struct testdev_stats s;

	testdev_get_stats(t, &s);
	return s;
}

START_TEST(testdev_latch_widths)
{
	struct fake f = {0};
	struct testdev *t = mk(&f);

	ck_assert_uint_eq(port_in(t, 0xe0, 4), 0); /* starts at zero */
	port_out(t, 0xe0, 4, 0x12345678);
	ck_assert_uint_eq(port_in(t, 0xe0, 4), 0x12345678);
	ck_assert_uint_eq(port_in(t, 0xe0, 2), 0x5678);
	ck_assert_uint_eq(port_in(t, 0xe2, 2), 0x1234);
	ck_assert_uint_eq(port_in(t, 0xe0, 1), 0x78);
	ck_assert_uint_eq(port_in(t, 0xe3, 1), 0x12);

	/* A narrow write replaces only its bytes (QEMU's masked merge). */
	port_out(t, 0xe0, 1, 0xaa);
	ck_assert_uint_eq(port_in(t, 0xe0, 4), 0x123456aa);
	port_out(t, 0xe2, 1, 0xbb);
	ck_assert_uint_eq(port_in(t, 0xe0, 4), 0x12bb56aa);
	port_out(t, 0xe2, 2, 0xccdd);
	ck_assert_uint_eq(port_in(t, 0xe0, 4), 0xccdd56aa);
	port_out(t, 0xe0, 2, 0x1eeff); /* cut to the width */
	ck_assert_uint_eq(port_in(t, 0xe0, 4), 0xccddeeff);
	ck_assert_uint_eq(stats(t).latch_writes, 5);
	ck_assert_uint_eq(f.flushes, 0);
	testdev_port_ops.destroy(t);
}
END_TEST

/* 0xe8 is QEMU's byte-granular window onto the same latch. */
START_TEST(testdev_latch_byte_window_shares_latch)
{
	struct fake f = {0};
	struct testdev *t = mk(&f);

	port_out(t, 0xe8, 4, 0xdeadbeef);
	ck_assert_uint_eq(port_in(t, 0xe0, 4), 0xdeadbeef);
	ck_assert_uint_eq(port_in(t, 0xe8, 4), 0xdeadbeef);
	for (unsigned int i = 0; i < 4; i++)
		ck_assert_uint_eq(port_in(t, 0xe8 + i, 1),
				  (0xdeadbeefu >> (8 * i)) & 0xff);
	port_out(t, 0xe9, 1, 0x11);
	ck_assert_uint_eq(port_in(t, 0xe0, 4), 0xdead11ef);
	port_out(t, 0xe0, 1, 0x22);
	ck_assert_uint_eq(port_in(t, 0xe8, 1), 0x22);
	ck_assert_uint_eq(port_in(t, 0xea, 2), 0xdead);
	testdev_port_ops.destroy(t);
}
END_TEST

/* What kvm-unit-tests' emulator test does with the latch. */
START_TEST(testdev_latch_string_io)
{
	static const char st1[] = "abcdefghijklmnop";
	struct fake f = {0};
	struct testdev *t = mk(&f);

	for (size_t i = 0; i < sizeof(st1) - 1; i++) /* rep outsb, up */
		port_out(t, 0xe0, 1, (uint8_t)st1[i]);
	ck_assert_uint_eq(port_in(t, 0xe0, 1), 'p');
	for (size_t i = sizeof(st1) - 1; i-- > 0;) /* rep outsb, down */
		port_out(t, 0xe0, 1, (uint8_t)st1[i]);
	ck_assert_uint_eq(port_in(t, 0xe0, 1), 'a');

	port_out(t, 0xe0, 2, 0x9999); /* then rep insb into MMIO */
	for (unsigned int i = 0; i < 1024; i++)
		mem_out(t, 4032 + i, 1, port_in(t, 0xe0, 1));
	ck_assert_uint_eq(mem_in(t, 4032 + 1023, 1), 0x99);
	ck_assert_uint_eq(mem_in(t, 4095, 2), 0x9999); /* across a page */
	testdev_port_ops.destroy(t);
}
END_TEST

/*
 * Bytes of an access that fall on the flush port take no writes and read
 * all ones; the latch bytes of the same access still work (QEMU splits
 * such an access at the region boundary).
 */
START_TEST(testdev_latch_straddling_flush_port)
{
	struct fake f = {0};
	struct testdev *t = mk(&f);

	port_out(t, 0xe0, 4, 0x44332211);
	port_out(t, 0xe3, 2, 0xbbaa);
	ck_assert_uint_eq(port_in(t, 0xe0, 4), 0xaa332211);
	ck_assert_uint_eq(port_in(t, 0xe3, 2), 0xffaa);
	ck_assert_uint_eq(port_in(t, 0xe2, 4), 0xffffaa33);
	port_out(t, 0xe6, 4, 0x55667788); /* bytes at 0xe8, 0xe9 land */
	ck_assert_uint_eq(port_in(t, 0xe0, 4), 0xaa335566);
	ck_assert_uint_eq(f.flushes, 0);
	ck_assert_uint_eq(stats(t).flushes, 0);
	testdev_port_ops.destroy(t);
}
END_TEST

START_TEST(testdev_flush_calls_hook)
{
	struct fake f = {0};
	struct testdev *t = mk(&f);

	port_out(t, 0xe4, 4, 0x12345678);
	ck_assert_uint_eq(f.flushes, 1);
	ck_assert_uint_eq(f.gpa, 0x12345000); /* QEMU: data & ~0xfff */
	port_out(t, 0xe4, 4, 0xfffff000);
	ck_assert_uint_eq(f.gpa, 0xfffff000);
	port_out(t, 0xe4, 4, 0x123456789abcull); /* the port has 32 bits */
	ck_assert_uint_eq(f.gpa, 0x56789000);
	ck_assert_uint_eq(f.flushes, 3);
	/* The latch is not the flush port's. */
	ck_assert_uint_eq(port_in(t, 0xe0, 4), 0);

	f.flush_ret = -EFAULT;
	port_out(t, 0xe4, 4, 0x1000);
	ck_assert_uint_eq(stats(t).flushes, 4);
	ck_assert_uint_eq(stats(t).flush_errors, 1);
	testdev_port_ops.destroy(t);
}
END_TEST

/* QEMU's flush region is valid for 4-byte accesses only. */
START_TEST(testdev_flush_other_widths_ignored)
{
	struct fake f = {0};
	struct testdev *t = mk(&f);
	uint64_t ignored = stats(t).ignored;

	port_out(t, 0xe4, 1, 0x10);
	port_out(t, 0xe4, 2, 0x1000);
	port_out(t, 0xe6, 2, 0x1000);
	port_out(t, 0xe7, 1, 0x10);
	port_out(t, 0xe4, 8, 0x1000);
	port_out(t, 0xe4, 3, 0x1000);
	ck_assert_uint_eq(f.flushes, 0);
	ck_assert_uint_eq(stats(t).flushes, 0);
	ck_assert_uint_eq(stats(t).ignored, ignored + 6);
	ck_assert_uint_eq(port_in(t, 0xe0, 4), 0);
	/* Write-only: all ones at every width. */
	ck_assert_uint_eq(port_in(t, 0xe4, 4), 0xffffffff);
	ck_assert_uint_eq(port_in(t, 0xe4, 2), 0xffff);
	ck_assert_uint_eq(port_in(t, 0xe5, 1), 0xff);
	ck_assert_uint_eq(port_in(t, 0xe0, 8), ~0ull);
	testdev_port_ops.destroy(t);
}
END_TEST

START_TEST(testdev_flush_without_hook)
{
	struct testdev *t;

	ck_assert_int_eq(testdev_new(NULL, 24, NULL, &t), 0);
	port_out(t, 0xe4, 4, 0x2000);
	ck_assert_uint_eq(stats(t).flushes, 1);
	ck_assert_uint_eq(stats(t).flush_errors, 0);
	testdev_port_ops.destroy(t);
}
END_TEST

START_TEST(testdev_line_write_calls_router)
{
	struct fake f = {0};
	struct testdev *t = mk(&f);

	for (unsigned int n = 0; n < TESTDEV_DEFAULT_LINES; n++) {
		f.calls = 0;
		line_out(t, n, 1, 1);
		ck_assert_uint_eq(f.calls, 1);
		ck_assert_uint_eq(f.line[0], n);
		ck_assert(f.level[0]);
		line_out(t, n, 1, 0);
		ck_assert_uint_eq(f.calls, 2);
		ck_assert_uint_eq(f.line[1], n);
		ck_assert(!f.level[1]);
		line_out(t, n, 1, 0x80); /* any non-zero byte is high */
		ck_assert(f.level[2]);
		line_out(t, n, 1, 0x100); /* only the byte counts */
		ck_assert(!f.level[3]);
		ck_assert_uint_eq(testdev_line_writes(t, n), 4);
	}
	ck_assert_uint_eq(stats(t).line_writes, 4 * TESTDEV_DEFAULT_LINES);
	testdev_port_ops.destroy(t);
}
END_TEST

/* Every write reaches the router, even one repeating the level. */
START_TEST(testdev_line_repeats_passed_on)
{
	struct fake f = {0};
	struct testdev *t = mk(&f);

	line_out(t, 14, 1, 1);
	line_out(t, 14, 1, 1);
	line_out(t, 14, 1, 0);
	line_out(t, 14, 1, 0);
	ck_assert_uint_eq(f.calls, 4);
	ck_assert(f.level[0] && f.level[1] && !f.level[2] && !f.level[3]);
	testdev_port_ops.destroy(t);
}
END_TEST

START_TEST(testdev_line_out_of_range_ignored)
{
	struct fake f = {0};
	struct testdev *t = mk(&f);
	const struct io_access below = {TESTDEV_IRQ_BASE - 1, 0, 1, 0};

	line_out(t, TESTDEV_DEFAULT_LINES, 1, 1);
	line_out(t, TESTDEV_MAX_LINES, 1, 1);
	line_out(t, 0xffff, 1, 1);
	testdev_irq_ops.write(t, &below, 1);
	ck_assert_uint_eq(f.calls, 0);
	ck_assert_uint_eq(stats(t).line_writes, 0);
	ck_assert_uint_eq(stats(t).ignored, 4);
	ck_assert_uint_eq(testdev_line_writes(t, TESTDEV_DEFAULT_LINES), 0);
	ck_assert_uint_eq(line_in(t, TESTDEV_DEFAULT_LINES, 1), 0xff);
	ck_assert_uint_eq(testdev_irq_ops.read(t, &below), 0xff);
	testdev_port_ops.destroy(t);
}
END_TEST

START_TEST(testdev_line_reads_level)
{
	struct fake f = {0};
	struct testdev *t = mk(&f);

	for (unsigned int n = 0; n < TESTDEV_DEFAULT_LINES; n++)
		ck_assert_uint_eq(line_in(t, n, 1), 0);
	line_out(t, 3, 1, 0x42);
	line_out(t, 23, 1, 1);
	ck_assert_uint_eq(line_in(t, 3, 1), 1);
	ck_assert_uint_eq(line_in(t, 23, 1), 1);
	ck_assert_uint_eq(line_in(t, 4, 1), 0);
	ck_assert_uint_eq(line_in(t, 2, 4), 0x00000100);
	ck_assert_uint_eq(line_in(t, 22, 4), 0xffff0100); /* past the end */
	line_out(t, 3, 1, 0);
	ck_assert_uint_eq(line_in(t, 3, 1), 0);
	ck_assert_uint_eq(line_in(t, 0, 8), ~0ull); /* not a PIO width */
	ck_assert_uint_eq(f.calls, 3);
	testdev_port_ops.destroy(t);
}
END_TEST

/* QEMU splits a wide write into bytes: one line per byte. */
START_TEST(testdev_line_wide_write_sets_consecutive_lines)
{
	struct fake f = {0};
	struct testdev *t = mk(&f);

	line_out(t, 4, 2, 0x0100);
	ck_assert_uint_eq(f.calls, 2);
	ck_assert(f.line[0] == 4 && !f.level[0]);
	ck_assert(f.line[1] == 5 && f.level[1]);
	line_out(t, 8, 4, 0x01000201);
	ck_assert_uint_eq(f.calls, 6);
	ck_assert(f.line[2] == 8 && f.level[2]);
	ck_assert(f.line[3] == 9 && f.level[3]);
	ck_assert(f.line[4] == 10 && !f.level[4]);
	ck_assert(f.line[5] == 11 && f.level[5]);

	/* Bytes past the last line are dropped. */
	line_out(t, 22, 4, 0x01010101);
	ck_assert_uint_eq(f.calls, 8);
	ck_assert(f.line[6] == 22 && f.line[7] == 23);
	ck_assert_uint_eq(stats(t).ignored, 1);

	line_out(t, 0, 8, ~0ull); /* not a PIO width */
	line_out(t, 0, 3, ~0ull);
	ck_assert_uint_eq(f.calls, 8);
	ck_assert_uint_eq(stats(t).ignored, 3);
	testdev_port_ops.destroy(t);
}
END_TEST

START_TEST(testdev_line_count_parameter)
{
	struct fake f = {0};
	struct testdev *t = mk_lines(&f, 48);

	ck_assert_uint_eq(testdev_nr_lines(t), 48);
	line_out(t, 47, 1, 1);
	line_out(t, 48, 1, 1);
	ck_assert_uint_eq(f.calls, 1);
	ck_assert_uint_eq(f.line[0], 47);
	testdev_port_ops.destroy(t);

	f.calls = 0;
	t = mk_lines(&f, TESTDEV_MAX_LINES);
	line_out(t, TESTDEV_MAX_LINES - 1, 1, 1);
	line_out(t, TESTDEV_MAX_LINES, 1, 1);
	ck_assert_uint_eq(f.calls, 1);
	ck_assert_uint_eq(f.line[0], TESTDEV_MAX_LINES - 1);
	testdev_port_ops.destroy(t);
}
END_TEST

START_TEST(testdev_line_without_router_records_level)
{
	const struct irq_line none = {NULL, NULL, 0};
	struct testdev *t;

	ck_assert_int_eq(testdev_new(&none, 24, NULL, &t), 0);
	line_out(t, 9, 1, 1);
	ck_assert_uint_eq(line_in(t, 9, 1), 1);
	testdev_port_ops.destroy(t);
	ck_assert_int_eq(testdev_new(NULL, 24, NULL, &t), 0);
	line_out(t, 9, 1, 1);
	ck_assert_uint_eq(line_in(t, 9, 1), 1);
	ck_assert_uint_eq(testdev_line_writes(t, 9), 1);
	testdev_port_ops.destroy(t);
}
END_TEST

START_TEST(testdev_mmio_round_trips)
{
	static const unsigned int lens[] = {1, 2, 4, 8};
	static const uint64_t offs[] = {
	    0, 1, 2, 3, 5, 7, 0x7ff, 0xffd, 0x1001, 0x8000, 0xfff3, 0xfff8};
	struct fake f = {0};
	struct testdev *t = mk(&f);

	ck_assert_uint_eq(mem_in(t, 0, 8), 0); /* starts zeroed */
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (size_t j = 0; j < sizeof(offs) / sizeof(offs[0]); j++) {
			unsigned int len = lens[i];
			uint64_t off = offs[j];
			uint64_t v = 0x0123456789abcdefull ^ (off * 0x9e37);

			if (off + len > TESTDEV_IOMEM_SIZE)
				continue;
			mem_out(t, off, len, v);
			ck_assert_msg(
			    mem_in(t, off, len) == (v & io_all_ones(len)),
			    "len %u off %#llx", len, (unsigned long long)off);
		}
	}
	/* Little-endian bytes, whatever the widths. */
	mem_out(t, 0x100, 8, 0x8877665544332211ull);
	for (unsigned int i = 0; i < 8; i++)
		ck_assert_uint_eq(mem_in(t, 0x100 + i, 1), 0x11 * (i + 1));
	ck_assert_uint_eq(mem_in(t, 0x103, 4), 0x77665544);
	ck_assert_uint_eq(mem_in(t, 0x101, 2), 0x3322);
	mem_out(t, 0x102, 2, 0xbbaa);
	ck_assert_uint_eq(mem_in(t, 0x100, 8), 0x88776655bbaa2211ull);
	mem_out(t, 0x105, 1, 0x1cc); /* cut to the width */
	ck_assert_uint_eq(mem_in(t, 0x100, 8), 0x8877cc55bbaa2211ull);
	/* The last byte of the window. */
	mem_out(t, TESTDEV_IOMEM_SIZE - 1, 1, 0x5a);
	ck_assert_uint_eq(mem_in(t, TESTDEV_IOMEM_SIZE - 1, 1), 0x5a);
	/* The scratch is not the latch. */
	ck_assert_uint_eq(port_in(t, 0xe0, 4), 0);
	testdev_port_ops.destroy(t);
}
END_TEST

/* The bus never sends these; the device must still not overrun. */
START_TEST(testdev_mmio_outside_window_ignored)
{
	struct fake f = {0};
	struct testdev *t = mk(&f);

	mem_out(t, TESTDEV_IOMEM_SIZE - 4, 8, ~0ull);
	mem_out(t, TESTDEV_IOMEM_SIZE, 1, ~0ull);
	mem_out(t, -1ull, 1, ~0ull); /* below the base */
	mem_out(t, 0, 16, ~0ull);
	mem_out(t, 0, 0, ~0ull);
	ck_assert_uint_eq(mem_in(t, TESTDEV_IOMEM_SIZE - 8, 8), 0);
	ck_assert_uint_eq(mem_in(t, 0, 8), 0);
	ck_assert_uint_eq(mem_in(t, TESTDEV_IOMEM_SIZE - 4, 8), ~0ull);
	ck_assert_uint_eq(mem_in(t, TESTDEV_IOMEM_SIZE, 2), 0xffff);
	testdev_port_ops.destroy(t);
}
END_TEST

START_TEST(testdev_reset_lowers_lines_keeps_latch)
{
	struct fake f = {0};
	struct testdev *t = mk(&f);

	port_out(t, 0xe0, 4, 0xcafef00d);
	mem_out(t, 0x40, 4, 0x600dd00d);
	line_out(t, 2, 1, 1);
	line_out(t, 14, 1, 1);
	line_out(t, 15, 1, 0);
	f.calls = 0;
	testdev_port_ops.reset(t);
	ck_assert_uint_eq(f.calls, 2);
	ck_assert(f.line[0] == 2 && !f.level[0]);
	ck_assert(f.line[1] == 14 && !f.level[1]);
	ck_assert_uint_eq(line_in(t, 2, 1), 0);
	ck_assert_uint_eq(line_in(t, 14, 1), 0);
	ck_assert_uint_eq(port_in(t, 0xe0, 4), 0xcafef00d);
	ck_assert_uint_eq(mem_in(t, 0x40, 4), 0x600dd00d);
	testdev_port_ops.reset(t);
	ck_assert_uint_eq(f.calls, 2);
	testdev_port_ops.destroy(t);
}
END_TEST

START_TEST(testdev_describe_adds_node)
{
	/* <space address size>: ISA space 1 is I/O, 0 is memory. */
	static const uint32_t want[3][3] = {
	    {1, 0xe0, 12}, {1, 0x2000, 48}, {0, 0xff000000, 0x10000}};
	struct fake f = {0};
	struct testdev *t = mk_lines(&f, 48);
	char fdt[1024], tiny[160];
	const fdt32_t *p;
	int isa, off, len;

	ck_assert_int_eq(fdt_create_empty_tree(fdt, sizeof(fdt)), 0);
	isa = fdt_add_subnode(fdt, 0, "isa");
	ck_assert_int_ge(isa, 0);
	ck_assert_int_eq(testdev_port_ops.describe(t, fdt, isa), 0);
	off = fdt_subnode_offset(fdt, isa, "testdev@e0");
	ck_assert_int_ge(off, 0);
	ck_assert_str_eq(fdt_getprop(fdt, off, "compatible", NULL),
			 "qemu,pc-testdev");
	p = fdt_getprop(fdt, off, "reg", &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(len, (int)sizeof(want));
	for (size_t i = 0; i < 9; i++)
		ck_assert_uint_eq(fdt32_to_cpu(p[i]), want[i / 3][i % 3]);
	ck_assert_ptr_null(fdt_getprop(fdt, off, "interrupts", NULL));

	/* A full tree is -ENOSPC, not a crash. */
	ck_assert_int_eq(fdt_create_empty_tree(tiny, sizeof(tiny)), 0);
	isa = fdt_add_subnode(tiny, 0, "isa");
	ck_assert_int_ge(isa, 0);
	ck_assert_int_eq(testdev_port_ops.describe(t, tiny, isa), -ENOSPC);
	testdev_port_ops.destroy(t);
}
END_TEST

START_TEST(testdev_new_errors)
{
	struct testdev *t;

	ck_assert_int_eq(testdev_new(NULL, 24, NULL, NULL), -EINVAL);
	ck_assert_int_eq(testdev_new(NULL, 0, NULL, &t), -EINVAL);
	ck_assert_int_eq(testdev_new(NULL, TESTDEV_MAX_LINES + 1, NULL, &t),
			 -EINVAL);
	ck_assert_int_eq(testdev_new(NULL, 1, NULL, &t), 0);
	testdev_port_ops.destroy(t);
	testdev_port_ops.destroy(NULL);
}
END_TEST

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Shadow models of the three windows, checked on every read. */
struct shadow {
	uint8_t mem[TESTDEV_IOMEM_SIZE];
	uint32_t latch;
	bool level[TESTDEV_DEFAULT_LINES];
};

static void random_mmio(struct testdev *t, struct shadow *s, uint64_t x)
{
	static const unsigned int lens[] = {1, 2, 4, 8};
	unsigned int len = lens[x & 3];
	uint64_t off = (x >> 3) % (TESTDEV_IOMEM_SIZE - len + 1);
	uint64_t v = x >> 7 | x << 57, want = 0;

	if (x & 4) {
		mem_out(t, off, len, v);
		for (unsigned int i = 0; i < len; i++)
			s->mem[off + i] = (uint8_t)(v >> (8 * i));
		return;
	}
	for (unsigned int i = 0; i < len; i++)
		want |= (uint64_t)s->mem[off + i] << (8 * i);
	ck_assert_uint_eq(mem_in(t, off, len), want);
}

static void random_port(struct testdev *t, struct shadow *s, uint64_t x)
{
	static const unsigned int lens[] = {1, 2, 4, 8};
	unsigned int len = lens[x & 3];
	uint64_t port = TESTDEV_PORT_BASE + (x >> 3) % TESTDEV_PORT_SIZE;
	uint64_t v = x >> 20, want = 0;

	if (port + len > TESTDEV_PORT_BASE + TESTDEV_PORT_SIZE)
		return; /* the bus would not deliver it */
	if (x & 4) {
		port_out(t, port, len, v);
		if (len == 8 || (port == TESTDEV_FLUSH_PORT && len == 4))
			return;
		for (unsigned int i = 0; i < len; i++) {
			uint64_t p = port + i - TESTDEV_PORT_BASE;

			if (p / 4 == 1)
				continue;
			s->latch &= ~(0xffu << (8 * (p & 3)));
			s->latch |= (uint32_t)((v >> (8 * i)) & 0xff)
				    << (8 * (p & 3));
		}
		return;
	}
	for (unsigned int i = 0; i < len; i++) {
		uint64_t p = port + i - TESTDEV_PORT_BASE;
		uint64_t b =
		    p / 4 == 1 ? 0xff : (s->latch >> (8 * (p & 3))) & 0xff;

		want |= b << (8 * i);
	}
	ck_assert_uint_eq(port_in(t, port, len), len == 8 ? ~0ull : want);
}

static void random_line(struct testdev *t, struct fake *f, struct shadow *s,
			uint64_t x)
{
	unsigned int n = (x >> 3) % (TESTDEV_DEFAULT_LINES + 4);
	bool level = (x >> 12) & 1;

	if (x & 4) {
		f->calls = 0;
		line_out(t, n, 1, level);
		if (n >= TESTDEV_DEFAULT_LINES) {
			ck_assert_uint_eq(f->calls, 0);
			return;
		}
		ck_assert_uint_eq(f->calls, 1);
		ck_assert_uint_eq(f->line[0], n);
		ck_assert(f->level[0] == level);
		s->level[n] = level;
		return;
	}
	ck_assert_uint_eq(line_in(t, n, 1),
			  n >= TESTDEV_DEFAULT_LINES ? 0xff : s->level[n]);
}

START_TEST(testdev_random_accesses)
{
	static struct shadow s; /* 64 KiB: off the stack */
	uint64_t seed = 0x243f6a8885a308d3ull;
	struct fake f = {0};
	struct testdev *t = mk(&f);
	unsigned int flushes = 0;

	memset(&s, 0, sizeof(s));
	for (unsigned int i = 0; i < 20000; i++) {
		uint64_t x = rnd(&seed);

		switch ((x >> 60) % 4) {
		case 0:
		case 1:
			random_mmio(t, &s, x);
			break;
		case 2:
			random_port(t, &s, x);
			break;
		default:
			random_line(t, &f, &s, x);
			break;
		}
		if (f.flushes != flushes) {
			ck_assert_uint_eq(f.flushes, flushes + 1);
			ck_assert_uint_eq(f.gpa & 0xfff, 0);
			flushes = f.flushes;
		}
	}
	for (uint64_t off = 0; off < TESTDEV_IOMEM_SIZE; off++)
		ck_assert_uint_eq(mem_in(t, off, 1), s.mem[off]);
	ck_assert_uint_eq(port_in(t, 0xe0, 4), s.latch);
	ck_assert_uint_eq(stats(t).flushes, flushes);
	ck_assert_uint_gt(flushes, 0);
	testdev_port_ops.destroy(t);
}
END_TEST

/* Several vCPU threads, each on its own slice, lines and latch byte. */
struct worker {
	struct testdev *t;
	unsigned int id;
	bool ok;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	uint64_t base = w->id * 0x1000ull;

	w->ok = true;
	for (unsigned int i = 0; i < 5000; i++) {
		uint64_t v = ((uint64_t)w->id << 56) | i;
		uint64_t off = base + (i % 512) * 8;

		mem_out(w->t, off, 8, v);
		if (mem_in(w->t, off, 8) != v)
			w->ok = false;
		port_out(w->t, 0xe0 + w->id, 1, i & 0xff);
		if (port_in(w->t, 0xe0 + w->id, 1) != (i & 0xff))
			w->ok = false;
		line_out(w->t, w->id, 1, i & 1);
		if (line_in(w->t, w->id, 1) != (i & 1))
			w->ok = false;
	}
	return NULL;
}

static void count_set(void *router, unsigned int line, bool level)
{
	__atomic_add_fetch((unsigned int *)router, 1, __ATOMIC_RELAXED);
}

START_TEST(testdev_concurrent_vcpus)
{
	unsigned int calls = 0;
	const struct irq_line router = {count_set, &calls, 0};
	struct worker w[4];
	pthread_t th[4];
	struct testdev *t;

	ck_assert_int_eq(testdev_new(&router, 24, NULL, &t), 0);
	for (unsigned int i = 0; i < 4; i++) {
		w[i] = (struct worker){t, i, false};
		ck_assert_int_eq(
		    pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (unsigned int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert(w[i].ok);
		ck_assert_uint_eq(testdev_line_writes(t, i), 5000);
	}
	ck_assert_uint_eq(calls, 4 * 5000);
	ck_assert_uint_eq(stats(t).latch_writes, 4 * 5000);
	testdev_port_ops.destroy(t);
}
END_TEST

/* ---- Snapshots ------------------------------------------------------ */

/* The blob's layout (testdev.c), for 24 lines. */
enum { S_NR_LINES = 8, S_LATCH = 12, S_FLUSHES = 24, S_FLUSH_ERRORS = 32,
       S_LINE_WRITES = 40, S_PAGES = 56, S_LEVELS = 60,
       S_WRITES = S_LEVELS + TESTDEV_DEFAULT_LINES,
       S_DATA = S_LEVELS + 9 * TESTDEV_DEFAULT_LINES };

/*
 * A device some way into a test: latch set, lines 3 and 7 high and 5
 * written low, two scratch pages written, a flush that failed and an
 * ignored access.
 */
static struct testdev *mk_busy(struct fake *f)
{
	struct testdev *t = mk(f);

	port_out(t, 0xe0, 4, 0x12345678);
	line_out(t, 3, 1, 1);
	line_out(t, 5, 1, 0);
	line_out(t, 7, 1, 1);
	line_out(t, 7, 1, 1);
	mem_out(t, 0x10, 8, 0x0123456789abcdefull);
	mem_out(t, 0xfff8, 8, 0xfeedfacecafebeefull);
	f->flush_ret = -EFAULT;
	port_out(t, 0xe4, 4, 0x5000);
	port_out(t, 0xe0, 8, 0);
	f->calls = 0;
	return t;
}

/* a and b look the same through every window and counter. */
static void ck_assert_same_testdev(struct testdev *a, struct testdev *b)
{
	struct testdev_stats sa = stats(a), sb = stats(b);

	ck_assert(!memcmp(&sa, &sb, sizeof(sa)));
	ck_assert_uint_eq(port_in(a, 0xe0, 4), port_in(b, 0xe0, 4));
	for (unsigned int n = 0; n < TESTDEV_DEFAULT_LINES; n++) {
		ck_assert_uint_eq(line_in(a, n, 1), line_in(b, n, 1));
		ck_assert_uint_eq(testdev_line_writes(a, n),
				  testdev_line_writes(b, n));
	}
	for (uint64_t off = 0; off < TESTDEV_IOMEM_SIZE; off += 8)
		ck_assert_uint_eq(mem_in(a, off, 8), mem_in(b, off, 8));
}

START_TEST(testdev_snapshot_round_trip)
{
	struct fake fa = {0}, fb = {0};
	struct testdev *a = mk_busy(&fa), *b = mk(&fb);
	uint8_t *blob;
	size_t n;

	blob = snap_save(&testdev_port_ops, a, &n);
	/* Two scratch pages of sixteen are in it. */
	ck_assert_uint_eq(n, S_DATA + 2 * 4096);
	ck_assert_int_eq(testdev_port_ops.load(b, blob, n, SNAP_NOW), 0);
	/* The lines left high are raised, once each, and only they. */
	ck_assert_uint_eq(fb.calls, 2);
	ck_assert_uint_eq(fb.line[0], 3);
	ck_assert_uint_eq(fb.line[1], 7);
	ck_assert(fb.level[0] && fb.level[1]);
	ck_assert_same_testdev(a, b);
	/* Both go on alike. */
	line_out(a, 3, 1, 0);
	line_out(b, 3, 1, 0);
	mem_out(a, 0x8000, 4, 0xa5a5a5a5);
	mem_out(b, 0x8000, 4, 0xa5a5a5a5);
	port_out(a, 0xe9, 1, 0x77);
	port_out(b, 0xe9, 1, 0x77);
	ck_assert_same_testdev(a, b);
	free(blob);
	testdev_port_ops.destroy(a);
	testdev_port_ops.destroy(b);
}
END_TEST

START_TEST(testdev_snapshot_load_over_used_device)
{
	struct fake fa = {0}, fb = {0};
	struct testdev *a = mk_busy(&fa), *b = mk(&fb);
	uint8_t *blob;
	size_t n;

	/* b has line 3 high already, line 9 high and page 2 written. */
	line_out(b, 3, 1, 1);
	line_out(b, 9, 1, 1);
	mem_out(b, 0x2000, 1, 0x99);
	fb.calls = 0;
	blob = snap_save(&testdev_port_ops, a, &n);
	ck_assert_int_eq(testdev_port_ops.load(b, blob, n, SNAP_NOW), 0);
	/* Only what changes is driven: 7 up, 9 down. */
	ck_assert_uint_eq(fb.calls, 2);
	ck_assert_uint_eq(fb.line[0], 7);
	ck_assert(fb.level[0]);
	ck_assert_uint_eq(fb.line[1], 9);
	ck_assert(!fb.level[1]);
	ck_assert_uint_eq(mem_in(b, 0x2000, 1), 0);
	ck_assert_same_testdev(a, b);
	/* The other tables hold nothing of their own. */
	ck_assert_int_eq(testdev_irq_ops.save(a, blob, n, 0), 0);
	ck_assert_int_eq(testdev_mmio_ops.save(a, blob, n, 0), 0);
	ck_assert_int_eq(testdev_irq_ops.load(b, blob, 0, 0), 0);
	ck_assert_int_eq(testdev_mmio_ops.load(b, blob, 0, 0), 0);
	ck_assert_int_eq(testdev_irq_ops.load(b, blob, 1, 0), -EINVAL);
	ck_assert_int_eq(testdev_mmio_ops.load(b, blob, n, 0), -EINVAL);
	ck_assert_same_testdev(a, b);
	free(blob);
	testdev_port_ops.destroy(a);
	testdev_port_ops.destroy(b);
}
END_TEST

START_TEST(testdev_snapshot_save_needs_room)
{
	struct fake f = {0};
	struct testdev *t = mk_busy(&f);
	uint8_t *buf = malloc(S_DATA + 2 * 4096);

	ck_assert_ptr_nonnull(buf);
	for (size_t cap = 0; cap < S_DATA + 2 * 4096; cap += 97)
		ck_assert_int_eq(testdev_port_ops.save(t, buf, cap, 0),
				 -ENOSPC);
	ck_assert_int_eq(testdev_port_ops.save(t, buf, S_DATA + 2 * 4096, 0),
			 S_DATA + 2 * 4096);
	free(buf);
	testdev_port_ops.destroy(t);
}
END_TEST

START_TEST(testdev_snapshot_refuses_bad_blobs)
{
	static const struct {
		size_t off;
		uint8_t v;
	} cases[] = {
		{0, 't'},		{4, 7},
		{S_NR_LINES, 23},	{S_NR_LINES + 1, 1},
		{S_FLUSH_ERRORS, 2},	{S_LINE_WRITES, 0},
		{S_LINE_WRITES + 7, 1}, {S_LEVELS + 3, 2},
		{S_LEVELS + 4, 1},	{S_LEVELS + 23, 0xff},
		{S_WRITES + 8 * 3, 0},	{S_WRITES + 8 * 7 + 2, 1},
		{S_PAGES, 0x03},	{S_PAGES + 2, 1},
		{S_PAGES + 3, 0x80},
	};
	struct fake fa = {0}, fb = {0}, fc = {0};
	struct testdev *a = mk_busy(&fa), *b = mk(&fb),
		       *c = mk_lines(&fc, 16);
	uint8_t *blob;
	size_t n;

	blob = snap_save(&testdev_port_ops, a, &n);
	/* Another line count is another configuration. */
	ck_assert_int_eq(snap_try(&testdev_port_ops, c, blob, n), -EINVAL);
	snap_check_lengths(&testdev_port_ops, b, blob, n);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		snap_check_refused(&testdev_port_ops, b, blob, n,
				   cases[i].off, cases[i].v, i);
	/* A page of zeros is never saved, so never loaded. */
	memset(blob + S_DATA + 4096, 0, 4096);
	ck_assert_int_eq(snap_try(&testdev_port_ops, b, blob, n), -EINVAL);
	/* None of that drove a line. */
	ck_assert_uint_eq(fb.calls, 0);
	free(blob);
	testdev_port_ops.destroy(a);
	testdev_port_ops.destroy(b);
	testdev_port_ops.destroy(c);
}
END_TEST

START_TEST(testdev_snapshot_hostile_blobs_never_crash)
{
	struct fake fa = {0}, fb = {0};
	struct testdev *a = mk_busy(&fa), *b = mk(&fb);
	uint8_t *blob;
	size_t n;

	blob = snap_save(&testdev_port_ops, a, &n);
	/* The scratch's bytes are any: many variants are taken. */
	ck_assert_uint_gt(snap_fuzz(&testdev_port_ops, b, blob, n, 3000, 11),
			  0);
	free(blob);
	testdev_port_ops.destroy(a);
	testdev_port_ops.destroy(b);
}
END_TEST

UNIT_SUITE("testdev", testdev_latch_widths,
	   testdev_latch_byte_window_shares_latch, testdev_latch_string_io,
	   testdev_latch_straddling_flush_port, testdev_flush_calls_hook,
	   testdev_flush_other_widths_ignored, testdev_flush_without_hook,
	   testdev_line_write_calls_router, testdev_line_repeats_passed_on,
	   testdev_line_out_of_range_ignored, testdev_line_reads_level,
	   testdev_line_wide_write_sets_consecutive_lines,
	   testdev_line_count_parameter,
	   testdev_line_without_router_records_level, testdev_mmio_round_trips,
	   testdev_mmio_outside_window_ignored,
	   testdev_reset_lowers_lines_keeps_latch, testdev_describe_adds_node,
	   testdev_new_errors, testdev_random_accesses,
	   testdev_concurrent_vcpus, testdev_snapshot_round_trip,
	   testdev_snapshot_load_over_used_device,
	   testdev_snapshot_save_needs_room, testdev_snapshot_refuses_bad_blobs,
	   testdev_snapshot_hostile_blobs_never_crash)
