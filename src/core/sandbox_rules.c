// SPDX-License-Identifier: MIT
/*
 * The sandbox's allowlists (sandbox_rules.h). A guest can only reach the
 * monitor through exits, so what a vCPU thread may do once it runs is all
 * a compromised device model could do: no open, no exec, no socket, and
 * ioctl only with the KVM requests listed here.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <linux/kvm.h>
#include <stddef.h>

#include "sandbox_rules.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * What every thread of the VM needs: memory (malloc, thread stacks; the
 * embedder's callbacks run on these threads too), locks, clocks, signals
 * for kicks (pthread_kill is getpid + tgkill), writes to the console and
 * log descriptors, and leaving.
 */
static const int common_syscalls[] = {
	SCMP_SYS(brk),		SCMP_SYS(munmap),
	SCMP_SYS(mremap),	SCMP_SYS(madvise),
	SCMP_SYS(futex),	SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(gettimeofday), SCMP_SYS(getpid),    SCMP_SYS(gettid),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigtimedwait), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(write),	SCMP_SYS(writev),    SCMP_SYS(read),
	SCMP_SYS(sched_yield),	SCMP_SYS(exit),	     SCMP_SYS(exit_group),
	SCMP_SYS(restart_syscall), SCMP_SYS(getrandom),
	SCMP_SYS(rseq),		SCMP_SYS(set_robust_list),
	/* stdio asks how to buffer a stream on its first write */
	SCMP_SYS(fstat),	SCMP_SYS(newfstatat),
};

/*
 * Sanitizer builds: the runtime reports, symbolizes and (LeakSanitizer)
 * stops the world from whichever thread runs into it. Test builds only:
 * the build compiles these programs too, and a sanitizer build loads them.
 */
static const int sanitizer_syscalls[] = {
	SCMP_SYS(openat),	 SCMP_SYS(open),	SCMP_SYS(close),
	SCMP_SYS(readlink),	 SCMP_SYS(readlinkat),	SCMP_SYS(clone),
	SCMP_SYS(clone3),	 SCMP_SYS(ptrace),	SCMP_SYS(prctl),
	SCMP_SYS(wait4),	 SCMP_SYS(sched_getaffinity),
	SCMP_SYS(prlimit64),	 SCMP_SYS(getrlimit),	SCMP_SYS(sigaltstack),
	SCMP_SYS(rt_sigaction), SCMP_SYS(pipe2),	SCMP_SYS(fstat),
	SCMP_SYS(newfstatat),	 SCMP_SYS(lseek),	SCMP_SYS(kill),
	SCMP_SYS(getppid),	 SCMP_SYS(uname),	SCMP_SYS(pread64),
	SCMP_SYS(execve),	 SCMP_SYS(dup2),	SCMP_SYS(setrlimit),
	SCMP_SYS(getdents64),	 SCMP_SYS(getdents),	SCMP_SYS(waitid),
	SCMP_SYS(munlock),	 SCMP_SYS(mlock),	SCMP_SYS(process_vm_readv),
};

/* A vCPU thread: its own vCPU's ioctls (a snapshot's state included),
 * and the VM ioctls of interrupt delivery (the IOAPIC raises GSIs and
 * reprograms routes on its exits). */
static const unsigned long vcpu_ioctls[] = {
	KVM_RUN,	     KVM_GET_REGS,	   KVM_SET_REGS,
	KVM_GET_SREGS,	     KVM_SET_SREGS,	   KVM_GET_LAPIC,
	KVM_SET_LAPIC,	     KVM_GET_MP_STATE,	   KVM_SET_MP_STATE,
	KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS, KVM_NMI,
	KVM_INTERRUPT,	     KVM_IRQ_LINE,	   KVM_SET_GSI_ROUTING,
	KVM_SIGNAL_MSI,	     KVM_GET_XSAVE,	   KVM_SET_XSAVE,
	KVM_GET_XCRS,	     KVM_SET_XCRS,	   KVM_GET_MSRS,
	KVM_SET_MSRS,	     KVM_GET_DEBUGREGS,	   KVM_SET_DEBUGREGS,
	KVM_GET_MSR_INDEX_LIST,
};
static const int vcpu_syscalls[] = {SCMP_SYS(sched_getaffinity)};

/*
 * The I/O thread: timers fire the PIT and the IOAPIC's retries; a wake
 * from S3 (the RTC alarm) resets the chips, KVM's own in kernel mode; the
 * guest's snapshot point (snapshot.c) reads the VM's state and RAM and
 * writes them to the descriptor it was given.
 */
static const unsigned long io_ioctls[] = {
	KVM_IRQ_LINE,	 KVM_SET_GSI_ROUTING, KVM_GET_IRQCHIP,
	KVM_SET_IRQCHIP, KVM_SET_PIT2,	      KVM_GET_PIT2,
	KVM_GET_CLOCK,	 KVM_GET_DIRTY_LOG,   KVM_SET_USER_MEMORY_REGION,
};
static const int io_syscalls[] = {
	SCMP_SYS(ppoll),   SCMP_SYS(poll),	SCMP_SYS(mincore),
	SCMP_SYS(pwrite64), SCMP_SYS(ftruncate),
};

/* The CLI's main and --control threads: interrupt calls, snapshots,
 * one poll() over the control socket and its clients (accepted, read and
 * written non-blocking, closed), then teardown (the socket unlinked). */
static const unsigned long control_ioctls[] = {
	KVM_IRQ_LINE,	 KVM_SET_GSI_ROUTING, KVM_GET_IRQCHIP,
	KVM_SET_IRQCHIP, KVM_GET_PIT2,	      KVM_SET_PIT2,
	KVM_SIGNAL_MSI,	 KVM_GET_CLOCK,	      KVM_GET_DIRTY_LOG,
	KVM_SET_USER_MEMORY_REGION,
	/* glibc's isatty(), when stdio first buffers a stream on a
	 * character device (--result-json /dev/null): it only reads. */
	TCGETS,
};
static const int control_syscalls[] = {
	SCMP_SYS(poll),
	SCMP_SYS(accept4),
	SCMP_SYS(close),
	/* a snapshot: RAM's resident pages, written to --snapshot-file */
	SCMP_SYS(mincore),
	SCMP_SYS(pwrite64),
	SCMP_SYS(ftruncate),
};

struct role_rules {
	const int *syscalls;
	size_t nr_syscalls;
	const unsigned long *ioctls;
	size_t nr_ioctls;
};

static const struct role_rules roles[] = {
	[SANDBOX_VCPU] = {vcpu_syscalls, ARRAY_SIZE(vcpu_syscalls),
			  vcpu_ioctls, ARRAY_SIZE(vcpu_ioctls)},
	[SANDBOX_IO] = {io_syscalls, ARRAY_SIZE(io_syscalls), io_ioctls,
			ARRAY_SIZE(io_ioctls)},
	[SANDBOX_CONTROL] = {control_syscalls, ARRAY_SIZE(control_syscalls),
			     control_ioctls, ARRAY_SIZE(control_ioctls)},
};

/*
 * Calls every role makes, with their arguments narrowed: memory is mapped
 * or re-protected, never made executable (no code can be planted), and
 * signals go to this process's own threads only (pthread_kill() is
 * tgkill(getpid(), tid, sig)).
 */
static int sandbox_add_narrowed(scmp_filter_ctx ctx, uint32_t pid)
{
	int r;

	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
			     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				     SCMP_A0(SCMP_CMP_EQ, pid, 0));
	return r;
}

static int sandbox_add(scmp_filter_ctx ctx, const int *nrs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nrs[i], 0);

		if (r)
			return r;
	}
	return 0;
}

int sandbox_rules_add(scmp_filter_ctx ctx, enum sandbox_role role,
		      uint32_t pid, bool sanitizer)
{
	const struct role_rules *rules = &roles[role];
	int r;

	r = sandbox_add(ctx, common_syscalls, ARRAY_SIZE(common_syscalls));
	if (!r)
		r = sandbox_add_narrowed(ctx, pid);
	if (!r)
		r = sandbox_add(ctx, rules->syscalls, rules->nr_syscalls);
	/* A kept I/O thread names itself for the next VM (worker.c):
	 * prctl only to rename the thread. */
	if (!r && role == SANDBOX_IO)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				     SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME, 0));
	if (!r && sanitizer)
		r = sandbox_add(ctx, sanitizer_syscalls,
				ARRAY_SIZE(sanitizer_syscalls));
	/* ioctl: only the listed requests (the low 32 bits count). */
	for (size_t i = 0; !r && i < rules->nr_ioctls; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu,
					     rules->ioctls[i] & 0xffffffffu));
	return r;
}
