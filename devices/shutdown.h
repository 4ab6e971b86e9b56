/* SPDX-License-Identifier: MIT */
/* The Bochs/QEMU shutdown port 0x8900: "Shutdown" written to it powers off. */
#ifndef SPLITVM_SHUTDOWN_H
#define SPLITVM_SHUTDOWN_H

#include "device.h"

#define SHUTDOWN_PORT 0x8900
#define SHUTDOWN_REGION_SIZE 1

struct shutdown_port;

extern const struct device_ops shutdown_port_ops;

/**
 * shutdown_port_new() - creates the device.
 * @hook: called as end(vm, SPLITVM_OUTCOME_POWEROFF, 0, vcpu) once the
 *	  last byte of "Shutdown" is written, with no device lock held.
 *	  Copied.
 * @ret: receives the device; free it with shutdown_port_ops.destroy.
 *
 * Returns 0, or -EINVAL (hook, hook->end or ret NULL), -ENOMEM.
 */
int shutdown_port_new(const struct vm_end_hook *hook,
		      struct shutdown_port **ret);

#endif /* SPLITVM_SHUTDOWN_H */
