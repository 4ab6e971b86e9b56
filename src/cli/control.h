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
	int listen_fd; /* Unix socket, or -1 for stdin */
	const char *path;
	pthread_t thread;
	bool started;
	enum splitvm_sandbox sandbox;
	/* Held while a command runs, and by the CLI around destroying. */
	pthread_mutex_t lock;
	struct splitvm *vm; /* NULL once the VM is going away */
};

/*
 * Opens the channel: "-" is stdin/stdout, anything else a Unix socket to
 * create at that path. Returns 0 or a negative errno (the CLI says why).
 */
int control_open(struct control *c, const char *spec);

/*
 * Serves commands for vm on a thread of its own, confined by the control
 * sandbox role unless sandbox is SPLITVM_SANDBOX_OFF. Returns 0 or -errno.
 */
int control_start(struct control *c, struct splitvm *vm,
		  enum splitvm_sandbox sandbox);

/* Forgets the VM (answers "no VM" from now on) and removes the socket. */
void control_close(struct control *c);

/*
 * Runs one command line and writes the one-line answer to out. Exposed
 * for the CLI's tests. Returns false for "quit".
 */
bool control_command(struct splitvm *vm, const char *line, FILE *out);

/* Writes the stats object (no newline): {"exits_io":..., ...}. */
void control_write_stats(struct splitvm *vm, FILE *out);

#endif /* SPLITVM_CONTROL_H */
