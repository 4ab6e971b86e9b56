// SPDX-License-Identifier: MIT
/*
 * Application processors: INIT-SIPI-SIPI through the xAPIC ICR (or the
 * x2APIC ICR MSR with x2apic=1), APIC IDs, IPIs (physical, logical,
 * shorthands, self, NMI, AP to BSP), INIT to a running AP and a restart
 * at another SIPI vector, and a SIPI to a running AP being ignored.
 */
#include "guest.h"

#define VEC_IPI 0x44
#define VEC_CMD 0x45 /* asks an AP to run cmd */

static volatile uint32_t ap_main_runs[SMP_MAX_CPUS];
static volatile bool ap_x2apic[SMP_MAX_CPUS];
static volatile uint32_t nmi_per_cpu[SMP_MAX_CPUS];
static volatile uint32_t cmd_target_apic;
static unsigned int known;

static void ap_main(unsigned int cpu)
{
	atomic_inc(&ap_main_runs[cpu]);
	ap_x2apic[cpu] = rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_X2APIC;
}

static void nmi_handler(struct ex_regs *regs)
{
	unsigned int cpu = smp_cpu_id();

	if (cpu < SMP_MAX_CPUS)
		atomic_inc(&nmi_per_cpu[cpu]);
}

/* On an AP: send VEC_IPI to cmd_target_apic. */
static void cmd_handler(struct ex_regs *regs)
{
	apic_send_fixed(cmd_target_apic, VEC_IPI);
	lapic_eoi();
}

static void snapshot(uint32_t *s)
{
	for (unsigned int c = 0; c < known; c++)
		s[c] = irq_cpu_total[c];
}

/* Waits until CPU c got want[c] - before[c] more, then a quiet time. */
static bool deliveries_are(const uint32_t *before, const uint32_t *want_more)
{
	bool ok = wait_until(({
				     bool all = true;
				     for (unsigned int c = 0; c < known; c++)
					     if (irq_cpu_total[c] - before[c] <
						 want_more[c])
						     all = false;
				     all;
			     }),
			     IRQ_TIMEOUT_MS);

	sleep_ms(20);
	for (unsigned int c = 0; c < known; c++)
		if (irq_cpu_total[c] - before[c] != want_more[c]) {
			printf("  CPU %u: %u interrupts, want %u\n", c,
			       irq_cpu_total[c] - before[c], want_more[c]);
			ok = false;
		}
	return ok;
}

static void test_bringup(unsigned int n, unsigned int flags)
{
	uint64_t t0 = now_us();
	unsigned int up = smp_boot_aps(n, ap_main, flags);
	bool distinct = true, match = true, range = true, once = true;
	bool page = true, mode = true;

	known = smp_cpus_known;
	reportf(up == n,
		"INIT-SIPI-SIPI (%s, %s ICR) brings up all %u APs "
		"(%u CPUs online after %lu ms)",
		flags & SMP_BOOT_BROADCAST ? "all-excluding-self"
					   : "one by one",
		lapic_is_x2apic() ? "x2APIC MSR" : "xAPIC MMIO", n - 1, up,
		(now_us() - t0) / 1000);
	for (unsigned int c = 0; c < known; c++) {
		struct cpu_info *ci = &smp_cpu[c];

		printf("  CPU %u: APIC ID %u, CPUID APIC ID %u, logical 0x%x, "
		       "SIPI page 0x%x\n",
		       c, ci->apic_id, ci->cpuid_apic_id, ci->logical_id,
		       ci->sipi_page);
		for (unsigned int d = 0; d < c; d++)
			if (smp_cpu[d].apic_id == ci->apic_id)
				distinct = false;
		if (ci->apic_id != ci->cpuid_apic_id)
			match = false;
		if (ci->apic_id >= n)
			range = false;
		if (c && (ap_main_runs[c] != 1 || ci->starts != 1))
			once = false;
		if (c && ci->sipi_page != SMP_TRAMPOLINE_PAGE)
			page = false;
		if (c && ap_x2apic[c] != lapic_is_x2apic())
			mode = false;
	}
	report("every APIC ID is distinct", distinct);
	report("every LAPIC ID matches the CPU's CPUID APIC ID", match);
	reportf(range, "APIC IDs are 0 to %u", n - 1);
	report("every AP started once and ran ap_main once", once);
	reportf(page, "every AP started at the SIPI page 0x%x",
		SMP_TRAMPOLINE_PAGE);
	reportf(mode, "every AP runs its LAPIC in %s mode like the BSP",
		lapic_is_x2apic() ? "x2APIC" : "xAPIC");
}

static void test_ipis(void)
{
	uint32_t before[SMP_MAX_CPUS], want[SMP_MAX_CPUS];
	unsigned int good = 0;
	bool ok;

	/* Fixed, physical, to each AP. */
	for (unsigned int c = 1; c < known; c++) {
		snapshot(before);
		memset(want, 0, sizeof(want));
		want[c] = 1;
		apic_send_fixed(smp_cpu[c].apic_id, VEC_IPI);
		if (deliveries_are(before, want))
			good++;
	}
	reportf(good == known - 1,
		"fixed IPI by physical APIC ID reaches "
		"each AP once, and only it (%u of %u)",
		good, known - 1);

	/* Logical: flat model (xAPIC) or cluster model (x2APIC). */
	snapshot(before);
	memset(want, 0, sizeof(want));
	if (lapic_is_x2apic()) {
		for (unsigned int c = 1; c < known; c++) {
			uint32_t ldr = smp_cpu[c].logical_id, dest = 0;

			if (!ldr || want[c])
				continue;
			/* Everyone in c's cluster, in one IPI. */
			for (unsigned int d = 1; d < known; d++)
				if (smp_cpu[d].logical_id >> 16 == ldr >> 16) {
					dest |= smp_cpu[d].logical_id;
					want[d] = 1;
				}
			apic_send_logical(dest, VEC_IPI);
		}
	} else {
		uint32_t dest = 0;

		for (unsigned int c = 1; c < known && c < 8; c++) {
			dest |= smp_cpu[c].logical_id;
			want[c] = 1;
		}
		if (dest)
			apic_send_logical(dest, VEC_IPI);
	}
	ok = deliveries_are(before, want);
	reportf(ok,
		"fixed IPI by logical destination (%s) reaches the APs "
		"named, once each",
		lapic_is_x2apic() ? "x2APIC clusters" : "flat, APs 1-7");

	snapshot(before);
	for (unsigned int c = 0; c < known; c++)
		want[c] = c ? 1 : 0;
	apic_send_allbutself(APIC_DM_FIXED | VEC_IPI);
	reportf(deliveries_are(before, want), "all-excluding-self IPI: every "
					      "AP once, the BSP not");

	snapshot(before);
	for (unsigned int c = 0; c < known; c++)
		want[c] = 1;
	apic_icr_write(APIC_DEST_ALLINC | APIC_DM_FIXED | APIC_INT_ASSERT |
			       VEC_IPI,
		       0);
	reportf(deliveries_are(before, want), "all-including-self IPI: every "
					      "CPU once");

	snapshot(before);
	memset(want, 0, sizeof(want));
	want[0] = 1;
	apic_icr_write(
		APIC_DEST_SELF | APIC_DM_FIXED | APIC_INT_ASSERT | VEC_IPI, 0);
	reportf(deliveries_are(before, want), "self IPI (ICR shorthand): the "
					      "BSP once");
	if (lapic_is_x2apic()) {
		snapshot(before);
		apic_self_ipi(VEC_IPI);
		reportf(deliveries_are(before, want), "self IPI (x2APIC SELF "
						      "IPI MSR): the BSP once");
	}

	/* An AP sends to the BSP. */
	snapshot(before);
	memset(want, 0, sizeof(want));
	want[0] = 1; /* cmd_handler does not count VEC_CMD */
	cmd_target_apic = smp_cpu[0].apic_id;
	apic_send_fixed(smp_cpu[known - 1].apic_id, VEC_CMD);
	reportf(deliveries_are(before, want),
		"an IPI from AP %u reaches the "
		"BSP",
		known - 1);

	/* NMI to each AP. */
	good = 0;
	for (unsigned int c = 1; c < known; c++) {
		uint32_t n0 = nmi_per_cpu[c];

		apic_send_nmi(smp_cpu[c].apic_id);
		if (wait_until(nmi_per_cpu[c] > n0, IRQ_TIMEOUT_MS))
			good++;
	}
	sleep_ms(20);
	reportf(good == known - 1 && nmi_per_cpu[0] == 0,
		"NMI IPI reaches each AP (%u of %u; BSP %u)", good, known - 1,
		nmi_per_cpu[0]);
}

static void test_init_restart(void)
{
	unsigned int c = known - 1;
	struct cpu_info *ci = &smp_cpu[c];
	uint32_t before[SMP_MAX_CPUS], want[SMP_MAX_CPUS];
	uint32_t starts = ci->starts, runs = ap_main_runs[c];
	bool ok;

	smp_install_trampoline(SMP_TRAMPOLINE_PAGE_ALT);
	apic_send_init(ci->apic_id);
	sleep_ms(10);
	/* In wait-for-SIPI a fixed IPI is not taken. */
	snapshot(before);
	memset(want, 0, sizeof(want));
	apic_send_fixed(ci->apic_id, VEC_IPI);
	sleep_ms(IRQ_QUIET_MS);
	reportf(irq_cpu_total[c] == before[c],
		"AP %u after INIT takes no "
		"fixed IPI (%u)",
		c, irq_cpu_total[c] - before[c]);
	apic_send_sipi(ci->apic_id, SMP_TRAMPOLINE_PAGE_ALT);
	delay_us(200);
	apic_send_sipi(ci->apic_id, SMP_TRAMPOLINE_PAGE_ALT);
	ok = wait_until(ci->starts > starts, 2000);
	sleep_ms(20);
	reportf(ok && ci->starts == starts + 1 && ap_main_runs[c] == runs + 1,
		"INIT then SIPI restarts AP %u once (starts %u, ap_main %u)", c,
		ci->starts, ap_main_runs[c]);
	reportf(ci->sipi_page == SMP_TRAMPOLINE_PAGE_ALT,
		"the restarted AP came in through the new SIPI page 0x%x "
		"(0x%x)",
		SMP_TRAMPOLINE_PAGE_ALT, ci->sipi_page);
	reportf(smp_cpus_known == known,
		"the restarted AP kept its APIC ID %u (%u CPUs known)",
		ci->apic_id, smp_cpus_known);
	snapshot(before);
	memset(want, 0, sizeof(want));
	want[c] = 1;
	apic_send_fixed(ci->apic_id, VEC_IPI);
	reportf(deliveries_are(before, want), "the restarted AP takes IPIs");
}

static void test_sipi_to_running(void)
{
	unsigned int c = 1;
	struct cpu_info *ci = &smp_cpu[c];
	uint32_t before[SMP_MAX_CPUS], want[SMP_MAX_CPUS];
	uint32_t starts = ci->starts, total = smp_ap_starts;

	apic_send_sipi(ci->apic_id, SMP_TRAMPOLINE_PAGE_ALT);
	sleep_ms(IRQ_QUIET_MS);
	reportf(ci->starts == starts && smp_ap_starts == total,
		"a SIPI to running AP %u is ignored (starts %u -> %u)", c,
		starts, ci->starts);
	snapshot(before);
	memset(want, 0, sizeof(want));
	want[c] = 1;
	apic_send_fixed(ci->apic_id, VEC_IPI);
	reportf(deliveries_are(before, want),
		"AP %u keeps running after the "
		"SIPI (takes an IPI)",
		c);
}

int guest_main(const struct guest_boot *boot)
{
	unsigned int n, flags;

	if (!interrupts_init(lapic_mode_from_cmdline()))
		return report_summary();
	n = smp_cpu_count();
	flags = cmdline_u64("broadcast", 0) ? SMP_BOOT_BROADCAST : 0;
	printf("smp: %u CPUs, %s, BSP APIC ID %u\n", n,
	       lapic_is_x2apic() ? "x2APIC" : "xAPIC", lapic_id());
	irq_count_install(VEC_IPI, true);
	set_idt_handler(VEC_CMD, cmd_handler);
	set_nmi_handler(nmi_handler);
	irq_enable();

	if (n < 2) {
		report_skip("APs: only one CPU (give QEMU -smp N, splitvm "
			    "--cpus N, or cpus=N)");
		return report_summary();
	}
	test_bringup(n, flags);
	if (known < 2)
		return report_summary();
	test_ipis();
	test_init_restart();
	test_sipi_to_running();
	return report_summary();
}
