/* SPDX-License-Identifier: MIT */
/* Intel 8254 PIT (counters 0-2) and port 0x61, driven by explicit time. */
#ifndef SPLITVM_PIT_H
#define SPLITVM_PIT_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"

#define PIT_BASE 0x40
#define PIT_REGION_SIZE 4 /* register pit_ops for ports 0x40-0x43 */
#define PIT_PORT61 0x61
#define PIT_PORT61_SIZE 1   /* register pit_port61_ops for port 0x61 */
#define PIT_IRQ 0	    /* ISA IRQ of counter 0's OUT */
#define PIT_FREQ_HZ 1193182 /* the PC's 14.31818 MHz crystal / 12 */

/*
 * The shortest period at which IRQ0 is raised in modes 2 and 3: 200 us,
 * the default of KVM's min_timer_period_us, which its in-kernel PIT
 * applies for the same reason: a guest must not be able to make the host
 * take a timer interrupt every microsecond. Counts below 239 are affected
 * (Linux programs 1193 for HZ=1000). Only IRQ0 is slowed down: counter
 * reads and OUT keep the programmed rate.
 */
#define PIT_MIN_IRQ_PERIOD_NS 200000

struct pit;

/* A monotonic clock in ns (the glue: CLOCK_MONOTONIC). */
struct pit_clock {
	uint64_t (*now)(void *ctx);
	void *ctx;
};

/*
 * The host timer. arm() (re)arms it to expire at deadline_ns, on the same
 * clock as pit_clock (absolute time: timerfd with TFD_TIMER_ABSTIME); a
 * deadline of 0 disarms it. A later arm() replaces an earlier one. It is
 * called with the PIT's lock held, from whichever thread touched the PIT:
 * it must not call into the PIT nor wait for the thread that calls
 * pit_fire().
 */
struct pit_timer_ops {
	void (*arm)(void *ctx, uint64_t deadline_ns);
	void *ctx;
};

/*
 * Both tables take the same struct pit * as dev. pit_ops covers ports
 * 0x40-0x43 (offsets 0-3) and owns the PIT: its reset redoes the last
 * pit_reset(), its describe adds the FDT node, its destroy frees it.
 * pit_port61_ops covers port 0x61 (offset 0, NMI status and control: gate
 * 2, speaker data, refresh toggle, OUT2) and has no reset, describe nor
 * destroy, so that the PIT is added to the machine's device list once,
 * through pit_ops. Accesses that are not one byte wide are ignored (reads
 * give all ones).
 *
 * pit_ops.save and .load (src/base/device.h) snapshot the three counters,
 * port 0x61 and pit_stats, with times relative to the snapshot's now; not
 * the choice of the last pit_reset(), which is the machine's configuration.
 * An IRQ0 edge that was due at the save arms the timer in the past after
 * the load: pit_fire() delivers it. The refresh toggle of port 0x61
 * follows the host's clock, not the snapshot.
 */
extern const struct device_ops pit_ops;
extern const struct device_ops pit_port61_ops;

/**
 * pit_new() - creates a PIT in its power-on state (pit_reset(p, false)).
 * @clock: the time source; required. Copied.
 * @timer: the host timer; NULL for none (IRQ0 edges are then delivered
 *	   only when the guest touches the PIT). Copied.
 * @irq0: the line counter 0's OUT drives (ISA IRQ 0); NULL for none.
 *	  Copied.
 * @ret: receives the PIT; free it with pit_ops.destroy once the timer can
 *	 no longer call pit_fire().
 *
 * IRQ0 is pulsed (irq_line_set(irq0, true) then (irq0, false), as KVM's
 * in-kernel PIT does once per period) with the PIT's lock held: the
 * router behind it takes the irqchip lock, so the lock order is PIT, then
 * irqchip; the irqchip must never call into the PIT.
 *
 * Returns 0, or -EINVAL (clock, clock->now or ret NULL), -ENOMEM, or the
 * error of pthread_mutex_init().
 */
int pit_new(const struct pit_clock *clock, const struct pit_timer_ops *timer,
	    const struct irq_line *irq0, struct pit **ret);

/**
 * pit_reset() - puts the PIT back in a reset state (VM reset or reboot).
 * @p: the PIT.
 * @firmware: false: the power-on state, where the 8254 datasheet leaves
 *	      everything undefined; here no counter counts, all are in
 *	      mode 3 (LSB then MSB, binary) awaiting a count, OUTs are high,
 *	      IRQ0 is quiet (as KVM's in-kernel PIT after reset). Gates 0 and
 *	      1 high, gate 2 and the speaker off.
 *	      true: additionally, counter 0 as a PC BIOS leaves it (SeaBIOS'
 *	      pit_setup(): mode 2, count 0 = 65536, binary), so IRQ0 runs at
 *	      18.2 Hz from now, as under QEMU with its firmware.
 *
 * pit_ops.reset (VM reset) goes back to the state chosen by the last
 * call. Statistics are kept. Arms or disarms the timer accordingly.
 */
void pit_reset(struct pit *p, bool firmware);

/**
 * pit_fire() - the host timer expired: raise IRQ0 for what is due.
 * @p: the PIT.
 *
 * Reads the clock; if counter 0's OUT rose one or more times since the
 * last IRQ0, pulses IRQ0 once (lost ticks are not re-injected: the extra
 * periods are counted in pit_stats.lost_ticks), then re-arms the timer
 * for the next edge, keeping the counter's phase. Safe to call at any
 * time, early or spuriously; it does nothing that is not due.
 */
void pit_fire(struct pit *p);

struct pit_stats {
	uint64_t irqs;	     /* IRQ0 pulses */
	uint64_t lost_ticks; /* OUT0 edges merged into another pulse (late) */
	uint64_t clamped;    /* counter 0 periods raised to the minimum */
};

/* Copies the statistics to *ret. */
void pit_get_stats(struct pit *p, struct pit_stats *ret);

/* A counter's state now, for the glue's debug output and for tests. */
struct pit_channel_info {
	uint32_t initial_count; /* in use: 1-65536 (BCD: 1-10000) */
	uint16_t value; /* the count a read would give now (BCD coded) */
	uint8_t mode;	/* 0-5 (6 and 7 act as 2 and 3) */
	uint8_t rw;	/* 1 LSB, 2 MSB, 3 LSB then MSB */
	bool bcd;
	bool gate;
	bool out;
	bool counting; /* a count is loaded and was started */
};

/**
 * pit_get_channel() - reports counter @channel (0-2) at the current time.
 *
 * Like a guest access, it first brings the PIT up to date (which may
 * raise IRQ0 if the timer is late). Returns 0 or -EINVAL (channel > 2 or
 * ret NULL).
 */
int pit_get_channel(struct pit *p, unsigned int channel,
		    struct pit_channel_info *ret);

#endif /* SPLITVM_PIT_H */
