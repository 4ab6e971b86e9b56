// SPDX-License-Identifier: MIT
/*
 * --result-json, whatever ends the run. The monitor runs confined and may
 * crash or be killed, so the file is put in place by a keeper: the process
 * the caller started, forked before any thread or filter exists, which
 * waits for the monitor and writes a document of its own when the monitor
 * left none. A regular file is replaced atomically (a temporary beside it,
 * then rename(2)): a reader sees the old document or the new one, never a
 * part.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report.h"
#include "result.h"

enum {
	/* A reason message ('R', the text, '\n') fits in PIPE_BUF, so it
	 * is written at once even from several threads. */
	REASON_MAX = 480,
	STATUS_MONITOR_ERROR = 126,
	STATUS_INTERRUPTED = 130,
};

/* A descriptor that is not a regular file: written as it is. */
static int result_stream(struct result_file *rf, int fd)
{
	int fl = fcntl(fd, F_GETFL);

	/* O_NONBLOCK was only there for the open: the document is
	 * written whole, to a pipe as to anything else. */
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 ||
	    !(rf->out = fdopen(fd, "w"))) {
		int r = -errno;

		close(fd);
		return r;
	}
	rf->fd = fd;
	return 0;
}

/*
 * A regular file (or none yet): a temporary in the same directory, so
 * that rename() replaces the file in one step, with the mode and owner of
 * the file it replaces (old, or NULL for a new one). A symbolic link is
 * written through, as open() would: the file it names is replaced.
 */
static int result_temp(struct result_file *rf, const char *path,
		       const struct stat *old)
{
	char *real = realpath(path, NULL);
	const char *target = real ? real : path;
	const char *slash = strrchr(target, '/');
	int dir_len = slash ? (int)(slash - target + 1) : 0;
	mode_t mask;
	int fd, r;

	rf->target = strdup(target);
	free(real);
	if (!rf->target || asprintf(&rf->temp, "%.*s.%s.XXXXXX", dir_len,
				    rf->target, rf->target + dir_len) < 0) {
		rf->temp = NULL;
		r = -ENOMEM;
		goto err;
	}
	fd = mkostemp(rf->temp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		free(rf->temp);
		rf->temp = NULL;
		goto err;
	}
	/* mkostemp() makes it 0600: give it the mode open() would have
	 * given a new file, or the old file's mode and (if we may) owner. */
	mask = umask(0);
	umask(mask);
	if (old && fchown(fd, old->st_uid, old->st_gid) < 0)
		r = -errno; /* not ours to give: ours, as a new file's */
	if (fchmod(fd, old ? old->st_mode & 07777 : 0666 & ~mask) < 0 ||
	    !(rf->out = fdopen(fd, "w"))) {
		r = -errno;
		close(fd);
		goto err_temp;
	}
	rf->fd = fd;
	return 0;

err_temp:
	unlink(rf->temp);
	free(rf->temp);
	rf->temp = NULL;
err:
	free(rf->target);
	rf->target = NULL;
	return r;
}

/* The one of fds 0-2 open on the file st describes, or -1. */
static int stdio_fd_of(const struct stat *st)
{
	struct stat s;

	for (int i = 0; i <= 2; i++)
		if (fstat(i, &s) == 0 && s.st_dev == st->st_dev &&
		    s.st_ino == st->st_ino)
			return i;
	return -1;
}

/* The file at path, written in place from its start: where it may not,
 * or must not, be replaced. */
static int result_in_place(struct result_file *rf, const char *path,
			   int flags)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_NOCTTY | O_CLOEXEC | flags,
		      0666);

	return fd < 0 ? -errno : result_stream(rf, fd);
}

int result_open(struct result_file *rf, const char *path)
{
	struct stat st;
	int fd, r;

	*rf = (struct result_file){.fd = -1, .keeper_fd = -1};
	/* No O_CREAT or O_TRUNC: a file that is there keeps its content
	 * until the new one replaces it. O_NONBLOCK: a FIFO nobody reads
	 * fails at once (ENXIO) rather than holding the open for ever. */
	fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* A symbolic link to a file not there yet: created through
		 * the link, as open() would, never put in its place. */
		if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
			return result_in_place(rf, path, O_CREAT);
		return result_temp(rf, path, NULL);
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode))
		return result_stream(rf, fd);
	close(fd);
	/* /dev/stdout into a file, or the file stdout was sent to: the
	 * document follows the console there, through that descriptor;
	 * replacing the file would lose what the guest printed. */
	if ((r = stdio_fd_of(&st)) >= 0) {
		fd = fcntl(r, F_DUPFD_CLOEXEC, 3);
		return fd < 0 ? -errno : result_stream(rf, fd);
	}
	/* Other names (hard links) would keep the old file: in place. */
	if (st.st_nlink > 1)
		return result_in_place(rf, path, 0);
	r = result_temp(rf, path, &st);
	/* A directory that takes no new file (read-only, not ours) or a
	 * name too long for the temporary's: in place, not atomic. */
	if (r == -EACCES || r == -EPERM || r == -EROFS ||
	    r == -ENAMETOOLONG)
		r = result_in_place(rf, path, 0);
	return r;
}

void result_close(struct result_file *rf)
{
	if (rf->out)
		fclose(rf->out);
	/* Before the keeper, nothing was written; after, it is the keeper's
	 * to place the file (or write one for us). */
	if (rf->temp && rf->keeper_fd < 0)
		unlink(rf->temp);
	if (rf->keeper_fd >= 0)
		close(rf->keeper_fd);
	free(rf->temp);
	free(rf->target);
	*rf = (struct result_file){.fd = -1, .keeper_fd = -1};
}

void result_reason(const struct result_file *rf, const char *line)
{
	char msg[REASON_MAX + 2];
	size_t n = 0;

	if (rf->keeper_fd < 0)
		return;
	msg[n++] = 'R';
	for (; *line && n <= REASON_MAX; line++)
		msg[n++] = *line == '\n' ? ' ' : *line;
	msg[n++] = '\n';
	/* A keeper that is gone has nothing to keep: the error is moot. */
	if (write(rf->keeper_fd, msg, n) < 0)
		return;
}

int result_done(struct result_file *rf)
{
	int err = ferror(rf->out) ? EIO : 0;

	if (fclose(rf->out) && !err)
		err = errno;
	rf->out = NULL;
	if (!err && rf->keeper_fd >= 0 && write(rf->keeper_fd, "D\n", 2) != 2)
		err = errno;
	return -err;
}

/* What the keeper learns from the monitor: its last reason, and whether
 * it finished its document. */
struct keeper {
	char line[REASON_MAX + 2]; /* the message being read */
	size_t len;
	char reason[REASON_MAX + 1];
	bool done;
	struct timespec start;
};

static void keeper_message(struct keeper *k)
{
	if (k->len && k->line[0] == 'D') {
		k->done = true;
	} else if (k->len && k->line[0] == 'R') {
		memcpy(k->reason, k->line + 1, k->len - 1);
		k->reason[k->len - 1] = 0;
	}
	k->len = 0;
}

/* Reads what the monitor sent: read(2)'s result. Messages longer than
 * ours (a monitor gone wrong) are cut, never overrun. */
static ssize_t keeper_read(struct keeper *k, int fd)
{
	char buf[1024];
	ssize_t n = read(fd, buf, sizeof(buf));

	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n')
			keeper_message(k);
		else if (k->len < sizeof(k->line) - 1)
			k->line[k->len++] = buf[i];
	}
	return n;
}

void result_json_string(FILE *f, const char *s)
{
	/* Valid UTF-8 first (RFC 8259 8.1: a file name, a guest's text may
	 * be anything), as the suite reports make their text. */
	char *text = report_text(s, strlen(s));

	for (const unsigned char *p = (const unsigned char *)(text ? text : "");
	     *p; p++)
		if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else
			fputc(*p, f);
	free(text);
}

/* The document the monitor did not write: how it ended, and why. */
static int keeper_document(struct result_file *rf, const struct keeper *k,
			   int wstatus, int status)
{
	struct timespec now;
	char why[REASON_MAX + 96];
	uint64_t ns;
	FILE *f;
	int fd, err = 0;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (uint64_t)(now.tv_sec - k->start.tv_sec) * 1000000000u +
	     (uint64_t)now.tv_nsec - (uint64_t)k->start.tv_nsec;
	if (WIFSIGNALED(wstatus))
		snprintf(why, sizeof(why),
			 "splitvm's monitor process died of signal %d (%s)%s%s",
			 WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)),
			 k->reason[0] ? " after: " : "", k->reason);
	else if (k->reason[0])
		snprintf(why, sizeof(why), "%s", k->reason);
	else
		snprintf(why, sizeof(why),
			 "splitvm ended with status %d before a verdict",
			 status);
	/* A temporary the monitor may have half written starts again. */
	if (rf->temp && (ftruncate(rf->fd, 0) < 0 ||
			 lseek(rf->fd, 0, SEEK_SET) < 0))
		return -errno;
	fd = dup(rf->fd);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		err = errno;
		if (fd >= 0)
			close(fd);
		return -err;
	}
	fprintf(f,
		"{\"outcome\":\"%s\",\"status\":%d,\"exit_code\":0,\"cpu\":-1,"
		"\"duration_ns\":%llu,\"detail\":\"",
		status == STATUS_INTERRUPTED ? "stopped" : "error", status,
		(unsigned long long)ns);
	result_json_string(f, why);
	fputs("\",\"stats\":null}\n", f);
	if (ferror(f))
		err = EIO;
	if (fclose(f) && !err)
		err = errno;
	return -err;
}

/* Puts the document in place. Returns the status to exit with. */
static int keeper_finish(struct result_file *rf, const struct keeper *k,
			 int wstatus)
{
	int status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus)
					: STATUS_MONITOR_ERROR;
	int r = 0;

	if (!k->done || !WIFEXITED(wstatus))
		r = keeper_document(rf, k, wstatus, status);
	if (!r && rf->temp && rename(rf->temp, rf->target) < 0)
		r = -errno;
	if (r) {
		fprintf(stderr, "splitvm: --result-json: cannot write '%s': %s\n",
			rf->target ? rf->target : "the result", strerror(-r));
		if (rf->temp)
			unlink(rf->temp);
		return STATUS_MONITOR_ERROR;
	}
	return status;
}

/*
 * The keeper's life: pass the stop signals on, read the monitor's
 * messages, and when it has ended, put the document in place. sigs (the
 * stop signals and SIGCHLD) are blocked and taken through a signalfd; if
 * none can be made, the monitor is looked at every 100 ms instead.
 */
static int keeper_run(struct result_file *rf, pid_t monitor, int in,
		      const sigset_t *sigs)
{
	struct keeper k = {.len = 0};
	int sfd = signalfd(-1, sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	struct pollfd pfd[2] = {{.fd = in, .events = POLLIN},
				{.fd = sfd, .events = POLLIN}};
	struct signalfd_siginfo si;
	int wstatus = 0;

	clock_gettime(CLOCK_MONOTONIC, &k.start);
	while (waitpid(monitor, &wstatus, WNOHANG) != monitor) {
		if (poll(pfd, 2, pfd[1].fd >= 0 ? -1 : 100) < 0 &&
		    errno != EINTR)
			pfd[1].fd = -1; /* from now on, a look every 100 ms */
		if (pfd[0].revents && keeper_read(&k, in) <= 0 &&
		    errno != EINTR)
			pfd[0].fd = -1; /* the end of the pipe */
		if (pfd[1].revents)
			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				if (si.ssi_signo != SIGCHLD)
					kill(monitor, (int)si.ssi_signo);
	}
	/* Whatever the monitor wrote before it ended is in the pipe. */
	if (fcntl(in, F_SETFL, O_NONBLOCK) == 0)
		while (keeper_read(&k, in) > 0)
			;
	return keeper_finish(rf, &k, wstatus);
}

int result_keep(struct result_file *rf)
{
	sigset_t sigs, old;
	pid_t keeper = getpid(), pid;
	int p[2], r;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	/* From here a stop signal waits for whoever takes it: the keeper's
	 * signalfd, or the monitor once it unblocks it. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigs, &old);
	fflush(NULL); /* nothing buffered may come out twice */
	pid = fork();
	if (pid < 0) {
		r = -errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(p[0]);
		close(p[1]);
		return r;
	}
	if (pid == 0) {
		close(p[0]);
		rf->keeper_fd = p[1];
		/* A keeper killed outright takes its monitor along: no VM
		 * runs on with nobody to report it. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != keeper)
			_exit(STATUS_MONITOR_ERROR);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return 0;
	}
	close(p[1]);
	_exit(keeper_run(rf, pid, p[0], &sigs));
}
