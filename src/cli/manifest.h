/* SPDX-License-Identifier: MIT */
/*
 * The suite manifest (docs/suite.md): an INI file, one [section] a test
 * and an optional [defaults], parsed with libinih. The reader fills a
 * struct suite; anything wrong is one line naming the file and the line.
 */
#ifndef SPLITVM_CLI_MANIFEST_H
#define SPLITVM_CLI_MANIFEST_H

#include <stddef.h>

#include "suite.h"

/*
 * Reads the manifest at path and appends its entries to s. Paths in it
 * are taken relative to the manifest's directory. Every value is checked
 * here (files exist, numbers in range, --cpu specs and regular
 * expressions valid), so that a suite that starts has no bad input left.
 * Returns 0, or -1 with err holding one line: "PATH:LINE: problem" (or
 * "PATH: problem" for the file as a whole). s keeps what was read.
 */
int manifest_read(const char *path, struct suite *s, char *err,
		  size_t err_size);

/*
 * Sets one manifest key (docs/suite.md) of entry e from value, with the
 * checks manifest_read() makes: another reader (kut.c) fills entries
 * through it. Relative paths are taken as they are. A key such as
 * module or device adds to what e has. Returns 0, or -1 with err holding
 * the problem ("cpu 'xyz': ...").
 */
int manifest_entry_set(struct suite_entry *e, const char *key,
		       const char *value, char *err, size_t err_size);

#endif /* SPLITVM_CLI_MANIFEST_H */
