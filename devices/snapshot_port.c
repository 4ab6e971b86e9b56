// SPDX-License-Identifier: MIT
/*
 * The snapshot port (SNAPSHOT_PORT, 4 bytes): a write asks the machine for
 * a snapshot at this instruction, the value being the guest's own tag.
 * Reads give 0. The device keeps no state: what a snapshot holds of it is
 * nothing.
 */
#include <errno.h>
#include <stdlib.h>

#include "snapshot_port.h"

struct snapshot_port {
	struct snapshot_hook hook;
};

static uint64_t snapshot_port_read(void *dev, const struct io_access *a)
{
	return 0;
}

static void snapshot_port_write(void *dev, const struct io_access *a,
				uint64_t val)
{
	struct snapshot_port *p = dev;

	if (a->offset == 0 && (a->len == 1 || a->len == 2 || a->len == 4))
		p->hook.request(p->hook.vm, (uint32_t)val, a->vcpu);
}

static void snapshot_port_destroy(void *dev)
{
	free(dev);
}

static int snapshot_port_save(void *dev, void *buf, size_t cap, uint64_t now)
{
	return 0;
}

static int snapshot_port_load(void *dev, const void *buf, size_t len,
			      uint64_t now)
{
	return len ? -EINVAL : 0;
}

const struct device_ops snapshot_port_ops = {
	.name = "snapshot-port",
	.read = snapshot_port_read,
	.write = snapshot_port_write,
	.destroy = snapshot_port_destroy,
	.save = snapshot_port_save,
	.load = snapshot_port_load,
};

int snapshot_port_new(const struct snapshot_hook *hook,
		      struct snapshot_port **ret)
{
	struct snapshot_port *p;

	if (!hook || !hook->request || !ret)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->hook = *hook;
	*ret = p;
	return 0;
}
