// SPDX-License-Identifier: MIT
/* ELF32/ELF64 x86 kernel images: validating them and loading PT_LOAD. */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"

/*
 * Images are read with memcpy into host structs: guest and host are both
 * little-endian x86, and big-endian images are refused.
 */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the ELF loader assumes a little-endian host");

/*
 * What the loader accepts (System V gABI, "ELF Header" and "Program
 * Header"):
 *  - ELFCLASS32 with EM_386 or EM_X86_64 (x32), ELFCLASS64 with EM_X86_64;
 *    little-endian, EV_CURRENT.
 *  - ET_EXEC, and ET_DYN too: a position-independent kernel is loaded as
 *    is at its p_paddr with no relocation applied, which suits kernels
 *    that relocate themselves or were linked at their load address. Other
 *    types (ET_REL, ET_CORE) are refused.
 *  - PT_LOAD segments go to p_paddr; other program headers are ignored.
 *    Physical overlap between segments is not checked (it cannot harm
 *    the host; ld warns about it at link time).
 */

/* The header fields the loader needs, whichever the class. */
struct elf_image {
	const uint8_t *img;
	size_t size;
	bool is64;
	uint64_t entry;
	uint64_t phoff;
	unsigned int phnum;
};

struct elf_segment {
	uint32_t type;
	uint64_t offset, filesz, vaddr, paddr, memsz;
};

bool elf_detect(const uint8_t *img, size_t size)
{
	return img && size >= SELFMAG && memcmp(img, ELFMAG, SELFMAG) == 0;
}

bool elf_is_64(const uint8_t *img, size_t size)
{
	return elf_detect(img, size) && size > EI_CLASS &&
	       img[EI_CLASS] == ELFCLASS64;
}

/* e_ident: magic, class, byte order, version. */
static int check_ident(const uint8_t *img, size_t size, const struct logger *lg)
{
	if (!elf_detect(img, size)) {
		log_error(lg, "kernel: not an ELF image (no \\x7fELF magic)");
		return -ENOEXEC;
	}
	if (size < EI_NIDENT) {
		log_error(lg,
			  "kernel: truncated ELF header (%zu bytes, "
			  "e_ident alone is %d)",
			  size, EI_NIDENT);
		return -ENOEXEC;
	}
	if (img[EI_CLASS] != ELFCLASS32 && img[EI_CLASS] != ELFCLASS64) {
		log_error(lg,
			  "kernel: ELF class %u is neither ELFCLASS32 (1) "
			  "nor ELFCLASS64 (2)",
			  img[EI_CLASS]);
		return -ENOEXEC;
	}
	if (img[EI_DATA] == ELFDATA2MSB) {
		log_error(lg, "kernel: big-endian ELF (ELFDATA2MSB); x86 "
			      "kernels are little-endian");
		return -ENOEXEC;
	}
	if (img[EI_DATA] != ELFDATA2LSB) {
		log_error(lg, "kernel: unknown ELF data encoding %u",
			  img[EI_DATA]);
		return -ENOEXEC;
	}
	if (img[EI_VERSION] != EV_CURRENT) {
		log_error(lg,
			  "kernel: ELF version %u, expected 1 "
			  "(EV_CURRENT)",
			  img[EI_VERSION]);
		return -ENOEXEC;
	}
	return 0;
}

/* The class-independent part of the ELF header checks. */
static int check_header(struct elf_image *el, uint16_t type, uint16_t machine,
			size_t phentsize, const struct logger *lg)
{
	size_t want = el->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);

	if (type != ET_EXEC && type != ET_DYN) {
		log_error(lg,
			  "kernel: ELF type %u is not an executable "
			  "(ET_EXEC or ET_DYN)",
			  type);
		return -ENOEXEC;
	}
	if (machine != EM_X86_64 && (el->is64 || machine != EM_386)) {
		log_error(lg, "kernel: ELF%d machine %u is not x86 (%s)",
			  el->is64 ? 64 : 32, machine,
			  el->is64 ? "expected EM_X86_64 = 62"
				   : "expected EM_386 = 3 or EM_X86_64 = 62");
		return -ENOEXEC;
	}
	if (phentsize != want) {
		log_error(lg, "kernel: ELF e_phentsize is %zu, expected %zu",
			  phentsize, want);
		return -ENOEXEC;
	}
	if (el->phnum == 0) {
		log_error(lg, "kernel: ELF image has no program headers, so "
			      "no PT_LOAD segment to load");
		return -ENOEXEC;
	}
	if (el->phnum == PN_XNUM) {
		log_error(lg, "kernel: ELF extended program header numbering "
			      "(e_phnum = PN_XNUM) is not supported");
		return -ENOEXEC;
	}
	if (el->phoff > el->size ||
	    (uint64_t)el->phnum * want > el->size - el->phoff) {
		log_error(lg,
			  "kernel: ELF program header table extends past "
			  "the end of the file (offset 0x%" PRIx64
			  " + %u x %zu bytes > 0x%zx)",
			  el->phoff, el->phnum, want, el->size);
		return -ENOEXEC;
	}
	return 0;
}

static int read_header(struct elf_image *el, const struct logger *lg)
{
	Elf64_Ehdr h64;
	Elf32_Ehdr h32;
	size_t want;
	int ret;

	ret = check_ident(el->img, el->size, lg);
	if (ret)
		return ret;
	el->is64 = el->img[EI_CLASS] == ELFCLASS64;
	want = el->is64 ? sizeof(h64) : sizeof(h32);
	if (el->size < want) {
		log_error(lg,
			  "kernel: truncated ELF header (%zu bytes, an "
			  "ELF%d header is %zu)",
			  el->size, el->is64 ? 64 : 32, want);
		return -ENOEXEC;
	}
	if (el->is64) {
		memcpy(&h64, el->img, sizeof(h64));
		el->entry = h64.e_entry;
		el->phoff = h64.e_phoff;
		el->phnum = h64.e_phnum;
		return check_header(el, h64.e_type, h64.e_machine,
				    h64.e_phentsize, lg);
	}
	memcpy(&h32, el->img, sizeof(h32));
	el->entry = h32.e_entry;
	el->phoff = h32.e_phoff;
	el->phnum = h32.e_phnum;
	return check_header(el, h32.e_type, h32.e_machine, h32.e_phentsize, lg);
}

/* Program header i; the table was checked to lie inside the file. */
static void read_segment(const struct elf_image *el, unsigned int i,
			 struct elf_segment *seg)
{
	const uint8_t *p = el->img + el->phoff;
	Elf64_Phdr p64;
	Elf32_Phdr p32;

	if (el->is64) {
		memcpy(&p64, p + i * sizeof(p64), sizeof(p64));
		seg->type = p64.p_type;
		seg->offset = p64.p_offset;
		seg->filesz = p64.p_filesz;
		seg->vaddr = p64.p_vaddr;
		seg->paddr = p64.p_paddr;
		seg->memsz = p64.p_memsz;
		return;
	}
	memcpy(&p32, p + i * sizeof(p32), sizeof(p32));
	seg->type = p32.p_type;
	seg->offset = p32.p_offset;
	seg->filesz = p32.p_filesz;
	seg->vaddr = p32.p_vaddr;
	seg->paddr = p32.p_paddr;
	seg->memsz = p32.p_memsz;
}

static int check_segment(const struct guest_mem *mem,
			 const struct elf_image *el, unsigned int i,
			 const struct elf_segment *seg, const struct logger *lg)
{
	char what[64];

	if (seg->filesz > seg->memsz) {
		log_error(lg,
			  "kernel: ELF program header %u has p_filesz "
			  "0x%" PRIx64 " larger than p_memsz 0x%" PRIx64,
			  i, seg->filesz, seg->memsz);
		return -ENOEXEC;
	}
	if (seg->filesz &&
	    (seg->offset > el->size || seg->filesz > el->size - seg->offset)) {
		log_error(lg,
			  "kernel: ELF program header %u extends past the "
			  "end of the file (offset 0x%" PRIx64
			  " + size 0x%" PRIx64 " > 0x%zx)",
			  i, seg->offset, seg->filesz, el->size);
		return -ENOEXEC;
	}
	snprintf(what, sizeof(what), "kernel: ELF program header %u", i);
	return boot_check_range(mem, seg->paddr, seg->memsz, what, lg);
}

static bool seg_holds(uint64_t base, const struct elf_segment *seg,
		      uint64_t addr)
{
	return addr >= base && addr - base < seg->memsz;
}

/*
 * The entry point as a physical address. Most kernels give a physical
 * e_entry; one linked to run higher-half may give a virtual one, which,
 * as GRUB does, is translated through the segment whose p_vaddr range
 * holds it. Either way it must lie in a loaded segment.
 */
static int find_entry(const struct elf_image *el, uint64_t *entry,
		      const struct logger *lg)
{
	struct elf_segment seg;
	unsigned int i;

	for (i = 0; i < el->phnum; i++) {
		read_segment(el, i, &seg);
		if (seg.type == PT_LOAD &&
		    seg_holds(seg.paddr, &seg, el->entry)) {
			*entry = el->entry;
			return 0;
		}
	}
	for (i = 0; i < el->phnum; i++) {
		read_segment(el, i, &seg);
		if (seg.type == PT_LOAD &&
		    seg_holds(seg.vaddr, &seg, el->entry)) {
			*entry = el->entry - seg.vaddr + seg.paddr;
			return 0;
		}
	}
	log_error(lg,
		  "kernel: ELF entry point 0x%" PRIx64 " is not inside "
		  "any PT_LOAD segment",
		  el->entry);
	return -ENOEXEC;
}

/* Validates every program header before anything is written. */
static int check_segments(const struct guest_mem *mem,
			  const struct elf_image *el, uint64_t *end,
			  const struct logger *lg)
{
	struct elf_segment seg;
	bool loadable = false;
	unsigned int i;
	int ret;

	*end = 0;
	for (i = 0; i < el->phnum; i++) {
		read_segment(el, i, &seg);
		if (seg.type != PT_LOAD)
			continue;
		ret = check_segment(mem, el, i, &seg, lg);
		if (ret)
			return ret;
		if (seg.memsz == 0)
			continue;
		loadable = true;
		if (seg.paddr + seg.memsz > *end)
			*end = seg.paddr + seg.memsz;
	}
	if (!loadable) {
		log_error(lg, "kernel: ELF image has no PT_LOAD segment with "
			      "contents (nothing to load)");
		return -ENOEXEC;
	}
	return 0;
}

int elf_load(const struct guest_mem *mem, const uint8_t *img, size_t size,
	     uint64_t *entry, uint64_t *end, const struct logger *lg)
{
	struct elf_image el = {.img = img, .size = size};
	struct elf_segment seg;
	unsigned int i;
	uint8_t *dst;
	int ret;

	ret = read_header(&el, lg);
	if (!ret)
		ret = check_segments(mem, &el, end, lg);
	if (!ret)
		ret = find_entry(&el, entry, lg);
	if (ret)
		return ret;
	for (i = 0; i < el.phnum; i++) {
		read_segment(&el, i, &seg);
		if (seg.type != PT_LOAD || seg.memsz == 0)
			continue;
		dst = guest_mem_ptr(mem, seg.paddr, seg.memsz);
		/* An empty file part may name any offset (it is never read):
		 * img + offset must not even be computed then (fuzzing). */
		if (seg.filesz)
			memcpy(dst, img + seg.offset, seg.filesz);
		guest_mem_zero(mem, dst + seg.filesz, seg.memsz - seg.filesz);
	}
	return 0;
}

/* Discards what it is given: for a look at a header elf_load() will judge. */
static void drop_line(void *userdata, enum splitvm_log_level level,
		      const char *line)
{
}

int elf_check_reserved(const struct boot_input *in, const struct logger *lg)
{
	static const struct logger quiet = { .fn = drop_line };
	struct elf_image el = { .img = in->kernel, .size = in->kernel_size };
	const struct boot_mem_range *r;
	struct elf_segment seg;
	unsigned int i;

	/* A malformed header is elf_load()'s to report. */
	if (!in->nr_reserved || read_header(&el, &quiet))
		return 0;
	for (i = 0; i < el.phnum; i++) {
		read_segment(&el, i, &seg);
		if (seg.type != PT_LOAD || seg.memsz > UINT64_MAX - seg.paddr)
			continue; /* elf_load() reports a wrapping one */
		r = boot_reserved_overlap(in, seg.paddr, seg.memsz);
		if (r) {
			log_error(lg,
				  "kernel: ELF program header %u [0x%" PRIx64
				  ", 0x%" PRIx64 ") overlaps the VM's reserved "
				  "range [0x%" PRIx64 ", 0x%" PRIx64 ")",
				  i, seg.paddr, seg.paddr + seg.memsz, r->addr,
				  r->addr + r->size);
			return -EFBIG;
		}
	}
	return 0;
}
