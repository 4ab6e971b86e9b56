// SPDX-License-Identifier: MIT
/*
 * without-cap CAP PROGRAM [ARG...]: runs PROGRAM on a KVM that lacks the
 * capability CAP (split-irqchip or immediate-exit), as an old or a
 * restricted host kernel would: a seccomp filter, inherited across exec,
 * fails KVM_CHECK_EXTENSION for that capability with EINVAL. The tests use
 * it to show that splitvm says so in one line rather than failing
 * somewhere later.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const struct {
	const char *name;
	unsigned long cap;
} caps[] = {
	{"split-irqchip", KVM_CAP_SPLIT_IRQCHIP},
	{"immediate-exit", KVM_CAP_IMMEDIATE_EXIT},
};

static int hide(unsigned long cap)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r;

	if (!ctx)
		return -ENOMEM;
	r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EINVAL), SCMP_SYS(ioctl), 2,
			     SCMP_A1(SCMP_CMP_EQ, KVM_CHECK_EXTENSION),
			     SCMP_A2(SCMP_CMP_EQ, cap));
	if (!r)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 3) {
		fprintf(stderr, "usage: without-cap CAP PROGRAM [ARG...]\n");
		return 2;
	}
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (!strcmp(argv[1], caps[i].name))
			break;
	if (i == sizeof(caps) / sizeof(caps[0])) {
		fprintf(stderr, "without-cap: unknown capability '%s'\n",
			argv[1]);
		return 2;
	}
	if (hide(caps[i].cap)) {
		fprintf(stderr, "without-cap: cannot install the filter\n");
		return 1;
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "without-cap: cannot run %s: %s\n", argv[2],
		strerror(errno));
	return 127;
}
