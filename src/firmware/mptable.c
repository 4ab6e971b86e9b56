// SPDX-License-Identifier: MIT
/* The MP spec 1.4 floating pointer and configuration table for a guest. */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "mptable.h"

#define PACKED __attribute__((packed))

/* 4.1 MP Floating Pointer Structure. */
struct mpf {
	char signature[4]; /* "_MP_" */
	uint32_t physptr;  /* the configuration table */
	uint8_t length;	   /* in 16-byte units: 1 */
	uint8_t spec_rev;  /* 4: version 1.4 */
	uint8_t checksum;
	uint8_t feature1; /* 0: a configuration table is present */
	uint8_t feature2; /* bit 7 IMCRP: PIC mode with an IMCR */
	uint8_t feature3[3];
} PACKED;
_Static_assert(sizeof(struct mpf) == 16, "MP floating pointer");

#define MP_SPEC_REV 4
#define MPF_ALIGN 16

/* 4.2 MP Configuration Table Header. */
struct mpc_header {
	char signature[4]; /* "PCMP" */
	uint16_t length;   /* base table, header included */
	uint8_t spec_rev;
	uint8_t checksum;
	char oem_id[8];
	char product_id[12];
	uint32_t oem_table;
	uint16_t oem_table_size;
	uint16_t entry_count;
	uint32_t lapic_address;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} PACKED;
_Static_assert(sizeof(struct mpc_header) == 44, "MP config header");

/* 4.3 entry types. */
enum mpc_type {
	MPC_PROCESSOR = 0,
	MPC_BUS = 1,
	MPC_IOAPIC = 2,
	MPC_IOINT = 3,
	MPC_LINT = 4,
};

/* 4.3.1 Processor Entries. */
struct mpc_processor {
	uint8_t type;
	uint8_t apic_id;
	uint8_t apic_version;
	uint8_t flags;
	uint32_t signature;
	uint32_t features;
	uint32_t reserved[2];
} PACKED;
_Static_assert(sizeof(struct mpc_processor) == 20, "MP processor entry");

#define MPC_CPU_ENABLED (1u << 0)
#define MPC_CPU_BSP (1u << 1)

/* 4.3.2 Bus Entries. */
struct mpc_bus {
	uint8_t type;
	uint8_t bus_id;
	char bus_type[6]; /* table 4-8, padded with blanks */
} PACKED;
_Static_assert(sizeof(struct mpc_bus) == 8, "MP bus entry");

#define MPC_ISA_BUS_ID 0
#define MPC_PCI_BUS_ID 1 /* Linux numbers PCI buses in table order: bus 0 */

/* 4.3.3 I/O APIC Entries. */
struct mpc_ioapic {
	uint8_t type;
	uint8_t id;
	uint8_t version;
	uint8_t flags;
	uint32_t address;
} PACKED;
_Static_assert(sizeof(struct mpc_ioapic) == 8, "MP IOAPIC entry");

#define MPC_IOAPIC_ENABLED (1u << 0)

/* 4.3.4 I/O Interrupt and 4.3.5 Local Interrupt Assignment Entries. */
struct mpc_int {
	uint8_t type;
	uint8_t int_type;
	uint16_t flags; /* MACHINE_INTI_* */
	uint8_t src_bus;
	uint8_t src_irq;
	uint8_t dst_apic; /* IOAPIC ID, or local APIC ID (0xff: all) */
	uint8_t dst_pin;  /* INTIN#, or LINTIN# */
} PACKED;
_Static_assert(sizeof(struct mpc_int) == 8, "MP interrupt entry");

/* Table 4-11 interrupt types. */
#define MP_INT 0
#define MP_NMI 1
#define MP_EXTINT 3
#define MPC_ALL_LAPICS 0xff

/*
 * The entries after the processors: bus, IOAPIC, the I/O interrupts, and
 * two local interrupts.
 */
#define MPC_LOCAL_INTS 2

static unsigned int nr_ioints(const struct machine_desc *m)
{
	unsigned int n = 0, pin;
	uint16_t flags;

	for (unsigned int irq = 0; irq < MACHINE_ISA_IRQS; irq++)
		n += machine_isa_irq(m, irq, &pin, &flags);
	return n;
}

/* PCI: a bus entry, and an I/O interrupt per slot and pin when wired. */
static unsigned int nr_pci_buses(const struct machine_desc *m)
{
	return m->pci_io_size ? 1 : 0;
}

static unsigned int nr_pci_ints(const struct machine_desc *m)
{
	return m->pci_io_size && m->pci_intx_gsi ? MACHINE_PCI_SLOTS * 4 : 0;
}

static size_t table_length(const struct machine_desc *m)
{
	return sizeof(struct mpc_header) +
	       m->cpus * sizeof(struct mpc_processor) +
	       (1 + nr_pci_buses(m)) * sizeof(struct mpc_bus) +
	       sizeof(struct mpc_ioapic) +
	       (nr_ioints(m) + nr_pci_ints(m) + MPC_LOCAL_INTS) *
		       sizeof(struct mpc_int);
}

size_t mptable_size(const struct machine_desc *m)
{
	if (machine_desc_check(m) || m->cpus > MPTABLE_MAX_CPUS)
		return 0;
	return sizeof(struct mpf) + table_length(m);
}

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *p++);
	return (uint8_t)-sum;
}

/* Appends one entry at *off. */
static void put(uint8_t *p, size_t *off, const void *entry, size_t len)
{
	memcpy(p + *off, entry, len);
	*off += len;
}

static void put_int(uint8_t *p, size_t *off, uint8_t type, uint8_t int_type,
		    uint16_t flags, uint8_t src_bus, uint8_t src_irq,
		    uint8_t dst_apic, uint8_t dst_pin)
{
	struct mpc_int e = {
	    .type = type,
	    .int_type = int_type,
	    .flags = htole16(flags),
	    .src_bus = src_bus,
	    .src_irq = src_irq,
	    .dst_apic = dst_apic,
	    .dst_pin = dst_pin,
	};

	put(p, off, &e, sizeof(e));
}

/* 4.2, 4.3: entries in ascending order of type. */
static void write_table(const struct machine_desc *m, uint8_t *p, size_t len)
{
	struct mpc_header h = {
	    .signature = {'P', 'C', 'M', 'P'},
	    .length = htole16((uint16_t)len),
	    .spec_rev = MP_SPEC_REV,
	    .lapic_address = htole32(m->lapic_addr),
	};
	struct mpc_bus bus = {
	    .type = MPC_BUS,
	    .bus_id = MPC_ISA_BUS_ID,
	    .bus_type = {'I', 'S', 'A', ' ', ' ', ' '},
	};
	struct mpc_ioapic io = {
	    .type = MPC_IOAPIC,
	    .id = m->ioapic_id,
	    .version = m->ioapic_version,
	    .flags = MPC_IOAPIC_ENABLED,
	    .address = htole32(m->ioapic_addr),
	};
	size_t off = sizeof(h);
	unsigned int entries = 0, irq, pin;
	uint16_t flags;

	for (unsigned int cpu = 0; cpu < m->cpus; cpu++, entries++) {
		struct mpc_processor e = {
		    .type = MPC_PROCESSOR,
		    .apic_id = (uint8_t)cpu,
		    .apic_version = MACHINE_LAPIC_VERSION,
		    .flags = MPC_CPU_ENABLED | (cpu == 0 ? MPC_CPU_BSP : 0),
		    .signature = htole32(MPTABLE_CPU_SIGNATURE),
		    .features = htole32(MPTABLE_CPU_FEATURES),
		};

		put(p, &off, &e, sizeof(e));
	}
	put(p, &off, &bus, sizeof(bus));
	entries++;
	if (nr_pci_buses(m)) {
		bus.bus_id = MPC_PCI_BUS_ID;
		memcpy(bus.bus_type, "PCI   ", sizeof(bus.bus_type));
		put(p, &off, &bus, sizeof(bus));
		entries++;
	}
	put(p, &off, &io, sizeof(io));
	entries++;

	/*
	 * No ExtINT entry for INTIN 0: the PIC's output reaches the BSP's
	 * LINT0 only, never an IOAPIC pin (QEMU and SeaBIOS alike), so
	 * Linux uses the local APIC's virtual wire for the 8259A.
	 */
	for (irq = 0; irq < MACHINE_ISA_IRQS; irq++) {
		if (!machine_isa_irq(m, irq, &pin, &flags))
			continue;
		put_int(p, &off, MPC_IOINT, MP_INT, flags, MPC_ISA_BUS_ID,
			(uint8_t)irq, m->ioapic_id, (uint8_t)pin);
		entries++;
	}

	/*
	 * PCI INTx (D.3): the source IRQ is the slot in bits 6:2 and the
	 * pin (0 = INTA) in bits 1:0; level-triggered, active low.
	 */
	for (unsigned int slot = 0; nr_pci_ints(m) && slot < MACHINE_PCI_SLOTS;
	     slot++)
		for (unsigned int i = 0; i < 4; i++, entries++)
			put_int(p, &off, MPC_IOINT, MP_INT,
				MACHINE_INTI_POLARITY_LOW |
					MACHINE_INTI_TRIGGER_LEVEL,
				MPC_PCI_BUS_ID, (uint8_t)(slot << 2 | i),
				m->ioapic_id,
				(uint8_t)machine_pci_gsi(m, slot, i));

	/*
	 * 4.3.5: the 8259A's INTR reaches LINT0 of the BSP, the only CPU
	 * whose LVT0 takes ExtINT (the VMM injects the PIC there); NMI
	 * reaches LINT1 of every CPU. Source bus IRQ 0 by convention.
	 */
	put_int(p, &off, MPC_LINT, MP_EXTINT, 0, MPC_ISA_BUS_ID, 0, 0, 0);
	put_int(p, &off, MPC_LINT, MP_NMI, 0, MPC_ISA_BUS_ID, 0,
		MPC_ALL_LAPICS, 1);
	entries += MPC_LOCAL_INTS;

	h.entry_count = htole16((uint16_t)entries);
	memcpy(h.oem_id, MPTABLE_OEM_ID, sizeof(h.oem_id));
	memcpy(h.product_id, MPTABLE_PRODUCT_ID, sizeof(h.product_id));
	memcpy(p, &h, sizeof(h));
	p[offsetof(struct mpc_header, checksum)] = checksum(p, len);
}

int mptable_build(const struct machine_desc *m, void *buf, size_t size,
		  uint64_t gpa, uint64_t *ret_mpf)
{
	struct mpf f = {
	    .signature = {'_', 'M', 'P', '_'},
	    .length = sizeof(f) / 16,
	    .spec_rev = MP_SPEC_REV,
	    .feature1 = 0, /* not a default configuration: a table */
	    .feature2 = 0, /* IMCRP clear: virtual wire mode */
	};
	uint8_t *p = buf;
	size_t len;

	if (machine_desc_check(m) || !buf || !ret_mpf || gpa % MPF_ALIGN)
		return -EINVAL;
	if (m->cpus > MPTABLE_MAX_CPUS)
		return -ERANGE;
	len = table_length(m); /* < 6 KiB: fits the 16-bit length */
	if (gpa > (1ull << 32) || sizeof(f) + len > (1ull << 32) - gpa)
		return -EINVAL;
	if (size < sizeof(f) + len)
		return -ENOSPC;

	memset(p, 0, sizeof(f) + len);
	write_table(m, p + sizeof(f), len);
	f.physptr = htole32((uint32_t)(gpa + sizeof(f)));
	f.checksum = checksum((const uint8_t *)&f, sizeof(f));
	memcpy(p, &f, sizeof(f));
	*ret_mpf = gpa;
	return 0;
}
