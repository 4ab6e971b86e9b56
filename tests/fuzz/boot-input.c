// SPDX-License-Identifier: MIT
/* Turns a loader harness's input into guest RAM and a boot_input. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sanitizer/asan_interface.h>

#include "fuzz-boot.h"

#define KiB 0x400ull
#define MiB 0x100000ull

/*
 * Guest RAM layouts: small, so that bounds are close to whatever an image
 * asks for. Each is low RAM at 0 and, in one, RAM above 4 GiB too: a
 * >3 GiB guest scaled down (8 MiB low, 8 MiB at 4 GiB), the shape
 * guest_mem_layout() gives once RAM passes the MMIO hole.
 */
static const struct {
	uint64_t low, high;
} fuzz_boot_ram[] = {
	{ 32 * MiB, 0 },
	{ BOOT_INFO_END, 0 }, /* the least boot_load() takes */
	{ MiB + 4 * KiB, 0 },
	{ 2 * MiB + 0x123, 0 }, /* not page-aligned */
	{ 8 * MiB, 8 * MiB },
	{ BOOT_INFO_END - 4 * KiB, 0 }, /* too small */
	{ 16 * MiB, 0 },
	{ 4 * MiB, 0 },
};

/*
 * Guest RAM is mapped once per layout and kept: a fresh 32 MiB malloc per
 * run costs ASan milliseconds of shadow poisoning, which would cut the
 * loaders' executions per second tenfold. As the VM's, the mapping starts
 * page-aligned (loaders write 8-byte tables through host pointers); what
 * follows the end of RAM is poisoned up to the page end, then a PROT_NONE
 * guard page, as is the page before it, so a stray access either side
 * faults. Contents carry over from run to run, which no loader may care
 * about: they only write guest RAM.
 */
static uint8_t *ram_map(unsigned int layout)
{
	static uint8_t *hosts[FUZZ_ARRAY_SIZE(fuzz_boot_ram)];
	uint64_t size = fuzz_boot_ram[layout].low + fuzz_boot_ram[layout].high;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t span = (size + page - 1) / page * page;
	uint8_t *base;

	if (hosts[layout])
		return hosts[layout];
	base = mmap(NULL, span + 2 * page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	FUZZ_CHECK(base != MAP_FAILED);
	FUZZ_CHECK(!mprotect(base, page, PROT_NONE));
	FUZZ_CHECK(!mprotect(base + page + span, page, PROT_NONE));
	if (span > size)
		ASAN_POISON_MEMORY_REGION(base + page + size, span - size);
	hosts[layout] = base + page;
	return hosts[layout];
}

/* FUZZ_VERBOSE=1 in the environment prints what the loaders log. */
static bool verbose(void)
{
	static int v = -1;

	if (v < 0)
		v = getenv("FUZZ_VERBOSE") != NULL;
	return v;
}

static void count_log(void *userdata, enum splitvm_log_level level,
		      const char *line)
{
	struct fuzz_boot *b = userdata;

	FUZZ_CHECK(line != NULL);
	if (level == SPLITVM_LOG_ERROR)
		b->errors++;
	if (verbose())
		fprintf(stderr, "log %d: %s\n", (int)level, line);
}

/* Finds the next part in [p, end): its length, and where the next begins. */
static size_t next_part(const uint8_t *p, const uint8_t *end,
			const uint8_t **ret_next)
{
	const size_t seplen = sizeof(FUZZ_BOOT_SEP) - 1;
	const uint8_t *sep =
		memmem(p, (size_t)(end - p), FUZZ_BOOT_SEP, seplen);

	if (!sep) {
		*ret_next = NULL;
		return (size_t)(end - p);
	}
	*ret_next = sep + seplen;
	return (size_t)(sep - p);
}

static uint8_t *copy_part(const uint8_t *p, size_t len)
{
	/* malloc(0) may return NULL; keep a valid pointer for len 0 too */
	uint8_t *c = malloc(len ? len : 1);

	FUZZ_CHECK(c);
	memcpy(c, p, len);
	return c;
}

/* A part as a C string: up to its first NUL, at most 16 KiB. */
static char *copy_string(const uint8_t *p, size_t len)
{
	size_t n = strnlen((const char *)p, len < 16384 ? len : 16384);
	char *s = malloc(n + 1);

	FUZZ_CHECK(s);
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

#ifdef BOOT_MAX_RESERVED
/*
 * What a VM reserves: ACPI tables at the top of low RAM or in the BIOS
 * area, some MMIO, and ranges where kernels like to load, to make the
 * loaders move or refuse. The last two are invalid (the boot area, an
 * empty range): boot_load() must refuse them with -EINVAL.
 */
static void add_reserved(struct fuzz_boot *b, uint8_t mask)
{
	uint64_t low = b->mem.low_size;
	const struct boot_mem_range table[8] = {
		{ 0xe0000, 0x20000, BOOT_MEM_RESERVED },
		{ low - 64 * KiB, 64 * KiB, BOOT_MEM_ACPI },
		{ MiB, MiB, BOOT_MEM_RESERVED },
		{ 16 * MiB, 2 * MiB, BOOT_MEM_NVS },
		{ 0xfec00000, 0x1000, BOOT_MEM_RESERVED },
		{ low - 4 * MiB, MiB, BOOT_MEM_UNUSABLE },
		{ BOOT_GDT_ADDR, 0x1000, BOOT_MEM_ACPI },
		{ 2 * MiB, 0, BOOT_MEM_ACPI },
	};

	for (unsigned int i = 0; i < 8; i++) {
		if (!(mask & (1u << i)))
			continue;
		/* those relative to the top of RAM need RAM below them */
		if ((i == 1 && low < 2 * MiB) || (i == 5 && low < 8 * MiB))
			continue;
		b->reserved[b->in.nr_reserved++] = table[i];
	}
	b->in.reserved = b->reserved;
}

/* The canary that must survive in every reserved range in RAM. */
#define CANARY 0xa5

static void paint_reserved(struct fuzz_boot *b)
{
	for (unsigned int i = 0; i < b->in.nr_reserved; i++) {
		const struct boot_mem_range *r = &b->reserved[i];
		uint8_t *p = guest_mem_ptr(&b->mem, r->addr, r->size);

		if (p && r->size)
			memset(p, CANARY, r->size);
	}
}

static void check_reserved(struct fuzz_boot *b)
{
	static uint8_t canary[4096];

	if (!canary[0])
		memset(canary, CANARY, sizeof(canary));
	for (unsigned int i = 0; i < b->in.nr_reserved; i++) {
		const struct boot_mem_range *r = &b->reserved[i];
		const uint8_t *p = guest_mem_ptr(&b->mem, r->addr, r->size);

		/* "never loaded over" (a page at a time: ranges are MiBs) */
		for (uint64_t j = 0; p && j < r->size; j += sizeof(canary)) {
			uint64_t n = r->size - j;

			if (n > sizeof(canary))
				n = sizeof(canary);
			FUZZ_CHECK(!memcmp(p + j, canary, n));
		}
	}
}
#endif

bool fuzz_boot_setup(struct fuzz_boot *b, const uint8_t *data, size_t size)
{
	const uint8_t *p = data + FUZZ_BOOT_HEADER, *end = data + size, *next;
	unsigned int nparts = 0, i;
	size_t len;
	uint8_t flags;

	memset(b, 0, sizeof(*b));
	if (size < FUZZ_BOOT_HEADER)
		return false;
	flags = data[1];
	b->harness_byte = data[3];
	b->lg = (struct logger){ .fn = count_log,
				 .userdata = b,
				 .max_level = SPLITVM_LOG_DEBUG };

	i = data[0] % FUZZ_ARRAY_SIZE(fuzz_boot_ram);
	b->mem = (struct guest_mem){
		.host = ram_map(i),
		.size = fuzz_boot_ram[i].low + fuzz_boot_ram[i].high,
		.low_size = fuzz_boot_ram[i].low,
	};

	do {
		len = next_part(p, end, &next);
		b->parts[nparts++] = copy_part(p, len);
		if (nparts == 1) {
			b->in.kernel = b->parts[0];
			b->in.kernel_size = len;
		} else if (nparts == 2) {
			if (flags & FUZZ_BOOT_F_CMDLINE)
				b->cmdline = copy_string(p, len);
		} else if (nparts == 3) {
			if (flags & FUZZ_BOOT_F_FDT) {
				b->in.fdt = b->parts[2];
				b->in.fdt_size = len;
			}
		} else {
			struct boot_module *m = &b->mods[b->in.nr_modules];

			m->data = b->parts[nparts - 1];
			m->size = len;
			if (flags & FUZZ_BOOT_F_MOD_NAMES)
				m->name = b->names[b->in.nr_modules] =
					copy_string(p, len);
			else if (!(flags & FUZZ_BOOT_F_NULL_MOD_NAME))
				m->name = "module";
			b->in.nr_modules++;
		}
		p = next;
	} while (p && nparts < FUZZ_ARRAY_SIZE(b->parts));

	if ((flags & FUZZ_BOOT_F_CMDLINE) && !b->cmdline)
		b->cmdline = copy_string((const uint8_t *)"", 0);
	b->in.cmdline = b->cmdline;
	b->in.kernel_name = flags & FUZZ_BOOT_F_NO_NAME ? NULL : "fuzz-kernel";
	b->in.modules = b->in.nr_modules ? b->mods : NULL;
#ifdef BOOT_MAX_RESERVED
	if (flags & FUZZ_BOOT_F_RSDP)
		b->in.acpi_rsdp = 0xf0000;
	add_reserved(b, data[2]);
	paint_reserved(b);
#endif
	return true;
}

static uint32_t rd32(struct fuzz_boot *b, uint64_t gpa)
{
	uint32_t v;

	FUZZ_CHECK(!guest_mem_read(&b->mem, gpa, &v, sizeof(v)));
	return v;
}

static uint64_t rd64(struct fuzz_boot *b, uint64_t gpa)
{
	uint64_t v;

	FUZZ_CHECK(!guest_mem_read(&b->mem, gpa, &v, sizeof(v)));
	return v;
}

/* Module i is in guest RAM at gpa, whole and intact. */
static void check_module(struct fuzz_boot *b, unsigned int i, uint64_t gpa,
			 uint64_t size)
{
	const struct boot_module *m = &b->mods[i];
	const uint8_t *p;

	FUZZ_CHECK(size == m->size);
	if (!size)
		return;
	p = guest_mem_ptr(&b->mem, gpa, size);
	FUZZ_CHECK(p);
	/* nothing loaded after it (another module, tables) overwrote it */
	FUZZ_CHECK(!memcmp(p, m->data, size));
}

/*
 * The modules, where the boot information says they are: Multiboot 3.3
 * (mods_count at +20, mods_addr at +24; start, end per 16-byte entry),
 * PVH start_info.h (nr_modules at +12, modlist_paddr at +16; paddr, size
 * per 32-byte entry), and the bzImage's initrd (zero-page ramdisk_image
 * and ramdisk_size, with their ext_ high halves): all modules, each
 * padded to 4 bytes.
 */
static void check_modules(struct fuzz_boot *b, const struct boot_plan *plan)
{
	unsigned int i;

	if (!strcmp(plan->protocol, "multiboot")) {
		uint64_t list = rd32(b, plan->rbx + 24);

		FUZZ_CHECK(rd32(b, plan->rbx + 20) == b->in.nr_modules);
		for (i = 0; i < b->in.nr_modules; i++) {
			uint32_t start = rd32(b, list + 16 * i);
			uint32_t end = rd32(b, list + 16 * i + 4);

			FUZZ_CHECK(end >= start);
			check_module(b, i, start, end - start);
		}
	} else if (!strcmp(plan->protocol, "pvh")) {
		uint64_t list = rd64(b, plan->rbx + 16);

		FUZZ_CHECK(rd32(b, plan->rbx + 12) == b->in.nr_modules);
		for (i = 0; i < b->in.nr_modules; i++)
			check_module(b, i, rd64(b, list + 32 * i),
				     rd64(b, list + 32 * i + 8));
	} else if (!strcmp(plan->protocol, "bzimage")) {
		uint64_t zp = plan->rsi, off = 0;
		uint64_t addr = rd32(b, zp + 0x218) |
				(uint64_t)rd32(b, zp + 0xc0) << 32;
		uint64_t size = rd32(b, zp + 0x21c) |
				(uint64_t)rd32(b, zp + 0xc4) << 32;

		for (i = 0; i < b->in.nr_modules; i++) {
			off = (off + 3) & ~3ull;
			FUZZ_CHECK(off + b->mods[i].size <= size);
			check_module(b, i, addr + off, b->mods[i].size);
			off += b->mods[i].size;
		}
		FUZZ_CHECK(off == size);
	}
}

static bool known_protocol(const char *p)
{
	static const char *const names[] = { "bzimage", "multiboot", "pvh",
					     "elf64" };

	for (size_t i = 0; i < FUZZ_ARRAY_SIZE(names); i++)
		if (!strcmp(p, names[i]))
			return true;
	return false;
}

void fuzz_boot_check(struct fuzz_boot *b, int ret, const struct boot_plan *plan)
{
	if (verbose())
		fprintf(stderr, "result %d (%s), %s entry 0x%llx\n", ret,
			ret ? strerror(-ret) : "loaded",
			!ret && plan->protocol ? plan->protocol : "-",
			ret ? 0ull : (unsigned long long)plan->entry);
	/* boot.h: 0, -ENOEXEC, -EFBIG or -EINVAL */
	FUZZ_CHECK(ret == 0 || ret == -ENOEXEC || ret == -EFBIG ||
		   ret == -EINVAL);
	if (ret) {
		/* a refused image is always explained */
		FUZZ_CHECK(b->errors >= 1);
		return;
	}
	FUZZ_CHECK(b->errors == 0);
	FUZZ_CHECK(plan->protocol && known_protocol(plan->protocol));
	FUZZ_CHECK(plan->mode == BOOT_MODE_PROTECTED32 ||
		   plan->mode == BOOT_MODE_LONG64);
	/* both entry modes run from the low 4 GiB, identity-mapped or flat */
	FUZZ_CHECK(plan->entry < GUEST_HIGH_RAM_START);
	FUZZ_CHECK(guest_mem_ptr(&b->mem, plan->entry, 1));
	FUZZ_CHECK(plan->entry < plan->image_end);
	if (plan->rsp)
		FUZZ_CHECK(guest_mem_ptr(&b->mem, plan->rsp - 1, 1));
	check_modules(b, plan);
#ifdef BOOT_MAX_RESERVED
	/* boot.h: reserved ranges are "never loaded over by any loader". */
	check_reserved(b);
#endif
}

void fuzz_boot_free(struct fuzz_boot *b)
{
	for (size_t i = 0; i < FUZZ_ARRAY_SIZE(b->parts); i++)
		free(b->parts[i]);
	for (size_t i = 0; i < FUZZ_ARRAY_SIZE(b->names); i++)
		free(b->names[i]);
	free(b->cmdline);
}
