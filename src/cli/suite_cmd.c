// SPDX-License-Identifier: MIT
/*
 * 'splitvm test': reads a manifest, picks the entries (groups, shard),
 * runs them (runner.c) and reports (report.c); or, with --merge, joins
 * the JSON reports of shards into one.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kut.h"
#include "manifest.h"
#include "report.h"
#include "runner.h"
#include "shard.h"
#include "status.h"
#include "suite_cmd.h"
#include "values.h"

enum {
	/* An entry with no timeout of its own and no --timeout: a guest
	 * that hangs must not hang the suite. */
	DEFAULT_TIMEOUT_MS = 120 * 1000,
	JOBS_MAX = 1024,
	MAX_GROUPS = 64,
};

struct test_cmd {
	const char *manifest;
	const char *kut_dir;	/* --kvm-unit-tests DIR, instead of it */
	unsigned int jobs;
	const char *groups[MAX_GROUPS];
	size_t n_groups;
	bool list;
	bool merge;
	unsigned int shard, shards; /* 1-based; 0: no --shard */
	const char *durations;
	const char *junit;
	const char *json;
	const char *log_dir;
	uint64_t timeout_ms;
	bool sandbox;
	char **inputs; /* --merge's reports, or the entries to run */
	int n_inputs;
};

/* Bad input in a file: its one line says where, status 2. */
static int bad_input(const char *line)
{
	fprintf(stderr, "splitvm: %s\n", line);
	return EXIT_USAGE;
}

static int test_option(struct test_cmd *t, int opt, const char *arg)
{
	unsigned long long n;

	switch (opt) {
	case 'j':
		if (!parse_uint(arg, 1, JOBS_MAX, &n))
			return usage_error("--jobs: '%s' is not a number from 1 to %d",
					  arg, JOBS_MAX);
		t->jobs = (unsigned int)n;
		return 0;
	case 'g':
		if (t->n_groups == MAX_GROUPS)
			return usage_error("--group: more than %d", MAX_GROUPS);
		t->groups[t->n_groups++] = arg;
		return 0;
	case 's':
		if (!shard_parse(arg, &t->shard, &t->shards))
			return usage_error("--shard: '%s' is not I/N with 1 <= I <= N <= %d",
					  arg, SHARD_MAX);
		return 0;
	case 't':
		if (!parse_seconds(arg, &t->timeout_ms))
			return usage_error("--timeout: '%s' is not a positive number of seconds",
					  arg);
		return 0;
	case 'l':
		t->list = true;
		return 0;
	case 'm':
		t->merge = true;
		return 0;
	case 'd':
		t->durations = arg;
		return 0;
	case 'J':
		t->junit = arg;
		return 0;
	case 'o':
		t->json = arg;
		return 0;
	case 'L':
		t->log_dir = arg;
		return 0;
	case 'S':
		t->sandbox = false;
		return 0;
	case 'K':
		t->kut_dir = arg;
		return 0;
	default:
		return EXIT_USAGE;
	}
}

static int test_parse(struct test_cmd *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{"jobs", required_argument, NULL, 'j'},
		{"group", required_argument, NULL, 'g'},
		{"list", no_argument, NULL, 'l'},
		{"shard", required_argument, NULL, 's'},
		{"durations", required_argument, NULL, 'd'},
		{"junit", required_argument, NULL, 'J'},
		{"json", required_argument, NULL, 'o'},
		{"log-dir", required_argument, NULL, 'L'},
		{"timeout", required_argument, NULL, 't'},
		{"no-sandbox", no_argument, NULL, 'S'},
		{"merge", no_argument, NULL, 'm'},
		{"kvm-unit-tests", required_argument, NULL, 'K'},
		{NULL, 0, NULL, 0},
	};
	int opt, r;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (opt == '?')
			return usage_error("unknown option '%s'", argv[optind - 1]);
		if (opt == ':')
			return usage_error("%s needs a value", argv[optind - 1]);
		r = test_option(t, opt, optarg);
		if (r)
			return r;
	}
	if (t->merge) {
		if (optind == argc)
			return usage_error("--merge needs the JSON reports to merge");
		if (!t->junit && !t->json)
			return usage_error("--merge needs --junit FILE or --json FILE");
		t->inputs = argv + optind;
		t->n_inputs = argc - optind;
		return 0;
	}
	/* As run_tests.sh takes them: the entries to run, or all. */
	if (t->kut_dir) {
		t->manifest = t->kut_dir;
		t->inputs = argv + optind;
		t->n_inputs = argc - optind;
		return 0;
	}
	if (optind == argc)
		return usage_error("test needs a MANIFEST");
	if (argc - optind > 1)
		return usage_error("unexpected argument '%s'", argv[optind + 1]);
	t->manifest = argv[optind];
	return 0;
}

/* Whether entry e is one of the names given (any, with none). */
static bool named(const struct test_cmd *t, const struct suite_entry *e)
{
	for (int i = 0; i < t->n_inputs; i++)
		if (!strcmp(t->inputs[i], e->name))
			return true;
	return !t->n_inputs;
}

/* The entries of s in one of the groups asked for (all with none), and
 * among the names given. */
static int pick_groups(const struct test_cmd *t, struct suite *s,
		       struct suite_entry **picked, size_t *n)
{
	for (int i = 0; i < t->n_inputs; i++)
		if (!suite_find(s, t->inputs[i]))
			return usage_error("'%s': no entry of %s has that name",
					   t->inputs[i], t->manifest);
	*n = 0;
	for (size_t i = 0; i < s->n; i++) {
		bool in = !t->n_groups && named(t, s->entries[i]);

		for (size_t g = 0; !in && g < t->n_groups; g++)
			in = suite_entry_in_group(s->entries[i], t->groups[g]) &&
			     named(t, s->entries[i]);
		if (in)
			picked[(*n)++] = s->entries[i];
	}
	for (size_t g = 0; g < t->n_groups; g++) {
		bool any = false;

		for (size_t i = 0; !any && i < s->n; i++)
			any = suite_entry_in_group(s->entries[i], t->groups[g]);
		if (!any)
			return usage_error("--group '%s': no entry of %s is in it",
					  t->groups[g], t->manifest);
	}
	return 0;
}

/* --shard: keeps the entries of shard t->shard of t->shards. */
static int pick_shard(const struct test_cmd *t, struct suite_entry **picked,
		      size_t *n)
{
	struct report durations = {.suite = NULL};
	unsigned int *shard_of;
	char err[512];
	size_t kept = 0;
	int r;

	if (!t->shards)
		return 0;
	if (t->durations &&
	    report_read_json(t->durations, &durations, err, sizeof(err))) {
		report_free(&durations);
		return bad_input(err);
	}
	shard_of = calloc(*n ? *n : 1, sizeof(*shard_of));
	r = shard_of ? shard_assign(picked, *n, &durations, t->shards, shard_of)
		     : -ENOMEM;
	report_free(&durations);
	if (r) {
		free(shard_of);
		fprintf(stderr, "splitvm: %s\n", strerror(-r));
		return EXIT_MONITOR_ERROR;
	}
	for (size_t i = 0; i < *n; i++)
		if (shard_of[i] == t->shard - 1)
			picked[kept++] = picked[i];
	*n = kept;
	free(shard_of);
	return 0;
}

/*
 * The directory for the console logs: --log-dir, else one beside the
 * first report asked for, else a new one under $TMPDIR. Returns a path
 * to free, or NULL having said why.
 */
static char *make_log_dir(const struct test_cmd *t)
{
	const char *report = t->json ? t->json : t->junit;
	const char *tmp = getenv("TMPDIR");
	char *dir = NULL, *copy;

	if (t->log_dir) {
		dir = strdup(t->log_dir);
	} else if (report && (copy = strdup(report))) {
		if (asprintf(&dir, "%s/splitvm-test-logs", dirname(copy)) < 0)
			dir = NULL;
		free(copy);
	} else if (!report) {
		if (asprintf(&dir, "%s/splitvm-test.XXXXXX",
			     tmp && *tmp ? tmp : "/tmp") < 0)
			dir = NULL;
		else if (!mkdtemp(dir)) {
			fprintf(stderr, "splitvm: cannot make a log directory "
					"'%s': %s\n", dir, strerror(errno));
			free(dir);
			return NULL;
		}
		return dir;
	}
	if (!dir) {
		fprintf(stderr, "splitvm: %s\n", strerror(ENOMEM));
		return NULL;
	}
	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "splitvm: --log-dir: cannot make '%s': %s\n",
			dir, strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

/* The suite's name in JUnit: the manifest's file name less ".ini". */
static char *suite_name(const struct test_cmd *t)
{
	const char *manifest = t->manifest;
	const char *base = strrchr(manifest, '/');
	size_t len;

	if (t->kut_dir)
		return strdup("kvm-unit-tests");
	base = base ? base + 1 : manifest;
	len = strlen(base);
	if (len > 4 && !strcmp(base + len - 4, ".ini"))
		len -= 4;
	return report_text(base, len);
}

/* Writes the reports asked for, says how it went; returns the status. */
static int finish(const struct test_cmd *t, const struct report *rep,
		  const char *log_dir, int status)
{
	size_t count[REPORT_VERDICTS] = {0};
	double time = 0;
	char err[512];

	for (size_t i = 0; i < rep->n; i++) {
		count[rep->cases[i].verdict]++;
		time += rep->cases[i].duration;
	}
	printf("# %zu passed, %zu failed, %zu allowed to fail, %zu not run, "
	       "%zu skipped (%.1f s of VM time)\n",
	       count[REPORT_PASS], count[REPORT_FAIL],
	       count[REPORT_ALLOWED_FAIL], count[REPORT_NOT_RUN],
	       count[REPORT_SKIP], time);
	for (size_t i = 0; i < rep->n; i++) {
		if (rep->cases[i].verdict != REPORT_FAIL)
			continue;
		fputs("# failed: ", stdout);
		report_tap_text(stdout, rep->cases[i].name);
		fputs(": ", stdout);
		report_tap_text(stdout, rep->cases[i].reason
					       ? rep->cases[i].reason
					       : "");
		fputc('\n', stdout);
	}
	if (log_dir)
		printf("# console logs: %s\n", log_dir);
	fflush(stdout);
	/* Both reports are tried: one that fails leaves the other. */
	if (t->json && report_write_json(rep, t->json, err, sizeof(err))) {
		fprintf(stderr, "splitvm: %s\n", err);
		status = EXIT_MONITOR_ERROR;
	}
	if (t->junit && report_write_junit(rep, t->junit, err, sizeof(err))) {
		fprintf(stderr, "splitvm: %s\n", err);
		status = EXIT_MONITOR_ERROR;
	}
	if (status)
		return status;
	return count[REPORT_FAIL] || count[REPORT_NOT_RUN] ? 1 : 0;
}

/* --merge: the shards' JSON reports as one JSON and JUnit report. */
static int test_merge(const struct test_cmd *t)
{
	struct report rep = {.suite = NULL};
	char err[512];
	int status;

	for (int i = 0; i < t->n_inputs; i++) {
		if (report_read_json(t->inputs[i], &rep, err, sizeof(err))) {
			report_free(&rep);
			return bad_input(err);
		}
	}
	printf("1..%zu\n", rep.n);
	for (size_t i = 0; i < rep.n; i++)
		report_tap_line(stdout, i + 1, &rep.cases[i]);
	status = finish(t, &rep, NULL, 0);
	report_free(&rep);
	return status;
}

/* Runs the picked entries and reports. */
static int test_run(const struct test_cmd *t, struct suite_entry **picked,
		    size_t n)
{
	struct runner_options o = {
		.jobs = t->jobs,
		.timeout_ms = t->timeout_ms,
		.sandbox = t->sandbox,
		.progress = isatty(STDERR_FILENO),
		.tap = stdout,
	};
	struct report rep = {.suite = suite_name(t)};
	char *log_dir = make_log_dir(t);
	int status;

	if (!log_dir) {
		report_free(&rep);
		return EXIT_MONITOR_ERROR;
	}
	o.log_dir = log_dir;
	rep.cases = calloc(n ? n : 1, sizeof(*rep.cases));
	if (!rep.cases) {
		free(log_dir);
		report_free(&rep);
		fprintf(stderr, "splitvm: %s\n", strerror(ENOMEM));
		return EXIT_MONITOR_ERROR;
	}
	rep.n = n;
	printf("1..%zu\n", n);
	fflush(stdout);
	status = runner_run(picked, n, &o, rep.cases);
	if (status < 0) {
		fprintf(stderr, "splitvm: running the suite failed: %s\n",
			strerror(-status));
		status = EXIT_MONITOR_ERROR;
	}
	status = finish(t, &rep, log_dir, status);
	free(log_dir);
	report_free(&rep);
	return status;
}

/*
 * Whether a stop signal came: noted by main()'s handler before they were
 * blocked, or waiting since. The runner reads the ones that come while it
 * runs from its signalfd; this covers reading, listing, merging and
 * writing the reports.
 */
static bool stop_pending(const volatile sig_atomic_t *stopped)
{
	sigset_t pending;

	return *stopped ||
	       (sigpending(&pending) == 0 &&
		(sigismember(&pending, SIGINT) == 1 ||
		 sigismember(&pending, SIGTERM) == 1 ||
		 sigismember(&pending, SIGHUP) == 1));
}

static int cli_test_blocked(int argc, char **argv);

int cli_test(int argc, char **argv, const volatile sig_atomic_t *stopped)
{
	sigset_t stops;
	int r;

	/* Blocked from here on: a signal waits, never cuts a report short. */
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stops, NULL);
	r = stop_pending(stopped) ? EXIT_INTERRUPTED
				  : cli_test_blocked(argc, argv);
	return stop_pending(stopped) ? EXIT_INTERRUPTED : r;
}

static int cli_test_blocked(int argc, char **argv)
{
	struct test_cmd t = {.jobs = 0, .sandbox = true};
	struct suite s = {.entries = NULL};
	struct suite_entry **picked = NULL;
	char err[512];
	size_t n = 0;
	long cpus;
	int r = test_parse(&t, argc, argv);

	if (r)
		return r;
	if (t.merge)
		return test_merge(&t);
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (!t.jobs)
		t.jobs = cpus > 0 ? (unsigned int)cpus : 1;
	if (!t.timeout_ms)
		t.timeout_ms = DEFAULT_TIMEOUT_MS;
	if (t.kut_dir ? kut_read(t.kut_dir, t.n_groups > 0, &s, err, sizeof(err))
		      : manifest_read(t.manifest, &s, err, sizeof(err))) {
		suite_free(&s);
		return bad_input(err);
	}
	picked = calloc(s.n, sizeof(*picked));
	if (!picked) {
		suite_free(&s);
		fprintf(stderr, "splitvm: %s\n", strerror(ENOMEM));
		return EXIT_MONITOR_ERROR;
	}
	r = pick_groups(&t, &s, picked, &n);
	if (!r)
		r = pick_shard(&t, picked, &n);
	if (!r && t.list) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", picked[i]->name);
	} else if (!r) {
		r = test_run(&t, picked, n);
	}
	free(picked);
	suite_free(&s);
	return r;
}
