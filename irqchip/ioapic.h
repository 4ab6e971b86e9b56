/* SPDX-License-Identifier: MIT */
/* The 82093AA IOAPIC as a pure state machine: registers, lines, Remote IRR. */
#ifndef SPLITVM_IOAPIC_H
#define SPLITVM_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "blob.h"

#define IOAPIC_BASE 0xfec00000ull
#define IOAPIC_SIZE 0x1000
#define IOAPIC_MAX_PINS 120 /* version register bits 23:16 hold pins-1 */
#define IOAPIC_DEFAULT_PINS 24

/* Versions: 0x11 is the 82093AA (KVM's in-kernel one), 0x20 adds EOI. */
#define IOAPIC_VERSION_82093AA 0x11
#define IOAPIC_VERSION_EOI 0x20

/* MMIO offsets (82093AA 3.1; the EOI register is the I/OxAPIC's, v0x20). */
#define IOAPIC_REG_SELECT 0x00
#define IOAPIC_REG_WINDOW 0x10
#define IOAPIC_REG_EOI 0x40

/* Indirect register indexes (82093AA 3.2). */
#define IOAPIC_INDEX_ID 0x00
#define IOAPIC_INDEX_VERSION 0x01
#define IOAPIC_INDEX_ARB 0x02
#define IOAPIC_INDEX_REDTBL 0x10 /* + 2 * pin (low), + 1 (high) */

/* Redirection entry fields (82093AA 3.2.4). */
#define IOAPIC_RTE_VECTOR 0xffull
#define IOAPIC_RTE_DELMODE_SHIFT 8
#define IOAPIC_RTE_DELMODE (7ull << IOAPIC_RTE_DELMODE_SHIFT)
#define IOAPIC_RTE_DESTMODE (1ull << 11)   /* 1: logical */
#define IOAPIC_RTE_DELIVS (1ull << 12)	   /* read-only, always 0 here */
#define IOAPIC_RTE_POLARITY (1ull << 13)   /* 1: low active */
#define IOAPIC_RTE_REMOTE_IRR (1ull << 14) /* read-only */
#define IOAPIC_RTE_LEVEL (1ull << 15)	   /* trigger mode, 1: level */
#define IOAPIC_RTE_MASK (1ull << 16)
#define IOAPIC_RTE_DEST_SHIFT 56
#define IOAPIC_RTE_DEST (0xffull << IOAPIC_RTE_DEST_SHIFT)
#define IOAPIC_RTE_RESET IOAPIC_RTE_MASK

/* Delivery modes (bits 10:8); 3 and 6 are reserved. */
#define IOAPIC_DM_FIXED 0
#define IOAPIC_DM_LOWEST 1
#define IOAPIC_DM_SMI 2
#define IOAPIC_DM_NMI 4
#define IOAPIC_DM_INIT 5
#define IOAPIC_DM_EXTINT 7

/*
 * The Nth EOI in a row that finds a level line still asserted is not
 * re-delivered at once but handed to ops->defer (KVM and QEMU use 10000
 * and a 10 ms delay).
 */
#define IOAPIC_STORM_LIMIT 10000

/* What entry i becomes as an MSI (Intel SDM vol. 3, 10.11.1 and 10.11.2). */
struct ioapic_msi {
	uint64_t address;
	uint32_t data;
};

/*
 * The chip's outputs, called synchronously from inside the ioapic_*()
 * functions, so under whatever lock the caller serializes them with. A
 * callback must not call back into the chip. Every member may be NULL.
 */
struct ioapic_ops {
	/*
	 * An interrupt message for pin must be sent now, per entry (the
	 * entry as it stands, Remote IRR already set for a level entry).
	 * Called for delivery modes fixed, lowest priority, SMI, NMI, INIT
	 * and ExtINT; never for a masked entry or a reserved mode. ExtINT
	 * means "the 8259A has an interrupt": KVM's LAPIC ignores ExtINT
	 * MSIs, so it has to go the PIC's way (KVM_INTERRUPT), not the GSI.
	 */
	void (*deliver)(void *ctx, unsigned int pin, uint64_t entry);
	/*
	 * Entry pin changed a field that ioapic_msi() encodes (vector,
	 * delivery mode, destination mode, destination, trigger) or its
	 * mask bit. Called before any deliver() the same change causes.
	 */
	void (*route_changed)(void *ctx, unsigned int pin);
	/*
	 * An EOI cleared pin's Remote IRR: a level device may resample.
	 * Called before the re-delivery (if any) of that EOI.
	 */
	void (*eoi)(void *ctx, unsigned int pin);
	/*
	 * The storm limiter wants ioapic_retry(pin) called after a short
	 * delay (10 ms as KVM and QEMU) instead of a re-delivery now. With
	 * no defer callback the limiter is off.
	 */
	void (*defer)(void *ctx, unsigned int pin);
};

/* Host-side counters per pin; ioapic_reset() keeps them. */
struct ioapic_pin_stats {
	uint64_t asserts;    /* line transitions low -> high */
	uint64_t deliveries; /* deliver() calls */
	uint64_t eois;	     /* eoi() calls (Remote IRR cleared by EOI) */
	uint64_t coalesced;  /* asserts merged into an outstanding one */
	uint64_t deferred;   /* defer() calls */
	uint64_t masked;     /* asserts that found the entry masked */
	uint64_t dropped;    /* messages not sent: reserved delivery mode */
};

/* One chip's whole state. No lock: the caller serializes every call. */
struct ioapic {
	const struct ioapic_ops *ops;
	void *ctx;
	unsigned int pins;
	uint8_t version;
	uint8_t id; /* IOAPICID bits 27:24 */
	uint8_t ioregsel;
	uint64_t entry[IOAPIC_MAX_PINS];
	bool line[IOAPIC_MAX_PINS];	     /* input asserted */
	uint32_t eoi_storm[IOAPIC_MAX_PINS]; /* EOIs in a row, line high */
	uint64_t ignored; /* guest accesses ignored: offset, size, index */
	struct ioapic_pin_stats stats[IOAPIC_MAX_PINS];
};

/**
 * ioapic_init() - sets up an IOAPIC in its reset state.
 * @s: the chip (caller-allocated; fully overwritten).
 * @pins: number of input pins, 1..IOAPIC_MAX_PINS (24 on the 82093AA).
 * @version: 0x11 (82093AA, no EOI register) or 0x20 (EOI register).
 * @ops: the outputs (kept by reference; may be NULL for none).
 * @ctx: passed to every callback.
 *
 * No callback is made: the caller builds the initial routes itself.
 *
 * Returns 0, or -EINVAL (s NULL, pins or version out of range).
 */
int ioapic_init(struct ioapic *s, unsigned int pins, uint8_t version,
		const struct ioapic_ops *ops, void *ctx);

/**
 * ioapic_reset() - puts the chip in its power-on state.
 * @s: the chip.
 *
 * All entries 0x10000 (masked), ID 0, IOREGSEL 0, all lines low, no
 * Remote IRR, storm counters cleared; statistics are kept. Calls
 * route_changed() for every pin whose route or mask changed. Devices
 * whose lines are still asserted must set them again.
 */
void ioapic_reset(struct ioapic *s);

/**
 * ioapic_mmio_read() - a guest read in the IOAPIC's MMIO window.
 * @s: the chip.
 * @offset: from IOAPIC_BASE.
 * @len: access size in bytes.
 *
 * IOREGSEL (+0x00) reads with any size 1, 2, 4 or 8; IOWIN (+0x10) only
 * as a dword (82093AA 3.0). Any other access reads all ones and counts
 * in s->ignored (the EOI register is write-only), as does an IOWIN read
 * of an unknown register index (all ones too, as in KVM).
 *
 * Returns the value, truncated to len bytes.
 */
uint32_t ioapic_mmio_read(struct ioapic *s, uint64_t offset, unsigned int len);

/**
 * ioapic_mmio_write() - a guest write in the IOAPIC's MMIO window.
 * @s: the chip.
 * @offset: from IOAPIC_BASE.
 * @len: access size in bytes.
 * @val: the value (its low len bytes count).
 *
 * IOREGSEL takes any size 1, 2, 4 or 8 (bits 7:0 count); IOWIN and, on
 * version 0x20, the EOI register (+0x40) only dwords. Any other access
 * does nothing but count in s->ignored. May call any callback.
 */
void ioapic_mmio_write(struct ioapic *s, uint64_t offset, unsigned int len,
		       uint32_t val);

/**
 * ioapic_set_irq() - sets the level of an input line.
 * @s: the chip.
 * @pin: the pin; out of range is ignored.
 * @level: true when the device asserts it, whatever the entry's
 *	   polarity bit says (polarity is not modelled, as in KVM/QEMU).
 *
 * Edge entries deliver on low -> high only; level entries deliver while
 * the line is asserted, unmasked and Remote IRR is clear.
 */
void ioapic_set_irq(struct ioapic *s, unsigned int pin, bool level);

/**
 * ioapic_eoi() - an EOI for vector from a local APIC.
 * @s: the chip.
 * @vector: the vector EOIed (KVM_EXIT_IOAPIC_EOI, or the EOI register).
 *
 * Every level entry with this vector and Remote IRR set gets Remote IRR
 * cleared, eoi() called, and is re-delivered if its line is still
 * asserted and it is unmasked (or deferred by the storm limiter).
 */
void ioapic_eoi(struct ioapic *s, uint8_t vector);

/**
 * ioapic_retry() - the deferred re-delivery asked for by ops->defer.
 * @s: the chip.
 * @pin: the pin; out of range is ignored.
 *
 * Delivers if the pin is still owed a message: level entry, line
 * asserted, unmasked and Remote IRR clear. Otherwise does nothing.
 */
void ioapic_retry(struct ioapic *s, unsigned int pin);

/**
 * ioapic_msi() - the MSI that pin's entry stands for, for its GSI route.
 * @s: the chip.
 * @pin: the pin.
 * @ret: receives the message.
 *
 * The mask bit is not encoded: masked entries still get a route, and
 * the glue should keep it installed so EOIs of an in-service level
 * vector still exit. Reserved bits 55:17 are ignored (8-bit destination
 * as KVM's in-kernel IOAPIC).
 *
 * Returns false if pin is out of range (ret untouched).
 */
bool ioapic_msi(const struct ioapic *s, unsigned int pin,
		struct ioapic_msi *ret);

/**
 * ioapic_entry() - redirection entry pin as the guest reads it.
 * @s: the chip.
 * @pin: the pin.
 *
 * Returns the entry, or all ones if pin is out of range.
 */
uint64_t ioapic_entry(const struct ioapic *s, unsigned int pin);

/**
 * ioapic_owed() - whether pin is owed a message it has not been sent.
 * @s: the chip.
 * @pin: the pin; out of range is never owed.
 *
 * A level entry, unmasked, in a delivery mode that sends, whose line is
 * asserted and whose Remote IRR is clear. The chip never leaves such a
 * pin behind, except when the storm limiter deferred it: after a load
 * the glue retries the pins it did not defer itself.
 */
bool ioapic_owed(const struct ioapic *s, unsigned int pin);

/**
 * ioapic_save() - appends the chip's state to a snapshot.
 * @s: the chip.
 * @w: the writer (a writer with cap 0 measures the size).
 *
 * Everything that decides the chip's future and its counters: version
 * and pin count (checked on load), ID, IOREGSEL, every redirection entry
 * with its Remote IRR, the line levels, the storm counters and the
 * statistics. Not the ops or ctx: wiring, not state. The layout is
 * fixed by the pin count.
 */
void ioapic_save(const struct ioapic *s, struct blob_writer *w);

/**
 * ioapic_load() - reads back what ioapic_save() wrote.
 * @s: the chip, initialised with the same pins and version.
 * @r: the reader; the bytes may be hostile.
 *
 * Every value is checked before the chip changes: another pin count or
 * version, an ID over 4 bits, Delivery Status set, Remote IRR on an edge
 * entry, a line level not 0 or 1, a storm count at the limit or on a low
 * line, a non-zero reserved byte, a short input. No callback is made:
 * the glue rebuilds every route from the entries itself.
 *
 * Returns 0, or -EINVAL (the chip unchanged, r->bad set).
 */
int ioapic_load(struct ioapic *s, struct blob_reader *r);

#endif /* SPLITVM_IOAPIC_H */
