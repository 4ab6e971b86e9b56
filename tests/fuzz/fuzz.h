/* SPDX-License-Identifier: MIT */
/* Shared helpers of the libFuzzer harnesses: input reader and checks. */
#ifndef SPLITVM_FUZZ_H
#define SPLITVM_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* libFuzzer's entry point; declared for -Wmissing-prototypes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * An invariant every run must keep. A violation is reported and trapped, so
 * that libFuzzer saves the input as a crash just as for a sanitizer report;
 * the message names the check, because a bare trap says nothing in triage.
 */
#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: invariant failed: %s\n",       \
				__FILE__, __LINE__, #cond);                    \
			__builtin_trap();                                      \
		}                                                              \
	} while (0)

/*
 * The input as a stream of operations. Reads past the end give zeros, so
 * that any prefix of an input is itself a valid input and a truncated
 * operation is harmless; fuzz_more() ends the loop.
 */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline void fuzz_in_init(struct fuzz_in *in, const uint8_t *data,
				size_t size)
{
	in->p = data;
	in->left = size;
}

static inline bool fuzz_more(const struct fuzz_in *in)
{
	return in->left > 0;
}

/* n (at most 8) little-endian bytes. */
static inline uint64_t fuzz_bytes(struct fuzz_in *in, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n && in->left; i++, in->left--)
		v |= (uint64_t)*in->p++ << (8 * i);
	return v;
}

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	return (uint8_t)fuzz_bytes(in, 1);
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	return (uint16_t)fuzz_bytes(in, 2);
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	return (uint32_t)fuzz_bytes(in, 4);
}

static inline uint64_t fuzz_u64(struct fuzz_in *in)
{
	return fuzz_bytes(in, 8);
}

/*
 * An access width: mostly the ones a vCPU exit gives (1, 2, 4, 8), now and
 * then one the devices must ignore (0, 3, 5-7).
 */
static inline unsigned int fuzz_len(struct fuzz_in *in)
{
	static const unsigned char lens[8] = { 1, 2, 4, 8, 1, 4, 3, 0 };
	uint8_t b = fuzz_u8(in);

	return b < 0xf8 ? lens[b & 7] : (b & 7) | 4;
}

#define FUZZ_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* SPLITVM_FUZZ_H */
