// SPDX-License-Identifier: MIT
/*
 * NMIs: delivery while IF=0, blocking until IRET, one NMI latched while
 * blocked (further ones collapse). With host_nmi=N, waits for N NMIs
 * injected by the host instead.
 */
#include "guest.h"

enum nmi_mode {
	NMI_COUNT,    /* just count */
	NMI_SEND_ONE, /* the first handler sends one more NMI */
	NMI_SEND_TWO, /* the first handler sends two more NMIs */
};

#define HELD_SPIN_US 20000 /* how long the first handler watches */

static volatile uint32_t nmi_count;
static volatile enum nmi_mode mode;
static volatile uint32_t count_at_handler_end;
static volatile bool if_clear_in_handler;

static void nmi_handler(struct ex_regs *regs)
{
	uint32_t n = atomic_inc(&nmi_count);

	if (n != 1)
		return;
	if_clear_in_handler = !(regs->rflags & (1u << 9));
	if (mode == NMI_COUNT)
		return;
	/*
	 * NMIs are blocked from delivery of this one until the next IRET
	 * (SDM 6.7.1): what is sent now must wait, and only one can wait.
	 * No interrupt can run here (IF=0), so no stray IRET unblocks.
	 */
	apic_self_nmi();
	if (mode == NMI_SEND_TWO)
		apic_self_nmi();
	delay_us(HELD_SPIN_US);
	count_at_handler_end = nmi_count;
}

static void run_host_nmi(uint64_t want)
{
	bool ok;

	irq_enable();
	printf("nmi: ready\n");
	ok = wait_until(nmi_count >= want, 5000);
	sleep_ms(IRQ_QUIET_MS);
	reportf(ok && nmi_count == want,
		"host NMIs: %u of %lu arrived within 5 s", nmi_count, want);
}

int guest_main(const struct guest_boot *boot)
{
	uint64_t host_nmi = cmdline_u64("host_nmi", 0);
	bool ok;

	if (!interrupts_init(lapic_mode_from_cmdline()))
		return report_summary();
	set_nmi_handler(nmi_handler);
	if (host_nmi) {
		run_host_nmi(host_nmi);
		return report_summary();
	}
	printf("nmi: %s, APIC ID %u\n", lapic_is_x2apic() ? "x2APIC" : "xAPIC",
	       lapic_id());

	/* 1. A self NMI (physical destination = own ID) with IF=0. */
	irq_disable();
	mode = NMI_COUNT;
	nmi_count = 0;
	apic_self_nmi();
	ok = spin_until(nmi_count >= 1, IRQ_TIMEOUT_MS * 1000);
	reportf(ok, "an NMI IPI to self arrives while IF=0 (%u NMIs)",
		nmi_count);
	report("the NMI handler interrupted code running with IF=0",
	       ok && if_clear_in_handler);

	/* 2. A second NMI sent from the handler waits for its IRET. */
	mode = NMI_SEND_ONE;
	nmi_count = 0;
	count_at_handler_end = 0;
	apic_self_nmi();
	ok = spin_until(nmi_count >= 2, IRQ_TIMEOUT_MS * 1000);
	reportf(count_at_handler_end == 1,
		"an NMI sent inside the NMI handler is held until IRET (count "
		"%u at the end of the handler, after %u ms)",
		count_at_handler_end, HELD_SPIN_US / 1000);
	reportf(ok, "the held NMI is delivered after IRET (%u NMIs)",
		nmi_count);
	sleep_ms(IRQ_QUIET_MS);
	reportf(nmi_count == 2,
		"the held NMI is delivered exactly once (%u "
		"NMIs for 2 sent)",
		nmi_count);

	/* 3. Two more sent while blocked: only one can be pending. */
	mode = NMI_SEND_TWO;
	nmi_count = 0;
	count_at_handler_end = 0;
	irq_disable();
	apic_self_nmi();
	ok = spin_until(nmi_count >= 2, IRQ_TIMEOUT_MS * 1000);
	sleep_ms(IRQ_QUIET_MS);
	reportf(count_at_handler_end == 1,
		"two NMIs sent inside the handler are both held (count %u at "
		"the end of the handler)",
		count_at_handler_end);
	reportf(ok && nmi_count == 2,
		"NMIs sent while one is pending collapse into it (%u NMIs for "
		"3 sent, want 2)",
		nmi_count);

	mode = NMI_COUNT;
	return report_summary();
}
