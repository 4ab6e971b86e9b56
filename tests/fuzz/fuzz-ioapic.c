// SPDX-License-Identifier: MIT
/* libFuzzer harness: IOAPIC registers, lines and EOIs against its contract. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "ioapic.h"

/*
 * Input: a configuration byte (bit 7: version 0x20, else 0x11; bits 0-6:
 * pins - 1, folded into 1..IOAPIC_MAX_PINS; 0x17 gives the usual 24), a
 * flags byte (bit 0: a defer callback, which turns the storm limiter on;
 * bit 1: one OP_STORM may run),
 * then operations, one opcode byte each followed by its operands.
 */
enum op {
	OP_MMIO_WRITE, /* offset selector, len selector, u32 value */
	OP_MMIO_READ,  /* offset selector, len selector */
	OP_SET_IRQ,    /* pin byte, level byte (bit 0) */
	OP_EOI,	       /* vector */
	OP_RETRY,      /* pin byte */
	OP_RESET,
	OP_WRITE_RTE, /* index byte, u32 value: IOREGSEL then IOWIN */
	OP_READ_RTE,  /* index byte: IOREGSEL then IOWIN */
	OP_EOI_REG,   /* vector: the v0x20 EOI register */
	OP_PULSE,     /* pin byte: line high then low, as the PIT does */
	OP_MSI,	      /* pin byte: ioapic_msi() against the entry */
	OP_STORM,     /* vector, count byte: IOAPIC_STORM_LIMIT + n EOIs */
	NR_OPS
};

/* Entry bits ioapic_msi() encodes, plus the mask: what route_changed covers. */
#define ROUTE_BITS                                                             \
	(IOAPIC_RTE_VECTOR | IOAPIC_RTE_DELMODE | IOAPIC_RTE_DESTMODE |        \
	 IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASK | IOAPIC_RTE_DEST)

struct harness {
	struct ioapic s;
	enum op op;	     /* the operation being run */
	unsigned int op_pin; /* its pin, for OP_SET_IRQ */
	bool op_rising;	     /* OP_SET_IRQ: the line went low -> high */
	/* what the glue knows: entries as of the last route_changed() */
	uint64_t route[IOAPIC_MAX_PINS];
	bool deferred[IOAPIC_MAX_PINS]; /* defer() asked, retry not done */
	unsigned int delivered[IOAPIC_MAX_PINS]; /* in this operation */
	bool storms_allowed;			 /* flags bit 1 */
	unsigned int storms;			 /* OP_STORMs run so far */
};

static unsigned int delivery_mode(uint64_t e)
{
	return (unsigned int)((e & IOAPIC_RTE_DELMODE) >>
			      IOAPIC_RTE_DELMODE_SHIFT);
}

static bool reserved_mode(uint64_t e)
{
	return delivery_mode(e) == 3 || delivery_mode(e) == 6;
}

/* Operations that may EOI: the EOI register is also a plain MMIO write. */
static bool eoi_op(enum op op)
{
	return op == OP_EOI || op == OP_EOI_REG || op == OP_MMIO_WRITE;
}

static void h_deliver(void *ctx, unsigned int pin, uint64_t entry)
{
	struct harness *h = ctx;

	FUZZ_CHECK(pin < h->s.pins);
	/* ioapic.h: never for a masked entry or a reserved mode. */
	FUZZ_CHECK(!(entry & IOAPIC_RTE_MASK));
	FUZZ_CHECK(!reserved_mode(entry));
	/* "the entry as it stands, Remote IRR already set for a level entry" */
	FUZZ_CHECK(entry == h->s.entry[pin]);
	FUZZ_CHECK(!(entry & IOAPIC_RTE_DELIVS));
	if (entry & IOAPIC_RTE_LEVEL) {
		FUZZ_CHECK(entry & IOAPIC_RTE_REMOTE_IRR);
		/* level entries deliver only while the line is asserted */
		FUZZ_CHECK(h->s.line[pin]);
	} else {
		/* an edge is only ever a low -> high change of that line */
		FUZZ_CHECK(h->op == OP_SET_IRQ || h->op == OP_PULSE);
		FUZZ_CHECK(h->op_pin == pin && h->op_rising);
	}
	/* route_changed() comes before the message its change causes */
	FUZZ_CHECK(!((h->route[pin] ^ entry) & ROUTE_BITS));
	/* one message per pin per operation, even an EOI of many pins */
	FUZZ_CHECK(++h->delivered[pin] == 1);
	h->deferred[pin] = false;
}

static void h_route_changed(void *ctx, unsigned int pin)
{
	struct harness *h = ctx;

	FUZZ_CHECK(pin < h->s.pins);
	/* called only when an encoded field or the mask really changed */
	FUZZ_CHECK((h->route[pin] ^ h->s.entry[pin]) & ROUTE_BITS);
	h->route[pin] = h->s.entry[pin];
}

static void h_eoi(void *ctx, unsigned int pin)
{
	struct harness *h = ctx;
	uint64_t e;

	FUZZ_CHECK(pin < h->s.pins);
	e = h->s.entry[pin];
	/* "An EOI cleared pin's Remote IRR": a level entry, now clear */
	FUZZ_CHECK(e & IOAPIC_RTE_LEVEL);
	FUZZ_CHECK(!(e & IOAPIC_RTE_REMOTE_IRR));
	FUZZ_CHECK(eoi_op(h->op));
}

static void h_defer(void *ctx, unsigned int pin)
{
	struct harness *h = ctx;

	FUZZ_CHECK(pin < h->s.pins);
	FUZZ_CHECK(eoi_op(h->op));
	h->deferred[pin] = true;
}

static const struct ioapic_ops ops_with_defer = {
	.deliver = h_deliver,
	.route_changed = h_route_changed,
	.eoi = h_eoi,
	.defer = h_defer,
};

static const struct ioapic_ops ops_no_defer = {
	.deliver = h_deliver,
	.route_changed = h_route_changed,
	.eoi = h_eoi,
};

/* Mostly the decoded registers, sometimes any offset in the page. */
static uint64_t pick_offset(struct fuzz_in *in)
{
	static const uint64_t offs[] = { IOAPIC_REG_SELECT,
					 IOAPIC_REG_WINDOW,
					 IOAPIC_REG_EOI,
					 0x04,
					 0x11,
					 0x20 };
	uint8_t b = fuzz_u8(in);

	if (b < 0xc0)
		return offs[b % FUZZ_ARRAY_SIZE(offs)];
	return fuzz_u16(in) & (IOAPIC_SIZE - 1);
}

static unsigned int pick_pin(struct harness *h, struct fuzz_in *in)
{
	uint8_t b = fuzz_u8(in);

	/* out-of-range pins are part of the contract ("ignored") */
	return b < 0xf0 ? b % h->s.pins : b;
}

static uint32_t width_mask(unsigned int len)
{
	return len >= 4 ? ~0u : (1u << (8 * len)) - 1;
}

/* Checks what IOWIN gave against the state, for the index selected. */
static void check_window(struct harness *h, uint32_t v)
{
	uint8_t sel = h->s.ioregsel;
	unsigned int pin;

	if (sel == IOAPIC_INDEX_VERSION) {
		FUZZ_CHECK(v == (h->s.version | (h->s.pins - 1) << 16));
		return;
	}
	if (sel == IOAPIC_INDEX_ID || sel == IOAPIC_INDEX_ARB) {
		FUZZ_CHECK(!(v & 0xf0ffffff));
		return;
	}
	if (sel < IOAPIC_INDEX_REDTBL) {
		FUZZ_CHECK(v == ~0u); /* unknown index: all ones, as KVM */
		return;
	}
	pin = (sel - IOAPIC_INDEX_REDTBL) / 2u;
	if (pin >= h->s.pins) {
		FUZZ_CHECK(v == ~0u);
		return;
	}
	FUZZ_CHECK(v ==
		   (uint32_t)(ioapic_entry(&h->s, pin) >> (sel & 1 ? 32 : 0)));
	if (!(sel & 1))
		FUZZ_CHECK(!(v & IOAPIC_RTE_DELIVS));
}

static void do_read(struct harness *h, uint64_t off, unsigned int len)
{
	uint32_t v = ioapic_mmio_read(&h->s, off, len);

	/* "Returns the value, truncated to len bytes." */
	FUZZ_CHECK(!(v & ~width_mask(len)));
	if (off == IOAPIC_REG_SELECT &&
	    (len == 1 || len == 2 || len == 4 || len == 8))
		FUZZ_CHECK(v == (h->s.ioregsel & width_mask(len)));
	else if (off == IOAPIC_REG_WINDOW && len == 4)
		check_window(h, v);
	else
		FUZZ_CHECK(v == width_mask(len));
}

/*
 * ioapic.h / Intel SDM vol. 3, 10.11.1-2: destination in address bits
 * 19:12, DM in bit 2, RH for lowest priority; data holds vector, delivery
 * mode and, for level entries, trigger and assert. The mask is not
 * encoded, and an out-of-range pin leaves ret alone.
 */
static void check_msi(struct harness *h, unsigned int pin)
{
	struct ioapic_msi m = { 0x1234, 0x5678 };
	uint64_t e, want_addr;
	uint32_t want_data;

	if (!ioapic_msi(&h->s, pin, &m)) {
		FUZZ_CHECK(pin >= h->s.pins);
		FUZZ_CHECK(m.address == 0x1234 && m.data == 0x5678);
		return;
	}
	FUZZ_CHECK(pin < h->s.pins);
	e = h->s.entry[pin];
	want_addr = 0xfee00000ull | ((e >> IOAPIC_RTE_DEST_SHIFT) & 0xff) << 12;
	if (e & IOAPIC_RTE_DESTMODE)
		want_addr |= 1ull << 2;
	if (delivery_mode(e) == IOAPIC_DM_LOWEST)
		want_addr |= 1ull << 3;
	want_data = (uint32_t)(e & (IOAPIC_RTE_VECTOR | IOAPIC_RTE_DELMODE));
	if (e & IOAPIC_RTE_LEVEL)
		want_data |= 3u << 14;
	FUZZ_CHECK(m.address == want_addr);
	FUZZ_CHECK(m.data == want_data);
}

/*
 * A guest that EOIs without quieting its device: enough EOIs in a row for
 * the storm limiter (IOAPIC_STORM_LIMIT) to step in, each checked as its
 * own operation (one message per pin per EOI).
 */
static void eoi_storm(struct harness *h, uint8_t vector, unsigned int extra)
{
	for (unsigned int i = 0; i < IOAPIC_STORM_LIMIT + extra; i++) {
		memset(h->delivered, 0, sizeof(h->delivered));
		ioapic_eoi(&h->s, vector);
	}
}

/*
 * After every operation: the glue's routes are current, Remote IRR exists
 * only on level entries, and no level pin is left owed a message (line
 * high, unmasked, Remote IRR clear) unless the storm limiter deferred it
 * or its delivery mode is reserved, which is documented to send nothing.
 */
static void check_state(struct harness *h)
{
	for (unsigned int pin = 0; pin < h->s.pins; pin++) {
		uint64_t e = h->s.entry[pin];

		FUZZ_CHECK(!((h->route[pin] ^ e) & ROUTE_BITS));
		FUZZ_CHECK(!(e & IOAPIC_RTE_DELIVS));
		if (!(e & IOAPIC_RTE_LEVEL)) {
			FUZZ_CHECK(!(e & IOAPIC_RTE_REMOTE_IRR));
			continue;
		}
		if (h->s.line[pin] &&
		    !(e & (IOAPIC_RTE_MASK | IOAPIC_RTE_REMOTE_IRR)) &&
		    !reserved_mode(e))
			FUZZ_CHECK(h->deferred[pin]);
	}
	for (unsigned int pin = h->s.pins; pin < IOAPIC_MAX_PINS; pin++)
		FUZZ_CHECK(ioapic_entry(&h->s, pin) == ~0ull);
}

static void run_op(struct harness *h, struct fuzz_in *in)
{
	uint64_t off;
	unsigned int len, pin;
	uint8_t idx;
	uint32_t val;
	bool level;

	h->op = (enum op)(fuzz_u8(in) % NR_OPS);
	h->op_rising = false;
	memset(h->delivered, 0, sizeof(h->delivered));
	switch (h->op) {
	case OP_MMIO_WRITE:
		off = pick_offset(in);
		len = fuzz_len(in);
		ioapic_mmio_write(&h->s, off, len, fuzz_u32(in));
		break;
	case OP_MMIO_READ:
		off = pick_offset(in);
		len = fuzz_len(in);
		do_read(h, off, len);
		break;
	case OP_SET_IRQ:
		pin = pick_pin(h, in);
		level = fuzz_u8(in) & 1;
		h->op_pin = pin;
		h->op_rising = pin < h->s.pins && level && !h->s.line[pin];
		ioapic_set_irq(&h->s, pin, level);
		if (pin < h->s.pins)
			FUZZ_CHECK(h->s.line[pin] == level);
		break;
	case OP_PULSE:
		pin = pick_pin(h, in);
		h->op_pin = pin;
		h->op_rising = pin < h->s.pins && !h->s.line[pin];
		ioapic_set_irq(&h->s, pin, true);
		h->op_rising = false;
		ioapic_set_irq(&h->s, pin, false);
		break;
	case OP_EOI:
		ioapic_eoi(&h->s, fuzz_u8(in));
		break;
	case OP_EOI_REG:
		ioapic_mmio_write(&h->s, IOAPIC_REG_EOI, 4, fuzz_u8(in));
		break;
	case OP_RETRY:
		pin = pick_pin(h, in);
		ioapic_retry(&h->s, pin);
		if (pin < h->s.pins)
			h->deferred[pin] = false;
		break;
	case OP_RESET:
		ioapic_reset(&h->s);
		FUZZ_CHECK(h->s.ioregsel == 0 && h->s.id == 0);
		for (pin = 0; pin < h->s.pins; pin++) {
			FUZZ_CHECK(h->s.entry[pin] == IOAPIC_RTE_RESET);
			h->deferred[pin] = false;
		}
		break;
	case OP_WRITE_RTE:
		idx = fuzz_u8(in);
		val = fuzz_u32(in);
		ioapic_mmio_write(&h->s, IOAPIC_REG_SELECT, 1, idx);
		ioapic_mmio_write(&h->s, IOAPIC_REG_WINDOW, 4, val);
		break;
	case OP_READ_RTE:
		ioapic_mmio_write(&h->s, IOAPIC_REG_SELECT, 1, fuzz_u8(in));
		do_read(h, IOAPIC_REG_WINDOW, 4);
		break;
	case OP_MSI:
		check_msi(h, pick_pin(h, in));
		break;
	case OP_STORM:
		idx = fuzz_u8(in);
		len = fuzz_u8(in) % 4;
		/*
		 * 10000 EOIs take milliseconds: only inputs that ask for
		 * storms (flags bit 1) get one, so the rest stay fast.
		 */
		if (!h->storms_allowed || h->storms++)
			break;
		h->op = OP_EOI;
		eoi_storm(h, idx, len);
		break;
	case NR_OPS:
		break;
	}
	check_state(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct harness h;
	struct fuzz_in in;
	uint8_t cfg, flags;
	unsigned int pins;

	fuzz_in_init(&in, data, size);
	cfg = fuzz_u8(&in);
	flags = fuzz_u8(&in);
	pins = (cfg & 0x7f) % IOAPIC_MAX_PINS + 1;
	memset(&h, 0, sizeof(h));
	h.storms_allowed = flags & 2;
	FUZZ_CHECK(ioapic_init(&h.s, pins,
			       cfg & 0x80 ? IOAPIC_VERSION_EOI
					  : IOAPIC_VERSION_82093AA,
			       flags & 1 ? &ops_with_defer : &ops_no_defer,
			       &h) == 0);
	/* "No callback is made: the caller builds the initial routes." */
	for (unsigned int pin = 0; pin < pins; pin++)
		h.route[pin] = h.s.entry[pin];
	while (fuzz_more(&in))
		run_op(&h, &in);
	return 0;
}
