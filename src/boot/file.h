/* SPDX-License-Identifier: MIT */
/* Private copies of the files a user names (kernel, initrd, modules). */
#ifndef SPLITVM_FILE_H
#define SPLITVM_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

/* A file's bytes as splitvm read them, in memory of its own. */
struct mapped_file {
	const uint8_t *data;
	size_t size;
};

/*
 * Reads a regular file into a private, read-only anonymous mapping (not
 * a mapping of the file: see file.c). what names it in the error line
 * ("kernel", "initrd", "module 2"). An empty file maps as size 0.
 *
 * The copy is the file as it was at one moment: a file truncated,
 * rewritten or appended to while it is read is refused, never booted
 * torn. It costs its size in resident memory (the data, not a sparse
 * file's holes) until file_unmap().
 *
 * Returns 0, or -ENOENT, -EACCES, -EISDIR, -EINVAL (not a regular file),
 * -EFBIG (larger than max_size), -ESTALE (the file changed while it was
 * read; reading it again may succeed), -ENOMEM, or another open/read
 * errno.
 */
int file_map(const char *path, const char *what, size_t max_size,
	     struct mapped_file *ret, const struct logger *lg);
void file_unmap(struct mapped_file *f);

#endif /* SPLITVM_FILE_H */
