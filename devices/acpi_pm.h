/* SPDX-License-Identifier: MIT */
/* ACPI fixed hardware: PM1a event and control blocks, the PM timer. */
#ifndef SPLITVM_ACPI_PM_H
#define SPLITVM_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"

#define ACPI_PM_EVT_SIZE 4 /* PM1_STS, PM1_EN: 16 bits each */
#define ACPI_PM_CNT_SIZE 2 /* PM1_CNT */
#define ACPI_PM_TMR_SIZE 4 /* PM_TMR: 24 bits, upper byte reads 0 */
#define ACPI_PM_TIMER_HZ 3579545

/* PM1 status and enable bits (ACPI 6.x 4.8.3.1, tables 4-16, 4-17). */
#define ACPI_PM1_TMR 0x0001 /* TMR_STS / TMR_EN */
#define ACPI_PM1_BM_STS 0x0010
#define ACPI_PM1_GBL 0x0020 /* GBL_STS / GBL_EN */
#define ACPI_PM1_PWRBTN 0x0100
#define ACPI_PM1_SLPBTN 0x0200
#define ACPI_PM1_RTC 0x0400
#define ACPI_PM1_PCIEXP_WAKE 0x4000 /* _STS / _DIS */
#define ACPI_PM1_WAK_STS 0x8000
/* PM1 control (table 4-18). */
#define ACPI_PM1_SCI_EN 0x0001
#define ACPI_PM1_BM_RLD 0x0002
#define ACPI_PM1_GBL_RLS 0x0004
#define ACPI_PM1_SLP_TYP_SHIFT 10
#define ACPI_PM1_SLP_TYP_MASK 0x1c00
#define ACPI_PM1_SLP_EN 0x2000

struct acpi_pm;

/* A monotonic clock in ns (the glue: CLOCK_MONOTONIC). */
struct acpi_pm_clock {
	uint64_t (*now)(void *ctx);
	void *ctx;
};

/*
 * The host timer for TMR_STS interrupts: arm() (re)arms it for
 * deadline_ns on the clock's time base, 0 disarms; called with the
 * device's lock held (it must not call back into the device).
 */
struct acpi_pm_timer_ops {
	void (*arm)(void *ctx, uint64_t deadline_ns);
	void *ctx;
};

/*
 * The sleeping state S3 (ACPI 6.x 16.1.3), carried out by the VM: sleep()
 * when the guest writes SLP_EN with SLP_TYP = s3_slp_typ (state 3, on the
 * vCPU that wrote it, no device lock held): the VM stops its vCPUs and
 * keeps RAM. wake() when a wake event ends the sleep (pm1_sts: the PM1
 * status bits then set, WAK_STS and the source's), called with the
 * device's lock held, from whichever thread brought the event: it may
 * only post the wake-up to the VM, never call into the device.
 */
struct acpi_pm_sleep_ops {
	void (*sleep)(void *ctx, unsigned int state, int vcpu);
	void (*wake)(void *ctx, uint16_t pm1_sts);
	void *ctx;
};

struct acpi_pm_config {
	struct vm_end_hook end;		/* required: S5 ends the run */
	struct acpi_pm_clock clock;	/* required */
	struct acpi_pm_timer_ops timer; /* arm NULL: TMR_STS by polling */
	struct irq_line sci;		/* set NULL: no SCI */
	uint8_t s5_slp_typ;		/* what the DSDT's _S5 names, 0-7 */
	struct acpi_pm_sleep_ops sleep; /* sleep and wake NULL: no S3 */
	uint8_t s3_slp_typ;		/* what the DSDT's _S3 names, 0-7 */
	uint16_t evt_port, cnt_port, tmr_port; /* for describe only */
};

/*
 * Three tables on the same struct acpi_pm *: the event block (PM1_STS at
 * offset 0, write 1 to clear; PM1_EN at offset 2), the control block and
 * the timer. Accesses of 1, 2 or 4 bytes at any offset of a block work
 * byte by byte; wider ones are ignored (reads all ones). acpi_pm_evt_ops
 * owns the device: reset (PM1 registers to their defaults; the timer runs
 * on), describe ("acpi-pm@<evt_port>") and destroy, save and load; the
 * other two have none of them.
 *
 * A snapshot (save, load: src/base/device.h) holds PM1_STS, PM1_EN,
 * PM1_CNT, the timer's count, the sleeping state and the levels of the
 * SCI and of the RTC alarm input; it loads only into a device with the
 * same _S5 and _S3 sleep types. A device loaded asleep stays asleep (the
 * VM's own state must keep its vCPUs parked): load calls neither sleep()
 * nor wake(). An SCI due while the VM was paused is raised by
 * acpi_pm_fire(), the timer being armed for the load's now.
 */
extern const struct device_ops acpi_pm_evt_ops;
extern const struct device_ops acpi_pm_cnt_ops;
extern const struct device_ops acpi_pm_tmr_ops;

/**
 * acpi_pm_new() - creates the PM device, the timer counting from 0.
 * @cfg: hooks and ports; copied.
 * @ret: receives the device; free it with acpi_pm_evt_ops.destroy once
 *	 the timer can no longer call acpi_pm_fire().
 *
 * SCI_EN reads 1 and cannot be cleared: with no SMI_CMD in the FADT the
 * platform is always in ACPI mode (ACPI 6.x 4.8.2.1.1). Writing SLP_EN
 * with SLP_TYP = s5_slp_typ calls end(vm, SPLITVM_OUTCOME_POWEROFF, 0,
 * vcpu), with no device lock held; with SLP_TYP = s3_slp_typ (and sleep
 * ops given) the device is sleeping and calls sleep.sleep(); other sleep
 * types are not supported and ignored. The SCI is a level line, set with
 * the lock held.
 *
 * Returns 0, or -EINVAL (cfg, end or clock hook, or ret NULL; SLP_TYP over
 * 7; only one of sleep and wake, or s3_slp_typ equal to s5_slp_typ),
 * -ENOMEM.
 */
int acpi_pm_new(const struct acpi_pm_config *cfg, struct acpi_pm **ret);

/**
 * acpi_pm_rtc_alarm() - the RTC's alarm output (its IRQ with AIE set and
 * the alarm flag up), wired to the PM1 block as on PC chipsets.
 * @pm: the device.
 * @level: the output's level; only a rise counts.
 *
 * A rise sets RTC_STS (4.8.3.1.1: "set when the RTC generates an alarm"),
 * which raises the SCI if RTC_EN is set; while sleeping with RTC_EN set
 * it is a wake event: WAK_STS is set and sleep.wake() is called.
 * Any thread; the lock order is RTC, then this device, then the irqchip.
 */
void acpi_pm_rtc_alarm(struct acpi_pm *pm, bool level);

/**
 * acpi_pm_power_button() - the fixed-feature power button is pressed.
 * @pm: the device.
 *
 * Sets PWRBTN_STS (an SCI if PWRBTN_EN is set). While sleeping it wakes
 * the machine whatever PWRBTN_EN says (4.8.3.1.1): WAK_STS is set and
 * sleep.wake() is called. Any thread.
 */
void acpi_pm_power_button(struct acpi_pm *pm);

/* Whether the device is in a sleeping state (S3) a wake event can end. */
bool acpi_pm_sleeping(struct acpi_pm *pm);

/* The host timer expired: set TMR_STS if due, update the SCI, re-arm. */
void acpi_pm_fire(struct acpi_pm *pm);

#endif /* SPLITVM_ACPI_PM_H */
