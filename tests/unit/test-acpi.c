// SPDX-License-Identifier: MIT
/* ACPI tables: parsed back by offsets from the spec, then by iasl. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acpi.h"
#include "unit.h"

#define GPA 0xe0000ull /* the BIOS area Linux scans for the RSDP */
#define FILL 0xa5      /* what the buffer holds before a build */

static uint8_t mem[0x20000];

/* ---- Little-endian reads at spec offsets -------------------------------- */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint8_t sum8(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* ---- Building and finding the tables ------------------------------------ */

struct tables {
	size_t used; /* acpi_size() */
	size_t rsdp, xsdt, rsdt, fadt, madt, dsdt, facs;
	size_t xsdt_len, rsdt_len, fadt_len, madt_len, dsdt_len;
};

static struct machine_desc machine(unsigned int cpus)
{
	struct machine_desc m;

	machine_desc_init(&m, cpus, 24, 0x20);
	return m;
}

/* The offset in mem of guest-physical [gpa, gpa + len), inside the tables. */
static size_t at(const struct tables *t, uint64_t gpa, size_t len,
		 const char *what)
{
	ck_assert_msg(gpa >= GPA && gpa - GPA <= t->used &&
			  len <= t->used - (gpa - GPA),
		      "%s at 0x%llx+%zu is outside the tables [0x%llx, +%zu)",
		      what, (unsigned long long)gpa, len,
		      (unsigned long long)GPA, t->used);
	return (size_t)(gpa - GPA);
}

/*
 * A table with a standard header (ACPI 6.x 5.2.6) at gpa: its signature,
 * a length that fits, a zero byte sum, our OEM identification.
 */
static size_t table(const struct tables *t, uint64_t gpa, const char *sig,
		    size_t *ret_len)
{
	size_t off = at(t, gpa, 36, sig);
	const uint8_t *p = mem + off;
	uint32_t len = rd32(p + 4);

	ck_assert_msg(!memcmp(p, sig, 4), "expected %s, found %.4s", sig,
		      (const char *)p);
	ck_assert_msg(len >= 36, "%s length %u", sig, len);
	at(t, gpa, len, sig);
	ck_assert_msg(sum8(p, len) == 0, "%s checksum: bytes sum to 0x%02x",
		      sig, sum8(p, len));
	ck_assert(!memcmp(p + 10, "SPLTVM", 6));
	ck_assert(!memcmp(p + 16, "SPLITVM ", 8));
	ck_assert(!memcmp(p + 28, "SPLT", 4));
	*ret_len = len;
	return off;
}

/*
 * Builds m's tables at GPA and follows every pointer from the RSDP:
 * RSDP (5.2.5.3) -> XSDT (5.2.8) and RSDT (5.2.7) -> FADT (5.2.9) -> DSDT,
 * FACS (5.2.10); -> MADT (5.2.12).
 */
static struct tables build(const struct machine_desc *m)
{
	struct tables t = {0};
	uint64_t rsdp = 0, e;
	const uint8_t *p;
	unsigned int n;

	memset(mem, FILL, sizeof(mem));
	t.used = acpi_size(m);
	ck_assert_uint_gt(t.used, 0);
	ck_assert_uint_le(t.used, sizeof(mem));
	ck_assert_int_eq(acpi_build(m, mem, sizeof(mem), GPA, &rsdp), 0);
	ck_assert_uint_eq(mem[t.used], FILL); /* nothing written past it */

	/* RSDP: on a 16-byte boundary, both checksums, revision 2. */
	ck_assert_uint_eq(rsdp % 16, 0);
	t.rsdp = at(&t, rsdp, 36, "RSDP");
	p = mem + t.rsdp;
	ck_assert(!memcmp(p, "RSD PTR ", 8));
	ck_assert_uint_eq(sum8(p, 20), 0);
	ck_assert_uint_eq(p[15], 2);
	ck_assert_uint_eq(rd32(p + 20), 36);
	ck_assert_uint_eq(sum8(p, 36), 0);
	ck_assert(!memcmp(p + 9, "SPLTVM", 6));

	t.xsdt = table(&t, rd64(p + 24), "XSDT", &t.xsdt_len);
	t.rsdt = table(&t, rd32(p + 16), "RSDT", &t.rsdt_len);

	/* Both roots list the same two tables: the FADT and the MADT. */
	ck_assert_uint_eq((t.xsdt_len - 36) % 8, 0);
	ck_assert_uint_eq((t.rsdt_len - 36) % 4, 0);
	n = (unsigned int)(t.xsdt_len - 36) / 8;
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq((t.rsdt_len - 36) / 4, n);
	for (unsigned int i = 0; i < n; i++) {
		e = rd64(mem + t.xsdt + 36 + 8 * i);
		ck_assert_uint_eq(rd32(mem + t.rsdt + 36 + 4 * i), e);
		at(&t, e, 4, "XSDT entry");
		if (!memcmp(mem + e - GPA, "FACP", 4)) {
			ck_assert_uint_eq(t.fadt, 0);
			t.fadt = table(&t, e, "FACP", &t.fadt_len);
		} else {
			ck_assert_uint_eq(t.madt, 0);
			t.madt = table(&t, e, "APIC", &t.madt_len);
		}
	}
	ck_assert_uint_ne(t.fadt, 0);
	ck_assert_uint_ne(t.madt, 0);

	/* FADT: the DSDT (both pointers) and the FACS (32-bit only). */
	p = mem + t.fadt;
	ck_assert_uint_eq(rd32(p + 40), rd64(p + 140));
	t.dsdt = table(&t, rd64(p + 140), "DSDT", &t.dsdt_len);
	ck_assert_uint_eq(rd64(p + 132), 0); /* X_FIRMWARE_CTRL */
	ck_assert_uint_eq(rd32(p + 36) % 64, 0);
	t.facs = at(&t, rd32(p + 36), 64, "FACS");
	return t;
}

/* ---- RSDP and the root tables ------------------------------------------- */

START_TEST(acpi_rsdp_points_at_both_roots)
{
	struct machine_desc m = machine(1);
	struct tables t = build(&m);

	/* Linux scans 0xe0000-0xfffff for it: it is where the buffer is. */
	ck_assert_uint_eq(t.rsdp, 0);
	ck_assert_uint_eq(mem[t.xsdt + 8], 1); /* revisions */
	ck_assert_uint_eq(mem[t.rsdt + 8], 1);
}
END_TEST

START_TEST(acpi_tables_do_not_overlap)
{
	struct machine_desc m = machine(256);
	struct tables t = build(&m);
	size_t start[] = {t.rsdp, t.xsdt, t.rsdt, t.fadt, t.madt, t.dsdt,
			  t.facs};
	size_t len[] = {36, t.xsdt_len, t.rsdt_len, t.fadt_len, t.madt_len,
			t.dsdt_len, 64};

	for (unsigned int i = 0; i < 7; i++)
		for (unsigned int j = 0; j < 7; j++)
			ck_assert_msg(i == j || start[i] + len[i] <= start[j] ||
					  start[j] + len[j] <= start[i],
				      "tables %u and %u overlap", i, j);
}
END_TEST


START_TEST(acpi_size_is_exact)
{
	struct machine_desc m = machine(16);
	size_t need = acpi_size(&m);
	uint64_t rsdp = 0;

	memset(mem, FILL, sizeof(mem));
	ck_assert_int_eq(acpi_build(&m, mem, need - 1, GPA, &rsdp), -ENOSPC);
	ck_assert_uint_eq(mem[0], FILL); /* nothing written on failure */
	ck_assert_int_eq(acpi_build(&m, mem, need, GPA, &rsdp), 0);
	ck_assert_uint_eq(rsdp, GPA);
	ck_assert_uint_eq(mem[need], FILL);
	/* Padding between the tables is zeroed, not left as it was. */
	for (size_t i = 0; i < need; i++)
		ck_assert_uint_ne(mem[i], FILL);
}
END_TEST

/* Spoils one field of a valid machine; names it, or NULL past the end. */
static const char *spoil(struct machine_desc *m, unsigned int i)
{
	switch (i) {
	case 0:
		m->cpus = 0;
		return "no CPU";
	case 1:
		m->cpus = MACHINE_MAX_CPUS + 1;
		return "too many CPUs";
	case 2:
		m->ioapic_pins = 0;
		return "no IOAPIC pin";
	case 3:
		m->ioapic_pins = MACHINE_IOAPIC_MAX_PINS + 1;
		return "121 pins";
	case 4:
		m->ioapic_version = 0x12;
		return "IOAPIC version 0x12";
	case 5:
		m->ioapic_id = 16; /* the ID register has 4 bits */
		return "IOAPIC ID 16";
	case 6:
		m->sci_irq = 0;
		return "SCI on IRQ0";
	case 7:
		m->sci_irq = 2;
		return "SCI on the cascade";
	case 8:
		m->sci_irq = 16;
		return "SCI past the ISA IRQs";
	case 9:
		m->s5_slp_typ = 8;
		return "SLP_TYP 8";
	case 10:
		m->pm1a_evt_port = 0;
		return "no PM1a event block";
	case 11:
		m->pm1a_cnt_port = 0;
		return "no PM1a control block";
	case 12:
		m->com1_irq = 16;
		return "COM1 on IRQ 16";
	case 13:
		m->s3_slp_typ = 8;
		return "S3 SLP_TYP 8";
	case 14:
		m->s3_slp_typ = m->s5_slp_typ;
		return "S3 with S5's SLP_TYP";
	default:
		return NULL;
	}
}

START_TEST(acpi_rejects_what_it_cannot_describe)
{
	struct machine_desc m = machine(1);
	const char *what;
	uint64_t rsdp;

	ck_assert_int_eq(acpi_build(&m, mem, sizeof(mem), GPA + 16, &rsdp),
			 -EINVAL); /* the FACS needs 64-byte alignment */
	ck_assert_int_eq(
	    acpi_build(&m, mem, sizeof(mem), 0xffffff00ull, &rsdp),
	    -EINVAL); /* would cross 4 GiB: the RSDT's pointers are 32-bit */
	ck_assert_int_eq(
	    acpi_build(&m, mem, sizeof(mem), 0x100000000ull, &rsdp), -EINVAL);
	ck_assert_int_eq(acpi_build(&m, NULL, sizeof(mem), GPA, &rsdp),
			 -EINVAL);
	ck_assert_int_eq(acpi_build(NULL, mem, sizeof(mem), GPA, &rsdp),
			 -EINVAL);
	ck_assert_uint_eq(acpi_size(NULL), 0);

	for (unsigned int i = 0;; i++) {
		m = machine(2);
		what = spoil(&m, i);
		if (!what)
			break;
		ck_assert_msg(machine_desc_check(&m) == -EINVAL, "%s accepted",
			      what);
		ck_assert_uint_eq(acpi_size(&m), 0);
		ck_assert_int_eq(acpi_build(&m, mem, sizeof(mem), GPA, &rsdp),
				 -EINVAL);
	}
	m = machine(MACHINE_MAX_CPUS);
	ck_assert_int_eq(machine_desc_check(&m), 0);
}
END_TEST

/* ---- The machine description -------------------------------------------- */

START_TEST(acpi_machine_desc_has_pc_defaults)
{
	struct machine_desc m;

	machine_desc_init(&m, 4, 48, 0x11);
	ck_assert_uint_eq(m.cpus, 4);
	ck_assert_uint_eq(m.ioapic_pins, 48);
	ck_assert_uint_eq(m.ioapic_version, 0x11);
	ck_assert_uint_eq(m.ioapic_addr, 0xfec00000u);
	ck_assert_uint_eq(m.ioapic_id, 0);
	ck_assert_uint_eq(m.lapic_addr, 0xfee00000u);
	ck_assert(m.pit);
	ck_assert_uint_eq(m.pm1a_evt_port, 0x600);
	ck_assert_uint_eq(m.pm1a_cnt_port, 0x604);
	ck_assert_uint_eq(m.pm_timer_port, 0x608);
	ck_assert_uint_eq(m.sci_irq, 9);
	ck_assert_uint_eq(m.com1_port, 0x3f8);
	ck_assert_uint_eq(m.com1_irq, 4);
	ck_assert_int_eq(machine_desc_check(&m), 0);
}
END_TEST

START_TEST(acpi_isa_irqs_follow_pc_wiring)
{
	struct machine_desc m = machine(1);
	unsigned int pin;
	uint16_t flags;

	ck_assert(machine_isa_irq(&m, 0, &pin, &flags));
	ck_assert_uint_eq(pin, 2);
	ck_assert_uint_eq(flags, 0);
	ck_assert(!machine_isa_irq(&m, 2, &pin, &flags));
	ck_assert(machine_isa_irq(&m, 9, &pin, &flags));
	ck_assert_uint_eq(pin, 9);
	ck_assert_uint_eq(flags, 0xd); /* active high, level */
	for (unsigned int irq = 1; irq < 16; irq++) {
		if (irq == 2 || irq == 9)
			continue;
		ck_assert(machine_isa_irq(&m, irq, &pin, &flags));
		ck_assert_uint_eq(pin, irq);
		ck_assert_uint_eq(flags, 0);
	}
	ck_assert(!machine_isa_irq(&m, 16, &pin, &flags));
	/* The PIT is described whether or not there is one. */
	m.pit = false;
	ck_assert(machine_isa_irq(&m, 0, &pin, &flags));
	ck_assert_uint_eq(pin, 2);
	/* Pins the IOAPIC lacks connect nothing. */
	m.ioapic_pins = 8;
	ck_assert(machine_isa_irq(&m, 7, &pin, &flags));
	ck_assert(!machine_isa_irq(&m, 8, &pin, &flags));
	ck_assert(!machine_isa_irq(&m, 9, &pin, &flags));
}
END_TEST

/* ---- MADT (5.2.12) ------------------------------------------------------ */

struct madt {
	unsigned int lapics, x2apics, ioapics, isos, nmis, x2nmis;
	const uint8_t *ioapic, *nmi, *x2nmi;
	const uint8_t *iso[16];
	unsigned int first_cpu; /* APIC ID of the first CPU listed */
	bool seen[MACHINE_MAX_CPUS];
};

/* Walks the entries: each of its type's length, within the table. */
static void walk_madt(const struct tables *t, unsigned int cpus,
		      struct madt *r)
{
	static const uint8_t lengths[] = {
	    [0] = 8, [1] = 12, [2] = 10, [4] = 6, [9] = 16, [10] = 12,
	};
	const uint8_t *p = mem + t->madt, *e;
	size_t off;
	uint32_t id;

	memset(r, 0, sizeof(*r));
	r->first_cpu = ~0u;
	for (off = 44; off < t->madt_len; off += e[1]) {
		e = p + off;
		ck_assert_uint_le(off + 2, t->madt_len);
		ck_assert_msg(e[0] < sizeof(lengths) && lengths[e[0]],
			      "unexpected MADT entry type %u", e[0]);
		ck_assert_msg(e[1] == lengths[e[0]], "type %u length %u", e[0],
			      e[1]);
		ck_assert_uint_le(off + e[1], t->madt_len);
		switch (e[0]) {
		case 0: /* Processor Local APIC */
			id = e[3];
			ck_assert_uint_eq(e[2], id); /* ACPI UID */
			ck_assert_uint_lt(id, 255);
			ck_assert_uint_eq(rd32(e + 4), 1); /* enabled */
			r->lapics++;
			break;
		case 9: /* Processor Local x2APIC */
			id = rd32(e + 4);
			ck_assert_uint_ge(id, 255);
			ck_assert_uint_eq(rd32(e + 8), 1);
			ck_assert_uint_eq(rd32(e + 12), id);
			r->x2apics++;
			break;
		case 1: /* I/O APIC */
			r->ioapic = e;
			r->ioapics++;
			continue;
		case 2: /* Interrupt Source Override */
			ck_assert_uint_eq(e[2], 0); /* bus: ISA */
			ck_assert_uint_lt(e[3], 16);
			ck_assert_ptr_null(r->iso[e[3]]);
			r->iso[e[3]] = e;
			r->isos++;
			continue;
		case 4: /* Local APIC NMI */
			r->nmi = e;
			r->nmis++;
			continue;
		default: /* Local x2APIC NMI */
			r->x2nmi = e;
			r->x2nmis++;
			continue;
		}
		ck_assert_uint_lt(id, cpus);
		ck_assert_msg(!r->seen[id], "APIC ID %u twice", id);
		r->seen[id] = true;
		if (r->first_cpu == ~0u)
			r->first_cpu = id;
	}
	ck_assert_uint_eq(off, t->madt_len);
}

static const unsigned int cpu_counts[] = {1, 2, 16, 255, 256, 300,
					  MACHINE_MAX_CPUS};

#define NR_CPU_COUNTS (sizeof(cpu_counts) / sizeof(cpu_counts[0]))

static void check_madt_cpus(unsigned int cpus)
{
	struct machine_desc m = machine(cpus);
	struct tables t = build(&m);
	struct madt r;

	walk_madt(&t, cpus, &r);
	/* APIC IDs 0-254 as Local APIC entries, 255 up as x2APIC ones. */
	ck_assert_uint_eq(r.lapics, cpus < 255 ? cpus : 255);
	ck_assert_uint_eq(r.x2apics, cpus < 255 ? 0 : cpus - 255);
	for (unsigned int id = 0; id < cpus; id++)
		ck_assert_msg(r.seen[id], "APIC ID %u missing", id);
	ck_assert_uint_eq(r.first_cpu, 0); /* the BSP first */
	ck_assert_uint_eq(mem[t.madt + 8], 5); /* revision: ACPI 6.3 */
}

START_TEST(acpi_madt_lists_every_cpu_once)
{
	for (unsigned int i = 0; i < NR_CPU_COUNTS; i++)
		check_madt_cpus(cpu_counts[i]);
}
END_TEST

START_TEST(acpi_madt_describes_the_ioapic)
{
	struct machine_desc m = machine(4);
	struct tables t;
	struct madt r;

	t = build(&m);
	walk_madt(&t, m.cpus, &r);
	ck_assert_uint_eq(r.ioapics, 1);
	ck_assert_uint_eq(r.ioapic[2], 0);		 /* ID */
	ck_assert_uint_eq(rd32(r.ioapic + 4), 0xfec00000u); /* address */
	ck_assert_uint_eq(rd32(r.ioapic + 8), 0);	 /* GSI base */

	m.ioapic_id = 9;
	m.ioapic_addr = 0xfec01000u;
	t = build(&m);
	walk_madt(&t, m.cpus, &r);
	ck_assert_uint_eq(r.ioapic[2], 9);
	ck_assert_uint_eq(rd32(r.ioapic + 4), 0xfec01000u);
}
END_TEST

START_TEST(acpi_madt_overrides_irq0_and_the_sci)
{
	struct machine_desc m = machine(2);
	struct tables t = build(&m);
	struct madt r;

	walk_madt(&t, m.cpus, &r);
	ck_assert_uint_eq(r.isos, 2);
	ck_assert_ptr_nonnull(r.iso[0]);
	ck_assert_uint_eq(rd32(r.iso[0] + 4), 2);  /* IRQ0 -> GSI 2 */
	ck_assert_uint_eq(rd16(r.iso[0] + 8), 0);  /* conforms to ISA */
	ck_assert_ptr_nonnull(r.iso[9]);
	ck_assert_uint_eq(rd32(r.iso[9] + 4), 9);  /* SCI: identity */
	ck_assert_uint_eq(rd16(r.iso[9] + 8), 0xd); /* level, active high */

	/* Without a PIT the override is still there, as on PCs. */
	m.pit = false;
	m.sci_irq = 11;
	t = build(&m);
	walk_madt(&t, m.cpus, &r);
	ck_assert_uint_eq(r.isos, 2);
	ck_assert_uint_eq(rd32(r.iso[0] + 4), 2);
	ck_assert_ptr_null(r.iso[9]);
	ck_assert_uint_eq(rd16(r.iso[11] + 8), 0xd);

	/* An SCI on a pin the IOAPIC lacks: no override for it. */
	m.ioapic_pins = 8;
	t = build(&m);
	walk_madt(&t, m.cpus, &r);
	ck_assert_uint_eq(r.isos, 1);
	ck_assert_ptr_nonnull(r.iso[0]);
}
END_TEST

static void check_madt_nmi(unsigned int cpus)
{
	struct machine_desc m = machine(cpus);
	struct tables t = build(&m);
	const uint8_t *p = mem + t.madt;
	struct madt r;

	ck_assert_uint_eq(rd32(p + 36), 0xfee00000u); /* LAPIC address */
	ck_assert_uint_eq(rd32(p + 40), 1);	       /* PCAT_COMPAT */
	walk_madt(&t, cpus, &r);
	ck_assert_uint_eq(r.nmis, 1);
	ck_assert_uint_eq(r.nmi[2], 0xff); /* all processors */
	ck_assert_uint_eq(rd16(r.nmi + 3), 0);
	ck_assert_uint_eq(r.nmi[5], 1); /* LINT1 */
	/* x2APIC CPUs have theirs in a Local x2APIC NMI entry. */
	ck_assert_uint_eq(r.x2nmis, cpus > 255);
	if (r.x2nmi) {
		ck_assert_uint_eq(rd16(r.x2nmi + 2), 0);
		ck_assert_uint_eq(rd32(r.x2nmi + 4), 0xffffffffu);
		ck_assert_uint_eq(r.x2nmi[8], 1);
	}
}

START_TEST(acpi_madt_routes_nmi_to_lint1)
{
	for (unsigned int i = 0; i < NR_CPU_COUNTS; i++)
		check_madt_nmi(cpu_counts[i]);
}
END_TEST

/* ---- FADT (5.2.9) and FACS (5.2.10) ------------------------------------- */

/* A Generic Address Structure (5.2.3.2) naming I/O ports. */
static void check_gas_io(const uint8_t *g, uint16_t port, unsigned int bytes)
{
	ck_assert_uint_eq(g[0], 1); /* SystemIO */
	ck_assert_uint_eq(g[1], 8 * bytes);
	ck_assert_uint_eq(g[2], 0);
	ck_assert_uint_eq(rd64(g + 4), port);
}

START_TEST(acpi_fadt_points_at_dsdt_and_facs)
{
	struct machine_desc m = machine(2);
	struct tables t = build(&m);
	const uint8_t *f = mem + t.fadt, *facs = mem + t.facs;

	ck_assert_uint_eq(t.fadt_len, 276); /* the ACPI 6 layout */
	ck_assert_uint_eq(f[8], 6);	    /* revision */
	/* FACS: 64-byte aligned, no checksum; version 2. */
	ck_assert_uint_eq((GPA + t.facs) % 64, 0);
	ck_assert(!memcmp(facs, "FACS", 4));
	ck_assert_uint_eq(rd32(facs + 4), 64);
	ck_assert_uint_eq(facs[32], 2);
	ck_assert_uint_eq(t.facs, acpi_facs_offset());
	/* The DSDT is a definition block of revision 2 (64-bit ints). */
	ck_assert_uint_eq(mem[t.dsdt + 8], 2);
}
END_TEST

START_TEST(acpi_fadt_names_the_pm_blocks)
{
	struct machine_desc m = machine(1);
	struct tables t = build(&m);
	const uint8_t *f = mem + t.fadt;
	uint32_t flags = rd32(f + 112);

	ck_assert_uint_eq(rd16(f + 46), 9);	  /* SCI_INT */
	ck_assert_uint_eq(rd32(f + 48), 0);	  /* no SMI_CMD: ACPI mode */
	ck_assert_uint_eq(rd32(f + 56), 0x600); /* PM1a_EVT_BLK */
	ck_assert_uint_eq(rd32(f + 64), 0x604); /* PM1a_CNT_BLK */
	ck_assert_uint_eq(rd32(f + 76), 0x608); /* PM_TMR_BLK */
	ck_assert_uint_eq(rd32(f + 60), 0);	  /* no PM1b blocks */
	ck_assert_uint_eq(rd32(f + 68), 0);
	ck_assert_uint_eq(f[88], 4); /* PM1_EVT_LEN */
	ck_assert_uint_eq(f[89], 2); /* PM1_CNT_LEN */
	ck_assert_uint_eq(f[91], 4); /* PM_TMR_LEN */
	check_gas_io(f + 148, 0x600, 4); /* X_PM1a_EVT_BLK */
	check_gas_io(f + 172, 0x604, 2); /* X_PM1a_CNT_BLK */
	check_gas_io(f + 208, 0x608, 4); /* X_PM_TMR_BLK */

	ck_assert_uint_eq(flags & (1u << 20), 0); /* not HW-reduced */
	ck_assert_uint_eq(flags & (1u << 8), 0);	 /* 24-bit PM timer */
	ck_assert_uint_ne(flags & (1u << 10), 0); /* RESET_REG_SUP */
	check_gas_io(f + 116, 0xcf9, 1);
	ck_assert_uint_eq(f[128], 6); /* RESET_VALUE */

	/* Legacy devices, but no i8042: Linux must not probe for one. */
	ck_assert_uint_ne(rd16(f + 109) & (1u << 0), 0);
	ck_assert_uint_eq(rd16(f + 109) & (1u << 1), 0);
	ck_assert_uint_ne(rd16(f + 109) & (1u << 5), 0); /* no CMOS RTC */
	ck_assert_uint_eq(f[108], 0); /* no century byte either */
	ck_assert_uint_ne(flags & (1u << 6), 0); /* FIX_RTC: no RTC_STS */

	m.pm_timer_port = 0;
	m.reset_port = 0;
	m.rtc = true;
	t = build(&m);
	f = mem + t.fadt;
	ck_assert_uint_eq(rd32(f + 76), 0);
	ck_assert_uint_eq(f[91], 0);
	for (unsigned int i = 0; i < 12; i++) /* X_PM_TMR_BLK: none */
		ck_assert_uint_eq(f[208 + i], 0);
	ck_assert_uint_eq(rd32(f + 112) & (1u << 10), 0);
	ck_assert_uint_eq(rd16(f + 109) & (1u << 5), 0);
	ck_assert_uint_eq(f[108], 0x32);
	/* The RTC's alarm sets RTC_STS (a wake event from S3). */
	ck_assert_uint_eq(rd32(f + 112) & (1u << 6), 0);
}
END_TEST

/*
 * The waking vectors the OS writes in the FACS (5.2.10): the real-mode one
 * at offset 12, the 32-bit one at 24, which only FACS version 1 and up
 * have.
 */
START_TEST(acpi_facs_gives_the_waking_vectors)
{
	struct machine_desc m = machine(1);
	struct tables t = build(&m);
	uint8_t *facs = mem + t.facs;
	uint32_t vector = 1;
	uint64_t x_vector = 1;

	acpi_facs_waking(facs, &vector, &x_vector);
	ck_assert_uint_eq(vector, 0);
	ck_assert_uint_eq(x_vector, 0);
	facs[12] = 0x08, facs[13] = 0x10; /* 0x1008 */
	acpi_facs_waking(facs, &vector, &x_vector);
	ck_assert_uint_eq(vector, 0x1008);
	ck_assert_uint_eq(x_vector, 0);
	facs[24] = 0x00, facs[25] = 0x20, facs[26] = 0x10; /* 0x102000 */
	acpi_facs_waking(facs, &vector, &x_vector);
	ck_assert_uint_eq(x_vector, 0x102000);
	facs[32] = 0; /* version 0: no X_Firmware_Waking_Vector */
	acpi_facs_waking(facs, &vector, &x_vector);
	ck_assert_uint_eq(vector, 0x1008);
	ck_assert_uint_eq(x_vector, 0);
}
END_TEST

/* ---- DSDT: an AML reader for what the generator may write (20.2) -------- */

struct aml_obj {
	char path[48];	    /* "\_SB_.COM1._HID" */
	const uint8_t *obj; /* its data object; NULL for a device */
};

struct aml_ns {
	struct aml_obj objs[32];
	unsigned int n;
};

/* 20.2.4 PkgLength: its value (which counts itself), *n its size. */
static uint32_t aml_pkglength(const uint8_t *p, const uint8_t *end,
			      unsigned int *n)
{
	unsigned int follow = p[0] >> 6;
	uint32_t v;

	ck_assert(p + 1 + follow <= end);
	*n = 1 + follow;
	if (!follow)
		return p[0] & 0x3f;
	ck_assert_uint_eq(p[0] & 0x30, 0); /* bits 5:4 reserved */
	v = p[0] & 0xf;
	for (unsigned int i = 1; i <= follow; i++)
		v |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	return v;
}

/* 20.2.2 NameString, resolved against scope into out. */
static const uint8_t *aml_namestring(const uint8_t *p, const uint8_t *end,
				     const char *scope, char *out)
{
	unsigned int segs = 1;

	if (*p == '\\') {
		strcpy(out, "\\");
		p++;
	} else {
		strcpy(out, scope);
	}
	ck_assert_uint_ne(*p, '^'); /* not written by the generator */
	if (*p == 0x00) {
		segs = 0;
		p++;
	} else if (*p == 0x2e) {
		segs = 2;
		p++;
	} else if (*p == 0x2f) {
		segs = p[1];
		p += 2;
	}
	ck_assert(p + 4 * segs <= end);
	for (unsigned int s = 0; s < segs; s++, p += 4) {
		for (unsigned int i = 0; i < 4; i++)
			ck_assert_msg((p[i] >= 'A' && p[i] <= 'Z') ||
					  p[i] == '_' ||
					  (i && p[i] >= '0' && p[i] <= '9'),
				      "bad name character 0x%02x", p[i]);
		if (strcmp(out, "\\"))
			strcat(out, ".");
		strncat(out, (const char *)p, 4);
	}
	return p;
}

/* A ComputationalData integer (20.2.3): *v, and what follows it. */
static const uint8_t *aml_integer(const uint8_t *p, const uint8_t *end,
				  uint64_t *v)
{
	static const unsigned int size[] = {[0x0a] = 1, [0x0b] = 2,
					    [0x0c] = 4, [0x0e] = 8};

	if (*p == 0x00 || *p == 0x01 || *p == 0xff) {
		*v = *p == 0xff ? ~0ull : *p;
		return p + 1;
	}
	ck_assert_msg(*p < sizeof(size) / sizeof(size[0]) && size[*p],
		      "not an integer: 0x%02x", *p);
	ck_assert(p + 1 + size[*p] <= end);
	*v = 0;
	for (unsigned int i = 0; i < size[*p]; i++)
		*v |= (uint64_t)p[1 + i] << (8 * i);
	return p + 1 + size[*p];
}

/* A DataRefObject: an integer, a Buffer or a Package. Returns its end. */
static const uint8_t *aml_object(const uint8_t *p, const uint8_t *end)
{
	unsigned int n;
	uint64_t v;

	if (*p == 0x11 || *p == 0x12) { /* BufferOp, PackageOp */
		uint32_t len = aml_pkglength(p + 1, end, &n);

		ck_assert(p + 1 + len <= end);
		return p + 1 + len;
	}
	return aml_integer(p, end, &v);
}

static void aml_record(struct aml_ns *ns, const char *path,
		       const uint8_t *obj)
{
	ck_assert_uint_lt(ns->n, sizeof(ns->objs) / sizeof(ns->objs[0]));
	for (unsigned int i = 0; i < ns->n; i++)
		ck_assert_msg(strcmp(ns->objs[i].path, path), "%s twice", path);
	strcpy(ns->objs[ns->n].path, path);
	ns->objs[ns->n++].obj = obj;
}

/* TermList of Scope, Device and Name; every package must end exactly. */
static void aml_terms(struct aml_ns *ns, const uint8_t *p, const uint8_t *end,
		      const char *scope)
{
	char path[48];
	unsigned int n;
	uint32_t len;
	const uint8_t *pkg_end;

	while (p < end) {
		if (p[0] == 0x10 || (p[0] == 0x5b && p[1] == 0x82)) {
			/* DefScope, DefDevice: PkgLength NameString TermList */
			p += p[0] == 0x10 ? 1 : 2;
			len = aml_pkglength(p, end, &n);
			pkg_end = p + len;
			ck_assert(pkg_end <= end);
			p = aml_namestring(p + n, pkg_end, scope, path);
			aml_record(ns, path, NULL);
			aml_terms(ns, p, pkg_end, path);
			p = pkg_end;
		} else if (p[0] == 0x08) {
			/* DefName: NameString DataRefObject */
			p = aml_namestring(p + 1, end, scope, path);
			ck_assert(p < end);
			aml_record(ns, path, p);
			p = aml_object(p, end);
		} else {
			ck_abort_msg("unexpected AML opcode 0x%02x", p[0]);
		}
	}
	ck_assert_ptr_eq(p, end);
}

static struct aml_ns read_dsdt(const struct machine_desc *m)
{
	struct tables t = build(m);
	struct aml_ns ns = {0};

	aml_terms(&ns, mem + t.dsdt + 36, mem + t.dsdt + t.dsdt_len, "\\");
	return ns;
}

static const uint8_t *aml_find(const struct aml_ns *ns, const char *path)
{
	for (unsigned int i = 0; i < ns->n; i++)
		if (!strcmp(ns->objs[i].path, path))
			return ns->objs[i].obj ? ns->objs[i].obj
					       : (const uint8_t *)"";
	return NULL;
}

/* A Buffer object's bytes (DefBuffer: PkgLength BufferSize ByteList). */
static const uint8_t *aml_buffer(const uint8_t *obj, size_t *len)
{
	unsigned int n;
	uint32_t pkg;
	uint64_t size;
	const uint8_t *bytes;

	ck_assert_uint_eq(obj[0], 0x11);
	pkg = aml_pkglength(obj + 1, obj + 5, &n);
	bytes = aml_integer(obj + 1 + n, obj + 1 + pkg, &size);
	ck_assert_ptr_eq(bytes + size, obj + 1 + pkg);
	*len = size;
	return bytes;
}

/*
 * A _CRS of small resource descriptors (6.4.2): one I/O port range
 * (Decode16, fixed base) and one IRQ, then the End Tag.
 */
static void check_crs(const uint8_t *obj, uint16_t port, uint8_t len,
		      unsigned int irq)
{
	size_t size;
	const uint8_t *r = aml_buffer(obj, &size);

	ck_assert_uint_eq(size, 8 + 3 + 2);
	ck_assert_uint_eq(r[0], 0x47); /* I/O port, 7 bytes */
	ck_assert_uint_eq(r[1], 1);    /* 16-bit decode */
	ck_assert_uint_eq(rd16(r + 2), port);
	ck_assert_uint_eq(rd16(r + 4), port);
	ck_assert_uint_eq(r[7], len);
	ck_assert_uint_eq(r[8], 0x22); /* IRQ, 2 bytes: no flags */
	ck_assert_uint_eq(rd16(r + 9), 1u << irq);
	ck_assert_uint_eq(r[11], 0x79); /* End Tag */
	ck_assert(r[12] == 0 || sum8(r, size) == 0); /* 0: "valid" */
}

/* A sleep package's first two elements: SLP_TYPa, SLP_TYPb (7.4.2). */
static void check_sleep(const struct aml_ns *ns, const char *name,
			uint8_t slp_typ)
{
	const uint8_t *obj = aml_find(ns, name), *p, *end;
	unsigned int n;
	uint64_t v;

	ck_assert_ptr_nonnull(obj);
	ck_assert_uint_eq(obj[0], 0x12);
	end = obj + 1 + aml_pkglength(obj + 1, obj + 5, &n);
	p = obj + 1 + n;
	ck_assert_uint_eq(*p++, 4); /* NumElements */
	for (unsigned int i = 0; i < 4; i++) {
		p = aml_integer(p, end, &v);
		ck_assert_uint_eq(v, i < 2 ? slp_typ : 0);
	}
	ck_assert_ptr_eq(p, end);
}

static void check_s5(const struct aml_ns *ns, uint8_t slp_typ)
{
	check_sleep(ns, "\\_S5_", slp_typ);
}

START_TEST(acpi_dsdt_describes_com1_and_s5)
{
	struct machine_desc m = machine(1);
	struct aml_ns ns = read_dsdt(&m);
	const uint8_t *hid, *uid;
	uint64_t v;

	ck_assert_ptr_nonnull(aml_find(&ns, "\\_SB_"));
	ck_assert_ptr_nonnull(aml_find(&ns, "\\_SB_.COM1"));
	hid = aml_find(&ns, "\\_SB_.COM1._HID");
	ck_assert_ptr_nonnull(hid);
	/* EisaId ("PNP0501"), a DWordConst so it reads as an EISA ID. */
	ck_assert_uint_eq(hid[0], 0x0c);
	aml_integer(hid, hid + 5, &v);
	ck_assert_uint_eq(v, 0x0105d041);
	uid = aml_find(&ns, "\\_SB_.COM1._UID");
	ck_assert_ptr_nonnull(uid);
	aml_integer(uid, uid + 9, &v);
	ck_assert_uint_eq(v, 1);
	check_crs(aml_find(&ns, "\\_SB_.COM1._CRS"), 0x3f8, 8, 4);
	ck_assert_ptr_null(aml_find(&ns, "\\_SB_.RTC_"));
	check_s5(&ns, 0);
	/* _S3 (7.4.2.4): suspend to RAM, SLP_TYP 1 as QEMU's PIIX4 PM. */
	check_sleep(&ns, "\\_S3_", 1);
	ck_assert_uint_eq(ns.n, 7);
}
END_TEST

START_TEST(acpi_dsdt_follows_the_machine)
{
	struct machine_desc m = machine(1);
	struct aml_ns ns;
	const uint8_t *hid;
	uint64_t v;

	m.rtc = true;
	m.com1_port = 0x2f8;
	m.com1_irq = 3;
	m.s5_slp_typ = 5;
	ns = read_dsdt(&m);
	check_crs(aml_find(&ns, "\\_SB_.COM1._CRS"), 0x2f8, 8, 3);
	hid = aml_find(&ns, "\\_SB_.RTC_._HID");
	ck_assert_ptr_nonnull(hid);
	aml_integer(hid, hid + 5, &v);
	ck_assert_uint_eq(v, 0x000bd041); /* PNP0B00 */
	check_crs(aml_find(&ns, "\\_SB_.RTC_._CRS"), 0x70, 2, 8);
	check_s5(&ns, 5);
	check_sleep(&ns, "\\_S3_", 1);

	/* S3 not offered: no _S3. */
	m.s3 = false;
	ns = read_dsdt(&m);
	ck_assert_ptr_null(aml_find(&ns, "\\_S3_"));
	check_s5(&ns, 5);
	m.s3 = true;
	m.s3_slp_typ = 6;
	ns = read_dsdt(&m);
	check_sleep(&ns, "\\_S3_", 6);

	m.com1_port = 0;
	ns = read_dsdt(&m);
	ck_assert_ptr_null(aml_find(&ns, "\\_SB_.COM1"));
	ck_assert_ptr_nonnull(aml_find(&ns, "\\_SB_.RTC_"));
}
END_TEST

/*
 * Decodes what acpi_aml_pkglength() encodes; true if it is the value with
 * the PkgLength's own bytes counted, in the fewest bytes. Plain checks, no
 * ck_assert: this runs millions of times.
 */
static bool pkglength_ok(uint32_t len)
{
	static const uint32_t limit[] = {0, 1u << 6, 1u << 12, 1u << 20,
					 1u << 28};
	uint8_t out[4];
	unsigned int n = acpi_aml_pkglength(out, len), follow;
	uint32_t v;

	if (n < 1 || n > 4 || (out[0] >> 6) != n - 1)
		return false;
	follow = n - 1;
	v = follow ? out[0] & 0xfu : out[0];
	if (follow && (out[0] & 0x30))
		return false; /* bits 5:4 are reserved */
	for (unsigned int i = 1; i <= follow; i++)
		v |= (uint32_t)out[i] << (4 + 8 * (i - 1));
	return v == len + n && len + n < limit[n] &&
	       (n == 1 || len + n - 1 >= limit[n - 1]);
}

START_TEST(acpi_aml_pkglength_is_shortest)
{
	uint8_t out[4];

	for (uint32_t len = 0; len < (1u << 21); len++)
		if (!pkglength_ok(len))
			ck_abort_msg("PkgLength of %u is wrong", len);
	for (uint32_t len = (1u << 28) - 4096; len < (1u << 28) - 4; len++)
		if (!pkglength_ok(len))
			ck_abort_msg("PkgLength of %u is wrong", len);
	ck_assert_uint_eq(acpi_aml_pkglength(out, (1u << 28) - 4), 0);
	ck_assert_uint_eq(acpi_aml_pkglength(out, 62), 1);
	ck_assert_uint_eq(out[0], 63);
	ck_assert_uint_eq(acpi_aml_pkglength(out, 63), 2);
	ck_assert_uint_eq(out[0], 0x41); /* 65 = 0x41: one byte follows */
	ck_assert_uint_eq(out[1], 0x04);
}
END_TEST

/* ---- iasl reads every table as we meant it ------------------------------ */

/* Finds name in $PATH. */
static bool find_tool(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH"), *p, *colon;

	for (p = path ? path : "/usr/bin:/bin"; *p; p = colon + !!*colon) {
		colon = strchrnul(p, ':');
		snprintf(out, len, "%.*s/%s", (int)(colon - p), p, name);
		if (colon > p && access(out, X_OK) == 0)
			return true;
		if (!*colon)
			break;
	}
	return false;
}

/* Runs argv in dir, stdout and stderr to dir/log. Returns the status. */
static int run_in(const char *dir, char *const argv[], const char *log)
{
	int status, fd;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (chdir(dir))
			_exit(126);
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* dir/name's bytes, NUL-terminated (free() them), or NULL if absent. */
static char *slurp(const char *dir, const char *name, size_t *ret_len)
{
	char path[4096];
	struct stat st;
	char *buf;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	ck_assert_int_eq(fstat(fileno(f), &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)st.st_size, f),
			  (size_t)st.st_size);
	buf[st.st_size] = '\0';
	fclose(f);
	if (ret_len)
		*ret_len = (size_t)st.st_size;
	return buf;
}

static void spill(const char *dir, const char *name, const void *p,
		  size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	rmdir(dir);
}

/*
 * `iasl -d SIG.dat` must disassemble the table without an error, warning
 * or "****" remark (how it flags e.g. a bad checksum: exit status 0 and
 * "Firmware Warning" on stderr); then compiling the listing back (`iasl
 * -oa -we`: no optimizations, warnings as errors) must give the same
 * bytes but for the creator fields, iasl's own (offsets 28-35), and so
 * the checksum: every field reads as we meant it.
 */
static char *iasl_round_trip(const char *iasl, const char *dir,
			     const char *sig, const uint8_t *table, size_t len,
			     bool header)
{
	char dat[16], dsl[16], aml[16];
	char *d_argv[] = {(char *)iasl, (char *)"-d", dat, NULL};
	char *c_argv[] = {(char *)iasl, (char *)"-oa", (char *)"-we", dsl,
			  NULL};
	char *log, *text, *back;
	size_t back_len;
	int rc;

	snprintf(dat, sizeof(dat), "%s.dat", sig);
	snprintf(dsl, sizeof(dsl), "%s.dsl", sig);
	snprintf(aml, sizeof(aml), "%s.aml", sig);
	spill(dir, dat, table, len);

	rc = run_in(dir, d_argv, "disassemble.log");
	log = slurp(dir, "disassemble.log", NULL);
	ck_assert_ptr_nonnull(log);
	ck_assert_msg(rc == 0, "iasl -d %s/%s: status %d\n%s", dir, dat, rc,
		      log);
	ck_assert_msg(!strstr(log, "Error") && !strstr(log, "Warning") &&
			  !strstr(log, "does not contain"),
		      "iasl -d %s/%s complains:\n%s", dir, dat, log);
	text = slurp(dir, dsl, NULL);
	ck_assert_msg(text, "iasl -d %s/%s wrote no %s:\n%s", dir, dat, dsl,
		      log);
	ck_assert_msg(!strstr(text, "****"), "%s/%s flags a problem: %s", dir,
		      dsl, strstr(text, "****"));
	free(log);

	rc = run_in(dir, c_argv, "compile.log");
	log = slurp(dir, "compile.log", NULL);
	ck_assert_ptr_nonnull(log);
	ck_assert_msg(rc == 0 && strstr(log, "0 Errors, 0 Warnings, 0 Remarks"),
		      "iasl -oa -we %s/%s: status %d\n%s", dir, dsl, rc, log);
	back = slurp(dir, aml, &back_len);
	ck_assert_ptr_nonnull(back);
	ck_assert_uint_eq(back_len, len);
	for (size_t i = 0; i < len; i++) {
		if (header && (i == 9 || (i >= 28 && i < 36)))
			continue;
		ck_assert_msg((uint8_t)back[i] == table[i],
			      "%s byte %zu: 0x%02x, iasl made it 0x%02x", sig,
			      i, table[i], (uint8_t)back[i]);
	}
	free(log);
	free(back);
	return text;
}

static unsigned int count(const char *text, const char *what)
{
	unsigned int n = 0;

	for (; (text = strstr(text, what)); text += strlen(what))
		n++;
	return n;
}

static void iasl_check(const char *iasl, const struct machine_desc *m)
{
	char dir[] = "/tmp/splitvm-acpi-XXXXXX";
	struct tables t = build(m);

	unsigned int devices = !!m->com1_port + m->rtc + !!m->pci_io_size;
	unsigned int pci = !!m->pci_io_size, prt = pci && m->pci_intx_gsi;
	char *dsl;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	/*
	 * Not the RSDP: iasl 20200925 cannot load one from a file
	 * (acfileio.c: "Loading an RSDP is not supported"); build() has
	 * checked it.
	 */
	free(iasl_round_trip(iasl, dir, "XSDT", mem + t.xsdt, t.xsdt_len,
			     true));
	free(iasl_round_trip(iasl, dir, "RSDT", mem + t.rsdt, t.rsdt_len,
			     true));
	free(iasl_round_trip(iasl, dir, "FACP", mem + t.fadt, t.fadt_len,
			     true));
	free(iasl_round_trip(iasl, dir, "FACS", mem + t.facs, 64, false));
	free(iasl_round_trip(iasl, dir, "APIC", mem + t.madt, t.madt_len,
			     true));
	/*
	 * A _CRS that is not a valid resource list disassembles as a plain
	 * Buffer, and an ID that is not an EISA ID as a number.
	 */
	dsl = iasl_round_trip(iasl, dir, "DSDT", mem + t.dsdt, t.dsdt_len,
			      true);
	ck_assert_msg(count(dsl, "Device (") == devices &&
			  count(dsl, "ResourceTemplate ()") == devices &&
			  count(dsl, "EisaId (\"PNP0") == devices &&
			  count(dsl, "Name (\\_S5, Package (0x04)") == 1 &&
			  count(dsl, "Name (\\_S3, Package (0x04)") ==
				  (m->s3 ? 1 : 0) &&
			  /* PCI: the root bridge, its windows, 128 routes */
			  count(dsl, "EisaId (\"PNP0A03\")") == pci &&
			  count(dsl, "WordBusNumber (") == pci &&
			  count(dsl, "WordIO (") == pci &&
			  count(dsl, "DWordMemory (") == pci &&
			  count(dsl, "Name (_PRT, Package (0x80)") == prt &&
			  /* _S5, _S3 and one per _PRT entry */
			  count(dsl, "Package (0x04)") ==
				  1 + (m->s3 ? 1u : 0u) + 128 * prt,
		      "%s/DSDT.dsl is not what was meant:\n%s", dir, dsl);
	free(dsl);
	remove_dir(dir);
}

START_TEST(acpi_iasl_disassembles_every_table)
{
	char iasl[4096];
	struct machine_desc m;

	if (!find_tool("iasl", iasl, sizeof(iasl)))
		ck_abort_msg("iasl is not in PATH: install acpica-tools "
			     "(Debian package); this test needs it");
	m = machine(1);
	iasl_check(iasl, &m);
	/* With the RTC, no PM timer or reset register, SLP_TYP 5. */
	m = machine(2);
	m.rtc = true;
	m.pm_timer_port = 0;
	m.reset_port = 0;
	m.s5_slp_typ = 5;
	iasl_check(iasl, &m);
	/* No S3. */
	m.s3 = false;
	iasl_check(iasl, &m);
	/* x2APIC entries and their NMI entry. */
	m = machine(256);
	iasl_check(iasl, &m);
	/* The PCI root bridge, with INTx wired and without. */
	m = machine(2);
	m.pci_io_base = 0xc000;
	m.pci_io_size = 0x4000;
	m.pci_mem_base = 0xe0000000;
	m.pci_mem_size = 0x10000000;
	iasl_check(iasl, &m);
	m.pci_intx_gsi = 16;
	iasl_check(iasl, &m);
}
END_TEST

UNIT_SUITE("acpi", acpi_rsdp_points_at_both_roots, acpi_tables_do_not_overlap,
	   acpi_size_is_exact, acpi_rejects_what_it_cannot_describe,
	   acpi_machine_desc_has_pc_defaults, acpi_isa_irqs_follow_pc_wiring,
	   acpi_madt_lists_every_cpu_once, acpi_madt_describes_the_ioapic,
	   acpi_madt_overrides_irq0_and_the_sci, acpi_madt_routes_nmi_to_lint1,
	   acpi_fadt_points_at_dsdt_and_facs, acpi_fadt_names_the_pm_blocks,
	   acpi_facs_gives_the_waking_vectors,
	   acpi_dsdt_describes_com1_and_s5, acpi_dsdt_follows_the_machine,
	   acpi_aml_pkglength_is_shortest, acpi_iasl_disassembles_every_table)
