// SPDX-License-Identifier: MIT
/*
 * What every boot protocol shares: where a loader may put bytes (RAM, not
 * splitvm's own tables, not a range the VM reserved), the memory map it
 * reports, the boot information area and where modules go. Below the
 * protocols: it calls none of them.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "boot.h"
#include "bytes.h"

#define PAGE_SIZE 0x1000ull
#define MiB 0x100000ull

int boot_check_range(const struct guest_mem *mem, uint64_t gpa, uint64_t len,
		     const char *what, const struct logger *lg)
{
	uint64_t end, high = mem->size - mem->low_size;

	if (len == 0)
		return 0;
	if (len > UINT64_MAX - gpa) {
		log_error(lg,
			  "%s: 0x%" PRIx64 " + size 0x%" PRIx64
			  " wraps around the address space",
			  what, gpa, len);
		return -ENOEXEC;
	}
	end = gpa + len;
	if (gpa < BOOT_INFO_END && end > BOOT_GDT_ADDR) {
		log_error(lg,
			  "%s: [0x%" PRIx64 ", 0x%" PRIx64 ") overlaps "
			  "[0x%llx, 0x%llx), where splitvm writes its GDT, "
			  "page tables and boot information",
			  what, gpa, end, BOOT_GDT_ADDR, BOOT_INFO_END);
		return -ENOEXEC;
	}
	if (guest_mem_ptr(mem, gpa, len))
		return 0;
	if (gpa < GUEST_HIGH_RAM_START && end > GUEST_MMIO_HOLE_START) {
		log_error(lg,
			  "%s: [0x%" PRIx64 ", 0x%" PRIx64 ") falls in "
			  "the MMIO hole [0x%llx, 0x%llx), which is not RAM",
			  what, gpa, end, GUEST_MMIO_HOLE_START,
			  GUEST_HIGH_RAM_START);
		return -ENOEXEC;
	}
	if (high)
		log_error(lg,
			  "%s: [0x%" PRIx64 ", 0x%" PRIx64 ") is not in "
			  "guest RAM ([0, 0x%" PRIx64
			  ") and [0x%llx, 0x%" PRIx64 "))",
			  what, gpa, end, mem->low_size, GUEST_HIGH_RAM_START,
			  (uint64_t)(GUEST_HIGH_RAM_START + high));
	else
		log_error(lg,
			  "%s: [0x%" PRIx64 ", 0x%" PRIx64 ") is not in "
			  "guest RAM ([0, 0x%" PRIx64 "))",
			  what, gpa, end, mem->low_size);
	return -EFBIG;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	/* Callers have checked that neither range wraps. */
	return alen && blen && a < b + blen && b < a + alen;
}

const struct boot_mem_range *boot_reserved_overlap(const struct boot_input *in,
						   uint64_t addr, uint64_t len)
{
	const struct boot_mem_range *r;
	unsigned int i;

	if (!in->reserved || len > UINT64_MAX - addr)
		return NULL;
	for (i = 0; i < in->nr_reserved && i < BOOT_MAX_RESERVED; i++) {
		r = &in->reserved[i];
		if (r->size <= UINT64_MAX - r->addr &&
		    ranges_overlap(addr, len, r->addr, r->size))
			return r;
	}
	return NULL;
}

int boot_reserve(struct boot_input *in, uint64_t addr, uint64_t len,
		 enum boot_mem_type type)
{
	if (in->nr_reserved && in->reserved != in->reserved_buf)
		return -EINVAL;
	if (len == 0)
		return 0;
	if (in->nr_reserved >= BOOT_RESERVED_BUF)
		return -ENOSPC;
	in->reserved_buf[in->nr_reserved++] =
		(struct boot_mem_range){ addr, len, type };
	in->reserved = in->reserved_buf;
	return 0;
}

/* They come from the monitor, not the guest: a bad one is -EINVAL. */
int boot_check_reserved(const struct boot_input *in, const struct logger *lg)
{
	const struct boot_mem_range *r;
	unsigned int i;

	if (in->nr_reserved > BOOT_MAX_RESERVED ||
	    (in->nr_reserved && !in->reserved)) {
		log_error(lg,
			  "%u reserved memory ranges given (at most %d, "
			  "and an array is needed)",
			  in->nr_reserved, BOOT_MAX_RESERVED);
		return -EINVAL;
	}
	for (i = 0; i < in->nr_reserved; i++) {
		r = &in->reserved[i];
		if (r->size == 0 || r->size > UINT64_MAX - r->addr ||
		    r->type < BOOT_MEM_RESERVED ||
		    r->type > BOOT_MEM_UNUSABLE) {
			log_error(lg,
				  "reserved memory range %u (0x%" PRIx64
				  " + 0x%" PRIx64 ", type %d) is empty, wraps "
				  "or is not of a reserved type (2-5)",
				  i, r->addr, r->size, (int)r->type);
			return -EINVAL;
		}
		if (ranges_overlap(r->addr, r->size, BOOT_GDT_ADDR,
				   BOOT_INFO_END - BOOT_GDT_ADDR) ||
		    ranges_overlap(r->addr, r->size, BOOT_PARAMS_ADDR,
				   PAGE_SIZE)) {
			log_error(lg,
				  "reserved memory range %u [0x%" PRIx64
				  ", 0x%" PRIx64 ") overlaps where splitvm "
				  "writes its boot tables and information "
				  "(0x%llx-0x%llx, 0x%llx-0x%llx)",
				  i, r->addr, r->addr + r->size,
				  BOOT_PARAMS_ADDR,
				  BOOT_PARAMS_ADDR + PAGE_SIZE, BOOT_GDT_ADDR,
				  BOOT_INFO_END);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Paints r over the map: every entry loses what r covers (splitting in
 * two when r falls inside it), then r is appended. Grows the map by two
 * entries at most; the caller sized it for that.
 */
static unsigned int memmap_paint(struct boot_mem_range *map, unsigned int n,
				 const struct boot_mem_range *r)
{
	struct boot_mem_range out[BOOT_MEMMAP_MAX];
	uint64_t r_end = r->addr + r->size, e_end;
	unsigned int i, m = 0;

	for (i = 0; i < n; i++) {
		e_end = map[i].addr + map[i].size;
		if (map[i].addr < r->addr)
			out[m++] = (struct boot_mem_range){
				map[i].addr,
				(e_end < r->addr ? e_end : r->addr) -
					map[i].addr,
				map[i].type
			};
		if (e_end > r_end) {
			uint64_t start =
				map[i].addr > r_end ? map[i].addr : r_end;

			out[m++] =
				(struct boot_mem_range){ start, e_end - start,
							 map[i].type };
		}
	}
	out[m++] = *r;
	memcpy(map, out, m * sizeof(*map));
	return m;
}

/* Sorts by address (insertion sort: a few dozen entries) and merges. */
static unsigned int memmap_tidy(struct boot_mem_range *map, unsigned int n)
{
	struct boot_mem_range t;
	unsigned int i, j, m = 0;

	for (i = 1; i < n; i++) {
		t = map[i];
		for (j = i; j > 0 && map[j - 1].addr > t.addr; j--)
			map[j] = map[j - 1];
		map[j] = t;
	}
	for (i = 0; i < n; i++) {
		if (m && map[m - 1].type == map[i].type &&
		    map[m - 1].addr + map[m - 1].size == map[i].addr)
			map[m - 1].size += map[i].size;
		else
			map[m++] = map[i];
	}
	return m;
}

unsigned int boot_memmap(const struct guest_mem *mem,
			 const struct boot_input *in,
			 struct boot_mem_range *map)
{
	uint64_t low = guest_mem_low_end(mem);
	uint64_t high = mem->size - mem->low_size;
	uint64_t conv = low < BOOT_LOW_MEM_END ? low : BOOT_LOW_MEM_END;
	/* The EBDA, video memory and BIOS area of a PC: never RAM. */
	const struct boot_mem_range legacy = { BOOT_LOW_MEM_END,
					       MiB - BOOT_LOW_MEM_END,
					       BOOT_MEM_RESERVED };
	unsigned int i, n = 0;

	if (conv)
		map[n++] = (struct boot_mem_range){ 0, conv, BOOT_MEM_RAM };
	if (low > MiB)
		map[n++] =
			(struct boot_mem_range){ MiB, low - MiB, BOOT_MEM_RAM };
	if (high)
		map[n++] = (struct boot_mem_range){ GUEST_HIGH_RAM_START, high,
						    BOOT_MEM_RAM };
	n = memmap_paint(map, n, &legacy);
	for (i = 0;
	     in->reserved && i < in->nr_reserved && i < BOOT_MAX_RESERVED; i++)
		if (in->reserved[i].size &&
		    in->reserved[i].size <= UINT64_MAX - in->reserved[i].addr)
			n = memmap_paint(map, n, &in->reserved[i]);
	return memmap_tidy(map, n);
}

int boot_area_init(struct boot_area *a, const struct guest_mem *mem,
		   const char *what, const struct logger *lg)
{
	a->used = 0;
	a->host = guest_mem_ptr(mem, BOOT_INFO_ADDR,
				BOOT_INFO_END - BOOT_INFO_ADDR);
	if (!a->host) {
		log_error(lg, "guest RAM is too small for the %s at 0x%llx",
			  what, BOOT_INFO_ADDR);
		return -EFBIG;
	}
	/* Untouched pages stay so: only what is written costs memory. */
	guest_mem_zero(mem, a->host, BOOT_INFO_END - BOOT_INFO_ADDR);
	return 0;
}

uint64_t boot_area_alloc(struct boot_area *a, uint64_t len, uint64_t align)
{
	uint64_t size = BOOT_INFO_END - BOOT_INFO_ADDR;
	uint64_t off = align_up(a->used, align);

	if (off > size || len > size - off)
		return 0;
	a->used = off + len;
	return BOOT_INFO_ADDR + off;
}

uint8_t *boot_area_host(const struct boot_area *a, uint64_t gpa)
{
	return a->host + (gpa - BOOT_INFO_ADDR);
}

uint64_t boot_area_string(struct boot_area *a, const char *str)
{
	size_t len = strlen(str) + 1;
	uint64_t gpa = boot_area_alloc(a, len, 1);

	if (gpa)
		memcpy(boot_area_host(a, gpa), str, len);
	return gpa;
}

int boot_place_module(const struct guest_mem *mem, const struct boot_input *in,
		      unsigned int i, uint64_t *ret_addr, uint64_t *next,
		      const struct logger *lg)
{
	const struct boot_module *mod = &in->modules[i];
	uint64_t low = guest_mem_low_end(mem), addr = *next;
	const struct boot_mem_range *r;
	unsigned int tries;

	if (!mod->data && mod->size) {
		log_error(lg, "module %u (%s): no data", i,
			  mod->name ? mod->name : "");
		return -EINVAL;
	}
	/* Each reserved range can push the module up once. */
	for (tries = 0; tries <= BOOT_MAX_RESERVED; tries++) {
		addr = align_up(addr, PAGE_SIZE);
		if (addr > low || mod->size > low - addr)
			break;
		r = boot_reserved_overlap(in, addr, mod->size);
		if (!r) {
			if (mod->size)
				memcpy(guest_mem_ptr(mem, addr, mod->size),
				       mod->data, mod->size);
			*ret_addr = addr;
			*next = addr + mod->size;
			return 0;
		}
		addr = r->addr + r->size;
	}
	log_error(lg,
		  "module %u (%s, %zu bytes) does not fit in guest RAM "
		  "after 0x%" PRIx64 " (RAM below the MMIO hole ends at "
		  "0x%" PRIx64 ")",
		  i, mod->name ? mod->name : "", mod->size, *next, low);
	return -EFBIG;
}
