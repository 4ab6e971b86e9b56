/* SPDX-License-Identifier: MIT */
/*
 * --shard I/N: a deterministic share of a suite for one of N machines,
 * balanced by the durations an earlier run recorded. Every shard computes
 * the same assignment from the same entries and durations, so the N
 * shards together run each entry exactly once.
 */
#ifndef SPLITVM_CLI_SHARD_H
#define SPLITVM_CLI_SHARD_H

#include <stdbool.h>
#include <stddef.h>

#include "report.h"
#include "suite.h"

enum { SHARD_MAX = 1000 };

/* "I/N" with 1 <= I <= N <= SHARD_MAX, in decimal. */
bool shard_parse(const char *s, unsigned int *ret_index,
		 unsigned int *ret_count);

/*
 * Assigns each of entries[0..n) a shard, ret_shard[i] from 0 to count-1:
 * longest first (ties by name) onto the least-loaded shard (ties: the
 * lowest). An entry's duration is durations' (a report of an earlier
 * run; may be NULL), else the median of those known, else 1 s.
 * Returns 0 or -ENOMEM.
 */
int shard_assign(struct suite_entry *const *entries, size_t n,
		 const struct report *durations, unsigned int count,
		 unsigned int *ret_shard);

#endif /* SPLITVM_CLI_SHARD_H */
