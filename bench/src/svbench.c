// SPDX-License-Identifier: MIT
/*
 * The bench guest on libsplitvm, behind the drivers' common command line
 * (driver.h). It adds the trigger register the guest's msi and nmi modes
 * write (MMIO at 0xfe800000): 1 sends an MSI (vector 0x42, APIC 0) with
 * splitvm_msi(), 2 an NMI to vCPU 0 with splitvm_nmi(), 3 an MSI with
 * delivery mode NMI to APIC 0 with splitvm_msi().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <splitvm.h>

#include "driver.h"

#define TRIGGER_MMIO 0xfe800000u
#define TRIGGER_MSI 1
#define TRIGGER_NMI 2
#define TRIGGER_MSI_NMI 3
#define MSI_DATA_NMI 0x400 /* delivery mode NMI (SDM vol. 3 10.11.2) */
#define MSI_ADDRESS 0xfee00000u /* APIC 0, physical */
#define MSI_DATA 0x42		/* fixed, edge */

struct sv_vm {
	struct splitvm *vm;
	const struct bench_vm_args *args;
	volatile int idle; /* the guest printed "bench: idle" */
};

static void trigger_write(void *userdata, uint64_t offset, unsigned int len,
			  uint64_t value, int cpu)
{
	struct sv_vm *s = userdata;

	if (value == TRIGGER_MSI)
		splitvm_msi(s->vm, MSI_ADDRESS, MSI_DATA);
	else if (value == TRIGGER_NMI)
		splitvm_nmi(s->vm, 0);
	else if (value == TRIGGER_MSI_NMI)
		splitvm_msi(s->vm, MSI_ADDRESS, MSI_DATA_NMI);
}

static void on_console(void *userdata, const char *data, size_t len)
{
	struct sv_vm *s = userdata;

	if (s->args->echo)
		fwrite(data, 1, len, stdout);
	if (memmem(data, len, "bench: idle", 11))
		s->idle = 1;
}

/* The configuration of s's VM: the bench guest's, with the trigger. */
static int sv_config(struct sv_vm *s, const struct bench_vm_args *a,
		     struct splitvm_config **ret)
{
	static const struct splitvm_device_ops trigger = {
		.write = trigger_write,
	};
	struct splitvm_config *cfg;
	int r;

	s->args = a;
	r = splitvm_config_new(&cfg);
	if (r)
		return r;
	r = splitvm_config_set_kernel(cfg, a->kernel);
	if (!r)
		r = splitvm_config_set_cmdline(cfg, a->cmdline);
	if (!r)
		r = splitvm_config_set_cpus(cfg, a->cpus);
	if (!r)
		r = splitvm_config_set_memory(cfg, a->mem_bytes);
	if (!r)
		r = splitvm_config_set_irqchip(cfg, a->kernel_irqchip
							? SPLITVM_IRQCHIP_KERNEL
							: SPLITVM_IRQCHIP_SPLIT);
	if (!r)
		r = splitvm_config_set_console_handler(cfg, on_console, s);
	if (!r)
		r = splitvm_config_add_device(cfg, SPLITVM_SPACE_MMIO,
					      TRIGGER_MMIO, 1, &trigger, s);
	if (r)
		splitvm_config_free(cfg);
	else
		*ret = cfg;
	return r;
}

static int sv_create(struct sv_vm *s, const struct bench_vm_args *a)
{
	struct splitvm_config *cfg;
	int r = sv_config(s, a, &cfg);

	if (!r) {
		r = splitvm_create(cfg, &s->vm);
		splitvm_config_free(cfg);
	}
	if (r)
		fprintf(stderr, "svbench: cannot create the VM: %s\n",
			strerror(-r));
	return r;
}

static int sv_run(const struct bench_vm_args *a)
{
	struct sv_vm s = {0};
	struct splitvm_result res;
	int status = -1;

	if (sv_create(&s, a) == 0 && splitvm_run(s.vm, &res) == 0) {
		if (res.outcome == SPLITVM_OUTCOME_EXIT)
			status = (int)((res.exit_code << 1 | 1) & 0xff);
		else
			fprintf(stderr, "svbench: %s: %s\n",
				splitvm_outcome_name(res.outcome), res.detail);
	}
	splitvm_destroy(s.vm);
	return status;
}

static int sv_start_idle(const struct bench_vm_args *a)
{
	struct sv_vm *s = calloc(1, sizeof(*s));
	struct timespec ms = {0, 1000000};

	if (!s || sv_create(s, a) || splitvm_start(s->vm))
		return -1;
	for (int i = 0; i < 10000; i++) {
		if (s->idle)
			return 0;
		nanosleep(&ms, NULL);
	}
	return -1;
}

/* Where the fork benchmark snapshots guests/snap.c: its "boot". */
#define SV_FORK_ROUND 2500

/* guests/snap.c's count of rounds done, at its base (8 MiB). */
static uint64_t snap_rounds(struct splitvm *vm)
{
	uint64_t n = 0;

	splitvm_mem_read(vm, 8 << 20, &n, sizeof(n));
	return n;
}

/* Lets the guest run until it has done at least n rounds, then pauses. */
static int snap_run_to(struct splitvm *vm, uint64_t n)
{
	struct timespec tick = {0, 20000};

	while (snap_rounds(vm) < n)
		nanosleep(&tick, NULL);
	return splitvm_pause(vm);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int sv_reset_loop(const struct bench_vm_args *a,
			 unsigned long iterations)
{
	struct sv_vm s = {0};
	struct splitvm_snapshot *snap = NULL;
	uint64_t at;
	int r = sv_create(&s, a);

	if (!r)
		r = splitvm_start(s.vm);
	if (!r)
		r = snap_run_to(s.vm, 100);
	at = snap_rounds(s.vm);
	if (!r)
		r = splitvm_snapshot_take(s.vm, &snap);
	for (unsigned long i = 0; i < iterations && !r; i++) {
		uint64_t t0;

		r = splitvm_resume(s.vm);
		if (!r)
			r = snap_run_to(s.vm, at + 20);
		t0 = mono_ns();
		if (!r)
			r = splitvm_snapshot_restore(s.vm, snap);
		if (!r)
			printf("T %llu\n", (unsigned long long)(mono_ns() - t0));
		if (!r && snap_rounds(s.vm) != at)
			r = -EIO; /* the restore did not bring the guest back */
	}
	if (r)
		fprintf(stderr, "svbench: reset: %s\n", strerror(-r));
	splitvm_snapshot_free(snap);
	splitvm_destroy(s.vm);
	return r ? 1 : 0;
}

/* Runs vm (started) to its end: 0 when the guest exited with 0. */
static int sv_finish(struct splitvm *vm)
{
	struct splitvm_result res;
	int r = splitvm_wait(vm, -1, &res);

	return r ? r : res.outcome == SPLITVM_OUTCOME_EXIT && !res.exit_code
			       ? 0
			       : -EIO;
}

static int sv_fork_tput(const struct bench_vm_args *a, double seconds)
{
	struct sv_vm s = {0};
	struct splitvm_config *cfg = NULL;
	struct splitvm_snapshot *snap = NULL;
	unsigned long done = 0;
	uint64_t t0, end;
	int r = sv_config(&s, a, &cfg);

	if (!r)
		r = splitvm_create(cfg, &s.vm);
	if (!r)
		r = splitvm_start(s.vm);
	if (!r)
		r = snap_run_to(s.vm, SV_FORK_ROUND);
	if (!r)
		r = splitvm_snapshot_take(s.vm, &snap);
	splitvm_destroy(s.vm);
	t0 = mono_ns();
	end = t0 + (uint64_t)(seconds * 1e9);
	while (!r && mono_ns() < end) {
		struct splitvm *vm;

		r = splitvm_fork(cfg, snap, &vm);
		if (!r) {
			r = splitvm_start(vm);
			r = r ? r : sv_finish(vm);
			splitvm_destroy(vm);
		}
		done += !r;
	}
	if (r)
		fprintf(stderr, "svbench: fork: %s\n", strerror(-r));
	else
		printf("vms_per_s %.2f\n",
		       (double)done * 1e9 / (double)(mono_ns() - t0));
	splitvm_snapshot_free(snap);
	splitvm_config_free(cfg);
	return r ? 1 : 0;
}

static int sv_save_loop(const struct bench_vm_args *a,
			unsigned long iterations)
{
	char path[] = "/tmp/svbench-snapshot-XXXXXX";
	struct timespec wait = {0, 300000000}; /* well into its rounds */
	struct sv_vm s = {0};
	int fd = mkstemp(path);
	int r = fd < 0 ? -errno : sv_create(&s, a);

	if (fd >= 0)
		close(fd);
	if (!r)
		r = splitvm_start(s.vm);
	if (!r) {
		nanosleep(&wait, NULL);
		r = splitvm_pause(s.vm);
	}
	for (unsigned long i = 0; i < iterations && !r; i++) {
		uint64_t t0 = mono_ns();

		r = splitvm_snapshot_save(s.vm, path);
		if (!r)
			printf("T %llu\n", (unsigned long long)(mono_ns() - t0));
	}
	if (r)
		fprintf(stderr, "svbench: save: %s\n", strerror(-r));
	if (fd >= 0)
		unlink(path);
	splitvm_destroy(s.vm);
	return r ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct bench_target sv_target = {
		.run_vm = sv_run,
		.start_idle = sv_start_idle,
		.reset_loop = sv_reset_loop,
		.fork_tput = sv_fork_tput,
		.save_loop = sv_save_loop,
		.has_kernel_irqchip = true,
	};

	return bench_main(argc, argv, &sv_target);
}
