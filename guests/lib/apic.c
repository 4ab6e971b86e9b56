// SPDX-License-Identifier: MIT
/* Local APIC (xAPIC MMIO or x2APIC MSRs) and IOAPIC register access. */
#include "guest.h"

#define X2APIC_MSR_BASE 0x800
#define X2APIC_MSR_ICR 0x830

/* Chosen once by the BSP; APs follow (SDM 11.12: x2APIC is per CPU). */
static bool x2apic_mode;
volatile unsigned int lapic_spurious_count;

bool lapic_x2apic_supported(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	return c & (1u << 21);
}

bool lapic_is_x2apic(void)
{
	return x2apic_mode;
}

uint32_t lapic_read(unsigned int reg)
{
	if (x2apic_mode)
		return (uint32_t)rdmsr(X2APIC_MSR_BASE + (reg >> 4));
	return mmio_read32(APIC_MMIO_BASE + reg);
}

void lapic_write(unsigned int reg, uint32_t v)
{
	if (x2apic_mode)
		wrmsr(X2APIC_MSR_BASE + (reg >> 4), v);
	else
		mmio_write32(APIC_MMIO_BASE + reg, v);
}

uint32_t lapic_id(void)
{
	uint32_t id = lapic_read(APIC_ID);

	return x2apic_mode ? id : id >> 24;
}

bool lapic_vector_bit(unsigned int base, uint8_t vector)
{
	return lapic_read(base + 0x10 * (vector / 32)) & (1u << (vector % 32));
}

int lapic_highest_isr(void)
{
	for (int i = 7; i >= 0; i--) {
		uint32_t w = lapic_read(APIC_ISR + 0x10 * i);

		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

/*
 * The spurious vector (SDM 11.9): delivered when an interrupt is
 * withdrawn after the LAPIC committed to it. No EOI: it sets no ISR bit.
 */
static void spurious_handler(struct ex_regs *regs)
{
	atomic_inc(&lapic_spurious_count);
}

void lapic_enable_this_cpu(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
	uint64_t want = base | APIC_BASE_ENABLE;

	/*
	 * xAPIC -> x2APIC must go through enabled xAPIC (SDM 11.12.5:
	 * the transition from disabled straight to x2APIC is allowed too,
	 * but keeping EN set first is what every OS does).
	 */
	if (!(base & APIC_BASE_ENABLE))
		wrmsr(MSR_IA32_APIC_BASE, want);
	if (x2apic_mode && !(base & APIC_BASE_X2APIC))
		wrmsr(MSR_IA32_APIC_BASE, want | APIC_BASE_X2APIC);
	lapic_write(APIC_SVR, APIC_SVR_ENABLE | SPURIOUS_VECTOR);
}

bool lapic_init(enum lapic_mode mode)
{
	if (mode == LAPIC_X2APIC && !lapic_x2apic_supported())
		return false;
	x2apic_mode = mode == LAPIC_X2APIC;
	set_idt_handler(SPURIOUS_VECTOR, spurious_handler);
	lapic_enable_this_cpu();
	return true;
}

bool lapic_keeps_in_service = true;
static volatile int probe_isr_seen;

static void isr_probe_handler(struct ex_regs *regs)
{
	probe_isr_seen = lapic_isr(ISR_PROBE_VECTOR) ? 1 : 2;
}

bool lapic_probe_in_service(void)
{
	bool was_on = read_rflags() & (1u << 9);

	probe_isr_seen = 0;
	set_idt_handler(ISR_PROBE_VECTOR, isr_probe_handler);
	irq_disable();
	apic_self_ipi(ISR_PROBE_VECTOR);
	wait_until(probe_isr_seen, IRQ_TIMEOUT_MS);
	if (lapic_isr(ISR_PROBE_VECTOR))
		lapic_eoi();
	set_idt_handler(ISR_PROBE_VECTOR, NULL);
	if (was_on)
		irq_enable();
	lapic_keeps_in_service = probe_isr_seen == 1;
	if (!probe_isr_seen)
		printf("lapic: note: the self IPI of the in-service probe "
		       "never arrived\n");
	else if (!lapic_keeps_in_service)
		printf("lapic: note: a delivered vector is not kept in "
		       "service (ISR clear in its handler): this LAPIC EOIs "
		       "at delivery; checks that need it are skipped\n");
	return lapic_keeps_in_service;
}

void lapic_drain_isr(void)
{
	for (int i = 0; i < 8; i++) {
		int v = lapic_highest_isr();

		if (v < 0 || v > TEST_VECTOR_MAX)
			break;
		lapic_eoi();
	}
}

enum lapic_mode lapic_mode_from_cmdline(void)
{
	uint64_t v;

	if (cmdline_get_u64(guest_cmdline(), "x2apic", &v) && v)
		return LAPIC_X2APIC;
	return LAPIC_XAPIC;
}

bool apic_icr_write(uint32_t low, uint32_t dest)
{
	if (x2apic_mode) {
		/* No delivery status in x2APIC mode (SDM 11.12.9). */
		wrmsr(X2APIC_MSR_ICR, (uint64_t)dest << 32 | low);
		return true;
	}
	mmio_write32(APIC_MMIO_BASE + APIC_ICR2, dest << 24);
	mmio_write32(APIC_MMIO_BASE + APIC_ICR, low);
	/* The in-kernel LAPIC delivers at once; bound the wait anyway. */
	for (unsigned int i = 0; i < 100000; i++) {
		if (!(mmio_read32(APIC_MMIO_BASE + APIC_ICR) & APIC_ICR_BUSY))
			return true;
		cpu_relax();
	}
	return false;
}

bool apic_send_init(uint32_t dest)
{
	bool ok = apic_icr_write(
		APIC_DM_INIT | APIC_INT_LEVELTRIG | APIC_INT_ASSERT, dest);

	/*
	 * The INIT level de-assert of the MP spec sequence; x2APIC has no
	 * such message (SDM 11.12.9 "the level de-assert... not supported").
	 */
	if (!x2apic_mode)
		ok &= apic_icr_write(APIC_DM_INIT | APIC_INT_LEVELTRIG, dest);
	return ok;
}

void apic_self_ipi(uint8_t vector)
{
	if (x2apic_mode)
		wrmsr(X2APIC_MSR_BASE + (APIC_SELF_IPI >> 4), vector);
	else
		apic_icr_write(APIC_DEST_SELF | APIC_DM_FIXED |
				       APIC_INT_ASSERT | vector,
			       0);
}

uint32_t lapic_set_logical_id(uint8_t bits)
{
	if (!x2apic_mode) {
		lapic_write(APIC_DFR, APIC_DFR_FLAT);
		lapic_write(APIC_LDR, (uint32_t)bits << 24);
	}
	return lapic_logical_id();
}

uint32_t lapic_logical_id(void)
{
	uint32_t ldr = lapic_read(APIC_LDR);

	return x2apic_mode ? ldr : ldr >> 24;
}

void lapic_setup_virtual_wire(void)
{
	lapic_write(APIC_LVT0, APIC_DM_EXTINT);
	lapic_write(APIC_LVT1, APIC_DM_NMI);
}

void lapic_timer_start(uint8_t vector, uint32_t count, bool periodic)
{
	lapic_write(APIC_TDCR, APIC_TDCR_DIV1);
	lapic_write(APIC_LVTT,
		    vector | (periodic ? APIC_LVT_TIMER_PERIODIC : 0));
	lapic_write(APIC_TMICT, count);
}

void lapic_timer_stop(void)
{
	lapic_write(APIC_TMICT, 0);
	lapic_write(APIC_LVTT, APIC_LVT_MASKED | TIMER_WAKEUP_VECTOR);
}

/* ---- IOAPIC ---- */

uint32_t ioapic_read(unsigned int reg)
{
	mmio_write32(IOAPIC_MMIO_BASE + IOAPIC_IOREGSEL, reg);
	return mmio_read32(IOAPIC_MMIO_BASE + IOAPIC_IOWIN);
}

void ioapic_write(unsigned int reg, uint32_t v)
{
	mmio_write32(IOAPIC_MMIO_BASE + IOAPIC_IOREGSEL, reg);
	mmio_write32(IOAPIC_MMIO_BASE + IOAPIC_IOWIN, v);
}

uint64_t ioapic_read_entry(unsigned int pin)
{
	uint32_t lo = ioapic_read(IOAPIC_REG_REDTBL(pin));
	uint32_t hi = ioapic_read(IOAPIC_REG_REDTBL(pin) + 1);

	return lo | (uint64_t)hi << 32;
}

void ioapic_write_entry(unsigned int pin, uint64_t entry)
{
	/*
	 * The destination first, so that an unmasking write of the low
	 * half never sends to a stale destination (Linux does the same).
	 */
	ioapic_write(IOAPIC_REG_REDTBL(pin) + 1, (uint32_t)(entry >> 32));
	ioapic_write(IOAPIC_REG_REDTBL(pin), (uint32_t)entry);
}

void ioapic_mask_pin(unsigned int pin, bool masked)
{
	uint32_t lo = ioapic_read(IOAPIC_REG_REDTBL(pin));

	lo = masked ? lo | IOAPIC_MASKED : lo & ~IOAPIC_MASKED;
	ioapic_write(IOAPIC_REG_REDTBL(pin), lo);
}

uint8_t ioapic_version(void)
{
	return (uint8_t)ioapic_read(IOAPIC_REG_VERSION);
}

unsigned int ioapic_pins(void)
{
	return ((ioapic_read(IOAPIC_REG_VERSION) >> 16) & 0xff) + 1;
}

void ioapic_mask_all(void)
{
	unsigned int n = ioapic_pins();

	for (unsigned int pin = 0; pin < n; pin++)
		ioapic_write(IOAPIC_REG_REDTBL(pin), IOAPIC_MASKED);
}
