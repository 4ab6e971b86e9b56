// SPDX-License-Identifier: MIT
/*
 * Times process start to exit status: "spawn N STATUS CMD ARGS..." runs
 * CMD N times one after another (stdin, stdout and stderr on /dev/null)
 * and prints "T ns cpu_ns" for each: the wall time from posix_spawn() to
 * waitpid(), and the child's CPU time (user + system, from wait4()). A run
 * ending with another status than STATUS stops it with status 1.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull +
	       (unsigned long long)ts.tv_nsec;
}

static unsigned long long tv_ns(const struct timeval *tv)
{
	return (unsigned long long)tv->tv_sec * 1000000000ull +
	       (unsigned long long)tv->tv_usec * 1000ull;
}

int main(int argc, char **argv)
{
	posix_spawn_file_actions_t fa;
	long n, expect;
	int r = 0;

	if (argc < 4 || (n = strtol(argv[1], NULL, 10)) < 1 ||
	    (expect = strtol(argv[2], NULL, 10)) < 0) {
		fprintf(stderr, "usage: spawn N STATUS CMD [ARGS...]\n");
		return 2;
	}
	posix_spawn_file_actions_init(&fa);
	for (int fd = 0; fd < 3; fd++)
		posix_spawn_file_actions_addopen(&fa, fd, "/dev/null",
						 fd ? O_WRONLY : O_RDONLY, 0);
	for (long i = 0; i < n; i++) {
		unsigned long long t0 = now_ns();
		struct rusage ru;
		pid_t pid;
		int st;

		if (posix_spawn(&pid, argv[3], &fa, NULL, argv + 3, environ)) {
			perror("spawn: posix_spawn");
			r = 1;
			break;
		}
		if (wait4(pid, &st, 0, &ru) < 0) {
			perror("spawn: wait4");
			r = 1;
			break;
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != expect) {
			fprintf(stderr, "spawn: run %ld: status %d, not %ld\n",
				i, WIFEXITED(st) ? WEXITSTATUS(st) : -1, expect);
			r = 1;
			break;
		}
		printf("T %llu %llu\n", now_ns() - t0,
		       tv_ns(&ru.ru_utime) + tv_ns(&ru.ru_stime));
	}
	posix_spawn_file_actions_destroy(&fa);
	return r;
}
