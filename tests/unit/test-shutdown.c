// SPDX-License-Identifier: MIT
/* Unit tests of the shutdown port: "Shutdown", byte by byte, powers off. */
#include <errno.h>
#include <string.h>

#include "fakes.h"
#include "rng.h"
#include "shutdown.h"
#include "unit.h"

static struct shutdown_port *mk(struct fake_vm *vm)
{
	const struct vm_end_hook hook = fake_vm_hook(vm);
	struct shutdown_port *s;

	ck_assert_int_eq(shutdown_port_new(&hook, &s), 0);
	return s;
}

static void put(struct shutdown_port *s, const char *str)
{
	const struct io_access a = {SHUTDOWN_PORT, 0, 1, 1};

	for (; *str; str++)
		shutdown_port_ops.write(s, &a, (uint8_t)*str);
}

START_TEST(shutdown_sequences)
{
	static const struct {
		const char *written;
		unsigned int ends;
	} cases[] = {
		{"Shutdown", 1},
		{"Shutdow", 0},
		{"shutdown", 0},
		{"SHUTDOWN", 0},
		{"xxShutdown", 1},
		{"ShutShutdown", 1},  /* a mismatch restarts the match */
		{"SShutdown", 1},     /* ...and may start the next one */
		{"Shutdownx", 1},
		{"ShutdownShutdown", 2},
		{"Shut\0down", 0},
		{"Shutdow Shutdown", 1},
		{"hutdown", 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_vm vm = {0};
		struct shutdown_port *s = mk(&vm);

		put(s, cases[i].written);
		ck_assert_msg(vm.ends == cases[i].ends, "case %zu: \"%s\"", i,
			      cases[i].written);
		if (vm.ends)
			ck_assert_last_end(&vm, SPLITVM_OUTCOME_POWEROFF, 0, 1,
					   i);
		shutdown_port_ops.destroy(s);
	}
}
END_TEST

START_TEST(shutdown_mismatch_in_the_middle_restarts)
{
	struct fake_vm vm = {0};
	struct shutdown_port *s = mk(&vm);

	put(s, "Shut");
	put(s, "X");
	put(s, "down");
	ck_assert_uint_eq(vm.ends, 0);
	put(s, "Shutdown");
	ck_assert_uint_eq(vm.ends, 1);
	shutdown_port_ops.destroy(s);
}
END_TEST

START_TEST(shutdown_wide_writes_ignored)
{
	/* Neither matched nor a mismatch: the sequence goes on. */
	static const unsigned int lens[] = {2, 4, 8};
	struct fake_vm vm = {0};
	struct shutdown_port *s = mk(&vm);

	put(s, "Shut");
	for (size_t i = 0; i < 3; i++) {
		const struct io_access a = {SHUTDOWN_PORT, 0, lens[i], 0};

		shutdown_port_ops.write(s, &a, 'd');
		ck_assert_uint_eq(shutdown_port_ops.read(s, &a),
				  io_all_ones(lens[i]));
	}
	put(s, "down");
	ck_assert_uint_eq(vm.ends, 1);
	shutdown_port_ops.destroy(s);
}
END_TEST

START_TEST(shutdown_reads_all_ones)
{
	struct fake_vm vm = {0};
	struct shutdown_port *s = mk(&vm);
	const struct io_access a = {SHUTDOWN_PORT, 0, 1, 0};

	put(s, "Shut");
	ck_assert_uint_eq(shutdown_port_ops.read(s, &a), 0xff);
	put(s, "down"); /* a read does not break the sequence */
	ck_assert_uint_eq(vm.ends, 1);
	shutdown_port_ops.destroy(s);
}
END_TEST

START_TEST(shutdown_new_errors)
{
	ck_assert_new_needs_end_hook(shutdown_port_new, struct shutdown_port);
	shutdown_port_ops.destroy(NULL);
}
END_TEST

START_TEST(shutdown_random_bytes_match_a_reference)
{
	/* Mostly the magic in order, sometimes a random byte, checked
	 * against a plain search for "Shutdown" in everything written. */
	static const char alphabet[] = "Shutdown Sx";
	uint64_t seed = 0xabad1deaull;
	struct fake_vm vm = {0};
	struct shutdown_port *s = mk(&vm);
	char hist[8] = {0};
	unsigned int expect = 0, g = 0;

	for (unsigned int i = 0; i < 50000; i++) {
		uint64_t x = xorshift64(&seed);
		char c;
		char one[2];

		if (x & 7) {
			c = "Shutdown"[g];
			g = (g + 1) % 8;
		} else {
			c = alphabet[(x >> 3) % (sizeof(alphabet) - 1)];
			g = 0;
		}
		one[0] = c;
		one[1] = 0;

		put(s, one);
		memmove(hist, hist + 1, 7);
		hist[7] = c;
		if (!memcmp(hist, "Shutdown", 8)) {
			expect++;
			memset(hist, 0, sizeof(hist));
		}
		ck_assert_uint_eq(vm.ends, expect);
	}
	ck_assert_uint_gt(expect, 1000);
	shutdown_port_ops.destroy(s);
}
END_TEST

UNIT_SUITE("shutdown", shutdown_sequences,
	   shutdown_mismatch_in_the_middle_restarts,
	   shutdown_wide_writes_ignored, shutdown_reads_all_ones,
	   shutdown_new_errors, shutdown_random_bytes_match_a_reference)
