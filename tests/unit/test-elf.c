// SPDX-License-Identifier: MIT
/* ELF loader: images built in memory, loaded, malformed and mutated. */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "boot.h"
#include "unit.h"

#define MiB (1ull << 20)

/* ------------------------------------------------------------------ */
/* Log capture: every error line, the last one kept.                   */

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

/* The call failed with want, logging one error line that says substr. */
#define ck_assert_fails(ret, want, cap, substr)                                \
	do {                                                                   \
		ck_assert_int_eq((ret), (want));                               \
		ck_assert_uint_eq((cap).errors, 1);                            \
		ck_assert_msg(strstr((cap).msg, (substr)),                     \
			      "log line \"%s\" does not say \"%s\"",           \
			      (cap).msg, (substr));                            \
	} while (0)

/* ------------------------------------------------------------------ */
/* Guest RAM: an anonymous mapping, so even 4 GiB+ costs nothing.      */

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

/* ------------------------------------------------------------------ */
/* Image builder: ELF header, program headers at e_phoff, then each    */
/* segment's bytes (filled with its fill value) 256-aligned.           */

struct tseg {
	uint32_t type;
	uint64_t paddr, vaddr, filesz, memsz;
	uint8_t fill;
};

struct timage {
	_Alignas(8) uint8_t buf[16384];
	size_t size;
	bool is64;
};

#define DATA_START 0x400

static Elf64_Ehdr *eh64(struct timage *t)
{
	return (Elf64_Ehdr *)t->buf;
}

static Elf32_Ehdr *eh32(struct timage *t)
{
	return (Elf32_Ehdr *)t->buf;
}

static Elf64_Phdr *ph64(struct timage *t, unsigned int i)
{
	return (Elf64_Phdr *)(t->buf + sizeof(Elf64_Ehdr)) + i;
}

static Elf32_Phdr *ph32(struct timage *t, unsigned int i)
{
	return (Elf32_Phdr *)(t->buf + sizeof(Elf32_Ehdr)) + i;
}

static void put_phdr(struct timage *t, unsigned int i, const struct tseg *s,
		     uint64_t off)
{
	if (t->is64) {
		*ph64(t, i) = (Elf64_Phdr){.p_type = s->type,
					   .p_flags = PF_R | PF_W | PF_X,
					   .p_offset = off,
					   .p_vaddr = s->vaddr,
					   .p_paddr = s->paddr,
					   .p_filesz = s->filesz,
					   .p_memsz = s->memsz,
					   .p_align = 0x1000};
		return;
	}
	*ph32(t, i) = (Elf32_Phdr){.p_type = s->type,
				   .p_flags = PF_R | PF_W | PF_X,
				   .p_offset = off,
				   .p_vaddr = s->vaddr,
				   .p_paddr = s->paddr,
				   .p_filesz = s->filesz,
				   .p_memsz = s->memsz,
				   .p_align = 0x1000};
}

static void put_ehdr(struct timage *t, uint16_t machine, unsigned int n,
		     uint64_t entry)
{
	uint8_t ident[EI_NIDENT] = {ELFMAG0,
				    ELFMAG1,
				    ELFMAG2,
				    ELFMAG3,
				    t->is64 ? ELFCLASS64 : ELFCLASS32,
				    ELFDATA2LSB,
				    EV_CURRENT};

	if (t->is64) {
		memcpy(eh64(t)->e_ident, ident, EI_NIDENT);
		eh64(t)->e_type = ET_EXEC;
		eh64(t)->e_machine = machine;
		eh64(t)->e_version = EV_CURRENT;
		eh64(t)->e_entry = entry;
		eh64(t)->e_phoff = sizeof(Elf64_Ehdr);
		eh64(t)->e_ehsize = sizeof(Elf64_Ehdr);
		eh64(t)->e_phentsize = sizeof(Elf64_Phdr);
		eh64(t)->e_phnum = n;
		return;
	}
	memcpy(eh32(t)->e_ident, ident, EI_NIDENT);
	eh32(t)->e_type = ET_EXEC;
	eh32(t)->e_machine = machine;
	eh32(t)->e_version = EV_CURRENT;
	eh32(t)->e_entry = entry;
	eh32(t)->e_phoff = sizeof(Elf32_Ehdr);
	eh32(t)->e_ehsize = sizeof(Elf32_Ehdr);
	eh32(t)->e_phentsize = sizeof(Elf32_Phdr);
	eh32(t)->e_phnum = n;
}

static void build(struct timage *t, bool is64, uint16_t machine,
		  const struct tseg *segs, unsigned int n, uint64_t entry)
{
	uint64_t off = DATA_START;
	unsigned int i;

	memset(t, 0, sizeof(*t));
	t->is64 = is64;
	put_ehdr(t, machine, n, entry);
	for (i = 0; i < n; i++) {
		ck_assert_uint_le(off + segs[i].filesz, sizeof(t->buf));
		put_phdr(t, i, &segs[i], off);
		memset(t->buf + off, segs[i].fill, segs[i].filesz);
		off += (segs[i].filesz + 0xff) & ~0xffull;
	}
	t->size = off;
}

/* Two PT_LOADs (the second with bss) and a PT_NOTE, as ld lays out. */
static const struct tseg std_segs[] = {
	{PT_LOAD, 0x100000, 0x100000, 0x300, 0x300, 0xc3},
	{PT_NOTE, 0, 0, 0x20, 0x20, 0x11},
	{PT_LOAD, 0x200000, 0x200000, 0x100, 0x2000, 0xd4},
};

static void build_std(struct timage *t, bool is64)
{
	build(t, is64, is64 ? EM_X86_64 : EM_386, std_segs, 3, 0x100010);
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	while (n--)
		if (*p++ != v)
			return false;
	return true;
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

START_TEST(elf_load_elf32_segments)
{
	struct capture cap = {0};
	struct logger lg = LOGGER(cap);
	struct guest_mem m;
	uint64_t entry, end;
	struct timage t;

	build_std(&t, false);
	ck_assert_int_eq(load(&t, &m, &entry, &end, &lg), 0);
	ck_assert_uint_eq(cap.errors, 0);
	ck_assert_uint_eq(entry, 0x100010);
	ck_assert_uint_eq(end, 0x202000);
	assert_std_loaded(&m);
	ram_free(&m);
}
END_TEST

START_TEST(elf_load_elf64_segments)
{
	struct capture cap = {0};
	struct logger lg = LOGGER(cap);
	struct guest_mem m;
	uint64_t entry, end;
	struct timage t;

	build_std(&t, true);
	ck_assert_int_eq(load(&t, &m, &entry, &end, &lg), 0);
	ck_assert_uint_eq(cap.errors, 0);
	ck_assert_uint_eq(entry, 0x100010);
	ck_assert_uint_eq(end, 0x202000);
	assert_std_loaded(&m);
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

	build(&t, false, EM_X86_64, std_segs, 3, 0x100000);
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

	build(&t, true, EM_X86_64, segs, 1, 0xffffffff80100040ull);
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

	build(&t, true, EM_X86_64, segs, 2, 0x100000);
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

	build(&t, false, EM_ARM, std_segs, 3, 0x100000);
	expect_fail(&t, -ENOEXEC, "ELF32 machine 40 is not x86");
	build(&t, true, EM_386, std_segs, 3, 0x100000);
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

	build(&t, true, EM_X86_64, segs, 2, 0x100000);
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
	struct capture cap = {0};
	struct logger lg = LOGGER(cap);
	static const uint8_t fdt[] = {0xd0, 0x0d, 0xfe, 0xed, 1, 2, 3, 4};
	struct boot_input in = {
	    .kernel_name = "k.elf", .fdt = fdt, .fdt_size = sizeof(fdt)};
	struct boot_plan plan;
	struct guest_mem m;
	struct timage t;

	build_std(&t, true);
	in.kernel = t.buf;
	in.kernel_size = t.size;
	ram_init(&m, 16 * MiB);
	ck_assert_int_eq(elf64_boot_load(&m, &in, &plan, &lg), 0);
	ck_assert_str_eq(plan.protocol, "elf64");
	ck_assert_int_eq(plan.mode, BOOT_MODE_LONG64);
	ck_assert_uint_eq(plan.entry, 0x100010);
	ck_assert_uint_eq(plan.rdi, BOOT_INFO_ADDR);
	ck_assert_uint_eq(plan.rsp, BOOT_STACK_TOP);
	ck_assert_uint_eq(plan.image_end, 0x202000);
	ck_assert_mem_eq(gpa(&m, BOOT_INFO_ADDR), fdt, sizeof(fdt));
	ck_assert_uint_eq(cap.errors, 0);
	ram_free(&m);
}
END_TEST

START_TEST(elf64_boot_without_fdt)
{
	struct capture cap = {0};
	struct logger lg = LOGGER(cap);
	struct boot_input in = {0};
	struct boot_plan plan;
	struct guest_mem m;
	struct timage t;

	build_std(&t, true);
	in.kernel = t.buf;
	in.kernel_size = t.size;
	ram_init(&m, 16 * MiB);
	ck_assert_int_eq(elf64_boot_load(&m, &in, &plan, &lg), 0);
	ck_assert_uint_eq(plan.rdi, 0);
	ram_free(&m);
}
END_TEST

START_TEST(elf64_boot_rejects)
{
	struct capture cap = {0};
	struct logger lg = LOGGER(cap);
	static uint8_t big_fdt[BOOT_INFO_END - BOOT_INFO_ADDR + 1];
	static const struct tseg high[] = {
	    {PT_LOAD, 0x100000000ull, 0x100000000ull, 0x100, 0x100, 1},
	};
	struct boot_input in = {0};
	struct boot_plan plan;
	struct guest_mem m;
	struct timage t;

	ram_init(&m, GUEST_MMIO_HOLE_START + 16 * MiB);
	build_std(&t, false);
	in.kernel = t.buf;
	in.kernel_size = t.size;
	ck_assert_fails(elf64_boot_load(&m, &in, &plan, &lg), -ENOEXEC, cap,
			"32-bit ELF (ELFCLASS32) cannot be entered in long "
			"mode");

	cap.errors = 0;
	build_std(&t, true);
	in.fdt = big_fdt;
	in.fdt_size = sizeof(big_fdt);
	ck_assert_fails(elf64_boot_load(&m, &in, &plan, &lg), -EINVAL, cap,
			"does not fit in the boot information area");

	cap.errors = 0;
	in.fdt = NULL;
	in.fdt_size = 0;
	build(&t, true, EM_X86_64, high, 1, 0x100000010ull);
	ck_assert_fails(elf64_boot_load(&m, &in, &plan, &lg), -ENOEXEC, cap,
			"entry point 0x100000010 is above 4 GiB");
	ram_free(&m);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Mutations of valid images never crash the loader.                   */

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: small, deterministic across libcs. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static const uint64_t interesting[] = {
	0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000,
	0xffffffff, 0x100000000ull, 0xc0000000, 0x9f000, 0x100000,
	UINT64_MAX, UINT64_MAX - 0xfff, 0x8000000000000000ull,
};

/* One mutation: a byte, a bit, or an interesting 16/32/64-bit value. */
static void mutate(uint8_t *buf, size_t *size, uint64_t *seed)
{
	uint64_t r = rng_next(seed);
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
		for (n = 1 + rng_next(&seed) % 6; n; n--)
			mutate(t.buf, &size, &seed);
		/* An exact-size copy lets ASan/valgrind see any over-read. */
		img = malloc(size ? size : 1);
		ck_assert_ptr_nonnull(img);
		memcpy(img, t.buf, size);
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
	   elf_load_elf64_segments, elf_load_x32_and_et_dyn,
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
