// SPDX-License-Identifier: MIT
/* Multiboot v1 (spec 0.6.96): the header, the kernel, modules, boot info. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "bytes.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the multiboot loader assumes a little-endian host");

/* 3.1.1: the header lies 32-bit aligned in the first 8192 bytes. */
#define MB_HEADER_MAGIC 0x1BADB002u
#define MB_SEARCH_LEN 8192
#define MB_HEADER_LEN 12      /* magic, flags, checksum */
#define MB_AOUT_HEADER_LEN 32 /* + the five address fields (3.1.3) */

/* 3.2: EAX at entry. */
#define MB_BOOTLOADER_MAGIC 0x2BADB002u

/*
 * 3.1.2: header flags. Bits 0-15 are requirements a loader must refuse
 * when it cannot honour them; bits 16-31 are optional features.
 *  - bit 0 (page-align modules): always done.
 *  - bit 1 (memory information): always given.
 *  - bit 2 (video mode table): splitvm has no display; like QEMU, which
 *    only prints a notice, it boots anyway and sets no VBE/framebuffer
 *    fields, which the kernel can see in the information flags.
 *  - bits 3-15: not defined by 0.6.96, so not honoured: refused.
 *  - bit 16: the a.out kludge address fields.
 */
#define MB_HF_PAGE_ALIGN (1u << 0)
#define MB_HF_MEMORY_INFO (1u << 1)
#define MB_HF_VIDEO_MODE (1u << 2)
#define MB_HF_REQUIRED 0xffffu
#define MB_HF_AOUT_KLUDGE (1u << 16)
#define MB_HF_HONOURED (MB_HF_PAGE_ALIGN | MB_HF_MEMORY_INFO | MB_HF_VIDEO_MODE)

/* 3.3: the boot information, its flags and field offsets. */
#define MBI_F_MEM (1u << 0)
#define MBI_F_CMDLINE (1u << 2)
#define MBI_F_MODS (1u << 3)
#define MBI_F_MMAP (1u << 6)
#define MBI_F_LOADER_NAME (1u << 9)
#define MBI_F_GIVEN                                                            \
	(MBI_F_MEM | MBI_F_CMDLINE | MBI_F_MODS | MBI_F_MMAP |                 \
	 MBI_F_LOADER_NAME)

enum {
	MBI_FLAGS = 0,
	MBI_MEM_LOWER = 4,
	MBI_MEM_UPPER = 8,
	MBI_CMDLINE = 16,
	MBI_MODS_COUNT = 20,
	MBI_MODS_ADDR = 24,
	MBI_MMAP_LENGTH = 44,
	MBI_MMAP_ADDR = 48,
	MBI_LOADER_NAME = 64,
	MBI_SIZE = 88, /* through the VBE fields of 0.6.96 */
};

/* A module entry: mod_start, mod_end, string, reserved. */
#define MB_MOD_SIZE 16
/* An mmap entry: size (= 20, not counting itself), base, length, type. */
#define MB_MMAP_ENTRY_SIZE 24

#define MB_LOADER_NAME "splitvm"
#define MB_1M 0x100000ull
#define MB_4G 0x100000000ull
#define MB_INFO_SIZE ((uint64_t)(BOOT_INFO_END - BOOT_INFO_ADDR))

struct mb_header {
	uint32_t magic, flags, checksum;
	/* Valid with MB_HF_AOUT_KLUDGE only. */
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr;
	uint32_t entry_addr;
};

/* Bump allocator over the boot information area. */
bool multiboot_detect(const uint8_t *img, size_t size)
{
	size_t limit = size < MB_SEARCH_LEN ? size : MB_SEARCH_LEN;
	size_t off;

	if (!img)
		return false;
	/*
	 * The magic alone claims the image: a bad checksum is then reported
	 * by multiboot_load() rather than the image silently booting some
	 * other way (QEMU and GRUB skip such a header).
	 */
	for (off = 0; off + MB_HEADER_LEN <= limit; off += 4)
		if (get32(img + off) == MB_HEADER_MAGIC)
			return true;
	return false;
}

/*
 * Finds the first header with a valid checksum; without one, logs the
 * first bad checksum met, or that there is no header at all.
 */
static int find_header(const uint8_t *img, size_t size, size_t *ret_off,
		       struct mb_header *h, const struct logger *lg)
{
	size_t limit = size < MB_SEARCH_LEN ? size : MB_SEARCH_LEN;
	size_t off, bad_off = SIZE_MAX;
	uint32_t sum, bad_sum = 0;

	for (off = 0; img && off + MB_HEADER_LEN <= limit; off += 4) {
		if (get32(img + off) != MB_HEADER_MAGIC)
			continue;
		sum = MB_HEADER_MAGIC + get32(img + off + 4) +
		      get32(img + off + 8);
		if (sum == 0)
			break;
		if (bad_off == SIZE_MAX) {
			bad_off = off;
			bad_sum = sum;
		}
	}
	if (!img || off + MB_HEADER_LEN > limit) {
		if (bad_off != SIZE_MAX)
			log_error(lg,
				  "kernel: multiboot header at offset "
				  "0x%zx has a bad checksum (magic + flags + "
				  "checksum = 0x%08x, must be 0)",
				  bad_off, bad_sum);
		else
			log_error(lg,
				  "kernel: no multiboot header (magic "
				  "0x%08x) in the first %d bytes",
				  MB_HEADER_MAGIC, MB_SEARCH_LEN);
		return -ENOEXEC;
	}
	memset(h, 0, sizeof(*h));
	memcpy(h, img + off, MB_HEADER_LEN);
	*ret_off = off;
	return 0;
}

static int check_flags(const uint8_t *img, size_t size, size_t off,
		       struct mb_header *h, const struct logger *lg)
{
	uint32_t unknown = h->flags & MB_HF_REQUIRED & ~MB_HF_HONOURED;

	if (unknown) {
		log_error(lg,
			  "kernel: multiboot header flags 0x%08x require "
			  "features splitvm does not know (bits 0x%04x); a "
			  "loader must refuse unknown bits 0-15",
			  h->flags, unknown);
		return -ENOEXEC;
	}
	if (h->flags & MB_HF_VIDEO_MODE)
		log_debug(lg, "kernel: multiboot header asks for a video "
			      "mode; booting without one, as QEMU does");
	if (!(h->flags & MB_HF_AOUT_KLUDGE))
		return 0;
	if (off + MB_AOUT_HEADER_LEN > size) {
		log_error(lg,
			  "kernel: multiboot header at offset 0x%zx is "
			  "truncated: flag 16 needs the address fields (%d "
			  "bytes), the image ends at 0x%zx",
			  off, MB_AOUT_HEADER_LEN, size);
		return -ENOEXEC;
	}
	if (off + MB_AOUT_HEADER_LEN > MB_SEARCH_LEN) {
		log_error(lg,
			  "kernel: multiboot header at offset 0x%zx with "
			  "its address fields (flag 16) extends past the first "
			  "%d bytes",
			  off, MB_SEARCH_LEN);
		return -ENOEXEC;
	}
	memcpy(h, img + off, MB_AOUT_HEADER_LEN);
	return 0;
}

/*
 * 3.1.3: the a.out kludge. The file, from the offset where the header
 * sits (header_addr - load_addr) before it, is loaded at load_addr up to
 * load_end_addr (0: the end of the file), then zeroed up to bss_end_addr
 * (0: no bss). The checks are QEMU's, plus the file's end and RAM.
 */
static int aout_layout(size_t size, size_t off, const struct mb_header *h,
		       uint64_t *file_off, uint64_t *load_len,
		       uint64_t *mem_end, const struct logger *lg)
{
	uint64_t delta;

	if (h->load_addr > h->header_addr) {
		log_error(lg,
			  "kernel: multiboot load_addr 0x%x is above "
			  "header_addr 0x%x",
			  h->load_addr, h->header_addr);
		return -ENOEXEC;
	}
	delta = h->header_addr - h->load_addr;
	if (delta > off) {
		log_error(lg,
			  "kernel: multiboot header_addr - load_addr = "
			  "0x%" PRIx64 ", but the header is only 0x%zx bytes "
			  "into the file",
			  delta, off);
		return -ENOEXEC;
	}
	*file_off = off - delta;
	/* QEMU accepts load_end_addr == load_addr: nothing would run. */
	if (h->load_end_addr && h->load_end_addr <= h->load_addr) {
		log_error(lg,
			  "kernel: multiboot load_end_addr 0x%x is not "
			  "above load_addr 0x%x",
			  h->load_end_addr, h->load_addr);
		return -ENOEXEC;
	}
	*load_len = h->load_end_addr ? h->load_end_addr - h->load_addr
				     : size - *file_off;
	if (*load_len > size - *file_off) {
		log_error(lg,
			  "kernel: multiboot load_end_addr 0x%x is past "
			  "the end of the file (offset 0x%" PRIx64 " + size "
			  "0x%" PRIx64 " > 0x%zx)",
			  h->load_end_addr, *file_off, *load_len, size);
		return -ENOEXEC;
	}
	*mem_end = h->load_addr + *load_len;
	if (h->bss_end_addr && h->bss_end_addr < *mem_end) {
		log_error(lg,
			  "kernel: multiboot bss_end_addr 0x%x is below "
			  "the end of the loaded image (0x%" PRIx64 ")",
			  h->bss_end_addr, *mem_end);
		return -ENOEXEC;
	}
	if (h->bss_end_addr)
		*mem_end = h->bss_end_addr;
	return 0;
}

/* The VM's reserved ranges are never loaded over (boot_input). */
static int check_aout_reserved(const struct boot_input *in, uint64_t start,
			       uint64_t end, const struct logger *lg)
{
	const struct boot_mem_range *r =
		boot_reserved_overlap(in, start, end - start);

	if (!r)
		return 0;
	log_error(lg,
		  "kernel: the multiboot a.out image [0x%" PRIx64 ", 0x%" PRIx64
		  ") overlaps the VM's reserved range [0x%" PRIx64
		  ", 0x%" PRIx64 ")",
		  start, end, r->addr, r->addr + r->size);
	return -EFBIG;
}

static int aout_load(const struct guest_mem *mem, const struct boot_input *in,
		     size_t off, const struct mb_header *h, uint64_t *entry,
		     uint64_t *end, const struct logger *lg)
{
	const uint8_t *img = in->kernel;
	size_t size = in->kernel_size;
	uint64_t file_off, load_len, mem_end;
	uint8_t *dst;
	int ret;

	ret = aout_layout(size, off, h, &file_off, &load_len, &mem_end, lg);
	if (ret)
		return ret;
	ret = boot_check_range(mem, h->load_addr, mem_end - h->load_addr,
			       "kernel: multiboot a.out image", lg);
	if (ret)
		return ret;
	ret = check_aout_reserved(in, h->load_addr, mem_end, lg);
	if (ret)
		return ret;
	if (h->entry_addr < h->load_addr || h->entry_addr >= mem_end) {
		log_error(lg,
			  "kernel: multiboot entry_addr 0x%x is outside "
			  "the loaded image [0x%x, 0x%" PRIx64 ")",
			  h->entry_addr, h->load_addr, mem_end);
		return -ENOEXEC;
	}
	dst = guest_mem_ptr(mem, h->load_addr, mem_end - h->load_addr);
	memcpy(dst, img + file_off, load_len);
	guest_mem_zero(mem, dst + load_len, mem_end - h->load_addr - load_len);
	*entry = h->entry_addr;
	*end = mem_end;
	return 0;
}

/*
 * Without flag 16 the image must be ELF. ELF32 is the norm (and covers
 * 64-bit kernels wrapped with objcopy -O elf32-i386). ELF64 is accepted
 * too, as GRUB does, though QEMU refuses EM_X86_64 multiboot images: the
 * kernel still starts in 32-bit mode, so everything must sit below 4 GiB.
 */
static int load_kernel(const struct guest_mem *mem, const struct boot_input *in,
		       size_t off, const struct mb_header *h, uint64_t *entry,
		       uint64_t *end, const struct logger *lg)
{
	int ret;

	if (h->flags & MB_HF_AOUT_KLUDGE)
		return aout_load(mem, in, off, h, entry, end, lg);
	if (!elf_detect(in->kernel, in->kernel_size)) {
		log_error(lg,
			  "kernel: the multiboot header has no address "
			  "fields (flag 16), so the image must be ELF, and it "
			  "is not");
		return -ENOEXEC;
	}
	ret = elf_check_reserved(in, lg);
	if (!ret)
		ret = elf_load(mem, in->kernel, in->kernel_size, entry, end,
			       lg);
	if (ret)
		return ret;
	if (*end > MB_4G) {
		log_error(lg,
			  "kernel: the multiboot image ends at 0x%" PRIx64
			  ", above 4 GiB, out of reach of its 32-bit entry",
			  *end);
		return -ENOEXEC;
	}
	return 0;
}

/*
 * Flags 0 and 6: the memory map every protocol reports (boot_memmap()),
 * whose types are Multiboot 0.6.96's (3.3: 1 RAM, 3 ACPI, 4 NVS, 5 bad,
 * the rest reserved). mem_upper is "the first upper memory hole minus
 * 1 MiB": the RAM that starts at 1 MiB.
 */
static int mbi_write_memory(const struct guest_mem *mem,
			    const struct boot_input *in, struct boot_area *a,
			    uint64_t info, const struct logger *lg)
{
	struct boot_mem_range map[BOOT_MEMMAP_MAX];
	unsigned int i, n = boot_memmap(mem, in, map);
	uint64_t gpa = boot_area_alloc(a, (uint64_t)n * MB_MMAP_ENTRY_SIZE, 8);
	uint8_t *e;

	if (!gpa) {
		log_error(lg, "the memory map does not fit in the multiboot "
			      "information area");
		return -EFBIG;
	}
	for (i = 0; i < n; i++) {
		e = boot_area_host(a, gpa) + i * MB_MMAP_ENTRY_SIZE;
		put32(e, MB_MMAP_ENTRY_SIZE - 4);
		put64(e + 4, map[i].addr);
		put64(e + 12, map[i].size);
		put32(e + 20, map[i].type);
		if (map[i].type != BOOT_MEM_RAM)
			continue;
		if (map[i].addr == 0)
			put32(boot_area_host(a, info) + MBI_MEM_LOWER,
			      map[i].size >> 10);
		if (map[i].addr == MB_1M)
			put32(boot_area_host(a, info) + MBI_MEM_UPPER,
			      map[i].size >> 10);
	}
	put32(boot_area_host(a, info) + MBI_MMAP_ADDR, gpa);
	put32(boot_area_host(a, info) + MBI_MMAP_LENGTH,
	      n * MB_MMAP_ENTRY_SIZE);
	return 0;
}

/*
 * Flag 2: as QEMU does, the command line starts with the kernel's file
 * name, then a space and the arguments when there are any.
 */
static int mbi_write_cmdline(const struct boot_input *in, struct boot_area *a,
			     uint64_t info, const struct logger *lg)
{
	const char *name = in->kernel_name ? in->kernel_name : "";
	const char *args = in->cmdline ? in->cmdline : "";
	size_t name_len = strlen(name), args_len = strlen(args);
	bool space = *name && in->cmdline;
	uint64_t len = (uint64_t)name_len + space + args_len + 1;
	uint64_t gpa = boot_area_alloc(a, len, 1);
	char *p;

	if (!gpa) {
		log_error(lg,
			  "kernel: command line too long (%" PRIu64 " "
			  "bytes with the kernel name) for the multiboot "
			  "information area (%" PRIu64 " bytes left)",
			  len, MB_INFO_SIZE - a->used);
		return -EFBIG;
	}
	p = (char *)boot_area_host(a, gpa);
	memcpy(p, name, name_len);
	if (space)
		p[name_len] = ' ';
	memcpy(p + name_len + space, args, args_len + 1);
	put32(boot_area_host(a, info) + MBI_CMDLINE, gpa);
	return 0;
}

/*
 * Flag 3: modules go page-aligned (header flag 0, done always) after the
 * kernel, and never below 1 MiB, clear of the low pages, of the boot area
 * and of the VM's reserved ranges. Their list and strings go in the
 * information area.
 */
static int mbi_write_modules(const struct guest_mem *mem,
			     const struct boot_input *in, struct boot_area *a,
			     uint64_t info, uint64_t *end,
			     const struct logger *lg)
{
	uint64_t list, str, addr, next = *end > MB_1M ? *end : MB_1M;
	uint8_t *entry;
	unsigned int i;
	int ret;

	if (in->nr_modules && !in->modules) {
		log_error(lg, "%u modules but no module array", in->nr_modules);
		return -EINVAL;
	}
	list = boot_area_alloc(a, (uint64_t)in->nr_modules * MB_MOD_SIZE, 4);
	if (!list) {
		log_error(lg,
			  "too many modules (%u): their list does not fit "
			  "in the multiboot information area (%" PRIu64
			  " bytes left)",
			  in->nr_modules, MB_INFO_SIZE - a->used);
		return -EFBIG;
	}
	put32(boot_area_host(a, info) + MBI_MODS_COUNT, in->nr_modules);
	put32(boot_area_host(a, info) + MBI_MODS_ADDR, list);
	for (i = 0; i < in->nr_modules; i++) {
		ret = boot_place_module(mem, in, i, &addr, &next, lg);
		if (ret)
			return ret;
		entry = boot_area_host(a, list) + i * MB_MOD_SIZE;
		put32(entry, addr);
		put32(entry + 4, next);
		str = boot_area_string(
			a, in->modules[i].name ? in->modules[i].name : "");
		if (!str) {
			log_error(lg,
				  "too many modules, or names too long: "
				  "the string of module %u does not fit in the "
				  "multiboot information area",
				  i);
			return -EFBIG;
		}
		put32(entry + 8, str);
	}
	if (next > *end)
		*end = next;
	return 0;
}

static int mbi_write(const struct guest_mem *mem, const struct boot_input *in,
		     uint64_t *end, uint64_t *ret_info, const struct logger *lg)
{
	struct boot_area a = { 0 };
	uint64_t info;
	int ret;

	ret = boot_area_init(&a, mem, "multiboot information", lg);
	if (ret)
		return ret;
	info = boot_area_alloc(&a, MBI_SIZE, 8);
	ret = mbi_write_memory(mem, in, &a, info, lg);
	if (ret)
		return ret;
	put32(boot_area_host(&a, info) + MBI_LOADER_NAME,
	      boot_area_string(&a, MB_LOADER_NAME));
	ret = mbi_write_cmdline(in, &a, info, lg);
	if (!ret)
		ret = mbi_write_modules(mem, in, &a, info, end, lg);
	if (ret)
		return ret;
	put32(boot_area_host(&a, info) + MBI_FLAGS, MBI_F_GIVEN);
	*ret_info = info;
	return 0;
}

int multiboot_load(const struct guest_mem *mem, const struct boot_input *in,
		   struct boot_plan *plan, const struct logger *lg)
{
	struct mb_header h;
	uint64_t entry, end, info;
	size_t off;
	int ret;

	ret = boot_check_reserved(in, lg);
	if (!ret)
		ret = find_header(in->kernel, in->kernel_size, &off, &h, lg);
	if (!ret)
		ret = check_flags(in->kernel, in->kernel_size, off, &h, lg);
	if (!ret)
		ret = load_kernel(mem, in, off, &h, &entry, &end, lg);
	if (!ret)
		ret = mbi_write(mem, in, &end, &info, lg);
	if (ret)
		return ret;
	/*
	 * 3.2: 32-bit flat protected mode, paging off, EAX = magic, EBX =
	 * the information. ESP is left undefined by the spec; a valid stack
	 * below the GDT is kinder to a kernel that pushes before setting its
	 * own.
	 */
	memset(plan, 0, sizeof(*plan));
	plan->protocol = "multiboot";
	plan->mode = BOOT_MODE_PROTECTED32;
	plan->entry = entry;
	plan->rax = MB_BOOTLOADER_MAGIC;
	plan->rbx = info;
	plan->rsp = BOOT_STACK_TOP;
	plan->image_end = end;
	return 0;
}
