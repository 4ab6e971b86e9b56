// SPDX-License-Identifier: MIT
/* A small printf for the serial console and for buffers. */
#include "guest.h"

/* Where formatted characters go: the console, or a bounded buffer. */
struct sink {
	char *buf; /* NULL: the serial port */
	size_t size;
	size_t len; /* characters produced, including ones that did not fit */
};

static void emit(struct sink *s, char c)
{
	if (!s->buf)
		serial_putc(c);
	else if (s->len + 1 < s->size)
		s->buf[s->len] = c;
	s->len++;
}

struct spec {
	bool zero;
	bool left;
	unsigned int width;
};

static void emit_padded(struct sink *s, const char *str, size_t n,
			const struct spec *sp, bool numeric)
{
	size_t pad = sp->width > n ? sp->width - n : 0;
	bool zero = sp->zero && !sp->left && numeric;

	/* Zero padding goes after a sign: "-0042", not "00-42". */
	if (zero && n && *str == '-') {
		emit(s, '-');
		str++;
		n--;
	}
	if (!sp->left)
		while (pad--)
			emit(s, zero ? '0' : ' ');
	while (n--)
		emit(s, *str++);
	if (sp->left)
		while (pad--)
			emit(s, ' ');
}

static void emit_number(struct sink *s, uint64_t v, bool negative,
			unsigned int base, bool upper, const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = digits[v % base];
		v /= base;
	} while (v);
	if (negative)
		tmp[--i] = '-';
	emit_padded(s, tmp + i, sizeof(tmp) - i, sp, true);
}

static int format(struct sink *s, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		struct spec sp = {0};
		int longs = 0;
		bool size_t_arg = false;
		uint64_t u;
		int64_t d;

		if (*fmt != '%') {
			emit(s, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '0')
				sp.zero = true;
			else if (*fmt == '-')
				sp.left = true;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			sp.width = sp.width * 10 + (unsigned int)(*fmt++ - '0');
		for (; *fmt == 'l'; fmt++)
			longs++;
		if (*fmt == 'z') {
			size_t_arg = true;
			fmt++;
		}

		switch (*fmt) {
		case 'd':
		case 'i':
			if (longs || size_t_arg)
				d = va_arg(ap, long);
			else
				d = va_arg(ap, int);
			u = d < 0 ? 0 - (uint64_t)d : (uint64_t)d;
			emit_number(s, u, d < 0, 10, false, &sp);
			break;
		case 'u':
		case 'x':
		case 'X':
			if (longs || size_t_arg)
				u = va_arg(ap, unsigned long);
			else
				u = va_arg(ap, unsigned int);
			emit_number(s, u, false, *fmt == 'u' ? 10 : 16,
				    *fmt == 'X', &sp);
			break;
		case 'p':
			emit(s, '0');
			emit(s, 'x');
			emit_number(s, (uintptr_t)va_arg(ap, void *), false, 16,
				    false, &sp);
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);

			emit_padded(s, &c, 1, &sp, false);
			break;
		}
		case 's': {
			const char *str = va_arg(ap, const char *);

			if (!str)
				str = "(null)";
			emit_padded(s, str, strlen(str), &sp, false);
			break;
		}
		case '%':
			emit(s, '%');
			break;
		case '\0':
			/* A lone '%' at the end: print it, stop. */
			emit(s, '%');
			return (int)s->len;
		default:
			/* Unknown conversion: show it rather than guess. */
			emit(s, '%');
			emit(s, *fmt);
			break;
		}
	}
	return (int)s->len;
}

int vprintf(const char *fmt, va_list ap)
{
	struct sink s = {0};

	return format(&s, fmt, ap);
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	static char dummy;
	struct sink s = {.buf = size ? buf : &dummy, .size = size};
	int n = format(&s, fmt, ap);

	if (size)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
