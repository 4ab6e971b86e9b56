/* SPDX-License-Identifier: MIT */
/*
 * Runs a list of suite entries as VMs in this process, up to a number at
 * a time, each with its console in a log file of its own, and judges
 * each run against its entry's expectation.
 */
#ifndef SPLITVM_CLI_RUNNER_H
#define SPLITVM_CLI_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "report.h"
#include "suite.h"

struct runner_options {
	unsigned int jobs;	/* VMs at a time, at least 1 */
	const char *log_dir;	/* an existing directory: NAME.log each */
	uint64_t timeout_ms;	/* for an entry without one of its own */
	bool sandbox;		/* confine each VM (SPLITVM_SANDBOX_ERRNO) */
	bool progress;		/* a progress line on stderr (a terminal) */
	FILE *tap;		/* a TAP line here as each entry ends */
};

/*
 * Runs entries[0..n) and fills cases[i] with entries[i]'s result (every
 * case, run or not). SIGINT, SIGTERM and SIGHUP stop the running VMs and
 * start no more; they are blocked while the runner runs.
 * Returns 0 (each case says how its entry did), 130 when a signal
 * stopped the suite, or a negative errno when the runner itself could
 * not run (no memory, no thread): cases then hold what ran.
 */
int runner_run(struct suite_entry *const *entries, size_t n,
	       const struct runner_options *o, struct report_case *cases);

#endif /* SPLITVM_CLI_RUNNER_H */
