// SPDX-License-Identifier: MIT
/*
 * An 82093AA-style IOAPIC (version 0x11): no EOI register, so Remote IRR
 * clears only through a LAPIC EOI broadcast (or the edge flip Linux uses
 * on such chips). splitvm only: splitvm run --ioapic-version 0x11.
 */
#include "guest.h"

#define VEC_LEVEL 0x52
#define TPR_HOLD 0xd0 /* holds vectors up to class 13 pending in the IRR */

static unsigned int level_line;
static volatile uint32_t level_count;

static void level_handler(struct ex_regs *regs)
{
	atomic_inc(&level_count);
}

static uint64_t level_entry(uint32_t flags)
{
	return ioapic_entry(VEC_LEVEL, IOAPIC_LEVEL | flags,
			    (uint8_t)lapic_id());
}

/* Raise the line with TPR holding the vector pending (Remote IRR set). */
static bool level_pending(void)
{
	ioapic_write_entry(level_line, level_entry(0));
	lapic_set_tpr(TPR_HOLD);
	testdev_set_line(level_line, 1);
	return wait_until(lapic_irr(VEC_LEVEL), IRQ_TIMEOUT_MS) &&
	       ioapic_remote_irr(level_line);
}

static void level_reset(void)
{
	testdev_set_line(level_line, 0);
	lapic_set_tpr(0);
	sleep_ms(1);
	lapic_drain_isr();
	if (ioapic_remote_irr(level_line))
		wait_until(!ioapic_remote_irr(level_line), IRQ_TIMEOUT_MS);
	ioapic_write_entry(level_line, level_entry(IOAPIC_MASKED));
}

int guest_main(const struct guest_boot *boot)
{
	uint32_t ver, eoi_reg, lvr, lo;
	uint64_t l[1];
	int n;
	bool ok;

	printf("ioapic_v11: split-only: run with splitvm --ioapic-version "
	       "0x11 (QEMU: -global ioapic.version=0x11)\n");
	n = cmdline_get_list(guest_cmdline(), "lines", l, 1);
	if (n < 0 || (n == 1 && (l[0] == 0 || l[0] == 2 || l[0] >= 24))) {
		printf("FAIL: lines=N: one IOAPIC pin other than 0 and 2\n");
		return GUEST_EXIT_USAGE;
	}
	level_line = n == 1 ? (unsigned int)l[0] : guest_on_qemu() ? 15 : 17;

	ver = ioapic_read(IOAPIC_REG_VERSION);
	reportf((ver & 0xff) == 0x11, "version register says 0x11 (0x%08x)",
		ver);
	reportf(((ver >> 16) & 0xff) + 1 >= 24,
		"version register: at least 24 pins (%u)",
		((ver >> 16) & 0xff) + 1);
	eoi_reg = mmio_read32(IOAPIC_MMIO_BASE + IOAPIC_EOI_REG);
	reportf(eoi_reg == 0xffffffff,
		"offset 0x40 (no EOI register) reads all ones (0x%08x; QEMU "
		"reads 0)",
		eoi_reg);

	if (!interrupts_init(lapic_mode_from_cmdline()))
		return report_summary();
	lvr = lapic_read(APIC_LVR);
	reportf(!(lvr & APIC_LVR_DIRECTED_EOI),
		"the LAPIC does not offer directed EOI (LVR 0x%x bit 24) next "
		"to an IOAPIC without EOI register",
		lvr);
	ioapic_mask_all();
	set_idt_handler(VEC_LEVEL, level_handler);
	testdev_set_line(level_line, 0);
	irq_enable();
	printf("ioapic_v11: level line %u\n", level_line);

	/* The EOI register does not exist: a write there does nothing. */
	ok = level_pending();
	reportf(ok, "level: the line sends the vector, Remote IRR set");
	if (ok) {
		testdev_set_line(level_line, 0);
		mmio_write32(IOAPIC_MMIO_BASE + IOAPIC_EOI_REG, VEC_LEVEL);
		sleep_ms(20);
		reportf(ioapic_remote_irr(level_line),
			"a write to offset 0x40 is ignored: Remote IRR stays "
			"set (entry 0x%x)",
			ioapic_read(IOAPIC_REG_REDTBL(level_line)));
		lapic_set_tpr(0);
		ok = wait_until(level_count >= 1, IRQ_TIMEOUT_MS);
		reportf(ok, "the vector is delivered once TPR drops (%u)",
			level_count);
		lapic_eoi();
		ok = wait_until(!ioapic_remote_irr(level_line), IRQ_TIMEOUT_MS);
		reportf(ok, "a LAPIC EOI clears Remote IRR (entry 0x%x)",
			ioapic_read(IOAPIC_REG_REDTBL(level_line)));
	}
	level_reset();

	/* Linux's way out on such chips: rewrite the entry as edge. */
	level_count = 0;
	ok = level_pending();
	if (ok) {
		testdev_set_line(level_line, 0);
		ioapic_write(IOAPIC_REG_REDTBL(level_line),
			     VEC_LEVEL | IOAPIC_MASKED);
		ioapic_write_entry(level_line, level_entry(0));
		lo = ioapic_read(IOAPIC_REG_REDTBL(level_line));
		reportf(!(lo & IOAPIC_REMOTE_IRR),
			"edge flip: masked edge then level again clears Remote "
			"IRR (0x%x)",
			lo);
	} else {
		report("edge flip: the level vector is pending with Remote IRR "
		       "set",
		       false);
	}
	level_reset();

	irq_disable();
	ioapic_mask_all();
	return report_summary();
}
