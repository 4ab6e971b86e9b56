// SPDX-License-Identifier: MIT
/*
 * An EOI storm: count=N EOIs as fast as the guest can issue them with
 * nothing in service, in random order (seed=S): LAPIC EOIs, IOAPIC EOI
 * register writes (random vectors, and the vectors of a level entry with
 * Remote IRR set and of one with it clear), 8259A non-specific, specific
 * and rotating EOIs on both chips. Then the machine must still work: the
 * pending level interrupt, a new level one, an IOAPIC edge, a PIC edge
 * through ExtINT and a self IPI all arrive, and no chip is left with
 * something in service.
 */
#include "guest.h"

/*
 * The held level line (high, Remote IRR set during the storm), an idle
 * level one, an edge one: IOAPIC-only lines, or ISA lines no device
 * drives under QEMU, whose pc-testdev takes lines 0-15 only.
 */
static unsigned int line_held = 16, line_idle = 17, line_edge = 18;
#define VEC_HELD 0x50
#define VEC_IDLE 0x51
#define VEC_EDGE 0x52
#define VEC_IPI 0x53
#define PIC_BASE 0x20
#define PIC_IRQ 3

static uint64_t rng_state;
static bool eoi_reg;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A level line's device quiets when served: lower it, then EOI. */
static void level_handler(struct ex_regs *regs)
{
	uint8_t v = (uint8_t)regs->vector;

	testdev_set_line(v == VEC_HELD ? line_held : line_idle, 0);
	irq_count[v]++;
	lapic_eoi();
	if (eoi_reg)
		ioapic_eoi(v);
}

static void pic_handler(struct ex_regs *regs)
{
	irq_count[regs->vector & 0xff]++;
	pic_eoi(PIC_IRQ);
}

static void one_eoi(void)
{
	uint64_t r = rnd();
	uint8_t cmd = (r >> 8) & 1 ? PIC_SLAVE_CMD : PIC_MASTER_CMD;
	uint8_t level = (r >> 16) & 7;

	switch (r % 8) {
	case 0: lapic_eoi(); break;
	case 1: ioapic_eoi((uint8_t)(r >> 24)); break;
	case 2: ioapic_eoi(VEC_HELD); break;
	case 3: ioapic_eoi(VEC_IDLE); break;
	case 4: outb(cmd, PIC_OCW2_EOI); break;
	case 5: outb(cmd, PIC_OCW2_SEOI | level); break;
	case 6: outb(cmd, PIC_OCW2_ROTATE_EOI); break;
	default: outb(cmd, PIC_OCW2_ROTATE_SEOI | level); break;
	}
}

static void setup(uint8_t dest)
{
	ioapic_mask_all();
	pic_init(PIC_BASE, PIC_BASE + 8, false);
	lapic_setup_virtual_wire();
	set_idt_handler(VEC_HELD, level_handler);
	set_idt_handler(VEC_IDLE, level_handler);
	irq_count_install(VEC_EDGE, true);
	irq_count_install(VEC_IPI, true);
	set_idt_handler(PIC_BASE + PIC_IRQ, pic_handler);
	testdev_set_line(line_idle, 0);
	testdev_set_line(line_edge, 0);
	ioapic_write_entry(line_held, ioapic_entry(VEC_HELD, IOAPIC_LEVEL, dest));
	ioapic_write_entry(line_idle, ioapic_entry(VEC_IDLE, IOAPIC_LEVEL, dest));
	ioapic_write_entry(line_edge, ioapic_entry(VEC_EDGE, 0, dest));
	/* IF=0: the held line is accepted by the LAPIC, not taken. */
	testdev_set_line(line_held, 1);
}

static void check_entries(void)
{
	const struct {
		unsigned int pin;
		uint64_t want;
	} e[] = {
		{line_held, IOAPIC_LEVEL | VEC_HELD},
		{line_idle, IOAPIC_LEVEL | VEC_IDLE},
		{line_edge, VEC_EDGE},
	};
	bool ok = true;

	for (unsigned int i = 0; i < ARRAY_SIZE(e); i++)
		ok &= (ioapic_read_entry(e[i].pin) & 0x18fff) == e[i].want;
	reportf(ok, "the redirection entries are intact");
	reportf(!ioapic_remote_irr(line_idle),
		"the idle level entry's Remote IRR stayed clear");
}

static void check_level(unsigned int line, uint8_t vec, const char *what)
{
	bool ok;

	testdev_set_line(line, 1);
	irq_enable();
	ok = wait_until(irq_count[vec] > 0, IRQ_TIMEOUT_MS);
	sleep_ms(10);
	irq_disable();
	reportf(ok && !ioapic_remote_irr(line),
		"IOAPIC: %s arrives and its EOI clears Remote IRR "
		"(%u deliveries)",
		what, irq_count[vec]);
}

static void check_edge_and_ipi(void)
{
	bool ok;

	testdev_set_line(line_edge, 1);
	testdev_set_line(line_edge, 0);
	irq_enable();
	ok = wait_until(irq_count[VEC_EDGE] > 0, IRQ_TIMEOUT_MS);
	reportf(ok, "IOAPIC: an edge on line %u arrives", line_edge);
	apic_self_ipi(VEC_IPI);
	ok = wait_until(irq_count[VEC_IPI] > 0, IRQ_TIMEOUT_MS);
	reportf(ok, "LAPIC: a self IPI arrives");
	irq_disable();
}

static void check_pic(void)
{
	uint8_t vec = PIC_BASE + PIC_IRQ;
	bool ok;

	/* The rotations moved the priorities: start again from ICW1. */
	pic_init(PIC_BASE, PIC_BASE + 8, false);
	pic_unmask(PIC_IRQ);
	testdev_set_line(PIC_IRQ, 1);
	testdev_set_line(PIC_IRQ, 0);
	irq_enable();
	ok = wait_until(irq_count[vec] > 0, IRQ_TIMEOUT_MS);
	irq_disable();
	pic_mask_all();
	reportf(ok && pic_read_isr() == 0,
		"PIC: IRQ%u arrives through ExtINT and its EOI leaves "
		"nothing in service",
		PIC_IRQ);
}

int guest_main(const struct guest_boot *boot)
{
	uint64_t count = cmdline_u64("count", 20000), t0;
	uint16_t isr;
	int lapic_isr;

	rng_state = cmdline_u64("seed", 0xe01) | 1;
	if (guest_on_qemu()) {
		line_held = 9;
		line_idle = 10;
		line_edge = 11;
	}
	if (!interrupts_init(lapic_mode_from_cmdline()))
		return report_summary();
	eoi_reg = ioapic_version() >= 0x20;
	irq_disable();
	setup((uint8_t)lapic_id());
	reportf(spin_until(ioapic_remote_irr(line_held),
			   IRQ_TIMEOUT_MS * 1000),
		"the held level line has Remote IRR set before the storm");

	t0 = now_us();
	for (uint64_t i = 0; i < count; i++)
		one_eoi();
	printf("eoistorm: %lu EOIs in %lu ms\n", count,
	       (now_us() - t0) / 1000);

	lapic_isr = lapic_highest_isr();
	isr = pic_read_isr();
	reportf(lapic_isr < 0 && isr == 0,
		"nothing in service after the storm (LAPIC %d, PICs 0x%04x)",
		lapic_isr, isr);
	check_entries();
	check_level(line_held, VEC_HELD, "the held level line");
	check_level(line_idle, VEC_IDLE, "a new level interrupt");
	check_edge_and_ipi();
	check_pic();
	return report_summary();
}
