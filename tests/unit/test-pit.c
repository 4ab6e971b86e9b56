// SPDX-License-Identifier: MIT
/* Unit tests of the 8254 PIT model: waveforms, access logic, IRQ0 timing. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "pit.h"
#include "unit.h"

#define T0 1000000000ull /* the fake clock starts at 1 s */
#define NS_PER_SEC 1000000000ull
#define MIN_TICKS 239 /* PIT_MIN_IRQ_PERIOD_NS in PIT clocks, rounded up */
#define NR_RECORDED 64

#define P61_GATE2 0x01
#define P61_SPEAKER 0x02
#define P61_REFRESH 0x10
#define P61_OUT2 0x20

/* The fake machine around one PIT: a clock, a host timer, an IRQ line. */
struct fake {
	struct pit *pit;
	uint64_t now;
	uint64_t deadline; /* what the host timer is armed for, 0: not */
	uint64_t arms[NR_RECORDED];
	unsigned int nr_arms;
	unsigned int past_deadlines; /* arm() at or before the clock */
	bool level;
	bool levels[NR_RECORDED];
	unsigned int nr_levels;
	unsigned int rises, falls, repeats;
};

static uint64_t fake_now(void *ctx)
{
	return ((struct fake *)ctx)->now;
}

static void fake_arm(void *ctx, uint64_t deadline)
{
	struct fake *f = ctx;

	f->deadline = deadline;
	if (f->nr_arms < NR_RECORDED)
		f->arms[f->nr_arms] = deadline;
	f->nr_arms++;
	if (deadline && deadline <= f->now)
		f->past_deadlines++;
}

static void fake_irq(void *router, unsigned int line, bool level)
{
	struct fake *f = router;

	ck_assert_uint_eq(line, PIT_IRQ);
	if (level == f->level)
		f->repeats++;
	f->level = level;
	if (f->nr_levels < NR_RECORDED)
		f->levels[f->nr_levels] = level;
	f->nr_levels++;
	if (level)
		f->rises++;
	else
		f->falls++;
}

static void fx_init(struct fake *f)
{
	const struct pit_clock clock = {fake_now, f};
	const struct pit_timer_ops timer = {fake_arm, f};
	const struct irq_line irq = {fake_irq, f, PIT_IRQ};

	memset(f, 0, sizeof(*f));
	f->now = T0;
	ck_assert_int_eq(pit_new(&clock, &timer, &irq, &f->pit), 0);
}

static void fx_fini(struct fake *f)
{
	pit_ops.destroy(f->pit);
}

/* The first ns at which n PIT clocks have passed. */
static uint64_t tick_ns(uint64_t n)
{
	return (n * NS_PER_SEC + PIT_FREQ_HZ - 1) / PIT_FREQ_HZ;
}

static void fx_at(struct fake *f, uint64_t base, uint64_t ticks)
{
	f->now = base + tick_ns(ticks);
}

static struct io_access fx_access(uint16_t port, unsigned int len)
{
	uint64_t off = port == PIT_PORT61 ? 0 : port - PIT_BASE;

	return (struct io_access){port, off, len, 0};
}

static const struct device_ops *fx_ops(uint16_t port)
{
	return port == PIT_PORT61 ? &pit_port61_ops : &pit_ops;
}

static void pio_out(struct fake *f, uint16_t port, uint8_t val)
{
	struct io_access a = fx_access(port, 1);

	fx_ops(port)->write(f->pit, &a, val);
}

static uint8_t pio_in(struct fake *f, uint16_t port)
{
	struct io_access a = fx_access(port, 1);
	uint64_t v = fx_ops(port)->read(f->pit, &a);

	ck_assert_uint_le(v, 0xff);
	return (uint8_t)v;
}

/* Control word for LSB-then-MSB access, then the count. */
static void program(struct fake *f, unsigned int ch, unsigned int mode,
		    uint16_t count, bool bcd)
{
	pio_out(f, 0x43, (uint8_t)(ch << 6 | 0x30 | mode << 1 | bcd));
	pio_out(f, (uint16_t)(0x40 + ch), (uint8_t)count);
	pio_out(f, (uint16_t)(0x40 + ch), (uint8_t)(count >> 8));
}

/* Writes count in the format of control word cw (RW = 10: the MSB alone). */
static void write_count(struct fake *f, unsigned int ch, uint8_t cw,
			uint16_t count)
{
	uint16_t port = (uint16_t)(0x40 + ch);

	pio_out(f, port, (uint8_t)count);
	if (((cw >> 4) & 3) == 3)
		pio_out(f, port, (uint8_t)(count >> 8));
}

/* Counter Latch Command, then LSB and MSB (the counter is in RW = 11). */
static uint16_t read_latched(struct fake *f, unsigned int ch)
{
	uint16_t lo, hi;

	pio_out(f, 0x43, (uint8_t)(ch << 6));
	lo = pio_in(f, (uint16_t)(0x40 + ch));
	hi = pio_in(f, (uint16_t)(0x40 + ch));
	return (uint16_t)(lo | hi << 8);
}

/* Read-back of the status byte alone. */
static uint8_t read_status(struct fake *f, unsigned int ch)
{
	pio_out(f, 0x43, (uint8_t)(0xe0 | 2 << ch));
	return pio_in(f, (uint16_t)(0x40 + ch));
}

static bool out2(struct fake *f)
{
	return pio_in(f, PIT_PORT61) & P61_OUT2;
}

/* What the host timer thread does: run pit_fire() once the deadline is due. */
static void fire_if_due(struct fake *f)
{
	if (f->deadline && f->now >= f->deadline) {
		f->deadline = 0;
		pit_fire(f->pit);
	}
}

static struct pit_stats stats(struct fake *f)
{
	struct pit_stats s;

	pit_get_stats(f->pit, &s);
	return s;
}

/* The IRQ line only ever carries whole pulses: high, then low. */
static void assert_pulses_only(const struct fake *f)
{
	ck_assert_uint_eq(f->repeats, 0);
	ck_assert_uint_eq(f->rises, f->falls);
	ck_assert(!f->level);
}

/*
 * OUT and the count as functions of time, per mode (Mode Definitions).
 * Counter 2 is loaded with its gate low and the gate then raised, which
 * starts every mode (resumes 0 and 4, reloads 2 and 3, triggers 1 and 5)
 * at one known instant.
 */
START_TEST(pit_mode_waveforms)
{
	static const struct {
		uint8_t mode;
		uint16_t count;
		uint32_t ticks;
		uint16_t value;
		bool out;
	} cases[] = {
		{0, 10, 0, 10, 0},	{0, 10, 1, 9, 0},
		{0, 10, 9, 1, 0},	{0, 10, 10, 0, 1},
		{0, 10, 11, 0xffff, 1}, {0, 10, 100, 0xffa6, 1},
		{1, 10, 0, 10, 0},	{1, 10, 5, 5, 0},
		{1, 10, 9, 1, 0},	{1, 10, 10, 0, 1},
		{1, 10, 11, 0xffff, 1}, {2, 10, 0, 10, 1},
		{2, 10, 1, 9, 1},	{2, 10, 8, 2, 1},
		{2, 10, 9, 1, 0},	{2, 10, 10, 10, 1},
		{2, 10, 19, 1, 0},	{2, 10, 25, 5, 1},
		{3, 10, 0, 10, 1},	{3, 10, 1, 8, 1},
		{3, 10, 4, 2, 1},	{3, 10, 5, 10, 0},
		{3, 10, 9, 2, 0},	{3, 10, 10, 10, 1},
		{3, 10, 15, 10, 0},	{3, 5, 0, 4, 1},
		{3, 5, 1, 2, 1},	{3, 5, 2, 0, 1},
		{3, 5, 3, 4, 0},	{3, 5, 4, 2, 0},
		{3, 5, 5, 4, 1},	{3, 5, 8, 4, 0},
		{4, 10, 0, 10, 1},	{4, 10, 9, 1, 1},
		{4, 10, 10, 0, 0},	{4, 10, 11, 0xffff, 1},
		{4, 10, 12, 0xfffe, 1}, {5, 10, 0, 10, 1},
		{5, 10, 9, 1, 1},	{5, 10, 10, 0, 0},
		{5, 10, 11, 0xffff, 1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake f;
		uint64_t start;

		fx_init(&f);
		pio_out(&f, PIT_PORT61, 0);
		program(&f, 2, cases[i].mode, cases[i].count, false);
		start = f.now += 12345;
		pio_out(&f, PIT_PORT61, P61_GATE2);
		fx_at(&f, start, cases[i].ticks);
		ck_assert_msg(read_latched(&f, 2) == cases[i].value,
			      "case %zu: mode %u count %u after %u: %#x", i,
			      cases[i].mode, cases[i].count, cases[i].ticks,
			      read_latched(&f, 2));
		ck_assert_msg(out2(&f) == cases[i].out, "case %zu: OUT", i);
		ck_assert_msg(!!(read_status(&f, 2) & 0x80) == cases[i].out,
			      "case %zu: status OUT", i);
		fx_fini(&f);
	}
}
END_TEST

/* With the gate high, modes 0, 2, 3 and 4 count from the count write. */
START_TEST(pit_counting_starts_at_count_write)
{
	static const struct {
		uint8_t ch, mode;
		uint16_t count;
		uint32_t ticks;
		uint16_t value;
	} cases[] = {
		{0, 0, 1000, 300, 700}, {0, 2, 1000, 1300, 700},
		{0, 3, 1000, 100, 800}, {0, 4, 1000, 999, 1},
		{1, 2, 18, 5, 13},	{2, 0, 50000, 49999, 1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake f;

		fx_init(&f);
		pio_out(&f, PIT_PORT61, P61_GATE2);
		program(&f, cases[i].ch, cases[i].mode, cases[i].count, false);
		fx_at(&f, T0, cases[i].ticks);
		ck_assert_msg(read_latched(&f, cases[i].ch) == cases[i].value,
			      "case %zu", i);
		fx_fini(&f);
	}
}
END_TEST

/* RW = 01: one byte, the LSB, for writes and for every read. */
START_TEST(pit_rw_lsb_only)
{
	struct fake f;

	fx_init(&f);
	pio_out(&f, 0x43, 0x14); /* counter 0, LSB, mode 2 */
	pio_out(&f, 0x40, 80);
	fx_at(&f, T0, 10);
	ck_assert_uint_eq(pio_in(&f, 0x40), 70);
	ck_assert_uint_eq(pio_in(&f, 0x40), 70);
	fx_fini(&f);
}
END_TEST

/* RW = 10: one byte, the MSB (the LSB is 0), for writes and reads. */
START_TEST(pit_rw_msb_only)
{
	struct fake f;

	fx_init(&f);
	pio_out(&f, 0x43, 0x24); /* counter 0, MSB, mode 2 */
	pio_out(&f, 0x40, 0x02);
	fx_at(&f, T0, 256);
	ck_assert_uint_eq(pio_in(&f, 0x40), 0x01);
	ck_assert_uint_eq(pio_in(&f, 0x40), 0x01);
	fx_at(&f, T0, 511);
	ck_assert_uint_eq(pio_in(&f, 0x40), 0x00);
	fx_fini(&f);
}
END_TEST

/* RW = 11: the first byte is held until the second loads the count. */
START_TEST(pit_rw_word_flip_flop)
{
	struct fake f;
	struct pit_channel_info ci;

	fx_init(&f);
	pio_out(&f, 0x43, 0x74); /* counter 1, LSB then MSB, mode 2 */
	pio_out(&f, 0x41, 0x34);
	ck_assert_int_eq(pit_get_channel(f.pit, 1, &ci), 0);
	ck_assert(!ci.counting);
	pio_out(&f, 0x41, 0x12);
	ck_assert_int_eq(pit_get_channel(f.pit, 1, &ci), 0);
	ck_assert(ci.counting);
	ck_assert_uint_eq(ci.initial_count, 0x1234);
	fx_at(&f, T0, 0x34);
	ck_assert_uint_eq(pio_in(&f, 0x41), 0x00);
	ck_assert_uint_eq(pio_in(&f, 0x41), 0x12);
	ck_assert_uint_eq(pio_in(&f, 0x41), 0x00);
	ck_assert_uint_eq(pio_in(&f, 0x41), 0x12);
	fx_fini(&f);
}
END_TEST

/*
 * Reads and writes have their own flip-flops: "Read LSB, Write new LSB,
 * Read MSB, Write new MSB" is valid (Write Operations). In mode 0 the
 * first byte also stops counting.
 */
START_TEST(pit_rw_interleaved_read_write)
{
	struct fake f;
	uint64_t t1;

	fx_init(&f);
	program(&f, 1, 0, 0x1234, false);
	fx_at(&f, T0, 0x10);
	ck_assert_uint_eq(pio_in(&f, 0x41), 0x24);
	pio_out(&f, 0x41, 0x00);
	f.now += tick_ns(0x200);
	ck_assert_uint_eq(pio_in(&f, 0x41), 0x12); /* stopped at 0x1224 */
	t1 = f.now;
	pio_out(&f, 0x41, 0x05);
	fx_at(&f, t1, 0x10);
	ck_assert_uint_eq(pio_in(&f, 0x41), 0xf0);
	ck_assert_uint_eq(pio_in(&f, 0x41), 0x04);
	fx_fini(&f);
}
END_TEST

/* Mode 0: "Writing the first byte disables counting. OUT is set low". */
START_TEST(pit_mode0_first_byte_stops_counting)
{
	struct fake f;

	fx_init(&f);
	program(&f, 1, 0, 100, false);
	fx_at(&f, T0, 150);
	ck_assert(read_status(&f, 1) & 0x80);
	pio_out(&f, 0x41, 50);
	ck_assert(!(read_status(&f, 1) & 0x80));
	fx_at(&f, T0, 1000);
	ck_assert_uint_eq(read_latched(&f, 1), (uint16_t)(100 - 150));
	ck_assert(!(read_status(&f, 1) & 0x80));
	fx_fini(&f);
}
END_TEST

/* Counter Latch Command: the latch keeps the count until it is read. */
START_TEST(pit_latch_holds_count)
{
	struct fake f;

	fx_init(&f);
	program(&f, 0, 2, 1000, false);
	fx_at(&f, T0, 100);
	pio_out(&f, 0x43, 0x00);
	fx_at(&f, T0, 400);
	ck_assert_uint_eq(pio_in(&f, 0x40), 900 & 0xff);
	ck_assert_uint_eq(pio_in(&f, 0x40), 900 >> 8);
	ck_assert_uint_eq(pio_in(&f, 0x40), 600 & 0xff);
	ck_assert_uint_eq(pio_in(&f, 0x40), 600 >> 8);
	fx_fini(&f);
}
END_TEST

/* A second latch before the first is read (even half read) is ignored. */
START_TEST(pit_latch_again_ignored_until_read)
{
	struct fake f;

	fx_init(&f);
	program(&f, 0, 2, 1000, false);
	fx_at(&f, T0, 100);
	pio_out(&f, 0x43, 0x00);
	fx_at(&f, T0, 200);
	pio_out(&f, 0x43, 0x00);
	ck_assert_uint_eq(pio_in(&f, 0x40), 900 & 0xff);
	fx_at(&f, T0, 300);
	pio_out(&f, 0x43, 0x00);
	ck_assert_uint_eq(pio_in(&f, 0x40), 900 >> 8);
	fx_at(&f, T0, 700);
	ck_assert_uint_eq(read_latched(&f, 0), 300);
	fx_fini(&f);
}
END_TEST

/* Read-Back Command: one command latches several counters at once. */
START_TEST(pit_readback_latches_several_counts)
{
	struct fake f;

	fx_init(&f);
	pio_out(&f, PIT_PORT61, P61_GATE2);
	program(&f, 0, 2, 1000, false);
	program(&f, 1, 2, 2000, false);
	program(&f, 2, 0, 3000, false);
	fx_at(&f, T0, 100);
	pio_out(&f, 0x43, 0xde); /* count only, counters 0, 1, 2 */
	fx_at(&f, T0, 150);
	for (unsigned int ch = 0; ch < 3; ch++) {
		uint16_t want = (uint16_t)((ch + 1) * 1000 - 100);
		uint16_t lo = pio_in(&f, (uint16_t)(0x40 + ch));

		ck_assert_uint_eq(lo | pio_in(&f, (uint16_t)(0x40 + ch)) << 8,
				  want);
	}
	fx_fini(&f);
}
END_TEST

/* Status Byte: OUT, NULL COUNT, and the control word's bits 5-0. */
START_TEST(pit_readback_status_fields)
{
	static const struct {
		uint8_t cw;
		int count; /* -1: none written */
		uint32_t ticks;
		uint8_t status;
	} cases[] = {
		{0x74, -1, 0, 0xf4},   /* mode 2, no count: OUT high, null */
		{0x74, 100, 0, 0xb4},  /* loaded */
		{0x70, -1, 0, 0x70},   /* mode 0, no count: OUT low, null */
		{0x70, 100, 50, 0x30}, /* counting */
		{0x70, 100, 100, 0xb0}, /* terminal count */
		{0x57, 0x50, 30, 0x17}, /* LSB, mode 3, BCD: low half */
		{0x7c, 100, 99, 0x3c},	/* mode 6 as written, acts as 2 */
		{0x52, 10, 50, 0xd2},	/* mode 1, never triggered */
		{0x6e, 0x01, 0, 0xae},	/* MSB, mode 7 */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake f;

		fx_init(&f);
		pio_out(&f, 0x43, cases[i].cw);
		if (cases[i].count >= 0)
			write_count(&f, 1, cases[i].cw,
				    (uint16_t)cases[i].count);
		fx_at(&f, T0, cases[i].ticks);
		ck_assert_msg(read_status(&f, 1) == cases[i].status,
			      "case %zu: %#x", i, read_status(&f, 1));
		fx_fini(&f);
	}
}
END_TEST

/* With count and status latched, the status is read first. */
START_TEST(pit_readback_status_before_count)
{
	struct fake f;

	fx_init(&f);
	program(&f, 0, 2, 1000, false);
	fx_at(&f, T0, 10);
	pio_out(&f, 0x43, 0xc2); /* count and status of counter 0 */
	fx_at(&f, T0, 20);
	ck_assert_uint_eq(pio_in(&f, 0x40), 0xb4);
	ck_assert_uint_eq(pio_in(&f, 0x40), 990 & 0xff);
	ck_assert_uint_eq(pio_in(&f, 0x40), 990 >> 8);
	ck_assert_uint_eq(pio_in(&f, 0x40), 980 & 0xff);
	fx_fini(&f);
}
END_TEST

/*
 * A latched status is not replaced before it is read ("Command ignored,
 * status already latched for counter 1" in the datasheet's example).
 */
START_TEST(pit_readback_status_latched_once)
{
	struct fake f;

	fx_init(&f);
	pio_out(&f, PIT_PORT61, P61_GATE2);
	program(&f, 1, 0, 100, false);
	program(&f, 2, 0, 100, false);
	fx_at(&f, T0, 50);
	pio_out(&f, 0x43, 0xe4); /* status of counter 1 */
	fx_at(&f, T0, 150);
	pio_out(&f, 0x43, 0xec); /* status of counters 1 and 2 */
	ck_assert_uint_eq(pio_in(&f, 0x41), 0x30);
	ck_assert_uint_eq(pio_in(&f, 0x42), 0xb0);
	ck_assert_uint_eq(read_status(&f, 1), 0xb0);
	fx_fini(&f);
}
END_TEST

/*
 * NULL COUNT: 1 from a control word or count write until the count is
 * in the CE; modes 2 and 3 take a new count only at the end of the cycle,
 * modes 1 and 5 only at a trigger.
 */
START_TEST(pit_null_count_until_loaded)
{
	struct fake f;

	fx_init(&f);
	pio_out(&f, 0x43, 0x74);
	ck_assert(read_status(&f, 1) & 0x40);
	pio_out(&f, 0x41, 100);
	pio_out(&f, 0x41, 0);
	ck_assert(!(read_status(&f, 1) & 0x40));
	fx_at(&f, T0, 30);
	pio_out(&f, 0x41, 50);
	pio_out(&f, 0x41, 0);
	fx_at(&f, T0, 99);
	ck_assert(read_status(&f, 1) & 0x40);
	ck_assert_uint_eq(read_latched(&f, 1), 1);
	fx_at(&f, T0, 100);
	ck_assert(!(read_status(&f, 1) & 0x40));
	ck_assert_uint_eq(read_latched(&f, 1), 50);

	pio_out(&f, PIT_PORT61, 0);
	program(&f, 2, 1, 10, false);
	ck_assert(read_status(&f, 2) & 0x40);
	pio_out(&f, PIT_PORT61, P61_GATE2);
	ck_assert(!(read_status(&f, 2) & 0x40));
	fx_fini(&f);
}
END_TEST

/* BCD: four decades, 9999 after 0, a count written in BCD. */
START_TEST(pit_bcd_counting)
{
	static const struct {
		uint8_t mode;
		uint16_t count;
		uint32_t ticks;
		uint16_t value;
	} cases[] = {
		{0, 0x1000, 1, 0x0999},	   {0, 0x1000, 1000, 0x0000},
		{0, 0x1000, 1001, 0x9999}, {0, 0x1000, 1002, 0x9998},
		{2, 0x0010, 3, 0x0007},	   {2, 0x0010, 10, 0x0010},
		{3, 0x0010, 6, 0x0008},	   {0, 0x0100, 37, 0x0063},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake f;

		fx_init(&f);
		program(&f, 1, cases[i].mode, cases[i].count, true);
		fx_at(&f, T0, cases[i].ticks);
		ck_assert_msg(read_latched(&f, 1) == cases[i].value,
			      "case %zu: %#x", i, read_latched(&f, 1));
		fx_fini(&f);
	}
}
END_TEST

/* A count of 0 is the largest: 2^16 in binary, 10^4 in BCD. */
START_TEST(pit_count_zero_is_largest)
{
	static const struct {
		bool bcd;
		uint8_t mode;
		uint32_t ticks;
		uint16_t value;
		bool out;
	} cases[] = {
		{0, 2, 0, 0x0000, 1},	  {0, 2, 1, 0xffff, 1},
		{0, 2, 65534, 0x0002, 1}, {0, 2, 65535, 0x0001, 0},
		{0, 2, 65536, 0x0000, 1}, {0, 2, 65537, 0xffff, 1},
		{1, 2, 1, 0x9999, 1},	  {1, 2, 9999, 0x0001, 0},
		{1, 2, 10000, 0x0000, 1}, {1, 2, 10001, 0x9999, 1},
		{0, 0, 65535, 0x0001, 0}, {0, 0, 65536, 0x0000, 1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake f;

		fx_init(&f);
		program(&f, 1, cases[i].mode, 0, cases[i].bcd);
		fx_at(&f, T0, cases[i].ticks);
		ck_assert_msg(read_latched(&f, 1) == cases[i].value,
			      "case %zu: %#x", i, read_latched(&f, 1));
		ck_assert_msg(!!(read_status(&f, 1) & 0x80) == cases[i].out,
			      "case %zu: OUT", i);
		fx_fini(&f);
	}
}
END_TEST

/* Modes 6 and 7 ("X10", "X11") count as modes 2 and 3. */
START_TEST(pit_modes_6_and_7_alias_2_and_3)
{
	for (unsigned int mode = 6; mode < 8; mode++) {
		struct fake f, g;

		fx_init(&f);
		fx_init(&g);
		program(&f, 1, mode, 10, false);
		program(&g, 1, mode - 4, 10, false);
		for (uint32_t t = 0; t < 40; t++) {
			fx_at(&f, T0, t);
			fx_at(&g, T0, t);
			ck_assert_uint_eq(read_latched(&f, 1),
					  read_latched(&g, 1));
			ck_assert_uint_eq(read_status(&f, 1) & 0x80,
					  read_status(&g, 1) & 0x80);
		}
		fx_fini(&f);
		fx_fini(&g);
	}
}
END_TEST

/* Mode 0: gate 2 low pauses counting; OUT is not affected. */
START_TEST(pit_gate2_pauses_mode0)
{
	struct fake f;
	uint64_t t;

	fx_init(&f);
	pio_out(&f, PIT_PORT61, P61_GATE2);
	program(&f, 2, 0, 100, false);
	fx_at(&f, T0, 30);
	pio_out(&f, PIT_PORT61, 0);
	fx_at(&f, T0, 500);
	ck_assert_uint_eq(read_latched(&f, 2), 70);
	ck_assert(!out2(&f));
	t = f.now;
	pio_out(&f, PIT_PORT61, P61_GATE2);
	fx_at(&f, t, 20);
	ck_assert_uint_eq(read_latched(&f, 2), 50);
	fx_at(&f, t, 69);
	ck_assert(!out2(&f));
	fx_at(&f, t, 70);
	ck_assert(out2(&f));
	fx_fini(&f);
}
END_TEST

/* Mode 1: a gate rise triggers the one-shot, and retriggers it. */
START_TEST(pit_gate2_triggers_mode1)
{
	struct fake f;
	uint64_t t;

	fx_init(&f);
	pio_out(&f, PIT_PORT61, 0);
	program(&f, 2, 1, 100, false);
	fx_at(&f, T0, 500);
	ck_assert(out2(&f));
	t = f.now;
	pio_out(&f, PIT_PORT61, P61_GATE2);
	ck_assert(!out2(&f));
	fx_at(&f, t, 60);
	ck_assert_uint_eq(read_latched(&f, 2), 40);
	pio_out(&f, PIT_PORT61, 0);
	ck_assert_uint_eq(read_latched(&f, 2), 40); /* gate level: no effect */
	t = f.now;
	pio_out(&f, PIT_PORT61, P61_GATE2);
	fx_at(&f, t, 99);
	ck_assert_uint_eq(read_latched(&f, 2), 1);
	ck_assert(!out2(&f));
	fx_at(&f, t, 100);
	ck_assert(out2(&f));
	fx_fini(&f);
}
END_TEST

/* Mode 5: a gate rise triggers the strobe; a new count waits for one. */
START_TEST(pit_gate2_triggers_mode5)
{
	struct fake f;
	uint64_t t;

	fx_init(&f);
	pio_out(&f, PIT_PORT61, 0);
	program(&f, 2, 5, 100, false);
	fx_at(&f, T0, 100);
	ck_assert(out2(&f));
	t = f.now;
	pio_out(&f, PIT_PORT61, P61_GATE2);
	fx_at(&f, t, 50);
	pio_out(&f, 0x42, 10); /* new count: not until the next trigger */
	pio_out(&f, 0x42, 0);
	fx_at(&f, t, 99);
	ck_assert(out2(&f));
	fx_at(&f, t, 100);
	ck_assert(!out2(&f));
	fx_at(&f, t, 101);
	ck_assert(out2(&f));
	pio_out(&f, PIT_PORT61, 0);
	t = f.now;
	pio_out(&f, PIT_PORT61, P61_GATE2);
	fx_at(&f, t, 10);
	ck_assert(!out2(&f));
	fx_fini(&f);
}
END_TEST

/* Modes 2 and 3: gate low forces OUT high and stops; a rise reloads. */
START_TEST(pit_gate2_restarts_periodic_modes)
{
	for (unsigned int mode = 2; mode < 4; mode++) {
		struct fake f;
		uint64_t t;

		fx_init(&f);
		pio_out(&f, PIT_PORT61, P61_GATE2);
		program(&f, 2, mode, 100, false);
		fx_at(&f, T0, 70); /* mode 3: in the low half */
		pio_out(&f, PIT_PORT61, 0);
		ck_assert(out2(&f));
		fx_at(&f, T0, 99);
		ck_assert(out2(&f));
		ck_assert_uint_eq(read_latched(&f, 2),
				  mode == 2 ? 30 : 100 - 2 * 20);
		t = f.now += 1000;
		pio_out(&f, PIT_PORT61, P61_GATE2);
		ck_assert_uint_eq(read_latched(&f, 2), 100);
		fx_at(&f, t, mode == 2 ? 99 : 50);
		ck_assert(!out2(&f));
		fx_at(&f, t, 100);
		ck_assert(out2(&f));
		fx_fini(&f);
	}
}
END_TEST

/* Port 0x61: bits 0 and 1 read back, bits 2, 3, 6 and 7 read 0. */
START_TEST(pit_port61_bits)
{
	struct fake f;

	fx_init(&f);
	pio_out(&f, PIT_PORT61, 0xff);
	ck_assert_uint_eq(pio_in(&f, PIT_PORT61) & 0xcf,
			  P61_GATE2 | P61_SPEAKER);
	pio_out(&f, PIT_PORT61, P61_SPEAKER);
	ck_assert_uint_eq(pio_in(&f, PIT_PORT61) & 0xcf, P61_SPEAKER);
	pio_out(&f, PIT_PORT61, 0xfc);
	ck_assert_uint_eq(pio_in(&f, PIT_PORT61) & 0xcf, 0);
	fx_fini(&f);
}
END_TEST

/* Port 0x61 bit 5 is OUT2, whatever else is written there. */
START_TEST(pit_port61_out2)
{
	struct fake f;

	fx_init(&f);
	pio_out(&f, PIT_PORT61, P61_GATE2);
	program(&f, 2, 0, 10, false);
	ck_assert(!out2(&f));
	pio_out(&f, PIT_PORT61, P61_GATE2 | P61_OUT2); /* read-only */
	ck_assert(!out2(&f));
	fx_at(&f, T0, 10);
	ck_assert(out2(&f));
	fx_fini(&f);
}
END_TEST

/* Bit 4 toggles every 18 PIT clocks (15.09 us), following the clock. */
START_TEST(pit_port61_refresh_toggles)
{
	struct fake f;
	unsigned int toggles = 0;
	uint64_t last_toggle = 0;
	bool bit;

	fx_init(&f);
	bit = pio_in(&f, PIT_PORT61) & P61_REFRESH;
	for (uint64_t t = T0; t <= T0 + 1000000; t += 1000) {
		bool b;

		f.now = t;
		b = pio_in(&f, PIT_PORT61) & P61_REFRESH;
		if (b == bit)
			continue;
		if (last_toggle) {
			ck_assert_uint_ge(t - last_toggle, 14000);
			ck_assert_uint_le(t - last_toggle, 16000);
		}
		last_toggle = t;
		bit = b;
		toggles++;
	}
	ck_assert_uint_ge(toggles, 66);
	ck_assert_uint_le(toggles, 67);
	fx_fini(&f);
}
END_TEST

/*
 * Linux's pit_calibrate_tsc(): gate 2 high, speaker off, counter 2 in
 * mode 0 with a 10 ms count, then poll port 0x61 for OUT2.
 */
START_TEST(pit_linux_tsc_calibration)
{
	const uint16_t latch = PIT_FREQ_HZ / 100;
	const uint64_t due = T0 + tick_ns(latch);
	struct fake f;
	uint64_t seen = 0;

	fx_init(&f);
	pio_out(&f, PIT_PORT61,
		(uint8_t)((pio_in(&f, PIT_PORT61) & ~P61_SPEAKER) | P61_GATE2));
	pio_out(&f, 0x43, 0xb0);
	pio_out(&f, 0x42, latch & 0xff);
	pio_out(&f, 0x42, latch >> 8);
	for (f.now = T0; f.now < T0 + 20000000; f.now += 7000) {
		if (out2(&f)) {
			seen = f.now;
			break;
		}
	}
	ck_assert_uint_ge(seen, due);
	ck_assert_uint_lt(seen, due + 7000);
	fx_fini(&f);
}
END_TEST

/*
 * Linux's quick_pit_calibrate(): counter 2 in mode 0 from 0xffff, read
 * LSB then MSB without latching; the MSB must fall every 256 clocks.
 */
START_TEST(pit_linux_quick_calibration_reads)
{
	struct fake f;

	fx_init(&f);
	pio_out(&f, PIT_PORT61, P61_GATE2);
	pio_out(&f, 0x43, 0xb0);
	pio_out(&f, 0x42, 0xff);
	pio_out(&f, 0x42, 0xff);
	for (uint32_t d = 0; d < 65000; d += 97) {
		uint16_t lo, hi;

		fx_at(&f, T0, d);
		lo = pio_in(&f, 0x42);
		hi = pio_in(&f, 0x42);
		ck_assert_uint_eq(lo | hi << 8, 0xffff - d);
	}
	fx_fini(&f);
}
END_TEST

/*
 * Runs the host timer n times at its deadline, expected at tick
 * first + k * period from start; checks one pulse each.
 */
static void expect_edges(struct fake *f, uint64_t start, uint64_t first,
			 uint64_t period, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++) {
		unsigned int rises = f->rises;

		ck_assert_uint_eq(f->deadline,
				  start + tick_ns(first + k * period));
		f->now = f->deadline - 1;
		fire_if_due(f);
		pit_fire(f->pit); /* early: nothing */
		ck_assert_uint_eq(f->rises, rises);
		f->now = f->deadline;
		fire_if_due(f);
		ck_assert_uint_eq(f->rises, rises + 1);
	}
	assert_pulses_only(f);
}

static void expect_periodic(struct fake *f, uint64_t start, uint64_t period,
			    unsigned int n)
{
	expect_edges(f, start, period, period, n);
}

/* Mode 2: one IRQ0 pulse per period, deadlines on period boundaries. */
START_TEST(pit_irq0_mode2_periodic)
{
	struct fake f;

	fx_init(&f);
	program(&f, 0, 2, 1193, false);
	expect_periodic(&f, T0, 1193, 20);
	ck_assert_uint_eq(stats(&f).irqs, 20);
	ck_assert_uint_eq(stats(&f).lost_ticks, 0);
	fx_fini(&f);
}
END_TEST

/* Mode 3: one pulse per period, at OUT's rise; odd and even counts. */
START_TEST(pit_irq0_mode3_periodic)
{
	static const uint16_t counts[] = {1193, 1194, 0};

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		struct fake f;

		fx_init(&f);
		program(&f, 0, 3, counts[i], false);
		expect_periodic(&f, T0, counts[i] ? counts[i] : 65536, 10);
		fx_fini(&f);
	}
}
END_TEST

/* The pulse is the line going high, then low (KVM's kvm_set_irq 1, 0). */
START_TEST(pit_irq0_pulse_shape)
{
	struct fake f;

	fx_init(&f);
	program(&f, 0, 2, 1000, false);
	f.now = f.deadline;
	fire_if_due(&f);
	ck_assert_uint_eq(f.nr_levels, 2);
	ck_assert(f.levels[0]);
	ck_assert(!f.levels[1]);
	fx_fini(&f);
}
END_TEST

/* Mode 0: one pulse at terminal count, then the timer is disarmed. */
START_TEST(pit_irq0_mode0_once)
{
	struct fake f;

	fx_init(&f);
	program(&f, 0, 0, 1000, false);
	ck_assert_uint_eq(f.deadline, T0 + tick_ns(1000));
	f.now = f.deadline;
	fire_if_due(&f);
	ck_assert_uint_eq(f.rises, 1);
	ck_assert_uint_eq(f.deadline, 0);
	f.now += NS_PER_SEC;
	pit_fire(f.pit);
	ck_assert_uint_eq(f.rises, 1);
	ck_assert_uint_eq(f.deadline, 0);
	assert_pulses_only(&f);
	fx_fini(&f);
}
END_TEST

/* Mode 4: one pulse when the strobe ends (OUT rises at N + 1). */
START_TEST(pit_irq0_mode4_strobe)
{
	struct fake f;

	fx_init(&f);
	program(&f, 0, 4, 1000, false);
	ck_assert_uint_eq(f.deadline, T0 + tick_ns(1001));
	f.now = f.deadline;
	fire_if_due(&f);
	ck_assert_uint_eq(f.rises, 1);
	ck_assert_uint_eq(f.deadline, 0);
	assert_pulses_only(&f);
	fx_fini(&f);
}
END_TEST

/* Modes 1 and 5 need a gate trigger; counter 0's gate is tied high. */
START_TEST(pit_irq0_modes_1_and_5_never_interrupt)
{
	for (unsigned int mode = 1; mode < 6; mode += 4) {
		struct fake f;

		fx_init(&f);
		program(&f, 0, mode, 1000, false);
		ck_assert_uint_eq(f.deadline, 0);
		f.now += NS_PER_SEC;
		pit_fire(f.pit);
		ck_assert_uint_eq(f.rises, 0);
		fx_fini(&f);
	}
}
END_TEST

/* Ten periods late: one pulse, nine lost ticks, the phase kept. */
START_TEST(pit_irq0_lost_ticks_not_reinjected)
{
	struct fake f;

	fx_init(&f);
	program(&f, 0, 2, 1193, false);
	fx_at(&f, T0, 1193 * 10 + 600);
	fire_if_due(&f);
	ck_assert_uint_eq(f.rises, 1);
	ck_assert_uint_eq(stats(&f).irqs, 1);
	ck_assert_uint_eq(stats(&f).lost_ticks, 9);
	ck_assert_uint_eq(f.deadline, T0 + tick_ns(1193 * 11));
	ck_assert_uint_eq(f.past_deadlines, 0);
	assert_pulses_only(&f);
	fx_fini(&f);
}
END_TEST

/*
 * Counts below PIT_MIN_IRQ_PERIOD_NS: IRQ0 comes every smallest multiple
 * of the period that is long enough; the counter itself keeps its rate.
 */
START_TEST(pit_irq0_short_period_clamped)
{
	static const struct {
		uint8_t mode;
		uint16_t count;
		uint32_t period;
	} cases[] = {
		{2, 2, 240},   {2, 10, 240},  {2, 19, 247},	{3, 19, 247},
		{2, 100, 300}, {3, 238, 476}, {2, 239, 239}, {2, 1193, 1193},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake f;

		fx_init(&f);
		program(&f, 0, cases[i].mode, cases[i].count, false);
		expect_periodic(&f, T0, cases[i].period, 3);
		ck_assert_uint_eq(stats(&f).clamped,
				  cases[i].count < MIN_TICKS);
		if (cases[i].mode == 2) {
			fx_at(&f, T0, cases[i].period * 3 + 1);
			ck_assert_uint_eq(read_latched(&f, 0),
					  cases[i].count - 1);
		}
		fx_fini(&f);
	}
}
END_TEST

/* Reprogramming counter 0 re-arms; a bare control word disarms. */
START_TEST(pit_irq0_reprogram_rearms)
{
	struct fake f;
	uint64_t t1;

	fx_init(&f);
	ck_assert_uint_eq(f.nr_arms, 0);
	program(&f, 0, 2, 1193, false);
	ck_assert_uint_eq(f.deadline, T0 + tick_ns(1193));
	t1 = f.now = T0 + 300000;
	program(&f, 0, 2, 2386, false);
	ck_assert_uint_eq(f.deadline, t1 + tick_ns(2386));
	pio_out(&f, 0x43, 0x30); /* Linux's PIT shutdown: mode 0, no count */
	ck_assert_uint_eq(f.deadline, 0);
	f.now += NS_PER_SEC;
	pit_fire(f.pit);
	ck_assert_uint_eq(f.rises, 0);
	program(&f, 0, 3, 1000, false);
	ck_assert_uint_eq(f.deadline, f.now + tick_ns(1000));
	ck_assert_uint_eq(f.past_deadlines, 0);
	/* each control word stops counter 0 until its count is written */
	ck_assert_uint_eq(f.nr_arms, 5);
	ck_assert_uint_eq(f.arms[0], T0 + tick_ns(1193));
	ck_assert_uint_eq(f.arms[1], 0);
	ck_assert_uint_eq(f.arms[2], t1 + tick_ns(2386));
	ck_assert_uint_eq(f.arms[3], 0);
	ck_assert_uint_eq(f.arms[4], f.now + tick_ns(1000));
	fx_fini(&f);
}
END_TEST

/* An edge already past when the guest reprograms is delivered first. */
START_TEST(pit_irq0_late_edge_delivered_on_reprogram)
{
	struct fake f;

	fx_init(&f);
	program(&f, 0, 0, 100, false);
	fx_at(&f, T0, 5000); /* the timer thread has not run yet */
	pio_out(&f, 0x43, 0x34);
	ck_assert_uint_eq(f.rises, 1);
	ck_assert_uint_eq(f.deadline, 0);
	pio_out(&f, 0x40, 0);
	pio_out(&f, 0x40, 1);
	ck_assert_uint_eq(f.rises, 1);
	ck_assert_uint_eq(f.deadline, f.now + tick_ns(256));
	fx_fini(&f);
}
END_TEST

/*
 * Mode 2: a count written while counting takes effect at the end of the
 * period (no control word, as a guest changing its tick rate may do).
 */
START_TEST(pit_irq0_mode2_new_count_at_period_end)
{
	struct fake f;

	fx_init(&f);
	program(&f, 0, 2, 1000, false);
	fx_at(&f, T0, 300);
	pio_out(&f, 0x40, 2000 & 0xff);
	pio_out(&f, 0x40, 2000 >> 8);
	ck_assert_uint_eq(f.deadline, T0 + tick_ns(1000));
	fx_at(&f, T0, 999);
	ck_assert_uint_eq(read_latched(&f, 0), 1);
	f.now = f.deadline;
	fire_if_due(&f);
	ck_assert_uint_eq(f.rises, 1);
	ck_assert_uint_eq(f.deadline, T0 + tick_ns(3000));
	fx_at(&f, T0, 1500);
	ck_assert_uint_eq(read_latched(&f, 0), 1500);
	fx_fini(&f);
}
END_TEST

/*
 * Mode 3 on counter 0: a new count loaded at the end of the high half is
 * followed by its own low half, so IRQ0 comes on the new count's phase;
 * the timer wakes for the load, not for the old count's next edge.
 */
START_TEST(pit_irq0_mode3_new_count_at_half_cycle)
{
	struct fake f;

	fx_init(&f);
	program(&f, 0, 3, 2000, false);
	fx_at(&f, T0, 100);
	pio_out(&f, 0x40, 400 & 0xff);
	pio_out(&f, 0x40, 400 >> 8);
	ck_assert_uint_eq(f.deadline, T0 + tick_ns(1000));
	f.now = f.deadline;
	fire_if_due(&f);
	ck_assert_uint_eq(f.rises, 0);
	expect_edges(&f, T0, 1200, 400, 3);
	ck_assert_uint_eq(stats(&f).lost_ticks, 0);
	fx_fini(&f);
}
END_TEST

/*
 * pit_fire() before the deadline (a host timer on a coarser or slightly
 * different clock) re-arms the same deadline rather than losing it.
 */
START_TEST(pit_irq0_early_fire_rearms)
{
	struct fake f;
	uint64_t due;

	fx_init(&f);
	program(&f, 0, 2, 1193, false);
	due = f.deadline;
	f.now = due - 1000;
	f.deadline = 0; /* the host timer went off, early */
	pit_fire(f.pit);
	ck_assert_uint_eq(f.rises, 0);
	ck_assert_uint_eq(f.deadline, due);
	f.now = due;
	fire_if_due(&f);
	ck_assert_uint_eq(f.rises, 1);
	fx_fini(&f);
}
END_TEST

/* Mode 3: a new count is taken at the end of the current half-cycle. */
START_TEST(pit_mode3_new_count_at_half_cycle)
{
	struct fake f;

	fx_init(&f);
	program(&f, 1, 3, 100, false);
	fx_at(&f, T0, 20);
	pio_out(&f, 0x41, 40);
	pio_out(&f, 0x41, 0);
	fx_at(&f, T0, 49);
	ck_assert(read_status(&f, 1) & 0x80);
	ck_assert_uint_eq(read_latched(&f, 1), 2);
	fx_at(&f, T0, 50); /* low half of the new count: 20 clocks */
	ck_assert(!(read_status(&f, 1) & 0x80));
	ck_assert_uint_eq(read_latched(&f, 1), 40);
	fx_at(&f, T0, 69);
	ck_assert(!(read_status(&f, 1) & 0x80));
	fx_at(&f, T0, 70);
	ck_assert(read_status(&f, 1) & 0x80);
	fx_at(&f, T0, 90);
	ck_assert(!(read_status(&f, 1) & 0x80));
	fx_fini(&f);
}
END_TEST

/* Power-on: nothing counts, nothing is armed, OUTs high, gate 2 low. */
START_TEST(pit_power_on_state)
{
	struct fake f;

	fx_init(&f);
	ck_assert_uint_eq(f.nr_arms, 0);
	for (unsigned int ch = 0; ch < 3; ch++)
		ck_assert_uint_eq(read_status(&f, ch), 0xb6);
	ck_assert_uint_eq(pio_in(&f, PIT_PORT61) & 0xef, P61_OUT2);
	f.now += NS_PER_SEC;
	pit_fire(f.pit);
	ck_assert_uint_eq(f.rises, 0);
	fx_fini(&f);
}
END_TEST

/* Firmware reset: counter 0 as SeaBIOS leaves it, 18.2 Hz in mode 2. */
START_TEST(pit_firmware_reset)
{
	struct fake f;

	fx_init(&f);
	pit_reset(f.pit, true);
	ck_assert_uint_eq(read_status(&f, 0), 0xb4);
	expect_periodic(&f, T0, 65536, 3);
	pit_reset(f.pit, false);
	ck_assert_uint_eq(f.deadline, 0);
	fx_fini(&f);
}
END_TEST

/* The control word register cannot be read: the bus floats (0xff). */
START_TEST(pit_control_port_reads_float)
{
	struct fake f;

	fx_init(&f);
	program(&f, 0, 2, 1000, false);
	ck_assert_uint_eq(pio_in(&f, 0x43), 0xff);
	fx_fini(&f);
}
END_TEST

/* Wider accesses: reads give all ones, writes change nothing. */
START_TEST(pit_wide_accesses_ignored)
{
	static const unsigned int lens[] = {2, 4, 8};
	struct fake f;

	fx_init(&f);
	program(&f, 0, 2, 1000, false);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (uint64_t off = 0; off < PIT_REGION_SIZE; off++) {
			struct io_access a = {PIT_BASE + off, off, lens[i], 0};

			ck_assert_uint_eq(pit_ops.read(f.pit, &a),
					  io_all_ones(lens[i]));
			pit_ops.write(f.pit, &a, 0x30);
		}
		struct io_access b = {PIT_PORT61, 0, lens[i], 0};

		ck_assert_uint_eq(pit_port61_ops.read(f.pit, &b),
				  io_all_ones(lens[i]));
		pit_port61_ops.write(f.pit, &b, P61_GATE2);
	}
	ck_assert_uint_eq(read_status(&f, 0), 0xb4);
	ck_assert_uint_eq(f.deadline, T0 + tick_ns(1000));
	ck_assert(!(pio_in(&f, PIT_PORT61) & P61_GATE2));
	fx_fini(&f);
}
END_TEST

/* Every byte to every port, with time passing: nothing breaks. */
START_TEST(pit_garbage_writes)
{
	struct fake f;
	const uint16_t ports[] = {0x40, 0x41, 0x42, 0x43, PIT_PORT61};

	fx_init(&f);
	for (unsigned int v = 0; v < 256; v++) {
		for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
			pio_out(&f, ports[i], (uint8_t)v);
			pio_in(&f, ports[(i + v) % 5]);
			f.now += 1000 * (v % 7);
			fire_if_due(&f);
		}
		/* odd offsets beyond the regions are ignored too */
		struct io_access a = {0x44, 4 + v, 1, 0};

		pit_ops.write(f.pit, &a, v);
		ck_assert_uint_eq(pit_ops.read(f.pit, &a), 0xff);
	}
	ck_assert_uint_eq(f.past_deadlines, 0);
	assert_pulses_only(&f);
	fx_fini(&f);
}
END_TEST

/* xorshift64*: a fixed, portable sequence. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static bool bcd_valid(uint16_t v)
{
	for (int shift = 0; shift < 16; shift += 4)
		if (((v >> shift) & 0xf) > 9)
			return false;
	return true;
}

static uint32_t bcd_value(uint16_t v)
{
	return (v >> 12) * 1000u + ((v >> 8) & 0xf) * 100u +
	       ((v >> 4) & 0xf) * 10u + (v & 0xf);
}

/* A counting counter's value is one its mode can show for its count. */
static void assert_value_in_range(const struct pit_channel_info *ci)
{
	uint32_t n = ci->initial_count, m = ci->bcd ? 10000 : 65536, v;

	if (!ci->counting)
		return;
	ck_assert_uint_ge(n, 1);
	ck_assert_uint_le(n, m);
	if (ci->bcd)
		ck_assert_msg(bcd_valid(ci->value), "%#x", ci->value);
	v = ci->bcd ? bcd_value(ci->value) : ci->value;
	if (ci->mode == 2) {
		ck_assert_msg((v ? v : m) >= 1 && (v ? v : m) <= n,
			      "mode 2: %u of %u", v, n);
	} else if (ci->mode == 3) {
		if (v == 0)
			ck_assert_msg(n % 2 || n == m, "mode 3: 0 of %u", n);
		else
			ck_assert_msg(v % 2 == 0 && v <= n, "mode 3: %u of %u",
				      v, n);
	}
}

/* Programs a counter afresh, lets time pass, reads it through the ports. */
static unsigned int random_probe(struct fake *f, uint64_t *s)
{
	unsigned int ch = rnd(s) % 3, mode = rnd(s) % 8;
	bool bcd = rnd(s) % 4 == 0;
	uint16_t count = (uint16_t)rnd(s), v;
	struct pit_channel_info ci;

	if (rnd(s) % 2)
		count &= 0xff;
	program(f, ch, mode, count, bcd);
	f->now += rnd(s) % (tick_ns(70000));
	v = read_latched(f, ch);
	ck_assert_int_eq(pit_get_channel(f->pit, ch, &ci), 0);
	ck_assert_uint_eq(ci.value, v);
	assert_value_in_range(&ci);
	return ch;
}

#define OP_CH0_WRITE 1u   /* may have reprogrammed counter 0 */
#define OP_TWO_REGIMES 2u /* IRQ0 may come from the new programming too */

static unsigned int random_op(struct fake *f, uint64_t *s)
{
	static const uint16_t ports[] = {0x40, 0x41, 0x42, 0x43, PIT_PORT61};
	uint64_t r = rnd(s) % 100;
	uint16_t port = ports[rnd(s) % 5];

	if (r < 25) {
		pio_out(f, port, (uint8_t)rnd(s));
		return port == 0x40 || port == 0x43 ? OP_CH0_WRITE : 0;
	} else if (r < 45) {
		pio_in(f, port);
	} else if (r < 50) {
		struct io_access a = fx_access(port, 2u << (rnd(s) % 3));

		if (rnd(s) % 2)
			fx_ops(port)->write(f->pit, &a, rnd(s));
		else
			ck_assert_uint_eq(fx_ops(port)->read(f->pit, &a),
					  io_all_ones(a.len));
	} else if (r < 75) {
		uint64_t kind = rnd(s) % 10;

		f->now += rnd(s) % (kind < 6	? 20000
				    : kind < 9 ? 2000000
					       : 100000000);
	} else if (r < 90) {
		fire_if_due(f);
	} else if (r < 93) {
		pit_fire(f->pit);
	} else if (r < 98) {
		if (random_probe(f, s) == 0)
			return OP_CH0_WRITE | OP_TWO_REGIMES;
	} else {
		program(f, 0, 2 + rnd(s) % 2, (uint16_t)rnd(s), false);
		return OP_CH0_WRITE;
	}
	return 0;
}

/* Whether counter 0 can raise IRQ0 from its present state. */
static bool ch0_interrupting(const struct pit_channel_info *ci)
{
	if (!ci->counting || ci->mode == 1 || ci->mode == 5)
		return false;
	if (ci->mode == 2 || ci->mode == 3)
		return ci->initial_count >= 2;
	return true;
}

/* The IRQ0 and timer invariants after one op, given the state before. */
struct irq_watch {
	unsigned int rises;
	bool interrupting; /* counter 0, after the previous op */
	bool oneshot;	   /* ...in mode 0 or 4 */
	bool oneshot_fired;
};

static void check_irq0(struct fake *f, struct irq_watch *w, unsigned int op,
		       unsigned int i)
{
	struct pit_channel_info ci;

	ck_assert_int_eq(pit_get_channel(f->pit, 0, &ci), 0);
	if (f->rises != w->rises && !(op & OP_TWO_REGIMES)) {
		ck_assert_msg(w->interrupting, "op %u: IRQ0, counter 0 quiet",
			      i);
		ck_assert_msg(!w->oneshot || !w->oneshot_fired,
			      "op %u: second IRQ0 of a one-shot", i);
		ck_assert_msg(!w->oneshot || f->rises - w->rises == 1,
			      "op %u: one-shot IRQ0 twice", i);
		w->oneshot_fired = w->oneshot;
	}
	w->rises = f->rises;
	if (op & OP_CH0_WRITE)
		w->oneshot_fired = false;
	w->interrupting = ch0_interrupting(&ci);
	w->oneshot = ci.mode == 0 || ci.mode == 4;
	if (f->deadline)
		ck_assert_msg(w->interrupting, "op %u: armed, counter 0 quiet",
			      i);
	if (w->interrupting && !w->oneshot)
		ck_assert_msg(f->deadline, "op %u: periodic, not armed", i);
	ck_assert_uint_eq(f->past_deadlines, 0);
	ck_assert(!f->level);
	assert_value_in_range(&ci);
}

/*
 * 50k random port writes, reads, time steps and timer expiries, with the
 * invariants checked after each: counts in range, IRQ0 only from a
 * counter 0 that can interrupt (and once per one-shot), the timer armed
 * only then and never in the past, the line only ever pulsed.
 */
START_TEST(pit_random_ops)
{
	uint64_t seed = 0x8254c0ffee;
	struct fake f;
	struct irq_watch w = {0};

	fx_init(&f);
	for (unsigned int i = 0; i < 50000; i++) {
		unsigned int op = random_op(&f, &seed);

		check_irq0(&f, &w, op, i);
		for (unsigned int ch = 1; ch < 3; ch++) {
			struct pit_channel_info ci;

			ck_assert_int_eq(pit_get_channel(f.pit, ch, &ci), 0);
			assert_value_in_range(&ci);
		}
	}
	assert_pulses_only(&f);
	ck_assert_uint_eq(stats(&f).irqs, f.rises);
	ck_assert_uint_gt(f.rises, 100);
	fx_fini(&f);
}
END_TEST

/* Several threads at once, on the real clock: no deadlock, no torn state. */
struct mt {
	struct pit *pit;
	atomic_uint_fast64_t deadline;
	atomic_uint rises;
	atomic_bool level, stop;
	atomic_uint bad;
};

static uint64_t mt_now(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void mt_arm(void *ctx, uint64_t deadline)
{
	struct mt *m = ctx;

	atomic_store(&m->deadline, deadline);
}

static void mt_irq(void *router, unsigned int line, bool level)
{
	struct mt *m = router;

	if (atomic_exchange(&m->level, level) == level)
		atomic_fetch_add(&m->bad, 1);
	if (level)
		atomic_fetch_add(&m->rises, 1);
}

static void *mt_timer_thread(void *arg)
{
	struct mt *m = arg;
	const struct timespec nap = {0, 20000};

	while (!atomic_load(&m->stop)) {
		uint_fast64_t d = atomic_load(&m->deadline);

		if (d && mt_now(NULL) >= d &&
		    atomic_compare_exchange_strong(&m->deadline, &d, 0))
			pit_fire(m->pit);
		else
			nanosleep(&nap, NULL);
	}
	return NULL;
}

static void *mt_vcpu_thread(void *arg)
{
	struct mt *m = arg;
	uint64_t s = (uint64_t)(uintptr_t)&s | 1;
	const struct io_access ctl = {0x43, 3, 1, 0}, c0 = {0x40, 0, 1, 0};
	const struct io_access p61 = {PIT_PORT61, 0, 1, 1};

	while (!atomic_load(&m->stop)) {
		switch (rnd(&s) % 4) {
		case 0:
			/* now and then: restarts the period */
			if (rnd(&s) % 1000)
				break;
			pit_ops.write(m->pit, &ctl, 0x34);
			pit_ops.write(m->pit, &c0, 0x00);
			pit_ops.write(m->pit, &c0, 0x02 + rnd(&s) % 4);
			break;
		case 1:
			pit_ops.write(m->pit, &ctl, 0x00);
			pit_ops.read(m->pit, &c0);
			pit_ops.read(m->pit, &c0);
			break;
		case 2:
			pit_port61_ops.write(m->pit, &p61, rnd(&s) & 3);
			break;
		default:
			pit_port61_ops.read(m->pit, &p61);
			break;
		}
	}
	return NULL;
}

START_TEST(pit_concurrent_access)
{
	struct mt m = {0};
	const struct pit_clock clock = {mt_now, NULL};
	const struct pit_timer_ops timer = {mt_arm, &m};
	const struct irq_line irq = {mt_irq, &m, PIT_IRQ};
	const struct timespec run = {0, 200000000};
	pthread_t th[3];
	struct pit_stats st;

	ck_assert_int_eq(pit_new(&clock, &timer, &irq, &m.pit), 0);
	pit_reset(m.pit, true);
	ck_assert_int_eq(pthread_create(&th[0], NULL, mt_timer_thread, &m), 0);
	for (int i = 1; i < 3; i++)
		ck_assert_int_eq(
			pthread_create(&th[i], NULL, mt_vcpu_thread, &m), 0);
	nanosleep(&run, NULL);
	atomic_store(&m.stop, true);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	pit_get_stats(m.pit, &st);
	ck_assert_uint_eq(atomic_load(&m.bad), 0);
	ck_assert(!atomic_load(&m.level));
	ck_assert_uint_eq(st.irqs, atomic_load(&m.rises));
	ck_assert_uint_gt(st.irqs, 0);
	pit_ops.destroy(m.pit);
}
END_TEST

/* pit_new() and pit_get_channel() refuse what they cannot use. */
START_TEST(pit_new_rejects_bad_arguments)
{
	const struct pit_clock no_fn = {NULL, NULL};
	struct fake f;
	struct pit *p = NULL;
	struct pit_channel_info ci;

	ck_assert_int_eq(pit_new(NULL, NULL, NULL, &p), -EINVAL);
	ck_assert_int_eq(pit_new(&no_fn, NULL, NULL, &p), -EINVAL);
	fx_init(&f);
	ck_assert_int_eq(pit_get_channel(f.pit, 3, &ci), -EINVAL);
	ck_assert_int_eq(pit_get_channel(f.pit, 0, NULL), -EINVAL);
	fx_fini(&f);
}
END_TEST

/* ---- Snapshots ------------------------------------------------------------
 */

/*
 * The blob's layout (devices/pit.c, version 1), for the tests that break
 * one field at a time.
 */
#define SNAP_SIZE 183
#define SNAP_CH(i) (8 + 46 * (i))
#define SNAP_CW 0
#define SNAP_STATE 1
#define SNAP_FLAGS 2
#define SNAP_LATCH 4
#define SNAP_STATUS 5
#define SNAP_CR 10
#define SNAP_COUNT 14
#define SNAP_BASE 22
#define SNAP_TICK_OFF 30
#define SNAP_RELOAD_AT 38
#define SNAP_SPEAKER 146
#define SNAP_IRQ_EDGE 151
#define SNAP_F_GATE 0x01
#define SNAP_F_WRITE_MSB 0x02
#define SNAP_F_READ_MSB 0x04
#define SNAP_F_PAUSED 0x20
#define SNAP_F_RELOAD 0x40

static int snap_save(struct fake *f, uint8_t buf[SNAP_SIZE])
{
	return pit_ops.save(f->pit, buf, SNAP_SIZE, f->now);
}

static int snap_load(struct fake *f, const void *buf, size_t len)
{
	return pit_ops.load(f->pit, buf, len, f->now);
}

static void put_field(uint8_t *b, size_t off, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_field(const uint8_t *b, size_t off, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes; i++)
		v |= (uint64_t)b[off + i] << (8 * i);
	return v;
}

/*
 * A PIT at hard moments: counter 0 in mode 2 (IRQ0 every 1193 ticks)
 * mid-count with an edge due but not delivered, a latched status and
 * count unread; counter 1 counting in mode 2 with half of a new 16-bit
 * count written; counter 2 in mode 3 with a latched count half read.
 */
static void busy_pit(struct fake *f)
{
	program(f, 0, 2, 1193, false);
	fx_at(f, T0, 1193 * 3 + 100);
	fire_if_due(f);
	program(f, 1, 2, 5000, false);
	pio_out(f, PIT_PORT61, P61_GATE2 | P61_SPEAKER);
	program(f, 2, 3, 777, false);
	fx_at(f, T0, 1193 * 4 + 700);
	pio_out(f, 0x41, 0x34);	     /* LSB of a new count */
	pio_out(f, 0x43, 0xc2);	     /* read-back: count and status of 0 */
	pio_out(f, 0x43, 0x80);	     /* latch counter 2 */
	pio_in(f, 0x42);	     /* its LSB */
	fx_at(f, T0, 1193 * 5 + 50); /* past an edge, not yet fired */
}

/*
 * g, loaded from f at g->now, behaves as f does, shifted in time: the
 * same accesses give the same values, IRQ0 pulses and statistics; the
 * timer deadlines are f's plus g->now - f->now.
 */
static void assert_same_pit(struct fake *f, struct fake *g,
			    unsigned int f_rises)
{
	int64_t delta = (int64_t)(g->now - f->now);
	struct pit_stats fs = stats(f), gs = stats(g);

	ck_assert_uint_eq(f->rises - f_rises, g->rises);
	ck_assert_uint_eq(g->deadline,
			  f->deadline ? f->deadline + (uint64_t)delta : 0);
	ck_assert_mem_eq(&fs, &gs, sizeof(fs));
	for (unsigned int ch = 0; ch < 3; ch++) {
		struct pit_channel_info a, b;

		ck_assert_int_eq(pit_get_channel(f->pit, ch, &a), 0);
		ck_assert_int_eq(pit_get_channel(g->pit, ch, &b), 0);
		ck_assert_mem_eq(&a, &b, sizeof(a));
	}
}

/* The same accesses on f and g, time passing, reads compared. */
static void step_both(struct fake *f, struct fake *g, uint64_t dt)
{
	static const uint16_t ports[] = { 0x40, 0x40, 0x40, 0x41, 0x42, 0x42 };

	f->now += dt;
	g->now += dt;
	fire_if_due(f);
	fire_if_due(g);
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		ck_assert_uint_eq(pio_in(f, ports[i]), pio_in(g, ports[i]));
	/* the refresh toggle follows the host's clock, not the PIT */
	ck_assert_uint_eq(pio_in(f, PIT_PORT61) & ~P61_REFRESH,
			  pio_in(g, PIT_PORT61) & ~P61_REFRESH);
}

START_TEST(pit_snapshot_round_trip_mid_count)
{
	struct fake f, g;
	uint8_t a[SNAP_SIZE], b[SNAP_SIZE];
	unsigned int f_rises;

	fx_init(&f);
	busy_pit(&f);
	f_rises = f.rises;
	ck_assert_int_eq(snap_save(&f, a), SNAP_SIZE);
	fx_init(&g);
	g.now = f.now + 7 * NS_PER_SEC + 123457; /* later, off the tick grid */
	ck_assert_int_eq(snap_load(&g, a, sizeof(a)), 0);
	ck_assert_uint_ne(g.deadline, 0);
	ck_assert_uint_eq(g.deadline, f.deadline + (g.now - f.now));
	/* the due edge arms the timer in the past; no pulse at load */
	ck_assert_uint_lt(g.deadline, g.now);
	ck_assert_uint_eq(g.nr_levels, 0);
	ck_assert_int_eq(snap_save(&g, b), SNAP_SIZE);
	ck_assert_mem_eq(a, b, SNAP_SIZE);
	assert_same_pit(&f, &g, f_rises);

	/* status, latched count LSB and MSB; the rest of the latch */
	ck_assert_uint_eq(pio_in(&g, 0x40), pio_in(&f, 0x40));
	ck_assert_uint_eq(pio_in(&g, 0x40), pio_in(&f, 0x40));
	ck_assert_uint_eq(pio_in(&g, 0x40), pio_in(&f, 0x40));
	ck_assert_uint_eq(pio_in(&g, 0x42), pio_in(&f, 0x42));
	/* the MSB completes counter 1's count: it loads at the period end */
	pio_out(&f, 0x41, 0x12);
	pio_out(&g, 0x41, 0x12);
	for (unsigned int i = 0; i < 40; i++) {
		step_both(&f, &g, 37 * 1000 * (uint64_t)(i + 1));
		assert_same_pit(&f, &g, f_rises);
	}
	ck_assert_uint_gt(g.rises, 5);
	assert_pulses_only(&g);
	fx_fini(&g);
	fx_fini(&f);
}
END_TEST

/*
 * A VM that ran ten days restored on a host whose clock reads less: the
 * counts go on exactly, though the monotonic times cannot be moved back.
 */
START_TEST(pit_snapshot_to_younger_clock)
{
	struct fake f, g;
	uint8_t a[SNAP_SIZE], b[SNAP_SIZE];
	unsigned int f_rises;

	fx_init(&f);
	program(&f, 0, 2, 1193, false);
	pio_out(&f, PIT_PORT61, 0);
	program(&f, 2, 4, 40000, false); /* gate low: paused */
	pio_out(&f, PIT_PORT61, P61_GATE2);
	f.now += 10 * 86400 * NS_PER_SEC + 987654321;
	fire_if_due(&f);
	fx_at(&f, f.now, 500);
	f_rises = f.rises;
	ck_assert_int_eq(snap_save(&f, a), SNAP_SIZE);
	fx_init(&g);
	g.now = 2 * NS_PER_SEC + 424242;
	ck_assert_int_eq(snap_load(&g, a, sizeof(a)), 0);
	ck_assert_int_eq(snap_save(&g, b), SNAP_SIZE);
	ck_assert_mem_eq(a, b, SNAP_SIZE);
	ck_assert_uint_eq(g.deadline, f.deadline - (f.now - g.now));
	for (unsigned int i = 0; i < 30; i++) {
		step_both(&f, &g, 333333 * (uint64_t)(i + 1));
		ck_assert_uint_eq(read_latched(&f, 0), read_latched(&g, 0));
		ck_assert_uint_eq(read_latched(&f, 2), read_latched(&g, 2));
		ck_assert_uint_eq(g.deadline, f.deadline - (f.now - g.now));
		ck_assert_uint_eq(f.rises - f_rises, g.rises);
	}
	fx_fini(&g);
	fx_fini(&f);
}
END_TEST

/* Gate 2 low pausing mode 0, and a mode-3 count waiting for the half
 * period, go on after a load too. */
START_TEST(pit_snapshot_paused_and_deferred)
{
	struct fake f, g;
	uint8_t a[SNAP_SIZE];

	fx_init(&f);
	pio_out(&f, PIT_PORT61, P61_GATE2);
	program(&f, 2, 0, 30000, false);
	fx_at(&f, f.now, 1000);
	pio_out(&f, PIT_PORT61, 0);
	program(&f, 0, 3, 2000, false);
	fx_at(&f, f.now, 300);
	pio_out(&f, 0x40, 0x00);
	pio_out(&f, 0x40, 0x10); /* 4096, at the end of the half-period */
	ck_assert_int_eq(snap_save(&f, a), SNAP_SIZE);
	fx_init(&g);
	g.now = f.now + 3 * NS_PER_SEC + 5;
	ck_assert_int_eq(snap_load(&g, a, sizeof(a)), 0);
	for (unsigned int i = 0; i < 20; i++) {
		step_both(&f, &g, 100000);
		if (i == 10) {
			pio_out(&f, PIT_PORT61, P61_GATE2);
			pio_out(&g, PIT_PORT61, P61_GATE2);
		}
		assert_same_pit(&f, &g, 0);
	}
	fx_fini(&g);
	fx_fini(&f);
}
END_TEST

/*
 * Random programming and time (pit_random_ops' mix); every so often a
 * fresh PIT is loaded from a snapshot, later, and both take the same
 * random accesses for a while, compared after each.
 */
START_TEST(pit_snapshot_random_round_trips)
{
	uint64_t seed = 0x5a4e5ull;
	struct fake f;

	fx_init(&f);
	pit_reset(f.pit, true);
	for (unsigned int round = 0; round < 150; round++) {
		uint8_t a[SNAP_SIZE], b[SNAP_SIZE];
		uint64_t gseed;
		unsigned int f_rises;
		struct fake g;

		for (unsigned int i = 0; i < 40; i++)
			random_op(&f, &seed);
		f_rises = f.rises;
		ck_assert_int_eq(snap_save(&f, a), SNAP_SIZE);
		fx_init(&g);
		g.now = f.now + rnd(&seed) % (100 * NS_PER_SEC);
		ck_assert_msg(snap_load(&g, a, sizeof(a)) == 0, "round %u",
			      round);
		ck_assert_int_eq(snap_save(&g, b), SNAP_SIZE);
		ck_assert_mem_eq(a, b, SNAP_SIZE);
		gseed = seed;
		for (unsigned int i = 0; i < 30; i++) {
			uint64_t s2 = gseed;

			random_op(&f, &gseed);
			random_op(&g, &s2);
			assert_same_pit(&f, &g, f_rises);
		}
		fx_fini(&g);
	}
	fx_fini(&f);
}
END_TEST

/* A load refused: -EINVAL and the PIT as it was, timer and line too. */
static void assert_refused(struct fake *g, const uint8_t *blob, size_t len,
			   const char *what)
{
	uint8_t before[SNAP_SIZE], after[SNAP_SIZE];
	unsigned int arms = g->nr_arms, levels = g->nr_levels;

	ck_assert_int_eq(snap_save(g, before), SNAP_SIZE);
	ck_assert_msg(snap_load(g, blob, len) == -EINVAL, "%s accepted", what);
	ck_assert_int_eq(snap_save(g, after), SNAP_SIZE);
	ck_assert_msg(!memcmp(before, after, SNAP_SIZE), "%s: changed", what);
	ck_assert_uint_eq(g->nr_arms, arms);
	ck_assert_uint_eq(g->nr_levels, levels);
}

START_TEST(pit_snapshot_truncated_refused)
{
	struct fake f, g;
	uint8_t a[SNAP_SIZE + 1] = { 0 };

	fx_init(&f);
	busy_pit(&f);
	ck_assert_int_eq(pit_ops.save(f.pit, a, SNAP_SIZE - 1, f.now), -ENOSPC);
	ck_assert_int_eq(snap_save(&f, a), SNAP_SIZE);
	fx_init(&g);
	program(&g, 0, 3, 999, false);
	g.now += 5000;
	for (size_t len = 0; len < SNAP_SIZE; len++)
		assert_refused(&g, a, len, "truncated");
	assert_refused(&g, a, SNAP_SIZE + 1, "too long");
	assert_refused(&g, NULL, SNAP_SIZE, "NULL");
	fx_fini(&g);
	fx_fini(&f);
}
END_TEST

/* Each field out of its range, or disagreeing with another, is refused. */
START_TEST(pit_snapshot_bad_fields_refused)
{
	static const struct {
		const char *what;
		size_t off;
		unsigned int bytes;
		uint64_t xor, set; /* value ^ xor, or set if xor is 0 */
	} cases[] = {
		{ "magic", 0, 1, 1, 0 },
		{ "version", 4, 2, 0, 2 },
		{ "counters", 6, 2, 0, 2 },
		{ "RW 00 (latch) as a format", SNAP_CH(0) + SNAP_CW, 1, 0,
		  0x04 },
		{ "control word bit 6", SNAP_CH(0) + SNAP_CW, 1, 0x40, 0 },
		{ "state 3", SNAP_CH(0) + SNAP_STATE, 1, 0, 3 },
		{ "state 255", SNAP_CH(1) + SNAP_STATE, 1, 0, 255 },
		{ "unknown flag", SNAP_CH(0) + SNAP_FLAGS, 1, 0x80, 0 },
		{ "gate 0 low", SNAP_CH(0) + SNAP_FLAGS, 1, SNAP_F_GATE, 0 },
		{ "gate 1 low", SNAP_CH(1) + SNAP_FLAGS, 1, SNAP_F_GATE, 0 },
		{ "paused, gate high", SNAP_CH(0) + SNAP_FLAGS, 1,
		  SNAP_F_PAUSED, 0 },
		{ "latch LSB of RW 11", SNAP_CH(2) + SNAP_LATCH, 1, 0, 1 },
		{ "latch 4", SNAP_CH(2) + SNAP_LATCH, 1, 0, 4 },
		{ "status not the control word", SNAP_CH(0) + SNAP_STATUS, 1, 2,
		  0 },
		{ "count 0", SNAP_CH(0) + SNAP_COUNT, 4, 0, 0 },
		{ "count 65537", SNAP_CH(0) + SNAP_COUNT, 4, 0, 0x10001 },
		{ "count ~0", SNAP_CH(2) + SNAP_COUNT, 4, 0, 0xffffffff },
		{ "CR 0", SNAP_CH(0) + SNAP_CR, 4, 0, 0 },
		{ "armed in mode 2", SNAP_CH(1) + SNAP_STATE, 1, 0, 1 },
		{ "base in the future", SNAP_CH(0) + SNAP_BASE, 8, 0, 1 },
		{ "base a second back", SNAP_CH(0) + SNAP_BASE, 8, 0,
		  (uint64_t) - (int64_t)NS_PER_SEC },
		{ "tick offset huge", SNAP_CH(0) + SNAP_TICK_OFF, 8, 0,
		  1ull << 62 },
		{ "tick offset INT64_MIN", SNAP_CH(0) + SNAP_TICK_OFF, 8, 0,
		  1ull << 63 },
		{ "reload pending at 0", SNAP_CH(0) + SNAP_FLAGS, 1,
		  SNAP_F_RELOAD, 0 },
		{ "reload far ahead", SNAP_CH(1) + SNAP_RELOAD_AT, 8, 0,
		  1ull << 40 },
		{ "speaker 2", SNAP_SPEAKER, 1, 0, 2 },
		{ "no IRQ0 edge, periodic", SNAP_IRQ_EDGE, 8, 0, ~0ull },
		{ "IRQ0 edge off the period", SNAP_IRQ_EDGE, 8, 1, 0 },
		{ "IRQ0 edge far ahead", SNAP_IRQ_EDGE, 8, 0, 1193ull << 30 },
		{ "IRQ0 edge 0", SNAP_IRQ_EDGE, 8, 0, 0 },
	};
	struct fake f, g;
	uint8_t a[SNAP_SIZE], b[SNAP_SIZE];

	fx_init(&f);
	busy_pit(&f);
	/* counter 1: the count's MSB written, loaded at the period's end */
	pio_out(&f, 0x41, 0x12);
	ck_assert_int_eq(snap_save(&f, a), SNAP_SIZE);
	ck_assert_uint_eq(a[SNAP_CH(1) + SNAP_FLAGS] & SNAP_F_RELOAD,
			  SNAP_F_RELOAD);
	fx_init(&g);
	g.now = f.now;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = get_field(a, cases[i].off, cases[i].bytes);

		memcpy(b, a, sizeof(b));
		v = cases[i].xor ? v ^ cases[i].xor : cases[i].set;
		put_field(b, cases[i].off, v, cases[i].bytes);
		assert_refused(&g, b, sizeof(b), cases[i].what);
	}
	/* the flip-flops move only with RW = 11 */
	memcpy(b, a, sizeof(b));
	b[SNAP_CH(1) + SNAP_CW] = 0x14;
	ck_assert_int_eq(snap_load(&g, b, sizeof(b)), 0);
	b[SNAP_CH(1) + SNAP_FLAGS] |= SNAP_F_WRITE_MSB;
	assert_refused(&g, b, sizeof(b), "write flip-flop, RW LSB");
	b[SNAP_CH(1) + SNAP_FLAGS] ^= SNAP_F_WRITE_MSB | SNAP_F_READ_MSB;
	assert_refused(&g, b, sizeof(b), "read flip-flop, RW LSB");
	/* a BCD counter counts at most 10^4 */
	memcpy(b, a, sizeof(b));
	put_field(b, SNAP_CH(2) + SNAP_COUNT, 20000, 4);
	ck_assert_int_eq(snap_load(&g, b, sizeof(b)), 0);
	b[SNAP_CH(2) + SNAP_CW] |= 1;
	assert_refused(&g, b, sizeof(b), "BCD count over 10000");
	/* the unbroken blob loads */
	ck_assert_int_eq(snap_load(&g, a, sizeof(a)), 0);
	fx_fini(&g);
	fx_fini(&f);
}
END_TEST

/*
 * Thousands of mutated blobs (bit flips, random bytes, random fields):
 * never a crash (run it under ASan/UBSan); a refused one leaves the PIT
 * unchanged; an accepted one is a state save writes back byte for byte,
 * and the PIT runs on from it with counts in range.
 */
START_TEST(pit_snapshot_fuzz)
{
	uint64_t seed = 0xf00d8254ull;
	uint8_t valid[8][SNAP_SIZE];
	unsigned int accepted = 0;
	struct fake f, g;

	fx_init(&f);
	for (unsigned int i = 0; i < 8; i++) {
		for (unsigned int k = 0; k < 60; k++)
			random_op(&f, &seed);
		if (i == 0)
			busy_pit(&f);
		ck_assert_int_eq(snap_save(&f, valid[i]), SNAP_SIZE);
	}
	fx_init(&g);
	g.now = f.now;
	for (unsigned int iter = 0; iter < 6000; iter++) {
		uint8_t b[SNAP_SIZE], out[SNAP_SIZE];
		unsigned int kind = (unsigned int)(rnd(&seed) % 4);

		memcpy(b, valid[rnd(&seed) % 8], sizeof(b));
		if (kind == 0) {
			for (unsigned int n = 1 + rnd(&seed) % 3; n; n--)
				b[rnd(&seed) % SNAP_SIZE] ^=
					(uint8_t)(1u << (rnd(&seed) % 8));
		} else if (kind == 1) {
			b[8 + rnd(&seed) % (SNAP_SIZE - 8)] =
				(uint8_t)rnd(&seed);
		} else if (kind == 2) {
			for (size_t k = 8; k < SNAP_SIZE; k++)
				b[k] = (uint8_t)rnd(&seed);
		} else {
			size_t off = 8 + rnd(&seed) % (SNAP_SIZE - 16);

			put_field(b, off, rnd(&seed) % 70000, 4);
		}
		if (snap_load(&g, b, sizeof(b)) != 0) {
			assert_refused(&g, b, sizeof(b), "mutated");
			continue;
		}
		accepted++;
		ck_assert_int_eq(snap_save(&g, out), SNAP_SIZE);
		for (size_t k = 0; k < SNAP_SIZE; k++)
			ck_assert_msg(b[k] == out[k],
				      "iteration %u: byte %zu saved as %#x, "
				      "not %#x",
				      iter, k, out[k], b[k]);
		for (unsigned int k = 0; k < 3; k++) {
			struct pit_channel_info ci;

			random_op(&g, &seed);
			for (unsigned int ch = 0; ch < 3; ch++) {
				ck_assert_int_eq(
					pit_get_channel(g.pit, ch, &ci), 0);
				assert_value_in_range(&ci);
			}
		}
		g.now = f.now;
		/* back to a known state for the next blob */
		ck_assert_int_eq(snap_load(&g, valid[0], SNAP_SIZE), 0);
	}
	ck_assert_uint_gt(accepted, 100);
	fx_fini(&g);
	fx_fini(&f);
}
END_TEST

UNIT_SUITE("pit", pit_mode_waveforms, pit_counting_starts_at_count_write,
	   pit_rw_lsb_only, pit_rw_msb_only, pit_rw_word_flip_flop,
	   pit_rw_interleaved_read_write, pit_mode0_first_byte_stops_counting,
	   pit_latch_holds_count, pit_latch_again_ignored_until_read,
	   pit_readback_latches_several_counts, pit_readback_status_fields,
	   pit_readback_status_before_count, pit_readback_status_latched_once,
	   pit_null_count_until_loaded, pit_bcd_counting,
	   pit_count_zero_is_largest, pit_modes_6_and_7_alias_2_and_3,
	   pit_gate2_pauses_mode0, pit_gate2_triggers_mode1,
	   pit_gate2_triggers_mode5, pit_gate2_restarts_periodic_modes,
	   pit_port61_bits, pit_port61_out2, pit_port61_refresh_toggles,
	   pit_linux_tsc_calibration, pit_linux_quick_calibration_reads,
	   pit_irq0_mode2_periodic, pit_irq0_mode3_periodic,
	   pit_irq0_pulse_shape, pit_irq0_mode0_once, pit_irq0_mode4_strobe,
	   pit_irq0_modes_1_and_5_never_interrupt,
	   pit_irq0_lost_ticks_not_reinjected, pit_irq0_short_period_clamped,
	   pit_irq0_reprogram_rearms, pit_irq0_late_edge_delivered_on_reprogram,
	   pit_irq0_mode2_new_count_at_period_end,
	   pit_irq0_mode3_new_count_at_half_cycle, pit_irq0_early_fire_rearms,
	   pit_mode3_new_count_at_half_cycle, pit_power_on_state,
	   pit_firmware_reset, pit_control_port_reads_float,
	   pit_wide_accesses_ignored, pit_garbage_writes, pit_random_ops,
	   pit_concurrent_access, pit_new_rejects_bad_arguments,
	   pit_snapshot_round_trip_mid_count, pit_snapshot_to_younger_clock,
	   pit_snapshot_paused_and_deferred, pit_snapshot_random_round_trips,
	   pit_snapshot_truncated_refused, pit_snapshot_bad_fields_refused,
	   pit_snapshot_fuzz)
