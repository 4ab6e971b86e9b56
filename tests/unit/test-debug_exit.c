// SPDX-License-Identifier: MIT
/* Unit tests of isa-debug-exit: each write ends the run with its value. */
#include "debug_exit.h"
#include "fakes.h"
#include "rng.h"
#include "unit.h"

static struct debug_exit *mk(struct fake_vm *vm)
{
	const struct vm_end_hook hook = fake_vm_hook(vm);
	struct debug_exit *d;

	ck_assert_int_eq(debug_exit_new(&hook, &d), 0);
	return d;
}

START_TEST(debug_exit_write_ends_with_value)
{
	static const struct {
		unsigned int off, len;
		uint64_t val;
		uint32_t code;
	} cases[] = {
		{0, 1, 0x00, 0x00},
		{0, 1, 0x01, 0x01},
		{0, 1, 0xff, 0xff},
		{0, 2, 0x1234, 0x1234},
		{0, 4, 0xdeadbeef, 0xdeadbeef},
		{0, 4, 0, 0},
		{1, 1, 0x42, 0x42}, /* any offset: QEMU ignores it */
		{2, 2, 0xabcd, 0xabcd},
		{3, 1, 0x07, 0x07},
		{0, 1, 0x1ff, 0xff}, /* wider values cut to the width */
		{0, 2, 0x12345, 0x2345},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_vm vm = {0};
		struct debug_exit *d = mk(&vm);
		const struct io_access a = {DEBUG_EXIT_BASE + cases[i].off,
					    cases[i].off, cases[i].len, 2};

		debug_exit_ops.write(d, &a, cases[i].val);
		ck_assert_msg(vm.ends == 1, "case %zu", i);
		ck_assert_last_end(&vm, SPLITVM_OUTCOME_EXIT, cases[i].code, 2,
				   i);
		debug_exit_ops.destroy(d);
	}
}
END_TEST

START_TEST(debug_exit_wrong_width_ignored)
{
	struct fake_vm vm = {0};
	struct debug_exit *d = mk(&vm);
	const struct io_access a8 = {DEBUG_EXIT_BASE, 0, 8, 0};
	const struct io_access a3 = {DEBUG_EXIT_BASE, 0, 3, 0};

	debug_exit_ops.write(d, &a8, 1);
	debug_exit_ops.write(d, &a3, 1);
	ck_assert_uint_eq(vm.ends, 0);
	debug_exit_ops.destroy(d);
}
END_TEST

START_TEST(debug_exit_reads_all_ones)
{
	static const unsigned int lens[] = {1, 2, 4};
	struct fake_vm vm = {0};
	struct debug_exit *d = mk(&vm);

	for (size_t i = 0; i < 3; i++) {
		const struct io_access a = {DEBUG_EXIT_BASE, 0, lens[i], 0};

		ck_assert_uint_eq(debug_exit_ops.read(d, &a),
				  io_all_ones(lens[i]));
	}
	ck_assert_uint_eq(vm.ends, 0);
	debug_exit_ops.destroy(d);
}
END_TEST

START_TEST(debug_exit_new_errors)
{
	ck_assert_new_needs_end_hook(debug_exit_new, struct debug_exit);
	debug_exit_ops.destroy(NULL);
}
END_TEST

START_TEST(debug_exit_random_accesses)
{
	static const unsigned int lens[] = {1, 2, 4, 8};
	uint64_t seed = 0x0123456789abcdefull;
	struct fake_vm vm = {0};
	struct debug_exit *d = mk(&vm);
	unsigned int writes = 0;

	for (unsigned int i = 0; i < 5000; i++) {
		uint64_t x = xorshift64(&seed);
		unsigned int len = lens[x & 3];
		unsigned int off = len >= 4 ? 0 : (x >> 2) & (4 - len);
		const struct io_access a = {DEBUG_EXIT_BASE + off, off, len, 0};

		if (x & 0x10) {
			ck_assert_uint_eq(debug_exit_ops.read(d, &a),
					  io_all_ones(len));
			continue;
		}
		debug_exit_ops.write(d, &a, x >> 8);
		if (len == 8)
			continue;
		writes++;
		ck_assert_uint_eq(vm.code, (x >> 8) & io_all_ones(len));
	}
	ck_assert_uint_eq(vm.ends, writes);
	debug_exit_ops.destroy(d);
}
END_TEST

START_TEST(debug_exit_snapshot_is_empty)
{
	uint64_t seed = 0x5a5a5a5a5a5aull;
	struct fake_vm vm = {0};
	struct debug_exit *d = mk(&vm), *fresh = mk(&vm);
	const struct io_access a = {DEBUG_EXIT_BASE, 0, 1, 0};
	uint8_t buf[64];

	/* No state: 0 bytes, even with no room at all. */
	ck_assert_int_eq(debug_exit_ops.save(d, buf, sizeof(buf), 1), 0);
	ck_assert_int_eq(debug_exit_ops.save(d, NULL, 0, 1), 0);
	ck_assert_int_eq(debug_exit_ops.load(fresh, buf, 0, 2), 0);
	/* Anything else is not a blob save wrote. */
	for (size_t len = 1; len <= sizeof(buf); len++) {
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)xorshift64(&seed);
		ck_assert_int_eq(debug_exit_ops.load(fresh, buf, len, 2),
				 -EINVAL);
	}
	debug_exit_ops.write(fresh, &a, 7);
	ck_assert_uint_eq(vm.ends, 1);
	ck_assert_last_end(&vm, SPLITVM_OUTCOME_EXIT, 7, 0, 0);
	debug_exit_ops.destroy(d);
	debug_exit_ops.destroy(fresh);
}
END_TEST

UNIT_SUITE("debug_exit", debug_exit_write_ends_with_value,
	   debug_exit_wrong_width_ignored, debug_exit_reads_all_ones,
	   debug_exit_new_errors, debug_exit_random_accesses,
	   debug_exit_snapshot_is_empty)
