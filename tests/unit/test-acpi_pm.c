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
};

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

static void rig_init(struct rig *r)
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

	*r = (struct rig){ .mono = 1000 * NS + 7 };
	r->sci.line = 9;
	ck_assert_int_eq(acpi_pm_new(&cfg, &r->pm), 0);
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
	acpi_pm_evt_ops.destroy(NULL);
}
END_TEST

UNIT_SUITE("acpi_pm", acpi_pm_timer_counts_and_wraps, acpi_pm_tmr_sts_and_sci,
	   acpi_pm_enable_bits, acpi_pm_control_bits, acpi_pm_slp_en_powers_off,
	   acpi_pm_reset, acpi_pm_hostile_accesses, acpi_pm_describe,
	   acpi_pm_new_rejects)
