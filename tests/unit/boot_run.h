/* SPDX-License-Identifier: MIT */
/* Guest RAM for the loader tests, and one loader call with its log. */
#ifndef SPLITVM_TEST_BOOT_RUN_H
#define SPLITVM_TEST_BOOT_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "boot.h"
#include "fakes.h"
#include "unit.h"

#define MiB (1ull << 20)

/* ------------------------------------------------------------------ */
/* Guest RAM: an anonymous mapping, so even 4 GiB+ costs nothing.      */

static inline void ram_init(struct guest_mem *m, uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	ck_assert_ptr_ne(p, MAP_FAILED);
	guest_mem_layout(m, p, size);
	m->discardable = true;
}

static inline void ram_free(struct guest_mem *m)
{
	munmap(m->host, m->size);
}

/* The host address of guest byte addr, which must be in RAM. */
static inline const uint8_t *gpa(const struct guest_mem *m, uint64_t addr)
{
	const uint8_t *p = guest_mem_ptr(m, addr, 1);

	ck_assert_ptr_nonnull(p);
	return p;
}

static inline uint32_t rd32(const struct guest_mem *m, uint64_t addr)
{
	uint32_t v;

	ck_assert_int_eq(guest_mem_read(m, addr, &v, 4), 0);
	return v;
}

static inline uint64_t rd64(const struct guest_mem *m, uint64_t addr)
{
	uint64_t v;

	ck_assert_int_eq(guest_mem_read(m, addr, &v, 8), 0);
	return v;
}

static inline bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	while (n--)
		if (*p++ != v)
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* One loader (boot_load, multiboot_load, elf64_boot_load) on an image. */

typedef int boot_loader_fn(const struct guest_mem *mem,
			   const struct boot_input *in, struct boot_plan *plan,
			   const struct logger *lg);

struct run {
	boot_loader_fn *load;
	struct capture cap;
	struct logger lg;
	struct guest_mem m;
	struct boot_input in;
	struct boot_plan plan;
};

/*
 * Sets up load of the image (img, size) named "kernel.elf" into ram bytes
 * of fresh RAM, its first 64 MiB prefilled with 0xaa to show what was
 * written. Free r->m with ram_free().
 */
static inline void run_init(struct run *r, boot_loader_fn *load,
			    const uint8_t *img, size_t size, uint64_t ram)
{
	memset(r, 0, sizeof(*r));
	r->load = load;
	r->lg = (struct logger)LOGGER(r->cap);
	ram_init(&r->m, ram);
	memset(r->m.host, 0xaa, ram < 64 * MiB ? ram : 64 * MiB);
	r->in.kernel = img;
	r->in.kernel_size = size;
	r->in.kernel_name = "kernel.elf";
}

/* Runs the loader again with r->in as it is now; errors counted afresh. */
static inline int run_load(struct run *r)
{
	r->cap.errors = 0;
	return r->load(&r->m, &r->in, &r->plan, &r->lg);
}

/*
 * An exact-size heap copy of an image's first size bytes, so that ASan
 * sees any read past its end (the caller frees it).
 */
static inline uint8_t *image_dup(const uint8_t *buf, size_t size)
{
	uint8_t *img = malloc(size ? size : 1);

	ck_assert_ptr_nonnull(img);
	memcpy(img, buf, size);
	return img;
}

/* Runs the loader on an exact-size copy of (buf, size) (see image_dup()). */
static inline int run_load_copy(struct run *r, const uint8_t *buf, size_t size)
{
	uint8_t *img = image_dup(buf, size);
	int ret;

	r->in.kernel = img;
	r->in.kernel_size = size;
	ret = run_load(r);
	free(img);
	r->in.kernel = NULL;
	r->in.kernel_size = 0;
	return ret;
}

/* Loading the image into 16 MiB fails with want, logging substr. */
static inline void run_expect_fail(boot_loader_fn *load, const uint8_t *img,
				   size_t size, int want, const char *substr)
{
	struct run r;

	run_init(&r, load, img, size, 16 * MiB);
	ck_assert_fails(run_load(&r), want, r.cap, substr);
	ram_free(&r.m);
}

/*
 * The plan of the ELF64 boot protocol, whichever way it was chosen: long
 * mode at entry, RDI = the FDT copied to the boot info area, RSP = the
 * boot stack.
 */
static inline void ck_assert_elf64_plan(const struct run *r, uint64_t entry,
					uint64_t image_end)
{
	ck_assert_str_eq(r->plan.protocol, "elf64");
	ck_assert_int_eq(r->plan.mode, BOOT_MODE_LONG64);
	ck_assert_uint_eq(r->plan.entry, entry);
	ck_assert_uint_eq(r->plan.rdi, BOOT_INFO_ADDR);
	ck_assert_uint_eq(r->plan.rsp, BOOT_STACK_TOP);
	ck_assert_uint_eq(r->plan.image_end, image_end);
}

#endif /* SPLITVM_TEST_BOOT_RUN_H */
