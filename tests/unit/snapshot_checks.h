/* SPDX-License-Identifier: MIT */
/*
 * The checks every device's snapshot tests make (struct device_ops' save
 * and load, src/base/device.h): a load either takes a record whole (the
 * device then saves it back byte for byte) or refuses it with -EINVAL and
 * leaves the device as it was; truncated, out-of-range and random records
 * are refused without a crash.
 */
#ifndef SPLITVM_TEST_SNAPSHOT_CHECKS_H
#define SPLITVM_TEST_SNAPSHOT_CHECKS_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "rng.h"
#include "unit.h"

#define SNAP_NOW 123456789ull /* any clock: these devices keep no time */
#define SNAP_CAP (1u << 17)

/* The device's save output, in a buffer of its own; *n gets the length. */
static inline uint8_t *snap_save(const struct device_ops *ops, void *dev, size_t *n)
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
static inline int snap_try(const struct device_ops *ops, void *dev,
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
static inline void snap_check_lengths(const struct device_ops *ops, void *dev,
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
static inline void snap_check_refused(const struct device_ops *ops, void *dev,
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
static inline unsigned int snap_fuzz(const struct device_ops *ops, void *dev,
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

#endif /* SPLITVM_TEST_SNAPSHOT_CHECKS_H */
