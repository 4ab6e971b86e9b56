// SPDX-License-Identifier: MIT
/*
 * A level-triggered interrupt storm: a line programmed level-triggered,
 * through an IOAPIC entry or (pic=1) an ELCR-level PIC input, is raised
 * through the test device and never lowered by its "device". Every
 * interrupt is EOIed without quieting the source (or, eoi=0, none is),
 * until count=N interrupts arrived or ms=T passed. Then the guest does
 * what an OS does with a stuck line (Linux: "Disabling IRQ #n"): it masks
 * it, and checks that the machine still works.
 *
 * The verdict does not depend on how the LAPIC ends an interrupt: on
 * hardware a level vector stays in service until its EOI, while on the
 * PVM hosts the LAPIC ends it at delivery (docs/FINDINGS.md), so eoi=0
 * sees one interrupt on one and a storm on the other; both pass.
 */
#include "guest.h"

#define STORM_VEC 0x40 /* priority class 4: checks use higher ones */
#define CHECK_VEC 0x90 /* an IOAPIC edge after the storm */
#define PIC_BASE 0x20
#define PIC_CHECK_IRQ 3 /* above the default storm line 5 in priority */
#define TPR_NONE 0

enum ended_by { RUNNING, BY_HANDLER, BY_MAIN };

static struct {
	bool pic, eoi, eoi_reg;
	unsigned int line;
	uint64_t max, budget_us, t0;
} cfg;

static volatile uint32_t storm_count, check_count;
static volatile uint64_t progress, progress_at_irq, progress_seen;
static volatile enum ended_by ended;
static volatile uint64_t ended_us;

/* Masks the stuck line where the guest unmasked it. IF=0 here. */
static void storm_mask(void)
{
	if (cfg.pic)
		pic_mask(cfg.line);
	else
		ioapic_mask_pin(cfg.line, true);
}

static void storm_end(enum ended_by by)
{
	storm_mask();
	ended_us = now_us() - cfg.t0;
	ended = by;
}

static void storm_eoi(void)
{
	if (cfg.pic) {
		pic_eoi(cfg.line);
		return;
	}
	lapic_eoi();
	/* A v0x20 IOAPIC also takes the EOI directly (82093AA has none). */
	if (cfg.eoi_reg)
		ioapic_eoi(STORM_VEC);
}

/*
 * Counts; notes whether the interrupted code moved since the last one;
 * EOIs without touching the source; ends the storm at the limits. The
 * budget is checked here because a CPU taking a level interrupt back to
 * back after each IRET may never run the code it interrupted.
 */
static void storm_handler(struct ex_regs *regs)
{
	uint32_t n = ++storm_count;

	if (progress != progress_at_irq) {
		progress_seen++;
		progress_at_irq = progress;
	}
	if (cfg.eoi)
		storm_eoi();
	if (ended == RUNNING &&
	    (n >= cfg.max || now_us() - cfg.t0 >= cfg.budget_us))
		storm_end(BY_HANDLER);
}

static void check_handler(struct ex_regs *regs)
{
	check_count++;
	if (regs->vector == CHECK_VEC)
		lapic_eoi();
	else
		pic_eoi(PIC_CHECK_IRQ);
}

static void storm_setup(uint8_t dest)
{
	testdev_set_line(cfg.line, 0);
	if (cfg.pic) {
		pic_init(PIC_BASE, PIC_BASE + 8, false);
		lapic_setup_virtual_wire();
		elcr_write((uint16_t)(1u << cfg.line));
		set_idt_handler(PIC_BASE + cfg.line, storm_handler);
		set_idt_handler(PIC_BASE + PIC_CHECK_IRQ, check_handler);
		pic_unmask(cfg.line);
		pic_unmask(PIC_CHECK_IRQ);
	} else {
		set_idt_handler(STORM_VEC, storm_handler);
		ioapic_write_entry(cfg.line,
				   ioapic_entry(STORM_VEC, IOAPIC_LEVEL, dest));
	}
	set_idt_handler(CHECK_VEC, check_handler);
}

/* The storm itself: the main code counts while it gets to run. */
static void storm_run(void)
{
	cfg.t0 = now_us();
	testdev_set_line(cfg.line, 1);
	irq_enable();
	while (ended == RUNNING) {
		progress++;
		if (now_us() - cfg.t0 >= cfg.budget_us) {
			irq_disable();
			if (ended == RUNNING)
				storm_end(BY_MAIN);
			irq_enable();
		}
	}
	/* Whatever the LAPIC held when the line was masked comes now. */
	sleep_ms(IRQ_QUIET_MS);
}

static void check_still_works(unsigned int other_line, uint8_t dest)
{
	uint32_t c0 = check_count;
	bool ok;

	ioapic_write_entry(other_line, ioapic_entry(CHECK_VEC, 0, dest));
	testdev_set_line(other_line, 1);
	testdev_set_line(other_line, 0);
	ok = wait_until(check_count > c0, IRQ_TIMEOUT_MS);
	ioapic_mask_pin(other_line, true);
	reportf(ok, "an IOAPIC edge on line %u still arrives", other_line);
	if (!cfg.pic)
		return;
	c0 = check_count;
	testdev_set_line(PIC_CHECK_IRQ, 1);
	testdev_set_line(PIC_CHECK_IRQ, 0);
	ok = wait_until(check_count > c0, IRQ_TIMEOUT_MS);
	reportf(ok, "a PIC edge on IRQ%u still arrives", PIC_CHECK_IRQ);
}

/* The device quiets at last: unmasked again, the line stays silent. */
static void check_quiet_after(void)
{
	uint32_t c0;

	testdev_set_line(cfg.line, 0);
	irq_disable();
	if (cfg.pic) {
		pic_eoi_specific(cfg.line); /* eoi=0 left it in service */
		pic_unmask(cfg.line);
	} else {
		lapic_drain_isr();
		if (cfg.eoi_reg)
			ioapic_eoi(STORM_VEC);
		ioapic_mask_pin(cfg.line, false);
	}
	c0 = storm_count;
	sleep_ms(IRQ_QUIET_MS);
	reportf(storm_count == c0,
		"the line dropped and unmasked: no more interrupts (%u)",
		storm_count - c0);
	irq_disable();
	storm_mask();
}

int guest_main(const struct guest_boot *boot)
{
	uint8_t dest;
	unsigned int other;
	bool qemu;

	cfg.pic = cmdline_u64("pic", 0);
	cfg.eoi = cmdline_u64("eoi", 1);
	/* QEMU's pc-testdev takes lines 0-15 only. */
	qemu = guest_on_qemu();
	cfg.line = (unsigned int)cmdline_u64("line", cfg.pic ? 5
						     : qemu ? 14
							    : 16);
	cfg.max = cmdline_u64("count", 100000);
	cfg.budget_us = cmdline_u64("ms", 1000) * 1000;
	if (cfg.line > 23 || (cfg.pic && (cfg.line > 15 || cfg.line == 0 ||
					  cfg.line == 1 || cfg.line == 2 ||
					  cfg.line == 8 || cfg.line == 13 ||
					  cfg.line == PIC_CHECK_IRQ))) {
		printf("storm: line=%u cannot be a level line here\n",
		       cfg.line);
		return GUEST_EXIT_USAGE;
	}
	if (!interrupts_init(lapic_mode_from_cmdline()))
		return report_summary();
	ioapic_mask_all();
	dest = (uint8_t)lapic_id();
	cfg.eoi_reg = ioapic_version() >= 0x20;
	other = qemu ? (cfg.line == 15 ? 14 : 15)
		     : (cfg.line == 17 ? 18 : 17);
	printf("storm: %s level line %u, %s, until %lu interrupts or %lu ms\n",
	       cfg.pic ? "PIC (ELCR)" : "IOAPIC", cfg.line,
	       !cfg.eoi     ? "never EOIed"
	       : cfg.pic    ? "PIC EOI each"
	       : cfg.eoi_reg ? "LAPIC and IOAPIC EOI each"
			     : "LAPIC EOI each",
	       cfg.max, cfg.budget_us / 1000);

	storm_setup(dest);
	storm_run();
	printf("storm: %u interrupts, ended by the %s after %lu ms; the "
	       "interrupted code ran between %lu of them\n",
	       storm_count, ended == BY_HANDLER ? "handler" : "main code",
	       ended_us / 1000, progress_seen);
	reportf(storm_count >= (cfg.eoi ? 2u : 1u),
		"the level line was delivered (%u times; %s)", storm_count,
		cfg.eoi ? "again after each EOI" : "at least once");
	reportf(ended_us < cfg.budget_us + 5000000,
		"the guest regained control and masked the line (%lu ms)",
		ended_us / 1000);
	if (!cfg.pic)
		reportf((ioapic_read_entry(cfg.line) & 0x18fff) ==
			    (IOAPIC_MASKED | IOAPIC_LEVEL | STORM_VEC),
			"the redirection entry is intact and masked (0x%lx)",
			ioapic_read_entry(cfg.line));
	check_still_works(other, dest);
	check_quiet_after();
	return report_summary();
}
