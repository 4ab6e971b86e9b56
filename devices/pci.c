// SPDX-License-Identifier: MIT
/* The PCI bus: a host bridge, configuration mechanism #1, BARs, INTx, MSI. */
#include <errno.h>
#include <libfdt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fdt_machine.h"
#include "pci.h"

/*
 * References: PCI Local Bus Specification 3.0 (configuration header 6.1,
 * BARs 6.2.5.1, MSI 6.8.1, mechanism #1 3.2.2.3.2) and the PCI 3.0 MSI-X
 * ECN (table and PBA layout). Everything a guest writes here is
 * untrusted: every offset is bounds-checked, and a write changes only the
 * bits the spec lets software change.
 */

#define CONFIG_SPACE 256
#define CONFIG_ENABLE 0x80000000u

/* The capabilities, at fixed places after the standard header. */
#define MSI_CAP 0x40
#define MSI_CTL (MSI_CAP + 2)
#define MSI_ADDR_LO (MSI_CAP + 4)
#define MSI_ADDR_HI (MSI_CAP + 8)
#define MSI_DATA (MSI_CAP + 12)
#define MSI_CTL_ENABLE 0x1
#define MSI_CTL_64BIT 0x80
#define MSIX_CAP 0x50
#define MSIX_CTL (MSIX_CAP + 2)
#define MSIX_CTL_MASKALL 0x4000
#define MSIX_CTL_ENABLE 0x8000
#define MSIX_PBA_OFFSET 0x800
#define MSIX_ENTRY_SIZE 16
#define MSIX_ENTRY_MASKED 0x1

#define BAR_IO 0x1
#define BAR_MEM_TYPE64 0x4
#define BAR_MEM_PREFETCH 0x8

struct pci_function {
	struct pci_bus *bus;
	unsigned int slot;
	struct pci_function_desc desc;
	uint8_t cfg[CONFIG_SPACE];
	uint8_t wmask[CONFIG_SPACE];		/* bits software may change */
	bool intx_level;			/* what the device drives */
	bool intx_out;				/* what reaches the router */
	uint32_t msix[PCI_MSIX_MAX_VECTORS][4]; /* addr lo, hi, data, ctl */
	uint64_t msix_pending;
};

struct pci_bus {
	pthread_mutex_t lock;
	uint32_t address; /* CONFIG_ADDRESS, as the guest last wrote it */
	struct pci_function *slots[PCI_MAX_SLOTS];
	struct pci_hooks hooks;
	bool intx_wired;
	unsigned int gsi_asserted[PCI_INTX_GSIS]; /* wired-OR of the pins */
	struct pci_stats stats;
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

/* ---- BARs ---------------------------------------------------------- */

/* The BAR's base as the guest programmed it (0: not decoded). */
static uint64_t bar_base(const struct pci_function *f, unsigned int i)
{
	const struct pci_bar_desc *b = &f->desc.bars[i];
	uint32_t lo = get32(&f->cfg[PCI_BAR0 + 4 * i]);
	uint16_t cmd = get16(&f->cfg[PCI_COMMAND]);

	switch (b->type) {
	case PCI_BAR_IO:
		return cmd & PCI_COMMAND_IO ? lo & ~3u : 0;
	case PCI_BAR_MEM32:
		return cmd & PCI_COMMAND_MEMORY ? lo & ~15u : 0;
	case PCI_BAR_MEM64:
		return cmd & PCI_COMMAND_MEMORY
			       ? ((uint64_t)get32(&f->cfg[PCI_BAR0 + 4 * i + 4])
				  << 32) |
					 (lo & ~15u)
			       : 0;
	default:
		return 0;
	}
}

/* Sets the BAR's writable bits: the size is what stays zero (6.2.5.1). */
static void bar_init(struct pci_function *f, unsigned int i)
{
	const struct pci_bar_desc *b = &f->desc.bars[i];
	uint8_t *v = &f->cfg[PCI_BAR0 + 4 * i],
		*m = &f->wmask[PCI_BAR0 + 4 * i];
	uint64_t mask = ~(b->size - 1);

	switch (b->type) {
	case PCI_BAR_IO:
		put32(v, BAR_IO);
		put32(m, (uint32_t)mask & ~3u);
		break;
	case PCI_BAR_MEM32:
		put32(v, b->prefetchable ? BAR_MEM_PREFETCH : 0);
		put32(m, (uint32_t)mask & ~15u);
		break;
	case PCI_BAR_MEM64:
		put32(v, BAR_MEM_TYPE64 |
				 (b->prefetchable ? BAR_MEM_PREFETCH : 0));
		put32(m, (uint32_t)mask & ~15u);
		put32(m + 4, (uint32_t)(mask >> 32));
		break;
	default:
		break;
	}
}

/* ---- Interrupts ---------------------------------------------------- */

static unsigned int intx_gsi(const struct pci_function *f)
{
	return (f->slot + f->desc.intx_pin - 1) & (PCI_INTX_GSIS - 1);
}

/*
 * Recomputes the pin's output (the device's level unless the command
 * register disables INTx) and the status bit; returns the router line to
 * drive and its new level through *line and *level, or false if the
 * router's line does not change. Under the bus lock; the caller drives
 * the line after dropping it.
 */
static bool intx_update(struct pci_function *f, unsigned int *line, bool *level)
{
	struct pci_bus *bus = f->bus;
	uint16_t cmd = get16(&f->cfg[PCI_COMMAND]);
	uint16_t status = get16(&f->cfg[PCI_STATUS]);
	bool out = f->intx_level && !(cmd & PCI_COMMAND_INTX_DISABLE) &&
		   f->desc.intx_pin && bus->intx_wired;
	unsigned int g = intx_gsi(f);
	bool before, after;

	status = f->intx_level ? status | PCI_STATUS_INTERRUPT
			       : status & ~PCI_STATUS_INTERRUPT;
	put16(&f->cfg[PCI_STATUS], status);
	if (out == f->intx_out)
		return false;
	before = bus->gsi_asserted[g] > 0;
	bus->gsi_asserted[g] += out ? 1 : -1u;
	after = bus->gsi_asserted[g] > 0;
	f->intx_out = out;
	bus->stats.intx_changes++;
	*line = PCI_INTX_GSI_BASE + g;
	*level = after;
	return before != after;
}

static void drive_line(struct pci_bus *bus, unsigned int line, bool level)
{
	if (bus->hooks.intx.set)
		bus->hooks.intx.set(bus->hooks.intx.router, line, level);
}

void pci_set_intx(struct pci_function *f, bool level)
{
	struct pci_bus *bus = f->bus;
	unsigned int line;
	bool out, change;

	pthread_mutex_lock(&bus->lock);
	f->intx_level = level;
	change = intx_update(f, &line, &out);
	pthread_mutex_unlock(&bus->lock);
	if (change)
		drive_line(bus, line, out);
}

/* A message to send once the lock is dropped. */
struct msg {
	bool send;
	uint64_t address;
	uint32_t data;
};

static void msix_vector(struct pci_function *f, unsigned int n, struct msg *m)
{
	const uint32_t *e = f->msix[n];

	if ((get16(&f->cfg[MSIX_CTL]) & MSIX_CTL_MASKALL) ||
	    (e[3] & MSIX_ENTRY_MASKED)) {
		f->msix_pending |= 1ull << n;
		return;
	}
	f->msix_pending &= ~(1ull << n);
	*m = (struct msg){ true, (uint64_t)e[1] << 32 | e[0], e[2] };
}

static bool msi_message(struct pci_function *f, unsigned int n, struct msg *m)
{
	uint16_t ctl = get16(&f->cfg[MSI_CTL]);
	unsigned int allowed;
	uint32_t data;

	/* A message is a memory write the device makes: only as a bus
	 * master (PCI 3.0 6.8.1; QEMU's msi_notify() the same). */
	bool master = get16(&f->cfg[PCI_COMMAND]) & PCI_COMMAND_MASTER;

	if (f->desc.msix_vectors &&
	    (get16(&f->cfg[MSIX_CTL]) & MSIX_CTL_ENABLE)) {
		if (!master)
			return true;
		if (n < f->desc.msix_vectors)
			msix_vector(f, n, m);
		return true;
	}
	if (!f->desc.msi_vectors || !(ctl & MSI_CTL_ENABLE))
		return false;
	if (!master)
		return true;
	/* Multiple Message Enable: the low data bits carry the vector. */
	allowed = 1u << ((ctl >> 4) & 7);
	if (allowed > f->desc.msi_vectors)
		allowed = f->desc.msi_vectors;
	if (n >= allowed)
		return true;
	data = get16(&f->cfg[MSI_DATA]);
	data = (data & ~(allowed - 1)) | n;
	*m = (struct msg){ true,
			   (uint64_t)get32(&f->cfg[MSI_ADDR_HI]) << 32 |
				   get32(&f->cfg[MSI_ADDR_LO]),
			   data };
	return true;
}

static void send(struct pci_bus *bus, const struct msg *m)
{
	if (m->send && bus->hooks.msi)
		bus->hooks.msi(bus->hooks.ctx, m->address, m->data);
}

bool pci_msi_enabled(struct pci_function *f)
{
	bool on;

	pthread_mutex_lock(&f->bus->lock);
	on = (f->desc.msix_vectors &&
	      (get16(&f->cfg[MSIX_CTL]) & MSIX_CTL_ENABLE)) ||
	     (f->desc.msi_vectors &&
	      (get16(&f->cfg[MSI_CTL]) & MSI_CTL_ENABLE));
	pthread_mutex_unlock(&f->bus->lock);
	return on;
}

bool pci_msi_notify(struct pci_function *f, unsigned int n)
{
	struct msg m = { false, 0, 0 };
	bool on;

	pthread_mutex_lock(&f->bus->lock);
	on = msi_message(f, n, &m);
	if (m.send)
		f->bus->stats.msis++;
	pthread_mutex_unlock(&f->bus->lock);
	send(f->bus, &m);
	return on;
}

/* After an unmask: the first pending vector that may now go, if any. */
static void msix_release(struct pci_function *f, struct msg *m)
{
	if (!(get16(&f->cfg[MSIX_CTL]) & MSIX_CTL_ENABLE))
		return;
	for (unsigned int n = 0; n < f->desc.msix_vectors && !m->send; n++)
		if (f->msix_pending & (1ull << n))
			msix_vector(f, n, m);
}

/* ---- Configuration space ------------------------------------------- */

static void function_init(struct pci_function *f)
{
	const struct pci_function_desc *d = &f->desc;
	uint8_t caps = 0;

	memset(f->cfg, 0, sizeof(f->cfg));
	memset(f->wmask, 0, sizeof(f->wmask));
	put16(&f->cfg[PCI_VENDOR_ID], d->vendor);
	put16(&f->cfg[PCI_DEVICE_ID], d->device);
	f->cfg[PCI_REVISION] = d->revision;
	f->cfg[PCI_CLASS_PROG] = (uint8_t)d->class_code;
	put16(&f->cfg[PCI_CLASS_PROG + 1], (uint16_t)(d->class_code >> 8));
	put16(&f->cfg[PCI_SUBSYSTEM_VENDOR_ID], d->subsystem_vendor);
	put16(&f->cfg[PCI_SUBSYSTEM_ID], d->subsystem);
	f->cfg[PCI_INTERRUPT_PIN] = d->intx_pin;
	f->cfg[PCI_INTERRUPT_LINE] = 0xff; /* "unknown" until assigned */
	put16(&f->wmask[PCI_COMMAND], PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
					      PCI_COMMAND_MASTER |
					      PCI_COMMAND_INTX_DISABLE);
	f->wmask[0x0c] = 0xff; /* cache line size */
	f->wmask[0x0d] = 0xff; /* latency timer */
	f->wmask[PCI_INTERRUPT_LINE] = 0xff;
	for (unsigned int i = 0; i < PCI_BARS; i++)
		bar_init(f, i);
	if (d->msi_vectors) {
		unsigned int log2 = (unsigned int)__builtin_ctz(d->msi_vectors);

		f->cfg[MSI_CAP] = PCI_CAP_ID_MSI;
		f->cfg[MSI_CAP + 1] = d->msix_vectors ? MSIX_CAP : 0;
		put16(&f->cfg[MSI_CTL], (uint16_t)(MSI_CTL_64BIT | log2 << 1));
		put16(&f->wmask[MSI_CTL], 0x71); /* enable, MME */
		put32(&f->wmask[MSI_ADDR_LO], 0xfffffffc);
		put32(&f->wmask[MSI_ADDR_HI], 0xffffffff);
		put16(&f->wmask[MSI_DATA], 0xffff);
		caps = MSI_CAP;
	}
	if (d->msix_vectors) {
		f->cfg[MSIX_CAP] = PCI_CAP_ID_MSIX;
		put16(&f->cfg[MSIX_CTL], (uint16_t)(d->msix_vectors - 1));
		put16(&f->wmask[MSIX_CTL], MSIX_CTL_ENABLE | MSIX_CTL_MASKALL);
		put32(&f->cfg[MSIX_CAP + 4], d->msix_bar);
		put32(&f->cfg[MSIX_CAP + 8], MSIX_PBA_OFFSET | d->msix_bar);
		caps = caps ? caps : MSIX_CAP;
	}
	if (caps) {
		f->cfg[PCI_CAPABILITY_LIST] = caps;
		put16(&f->cfg[PCI_STATUS], PCI_STATUS_CAP_LIST);
	}
	/* Every vector masked, nothing pending (MSI-X ECN, 6.8.2.9). */
	memset(f->msix, 0, sizeof(f->msix));
	for (unsigned int n = 0; n < PCI_MSIX_MAX_VECTORS; n++)
		f->msix[n][3] = MSIX_ENTRY_MASKED;
	f->msix_pending = 0;
	f->intx_level = f->intx_out = false;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/*
 * What firmware does before an OS runs: every BAR an address in its
 * window, in slot and BAR order, aligned to its size; decoding on; the
 * INTx line register set to the pin's GSI.
 */
static int bus_assign(struct pci_bus *bus)
{
	uint64_t io = PCI_IO_WINDOW_BASE, mem = PCI_MEM_WINDOW_BASE;

	for (unsigned int s = 0; s < PCI_MAX_SLOTS; s++) {
		struct pci_function *f = bus->slots[s];
		uint16_t cmd = 0;

		if (!f)
			continue;
		for (unsigned int i = 0; i < PCI_BARS; i++) {
			const struct pci_bar_desc *b = &f->desc.bars[i];
			uint8_t *v = &f->cfg[PCI_BAR0 + 4 * i];
			uint64_t *next = b->type == PCI_BAR_IO ? &io : &mem;
			uint64_t end = b->type == PCI_BAR_IO
					       ? PCI_IO_WINDOW_BASE +
							 PCI_IO_WINDOW_SIZE
					       : PCI_MEM_WINDOW_BASE +
							 PCI_MEM_WINDOW_SIZE;
			uint64_t at;

			if (b->type == PCI_BAR_UNUSED)
				continue;
			at = align_up(*next, b->size);
			if (at + b->size > end)
				return -ENOSPC;
			*next = at + b->size;
			put32(v, get32(v) | (uint32_t)at);
			if (b->type == PCI_BAR_MEM64)
				put32(v + 4, (uint32_t)(at >> 32));
			cmd |= b->type == PCI_BAR_IO ? PCI_COMMAND_IO
						     : PCI_COMMAND_MEMORY;
		}
		/* Bus mastering stays off: a driver turns it on. */
		put16(&f->cfg[PCI_COMMAND], cmd);
		if (f->desc.intx_pin && bus->intx_wired)
			f->cfg[PCI_INTERRUPT_LINE] =
				(uint8_t)(PCI_INTX_GSI_BASE + intx_gsi(f));
	}
	return 0;
}

static struct pci_function *selected(struct pci_bus *bus)
{
	uint32_t a = bus->address;

	/* Bus 0, function 0 only: other functions and buses are absent. */
	if (!(a & CONFIG_ENABLE) || (a >> 16 & 0xff) || (a >> 8 & 7))
		return NULL;
	return bus->slots[a >> 11 & 0x1f];
}

/*
 * The register a data-port access at 0xcfc + k reaches. Bits 1:0 of
 * CONFIG_ADDRESS are kept and ORed in, as QEMU's host bridges do, so a
 * guest that selects register 2 and reads a word at 0xcfc (kvm-unit-tests'
 * pci_config_readw()) gets the device ID; an access that would run past
 * the dword is cut back to start inside it.
 */
static unsigned int config_reg(const struct pci_bus *bus, unsigned int k,
			       unsigned int len)
{
	unsigned int off = (bus->address & 3) | k;

	if (off + len > 4)
		off = 4 - len;
	return (bus->address & 0xfc) + off;
}

static uint64_t config_read(struct pci_bus *bus, unsigned int k,
			    unsigned int len)
{
	struct pci_function *f = selected(bus);
	unsigned int reg = config_reg(bus, k, len);
	uint64_t v = 0;

	bus->stats.config_reads++;
	if (!f)
		return io_all_ones(len);
	for (unsigned int i = 0; i < len; i++)
		v |= (uint64_t)f->cfg[reg + i] << (8 * i);
	return v;
}

static void config_write(struct pci_bus *bus, unsigned int k, unsigned int len,
			 uint64_t val, struct msg *m, unsigned int *line,
			 bool *level, bool *change)
{
	struct pci_function *f = selected(bus);
	unsigned int reg = config_reg(bus, k, len);

	bus->stats.config_writes++;
	if (!f)
		return;
	for (unsigned int i = 0; i < len; i++) {
		uint8_t w = f->wmask[reg + i], b = (uint8_t)(val >> (8 * i));

		f->cfg[reg + i] = (uint8_t)((f->cfg[reg + i] & ~w) | (b & w));
	}
	/* A write to the command register may disable or enable INTx. */
	if (reg <= PCI_COMMAND + 1 && reg + len > PCI_COMMAND)
		*change = intx_update(f, line, level);
	/* Clearing Function Mask may release a pending vector. */
	if (f->desc.msix_vectors && reg <= MSIX_CTL + 1 && reg + len > MSIX_CTL)
		msix_release(f, m);
}

static uint64_t config_port_read(void *dev, const struct io_access *a)
{
	struct pci_bus *bus = dev;
	uint64_t v = io_all_ones(a->len);

	if (a->offset == 1 && a->len == 1 && bus->hooks.cf9_ops &&
	    bus->hooks.cf9_ops->read)
		return bus->hooks.cf9_ops->read(bus->hooks.cf9_dev, a);
	pthread_mutex_lock(&bus->lock);
	if (a->offset == 0 && a->len == 4)
		v = bus->address;
	else if (a->offset >= 4)
		v = config_read(bus, (unsigned int)a->offset - 4, a->len);
	else
		bus->stats.ignored++;
	pthread_mutex_unlock(&bus->lock);
	return v;
}

static void config_port_write(void *dev, const struct io_access *a,
			      uint64_t val)
{
	struct pci_bus *bus = dev;
	struct msg m = { false, 0, 0 };
	unsigned int line = 0;
	bool level = false, change = false;

	/* 0xcf9 is the reset control register (PIIX3 RCR), not PCI's. */
	if (a->offset == 1 && a->len == 1) {
		if (bus->hooks.cf9_ops && bus->hooks.cf9_ops->write)
			bus->hooks.cf9_ops->write(bus->hooks.cf9_dev, a, val);
		return;
	}
	pthread_mutex_lock(&bus->lock);
	if (a->offset == 0 && a->len == 4)
		bus->address = (uint32_t)val & (CONFIG_ENABLE | 0xffffff);
	else if (a->offset >= 4)
		config_write(bus, (unsigned int)a->offset - 4, a->len, val, &m,
			     &line, &level, &change);
	else
		bus->stats.ignored++;
	pthread_mutex_unlock(&bus->lock);
	if (change)
		drive_line(bus, line, level);
	send(bus, &m);
}

/* ---- The windows --------------------------------------------------- */

/* Where an access in a window goes, found under the lock. */
struct target {
	struct pci_function *f;
	unsigned int bar;
	uint64_t offset;
};

static bool find_bar(struct pci_bus *bus, bool io, uint64_t addr,
		     unsigned int len, struct target *t)
{
	for (unsigned int s = 0; s < PCI_MAX_SLOTS; s++) {
		struct pci_function *f = bus->slots[s];

		for (unsigned int i = 0; f && i < PCI_BARS; i++) {
			const struct pci_bar_desc *b = &f->desc.bars[i];
			uint64_t base;

			if (b->type == PCI_BAR_UNUSED ||
			    (b->type == PCI_BAR_IO) != io)
				continue;
			base = bar_base(f, i);
			if (!base || addr < base || addr - base >= b->size ||
			    len > b->size - (addr - base))
				continue;
			*t = (struct target){ f, i, addr - base };
			return true;
		}
	}
	bus->stats.window_unclaimed++;
	return false;
}

/* The MSI-X table or PBA, if the access falls there. */
static bool msix_hit(const struct target *t)
{
	const struct pci_function_desc *d = &t->f->desc;

	return d->msix_vectors && t->bar == d->msix_bar &&
	       (t->offset < d->msix_vectors * MSIX_ENTRY_SIZE ||
		(t->offset >= MSIX_PBA_OFFSET &&
		 t->offset < MSIX_PBA_OFFSET + 8));
}

static uint64_t msix_read(struct pci_function *f, uint64_t off,
			  unsigned int len)
{
	uint8_t bytes[MSIX_ENTRY_SIZE + 8];
	uint64_t v = 0;

	if (off >= MSIX_PBA_OFFSET) {
		off -= MSIX_PBA_OFFSET;
		for (unsigned int i = 0; i < len && off + i < 8; i++)
			v |= ((f->msix_pending >> (8 * (off + i))) & 0xff)
			     << (8 * i);
		return v;
	}
	for (unsigned int w = 0; w < 4; w++)
		put32(&bytes[4 * w], f->msix[off / MSIX_ENTRY_SIZE][w]);
	memset(bytes + MSIX_ENTRY_SIZE, 0xff, 8);
	off %= MSIX_ENTRY_SIZE;
	for (unsigned int i = 0; i < len; i++)
		v |= (uint64_t)bytes[off + i] << (8 * i);
	return v;
}

static void msix_write(struct pci_function *f, uint64_t off, unsigned int len,
		       uint64_t val, struct msg *m)
{
	unsigned int n = (unsigned int)(off / MSIX_ENTRY_SIZE);
	uint8_t bytes[MSIX_ENTRY_SIZE];

	if (off >= MSIX_PBA_OFFSET)
		return; /* the PBA is read-only */
	for (unsigned int w = 0; w < 4; w++)
		put32(&bytes[4 * w], f->msix[n][w]);
	off %= MSIX_ENTRY_SIZE;
	for (unsigned int i = 0; i < len && off + i < MSIX_ENTRY_SIZE; i++)
		bytes[off + i] = (uint8_t)(val >> (8 * i));
	for (unsigned int w = 0; w < 4; w++)
		f->msix[n][w] = get32(&bytes[4 * w]);
	f->msix[n][3] &= MSIX_ENTRY_MASKED; /* the rest is reserved */
	if (!(f->msix[n][3] & MSIX_ENTRY_MASKED) &&
	    (f->msix_pending & (1ull << n)) &&
	    (get16(&f->cfg[MSIX_CTL]) & MSIX_CTL_ENABLE))
		msix_vector(f, n, m);
}

static uint64_t window_read(struct pci_bus *bus, bool io,
			    const struct io_access *a)
{
	struct target t;
	struct io_access inner = *a;
	const struct pci_bar_desc *b;
	uint64_t v;

	pthread_mutex_lock(&bus->lock);
	if (!find_bar(bus, io, a->addr, a->len, &t)) {
		pthread_mutex_unlock(&bus->lock);
		return io_all_ones(a->len);
	}
	if (msix_hit(&t)) {
		v = msix_read(t.f, t.offset, a->len);
		pthread_mutex_unlock(&bus->lock);
		return v;
	}
	b = &t.f->desc.bars[t.bar];
	pthread_mutex_unlock(&bus->lock);
	if (!b->ops || !b->ops->read)
		return io_all_ones(a->len);
	inner.offset = t.offset;
	return b->ops->read(b->dev, &inner);
}

static void window_write(struct pci_bus *bus, bool io,
			 const struct io_access *a, uint64_t val)
{
	struct target t;
	struct io_access inner = *a;
	const struct pci_bar_desc *b;
	struct msg m = { false, 0, 0 };

	pthread_mutex_lock(&bus->lock);
	if (!find_bar(bus, io, a->addr, a->len, &t)) {
		pthread_mutex_unlock(&bus->lock);
		return;
	}
	if (msix_hit(&t)) {
		msix_write(t.f, t.offset, a->len, val, &m);
		pthread_mutex_unlock(&bus->lock);
		send(bus, &m);
		return;
	}
	b = &t.f->desc.bars[t.bar];
	pthread_mutex_unlock(&bus->lock);
	if (b->ops && b->ops->write) {
		inner.offset = t.offset;
		b->ops->write(b->dev, &inner, val);
	}
}

static uint64_t io_window_read(void *dev, const struct io_access *a)
{
	return window_read(dev, true, a);
}

static void io_window_write(void *dev, const struct io_access *a, uint64_t val)
{
	window_write(dev, true, a, val);
}

static uint64_t mem_window_read(void *dev, const struct io_access *a)
{
	return window_read(dev, false, a);
}

static void mem_window_write(void *dev, const struct io_access *a, uint64_t val)
{
	window_write(dev, false, a, val);
}

/* ---- The bus ------------------------------------------------------- */

static bool desc_valid(const struct pci_function_desc *d)
{
	unsigned int i;

	if (d->intx_pin > 4 || d->msi_vectors > PCI_MSI_MAX_VECTORS ||
	    (d->msi_vectors & (d->msi_vectors - 1)) ||
	    d->msix_vectors > PCI_MSIX_MAX_VECTORS || d->msix_bar >= PCI_BARS)
		return false;
	for (i = 0; i < PCI_BARS; i++) {
		const struct pci_bar_desc *b = &d->bars[i];
		bool io = b->type == PCI_BAR_IO;

		if (b->type == PCI_BAR_UNUSED)
			continue;
		if (b->size & (b->size - 1) || b->size < (io ? 4u : 16u) ||
		    b->size > (io ? 256u : 1ull << 30) ||
		    (b->type == PCI_BAR_MEM64 &&
		     (i == PCI_BARS - 1 ||
		      d->bars[i + 1].type != PCI_BAR_UNUSED)))
			return false;
	}
	/* The MSI-X table and PBA need a memory BAR that holds both. */
	if (d->msix_vectors) {
		const struct pci_bar_desc *b = &d->bars[d->msix_bar];

		if ((b->type != PCI_BAR_MEM32 && b->type != PCI_BAR_MEM64) ||
		    b->size < MSIX_PBA_OFFSET + 8)
			return false;
	}
	return true;
}

static int bus_plug(struct pci_bus *bus, unsigned int slot,
		    const struct pci_function_desc *desc,
		    struct pci_function **ret)
{
	struct pci_function *f;

	if (slot >= PCI_MAX_SLOTS || bus->slots[slot] || !desc_valid(desc))
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->bus = bus;
	f->slot = slot;
	f->desc = *desc;
	function_init(f);
	bus->slots[slot] = f;
	if (ret)
		*ret = f;
	return 0;
}

int pci_bus_new(const struct pci_hooks *hooks, bool intx_wired,
		struct pci_bus **ret)
{
	/* Intel's 440FX host bridge, as QEMU's pc machine has it. */
	static const struct pci_function_desc bridge = {
		.name = "i440FX",
		.vendor = 0x8086,
		.device = 0x1237,
		.subsystem_vendor = 0x1af4,
		.subsystem = 0x1100,
		.revision = 2,
		.class_code = 0x060000,
	};
	struct pci_bus *bus;
	int r;

	if (!ret)
		return -EINVAL;
	bus = calloc(1, sizeof(*bus));
	if (!bus)
		return -ENOMEM;
	if (pthread_mutex_init(&bus->lock, NULL)) {
		free(bus);
		return -ENOMEM;
	}
	if (hooks)
		bus->hooks = *hooks;
	bus->intx_wired = intx_wired && bus->hooks.intx.set;
	r = bus_plug(bus, 0, &bridge, NULL);
	if (r) {
		pci_config_ops.destroy(bus);
		return r;
	}
	*ret = bus;
	return 0;
}

int pci_bus_add(struct pci_bus *bus, unsigned int slot,
		const struct pci_function_desc *desc, struct pci_function **ret)
{
	int r;

	if (!bus || !desc || slot == 0)
		return -EINVAL;
	pthread_mutex_lock(&bus->lock);
	r = bus_plug(bus, slot, desc, ret);
	if (!r) {
		r = bus_assign(bus);
		if (r) {
			free(bus->slots[slot]);
			bus->slots[slot] = NULL;
			bus_assign(bus);
		}
	}
	pthread_mutex_unlock(&bus->lock);
	return r;
}

uint64_t pci_bar_address(struct pci_function *f, unsigned int i)
{
	uint64_t a;

	if (i >= PCI_BARS)
		return 0;
	pthread_mutex_lock(&f->bus->lock);
	a = bar_base(f, i);
	pthread_mutex_unlock(&f->bus->lock);
	return a;
}

void pci_get_stats(struct pci_bus *bus, struct pci_stats *ret)
{
	pthread_mutex_lock(&bus->lock);
	*ret = bus->stats;
	pthread_mutex_unlock(&bus->lock);
}

/* Back to the firmware's state: the devices reset themselves. */
static void pci_reset(void *dev)
{
	struct pci_bus *bus = dev;

	pthread_mutex_lock(&bus->lock);
	bus->address = 0;
	for (unsigned int s = 0; s < PCI_MAX_SLOTS; s++)
		if (bus->slots[s])
			function_init(bus->slots[s]);
	memset(bus->gsi_asserted, 0, sizeof(bus->gsi_asserted));
	bus_assign(bus);
	pthread_mutex_unlock(&bus->lock);
	for (unsigned int g = 0; bus->intx_wired && g < PCI_INTX_GSIS; g++)
		drive_line(bus, PCI_INTX_GSI_BASE + g, false);
}

static int pci_describe(void *dev, void *fdt, int parent)
{
	const struct pci_bus *bus = dev;
	const fdt32_t io[] = { cpu_to_fdt32(PCI_IO_WINDOW_BASE),
			       cpu_to_fdt32(PCI_IO_WINDOW_SIZE) };
	const fdt32_t mem[] = { cpu_to_fdt32((uint32_t)PCI_MEM_WINDOW_BASE),
				cpu_to_fdt32((uint32_t)PCI_MEM_WINDOW_SIZE) };
	int off = fdt_add_isa_device(fdt, parent, "pci", "splitvm,pci-cf8",
				     PCI_CONFIG_PORT, PCI_CONFIG_SIZE, -1);
	int r;

	if (off < 0)
		return off;
	r = fdt_setprop(fdt, off, "splitvm,io-window", io, sizeof(io));
	if (!r)
		r = fdt_setprop(fdt, off, "splitvm,mem-window", mem,
				sizeof(mem));
	if (!r && bus->intx_wired)
		r = fdt_setprop_u32(fdt, off, "splitvm,intx-gsi-base",
				    PCI_INTX_GSI_BASE);
	if (r < 0)
		return r == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
	return 0;
}

static void pci_destroy(void *dev)
{
	struct pci_bus *bus = dev;

	if (!bus)
		return;
	for (unsigned int s = 0; s < PCI_MAX_SLOTS; s++)
		free(bus->slots[s]);
	pthread_mutex_destroy(&bus->lock);
	free(bus);
}

/* ---- Snapshots ----------------------------------------------------- */

/*
 * The blob, little-endian: "PCIB", the format version (u32), a bitmap of
 * the occupied slots (u32) and whether INTx is wired (u32, bit 0): the
 * configuration it was taken from; the CONFIG_ADDRESS latch (u32), the
 * counters pci_get_stats() reports
 * (6 x u64); then for each function, in slot order, its configuration
 * space (256 bytes), the log2 of each BAR's size (6 x u8, 0 for none),
 * the level its device drives on INTx (u8), the MSI-X pending bits (u64)
 * and its MSI-X table (4 x u32 per vector). The slots and BAR sizes, with
 * the read-only fields of each configuration space (IDs, class, BAR
 * types, capabilities), identify the configuration the blob belongs to.
 * What reaches the router (intx_out, gsi_asserted) follows from those.
 * The BARs' devices save their own state.
 */
enum {
	SNAP_SLOTS = 8,
	SNAP_WIRED = 12,
	SNAP_ADDRESS = 16,
	SNAP_STATS = 20,
	SNAP_FUNCTIONS = 68,
	/* Offsets inside one function's part. */
	SNAP_FN_CFG = 0,
	SNAP_FN_BAR_SIZES = CONFIG_SPACE,
	SNAP_FN_INTX = SNAP_FN_BAR_SIZES + PCI_BARS,
	SNAP_FN_PENDING = SNAP_FN_INTX + 1,
	SNAP_FN_MSIX = SNAP_FN_PENDING + 8,
};

#define SNAP_VERSION 1
#define SNAP_STATS_N 6

static const uint8_t snap_head[8] = {'P', 'C', 'I', 'B', SNAP_VERSION};

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void snap_put_stats(uint8_t *p, const struct pci_stats *st)
{
	const uint64_t v[SNAP_STATS_N] = {
		st->config_reads, st->config_writes, st->window_unclaimed,
		st->msis,	  st->intx_changes,  st->ignored,
	};

	for (unsigned int i = 0; i < SNAP_STATS_N; i++)
		put64(p + 8 * i, v[i]);
}

static void snap_get_stats(const uint8_t *p, struct pci_stats *st)
{
	st->config_reads = get64(p);
	st->config_writes = get64(p + 8);
	st->window_unclaimed = get64(p + 16);
	st->msis = get64(p + 24);
	st->intx_changes = get64(p + 32);
	st->ignored = get64(p + 40);
}

static size_t snap_fn_len(const struct pci_function *f)
{
	return SNAP_FN_MSIX + (size_t)f->desc.msix_vectors * MSIX_ENTRY_SIZE;
}

/* The blob's length and slot bitmap for this bus. */
static size_t snap_len(const struct pci_bus *bus, uint32_t *ret_slots)
{
	size_t len = SNAP_FUNCTIONS;

	*ret_slots = 0;
	for (unsigned int s = 0; s < PCI_MAX_SLOTS; s++) {
		if (!bus->slots[s])
			continue;
		*ret_slots |= 1u << s;
		len += snap_fn_len(bus->slots[s]);
	}
	return len;
}

/* log2 of BAR i's size, 0 for an unused BAR (sizes are at least 4). */
static uint8_t bar_size_log2(const struct pci_function *f, unsigned int i)
{
	const struct pci_bar_desc *b = &f->desc.bars[i];

	if (b->type == PCI_BAR_UNUSED)
		return 0;
	return (uint8_t)__builtin_ctzll(b->size);
}

static uint8_t *snap_put_function(uint8_t *p, const struct pci_function *f)
{
	memcpy(p + SNAP_FN_CFG, f->cfg, CONFIG_SPACE);
	for (unsigned int i = 0; i < PCI_BARS; i++)
		p[SNAP_FN_BAR_SIZES + i] = bar_size_log2(f, i);
	p[SNAP_FN_INTX] = f->intx_level;
	put64(p + SNAP_FN_PENDING, f->msix_pending);
	for (unsigned int n = 0; n < f->desc.msix_vectors; n++)
		for (unsigned int w = 0; w < 4; w++)
			put32(p + SNAP_FN_MSIX + MSIX_ENTRY_SIZE * n + 4 * w,
			      f->msix[n][w]);
	return p + snap_fn_len(f);
}

static int pci_save(void *dev, void *buf, size_t cap, uint64_t now)
{
	struct pci_bus *bus = dev;
	uint8_t *p = buf;
	uint32_t slots;
	size_t len;

	pthread_mutex_lock(&bus->lock);
	len = snap_len(bus, &slots);
	if (cap < len) {
		pthread_mutex_unlock(&bus->lock);
		return -ENOSPC;
	}
	memcpy(p, snap_head, sizeof(snap_head));
	put32(p + SNAP_SLOTS, slots);
	put32(p + SNAP_WIRED, bus->intx_wired);
	put32(p + SNAP_ADDRESS, bus->address);
	snap_put_stats(p + SNAP_STATS, &bus->stats);
	p += SNAP_FUNCTIONS;
	for (unsigned int s = 0; s < PCI_MAX_SLOTS; s++)
		if (bus->slots[s])
			p = snap_put_function(p, bus->slots[s]);
	pthread_mutex_unlock(&bus->lock);
	return (int)len;
}

/*
 * Whether f could have reached the blob's part p: its BARs have f's
 * sizes, the bits software
 * cannot change (PCI 3.0 6.1: IDs, class, header type, BAR type and
 * size bits 6.2.5.1, the capabilities and their read-only fields, MSI
 * 6.8.1 and the MSI-X ECN's table size and BIR) are f's own, except
 * Status.Interrupt, which the device's INTx level sets (6.2.3); only
 * present vectors are pending, and a table entry's control word holds
 * nothing but its mask bit.
 */
static bool snap_function_valid(const struct pci_function *f,
				const uint8_t *p)
{
	unsigned int nv = f->desc.msix_vectors;
	uint8_t intx = p[SNAP_FN_INTX];
	uint64_t pending = get64(p + SNAP_FN_PENDING);

	if (intx > 1 || (nv < 64 && pending >> nv))
		return false;
	for (unsigned int i = 0; i < PCI_BARS; i++)
		if (p[SNAP_FN_BAR_SIZES + i] != bar_size_log2(f, i))
			return false;
	if (!(p[SNAP_FN_CFG + PCI_STATUS] & PCI_STATUS_INTERRUPT) != !intx)
		return false;
	for (unsigned int i = 0; i < CONFIG_SPACE; i++) {
		uint8_t ro = (uint8_t)~f->wmask[i];

		if (i == PCI_STATUS)
			ro &= (uint8_t)~PCI_STATUS_INTERRUPT;
		if ((p[SNAP_FN_CFG + i] ^ f->cfg[i]) & ro)
			return false;
	}
	for (unsigned int n = 0; n < nv; n++)
		if (get32(p + SNAP_FN_MSIX + MSIX_ENTRY_SIZE * n + 12) &
		    ~MSIX_ENTRY_MASKED)
			return false;
	return true;
}

/* Everything checked before the bus changes: all or nothing. Locked. */
static bool snap_valid(const struct pci_bus *bus, const uint8_t *p,
		       size_t len)
{
	uint32_t slots;

	if (len < SNAP_FUNCTIONS || memcmp(p, snap_head, sizeof(snap_head)) ||
	    snap_len(bus, &slots) != len || get32(p + SNAP_SLOTS) != slots ||
	    get32(p + SNAP_WIRED) != bus->intx_wired ||
	    (get32(p + SNAP_ADDRESS) & ~(CONFIG_ENABLE | 0xffffff)))
		return false;
	p += SNAP_FUNCTIONS;
	for (unsigned int s = 0; s < PCI_MAX_SLOTS; s++) {
		const struct pci_function *f = bus->slots[s];

		if (!f)
			continue;
		if (!snap_function_valid(f, p))
			return false;
		p += snap_fn_len(f);
	}
	return true;
}

static const uint8_t *snap_get_function(struct pci_function *f,
					const uint8_t *p)
{
	memcpy(f->cfg, p + SNAP_FN_CFG, CONFIG_SPACE);
	f->intx_level = p[SNAP_FN_INTX];
	f->msix_pending = get64(p + SNAP_FN_PENDING);
	for (unsigned int n = 0; n < f->desc.msix_vectors; n++)
		for (unsigned int w = 0; w < 4; w++)
			f->msix[n][w] = get32(p + SNAP_FN_MSIX +
					      MSIX_ENTRY_SIZE * n + 4 * w);
	return p + snap_fn_len(f);
}

/*
 * What reaches the router again, from the loaded levels and command
 * registers (as intx_update() works it out), without counting changes;
 * returns the GSIs' levels as a bitmap.
 */
static unsigned int snap_rewire_intx(struct pci_bus *bus)
{
	unsigned int up = 0;

	memset(bus->gsi_asserted, 0, sizeof(bus->gsi_asserted));
	for (unsigned int s = 0; s < PCI_MAX_SLOTS; s++) {
		struct pci_function *f = bus->slots[s];
		uint16_t cmd;

		if (!f)
			continue;
		cmd = get16(&f->cfg[PCI_COMMAND]);
		f->intx_out = f->intx_level &&
			      !(cmd & PCI_COMMAND_INTX_DISABLE) &&
			      f->desc.intx_pin && bus->intx_wired;
		if (f->intx_out)
			bus->gsi_asserted[intx_gsi(f)]++;
	}
	for (unsigned int g = 0; g < PCI_INTX_GSIS; g++)
		if (bus->gsi_asserted[g])
			up |= 1u << g;
	return up;
}

/*
 * Pending MSI-X vectors stay pending (the guest's unmask sends them), and
 * an MSI already sent is not sent again: only the INTx lines are driven,
 * those whose level the load changes.
 */
static int pci_load(void *dev, const void *buf, size_t len, uint64_t now)
{
	struct pci_bus *bus = dev;
	const uint8_t *p = buf;
	unsigned int before = 0, after;

	pthread_mutex_lock(&bus->lock);
	if (!snap_valid(bus, p, len)) {
		pthread_mutex_unlock(&bus->lock);
		return -EINVAL;
	}
	bus->address = get32(p + SNAP_ADDRESS);
	snap_get_stats(p + SNAP_STATS, &bus->stats);
	for (unsigned int g = 0; g < PCI_INTX_GSIS; g++)
		if (bus->gsi_asserted[g])
			before |= 1u << g;
	p += SNAP_FUNCTIONS;
	for (unsigned int s = 0; s < PCI_MAX_SLOTS; s++)
		if (bus->slots[s])
			p = snap_get_function(bus->slots[s], p);
	after = snap_rewire_intx(bus);
	pthread_mutex_unlock(&bus->lock);
	for (unsigned int g = 0; bus->intx_wired && g < PCI_INTX_GSIS; g++)
		if ((before ^ after) & (1u << g))
			drive_line(bus, PCI_INTX_GSI_BASE + g, after >> g & 1);
	return 0;
}

/*
 * The windows' tables serve the same bus: its state is all in
 * pci_config_ops' blob, so theirs are empty.
 */
static int pci_window_save(void *dev, void *buf, size_t cap, uint64_t now)
{
	return 0;
}

static int pci_window_load(void *dev, const void *buf, size_t len,
			   uint64_t now)
{
	return len ? -EINVAL : 0;
}

const struct device_ops pci_config_ops = {
	.name = "pci",
	.read = config_port_read,
	.write = config_port_write,
	.reset = pci_reset,
	.describe = pci_describe,
	.destroy = pci_destroy,
	.save = pci_save,
	.load = pci_load,
};

const struct device_ops pci_io_window_ops = {
	.name = "pci-io",
	.read = io_window_read,
	.write = io_window_write,
	.save = pci_window_save,
	.load = pci_window_load,
};

const struct device_ops pci_mem_window_ops = {
	.name = "pci-mem",
	.read = mem_window_read,
	.write = mem_window_write,
	.save = pci_window_save,
	.load = pci_window_load,
};
