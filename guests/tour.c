// SPDX-License-Identifier: MIT
/*
 * A quick tour of splitvm's interrupt machinery: starts the APs, takes
 * an IOAPIC edge and level interrupt from the test device, a PIC
 * interrupt through LVT0 (ExtINT), an NMI, and PIT ticks through IOAPIC
 * pin 2, then says what it saw in one line.
 */
#include "guest.h"

#define VEC_EDGE 0x41
#define VEC_LEVEL 0x52
#define VEC_PIT 0x30
#define PIC_BASE 0x20
#define PIC_LINE 3
#define TPR_HOLD 0xd0

static volatile uint32_t nmis, pic_irqs;

static void nmi_handler(struct ex_regs *regs)
{
	atomic_inc(&nmis);
}

static void pic_handler(struct ex_regs *regs)
{
	atomic_inc(&pic_irqs);
	pic_eoi(PIC_LINE);
}

static bool tour_edge(unsigned int line, uint8_t id)
{
	uint32_t c0 = irq_count[VEC_EDGE];
	bool ok;

	ioapic_write_entry(line, ioapic_entry(VEC_EDGE, 0, id));
	testdev_set_line(line, 1);
	ok = wait_until(irq_count[VEC_EDGE] > c0, IRQ_TIMEOUT_MS);
	testdev_set_line(line, 0);
	ioapic_mask_pin(line, true);
	return reportf(ok,
		       "IOAPIC: a rising edge on test line %u delivers "
		       "vector 0x%x",
		       line, VEC_EDGE);
}

/*
 * Level: the vector is held pending by TPR so that Remote IRR can be
 * seen set, then delivered; the line drops and the EOI clears it.
 */
static bool tour_level(unsigned int line, uint8_t id)
{
	uint32_t c0 = irq_count[VEC_LEVEL];
	bool held, delivered, cleared;

	ioapic_write_entry(line, ioapic_entry(VEC_LEVEL, IOAPIC_LEVEL, id));
	lapic_set_tpr(TPR_HOLD);
	testdev_set_line(line, 1);
	held = wait_until(lapic_irr(VEC_LEVEL), IRQ_TIMEOUT_MS) &&
	       ioapic_remote_irr(line);
	testdev_set_line(line, 0);
	lapic_set_tpr(0);
	delivered = wait_until(irq_count[VEC_LEVEL] > c0, IRQ_TIMEOUT_MS);
	cleared = wait_until(!ioapic_remote_irr(line), IRQ_TIMEOUT_MS);
	ioapic_mask_pin(line, true);
	return reportf(held && delivered && cleared,
		       "IOAPIC: a level line %u sets Remote IRR, delivers "
		       "vector 0x%x, and the EOI clears Remote IRR (%d/%d/%d)",
		       line, VEC_LEVEL, held, delivered, cleared);
}

static bool tour_pic(void)
{
	uint32_t c0 = pic_irqs;
	bool ok;

	pic_init(PIC_BASE, PIC_BASE + 8, false);
	lapic_setup_virtual_wire();
	pic_unmask(PIC_LINE);
	testdev_set_line(PIC_LINE, 1);
	testdev_set_line(PIC_LINE, 0);
	ok = wait_until(pic_irqs > c0, IRQ_TIMEOUT_MS);
	pic_mask_all();
	return reportf(ok,
		       "PIC: IRQ%u arrives through LVT0 (ExtINT) as "
		       "vector 0x%x",
		       PIC_LINE, PIC_BASE + PIC_LINE);
}

static bool tour_nmi(void)
{
	uint32_t n0 = nmis;
	bool ok;

	apic_self_nmi();
	ok = wait_until(nmis > n0, IRQ_TIMEOUT_MS);
	return reportf(ok, "NMI: a self NMI IPI arrives");
}

static bool tour_pit(uint8_t id)
{
	uint32_t c0 = irq_count[VEC_PIT], n;
	bool ok;

	ioapic_write_entry(2, ioapic_entry(VEC_PIT, 0, id));
	pit_program(0, 2, pit_count_for_us(1000), false); /* 1 kHz */
	ok = wait_until(irq_count[VEC_PIT] - c0 >= 3, IRQ_TIMEOUT_MS);
	n = irq_count[VEC_PIT] - c0;
	pit_program(0, 0, 1, false);
	ioapic_mask_pin(2, true);
	return reportf(ok,
		       "PIT: channel 0 ticks at 1 kHz through IOAPIC pin "
		       "2 (%u ticks seen)",
		       n);
}

int guest_main(const struct guest_boot *boot)
{
	uint64_t t0 = rdtsc(), l[2];
	unsigned int n, up, edge_line, level_line;
	bool edge, level, pic, nmi, pit;
	uint8_t id;
	int nl;

	printf("splitvm tour: interrupts from every corner of the machine\n");
	nl = cmdline_get_list(guest_cmdline(), "lines", l, 2);
	if (nl != 0 && (nl != 2 || l[0] == l[1] || !l[0] || !l[1] ||
			l[0] == 2 || l[1] == 2 || l[0] >= 24 || l[1] >= 24)) {
		printf("FAIL: lines=EDGE,LEVEL: two IOAPIC pins other than 0 "
		       "and 2\n");
		return GUEST_EXIT_USAGE;
	}
	/* QEMU's pc-testdev aborts on lines >= 16. */
	edge_line = nl ? (unsigned int)l[0] : guest_on_qemu() ? 14 : 16;
	level_line = nl ? (unsigned int)l[1] : edge_line + 1;

	if (!interrupts_init(lapic_mode_from_cmdline()))
		return report_summary();
	id = (uint8_t)lapic_id();
	ioapic_mask_all();
	irq_count_install(VEC_EDGE, true);
	irq_count_install(VEC_LEVEL, true);
	irq_count_install(VEC_PIT, true);
	set_idt_handler(PIC_BASE + PIC_LINE, pic_handler);
	set_nmi_handler(nmi_handler);
	testdev_set_line(edge_line, 0);
	testdev_set_line(level_line, 0);
	irq_enable();

	n = smp_cpu_count();
	up = smp_boot_aps(n, NULL, 0);
	reportf(up == n, "SMP: %u of %u CPUs up (INIT-SIPI-SIPI, %s)", up, n,
		lapic_is_x2apic() ? "x2APIC" : "xAPIC");
	edge = tour_edge(edge_line, id);
	level = tour_level(level_line, id);
	pic = tour_pic();
	nmi = tour_nmi();
	pit = tour_pit(id);

	printf("tour: %u CPU%s up; IOAPIC edge %s, level+EOI %s; PIC %s; "
	       "NMI %s; PIT %s (%lu ms)\n",
	       up, up == 1 ? "" : "s", edge ? "ok" : "FAILED",
	       level ? "ok" : "FAILED", pic ? "ok" : "FAILED",
	       nmi ? "ok" : "FAILED", pit ? "ok" : "FAILED",
	       (rdtsc() - t0) / tsc_khz);
	irq_disable();
	return report_summary();
}
