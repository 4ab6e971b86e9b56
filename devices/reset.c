// SPDX-License-Identifier: MIT
/* The PC's reset ports: i8042 command 0x64, RCR 0xcf9, port 0x92. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "reset.h"

#define I8042_STR_IBF 0x02
/* Bits 3:0 clear in a 0xfX command pulse those output port lines low;
 * line 0 is the CPU reset (8042 command set, "Pulse output port"). */
#define I8042_CMD_PULSE 0xf0

#define RCR_SYS_RST 0x02 /* hard (1) or soft (0) reset, kept */
#define RCR_RST_CPU 0x04 /* starts the reset */

#define PORT92_FAST_RESET 0x01
#define PORT92_A20 0x02

struct reset {
	pthread_mutex_t lock;
	struct vm_end_hook hook;
	uint8_t rcr;
	uint8_t port92;
};

/*
 * The i8042 status register, when there is no i8042 behind it: all ones,
 * as an absent device reads, except the input-buffer-full bit.
 *
 * With OBF (bit 0) set, Linux's probe drains the output buffer, reads 0xff
 * sixteen times and concludes at once that there is no controller
 * (i8042_flush() -> "No controller found"), rather than taking 0.5 s to
 * time out its first command as it would were the status 0. (With ACPI,
 * an FADT whose IAPC_BOOT_ARCH lacks the 8042 flag makes it skip the probe
 * altogether.) With IBF clear, the "wait until the input buffer is empty"
 * loop that every reset routine runs before writing 0xfe to this port,
 * often without a bound, ends at once; with 0xff it would spin for ever.
 * Likewise for real-mode code gating A20 through the 8042: its waits for
 * IBF clear and OBF set both end.
 */
#define I8042_STATUS_ABSENT (0xff & ~I8042_STR_IBF)

static uint64_t reset_read(void *dev, const struct io_access *a)
{
	struct reset *r = dev;
	uint8_t v;

	if (a->len != 1)
		return io_all_ones(a->len);
	pthread_mutex_lock(&r->lock);
	switch (a->addr) {
	case RESET_PORT_I8042:
		v = I8042_STATUS_ABSENT;
		break;
	case RESET_PORT_CF9:
		v = r->rcr;
		break;
	case RESET_PORT_92:
		v = r->port92;
		break;
	default:
		v = 0xff;
		break;
	}
	pthread_mutex_unlock(&r->lock);
	return v;
}

/* Returns true when the write asks for a reset. */
static bool reset_write_locked(struct reset *r, uint64_t port, uint8_t v)
{
	uint8_t old;

	switch (port) {
	case RESET_PORT_I8042:
		/* QEMU's i8042: any pulse command with bit 0 clear (0xfe
		 * being the usual one) resets; other commands go nowhere. */
		return (v & I8042_CMD_PULSE) == I8042_CMD_PULSE && !(v & 1);
	case RESET_PORT_CF9:
		/*
		 * PIIX3/PIIX4 Reset Control Register (ICH's RST_CNT): setting
		 * RST_CPU resets, hard or soft as SYS_RST says; both end the
		 * run the same way here. Otherwise, like QEMU, only SYS_RST
		 * is kept, so Linux's read-modify-write sequence (write
		 * 0x02, then 0x06 or 0x0e) works.
		 */
		if (v & RCR_RST_CPU) {
			r->rcr = 0; /* what the reset leaves */
			return true;
		}
		r->rcr = v & RCR_SYS_RST;
		return false;
	case RESET_PORT_92:
		/*
		 * System Control Port A: all bits read back (A20 gate in bit
		 * 1, which KVM does not model: A20 is always on). Bit 0
		 * going 0 -> 1 is a fast reset; as QEMU's port92 reset
		 * does, the reset leaves it clear, so a rebooted guest can
		 * use it again.
		 */
		old = r->port92;
		r->port92 = v;
		if ((v & PORT92_FAST_RESET) && !(old & PORT92_FAST_RESET)) {
			r->port92 &= (uint8_t)~PORT92_FAST_RESET;
			return true;
		}
		return false;
	default:
		return false;
	}
}

static void reset_write(void *dev, const struct io_access *a, uint64_t val)
{
	struct reset *r = dev;
	bool fire;

	if (a->len != 1)
		return;
	pthread_mutex_lock(&r->lock);
	fire = reset_write_locked(r, a->addr, (uint8_t)val);
	pthread_mutex_unlock(&r->lock);
	/* The hook runs unlocked: it may take the VM's locks. */
	if (fire)
		r->hook.end(r->hook.vm, SPLITVM_OUTCOME_RESET, 0, a->vcpu);
}

static void reset_destroy(void *dev)
{
	struct reset *r = dev;

	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* Power-on values: RCR 0, port 0x92 0 (as QEMU). */
static void reset_reset(void *dev)
{
	struct reset *r = dev;

	pthread_mutex_lock(&r->lock);
	r->rcr = 0;
	r->port92 = 0;
	pthread_mutex_unlock(&r->lock);
}

/*
 * The snapshot blob: "RSET", the format version (u32 LE), RCR, port 0x92.
 * The i8042 status is a constant and the hook is wiring.
 */
enum {
	SNAP_RCR = 8,
	SNAP_PORT92 = 9,
	SNAP_LEN = 10,
};

#define SNAP_VERSION 1

static int reset_save(void *dev, void *buf, size_t cap, uint64_t now)
{
	struct reset *r = dev;
	uint8_t *p = buf;

	if (cap < SNAP_LEN)
		return -ENOSPC;
	memcpy(p, "RSET", 4);
	p[4] = SNAP_VERSION;
	p[5] = p[6] = p[7] = 0;
	pthread_mutex_lock(&r->lock);
	p[SNAP_RCR] = r->rcr;
	p[SNAP_PORT92] = r->port92;
	pthread_mutex_unlock(&r->lock);
	return SNAP_LEN;
}

/*
 * Only what a write can leave: RCR keeps SYS_RST alone, and port 0x92's
 * fast-reset bit is always cleared again by the reset it starts.
 */
static int reset_load(void *dev, const void *buf, size_t len, uint64_t now)
{
	static const uint8_t head[8] = {'R', 'S', 'E', 'T', SNAP_VERSION};
	struct reset *r = dev;
	const uint8_t *p = buf;

	if (len != SNAP_LEN || memcmp(p, head, sizeof(head)) ||
	    (p[SNAP_RCR] & ~RCR_SYS_RST) ||
	    (p[SNAP_PORT92] & PORT92_FAST_RESET))
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	r->rcr = p[SNAP_RCR];
	r->port92 = p[SNAP_PORT92];
	pthread_mutex_unlock(&r->lock);
	return 0;
}

const struct device_ops reset_ops = {
	.name = "reset",
	.read = reset_read,
	.write = reset_write,
	.reset = reset_reset,
	.destroy = reset_destroy,
	.save = reset_save,
	.load = reset_load,
};

int reset_new(const struct vm_end_hook *hook, struct reset **ret)
{
	struct reset *r;

	if (!hook || !hook->end || !ret)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	r->hook = *hook;
	*ret = r;
	return 0;
}
