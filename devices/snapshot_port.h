/* SPDX-License-Identifier: MIT */
/*
 * The snapshot port: a guest's way to say "snapshot me here" (I am
 * booted; tests start here). docs/snapshots.md says what follows.
 */
#ifndef SPLITVM_SNAPSHOT_PORT_H
#define SPLITVM_SNAPSHOT_PORT_H

#include <stdint.h>

#include "device.h"

#define SNAPSHOT_PORT 0x8910
#define SNAPSHOT_PORT_SIZE 4

/* What a write asks of the machine, with the value written. */
struct snapshot_hook {
	void (*request)(void *vm, uint32_t value, int vcpu);
	void *vm;
};

struct snapshot_port;

extern const struct device_ops snapshot_port_ops;

/**
 * snapshot_port_new() - creates the device.
 * @hook: called on each 1-, 2- or 4-byte write, with the value and the
 *	  writing vCPU. Copied.
 * @ret: receives the device; free it with snapshot_port_ops.destroy.
 *
 * Returns 0, or -EINVAL (hook, hook->request or ret NULL), -ENOMEM.
 */
int snapshot_port_new(const struct snapshot_hook *hook,
		      struct snapshot_port **ret);

#endif /* SPLITVM_SNAPSHOT_PORT_H */
