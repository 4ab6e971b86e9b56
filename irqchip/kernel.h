/* SPDX-License-Identifier: MIT */
/* KVM's in-kernel PIC, IOAPIC and PIT: the reference for A/B tests. */
#ifndef SPLITVM_KERNEL_IRQCHIP_H
#define SPLITVM_KERNEL_IRQCHIP_H

#include <stdbool.h>
#include <stddef.h>

#include "blob.h"
#include "log.h"
#include "splitvm.h"

/* The in-kernel IOAPIC has 24 pins (KVM_IOAPIC_NUM_PINS). */
#define KERNEL_IRQCHIP_LINES 24

/*
 * KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2 and the PC's GSI routing. Before
 * any vCPU exists. Returns 0 or a negative errno (logged).
 */
int kernel_irqchip_create(int vm_fd, const struct logger *log);

/*
 * Back to the state of kernel_irqchip_create(): PICs as firmware leaves
 * them, IOAPIC entries masked, the PIT stopped. Failures are logged.
 */
void kernel_irqchip_reset(int vm_fd, const struct logger *log);

/* Snapshots of KVM's chips (KVM_GET_IRQCHIP, KVM_GET_PIT2). 0 or -errno. */
int kernel_irqchip_ioapic_state(int vm_fd, struct splitvm_ioapic_state *ret);
int kernel_irqchip_pic_state(int vm_fd, struct splitvm_pic_state *ret);
int kernel_irqchip_pit_state(int vm_fd, struct splitvm_pit_state *ret);

/*
 * Snapshots of KVM's chips: both PICs and the IOAPIC (KVM_GET_IRQCHIP)
 * and the PIT (KVM_GET_PIT2), in a fixed layout of
 * kernel_irqchip_state_size() bytes. Save returns 0, -ENOTSUP (IRQ0
 * reaches the guest, and the PIT's phase cannot be put back), or KVM's
 * -errno.
 * Load checks every value first (-EINVAL, nothing set), then sets the
 * chips; if KVM refuses one, it puts back those already set and returns
 * KVM's -errno.
 */
size_t kernel_irqchip_state_size(void);
int kernel_irqchip_save(int vm_fd, struct blob_writer *w);
int kernel_irqchip_load(int vm_fd, struct blob_reader *r);

/* Sets device line (GSI) to level through KVM_IRQ_LINE. */
void kernel_irqchip_set_irq(int vm_fd, unsigned int line, bool level);

#endif /* SPLITVM_KERNEL_IRQCHIP_H */
