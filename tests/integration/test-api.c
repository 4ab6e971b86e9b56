// SPDX-License-Identifier: MIT
/*
 * Integration tests of the public API's contract: what every call returns
 * in each state of a VM's life, the end descriptor, the MSI event, and
 * the calls a callback may not make. Needs /dev/kvm; skips (77) without.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "splitvm.h"
#include "unit.h"

static const char *guest_path(const char *file)
{
	static char path[4096];
	const char *dir = getenv("SPLITVM_GUESTS");

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "guests", file);
	return path;
}

/* A configuration for guest, bounded in time so a hang fails the test. */
static struct splitvm_config *config_new(const char *guest,
					 const char *cmdline)
{
	struct splitvm_config *cfg;

	ck_assert_int_eq(splitvm_config_new(&cfg), 0);
	ck_assert_int_eq(splitvm_config_set_kernel(cfg, guest_path(guest)),
			 0);
	if (cmdline)
		ck_assert_int_eq(splitvm_config_set_cmdline(cfg, cmdline), 0);
	ck_assert_int_eq(splitvm_config_set_timeout(cfg, 60000), 0);
	return cfg;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* poll() on fd for POLLIN: 1 readable, 0 not within timeout_ms. */
static int readable(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r = poll(&p, 1, timeout_ms);

	ck_assert_int_ge(r, 0);
	ck_assert(r == 0 || (p.revents & POLLIN));
	return r;
}

/*
 * Once a run has ended, every call that needs a running (or startable)
 * VM says -ESRCH; what reads what the run left (result, memory,
 * statistics, chip snapshots) still works; arguments are checked first.
 */
START_TEST(api_calls_after_the_end)
{
	struct splitvm_config *cfg = config_new("exitcode.elf", "exit=5");
	struct splitvm_result res, again;
	struct splitvm_regs regs;
	struct splitvm_stats st;
	struct splitvm_irq_stats ist;
	struct splitvm_ioapic_state io;
	struct splitvm_pic_state pic;
	struct splitvm_pit_state pit;
	struct splitvm *vm;
	uint8_t buf[8] = "ended!";

	ck_assert_int_eq(splitvm_config_set_cpus(cfg, 2), 0);
	ck_assert_int_eq(splitvm_create(cfg, &vm), 0);
	ck_assert_int_eq(splitvm_run(vm, &res), 0);
	ck_assert_int_eq(res.outcome, SPLITVM_OUTCOME_EXIT);
	ck_assert_uint_eq(res.exit_code, 5);

	/* The life cycle: started once, the result stays. */
	ck_assert_int_eq(splitvm_start(vm), -EALREADY);
	ck_assert_int_eq(splitvm_wait(vm, 0, &again), 0);
	ck_assert_int_eq(again.outcome, SPLITVM_OUTCOME_EXIT);
	ck_assert_int_eq(splitvm_run(vm, &again), 0);
	ck_assert_uint_eq(again.exit_code, 5);
	ck_assert_int_eq(splitvm_stop(vm), 0);
	ck_assert_int_eq(splitvm_wait(vm, -1, &again), 0);
	ck_assert_int_eq(again.outcome, SPLITVM_OUTCOME_EXIT);

	/* Control of the run: there is none left. */
	ck_assert_int_eq(splitvm_pause(vm), -ESRCH);
	ck_assert_int_eq(splitvm_resume(vm), -ESRCH);
	ck_assert_int_eq(splitvm_reset(vm), -ESRCH);
	ck_assert_int_eq(splitvm_wakeup(vm), -ESRCH);
	ck_assert_int_eq(splitvm_get_regs(vm, 0, &regs), -ESRCH);
	ck_assert_int_eq(splitvm_set_regs(vm, 0, &regs), -ESRCH);
	ck_assert_int_eq(splitvm_get_regs(vm, 2, &regs), -EINVAL);

	/* Interrupts: nobody would take them. */
	ck_assert_int_eq(splitvm_irq_set(vm, 4, 1), -ESRCH);
	ck_assert_int_eq(splitvm_irq_set(vm, 24, 1), -EINVAL);
	ck_assert_int_eq(splitvm_msi(vm, 0xfee00000, 0x30), -ESRCH);
	ck_assert_int_eq(splitvm_msi(vm, 0x1000, 0x30), -EINVAL);
	ck_assert_int_eq(splitvm_nmi(vm, 0), -ESRCH);
	ck_assert_int_eq(splitvm_nmi(vm, -1), -ESRCH);
	ck_assert_int_eq(splitvm_nmi(vm, 2), -EINVAL);
	ck_assert_int_eq(splitvm_init_cpu(vm, 1), -ESRCH);
	ck_assert_int_eq(splitvm_sipi(vm, 1, 0x10), -ESRCH);
	ck_assert_int_eq(splitvm_sipi(vm, 1, 0x100), -EINVAL);

	/* What the run left can still be read. */
	ck_assert_int_eq(splitvm_mem_write(vm, 0x7000, buf, sizeof(buf)), 0);
	ck_assert_int_eq(splitvm_mem_read(vm, 0x7000, buf, sizeof(buf)), 0);
	ck_assert_int_eq(splitvm_get_stats(vm, &st), 0);
	ck_assert_uint_gt(st.exits_io, 0);
	ck_assert_int_eq(splitvm_irq_stats(vm, 4, &ist), 0);
	ck_assert_int_eq(splitvm_get_ioapic_state(vm, &io), 0);
	ck_assert_uint_eq(io.pins, 24);
	ck_assert_int_eq(splitvm_get_pic_state(vm, &pic), 0);
	ck_assert_int_eq(splitvm_get_pit_state(vm, &pit), 0);
	ck_assert_int_ge(splitvm_fd(vm), 0);
	ck_assert_int_eq(readable(splitvm_fd(vm), 0), 1);

	splitvm_destroy(vm);
	splitvm_config_free(cfg);
}
END_TEST

/*
 * An event loop waits for the end with poll(): the VM's descriptor is
 * not readable before start nor while the guest runs, becomes readable
 * when the run ends (by the wall-clock limit, by the guest's own exit)
 * and stays so; splitvm_wait() then returns at once.
 */
START_TEST(api_fd_readable_when_the_run_ends)
{
	struct splitvm_config *cfg = config_new("hang.elf", NULL);
	struct splitvm_result res;
	struct splitvm *vm;
	uint64_t t0;
	int fd;

	ck_assert_int_eq(splitvm_fd(NULL), -EINVAL);
	ck_assert_int_eq(splitvm_config_set_timeout(cfg, 400), 0);
	ck_assert_int_eq(splitvm_create(cfg, &vm), 0);
	fd = splitvm_fd(vm);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(splitvm_fd(vm), fd);
	ck_assert_int_eq(readable(fd, 0), 0);
	t0 = now_ms();
	ck_assert_int_eq(splitvm_start(vm), 0);
	ck_assert_int_eq(readable(fd, 100), 0);
	ck_assert_int_eq(splitvm_wait(vm, 0, &res), -ETIMEDOUT);
	ck_assert_int_eq(readable(fd, 30000), 1);
	ck_assert_uint_ge(now_ms() - t0, 390);
	ck_assert_int_eq(splitvm_wait(vm, 0, &res), 0);
	ck_assert_int_eq(res.outcome, SPLITVM_OUTCOME_TIMEOUT);
	ck_assert_int_eq(readable(fd, 0), 1);
	splitvm_destroy(vm);
	splitvm_config_free(cfg);

	/* A guest that ends by itself, on two vCPUs. */
	cfg = config_new("exitcode.elf", "exit=9");
	ck_assert_int_eq(splitvm_config_set_cpus(cfg, 2), 0);
	ck_assert_int_eq(splitvm_create(cfg, &vm), 0);
	fd = splitvm_fd(vm);
	ck_assert_int_eq(splitvm_start(vm), 0);
	ck_assert_int_eq(readable(fd, 30000), 1);
	ck_assert_int_eq(splitvm_wait(vm, 0, &res), 0);
	ck_assert_int_eq(res.outcome, SPLITVM_OUTCOME_EXIT);
	ck_assert_uint_eq(res.exit_code, 9);
	splitvm_destroy(vm);
	splitvm_config_free(cfg);
}
END_TEST

/* The MSI events a handler saw. */
struct msi_events {
	pthread_mutex_t lock;
	unsigned int count, others;
	struct splitvm_event last;
	bool saw_vector[256];
};

static void on_msi_event(void *userdata, const struct splitvm_event *ev)
{
	struct msi_events *e = userdata;

	pthread_mutex_lock(&e->lock);
	if (ev->type == SPLITVM_EVENT_MSI) {
		e->count++;
		e->last = *ev;
		e->saw_vector[ev->vector & 0xff] = true;
	} else {
		e->others++;
	}
	pthread_mutex_unlock(&e->lock);
}

/*
 * Every MSI leaves an event, in both irqchip modes: the host's
 * (splitvm_msi(): address and data in value, destination in cpu, vector
 * in vector) and a PCI device's (edu's, raised by guests/pci.c).
 */
START_TEST(api_msi_events)
{
	ck_assert_str_eq(splitvm_event_name(SPLITVM_EVENT_MSI), "msi");
	ck_assert_str_eq(splitvm_event_name(SPLITVM_EVENT_TYPES), "unknown");
	for (int m = 0; m < 2; m++) {
		struct splitvm_config *cfg = config_new("hang.elf", NULL);
		struct msi_events e = {.lock = PTHREAD_MUTEX_INITIALIZER};
		struct splitvm_result res;
		struct splitvm *vm;

		ck_assert_int_eq(splitvm_config_set_irqchip(
					 cfg, m ? SPLITVM_IRQCHIP_KERNEL
						: SPLITVM_IRQCHIP_SPLIT),
				 0);
		ck_assert_int_eq(splitvm_config_set_cpus(cfg, 2), 0);
		ck_assert_int_eq(splitvm_config_set_event_handler(
					 cfg, 1u << SPLITVM_EVENT_MSI,
					 on_msi_event, &e),
				 0);
		ck_assert_int_eq(splitvm_create(cfg, &vm), 0);
		ck_assert_int_eq(splitvm_start(vm), 0);
		ck_assert_int_eq(splitvm_msi(vm, 0xfee01000, 0x4031), 0);
		ck_assert_int_eq(splitvm_msi(vm, 0x1000, 0x31), -EINVAL);
		pthread_mutex_lock(&e.lock);
		ck_assert_uint_eq(e.count, 1);
		ck_assert_uint_eq(e.others, 0);
		ck_assert_int_eq(e.last.type, SPLITVM_EVENT_MSI);
		ck_assert_int_eq(e.last.cpu, 1);
		ck_assert_int_eq(e.last.vector, 0x31);
		ck_assert_int_eq(e.last.line, -1);
		ck_assert_int_eq(e.last.level, -1);
		ck_assert_uint_eq(e.last.value, 0xfee0100000004031ull);
		pthread_mutex_unlock(&e.lock);
		ck_assert_int_eq(splitvm_stop(vm), 0);
		ck_assert_int_eq(splitvm_wait(vm, -1, &res), 0);
		splitvm_destroy(vm);
		splitvm_config_free(cfg);
	}

	/* A device's MSI: edu's, which guests/pci.c takes at 0x52. */
	struct splitvm_config *cfg = config_new("pci.elf", NULL);
	struct msi_events e = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct splitvm_result res;
	struct splitvm *vm;

	ck_assert_int_eq(splitvm_config_add_pci_device(cfg, "edu"), 0);
	ck_assert_int_eq(splitvm_config_set_event_handler(
				 cfg, 1u << SPLITVM_EVENT_MSI, on_msi_event,
				 &e),
			 0);
	ck_assert_int_eq(splitvm_create(cfg, &vm), 0);
	ck_assert_int_eq(splitvm_run(vm, &res), 0);
	ck_assert_int_eq(res.outcome, SPLITVM_OUTCOME_EXIT);
	ck_assert_uint_eq(res.exit_code, 0);
	ck_assert_uint_ge(e.count, 1);
	ck_assert(e.saw_vector[0x52]);
	ck_assert_uint_eq(e.last.value >> 52, 0xfee);
	splitvm_destroy(vm);
	splitvm_config_free(cfg);
}
END_TEST

/*
 * HLT never exits to the monitor: the in-kernel LAPIC (of both irqchip
 * modes) halts the vCPU in KVM. struct splitvm_stats has no HLT counter
 * that would always read 0; its slot stays reserved (0) so that the
 * layout, and programs built against it, do not change.
 */
_Static_assert(offsetof(struct splitvm_stats, reserved) == 5 * 8,
	       "the former exits_hlt slot");
_Static_assert(offsetof(struct splitvm_stats, vectors) == 11 * 8,
	       "struct splitvm_stats keeps its layout");

START_TEST(api_stats_of_a_halted_guest)
{
	for (int m = 0; m < 2; m++) {
		struct splitvm_config *cfg = config_new("hang.elf", NULL);
		struct splitvm_result res;
		struct splitvm_stats st;
		struct splitvm *vm;

		ck_assert_int_eq(splitvm_config_set_irqchip(
					 cfg, m ? SPLITVM_IRQCHIP_KERNEL
						: SPLITVM_IRQCHIP_SPLIT),
				 0);
		ck_assert_int_eq(splitvm_config_set_timeout(cfg, 300), 0);
		ck_assert_int_eq(splitvm_create(cfg, &vm), 0);
		ck_assert_int_eq(splitvm_run(vm, &res), 0);
		ck_assert_int_eq(res.outcome, SPLITVM_OUTCOME_TIMEOUT);
		ck_assert_int_eq(splitvm_get_stats(vm, &st), 0);
		ck_assert_uint_gt(st.exits_io, 0);
		ck_assert_uint_eq(st.reserved, 0);
		ck_assert_uint_eq(st.exits_other, 0);
		splitvm_destroy(vm);
		splitvm_config_free(cfg);
	}
}
END_TEST

/* What the blocking calls returned when a callback made them. */
struct reentry {
	struct splitvm *vm;
	pthread_mutex_t lock;
	bool done;
	int pause, reset, wakeup, wait, wait0, run;
	char thread[16];
};

static void try_blocking_calls(struct reentry *r)
{
	struct splitvm_result res;
	char name[16] = "";

	pthread_getname_np(pthread_self(), name, sizeof(name));
	r->pause = splitvm_pause(r->vm);
	r->reset = splitvm_reset(r->vm);
	r->wakeup = splitvm_wakeup(r->vm);
	r->wait0 = splitvm_wait(r->vm, 0, &res);
	r->wait = splitvm_wait(r->vm, -1, &res);
	r->run = splitvm_run(r->vm, &res);
	splitvm_destroy(r->vm); /* refused: the VM lives on */
	snprintf(r->thread, sizeof(r->thread), "%s", name);
	r->done = true;
}

static void console_reenters(void *userdata, const char *data, size_t len)
{
	struct reentry *r = userdata;

	pthread_mutex_lock(&r->lock);
	if (!r->done)
		try_blocking_calls(r);
	pthread_mutex_unlock(&r->lock);
}

/* The PIT's edges come from the I/O thread's timer. */
static void event_reenters(void *userdata, const struct splitvm_event *ev)
{
	struct reentry *r = userdata;
	char name[16] = "";

	pthread_getname_np(pthread_self(), name, sizeof(name));
	if (strcmp(name, "splitvm-io"))
		return;
	pthread_mutex_lock(&r->lock);
	if (!r->done)
		try_blocking_calls(r);
	pthread_mutex_unlock(&r->lock);
}

/*
 * A callback that calls what would wait for its own thread (pause, reset,
 * wakeup, wait, run, destroy) gets -EDEADLK at once, on a vCPU thread (the
 * console handler) and on the I/O thread (an event handler); destroy does
 * nothing there. The VM goes on and is stopped from outside as usual.
 */
START_TEST(api_blocking_calls_from_callbacks)
{
	for (int i = 0; i < 2; i++) {
		struct splitvm_config *cfg = config_new("hang.elf", NULL);
		struct reentry r = {.lock = PTHREAD_MUTEX_INITIALIZER};
		struct splitvm_result res;
		uint64_t t0 = now_ms();

		/* Before the fix, pause stalled until this limit. */
		ck_assert_int_eq(splitvm_config_set_timeout(cfg, 20000), 0);
		if (i == 0)
			ck_assert_int_eq(splitvm_config_set_console_handler(
						 cfg, console_reenters, &r),
					 0);
		else
			ck_assert_int_eq(splitvm_config_set_event_handler(
						 cfg, 1u << SPLITVM_EVENT_LINE,
						 event_reenters, &r),
					 0);
		ck_assert_int_eq(splitvm_create(cfg, &r.vm), 0);
		ck_assert_int_eq(splitvm_start(r.vm), 0);
		while (now_ms() - t0 < 30000) {
			bool done;

			pthread_mutex_lock(&r.lock);
			done = r.done;
			pthread_mutex_unlock(&r.lock);
			if (done)
				break;
			usleep(10000);
		}
		ck_assert(r.done);
		ck_assert_uint_lt(now_ms() - t0, 10000);
		ck_assert_str_eq(r.thread, i ? "splitvm-io" : "splitvm-vcpu0");
		ck_assert_int_eq(r.pause, -EDEADLK);
		ck_assert_int_eq(r.reset, -EDEADLK);
		ck_assert_int_eq(r.wakeup, -EDEADLK);
		ck_assert_int_eq(r.wait0, -EDEADLK);
		ck_assert_int_eq(r.wait, -EDEADLK);
		ck_assert_int_eq(r.run, -EDEADLK);
		/* The VM still runs, and obeys its host. */
		ck_assert_int_eq(splitvm_wait(r.vm, 0, &res), -ETIMEDOUT);
		ck_assert_int_eq(splitvm_pause(r.vm), 0);
		ck_assert_int_eq(splitvm_resume(r.vm), 0);
		ck_assert_int_eq(splitvm_stop(r.vm), 0);
		ck_assert_int_eq(splitvm_wait(r.vm, -1, &res), 0);
		ck_assert_int_eq(res.outcome, SPLITVM_OUTCOME_STOPPED);
		splitvm_destroy(r.vm);
		splitvm_config_free(cfg);
	}
}
END_TEST

/* What a console handler could do, confined or not. */
struct confined {
	struct splitvm *vm;
	bool done;
	int open_fd, open_errno;
	int irq_up, irq_down, msi, mem, stats, irq_stats, ioapic, pic, pit;
	int fd, stop;
};

static void console_confined(void *userdata, const char *data, size_t len)
{
	struct confined *c = userdata;
	struct splitvm_stats st;
	struct splitvm_irq_stats ist;
	struct splitvm_ioapic_state io;
	struct splitvm_pic_state pic;
	struct splitvm_pit_state pit;
	uint8_t buf[16];

	if (c->done)
		return;
	c->done = true;
	/* A call no role allows, in sanitizer builds too (they allow
	 * open(), which their runtime needs to report). */
	c->open_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	c->open_errno = errno;
	if (c->open_fd >= 0)
		close(c->open_fd);
	c->irq_up = splitvm_irq_set(c->vm, 5, 1);
	c->irq_down = splitvm_irq_set(c->vm, 5, 0);
	c->msi = splitvm_msi(c->vm, 0xfee00000, 0x31);
	c->mem = splitvm_mem_read(c->vm, 0x1000, buf, sizeof(buf));
	c->stats = splitvm_get_stats(c->vm, &st);
	c->irq_stats = splitvm_irq_stats(c->vm, 5, &ist);
	c->ioapic = splitvm_get_ioapic_state(c->vm, &io);
	c->pic = splitvm_get_pic_state(c->vm, &pic);
	c->pit = splitvm_get_pit_state(c->vm, &pit);
	c->fd = splitvm_fd(c->vm);
	c->stop = splitvm_stop(c->vm);
}

/*
 * The library never confines unless asked (the default is OFF: a
 * callback may open a file, and the embedding process never gets SIGSYS
 * behind its back). Under ERRNO, the action recommended for embedders, a
 * callback's socket() fails with EPERM, the process goes on, and the calls
 * the header lists for callbacks all work.
 */
START_TEST(api_sandbox_default_and_errno_callbacks)
{
	for (int i = 0; i < 2; i++) {
		struct splitvm_config *cfg = config_new("hang.elf", NULL);
		struct confined c = {.open_fd = -2};
		struct splitvm_result res;

		if (i)
			ck_assert_int_eq(splitvm_config_set_sandbox(
						 cfg, SPLITVM_SANDBOX_ERRNO),
					 0);
		ck_assert_int_eq(splitvm_config_set_console_handler(
					 cfg, console_confined, &c),
				 0);
		ck_assert_int_eq(splitvm_create(cfg, &c.vm), 0);
		ck_assert_int_eq(splitvm_run(c.vm, &res), 0);
		ck_assert_msg(res.outcome == SPLITVM_OUTCOME_STOPPED,
			      "outcome %s (%s)",
			      splitvm_outcome_name(res.outcome), res.detail);
		ck_assert(c.done);
		if (i) {
			ck_assert_int_eq(c.open_fd, -1);
			ck_assert_int_eq(c.open_errno, EPERM);
		} else {
			ck_assert_int_ge(c.open_fd, 0);
		}
		ck_assert_int_eq(c.irq_up, 0);
		ck_assert_int_eq(c.irq_down, 0);
		ck_assert_int_eq(c.msi, 0);
		ck_assert_int_eq(c.mem, 0);
		ck_assert_int_eq(c.stats, 0);
		ck_assert_int_eq(c.irq_stats, 0);
		ck_assert_int_eq(c.ioapic, 0);
		ck_assert_int_eq(c.pic, 0);
		ck_assert_int_eq(c.pit, 0);
		ck_assert_int_ge(c.fd, 0);
		ck_assert_int_eq(c.stop, 0);
		splitvm_destroy(c.vm);
		splitvm_config_free(cfg);
	}
}
END_TEST

/* What a confined thread gets for the calls the lists narrow. */
struct narrowed {
	bool done;
	int map_exec, protect_exec, map_data, kill_other, kill_own;
};

static void try_narrowed(struct narrowed *n)
{
	void *p;

	if (n->done)
		return;
	n->done = true;
	p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	n->map_exec = p == MAP_FAILED ? errno : 0;
	if (p != MAP_FAILED)
		munmap(p, 4096);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	n->map_data = p == MAP_FAILED ? errno : 0;
	if (p != MAP_FAILED) {
		n->protect_exec =
			mprotect(p, 4096, PROT_READ | PROT_EXEC) ? errno : 0;
		munmap(p, 4096);
	}
	/* Signal 0 only asks whether the call would be let through. */
	n->kill_other = syscall(SYS_tgkill, getppid(), getppid(), 0) ? errno
								      : 0;
	n->kill_own = syscall(SYS_tgkill, getpid(), gettid(), 0) ? errno : 0;
}

static void check_narrowed(const struct narrowed *n, const char *role)
{
	ck_assert_msg(n->done, "%s: never tried", role);
	ck_assert_msg(n->map_exec == EPERM && n->protect_exec == EPERM,
		      "%s: executable memory: mmap %d, mprotect %d", role,
		      n->map_exec, n->protect_exec);
	ck_assert_msg(n->map_data == 0, "%s: plain mmap %d", role,
		      n->map_data);
	ck_assert_msg(n->kill_other == EPERM && n->kill_own == 0,
		      "%s: tgkill another process %d, this one %d", role,
		      n->kill_other, n->kill_own);
}

static void console_narrowed(void *userdata, const char *data, size_t len)
{
	try_narrowed(userdata);
}

static void event_narrowed(void *userdata, const struct splitvm_event *ev)
{
	try_narrowed(userdata);
}

static void *control_narrowed(void *arg)
{
	if (splitvm_sandbox_control_thread(SPLITVM_SANDBOX_ERRNO) == 0)
		try_narrowed(arg);
	return NULL;
}

/*
 * Every role's filter (vCPU: a console handler; I/O: the PIT's line
 * events, raised by its timer on the I/O thread; control: a thread that
 * enters it) refuses executable memory and signals to other processes,
 * and lets the ordinary calls through.
 */
START_TEST(api_sandbox_narrows_memory_and_signals)
{
	struct splitvm_config *cfg = config_new("hang.elf", NULL);
	struct narrowed vcpu = {0}, io = {0}, control = {0};
	struct splitvm_result res;
	struct splitvm *vm;
	pthread_t t;

	ck_assert_int_eq(splitvm_config_set_sandbox(cfg, SPLITVM_SANDBOX_ERRNO),
			 0);
	ck_assert_int_eq(splitvm_config_set_console_handler(
				 cfg, console_narrowed, &vcpu),
			 0);
	ck_assert_int_eq(splitvm_config_set_event_handler(
				 cfg, 1u << SPLITVM_EVENT_LINE, event_narrowed,
				 &io),
			 0);
	ck_assert_int_eq(splitvm_config_set_timeout(cfg, 2000), 0);
	ck_assert_int_eq(splitvm_create(cfg, &vm), 0);
	ck_assert_int_eq(splitvm_run(vm, &res), 0);
	check_narrowed(&vcpu, "vCPU");
	check_narrowed(&io, "I/O");
	splitvm_destroy(vm);
	splitvm_config_free(cfg);
	ck_assert_int_eq(pthread_create(&t, NULL, control_narrowed, &control),
			 0);
	pthread_join(t, NULL);
	check_narrowed(&control, "control");
}
END_TEST

/* guests/flush.c's page (its layout is described there). */
#define FLUSH_PAGE 0x400000ull
#define FLUSH_MAGIC 0x48534c46u
#define FLUSH_OFF_STOP 0x004
#define FLUSH_OFF_DONE 0x008
#define FLUSH_OFF_HOST 0x800

/*
 * pc-testdev's page flush (a page's address written to port 0xe4, as
 * kvm-unit-tests' eventinj does) made the page PROT_NONE for a moment, and
 * splitvm_mem_read()/splitvm_mem_write() from another thread, which the
 * API allows while the guest runs, then died of SIGSEGV (issue #13: 2 runs
 * in 3). Both vCPUs of guests/flush.c flush one page in a loop while this
 * thread writes and reads back words in the page's host half, across its
 * upper edge and in the pages around it, and reads the whole page: every
 * value must come back, the process must live (Check reports a signal as
 * a failure), and the guest must find its own words intact after its
 * flushes. The loop runs for a second of flushes on both vCPUs, then
 * stops the guest through the page.
 */
START_TEST(api_mem_access_while_the_guest_flushes)
{
	struct splitvm_config *cfg =
		config_new("flush.elf", "page=0x400000 count=100000000");
	const uint64_t addrs[] = {
		FLUSH_PAGE + FLUSH_OFF_HOST, /* in the flushed page */
		FLUSH_PAGE + 0xff8,	     /* its last word */
		FLUSH_PAGE + 0xffc,	     /* across its upper edge */
		FLUSH_PAGE - 8,		     /* the page below */
		FLUSH_PAGE + 0x1000 + 0x80,  /* the page above */
	};
	static uint8_t page[4096];
	struct splitvm_result res;
	struct splitvm *vm;
	uint64_t t0, i, last_host = 0, done[2] = {0, 0};
	uint32_t magic = 0, stop = 1;

	ck_assert_int_eq(splitvm_config_set_cpus(cfg, 2), 0);
	ck_assert_int_eq(splitvm_create(cfg, &vm), 0);
	ck_assert_int_eq(splitvm_start(vm), 0);
	t0 = now_ms();
	for (i = 1;; i++) {
		/* No ck_assert in the hot loop: each one writes its place. */
		for (size_t a = 0; a < sizeof(addrs) / sizeof(addrs[0]); a++) {
			uint64_t v = i << 8 | a, got = ~v;

			if (splitvm_mem_write(vm, addrs[a], &v, sizeof(v)) ||
			    splitvm_mem_read(vm, addrs[a], &got, sizeof(got)))
				ck_abort_msg("access to 0x%llx failed",
					     (unsigned long long)addrs[a]);
			if (got != v)
				ck_abort_msg("0x%llx read 0x%llx, wrote 0x%llx",
					     (unsigned long long)addrs[a],
					     (unsigned long long)got,
					     (unsigned long long)v);
			if (!a)
				last_host = v;
		}
		if (i % 64)
			continue;
		ck_assert_int_eq(
			splitvm_mem_read(vm, FLUSH_PAGE, page, sizeof(page)),
			0);
		memcpy(&magic, page, sizeof(magic));
		memcpy(done, page + FLUSH_OFF_DONE, sizeof(done));
		if (memcmp(page + FLUSH_OFF_HOST, &last_host,
			   sizeof(last_host)))
			ck_abort_msg("the whole page lost the host's word");
		if (magic == FLUSH_MAGIC && done[0] >= 1000 &&
		    done[1] >= 1000 && now_ms() - t0 >= 1000)
			break;
		/* The guest ends only when told to (or at its time limit). */
		if (splitvm_wait(vm, 0, &res) == 0)
			ck_abort_msg("the guest ended first: outcome %d, exit "
				     "code %u, flushes %llu and %llu",
				     res.outcome, res.exit_code,
				     (unsigned long long)done[0],
				     (unsigned long long)done[1]);
	}
	ck_assert_int_eq(splitvm_mem_write(vm, FLUSH_PAGE + FLUSH_OFF_STOP,
					   &stop, sizeof(stop)),
			 0);
	ck_assert_int_eq(splitvm_wait(vm, -1, &res), 0);
	ck_assert_int_eq(res.outcome, SPLITVM_OUTCOME_EXIT);
	ck_assert_uint_eq(res.exit_code, 0);
	splitvm_destroy(vm);
	splitvm_config_free(cfg);
}
END_TEST

/* Holds the vCPU in its first console write (an I/O exit) for 200 ms. */
struct held_console {
	atomic_int writes;
	atomic_bool holding;
};

static void hold_first_write(void *opaque, const char *data, size_t len)
{
	struct held_console *h = opaque;

	if (atomic_fetch_add(&h->writes, 1))
		return;
	atomic_store(&h->holding, true);
	usleep(200000);
}

/*
 * A reset starts every vCPU afresh: an NMI or an INIT asked for just
 * before it, while the vCPU was still busy with an exit, goes with the
 * run it was meant for. Delivered to the reset guest, before it has an
 * IDT, either one ends it (a triple fault, or the BSP left waiting for a
 * SIPI until the time limit) instead of its second, whole run.
 */
START_TEST(api_reset_drops_events_asked_before_it)
{
	for (int kind = 0; kind < 2; kind++) {
		struct splitvm_config *cfg = config_new("demo.elf", "demo");
		struct held_console h = {0};
		struct splitvm_result res;
		struct splitvm *vm;

		ck_assert_int_eq(splitvm_config_set_timeout(cfg, 20000), 0);
		ck_assert_int_eq(splitvm_config_set_console_handler(
					 cfg, hold_first_write, &h),
				 0);
		ck_assert_int_eq(splitvm_create(cfg, &vm), 0);
		ck_assert_int_eq(splitvm_start(vm), 0);
		while (!atomic_load(&h.holding))
			usleep(100);
		usleep(20000);
		if (kind == 0)
			ck_assert_int_eq(splitvm_nmi(vm, 0), 0);
		else
			ck_assert_int_eq(splitvm_init_cpu(vm, 0), 0);
		ck_assert_int_eq(splitvm_reset(vm), 0);
		ck_assert_int_eq(splitvm_wait(vm, -1, &res), 0);
		ck_assert_msg(res.outcome == SPLITVM_OUTCOME_EXIT &&
				      res.exit_code == 0,
			      "%s before a reset: outcome %s, code %u (%s)",
			      kind ? "INIT" : "NMI",
			      splitvm_outcome_name(res.outcome), res.exit_code,
			      res.detail);
		splitvm_destroy(vm);
		splitvm_config_free(cfg);
	}
}
END_TEST

/* ---- Threads kept for the next VM, tables shared by shape (#14) ---- */

#define MAX_TASKS 64

/* The process's thread IDs, in /proc order; returns how many. */
static unsigned int tasks(pid_t *tids)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	unsigned int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && n < MAX_TASKS)
			tids[n++] = (pid_t)atoi(e->d_name);
	closedir(d);
	return n;
}

/* A thread's name (/proc's comm), in buf; false if it has just ended. */
static bool task_name(pid_t tid, char *buf, size_t size)
{
	char path[64];
	bool ok;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return false;
	ok = fgets(buf, (int)size, f) != NULL;
	fclose(f);
	buf[ok ? strcspn(buf, "\n") : 0] = 0;
	return ok;
}

/* The threads whose name starts with prefix; returns how many. */
static unsigned int named(const char *prefix, pid_t *ret)
{
	pid_t tids[MAX_TASKS];
	unsigned int n = tasks(tids), k = 0;
	char name[32];

	for (unsigned int i = 0; i < n; i++)
		if (task_name(tids[i], name, sizeof(name)) &&
		    !strncmp(name, prefix, strlen(prefix)))
			ret[k++] = tids[i];
	return k;
}

/* Waits (10 s at most) until no thread's name starts with prefix: VM
 * threads kept from earlier tests end after a second idle (at once when
 * each test is a fork), a vCPU thread just after its run. */
static void none_named(const char *prefix)
{
	uint64_t t0 = now_ms();
	pid_t tids[MAX_TASKS];

	while (named(prefix, tids) && now_ms() - t0 < 10000)
		usleep(5000);
	ck_assert_msg(named(prefix, tids) == 0, "%s threads left", prefix);
}

/* A thread's seccomp mode (/proc's "Seccomp:" line): 0 none, 2 filter. */
static int seccomp_mode(pid_t tid)
{
	char path[64], line[128];
	int mode = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	fclose(f);
	ck_assert_int_ge(mode, 0);
	return mode;
}

/* Runs exitcode.elf to its exit with cpus vCPUs and this sandbox, and
 * waits for its vCPU threads to end. */
static void run_exit_guest(unsigned int cpus, enum splitvm_sandbox sandbox)
{
	struct splitvm_config *cfg = config_new("exitcode.elf", "exit=0");
	struct splitvm_result res;
	struct splitvm *vm;

	ck_assert_int_eq(splitvm_config_set_cpus(cfg, cpus), 0);
	ck_assert_int_eq(splitvm_config_set_sandbox(cfg, sandbox), 0);
	ck_assert_int_eq(splitvm_create(cfg, &vm), 0);
	ck_assert_int_eq(splitvm_run(vm, &res), 0);
	ck_assert_int_eq(res.outcome, SPLITVM_OUTCOME_EXIT);
	ck_assert_uint_eq(res.exit_code, 0);
	splitvm_destroy(vm);
	splitvm_config_free(cfg);
	none_named("splitvm-vcpu");
}

/* The I/O threads there are: their IDs sorted in ret, how many. */
static unsigned int io_threads(pid_t *ret)
{
	unsigned int n = named("splitvm-io", ret);

	for (unsigned int i = 1; i < n; i++)
		for (unsigned int j = i; j > 0 && ret[j - 1] > ret[j]; j--) {
			pid_t t = ret[j];

			ret[j] = ret[j - 1];
			ret[j - 1] = t;
		}
	return n;
}

/*
 * A VM's I/O thread waits for the next VM once the run is collected: the
 * next VMs run on it, with one vCPU or two, kicked with another signal;
 * their vCPU threads are their own and end with them. Once idle (a
 * second) it ends too.
 */
START_TEST(api_threads_serve_the_next_vm)
{
	pid_t io[MAX_TASKS], now[MAX_TASKS];
	struct splitvm_config *cfg;
	struct splitvm_result res;
	struct splitvm *vm;

	none_named("splitvm-");
	run_exit_guest(1, SPLITVM_SANDBOX_OFF);
	ck_assert_uint_eq(io_threads(io), 1);
	for (unsigned int cpus = 1; cpus <= 2; cpus++) {
		run_exit_guest(cpus, SPLITVM_SANDBOX_OFF);
		ck_assert_uint_eq(io_threads(now), 1);
		ck_assert_int_eq(now[0], io[0]);
	}

	/* A spinning guest only stops when kicked: with SIGUSR2 this time,
	 * with the I/O thread a SIGUSR1 VM had (its watchdog kicks too). */
	cfg = config_new("spin.elf", NULL);
	ck_assert_int_eq(splitvm_config_set_kick_signal(cfg, SIGUSR2), 0);
	ck_assert_int_eq(splitvm_create(cfg, &vm), 0);
	ck_assert_int_eq(splitvm_start(vm), 0);
	usleep(50000);
	ck_assert_uint_eq(io_threads(now), 1);
	ck_assert_int_eq(now[0], io[0]);
	ck_assert_int_eq(splitvm_stop(vm), 0);
	ck_assert_int_eq(splitvm_wait(vm, 10000, &res), 0);
	ck_assert_int_eq(res.outcome, SPLITVM_OUTCOME_STOPPED);
	splitvm_destroy(vm);
	splitvm_config_free(cfg);

	/* Idle for WORKER_IDLE_NS (a second), it ends. */
	none_named("splitvm-");
}
END_TEST

/*
 * A kept thread keeps the sandbox it entered: it serves a VM with that
 * sandbox (or, unconfined, one that confines it), never one with another
 * or none. It names itself again at each run, which its filter allows
 * (under TRAP a refused prctl would kill the process).
 */
START_TEST(api_threads_keep_their_sandbox)
{
	pid_t io[MAX_TASKS], confined, open;

	none_named("splitvm-");
	run_exit_guest(1, SPLITVM_SANDBOX_ERRNO);
	ck_assert_uint_eq(io_threads(io), 1);
	confined = io[0];
	ck_assert_int_eq(seccomp_mode(confined), 2);

	/* None: a new thread, unconfined; the confined one stays idle. */
	run_exit_guest(1, SPLITVM_SANDBOX_OFF);
	ck_assert_uint_eq(io_threads(io), 2);
	open = io[0] == confined ? io[1] : io[0];
	ck_assert_int_eq(seccomp_mode(open), 0);

	/* The same sandbox again: the confined thread, no new one. */
	run_exit_guest(1, SPLITVM_SANDBOX_ERRNO);
	ck_assert_uint_eq(io_threads(io), 2);
	ck_assert_int_eq(seccomp_mode(open), 0);

	/* Another action: the unconfined thread, which it confines; then
	 * again, on the same thread confined under TRAP. */
	for (int round = 0; round < 2; round++) {
		run_exit_guest(1, SPLITVM_SANDBOX_TRAP);
		ck_assert_uint_eq(io_threads(io), 2);
		ck_assert(io[0] == open || io[1] == open);
		ck_assert_int_eq(seccomp_mode(open), 2);
	}

	/* None again: every idle thread is confined, so a new one. */
	run_exit_guest(1, SPLITVM_SANDBOX_OFF);
	ck_assert_uint_eq(io_threads(io), 3);
	for (int i = 0; i < 3; i++)
		if (io[i] != open && io[i] != confined)
			ck_assert_int_eq(seccomp_mode(io[i]), 0);
}
END_TEST

static void console_to_broken_pipe(void *userdata, const char *data,
				   size_t len)
{
	ssize_t n = write(*(int *)userdata, data, len);

	ck_assert_int_eq(n, -1); /* EPIPE, and a SIGPIPE for this thread */
}

/*
 * A signal sent to a VM thread stays blocked there, in KVM_RUN too: a
 * console callback that writes to a pipe nobody reads, in a process that
 * ignores SIGPIPE (the kernel keeps a blocked signal pending even so),
 * leaves the vCPU running. The next VM runs too, on the I/O thread kept
 * from the first, whose console flushes may have met the same pipe.
 */
START_TEST(api_stray_signals_leave_the_vcpu_running)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	struct splitvm_config *cfg;
	struct splitvm_result res;
	struct splitvm *vm;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	close(p[0]);
	ck_assert_int_eq(sigaction(SIGPIPE, &ign, &old), 0);
	for (int i = 0; i < 2; i++) {
		cfg = config_new("exitcode.elf", "exit=0");
		ck_assert_int_eq(splitvm_config_set_timeout(cfg, 10000), 0);
		if (i == 0)
			ck_assert_int_eq(splitvm_config_set_console_handler(
						 cfg, console_to_broken_pipe,
						 &p[1]),
					 0);
		ck_assert_int_eq(splitvm_create(cfg, &vm), 0);
		ck_assert_int_eq(splitvm_run(vm, &res), 0);
		ck_assert_msg(res.outcome == SPLITVM_OUTCOME_EXIT,
			      "VM %d: %s (%s)", i,
			      splitvm_outcome_name(res.outcome), res.detail);
		splitvm_destroy(vm);
		splitvm_config_free(cfg);
	}
	sigaction(SIGPIPE, &old, NULL);
	close(p[1]);
}
END_TEST

/*
 * VMs of one shape share the process's firmware image, but each has its
 * own copy in RAM: tables a guest (here the host, through the same RAM)
 * writes over are not another VM's, and a reset writes them again.
 */
START_TEST(api_tables_are_each_vms_own)
{
	struct splitvm_config *cfg = config_new("spin.elf", NULL);
	/* ACPI (RSDP to the XSDT, the last table), the MP table, the IVT,
	 * the BIOS stubs. */
	uint64_t where[] = {0xe0000, 0xf0000, 0x0, 0xfff40};
	size_t len[] = {0, 64, 1024, 0x14};
	uint8_t orig[4][4096], got[4096], junk[4096];
	struct splitvm *a, *b;
	struct splitvm_result res;
	uint64_t xsdt = 0;
	uint32_t xsdt_len = 0;

	memset(junk, 0xa5, sizeof(junk));
	ck_assert_int_eq(splitvm_create(cfg, &a), 0);
	ck_assert_int_eq(splitvm_start(a), 0);
	ck_assert_int_eq(splitvm_mem_read(a, 0xe0000 + 24, &xsdt, 8), 0);
	ck_assert_int_eq(splitvm_mem_read(a, xsdt + 4, &xsdt_len, 4), 0);
	ck_assert_uint_gt(xsdt, 0xe0000);
	len[0] = (size_t)(xsdt + xsdt_len - 0xe0000);
	ck_assert_uint_le(len[0], sizeof(got));
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(splitvm_mem_read(a, where[i], orig[i], len[i]),
				 0);
		ck_assert_int_eq(splitvm_mem_write(a, where[i], junk, len[i]),
				 0);
	}
	ck_assert_mem_eq(orig[0], "RSD PTR ", 8);
	ck_assert_mem_eq(orig[1], "_MP_", 4);

	ck_assert_int_eq(splitvm_create(cfg, &b), 0);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(splitvm_mem_read(b, where[i], got, len[i]), 0);
		ck_assert_mem_eq(got, orig[i], len[i]);
	}
	splitvm_destroy(b);

	ck_assert_int_eq(splitvm_reset(a), 0);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(splitvm_mem_read(a, where[i], got, len[i]), 0);
		ck_assert_mem_eq(got, orig[i], len[i]);
	}
	ck_assert_int_eq(splitvm_stop(a), 0);
	ck_assert_int_eq(splitvm_wait(a, 10000, &res), 0);
	splitvm_destroy(a);
	splitvm_config_free(cfg);
}
END_TEST

UNIT_KVM_SUITE("api",
	       api_calls_after_the_end,
	       api_fd_readable_when_the_run_ends,
	       api_msi_events,
	       api_stats_of_a_halted_guest,
	       api_blocking_calls_from_callbacks,
	       api_sandbox_default_and_errno_callbacks,
	       api_sandbox_narrows_memory_and_signals,
	       api_mem_access_while_the_guest_flushes,
	       api_reset_drops_events_asked_before_it,
	       api_threads_serve_the_next_vm,
	       api_threads_keep_their_sandbox,
	       api_tables_are_each_vms_own,
	       api_stray_signals_leave_the_vcpu_running)
