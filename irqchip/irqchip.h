/* SPDX-License-Identifier: MIT */
/*
 * The interrupt controller as the VM sees it: a router for device lines,
 * and either splitvm's own IOAPIC and PICs (split mode, the default) or
 * KVM's in-kernel ones (kernel mode, the reference for A/B tests).
 */
#ifndef SPLITVM_IRQCHIP_H
#define SPLITVM_IRQCHIP_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "log.h"
#include "splitvm.h"

struct irqchip;
struct vcpu;

enum irqchip_mode {
	IRQCHIP_SPLIT,
	IRQCHIP_KERNEL,
};

/* Line counters, as the library reports them. */
struct irqchip_line_stats {
	uint64_t asserts;
	uint64_t deliveries;
	uint64_t eois;
	uint64_t coalesced;
	uint64_t eois_recovered; /* EOIs the watchdog completed */
};

/* What the chip needs of the VM around it. */
struct irqchip_host {
	int vm_fd;
	const struct logger *log;
	/* Kicks vCPU index so it looks at irqchip_extint_pending(). */
	void (*kick)(void *vm, unsigned int cpu);
	/* Arms the chip's timer (0 disarms); irqchip_timer() on expiry. */
	void (*arm_timer)(void *vm, uint64_t deadline_ns);
	/*
	 * Asks every vCPU to read its LAPIC on its own thread and call
	 * irqchip_lapic_report() (the lost-EOI watchdog).
	 */
	void (*lapic_check)(void *vm);
	/* Receives events whose type is in event_mask, with no lock held. */
	void (*event)(void *vm, const struct splitvm_event *ev);
	unsigned int event_mask;
	unsigned int nr_vcpus;
	void *vm;
};

struct irqchip_config {
	enum irqchip_mode mode;
	unsigned int ioapic_pins;  /* split mode: 1..IOAPIC_MAX_PINS */
	uint8_t ioapic_version;	   /* split mode: 0x11 or 0x20 */
	bool pic;		   /* split mode: the 8259As are there */
};

/*
 * Creates the chip and sets KVM up for it; must run before any vCPU
 * exists. Split: KVM_CAP_SPLIT_IRQCHIP with ioapic_pins reserved GSIs and
 * the x2APIC API flags matching the IOAPIC version. Kernel:
 * KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2 and PC routing (IRQ0 -> pin 2).
 * Returns 0 or a negative errno (logged).
 */
int irqchip_create(const struct irqchip_config *cfg,
		   const struct irqchip_host *host, struct irqchip **ret);
void irqchip_destroy(struct irqchip *c);

/*
 * Puts the chips back in their state at creation (a VM reset, no vCPU
 * running): IOAPIC entries masked, PICs as firmware leaves them, and in
 * kernel mode KVM's PIT stopped.
 */
void irqchip_reset(struct irqchip *c);

/*
 * Snapshots, as struct device_ops' save and load (src/base/device.h) for
 * the whole interrupt controller: in split mode the IOAPIC, both PICs with
 * the ELCR, the line levels and what the router keeps (an ExtINT the PIC
 * has acknowledged but not yet injected included); load then programs
 * the GSI routes whose redirection entries differ from KVM's, after
 * which, as after the vCPUs' KVM_SET_LAPIC (load them first), KVM scans
 * the EOI-exit vectors again. In kernel mode, KVM's own chips
 * (KVM_GET_IRQCHIP, KVM_GET_PIT2). A state load refuses (-EINVAL, chip
 * unchanged) is one save could not have written.
 * Save returns the length, -ENOSPC, or KVM's -errno (kernel mode); load
 * returns 0, -EINVAL (wrong length, another configuration - mode, pins,
 * IOAPIC version, PICs - or a value out of range), -ENOMEM, or KVM's
 * -errno (kernel mode, after putting back what it had set).
 */
int irqchip_save(struct irqchip *c, void *buf, size_t cap, uint64_t now);
int irqchip_load(struct irqchip *c, const void *buf, size_t len,
		 uint64_t now);

/* Maps the chip's ports and MMIO (split mode; nothing in kernel mode). */
int irqchip_map(struct irqchip *c, struct bus *pio, struct bus *mmio);

/* Number of device lines: IOAPIC pins (split) or 24 (kernel). */
unsigned int irqchip_lines(const struct irqchip *c);

enum irqchip_mode irqchip_mode(const struct irqchip *c);

/*
 * The router, with the signature of struct irq_line's set(): ISA line n
 * (0-15) reaches PIC input n and IOAPIC pin n, except line 0 (the PIT),
 * which reaches IOAPIC pin 2 as on PCs, and line 2 (the cascade), which
 * reaches no IOAPIC pin. Lines 16 and up reach only the IOAPIC.
 */
void irqchip_set_irq(void *chip, unsigned int line, bool level);

/* KVM_EXIT_IOAPIC_EOI on vCPU cpu (split mode). */
void irqchip_eoi(struct irqchip *c, unsigned int cpu, uint8_t vector);

/*
 * ExtINT: true while an interrupt waits for vCPU cpu's INTA, from the PIC
 * or from an IOAPIC entry in ExtINT mode. Cheap; read before each KVM_RUN.
 */
bool irqchip_extint_pending(const struct irqchip *c, unsigned int cpu);

/* The INTA cycle: the vector to inject with KVM_INTERRUPT. */
uint8_t irqchip_extint_ack(struct irqchip *c, unsigned int cpu);

/* The chip's timer expired (storm limiter, lost-EOI watchdog). */
void irqchip_timer(struct irqchip *c);

/*
 * A vCPU's answer to lapic_check: the vectors its LAPIC has pending (IRR)
 * or in service (ISR), as a 256-bit set.
 */
void irqchip_lapic_report(struct irqchip *c, unsigned int cpu,
			  const uint32_t vectors[8]);

/* Snapshots for the API; from KVM in kernel mode. 0 or -errno. */
int irqchip_ioapic_state(struct irqchip *c, struct splitvm_ioapic_state *ret);
int irqchip_pic_state(struct irqchip *c, struct splitvm_pic_state *ret);
/* Kernel mode only (split mode's PIT is a device): KVM_GET_PIT2. */
int irqchip_kernel_pit_state(struct irqchip *c, struct splitvm_pit_state *ret);

/* Interrupts sent per vector, by the IOAPIC and the PIC (split mode). */
void irqchip_vector_stats(struct irqchip *c, uint64_t ret[256]);

/* Counters of a line. Returns 0, -EINVAL (no such line), -ENOTSUP (kernel). */
int irqchip_line_stats(struct irqchip *c, unsigned int line,
		       struct irqchip_line_stats *ret);

#endif /* SPLITVM_IRQCHIP_H */
