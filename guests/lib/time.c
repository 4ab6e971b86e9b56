// SPDX-License-Identifier: MIT
/* TSC calibration and bounded waits woken by the LAPIC timer. */
#include "guest.h"

uint64_t tsc_khz;
uint64_t lapic_timer_khz;
static uint64_t tsc_start;

/*
 * TSC calibration against PIT channel 2, robust to a vCPU that loses its
 * host CPU for milliseconds (16 vCPUs on 2 cores): the counter is read
 * (latched) between two TSC reads, and only readings that took about as
 * long as the quickest are used, so neither end of the measured interval
 * is stretched by a preemption. Linux's quick_pit_calibrate() uses the
 * same idea. Channel 2 counts down from 0xffff in mode 0 (55 ms to
 * terminal count, when OUT2 rises); the interval is 30000 ticks, 25 ms.
 */
#define CAL_TICKS 30000u
/* Bounds if the PIT does not count: reads (TCG is fast), TSC ticks. */
#define CAL_MAX_READS 2000000
#define CAL_MAX_TSC 5000000000ull

struct pit_sample {
	uint64_t tsc;	/* middle of the read */
	uint64_t width; /* TSC ticks the read took */
	uint16_t count;
};

static void pit_sample(struct pit_sample *s)
{
	uint64_t a = rdtsc();

	s->count = pit_latch_read(2);
	s->width = rdtsc() - a;
	s->tsc = a + s->width / 2;
}

/* One attempt: TSC ticks per ms, or 0. */
static uint64_t calibrate_once(void)
{
	struct pit_sample first, s;
	uint64_t min_width = ~0ull;
	int i;

	pit_ch2_gate(true);
	pit_program(2, 0, 0xffff, false);
	for (i = 0; i < 4; i++) {
		pit_sample(&s);
		if (s.width < min_width)
			min_width = s.width;
	}
	for (i = 0; i < 20; i++) {
		pit_sample(&first);
		if (first.width <= 2 * min_width)
			break;
	}
	if (i == 20)
		return 0;
	for (i = 0; i < CAL_MAX_READS; i++) {
		uint16_t gone;

		pit_sample(&s);
		gone = (uint16_t)(first.count - s.count);
		if (pit_ch2_out() || gone > 2 * CAL_TICKS)
			return 0; /* too late: it may have wrapped */
		if (s.tsc - first.tsc > CAL_MAX_TSC)
			return 0;
		if (gone >= CAL_TICKS && s.width <= 2 * min_width)
			return (s.tsc - first.tsc) * PIT_HZ / gone / 1000;
	}
	return 0;
}

/* The lowest of three attempts that agree within 2 %, or 0. */
static uint64_t calibrate_with_pit(void)
{
	uint64_t r[3], lo = ~0ull, hi = 0;

	for (int i = 0; i < 3; i++) {
		r[i] = calibrate_once();
		if (!r[i])
			continue;
		lo = r[i] < lo ? r[i] : lo;
		hi = r[i] > hi ? r[i] : hi;
	}
	pit_ch2_gate(false);
	if (!hi)
		return 0;
	if (hi - lo > lo / 50)
		printf("timer: note: TSC calibration attempts disagree: %lu, "
		       "%lu, %lu kHz\n",
		       r[0], r[1], r[2]);
	return lo;
}

/* KVM's leaf 0x40000010 EAX: the TSC rate in kHz, when offered. */
static uint64_t tsc_khz_from_cpuid(void)
{
	uint32_t a, b, c, d;

	cpuid(0x40000000, 0, &a, &b, &c, &d);
	if (a < 0x40000010 || a > 0x400000ff)
		return 0;
	cpuid(0x40000010, 0, &a, &b, &c, &d);
	return a;
}

static void wakeup_handler(struct ex_regs *regs)
{
	lapic_eoi();
}

void timer_init(void)
{
	uint64_t t0;
	uint32_t left;

	tsc_khz = calibrate_with_pit();
	if (!tsc_khz) {
		tsc_khz = tsc_khz_from_cpuid();
		if (!tsc_khz)
			tsc_khz = 2000000;
		printf("timer: note: PIT channel 2 did not count as expected; "
		       "assuming a %lu kHz TSC\n",
		       tsc_khz);
	}
	tsc_start = rdtsc();

	/* The LAPIC timer counts at the bus clock (1 GHz on KVM/QEMU). */
	lapic_write(APIC_LVTT, APIC_LVT_MASKED | TIMER_WAKEUP_VECTOR);
	lapic_write(APIC_TDCR, APIC_TDCR_DIV1);
	lapic_write(APIC_TMICT, 0xffffffff);
	t0 = rdtsc();
	delay_us(1000);
	left = lapic_read(APIC_TMCCT);
	/* The in-kernel LAPIC answers at once: the TSC right after. */
	lapic_timer_khz =
		(uint64_t)(0xffffffffu - left) * tsc_khz / (rdtsc() - t0);
	lapic_write(APIC_TMICT, 0);
	if (lapic_timer_khz < 1000) {
		printf("timer: note: LAPIC timer counted %lu ticks/ms; "
		       "assuming 1 GHz\n",
		       lapic_timer_khz);
		lapic_timer_khz = 1000000;
	}
	set_idt_handler(TIMER_WAKEUP_VECTOR, wakeup_handler);
}

uint64_t now_us(void)
{
	return (rdtsc() - tsc_start) * 1000 / tsc_khz;
}

void delay_us(uint64_t us)
{
	uint64_t end = rdtsc() + us * tsc_khz / 1000;

	while (rdtsc() < end)
		cpu_relax();
}

void wait_begin(struct wait_state *w, uint64_t timeout_ms)
{
	w->irqs_were_on = read_rflags() & (1u << 9);
	w->deadline = rdtsc() + timeout_ms * tsc_khz;
}

bool wait_step(struct wait_state *w)
{
	uint64_t now = rdtsc();
	uint64_t left_us, count;

	/*
	 * Interrupts off from arming the timer to STI;HLT: a wakeup taken
	 * before the HLT would leave it sleeping with no timer armed.
	 */
	irq_disable();
	if (now >= w->deadline)
		return false;
	/* At most 1 ms per halt: the condition may change without an
	 * interrupt here (another CPU writing memory). */
	left_us = (w->deadline - now) * 1000 / tsc_khz;
	if (left_us > 1000)
		left_us = 1000;
	count = left_us * lapic_timer_khz / 1000;
	lapic_timer_start(TIMER_WAKEUP_VECTOR, count ? (uint32_t)count : 1,
			  false);
	safe_halt();
	irq_disable();
	return true;
}

void wait_end(struct wait_state *w)
{
	lapic_write(APIC_TMICT, 0);
	if (w->irqs_were_on)
		irq_enable();
	else
		irq_disable();
}

void sleep_ms(uint64_t ms)
{
	wait_until(false, ms);
}
