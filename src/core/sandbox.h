/* SPDX-License-Identifier: MIT */
/* Seccomp allowlists, one per thread role, installed once setup is done. */
#ifndef SPLITVM_SANDBOX_H
#define SPLITVM_SANDBOX_H

#include "log.h"
#include "splitvm.h"

enum sandbox_role {
	SANDBOX_VCPU,	 /* runs KVM_RUN and the device models */
	SANDBOX_IO,	 /* timers, serial input, the wall-clock limit */
	SANDBOX_CONTROL, /* the CLI's main thread, waiting for the end */
};

/*
 * Confines the calling thread (and threads it creates later) to what its
 * role needs; ioctl only with the KVM requests the role issues. What else
 * happens is as action says: refused with EPERM, SIGSYS (trap) or the
 * process killed. Returns 0, -ENOTSUP (built without libseccomp), or the
 * errno of libseccomp.
 */
int sandbox_enter(enum sandbox_role role, enum splitvm_sandbox action);

/* A constant name for a role, for messages. */
const char *sandbox_role_name(enum sandbox_role role);

#endif /* SPLITVM_SANDBOX_H */
