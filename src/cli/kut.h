/* SPDX-License-Identifier: MIT */
/*
 * kvm-unit-tests natively (docs/suite.md): reads a built tree's
 * x86/unittests.cfg into a suite whose entries are judged as the tree's
 * own run_tests.sh judges them, with splitvm as its QEMU.
 */
#ifndef SPLITVM_CLI_KUT_H
#define SPLITVM_CLI_KUT_H

#include <stdbool.h>
#include <stddef.h>

#include "report.h"
#include "suite.h"

/*
 * Reads DIR/x86/unittests.cfg as scripts/common.bash does and appends
 * its entries to s: each one's QEMU command line, as x86/run makes it,
 * goes through the QEMU front end's translation (qemu_args.c). What
 * run_tests.sh decides before it starts QEMU (arch, nodefault, check,
 * accel, a missing file, a command line the front end refuses) makes the
 * entry SKIP (or FAIL, for shell splitvm does not evaluate) without a
 * VM. groups_given: --group was given, as run_tests.sh -g, which runs
 * the group's nodefault entries. The environment's TIMEOUT, CHECK,
 * MACHINE, ACCEL and MAX_SMP count as they do for run_tests.sh.
 * Returns 0, or -1 with err holding one line: a tree that is not there
 * or not built, or a malformed configuration ("FILE:LINE: problem").
 */
int kut_read(const char *dir, bool groups_given, struct suite *s, char *err,
	     size_t err_size);

/*
 * run_tests.sh's verdict on an entry's run: res its result, console what
 * the guest printed (with the monitor's "splitvm: " lines, which are
 * left out), monitor_error whether the monitor logged an error (QEMU's
 * stderr held more than warnings). *ret_summary gets what run_tests.sh
 * prints after the verdict, without the parentheses ("1 tests",
 * "timeout; duration=90s"), or NULL; free it.
 */
enum report_verdict kut_judge(const struct suite_entry *e,
			      const struct splitvm_result *res,
			      const char *console, bool monitor_error,
			      char **ret_summary);

#endif /* SPLITVM_CLI_KUT_H */
