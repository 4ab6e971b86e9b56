/* SPDX-License-Identifier: MIT */
/* The PC reset ports: i8042 command 0x64, RCR 0xcf9, System Control A 0x92. */
#ifndef SPLITVM_RESET_H
#define SPLITVM_RESET_H

#include "device.h"

/* Each is a 1-port region; register reset_ops at all three. */
#define RESET_PORT_I8042 0x64
#define RESET_PORT_92 0x92
#define RESET_PORT_CF9 0xcf9

struct reset;

extern const struct device_ops reset_ops;

/**
 * reset_new() - creates the device, told apart by port (io_access.addr).
 * @hook: called as end(vm, SPLITVM_OUTCOME_RESET, 0, vcpu) when the guest
 *	  asks for a reset, with no device lock held. Copied.
 * @ret: receives the device; free it with reset_ops.destroy.
 *
 * Returns 0, or -EINVAL (hook, hook->end or ret NULL), -ENOMEM.
 */
int reset_new(const struct vm_end_hook *hook, struct reset **ret);

#endif /* SPLITVM_RESET_H */
