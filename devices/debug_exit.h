/* SPDX-License-Identifier: MIT */
/* isa-debug-exit: a write ends the VM with the written value. */
#ifndef SPLITVM_DEBUG_EXIT_H
#define SPLITVM_DEBUG_EXIT_H

#include "device.h"

#define DEBUG_EXIT_BASE 0xf4
#define DEBUG_EXIT_REGION_SIZE 4

struct debug_exit;

extern const struct device_ops debug_exit_ops;

/**
 * debug_exit_new() - creates the device.
 * @hook: called as end(vm, SPLITVM_OUTCOME_EXIT, value, vcpu) on each
 *	  1-, 2- or 4-byte write, with no device lock held. Copied.
 * @ret: receives the device; free it with debug_exit_ops.destroy.
 *
 * Returns 0, or -EINVAL (hook, hook->end or ret NULL), -ENOMEM.
 */
int debug_exit_new(const struct vm_end_hook *hook, struct debug_exit **ret);

#endif /* SPLITVM_DEBUG_EXIT_H */
