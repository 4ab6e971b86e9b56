// SPDX-License-Identifier: MIT
/* libFuzzer harness: the dual 8259A through its ports, lines and INTA. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "pic.h"

/*
 * Input: a configuration byte (bit 0: start from the firmware state, bit
 * 1: no output callback), then operations, one opcode byte each followed
 * by its operands.
 */
enum op {
	OP_WRITE,   /* port selector, value */
	OP_READ,    /* port selector */
	OP_SET_IRQ, /* irq byte, level byte (bit 0) */
	OP_INTACK,
	OP_RESET, /* firmware byte (bit 0) */
	OP_INIT,  /* chip byte (bit 0), ICW1, ICW2, ICW3, ICW4 */
	OP_PULSE, /* irq byte: high then low, as the PIT drives IRQ0 */
	NR_OPS
};

struct harness {
	struct pic p;
	bool has_output;
	bool level; /* the output as last reported */
	unsigned int reports;
};

static void h_output(void *ctx, bool level)
{
	struct harness *h = ctx;

	/* "Called only on a change", with the state already consistent. */
	FUZZ_CHECK(level != h->level);
	FUZZ_CHECK(level == pic_output(&h->p));
	h->level = level;
	h->reports++;
}

static const struct pic_ops output_ops = { .output = h_output };

static uint16_t pick_port(struct fuzz_in *in)
{
	static const uint16_t ports[] = {
		PIC_MASTER_CMD, PIC_MASTER_DATA, PIC_SLAVE_CMD,
		PIC_SLAVE_DATA, PIC_ELCR_MASTER, PIC_ELCR_SLAVE,
		PIC_MASTER_CMD, PIC_MASTER_DATA,
	};
	uint8_t b = fuzz_u8(in);

	if (b < 0xf0)
		return ports[b % FUZZ_ARRAY_SIZE(ports)];
	return fuzz_u16(in); /* anything else must be ignored */
}

static unsigned int pick_irq(struct fuzz_in *in)
{
	uint8_t b = fuzz_u8(in);

	return b < 0xf0 ? b % PIC_NR_IRQS : b;
}

static bool in_range(int vector, uint8_t base)
{
	return vector >= base && vector <= base + 7;
}

/*
 * pic.h: the vector is base + level of the chip that answered; with
 * nothing deliverable on the master (output low in particular) it is the
 * master's base + 7 and no ISR bit is set; a master answering IR2 with a
 * silent slave gives the slave's base + 7.
 */
static void do_intack(struct harness *h)
{
	uint8_t mbase = h->p.chip[0].irq_base, sbase = h->p.chip[1].irq_base;
	uint8_t misr = h->p.chip[0].isr, sisr = h->p.chip[1].isr;
	uint64_t spurious = h->p.stats.spurious;
	bool out = pic_output(&h->p);
	int vector = pic_intack(&h->p);

	FUZZ_CHECK(vector >= 0 && vector <= 0xff);
	FUZZ_CHECK(in_range(vector, mbase) || in_range(vector, sbase));
	FUZZ_CHECK(h->p.stats.spurious - spurious <= 1);
	if (!out) {
		FUZZ_CHECK(vector == mbase + 7);
		FUZZ_CHECK(h->p.stats.spurious == spurious + 1);
		FUZZ_CHECK(h->p.chip[0].isr == misr &&
			   h->p.chip[1].isr == sisr);
	} else if (h->p.stats.spurious != spurious) {
		/* a raised output is always answered by a real master level */
		FUZZ_CHECK(vector == sbase + 7);
	} else if (!in_range(vector, sbase) && (vector & 7) != 2) {
		/*
		 * A master level other than the cascade: its ISR bit is set
		 * by the first INTA, and cleared by the second in AEOI mode
		 * ("Interrupt Sequence").
		 */
		uint8_t bit = 1u << (vector & 7);

		FUZZ_CHECK(!(misr & bit));
		FUZZ_CHECK(!!(h->p.chip[0].isr & bit) ==
			   !h->p.chip[0].auto_eoi);
	} else if (!in_range(vector, mbase)) {
		/* a slave level, through the master's IR2 */
		uint8_t bit = 1u << (vector & 7);

		FUZZ_CHECK(!(sisr & bit));
		FUZZ_CHECK(!!(h->p.chip[1].isr & bit) ==
			   !h->p.chip[1].auto_eoi);
		FUZZ_CHECK(!!(h->p.chip[0].isr & 4) == !h->p.chip[0].auto_eoi);
	}
}

static void do_read(struct harness *h, uint16_t port)
{
	const struct pic_chip *c = NULL;
	bool poll = false;
	uint8_t v, imr = 0;

	if (port == PIC_MASTER_CMD || port == PIC_MASTER_DATA)
		c = &h->p.chip[0];
	else if (port == PIC_SLAVE_CMD || port == PIC_SLAVE_DATA)
		c = &h->p.chip[1];
	if (c) {
		poll = c->poll;
		imr = c->imr;
	}
	v = pic_io_read(&h->p, port);
	if (poll) {
		/* "0x80 | level, or 0 when nothing is deliverable" */
		FUZZ_CHECK(v == 0 || (v & 0xf8) == 0x80);
		FUZZ_CHECK(!c->poll);
	} else if (c && (port & 1)) {
		FUZZ_CHECK(v == imr);
	} else if (port == PIC_ELCR_MASTER) {
		FUZZ_CHECK(!(v & ~PIC_ELCR_MASK_MASTER));
	} else if (port == PIC_ELCR_SLAVE) {
		FUZZ_CHECK(!(v & ~PIC_ELCR_MASK_SLAVE));
	} else if (!c) {
		FUZZ_CHECK(v == 0xff);
	}
}

/* The four initialization words, so that the modes are reached quickly. */
static void do_init(struct harness *h, struct fuzz_in *in)
{
	uint16_t base = fuzz_u8(in) & 1 ? PIC_SLAVE_CMD : PIC_MASTER_CMD;
	uint8_t icw1 = fuzz_u8(in) | 0x10;

	pic_io_write(&h->p, base, icw1);
	pic_io_write(&h->p, base + 1, fuzz_u8(in));
	if (!(icw1 & 0x02))
		pic_io_write(&h->p, base + 1, fuzz_u8(in));
	if (icw1 & 0x01)
		pic_io_write(&h->p, base + 1, fuzz_u8(in));
	FUZZ_CHECK(h->p.chip[base == PIC_SLAVE_CMD].init_state ==
		   PIC_INIT_DONE);
}

static void check_state(const struct harness *h)
{
	for (unsigned int i = 0; i < 2; i++) {
		const struct pic_chip *c = &h->p.chip[i];

		FUZZ_CHECK(!(c->irq_base & 7));
		FUZZ_CHECK(c->priority_add < 8);
		FUZZ_CHECK(c->init_state <= PIC_INIT_ICW4);
		FUZZ_CHECK(!(c->elcr & ~c->elcr_mask));
	}
	if (h->has_output)
		FUZZ_CHECK(h->level == pic_output(&h->p));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct harness h;
	struct fuzz_in in;
	uint16_t port;
	unsigned int irq;
	uint8_t cfg;

	fuzz_in_init(&in, data, size);
	cfg = fuzz_u8(&in);
	memset(&h, 0, sizeof(h));
	h.has_output = !(cfg & 2);
	pic_init(&h.p, h.has_output ? &output_ops : NULL, &h);
	/* "The output starts low and is not reported." */
	FUZZ_CHECK(!pic_output(&h.p) && h.reports == 0);
	if (cfg & 1)
		pic_reset(&h.p, true);
	while (fuzz_more(&in)) {
		switch ((enum op)(fuzz_u8(&in) % NR_OPS)) {
		case OP_WRITE:
			port = pick_port(&in);
			pic_io_write(&h.p, port, fuzz_u8(&in));
			break;
		case OP_READ:
			do_read(&h, pick_port(&in));
			break;
		case OP_SET_IRQ:
			irq = pick_irq(&in);
			pic_set_irq(&h.p, irq, fuzz_u8(&in) & 1);
			break;
		case OP_PULSE:
			irq = pick_irq(&in);
			pic_set_irq(&h.p, irq, true);
			pic_set_irq(&h.p, irq, false);
			break;
		case OP_INTACK:
			do_intack(&h);
			break;
		case OP_RESET:
			pic_reset(&h.p, fuzz_u8(&in) & 1);
			break;
		case OP_INIT:
			do_init(&h, &in);
			break;
		case NR_OPS:
			break;
		}
		check_state(&h);
	}
	return 0;
}
