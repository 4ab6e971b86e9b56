/* SPDX-License-Identifier: MIT */
/* Guest RAM: one host mapping, split around the MMIO hole below 4 GiB. */
#ifndef SPLITVM_GUEST_MEM_H
#define SPLITVM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RAM below this address; the rest of RAM starts at 4 GiB. */
#define GUEST_MMIO_HOLE_START 0xc0000000ull
#define GUEST_HIGH_RAM_START 0x100000000ull

struct guest_mem {
	uint8_t *host;	   /* all RAM, contiguous in the host */
	uint64_t size;	   /* bytes of RAM */
	uint64_t low_size; /* RAM at GPA [0, low_size); the rest at 4 GiB */
	/*
	 * host is a private anonymous mapping, whose pages can be zeroed by
	 * dropping them (guest_mem_zero()). guest_mem_layout() clears it;
	 * whoever maps RAM that way sets it.
	 */
	bool discardable;
};

/* Sets the layout of size bytes of RAM mapped at host. */
void guest_mem_layout(struct guest_mem *m, uint8_t *host, uint64_t size);

/* Host pointer to [gpa, gpa + len) if it lies in one RAM range, else NULL. */
void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Copy to/from guest RAM. Returns 0 or -EFAULT (not all in RAM). */
int guest_mem_write(const struct guest_mem *m, uint64_t gpa, const void *src,
		    uint64_t len);
int guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *dst,
		   uint64_t len);

/*
 * Zeroes len bytes at p, a host pointer into m's RAM. Where m is
 * discardable, the whole pages of a large range are dropped rather than
 * written (MADV_DONTNEED): they read as zero and cost neither a page fault
 * now nor memory until the guest touches them. A kernel's .bss is the
 * case: most of it is never used by a test guest.
 */
void guest_mem_zero(const struct guest_mem *m, void *p, uint64_t len);

/*
 * Makes KVM drop its mapping of the 4 KiB page holding gpa (pc-testdev's
 * flush port 0xe4), so the guest's next access to it faults in KVM. The
 * host never loses access to the page meanwhile: any thread may read or
 * write guest RAM during a flush. Returns 0, -EFAULT (gpa not in RAM), or
 * mprotect()'s -errno (-ENOMEM: too many mappings).
 */
int guest_mem_flush_page(const struct guest_mem *m, uint64_t gpa);

/* End of RAM below the hole (exclusive): where low allocations must stop. */
static inline uint64_t guest_mem_low_end(const struct guest_mem *m)
{
	return m->low_size;
}

#endif /* SPLITVM_GUEST_MEM_H */
