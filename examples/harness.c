// SPDX-License-Identifier: MIT
/*
 * harness - runs guests in parallel VMs in one process and prints a TAP
 * report: the shape of a test harness built on libsplitvm.
 */

/* scandir() and alphasort() are POSIX 2008, getopt_long() is GNU. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <splitvm.h>

static const char usage_text[] =
	"usage: harness [-j N] [-t SECONDS] [--cpus N] DIR|FILE...\n"
	"Boots each guest (a FILE, or each *.elf, *.elf64 and *.pvh of a\n"
	"DIR, in name order) in a VM of its own, N VMs at a time, and prints\n"
	"a TAP report: a guest passes when it writes 0 to the debug-exit\n"
	"port. For arguments and expected outcomes per guest, use\n"
	"'splitvm test' and a manifest.\n"
	"  -j N          VMs at once (default: one per online CPU)\n"
	"  -t SECONDS    wall-clock limit of each guest (default 60, 0: none)\n"
	"  --cpus N      vCPUs of each VM (default 1)\n"
	"Exit status: 0 all passed, 1 some did not, 2 bad usage,\n"
	"77 no /dev/kvm (the skip status of meson and automake).\n";

/* Enough for a failing guest's report; what goes beyond is cut. */
enum { CONSOLE_MAX = 16 * 1024 };

struct options {
	unsigned int jobs;
	unsigned int timeout_s;
	unsigned int cpus;
};

/* One guest: what its VM printed and how its run ended. */
struct guest {
	char *path;
	/* Several vCPU threads may print, and log, at once. */
	pthread_mutex_t lock;
	char console[CONSOLE_MAX + 1]; /* NUL-terminated */
	size_t console_len;
	int err; /* why the VM could not run (negative errno), or 0 */
	struct splitvm_result res;
	bool done;
};

/* The guests, shared by the workers that run them and main that reports. */
struct pool {
	const struct options *opt;
	struct guest *guests;
	size_t count;
	pthread_mutex_t lock;
	pthread_cond_t finished; /* a guest is done */
	size_t next;		 /* the first guest no worker took yet */
};

static void console_append(struct guest *g, const char *data, size_t len)
{
	pthread_mutex_lock(&g->lock);
	if (len > CONSOLE_MAX - g->console_len)
		len = CONSOLE_MAX - g->console_len;
	memcpy(g->console + g->console_len, data, len);
	g->console_len += len;
	g->console[g->console_len] = 0;
	pthread_mutex_unlock(&g->lock);
}

static void on_console(void *userdata, const char *data, size_t len)
{
	console_append(userdata, data, len);
}

/* The monitor's complaints go with the guest's output: a failure's report
 * then says what the monitor saw too (e.g. why the image did not load). */
static void on_log(void *userdata, enum splitvm_log_level level,
		   const char *message)
{
	char line[512];

	snprintf(line, sizeof(line), "splitvm: %s: %s\n",
		 level == SPLITVM_LOG_ERROR ? "error" : "warning", message);
	console_append(userdata, line, strlen(line));
}

static int configure(struct splitvm_config *cfg, struct guest *g,
		     const struct options *opt)
{
	int err;

	err = splitvm_config_set_kernel(cfg, g->path);
	if (err)
		return err;
	err = splitvm_config_set_cpus(cfg, opt->cpus);
	if (err)
		return err;
	err = splitvm_config_set_timeout(cfg, opt->timeout_s * 1000ull);
	if (err)
		return err;
	err = splitvm_config_set_console_handler(cfg, on_console, g);
	if (err)
		return err;
	return splitvm_config_set_log_handler(cfg, on_log, g,
					      SPLITVM_LOG_WARNING);
}

/* Boots one guest and waits for its end. The guest's verdict lands in
 * g->res: a failing guest is a result, not an error. */
static int run_guest(struct guest *g, const struct options *opt)
{
	struct splitvm_config *cfg;
	struct splitvm *vm = NULL;
	int err;

	err = splitvm_config_new(&cfg);
	if (err)
		return err;
	err = configure(cfg, g, opt);
	if (!err)
		err = splitvm_create(cfg, &vm);
	splitvm_config_free(cfg); /* the VM keeps no reference to it */
	if (err)
		return err;
	err = splitvm_run(vm, &g->res);
	splitvm_destroy(vm);
	return err;
}

static void *worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		struct guest *g = NULL;
		int err;

		pthread_mutex_lock(&p->lock);
		if (p->next < p->count)
			g = &p->guests[p->next++];
		pthread_mutex_unlock(&p->lock);
		if (!g)
			return NULL;

		err = run_guest(g, p->opt);

		pthread_mutex_lock(&p->lock);
		g->err = err;
		g->done = true;
		pthread_cond_signal(&p->finished);
		pthread_mutex_unlock(&p->lock);
	}
}

/* Prints guest n's TAP line, and its output when it failed. */
static bool report(size_t n, const struct guest *g)
{
	const char *slash = strrchr(g->path, '/');
	const char *name = slash ? slash + 1 : g->path;
	const struct splitvm_result *res = &g->res;
	bool ok = !g->err && res->outcome == SPLITVM_OUTCOME_EXIT &&
		  res->exit_code == 0;

	printf("%sok %zu - %s", ok ? "" : "not ", n, name);
	if (g->err)
		printf(" # cannot run: %s\n", strerror(-g->err));
	else if (res->outcome == SPLITVM_OUTCOME_EXIT && !ok)
		printf(" # exit code %u\n", res->exit_code);
	else if (!ok)
		printf(" # %s: %s\n", splitvm_outcome_name(res->outcome),
		       res->detail);
	else
		printf("\n");

	for (const char *line = g->console; !ok && *line;) {
		int len = (int)strcspn(line, "\r\n");

		printf("# %.*s\n", len, line);
		line += len;
		line += strspn(line, "\r\n");
	}
	if (!ok && g->console_len == CONSOLE_MAX)
		printf("# (output cut at %d bytes)\n", CONSOLE_MAX);
	fflush(stdout);
	return ok;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int is_guest_image(const struct dirent *d)
{
	return has_suffix(d->d_name, ".elf") || has_suffix(d->d_name, ".elf64") ||
	       has_suffix(d->d_name, ".pvh");
}

static int add_guest(struct pool *p, const char *dir, const char *file)
{
	size_t len = (dir ? strlen(dir) + 1 : 0) + strlen(file) + 1;
	struct guest *guests;
	char *path = malloc(len);

	if (!path)
		return -ENOMEM;
	snprintf(path, len, "%s%s%s", dir ? dir : "", dir ? "/" : "", file);
	guests = realloc(p->guests, (p->count + 1) * sizeof(*guests));
	if (!guests) {
		free(path);
		return -ENOMEM;
	}
	p->guests = guests;
	memset(&guests[p->count], 0, sizeof(*guests));
	guests[p->count++].path = path;
	return 0;
}

/* Adds a file, or a directory's guest images in name order. */
static int add_path(struct pool *p, const char *path)
{
	struct dirent **names;
	struct stat st;
	int n, err = 0;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return add_guest(p, NULL, path);

	n = scandir(path, &names, is_guest_image, alphasort);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		if (!err)
			err = add_guest(p, path, names[i]->d_name);
		free(names[i]);
	}
	free(names);
	return err;
}

static bool parse_uint(const char *s, unsigned int min, unsigned int max,
		       unsigned int *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || s[0] < '0' || s[0] > '9' || *end || v < min || v > max)
		return false;
	*ret = (unsigned int)v;
	return true;
}

static bool parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "cpus", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	int c;

	opt->jobs = online > 0 ? (unsigned int)online : 1;
	opt->timeout_s = 60;
	opt->cpus = 1;
	while ((c = getopt_long(argc, argv, "j:t:h", longopts, NULL)) != -1) {
		bool ok = true;

		if (c == 'j')
			ok = parse_uint(optarg, 1, 1024, &opt->jobs);
		else if (c == 't')
			ok = parse_uint(optarg, 0, 86400, &opt->timeout_s);
		else if (c == 'c')
			ok = parse_uint(optarg, 1, 255, &opt->cpus);
		else
			return false;
		if (!ok) {
			fprintf(stderr, "harness: number out of range: %s\n",
				optarg);
			return false;
		}
	}
	return optind < argc;
}

static void free_guests(struct pool *p)
{
	for (size_t i = 0; i < p->count; i++)
		free(p->guests[i].path);
	free(p->guests);
}

/* Runs the guests on up to opt->jobs workers and reports them in order,
 * each as soon as it and those before it are done: the report streams
 * while later guests still run. Returns how many did not pass. */
static size_t run_all(struct pool *p)
{
	size_t nr_workers = 0, failed = 0;
	pthread_t *workers = calloc(p->opt->jobs, sizeof(*workers));

	for (size_t i = 0; i < p->count; i++)
		pthread_mutex_init(&p->guests[i].lock, NULL);
	while (workers && nr_workers < p->opt->jobs && nr_workers < p->count &&
	       pthread_create(&workers[nr_workers], NULL, worker, p) == 0)
		nr_workers++;
	if (!nr_workers && p->count) {
		printf("Bail out! cannot start a worker thread\n");
		free(workers);
		return p->count;
	}

	for (size_t i = 0; i < p->count; i++) {
		pthread_mutex_lock(&p->lock);
		while (!p->guests[i].done)
			pthread_cond_wait(&p->finished, &p->lock);
		pthread_mutex_unlock(&p->lock);
		failed += !report(i + 1, &p->guests[i]);
	}

	for (size_t i = 0; i < nr_workers; i++)
		pthread_join(workers[i], NULL);
	free(workers);
	for (size_t i = 0; i < p->count; i++)
		pthread_mutex_destroy(&p->guests[i].lock);
	return failed;
}

int main(int argc, char **argv)
{
	struct options opt;
	struct pool p = {
		.opt = &opt,
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.finished = PTHREAD_COND_INITIALIZER,
	};
	size_t failed;

	if (!parse_options(argc, argv, &opt)) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (access("/dev/kvm", F_OK) != 0) {
		printf("1..0 # SKIP /dev/kvm missing\n");
		return 77;
	}
	for (int i = optind; i < argc; i++) {
		int err = add_path(&p, argv[i]);

		if (err) {
			fprintf(stderr, "harness: %s: %s\n", argv[i],
				strerror(-err));
			free_guests(&p);
			return 2;
		}
	}
	if (!p.count) {
		/* An empty run must not pass for a successful one. */
		fprintf(stderr, "harness: no guest found\n");
		return 2;
	}
	printf("1..%zu\n", p.count);
	failed = run_all(&p);
	free_guests(&p);
	return failed ? 1 : 0;
}
