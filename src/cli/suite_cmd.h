/* SPDX-License-Identifier: MIT */
/* 'splitvm test': suites of guest tests in one process (docs/suite.md). */
#ifndef SPLITVM_CLI_SUITE_CMD_H
#define SPLITVM_CLI_SUITE_CMD_H

#include <signal.h>

/*
 * Runs 'splitvm test' with argv[0] = "test". *stopped is main()'s note of
 * a SIGINT, SIGTERM or SIGHUP taken before this call blocked them.
 * Returns the exit status: 0 when every entry met its expectation
 * (allowed failures aside), 1 when one did not, 2 for bad input (options,
 * manifest, reports), 126 when the runner itself failed, 130 when a
 * signal stopped the suite, at whatever point it came.
 */
int cli_test(int argc, char **argv, const volatile sig_atomic_t *stopped);

#endif /* SPLITVM_CLI_SUITE_CMD_H */
