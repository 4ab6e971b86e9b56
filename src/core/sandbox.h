/* SPDX-License-Identifier: MIT */
/*
 * Seccomp allowlists, one per thread role, installed once setup is done.
 * The rules are in sandbox_rules.c; the build compiles them into BPF
 * (sandbox_gen.c), and sandbox_enter() loads the ready program.
 */
#ifndef SPLITVM_SANDBOX_H
#define SPLITVM_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "splitvm.h"

enum sandbox_role {
	SANDBOX_VCPU,	 /* runs KVM_RUN and the device models */
	SANDBOX_IO,	 /* timers, serial input, the wall-clock limit */
	SANDBOX_CONTROL, /* the CLI's main thread, waiting for the end */
	SANDBOX_NR_ROLES
};

/*
 * The prebuilt programs carry two values splitvm knows only when it runs:
 * the pid tgkill may signal (compiled as SANDBOX_PID_PLACEHOLDER, a value
 * no pid can have: pids stop at 2^22) and the action on a refused call
 * (compiled as SECCOMP_RET_TRAP). sandbox_program() puts the real ones in.
 */
#define SANDBOX_PID_PLACEHOLDER 0x7e57c0deu

/*
 * Sanitizer builds (ASan, TSan) load programs that also allow what the
 * sanitizer's runtime does when it reports from a confined thread.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANDBOX_SANITIZER 1
#endif
#endif
#ifndef SANDBOX_SANITIZER
#define SANDBOX_SANITIZER 0
#endif

/*
 * Confines the calling thread (and threads it creates later) to what its
 * role needs; ioctl only with the KVM requests the role issues. What else
 * happens is as action says: refused with EPERM, SIGSYS (trap) or the
 * process killed. Returns 0, -ENOTSUP (built without libseccomp), or the
 * errno of libseccomp. A thread already in this very sandbox stays as it
 * is.
 */
int sandbox_enter(enum sandbox_role role, enum splitvm_sandbox action);

/*
 * Whether the calling thread entered a sandbox. A confined thread cannot
 * create threads, so no other thread inherits a filter without this.
 */
bool sandbox_confined(void);

struct sock_filter;

/*
 * The program sandbox_enter() loads for role, action and pid: the
 * prebuilt one with its placeholders filled in, written to buf (room for
 * cap instructions). Returns its length, -ENOSPC, or -ENOTSUP (built
 * without libseccomp).
 */
int sandbox_program(enum sandbox_role role, enum splitvm_sandbox action,
		    uint32_t pid, struct sock_filter *buf, size_t cap);

/* A constant name for a role, for messages. */
const char *sandbox_role_name(enum sandbox_role role);

#endif /* SPLITVM_SANDBOX_H */
