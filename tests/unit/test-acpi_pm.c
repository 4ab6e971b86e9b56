// SPDX-License-Identifier: MIT
/* Unit tests of the ACPI PM1a event/control blocks and the PM timer. */
#include <errno.h>

#include "acpi_pm.h"
#include "fakes.h"
#include "isa_fdt.h"
#include "rng.h"
#include "unit.h"

#define NS 1000000000ull
#define EVT 0x600
#define CNT 0x604
#define TMR 0x608
#define S5 5 /* any SLP_TYP: the device takes the one it is told */
#define S3 2
#define WAK_STS 0x8000
#define RTC_STS 0x0400
#define PWRBTN_STS 0x0100

/* The first ns after creation at which the timer has counted ticks. */
static uint64_t ns_for(uint64_t ticks)
{
	return (ticks * NS + ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ;
}

struct rig {
	uint64_t mono;
	uint64_t deadline;
	unsigned int arms;
	struct fake_vm vm;
	struct fake_irq sci;
	struct acpi_pm *pm;
	/* The VM's S3 side. */
	unsigned int sleeps, wakes;
	unsigned int sleep_state;
	int sleep_vcpu;
	uint16_t wake_sts;
};

static void rig_sleep(void *ctx, unsigned int state, int vcpu)
{
	struct rig *r = ctx;

	r->sleeps++;
	r->sleep_state = state;
	r->sleep_vcpu = vcpu;
}

static void rig_wake(void *ctx, uint16_t pm1_sts)
{
	struct rig *r = ctx;

	r->wakes++;
	r->wake_sts = pm1_sts;
}

static uint64_t rig_now(void *ctx)
{
	return ((struct rig *)ctx)->mono;
}

static void rig_arm(void *ctx, uint64_t deadline)
{
	struct rig *r = ctx;

	r->deadline = deadline;
	r->arms++;
}

/* s3: with the VM's sleep hooks, S3 on SLP_TYP S3. */
static void rig_init_s3(struct rig *r, bool s3)
{
	struct acpi_pm_config cfg = {
		.end = fake_vm_hook(&r->vm),
		.clock = { rig_now, r },
		.timer = { rig_arm, r },
		.sci = { fake_irq_set, &r->sci, 9 },
		.s5_slp_typ = S5,
		.evt_port = EVT,
		.cnt_port = CNT,
		.tmr_port = TMR,
	};

	if (s3) {
		cfg.sleep = (struct acpi_pm_sleep_ops){ rig_sleep, rig_wake, r };
		cfg.s3_slp_typ = S3;
	}
	*r = (struct rig){ .mono = 1000 * NS + 7 };
	r->sci.line = 9;
	ck_assert_int_eq(acpi_pm_new(&cfg, &r->pm), 0);
}

static void rig_init(struct rig *r)
{
	rig_init_s3(r, false);
}

/* The host timer expired: the VM's timer is disarmed as it fires. */
static void fire(struct rig *r)
{
	r->deadline = 0;
	acpi_pm_fire(r->pm);
}

static const struct device_ops *ops_at(unsigned int base)
{
	return base == EVT   ? &acpi_pm_evt_ops
	       : base == CNT ? &acpi_pm_cnt_ops
			     : &acpi_pm_tmr_ops;
}

static uint64_t in(struct rig *r, unsigned int base, unsigned int off,
		   unsigned int len)
{
	const struct io_access a = { base + off, off, len, 1 };

	return ops_at(base)->read(r->pm, &a);
}

static void out(struct rig *r, unsigned int base, unsigned int off,
		unsigned int len, uint64_t v)
{
	const struct io_access a = { base + off, off, len, 1 };

	ops_at(base)->write(r->pm, &a, v);
}

/* 3.579545 MHz, 24 bits, from 0 at creation; reads of any width. */
START_TEST(acpi_pm_timer_counts_and_wraps)
{
	struct rig r;

	rig_init(&r);
	ck_assert_uint_eq(in(&r, TMR, 0, 4), 0);
	r.mono += NS;
	ck_assert_uint_eq(in(&r, TMR, 0, 4), 3579545);
	ck_assert_uint_eq(in(&r, TMR, 0, 2), 3579545 & 0xffff);
	ck_assert_uint_eq(in(&r, TMR, 1, 2), (3579545 >> 8) & 0xffff);
	ck_assert_uint_eq(in(&r, TMR, 2, 1), 3579545 >> 16);
	ck_assert_uint_eq(in(&r, TMR, 3, 1), 0); /* bits 31:24 */
	/* Writes do nothing. */
	out(&r, TMR, 0, 4, 0);
	ck_assert_uint_eq(in(&r, TMR, 0, 4), 3579545);
	/* 2^24 ticks later it reads the same: it wrapped. */
	r.mono += ns_for(1 << 24);
	ck_assert_uint_eq(in(&r, TMR, 0, 4), 3579545);
	r.mono += 500000; /* 1789.77 ticks */
	ck_assert_uint_eq(in(&r, TMR, 0, 4), 3579545 + 1789);
	/* Just before a wrap: the top of the 24-bit range. */
	r.mono = 1000 * NS + 7 + ns_for(2 << 24) - 1000;
	ck_assert_uint_ge(in(&r, TMR, 0, 4), 0xfff000);
	ck_assert_uint_le(in(&r, TMR, 0, 4), 0xffffff);
	r.mono += 2000;
	ck_assert_uint_le(in(&r, TMR, 0, 4), 8);
	acpi_pm_evt_ops.destroy(r.pm);
}
END_TEST

/* TMR_STS follows bit 23; write 1 clears it; TMR_EN raises the SCI. */
START_TEST(acpi_pm_tmr_sts_and_sci)
{
	struct rig r;
	rig_init(&r);
	ck_assert_uint_eq(in(&r, EVT, 0, 2), 0);
	r.mono += ns_for(1 << 23) - 1;
	ck_assert_uint_eq(in(&r, EVT, 0, 2), 0);
	r.mono += 1; /* bit 23 toggles */
	ck_assert_uint_eq(in(&r, EVT, 0, 2), 1);
	out(&r, EVT, 0, 2, 0xfffe); /* other bits: no effect */
	ck_assert_uint_eq(in(&r, EVT, 0, 2), 1);
	out(&r, EVT, 0, 2, 1);
	ck_assert_uint_eq(in(&r, EVT, 0, 2), 0);
	ck_assert_uint_eq(r.arms, 0);
	/* Enable: the timer is armed for the next toggle. */
	out(&r, EVT, 2, 2, 1);
	ck_assert_uint_eq(in(&r, EVT, 2, 2), 1);
	ck_assert_uint_eq(r.arms, 1);
	ck_assert_uint_eq(r.deadline, 1000 * NS + 7 + ns_for(1 << 24));
	r.mono = r.deadline - 1;
	fire(&r);
	ck_assert(!r.sci.level);
	r.mono++;
	fire(&r);
	ck_assert(r.sci.level);
	ck_assert_uint_eq(in(&r, EVT, 0, 4), 0x00010001);
	/* Clearing the status lowers the SCI; so does clearing the enable. */
	out(&r, EVT, 0, 1, 1);
	ck_assert(!r.sci.level);
	ck_assert_uint_eq(r.deadline, 1000 * NS + 7 + ns_for(3 << 23));
	r.mono = r.deadline;
	fire(&r);
	ck_assert(r.sci.level);
	out(&r, EVT, 2, 2, 0);
	ck_assert(!r.sci.level);
	ck_assert_uint_eq(r.deadline, 0);
	ck_assert_uint_eq(r.sci.redundant, 0);
	acpi_pm_evt_ops.destroy(r.pm);
}
END_TEST

/* PM1_EN keeps only its defined bits; PM1_STS bits are never set by a
 * write. A dword write reaches both registers. */
START_TEST(acpi_pm_enable_bits)
{
	struct rig r;

	rig_init(&r);
	out(&r, EVT, 0, 4, 0xffffffff);
	ck_assert_uint_eq(in(&r, EVT, 2, 2), 0x4721);
	ck_assert_uint_eq(in(&r, EVT, 0, 2), 0);
	out(&r, EVT, 3, 1, 0);
	ck_assert_uint_eq(in(&r, EVT, 2, 2), 0x0021);
	ck_assert_uint_eq(in(&r, EVT, 2, 1), 0x21);
	ck_assert(!r.sci.level);
	acpi_pm_evt_ops.destroy(r.pm);
}
END_TEST

/* SCI_EN reads 1 and stays; SLP_TYP reads back; SLP_EN reads 0. */
START_TEST(acpi_pm_control_bits)
{
	struct rig r;

	rig_init(&r);
	ck_assert_uint_eq(in(&r, CNT, 0, 2), 1);
	out(&r, CNT, 0, 2, 0);
	ck_assert_uint_eq(in(&r, CNT, 0, 2), 1);
	out(&r, CNT, 0, 2, 3 << 10 | 0x0006);
	ck_assert_uint_eq(in(&r, CNT, 0, 2), 3 << 10 | 0x0003);
	ck_assert_uint_eq(in(&r, CNT, 1, 1), (3 << 10) >> 8);
	ck_assert_uint_eq(r.vm.ends, 0);
	/* A sleep state the DSDT does not name is ignored. */
	out(&r, CNT, 0, 2, 1 << 10 | 1 << 13);
	ck_assert_uint_eq(r.vm.ends, 0);
	ck_assert_uint_eq(in(&r, CNT, 0, 2), 1 << 10 | 1);
	acpi_pm_evt_ops.destroy(r.pm);
}
END_TEST

/* SLP_EN with _S5's SLP_TYP powers off, in a word or in the high byte. */
START_TEST(acpi_pm_slp_en_powers_off)
{
	struct rig r;

	rig_init(&r);
	out(&r, CNT, 0, 2, S5 << 10); /* SLP_TYP alone: nothing */
	ck_assert_uint_eq(r.vm.ends, 0);
	out(&r, CNT, 0, 2, S5 << 10 | 1 << 13 | 1);
	ck_assert_uint_eq(r.vm.ends, 1);
	ck_assert_last_end(&r.vm, SPLITVM_OUTCOME_POWEROFF, 0, 1, 0);
	out(&r, CNT, 1, 1, (S5 << 10 | 1 << 13) >> 8);
	ck_assert_uint_eq(r.vm.ends, 2);
	acpi_pm_evt_ops.destroy(r.pm);
}
END_TEST

START_TEST(acpi_pm_reset)
{
	struct rig r;

	uint64_t count;

	rig_init(&r);
	out(&r, EVT, 2, 2, 1);
	out(&r, CNT, 0, 2, 2 << 10 | 2);
	r.mono += ns_for(1 << 23);
	fire(&r);
	ck_assert(r.sci.level);
	count = in(&r, TMR, 0, 4);
	acpi_pm_evt_ops.reset(r.pm);
	ck_assert(!r.sci.level);
	ck_assert_uint_eq(in(&r, EVT, 0, 4), 0);
	ck_assert_uint_eq(in(&r, CNT, 0, 2), 1);
	ck_assert_uint_eq(r.deadline, 0);
	/* The timer runs on. */
	ck_assert_uint_eq(in(&r, TMR, 0, 4), count);
	r.mono += NS;
	ck_assert_uint_eq(in(&r, TMR, 0, 4), count + 3579545);
	acpi_pm_evt_ops.destroy(r.pm);
}
END_TEST

/* Widths the blocks do not take are ignored; random accesses of every
 * width and offset never crash nor power off by accident. */
START_TEST(acpi_pm_hostile_accesses)
{
	static const unsigned int bases[] = { EVT, CNT, TMR };
	static const unsigned int sizes[] = { 4, 2, 4 };
	uint64_t seed = 0xacb1;
	struct rig r;

	rig_init(&r);
	for (size_t b = 0; b < 3; b++) {
		ck_assert_uint_eq(in(&r, bases[b], 0, 8), ~0ull);
		ck_assert_uint_eq(in(&r, bases[b], 0, 3), 0xffffff);
		out(&r, bases[b], 0, 8, ~0ull);
	}
	ck_assert_uint_eq(r.vm.ends, 0);
	ck_assert_uint_eq(in(&r, EVT, 0, 4), 0);
	for (int i = 0; i < 20000; i++) {
		uint64_t x = xorshift64(&seed);
		size_t b = x % 3;
		unsigned int len = 1u << ((x >> 4) % 3);
		unsigned int off = (unsigned int)((x >> 8) % sizes[b]);
		uint64_t v = x >> 16;

		if (len > sizes[b])
			len = sizes[b];
		if (off + len > sizes[b])
			off = sizes[b] - len;
		if (bases[b] == CNT) /* no SLP_EN */
			v &= ~((uint64_t)ACPI_PM1_SLP_EN >> (off * 8));
		if (x & 0x8)
			out(&r, bases[b], off, len, v);
		else
			in(&r, bases[b], off, len);
		r.mono += (x >> 40) % (NS / 10);
		if (r.deadline && r.deadline <= r.mono)
			fire(&r);
	}
	ck_assert_uint_eq(r.vm.ends, 0);
	ck_assert_uint_eq(r.sci.redundant, 0);
	ck_assert_uint_eq(in(&r, TMR, 3, 1), 0);
	acpi_pm_evt_ops.destroy(r.pm);
}
END_TEST

START_TEST(acpi_pm_describe)
{
	struct rig r;
	char fdt[1024];
	const fdt32_t *reg;
	int off, len;

	rig_init(&r);
	off = isa_describe(&acpi_pm_evt_ops, r.pm, fdt, sizeof(fdt),
			   "acpi-pm@600");
	reg = fdt_getprop(fdt, off, "reg", &len);
	ck_assert_int_eq(len, 36);
	ck_assert_uint_eq(fdt32_to_cpu(reg[1]), EVT);
	ck_assert_uint_eq(fdt32_to_cpu(reg[2]), 4);
	ck_assert_uint_eq(fdt32_to_cpu(reg[4]), CNT);
	ck_assert_uint_eq(fdt32_to_cpu(reg[5]), 2);
	ck_assert_uint_eq(fdt32_to_cpu(reg[7]), TMR);
	ck_assert_uint_eq(fdt32_to_cpu(reg[8]), 4);
	ck_assert_uint_eq(fdt32_to_cpu(*(const fdt32_t *)fdt_getprop(
				  fdt, off, "interrupts", NULL)),
			  9);
	ck_assert_uint_eq(fdt32_to_cpu(*(const fdt32_t *)fdt_getprop(
				  fdt, off, "splitvm,s5-slp-typ", NULL)),
			  S5);
	ck_assert_ptr_null(fdt_getprop(fdt, off, "splitvm,s3-slp-typ", NULL));
	acpi_pm_evt_ops.destroy(r.pm);

	rig_init_s3(&r, true);
	off = isa_describe(&acpi_pm_evt_ops, r.pm, fdt, sizeof(fdt),
			   "acpi-pm@600");
	ck_assert_uint_eq(fdt32_to_cpu(*(const fdt32_t *)fdt_getprop(
				  fdt, off, "splitvm,s3-slp-typ", NULL)),
			  S3);
	acpi_pm_evt_ops.destroy(r.pm);
}
END_TEST

/*
 * S3 (16.1.3): SLP_EN with _S3's SLP_TYP hands the sleep to the VM, once;
 * the RTC alarm, enabled by RTC_EN, wakes it with WAK_STS and RTC_STS set,
 * which OSPM reads and clears after the wake (4.8.3.1.1).
 */
START_TEST(acpi_pm_s3_sleeps_until_the_rtc_alarm)
{
	struct rig r;

	rig_init_s3(&r, true);
	out(&r, EVT, 2, 2, RTC_STS); /* RTC_EN */
	out(&r, CNT, 0, 2, S3 << 10); /* SLP_TYP alone: nothing */
	ck_assert_uint_eq(r.sleeps, 0);
	out(&r, CNT, 0, 2, S3 << 10 | 1 << 13);
	ck_assert_uint_eq(r.sleeps, 1);
	ck_assert_uint_eq(r.sleep_state, 3);
	ck_assert_int_eq(r.sleep_vcpu, 1);
	ck_assert_uint_eq(r.vm.ends, 0);
	ck_assert(acpi_pm_sleeping(r.pm));
	/* Asleep already: another SLP_EN starts nothing. */
	out(&r, CNT, 1, 1, (S3 << 10 | 1 << 13) >> 8);
	ck_assert_uint_eq(r.sleeps, 1);
	ck_assert_uint_eq(r.wakes, 0);

	acpi_pm_rtc_alarm(r.pm, true);
	ck_assert_uint_eq(r.wakes, 1);
	ck_assert_uint_eq(r.wake_sts, WAK_STS | RTC_STS);
	ck_assert(!acpi_pm_sleeping(r.pm));
	ck_assert_uint_eq(in(&r, EVT, 0, 2), WAK_STS | RTC_STS);
	/* RTC_EN and RTC_STS: the SCI, as in S0. */
	ck_assert(r.sci.level);
	out(&r, EVT, 0, 2, WAK_STS | RTC_STS);
	ck_assert_uint_eq(in(&r, EVT, 0, 2), 0);
	ck_assert(!r.sci.level);
	/* The alarm still up is no new event; awake, no wake either. */
	acpi_pm_rtc_alarm(r.pm, true);
	ck_assert_uint_eq(in(&r, EVT, 0, 2), 0);
	acpi_pm_rtc_alarm(r.pm, false);
	acpi_pm_rtc_alarm(r.pm, true);
	ck_assert_uint_eq(in(&r, EVT, 0, 2), RTC_STS);
	ck_assert_uint_eq(r.wakes, 1);

	/* Asleep again: S3 may be entered any number of times. */
	out(&r, EVT, 0, 2, RTC_STS);
	acpi_pm_rtc_alarm(r.pm, false);
	out(&r, CNT, 0, 2, S3 << 10 | 1 << 13);
	ck_assert_uint_eq(r.sleeps, 2);
	acpi_pm_rtc_alarm(r.pm, true);
	ck_assert_uint_eq(r.wakes, 2);
	acpi_pm_evt_ops.destroy(r.pm);
}
END_TEST

/* Without RTC_EN the alarm only sets RTC_STS: no wake, no SCI. */
START_TEST(acpi_pm_rtc_alarm_needs_rtc_en_to_wake)
{
	struct rig r;

	rig_init_s3(&r, true);
	out(&r, CNT, 0, 2, S3 << 10 | 1 << 13);
	acpi_pm_rtc_alarm(r.pm, true);
	ck_assert_uint_eq(r.wakes, 0);
	ck_assert(acpi_pm_sleeping(r.pm));
	ck_assert(!r.sci.level);
	acpi_pm_evt_ops.destroy(r.pm);

	/* Awake: RTC_STS, and the SCI once RTC_EN is set. */
	rig_init(&r);
	acpi_pm_rtc_alarm(r.pm, true);
	ck_assert_uint_eq(in(&r, EVT, 0, 2), RTC_STS);
	ck_assert(!r.sci.level);
	out(&r, EVT, 2, 2, RTC_STS);
	ck_assert(r.sci.level);
	acpi_pm_evt_ops.destroy(r.pm);
}
END_TEST

/*
 * The power button wakes from S3 whatever PWRBTN_EN says (4.8.3.1.1); in
 * S0 it sets PWRBTN_STS, an SCI only with PWRBTN_EN.
 */
START_TEST(acpi_pm_power_button_wakes)
{
	struct rig r;

	rig_init_s3(&r, true);
	acpi_pm_power_button(r.pm);
	ck_assert_uint_eq(in(&r, EVT, 0, 2), PWRBTN_STS);
	ck_assert(!r.sci.level);
	ck_assert_uint_eq(r.wakes, 0);
	out(&r, EVT, 2, 2, PWRBTN_STS);
	ck_assert(r.sci.level);
	out(&r, EVT, 0, 4, PWRBTN_STS); /* clears the status and PM1_EN */
	ck_assert(!r.sci.level);

	out(&r, CNT, 0, 2, S3 << 10 | 1 << 13);
	ck_assert_uint_eq(r.sleeps, 1);
	acpi_pm_power_button(r.pm);
	ck_assert_uint_eq(r.wakes, 1);
	ck_assert_uint_eq(r.wake_sts, WAK_STS | PWRBTN_STS);
	ck_assert(!acpi_pm_sleeping(r.pm));
	acpi_pm_evt_ops.destroy(r.pm);
}
END_TEST

/*
 * Without the VM's sleep hooks _S3's SLP_TYP is any unsupported type:
 * ignored. A reset wakes nothing but ends the sleeping state; S5 still
 * powers off.
 */
START_TEST(acpi_pm_s3_without_hooks_and_reset)
{
	struct rig r;

	rig_init(&r);
	out(&r, CNT, 0, 2, S3 << 10 | 1 << 13);
	ck_assert(!acpi_pm_sleeping(r.pm));
	ck_assert_uint_eq(r.vm.ends, 0);
	acpi_pm_power_button(r.pm);
	ck_assert_uint_eq(in(&r, EVT, 0, 2), PWRBTN_STS);
	acpi_pm_evt_ops.destroy(r.pm);

	rig_init_s3(&r, true);
	out(&r, CNT, 0, 2, S3 << 10 | 1 << 13);
	ck_assert(acpi_pm_sleeping(r.pm));
	acpi_pm_evt_ops.reset(r.pm);
	ck_assert(!acpi_pm_sleeping(r.pm));
	acpi_pm_power_button(r.pm);
	ck_assert_uint_eq(r.wakes, 0);
	out(&r, CNT, 0, 2, S5 << 10 | 1 << 13);
	ck_assert_uint_eq(r.vm.ends, 1);
	ck_assert_uint_eq(r.sleeps, 1);
	acpi_pm_evt_ops.destroy(r.pm);
}
END_TEST

START_TEST(acpi_pm_new_rejects)
{
	struct rig r = { 0 };
	struct acpi_pm_config cfg = {
		.end = fake_vm_hook(&r.vm),
		.clock = { rig_now, &r },
	};
	struct acpi_pm *pm;

	ck_assert_int_eq(acpi_pm_new(NULL, &pm), -EINVAL);
	ck_assert_int_eq(acpi_pm_new(&cfg, NULL), -EINVAL);
	cfg.s5_slp_typ = 8;
	ck_assert_int_eq(acpi_pm_new(&cfg, &pm), -EINVAL);
	cfg.s5_slp_typ = 7;
	cfg.end.end = NULL;
	ck_assert_int_eq(acpi_pm_new(&cfg, &pm), -EINVAL);
	cfg.end = fake_vm_hook(&r.vm);
	cfg.clock.now = NULL;
	ck_assert_int_eq(acpi_pm_new(&cfg, &pm), -EINVAL);
	cfg.clock.now = rig_now;
	ck_assert_int_eq(acpi_pm_new(&cfg, &pm), 0);
	acpi_pm_evt_ops.destroy(pm);
	/* S3: both hooks, a SLP_TYP of 3 bits other than S5's. */
	cfg.sleep.sleep = rig_sleep;
	ck_assert_int_eq(acpi_pm_new(&cfg, &pm), -EINVAL);
	cfg.sleep = (struct acpi_pm_sleep_ops){ NULL, rig_wake, &r };
	ck_assert_int_eq(acpi_pm_new(&cfg, &pm), -EINVAL);
	cfg.sleep.sleep = rig_sleep;
	cfg.s3_slp_typ = 7; /* S5's */
	ck_assert_int_eq(acpi_pm_new(&cfg, &pm), -EINVAL);
	cfg.s3_slp_typ = 8;
	ck_assert_int_eq(acpi_pm_new(&cfg, &pm), -EINVAL);
	cfg.s3_slp_typ = 1;
	ck_assert_int_eq(acpi_pm_new(&cfg, &pm), 0);
	acpi_pm_evt_ops.destroy(pm);
	acpi_pm_evt_ops.destroy(NULL);
}
END_TEST

/* ---- Snapshots ------------------------------------------------------------
 */

/* The blob's layout (devices/acpi_pm.c, version 1). */
#define SNAP_SIZE 29
#define SNAP_S5 6
#define SNAP_S3 7
#define SNAP_STS 8
#define SNAP_EN 10
#define SNAP_CNT 12
#define SNAP_SLEEPING 14
#define SNAP_RTC_ALARM 15
#define SNAP_SCI 16
#define SNAP_TICKS 17
#define SNAP_BASE 21

static int snap_save(struct rig *r, uint8_t buf[SNAP_SIZE])
{
	return acpi_pm_evt_ops.save(r->pm, buf, SNAP_SIZE, r->mono);
}

static int snap_load(struct rig *r, const void *buf, size_t len)
{
	return acpi_pm_evt_ops.load(r->pm, buf, len, r->mono);
}

static void put_field(uint8_t *b, size_t off, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

/*
 * At a hard moment: TMR_EN, PWRBTN_EN, RTC_EN; bit 23 of the timer has
 * toggled (TMR_STS pending, SCI up), the power button pressed, the RTC's
 * alarm output up, SLP_TYP and BM_RLD written; then time passes beyond
 * the next toggle without the timer firing.
 */
static void busy_pm(struct rig *r)
{
	out(r, EVT, 2, 2, 0x0001 | PWRBTN_STS | RTC_STS);
	out(r, CNT, 0, 2, 3 << 10 | 0x0002);
	r->mono = r->deadline;
	fire(r);
	ck_assert(r->sci.level);
	acpi_pm_power_button(r->pm);
	acpi_pm_rtc_alarm(r->pm, true);
	r->mono += ns_for(3 << 22) + 12345;
}

/* Both read alike: PM1 status and enable, control, the timer. */
static void assert_same_pm(struct rig *r, struct rig *r2)
{
	ck_assert_uint_eq(r->sci.level, r2->sci.level);
	ck_assert_uint_eq(in(r, EVT, 0, 4), in(r2, EVT, 0, 4));
	ck_assert_uint_eq(in(r, CNT, 0, 2), in(r2, CNT, 0, 2));
	ck_assert_uint_eq(in(r, TMR, 0, 4), in(r2, TMR, 0, 4));
	ck_assert_uint_eq(acpi_pm_sleeping(r->pm), acpi_pm_sleeping(r2->pm));
}

static void step_both(struct rig *r, struct rig *r2, uint64_t dt)
{
	uint64_t delta = r2->mono - r->mono;

	r->mono += dt;
	r2->mono += dt;
	if (r->deadline && r->deadline <= r->mono)
		fire(r);
	if (r2->deadline && r2->deadline <= r2->mono)
		fire(r2);
	/* (a save works TMR_STS out up to its time: compared once fired) */
	ck_assert_uint_eq(r2->deadline, r->deadline ? r->deadline + delta : 0);
	assert_same_pm(r, r2);
}

START_TEST(acpi_pm_snapshot_round_trip)
{
	struct rig r, r2;
	uint8_t a[SNAP_SIZE], b[SNAP_SIZE];

	rig_init(&r);
	busy_pm(&r);
	ck_assert_int_eq(snap_save(&r, a), SNAP_SIZE);
	rig_init(&r2);
	r2.mono = r.mono + 1234 * NS + 567;
	ck_assert_int_eq(snap_load(&r2, a, sizeof(a)), 0);
	ck_assert(r2.sci.level);
	ck_assert_uint_eq(r2.sci.sets, 1);
	ck_assert_uint_eq(r2.deadline, 0); /* TMR_STS is set already */
	ck_assert_int_eq(snap_save(&r2, b), SNAP_SIZE);
	ck_assert_mem_eq(a, b, SNAP_SIZE);
	assert_same_pm(&r, &r2);
	/* the alarm output was up: no new RTC event */
	acpi_pm_rtc_alarm(r.pm, true);
	acpi_pm_rtc_alarm(r2.pm, true);
	assert_same_pm(&r, &r2);
	/* Clearing TMR_STS arms both timers for the same toggle. */
	out(&r, EVT, 0, 2, 0x0001);
	out(&r2, EVT, 0, 2, 0x0001);
	ck_assert_uint_ne(r2.deadline, 0);
	ck_assert_uint_eq(r2.deadline, r.deadline + (r2.mono - r.mono));
	for (unsigned int i = 0; i < 40; i++) {
		step_both(&r, &r2, ns_for(1 << 21) + 777 * i);
		if (i % 5 == 4) {
			out(&r, EVT, 0, 2, 0x0001);
			out(&r2, EVT, 0, 2, 0x0001);
		}
	}
	ck_assert_uint_eq(r2.sci.redundant, 0);
	acpi_pm_evt_ops.destroy(r2.pm);
	acpi_pm_evt_ops.destroy(r.pm);
}
END_TEST

/*
 * A VM that ran 30 days, loaded where the clock reads 1.5 s: the timer's
 * value and its bit-23 toggles go on exactly.
 */
START_TEST(acpi_pm_snapshot_to_younger_clock)
{
	struct rig r, r2;
	uint8_t a[SNAP_SIZE];

	rig_init(&r);
	out(&r, EVT, 2, 2, 0x0001);
	r.mono += 30 * 86400 * NS + 999999999;
	fire(&r);
	out(&r, EVT, 0, 2, 0x0001);
	ck_assert_int_eq(snap_save(&r, a), SNAP_SIZE);
	rig_init(&r2);
	r2.mono = 3 * NS / 2;
	ck_assert_int_eq(snap_load(&r2, a, sizeof(a)), 0);
	ck_assert_uint_eq(r2.deadline, r.deadline - (r.mono - r2.mono));
	for (unsigned int i = 0; i < 30; i++)
		step_both(&r, &r2, 123456789);
	acpi_pm_evt_ops.destroy(r2.pm);
	acpi_pm_evt_ops.destroy(r.pm);
}
END_TEST

/*
 * Saved with TMR_STS due but the timer not yet fired (the VM paused): the
 * SCI stays low at load and the timer is armed for at once; its expiry
 * raises the SCI, as on the VM saved.
 */
START_TEST(acpi_pm_snapshot_sci_due_at_save)
{
	struct rig r, r2;
	uint8_t a[SNAP_SIZE];

	rig_init(&r);
	out(&r, EVT, 2, 2, 0x0001);
	r.mono = r.deadline + 1000;
	ck_assert_int_eq(snap_save(&r, a), SNAP_SIZE);
	ck_assert_uint_eq(a[SNAP_STS], 0x01);
	ck_assert_uint_eq(a[SNAP_SCI], 0);
	rig_init(&r2);
	r2.mono = r.mono + 5 * NS;
	ck_assert_int_eq(snap_load(&r2, a, sizeof(a)), 0);
	ck_assert(!r2.sci.level);
	ck_assert_uint_eq(r2.deadline, r2.mono);
	fire(&r);
	fire(&r2);
	ck_assert(r.sci.level && r2.sci.level);
	assert_same_pm(&r, &r2);
	ck_assert_uint_eq(r2.deadline, 0);
	acpi_pm_evt_ops.destroy(r2.pm);
	acpi_pm_evt_ops.destroy(r.pm);
}
END_TEST

/*
 * Asleep in S3: the load keeps it asleep without calling the VM's hooks;
 * a wake event then wakes it. The blob names the configuration: one with
 * S3 does not load where there is none, nor the other way round.
 */
START_TEST(acpi_pm_snapshot_asleep)
{
	struct rig r, r2, plain;
	uint8_t a[SNAP_SIZE], b[SNAP_SIZE];

	rig_init_s3(&r, true);
	out(&r, CNT, 0, 2, S3 << 10 | 1 << 13);
	ck_assert(acpi_pm_sleeping(r.pm));
	r.mono += 5 * NS;
	ck_assert_int_eq(snap_save(&r, a), SNAP_SIZE);
	rig_init_s3(&r2, true);
	r2.mono += 9 * NS;
	ck_assert_int_eq(snap_load(&r2, a, sizeof(a)), 0);
	ck_assert(acpi_pm_sleeping(r2.pm));
	ck_assert_uint_eq(r2.sleeps + r2.wakes, 0);
	acpi_pm_power_button(r2.pm);
	ck_assert_uint_eq(r2.wakes, 1);
	ck_assert_uint_eq(r2.wake_sts & ~0x0001u, WAK_STS | PWRBTN_STS);

	rig_init(&plain);
	ck_assert_int_eq(snap_load(&plain, a, sizeof(a)), -EINVAL);
	ck_assert_int_eq(snap_save(&plain, b), SNAP_SIZE);
	ck_assert_int_eq(snap_load(&r2, b, sizeof(b)), -EINVAL);
	/* another _S5 */
	b[SNAP_S5] ^= 1;
	ck_assert_int_eq(snap_load(&plain, b, sizeof(b)), -EINVAL);
	acpi_pm_evt_ops.destroy(plain.pm);
	acpi_pm_evt_ops.destroy(r2.pm);
	acpi_pm_evt_ops.destroy(r.pm);
}
END_TEST

/*
 * Random register writes, button presses, alarm levels and time; every
 * so often a fresh device loads a snapshot: it reads as the first one.
 */
START_TEST(acpi_pm_snapshot_random_round_trips)
{
	uint64_t seed = 0x4f4d31ull;
	struct rig r;

	rig_init_s3(&r, true);
	for (int i = 0; i < 5000; i++) {
		uint64_t x = xorshift64(&seed);

		switch (x % 6) {
		case 0:
			out(&r, EVT, (x >> 8) % 4, 1, x >> 16);
			break;
		case 1:
			/* SLP_TYP and BM_RLD; SLP_EN for S3 now and then */
			out(&r, CNT, 0, 2,
			    (x >> 8) & (x & 0x100 ? 0x3c02 : 0x1c02));
			break;
		case 2:
			acpi_pm_rtc_alarm(r.pm, (x >> 8) & 1);
			break;
		case 3:
			acpi_pm_power_button(r.pm);
			break;
		case 4:
			r.mono += (x >> 8) % (8 * NS);
			break;
		default:
			if (r.deadline && r.deadline <= r.mono)
				fire(&r);
			break;
		}
		if (i % 25 == 0) {
			uint8_t a[SNAP_SIZE], b[SNAP_SIZE];
			struct rig r2;

			ck_assert_int_eq(snap_save(&r, a), SNAP_SIZE);
			rig_init_s3(&r2, true);
			r2.mono = r.mono + (x >> 20) % (50 * NS);
			ck_assert_msg(snap_load(&r2, a, sizeof(a)) == 0,
				      "op %d", i);
			ck_assert_int_eq(snap_save(&r2, b), SNAP_SIZE);
			ck_assert_mem_eq(a, b, SNAP_SIZE);
			for (int k = 0; k < 3; k++)
				step_both(&r, &r2, (x >> (8 * k)) % (3 * NS));
			acpi_pm_evt_ops.destroy(r2.pm);
		}
	}
	ck_assert_uint_gt(r.sleeps, 0);
	acpi_pm_evt_ops.destroy(r.pm);
}
END_TEST

/* A refused load: -EINVAL, and the device, its SCI and timer untouched. */
static void assert_refused(struct rig *r, const uint8_t *blob, size_t len,
			   const char *what)
{
	uint8_t before[SNAP_SIZE], after[SNAP_SIZE];
	unsigned int arms = r->arms, sets = r->sci.sets;

	ck_assert_int_eq(snap_save(r, before), SNAP_SIZE);
	ck_assert_msg(snap_load(r, blob, len) == -EINVAL, "%s accepted", what);
	ck_assert_int_eq(snap_save(r, after), SNAP_SIZE);
	ck_assert_msg(!memcmp(before, after, SNAP_SIZE), "%s: changed", what);
	ck_assert_uint_eq(r->arms, arms);
	ck_assert_uint_eq(r->sci.sets, sets);
}

START_TEST(acpi_pm_snapshot_truncated_refused)
{
	struct rig r, r2;
	uint8_t a[SNAP_SIZE + 1] = { 0 };

	rig_init(&r);
	busy_pm(&r);
	ck_assert_int_eq(acpi_pm_evt_ops.save(r.pm, a, SNAP_SIZE - 1, r.mono),
			 -ENOSPC);
	ck_assert_int_eq(snap_save(&r, a), SNAP_SIZE);
	rig_init(&r2);
	out(&r2, EVT, 2, 2, 0x0001);
	for (size_t len = 0; len < SNAP_SIZE; len++)
		assert_refused(&r2, a, len, "truncated");
	assert_refused(&r2, a, SNAP_SIZE + 1, "too long");
	assert_refused(&r2, NULL, SNAP_SIZE, "NULL");
	acpi_pm_evt_ops.destroy(r2.pm);
	acpi_pm_evt_ops.destroy(r.pm);
}
END_TEST

START_TEST(acpi_pm_snapshot_bad_fields_refused)
{
	static const struct {
		const char *what;
		size_t off;
		unsigned int bytes;
		uint64_t v;
	} cases[] = {
		{ "magic", 0, 4, 0x62314d50 },
		{ "version", 4, 2, 2 },
		{ "_S5 SLP_TYP", SNAP_S5, 1, S5 + 1 },
		{ "_S3 where none", SNAP_S3, 1, S3 },
		{ "GBL_STS", SNAP_STS, 2, 0x0020 },
		{ "BM_STS", SNAP_STS, 2, 0x0010 },
		{ "status bit 1", SNAP_STS, 2, 0x0002 },
		{ "enable bit 15", SNAP_EN, 2, 0x8000 },
		{ "enable bit 1", SNAP_EN, 2, 0x0002 },
		{ "SCI_EN stored", SNAP_CNT, 2, 0x0001 },
		{ "SLP_EN stored", SNAP_CNT, 2, 0x2000 },
		{ "GBL_RLS stored", SNAP_CNT, 2, 0x0004 },
		{ "asleep without S3", SNAP_SLEEPING, 1, 1 },
		{ "sleeping 2", SNAP_SLEEPING, 1, 2 },
		{ "alarm level 2", SNAP_RTC_ALARM, 1, 2 },
		{ "SCI level 2", SNAP_SCI, 1, 2 },
		{ "SCI up, nothing enabled", SNAP_EN, 2, 0 },
		{ "count 2^24", SNAP_TICKS, 4, 1u << 24 },
		{ "count ~0", SNAP_TICKS, 4, 0xffffffff },
		{ "base in the future", SNAP_BASE, 8, 1 },
		{ "base a second back", SNAP_BASE, 8,
		  (uint64_t) - (int64_t)NS },
		{ "base INT64_MIN", SNAP_BASE, 8, 1ull << 63 },
	};
	struct rig r, r2;
	uint8_t a[SNAP_SIZE], b[SNAP_SIZE];

	rig_init(&r);
	busy_pm(&r);
	ck_assert_int_eq(snap_save(&r, a), SNAP_SIZE);
	rig_init(&r2);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(b, a, sizeof(b));
		put_field(b, cases[i].off, cases[i].v, cases[i].bytes);
		assert_refused(&r2, b, sizeof(b), cases[i].what);
	}
	/* the edges of the ranges load */
	memcpy(b, a, sizeof(b));
	put_field(b, SNAP_TICKS, 0xffffff, 4);
	put_field(b, SNAP_BASE, (uint64_t) - (int64_t)(NS - 1), 8);
	put_field(b, SNAP_STS, 0x8501, 2);
	put_field(b, SNAP_EN, 0x4721, 2);
	put_field(b, SNAP_CNT, 0x1c02, 2);
	ck_assert_int_eq(snap_load(&r2, b, sizeof(b)), 0);
	ck_assert_uint_eq(in(&r2, EVT, 0, 4), 0x47218501);
	ck_assert_uint_eq(in(&r2, CNT, 0, 2), 0x1c03);
	acpi_pm_evt_ops.destroy(r2.pm);
	acpi_pm_evt_ops.destroy(r.pm);
}
END_TEST

/*
 * Thousands of mutated blobs: never a crash (ASan/UBSan builds); refused
 * ones change nothing; accepted ones save back byte for byte and the
 * device runs on from them, the SCI changing only when it changes.
 */
START_TEST(acpi_pm_snapshot_fuzz)
{
	uint64_t seed = 0xacb1ull;
	uint8_t valid[SNAP_SIZE];
	unsigned int accepted = 0;
	struct rig r, r2;

	rig_init(&r);
	busy_pm(&r);
	ck_assert_int_eq(snap_save(&r, valid), SNAP_SIZE);
	rig_init(&r2);
	r2.mono = r.mono;
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

			out(&r2, EVT, (y >> 8) % 4, 1, y >> 16);
			ck_assert_uint_le(in(&r2, TMR, 0, 4), 0xffffff);
			r2.mono += (y >> 24) % (6 * NS);
			if (r2.deadline && r2.deadline <= r2.mono)
				fire(&r2);
		}
		r2.mono = r.mono;
		ck_assert_int_eq(snap_load(&r2, valid, sizeof(valid)), 0);
	}
	ck_assert_uint_gt(accepted, 300);
	ck_assert_uint_eq(r2.sci.redundant, 0);
	acpi_pm_evt_ops.destroy(r2.pm);
	acpi_pm_evt_ops.destroy(r.pm);
}
END_TEST

UNIT_SUITE("acpi_pm", acpi_pm_timer_counts_and_wraps, acpi_pm_tmr_sts_and_sci,
	   acpi_pm_enable_bits, acpi_pm_control_bits, acpi_pm_slp_en_powers_off,
	   acpi_pm_reset, acpi_pm_hostile_accesses, acpi_pm_describe,
	   acpi_pm_s3_sleeps_until_the_rtc_alarm,
	   acpi_pm_rtc_alarm_needs_rtc_en_to_wake, acpi_pm_power_button_wakes,
	   acpi_pm_s3_without_hooks_and_reset, acpi_pm_new_rejects,
	   acpi_pm_snapshot_round_trip, acpi_pm_snapshot_to_younger_clock,
	   acpi_pm_snapshot_sci_due_at_save, acpi_pm_snapshot_asleep,
	   acpi_pm_snapshot_truncated_refused,
	   acpi_pm_snapshot_bad_fields_refused, acpi_pm_snapshot_fuzz,
	   acpi_pm_snapshot_random_round_trips)
