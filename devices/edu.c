// SPDX-License-Identifier: MIT
/* edu: QEMU's educational PCI device, for guests that raise INTx and MSI. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

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

struct edu {
	pthread_mutex_t lock;
	struct pci_function *fn;
	uint32_t liveness, fact, status, irq_status;
	uint64_t dma[4];
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
		pci_set_intx(e->fn, false);
		return;
	}
	pci_set_intx(e->fn, e->irq_status != 0);
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

	/* Modulo 2^32, as QEMU's does it: the guest sees the same. */
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

const struct device_ops edu_ops = {
	.name = "edu",
	.read = edu_read,
	.write = edu_write,
	.reset = edu_reset,
	.destroy = edu_destroy,
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
