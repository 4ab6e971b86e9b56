// SPDX-License-Identifier: MIT
/* Boot protocol detection, shared range checks and the entry tables. */
#include <errno.h>

#include "boot_run.h"
#include "elf_image.h"
#include "rng.h"

/* ------------------------------------------------------------------ */
/* Images: one PT_LOAD of 0x200 bytes at 1 MiB, entry at its start.    */

#define SEG_OFF ELF_DATA_START /* where a multiboot header goes */

static void build_elf(struct timage *t, bool is64)
{
	static const struct tseg seg = {PT_LOAD, 0x100000, 0x100000, 0x200,
					0x200, 0x90};

	build_elf_image(t, is64, elf_x86_machine(is64), &seg, 1, 0x100000);
}

/* The image, with a multiboot header, loads as multiboot into 16 MiB. */
static void load_multiboot(struct run *r, struct timage *t, bool is64)
{
	build_elf(t, is64);
	mb_header(t->buf + SEG_OFF, 0);
	run_init(r, boot_load, t->buf, t->size, 16 * MiB);
	ck_assert_int_eq(run_load(r), 0);
	ck_assert_str_eq(r->plan.protocol, "multiboot");
}

static void expect_fail(const uint8_t *img, size_t size, int want,
			const char *substr)
{
	run_expect_fail(boot_load, img, size, want, substr);
}

/* ------------------------------------------------------------------ */
/* Tables                                                              */

START_TEST(boot_tables_gdt)
{
	struct guest_mem m;

	ram_init(&m, 16 * MiB);
	memset(m.host, 0xaa, 1 * MiB);
	ck_assert_int_eq(boot_write_tables(&m), 0);
	ck_assert_uint_eq(rd64(&m, BOOT_GDT_ADDR), 0);
	ck_assert_uint_eq(rd64(&m, BOOT_GDT_ADDR + BOOT_SEL_CODE32),
			  0x00cf9b000000ffffull);
	ck_assert_uint_eq(rd64(&m, BOOT_GDT_ADDR + BOOT_SEL_DATA),
			  0x00cf93000000ffffull);
	ck_assert_uint_eq(rd64(&m, BOOT_GDT_ADDR + BOOT_SEL_CODE64),
			  0x00af9b000000ffffull);
	ck_assert_uint_eq(rd64(&m, BOOT_GDT_ADDR + 0x20), 0);
	ram_free(&m);
}
END_TEST

START_TEST(boot_tables_identity_map)
{
	struct guest_mem m;
	uint64_t i, pde;

	ram_init(&m, 16 * MiB);
	memset(m.host, 0xaa, 1 * MiB);
	ck_assert_int_eq(boot_write_tables(&m), 0);
	ck_assert_uint_eq(rd64(&m, 0x81000), 0x82000 | 3);
	for (i = 1; i < 512; i++)
		ck_assert_uint_eq(rd64(&m, 0x81000 + 8 * i), 0);
	for (i = 0; i < 4; i++)
		ck_assert_uint_eq(rd64(&m, 0x82000 + 8 * i),
				  (0x83000 + 0x1000 * i) | 3);
	for (i = 4; i < 512; i++)
		ck_assert_uint_eq(rd64(&m, 0x82000 + 8 * i), 0);
	/* 2048 PDEs: 2 MiB pages (PS | RW | P) over [0, 4 GiB). */
	for (i = 0; i < 2048; i++) {
		pde = rd64(&m, 0x83000 + 8 * i);
		ck_assert_uint_eq(pde, (i << 21) | 0x83);
	}
	ck_assert_uint_eq(rd64(&m, 0x86ff8), 0xffe00000ull | 0x83);
	ram_free(&m);
}
END_TEST

START_TEST(boot_tables_need_ram)
{
	struct guest_mem m;

	ram_init(&m, 0x84000);
	ck_assert_int_eq(boot_write_tables(&m), -EFBIG);
	ram_free(&m);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The shared range check                                              */

START_TEST(boot_check_range_cases)
{
	struct capture cap = {0};
	struct logger lg = LOGGER(cap);
	struct guest_mem m;

	ram_init(&m, GUEST_MMIO_HOLE_START + 64 * MiB);
	ck_assert_int_eq(boot_check_range(&m, MiB, MiB, "x", &lg), 0);
	ck_assert_int_eq(boot_check_range(&m, 0, 0x80000, "x", &lg), 0);
	ck_assert_int_eq(boot_check_range(&m, BOOT_INFO_END, 1, "x", &lg), 0);
	ck_assert_int_eq(boot_check_range(&m, 1ull << 32, 64 * MiB, "x", &lg),
			 0);
	ck_assert_int_eq(boot_check_range(&m, 5, 0, "x", &lg), 0);
	ck_assert_uint_eq(cap.errors, 0);

	ck_assert_fails(boot_check_range(&m, UINT64_MAX, 1, "w", &lg), -ENOEXEC,
			cap, "w: 0xffffffffffffffff + size 0x1 wraps");
	cap.errors = 0;
	ck_assert_fails(boot_check_range(&m, 0x9efff, 1, "b", &lg), -ENOEXEC,
			cap,
			"b: [0x9efff, 0x9f000) overlaps [0x80000, 0x9f000)");
	cap.errors = 0;
	ck_assert_fails(boot_check_range(&m, 0xbfffffff, 2, "h", &lg), -ENOEXEC,
			cap,
			"h: [0xbfffffff, 0xc0000001) falls in "
			"the MMIO hole [0xc0000000, 0x100000000)");
	cap.errors = 0;
	ck_assert_fails(
	    boot_check_range(&m, (1ull << 32) + 64 * MiB - 1, 2, "r", &lg),
	    -EFBIG, cap,
	    "r: [0x103ffffff, 0x104000001) is not in guest RAM "
	    "([0, 0xc0000000) and [0x100000000, 0x104000000))");
	ram_free(&m);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Reserved ranges sized at run time                                   */

START_TEST(boot_reserve_fills_own_buffer)
{
	const struct boot_mem_range other = {0x200000, 0x10, BOOT_MEM_NVS};
	struct boot_input in = {0};
	unsigned int i;

	/* Nothing written: nothing reserved. */
	ck_assert_int_eq(boot_reserve(&in, 0xf0000, 0, BOOT_MEM_RESERVED), 0);
	ck_assert_uint_eq(in.nr_reserved, 0);
	ck_assert_ptr_null(in.reserved);
	ck_assert_int_eq(boot_reserve(&in, 0xe0000, 0x2a4, BOOT_MEM_RESERVED),
			 0);
	ck_assert_int_eq(boot_reserve(&in, 0xf0000, 0xfc, BOOT_MEM_ACPI), 0);
	ck_assert_ptr_eq(in.reserved, in.reserved_buf);
	ck_assert_uint_eq(in.nr_reserved, 2);
	ck_assert_uint_eq(in.reserved[0].addr, 0xe0000);
	ck_assert_uint_eq(in.reserved[0].size, 0x2a4);
	ck_assert_int_eq(in.reserved[0].type, BOOT_MEM_RESERVED);
	ck_assert_uint_eq(in.reserved[1].addr, 0xf0000);
	ck_assert_uint_eq(in.reserved[1].size, 0xfc);
	ck_assert_int_eq(in.reserved[1].type, BOOT_MEM_ACPI);
	for (i = 2; i < BOOT_RESERVED_BUF; i++)
		ck_assert_int_eq(boot_reserve(&in, MiB * (i + 1), 1,
					      BOOT_MEM_RESERVED),
				 0);
	ck_assert_int_eq(boot_reserve(&in, 64 * MiB, 1, BOOT_MEM_RESERVED),
			 -ENOSPC);
	ck_assert_uint_eq(in.nr_reserved, BOOT_RESERVED_BUF);

	/* The caller's own array is left alone. */
	in = (struct boot_input){.reserved = &other, .nr_reserved = 1};
	ck_assert_int_eq(boot_reserve(&in, 0xf0000, 0x10, BOOT_MEM_RESERVED),
			 -EINVAL);
	ck_assert_ptr_eq(in.reserved, &other);
	ck_assert_uint_eq(in.nr_reserved, 1);
}
END_TEST

/*
 * What ld -Ttext=0x100000 makes of a kernel, as ELF32 or ELF64: a PT_LOAD
 * of the headers alone (p_offset 0) on the page below 1 MiB, hdr, then
 * the code at 1 MiB (multiboot header first, when mb).
 */
static void build_ld_elf(struct timage *t, bool is64, bool mb, uint64_t hdr)
{
	const uint64_t hlen = is64 ? sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr)
				   : sizeof(Elf32_Ehdr) + 2 * sizeof(Elf32_Phdr);
	const struct tseg segs[] = {
		{PT_LOAD, hdr, hdr, hlen, hlen, 0},
		{PT_LOAD, MiB, MiB, 0x200, 0x200, 0x90},
	};

	build_elf_image(t, is64, elf_x86_machine(is64), segs, 2, MiB + 12);
	if (is64)
		ph64(t, 0)->p_offset = 0;
	else
		ph32(t, 0)->p_offset = 0;
	if (mb)
		mb_header(t->buf + ELF_DATA_START + 0x100, 0);
}

/*
 * Whichever ELF protocol takes the image, its header PT_LOAD in the BIOS
 * area loads next to the VM's tables (reserved to the byte, as vm.c does)
 * and is refused over them.
 */
START_TEST(boot_load_elf_headers_next_to_firmware_tables)
{
	static const struct {
		bool is64, mb;
		const char *protocol;
	} kinds[] = {
		{false, true, "multiboot"},
		{true, true, "multiboot"},
		{true, false, "elf64"},
	};
	struct timage t;
	struct run r;
	unsigned int i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		build_ld_elf(&t, kinds[i].is64, kinds[i].mb, 0xff000);
		run_init(&r, boot_load, t.buf, t.size, 16 * MiB);
		ck_assert_int_eq(boot_reserve(&r.in, 0xe0000, 0x2a4,
					      BOOT_MEM_RESERVED),
				 0);
		ck_assert_int_eq(boot_reserve(&r.in, 0xf0000, 0xfc,
					      BOOT_MEM_RESERVED),
				 0);
		ck_assert_msg(run_load(&r) == 0, "%u: %s", i, r.cap.msg);
		ck_assert_str_eq(r.plan.protocol, kinds[i].protocol);
		ck_assert_uint_eq(r.plan.entry, MiB + 12);
		ck_assert_mem_eq(gpa(&r.m, 0xff000), t.buf, 16);
		ck_assert(all_bytes(gpa(&r.m, 0xf0000), 0xfc, 0xaa));

		build_ld_elf(&t, kinds[i].is64, kinds[i].mb, 0xf0000);
		ck_assert_fails(run_load(&r), -EFBIG, r.cap,
				"ELF program header 0 [0xf0000, 0xf00");
		ck_assert_msg(strstr(r.cap.msg, "overlaps the VM's reserved "
						"range [0xf0000, 0xf00fc)"),
			      "%u: %s", i, r.cap.msg);
		ck_assert(all_bytes(gpa(&r.m, 0xf0000), 0xfc, 0xaa));
		ram_free(&r.m);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* Detection order and plans                                           */

START_TEST(boot_load_elf64)
{
	static const uint8_t fdt[16] = {0xd0, 0x0d, 0xfe, 0xed};
	struct timage t;
	struct run r;

	build_elf(&t, true);
	run_init(&r, boot_load, t.buf, t.size, 16 * MiB);
	r.in.fdt = fdt;
	r.in.fdt_size = sizeof(fdt);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(r.cap.errors, 0);
	ck_assert_elf64_plan(&r, 0x100000, 0x100200);
	ck_assert_uint_eq(rd64(&r.m, BOOT_INFO_ADDR), 0xedfe0dd0);
	/* Tables were written too. */
	ck_assert_uint_eq(rd64(&r.m, BOOT_GDT_ADDR + BOOT_SEL_CODE64),
			  0x00af9b000000ffffull);
	ck_assert_uint_eq(rd64(&r.m, BOOT_PML4_ADDR), 0x82003);
	ram_free(&r.m);
}
END_TEST

START_TEST(boot_load_multiboot_elf32)
{
	struct timage t;
	struct run r;

	load_multiboot(&r, &t, false);
	ck_assert_int_eq(r.plan.mode, BOOT_MODE_PROTECTED32);
	ck_assert_uint_eq(r.plan.rax, 0x2BADB002);
	ck_assert_uint_eq(r.plan.rbx, BOOT_INFO_ADDR);
	ck_assert_uint_eq(rd64(&r.m, BOOT_GDT_ADDR + BOOT_SEL_CODE32),
			  0x00cf9b000000ffffull);
	ram_free(&r.m);
}
END_TEST

/* A multiboot header wins over the image being ELF64. */
START_TEST(boot_load_multiboot_before_elf64)
{
	struct timage t;
	struct run r;

	load_multiboot(&r, &t, true);
	ram_free(&r.m);
}
END_TEST

START_TEST(boot_rejects_empty_and_tiny)
{
	static const uint8_t tiny[] = "\x7f"
				      "ELF\x02";

	expect_fail(tiny, 0, -ENOEXEC, "the image is empty (0 bytes)");
	expect_fail(NULL, 10, -ENOEXEC, "the image is empty");
	expect_fail(tiny, 5, -ENOEXEC, "the image is only 5 bytes, too small");
}
END_TEST

/* A bzImage is detected by its "HdrS"; protocol 0.00 is refused (the
 * 64-bit entry needs 2.12), with the reason. */
START_TEST(boot_rejects_old_bzimage)
{
	static uint8_t img[0x400];

	/* Boot flag 0xaa55 at 0x1fe, a jump at 0x200, "HdrS" at 0x202. */
	memcpy(img + 0x1fe,
	       "\x55\xaa\xeb\x66"
	       "HdrS",
	       8);
	expect_fail(img, sizeof(img), -ENOEXEC,
		    "Linux boot protocol 0.00 is too old");
}
END_TEST

START_TEST(boot_rejects_elf32_without_multiboot)
{
	struct timage t;

	build_elf(&t, false);
	expect_fail(t.buf, t.size, -ENOEXEC,
		    "32-bit ELF kernels need a multiboot header (none in the "
		    "first 8192 bytes)");
}
END_TEST

START_TEST(boot_rejects_unrecognised)
{
	static uint8_t junk[4096];
	unsigned int i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = i * 7 + 3;
	expect_fail(junk, sizeof(junk), -ENOEXEC,
		    "not a recognised kernel image (no multiboot header, not "
		    "ELF)");
}
END_TEST

/* A header past 8 KiB gets a hint, for ELF32 and for raw images. */
START_TEST(boot_rejects_multiboot_header_past_8k)
{
	static uint8_t img[0x2400];
	struct timage t;

	build_elf(&t, false);
	memcpy(img, t.buf, t.size);
	mb_header(img + 0x2010, 0);
	expect_fail(img, sizeof(img), -ENOEXEC,
		    "a multiboot magic sits at offset 0x2010, but the header "
		    "must lie within the first 8192 bytes");
	memset(img, 0, 0x2000);
	expect_fail(img, sizeof(img), -ENOEXEC,
		    "not ELF; a multiboot magic sits at offset 0x2010");
}
END_TEST

START_TEST(boot_rejects_bad_multiboot_checksum)
{
	struct timage t;

	build_elf(&t, true);
	put32(t.buf + SEG_OFF, MB_MAGIC);
	put32(t.buf + SEG_OFF + 8, 1);
	expect_fail(t.buf, t.size, -ENOEXEC, "has a bad checksum");
}
END_TEST

START_TEST(boot_rejects_truncated_elf64)
{
	struct timage t;

	build_elf(&t, true);
	expect_fail(t.buf, 20, -ENOEXEC,
		    "truncated ELF header (20 bytes, an "
		    "ELF64 header is 64)");
}
END_TEST

START_TEST(boot_rejects_small_ram)
{
	struct timage t;
	struct run r;

	build_elf(&t, true);
	run_init(&r, boot_load, t.buf, t.size, 512 * 1024);
	ck_assert_fails(run_load(&r), -EFBIG, r.cap,
			"guest RAM (512 KiB) is too small");
	ram_free(&r.m);
}
END_TEST

START_TEST(boot_rejects_bad_arguments)
{
	struct boot_input in = {0};
	struct boot_plan plan;
	struct guest_mem m = {0};

	ck_assert_int_eq(boot_load(NULL, &in, &plan, NULL), -EINVAL);
	ck_assert_int_eq(boot_load(&m, NULL, &plan, NULL), -EINVAL);
	ck_assert_int_eq(boot_load(&m, &in, NULL, NULL), -EINVAL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Mutations through the whole detection path                          */

START_TEST(boot_fuzz_mutations)
{
	uint64_t seed = 0x0123456789abcdefull;
	unsigned int i, n, ok = 0;
	struct timage t;
	struct run r;

	run_init(&r, boot_load, NULL, 0, 16 * MiB);
	for (i = 0; i < 3000; i++) {
		size_t size, off;
		uint64_t v;

		build_elf(&t, i & 1);
		if (i & 2)
			mb_header(t.buf + SEG_OFF, (i & 4) ? 0x10000 : 0);
		size = t.size;
		for (n = 1 + xorshift64_star(&seed) % 4; n; n--) {
			v = xorshift64_star(&seed);
			/* Mostly the ELF and multiboot headers. */
			off = (v >> 16) % (i & 8 ? size : SEG_OFF + 0x40);
			if (off >= size)
				continue;
			if (v & 0x100)
				t.buf[off] = v >> 40;
			else if (off + 4 <= size)
				put32(t.buf + off, v >> 32);
			if ((v & 0xff) == 0)
				size = off;
		}
		if (run_load_copy(&r, t.buf, size) == 0)
			ok++;
	}
	ck_assert_uint_gt(ok, 0);
	ram_free(&r.m);
}
END_TEST

UNIT_SUITE("boot", boot_tables_gdt, boot_tables_identity_map,
	   boot_tables_need_ram, boot_check_range_cases,
	   boot_reserve_fills_own_buffer,
	   boot_load_elf_headers_next_to_firmware_tables, boot_load_elf64,
	   boot_load_multiboot_elf32, boot_load_multiboot_before_elf64,
	   boot_rejects_empty_and_tiny, boot_rejects_old_bzimage,
	   boot_rejects_elf32_without_multiboot, boot_rejects_unrecognised,
	   boot_rejects_multiboot_header_past_8k,
	   boot_rejects_bad_multiboot_checksum, boot_rejects_truncated_elf64,
	   boot_rejects_small_ram, boot_rejects_bad_arguments,
	   boot_fuzz_mutations)
