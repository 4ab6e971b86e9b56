// SPDX-License-Identifier: MIT
/*
 * The pool of VM threads (worker.h). Making a thread and ending it costs
 * a clone, its stack's first faults and an exit, about 0.1 ms of CPU a
 * thread here (bench/README.md, #14); a VM of one vCPU takes two. A thread
 * whose run ended instead waits here for the next VM of the process, up
 * to WORKER_IDLE_NS. It keeps the name its last work gave it
 * (splitvm-vcpu0, splitvm-io), as its CPU time is that work's.
 *
 * What a thread carries from one VM to the next is what the VM's code
 * leaves in it: its sandbox, which decides which VMs it may serve, and its
 * stack's old contents, which no guest can read. Each VM's thread-local
 * state is set when its function starts (vm_thread_enter()) and its kicks
 * stop before the thread is handed back (vcpu.c), so no signal of one VM
 * reaches another.
 *
 * The pool is the process's: the library's VMs share it, as they share
 * the supported CPUID (vm.c). A child of fork() has none of the parent's
 * threads, so it starts with an empty pool.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "worker.h"

struct worker {
	pthread_t thread;
	/* The thread waits here for work, its joiner for the work's end. */
	pthread_cond_t cond;
	void (*fn)(void *); /* the work asked of it; NULL when done */
	void *arg;
	bool done;	 /* fn returned, not yet joined */
	bool idle;	 /* in the pool, waiting for a start */
	bool retire;	 /* to end as soon as fn returns, or now */
	/* The thread's sandbox, as it was when fn last returned. */
	enum sandbox_role role;
	enum splitvm_sandbox action;
	struct worker *next; /* in pool.idle, the latest first */
};

static struct {
	pthread_mutex_t lock;
	struct worker *idle;
	unsigned int nr_idle;
	unsigned int nr_threads; /* alive: running a VM's work or idle */
	bool closing;		 /* the library is being unloaded */
	pthread_cond_t gone;	 /* nr_threads went down */
} pool = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, false,
	  PTHREAD_COND_INITIALIZER};

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
	pool.nr_threads = 0;
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
 * Waits for work. Returns false when the thread is to end: retired by its
 * joiner, idle for WORKER_IDLE_NS, or the pool closing. A thread whose
 * joiner has yet to come waits for it whatever happens: until then w is
 * the joiner's.
 */
static bool worker_wait_locked(struct worker *w)
{
	struct timespec until;
	bool counting = false;

	for (;;) {
		if (w->fn)
			return true;
		if (w->retire)
			return false;
		if (w->done) {
			pthread_cond_wait(&w->cond, &pool.lock);
			continue;
		}
		if (pool.closing)
			return false;
		if (!counting) {
			deadline_after(&until, WORKER_IDLE_NS);
			counting = true;
		}
		if (pthread_cond_clockwait(&w->cond, &pool.lock,
					   CLOCK_MONOTONIC, &until) == ETIMEDOUT &&
		    !w->fn)
			return false;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	pthread_mutex_lock(&pool.lock);
	while (worker_wait_locked(w)) {
		void (*fn)(void *) = w->fn;

		pthread_mutex_unlock(&pool.lock);
		fn(w->arg);
		w->action = sandbox_current(&w->role);
		pthread_mutex_lock(&pool.lock);
		w->fn = NULL;
		w->done = true;
		pthread_cond_broadcast(&w->cond);
	}
	if (w->idle)
		pool_unlink_locked(w);
	pool.nr_threads--;
	pthread_cond_broadcast(&pool.gone);
	pthread_mutex_unlock(&pool.lock);
	pthread_cond_destroy(&w->cond);
	free(w);
	return NULL;
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
static struct worker *pool_take_locked(enum sandbox_role role,
				       enum splitvm_sandbox action)
{
	struct worker *open = NULL;

	for (struct worker *w = pool.idle; w; w = w->next) {
		if (!worker_fits(w, role, action))
			continue;
		if (w->action == action) {
			pool_unlink_locked(w);
			return w;
		}
		if (!open)
			open = w;
	}
	if (open)
		pool_unlink_locked(open);
	return open;
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
	int r;

	pthread_once(&pool_once, pool_init);
	pthread_mutex_lock(&pool.lock);
	w = pool_take_locked(role, action);
	if (w) {
		w->fn = fn;
		w->arg = arg;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&pool.lock);
		*ret = w;
		return 0;
	}
	pthread_mutex_unlock(&pool.lock);

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	pthread_cond_init(&w->cond, NULL);
	w->fn = fn;
	w->arg = arg;
	w->action = SPLITVM_SANDBOX_OFF;
	pthread_mutex_lock(&pool.lock);
	r = worker_spawn(w);
	if (!r)
		pool.nr_threads++;
	pthread_mutex_unlock(&pool.lock);
	if (r) {
		pthread_cond_destroy(&w->cond);
		free(w);
		return r;
	}
	*ret = w;
	return 0;
}

pthread_t worker_thread(const struct worker *w)
{
	return w->thread;
}

void worker_join(struct worker *w)
{
	pthread_mutex_lock(&pool.lock);
	while (!w->done)
		pthread_cond_wait(&w->cond, &pool.lock);
	w->done = false;
	if (pool.nr_idle < WORKER_MAX_IDLE && !pool.closing) {
		w->idle = true;
		w->next = pool.idle;
		pool.idle = w;
		pool.nr_idle++;
	} else {
		w->retire = true;
	}
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&pool.lock);
}

/*
 * When the library is unloaded (dlclose) its code must not be running on
 * an idle thread: they are told to end, and waited for a bounded while
 * (threads still running a VM's work are the embedder's to end first).
 * At process exit this costs the idle threads' wake-ups, if there are any.
 */
__attribute__((destructor)) static void pool_close(void)
{
	struct timespec until;

	pthread_mutex_lock(&pool.lock);
	pool.closing = true;
	for (struct worker *w = pool.idle; w; w = w->next)
		pthread_cond_broadcast(&w->cond);
	deadline_after(&until, 100000000ull);
	while (pool.nr_idle > 0 &&
	       pthread_cond_clockwait(&pool.gone, &pool.lock, CLOCK_MONOTONIC,
				      &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&pool.lock);
}
