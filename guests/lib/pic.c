// SPDX-License-Identifier: MIT
/* The dual 8259A PIC and the ELCR, as a PC wires them. */
#include "guest.h"

/* ICW1: ICW4 needed, cascade, edge (the ELCR overrides on a PC). */
#define PIC_ICW1_INIT 0x11
#define PIC_ICW4_8086 0x01
#define PIC_ICW4_AEOI 0x02

void pic_init(uint8_t master_base, uint8_t slave_base, bool auto_eoi)
{
	uint8_t icw4 = PIC_ICW4_8086 | (auto_eoi ? PIC_ICW4_AEOI : 0);
	bool irqs_on = read_rflags() & (1u << 9);

	/*
	 * Interrupts off until the IMR is set again: ICW1 clears the IMR
	 * while the old vector base holds until ICW2, and firmware leaves
	 * the PIT ticking on IRQ0 (KVM's in-kernel PIT even re-sends the
	 * ticks it held back while IRQ0 was masked the moment ICW1 clears
	 * them): one taken in between would arrive on vector 8.
	 */
	irq_disable();
	/* 8259A datasheet: ICW1 to the even port, ICW2-4 to the odd one. */
	outb(PIC_MASTER_CMD, PIC_ICW1_INIT);
	outb(PIC_MASTER_DATA, master_base);
	outb(PIC_MASTER_DATA, 1u << 2); /* ICW3: a slave on IR2 */
	outb(PIC_MASTER_DATA, icw4);
	outb(PIC_SLAVE_CMD, PIC_ICW1_INIT);
	outb(PIC_SLAVE_DATA, slave_base);
	outb(PIC_SLAVE_DATA, 2); /* ICW3: slave identity 2 */
	outb(PIC_SLAVE_DATA, icw4);
	/* Initialization leaves the IMR clear: mask everything at once. */
	pic_mask_all();
	if (irqs_on)
		irq_enable();
}

void pic_set_imr(uint16_t mask)
{
	outb(PIC_MASTER_DATA, (uint8_t)mask);
	outb(PIC_SLAVE_DATA, (uint8_t)(mask >> 8));
}

uint16_t pic_get_imr(void)
{
	return inb(PIC_MASTER_DATA) | (uint16_t)inb(PIC_SLAVE_DATA) << 8;
}

void pic_mask_all(void)
{
	pic_set_imr(0xffff);
}

void pic_unmask(unsigned int irq)
{
	if (irq >= 8) {
		outb(PIC_SLAVE_DATA, inb(PIC_SLAVE_DATA) & ~(1u << (irq - 8)));
		irq = 2;
	}
	outb(PIC_MASTER_DATA, inb(PIC_MASTER_DATA) & ~(1u << irq));
}

void pic_mask(unsigned int irq)
{
	if (irq >= 8)
		outb(PIC_SLAVE_DATA, inb(PIC_SLAVE_DATA) | 1u << (irq - 8));
	else
		outb(PIC_MASTER_DATA, inb(PIC_MASTER_DATA) | 1u << irq);
}

void pic_eoi(unsigned int irq)
{
	if (irq >= 8)
		outb(PIC_SLAVE_CMD, PIC_OCW2_EOI);
	outb(PIC_MASTER_CMD, PIC_OCW2_EOI);
}

void pic_eoi_specific(unsigned int irq)
{
	if (irq >= 8) {
		outb(PIC_SLAVE_CMD, PIC_OCW2_SEOI | (irq - 8));
		irq = 2;
	}
	outb(PIC_MASTER_CMD, PIC_OCW2_SEOI | irq);
}

void pic_cmd(bool slave, uint8_t ocw)
{
	outb(slave ? PIC_SLAVE_CMD : PIC_MASTER_CMD, ocw);
}

static uint16_t pic_read_reg(uint8_t ocw3)
{
	uint16_t v;

	outb(PIC_MASTER_CMD, ocw3);
	outb(PIC_SLAVE_CMD, ocw3);
	v = inb(PIC_MASTER_CMD) | (uint16_t)inb(PIC_SLAVE_CMD) << 8;
	return v;
}

uint16_t pic_read_irr(void)
{
	return pic_read_reg(PIC_OCW3_READ_IRR);
}

uint16_t pic_read_isr(void)
{
	uint16_t v = pic_read_reg(PIC_OCW3_READ_ISR);

	/* Leave the chips reading the IRR, their state after ICW1. */
	outb(PIC_MASTER_CMD, PIC_OCW3_READ_IRR);
	outb(PIC_SLAVE_CMD, PIC_OCW3_READ_IRR);
	return v;
}

uint8_t pic_poll(bool slave)
{
	uint16_t port = slave ? PIC_SLAVE_CMD : PIC_MASTER_CMD;

	outb(port, PIC_OCW3_POLL);
	return inb(port);
}

uint16_t elcr_read(void)
{
	return inb(PIC_ELCR1) | (uint16_t)inb(PIC_ELCR2) << 8;
}

void elcr_write(uint16_t v)
{
	outb(PIC_ELCR1, (uint8_t)v);
	outb(PIC_ELCR2, (uint8_t)(v >> 8));
}
