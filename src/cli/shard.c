// SPDX-License-Identifier: MIT
/* Shards of a suite (shard.h): greedy longest-first on known durations. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shard.h"
#include "values.h"

bool shard_parse(const char *s, unsigned int *ret_index,
		 unsigned int *ret_count)
{
	const char *slash = strchr(s, '/');
	unsigned long long i, n;
	char num[16];
	size_t len = slash ? (size_t)(slash - s) : 0;

	if (!slash || len == 0 || len >= sizeof(num))
		return false;
	memcpy(num, s, len);
	num[len] = 0;
	if (!parse_uint(num, 1, SHARD_MAX, &i) ||
	    !parse_uint(slash + 1, 1, SHARD_MAX, &n) || i > n)
		return false;
	*ret_index = (unsigned int)i;
	*ret_count = (unsigned int)n;
	return true;
}

/* An entry to place: its duration in ms (integers: every machine
 * rounds alike) and its name. */
struct job {
	uint64_t ms;
	const char *name;
	size_t index;
};

/* Longest first; equal ones by name, so the order never depends on the
 * manifest's or on qsort's. */
static int cmp_job(const void *a, const void *b)
{
	const struct job *x = a, *y = b;

	if (x->ms != y->ms)
		return x->ms > y->ms ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_ms(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* An earlier run's duration of name in ms; 0 when it has none. */
static uint64_t recorded_ms(const struct report *durations, const char *name)
{
	for (size_t i = 0; durations && i < durations->n; i++) {
		const struct report_case *c = &durations->cases[i];

		if (!strcmp(c->name, name) && c->verdict != REPORT_NOT_RUN &&
		    c->duration > 0)
			return (uint64_t)(c->duration * 1000.0) + 1;
	}
	return 0;
}

int shard_assign(struct suite_entry *const *entries, size_t n,
		 const struct report *durations, unsigned int count,
		 unsigned int *ret_shard)
{
	struct job *jobs = calloc(n ? n : 1, sizeof(*jobs));
	uint64_t *known = calloc(n ? n : 1, sizeof(*known));
	uint64_t *load = calloc(count, sizeof(*load));
	uint64_t fallback = 1000;
	size_t n_known = 0;

	if (!jobs || !known || !load) {
		free(jobs);
		free(known);
		free(load);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		jobs[i] = (struct job){.ms = recorded_ms(durations,
							 entries[i]->name),
				       .name = entries[i]->name,
				       .index = i};
		if (jobs[i].ms)
			known[n_known++] = jobs[i].ms;
	}
	if (n_known) {
		qsort(known, n_known, sizeof(*known), cmp_ms);
		fallback = known[n_known / 2];
	}
	for (size_t i = 0; i < n; i++)
		if (!jobs[i].ms)
			jobs[i].ms = fallback;
	qsort(jobs, n, sizeof(*jobs), cmp_job);
	for (size_t i = 0; i < n; i++) {
		unsigned int best = 0;

		for (unsigned int s = 1; s < count; s++)
			if (load[s] < load[best])
				best = s;
		load[best] += jobs[i].ms;
		ret_shard[jobs[i].index] = best;
	}
	free(jobs);
	free(known);
	free(load);
	return 0;
}
