/* SPDX-License-Identifier: MIT */
/*
 * The sandbox's allowlists, one per thread role, as libseccomp rules. They
 * are compiled into BPF when splitvm is built (sandbox_gen.c writes
 * sandbox_bpf.h), not at every start: the library loads the ready
 * programs (sandbox.c) and does not link libseccomp at all. The unit test
 * test-sandbox compiles these rules again and checks that what the library
 * loads is exactly what they say.
 */
#ifndef SPLITVM_SANDBOX_RULES_H
#define SPLITVM_SANDBOX_RULES_H

#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>

#include "sandbox.h"

/*
 * Adds role's rules to ctx, with what a sanitizer's runtime needs besides
 * if sanitizer. pid is the only value not known when splitvm is built
 * (signals go to this process's own threads only): the build passes
 * SANDBOX_PID_PLACEHOLDER, which the loader replaces. Returns 0 or
 * libseccomp's negative errno.
 */
int sandbox_rules_add(scmp_filter_ctx ctx, enum sandbox_role role,
		      uint32_t pid, bool sanitizer);

#endif /* SPLITVM_SANDBOX_RULES_H */
