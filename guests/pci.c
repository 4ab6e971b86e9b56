// SPDX-License-Identifier: MIT
/*
 * PCI as Linux finds it: configuration mechanism #1, the bus walked slot
 * by slot, BARs sized with decoding off, QEMU's pci-testdev driven as
 * kvm-unit-tests drives it, and QEMU's edu device taking an INTx through
 * the IOAPIC and an MSI. Runs under splitvm (--device edu) and QEMU pc
 * (-device edu -device pci-testdev) alike.
 */
#include "guest.h"

#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc

#define VEC_INTX 0x51
#define VEC_MSI 0x52

static uint32_t cfg_addr(unsigned int slot, unsigned int reg)
{
	return 0x80000000u | slot << 11 | (reg & 0xfc);
}

static uint32_t cfg_read32(unsigned int slot, unsigned int reg)
{
	outl(PCI_ADDR, cfg_addr(slot, reg));
	return inl(PCI_DATA);
}

static uint16_t cfg_read16(unsigned int slot, unsigned int reg)
{
	outl(PCI_ADDR, cfg_addr(slot, reg));
	return inw(PCI_DATA + (reg & 2));
}

static uint8_t cfg_read8(unsigned int slot, unsigned int reg)
{
	outl(PCI_ADDR, cfg_addr(slot, reg));
	return inb(PCI_DATA + (reg & 3));
}

static void cfg_write32(unsigned int slot, unsigned int reg, uint32_t v)
{
	outl(PCI_ADDR, cfg_addr(slot, reg));
	outl(PCI_DATA, v);
}

static void cfg_write16(unsigned int slot, unsigned int reg, uint16_t v)
{
	outl(PCI_ADDR, cfg_addr(slot, reg));
	outw(PCI_DATA + (reg & 2), v);
}

struct bar {
	bool io, is64;
	uint64_t addr, size;
};

/*
 * Sizes BAR i as Linux's __pci_read_base() does: decoding off, all ones
 * written, the size read back, the old value restored. Returns the next
 * BAR's index (a 64-bit BAR takes two).
 */
static unsigned int size_bar(unsigned int slot, unsigned int i,
			     struct bar *b)
{
	unsigned int reg = 0x10 + 4 * i;
	uint16_t cmd = cfg_read16(slot, 0x04);
	uint32_t lo = cfg_read32(slot, reg), mask, hi = 0, hmask = 0;

	cfg_write16(slot, 0x04, cmd & ~3);
	cfg_write32(slot, reg, 0xffffffff);
	mask = cfg_read32(slot, reg);
	cfg_write32(slot, reg, lo);
	b->io = lo & 1;
	b->is64 = !b->io && (lo & 6) == 4;
	if (b->is64) {
		hi = cfg_read32(slot, reg + 4);
		cfg_write32(slot, reg + 4, 0xffffffff);
		hmask = cfg_read32(slot, reg + 4);
		cfg_write32(slot, reg + 4, hi);
	}
	cfg_write16(slot, 0x04, cmd);
	if (b->io) {
		b->addr = lo & ~3u;
		mask = (mask & ~3u) | 0xffff0000u; /* 16 address bits */
		b->size = mask ? (uint32_t)(~mask + 1) : 0;
	} else {
		uint64_t m = (uint64_t)hmask << 32 | (mask & ~15u);

		if (!b->is64)
			m |= 0xffffffff00000000ull;
		b->addr = (uint64_t)hi << 32 | (lo & ~15u);
		b->size = (m & 0xffffffffu) || hmask ? ~m + 1 : 0;
	}
	return i + (b->is64 ? 2 : 1);
}

static int find(uint16_t vendor, uint16_t device)
{
	for (unsigned int slot = 0; slot < 32; slot++)
		if (cfg_read32(slot, 0) == ((uint32_t)device << 16 | vendor))
			return (int)slot;
	return -1;
}

/* The walk: every function present, its class and BARs. */
static void walk(void)
{
	unsigned int found = 0, host = 0;

	for (unsigned int slot = 0; slot < 32; slot++) {
		uint32_t id = cfg_read32(slot, 0);

		if ((id & 0xffff) == 0xffff)
			continue;
		found++;
		host += cfg_read16(slot, 0x0a) == 0x0600;
		printf("pci: 00:%02x.0 %04x:%04x class %06x\n", slot,
		       id & 0xffff, id >> 16, cfg_read32(slot, 0x08) >> 8);
		for (unsigned int i = 0; i < 6;) {
			struct bar b;

			i = size_bar(slot, i, &b);
			if (b.size)
				printf("pci:   BAR: %s 0x%lx, %lu bytes\n",
				       b.io ? "io" : b.is64 ? "mem64" : "mem",
				       b.addr, b.size);
		}
	}
	reportf(host == 1, "one host bridge on bus 0 (%u)", host);
	reportf(found >= 3, "the walk finds the bridge, pci-testdev and edu "
		"(%u functions)", found);
}

/* kvm-unit-tests' pci_testdev_one(): n writes at the header's offset. */
static bool testdev_one(bool io, uint64_t base, unsigned int t)
{
	uint32_t off, data, count;
	uint8_t width;

	if (io)
		outb((uint16_t)base, (uint8_t)t);
	else
		mmio_write8(base, (uint8_t)t);
	count = io ? inl((uint16_t)(base + 12)) : mmio_read32(base + 12);
	width = io ? inb((uint16_t)(base + 1)) : mmio_read8(base + 1);
	if (count || (width != 1 && width != 2 && width != 4))
		return false;
	data = io ? inl((uint16_t)(base + 8)) : mmio_read32(base + 8);
	off = io ? inl((uint16_t)(base + 4)) : mmio_read32(base + 4);
	for (unsigned int i = 0; i < 16; i++) {
		if (io)
			outb((uint16_t)(base + off), (uint8_t)data);
		else
			mmio_write8(base + off, (uint8_t)data);
	}
	count = io ? inl((uint16_t)(base + 12)) : mmio_read32(base + 12);
	/* 0: an eventfd took the writes (QEMU with ioeventfd). */
	return count == 0 || count == 16;
}

static void test_testdev(void)
{
	int slot = find(0x1b36, 0x0005);
	struct bar mem, io;
	unsigned int n = 0;

	reportf(slot > 0, "pci-testdev (1b36:0005) is on the bus (slot %d)",
		slot);
	if (slot <= 0)
		return;
	size_bar((unsigned int)slot, 0, &mem);
	size_bar((unsigned int)slot, 1, &io);
	reportf(!mem.io && mem.size == 4096 && io.io && io.size == 256,
		"pci-testdev: BAR 0 is 4 KiB of memory, BAR 1 256 ports");
	reportf(mem.addr % mem.size == 0 && io.addr % io.size == 0 &&
			mem.addr && io.addr,
		"pci-testdev: firmware placed both BARs, aligned");
	for (unsigned int t = 0; testdev_one(false, mem.addr, t); t++)
		n++;
	for (unsigned int t = 0; testdev_one(true, io.addr, t); t++)
		n++;
	reportf(n == 6, "pci-testdev: 6 tests run through both BARs (%u)",
		n);
}

static volatile uint64_t edu_bar;

static void intx_handler(struct ex_regs *regs)
{
	irq_count[VEC_INTX]++;
	mmio_write32(edu_bar + 0x64, mmio_read32(edu_bar + 0x24));
	lapic_eoi();
}

static void msi_handler(struct ex_regs *regs)
{
	irq_count[VEC_MSI]++;
	mmio_write32(edu_bar + 0x64, mmio_read32(edu_bar + 0x24));
	lapic_eoi();
}

/* The MSI capability's offset, walking the capability list. */
static unsigned int msi_cap(unsigned int slot)
{
	unsigned int cap = cfg_read8(slot, 0x34), guard = 0;

	while (cap && guard++ < 48) {
		if (cfg_read8(slot, cap) == 0x05)
			return cap;
		cap = cfg_read8(slot, cap + 1);
	}
	return 0;
}

static void test_edu(void)
{
	int slot = find(0x1234, 0x11e8);
	unsigned int gsi, cap, intx = 0;
	struct bar b;

	reportf(slot > 0, "edu (1234:11e8) is on the bus (slot %d)", slot);
	if (slot <= 0)
		return;
	size_bar((unsigned int)slot, 0, &b);
	reportf(!b.io && b.size == 0x100000,
		"edu: BAR 0 is 1 MiB of memory (%lu bytes)", b.size);
	edu_bar = b.addr;
	reportf(mmio_read32(edu_bar) == 0x010000ed,
		"edu: identification 0x010000ed (0x%08x)",
		mmio_read32(edu_bar));
	mmio_write32(edu_bar + 4, 0x12345678);
	reportf(mmio_read32(edu_bar + 4) == ~0x12345678u,
		"edu: the liveness register inverts");
	mmio_write32(edu_bar + 8, 10);
	spin_until(!(mmio_read32(edu_bar + 0x20) & 1), 100000);
	reportf(mmio_read32(edu_bar + 8) == 3628800, "edu: 10! = 3628800");

	/* INTA: the line register names the GSI, level and active low. */
	gsi = cfg_read8((unsigned int)slot, 0x3c);
	reportf(cfg_read8((unsigned int)slot, 0x3d) == 1 && gsi < ioapic_pins(),
		"edu: INTA, routed to IOAPIC pin %u", gsi);
	set_idt_handler(VEC_INTX, intx_handler);
	set_idt_handler(VEC_MSI, msi_handler);
	if (gsi < ioapic_pins()) {
		ioapic_write_entry(gsi,
				   ioapic_entry(VEC_INTX,
						IOAPIC_LEVEL | IOAPIC_ACTIVE_LOW,
						lapic_id()));
		irq_enable();
		mmio_write32(edu_bar + 0x60, 1);
		reportf(wait_until(irq_count[VEC_INTX] >= 1, IRQ_TIMEOUT_MS),
			"edu: INTx arrives through the IOAPIC (%u)",
			irq_count[VEC_INTX]);
		sleep_ms(IRQ_QUIET_MS);
		/*
		 * The handler acknowledges the device before its EOI, so
		 * the line is low when the IOAPIC sees the EOI: one
		 * interrupt. A LAPIC that EOIs at delivery (see
		 * lapic_keeps_in_service) lets the still-high line through
		 * once more before the handler runs.
		 */
		intx = irq_count[VEC_INTX];
		reportf((intx == 1 || (!lapic_keeps_in_service && intx == 2)) &&
				!ioapic_remote_irr(gsi),
			"edu: acknowledged, the level line drops and stays "
			"quiet (%u)",
			intx);
		ioapic_mask_pin(gsi, true);
	}
	/* MSI: one message per raise, and no INTx while it is on. */
	cap = msi_cap((unsigned int)slot);
	reportf(cap, "edu: MSI capability at 0x%x", cap);
	if (!cap)
		return;
	cfg_write32((unsigned int)slot, cap + 4,
		    0xfee00000u | lapic_id() << 12);
	cfg_write32((unsigned int)slot, cap + 8, 0);
	cfg_write16((unsigned int)slot, cap + 12, VEC_MSI);
	cfg_write16((unsigned int)slot, cap + 2,
		    cfg_read16((unsigned int)slot, cap + 2) | 1);
	/* The message is the device's memory write: a bus master's. */
	cfg_write16((unsigned int)slot, 0x04,
		    cfg_read16((unsigned int)slot, 0x04) | 4);
	irq_enable();
	mmio_write32(edu_bar + 0x60, 2);
	reportf(wait_until(irq_count[VEC_MSI] == 1, IRQ_TIMEOUT_MS),
		"edu: an MSI arrives at vector 0x%x (%u)", VEC_MSI,
		irq_count[VEC_MSI]);
	mmio_write32(edu_bar + 0x60, 4);
	reportf(wait_until(irq_count[VEC_MSI] == 2, IRQ_TIMEOUT_MS),
		"edu: a second raise, a second MSI (%u)", irq_count[VEC_MSI]);
	reportf(irq_count[VEC_INTX] == intx, "edu: no INTx while MSI is on");
}

int guest_main(const struct guest_boot *boot)
{
	if (!interrupts_init(lapic_mode_from_cmdline()))
		return report_summary();
	ioapic_mask_all();
	walk();
	test_testdev();
	test_edu();
	return report_summary();
}
