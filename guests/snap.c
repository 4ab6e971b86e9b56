// SPDX-License-Identifier: MIT
/*
 * A computation whose result depends on every step it took and on what
 * RAM held: the guest of the snapshot tests (tests/integration/
 * test-snapshot.c, tests/cli/test-snapshot.sh). It uses no timer and no
 * interrupt (it masks the PICs), so its result is the same however often
 * the host pauses it, snapshots it and restores it in between: any state
 * a snapshot lost or a restore got wrong (a page, a register) changes the
 * checksum it prints.
 *
 * Arguments: rounds=N (default 20000), pages=P (default 32, at most 1024)
 * of RAM it works in, from base=ADDR (default 8 MiB). Each round mixes one
 * word of one page, chosen by the checksum so far, into the checksum and
 * writes the result back. Word 0 of the first page counts the rounds
 * done, for the host to watch. With snap_at=R it says so and asks for a
 * snapshot through the snapshot port (0x8910) before round R: a VM
 * restored from that snapshot goes on from there without saying it
 * again. With fill=M each round also mixes in one word of the M MiB at 32
 * MiB (at most 64), which it never writes: data the host put there (zero
 * otherwise), and that forks of its snapshot share. At the end it prints
 * "snap: checksum 0x..." and exits with 0; with quiet=1 it only exits
 * (bench/run's restore figure: the UART's pace is not the restore's).
 */
#include "guest.h"

#define SNAPSHOT_PORT 0x8910

#define FILL_BASE (32 * MiB)

struct snap_args {
	uint64_t rounds, pages, base, snap_at, fill, quiet;
};

static bool snap_args(struct snap_args *a)
{
	const char *cmdline = guest_cmdline();

	a->rounds = 20000;
	a->pages = 32;
	a->base = 8 * MiB;
	a->snap_at = UINT64_MAX;
	cmdline_get_u64(cmdline, "snap_at", &a->snap_at);
	a->fill = 0;
	cmdline_get_u64(cmdline, "fill", &a->fill);
	a->quiet = 0;
	cmdline_get_u64(cmdline, "quiet", &a->quiet);
	cmdline_get_u64(cmdline, "rounds", &a->rounds);
	cmdline_get_u64(cmdline, "pages", &a->pages);
	cmdline_get_u64(cmdline, "base", &a->base);
	if (a->fill > 64 || (a->fill && a->base + a->pages * 4096 > FILL_BASE)) {
		printf("snap: bad fill=%lu\n", a->fill);
		return false;
	}
	if (!a->pages || a->pages > 1024 || a->base & 0xfff ||
	    a->base < (uintptr_t)_kernel_end ||
	    a->base + a->pages * 4096 > 0xffffffffull) {
		printf("snap: bad pages=%lu or base=0x%lx\n", a->pages,
		       a->base);
		return false;
	}
	return true;
}

/* One step of a 64-bit mixing function (splitmix64's finalizer). */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

int guest_main(const struct guest_boot *boot)
{
	struct snap_args a;
	volatile uint64_t *done;
	const volatile uint64_t *fill;
	uint64_t sum = 0x736e6170ull, fill_words;

	if (!snap_args(&a))
		return GUEST_EXIT_USAGE;
	/* No timer reaches it: with KVM's own chips a snapshot needs IRQ0
	 * masked (docs/snapshots.md); OCW1 masks all of both 8259As. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	done = (volatile uint64_t *)a.base;
	*done = 0;
	fill = (const volatile uint64_t *)FILL_BASE;
	fill_words = a.fill * MiB / 8;
	for (uint64_t r = 0; r < a.rounds; r++) {
		uint64_t page = sum % a.pages;
		uint64_t word = 1 + (sum >> 32) % 511;
		volatile uint64_t *w =
			(volatile uint64_t *)(a.base + page * 4096 + word * 8);

		if (r == a.snap_at) {
			printf("snap: snapshot point at round %lu\n", r);
			outl(SNAPSHOT_PORT, (uint32_t)r);
		}
		sum = mix(sum ^ *w ^ r ^ (fill_words ? fill[sum % fill_words] : 0));
		*w = sum;
		*done = r + 1;
	}
	if (!a.quiet)
		printf("snap: checksum 0x%016lx after %lu rounds\n", sum,
		       a.rounds);
	return 0;
}
