// SPDX-License-Identifier: MIT
/* String and memory helpers; gcc may also call memset/memcpy itself. */
#include "guest.h"

/*
 * REP string instructions: one instruction for the whole block, which
 * matters where guest kernel code is interpreted one instruction at a
 * time. They also keep gcc from turning a byte loop back into a call to
 * the very function being defined.
 */
void *memset(void *s, int c, size_t n)
{
	void *d = s;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return s;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep movsb"
			 : "+D"(d), "+S"(src), "+c"(n)
			 :
			 : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	/* Overlapping with dst above src: copy backwards. */
	d += n - 1;
	s += n - 1;
	__asm__ volatile("std; rep movsb; cld"
			 : "+D"(d), "+S"(s), "+c"(n)
			 :
			 : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (uint8_t)*a - (uint8_t)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (uint8_t)*a - (uint8_t)*b;
		if (!*a)
			break;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

void *memchr(const void *s, int c, size_t n)
{
	const uint8_t *p = s;

	for (; n; n--, p++)
		if (*p == (uint8_t)c)
			return (void *)p;
	return NULL;
}

bool str_starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

bool parse_u64(const char *s, const char **end, uint64_t *ret)
{
	unsigned int base = 10;
	uint64_t v = 0;
	bool any = false;
	int dv;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; (dv = digit_value(*s)) < (int)base; s++) {
		if (v > (UINT64_MAX - (uint64_t)dv) / base)
			return false;
		v = v * base + (uint64_t)dv;
		any = true;
	}
	if (end)
		*end = s;
	if (any)
		*ret = v;
	return any;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool cmdline_get(const char *cmdline, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	const char *p = cmdline;

	if (!p || !size)
		return false;
	while (*p) {
		const char *tok;
		size_t len;

		while (is_space(*p))
			p++;
		tok = p;
		while (*p && !is_space(*p))
			p++;
		len = (size_t)(p - tok);
		if (len > klen && !strncmp(tok, key, klen) &&
		    tok[klen] == '=') {
			len -= klen + 1;
			if (len >= size)
				return false;
			memcpy(buf, tok + klen + 1, len);
			buf[len] = '\0';
			return true;
		}
	}
	return false;
}

bool cmdline_get_u64(const char *cmdline, const char *key, uint64_t *ret)
{
	char buf[24];
	const char *end;

	return cmdline_get(cmdline, key, buf, sizeof(buf)) &&
	       parse_u64(buf, &end, ret) && *end == '\0';
}

int cmdline_get_list(const char *cmdline, const char *key, uint64_t *out,
		     int max)
{
	char buf[128];
	const char *p = buf;
	int n = 0;

	if (!cmdline_get(cmdline, key, buf, sizeof(buf)))
		return 0;
	for (;;) {
		if (n == max || !parse_u64(p, &p, &out[n]))
			return -1;
		n++;
		if (*p == '\0')
			return n;
		if (*p++ != ',')
			return -1;
	}
}

uint64_t cmdline_u64(const char *key, uint64_t def)
{
	const char *cmdline = guest_cmdline();
	char buf[128];
	uint64_t v;

	if (!cmdline_get(cmdline, key, buf, sizeof(buf)))
		return def;
	if (!cmdline_get_u64(cmdline, key, &v)) {
		printf("FAIL: argument %s=%s is not a number\n", key, buf);
		exit(GUEST_EXIT_USAGE);
	}
	return v;
}

/*
 * The byte sum modulo 2^32, eight bytes at a time: each 16-bit lane of
 * acc gathers two bytes per word, at most 2 * 255 * 128 < 65536 over 128
 * words, so about one instruction per byte instead of three, which counts
 * where each costs 0.5 us.
 */
uint32_t byte_sum(const void *data, size_t n)
{
	const uint8_t *p = data;
	const uint64_t lanes = 0x00ff00ff00ff00ffull;
	uint32_t sum = 0;

	while (n && ((uintptr_t)p & 7)) {
		sum += *p++;
		n--;
	}
	while (n >= 8) {
		const uint64_t *w = (const uint64_t *)p;
		size_t i, words = n / 8 < 128 ? n / 8 : 128;
		uint64_t acc = 0;

		for (i = 0; i < words; i++)
			acc += (w[i] & lanes) + ((w[i] >> 8) & lanes);
		sum += (uint32_t)((acc & 0xffff) + ((acc >> 16) & 0xffff) +
				  ((acc >> 32) & 0xffff) + (acc >> 48));
		p += words * 8;
		n -= words * 8;
	}
	while (n--)
		sum += *p++;
	return sum;
}
