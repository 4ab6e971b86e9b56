// SPDX-License-Identifier: MIT
/* libFuzzer harness: the MC146818A RTC/CMOS on a fake clock and timer. */
#include <stdbool.h>
#include <stdint.h>

#include "cmos.h"
#include "fuzz.h"

/*
 * Input: the wall clock (8 bytes, any value), then operations, one opcode
 * byte each followed by its operands. Time moves only through OP_ADVANCE
 * and OP_FIRE, so every run is reproducible.
 */
enum op {
	OP_INDEX,   /* byte to port 0x70 */
	OP_WRITE,   /* byte to port 0x71 */
	OP_READ,    /* port 0x71, checked */
	OP_ADVANCE, /* scale byte, u16 amount */
	OP_FIRE,    /* the host timer expires (at its deadline, if later) */
	OP_WIDE,    /* width selector, offset bit, value: ignored access */
	OP_RESET,
	NR_OPS
};

#define T0 1000000000ull
#define CLOCK_MAX (1ull << 62)

struct harness {
	struct cmos *c;
	uint64_t now;
	int64_t wall;
	uint64_t deadline;
	bool level;	/* IRQ 8 */
	bool alarm;	/* the alarm output (ACPI RTC_STS) */
	uint8_t port70; /* the last byte written to port 0x70 */
};

static uint64_t h_now(void *ctx)
{
	return ((struct harness *)ctx)->now;
}

static int64_t h_wall(void *ctx)
{
	return ((struct harness *)ctx)->wall;
}

/* cmos.h: absolute deadlines in the future, 0 disarms. */
static void h_arm(void *ctx, uint64_t deadline)
{
	struct harness *h = ctx;

	FUZZ_CHECK(deadline == 0 || deadline > h->now);
	h->deadline = deadline;
}

/* The line is only ever set to a new level. */
static void h_irq(void *router, unsigned int line, bool level)
{
	struct harness *h = router;

	FUZZ_CHECK(line == CMOS_IRQ);
	FUZZ_CHECK(level != h->level);
	h->level = level;
}

/* The alarm output: changes only, and only ever up with IRQ 8 (AF is
 * one of IRQF's sources). */
static void h_alarm(void *router, unsigned int line, bool level)
{
	struct harness *h = router;

	FUZZ_CHECK(level != h->alarm);
	h->alarm = level;
}

static uint64_t port(struct harness *h, unsigned int off, unsigned int len,
		     bool write, uint64_t v)
{
	const struct io_access a = { CMOS_BASE + off, off, len, 0 };

	if (write)
		cmos_ops.write(h->c, &a, v);
	else
		v = cmos_ops.read(h->c, &a);
	return v;
}

static uint8_t read_index(struct harness *h, uint8_t index)
{
	uint8_t v;

	port(h, 0, 1, true, index);
	v = (uint8_t)port(h, 1, 1, false, 0);
	port(h, 0, 1, true, h->port70);
	return v;
}

static bool is_bcd(uint8_t b)
{
	return (b & 0xf) <= 9 && b >> 4 <= 9;
}

/*
 * A read of the indexed byte: register C's low nibble is 0, IRQF is set
 * while IRQ 8 is high and the read lowers it; D is 0x80; while the clock
 * runs (neither SET nor the divider holds it) a time byte in BCD mode is
 * BCD, whatever was written before.
 */
static void op_read(struct harness *h)
{
	unsigned int index = h->port70 & 0x7f;
	bool was_high = h->level;
	uint8_t a = read_index(h, CMOS_REG_A), b = read_index(h, CMOS_REG_B);
	uint8_t v = (uint8_t)port(h, 1, 1, false, 0);
	bool runs = !(b & 0x80) && (a & 0x70) <= 0x20;

	if (index == CMOS_REG_C) {
		FUZZ_CHECK(!(v & 0x0f));
		FUZZ_CHECK(!was_high || (v & 0x80));
		FUZZ_CHECK(!h->level);
		FUZZ_CHECK(port(h, 1, 1, false, 0) == 0); /* cleared */
	} else if (index == CMOS_REG_D) {
		FUZZ_CHECK(v == 0x80);
	} else if (runs && !(b & 0x04) &&
		   (index <= 0x09 || index == CMOS_CENTURY) && index != 1 &&
		   index != 3 && index != 5) {
		FUZZ_CHECK(is_bcd(index == 4 ? (uint8_t)(v & 0x7f) : v));
	}
}

static void op_advance(struct harness *h, struct fuzz_in *in)
{
	unsigned int scale = fuzz_u8(in) % 5;
	uint64_t amount = fuzz_u16(in);
	static const uint64_t unit[] = { 1, 1000, 1000000, 1000000000,
					 3600000000000ull };

	if (h->now + amount * unit[scale] < CLOCK_MAX)
		h->now += amount * unit[scale];
}

static void op_wide(struct harness *h, struct fuzz_in *in)
{
	static const unsigned int lens[] = { 2, 4, 8 };
	unsigned int len = lens[fuzz_u8(in) % 3];
	unsigned int off = fuzz_u8(in) & 1;
	uint64_t v = fuzz_u64(in);

	FUZZ_CHECK(port(h, off, len, false, 0) == io_all_ones(len));
	port(h, off, len, true, v);
	/* Ignored: the index did not move. */
	FUZZ_CHECK(cmos_nmi_masked(h->c) == !!(h->port70 & 0x80));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct harness h = { .now = T0 };
	struct fuzz_in in;
	struct cmos_config cfg = {
		.clock = { h_now, h_wall, &h },
		.timer = { h_arm, &h },
		.irq = { h_irq, &h, CMOS_IRQ },
		.alarm = { h_alarm, &h, 0 },
		.ram_below_4g = 64ull << 20,
		.cpus = 1,
	};

	fuzz_in_init(&in, data, size);
	/* Keep wall / 1e9 + elapsed seconds far from overflow. */
	h.wall = (int64_t)fuzz_u64(&in) / 4;
	if (cmos_new(&cfg, &h.c))
		return 0;
	while (fuzz_more(&in)) {
		switch (fuzz_u8(&in) % NR_OPS) {
		case OP_INDEX:
			h.port70 = fuzz_u8(&in);
			port(&h, 0, 1, true, h.port70);
			FUZZ_CHECK(cmos_nmi_masked(h.c) == !!(h.port70 & 0x80));
			break;
		case OP_WRITE:
			port(&h, 1, 1, true, fuzz_u8(&in));
			break;
		case OP_READ:
			op_read(&h);
			break;
		case OP_ADVANCE:
			op_advance(&h, &in);
			break;
		case OP_FIRE:
			if (h.deadline > h.now)
				h.now = h.deadline;
			h.deadline = 0;
			cmos_fire(h.c);
			break;
		case OP_WIDE:
			op_wide(&h, &in);
			break;
		default:
			cmos_ops.reset(h.c);
			h.port70 = 0;
			FUZZ_CHECK(!h.level && !cmos_nmi_masked(h.c));
			FUZZ_CHECK(!h.alarm);
			break;
		}
		FUZZ_CHECK(!h.alarm || h.level);
	}
	cmos_ops.destroy(h.c);
	return 0;
}
