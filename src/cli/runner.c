// SPDX-License-Identifier: MIT
/*
 * The suite runner (runner.h): worker threads take entries in order and
 * run each as a VM through the public library; the calling thread
 * prints a TAP line as each ends, keeps the progress line, and turns a
 * stop signal into splitvm_stop() on every running VM. All the shared
 * state is in struct runner, under its lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kut.h"
#include "runner.h"
#include "status.h"

enum {
	/* The console's end that the expect-console regex is matched
	 * against: a guest printing for its whole timeout must not take
	 * the host's memory with it. */
	CONSOLE_MATCH_MAX = 16 << 20,
	/* The console's end kept in the reports (JUnit system-out). */
	CONSOLE_REPORT_MAX = 64 << 10,
};

struct runner {
	const struct runner_options *o;
	struct suite_entry *const *entries;
	struct report_case *cases;
	size_t n;
	int done_fd; /* an eventfd: a worker finished an entry */
	double start;
	pthread_mutex_t lock;
	/* Under lock: */
	size_t next;	   /* the next entry a worker takes */
	size_t active;	   /* entries being run */
	size_t *finished;  /* entry indices in the order they ended */
	size_t n_finished;
	size_t reported;   /* finished[] printed as TAP */
	size_t failures;
	bool *running;	   /* by entry: a worker runs it */
	struct splitvm **vms; /* by entry: its VM while it runs */
	bool stopping;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The library's log for one VM: into its console log, first error kept. */
struct vm_log {
	int fd;
	pthread_mutex_t lock;
	char error[160];
};

static void vm_log_line(void *userdata, enum splitvm_log_level level,
			const char *message)
{
	static const char *const tags[] = {"error: ", "warning: ", "",
					   "debug: "};
	struct vm_log *log = userdata;
	char line[512];
	int len;

	pthread_mutex_lock(&log->lock);
	if (level == SPLITVM_LOG_ERROR && !log->error[0])
		snprintf(log->error, sizeof(log->error), "%s", message);
	pthread_mutex_unlock(&log->lock);
	len = snprintf(line, sizeof(line), "splitvm: %s%s\n", tags[level],
		       message);
	if (len > (int)sizeof(line) - 1)
		len = (int)sizeof(line) - 1;
	if (log->fd >= 0 && write(log->fd, line, (size_t)len) < 0)
		return; /* the log is best effort; the verdict is not */
}

/*
 * The end of the console log, at most max bytes, with NUL bytes made
 * spaces so that it is one C string; *ret_cut: bytes left out before.
 */
static char *read_console(int fd, size_t max, size_t *ret_len,
			  size_t *ret_cut)
{
	struct stat st;
	size_t len, got = 0;
	char *buf;

	if (fstat(fd, &st))
		st.st_size = 0;
	len = (size_t)st.st_size > max ? max : (size_t)st.st_size;
	*ret_cut = (size_t)st.st_size - len;
	buf = malloc(len + 1);
	if (!buf)
		return NULL;
	while (got < len) {
		ssize_t r = pread(fd, buf + got, len - got,
				  (off_t)(*ret_cut + got));

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	for (size_t i = 0; i < got; i++)
		if (!buf[i])
			buf[i] = ' ';
	buf[got] = 0;
	*ret_len = got;
	return buf;
}

/* The console for the reports: its end, saying what was left out. */
static char *console_for_report(const char *buf, size_t len, size_t cut)
{
	size_t keep = len > CONSOLE_REPORT_MAX ? CONSOLE_REPORT_MAX : len;
	char *text = report_text(buf + len - keep, keep), *s;

	cut += len - keep;
	if (!text || !cut)
		return text;
	if (asprintf(&s, "[splitvm: the first %zu bytes are left out; the "
			 "whole console is in the log]\n%s",
		     cut, text) < 0)
		s = NULL;
	free(text);
	return s;
}

/* Makes the VM's configuration. Returns 0 or a negative errno. */
static int entry_config(const struct runner *r, const struct suite_entry *e,
			struct vm_log *log, struct splitvm_config **ret)
{
	struct splitvm_config *cfg;
	int err = splitvm_config_new(&cfg);

	if (err)
		return err;
	splitvm_config_set_log_handler(cfg, vm_log_line, log,
				       SPLITVM_LOG_WARNING);
	err = suite_entry_config(e, cfg);
	if (!err && !e->timeout_ms && r->o->timeout_ms)
		err = splitvm_config_set_timeout(cfg, r->o->timeout_ms);
	if (!err)
		err = splitvm_config_set_serial_fds(cfg, log->fd, -1);
	/* ERRNO, never TRAP or KILL: a refused call must fail one VM's
	 * call, not take the process and every other VM down. */
	if (!err && r->o->sandbox)
		err = splitvm_config_set_sandbox(cfg, SPLITVM_SANDBOX_ERRNO);
	if (err) {
		splitvm_config_free(cfg);
		return err;
	}
	*ret = cfg;
	return 0;
}

/* Creates, starts and waits for entry i's VM; its result in *res. */
static int boot(struct runner *r, size_t i, const struct splitvm_config *cfg,
		struct splitvm_result *res)
{
	struct splitvm *vm;
	int err = splitvm_create(cfg, &vm);

	if (err)
		return err;
	err = splitvm_start(vm);
	if (!err) {
		/* Seen by the stop signal's handling from now on; a stop
		 * that came before would not have seen it. */
		pthread_mutex_lock(&r->lock);
		r->vms[i] = vm;
		if (r->stopping)
			splitvm_stop(vm);
		pthread_mutex_unlock(&r->lock);
		err = splitvm_wait(vm, -1, res);
		pthread_mutex_lock(&r->lock);
		r->vms[i] = NULL; /* no stop may race with the destroy */
		pthread_mutex_unlock(&r->lock);
	}
	splitvm_destroy(vm);
	return err;
}

/* What an entry must do, in words, for the reports: made report text,
 * since a manifest's regex may hold any bytes. */
static char *expected_text(const struct suite_entry *e)
{
	char *raw, *text;

	if (e->judging == SUITE_JUDGE_KUT)
		return strdup("PASS or SKIP by run_tests.sh's rules");
	raw = suite_expect_text(&e->expect);
	text = raw ? report_text(raw, strlen(raw)) : NULL;
	free(raw);
	return text;
}

/* kvm-unit-tests' entry: run_tests.sh's verdict and what it prints. */
static void judge_kut(struct report_case *c, const struct suite_entry *e,
		      const struct splitvm_result *res, const char *console,
		      const struct vm_log *log)
{
	char *summary = NULL;

	c->verdict = kut_judge(e, res, console, log->error[0] != 0, &summary);
	if (summary)
		c->summary = report_text(summary, strlen(summary));
	free(summary);
	if (c->verdict == REPORT_FAIL && asprintf(&c->reason, "FAIL%s%s%s",
						  c->summary ? " (" : "",
						  c->summary ? c->summary : "",
						  c->summary ? ")" : "") < 0)
		c->reason = NULL;
}

/* The case's verdict from the run's result and what the console holds. */
static void judge(struct report_case *c, const struct suite_entry *e,
		  const struct splitvm_result *res, const struct vm_log *log)
{
	char why[512];
	size_t len = 0, cut = 0;
	char *console = log->fd >= 0 ? read_console(log->fd, CONSOLE_MATCH_MAX,
						    &len, &cut)
				     : NULL;
	bool met = e->judging == SUITE_JUDGE_EXPECT &&
		   suite_judge(&e->expect, res, console ? console : "", why,
			       sizeof(why));

	c->outcome = strdup(splitvm_outcome_name(res->outcome));
	c->status = status_of(res);
	c->exit_code = res->exit_code;
	c->detail = res->detail[0] ? report_text(res->detail,
						 strlen(res->detail))
				   : NULL;
	if (e->judging == SUITE_JUDGE_KUT) {
		judge_kut(c, e, res, console ? console : "", log);
	} else {
		c->reason = met ? NULL : report_text(why, strlen(why));
		c->verdict = met ? REPORT_PASS
			     : e->allow_fail ? REPORT_ALLOWED_FAIL
					     : REPORT_FAIL;
	}
	if (console)
		c->console = console_for_report(console, len, cut);
	free(console);
}

/*
 * A VM the monitor could not make or run (a file that is not a kernel,
 * no /dev/kvm...) fails as its own entry, as 'splitvm run' would with
 * status 126, and the others go on.
 */
static void monitor_failed(struct splitvm_result *res, int err,
			   const struct vm_log *log)
{
	*res = (struct splitvm_result){.outcome = SPLITVM_OUTCOME_ERROR,
				       .error = err,
				       .cpu = -1};
	snprintf(res->detail, sizeof(res->detail), "%s",
		 log->error[0] ? log->error : strerror(-err));
}

/*
 * An entry decided before it runs (kvm-unit-tests: another arch, a
 * nodefault test...): no VM and no log, the verdict and run_tests.sh's
 * reason.
 */
static void prejudged(struct report_case *c, const struct suite_entry *e)
{
	const char *why = e->prejudged_reason ? e->prejudged_reason : "";

	c->verdict = e->prejudged == SUITE_SKIP ? REPORT_SKIP : REPORT_FAIL;
	c->outcome = strdup(e->prejudged == SUITE_SKIP ? "skipped"
							: "refused");
	c->summary = report_text(why, strlen(why));
	if (c->verdict == REPORT_FAIL)
		c->reason = report_text(why, strlen(why));
}

static void run_entry(struct runner *r, size_t i)
{
	const struct suite_entry *e = r->entries[i];
	struct report_case *c = &r->cases[i];
	struct vm_log log = {.fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER};
	struct splitvm_config *cfg = NULL;
	struct splitvm_result res;
	double start = now();
	int err;

	c->name = strdup(e->name);
	c->expected = expected_text(e);
	c->allow_fail = e->allow_fail;
	if (e->prejudged != SUITE_RUN) {
		prejudged(c, e);
		return;
	}
	if (asprintf(&c->log, "%s/%s.log", r->o->log_dir, e->name) < 0)
		c->log = NULL;
	/* The log path as the reports carry it (--log-dir may hold any
	 * bytes); the file itself is opened by the path as given. */
	log.fd = c->log ? open(c->log, O_RDWR | O_CREAT | O_TRUNC | O_APPEND |
					       O_CLOEXEC,
			       0644)
			: -1;
	if (log.fd < 0) {
		err = c->log ? -errno : -ENOMEM;
		snprintf(log.error, sizeof(log.error),
			 "cannot open the console log '%s': %s",
			 c->log ? c->log : "", strerror(-err));
	} else {
		err = entry_config(r, e, &log, &cfg);
	}
	if (!err)
		err = boot(r, i, cfg, &res);
	splitvm_config_free(cfg);
	/* How a run ended badly goes in its log, as 'splitvm run' says it
	 * on stderr; a monitor error is there already. */
	if (err)
		monitor_failed(&res, err, &log);
	else if (res.outcome != SPLITVM_OUTCOME_EXIT &&
		 res.outcome != SPLITVM_OUTCOME_POWEROFF)
		vm_log_line(&log, SPLITVM_LOG_INFO, res.detail);
	c->duration = now() - start;
	judge(c, e, &res, &log);
	if (log.fd >= 0)
		close(log.fd);
	pthread_mutex_destroy(&log.lock);
}

static void *worker(void *arg)
{
	struct runner *r = arg;
	uint64_t one = 1;

	pthread_setname_np(pthread_self(), "splitvm-suite");
	for (;;) {
		size_t i;

		pthread_mutex_lock(&r->lock);
		if (r->stopping || r->next >= r->n) {
			pthread_mutex_unlock(&r->lock);
			return NULL;
		}
		i = r->next++;
		r->active++;
		r->running[i] = true;
		pthread_mutex_unlock(&r->lock);

		run_entry(r, i);

		pthread_mutex_lock(&r->lock);
		r->running[i] = false;
		r->active--;
		r->finished[r->n_finished++] = i;
		pthread_mutex_unlock(&r->lock);
		if (write(r->done_fd, &one, sizeof(one)) < 0)
			continue; /* the main thread looks every second */
	}
}

/* The progress line, on stderr (a terminal), redrawn in place. */
static void draw_progress(const struct runner *r)
{
	struct winsize ws = {.ws_col = 0};
	char line[512];
	size_t len, width;

	if (!r->o->progress)
		return;
	width = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) || !ws.ws_col
			? 80
			: ws.ws_col;
	if (width > sizeof(line))
		width = sizeof(line);
	len = (size_t)snprintf(line, sizeof(line),
			       "[%zu/%zu] %.0fs, %zu failed; running:",
			       r->n_finished, r->n, now() - r->start,
			       r->failures);
	for (size_t i = 0; i < r->n && len < sizeof(line); i++)
		if (r->running[i])
			len += (size_t)snprintf(line + len, sizeof(line) - len,
						" %s", r->entries[i]->name);
	/* One row: a line that wraps could not be redrawn in place. */
	if (len > width - 1)
		len = width - 1;
	fprintf(stderr, "\r\033[K%.*s", (int)len, line);
	fflush(stderr);
}

static void clear_progress(const struct runner *r)
{
	if (r->o->progress) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
}

/* TAP lines for what ended since the last call; under the lock. */
static void report_finished(struct runner *r)
{
	if (r->reported == r->n_finished)
		return;
	clear_progress(r);
	while (r->reported < r->n_finished) {
		const struct report_case *c =
			&r->cases[r->finished[r->reported]];

		if (!report_verdict_ok(c->verdict))
			r->failures++;
		report_tap_line(r->o->tap, ++r->reported, c);
	}
}

/* Stopped: entries never taken are not run; under the lock. */
static void mark_not_run(struct runner *r)
{
	for (; r->next < r->n; r->next++) {
		struct report_case *c = &r->cases[r->next];

		c->name = strdup(r->entries[r->next]->name);
		c->expected = expected_text(r->entries[r->next]);
		c->outcome = strdup("not-run");
		c->status = EXIT_INTERRUPTED;
		c->allow_fail = r->entries[r->next]->allow_fail;
		c->verdict = REPORT_NOT_RUN;
		r->finished[r->n_finished++] = r->next;
	}
}

/* A stop signal: no entry starts from now on, running VMs stop. */
static void stop_all(struct runner *r)
{
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	for (size_t i = 0; i < r->n; i++)
		if (r->vms[i])
			splitvm_stop(r->vms[i]);
	pthread_mutex_unlock(&r->lock);
}

/* The calling thread's part: report, draw, and wait for news. */
static void supervise(struct runner *r, int sig_fd)
{
	for (;;) {
		struct pollfd pfd[2] = {{.fd = r->done_fd, .events = POLLIN},
					{.fd = sig_fd, .events = POLLIN}};
		struct signalfd_siginfo si;
		uint64_t count;
		bool all;

		pthread_mutex_lock(&r->lock);
		if (r->stopping && !r->active)
			mark_not_run(r);
		report_finished(r);
		all = r->reported == r->n;
		if (!all)
			draw_progress(r);
		pthread_mutex_unlock(&r->lock);
		if (all)
			return;
		if (poll(pfd, sig_fd >= 0 ? 2 : 1, 1000) < 0 && errno != EINTR)
			return;
		if ((pfd[0].revents & POLLIN) &&
		    read(r->done_fd, &count, sizeof(count)) < 0)
			continue;
		if ((pfd[1].revents & POLLIN) &&
		    read(sig_fd, &si, sizeof(si)) == sizeof(si))
			stop_all(r);
	}
}

/* Starts up to jobs workers; returns how many started (0: errno). */
static size_t start_workers(struct runner *r, pthread_t *threads,
			    size_t jobs)
{
	size_t started = 0;

	while (started < jobs &&
	       !(errno = pthread_create(&threads[started], NULL, worker, r)))
		started++;
	return started;
}

int runner_run(struct suite_entry *const *entries, size_t n,
	       const struct runner_options *o, struct report_case *cases)
{
	struct runner r = {.o = o, .entries = entries, .cases = cases,
			   .n = n, .start = now(),
			   .lock = PTHREAD_MUTEX_INITIALIZER};
	size_t jobs = o->jobs < n ? o->jobs : n, started = 0;
	pthread_t *threads = calloc(jobs ? jobs : 1, sizeof(*threads));
	sigset_t stops, old;
	int sig_fd = -1, err = 0;

	r.finished = calloc(n ? n : 1, sizeof(*r.finished));
	r.running = calloc(n ? n : 1, sizeof(*r.running));
	r.vms = calloc(n ? n : 1, sizeof(*r.vms));
	r.done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!threads || !r.finished || !r.running || !r.vms || r.done_fd < 0) {
		err = r.done_fd < 0 ? -errno : -ENOMEM;
		goto out;
	}
	/* Blocked before any thread starts, so that every VM thread has
	 * them blocked too: they are read from sig_fd, never delivered. */
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stops, &old);
	sig_fd = signalfd(-1, &stops, SFD_CLOEXEC | SFD_NONBLOCK);
	started = start_workers(&r, threads, jobs);
	if (started || !n) {
		supervise(&r, sig_fd);
	} else {
		/* No worker at all: every entry says it did not run, never
		 * the zeroed case's "pass". */
		err = -errno;
		mark_not_run(&r);
	}
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	clear_progress(&r);
	if (!err && r.stopping)
		err = EXIT_INTERRUPTED;
	if (sig_fd >= 0)
		close(sig_fd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
out:
	if (r.done_fd >= 0)
		close(r.done_fd);
	free(r.vms);
	free(r.running);
	free(r.finished);
	free(threads);
	return err;
}
