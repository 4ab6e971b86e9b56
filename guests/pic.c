// SPDX-License-Identifier: MIT
/*
 * The dual 8259A through LVT0 in ExtINT mode: initialization, IMR, IRR
 * and ISR reads, priority, nesting, EOIs, AEOI, rotation, special mask
 * mode, poll mode, the ELCR, the cascade and spurious interrupts.
 */
#include "guest.h"

#define MASTER_BASE 0x20
#define SLAVE_BASE 0x28

/* Free ISA lines on a PC (0 PIT, 1 keyboard, 2 cascade, 4 COM1, 8 RTC). */
#define LA 3  /* master, higher priority */
#define LB 5  /* master, lower priority */
#define LS 10 /* slave */
#define LS2 12

enum eoi_mode {
	EOI_AUTO,   /* the handler sends non-specific EOIs */
	EOI_NONE,   /* the test EOIs */
	EOI_ROTATE, /* the handler sends rotate-on-non-specific-EOI */
};

struct pic_event {
	uint8_t irq;
	uint16_t isr; /* both chips' ISR as the handler began */
};

/*
 * datasheet=1: also the checks where KVM's in-kernel PIC departs from
 * the 8259A and QEMU (special mask mode; poll leaving the level in
 * service), for splitvm --irqchip split and QEMU.
 */
static bool datasheet;

static struct pic_event events[32];
static volatile unsigned int nevents;
static volatile enum eoi_mode eoi_mode;
static void (*volatile hook)(unsigned int irq);

static void pic_handler(struct ex_regs *regs)
{
	unsigned int irq = (unsigned int)regs->vector - MASTER_BASE;
	uint16_t isr = pic_read_isr();
	unsigned int n = nevents;
	void (*h)(unsigned int) = hook;

	if (n < ARRAY_SIZE(events)) {
		events[n].irq = (uint8_t)irq;
		events[n].isr = isr;
	}
	nevents = n + 1;
	if (h)
		h(irq);
	if (eoi_mode == EOI_AUTO) {
		pic_eoi(irq);
	} else if (eoi_mode == EOI_ROTATE) {
		if (irq >= 8)
			pic_cmd(true, PIC_OCW2_EOI);
		pic_cmd(false, PIC_OCW2_ROTATE_EOI);
	}
}

static void reset_events(void)
{
	nevents = 0;
	hook = NULL;
	eoi_mode = EOI_AUTO;
}

static bool wait_events(unsigned int n)
{
	return wait_until(nevents >= n, IRQ_TIMEOUT_MS);
}

static void pulse(unsigned int line)
{
	testdev_set_line(line, 1);
	testdev_set_line(line, 0);
}

/* "3,5" style list of the IRQs seen, for messages. */
static const char *seen(void)
{
	static char buf[96];
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < nevents && i < ARRAY_SIZE(events); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%u",
					i ? "," : "", events[i].irq);
	return nevents ? buf : "none";
}

static bool order_is(const uint8_t *want, unsigned int n)
{
	if (nevents != n)
		return false;
	for (unsigned int i = 0; i < n; i++)
		if (events[i].irq != want[i])
			return false;
	return true;
}

/* Raises the lines (edge pulses) with IF=0, then lets them in. */
static void raise_then_sti(const uint8_t *lines, unsigned int n,
			   unsigned int expect)
{
	irq_disable();
	for (unsigned int i = 0; i < n; i++)
		pulse(lines[i]);
	wait_events(expect); /* sti; hlt inside */
	sleep_ms(10);	     /* and nothing more */
}

static void pic_normal(void)
{
	pic_init(MASTER_BASE, SLAVE_BASE, false);
	reset_events();
}

static void test_init_and_registers(void)
{
	uint16_t imr, elcr;

	/* ICW1 clears the IMR (8259A datasheet, "Initialization"). */
	irq_disable();
	outb(PIC_MASTER_CMD, 0x11);
	outb(PIC_MASTER_DATA, MASTER_BASE);
	outb(PIC_MASTER_DATA, 1u << 2);
	outb(PIC_MASTER_DATA, 0x01);
	imr = inb(PIC_MASTER_DATA);
	pic_init(MASTER_BASE, SLAVE_BASE, false);
	reportf(imr == 0, "init: ICW1-ICW4 leave the IMR clear (0x%02x)", imr);

	pic_set_imr(0x5aa5);
	imr = pic_get_imr();
	reportf(imr == 0x5aa5, "IMR reads back (0x%04x)", imr);
	pic_mask_all();
	reportf(pic_get_imr() == 0xffff, "IMR: all masked (0x%04x)",
		pic_get_imr());

	elcr_write(0xffff);
	elcr = elcr_read();
	reportf(elcr == 0xdef8,
		"ELCR: bits 0, 1, 2, 8 and 13 read back 0 "
		"(0x%04x after writing all ones)",
		elcr);
	elcr_write(0);
	reportf(elcr_read() == 0, "ELCR: cleared (0x%04x)", elcr_read());
}

static void test_irr_and_delivery(void)
{
	uint16_t irr;
	bool ok;

	pic_normal();
	reset_events();
	irq_disable();
	testdev_set_line(LA, 1);
	irr = pic_read_irr();
	reportf(irr & (1u << LA),
		"IRR latches a request on a masked line "
		"(IRR 0x%04x)",
		irr);
	testdev_set_line(LA, 0);
	irr = pic_read_irr();
	reportf(irr & (1u << LA),
		"edge: the request stays in IRR after the "
		"line drops (IRR 0x%04x)",
		irr);
	pic_unmask(LA);
	ok = wait_events(1);
	reportf(ok && events[0].irq == LA,
		"the request is delivered through LVT0 (ExtINT) as vector "
		"0x%x once unmasked (got IRQs %s)",
		MASTER_BASE + LA, seen());
	reportf(ok && events[0].isr == 1u << LA,
		"ISR holds IRQ%u in its handler (0x%04x)", LA,
		ok ? events[0].isr : 0);
	irr = pic_read_irr();
	reportf(!(irr & (1u << LA)),
		"edge: IRR cleared by the acknowledge "
		"(IRR 0x%04x)",
		irr);
	reportf(pic_read_isr() == 0, "non-specific EOI clears ISR (0x%04x)",
		pic_read_isr());
	pic_mask(LA);
}

static void test_priority(void)
{
	static const uint8_t two[] = { LB, LA }, two_want[] = { LA, LB };
	static const uint8_t three[] = { LA, LS2, 9 },
			     three_want[] = { 9, LS2, LA };

	pic_normal();
	reset_events();
	pic_unmask(LA);
	pic_unmask(LB);
	raise_then_sti(two, 2, 2);
	reportf(order_is(two_want, 2), "priority: IRQ%u before IRQ%u (got %s)",
		LA, LB, seen());

	/* The slave sits on IR2: its lines beat IRQ3 and up. */
	reset_events();
	pic_unmask(9);
	pic_unmask(LS2);
	raise_then_sti(three, 3, 3);
	reportf(order_is(three_want, 3),
		"priority: slave IRQ9, IRQ%u (on IR2) before IRQ%u (got %s)",
		LS2, LA, seen());
	pic_mask_all();
}

static volatile unsigned int nested_seen;
static volatile uint16_t nested_isr;

/* In IRQ LB's handler: raise LA and let interrupts in for a while. */
static void nest_hook(unsigned int irq)
{
	unsigned int n0 = nevents;

	if (irq != LB || n0 != 1)
		return;
	pulse(LA);
	irq_enable();
	spin_until(nevents > n0, IRQ_TIMEOUT_MS * 1000);
	irq_disable();
	nested_seen = nevents - n0;
	if (nested_seen)
		nested_isr = events[n0].isr;
}

/* In IRQ LA's handler: raise LB; it must wait for LA's EOI. */
static void no_nest_hook(unsigned int irq)
{
	unsigned int n0 = nevents;

	if (irq != LA || n0 != 1)
		return;
	pulse(LB);
	irq_enable();
	delay_us(50000);
	irq_disable();
	nested_seen = nevents - n0;
}

static void test_nesting(void)
{
	static const uint8_t lb[] = { LB }, la[] = { LA };
	bool ok;

	pic_normal();
	pic_unmask(LA);
	pic_unmask(LB);
	reset_events();
	nested_seen = 0;
	hook = nest_hook;
	raise_then_sti(lb, 1, 2);
	reportf(nested_seen == 1,
		"nesting: IRQ%u interrupts the IRQ%u handler (%u nested)", LA,
		LB, nested_seen);
	reportf(nested_seen == 1 && nested_isr == ((1u << LA) | (1u << LB)),
		"nesting: both in service in the nested handler (ISR 0x%04x)",
		nested_isr);

	reset_events();
	nested_seen = 0;
	hook = no_nest_hook;
	raise_then_sti(la, 1, 2);
	ok = wait_events(2);
	reportf(nested_seen == 0,
		"nesting: IRQ%u waits while IRQ%u is in "
		"service (%u nested)",
		LB, LA, nested_seen);
	reportf(ok && events[1].irq == LB,
		"nesting: IRQ%u is delivered after IRQ%u's EOI (got %s)", LB,
		LA, seen());
	pic_mask_all();
}

static void test_eois(void)
{
	uint16_t isr;

	pic_normal();
	pic_unmask(LA);
	pic_unmask(LB);
	pic_unmask(LS);
	reset_events();
	eoi_mode = EOI_NONE;
	irq_enable();
	pulse(LB);
	wait_events(1);
	pulse(LA); /* higher than LB in service: nests */
	wait_events(2);
	irq_disable();
	isr = pic_read_isr();
	reportf(isr == ((1u << LA) | (1u << LB)),
		"EOI: IRQ%u and IRQ%u in service without EOIs (ISR 0x%04x)", LA,
		LB, isr);
	pic_cmd(false, PIC_OCW2_EOI);
	isr = pic_read_isr();
	reportf(isr == 1u << LB,
		"non-specific EOI clears the highest "
		"priority bit, IRQ%u (ISR 0x%04x)",
		LA, isr);
	pic_cmd(false, PIC_OCW2_SEOI | LA);
	isr = pic_read_isr();
	reportf(isr == 1u << LB,
		"specific EOI for a level not in service "
		"changes nothing (ISR 0x%04x)",
		isr);
	pic_cmd(false, PIC_OCW2_SEOI | LB);
	isr = pic_read_isr();
	reportf(isr == 0, "specific EOI clears IRQ%u (ISR 0x%04x)", LB, isr);

	/* The cascade: IR2 on the master stays until its own EOI. */
	reset_events();
	eoi_mode = EOI_NONE;
	irq_enable();
	pulse(LS);
	wait_events(1);
	irq_disable();
	reportf(nevents == 1 && events[0].irq == LS &&
			events[0].isr == ((1u << LS) | (1u << 2)),
		"cascade: IRQ%u arrives as vector 0x%x with the master's IR2 "
		"and the slave's IR%u in service (ISR 0x%04x)",
		LS, SLAVE_BASE + LS - 8, LS - 8, nevents ? events[0].isr : 0);
	pic_cmd(true, PIC_OCW2_EOI);
	isr = pic_read_isr();
	reportf(isr == 1u << 2,
		"cascade: the slave's EOI leaves the master's "
		"IR2 in service (ISR 0x%04x)",
		isr);
	pic_cmd(false, PIC_OCW2_EOI);
	reportf(pic_read_isr() == 0,
		"cascade: the master's EOI clears IR2 "
		"(ISR 0x%04x)",
		pic_read_isr());
	pic_mask_all();
}

static void test_aeoi(void)
{
	static const uint8_t both[] = { LA, LB }, want_rot[] = { LB, LA };
	bool ok;

	pic_init(MASTER_BASE, SLAVE_BASE, true);
	pic_unmask(LA);
	pic_unmask(LB);
	reset_events();
	eoi_mode = EOI_NONE;
	irq_enable();
	pulse(LA);
	ok = wait_events(1);
	reportf(ok && events[0].isr == 0,
		"AEOI: no ISR bit while in service "
		"(ISR 0x%04x in the handler)",
		ok ? events[0].isr : 0);
	pulse(LA);
	ok = wait_events(2);
	reportf(ok, "AEOI: the next request needs no EOI (%u interrupts)",
		nevents);

	/* Rotate in AEOI mode: the level just served becomes the lowest. */
	pic_cmd(false, PIC_OCW2_ROTATE_AEOI_SET);
	pulse(LA);
	wait_events(3);
	reset_events();
	eoi_mode = EOI_NONE;
	raise_then_sti(both, 2, 2);
	reportf(order_is(want_rot, 2),
		"AEOI with rotation: IRQ%u served "
		"last becomes the lowest priority (got %s)",
		LA, seen());
	pic_cmd(false, PIC_OCW2_ROTATE_AEOI_CLR);
	irq_disable();
	pic_normal();
}

static void test_rotation(void)
{
	static const uint8_t both[] = { LA, LB };
	static const uint8_t normal[] = { LA, LB }, rotated[] = { LB, LA };
	static const uint8_t la[] = { LA };

	pic_normal();
	pic_unmask(LA);
	pic_unmask(LB);

	/* Rotate on non-specific EOI. */
	reset_events();
	eoi_mode = EOI_ROTATE;
	raise_then_sti(la, 1, 1);
	reset_events();
	raise_then_sti(both, 2, 2);
	reportf(order_is(rotated, 2),
		"rotate on non-specific EOI: IRQ%u "
		"becomes the lowest priority (got %s)",
		LA, seen());
	pic_cmd(false, PIC_OCW2_SET_PRIORITY | 7);

	/* Set priority: lowest = 4 makes 5 the highest. */
	reset_events();
	pic_cmd(false, PIC_OCW2_SET_PRIORITY | 4);
	raise_then_sti(both, 2, 2);
	reportf(order_is(rotated, 2),
		"set priority (lowest IRQ4): IRQ%u "
		"beats IRQ%u (got %s)",
		LB, LA, seen());
	reset_events();
	pic_cmd(false, PIC_OCW2_SET_PRIORITY | 7);
	raise_then_sti(both, 2, 2);
	reportf(order_is(normal, 2),
		"set priority (lowest IRQ7): back to "
		"IRQ%u first (got %s)",
		LA, seen());

	/* Rotate on specific EOI. */
	reset_events();
	eoi_mode = EOI_NONE;
	raise_then_sti(la, 1, 1);
	pic_cmd(false, PIC_OCW2_ROTATE_SEOI | LA);
	reportf(pic_read_isr() == 0,
		"rotate on specific EOI clears IRQ%u "
		"(ISR 0x%04x)",
		LA, pic_read_isr());
	reset_events();
	raise_then_sti(both, 2, 2);
	reportf(order_is(rotated, 2),
		"rotate on specific EOI: IRQ%u becomes "
		"the lowest priority (got %s)",
		LA, seen());
	pic_cmd(false, PIC_OCW2_SET_PRIORITY | 7);
	irq_disable();
	pic_mask_all();
}

static void test_special_mask(void)
{
	bool ok;

	if (!datasheet) {
		report_skip("special mask mode (datasheet=1: KVM's in-kernel "
			    "PIC lacks it)");
		return;
	}
	pic_normal();
	pic_unmask(LA);
	pic_unmask(LB);
	reset_events();
	eoi_mode = EOI_NONE;
	irq_enable();
	pulse(LA);
	wait_events(1);
	pulse(LB);
	sleep_ms(IRQ_QUIET_MS);
	reportf(nevents == 1,
		"special mask: without it IRQ%u waits behind "
		"IRQ%u in service (got %s)",
		LB, LA, seen());
	/* OCW3 first, then the IMR write that re-evaluates the output. */
	pic_cmd(false, PIC_OCW3_SMM_SET);
	pic_mask(LA);
	ok = wait_events(2);
	reportf(ok && events[1].irq == LB,
		"special mask mode: masking in-service IRQ%u lets IRQ%u in "
		"(got %s)",
		LA, LB, seen());
	irq_disable();
	pic_cmd(false, PIC_OCW3_SMM_CLR);
	pic_cmd(false, PIC_OCW2_SEOI | LB);
	pic_cmd(false, PIC_OCW2_SEOI | LA);
	reportf(pic_read_isr() == 0, "special mask: both EOIed (ISR 0x%04x)",
		pic_read_isr());
	pic_mask_all();
}

static void test_poll(void)
{
	uint8_t p, p2;
	uint16_t isr, irr;

	pic_normal();
	reset_events();
	irq_disable();
	pic_unmask(LA);
	pulse(LA);
	p = pic_poll(false);
	isr = pic_read_isr();
	irr = pic_read_irr();
	reportf(p == (0x80 | LA), "poll: reads 0x80 | %u (0x%02x)", LA, p);
	reportf(!(irr & (1u << LA)),
		"poll: acknowledges, IRQ%u leaves IRR "
		"(IRR 0x%04x)",
		LA, irr);
	if (datasheet)
		reportf(isr == 1u << LA,
			"poll: IRQ%u is in service until its "
			"EOI (ISR 0x%04x)",
			LA, isr);
	else
		report_skip("poll: the level stays in service (datasheet=1: "
			    "KVM's in-kernel PIC clears it)");
	pic_cmd(false, PIC_OCW2_EOI);
	p = pic_poll(false);
	reportf(!(p & 0x80),
		"poll: with nothing pending bit 7 is clear "
		"(0x%02x)",
		p);
	pic_mask(LA);

	pic_unmask(LS);
	pulse(LS);
	p = pic_poll(false);
	p2 = pic_poll(true);
	reportf(p == 0x82 && p2 == (0x80 | (LS - 8)),
		"poll: the master reports IR2 (0x%02x), then the slave IR%u "
		"(0x%02x)",
		p, LS - 8, p2);
	isr = pic_read_isr();
	if (datasheet)
		reportf(isr == ((1u << LS) | (1u << 2)),
			"poll: IR2 and IRQ%u in service until EOIed (ISR "
			"0x%04x)",
			LS, isr);
	pic_cmd(true, PIC_OCW2_EOI);
	pic_cmd(false, PIC_OCW2_EOI);
	isr = pic_read_isr();
	reportf(isr == 0, "poll: both chips EOIed (ISR 0x%04x)", isr);
	pic_mask(LS);
	pic_unmask(LA);
	/* The polled requests were acknowledged: nothing may follow. */
	sleep_ms(IRQ_QUIET_MS);
	reportf(nevents == 0,
		"poll: no interrupt is delivered afterwards, "
		"spurious or not (got IRQs %s)",
		seen());
	pic_mask_all();
}

static unsigned int level_stop_at;

/* Drops the level line after a few deliveries, before the EOI. */
static void level_hook(unsigned int irq)
{
	if (nevents >= level_stop_at)
		testdev_set_line(irq, 0);
}

static void test_elcr_level(unsigned int line)
{
	uint16_t irr;
	unsigned int n;
	bool ok;

	pic_normal();
	elcr_write((uint16_t)(1u << line));
	reset_events();
	irq_disable();
	testdev_set_line(line, 1);
	irr = pic_read_irr();
	testdev_set_line(line, 0);
	reportf(irr & (1u << line) && !(pic_read_irr() & (1u << line)),
		"ELCR level IRQ%u: IRR follows the line (high 0x%04x, low "
		"0x%04x)",
		line, irr, pic_read_irr());

	level_stop_at = 3;
	hook = level_hook;
	pic_unmask(line);
	testdev_set_line(line, 1);
	ok = wait_events(3);
	sleep_ms(10);
	n = nevents;
	sleep_ms(IRQ_QUIET_MS);
	reportf(ok,
		"ELCR level IRQ%u: a line held high is delivered again "
		"after each EOI (%u deliveries)",
		line, nevents);
	reportf(nevents == n && n == 3,
		"ELCR level IRQ%u: nothing after the "
		"line drops (%u deliveries, want 3)",
		line, nevents);
	irq_disable();
	testdev_set_line(line, 0);
	pic_mask_all();
	elcr_write(0);
	reset_events();
}

/*
 * A request withdrawn before the CPU's acknowledge. On the slave: the
 * master latched IR2 (edge), so the CPU still takes the interrupt and
 * the slave answers with its IR7 vector, putting nothing in service
 * (8259A "spurious interrupt"). On the master the output simply drops
 * in QEMU and KVM; a datasheet 8259A would give IR7 instead. Both are
 * accepted there.
 */
static void test_spurious(void)
{
	uint16_t isr;
	bool ok;

	pic_normal();
	elcr_write((uint16_t)(1u << LS));
	reset_events();
	eoi_mode = EOI_NONE;
	irq_disable();
	pic_unmask(LS);
	testdev_set_line(LS, 1);
	delay_us(2000);
	testdev_set_line(LS, 0);
	ok = wait_events(1);
	sleep_ms(10);
	irq_disable();
	isr = pic_read_isr();
	reportf(ok && nevents == 1 && events[0].irq == 15,
		"spurious IRQ15: a slave request withdrawn before the "
		"acknowledge gives vector 0x%x (got IRQs %s)",
		SLAVE_BASE + 7, seen());
	reportf(ok && isr == 1u << 2,
		"spurious IRQ15: only the master's IR2 is in service (ISR "
		"0x%04x)",
		isr);
	pic_cmd(false, PIC_OCW2_EOI);
	pic_mask_all();

	elcr_write((uint16_t)(1u << LB));
	reset_events();
	eoi_mode = EOI_NONE;
	pic_unmask(LB);
	testdev_set_line(LB, 1);
	delay_us(2000);
	testdev_set_line(LB, 0);
	sleep_ms(IRQ_QUIET_MS);
	irq_disable();
	isr = pic_read_isr();
	reportf(nevents == 0 ||
			(nevents == 1 && events[0].irq == 7 && isr == 0),
		"withdrawn master request: no interrupt (QEMU, KVM) or a "
		"spurious IRQ7 with nothing in service (got IRQs %s, ISR "
		"0x%04x)",
		seen(), isr);
	pic_mask_all();
	elcr_write(0);
}

int guest_main(const struct guest_boot *boot)
{
	uint32_t lvt0 = mmio_read32(APIC_MMIO_BASE + APIC_LVT0);

	datasheet = cmdline_u64("datasheet", 0);
	/* Firmware state, read before anything changes it. */
	reportf((lvt0 & (APIC_LVT_MASKED | 0x700)) == APIC_DM_EXTINT,
		"firmware state: LVT0 is ExtINT and unmasked on the BSP "
		"(0x%x)",
		lvt0);
	/* No PIT ticks: one last count of 1 in mode 0, then silence. */
	pit_program(0, 0, 1, false);
	if (!interrupts_init(lapic_mode_from_cmdline()))
		return report_summary();
	ioapic_mask_all();
	lapic_setup_virtual_wire();
	for (unsigned int v = MASTER_BASE; v < SLAVE_BASE + 8; v++)
		set_idt_handler(v, pic_handler);
	for (unsigned int l = 0; l < 16; l++)
		if (l != 0 && l != 1 && l != 2 && l != 4 && l != 8)
			testdev_set_line(l, 0);
	printf("pic: master base 0x%x, slave base 0x%x; lines %u, %u (master), "
	       "%u, %u, 9 (slave)\n",
	       MASTER_BASE, SLAVE_BASE, LA, LB, LS, LS2);

	test_init_and_registers();
	test_irr_and_delivery();
	test_priority();
	test_nesting();
	test_eois();
	test_aeoi();
	test_rotation();
	test_special_mask();
	test_poll();
	test_elcr_level(LB);
	test_elcr_level(LS);
	test_spurious();

	irq_disable();
	pic_mask_all();
	return report_summary();
}
