// SPDX-License-Identifier: MIT
/* PVH boot: the Xen entry note, hvm_start_info, modules and memory map. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot_run.h"
#include "elf_image.h"
#include "rng.h"

#define GiB (1ull << 30)
#define ENTRY (MiB + 0x10)
#define SEG_MEMSZ 0x3000
#define HVM_MAGIC 0x336ec578u
#define PHYS32_ENTRY 18
#define SI BOOT_INFO_ADDR

/* ------------------------------------------------------------------ */
/* Images: a PT_LOAD at 1 MiB, then a PT_NOTE with notes as Linux has. */

static size_t pad(size_t v, unsigned int align)
{
	return (v + align - 1) & ~(size_t)(align - 1);
}

/* One note (gABI "Note Section") at p; returns its padded length. */
static size_t put_note(uint8_t *p, uint32_t namesz, const char *name,
		       uint32_t type, const void *desc, uint32_t descsz,
		       unsigned int align)
{
	size_t desc_off = pad(12 + namesz, align);

	put32(p, namesz);
	put32(p + 4, descsz);
	put32(p + 8, type);
	memcpy(p + 12, name, namesz);
	memcpy(p + desc_off, desc, descsz);
	return desc_off + pad(descsz, align);
}

/* Program header 1 (the PT_NOTE): its file offset, size and alignment. */
static uint64_t note_off(struct timage *t)
{
	return t->is64 ? ph64(t, 1)->p_offset : ph32(t, 1)->p_offset;
}

static void set_note_phdr(struct timage *t, uint64_t filesz, uint64_t align)
{
	if (t->is64) {
		ph64(t, 1)->p_filesz = ph64(t, 1)->p_memsz = filesz;
		ph64(t, 1)->p_align = align;
	} else {
		ph32(t, 1)->p_filesz = ph32(t, 1)->p_memsz = filesz;
		ph32(t, 1)->p_align = align;
	}
}

/*
 * An ELF as a PVH-capable vmlinux looks, in small: a build ID note, a
 * Xen note of another type, then XEN_ELFNOTE_PHYS32_ENTRY with a
 * descsz-byte value (4, or 8 as Linux writes it on x86-64).
 */
static void build_pvh(struct timage *t, bool is64, uint64_t entry,
		      uint32_t descsz, unsigned int align)
{
	static const uint8_t build_id[20] = { 1, 2, 3 };
	const struct tseg segs[] = {
		{ PT_LOAD, MiB, MiB, 0x400, SEG_MEMSZ, 0x90 },
		{ PT_NOTE, 0, 0, 0x100, 0x100, 0 },
	};
	uint8_t *p;
	size_t n = 0;

	build_elf_image(t, is64, elf_x86_machine(is64), segs, 2, MiB);
	p = t->buf + note_off(t);
	n += put_note(p + n, 4, "GNU", 3, build_id, sizeof(build_id), align);
	n += put_note(p + n, 4, "Xen", 6, "linux", 6, align);
	n += put_note(p + n, 4, "Xen", PHYS32_ENTRY, &entry, descsz, align);
	set_note_phdr(t, n, align);
}

static void pvh_run(struct run *r, const struct timage *t, uint64_t ram)
{
	run_init(r, boot_load, t->buf, t->size, ram);
}

struct mm {
	uint64_t addr, size;
	uint32_t type;
};

static struct mm memmap_at(const struct run *r, unsigned int i)
{
	uint64_t e = rd64(&r->m, SI + 40) + 24 * i;

	return (struct mm){ rd64(&r->m, e), rd64(&r->m, e + 8),
			    rd32(&r->m, e + 16) };
}

#define ck_assert_mm(r, i, a, s, t)                                            \
	do {                                                                   \
		struct mm m_ = memmap_at((r), (i));                            \
		ck_assert_uint_eq(m_.addr, (a));                               \
		ck_assert_uint_eq(m_.size, (s));                               \
		ck_assert_uint_eq(m_.type, (t));                               \
	} while (0)

/* ------------------------------------------------------------------ */
/* Detection                                                           */

START_TEST(pvh_detect_note)
{
	struct timage t;
	uint8_t *p;

	build_pvh(&t, true, ENTRY, 4, 4);
	ck_assert(pvh_detect(t.buf, t.size));
	build_pvh(&t, false, ENTRY, 4, 4);
	ck_assert(pvh_detect(t.buf, t.size));
	ck_assert(!pvh_detect(NULL, 0));
	ck_assert(!pvh_detect(t.buf, 40));

	/* The same note under another type, name or name size. */
	build_pvh(&t, true, ENTRY, 4, 4);
	p = t.buf + note_off(&t) + 36 + 24; /* after GNU 3 and Xen 6 */
	put32(p + 8, 17);
	ck_assert(!pvh_detect(t.buf, t.size));
	put32(p + 8, PHYS32_ENTRY);
	memcpy(p + 12, "XEN", 4);
	ck_assert(!pvh_detect(t.buf, t.size));
	memcpy(p + 12, "Xen", 4);
	put32(p, 3);
	ck_assert(!pvh_detect(t.buf, t.size));
	put32(p, 4);
	ck_assert(pvh_detect(t.buf, t.size));

	/* Only PT_NOTE segments are searched. */
	ph64(&t, 1)->p_type = PT_LOAD + 0x100;
	ck_assert(!pvh_detect(t.buf, t.size));
	/* Nor is a multiboot or a plain image one. */
	ck_assert(!pvh_detect((const uint8_t *)"\x7f"
					       "ELF",
			      4));
}
END_TEST

/* With p_align 8, names and descriptors are padded to 8 bytes. */
START_TEST(pvh_note_alignment_8)
{
	struct timage t;
	struct run r;

	build_pvh(&t, true, ENTRY, 4, 8);
	ck_assert(pvh_detect(t.buf, t.size));
	pvh_run(&r, &t, 16 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(r.plan.entry, ENTRY);
	ram_free(&r.m);
	/* The same bytes walked with 4-byte padding miss the entry note. */
	set_note_phdr(&t, ph64(&t, 1)->p_filesz, 4);
	ck_assert(!pvh_detect(t.buf, t.size));
}
END_TEST

/*
 * QEMU's order: multiboot before the note; the note before plain ELF64
 * (a vmlinux's e_entry wants boot_params, not splitvm's FDT).
 */
START_TEST(pvh_detection_order)
{
	struct timage t;
	struct run r;

	build_pvh(&t, false, ENTRY, 4, 4);
	mb_header(t.buf + ELF_DATA_START, 0);
	pvh_run(&r, &t, 16 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_str_eq(r.plan.protocol, "multiboot");
	ram_free(&r.m);

	build_pvh(&t, true, ENTRY, 4, 4);
	pvh_run(&r, &t, 16 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_str_eq(r.plan.protocol, "pvh");
	ram_free(&r.m);

	/* An ELF32 without either is told about both. */
	build_pvh(&t, false, ENTRY, 4, 4);
	ph32(&t, 1)->p_type = PT_NULL;
	run_expect_fail(boot_load, t.buf, t.size, -ENOEXEC,
			"32-bit ELF kernels need a multiboot header (none in "
			"the first 8192 bytes) or a Xen PVH entry note");
}
END_TEST

/* ------------------------------------------------------------------ */
/* The plan and hvm_start_info                                         */

static void check_start_info(bool is64)
{
	struct timage t;
	struct run r;

	build_pvh(&t, is64, ENTRY, 4, 4);
	pvh_run(&r, &t, 16 * MiB);
	r.in.cmdline = "console=ttyS0";
	r.in.acpi_rsdp = 0xf0010;
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(r.cap.errors, 0);
	ck_assert_str_eq(r.plan.protocol, "pvh");
	ck_assert_int_eq(r.plan.mode, BOOT_MODE_PROTECTED32);
	ck_assert_uint_eq(r.plan.entry, ENTRY);
	ck_assert_uint_eq(r.plan.rbx, SI);
	ck_assert_uint_eq(r.plan.rsp, BOOT_STACK_TOP);
	ck_assert_uint_eq(r.plan.rax | r.plan.rsi | r.plan.rdi, 0);
	ck_assert_uint_eq(r.plan.image_end, MiB + SEG_MEMSZ);
	/* The segment, loaded by elf_load(). */
	ck_assert(all_bytes(gpa(&r.m, MiB), 0x400, 0x90));
	ck_assert(all_bytes(gpa(&r.m, MiB + 0x400), SEG_MEMSZ - 0x400, 0));
	/* start_info.h, version 1. */
	ck_assert_uint_eq(rd32(&r.m, SI), HVM_MAGIC);
	ck_assert_uint_eq(rd32(&r.m, SI + 4), 1);
	ck_assert_uint_eq(rd32(&r.m, SI + 8), 0);
	ck_assert_uint_eq(rd32(&r.m, SI + 12), 0);
	ck_assert_uint_eq(rd64(&r.m, SI + 16), 0);
	ck_assert_str_eq((const char *)gpa(&r.m, rd64(&r.m, SI + 24)),
			 "console=ttyS0");
	ck_assert_uint_eq(rd64(&r.m, SI + 32), 0xf0010);
	ck_assert_uint_lt(rd64(&r.m, SI + 40), BOOT_INFO_END);
	ck_assert_uint_eq(rd64(&r.m, SI + 40) % 8, 0);
	ck_assert_uint_eq(rd32(&r.m, SI + 48), 3);
	ck_assert_uint_eq(rd32(&r.m, SI + 52), 0);
	ck_assert_mm(&r, 0, 0, 0x9fc00, 1);
	ck_assert_mm(&r, 1, 0x9fc00, 0x60400, 2);
	ck_assert_mm(&r, 2, MiB, 15 * MiB, 1);
	ck_assert_uint_eq(rd32(&r.m, rd64(&r.m, SI + 40) + 20), 0);
	ram_free(&r.m);
}

START_TEST(pvh_start_info_elf64)
{
	check_start_info(true);
}
END_TEST

START_TEST(pvh_start_info_elf32)
{
	check_start_info(false);
}
END_TEST

/* No cmdline: an empty one; the kernel's file name is never passed. */
START_TEST(pvh_cmdline_empty)
{
	struct timage t;
	struct run r;

	build_pvh(&t, true, ENTRY, 4, 4);
	pvh_run(&r, &t, 16 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_str_eq((const char *)gpa(&r.m, rd64(&r.m, SI + 24)), "");
	ram_free(&r.m);
}
END_TEST

/* Linux on x86-64 writes the entry with _ASM_PTR: 8 bytes. */
START_TEST(pvh_entry_8_bytes)
{
	struct timage t;
	struct run r;

	build_pvh(&t, true, ENTRY + 4, 8, 4);
	pvh_run(&r, &t, 16 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(r.plan.entry, ENTRY + 4);
	ram_free(&r.m);
	build_pvh(&t, true, ENTRY | (1ull << 32), 8, 4);
	run_expect_fail(boot_load, t.buf, t.size, -ENOEXEC,
			"kernel: the Xen PVH entry point 0x100100010 is above "
			"4 GiB, out of reach of a 32-bit entry");
}
END_TEST

START_TEST(pvh_rejects_bad_desc_size)
{
	struct timage t;

	build_pvh(&t, true, ENTRY, 2, 4);
	run_expect_fail(boot_load, t.buf, t.size, -ENOEXEC,
			"kernel: the Xen PVH entry note holds 2 bytes; "
			"XEN_ELFNOTE_PHYS32_ENTRY is a 4-byte (or 8-byte) "
			"physical address");
	build_pvh(&t, false, ENTRY, 0, 4);
	run_expect_fail(boot_load, t.buf, t.size, -ENOEXEC,
			"entry note holds 0 bytes");
}
END_TEST

START_TEST(pvh_rejects_entry_outside_segments)
{
	struct timage t;

	build_pvh(&t, true, MiB + SEG_MEMSZ, 4, 4);
	run_expect_fail(boot_load, t.buf, t.size, -ENOEXEC,
			"kernel: the Xen PVH entry point 0x103000 is not "
			"inside any PT_LOAD segment");
	build_pvh(&t, false, MiB - 1, 4, 4);
	run_expect_fail(boot_load, t.buf, t.size, -ENOEXEC,
			"entry point 0xfffff is not inside");
}
END_TEST

/* Segments above 4 GiB load into high RAM, but a 32-bit entry can't go. */
START_TEST(pvh_rejects_above_4g)
{
	struct timage t;
	struct run r;

	build_pvh(&t, true, ENTRY, 4, 4);
	ph64(&t, 0)->p_paddr = 4 * GiB;
	ph64(&t, 0)->p_vaddr = MiB; /* e_entry found through p_vaddr */
	pvh_run(&r, &t, 3 * GiB + 64 * MiB);
	ck_assert_fails(run_load(&r), -ENOEXEC, r.cap,
			"entry point 0x100010 is not inside any PT_LOAD");
	{
		const struct tseg segs[] = {
			{ PT_LOAD, MiB, MiB, 0x400, SEG_MEMSZ, 0x90 },
			{ PT_NOTE, 0, 0, 0x100, 0x100, 0 },
			{ PT_LOAD, 4 * GiB, 4 * GiB, 0x10, 0x10, 0x11 },
		};
		uint32_t entry = ENTRY;
		size_t n;

		build_elf_image(&t, true, EM_X86_64, segs, 3, MiB);
		n = put_note(t.buf + note_off(&t), 4, "Xen", PHYS32_ENTRY,
			     &entry, 4, 4);
		set_note_phdr(&t, n, 4);
	}
	r.in.kernel = t.buf;
	r.in.kernel_size = t.size;
	ck_assert_fails(run_load(&r), -ENOEXEC, r.cap,
			"kernel: the PVH image ends at 0x100000010, above "
			"4 GiB, out of reach of its 32-bit entry");
	ram_free(&r.m);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Modules, reserved ranges, the memory map                            */

static uint8_t mod_a[0x1801], mod_b[5];

START_TEST(pvh_modules)
{
	struct boot_module mods[] = {
		{ mod_a, sizeof(mod_a), "initrd.img" },
		{ mod_b, sizeof(mod_b), NULL },
		{ NULL, 0, "empty" },
	};
	struct timage t;
	struct run r;
	uint64_t list;

	memset(mod_a, 0x5a, sizeof(mod_a));
	memcpy(mod_b, "hello", 5);
	build_pvh(&t, true, ENTRY, 4, 4);
	pvh_run(&r, &t, 16 * MiB);
	r.in.modules = mods;
	r.in.nr_modules = 3;
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(rd32(&r.m, SI + 12), 3);
	list = rd64(&r.m, SI + 16);
	ck_assert_uint_ne(list, 0);
	ck_assert_uint_eq(list % 8, 0);
	/* Page-aligned, after the kernel. */
	ck_assert_uint_eq(rd64(&r.m, list), MiB + SEG_MEMSZ);
	ck_assert_uint_eq(rd64(&r.m, list + 8), sizeof(mod_a));
	ck_assert_str_eq((const char *)gpa(&r.m, rd64(&r.m, list + 16)),
			 "initrd.img");
	ck_assert_uint_eq(rd64(&r.m, list + 24), 0);
	ck_assert(all_bytes(gpa(&r.m, MiB + SEG_MEMSZ), sizeof(mod_a), 0x5a));
	ck_assert_uint_eq(rd64(&r.m, list + 32), MiB + SEG_MEMSZ + 0x2000);
	ck_assert_uint_eq(rd64(&r.m, list + 40), 5);
	ck_assert_uint_eq(rd64(&r.m, list + 48), 0); /* no string */
	ck_assert_int_eq(
		memcmp(gpa(&r.m, MiB + SEG_MEMSZ + 0x2000), "hello", 5), 0);
	ck_assert_uint_eq(rd64(&r.m, list + 64), MiB + SEG_MEMSZ + 0x3000);
	ck_assert_uint_eq(rd64(&r.m, list + 72), 0);
	ck_assert_uint_eq(r.plan.image_end, MiB + SEG_MEMSZ + 0x3000);
	ram_free(&r.m);
}
END_TEST

START_TEST(pvh_modules_skip_reserved)
{
	const struct boot_mem_range res[] = {
		{ MiB + SEG_MEMSZ + 0x800, 0x100, BOOT_MEM_ACPI },
		{ MiB + SEG_MEMSZ + 0x2000, 0x1000, BOOT_MEM_NVS },
	};
	struct boot_module mod = { mod_a, sizeof(mod_a), "initrd.img" };
	struct timage t;
	struct run r;

	build_pvh(&t, false, ENTRY, 4, 4);
	pvh_run(&r, &t, 16 * MiB);
	r.in.modules = &mod;
	r.in.nr_modules = 1;
	r.in.reserved = res;
	r.in.nr_reserved = 2;
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(rd64(&r.m, rd64(&r.m, SI + 16)),
			  MiB + SEG_MEMSZ + 0x3000);
	ram_free(&r.m);
}
END_TEST

START_TEST(pvh_rejects_modules)
{
	struct boot_module mods[2] = { { mod_a, 15 * MiB, "big" } };
	struct timage t;
	struct run r;

	build_pvh(&t, true, ENTRY, 4, 4);
	pvh_run(&r, &t, 16 * MiB);
	r.in.modules = mods;
	r.in.nr_modules = 1;
	ck_assert_fails(run_load(&r), -EFBIG, r.cap,
			"module 0 (big, 15728640 bytes) does not fit in guest "
			"RAM after 0x103000 (RAM below the MMIO hole ends at "
			"0x1000000)");
	mods[0] = (struct boot_module){ NULL, 1, NULL };
	ck_assert_fails(run_load(&r), -EINVAL, r.cap, "module 0 (): no data");
	r.in.modules = NULL;
	ck_assert_fails(run_load(&r), -EINVAL, r.cap,
			"1 modules but no module array");
	ram_free(&r.m);
}
END_TEST

/* The start information area is finite: everything in it is checked. */
START_TEST(pvh_rejects_info_area_full)
{
	static struct boot_module mods[3000];
	static char big[0x18000];
	struct timage t;
	struct run r;
	unsigned int i;

	for (i = 0; i < 3000; i++)
		mods[i] = (struct boot_module){ mod_b, 1, "m" };
	build_pvh(&t, true, ENTRY, 4, 4);
	pvh_run(&r, &t, 16 * MiB);
	r.in.modules = mods;
	r.in.nr_modules = 3000;
	ck_assert_fails(run_load(&r), -EFBIG, r.cap,
			"the module list does not fit in the PVH start "
			"information area (94208 bytes at 0x88000)");
	r.in.nr_modules = 2800; /* the list fits, not all the strings */
	ck_assert_fails(run_load(&r), -EFBIG, r.cap,
			"a module's string does not fit");
	r.in.nr_modules = 0;
	memset(big, 'x', sizeof(big) - 1);
	r.in.cmdline = big;
	ck_assert_fails(run_load(&r), -EFBIG, r.cap,
			"the kernel command line does not fit");
	ram_free(&r.m);
}
END_TEST

START_TEST(pvh_memmap_reserved_and_high_ram)
{
	const struct boot_mem_range res[] = {
		{ 3 * GiB - 128 * 1024, 128 * 1024, BOOT_MEM_ACPI },
		{ 0xfec00000, 0x1000, BOOT_MEM_RESERVED },
	};
	struct timage t;
	struct run r;

	build_pvh(&t, true, ENTRY, 4, 4);
	pvh_run(&r, &t, 3 * GiB + 64 * MiB);
	r.in.reserved = res;
	r.in.nr_reserved = 2;
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(rd32(&r.m, SI + 48), 6);
	ck_assert_mm(&r, 2, MiB, 3 * GiB - 128 * 1024 - MiB, 1);
	ck_assert_mm(&r, 3, 3 * GiB - 128 * 1024, 128 * 1024, 3);
	ck_assert_mm(&r, 4, 0xfec00000, 0x1000, 2);
	ck_assert_mm(&r, 5, 4 * GiB, 64 * MiB, 1);
	ram_free(&r.m);
}
END_TEST

/* Checked before anything is written, for PVH and plain ELF64 alike. */
START_TEST(pvh_rejects_segment_over_reserved)
{
	const struct boot_mem_range res = { MiB + 0x2000, 0x10, BOOT_MEM_ACPI };
	struct timage t;
	struct run r;

	build_pvh(&t, true, ENTRY, 4, 4);
	pvh_run(&r, &t, 16 * MiB);
	r.in.reserved = &res;
	r.in.nr_reserved = 1;
	ck_assert_fails(
		run_load(&r), -EFBIG, r.cap,
		"kernel: ELF program header 0 [0x100000, 0x103000) "
		"overlaps the VM's reserved range [0x102000, 0x102010)");
	ck_assert(all_bytes(gpa(&r.m, MiB), SEG_MEMSZ, 0xaa));
	/* The same image without its note: plain ELF64. */
	ph64(&t, 1)->p_type = PT_NULL;
	ck_assert_fails(run_load(&r), -EFBIG, r.cap,
			"ELF program header 0 [0x100000, 0x103000) overlaps");
	ck_assert(all_bytes(gpa(&r.m, MiB), SEG_MEMSZ, 0xaa));
	r.in.nr_reserved = 0;
	/* pvh_load() called directly checks the ranges themselves. */
	{
		const struct boot_mem_range bad = { BOOT_INFO_ADDR, 0x10,
						    BOOT_MEM_ACPI };

		ph64(&t, 1)->p_type = PT_NOTE;
		r.load = pvh_load;
		r.in.reserved = &bad;
		r.in.nr_reserved = 1;
		ck_assert_fails(run_load(&r), -EINVAL, r.cap,
				"overlaps where splitvm writes");
		ck_assert(all_bytes(gpa(&r.m, BOOT_INFO_ADDR), 0x10, 0xaa));
		r.load = boot_load;
		r.in.nr_reserved = 0;
		ph64(&t, 1)->p_type = PT_NULL;
	}
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_str_eq(r.plan.protocol, "elf64");
	ram_free(&r.m);
}
END_TEST

START_TEST(pvh_load_refuses_non_pvh)
{
	struct timage t;

	build_pvh(&t, true, ENTRY, 4, 4);
	ph64(&t, 1)->p_type = PT_NULL;
	run_expect_fail(pvh_load, t.buf, t.size, -ENOEXEC,
			"kernel: no Xen PVH entry note "
			"(XEN_ELFNOTE_PHYS32_ENTRY) in the ELF image");
}
END_TEST

/* Sizes that point outside the segment or the file end the walk. */
START_TEST(pvh_malformed_notes_not_detected)
{
	static const uint32_t bad[][2] = {
		{ 0xffffffff, 4 }, { 0xfffffff0, 4 }, { 4, 0xffffffff },
		{ 4, 0xfffffffc }, { 4, 0x100 },      { 0x100, 4 },
	};
	struct timage t;
	uint8_t *img, *p;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		build_pvh(&t, true, ENTRY, 4, 4);
		p = t.buf + note_off(&t);
		put32(p, bad[i][0]); /* the first note's sizes */
		put32(p + 4, bad[i][1]);
		img = image_dup(t.buf, t.size);
		ck_assert_msg(!pvh_detect(img, t.size), "case %u", i);
		free(img);
	}
	/* The PT_NOTE segment past the end of the file. */
	build_pvh(&t, true, ENTRY, 4, 4);
	ph64(&t, 1)->p_offset = t.size;
	ck_assert(!pvh_detect(t.buf, t.size));
	ph64(&t, 1)->p_offset = UINT64_MAX;
	ck_assert(!pvh_detect(t.buf, t.size));
	build_pvh(&t, true, ENTRY, 4, 4);
	ph64(&t, 1)->p_filesz = t.size;
	ck_assert(!pvh_detect(t.buf, t.size));
	/* The program header table itself out of the file. */
	build_pvh(&t, true, ENTRY, 4, 4);
	eh64(&t)->e_phnum = 0xfffe;
	ck_assert(!pvh_detect(t.buf, t.size));
	eh64(&t)->e_phnum = 2;
	eh64(&t)->e_phoff = UINT64_MAX - 8;
	ck_assert(!pvh_detect(t.buf, t.size));
	/*
	 * p_filesz without the last note's padding (8-byte notes, a 4-byte
	 * descriptor): the entry note is still found; a note of another type
	 * there ends the walk, which must not step past the segment.
	 */
	build_pvh(&t, true, ENTRY, 4, 8);
	set_note_phdr(&t, ph64(&t, 1)->p_filesz - 4, 8);
	t.size = note_off(&t) + ph64(&t, 1)->p_filesz;
	img = image_dup(t.buf, t.size);
	ck_assert(pvh_detect(img, t.size));
	put32(img + t.size - 12, 17);
	ck_assert(!pvh_detect(img, t.size));
	free(img);
	/* The file cut inside the notes (80 bytes): the segment is gone. */
	build_pvh(&t, true, ENTRY, 4, 4);
	ck_assert_uint_eq(ph64(&t, 1)->p_filesz, 80);
	img = image_dup(t.buf, note_off(&t) + 79);
	ck_assert(!pvh_detect(img, note_off(&t) + 79));
	free(img);
	img = image_dup(t.buf, note_off(&t) + 80);
	ck_assert(pvh_detect(img, note_off(&t) + 80));
	free(img);
}
END_TEST

START_TEST(pvh_fuzz_mutations)
{
	const struct boot_mem_range res[] = {
		{ MiB + 0x8000, 0x1000, BOOT_MEM_ACPI },
		{ 8 * MiB, MiB, BOOT_MEM_NVS },
	};
	struct boot_module mods[2] = { { mod_a, sizeof(mod_a), "a" },
				       { mod_b, sizeof(mod_b), NULL } };
	uint64_t seed = 0x9e3779b97f4a7c15ull, v;
	unsigned int i, n, ok = 0, pvh = 0;
	struct timage t;
	struct run r;
	uint8_t *img;
	size_t size, off, span;
	int ret;

	build_pvh(&t, true, ENTRY, 4, 4);
	pvh_run(&r, &t, 16 * MiB);
	for (i = 0; i < 5000; i++) {
		build_pvh(&t, i & 1, ENTRY, (i & 2) ? 8 : 4, (i & 4) ? 8 : 4);
		size = t.size;
		span = note_off(&t) + 0x60;
		for (n = 1 + xorshift64_star(&seed) % 4; n; n--) {
			v = xorshift64_star(&seed);
			/* Mostly the headers and the notes. */
			off = (v >> 16) % (v & 0x400 ? size : span);
			if (off >= size)
				continue;
			if (v & 0x100)
				t.buf[off] = v >> 40;
			else if (off + 4 <= size)
				put32(t.buf + off, v >> 32);
			if ((v & 0xf0) == 0)
				size = (v >> 24) % (size + 1);
		}
		img = image_dup(t.buf, size);
		r.in.kernel = img;
		r.in.kernel_size = size;
		r.in.modules = mods;
		r.in.nr_modules = i % 3;
		r.in.reserved = res;
		r.in.nr_reserved = (i >> 3) % 3;
		r.in.cmdline = (i & 16) ? "console=ttyS0" : NULL;
		(void)pvh_detect(img, size);
		ret = run_load(&r);
		ck_assert_msg(ret == 0 || ret == -ENOEXEC || ret == -EFBIG ||
				      ret == -EINVAL,
			      "iteration %u: %d", i, ret);
		/* One clear line for each refusal, none on success. */
		ck_assert_uint_eq(r.cap.errors, ret ? 1 : 0);
		if (ret == 0) {
			ok++;
			ck_assert_uint_eq(r.cap.errors, 0);
			ck_assert_uint_lt(r.plan.entry, r.plan.image_end);
			if (!strcmp(r.plan.protocol, "pvh")) {
				pvh++;
				ck_assert_uint_eq(rd32(&r.m, SI), HVM_MAGIC);
				ck_assert_uint_lt(r.plan.entry, 4 * GiB);
			}
		}
		free(img);
	}
	ck_assert_uint_gt(pvh, 100);
	ck_assert_uint_ge(ok, pvh);
	ram_free(&r.m);
}
END_TEST

UNIT_SUITE("pvh", pvh_detect_note, pvh_note_alignment_8, pvh_detection_order,
	   pvh_start_info_elf64, pvh_start_info_elf32, pvh_cmdline_empty,
	   pvh_entry_8_bytes, pvh_rejects_bad_desc_size,
	   pvh_rejects_entry_outside_segments, pvh_rejects_above_4g,
	   pvh_modules, pvh_modules_skip_reserved, pvh_rejects_modules,
	   pvh_rejects_info_area_full, pvh_memmap_reserved_and_high_ram,
	   pvh_rejects_segment_over_reserved, pvh_load_refuses_non_pvh,
	   pvh_malformed_notes_not_detected, pvh_fuzz_mutations)
