/* SPDX-License-Identifier: MIT */
/*
 * --result-json: a file that holds one valid JSON document however the run
 * ends, with a guest's verdict, a monitor error, a signal or a crash.
 */
#ifndef SPLITVM_RESULT_H
#define SPLITVM_RESULT_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

struct result_file {
	/* A regular file is written beside itself and renamed into place:
	 * target is its path, temp the temporary's. Anything else
	 * (/dev/stdout, a FIFO with a reader, /dev/null) is written as it
	 * is: both NULL. */
	char *target, *temp;
	FILE *out;	/* where the monitor writes the document */
	int fd;		/* out's descriptor: the keeper's copy survives it */
	int keeper_fd;	/* in the monitor: the pipe to the keeper, or -1 */
};

/*
 * Takes --result-json's path before anything runs: checks that it can be
 * written (a FIFO nobody reads is refused at once, never waited on) and,
 * for a regular file, creates the temporary beside it. The file itself is
 * left as it was until the end. Returns 0 or a negative errno.
 */
int result_open(struct result_file *rf, const char *path);

/*
 * Closes rf. Before result_keep(), nothing was written (the command line
 * was refused): the temporary goes and the file stays as it was. In the
 * monitor, what is left is the keeper's to do.
 */
void result_close(struct result_file *rf);

/*
 * Forks the keeper: a small unconfined process that outlives the monitor.
 * The monitor (the child) returns 0 and runs; the keeper (the process the
 * caller started, so its pid and its status are what the caller sees)
 * passes SIGINT, SIGTERM and SIGHUP on, waits for the monitor, puts the
 * document in place, and exits with the monitor's status. When the monitor
 * ends without a document (an error before any verdict, a crash, a kill),
 * the keeper writes one itself: outcome "error" (or "stopped" for 130), the
 * status and the last reason the monitor gave. A monitor killed by a signal
 * gives status 126. Returns -errno, in the caller, if no keeper could start.
 */
int result_keep(struct result_file *rf);

/*
 * In the monitor: the one-line reason the run is failing, kept by the
 * keeper for its document. Async-signal-safe; long lines are cut.
 */
void result_reason(const struct result_file *rf, const char *line);

/*
 * In the monitor, once the document is written to rf->out: closes it and
 * tells the keeper it is complete. Returns 0 or a negative errno.
 */
int result_done(struct result_file *rf);

/* Writes s as the body of a JSON string: quote, backslash and control
 * characters escaped (RFC 8259 7). */
void result_json_string(FILE *f, const char *s);

#endif /* SPLITVM_RESULT_H */
