// SPDX-License-Identifier: MIT
/* The 82093AA IOAPIC as a pure state machine: registers, lines, Remote IRR. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "ioapic.h"

/* Entry bits that ioapic_msi() encodes, plus the mask (see route_changed). */
#define ROUTE_BITS                                                             \
	(IOAPIC_RTE_VECTOR | IOAPIC_RTE_DELMODE | IOAPIC_RTE_DESTMODE |        \
	 IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASK | IOAPIC_RTE_DEST)

/* 82093AA 3.2.4: Delivery Status and Remote IRR are read-only. */
#define RO_BITS (IOAPIC_RTE_DELIVS | IOAPIC_RTE_REMOTE_IRR)

#define MSI_ADDR_BASE 0xfee00000ull
#define MSI_ADDR_DEST_SHIFT 12
#define MSI_ADDR_RH (1ull << 3)
#define MSI_ADDR_DM_LOGICAL (1ull << 2)
#define MSI_DATA_LEVEL_ASSERT (1u << 14)
#define MSI_DATA_TRIGGER_LEVEL (1u << 15)

static const struct ioapic_ops no_ops;

static unsigned int delivery_mode(uint64_t e)
{
	return (unsigned int)((e & IOAPIC_RTE_DELMODE) >>
			      IOAPIC_RTE_DELMODE_SHIFT);
}

/*
 * Delivery modes 011 and 110 are reserved (82093AA 3.2.4): nothing is
 * sent and Remote IRR stays clear. KVM's LAPIC would take them as its
 * PV-unhalt kick (011) and as a SIPI (110); a guest must not get a SIPI
 * out of an IOAPIC pin, so we deliberately differ there.
 */
static bool mode_deliverable(uint64_t e)
{
	unsigned int dm = delivery_mode(e);

	return dm != 3 && dm != 6;
}

/*
 * A level pin is owed a message while its line is asserted, it is
 * unmasked and no earlier message awaits its EOI (Remote IRR clear).
 */
static bool level_owed(const struct ioapic *s, unsigned int pin)
{
	uint64_t e = s->entry[pin];

	return (e & IOAPIC_RTE_LEVEL) && s->line[pin] &&
	       !(e & (IOAPIC_RTE_MASK | IOAPIC_RTE_REMOTE_IRR));
}

/*
 * Sends pin's message; the caller has checked that the entry is unmasked.
 * Delivery Status never shows "send pending": the message leaves at once.
 * A level message sets Remote IRR, as when the local APIC accepts it
 * (3.2.4); KVM only sets it when some LAPIC took the message, which the
 * glue cannot tell us, so we set it always, as QEMU in split mode does.
 * That holds for SMI, NMI, INIT and ExtINT too, which "require" edge
 * (3.2.4): programmed level, their Remote IRR stays set until an EOI of
 * their vector field or an edge-flip, as in KVM for NMI, SMI and INIT.
 */
static void ioapic_send(struct ioapic *s, unsigned int pin)
{
	uint64_t e = s->entry[pin];

	if (!mode_deliverable(e)) {
		s->stats[pin].dropped++;
		return;
	}
	if (e & IOAPIC_RTE_LEVEL)
		e |= IOAPIC_RTE_REMOTE_IRR;
	s->entry[pin] = e;
	s->stats[pin].deliveries++;
	if (s->ops->deliver)
		s->ops->deliver(s->ctx, pin, e);
}

static void ioapic_route_changed(struct ioapic *s, unsigned int pin,
				 uint64_t old)
{
	if (((old ^ s->entry[pin]) & ROUTE_BITS) && s->ops->route_changed)
		s->ops->route_changed(s->ctx, pin);
}

int ioapic_init(struct ioapic *s, unsigned int pins, uint8_t version,
		const struct ioapic_ops *ops, void *ctx)
{
	if (!s || pins < 1 || pins > IOAPIC_MAX_PINS)
		return -EINVAL;
	if (version != IOAPIC_VERSION_82093AA && version != IOAPIC_VERSION_EOI)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->ops = ops ? ops : &no_ops;
	s->ctx = ctx;
	s->pins = pins;
	s->version = version;
	for (unsigned int pin = 0; pin < pins; pin++)
		s->entry[pin] = IOAPIC_RTE_RESET;
	return 0;
}

/* 82093AA 3.2: IOAPICID 00h, IOREDTBL xxx1 xxxx xxxx xxxxh (masked). */
void ioapic_reset(struct ioapic *s)
{
	s->id = 0;
	s->ioregsel = 0;
	for (unsigned int pin = 0; pin < s->pins; pin++) {
		uint64_t old = s->entry[pin];

		s->entry[pin] = IOAPIC_RTE_RESET;
		s->line[pin] = false;
		s->eoi_storm[pin] = 0;
		ioapic_route_changed(s, pin, old);
	}
}

/*
 * A level input is sampled, not latched: while Remote IRR is set the
 * assertion is merged into the message already sent, and a masked one is
 * seen again when the entry is unmasked (82093AA 3.2.4, Remote IRR and
 * Mask; KVM and QEMU re-check the line on unmask).
 */
static void ioapic_assert_level(struct ioapic *s, unsigned int pin)
{
	uint64_t e = s->entry[pin];

	if (e & IOAPIC_RTE_MASK)
		s->stats[pin].masked++;
	else if (e & IOAPIC_RTE_REMOTE_IRR)
		s->stats[pin].coalesced++;
	else
		ioapic_send(s, pin);
}

/*
 * Only a low -> high transition is an edge: asserting a line that is
 * already high sends nothing (KVM counts it as coalesced; QEMU would send
 * again). An edge on a masked pin is "not delivered or held pending"
 * (82093AA 3.2.4, Mask); KVM agrees: unmasking never sends an edge.
 */
static void ioapic_assert_edge(struct ioapic *s, unsigned int pin, bool was)
{
	if (was)
		s->stats[pin].coalesced++;
	else if (s->entry[pin] & IOAPIC_RTE_MASK)
		s->stats[pin].masked++;
	else
		ioapic_send(s, pin);
}

/*
 * The line level is tracked whatever the trigger mode (as KVM's irr), so
 * that an entry switched from edge to level with its line high is served
 * at once. Polarity is not modelled: level is "asserted", as KVM and QEMU
 * treat it; the INTPOL bit is only stored.
 */
void ioapic_set_irq(struct ioapic *s, unsigned int pin, bool level)
{
	bool was;

	if (pin >= s->pins)
		return;
	was = s->line[pin];
	s->line[pin] = level;
	if (!level) {
		s->eoi_storm[pin] = 0;
		return;
	}
	if (!was)
		s->stats[pin].asserts++;
	if (s->entry[pin] & IOAPIC_RTE_LEVEL)
		ioapic_assert_level(s, pin);
	else
		ioapic_assert_edge(s, pin, was);
}

/*
 * After an EOI a still-asserted level line is sent again. A guest that
 * never quiets its device would then take interrupts back to back; like
 * KVM and QEMU, every IOAPIC_STORM_LIMIT-th such EOI in a row defers the
 * message, which lets the guest make (slow) progress as on hardware,
 * where re-delivery is not instantaneous.
 */
static void ioapic_eoi_redeliver(struct ioapic *s, unsigned int pin)
{
	if (!level_owed(s, pin)) {
		s->eoi_storm[pin] = 0;
		return;
	}
	if (s->ops->defer && ++s->eoi_storm[pin] >= IOAPIC_STORM_LIMIT) {
		s->eoi_storm[pin] = 0;
		s->stats[pin].deferred++;
		s->ops->defer(s->ctx, pin);
		return;
	}
	ioapic_send(s, pin);
}

/*
 * "The Remote IRR bit is set to 0 when an EOI message with a matching
 * interrupt vector is received from a local APIC" (82093AA 3.2.4). Every
 * pin with that vector is affected, as in KVM and QEMU.
 */
void ioapic_eoi(struct ioapic *s, uint8_t vector)
{
	for (unsigned int pin = 0; pin < s->pins; pin++) {
		uint64_t e = s->entry[pin];

		if ((e & IOAPIC_RTE_VECTOR) != vector ||
		    !(e & IOAPIC_RTE_LEVEL) || !(e & IOAPIC_RTE_REMOTE_IRR))
			continue;
		s->entry[pin] = e & ~IOAPIC_RTE_REMOTE_IRR;
		s->stats[pin].eois++;
		if (s->ops->eoi)
			s->ops->eoi(s->ctx, pin);
		ioapic_eoi_redeliver(s, pin);
	}
}

/* The storm limiter's delayed message, as KVM's eoi_inject work. */
void ioapic_retry(struct ioapic *s, unsigned int pin)
{
	if (pin < s->pins && level_owed(s, pin))
		ioapic_send(s, pin);
}

/*
 * Intel SDM vol. 3, 10.11.1/10.11.2: destination in address bits 19:12,
 * DM in bit 2, RH in bit 3 (set for lowest priority, as Linux does for
 * its MSIs); data carries vector, delivery mode and trigger, and a level
 * message is an assert (bit 14). Data bit 15 is what makes KVM exit on
 * the EOI of that vector in split mode.
 */
bool ioapic_msi(const struct ioapic *s, unsigned int pin,
		struct ioapic_msi *ret)
{
	uint64_t e, dest;
	unsigned int dm;

	if (pin >= s->pins)
		return false;
	e = s->entry[pin];
	dm = delivery_mode(e);
	dest = (e & IOAPIC_RTE_DEST) >> IOAPIC_RTE_DEST_SHIFT;
	ret->address = MSI_ADDR_BASE | dest << MSI_ADDR_DEST_SHIFT;
	if (e & IOAPIC_RTE_DESTMODE)
		ret->address |= MSI_ADDR_DM_LOGICAL;
	if (dm == IOAPIC_DM_LOWEST)
		ret->address |= MSI_ADDR_RH;
	ret->data =
	    (uint32_t)(e & IOAPIC_RTE_VECTOR) | dm << IOAPIC_RTE_DELMODE_SHIFT;
	if (e & IOAPIC_RTE_LEVEL)
		ret->data |= MSI_DATA_TRIGGER_LEVEL | MSI_DATA_LEVEL_ASSERT;
	return true;
}

uint64_t ioapic_entry(const struct ioapic *s, unsigned int pin)
{
	return pin < s->pins ? s->entry[pin] : ~0ull;
}

/* The pin selected by IOREGSEL, or -1 if it names no redirection entry. */
static int ioapic_selected_pin(const struct ioapic *s)
{
	unsigned int pin;

	if (s->ioregsel < IOAPIC_INDEX_REDTBL)
		return -1;
	pin = (s->ioregsel - IOAPIC_INDEX_REDTBL) / 2u;
	return pin < s->pins ? (int)pin : -1;
}

/*
 * 82093AA 3.2.1-3.2.3. The arbitration ID is loaded from the ID on every
 * ID write and then rotates on the APIC bus, which does not exist here:
 * it reads as the ID, as in KVM and QEMU. Unknown indexes read all ones,
 * as in KVM (QEMU reads 0).
 */
static uint32_t ioapic_read_index(struct ioapic *s)
{
	int pin;

	switch (s->ioregsel) {
	case IOAPIC_INDEX_ID:
	case IOAPIC_INDEX_ARB:
		return (uint32_t)s->id << 24;
	case IOAPIC_INDEX_VERSION:
		return s->version | (s->pins - 1) << 16;
	}
	pin = ioapic_selected_pin(s);
	if (pin < 0) {
		s->ignored++;
		return ~0u;
	}
	if (s->ioregsel & 1)
		return (uint32_t)(s->entry[pin] >> 32);
	return (uint32_t)s->entry[pin];
}

/*
 * A guest write of one dword of an entry. Read-only bits keep their value.
 * Some OSes (Linux without an EOI register, Xen) clear a stuck Remote IRR
 * by switching the entry to edge and back to level: Remote IRR "is
 * undefined for edge triggered interrupts" (3.2.4), and KVM and QEMU
 * clear it whenever the entry is edge, so do we. Any write may leave a
 * level pin owed a message (unmask, edge -> level with the line high):
 * send it, as KVM and QEMU do.
 */
static void ioapic_write_entry(struct ioapic *s, unsigned int pin, bool high,
			       uint32_t val)
{
	uint64_t old = s->entry[pin], e;

	if (high)
		e = (old & 0xffffffffull) | (uint64_t)val << 32;
	else
		e = (old & ~0xffffffffull) | val;
	e = (e & ~RO_BITS) | (old & IOAPIC_RTE_REMOTE_IRR);
	if (!(e & IOAPIC_RTE_LEVEL))
		e &= ~IOAPIC_RTE_REMOTE_IRR;
	s->entry[pin] = e;
	ioapic_route_changed(s, pin, old);
	if (level_owed(s, pin))
		ioapic_send(s, pin);
}

/* 82093AA 3.2.1: only the 4-bit ID (27:24) is writable; VER/ARB are RO. */
static void ioapic_write_index(struct ioapic *s, uint32_t val)
{
	int pin;

	switch (s->ioregsel) {
	case IOAPIC_INDEX_ID:
		s->id = (val >> 24) & 0xf;
		return;
	case IOAPIC_INDEX_VERSION:
	case IOAPIC_INDEX_ARB:
		return;
	}
	pin = ioapic_selected_pin(s);
	if (pin < 0) {
		s->ignored++;
		return;
	}
	ioapic_write_entry(s, (unsigned int)pin, s->ioregsel & 1, val);
}

static bool size_valid(unsigned int len)
{
	return len == 1 || len == 2 || len == 4 || len == 8;
}

static uint32_t width_mask(unsigned int len)
{
	return len >= 4 ? ~0u : (1u << (8 * len)) - 1;
}

/*
 * 82093AA 3.0: IOREGSEL is loaded by a byte write (bits 7:0, 3.1.1), so it
 * takes any size, as in KVM and QEMU; IOWIN "must be accessed as a Dword
 * quantity" (KVM also takes 1, 2 and 8 bytes, QEMU drops them: we follow
 * the datasheet and QEMU). Other offsets are not decoded by us (KVM and
 * QEMU alias every 256 bytes and read 0; the house rule is all ones).
 */
uint32_t ioapic_mmio_read(struct ioapic *s, uint64_t offset, unsigned int len)
{
	if (offset == IOAPIC_REG_SELECT && size_valid(len))
		return s->ioregsel & width_mask(len);
	if (offset == IOAPIC_REG_WINDOW && len == 4)
		return ioapic_read_index(s);
	s->ignored++;
	return width_mask(len);
}

/*
 * The EOI register (I/OxAPIC, version 0x20) takes a vector in bits 7:0
 * and acts as an EOI message for it; the 82093AA (0x11) has none, so
 * the offset is unclaimed there, as in QEMU.
 */
void ioapic_mmio_write(struct ioapic *s, uint64_t offset, unsigned int len,
		       uint32_t val)
{
	if (offset == IOAPIC_REG_SELECT && size_valid(len))
		s->ioregsel = (uint8_t)val;
	else if (offset == IOAPIC_REG_WINDOW && len == 4)
		ioapic_write_index(s, val);
	else if (offset == IOAPIC_REG_EOI && len == 4 &&
		 s->version == IOAPIC_VERSION_EOI)
		ioapic_eoi(s, (uint8_t)val);
	else
		s->ignored++;
}

bool ioapic_owed(const struct ioapic *s, unsigned int pin)
{
	return pin < s->pins && level_owed(s, pin) &&
	       mode_deliverable(s->entry[pin]);
}

/* ---- Snapshots ------------------------------------------------------- */

static void save_stats(const struct ioapic_pin_stats *st,
		       struct blob_writer *w)
{
	blob_put_u64(w, st->asserts);
	blob_put_u64(w, st->deliveries);
	blob_put_u64(w, st->eois);
	blob_put_u64(w, st->coalesced);
	blob_put_u64(w, st->deferred);
	blob_put_u64(w, st->masked);
	blob_put_u64(w, st->dropped);
}

/*
 * Layout: version, pins, ID, IOREGSEL, 4 reserved bytes, the ignored
 * count; then per pin the entry, the line, 3 reserved bytes, the storm
 * count and the 7 statistics (72 bytes).
 */
void ioapic_save(const struct ioapic *s, struct blob_writer *w)
{
	blob_put_u8(w, s->version);
	blob_put_u8(w, (uint8_t)s->pins);
	blob_put_u8(w, s->id);
	blob_put_u8(w, s->ioregsel);
	blob_put_zero(w, 4);
	blob_put_u64(w, s->ignored);
	for (unsigned int pin = 0; pin < s->pins; pin++) {
		blob_put_u64(w, s->entry[pin]);
		blob_put_u8(w, s->line[pin]);
		blob_put_zero(w, 3);
		blob_put_u32(w, s->eoi_storm[pin]);
		save_stats(&s->stats[pin], w);
	}
}

static void load_stats(struct ioapic_pin_stats *st, struct blob_reader *r)
{
	st->asserts = blob_get_u64(r);
	st->deliveries = blob_get_u64(r);
	st->eois = blob_get_u64(r);
	st->coalesced = blob_get_u64(r);
	st->deferred = blob_get_u64(r);
	st->masked = blob_get_u64(r);
	st->dropped = blob_get_u64(r);
}

/*
 * An entry this chip could hold: Delivery Status is never set (messages
 * leave at once), and Remote IRR only on a level entry (an edge entry
 * clears it, see ioapic_write_entry()). Reserved bits and delivery modes
 * are the guest's to write (82093AA 3.2.4).
 */
static bool entry_valid(uint64_t e)
{
	if (e & IOAPIC_RTE_DELIVS)
		return false;
	return !(e & IOAPIC_RTE_REMOTE_IRR) || (e & IOAPIC_RTE_LEVEL);
}

/* One pin into t; the storm count only grows while the line is high. */
static void load_pin(struct ioapic *t, unsigned int pin, struct blob_reader *r)
{
	t->entry[pin] = blob_get_u64(r);
	t->line[pin] = blob_get_bool(r);
	blob_get_zero(r, 3);
	t->eoi_storm[pin] = blob_get_u32(r);
	load_stats(&t->stats[pin], r);
	blob_check(r, entry_valid(t->entry[pin]));
	blob_check(r, t->eoi_storm[pin] < IOAPIC_STORM_LIMIT);
	blob_check(r, t->line[pin] || !t->eoi_storm[pin]);
}

int ioapic_load(struct ioapic *s, struct blob_reader *r)
{
	struct ioapic t = *s;

	blob_check(r, blob_get_u8(r) == s->version);
	blob_check(r, blob_get_u8(r) == s->pins);
	t.id = blob_get_u8(r);
	t.ioregsel = blob_get_u8(r);
	blob_get_zero(r, 4);
	t.ignored = blob_get_u64(r);
	blob_check(r, t.id <= 0xf); /* IOAPICID bits 27:24 (3.2.1) */
	for (unsigned int pin = 0; pin < s->pins && !r->bad; pin++)
		load_pin(&t, pin, r);
	if (r->bad)
		return -EINVAL;
	*s = t;
	return 0;
}
