/* SPDX-License-Identifier: MIT */
/* The machine a Linux guest is told about, and its ACPI tables. */
#ifndef SPLITVM_ACPI_H
#define SPLITVM_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The PC's fixed addresses and wiring (docs: "The machine a guest sees").
 * They are the defaults machine_desc_init() fills in.
 */
#define MACHINE_LAPIC_ADDR 0xfee00000u
#define MACHINE_LAPIC_VERSION 0x14 /* KVM's in-kernel LAPIC (LVR bits 7:0) */
#define MACHINE_IOAPIC_ADDR 0xfec00000u
/*
 * The IOAPIC's ID is 0: the model's ID register resets to 0 and holds only
 * 4 bits (82093AA 3.2.1), so "after the CPUs" would not fit past 15 CPUs,
 * and QEMU's tables use 0 as well. Linux needs the IOAPIC IDs unique among
 * IOAPICs only (xAPIC: a separate namespace from the local APIC IDs).
 */
#define MACHINE_IOAPIC_ID 0
#define MACHINE_IOAPIC_PINS 24
#define MACHINE_IOAPIC_MAX_PINS 120
#define MACHINE_MAX_CPUS 1024 /* KVM_CAP_MAX_VCPUS on the hosts we know */
/* xAPIC IDs are 8 bits and 0xff is the broadcast: 255 CPUs without x2APIC. */
#define MACHINE_XAPIC_MAX_CPUS 255
#define MACHINE_ISA_IRQS 16
#define MACHINE_ISA_CASCADE_IRQ 2 /* the slave 8259A: no IOAPIC pin */
#define MACHINE_PM1A_EVT_PORT 0x600 /* PM1 status + enable, 2 x 16 bits */
#define MACHINE_PM1A_CNT_PORT 0x604 /* PM1 control, 16 bits */
#define MACHINE_PM_TIMER_PORT 0x608 /* 24-bit, 3.579545 MHz */
#define MACHINE_SCI_IRQ 9
#define MACHINE_S5_SLP_TYP 0 /* SLP_TYP for soft-off, as QEMU's PIIX4 PM */
#define MACHINE_S3_SLP_TYP 1 /* SLP_TYP for suspend to RAM, as QEMU's */
#define MACHINE_RESET_PORT 0xcf9
#define MACHINE_RESET_VALUE 0x06
#define MACHINE_COM1_PORT 0x3f8
#define MACHINE_COM1_IRQ 4
#define MACHINE_RTC_PORT 0x70
#define MACHINE_RTC_IRQ 8

/*
 * Interrupt input flags as the MP spec (4.3.4, table 4-10) and the MADT's
 * Interrupt Source Override (ACPI 6.x 5.2.12.5, table 5-50) both encode
 * them: polarity in bits 1:0, trigger mode in bits 3:2; 0 means "conforms
 * to the bus" (ISA: active high, edge).
 */
#define MACHINE_INTI_POLARITY_HIGH 0x1
#define MACHINE_INTI_POLARITY_LOW 0x3
#define MACHINE_INTI_TRIGGER_EDGE 0x4
#define MACHINE_INTI_TRIGGER_LEVEL 0xc

/*
 * What the guest is told: one description from which the MADT, the FADT,
 * the DSDT and the MP table are all generated, so they cannot disagree.
 * Fill it with machine_desc_init() from the VM's config, then adjust.
 */
struct machine_desc {
	unsigned int cpus;	  /* APIC IDs 0..cpus-1; CPU 0 is the BSP */
	uint32_t lapic_addr;	  /* MACHINE_LAPIC_ADDR */
	uint32_t ioapic_addr;	  /* MACHINE_IOAPIC_ADDR */
	uint8_t ioapic_id;	  /* MACHINE_IOAPIC_ID; 0..15 */
	uint8_t ioapic_version;	  /* 0x11 or 0x20 (MP table only) */
	unsigned int ioapic_pins; /* 1..120; its GSI base is 0 */
	/*
	 * ISA IRQ0 reaches IOAPIC pin 2 whether or not a PIT is there:
	 * the override is always described, as PCs do.
	 */
	bool pit;
	bool pic;		/* the 8259As: MADT PCAT_COMPAT, the FDT */
	/*
	 * PCI bus 0 behind configuration mechanism #1 (pci_io_size 0: no
	 * PCI): the windows the host bridge forwards, and the first of the
	 * four IOAPIC pins that INTx of slot s, pin p reaches at
	 * pci_intx_gsi + ((s + p) & 3) (0: INTx not wired).
	 */
	uint16_t pci_io_base, pci_io_size;
	uint32_t pci_mem_base, pci_mem_size;
	uint8_t pci_intx_gsi;
	bool x2apic;		/* CPUID offers x2APIC: x2APIC entries allowed */
	bool rtc;		/* CMOS RTC at 0x70 IRQ 8 (FADT, DSDT) */
	uint16_t pm1a_evt_port; /* PM1a event block, 4 bytes */
	uint16_t pm1a_cnt_port; /* PM1a control block, 2 bytes */
	uint16_t pm_timer_port; /* ACPI PM timer, 4 bytes; 0 = none */
	uint8_t sci_irq;	/* ISA IRQ of the SCI: level, active high */
	uint8_t s5_slp_typ;	/* SLP_TYP the PM1a control takes for S5 */
	bool s3;		/* S3 (suspend to RAM) offered: _S3 */
	uint8_t s3_slp_typ;	/* SLP_TYP for S3; not s5_slp_typ */
	uint16_t reset_port;	/* FADT RESET_REG (I/O, a byte); 0 = none */
	uint8_t reset_value;
	uint16_t com1_port;	/* 16550A in the DSDT (8 ports); 0 = none */
	uint8_t com1_irq;
};

/*
 * Fills m with the PC defaults above for cpus CPUs and the IOAPIC's pins
 * and version (from the VM's config), PIT present, no RTC, S3 offered.
 */
void machine_desc_init(struct machine_desc *m, unsigned int cpus,
		       unsigned int ioapic_pins, uint8_t ioapic_version);

/*
 * Whether a and b describe the same machine, field for field: the tables
 * built from one are those of the other (image.c keeps them so).
 */
bool machine_desc_equal(const struct machine_desc *a,
			const struct machine_desc *b);

/*
 * Checks that m can be described: 1..MACHINE_MAX_CPUS CPUs, an IOAPIC ID
 * of 0..15, 1..120 pins, version 0x11 or 0x20, an SCI on an ISA IRQ other
 * than 0 and 2, PM1a ports set, SLP_TYP 0..7 (S3's other than S5's).
 * Returns 0 or -EINVAL.
 */
int machine_desc_check(const struct machine_desc *m);

#define MACHINE_PCI_SLOTS 32

/*
 * The IOAPIC pin that INTx pin (0 = INTA) of PCI slot reaches when
 * m->pci_intx_gsi is set: the PCI-to-PCI bridge swizzle of the slot, as
 * QEMU's pc machine routes its four PIRQ links. The DSDT's _PRT and the
 * MP table's PCI interrupt entries both use it.
 */
unsigned int machine_pci_gsi(const struct machine_desc *m, unsigned int slot,
			     unsigned int pin);

/*
 * Where ISA IRQ irq (0..15) reaches the IOAPIC: IRQ0 at pin 2 (the PIT's
 * override), the cascade IRQ2 nowhere, the SCI level-triggered and active
 * high, others at pin irq with the ISA bus's defaults. A pin past the
 * IOAPIC's last one is not connected. Both generators use this, so the
 * MADT's overrides and the MP table's interrupt entries agree.
 * Returns true and sets *ret_pin (GSI) and *ret_flags (MACHINE_INTI_*, 0 =
 * bus default) if the IRQ is connected, else false.
 */
bool machine_isa_irq(const struct machine_desc *m, unsigned int irq,
		     unsigned int *ret_pin, uint16_t *ret_flags);

/* Identification in every table header (ACPI 6.x 5.2.6). */
#define ACPI_OEM_ID "SPLTVM"	    /* 6 characters */
#define ACPI_OEM_TABLE_ID "SPLITVM " /* 8 characters */
#define ACPI_OEM_REVISION 1
#define ACPI_CREATOR_ID "SPLT" /* 4 characters */
#define ACPI_CREATOR_REVISION 1

/*
 * Bytes acpi_build() needs for m, or 0 if machine_desc_check() rejects m:
 * about 720 plus 8 per CPU, 16 per CPU from APIC ID 255 on (under 16 KiB
 * for MACHINE_MAX_CPUS).
 */
size_t acpi_size(const struct machine_desc *m);

/**
 * acpi_build() - Lays out the guest's ACPI tables in a buffer.
 * @m: the machine.
 * @buf: the bytes that will be guest memory at @gpa; at least acpi_size(m).
 * @size: bytes in @buf.
 * @gpa: guest-physical address of @buf[0]; 64-byte aligned (the FACS's
 *	 alignment, 5.2.10), and the tables must end below 4 GiB (the RSDT
 *	 and FIRMWARE_CTRL hold 32-bit pointers).
 * @ret_rsdp: set to the RSDP's guest-physical address (@gpa).
 *
 * Writes, from @buf[0]: the RSDP (revision 2), the FACS (64-byte aligned),
 * the DSDT, the FADT (revision 6), the MADT, the RSDT and the XSDT. Every
 * pointer is a guest-physical address computed from @gpa; the bytes of
 * @buf between and after the tables are zeroed up to acpi_size(m).
 *
 * Linux finds the RSDP by scanning 0xe0000-0xfffff on 16-byte boundaries
 * (place the buffer there) or through boot_params.acpi_rsdp_addr (boot
 * protocol 2.14+) or PVH's hvm_start_info.rsdp_paddr.
 *
 * Return: 0, -EINVAL (@m rejected by machine_desc_check(), @gpa unaligned
 * or the tables not below 4 GiB), -ENOSPC (@size too small).
 */
int acpi_build(const struct machine_desc *m, void *buf, size_t size,
	       uint64_t gpa, uint64_t *ret_rsdp);

/*
 * Where acpi_build() puts the FACS (5.2.10), in bytes from its @gpa,
 * whatever the machine: the VM reads the OS's waking vector there.
 */
size_t acpi_facs_offset(void);

/*
 * The waking vectors an OS left in a FACS (5.2.10, table 5-37): *ret_vector
 * (Firmware_Waking_Vector: real mode, CS = vector >> 4, IP = vector & 0xf)
 * and *ret_x_vector (X_Firmware_Waking_Vector, FACS version 1 and up:
 * 32-bit protected mode, flat segments, paging off; 0 when unset, which
 * leaves the real-mode vector in force). facs: its 64 bytes.
 */
void acpi_facs_waking(const void *facs, uint32_t *ret_vector,
		      uint64_t *ret_x_vector);

/*
 * Encodes an AML PkgLength (ACPI 6.x 20.2.4) for a package whose contents
 * after the PkgLength take len bytes, in the fewest bytes (1-4).
 * Returns the number of bytes written to out, or 0 if len is too big for
 * a PkgLength (2^28 bytes). Exposed for the unit tests.
 */
unsigned int acpi_aml_pkglength(uint8_t out[4], uint32_t len);

#endif /* SPLITVM_ACPI_H */
