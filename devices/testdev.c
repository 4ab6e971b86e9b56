// SPDX-License-Identifier: MIT
/* pc-testdev: latch, flush-page and interrupt-line ports, and MMIO scratch. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <libfdt.h>

#include "fdt_machine.h"
#include "testdev.h"

/*
 * Behaviour follows QEMU's hw/misc/pc-testdev.c as seen through QEMU's
 * memory core, which is what a guest observes: the core splits an access
 * into the widths each region accepts (address_space_rw ->
 * memory_access_size), so the ports act byte by byte. Hence:
 *
 * - 0xe0 and 0xe8 are two windows onto one 32-bit latch (ioport_data),
 *   each byte of an access at port p reading or writing byte p & 3 of it.
 *   kvm-unit-tests' emulator test does "rep outsb" to 0xe0 and expects
 *   "inb" to give the last byte, and "outw 0x9999" then "rep insb" into
 *   MMIO expecting 0x99 in every byte.
 * - 0xe4 takes only 4-byte writes: the value is a guest-physical
 *   address whose page is flushed out of the guest's mappings
 *   (kvm-unit-tests' eventinj does outl(virt_to_phys(page), 0xe4) to make
 *   KVM fault on the IDT or stack page while delivering an event).
 * - 0x2000 + n takes 1-byte accesses, so a wider write sets lines n,
 *   n + 1, ... from its bytes, little-endian.
 * - The MMIO scratch is a little-endian byte array, any width and offset.
 *
 * Two choices differ from QEMU, which returns 0 from both reads:
 * the flush port is write-only and reads all ones (splitvm's rule for
 * write-only ports, as debug-exit), and a line port reads the level last
 * written to it (0 or 1), which lets a test check what it drove.
 */

struct testdev {
	pthread_mutex_t lock;	/* guards the latch, levels, counters, iomem */
	struct irq_line router; /* .line unused: set per write */
	struct testdev_hooks hooks;
	unsigned int nr_lines;
	uint32_t latch;
	bool level[TESTDEV_MAX_LINES];
	uint64_t line_writes[TESTDEV_MAX_LINES];
	struct testdev_stats stats;
	/*
	 * TESTDEV_IOMEM_SIZE bytes, mapped rather than allocated: the pages
	 * read as zero and cost no memory until the guest writes them, and
	 * most guests never do.
	 */
	uint8_t *iomem;
};

/* Port I/O is 1, 2 or 4 bytes; anything else is not ours to serve. */
static bool pio_width(unsigned int len)
{
	return len == 1 || len == 2 || len == 4;
}

/*
 * The latch byte behind port p, or -1 when p is the flush port or outside
 * the block (those bytes read all ones and take no writes).
 */
static int latch_byte(uint64_t port)
{
	uint64_t off = port - TESTDEV_PORT_BASE;

	if (off >= TESTDEV_PORT_SIZE ||
	    (off & ~3ull) == TESTDEV_FLUSH_PORT - TESTDEV_PORT_BASE)
		return -1;
	return (int)(off & 3);
}

static uint64_t testdev_port_read(void *dev, const struct io_access *a)
{
	struct testdev *t = dev;
	uint64_t v = 0;
	bool served = false;

	pthread_mutex_lock(&t->lock);
	if (!pio_width(a->len)) {
		t->stats.ignored++;
		pthread_mutex_unlock(&t->lock);
		return io_all_ones(a->len);
	}
	for (unsigned int i = 0; i < a->len; i++) {
		int b = latch_byte(a->addr + i);
		uint64_t byte = 0xff;

		if (b >= 0) {
			byte = (t->latch >> (8 * b)) & 0xff;
			served = true;
		}
		v |= byte << (8 * i);
	}
	if (!served)
		t->stats.ignored++;
	pthread_mutex_unlock(&t->lock);
	return v;
}

/*
 * QEMU maps the page (data & ~0xfff) and mprotects it PROT_NONE and back:
 * the MMU notifier then zaps KVM's mapping of it (splitvm's hook,
 * guest_mem_flush_page(), goes write-only instead, so that other threads
 * never fault on the page meanwhile). Only the port's 32 bits
 * exist, so the address is below 4 GiB. The hook runs unlocked: it touches
 * no device state and may take a while.
 */
static void testdev_flush(struct testdev *t, uint32_t addr)
{
	uint64_t gpa = addr & ~(uint64_t)0xfff;
	int r = 0;

	if (t->hooks.flush_page)
		r = t->hooks.flush_page(t->hooks.ctx, gpa);
	pthread_mutex_lock(&t->lock);
	t->stats.flushes++;
	if (r < 0)
		t->stats.flush_errors++;
	pthread_mutex_unlock(&t->lock);
}

static void testdev_port_write(void *dev, const struct io_access *a,
			       uint64_t val)
{
	struct testdev *t = dev;
	bool served = false;

	/* QEMU's flush region is valid for 4-byte accesses only. */
	if (a->addr == TESTDEV_FLUSH_PORT && a->len == 4) {
		testdev_flush(t, (uint32_t)val);
		return;
	}
	pthread_mutex_lock(&t->lock);
	for (unsigned int i = 0; pio_width(a->len) && i < a->len; i++) {
		int b = latch_byte(a->addr + i);
		uint32_t byte = (uint32_t)(val >> (8 * i)) & 0xff;

		if (b < 0)
			continue;
		t->latch &= ~(0xffu << (8 * b));
		t->latch |= byte << (8 * b);
		served = true;
	}
	if (served)
		t->stats.latch_writes++;
	else
		t->stats.ignored++;
	pthread_mutex_unlock(&t->lock);
}

/*
 * Drives the router under the lock, so that two vCPUs writing one line
 * reach the router in the order their levels were recorded. Every write
 * is passed on, even one that repeats the level, as qemu_set_irq does:
 * the router decides what an unchanged level means.
 */
static void testdev_set_line(struct testdev *t, unsigned int n, bool level)
{
	const struct irq_line l = {t->router.set, t->router.router, n};

	t->level[n] = level;
	t->line_writes[n]++;
	t->stats.line_writes++;
	irq_line_set(&l, level);
}

static uint64_t testdev_irq_read(void *dev, const struct io_access *a)
{
	struct testdev *t = dev;
	uint64_t v = 0;

	pthread_mutex_lock(&t->lock);
	if (!pio_width(a->len)) {
		t->stats.ignored++;
		pthread_mutex_unlock(&t->lock);
		return io_all_ones(a->len);
	}
	for (unsigned int i = 0; i < a->len; i++) {
		uint64_t n = a->addr + i - TESTDEV_IRQ_BASE;
		uint64_t byte = n < t->nr_lines ? t->level[n] : 0xff;

		v |= byte << (8 * i);
	}
	pthread_mutex_unlock(&t->lock);
	return v;
}

/*
 * Byte b of the value sets line n + b to (b != 0), as QEMU's 1-byte
 * region does once its memory core has split the access; kvm-unit-tests
 * itself only uses outb. Bytes past the last line are dropped.
 */
static void testdev_irq_write(void *dev, const struct io_access *a,
			      uint64_t val)
{
	struct testdev *t = dev;
	bool dropped = !pio_width(a->len);

	pthread_mutex_lock(&t->lock);
	for (unsigned int i = 0; !dropped && i < a->len; i++) {
		uint64_t n = a->addr + i - TESTDEV_IRQ_BASE;

		if (n >= t->nr_lines) {
			dropped = true;
			break;
		}
		testdev_set_line(t, (unsigned int)n, (val >> (8 * i)) & 0xff);
	}
	if (dropped)
		t->stats.ignored++;
	pthread_mutex_unlock(&t->lock);
}

/*
 * The offset into the scratch of an access lying wholly inside it. The
 * bus guarantees that for a region of TESTDEV_IOMEM_SIZE at
 * TESTDEV_IOMEM_BASE; this only keeps a misregistration from overrunning.
 */
static bool iomem_offset(const struct io_access *a, uint64_t *ret)
{
	uint64_t off = a->addr - TESTDEV_IOMEM_BASE;

	if (a->len == 0 || a->len > 8 || off >= TESTDEV_IOMEM_SIZE ||
	    a->len > TESTDEV_IOMEM_SIZE - off)
		return false;
	*ret = off;
	return true;
}

/* Little-endian, as QEMU's DEVICE_LITTLE_ENDIAN memcpy on an x86 host. */
static uint64_t testdev_mmio_read(void *dev, const struct io_access *a)
{
	struct testdev *t = dev;
	uint64_t off, v = 0;

	if (!iomem_offset(a, &off))
		return io_all_ones(a->len);
	pthread_mutex_lock(&t->lock);
	for (unsigned int i = 0; i < a->len; i++)
		v |= (uint64_t)t->iomem[off + i] << (8 * i);
	pthread_mutex_unlock(&t->lock);
	return v;
}

static void testdev_mmio_write(void *dev, const struct io_access *a,
			       uint64_t val)
{
	struct testdev *t = dev;
	uint64_t off;

	if (!iomem_offset(a, &off))
		return;
	pthread_mutex_lock(&t->lock);
	for (unsigned int i = 0; i < a->len; i++)
		t->iomem[off + i] = (uint8_t)(val >> (8 * i));
	pthread_mutex_unlock(&t->lock);
}

/*
 * Lowers the lines left high, as a device does at power-on. The latch and
 * the scratch keep their contents: QEMU's pc-testdev has no reset handler,
 * so a guest that rebooted finds them as it left them.
 */
static void testdev_reset(void *dev)
{
	struct testdev *t = dev;

	pthread_mutex_lock(&t->lock);
	for (unsigned int n = 0; n < t->nr_lines; n++) {
		const struct irq_line l = {t->router.set, t->router.router, n};

		if (!t->level[n])
			continue;
		t->level[n] = false;
		irq_line_set(&l, false);
	}
	pthread_mutex_unlock(&t->lock);
}

/*
 * One node naming all three windows, in the ISA binding's spaces (1: I/O,
 * 0: memory): <1 0xe0 12>, <1 0x2000 nr_lines>, <0 0xff000000 0x10000>.
 * "qemu,pc-testdev" is QEMU's device name; no binding exists.
 */
static int testdev_describe(void *dev, void *fdt, int parent)
{
	const struct testdev *t = dev;
	const fdt32_t reg[] = {
	    cpu_to_fdt32(1), cpu_to_fdt32(TESTDEV_PORT_BASE),
	    cpu_to_fdt32(TESTDEV_PORT_SIZE), cpu_to_fdt32(1),
	    cpu_to_fdt32(TESTDEV_IRQ_BASE), cpu_to_fdt32(t->nr_lines),
	    cpu_to_fdt32(0), cpu_to_fdt32((uint32_t)TESTDEV_IOMEM_BASE),
	    cpu_to_fdt32(TESTDEV_IOMEM_SIZE),
	};
	int off = fdt_add_isa_device(fdt, parent, "testdev", "qemu,pc-testdev",
				     TESTDEV_PORT_BASE, TESTDEV_PORT_SIZE, -1);
	int r;

	if (off < 0)
		return off;
	r = fdt_setprop(fdt, off, "reg", reg, sizeof(reg));
	if (r < 0)
		return r == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
	return 0;
}

static void testdev_destroy(void *dev)
{
	struct testdev *t = dev;

	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	munmap(t->iomem, TESTDEV_IOMEM_SIZE);
	free(t);
}

/*
 * The snapshot blob, little-endian: "TDEV", the format version (u32), the
 * number of line ports (u32: the configuration it was taken from), the
 * latch (u32), the counters testdev_get_stats() reports (5 x u64), a
 * bitmap (u32) of the scratch's pages that hold anything; then each
 * line's level (u8) and write count (u64), and the bitmap's pages, 4 KiB
 * each, in order. The scratch is device memory, not guest RAM, so it is
 * the device's to save; leaving out the pages that are all zero keeps
 * the blob small for the many guests that never touch it.
 */
enum {
	SNAP_NR_LINES = 8,
	SNAP_LATCH = 12,
	SNAP_STATS = 16, /* latch_writes, flushes, flush_errors, ... */
	SNAP_PAGES = 56,
	SNAP_LEVELS = 60,
};

#define SNAP_VERSION 1
#define SNAP_STATS_N 5
#define SNAP_PAGE 4096u
#define SNAP_NR_PAGES (TESTDEV_IOMEM_SIZE / SNAP_PAGE)

static const uint8_t snap_head[8] = {'T', 'D', 'E', 'V', SNAP_VERSION};

/* The blob's length for n lines and the pages of bitmap. */
static size_t snap_len(unsigned int n, uint32_t pages)
{
	return SNAP_LEVELS + 9 * (size_t)n +
	       (size_t)__builtin_popcount(pages) * SNAP_PAGE;
}

static void snap_put_stats(uint8_t *p, const struct testdev_stats *st)
{
	const uint64_t v[SNAP_STATS_N] = {st->latch_writes, st->flushes,
					  st->flush_errors, st->line_writes,
					  st->ignored};

	for (unsigned int i = 0; i < SNAP_STATS_N; i++)
		put_le(p + 8 * i, v[i], 8);
}

static void snap_get_stats(const uint8_t *p, struct testdev_stats *st)
{
	st->latch_writes = get_le(p, 8);
	st->flushes = get_le(p + 8, 8);
	st->flush_errors = get_le(p + 16, 8);
	st->line_writes = get_le(p + 24, 8);
	st->ignored = get_le(p + 32, 8);
}

static int testdev_save(void *dev, void *buf, size_t cap, uint64_t now)
{
	struct testdev *t = dev;
	unsigned int n = t->nr_lines;
	uint8_t *p = buf, *page;
	uint32_t pages = 0;
	size_t len;

	pthread_mutex_lock(&t->lock);
	for (unsigned int i = 0; i < SNAP_NR_PAGES; i++)
		if (!mem_is_zero(t->iomem + i * SNAP_PAGE, SNAP_PAGE))
			pages |= 1u << i;
	len = snap_len(n, pages);
	if (cap < len) {
		pthread_mutex_unlock(&t->lock);
		return -ENOSPC;
	}
	memcpy(p, snap_head, sizeof(snap_head));
	put_le(p + SNAP_NR_LINES, n, 4);
	put_le(p + SNAP_LATCH, t->latch, 4);
	snap_put_stats(p + SNAP_STATS, &t->stats);
	put_le(p + SNAP_PAGES, pages, 4);
	for (unsigned int i = 0; i < n; i++) {
		p[SNAP_LEVELS + i] = t->level[i];
		put_le(p + SNAP_LEVELS + n + 8 * i, t->line_writes[i], 8);
	}
	page = p + SNAP_LEVELS + 9 * n;
	for (unsigned int i = 0; i < SNAP_NR_PAGES; i++) {
		if (!(pages & (1u << i)))
			continue;
		memcpy(page, t->iomem + i * SNAP_PAGE, SNAP_PAGE);
		page += SNAP_PAGE;
	}
	pthread_mutex_unlock(&t->lock);
	return (int)len;
}

/*
 * The per-line fields: levels 0 or 1, a line high only once written, and
 * the per-line counts adding up to the total (both are counted together
 * in testdev_set_line()).
 */
static bool snap_lines_valid(const uint8_t *p, unsigned int n,
			     const struct testdev_stats *st)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint8_t level = p[SNAP_LEVELS + i];
		uint64_t writes = get_le(p + SNAP_LEVELS + n + 8 * i, 8);

		if (level > 1 || (level && !writes))
			return false;
		sum += writes;
	}
	return sum == st->line_writes && st->flush_errors <= st->flushes;
}

/* Every page the bitmap names holds something, as save only names such. */
static bool snap_pages_valid(const uint8_t *page, uint32_t pages)
{
	if (pages >> SNAP_NR_PAGES)
		return false;
	for (int i = __builtin_popcount(pages); i > 0; i--, page += SNAP_PAGE)
		if (mem_is_zero(page, SNAP_PAGE))
			return false;
	return true;
}

static bool snap_valid(const struct testdev *t, const uint8_t *p, size_t len,
		       struct testdev_stats *st)
{
	unsigned int n = t->nr_lines;
	uint32_t pages;

	if (len < SNAP_LEVELS || memcmp(p, snap_head, sizeof(snap_head)) ||
	    get_le(p + SNAP_NR_LINES, 4) != n)
		return false;
	pages = (uint32_t)get_le(p + SNAP_PAGES, 4);
	if (pages >> SNAP_NR_PAGES || len != snap_len(n, pages))
		return false;
	snap_get_stats(p + SNAP_STATS, st);
	return snap_lines_valid(p, n, st) &&
	       snap_pages_valid(p + SNAP_LEVELS + 9 * n, pages);
}

/* The scratch's pages: the blob's, and zeros where it names none. */
static void snap_load_pages(struct testdev *t, const uint8_t *page,
			    uint32_t pages)
{
	for (unsigned int i = 0; i < SNAP_NR_PAGES; i++) {
		uint8_t *to = t->iomem + i * SNAP_PAGE;

		if (pages & (1u << i)) {
			memcpy(to, page, SNAP_PAGE);
			page += SNAP_PAGE;
		} else if (!mem_is_zero(to, SNAP_PAGE)) {
			memset(to, 0, SNAP_PAGE);
		}
	}
}

/* The lines go to their loaded levels: only those that change are driven. */
static int testdev_load(void *dev, const void *buf, size_t len, uint64_t now)
{
	struct testdev *t = dev;
	unsigned int n = t->nr_lines;
	const uint8_t *p = buf;
	struct testdev_stats st;

	if (!snap_valid(t, p, len, &st))
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	t->latch = (uint32_t)get_le(p + SNAP_LATCH, 4);
	t->stats = st;
	snap_load_pages(t, p + SNAP_LEVELS + 9 * n,
			(uint32_t)get_le(p + SNAP_PAGES, 4));
	for (unsigned int i = 0; i < n; i++) {
		const struct irq_line l = {t->router.set, t->router.router, i};
		bool level = p[SNAP_LEVELS + i];

		t->line_writes[i] = get_le(p + SNAP_LEVELS + n + 8 * i, 8);
		if (level == t->level[i])
			continue;
		t->level[i] = level;
		irq_line_set(&l, level);
	}
	pthread_mutex_unlock(&t->lock);
	return 0;
}

/*
 * The line-port and scratch tables serve the same device: its state is
 * all in testdev_port_ops' blob, so theirs are empty.
 */
static int testdev_part_save(void *dev, void *buf, size_t cap, uint64_t now)
{
	return 0;
}

static int testdev_part_load(void *dev, const void *buf, size_t len,
			     uint64_t now)
{
	return len ? -EINVAL : 0;
}

const struct device_ops testdev_port_ops = {
	.name = "testdev",
	.read = testdev_port_read,
	.write = testdev_port_write,
	.reset = testdev_reset,
	.describe = testdev_describe,
	.destroy = testdev_destroy,
	.save = testdev_save,
	.load = testdev_load,
};

const struct device_ops testdev_irq_ops = {
	.name = "testdev-irq",
	.read = testdev_irq_read,
	.write = testdev_irq_write,
	.save = testdev_part_save,
	.load = testdev_part_load,
};

const struct device_ops testdev_mmio_ops = {
	.name = "testdev-iomem",
	.read = testdev_mmio_read,
	.write = testdev_mmio_write,
	.save = testdev_part_save,
	.load = testdev_part_load,
};

int testdev_new(const struct irq_line *router, unsigned int nr_lines,
		const struct testdev_hooks *hooks, struct testdev **ret)
{
	struct testdev *t;

	if (!ret || !nr_lines || nr_lines > TESTDEV_MAX_LINES)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->iomem = mmap(NULL, TESTDEV_IOMEM_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->iomem == MAP_FAILED || pthread_mutex_init(&t->lock, NULL)) {
		if (t->iomem != MAP_FAILED)
			munmap(t->iomem, TESTDEV_IOMEM_SIZE);
		free(t);
		return -ENOMEM;
	}
	if (router)
		t->router = *router;
	if (hooks)
		t->hooks = *hooks;
	t->nr_lines = nr_lines;
	*ret = t;
	return 0;
}

unsigned int testdev_nr_lines(const struct testdev *t)
{
	return t->nr_lines;
}

uint64_t testdev_line_writes(struct testdev *t, unsigned int line)
{
	uint64_t n = 0;

	pthread_mutex_lock(&t->lock);
	if (line < t->nr_lines)
		n = t->line_writes[line];
	pthread_mutex_unlock(&t->lock);
	return n;
}

void testdev_get_stats(struct testdev *t, struct testdev_stats *ret)
{
	pthread_mutex_lock(&t->lock);
	*ret = t->stats;
	pthread_mutex_unlock(&t->lock);
}
