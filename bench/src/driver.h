/* SPDX-License-Identifier: MIT */
/*
 * The command line shared by the benchmark drivers (bench/src/svbench.c
 * for libsplitvm, bench/floor/floor.c for the raw floor): the same modes
 * and output, so bench/run treats both alike.
 */
#ifndef BENCH_DRIVER_H
#define BENCH_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

struct bench_vm_args {
	const char *kernel;
	const char *cmdline;
	unsigned int cpus;
	uint64_t mem_bytes;
	bool kernel_irqchip; /* --irqchip kernel */
	bool echo;	     /* guest console to stdout */
};

struct bench_target {
	/*
	 * Creates one VM, runs it to its end and destroys it. Returns the
	 * status the CLI would ((code << 1) | 1 for a debug-exit), or -1
	 * after saying why on stderr.
	 */
	int (*run_vm)(const struct bench_vm_args *a);
	/*
	 * Creates and starts one VM running the idle guest; returns 0 once
	 * its console said "bench: idle", or -1. It is never stopped.
	 */
	int (*start_idle)(const struct bench_vm_args *a);
	/*
	 * Boots guests/snap.elf, snapshots it mid-run, then iterations times
	 * lets it run a few rounds (a few pages dirtied), pauses it and puts
	 * it back to the snapshot, printing "T ns" of each restore. NULL where
	 * there are no snapshots (the floor). Returns 0, or 1 after saying why.
	 */
	int (*reset_loop)(const struct bench_vm_args *a,
			  unsigned long iterations);
	/*
	 * Boots guests/snap.c to round 2500, snapshots it, then for seconds
	 * forks VMs from the snapshot and runs each to its end, one at a
	 * time; prints "vms_per_s X". NULL where there are no snapshots.
	 */
	int (*fork_tput)(const struct bench_vm_args *a, double seconds);
	/*
	 * Boots the guest, pauses it after a while, and saves its snapshot
	 * to a temporary file iterations times, printing "T ns" of each.
	 */
	int (*save_loop)(const struct bench_vm_args *a,
			 unsigned long iterations);
	bool has_kernel_irqchip;
};

/*
 * Parses argv and runs a mode; returns the process status.
 *   run  --kernel K [--append S] [--cpus N]    one VM, console to stdout,
 *                                             exits with its status
 *   loop ... --iterations N                    "T ns" per VM, create to
 *                                             destroy
 *   tput ... --seconds S --threads T           "vms_per_s X"
 *   mem  ... --vms K                           K idle VMs, "ready", then
 *                                             waits for stdin to close
 *   reset ... --iterations N                   "T ns" per restore of a
 *                                             snapshot (reset_loop)
 *   fork ... --seconds S                       "vms_per_s X" (fork_tput)
 *   save ... --iterations N                    "T ns" per snapshot file
 * and everywhere [--memory MIB] [--irqchip split|kernel].
 */
int bench_main(int argc, char **argv, const struct bench_target *t);

#endif
