// SPDX-License-Identifier: MIT
/* Guest RAM: translating guest-physical ranges to the host mapping. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "guest_mem.h"

void guest_mem_layout(struct guest_mem *m, uint8_t *host, uint64_t size)
{
	m->host = host;
	m->size = size;
	m->discardable = false;
	m->low_size = size < GUEST_MMIO_HOLE_START ? size
						   : GUEST_MMIO_HOLE_START;
}

void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	uint64_t high_size = m->size - m->low_size;

	if (gpa < m->low_size) {
		if (len > m->low_size - gpa)
			return NULL;
		return m->host + gpa;
	}
	if (gpa >= GUEST_HIGH_RAM_START &&
	    gpa - GUEST_HIGH_RAM_START < high_size) {
		uint64_t off = gpa - GUEST_HIGH_RAM_START;

		if (len > high_size - off)
			return NULL;
		return m->host + m->low_size + off;
	}
	return NULL;
}

int guest_mem_write(const struct guest_mem *m, uint64_t gpa, const void *src,
		    uint64_t len)
{
	void *p = guest_mem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

int guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *dst,
		   uint64_t len)
{
	const void *p = guest_mem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

/* Below this, a memset costs less than the madvise call. */
#define ZERO_BY_DISCARD_MIN (16 * 1024)
#define HOST_PAGE 4096u

void guest_mem_zero(const struct guest_mem *m, void *p, uint64_t len)
{
	uintptr_t start = (uintptr_t)p, end = start + len;
	uintptr_t first = (start + HOST_PAGE - 1) & ~(uintptr_t)(HOST_PAGE - 1);
	uintptr_t last = end & ~(uintptr_t)(HOST_PAGE - 1);

	if (m->discardable && last > first &&
	    last - first >= ZERO_BY_DISCARD_MIN &&
	    !madvise((void *)first, last - first, MADV_DONTNEED)) {
		memset(p, 0, first - start);
		memset((void *)last, 0, end - last);
		return;
	}
	memset(p, 0, len);
}
