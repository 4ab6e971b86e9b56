// SPDX-License-Identifier: MIT
/* Unit tests of the shutdown port: "Shutdown", byte by byte, powers off. */
#include <errno.h>
#include <stdlib.h>
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

/* ---- Snapshots ------------------------------------------------------ */

#define SNAP_NOW 123456789ull /* any clock: the device keeps no time */
#define SNAP_CAP (1u << 17)

/* The device's save output, in a buffer of its own; *n gets the length. */
static uint8_t *snap_save(const struct device_ops *ops, void *dev, size_t *n)
{
	uint8_t *buf = malloc(SNAP_CAP);
	int r;

	ck_assert_ptr_nonnull(buf);
	r = ops->save(dev, buf, SNAP_CAP, SNAP_NOW);
	ck_assert_int_ge(r, 0);
	*n = (size_t)r;
	return buf;
}

/*
 * Loads blob from a copy of exactly len bytes (so that ASan sees any read
 * past it). Either the load fails with -EINVAL and the device saves as
 * before, or it succeeds and the device saves the blob back byte for
 * byte. Returns the load's result.
 */
static int snap_try(const struct device_ops *ops, void *dev,
		    const uint8_t *blob, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1), *before, *after;
	size_t n0, n1;
	int r;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, blob, len);
	before = snap_save(ops, dev, &n0);
	r = ops->load(dev, copy, len, SNAP_NOW);
	after = snap_save(ops, dev, &n1);
	if (r == 0) {
		ck_assert_uint_eq(n1, len);
		ck_assert(!memcmp(after, blob, len));
	} else {
		ck_assert_int_eq(r, -EINVAL);
		ck_assert_uint_eq(n1, n0);
		ck_assert(!memcmp(after, before, n0));
	}
	free(copy);
	free(before);
	free(after);
	return r;
}

/* Every shorter length of a valid blob, and one byte more, are refused. */
static void snap_check_lengths(const struct device_ops *ops, void *dev,
			       const uint8_t *blob, size_t len)
{
	uint8_t *longer = calloc(1, len + 1);

	ck_assert_ptr_nonnull(longer);
	memcpy(longer, blob, len);
	for (size_t n = 0; n < len; n++)
		ck_assert_msg(snap_try(ops, dev, blob, n) == -EINVAL,
			      "length %zu of %zu taken", n, len);
	ck_assert_int_eq(snap_try(ops, dev, longer, len + 1), -EINVAL);
	free(longer);
}

/* blob with byte off set to v must be refused; case_no names the case. */
static void snap_check_refused(const struct device_ops *ops, void *dev,
			       const uint8_t *blob, size_t len, size_t off,
			       uint8_t v, size_t case_no)
{
	uint8_t *bad = malloc(len);

	ck_assert_ptr_nonnull(bad);
	memcpy(bad, blob, len);
	bad[off] = v;
	ck_assert_msg(snap_try(ops, dev, bad, len) == -EINVAL,
		      "case %zu: byte %zu = %#x taken", case_no, off, v);
	free(bad);
}

/*
 * rounds hostile variants of a valid blob: a few bytes set or bits
 * flipped, now and then a length changed or every byte random. None may
 * crash; each is refused cleanly or taken in full (snap_try()). Returns
 * how many were taken.
 */
static unsigned int snap_fuzz(const struct device_ops *ops, void *dev,
			      const uint8_t *blob, size_t len,
			      unsigned int rounds, uint64_t seed)
{
	size_t cap = len + 16;
	uint8_t *m = malloc(cap);
	unsigned int taken = 0;

	ck_assert_ptr_nonnull(m);
	for (unsigned int i = 0; i < rounds; i++) {
		uint64_t x = xorshift64(&seed);
		size_t n = len;

		memcpy(m, blob, len);
		memset(m + len, 0, cap - len);
		if ((x & 15) == 0)
			n = (size_t)(xorshift64(&seed) % cap);
		if ((x & 63) == 1)
			for (size_t j = 0; j < n; j++)
				m[j] = (uint8_t)xorshift64(&seed);
		for (unsigned int k = 0; n && k <= ((x >> 8) & 3); k++) {
			uint64_t y = xorshift64(&seed);
			size_t at = (size_t)(y >> 16) % n;

			if (y & 1)
				m[at] ^= (uint8_t)(1u << ((y >> 1) & 7));
			else
				m[at] = (uint8_t)(y >> 8);
		}
		taken += snap_try(ops, dev, m, n) == 0;
	}
	free(m);
	return taken;
}

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
