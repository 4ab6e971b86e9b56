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

/*
 * The flush relies on x86 page tables, which cannot express a page that
 * is writable but not readable (mmap(2): PROT_WRITE implies PROT_READ).
 */
#if !defined(__x86_64__) && !defined(__i386__)
#error "guest_mem_flush_page() needs x86's write-implies-read pages"
#endif

/*
 * kvm-unit-tests (eventinj.c's flush_phys_addr()) write a page's address
 * to pc-testdev's port 0xe4 so that KVM forgets its mapping of the page
 * and the guest's next access faults it in again, inside an event
 * delivery. QEMU gets there with mprotect(PROT_NONE) and back: every
 * mprotect() that changes the mapping's flags calls
 * mmu_notifier_invalidate_range_start() for the populated range it walks
 * (mm/mprotect.c, whatever the new PTE bits are), and KVM's notifier zaps
 * its mappings of that range. But while the page is PROT_NONE, any other
 * thread touching it faults: splitvm_mem_read()/splitvm_mem_write(),
 * which the API allows from any thread while the guest runs, killed the
 * embedding process with SIGSEGV; and a second vCPU's access to the page
 * failed in KVM's emulator, which then made it an MMIO access: writes
 * lost, reads of all ones (guests/flush.c saw ~50 in 100000 flushes).
 *
 * So the page goes write-only and back instead. The flags change, so the
 * notifier fires the same way (seen on the PVM hosts: a guest reading
 * the page at CPL3 takes the same page faults after each flush as with
 * PROT_NONE, none without a flush). And on x86 a write-only mapping is
 * still readable: its PTEs keep the present bit, and the fault handler
 * lets a read of a VM_WRITE mapping in (access_error() in
 * arch/x86/mm/fault.c). So no load or store of any thread, through
 * guest_mem_read()/guest_mem_write() or a guest_mem_ptr() pointer,
 * can fault during a flush, and no lock is needed on those paths. Two
 * vCPUs flushing one page at once need none either: a call that finds
 * the flags already changed does nothing, but then the other flush's
 * change back fires the notifier within this flush's time.
 * What still sees the missing VM_READ is get_user_pages() without
 * FOLL_WRITE, for the two system calls' time: process_vm_readv() of the
 * page, or a KVM read fault on it that misses the fast path (a page not
 * yet written); PROT_NONE failed every access. PROT_EXEC, a change that
 * would keep PROT_READ, is refused by the sandbox (src/core/sandbox.c); a
 * protection key would need the access rights of every thread's PKRU.
 */
int guest_mem_flush_page(const struct guest_mem *m, uint64_t gpa)
{
	void *page =
		guest_mem_ptr(m, gpa & ~(uint64_t)(HOST_PAGE - 1), HOST_PAGE);

	if (!page)
		return -EFAULT;
	if (mprotect(page, HOST_PAGE, PROT_WRITE) < 0)
		return -errno;
	/* Failing here leaves the page write-only: the host still has it. */
	if (mprotect(page, HOST_PAGE, PROT_READ | PROT_WRITE) < 0)
		return -errno;
	return 0;
}

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
