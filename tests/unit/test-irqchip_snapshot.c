// SPDX-License-Identifier: MIT
/* Snapshots of the whole interrupt controller, on VMs without vCPUs. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "fakes.h"
#include "ioapic.h"
#include "irqchip.h"
#include "pic.h"
#include "rng.h"
#include "unit.h"

#define BLOB_MAX 32768
#define MAX_EVENTS 64

/* What the chip tells the VM: kicks, timer deadlines, deliveries. */
struct host {
	int kvm_fd, vm_fd;
	struct capture cap;
	struct logger log;
	struct bus pio, mmio;
	struct irqchip *c;
	unsigned int kicks, arms, lapic_checks;
	uint64_t deadline; /* the last one armed */
	unsigned int nr_events;
	struct splitvm_event events[MAX_EVENTS];
};

static void host_kick(void *vm, unsigned int cpu)
{
	struct host *h = vm;

	ck_assert_uint_eq(cpu, 0);
	h->kicks++;
}

static void host_arm_timer(void *vm, uint64_t deadline)
{
	struct host *h = vm;

	h->arms++;
	h->deadline = deadline;
}

static void host_lapic_check(void *vm)
{
	struct host *h = vm;

	h->lapic_checks++;
}

static void host_event(void *vm, const struct splitvm_event *ev)
{
	struct host *h = vm;

	if (h->nr_events < MAX_EVENTS)
		h->events[h->nr_events] = *ev;
	h->nr_events++;
}

static uint64_t clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A VM with no vCPU and the chip of cfg, its ports and MMIO mapped. */
static struct host *host_new(enum irqchip_mode mode, unsigned int pins,
			     uint8_t version, bool pic)
{
	const struct irqchip_config cfg = {mode, pins, version, pic};
	struct host *h = calloc(1, sizeof(*h));
	struct irqchip_host ih = {
		.log = &h->log,
		.kick = host_kick,
		.arm_timer = host_arm_timer,
		.lapic_check = host_lapic_check,
		.event = host_event,
		.event_mask = 1u << SPLITVM_EVENT_ROUTED |
			      1u << SPLITVM_EVENT_INJECTED,
		.nr_vcpus = 1,
		.vm = h,
	};

	ck_assert_ptr_nonnull(h);
	h->log = (struct logger)LOGGER(h->cap);
	h->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(h->kvm_fd, 0);
	h->vm_fd = ioctl(h->kvm_fd, KVM_CREATE_VM, 0);
	ck_assert_int_ge(h->vm_fd, 0);
	ih.vm_fd = h->vm_fd;
	ck_assert_int_eq(irqchip_create(&cfg, &ih, &h->c), 0);
	bus_init(&h->pio, "pio");
	bus_init(&h->mmio, "mmio");
	ck_assert_int_eq(irqchip_map(h->c, &h->pio, &h->mmio), 0);
	return h;
}

static struct host *split_new(void)
{
	return host_new(IRQCHIP_SPLIT, 24, IOAPIC_VERSION_EOI, true);
}

static void host_free(struct host *h)
{
	irqchip_destroy(h->c);
	bus_free(&h->pio);
	bus_free(&h->mmio);
	close(h->vm_fd);
	close(h->kvm_fd);
	ck_assert_uint_eq(h->cap.errors, 0);
	free(h);
}

/* ---- Guest accesses ---- */

static void outb(struct host *h, uint16_t port, uint8_t val)
{
	ck_assert(bus_write(&h->pio, port, 1, 0, val));
}

static uint8_t inb(struct host *h, uint16_t port)
{
	uint64_t v;

	ck_assert(bus_read(&h->pio, port, 1, 0, &v));
	return (uint8_t)v;
}

static void ioapic_write(struct host *h, uint32_t index, uint32_t val)
{
	bus_write(&h->mmio, IOAPIC_BASE + IOAPIC_REG_SELECT, 4, 0, index);
	bus_write(&h->mmio, IOAPIC_BASE + IOAPIC_REG_WINDOW, 4, 0, val);
}

static uint32_t ioapic_read(struct host *h, uint32_t index)
{
	uint64_t v;

	bus_write(&h->mmio, IOAPIC_BASE + IOAPIC_REG_SELECT, 4, 0, index);
	bus_read(&h->mmio, IOAPIC_BASE + IOAPIC_REG_WINDOW, 4, 0, &v);
	return (uint32_t)v;
}

static void rte_write(struct host *h, unsigned int pin, uint64_t e)
{
	ioapic_write(h, IOAPIC_INDEX_REDTBL + 2 * pin + 1, (uint32_t)(e >> 32));
	ioapic_write(h, IOAPIC_INDEX_REDTBL + 2 * pin, (uint32_t)e);
}

/* Interrupt messages the IOAPIC sent for pin since the last clear. */
static unsigned int routed(const struct host *h, unsigned int pin)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < h->nr_events && i < MAX_EVENTS; i++)
		n += h->events[i].type == SPLITVM_EVENT_ROUTED &&
		     h->events[i].line == (int)pin;
	return n;
}

/* ---- Snapshots ---- */

static size_t save(struct host *h, uint8_t *buf, uint64_t now)
{
	int n = irqchip_save(h->c, buf, BLOB_MAX, now);

	ck_assert_int_gt(n, 0);
	return (size_t)n;
}

#define LEVEL IOAPIC_RTE_LEVEL
/* Lines 16 and up reach the IOAPIC only. */
#define PIN_LEVEL 17 /* level, asserted, Remote IRR set, no EOI yet */
#define PIN_EDGE 18  /* edge, delivered */
#define PIN_STORM 19 /* level, held back by the storm limiter */

/*
 * The hard moments at once. IOAPIC: pin 17 level, line high, delivered,
 * Remote IRR set and no EOI yet; pin 18 edge, delivered; pin 19 a level
 * line that never quiets, held back by the storm limiter. PICs (as
 * firmware leaves them, base 0x08/0x70): IRQ1 in service, IRQ6
 * requested behind it, IRQ0 requested in front of it (INT high); the
 * slave re-initialized half way (ICW1 and ICW2 written).
 */
static void scene(struct host *h)
{
	rte_write(h, PIN_LEVEL, 0x51 | LEVEL);
	rte_write(h, PIN_EDGE, 0x44 | (1ull << IOAPIC_RTE_DEST_SHIFT));
	rte_write(h, PIN_STORM, 0x52 | LEVEL);
	irqchip_set_irq(h->c, PIN_LEVEL, true);
	irqchip_set_irq(h->c, PIN_EDGE, true);
	irqchip_set_irq(h->c, PIN_STORM, true);
	for (unsigned int i = 0; i < IOAPIC_STORM_LIMIT; i++)
		irqchip_eoi(h->c, 0, 0x52);
	ck_assert_uint_ne(h->deadline, 0);

	irqchip_set_irq(h->c, 1, true);
	ck_assert(irqchip_extint_pending(h->c, 0));
	ck_assert_uint_eq(irqchip_extint_ack(h->c, 0), 0x09);
	irqchip_set_irq(h->c, 6, true);
	irqchip_set_irq(h->c, 0, true);
	outb(h, PIC_SLAVE_CMD, 0x11);
	outb(h, PIC_SLAVE_DATA, 0x70);
	ck_assert(irqchip_extint_pending(h->c, 0));
	ck_assert(ioapic_read(h, IOAPIC_INDEX_REDTBL + 2 * PIN_LEVEL) &
		  IOAPIC_RTE_REMOTE_IRR);
	h->nr_events = 0;
}

/* Every chip register and counter the API shows is the same. */
static void assert_same_chips(struct host *a, struct host *b)
{
	struct splitvm_ioapic_state ia, ib;
	struct splitvm_pic_state pa, pb;
	static uint64_t va[256], vb[256];

	ck_assert_int_eq(irqchip_ioapic_state(a->c, &ia), 0);
	ck_assert_int_eq(irqchip_ioapic_state(b->c, &ib), 0);
	ck_assert(!memcmp(&ia, &ib, sizeof(ia)));
	ck_assert_int_eq(irqchip_pic_state(a->c, &pa), 0);
	ck_assert_int_eq(irqchip_pic_state(b->c, &pb), 0);
	ck_assert(!memcmp(&pa, &pb, sizeof(pa)));
	irqchip_vector_stats(a->c, va);
	irqchip_vector_stats(b->c, vb);
	ck_assert(!memcmp(va, vb, sizeof(va)));
	for (unsigned int line = 0; line < irqchip_lines(a->c); line++) {
		struct irqchip_line_stats sa, sb;

		if (irqchip_line_stats(a->c, line, &sa) == -ENOTSUP)
			break;
		ck_assert_int_eq(irqchip_line_stats(b->c, line, &sb), 0);
		ck_assert_msg(!memcmp(&sa, &sb, sizeof(sa)), "line %u", line);
	}
	ck_assert(irqchip_extint_pending(a->c, 0) ==
		  irqchip_extint_pending(b->c, 0));
}

/* Reads every IOAPIC index and PIC register the same way on both. */
static void assert_same_registers(struct host *a, struct host *b)
{
	static const uint16_t ports[] = {
	    PIC_MASTER_DATA, PIC_SLAVE_DATA, PIC_ELCR_MASTER, PIC_ELCR_SLAVE,
	};

	for (uint32_t index = 0; index < 0x40; index++)
		ck_assert_uint_eq(ioapic_read(a, index), ioapic_read(b, index));
	for (unsigned int i = 0; i < 4; i++)
		ck_assert_uint_eq(inb(a, ports[i]), inb(b, ports[i]));
	for (unsigned int isr = 0; isr < 2; isr++)
		for (uint16_t cmd = 0x20; cmd <= 0xa0; cmd += 0x80) {
			outb(a, cmd, 0x0a | isr);
			outb(b, cmd, 0x0a | isr);
			ck_assert_uint_eq(inb(a, cmd), inb(b, cmd));
		}
}

/* What happens next, on either chip: the same vectors in the same order. */
static void go_on(struct host *h, uint8_t ret_vectors[4])
{
	h->nr_events = 0;
	/* Asserted again under Remote IRR: merged, not sent again. */
	irqchip_set_irq(h->c, PIN_LEVEL, true);
	ck_assert_uint_eq(routed(h, PIN_LEVEL), 0);
	/* The EOI re-delivers the line that is still high. */
	irqchip_eoi(h->c, 0, 0x51);
	ck_assert_uint_eq(routed(h, PIN_LEVEL), 1);
	/* The pending IRQ0 outranks IRQ1 in service. */
	ret_vectors[0] = irqchip_extint_ack(h->c, 0);
	outb(h, PIC_MASTER_CMD, 0x20);
	outb(h, PIC_MASTER_CMD, 0x20);
	ret_vectors[1] = irqchip_extint_ack(h->c, 0); /* IRQ6 */
	/* The slave's initialization goes on: ICW3, ICW4, then OCW1. */
	outb(h, PIC_SLAVE_DATA, 0x02);
	outb(h, PIC_SLAVE_DATA, 0x01);
	outb(h, PIC_SLAVE_DATA, 0x00);
	outb(h, PIC_MASTER_CMD, 0x20);
	irqchip_set_irq(h->c, 9, true);
	ret_vectors[2] = irqchip_extint_ack(h->c, 0); /* IRQ9 */
	outb(h, PIC_SLAVE_CMD, 0x20);
	outb(h, PIC_MASTER_CMD, 0x20);
	ret_vectors[3] = irqchip_extint_ack(h->c, 0); /* nothing: spurious */
}

START_TEST(irqchip_snapshot_split_round_trip)
{
	static uint8_t blob[BLOB_MAX], again[BLOB_MAX];
	struct host *a = split_new(), *b = split_new();
	uint64_t now_a, now_b;
	uint8_t va[4], vb[4];
	size_t len;

	scene(a);
	now_a = clock_ns();
	len = save(a, blob, now_a);
	ck_assert_uint_eq(len, 16 + (16 + 72 * 24) + 184 + (56 + 32 * 24) +
				       8 * 256);
	b->kicks = b->arms = 0;
	now_b = clock_ns();
	ck_assert_int_eq(irqchip_load(b->c, blob, len, now_b), 0);
	/* The ExtINT vCPU is told; the timer armed for what was pending. */
	ck_assert_uint_eq(b->kicks, 1);
	ck_assert_uint_ge(b->arms, 1);
	ck_assert_uint_ge(b->deadline, now_b);
	ck_assert_uint_le(b->deadline, now_b + 1000000000ull);
	ck_assert_uint_eq(b->nr_events, 0); /* nothing sent by the load */
	/* Times come back as saved, rebased on the load's now. */
	ck_assert_uint_eq(save(b, again, now_b), len);
	ck_assert(!memcmp(blob, again, len));
	assert_same_chips(a, b);
	assert_same_registers(a, b);

	go_on(a, va);
	go_on(b, vb);
	ck_assert_uint_eq(va[0], 0x08);
	ck_assert_uint_eq(va[1], 0x0e);
	ck_assert_uint_eq(va[2], 0x71);
	ck_assert_uint_eq(va[3], 0x0f);
	ck_assert(!memcmp(va, vb, sizeof(va)));
	assert_same_chips(a, b);

	/* The storm limiter's held-back pin is served when its timer fires. */
	usleep(20000);
	a->nr_events = b->nr_events = 0;
	irqchip_timer(a->c);
	irqchip_timer(b->c);
	ck_assert_uint_eq(routed(a, PIN_STORM), 1);
	ck_assert_uint_eq(routed(b, PIN_STORM), 1);
	assert_same_chips(a, b);
	host_free(a);
	host_free(b);
}
END_TEST

/* Deadlines are saved as distances from now and come back as such. */
START_TEST(irqchip_snapshot_split_rebases_timer)
{
	static uint8_t blob[BLOB_MAX];
	struct host *a = split_new(), *b = split_new();
	uint64_t now = 5000000000ull;
	size_t len;

	scene(a);
	len = save(a, blob, a->deadline - 1000);
	ck_assert_int_eq(irqchip_load(b->c, blob, len, now), 0);
	ck_assert_uint_eq(b->deadline, now + 1000);
	/* A deadline already passed is due at once. */
	len = save(a, blob, a->deadline + 1000000);
	ck_assert_int_eq(irqchip_load(b->c, blob, len, now), 0);
	ck_assert_uint_eq(b->deadline, now);
	host_free(a);
	host_free(b);
}
END_TEST

/* b holds a state of its own; a refused load must leave all of it. */
struct before {
	size_t len;
	uint8_t blob[BLOB_MAX];
	unsigned int kicks, arms, nr_events;
};

static void before_take(struct host *b, struct before *s)
{
	s->len = save(b, s->blob, 1000000000ull);
	s->kicks = b->kicks;
	s->arms = b->arms;
	s->nr_events = b->nr_events;
}

static void before_check(struct host *b, const struct before *s,
			 const char *what, size_t i)
{
	static uint8_t now[BLOB_MAX];

	ck_assert_msg(save(b, now, 1000000000ull) == s->len &&
			      !memcmp(now, s->blob, s->len),
		      "%s %zu: the chip changed", what, i);
	ck_assert_msg(b->kicks == s->kicks && b->arms == s->arms &&
			      b->nr_events == s->nr_events,
		      "%s %zu: the host was called", what, i);
}

/* A second chip with a state unlike the scene's. */
static struct host *other_new(void)
{
	struct host *b = split_new();

	rte_write(b, 3, 0x63 | LEVEL);
	irqchip_set_irq(b->c, 3, true);
	irqchip_set_irq(b->c, 14, true);
	return b;
}

START_TEST(irqchip_snapshot_split_refuses_truncated)
{
	static uint8_t blob[BLOB_MAX];
	static struct before s;
	struct host *a = split_new(), *b = other_new();
	size_t len;

	scene(a);
	len = save(a, blob, clock_ns());
	before_take(b, &s);
	for (size_t n = 0; n < len; n++) {
		ck_assert_int_eq(irqchip_load(b->c, blob, n, clock_ns()),
				 -EINVAL);
		before_check(b, &s, "length", n);
	}
	ck_assert_int_eq(irqchip_load(b->c, NULL, len, clock_ns()), -EINVAL);
	/* One byte too many is refused as well. */
	ck_assert_int_eq(irqchip_load(b->c, blob, len + 1, clock_ns()),
			 -EINVAL);
	before_check(b, &s, "length", len + 1);
	host_free(a);
	host_free(b);
}
END_TEST

static void put(uint8_t *p, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(const uint8_t *p, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Offsets in a split-mode blob of 24 pins (see split.c and ioapic.c). */
#define HDR 0
#define IOAPIC_AT 16
#define PIN_AT(pin) (IOAPIC_AT + 16 + 72 * (pin))
#define PIC_AT (IOAPIC_AT + 16 + 72 * 24)
#define ROUTER (PIC_AT + 184)
#define R_FLAGS (ROUTER + 0)
#define R_DEFERRED (ROUTER + 8)
#define R_DEFER_IN (ROUTER + 24)
#define R_WATCH_IN (ROUTER + 32)
#define R_WATCHED (ROUTER + 40)
#define R_PIN(pin) (ROUTER + 56 + 32 * (pin))
#define R_AGE(pin) (R_PIN(pin) + 16)
#define R_WAIT(pin) (R_PIN(pin) + 24)
#define R_VECTORS (R_PIN(24))

/* A field set to a value save could not have written. */
struct bad_field {
	size_t offset;
	unsigned int bytes;
	uint64_t value;
	uint64_t or_mask; /* if set: ORed in instead */
};

static const struct bad_field split_bad[] = {
	{HDR + 0, 1, 0x54, 0},		  /* magic */
	{HDR + 4, 2, 2, 0},		  /* format version */
	{HDR + 6, 1, IRQCHIP_KERNEL, 0},  /* mode */
	{HDR + 6, 1, 7, 0},		  /* no such mode */
	{HDR + 7, 1, 0, 0},		  /* without the PICs */
	{HDR + 7, 1, 3, 0},		  /* unknown flag */
	{HDR + 8, 1, 23, 0},		  /* pins */
	{HDR + 9, 1, 0x11, 0},		  /* IOAPIC version */
	{HDR + 10, 2, 1, 0},		  /* reserved */
	{HDR + 12, 4, 0, 0x1},		  /* body length */
	{HDR + 12, 4, 0, 0x80000000},	  /* body length */
	{IOAPIC_AT + 2, 1, 16, 0},	  /* IOAPIC ID */
	{PIN_AT(PIN_EDGE), 8, 0, IOAPIC_RTE_REMOTE_IRR}, /* edge + IRR */
	{PIN_AT(5), 8, 0, IOAPIC_RTE_DELIVS},
	{PIN_AT(5) + 8, 1, 0xff, 0},	  /* line level */
	{PIC_AT + 5, 1, 0x0c, 0},	  /* vector base */
	{PIC_AT + 16 + 7, 1, 5, 0},	  /* init state */
	{PIC_AT + 4, 1, 0x01, 0},	  /* ELCR IRQ0 */
	{R_FLAGS, 1, 0, 0x04},		  /* unknown flag */
	{R_FLAGS + 3, 1, 1, 0},		  /* reserved */
	{R_DEFERRED, 8, 0, 1ull << 24},	  /* no pin 24 */
	{R_DEFERRED + 8, 8, 1, 0},	  /* no pin 64 */
	{R_DEFER_IN, 8, 10000001, 0},	  /* past the storm delay */
	{R_WATCH_IN, 8, 1000000001, 0},	  /* past the longest wait */
	{R_WATCHED, 8, 0, 1ull << 30},	  /* no pin 30 */
	{R_WATCHED + 8, 8, 1ull << 63, 0}, /* no pin 127 */
	{R_AGE(0), 8, 1, 0},		  /* age of an unwatched pin */
	{R_WAIT(0), 8, 1, 0},		  /* shorter than the first */
	{R_WAIT(PIN_LEVEL), 8, 1000000001, 0}, /* past the longest */
	{R_WAIT(PIN_LEVEL), 8, 0, 0},	  /* watched without a wait */
};

static void corrupt(uint8_t *blob, const struct bad_field *f)
{
	uint64_t v = get(blob + f->offset, f->bytes);

	put(blob + f->offset, f->or_mask ? v | f->or_mask : f->value,
	    f->bytes);
}

START_TEST(irqchip_snapshot_split_refuses_out_of_range)
{
	static uint8_t blob[BLOB_MAX], bad[BLOB_MAX];
	static struct before s;
	struct host *a = split_new(), *b = other_new();
	uint64_t now = clock_ns();
	size_t len;

	scene(a);
	len = save(a, blob, now);
	/* What the cases rely on: the scene's pins are where they are. */
	ck_assert(get(blob + R_DEFERRED, 8) == 1u << PIN_STORM);
	ck_assert(get(blob + R_WATCHED, 8) & 1u << PIN_LEVEL);
	ck_assert(get(blob + R_FLAGS, 1) == 2);
	before_take(b, &s);
	for (size_t i = 0; i < sizeof(split_bad) / sizeof(split_bad[0]); i++) {
		memcpy(bad, blob, len);
		corrupt(bad, &split_bad[i]);
		ck_assert_msg(irqchip_load(b->c, bad, len, now) == -EINVAL,
			      "case %zu", i);
		before_check(b, &s, "case", i);
	}
	/* Without deferred pins there is no storm deadline either. */
	memcpy(bad, blob, len);
	put(bad + R_DEFERRED, 0, 8);
	put(bad + R_DEFER_IN, 5, 8);
	ck_assert_int_eq(irqchip_load(b->c, bad, len, now), -EINVAL);
	/* Nor a watchdog deadline when it is not armed. */
	memcpy(bad, blob, len);
	put(bad + R_FLAGS, 0, 1);
	put(bad + R_WATCH_IN, 5, 8);
	ck_assert_int_eq(irqchip_load(b->c, bad, len, now), -EINVAL);
	before_check(b, &s, "case", 99);
	/* Counters take any value. */
	memcpy(bad, blob, len);
	put(bad + R_VECTORS + 8 * 0x77, ~0ull, 8);
	ck_assert_int_eq(irqchip_load(b->c, bad, len, now), 0);
	host_free(a);
	host_free(b);
}
END_TEST

/*
 * Thousands of corrupted blobs (bit flips, random bytes in a section,
 * wrong lengths): no crash (run it under ASan), and a refused one leaves
 * the chip as it was.
 */
START_TEST(irqchip_snapshot_split_random_blobs)
{
	static uint8_t blob[BLOB_MAX], bad[BLOB_MAX];
	static struct before s;
	struct host *a = split_new(), *b = other_new();
	uint64_t x = 0x1c5a7e5eedull, now = clock_ns();
	unsigned int accepted = 0;
	size_t len;

	scene(a);
	len = save(a, blob, now);
	before_take(b, &s);
	for (unsigned int i = 0; i < 3000; i++) {
		size_t n = xorshift64(&x) % 16 ? len : xorshift64(&x) % BLOB_MAX;
		unsigned int flips = 1 + xorshift64(&x) % 6;

		memcpy(bad, blob, len);
		for (unsigned int k = 0; k < flips; k++) {
			size_t at = xorshift64(&x) % len;

			if (xorshift64(&x) % 4)
				bad[at] ^= (uint8_t)(1u << xorshift64(&x) % 8);
			else
				bad[at] = (uint8_t)xorshift64(&x);
		}
		if (irqchip_load(b->c, bad, n, now)) {
			before_check(b, &s, "try", i);
			continue;
		}
		accepted++;
		b->nr_events = 0;
		before_take(b, &s);
	}
	ck_assert_uint_gt(accepted, 50);
	host_free(a);
	host_free(b);
}
END_TEST

/*
 * IRQ0 to the guest or not: master 8259A IMR bit 0 and IOAPIC pin 2's
 * mask. KVM's PIT phase cannot be restored, so a save refuses while IRQ0
 * can reach the guest.
 */
static void kernel_irq0(struct host *h, bool pic_open, bool ioapic_open)
{
	struct kvm_irqchip chip = {.chip_id = KVM_IRQCHIP_PIC_MASTER};

	ck_assert_int_eq(ioctl(h->vm_fd, KVM_GET_IRQCHIP, &chip), 0);
	chip.chip.pic.init_state = 0;
	chip.chip.pic.imr = pic_open ? 0xfe : 0xff;
	ck_assert_int_eq(ioctl(h->vm_fd, KVM_SET_IRQCHIP, &chip), 0);
	chip = (struct kvm_irqchip){.chip_id = KVM_IRQCHIP_IOAPIC};
	ck_assert_int_eq(ioctl(h->vm_fd, KVM_GET_IRQCHIP, &chip), 0);
	chip.chip.ioapic.redirtbl[2].fields.mask = !ioapic_open;
	ck_assert_int_eq(ioctl(h->vm_fd, KVM_SET_IRQCHIP, &chip), 0);
}

START_TEST(irqchip_snapshot_refuses_other_configuration)
{
	static uint8_t blob[BLOB_MAX], kblob[BLOB_MAX];
	static const struct {
		enum irqchip_mode mode;
		unsigned int pins;
		uint8_t version;
		bool pic;
	} others[] = {
		{IRQCHIP_SPLIT, 24, IOAPIC_VERSION_82093AA, true},
		{IRQCHIP_SPLIT, 48, IOAPIC_VERSION_EOI, true},
		{IRQCHIP_SPLIT, 23, IOAPIC_VERSION_EOI, true},
		{IRQCHIP_SPLIT, 24, IOAPIC_VERSION_EOI, false},
		{IRQCHIP_KERNEL, 24, IOAPIC_VERSION_82093AA, true},
	};
	struct host *a = split_new(), *k;
	size_t len, klen;

	scene(a);
	len = save(a, blob, clock_ns());
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		struct host *b = host_new(others[i].mode, others[i].pins,
					  others[i].version, others[i].pic);

		ck_assert_msg(irqchip_load(b->c, blob, len, clock_ns()) ==
				      -EINVAL,
			      "configuration %zu", i);
		host_free(b);
	}
	k = host_new(IRQCHIP_KERNEL, 24, 0, true);
	kernel_irq0(k, false, false);
	klen = save(k, kblob, clock_ns());
	ck_assert_int_eq(irqchip_load(a->c, kblob, klen, clock_ns()), -EINVAL);
	host_free(k);
	host_free(a);
}
END_TEST

/* ---- Kernel mode ---- */

START_TEST(irqchip_snapshot_kernel_refuses_live_pit_phase)
{
	static uint8_t blob[BLOB_MAX];
	struct host *h = host_new(IRQCHIP_KERNEL, 24, 0, true);

	kernel_irq0(h, true, false);
	ck_assert_int_eq(irqchip_save(h->c, blob, sizeof(blob), clock_ns()),
			 -ENOTSUP);
	kernel_irq0(h, false, true);
	ck_assert_int_eq(irqchip_save(h->c, blob, sizeof(blob), clock_ns()),
			 -ENOTSUP);
	kernel_irq0(h, false, false);
	ck_assert_int_gt(irqchip_save(h->c, blob, sizeof(blob), clock_ns()),
			 0);
	ck_assert_int_eq(h->cap.errors, 2); /* each refusal said why */
	h->cap.errors = 0;
	host_free(h);
}
END_TEST

/* KVM's chips in a state of their own, through KVM's own interface. */
static void kernel_scene(struct host *h)
{
	struct kvm_irqchip chip = {.chip_id = KVM_IRQCHIP_IOAPIC};
	struct kvm_pit_state2 pit;

	kernel_irq0(h, false, false);

	ck_assert_int_eq(ioctl(h->vm_fd, KVM_GET_IRQCHIP, &chip), 0);
	chip.chip.ioapic.redirtbl[PIN_LEVEL].bits = 0x51 | LEVEL;
	chip.chip.ioapic.redirtbl[PIN_EDGE].bits = 0x44;
	chip.chip.ioapic.ioregsel = 0x22;
	chip.chip.ioapic.id = 3;
	ck_assert_int_eq(ioctl(h->vm_fd, KVM_SET_IRQCHIP, &chip), 0);
	irqchip_set_irq(h->c, PIN_LEVEL, true);
	irqchip_set_irq(h->c, 1, true);
	irqchip_set_irq(h->c, 6, true);
	chip = (struct kvm_irqchip){.chip_id = KVM_IRQCHIP_PIC_SLAVE};
	ck_assert_int_eq(ioctl(h->vm_fd, KVM_GET_IRQCHIP, &chip), 0);
	chip.chip.pic.init_state = 2; /* ICW3 due */
	chip.chip.pic.isr = 0x10;
	chip.chip.pic.elcr = 0x04;
	ck_assert_int_eq(ioctl(h->vm_fd, KVM_SET_IRQCHIP, &chip), 0);
	ck_assert_int_eq(ioctl(h->vm_fd, KVM_GET_PIT2, &pit), 0);
	pit.channels[2].mode = 1;
	pit.channels[2].count = 1234;
	pit.channels[1].count_latched = 3;
	pit.channels[1].latched_count = 0xbeef;
	ck_assert_int_eq(ioctl(h->vm_fd, KVM_SET_PIT2, &pit), 0);
}

static void assert_same_kernel_chips(struct host *a, struct host *b)
{
	struct splitvm_pit_state ta, tb;

	assert_same_chips(a, b);
	ck_assert_int_eq(irqchip_kernel_pit_state(a->c, &ta), 0);
	ck_assert_int_eq(irqchip_kernel_pit_state(b->c, &tb), 0);
	for (unsigned int i = 0; i < 3; i++) { /* fields: there is padding */
		ck_assert_uint_eq(ta.channel[i].count, tb.channel[i].count);
		ck_assert_uint_eq(ta.channel[i].mode, tb.channel[i].mode);
		ck_assert_uint_eq(ta.channel[i].bcd, tb.channel[i].bcd);
		ck_assert_uint_eq(ta.channel[i].gate, tb.channel[i].gate);
	}
}

START_TEST(irqchip_snapshot_kernel_round_trip)
{
	static uint8_t blob[BLOB_MAX], again[BLOB_MAX];
	struct host *a = host_new(IRQCHIP_KERNEL, 24, 0, true);
	struct host *b = host_new(IRQCHIP_KERNEL, 24, 0, true);
	struct splitvm_ioapic_state st;
	size_t len;

	kernel_scene(a);
	len = save(a, blob, clock_ns());
	ck_assert_uint_eq(len, 16 + 2 * 16 + 24 + 8 * 24 + 8 + 3 * 16);
	ck_assert_int_eq(irqchip_load(b->c, blob, len, clock_ns()), 0);
	ck_assert_uint_eq(save(b, again, clock_ns()), len);
	ck_assert(!memcmp(blob, again, len));
	assert_same_kernel_chips(a, b);
	ck_assert_int_eq(irqchip_ioapic_state(b->c, &st), 0);
	ck_assert_uint_eq(st.id, 3u << 24);
	ck_assert_uint_eq(st.lines[PIN_LEVEL], 1);
	host_free(a);
	host_free(b);
}
END_TEST

/* Offsets in a kernel-mode blob. */
#define K_PIC(chip, field) (16 + 16 * (chip) + (field))
#define K_IOAPIC 48
#define K_PIT 264
#define K_CH(ch, off) (K_PIT + 8 + 16 * (ch) + (off))

static const struct bad_field kernel_bad[] = {
	{HDR + 6, 1, IRQCHIP_SPLIT, 0}, /* mode */
	{HDR + 8, 1, 25, 0},		/* pins */
	{K_PIC(0, 4), 1, 8, 0},		/* priority_add */
	{K_PIC(0, 5), 1, 0x09, 0},	/* irq_base */
	{K_PIC(1, 6), 1, 2, 0},		/* read_reg_select */
	{K_PIC(1, 9), 1, 4, 0},		/* init_state */
	{K_PIC(0, 13), 1, 7, 0},	/* init4 */
	{K_PIC(0, 14), 1, 0x01, 0},	/* elcr IRQ0 */
	{K_PIC(1, 15), 1, 0xff, 0},	/* elcr_mask */
	{K_IOAPIC, 8, 0xfed00000, 0},	/* base address */
	{K_IOAPIC + 8, 4, 0x100, 0},	/* ioregsel */
	{K_IOAPIC + 12, 4, 0x10, 0},	/* id */
	{K_IOAPIC + 16, 4, 1u << 24, 0}, /* irr: no pin 24 */
	{K_IOAPIC + 20, 4, 1, 0},	/* pad */
	{K_IOAPIC + 24 + 8 * PIN_EDGE, 8, 0, IOAPIC_RTE_REMOTE_IRR},
	{K_IOAPIC + 24, 8, 0, IOAPIC_RTE_DELIVS},
	{K_PIT, 4, 4, 0},		/* flags */
	{K_PIT + 4, 4, 1, 0},		/* pad */
	{K_CH(0, 0), 4, 0x10001, 0},	/* count */
	{K_CH(0, 0), 4, 0, 0},		/* count */
	{K_CH(1, 6), 1, 4, 0},		/* count_latched */
	{K_CH(1, 7), 1, 2, 0},		/* status_latched */
	{K_CH(1, 9), 1, 0, 0},		/* read_state */
	{K_CH(1, 10), 1, 5, 0},		/* write_state */
	{K_CH(2, 12), 1, 0, 0},		/* rw_mode */
	{K_CH(2, 13), 1, 6, 0},		/* mode */
	{K_CH(2, 14), 1, 2, 0},		/* bcd */
	{K_CH(2, 15), 1, 2, 0},		/* gate */
};

START_TEST(irqchip_snapshot_kernel_refuses_bad_blobs)
{
	static uint8_t blob[BLOB_MAX], bad[BLOB_MAX];
	static struct before s;
	struct host *a = host_new(IRQCHIP_KERNEL, 24, 0, true);
	struct host *b = host_new(IRQCHIP_KERNEL, 24, 0, true);
	uint64_t x = 0xc0ffee1234ull;
	size_t len;

	kernel_scene(a);
	len = save(a, blob, clock_ns());
	kernel_irq0(b, false, false);
	before_take(b, &s);
	for (size_t n = 0; n < len; n++) {
		ck_assert_int_eq(irqchip_load(b->c, blob, n, 0), -EINVAL);
		before_check(b, &s, "length", n);
	}
	for (size_t i = 0; i < sizeof(kernel_bad) / sizeof(kernel_bad[0]);
	     i++) {
		memcpy(bad, blob, len);
		corrupt(bad, &kernel_bad[i]);
		ck_assert_msg(irqchip_load(b->c, bad, len, 0) == -EINVAL,
			      "case %zu", i);
		before_check(b, &s, "case", i);
	}
	for (unsigned int i = 0; i < 2000; i++) {
		memcpy(bad, blob, len);
		for (unsigned int k = 1 + xorshift64(&x) % 4; k; k--)
			bad[xorshift64(&x) % len] ^=
			    (uint8_t)(1u << xorshift64(&x) % 8);
		if (irqchip_load(b->c, bad, len, 0)) {
			before_check(b, &s, "try", i);
		} else {
			kernel_irq0(b, false, false); /* a flip may open it */
			before_take(b, &s);
		}
	}
	host_free(a);
	host_free(b);
}
END_TEST

UNIT_KVM_SUITE("irqchip_snapshot", irqchip_snapshot_split_round_trip,
	       irqchip_snapshot_split_rebases_timer,
	       irqchip_snapshot_split_refuses_truncated,
	       irqchip_snapshot_split_refuses_out_of_range,
	       irqchip_snapshot_split_random_blobs,
	       irqchip_snapshot_refuses_other_configuration,
	       irqchip_snapshot_kernel_round_trip,
	       irqchip_snapshot_kernel_refuses_live_pit_phase,
	       irqchip_snapshot_kernel_refuses_bad_blobs)
