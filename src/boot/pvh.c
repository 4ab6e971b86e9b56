// SPDX-License-Identifier: MIT
/* PVH boot (Xen's x86/HVM direct boot ABI): the entry note, hvm_start_info. */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "bytes.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the PVH loader assumes a little-endian host");

/*
 * References: Xen's docs/misc/pvh.pandoc (the entry state) and
 * xen/include/public/arch-x86/hvm/start_info.h (the structures), and
 * public/elfnote.h for the note.
 *
 * The image is an ELF32 or ELF64 whose PT_NOTE segments hold a note
 * named "Xen" of type XEN_ELFNOTE_PHYS32_ENTRY, whose value is the
 * physical address of a 32-bit entry point (4 bytes; Linux writes it as
 * an 8-byte pointer on x86-64, so 8 is accepted when it fits 32 bits).
 * The segments are loaded at p_paddr by elf_load(); e_entry is unused.
 *
 * Entry (pvh.pandoc "x86/HVM direct boot ABI"): 32-bit protected mode,
 * paging off, flat CS/DS/ES/SS, EBX = the hvm_start_info's physical
 * address. ESP is unspecified; splitvm gives BOOT_STACK_TOP.
 *
 * Placement: the hvm_start_info, then the memory map, the module list and
 * the strings, in the boot information area; modules page-aligned after
 * the kernel, above 1 MiB, past any range the VM reserved. Everything
 * stays below 4 GiB, in reach of the 32-bit entry.
 */

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define XEN_NOTE_NAME "Xen" /* with its NUL: n_namesz 4 */
#define NOTE_SCAN_MAX (1u << 20)

/* start_info.h: hvm_start_info, version 1. */
#define HVM_START_MAGIC 0x336ec578u /* "xEn3" with 0x80 set in the 'E' */
#define HVM_START_VERSION 1
enum {
	SI_MAGIC = 0,
	SI_VERSION = 4,
	SI_FLAGS = 8,
	SI_NR_MODULES = 12,
	SI_MODLIST_PADDR = 16,
	SI_CMDLINE_PADDR = 24,
	SI_RSDP_PADDR = 32,
	SI_MEMMAP_PADDR = 40,	/* version 1+ */
	SI_MEMMAP_ENTRIES = 48, /* version 1+ */
	SI_SIZE = 56,		/* with 4 reserved bytes */
};

/* hvm_modlist_entry: paddr, size, cmdline_paddr, reserved. */
enum { MOD_PADDR = 0, MOD_SIZE = 8, MOD_CMDLINE = 16, MOD_ENTRY_SIZE = 32 };

/* hvm_memmap_table_entry: addr, size, type, reserved. */
enum { MM_ADDR = 0, MM_SIZE = 8, MM_TYPE = 16, MM_ENTRY_SIZE = 24 };

#define PAGE 0x1000ull
#define MiB 0x100000ull
#define FOUR_GiB 0x100000000ull
#define INFO_SIZE ((uint64_t)(BOOT_INFO_END - BOOT_INFO_ADDR))

/* What the loader needs of the ELF header, whichever the class. */
struct pvh_elf {
	const uint8_t *img;
	size_t size;
	bool is64;
	uint64_t phoff;
	unsigned int phnum;
};

struct pvh_phdr {
	uint32_t type;
	uint64_t offset, filesz, paddr, memsz, align;
};

/* Bump allocator over the boot information area. */
/*
 * Reads just enough of the ELF header to walk the program headers;
 * false unless the table lies inside the file. elf_load() does the
 * full validation and reports what is wrong.
 */
static bool read_ehdr(struct pvh_elf *el)
{
	Elf64_Ehdr h64;
	Elf32_Ehdr h32;
	size_t entsize;

	if (!elf_detect(el->img, el->size) || el->size < EI_NIDENT ||
	    el->img[EI_DATA] != ELFDATA2LSB)
		return false;
	el->is64 = el->img[EI_CLASS] == ELFCLASS64;
	if (el->is64 && el->size >= sizeof(h64)) {
		memcpy(&h64, el->img, sizeof(h64));
		el->phoff = h64.e_phoff;
		el->phnum = h64.e_phnum;
		entsize = h64.e_phentsize;
		if (entsize != sizeof(Elf64_Phdr))
			return false;
	} else if (el->img[EI_CLASS] == ELFCLASS32 && el->size >= sizeof(h32)) {
		memcpy(&h32, el->img, sizeof(h32));
		el->phoff = h32.e_phoff;
		el->phnum = h32.e_phnum;
		entsize = h32.e_phentsize;
		if (entsize != sizeof(Elf32_Phdr))
			return false;
	} else {
		return false;
	}
	return el->phnum != PN_XNUM && el->phoff <= el->size &&
	       (uint64_t)el->phnum * entsize <= el->size - el->phoff;
}

static void read_phdr(const struct pvh_elf *el, unsigned int i,
		      struct pvh_phdr *ph)
{
	const uint8_t *p = el->img + el->phoff;
	Elf64_Phdr p64;
	Elf32_Phdr p32;

	if (el->is64) {
		memcpy(&p64, p + i * sizeof(p64), sizeof(p64));
		*ph = (struct pvh_phdr){ p64.p_type,   p64.p_offset,
					 p64.p_filesz, p64.p_paddr,
					 p64.p_memsz,  p64.p_align };
		return;
	}
	memcpy(&p32, p + i * sizeof(p32), sizeof(p32));
	*ph = (struct pvh_phdr){ p32.p_type,  p32.p_offset, p32.p_filesz,
				 p32.p_paddr, p32.p_memsz,  p32.p_align };
}

/*
 * Walks one PT_NOTE segment (gABI "Note Section"): n_namesz, n_descsz,
 * n_type (4 bytes each in both classes), the name and the descriptor,
 * each padded to 4 bytes, or 8 in a segment aligned to 8 (as GNU
 * property notes are). Every size is checked against what is left of
 * the segment; a malformed note ends the walk.
 */
static bool find_in_segment(const uint8_t *p, uint64_t left, uint64_t align,
			    const uint8_t **ret_desc, uint32_t *ret_descsz)
{
	uint64_t namesz, descsz, desc_off, next;

	while (left >= 12) {
		namesz = get32(p);
		descsz = get32(p + 4);
		desc_off = align_up(12 + namesz, align);
		if (desc_off > left || descsz > left - desc_off)
			return false;
		if (namesz == sizeof(XEN_NOTE_NAME) &&
		    memcmp(p + 12, XEN_NOTE_NAME, sizeof(XEN_NOTE_NAME)) == 0 &&
		    get32(p + 8) == XEN_ELFNOTE_PHYS32_ENTRY) {
			*ret_desc = p + desc_off;
			*ret_descsz = descsz;
			return true;
		}
		next = desc_off + align_up(descsz, align);
		if (next >= left)
			return false;
		p += next;
		left -= next;
	}
	return false;
}

/* The first XEN_ELFNOTE_PHYS32_ENTRY note in any PT_NOTE segment. */
static bool find_note(const struct pvh_elf *el, const uint8_t **ret_desc,
		      uint32_t *ret_descsz)
{
	uint64_t budget = NOTE_SCAN_MAX;
	struct pvh_phdr ph;
	unsigned int i;

	/*
	 * Notes are small (Linux's and Xen's: a few hundred bytes): a note
	 * segment of gigabytes (a hostile or sparse image) is read no
	 * further than NOTE_SCAN_MAX bytes in all.
	 */
	for (i = 0; i < el->phnum && budget; i++) {
		uint64_t len;

		read_phdr(el, i, &ph);
		if (ph.type != PT_NOTE || ph.offset > el->size ||
		    ph.filesz > el->size - ph.offset)
			continue;
		len = ph.filesz < budget ? ph.filesz : budget;
		budget -= len;
		if (find_in_segment(el->img + ph.offset, len,
				    ph.align == 8 ? 8 : 4, ret_desc,
				    ret_descsz))
			return true;
	}
	return false;
}

bool pvh_detect(const uint8_t *img, size_t size)
{
	struct pvh_elf el = { .img = img, .size = size };
	const uint8_t *desc;
	uint32_t descsz;

	return read_ehdr(&el) && find_note(&el, &desc, &descsz);
}

static int read_entry(struct pvh_elf *el, uint64_t *entry,
		      const struct logger *lg)
{
	const uint8_t *desc;
	uint32_t descsz;

	if (!read_ehdr(el) || !find_note(el, &desc, &descsz)) {
		log_error(lg, "kernel: no Xen PVH entry note "
			      "(XEN_ELFNOTE_PHYS32_ENTRY) in the ELF image");
		return -ENOEXEC;
	}
	if (descsz != 4 && descsz != 8) {
		log_error(lg,
			  "kernel: the Xen PVH entry note holds %u bytes; "
			  "XEN_ELFNOTE_PHYS32_ENTRY is a 4-byte (or 8-byte) "
			  "physical address",
			  descsz);
		return -ENOEXEC;
	}
	*entry = descsz == 4 ? get32(desc) : get64(desc);
	if (*entry >= FOUR_GiB) {
		log_error(lg,
			  "kernel: the Xen PVH entry point 0x%" PRIx64 " is "
			  "above 4 GiB, out of reach of a 32-bit entry",
			  *entry);
		return -ENOEXEC;
	}
	return 0;
}

/* After elf_load(): the entry must be in a loaded segment. */
static int check_entry(const struct pvh_elf *el, uint64_t entry,
		       const struct logger *lg)
{
	struct pvh_phdr ph;
	unsigned int i;

	for (i = 0; i < el->phnum; i++) {
		read_phdr(el, i, &ph);
		if (ph.type == PT_LOAD && entry >= ph.paddr &&
		    entry - ph.paddr < ph.memsz)
			return 0;
	}
	log_error(lg,
		  "kernel: the Xen PVH entry point 0x%" PRIx64 " is not "
		  "inside any PT_LOAD segment",
		  entry);
	return -ENOEXEC;
}

static int area_full(const char *what, const struct logger *lg)
{
	log_error(lg,
		  "%s does not fit in the PVH start information area "
		  "(%" PRIu64 " bytes at 0x%llx)",
		  what, INFO_SIZE, BOOT_INFO_ADDR);
	return -EFBIG;
}

/* hvm_modlist_entry per module: address, size, its string. */
static int write_modules(const struct guest_mem *mem,
			 const struct boot_input *in, struct boot_area *a,
			 uint8_t *si, uint64_t *end, const struct logger *lg)
{
	uint64_t list, addr, str, next = *end > MiB ? *end : MiB;
	uint8_t *e;
	unsigned int i;
	int ret;

	if (!in->nr_modules)
		return 0;
	if (!in->modules) {
		log_error(lg, "%u modules but no module array", in->nr_modules);
		return -EINVAL;
	}
	list = boot_area_alloc(a, (uint64_t)in->nr_modules * MOD_ENTRY_SIZE, 8);
	if (!list)
		return area_full("the module list", lg);
	put32(si + SI_NR_MODULES, in->nr_modules);
	put64(si + SI_MODLIST_PADDR, list);
	for (i = 0; i < in->nr_modules; i++) {
		ret = boot_place_module(mem, in, i, &addr, &next, lg);
		if (ret)
			return ret;
		e = boot_area_host(a, list) + (uint64_t)i * MOD_ENTRY_SIZE;
		put64(e + MOD_PADDR, addr);
		put64(e + MOD_SIZE, in->modules[i].size);
		if (in->modules[i].name) {
			str = boot_area_string(a, in->modules[i].name);
			if (!str)
				return area_full("a module's string", lg);
			put64(e + MOD_CMDLINE, str);
		}
	}
	if (next > *end)
		*end = next;
	return 0;
}

/* The memory map (version 1): the same layout as the e820 of a bzImage. */
static int write_memmap(const struct guest_mem *mem,
			const struct boot_input *in, struct boot_area *a,
			uint8_t *si, const struct logger *lg)
{
	struct boot_mem_range map[BOOT_MEMMAP_MAX];
	unsigned int i, n = boot_memmap(mem, in, map);
	uint64_t gpa = boot_area_alloc(a, (uint64_t)n * MM_ENTRY_SIZE, 8);
	uint8_t *e;

	if (!gpa)
		return area_full("the memory map", lg);
	for (i = 0; i < n; i++) {
		e = boot_area_host(a, gpa) + i * MM_ENTRY_SIZE;
		put64(e + MM_ADDR, map[i].addr);
		put64(e + MM_SIZE, map[i].size);
		put32(e + MM_TYPE, map[i].type);
	}
	put64(si + SI_MEMMAP_PADDR, gpa);
	put32(si + SI_MEMMAP_ENTRIES, n);
	return 0;
}

static int write_start_info(const struct guest_mem *mem,
			    const struct boot_input *in, uint64_t *end,
			    uint64_t *ret_info, const struct logger *lg)
{
	struct boot_area a = { 0 };
	uint64_t info, cmdline;
	uint8_t *si;
	int ret;

	ret = boot_area_init(&a, mem, "PVH start information", lg);
	if (ret)
		return ret;
	info = boot_area_alloc(&a, SI_SIZE, 8);
	si = boot_area_host(&a, info);
	put32(si + SI_MAGIC, HVM_START_MAGIC);
	put32(si + SI_VERSION, HVM_START_VERSION);
	put32(si + SI_FLAGS, 0); /* neither SIF_PRIVILEGED nor SIF_INITDOMAIN */
	put64(si + SI_RSDP_PADDR, in->acpi_rsdp);
	ret = write_memmap(mem, in, &a, si, lg);
	if (ret)
		return ret;
	/* As QEMU does, the kernel's own command line, without its name. */
	cmdline = boot_area_string(&a, in->cmdline ? in->cmdline : "");
	if (!cmdline)
		return area_full("the kernel command line", lg);
	put64(si + SI_CMDLINE_PADDR, cmdline);
	ret = write_modules(mem, in, &a, si, end, lg);
	if (ret)
		return ret;
	*ret_info = info;
	return 0;
}

int pvh_load(const struct guest_mem *mem, const struct boot_input *in,
	     struct boot_plan *plan, const struct logger *lg)
{
	struct pvh_elf el = { .img = in->kernel, .size = in->kernel_size };
	uint64_t entry, e_entry, end, info;
	int ret;

	ret = boot_check_reserved(in, lg);
	if (!ret)
		ret = read_entry(&el, &entry, lg);
	if (!ret)
		ret = elf_check_reserved(in, lg);
	if (!ret)
		ret = elf_load(mem, in->kernel, in->kernel_size, &e_entry, &end,
			       lg);
	if (!ret)
		ret = check_entry(&el, entry, lg);
	if (ret)
		return ret;
	if (end > FOUR_GiB) {
		log_error(lg,
			  "kernel: the PVH image ends at 0x%" PRIx64 ", above "
			  "4 GiB, out of reach of its 32-bit entry",
			  end);
		return -ENOEXEC;
	}
	ret = write_start_info(mem, in, &end, &info, lg);
	if (ret)
		return ret;
	memset(plan, 0, sizeof(*plan));
	plan->protocol = "pvh";
	plan->mode = BOOT_MODE_PROTECTED32;
	plan->entry = entry;
	plan->rbx = info;
	plan->rsp = BOOT_STACK_TOP;
	plan->image_end = end;
	return 0;
}
