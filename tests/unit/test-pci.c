// SPDX-License-Identifier: MIT
/* The PCI bus through its ports and windows, with pci-testdev and edu. */
#include <errno.h>
#include <string.h>

#include "edu.h"
#include "pci.h"
#include "pci_testdev.h"
#include "unit.h"

#define MAX_CALLS 64

/* What the bus asked of the machine: lines, messages, 0xcf9 bytes. */
struct fake {
	unsigned int lines;
	unsigned int line[MAX_CALLS];
	bool level[MAX_CALLS];
	bool up[64]; /* the router's line levels */
	unsigned int msis;
	uint64_t msi_addr;
	uint32_t msi_data;
	unsigned int cf9_writes;
	uint8_t cf9;
};

static void fake_set(void *router, unsigned int line, bool level)
{
	struct fake *f = router;

	if (f->lines < MAX_CALLS) {
		f->line[f->lines] = line;
		f->level[f->lines] = level;
	}
	f->lines++;
	if (line < 64)
		f->up[line] = level;
}

static void fake_msi(void *ctx, uint64_t address, uint32_t data)
{
	struct fake *f = ctx;

	f->msis++;
	f->msi_addr = address;
	f->msi_data = data;
}

static uint64_t cf9_read(void *dev, const struct io_access *a)
{
	return ((struct fake *)dev)->cf9;
}

static void cf9_write(void *dev, const struct io_access *a, uint64_t v)
{
	struct fake *f = dev;

	f->cf9_writes++;
	f->cf9 = (uint8_t)v;
}

static const struct device_ops cf9_ops = {
	.name = "cf9", .read = cf9_read, .write = cf9_write
};

static struct pci_bus *mk(struct fake *f, bool wired)
{
	const struct pci_hooks hooks = {
		fake_msi, f, { fake_set, f, 0 }, &cf9_ops, f,
	};
	struct pci_bus *bus;

	memset(f, 0, sizeof(*f));
	ck_assert_int_eq(pci_bus_new(&hooks, wired, &bus), 0);
	return bus;
}

static void done(struct pci_bus *bus)
{
	pci_config_ops.destroy(bus);
}

static uint64_t port_in(struct pci_bus *bus, uint64_t port, unsigned int len)
{
	const struct io_access a = { port, port - PCI_CONFIG_PORT, len, 0 };

	return pci_config_ops.read(bus, &a);
}

static void port_out(struct pci_bus *bus, uint64_t port, unsigned int len,
		     uint64_t v)
{
	const struct io_access a = { port, port - PCI_CONFIG_PORT, len, 0 };

	pci_config_ops.write(bus, &a, v);
}

static uint32_t cfg_addr(unsigned int slot, unsigned int reg)
{
	return 0x80000000u | slot << 11 | reg;
}

static uint64_t cfg_read(struct pci_bus *bus, unsigned int slot,
			 unsigned int reg, unsigned int len)
{
	port_out(bus, 0xcf8, 4, cfg_addr(slot, reg & 0xfc));
	return port_in(bus, 0xcfc + (reg & 3), len);
}

static void cfg_write(struct pci_bus *bus, unsigned int slot,
		      unsigned int reg, unsigned int len, uint64_t v)
{
	port_out(bus, 0xcf8, 4, cfg_addr(slot, reg & 0xfc));
	port_out(bus, 0xcfc + (reg & 3), len, v);
}

static uint64_t win_read(struct pci_bus *bus, bool io, uint64_t addr,
			 unsigned int len)
{
	const struct io_access a = { addr, 0, len, 0 };

	return (io ? &pci_io_window_ops : &pci_mem_window_ops)->read(bus, &a);
}

static void win_write(struct pci_bus *bus, bool io, uint64_t addr,
		      unsigned int len, uint64_t v)
{
	const struct io_access a = { addr, 0, len, 0 };

	(io ? &pci_io_window_ops : &pci_mem_window_ops)->write(bus, &a, v);
}

/* A device that records the last BAR access. */
struct probe {
	unsigned int reads, writes;
	uint64_t offset, value;
};

static uint64_t probe_read(void *dev, const struct io_access *a)
{
	struct probe *p = dev;

	p->reads++;
	p->offset = a->offset;
	return 0x5a5a0000 | a->offset;
}

static void probe_write(void *dev, const struct io_access *a, uint64_t v)
{
	struct probe *p = dev;

	p->writes++;
	p->offset = a->offset;
	p->value = v;
}

static const struct device_ops probe_ops = {
	.name = "probe", .read = probe_read, .write = probe_write
};

static struct pci_function_desc probe_desc(struct probe *p)
{
	return (struct pci_function_desc){
		.name = "probe",
		.vendor = 0x1234,
		.device = 0x5678,
		.class_code = 0xff0000,
		.intx_pin = 1,
		.msi_vectors = 4,
		.bars = {
			[0] = { PCI_BAR_IO, 32, false, &probe_ops, p },
			[1] = { PCI_BAR_MEM32, 0x1000, false, &probe_ops, p },
			[2] = { PCI_BAR_MEM64, 0x100000, true, &probe_ops, p },
		},
	};
}

START_TEST(pci_host_bridge_answers_mechanism_one)
{
	struct fake f;
	struct pci_bus *bus = mk(&f, true);

	ck_assert_uint_eq(cfg_read(bus, 0, 0, 4), 0x12378086);
	ck_assert_uint_eq(cfg_read(bus, 0, 0x0a, 2), 0x0600); /* host bridge */
	ck_assert_uint_eq(cfg_read(bus, 0, 0x02, 2), 0x1237);
	ck_assert_uint_eq(cfg_read(bus, 0, 0x01, 1), 0x80);
	/* CONFIG_ADDRESS reads back; a disabled one selects nothing. */
	port_out(bus, 0xcf8, 4, cfg_addr(0, 0));
	ck_assert_uint_eq(port_in(bus, 0xcf8, 4), cfg_addr(0, 0));
	port_out(bus, 0xcf8, 4, 0);
	ck_assert_uint_eq(port_in(bus, 0xcfc, 4), 0xffffffff);
	/* Empty slots, other functions and other buses: all ones. */
	ck_assert_uint_eq(cfg_read(bus, 7, 0, 4), 0xffffffff);
	port_out(bus, 0xcf8, 4, cfg_addr(0, 0) | 1 << 8);
	ck_assert_uint_eq(port_in(bus, 0xcfc, 2), 0xffff);
	port_out(bus, 0xcf8, 4, cfg_addr(0, 0) | 1 << 16);
	ck_assert_uint_eq(port_in(bus, 0xcfc, 4), 0xffffffff);
	/* Register 2 selected, a word read at 0xcfc: the device ID, as
	 * QEMU answers kvm-unit-tests' pci_config_readw(). */
	port_out(bus, 0xcf8, 4, cfg_addr(0, 2));
	ck_assert_uint_eq(port_in(bus, 0xcfc, 2), 0x1237);
	/* Read-only fields stay. */
	cfg_write(bus, 0, 0, 4, 0);
	ck_assert_uint_eq(cfg_read(bus, 0, 0, 4), 0x12378086);
	done(bus);
}
END_TEST

START_TEST(pci_cf9_is_the_reset_register)
{
	struct fake f;
	struct pci_bus *bus = mk(&f, true);

	port_out(bus, 0xcf9, 1, 0x06);
	ck_assert_uint_eq(f.cf9_writes, 1);
	ck_assert_uint_eq(f.cf9, 0x06);
	ck_assert_uint_eq(port_in(bus, 0xcf9, 1), 0x06);
	/* CONFIG_ADDRESS is a dword register only: other widths do nothing. */
	port_out(bus, 0xcf8, 4, cfg_addr(0, 0));
	port_out(bus, 0xcf8, 2, 0);
	port_out(bus, 0xcfa, 1, 0);
	ck_assert_uint_eq(port_in(bus, 0xcf8, 4), cfg_addr(0, 0));
	ck_assert_uint_eq(port_in(bus, 0xcf8, 2), 0xffff);
	ck_assert_uint_eq(f.cf9_writes, 1);
	done(bus);
}
END_TEST

START_TEST(pci_bars_are_sized_assigned_and_decoded)
{
	struct fake f;
	struct probe p = { 0 };
	struct pci_bus *bus = mk(&f, true);
	struct pci_function_desc d = probe_desc(&p);
	struct pci_function *fn;
	uint32_t io, mem, mem64;

	ck_assert_int_eq(pci_bus_add(bus, 3, &d, &fn), 0);
	/* Firmware's assignment: in the windows, aligned, decoding on. */
	io = (uint32_t)cfg_read(bus, 3, 0x10, 4);
	mem = (uint32_t)cfg_read(bus, 3, 0x14, 4);
	mem64 = (uint32_t)cfg_read(bus, 3, 0x18, 4);
	ck_assert_uint_eq(io & 3, 1);
	ck_assert_uint_ge(io & ~3u, PCI_IO_WINDOW_BASE);
	ck_assert_uint_eq((io & ~3u) % 32, 0);
	ck_assert_uint_eq(mem & 15, 0);
	ck_assert_uint_ge(mem, PCI_MEM_WINDOW_BASE);
	ck_assert_uint_eq(mem % 0x1000, 0);
	ck_assert_uint_eq(mem64 & 15, 0xc); /* 64-bit, prefetchable */
	ck_assert_uint_eq((mem64 & ~15u) % 0x100000, 0);
	ck_assert_uint_eq(cfg_read(bus, 3, 0x1c, 4), 0);
	ck_assert_uint_eq(cfg_read(bus, 3, 0x04, 2) & 7, 3);
	ck_assert_uint_eq(pci_bar_address(fn, 1), mem);
	/* The window forwards to the BAR with the offset inside it. */
	ck_assert_uint_eq(win_read(bus, false, mem + 0x10, 4), 0x5a5a0010);
	win_write(bus, true, (io & ~3u) + 4, 2, 0xbeef);
	ck_assert_uint_eq(p.offset, 4);
	ck_assert_uint_eq(p.value, 0xbeef);
	/* Sizing (6.2.5.1): all ones in, the size's complement out. */
	cfg_write(bus, 3, 0x14, 4, 0xffffffff);
	ck_assert_uint_eq(cfg_read(bus, 3, 0x14, 4), 0xfffff000);
	cfg_write(bus, 3, 0x10, 4, 0xffffffff);
	ck_assert_uint_eq(cfg_read(bus, 3, 0x10, 4), 0xffffffe1);
	cfg_write(bus, 3, 0x18, 4, 0xffffffff);
	cfg_write(bus, 3, 0x1c, 4, 0xffffffff);
	ck_assert_uint_eq(cfg_read(bus, 3, 0x18, 4), 0xfff0000c);
	ck_assert_uint_eq(cfg_read(bus, 3, 0x1c, 4), 0xffffffff);
	/* Moved: the new address answers, the old does not. */
	cfg_write(bus, 3, 0x14, 4, 0xf0000000);
	ck_assert_uint_eq(win_read(bus, false, 0xf0000008, 4), 0x5a5a0008);
	ck_assert_uint_eq(win_read(bus, false, mem + 8, 4), 0xffffffff);
	/* Memory decoding off: nothing answers. */
	cfg_write(bus, 3, 0x04, 2, PCI_COMMAND_IO);
	p.reads = 0;
	ck_assert_uint_eq(win_read(bus, false, 0xf0000008, 4), 0xffffffff);
	ck_assert_uint_eq(p.reads, 0);
	/* An access that runs past the BAR's end is not the BAR's. */
	cfg_write(bus, 3, 0x04, 2, PCI_COMMAND_MEMORY);
	ck_assert_uint_eq(win_read(bus, false, 0xf0000ffe, 4), 0xffffffff);
	/* A reset puts the firmware's assignment back. */
	pci_config_ops.reset(bus);
	ck_assert_uint_eq(cfg_read(bus, 3, 0x14, 4), mem);
	ck_assert_uint_eq(cfg_read(bus, 3, 0x04, 2) & 7, 3);
	done(bus);
}
END_TEST

START_TEST(pci_intx_reaches_its_swizzled_gsi)
{
	struct fake f;
	struct probe p = { 0 };
	struct pci_bus *bus = mk(&f, true);
	struct pci_function_desc d = probe_desc(&p);
	struct pci_function *a, *b;

	ck_assert_int_eq(pci_bus_add(bus, 3, &d, &a), 0);
	ck_assert_int_eq(pci_bus_add(bus, 7, &d, &b), 0);
	/* Slot 3, INTA: GSI 16 + 3; the firmware wrote it to the line. */
	ck_assert_uint_eq(cfg_read(bus, 3, 0x3c, 1), 19);
	ck_assert_uint_eq(cfg_read(bus, 3, 0x3d, 1), 1);
	pci_set_intx(a, true);
	ck_assert(f.up[19]);
	ck_assert_uint_eq(cfg_read(bus, 3, 0x06, 2) & PCI_STATUS_INTERRUPT,
			  PCI_STATUS_INTERRUPT);
	/* Slot 7 shares GSI 19: the line is the OR of both pins. */
	pci_set_intx(b, true);
	pci_set_intx(a, false);
	ck_assert(f.up[19]);
	pci_set_intx(b, false);
	ck_assert(!f.up[19]);
	/* Interrupt Disable holds the pin low; status still shows it. */
	pci_set_intx(a, true);
	cfg_write(bus, 3, 0x04, 2, 0x0407);
	ck_assert(!f.up[19]);
	ck_assert_uint_eq(cfg_read(bus, 3, 0x06, 2) & PCI_STATUS_INTERRUPT,
			  PCI_STATUS_INTERRUPT);
	cfg_write(bus, 3, 0x04, 2, 0x0007);
	ck_assert(f.up[19]);
	done(bus);
	/* Not wired (a small IOAPIC): the line register says so. */
	bus = mk(&f, false);
	ck_assert_int_eq(pci_bus_add(bus, 3, &d, &a), 0);
	ck_assert_uint_eq(cfg_read(bus, 3, 0x3c, 1), 0xff);
	pci_set_intx(a, true);
	ck_assert_uint_eq(f.lines, 0);
	done(bus);
}
END_TEST

START_TEST(pci_msi_sends_the_programmed_message)
{
	struct fake f;
	struct probe p = { 0 };
	struct pci_bus *bus = mk(&f, true);
	struct pci_function_desc d = probe_desc(&p);
	struct pci_function *fn;
	uint8_t cap;

	ck_assert_int_eq(pci_bus_add(bus, 3, &d, &fn), 0);
	ck_assert_uint_eq(cfg_read(bus, 3, 0x06, 2) & PCI_STATUS_CAP_LIST,
			  PCI_STATUS_CAP_LIST);
	cap = (uint8_t)cfg_read(bus, 3, 0x34, 1);
	ck_assert_uint_eq(cfg_read(bus, 3, cap, 1), PCI_CAP_ID_MSI);
	/* 64-bit, 4 vectors capable (MMC 2). */
	ck_assert_uint_eq(cfg_read(bus, 3, cap + 2, 2), 0x84);
	ck_assert(!pci_msi_notify(fn, 0));
	ck_assert_uint_eq(f.msis, 0);
	cfg_write(bus, 3, cap + 4, 4, 0xfee01000);
	cfg_write(bus, 3, cap + 8, 4, 0);
	cfg_write(bus, 3, cap + 12, 2, 0x4060);
	cfg_write(bus, 3, cap + 2, 2, 0x0011); /* enable, MME: 2 vectors */
	ck_assert(pci_msi_enabled(fn));
	/* Not a bus master yet: the device cannot write the message. */
	ck_assert(pci_msi_notify(fn, 1));
	ck_assert_uint_eq(f.msis, 0);
	cfg_write(bus, 3, 0x04, 2, 0x0007);
	ck_assert(pci_msi_notify(fn, 1));
	ck_assert_uint_eq(f.msis, 1);
	ck_assert_uint_eq(f.msi_addr, 0xfee01000);
	ck_assert_uint_eq(f.msi_data, 0x4061);
	/* A vector past the enabled ones is not sent. */
	ck_assert(pci_msi_notify(fn, 2));
	ck_assert_uint_eq(f.msis, 1);
	/* MMC is read-only; reserved control bits stay clear. */
	cfg_write(bus, 3, cap + 2, 2, 0xffff);
	ck_assert_uint_eq(cfg_read(bus, 3, cap + 2, 2), 0x00f5);
	done(bus);
}
END_TEST

START_TEST(pci_msix_masks_and_leaves_pending)
{
	struct fake f;
	struct probe p = { 0 };
	struct pci_bus *bus = mk(&f, true);
	struct pci_function_desc d = probe_desc(&p);
	struct pci_function *fn;
	uint32_t mem;
	uint8_t cap;

	d.msi_vectors = 0;
	d.msix_vectors = 8;
	d.msix_bar = 1;
	ck_assert_int_eq(pci_bus_add(bus, 4, &d, &fn), 0);
	cap = (uint8_t)cfg_read(bus, 4, 0x34, 1);
	ck_assert_uint_eq(cfg_read(bus, 4, cap, 1), PCI_CAP_ID_MSIX);
	ck_assert_uint_eq(cfg_read(bus, 4, cap + 2, 2), 7); /* 8 vectors */
	ck_assert_uint_eq(cfg_read(bus, 4, cap + 4, 4), 1); /* BIR 1, 0 */
	ck_assert_uint_eq(cfg_read(bus, 4, cap + 8, 4), 0x801);
	mem = (uint32_t)cfg_read(bus, 4, 0x14, 4);
	/* Entry 2: address, data; masked at reset. */
	ck_assert_uint_eq(win_read(bus, false, mem + 2 * 16 + 12, 4), 1);
	win_write(bus, false, mem + 2 * 16, 4, 0xfee00000);
	win_write(bus, false, mem + 2 * 16 + 8, 4, 0x41);
	cfg_write(bus, 4, cap + 2, 2, 0x8000); /* enable */
	cfg_write(bus, 4, 0x04, 2, 0x0007);   /* bus master */
	ck_assert(pci_msi_notify(fn, 2));
	ck_assert_uint_eq(f.msis, 0);
	ck_assert_uint_eq(win_read(bus, false, mem + 0x800, 8), 1u << 2);
	/* Unmasking sends the pending message and clears the bit. */
	win_write(bus, false, mem + 2 * 16 + 12, 4, 0);
	ck_assert_uint_eq(f.msis, 1);
	ck_assert_uint_eq(f.msi_data, 0x41);
	ck_assert_uint_eq(win_read(bus, false, mem + 0x800, 8), 0);
	/* Function Mask holds every vector back, then lets them go. */
	cfg_write(bus, 4, cap + 2, 2, 0xc000);
	pci_msi_notify(fn, 2);
	ck_assert_uint_eq(f.msis, 1);
	cfg_write(bus, 4, cap + 2, 2, 0x8000);
	ck_assert_uint_eq(f.msis, 2);
	/* The rest of the BAR is the device's. */
	ck_assert_uint_eq(win_read(bus, false, mem + 0x400, 4), 0x5a5a0400);
	done(bus);
}
END_TEST

START_TEST(pci_refuses_malformed_functions)
{
	struct fake f;
	struct probe p = { 0 };
	struct pci_bus *bus = mk(&f, true);
	struct pci_function_desc d;

	d = probe_desc(&p);
	d.bars[0].size = 24; /* not a power of two */
	ck_assert_int_eq(pci_bus_add(bus, 3, &d, NULL), -EINVAL);
	d = probe_desc(&p);
	d.msi_vectors = 3;
	ck_assert_int_eq(pci_bus_add(bus, 3, &d, NULL), -EINVAL);
	d = probe_desc(&p);
	d.bars[5] = (struct pci_bar_desc){ PCI_BAR_MEM64, 4096, false, NULL,
					   NULL };
	ck_assert_int_eq(pci_bus_add(bus, 3, &d, NULL), -EINVAL);
	d = probe_desc(&p);
	d.msix_vectors = 4;
	d.msix_bar = 0; /* an I/O BAR */
	ck_assert_int_eq(pci_bus_add(bus, 3, &d, NULL), -EINVAL);
	d = probe_desc(&p);
	ck_assert_int_eq(pci_bus_add(bus, 0, &d, NULL), -EINVAL);
	ck_assert_int_eq(pci_bus_add(bus, 32, &d, NULL), -EINVAL);
	ck_assert_int_eq(pci_bus_add(bus, 3, &d, NULL), 0);
	ck_assert_int_eq(pci_bus_add(bus, 3, &d, NULL), -EINVAL);
	/* More than the window holds. */
	d.bars[0].type = PCI_BAR_UNUSED;
	d.bars[1].type = PCI_BAR_UNUSED;
	d.bars[2].size = 1ull << 30;
	ck_assert_int_eq(pci_bus_add(bus, 4, &d, NULL), -ENOSPC);
	ck_assert_uint_eq(cfg_read(bus, 4, 0, 4), 0xffffffff);
	done(bus);
}
END_TEST

/* pci-testdev's header, read a byte at a time as kvm-unit-tests does. */
static void header_name(struct pci_bus *bus, bool io, uint64_t base,
			char *out, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		out[i] = (char)win_read(bus, io, base + 16 + i, 1);
		if (!out[i])
			break;
	}
	out[i] = 0;
}

START_TEST(pci_testdev_counts_writes_as_qemus)
{
	static const char *const names[] = {
		"mmio-no-eventfd", "mmio-wildcard-eventfd",
		"mmio-datamatch-eventfd", "portio-no-eventfd",
		"portio-wildcard-eventfd", "portio-datamatch-eventfd",
	};
	struct fake f;
	struct pci_bus *bus = mk(&f, true);
	struct pci_testdev *t;
	struct pci_function_desc d;
	struct pci_function *fn;
	char name[40];

	ck_assert_int_eq(pci_testdev_new(&t), 0);
	pci_testdev_desc(t, &d);
	ck_assert_int_eq(pci_bus_add(bus, 1, &d, &fn), 0);
	ck_assert_uint_eq(cfg_read(bus, 1, 0, 4), 0x00051b36);
	for (unsigned int i = 0; i < 6; i++) {
		bool io = i >= 3;
		uint64_t base = pci_bar_address(fn, io ? 1 : 0);
		uint32_t off, data;

		win_write(bus, io, base, 1, i % 3);
		ck_assert_uint_eq(win_read(bus, io, base, 1), i);
		ck_assert_uint_eq(win_read(bus, io, base + 1, 1), 1);
		off = (uint32_t)win_read(bus, io, base + 4, 4);
		data = (uint32_t)win_read(bus, io, base + 8, 4);
		ck_assert_uint_eq(off, (io ? 128 : 2048) + i);
		ck_assert_uint_eq(data, i % 3 == 1 ? 0xce : 0xfa);
		header_name(bus, io, base, name, sizeof(name));
		ck_assert_str_eq(name, names[i]);
		for (unsigned int n = 0; n < 16; n++)
			win_write(bus, io, base + off, 4, data);
		/* A datamatch test ignores other data; wildcard does not. */
		win_write(bus, io, base + off, 1, 0x11);
		ck_assert_uint_eq(win_read(bus, io, base + 12, 4),
				  i % 3 == 1 ? 17 : 16);
	}
	/* Test 3 of a kind does not exist: the header reads as zeros. */
	win_write(bus, false, pci_bar_address(fn, 0), 1, 3);
	ck_assert_uint_eq(win_read(bus, false, pci_bar_address(fn, 0) + 1, 1),
			  0);
	pci_testdev_mem_ops.destroy(t);
	done(bus);
}
END_TEST

START_TEST(pci_edu_raises_intx_then_msi)
{
	struct fake f;
	struct pci_bus *bus = mk(&f, true);
	struct pci_function_desc d;
	struct pci_function *fn;
	struct edu *e;
	uint64_t bar;
	uint8_t cap;

	ck_assert_int_eq(edu_new(&e), 0);
	edu_desc(e, &d);
	ck_assert_int_eq(pci_bus_add(bus, 2, &d, &fn), 0);
	edu_attach(e, fn);
	bar = pci_bar_address(fn, 0);
	ck_assert_uint_eq(cfg_read(bus, 2, 0, 4), 0x11e81234);
	ck_assert_uint_eq(win_read(bus, false, bar, 4), 0x010000ed);
	win_write(bus, false, bar + 4, 4, 0x12345678);
	ck_assert_uint_eq(win_read(bus, false, bar + 4, 4), 0xedcba987);
	win_write(bus, false, bar + 8, 4, 5);
	ck_assert_uint_eq(win_read(bus, false, bar + 8, 4), 120);
	/* INTA (slot 2: GSI 18) until MSI is on. */
	win_write(bus, false, bar + 0x60, 4, 0x10);
	ck_assert(f.up[18]);
	ck_assert_uint_eq(win_read(bus, false, bar + 0x24, 4), 0x10);
	win_write(bus, false, bar + 0x64, 4, 0x10);
	ck_assert(!f.up[18]);
	cap = (uint8_t)cfg_read(bus, 2, 0x34, 1);
	cfg_write(bus, 2, cap + 4, 4, 0xfee00000);
	cfg_write(bus, 2, cap + 12, 2, 0x45);
	cfg_write(bus, 2, cap + 2, 2, 1);
	cfg_write(bus, 2, 0x04, 2, 0x0006);
	win_write(bus, false, bar + 0x60, 4, 1);
	ck_assert_uint_eq(f.msis, 1);
	ck_assert_uint_eq(f.msi_data, 0x45);
	ck_assert(!f.up[18]);
	/* A factorial with the IRQ bit set raises too. */
	win_write(bus, false, bar + 0x20, 4, 0x80);
	win_write(bus, false, bar + 8, 4, 3);
	ck_assert_uint_eq(f.msis, 2);
	edu_ops.destroy(e);
	done(bus);
}
END_TEST

UNIT_SUITE("pci", pci_host_bridge_answers_mechanism_one,
	   pci_cf9_is_the_reset_register,
	   pci_bars_are_sized_assigned_and_decoded,
	   pci_intx_reaches_its_swizzled_gsi,
	   pci_msi_sends_the_programmed_message,
	   pci_msix_masks_and_leaves_pending, pci_refuses_malformed_functions,
	   pci_testdev_counts_writes_as_qemus, pci_edu_raises_intx_then_msi)
