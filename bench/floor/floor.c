// SPDX-License-Identifier: MIT
/*
 * The raw floor: the bench guest on a VM made with only the KVM ioctls
 * each path needs (kvm_min.c), behind the drivers' common command line.
 * "floor tsc-khz" prints KVM's TSC rate for the guest's tick counts;
 * "floor reset" is the floor of a reset in place (reset.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "driver.h"
#include "kvm_min.h"
#include "reset.h"

static int floor_run(const struct bench_vm_args *a)
{
	struct fvm vm;
	int status = -1;

	if (fvm_create(&vm, a->kernel, a->cmdline, a->cpus, a->mem_bytes) == 0) {
		vm.echo = a->echo;
		status = fvm_run(&vm);
	}
	fvm_destroy(&vm);
	return status;
}

/* Waits (bounded, 10 s) for the idle guest's second console line. */
static int floor_start_idle(const struct bench_vm_args *a)
{
	struct fvm *vm = calloc(1, sizeof(*vm));
	struct timespec ms = {0, 1000000};

	if (!vm)
		return -1;
	if (fvm_create(vm, a->kernel, a->cmdline, a->cpus, a->mem_bytes)) {
		fvm_destroy(vm);
		free(vm);
		return -1;
	}
	/* A vCPU thread that did start never stops: keep the VM. */
	if (fvm_start(vm))
		return -1;
	for (int i = 0; i < 10000; i++) {
		if (__atomic_load_n(&vm->lines, __ATOMIC_SEQ_CST) >= 2)
			return 0;
		nanosleep(&ms, NULL);
	}
	return -1;
}

int main(int argc, char **argv)
{
	static const struct bench_target floor_target = {
		.run_vm = floor_run,
		.start_idle = floor_start_idle,
		.reset_loop = floor_reset_loop,
	};

	if (argc == 2 && !strcmp(argv[1], "tsc-khz")) {
		unsigned long khz = fvm_tsc_khz();

		if (!khz)
			return 1;
		printf("%lu\n", khz);
		return 0;
	}
	return bench_main(argc, argv, &floor_target);
}
