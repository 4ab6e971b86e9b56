// SPDX-License-Identifier: MIT
/* Unit tests of the reset ports 0x64, 0xcf9 and 0x92. */
#include "fakes.h"
#include "reset.h"
#include "rng.h"
#include "unit.h"
#include "snapshot_checks.h"

static struct reset *mk(struct fake_vm *vm)
{
	const struct vm_end_hook hook = fake_vm_hook(vm);
	struct reset *r;

	ck_assert_int_eq(reset_new(&hook, &r), 0);
	return r;
}

static void wr(struct reset *r, uint16_t port, uint8_t v)
{
	const struct io_access a = {port, 0, 1, 3};

	reset_ops.write(r, &a, v);
}

static uint8_t rd(struct reset *r, uint16_t port)
{
	const struct io_access a = {port, 0, 1, 0};

	return (uint8_t)reset_ops.read(r, &a);
}

START_TEST(reset_write_values)
{
	static const struct {
		uint16_t port;
		uint8_t val;
		bool resets;
	} cases[] = {
		{RESET_PORT_I8042, 0xfe, true},
		{RESET_PORT_I8042, 0xf0, true}, /* pulses bit 0 too */
		{RESET_PORT_I8042, 0xf2, true},
		{RESET_PORT_I8042, 0xfc, true},
		{RESET_PORT_I8042, 0xff, false}, /* pulses nothing */
		{RESET_PORT_I8042, 0xf1, false},
		{RESET_PORT_I8042, 0xfd, false},
		{RESET_PORT_I8042, 0xd1, false},
		{RESET_PORT_I8042, 0x20, false},
		{RESET_PORT_I8042, 0xaa, false},
		{RESET_PORT_I8042, 0x00, false},
		{RESET_PORT_I8042, 0xee, false},
		{RESET_PORT_CF9, 0x06, true},
		{RESET_PORT_CF9, 0x0e, true},
		{RESET_PORT_CF9, 0x04, true},
		{RESET_PORT_CF9, 0xff, true},
		{RESET_PORT_CF9, 0x02, false},
		{RESET_PORT_CF9, 0x08, false},
		{RESET_PORT_CF9, 0x0a, false},
		{RESET_PORT_CF9, 0x00, false},
		{RESET_PORT_CF9, 0xfb, false},
		{RESET_PORT_92, 0x01, true},
		{RESET_PORT_92, 0x03, true},
		{RESET_PORT_92, 0xff, true},
		{RESET_PORT_92, 0x02, false},
		{RESET_PORT_92, 0x00, false},
		{RESET_PORT_92, 0xfe, false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_vm vm = {0};
		struct reset *r = mk(&vm);

		wr(r, cases[i].port, cases[i].val);
		ck_assert_msg(vm.ends == cases[i].resets,
			      "case %zu: %#x <- %#x", i, cases[i].port,
			      cases[i].val);
		if (vm.ends)
			ck_assert_last_end(&vm, SPLITVM_OUTCOME_RESET, 0, 3, i);
		reset_ops.destroy(r);
	}
}
END_TEST

START_TEST(reset_i8042_status_has_nothing_to_take)
{
	/* OBF set (Linux: "no controller"), IBF clear (reset waits end). */
	struct fake_vm vm = {0};
	struct reset *r = mk(&vm);

	ck_assert_uint_eq(rd(r, RESET_PORT_I8042), 0xfd);
	ck_assert_uint_eq(rd(r, RESET_PORT_I8042) & 0x02, 0);
	wr(r, RESET_PORT_I8042, 0xd1);
	ck_assert_uint_eq(rd(r, RESET_PORT_I8042), 0xfd);
	ck_assert_uint_eq(vm.ends, 0);
	reset_ops.destroy(r);
}
END_TEST

START_TEST(reset_cf9_keeps_sys_rst_only)
{
	static const struct {
		uint8_t write, read;
	} cases[] = {
		{0x02, 0x02}, {0x00, 0x00}, {0x0a, 0x02},
		{0xfb, 0x02}, {0x08, 0x00}, {0xf1, 0x00},
	};
	struct fake_vm vm = {0};
	struct reset *r = mk(&vm);

	ck_assert_uint_eq(rd(r, RESET_PORT_CF9), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wr(r, RESET_PORT_CF9, cases[i].write);
		ck_assert_msg(rd(r, RESET_PORT_CF9) == cases[i].read,
			      "case %zu", i);
	}
	ck_assert_uint_eq(vm.ends, 0);
	reset_ops.destroy(r);
}
END_TEST

START_TEST(reset_cf9_linux_sequence)
{
	/* native_machine_emergency_restart(), BOOT_CF9_FORCE. */
	struct fake_vm vm = {0};
	struct reset *r = mk(&vm);
	uint8_t cf9 = rd(r, RESET_PORT_CF9) & ~0x0e;

	wr(r, RESET_PORT_CF9, cf9 | 0x02);
	ck_assert_uint_eq(vm.ends, 0);
	wr(r, RESET_PORT_CF9, cf9 | 0x0e);
	ck_assert_uint_eq(vm.ends, 1);
	reset_ops.destroy(r);
}
END_TEST

START_TEST(reset_port92_reads_back_and_resets_on_rising_bit0)
{
	struct fake_vm vm = {0};
	struct reset *r = mk(&vm);

	ck_assert_uint_eq(rd(r, RESET_PORT_92), 0x00);
	wr(r, RESET_PORT_92, 0x02); /* A20 on */
	ck_assert_uint_eq(rd(r, RESET_PORT_92), 0x02);
	wr(r, RESET_PORT_92, 0xf2);
	ck_assert_uint_eq(rd(r, RESET_PORT_92), 0xf2);
	ck_assert_uint_eq(vm.ends, 0);
	wr(r, RESET_PORT_92, 0x03);
	ck_assert_uint_eq(vm.ends, 1);
	/* The reset leaves bit 0 clear, the rest as written. */
	ck_assert_uint_eq(rd(r, RESET_PORT_92), 0x02);
	wr(r, RESET_PORT_92, 0x03);
	ck_assert_uint_eq(vm.ends, 2);
	reset_ops.destroy(r);
}
END_TEST

START_TEST(reset_wrong_size_ignored)
{
	static const uint16_t ports[] = {RESET_PORT_I8042, RESET_PORT_CF9,
					 RESET_PORT_92};
	static const unsigned int lens[] = {2, 4, 8};
	struct fake_vm vm = {0};
	struct reset *r = mk(&vm);

	wr(r, RESET_PORT_92, 0x02);
	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < 3; j++) {
			const struct io_access a = {ports[i], 0, lens[j], 0};

			reset_ops.write(r, &a, 0xfe | 0x07);
			ck_assert_uint_eq(reset_ops.read(r, &a),
					  io_all_ones(lens[j]));
		}
	ck_assert_uint_eq(vm.ends, 0);
	ck_assert_uint_eq(rd(r, RESET_PORT_92), 0x02);
	ck_assert_uint_eq(rd(r, RESET_PORT_CF9), 0x00);
	reset_ops.destroy(r);
}
END_TEST

START_TEST(reset_unknown_port_ignored)
{
	struct fake_vm vm = {0};
	struct reset *r = mk(&vm);

	wr(r, 0x60, 0xfe);
	wr(r, 0x93, 0x01);
	ck_assert_uint_eq(vm.ends, 0);
	ck_assert_uint_eq(rd(r, 0x60), 0xff);
	reset_ops.destroy(r);
}
END_TEST

START_TEST(reset_new_errors)
{
	ck_assert_new_needs_end_hook(reset_new, struct reset);
	reset_ops.destroy(NULL);
}
END_TEST

START_TEST(reset_random_accesses_match_a_reference)
{
	/* A reference model, kept beside the device, predicts every reset
	 * and every read-back. */
	static const uint16_t ports[] = {RESET_PORT_I8042, RESET_PORT_CF9,
					 RESET_PORT_92};
	static const unsigned int lens[] = {1, 1, 1, 2, 4};
	uint64_t seed = 0x1badb002cafef00dull;
	struct fake_vm vm = {0};
	struct reset *r = mk(&vm);
	unsigned int expect = 0;
	uint8_t rcr = 0, p92 = 0;

	for (unsigned int i = 0; i < 20000; i++) {
		uint64_t x = xorshift64(&seed);
		uint16_t port = ports[x % 3];
		unsigned int len = lens[(x >> 2) % 5];
		uint8_t v = (uint8_t)(x >> 8);
		const struct io_access a = {port, 0, len, 0};

		if (x & 0x10000) {
			uint64_t want = p92;

			if (len != 1)
				want = io_all_ones(len);
			else if (port == RESET_PORT_I8042)
				want = 0xfd;
			else if (port == RESET_PORT_CF9)
				want = rcr;
			ck_assert_uint_eq(reset_ops.read(r, &a), want);
			continue;
		}
		reset_ops.write(r, &a, v);
		if (len != 1)
			continue;
		if (port == RESET_PORT_I8042) {
			expect += (v & 0xf1) == 0xf0;
		} else if (port == RESET_PORT_CF9) {
			if (v & 4) {
				expect++;
				rcr = 0;
			} else {
				rcr = v & 2;
			}
		} else {
			if ((v & 1) && !(p92 & 1)) {
				expect++;
				v &= 0xfe;
			}
			p92 = v;
		}
		ck_assert_uint_eq(vm.ends, expect);
	}
	reset_ops.destroy(r);
}
END_TEST

/* ---- Snapshots ------------------------------------------------------ */

/* The blob's layout (reset.c). */
enum { S_RCR = 8, S_PORT92 = 9, S_LEN = 10 };

START_TEST(reset_snapshot_round_trip)
{
	static const uint16_t ports[] = {RESET_PORT_I8042, RESET_PORT_CF9,
					 RESET_PORT_92};
	uint64_t seed = 0x600dbeefull;
	struct fake_vm va = {0}, vb = {0};
	struct reset *a = mk(&va), *b = mk(&vb);
	uint8_t *blob;
	size_t n;

	wr(a, RESET_PORT_CF9, 0x02);
	wr(a, RESET_PORT_92, 0x02);
	blob = snap_save(&reset_ops, a, &n);
	ck_assert_uint_eq(n, S_LEN);
	ck_assert_int_eq(reset_ops.load(b, blob, n, SNAP_NOW), 0);
	ck_assert_uint_eq(rd(b, RESET_PORT_CF9), 0x02);
	ck_assert_uint_eq(rd(b, RESET_PORT_92), 0x02);
	/* From there on, the two do the same. */
	for (unsigned int i = 0; i < 5000; i++) {
		uint64_t x = xorshift64(&seed);
		uint16_t port = ports[x % 3];

		if (x & 0x100) {
			ck_assert_uint_eq(rd(a, port), rd(b, port));
			continue;
		}
		wr(a, port, (uint8_t)(x >> 16));
		wr(b, port, (uint8_t)(x >> 16));
		ck_assert_uint_eq(va.ends, vb.ends);
	}
	free(blob);
	reset_ops.destroy(a);
	reset_ops.destroy(b);
}
END_TEST

START_TEST(reset_snapshot_refuses_bad_blobs)
{
	static const struct {
		size_t off;
		uint8_t v;
	} cases[] = {
		{0, 'r'},	  {4, 0},	    {4, 2},
		{6, 1},		  {S_RCR, 0x04},    {S_RCR, 0x01},
		{S_RCR, 0x80},	  {S_PORT92, 0x01}, {S_PORT92, 0x03},
		{S_PORT92, 0xff},
	};
	struct fake_vm vm = {0};
	struct reset *a = mk(&vm), *b = mk(&vm);
	uint8_t *blob, buf[S_LEN];
	size_t n;

	wr(a, RESET_PORT_CF9, 0x02);
	wr(a, RESET_PORT_92, 0xfe);
	blob = snap_save(&reset_ops, a, &n);
	snap_check_lengths(&reset_ops, b, blob, n);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		snap_check_refused(&reset_ops, b, blob, n, cases[i].off,
				   cases[i].v, i);
	ck_assert_uint_gt(snap_fuzz(&reset_ops, b, blob, n, 3000, 77), 0);
	for (size_t cap = 0; cap < S_LEN; cap++)
		ck_assert_int_eq(reset_ops.save(a, buf, cap, 0), -ENOSPC);
	ck_assert_uint_eq(vm.ends, 0);
	free(blob);
	reset_ops.destroy(a);
	reset_ops.destroy(b);
}
END_TEST

UNIT_SUITE("reset", reset_write_values, reset_i8042_status_has_nothing_to_take,
	   reset_cf9_keeps_sys_rst_only, reset_cf9_linux_sequence,
	   reset_port92_reads_back_and_resets_on_rising_bit0,
	   reset_wrong_size_ignored, reset_unknown_port_ignored,
	   reset_new_errors, reset_random_accesses_match_a_reference,
	   reset_snapshot_round_trip, reset_snapshot_refuses_bad_blobs)
