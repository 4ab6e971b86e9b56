// SPDX-License-Identifier: MIT
/* ELF loader: images built in memory, loaded, malformed and mutated. */
#include <errno.h>

#include "boot_run.h"
#include "elf_image.h"
#include "rng.h"

/* ------------------------------------------------------------------ */
/* Images (see elf_image.h) and loading them                           */

/* Two PT_LOADs (the second with bss) and a PT_NOTE, as ld lays out. */
static const struct tseg std_segs[] = {
	{PT_LOAD, 0x100000, 0x100000, 0x300, 0x300, 0xc3},
	{PT_NOTE, 0, 0, 0x20, 0x20, 0x11},
	{PT_LOAD, 0x200000, 0x200000, 0x100, 0x2000, 0xd4},
};

static void build_std(struct timage *t, bool is64)
{
	build_elf_image(t, is64, elf_x86_machine(is64), std_segs, 3, 0x100010);
}

/* Loads t into fresh 16 MiB RAM prefilled with 0xaa; returns elf_load's
 * result. */
static int load(struct timage *t, struct guest_mem *m, uint64_t *entry,
		uint64_t *end, const struct logger *lg)
{
	ram_init(m, 16 * MiB);
	memset(m->host, 0xaa, m->size);
	return elf_load(m, t->buf, t->size, entry, end, lg);
}

static void assert_std_loaded(const struct guest_mem *m)
{
	ck_assert(all_bytes(gpa(m, 0x100000), 0x300, 0xc3));
	ck_assert_uint_eq(*gpa(m, 0x100300), 0xaa);
	ck_assert(all_bytes(gpa(m, 0x200000), 0x100, 0xd4));
	ck_assert(all_bytes(gpa(m, 0x200100), 0x2000 - 0x100, 0));
	ck_assert_uint_eq(*gpa(m, 0x202000), 0xaa);
	ck_assert_uint_eq(*gpa(m, 0), 0xaa); /* the PT_NOTE went nowhere */
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */

START_TEST(elf_detect_and_class)
{
	struct timage t;

	build_std(&t, false);
	ck_assert(elf_detect(t.buf, t.size));
	ck_assert(!elf_is_64(t.buf, t.size));
	build_std(&t, true);
	ck_assert(elf_detect(t.buf, t.size));
	ck_assert(elf_is_64(t.buf, t.size));
	ck_assert(!elf_detect(t.buf, 3));
	ck_assert(!elf_is_64(t.buf, 4));
	ck_assert(!elf_detect(NULL, 100));
	ck_assert(!elf_detect((const uint8_t *)"\x7f"
					       "ELX",
			      4));
}
END_TEST

/* The standard image of one class loads whole, with nothing logged. */
static void assert_std_loads(bool is64)
{
	struct capture cap = {0};
	struct logger lg = LOGGER(cap);
	struct guest_mem m;
	uint64_t entry, end;
	struct timage t;

	build_std(&t, is64);
	ck_assert_int_eq(load(&t, &m, &entry, &end, &lg), 0);
	ck_assert_uint_eq(cap.errors, 0);
	ck_assert_uint_eq(entry, 0x100010);
	ck_assert_uint_eq(end, 0x202000);
	assert_std_loaded(&m);
	ram_free(&m);
}

START_TEST(elf_load_elf32_segments)
{
	assert_std_loads(false);
}
END_TEST

START_TEST(elf_load_elf64_segments)
{
	assert_std_loads(true);
}
END_TEST

/*
 * Regression (found by fuzz-elf): a segment with nothing in the file may
 * carry any offset, even one that overflows the image pointer; it loads
 * as zeros and its offset is never used (UBSan flagged img + offset).
 */
START_TEST(elf_load_empty_segment_ignores_offset)
{
	struct capture cap = {0};
	struct logger lg = LOGGER(cap);
	struct guest_mem m;
	uint64_t entry, end;
	struct timage t;
	const uint8_t *p;

	build_std(&t, true);
	ph64(&t, 2)->p_filesz = 0;
	ph64(&t, 2)->p_offset = ~0ull - 0x1000;
	ck_assert_int_eq(load(&t, &m, &entry, &end, &lg), 0);
	ck_assert_uint_eq(cap.errors, 0);
	p = guest_mem_ptr(&m, ph64(&t, 2)->p_paddr, ph64(&t, 2)->p_memsz);
	ck_assert_ptr_nonnull(p);
	for (uint64_t i = 0; i < ph64(&t, 2)->p_memsz; i++)
		ck_assert_uint_eq(p[i], 0);
	ram_free(&m);
}
END_TEST

/* x32 (ELFCLASS32 + EM_X86_64) and ET_DYN are both accepted. */
START_TEST(elf_load_x32_and_et_dyn)
{
	struct capture cap = {0};
	struct logger lg = LOGGER(cap);
	struct guest_mem m;
	uint64_t entry, end;
	struct timage t;

	build_elf_image(&t, false, EM_X86_64, std_segs, 3, 0x100000);
	ck_assert_int_eq(load(&t, &m, &entry, &end, &lg), 0);
	ram_free(&m);
	build_std(&t, true);
	eh64(&t)->e_type = ET_DYN;
	ck_assert_int_eq(load(&t, &m, &entry, &end, &lg), 0);
	assert_std_loaded(&m);
	ck_assert_uint_eq(cap.errors, 0);
	ram_free(&m);
}
END_TEST

/* A higher-half kernel: e_entry virtual, translated through p_vaddr. */
START_TEST(elf_load_virtual_entry_translated)
{
	static const struct tseg segs[] = {
	    {PT_LOAD, 0x100000, 0xffffffff80100000ull, 0x200, 0x200, 1},
	};
	struct capture cap = {0};
	struct logger lg = LOGGER(cap);
	struct guest_mem m;
	uint64_t entry, end;
	struct timage t;

	build_elf_image(&t, true, EM_X86_64, segs, 1, 0xffffffff80100040ull);
	ck_assert_int_eq(load(&t, &m, &entry, &end, &lg), 0);
	ck_assert_uint_eq(entry, 0x100040);
	ck_assert_uint_eq(end, 0x100200);
	ram_free(&m);
}
END_TEST

/* Segments may sit in RAM above 4 GiB. */
START_TEST(elf_load_high_ram)
{
	static const struct tseg segs[] = {
	    {PT_LOAD, 0x100000, 0x100000, 0x100, 0x100, 1},
	    {PT_LOAD, 0x100000000ull, 0x100000000ull, 0x100, 0x1000, 2},
	};
	struct capture cap = {0};
	struct logger lg = LOGGER(cap);
	struct guest_mem m;
	uint64_t entry, end;
	struct timage t;

	build_elf_image(&t, true, EM_X86_64, segs, 2, 0x100000);
	ram_init(&m, GUEST_MMIO_HOLE_START + 16 * MiB);
	ck_assert_int_eq(elf_load(&m, t.buf, t.size, &entry, &end, &lg), 0);
	ck_assert_uint_eq(end, 0x100001000ull);
	ck_assert(all_bytes(gpa(&m, 0x100000000ull), 0x100, 2));
	ram_free(&m);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Malformed images: each refused with one line naming the problem.    */

static void expect_fail(struct timage *t, int want, const char *substr)
{
	struct capture cap = {0};
	struct logger lg = LOGGER(cap);
	struct guest_mem m;
	uint64_t entry = 0, end = 0;
	int ret = load(t, &m, &entry, &end, &lg);

	ck_assert_fails(ret, want, cap, substr);
	/* Nothing was written: validation precedes loading. */
	ck_assert_uint_eq(*gpa(&m, 0x100000), 0xaa);
	ram_free(&m);
}

START_TEST(elf_rejects_truncated_header)
{
	struct timage t;

	build_std(&t, true);
	t.size = 40;
	expect_fail(&t, -ENOEXEC,
		    "truncated ELF header (40 bytes, an "
		    "ELF64 header is 64)");
	t.size = 10;
	expect_fail(&t, -ENOEXEC, "truncated ELF header (10 bytes");
}
END_TEST

START_TEST(elf_rejects_bad_magic)
{
	struct timage t;

	build_std(&t, false);
	t.buf[1] = 'X';
	expect_fail(&t, -ENOEXEC, "not an ELF image");
}
END_TEST

START_TEST(elf_rejects_bad_class)
{
	struct timage t;

	build_std(&t, false);
	t.buf[EI_CLASS] = 3;
	expect_fail(&t, -ENOEXEC, "ELF class 3 is neither");
}
END_TEST

START_TEST(elf_rejects_big_endian)
{
	struct timage t;

	build_std(&t, true);
	t.buf[EI_DATA] = ELFDATA2MSB;
	expect_fail(&t, -ENOEXEC, "big-endian");
}
END_TEST

START_TEST(elf_rejects_bad_version)
{
	struct timage t;

	build_std(&t, true);
	t.buf[EI_VERSION] = 2;
	expect_fail(&t, -ENOEXEC, "ELF version 2");
}
END_TEST

START_TEST(elf_rejects_wrong_machine)
{
	struct timage t;

	build_elf_image(&t, false, EM_ARM, std_segs, 3, 0x100000);
	expect_fail(&t, -ENOEXEC, "ELF32 machine 40 is not x86");
	build_elf_image(&t, true, EM_386, std_segs, 3, 0x100000);
	expect_fail(&t, -ENOEXEC, "ELF64 machine 3 is not x86");
}
END_TEST

START_TEST(elf_rejects_relocatable)
{
	struct timage t;

	build_std(&t, false);
	eh32(&t)->e_type = ET_REL;
	expect_fail(&t, -ENOEXEC, "ELF type 1 is not an executable");
}
END_TEST

START_TEST(elf_rejects_bad_phentsize)
{
	struct timage t;

	build_std(&t, true);
	eh64(&t)->e_phentsize = 32;
	expect_fail(&t, -ENOEXEC, "e_phentsize is 32, expected 56");
}
END_TEST

START_TEST(elf_rejects_no_program_headers)
{
	struct timage t;

	build_std(&t, true);
	eh64(&t)->e_phnum = 0;
	expect_fail(&t, -ENOEXEC, "no program headers");
	eh64(&t)->e_phnum = PN_XNUM;
	expect_fail(&t, -ENOEXEC, "PN_XNUM");
}
END_TEST

START_TEST(elf_rejects_phdr_table_out_of_file)
{
	struct timage t;

	build_std(&t, true);
	eh64(&t)->e_phoff = t.size - 100;
	expect_fail(&t, -ENOEXEC,
		    "program header table extends past the "
		    "end of the file");
	eh64(&t)->e_phoff = UINT64_MAX - 8; /* offset + size would wrap */
	expect_fail(&t, -ENOEXEC, "program header table extends past");
	build_std(&t, false);
	eh32(&t)->e_phnum = 1000;
	expect_fail(&t, -ENOEXEC, "(offset 0x34 + 1000 x 32 bytes > ");
}
END_TEST

START_TEST(elf_rejects_segment_past_eof)
{
	struct timage t;

	build_std(&t, true);
	ph64(&t, 2)->p_offset = 0x1000;
	ph64(&t, 2)->p_filesz = 0x5000;
	ph64(&t, 2)->p_memsz = 0x5000;
	t.size = 0x3000;
	expect_fail(&t, -ENOEXEC,
		    "ELF program header 2 extends past the end "
		    "of the file (offset 0x1000 + size 0x5000 > "
		    "0x3000)");
	ph64(&t, 2)->p_offset = UINT64_MAX - 0x10; /* would wrap */
	expect_fail(&t, -ENOEXEC, "ELF program header 2 extends past");
}
END_TEST

START_TEST(elf_rejects_filesz_above_memsz)
{
	struct timage t;

	build_std(&t, false);
	ph32(&t, 0)->p_memsz = 0x200;
	expect_fail(&t, -ENOEXEC,
		    "ELF program header 0 has p_filesz 0x300 "
		    "larger than p_memsz 0x200");
}
END_TEST

START_TEST(elf_rejects_address_overflow)
{
	struct timage t;

	build_std(&t, true);
	ph64(&t, 2)->p_paddr = UINT64_MAX - 0x100;
	expect_fail(&t, -ENOEXEC,
		    "ELF program header 2: 0xfffffffffffffeff "
		    "+ size 0x2000 wraps around");
}
END_TEST

START_TEST(elf_rejects_segment_outside_ram)
{
	struct timage t;

	build_std(&t, true);
	ph64(&t, 2)->p_paddr = 16 * MiB - 0x1000; /* RAM is 16 MiB */
	expect_fail(&t, -EFBIG,
		    "ELF program header 2: [0xfff000, 0x1001000) "
		    "is not in guest RAM ([0, 0x1000000))");
	ph64(&t, 2)->p_paddr = 0x200000000ull;
	expect_fail(&t, -EFBIG, "is not in guest RAM");
}
END_TEST

START_TEST(elf_rejects_segment_in_mmio_hole)
{
	struct timage t;

	build_std(&t, false);
	ph32(&t, 2)->p_paddr = 0xfec00000;
	expect_fail(&t, -ENOEXEC,
		    "ELF program header 2: [0xfec00000, "
		    "0xfec02000) falls in the MMIO hole");
	ph32(&t, 2)->p_paddr = 0xbffff000; /* straddles the hole's start */
	expect_fail(&t, -ENOEXEC, "MMIO hole");
}
END_TEST

START_TEST(elf_rejects_segment_in_boot_area)
{
	struct timage t;

	build_std(&t, false);
	ph32(&t, 2)->p_paddr = 0x70000;
	ph32(&t, 2)->p_memsz = 0x10001;
	expect_fail(&t, -ENOEXEC,
		    "ELF program header 2: [0x70000, 0x80001) "
		    "overlaps [0x80000, 0x9f000)");
}
END_TEST

START_TEST(elf_rejects_no_pt_load)
{
	static const struct tseg segs[] = {
	    {PT_NOTE, 0x100000, 0x100000, 0x20, 0x20, 1},
	    {PT_LOAD, 0x100000, 0x100000, 0, 0, 0}, /* empty */
	};
	struct timage t;

	build_elf_image(&t, true, EM_X86_64, segs, 2, 0x100000);
	expect_fail(&t, -ENOEXEC, "no PT_LOAD segment");
}
END_TEST

START_TEST(elf_rejects_entry_outside_segments)
{
	struct timage t;

	build_std(&t, true);
	eh64(&t)->e_entry = 0x300000;
	expect_fail(&t, -ENOEXEC,
		    "ELF entry point 0x300000 is not inside "
		    "any PT_LOAD segment");
}
END_TEST

/* ------------------------------------------------------------------ */
/* The ELF64 boot protocol                                             */

START_TEST(elf64_boot_plan_and_fdt)
{
	static const uint8_t fdt[] = {0xd0, 0x0d, 0xfe, 0xed, 1, 2, 3, 4};
	struct timage t;
	struct run r;

	build_std(&t, true);
	run_init(&r, elf64_boot_load, t.buf, t.size, 16 * MiB);
	r.in.fdt = fdt;
	r.in.fdt_size = sizeof(fdt);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_elf64_plan(&r, 0x100010, 0x202000);
	ck_assert_mem_eq(gpa(&r.m, BOOT_INFO_ADDR), fdt, sizeof(fdt));
	ck_assert_uint_eq(r.cap.errors, 0);
	ram_free(&r.m);
}
END_TEST

START_TEST(elf64_boot_without_fdt)
{
	struct timage t;
	struct run r;

	build_std(&t, true);
	run_init(&r, elf64_boot_load, t.buf, t.size, 16 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(r.plan.rdi, 0);
	ram_free(&r.m);
}
END_TEST

START_TEST(elf64_boot_rejects)
{
	static uint8_t big_fdt[BOOT_INFO_END - BOOT_INFO_ADDR + 1];
	static const struct tseg high[] = {
	    {PT_LOAD, 0x100000000ull, 0x100000000ull, 0x100, 0x100, 1},
	};
	static const struct boot_mem_range acpi = {0x200080, 0x10,
						   BOOT_MEM_ACPI};
	struct timage t;
	struct run r;

	build_std(&t, false);
	run_init(&r, elf64_boot_load, t.buf, t.size,
		 GUEST_MMIO_HOLE_START + 16 * MiB);
	ck_assert_fails(run_load(&r), -ENOEXEC, r.cap,
			"32-bit ELF (ELFCLASS32) cannot be entered in long "
			"mode");

	build_std(&t, true);
	r.in.fdt = big_fdt;
	r.in.fdt_size = sizeof(big_fdt);
	ck_assert_fails(run_load(&r), -EINVAL, r.cap,
			"does not fit in the boot information area");

	r.in.fdt = NULL;
	r.in.fdt_size = 0;
	build_elf_image(&t, true, EM_X86_64, high, 1, 0x100000010ull);
	ck_assert_fails(run_load(&r), -ENOEXEC, r.cap,
			"entry point 0x100000010 is above 4 GiB");

	/* boot.h: the VM's reserved ranges are never loaded over. */
	build_std(&t, true);
	r.in.reserved = &acpi;
	r.in.nr_reserved = 1;
	ck_assert_fails(run_load(&r), -EFBIG, r.cap,
			"overlaps the VM's reserved range [0x200080, 0x200090)");
	ram_free(&r.m);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Mutations of valid images never crash the loader.                   */

static const uint64_t interesting[] = {
	0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000,
	0xffffffff, 0x100000000ull, 0xc0000000, 0x9f000, 0x100000,
	UINT64_MAX, UINT64_MAX - 0xfff, 0x8000000000000000ull,
};

/* One mutation: a byte, a bit, or an interesting 16/32/64-bit value. */
static void mutate(uint8_t *buf, size_t *size, uint64_t *seed)
{
	uint64_t r = xorshift64_star(seed);
	/* Mostly in the headers, sometimes anywhere. */
	size_t span = r & 1 ? *size : (*size < 0x500 ? *size : 0x500);
	size_t off;
	uint64_t v = interesting[(r >> 40) % (sizeof(interesting) / 8)];

	if (span == 0)
		return;
	off = (r >> 8) % span;
	switch ((r >> 4) % 6) {
	case 0:
		buf[off] = r >> 32;
		break;
	case 1:
		buf[off] ^= 1u << ((r >> 32) & 7);
		break;
	case 2:
		if (off + 2 <= *size)
			memcpy(buf + off, &v, 2);
		break;
	case 3:
		if (off + 4 <= *size)
			memcpy(buf + off, &v, 4);
		break;
	case 4:
		if (off + 8 <= *size)
			memcpy(buf + off, &v, 8);
		break;
	default:
		*size = off; /* truncate */
		break;
	}
}

START_TEST(elf_fuzz_mutations)
{
	struct capture cap = {0};
	struct logger quiet = LOGGER(cap); /* else errors go to stderr */
	struct guest_mem m;
	uint64_t seed = 0x5eed1234abcdull, entry, end;
	struct timage t;
	unsigned int i, n, loaded = 0;

	ram_init(&m, 16 * MiB);
	for (i = 0; i < 4000; i++) {
		size_t size;
		uint8_t *img;

		build_std(&t, i & 1);
		size = t.size;
		for (n = 1 + xorshift64_star(&seed) % 6; n; n--)
			mutate(t.buf, &size, &seed);
		/* An exact-size copy lets ASan/valgrind see any over-read. */
		img = image_dup(t.buf, size);
		if (elf_load(&m, img, size, &entry, &end, &quiet) == 0)
			loaded++;
		free(img);
	}
	ck_assert_uint_gt(loaded, 0); /* some survive: the paths are hit */
	ck_assert_uint_lt(loaded, 4000);
	ram_free(&m);
}
END_TEST

UNIT_SUITE("elf", elf_detect_and_class, elf_load_elf32_segments,
	   elf_load_elf64_segments, elf_load_empty_segment_ignores_offset,
	   elf_load_x32_and_et_dyn,
	   elf_load_virtual_entry_translated, elf_load_high_ram,
	   elf_rejects_truncated_header, elf_rejects_bad_magic,
	   elf_rejects_bad_class, elf_rejects_big_endian,
	   elf_rejects_bad_version, elf_rejects_wrong_machine,
	   elf_rejects_relocatable, elf_rejects_bad_phentsize,
	   elf_rejects_no_program_headers, elf_rejects_phdr_table_out_of_file,
	   elf_rejects_segment_past_eof, elf_rejects_filesz_above_memsz,
	   elf_rejects_address_overflow, elf_rejects_segment_outside_ram,
	   elf_rejects_segment_in_mmio_hole, elf_rejects_segment_in_boot_area,
	   elf_rejects_no_pt_load, elf_rejects_entry_outside_segments,
	   elf64_boot_plan_and_fdt, elf64_boot_without_fdt, elf64_boot_rejects,
	   elf_fuzz_mutations)
