// SPDX-License-Identifier: MIT
/* edu: QEMU's educational PCI device, for guests that raise INTx and MSI. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "edu.h"

/* Registers (edu.rst), all 4 bytes wide; 8 for the DMA ones. */
enum {
	EDU_ID = 0x00,	     /* 0x010000ed: version 1.0 */
	EDU_LIVENESS = 0x04, /* reads back the inverse of what was written */
	EDU_FACTORIAL = 0x08,
	EDU_STATUS = 0x20, /* 0x01 computing, 0x80 IRQ when done */
	EDU_IRQ_STATUS = 0x24,
	EDU_IRQ_RAISE = 0x60,
	EDU_IRQ_ACK = 0x64,
	EDU_DMA_SRC = 0x80,
	EDU_DMA_DST = 0x88,
	EDU_DMA_COUNT = 0x90,
	EDU_DMA_CMD = 0x98,
};

#define EDU_ID_VALUE 0x010000edu
#define EDU_STATUS_COMPUTING 0x01
#define EDU_STATUS_IRQFACT 0x80
#define EDU_FACT_IRQ 0x00000001u /* the status bit a factorial raises */
#define FACT_ZERO_FROM 34 /* 2^32 divides n! from here on */

struct edu {
	pthread_mutex_t lock;
	struct pci_function *fn;
	uint32_t liveness, fact, status, irq_status;
	uint64_t dma[4];
	bool intx; /* the level last driven on INTx */
};

/* Raises or lowers the interrupt after irq_status changed; under lock. */
static void edu_update_irq(struct edu *e, bool raised)
{
	if (!e->fn)
		return;
	/* MSI is an edge: one message per raise. INTx follows the status. */
	if (pci_msi_enabled(e->fn)) {
		if (raised)
			pci_msi_notify(e->fn, 0);
		e->intx = false;
	} else {
		e->intx = e->irq_status != 0;
	}
	pci_set_intx(e->fn, e->intx);
}

static uint64_t edu_read(void *dev, const struct io_access *a)
{
	struct edu *e = dev;
	uint64_t v = io_all_ones(a->len);

	if (a->len != 4 && !(a->len == 8 && a->offset >= EDU_DMA_SRC))
		return v;
	pthread_mutex_lock(&e->lock);
	switch (a->offset) {
	case EDU_ID:
		v = EDU_ID_VALUE;
		break;
	case EDU_LIVENESS:
		v = e->liveness;
		break;
	case EDU_FACTORIAL:
		v = e->fact;
		break;
	case EDU_STATUS:
		v = e->status;
		break;
	case EDU_IRQ_STATUS:
		v = e->irq_status;
		break;
	case EDU_DMA_SRC:
	case EDU_DMA_DST:
	case EDU_DMA_COUNT:
	case EDU_DMA_CMD:
		v = e->dma[(a->offset - EDU_DMA_SRC) / 8];
		break;
	}
	pthread_mutex_unlock(&e->lock);
	return v;
}

static uint32_t factorial(uint32_t n)
{
	uint32_t r = 1;

	/*
	 * Modulo 2^32, as QEMU's does it: the guest sees the same. From 34!
	 * on it holds 2^32 and is 0, so a guest's 0xffffffff costs 34
	 * multiplications here, not four billion on its vCPU's thread.
	 */
	if (n >= FACT_ZERO_FROM)
		return 0;
	for (uint32_t i = 2; i <= n; i++)
		r *= i;
	return r;
}

static void edu_write(void *dev, const struct io_access *a, uint64_t val)
{
	struct edu *e = dev;
	uint32_t v = (uint32_t)val;

	if (a->len != 4 && !(a->len == 8 && a->offset >= EDU_DMA_SRC))
		return;
	pthread_mutex_lock(&e->lock);
	switch (a->offset) {
	case EDU_LIVENESS:
		e->liveness = ~v;
		break;
	case EDU_FACTORIAL:
		/* Computed at once: "computing" is never seen set. */
		e->fact = factorial(v);
		if (e->status & EDU_STATUS_IRQFACT) {
			e->irq_status |= EDU_FACT_IRQ;
			edu_update_irq(e, true);
		}
		break;
	case EDU_STATUS:
		e->status = (e->status & EDU_STATUS_COMPUTING) |
			    (v & EDU_STATUS_IRQFACT);
		break;
	case EDU_IRQ_RAISE:
		e->irq_status |= v;
		edu_update_irq(e, true);
		break;
	case EDU_IRQ_ACK:
		e->irq_status &= ~v;
		edu_update_irq(e, false);
		break;
	case EDU_DMA_SRC:
	case EDU_DMA_DST:
	case EDU_DMA_COUNT:
	case EDU_DMA_CMD:
		e->dma[(a->offset - EDU_DMA_SRC) / 8] =
			a->len == 8 ? val : (uint32_t)val;
		break;
	}
	pthread_mutex_unlock(&e->lock);
}

static void edu_reset(void *dev)
{
	struct edu *e = dev;

	pthread_mutex_lock(&e->lock);
	e->liveness = e->fact = e->status = e->irq_status = 0;
	for (unsigned int i = 0; i < 4; i++)
		e->dma[i] = 0;
	e->intx = false; /* the bus's reset lowers the pin */
	pthread_mutex_unlock(&e->lock);
}

static void edu_destroy(void *dev)
{
	struct edu *e = dev;

	if (!e)
		return;
	pthread_mutex_destroy(&e->lock);
	free(e);
}

/*
 * The snapshot blob, little-endian: "EDU ", the format version (u32), the
 * liveness, factorial, status and interrupt status registers (u32 each),
 * the four DMA registers (u64 each) and the level last driven on INTx
 * (u8). A factorial completes within the write that starts it, so none
 * is ever in progress; MSI enable and address are the bus's (pci.c).
 */
enum {
	SNAP_LIVENESS = 8,
	SNAP_FACT = 12,
	SNAP_STATUS = 16,
	SNAP_IRQ_STATUS = 20,
	SNAP_DMA = 24,
	SNAP_INTX = 56,
	SNAP_LEN = 57,
};

#define SNAP_VERSION 1

static const uint8_t snap_head[8] = {'E', 'D', 'U', ' ', SNAP_VERSION};

static int edu_save(void *dev, void *buf, size_t cap, uint64_t now)
{
	struct edu *e = dev;
	uint8_t *p = buf;

	if (cap < SNAP_LEN)
		return -ENOSPC;
	memcpy(p, snap_head, sizeof(snap_head));
	pthread_mutex_lock(&e->lock);
	put_le(p + SNAP_LIVENESS, e->liveness, 4);
	put_le(p + SNAP_FACT, e->fact, 4);
	put_le(p + SNAP_STATUS, e->status, 4);
	put_le(p + SNAP_IRQ_STATUS, e->irq_status, 4);
	for (unsigned int i = 0; i < 4; i++)
		put_le(p + SNAP_DMA + 8 * i, e->dma[i], 8);
	p[SNAP_INTX] = e->intx;
	pthread_mutex_unlock(&e->lock);
	return SNAP_LEN;
}

/* Whether v is n! mod 2^32 for some n, as the factorial register is. */
static bool is_factorial(uint32_t v)
{
	for (uint32_t n = 0; n <= FACT_ZERO_FROM; n++)
		if (factorial(n) == v)
			return true;
	return false;
}

/*
 * Only values the registers can hold: status keeps its IRQ bit alone
 * ("computing" is never set), the factorial is one, and INTx is high only
 * with an interrupt pending, on an attached function.
 */
static bool edu_snap_valid(const struct edu *e, const uint8_t *p)
{
	uint8_t intx = p[SNAP_INTX];

	return (get_le(p + SNAP_STATUS, 4) & ~(uint64_t)EDU_STATUS_IRQFACT) ==
		       0 &&
	       is_factorial((uint32_t)get_le(p + SNAP_FACT, 4)) && intx <= 1 &&
	       (!intx || (get_le(p + SNAP_IRQ_STATUS, 4) && e->fn));
}

/* The pin goes back to its saved level; an MSI sent is not sent again. */
static int edu_load(void *dev, const void *buf, size_t len, uint64_t now)
{
	struct edu *e = dev;
	const uint8_t *p = buf;

	if (len != SNAP_LEN || memcmp(p, snap_head, sizeof(snap_head)) ||
	    !edu_snap_valid(e, p))
		return -EINVAL;
	pthread_mutex_lock(&e->lock);
	e->liveness = (uint32_t)get_le(p + SNAP_LIVENESS, 4);
	e->fact = (uint32_t)get_le(p + SNAP_FACT, 4);
	e->status = (uint32_t)get_le(p + SNAP_STATUS, 4);
	e->irq_status = (uint32_t)get_le(p + SNAP_IRQ_STATUS, 4);
	for (unsigned int i = 0; i < 4; i++)
		e->dma[i] = get_le(p + SNAP_DMA + 8 * i, 8);
	e->intx = p[SNAP_INTX];
	if (e->fn)
		pci_set_intx(e->fn, e->intx);
	pthread_mutex_unlock(&e->lock);
	return 0;
}

const struct device_ops edu_ops = {
	.name = "edu",
	.read = edu_read,
	.write = edu_write,
	.reset = edu_reset,
	.destroy = edu_destroy,
	.save = edu_save,
	.load = edu_load,
};

int edu_new(struct edu **ret)
{
	struct edu *e;

	if (!ret)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	if (pthread_mutex_init(&e->lock, NULL)) {
		free(e);
		return -ENOMEM;
	}
	*ret = e;
	return 0;
}

void edu_desc(struct edu *e, struct pci_function_desc *ret)
{
	*ret = (struct pci_function_desc){
		.name = "edu",
		.vendor = EDU_VENDOR,
		.device = EDU_DEVICE,
		.subsystem_vendor = 0x1af4,
		.subsystem = 0x1100,
		.revision = 0x10,
		.class_code = 0x00ff00, /* QEMU's PCI_CLASS_OTHERS */
		.intx_pin = 1,
		.msi_vectors = 1,
		.bars = { [0] = { PCI_BAR_MEM32, EDU_BAR_SIZE, false, &edu_ops,
				  e } },
	};
}

void edu_attach(struct edu *e, struct pci_function *f)
{
	e->fn = f;
}
