// SPDX-License-Identifier: MIT
/* MP table: found as Linux scans for it, parsed back by spec offsets. */
#include <errno.h>
#include <string.h>

#include "acpi.h"
#include "mptable.h"
#include "unit.h"

/* The first MiB of a guest: Linux scans parts of it for the table. */
#define MPT_GPA 0xf0000ull
#define FILL 0xa5

static uint8_t low[0x100000];

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint8_t sum8(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

static struct machine_desc machine(unsigned int cpus)
{
	struct machine_desc m;

	machine_desc_init(&m, cpus, 24, 0x20);
	return m;
}

/* Builds m's table at MPT_GPA in low memory. */
static void build_at(const struct machine_desc *m, uint64_t gpa)
{
	uint64_t mpf = 0;
	size_t size = mptable_size(m);

	memset(low, FILL, sizeof(low));
	ck_assert_uint_gt(size, 0);
	ck_assert_int_eq(mptable_build(m, low + gpa, sizeof(low) - gpa, gpa,
				       &mpf),
			 0);
	ck_assert_uint_eq(mpf, gpa);
	ck_assert_uint_eq(low[gpa + size], FILL);
}

/*
 * Linux's search (arch/x86/kernel/mpparse.c): 16-byte steps through the
 * bottom KiB, the top KiB of base memory and the BIOS area; a hit is
 * "_MP_" with length 1, a zero byte sum and spec revision 1 or 4 (MP spec
 * 4.1). Returns its address, or 0.
 */
static uint64_t linux_scan(void)
{
	static const uint64_t ranges[][2] = {
	    {0, 0x400}, {0x9fc00, 0x400}, {0xf0000, 0x10000}};

	for (unsigned int r = 0; r < 3; r++)
		for (uint64_t a = ranges[r][0];
		     a < ranges[r][0] + ranges[r][1]; a += 16) {
			const uint8_t *p = low + a;

			if (!memcmp(p, "_MP_", 4) && p[8] == 1 &&
			    !sum8(p, 16) && (p[9] == 1 || p[9] == 4))
				return a;
		}
	return 0;
}

/* The table as parsed back: entries by kind. */
struct mp {
	const uint8_t *mpf, *mpc;
	unsigned int entries;
	unsigned int cpus, buses, ioapics, ioints, lints;
	const uint8_t *cpu[MPTABLE_MAX_CPUS], *bus, *ioapic, *lint[2];
	const uint8_t *irq[16]; /* I/O interrupt entry by ISA IRQ */
	const uint8_t *pci_bus;	/* the bus entry of type "PCI" */
	const uint8_t *pci[32][4]; /* I/O interrupt entry by slot and pin */
	unsigned int pci_ints;
};

/*
 * 4.2: the configuration table header ("PCMP", length, zero byte sum,
 * spec 4, no extended table); 4.3: entries of 20 (processor) or 8 bytes,
 * in ascending order of type, exactly filling the base table.
 */
static void parse(uint64_t mpf_gpa, struct mp *r)
{
	const uint8_t *p, *e;
	uint32_t phys;
	uint16_t len;
	uint8_t last = 0;

	memset(r, 0, sizeof(*r));
	r->mpf = low + mpf_gpa;
	ck_assert(!memcmp(r->mpf, "_MP_", 4));
	ck_assert_uint_eq(r->mpf[8], 1); /* 16 bytes */
	ck_assert_uint_eq(r->mpf[9], 4); /* MP spec 1.4 */
	ck_assert_uint_eq(sum8(r->mpf, 16), 0);
	ck_assert_uint_eq(r->mpf[11], 0); /* a table, not a default config */
	ck_assert_uint_eq(r->mpf[12] & 0x80, 0); /* virtual wire, no IMCR */
	ck_assert_uint_eq(r->mpf[13] | r->mpf[14] | r->mpf[15], 0);

	phys = rd32(r->mpf + 4);
	ck_assert_uint_lt(phys, sizeof(low) - 44);
	p = r->mpc = low + phys;
	len = rd16(p + 4);
	ck_assert(!memcmp(p, "PCMP", 4));
	ck_assert_uint_le(phys + len, sizeof(low));
	ck_assert_uint_eq(sum8(p, len), 0);
	ck_assert_uint_eq(p[6], 4);
	ck_assert(!memcmp(p + 8, "SPLTVM  ", 8));
	ck_assert(!memcmp(p + 16, "SPLITVM     ", 12));
	ck_assert_uint_eq(rd32(p + 28), 0); /* no OEM table */
	ck_assert_uint_eq(rd32(p + 36), 0xfee00000u);
	ck_assert_uint_eq(rd16(p + 40), 0); /* no extended entries */

	for (e = p + 44; e < p + len; r->entries++) {
		ck_assert_uint_ge(e[0], last);
		last = e[0];
		switch (e[0]) {
		case 0:
			ck_assert_uint_lt(r->cpus, MPTABLE_MAX_CPUS);
			r->cpu[r->cpus++] = e;
			e += 20;
			continue;
		case 1:
			if (!memcmp(e + 2, "PCI   ", 6))
				r->pci_bus = e;
			else
				r->bus = e;
			r->buses++;
			break;
		case 2:
			r->ioapic = e;
			r->ioapics++;
			break;
		case 3:
			ck_assert_uint_eq(e[1], 0); /* INT */
			if (r->pci_bus && e[4] == r->pci_bus[1]) {
				ck_assert_ptr_null(r->pci[e[5] >> 2][e[5] & 3]);
				r->pci[e[5] >> 2][e[5] & 3] = e;
				r->pci_ints++;
				break;
			}
			ck_assert_uint_eq(e[4], r->bus[1]); /* ISA */
			ck_assert_uint_lt(e[5], 16);
			ck_assert_ptr_null(r->irq[e[5]]);
			r->irq[e[5]] = e;
			r->ioints++;
			break;
		case 4:
			ck_assert_uint_lt(r->lints, 2);
			r->lint[r->lints++] = e;
			break;
		default:
			ck_abort_msg("entry type %u", e[0]);
		}
		e += 8;
	}
	ck_assert_ptr_eq(e, p + len);
	ck_assert_uint_eq(rd16(p + 34), r->entries);
}

START_TEST(mptable_is_found_where_linux_scans)
{
	struct machine_desc m = machine(2);
	struct mp r;

	build_at(&m, MPT_GPA);
	ck_assert_uint_eq(linux_scan(), MPT_GPA);
	parse(MPT_GPA, &r);
	/* The configuration table follows the floating pointer. */
	ck_assert_uint_eq(rd32(r.mpf + 4), MPT_GPA + 16);

	/* The last KiB of base memory works too, while the table fits. */
	build_at(&m, 0x9fc00);
	ck_assert_uint_eq(linux_scan(), 0x9fc00);
	parse(0x9fc00, &r);
	ck_assert_uint_le(mptable_size(&m), 0x400);
}
END_TEST

static void check_cpus(unsigned int cpus)
{
	struct machine_desc m = machine(cpus);
	struct mp r;

	build_at(&m, MPT_GPA);
	parse(MPT_GPA, &r);
	ck_assert_uint_eq(r.cpus, cpus);
	for (unsigned int i = 0; i < cpus; i++) {
		const uint8_t *e = r.cpu[i];

		ck_assert_uint_eq(e[1], i);	/* APIC ID */
		ck_assert_uint_eq(e[2], 0x14); /* KVM's LAPIC version */
		/* Enabled; the BSP is APIC ID 0, and only it. */
		ck_assert_uint_eq(e[3], i == 0 ? 3 : 1);
		ck_assert_uint_eq(rd32(e + 4), 0x600);
		ck_assert_uint_eq(rd32(e + 8), 0x201);
	}
	ck_assert_uint_eq(mptable_size(&m), 16 + 44 + 20 * cpus + 8 + 8 +
						15 * 8 + 2 * 8);
}

START_TEST(mptable_lists_every_cpu)
{
	static const unsigned int counts[] = {1, 2, 16, 254, 255};

	for (unsigned int i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		check_cpus(counts[i]);
}
END_TEST

START_TEST(mptable_has_an_isa_bus_and_the_ioapic)
{
	struct machine_desc m = machine(4);
	struct mp r;

	build_at(&m, MPT_GPA);
	parse(MPT_GPA, &r);
	ck_assert_uint_eq(r.buses, 1);
	ck_assert_uint_eq(r.bus[1], 0);
	ck_assert(!memcmp(r.bus + 2, "ISA   ", 6));
	ck_assert_uint_eq(r.ioapics, 1);
	ck_assert_uint_eq(r.ioapic[1], 0);    /* ID */
	ck_assert_uint_eq(r.ioapic[2], 0x20); /* version */
	ck_assert_uint_eq(r.ioapic[3], 1);    /* enabled */
	ck_assert_uint_eq(rd32(r.ioapic + 4), 0xfec00000u);

	m.ioapic_id = 7;
	m.ioapic_version = 0x11;
	m.ioapic_addr = 0xfec10000u;
	build_at(&m, MPT_GPA);
	parse(MPT_GPA, &r);
	ck_assert_uint_eq(r.ioapic[1], 7);
	ck_assert_uint_eq(r.ioapic[2], 0x11);
	ck_assert_uint_eq(rd32(r.ioapic + 4), 0xfec10000u);
	for (unsigned int irq = 0; irq < 16; irq++)
		if (r.irq[irq])
			ck_assert_uint_eq(r.irq[irq][6], 7); /* dest IOAPIC */
}
END_TEST

/* D.3: a PCI bus after ISA, and every slot's INTA-INTD at its GSI. */
START_TEST(mptable_routes_pci_intx)
{
	struct machine_desc m = machine(2);
	struct mp r;

	m.pci_io_base = 0xc000;
	m.pci_io_size = 0x4000;
	m.pci_mem_base = 0xe0000000;
	m.pci_mem_size = 0x10000000;
	build_at(&m, MPT_GPA);
	parse(MPT_GPA, &r);
	/* PCI described, INTx not wired: a bus, no interrupts. */
	ck_assert_ptr_nonnull(r.pci_bus);
	ck_assert_uint_eq(r.pci_bus[1], 1);
	ck_assert_uint_eq(r.buses, 2);
	ck_assert_uint_eq(r.pci_ints, 0);
	ck_assert_uint_eq(mptable_size(&m), 16 + rd16(r.mpc + 4));
	m.pci_intx_gsi = 16;
	build_at(&m, MPT_GPA);
	parse(MPT_GPA, &r);
	ck_assert_uint_eq(r.pci_ints, 128);
	ck_assert_uint_eq(r.ioints, 15); /* the ISA ones, unchanged */
	for (unsigned int slot = 0; slot < 32; slot++)
		for (unsigned int pin = 0; pin < 4; pin++) {
			const uint8_t *e = r.pci[slot][pin];

			ck_assert_ptr_nonnull(e);
			ck_assert_uint_eq(rd16(e + 2), 0x0f); /* level, low */
			ck_assert_uint_eq(e[6], m.ioapic_id);
			ck_assert_uint_eq(e[7], 16 + ((slot + pin) & 3));
		}
	ck_assert_uint_eq(mptable_size(&m), 16 + rd16(r.mpc + 4));
	/* Pins past the IOAPIC's last: not describable. */
	m.ioapic_pins = 19;
	ck_assert_uint_eq(mptable_size(&m), 0);
}
END_TEST

START_TEST(mptable_routes_isa_irqs)
{
	struct machine_desc m = machine(1);
	struct mp r;

	build_at(&m, MPT_GPA);
	parse(MPT_GPA, &r);
	/* IRQ0 at INTIN 2, none for the cascade, the rest identity. */
	ck_assert_uint_eq(r.ioints, 15);
	ck_assert_ptr_null(r.irq[2]);
	for (unsigned int irq = 0; irq < 16; irq++) {
		const uint8_t *e = r.irq[irq];

		if (irq == 2)
			continue;
		ck_assert_ptr_nonnull(e);
		ck_assert_uint_eq(e[4], 0); /* source bus: the ISA bus */
		ck_assert_uint_eq(e[6], 0); /* the IOAPIC */
		ck_assert_uint_eq(e[7], irq == 0 ? 2 : irq);
		/* Conforming (ISA: edge, high) but the SCI: level, high. */
		ck_assert_uint_eq(rd16(e + 2), irq == 9 ? 0xd : 0);
		/* Nothing at INTIN 0: the 8259A is not wired there. */
		ck_assert_uint_ne(e[7], 0);
	}

	/* Fewer pins: IRQs past the last pin are not connected. */
	m.ioapic_pins = 8;
	build_at(&m, MPT_GPA);
	parse(MPT_GPA, &r);
	ck_assert_uint_eq(r.ioints, 7); /* 0, 1, 3-7 */
	for (unsigned int irq = 8; irq < 16; irq++)
		ck_assert_ptr_null(r.irq[irq]);
	ck_assert_uint_eq(mptable_size(&m), 16 + 44 + 20 + 8 + 8 + 7 * 8 +
						2 * 8);
}
END_TEST

START_TEST(mptable_wires_extint_and_nmi_to_the_lapics)
{
	struct machine_desc m = machine(8);
	struct mp r;

	build_at(&m, MPT_GPA);
	parse(MPT_GPA, &r);
	ck_assert_uint_eq(r.lints, 2);
	/* ExtINT: the 8259A's INTR to the BSP's LINT0. */
	ck_assert_uint_eq(r.lint[0][1], 3);
	ck_assert_uint_eq(rd16(r.lint[0] + 2), 0);
	ck_assert_uint_eq(r.lint[0][4], 0);
	ck_assert_uint_eq(r.lint[0][6], 0);
	ck_assert_uint_eq(r.lint[0][7], 0);
	/* NMI to LINT1 of every local APIC. */
	ck_assert_uint_eq(r.lint[1][1], 1);
	ck_assert_uint_eq(rd16(r.lint[1] + 2), 0);
	ck_assert_uint_eq(r.lint[1][6], 0xff);
	ck_assert_uint_eq(r.lint[1][7], 1);
}
END_TEST

START_TEST(mptable_size_is_exact)
{
	struct machine_desc m = machine(3);
	size_t need = mptable_size(&m);
	uint64_t mpf = 0;

	memset(low, FILL, sizeof(low));
	ck_assert_int_eq(mptable_build(&m, low, need - 1, 0, &mpf), -ENOSPC);
	ck_assert_uint_eq(low[0], FILL);
	ck_assert_int_eq(mptable_build(&m, low, need, 0, &mpf), 0);
	ck_assert_uint_eq(low[need], FILL);
}
END_TEST

START_TEST(mptable_rejects_what_it_cannot_describe)
{
	struct machine_desc m = machine(256);
	uint64_t mpf;

	/* APIC ID 255 means "all local APICs" in the MP table. */
	ck_assert_uint_eq(mptable_size(&m), 0);
	ck_assert_int_eq(mptable_build(&m, low, sizeof(low), 0, &mpf),
			 -ERANGE);
	m = machine(1);
	ck_assert_int_eq(mptable_build(&m, low, sizeof(low), 8, &mpf),
			 -EINVAL); /* the floating pointer's alignment */
	ck_assert_int_eq(
	    mptable_build(&m, low, sizeof(low), 0xffffff80ull, &mpf),
	    -EINVAL); /* crosses 4 GiB: the table's pointer is 32 bits */
	ck_assert_int_eq(
	    mptable_build(&m, low, sizeof(low), 0x100000000ull, &mpf),
	    -EINVAL);
	ck_assert_int_eq(mptable_build(&m, NULL, sizeof(low), 0, &mpf),
			 -EINVAL);
	m.ioapic_pins = 0;
	ck_assert_uint_eq(mptable_size(&m), 0);
	ck_assert_int_eq(mptable_build(&m, low, sizeof(low), 0, &mpf),
			 -EINVAL);
}
END_TEST

/* ---- The MADT and the MP table tell the same story ---------------------- */

struct madt_view {
	bool cpu[MPTABLE_MAX_CPUS];
	unsigned int cpus;
	uint8_t ioapic_id;
	uint32_t ioapic_addr;
	uint32_t gsi[16];
	uint16_t flags[16];
};

/* The MADT's CPUs, IOAPIC and ISA IRQs (ACPI 6.x 5.2.12), read by offset. */
static void madt_view(const struct machine_desc *m, struct madt_view *v)
{
	static uint8_t buf[0x4000];
	const uint8_t *rsdp, *xsdt, *t = NULL, *e;
	uint64_t rsdp_gpa, gpa = 0xe0000;

	memset(v, 0, sizeof(*v));
	ck_assert_int_eq(acpi_build(m, buf, sizeof(buf), gpa, &rsdp_gpa), 0);
	rsdp = buf + (rsdp_gpa - gpa);
	xsdt = buf + (rd32(rsdp + 24) - gpa);
	for (uint32_t i = 36; i < rd32(xsdt + 4); i += 8) {
		const uint8_t *p = buf + (rd32(xsdt + i) - gpa);

		if (!memcmp(p, "APIC", 4))
			t = p;
	}
	ck_assert_ptr_nonnull(t);
	/* Without overrides, ISA IRQ n is GSI n, bus defaults. */
	for (unsigned int irq = 0; irq < 16; irq++)
		v->gsi[irq] = irq;
	for (e = t + 44; e < t + rd32(t + 4); e += e[1]) {
		if (e[0] == 0 && (rd32(e + 4) & 1)) {
			v->cpu[e[3]] = true;
			v->cpus++;
		} else if (e[0] == 1) {
			v->ioapic_id = e[2];
			v->ioapic_addr = rd32(e + 4);
		} else if (e[0] == 2) {
			v->gsi[e[3]] = rd32(e + 4);
			v->flags[e[3]] = rd16(e + 8);
		}
	}
}

static void check_agree(const struct machine_desc *m)
{
	struct madt_view v;
	struct mp r;

	madt_view(m, &v);
	build_at(m, MPT_GPA);
	parse(MPT_GPA, &r);
	ck_assert_uint_eq(r.cpus, v.cpus);
	for (unsigned int i = 0; i < r.cpus; i++)
		ck_assert(v.cpu[r.cpu[i][1]]);
	ck_assert_uint_eq(r.ioapic[1], v.ioapic_id);
	ck_assert_uint_eq(rd32(r.ioapic + 4), v.ioapic_addr);
	for (unsigned int irq = 0; irq < 16; irq++) {
		/* IRQ2: the cascade; its GSI belongs to IRQ0's override. */
		if (irq == 2 || v.gsi[irq] >= m->ioapic_pins) {
			ck_assert_ptr_null(r.irq[irq]);
			continue;
		}
		ck_assert_ptr_nonnull(r.irq[irq]);
		ck_assert_uint_eq(r.irq[irq][7], v.gsi[irq]);
		ck_assert_uint_eq(rd16(r.irq[irq] + 2), v.flags[irq]);
	}
}

START_TEST(mptable_agrees_with_the_madt)
{
	static const unsigned int counts[] = {1, 2, 16, 255};
	struct machine_desc m;

	for (unsigned int i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		m = machine(counts[i]);
		check_agree(&m);
	}
	m = machine(4);
	m.ioapic_id = 3;
	m.sci_irq = 10;
	m.ioapic_pins = 11;
	check_agree(&m);
}
END_TEST

UNIT_SUITE("mptable", mptable_is_found_where_linux_scans,
	   mptable_lists_every_cpu, mptable_has_an_isa_bus_and_the_ioapic,
	   mptable_routes_isa_irqs, mptable_routes_pci_intx,
	   mptable_wires_extint_and_nmi_to_the_lapics,
	   mptable_size_is_exact, mptable_rejects_what_it_cannot_describe,
	   mptable_agrees_with_the_madt)
