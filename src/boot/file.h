/* SPDX-License-Identifier: MIT */
/* Read-only mappings of the files a user names (kernel, initrd, modules). */
#ifndef SPLITVM_FILE_H
#define SPLITVM_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

struct mapped_file {
	const uint8_t *data;
	size_t size;
};

/*
 * Maps a regular file read-only. what names it in the error line
 * ("kernel", "initrd", "module 2"). An empty file maps as size 0.
 * Returns 0, or -ENOENT, -EACCES, -EISDIR, -EINVAL (not a regular file),
 * -EFBIG (larger than max_size), or another open/mmap errno.
 */
int file_map(const char *path, const char *what, size_t max_size,
	     struct mapped_file *ret, const struct logger *lg);
void file_unmap(struct mapped_file *f);
/*
 * Drops the file's pages from this process's memory, keeping the mapping:
 * they stay in the page cache and come back if read again (a reset loads
 * the kernel again). A booted kernel and initrd then cost the monitor no
 * resident memory.
 */
void file_release(const struct mapped_file *f);

#endif /* SPLITVM_FILE_H */
