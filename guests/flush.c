// SPDX-License-Identifier: MIT
/*
 * Every CPU flushes one page through pc-testdev's port 0xe4 in a loop,
 * writing and reading it back around each flush, while the host may read
 * and write guest RAM: the monitor must survive, and so must the data.
 */
#include "guest.h"

/*
 * The flushed page (page=ADDR, default 4 MiB, clear of the image), as the
 * host sees it:
 *   0x000  u32  FLUSH_MAGIC once the loops run
 *   0x004  u32  stop: the host writes non-zero to end the loops
 *   0x008  u64  flushes done, per CPU
 *   0x400  u64  the word each CPU writes and reads back, per CPU
 *   0x800-0xfff the host's own: the guest never touches it
 */
#define FLUSH_MAGIC 0x48534c46u /* "FLSH" */
#define OFF_STOP 0x004
#define OFF_DONE 0x008
#define OFF_WORD 0x400
#define TESTDEV_FLUSH_PORT 0xe4

static uint64_t page, count, limit_us;
static volatile uint32_t finished;
static volatile uint64_t mismatches[SMP_MAX_CPUS];

static volatile uint64_t *page_u64(unsigned int off)
{
	return (volatile uint64_t *)(page + off);
}

/*
 * As kvm-unit-tests' eventinj does (flush_phys_addr()): the page's address
 * to port 0xe4, so KVM forgets its mapping; then the page is read back,
 * which faults it in again. The word written just before must be there.
 */
static void flush_loop(unsigned int cpu)
{
	volatile uint32_t *stop = (volatile uint32_t *)(page + OFF_STOP);
	volatile uint64_t *done = page_u64(OFF_DONE + 8 * cpu);
	volatile uint64_t *word = page_u64(OFF_WORD + 8 * cpu);
	uint64_t end = now_us() + limit_us, n;

	for (n = 0; n < count && !*stop; n++) {
		uint64_t v = (uint64_t)cpu << 56 | n;

		*word = v;
		outl(TESTDEV_FLUSH_PORT, (uint32_t)(page + 8 * cpu));
		if (*word != v)
			mismatches[cpu]++;
		*done = n + 1;
		/* The clock only now and then: rdtsc is interpreted too. */
		if (!(n & 63) && now_us() > end)
			break;
	}
	atomic_inc(&finished);
}

static void ap_main(unsigned int cpu)
{
	flush_loop(cpu);
}

int guest_main(const struct guest_boot *boot)
{
	unsigned int n, up;
	uint64_t total = 0, bad = 0;
	bool all_flushed = true, ended;

	if (!interrupts_init(lapic_mode_from_cmdline()))
		return report_summary();
	page = cmdline_u64("page", 4 * MiB);
	count = cmdline_u64("count", 2000);
	limit_us = cmdline_u64("ms", 20000) * 1000;
	n = smp_cpu_count();
	if (page & 0xfff || page < (uintptr_t)_kernel_end ||
	    page + 4096 > 0xffffffffull) {
		reportf(false, "page=0x%lx is a page above the image (0x%lx)",
			page, (uint64_t)(uintptr_t)_kernel_end);
		return report_summary();
	}
	printf("flush: %u CPUs flush page 0x%lx up to %lu times each\n", n,
	       page, count);
	for (unsigned int off = 0; off < 0x800; off += 8)
		*page_u64(off) = 0;
	*(volatile uint32_t *)page = FLUSH_MAGIC;

	up = smp_boot_aps(n, ap_main, 0);
	reportf(up == n, "%u of %u CPUs up", up, n);
	flush_loop(0);
	/* Each loop ends by its count, the host's stop or the time limit. */
	ended = wait_until(finished >= up, limit_us / 1000 + 5000);
	reportf(ended, "every CPU's loop ended (%u of %u)", finished, up);
	for (unsigned int c = 0; c < up && c < SMP_MAX_CPUS; c++) {
		uint64_t d = *page_u64(OFF_DONE + 8 * c);

		printf("  CPU %u: %lu flushes, %lu mismatches\n", c, d,
		       mismatches[c]);
		total += d;
		bad += mismatches[c];
		if (!d)
			all_flushed = false;
	}
	reportf(all_flushed, "every CPU flushed the page (%lu flushes)", total);
	reportf(!bad,
		"every word a CPU wrote read back after its flush "
		"(%lu mismatches)",
		bad);
	return report_summary();
}
