/* SPDX-License-Identifier: MIT */
/* Unaligned little-endian loads and stores, for parsing image headers. */
#ifndef SPLITVM_BYTES_H
#define SPLITVM_BYTES_H

#include <stdint.h>
#include <string.h>

/* x86 is little-endian: memcpy is the unaligned, aliasing-safe access. */
static inline uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static inline uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static inline void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static inline void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* v rounded up to align (a power of two); UINT64_MAX on overflow, which
 * no range check lets through. */
static inline uint64_t align_up(uint64_t v, uint64_t align)
{
	if (v > UINT64_MAX - (align - 1))
		return UINT64_MAX;
	return (v + align - 1) & ~(align - 1);
}

#endif /* SPLITVM_BYTES_H */
