// SPDX-License-Identifier: MIT
/*
 * The pool of VM threads (worker.h). Making a thread and ending it costs
 * a clone, its stack's first faults and an exit, about 0.1 ms of CPU a
 * thread here (bench/README.md, #14). An I/O thread whose run ended
 * instead waits here for the next VM of the process, up to
 * WORKER_IDLE_NS; a vCPU thread ends with its run (worker_kept() says
 * why). A kept thread keeps the name its last work gave it.
 *
 * What a thread carries from one VM to the next is what the VM's code
 * leaves in it: its sandbox, which decides which VMs it may serve, and its
 * stack's old contents, which no guest can read. Each VM's thread-local
 * state is set when its function starts (vm_thread_enter()), and every
 * thread blocks every asynchronous signal, whichever VM's kick it is.
 *
 * A kept thread is given what a new one would take from the thread that
 * starts the VM: its CPU affinity, scheduling policy and nice value (an
 * embedder may pin a VM by pinning the thread that starts it).
 *
 * The pool is the process's: the library's VMs share it, as they share
 * the supported CPUID (vm.c). A child of fork() has none of the parent's
 * threads, so it starts with an empty pool. libsplitvm.so is never
 * unloaded (-z nodelete): an idle thread waits in its code.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "worker.h"

/*
 * A thread and its work. The work passes through a semaphore, not a lock
 * and a condition: a thread woken under the pool's lock would first wait
 * for that lock, a wake-up more per hand-off. Its end is not waited for
 * here at all: the work says it is done in its own way (vm.c), and the
 * thread, back in the pool, takes its next work once it has returned.
 */
struct worker {
	pthread_t thread;
	pid_t tid;
	sem_t go; /* posted with fn set (work) or retire set (end) */
	void (*fn)(void *);
	void *arg;
	bool retire;
	bool keep; /* worker_kept() */
	/*
	 * The sandbox the thread has since its last work, which entered
	 * it, or tried to (a failed try leaves no_new_privs): it serves
	 * only work that asks for the same, unless it is none.
	 */
	enum sandbox_role role;
	enum splitvm_sandbox action;
	bool idle;	     /* in pool.idle; under pool.lock */
	struct worker *next; /* in pool.idle, the latest first */
};

static struct {
	pthread_mutex_t lock;
	struct worker *idle;
	unsigned int nr_idle;
} pool = {PTHREAD_MUTEX_INITIALIZER, NULL, 0};

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void pool_lock_for_fork(void)
{
	pthread_mutex_lock(&pool.lock);
}

static void pool_unlock_after_fork(void)
{
	pthread_mutex_unlock(&pool.lock);
}

/* The child has only the thread that forked: the idle ones are not in
 * it. Their records stay allocated (reachable from nowhere), as little as
 * WORKER_MAX_IDLE small structs once per fork. */
static void pool_forget_after_fork(void)
{
	pool.idle = NULL;
	pool.nr_idle = 0;
	pthread_mutex_unlock(&pool.lock);
}

static void pool_init(void)
{
	pthread_atfork(pool_lock_for_fork, pool_unlock_after_fork,
		       pool_forget_after_fork);
}

static void pool_unlink_locked(struct worker *w)
{
	for (struct worker **p = &pool.idle; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			pool.nr_idle--;
			break;
		}
	}
	w->idle = false;
}

static void deadline_after(struct timespec *ts, uint64_t ns)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ns += (uint64_t)ts->tv_nsec;
	ts->tv_sec += (time_t)(ns / 1000000000ull);
	ts->tv_nsec = (long)(ns % 1000000000ull);
}

/*
 * Waits for the next work. Returns false when the thread is to end:
 * retired, or idle in the pool when WORKER_IDLE_NS have passed since its
 * work ended (a run collected late leaves it less). A thread not in the
 * pool when its wait runs out is either still its joiner's or already
 * taken by a start, whose post is coming: it waits on.
 */
static bool worker_wait(struct worker *w)
{
	struct timespec until;

	deadline_after(&until, WORKER_IDLE_NS);
	for (;;) {
		if (sem_clockwait(&w->go, CLOCK_MONOTONIC, &until) == 0)
			return !w->retire;
		if (errno != ETIMEDOUT)
			continue; /* EINTR */
		pthread_mutex_lock(&pool.lock);
		if (w->idle) {
			pool_unlink_locked(w);
			pthread_mutex_unlock(&pool.lock);
			return false;
		}
		pthread_mutex_unlock(&pool.lock);
		deadline_after(&until, WORKER_IDLE_NS);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	w->tid = gettid();
	do
		w->fn(w->arg);
	while (worker_wait(w));
	sem_destroy(&w->go);
	free(w);
	return NULL;
}

/*
 * Which threads are kept: the I/O threads, not the vCPU threads. A kept
 * vCPU thread, woken for the next VM, took the CPU from the vCPU running
 * there (the scheduler places a woken thread by the time it slept, a new
 * one behind the others), and a vCPU thread switched out pays a
 * vcpu_put() and a vcpu_load() (~20 us on the PVM hosts): with two
 * threads starting VMs, 0.75-0.8x the VMs per second of new threads. An
 * I/O thread mostly sleeps, and keeping it saves its clone and exit
 * (bench/README.md, #14).
 */
static bool worker_kept(enum sandbox_role role)
{
	return role != SANDBOX_VCPU;
}

/* Whether an idle thread of this sandbox may run work that asks for
 * (role, action): its own sandbox, or none yet for fn to enter. */
static bool worker_fits(const struct worker *w, enum sandbox_role role,
			enum splitvm_sandbox action)
{
	if (w->action == SPLITVM_SANDBOX_OFF)
		return true;
	return w->action == action && w->role == role;
}

/* The idle thread to take: the latest idled of the right sandbox (its
 * stack still in the cache), else the latest unconfined. */
static struct worker *pool_take(enum sandbox_role role,
				enum splitvm_sandbox action)
{
	struct worker *open = NULL, *w;

	pthread_mutex_lock(&pool.lock);
	for (w = pool.idle; w; w = w->next) {
		if (!worker_fits(w, role, action))
			continue;
		if (w->action == action)
			break;
		if (!open)
			open = w;
	}
	if (!w)
		w = open;
	if (w)
		pool_unlink_locked(w);
	pthread_mutex_unlock(&pool.lock);
	return w;
}

/*
 * Gives the kept thread tid what a new thread would inherit from this
 * one: CPU affinity, scheduling policy and priority, nice value. A few
 * system calls, against a clone. What this thread may not give without
 * CAP_SYS_NICE (a real-time policy, a nice value lower than the kept
 * thread's) stays as it was.
 */
static void worker_inherit(pid_t tid)
{
	struct sched_param param;
	cpu_set_t cpus;
	int policy, nice;

	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0)
		sched_setaffinity(tid, sizeof(cpus), &cpus);
	/* Without SCHED_RESET_ON_FORK, which would stay with the thread. */
	policy = sched_getscheduler(0);
	if (policy >= 0 && sched_getparam(0, &param) == 0)
		sched_setscheduler(tid, policy & ~SCHED_RESET_ON_FORK, &param);
	errno = 0;
	nice = getpriority(PRIO_PROCESS, 0);
	if (errno == 0)
		setpriority(PRIO_PROCESS, (id_t)tid, nice);
}

/* A new thread for w, with every asynchronous signal blocked: a signal
 * sent to the process goes to the embedder's threads, and every VM's kick
 * signal is blocked outside KVM_RUN whichever VM the thread serves. */
static int worker_spawn(struct worker *w)
{
	static const int sync_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE,
					   SIGTRAP, SIGSYS,  SIGABRT};
	pthread_attr_t attr;
	sigset_t mask;
	int r;

	sigfillset(&mask);
	for (size_t i = 0; i < sizeof(sync_signals) / sizeof(sync_signals[0]);
	     i++)
		sigdelset(&mask, sync_signals[i]);
	r = pthread_attr_init(&attr);
	if (r)
		return -r;
	r = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (!r)
		r = pthread_attr_setsigmask_np(&attr, &mask);
	if (!r)
		r = pthread_create(&w->thread, &attr, worker_main, w);
	pthread_attr_destroy(&attr);
	return -r;
}

int worker_start(void (*fn)(void *), void *arg, enum sandbox_role role,
		 enum splitvm_sandbox action, struct worker **ret)
{
	struct worker *w;
	bool kept;
	int r;

	pthread_once(&pool_once, pool_init);
	w = worker_kept(role) ? pool_take(role, action) : NULL;
	kept = w != NULL;
	if (kept) {
		worker_inherit(w->tid);
	} else {
		w = calloc(1, sizeof(*w));
		if (!w)
			return -ENOMEM;
		sem_init(&w->go, 0, 0);
	}
	w->fn = fn;
	w->arg = arg;
	w->keep = worker_kept(role);
	if (action != SPLITVM_SANDBOX_OFF) {
		w->role = role;
		w->action = action;
	}
	if (!kept && (r = worker_spawn(w))) {
		sem_destroy(&w->go);
		free(w);
		return r;
	}
	*ret = w;
	return kept ? 1 : 0;
}

void worker_go(struct worker *w)
{
	sem_post(&w->go);
}

pthread_t worker_thread(const struct worker *w)
{
	return w->thread;
}

void worker_release(struct worker *w)
{
	pthread_mutex_lock(&pool.lock);
	if (w->keep && pool.nr_idle < WORKER_MAX_IDLE) {
		w->idle = true;
		w->next = pool.idle;
		pool.idle = w;
		pool.nr_idle++;
		pthread_mutex_unlock(&pool.lock);
		return;
	}
	pthread_mutex_unlock(&pool.lock);
	w->retire = true;
	sem_post(&w->go);
}
