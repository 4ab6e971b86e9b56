/* SPDX-License-Identifier: MIT */
/* Small deterministic generators: a fixed seed gives the same run each time. */
#ifndef SPLITVM_TEST_RNG_H
#define SPLITVM_TEST_RNG_H

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

#endif /* SPLITVM_TEST_RNG_H */
