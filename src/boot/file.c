// SPDX-License-Identifier: MIT
/* Private copies of user-named files, with one clear line on failure. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"

/*
 * Why a copy and not a mapping of the file: a MAP_PRIVATE page that was
 * never written is still the file's page. Truncate the file and touching
 * that page raises SIGBUS (a reset reloading from a truncated kernel died
 * with status 135; VMs starting while the file was rewritten did too);
 * rewrite it and a reset boots the new bytes, or a mix of old and new.
 * The bytes splitvm read are its own, as QEMU keeps the kernel, initrd
 * and option ROMs as ROM blobs that a system_reset copies back into RAM.
 */

/* Reads [from, to) of fd into buf + from. -ENODATA: the file ended first. */
static int read_range(int fd, uint8_t *buf, off_t from, off_t to)
{
	while (from < to) {
		ssize_t n = pread(fd, buf + from, (size_t)(to - from), from);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA; /* truncated under us */
		from += n;
	}
	return 0;
}

/*
 * A file with holes (st_blocks short of st_size): reads its data extents
 * only, since holes read as zeros and the copy starts zeroed. An
 * unrecognised 100 GB sparse image then costs no read and no memory but
 * the loader's look at its first MiB (the zero page), as with a mapping.
 */
static int read_extents(int fd, uint8_t *buf, off_t size)
{
	off_t data = 0, hole;
	int r;

	while (data < size) {
		data = lseek(fd, data, SEEK_DATA);
		if (data < 0)
			/* ENXIO: no data from here to the end. */
			return errno == ENXIO ? 0 : -errno;
		if (data >= size)
			return 0; /* grown under us: fstat() will say */
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			return errno == ENXIO ? -ENODATA : -errno;
		if (hole > size)
			hole = size;
		r = read_range(fd, buf, data, hole);
		if (r)
			return r;
		data = hole;
	}
	return 0;
}

/*
 * The same version of the file as fstat() saw before the read: a
 * truncation, a rewrite or an append during it changes the size or the
 * modification time, and ctime as well. Since Linux 6.13, ext4, xfs,
 * btrfs and tmpfs stamp the first change after an fstat() with a
 * fine-grained time, so a write within the timer tick of the one before
 * is seen too; elsewhere an in-place rewrite to the same size within one
 * tick can go unseen. A writer that stops halfway and stays stopped
 * leaves a consistent prefix, which the loaders refuse unless it holds
 * all they load.
 */
static bool same_version(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Fewer blocks than bytes: holes, or at least a file system that packs. */
static bool is_sparse(const struct stat *st)
{
	return (uint64_t)st->st_blocks * 512 < (uint64_t)st->st_size;
}

/*
 * Fills buf (st->st_size bytes, zeroed) from fd, once: one pread() for
 * the usual dense file. -ESTALE if the file changed while it was read.
 */
static int read_copy(int fd, const struct stat *st, uint8_t *buf)
{
	struct stat after;
	int r = -EINVAL;

	if (is_sparse(st))
		r = read_extents(fd, buf, st->st_size);
	/* EINVAL: no SEEK_DATA here; read it all. */
	if (r == -EINVAL)
		r = read_range(fd, buf, 0, st->st_size);
	if (r == -ENODATA)
		return -ESTALE;
	if (r)
		return r;
	if (fstat(fd, &after) < 0)
		return -errno;
	return same_version(st, &after) ? 0 : -ESTALE;
}

int file_map(const char *path, const char *what, size_t max_size,
	     struct mapped_file *ret, const struct logger *lg)
{
	struct stat st;
	uint8_t *p = NULL;
	size_t size = 0;
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
		/*
		 * Anonymous memory, reserved lazily as guest RAM is (a sparse
		 * image's holes are never touched), read-only once filled:
		 * what a reset loads again can only be what was read. A dense
		 * file's pages are all written: populated in one go, which
		 * here costs ~0.8 us a page against ~1.2 faulted one by one
		 * (a 180 KiB test guest: ~35 us, ~50).
		 */
		size = (size_t)st.st_size;
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
				 (is_sparse(&st) ? 0 : MAP_POPULATE),
			 -1, 0);
		if (p == MAP_FAILED) {
			err = -errno;
			p = NULL;
			log_error(lg,
				  "%s: no memory for the %zu bytes of '%s': %s",
				  what, size, path, strerror(-err));
		} else {
			err = read_copy(fd, &st, p);
			if (err == -ESTALE)
				log_error(lg,
					  "%s: '%s' changed while splitvm "
					  "read it",
					  what, path);
			else if (err)
				log_error(lg, "%s: cannot read '%s': %s", what,
					  path, strerror(-err));
			else
				mprotect(p, size, PROT_READ);
		}
	}
	close(fd);
	if (err && p)
		munmap(p, size);
	else if (!err)
		*ret = (struct mapped_file){p, p ? size : 0};
	return err;
}

void file_unmap(struct mapped_file *f)
{
	if (f->data)
		munmap((void *)f->data, f->size);
	*f = (struct mapped_file){NULL, 0};
}
