/* SPDX-License-Identifier: MIT */
/* pci-testdev: QEMU's PCI test device, as kvm-unit-tests drive it. */
#ifndef SPLITVM_PCI_TESTDEV_H
#define SPLITVM_PCI_TESTDEV_H

#include "pci.h"

/*
 * Red Hat's 1b36:0005 (QEMU's docs/specs/pci-testdev.rst). BAR 0 (4 KiB of
 * memory) and BAR 1 (256 ports) each start with the header of the current
 * test: writing n to byte 0 starts test n of that BAR's kind (0:
 * "no-eventfd", 1: "wildcard-eventfd", 2: "datamatch-eventfd"); the
 * header then names the offset to write to and, for a data match, the
 * byte to write, and counts the writes that hit. As in QEMU, every access
 * is taken a byte at a time.
 */
#define PCI_TESTDEV_VENDOR 0x1b36
#define PCI_TESTDEV_DEVICE 0x0005
#define PCI_TESTDEV_MEM_SIZE 4096
#define PCI_TESTDEV_IO_SIZE 256

struct pci_testdev;

/* BAR 0's and BAR 1's accesses; mem holds the reset, destroy, save and
 * load (io's save and load hold nothing). */
extern const struct device_ops pci_testdev_mem_ops;
extern const struct device_ops pci_testdev_io_ops;

/* Creates the device; free it with pci_testdev_mem_ops.destroy. */
int pci_testdev_new(struct pci_testdev **ret);

/* The function to plug into the bus, its BARs served by t. */
void pci_testdev_desc(struct pci_testdev *t, struct pci_function_desc *ret);

#endif /* SPLITVM_PCI_TESTDEV_H */
