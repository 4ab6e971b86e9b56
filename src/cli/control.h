/* SPDX-License-Identifier: MIT */
/* The CLI's --control channel: one JSON command a line, one answer each. */
#ifndef SPLITVM_CONTROL_H
#define SPLITVM_CONTROL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "splitvm.h"

struct control {
	bool opened;   /* control_open() succeeded: control_close() undoes it */
	int listen_fd; /* Unix socket, or -1 for stdin */
	/* --control -: our own descriptors for stdin and stdout, handed to
	 * the thread; out_gated when stdout could not be made non-blocking
	 * for us alone (written only as far as poll() allows). */
	int in_fd, out_fd;
	bool out_gated;
	int wake[2]; /* control_close() wakes the thread through this pipe */
	const char *path;
	/* The socket's remover: the pipe it waits on (closing it says
	 * "remove"), and the one it closes when it has. */
	int janitor, janitor_done;
	pthread_t thread;
	bool started;
	enum splitvm_sandbox sandbox;
	/* {"cmd":"snapshot"} writes here: --snapshot-file, opened before the
	 * run (the sandbox opens nothing after), or -1 and NULL. */
	int snapshot_fd;
	const char *snapshot_path;
	/* Held while a command runs, and by the CLI around destroying. */
	pthread_mutex_t lock;
	struct splitvm *vm; /* NULL once the VM is going away */
};

/*
 * Opens the channel: "-" is stdin/stdout, anything else a Unix socket to
 * create at that path. A socket file left there by a run that was killed
 * (nobody listening) is replaced; one somebody listens on is not (a line
 * on stderr says so, and the result is -EADDRINUSE); another kind of file
 * gives -EEXIST. Returns 0 or a negative errno (the CLI says why).
 */
int control_open(struct control *c, const char *spec);

/*
 * Serves commands for vm on a thread of its own, confined by the control
 * sandbox role unless sandbox is SPLITVM_SANDBOX_OFF: any number of
 * clients up to a limit at once, none of them able to block it or the
 * rest of the monitor. Returns 0 or -errno.
 */
int control_start(struct control *c, struct splitvm *vm,
		  enum splitvm_sandbox sandbox);

/*
 * Forgets the VM (answers "the VM has ended" from then on), ends the
 * thread, drops the clients and removes the socket. Never blocks on a
 * client. Safe on a struct control that was never opened.
 */
void control_close(struct control *c);

/*
 * Runs one command line (len bytes, without its newline) of control c
 * and writes the one-line answer to out. vm NULL answers "the VM has
 * ended". Exposed for the CLI's tests. Returns false for "quit".
 */
bool control_command(const struct control *c, struct splitvm *vm,
		     const char *line, size_t len, FILE *out);

/* Writes the stats object (no newline): {"exits_io":..., ...}. */
void control_write_stats(struct splitvm *vm, FILE *out);

#endif /* SPLITVM_CONTROL_H */
