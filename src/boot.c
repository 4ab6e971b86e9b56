// SPDX-License-Identifier: MIT
/* Picks a kernel's boot protocol and writes the entry-state GDT and tables. */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "bytes.h"

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

#define MiB 0x100000ull

/* For the "header too far in" hint only; multiboot.c owns the protocol. */
#define MULTIBOOT_MAGIC 0x1BADB002u
#define MULTIBOOT_SEARCH 8192

int boot_check_range(const struct guest_mem *mem, uint64_t gpa, uint64_t len,
		     const char *what, const struct logger *lg)
{
	uint64_t end, high = mem->size - mem->low_size;

	if (len == 0)
		return 0;
	if (len > UINT64_MAX - gpa) {
		log_error(lg,
			  "%s: 0x%" PRIx64 " + size 0x%" PRIx64
			  " wraps around the address space",
			  what, gpa, len);
		return -ENOEXEC;
	}
	end = gpa + len;
	if (gpa < BOOT_INFO_END && end > BOOT_GDT_ADDR) {
		log_error(lg,
			  "%s: [0x%" PRIx64 ", 0x%" PRIx64 ") overlaps "
			  "[0x%llx, 0x%llx), where splitvm writes its GDT, "
			  "page tables and boot information",
			  what, gpa, end, BOOT_GDT_ADDR, BOOT_INFO_END);
		return -ENOEXEC;
	}
	if (guest_mem_ptr(mem, gpa, len))
		return 0;
	if (gpa < GUEST_HIGH_RAM_START && end > GUEST_MMIO_HOLE_START) {
		log_error(lg,
			  "%s: [0x%" PRIx64 ", 0x%" PRIx64 ") falls in "
			  "the MMIO hole [0x%llx, 0x%llx), which is not RAM",
			  what, gpa, end, GUEST_MMIO_HOLE_START,
			  GUEST_HIGH_RAM_START);
		return -ENOEXEC;
	}
	if (high)
		log_error(lg,
			  "%s: [0x%" PRIx64 ", 0x%" PRIx64 ") is not in "
			  "guest RAM ([0, 0x%" PRIx64
			  ") and [0x%llx, 0x%" PRIx64 "))",
			  what, gpa, end, mem->low_size, GUEST_HIGH_RAM_START,
			  (uint64_t)(GUEST_HIGH_RAM_START + high));
	else
		log_error(lg,
			  "%s: [0x%" PRIx64 ", 0x%" PRIx64 ") is not in "
			  "guest RAM ([0, 0x%" PRIx64 "))",
			  what, gpa, end, mem->low_size);
	return -EFBIG;
}

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

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	/* Callers have checked that neither range wraps. */
	return alen && blen && a < b + blen && b < a + alen;
}

const struct boot_mem_range *boot_reserved_overlap(const struct boot_input *in,
						   uint64_t addr, uint64_t len)
{
	const struct boot_mem_range *r;
	unsigned int i;

	if (!in->reserved || len > UINT64_MAX - addr)
		return NULL;
	for (i = 0; i < in->nr_reserved && i < BOOT_MAX_RESERVED; i++) {
		r = &in->reserved[i];
		if (r->size <= UINT64_MAX - r->addr &&
		    ranges_overlap(addr, len, r->addr, r->size))
			return r;
	}
	return NULL;
}

/* They come from the monitor, not the guest: a bad one is -EINVAL. */
int boot_check_reserved(const struct boot_input *in, const struct logger *lg)
{
	const struct boot_mem_range *r;
	unsigned int i;

	if (in->nr_reserved > BOOT_MAX_RESERVED ||
	    (in->nr_reserved && !in->reserved)) {
		log_error(lg,
			  "%u reserved memory ranges given (at most %d, "
			  "and an array is needed)",
			  in->nr_reserved, BOOT_MAX_RESERVED);
		return -EINVAL;
	}
	for (i = 0; i < in->nr_reserved; i++) {
		r = &in->reserved[i];
		if (r->size == 0 || r->size > UINT64_MAX - r->addr ||
		    r->type < BOOT_MEM_RESERVED ||
		    r->type > BOOT_MEM_UNUSABLE) {
			log_error(lg,
				  "reserved memory range %u (0x%" PRIx64
				  " + 0x%" PRIx64 ", type %d) is empty, wraps "
				  "or is not of a reserved type (2-5)",
				  i, r->addr, r->size, (int)r->type);
			return -EINVAL;
		}
		if (ranges_overlap(r->addr, r->size, BOOT_GDT_ADDR,
				   BOOT_INFO_END - BOOT_GDT_ADDR) ||
		    ranges_overlap(r->addr, r->size, BOOT_PARAMS_ADDR,
				   PAGE_SIZE)) {
			log_error(lg,
				  "reserved memory range %u [0x%" PRIx64
				  ", 0x%" PRIx64 ") overlaps where splitvm "
				  "writes its boot tables and information "
				  "(0x%llx-0x%llx, 0x%llx-0x%llx)",
				  i, r->addr, r->addr + r->size,
				  BOOT_PARAMS_ADDR,
				  BOOT_PARAMS_ADDR + PAGE_SIZE, BOOT_GDT_ADDR,
				  BOOT_INFO_END);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Paints r over the map: every entry loses what r covers (splitting in
 * two when r falls inside it), then r is appended. Grows the map by two
 * entries at most; the caller sized it for that.
 */
static unsigned int memmap_paint(struct boot_mem_range *map, unsigned int n,
				 const struct boot_mem_range *r)
{
	struct boot_mem_range out[BOOT_MEMMAP_MAX];
	uint64_t r_end = r->addr + r->size, e_end;
	unsigned int i, m = 0;

	for (i = 0; i < n; i++) {
		e_end = map[i].addr + map[i].size;
		if (map[i].addr < r->addr)
			out[m++] = (struct boot_mem_range){
				map[i].addr,
				(e_end < r->addr ? e_end : r->addr) -
					map[i].addr,
				map[i].type
			};
		if (e_end > r_end) {
			uint64_t start =
				map[i].addr > r_end ? map[i].addr : r_end;

			out[m++] =
				(struct boot_mem_range){ start, e_end - start,
							 map[i].type };
		}
	}
	out[m++] = *r;
	memcpy(map, out, m * sizeof(*map));
	return m;
}

/* Sorts by address (insertion sort: a few dozen entries) and merges. */
static unsigned int memmap_tidy(struct boot_mem_range *map, unsigned int n)
{
	struct boot_mem_range t;
	unsigned int i, j, m = 0;

	for (i = 1; i < n; i++) {
		t = map[i];
		for (j = i; j > 0 && map[j - 1].addr > t.addr; j--)
			map[j] = map[j - 1];
		map[j] = t;
	}
	for (i = 0; i < n; i++) {
		if (m && map[m - 1].type == map[i].type &&
		    map[m - 1].addr + map[m - 1].size == map[i].addr)
			map[m - 1].size += map[i].size;
		else
			map[m++] = map[i];
	}
	return m;
}

unsigned int boot_memmap(const struct guest_mem *mem,
			 const struct boot_input *in,
			 struct boot_mem_range *map)
{
	uint64_t low = guest_mem_low_end(mem);
	uint64_t high = mem->size - mem->low_size;
	uint64_t conv = low < BOOT_LOW_MEM_END ? low : BOOT_LOW_MEM_END;
	/* The EBDA, video memory and BIOS area of a PC: never RAM. */
	const struct boot_mem_range legacy = { BOOT_LOW_MEM_END,
					       MiB - BOOT_LOW_MEM_END,
					       BOOT_MEM_RESERVED };
	unsigned int i, n = 0;

	if (conv)
		map[n++] = (struct boot_mem_range){ 0, conv, BOOT_MEM_RAM };
	if (low > MiB)
		map[n++] =
			(struct boot_mem_range){ MiB, low - MiB, BOOT_MEM_RAM };
	if (high)
		map[n++] = (struct boot_mem_range){ GUEST_HIGH_RAM_START, high,
						    BOOT_MEM_RAM };
	n = memmap_paint(map, n, &legacy);
	for (i = 0;
	     in->reserved && i < in->nr_reserved && i < BOOT_MAX_RESERVED; i++)
		if (in->reserved[i].size &&
		    in->reserved[i].size <= UINT64_MAX - in->reserved[i].addr)
			n = memmap_paint(map, n, &in->reserved[i]);
	return memmap_tidy(map, n);
}

int boot_area_init(struct boot_area *a, const struct guest_mem *mem,
		   const char *what, const struct logger *lg)
{
	a->used = 0;
	a->host = guest_mem_ptr(mem, BOOT_INFO_ADDR,
				BOOT_INFO_END - BOOT_INFO_ADDR);
	if (!a->host) {
		log_error(lg, "guest RAM is too small for the %s at 0x%llx",
			  what, BOOT_INFO_ADDR);
		return -EFBIG;
	}
	/* Untouched pages stay so: only what is written costs memory. */
	guest_mem_zero(mem, a->host, BOOT_INFO_END - BOOT_INFO_ADDR);
	return 0;
}

uint64_t boot_area_alloc(struct boot_area *a, uint64_t len, uint64_t align)
{
	uint64_t size = BOOT_INFO_END - BOOT_INFO_ADDR;
	uint64_t off = align_up(a->used, align);

	if (off > size || len > size - off)
		return 0;
	a->used = off + len;
	return BOOT_INFO_ADDR + off;
}

uint8_t *boot_area_host(const struct boot_area *a, uint64_t gpa)
{
	return a->host + (gpa - BOOT_INFO_ADDR);
}

uint64_t boot_area_string(struct boot_area *a, const char *str)
{
	size_t len = strlen(str) + 1;
	uint64_t gpa = boot_area_alloc(a, len, 1);

	if (gpa)
		memcpy(boot_area_host(a, gpa), str, len);
	return gpa;
}

int boot_place_module(const struct guest_mem *mem, const struct boot_input *in,
		      unsigned int i, uint64_t *ret_addr, uint64_t *next,
		      const struct logger *lg)
{
	const struct boot_module *mod = &in->modules[i];
	uint64_t low = guest_mem_low_end(mem), addr = *next;
	const struct boot_mem_range *r;
	unsigned int tries;

	if (!mod->data && mod->size) {
		log_error(lg, "module %u (%s): no data", i,
			  mod->name ? mod->name : "");
		return -EINVAL;
	}
	/* Each reserved range can push the module up once. */
	for (tries = 0; tries <= BOOT_MAX_RESERVED; tries++) {
		addr = align_up(addr, PAGE_SIZE);
		if (addr > low || mod->size > low - addr)
			break;
		r = boot_reserved_overlap(in, addr, mod->size);
		if (!r) {
			if (mod->size)
				memcpy(guest_mem_ptr(mem, addr, mod->size),
				       mod->data, mod->size);
			*ret_addr = addr;
			*next = addr + mod->size;
			return 0;
		}
		addr = r->addr + r->size;
	}
	log_error(lg,
		  "module %u (%s, %zu bytes) does not fit in guest RAM "
		  "after 0x%" PRIx64 " (RAM below the MMIO hole ends at "
		  "0x%" PRIx64 ")",
		  i, mod->name ? mod->name : "", mod->size, *next, low);
	return -EFBIG;
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
