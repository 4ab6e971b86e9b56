// SPDX-License-Identifier: MIT
/*
 * A 48-pin IOAPIC: the version register, the redirection entries and
 * delivery on every line from 24 up (test device lines 0x2000 + n).
 * splitvm only: splitvm run --ioapic-pins 48.
 */
#include "guest.h"

#define VEC_BASE 0x80 /* pin n uses VEC_BASE + n - first */
#define VEC_LEVEL 0x5e
#define TPR_HOLD 0xd0

static volatile uint32_t level_count;

static void level_handler(struct ex_regs *regs)
{
	atomic_inc(&level_count);
}

int guest_main(const struct guest_boot *boot)
{
	uint64_t want_pins = cmdline_u64("pins", 48);
	uint64_t first = cmdline_u64("first", 24);
	unsigned int pins = ioapic_pins();
	unsigned int last, bad_masked = 0, bad_readback = 0, delivered = 0;
	uint32_t id;
	bool ok;

	printf("ioapic48: split-only: run with splitvm --ioapic-pins 48\n");
	reportf(pins == want_pins,
		"version register: %lu pins (%u; "
		"version register 0x%08x)",
		want_pins, pins, ioapic_read(IOAPIC_REG_VERSION));
	if (pins != want_pins || first < 3 || first >= pins) {
		printf("ioapic48: not a %lu-pin IOAPIC (or first=%lu is out "
		       "of range): no delivery tests\n",
		       want_pins, first);
		return report_summary();
	}
	last = pins - 1;
	if (guest_on_qemu()) {
		/* QEMU's pc-testdev aborts on lines >= 16. */
		printf("ioapic48: QEMU's test device has no lines >= 16\n");
		return report_summary();
	}

	for (unsigned int pin = 0; pin < pins; pin++)
		if (!(ioapic_read_entry(pin) & IOAPIC_MASKED))
			bad_masked++;
	reportf(!bad_masked, "all %u entries are masked at start (%u not)",
		pins, bad_masked);

	/* Each pin keeps its own entry; write all, then read all. */
	for (unsigned int pin = 24; pin <= last; pin++)
		ioapic_write_entry(pin,
				   ioapic_entry((uint8_t)(0x20 + pin),
						IOAPIC_MASKED, (uint8_t)pin));
	for (unsigned int pin = 24; pin <= last; pin++) {
		uint64_t e = ioapic_read_entry(pin);
		uint64_t want = ioapic_entry((uint8_t)(0x20 + pin),
					     IOAPIC_MASKED, (uint8_t)pin);

		if (e != want) {
			printf("  pin %u: read 0x%016lx, wrote 0x%016lx\n", pin,
			       e, want);
			bad_readback++;
		}
	}
	reportf(!bad_readback,
		"entries 24-%u read back as written (%u "
		"differ)",
		last, bad_readback);
	/* Register indexes past the last entry are not entries. */
	ioapic_write(IOAPIC_REG_REDTBL(pins), 0x12345678);
	reportf(ioapic_read(IOAPIC_REG_REDTBL(last)) != 0x12345678,
		"a write past entry %u does not reach entry %u", last, last);

	if (!interrupts_init(lapic_mode_from_cmdline()))
		return report_summary();
	id = lapic_id();
	ioapic_mask_all();
	irq_enable();

	/* Edge delivery on every line from first up, one vector each. */
	for (unsigned int pin = (unsigned int)first; pin <= last; pin++) {
		uint8_t vec = (uint8_t)(VEC_BASE + pin - first);
		uint32_t c0;

		irq_count_install(vec, true);
		c0 = irq_count[vec];
		testdev_set_line(pin, 0);
		ioapic_write_entry(pin, ioapic_entry(vec, 0, (uint8_t)id));
		testdev_set_line(pin, 1);
		ok = wait_until(irq_count[vec] > c0, IRQ_TIMEOUT_MS);
		testdev_set_line(pin, 0);
		ioapic_write_entry(
			pin, ioapic_entry(vec, IOAPIC_MASKED, (uint8_t)id));
		if (ok)
			delivered++;
		else
			printf("  line %u: no interrupt on vector 0x%x\n", pin,
			       vec);
	}
	reportf(delivered == last - first + 1,
		"edge: lines %lu-%u each deliver their vector (%u of %lu)",
		first, last, delivered, last - first + 1);

	/* Level on the last pin: Remote IRR and its EOI. */
	set_idt_handler(VEC_LEVEL, level_handler);
	ioapic_write_entry(last,
			   ioapic_entry(VEC_LEVEL, IOAPIC_LEVEL, (uint8_t)id));
	lapic_set_tpr(TPR_HOLD);
	testdev_set_line(last, 1);
	ok = wait_until(lapic_irr(VEC_LEVEL), IRQ_TIMEOUT_MS);
	reportf(ok && ioapic_remote_irr(last),
		"level: line %u sends the vector and sets Remote IRR", last);
	testdev_set_line(last, 0);
	lapic_set_tpr(0);
	ok = wait_until(level_count >= 1, IRQ_TIMEOUT_MS);
	lapic_eoi();
	ok = ok && wait_until(!ioapic_remote_irr(last), IRQ_TIMEOUT_MS);
	reportf(ok,
		"level: line %u delivers and its EOI clears Remote IRR "
		"(%u interrupts)",
		last, level_count);

	irq_disable();
	ioapic_mask_all();
	return report_summary();
}
