/* SPDX-License-Identifier: MIT */
/*
 * The threads that run the process's VMs (vCPU and I/O threads). The I/O
 * threads are kept for the next VM once a run ends, instead of made and
 * ended for every one (#14). A kept thread serves only a VM whose sandbox
 * it already has (or one it can still enter): seccomp filters cannot be
 * taken off a thread.
 */
#ifndef SPLITVM_WORKER_H
#define SPLITVM_WORKER_H

#include <pthread.h>

#include "sandbox.h"

/* How long an idle thread waits for another VM before it ends. */
#define WORKER_IDLE_NS 1000000000ull
/* Idle threads kept at most; the rest end as their VMs do. */
#define WORKER_MAX_IDLE 64

struct worker;

/*
 * Hands fn(arg) to a thread: for a role whose threads are kept, an idle
 * one whose sandbox is (role, action), else an unconfined one (fn
 * confines it); else a new one. SPLITVM_SANDBOX_OFF takes only an
 * unconfined thread. A new thread runs fn at once: 0 is returned. A kept
 * one runs it once worker_go() wakes it: 1 is returned, and the caller
 * wakes it when it holds nothing fn may want (the woken thread may take
 * the caller's CPU at once). fn runs with every asynchronous signal
 * blocked and the caller's CPU affinity, scheduling policy and nice value
 * (worker.c says how far). Returns 0, 1 or a negative errno.
 */
int worker_start(void (*fn)(void *), void *arg, enum sandbox_role role,
		 enum splitvm_sandbox action, struct worker **ret);

/* Lets a kept thread run the work worker_start() gave it (it returned 1).
 * Once, and before the work can be given back (worker_release()). */
void worker_go(struct worker *w);

/* The thread running w's fn, for pthread_kill(); until worker_release(). */
pthread_t worker_thread(const struct worker *w);

/*
 * Gives w's thread back, once fn has done its last with what it was
 * given, as fn itself tells the caller (the thread may still be on its
 * way out of fn): to the pool, where it takes the next work once out, or
 * to its end. w is no longer the caller's.
 */
void worker_release(struct worker *w);

#endif /* SPLITVM_WORKER_H */
