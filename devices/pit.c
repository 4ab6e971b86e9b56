// SPDX-License-Identifier: MIT
/* Intel 8254 PIT: counters 0-2 and port 0x61, computed from elapsed time. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "fdt_machine.h"
#include "pit.h"

/*
 * Section names below are those of the Intel 8254 Programmable Interval
 * Timer datasheet (order number 231164). Port 0x61 follows the IBM PC/AT
 * Technical Reference (system control port B).
 *
 * The model keeps no host timer: a counter's value and OUT are functions
 * of the time elapsed since its count was loaded, read from the clock at
 * each access (as in QEMU's hw/timer/i8254*.c and KVM's
 * arch/x86/kvm/i8254.c). One simplification, shared with both: a count is
 * in the counting element (CE) at the instant the guest writes it, not
 * one CLK pulse (838 ns) later as the datasheet's mode descriptions say
 * ("for an initial count of N, OUT does not go high until N + 1 CLK
 * pulses"). A guest cannot resolve that difference through port I/O exits
 * that take microseconds each.
 */

#define NS_PER_SEC 1000000000ull

/* Control Word Format: SC1 SC0 RW1 RW0 M2 M1 M0 BCD. */
#define CW_SC_SHIFT 6
#define CW_RW_SHIFT 4
#define CW_MODE_SHIFT 1
#define CW_BCD 0x01
#define CW_PROGRAM_MASK 0x3f /* what the status byte echoes */
#define SC_READ_BACK 3

/* Read-Back Command Format: 1 1 /COUNT /STATUS CNT2 CNT1 CNT0 0. */
#define RB_NO_COUNT 0x20
#define RB_NO_STATUS 0x10
#define RB_CNT0 0x02

/* Status Byte: OUTPUT, NULL COUNT, then the control word's bits 5-0. */
#define STATUS_OUT 0x80
#define STATUS_NULL_COUNT 0x40

/* RW1 RW0: the access format of a counter (00 is the latch command). */
enum pit_rw {
	RW_LATCH = 0,
	RW_LSB = 1,
	RW_MSB = 2,
	RW_WORD = 3, /* LSB then MSB */
};

/* Port 0x61 (PC/AT port B). Bits 2, 3 and 6, 7 (parity/IOCHK) read 0. */
#define P61_GATE2 0x01
#define P61_SPEAKER 0x02
#define P61_REFRESH 0x10
#define P61_OUT2 0x20

/*
 * The refresh request toggle (bit 4) follows the AT's DRAM refresh, which
 * BIOSes pace with counter 1 in mode 2 with count 18: a toggle every 18
 * PIT clocks (15.09 us). It is derived from the clock rather than from
 * counter 1, as KVM does (every 2^14 ns), so that delay loops counting
 * toggles work whatever a guest did to counter 1. QEMU toggles it on each
 * read instead, which makes such loops end too early.
 */
#define REFRESH_TICKS 18

/*
 * Ticks at or above PIT_MIN_IRQ_PERIOD_NS; periodic IRQ0 edges are kept at
 * a multiple of the counter's period that is at least this long.
 */
#define MIN_IRQ_PERIOD_TICKS                                                   \
	((PIT_MIN_IRQ_PERIOD_NS * (uint64_t)PIT_FREQ_HZ + NS_PER_SEC - 1) /    \
	 NS_PER_SEC)

#define NO_EDGE UINT64_MAX

enum pit_ch_state {
	CH_IDLE,  /* control word written, no count yet: not counting */
	CH_ARMED, /* modes 1 and 5: count written, waiting for a trigger */
	CH_RUN,	  /* counting (or, gate low in modes 0, 2, 3, 4, paused) */
};

struct pit_channel {
	/* programming, from the last control word */
	uint8_t cw;   /* its bits 5-0, echoed by the status byte */
	uint8_t mode; /* 0-5 */
	uint8_t rw;   /* enum pit_rw, never RW_LATCH */
	bool bcd;
	bool gate;

	/* the read/write logic */
	bool write_msb;	   /* write flip-flop: the next byte is the MSB */
	bool read_msb;	   /* read flip-flop, for unlatched reads */
	uint8_t write_lsb; /* the first byte of a two-byte count */
	uint8_t latch;	   /* bytes of the output latch left: enum pit_rw */
	uint16_t latched;  /* the output latch (OL) */
	bool status_latched;
	uint8_t status;
	bool null_count; /* CR written but not yet loaded into the CE */

	/* counting */
	enum pit_ch_state state;
	uint32_t cr;	/* count register: the last count written */
	uint32_t count; /* the initial count the CE runs through */
	uint16_t hold;	/* what reads give while not counting */
	/*
	 * Ticks into the count ("d") are tick_off + the ticks elapsed since
	 * base_ns, or tick_off alone while paused. A deferred load moves
	 * tick_off, not base_ns, so the phase stays that of the CLK.
	 */
	uint64_t base_ns;
	int64_t tick_off;
	bool paused;	     /* gate low in modes 0, 2, 3, 4 */
	bool reload_pending; /* modes 2, 3: CR goes in at reload_at */
	uint64_t reload_at;  /* in ticks into the count */
	uint32_t gen;	     /* bumped whenever a count is started */
};

struct pit {
	pthread_mutex_t lock;
	struct pit_clock clock;
	struct pit_timer_ops timer;
	struct irq_line irq0;
	bool firmware; /* what pit_ops.reset goes back to */

	struct pit_channel ch[3];
	bool speaker; /* port 0x61 bit 1: only stored */

	uint64_t irq_edge; /* counter 0's next undelivered IRQ0 edge (ticks) */
	uint32_t irq_gen;  /* ch[0].gen that irq_edge was computed for */
	uint64_t armed;	   /* the deadline last given to arm(), 0: none */
	struct pit_stats stats;
};

/* Time conversions, rounded so that tick_ns(t) is the first ns of tick t. */
static uint64_t ns_to_ticks(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * PIT_FREQ_HZ / NS_PER_SEC);
}

static uint64_t ticks_to_ns(uint64_t ticks)
{
	unsigned __int128 ns =
		((unsigned __int128)ticks * NS_PER_SEC + PIT_FREQ_HZ - 1) /
		PIT_FREQ_HZ;

	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

/*
 * "Operation Common to All Modes", Counter: the CE wraps from 0 to FFFF
 * (binary) or 9999 (BCD), so a count of 0 stands for 2^16 or 10^4.
 */
static uint32_t ch_modulus(const struct pit_channel *c)
{
	return c->bcd ? 10000 : 0x10000;
}

/*
 * A written count to its value. BCD digits above 9 (the datasheet does
 * not say what the CE does with them) count as 9, so the value stays a
 * 4-digit decimal.
 */
static uint32_t count_decode(uint16_t raw, bool bcd)
{
	uint32_t v = raw;

	if (bcd) {
		v = 0;
		for (int shift = 12; shift >= 0; shift -= 4) {
			uint32_t digit = (raw >> shift) & 0xf;

			v = v * 10 + (digit > 9 ? 9 : digit);
		}
	}
	if (!v)
		v = bcd ? 10000 : 0x10000;
	return v;
}

static uint16_t ce_encode(uint32_t v, bool bcd)
{
	uint16_t r = 0;

	if (!bcd)
		return (uint16_t)v;
	v %= 10000;
	for (int shift = 0; shift < 16; shift += 4, v /= 10)
		r |= (uint16_t)((v % 10) << shift);
	return r;
}

/* Ticks into the count ("d"). Only meaningful in CH_RUN. */
static uint64_t ch_ticks(const struct pit_channel *c, uint64_t now)
{
	int64_t d = c->tick_off;

	if (!c->paused && now > c->base_ns)
		d += (int64_t)ns_to_ticks(now - c->base_ns);
	return d > 0 ? (uint64_t)d : 0;
}

/* When tick d of the running, unpaused count starts. */
static uint64_t ch_tick_time(const struct pit_channel *c, uint64_t d)
{
	int64_t rel = (int64_t)d - c->tick_off;
	uint64_t dt = rel > 0 ? ticks_to_ns((uint64_t)rel) : 0;

	return dt > UINT64_MAX - c->base_ns ? UINT64_MAX : c->base_ns + dt;
}

/*
 * The CE after d ticks of count N (Mode Definitions):
 * modes 0, 1, 4, 5 count N, N-1, ..., 0 and wrap;
 * mode 2 counts N ... 1 and reloads (OUT low while the CE is 1);
 * mode 3 counts by two, each half of the square wave: even N shows N,
 * N-2, ..., 2; odd N loads N-1 and shows N-1, ..., 0 for the (N+1)/2
 * high clocks and N-1, ..., 2 for the (N-1)/2 low ones.
 */
static uint32_t ch_ce(const struct pit_channel *c, uint64_t d)
{
	uint32_t n = c->count, m = ch_modulus(c);

	switch (c->mode) {
	case 2:
		return n - (uint32_t)(d % n);
	case 3: {
		uint32_t r = (uint32_t)(d % n), high = (n + 1) / 2;

		return (n & ~1u) - 2 * (r < high ? r : r - high);
	}
	default:
		return (uint32_t)((n + m - d % m) % m);
	}
}

/* What a read of the counter would give now, before byte selection. */
static uint16_t ch_read_ce(const struct pit_channel *c, uint64_t now)
{
	if (c->state != CH_RUN)
		return c->hold;
	return ce_encode(ch_ce(c, ch_ticks(c, now)), c->bcd);
}

/*
 * OUT (Mode Definitions). A control word sets OUT low in mode 0 and high
 * in the other modes until counting starts. In modes 2 and 3, GATE low
 * forces OUT high ("Gate Pin Operations Summary"). Counts of 1, illegal
 * in modes 2 and 3 ("Minimum and Maximum Initial Counts"), keep OUT high
 * as QEMU's mode 3 does, so they raise no interrupts.
 */
static bool ch_out(const struct pit_channel *c, uint64_t now)
{
	uint64_t d;
	uint32_t n = c->count;

	if (c->state == CH_IDLE)
		return c->mode != 0;
	if (c->state == CH_ARMED)
		return true;
	if (c->paused && (c->mode == 2 || c->mode == 3))
		return true;
	d = ch_ticks(c, now);
	switch (c->mode) {
	case 0: /* low until terminal count, then high until reprogrammed */
	case 1: /* low from the trigger to terminal count */
		return d >= n;
	case 2: /* low for the one clock the CE holds 1 */
		return n < 2 || d % n != n - 1;
	case 3: /* high for the first (N + 1) / 2 clocks of each period */
		return d % n < (n + 1) / 2;
	default: /* 4, 5: low for the one clock after the CE reaches 0 */
		return d != n;
	}
}

static bool ch_periodic(const struct pit_channel *c)
{
	return c->mode == 2 || c->mode == 3;
}

/*
 * The first tick after d at which OUT rises, with periodic edges taken
 * every period ticks (the counter's count, or a multiple of it for IRQ0).
 * Only for a running, unpaused counter.
 */
static uint64_t ch_next_rise(const struct pit_channel *c, uint64_t d,
			     uint64_t period)
{
	uint64_t n = c->count;

	switch (c->mode) {
	case 0:
	case 1:
		return d < n ? n : NO_EDGE;
	case 4:
	case 5:
		return d < n + 1 ? n + 1 : NO_EDGE;
	default:
		if (n < 2)
			return NO_EDGE;
		return (d / period + 1) * period;
	}
}

/* Counter 0's IRQ period in ticks: its count, stretched to the minimum. */
static uint64_t ch_irq_period(const struct pit_channel *c)
{
	uint64_t n = c->count;

	if (n >= MIN_IRQ_PERIOD_TICKS)
		return n;
	return (MIN_IRQ_PERIOD_TICKS + n - 1) / n * n;
}

/* Loads CR into the CE and starts counting at now. */
static void ch_start(struct pit_channel *c, uint64_t now)
{
	c->count = c->cr;
	c->state = CH_RUN;
	c->base_ns = now;
	c->tick_off = 0;
	/* GATE low disables counting in modes 0, 2, 3 and 4. */
	c->paused = !c->gate && c->mode != 1 && c->mode != 5;
	c->reload_pending = false;
	c->null_count = false;
	c->gen++;
}

/*
 * Modes 2 and 3 load a count written while counting only at the end of
 * the current period (mode 2) or half-period (mode 3) (Mode Definitions:
 * "If a new count is written during counting, it will be loaded at the
 * end of the current counting cycle"). Until then NULL COUNT reads 1.
 */
static void ch_defer_reload(struct pit_channel *c, uint64_t now)
{
	uint64_t d = ch_ticks(c, now), n = c->count, r = d % n;
	uint64_t high = (n + 1) / 2;

	if (c->mode == 3 && r < high)
		c->reload_at = d - r + high;
	else
		c->reload_at = d - r + n;
	c->reload_pending = true;
}

/*
 * The deferred load, at the tick it was due. A mode-3 counter reloaded at
 * the end of its high half goes on with the low half of the new count.
 * Returns the ticks into the new count at that instant.
 */
static uint64_t ch_apply_reload(struct pit_channel *c)
{
	uint64_t at = c->reload_at, phase = 0;

	if (c->mode == 3 && at % c->count != 0)
		phase = (c->cr + 1) / 2;
	c->count = c->cr;
	c->tick_off += (int64_t)phase - (int64_t)at;
	c->reload_pending = false;
	c->null_count = false;
	c->gen++;
	return phase;
}

/* Applies a deferred load that is due by now. */
static void ch_sync(struct pit_channel *c, uint64_t now)
{
	if (c->reload_pending && ch_ticks(c, now) >= c->reload_at)
		ch_apply_reload(c);
}

static void ch_pause(struct pit_channel *c, uint64_t now)
{
	if (c->paused)
		return;
	c->tick_off = (int64_t)ch_ticks(c, now);
	c->paused = true;
}

static void ch_resume(struct pit_channel *c, uint64_t now)
{
	if (!c->paused)
		return;
	c->base_ns = now;
	c->paused = false;
}

/*
 * GATE ("Gate Pin Operations Summary"): in modes 0 and 4 a level that
 * enables or disables counting; in modes 2 and 3 low disables counting
 * (OUT high) and a rising edge reloads the initial count; in modes 1 and
 * 5 a rising edge (trigger) loads the count and starts, or restarts, the
 * one-shot or strobe. Only counter 2's gate moves (port 0x61 bit 0): the
 * PC ties gates 0 and 1 high.
 */
static void ch_set_gate(struct pit_channel *c, bool gate, uint64_t now)
{
	bool rise = gate && !c->gate, fall = !gate && c->gate;

	c->gate = gate;
	if (c->state == CH_IDLE || (!rise && !fall))
		return;
	switch (c->mode) {
	case 0:
	case 4:
		if (fall)
			ch_pause(c, now);
		else
			ch_resume(c, now);
		break;
	case 2:
	case 3:
		if (fall) {
			ch_pause(c, now);
			/* the rising edge will load CR anyway */
			c->reload_pending = false;
		} else {
			ch_start(c, now);
		}
		break;
	default:
		if (rise)
			ch_start(c, now);
		break;
	}
}

/*
 * A complete count written to CR. NULL COUNT goes to 1 until the CE takes
 * it (Read-Back Command, "Null Count Operation"). Modes 0 and 4 load it
 * on the next clock and count from it; modes 1 and 5 wait for a trigger;
 * modes 2 and 3 start at once after a control word, else at the end of
 * the current cycle, else (gate low) at the next gate rise.
 */
static void ch_load(struct pit_channel *c, uint16_t raw, uint64_t now)
{
	c->cr = count_decode(raw, c->bcd);
	c->null_count = true;
	switch (c->mode) {
	case 0:
	case 4:
		ch_start(c, now);
		break;
	case 1:
	case 5:
		if (c->state == CH_IDLE)
			c->state = CH_ARMED;
		break;
	default:
		if (c->state == CH_IDLE)
			ch_start(c, now);
		else if (!c->paused)
			ch_defer_reload(c, now);
		break;
	}
}

/*
 * Write Operations: each counter's count is written in the format of its
 * control word; with RW = 11 a flip-flop takes the LSB, then the MSB.
 * Mode 0: "Writing the first byte disables counting. OUT is set low
 * immediately"; the other modes ignore the first byte until the second.
 */
static void ch_write_data(struct pit_channel *c, uint8_t val, uint64_t now)
{
	switch (c->rw) {
	case RW_LSB:
		ch_load(c, val, now);
		break;
	case RW_MSB:
		ch_load(c, (uint16_t)(val << 8), now);
		break;
	default:
		if (!c->write_msb) {
			c->write_lsb = val;
			c->write_msb = true;
			if (c->mode == 0 && c->state == CH_RUN) {
				c->hold = ch_read_ce(c, now);
				c->state = CH_IDLE;
			}
			break;
		}
		c->write_msb = false;
		ch_load(c, (uint16_t)(c->write_lsb | val << 8), now);
		break;
	}
}

/*
 * A control word other than a latch: "all Control Logic is immediately
 * reset and OUT goes to a known initial state"; counting stops until a
 * count is written. Latches are dropped ("until the Counter is
 * reprogrammed"). Modes 6 and 7 are modes 2 and 3 ("X" in M2), but the
 * status byte echoes the bits as written.
 */
static void ch_set_cw(struct pit_channel *c, uint8_t val)
{
	c->cw = val & CW_PROGRAM_MASK;
	c->rw = (val >> CW_RW_SHIFT) & 3;
	c->mode = (val >> CW_MODE_SHIFT) & 7;
	if (c->mode > 5)
		c->mode -= 4;
	c->bcd = val & CW_BCD;
}

static void ch_program(struct pit_channel *c, uint8_t val, uint64_t now)
{
	c->hold = ch_read_ce(c, now);
	ch_set_cw(c, val);
	c->state = CH_IDLE;
	c->paused = false;
	c->reload_pending = false;
	c->write_msb = false;
	c->read_msb = false;
	c->latch = 0;
	c->status_latched = false;
	c->null_count = true;
}

/*
 * Counter Latch Command: the OL holds the CE until read in the counter's
 * format; "If a Counter is latched and then, some time later, latched
 * again before the count is read, the second Counter Latch Command is
 * ignored."
 */
static void ch_latch_count(struct pit_channel *c, uint64_t now)
{
	if (c->latch)
		return;
	c->latched = ch_read_ce(c, now);
	c->latch = c->rw;
}

/* Status Byte: OUT, NULL COUNT, RW1-0, M2-0, BCD; latched once, too. */
static void ch_latch_status(struct pit_channel *c, uint64_t now)
{
	if (c->status_latched)
		return;
	c->status = (uint8_t)((ch_out(c, now) ? STATUS_OUT : 0) |
			      (c->null_count ? STATUS_NULL_COUNT : 0) | c->cw);
	c->status_latched = true;
}

/*
 * Read Operations. A latched status is read first, then a latched count
 * (LSB then MSB for RW = 11, as QEMU and KVM order them), then the live
 * CE, through the read flip-flop, which is separate from the write one:
 * the datasheet allows "Read LSB, Write new LSB, Read MSB, Write new MSB".
 */
static uint8_t ch_read_data(struct pit_channel *c, uint64_t now)
{
	uint16_t v;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->latch) {
		v = c->latched;
		if (c->latch == RW_WORD) {
			c->latch = RW_MSB;
			return (uint8_t)v;
		}
		v = c->latch == RW_MSB ? v >> 8 : v;
		c->latch = 0;
		return (uint8_t)v;
	}
	v = ch_read_ce(c, now);
	if (c->rw == RW_MSB || (c->rw == RW_WORD && c->read_msb))
		v >>= 8;
	if (c->rw == RW_WORD)
		c->read_msb = !c->read_msb;
	return (uint8_t)v;
}

/* Read-Back Command: latch count and/or status of each selected counter. */
static void pit_read_back(struct pit *p, uint8_t val, uint64_t now)
{
	for (unsigned int i = 0; i < 3; i++) {
		if (!(val & (RB_CNT0 << i)))
			continue;
		if (!(val & RB_NO_COUNT))
			ch_latch_count(&p->ch[i], now);
		if (!(val & RB_NO_STATUS))
			ch_latch_status(&p->ch[i], now);
	}
}

static void pit_write_control(struct pit *p, uint8_t val, uint64_t now)
{
	unsigned int sc = val >> CW_SC_SHIFT;

	if (sc == SC_READ_BACK)
		pit_read_back(p, val, now);
	else if (((val >> CW_RW_SHIFT) & 3) == RW_LATCH)
		ch_latch_count(&p->ch[sc], now);
	else
		ch_program(&p->ch[sc], val, now);
}

/*
 * Counts IRQ0 edges of counter 0 from p->irq_edge through tick limit and
 * moves p->irq_edge past them.
 */
static uint64_t pit_irq_edges_through(struct pit *p, uint64_t limit)
{
	const struct pit_channel *c = &p->ch[0];
	uint64_t e = p->irq_edge, period, k;

	if (e == NO_EDGE || e > limit)
		return 0;
	if (!ch_periodic(c)) {
		p->irq_edge = NO_EDGE;
		return 1;
	}
	period = ch_irq_period(c);
	k = (limit - e) / period + 1;
	p->irq_edge = e + k * period;
	return k;
}

/*
 * Counts counter 0's IRQ0 edges up to now, in order: those of the running
 * count up to a deferred load that is due, then those of the new count.
 */
static uint64_t pit_irq_catch_up(struct pit *p, uint64_t now)
{
	struct pit_channel *c = &p->ch[0];
	uint64_t edges = 0;

	for (;;) {
		bool reload = c->reload_pending &&
			      ch_tick_time(c, c->reload_at) <= now;

		edges += pit_irq_edges_through(
			p, reload ? c->reload_at : ch_ticks(c, now));
		if (!reload)
			return edges;
		p->irq_edge = ch_next_rise(c, ch_apply_reload(c),
					   ch_irq_period(c));
	}
}

/*
 * One pulse (high, then low, as KVM's pit_do_work() sets IRQ 0) for any
 * number of edges: like KVM's in-kernel PIT without reinjection (unlike
 * its default), ticks the guest missed are not replayed, which would only
 * make a late guest later. The PIC and IOAPIC take IRQ0 as an edge (ELCR
 * forces IRQ0 to edge). Linux's IOAPIC timer check (check_timer(), via
 * timer_irq_works()) wants more than four ticks during a delay of ten or
 * more tick periods, through IOAPIC pin 2 or the PIC: true as long as the
 * host timer is not late by more than about a period.
 */
static void pit_irq_deliver(struct pit *p, uint64_t edges)
{
	if (!edges)
		return;
	p->stats.irqs++;
	p->stats.lost_ticks += edges - 1;
	irq_line_set(&p->irq0, true);
	irq_line_set(&p->irq0, false);
}

/* Brings every counter to now, raising IRQ0 for what is past. */
static void pit_update(struct pit *p, uint64_t now)
{
	ch_sync(&p->ch[1], now);
	ch_sync(&p->ch[2], now);
	pit_irq_deliver(p, pit_irq_catch_up(p, now));
}

/*
 * Recomputes counter 0's next IRQ0 edge after now. Edges are OUT0's
 * rising edges (IRQ0 is edge-triggered on a PC): every period in modes 2
 * and 3, once at terminal count in mode 0, at the end of the strobe in
 * mode 4. Modes 1 and 5 need a gate trigger that counter 0's tied-high
 * gate never gives, so they never interrupt. (Linux's i8253 clockevent
 * uses mode 2 for periodic ticks, mode 4 for one-shot ones, and stops the
 * counter with a bare mode-0 control word, 0x30, which here disarms.)
 */
static void pit_irq_schedule(struct pit *p, uint64_t now)
{
	struct pit_channel *c = &p->ch[0];

	if (c->state != CH_RUN || c->paused) {
		p->irq_edge = NO_EDGE;
		return;
	}
	if (c->gen != p->irq_gen) {
		p->irq_gen = c->gen;
		if (ch_periodic(c) && c->count >= 2 &&
		    c->count < MIN_IRQ_PERIOD_TICKS)
			p->stats.clamped++;
	}
	p->irq_edge = ch_next_rise(c, ch_ticks(c, now), ch_irq_period(c));
}

/* Arms the host timer for the next edge or deferred load of counter 0. */
static void pit_rearm(struct pit *p)
{
	const struct pit_channel *c = &p->ch[0];
	uint64_t deadline = 0;

	if (p->irq_edge != NO_EDGE)
		deadline = ch_tick_time(c, p->irq_edge);
	if (c->reload_pending) {
		uint64_t r = ch_tick_time(c, c->reload_at);

		if (!deadline || r < deadline)
			deadline = r;
	}
	if (deadline == p->armed)
		return;
	p->armed = deadline;
	if (p->timer.arm)
		p->timer.arm(p->timer.ctx, deadline);
}

/*
 * Every access and timer expiry: under the lock, read the clock (so that
 * time never goes back from one call to the next) and bring the PIT up to
 * date; then act, and finish with pit_unlock().
 */
static uint64_t pit_begin(struct pit *p)
{
	uint64_t now = p->clock.now(p->clock.ctx);

	pit_update(p, now);
	return now;
}

static uint64_t pit_lock(struct pit *p)
{
	pthread_mutex_lock(&p->lock);
	return pit_begin(p);
}

static void pit_unlock(struct pit *p, uint64_t now)
{
	pit_irq_schedule(p, now);
	pit_rearm(p);
	pthread_mutex_unlock(&p->lock);
}

static uint64_t pit_read(void *dev, const struct io_access *a)
{
	struct pit *p = dev;
	uint64_t now, val = 0xff;

	if (a->len != 1 || a->offset >= PIT_REGION_SIZE)
		return io_all_ones(a->len);
	now = pit_lock(p);
	/* the control word register cannot be read: the 8254 floats */
	if (a->offset < 3)
		val = ch_read_data(&p->ch[a->offset], now);
	pit_unlock(p, now);
	return val;
}

static void pit_write(void *dev, const struct io_access *a, uint64_t val)
{
	struct pit *p = dev;
	uint64_t now;

	if (a->len != 1 || a->offset >= PIT_REGION_SIZE)
		return;
	now = pit_lock(p);
	if (a->offset == 3)
		pit_write_control(p, (uint8_t)val, now);
	else
		ch_write_data(&p->ch[a->offset], (uint8_t)val, now);
	pit_unlock(p, now);
}

/*
 * Port 0x61. Linux's pit_calibrate_tsc() and quick_pit_calibrate() set
 * the gate here, run counter 2 in mode 0 and poll OUT2 (bit 5) or the
 * count, so both must follow time exactly.
 */
static uint64_t pit_port61_read(void *dev, const struct io_access *a)
{
	struct pit *p = dev;
	const struct pit_channel *c2 = &p->ch[2];
	uint64_t now, val;

	if (a->len != 1 || a->offset != 0)
		return io_all_ones(a->len);
	now = pit_lock(p);
	val = (c2->gate ? P61_GATE2 : 0) | (p->speaker ? P61_SPEAKER : 0) |
	      (ch_out(c2, now) ? P61_OUT2 : 0) |
	      ((ns_to_ticks(now) / REFRESH_TICKS) & 1 ? P61_REFRESH : 0);
	pit_unlock(p, now);
	return val;
}

static void pit_port61_write(void *dev, const struct io_access *a, uint64_t val)
{
	struct pit *p = dev;
	uint64_t now;

	if (a->len != 1 || a->offset != 0)
		return;
	now = pit_lock(p);
	p->speaker = val & P61_SPEAKER;
	ch_set_gate(&p->ch[2], val & P61_GATE2, now);
	pit_unlock(p, now);
}

static int pit_describe(void *dev, void *fdt, int parent)
{
	struct pit *p = dev;
	int r = fdt_add_isa_device(fdt, parent, "pit", "intel,8254", PIT_BASE,
				   PIT_REGION_SIZE,
				   p->irq0.set ? (int)p->irq0.line : -1);

	return r < 0 ? r : 0;
}

static void pit_ops_reset(void *dev)
{
	struct pit *p = dev;
	bool firmware;

	pthread_mutex_lock(&p->lock);
	firmware = p->firmware;
	pthread_mutex_unlock(&p->lock);
	pit_reset(p, firmware);
}

static void pit_destroy(void *dev)
{
	struct pit *p = dev;

	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* ---- Snapshots ----------------------------------------------------------- */

/*
 * The blob, version 1: 183 bytes, every field little-endian.
 *   header (8):	u32 magic "8254", u16 version, u16 counters (3)
 *   per counter (46):	u8 control word (bits 5-0), state, flags (SNAP_*),
 *			write LSB, latch, status; u16 latched, hold;
 *			u32 cr, count, gen; s64 base (ns, relative to now);
 *			s64 tick_off; u64 reload_at
 *   tail (37):		u8 speaker; u32 irq_gen; u64 irq_edge;
 *			u64 irqs, lost_ticks, clamped (struct pit_stats)
 * Mode, RW and BCD are not stored: they are the control word's, so they
 * cannot disagree with it. The host timer's deadline is not stored
 * either: load computes it again from the counting state.
 */
#define SNAP_MAGIC 0x34353238u /* "8254" */
#define SNAP_VERSION 1
#define SNAP_HEADER 8
#define SNAP_COUNTER 46
#define SNAP_TAIL 37
#define SNAP_SIZE (SNAP_HEADER + 3 * SNAP_COUNTER + SNAP_TAIL)

/* The counter's flags byte. */
#define SNAP_GATE 0x01
#define SNAP_WRITE_MSB 0x02
#define SNAP_READ_MSB 0x04
#define SNAP_STATUS_LATCHED 0x08
#define SNAP_NULL_COUNT 0x10
#define SNAP_PAUSED 0x20
#define SNAP_RELOAD_PENDING 0x40
#define SNAP_FLAGS 0x7f

/*
 * Ticks into a count never come near this (2^56 ticks are 1900 years):
 * a bound that keeps every sum of ticks in range.
 */
#define SNAP_TICK_LIMIT (1ll << 56)

static uint8_t ch_snap_flags(const struct pit_channel *c)
{
	return (uint8_t)((c->gate ? SNAP_GATE : 0) |
			 (c->write_msb ? SNAP_WRITE_MSB : 0) |
			 (c->read_msb ? SNAP_READ_MSB : 0) |
			 (c->status_latched ? SNAP_STATUS_LATCHED : 0) |
			 (c->null_count ? SNAP_NULL_COUNT : 0) |
			 (c->paused ? SNAP_PAUSED : 0) |
			 (c->reload_pending ? SNAP_RELOAD_PENDING : 0));
}

static bool ch_counts_time(const struct pit_channel *c)
{
	return c->state == CH_RUN && !c->paused;
}

/*
 * A counting counter's time base as of now: at time t, ticks into the
 * count are *ret_off + ns_to_ticks(t - (now + *ret_base)), with *ret_base
 * in (-1 s, 0]. Whole seconds move from base_ns into tick_off: a second is
 * exactly PIT_FREQ_HZ ticks in both ns_to_ticks() and ticks_to_ns(), so counts,
 * OUT and deadlines stay exactly what they were, however long the
 * counter has run and however early in its clock's life load happens.
 * A paused or stopped counter's base_ns is unused (ch_start() and
 * ch_resume() set it): 0.
 */
static void ch_snap_time(const struct pit_channel *c, uint64_t now,
			 int64_t *ret_base, int64_t *ret_off)
{
	uint64_t e = now > c->base_ns ? now - c->base_ns : 0;

	*ret_base = 0;
	*ret_off = c->tick_off;
	if (!ch_counts_time(c))
		return;
	*ret_off += (int64_t)(e / NS_PER_SEC * PIT_FREQ_HZ);
	*ret_base = -(int64_t)(e % NS_PER_SEC);
}

static void ch_save(const struct pit_channel *c, struct snap_out *o,
		    uint64_t now)
{
	int64_t base, off;

	ch_snap_time(c, now, &base, &off);
	snap_put(o, c->cw, 1);
	snap_put(o, c->state, 1);
	snap_put(o, ch_snap_flags(c), 1);
	snap_put(o, c->write_lsb, 1);
	snap_put(o, c->latch, 1);
	snap_put(o, c->status, 1);
	snap_put(o, c->latched, 2);
	snap_put(o, c->hold, 2);
	snap_put(o, c->cr, 4);
	snap_put(o, c->count, 4);
	snap_put(o, c->gen, 4);
	snap_put(o, (uint64_t)base, 8);
	snap_put(o, (uint64_t)off, 8);
	snap_put(o, c->reload_at, 8);
}

static int pit_save(void *dev, void *buf, size_t cap, uint64_t now)
{
	struct pit *p = dev;
	struct snap_out o = { buf };

	if (cap < SNAP_SIZE)
		return -ENOSPC;
	pthread_mutex_lock(&p->lock);
	snap_put(&o, SNAP_MAGIC, 4);
	snap_put(&o, SNAP_VERSION, 2);
	snap_put(&o, 3, 2);
	for (unsigned int i = 0; i < 3; i++)
		ch_save(&p->ch[i], &o, now);
	snap_put(&o, p->speaker, 1);
	snap_put(&o, p->irq_gen, 4);
	snap_put(&o, p->irq_edge, 8);
	snap_put(&o, p->stats.irqs, 8);
	snap_put(&o, p->stats.lost_ticks, 8);
	snap_put(&o, p->stats.clamped, 8);
	pthread_mutex_unlock(&p->lock);
	return SNAP_SIZE;
}

/* A counter as read from a blob, before it is checked. */
struct ch_snap {
	struct pit_channel c;
	uint8_t cw, state, flags;
	int64_t base; /* relative to now */
};

static void ch_parse(struct snap_in *in, struct ch_snap *s)
{
	struct pit_channel *c = &s->c;

	*s = (struct ch_snap){ 0 };
	s->cw = (uint8_t)snap_get(in, 1);
	ch_set_cw(c, s->cw);
	s->state = (uint8_t)snap_get(in, 1);
	s->flags = (uint8_t)snap_get(in, 1);
	c->write_lsb = (uint8_t)snap_get(in, 1);
	c->latch = (uint8_t)snap_get(in, 1);
	c->status = (uint8_t)snap_get(in, 1);
	c->latched = (uint16_t)snap_get(in, 2);
	c->hold = (uint16_t)snap_get(in, 2);
	c->cr = (uint32_t)snap_get(in, 4);
	c->count = (uint32_t)snap_get(in, 4);
	c->gen = (uint32_t)snap_get(in, 4);
	s->base = (int64_t)snap_get(in, 8);
	c->tick_off = (int64_t)snap_get(in, 8);
	c->reload_at = snap_get(in, 8);
	c->gate = s->flags & SNAP_GATE;
	c->write_msb = s->flags & SNAP_WRITE_MSB;
	c->read_msb = s->flags & SNAP_READ_MSB;
	c->status_latched = s->flags & SNAP_STATUS_LATCHED;
	c->null_count = s->flags & SNAP_NULL_COUNT;
	c->paused = s->flags & SNAP_PAUSED;
	c->reload_pending = s->flags & SNAP_RELOAD_PENDING;
	/* checked before use (ch_snap_valid) */
	c->state = s->state <= CH_RUN ? (enum pit_ch_state)s->state : CH_IDLE;
}

/*
 * The read/write logic: RW 00 is the latch command, never a format; the
 * flip-flops move only with RW = 11; the output latch holds what the
 * counter's format still has to give (LSB then MSB: both, then the MSB);
 * a latched status echoes the control word ("Read-Back Command").
 */
static bool ch_snap_access_valid(const struct pit_channel *c)
{
	bool word = c->rw == RW_WORD;

	if (c->rw == RW_LATCH)
		return false;
	if ((c->write_msb || c->read_msb) && !word)
		return false;
	if (c->latch && c->latch != c->rw && !(word && c->latch == RW_MSB))
		return false;
	return !c->status_latched || (c->status & CW_PROGRAM_MASK) == c->cw;
}

/* Ticks into the count at the snapshot's now. */
static uint64_t ch_snap_ticks(const struct ch_snap *s)
{
	int64_t d = s->c.tick_off;

	if (!s->c.paused)
		d += (int64_t)ns_to_ticks((uint64_t)-s->base);
	return d > 0 ? (uint64_t)d : 0;
}

/*
 * Counting: counts are 1 to 2^16 (a count of 0 is 2^16, "Operation
 * Common to All Modes"); one loaded since the last control word is one
 * of the counter's format. Modes 1 and 5 alone wait for a trigger; GATE
 * low pauses modes 0, 2, 3 and 4 (a mode-0 counter stopped by a first
 * byte may keep that mark); modes 2 and 3 alone defer a load, to the end
 * of a period or half-period.
 */
static bool ch_snap_count_valid(const struct ch_snap *s)
{
	const struct pit_channel *c = &s->c;
	bool gated = c->mode != 1 && c->mode != 5;
	uint64_t n = c->count, r;

	if (s->state > CH_RUN || c->cr < 1 || c->cr > 0x10000 || c->count < 1 ||
	    c->count > 0x10000)
		return false;
	if (c->tick_off < -SNAP_TICK_LIMIT || c->tick_off > SNAP_TICK_LIMIT)
		return false;
	if (c->state == CH_IDLE)
		return !c->reload_pending && s->base == 0 &&
		       (!c->paused || c->mode == 0);
	if (c->cr > ch_modulus(c))
		return false;
	/* count is the one loaded last, while armed maybe before the BCD bit */
	if (c->state == CH_ARMED)
		return !gated && !c->paused && !c->reload_pending &&
		       s->base == 0;
	if (c->count > ch_modulus(c) || c->paused != (gated && !c->gate))
		return false;
	if (c->paused ? s->base != 0
		      : s->base > 0 || s->base <= -(int64_t)NS_PER_SEC)
		return false;
	if (!c->reload_pending)
		return true;
	r = c->reload_at % n;
	return ch_periodic(c) && !c->paused && c->reload_at >= 1 &&
	       c->reload_at <= ch_snap_ticks(s) + n &&
	       (r == 0 || (c->mode == 3 && r == (n + 1) / 2));
}

static bool ch_snap_valid(const struct ch_snap *s, unsigned int index)
{
	if ((s->cw & ~CW_PROGRAM_MASK) || (s->flags & ~SNAP_FLAGS))
		return false;
	/* the PC ties gates 0 and 1 high */
	if (index != 2 && !s->c.gate)
		return false;
	return ch_snap_access_valid(&s->c) && ch_snap_count_valid(s);
}

/*
 * Counter 0's next IRQ0 edge, as pit_irq_schedule() leaves it: none
 * unless it counts; else its one edge in modes 0, 1, 4 and 5 (or none,
 * once passed); in modes 2 and 3 a multiple of the IRQ period at most a
 * period past now (it may lie in the past: a tick not yet delivered).
 */
static bool irq_edge_valid(const struct ch_snap *s, uint64_t edge)
{
	const struct pit_channel *c = &s->c;
	uint64_t period;

	if (c->state != CH_RUN || c->paused)
		return edge == NO_EDGE;
	period = ch_irq_period(c);
	if (!ch_periodic(c))
		return edge == NO_EDGE || edge == ch_next_rise(c, 0, period);
	if (c->count < 2)
		return edge == NO_EDGE;
	return edge != NO_EDGE && edge >= period && edge % period == 0 &&
	       edge <= ch_snap_ticks(s) + period;
}

/* What a blob says, all of it, before any of it is checked or applied. */
struct pit_snap {
	struct ch_snap ch[3];
	uint8_t speaker;
	uint32_t irq_gen;
	uint64_t irq_edge;
	struct pit_stats stats;
};

static int pit_parse(const void *buf, size_t len, struct pit_snap *s)
{
	struct snap_in in = { buf };

	if (!buf || len != SNAP_SIZE || snap_get(&in, 4) != SNAP_MAGIC ||
	    snap_get(&in, 2) != SNAP_VERSION || snap_get(&in, 2) != 3)
		return -EINVAL;
	for (unsigned int i = 0; i < 3; i++)
		ch_parse(&in, &s->ch[i]);
	s->speaker = (uint8_t)snap_get(&in, 1);
	s->irq_gen = (uint32_t)snap_get(&in, 4);
	s->irq_edge = snap_get(&in, 8);
	s->stats.irqs = snap_get(&in, 8);
	s->stats.lost_ticks = snap_get(&in, 8);
	s->stats.clamped = snap_get(&in, 8);
	for (unsigned int i = 0; i < 3; i++)
		if (!ch_snap_valid(&s->ch[i], i))
			return -EINVAL;
	if (s->speaker > 1 || !irq_edge_valid(&s->ch[0], s->irq_edge))
		return -EINVAL;
	return 0;
}

/* base relative to now, back on the clock (0 if that is before 0). */
static uint64_t snap_rebase(uint64_t now, int64_t base)
{
	uint64_t back = (uint64_t)-base;

	return now > back ? now - back : 0;
}

/*
 * IRQ0 is only ever pulsed, so no line level is restored: an edge that
 * was due before the snapshot arms the timer in the past, and pit_fire()
 * delivers it once the VM runs again, as it would have.
 */
static int pit_load(void *dev, const void *buf, size_t len, uint64_t now)
{
	struct pit *p = dev;
	struct pit_snap s;
	int r = pit_parse(buf, len, &s);

	if (r)
		return r;
	pthread_mutex_lock(&p->lock);
	for (unsigned int i = 0; i < 3; i++) {
		p->ch[i] = s.ch[i].c;
		p->ch[i].base_ns = snap_rebase(now, s.ch[i].base);
	}
	p->speaker = s.speaker;
	p->irq_gen = s.irq_gen;
	p->irq_edge = s.irq_edge;
	p->stats = s.stats;
	pit_rearm(p);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

const struct device_ops pit_ops = {
	.name = "pit",
	.read = pit_read,
	.write = pit_write,
	.reset = pit_ops_reset,
	.describe = pit_describe,
	.destroy = pit_destroy,
	.save = pit_save,
	.load = pit_load,
};

const struct device_ops pit_port61_ops = {
	.name = "pit-port61",
	.read = pit_port61_read,
	.write = pit_port61_write,
};

static void ch_reset(struct pit_channel *c, unsigned int index, uint64_t now)
{
	*c = (struct pit_channel){.gen = c->gen + 1};
	c->gate = index != 2;
	c->cr = 0x10000;
	c->count = 0x10000;
	ch_program(c, RW_WORD << CW_RW_SHIFT | 3 << CW_MODE_SHIFT, now);
	c->null_count = false;
}

void pit_reset(struct pit *p, bool firmware)
{
	uint64_t now = pit_lock(p);

	p->firmware = firmware;
	for (unsigned int i = 0; i < 3; i++)
		ch_reset(&p->ch[i], i, now);
	p->speaker = false;
	if (firmware) {
		ch_program(&p->ch[0],
			   RW_WORD << CW_RW_SHIFT | 2 << CW_MODE_SHIFT, now);
		ch_load(&p->ch[0], 0, now);
	}
	pit_unlock(p, now);
}

int pit_new(const struct pit_clock *clock, const struct pit_timer_ops *timer,
	    const struct irq_line *irq0, struct pit **ret)
{
	struct pit *p;
	int r;

	if (!clock || !clock->now || !ret)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	r = pthread_mutex_init(&p->lock, NULL);
	if (r) {
		free(p);
		return -r;
	}
	p->clock = *clock;
	if (timer)
		p->timer = *timer;
	if (irq0)
		p->irq0 = *irq0;
	p->irq_edge = NO_EDGE;
	pit_reset(p, false);
	*ret = p;
	return 0;
}

void pit_fire(struct pit *p)
{
	uint64_t now;

	pthread_mutex_lock(&p->lock);
	/* the host timer expired, so it is no longer armed */
	p->armed = 0;
	now = pit_begin(p);
	pit_unlock(p, now);
}

void pit_get_stats(struct pit *p, struct pit_stats *ret)
{
	pthread_mutex_lock(&p->lock);
	*ret = p->stats;
	pthread_mutex_unlock(&p->lock);
}

int pit_get_channel(struct pit *p, unsigned int channel,
		    struct pit_channel_info *ret)
{
	const struct pit_channel *c;
	uint64_t now;

	if (channel > 2 || !ret)
		return -EINVAL;
	now = pit_lock(p);
	c = &p->ch[channel];
	*ret = (struct pit_channel_info){
		.initial_count = c->count,
		.value = ch_read_ce(c, now),
		.mode = c->mode,
		.rw = c->rw,
		.bcd = c->bcd,
		.gate = c->gate,
		.out = ch_out(c, now),
		.counting = c->state == CH_RUN,
	};
	pit_unlock(p, now);
	return 0;
}
