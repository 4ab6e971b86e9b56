// SPDX-License-Identifier: MIT
/*
 * The sandbox: one seccomp program per thread role (sandbox_rules.c says
 * what each allows). libseccomp compiles them when splitvm is built
 * (sandbox_gen.c); here they are only copied, given this process's pid
 * and the caller's action, and loaded: no filter is compiled at start,
 * and the library does not link libseccomp.
 */
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "config.h"
#include "sandbox.h"

/* The calling thread's sandbox, as sandbox_enter() left it. */
static _Thread_local struct {
	enum splitvm_sandbox action; /* SPLITVM_SANDBOX_OFF: none */
	enum sandbox_role role;
} confinement;

bool sandbox_confined(void)
{
	return confinement.action != SPLITVM_SANDBOX_OFF;
}

#if HAVE_SECCOMP
#include "sandbox_bpf.h"

/* What a refused system call gets. */
static uint32_t sandbox_ret(enum splitvm_sandbox action)
{
	switch (action) {
	case SPLITVM_SANDBOX_TRAP:
		return SECCOMP_RET_TRAP;
	case SPLITVM_SANDBOX_KILL:
		return SECCOMP_RET_KILL_PROCESS;
	default:
		return SECCOMP_RET_ERRNO | EPERM;
	}
}

int sandbox_program(enum sandbox_role role, enum splitvm_sandbox action,
		    uint32_t pid, struct sock_filter *buf, size_t cap)
{
	const struct sandbox_bpf *p =
		&sandbox_bpf[SANDBOX_SANITIZER][role];
	uint32_t ret = sandbox_ret(action);

	if (p->len > cap)
		return -ENOSPC;
	memcpy(buf, p->insns, p->len * sizeof(*buf));
	/* The placeholders' places were checked when the programs were
	 * built: one comparison with the pid, returns of the action. */
	for (size_t i = 0; i < p->len; i++) {
		if (buf[i].code == (BPF_RET | BPF_K) &&
		    buf[i].k == SECCOMP_RET_TRAP)
			buf[i].k = ret;
		else if (buf[i].code == (BPF_JMP | BPF_JEQ | BPF_K) &&
			 buf[i].k == SANDBOX_PID_PLACEHOLDER)
			buf[i].k = pid;
	}
	return (int)p->len;
}

int sandbox_enter(enum sandbox_role role, enum splitvm_sandbox action)
{
	struct sock_filter insns[SANDBOX_BPF_MAX];
	struct sock_fprog prog;
	int n;

	/* A kept thread (worker.c) already in this very sandbox: a second
	 * copy of the filter would only cost every system call. */
	if (confinement.action == action && confinement.role == role)
		return 0;
	n = sandbox_program(role, action, (uint32_t)getpid(), insns,
			    SANDBOX_BPF_MAX);
	if (n < 0)
		return n;
	prog = (struct sock_fprog){.len = (unsigned short)n, .filter = insns};
	/* As libseccomp's seccomp_load() would: no new privileges (which
	 * an unprivileged filter needs), then the filter on this thread. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return -errno;
	/* Filters stack: the last one's role names the thread's. */
	confinement.action = action;
	confinement.role = role;
	return 0;
}

#else

int sandbox_program(enum sandbox_role role, enum splitvm_sandbox action,
		    uint32_t pid, struct sock_filter *buf, size_t cap)
{
	return -ENOTSUP;
}

int sandbox_enter(enum sandbox_role role, enum splitvm_sandbox action)
{
	return -ENOTSUP;
}

#endif

const char *sandbox_role_name(enum sandbox_role role)
{
	static const char *const names[] = {
		[SANDBOX_VCPU] = "vCPU",
		[SANDBOX_IO] = "I/O",
		[SANDBOX_CONTROL] = "control",
	};

	return names[role];
}
