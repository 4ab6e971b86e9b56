/* SPDX-License-Identifier: MIT */
/*
 * The threads that run the process's VMs (vCPU and I/O threads), kept for
 * the next VM once a run ends instead of made and ended for every one
 * (#14). A kept thread serves only a VM whose sandbox it already has (or
 * one it can still enter): seccomp filters cannot be taken off a thread.
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
 * Runs fn(arg) on a thread of the process's pool: an idle one confined as
 * (role, action) asks, else an unconfined one (fn confines it), else a new
 * one. SPLITVM_SANDBOX_OFF takes only an unconfined thread. fn runs with
 * every asynchronous signal blocked; whatever sandbox it enters stays with
 * the thread. Returns 0 or a negative errno.
 */
int worker_start(void (*fn)(void *), void *arg, enum sandbox_role role,
		 enum splitvm_sandbox action, struct worker **ret);

/* The thread running w's fn, for pthread_kill(); until worker_join(). */
pthread_t worker_thread(const struct worker *w);

/*
 * Waits for w's fn to return; the thread then waits in the pool for the
 * next worker_start() and w is no longer the caller's. Once per start.
 */
void worker_join(struct worker *w);

#endif /* SPLITVM_WORKER_H */
