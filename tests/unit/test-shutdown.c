// SPDX-License-Identifier: MIT
/* Unit tests of the shutdown port: "Shutdown", byte by byte, powers off. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fakes.h"
#include "rng.h"
#include "shutdown.h"
#include "unit.h"
#include "snapshot_checks.h"

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

/* ---- Snapshots ------------------------------------------------------ */

/* The blob's layout (shutdown.c). */
enum { S_MATCHED = 8, S_LEN = 9 };

START_TEST(shutdown_snapshot_mid_magic)
{
	/* Snapshotted after each prefix of the magic, the loaded port
	 * fires on the rest and nothing sooner. */
	static const char magic[] = "Shutdown";

	for (size_t k = 0; k < 8; k++) {
		struct fake_vm va = {0}, vb = {0};
		struct shutdown_port *a = mk(&va), *b = mk(&vb);
		char prefix[9] = {0};
		uint8_t *blob;
		size_t n;

		memcpy(prefix, magic, k);
		put(a, prefix);
		blob = snap_save(&shutdown_port_ops, a, &n);
		ck_assert_uint_eq(n, S_LEN);
		ck_assert_uint_eq(blob[S_MATCHED], k);
		ck_assert_int_eq(shutdown_port_ops.load(b, blob, n, SNAP_NOW),
				 0);
		ck_assert_uint_eq(vb.ends, 0);
		put(b, magic + k);
		ck_assert_msg(vb.ends == 1, "prefix %zu", k);
		ck_assert_last_end(&vb, SPLITVM_OUTCOME_POWEROFF, 0, 1, k);
		free(blob);
		shutdown_port_ops.destroy(a);
		shutdown_port_ops.destroy(b);
	}
}
END_TEST

START_TEST(shutdown_snapshot_refuses_bad_blobs)
{
	static const struct {
		size_t off;
		uint8_t v;
	} cases[] = {
		{0, 's'}, {3, 0}, {4, 9}, {7, 0x80},
		{S_MATCHED, 8}, {S_MATCHED, 9}, {S_MATCHED, 0xff},
	};
	struct fake_vm vm = {0};
	struct shutdown_port *a = mk(&vm), *b = mk(&vm);
	uint8_t *blob, buf[S_LEN];
	size_t n;

	put(a, "Shutd");
	blob = snap_save(&shutdown_port_ops, a, &n);
	snap_check_lengths(&shutdown_port_ops, b, blob, n);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		snap_check_refused(&shutdown_port_ops, b, blob, n,
				   cases[i].off, cases[i].v, i);
	ck_assert_uint_gt(snap_fuzz(&shutdown_port_ops, b, blob, n, 3000, 99),
			  0);
	for (size_t cap = 0; cap < S_LEN; cap++)
		ck_assert_int_eq(shutdown_port_ops.save(a, buf, cap, 0),
				 -ENOSPC);
	ck_assert_uint_eq(vm.ends, 0);
	free(blob);
	shutdown_port_ops.destroy(a);
	shutdown_port_ops.destroy(b);
}
END_TEST

UNIT_SUITE("shutdown", shutdown_sequences,
	   shutdown_mismatch_in_the_middle_restarts,
	   shutdown_wide_writes_ignored, shutdown_reads_all_ones,
	   shutdown_new_errors, shutdown_random_bytes_match_a_reference,
	   shutdown_snapshot_mid_magic, shutdown_snapshot_refuses_bad_blobs)
