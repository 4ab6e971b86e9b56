// SPDX-License-Identifier: MIT
/* Multiboot v1 loader: ELF and a.out kludge images, boot info, modules. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "acpi.h"
#include "boot_run.h"
#include "elf_image.h"
#include "mptable.h"
#include "rng.h"

/* A string the boot information points to: inside the boot info area. */
static const char *str_at(const struct guest_mem *m, uint64_t addr)
{
	ck_assert_uint_ge(addr, BOOT_INFO_ADDR);
	ck_assert_uint_lt(addr, BOOT_INFO_END);
	return (const char *)gpa(m, addr);
}

/* ------------------------------------------------------------------ */
/* Images: an ELF (32 or 64) whose first segment starts with a         */
/* multiboot header, or a raw a.out-kludge image.                      */

#define SEG0_OFF ELF_DATA_START /* file offset of segment 0: the header */

/* The multiboot header with the a.out address fields (flag 16). */
static void mb_aout(struct timage *t, size_t off, uint32_t header_addr,
		    uint32_t load_addr, uint32_t load_end, uint32_t bss_end,
		    uint32_t entry)
{
	mb_header(t->buf + off, MB_AOUT);
	put32(t->buf + off + 12, header_addr);
	put32(t->buf + off + 16, load_addr);
	put32(t->buf + off + 20, load_end);
	put32(t->buf + off + 24, bss_end);
	put32(t->buf + off + 28, entry);
}

/*
 * Two PT_LOADs: 0x1000 bytes of 0xc3 at seg0 (header first), then 0x100
 * bytes of 0xd4 at seg1 with bss up to 0x2000.
 */
static void build_elf(struct timage *t, bool is64, uint64_t seg0, uint64_t seg1,
		      uint64_t entry)
{
	const struct tseg segs[] = {
		{PT_LOAD, seg0, seg0, 0x1000, 0x1000, 0xc3},
		{PT_LOAD, seg1, seg1, 0x100, 0x2000, 0xd4},
	};

	build_elf_image(t, is64, elf_x86_machine(is64), segs, 2, entry);
}

/* The standard multiboot ELF32 kernel: 1 MiB and 2 MiB, entry 1 MiB+0x40. */
static void build_mb_elf(struct timage *t, bool is64)
{
	build_elf(t, is64, 0x100000, 0x200000, 0x100040);
	mb_header(t->buf + SEG0_OFF, 0x3); /* page-align + memory info */
}

/*
 * The standard a.out image: 0x2000 bytes with byte i = i & 0xff, header
 * at 0x40, loaded at 1 MiB, whole file, bss up to 1 MiB + 0x4000.
 */
static void build_aout(struct timage *t, uint32_t load_end, uint32_t bss_end)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->size = 0x2000;
	for (i = 0; i < t->size; i++)
		t->buf[i] = i & 0xff;
	mb_aout(t, 0x40, 0x100040, 0x100000, load_end, bss_end, 0x100080);
}

/* Prepares multiboot_load of t into ram bytes (see run_init()). */
static void mb_run_init(struct run *r, const struct timage *t, uint64_t ram)
{
	run_init(r, multiboot_load, t->buf, t->size, ram);
}

/* The standard kernel of one class loads into ram bytes of RAM. */
static void mb_load_std(struct run *r, struct timage *t, bool is64,
			uint64_t ram)
{
	build_mb_elf(t, is64);
	mb_run_init(r, t, ram);
	ck_assert_int_eq(run_load(r), 0);
}

/* Loads t in 16 MiB and expects a failure naming substr. */
static void expect_fail(const struct timage *t, int want, const char *substr)
{
	run_expect_fail(multiboot_load, t->buf, t->size, want, substr);
}

/* The boot information (Multiboot 0.6.96 3.3), as a kernel declares it. */
struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr, syms[4];
	uint32_t mmap_length, mmap_addr, drives_length, drives_addr;
	uint32_t config_table, boot_loader_name, apm_table;
	uint32_t vbe_control_info, vbe_mode_info;
	uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off;
	uint16_t vbe_interface_len;
};
_Static_assert(sizeof(struct mb_info) == 88, "Multiboot 3.3: 88 bytes");

#define MBI(field) offsetof(struct mb_info, field)

/* ------------------------------------------------------------------ */
/* Detection and loading                                               */

START_TEST(multiboot_detect_header)
{
	struct timage t;

	build_mb_elf(&t, false);
	ck_assert(multiboot_detect(t.buf, t.size));
	ck_assert(!multiboot_detect(t.buf, SEG0_OFF + 11)); /* cut short */
	ck_assert(!multiboot_detect(NULL, 100));
	build_elf(&t, false, 0x100000, 0x200000, 0x100040);
	ck_assert(!multiboot_detect(t.buf, t.size));
	/* A bad checksum still claims the image, for a clear error. */
	put32(t.buf + 0x100, MB_MAGIC);
	ck_assert(multiboot_detect(t.buf, t.size));
}
END_TEST

START_TEST(multiboot_elf32_plan_and_segments)
{
	struct timage t;
	struct run r;

	mb_load_std(&r, &t, false, 16 * MiB);
	ck_assert_uint_eq(r.cap.errors, 0);
	ck_assert_str_eq(r.plan.protocol, "multiboot");
	ck_assert_int_eq(r.plan.mode, BOOT_MODE_PROTECTED32);
	ck_assert_uint_eq(r.plan.entry, 0x100040);
	ck_assert_uint_eq(r.plan.rax, 0x2BADB002);
	ck_assert_uint_eq(r.plan.rbx, BOOT_INFO_ADDR);
	ck_assert_uint_eq(r.plan.image_end, 0x202000);
	ck_assert_uint_eq(rd32(&r.m, 0x100000), MB_MAGIC);
	ck_assert(all_bytes(gpa(&r.m, 0x100000 + 12), 0x1000 - 12, 0xc3));
	ck_assert(all_bytes(gpa(&r.m, 0x200000), 0x100, 0xd4));
	ck_assert(all_bytes(gpa(&r.m, 0x200100), 0x1f00, 0));
	ram_free(&r.m);
}
END_TEST

/* GRUB loads ELF64 multiboot kernels; so does splitvm (QEMU does not). */
START_TEST(multiboot_elf64_accepted)
{
	struct timage t;
	struct run r;

	mb_load_std(&r, &t, true, 16 * MiB);
	ck_assert_uint_eq(r.plan.entry, 0x100040);
	ck_assert(all_bytes(gpa(&r.m, 0x200000), 0x100, 0xd4));
	ram_free(&r.m);
}
END_TEST

START_TEST(multiboot_info_fields)
{
	struct timage t;
	struct run r;
	uint64_t info;

	build_mb_elf(&t, false);
	mb_run_init(&r, &t, 16 * MiB);
	r.in.cmdline = "console=ttyS0 quiet";
	ck_assert_int_eq(run_load(&r), 0);
	info = r.plan.rbx;
	/* mem (0), cmdline (2), mods (3), mmap (6), loader name (9). */
	ck_assert_uint_eq(rd32(&r.m, info + MBI(flags)), 0x24d);
	ck_assert_uint_eq(rd32(&r.m, info + MBI(mem_lower)), 639);
	ck_assert_uint_eq(rd32(&r.m, info + MBI(mem_upper)), 15 * 1024);
	ck_assert_str_eq(str_at(&r.m, rd32(&r.m, info + MBI(cmdline))),
			 "kernel.elf console=ttyS0 quiet");
	ck_assert_str_eq(str_at(&r.m, rd32(&r.m, info + MBI(boot_loader_name))),
			 "splitvm");
	ck_assert_uint_eq(rd32(&r.m, info + MBI(mods_count)), 0);
	/* Unset fields stay zero: boot_device, syms, drives, VBE. */
	ck_assert_uint_eq(rd32(&r.m, info + MBI(boot_device)), 0);
	ck_assert_uint_eq(rd32(&r.m, info + MBI(syms)), 0);
	ck_assert_uint_eq(rd32(&r.m, info + MBI(vbe_control_info)), 0);
	ram_free(&r.m);
}
END_TEST

START_TEST(multiboot_cmdline_is_kernel_name_alone)
{
	struct timage t;
	struct run r;

	mb_load_std(&r, &t, false, 16 * MiB);
	ck_assert_str_eq(str_at(&r.m, rd32(&r.m, r.plan.rbx + MBI(cmdline))),
			 "kernel.elf");
	r.in.kernel_name = NULL;
	r.in.cmdline = "a=1";
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_str_eq(str_at(&r.m, rd32(&r.m, r.plan.rbx + MBI(cmdline))),
			 "a=1");
	ram_free(&r.m);
}
END_TEST

static void assert_mmap_entry(const struct guest_mem *m, uint64_t e,
			      uint64_t base, uint64_t len, uint32_t type)
{
	ck_assert_uint_eq(rd32(m, e), 20);
	ck_assert_uint_eq(rd64(m, e + 4), base);
	ck_assert_uint_eq(rd64(m, e + 12), len);
	ck_assert_uint_eq(rd32(m, e + 20), type);
}

START_TEST(multiboot_mmap_low_ram)
{
	struct timage t;
	struct run r;
	uint64_t map;

	mb_load_std(&r, &t, false, 16 * MiB);
	map = rd32(&r.m, r.plan.rbx + MBI(mmap_addr));
	ck_assert_uint_eq(rd32(&r.m, r.plan.rbx + MBI(mmap_length)), 3 * 24);
	assert_mmap_entry(&r.m, map, 0, 0x9fc00, 1);
	assert_mmap_entry(&r.m, map + 24, 0x9fc00, 0x100000 - 0x9fc00, 2);
	assert_mmap_entry(&r.m, map + 48, 0x100000, 15 * MiB, 1);
	ram_free(&r.m);
}
END_TEST

START_TEST(multiboot_mmap_high_ram)
{
	struct timage t;
	struct run r;
	uint64_t map, info;

	mb_load_std(&r, &t, false, GUEST_MMIO_HOLE_START + 64 * MiB);
	info = r.plan.rbx;
	map = rd32(&r.m, info + MBI(mmap_addr));
	ck_assert_uint_eq(rd32(&r.m, info + MBI(mmap_length)), 4 * 24);
	ck_assert_uint_eq(rd32(&r.m, info + MBI(mem_upper)),
			  (GUEST_MMIO_HOLE_START - MiB) >> 10);
	assert_mmap_entry(&r.m, map + 48, 0x100000, GUEST_MMIO_HOLE_START - MiB,
			  1);
	assert_mmap_entry(&r.m, map + 72, 0x100000000ull, 64 * MiB, 1);
	ram_free(&r.m);
}
END_TEST

START_TEST(multiboot_modules_placed)
{
	static uint8_t m0[5000], m2[123];
	const struct boot_module mods[] = {
	    {m0, sizeof(m0), "initrd.img"},
	    {NULL, 0, NULL},
	    {m2, sizeof(m2), "mod2 arg=1"},
	};
	const char *names[] = {"initrd.img", "", "mod2 arg=1"};
	uint64_t list, prev_end, start, end;
	struct timage t;
	struct run r;
	unsigned int i;

	memset(m0, 0x11, sizeof(m0));
	memset(m2, 0x33, sizeof(m2));
	build_mb_elf(&t, false);
	mb_run_init(&r, &t, 16 * MiB);
	r.in.modules = mods;
	r.in.nr_modules = 3;
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(rd32(&r.m, r.plan.rbx + MBI(mods_count)), 3);
	list = rd32(&r.m, r.plan.rbx + MBI(mods_addr));
	ck_assert_uint_ge(list, BOOT_INFO_ADDR);
	ck_assert_uint_le(list + 3 * 16, BOOT_INFO_END);
	prev_end = 0x202000; /* the kernel's end */
	for (i = 0; i < 3; i++) {
		start = rd32(&r.m, list + 16 * i);
		end = rd32(&r.m, list + 16 * i + 4);
		ck_assert_uint_eq(start % 4096, 0);
		ck_assert_uint_ge(start, prev_end);
		ck_assert_uint_eq(end - start, mods[i].size);
		ck_assert_str_eq(str_at(&r.m, rd32(&r.m, list + 16 * i + 8)),
				 names[i]);
		ck_assert_uint_eq(rd32(&r.m, list + 16 * i + 12), 0);
		if (mods[i].size)
			ck_assert_mem_eq(gpa(&r.m, start), mods[i].data,
					 mods[i].size);
		prev_end = end;
	}
	ck_assert_uint_eq(rd32(&r.m, list), 0x202000);
	ck_assert_uint_eq(r.plan.image_end, prev_end);
	ram_free(&r.m);
}
END_TEST

/* A kernel loaded low still gets its modules at 1 MiB or above. */
START_TEST(multiboot_modules_above_1m)
{
	static const uint8_t data[] = "module";
	const struct boot_module mod = {data, sizeof(data), "m"};
	struct timage t;
	struct run r;

	build_elf(&t, false, 0x10000, 0x20000, 0x10040);
	mb_header(t.buf + SEG0_OFF, 0);
	mb_run_init(&r, &t, 16 * MiB);
	r.in.modules = &mod;
	r.in.nr_modules = 1;
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(rd32(&r.m, rd32(&r.m, r.plan.rbx + MBI(mods_addr))),
			  0x100000);
	ck_assert_str_eq((const char *)gpa(&r.m, 0x100000), "module");
	ram_free(&r.m);
}
END_TEST

START_TEST(multiboot_aout_whole_file_and_bss)
{
	struct timage t;
	struct run r;
	size_t i;

	build_aout(&t, 0, 0x104000);
	mb_run_init(&r, &t, 16 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(r.plan.entry, 0x100080);
	ck_assert_uint_eq(r.plan.image_end, 0x104000);
	for (i = 0x80; i < t.size; i++)
		ck_assert_uint_eq(*gpa(&r.m, 0x100000 + i), i & 0xff);
	ck_assert(all_bytes(gpa(&r.m, 0x102000), 0x2000, 0));
	ck_assert_uint_eq(*gpa(&r.m, 0x104000), 0xaa);
	ram_free(&r.m);
}
END_TEST

/* load_addr below the file's start, load_end inside it, no bss. */
START_TEST(multiboot_aout_offset_and_load_end)
{
	struct timage t;
	struct run r;

	build_aout(&t, 0, 0);
	/* Load from file offset 0x20 (header 0x20 in) to 0x1020. */
	mb_aout(&t, 0x40, 0x200020, 0x200000, 0x201000, 0, 0x200100);
	mb_run_init(&r, &t, 16 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(*gpa(&r.m, 0x200000), 0x20);
	ck_assert_uint_eq(rd32(&r.m, 0x200020), MB_MAGIC);
	ck_assert_uint_eq(*gpa(&r.m, 0x200fff), (0x20 + 0xfff) & 0xff);
	ck_assert_uint_eq(*gpa(&r.m, 0x201000), 0xaa);
	ck_assert_uint_eq(r.plan.image_end, 0x201000);
	ram_free(&r.m);
}
END_TEST

/* Bit 2 (video mode) is ignored, as QEMU does; a bad header before
 * the good one is skipped. */
START_TEST(multiboot_video_flag_and_first_valid_header)
{
	struct timage t;
	struct run r;

	build_mb_elf(&t, false);
	mb_header(t.buf + SEG0_OFF, 0x7);
	put32(t.buf + 0x200, MB_MAGIC); /* bad checksum: skipped */
	mb_run_init(&r, &t, 16 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(r.cap.errors, 0);
	ram_free(&r.m);
}
END_TEST

/* The header may end exactly at byte 8192. */
START_TEST(multiboot_header_at_search_limit)
{
	struct timage t;
	struct run r;
	size_t i;

	/* Raw a.out image with the header's last byte at 8191. */
	memset(&t, 0, sizeof(t));
	t.size = 0x2200;
	for (i = 0; i < t.size; i++)
		t.buf[i] = i & 0xff;
	mb_aout(&t, 8192 - 32, 0x100000 + 8192 - 32, 0x100000, 0, 0, 0x100000);
	mb_run_init(&r, &t, 16 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(r.plan.image_end, 0x100000 + t.size);
	ram_free(&r.m);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Malformed images                                                    */

START_TEST(multiboot_rejects_bad_checksum)
{
	struct timage t;

	build_mb_elf(&t, false);
	put32(t.buf + SEG0_OFF + 8, 0x12345678);
	expect_fail(&t, -ENOEXEC,
		    "multiboot header at offset 0x400 has a "
		    "bad checksum");
}
END_TEST

START_TEST(multiboot_rejects_missing_header)
{
	struct timage t;

	build_elf(&t, false, 0x100000, 0x200000, 0x100040);
	expect_fail(&t, -ENOEXEC,
		    "no multiboot header (magic 0x1badb002) "
		    "in the first 8192 bytes");
}
END_TEST

START_TEST(multiboot_rejects_unknown_required_flags)
{
	struct timage t;

	build_mb_elf(&t, false);
	mb_header(t.buf + SEG0_OFF, 0x3 | (1u << 5));
	expect_fail(&t, -ENOEXEC, "(bits 0x0020)");
}
END_TEST

START_TEST(multiboot_rejects_non_elf_without_aout)
{
	struct timage t;

	build_aout(&t, 0, 0);
	mb_header(t.buf + 0x40, 0);
	expect_fail(&t, -ENOEXEC, "so the image must be ELF, and it is not");
}
END_TEST

START_TEST(multiboot_rejects_elf_errors)
{
	struct timage t;

	build_mb_elf(&t, false);
	ph32(&t, 1)->p_offset = 0x2000;
	expect_fail(&t, -ENOEXEC,
		    "ELF program header 1 extends past the end "
		    "of the file");
}
END_TEST

START_TEST(multiboot_rejects_elf64_above_4g)
{
	struct timage t;
	struct run r;

	build_elf(&t, true, 0x100000, 0x100000000ull, 0x100040);
	mb_header(t.buf + SEG0_OFF, 0);
	mb_run_init(&r, &t, GUEST_MMIO_HOLE_START + 64 * MiB);
	ck_assert_fails(run_load(&r), -ENOEXEC, r.cap, "above 4 GiB");
	ram_free(&r.m);
}
END_TEST

START_TEST(multiboot_rejects_aout_truncated_header)
{
	struct timage t;

	build_aout(&t, 0, 0);
	t.size = 0x40 + 20;
	expect_fail(&t, -ENOEXEC,
		    "multiboot header at offset 0x40 is "
		    "truncated: flag 16 needs the address fields");
}
END_TEST

START_TEST(multiboot_rejects_header_past_8k)
{
	struct timage t;
	struct run r;

	/* a.out fields past byte 8192: the header is not wholly inside. */
	memset(&t, 0, sizeof(t));
	t.size = 0x2100;
	mb_header(t.buf + 8180, MB_AOUT);
	mb_run_init(&r, &t, 16 * MiB);
	ck_assert_fails(run_load(&r), -ENOEXEC, r.cap,
			"with its address fields (flag 16) extends past the "
			"first 8192 bytes");
	/* Entirely past 8 KiB: not found at all. */
	memset(t.buf, 0, t.size);
	mb_header(t.buf + 8192, 0);
	ck_assert(!multiboot_detect(t.buf, t.size));
	ck_assert_fails(run_load(&r), -ENOEXEC, r.cap, "no multiboot header");
	ram_free(&r.m);
}
END_TEST

/* An a.out header the loader must refuse, and the error it logs. */
struct bad_aout {
	uint32_t header_addr, load_addr, load_end, bss_end, entry;
	int err;
	const char *says;
};

/* The standard a.out image with each header in turn fails as listed. */
static void expect_aout_fails(const struct bad_aout *cases, size_t n)
{
	struct timage t;

	build_aout(&t, 0, 0);
	for (size_t i = 0; i < n; i++) {
		const struct bad_aout *c = &cases[i];

		mb_aout(&t, 0x40, c->header_addr, c->load_addr, c->load_end,
			c->bss_end, c->entry);
		expect_fail(&t, c->err, c->says);
	}
}

START_TEST(multiboot_rejects_aout_inconsistent)
{
	static const struct bad_aout cases[] = {
		{0x100040, 0x100080, 0, 0, 0x100080, -ENOEXEC,
		 "load_addr 0x100080 is above header_addr 0x100040"},
		{0x100040, 0xf0000, 0, 0, 0x100080, -ENOEXEC,
		 "header_addr - load_addr = 0x10040, but the header is only "
		 "0x40 bytes into the file"},
		{0x100040, 0x100000, 0x100000, 0, 0x100080, -ENOEXEC,
		 "load_end_addr 0x100000 is not above load_addr"},
		{0x100040, 0x100000, 0x103000, 0, 0x100080, -ENOEXEC,
		 "load_end_addr 0x103000 is past the end of the file "
		 "(offset 0x0 + size 0x3000 > 0x2000)"},
		{0x100040, 0x100000, 0x101000, 0x100800, 0x100080, -ENOEXEC,
		 "bss_end_addr 0x100800 is below the end of the loaded image "
		 "(0x101000)"},
		{0x100040, 0x100000, 0, 0, 0x300000, -ENOEXEC,
		 "entry_addr 0x300000 is outside the loaded image"},
	};

	expect_aout_fails(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

START_TEST(multiboot_rejects_aout_outside_ram)
{
	static const struct bad_aout cases[] = {
		{0xfee00040, 0xfee00000, 0, 0, 0xfee00080, -ENOEXEC,
		 "multiboot a.out image: [0xfee00000, 0xfee02000) falls in the "
		 "MMIO hole"},
		{0x2000040, 0x2000000, 0, 0, 0x2000080, -EFBIG,
		 "is not in guest RAM ([0, 0x1000000))"},
		{0x100040, 0x100000, 0, 0x1100000, 0x100080, -EFBIG,
		 "[0x100000, 0x1100000) is not in guest RAM"},
		{0x100040, 0x100000, 0, 0xffffffff, 0x100080, -ENOEXEC,
		 "MMIO hole"},
		{0x90040, 0x90000, 0, 0, 0x90080, -ENOEXEC,
		 "overlaps [0x80000, 0x9f000)"},
	};

	expect_aout_fails(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

START_TEST(multiboot_rejects_cmdline_too_long)
{
	size_t len = BOOT_INFO_END - BOOT_INFO_ADDR;
	char *cmdline = malloc(len + 1);
	struct timage t;
	struct run r;

	memset(cmdline, 'x', len);
	cmdline[len] = '\0';
	build_mb_elf(&t, false);
	mb_run_init(&r, &t, 16 * MiB);
	r.in.cmdline = cmdline;
	ck_assert_fails(run_load(&r), -EFBIG, r.cap, "command line too long");
	ram_free(&r.m);
	free(cmdline);
}
END_TEST

START_TEST(multiboot_rejects_too_many_modules)
{
	unsigned int i, n = 6000;
	struct boot_module *mods = calloc(n, sizeof(*mods));
	struct timage t;
	struct run r;

	for (i = 0; i < n; i++)
		mods[i].name = "m";
	build_mb_elf(&t, false);
	mb_run_init(&r, &t, 16 * MiB);
	r.in.modules = mods;
	r.in.nr_modules = n;
	ck_assert_fails(run_load(&r), -EFBIG, r.cap,
			"too many modules (6000): their list does not fit");
	/* Fewer, but names that fill the area. */
	n = 3000;
	for (i = 0; i < n; i++)
		mods[i].name = "a-module-name-of-some-length-0123456789";
	r.in.nr_modules = n;
	ck_assert_fails(run_load(&r), -EFBIG, r.cap, "the string of module");
	ram_free(&r.m);
	free(mods);
}
END_TEST

START_TEST(multiboot_rejects_modules_beyond_ram)
{
	static uint8_t data[1024 * 1024];
	const struct boot_module mods[] = {
	    {data, sizeof(data), "a.img"},
	    {data, sizeof(data), "b.img"},
	};
	struct timage t;
	struct run r;

	build_mb_elf(&t, false);
	mb_run_init(&r, &t, 4 * MiB);
	r.in.modules = mods;
	r.in.nr_modules = 2;
	ck_assert_fails(run_load(&r), -EFBIG, r.cap,
			"module 1 (b.img, 1048576 bytes) does not fit in guest "
			"RAM after 0x302000");
	ram_free(&r.m);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Mutations never crash the loader                                    */

static const uint32_t interesting[] = {
	0, 1, 0x40, 0xfff, 0x1000, 0x7fffffff, 0x80000000, 0xffffffff,
	0xc0000000, 0x9f000, 0x100000, 0x100040, 0x200000, MB_MAGIC, MB_AOUT,
	0xfffffff0,
};

static void mutate(uint8_t *buf, size_t *size, size_t hot, uint64_t *seed)
{
	uint64_t r = xorshift64_star(seed);
	uint32_t v = interesting[(r >> 40) % 16];
	size_t off;

	if (*size == 0)
		return;
	/* Half the time near the ELF or multiboot header. */
	if (r & 1)
		off = (r >> 8) % *size;
	else
		off = ((r & 2) ? hot : 0) + (r >> 8) % 0x80;
	if (off + 4 > *size)
		return;
	switch ((r >> 4) % 5) {
	case 0:
		buf[off] = r >> 32;
		break;
	case 1:
		buf[off] ^= 1u << ((r >> 32) & 7);
		break;
	case 2:
		memcpy(buf + off, &v, 4);
		break;
	case 3:
		/* Keep the checksum right so the header gets parsed. */
		memcpy(buf + off, &v, 4);
		if (off >= hot && off < hot + 32 && (off - hot) % 4 == 0) {
			uint32_t magic, flags;

			memcpy(&magic, buf + hot, 4);
			memcpy(&flags, buf + hot + 4, 4);
			put32(buf + hot + 8, -(magic + flags));
		}
		break;
	default:
		*size = off;
		break;
	}
}

START_TEST(multiboot_fuzz_mutations)
{
	static uint8_t mod_data[300];
	const struct boot_module mods[] = {
	    {mod_data, sizeof(mod_data), "m0"},
	    {mod_data, 10, "m1"},
	};
	uint64_t seed = 0xfeedface1234ull;
	unsigned int i, n, loaded = 0;
	struct timage t;
	struct run r;

	build_mb_elf(&t, false);
	mb_run_init(&r, &t, 16 * MiB);
	r.in.modules = mods;
	r.in.nr_modules = 2;
	r.in.cmdline = "x";
	for (i = 0; i < 4000; i++) {
		size_t size, hot;

		if (i % 3 == 0) {
			build_aout(&t, 0, 0x104000);
			hot = 0x40;
		} else {
			build_mb_elf(&t, i % 3 == 2);
			hot = SEG0_OFF;
		}
		size = t.size;
		for (n = 1 + xorshift64_star(&seed) % 6; n; n--)
			mutate(t.buf, &size, hot, &seed);
		if (run_load_copy(&r, t.buf, size) == 0)
			loaded++;
	}
	ck_assert_uint_gt(loaded, 0);
	ck_assert_uint_lt(loaded, 4000);
	ram_free(&r.m);
}
END_TEST

/*
 * The VM's reserved ranges (ACPI tables, NVS) are cut out of the memory
 * map, mem_upper stops at the first of them, and modules go past them.
 */
START_TEST(multiboot_honours_reserved)
{
	static uint8_t m0[5000];
	const struct boot_mem_range res[] = {
		{0x202800, 0x100, BOOT_MEM_ACPI},
		{0x800000, 0x1000, BOOT_MEM_NVS},
	};
	const struct boot_module mod = {m0, sizeof(m0), "m0"};
	struct timage t;
	struct run r;
	uint64_t info, map, list;

	memset(m0, 0x5a, sizeof(m0));
	build_mb_elf(&t, false);
	mb_run_init(&r, &t, 16 * MiB);
	r.in.modules = &mod;
	r.in.nr_modules = 1;
	r.in.reserved = res;
	r.in.nr_reserved = 2;
	ck_assert_int_eq(run_load(&r), 0);
	info = r.plan.rbx;
	list = rd32(&r.m, info + MBI(mods_addr));
	ck_assert_uint_eq(rd32(&r.m, list), 0x203000);
	ck_assert_mem_eq(gpa(&r.m, 0x203000), m0, sizeof(m0));
	ck_assert_uint_eq(rd32(&r.m, info + MBI(mem_upper)),
			  (0x202800 - MiB) >> 10);
	map = rd32(&r.m, info + MBI(mmap_addr));
	ck_assert_uint_eq(rd32(&r.m, info + MBI(mmap_length)), 7 * 24);
	assert_mmap_entry(&r.m, map + 48, MiB, 0x202800 - MiB, 1);
	assert_mmap_entry(&r.m, map + 72, 0x202800, 0x100, 3);
	assert_mmap_entry(&r.m, map + 96, 0x202900, 0x800000 - 0x202900, 1);
	assert_mmap_entry(&r.m, map + 120, 0x800000, 0x1000, 4);
	assert_mmap_entry(&r.m, map + 144, 0x801000, 16 * MiB - 0x801000, 1);
	ram_free(&r.m);
}
END_TEST

/* A kernel of either kind that would load over a reserved range. */
START_TEST(multiboot_rejects_kernel_over_reserved)
{
	const struct boot_mem_range res = {0x100800, 0x10, BOOT_MEM_ACPI};
	struct timage t;
	struct run r;
	int i;

	for (i = 0; i < 2; i++) {
		if (i)
			build_aout(&t, 0, 0x104000);
		else
			build_mb_elf(&t, false);
		mb_run_init(&r, &t, 16 * MiB);
		r.in.reserved = &res;
		r.in.nr_reserved = 1;
		ck_assert_fails(run_load(&r), -EFBIG, r.cap,
				"overlaps the VM's reserved range "
				"[0x100800, 0x100810)");
		ram_free(&r.m);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* The VM's firmware tables in the BIOS area (issue 12, point 7)       */

#define FW_ACPI_ADDR 0xe0000ull
#define FW_MP_ADDR 0xf0000ull
#define LD_HDR_LEN (sizeof(Elf32_Ehdr) + 2 * sizeof(Elf32_Phdr)) /* 0x74 */

/* What the VM wrote: its tables' lengths and a copy of their bytes. */
struct fw_tables {
	size_t acpi_len, mp_len;
	uint8_t acpi[16384], mp[4096];
};

/*
 * As vm.c does for 2 CPUs: ACPI tables at 0xe0000 and the MP table at
 * 0xf0000, written into guest RAM before the load, each reserved to the
 * byte.
 */
static void vm_firmware(struct run *r, struct fw_tables *fw)
{
	struct machine_desc m;
	uint64_t rsdp, mpf;
	void *acpi, *mp;

	machine_desc_init(&m, 2, MACHINE_IOAPIC_PINS, 0x20);
	fw->acpi_len = acpi_size(&m);
	fw->mp_len = mptable_size(&m);
	ck_assert_uint_gt(fw->acpi_len, 0);
	ck_assert_uint_le(fw->acpi_len, sizeof(fw->acpi));
	ck_assert_uint_gt(fw->mp_len, 0);
	ck_assert_uint_le(fw->mp_len, sizeof(fw->mp));
	acpi = guest_mem_ptr(&r->m, FW_ACPI_ADDR, fw->acpi_len);
	mp = guest_mem_ptr(&r->m, FW_MP_ADDR, fw->mp_len);
	ck_assert_int_eq(
	    acpi_build(&m, acpi, fw->acpi_len, FW_ACPI_ADDR, &rsdp), 0);
	ck_assert_int_eq(mptable_build(&m, mp, fw->mp_len, FW_MP_ADDR, &mpf),
			 0);
	memcpy(fw->acpi, acpi, fw->acpi_len);
	memcpy(fw->mp, mp, fw->mp_len);
	r->in.acpi_rsdp = rsdp;
	ck_assert_int_eq(boot_reserve(&r->in, FW_ACPI_ADDR, fw->acpi_len,
				      BOOT_MEM_RESERVED),
			 0);
	ck_assert_int_eq(boot_reserve(&r->in, FW_MP_ADDR, fw->mp_len,
				      BOOT_MEM_RESERVED),
			 0);
}

static void assert_fw_intact(const struct run *r, const struct fw_tables *fw)
{
	ck_assert_mem_eq(gpa(&r->m, FW_ACPI_ADDR), fw->acpi, fw->acpi_len);
	ck_assert_mem_eq(gpa(&r->m, FW_MP_ADDR), fw->mp, fw->mp_len);
	ck_assert_mem_eq(gpa(&r->m, FW_ACPI_ADDR), "RSD PTR ", 8);
	ck_assert_mem_eq(gpa(&r->m, FW_MP_ADDR), "_MP_", 4);
}

/*
 * A multiboot ELF32 as ld -m elf_i386 -Ttext=0x100000 links one (the
 * kvm-unit-tests x86 binaries, many hobby kernels): a first PT_LOAD that
 * holds only the ELF and program headers (p_offset 0) at hdr, 0xff000 for
 * ld, then .text at 1 MiB, the multiboot header first.
 */
static void build_ld_elf32(struct timage *t, uint64_t hdr)
{
	const struct tseg segs[] = {
		{PT_LOAD, hdr, hdr, LD_HDR_LEN, LD_HDR_LEN, 0},
		{PT_LOAD, MiB, MiB, 0x100, 0x100, 0xc3},
	};

	build_elf_image(t, false, EM_386, segs, 2, MiB + 12);
	ph32(t, 0)->p_offset = 0;
	ph32(t, 0)->p_flags = PF_R;
	mb_header(t->buf + ph32(t, 1)->p_offset, 0);
}

/*
 * The header PT_LOAD at 0xff000 loads: splitvm wrote nothing there (QEMU
 * loads it too), its tables stay intact, and the memory map is the one
 * every guest is given, with [639 KiB, 1 MiB) reserved.
 */
START_TEST(multiboot_elf32_headers_in_bios_area_load)
{
	static struct fw_tables fw;
	struct timage t;
	struct run r;
	uint64_t map;

	build_ld_elf32(&t, 0xff000);
	mb_run_init(&r, &t, 16 * MiB);
	vm_firmware(&r, &fw);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(r.cap.errors, 0);
	ck_assert_str_eq(r.plan.protocol, "multiboot");
	ck_assert_uint_eq(r.plan.entry, MiB + 12);
	ck_assert_uint_eq(r.plan.image_end, MiB + 0x100);
	ck_assert_mem_eq(gpa(&r.m, 0xff000), t.buf, LD_HDR_LEN);
	ck_assert(all_bytes(gpa(&r.m, 0xff000 + LD_HDR_LEN),
			    0x1000 - LD_HDR_LEN, 0xaa));
	ck_assert(all_bytes(gpa(&r.m, MiB + 12), 0x100 - 12, 0xc3));
	assert_fw_intact(&r, &fw);
	map = rd32(&r.m, r.plan.rbx + MBI(mmap_addr));
	ck_assert_uint_eq(rd32(&r.m, r.plan.rbx + MBI(mmap_length)), 3 * 24);
	assert_mmap_entry(&r.m, map, 0, 0x9fc00, 1);
	assert_mmap_entry(&r.m, map + 24, 0x9fc00, 0x100000 - 0x9fc00, 2);
	assert_mmap_entry(&r.m, map + 48, MiB, 15 * MiB, 1);
	ck_assert_uint_eq(rd32(&r.m, r.plan.rbx + MBI(mem_lower)), 639);
	ck_assert_uint_eq(rd32(&r.m, r.plan.rbx + MBI(mem_upper)), 15 * 1024);
	ram_free(&r.m);
}
END_TEST

/*
 * Loads build_ld_elf32(hdr) over the VM's tables: refused with a line
 * that says msg, or (msg NULL) loaded. The tables survive either way.
 */
static void load_hdr_at(uint64_t hdr, const char *msg)
{
	static struct fw_tables fw;
	struct timage t;
	struct run r;

	build_ld_elf32(&t, hdr);
	mb_run_init(&r, &t, 16 * MiB);
	vm_firmware(&r, &fw);
	if (msg) {
		ck_assert_fails(run_load(&r), -EFBIG, r.cap, msg);
		ck_assert_msg(strstr(r.cap.msg, "ELF program header 0"),
			      "0x%llx: \"%s\"", (unsigned long long)hdr,
			      r.cap.msg);
	} else {
		ck_assert_msg(run_load(&r) == 0, "0x%llx: %s",
			      (unsigned long long)hdr, r.cap.msg);
		ck_assert_mem_eq(gpa(&r.m, hdr), t.buf, LD_HDR_LEN);
	}
	assert_fw_intact(&r, &fw);
	ram_free(&r.m);
}

/*
 * A segment over a byte of the ACPI tables or of the MP table is refused,
 * naming their bytes; one that only touches their edges, or sits between
 * them, loads.
 */
START_TEST(multiboot_rejects_segment_over_firmware_tables)
{
	struct machine_desc m;
	uint64_t acpi_end, mp_end;
	char acpi_msg[96], mp_msg[96];

	machine_desc_init(&m, 2, MACHINE_IOAPIC_PINS, 0x20); /* vm_firmware */
	acpi_end = FW_ACPI_ADDR + acpi_size(&m);
	mp_end = FW_MP_ADDR + mptable_size(&m);
	snprintf(acpi_msg, sizeof(acpi_msg),
		 "overlaps the VM's reserved range [0xe0000, 0x%llx)",
		 (unsigned long long)acpi_end);
	snprintf(mp_msg, sizeof(mp_msg),
		 "overlaps the VM's reserved range [0xf0000, 0x%llx)",
		 (unsigned long long)mp_end);

	load_hdr_at(FW_MP_ADDR, mp_msg);
	load_hdr_at(FW_MP_ADDR - LD_HDR_LEN + 1, mp_msg);
	load_hdr_at(mp_end - 1, mp_msg);
	load_hdr_at(FW_ACPI_ADDR, acpi_msg);
	load_hdr_at(acpi_end - 1, acpi_msg);
	load_hdr_at(FW_MP_ADDR - LD_HDR_LEN, NULL);
	load_hdr_at(mp_end, NULL);
	load_hdr_at(acpi_end, NULL);
	load_hdr_at(FW_ACPI_ADDR - LD_HDR_LEN, NULL);
}
END_TEST

UNIT_SUITE("multiboot", multiboot_detect_header,
	   multiboot_elf32_plan_and_segments, multiboot_elf64_accepted,
	   multiboot_info_fields, multiboot_cmdline_is_kernel_name_alone,
	   multiboot_mmap_low_ram, multiboot_mmap_high_ram,
	   multiboot_modules_placed, multiboot_modules_above_1m,
	   multiboot_aout_whole_file_and_bss,
	   multiboot_aout_offset_and_load_end,
	   multiboot_video_flag_and_first_valid_header,
	   multiboot_header_at_search_limit, multiboot_rejects_bad_checksum,
	   multiboot_rejects_missing_header,
	   multiboot_rejects_unknown_required_flags,
	   multiboot_rejects_non_elf_without_aout, multiboot_rejects_elf_errors,
	   multiboot_rejects_elf64_above_4g,
	   multiboot_rejects_aout_truncated_header,
	   multiboot_rejects_header_past_8k,
	   multiboot_rejects_aout_inconsistent,
	   multiboot_rejects_aout_outside_ram,
	   multiboot_rejects_cmdline_too_long,
	   multiboot_rejects_too_many_modules,
	   multiboot_rejects_modules_beyond_ram, multiboot_honours_reserved,
	   multiboot_rejects_kernel_over_reserved,
	   multiboot_elf32_headers_in_bios_area_load,
	   multiboot_rejects_segment_over_firmware_tables,
	   multiboot_fuzz_mutations)
