// SPDX-License-Identifier: MIT
/* pci-testdev: QEMU's PCI test device, as kvm-unit-tests drive it. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pci_testdev.h"

/*
 * The header (docs/specs/pci-testdev.rst): test (byte 0, written to start
 * one), width (1), offset (4-7), data (8), count (12-15), then the test's
 * name with its NUL. The offset is past the header, in the second half of
 * the BAR: BAR size / 2 + the test's global number (0-2 for memory, 3-5
 * for ports), so each test hits its own byte.
 */
enum {
	HDR_TEST = 0,
	HDR_WIDTH = 1,
	HDR_OFFSET = 4,
	HDR_DATA = 8,
	HDR_COUNT = 12,
	HDR_NAME = 16
};

#define TESTS_PER_KIND 3
#define DATA_MATCH 0xfa
#define DATA_ANY 0xce
#define NAME_MAX 32

static const char *const test_names[TESTS_PER_KIND] = { "no-eventfd",
							"wildcard-eventfd",
							"datamatch-eventfd" };

struct pci_testdev {
	pthread_mutex_t lock;
	int current; /* 0-5, or -1: no test running */
	uint32_t count;
};

/* Test t's (0-5) header byte at off; 0 past its name. */
static uint8_t header_byte(const struct pci_testdev *d, int t, uint64_t off)
{
	bool io = t >= TESTS_PER_KIND;
	uint32_t target =
		(io ? PCI_TESTDEV_IO_SIZE : PCI_TESTDEV_MEM_SIZE) / 2 +
		(uint32_t)t;
	char name[NAME_MAX];

	switch (off) {
	case HDR_TEST:
		return (uint8_t)t;
	case HDR_WIDTH:
		return 1;
	case HDR_OFFSET:
	case HDR_OFFSET + 1:
	case HDR_OFFSET + 2:
	case HDR_OFFSET + 3:
		return (uint8_t)(target >> (8 * (off - HDR_OFFSET)));
	case HDR_DATA:
		return t % TESTS_PER_KIND == 1 ? DATA_ANY : DATA_MATCH;
	case HDR_COUNT:
	case HDR_COUNT + 1:
	case HDR_COUNT + 2:
	case HDR_COUNT + 3:
		return (uint8_t)(d->count >> (8 * (off - HDR_COUNT)));
	}
	if (off < HDR_NAME || off >= HDR_NAME + NAME_MAX)
		return 0;
	strcpy(name, io ? "portio-" : "mmio-");
	strcat(name, test_names[t % TESTS_PER_KIND]);
	return off - HDR_NAME < strlen(name) ? (uint8_t)name[off - HDR_NAME]
					     : 0;
}

static void write_byte(struct pci_testdev *d, bool io, uint64_t off, uint8_t v)
{
	int t = d->current;

	if (off == HDR_TEST) {
		d->current =
			v < TESTS_PER_KIND ? v + (io ? TESTS_PER_KIND : 0) : -1;
		d->count = 0;
		return;
	}
	if (t < 0 || (t >= TESTS_PER_KIND) != io)
		return;
	if (off !=
	    (io ? PCI_TESTDEV_IO_SIZE : PCI_TESTDEV_MEM_SIZE) / 2 + (uint64_t)t)
		return;
	/* "wildcard" counts any byte; the others only their data byte. */
	if (t % TESTS_PER_KIND != 1 && v != DATA_MATCH)
		return;
	d->count++;
}

static uint64_t testdev_read(struct pci_testdev *d, bool io,
			     const struct io_access *a)
{
	uint64_t v = 0;

	pthread_mutex_lock(&d->lock);
	/* The current test's header is read through either BAR, as in
	 * QEMU; nothing is there while no test runs. */
	for (unsigned int i = 0; d->current >= 0 && i < a->len; i++)
		v |= (uint64_t)header_byte(d, d->current, a->offset + i)
		     << (8 * i);
	pthread_mutex_unlock(&d->lock);
	(void)io;
	return v;
}

static void testdev_write(struct pci_testdev *d, bool io,
			  const struct io_access *a, uint64_t val)
{
	pthread_mutex_lock(&d->lock);
	for (unsigned int i = 0; i < a->len; i++)
		write_byte(d, io, a->offset + i, (uint8_t)(val >> (8 * i)));
	pthread_mutex_unlock(&d->lock);
}

static uint64_t mem_read(void *dev, const struct io_access *a)
{
	return testdev_read(dev, false, a);
}

static void mem_write(void *dev, const struct io_access *a, uint64_t val)
{
	testdev_write(dev, false, a, val);
}

static uint64_t io_read(void *dev, const struct io_access *a)
{
	return testdev_read(dev, true, a);
}

static void io_write(void *dev, const struct io_access *a, uint64_t val)
{
	testdev_write(dev, true, a, val);
}

static void testdev_reset(void *dev)
{
	struct pci_testdev *d = dev;

	pthread_mutex_lock(&d->lock);
	d->current = -1;
	d->count = 0;
	pthread_mutex_unlock(&d->lock);
}

static void testdev_destroy(void *dev)
{
	struct pci_testdev *d = dev;

	if (!d)
		return;
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/*
 * The snapshot blob, little-endian: "PTST", the format version (u32), the
 * running test (u8: 0-5, or 0xff for none) and its count (u32). The
 * function's configuration space is the bus's to save (pci.c).
 */
enum {
	SNAP_CURRENT = 8,
	SNAP_COUNT = 9,
	SNAP_LEN = 13,
};

#define SNAP_VERSION 1
#define SNAP_NO_TEST 0xff

static const uint8_t snap_head[8] = {'P', 'T', 'S', 'T', SNAP_VERSION};

static int testdev_save(void *dev, void *buf, size_t cap, uint64_t now)
{
	struct pci_testdev *d = dev;
	uint8_t *p = buf;

	if (cap < SNAP_LEN)
		return -ENOSPC;
	memcpy(p, snap_head, sizeof(snap_head));
	pthread_mutex_lock(&d->lock);
	p[SNAP_CURRENT] = d->current < 0 ? SNAP_NO_TEST : (uint8_t)d->current;
	for (unsigned int i = 0; i < 4; i++)
		p[SNAP_COUNT + i] = (uint8_t)(d->count >> (8 * i));
	pthread_mutex_unlock(&d->lock);
	return SNAP_LEN;
}

/* A test is 0-5, and nothing is counted while none runs (write_byte()). */
static int testdev_load(void *dev, const void *buf, size_t len, uint64_t now)
{
	struct pci_testdev *d = dev;
	const uint8_t *p = buf;
	uint8_t cur;
	uint32_t count = 0;

	if (len != SNAP_LEN || memcmp(p, snap_head, sizeof(snap_head)))
		return -EINVAL;
	cur = p[SNAP_CURRENT];
	for (unsigned int i = 0; i < 4; i++)
		count |= (uint32_t)p[SNAP_COUNT + i] << (8 * i);
	if (cur == SNAP_NO_TEST ? count != 0 : cur >= 2 * TESTS_PER_KIND)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	d->current = cur == SNAP_NO_TEST ? -1 : cur;
	d->count = count;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* BAR 1's table serves the same device: its state is in BAR 0's blob. */
static int testdev_io_save(void *dev, void *buf, size_t cap, uint64_t now)
{
	return 0;
}

static int testdev_io_load(void *dev, const void *buf, size_t len,
			   uint64_t now)
{
	return len ? -EINVAL : 0;
}

const struct device_ops pci_testdev_mem_ops = {
	.name = "pci-testdev",
	.read = mem_read,
	.write = mem_write,
	.reset = testdev_reset,
	.destroy = testdev_destroy,
	.save = testdev_save,
	.load = testdev_load,
};

const struct device_ops pci_testdev_io_ops = {
	.name = "pci-testdev-io",
	.read = io_read,
	.write = io_write,
	.save = testdev_io_save,
	.load = testdev_io_load,
};

int pci_testdev_new(struct pci_testdev **ret)
{
	struct pci_testdev *d;

	if (!ret)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (pthread_mutex_init(&d->lock, NULL)) {
		free(d);
		return -ENOMEM;
	}
	d->current = -1;
	*ret = d;
	return 0;
}

void pci_testdev_desc(struct pci_testdev *t, struct pci_function_desc *ret)
{
	*ret = (struct pci_function_desc){
		.name = "pci-testdev",
		.vendor = PCI_TESTDEV_VENDOR,
		.device = PCI_TESTDEV_DEVICE,
		.subsystem_vendor = 0x1af4,
		.subsystem = 0x1100,
		.class_code = 0x00ff00, /* QEMU's PCI_CLASS_OTHERS */
		.bars = {
			[0] = { PCI_BAR_MEM32, PCI_TESTDEV_MEM_SIZE, false,
				&pci_testdev_mem_ops, t },
			[1] = { PCI_BAR_IO, PCI_TESTDEV_IO_SIZE, false,
				&pci_testdev_io_ops, t },
		},
	};
}
