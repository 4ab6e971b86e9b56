// SPDX-License-Identifier: MIT
/* Read-only mappings of user-named files, with one clear line on failure. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"

int file_map(const char *path, const char *what, size_t max_size,
	     struct mapped_file *ret, const struct logger *lg)
{
	struct stat st;
	void *p = NULL;
	int fd, err = 0;

	*ret = (struct mapped_file){NULL, 0};
	/* O_NONBLOCK: a FIFO (or a device) must not hold the open for ever;
	 * fstat() then refuses what is not a regular file. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		err = -errno;
		log_error(lg, "%s: cannot open '%s': %s", what, path,
			  strerror(-err));
		return err;
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		log_error(lg, "%s: cannot stat '%s': %s", what, path,
			  strerror(-err));
	} else if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		log_error(lg, "%s: '%s' is a directory", what, path);
	} else if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		log_error(lg, "%s: '%s' is not a regular file", what, path);
	} else if ((uint64_t)st.st_size > max_size) {
		err = -EFBIG;
		log_error(lg, "%s: '%s' is %lld bytes, more than the %zu allowed",
			  what, path, (long long)st.st_size, max_size);
	} else if (st.st_size > 0) {
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd,
			 0);
		if (p == MAP_FAILED) {
			err = -errno;
			p = NULL;
			log_error(lg, "%s: cannot map '%s': %s", what, path,
				  strerror(-err));
		}
	}
	close(fd);
	if (!err)
		*ret = (struct mapped_file){p, p ? (size_t)st.st_size : 0};
	return err;
}

void file_unmap(struct mapped_file *f)
{
	if (f->data)
		munmap((void *)f->data, f->size);
	*f = (struct mapped_file){NULL, 0};
}

void file_release(const struct mapped_file *f)
{
	/* A private file mapping never written: MADV_DONTNEED only unmaps. */
	if (f->data)
		madvise((void *)f->data, f->size, MADV_DONTNEED);
}
