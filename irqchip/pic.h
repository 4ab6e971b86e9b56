/* SPDX-License-Identifier: MIT */
/* Dual 8259A PIC (slave cascaded on master IR2) plus ELCR, as a pure model. */
#ifndef SPLITVM_PIC_H
#define SPLITVM_PIC_H

/*
 * No locks, no ioctls, no allocation: the KVM glue serializes every call
 * with its own lock and does the ExtINT injection (KVM-NOTES rule 5).
 *
 * Where the Intel 8259A datasheet (order no. 231468) is explicit, it wins;
 * where it leaves room, the guest-visible behaviour of KVM's in-kernel PIC
 * (arch/x86/kvm/i8259.c) is matched, because the A/B tests compare against
 * it. The places where this model and KVM differ on purpose are listed at
 * the top of pic.c.
 */

#include <stdbool.h>
#include <stdint.h>

#include "blob.h"

#define PIC_NR_IRQS 16
#define PIC_CASCADE_IRQ 2 /* master input wired to the slave's INT */

#define PIC_MASTER_CMD 0x20  /* even port: ICW1, OCW2, OCW3; IRR/ISR/poll */
#define PIC_MASTER_DATA 0x21 /* odd port: ICW2-4, OCW1 (IMR) */
#define PIC_SLAVE_CMD 0xa0
#define PIC_SLAVE_DATA 0xa1
#define PIC_ELCR_MASTER 0x4d0 /* edge (0) / level (1) for IRQ0-7 */
#define PIC_ELCR_SLAVE 0x4d1  /* same for IRQ8-15 */

/* ELCR bits that can be set: IRQ0, 1, 2, 8 and 13 are always edge. */
#define PIC_ELCR_MASK_MASTER 0xf8
#define PIC_ELCR_MASK_SLAVE 0xde

/*
 * The state SeaBIOS leaves on QEMU's PC machine (pic_reset(p, true)).
 * pic_setup() masks everything but the cascade (0xfb/0xff); then
 * enable_hwirq() opens IRQ0 (clock_setup, PIT), IRQ1 and IRQ12
 * (ps2port_setup), IRQ6 (floppy_setup), IRQ8 (clock_setup, RTC), IRQ13
 * (mathcp_setup) and IRQ14 (ata_setup). COM1's IRQ4 stays masked.
 */
#define PIC_FW_MASTER_BASE 0x08
#define PIC_FW_SLAVE_BASE 0x70
#define PIC_FW_MASTER_IMR 0xb8 /* open: 0, 1, 2, 6 */
#define PIC_FW_SLAVE_IMR 0x8e  /* open: 8, 12, 13, 14 */

/* Callbacks of the glue; called with the glue's lock held. */
struct pic_ops {
	/*
	 * The master's INT pin changed to @level. Called only on a change,
	 * as the last thing the operation does (the state is consistent).
	 * Must not call back into the PIC.
	 */
	void (*output)(void *ctx, bool level);
};

/* What the next odd-port write is (datasheet: "Initialization"). */
enum pic_init_state {
	PIC_INIT_DONE = 0, /* odd port writes the IMR (OCW1) */
	PIC_INIT_ICW2,
	PIC_INIT_ICW3,
	PIC_INIT_ICW4,
};

/* One 8259A. Bit n of every mask is the chip's input IRn. */
struct pic_chip {
	uint8_t irr;		   /* interrupt request register */
	uint8_t isr;		   /* in-service register */
	uint8_t imr;		   /* interrupt mask register (OCW1) */
	uint8_t last_irr;	   /* input levels the edge detector last saw */
	uint8_t elcr;		   /* 1 = level-triggered input */
	uint8_t elcr_mask;	   /* writable ELCR bits */
	uint8_t irq_base;	   /* ICW2, low 3 bits clear: vector of IR0 */
	uint8_t priority_add;	   /* the input with the highest priority */
	uint8_t init_state;	   /* enum pic_init_state */
	bool icw4_needed;	   /* ICW1 IC4 */
	bool single_mode;	   /* ICW1 SNGL: no ICW3 */
	bool auto_eoi;		   /* ICW4 AEOI */
	bool special_fully_nested; /* ICW4 SFNM (honoured on the master) */
	bool rotate_on_auto_eoi;   /* OCW2 R=1 SL=0 EOI=0 */
	bool special_mask;	   /* OCW3 ESMM/SMM */
	bool poll;		   /* OCW3 P: next read is a poll */
	bool read_isr;		   /* OCW3 RR/RIS: even port reads ISR */
};

struct pic_stats {
	uint64_t intacks;  /* pic_intack() calls */
	uint64_t spurious; /* of which answered IRQ7 or IRQ15 by default */
	uint64_t polls;	   /* poll reads that acknowledged an input */
	uint64_t per_irq[PIC_NR_IRQS]; /* acknowledged (INTA or poll) */
};

struct pic {
	struct pic_chip chip[2]; /* [0] master, [1] slave */
	const struct pic_ops *ops;
	void *ctx;
	bool output; /* the master's INT pin */
	struct pic_stats stats;
};

/**
 * pic_init() - sets up both chips in the power-on state (see pic_reset()).
 * @p: the PIC.
 * @ops: the output callback (copied pointer, may be NULL).
 * @ctx: passed to the callback.
 *
 * Clears the statistics. The output starts low and is not reported.
 */
void pic_init(struct pic *p, const struct pic_ops *ops, void *ctx);

/**
 * pic_reset() - resets both chips and both ELCRs (RESET / power cycle).
 * @p: the PIC.
 * @firmware_state: true for the state PC firmware leaves (DEVICE-CONTRACT
 *	"State at start"): initialized as SeaBIOS does (ICW1 0x11, ICW2
 *	0x08/0x70, ICW3 0x04/0x02, ICW4 0x01: cascade on IR2, 8086 mode,
 *	normal EOI), IMR PIC_FW_MASTER_IMR/PIC_FW_SLAVE_IMR, all edge.
 *	false for the power-on state, which is the state KVM creates its
 *	in-kernel PIC in (and QEMU resets its i8259 to): every register
 *	zero, i.e. vector base 0, nothing masked, all edge, and *not*
 *	waiting for ICW1 - an input raised before the guest initializes the
 *	chip is delivered as vector 0-7, as under KVM.
 *
 * Line levels are forgotten; the statistics are kept. Reports the output
 * if it falls.
 */
void pic_reset(struct pic *p, bool firmware_state);

/**
 * pic_set_irq() - sets the level of ISA IRQ line @irq (0-15).
 * @p: the PIC.
 * @irq: ISA IRQ; 0-7 are master inputs, 8-15 slave inputs. Others are
 *	 ignored. IRQ2 is the master's cascade input: as in KVM, a level
 *	 given for it is edge-detected like any master input and shares
 *	 IRR2 with the slave's request (an unmasked IR2 with a silent slave
 *	 then yields a spurious IRQ15 vector).
 * @level: the line's level.
 *
 * Edge inputs latch IRR on a low-to-high change only; level inputs (ELCR)
 * have IRR follow the line. Repeating a level is harmless.
 */
void pic_set_irq(struct pic *p, unsigned int irq, bool level);

/**
 * pic_intack() - runs the two INTA cycles of an ExtINT delivery.
 * @p: the PIC.
 *
 * Acknowledges the highest-priority deliverable input: sets its ISR bit
 * (clears it again in AEOI mode, rotating if asked), clears its IRR bit
 * if edge-triggered, and goes through IR2 to the slave when needed.
 *
 * Call it only when the vector can be injected at once (interrupt window
 * open, KVM_INTERRUPT about to be issued): it changes the chip's state.
 * The output may still be high afterwards (AEOI mode with another request
 * ready, a level input re-requesting in AEOI mode) and then no callback
 * fires, since nothing changed: read pic_output() after every call.
 *
 * Returns the vector. With nothing deliverable on the master - in
 * particular when the output is low - it returns the master's base + 7
 * (spurious IRQ7) and sets no ISR bit; when the master answers IR2 but the
 * slave has nothing, the slave's base + 7 (spurious IRQ15), with the
 * master's ISR bit 2 set (non-AEOI). Both count in stats.spurious.
 */
int pic_intack(struct pic *p);

/* The master's INT pin: true when an ExtINT should be delivered. */
bool pic_output(const struct pic *p);

/**
 * pic_io_read() - a guest's byte read of a PIC or ELCR port.
 * @p: the PIC.
 * @port: 0x20, 0x21, 0xa0, 0xa1, 0x4d0 or 0x4d1.
 *
 * A read after an OCW3 poll command, on either port of that chip, is the
 * poll: it acknowledges like an INTA and returns 0x80 | level, or 0 when
 * nothing is deliverable. Otherwise the even port returns IRR or ISR (as
 * OCW3 selected, IRR after ICW1), the odd port the IMR, 0x4d0/0x4d1 the
 * ELCRs.
 *
 * Returns the byte; 0xff for any other port.
 */
uint8_t pic_io_read(struct pic *p, uint16_t port);

/**
 * pic_io_write() - a guest's byte write to a PIC or ELCR port.
 * @p: the PIC.
 * @port: 0x20, 0x21, 0xa0, 0xa1, 0x4d0 or 0x4d1; others are ignored.
 * @val: the byte. Any value leaves the chip consistent.
 */
void pic_io_write(struct pic *p, uint16_t port, uint8_t val);

/**
 * pic_save() - appends both chips' state to a snapshot.
 * @p: the PIC.
 * @w: the writer (a writer with cap 0 measures the size, which is fixed).
 *
 * Per chip IRR, ISR, IMR, the edge detector's last levels, the ELCR, the
 * vector base, the priority rotation, the initialization sequence's
 * position and every mode bit (ICW1 IC4 and SNGL, ICW4 AEOI and SFNM,
 * rotate in AEOI, special mask, a pending poll, the OCW3 read select);
 * then the statistics. The INT pin is not saved: it follows from the
 * rest and is computed again on load.
 */
void pic_save(const struct pic *p, struct blob_writer *w);

/**
 * pic_load() - reads back what pic_save() wrote.
 * @p: the PIC (pic_init()ed).
 * @r: the reader; the bytes may be hostile.
 *
 * Refuses, the PIC unchanged, what no sequence of operations could leave:
 * a vector base with bits 2:0 set, a priority or an initialization step
 * out of range, waiting for ICW3 in single mode or for ICW4 without IC4,
 * ICW4 modes set without IC4, an ELCR bit that cannot be set, a non-zero
 * reserved byte, a short input. The output callback is not called: the
 * glue reads pic_output() afterwards.
 *
 * Returns 0, or -EINVAL (r->bad set).
 */
int pic_load(struct pic *p, struct blob_reader *r);

#endif /* SPLITVM_PIC_H */
