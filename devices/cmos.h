/* SPDX-License-Identifier: MIT */
/* MC146818A-compatible RTC and 128 bytes of CMOS RAM at ports 0x70-0x71. */
#ifndef SPLITVM_CMOS_H
#define SPLITVM_CMOS_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"

#define CMOS_BASE 0x70
#define CMOS_REGION_SIZE 2 /* index (0x70) and data (0x71) */
#define CMOS_IRQ 8	   /* ISA IRQ of the RTC's IRQ output */
#define CMOS_SIZE 128

/* Register indexes (MC146818A "Address Map"). */
#define CMOS_REG_A 0x0a
#define CMOS_REG_B 0x0b
#define CMOS_REG_C 0x0c
#define CMOS_REG_D 0x0d
#define CMOS_CENTURY 0x32 /* PC convention (IBM AT), named in the FADT */

struct cmos;

/*
 * Time for the RTC. now() is a monotonic clock in ns (the glue:
 * CLOCK_MONOTONIC, the clock the VM's timers run on); wall() is the
 * host's wall clock in ns since the Unix epoch, UTC (CLOCK_REALTIME). The
 * wall clock is read once, at creation: from then on the RTC counts with
 * now(), so a host clock step does not move the guest's clock.
 */
struct cmos_clock {
	uint64_t (*now)(void *ctx);
	int64_t (*wall)(void *ctx);
	void *ctx;
};

/*
 * The host timer that paces the IRQ 8 interrupts (periodic, alarm,
 * update-ended). arm() (re)arms it for deadline_ns on now()'s clock; 0
 * disarms. It is called with the RTC's lock held: it must not call into
 * the RTC nor wait for the thread that calls cmos_fire().
 */
struct cmos_timer_ops {
	void (*arm)(void *ctx, uint64_t deadline_ns);
	void *ctx;
};

/* What the RTC is told about the machine, for the NVRAM bytes. */
struct cmos_config {
	struct cmos_clock clock;     /* required */
	struct cmos_timer_ops timer; /* arm NULL: flags only by polling */
	struct irq_line irq;	     /* set NULL: no IRQ 8 */
	/*
	 * The alarm output: high while the alarm flag (AF) is set with its
	 * interrupt enabled (AIE), i.e. while the alarm holds IRQ 8 up;
	 * PC chipsets take it as the ACPI RTC wake event (RTC_STS). Set
	 * with the RTC's lock held, on changes only. set NULL: not wired.
	 */
	struct irq_line alarm;
	uint64_t ram_below_4g;	     /* bytes of RAM from 0 */
	uint64_t ram_above_4g;	     /* bytes of RAM from 4 GiB */
	unsigned int cpus;	     /* 1..256 (byte 0x5f holds cpus - 1) */
};

/*
 * Ports 0x70 (offset 0: write the index, bit 7 = NMI disable; reads give
 * all ones, the port being write-only on the PC/AT) and 0x71 (offset 1:
 * the indexed byte). Accesses wider than a byte are ignored (reads: all
 * ones). reset is the RESET pin: it clears PIE, AIE, UIE, SQWE and the
 * flags of register C, and the index and NMI mask; the time and the RAM
 * are battery-backed and kept. describe adds "rtc@70".
 *
 * save and load (src/base/device.h) snapshot the RAM, the registers, the
 * index and NMI mask, the flags and the guest's time: after a load the
 * clock goes on from the time saved, not from wall(). IRQ 8 and the alarm
 * output keep their levels; one due while the VM was paused is raised
 * by cmos_fire(), the timer being armed for the load's now. The load sets
 * IRQ 8 if need be but never the alarm output, whose far end (the ACPI PM
 * block) has its own snapshot.
 */
extern const struct device_ops cmos_ops;

/**
 * cmos_new() - creates the RTC with the clock running from wall().
 * @cfg: the machine and the host hooks. Copied.
 * @ret: receives the device; free it with cmos_ops.destroy once the
 *	 timer can no longer call cmos_fire().
 *
 * Register A reads 0x26 (32.768 kHz time base, 1024 Hz periodic rate),
 * B 0x02 (BCD, 24-hour), D 0x80, as PC firmware leaves them; the NVRAM
 * holds the PC layout for cfg's memory and CPU count.
 * IRQ 8 is set with the RTC's lock held (lock order: RTC, then irqchip).
 *
 * Returns 0, or -EINVAL (cfg, clock hooks or ret NULL, cpus 0 or over
 * 256), -ENOMEM.
 */
int cmos_new(const struct cmos_config *cfg, struct cmos **ret);

/**
 * cmos_fire() - the host timer expired: set the flags that are due and
 * raise IRQ 8 if an enabled one is set, then re-arm. Safe at any time.
 */
void cmos_fire(struct cmos *c);

/* Whether the guest last wrote port 0x70 with bit 7 set (NMI disabled). */
bool cmos_nmi_masked(struct cmos *c);

#endif /* SPLITVM_CMOS_H */
