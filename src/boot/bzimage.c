// SPDX-License-Identifier: MIT
/* Linux bzImage through the 64-bit boot protocol: boot_params, e820, initrd. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "bytes.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the bzImage loader assumes a little-endian host");

/*
 * Section numbers below are those of Documentation/arch/x86/boot.rst
 * ("The Linux/x86 Boot Protocol") and zero-page.rst.
 *
 * What splitvm does with a bzImage:
 *  - It needs protocol 2.12 (Linux 3.8) or later, for xloadflags, and
 *    XLF_KERNEL_64: the kernel is entered at its 64-bit entry point
 *    ("64-bit Boot Protocol"); the real-mode setup code never runs.
 *  - The protected-mode kernel (the file after the setup sectors) goes
 *    to pref_address, where it also runs, so [pref_address, + init_size)
 *    must be free RAM: loading a relocatable kernel lower would not help,
 *    it would still run from pref_address ("init_size"). A relocatable
 *    kernel is moved up, past any range the VM reserved there.
 *    XLF_CAN_BE_LOADED_ABOVE_4G is not used for the kernel: the page
 *    tables in place at entry map the low 4 GiB only.
 *  - boot_params sits at BOOT_PARAMS_ADDR, the command line at
 *    BOOT_INFO_ADDR, the initrd (all modules, concatenated) page-aligned
 *    as high as it can go below initrd_addr_max and the MMIO hole, above
 *    the kernel's init_size; above 4 GiB when it does not fit there and
 *    the kernel sets XLF_CAN_BE_LOADED_ABOVE_4G.
 *  - The GDT in place has CS = 0x18 and DS = 0x10 rather than the
 *    __BOOT_CS 0x10 / __BOOT_DS 0x18 the 64-bit protocol names: the
 *    decompressor's startup_64 loads null data selectors and its own
 *    GDT before it relies on either (as under Firecracker, whose
 *    selectors differ too).
 */

/*
 * "The Real-Mode Kernel Header": offsets in the file, and in boot_params
 * too, where the header sits at the same place.
 */
enum {
	HDR_START = 0x1f1, /* setup_sects, the first field */
	HDR_SYSSIZE = 0x1f4,
	HDR_BOOT_FLAG = 0x1fe,
	HDR_JUMP = 0x200,
	HDR_MAGIC = 0x202,
	HDR_VERSION = 0x206,
	HDR_TYPE_OF_LOADER = 0x210,
	HDR_LOADFLAGS = 0x211,
	HDR_CODE32_START = 0x214,
	HDR_RAMDISK_IMAGE = 0x218,
	HDR_RAMDISK_SIZE = 0x21c,
	HDR_CMD_LINE_PTR = 0x228,
	HDR_INITRD_ADDR_MAX = 0x22c,
	HDR_KERNEL_ALIGNMENT = 0x230,
	HDR_RELOCATABLE = 0x234,
	HDR_XLOADFLAGS = 0x236,
	HDR_CMDLINE_SIZE = 0x238,
	HDR_SETUP_DATA = 0x250,
	HDR_PREF_ADDRESS = 0x258,
	HDR_INIT_SIZE = 0x260,
	HDR_END_2_12 = 0x268, /* after handover_offset, the last 2.12 field */
	HDR_END_MAX = 0x290,  /* edd_mbr_sig_buffer follows in boot_params */
};

/* zero-page.rst: the fields a boot loader fills in besides the header. */
enum {
	ZP_ACPI_RSDP = 0x070,
	ZP_EXT_RAMDISK_IMAGE = 0x0c0,
	ZP_EXT_RAMDISK_SIZE = 0x0c4,
	ZP_EXT_CMD_LINE_PTR = 0x0c8,
	ZP_E820_ENTRIES = 0x1e8,
	ZP_E820_TABLE = 0x2d0,
	ZP_E820_MAX = 128,
	ZP_E820_ENTRY_SIZE = 20, /* addr, size (u64), type (u32), packed */
	ZP_SIZE = 0x1000,
};

_Static_assert(BOOT_MEMMAP_MAX <= ZP_E820_MAX,
	       "the memory map must fit the zero page's e820 table");
_Static_assert(BOOT_PARAMS_ADDR + ZP_SIZE <= BOOT_GDT_ADDR,
	       "boot_params must stay below the boot area");

#define BZ_BOOT_FLAG 0xaa55
#define BZ_MAGIC "HdrS"
#define BZ_MIN_VERSION 0x020c
#define BZ_JUMP_OPCODE 0xeb /* a short jmp, over the header */
#define BZ_SECTOR 512
#define BZ_DEFAULT_SETUP_SECTS 4 /* "setup_sects": 0 means 4 */

/* "loadflags" and "xloadflags". */
#define LF_LOADED_HIGH (1u << 0)
#define LF_QUIET (1u << 5)
#define XLF_KERNEL_64 (1u << 0)
#define XLF_CAN_BE_LOADED_ABOVE_4G (1u << 1)

/* "type_of_loader": 0xff, a loader with no assigned ID. */
#define BZ_LOADER_UNDEFINED 0xff
/* "64-bit Boot Protocol": the entry is the kernel's start plus 0x200. */
#define BZ_ENTRY64_OFFSET 0x200
/* "Loading The Rest of The Kernel": a bzImage's classic address. */
#define BZ_DEFAULT_LOAD 0x100000ull

#define PAGE 0x1000ull
#define MiB 0x100000ull
#define INITRD_PIECE_ALIGN 4 /* concatenated cpio archives, as GRUB does */
#define INFO_SIZE ((uint64_t)(BOOT_INFO_END - BOOT_INFO_ADDR))

/* The header fields the loader uses, read and checked. */
struct bzimage {
	const uint8_t *img;
	size_t size;
	uint16_t version;
	size_t hdr_end; /* 0x202 + the jump's offset */
	uint64_t setup_size;
	uint8_t loadflags;
	uint16_t xloadflags;
	bool relocatable;
	uint32_t kernel_alignment, initrd_addr_max, cmdline_size, init_size;
	uint64_t pref_address;
	uint64_t payload_size; /* the protected-mode kernel */
};

/* Where everything goes. */
struct bz_layout {
	uint64_t load;	      /* the protected-mode kernel */
	uint64_t kernel_end;  /* load + init_size (or the payload, if more) */
	uint64_t cmdline_len; /* with its NUL */
	uint64_t initrd, initrd_size;
};

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

bool bzimage_detect(const uint8_t *img, size_t size)
{
	/* "HdrS" (protocol 2.00+) claims it; an ELF never is a bzImage. */
	return img && size >= HDR_MAGIC + 4 && !elf_detect(img, size) &&
	       memcmp(img + HDR_MAGIC, BZ_MAGIC, 4) == 0;
}

/* "Details of Header Fields" for the fields splitvm depends on. */
static int check_version(struct bzimage *bz, const struct logger *lg)
{
	if (get16(bz->img + HDR_BOOT_FLAG) != BZ_BOOT_FLAG) {
		log_error(lg,
			  "kernel: Linux setup header has boot_flag 0x%04x "
			  "at 0x1fe, expected 0xaa55",
			  get16(bz->img + HDR_BOOT_FLAG));
		return -ENOEXEC;
	}
	if (bz->size < HDR_VERSION + 2) {
		log_error(lg,
			  "kernel: truncated Linux setup header (%zu bytes, "
			  "the protocol version is at 0x206)",
			  bz->size);
		return -ENOEXEC;
	}
	bz->version = get16(bz->img + HDR_VERSION);
	if (bz->version < BZ_MIN_VERSION) {
		log_error(lg,
			  "kernel: Linux boot protocol %u.%02u is too old: "
			  "splitvm boots bzImages through the 64-bit entry, "
			  "which needs protocol 2.12 (Linux 3.8) or later",
			  bz->version >> 8, bz->version & 0xff);
		return -ENOEXEC;
	}
	if (bz->size < HDR_END_2_12) {
		log_error(lg,
			  "kernel: truncated Linux setup header (%zu bytes, "
			  "a protocol 2.12 header ends at 0x%x)",
			  bz->size, HDR_END_2_12);
		return -ENOEXEC;
	}
	/* "64-bit Boot Protocol": the header ends at 0x202 + byte 0x201. */
	bz->hdr_end = HDR_MAGIC + (size_t)bz->img[HDR_JUMP + 1];
	if (bz->img[HDR_JUMP] != BZ_JUMP_OPCODE || bz->hdr_end < HDR_END_2_12 ||
	    bz->hdr_end > HDR_END_MAX) {
		log_error(lg,
			  "kernel: Linux setup header: the jump at 0x200 "
			  "(%02x %02x) does not end the header between 0x%x "
			  "and 0x%x",
			  bz->img[HDR_JUMP], bz->img[HDR_JUMP + 1],
			  HDR_END_2_12, HDR_END_MAX);
		return -ENOEXEC;
	}
	return 0;
}

/* "Loading The Rest of The Kernel": the setup sectors, then the kernel. */
static int check_payload(struct bzimage *bz, const struct logger *lg)
{
	unsigned int sects = bz->img[HDR_START];
	uint64_t syssize = get32(bz->img + HDR_SYSSIZE);

	if (sects == 0)
		sects = BZ_DEFAULT_SETUP_SECTS;
	bz->setup_size = (uint64_t)(sects + 1) * BZ_SECTOR;
	if (bz->setup_size >= bz->size) {
		log_error(lg,
			  "kernel: Linux setup_sects %u puts the protected-"
			  "mode kernel at offset 0x%" PRIx64 ", past the end "
			  "of the file (%zu bytes)",
			  sects, bz->setup_size, bz->size);
		return -ENOEXEC;
	}
	bz->payload_size = bz->size - bz->setup_size;
	if (bz->payload_size <= BZ_ENTRY64_OFFSET) {
		log_error(lg,
			  "kernel: the Linux protected-mode kernel is only "
			  "%" PRIu64 " bytes; its 64-bit entry point at +0x%x "
			  "lies past its end",
			  bz->payload_size, BZ_ENTRY64_OFFSET);
		return -ENOEXEC;
	}
	/* syssize (2.04+) counts 16-byte units: a short file was cut off. */
	if (syssize * 16 > bz->payload_size + 15) {
		log_error(lg,
			  "kernel: truncated bzImage: syssize says the "
			  "protected-mode kernel is 0x%" PRIx64 " bytes, the "
			  "file holds 0x%" PRIx64 " after the setup sectors",
			  syssize * 16, bz->payload_size);
		return -ENOEXEC;
	}
	return 0;
}

static int check_flags(struct bzimage *bz, const struct logger *lg)
{
	const uint8_t *h = bz->img;

	bz->loadflags = h[HDR_LOADFLAGS];
	bz->xloadflags = get16(h + HDR_XLOADFLAGS);
	bz->relocatable = h[HDR_RELOCATABLE] != 0;
	bz->kernel_alignment = get32(h + HDR_KERNEL_ALIGNMENT);
	bz->initrd_addr_max = get32(h + HDR_INITRD_ADDR_MAX);
	bz->cmdline_size = get32(h + HDR_CMDLINE_SIZE);
	bz->pref_address = get64(h + HDR_PREF_ADDRESS);
	bz->init_size = get32(h + HDR_INIT_SIZE);
	if (!(bz->loadflags & LF_LOADED_HIGH)) {
		log_error(lg,
			  "kernel: Linux loadflags 0x%02x lack LOADED_HIGH: "
			  "a zImage, loaded at 0x10000, which splitvm does "
			  "not boot",
			  bz->loadflags);
		return -ENOEXEC;
	}
	if (!(bz->xloadflags & XLF_KERNEL_64)) {
		log_error(lg,
			  "kernel: Linux xloadflags 0x%04x lack "
			  "XLF_KERNEL_64: the kernel has no 64-bit entry "
			  "point (a 32-bit kernel?)",
			  bz->xloadflags);
		return -ENOEXEC;
	}
	if (bz->relocatable && !is_pow2(bz->kernel_alignment)) {
		log_error(lg,
			  "kernel: Linux kernel_alignment 0x%x of a "
			  "relocatable kernel is not a power of two",
			  bz->kernel_alignment);
		return -ENOEXEC;
	}
	return 0;
}

static int parse_header(struct bzimage *bz, const struct logger *lg)
{
	int ret;

	if (!bzimage_detect(bz->img, bz->size)) {
		log_error(lg, "kernel: not a Linux bzImage (no \"HdrS\" at "
			      "0x202)");
		return -ENOEXEC;
	}
	ret = check_version(bz, lg);
	if (!ret)
		ret = check_payload(bz, lg);
	if (!ret)
		ret = check_flags(bz, lg);
	return ret;
}

/* Memory the kernel needs from its start ("init_size"). */
static uint64_t kernel_need(const struct bzimage *bz)
{
	return bz->init_size > bz->payload_size ? bz->init_size
						: bz->payload_size;
}

/*
 * "pref_address", "relocatable_kernel", "init_size": the kernel runs
 * from runtime_start = align_up(max(load address, pref_address),
 * kernel_alignment) if relocatable, else from pref_address. Loading it
 * at runtime_start itself keeps one range, [load, load + init_size), to
 * leave alone.
 */
static int place_kernel(const struct guest_mem *mem,
			const struct boot_input *in, const struct bzimage *bz,
			struct bz_layout *lay, const struct logger *lg)
{
	uint64_t need = kernel_need(bz), addr;
	const struct boot_mem_range *r;
	unsigned int i;
	char what[96];
	int ret;

	addr = bz->pref_address ? bz->pref_address : BZ_DEFAULT_LOAD;
	if (bz->relocatable) {
		addr = align_up(addr > MiB ? addr : MiB, bz->kernel_alignment);
		/* Each reserved range can push it up once. */
		for (i = 0; i < BOOT_MAX_RESERVED; i++) {
			r = boot_reserved_overlap(in, addr, need);
			if (!r)
				break;
			addr = align_up(r->addr + r->size,
					bz->kernel_alignment);
		}
	} else if (addr < MiB) {
		log_error(lg,
			  "kernel: non-relocatable Linux kernel wants "
			  "pref_address 0x%" PRIx64 ", below 1 MiB",
			  addr);
		return -ENOEXEC;
	}
	snprintf(what, sizeof(what),
		 "kernel: Linux kernel (0x%" PRIx64 " bytes with init_size)",
		 need);
	ret = boot_check_range(mem, addr, need, what, lg);
	if (ret)
		return ret;
	if (addr >= GUEST_HIGH_RAM_START) {
		log_error(lg,
			  "%s: 0x%" PRIx64 " is above 4 GiB, outside the "
			  "identity map in place at entry",
			  what, addr);
		return -ENOEXEC;
	}
	r = boot_reserved_overlap(in, addr, need);
	if (r) {
		log_error(lg,
			  "%s: [0x%" PRIx64 ", 0x%" PRIx64 ") overlaps the "
			  "VM's reserved range [0x%" PRIx64 ", 0x%" PRIx64 ")",
			  what, addr, addr + need, r->addr, r->addr + r->size);
		return -EFBIG;
	}
	lay->load = addr;
	lay->kernel_end = addr + need;
	return 0;
}

/* "cmd_line_ptr", "cmdline_size": at most cmdline_size bytes plus NUL. */
static int place_cmdline(const struct boot_input *in, const struct bzimage *bz,
			 struct bz_layout *lay, const struct logger *lg)
{
	size_t len = in->cmdline ? strlen(in->cmdline) : 0;

	if (len > bz->cmdline_size) {
		log_error(lg,
			  "kernel command line is %zu bytes; this Linux "
			  "kernel takes at most %u (cmdline_size)",
			  len, bz->cmdline_size);
		return -EINVAL;
	}
	if (len >= INFO_SIZE) {
		log_error(lg,
			  "kernel command line is %zu bytes; the boot "
			  "information area holds %" PRIu64,
			  len, INFO_SIZE - 1);
		return -EINVAL;
	}
	lay->cmdline_len = len + 1;
	return 0;
}

/* All modules, each padded to 4 bytes, make one initrd. */
static int initrd_size(const struct boot_input *in, uint64_t *ret_size,
		       const struct logger *lg)
{
	uint64_t total = 0, size;
	unsigned int i;

	if (in->nr_modules && !in->modules) {
		log_error(lg, "%u modules but no module array", in->nr_modules);
		return -EINVAL;
	}
	for (i = 0; i < in->nr_modules; i++) {
		size = in->modules[i].size;
		if (!in->modules[i].data && size) {
			log_error(lg, "module %u (%s): no data", i,
				  in->modules[i].name ? in->modules[i].name
						      : "");
			return -EINVAL;
		}
		total = align_up(total, INITRD_PIECE_ALIGN);
		if (size > UINT64_MAX - total) {
			log_error(lg, "modules too large for an initrd");
			return -EFBIG;
		}
		total += size;
	}
	*ret_size = total;
	return 0;
}

/*
 * The highest page-aligned start for size bytes in [floor, top) that
 * overlaps no reserved range; 0 if none. Each reserved range can push
 * top down once, so the loop ends.
 */
static uint64_t place_down(const struct boot_input *in, uint64_t floor,
			   uint64_t top, uint64_t size)
{
	const struct boot_mem_range *r;
	uint64_t addr;
	unsigned int i;

	for (i = 0; i <= BOOT_MAX_RESERVED + 1; i++) {
		if (top < floor || top - floor < size)
			return 0;
		addr = (top - size) & ~(PAGE - 1);
		if (addr < floor)
			return 0;
		r = boot_reserved_overlap(in, addr, size);
		if (!r)
			return addr;
		top = r->addr;
	}
	return 0;
}

/*
 * "initrd_addr_max": the initrd's last byte may be at most there; it
 * also stays above the kernel's init_size ("ramdisk_image"), and goes
 * above 4 GiB only for a kernel that allows it (XLF_CAN_BE_LOADED_ABOVE_4G).
 */
static int place_initrd(const struct guest_mem *mem,
			const struct boot_input *in, const struct bzimage *bz,
			struct bz_layout *lay, const struct logger *lg)
{
	uint64_t low = guest_mem_low_end(mem);
	uint64_t high = mem->size - mem->low_size;
	uint64_t limit = (uint64_t)bz->initrd_addr_max + 1;
	uint64_t size;
	int ret;

	ret = initrd_size(in, &size, lg);
	if (ret || size == 0)
		return ret;
	if (limit > low)
		limit = low;
	lay->initrd = place_down(in, lay->kernel_end, limit, size);
	if (!lay->initrd && high &&
	    (bz->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G))
		lay->initrd = place_down(in, GUEST_HIGH_RAM_START,
					 GUEST_HIGH_RAM_START + high, size);
	if (lay->initrd) {
		lay->initrd_size = size;
		return 0;
	}
	if ((uint64_t)bz->initrd_addr_max + 1 <= lay->kernel_end) {
		log_error(lg,
			  "initrd: Linux initrd_addr_max 0x%x is below the "
			  "end of the kernel's memory (0x%" PRIx64 ")",
			  bz->initrd_addr_max, lay->kernel_end);
		return -ENOEXEC;
	}
	log_error(lg,
		  "initrd (%" PRIu64 " bytes) does not fit in guest RAM "
		  "between the kernel's end (0x%" PRIx64 ") and 0x%" PRIx64
		  " (initrd_addr_max 0x%x, RAM below the MMIO hole ends at "
		  "0x%" PRIx64 ")%s",
		  size, lay->kernel_end, limit, bz->initrd_addr_max, low,
		  (bz->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G)
			  ? ", nor above 4 GiB"
			  : "");
	return -EFBIG;
}

static void copy_initrd(const struct guest_mem *mem,
			const struct boot_input *in,
			const struct bz_layout *lay)
{
	uint8_t *dst = guest_mem_ptr(mem, lay->initrd, lay->initrd_size);
	uint64_t off = 0, pad;
	unsigned int i;

	for (i = 0; i < in->nr_modules; i++) {
		pad = align_up(off, INITRD_PIECE_ALIGN) - off;
		memset(dst + off, 0, pad);
		off += pad;
		if (in->modules[i].size)
			memcpy(dst + off, in->modules[i].data,
			       in->modules[i].size);
		off += in->modules[i].size;
	}
}

/* zero-page.rst "e820_entries", "e820_table". */
static void write_e820(const struct guest_mem *mem, const struct boot_input *in,
		       uint8_t *zp)
{
	struct boot_mem_range map[BOOT_MEMMAP_MAX];
	unsigned int i, n = boot_memmap(mem, in, map);
	uint8_t *e;

	for (i = 0; i < n; i++) {
		e = zp + ZP_E820_TABLE + i * ZP_E820_ENTRY_SIZE;
		put64(e, map[i].addr);
		put64(e + 8, map[i].size);
		put32(e + 16, map[i].type);
	}
	zp[ZP_E820_ENTRIES] = n;
}

/*
 * "64-bit Boot Protocol": a zeroed boot_params with the image's setup
 * header copied in, then the fields a loader writes ("Details of Header
 * Fields", the "write" ones, and zero-page.rst).
 */
static void write_boot_params(const struct guest_mem *mem,
			      const struct boot_input *in,
			      const struct bzimage *bz,
			      const struct bz_layout *lay)
{
	uint8_t *zp = guest_mem_ptr(mem, BOOT_PARAMS_ADDR, ZP_SIZE);

	memset(zp, 0, ZP_SIZE);
	memcpy(zp + HDR_START, bz->img + HDR_START, bz->hdr_end - HDR_START);
	zp[HDR_TYPE_OF_LOADER] = BZ_LOADER_UNDEFINED;
	/*
	 * CAN_USE_HEAP and heap_end_ptr describe the real-mode setup code's
	 * heap, and that code does not run; the kernel's own KASLR flag is
	 * its to set.
	 */
	zp[HDR_LOADFLAGS] = LF_LOADED_HIGH | (bz->loadflags & LF_QUIET);
	put32(zp + HDR_CODE32_START, lay->load);
	put32(zp + HDR_CMD_LINE_PTR, BOOT_INFO_ADDR);
	put32(zp + ZP_EXT_CMD_LINE_PTR, BOOT_INFO_ADDR >> 32);
	put32(zp + HDR_RAMDISK_IMAGE, lay->initrd);
	put32(zp + HDR_RAMDISK_SIZE, lay->initrd_size);
	put32(zp + ZP_EXT_RAMDISK_IMAGE, lay->initrd >> 32);
	put32(zp + ZP_EXT_RAMDISK_SIZE, lay->initrd_size >> 32);
	/* A pointer the kernel would follow: never the image's. */
	put64(zp + HDR_SETUP_DATA, 0);
	/* "ALL" in zero-page.rst: older kernels ignore the field. */
	put64(zp + ZP_ACPI_RSDP, in->acpi_rsdp);
	write_e820(mem, in, zp);
}

int bzimage_load(const struct guest_mem *mem, const struct boot_input *in,
		 struct boot_plan *plan, const struct logger *lg)
{
	struct bzimage bz = { .img = in->kernel, .size = in->kernel_size };
	struct bz_layout lay = { 0 };
	char *cmdline;
	int ret;

	ret = boot_check_reserved(in, lg);
	if (!ret)
		ret = parse_header(&bz, lg);
	if (!ret)
		ret = place_kernel(mem, in, &bz, &lay, lg);
	if (!ret)
		ret = place_cmdline(in, &bz, &lay, lg);
	if (!ret)
		ret = place_initrd(mem, in, &bz, &lay, lg);
	if (ret)
		return ret;
	cmdline = guest_mem_ptr(mem, BOOT_INFO_ADDR, lay.cmdline_len);
	if (!cmdline || !guest_mem_ptr(mem, BOOT_PARAMS_ADDR, ZP_SIZE)) {
		log_error(lg, "guest RAM is too small for the Linux boot "
			      "parameters and command line");
		return -EFBIG;
	}
	memcpy(guest_mem_ptr(mem, lay.load, bz.payload_size),
	       bz.img + bz.setup_size, bz.payload_size);
	if (lay.initrd_size)
		copy_initrd(mem, in, &lay);
	memcpy(cmdline, in->cmdline ? in->cmdline : "", lay.cmdline_len);
	write_boot_params(mem, in, &bz, &lay);
	log_debug(lg,
		  "kernel: Linux bzImage, protocol %u.%02u, at 0x%" PRIx64
		  " (init_size 0x%x), initrd at 0x%" PRIx64 " (%" PRIu64
		  " bytes)",
		  bz.version >> 8, bz.version & 0xff, lay.load, bz.init_size,
		  lay.initrd, lay.initrd_size);

	memset(plan, 0, sizeof(*plan));
	plan->protocol = "bzimage";
	plan->mode = BOOT_MODE_LONG64;
	plan->entry = lay.load + BZ_ENTRY64_OFFSET;
	plan->rsi = BOOT_PARAMS_ADDR;
	/* Not part of the protocol; a valid stack is kinder than none. */
	plan->rsp = BOOT_STACK_TOP;
	plan->image_end = lay.kernel_end;
	if (lay.initrd + lay.initrd_size > plan->image_end)
		plan->image_end = lay.initrd + lay.initrd_size;
	return 0;
}
