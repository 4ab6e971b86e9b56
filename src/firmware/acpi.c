// SPDX-License-Identifier: MIT
/* ACPI tables (RSDP, XSDT, RSDT, FADT, FACS, MADT, DSDT) for a Linux guest. */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "acpi.h"

/* ---- The machine ------------------------------------------------------ */

void machine_desc_init(struct machine_desc *m, unsigned int cpus,
		       unsigned int ioapic_pins, uint8_t ioapic_version)
{
	/* Field by field on zeroed bytes: a compound literal may leave
	 * its padding anything, and machine_desc_equal() compares it. */
	memset(m, 0, sizeof(*m));
	m->cpus = cpus;
	m->lapic_addr = MACHINE_LAPIC_ADDR;
	m->ioapic_addr = MACHINE_IOAPIC_ADDR;
	m->ioapic_id = MACHINE_IOAPIC_ID;
	m->ioapic_version = ioapic_version;
	m->ioapic_pins = ioapic_pins;
	m->pit = true;
	m->pic = true;
	m->x2apic = true;
	m->pm1a_evt_port = MACHINE_PM1A_EVT_PORT;
	m->pm1a_cnt_port = MACHINE_PM1A_CNT_PORT;
	m->pm_timer_port = MACHINE_PM_TIMER_PORT;
	m->sci_irq = MACHINE_SCI_IRQ;
	m->s5_slp_typ = MACHINE_S5_SLP_TYP;
	m->s3 = true;
	m->s3_slp_typ = MACHINE_S3_SLP_TYP;
	m->reset_port = MACHINE_RESET_PORT;
	m->reset_value = MACHINE_RESET_VALUE;
	m->com1_port = MACHINE_COM1_PORT;
	m->com1_irq = MACHINE_COM1_IRQ;
}

/*
 * Byte for byte: equal bytes are equal fields, whatever fields come. The
 * padding counts too, so an equal machine whose padding differs would
 * only be another shape (its own tables, the same bytes), never a wrong
 * one; machine_desc_init() zeroes it, and field stores leave it alone.
 */
bool machine_desc_equal(const struct machine_desc *a,
			const struct machine_desc *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

int machine_desc_check(const struct machine_desc *m)
{
	if (!m || m->cpus < 1 || m->cpus > MACHINE_MAX_CPUS)
		return -EINVAL;
	/* The 82093AA's ID register has 4 bits (27:24). */
	if (m->ioapic_id > 0xf || m->ioapic_pins < 1 ||
	    m->ioapic_pins > MACHINE_IOAPIC_MAX_PINS ||
	    (m->ioapic_version != 0x11 && m->ioapic_version != 0x20))
		return -EINVAL;
	/* IRQ0 and IRQ2 have their own wiring; SLP_TYP is 3 bits. */
	if (m->sci_irq >= MACHINE_ISA_IRQS || m->sci_irq == 0 ||
	    m->sci_irq == MACHINE_ISA_CASCADE_IRQ || m->s5_slp_typ > 7)
		return -EINVAL;
	if (m->s3 && (m->s3_slp_typ > 7 || m->s3_slp_typ == m->s5_slp_typ))
		return -EINVAL;
	/* Fixed hardware a non-HW-reduced platform must have (4.8.3). */
	if (!m->pm1a_evt_port || !m->pm1a_cnt_port)
		return -EINVAL;
	if (m->com1_port && m->com1_irq >= MACHINE_ISA_IRQS)
		return -EINVAL;
	/* The PCI windows fit their spaces; INTx reaches four real pins. */
	if (m->pci_io_size &&
	    ((uint32_t)m->pci_io_base + m->pci_io_size > 0x10000 ||
	     !m->pci_mem_size ||
	     (uint64_t)m->pci_mem_base + m->pci_mem_size > 1ull << 32))
		return -EINVAL;
	if (m->pci_intx_gsi && (m->pci_intx_gsi < MACHINE_ISA_IRQS ||
				m->pci_intx_gsi + 4u > m->ioapic_pins))
		return -EINVAL;
	/* APIC IDs from 255 up exist only in x2APIC mode (SDM 10.12.8). */
	if (!m->x2apic && m->cpus > MACHINE_XAPIC_MAX_CPUS)
		return -EINVAL;
	return 0;
}

unsigned int machine_pci_gsi(const struct machine_desc *m, unsigned int slot,
			     unsigned int pin)
{
	return m->pci_intx_gsi + ((slot + pin) & 3);
}

bool machine_isa_irq(const struct machine_desc *m, unsigned int irq,
		     unsigned int *ret_pin, uint16_t *ret_flags)
{
	unsigned int pin = irq;
	uint16_t flags = 0;

	if (irq >= MACHINE_ISA_IRQS || irq == MACHINE_ISA_CASCADE_IRQ)
		return false;
	if (irq == 0)
		pin = 2; /* the PIT's output, on PCs and here */
	/* The SCI is shareable, level, active high (ACPI 6.x 5.2.9). */
	if (irq == m->sci_irq)
		flags = MACHINE_INTI_POLARITY_HIGH | MACHINE_INTI_TRIGGER_LEVEL;
	if (pin >= m->ioapic_pins)
		return false;
	*ret_pin = pin;
	*ret_flags = flags;
	return true;
}

/* ---- Table layouts (ACPI 6.x chapter 5.2) ----------------------------- */

#define PACKED __attribute__((packed))

/* 5.2.6 System Description Table Header. */
struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} PACKED;
_Static_assert(sizeof(struct acpi_header) == 36, "ACPI header");

#define ACPI_CHECKSUM_OFFSET 9

/* 5.2.5.3 Root System Description Pointer, revision 2 (ACPI 2.0+). */
struct acpi_rsdp {
	char signature[8];
	uint8_t checksum; /* over the first 20 bytes */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* over all 36 bytes */
	uint8_t reserved[3];
} PACKED;
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");

#define RSDP_V1_LENGTH 20

/* 5.2.3.2 Generic Address Structure. */
struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size; /* 1 byte, 2 word, 3 dword, 4 qword */
	uint64_t address;
} PACKED;
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS");

#define ACPI_SPACE_SYSTEM_IO 1
#define ACPI_ACCESS_BYTE 1
#define ACPI_ACCESS_WORD 2
#define ACPI_ACCESS_DWORD 3

/* 5.2.9 Fixed ACPI Description Table, revision 6 (table 5-33). */
struct acpi_fadt {
	struct acpi_header header;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved1; /* INT_MODEL in ACPI 1.0 */
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved2;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} PACKED;
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT");

/* The FADT's layout is ACPI 6.0's; 6.3 is what Debian 12's iasl knows. */
#define FADT_REVISION 6
#define FADT_MINOR_VERSION 3

#define PM1_EVT_LEN 4
#define PM1_CNT_LEN 2
#define PM_TMR_LEN 4
#define P_LVL_NOT_SUPPORTED 0x0fff /* > 100 (C2), > 1000 (C3) us */
#define RTC_CENTURY_INDEX 0x32	   /* CMOS byte, as PC firmware */

/* Table 5-35 IA-PC boot architecture flags. */
#define IAPC_LEGACY_DEVICES (1u << 0)
#define IAPC_8042 (1u << 1) /* clear: no i8042, Linux does not probe */
#define IAPC_VGA_NOT_PRESENT (1u << 2)
#define IAPC_CMOS_RTC_NOT_PRESENT (1u << 5)

/* Table 5-34 fixed feature flags. */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_PWR_BUTTON (1u << 4) /* set: no fixed-feature power button */
#define FADT_SLP_BUTTON (1u << 5) /* set: no fixed-feature sleep button */
#define FADT_FIX_RTC (1u << 6)	  /* set: no RTC wake status in PM1 */
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_HW_REDUCED_ACPI (1u << 20) /* clear: we have fixed hardware */

/* 5.2.10 Firmware ACPI Control Structure: no header, no checksum. */
struct acpi_facs {
	char signature[4];
	uint32_t length;
	uint32_t hardware_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version;
	uint8_t reserved1[3];
	uint32_t ospm_flags;
	uint8_t reserved2[24];
} PACKED;
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS");

#define FACS_VERSION 2
#define FACS_ALIGN 64 /* 5.2.10: on a 64-byte boundary */

/* 5.2.12 Multiple APIC Description Table. */
struct acpi_madt {
	struct acpi_header header;
	uint32_t lapic_address;
	uint32_t flags;
} PACKED;
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT");

#define MADT_REVISION 5 /* ACPI 6.3 */
#define MADT_PCAT_COMPAT (1u << 0) /* dual 8259s present */

enum madt_type {
	MADT_LAPIC = 0,
	MADT_IOAPIC = 1,
	MADT_ISO = 2,
	MADT_LAPIC_NMI = 4,
	MADT_X2APIC = 9,
	MADT_X2APIC_NMI = 10,
};

#define MADT_ENABLED (1u << 0)
#define MADT_ALL_CPUS_UID8 0xff /* "all processors" in a LAPIC NMI entry */
#define MADT_ALL_CPUS_UID32 0xffffffffu
#define MADT_BUS_ISA 0
/* APIC IDs from 255 up need Local x2APIC entries (5.2.12.12). */
#define MADT_XAPIC_ID_LIMIT MACHINE_XAPIC_MAX_CPUS

/* 5.2.12.2 Processor Local APIC. */
struct madt_lapic {
	uint8_t type, length;
	uint8_t uid; /* ACPI Processor UID */
	uint8_t apic_id;
	uint32_t flags;
} PACKED;
_Static_assert(sizeof(struct madt_lapic) == 8, "MADT LAPIC");

/* 5.2.12.3 I/O APIC. */
struct madt_ioapic {
	uint8_t type, length;
	uint8_t id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} PACKED;
_Static_assert(sizeof(struct madt_ioapic) == 12, "MADT IOAPIC");

/* 5.2.12.5 Interrupt Source Override. */
struct madt_iso {
	uint8_t type, length;
	uint8_t bus;
	uint8_t source;
	uint32_t gsi;
	uint16_t flags;
} PACKED;
_Static_assert(sizeof(struct madt_iso) == 10, "MADT ISO");

/* 5.2.12.7 Local APIC NMI. */
struct madt_lapic_nmi {
	uint8_t type, length;
	uint8_t uid;
	uint16_t flags;
	uint8_t lint;
} PACKED;
_Static_assert(sizeof(struct madt_lapic_nmi) == 6, "MADT LAPIC NMI");

/* 5.2.12.12 Processor Local x2APIC. */
struct madt_x2apic {
	uint8_t type, length;
	uint16_t reserved;
	uint32_t x2apic_id;
	uint32_t flags;
	uint32_t uid;
} PACKED;
_Static_assert(sizeof(struct madt_x2apic) == 16, "MADT x2APIC");

/* 5.2.12.13 Local x2APIC NMI. */
struct madt_x2apic_nmi {
	uint8_t type, length;
	uint16_t flags;
	uint32_t uid;
	uint8_t lint;
	uint8_t reserved[3];
} PACKED;
_Static_assert(sizeof(struct madt_x2apic_nmi) == 12, "MADT x2APIC NMI");

/* NMI reaches LINT1 of every CPU, as firmware leaves LVT1. */
#define MADT_NMI_LINT 1

/* ---- AML (ACPI 6.x chapter 20) ---------------------------------------- */

/* 20.2.3 data objects, 20.2.5 term objects. */
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_QWORD_PREFIX 0x0e
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_EXT_OP_PREFIX 0x5b
#define AML_DEVICE_OP 0x82 /* after AML_EXT_OP_PREFIX */
#define AML_ONES_OP 0xff
/* 20.2.2 name objects. */
#define AML_ROOT_CHAR '\\'
#define AML_PARENT_PREFIX '^'
#define AML_DUAL_NAME_PREFIX 0x2e
#define AML_MULTI_NAME_PREFIX 0x2f
#define AML_NULL_NAME 0x00
#define AML_NAME_SEG_LEN 4

/* 6.4.2 small resource descriptors. */
#define RES_IRQ_NO_FLAGS 0x22 /* IRQ, length 2: mask only */
#define RES_IO 0x47	      /* I/O port, length 7 */
#define RES_IO_DECODE16 0x01
#define RES_END_TAG 0x79 /* End Tag, length 1 */

/* The DSDT's body: about 2 KiB with PCI. */
#define DSDT_MAX_SIZE 4096 /* the PCI routing table is most of it */
#define DSDT_REVISION 2 /* 64-bit integers */

/*
 * An AML byte stream. A write that does not fit sets overflow and is
 * dropped; the caller checks overflow once at the end.
 */
struct aml {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

static void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->overflow || n > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

unsigned int acpi_aml_pkglength(uint8_t out[4], uint32_t len)
{
	uint32_t total;
	unsigned int n;

	/*
	 * 20.2.4: the length counts the PkgLength bytes too. One byte holds
	 * up to 63 in bits 5:0; otherwise bits 7:6 of the lead byte give
	 * the number of bytes that follow (1-3), its bits 3:0 hold the low
	 * nibble and each following byte 8 more bits.
	 */
	if (len + 1 < 0x40) {
		out[0] = (uint8_t)(len + 1);
		return 1;
	}
	for (n = 2; n <= 4; n++) {
		total = len + n;
		if (total < (1u << (4 + 8 * (n - 1))))
			break;
	}
	if (n > 4)
		return 0;
	out[0] = (uint8_t)(((n - 1) << 6) | (total & 0xf));
	for (unsigned int i = 1; i < n; i++)
		out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	return n;
}

/*
 * Opens a package (the part after the opcode that a PkgLength covers):
 * reserves the longest PkgLength and returns where it starts.
 */
static size_t aml_pkg_begin(struct aml *a)
{
	static const uint8_t room[4];
	size_t start = a->len;

	aml_bytes(a, room, sizeof(room));
	return start;
}

/* Closes the package opened at start: the shortest PkgLength that fits. */
static void aml_pkg_end(struct aml *a, size_t start)
{
	uint8_t pkg[4];
	size_t body;
	unsigned int n;

	if (a->overflow)
		return;
	body = a->len - start - sizeof(pkg);
	n = body <= UINT32_MAX ? acpi_aml_pkglength(pkg, (uint32_t)body) : 0;
	if (!n) {
		a->overflow = true;
		return;
	}
	memmove(a->buf + start + n, a->buf + start + sizeof(pkg), body);
	memcpy(a->buf + start, pkg, n);
	a->len -= sizeof(pkg) - n;
}

/*
 * 20.2.2 NameString from "\\_SB.COM1"-style paths: an optional root or
 * parent prefix, then dot-separated segments of up to 4 characters, padded
 * with '_'. The names used here are constants of this file.
 */
static void aml_namestring(struct aml *a, const char *path)
{
	const char *seg;
	unsigned int nsegs = 0;

	while (*path == AML_ROOT_CHAR || *path == AML_PARENT_PREFIX)
		aml_byte(a, (uint8_t)*path++);
	for (seg = path; *seg; seg++)
		nsegs += seg == path || *seg == '.';
	if (nsegs == 0)
		aml_byte(a, AML_NULL_NAME);
	else if (nsegs == 2)
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	else if (nsegs > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, (uint8_t)nsegs);
	}
	while (*path) {
		char name[AML_NAME_SEG_LEN] = {'_', '_', '_', '_'};
		size_t n = strcspn(path, ".");

		if (n < 1 || n > AML_NAME_SEG_LEN) {
			a->overflow = true; /* a bug here, not a guest's */
			return;
		}
		memcpy(name, path, n);
		aml_bytes(a, name, sizeof(name));
		path += n + (path[n] == '.');
	}
}

/* 20.2.3 ComputationalData: the shortest encoding of an integer. */
static void aml_integer(struct aml *a, uint64_t v)
{
	uint8_t le[8];
	unsigned int n;

	if (v == 0) {
		aml_byte(a, AML_ZERO_OP);
		return;
	}
	if (v == 1) {
		aml_byte(a, AML_ONE_OP);
		return;
	}
	if (v <= UINT8_MAX) {
		aml_byte(a, AML_BYTE_PREFIX);
		n = 1;
	} else if (v <= UINT16_MAX) {
		aml_byte(a, AML_WORD_PREFIX);
		n = 2;
	} else if (v <= UINT32_MAX) {
		aml_byte(a, AML_DWORD_PREFIX);
		n = 4;
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		n = 8;
	}
	for (unsigned int i = 0; i < n; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	aml_bytes(a, le, n);
}

/*
 * A compressed EISA ID such as "PNP0501" (6.1.5 _HID): three letters in
 * 5 bits each, then four hex digits, stored as a big-endian 32-bit value;
 * as a DWordConst (always 4 bytes, so the disassembler shows EisaId()).
 */
static void aml_eisaid(struct aml *a, const char id[7])
{
	uint32_t v = 0;

	/* Letters land in bits 30:16 (bit 31 is 0), the digits in 15:0. */
	for (unsigned int i = 0; i < 3; i++)
		v = (v << 5) | ((uint32_t)(id[i] - '@') & 0x1f);
	for (unsigned int i = 3; i < 7; i++)
		v = (v << 4) | (uint32_t)(id[i] <= '9' ? id[i] - '0'
						       : id[i] - 'A' + 10);
	aml_byte(a, AML_DWORD_PREFIX);
	aml_byte(a, (uint8_t)(v >> 24));
	aml_byte(a, (uint8_t)(v >> 16));
	aml_byte(a, (uint8_t)(v >> 8));
	aml_byte(a, (uint8_t)v);
}

/* DefName := NameOp NameString DataRefObject; the object follows. */
static void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME_OP);
	aml_namestring(a, name);
}

/*
 * DefScope := ScopeOp PkgLength NameString TermList. The terms follow;
 * aml_pkg_end() with the returned offset closes it.
 */
static size_t aml_scope_begin(struct aml *a, const char *name)
{
	size_t pkg;

	aml_byte(a, AML_SCOPE_OP);
	pkg = aml_pkg_begin(a);
	aml_namestring(a, name);
	return pkg;
}

/* DefDevice := DeviceOp PkgLength NameString TermList. */
static size_t aml_device_begin(struct aml *a, const char *name)
{
	size_t pkg;

	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	pkg = aml_pkg_begin(a);
	aml_namestring(a, name);
	return pkg;
}

/*
 * Name (_CRS, ResourceTemplate () { IO (Decode16, port, port, 1, len)
 * IRQNoFlags () {irq} }): DefBuffer := BufferOp PkgLength BufferSize
 * ByteList, the bytes being small resource descriptors (6.4.2.1 IRQ,
 * 6.4.2.5 I/O port, 6.4.2.9 End Tag).
 */
static void aml_crs_io_irq(struct aml *a, uint16_t port, uint8_t len,
			   unsigned int irq)
{
	const uint8_t res[] = {
	    RES_IO,
	    RES_IO_DECODE16,
	    (uint8_t)port,
	    (uint8_t)(port >> 8), /* minimum base */
	    (uint8_t)port,
	    (uint8_t)(port >> 8), /* maximum base */
	    1,			  /* alignment: any */
	    len,
	    RES_IRQ_NO_FLAGS,
	    (uint8_t)(1u << irq),
	    (uint8_t)((1u << irq) >> 8),
	    RES_END_TAG,
	    0, /* checksum 0: "treat as valid" */
	};
	size_t pkg;

	aml_name(a, "_CRS");
	aml_byte(a, AML_BUFFER_OP);
	pkg = aml_pkg_begin(a);
	aml_integer(a, sizeof(res));
	aml_bytes(a, res, sizeof(res));
	aml_pkg_end(a, pkg);
}

/* A PNP device under \_SB with its I/O ports and IRQ. */
static void aml_isa_device(struct aml *a, const char *name, const char *hid,
			   int uid, uint16_t port, uint8_t len,
			   unsigned int irq)
{
	size_t dev = aml_device_begin(a, name);

	aml_name(a, "_HID");
	aml_eisaid(a, hid);
	if (uid >= 0) {
		aml_name(a, "_UID");
		aml_integer(a, (uint64_t)uid);
	}
	aml_crs_io_irq(a, port, len, irq);
	aml_pkg_end(a, dev);
}

/* 6.4.3.5 address space descriptors: produced ranges, fixed min and max. */
#define RES_WORD_ADDRESS 0x88
#define RES_DWORD_ADDRESS 0x87
#define RES_SPACE_MEMORY 0
#define RES_SPACE_IO 1
#define RES_SPACE_BUS 2
#define RES_FIXED_PRODUCER 0x0c /* _MAF, _MIF, positive decode, producer */
#define RES_IO_ENTIRE_RANGE 0x03
#define RES_MEM_READWRITE 0x01

static void put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* WordBusNumber or WordIO: [min, min + len) of a space the bridge decodes. */
static void aml_res_word(struct aml *a, uint8_t space, uint8_t type_flags,
			 uint16_t min, uint32_t len)
{
	uint8_t d[16] = { RES_WORD_ADDRESS, 13, 0, space, RES_FIXED_PRODUCER,
			  type_flags };

	put_le(d + 8, min, 2);
	put_le(d + 10, min + len - 1, 2);
	put_le(d + 14, len, 2);
	aml_bytes(a, d, sizeof(d));
}

static void aml_res_dword_memory(struct aml *a, uint32_t min, uint32_t len)
{
	uint8_t d[26] = { RES_DWORD_ADDRESS, 23, 0, RES_SPACE_MEMORY,
			  RES_FIXED_PRODUCER, RES_MEM_READWRITE };

	put_le(d + 10, min, 4);
	put_le(d + 14, (uint64_t)min + len - 1, 4);
	put_le(d + 22, len, 4);
	aml_bytes(a, d, sizeof(d));
}

/*
 * The PCI root bridge (6.1.5 _HID PNP0A03): bus 0, the configuration
 * ports, the two windows in _CRS, and a _PRT (6.2.13) that routes every
 * slot's INTA-INTD to its IOAPIC pin by GSI, the form Linux reads in APIC
 * mode. Package (4) { 0xSSSSFFFF, pin, Zero, GSI } per slot and pin.
 */
static void aml_pci_root(struct aml *a, const struct machine_desc *m)
{
	static const uint8_t cfg_ports[] = { RES_IO, RES_IO_DECODE16, 0xf8,
					     0x0c, 0xf8, 0x0c, 1, 8 };
	static const uint8_t end[] = { RES_END_TAG, 0 };
	size_t dev = aml_device_begin(a, "PCI0"), buf, prt, entry;

	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A03");
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_name(a, "_CRS");
	aml_byte(a, AML_BUFFER_OP);
	buf = aml_pkg_begin(a);
	aml_integer(a, 16 + sizeof(cfg_ports) + 16 + 26 + sizeof(end));
	aml_res_word(a, RES_SPACE_BUS, 0, 0, 1);
	aml_bytes(a, cfg_ports, sizeof(cfg_ports));
	aml_res_word(a, RES_SPACE_IO, RES_IO_ENTIRE_RANGE, m->pci_io_base,
		     m->pci_io_size);
	aml_res_dword_memory(a, m->pci_mem_base, m->pci_mem_size);
	aml_bytes(a, end, sizeof(end));
	aml_pkg_end(a, buf);
	if (m->pci_intx_gsi) {
		aml_name(a, "_PRT");
		aml_byte(a, AML_PACKAGE_OP);
		prt = aml_pkg_begin(a);
		aml_byte(a, MACHINE_PCI_SLOTS * 4); /* NumElements */
		for (unsigned int slot = 0; slot < MACHINE_PCI_SLOTS; slot++)
			for (unsigned int pin = 0; pin < 4; pin++) {
				aml_byte(a, AML_PACKAGE_OP);
				entry = aml_pkg_begin(a);
				aml_byte(a, 4);
				aml_integer(a, (uint64_t)slot << 16 | 0xffff);
				aml_integer(a, pin);
				aml_integer(a, 0);
				aml_integer(a, machine_pci_gsi(m, slot, pin));
				aml_pkg_end(a, entry);
			}
		aml_pkg_end(a, prt);
	}
	aml_pkg_end(a, dev);
}

/*
 * The DSDT's definition block body (after the header):
 *
 *	Scope (\_SB) {
 *		Device (COM1) { _HID PNP0501, _UID 1, _CRS: 8 ports, IRQ }
 *		Device (RTC) { _HID PNP0B00, _CRS: 0x70-0x71, IRQ 8 }
 *	}
 *	Name (\_S3, Package (4) { SLP_TYPa, SLP_TYPb, 0, 0 })
 *	Name (\_S5, Package (4) { SLP_TYPa, SLP_TYPb, 0, 0 })
 *
 * _S3 and _S5 (7.4.2.4, 7.4.2.6) give the SLP_TYP that OSPM writes to
 * PM1a_CNT with SLP_EN to suspend to RAM and to power off. Returns the
 * length, or 0 if it did not fit.
 */
static void aml_sleep_package(struct aml *a, const char *name,
			      uint8_t slp_typ)
{
	size_t pkg;

	aml_name(a, name);
	aml_byte(a, AML_PACKAGE_OP);
	pkg = aml_pkg_begin(a);
	aml_byte(a, 4); /* NumElements */
	aml_integer(a, slp_typ);
	aml_integer(a, slp_typ);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_pkg_end(a, pkg);
}

static size_t dsdt_body(const struct machine_desc *m, uint8_t *buf, size_t cap)
{
	struct aml a = {.buf = buf, .cap = cap};
	size_t scope;

	scope = aml_scope_begin(&a, "\\_SB");
	if (m->com1_port)
		aml_isa_device(&a, "COM1", "PNP0501", 1, m->com1_port, 8,
			       m->com1_irq);
	if (m->rtc)
		aml_isa_device(&a, "RTC", "PNP0B00", -1, MACHINE_RTC_PORT, 2,
			       MACHINE_RTC_IRQ);
	if (m->pci_io_size)
		aml_pci_root(&a, m);
	aml_pkg_end(&a, scope);

	if (m->s3)
		aml_sleep_package(&a, "\\_S3", m->s3_slp_typ);
	aml_sleep_package(&a, "\\_S5", m->s5_slp_typ);
	return a.overflow ? 0 : a.len;
}

/* ---- Layout ----------------------------------------------------------- */

/* Where each table sits in the buffer, and how long it is. */
struct acpi_layout {
	size_t rsdp, facs, dsdt, fadt, madt, rsdt, xsdt, end;
	size_t dsdt_len, madt_len, rsdt_len, xsdt_len;
	unsigned int nr_lapic, nr_x2apic, nr_iso;
};

/* The tables the RSDT and XSDT list (the FADT leads to the FACS, DSDT). */
#define ACPI_NR_ROOT_ENTRIES 2

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

static bool is_override(const struct machine_desc *m, unsigned int irq,
			unsigned int *pin, uint16_t *flags)
{
	return machine_isa_irq(m, irq, pin, flags) && (*pin != irq || *flags);
}

/*
 * Offsets from a 64-byte aligned start: RSDP, FACS (64-byte aligned), then
 * the tables on 16-byte boundaries, children before the tables that point
 * at them.
 */
static void acpi_layout(const struct machine_desc *m, size_t dsdt_body_len,
			struct acpi_layout *l)
{
	unsigned int pin;
	uint16_t flags;

	*l = (struct acpi_layout){0};
	l->nr_lapic = m->cpus < MADT_XAPIC_ID_LIMIT ? m->cpus
						    : MADT_XAPIC_ID_LIMIT;
	l->nr_x2apic = m->cpus - l->nr_lapic;
	for (unsigned int irq = 0; irq < MACHINE_ISA_IRQS; irq++)
		l->nr_iso += is_override(m, irq, &pin, &flags);

	l->dsdt_len = sizeof(struct acpi_header) + dsdt_body_len;
	l->madt_len = sizeof(struct acpi_madt) +
		      l->nr_lapic * sizeof(struct madt_lapic) +
		      l->nr_x2apic * sizeof(struct madt_x2apic) +
		      sizeof(struct madt_ioapic) +
		      l->nr_iso * sizeof(struct madt_iso) +
		      sizeof(struct madt_lapic_nmi) +
		      (l->nr_x2apic ? sizeof(struct madt_x2apic_nmi) : 0);
	l->rsdt_len = sizeof(struct acpi_header) + 4 * ACPI_NR_ROOT_ENTRIES;
	l->xsdt_len = sizeof(struct acpi_header) + 8 * ACPI_NR_ROOT_ENTRIES;

	l->rsdp = 0;
	l->facs = acpi_facs_offset();
	l->dsdt = l->facs + sizeof(struct acpi_facs);
	l->fadt = align_up(l->dsdt + l->dsdt_len, 16);
	l->madt = align_up(l->fadt + sizeof(struct acpi_fadt), 16);
	l->rsdt = align_up(l->madt + l->madt_len, 16);
	l->xsdt = align_up(l->rsdt + l->rsdt_len, 16);
	l->end = l->xsdt + l->xsdt_len;
}

size_t acpi_size(const struct machine_desc *m)
{
	uint8_t body[DSDT_MAX_SIZE];
	struct acpi_layout l;
	size_t len;

	if (machine_desc_check(m))
		return 0;
	len = dsdt_body(m, body, sizeof(body));
	if (!len)
		return 0;
	acpi_layout(m, len, &l);
	return l.end;
}

/* ---- Writing ---------------------------------------------------------- */

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *p++);
	return (uint8_t)-sum;
}

static void header_init(struct acpi_header *h, const char sig[4], size_t len,
			uint8_t revision)
{
	memcpy(h->signature, sig, sizeof(h->signature));
	h->length = htole32((uint32_t)len);
	h->revision = revision;
	h->checksum = 0; /* table_finish() sets it */
	memcpy(h->oem_id, ACPI_OEM_ID, sizeof(h->oem_id));
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, sizeof(h->oem_table_id));
	h->oem_revision = htole32(ACPI_OEM_REVISION);
	memcpy(h->creator_id, ACPI_CREATOR_ID, sizeof(h->creator_id));
	h->creator_revision = htole32(ACPI_CREATOR_REVISION);
}

/* 5.2.6: all bytes of the table, checksum included, sum to 0. */
static void table_finish(uint8_t *table, size_t len)
{
	table[ACPI_CHECKSUM_OFFSET] = 0;
	table[ACPI_CHECKSUM_OFFSET] = checksum(table, len);
}

static struct acpi_gas gas_io(uint16_t port, unsigned int bytes, uint8_t access)
{
	return (struct acpi_gas){
	    .space_id = ACPI_SPACE_SYSTEM_IO,
	    .bit_width = (uint8_t)(8 * bytes),
	    .access_size = access,
	    .address = htole64(port),
	};
}

size_t acpi_facs_offset(void)
{
	return align_up(sizeof(struct acpi_rsdp), FACS_ALIGN);
}

void acpi_facs_waking(const void *facs, uint32_t *ret_vector,
		      uint64_t *ret_x_vector)
{
	struct acpi_facs f;

	memcpy(&f, facs, sizeof(f));
	*ret_vector = le32toh(f.firmware_waking_vector);
	*ret_x_vector = f.version >= 1 ? le64toh(f.x_firmware_waking_vector)
				       : 0;
}

static void write_facs(uint8_t *p)
{
	struct acpi_facs f = {
	    .signature = {'F', 'A', 'C', 'S'},
	    .length = htole32(sizeof(f)),
	    .version = FACS_VERSION,
	};

	memcpy(p, &f, sizeof(f));
}

static void write_dsdt(uint8_t *p, const uint8_t *body, size_t len)
{
	struct acpi_header h;

	header_init(&h, "DSDT", sizeof(h) + len, DSDT_REVISION);
	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), body, len);
	table_finish(p, sizeof(h) + len);
}

/*
 * No SMI_CMD: the platform is always in ACPI mode (4.8.2.1.1), so the PM1
 * control block must read with SCI_EN set. No GPE blocks, no C2/C3.
 */
static void write_fadt(const struct machine_desc *m, uint8_t *p, uint64_t facs,
		       uint64_t dsdt)
{
	struct acpi_fadt f = {
	    .firmware_ctrl = htole32((uint32_t)facs),
	    .dsdt = htole32((uint32_t)dsdt),
	    .sci_int = htole16(m->sci_irq),
	    .pm1a_evt_blk = htole32(m->pm1a_evt_port),
	    .pm1a_cnt_blk = htole32(m->pm1a_cnt_port),
	    .pm_tmr_blk = htole32(m->pm_timer_port),
	    .pm1_evt_len = PM1_EVT_LEN,
	    .pm1_cnt_len = PM1_CNT_LEN,
	    .pm_tmr_len = m->pm_timer_port ? PM_TMR_LEN : 0,
	    .p_lvl2_lat = htole16(P_LVL_NOT_SUPPORTED),
	    .p_lvl3_lat = htole16(P_LVL_NOT_SUPPORTED),
	    .century = m->rtc ? RTC_CENTURY_INDEX : 0,
	    .iapc_boot_arch = htole16(
		IAPC_LEGACY_DEVICES | IAPC_VGA_NOT_PRESENT |
		(m->rtc ? 0 : IAPC_CMOS_RTC_NOT_PRESENT)),
	    /* The PM1 block takes the RTC's alarm as RTC_STS (a wake event). */
	    .flags = htole32(FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON |
			     FADT_SLP_BUTTON | (m->rtc ? 0 : FADT_FIX_RTC) |
			     (m->reset_port ? FADT_RESET_REG_SUP : 0)),
	    .minor_version = FADT_MINOR_VERSION,
	    /* 5.2.9: X_FIRMWARE_CTRL must be 0 when FIRMWARE_CTRL is set. */
	    .x_firmware_ctrl = 0,
	    .x_dsdt = htole64(dsdt),
	    .x_pm1a_evt_blk =
		gas_io(m->pm1a_evt_port, PM1_EVT_LEN, ACPI_ACCESS_WORD),
	    .x_pm1a_cnt_blk =
		gas_io(m->pm1a_cnt_port, PM1_CNT_LEN, ACPI_ACCESS_WORD),
	};

	header_init(&f.header, "FACP", sizeof(f), FADT_REVISION);
	if (m->pm_timer_port)
		f.x_pm_tmr_blk =
		    gas_io(m->pm_timer_port, PM_TMR_LEN, ACPI_ACCESS_DWORD);
	if (m->reset_port) {
		f.reset_reg = gas_io(m->reset_port, 1, ACPI_ACCESS_BYTE);
		f.reset_value = m->reset_value;
	}
	memcpy(p, &f, sizeof(f));
	table_finish(p, sizeof(f));
}

/*
 * 5.2.12: the CPUs in APIC ID order, the BSP first (5.2.12.14 asks for
 * it), the IOAPIC with GSI base 0, the ISA overrides (IRQ0 -> GSI 2, the
 * SCI level/high), NMI on LINT1.
 */
static void write_madt(const struct machine_desc *m,
		       const struct acpi_layout *l, uint8_t *p)
{
	struct acpi_madt h = {
	    .lapic_address = htole32(m->lapic_addr),
	    .flags = htole32(m->pic ? MADT_PCAT_COMPAT : 0),
	};
	struct madt_ioapic io = {
	    .type = MADT_IOAPIC,
	    .length = sizeof(io),
	    .id = m->ioapic_id,
	    .address = htole32(m->ioapic_addr),
	    .gsi_base = 0,
	};
	struct madt_lapic_nmi nmi = {
	    .type = MADT_LAPIC_NMI,
	    .length = sizeof(nmi),
	    .uid = MADT_ALL_CPUS_UID8,
	    .flags = 0, /* conforms to the bus */
	    .lint = MADT_NMI_LINT,
	};
	size_t off = sizeof(h);
	unsigned int cpu, irq, pin;
	uint16_t flags;

	header_init(&h.header, "APIC", l->madt_len, MADT_REVISION);
	memcpy(p, &h, sizeof(h));
	for (cpu = 0; cpu < l->nr_lapic; cpu++) {
		struct madt_lapic e = {
		    .type = MADT_LAPIC,
		    .length = sizeof(e),
		    .uid = (uint8_t)cpu,
		    .apic_id = (uint8_t)cpu,
		    .flags = htole32(MADT_ENABLED),
		};

		memcpy(p + off, &e, sizeof(e));
		off += sizeof(e);
	}
	for (; cpu < m->cpus; cpu++) {
		struct madt_x2apic e = {
		    .type = MADT_X2APIC,
		    .length = sizeof(e),
		    .x2apic_id = htole32(cpu),
		    .flags = htole32(MADT_ENABLED),
		    .uid = htole32(cpu),
		};

		memcpy(p + off, &e, sizeof(e));
		off += sizeof(e);
	}
	memcpy(p + off, &io, sizeof(io));
	off += sizeof(io);
	for (irq = 0; irq < MACHINE_ISA_IRQS; irq++) {
		struct madt_iso e = {
		    .type = MADT_ISO,
		    .length = sizeof(e),
		    .bus = MADT_BUS_ISA,
		    .source = (uint8_t)irq,
		};

		if (!is_override(m, irq, &pin, &flags))
			continue;
		e.gsi = htole32(pin);
		e.flags = htole16(flags);
		memcpy(p + off, &e, sizeof(e));
		off += sizeof(e);
	}
	memcpy(p + off, &nmi, sizeof(nmi));
	off += sizeof(nmi);
	if (l->nr_x2apic) {
		/* The x2APIC CPUs' LINT1 NMI (5.2.12.13), as QEMU adds. */
		struct madt_x2apic_nmi e = {
		    .type = MADT_X2APIC_NMI,
		    .length = sizeof(e),
		    .uid = htole32(MADT_ALL_CPUS_UID32),
		    .lint = MADT_NMI_LINT,
		};

		memcpy(p + off, &e, sizeof(e));
		off += sizeof(e);
	}
	table_finish(p, off);
}

/* 5.2.7 RSDT (32-bit entries) and 5.2.8 XSDT (64-bit entries). */
static void write_root(uint8_t *p, const char sig[4], size_t len,
		       unsigned int width, const uint64_t *entries)
{
	struct acpi_header h;

	header_init(&h, sig, len, 1);
	memcpy(p, &h, sizeof(h));
	for (unsigned int i = 0; i < ACPI_NR_ROOT_ENTRIES; i++) {
		uint64_t le64 = htole64(entries[i]);
		uint32_t le32 = htole32((uint32_t)entries[i]);

		memcpy(p + sizeof(h) + i * width, width == 8 ? (void *)&le64
							     : (void *)&le32,
		       width);
	}
	table_finish(p, len);
}

/* 5.2.5.3: revision 2 has both checksums. */
static void write_rsdp(uint8_t *p, uint64_t rsdt, uint64_t xsdt)
{
	struct acpi_rsdp r = {
	    .signature = {'R', 'S', 'D', ' ', 'P', 'T', 'R', ' '},
	    .revision = 2,
	    .rsdt_address = htole32((uint32_t)rsdt),
	    .length = htole32(sizeof(r)),
	    .xsdt_address = htole64(xsdt),
	};

	memcpy(r.oem_id, ACPI_OEM_ID, sizeof(r.oem_id));
	r.checksum = checksum((const uint8_t *)&r, RSDP_V1_LENGTH);
	r.extended_checksum = checksum((const uint8_t *)&r, sizeof(r));
	memcpy(p, &r, sizeof(r));
}

int acpi_build(const struct machine_desc *m, void *buf, size_t size,
	       uint64_t gpa, uint64_t *ret_rsdp)
{
	uint8_t body[DSDT_MAX_SIZE];
	struct acpi_layout l;
	uint8_t *p = buf;
	uint64_t entries[ACPI_NR_ROOT_ENTRIES];
	size_t body_len;

	if (machine_desc_check(m) || !buf || !ret_rsdp)
		return -EINVAL;
	/* The FACS's 64-byte alignment is kept by starting aligned. */
	if (gpa % FACS_ALIGN)
		return -EINVAL;
	body_len = dsdt_body(m, body, sizeof(body));
	if (!body_len)
		return -EINVAL;
	acpi_layout(m, body_len, &l);
	if (gpa > (1ull << 32) || l.end > (1ull << 32) - gpa)
		return -EINVAL;
	if (size < l.end)
		return -ENOSPC;

	memset(p, 0, l.end);
	write_facs(p + l.facs);
	write_dsdt(p + l.dsdt, body, body_len);
	write_fadt(m, p + l.fadt, gpa + l.facs, gpa + l.dsdt);
	write_madt(m, &l, p + l.madt);
	/* The FADT first, as firmware lists it. */
	entries[0] = gpa + l.fadt;
	entries[1] = gpa + l.madt;
	write_root(p + l.rsdt, "RSDT", l.rsdt_len, 4, entries);
	write_root(p + l.xsdt, "XSDT", l.xsdt_len, 8, entries);
	write_rsdp(p + l.rsdp, gpa + l.rsdt, gpa + l.xsdt);
	*ret_rsdp = gpa + l.rsdp;
	return 0;
}
