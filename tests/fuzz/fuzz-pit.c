// SPDX-License-Identifier: MIT
/* libFuzzer harness: the 8254 PIT and port 0x61 on a fake clock and timer. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "pit.h"

/*
 * Input: a configuration byte (bit 0: pit_reset(firmware), bit 1: no host
 * timer, bit 2: no IRQ0 line), then operations, one opcode byte each
 * followed by its operands. Time only moves through OP_ADVANCE and the
 * timer operations, so every run is reproducible.
 */
enum op {
	OP_WRITE,    /* offset selector, len selector, value */
	OP_READ,     /* offset selector, len selector */
	OP_WRITE_61, /* value */
	OP_READ_61,
	OP_ADVANCE,    /* scale byte, u16 amount */
	OP_FIRE,       /* the host timer expires (at its deadline, if later) */
	OP_FIRE_EARLY, /* pit_fire() now: "early or spuriously" */
	OP_CHANNEL,    /* channel byte: pit_get_channel() and checks */
	OP_RESET,      /* firmware byte (bit 0) */
	OP_PROGRAM,    /* control word, count LSB, count MSB */
	OP_RUN,	       /* fires at four deadlines in a row */
	NR_OPS
};

#define T0 1000000000ull /* the clock starts at 1 s, as the unit tests */
/* Far below where ch_tick_time() saturates, yet years of guest time. */
#define CLOCK_MAX (1ull << 62)

struct harness {
	struct pit *pit;
	bool has_timer, has_irq;
	uint64_t now;
	uint64_t deadline; /* the host timer: armed for this, 0: not armed */
	uint64_t expired;  /* during pit_fire(): the deadline that passed */
	bool level;	   /* IRQ0 */
	unsigned int irqs; /* pulses so far */
	uint8_t port61;	   /* the last value written to port 0x61 */
};

static uint64_t h_now(void *ctx)
{
	return ((struct harness *)ctx)->now;
}

/*
 * pit.h: absolute deadlines, 0 disarms. A deadline at or before the clock
 * would be a timer that fires at once, i.e. an edge the PIT should have
 * raised itself while it had the clock in hand.
 */
static void h_arm(void *ctx, uint64_t deadline)
{
	struct harness *h = ctx;

	FUZZ_CHECK(deadline == 0 || deadline > h->now);
	h->deadline = deadline;
}

/*
 * IRQ0 is a pulse (true, then false). It is only raised for an edge that
 * is due, and the PIT armed the timer for every edge to come, so a pulse
 * without a timer armed for now or earlier is an edge nobody scheduled.
 */
static void h_irq(void *router, unsigned int line, bool level)
{
	struct harness *h = router;

	FUZZ_CHECK(line == PIT_IRQ);
	FUZZ_CHECK(level != h->level);
	h->level = level;
	if (!level)
		return;
	h->irqs++;
	if (h->has_timer)
		FUZZ_CHECK((h->deadline && h->deadline <= h->now) ||
			   (h->expired && h->expired <= h->now));
}

static uint64_t pick_offset(struct fuzz_in *in)
{
	uint8_t b = fuzz_u8(in);

	return b < 0xf0 ? b % PIT_REGION_SIZE : b;
}

static void do_write(struct harness *h, uint64_t off, unsigned int len,
		     uint64_t val)
{
	const struct io_access a = { PIT_BASE + off, off, len, 0 };

	pit_ops.write(h->pit, &a, val);
}

static uint64_t do_read(struct harness *h, uint64_t off, unsigned int len)
{
	const struct io_access a = { PIT_BASE + off, off, len, 0 };
	uint64_t v = pit_ops.read(h->pit, &a);

	if (len != 1 || off >= PIT_REGION_SIZE)
		FUZZ_CHECK(v == io_all_ones(len)); /* ignored, all ones */
	else
		FUZZ_CHECK(v <= 0xff);
	return v;
}

static void advance(struct harness *h, uint64_t ns)
{
	h->now = ns > CLOCK_MAX - h->now ? CLOCK_MAX : h->now + ns;
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
	return ((v >> 12) & 0xf) * 1000 + ((v >> 8) & 0xf) * 100 +
	       ((v >> 4) & 0xf) * 10 + (v & 0xf);
}

static void check_channel(struct harness *h, unsigned int ch)
{
	struct pit_channel_info info;
	int r = pit_get_channel(h->pit, ch, &info);

	if (ch > 2) {
		FUZZ_CHECK(r < 0);
		return;
	}
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(info.mode <= 5);
	FUZZ_CHECK(info.rw >= 1 && info.rw <= 3);
	FUZZ_CHECK(info.initial_count >= 1 && info.initial_count <= 0x10000);
	if (ch != 2)
		FUZZ_CHECK(info.gate); /* gates 0 and 1 are tied high */
	else
		FUZZ_CHECK(info.gate == (h->port61 & 1));
	if (!info.counting)
		return;
	/* a count in use was decoded in the counter's current format */
	FUZZ_CHECK(info.initial_count <= (info.bcd ? 10000u : 0x10000u));
	if (info.bcd)
		FUZZ_CHECK(bcd_valid(info.value));
	/* mode 3 counts by two from an even number (N, or N - 1 if odd) */
	if (info.mode == 3)
		FUZZ_CHECK(
			!((info.bcd ? bcd_value(info.value) : info.value) & 1));
}

/* Port 0x61 against the counter it reflects, at the same instant. */
static void check_port61(struct harness *h)
{
	const struct io_access a = { PIT_PORT61, 0, 1, 0 };
	struct pit_channel_info info;
	uint64_t v = pit_port61_ops.read(h->pit, &a);

	FUZZ_CHECK(v <= 0xff);
	FUZZ_CHECK(!(v & 0xcc)); /* parity, IOCHK and bits 2-3 read 0 */
	FUZZ_CHECK((v & 3) == (h->port61 & 3));
	FUZZ_CHECK(pit_get_channel(h->pit, 2, &info) == 0);
	FUZZ_CHECK(!!(v & 0x20) == info.out);
}

/* The host timer expires: the clock is at (or past) its deadline. */
static void fire(struct harness *h)
{
	if (h->deadline > h->now)
		h->now = h->deadline;
	/* an expired timerfd is no longer armed */
	h->expired = h->deadline;
	h->deadline = 0;
	pit_fire(h->pit);
	h->expired = 0;
}

/*
 * With counter 0 counting periodically (mode 2 or 3, count of at least 2)
 * and left alone, following the timer must give an IRQ0 within a few
 * expiries: the first may be a deferred reload, the next is an edge.
 */
static bool ch0_periodic(struct harness *h)
{
	struct pit_channel_info info;

	FUZZ_CHECK(pit_get_channel(h->pit, 0, &info) == 0);
	return info.counting && (info.mode == 2 || info.mode == 3) &&
	       info.initial_count >= 2;
}

/*
 * (A deferred reload may bring in a count of 1, which never interrupts:
 * hence periodic before and after.)
 */
static void run(struct harness *h)
{
	unsigned int irqs = h->irqs;
	bool periodic = ch0_periodic(h);

	for (int i = 0; i < 4; i++) {
		uint64_t before = h->deadline;

		if (!before)
			break;
		fire(h);
		/* each deadline is later than the one it replaces */
		FUZZ_CHECK(!h->deadline || h->deadline > before);
	}
	if (periodic && ch0_periodic(h) && h->has_timer && h->has_irq &&
	    h->now < CLOCK_MAX / 2)
		FUZZ_CHECK(h->irqs > irqs);
}

static void do_program(struct harness *h, struct fuzz_in *in)
{
	uint8_t cw = fuzz_u8(in), lsb = fuzz_u8(in), msb = fuzz_u8(in);
	unsigned int ch = (cw >> 6) % 3;

	do_write(h, 3, 1, cw);
	switch ((cw >> 4) & 3) {
	case 1:
		do_write(h, ch, 1, lsb);
		break;
	case 2:
		do_write(h, ch, 1, msb);
		break;
	case 3:
		do_write(h, ch, 1, lsb);
		do_write(h, ch, 1, msb);
		break;
	}
}

static void run_op(struct harness *h, struct fuzz_in *in)
{
	static const uint64_t scale[] = { 1, 1000, 1000000, 838, 1000000000 };
	uint64_t off;
	unsigned int len;
	uint8_t b;

	switch ((enum op)(fuzz_u8(in) % NR_OPS)) {
	case OP_WRITE:
		off = pick_offset(in);
		len = fuzz_len(in);
		do_write(h, off, len, fuzz_u8(in));
		break;
	case OP_READ:
		off = pick_offset(in);
		len = fuzz_len(in);
		do_read(h, off, len);
		break;
	case OP_WRITE_61: {
		const struct io_access a = { PIT_PORT61, 0, 1, 0 };

		h->port61 = fuzz_u8(in);
		pit_port61_ops.write(h->pit, &a, h->port61);
		break;
	}
	case OP_READ_61:
		check_port61(h);
		break;
	case OP_ADVANCE:
		b = fuzz_u8(in);
		advance(h, scale[b % FUZZ_ARRAY_SIZE(scale)] * fuzz_u16(in));
		break;
	case OP_FIRE:
		fire(h);
		break;
	case OP_FIRE_EARLY:
		pit_fire(h->pit);
		break;
	case OP_CHANNEL:
		check_channel(h, fuzz_u8(in) % 4);
		break;
	case OP_RESET:
		pit_reset(h->pit, fuzz_u8(in) & 1);
		h->port61 = 0; /* gate 2 and the speaker off */
		break;
	case OP_PROGRAM:
		do_program(h, in);
		break;
	case OP_RUN:
		run(h);
		break;
	case NR_OPS:
		break;
	}
	FUZZ_CHECK(!h->level); /* pulses end low */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct harness h;
	struct fuzz_in in;
	uint8_t cfg;

	fuzz_in_init(&in, data, size);
	cfg = fuzz_u8(&in);
	memset(&h, 0, sizeof(h));
	h.now = T0;
	h.has_timer = !(cfg & 2);
	h.has_irq = !(cfg & 4);
	{
		const struct pit_clock clock = { h_now, &h };
		const struct pit_timer_ops timer = { h_arm, &h };
		const struct irq_line irq0 = { h_irq, &h, PIT_IRQ };

		FUZZ_CHECK(pit_new(&clock, h.has_timer ? &timer : NULL,
				   h.has_irq ? &irq0 : NULL, &h.pit) == 0);
	}
	if (cfg & 1)
		pit_reset(h.pit, true);
	while (fuzz_more(&in))
		run_op(&h, &in);
	pit_ops.destroy(h.pit);
	return 0;
}
