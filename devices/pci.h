/* SPDX-License-Identifier: MIT */
/* The PCI bus: a host bridge, configuration mechanism #1, BARs, INTx, MSI. */
#ifndef SPLITVM_PCI_H
#define SPLITVM_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"

/*
 * One bus (0) of up to 32 single-function devices, the host bridge in
 * slot 0. The guest reaches configuration space through mechanism #1
 * (PCI Local Bus 3.0, 3.2.2.3.2): a dword at 0xcf8 selects bus, device,
 * function and register, 0xcfc-0xcff move the data. The bridge decodes
 * two fixed windows, like a PC chipset's, and forwards an access to the
 * BAR that holds it: the buses' regions never change while the VM runs.
 * At creation and reset the bus assigns every BAR an address and turns
 * decoding on, as PC firmware does before an OS runs.
 */
#define PCI_CONFIG_PORT 0xcf8
#define PCI_CONFIG_SIZE 8
#define PCI_IO_WINDOW_BASE 0xc000
#define PCI_IO_WINDOW_SIZE 0x4000
#define PCI_MEM_WINDOW_BASE 0xe0000000ull
/* 256 MiB; [0xf0000000, 0xfec00000) stays free for the embedder's devices */
#define PCI_MEM_WINDOW_SIZE 0x10000000ull
#define PCI_MAX_SLOTS 32
#define PCI_BARS 6
#define PCI_MSI_MAX_VECTORS 32
#define PCI_MSIX_MAX_VECTORS 64
/* INTx of slot s, pin p (0 = INTA) reaches GSI base + ((s + p) & 3). */
#define PCI_INTX_GSI_BASE 16
#define PCI_INTX_GSIS 4

/* Configuration-space offsets (PCI Local Bus 3.0, 6.1). */
enum {
	PCI_VENDOR_ID = 0x00,
	PCI_DEVICE_ID = 0x02,
	PCI_COMMAND = 0x04,
	PCI_STATUS = 0x06,
	PCI_REVISION = 0x08,
	PCI_CLASS_PROG = 0x09,
	PCI_HEADER_TYPE = 0x0e,
	PCI_BAR0 = 0x10,
	PCI_SUBSYSTEM_VENDOR_ID = 0x2c,
	PCI_SUBSYSTEM_ID = 0x2e,
	PCI_ROM_ADDRESS = 0x30,
	PCI_CAPABILITY_LIST = 0x34,
	PCI_INTERRUPT_LINE = 0x3c,
	PCI_INTERRUPT_PIN = 0x3d,
};

#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS_INTERRUPT 0x8
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_MSIX 0x11

enum pci_bar_type {
	PCI_BAR_UNUSED = 0,
	PCI_BAR_IO,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64, /* takes this BAR and the next */
};

/* A BAR: its kind, its size (a power of two) and who serves it. */
struct pci_bar_desc {
	enum pci_bar_type type;
	uint64_t size; /* I/O: 4 to 256; memory: 16 bytes to 1 GiB */
	bool prefetchable;
	/* Accesses inside the BAR, with the offset from its base; NULL:
	 * reads give all ones, writes are dropped. */
	const struct device_ops *ops;
	void *dev;
};

/* What a device model tells the bus about one function. */
struct pci_function_desc {
	const char *name;
	uint16_t vendor, device;
	uint16_t subsystem_vendor, subsystem;
	uint8_t revision;
	uint32_t class_code; /* base class, subclass, prog-if: 0xff0000 */
	uint8_t intx_pin;    /* 0: none; 1-4: INTA-INTD */
	struct pci_bar_desc bars[PCI_BARS];
	unsigned int msi_vectors;  /* 0: no MSI capability; 1-32, power of 2 */
	unsigned int msix_vectors; /* 0: no MSI-X; up to PCI_MSIX_MAX_VECTORS */
	uint8_t msix_bar;	   /* the table at offset 0, the PBA at 0x800 */
};

struct pci_bus;
struct pci_function;

/* What the bus asks of the machine. */
struct pci_hooks {
	/* Sends a message-signalled interrupt (any vCPU thread). */
	void (*msi)(void *ctx, uint64_t address, uint32_t data);
	void *ctx;
	/* The interrupt router: INTx reach router lines PCI_INTX_GSI_BASE
	 * and up. NULL set: INTx is not wired. */
	struct irq_line intx;
	/* Byte accesses to 0xcf9, the PIIX reset control register that
	 * shares the configuration-address port (may be NULL). */
	const struct device_ops *cf9_ops;
	void *cf9_dev;
};

struct pci_stats {
	uint64_t config_reads, config_writes;
	uint64_t window_unclaimed; /* window accesses that hit no BAR */
	uint64_t msis, intx_changes;
	uint64_t ignored; /* accesses of a width or to a port not served */
};

/*
 * Ports PCI_CONFIG_PORT + [0, PCI_CONFIG_SIZE); holds reset/destroy, and
 * save/load of the whole bus: every function's configuration space, INTx
 * level and MSI-X table, the 0xcf8 latch and the counters. The BARs'
 * devices save their own state.
 */
extern const struct device_ops pci_config_ops;
/* Ports and MMIO of the two windows, forwarded to the BARs (their save
 * and load hold nothing: the bus's is in pci_config_ops'). */
extern const struct device_ops pci_io_window_ops;
extern const struct device_ops pci_mem_window_ops;

/**
 * pci_bus_new() - creates the bus with its host bridge in slot 0.
 * @hooks: copied; NULL for no interrupts and no 0xcf9.
 * @intx_wired: whether the router has lines for INTx (an IOAPIC with at
 *	     least PCI_INTX_GSI_BASE + PCI_INTX_GSIS pins).
 * Returns 0, -EINVAL or -ENOMEM.
 */
int pci_bus_new(const struct pci_hooks *hooks, bool intx_wired,
		struct pci_bus **ret);

/**
 * pci_bus_add() - plugs a function into slot (1-31) and gives its BARs
 * addresses. The descriptor is copied; its ops and dev must outlive the
 * bus. Returns 0, -EINVAL (a malformed descriptor, a used slot), -ENOSPC
 * (the windows are full) or -ENOMEM.
 */
int pci_bus_add(struct pci_bus *bus, unsigned int slot,
		const struct pci_function_desc *desc,
		struct pci_function **ret);

/* Drives the function's INTx pin (ignored while INTx is disabled). */
void pci_set_intx(struct pci_function *f, bool level);

/* Whether the guest turned MSI or MSI-X on for the function. */
bool pci_msi_enabled(struct pci_function *f);

/*
 * Signals MSI or MSI-X vector n when enabled (a masked MSI-X vector is
 * left pending); false when neither is enabled, for the caller to use
 * INTx instead.
 */
bool pci_msi_notify(struct pci_function *f, unsigned int n);

/* The address the bus gave BAR i of f (0 if unused). */
uint64_t pci_bar_address(struct pci_function *f, unsigned int i);

void pci_get_stats(struct pci_bus *bus, struct pci_stats *ret);

#endif /* SPLITVM_PCI_H */
