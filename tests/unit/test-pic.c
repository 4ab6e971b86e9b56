// SPDX-License-Identifier: MIT
/* Unit tests of the dual 8259A + ELCR model, driven through its ports. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "pic.h"
#include "unit.h"

#define M_CMD PIC_MASTER_CMD
#define M_DATA PIC_MASTER_DATA
#define S_CMD PIC_SLAVE_CMD
#define S_DATA PIC_SLAVE_DATA

#define OCW2_EOI 0x20
#define OCW2_SPECIFIC_EOI 0x60
#define OCW2_ROTATE_EOI 0xa0
#define OCW2_ROTATE_SPECIFIC_EOI 0xe0
#define OCW2_SET_PRIORITY 0xc0
#define OCW2_ROTATE_AEOI_SET 0x80
#define OCW2_ROTATE_AEOI_CLEAR 0x00
#define OCW3_READ_IRR 0x0a
#define OCW3_READ_ISR 0x0b
#define OCW3_POLL 0x0c
#define OCW3_SET_SMM 0x68
#define OCW3_RESET_SMM 0x48

/* Records the INT pin as the glue would see it. */
struct rec {
	unsigned int calls;
	bool level;
	bool repeated; /* a call that did not change the level */
};

static void rec_output(void *ctx, bool level)
{
	struct rec *r = ctx;

	if (level == r->level)
		r->repeated = true;
	r->level = level;
	r->calls++;
}

static const struct pic_ops rec_ops = {.output = rec_output};

static void setup(struct pic *p, struct rec *r)
{
	memset(r, 0, sizeof(*r));
	pic_init(p, &rec_ops, r);
}

/* Linux's init_8259A(): ICW1 0x11, ICW2 0x20/0x28, ICW3 4/2, ICW4 1|AEOI. */
static void linux_init(struct pic *p, uint8_t icw4_master, uint8_t icw4_slave)
{
	pic_io_write(p, M_CMD, 0x11);
	pic_io_write(p, M_DATA, 0x20);
	pic_io_write(p, M_DATA, 0x04);
	pic_io_write(p, M_DATA, icw4_master);
	pic_io_write(p, S_CMD, 0x11);
	pic_io_write(p, S_DATA, 0x28);
	pic_io_write(p, S_DATA, 0x02);
	pic_io_write(p, S_DATA, icw4_slave);
}

static void setup_linux(struct pic *p, struct rec *r)
{
	setup(p, r);
	linux_init(p, 0x01, 0x01);
}

static void pulse(struct pic *p, unsigned int irq)
{
	pic_set_irq(p, irq, true);
	pic_set_irq(p, irq, false);
}

static uint8_t read_reg(struct pic *p, uint16_t cmd, uint8_t ocw3)
{
	pic_io_write(p, cmd, ocw3);
	return pic_io_read(p, cmd);
}

static uint8_t irr(struct pic *p, uint16_t cmd)
{
	return read_reg(p, cmd, OCW3_READ_IRR);
}

static uint8_t isr(struct pic *p, uint16_t cmd)
{
	return read_reg(p, cmd, OCW3_READ_ISR);
}

/* What Linux's handlers do: EOI the slave first, then the master. */
static void eoi(struct pic *p, unsigned int irq)
{
	if (irq >= 8)
		pic_io_write(p, S_CMD, OCW2_EOI);
	pic_io_write(p, M_CMD, OCW2_EOI);
}

START_TEST(pic_linux_init_sequence_vectors)
{
	struct pic p;
	struct rec r;

	setup_linux(&p, &r);
	ck_assert_uint_eq(pic_io_read(&p, M_DATA), 0);
	ck_assert_uint_eq(pic_io_read(&p, S_DATA), 0);
	for (unsigned int irq = 0; irq < 16; irq++) {
		if (irq == PIC_CASCADE_IRQ)
			continue;
		pulse(&p, irq);
		ck_assert_msg(pic_output(&p), "irq %u", irq);
		ck_assert_int_eq(pic_intack(&p), 0x20 + (int)irq);
		ck_assert(!pic_output(&p));
		if (irq < 8) {
			ck_assert_uint_eq(isr(&p, M_CMD), 1u << irq);
		} else {
			ck_assert_uint_eq(isr(&p, M_CMD), 1u << 2);
			ck_assert_uint_eq(isr(&p, S_CMD), 1u << (irq - 8));
		}
		eoi(&p, irq);
		ck_assert_uint_eq(isr(&p, M_CMD), 0);
		ck_assert_uint_eq(isr(&p, S_CMD), 0);
	}
	ck_assert_uint_eq(p.stats.intacks, 15);
	ck_assert_uint_eq(p.stats.spurious, 0);
	ck_assert(!r.repeated);
}
END_TEST

START_TEST(pic_firmware_state_defaults)
{
	static const struct {
		unsigned int irq;
		int vector; /* -1: masked by the firmware */
	} cases[] = {
	    {0, 0x08}, {1, 0x09},  {3, -1},    {4, -1},	   {5, -1},
	    {6, 0x0e}, {7, -1},	   {8, 0x70},  {9, -1},	   {10, -1},
	    {11, -1},  {12, 0x74}, {13, 0x75}, {14, 0x76}, {15, -1},
	};
	struct pic p;
	struct rec r;

	setup(&p, &r);
	pic_reset(&p, true);
	ck_assert_uint_eq(r.calls, 0);
	ck_assert_uint_eq(pic_io_read(&p, M_DATA), PIC_FW_MASTER_IMR);
	ck_assert_uint_eq(pic_io_read(&p, S_DATA), PIC_FW_SLAVE_IMR);
	ck_assert_uint_eq(pic_io_read(&p, PIC_ELCR_MASTER), 0);
	ck_assert_uint_eq(pic_io_read(&p, PIC_ELCR_SLAVE), 0);
	ck_assert_uint_eq(pic_io_read(&p, M_CMD), 0); /* IRR selected */
	ck_assert_uint_eq(isr(&p, M_CMD), 0);
	ck_assert_uint_eq(isr(&p, S_CMD), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pulse(&p, cases[i].irq);
		if (cases[i].vector < 0) {
			ck_assert_msg(!pic_output(&p), "irq %u", cases[i].irq);
			continue;
		}
		ck_assert_msg(pic_output(&p), "irq %u", cases[i].irq);
		ck_assert_int_eq(pic_intack(&p), cases[i].vector);
		eoi(&p, cases[i].irq);
	}
	ck_assert(!pic_output(&p));
}
END_TEST

/*
 * KVM creates its PIC zeroed and QEMU resets its i8259 the same way: the
 * chip works before any ICW, with vector base 0 and nothing masked.
 */
START_TEST(pic_power_on_state_is_kvm_zero_state)
{
	struct pic p;
	struct rec r;

	setup(&p, &r);
	ck_assert_uint_eq(pic_io_read(&p, M_DATA), 0);
	ck_assert_uint_eq(pic_io_read(&p, S_DATA), 0);
	ck_assert(!pic_output(&p));
	pulse(&p, 3);
	ck_assert(pic_output(&p));
	ck_assert_int_eq(pic_intack(&p), 0x03);
	eoi(&p, 3);
	pulse(&p, 9);
	ck_assert_int_eq(pic_intack(&p), 0x01);
	eoi(&p, 9);
	/* A guest's own initialization then takes over as usual. */
	linux_init(&p, 0x01, 0x01);
	pulse(&p, 3);
	ck_assert_int_eq(pic_intack(&p), 0x23);
}
END_TEST

START_TEST(pic_imr_masks_requests)
{
	struct pic p;
	struct rec r;

	setup_linux(&p, &r);
	pic_io_write(&p, M_DATA, 0xff);
	pic_io_write(&p, S_DATA, 0xff);
	ck_assert_uint_eq(pic_io_read(&p, M_DATA), 0xff);
	pulse(&p, 5);
	pulse(&p, 11);
	ck_assert(!pic_output(&p));
	ck_assert_uint_eq(irr(&p, M_CMD), 1u << 5); /* latched anyway */
	ck_assert_uint_eq(irr(&p, S_CMD), 1u << 3);
	pic_io_write(&p, M_DATA, (uint8_t) ~(1u << 5));
	ck_assert(pic_output(&p));
	pic_io_write(&p, M_DATA, 0xff); /* masked again before the INTA */
	ck_assert(!pic_output(&p));
	pic_io_write(&p, M_DATA, (uint8_t) ~(1u << 2));
	ck_assert(!pic_output(&p)); /* the slave still masks IRQ11 */
	pic_io_write(&p, S_DATA, (uint8_t) ~(1u << 3));
	ck_assert(pic_output(&p));
	ck_assert_int_eq(pic_intack(&p), 0x2b);
	ck_assert(!r.repeated);
}
END_TEST

START_TEST(pic_priority_order_fully_nested)
{
	/* Slave inputs rank at IR2, between IRQ1 and IRQ3. */
	static const int order[] = {0x20, 0x21, 0x29, 0x2c, 0x23, 0x25, 0x27};
	static const unsigned int raised[] = {7, 12, 5, 3, 9, 1, 0};
	struct pic p;
	struct rec r;

	setup_linux(&p, &r);
	for (size_t i = 0; i < sizeof(raised) / sizeof(raised[0]); i++)
		pulse(&p, raised[i]);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		int v = pic_intack(&p);

		ck_assert_int_eq(v, order[i]);
		eoi(&p, v >= 0x28 ? 8u : 0u);
	}
	ck_assert(!pic_output(&p));
}
END_TEST

START_TEST(pic_nested_higher_preempts_lower)
{
	struct pic p;
	struct rec r;

	setup_linux(&p, &r);
	pulse(&p, 5);
	ck_assert_int_eq(pic_intack(&p), 0x25);
	pulse(&p, 6);
	ck_assert(!pic_output(&p)); /* lower: waits */
	pulse(&p, 5);
	ck_assert(!pic_output(&p)); /* same level: waits too */
	pulse(&p, 3);
	ck_assert(pic_output(&p)); /* higher: preempts */
	ck_assert_int_eq(pic_intack(&p), 0x23);
	ck_assert_uint_eq(isr(&p, M_CMD), 0x28);
	eoi(&p, 3);
	ck_assert(!pic_output(&p)); /* 5 still in service */
	eoi(&p, 5);
	ck_assert(pic_output(&p));
	ck_assert_int_eq(pic_intack(&p), 0x25);
	eoi(&p, 5);
	ck_assert_int_eq(pic_intack(&p), 0x26);
}
END_TEST

/* Puts IRQ5 then IRQ3 in service (nested). */
static void nest_3_over_5(struct pic *p)
{
	pulse(p, 5);
	ck_assert_int_eq(pic_intack(p), 0x25);
	pulse(p, 3);
	ck_assert_int_eq(pic_intack(p), 0x23);
	ck_assert_uint_eq(isr(p, M_CMD), 0x28);
}

START_TEST(pic_nonspecific_eoi_clears_highest)
{
	struct pic p;
	struct rec r;

	setup_linux(&p, &r);
	nest_3_over_5(&p);
	pic_io_write(&p, M_CMD, OCW2_EOI);
	ck_assert_uint_eq(isr(&p, M_CMD), 0x20);
	pic_io_write(&p, M_CMD, OCW2_EOI);
	ck_assert_uint_eq(isr(&p, M_CMD), 0);
	pic_io_write(&p, M_CMD, OCW2_EOI); /* nothing in service: no-op */
	ck_assert_uint_eq(isr(&p, M_CMD), 0);

	/* "Highest" follows the rotation, not the bit number. */
	pic_io_write(&p, M_CMD, OCW2_SET_PRIORITY | 3); /* 4..7, 0..3 */
	pulse(&p, 0);
	ck_assert_int_eq(pic_intack(&p), 0x20);
	pulse(&p, 7);
	ck_assert_int_eq(pic_intack(&p), 0x27);
	pic_io_write(&p, M_CMD, OCW2_EOI);
	ck_assert_uint_eq(isr(&p, M_CMD), 0x01);
}
END_TEST

START_TEST(pic_specific_eoi_clears_named_level)
{
	struct pic p;
	struct rec r;

	setup_linux(&p, &r);
	nest_3_over_5(&p);
	pic_io_write(&p, M_CMD, OCW2_SPECIFIC_EOI | 5);
	ck_assert_uint_eq(isr(&p, M_CMD), 0x08);
	pic_io_write(&p, M_CMD, OCW2_SPECIFIC_EOI | 6); /* not in service */
	ck_assert_uint_eq(isr(&p, M_CMD), 0x08);
	pic_io_write(&p, M_CMD, OCW2_SPECIFIC_EOI | 3);
	ck_assert_uint_eq(isr(&p, M_CMD), 0);
}
END_TEST

/* Acks everything raised, EOIs each, and returns the vectors in order. */
static void drain(struct pic *p, int *vectors, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		vectors[i] = pic_intack(p);
		pic_io_write(p, M_CMD, OCW2_EOI);
	}
	ck_assert(!pic_output(p));
}

START_TEST(pic_rotate_on_nonspecific_eoi)
{
	struct pic p;
	struct rec r;
	int v[4];

	setup_linux(&p, &r);
	pulse(&p, 1);
	ck_assert_int_eq(pic_intack(&p), 0x21);
	pic_io_write(&p, M_CMD, OCW2_ROTATE_EOI); /* IRQ1 becomes lowest */
	ck_assert_uint_eq(isr(&p, M_CMD), 0);
	pulse(&p, 0);
	pulse(&p, 1);
	pulse(&p, 3);
	pulse(&p, 7);
	/* drain() rotates no further: plain EOIs. Order 2..7, 0, 1. */
	drain(&p, v, 4);
	ck_assert_int_eq(v[0], 0x23);
	ck_assert_int_eq(v[1], 0x27);
	ck_assert_int_eq(v[2], 0x20);
	ck_assert_int_eq(v[3], 0x21);
}
END_TEST

START_TEST(pic_rotate_on_specific_eoi)
{
	struct pic p;
	struct rec r;
	int v[3];

	setup_linux(&p, &r);
	pulse(&p, 4);
	ck_assert_int_eq(pic_intack(&p), 0x24);
	pic_io_write(&p, M_CMD, OCW2_ROTATE_SPECIFIC_EOI | 4);
	ck_assert_uint_eq(isr(&p, M_CMD), 0);
	pulse(&p, 3);
	pulse(&p, 4);
	pulse(&p, 5);
	drain(&p, v, 3);
	ck_assert_int_eq(v[0], 0x25); /* order now 5, 6, 7, 0..4 */
	ck_assert_int_eq(v[1], 0x23);
	ck_assert_int_eq(v[2], 0x24);
}
END_TEST

START_TEST(pic_set_priority_command)
{
	static const struct {
		unsigned int bottom, a, b;
		int first, second;
	} cases[] = {
	    {3, 0, 4, 0x24, 0x20}, /* IRQ4 now highest */
	    {3, 3, 7, 0x27, 0x23}, /* IRQ3 lowest */
	    {7, 7, 0, 0x20, 0x27}, /* back to the default order */
	    {0, 0, 1, 0x21, 0x20},
	};
	struct pic p;
	struct rec r;
	int v[2];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setup_linux(&p, &r);
		pic_io_write(&p, M_CMD, OCW2_SET_PRIORITY | cases[i].bottom);
		pulse(&p, cases[i].a);
		pulse(&p, cases[i].b);
		drain(&p, v, 2);
		ck_assert_msg(v[0] == cases[i].first && v[1] == cases[i].second,
			      "case %zu: %#x %#x", i, v[0], v[1]);
	}
}
END_TEST

START_TEST(pic_auto_eoi_sets_no_isr)
{
	struct pic p;
	struct rec r;

	setup(&p, &r);
	linux_init(&p, 0x03, 0x03);
	pulse(&p, 3);
	ck_assert_int_eq(pic_intack(&p), 0x23);
	ck_assert_uint_eq(isr(&p, M_CMD), 0);
	pulse(&p, 4); /* no EOI needed before the next one */
	ck_assert(pic_output(&p));
	ck_assert_int_eq(pic_intack(&p), 0x24);
	pulse(&p, 10);
	ck_assert_int_eq(pic_intack(&p), 0x2a);
	ck_assert_uint_eq(isr(&p, M_CMD), 0);
	ck_assert_uint_eq(isr(&p, S_CMD), 0);
}
END_TEST

START_TEST(pic_rotate_in_auto_eoi_mode)
{
	struct pic p;
	struct rec r;
	int v[2];

	setup(&p, &r);
	linux_init(&p, 0x03, 0x03);
	pic_io_write(&p, M_CMD, OCW2_ROTATE_AEOI_SET);
	pulse(&p, 1);
	ck_assert_int_eq(pic_intack(&p), 0x21); /* IRQ1 now lowest */
	pulse(&p, 1);
	pulse(&p, 3);
	drain(&p, v, 2);
	ck_assert_int_eq(v[0], 0x23);
	ck_assert_int_eq(v[1], 0x21); /* order 2..7, 0, 1 again */

	pic_io_write(&p, M_CMD, OCW2_ROTATE_AEOI_CLEAR);
	pulse(&p, 4);
	ck_assert_int_eq(pic_intack(&p), 0x24); /* no rotation now */
	pulse(&p, 5);
	pulse(&p, 3);
	drain(&p, v, 2);
	ck_assert_int_eq(v[0], 0x23); /* order still 2..7, 0, 1 */
	ck_assert_int_eq(v[1], 0x25);
}
END_TEST

START_TEST(pic_special_mask_mode)
{
	struct pic p;
	struct rec r;

	setup_linux(&p, &r);
	pulse(&p, 3);
	ck_assert_int_eq(pic_intack(&p), 0x23);
	pulse(&p, 5);
	ck_assert(!pic_output(&p)); /* fully nested: 3 blocks 5 */
	pic_io_write(&p, M_DATA, 1u << 3);
	ck_assert(!pic_output(&p)); /* masking alone does not help */
	pic_io_write(&p, M_CMD, OCW3_SET_SMM);
	ck_assert(pic_output(&p)); /* SMM: masked level 3 inhibits nothing */
	ck_assert_int_eq(pic_intack(&p), 0x25);
	ck_assert_uint_eq(isr(&p, M_CMD), 0x28);
	pulse(&p, 6);
	ck_assert(!pic_output(&p)); /* 5 is unmasked: still blocks 6 */
	pic_io_write(&p, M_CMD, OCW2_SPECIFIC_EOI | 5);
	ck_assert(pic_output(&p));
	pic_io_write(&p, M_CMD, OCW3_RESET_SMM);
	ck_assert(!pic_output(&p)); /* 3 blocks again */
	pic_io_write(&p, M_CMD, OCW2_SPECIFIC_EOI | 3);
	ck_assert_int_eq(pic_intack(&p), 0x26);
	ck_assert(!r.repeated);
}
END_TEST

START_TEST(pic_special_fully_nested_mode)
{
	static const struct {
		uint8_t icw4_master;
		unsigned int irq;
		bool output;
	} cases[] = {
	    {0x11, 9, true},   /* SFNM: higher slave input nests */
	    {0x01, 9, false},  /* normal: the slave is locked out */
	    {0x11, 11, false}, /* lower slave input: the slave blocks it */
	    {0x11, 3, false},  /* lower master input: still blocked */
	    {0x11, 1, true},
	};
	struct pic p;
	struct rec r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setup(&p, &r);
		linux_init(&p, cases[i].icw4_master, 0x01);
		pulse(&p, 10);
		ck_assert_int_eq(pic_intack(&p), 0x2a);
		pulse(&p, cases[i].irq);
		ck_assert_msg(pic_output(&p) == cases[i].output, "case %zu", i);
		if (cases[i].output)
			ck_assert_int_eq(pic_intack(&p),
					 0x20 + (int)cases[i].irq);
	}
}
END_TEST

START_TEST(pic_poll_master)
{
	struct pic p;
	struct rec r;

	setup_linux(&p, &r);
	pulse(&p, 6);
	pulse(&p, 4);
	pic_io_write(&p, M_CMD, OCW3_POLL);
	ck_assert_uint_eq(pic_io_read(&p, M_CMD), 0x84);
	ck_assert_uint_eq(pic_io_read(&p, M_CMD), 0x40); /* poll done: IRR */
	ck_assert_uint_eq(isr(&p, M_CMD), 0x10);
	pic_io_write(&p, M_CMD, OCW3_POLL);
	ck_assert_uint_eq(pic_io_read(&p, M_DATA), 0); /* 6 blocked by 4 */
	pic_io_write(&p, M_CMD, OCW2_EOI);
	pic_io_write(&p, M_CMD, OCW3_POLL); /* either port works */
	ck_assert_uint_eq(pic_io_read(&p, M_DATA), 0x86);
	ck_assert_uint_eq(p.stats.polls, 2);
	ck_assert_uint_eq(p.stats.per_irq[4], 1);
	ck_assert_uint_eq(p.stats.intacks, 0);
}
END_TEST

START_TEST(pic_poll_slave)
{
	struct pic p;
	struct rec r;

	setup_linux(&p, &r);
	pulse(&p, 11);
	ck_assert(pic_output(&p));
	ck_assert_uint_eq(irr(&p, M_CMD), 1u << 2);
	pic_io_write(&p, S_CMD, OCW3_POLL);
	ck_assert_uint_eq(pic_io_read(&p, S_CMD), 0x83);
	ck_assert_uint_eq(isr(&p, S_CMD), 1u << 3);
	ck_assert_uint_eq(irr(&p, M_CMD), 0); /* request withdrawn */
	ck_assert_uint_eq(isr(&p, M_CMD), 0); /* master not involved */
	ck_assert(!pic_output(&p));
	pic_io_write(&p, S_CMD, OCW2_EOI);
	ck_assert_uint_eq(isr(&p, S_CMD), 0);
	ck_assert(!pic_output(&p));
	ck_assert_uint_eq(p.stats.per_irq[11], 1);
}
END_TEST

START_TEST(pic_poll_with_nothing_pending_reads_zero)
{
	struct pic p;
	struct rec r;

	setup_linux(&p, &r);
	pic_io_write(&p, M_CMD, OCW3_READ_ISR);
	pic_io_write(&p, M_CMD, OCW3_POLL);
	ck_assert_uint_eq(pic_io_read(&p, M_CMD), 0);
	pulse(&p, 0);
	ck_assert_uint_eq(pic_io_read(&p, M_CMD), 0); /* ISR, as selected */
	ck_assert_uint_eq(p.stats.polls, 0);
}
END_TEST

START_TEST(pic_cascade_through_ir2)
{
	struct pic p;
	struct rec r;

	setup_linux(&p, &r);
	for (unsigned int irq = 8; irq < 16; irq++) {
		pulse(&p, irq);
		ck_assert_uint_eq(irr(&p, M_CMD), 1u << 2);
		ck_assert_int_eq(pic_intack(&p), 0x20 + (int)irq);
		ck_assert_uint_eq(isr(&p, M_CMD), 1u << 2);
		ck_assert_uint_eq(isr(&p, S_CMD), 1u << (irq - 8));
		ck_assert_uint_eq(irr(&p, M_CMD), 0);
		pic_io_write(&p, S_CMD, OCW2_EOI);
		pulse(&p, 8 + (irq - 8 + 1) % 8);
		ck_assert(!pic_output(&p)); /* master ISR2 still blocks */
		pic_io_write(&p, M_CMD, OCW2_EOI);
		ck_assert(pic_output(&p));
		pic_intack(&p);
		eoi(&p, 8);
	}
}
END_TEST

START_TEST(pic_spurious_irq7_on_master)
{
	struct pic p;
	struct rec r;

	setup_linux(&p, &r);
	ck_assert(!pic_output(&p));
	ck_assert_int_eq(pic_intack(&p), 0x27);
	ck_assert_uint_eq(isr(&p, M_CMD), 0);
	ck_assert_uint_eq(p.stats.intacks, 1);
	ck_assert_uint_eq(p.stats.spurious, 1);
	ck_assert_uint_eq(p.stats.per_irq[7], 0);
	ck_assert_uint_eq(r.calls, 0);
}
END_TEST

START_TEST(pic_spurious_irq15_on_slave)
{
	struct pic p;
	struct rec r;

	setup_linux(&p, &r);
	pulse(&p, 10);
	ck_assert(pic_output(&p));
	pic_io_write(&p, S_DATA, 1u << 2); /* slave withdraws */
	ck_assert(pic_output(&p));	   /* master's IR2 latch remains */
	ck_assert_int_eq(pic_intack(&p), 0x2f);
	ck_assert_uint_eq(isr(&p, M_CMD), 1u << 2);
	ck_assert_uint_eq(isr(&p, S_CMD), 0);
	ck_assert_uint_eq(p.stats.spurious, 1);
	ck_assert_uint_eq(p.stats.per_irq[15], 0);
	pic_io_write(&p, M_CMD, OCW2_EOI); /* Linux EOIs the master only */
	ck_assert(!pic_output(&p));
	pic_io_write(&p, S_DATA, 0); /* the slave's IRR kept the request */
	ck_assert(pic_output(&p));
	ck_assert_int_eq(pic_intack(&p), 0x2a);
}
END_TEST

START_TEST(pic_edge_input_needs_rising_edge)
{
	struct pic p;
	struct rec r;

	setup_linux(&p, &r);
	pic_set_irq(&p, 4, true);
	pic_set_irq(&p, 4, false);
	ck_assert(pic_output(&p)); /* latched: the line may fall */
	ck_assert_int_eq(pic_intack(&p), 0x24);
	pic_set_irq(&p, 4, true);
	eoi(&p, 4);
	ck_assert_int_eq(pic_intack(&p), 0x24);
	eoi(&p, 4);
	pic_set_irq(&p, 4, true); /* held high: no new edge */
	ck_assert(!pic_output(&p));
	ck_assert_uint_eq(irr(&p, M_CMD), 0);
	pic_set_irq(&p, 4, false);
	pic_set_irq(&p, 4, true);
	ck_assert(pic_output(&p));
}
END_TEST

START_TEST(pic_level_input_follows_line)
{
	static const struct {
		unsigned int irq;
		uint16_t elcr_port, cmd;
		uint8_t elcr;
		int vector;
	} cases[] = {
	    {5, PIC_ELCR_MASTER, M_CMD, 1u << 5, 0x25},
	    {11, PIC_ELCR_SLAVE, S_CMD, 1u << 3, 0x2b},
	};
	struct pic p;
	struct rec r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setup_linux(&p, &r);
		pic_io_write(&p, cases[i].elcr_port, cases[i].elcr);
		pic_set_irq(&p, cases[i].irq, true);
		ck_assert_int_eq(pic_intack(&p), cases[i].vector);
		/* IRR is kept on INTA */
		ck_assert_uint_eq(irr(&p, cases[i].cmd), cases[i].elcr);
		ck_assert(!pic_output(&p));
		eoi(&p, cases[i].irq);
		ck_assert(pic_output(&p)); /* still high: again */
		ck_assert_int_eq(pic_intack(&p), cases[i].vector);
		pic_set_irq(&p, cases[i].irq, false);
		eoi(&p, cases[i].irq);
		ck_assert_msg(!pic_output(&p), "case %zu", i);
	}
}
END_TEST

START_TEST(pic_elcr_forced_edge_bits)
{
	static const struct {
		uint16_t port;
		uint8_t write, read;
	} cases[] = {
	    {PIC_ELCR_MASTER, 0xff, 0xf8}, {PIC_ELCR_SLAVE, 0xff, 0xde},
	    {PIC_ELCR_MASTER, 0x07, 0x00}, {PIC_ELCR_SLAVE, 0x21, 0x00},
	    {PIC_ELCR_MASTER, 0x28, 0x28}, {PIC_ELCR_SLAVE, 0x8e, 0x8e},
	};
	struct pic p;
	struct rec r;

	setup_linux(&p, &r);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pic_io_write(&p, cases[i].port, cases[i].write);
		ck_assert_msg(pic_io_read(&p, cases[i].port) == cases[i].read,
			      "case %zu", i);
	}
	pic_io_write(&p, PIC_ELCR_MASTER, 0xff);
	pic_set_irq(&p, 0, true); /* IRQ0 stays edge */
	ck_assert_int_eq(pic_intack(&p), 0x20);
	eoi(&p, 0);
	ck_assert(!pic_output(&p));
}
END_TEST

START_TEST(pic_level_drop_before_intack_is_spurious)
{
	static const struct {
		unsigned int irq;
		uint16_t elcr_port;
		uint8_t elcr;
		int vector;
	} cases[] = {
	    {5, PIC_ELCR_MASTER, 1u << 5, 0x27},
	    {10, PIC_ELCR_SLAVE, 1u << 2, 0x2f},
	};
	struct pic p;
	struct rec r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setup_linux(&p, &r);
		pic_io_write(&p, cases[i].elcr_port, cases[i].elcr);
		pic_set_irq(&p, cases[i].irq, true);
		ck_assert(pic_output(&p));
		pic_set_irq(&p, cases[i].irq, false);
		ck_assert_int_eq(pic_intack(&p), cases[i].vector);
		ck_assert_uint_eq(isr(&p, S_CMD), 0);
		ck_assert_uint_eq(p.stats.spurious, 1);
	}
}
END_TEST

START_TEST(pic_irr_isr_register_reads)
{
	struct pic p;
	struct rec r;

	setup_linux(&p, &r);
	pulse(&p, 3);
	pulse(&p, 5);
	ck_assert_uint_eq(pic_io_read(&p, M_CMD), 0x28); /* IRR after ICW1 */
	ck_assert_int_eq(pic_intack(&p), 0x23);
	pic_io_write(&p, M_CMD, OCW3_READ_ISR);
	ck_assert_uint_eq(pic_io_read(&p, M_CMD), 0x08);
	ck_assert_uint_eq(pic_io_read(&p, M_CMD), 0x08); /* selection sticks */
	pic_io_write(&p, M_CMD, 0x08); /* OCW3 with RR=0: no change */
	ck_assert_uint_eq(pic_io_read(&p, M_CMD), 0x08);
	pic_io_write(&p, M_CMD, OCW3_READ_IRR);
	ck_assert_uint_eq(pic_io_read(&p, M_CMD), 0x20);
	pic_io_write(&p, M_DATA, 0x5a);
	ck_assert_uint_eq(pic_io_read(&p, M_DATA), 0x5a);
	ck_assert_uint_eq(pic_io_read(&p, S_DATA), 0x00);
}
END_TEST

START_TEST(pic_output_callback_only_on_changes)
{
	struct pic p;
	struct rec r;

	setup_linux(&p, &r);
	ck_assert_uint_eq(r.calls, 0);
	pulse(&p, 3);
	ck_assert_uint_eq(r.calls, 1);
	pulse(&p, 4);
	pulse(&p, 6);
	pic_io_write(&p, M_DATA, 0x00);
	ck_assert_uint_eq(r.calls, 1); /* already high */
	ck_assert_int_eq(pic_intack(&p), 0x23);
	ck_assert_uint_eq(r.calls, 2); /* 4 and 6 wait for 3's EOI */
	ck_assert(!r.level);
	pic_io_write(&p, M_CMD, OCW2_EOI);
	ck_assert_uint_eq(r.calls, 3);
	ck_assert_int_eq(pic_intack(&p), 0x24);
	ck_assert_uint_eq(r.calls, 4);
	ck_assert_uint_eq(pic_io_read(&p, M_CMD), 0x40);
	ck_assert_uint_eq(r.calls, 4); /* reads change nothing */
	ck_assert(!r.repeated);
	ck_assert(r.level == pic_output(&p));
}
END_TEST

/*
 * In AEOI mode the output can stay high across an INTA, with no callback:
 * the glue must look at pic_output() again after each pic_intack().
 */
START_TEST(pic_output_stays_high_after_intack)
{
	struct pic p;
	struct rec r;

	setup(&p, &r);
	linux_init(&p, 0x03, 0x03);
	pulse(&p, 5);
	pulse(&p, 6);
	ck_assert_uint_eq(r.calls, 1);
	ck_assert_int_eq(pic_intack(&p), 0x25);
	ck_assert(pic_output(&p));
	ck_assert_uint_eq(r.calls, 1);
	ck_assert_int_eq(pic_intack(&p), 0x26);
	ck_assert(!pic_output(&p));
}
END_TEST

START_TEST(pic_icw1_resets_chip)
{
	struct pic p;
	struct rec r;

	setup_linux(&p, &r);
	pic_io_write(&p, PIC_ELCR_MASTER, 1u << 5);
	pulse(&p, 6);
	ck_assert_int_eq(pic_intack(&p), 0x26); /* ISR 6 */
	pic_io_write(&p, M_CMD, OCW2_SET_PRIORITY | 4);
	pic_io_write(&p, M_CMD, OCW3_SET_SMM);
	pic_io_write(&p, M_DATA, 0xd0);
	pic_set_irq(&p, 5, true); /* level request */
	pulse(&p, 3);		  /* edge request */
	pic_set_irq(&p, 4, true); /* edge line held high */
	pic_io_write(&p, M_CMD, OCW3_READ_ISR);

	pic_io_write(&p, M_CMD, 0x11);
	ck_assert_uint_eq(pic_io_read(&p, M_CMD), 0x20); /* IRR selected */
	ck_assert_uint_eq(isr(&p, M_CMD), 0);
	pic_io_write(&p, M_DATA, 0x30);
	pic_io_write(&p, M_DATA, 0x04);
	pic_io_write(&p, M_DATA, 0x01);
	ck_assert_uint_eq(pic_io_read(&p, M_DATA), 0); /* IMR cleared */
	ck_assert(pic_output(&p));
	ck_assert_int_eq(pic_intack(&p), 0x35);
	pic_set_irq(&p, 5, false);
	pic_io_write(&p, M_CMD, OCW2_EOI);
	ck_assert(!pic_output(&p));
	pulse(&p, 6);
	pulse(&p, 0);
	ck_assert_int_eq(pic_intack(&p), 0x30); /* IR0 highest again */
	pic_io_write(&p, M_CMD, OCW2_EOI);
	ck_assert_int_eq(pic_intack(&p), 0x36);
	pic_io_write(&p, M_CMD, OCW2_EOI);
	/* Edge sense reset: the held line counts as low now, as in KVM. */
	pic_set_irq(&p, 4, true);
	ck_assert_int_eq(pic_intack(&p), 0x34);
	/* Special mask mode is off: the masked level in service blocks. */
	pic_io_write(&p, M_DATA, 1u << 4);
	pulse(&p, 6);
	ck_assert(!pic_output(&p));
	ck_assert_uint_eq(p.stats.spurious, 0);
}
END_TEST

START_TEST(pic_icw1_single_mode_skips_icw3)
{
	struct pic p;
	struct rec r;

	setup(&p, &r);
	pic_io_write(&p, M_CMD, 0x13); /* SNGL, IC4 */
	pic_io_write(&p, M_DATA, 0x40);
	pic_io_write(&p, M_DATA, 0x03); /* ICW4: AEOI */
	pic_io_write(&p, M_DATA, 0x02); /* OCW1 */
	ck_assert_uint_eq(pic_io_read(&p, M_DATA), 0x02);
	pulse(&p, 0);
	ck_assert_int_eq(pic_intack(&p), 0x40);
	ck_assert_uint_eq(isr(&p, M_CMD), 0);
}
END_TEST

START_TEST(pic_icw1_without_icw4_clears_icw4_modes)
{
	struct pic p;
	struct rec r;

	setup(&p, &r);
	linux_init(&p, 0x13, 0x01);	/* AEOI + SFNM */
	pic_io_write(&p, M_CMD, 0x10);	/* cascade, no ICW4 */
	pic_io_write(&p, M_DATA, 0x47); /* ICW2: low bits ignored */
	pic_io_write(&p, M_DATA, 0x04); /* ICW3 */
	pic_io_write(&p, M_DATA, 0x10); /* OCW1 */
	ck_assert_uint_eq(pic_io_read(&p, M_DATA), 0x10);
	pulse(&p, 3);
	ck_assert_int_eq(pic_intack(&p), 0x43);
	ck_assert_uint_eq(isr(&p, M_CMD), 0x08); /* AEOI off */
}
END_TEST

START_TEST(pic_ignores_foreign_ports_and_lines)
{
	static const uint16_t ports[] = {0x22, 0x1f, 0xa2, 0x4d2, 0x4cf, 0};
	struct pic p, before;
	struct rec r;

	setup_linux(&p, &r);
	pulse(&p, 5);
	before = p;
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		ck_assert_uint_eq(pic_io_read(&p, ports[i]), 0xff);
		pic_io_write(&p, ports[i], 0x11);
	}
	pic_set_irq(&p, 16, true);
	pic_set_irq(&p, ~0u, true);
	pic_io_write(&p, M_CMD, 0x40); /* OCW2 no-op */
	ck_assert(memcmp(&p.chip, &before.chip, sizeof(p.chip)) == 0);
	ck_assert_int_eq(pic_intack(&p), 0x25);
}
END_TEST

START_TEST(pic_reset_forgets_lines_and_reports_fall)
{
	struct pic p;
	struct rec r;

	setup_linux(&p, &r);
	pic_io_write(&p, PIC_ELCR_SLAVE, 0x02);
	pic_set_irq(&p, 9, true);
	ck_assert(r.level);
	pulse(&p, 4);
	ck_assert_int_eq(pic_intack(&p), 0x29);
	pic_reset(&p, true);
	ck_assert(!r.level);
	ck_assert_uint_eq(pic_io_read(&p, PIC_ELCR_SLAVE), 0);
	ck_assert_uint_eq(irr(&p, M_CMD), 0);
	ck_assert_uint_eq(isr(&p, M_CMD), 0);
	ck_assert_uint_eq(isr(&p, S_CMD), 0);
	ck_assert_uint_eq(p.stats.intacks, 1); /* statistics survive */
	ck_assert(!r.repeated);
}
END_TEST

/* ---- randomized run against an independent reference ---- */

/*
 * The level a chip would answer, walking priorities from the highest:
 * the first unmasked request wins unless an in-service level at or above
 * it inhibits it (in special mask mode masked levels inhibit nothing; in
 * special fully nested mode the master's IR2 may nest on itself).
 */
static int ref_pending(const struct pic_chip *c, bool master)
{
	for (unsigned int i = 0; i < 8; i++) {
		unsigned int irq = (c->priority_add + i) & 7, bit = 1u << irq;
		bool req = (c->irr & bit) && !(c->imr & bit);
		bool busy =
		    (c->isr & bit) && !(c->special_mask && (c->imr & bit));

		if (busy)
			return req && master && c->special_fully_nested &&
				       irq == 2
				   ? (int)irq
				   : -1;
		if (req)
			return (int)irq;
	}
	return -1;
}

static int ref_vector(const struct pic *p)
{
	int m = ref_pending(&p->chip[0], true), s;

	if (m < 0)
		return p->chip[0].irq_base + 7;
	if (m != 2)
		return p->chip[0].irq_base + m;
	s = ref_pending(&p->chip[1], false);
	return p->chip[1].irq_base + (s < 0 ? 7 : s);
}

static uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 32);
}

struct fuzz {
	struct pic p;
	struct rec r;
	uint64_t seed;
	unsigned int step;
	bool line[16];
	uint16_t level_ok; /* level inputs whose IRR must equal the line */
	uint16_t elcr;
};

/* Check's ck_assert() costs a syscall per call: test first, fail by hand. */
#define FUZZ_ASSERT(f, cond)                                                   \
	do {                                                                   \
		if (!(cond))                                                   \
			ck_abort_msg("step %u: %s", (f)->step, #cond);         \
	} while (0)

static uint16_t elcr16(const struct pic *p)
{
	return (uint16_t)(p->chip[0].elcr | p->chip[1].elcr << 8);
}

static void fuzz_line(struct fuzz *f)
{
	unsigned int irq = rnd(&f->seed) % 17;
	bool level = rnd(&f->seed) & 1;

	pic_set_irq(&f->p, irq, level);
	if (irq >= 16)
		return;
	f->line[irq] = level;
	if (elcr16(&f->p) & (1u << irq))
		f->level_ok |= 1u << irq;
}

static void fuzz_intack(struct fuzz *f)
{
	const struct pic_chip *m = &f->p.chip[0], *s = &f->p.chip[1];
	int expect = ref_vector(&f->p), v;

	if (!pic_output(&f->p) && rnd(&f->seed) % 8)
		return;
	v = pic_intack(&f->p);
	FUZZ_ASSERT(f, v == expect);
	FUZZ_ASSERT(f, (v >= m->irq_base && v <= m->irq_base + 7) ||
			   (v >= s->irq_base && v <= s->irq_base + 7));
}

static void fuzz_read(struct fuzz *f)
{
	static const uint16_t ports[] = {
	    M_CMD, M_DATA, S_CMD, S_DATA, PIC_ELCR_MASTER, PIC_ELCR_SLAVE};
	unsigned int i = rnd(&f->seed) % 6;
	const struct pic_chip *c = &f->p.chip[i < 4 ? i / 2 : 0];
	int expect = ref_pending(c, i < 2);
	bool poll = i < 4 && c->poll;
	uint8_t v = pic_io_read(&f->p, ports[i]);

	if (poll)
		FUZZ_ASSERT(f, v == (expect < 0 ? 0 : 0x80 | expect));
}

static void fuzz_init(struct fuzz *f)
{
	uint16_t cmd = rnd(&f->seed) & 1 ? M_CMD : S_CMD;
	uint32_t x = rnd(&f->seed);

	pic_io_write(&f->p, cmd, 0x10 | (x & 0x0b));
	pic_io_write(&f->p, cmd + 1, (uint8_t)(x >> 8));
	if (!(x & 0x02))
		pic_io_write(&f->p, cmd + 1, cmd == M_CMD ? 4 : 2);
	if (x & 0x01)
		pic_io_write(&f->p, cmd + 1, 0x01 | ((x >> 16) & 0x12));
}

/* One random guest or device action. */
static void fuzz_step(struct fuzz *f)
{
	static const uint16_t ports[] = {M_CMD,		M_DATA, S_CMD,
					 S_DATA,	0x22,	PIC_ELCR_MASTER,
					 PIC_ELCR_SLAVE};
	uint32_t op = rnd(&f->seed) % 100, x = rnd(&f->seed);
	uint16_t cmd = x & 1 ? S_CMD : M_CMD;

	if (op < 30)
		fuzz_line(f);
	else if (op < 50)
		fuzz_intack(f);
	else if (op < 60) /* OCW2 */
		pic_io_write(&f->p, cmd, (uint8_t)(x >> 8) & 0xe7);
	else if (op < 65) /* OCW3 */
		pic_io_write(&f->p, cmd, ((uint8_t)(x >> 8) & 0x67) | 0x08);
	else if (op < 70) /* OCW1, mostly few bits masked */
		pic_io_write(&f->p, cmd + 1, (x >> 8) & (x >> 16) & 0xff);
	else if (op < 73)
		pic_io_write(&f->p, PIC_ELCR_MASTER + (x & 1),
			     (uint8_t)(x >> 8));
	else if (op < 75)
		fuzz_init(f);
	else if (op < 77)
		pic_io_write(&f->p, ports[(x >> 8) % 7], (uint8_t)(x >> 16));
	else
		fuzz_read(f);
}

static void fuzz_check(struct fuzz *f, const struct pic *before)
{
	const struct pic *p = &f->p;
	uint16_t elcr = elcr16(p), irr16;

	FUZZ_ASSERT(f, !f->r.repeated);
	FUZZ_ASSERT(f, f->r.level == pic_output(p));
	FUZZ_ASSERT(f, pic_output(p) == (ref_pending(&p->chip[0], true) >= 0));
	if (ref_pending(&p->chip[1], false) >= 0)
		FUZZ_ASSERT(f, p->chip[0].irr & (1u << 2));
	f->level_ok &= (uint16_t) ~(f->elcr ^ elcr);
	f->level_ok &= elcr;
	f->elcr = elcr;
	irr16 = (uint16_t)(p->chip[0].irr | p->chip[1].irr << 8);
	for (unsigned int i = 0; i < 16; i++)
		if (f->level_ok & (1u << i))
			FUZZ_ASSERT(f, !!(irr16 & (1u << i)) == f->line[i]);
	for (unsigned int i = 0; i < 2; i++) {
		const struct pic_chip *c = &p->chip[i], *b = &before->chip[i];
		uint8_t gained = c->isr & ~b->isr;

		FUZZ_ASSERT(f, c->priority_add < 8);
		FUZZ_ASSERT(f, (c->irq_base & 7) == 0);
		FUZZ_ASSERT(f, c->init_state <= PIC_INIT_ICW4);
		FUZZ_ASSERT(f, (c->elcr & ~c->elcr_mask) == 0);
		/*
		 * Only an acknowledge sets ISR bits: one level at a time,
		 * requested and unmasked, never in AEOI mode.
		 */
		FUZZ_ASSERT(f, (gained & (gained - 1)) == 0);
		if (gained) {
			FUZZ_ASSERT(f, !c->auto_eoi);
			FUZZ_ASSERT(f, !(b->imr & gained) && (b->irr & gained));
		}
	}
}

START_TEST(pic_random_invariants)
{
	struct fuzz f;
	struct pic before;

	memset(&f, 0, sizeof(f));
	f.seed = 0x8259a8259a8259aull;
	pic_init(&f.p, &rec_ops, &f.r);
	linux_init(&f.p, 0x01, 0x01);
	for (f.step = 0; f.step < 100000; f.step++) {
		before = f.p;
		fuzz_step(&f);
		fuzz_check(&f, &before);
	}
	ck_assert_uint_gt(f.p.stats.intacks, 1000);
	ck_assert_uint_gt(f.p.stats.intacks, f.p.stats.spurious);
}
END_TEST

/* ---- Snapshots ---- */

#define SNAP_LEN (2 * 16 + 19 * 8)

static size_t snap_save(const struct pic *p, uint8_t *buf, size_t cap)
{
	struct blob_writer w = {buf, cap, 0};

	pic_save(p, &w);
	ck_assert_uint_le(w.len, cap);
	return w.len;
}

static bool same_pic(const struct pic *a, const struct pic *b)
{
	return !memcmp(a->chip, b->chip, sizeof(a->chip)) &&
	       !memcmp(&a->stats, &b->stats, sizeof(a->stats)) &&
	       a->output == b->output;
}

/* A whole blob, as the glue loads it: bytes left over are refused. */
static int snap_load(struct pic *p, const uint8_t *buf, size_t len)
{
	struct blob_reader r = {buf, len, 0, false};
	struct pic t = *p;
	int ret = pic_load(&t, &r);

	ck_assert_int_eq(ret ? 1 : 0, r.bad ? 1 : 0);
	if (ret)
		ck_assert(same_pic(&t, p));
	else if (r.pos != len)
		ret = -EMSGSIZE;
	else
		*p = t;
	return ret;
}

/*
 * The master: IRQ1 in service, IRQ3 and IRQ4 requested behind it, ISR
 * selected for reading, IRQ6 masked; a level IRQ10 waiting on the slave
 * - which the guest is initializing again, ICW1 and ICW2 written, ICW3
 * and ICW4 still due.
 */
static void snap_scene(struct pic *p, struct rec *r)
{
	setup_linux(p, r);
	pic_io_write(p, PIC_ELCR_SLAVE, 0x04);
	pic_io_write(p, M_DATA, 0x40);
	pulse(p, 1);
	ck_assert_int_eq(pic_intack(p), 0x21);
	pulse(p, 3);
	pulse(p, 4);
	pulse(p, 6);
	pic_io_write(p, M_CMD, OCW3_READ_ISR);
	pic_io_write(p, S_CMD, 0x11);
	pic_io_write(p, S_DATA, 0x30);
	pic_set_irq(p, 10, true);
	ck_assert_uint_eq(p->chip[1].init_state, PIC_INIT_ICW3);
	ck_assert(!pic_output(p)); /* all of them rank below IRQ1 */
}

/* What a guest sees from here on: the same reads, the same vectors. */
static void snap_continue(struct pic *p, int ret_vectors[3])
{
	ck_assert_uint_eq(pic_io_read(p, M_CMD), 0x02); /* ISR selected */
	ck_assert_uint_eq(pic_io_read(p, M_DATA), 0x40);
	ck_assert_uint_eq(pic_io_read(p, PIC_ELCR_SLAVE), 0x04);
	ck_assert_uint_eq(irr(p, M_CMD), 0x5c); /* IR2 (the slave), 3, 4, 6 */
	/* The slave's initialization goes on where it was: ICW3, ICW4. */
	pic_io_write(p, S_DATA, 0x02);
	pic_io_write(p, S_DATA, 0x01);
	ck_assert_uint_eq(p->chip[1].init_state, PIC_INIT_DONE);
	ck_assert(!pic_output(p));
	eoi(p, 1);
	ck_assert(pic_output(p));
	ret_vectors[0] = pic_intack(p); /* the slave's level IRQ10 */
	pic_set_irq(p, 10, false); /* the handler quiets the device */
	eoi(p, 10);
	ret_vectors[1] = pic_intack(p); /* IRQ3 */
	eoi(p, 3);
	ret_vectors[2] = pic_intack(p); /* IRQ4 */
}

START_TEST(pic_snapshot_round_trip_in_service)
{
	uint8_t buf[512];
	struct pic a, b;
	struct rec ra, rb;
	int va[3], vb[3];
	size_t len;

	snap_scene(&a, &ra);
	len = snap_save(&a, buf, sizeof(buf));
	ck_assert_uint_eq(len, SNAP_LEN);
	setup(&b, &rb);
	ck_assert_int_eq(snap_load(&b, buf, len), 0);
	ck_assert_uint_eq(rb.calls, 0); /* the glue reads pic_output() */
	ck_assert(same_pic(&a, &b));
	snap_continue(&a, va);
	snap_continue(&b, vb);
	ck_assert_int_eq(va[0], 0x32);
	ck_assert_int_eq(va[1], 0x23);
	ck_assert_int_eq(va[2], 0x24);
	ck_assert(!memcmp(va, vb, sizeof(va)));
	ck_assert(same_pic(&a, &b));
	ck_assert(ra.level == rb.level && !rb.repeated);
}
END_TEST

START_TEST(pic_snapshot_refuses_truncated)
{
	uint8_t buf[512];
	struct pic a, b, before;
	struct rec ra, rb;
	size_t len;

	snap_scene(&a, &ra);
	len = snap_save(&a, buf, sizeof(buf));
	setup_linux(&b, &rb);
	pulse(&b, 5);
	before = b;
	for (size_t n = 0; n < len; n++) {
		ck_assert_msg(snap_load(&b, buf, n) == -EINVAL, "len %zu", n);
		ck_assert_msg(same_pic(&b, &before), "len %zu", n);
	}
	ck_assert_int_eq(snap_load(&b, buf, len), 0);
}
END_TEST

/* Chip i's byte at offset off of its 16 (see pic.c, save_chip()). */
#define SNAP_BYTE(chip, off) ((chip) * 16 + (off))
#define SNAP_IRQ_BASE 5
#define SNAP_PRIORITY 6
#define SNAP_INIT 7
#define SNAP_FLAGS 8
#define FLAG_IC4 0x01
#define FLAG_SNGL 0x02
#define FLAG_AEOI 0x04
#define FLAG_SFNM 0x08

START_TEST(pic_snapshot_refuses_out_of_range)
{
	static const struct {
		size_t offset[2];
		uint8_t value[2];
	} cases[] = {
		{{SNAP_BYTE(0, SNAP_IRQ_BASE)}, {0x21}},
		{{SNAP_BYTE(1, SNAP_IRQ_BASE)}, {0x34}},
		{{SNAP_BYTE(0, SNAP_PRIORITY)}, {8}},
		{{SNAP_BYTE(1, SNAP_PRIORITY)}, {0xff}},
		{{SNAP_BYTE(0, SNAP_INIT)}, {4}},
		{{SNAP_BYTE(0, 4)}, {0x01}},	    /* ELCR: IRQ0 is edge */
		{{SNAP_BYTE(1, 4)}, {0x21}},	    /* ELCR: IRQ13 is edge */
		{{SNAP_BYTE(0, 9)}, {1}},	    /* reserved */
		{{SNAP_BYTE(1, 15)}, {0x80}},	    /* reserved */
		/* ICW3 is skipped in single mode, ICW4 without IC4. */
		{{SNAP_BYTE(1, SNAP_FLAGS)}, {FLAG_IC4 | FLAG_SNGL}},
		{{SNAP_BYTE(0, SNAP_INIT), SNAP_BYTE(0, SNAP_FLAGS)},
		 {PIC_INIT_ICW4, 0}},
		/* Without IC4, ICW1 zeroes the ICW4 modes. */
		{{SNAP_BYTE(0, SNAP_FLAGS)}, {FLAG_AEOI}},
		{{SNAP_BYTE(0, SNAP_FLAGS)}, {FLAG_SFNM}},
	};
	uint8_t buf[512], bad[512];
	struct pic a, b;
	struct rec ra, rb;
	size_t len;

	snap_scene(&a, &ra);
	len = snap_save(&a, buf, sizeof(buf));
	setup(&b, &rb);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(bad, buf, len);
		for (unsigned int k = 0; k < 2; k++)
			if (cases[i].offset[k] || !k)
				bad[cases[i].offset[k]] = cases[i].value[k];
		ck_assert_msg(snap_load(&b, bad, len) == -EINVAL, "case %zu",
			      i);
		ck_assert_uint_eq(b.chip[0].irq_base, 0);
	}
	/* The same blob with the fields in range loads. */
	ck_assert_int_eq(snap_load(&b, buf, len), 0);
}
END_TEST

/*
 * Random corruptions: a refused blob leaves the PIC as it was; an
 * accepted one gives the state back when saved again (the slave's
 * request may latch the master's IR2, as after any operation).
 */
START_TEST(pic_snapshot_random_blobs)
{
	uint8_t buf[512], bad[512], again[512];
	struct pic a, b, before;
	struct rec ra, rb;
	uint64_t x = 0x8259a5eedull;
	unsigned int accepted = 0;
	size_t len;

	snap_scene(&a, &ra);
	len = snap_save(&a, buf, sizeof(buf));
	setup(&b, &rb);
	before = b;
	for (unsigned int i = 0; i < 5000; i++) {
		size_t n = rnd(&x) % 8 ? len : rnd(&x) % sizeof(bad);
		unsigned int flips = 1 + rnd(&x) % 4;

		memcpy(bad, buf, len);
		memset(bad + len, 0, sizeof(bad) - len);
		for (unsigned int k = 0; k < flips; k++)
			bad[rnd(&x) % len] ^= (uint8_t)(1u << rnd(&x) % 8);
		if (snap_load(&b, bad, n)) {
			ck_assert_msg(same_pic(&b, &before), "try %u", i);
			continue;
		}
		accepted++;
		ck_assert_uint_eq(snap_save(&b, again, sizeof(again)), n);
		again[SNAP_BYTE(0, 0)] = bad[SNAP_BYTE(0, 0)];
		ck_assert_msg(!memcmp(again, bad, n), "try %u", i);
		ck_assert(pic_output(&b) ==
			  (ref_pending(&b.chip[0], true) >= 0));
		before = b;
	}
	ck_assert_uint_gt(accepted, 100);
}
END_TEST

/*
 * Along a random run the PIC is copied through a snapshot into a fresh
 * one now and then; the copy answers the rest of the run exactly as the
 * original. Every state the run reaches must load.
 */
START_TEST(pic_snapshot_twin_random_run)
{
	static struct fuzz a, b;
	uint8_t buf[512];

	memset(&a, 0, sizeof(a));
	a.seed = 0x5eed8259ull;
	pic_init(&a.p, &rec_ops, &a.r);
	linux_init(&a.p, 0x01, 0x01);
	for (a.step = 0; a.step < 60000; a.step++) {
		if (a.step % 991 == 0) {
			b = a;
			pic_init(&b.p, &rec_ops, &b.r);
			ck_assert_int_eq(snap_load(&b.p, buf,
						   snap_save(&a.p, buf,
							     sizeof(buf))),
					 0);
			b.r = a.r;
		}
		fuzz_step(&a);
		fuzz_step(&b);
		if (!same_pic(&a.p, &b.p) || a.r.level != b.r.level ||
		    a.r.calls != b.r.calls)
			ck_abort_msg("step %u: the copy went its own way",
				     a.step);
	}
}
END_TEST

UNIT_SUITE("pic", pic_linux_init_sequence_vectors, pic_firmware_state_defaults,
	   pic_power_on_state_is_kvm_zero_state, pic_imr_masks_requests,
	   pic_priority_order_fully_nested, pic_nested_higher_preempts_lower,
	   pic_nonspecific_eoi_clears_highest,
	   pic_specific_eoi_clears_named_level, pic_rotate_on_nonspecific_eoi,
	   pic_rotate_on_specific_eoi, pic_set_priority_command,
	   pic_auto_eoi_sets_no_isr, pic_rotate_in_auto_eoi_mode,
	   pic_special_mask_mode, pic_special_fully_nested_mode,
	   pic_poll_master, pic_poll_slave,
	   pic_poll_with_nothing_pending_reads_zero, pic_cascade_through_ir2,
	   pic_spurious_irq7_on_master, pic_spurious_irq15_on_slave,
	   pic_edge_input_needs_rising_edge, pic_level_input_follows_line,
	   pic_elcr_forced_edge_bits, pic_level_drop_before_intack_is_spurious,
	   pic_irr_isr_register_reads, pic_output_callback_only_on_changes,
	   pic_output_stays_high_after_intack, pic_icw1_resets_chip,
	   pic_icw1_single_mode_skips_icw3,
	   pic_icw1_without_icw4_clears_icw4_modes,
	   pic_ignores_foreign_ports_and_lines,
	   pic_reset_forgets_lines_and_reports_fall, pic_random_invariants,
	   pic_snapshot_round_trip_in_service, pic_snapshot_refuses_truncated,
	   pic_snapshot_refuses_out_of_range, pic_snapshot_random_blobs,
	   pic_snapshot_twin_random_run)
