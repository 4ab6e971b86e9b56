// SPDX-License-Identifier: MIT
/* libFuzzer harness: the PCI bus, its windows, pci-testdev and edu. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "bus.h"
#include "edu.h"
#include "fuzz.h"
#include "pci.h"
#include "pci_testdev.h"

/*
 * The bus as the VM builds it (host bridge, pci-testdev in slot 1, edu in
 * slot 2), plus a function with every kind of BAR and MSI-X in slot 3, all
 * behind a port bus and an MMIO bus. Input: operations, an opcode byte
 * each with its operands. The guest controls every byte of configuration
 * space it may write, the windows and the devices' registers; whatever it
 * does, read-only identity stays, INTx reaches only the four PCI lines,
 * and every message goes to the address the guest programmed.
 */
enum op {
	OP_ADDR,       /* u32 CONFIG_ADDRESS */
	OP_DATA_READ,  /* u8 port offset (0xcf8 + n & 7), len selector */
	OP_DATA_WRITE, /* u8 port offset, len selector, u32 value */
	OP_IO_READ,    /* u16 offset in the I/O window, len selector */
	OP_IO_WRITE,   /* u16 offset, len selector, u32 value */
	OP_MEM_READ,   /* u32 offset in the memory window, len selector */
	OP_MEM_WRITE,  /* u32 offset, len selector, u64 value */
	OP_INTX,       /* u8 level */
	OP_NOTIFY,     /* u8 vector */
	OP_RESET,
	NR_OPS
};

struct harness {
	struct pci_bus *bus;
	struct pci_function *probe;
	struct bus pio, mmio;
	uint64_t msis;
	unsigned int lines[PCI_INTX_GSIS];
};

static void h_set(void *router, unsigned int line, bool level)
{
	struct harness *h = router;

	FUZZ_CHECK(line >= PCI_INTX_GSI_BASE &&
		   line < PCI_INTX_GSI_BASE + PCI_INTX_GSIS);
	h->lines[line - PCI_INTX_GSI_BASE] = level;
}

static void h_msi(void *ctx, uint64_t address, uint32_t data)
{
	struct harness *h = ctx;

	h->msis++;
}

static uint64_t probe_read(void *dev, const struct io_access *a)
{
	FUZZ_CHECK(a->len >= 1 && a->len <= 8);
	return a->offset;
}

static void probe_write(void *dev, const struct io_access *a, uint64_t v)
{
	FUZZ_CHECK(a->len >= 1 && a->len <= 8);
}

static const struct device_ops probe_ops = {
	.name = "probe", .read = probe_read, .write = probe_write
};

static uint32_t config(struct harness *h, unsigned int slot, unsigned int reg)
{
	uint64_t v;

	bus_write(&h->pio, PCI_CONFIG_PORT, 4, -1,
		  0x80000000u | slot << 11 | reg);
	bus_read(&h->pio, PCI_CONFIG_PORT + 4, 4, -1, &v);
	return (uint32_t)v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct pci_function_desc probe = {
		.name = "probe",
		.vendor = 0x1234,
		.device = 0x5678,
		.intx_pin = 2,
		.msi_vectors = 8,
		.msix_vectors = 16,
		.msix_bar = 2,
		.bars = {
			[0] = { PCI_BAR_IO, 64, false, &probe_ops, NULL },
			[1] = { PCI_BAR_MEM32, 4096, false, &probe_ops, NULL },
			[2] = { PCI_BAR_MEM64, 8192, true, &probe_ops, NULL },
		},
	};
	struct harness h = { 0 };
	const struct pci_hooks hooks = { h_msi, &h, { h_set, &h, 0 }, NULL,
					 NULL };
	struct pci_testdev *td;
	struct pci_function_desc d;
	struct pci_function *f;
	struct fuzz_in in;
	struct edu *edu;
	uint64_t v;

	fuzz_in_init(&in, data, size);
	FUZZ_CHECK(pci_bus_new(&hooks, true, &h.bus) == 0);
	FUZZ_CHECK(pci_testdev_new(&td) == 0);
	pci_testdev_desc(td, &d);
	FUZZ_CHECK(pci_bus_add(h.bus, 1, &d, NULL) == 0);
	FUZZ_CHECK(edu_new(&edu) == 0);
	edu_desc(edu, &d);
	FUZZ_CHECK(pci_bus_add(h.bus, 2, &d, &f) == 0);
	edu_attach(edu, f);
	FUZZ_CHECK(pci_bus_add(h.bus, 3, &probe, &h.probe) == 0);
	bus_init(&h.pio, "pio");
	bus_init(&h.mmio, "mmio");
	FUZZ_CHECK(bus_register(&h.pio, PCI_CONFIG_PORT, PCI_CONFIG_SIZE,
				&pci_config_ops, h.bus) == 0);
	FUZZ_CHECK(bus_register(&h.pio, PCI_IO_WINDOW_BASE, PCI_IO_WINDOW_SIZE,
				&pci_io_window_ops, h.bus) == 0);
	FUZZ_CHECK(bus_register(&h.mmio, PCI_MEM_WINDOW_BASE,
				PCI_MEM_WINDOW_SIZE, &pci_mem_window_ops,
				h.bus) == 0);

	while (fuzz_more(&in)) {
		uint8_t op = fuzz_u8(&in) % NR_OPS;
		unsigned int len;
		uint64_t off;

		switch (op) {
		case OP_ADDR:
			bus_write(&h.pio, PCI_CONFIG_PORT, 4, 0,
				  fuzz_u32(&in));
			break;
		case OP_DATA_READ:
			off = fuzz_u8(&in) & 7;
			len = fuzz_len(&in);
			bus_read(&h.pio, PCI_CONFIG_PORT + off, len, 0, &v);
			break;
		case OP_DATA_WRITE:
			off = fuzz_u8(&in) & 7;
			len = fuzz_len(&in);
			bus_write(&h.pio, PCI_CONFIG_PORT + off, len, 0,
				  fuzz_u32(&in));
			break;
		case OP_IO_READ:
			off = fuzz_u16(&in) % PCI_IO_WINDOW_SIZE;
			len = fuzz_len(&in);
			bus_read(&h.pio, PCI_IO_WINDOW_BASE + off, len, 0, &v);
			break;
		case OP_IO_WRITE:
			off = fuzz_u16(&in) % PCI_IO_WINDOW_SIZE;
			len = fuzz_len(&in);
			bus_write(&h.pio, PCI_IO_WINDOW_BASE + off, len, 0,
				  fuzz_u32(&in));
			break;
		case OP_MEM_READ:
			/* Mostly where the BARs are: the first 4 MiB. */
			off = fuzz_u32(&in) % PCI_MEM_WINDOW_SIZE;
			off = off & 0x80000000u ? off : off & 0x3fffff;
			len = fuzz_len(&in);
			bus_read(&h.mmio, PCI_MEM_WINDOW_BASE + off, len, 0,
				 &v);
			break;
		case OP_MEM_WRITE:
			off = fuzz_u32(&in);
			off = (off & 0x80000000u ? off : off & 0x3fffff) %
			      PCI_MEM_WINDOW_SIZE;
			len = fuzz_len(&in);
			bus_write(&h.mmio, PCI_MEM_WINDOW_BASE + off, len, 0,
				  fuzz_u64(&in));
			break;
		case OP_INTX:
			pci_set_intx(h.probe, fuzz_u8(&in) & 1);
			break;
		case OP_NOTIFY:
			pci_msi_notify(h.probe, fuzz_u8(&in) % 20);
			break;
		case OP_RESET:
			pci_config_ops.reset(h.bus);
			pci_testdev_mem_ops.reset(td);
			edu_ops.reset(edu);
			break;
		}
		/* Identity and header type are read-only. */
		FUZZ_CHECK(config(&h, 0, 0) == 0x12378086);
		FUZZ_CHECK(config(&h, 1, 0) == 0x00051b36);
		FUZZ_CHECK(config(&h, 3, 0) == 0x56781234);
		FUZZ_CHECK((config(&h, 3, 0x0c) >> 16 & 0x7f) == 0);
		/* An I/O BAR keeps bit 0, a 64-bit BAR its type. */
		FUZZ_CHECK(config(&h, 3, 0x10) & 1);
		FUZZ_CHECK((config(&h, 3, 0x18) & 0xf) == 0xc);
	}
	bus_free(&h.pio);
	bus_free(&h.mmio);
	pci_testdev_mem_ops.destroy(td);
	edu_ops.destroy(edu);
	pci_config_ops.destroy(h.bus);
	return 0;
}
