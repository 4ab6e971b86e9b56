/* SPDX-License-Identifier: MIT */
/*
 * The values the command line's options and the suite manifests take:
 * whole numbers, sizes and seconds, spelt the same in both.
 */
#ifndef SPLITVM_CLI_VALUES_H
#define SPLITVM_CLI_VALUES_H

#include <stdbool.h>
#include <stdint.h>

/* A whole number in [min, max], no sign, no spaces, in base (strtoull()'s:
 * 0 also takes 0x... and 0..., QEMU's qdev rule). */
bool parse_uint_base(const char *s, int base, unsigned long long min,
		     unsigned long long max, unsigned long long *ret);

/* A whole decimal number in [min, max]: no sign, no spaces. */
bool parse_uint(const char *s, unsigned long long min,
		unsigned long long max, unsigned long long *ret);

/* SIZE: MiB by default, or a K/M/G/T suffix (powers of 1024). */
bool parse_size(const char *s, uint64_t *ret);

/* SECONDS with up to millisecond precision: "5", "0.25"; more than 0. */
bool parse_seconds(const char *s, uint64_t *ret_ms);

#endif /* SPLITVM_CLI_VALUES_H */
