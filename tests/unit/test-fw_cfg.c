// SPDX-License-Identifier: MIT
/* Unit tests of fw_cfg: items, the selector, the data stream, the files. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fw_cfg.h"
#include "isa_fdt.h"
#include "rng.h"
#include "unit.h"
#include "snapshot_checks.h"

static struct fw_cfg *mk(void)
{
	struct fw_cfg *f;

	ck_assert_int_eq(fw_cfg_new(0x12345678abull, 3, 8, &f), 0);
	return f;
}

static void sel(struct fw_cfg *f, uint16_t key)
{
	const struct io_access a = {FW_CFG_IO_BASE, 0, 2, 0};

	fw_cfg_ops.write(f, &a, key);
}

static uint64_t rd_at(struct fw_cfg *f, unsigned int off, unsigned int len)
{
	const struct io_access a = {FW_CFG_IO_BASE + off, off, len, 0};

	return fw_cfg_ops.read(f, &a);
}

static uint8_t data(struct fw_cfg *f)
{
	return (uint8_t)rd_at(f, 1, 1);
}

static void read_n(struct fw_cfg *f, uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = data(f);
}

START_TEST(fw_cfg_fixed_items_read_fully)
{
	static const struct {
		uint16_t key;
		unsigned int len;
		uint8_t bytes[8];
	} cases[] = {
		{FW_CFG_SIGNATURE, 4, {'Q', 'E', 'M', 'U'}},
		{FW_CFG_ID, 4, {1, 0, 0, 0}},
		{FW_CFG_RAM_SIZE, 8, {0xab, 0x78, 0x56, 0x34, 0x12, 0, 0, 0}},
		{FW_CFG_NB_CPUS, 2, {3, 0}},
		{FW_CFG_MAX_CPUS, 2, {8, 0}},
		{FW_CFG_FILE_DIR, 4, {0, 0, 0, 0}},
	};
	struct fw_cfg *f = mk();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[8];

		sel(f, cases[i].key);
		read_n(f, buf, cases[i].len);
		ck_assert_msg(!memcmp(buf, cases[i].bytes, cases[i].len),
			      "case %zu", i);
		/* Past the end: zeros, for as long as one reads. */
		for (unsigned int j = 0; j < 20; j++)
			ck_assert_uint_eq(data(f), 0);
	}
	fw_cfg_ops.destroy(f);
}
END_TEST

START_TEST(fw_cfg_select_resets_offset)
{
	struct fw_cfg *f = mk();
	uint8_t buf[4];

	sel(f, FW_CFG_SIGNATURE);
	ck_assert_uint_eq(data(f), 'Q');
	ck_assert_uint_eq(data(f), 'E');
	sel(f, FW_CFG_SIGNATURE);
	read_n(f, buf, 4);
	ck_assert(!memcmp(buf, "QEMU", 4));
	/* Past the end, reselecting starts over too. */
	ck_assert_uint_eq(data(f), 0);
	sel(f, FW_CFG_SIGNATURE);
	ck_assert_uint_eq(data(f), 'Q');
	fw_cfg_ops.destroy(f);
}
END_TEST

START_TEST(fw_cfg_nothing_selected_reads_zero)
{
	struct fw_cfg *f = mk();

	for (unsigned int i = 0; i < 8; i++)
		ck_assert_uint_eq(data(f), 0);
	fw_cfg_ops.destroy(f);
}
END_TEST

START_TEST(fw_cfg_unknown_keys_read_zero)
{
	static const uint16_t keys[] = {0x0002, 0x0004, 0x0010, 0x0018,
					0x0020, 0x1234, 0x3fff, 0x8000,
					0x8003, 0xffff};
	struct fw_cfg *f = mk();

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		sel(f, keys[i]);
		for (unsigned int j = 0; j < 10; j++)
			ck_assert_msg(data(f) == 0, "key %#x", keys[i]);
	}
	fw_cfg_ops.destroy(f);
}
END_TEST

START_TEST(fw_cfg_write_channel_bit_selects_same_item)
{
	struct fw_cfg *f = mk();
	uint8_t buf[4];

	sel(f, FW_CFG_WRITE_CHANNEL | FW_CFG_SIGNATURE);
	read_n(f, buf, 4);
	ck_assert(!memcmp(buf, "QEMU", 4));
	fw_cfg_ops.destroy(f);
}
END_TEST

START_TEST(fw_cfg_byte_read_of_selector_port_reads_data)
{
	struct fw_cfg *f = mk();

	sel(f, FW_CFG_SIGNATURE);
	ck_assert_uint_eq(rd_at(f, 0, 1), 'Q');
	ck_assert_uint_eq(rd_at(f, 1, 1), 'E');
	ck_assert_uint_eq(rd_at(f, 0, 1), 'M');
	fw_cfg_ops.destroy(f);
}
END_TEST

START_TEST(fw_cfg_wide_reads_all_ones)
{
	struct fw_cfg *f = mk();

	sel(f, FW_CFG_SIGNATURE);
	ck_assert_uint_eq(rd_at(f, 0, 2), 0xffff);
	ck_assert_uint_eq(rd_at(f, 0, 4), 0xffffffff);
	ck_assert_uint_eq(rd_at(f, 0, 8), ~0ull);
	/* ...and do not advance the stream. */
	ck_assert_uint_eq(data(f), 'Q');
	fw_cfg_ops.destroy(f);
}
END_TEST

START_TEST(fw_cfg_other_writes_ignored)
{
	static const struct {
		unsigned int off, len;
	} cases[] = {{0, 1}, {1, 1}, {0, 4}, {0, 8}};
	struct fw_cfg *f = mk();

	sel(f, FW_CFG_SIGNATURE);
	ck_assert_uint_eq(data(f), 'Q');
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct io_access a = {FW_CFG_IO_BASE + cases[i].off,
					    cases[i].off, cases[i].len, 0};

		fw_cfg_ops.write(f, &a, FW_CFG_ID);
	}
	/* Neither reselected nor rewound nor changed the item. */
	ck_assert_uint_eq(data(f), 'E');
	sel(f, FW_CFG_SIGNATURE);
	ck_assert_uint_eq(data(f), 'Q');
	fw_cfg_ops.destroy(f);
}
END_TEST

START_TEST(fw_cfg_add_bytes_readable)
{
	struct fw_cfg *f = mk();
	uint8_t blob[300], buf[300];

	for (unsigned int i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 7 + 1);
	ck_assert_int_eq(fw_cfg_add_bytes(f, 0x0002, blob, sizeof(blob)), 0);
	ck_assert_int_eq(fw_cfg_add_bytes(f, 0x8001, "x", 1), 0);
	ck_assert_int_eq(fw_cfg_add_bytes(f, 0x0004, NULL, 0), 0);
	/* The data was copied. */
	memset(blob, 0, sizeof(blob));
	sel(f, 0x0002);
	read_n(f, buf, sizeof(buf));
	for (unsigned int i = 0; i < sizeof(buf); i++)
		ck_assert_uint_eq(buf[i], (uint8_t)(i * 7 + 1));
	ck_assert_uint_eq(data(f), 0);
	sel(f, 0x8001);
	ck_assert_uint_eq(data(f), 'x');
	sel(f, 0x0004);
	ck_assert_uint_eq(data(f), 0);
	fw_cfg_ops.destroy(f);
}
END_TEST

START_TEST(fw_cfg_add_bytes_errors)
{
	static const struct {
		uint16_t key;
		size_t len;
		bool null_data;
		int expect;
	} cases[] = {
		{0x0002, 4, false, 0},
		{0x0002, 4, false, -EEXIST},
		{FW_CFG_SIGNATURE, 4, false, -EEXIST},
		{0x0006, FW_CFG_MAX_ITEM_SIZE + 1, false, -EINVAL},
		{0x0006, 4, true, -EINVAL},
		{FW_CFG_FILE_DIR, 4, false, -EINVAL},
		{FW_CFG_FILE_FIRST, 4, false, -EINVAL},
		{0x1000, 4, false, -EINVAL},
		{FW_CFG_WRITE_CHANNEL | 0x0007, 4, false, -EINVAL},
		{FW_CFG_ARCH_LOCAL | 0x0003, 4, false, 0},
		{FW_CFG_ARCH_LOCAL | 0x0003, 4, false, -EEXIST},
		{FW_CFG_ARCH_LOCAL | 0x0100, 0, true, 0},
	};
	static const uint8_t four[4] = {1, 2, 3, 4};
	struct fw_cfg *f = mk();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(fw_cfg_add_bytes(f, cases[i].key,
					       cases[i].null_data ? NULL : four,
					       cases[i].len) == cases[i].expect,
			      "case %zu", i);
	fw_cfg_ops.destroy(f);
}
END_TEST

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

START_TEST(fw_cfg_file_dir_format)
{
	static const struct {
		const char *name;
		const char *content;
	} files[] = {
		{"etc/b", "second file's bytes"},
		{"etc/a", "first"},
		{"opt/splitvm/empty", ""},
	};
	struct fw_cfg *f = mk();
	uint8_t dir[4 + 3 * 64], buf[64];

	for (size_t i = 0; i < 3; i++)
		ck_assert_int_eq(fw_cfg_add_file(f, files[i].name,
						 files[i].content,
						 strlen(files[i].content)),
				 0);
	sel(f, FW_CFG_FILE_DIR);
	read_n(f, dir, sizeof(dir));
	ck_assert_uint_eq(data(f), 0); /* nothing after the last entry */
	ck_assert_uint_eq(be32(dir), 3);
	for (size_t i = 0; i < 3; i++) {
		const uint8_t *e = dir + 4 + 64 * i;
		size_t len = strlen(files[i].content);

		ck_assert_uint_eq(be32(e), len);
		ck_assert_uint_eq(be16(e + 4), FW_CFG_FILE_FIRST + i);
		ck_assert_uint_eq(be16(e + 6), 0);
		ck_assert_str_eq((const char *)e + 8, files[i].name);
		for (size_t j = 8 + strlen(files[i].name); j < 64; j++)
			ck_assert_uint_eq(e[j], 0);
		/* The selector reads the file. */
		sel(f, be16(e + 4));
		read_n(f, buf, len + 1);
		ck_assert(!memcmp(buf, files[i].content, len));
		ck_assert_uint_eq(buf[len], 0);
	}
	fw_cfg_ops.destroy(f);
}
END_TEST

START_TEST(fw_cfg_add_file_errors)
{
	char longest[FW_CFG_MAX_FILE_PATH], too_long[FW_CFG_MAX_FILE_PATH + 1];
	struct fw_cfg *f = mk();

	memset(longest, 'n', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	memset(too_long, 'n', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';
	ck_assert_int_eq(fw_cfg_add_file(f, "etc/x", "1", 1), 0);
	ck_assert_int_eq(fw_cfg_add_file(f, "etc/x", "2", 1), -EEXIST);
	ck_assert_int_eq(fw_cfg_add_file(f, "", "2", 1), -EINVAL);
	ck_assert_int_eq(fw_cfg_add_file(f, NULL, "2", 1), -EINVAL);
	ck_assert_int_eq(fw_cfg_add_file(f, "etc/y", NULL, 1), -EINVAL);
	ck_assert_int_eq(fw_cfg_add_file(f, "etc/y", "2",
					 FW_CFG_MAX_ITEM_SIZE + 1),
			 -EINVAL);
	ck_assert_int_eq(fw_cfg_add_file(f, too_long, "2", 1), -ENAMETOOLONG);
	ck_assert_int_eq(fw_cfg_add_file(f, longest, "2", 1), 0);
	ck_assert_int_eq(fw_cfg_add_file(f, longest, "2", 1), -EEXIST);
	/* Failures took no selector: the next file gets 0x22. */
	ck_assert_int_eq(fw_cfg_add_file(f, "etc/z", "z", 1), 0);
	sel(f, 0x0022);
	ck_assert_uint_eq(data(f), 'z');
	sel(f, FW_CFG_FILE_DIR);
	ck_assert_uint_eq(data(f), 0);
	ck_assert_uint_eq(data(f), 0);
	ck_assert_uint_eq(data(f), 0);
	ck_assert_uint_eq(data(f), 3);
	fw_cfg_ops.destroy(f);
}
END_TEST

START_TEST(fw_cfg_new_errors)
{
	struct fw_cfg *f;

	ck_assert_int_eq(fw_cfg_new(1 << 20, 1, 1, NULL), -EINVAL);
	ck_assert_int_eq(fw_cfg_new(1 << 20, 0, 1, &f), -EINVAL);
	ck_assert_int_eq(fw_cfg_new(1 << 20, 4, 2, &f), -EINVAL);
	ck_assert_int_eq(fw_cfg_new(1 << 20, 1, 1, &f), 0);
	fw_cfg_ops.destroy(f);
	fw_cfg_ops.destroy(NULL);
}
END_TEST

START_TEST(fw_cfg_describe_adds_isa_node)
{
	struct fw_cfg *f = mk();
	char fdt[1024];
	int off;

	off = isa_describe(&fw_cfg_ops, f, fdt, sizeof(fdt), "fw-cfg@510");
	ck_assert_str_eq(fdt_getprop(fdt, off, "compatible", NULL),
			 "qemu,fw-cfg-io");
	ck_assert_isa_reg(fdt, off, 0x510, 2);
	ck_assert_ptr_null(fdt_getprop(fdt, off, "interrupts", NULL));
	fw_cfg_ops.destroy(f);
}
END_TEST

START_TEST(fw_cfg_random_accesses_keep_items)
{
	static const unsigned int lens[] = {1, 1, 1, 2, 4, 8};
	uint64_t seed = 0xf00dcafe0badbeefull;
	struct fw_cfg *f = mk();
	uint8_t buf[4];

	ck_assert_int_eq(fw_cfg_add_file(f, "etc/r", "rrrr", 4), 0);
	for (unsigned int i = 0; i < 20000; i++) {
		uint64_t x = xorshift64(&seed);
		unsigned int len = lens[(x >> 1) % 6];
		unsigned int off = len == 1 ? x & 1 : 0;
		const struct io_access a = {FW_CFG_IO_BASE + off, off, len, 0};

		if (x & 0x100) {
			uint64_t v = fw_cfg_ops.read(f, &a);

			ck_assert(len == 1 ? v <= 0xff : v == io_all_ones(len));
		} else {
			/* Mostly small keys, so that items get selected. */
			fw_cfg_ops.write(f, &a,
					 x & 0x200 ? (x >> 16) & 0x27
						   : x >> 16);
		}
	}
	sel(f, FW_CFG_SIGNATURE);
	read_n(f, buf, 4);
	ck_assert(!memcmp(buf, "QEMU", 4));
	sel(f, FW_CFG_FILE_FIRST);
	read_n(f, buf, 4);
	ck_assert(!memcmp(buf, "rrrr", 4));
	fw_cfg_ops.destroy(f);
}
END_TEST

/* ---- Snapshots ------------------------------------------------------ */

/* The blob's layout (fw_cfg.c). */
enum { S_SELECTED = 8, S_RESERVED = 9, S_KEY = 10, S_OFFSET = 12,
       S_ITEM_LEN = 16, S_HASH = 20, S_LEN = 28 };

#define KERNEL_LEN 1000

/* mk()'s device with a kernel-like file whose bytes depend on salt. */
static struct fw_cfg *mk_with_kernel(uint8_t salt, size_t len)
{
	struct fw_cfg *f = mk();
	uint8_t *k = malloc(len);

	ck_assert_ptr_nonnull(k);
	for (size_t i = 0; i < len; i++)
		k[i] = (uint8_t)(i * 7 + salt);
	ck_assert_int_eq(fw_cfg_add_file(f, "etc/cmdline", "console=ttyS0",
					 13), 0);
	ck_assert_int_eq(fw_cfg_add_file(f, "etc/kernel", k, len), 0);
	free(k);
	return f;
}

/* f and g give the same next n data bytes. */
static void ck_assert_same_stream(struct fw_cfg *f, struct fw_cfg *g,
				  size_t n)
{
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(data(f) == data(g), "byte %zu", i);
}

START_TEST(fw_cfg_snapshot_mid_read_round_trip)
{
	struct fw_cfg *f = mk_with_kernel(3, KERNEL_LEN), *g;
	uint8_t buf[300], *blob;
	size_t n;

	sel(f, FW_CFG_FILE_FIRST + 1);
	read_n(f, buf, sizeof(buf));
	blob = snap_save(&fw_cfg_ops, f, &n);
	ck_assert_uint_eq(n, S_LEN);
	g = mk_with_kernel(3, KERNEL_LEN);
	ck_assert_int_eq(fw_cfg_ops.load(g, blob, n, SNAP_NOW), 0);
	/* The rest of the file, then zeros past its end, on both. */
	ck_assert_same_stream(f, g, KERNEL_LEN - sizeof(buf) + 10);
	ck_assert_uint_eq(data(g), 0);
	free(blob);
	/* At the end of an item: still there, nothing left to read. */
	blob = snap_save(&fw_cfg_ops, f, &n);
	ck_assert_int_eq(snap_try(&fw_cfg_ops, g, blob, n), 0);
	ck_assert_uint_eq(data(g), 0);
	free(blob);
	/* Mid-way through a fixed item. */
	sel(f, FW_CFG_SIGNATURE);
	ck_assert_uint_eq(data(f), 'Q');
	blob = snap_save(&fw_cfg_ops, f, &n);
	ck_assert_int_eq(snap_try(&fw_cfg_ops, g, blob, n), 0);
	ck_assert_same_stream(f, g, 5);
	free(blob);
	/* Nothing selected (an unknown key). */
	sel(f, 0x1234);
	blob = snap_save(&fw_cfg_ops, f, &n);
	ck_assert_uint_eq(blob[S_SELECTED], 0);
	ck_assert_int_eq(snap_try(&fw_cfg_ops, g, blob, n), 0);
	ck_assert_same_stream(f, g, 5);
	free(blob);
	fw_cfg_ops.destroy(f);
	fw_cfg_ops.destroy(g);
}
END_TEST

START_TEST(fw_cfg_snapshot_refuses_another_item)
{
	struct fw_cfg *f = mk_with_kernel(3, KERNEL_LEN), *other[3];
	uint8_t *blob;
	size_t n;

	sel(f, FW_CFG_FILE_FIRST + 1);
	data(f);
	blob = snap_save(&fw_cfg_ops, f, &n);
	other[0] = mk_with_kernel(4, KERNEL_LEN);     /* other bytes */
	other[1] = mk_with_kernel(3, KERNEL_LEN + 1); /* other length */
	other[2] = mk();			      /* no such file */
	for (unsigned int i = 0; i < 3; i++) {
		sel(other[i], FW_CFG_SIGNATURE);
		data(other[i]);
		ck_assert_msg(snap_try(&fw_cfg_ops, other[i], blob, n) ==
				      -EINVAL,
			      "VM %u", i);
		/* Unchanged: still one byte into the signature. */
		ck_assert_uint_eq(data(other[i]), 'E');
		fw_cfg_ops.destroy(other[i]);
	}
	free(blob);
	fw_cfg_ops.destroy(f);
}
END_TEST

START_TEST(fw_cfg_snapshot_refuses_bad_blobs)
{
	static const struct {
		size_t off;
		uint8_t v;
	} cases[] = {
		{1, 'w'},	   {4, 0},	       {7, 1},
		{S_SELECTED, 2},   {S_RESERVED, 1},    {S_KEY, 0x22},
		{S_KEY + 1, 0x80}, {S_OFFSET + 1, 4},  {S_OFFSET + 3, 0x80},
		{S_ITEM_LEN, 0},   {S_ITEM_LEN + 2, 1}, {S_HASH, 0},
		{S_HASH + 7, 0},
	};
	struct fw_cfg *f = mk_with_kernel(3, KERNEL_LEN),
		      *g = mk_with_kernel(3, KERNEL_LEN);
	uint8_t *blob;
	size_t n;

	sel(f, FW_CFG_FILE_FIRST + 1);
	data(f);
	blob = snap_save(&fw_cfg_ops, f, &n);
	snap_check_lengths(&fw_cfg_ops, g, blob, n);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		snap_check_refused(&fw_cfg_ops, g, blob, n, cases[i].off,
				   cases[i].v, i);
	/* Just past the end is no offset a read could have left. */
	blob[S_OFFSET] = (uint8_t)(KERNEL_LEN + 1);
	blob[S_OFFSET + 1] = (uint8_t)((KERNEL_LEN + 1) >> 8);
	ck_assert_int_eq(snap_try(&fw_cfg_ops, g, blob, n), -EINVAL);
	blob[S_OFFSET] = (uint8_t)KERNEL_LEN;
	ck_assert_int_eq(snap_try(&fw_cfg_ops, g, blob, n), 0);
	/* With nothing selected, the item fields must be zero. */
	free(blob);
	sel(f, 0x1234);
	blob = snap_save(&fw_cfg_ops, f, &n);
	for (size_t off = S_KEY; off < S_LEN; off++)
		snap_check_refused(&fw_cfg_ops, g, blob, n, off, 1, 100 + off);
	free(blob);
	fw_cfg_ops.destroy(f);
	fw_cfg_ops.destroy(g);
}
END_TEST

START_TEST(fw_cfg_snapshot_save_needs_room)
{
	struct fw_cfg *f = mk();
	uint8_t buf[S_LEN];

	for (size_t cap = 0; cap < S_LEN; cap++)
		ck_assert_int_eq(fw_cfg_ops.save(f, buf, cap, 0), -ENOSPC);
	ck_assert_int_eq(fw_cfg_ops.save(f, buf, S_LEN, 0), S_LEN);
	fw_cfg_ops.destroy(f);
}
END_TEST

START_TEST(fw_cfg_snapshot_hostile_blobs_never_crash)
{
	static const uint16_t keys[] = {FW_CFG_SIGNATURE, FW_CFG_RAM_SIZE,
					FW_CFG_FILE_DIR, FW_CFG_FILE_FIRST + 1};
	uint64_t seed = 0xabcdef0123456789ull;
	struct fw_cfg *f = mk_with_kernel(3, KERNEL_LEN),
		      *g = mk_with_kernel(3, KERNEL_LEN);
	uint8_t *blob;
	size_t n;

	for (unsigned int i = 0; i < 4; i++) {
		sel(f, keys[i]);
		data(f);
		blob = snap_save(&fw_cfg_ops, f, &n);
		ck_assert_uint_gt(snap_fuzz(&fw_cfg_ops, g, blob, n, 1000,
					    seed + i),
				  0);
		free(blob);
	}
	fw_cfg_ops.destroy(f);
	fw_cfg_ops.destroy(g);
}
END_TEST

UNIT_SUITE("fw_cfg", fw_cfg_fixed_items_read_fully, fw_cfg_select_resets_offset,
	   fw_cfg_nothing_selected_reads_zero, fw_cfg_unknown_keys_read_zero,
	   fw_cfg_write_channel_bit_selects_same_item,
	   fw_cfg_byte_read_of_selector_port_reads_data,
	   fw_cfg_wide_reads_all_ones, fw_cfg_other_writes_ignored,
	   fw_cfg_add_bytes_readable, fw_cfg_add_bytes_errors,
	   fw_cfg_file_dir_format, fw_cfg_add_file_errors, fw_cfg_new_errors,
	   fw_cfg_describe_adds_isa_node,
	   fw_cfg_random_accesses_keep_items,
	   fw_cfg_snapshot_mid_read_round_trip,
	   fw_cfg_snapshot_refuses_another_item,
	   fw_cfg_snapshot_refuses_bad_blobs, fw_cfg_snapshot_save_needs_room,
	   fw_cfg_snapshot_hostile_blobs_never_crash)
