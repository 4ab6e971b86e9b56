// SPDX-License-Identifier: MIT
/* Dual 8259A PIC and ELCR model: registers, priority, cascade and INTA. */

/*
 * Sources: the Intel 8259A datasheet (sections quoted by title), the ELCR
 * of the PIIX/ICH south bridges (whose datasheets also say ICW1 LTIM is
 * superseded by the ELCR), and, where those are silent, the guest-visible
 * behaviour of KVM's arch/x86/kvm/i8259.c, which the A/B tests compare
 * against.
 *
 * Deliberate differences from KVM's in-kernel PIC (all are places where
 * the datasheet is explicit and KVM is not faithful, or where KVM's
 * behaviour depends on state outside the PIC):
 *  - Special mask mode is applied ("Special Mask Mode"); KVM records
 *    OCW3 SMM but never uses it.
 *  - Special fully nested mode lets only the slave's own level (IR2) nest
 *    on the master ("Special Fully Nest Mode"); KVM ignores ISR bit 2
 *    altogether, so lower master inputs could preempt a slave handler.
 *  - A poll read returns 0x80 | level and sets the ISR bit like an INTA
 *    ("Poll Command"); KVM returns the bare level, clears the ISR bit and
 *    answers 7 when nothing is pending (we answer 0, as QEMU does).
 *  - ICW1 with SNGL skips ICW3 ("Initialization Command Words"); KVM
 *    always waits for ICW3.
 *  - ICW1 clears the ISR (as QEMU does; the datasheet's list leaves it
 *    out). KVM keeps it, except levels with an edge request pending when
 *    some LAPIC accepts ExtINT - a rule a pure model cannot see, and a
 *    kept ISR bit would block its level forever after re-initialization.
 *  - Polling the slave leaves the master's ISR alone (KVM clears bit 2);
 *    both withdraw the slave's request from the master's IRR2.
 *  - The output is recomputed after every operation; KVM skips it after
 *    ICW and OCW3 writes until the next line change (timing only).
 * Same as KVM where the datasheet leaves room: ICW1 LTIM, ICW3, ICW4 uPM
 * and buffered bits are ignored (the wiring is fixed: slave on IR2, 8086
 * mode); ICW1 keeps rotate-in-AEOI, a pending poll and the vector base;
 * the power-on state is all zeros and already operational; the master's
 * IRR2 is set whenever the slave has a deliverable request, and stays
 * latched if that request goes away (hence spurious IRQ15); the vector of
 * a spurious INTA is base + 7 with no ISR bit on the chip that had
 * nothing; ELCR writes do not touch IRR.
 */

#include <errno.h>
#include <string.h>

#include "pic.h"

enum { MASTER = 0, SLAVE = 1 };

#define NO_IRQ (-1)
#define NO_PRIORITY 8u
#define BIT(n) ((uint8_t)(1u << (n)))

#define ICW1_IC4 0x01  /* ICW4 follows */
#define ICW1_SNGL 0x02 /* single 8259A: no ICW3 */
#define ICW1_SEL 0x10  /* even-port write with D4 set is ICW1 */
#define ICW2_BASE 0xf8 /* T7-T3; the low bits come from the level */
#define ICW4_AEOI 0x02
#define ICW4_SFNM 0x10
#define OCW3_SEL 0x08 /* even-port write with D4:D3 = 01 is OCW3 */
#define OCW3_RIS 0x01
#define OCW3_RR 0x02
#define OCW3_P 0x04
#define OCW3_SMM 0x20
#define OCW3_ESMM 0x40
#define POLL_I 0x80	 /* poll byte: an interrupt was pending */
#define SPURIOUS_LEVEL 7 /* "default IR7" */

/* OCW2 R, SL, EOI bits (7:5), datasheet "Operation Command Words". */
enum ocw2_cmd {
	OCW2_ROTATE_AEOI_CLEAR = 0,
	OCW2_EOI = 1,
	OCW2_NOP = 2,
	OCW2_SPECIFIC_EOI = 3,
	OCW2_ROTATE_AEOI_SET = 4,
	OCW2_ROTATE_EOI = 5,
	OCW2_SET_PRIORITY = 6,
	OCW2_ROTATE_SPECIFIC_EOI = 7,
};

/* Priority (0 = highest) of the best input in @mask; NO_PRIORITY if none. */
static unsigned int best_priority(const struct pic_chip *c, uint8_t mask)
{
	unsigned int prio = 0;

	if (!mask)
		return NO_PRIORITY;
	while (!(mask & BIT((prio + c->priority_add) & 7)))
		prio++;
	return prio;
}

static unsigned int prio_to_irq(const struct pic_chip *c, unsigned int prio)
{
	return (prio + c->priority_add) & 7;
}

/*
 * The input the chip would answer an INTA with, or NO_IRQ: the highest
 * unmasked request, if it outranks every level in service ("Fully Nested
 * Mode"). In special mask mode a masked level in service inhibits nothing
 * ("Special Mask Mode"); in special fully nested mode the master does not
 * lock the slave out while one of its requests is in service ("Special
 * Fully Nest Mode").
 */
static int chip_pending(const struct pic *p, unsigned int idx)
{
	const struct pic_chip *c = &p->chip[idx];
	uint8_t in_service = c->isr;
	unsigned int req, cur, irq;

	req = best_priority(c, c->irr & ~c->imr);
	if (req == NO_PRIORITY)
		return NO_IRQ;
	irq = prio_to_irq(c, req);
	if (c->special_mask)
		in_service &= ~c->imr;
	cur = best_priority(c, in_service);
	if (req < cur)
		return (int)irq;
	if (req == cur && idx == MASTER && c->special_fully_nested &&
	    irq == PIC_CASCADE_IRQ)
		return (int)irq;
	return NO_IRQ;
}

/*
 * One input's new level ("Edge and Level Triggered Modes"): an edge input
 * latches IRR on a rising edge only; a level input's IRR follows the line.
 */
static void chip_set_input(struct pic_chip *c, unsigned int irq, bool level)
{
	uint8_t bit = BIT(irq);

	if (c->elcr & bit) {
		if (level)
			c->irr |= bit;
		else
			c->irr &= ~bit;
	} else if (level && !(c->last_irr & bit)) {
		c->irr |= bit;
	}
	if (level)
		c->last_irr |= bit;
	else
		c->last_irr &= ~bit;
}

/*
 * Recomputes the master's INT pin and reports a change. The slave's
 * request reaches the master as KVM models it: while the slave has
 * something to deliver, the master's IRR2 is set (KVM pulses IR2, an edge
 * input), so it is latched again after every INTA that cleared it. The
 * latch is set directly rather than through the edge detector, so that a
 * device line on IRQ2 (held high) cannot swallow the slave's request.
 */
static bool pic_compute_output(struct pic *p)
{
	if (chip_pending(p, SLAVE) != NO_IRQ)
		p->chip[MASTER].irr |= BIT(PIC_CASCADE_IRQ);
	return chip_pending(p, MASTER) != NO_IRQ;
}

static void pic_update(struct pic *p)
{
	bool out = pic_compute_output(p);

	if (out == p->output)
		return;
	p->output = out;
	if (p->ops && p->ops->output)
		p->ops->output(p->ctx, out);
}

/*
 * Acknowledge ("Interrupt Sequence", 8086 mode): the first INTA sets the
 * ISR bit and resets the IRR bit - which a level input sets again at once
 * while its line is high, so it is left alone. In AEOI mode the trailing
 * INTA performs the EOI, rotating first if asked ("Automatic Rotation").
 */
static void chip_ack(struct pic_chip *c, unsigned int irq)
{
	uint8_t bit = BIT(irq);

	c->isr |= bit;
	if (!(c->elcr & bit))
		c->irr &= ~bit;
	if (!c->auto_eoi)
		return;
	if (c->rotate_on_auto_eoi)
		c->priority_add = (irq + 1) & 7;
	c->isr &= ~bit;
}

/*
 * ICW1 ("Initialization Command Words" a-f): edge sense reset (only level
 * requests survive), IMR cleared, IR7 lowest, special mask off, status
 * read set to IRR, ICW4 functions zeroed if no ICW4 follows; and the ISR
 * cleared, as QEMU does (see the top of the file). LTIM is ignored: on PC
 * chipsets the ELCR decides edge/level per input.
 */
static void write_icw1(struct pic_chip *c, uint8_t val)
{
	c->icw4_needed = val & ICW1_IC4;
	c->single_mode = val & ICW1_SNGL;
	c->last_irr = 0;
	c->irr &= c->elcr;
	c->imr = 0;
	c->isr = 0;
	c->priority_add = 0;
	c->special_mask = false;
	c->read_isr = false;
	if (!c->icw4_needed) {
		c->auto_eoi = false;
		c->special_fully_nested = false;
	}
	c->init_state = PIC_INIT_ICW2;
}

/* OCW3: poll, register select (only when RR is set), special mask. */
static void write_ocw3(struct pic_chip *c, uint8_t val)
{
	if (val & OCW3_P)
		c->poll = true;
	if (val & OCW3_RR)
		c->read_isr = val & OCW3_RIS;
	if (val & OCW3_ESMM)
		c->special_mask = val & OCW3_SMM;
}

/*
 * Non-specific EOI ("End of Interrupt"): resets the highest-priority ISR
 * bit, which in fully nested mode is the level last acknowledged. The
 * rotating form then makes that level the lowest ("Automatic Rotation").
 */
static void nonspecific_eoi(struct pic_chip *c, bool rotate)
{
	unsigned int prio = best_priority(c, c->isr), irq;

	if (prio == NO_PRIORITY)
		return;
	irq = prio_to_irq(c, prio);
	c->isr &= ~BIT(irq);
	if (rotate)
		c->priority_add = (irq + 1) & 7;
}

/* OCW2: EOIs and rotation; L2-L0 name the level for the specific forms. */
static void write_ocw2(struct pic_chip *c, uint8_t val)
{
	unsigned int level = val & 7;

	switch ((enum ocw2_cmd)(val >> 5)) {
	case OCW2_ROTATE_AEOI_CLEAR:
	case OCW2_ROTATE_AEOI_SET:
		c->rotate_on_auto_eoi = val >> 7;
		break;
	case OCW2_EOI:
	case OCW2_ROTATE_EOI:
		nonspecific_eoi(c, val >> 7);
		break;
	case OCW2_SPECIFIC_EOI:
		c->isr &= ~BIT(level);
		break;
	case OCW2_ROTATE_SPECIFIC_EOI:
		c->isr &= ~BIT(level);
		c->priority_add = (level + 1) & 7;
		break;
	case OCW2_SET_PRIORITY:
		/* "Specific Rotation": L becomes the bottom priority. */
		c->priority_add = (level + 1) & 7;
		break;
	case OCW2_NOP:
		break;
	}
}

/*
 * Odd port: ICW2-ICW4 while initializing, OCW1 (IMR) after. ICW3 only
 * describes the board's wiring, which is fixed here (slave on IR2, ID 2);
 * of ICW4 only SFNM and AEOI matter (uPM is 8086 mode on any x86 guest,
 * buffered mode has no meaning without a bus).
 */
static void write_odd(struct pic_chip *c, uint8_t val)
{
	switch (c->init_state) {
	case PIC_INIT_ICW2:
		c->irq_base = val & ICW2_BASE;
		if (!c->single_mode)
			c->init_state = PIC_INIT_ICW3;
		else
			c->init_state =
			    c->icw4_needed ? PIC_INIT_ICW4 : PIC_INIT_DONE;
		break;
	case PIC_INIT_ICW3:
		c->init_state = c->icw4_needed ? PIC_INIT_ICW4 : PIC_INIT_DONE;
		break;
	case PIC_INIT_ICW4:
		c->special_fully_nested = val & ICW4_SFNM;
		c->auto_eoi = val & ICW4_AEOI;
		c->init_state = PIC_INIT_DONE;
		break;
	default:
		c->imr = val;
		break;
	}
}

/* Even port: D4 selects ICW1, else D3 selects OCW3 over OCW2. */
static void write_even(struct pic_chip *c, uint8_t val)
{
	if (val & ICW1_SEL)
		write_icw1(c, val);
	else if (val & OCW3_SEL)
		write_ocw3(c, val);
	else
		write_ocw2(c, val);
}

static void count_ack(struct pic *p, unsigned int idx, unsigned int irq)
{
	p->stats.per_irq[idx * 8 + irq]++;
}

/*
 * Poll read ("Poll Command"): the read is taken as an interrupt
 * acknowledge. Polling the slave withdraws its request from the master's
 * IR2 (its INT fell); the next update latches it again if the slave still
 * has a request to deliver.
 */
static uint8_t poll_read(struct pic *p, unsigned int idx)
{
	int irq = chip_pending(p, idx);

	p->chip[idx].poll = false;
	if (irq == NO_IRQ)
		return 0;
	chip_ack(&p->chip[idx], (unsigned int)irq);
	if (idx == SLAVE)
		p->chip[MASTER].irr &= ~BIT(PIC_CASCADE_IRQ);
	p->stats.polls++;
	count_ack(p, idx, (unsigned int)irq);
	return POLL_I | (uint8_t)irq;
}

/* A poll takes precedence over a register read ("Reading the 8259A Status"). */
static uint8_t chip_read(struct pic *p, unsigned int idx, bool odd)
{
	const struct pic_chip *c = &p->chip[idx];

	if (c->poll) {
		uint8_t val = poll_read(p, idx);

		pic_update(p);
		return val;
	}
	if (odd)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

uint8_t pic_io_read(struct pic *p, uint16_t port)
{
	switch (port) {
	case PIC_MASTER_CMD:
	case PIC_MASTER_DATA:
		return chip_read(p, MASTER, port & 1);
	case PIC_SLAVE_CMD:
	case PIC_SLAVE_DATA:
		return chip_read(p, SLAVE, port & 1);
	case PIC_ELCR_MASTER:
	case PIC_ELCR_SLAVE:
		return p->chip[port & 1].elcr;
	default:
		return 0xff;
	}
}

static void chip_write(struct pic *p, unsigned int idx, bool odd, uint8_t val)
{
	if (odd)
		write_odd(&p->chip[idx], val);
	else
		write_even(&p->chip[idx], val);
	pic_update(p);
}

void pic_io_write(struct pic *p, uint16_t port, uint8_t val)
{
	struct pic_chip *c;

	switch (port) {
	case PIC_MASTER_CMD:
	case PIC_MASTER_DATA:
		chip_write(p, MASTER, port & 1, val);
		break;
	case PIC_SLAVE_CMD:
	case PIC_SLAVE_DATA:
		chip_write(p, SLAVE, port & 1, val);
		break;
	case PIC_ELCR_MASTER:
	case PIC_ELCR_SLAVE:
		c = &p->chip[port & 1];
		c->elcr = val & c->elcr_mask;
		break;
	default:
		break;
	}
}

void pic_set_irq(struct pic *p, unsigned int irq, bool level)
{
	if (irq >= PIC_NR_IRQS)
		return;
	chip_set_input(&p->chip[irq >> 3], irq & 7, level);
	pic_update(p);
}

/* No request left at INTA time: "default IR7", no ISR bit set. */
static int spurious(struct pic *p, unsigned int idx)
{
	p->stats.spurious++;
	return p->chip[idx].irq_base + SPURIOUS_LEVEL;
}

/* The master answered IR2: the slave supplies the vector ("Cascade Mode"). */
static int intack_slave(struct pic *p)
{
	int irq = chip_pending(p, SLAVE);

	if (irq == NO_IRQ)
		return spurious(p, SLAVE);
	chip_ack(&p->chip[SLAVE], (unsigned int)irq);
	count_ack(p, SLAVE, (unsigned int)irq);
	return p->chip[SLAVE].irq_base + irq;
}

int pic_intack(struct pic *p)
{
	int irq = chip_pending(p, MASTER), vector;

	p->stats.intacks++;
	if (irq == NO_IRQ) {
		vector = spurious(p, MASTER);
	} else {
		chip_ack(&p->chip[MASTER], (unsigned int)irq);
		if (irq == PIC_CASCADE_IRQ) {
			vector = intack_slave(p);
		} else {
			count_ack(p, MASTER, (unsigned int)irq);
			vector = p->chip[MASTER].irq_base + irq;
		}
	}
	pic_update(p);
	return vector;
}

bool pic_output(const struct pic *p)
{
	return p->output;
}

/* SeaBIOS's pic_reset() and the masks its drivers leave (see pic.h). */
static void program_like_firmware(struct pic *p)
{
	static const struct {
		uint16_t port;
		uint8_t val;
	} seq[] = {
	    {PIC_MASTER_CMD, 0x11},
	    {PIC_SLAVE_CMD, 0x11},
	    {PIC_MASTER_DATA, PIC_FW_MASTER_BASE},
	    {PIC_SLAVE_DATA, PIC_FW_SLAVE_BASE},
	    {PIC_MASTER_DATA, BIT(PIC_CASCADE_IRQ)},
	    {PIC_SLAVE_DATA, PIC_CASCADE_IRQ},
	    {PIC_MASTER_DATA, 0x01},
	    {PIC_SLAVE_DATA, 0x01},
	    {PIC_MASTER_DATA, PIC_FW_MASTER_IMR},
	    {PIC_SLAVE_DATA, PIC_FW_SLAVE_IMR},
	};

	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		pic_io_write(p, seq[i].port, seq[i].val);
}

void pic_reset(struct pic *p, bool firmware_state)
{
	memset(p->chip, 0, sizeof(p->chip));
	p->chip[MASTER].elcr_mask = PIC_ELCR_MASK_MASTER;
	p->chip[SLAVE].elcr_mask = PIC_ELCR_MASK_SLAVE;
	if (firmware_state)
		program_like_firmware(p);
	pic_update(p);
}

void pic_init(struct pic *p, const struct pic_ops *ops, void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->ops = ops;
	p->ctx = ctx;
	pic_reset(p, false);
}

/* ---- Snapshots ------------------------------------------------------- */

enum {
	SAVE_ICW4_NEEDED = 1u << 0,
	SAVE_SINGLE_MODE = 1u << 1,
	SAVE_AUTO_EOI = 1u << 2,
	SAVE_SFNM = 1u << 3,
	SAVE_ROTATE_AEOI = 1u << 4,
	SAVE_SPECIAL_MASK = 1u << 5,
	SAVE_POLL = 1u << 6,
	SAVE_READ_ISR = 1u << 7,
};

static uint8_t chip_flags(const struct pic_chip *c)
{
	return (uint8_t)((c->icw4_needed ? SAVE_ICW4_NEEDED : 0) |
			 (c->single_mode ? SAVE_SINGLE_MODE : 0) |
			 (c->auto_eoi ? SAVE_AUTO_EOI : 0) |
			 (c->special_fully_nested ? SAVE_SFNM : 0) |
			 (c->rotate_on_auto_eoi ? SAVE_ROTATE_AEOI : 0) |
			 (c->special_mask ? SAVE_SPECIAL_MASK : 0) |
			 (c->poll ? SAVE_POLL : 0) |
			 (c->read_isr ? SAVE_READ_ISR : 0));
}

/* 16 bytes: the 8 registers, the mode bits, 7 reserved bytes. */
static void save_chip(const struct pic_chip *c, struct blob_writer *w)
{
	blob_put_u8(w, c->irr);
	blob_put_u8(w, c->isr);
	blob_put_u8(w, c->imr);
	blob_put_u8(w, c->last_irr);
	blob_put_u8(w, c->elcr);
	blob_put_u8(w, c->irq_base);
	blob_put_u8(w, c->priority_add);
	blob_put_u8(w, c->init_state);
	blob_put_u8(w, chip_flags(c));
	blob_put_zero(w, 7);
}

void pic_save(const struct pic *p, struct blob_writer *w)
{
	save_chip(&p->chip[MASTER], w);
	save_chip(&p->chip[SLAVE], w);
	blob_put_u64(w, p->stats.intacks);
	blob_put_u64(w, p->stats.spurious);
	blob_put_u64(w, p->stats.polls);
	for (unsigned int i = 0; i < PIC_NR_IRQS; i++)
		blob_put_u64(w, p->stats.per_irq[i]);
}

static void set_chip_flags(struct pic_chip *c, uint8_t f)
{
	c->icw4_needed = f & SAVE_ICW4_NEEDED;
	c->single_mode = f & SAVE_SINGLE_MODE;
	c->auto_eoi = f & SAVE_AUTO_EOI;
	c->special_fully_nested = f & SAVE_SFNM;
	c->rotate_on_auto_eoi = f & SAVE_ROTATE_AEOI;
	c->special_mask = f & SAVE_SPECIAL_MASK;
	c->poll = f & SAVE_POLL;
	c->read_isr = f & SAVE_READ_ISR;
}

/*
 * What the registers can hold ("Initialization Command Words"): ICW2
 * supplies T7-T3 only; ICW3 is skipped in single mode and ICW4 without
 * IC4; without IC4, ICW1 zeroes the ICW4 functions (AEOI, SFNM). The
 * ELCR's fixed-edge inputs never read 1.
 */
static bool chip_valid(const struct pic_chip *c)
{
	if ((c->irq_base & ~ICW2_BASE) || c->priority_add > 7 ||
	    c->init_state > PIC_INIT_ICW4 || (c->elcr & ~c->elcr_mask))
		return false;
	if (c->init_state == PIC_INIT_ICW3 && c->single_mode)
		return false;
	if (c->init_state == PIC_INIT_ICW4 && !c->icw4_needed)
		return false;
	return c->icw4_needed || (!c->auto_eoi && !c->special_fully_nested);
}

/* One chip into c, whose elcr_mask (wiring, not state) is kept. */
static void load_chip(struct pic_chip *c, struct blob_reader *r)
{
	c->irr = blob_get_u8(r);
	c->isr = blob_get_u8(r);
	c->imr = blob_get_u8(r);
	c->last_irr = blob_get_u8(r);
	c->elcr = blob_get_u8(r);
	c->irq_base = blob_get_u8(r);
	c->priority_add = blob_get_u8(r);
	c->init_state = blob_get_u8(r);
	set_chip_flags(c, blob_get_u8(r));
	blob_get_zero(r, 7);
	blob_check(r, chip_valid(c));
}

int pic_load(struct pic *p, struct blob_reader *r)
{
	struct pic t = *p;

	load_chip(&t.chip[MASTER], r);
	load_chip(&t.chip[SLAVE], r);
	t.stats.intacks = blob_get_u64(r);
	t.stats.spurious = blob_get_u64(r);
	t.stats.polls = blob_get_u64(r);
	for (unsigned int i = 0; i < PIC_NR_IRQS; i++)
		t.stats.per_irq[i] = blob_get_u64(r);
	if (r->bad)
		return -EINVAL;
	t.output = pic_compute_output(&t);
	*p = t;
	return 0;
}
