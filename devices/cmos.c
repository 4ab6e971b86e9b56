// SPDX-License-Identifier: MIT
/* MC146818A RTC and CMOS RAM: time from a clock, flags computed lazily. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cmos.h"
#include "fdt_machine.h"

/*
 * Section names are those of the Motorola MC146818A datasheet ("Real-Time
 * Clock Plus RAM"); the NVRAM layout past register D follows the IBM PC/AT
 * Technical Reference and what SeaBIOS reads (and QEMU writes).
 *
 * The model keeps no ticking state: the time is the monotonic clock plus
 * an offset, and the update-ended, alarm and periodic flags of register C
 * are worked out from the time elapsed since they were last looked at,
 * whenever the guest touches the chip or the host timer fires.
 */

#define NS_PER_SEC 1000000000ull
#define TIMEBASE_HZ 32768 /* the divider's output: 32.768 kHz */
#define SECS_PER_DAY 86400

/* Address Map: the time, calendar and alarm bytes. */
#define REG_SEC 0x00
#define REG_SEC_ALARM 0x01
#define REG_MIN 0x02
#define REG_MIN_ALARM 0x03
#define REG_HOUR 0x04
#define REG_HOUR_ALARM 0x05
#define REG_WDAY 0x06
#define REG_MDAY 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09

/* Register A: UIP, DV2-DV0, RS3-RS0. */
#define A_UIP 0x80
#define A_DV_MASK 0x70
#define A_DV_32K 0x20 /* DV = 010: 32.768 kHz time base */
#define A_RS_MASK 0x0f
/* Register B: SET PIE AIE UIE SQWE DM 24/12 DSE. */
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_SQWE 0x08
#define B_DM_BINARY 0x04
#define B_24H 0x02
/* Register C: IRQF PF AF UF, bits 3-0 read 0. */
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10
/* Register D: VRT, the battery is good. */
#define D_VRT 0x80

#define INDEX_NMI_DISABLE 0x80
#define INDEX_MASK 0x7f
#define HOUR_PM 0x80
#define ALARM_DONT_CARE 0xc0 /* "Don't care" code: 11xxxxxx */

/*
 * "Update Cycle": UIP rises 244 us before the update and falls when it
 * ends, 1984 us later (32.768 kHz time base).
 */
#define UIP_LEAD_NS 244000ull
#define UPDATE_NS 1984000ull

/* PC/AT NVRAM bytes (Technical Reference, "CMOS RAM Address Map"). */
#define NV_DIAG 0x0e
#define NV_SHUTDOWN 0x0f
#define NV_FLOPPY 0x10
#define NV_DISK 0x12
#define NV_EQUIPMENT 0x14
#define NV_BASE_MEM 0x15 /* KiB, 2 bytes */
#define NV_EXT_MEM 0x17	 /* KiB above 1 MiB, 2 bytes, at most 65535 */
#define NV_CHECKSUM 0x2e /* of 0x10-0x2d, high byte first */
#define NV_EXT_MEM2 0x30 /* the same, as POST found it */
#define NV_MEM_16M 0x34	 /* 64 KiB units above 16 MiB, below 4 GiB */
#define NV_MEM_4G 0x5b	 /* 64 KiB units above 4 GiB, 3 bytes */
#define NV_CPUS 0x5f	 /* CPUs - 1 (SeaBIOS, QEMU) */
#define EQUIP_FPU 0x02	 /* math coprocessor; no floppies, EGA/VGA */

/* Guest time: calendar fields, as the registers count them. */
struct rtc_tm {
	int64_t year;				      /* 0-9999 */
	unsigned int mon, mday, wday, hour, min, sec; /* wday 0: Sunday */
};

struct cmos {
	pthread_mutex_t lock;
	struct cmos_config cfg;
	uint8_t ram[CMOS_SIZE]; /* NVRAM, registers A and B, alarms; the
				   time bytes only while held (below) */
	uint8_t index;
	bool nmi_masked;
	/*
	 * The running time: phase = now() + off_ns; seconds since the epoch
	 * = phase / 1e9 + off_sec, and the update cycles happen where phase
	 * crosses a multiple of 1e9, the periodic edges where its 32.768 kHz
	 * ticks cross a multiple of the period.
	 */
	int64_t off_sec;
	uint64_t off_ns;
	/*
	 * SET or the divider in reset hold the clock: the time bytes of ram[]
	 * are what reads give and writes change; the clock starts again from
	 * them when neither holds.
	 */
	bool held;
	uint64_t synced; /* now() up to which the flags are worked out */
	uint8_t flags;	 /* PF, AF, UF of register C */
	bool irq;	 /* the level IRQ 8 was last set to */
	bool alarm;	 /* the level the alarm output was last set to */
	uint64_t armed;	 /* deadline last given to arm(), 0: none */
};

/* ---- Calendar --------------------------------------------------------- */

/*
 * Proleptic Gregorian calendar, years 0-9999: the four digits the century
 * byte and the year register hold. Days count from 0000-01-01; year 0 is
 * a leap year; 400 years are exactly 146097 days.
 */
#define DAYS_PER_400Y 146097
#define DAYS_PER_10000Y (25 * (int64_t)DAYS_PER_400Y)
#define EPOCH_DAYS 719528 /* 1970-01-01 counted from 0000-01-01 */

static const unsigned int month_days[12] = { 31, 28, 31, 30, 31, 30,
					     31, 31, 30, 31, 30, 31 };

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned int days_in_month(int64_t y, unsigned int mon)
{
	return month_days[mon - 1] + (mon == 2 && is_leap(y));
}

/* Days from 0000-01-01 to y-01-01 (y >= 0): leap years 0, 4, ... < y. */
static int64_t days_before_year(int64_t y)
{
	return 365 * y + (y + 3) / 4 - (y + 99) / 100 + (y + 399) / 400;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int64_t tm_to_secs(const struct rtc_tm *t)
{
	int64_t days = days_before_year(t->year);

	for (unsigned int m = 1; m < t->mon; m++)
		days += days_in_month(t->year, m);
	days += (int64_t)t->mday - 1 - EPOCH_DAYS;
	return days * SECS_PER_DAY + t->hour * 3600 + t->min * 60 + t->sec;
}

/* Seconds since the epoch to fields; the years wrap at 10000. */
static void secs_to_tm(int64_t secs, struct rtc_tm *t)
{
	int64_t days = floor_div(secs, SECS_PER_DAY);
	int64_t sod = secs - days * SECS_PER_DAY;
	int64_t d = (days + EPOCH_DAYS) % DAYS_PER_10000Y, y;

	if (d < 0)
		d += DAYS_PER_10000Y;
	/* 1970-01-01 was a Thursday; 10000 years are whole weeks. */
	t->wday = (unsigned int)((days % 7 + 7 + 4) % 7);
	y = d * 400 / DAYS_PER_400Y;
	while (days_before_year(y) > d)
		y--;
	while (days_before_year(y + 1) <= d)
		y++;
	d -= days_before_year(y);
	t->year = y;
	for (t->mon = 1; d >= days_in_month(y, t->mon); t->mon++)
		d -= days_in_month(y, t->mon);
	t->mday = (unsigned int)d + 1;
	t->hour = (unsigned int)(sod / 3600);
	t->min = (unsigned int)(sod / 60 % 60);
	t->sec = (unsigned int)(sod % 60);
}

/* ---- Register formats ("Time, Calendar and Alarm Data Modes") ------- */

static bool binary_mode(const struct cmos *c)
{
	return c->ram[CMOS_REG_B] & B_DM_BINARY;
}

static uint8_t encode(const struct cmos *c, unsigned int v)
{
	return binary_mode(c) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

/* A byte to its value; BCD digits above 9 (undefined) count as 9. */
static unsigned int decode(const struct cmos *c, uint8_t b)
{
	unsigned int hi = b >> 4, lo = b & 0xf;

	if (binary_mode(c))
		return b;
	return (hi > 9 ? 9 : hi) * 10 + (lo > 9 ? 9 : lo);
}

/* 12-hour mode: 1-12, bit 7 set for PM ("Table 3"). */
static uint8_t encode_hour(const struct cmos *c, unsigned int h)
{
	if (c->ram[CMOS_REG_B] & B_24H)
		return encode(c, h);
	return (uint8_t)(encode(c, h % 12 ? h % 12 : 12) |
			 (h >= 12 ? HOUR_PM : 0));
}

static unsigned int clamp(unsigned int v, unsigned int lo, unsigned int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static unsigned int decode_hour(const struct cmos *c, uint8_t b)
{
	unsigned int h;

	if (c->ram[CMOS_REG_B] & B_24H)
		return clamp(decode(c, b), 0, 23);
	h = clamp(decode(c, (uint8_t)(b & ~HOUR_PM)), 1, 12) % 12;
	return h + (b & HOUR_PM ? 12 : 0);
}

/* The time bytes of ram[] as a time; out-of-range fields are clamped. */
static int64_t held_secs(const struct cmos *c)
{
	const uint8_t *r = c->ram;
	struct rtc_tm t = {
		.year = clamp(decode(c, r[CMOS_CENTURY]), 0, 99) * 100 +
			clamp(decode(c, r[REG_YEAR]), 0, 99),
		.mon = clamp(decode(c, r[REG_MONTH]), 1, 12),
		.hour = decode_hour(c, r[REG_HOUR]),
		.min = clamp(decode(c, r[REG_MIN]), 0, 59),
		.sec = clamp(decode(c, r[REG_SEC]), 0, 59),
	};

	t.mday = clamp(decode(c, r[REG_MDAY]), 1, days_in_month(t.year, t.mon));
	return tm_to_secs(&t);
}

/* Writes time secs into the time bytes of ram[]. */
static void hold_secs(struct cmos *c, int64_t secs)
{
	struct rtc_tm t;

	secs_to_tm(secs, &t);
	c->ram[REG_SEC] = encode(c, t.sec);
	c->ram[REG_MIN] = encode(c, t.min);
	c->ram[REG_HOUR] = encode_hour(c, t.hour);
	c->ram[REG_WDAY] = encode(c, t.wday + 1); /* 1: Sunday */
	c->ram[REG_MDAY] = encode(c, t.mday);
	c->ram[REG_MONTH] = encode(c, t.mon);
	c->ram[REG_YEAR] = encode(c, (unsigned int)(t.year % 100));
	c->ram[CMOS_CENTURY] = encode(c, (unsigned int)(t.year / 100));
}

static bool is_time_byte(unsigned int i)
{
	return i == REG_SEC || i == REG_MIN || i == REG_HOUR ||
	       (i >= REG_WDAY && i <= REG_YEAR) || i == CMOS_CENTURY;
}

/* ---- The clock -------------------------------------------------------- */

static uint64_t now(const struct cmos *c)
{
	return c->cfg.clock.now(c->cfg.clock.ctx);
}

static uint64_t phase(const struct cmos *c, uint64_t t)
{
	return t + c->off_ns;
}

static int64_t clock_secs(const struct cmos *c, uint64_t t)
{
	return (int64_t)(phase(c, t) / NS_PER_SEC) + c->off_sec;
}

/* Starts the clock at secs + frac_ns as of time t. */
static void clock_set(struct cmos *c, uint64_t t, int64_t secs,
		      uint64_t frac_ns)
{
	c->off_ns = (frac_ns + NS_PER_SEC - t % NS_PER_SEC) % NS_PER_SEC;
	c->off_sec = secs - (int64_t)(phase(c, t) / NS_PER_SEC);
}

/*
 * Divider Control: DV = 010 is the 32.768 kHz time base; 000 and 001 name
 * other crystals, taken here as matching ours (as QEMU does); 011-111
 * hold the divider chain in reset and stop the clock.
 */
static bool divider_runs(const struct cmos *c)
{
	return (c->ram[CMOS_REG_A] & A_DV_MASK) <= A_DV_32K;
}

/* Periodic Interrupt Rate Select, in 32.768 kHz ticks; 0: none. */
static uint64_t period_ticks(const struct cmos *c)
{
	unsigned int rs = c->ram[CMOS_REG_A] & A_RS_MASK;

	if (!rs)
		return 0;
	/* RS 1 and 2 tap the divider at 256 and 128 Hz, not 16 and 8 kHz. */
	return rs <= 2 ? 64ull << rs : 1ull << (rs - 1);
}

static uint64_t ticks(uint64_t phase_ns)
{
	return (uint64_t)((unsigned __int128)phase_ns * TIMEBASE_HZ /
			  NS_PER_SEC);
}

/* The first ns of phase at which tick count reaches tick. */
static uint64_t tick_ns(uint64_t tick)
{
	return (uint64_t)(((unsigned __int128)tick * NS_PER_SEC + TIMEBASE_HZ -
			   1) /
			  TIMEBASE_HZ);
}

/* ---- Flags and IRQ 8 ("Interrupts", "Register C") -------------------- */

static bool alarm_field_matches(uint8_t alarm, uint8_t now_byte)
{
	return (alarm & ALARM_DONT_CARE) == ALARM_DONT_CARE ||
	       alarm == now_byte;
}

/* Whether some value of a field (hours if hour, else 0-59) matches. */
static bool alarm_field_possible(const struct cmos *c, uint8_t alarm, bool hour)
{
	for (unsigned int v = 0; v < (hour ? 24u : 60u); v++)
		if (alarm_field_matches(alarm, hour ? encode_hour(c, v)
						    : encode(c, v)))
			return true;
	return false;
}

/*
 * Any update in (from, to] (update numbers) the alarm matches, compared
 * as the chip does: byte for byte, in the current data mode. A day of
 * updates holds every time of day, so at most one is looked at; hours and
 * minutes that do not match are skipped whole.
 */
static bool alarm_in(const struct cmos *c, uint64_t from, uint64_t to)
{
	const uint8_t *r = c->ram;

	if (!alarm_field_possible(c, r[REG_HOUR_ALARM], true) ||
	    !alarm_field_possible(c, r[REG_MIN_ALARM], false) ||
	    !alarm_field_possible(c, r[REG_SEC_ALARM], false))
		return false;
	if (to - from > SECS_PER_DAY)
		from = to - SECS_PER_DAY;
	for (uint64_t u = from + 1; u <= to;) {
		int64_t secs = (int64_t)u + c->off_sec;
		unsigned int sod =
			(unsigned int)(secs - floor_div(secs, SECS_PER_DAY) *
						      SECS_PER_DAY);

		if (!alarm_field_matches(r[REG_HOUR_ALARM],
					 encode_hour(c, sod / 3600)))
			u += 3600 - sod % 3600;
		else if (!alarm_field_matches(r[REG_MIN_ALARM],
					      encode(c, sod / 60 % 60)))
			u += 60 - sod % 60;
		else if (alarm_field_matches(r[REG_SEC_ALARM],
					     encode(c, sod % 60)))
			return true;
		else
			u++;
	}
	return false;
}

/* IRQF for flags and register B: a flag up with its interrupt enabled. */
static bool irqf_of(uint8_t flags, uint8_t b)
{
	return ((flags & C_PF) && (b & B_PIE)) ||
	       ((flags & C_AF) && (b & B_AIE)) ||
	       ((flags & C_UF) && (b & B_UIE));
}

/* The alarm output: the part of IRQF that the alarm drives. */
static bool alarm_of(uint8_t flags, uint8_t b)
{
	return (flags & C_AF) && (b & B_AIE);
}

static uint8_t irqf(const struct cmos *c)
{
	return irqf_of(c->flags, c->ram[CMOS_REG_B]) ? C_IRQF : 0;
}

static bool alarm_out(const struct cmos *c)
{
	return alarm_of(c->flags, c->ram[CMOS_REG_B]);
}

/* IRQ 8 or the alarm output is not yet at the level the flags call for. */
static bool lines_stale(const struct cmos *c)
{
	return (irqf(c) != 0) != c->irq || alarm_out(c) != c->alarm;
}

/*
 * IRQ# is driven while IRQF is 1; the PC inverts it onto ISA IRQ 8. The
 * alarm output follows the part of IRQF that the alarm drives.
 */
static void update_irq(struct cmos *c)
{
	bool level = irqf(c);
	bool alarm = alarm_out(c);

	if (level != c->irq) {
		c->irq = level;
		irq_line_set(&c->cfg.irq, level);
	}
	if (alarm != c->alarm) {
		c->alarm = alarm;
		irq_line_set(&c->cfg.alarm, alarm);
	}
}

/* The flags of what happened between the last sync and t. */
static uint8_t flags_due(const struct cmos *c, uint64_t t)
{
	uint64_t p0, p1, per = period_ticks(c);
	uint8_t f = 0;

	if (t <= c->synced || !divider_runs(c))
		return 0;
	p0 = phase(c, c->synced);
	p1 = phase(c, t);
	/* PF follows the divider, whatever SET says. */
	if (per && ticks(p1) / per > ticks(p0) / per)
		f |= C_PF;
	if (c->held || p1 / NS_PER_SEC == p0 / NS_PER_SEC)
		return f;
	f |= C_UF;
	if (alarm_in(c, p0 / NS_PER_SEC, p1 / NS_PER_SEC))
		f |= C_AF;
	return f;
}

/* Sets the flags of what happened between the last sync and t. */
static void sync_flags(struct cmos *c, uint64_t t)
{
	if (t <= c->synced)
		return;
	c->flags |= flags_due(c, t);
	c->synced = t;
}

/* The next instant (now()'s clock) a flag could raise IRQF, or 0. */
static uint64_t next_event(const struct cmos *c, uint64_t t)
{
	uint8_t b = c->ram[CMOS_REG_B];
	uint64_t p = phase(c, t), per = period_ticks(c), next = 0;

	if (c->irq || !divider_runs(c))
		return 0;
	if ((b & B_PIE) && per)
		next = tick_ns((ticks(p) / per + 1) * per);
	if ((b & (B_AIE | B_UIE)) && !c->held) {
		uint64_t sec = (p / NS_PER_SEC + 1) * NS_PER_SEC;

		if (!next || sec < next)
			next = sec;
	}
	return next ? next - c->off_ns : 0;
}

/*
 * Lines left stale by a snapshot's load (what came due while the VM was
 * paused) are brought up by cmos_fire() at once, once the VM runs.
 */
static void rearm(struct cmos *c, uint64_t t)
{
	uint64_t d = lines_stale(c) ? (t ? t : 1) : next_event(c, t);

	if (!c->cfg.timer.arm || d == c->armed)
		return;
	c->armed = d;
	c->cfg.timer.arm(c->cfg.timer.ctx, d);
}

/* Brings flags, IRQ 8 and the timer up to time t. */
static void sync(struct cmos *c, uint64_t t)
{
	sync_flags(c, t);
	update_irq(c);
	rearm(c, t);
}

/* ---- Holding and releasing the clock --------------------------------- */

static bool should_hold(const struct cmos *c)
{
	return (c->ram[CMOS_REG_B] & B_SET) || !divider_runs(c);
}

/*
 * Called after register A or B changed, flags synced to t. Holding copies
 * the time into the time bytes. Releasing starts the clock from them: the
 * first update comes a second after SET is cleared ("SET"), half a second
 * after the divider leaves reset ("Divider Control").
 */
static void apply_hold(struct cmos *c, uint64_t t, bool divider_was_held)
{
	bool hold = should_hold(c);

	if (hold && !c->held)
		hold_secs(c, clock_secs(c, t));
	else if (!hold && c->held)
		clock_set(c, t, held_secs(c),
			  divider_was_held ? NS_PER_SEC / 2 : 0);
	c->held = hold;
}

/* ---- Register access --------------------------------------------------- */

static bool in_uip_window(const struct cmos *c, uint64_t t)
{
	uint64_t frac = phase(c, t) % NS_PER_SEC;

	return frac >= NS_PER_SEC - UIP_LEAD_NS || frac < UPDATE_NS;
}

static uint8_t read_reg(struct cmos *c, unsigned int i, uint64_t t)
{
	uint8_t v;

	switch (i) {
	case CMOS_REG_A:
		v = c->ram[CMOS_REG_A] & ~A_UIP;
		if (!c->held && in_uip_window(c, t))
			v |= A_UIP;
		return v;
	case CMOS_REG_C:
		/* Read-to-clear: all flags and IRQ#. */
		v = c->flags | irqf(c);
		c->flags = 0;
		return v;
	case CMOS_REG_D:
		return D_VRT;
	}
	if (is_time_byte(i) && !c->held)
		hold_secs(c, clock_secs(c, t));
	return c->ram[i];
}

/* A time byte written while the clock runs: the clock takes it at once,
 * keeping its phase (the next update comes when it would have). */
static void write_time_byte(struct cmos *c, unsigned int i, uint8_t v,
			    uint64_t t)
{
	if (c->held) {
		c->ram[i] = v;
		return;
	}
	hold_secs(c, clock_secs(c, t));
	c->ram[i] = v;
	clock_set(c, t, held_secs(c), phase(c, t) % NS_PER_SEC);
	/* The new time must not look like an update having happened. */
	c->synced = t;
}

static void write_reg(struct cmos *c, unsigned int i, uint8_t v, uint64_t t)
{
	bool divider_was_held = !divider_runs(c);

	switch (i) {
	case CMOS_REG_A: /* UIP is read-only */
		c->ram[i] = (uint8_t)((v & ~A_UIP) | (c->ram[i] & A_UIP));
		break;
	case CMOS_REG_B:
		/* "UIE ... is cleared when the SET bit goes high". */
		if (v & B_SET)
			v &= (uint8_t)~B_UIE;
		c->ram[i] = v;
		break;
	case CMOS_REG_C:
	case CMOS_REG_D:
		return; /* read-only */
	default:
		if (is_time_byte(i))
			write_time_byte(c, i, v, t);
		else
			c->ram[i] = v;
		return;
	}
	apply_hold(c, t, divider_was_held);
}

static uint64_t cmos_read(void *dev, const struct io_access *a)
{
	struct cmos *c = dev;
	uint64_t t;
	uint8_t v;

	if (a->len != 1 || a->offset == 0)
		return io_all_ones(a->len);
	pthread_mutex_lock(&c->lock);
	t = now(c);
	sync_flags(c, t);
	v = read_reg(c, c->index, t);
	sync(c, t);
	pthread_mutex_unlock(&c->lock);
	return v;
}

static void cmos_write(void *dev, const struct io_access *a, uint64_t val)
{
	struct cmos *c = dev;
	uint64_t t;

	if (a->len != 1)
		return;
	pthread_mutex_lock(&c->lock);
	if (a->offset == 0) {
		c->index = val & INDEX_MASK;
		c->nmi_masked = val & INDEX_NMI_DISABLE;
	} else {
		t = now(c);
		sync_flags(c, t);
		write_reg(c, c->index, (uint8_t)val, t);
		sync(c, t);
	}
	pthread_mutex_unlock(&c->lock);
}

void cmos_fire(struct cmos *c)
{
	pthread_mutex_lock(&c->lock);
	c->armed = 0;
	sync(c, now(c));
	pthread_mutex_unlock(&c->lock);
}

bool cmos_nmi_masked(struct cmos *c)
{
	bool m;

	pthread_mutex_lock(&c->lock);
	m = c->nmi_masked;
	pthread_mutex_unlock(&c->lock);
	return m;
}

/* ---- Device ------------------------------------------------------------ */

/* "RESET": the interrupt enables, SQWE and the flags; not the clock. */
static void cmos_reset(void *dev)
{
	struct cmos *c = dev;
	uint64_t t;

	pthread_mutex_lock(&c->lock);
	t = now(c);
	sync_flags(c, t);
	c->ram[CMOS_REG_B] &= (uint8_t) ~(B_PIE | B_AIE | B_UIE | B_SQWE);
	c->flags = 0;
	c->index = 0;
	c->nmi_masked = false;
	sync(c, t);
	pthread_mutex_unlock(&c->lock);
}

static int cmos_describe(void *dev, void *fdt, int parent)
{
	struct cmos *c = dev;
	int r = fdt_add_isa_device(fdt, parent, "rtc", "motorola,mc146818",
				   CMOS_BASE, CMOS_REGION_SIZE,
				   c->cfg.irq.set ? (int)c->cfg.irq.line : -1);

	return r < 0 ? r : 0;
}

static void cmos_destroy(void *dev)
{
	struct cmos *c = dev;

	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* ---- Snapshots ----------------------------------------------------------- */

/*
 * The blob, version 1: 152 bytes, little-endian.
 *   header (8):	u32 magic "6818", u16 version, u16 RAM size (128)
 *   ram (128):		every byte, registers A and B, the alarm and the
 *			held time bytes included (C and D are computed)
 *   u8 index, u8 NMI masked, u8 flags (PF AF UF as of now),
 *   u8 lines (SNAP_IRQ, SNAP_ALARM: the levels IRQ 8 and the alarm
 *	output were last set to)
 *   s64 seconds since the epoch, u32 ns into that second: the guest's
 *	time at now, which also fixes the phase of the periodic interrupt
 *	and of the update cycle (UIP)
 * Nothing of the host's clocks is kept: the clock starts again from the
 * guest's time and the flags are worked out up to now (no sync time to
 * rebase). The lines keep the levels they had: if the flags worked out
 * call for others (an interrupt that came due while the VM was paused),
 * load arms the timer for now and cmos_fire() changes them once the VM
 * runs, as it would have on the VM saved. The host timer is computed
 * again.
 */
#define SNAP_MAGIC 0x38313836u /* "6818" */
#define SNAP_VERSION 1
#define SNAP_SIZE (8 + CMOS_SIZE + 4 + 8 + 4)
#define SNAP_FLAGS (C_PF | C_AF | C_UF)
#define SNAP_IRQ 0x01
#define SNAP_ALARM 0x02
/*
 * Guest times stay within this many seconds of 1970 (31700 years): far
 * beyond both the years the registers hold (0-9999) and the host's wall
 * clock, and small enough that no sum of seconds overflows.
 */
#define SNAP_SECS_LIMIT 1000000000000ll

static int cmos_save(void *dev, void *buf, size_t cap, uint64_t t)
{
	struct cmos *c = dev;
	struct snap_out o = { buf };

	if (cap < SNAP_SIZE)
		return -ENOSPC;
	pthread_mutex_lock(&c->lock);
	snap_put(&o, SNAP_MAGIC, 4);
	snap_put(&o, SNAP_VERSION, 2);
	snap_put(&o, CMOS_SIZE, 2);
	for (unsigned int i = 0; i < CMOS_SIZE; i++)
		snap_put(&o, c->ram[i], 1);
	snap_put(&o, c->index, 1);
	snap_put(&o, c->nmi_masked, 1);
	snap_put(&o, c->flags | flags_due(c, t), 1);
	snap_put(&o, (c->irq ? SNAP_IRQ : 0) | (c->alarm ? SNAP_ALARM : 0), 1);
	snap_put(&o, (uint64_t)clock_secs(c, t), 8);
	snap_put(&o, phase(c, t) % NS_PER_SEC, 4);
	pthread_mutex_unlock(&c->lock);
	return SNAP_SIZE;
}

/* What a blob says, before it is checked. */
struct cmos_snap {
	uint8_t ram[CMOS_SIZE];
	uint8_t index, nmi_masked, flags, lines;
	int64_t secs;
	uint32_t frac_ns;
};

/*
 * What the chip itself keeps fixed: UIP is computed, never stored
 * (register A); "UIE ... is cleared when the SET bit goes high" (register
 * B); registers C and D are computed on reads, their bytes never written.
 */
static bool snap_regs_valid(const uint8_t *ram)
{
	return !(ram[CMOS_REG_A] & A_UIP) &&
	       (ram[CMOS_REG_B] & (B_SET | B_UIE)) != (B_SET | B_UIE) &&
	       !ram[CMOS_REG_C] && !ram[CMOS_REG_D];
}

/*
 * The flags: PF, AF and UF alone (IRQF is computed). A line is up only
 * while a flag it follows is ("Register C"); the flags, worked out later
 * than the lines were last set, may call for more.
 */
static bool snap_lines_valid(const struct cmos_snap *s)
{
	uint8_t b = s->ram[CMOS_REG_B];

	return !(s->flags & ~SNAP_FLAGS) &&
	       !(s->lines & ~(SNAP_IRQ | SNAP_ALARM)) &&
	       (!(s->lines & SNAP_IRQ) || irqf_of(s->flags, b)) &&
	       (!(s->lines & SNAP_ALARM) || alarm_of(s->flags, b));
}

static int cmos_parse(const void *buf, size_t len, struct cmos_snap *s)
{
	struct snap_in in = { buf };

	if (!buf || len != SNAP_SIZE || snap_get(&in, 4) != SNAP_MAGIC ||
	    snap_get(&in, 2) != SNAP_VERSION || snap_get(&in, 2) != CMOS_SIZE)
		return -EINVAL;
	for (unsigned int i = 0; i < CMOS_SIZE; i++)
		s->ram[i] = (uint8_t)snap_get(&in, 1);
	s->index = (uint8_t)snap_get(&in, 1);
	s->nmi_masked = (uint8_t)snap_get(&in, 1);
	s->flags = (uint8_t)snap_get(&in, 1);
	s->lines = (uint8_t)snap_get(&in, 1);
	s->secs = (int64_t)snap_get(&in, 8);
	s->frac_ns = (uint32_t)snap_get(&in, 4);
	if (!snap_regs_valid(s->ram) || !snap_lines_valid(s) ||
	    s->index > INDEX_MASK || s->nmi_masked > 1 ||
	    s->frac_ns >= NS_PER_SEC || s->secs < -SNAP_SECS_LIMIT ||
	    s->secs > SNAP_SECS_LIMIT)
		return -EINVAL;
	return 0;
}

/*
 * The clock goes on from the guest's time at the snapshot, not from the
 * host's wall clock: the guest sees no jump but the one of the time it
 * was not running, as after a host suspend.
 *
 * IRQ 8 is set to its saved level if this RTC last set it otherwise (in a
 * VM the irqchip's own load has restored it already: nothing to do). The
 * alarm output is only taken back, not set: it leads to the ACPI PM
 * block, whose own snapshot holds its end, and which may not be loaded
 * yet.
 */
static int cmos_load(void *dev, const void *buf, size_t len, uint64_t t)
{
	struct cmos *c = dev;
	struct cmos_snap s;
	int r = cmos_parse(buf, len, &s);

	if (r)
		return r;
	pthread_mutex_lock(&c->lock);
	memcpy(c->ram, s.ram, sizeof(c->ram));
	c->index = s.index;
	c->nmi_masked = s.nmi_masked;
	c->flags = s.flags;
	c->held = should_hold(c);
	clock_set(c, t, s.secs, s.frac_ns);
	c->synced = t;
	if (c->irq != !!(s.lines & SNAP_IRQ)) {
		c->irq = s.lines & SNAP_IRQ;
		irq_line_set(&c->cfg.irq, c->irq);
	}
	c->alarm = s.lines & SNAP_ALARM;
	rearm(c, t);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

const struct device_ops cmos_ops = {
	.name = "cmos",
	.read = cmos_read,
	.write = cmos_write,
	.reset = cmos_reset,
	.describe = cmos_describe,
	.destroy = cmos_destroy,
	.save = cmos_save,
	.load = cmos_load,
};

static void put16(uint8_t *p, uint64_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The bytes PC firmware leaves for the OS and boot loaders. */
static void fill_nvram(struct cmos *c)
{
	uint64_t low = c->cfg.ram_below_4g, high = c->cfg.ram_above_4g;
	uint64_t ext = low > (1u << 20) ? (low - (1u << 20)) >> 10 : 0;
	uint64_t above16 = low > (16u << 20) ? (low - (16u << 20)) >> 16 : 0;
	uint64_t above4g = min_u64(high >> 16, 0xffffff);
	unsigned int sum = 0;

	c->ram[NV_DIAG] = 0;
	c->ram[NV_SHUTDOWN] = 0;
	c->ram[NV_FLOPPY] = 0;
	c->ram[NV_DISK] = 0;
	c->ram[NV_EQUIPMENT] = EQUIP_FPU;
	put16(&c->ram[NV_BASE_MEM], min_u64(low >> 10, 640));
	put16(&c->ram[NV_EXT_MEM], min_u64(ext, 0xffff));
	put16(&c->ram[NV_EXT_MEM2], min_u64(ext, 0xffff));
	put16(&c->ram[NV_MEM_16M], min_u64(above16, 0xffff));
	put16(&c->ram[NV_MEM_4G], above4g);
	c->ram[NV_MEM_4G + 2] = (uint8_t)(above4g >> 16);
	c->ram[NV_CPUS] = (uint8_t)(c->cfg.cpus - 1);
	for (unsigned int i = NV_FLOPPY; i < NV_CHECKSUM; i++)
		sum += c->ram[i];
	c->ram[NV_CHECKSUM] = (uint8_t)(sum >> 8);
	c->ram[NV_CHECKSUM + 1] = (uint8_t)sum;
}

int cmos_new(const struct cmos_config *cfg, struct cmos **ret)
{
	struct cmos *c;
	int64_t wall;
	uint64_t t;
	int r;

	if (!cfg || !cfg->clock.now || !cfg->clock.wall || !ret ||
	    cfg->cpus < 1 || cfg->cpus > 256)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	r = pthread_mutex_init(&c->lock, NULL);
	if (r) {
		free(c);
		return -r;
	}
	c->cfg = *cfg;
	c->ram[CMOS_REG_A] = A_DV_32K | 0x06; /* 1024 Hz, as BIOSes set */
	c->ram[CMOS_REG_B] = B_24H;
	fill_nvram(c);
	t = now(c);
	wall = cfg->clock.wall(cfg->clock.ctx);
	clock_set(c, t, floor_div(wall, (int64_t)NS_PER_SEC),
		  (uint64_t)(wall - floor_div(wall, (int64_t)NS_PER_SEC) *
					    (int64_t)NS_PER_SEC));
	c->synced = t;
	*ret = c;
	return 0;
}
