/* SPDX-License-Identifier: MIT */
/* edu: QEMU's educational PCI device, for guests that raise INTx and MSI. */
#ifndef SPLITVM_EDU_H
#define SPLITVM_EDU_H

#include "pci.h"

/*
 * 1234:11e8 with one 1 MiB memory BAR (QEMU's docs/specs/edu.rst): an
 * identification register, a liveness check, a factorial unit and an
 * interrupt status register that a guest raises (0x60) and acknowledges
 * (0x64). The interrupt is MSI (one vector) once the guest enables it,
 * INTA otherwise. The DMA engine is not there: its registers read back
 * what was written and a transfer never starts.
 */
#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_BAR_SIZE 0x100000

struct edu;

/* BAR 0's accesses; holds the reset, destroy, save and load. */
extern const struct device_ops edu_ops;

int edu_new(struct edu **ret);

/* The function to plug into the bus, its BAR served by e. */
void edu_desc(struct edu *e, struct pci_function_desc *ret);

/* The function the bus gave the device: edu_new()'s, before it runs. */
void edu_attach(struct edu *e, struct pci_function *f);

#endif /* SPLITVM_EDU_H */
