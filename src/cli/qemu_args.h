/* SPDX-License-Identifier: MIT */
/* The QEMU command-line front end: a qemu-system-x86_64 argv as 'splitvm run'. */
#ifndef SPLITVM_QEMU_ARGS_H
#define SPLITVM_QEMU_ARGS_H

#include <stdbool.h>

/*
 * The QEMU version whose command line the front end takes: the first line
 * of -version and -help is "QEMU emulator version " this, then splitvm's
 * own name and version in parentheses, as QEMU puts its package version
 * (scripts such as kvm-unit-tests' read the numbers from that line).
 */
#define QEMU_ARGS_QEMU_VERSION "7.2.0"

/*
 * What the command line asks for. Of the "help" values, QEMU 7.2 answers
 * -cpu's first, then -device's, -machine's and -accel's; -h and -version
 * end its parsing, so the first of those two counts.
 */
enum qemu_action {
	QEMU_ACTION_RUN = 0,	  /* boot: run_argv is the 'splitvm run' line */
	QEMU_ACTION_HELP,	  /* -h, -help */
	QEMU_ACTION_VERSION,	  /* -version */
	QEMU_ACTION_ACCEL_HELP,	  /* -accel help: the accelerators */
	QEMU_ACTION_MACHINE_HELP, /* -machine help: the machine types */
	QEMU_ACTION_DEVICE_HELP,  /* -device help: the device list */
	QEMU_ACTION_DEVICE_PROPS, /* -device NAME,help: help_device's options */
	QEMU_ACTION_CPU_HELP,	  /* -cpu help: CPU models and flags */
};

/* "run", --kernel, --initrd, 64 x --module, 9 more options, NULL. */
#define QEMU_ARGS_MAX_ARGV 160

struct qemu_args {
	enum qemu_action action;
	/* The equivalent native command line: run_argv[0] is "run", then
	 * options only, NULL-terminated; the strings are owned. */
	int run_argc;
	char *run_argv[QEMU_ARGS_MAX_ARGV];
	/* -no-reboot: a reset or a triple fault ends QEMU with status 0. */
	bool no_reboot;
	/* QEMU_ACTION_DEVICE_PROPS: the device, "isa-debug-exit" or
	 * "pc-testdev" (a static string). */
	const char *help_device;
	/* Why qemu_args_parse() refused the command line: one line, no
	 * "splitvm: " prefix and no newline. */
	char error[256];
};

/* What 'splitvm qemu -help' prints: the accepted subset. */
extern const char qemu_args_help[];

/**
 * Translates a qemu-system-x86_64 command line (argv[0] is the program
 * name and is skipped) into ret. ret is overwritten; free it with
 * qemu_args_free() whatever this returns.
 * Returns 0, -EINVAL (an option is unknown, unsupported or malformed:
 * ret->error says which and why) or -ENOMEM.
 */
int qemu_args_parse(int argc, char *const *argv, struct qemu_args *ret);

/** Frees the strings of q->run_argv; q may then be parsed into again. */
void qemu_args_free(struct qemu_args *q);

#endif /* SPLITVM_QEMU_ARGS_H */
