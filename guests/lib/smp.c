// SPDX-License-Identifier: MIT
/* Application processors: INIT-SIPI-SIPI, per-CPU records, an idle loop. */
#include "guest.h"

struct cpu_info smp_cpu[SMP_MAX_CPUS];
volatile uint32_t smp_cpus_known;
volatile uint32_t smp_ap_starts;
volatile ap_main_fn smp_ap_main;

/* APIC ID -> CPU index + 1 (0: unknown), for IDs below 256. */
static volatile uint8_t apic_to_cpu[256];

extern char smp_trampoline_start[], smp_trampoline_end[];
void ap_start(unsigned int page);

static uint32_t cpuid_apic_id(void)
{
	uint32_t a, b, c, d;

	if (lapic_is_x2apic()) {
		cpuid(0, 0, &a, &b, &c, &d);
		if (a >= 0xb) {
			cpuid(0xb, 0, &a, &b, &c, &d);
			return d;
		}
	}
	cpuid(1, 0, &a, &b, &c, &d);
	return b >> 24;
}

/* Flat logical model: CPU n < 8 gets bit n (x2APIC: the fixed LDR). */
static uint32_t set_logical(unsigned int cpu)
{
	return lapic_set_logical_id(cpu < 8 ? (uint8_t)(1u << cpu) : 0);
}

void smp_init(void)
{
	uint32_t id = lapic_id();

	smp_cpu[0].apic_id = id;
	smp_cpu[0].cpuid_apic_id = cpuid_apic_id();
	smp_cpu[0].logical_id = set_logical(0);
	smp_cpu[0].online = 1;
	if (id < 256)
		apic_to_cpu[id] = 1;
	smp_cpus_known = 1;
}

bool interrupts_init(enum lapic_mode mode)
{
	pic_mask_all();
	if (!lapic_init(mode)) {
		report("x2APIC supported (CPUID.1:ECX[21])", false);
		return false;
	}
	timer_init();
	smp_init();
	lapic_probe_in_service();
	return true;
}

int smp_cpu_of_apic(uint32_t apic_id)
{
	if (apic_id < 256 && apic_to_cpu[apic_id])
		return apic_to_cpu[apic_id] - 1;
	return -1;
}

unsigned int smp_cpu_id(void)
{
	int cpu = smp_cpu_of_apic(lapic_id());

	return cpu < 0 ? 0 : (unsigned int)cpu;
}

unsigned int smp_cpu_count(void)
{
	uint64_t n = cmdline_u64("cpus", 0);

	if (!n && fw_cfg_present())
		n = fw_cfg_cpus();
	if (!n)
		n = 1;
	return n > SMP_MAX_CPUS ? SMP_MAX_CPUS : (unsigned int)n;
}

void smp_install_trampoline(uint8_t page)
{
	/* Through a volatile address: gcc may not see a 4 KiB object. */
	uintptr_t dst = (uintptr_t)page << 12;

	memcpy((void *)dst, smp_trampoline_start,
	       (size_t)(smp_trampoline_end - smp_trampoline_start));
}

/* Called by trampoline.S on the AP's own stack, interrupts off. */
void ap_start(unsigned int page)
{
	uint32_t id;
	int cpu;

	idt_load();
	lapic_enable_this_cpu();
	id = lapic_id();
	cpu = smp_cpu_of_apic(id);
	if (cpu < 0) {
		cpu = (int)__atomic_fetch_add(&smp_cpus_known, 1,
					      __ATOMIC_SEQ_CST);
		if (cpu >= SMP_MAX_CPUS || id >= 256)
			for (;;)
				__asm__ volatile("cli; hlt");
		smp_cpu[cpu].apic_id = id;
		apic_to_cpu[id] = (uint8_t)(cpu + 1);
	}
	smp_cpu[cpu].cpuid_apic_id = cpuid_apic_id();
	smp_cpu[cpu].logical_id = set_logical((unsigned int)cpu);
	smp_cpu[cpu].sipi_page = page;
	smp_cpu[cpu].idle = 0;
	atomic_inc(&smp_cpu[cpu].starts);
	atomic_inc(&smp_ap_starts);
	atomic_set(&smp_cpu[cpu].online, 1);

	if (smp_ap_main)
		smp_ap_main((unsigned int)cpu);
	smp_cpu[cpu].idle = 1;
	for (;;)
		safe_halt();
}

void smp_start_ap(uint32_t apic_id, uint8_t page)
{
	apic_send_init(apic_id);
	sleep_ms(10);
	apic_send_sipi(apic_id, page);
	delay_us(200);
	apic_send_sipi(apic_id, page);
}

static unsigned int cpus_online(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < smp_cpus_known && i < SMP_MAX_CPUS; i++)
		n += atomic_read(&smp_cpu[i].online) ? 1 : 0;
	return n;
}

unsigned int smp_boot_aps(unsigned int count, ap_main_fn fn, unsigned int flags)
{
	uint32_t me = lapic_id();

	smp_ap_main = fn;
	smp_install_trampoline(SMP_TRAMPOLINE_PAGE);
	if (count <= 1)
		return cpus_online();

	/* MP spec B.4: INIT, 10 ms, STARTUP, 200 us, STARTUP. */
	if (flags & SMP_BOOT_BROADCAST) {
		apic_send_allbutself(APIC_DM_INIT | APIC_INT_LEVELTRIG);
	} else {
		for (uint32_t id = 0; id < count; id++)
			if (id != me)
				apic_send_init(id);
	}
	sleep_ms(10);
	for (int round = 0; round < 2; round++) {
		if (flags & SMP_BOOT_BROADCAST) {
			apic_send_allbutself(APIC_DM_STARTUP |
					     SMP_TRAMPOLINE_PAGE);
		} else {
			for (uint32_t id = 0; id < count; id++)
				if (id != me)
					apic_send_sipi(id, SMP_TRAMPOLINE_PAGE);
		}
		if (!round)
			delay_us(200);
	}
	/* Generous: 16 vCPUs share 2 host cores, interpreting CPL0 code. */
	wait_until(cpus_online() >= count, 2000 + 200 * count);
	return cpus_online();
}
