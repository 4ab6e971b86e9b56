// SPDX-License-Identifier: MIT
/* Unit tests of guest RAM layout and translation around the MMIO hole. */
#include <errno.h>
#include <stdlib.h>

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

UNIT_SUITE("guest_mem", guest_mem_small_ram_is_all_low,
	   guest_mem_large_ram_splits_at_hole)
