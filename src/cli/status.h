/* SPDX-License-Identifier: MIT */
/*
 * The exit statuses of 'splitvm run' (README.md, "The command line"),
 * which 'splitvm test' reports for each entry too.
 */
#ifndef SPLITVM_CLI_STATUS_H
#define SPLITVM_CLI_STATUS_H

#include "splitvm.h"

/* Exit statuses. A debug-exit value v gives (v << 1) | 1, always odd. */
enum {
	EXIT_POWEROFF = 0,
	EXIT_USAGE = 2,
	EXIT_TRIPLE_FAULT = 4,
	EXIT_EMULATION_FAILURE = 6,
	EXIT_ENTRY_FAILURE = 8,
	EXIT_RESET = 10,
	EXIT_CRASH = 12,
	EXIT_TIMEOUT = 124,
	EXIT_MONITOR_ERROR = 126,
	EXIT_INTERRUPTED = 130,
};

/* Says "splitvm: ... (see 'splitvm --help')" on stderr; returns
 * EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The status a run with this result ends with. */
int status_of(const struct splitvm_result *res);

#endif /* SPLITVM_CLI_STATUS_H */
