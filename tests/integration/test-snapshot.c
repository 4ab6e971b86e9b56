// SPDX-License-Identifier: MIT
/*
 * Snapshots through the public API (include/splitvm.h, "Snapshots"): a
 * guest whose result depends on every step it took and on its RAM
 * (guests/snap.c) is snapshotted mid-run and put back, in place and in a
 * new VM, and must print the checksum an uninterrupted run prints. Needs
 * /dev/kvm; skips (77) without.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "splitvm.h"
#include "unit.h"

#define SNAP_BASE 0x800000ull /* guests/snap.c's base= default */

#if defined(__SANITIZE_ADDRESS__)
#define ASAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN_BUILD 1
#endif
#endif
#ifndef ASAN_BUILD
#define ASAN_BUILD 0
#endif
#define SNAP_ROUNDS 20000

static const char *guest_path(const char *file)
{
	static char path[4096];
	const char *dir = getenv("SPLITVM_GUESTS");

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "guests", file);
	return path;
}

/* What a VM printed. */
struct output {
	pthread_mutex_t lock;
	char text[4096];
	size_t len;
};

static void on_console(void *userdata, const char *data, size_t len)
{
	struct output *o = userdata;

	pthread_mutex_lock(&o->lock);
	if (len > sizeof(o->text) - 1 - o->len)
		len = sizeof(o->text) - 1 - o->len;
	memcpy(o->text + o->len, data, len);
	o->len += len;
	o->text[o->len] = 0;
	pthread_mutex_unlock(&o->lock);
}

/* A configuration of guests/snap.c, its console going to out. */
static struct splitvm_config *snap_config(enum splitvm_irqchip mode,
					  unsigned int mib,
					  const char *cmdline,
					  struct output *out)
{
	struct splitvm_config *cfg;

	memset(out, 0, sizeof(*out));
	pthread_mutex_init(&out->lock, NULL);
	ck_assert_int_eq(splitvm_config_new(&cfg), 0);
	ck_assert_int_eq(splitvm_config_set_kernel(cfg, guest_path("snap.elf")),
			 0);
	ck_assert_int_eq(splitvm_config_set_cmdline(cfg, cmdline), 0);
	ck_assert_int_eq(splitvm_config_set_memory(cfg, (uint64_t)mib << 20),
			 0);
	ck_assert_int_eq(splitvm_config_set_irqchip(cfg, mode), 0);
	ck_assert_int_eq(splitvm_config_set_timeout(cfg, 60000), 0);
	ck_assert_int_eq(splitvm_config_set_console_handler(cfg, on_console,
							    out),
			 0);
	return cfg;
}

static struct splitvm *snap_vm(enum splitvm_irqchip mode, unsigned int mib,
			       struct output *out)
{
	char cmdline[64];
	struct splitvm_config *cfg;
	struct splitvm *vm;

	snprintf(cmdline, sizeof(cmdline), "rounds=%d", SNAP_ROUNDS);
	cfg = snap_config(mode, mib, cmdline, out);
	ck_assert_int_eq(splitvm_create(cfg, &vm), 0);
	splitvm_config_free(cfg);
	return vm;
}

/* The rounds the guest has done (word 0 of its first page). */
static uint64_t rounds_done(struct splitvm *vm)
{
	uint64_t n;

	ck_assert_int_eq(splitvm_mem_read(vm, SNAP_BASE, &n, sizeof(n)), 0);
	return n;
}

/* Lets vm run until it has done at least n rounds, then pauses it. */
static uint64_t run_to(struct splitvm *vm, uint64_t n)
{
	struct timespec tick = {0, 50000};
	uint64_t done;

	for (int i = 0; rounds_done(vm) < n; i++) {
		ck_assert_msg(i < 1200000, "the guest never reached round %lu",
			      (unsigned long)n);
		nanosleep(&tick, NULL);
	}
	ck_assert_int_eq(splitvm_pause(vm), 0);
	done = rounds_done(vm);
	ck_assert_uint_lt(done, SNAP_ROUNDS); /* paused before the end */
	return done;
}

/* Runs vm to its end: the guest's checksum line. */
static const char *finish(struct splitvm *vm, struct output *out)
{
	struct splitvm_result res;

	ck_assert_int_eq(splitvm_wait(vm, -1, &res), 0);
	ck_assert_msg(res.outcome == SPLITVM_OUTCOME_EXIT && !res.exit_code,
		      "outcome %s: %s", splitvm_outcome_name(res.outcome),
		      res.detail);
	ck_assert_ptr_nonnull(strstr(out->text, "snap: checksum 0x"));
	return strstr(out->text, "snap: checksum");
}

/* What an uninterrupted run prints. */
static void reference(enum splitvm_irqchip mode, char *line, size_t size)
{
	struct output out;
	struct splitvm *vm = snap_vm(mode, 64, &out);

	ck_assert_int_eq(splitvm_start(vm), 0);
	snprintf(line, size, "%s", finish(vm, &out));
	splitvm_destroy(vm);
}

static const enum splitvm_irqchip modes[] = {SPLITVM_IRQCHIP_SPLIT,
					     SPLITVM_IRQCHIP_KERNEL};

/*
 * Snapshot at one round, run on, pause later and restore in place: the
 * guest is back at the snapshot's round and ends as if never stopped.
 */
START_TEST(snapshot_restored_in_place)
{
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		char want[128];
		struct output out;
		struct splitvm_snapshot *snap;
		struct splitvm *vm;
		uint64_t at;

		reference(modes[m], want, sizeof(want));
		vm = snap_vm(modes[m], 64, &out);
		ck_assert_int_eq(splitvm_start(vm), 0);
		at = run_to(vm, 4000);
		ck_assert_int_eq(splitvm_snapshot_take(vm, &snap), 0);
		ck_assert_int_eq(splitvm_resume(vm), 0);
		ck_assert_uint_gt(run_to(vm, at + 6000), at);
		ck_assert_int_eq(splitvm_snapshot_restore(vm, snap), 0);
		ck_assert_uint_eq(rounds_done(vm), at);
		ck_assert_int_eq(splitvm_resume(vm), 0);
		ck_assert_str_eq(finish(vm, &out), want);
		splitvm_destroy(vm);
		splitvm_snapshot_free(snap);
	}
}
END_TEST

/*
 * Through a file: splitvm_snapshot_save(), then splitvm_create() of a
 * configuration with splitvm_config_set_restore(), which ends as an
 * uninterrupted run does; bytes that are no snapshot make the create
 * fail.
 */
START_TEST(snapshot_created_from_a_file)
{
	char want[128], path[] = "/tmp/test-snapshot-XXXXXX", cmdline[64];
	struct output out, out2;
	struct splitvm_config *cfg;
	struct splitvm *vm;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	reference(SPLITVM_IRQCHIP_SPLIT, want, sizeof(want));
	vm = snap_vm(SPLITVM_IRQCHIP_SPLIT, 64, &out);
	ck_assert_int_eq(splitvm_start(vm), 0);
	run_to(vm, 6000);
	ck_assert_int_eq(splitvm_snapshot_save(vm, path), 0);
	splitvm_destroy(vm);

	snprintf(cmdline, sizeof(cmdline), "rounds=%d", SNAP_ROUNDS);
	cfg = snap_config(SPLITVM_IRQCHIP_SPLIT, 64, cmdline, &out2);
	ck_assert_int_eq(splitvm_config_set_restore(cfg, ""), -EINVAL);
	ck_assert_int_eq(splitvm_config_set_restore(cfg, path), 0);
	ck_assert_int_eq(splitvm_create(cfg, &vm), 0);
	ck_assert_uint_ge(rounds_done(vm), 6000);
	ck_assert_int_eq(splitvm_start(vm), 0);
	ck_assert_str_eq(finish(vm, &out2), want);
	splitvm_destroy(vm);
	/* The file cut short: not a snapshot any more. */
	ck_assert_int_eq(truncate(path, 1000), 0);
	vm = (struct splitvm *)1;
	ck_assert_int_eq(splitvm_create(cfg, &vm), -EINVAL);
	ck_assert_ptr_null(vm);
	splitvm_config_free(cfg);
	unlink(path);
}
END_TEST

/*
 * A snapshot outlives its VM and is restored into a new one, not yet
 * started, which then ends as the first would have.
 */
START_TEST(snapshot_restored_in_a_new_vm)
{
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		char want[128];
		struct output out, out2;
		struct splitvm_snapshot *snap;
		struct splitvm *vm;
		uint64_t at;

		reference(modes[m], want, sizeof(want));
		vm = snap_vm(modes[m], 64, &out);
		ck_assert_int_eq(splitvm_start(vm), 0);
		at = run_to(vm, 5000);
		ck_assert_int_eq(splitvm_snapshot_take(vm, &snap), 0);
		splitvm_destroy(vm);

		vm = snap_vm(modes[m], 64, &out2);
		ck_assert_int_eq(splitvm_snapshot_restore(vm, snap), 0);
		ck_assert_uint_eq(rounds_done(vm), at);
		ck_assert_int_eq(splitvm_start(vm), 0);
		ck_assert_str_eq(finish(vm, &out2), want);
		splitvm_destroy(vm);
		splitvm_snapshot_free(snap);
	}
}
END_TEST

/* A "Key:   N kB" line of a /proc/self file, in KiB. */
static long proc_kib(const char *file, const char *key)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen(file, "r");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			kib = strtol(line + strlen(key), NULL, 10);
	fclose(f);
	return kib;
}

/* Resident memory of this process (VmRSS). */
static long rss_kib(void)
{
	return proc_kib("/proc/self/status", "VmRSS:");
}

static unsigned int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned int n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/*
 * The loop a fuzzer runs, 10,000 times: run a little (the guest dirties a
 * few pages), pause, restore. Every time the guest is back at the same
 * round; no descriptor and no memory is left behind (after a first
 * thousand that settle the allocator); the run then ends as it should.
 */
START_TEST(snapshot_reset_loop)
{
	char want[128];
	struct output out;
	struct splitvm_snapshot *snap;
	struct splitvm *vm;
	unsigned int fds;
	long rss = 0;
	uint64_t at;

	reference(SPLITVM_IRQCHIP_SPLIT, want, sizeof(want));
	vm = snap_vm(SPLITVM_IRQCHIP_SPLIT, 64, &out);
	ck_assert_int_eq(splitvm_start(vm), 0);
	at = run_to(vm, 2000);
	ck_assert_int_eq(splitvm_snapshot_take(vm, &snap), 0);
	fds = open_fds();
	for (int i = 0; i < 10000; i++) {
		if (i == 1000)
			rss = rss_kib();
		ck_assert_int_eq(splitvm_resume(vm), 0);
		run_to(vm, at + 20);
		ck_assert_int_eq(splitvm_snapshot_restore(vm, snap), 0);
		ck_assert_uint_eq(rounds_done(vm), at);
	}
	ck_assert_uint_eq(open_fds(), fds);
	/* Under ASan freed memory waits in its quarantine (256 MiB) and RSS
	 * grows by design; LeakSanitizer checks for leaks at exit instead. */
	ck_assert_msg(ASAN_BUILD || rss_kib() - rss < 1024,
		      "RSS grew from %ld to %ld KiB", rss, rss_kib());
	ck_assert_int_eq(splitvm_resume(vm), 0);
	ck_assert_str_eq(finish(vm, &out), want);
	splitvm_destroy(vm);
	splitvm_snapshot_free(snap);
}
END_TEST

/* Proportional set size of this process (smaps_rollup's Pss): a page
 * mapped by N VMs counts 1/N in each. */
static long pss_kib(void)
{
	return proc_kib("/proc/self/smaps_rollup", "Pss:");
}

/* 16 MiB of data the guest reads and never writes, put there by the
 * host: what the forks of its snapshot share. */
static void fill(struct splitvm *vm)
{
	static uint64_t chunk[8192];

	for (uint64_t at = 0; at < (16ull << 20); at += sizeof(chunk)) {
		for (size_t i = 0; i < 8192; i++)
			chunk[i] = (at / 8 + i) * 0x9e3779b97f4a7c15ull;
		ck_assert_int_eq(splitvm_mem_write(vm, (32ull << 20) + at,
						   chunk, sizeof(chunk)),
				 0);
	}
}

/*
 * A hundred forks of one snapshot, all at once: each runs to the checksum
 * of an uninterrupted run, and the 16 MiB they read and never write is
 * shared: together they add far less than a copy each (Pss).
 */
START_TEST(snapshot_forks_share_memory)
{
	enum { FORKS = 100 };
	static const char cmdline[] = "rounds=1500 fill=16";
	static struct output outs[FORKS];
	static struct splitvm *forks[FORKS];
	struct splitvm_snapshot *snap;
	struct splitvm_config *cfg;
	struct output out;
	struct splitvm *vm;
	char want[128];
	uint64_t at;
	long before;

	cfg = snap_config(SPLITVM_IRQCHIP_SPLIT, 64, cmdline, &out);
	ck_assert_int_eq(splitvm_create(cfg, &vm), 0);
	fill(vm);
	ck_assert_int_eq(splitvm_start(vm), 0);
	snprintf(want, sizeof(want), "%s", finish(vm, &out));
	splitvm_destroy(vm);
	splitvm_config_free(cfg);

	cfg = snap_config(SPLITVM_IRQCHIP_SPLIT, 64, cmdline, &out);
	ck_assert_int_eq(splitvm_create(cfg, &vm), 0);
	fill(vm);
	ck_assert_int_eq(splitvm_start(vm), 0);
	at = run_to(vm, 500);
	ck_assert_int_eq(splitvm_snapshot_take(vm, &snap), 0);
	splitvm_destroy(vm);
	/* Another memory size cannot map the image: refused up front. */
	ck_assert_int_eq(splitvm_config_set_memory(cfg, 32ull << 20), 0);
	ck_assert_int_eq(splitvm_fork(cfg, snap, &vm), -EINVAL);
	ck_assert_int_eq(splitvm_config_set_memory(cfg, 64ull << 20), 0);

	before = pss_kib();
	for (int i = 0; i < FORKS; i++) {
		memset(&outs[i], 0, sizeof(outs[i]));
		pthread_mutex_init(&outs[i].lock, NULL);
		ck_assert_int_eq(splitvm_config_set_console_handler(
					 cfg, on_console, &outs[i]),
				 0);
		ck_assert_int_eq(splitvm_fork(cfg, snap, &forks[i]), 0);
		ck_assert_uint_eq(rounds_done(forks[i]), at);
		ck_assert_int_eq(splitvm_start(forks[i]), 0);
	}
	for (int i = 0; i < FORKS; i++)
		ck_assert_str_eq(finish(forks[i], &outs[i]), want);
	/* Unshared, 100 copies of 16 MiB would be 1600 MiB. */
	ck_assert_msg(pss_kib() - before < FORKS * 16 * 1024 / 8,
		      "100 forks added %ld KiB", pss_kib() - before);
	for (int i = 0; i < FORKS; i++)
		splitvm_destroy(forks[i]);
	splitvm_snapshot_free(snap);
	splitvm_config_free(cfg);
}
END_TEST

/* What each call says in each state of a VM, and to a VM that differs. */
START_TEST(snapshot_refusals)
{
	struct output out, out2;
	struct splitvm_snapshot *snap = NULL;
	struct splitvm_result res;
	struct splitvm *vm = snap_vm(SPLITVM_IRQCHIP_SPLIT, 64, &out);
	struct splitvm *other = snap_vm(SPLITVM_IRQCHIP_SPLIT, 32, &out2);

	ck_assert_int_eq(splitvm_snapshot_take(NULL, &snap), -EINVAL);
	ck_assert_int_eq(splitvm_snapshot_take(vm, NULL), -EINVAL);
	ck_assert_int_eq(splitvm_snapshot_restore(vm, NULL), -EINVAL);
	ck_assert_int_eq(splitvm_start(vm), 0);
	ck_assert_int_eq(splitvm_snapshot_take(vm, &snap), -EBUSY);
	run_to(vm, 1000);
	ck_assert_int_eq(splitvm_snapshot_take(vm, &snap), 0);
	/* Another memory size: refused, and that VM is left as it was. */
	ck_assert_int_eq(splitvm_snapshot_restore(other, snap), -EINVAL);
	ck_assert_int_eq(splitvm_start(other), 0);
	ck_assert_int_eq(splitvm_wait(other, -1, &res), 0);
	ck_assert_int_eq(res.outcome, SPLITVM_OUTCOME_EXIT);
	ck_assert_int_eq(splitvm_resume(vm), 0);
	finish(vm, &out);
	ck_assert_int_eq(splitvm_snapshot_restore(vm, snap), -ESRCH);
	ck_assert_int_eq(splitvm_snapshot_take(vm, &snap), -ESRCH);
	splitvm_destroy(other);
	splitvm_destroy(vm);
	splitvm_snapshot_free(snap);
	splitvm_snapshot_free(NULL);

	/* KVM's PIT cannot be put back mid-period: with IRQ0 open to the
	 * guest, as the machine starts, a kernel-mode snapshot is refused. */
	vm = snap_vm(SPLITVM_IRQCHIP_KERNEL, 64, &out);
	ck_assert_int_eq(splitvm_snapshot_take(vm, &snap), -ENOTSUP);
	splitvm_destroy(vm);
}
END_TEST

/* Everything the API reports of a VM: a VM and its restored copy must
 * report the same. */
struct reported {
	struct splitvm_ioapic_state ioapic;
	struct splitvm_pic_state pic;
	struct splitvm_pit_state pit;
	struct splitvm_stats stats;
	struct splitvm_irq_stats lines[24];
	struct splitvm_regs regs[4];
};

/*
 * The PIT is read last: reading it brings its counters to now, which
 * pulses IRQ0 for an edge that came due (devices/pit.c, pit_update()).
 * In a VM restored a moment ago that edge is one the original, read
 * before, had not yet reached; read first, it would land in the lines'
 * and the PIC's state of the copy only.
 */
static void report_of(struct splitvm *vm, unsigned int cpus,
		      struct reported *r)
{
	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(splitvm_get_ioapic_state(vm, &r->ioapic), 0);
	ck_assert_int_eq(splitvm_get_pic_state(vm, &r->pic), 0);
	ck_assert_int_eq(splitvm_get_stats(vm, &r->stats), 0);
	for (unsigned int i = 0; i < 24; i++)
		ck_assert_int_eq(splitvm_irq_stats(vm, i, &r->lines[i]), 0);
	for (unsigned int i = 0; i < cpus; i++)
		ck_assert_int_eq(splitvm_get_regs(vm, i, &r->regs[i]), 0);
	ck_assert_int_eq(splitvm_get_pit_state(vm, &r->pit), 0);
}

#define SAME(a, b, part)                                                       \
	ck_assert_msg(!memcmp(&(a)->part, &(b)->part, sizeof((a)->part)),      \
		      "%s: %s differs after the restore", guest, #part)

static void assert_same(const char *guest, const struct reported *a,
			const struct reported *b)
{
	for (unsigned int i = 0; i < 24; i++) {
		const struct splitvm_irq_stats *x = &a->lines[i],
					       *y = &b->lines[i];

		ck_assert_msg(!memcmp(x, y, sizeof(*x)),
			      "%s: line %u differs after the restore: asserts "
			      "%llu/%llu, deliveries %llu/%llu, eois %llu/%llu, "
			      "coalesced %llu/%llu, eois_recovered %llu/%llu",
			      guest, i, (unsigned long long)x->asserts,
			      (unsigned long long)y->asserts,
			      (unsigned long long)x->deliveries,
			      (unsigned long long)y->deliveries,
			      (unsigned long long)x->eois,
			      (unsigned long long)y->eois,
			      (unsigned long long)x->coalesced,
			      (unsigned long long)y->coalesced,
			      (unsigned long long)x->eois_recovered,
			      (unsigned long long)y->eois_recovered);
	}
	SAME(a, b, ioapic);
	SAME(a, b, pic);
	SAME(a, b, pit);
	SAME(a, b, stats);
	SAME(a, b, lines);
	SAME(a, b, regs);
}

static struct splitvm *chip_vm(const char *guest, unsigned int cpus,
			       const char *cmdline)
{
	struct splitvm_config *cfg;
	struct splitvm *vm;

	ck_assert_int_eq(splitvm_config_new(&cfg), 0);
	ck_assert_int_eq(splitvm_config_set_kernel(cfg, guest_path(guest)),
			 0);
	ck_assert_int_eq(splitvm_config_set_cmdline(cfg, cmdline), 0);
	ck_assert_int_eq(splitvm_config_set_cpus(cfg, cpus), 0);
	ck_assert_int_eq(splitvm_config_set_timeout(cfg, 60000), 0);
	ck_assert_int_eq(splitvm_create(cfg, &vm), 0);
	splitvm_config_free(cfg);
	return vm;
}

static void assert_same_end(const char *guest, struct splitvm *a,
			    struct splitvm *b)
{
	struct splitvm_result ra, rb;

	ck_assert_int_eq(splitvm_wait(a, -1, &ra), 0);
	ck_assert_int_eq(splitvm_wait(b, -1, &rb), 0);
	ck_assert_msg(ra.outcome == SPLITVM_OUTCOME_EXIT && !ra.exit_code,
		      "%s: %s: %s", guest, splitvm_outcome_name(ra.outcome),
		      ra.detail);
	ck_assert_msg(rb.outcome == ra.outcome && rb.exit_code == ra.exit_code,
		      "%s: the restored copy ended %s (%u), not %s (%u): %s",
		      guest, splitvm_outcome_name(rb.outcome), rb.exit_code,
		      splitvm_outcome_name(ra.outcome), ra.exit_code, rb.detail);
}

/*
 * A snapshot of a paused VM and what the API reports of it. A paused VM's
 * device timers still fire (the PIT raising IRQ0 into the PIC, say), so
 * the report is read before and after the snapshot until the two agree:
 * then it is the snapshot's.
 */
static struct splitvm_snapshot *snapshot_still(struct splitvm *vm,
					       unsigned int cpus,
					       struct reported *ret)
{
	static struct reported after;
	struct splitvm_snapshot *snap;

	for (int i = 0; i < 100; i++) {
		report_of(vm, cpus, ret);
		ck_assert_int_eq(splitvm_snapshot_take(vm, &snap), 0);
		report_of(vm, cpus, &after);
		if (!memcmp(ret, &after, sizeof(after)))
			return snap;
		splitvm_snapshot_free(snap);
	}
	ck_abort_msg("the paused VM's state never held still");
	return NULL;
}

/*
 * The interrupt guests, snapshotted in the middle of what they test: level
 * lines with Remote IRR set and EOIs due, a PIC input in service, the PIT
 * mid-count in mode 2, NMIs in flight, APs waiting for SIPI or coming up.
 * At each of a few moments a copy restored into a new VM reports every
 * chip state, counter and register the original does, and both then pass
 * (the guests check what they see of the chips: a state a restore got
 * wrong fails them).
 */
START_TEST(snapshot_at_hard_moments)
{
	static const struct {
		const char *guest, *cmdline;
		unsigned int cpus;
	} guests[] = {
		{"ioapic.elf", "", 2},
		{"pic.elf", "datasheet=1", 1},
		{"pit.elf", "datasheet=1", 1},
		{"nmi.elf", "", 1},
		{"smp.elf", "", 4},
	};
	static const long moments_us[] = {0, 3000, 40000, 150000};

	for (size_t g = 0; g < sizeof(guests) / sizeof(guests[0]); g++)
		for (size_t m = 0; m < sizeof(moments_us) / sizeof(*moments_us);
		     m++) {
			const char *guest = guests[g].guest;
			struct timespec t = {0, moments_us[m] * 1000};
			struct splitvm *a, *b;
			struct splitvm_snapshot *snap;
			struct reported ra, rb;

			a = chip_vm(guest, guests[g].cpus, guests[g].cmdline);
			b = chip_vm(guest, guests[g].cpus, guests[g].cmdline);
			/* Moment 0: before the start, every AP waits for SIPI. */
			if (moments_us[m]) {
				ck_assert_int_eq(splitvm_start(a), 0);
				nanosleep(&t, NULL);
				ck_assert_int_eq(splitvm_pause(a), 0);
			}
			snap = snapshot_still(a, guests[g].cpus, &ra);
			ck_assert_int_eq(splitvm_snapshot_restore(b, snap), 0);
			report_of(b, guests[g].cpus, &rb);
			assert_same(guest, &ra, &rb);
			ck_assert_int_eq(moments_us[m] ? splitvm_resume(a)
						       : splitvm_start(a),
					 0);
			ck_assert_int_eq(splitvm_start(b), 0);
			assert_same_end(guest, a, b);
			splitvm_snapshot_free(snap);
			splitvm_destroy(a);
			splitvm_destroy(b);
		}
}
END_TEST

UNIT_KVM_SUITE("snapshot",
	       snapshot_at_hard_moments,
	       snapshot_restored_in_place,
	       snapshot_restored_in_a_new_vm,
	       snapshot_created_from_a_file,
	       snapshot_reset_loop,
	       snapshot_forks_share_memory,
	       snapshot_refusals)
