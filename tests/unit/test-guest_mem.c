// SPDX-License-Identifier: MIT
/* Unit tests of guest RAM layout and translation around the MMIO hole. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "guest_mem.h"
#include "unit.h"

START_TEST(guest_mem_small_ram_is_all_low)
{
	static uint8_t ram[1 << 16];
	struct guest_mem m;
	uint32_t v = 0x12345678, back = 0;

	guest_mem_layout(&m, ram, sizeof(ram));
	ck_assert_uint_eq(m.low_size, sizeof(ram));
	ck_assert_ptr_eq(guest_mem_ptr(&m, 0, sizeof(ram)), ram);
	ck_assert_ptr_null(guest_mem_ptr(&m, 1, sizeof(ram)));
	ck_assert_ptr_null(guest_mem_ptr(&m, sizeof(ram), 1));
	ck_assert_ptr_null(guest_mem_ptr(&m, GUEST_HIGH_RAM_START, 1));
	ck_assert_int_eq(guest_mem_write(&m, 0xfffc, &v, 4), 0);
	ck_assert_int_eq(guest_mem_write(&m, 0xfffd, &v, 4), -EFAULT);
	ck_assert_int_eq(guest_mem_read(&m, 0xfffc, &back, 4), 0);
	ck_assert_uint_eq(back, v);
}
END_TEST

/* Translation only, so a fake host pointer is never dereferenced. */
START_TEST(guest_mem_large_ram_splits_at_hole)
{
	uint8_t *host = (uint8_t *)0x10000000;
	uint64_t size = 5ull << 30;
	struct guest_mem m;

	guest_mem_layout(&m, host, size);
	ck_assert_uint_eq(m.low_size, GUEST_MMIO_HOLE_START);
	ck_assert_ptr_eq(guest_mem_ptr(&m, GUEST_MMIO_HOLE_START - 8, 8),
			 host + GUEST_MMIO_HOLE_START - 8);
	ck_assert_ptr_null(guest_mem_ptr(&m, GUEST_MMIO_HOLE_START - 8, 9));
	ck_assert_ptr_null(guest_mem_ptr(&m, 0xfec00000, 4)); /* IOAPIC */
	ck_assert_ptr_eq(guest_mem_ptr(&m, GUEST_HIGH_RAM_START, 1),
			 host + GUEST_MMIO_HOLE_START);
	uint64_t high = size - GUEST_MMIO_HOLE_START;

	ck_assert_ptr_nonnull(
		guest_mem_ptr(&m, GUEST_HIGH_RAM_START + high - 1, 1));
	ck_assert_ptr_null(guest_mem_ptr(&m, GUEST_HIGH_RAM_START + high, 1));
	ck_assert_ptr_null(guest_mem_ptr(&m, GUEST_HIGH_RAM_START, ~0ull));
	ck_assert_ptr_null(guest_mem_ptr(&m, ~0ull, 2));
}
END_TEST

/*
 * guest_mem_zero() zeroes exactly the range, whether it writes or drops
 * pages; dropped pages are no longer resident (mincore).
 */
START_TEST(guest_mem_zero_exact_range)
{
	const size_t size = 1 << 20, off = 0x123, len = 0x50000;
	unsigned char resident[256];
	struct guest_mem m;
	uint8_t *p;

	for (int discard = 0; discard < 2; discard++) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ck_assert_ptr_ne(p, MAP_FAILED);
		memset(p, 0xaa, size);
		guest_mem_layout(&m, p, size);
		m.discardable = discard;
		guest_mem_zero(&m, p + off, len);
		/* Before anything reads them: page 1 lies wholly inside the
		 * range, page 0 does not. */
		ck_assert_int_eq(mincore(p, size, resident), 0);
		ck_assert_uint_eq(resident[0] & 1, 1);
		ck_assert_uint_eq(resident[1] & 1, !discard);
		for (size_t i = 0; i < size; i++)
			ck_assert_uint_eq(p[i],
					  i >= off && i < off + len ? 0 : 0xaa);
		munmap(p, size);
	}
}
END_TEST

UNIT_SUITE("guest_mem", guest_mem_small_ram_is_all_low, guest_mem_zero_exact_range,
	   guest_mem_large_ram_splits_at_hole)
