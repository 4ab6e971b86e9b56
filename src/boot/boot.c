// SPDX-License-Identifier: MIT
/* Picks a kernel's boot protocol, then writes the entry GDT and tables. */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"

#define PAGE_SIZE 0x1000ull

/* Page tables after the PML4: one PDPT, then four PDs of 2 MiB pages. */
#define BOOT_PDPT_ADDR (BOOT_PML4_ADDR + PAGE_SIZE)
#define BOOT_PD_ADDR (BOOT_PML4_ADDR + 2 * PAGE_SIZE)
#define BOOT_NR_PDS 4
#define BOOT_TABLES_SIZE ((2 + BOOT_NR_PDS) * PAGE_SIZE)

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_PS (1ull << 7) /* in a PD entry: a 2 MiB page */
#define PAGE_2M (1ull << 21)

/*
 * Flat descriptors (Intel SDM vol. 3, 3.4.5): base 0, limit 0xfffff in
 * 4 KiB units (G = 1), present, DPL 0, accessed already set so the CPU
 * never writes back to the table. 0x9b: code, execute/read; 0x93: data,
 * read/write. Flags 0xc: G + D (32-bit); 0xa: G + L (64-bit code).
 */
#define GDT_CODE32 0x00cf9b000000ffffull
#define GDT_DATA 0x00cf93000000ffffull
#define GDT_CODE64 0x00af9b000000ffffull

/*
 * No format fits in less: a multiboot header alone (magic, flags,
 * checksum) is 12 bytes, an ELF header 52 or 64.
 */
#define BOOT_MIN_IMAGE 12

/* For the "header too far in" hint only; multiboot.c owns the protocol. */
#define MULTIBOOT_MAGIC 0x1BADB002u
#define MULTIBOOT_SEARCH 8192
#define MULTIBOOT_HINT_LIMIT (1u << 20)

int boot_write_tables(const struct guest_mem *mem)
{
	uint64_t *gdt = guest_mem_ptr(mem, BOOT_GDT_ADDR, PAGE_SIZE);
	uint64_t *pml4 = guest_mem_ptr(mem, BOOT_PML4_ADDR, BOOT_TABLES_SIZE);
	uint64_t *pdpt, *pd;
	unsigned int i;

	if (!gdt || !pml4)
		return -EFBIG;
	memset(gdt, 0, PAGE_SIZE); /* entry 0 is the null descriptor */
	gdt[BOOT_SEL_CODE32 / 8] = GDT_CODE32;
	gdt[BOOT_SEL_DATA / 8] = GDT_DATA;
	gdt[BOOT_SEL_CODE64 / 8] = GDT_CODE64;

	/* Identity map of [0, 4 GiB): PML4[0] -> PDPT[0..3] -> 2 MiB pages. */
	memset(pml4, 0, BOOT_TABLES_SIZE);
	pdpt = pml4 + PAGE_SIZE / 8;
	pd = pml4 + 2 * PAGE_SIZE / 8;
	pml4[0] = BOOT_PDPT_ADDR | PTE_RW | PTE_P;
	for (i = 0; i < BOOT_NR_PDS; i++)
		pdpt[i] = (BOOT_PD_ADDR + i * PAGE_SIZE) | PTE_RW | PTE_P;
	for (i = 0; i < BOOT_NR_PDS * 512; i++)
		pd[i] = (i * PAGE_2M) | PTE_PS | PTE_RW | PTE_P;
	return 0;
}

static bool is_elf32(const uint8_t *img, size_t size)
{
	return elf_detect(img, size) && size > EI_CLASS &&
	       img[EI_CLASS] == ELFCLASS32;
}

/*
 * A multiboot magic past the first 8 KiB is ignored by every loader
 * (Multiboot 0.6.96 3.1.1): say so, it is an easy linker-script mistake.
 * Writes a hint into buf ("" when there is no such magic).
 */
static void far_magic_hint(const uint8_t *img, size_t size, char *buf,
			   size_t len)
{
	uint32_t word;
	size_t off;

	buf[0] = '\0';
	/* Only as far as a header could have slipped: a hint never reads a
	 * whole (perhaps huge, sparse) file. */
	if (size > MULTIBOOT_HINT_LIMIT)
		size = MULTIBOOT_HINT_LIMIT;
	for (off = MULTIBOOT_SEARCH - 8; off + 4 <= size; off += 4) {
		memcpy(&word, img + off, 4);
		if (word == MULTIBOOT_MAGIC) {
			snprintf(buf, len,
				 "; a multiboot magic sits at "
				 "offset 0x%zx, but the header must lie "
				 "within the first %d bytes",
				 off, MULTIBOOT_SEARCH);
			return;
		}
	}
}

/*
 * The protocols, in the order they are tried, which is QEMU's
 * (x86_load_linux(), hw/i386/x86.c): "HdrS" makes a Linux bzImage;
 * otherwise a multiboot header wins, then a PVH note; plain ELF64 is
 * splitvm's own protocol and comes last.
 *  - A multiboot header before a PVH note: QEMU's order, so that an image
 *    with both entries (Xen's own xen binary has both) is entered the
 *    same way under either monitor; the header's magic also claims the
 *    image in its first 8 KiB, before any ELF parsing.
 *  - A PVH note before plain ELF64: a Linux vmlinux is an ELF64 with
 *    the note, and its e_entry is a 64-bit entry that expects a
 *    boot_params in RSI, not splitvm's FDT in RDI; the note is the only
 *    entry into it that a loader without boot_params can use.
 */
static int load_by_protocol(const struct guest_mem *mem,
			    const struct boot_input *in, struct boot_plan *plan,
			    const struct logger *lg)
{
	const uint8_t *img = in->kernel;
	size_t size = in->kernel_size;
	char hint[160];

	/* 1. Linux bzImage: boot_params, e820, 64-bit entry. */
	if (bzimage_detect(img, size))
		return bzimage_load(mem, in, plan, lg);
	/* 2. Multiboot v1: a header in the first 8 KiB. */
	if (multiboot_detect(img, size))
		return multiboot_load(mem, in, plan, lg);
	/* 3. PVH: an ELF with a XEN_ELFNOTE_PHYS32_ENTRY note. */
	if (pvh_detect(img, size))
		return pvh_load(mem, in, plan, lg);
	/* 4. Plain ELF64: long mode at e_entry, RDI = the FDT. */
	if (elf_detect(img, size) && !is_elf32(img, size))
		return elf64_boot_load(mem, in, plan, lg);
	far_magic_hint(img, size, hint, sizeof(hint));
	if (is_elf32(img, size)) {
		log_error(lg,
			  "kernel: 32-bit ELF kernels need a multiboot "
			  "header (none in the first %d bytes%s) or a Xen "
			  "PVH entry note; plain ELF is booted only as "
			  "ELF64, in long mode",
			  MULTIBOOT_SEARCH, hint);
		return -ENOEXEC;
	}
	log_error(lg,
		  "kernel: not a recognised kernel image (no multiboot "
		  "header, not ELF%s)",
		  hint);
	return -ENOEXEC;
}

int boot_load(const struct guest_mem *mem, const struct boot_input *in,
	      struct boot_plan *plan, const struct logger *lg)
{
	int ret;

	if (!mem || !in || !plan)
		return -EINVAL;
	memset(plan, 0, sizeof(*plan));
	if (!in->kernel || in->kernel_size == 0) {
		log_error(lg, "kernel: the image is empty (0 bytes)");
		return -ENOEXEC;
	}
	if (in->kernel_size < BOOT_MIN_IMAGE) {
		log_error(lg,
			  "kernel: the image is only %zu bytes, too small "
			  "for any kernel format (a multiboot header alone "
			  "is %d)",
			  in->kernel_size, BOOT_MIN_IMAGE);
		return -ENOEXEC;
	}
	if (guest_mem_low_end(mem) < BOOT_INFO_END) {
		log_error(lg,
			  "guest RAM (%" PRIu64 " KiB) is too small: the "
			  "boot tables and information need %llu KiB",
			  guest_mem_low_end(mem) >> 10, BOOT_INFO_END >> 10);
		return -EFBIG;
	}
	ret = boot_check_reserved(in, lg);
	if (ret)
		return ret;
	ret = load_by_protocol(mem, in, plan, lg);
	if (ret)
		return ret;
	/* Both entry modes use the GDT; the page tables serve long mode. */
	return boot_write_tables(mem);
}
