// SPDX-License-Identifier: MIT
/* Multiboot v1 loader: ELF and a.out kludge images, boot info, modules. */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "boot.h"
#include "unit.h"

#define MiB (1ull << 20)
#define MB_MAGIC 0x1BADB002u
#define MB_AOUT (1u << 16)

/* ------------------------------------------------------------------ */
/* Log capture                                                         */

struct capture {
	unsigned int errors;
	char msg[512];
};

static void capture_fn(void *userdata, enum splitvm_log_level level,
		       const char *message)
{
	struct capture *c = userdata;

	if (level != SPLITVM_LOG_ERROR)
		return;
	c->errors++;
	snprintf(c->msg, sizeof(c->msg), "%s", message);
}

#define LOGGER(cap)                                                            \
	{                                                                      \
		.fn = capture_fn, .userdata = &(cap),                          \
		.max_level = SPLITVM_LOG_DEBUG                                 \
	}

#define ck_assert_fails(ret, want, cap, substr)                                \
	do {                                                                   \
		ck_assert_int_eq((ret), (want));                               \
		ck_assert_uint_eq((cap).errors, 1);                            \
		ck_assert_msg(strstr((cap).msg, (substr)),                     \
			      "log line \"%s\" does not say \"%s\"",           \
			      (cap).msg, (substr));                            \
	} while (0)

/* ------------------------------------------------------------------ */
/* Guest RAM                                                           */

static void ram_init(struct guest_mem *m, uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	ck_assert_ptr_ne(p, MAP_FAILED);
	guest_mem_layout(m, p, size);
}

static void ram_free(struct guest_mem *m)
{
	munmap(m->host, m->size);
}

static const uint8_t *gpa(const struct guest_mem *m, uint64_t addr)
{
	const uint8_t *p = guest_mem_ptr(m, addr, 1);

	ck_assert_ptr_nonnull(p);
	return p;
}

static uint32_t rd32(const struct guest_mem *m, uint64_t addr)
{
	uint32_t v;

	ck_assert_int_eq(guest_mem_read(m, addr, &v, 4), 0);
	return v;
}

static uint64_t rd64(const struct guest_mem *m, uint64_t addr)
{
	uint64_t v;

	ck_assert_int_eq(guest_mem_read(m, addr, &v, 8), 0);
	return v;
}

static const char *str_at(const struct guest_mem *m, uint64_t addr)
{
	ck_assert_uint_ge(addr, BOOT_INFO_ADDR);
	ck_assert_uint_lt(addr, BOOT_INFO_END);
	return (const char *)gpa(m, addr);
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	while (n--)
		if (*p++ != v)
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* Images: an ELF (32 or 64) whose first segment starts with a         */
/* multiboot header, or a raw a.out-kludge image.                      */

struct timage {
	_Alignas(8) uint8_t buf[0x3000];
	size_t size;
};

#define SEG0_OFF 0x400 /* file offset of segment 0: the header goes here */
#define SEG1_OFF 0x1400

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* magic, flags, checksum at off; a.out fields after if given. */
static void mb_header(struct timage *t, size_t off, uint32_t flags)
{
	put32(t->buf + off, MB_MAGIC);
	put32(t->buf + off + 4, flags);
	put32(t->buf + off + 8, -(MB_MAGIC + flags));
}

static void mb_aout(struct timage *t, size_t off, uint32_t header_addr,
		    uint32_t load_addr, uint32_t load_end, uint32_t bss_end,
		    uint32_t entry)
{
	mb_header(t, off, MB_AOUT);
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
	memset(t, 0, sizeof(*t));
	memset(t->buf + SEG0_OFF, 0xc3, 0x1000);
	memset(t->buf + SEG1_OFF, 0xd4, 0x100);
	t->size = SEG1_OFF + 0x100;
	if (is64) {
		Elf64_Ehdr *e = (Elf64_Ehdr *)t->buf;
		Elf64_Phdr *p = (Elf64_Phdr *)(e + 1);

		*e = (Elf64_Ehdr){.e_type = ET_EXEC,
				  .e_machine = EM_X86_64,
				  .e_version = EV_CURRENT,
				  .e_entry = entry,
				  .e_phoff = sizeof(*e),
				  .e_ehsize = sizeof(*e),
				  .e_phentsize = sizeof(*p),
				  .e_phnum = 2};
		p[0] = (Elf64_Phdr){PT_LOAD, PF_R | PF_X, SEG0_OFF, seg0,
				    seg0,    0x1000,	  0x1000,   0x1000};
		p[1] = (Elf64_Phdr){PT_LOAD, PF_R | PF_W, SEG1_OFF, seg1,
				    seg1,    0x100,	  0x2000,   0x1000};
	} else {
		Elf32_Ehdr *e = (Elf32_Ehdr *)t->buf;
		Elf32_Phdr *p = (Elf32_Phdr *)(e + 1);

		*e = (Elf32_Ehdr){.e_type = ET_EXEC,
				  .e_machine = EM_386,
				  .e_version = EV_CURRENT,
				  .e_entry = entry,
				  .e_phoff = sizeof(*e),
				  .e_ehsize = sizeof(*e),
				  .e_phentsize = sizeof(*p),
				  .e_phnum = 2};
		p[0] = (Elf32_Phdr){PT_LOAD, SEG0_OFF, seg0,	    seg0,
				    0x1000,  0x1000,   PF_R | PF_X, 0x1000};
		p[1] = (Elf32_Phdr){PT_LOAD, SEG1_OFF, seg1,	    seg1,
				    0x100,   0x2000,   PF_R | PF_W, 0x1000};
	}
	memcpy(t->buf, ELFMAG, SELFMAG);
	t->buf[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
	t->buf[EI_DATA] = ELFDATA2LSB;
	t->buf[EI_VERSION] = EV_CURRENT;
}

/* The standard multiboot ELF32 kernel: 1 MiB and 2 MiB, entry 1 MiB+0x40. */
static void build_mb_elf(struct timage *t, bool is64)
{
	build_elf(t, is64, 0x100000, 0x200000, 0x100040);
	mb_header(t, SEG0_OFF, 0x3); /* page-align + memory info */
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

struct run {
	struct capture cap;
	struct logger lg;
	struct guest_mem m;
	struct boot_input in;
	struct boot_plan plan;
	int ret;
};

static void run_init(struct run *r, const struct timage *t, uint64_t ram)
{
	memset(r, 0, sizeof(*r));
	r->lg = (struct logger)LOGGER(r->cap);
	ram_init(&r->m, ram);
	memset(r->m.host, 0xaa, ram < 64 * MiB ? ram : 64 * MiB);
	r->in.kernel = t->buf;
	r->in.kernel_size = t->size;
	r->in.kernel_name = "kernel.elf";
}

static int run_load(struct run *r)
{
	r->cap.errors = 0;
	r->ret = multiboot_load(&r->m, &r->in, &r->plan, &r->lg);
	return r->ret;
}

/* Loads t in 16 MiB and expects a failure naming substr. */
static void expect_fail(const struct timage *t, int want, const char *substr)
{
	struct run r;

	run_init(&r, t, 16 * MiB);
	ck_assert_fails(run_load(&r), want, r.cap, substr);
	ram_free(&r.m);
}

/* Boot info offsets (Multiboot 0.6.96 3.3). */
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
};

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

	build_mb_elf(&t, false);
	run_init(&r, &t, 16 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
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

	build_mb_elf(&t, true);
	run_init(&r, &t, 16 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
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
	run_init(&r, &t, 16 * MiB);
	r.in.cmdline = "console=ttyS0 quiet";
	ck_assert_int_eq(run_load(&r), 0);
	info = r.plan.rbx;
	/* mem (0), cmdline (2), mods (3), mmap (6), loader name (9). */
	ck_assert_uint_eq(rd32(&r.m, info + MBI_FLAGS), 0x24d);
	ck_assert_uint_eq(rd32(&r.m, info + MBI_MEM_LOWER), 639);
	ck_assert_uint_eq(rd32(&r.m, info + MBI_MEM_UPPER), 15 * 1024);
	ck_assert_str_eq(str_at(&r.m, rd32(&r.m, info + MBI_CMDLINE)),
			 "kernel.elf console=ttyS0 quiet");
	ck_assert_str_eq(str_at(&r.m, rd32(&r.m, info + MBI_LOADER_NAME)),
			 "splitvm");
	ck_assert_uint_eq(rd32(&r.m, info + MBI_MODS_COUNT), 0);
	/* Unset fields stay zero: boot_device, syms, drives, VBE. */
	ck_assert_uint_eq(rd32(&r.m, info + 12), 0);
	ck_assert_uint_eq(rd32(&r.m, info + 28), 0);
	ck_assert_uint_eq(rd32(&r.m, info + 72), 0);
	ram_free(&r.m);
}
END_TEST

START_TEST(multiboot_cmdline_is_kernel_name_alone)
{
	struct timage t;
	struct run r;

	build_mb_elf(&t, false);
	run_init(&r, &t, 16 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_str_eq(str_at(&r.m, rd32(&r.m, r.plan.rbx + MBI_CMDLINE)),
			 "kernel.elf");
	r.in.kernel_name = NULL;
	r.in.cmdline = "a=1";
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_str_eq(str_at(&r.m, rd32(&r.m, r.plan.rbx + MBI_CMDLINE)),
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

	build_mb_elf(&t, false);
	run_init(&r, &t, 16 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	map = rd32(&r.m, r.plan.rbx + MBI_MMAP_ADDR);
	ck_assert_uint_eq(rd32(&r.m, r.plan.rbx + MBI_MMAP_LENGTH), 3 * 24);
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

	build_mb_elf(&t, false);
	run_init(&r, &t, GUEST_MMIO_HOLE_START + 64 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	info = r.plan.rbx;
	map = rd32(&r.m, info + MBI_MMAP_ADDR);
	ck_assert_uint_eq(rd32(&r.m, info + MBI_MMAP_LENGTH), 4 * 24);
	ck_assert_uint_eq(rd32(&r.m, info + MBI_MEM_UPPER),
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
	run_init(&r, &t, 16 * MiB);
	r.in.modules = mods;
	r.in.nr_modules = 3;
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(rd32(&r.m, r.plan.rbx + MBI_MODS_COUNT), 3);
	list = rd32(&r.m, r.plan.rbx + MBI_MODS_ADDR);
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
	mb_header(&t, SEG0_OFF, 0);
	run_init(&r, &t, 16 * MiB);
	r.in.modules = &mod;
	r.in.nr_modules = 1;
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(rd32(&r.m, rd32(&r.m, r.plan.rbx + MBI_MODS_ADDR)),
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
	run_init(&r, &t, 16 * MiB);
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
	run_init(&r, &t, 16 * MiB);
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
	mb_header(&t, SEG0_OFF, 0x7);
	put32(t.buf + 0x200, MB_MAGIC); /* bad checksum: skipped */
	run_init(&r, &t, 16 * MiB);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(r.cap.errors, 0);
	ram_free(&r.m);
}
END_TEST

/* The header may end exactly at byte 8192. */
START_TEST(multiboot_header_at_search_limit)
{
	static uint8_t big[0x2200];
	struct run r;
	size_t i;

	/* Raw a.out image with the header's last byte at 8191. */
	for (i = 0; i < sizeof(big); i++)
		big[i] = i & 0xff;
	memset(&r, 0, sizeof(r));
	r.lg = (struct logger)LOGGER(r.cap);
	ram_init(&r.m, 16 * MiB);
	r.in.kernel = big;
	r.in.kernel_size = sizeof(big);
	put32(big + 8192 - 32, MB_MAGIC);
	put32(big + 8192 - 28, MB_AOUT);
	put32(big + 8192 - 24, -(MB_MAGIC + MB_AOUT));
	put32(big + 8192 - 20, 0x100000 + 8192 - 32);
	put32(big + 8192 - 16, 0x100000);
	put32(big + 8192 - 12, 0);
	put32(big + 8192 - 8, 0);
	put32(big + 8192 - 4, 0x100000);
	ck_assert_int_eq(run_load(&r), 0);
	ck_assert_uint_eq(r.plan.image_end, 0x100000 + sizeof(big));
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
	mb_header(&t, SEG0_OFF, 0x3 | (1u << 5));
	expect_fail(&t, -ENOEXEC, "(bits 0x0020)");
}
END_TEST

START_TEST(multiboot_rejects_non_elf_without_aout)
{
	struct timage t;

	build_aout(&t, 0, 0);
	mb_header(&t, 0x40, 0);
	expect_fail(&t, -ENOEXEC, "so the image must be ELF, and it is not");
}
END_TEST

START_TEST(multiboot_rejects_elf_errors)
{
	struct timage t;

	build_mb_elf(&t, false);
	((Elf32_Phdr *)(t.buf + sizeof(Elf32_Ehdr)))[1].p_offset = 0x2000;
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
	mb_header(&t, SEG0_OFF, 0);
	run_init(&r, &t, GUEST_MMIO_HOLE_START + 64 * MiB);
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
	static uint8_t big[0x2100];
	struct capture cap = {0};
	struct logger lg = LOGGER(cap);
	struct boot_input in = {.kernel = big, .kernel_size = sizeof(big)};
	struct boot_plan plan;
	struct guest_mem m;

	/* a.out fields past byte 8192: the header is not wholly inside. */
	put32(big + 8180, MB_MAGIC);
	put32(big + 8184, MB_AOUT);
	put32(big + 8188, -(MB_MAGIC + MB_AOUT));
	ram_init(&m, 16 * MiB);
	ck_assert_fails(multiboot_load(&m, &in, &plan, &lg), -ENOEXEC, cap,
			"with its address fields (flag 16) extends past the "
			"first 8192 bytes");
	/* Entirely past 8 KiB: not found at all. */
	memset(big, 0, sizeof(big));
	put32(big + 8192, MB_MAGIC);
	put32(big + 8196, 0);
	put32(big + 8200, -MB_MAGIC);
	ck_assert(!multiboot_detect(big, sizeof(big)));
	cap.errors = 0;
	ck_assert_fails(multiboot_load(&m, &in, &plan, &lg), -ENOEXEC, cap,
			"no multiboot header");
	ram_free(&m);
}
END_TEST

START_TEST(multiboot_rejects_aout_inconsistent)
{
	struct timage t;

	build_aout(&t, 0, 0);
	mb_aout(&t, 0x40, 0x100040, 0x100080, 0, 0, 0x100080);
	expect_fail(&t, -ENOEXEC,
		    "load_addr 0x100080 is above header_addr "
		    "0x100040");

	mb_aout(&t, 0x40, 0x100040, 0xf0000, 0, 0, 0x100080);
	expect_fail(&t, -ENOEXEC,
		    "header_addr - load_addr = 0x10040, but the "
		    "header is only 0x40 bytes into the file");

	mb_aout(&t, 0x40, 0x100040, 0x100000, 0x100000, 0, 0x100080);
	expect_fail(&t, -ENOEXEC,
		    "load_end_addr 0x100000 is not above "
		    "load_addr");

	mb_aout(&t, 0x40, 0x100040, 0x100000, 0x103000, 0, 0x100080);
	expect_fail(&t, -ENOEXEC,
		    "load_end_addr 0x103000 is past the end of "
		    "the file (offset 0x0 + size 0x3000 > 0x2000)");

	mb_aout(&t, 0x40, 0x100040, 0x100000, 0x101000, 0x100800, 0x100080);
	expect_fail(&t, -ENOEXEC,
		    "bss_end_addr 0x100800 is below the end of "
		    "the loaded image (0x101000)");

	mb_aout(&t, 0x40, 0x100040, 0x100000, 0, 0, 0x300000);
	expect_fail(&t, -ENOEXEC,
		    "entry_addr 0x300000 is outside the loaded "
		    "image");
}
END_TEST

START_TEST(multiboot_rejects_aout_outside_ram)
{
	struct timage t;

	build_aout(&t, 0, 0);
	mb_aout(&t, 0x40, 0xfee00040, 0xfee00000, 0, 0, 0xfee00080);
	expect_fail(&t, -ENOEXEC,
		    "multiboot a.out image: [0xfee00000, "
		    "0xfee02000) falls in the MMIO hole");
	mb_aout(&t, 0x40, 0x2000040, 0x2000000, 0, 0, 0x2000080);
	expect_fail(&t, -EFBIG, "is not in guest RAM ([0, 0x1000000))");
	mb_aout(&t, 0x40, 0x100040, 0x100000, 0, 0x1100000, 0x100080);
	expect_fail(&t, -EFBIG, "[0x100000, 0x1100000) is not in guest RAM");
	mb_aout(&t, 0x40, 0x100040, 0x100000, 0, 0xffffffff, 0x100080);
	expect_fail(&t, -ENOEXEC, "MMIO hole");
	mb_aout(&t, 0x40, 0x90040, 0x90000, 0, 0, 0x90080);
	expect_fail(&t, -ENOEXEC, "overlaps [0x80000, 0x9f000)");
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
	run_init(&r, &t, 16 * MiB);
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
	run_init(&r, &t, 16 * MiB);
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
	run_init(&r, &t, 4 * MiB);
	r.in.modules = mods;
	r.in.nr_modules = 2;
	ck_assert_fails(run_load(&r), -EFBIG, r.cap,
			"module 1 (b.img, 1048576 bytes) does not fit in guest "
			"RAM: it would start at 0x302000");
	ram_free(&r.m);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Mutations never crash the loader                                    */

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static const uint32_t interesting[] = {
	0, 1, 0x40, 0xfff, 0x1000, 0x7fffffff, 0x80000000, 0xffffffff,
	0xc0000000, 0x9f000, 0x100000, 0x100040, 0x200000, MB_MAGIC, MB_AOUT,
	0xfffffff0,
};

static void mutate(uint8_t *buf, size_t *size, size_t hot, uint64_t *seed)
{
	uint64_t r = rng_next(seed);
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
	run_init(&r, &t, 16 * MiB);
	r.in.modules = mods;
	r.in.nr_modules = 2;
	r.in.cmdline = "x";
	for (i = 0; i < 4000; i++) {
		size_t size, hot;
		uint8_t *img;

		if (i % 3 == 0) {
			build_aout(&t, 0, 0x104000);
			hot = 0x40;
		} else {
			build_mb_elf(&t, i % 3 == 2);
			hot = SEG0_OFF;
		}
		size = t.size;
		for (n = 1 + rng_next(&seed) % 6; n; n--)
			mutate(t.buf, &size, hot, &seed);
		img = malloc(size ? size : 1);
		ck_assert_ptr_nonnull(img);
		memcpy(img, t.buf, size);
		r.in.kernel = img;
		r.in.kernel_size = size;
		if (run_load(&r) == 0)
			loaded++;
		free(img);
	}
	ck_assert_uint_gt(loaded, 0);
	ck_assert_uint_lt(loaded, 4000);
	ram_free(&r.m);
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
	   multiboot_rejects_modules_beyond_ram, multiboot_fuzz_mutations)
