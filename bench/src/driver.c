// SPDX-License-Identifier: MIT
/* The benchmark drivers' shared command line and timing loops. */
#include "driver.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct options {
	const char *mode;
	struct bench_vm_args vm;
	unsigned long iterations, threads, vms;
	double seconds;
	int expect; /* status every loop/tput VM must end with */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int usage(const char *why)
{
	fprintf(stderr, "bench: %s\nusage: run|loop|tput|mem|reset --kernel FILE "
		"[--append S] [--cpus N] [--memory MIB] [--irqchip split|kernel] "
		"[--iterations N] [--seconds S] [--threads N] [--vms N] "
		"[--expect STATUS]\n", why);
	return 2;
}

static bool parse_ulong(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v < 1 || v > max)
		return false;
	*ret = v;
	return true;
}

static int parse(int argc, char **argv, const struct bench_target *t,
		 struct options *o)
{
	static const struct option longs[] = {
		{"kernel", 1, 0, 'k'},	   {"append", 1, 0, 'a'},
		{"cpus", 1, 0, 'c'},	   {"memory", 1, 0, 'm'},
		{"irqchip", 1, 0, 'i'},	   {"iterations", 1, 0, 'n'},
		{"seconds", 1, 0, 's'},	   {"threads", 1, 0, 't'},
		{"vms", 1, 0, 'v'},	   {"expect", 1, 0, 'e'},
		{0, 0, 0, 0},
	};
	unsigned long v;
	int c;

	*o = (struct options){
		.vm = {.cmdline = "", .cpus = 1, .mem_bytes = 48u << 20},
		.iterations = 100, .threads = 1, .vms = 1, .seconds = 2,
		.expect = 1,
	};
	if (argc < 2)
		return usage("no mode");
	o->mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'k': o->vm.kernel = optarg; break;
		case 'a': o->vm.cmdline = optarg; break;
		case 'c':
			if (!parse_ulong(optarg, 8, &v))
				return usage("--cpus: 1 to 8");
			o->vm.cpus = (unsigned int)v;
			break;
		case 'm':
			if (!parse_ulong(optarg, 4096, &v) || v < 2)
				return usage("--memory: 2 to 4096 MiB");
			o->vm.mem_bytes = (uint64_t)v << 20;
			break;
		case 'i':
			if (strcmp(optarg, "split") && strcmp(optarg, "kernel"))
				return usage("--irqchip: split or kernel");
			o->vm.kernel_irqchip = !strcmp(optarg, "kernel");
			if (o->vm.kernel_irqchip && !t->has_kernel_irqchip)
				return usage("--irqchip kernel: not here");
			break;
		case 'n':
			if (!parse_ulong(optarg, 10000000, &o->iterations))
				return usage("--iterations: a count");
			break;
		case 's':
			o->seconds = strtod(optarg, NULL);
			if (!(o->seconds > 0 && o->seconds < 3600))
				return usage("--seconds: 0 to 3600");
			break;
		case 't':
			if (!parse_ulong(optarg, 64, &o->threads))
				return usage("--threads: 1 to 64");
			break;
		case 'v':
			if (!parse_ulong(optarg, 1000, &o->vms))
				return usage("--vms: 1 to 1000");
			break;
		case 'e':
			if (!parse_ulong(optarg, 255, &v))
				return usage("--expect: a status 1 to 255");
			o->expect = (int)v;
			break;
		default:
			return usage("unknown option");
		}
	}
	if (optind != argc)
		return usage("stray argument");
	if (!o->vm.kernel)
		return usage("--kernel is required");
	return 0;
}

static int mode_loop(const struct bench_target *t, struct options *o)
{
	for (unsigned long i = 0; i < o->iterations; i++) {
		uint64_t t0 = now_ns();
		int status = t->run_vm(&o->vm);

		if (status != o->expect) {
			fprintf(stderr, "bench: VM %lu ended with %d, not %d\n",
				i, status, o->expect);
			return 1;
		}
		printf("T %llu\n", (unsigned long long)(now_ns() - t0));
	}
	return 0;
}

struct tput_worker {
	const struct bench_target *t;
	const struct options *o;
	uint64_t deadline;
	unsigned long done;
	int failed;
};

static void *tput_thread(void *arg)
{
	struct tput_worker *w = arg;

	while (now_ns() < w->deadline) {
		int status = w->t->run_vm(&w->o->vm);

		if (status != w->o->expect) {
			w->failed = status;
			break;
		}
		w->done++;
	}
	return NULL;
}

static int mode_tput(const struct bench_target *t, struct options *o)
{
	struct tput_worker w[64];
	pthread_t th[64];
	uint64_t t0 = now_ns();
	unsigned long total = 0;
	int r = 0;

	for (unsigned long i = 0; i < o->threads; i++) {
		w[i] = (struct tput_worker){t, o, t0 + (uint64_t)(o->seconds * 1e9),
					    0, 0};
		if (pthread_create(&th[i], NULL, tput_thread, &w[i])) {
			fprintf(stderr, "bench: cannot create a thread\n");
			o->threads = i;
			r = 1;
		}
	}
	for (unsigned long i = 0; i < o->threads; i++) {
		pthread_join(th[i], NULL);
		total += w[i].done;
		if (w[i].failed) {
			fprintf(stderr, "bench: a VM ended with %d, not %d\n",
				w[i].failed, o->expect);
			r = 1;
		}
	}
	printf("vms_per_s %.2f\n", (double)total * 1e9 / (double)(now_ns() - t0));
	return r;
}

static int mode_mem(const struct bench_target *t, struct options *o)
{
	char buf[64];

	for (unsigned long i = 0; i < o->vms; i++)
		if (t->start_idle(&o->vm)) {
			fprintf(stderr, "bench: idle VM %lu did not start\n", i);
			return 1;
		}
	printf("ready %lu\n", o->vms);
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	/* The VMs are never stopped: leave without tearing them down. */
	_exit(0);
}

int bench_main(int argc, char **argv, const struct bench_target *t)
{
	struct options o;
	int r = parse(argc, argv, t, &o);

	if (r)
		return r;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(o.mode, "run")) {
		o.vm.echo = true;
		r = t->run_vm(&o.vm);
		fflush(stdout);
		return r < 0 ? 126 : r;
	}
	if (!strcmp(o.mode, "loop"))
		return mode_loop(t, &o);
	if (!strcmp(o.mode, "tput"))
		return mode_tput(t, &o);
	if (!strcmp(o.mode, "mem"))
		return mode_mem(t, &o);
	if (!strcmp(o.mode, "save"))
		return t->save_loop ? t->save_loop(&o.vm, o.iterations)
				    : usage("no snapshots here");
	if (!strcmp(o.mode, "fork"))
		return t->fork_tput ? t->fork_tput(&o.vm, o.seconds)
				    : usage("no snapshots here");
	if (!strcmp(o.mode, "reset"))
		return t->reset_loop ? t->reset_loop(&o.vm, o.iterations)
				     : usage("no snapshots here");
	return usage("unknown mode");
}
