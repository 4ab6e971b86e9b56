/* SPDX-License-Identifier: MIT */
/* Small deterministic generators: a fixed seed gives the same run each time. */
#ifndef SPLITVM_TEST_RNG_H
#define SPLITVM_TEST_RNG_H

#include <stddef.h>
#include <stdint.h>

/* xorshift64 (Marsaglia 13/7/17): the device tests' random accesses. */
static inline uint64_t xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* xorshift64*: the image mutators; small, the same across libcs. */
static inline uint64_t xorshift64_star(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/*
 * A hostile variant of a snapshot record b of len bytes, keeping its
 * first head bytes (magic and version): one to three bits flipped, or one
 * byte set, or every byte after the head random, as x (a draw) picks.
 */
static inline void rng_mutate(uint8_t *b, size_t len, size_t head, uint64_t x,
			      uint64_t *seed)
{
	if (x % 3 == 0) {
		for (unsigned int n = 1 + (x >> 8) % 3; n; n--) {
			uint64_t y = xorshift64(seed);

			b[y % len] ^= (uint8_t)(1u << (y >> 32) % 8);
		}
	} else if (x % 3 == 1) {
		b[head + (x >> 8) % (len - head)] = (uint8_t)(x >> 32);
	} else {
		for (size_t k = head; k < len; k++)
			b[k] = (uint8_t)xorshift64(seed);
	}
}

#endif /* SPLITVM_TEST_RNG_H */
