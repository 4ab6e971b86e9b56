// SPDX-License-Identifier: MIT
/* The values options and manifests take (values.h): parsed strictly. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "values.h"

bool parse_uint_base(const char *s, int base, unsigned long long min,
		     unsigned long long max, unsigned long long *ret)
{
	char *end;

	/* Digits only: strtoull() would take leading blanks and a sign. */
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*ret = strtoull(s, &end, base);
	return !errno && !*end && *ret >= min && *ret <= max;
}

bool parse_uint(const char *s, unsigned long long min,
		unsigned long long max, unsigned long long *ret)
{
	return parse_uint_base(s, 10, min, max, ret);
}

bool parse_size(const char *s, uint64_t *ret)
{
	static const char units[] = "KMGT";
	unsigned long long n;
	char num[32];
	size_t len = strlen(s);
	unsigned int shift = 20;

	if (len == 0 || len >= sizeof(num))
		return false;
	memcpy(num, s, len + 1);
	const char *u = strchr(units, num[len - 1] & ~0x20);

	/* (strchr() also finds the terminator: *u tells a unit from it.) */
	if (u && *u) {
		shift = 10 * (unsigned int)(u - units + 1);
		num[len - 1] = 0;
	}
	if (!parse_uint(num, 1, ULLONG_MAX >> shift, &n))
		return false;
	*ret = (uint64_t)n << shift;
	return true;
}

bool parse_seconds(const char *s, uint64_t *ret_ms)
{
	unsigned long long whole, frac = 0;
	char buf[32];
	const char *dot = strchr(s, '.');
	size_t n = dot ? (size_t)(dot - s) : strlen(s);

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = 0;
	if (!parse_uint(buf, 0, 1000000000ull, &whole))
		return false;
	if (dot) {
		const char *f = dot + 1;
		unsigned int digits = 0;

		if (!*f)
			return false;
		for (; *f; f++, digits++) {
			if (*f < '0' || *f > '9')
				return false;
			if (digits < 3)
				frac = frac * 10 + (unsigned int)(*f - '0');
		}
		for (; digits < 3; digits++)
			frac *= 10;
	}
	*ret_ms = whole * 1000 + frac;
	return *ret_ms > 0;
}
