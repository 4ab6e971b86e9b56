// SPDX-License-Identifier: MIT
/* Unit tests of the MC146818A RTC and CMOS RAM, on an injected clock. */
#include <errno.h>
#include <stdlib.h>

#include "cmos.h"
#include "fakes.h"
#include "isa_fdt.h"
#include "rng.h"
#include "unit.h"

#define NS 1000000000ull
#define MS 1000000ull
/* 2024-02-29 13:45:56 UTC, a Thursday (RTC day of week 5). */
#define WALL_2024 1709214356ll

struct fake_time {
	uint64_t mono;
	int64_t wall;
	uint64_t deadline; /* last arm() */
	unsigned int arms;
};

static uint64_t ft_now(void *ctx)
{
	return ((struct fake_time *)ctx)->mono;
}

static int64_t ft_wall(void *ctx)
{
	return ((struct fake_time *)ctx)->wall;
}

static void ft_arm(void *ctx, uint64_t deadline)
{
	struct fake_time *f = ctx;

	f->deadline = deadline;
	f->arms++;
}

struct rig {
	struct fake_time time;
	struct fake_irq irq;
	struct fake_irq alarm; /* the alarm output (the ACPI RTC wake event) */
	struct cmos *c;
};

/* An RTC at wall time wall_sec + frac_ns, 128 MiB, 2 CPUs. */
static void rig_init(struct rig *r, int64_t wall_sec, uint64_t frac_ns)
{
	struct cmos_config cfg = {
		.clock = { ft_now, ft_wall, &r->time },
		.timer = { ft_arm, &r->time },
		.irq = { fake_irq_set, &r->irq, CMOS_IRQ },
		.alarm = { fake_irq_set, &r->alarm, 0 },
		.ram_below_4g = 128ull << 20,
		.cpus = 2,
	};

	*r = (struct rig){ .time = { .mono = 5 * NS + 123,
				     .wall = wall_sec * (int64_t)NS +
					     (int64_t)frac_ns } };
	r->irq.line = CMOS_IRQ;
	ck_assert_int_eq(cmos_new(&cfg, &r->c), 0);
}

/* The host timer expired: the VM's timer is disarmed as it fires. */
static void fire(struct rig *r)
{
	r->time.deadline = 0;
	cmos_fire(r->c);
}

static void rig_free(struct rig *r)
{
	cmos_ops.destroy(r->c);
}

static void out(struct cmos *c, unsigned int port, uint8_t v)
{
	const struct io_access a = { port, port - CMOS_BASE, 1, 0 };

	cmos_ops.write(c, &a, v);
}

static uint64_t in(struct cmos *c, unsigned int port, unsigned int len)
{
	const struct io_access a = { port, port - CMOS_BASE, len, 0 };

	return cmos_ops.read(c, &a);
}

static void wr(struct cmos *c, uint8_t index, uint8_t v)
{
	out(c, 0x70, index);
	out(c, 0x71, v);
}

static uint8_t rd(struct cmos *c, uint8_t index)
{
	out(c, 0x70, index);
	return (uint8_t)in(c, 0x71, 1);
}

/* Seconds .. century as read now: sec, min, hour, wday, mday, mon, year,
 * century. */
static void read_time(struct cmos *c, uint8_t t[8])
{
	static const uint8_t idx[8] = { 0, 2, 4, 6, 7, 8, 9, 0x32 };

	for (int i = 0; i < 8; i++)
		t[i] = rd(c, idx[i]);
}

#define ck_assert_time(c, s, mi, h, wd, md, mo, y, ce)                         \
	do {                                                                   \
		uint8_t t_[8];                                                 \
		read_time((c), t_);                                            \
		ck_assert_msg(t_[0] == (s) && t_[1] == (mi) && t_[2] == (h) && \
				      t_[3] == (wd) && t_[4] == (md) &&        \
				      t_[5] == (mo) && t_[6] == (y) &&         \
				      t_[7] == (ce),                           \
			      "read %02x:%02x:%02x wd %x %02x-%02x-%02x%02x",  \
			      t_[2], t_[1], t_[0], t_[3], t_[7], t_[6], t_[5], \
			      t_[4]);                                          \
	} while (0)

START_TEST(cmos_time_bcd_24h)
{
	struct rig r;

	rig_init(&r, WALL_2024, 500 * MS); /* mid-second: no UIP */
	ck_assert_uint_eq(rd(r.c, CMOS_REG_A), 0x26);
	ck_assert_uint_eq(rd(r.c, CMOS_REG_B), 0x02);
	ck_assert_time(r.c, 0x56, 0x45, 0x13, 5, 0x29, 0x02, 0x24, 0x20);
	r.time.mono += 4 * NS;
	ck_assert_time(r.c, 0x00, 0x46, 0x13, 5, 0x29, 0x02, 0x24, 0x20);
	/* Through midnight into March 1st, a Friday. */
	r.time.mono += (10 * 3600 + 14 * 60) * NS;
	ck_assert_time(r.c, 0x00, 0x00, 0x00, 6, 0x01, 0x03, 0x24, 0x20);
	rig_free(&r);
}
END_TEST

START_TEST(cmos_time_binary_and_12h)
{
	struct rig r;

	rig_init(&r, WALL_2024, 0);
	wr(r.c, CMOS_REG_B, 0x06); /* binary, 24 h */
	ck_assert_time(r.c, 56, 45, 13, 5, 29, 2, 24, 20);
	wr(r.c, CMOS_REG_B, 0x04); /* binary, 12 h: 1 PM */
	ck_assert_uint_eq(rd(r.c, 4), 0x81);
	wr(r.c, CMOS_REG_B, 0x00); /* BCD, 12 h */
	ck_assert_uint_eq(rd(r.c, 4), 0x81);
	/* 23:xx is 11 PM; 00:xx is 12 AM; 12:xx is 12 PM. */
	r.time.mono += 10 * 3600 * NS;
	ck_assert_uint_eq(rd(r.c, 4), 0x91);
	r.time.mono += 3600 * NS;
	ck_assert_uint_eq(rd(r.c, 4), 0x12);
	r.time.mono += 12 * 3600 * NS;
	ck_assert_uint_eq(rd(r.c, 4), 0x92);
	wr(r.c, CMOS_REG_B, 0x04);
	ck_assert_uint_eq(rd(r.c, 4), 0x8c);
	rig_free(&r);
}
END_TEST

/* The date a guest writes with SET is what runs from then on. */
START_TEST(cmos_set_time)
{
	static const uint8_t when[][2] = {
		{ 0, 0x58 }, { 2, 0x59 }, { 4, 0x23 },	  { 7, 0x31 },
		{ 8, 0x12 }, { 9, 0x99 }, { 0x32, 0x20 },
	};
	struct rig r;

	rig_init(&r, WALL_2024, 400 * MS);
	wr(r.c, CMOS_REG_B, 0x02 | 0x80 | 0x10);      /* SET, and UIE */
	ck_assert_uint_eq(rd(r.c, CMOS_REG_B), 0x82); /* SET clears UIE */
	for (size_t i = 0; i < sizeof(when) / sizeof(when[0]); i++)
		wr(r.c, when[i][0], when[i][1]);
	/* Held: the clock does not move while SET is 1, nor shows UIP. */
	r.time.mono += 3 * NS;
	ck_assert_uint_eq(rd(r.c, 0), 0x58);
	ck_assert_uint_eq(rd(r.c, CMOS_REG_A) & 0x80, 0);
	wr(r.c, CMOS_REG_B, 0x02);
	ck_assert_time(r.c, 0x58, 0x59, 0x23, 5, 0x31, 0x12, 0x99, 0x20);
	/* The first update is one second after SET is cleared. */
	r.time.mono += NS - 1;
	ck_assert_uint_eq(rd(r.c, 0), 0x58);
	r.time.mono += 1;
	ck_assert_uint_eq(rd(r.c, 0), 0x59);
	r.time.mono += NS;
	ck_assert_time(r.c, 0x00, 0x00, 0x00, 6, 0x01, 0x01, 0x00, 0x21);
	rig_free(&r);
}
END_TEST

/* A leap day, the 12-hour mode and binary, written with SET. */
START_TEST(cmos_set_time_binary_12h)
{
	struct rig r;

	rig_init(&r, WALL_2024, 0);
	wr(r.c, CMOS_REG_B, 0x80 | 0x04);
	wr(r.c, 4, 0x8b); /* 11 PM */
	wr(r.c, 2, 59);
	wr(r.c, 0, 59);
	wr(r.c, 7, 28);
	wr(r.c, 8, 2);
	wr(r.c, 9, 0);
	wr(r.c, 0x32, 20); /* 2000: a leap year */
	wr(r.c, CMOS_REG_B, 0x04);
	r.time.mono += NS;
	ck_assert_time(r.c, 0, 0, 12, 3, 29, 2, 0, 20); /* 12 AM, Tuesday */
	rig_free(&r);
}
END_TEST

/* Without SET, a written byte is taken at once; the phase is kept. */
START_TEST(cmos_write_while_running)
{
	struct rig r;

	rig_init(&r, WALL_2024, 700 * MS);
	wr(r.c, 2, 0x10);
	ck_assert_time(r.c, 0x56, 0x10, 0x13, 5, 0x29, 0x02, 0x24, 0x20);
	wr(r.c, 9, 0x25); /* 2025-02-29 does not exist: the 28th */
	ck_assert_uint_eq(rd(r.c, 7), 0x28);
	ck_assert_uint_eq(rd(r.c, 6), 6); /* a Friday */
	r.time.mono += 300 * MS - 1;
	ck_assert_uint_eq(rd(r.c, 0), 0x56);
	r.time.mono += 1;
	ck_assert_uint_eq(rd(r.c, 0), 0x57);
	/* One update in register C: none for the written time. */
	ck_assert_uint_eq(rd(r.c, CMOS_REG_C) & 0x30, 0x10);
	rig_free(&r);
}
END_TEST

/* Out-of-range and non-BCD bytes never make an impossible date. */
START_TEST(cmos_invalid_time_clamped)
{
	struct rig r;

	rig_init(&r, WALL_2024, 0);
	wr(r.c, CMOS_REG_B, 0x82);
	wr(r.c, 0, 0xff);
	wr(r.c, 2, 0x7a);
	wr(r.c, 4, 0x3f);
	wr(r.c, 7, 0x3a);
	wr(r.c, 8, 0x13);
	wr(r.c, 9, 0xff);
	wr(r.c, 0x32, 0xff);
	wr(r.c, CMOS_REG_B, 0x02);
	ck_assert_time(r.c, 0x59, 0x59, 0x23, 6, 0x31, 0x12, 0x99, 0x99);
	r.time.mono += NS;
	/* Past 9999-12-31 23:59:59 comes year 0000, a Saturday. */
	ck_assert_time(r.c, 0x00, 0x00, 0x00, 7, 0x01, 0x01, 0x00, 0x00);
	rig_free(&r);
}
END_TEST

START_TEST(cmos_update_flag_read_to_clear)
{
	struct rig r;

	uint64_t d;

	rig_init(&r, WALL_2024, 100 * MS);
	wr(r.c, CMOS_REG_A, 0x20); /* no periodic flag */
	ck_assert_uint_eq(rd(r.c, CMOS_REG_C), 0);
	r.time.mono += NS;
	/* UF is set whatever UIE says; IRQF only with it. */
	ck_assert_uint_eq(rd(r.c, CMOS_REG_C), 0x10);
	ck_assert_uint_eq(rd(r.c, CMOS_REG_C), 0);
	ck_assert_uint_eq(r.irq.sets, 0);
	wr(r.c, CMOS_REG_B, 0x12);
	d = r.time.mono + 900 * MS;
	ck_assert_uint_eq(r.time.deadline, d);
	r.time.mono = d;
	fire(&r);
	ck_assert(r.irq.level);
	ck_assert_uint_eq(r.time.deadline, 0); /* IRQ# held: nothing to do */
	ck_assert_uint_eq(rd(r.c, CMOS_REG_C), 0x90);
	ck_assert(!r.irq.level);
	ck_assert_uint_eq(r.time.deadline, d + NS);
	ck_assert_uint_eq(r.irq.redundant, 0);
	/* Clearing UIE with UF set lowers IRQ# too. */
	r.time.mono += NS;
	fire(&r);
	ck_assert(r.irq.level);
	wr(r.c, CMOS_REG_B, 0x02);
	ck_assert(!r.irq.level);
	ck_assert_uint_eq(rd(r.c, CMOS_REG_C), 0x10);
	rig_free(&r);
}
END_TEST

START_TEST(cmos_alarm)
{
	struct rig r;

	rig_init(&r, WALL_2024, 0); /* 13:45:56 */
	wr(r.c, CMOS_REG_A, 0x20);
	wr(r.c, 1, 0x59);
	wr(r.c, 3, 0x45);
	wr(r.c, 5, 0x13);
	wr(r.c, CMOS_REG_B, 0x22); /* AIE */
	r.time.mono += 2 * NS;
	fire(&r);
	ck_assert(!r.irq.level);
	ck_assert_uint_eq(rd(r.c, CMOS_REG_C), 0x10);
	r.time.mono += NS;
	fire(&r);
	ck_assert(r.irq.level);
	ck_assert_uint_eq(rd(r.c, CMOS_REG_C), 0xb0);
	/* Missed by a long sleep: the flag is still set. */
	r.time.mono += 5 * 86400 * NS;
	ck_assert_uint_eq(rd(r.c, CMOS_REG_C), 0xb0);
	/* Don't-care bytes (11xxxxxx): once a second, or once an hour. */
	wr(r.c, 1, 0xc0);
	wr(r.c, 3, 0xff);
	wr(r.c, 5, 0xc3);
	r.time.mono += NS;
	ck_assert_uint_eq(rd(r.c, CMOS_REG_C), 0xb0);
	wr(r.c, 1, 0x00);
	wr(r.c, 3, 0x00);
	r.time.mono += 1800 * NS;
	ck_assert_uint_eq(rd(r.c, CMOS_REG_C) & 0x20, 0x20);
	r.time.mono += 1800 * NS;
	ck_assert_uint_eq(rd(r.c, CMOS_REG_C) & 0x20, 0);
	/* An hour that never comes never matches. */
	wr(r.c, 5, 0x25);
	r.time.mono += 3 * 86400 * NS;
	ck_assert_uint_eq(rd(r.c, CMOS_REG_C), 0x10);
	rig_free(&r);
}
END_TEST

/*
 * The alarm output (what PC chipsets take as the ACPI RTC_STS event): up
 * while AF is set with AIE, i.e. while the alarm drives IRQ 8; the
 * periodic and update-ended interrupts never raise it. It falls when
 * register C is read, AIE is cleared, or the chip is reset.
 */
START_TEST(cmos_alarm_output)
{
	struct rig r;

	rig_init(&r, WALL_2024, 0);
	wr(r.c, CMOS_REG_A, 0x26);
	wr(r.c, 1, 0xc0); /* every second, as kvm-unit-tests' s3 sets it */
	wr(r.c, 3, 0xc0);
	wr(r.c, 5, 0xc0);
	wr(r.c, CMOS_REG_B, 0x02 | 0x40 | 0x10); /* PIE, UIE: not the alarm */
	r.time.mono += NS;
	fire(&r);
	ck_assert(r.irq.level);
	ck_assert(!r.alarm.level);
	ck_assert_uint_eq(r.alarm.sets, 0);
	wr(r.c, CMOS_REG_B, 0x02 | 0x20); /* AIE: AF is set, so at once */
	ck_assert(r.irq.level);
	ck_assert(r.alarm.level);
	ck_assert_uint_eq(rd(r.c, CMOS_REG_C) & 0xa0, 0xa0);
	ck_assert(!r.alarm.level);
	ck_assert(!r.irq.level);
	/* The next second: up again, through the host timer. */
	ck_assert_uint_ne(r.time.deadline, 0);
	r.time.mono = r.time.deadline;
	fire(&r);
	ck_assert(r.alarm.level);
	ck_assert_uint_eq(r.alarm.rises, 2);
	wr(r.c, CMOS_REG_B, 0x02); /* AIE off: the output falls, AF stays */
	ck_assert(!r.alarm.level);
	wr(r.c, CMOS_REG_B, 0x22);
	ck_assert(r.alarm.level);
	cmos_ops.reset(r.c);
	ck_assert(!r.alarm.level);
	ck_assert_uint_eq(r.alarm.redundant, 0);
	rig_free(&r);
}
END_TEST

/* Periodic Interrupt Rate Select: periods in ns, 0 for none. */
START_TEST(cmos_periodic_rates)
{
	static const uint64_t period[16] = {
		0,	  3906250,   7812500,	122071,	   244141,   488282,
		976563,	  1953125,   3906250,	7812500,   15625000, 31250000,
		62500000, 125000000, 250000000, 500000000,
	};

	for (unsigned int rs = 0; rs < 16; rs++) {
		struct rig r;

		rig_init(&r, WALL_2024, 0); /* phase 0: an edge right now */
		wr(r.c, CMOS_REG_A, (uint8_t)(0x20 | rs));
		wr(r.c, CMOS_REG_B, 0x42); /* PIE */
		if (!rs) {
			ck_assert_uint_eq(r.time.deadline, 0);
			r.time.mono += NS / 2;
			ck_assert_uint_eq(rd(r.c, CMOS_REG_C), 0);
			rig_free(&r);
			continue;
		}
		ck_assert_msg(
			r.time.deadline == r.time.mono + period[rs],
			"RS %u: armed %llu after", rs,
			(unsigned long long)(r.time.deadline - r.time.mono));
		r.time.mono = r.time.deadline - 1;
		fire(&r);
		ck_assert(!r.irq.level);
		r.time.mono++;
		fire(&r);
		ck_assert(r.irq.level);
		ck_assert_uint_eq(rd(r.c, CMOS_REG_C) & 0xc0, 0xc0);
		ck_assert(!r.irq.level);
		rig_free(&r);
	}
}
END_TEST

START_TEST(cmos_periodic_flag_without_pie)
{
	struct rig r;

	rig_init(&r, WALL_2024, 0);
	ck_assert_uint_eq(r.time.arms, 0); /* nothing enabled: no timer */
	r.time.mono += 2 * MS;
	ck_assert_uint_eq(rd(r.c, CMOS_REG_C), 0x40);
	ck_assert_uint_eq(r.irq.sets, 0);
	/* PF goes on while SET holds the clock (the divider runs). */
	wr(r.c, CMOS_REG_B, 0x82);
	r.time.mono += 2 * MS;
	ck_assert_uint_eq(rd(r.c, CMOS_REG_C), 0x40);
	rig_free(&r);
}
END_TEST

START_TEST(cmos_uip)
{
	struct rig r;

	rig_init(&r, WALL_2024, 500 * MS);
	ck_assert_uint_eq(rd(r.c, CMOS_REG_A), 0x26);
	r.time.mono += 500 * MS - 244000 - 1;
	ck_assert_uint_eq(rd(r.c, CMOS_REG_A), 0x26);
	r.time.mono += 1;
	ck_assert_uint_eq(rd(r.c, CMOS_REG_A), 0xa6);
	r.time.mono += 244000 + 1984000 - 1;
	ck_assert_uint_eq(rd(r.c, CMOS_REG_A), 0xa6);
	r.time.mono += 1;
	ck_assert_uint_eq(rd(r.c, CMOS_REG_A), 0x26);
	/* UIP is read-only. */
	wr(r.c, CMOS_REG_A, 0xa6);
	ck_assert_uint_eq(rd(r.c, CMOS_REG_A), 0x26);
	rig_free(&r);
}
END_TEST

/* DV = 11x stops the clock; the first update comes 500 ms after. */
START_TEST(cmos_divider_reset)
{
	struct rig r;

	rig_init(&r, WALL_2024, 100 * MS);
	wr(r.c, CMOS_REG_A, 0x70);
	r.time.mono += 10 * NS;
	ck_assert_uint_eq(rd(r.c, 0), 0x56);
	ck_assert_uint_eq(rd(r.c, CMOS_REG_C), 0); /* no PF, no UF */
	wr(r.c, CMOS_REG_A, 0x26);
	r.time.mono += 500 * MS - 1;
	ck_assert_uint_eq(rd(r.c, 0), 0x56);
	r.time.mono += 1;
	ck_assert_uint_eq(rd(r.c, 0), 0x57);
	rig_free(&r);
}
END_TEST

START_TEST(cmos_register_d_and_c_read_only)
{
	struct rig r;

	rig_init(&r, WALL_2024, 0);
	ck_assert_uint_eq(rd(r.c, CMOS_REG_D), 0x80);
	wr(r.c, CMOS_REG_D, 0x00);
	ck_assert_uint_eq(rd(r.c, CMOS_REG_D), 0x80);
	wr(r.c, CMOS_REG_C, 0xff);
	ck_assert_uint_eq(rd(r.c, CMOS_REG_C), 0);
	ck_assert(!r.irq.level);
	rig_free(&r);
}
END_TEST

static unsigned int le16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static void read_nvram(struct cmos *c, uint8_t nv[128])
{
	for (unsigned int i = 0; i < 128; i++)
		nv[i] = rd(c, (uint8_t)i);
}

static unsigned int checksum(const uint8_t *nv)
{
	unsigned int s = 0;

	for (int i = 0x10; i < 0x2e; i++)
		s += nv[i];
	return s & 0xffff;
}

START_TEST(cmos_nvram_layout)
{
	struct fake_time ft = { .wall = WALL_2024 * (int64_t)NS };
	struct cmos_config cfg = {
		.clock = { ft_now, ft_wall, &ft },
		.ram_below_4g = 3ull << 30,
		.ram_above_4g = (5ull << 30) + (64 << 10),
		.cpus = 8,
	};
	uint8_t nv[128];
	struct cmos *c;
	struct rig r;

	/* 128 MiB: 127 MiB above 1 MiB (saturated), 112 above 16 MiB. */
	rig_init(&r, WALL_2024, 0);
	read_nvram(r.c, nv);
	ck_assert_uint_eq(nv[0x0e], 0);
	ck_assert_uint_eq(nv[0x10], 0);
	ck_assert_uint_eq(nv[0x14], 0x02);
	ck_assert_uint_eq(le16(nv + 0x15), 640);
	ck_assert_uint_eq(le16(nv + 0x17), 0xffff);
	ck_assert_uint_eq(le16(nv + 0x30), 0xffff);
	ck_assert_uint_eq(le16(nv + 0x34), 112 * 16);
	ck_assert_uint_eq(nv[0x5b] | nv[0x5c] << 8 | nv[0x5d] << 16, 0);
	ck_assert_uint_eq(nv[0x5f], 1);
	ck_assert_uint_eq(nv[0x32], 0x20);
	ck_assert_uint_eq(nv[0x2e] << 8 | nv[0x2f], checksum(nv));
	rig_free(&r);

	/* 3 GiB low, 5 GiB + 64 KiB high. */
	ck_assert_int_eq(cmos_new(&cfg, &c), 0);
	read_nvram(c, nv);
	ck_assert_uint_eq(le16(nv + 0x17), 0xffff);
	ck_assert_uint_eq(le16(nv + 0x30), 0xffff);
	ck_assert_uint_eq(le16(nv + 0x34), (3072 - 16) * 16);
	ck_assert_uint_eq(nv[0x5b] | nv[0x5c] << 8 | nv[0x5d] << 16,
			  5 * 16384 + 1);
	ck_assert_uint_eq(nv[0x5f], 7);
	ck_assert_uint_eq(nv[0x2e] << 8 | nv[0x2f], checksum(nv));
	cmos_ops.destroy(c);

	/* 32 MiB: every count fits. */
	cfg.ram_below_4g = 32ull << 20;
	cfg.ram_above_4g = 0;
	ck_assert_int_eq(cmos_new(&cfg, &c), 0);
	read_nvram(c, nv);
	ck_assert_uint_eq(le16(nv + 0x17), 31 * 1024);
	ck_assert_uint_eq(le16(nv + 0x30), 31 * 1024);
	ck_assert_uint_eq(le16(nv + 0x34), 16 * 16);
	ck_assert_uint_eq(nv[0x2e] << 8 | nv[0x2f], checksum(nv));
	cmos_ops.destroy(c);
}
END_TEST

/* Every NVRAM byte keeps what is written; the index has 7 bits. */
START_TEST(cmos_nvram_and_index)
{
	struct rig r;

	rig_init(&r, WALL_2024, 0);
	for (unsigned int i = 0x0e; i < 128; i++)
		if (i != 0x32)
			wr(r.c, (uint8_t)i, (uint8_t)(i ^ 0xa5));
	for (unsigned int i = 0x0e; i < 128; i++)
		if (i != 0x32)
			ck_assert_uint_eq(rd(r.c, (uint8_t)i), i ^ 0xa5);
	/* Bit 7 of the index is the NMI mask, not an address bit. */
	out(r.c, 0x70, 0x80 | 0x40);
	ck_assert(cmos_nmi_masked(r.c));
	ck_assert_uint_eq(in(r.c, 0x71, 1), 0x40 ^ 0xa5);
	out(r.c, 0x71, 0x11);
	out(r.c, 0x70, 0x40);
	ck_assert(!cmos_nmi_masked(r.c));
	ck_assert_uint_eq(in(r.c, 0x71, 1), 0x11);
	/* Port 0x70 is write-only. */
	ck_assert_uint_eq(in(r.c, 0x70, 1), 0xff);
	rig_free(&r);
}
END_TEST

/* RESET: enables and flags cleared; time, format and RAM kept. */
START_TEST(cmos_reset_keeps_time)
{
	struct rig r;

	rig_init(&r, WALL_2024, 0);
	wr(r.c, 0x40, 0x77);
	wr(r.c, CMOS_REG_B, 0x7e); /* PIE AIE UIE SQWE binary 24h */
	r.time.mono += NS;
	fire(&r);
	ck_assert(r.irq.level);
	out(r.c, 0x70, 0x80 | 0x40);
	cmos_ops.reset(r.c);
	ck_assert(!r.irq.level);
	ck_assert(!cmos_nmi_masked(r.c));
	ck_assert_uint_eq(r.time.deadline, 0);
	ck_assert_uint_eq(rd(r.c, CMOS_REG_B), 0x06);
	ck_assert_uint_eq(rd(r.c, CMOS_REG_C), 0);
	ck_assert_uint_eq(rd(r.c, 0x40), 0x77);
	ck_assert_uint_eq(rd(r.c, 0), 57);
	rig_free(&r);
}
END_TEST

/* Words, dwords and qwords are ignored; the state does not change. */
START_TEST(cmos_odd_widths_ignored)
{
	struct rig r;
	const unsigned int lens[] = { 2, 4, 8 };

	rig_init(&r, WALL_2024, 0);
	out(r.c, 0x70, 0x40);
	out(r.c, 0x71, 0x12);
	for (size_t i = 0; i < 3; i++) {
		const struct io_access a0 = { 0x70, 0, lens[i], 0 };
		const struct io_access a1 = { 0x71, 1, lens[i], 0 };

		cmos_ops.write(r.c, &a0, 0x8b);
		cmos_ops.write(r.c, &a1, 0xff);
		ck_assert_uint_eq(cmos_ops.read(r.c, &a0),
				  io_all_ones(lens[i]));
		ck_assert_uint_eq(cmos_ops.read(r.c, &a1),
				  io_all_ones(lens[i]));
	}
	ck_assert(!cmos_nmi_masked(r.c));
	ck_assert_uint_eq(in(r.c, 0x71, 1), 0x12);
	rig_free(&r);
}
END_TEST

/*
 * A hostile guest: random bytes to both ports, random clock steps (up to
 * days) and timer expiries. Nothing crashes, IRQ 8 changes only when it
 * changes, and the time always reads as a valid date.
 */
START_TEST(cmos_random_accesses)
{
	uint64_t seed = 0x5eed0cafe;
	struct rig r;

	rig_init(&r, WALL_2024, 0);
	for (int i = 0; i < 20000; i++) {
		uint64_t x = xorshift64(&seed);

		switch (x % 5) {
		case 0:
			out(r.c, 0x70, (uint8_t)(x >> 8));
			break;
		case 1:
			out(r.c, 0x71, (uint8_t)(x >> 8));
			break;
		case 2:
			in(r.c, 0x71, 1);
			break;
		case 3:
			r.time.mono +=
				(x >> 8) %
				((x >> 40) & 1 ? 3 * NS : 400000ull * NS);
			break;
		default:
			if (r.time.deadline && r.time.deadline <= r.time.mono)
				fire(&r);
			break;
		}
	}
	ck_assert_uint_eq(r.irq.redundant, 0);
	/* Back to a known state: binary, 24 h, running. */
	wr(r.c, CMOS_REG_A, 0x26);
	wr(r.c, CMOS_REG_B, 0x06);
	uint8_t t[8];

	read_time(r.c, t);
	ck_assert_uint_le(t[0], 59);
	ck_assert_uint_le(t[1], 59);
	ck_assert_uint_le(t[2], 23);
	ck_assert(t[3] >= 1 && t[3] <= 7);
	ck_assert(t[4] >= 1 && t[4] <= 31);
	ck_assert(t[5] >= 1 && t[5] <= 12);
	ck_assert_uint_le(t[6], 99);
	ck_assert_uint_le(t[7], 99);
	rig_free(&r);
}
END_TEST

START_TEST(cmos_describe)
{
	struct rig r;
	char fdt[1024];
	int off;

	rig_init(&r, WALL_2024, 0);
	off = isa_describe(&cmos_ops, r.c, fdt, sizeof(fdt), "rtc@70");
	ck_assert_isa_reg(fdt, off, 0x70, 2);
	ck_assert_str_eq(fdt_getprop(fdt, off, "compatible", NULL),
			 "motorola,mc146818");
	ck_assert_uint_eq(fdt32_to_cpu(*(const fdt32_t *)fdt_getprop(
				  fdt, off, "interrupts", NULL)),
			  8);
	rig_free(&r);
}
END_TEST

START_TEST(cmos_new_rejects)
{
	struct fake_time ft = { 0 };
	struct cmos_config cfg = {
		.clock = { ft_now, ft_wall, &ft },
		.cpus = 1,
	};
	struct cmos *c;

	ck_assert_int_eq(cmos_new(NULL, &c), -EINVAL);
	ck_assert_int_eq(cmos_new(&cfg, NULL), -EINVAL);
	cfg.cpus = 0;
	ck_assert_int_eq(cmos_new(&cfg, &c), -EINVAL);
	cfg.cpus = 257;
	ck_assert_int_eq(cmos_new(&cfg, &c), -EINVAL);
	cfg.cpus = 1;
	cfg.clock.wall = NULL;
	ck_assert_int_eq(cmos_new(&cfg, &c), -EINVAL);
	cfg.clock.wall = ft_wall;
	cfg.clock.now = NULL;
	ck_assert_int_eq(cmos_new(&cfg, &c), -EINVAL);
	/* Before 1970 works too. */
	cfg.clock.now = ft_now;
	ft.wall = -1;
	ck_assert_int_eq(cmos_new(&cfg, &c), 0);
	ck_assert_uint_eq(rd(c, 9), 0x69);
	ck_assert_uint_eq(rd(c, 0), 0x59);
	cmos_ops.destroy(c);
	cmos_ops.destroy(NULL);
}
END_TEST

/* ---- Snapshots ------------------------------------------------------------
 */

/* The blob's layout (devices/cmos.c, version 1). */
#define SNAP_SIZE 152
#define SNAP_RAM 8
#define SNAP_INDEX 136
#define SNAP_NMI 137
#define SNAP_FLAGS 138
#define SNAP_LINES 139
#define SNAP_SECS 140
#define SNAP_FRAC 148
/* 2030-06-01 00:00:00 UTC: another host's wall clock. */
#define WALL_2030 1906502400ll

static int snap_save(struct rig *r, uint8_t buf[SNAP_SIZE])
{
	return cmos_ops.save(r->c, buf, SNAP_SIZE, r->time.mono);
}

static int snap_load(struct rig *r, const void *buf, size_t len)
{
	return cmos_ops.load(r->c, buf, len, r->time.mono);
}

static void put_field(uint8_t *b, size_t off, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

/*
 * The RTC at a hard moment: the alarm set for 13:46:00 with AIE, the
 * periodic interrupt at 2 Hz with PIE and its flag up (IRQ 8 asserted),
 * UIE on, and the clock inside the update cycle (UIP reads 1); the index
 * left at register A with NMIs masked.
 */
static void busy_rtc(struct rig *r)
{
	rig_init(r, WALL_2024, 500 * MS); /* 13:45:56.5 */
	wr(r->c, CMOS_REG_A, 0x2f);	  /* RS 15: 2 Hz */
	wr(r->c, 1, 0x00);
	wr(r->c, 3, 0x46);
	wr(r->c, 5, 0x13);
	wr(r->c, CMOS_REG_B, 0x02 | 0x40 | 0x20 | 0x10);
	r->time.mono += 400 * MS;
	fire(r);
	rd(r->c, CMOS_REG_C);
	r->time.mono = r->time.deadline; /* 13:45:57.0: PF and UF */
	fire(r);
	ck_assert(r->irq.level);
	r->time.mono += NS - 100000; /* 13:45:57.9999: UIP */
	out(r->c, 0x70, 0x80 | CMOS_REG_A);
}

/* r and r2 read alike: register A (UIP), the time, the NMI mask. */
static void assert_same_rtc(struct rig *r, struct rig *r2)
{
	uint8_t a[8], b[8];

	ck_assert_uint_eq(r->irq.level, r2->irq.level);
	ck_assert_uint_eq(r->alarm.level, r2->alarm.level);
	ck_assert_uint_eq(cmos_nmi_masked(r->c), cmos_nmi_masked(r2->c));
	ck_assert_uint_eq(in(r->c, 0x71, 1), in(r2->c, 0x71, 1));
	read_time(r->c, a);
	read_time(r2->c, b);
	ck_assert_mem_eq(a, b, sizeof(a));
	out(r->c, 0x70, 0x80 | CMOS_REG_A);
	out(r2->c, 0x70, 0x80 | CMOS_REG_A);
}

/* Time passes for both; the timers fire when due; flags compared. */
static void step_both(struct rig *r, struct rig *r2, uint64_t dt)
{
	uint64_t delta = r2->time.mono - r->time.mono;

	r->time.mono += dt;
	r2->time.mono += dt;
	if (r->time.deadline && r->time.deadline <= r->time.mono)
		fire(r);
	if (r2->time.deadline && r2->time.deadline <= r2->time.mono)
		fire(r2);
	/* (a save works the flags out up to its time: compared once fired) */
	ck_assert_uint_eq(r2->time.deadline,
			  r->time.deadline ? r->time.deadline + delta : 0);
	ck_assert_uint_eq(r->irq.level, r2->irq.level);
	ck_assert_uint_eq(r->alarm.level, r2->alarm.level);
}

START_TEST(cmos_snapshot_round_trip)
{
	struct rig r, r2;
	uint8_t a[SNAP_SIZE], b[SNAP_SIZE];

	busy_rtc(&r);
	ck_assert_uint_eq(in(r.c, 0x71, 1), 0xaf); /* UIP */
	ck_assert_int_eq(snap_save(&r, a), SNAP_SIZE);
	/* Elsewhere, later, with another wall clock. */
	rig_init(&r2, WALL_2030, 0);
	r2.time.mono = r.time.mono + 3600 * NS + 12345;
	ck_assert_int_eq(snap_load(&r2, a, sizeof(a)), 0);
	ck_assert(r2.irq.level); /* PF with PIE: IRQ 8 up at once */
	ck_assert_uint_eq(r2.irq.sets, 1);
	ck_assert_uint_eq(r2.time.deadline, 0); /* nothing to wait for */
	ck_assert_int_eq(snap_save(&r2, b), SNAP_SIZE);
	ck_assert_mem_eq(a, b, SNAP_SIZE);
	assert_same_rtc(&r, &r2);
	ck_assert_uint_eq(rd(r.c, CMOS_REG_C), rd(r2.c, CMOS_REG_C));
	ck_assert(!r2.irq.level);
	/* Timer armed for the same instant of guest time. */
	ck_assert_uint_ne(r2.time.deadline, 0);
	ck_assert_uint_eq(r2.time.deadline,
			  r.time.deadline + (r2.time.mono - r.time.mono));
	/* On through the alarm (13:46:00), reading C as a driver would. */
	for (unsigned int i = 0; i < 60; i++) {
		step_both(&r, &r2, 70 * MS + i * MS);
		if (i % 3 == 0)
			ck_assert_uint_eq(rd(r.c, CMOS_REG_C),
					  rd(r2.c, CMOS_REG_C));
		if (i % 7 == 0)
			assert_same_rtc(&r, &r2);
	}
	ck_assert_uint_eq(r2.alarm.rises, 1);
	ck_assert_uint_eq(r.irq.redundant + r2.irq.redundant, 0);
	rig_free(&r2);
	rig_free(&r);
}
END_TEST

/*
 * Saved while an interrupt was due but its timer had not fired (the VM
 * paused): the load leaves IRQ 8 and the alarm output where they were and
 * arms the timer for at once; its expiry raises them, as on the VM saved.
 * A blob whose lines were up drives IRQ 8 at load, never the alarm wire.
 */
START_TEST(cmos_snapshot_interrupt_due_at_save)
{
	struct rig r, r2, r3;
	uint8_t a[SNAP_SIZE];

	rig_init(&r, WALL_2024, 0); /* 13:45:56 */
	wr(r.c, 1, 0x57);
	wr(r.c, 3, 0x45);
	wr(r.c, 5, 0x13);
	wr(r.c, CMOS_REG_B, 0x22); /* AIE */
	ck_assert_uint_ne(r.time.deadline, 0);
	r.time.mono = r.time.deadline + 1500 * MS; /* past 13:45:57, unfired */
	ck_assert_int_eq(snap_save(&r, a), SNAP_SIZE);
	ck_assert_uint_eq(a[SNAP_FLAGS] & 0x30, 0x30); /* AF, UF worked out */
	ck_assert_uint_eq(a[SNAP_LINES], 0); /* the lines as they were */
	rig_init(&r2, WALL_2030, 0);
	r2.time.mono = r.time.mono + 10 * NS;
	ck_assert_int_eq(snap_load(&r2, a, sizeof(a)), 0);
	ck_assert(!r2.irq.level);
	ck_assert_uint_eq(r2.alarm.sets + r2.irq.sets, 0);
	ck_assert_uint_eq(r2.time.deadline, r2.time.mono);
	fire(&r);
	fire(&r2);
	ck_assert(r.irq.level && r2.irq.level);
	ck_assert(r.alarm.level && r2.alarm.level);
	ck_assert_uint_eq(rd(r.c, CMOS_REG_C), rd(r2.c, CMOS_REG_C));
	assert_same_rtc(&r, &r2);

	wr(r.c, 1, 0xc0); /* every second */
	r.time.mono += 3 * NS;
	fire(&r);
	ck_assert(r.irq.level && r.alarm.level);
	ck_assert_int_eq(snap_save(&r, a), SNAP_SIZE);
	ck_assert_uint_eq(a[SNAP_LINES], 0x03);
	rig_init(&r3, WALL_2030, 0);
	r3.time.mono = r.time.mono;
	ck_assert_int_eq(snap_load(&r3, a, sizeof(a)), 0);
	ck_assert(r3.irq.level);
	ck_assert_uint_eq(r3.alarm.sets, 0);
	ck_assert_uint_eq(r3.time.deadline, 0);
	rd(r3.c, CMOS_REG_C);
	ck_assert(!r3.irq.level);
	/* it falls: the PM's end, loaded from its own blob, was up */
	ck_assert_uint_eq(r3.alarm.sets, 1);
	ck_assert_uint_eq(r3.irq.redundant, 0);
	rig_free(&r3);
	rig_free(&r2);
	rig_free(&r);
}
END_TEST

/* The clock held by SET, or stopped by the divider, goes on when let go. */
START_TEST(cmos_snapshot_held_clock)
{
	static const uint8_t hold[2][2] = {
		{ CMOS_REG_B, 0x82 }, /* SET */
		{ CMOS_REG_A, 0x76 }, /* divider in reset */
	};

	for (unsigned int k = 0; k < 2; k++) {
		struct rig r, r2;
		uint8_t a[SNAP_SIZE];

		rig_init(&r, WALL_2024, 250 * MS);
		wr(r.c, hold[k][0], hold[k][1]);
		wr(r.c, 0, 0x30);
		wr(r.c, 2, 0x59);
		r.time.mono += 5 * NS;
		ck_assert_int_eq(snap_save(&r, a), SNAP_SIZE);
		rig_init(&r2, WALL_2030, 0);
		r2.time.mono = r.time.mono + 77 * NS + 5;
		ck_assert_int_eq(snap_load(&r2, a, sizeof(a)), 0);
		assert_same_rtc(&r, &r2);
		wr(r.c, hold[k][0], k ? 0x26 : 0x02);
		wr(r2.c, hold[k][0], k ? 0x26 : 0x02);
		for (unsigned int i = 0; i < 10; i++) {
			step_both(&r, &r2, 300 * MS);
			assert_same_rtc(&r, &r2);
		}
		rig_free(&r2);
		rig_free(&r);
	}
}
END_TEST

/*
 * Random guest accesses and time (cmos_random_accesses' mix); every so
 * often a fresh RTC loads a snapshot: every state a guest can reach
 * loads, and saves back the same.
 */
START_TEST(cmos_snapshot_random_round_trips)
{
	uint64_t seed = 0x6818abcdull;
	struct rig r;

	rig_init(&r, WALL_2024, 0);
	for (int i = 0; i < 20000; i++) {
		uint64_t x = xorshift64(&seed);

		switch (x % 5) {
		case 0:
			out(r.c, 0x70, (uint8_t)(x >> 8));
			break;
		case 1:
			out(r.c, 0x71, (uint8_t)(x >> 8));
			break;
		case 2:
			in(r.c, 0x71, 1);
			break;
		case 3:
			r.time.mono += (x >> 8) %
				       ((x >> 40) & 1 ? 3 * NS : 40000ull * NS);
			break;
		default:
			if (r.time.deadline && r.time.deadline <= r.time.mono)
				fire(&r);
			break;
		}
		if (i % 50 == 0) {
			uint8_t a[SNAP_SIZE], b[SNAP_SIZE];
			struct rig r2;

			ck_assert_int_eq(snap_save(&r, a), SNAP_SIZE);
			rig_init(&r2, WALL_2030, 0);
			r2.time.mono = r.time.mono + (x >> 20) % (50 * NS);
			ck_assert_msg(snap_load(&r2, a, sizeof(a)) == 0,
				      "op %d", i);
			ck_assert_int_eq(snap_save(&r2, b), SNAP_SIZE);
			ck_assert_mem_eq(a, b, SNAP_SIZE);
			r2.time.mono += NS / 3;
			r.time.mono += NS / 3;
			ck_assert_uint_eq(rd(r.c, CMOS_REG_C),
					  rd(r2.c, CMOS_REG_C));
			ck_assert_uint_eq(r.irq.level, r2.irq.level);
			rig_free(&r2);
		}
	}
	rig_free(&r);
}
END_TEST

/* A refused load: -EINVAL, and the RTC, its lines and timer untouched. */
static void assert_refused(struct rig *r, const uint8_t *blob, size_t len,
			   const char *what)
{
	uint8_t before[SNAP_SIZE], after[SNAP_SIZE];
	unsigned int arms = r->time.arms, sets = r->irq.sets;
	unsigned int alarm_sets = r->alarm.sets;

	ck_assert_int_eq(snap_save(r, before), SNAP_SIZE);
	ck_assert_msg(snap_load(r, blob, len) == -EINVAL, "%s accepted", what);
	ck_assert_int_eq(snap_save(r, after), SNAP_SIZE);
	ck_assert_msg(!memcmp(before, after, SNAP_SIZE), "%s: changed", what);
	ck_assert_uint_eq(r->time.arms, arms);
	ck_assert_uint_eq(r->irq.sets, sets);
	ck_assert_uint_eq(r->alarm.sets, alarm_sets);
}

START_TEST(cmos_snapshot_truncated_refused)
{
	struct rig r, r2;
	uint8_t a[SNAP_SIZE + 1] = { 0 };

	busy_rtc(&r);
	ck_assert_int_eq(cmos_ops.save(r.c, a, SNAP_SIZE - 1, r.time.mono),
			 -ENOSPC);
	ck_assert_int_eq(snap_save(&r, a), SNAP_SIZE);
	rig_init(&r2, WALL_2030, 0);
	wr(r2.c, CMOS_REG_B, 0x42);
	for (size_t len = 0; len < SNAP_SIZE; len++)
		assert_refused(&r2, a, len, "truncated");
	assert_refused(&r2, a, SNAP_SIZE + 1, "too long");
	assert_refused(&r2, NULL, SNAP_SIZE, "NULL");
	rig_free(&r2);
	rig_free(&r);
}
END_TEST

START_TEST(cmos_snapshot_bad_fields_refused)
{
	static const struct {
		const char *what;
		size_t off;
		unsigned int bytes;
		uint64_t v;
	} cases[] = {
		{ "magic", 0, 4, 0x38313837 },
		{ "version", 4, 2, 2 },
		{ "RAM size 256", 6, 2, 256 },
		{ "RAM size 64", 6, 2, 64 },
		{ "UIP stored", SNAP_RAM + CMOS_REG_A, 1, 0xa6 },
		{ "SET with UIE", SNAP_RAM + CMOS_REG_B, 1, 0x92 },
		{ "register C stored", SNAP_RAM + CMOS_REG_C, 1, 0x80 },
		{ "register D stored", SNAP_RAM + CMOS_REG_D, 1, 0x80 },
		{ "index 128", SNAP_INDEX, 1, 0x80 },
		{ "index 255", SNAP_INDEX, 1, 0xff },
		{ "NMI mask 2", SNAP_NMI, 1, 2 },
		{ "flag bit 3", SNAP_FLAGS, 1, 0x08 },
		{ "IRQF stored", SNAP_FLAGS, 1, 0x80 | 0x40 },
		{ "IRQ 8 up, no flag", SNAP_FLAGS, 1, 0 },
		{ "line bit 2", SNAP_LINES, 1, 0x05 },
		{ "alarm output up, AF clear", SNAP_LINES, 1, 0x03 },
		{ "second 10^9 ns long", SNAP_FRAC, 4, NS },
		{ "ns ~0", SNAP_FRAC, 4, 0xffffffff },
		{ "year 35000", SNAP_SECS, 8, 1000000000001ull },
		{ "INT64_MIN seconds", SNAP_SECS, 8, 1ull << 63 },
		{ "INT64_MAX seconds", SNAP_SECS, 8, ~0ull >> 1 },
	};
	struct rig r, r2;
	uint8_t a[SNAP_SIZE], b[SNAP_SIZE];

	busy_rtc(&r);
	ck_assert_int_eq(snap_save(&r, a), SNAP_SIZE);
	rig_init(&r2, WALL_2030, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(b, a, sizeof(b));
		put_field(b, cases[i].off, cases[i].v, cases[i].bytes);
		assert_refused(&r2, b, sizeof(b), cases[i].what);
	}
	/* the limits themselves load */
	memcpy(b, a, sizeof(b));
	put_field(b, SNAP_SECS, (uint64_t)-1000000000000ll, 8);
	put_field(b, SNAP_FRAC, NS - 1, 4);
	ck_assert_int_eq(snap_load(&r2, b, sizeof(b)), 0);
	ck_assert_int_eq(snap_load(&r2, a, sizeof(a)), 0);
	rig_free(&r2);
	rig_free(&r);
}
END_TEST

/*
 * Thousands of mutated blobs: never a crash (ASan/UBSan builds); refused
 * ones change nothing; accepted ones save back byte for byte and the RTC
 * runs on from them, its IRQ line changing only when it changes.
 */
START_TEST(cmos_snapshot_fuzz)
{
	uint64_t seed = 0xc0ffee6818ull;
	uint8_t valid[SNAP_SIZE];
	unsigned int accepted = 0;
	struct rig r, r2;

	busy_rtc(&r);
	ck_assert_int_eq(snap_save(&r, valid), SNAP_SIZE);
	rig_init(&r2, WALL_2030, 0);
	r2.time.mono = r.time.mono;
	for (unsigned int iter = 0; iter < 6000; iter++) {
		uint8_t b[SNAP_SIZE], o[SNAP_SIZE];
		uint64_t x = xorshift64(&seed);

		memcpy(b, valid, sizeof(b));
		rng_mutate(b, SNAP_SIZE, 8, x, &seed);
		if (snap_load(&r2, b, sizeof(b)) != 0) {
			assert_refused(&r2, b, sizeof(b), "mutated");
			continue;
		}
		accepted++;
		ck_assert_int_eq(snap_save(&r2, o), SNAP_SIZE);
		ck_assert_msg(!memcmp(b, o, SNAP_SIZE), "iteration %u", iter);
		for (unsigned int k = 0; k < 4; k++) {
			uint64_t y = xorshift64(&seed);

			out(r2.c, 0x70, (uint8_t)y);
			in(r2.c, 0x71, 1);
			r2.time.mono += (y >> 8) % (2 * NS);
			if (r2.time.deadline &&
			    r2.time.deadline <= r2.time.mono)
				fire(&r2);
		}
		r2.time.mono = r.time.mono;
		ck_assert_int_eq(snap_load(&r2, valid, sizeof(valid)), 0);
	}
	ck_assert_uint_gt(accepted, 1000);
	/* (the alarm wire's far end is the PM's to load: not compared) */
	ck_assert_uint_eq(r2.irq.redundant, 0);
	rig_free(&r2);
	rig_free(&r);
}
END_TEST

UNIT_SUITE("cmos", cmos_time_bcd_24h, cmos_time_binary_and_12h, cmos_set_time,
	   cmos_set_time_binary_12h, cmos_write_while_running,
	   cmos_invalid_time_clamped, cmos_update_flag_read_to_clear,
	   cmos_alarm, cmos_alarm_output, cmos_periodic_rates,
	   cmos_periodic_flag_without_pie, cmos_uip, cmos_divider_reset,
	   cmos_register_d_and_c_read_only, cmos_nvram_layout,
	   cmos_nvram_and_index, cmos_reset_keeps_time, cmos_odd_widths_ignored,
	   cmos_random_accesses, cmos_describe, cmos_new_rejects,
	   cmos_snapshot_round_trip, cmos_snapshot_interrupt_due_at_save,
	   cmos_snapshot_held_clock, cmos_snapshot_truncated_refused,
	   cmos_snapshot_bad_fields_refused, cmos_snapshot_fuzz,
	   cmos_snapshot_random_round_trips)
