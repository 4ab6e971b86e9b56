// SPDX-License-Identifier: MIT
/*
 * A hostile guest: random values of every width written to random ports,
 * to the IOAPIC, to the test device's MMIO scratch and to unmapped MMIO,
 * and random reads everywhere. The monitor must stay up and report how the
 * run ended, whatever these writes set off (interrupt storms, NMIs, INIT).
 */
#include "guest.h"

/* Ports whose purpose is to end the VM: writing them is not an attack. */
static bool ends_the_vm(uint16_t port)
{
	return (port >= 0xf4 && port < 0xf8) || port == 0x64 ||
	       port == 0x92 || port == 0xcf9 || port == 0x8900 ||
	       (port >= 0x604 && port < 0x606); /* ACPI PM1a_CNT: SLP_EN */
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static volatile uint64_t nmis;

static void on_nmi(struct ex_regs *regs)
{
	nmis++;
}

static void port_access(void)
{
	uint16_t port = (uint16_t)rnd();
	uint32_t v = (uint32_t)rnd();

	if (ends_the_vm(port) || ends_the_vm((uint16_t)(port + 3)))
		return;
	switch (rnd() % 6) {
	case 0: outb(port, (uint8_t)v); break;
	case 1: outw(port, (uint16_t)v); break;
	case 2: outl(port, v); break;
	case 3: (void)inb(port); break;
	case 4: (void)inw(port); break;
	default: (void)inl(port); break;
	}
}

/* An MMIO access of a random width somewhere in [base, base + size). */
static void mmio_access(uint64_t base, uint64_t size)
{
	uint64_t addr = base + (rnd() % size & ~7ull);
	uint64_t v = rnd();

	switch (rnd() % 8) {
	case 0: mmio_write8(addr, (uint8_t)v); break;
	case 1: mmio_write16(addr, (uint16_t)v); break;
	case 2: mmio_write32(addr, (uint32_t)v); break;
	case 3: mmio_write64(addr, v); break;
	case 4: (void)mmio_read8(addr); break;
	case 5: (void)mmio_read16(addr); break;
	case 6: (void)mmio_read32(addr); break;
	default: (void)mmio_read64(addr); break;
	}
}

/*
 * count=N accesses (default 20000), seed=S. Interrupts stay off; NMIs and
 * whatever the chips deliver are counted or ignored.
 */
int guest_main(const struct guest_boot *boot)
{
	uint64_t count = cmdline_u64("count", 20000);

	rng_state = cmdline_u64("seed", 0x5eed) | 1;
	set_idt_handler(2, on_nmi);
	irq_disable();
	printf("hostile: %lu random accesses\n", count);
	for (uint64_t i = 0; i < count; i++) {
		switch (rnd() % 4) {
		case 0:
		case 1: port_access(); break;
		case 2: mmio_access(0xfec00000, 0x1000); break; /* IOAPIC */
		default:
			if (rnd() & 1)
				mmio_access(0xff000000, 0x10000); /* testdev */
			else
				mmio_access(0xd0000000, 0x10000000); /* none */
			break;
		}
	}
	printf("hostile: done, %lu NMIs seen\n", nmis);
	return 0;
}
