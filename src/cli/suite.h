/* SPDX-License-Identifier: MIT */
/*
 * A suite: the list of guest tests 'splitvm test' runs, each entry a VM
 * with its arguments and the outcome it is expected to have. A reader
 * (manifest.c for the INI manifest) fills the list; the runner
 * (runner.c) takes it as it is, whoever filled it.
 */
#ifndef SPLITVM_CLI_SUITE_H
#define SPLITVM_CLI_SUITE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "splitvm.h"

/* expect = any: every outcome. */
#define SUITE_ANY_OUTCOME (~0u)

/* What an entry must do to pass. */
struct suite_expect {
	unsigned int outcomes;	/* 1 << enum splitvm_outcome, any of them */
	bool exit_code_set;	/* an EXIT outcome must have... */
	uint32_t exit_code;	/* ...this code */
	char *console;		/* a POSIX ERE, or NULL */
	regex_t console_re;	/* console compiled (REG_NEWLINE) */
};

/*
 * How an entry is judged: against its expectation (the manifest), or by
 * kvm-unit-tests' run_tests.sh rules (kut.c), which give PASS, FAIL or
 * SKIP from the exit status and the console.
 */
enum suite_judging {
	SUITE_JUDGE_EXPECT = 0,
	SUITE_JUDGE_KUT,
};

/* An entry decided before it runs (kut.c: arch, nodefault, check=...). */
enum suite_prejudged {
	SUITE_RUN = 0,	/* it runs */
	SUITE_SKIP,	/* not run: SKIP, prejudged_reason says why */
	SUITE_REFUSED,	/* not run: FAIL, prejudged_reason says why */
};

/* The chips an entry goes without (--no-pit, --no-pic, --no-rtc). */
enum {
	SUITE_NO_PIT = 1,
	SUITE_NO_PIC = 2,
	SUITE_NO_RTC = 4,
};

struct suite_entry {
	char *name;
	/* Where the entry was defined, for messages: file and line. */
	char *file;
	unsigned int line;
	char *kernel;	/* a path as given to splitvm_config_set_kernel() */
	char *initrd;	/* or NULL */
	char *restore;	/* a snapshot file it starts from, or NULL */
	char *append;	/* or NULL */
	char *cpu;	/* a --cpu spec, or NULL */
	char **modules;
	size_t n_modules;
	unsigned int cpus;	/* 0: the library's default */
	uint64_t memory;	/* bytes; 0: the library's default */
	uint64_t timeout_ms;	/* 0: the runner's default */
	enum splitvm_irqchip irqchip;
	unsigned int ioapic_pins;	/* 0: the library's default */
	unsigned int ioapic_version;	/* 0: the library's default */
	unsigned int no_chips;		/* SUITE_NO_* */
	char **devices;			/* PCI models */
	size_t n_devices;
	struct suite_expect expect;
	char **groups;
	size_t n_groups;
	bool allow_fail;
	enum suite_judging judging;
	/* SUITE_JUDGE_KUT: the timeout as the configuration wrote it, for
	 * run_tests.sh's "timeout; duration=90s". */
	char *timeout_text;
	enum suite_prejudged prejudged;
	char *prejudged_reason;
};

struct suite {
	struct suite_entry **entries;
	size_t n;
};

/* libinih (Debian's build) cuts a section name at 49 bytes: no longer,
 * so that a manifest's names are whole. */
enum { SUITE_NAME_MAX = 49 };

/*
 * Whether s[0..len) is an entry or group name: 1 to SUITE_NAME_MAX
 * letters, digits, '_', '.', '+', '-', not starting with '.' or '-' (a
 * name becomes a log's file name).
 */
bool suite_valid_name(const char *s, size_t len);

/* Adds a new zeroed entry named name; NULL when memory runs out. */
struct suite_entry *suite_add(struct suite *s, const char *name);

/* The entry named name, or NULL. */
struct suite_entry *suite_find(const struct suite *s, const char *name);

/* Frees every entry and the list; s is left empty. */
void suite_free(struct suite *s);

/* Whether the entry is in group g. */
bool suite_entry_in_group(const struct suite_entry *e, const char *g);

/*
 * The expectation in words, for reports: "exit 0", "poweroff", "exit 0
 * or emulation-failure", "any", each with " and console /RE/" when
 * there is one. Returns a string to
 * free, or NULL when memory runs out.
 */
char *suite_expect_text(const struct suite_expect *x);

/*
 * Judges a run: res its result, console what the guest printed (NUL
 * bytes made harmless). Returns true when every expectation is met;
 * otherwise writes why not to why.
 */
bool suite_judge(const struct suite_expect *x,
		 const struct splitvm_result *res, const char *console,
		 char *why, size_t why_size);

/*
 * Makes the entry's VM configuration: its files, arguments and machine,
 * with the kernel's command line. The caller adds what is the runner's
 * (console, log, timeout default, sandbox). Returns 0 or a negative
 * errno; the library's log says why.
 */
int suite_entry_config(const struct suite_entry *e,
		       struct splitvm_config *cfg);

#endif /* SPLITVM_CLI_SUITE_H */
