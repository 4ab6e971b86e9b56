// SPDX-License-Identifier: MIT
/* Linux bzImage loading: setup header checks, boot_params, e820, initrd. */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "boot_run.h"
#include "elf_image.h"
#include "rng.h"

#define GiB (1ull << 30)
#define ZP BOOT_PARAMS_ADDR
#define PREF (16 * MiB)
#define INIT_SIZE (8 * MiB)
#define PAYLOAD 0x2000
#define ENTRY_BYTE 0xe9 /* at payload + 0x200: the 64-bit entry */

/* ------------------------------------------------------------------ */
/* A minimal bzImage: setup sectors with a 2.15 header, then a payload. */

struct tbz {
	uint8_t buf[0x20000];
	size_t size;
	size_t setup; /* bytes of setup: (setup_sects + 1) * 512 */
};

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint8_t payload_byte(size_t i)
{
	return i == 0x200 ? ENTRY_BYTE : (uint8_t)(i * 13 + 7);
}

/* Sets syssize from the payload the image holds now. */
static void bz_set_syssize(struct tbz *t)
{
	put32(t->buf + 0x1f4, (t->size - t->setup + 15) / 16);
}

/*
 * As arch/x86/boot/header.S lays one out (boot.rst "The Real-Mode Kernel
 * Header"), with the values of a 64-bit x86 kernel: protocol 2.15,
 * relocatable, 2 MiB aligned, pref_address 16 MiB.
 */
static void build_bz(struct tbz *t, unsigned int sects, size_t payload)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->setup = ((sects ? sects : 4) + 1) * 512;
	t->size = t->setup + payload;
	ck_assert_uint_le(t->size, sizeof(t->buf));
	memset(t->buf, 0xcc, t->setup); /* setup code, and past the header */
	memset(t->buf + 0x1f1, 0, 0x7b);
	t->buf[0x1f1] = sects;
	put16(t->buf + 0x1fe, 0xaa55);
	t->buf[0x200] = 0xeb; /* jmp short start_of_setup, right after */
	t->buf[0x201] = 0x6a; /* the 2.15 header: it ends at 0x26c */
	memcpy(t->buf + 0x202, "HdrS", 4);
	put16(t->buf + 0x206, 0x020f);
	put16(t->buf + 0x20e, 0x3a0); /* kernel_version */
	t->buf[0x211] = 0x01;	      /* LOADED_HIGH */
	put32(t->buf + 0x214, 0x100000);
	put32(t->buf + 0x22c, 0x7fffffff);
	put32(t->buf + 0x230, 2 * MiB);
	t->buf[0x234] = 1;
	t->buf[0x235] = 21;
	put16(t->buf + 0x236, 0x7f); /* KERNEL_64, ABOVE_4G, EFI, 5-level */
	put32(t->buf + 0x238, 2047);
	put64(t->buf + 0x250, 0xdeadbeef); /* setup_data: must not pass */
	put64(t->buf + 0x258, PREF);
	put32(t->buf + 0x260, INIT_SIZE);
	put32(t->buf + 0x264, 0x190);
	put32(t->buf + 0x268, 0x1234);
	for (i = 0; i < payload; i++)
		t->buf[t->setup + i] = payload_byte(i);
	bz_set_syssize(t);
}

static void bz_run(struct run *r, const struct tbz *t, uint64_t ram)
{
	run_init(r, boot_load, t->buf, t->size, ram);
	r->in.kernel_name = "vmlinuz";
}

static void bz_expect_fail(const struct tbz *t, uint64_t ram, int want,
			   const char *substr)
{
	struct run r;

	bz_run(&r, t, ram);
	ck_assert_fails(run_load(&r), want, r.cap, substr);
	ram_free(&r.m);
}

struct e820 {
	uint64_t addr, size;
	uint32_t type;
};

static struct e820 e820_at(const struct run *r, unsigned int i)
{
	uint64_t e = ZP + 0x2d0 + 20 * i;

	return (struct e820){ rd64(&r->m, e), rd64(&r->m, e + 8),
			      rd32(&r->m, e + 16) };
}

#define ck_assert_e820(r, i, a, s, t)                                          \
	do {                                                                   \
		struct e820 e_ = e820_at((r), (i));                            \
		ck_assert_uint_eq(e_.addr, (a));                               \
		ck_assert_uint_eq(e_.size, (s));                               \
		ck_assert_uint_eq(e_.type, (t));                               \
	} while (0)

static uint8_t zp8(const struct run *r, uint64_t off)
{
	return *gpa(&r->m, ZP + off);
}

/* ------------------------------------------------------------------ */
/* Detection                                                           */

START_TEST(bzimage_detect_hdrs)
{
	static struct tbz t;
	struct timage e;
	static const struct tseg seg = { PT_LOAD, MiB, MiB, 0x400, 0x400, 1 };

	build_bz(&t, 4, PAYLOAD);
	ck_assert(bzimage_detect(t.buf, t.size));
	ck_assert(bzimage_detect(t.buf, 0x206));
	ck_assert(!bzimage_detect(t.buf, 0x205));
	ck_assert(!bzimage_detect(NULL, 0x1000));
	t.buf[0x205] = 'Z';
	ck_assert(!bzimage_detect(t.buf, t.size));
	/* An ELF never is a bzImage, whatever sits at 0x202. */
	build_elf_image(&e, true, EM_X86_64, &seg, 1, MiB);
	memcpy(e.buf + 0x202, "HdrS", 4);
	ck_assert(!bzimage_detect(e.buf, e.size));
}
END_TEST

/* QEMU's order: "HdrS" first, even with a multiboot header inside. */
START_TEST(bzimage_wins_over_multiboot)
{
	static struct tbz t;
	struct run r;

	build_bz(&t, 4, PAYLOAD);
	mb_header(t.buf + 0x400, 0);
	bz_run(&r, &t, 64 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_str_eq(r.plan.protocol, "bzimage");
	ram_free(&r.m);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The plan, the kernel and boot_params                                */

START_TEST(bzimage_plan_and_kernel)
{
	static struct tbz t;
	struct run r;
	size_t i;

	build_bz(&t, 4, PAYLOAD);
	bz_run(&r, &t, 64 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(r.cap.errors, 0);
	ck_assert_str_eq(r.plan.protocol, "bzimage");
	ck_assert_int_eq(r.plan.mode, BOOT_MODE_LONG64);
	ck_assert_uint_eq(r.plan.entry, PREF + 0x200);
	ck_assert_uint_eq(*gpa(&r.m, r.plan.entry), ENTRY_BYTE);
	ck_assert_uint_eq(r.plan.rsi, ZP);
	ck_assert_uint_eq(r.plan.rsp, BOOT_STACK_TOP);
	ck_assert_uint_eq(r.plan.rax | r.plan.rbx | r.plan.rdi, 0);
	ck_assert_uint_eq(r.plan.image_end, PREF + INIT_SIZE);
	for (i = 0; i < PAYLOAD; i++)
		ck_assert_uint_eq(*gpa(&r.m, PREF + i), payload_byte(i));
	/* Only the payload is written; init_size is the kernel's. */
	ck_assert(all_bytes(gpa(&r.m, PREF + PAYLOAD), 0x1000, 0xaa));
	/* The identity map the 64-bit entry needs is in place. */
	ck_assert_uint_eq(rd64(&r.m, BOOT_PML4_ADDR), 0x82003);
	ram_free(&r.m);
}
END_TEST

/* setup_sects 0 means 4 ("Details of Header Fields"). */
START_TEST(bzimage_setup_sects_zero_means_4)
{
	static struct tbz t;
	struct run r;

	build_bz(&t, 0, PAYLOAD);
	ck_assert_uint_eq(t.setup, 5 * 512);
	bz_run(&r, &t, 64 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(*gpa(&r.m, PREF), payload_byte(0));
	ck_assert_uint_eq(*gpa(&r.m, PREF + 0x200), ENTRY_BYTE);
	ram_free(&r.m);

	build_bz(&t, 30, PAYLOAD);
	bz_run(&r, &t, 64 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(*gpa(&r.m, PREF + 0x200), ENTRY_BYTE);
	ram_free(&r.m);
}
END_TEST

START_TEST(bzimage_boot_params_header)
{
	static struct tbz t;
	struct run r;

	build_bz(&t, 4, PAYLOAD);
	t.buf[0x211] |=
		0x80 | 0x40 | 0x20 | 0x02; /* heap, segs, quiet, KASLR */
	bz_run(&r, &t, 64 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	/* Zeroed, then the header [0x1f1, 0x26c) copied from the image. */
	ck_assert(all_bytes(gpa(&r.m, ZP), 0x70, 0));
	ck_assert(all_bytes(gpa(&r.m, ZP + 0x78), 0xc0 - 0x78, 0));
	ck_assert(all_bytes(gpa(&r.m, ZP + 0xcc), 0x1e8 - 0xcc, 0));
	ck_assert_uint_eq(zp8(&r, 0x1ef), 0); /* sentinel */
	ck_assert_uint_eq(zp8(&r, 0x1f1), 4);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0x1f4), PAYLOAD / 16);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0x1fe) & 0xffff, 0xaa55);
	ck_assert_int_eq(memcmp(gpa(&r.m, ZP + 0x202), "HdrS", 4), 0);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0x206) & 0xffff, 0x020f);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0x230), 2 * MiB);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0x238), 2047);
	ck_assert_uint_eq(rd64(&r.m, ZP + 0x258), PREF);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0x260), INIT_SIZE);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0x268), 0x1234);
	/* Not the image's setup code after the header. */
	ck_assert(all_bytes(gpa(&r.m, ZP + 0x26c), 0x2d0 - 0x26c, 0));
	/* What the loader writes. */
	ck_assert_uint_eq(zp8(&r, 0x210), 0xff);
	ck_assert_uint_eq(zp8(&r, 0x211), 0x01 | 0x20);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0x214), PREF);
	ck_assert_uint_eq(rd64(&r.m, ZP + 0x250), 0);
	ck_assert_uint_eq(rd64(&r.m, ZP + 0x70), 0);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0x218), 0);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0x21c), 0);
	ram_free(&r.m);
}
END_TEST

START_TEST(bzimage_cmdline)
{
	static struct tbz t;
	struct run r;

	build_bz(&t, 4, PAYLOAD);
	bz_run(&r, &t, 64 * MiB);
	r.in.cmdline = "console=ttyS0 root=/dev/vda";
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0x228), BOOT_INFO_ADDR);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0xc8), 0);
	/* Linux gets its arguments alone, not the kernel's name. */
	ck_assert_str_eq((const char *)gpa(&r.m, BOOT_INFO_ADDR),
			 "console=ttyS0 root=/dev/vda");

	r.in.cmdline = NULL;
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0x228), BOOT_INFO_ADDR);
	ck_assert_str_eq((const char *)gpa(&r.m, BOOT_INFO_ADDR), "");
	ram_free(&r.m);
}
END_TEST

START_TEST(bzimage_rejects_cmdline_too_long)
{
	static struct tbz t;
	static char big[0x18000];
	struct run r;

	build_bz(&t, 4, PAYLOAD);
	put32(t.buf + 0x238, 16);
	bz_run(&r, &t, 64 * MiB);
	r.in.cmdline = "0123456789abcdef";
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_str_eq((const char *)gpa(&r.m, BOOT_INFO_ADDR),
			 "0123456789abcdef");
	r.in.cmdline = "0123456789abcdefg";
	ck_assert_fails(run_load(&r), -EINVAL, r.cap,
			"kernel command line is 17 bytes; this Linux kernel "
			"takes at most 16 (cmdline_size)");
	/* A huge cmdline_size still stops at the information area. */
	put32(t.buf + 0x238, 0xffffffff);
	memset(big, 'x', sizeof(big) - 1);
	r.in.cmdline = big;
	ck_assert_fails(run_load(&r), -EINVAL, r.cap,
			"the boot information area holds 94207");
	ram_free(&r.m);
}
END_TEST

START_TEST(bzimage_acpi_rsdp)
{
	static struct tbz t;
	struct run r;

	build_bz(&t, 4, PAYLOAD);
	bz_run(&r, &t, 64 * MiB);
	r.in.acpi_rsdp = 0xf0010;
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(rd64(&r.m, ZP + 0x70), 0xf0010);
	ram_free(&r.m);
}
END_TEST

/* ------------------------------------------------------------------ */
/* e820                                                                */

START_TEST(bzimage_e820_low_ram)
{
	static struct tbz t;
	struct run r;

	build_bz(&t, 4, PAYLOAD);
	bz_run(&r, &t, 64 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(zp8(&r, 0x1e8), 3);
	ck_assert_e820(&r, 0, 0, 0x9fc00, 1);
	ck_assert_e820(&r, 1, 0x9fc00, 0x60400, 2);
	ck_assert_e820(&r, 2, MiB, 63 * MiB, 1);
	ram_free(&r.m);
}
END_TEST

START_TEST(bzimage_e820_high_ram)
{
	static struct tbz t;
	struct run r;

	build_bz(&t, 4, PAYLOAD);
	bz_run(&r, &t, 3 * GiB + 64 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(zp8(&r, 0x1e8), 4);
	ck_assert_e820(&r, 2, MiB, 3 * GiB - MiB, 1);
	ck_assert_e820(&r, 3, 4 * GiB, 64 * MiB, 1);
	ram_free(&r.m);
}
END_TEST

/* Reserved ranges are cut out of RAM, split it, and merge with the hole. */
START_TEST(bzimage_e820_reserved_ranges)
{
	static struct tbz t;
	const struct boot_mem_range res[] = {
		{ 64 * MiB - 64 * 1024, 64 * 1024, BOOT_MEM_ACPI },
		{ 0xfec00000, 0x1000, BOOT_MEM_RESERVED },
		{ 0xe0000, 0x20000, BOOT_MEM_RESERVED },
		{ 40 * MiB, MiB, BOOT_MEM_NVS },
		{ 0x1000, 0x1000, BOOT_MEM_UNUSABLE },
	};
	struct run r;

	build_bz(&t, 4, PAYLOAD);
	bz_run(&r, &t, 64 * MiB);
	r.in.reserved = res;
	r.in.nr_reserved = 5;
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(zp8(&r, 0x1e8), 9);
	ck_assert_e820(&r, 0, 0, 0x1000, 1);
	ck_assert_e820(&r, 1, 0x1000, 0x1000, 5);
	ck_assert_e820(&r, 2, 0x2000, 0x9fc00 - 0x2000, 1);
	/* [0x9fc00, 0xe0000) and [0xe0000, 1 MiB): both type 2, merged. */
	ck_assert_e820(&r, 3, 0x9fc00, 0x60400, 2);
	ck_assert_e820(&r, 4, MiB, 39 * MiB, 1);
	ck_assert_e820(&r, 5, 40 * MiB, MiB, 4);
	ck_assert_e820(&r, 6, 41 * MiB, 23 * MiB - 64 * 1024, 1);
	ck_assert_e820(&r, 7, 64 * MiB - 64 * 1024, 64 * 1024, 3);
	ck_assert_e820(&r, 8, 0xfec00000, 0x1000, 2);
	ram_free(&r.m);
}
END_TEST

/* The map stays sorted and disjoint with every range reserved. */
START_TEST(bzimage_e820_many_ranges)
{
	struct boot_mem_range res[BOOT_MAX_RESERVED], map[BOOT_MEMMAP_MAX];
	struct boot_input in = { 0 };
	struct guest_mem m;
	unsigned int i, n;

	ram_init(&m, 3 * GiB + 64 * MiB);
	for (i = 0; i < BOOT_MAX_RESERVED; i++)
		res[i] = (struct boot_mem_range){ (i * 7919 % 64 + 2) * MiB +
							  i * 0x1000,
						  0x3000 + i,
						  BOOT_MEM_RESERVED + i % 4 };
	in.reserved = res;
	in.nr_reserved = BOOT_MAX_RESERVED;
	n = boot_memmap(&m, &in, map);
	ck_assert_uint_le(n, BOOT_MEMMAP_MAX);
	for (i = 1; i < n; i++)
		ck_assert_uint_le(map[i - 1].addr + map[i - 1].size,
				  map[i].addr);
	for (i = 0; i < BOOT_MAX_RESERVED; i++)
		ck_assert_ptr_eq(boot_reserved_overlap(&in, res[i].addr, 1),
				 &res[i]);
	ram_free(&m);
}
END_TEST

/* The VM's ranges come from the monitor: a bad one is -EINVAL. */
START_TEST(bzimage_rejects_bad_reserved)
{
	static struct tbz t;
	struct boot_mem_range res = { 0xe0000, 0x1000, BOOT_MEM_RESERVED };
	struct run r;

	build_bz(&t, 4, PAYLOAD);
	bz_run(&r, &t, 64 * MiB);
	r.in.reserved = &res;
	r.in.nr_reserved = 1;
	res.type = BOOT_MEM_RAM;
	ck_assert_fails(run_load(&r), -EINVAL, r.cap,
			"is not of a reserved type");
	res = (struct boot_mem_range){ 0xe0000, 0, BOOT_MEM_ACPI };
	ck_assert_fails(run_load(&r), -EINVAL, r.cap, "is empty");
	res = (struct boot_mem_range){ UINT64_MAX, 2, BOOT_MEM_ACPI };
	ck_assert_fails(run_load(&r), -EINVAL, r.cap, "wraps");
	res = (struct boot_mem_range){ 0x9e000, 0x2000, BOOT_MEM_ACPI };
	ck_assert_fails(run_load(&r), -EINVAL, r.cap,
			"reserved memory range 0 [0x9e000, 0xa0000) overlaps "
			"where splitvm writes");
	res = (struct boot_mem_range){ ZP + 0xfff, 1, BOOT_MEM_ACPI };
	ck_assert_fails(run_load(&r), -EINVAL, r.cap, "overlaps where");
	r.in.nr_reserved = BOOT_MAX_RESERVED + 1;
	ck_assert_fails(run_load(&r), -EINVAL, r.cap, "at most 32");
	r.in.reserved = NULL;
	r.in.nr_reserved = 1;
	ck_assert_fails(run_load(&r), -EINVAL, r.cap, "an array is needed");
	/* bzimage_load() called directly checks them too. */
	r.load = bzimage_load;
	r.in.reserved = &res;
	ck_assert_fails(run_load(&r), -EINVAL, r.cap, "overlaps where");
	ram_free(&r.m);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Where the kernel goes                                               */

START_TEST(bzimage_relocatable_alignment)
{
	static struct tbz t;
	struct run r;

	build_bz(&t, 4, PAYLOAD);
	put64(t.buf + 0x258, PREF + 1);
	bz_run(&r, &t, 64 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(r.plan.entry, PREF + 2 * MiB + 0x200);
	/* No pref_address: the lowest aligned address above 1 MiB. */
	put64(t.buf + 0x258, 0);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(r.plan.entry, 2 * MiB + 0x200);
	put32(t.buf + 0x230, 0x1000);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(r.plan.entry, MiB + 0x200);
	ram_free(&r.m);
}
END_TEST

/* A relocatable kernel moves up past what the VM keeps. */
START_TEST(bzimage_relocatable_moves_past_reserved)
{
	static struct tbz t;
	const struct boot_mem_range res[] = {
		{ PREF + 4 * MiB, 0x1000, BOOT_MEM_NVS },
		{ PREF + 6 * MiB, MiB, BOOT_MEM_ACPI },
	};
	struct run r;

	build_bz(&t, 4, PAYLOAD);
	bz_run(&r, &t, 64 * MiB);
	r.in.reserved = res;
	r.in.nr_reserved = 2;
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(r.plan.entry, PREF + 8 * MiB + 0x200);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0x214), PREF + 8 * MiB);
	ram_free(&r.m);
}
END_TEST

START_TEST(bzimage_non_relocatable)
{
	static struct tbz t;
	const struct boot_mem_range res = { PREF + MiB, MiB, BOOT_MEM_ACPI };
	struct run r;

	build_bz(&t, 4, PAYLOAD);
	t.buf[0x234] = 0;
	put32(t.buf + 0x230, 0); /* not used when not relocatable */
	put64(t.buf + 0x258, PREF + 0x1000);
	bz_run(&r, &t, 64 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(r.plan.entry, PREF + 0x1200);
	put64(t.buf + 0x258, 0);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(r.plan.entry, MiB + 0x200);
	put64(t.buf + 0x258, PREF);
	r.in.reserved = &res;
	r.in.nr_reserved = 1;
	ck_assert_fails(run_load(&r), -EFBIG, r.cap,
			"kernel: Linux kernel (0x800000 bytes with init_size): "
			"[0x1000000, 0x1800000) overlaps the VM's reserved "
			"range [0x1100000, 0x1200000)");
	put64(t.buf + 0x258, 0x10000);
	ck_assert_fails(run_load(&r), -ENOEXEC, r.cap,
			"non-relocatable Linux kernel wants pref_address "
			"0x10000, below 1 MiB");
	ram_free(&r.m);
}
END_TEST

START_TEST(bzimage_rejects_no_room)
{
	static struct tbz t;
	struct run r;

	build_bz(&t, 4, PAYLOAD);
	bz_expect_fail(&t, 20 * MiB, -EFBIG,
		       "kernel: Linux kernel (0x800000 bytes with init_size): "
		       "[0x1000000, 0x1800000) is not in guest RAM "
		       "([0, 0x1400000))");
	/* init_size smaller than the payload: the payload counts. */
	put32(t.buf + 0x260, 0x100);
	bz_run(&r, &t, 20 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(r.plan.image_end, PREF + PAYLOAD);
	ram_free(&r.m);
	/* A non-relocatable kernel wanting high RAM or the hole. */
	t.buf[0x234] = 0;
	put64(t.buf + 0x258, 4 * GiB);
	bz_expect_fail(&t, 64 * MiB, -EFBIG, "is not in guest RAM");
	bz_run(&r, &t, 3 * GiB + 64 * MiB);
	ck_assert_fails(run_load(&r), -ENOEXEC, r.cap,
			"0x100000000 is above 4 GiB, outside the identity map");
	put64(t.buf + 0x258, 0xbffff000);
	ck_assert_fails(run_load(&r), -ENOEXEC, r.cap,
			"falls in the MMIO hole");
	put64(t.buf + 0x258, UINT64_MAX - 0x1000);
	ck_assert_fails(run_load(&r), -ENOEXEC, r.cap, "wraps around");
	ram_free(&r.m);
	/* A relocatable one whose alignment overflows. */
	t.buf[0x234] = 1;
	bz_expect_fail(&t, 64 * MiB, -ENOEXEC, "wraps around");
}
END_TEST

/* ------------------------------------------------------------------ */
/* initrd                                                              */

static uint8_t mod_a[0x3000], mod_b[7];

static void mods_init(void)
{
	size_t i;

	for (i = 0; i < sizeof(mod_a); i++)
		mod_a[i] = i * 3 + 1;
	memcpy(mod_b, "BBBBBBB", 7);
}

START_TEST(bzimage_initrd_high_below_limit)
{
	static struct tbz t;
	struct boot_module mod = { mod_a, sizeof(mod_a), "initrd.img" };
	struct run r;

	mods_init();
	build_bz(&t, 4, PAYLOAD);
	bz_run(&r, &t, 64 * MiB);
	r.in.modules = &mod;
	r.in.nr_modules = 1;
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0x218), 64 * MiB - 0x3000);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0x21c), 0x3000);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0xc0), 0);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0xc4), 0);
	ck_assert_int_eq(
		memcmp(gpa(&r.m, 64 * MiB - 0x3000), mod_a, sizeof(mod_a)), 0);
	ck_assert_uint_eq(r.plan.image_end, 64 * MiB);

	/* initrd_addr_max is the initrd's last byte. */
	put32(t.buf + 0x22c, 32 * MiB - 1);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0x218), 32 * MiB - 0x3000);
	/* An odd size still starts page-aligned. */
	mod.size = 0x2001;
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0x218), 32 * MiB - 0x3000);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0x21c), 0x2001);
	ram_free(&r.m);
}
END_TEST

/* GRUB's way with several initrds: one, each piece 4-byte aligned. */
START_TEST(bzimage_initrd_concatenates_modules)
{
	static struct tbz t;
	struct boot_module mods[] = {
		{ mod_b, 5, "ucode.cpio" },
		{ mod_b, 7, NULL },
		{ NULL, 0, "empty" },
		{ mod_b, 1, "last" },
	};
	const uint8_t *p;
	struct run r;

	mods_init();
	build_bz(&t, 4, PAYLOAD);
	bz_run(&r, &t, 64 * MiB);
	r.in.modules = mods;
	r.in.nr_modules = 4;
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0x21c), 8 + 8 + 1);
	p = gpa(&r.m, rd32(&r.m, ZP + 0x218));
	ck_assert_int_eq(memcmp(p, "BBBBB\0\0\0BBBBBBB\0B", 17), 0);
	ram_free(&r.m);
}
END_TEST

START_TEST(bzimage_initrd_avoids_reserved)
{
	static struct tbz t;
	const struct boot_mem_range res[] = {
		{ 64 * MiB - 64 * 1024, 64 * 1024, BOOT_MEM_ACPI },
		{ 64 * MiB - 72 * 1024, 0x1000, BOOT_MEM_NVS }, /* 7 KiB gap */
	};
	struct boot_module mod = { mod_a, sizeof(mod_a), "initrd.img" };
	struct run r;

	mods_init();
	build_bz(&t, 4, PAYLOAD);
	bz_run(&r, &t, 64 * MiB);
	r.in.modules = &mod;
	r.in.nr_modules = 1;
	r.in.reserved = res;
	r.in.nr_reserved = 2;
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0x218),
			  64 * MiB - 72 * 1024 - 0x3000);
	ram_free(&r.m);
}
END_TEST

/* XLF_CAN_BE_LOADED_ABOVE_4G lets an initrd go to high RAM. */
START_TEST(bzimage_initrd_above_4g)
{
	static struct tbz t;
	struct boot_module mod = { mod_a, sizeof(mod_a), "initrd.img" };
	struct run r;

	mods_init();
	build_bz(&t, 4, PAYLOAD);
	put32(t.buf + 0x22c, PREF + INIT_SIZE + 0xfff);
	bz_run(&r, &t, 3 * GiB + 64 * MiB);
	r.in.modules = &mod;
	r.in.nr_modules = 1;
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0x218), 64 * MiB - 0x3000);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0xc0), 1);
	ck_assert_uint_eq(rd32(&r.m, ZP + 0x21c), 0x3000);
	ck_assert_int_eq(memcmp(gpa(&r.m, 4 * GiB + 64 * MiB - 0x3000), mod_a,
				sizeof(mod_a)),
			 0);
	ck_assert_uint_eq(r.plan.image_end, 4 * GiB + 64 * MiB);
	/* Without the flag it must fit below initrd_addr_max. */
	put16(t.buf + 0x236, 0x01);
	ck_assert_fails(run_load(&r), -EFBIG, r.cap,
			"initrd (12288 bytes) does not fit in guest RAM "
			"between the kernel's end (0x1800000) and 0x1801000");
	ram_free(&r.m);
}
END_TEST

START_TEST(bzimage_rejects_initrd_addr_max_below_kernel)
{
	static struct tbz t;
	struct boot_module mod = { mod_a, sizeof(mod_a), "initrd.img" };
	struct run r;

	build_bz(&t, 4, PAYLOAD);
	put32(t.buf + 0x22c, 0xffffff);
	bz_run(&r, &t, 64 * MiB);
	r.in.modules = &mod;
	r.in.nr_modules = 1;
	ck_assert_fails(run_load(&r), -ENOEXEC, r.cap,
			"initrd: Linux initrd_addr_max 0xffffff is below the "
			"end of the kernel's memory (0x1800000)");
	/* No initrd, no complaint. */
	r.in.nr_modules = 0;
	ck_assert_int_eq(run_load(&r), 0);
	ram_free(&r.m);
}
END_TEST

START_TEST(bzimage_rejects_initrd_too_big)
{
	static struct tbz t;
	/* 40 MiB would fit exactly between 24 MiB and 64 MiB. */
	struct boot_module mods[2] = { { mod_a, 40 * MiB + 1, "big" } };
	struct run r;

	build_bz(&t, 4, PAYLOAD);
	bz_run(&r, &t, 64 * MiB);
	r.in.modules = mods;
	r.in.nr_modules = 1;
	ck_assert_fails(run_load(&r), -EFBIG, r.cap,
			"initrd (41943041 bytes) does not fit in guest RAM");
	mods[0] = (struct boot_module){ NULL, 5, "nodata" };
	ck_assert_fails(run_load(&r), -EINVAL, r.cap,
			"module 0 (nodata): no data");
	r.in.modules = NULL;
	ck_assert_fails(run_load(&r), -EINVAL, r.cap,
			"1 modules but no module array");
	mods[0] = (struct boot_module){ mod_a, SIZE_MAX, "a" };
	mods[1] = (struct boot_module){ mod_a, SIZE_MAX, "b" };
	r.in.modules = mods;
	r.in.nr_modules = 2;
	ck_assert_fails(run_load(&r), -EFBIG, r.cap,
			"modules too large for an initrd");
	ram_free(&r.m);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Malformed images                                                    */

START_TEST(bzimage_rejects_old_protocol)
{
	static struct tbz t;

	build_bz(&t, 4, PAYLOAD);
	put16(t.buf + 0x206, 0x020b);
	bz_expect_fail(&t, 64 * MiB, -ENOEXEC,
		       "kernel: Linux boot protocol 2.11 is too old: splitvm "
		       "boots bzImages through the 64-bit entry, which needs "
		       "protocol 2.12 (Linux 3.8) or later");
	put16(t.buf + 0x206, 0);
	bz_expect_fail(&t, 64 * MiB, -ENOEXEC, "protocol 0.00 is too old");
}
END_TEST

START_TEST(bzimage_rejects_bad_header)
{
	static struct tbz t;

	build_bz(&t, 4, PAYLOAD);
	put16(t.buf + 0x1fe, 0x55aa);
	bz_expect_fail(&t, 64 * MiB, -ENOEXEC,
		       "kernel: Linux setup header has boot_flag 0x55aa at "
		       "0x1fe, expected 0xaa55");
	build_bz(&t, 4, PAYLOAD);
	t.buf[0x200] = 0xe9;
	bz_expect_fail(&t, 64 * MiB, -ENOEXEC,
		       "the jump at 0x200 (e9 6a) does not end the header "
		       "between 0x268 and 0x290");
	t.buf[0x200] = 0xeb;
	t.buf[0x201] = 0x65;
	bz_expect_fail(&t, 64 * MiB, -ENOEXEC, "(eb 65) does not end");
	t.buf[0x201] = 0x8f;
	bz_expect_fail(&t, 64 * MiB, -ENOEXEC, "(eb 8f) does not end");
	/* The largest and smallest jumps that are fine. */
	t.buf[0x201] = 0x8e;
	put64(t.buf + 0x288, 0x1122334455667788ull);
	{
		struct run r;

		bz_run(&r, &t, 64 * MiB);
		ck_assert_int_eq(run_load(&r), 0);
		ck_assert_uint_eq(rd64(&r.m, ZP + 0x288),
				  0x1122334455667788ull);
		t.buf[0x201] = 0x66;
		ck_assert_int_eq(run_load(&r), 0);
		ck_assert_uint_eq(rd64(&r.m, ZP + 0x268), 0);
		ram_free(&r.m);
	}
}
END_TEST

START_TEST(bzimage_rejects_flags)
{
	static struct tbz t;

	build_bz(&t, 4, PAYLOAD);
	t.buf[0x211] = 0x80;
	bz_expect_fail(&t, 64 * MiB, -ENOEXEC,
		       "kernel: Linux loadflags 0x80 lack LOADED_HIGH: a "
		       "zImage");
	build_bz(&t, 4, PAYLOAD);
	put16(t.buf + 0x236, 0x7e);
	bz_expect_fail(&t, 64 * MiB, -ENOEXEC,
		       "kernel: Linux xloadflags 0x007e lack XLF_KERNEL_64");
	build_bz(&t, 4, PAYLOAD);
	put32(t.buf + 0x230, 0x300000);
	bz_expect_fail(&t, 64 * MiB, -ENOEXEC,
		       "kernel_alignment 0x300000 of a relocatable kernel is "
		       "not a power of two");
	put32(t.buf + 0x230, 0);
	bz_expect_fail(&t, 64 * MiB, -ENOEXEC, "kernel_alignment 0x0");
}
END_TEST

START_TEST(bzimage_rejects_truncated)
{
	static struct tbz t;

	build_bz(&t, 4, PAYLOAD);
	/* Cut inside the header: before "HdrS" ends, it is not one. */
	t.size = 0x205;
	bz_expect_fail(&t, 64 * MiB, -ENOEXEC, "not a recognised kernel image");
	t.size = 0x207;
	bz_expect_fail(&t, 64 * MiB, -ENOEXEC,
		       "truncated Linux setup header (519 bytes, the "
		       "protocol version is at 0x206)");
	t.size = 0x260;
	bz_expect_fail(&t, 64 * MiB, -ENOEXEC,
		       "truncated Linux setup header (608 bytes, a protocol "
		       "2.12 header ends at 0x268)");
	/* Cut inside the setup sectors. */
	t.size = t.setup;
	bz_expect_fail(&t, 64 * MiB, -ENOEXEC,
		       "Linux setup_sects 4 puts the protected-mode kernel at "
		       "offset 0xa00, past the end of the file (2560 bytes)");
	t.buf[0x1f1] = 0xff;
	t.size = t.setup + PAYLOAD;
	bz_expect_fail(&t, 64 * MiB, -ENOEXEC,
		       "setup_sects 255 puts the protected-mode kernel at "
		       "offset 0x20000");
	/* Cut inside the payload: syssize tells. */
	build_bz(&t, 4, PAYLOAD);
	t.size -= 16;
	bz_expect_fail(&t, 64 * MiB, -ENOEXEC,
		       "truncated bzImage: syssize says the protected-mode "
		       "kernel is 0x2000 bytes, the file holds 0x1ff0");
	/* A payload too short to hold the 64-bit entry. */
	build_bz(&t, 4, 0x200);
	bz_expect_fail(&t, 64 * MiB, -ENOEXEC,
		       "the Linux protected-mode kernel is only 512 bytes; "
		       "its 64-bit entry point at +0x200 lies past its end");
}
END_TEST

/* bzimage_load() called directly on something else. */
START_TEST(bzimage_load_refuses_non_bzimage)
{
	static const uint8_t junk[0x400];

	run_expect_fail(bzimage_load, junk, sizeof(junk), -ENOEXEC,
			"not a Linux bzImage (no \"HdrS\" at 0x202)");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Mutations through boot_load, and a real kernel when there is one    */

START_TEST(bzimage_fuzz_mutations)
{
	static const size_t fields[] = { 0x1f1, 0x1f4, 0x1fe, 0x200, 0x201,
					 0x206, 0x211, 0x22c, 0x230, 0x234,
					 0x236, 0x238, 0x258, 0x25c, 0x260 };
	const struct boot_mem_range res[] = {
		{ 30 * MiB, 4 * MiB, BOOT_MEM_ACPI },
		{ PREF, MiB, BOOT_MEM_NVS },
	};
	struct boot_module mods[2] = { { mod_a, sizeof(mod_a), "a" },
				       { mod_b, sizeof(mod_b), "b" } };
	uint64_t seed = 0x5eedb2a9e0000001ull, v;
	unsigned int i, n, ok = 0;
	static struct tbz t;
	struct run r;
	uint8_t *img;
	size_t size, off;
	int ret;

	mods_init();
	bz_run(&r, &t, 40 * MiB);
	for (i = 0; i < 5000; i++) {
		build_bz(&t, (i & 1) ? 4 : 0, PAYLOAD);
		size = t.size;
		for (n = 1 + xorshift64_star(&seed) % 4; n; n--) {
			v = xorshift64_star(&seed);
			if (v & 0x100)
				off = fields[(v >> 16) % 15] + (v >> 8) % 4;
			else
				off = 0x1f0 + (v >> 16) % 0xa0;
			if (v & 0x200)
				t.buf[off] = v >> 40;
			else
				put32(t.buf + off, v >> 32);
			if ((v & 0xf0) == 0)
				size = (v >> 24) % (t.size + 1);
		}
		img = image_dup(t.buf, size);
		r.in.kernel = img;
		r.in.kernel_size = size;
		r.in.modules = mods;
		r.in.nr_modules = i % 3;
		r.in.reserved = res;
		r.in.nr_reserved = (i >> 2) % 3;
		r.in.cmdline = (i & 8) ? "console=ttyS0" : NULL;
		ret = run_load(&r);
		ck_assert_msg(ret == 0 || ret == -ENOEXEC || ret == -EFBIG ||
				      ret == -EINVAL,
			      "iteration %u: %d", i, ret);
		/* One clear line for each refusal, none on success. */
		ck_assert_uint_eq(r.cap.errors, ret ? 1 : 0);
		if (ret == 0) {
			ok++;
			ck_assert_str_eq(r.plan.protocol, "bzimage");
			ck_assert_uint_lt(r.plan.entry, r.plan.image_end);
			ck_assert_uint_le(zp8(&r, 0x1e8), 128);
		}
		free(img);
	}
	ck_assert_uint_gt(ok, 100);
	ram_free(&r.m);
}
END_TEST

static bool read_file(const char *path, uint8_t **ret_buf, size_t *ret_size)
{
	struct stat st;
	uint8_t *buf;
	FILE *f;
	bool ok;

	f = fopen(path, "rb");
	if (!f)
		return false;
	if (fstat(fileno(f), &st) || st.st_size <= 0) {
		fclose(f);
		return false;
	}
	buf = malloc(st.st_size);
	ck_assert_ptr_nonnull(buf);
	ok = fread(buf, 1, st.st_size, f) == (size_t)st.st_size;
	fclose(f);
	if (!ok) {
		free(buf);
		return false;
	}
	*ret_buf = buf;
	*ret_size = st.st_size;
	return true;
}

/*
 * A distribution kernel, when the machine has one readable: in
 * $SPLITVM_TEST_BZIMAGE, else /boot/vmlinuz*. It must load into 512 MiB
 * with an initrd and land where its header says.
 */
START_TEST(bzimage_real_kernel)
{
	const char *env = getenv("SPLITVM_TEST_BZIMAGE");
	struct boot_module mod = { mod_a, sizeof(mod_a), "initrd.img" };
	glob_t g = { 0 };
	unsigned int tried = 0;
	uint8_t *img;
	size_t size, i;
	struct run r;

	if (!env || !*env)
		glob("/boot/vmlinuz*", 0, NULL, &g);
	for (i = 0; i < (env && *env ? 1 : g.gl_pathc); i++) {
		const char *path = env && *env ? env : g.gl_pathv[i];

		if (!read_file(path, &img, &size))
			continue;
		tried++;
		run_init(&r, boot_load, img, size, 512 * MiB);
		r.in.cmdline = "console=ttyS0";
		r.in.modules = &mod;
		r.in.nr_modules = 1;
		r.in.acpi_rsdp = 0xf0000;
		ck_assert_msg(run_load(&r) == 0, "%s: %s", path, r.cap.msg);
		ck_assert_str_eq(r.plan.protocol, "bzimage");
		ck_assert_uint_eq(r.plan.entry, rd32(&r.m, ZP + 0x214) + 0x200);
		ck_assert_uint_eq(
			rd32(&r.m, ZP + 0x214) % rd32(&r.m, ZP + 0x230), 0);
		ck_assert_uint_eq(rd64(&r.m, ZP + 0x70), 0xf0000);
		fprintf(stderr,
			"# %s: protocol %x, loaded at 0x%x, init_size 0x%x, "
			"initrd at 0x%x\n",
			path, rd32(&r.m, ZP + 0x206) & 0xffff,
			rd32(&r.m, ZP + 0x214), rd32(&r.m, ZP + 0x260),
			rd32(&r.m, ZP + 0x218));
		ram_free(&r.m);
		free(img);
	}
	if (!env || !*env)
		globfree(&g);
	if (!tried)
		fprintf(stderr, "# bzimage_real_kernel: no readable "
				"/boot/vmlinuz* or $SPLITVM_TEST_BZIMAGE; "
				"only the built images were tested\n");
}
END_TEST

UNIT_SUITE("bzimage", bzimage_detect_hdrs, bzimage_wins_over_multiboot,
	   bzimage_plan_and_kernel, bzimage_setup_sects_zero_means_4,
	   bzimage_boot_params_header, bzimage_cmdline,
	   bzimage_rejects_cmdline_too_long, bzimage_acpi_rsdp,
	   bzimage_e820_low_ram, bzimage_e820_high_ram,
	   bzimage_e820_reserved_ranges, bzimage_e820_many_ranges,
	   bzimage_rejects_bad_reserved, bzimage_relocatable_alignment,
	   bzimage_relocatable_moves_past_reserved, bzimage_non_relocatable,
	   bzimage_rejects_no_room, bzimage_initrd_high_below_limit,
	   bzimage_initrd_concatenates_modules, bzimage_initrd_avoids_reserved,
	   bzimage_initrd_above_4g,
	   bzimage_rejects_initrd_addr_max_below_kernel,
	   bzimage_rejects_initrd_too_big, bzimage_rejects_old_protocol,
	   bzimage_rejects_bad_header, bzimage_rejects_flags,
	   bzimage_rejects_truncated, bzimage_load_refuses_non_bzimage,
	   bzimage_fuzz_mutations, bzimage_real_kernel)
