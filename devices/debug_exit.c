// SPDX-License-Identifier: MIT
/* isa-debug-exit: a write of value v to port 0xf4 ends the VM with code v. */
#include <errno.h>
#include <stdlib.h>

#include "debug_exit.h"

/* No mutable state: the hook is set once, so no lock. */
struct debug_exit {
	struct vm_end_hook hook;
};

/* Write-only, as in QEMU (its ops have no read callback). */
static uint64_t debug_exit_read(void *dev, const struct io_access *a)
{
	return io_all_ones(a->len);
}

/*
 * QEMU's isa-debug-exit takes writes of 1 to 4 bytes at any offset of its
 * region and exits with (value << 1) | 1; the value itself is the
 * outcome's code here, and the CLI does the shift. Other widths are
 * ignored.
 */
static void debug_exit_write(void *dev, const struct io_access *a,
			     uint64_t val)
{
	struct debug_exit *d = dev;

	if (a->len != 1 && a->len != 2 && a->len != 4)
		return;
	d->hook.end(d->hook.vm, SPLITVM_OUTCOME_EXIT,
		    (uint32_t)(val & io_all_ones(a->len)), a->vcpu);
}

static void debug_exit_destroy(void *dev)
{
	free(dev);
}

/* Snapshots: nothing to keep (the hook is wiring), so 0 bytes. */
static int debug_exit_save(void *dev, void *buf, size_t cap, uint64_t now)
{
	return 0;
}

static int debug_exit_load(void *dev, const void *buf, size_t len,
			   uint64_t now)
{
	return len ? -EINVAL : 0;
}

const struct device_ops debug_exit_ops = {
	.name = "debug-exit",
	.read = debug_exit_read,
	.write = debug_exit_write,
	.destroy = debug_exit_destroy,
	.save = debug_exit_save,
	.load = debug_exit_load,
};

int debug_exit_new(const struct vm_end_hook *hook, struct debug_exit **ret)
{
	struct debug_exit *d;

	if (!hook || !hook->end || !ret)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->hook = *hook;
	*ret = d;
	return 0;
}
