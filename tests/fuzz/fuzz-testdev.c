// SPDX-License-Identifier: MIT
/* libFuzzer harness: pc-testdev's ports and MMIO scratch, through the buses. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "bus.h"
#include "fuzz.h"
#include "testdev.h"

/*
 * Input: a configuration byte (nr_lines - 1, folded into 1..120; 0x17 is
 * the usual 24), a flags byte (bit 0: no router, bit 1: no flush hook,
 * bit 2: the flush hook fails), then operations, one opcode byte each
 * followed by its operands. The device sits on a port bus and an MMIO
 * bus as the VM registers it, so accesses arrive as the bus cuts them.
 */
enum op {
	OP_PORT_WRITE, /* u8 port near 0xe0, len selector, u32 value */
	OP_PORT_READ,  /* u8 port near 0xe0, len selector */
	OP_LINE_WRITE, /* u8 line (may be past the last), len, u32 value */
	OP_LINE_READ,  /* u8 line, len selector */
	OP_MMIO_WRITE, /* u16 offset, len selector, u64 value */
	OP_MMIO_READ,  /* u16 offset, len selector */
	OP_RESET,
	OP_FLUSH, /* u32 address: the 4-byte write to 0xe4 */
	NR_OPS
};

#define MAX_LINE_CALLS TESTDEV_MAX_LINES /* a reset may lower them all */

struct harness {
	struct testdev *t;
	struct bus pio, mmio;
	unsigned int nr_lines;
	bool has_router, has_hook, hook_fails;
	/* the model */
	uint32_t latch;
	bool level[TESTDEV_MAX_LINES];
	uint64_t line_writes[TESTDEV_MAX_LINES];
	uint8_t iomem[TESTDEV_IOMEM_SIZE];
	/* what the callbacks saw in the current operation */
	unsigned int nr_sets;
	unsigned int set_line[MAX_LINE_CALLS];
	bool set_level[MAX_LINE_CALLS];
	unsigned int nr_flushes;
	uint64_t flush_gpa;
};

static void h_set(void *router, unsigned int line, bool level)
{
	struct harness *h = router;

	FUZZ_CHECK(line < h->nr_lines);
	FUZZ_CHECK(h->nr_sets < MAX_LINE_CALLS);
	h->set_line[h->nr_sets] = line;
	h->set_level[h->nr_sets] = level;
	h->nr_sets++;
}

static int h_flush(void *ctx, uint64_t gpa)
{
	struct harness *h = ctx;

	h->nr_flushes++;
	h->flush_gpa = gpa;
	return h->hook_fails ? -EFAULT : 0;
}

/* The latch byte behind port p, -1 for the flush port and outside. */
static int latch_byte(uint64_t port)
{
	if (port < TESTDEV_PORT_BASE ||
	    port >= TESTDEV_PORT_BASE + TESTDEV_PORT_SIZE ||
	    (port & ~3ull) == TESTDEV_FLUSH_PORT)
		return -1;
	return (int)(port & 3);
}

/* An unclaimed access: outside every region, or not wholly inside one. */
static bool claimed(const struct bus *bus, uint64_t addr, unsigned int len)
{
	return bus_find(bus, addr, len) != NULL;
}

static void port_write(struct harness *h, uint64_t port, unsigned int len,
		       uint32_t val)
{
	bool took;

	h->nr_flushes = 0;
	took = bus_write(&h->pio, port, len, 0, val);
	FUZZ_CHECK(took == claimed(&h->pio, port, len));
	if (!took || port >= TESTDEV_IRQ_BASE)
		return;
	/* QEMU's flush region takes 4-byte writes only */
	if (port == TESTDEV_FLUSH_PORT && len == 4) {
		FUZZ_CHECK(h->nr_flushes == (h->has_hook ? 1u : 0u));
		if (h->has_hook)
			FUZZ_CHECK(h->flush_gpa == (val & ~0xfffull));
		return;
	}
	FUZZ_CHECK(h->nr_flushes == 0);
	if (len != 1 && len != 2 && len != 4)
		return;
	for (unsigned int i = 0; i < len; i++) {
		int b = latch_byte(port + i);

		if (b < 0)
			continue;
		h->latch &= ~(0xffu << (8 * b));
		h->latch |= ((val >> (8 * i)) & 0xffu) << (8 * b);
	}
}

static void port_read(struct harness *h, uint64_t port, unsigned int len)
{
	uint64_t v, want = 0;
	bool took = bus_read(&h->pio, port, len, 0, &v);

	FUZZ_CHECK(took == claimed(&h->pio, port, len));
	if (!took || (len != 1 && len != 2 && len != 4)) {
		FUZZ_CHECK(v == io_all_ones(len));
		return;
	}
	for (unsigned int i = 0; i < len; i++) {
		int b = latch_byte(port + i);
		uint64_t byte = b < 0 ? 0xff : (h->latch >> (8 * b)) & 0xff;

		want |= byte << (8 * i);
	}
	FUZZ_CHECK(v == want);
}

/*
 * "Byte b of the value sets line n + b to (b != 0)"; every write is passed
 * on, even a repeated level; "bytes past the last line are dropped".
 */
static void line_write(struct harness *h, uint64_t port, unsigned int len,
		       uint32_t val)
{
	unsigned int n = (unsigned int)(port - TESTDEV_IRQ_BASE), want = 0;
	bool took;

	h->nr_sets = 0;
	took = bus_write(&h->pio, port, len, 0, val);
	FUZZ_CHECK(took == claimed(&h->pio, port, len));
	if (took && (len == 1 || len == 2 || len == 4)) {
		for (unsigned int i = 0; i < len && n + i < h->nr_lines; i++) {
			bool level = (val >> (8 * i)) & 0xff;

			h->level[n + i] = level;
			h->line_writes[n + i]++;
			if (!h->has_router)
				continue;
			FUZZ_CHECK(h->set_line[want] == n + i);
			FUZZ_CHECK(h->set_level[want] == level);
			want++;
		}
	}
	FUZZ_CHECK(h->nr_sets == want);
}

static void line_read(struct harness *h, uint64_t port, unsigned int len)
{
	unsigned int n = (unsigned int)(port - TESTDEV_IRQ_BASE);
	uint64_t v, want = 0;
	bool took = bus_read(&h->pio, port, len, 0, &v);

	FUZZ_CHECK(took == claimed(&h->pio, port, len));
	if (!took || (len != 1 && len != 2 && len != 4)) {
		FUZZ_CHECK(v == io_all_ones(len));
		return;
	}
	for (unsigned int i = 0; i < len; i++) {
		uint64_t byte = n + i < h->nr_lines ? h->level[n + i] : 0xff;

		want |= byte << (8 * i);
		/* "Writes to line port n so far (0 for n >= nr_lines)" */
		FUZZ_CHECK(testdev_line_writes(h->t, n + i) ==
			   (n + i < h->nr_lines ? h->line_writes[n + i] : 0));
	}
	FUZZ_CHECK(v == want);
}

static void mmio_write(struct harness *h, uint64_t off, unsigned int len,
		       uint64_t val)
{
	bool took = bus_write(&h->mmio, TESTDEV_IOMEM_BASE + off, len, 0, val);

	FUZZ_CHECK(took == claimed(&h->mmio, TESTDEV_IOMEM_BASE + off, len));
	if (!took)
		return;
	for (unsigned int i = 0; i < len; i++)
		h->iomem[off + i] = (uint8_t)(val >> (8 * i));
}

static void mmio_read(struct harness *h, uint64_t off, unsigned int len)
{
	uint64_t v, want = 0;
	bool took = bus_read(&h->mmio, TESTDEV_IOMEM_BASE + off, len, 0, &v);

	FUZZ_CHECK(took == claimed(&h->mmio, TESTDEV_IOMEM_BASE + off, len));
	if (!took) {
		FUZZ_CHECK(v == io_all_ones(len));
		return;
	}
	for (unsigned int i = 0; i < len; i++)
		want |= (uint64_t)h->iomem[off + i] << (8 * i);
	FUZZ_CHECK(v == want);
}

/* "Lowers the lines left high"; the latch and the scratch are kept. */
static void reset(struct harness *h)
{
	unsigned int want = 0;

	h->nr_sets = 0;
	testdev_port_ops.reset(h->t);
	for (unsigned int n = 0; n < h->nr_lines; n++) {
		if (!h->level[n])
			continue;
		h->level[n] = false;
		if (!h->has_router)
			continue;
		FUZZ_CHECK(want < h->nr_sets);
		FUZZ_CHECK(h->set_line[want] == n && !h->set_level[want]);
		want++;
	}
	FUZZ_CHECK(h->nr_sets == want);
}

/* Near the 0xe0 block: a few ports either side of it. */
static uint64_t pick_port(struct fuzz_in *in)
{
	return TESTDEV_PORT_BASE - 4 + fuzz_u8(in) % (TESTDEV_PORT_SIZE + 8);
}

static uint64_t pick_line_port(struct harness *h, struct fuzz_in *in)
{
	return TESTDEV_IRQ_BASE + fuzz_u8(in) % (h->nr_lines + 4);
}

/* The scratch, mostly inside, sometimes across its end. */
static uint64_t pick_mmio(struct fuzz_in *in)
{
	return fuzz_u16(in) % (TESTDEV_IOMEM_SIZE + 8);
}

static void run_op(struct harness *h, struct fuzz_in *in)
{
	uint64_t where;
	unsigned int len;

	switch ((enum op)(fuzz_u8(in) % NR_OPS)) {
	case OP_PORT_WRITE:
		where = pick_port(in);
		len = fuzz_len(in);
		port_write(h, where, len, fuzz_u32(in));
		break;
	case OP_PORT_READ:
		where = pick_port(in);
		port_read(h, where, fuzz_len(in));
		break;
	case OP_LINE_WRITE:
		where = pick_line_port(h, in);
		len = fuzz_len(in);
		line_write(h, where, len, fuzz_u32(in));
		break;
	case OP_LINE_READ:
		where = pick_line_port(h, in);
		line_read(h, where, fuzz_len(in));
		break;
	case OP_MMIO_WRITE:
		where = pick_mmio(in);
		len = fuzz_len(in);
		mmio_write(h, where, len, fuzz_u64(in));
		break;
	case OP_MMIO_READ:
		where = pick_mmio(in);
		mmio_read(h, where, fuzz_len(in));
		break;
	case OP_RESET:
		reset(h);
		break;
	case OP_FLUSH:
		port_write(h, TESTDEV_FLUSH_PORT, 4, fuzz_u32(in));
		break;
	case NR_OPS:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct harness h;
	struct fuzz_in in;
	uint8_t cfg, flags;

	fuzz_in_init(&in, data, size);
	cfg = fuzz_u8(&in);
	flags = fuzz_u8(&in);
	memset(&h, 0, sizeof(h));
	h.nr_lines = cfg % TESTDEV_MAX_LINES + 1;
	h.has_router = !(flags & 1);
	h.has_hook = !(flags & 2);
	h.hook_fails = flags & 4;
	{
		const struct irq_line router = { h_set, &h, 0 };
		const struct testdev_hooks hooks = { h_flush, &h };

		FUZZ_CHECK(testdev_new(h.has_router ? &router : NULL,
				       h.nr_lines, h.has_hook ? &hooks : NULL,
				       &h.t) == 0);
	}
	FUZZ_CHECK(testdev_nr_lines(h.t) == h.nr_lines);
	bus_init(&h.pio, "pio");
	bus_init(&h.mmio, "mmio");
	FUZZ_CHECK(bus_register(&h.pio, TESTDEV_PORT_BASE, TESTDEV_PORT_SIZE,
				&testdev_port_ops, h.t) == 0);
	FUZZ_CHECK(bus_register(&h.pio, TESTDEV_IRQ_BASE, h.nr_lines,
				&testdev_irq_ops, h.t) == 0);
	FUZZ_CHECK(bus_register(&h.mmio, TESTDEV_IOMEM_BASE, TESTDEV_IOMEM_SIZE,
				&testdev_mmio_ops, h.t) == 0);
	while (fuzz_more(&in))
		run_op(&h, &in);
	bus_free(&h.pio);
	bus_free(&h.mmio);
	testdev_port_ops.destroy(h.t);
	return 0;
}
