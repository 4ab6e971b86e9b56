// SPDX-License-Identifier: MIT
/*
 * The three descriptions of the machine a guest may read - the FDT, ACPI
 * (MADT) and the MP table - must agree with each other and with the chips
 * actually there. Read from guest RAM through the public API, parsed here
 * by spec offsets (ACPI 6.x 5.2.12, MP spec 1.4 4.x), not by the
 * generators' own structs.
 */
#include <errno.h>
#include <stdbool.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "splitvm.h"
#include "unit.h"

/* What one description says about the machine. */
struct seen {
	unsigned int cpus;
	unsigned int ioapic_id, ioapic_pins, ioapic_version;
	uint32_t ioapic_addr;
	int isa_gsi[16]; /* -1: not connected */
	/* ACPI fixed hardware and the RTC (FADT + DSDT, or FDT nodes). */
	uint32_t pm_evt, pm_cnt, pm_tmr;
	unsigned int pm_evt_len, pm_cnt_len, pm_tmr_len;
	int sci;      /* -1: not said */
	int s5;	      /* SLP_TYP of _S5; -1: none */
	int rtc_port; /* -1: no RTC */
	int rtc_irq;
	/* PCI INTx: the GSI of slot s, pin p (0 = INTA); -1: not routed. */
	int pci_gsi[32][4];
	int pci_routes; /* how many were given */
};

static void seen_init(struct seen *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 16; i++)
		s->isa_gsi[i] = -1;
	s->sci = s->s5 = s->rtc_port = s->rtc_irq = -1;
	memset(s->pci_gsi, 0xff, sizeof(s->pci_gsi));
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static void read_guest(struct splitvm *vm, uint64_t gpa, void *buf, size_t len)
{
	ck_assert_int_eq(splitvm_mem_read(vm, gpa, buf, len), 0);
}

static const uint8_t *find_bytes(const uint8_t *p, size_t len, const void *what,
				 size_t n)
{
	for (size_t i = 0; i + n <= len; i++)
		if (!memcmp(p + i, what, n))
			return p + i;
	return NULL;
}

/*
 * The DSDT: the RTC device (EISA ID PNP0B00, then its _CRS: an I/O port
 * descriptor 0x47 and an IRQ descriptor 0x22, ACPI 6.x 6.4.2) and _S5's
 * first element (20.2.3: ZeroOp, OneOp or BytePrefix n).
 */
static void parse_dsdt(const uint8_t *d, uint32_t len, struct seen *s)
{
	static const uint8_t rtc_hid[] = { 0x0c, 0x41, 0xd0, 0x0b, 0x00 };
	const uint8_t *p = find_bytes(d, len, rtc_hid, sizeof(rtc_hid));
	const uint8_t *end = d + len;

	if (p) {
		const uint8_t *io =
			find_bytes(p, (size_t)(end - p), "\x47\x01", 2);

		ck_assert_ptr_nonnull(io);
		ck_assert(io + 11 <= end);
		ck_assert_uint_eq(io[7], 2); /* two ports */
		ck_assert_uint_eq(io[8], 0x22);
		s->rtc_port = io[2] | io[3] << 8;
		s->rtc_irq = __builtin_ctz(io[9] | io[10] << 8);
	}
	/*
	 * The _PRT (6.2.13): Package (4) { 0xSSSSFFFF, pin, Zero, GSI } per
	 * slot and pin, pin and GSI as the shortest integers.
	 */
	p = find_bytes(d, len, "_PRT", 4);
	for (const uint8_t *q = p; q && q + 12 <= end; q++) {
		unsigned int slot, pin, gsi;

		/* The address: a WordConst 0xffff for slot 0, else a
		 * DWordConst 0xSSSSffff (the shortest integers). */
		if (q[0] == 0x0b && q[1] == 0xff && q[2] == 0xff) {
			slot = 0;
			q += 3;
		} else if (q[0] == 0x0c && q[1] == 0xff && q[2] == 0xff &&
			   !q[4]) {
			slot = q[3];
			q += 5;
		} else {
			continue;
		}
		pin = *q == 0x0a ? q[1] : q[0];
		q += *q == 0x0a ? 2 : 1;
		ck_assert_uint_eq(*q++, 0x00); /* Source: Zero, a GSI */
		ck_assert_uint_eq(*q, 0x0a);
		gsi = q[1];
		ck_assert(slot < 32 && pin < 4);
		s->pci_gsi[slot][pin] = (int)gsi;
		s->pci_routes++;
	}
	p = find_bytes(d, len, "_S5_", 4);
	if (p) {
		ck_assert(p + 9 <= end);
		ck_assert_uint_eq(p[4], 0x12); /* PackageOp */
		p += 7; /* name, op, 1-byte PkgLength, NumElements */
		s->s5 = p[0] == 0x0a ? p[1] : p[0] <= 1 ? p[0] : -2;
	}
}

/* The FADT (ACPI 6.x 5.2.9, table 5-33): PM blocks, SCI, RTC, DSDT. */
static void parse_fadt(struct splitvm *vm, uint64_t addr, struct seen *s)
{
	uint8_t f[276], hdr[36], *dsdt;
	uint32_t len;

	read_guest(vm, addr, f, sizeof(f));
	ck_assert_uint_eq(le32(f + 4), sizeof(f));
	ck_assert_uint_eq(sum8(f, sizeof(f)), 0);
	ck_assert_uint_eq(le32(f + 48), 0); /* no SMI_CMD: ACPI mode on */
	s->sci = f[46] | f[47] << 8;
	s->pm_evt = le32(f + 56);
	s->pm_cnt = le32(f + 64);
	s->pm_tmr = le32(f + 76);
	s->pm_evt_len = f[88];
	s->pm_cnt_len = f[89];
	s->pm_tmr_len = f[91];
	/* CENTURY names the CMOS byte; IAPC bit 5 says "no CMOS RTC". */
	if (!(f[109] & 0x20))
		ck_assert_uint_eq(f[108], 0x32);
	read_guest(vm, le32(f + 40), hdr, sizeof(hdr));
	ck_assert_mem_eq(hdr, "DSDT", 4);
	len = le32(hdr + 4);
	dsdt = malloc(len);
	read_guest(vm, le32(f + 40), dsdt, len);
	ck_assert_uint_eq(sum8(dsdt, len), 0);
	parse_dsdt(dsdt + 36, len - 36, s);
	free(dsdt);
	if (s->rtc_port >= 0)
		ck_assert_uint_eq(f[109] & 0x20, 0);
}

/* MADT through RSDP -> XSDT: LAPICs, the IOAPIC, IRQ overrides. */
static void parse_acpi(struct splitvm *vm, struct seen *s)
{
	uint8_t rsdp[36], hdr[36], *xsdt, *madt;
	uint64_t xsdt_addr;
	uint32_t len;

	read_guest(vm, 0xe0000, rsdp, sizeof(rsdp));
	ck_assert_mem_eq(rsdp, "RSD PTR ", 8);
	ck_assert_uint_eq(sum8(rsdp, 20), 0);
	ck_assert_uint_eq(sum8(rsdp, 36), 0);
	xsdt_addr = le32(rsdp + 24) | (uint64_t)le32(rsdp + 28) << 32;
	read_guest(vm, xsdt_addr, hdr, sizeof(hdr));
	len = le32(hdr + 4);
	xsdt = malloc(len);
	read_guest(vm, xsdt_addr, xsdt, len);
	ck_assert_uint_eq(sum8(xsdt, len), 0);
	for (uint32_t off = 36; off + 8 <= len; off += 8) {
		uint64_t t = le32(xsdt + off) | (uint64_t)le32(xsdt + off + 4)
							<< 32;

		read_guest(vm, t, hdr, sizeof(hdr));
		if (!memcmp(hdr, "FACP", 4))
			parse_fadt(vm, t, s);
		if (memcmp(hdr, "APIC", 4))
			continue;
		uint32_t mlen = le32(hdr + 4);

		madt = malloc(mlen);
		read_guest(vm, t, madt, mlen);
		ck_assert_uint_eq(sum8(madt, mlen), 0);
		for (uint32_t e = 44; e + 2 <= mlen; e += madt[e + 1]) {
			const uint8_t *p = madt + e;

			ck_assert_uint_ge(p[1], 2);
			if (p[0] == 0 && (le32(p + 4) & 1)) /* LAPIC, on */
				s->cpus++;
			if (p[0] == 1) { /* IOAPIC */
				s->ioapic_id = p[2];
				s->ioapic_addr = le32(p + 4);
				ck_assert_uint_eq(le32(p + 8), 0);
			}
			if (p[0] == 2) /* interrupt source override */
				s->isa_gsi[p[3]] = (int)le32(p + 4);
		}
		free(madt);
	}
	free(xsdt);
	/* ISA IRQs without an override are identity-mapped (ACPI 5.2.12.5),
	 * except the cascade. */
	for (int irq = 0; irq < 16; irq++)
		if (s->isa_gsi[irq] < 0 && irq != 2 && irq != 0)
			s->isa_gsi[irq] = irq;
}

/* The MP table at 0xf0000: processors, the IOAPIC, ISA interrupts. */
static void parse_mptable(struct splitvm *vm, struct seen *s)
{
	uint8_t mpf[16], hdr[44], *t;
	uint32_t base;
	uint16_t len, count;
	size_t off = 44;
	int isa_bus = -1, pci_bus = -1;

	read_guest(vm, 0xf0000, mpf, sizeof(mpf));
	ck_assert_mem_eq(mpf, "_MP_", 4);
	ck_assert_uint_eq(sum8(mpf, 16), 0);
	base = le32(mpf + 4);
	read_guest(vm, base, hdr, sizeof(hdr));
	ck_assert_mem_eq(hdr, "PCMP", 4);
	len = (uint16_t)(hdr[4] | hdr[5] << 8);
	count = (uint16_t)(hdr[34] | hdr[35] << 8);
	t = malloc(len);
	read_guest(vm, base, t, len);
	ck_assert_uint_eq(sum8(t, len), 0);
	for (unsigned int i = 0; i < count && off < len; i++) {
		const uint8_t *p = t + off;

		switch (p[0]) {
		case 0: /* processor */
			s->cpus += p[3] & 1;
			off += 20;
			break;
		case 2: /* IOAPIC */
			s->ioapic_id = p[1];
			s->ioapic_version = p[2];
			s->ioapic_addr = le32(p + 4);
			off += 8;
			break;
		case 1: /* bus: its ID and type */
			if (!memcmp(p + 2, "ISA   ", 6))
				isa_bus = p[1];
			if (!memcmp(p + 2, "PCI   ", 6))
				pci_bus = p[1];
			off += 8;
			break;
		case 3: /* I/O interrupt: type INT from the ISA or PCI bus */
			if (p[1] == 0 && p[4] == isa_bus && p[5] < 16)
				s->isa_gsi[p[5]] = p[7];
			if (p[1] == 0 && p[4] == pci_bus) {
				/* D.3: slot in bits 6:2, pin in 1:0;
				 * level-triggered, active low. */
				ck_assert_uint_eq(p[2] | p[3] << 8, 0x0f);
				s->pci_gsi[p[5] >> 2 & 31][p[5] & 3] = p[7];
				s->pci_routes++;
			}
			off += 8;
			break;
		default:
			off += 8;
			break;
		}
	}
	free(t);
}

static uint32_t fdt_u32(const void *fdt, int off, const char *prop)
{
	const fdt32_t *p = fdt_getprop(fdt, off, prop, NULL);

	ck_assert_msg(p != NULL, "no property %s", prop);
	return fdt32_to_cpu(*p);
}

/* /isa/rtc@70 and /isa/acpi-pm@600: reg triples <1 port len>. */
static void parse_fdt_isa(const void *fdt, struct seen *s)
{
	const fdt32_t *reg;
	int off, len;

	off = fdt_path_offset(fdt, "/isa/rtc@70");
	if (off >= 0) {
		reg = fdt_getprop(fdt, off, "reg", &len);
		ck_assert_int_eq(len, 12);
		ck_assert_uint_eq(fdt32_to_cpu(reg[2]), 2);
		s->rtc_port = (int)fdt32_to_cpu(reg[1]);
		s->rtc_irq = (int)fdt_u32(fdt, off, "interrupts");
	}
	off = fdt_path_offset(fdt, "/isa/acpi-pm@600");
	if (off < 0)
		return;
	reg = fdt_getprop(fdt, off, "reg", &len);
	ck_assert_int_eq(len, 36);
	s->pm_evt = fdt32_to_cpu(reg[1]);
	s->pm_evt_len = fdt32_to_cpu(reg[2]);
	s->pm_cnt = fdt32_to_cpu(reg[4]);
	s->pm_cnt_len = fdt32_to_cpu(reg[5]);
	s->pm_tmr = fdt32_to_cpu(reg[7]);
	s->pm_tmr_len = fdt32_to_cpu(reg[8]);
	s->sci = (int)fdt_u32(fdt, off, "interrupts");
	s->s5 = (int)fdt_u32(fdt, off, "splitvm,s5-slp-typ");
}

/* The FDT the ELF64 entry gets in RDI. */
static void parse_fdt(struct splitvm *vm, uint64_t addr, struct seen *s)
{
	uint8_t head[8];
	void *fdt;
	int off, len;
	const fdt32_t *map;

	read_guest(vm, addr, head, sizeof(head));
	fdt = malloc(fdt_totalsize(head));
	read_guest(vm, addr, fdt, fdt_totalsize(head));
	ck_assert_int_eq(fdt_check_header(fdt), 0);
	fdt_for_each_subnode(off, fdt, fdt_path_offset(fdt, "/cpus")) s->cpus++;
	off = fdt_path_offset(fdt, "/interrupt-controller@fec00000");
	ck_assert_int_ge(off, 0);
	s->ioapic_addr = 0xfec00000;
	s->ioapic_id = fdt32_to_cpu(
		*(const fdt32_t *)fdt_getprop(fdt, off, "splitvm,id", NULL));
	s->ioapic_version = fdt32_to_cpu(*(const fdt32_t *)fdt_getprop(
		fdt, off, "splitvm,version", NULL));
	s->ioapic_pins = fdt32_to_cpu(
		*(const fdt32_t *)fdt_getprop(fdt, off, "splitvm,pins", NULL));
	map = fdt_getprop(fdt, off, "isa-irq-map", &len);
	ck_assert_ptr_nonnull(map);
	for (int i = 0; i + 2 < len / 4; i += 3)
		s->isa_gsi[fdt32_to_cpu(map[i])] =
			(int)fdt32_to_cpu(map[i + 1]);
	parse_fdt_isa(fdt, s);
	/* The PCI node: the first GSI of the slot swizzle. */
	off = fdt_path_offset(fdt, "/isa/pci@cf8");
	if (off >= 0 && fdt_getprop(fdt, off, "splitvm,intx-gsi-base", NULL)) {
		uint32_t base = fdt_u32(fdt, off, "splitvm,intx-gsi-base");

		for (int slot = 0; slot < 32; slot++)
			for (int pin = 0; pin < 4; pin++)
				s->pci_gsi[slot][pin] =
					(int)(base + ((slot + pin) & 3));
		s->pci_routes = 128;
	}
	free(fdt);
}

static void check_machine(enum splitvm_irqchip mode, unsigned int cpus,
			  unsigned int pins, unsigned int version)
{
	const char *dir = getenv("SPLITVM_GUESTS");
	char path[4096];
	struct splitvm_config *cfg;
	struct splitvm *vm;
	struct splitvm_regs regs;
	struct splitvm_ioapic_state io;
	struct seen acpi, mp, fdt;

	snprintf(path, sizeof(path), "%s/fdt64.elf64", dir ? dir : "guests");
	ck_assert_int_eq(splitvm_config_new(&cfg), 0);
	ck_assert_int_eq(splitvm_config_set_kernel(cfg, path), 0);
	ck_assert_int_eq(splitvm_config_set_cpus(cfg, cpus), 0);
	ck_assert_int_eq(splitvm_config_set_irqchip(cfg, mode), 0);
	ck_assert_int_eq(splitvm_config_set_ioapic(cfg, pins, version), 0);
	ck_assert_int_eq(splitvm_create(cfg, &vm), 0);
	ck_assert_int_eq(splitvm_get_regs(vm, 0, &regs), 0);
	ck_assert_int_eq(splitvm_get_ioapic_state(vm, &io), 0);
	seen_init(&acpi);
	seen_init(&mp);
	seen_init(&fdt);
	parse_acpi(vm, &acpi);
	parse_mptable(vm, &mp);
	parse_fdt(vm, regs.rdi, &fdt);

	/* Each against the chips actually there. */
	ck_assert_uint_eq(acpi.cpus, cpus);
	ck_assert_uint_eq(mp.cpus, cpus);
	ck_assert_uint_eq(fdt.cpus, cpus);
	ck_assert_uint_eq(fdt.ioapic_pins, io.pins);
	ck_assert_uint_eq(fdt.ioapic_version, io.version & 0xff);
	ck_assert_uint_eq(mp.ioapic_version, io.version & 0xff);
	ck_assert_uint_eq(fdt.ioapic_id, io.id >> 24);
	ck_assert_uint_eq(acpi.ioapic_id, io.id >> 24);
	ck_assert_uint_eq(mp.ioapic_id, io.id >> 24);
	ck_assert_uint_eq(acpi.ioapic_addr, 0xfec00000);
	ck_assert_uint_eq(mp.ioapic_addr, 0xfec00000);
	/* And against each other: where every ISA IRQ lands. */
	ck_assert_int_eq(acpi.isa_gsi[0], 2);
	for (int irq = 0; irq < 16; irq++) {
		ck_assert_msg(acpi.isa_gsi[irq] == mp.isa_gsi[irq] &&
				      mp.isa_gsi[irq] == fdt.isa_gsi[irq],
			      "ISA IRQ %d: ACPI %d, MP %d, FDT %d", irq,
			      acpi.isa_gsi[irq], mp.isa_gsi[irq],
			      fdt.isa_gsi[irq]);
	}
	/* PCI INTx: every slot and pin, the same GSI in all three, on the
	 * IOAPIC's pins 16-19 when it has them, nowhere otherwise. */
	ck_assert_int_eq(acpi.pci_routes, io.pins >= 20 ? 128 : 0);
	ck_assert_int_eq(mp.pci_routes, acpi.pci_routes);
	ck_assert_int_eq(fdt.pci_routes, acpi.pci_routes);
	for (int slot = 0; slot < 32; slot++)
		for (int pin = 0; pin < 4; pin++) {
			ck_assert_msg(acpi.pci_gsi[slot][pin] ==
						      mp.pci_gsi[slot][pin] &&
					      mp.pci_gsi[slot][pin] ==
						      fdt.pci_gsi[slot][pin],
				      "PCI %d INT%c: ACPI %d, MP %d, FDT %d",
				      slot, 'A' + pin, acpi.pci_gsi[slot][pin],
				      mp.pci_gsi[slot][pin],
				      fdt.pci_gsi[slot][pin]);
			ck_assert(acpi.pci_gsi[slot][pin] < 0 ||
				  (acpi.pci_gsi[slot][pin] >= 16 &&
				   acpi.pci_gsi[slot][pin] < 20));
		}
	/* The RTC and the PM blocks: there, and said alike by both. */
	ck_assert_int_eq(acpi.rtc_port, 0x70);
	ck_assert_int_eq(acpi.rtc_irq, 8);
	ck_assert_int_eq(fdt.rtc_port, acpi.rtc_port);
	ck_assert_int_eq(fdt.rtc_irq, acpi.rtc_irq);
	ck_assert_uint_eq(acpi.pm_evt, 0x600);
	ck_assert_uint_eq(acpi.pm_cnt, 0x604);
	ck_assert_uint_eq(acpi.pm_tmr, 0x608);
	ck_assert_uint_eq(acpi.pm_evt_len, 4);
	ck_assert_uint_eq(acpi.pm_cnt_len, 2);
	ck_assert_uint_eq(acpi.pm_tmr_len, 4);
	ck_assert_int_eq(acpi.sci, 9);
	ck_assert_int_ge(acpi.s5, 0);
	ck_assert_uint_eq(fdt.pm_evt, acpi.pm_evt);
	ck_assert_uint_eq(fdt.pm_cnt, acpi.pm_cnt);
	ck_assert_uint_eq(fdt.pm_tmr, acpi.pm_tmr);
	ck_assert_uint_eq(fdt.pm_evt_len, acpi.pm_evt_len);
	ck_assert_uint_eq(fdt.pm_cnt_len, acpi.pm_cnt_len);
	ck_assert_uint_eq(fdt.pm_tmr_len, acpi.pm_tmr_len);
	ck_assert_int_eq(fdt.sci, acpi.sci);
	ck_assert_int_eq(fdt.s5, acpi.s5);
	splitvm_destroy(vm);
	splitvm_config_free(cfg);
}

START_TEST(tables_agree_split_default)
{
	check_machine(SPLITVM_IRQCHIP_SPLIT, 1, 24, 0x20);
}
END_TEST

START_TEST(tables_agree_split_48_pins_v11_smp)
{
	check_machine(SPLITVM_IRQCHIP_SPLIT, 6, 48, 0x11);
}
END_TEST

START_TEST(tables_agree_kernel_irqchip)
{
	check_machine(SPLITVM_IRQCHIP_KERNEL, 3, 24, 0x20);
}
END_TEST

static void silent(void *userdata, enum splitvm_log_level level,
		   const char *message)
{
}

/* Whether splitvm_create() refuses a device of ours at [port, +len):
 * it does exactly when one of splitvm's own devices holds a port. */
static bool port_taken(uint16_t port, unsigned int len)
{
	const struct splitvm_device_ops ops = { NULL, NULL };
	const char *dir = getenv("SPLITVM_GUESTS");
	char path[4096];
	struct splitvm_config *cfg;
	struct splitvm *vm = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/fdt64.elf64", dir ? dir : "guests");
	ck_assert_int_eq(splitvm_config_new(&cfg), 0);
	ck_assert_int_eq(splitvm_config_set_kernel(cfg, path), 0);
	ck_assert_int_eq(splitvm_config_set_log_handler(cfg, silent, NULL,
							SPLITVM_LOG_ERROR),
			 0);
	ck_assert_int_eq(splitvm_config_add_device(cfg, SPLITVM_SPACE_PIO, port,
						   len, &ops, NULL),
			 0);
	r = splitvm_create(cfg, &vm);
	ck_assert(r == 0 || r == -EEXIST);
	splitvm_destroy(vm);
	splitvm_config_free(cfg);
	return r == -EEXIST;
}

/* Every port the FADT and DSDT name has a device behind it (and the gap
 * between the PM control block and the timer has none). */
START_TEST(tables_described_ports_are_claimed)
{
	static const uint16_t ports[] = { 0x70,	 0x71,	0x600, 0x601, 0x602,
					  0x603, 0x604, 0x605, 0x608, 0x60b };

	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		ck_assert_msg(port_taken(ports[i], 1), "port %#x is free",
			      ports[i]);
	ck_assert(!port_taken(0x606, 2));
	ck_assert(!port_taken(0x60c, 4));
}
END_TEST

UNIT_KVM_SUITE("tables",
	       tables_agree_split_default,
	       tables_agree_split_48_pins_v11_smp,
	       tables_agree_kernel_irqchip,
	       tables_described_ports_are_claimed)
