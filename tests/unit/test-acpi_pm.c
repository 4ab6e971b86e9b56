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

UNIT_SUITE("acpi_pm", acpi_pm_timer_counts_and_wraps, acpi_pm_tmr_sts_and_sci,
	   acpi_pm_enable_bits, acpi_pm_control_bits, acpi_pm_slp_en_powers_off,
	   acpi_pm_reset, acpi_pm_hostile_accesses, acpi_pm_describe,
	   acpi_pm_s3_sleeps_until_the_rtc_alarm,
	   acpi_pm_rtc_alarm_needs_rtc_en_to_wake, acpi_pm_power_button_wakes,
	   acpi_pm_s3_without_hooks_and_reset, acpi_pm_new_rejects)
