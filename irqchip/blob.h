/* SPDX-License-Identifier: MIT */
/* Fixed-layout little-endian encoding of the interrupt controller's state. */
#ifndef SPLITVM_IRQCHIP_BLOB_H
#define SPLITVM_IRQCHIP_BLOB_H

/*
 * The writer never writes past cap but keeps counting, so that a writer
 * with cap 0 measures a layout; the reader never reads past len and
 * remembers that anything went wrong (short input, a value out of
 * range), so that a decoder checks once, at its end.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct blob_writer {
	uint8_t *buf;
	size_t cap;
	size_t len; /* bytes the encoding takes, even past cap */
};

struct blob_reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	bool bad; /* short input or a value save could not have written */
};

static inline void blob_put(struct blob_writer *w, uint64_t v,
			    unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++, w->len++)
		if (w->len < w->cap)
			w->buf[w->len] = (uint8_t)(v >> (8 * i));
}

static inline void blob_put_u8(struct blob_writer *w, uint8_t v)
{
	blob_put(w, v, 1);
}

static inline void blob_put_u16(struct blob_writer *w, uint16_t v)
{
	blob_put(w, v, 2);
}

static inline void blob_put_u32(struct blob_writer *w, uint32_t v)
{
	blob_put(w, v, 4);
}

static inline void blob_put_u64(struct blob_writer *w, uint64_t v)
{
	blob_put(w, v, 8);
}

/* Reserved bytes: written as zero, refused unless zero. */
static inline void blob_put_zero(struct blob_writer *w, unsigned int bytes)
{
	blob_put(w, 0, bytes);
}

/* A value of bytes bytes; 0 and r->bad if the input is too short. */
static inline uint64_t blob_get(struct blob_reader *r, unsigned int bytes)
{
	uint64_t v = 0;

	if (r->pos > r->len || bytes > r->len - r->pos) {
		r->bad = true;
		r->pos = r->len;
		return 0;
	}
	for (unsigned int i = 0; i < bytes; i++)
		v |= (uint64_t)r->buf[r->pos + i] << (8 * i);
	r->pos += bytes;
	return v;
}

static inline uint8_t blob_get_u8(struct blob_reader *r)
{
	return (uint8_t)blob_get(r, 1);
}

static inline uint16_t blob_get_u16(struct blob_reader *r)
{
	return (uint16_t)blob_get(r, 2);
}

static inline uint32_t blob_get_u32(struct blob_reader *r)
{
	return (uint32_t)blob_get(r, 4);
}

static inline uint64_t blob_get_u64(struct blob_reader *r)
{
	return blob_get(r, 8);
}

/* Marks the input bad unless ok: the decoders' range checks. */
static inline void blob_check(struct blob_reader *r, bool ok)
{
	if (!ok)
		r->bad = true;
}

/* A boolean byte: 0 or 1, anything else is refused. */
static inline bool blob_get_bool(struct blob_reader *r)
{
	uint8_t v = blob_get_u8(r);

	blob_check(r, v <= 1);
	return v;
}

static inline void blob_get_zero(struct blob_reader *r, unsigned int bytes)
{
	blob_check(r, blob_get(r, bytes) == 0);
}

#endif /* SPLITVM_IRQCHIP_BLOB_H */
