/* SPDX-License-Identifier: MIT */
/*
 * The reports of 'splitvm test': a TAP line as each test ends, and on
 * request a JSON report (which is also what shards are merged from and
 * durations read from) and JUnit XML. A report holds strings only, so
 * that one read back from JSON is the same as one just run.
 */
#ifndef SPLITVM_CLI_REPORT_H
#define SPLITVM_CLI_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum report_verdict {
	REPORT_PASS = 0,	/* met its expectation */
	REPORT_FAIL,		/* did not */
	REPORT_ALLOWED_FAIL,	/* did not, and may fail (allow-fail) */
	REPORT_NOT_RUN,		/* the suite was stopped before it ran */
	REPORT_SKIP,		/* not applicable here (kvm-unit-tests' SKIP) */
	REPORT_VERDICTS
};

/* One test's result. Strings are valid UTF-8 (report_text()); NULL
 * where there is nothing to say. */
struct report_case {
	char *name;
	char *expected;	/* "exit 0", "poweroff and console /RE/"... */
	char *outcome;	/* splitvm_outcome_name(), or "not-run" */
	int status;	/* as 'splitvm run' would exit */
	uint32_t exit_code;
	double duration; /* seconds */
	enum report_verdict verdict;
	bool allow_fail;
	char *reason;	/* why it did not pass */
	char *detail;	/* the monitor's line on how the run ended */
	char *log;	/* the console log's path */
	char *console;	/* the console (its end, when long) */
	/* kvm-unit-tests entries: what run_tests.sh prints in parentheses
	 * after the verdict ("1 tests", "timeout; duration=90s", "i386
	 * only"), or NULL when it prints nothing. */
	char *summary;
};

struct report {
	char *suite;	/* the suite's name, for JUnit */
	struct report_case *cases;
	size_t n;
};

/* "pass", "fail", "allowed-fail", "not-run", "skip". */
const char *report_verdict_name(enum report_verdict v);

/* Whether a verdict keeps the suite's status at 0. */
static inline bool report_verdict_ok(enum report_verdict v)
{
	return v == REPORT_PASS || v == REPORT_ALLOWED_FAIL || v == REPORT_SKIP;
}

/*
 * len bytes of text from a guest or a user as valid UTF-8 for a report:
 * an invalid sequence becomes U+FFFD, control characters but tab and
 * newline are removed. Returns a string to free, or NULL (no memory).
 */
char *report_text(const char *buf, size_t len);

/* The TAP line of test number (from 1) c: "ok 3 - name"... */
void report_tap_line(FILE *f, size_t number, const struct report_case *c);

/*
 * s as TAP text on one line: newlines become spaces, and '#' and '\'
 * are escaped, so that nothing a guest printed (a summary, a reason) can
 * end the line or start a directive (# TODO would hide a failure).
 */
void report_tap_text(FILE *f, const char *s);

/* Frees the strings of c. */
void report_case_free(struct report_case *c);

/* Frees every case and the suite name; r is left empty. */
void report_free(struct report *r);

/* Writes the JSON report to path. Returns 0, or -1 with err set. */
int report_write_json(const struct report *r, const char *path, char *err,
		      size_t err_size);

/* Writes JUnit XML to path. Returns 0, or -1 with err set. */
int report_write_junit(const struct report *r, const char *path, char *err,
		       size_t err_size);

/*
 * Reads a JSON report (report_write_json()'s) and appends its cases to
 * r; r->suite is taken from the first report read. Returns 0, or -1
 * with err holding one line ("PATH:LINE: problem").
 */
int report_read_json(const char *path, struct report *r, char *err,
		     size_t err_size);

#endif /* SPLITVM_CLI_REPORT_H */
