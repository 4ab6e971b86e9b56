// SPDX-License-Identifier: MIT
/*
 * The prebuilt seccomp programs (sandbox_bpf.h, made by sandbox_gen.c when
 * splitvm is built) against the allowlists they come from: for every role
 * and action, what the library loads is, instruction for instruction,
 * what libseccomp compiles from sandbox_rules.c for this process. Then
 * one loaded program at work, in a child process.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/filter.h>

#include "sandbox_rules.h"
#include "unit.h"

enum { MAX_INSNS = 4096 };

/* libseccomp's program for role and action, compiled now. */
static size_t libseccomp_program(enum sandbox_role role, uint32_t action,
				 struct sock_filter *buf)
{
	scmp_filter_ctx ctx = seccomp_init(action);
	FILE *tmp = tmpfile();
	size_t n;

	ck_assert_ptr_nonnull(ctx);
	ck_assert_ptr_nonnull(tmp);
	ck_assert_int_eq(sandbox_rules_add(ctx, role, (uint32_t)getpid(),
					   SANDBOX_SANITIZER),
			 0);
	ck_assert_int_eq(seccomp_export_bpf(ctx, fileno(tmp)), 0);
	rewind(tmp);
	n = fread(buf, sizeof(*buf), MAX_INSNS, tmp);
	fclose(tmp);
	seccomp_release(ctx);
	return n;
}

START_TEST(sandbox_prebuilt_programs_are_the_allowlists)
{
	static const struct {
		enum splitvm_sandbox action;
		uint32_t scmp;
	} actions[] = {
		{SPLITVM_SANDBOX_TRAP, SCMP_ACT_TRAP},
		{SPLITVM_SANDBOX_KILL, SCMP_ACT_KILL_PROCESS},
		{SPLITVM_SANDBOX_ERRNO, SCMP_ACT_ERRNO(EPERM)},
	};
	static struct sock_filter want[MAX_INSNS], got[MAX_INSNS];

	for (int role = 0; role < SANDBOX_NR_ROLES; role++)
		for (size_t a = 0; a < sizeof(actions) / sizeof(actions[0]);
		     a++) {
			size_t n = libseccomp_program(role, actions[a].scmp,
						      want);
			int len = sandbox_program(role, actions[a].action,
						  (uint32_t)getpid(), got,
						  MAX_INSNS);

			ck_assert_msg(n > 0 && len == (int)n,
				      "%s role, action %zu: %d instructions "
				      "loaded, libseccomp makes %zu",
				      sandbox_role_name(role), a, len, n);
			for (size_t i = 0; i < n; i++)
				ck_assert_msg(!memcmp(&got[i], &want[i],
						      sizeof(got[i])),
					      "%s role, action %zu: "
					      "instruction %zu differs",
					      sandbox_role_name(role), a, i);
		}
}
END_TEST

/* The buffer's size is honoured. */
START_TEST(sandbox_program_refuses_a_short_buffer)
{
	struct sock_filter buf[4];

	ck_assert_int_eq(sandbox_program(SANDBOX_VCPU, SPLITVM_SANDBOX_TRAP,
					 1, buf, 4),
			 -ENOSPC);
}
END_TEST

/*
 * A child confined as a vCPU thread, refusals as EPERM: what the role
 * allows works, a socket is refused, and so is a signal to any other
 * process (tgkill is narrowed to this process's pid).
 */
START_TEST(sandbox_loaded_program_confines)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fails = 0;

		if (sandbox_enter(SANDBOX_VCPU, SPLITVM_SANDBOX_ERRNO))
			_exit(10);
		if (getpid() <= 0)
			fails |= 1;
		if (socket(AF_UNIX, SOCK_STREAM, 0) != -1 || errno != EPERM)
			fails |= 2;
		if (syscall(SYS_tgkill, getppid(), getppid(), 0) != -1 ||
		    errno != EPERM)
			fails |= 4;
		if (syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 0))
			fails |= 8;
		_exit(fails);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "confined child: status 0x%x", status);
}
END_TEST

UNIT_SUITE("sandbox", sandbox_prebuilt_programs_are_the_allowlists,
	   sandbox_program_refuses_a_short_buffer,
	   sandbox_loaded_program_confines)
