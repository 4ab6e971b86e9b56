// SPDX-License-Identifier: MIT
/*
 * fleet - boots N VMs of one guest at once, all in this process, and
 * waits for them from one thread: the smallest shape of a program that
 * embeds libsplitvm. Each VM runs on threads of its own; this program
 * only creates, starts, polls and reports. For suites of different
 * guests with their own arguments and expected outcomes, use
 * 'splitvm test' and a manifest (docs/suite.md).
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <splitvm.h>

static const char usage_text[] =
	"usage: fleet [-n VMS] [-t SECONDS] KERNEL [CMDLINE]\n"
	"Boots VMS copies (default 4, at most 64) of the guest KERNEL with\n"
	"CMDLINE in one process, each VM on its own threads, and prints how\n"
	"each ended. A guest passes when it writes 0 to the debug-exit port.\n"
	"  -t SECONDS    wall-clock limit of each VM (default 60)\n"
	"Exit status: 0 all passed, 1 some did not, 2 bad usage,\n"
	"77 no /dev/kvm (the skip status of meson and automake).\n";

enum { MAX_VMS = 64, CONSOLE_MAX = 4096 };

/* One VM and what it printed. Several vCPU threads may print at once. */
struct member {
	struct splitvm *vm;
	pthread_mutex_t lock;
	char console[CONSOLE_MAX + 1]; /* NUL-terminated, cut at the end */
	size_t console_len;
};

static void on_console(void *userdata, const char *data, size_t len)
{
	struct member *m = userdata;

	pthread_mutex_lock(&m->lock);
	if (len > CONSOLE_MAX - m->console_len)
		len = CONSOLE_MAX - m->console_len;
	memcpy(m->console + m->console_len, data, len);
	m->console_len += len;
	m->console[m->console_len] = 0;
	pthread_mutex_unlock(&m->lock);
}

/* Makes VM m from cfg. One config serves every VM: splitvm_create()
 * copies what it needs, so only the console's userdata changes. */
static int create(struct splitvm_config *cfg, struct member *m)
{
	int err = splitvm_config_set_console_handler(cfg, on_console, m);

	return err ? err : splitvm_create(cfg, &m->vm);
}

static int configure(struct splitvm_config *cfg, const char *kernel,
		     const char *cmdline, unsigned int timeout_s)
{
	int err = splitvm_config_set_kernel(cfg, kernel);

	if (!err && cmdline)
		err = splitvm_config_set_cmdline(cfg, cmdline);
	if (!err)
		err = splitvm_config_set_timeout(cfg, timeout_s * 1000ull);
	/* A guest cannot reach this process beyond its VM's own calls. */
	if (!err)
		err = splitvm_config_set_sandbox(cfg, SPLITVM_SANDBOX_ERRNO);
	return err;
}

/* Prints VM n's end; true when its guest passed. */
static bool report(unsigned int n, struct member *m)
{
	struct splitvm_result res;
	int err = splitvm_wait(m->vm, -1, &res); /* ended: returns at once */
	bool ok = !err && res.outcome == SPLITVM_OUTCOME_EXIT &&
		  res.exit_code == 0;

	if (err)
		printf("vm %u: %s\n", n, strerror(-err));
	else if (res.outcome == SPLITVM_OUTCOME_EXIT)
		printf("vm %u: exit code %u after %.1f ms\n", n, res.exit_code,
		       res.duration_ns / 1e6);
	else
		printf("vm %u: %s: %s\n", n, splitvm_outcome_name(res.outcome),
		       res.detail);
	if (!ok && m->console_len)
		printf("%s%s", m->console,
		       m->console[m->console_len - 1] == '\n' ? "" : "\n");
	return ok;
}

/*
 * Waits for every VM with one poll() over their splitvm_fd()s, which
 * become readable when a run has ended, and reports each as it ends.
 */
static int wait_all(struct member *fleet, unsigned int count)
{
	struct pollfd fds[MAX_VMS];
	unsigned int left = count, failed = 0;

	for (unsigned int i = 0; i < count; i++)
		fds[i] = (struct pollfd){splitvm_fd(fleet[i].vm), POLLIN, 0};
	while (left) {
		if (poll(fds, count, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("fleet: poll");
			return 1;
		}
		for (unsigned int i = 0; i < count; i++) {
			if (fds[i].fd < 0 || !fds[i].revents)
				continue;
			fds[i].fd = -1; /* poll() skips it from now on */
			left--;
			failed += !report(i, &fleet[i]);
		}
	}
	printf("%u of %u passed\n", count - failed, count);
	return failed ? 1 : 0;
}

static int usage(void)
{
	fputs(usage_text, stderr);
	return 2;
}

/* A whole number in [1, max] from s, or 0. */
static unsigned int number(const char *s, unsigned int max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	return *s >= '0' && *s <= '9' && !*end && v >= 1 && v <= max
		       ? (unsigned int)v
		       : 0;
}

int main(int argc, char **argv)
{
	static struct member fleet[MAX_VMS];
	unsigned int count = 4, timeout_s = 60, made = 0;
	struct splitvm_config *cfg;
	int opt, err, status;

	while ((opt = getopt(argc, argv, "n:t:h")) != -1) {
		if (opt == 'n' && (count = number(optarg, MAX_VMS)))
			continue;
		if (opt == 't' && (timeout_s = number(optarg, 86400)))
			continue;
		return usage();
	}
	if (optind >= argc || argc - optind > 2)
		return usage();
	if (access("/dev/kvm", R_OK | W_OK)) {
		printf("1..0 # SKIP /dev/kvm: %s\n", strerror(errno));
		return 77;
	}
	err = splitvm_config_new(&cfg);
	if (!err)
		err = configure(cfg, argv[optind], argv[optind + 1], timeout_s);
	for (; !err && made < count; made++) {
		pthread_mutex_init(&fleet[made].lock, NULL);
		err = create(cfg, &fleet[made]);
	}
	splitvm_config_free(cfg); /* the VMs keep no reference to it */
	if (err) /* a VM not made is NULL: destroying it does nothing */
		fprintf(stderr, "fleet: %s: %s\n", argv[optind], strerror(-err));
	/* All are created before any starts: they then run side by side. */
	for (unsigned int i = 0; !err && i < made; i++)
		err = splitvm_start(fleet[i].vm);
	status = err ? 1 : wait_all(fleet, made);
	for (unsigned int i = 0; i < made; i++)
		splitvm_destroy(fleet[i].vm); /* stops one still running */
	return status;
}
