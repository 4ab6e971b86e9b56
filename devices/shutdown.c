// SPDX-License-Identifier: MIT
/* The Bochs shutdown port 0x8900: "Shutdown", byte by byte, powers off. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "shutdown.h"

static const char shutdown_magic[] = "Shutdown";
#define SHUTDOWN_MAGIC_LEN (sizeof(shutdown_magic) - 1)

struct shutdown_port {
	pthread_mutex_t lock;
	struct vm_end_hook hook;
	unsigned int matched; /* bytes of the magic seen so far */
};

static uint64_t shutdown_port_read(void *dev, const struct io_access *a)
{
	return io_all_ones(a->len);
}

/*
 * Bochs (and QEMU until it dropped the port) compare each byte with the
 * next one of "Shutdown" and start over on a mismatch. Here a mismatching
 * 'S' starts the next attempt instead of being dropped, so "SShutdown"
 * still works; as 'S' occurs only first in the magic, nothing else can be
 * a partial match. Only byte writes count; others are ignored.
 */
static void shutdown_port_write(void *dev, const struct io_access *a,
				uint64_t val)
{
	struct shutdown_port *s = dev;
	char c = (char)val;
	bool fire = false;

	if (a->len != 1)
		return;
	pthread_mutex_lock(&s->lock);
	if (c == shutdown_magic[s->matched]) {
		if (++s->matched == SHUTDOWN_MAGIC_LEN) {
			s->matched = 0;
			fire = true;
		}
	} else {
		s->matched = c == shutdown_magic[0];
	}
	pthread_mutex_unlock(&s->lock);
	/* The hook runs unlocked: it may take the VM's locks. */
	if (fire)
		s->hook.end(s->hook.vm, SPLITVM_OUTCOME_POWEROFF, 0, a->vcpu);
}

static void shutdown_port_destroy(void *dev)
{
	struct shutdown_port *s = dev;

	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static void shutdown_port_reset(void *dev)
{
	struct shutdown_port *sp = dev;

	pthread_mutex_lock(&sp->lock);
	sp->matched = 0;
	pthread_mutex_unlock(&sp->lock);
}

/*
 * The snapshot blob: "SHDN", the format version (u32 LE), then how many
 * bytes of the magic have been matched (u8): a guest may be snapshotted
 * half-way through "Shutdown".
 */
enum {
	SNAP_MATCHED = 8,
	SNAP_LEN = 9,
};

#define SNAP_VERSION 1

static int shutdown_port_save(void *dev, void *buf, size_t cap, uint64_t now)
{
	struct shutdown_port *s = dev;
	uint8_t *p = buf;

	if (cap < SNAP_LEN)
		return -ENOSPC;
	memcpy(p, "SHDN", 4);
	p[4] = SNAP_VERSION;
	p[5] = p[6] = p[7] = 0;
	pthread_mutex_lock(&s->lock);
	p[SNAP_MATCHED] = (uint8_t)s->matched;
	pthread_mutex_unlock(&s->lock);
	return SNAP_LEN;
}

/* A full match fires and starts over, so at most LEN - 1 are pending. */
static int shutdown_port_load(void *dev, const void *buf, size_t len,
			      uint64_t now)
{
	static const uint8_t head[8] = {'S', 'H', 'D', 'N', SNAP_VERSION};
	struct shutdown_port *s = dev;
	const uint8_t *p = buf;

	if (len != SNAP_LEN || memcmp(p, head, sizeof(head)) ||
	    p[SNAP_MATCHED] >= SHUTDOWN_MAGIC_LEN)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	s->matched = p[SNAP_MATCHED];
	pthread_mutex_unlock(&s->lock);
	return 0;
}

const struct device_ops shutdown_port_ops = {
	.name = "shutdown",
	.read = shutdown_port_read,
	.write = shutdown_port_write,
	.reset = shutdown_port_reset,
	.destroy = shutdown_port_destroy,
	.save = shutdown_port_save,
	.load = shutdown_port_load,
};

int shutdown_port_new(const struct vm_end_hook *hook,
		      struct shutdown_port **ret)
{
	struct shutdown_port *s;

	if (!hook || !hook->end || !ret)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->hook = *hook;
	*ret = s;
	return 0;
}
