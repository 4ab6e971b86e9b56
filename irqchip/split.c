// SPDX-License-Identifier: MIT
/*
 * The KVM glue of split mode: our IOAPIC and PICs drive the kernel's
 * LAPICs. Pin i of the IOAPIC is GSI i, an MSI route copied from
 * redirection entry i; EOIs of level vectors come back as
 * KVM_EXIT_IOAPIC_EOI; the PIC's vector is injected with KVM_INTERRUPT by
 * the vCPU that takes ExtINT (KVM-NOTES, split irqchip rules 1-5).
 */
#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "ioapic.h"
#include "irqchip.h"
#include "kernel.h"
#include "pic.h"

/* Newer than Debian 12's headers (KVM-NOTES, split irqchip rule 4). */
#ifndef KVM_X2APIC_ENABLE_SUPPRESS_EOI_BROADCAST
#define KVM_X2APIC_ENABLE_SUPPRESS_EOI_BROADCAST (1ull << 2)
#define KVM_X2APIC_DISABLE_SUPPRESS_EOI_BROADCAST (1ull << 3)
#endif

/* The storm limiter's pause before a deferred re-delivery (as KVM). */
#define STORM_DELAY_NS 10000000ull

/*
 * The lost-EOI watchdog (KVM-NOTES, rule 12): a level pin whose Remote
 * IRR has stood this long gets its vector looked for in every LAPIC; the
 * wait doubles after each look that finds it still pending or in service.
 */
#define EOI_WATCHDOG_NS 5000000ull
#define EOI_WATCHDOG_MAX_NS 1000000000ull

/* The vCPU whose LVT0 takes ExtINT: the BSP, as firmware leaves it. */
#define EXTINT_CPU 0

struct irqchip {
	enum irqchip_mode mode;
	struct irqchip_host host;
	unsigned int lines;

	/* Split mode. Everything below is under lock. */
	pthread_mutex_t lock;
	struct ioapic ioapic;
	struct pic pic;
	bool has_pic; /* false: no ports, no inputs (-machine pic=off) */
	struct kvm_irq_routing *routing; /* one MSI route per pin */
	bool routes_dirty;
	bool routes_stale; /* an install failed: KVM's may differ from ours */
	size_t body_size; /* of a snapshot record (split_body_size()) */
	uint64_t deferred[2];	  /* pins the storm limiter holds back */
	uint64_t defer_deadline;  /* when to retry them; 0 = none */
	uint64_t line_asserts[IOAPIC_MAX_PINS];
	uint64_t vectors[256];	  /* interrupts sent, per vector */
	uint64_t eois_recovered[IOAPIC_MAX_PINS];

	/* The lost-EOI watchdog. */
	uint64_t irr_since[IOAPIC_MAX_PINS]; /* Remote IRR set at; 0 = no */
	uint64_t watch_wait[IOAPIC_MAX_PINS]; /* current wait for the pin */
	uint64_t watch_deadline;	      /* next look; 0 = none */
	unsigned int reports_due;	      /* vCPUs yet to answer */
	uint64_t look_started;
	uint32_t seen[8];		      /* union of their IRR | ISR */

	/* Events recorded under the lock, handed out after it is dropped. */
	struct splitvm_event events[32];
	unsigned int nr_events;
	uint64_t events_dropped;
	int eoi_cpu; /* the vCPU whose EOI exit is being handled, or -1 */

	/* Read without the lock by the ExtINT vCPU before each KVM_RUN. */
	atomic_bool extint; /* PIC output high, or an ExtINT entry fired */
	bool ioapic_extint; /* an IOAPIC ExtINT-mode message is owed */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

/* Arms the host timer for the earlier of the storm and watchdog times. */
static void split_arm_timer(struct irqchip *c)
{
	c->host.arm_timer(c->host.vm,
			  earliest(c->defer_deadline, c->watch_deadline));
}

/* ---- Lock and events ------------------------------------------------- */

static void split_lock(struct irqchip *c)
{
	pthread_mutex_lock(&c->lock);
}

/* Records an event for the embedder, if it asked for this type. */
static void split_event(struct irqchip *c, enum splitvm_event_type type,
			int cpu, int line, int vector, int level,
			uint64_t value)
{
	if (!(c->host.event_mask & (1u << type)))
		return;
	if (c->nr_events == sizeof(c->events) / sizeof(c->events[0])) {
		c->events_dropped++;
		return;
	}
	c->events[c->nr_events++] = (struct splitvm_event){
		type, now_ns(), cpu, line, vector, level, value,
	};
}

/*
 * Drops the lock, then hands out the events recorded under it: the
 * handler may call back into the chip (splitvm_irq_set()...).
 */
static void split_unlock(struct irqchip *c)
{
	struct splitvm_event ev[sizeof(c->events) / sizeof(c->events[0])];
	unsigned int n = c->nr_events;

	if (n)
		memcpy(ev, c->events, n * sizeof(ev[0]));
	c->nr_events = 0;
	pthread_mutex_unlock(&c->lock);
	for (unsigned int i = 0; i < n; i++)
		c->host.event(c->host.vm, &ev[i]);
}

/* ---- GSI routes ------------------------------------------------------ */

/*
 * Rebuilds every pin's MSI route from its redirection entry and installs
 * the table if anything changed. KVM derives each vCPU's EOI-exit bitmap
 * from the level-triggered routes, so this must happen before the guest
 * can take a vector of a changed entry.
 */
static void split_flush_routes(struct irqchip *c)
{
	bool changed = c->routes_stale;

	if (!c->routes_dirty)
		return;
	c->routes_dirty = false;
	for (unsigned int pin = 0; pin < c->lines; pin++) {
		struct kvm_irq_routing_entry *e = &c->routing->entries[pin];
		struct ioapic_msi msi;

		ioapic_msi(&c->ioapic, pin, &msi);
		if (e->u.msi.address_lo == (uint32_t)msi.address &&
		    e->u.msi.address_hi == (uint32_t)(msi.address >> 32) &&
		    e->u.msi.data == msi.data)
			continue;
		e->u.msi.address_lo = (uint32_t)msi.address;
		e->u.msi.address_hi = (uint32_t)(msi.address >> 32);
		e->u.msi.data = msi.data;
		changed = true;
	}
	if (!changed)
		return;
	c->routes_stale = ioctl(c->host.vm_fd, KVM_SET_GSI_ROUTING,
				c->routing) < 0;
	if (c->routes_stale) /* installed at the next flush */
		log_error(c->host.log, "KVM_SET_GSI_ROUTING failed: %s",
			  strerror(errno));
}

/* ---- IOAPIC outputs (called under lock) -------------------------------- */

static void split_deliver(void *ctx, unsigned int pin, uint64_t entry)
{
	struct irqchip *c = ctx;
	unsigned int mode = (entry & IOAPIC_RTE_DELMODE) >>
			    IOAPIC_RTE_DELMODE_SHIFT;
	struct kvm_irq_level irq = {.irq = pin, .level = 1};

	split_event(c, SPLITVM_EVENT_ROUTED,
		    (int)(entry >> IOAPIC_RTE_DEST_SHIFT), (int)pin,
		    (int)(entry & IOAPIC_RTE_VECTOR), -1, mode);

	/*
	 * ExtINT: the CPU fetches the vector from the PIC with an INTA cycle
	 * (virtual wire through the IOAPIC, MP spec 3.6.2.2). KVM's LAPIC
	 * cannot take that as an MSI, so it goes the PIC's way, to the vCPU
	 * whose LVT0 takes ExtINT.
	 */
	if (mode == IOAPIC_DM_EXTINT) {
		c->ioapic_extint = true;
		atomic_store(&c->extint, true);
		c->host.kick(c->host.vm, EXTINT_CPU);
		return;
	}
	split_flush_routes(c);
	c->vectors[entry & IOAPIC_RTE_VECTOR]++;
	if (entry & IOAPIC_RTE_LEVEL) {
		uint64_t now = now_ns();

		c->irr_since[pin] = now;
		c->watch_wait[pin] = EOI_WATCHDOG_NS;
		if (!c->watch_deadline) {
			c->watch_deadline = now + EOI_WATCHDOG_NS;
			split_arm_timer(c);
		}
	}
	/* Level 1 fires an MSI route; level 0 would be ignored (rule 2). */
	if (ioctl(c->host.vm_fd, KVM_IRQ_LINE, &irq) < 0)
		log_error(c->host.log, "KVM_IRQ_LINE %u failed: %s", pin,
			  strerror(errno));
}

static void split_route_changed(void *ctx, unsigned int pin)
{
	struct irqchip *c = ctx;

	c->routes_dirty = true;
	split_event(c, SPLITVM_EVENT_REDIRECTION, -1, (int)pin, -1, -1,
		    ioapic_entry(&c->ioapic, pin));
}

static void split_eoi(void *ctx, unsigned int pin)
{
	struct irqchip *c = ctx;

	split_event(c, SPLITVM_EVENT_EOI, c->eoi_cpu, (int)pin,
		    (int)(ioapic_entry(&c->ioapic, pin) & IOAPIC_RTE_VECTOR),
		    -1, 0);
}

static void split_defer(void *ctx, unsigned int pin)
{
	struct irqchip *c = ctx;

	c->deferred[pin / 64] |= 1ull << (pin % 64);
	if (!c->defer_deadline) {
		c->defer_deadline = now_ns() + STORM_DELAY_NS;
		split_arm_timer(c);
	}
}

static const struct ioapic_ops split_ioapic_ops = {
	.deliver = split_deliver,
	.route_changed = split_route_changed,
	.eoi = split_eoi,
	.defer = split_defer,
};

/* The PIC's INT pin changed: the ExtINT vCPU must look (rule 5). */
static void split_pic_output(void *ctx, bool level)
{
	struct irqchip *c = ctx;

	atomic_store(&c->extint, level || c->ioapic_extint);
	if (level)
		c->host.kick(c->host.vm, EXTINT_CPU);
}

static const struct pic_ops split_pic_ops = {
	.output = split_pic_output,
};

/* ---- Guest accesses -------------------------------------------------- */

static uint64_t split_ioapic_read(void *dev, const struct io_access *a)
{
	struct irqchip *c = dev;
	uint32_t v;

	split_lock(c);
	v = ioapic_mmio_read(&c->ioapic, a->offset, a->len);
	split_unlock(c);
	return v;
}

static void split_ioapic_write(void *dev, const struct io_access *a,
			       uint64_t val)
{
	struct irqchip *c = dev;

	split_lock(c);
	ioapic_mmio_write(&c->ioapic, a->offset, a->len, (uint32_t)val);
	split_flush_routes(c);
	split_unlock(c);
}

static const struct device_ops split_ioapic_dev = {
	.name = "ioapic",
	.read = split_ioapic_read,
	.write = split_ioapic_write,
};

/* PIC ports 0x20-0x21, 0xa0-0xa1 and ELCR 0x4d0-0x4d1, byte-wide. */
static uint64_t split_pic_read(void *dev, const struct io_access *a)
{
	struct irqchip *c = dev;
	uint8_t v;

	if (a->len != 1)
		return io_all_ones(a->len);
	split_lock(c);
	v = pic_io_read(&c->pic, (uint16_t)a->addr);
	split_unlock(c);
	return v;
}

static void split_pic_write(void *dev, const struct io_access *a,
			    uint64_t val)
{
	struct irqchip *c = dev;

	if (a->len != 1)
		return;
	split_lock(c);
	split_event(c, SPLITVM_EVENT_PIC, a->vcpu, -1, -1, -1,
		    (a->addr << 8) | (val & 0xff));
	pic_io_write(&c->pic, (uint16_t)a->addr, (uint8_t)val);
	split_unlock(c);
}

static const struct device_ops split_pic_dev = {
	.name = "pic",
	.read = split_pic_read,
	.write = split_pic_write,
};

/* ---- The interface --------------------------------------------------- */

static int split_enable(struct irqchip *c, const struct irqchip_config *cfg)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_SPLIT_IRQCHIP,
		.args = {cfg->ioapic_pins},
	};
	uint64_t base = KVM_X2APIC_API_USE_32BIT_IDS |
			KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK;

	if (ioctl(c->host.vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
		log_error(c->host.log,
			  "enabling KVM_CAP_SPLIT_IRQCHIP (%u pins) failed: %s",
			  cfg->ioapic_pins, strerror(errno));
		return -errno;
	}
	/*
	 * A v0x20 IOAPIC has the EOI register, so its guests may suppress
	 * EOI broadcasts (SVR bit 12) and EOI the IOAPIC directly; a v0x11
	 * one has not, so the feature is hidden (rule 4). Kernels without
	 * these flags keep their legacy behaviour: say so and go on.
	 */
	cap = (struct kvm_enable_cap){.cap = KVM_CAP_X2APIC_API};
	cap.args[0] = base | (cfg->ioapic_version >= IOAPIC_VERSION_EOI
				      ? KVM_X2APIC_ENABLE_SUPPRESS_EOI_BROADCAST
				      : KVM_X2APIC_DISABLE_SUPPRESS_EOI_BROADCAST);
	if (ioctl(c->host.vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
		cap.args[0] = base;
		log_debug(c->host.log,
			  "KVM has no suppress-EOI-broadcast policy flags");
		if (ioctl(c->host.vm_fd, KVM_ENABLE_CAP, &cap) < 0)
			log_warn(c->host.log, "KVM_CAP_X2APIC_API failed: %s",
				 strerror(errno));
	}
	return 0;
}

static int split_init_routes(struct irqchip *c)
{
	c->routing = calloc(1, sizeof(*c->routing) +
				       c->lines * sizeof(c->routing->entries[0]));
	if (!c->routing)
		return -ENOMEM;
	c->routing->nr = c->lines;
	for (unsigned int pin = 0; pin < c->lines; pin++) {
		c->routing->entries[pin].gsi = pin;
		c->routing->entries[pin].type = KVM_IRQ_ROUTING_MSI;
	}
	/* All zero so far: the flush installs every pin's route. */
	c->routes_dirty = true;
	c->routing->entries[0].u.msi.data = ~0u;
	split_flush_routes(c);
	return 0;
}

int irqchip_create(const struct irqchip_config *cfg,
		   const struct irqchip_host *host, struct irqchip **ret)
{
	struct irqchip *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->mode = cfg->mode;
	c->host = *host;
	c->eoi_cpu = -1;
	if (!c->host.event)
		c->host.event_mask = 0;
	if (pthread_mutex_init(&c->lock, NULL)) {
		free(c);
		return -ENOMEM;
	}
	if (cfg->mode == IRQCHIP_KERNEL) {
		c->lines = KERNEL_IRQCHIP_LINES;
		r = kernel_irqchip_create(host->vm_fd, host->log);
	} else {
		c->lines = cfg->ioapic_pins;
		r = ioapic_init(&c->ioapic, cfg->ioapic_pins,
				cfg->ioapic_version, &split_ioapic_ops, c);
		if (r)
			log_error(host->log,
				  "an IOAPIC with %u pins, version 0x%x, cannot be made",
				  cfg->ioapic_pins, cfg->ioapic_version);
		if (!r)
			r = split_enable(c, cfg);
		if (!r) {
			c->has_pic = cfg->pic;
			pic_init(&c->pic, &split_pic_ops, c);
			pic_reset(&c->pic, true);
			r = split_init_routes(c);
		}
	}
	if (r) {
		irqchip_destroy(c);
		return r;
	}
	*ret = c;
	return 0;
}

void irqchip_reset(struct irqchip *c)
{
	if (c->mode == IRQCHIP_KERNEL) {
		kernel_irqchip_reset(c->host.vm_fd, c->host.log);
		return;
	}
	split_lock(c);
	ioapic_reset(&c->ioapic);
	pic_reset(&c->pic, true);
	memset(c->deferred, 0, sizeof(c->deferred));
	memset(c->irr_since, 0, sizeof(c->irr_since));
	c->defer_deadline = c->watch_deadline = 0;
	c->reports_due = 0;
	c->ioapic_extint = false;
	atomic_store(&c->extint, pic_output(&c->pic));
	split_flush_routes(c);
	split_arm_timer(c);
	split_unlock(c);
}

void irqchip_destroy(struct irqchip *c)
{
	if (!c)
		return;
	free(c->routing);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int irqchip_map(struct irqchip *c, struct bus *pio, struct bus *mmio)
{
	static const uint16_t pic_ports[] = {0x20, 0xa0, 0x4d0};
	int r;

	if (c->mode == IRQCHIP_KERNEL)
		return 0; /* KVM claims these itself */
	for (unsigned int i = 0; c->has_pic && i < 3; i++) {
		r = bus_register(pio, pic_ports[i], 2, &split_pic_dev, c);
		if (r)
			return r;
	}
	return bus_register(mmio, IOAPIC_BASE, IOAPIC_SIZE, &split_ioapic_dev,
			    c);
}

unsigned int irqchip_lines(const struct irqchip *c)
{
	return c->lines;
}

enum irqchip_mode irqchip_mode(const struct irqchip *c)
{
	return c->mode;
}

void irqchip_set_irq(void *chip, unsigned int line, bool level)
{
	struct irqchip *c = chip;

	if (line >= c->lines)
		return;
	if (c->mode == IRQCHIP_KERNEL) {
		kernel_irqchip_set_irq(c->host.vm_fd, line, level);
		if (c->host.event_mask & (1u << SPLITVM_EVENT_LINE)) {
			struct splitvm_event ev = {SPLITVM_EVENT_LINE, now_ns(),
						   -1, (int)line, -1, level, 0};

			c->host.event(c->host.vm, &ev);
		}
		return;
	}
	split_lock(c);
	split_event(c, SPLITVM_EVENT_LINE, -1, (int)line, -1, level, 0);
	if (level)
		c->line_asserts[line]++;
	if (line < PIC_NR_IRQS && c->has_pic)
		pic_set_irq(&c->pic, line, level);
	if (line == 0)
		ioapic_set_irq(&c->ioapic, 2, level);
	else if (line != PIC_CASCADE_IRQ)
		ioapic_set_irq(&c->ioapic, line, level);
	split_unlock(c);
}

void irqchip_eoi(struct irqchip *c, unsigned int cpu, uint8_t vector)
{
	if (c->mode == IRQCHIP_KERNEL)
		return;
	split_lock(c);
	c->eoi_cpu = (int)cpu;
	ioapic_eoi(&c->ioapic, vector);
	c->eoi_cpu = -1;
	split_unlock(c);
}

bool irqchip_extint_pending(const struct irqchip *c, unsigned int cpu)
{
	return cpu == EXTINT_CPU && c->mode == IRQCHIP_SPLIT &&
	       atomic_load_explicit(&c->extint, memory_order_acquire);
}

uint8_t irqchip_extint_ack(struct irqchip *c, unsigned int cpu)
{
	uint8_t vector;

	split_lock(c);
	c->ioapic_extint = false;
	vector = (uint8_t)pic_intack(&c->pic);
	c->vectors[vector]++;
	split_event(c, SPLITVM_EVENT_INJECTED, (int)cpu, -1, vector, -1, 0);
	atomic_store(&c->extint, pic_output(&c->pic));
	split_unlock(c);
	return vector;
}

static bool pin_remote_irr(const struct irqchip *c, unsigned int pin)
{
	return ioapic_entry(&c->ioapic, pin) & IOAPIC_RTE_REMOTE_IRR;
}

/* Retries the pins the storm limiter held back. Under lock. */
static void split_retry_deferred(struct irqchip *c)
{
	uint64_t deferred[2];

	memcpy(deferred, c->deferred, sizeof(deferred));
	memset(c->deferred, 0, sizeof(c->deferred));
	c->defer_deadline = 0;
	for (unsigned int pin = 0; pin < c->lines; pin++)
		if (deferred[pin / 64] & (1ull << (pin % 64)))
			ioapic_retry(&c->ioapic, pin);
}

/*
 * The watchdog's turn: if some level pin's Remote IRR is overdue, ask
 * every vCPU for its LAPIC's pending and in-service vectors. Under lock.
 */
static void split_watch(struct irqchip *c, uint64_t now)
{
	uint64_t next = 0;
	bool overdue = false;

	for (unsigned int pin = 0; pin < c->lines; pin++) {
		uint64_t due;

		if (!pin_remote_irr(c, pin)) {
			c->irr_since[pin] = 0;
			continue;
		}
		if (!c->irr_since[pin])
			continue;
		due = c->irr_since[pin] + c->watch_wait[pin];
		overdue |= due <= now;
		next = earliest(next, due > now ? due : now + EOI_WATCHDOG_NS);
	}
	c->watch_deadline = next;
	if (overdue && !c->reports_due && c->host.lapic_check) {
		c->reports_due = c->host.nr_vcpus;
		c->look_started = now;
		memset(c->seen, 0, sizeof(c->seen));
		c->host.lapic_check(c->host.vm);
	}
}

void irqchip_timer(struct irqchip *c)
{
	uint64_t now = now_ns();

	if (c->mode == IRQCHIP_KERNEL)
		return;
	split_lock(c);
	if (c->defer_deadline && c->defer_deadline <= now)
		split_retry_deferred(c);
	if (c->watch_deadline && c->watch_deadline <= now)
		split_watch(c, now);
	split_arm_timer(c);
	split_unlock(c);
}

/*
 * Completes the EOIs that were lost: an overdue pin whose vector no LAPIC
 * has pending or in service was EOIed without the exit reaching us.
 * Others wait twice as long before the next look. Under lock.
 */
static void split_recover_eois(struct irqchip *c)
{
	for (unsigned int pin = 0; pin < c->lines; pin++) {
		uint8_t vector = (uint8_t)ioapic_entry(&c->ioapic, pin);

		if (!pin_remote_irr(c, pin) || !c->irr_since[pin] ||
		    c->irr_since[pin] + c->watch_wait[pin] > c->look_started)
			continue;
		if (c->seen[vector / 32] & (1u << (vector % 32))) {
			c->watch_wait[pin] *= 2;
			if (c->watch_wait[pin] > EOI_WATCHDOG_MAX_NS)
				c->watch_wait[pin] = EOI_WATCHDOG_MAX_NS;
			continue;
		}
		c->eois_recovered[pin]++;
		log_debug(c->host.log, "IOAPIC pin %u: lost EOI of vector 0x%x "
			  "recovered", pin, vector);
		ioapic_eoi(&c->ioapic, vector);
	}
}

void irqchip_lapic_report(struct irqchip *c, unsigned int cpu,
			  const uint32_t vectors[8])
{
	if (c->mode == IRQCHIP_KERNEL)
		return;
	split_lock(c);
	if (c->reports_due) {
		for (unsigned int i = 0; i < 8; i++)
			c->seen[i] |= vectors[i];
		if (--c->reports_due == 0) {
			split_recover_eois(c);
			split_watch(c, now_ns());
			split_arm_timer(c);
		}
	}
	split_unlock(c);
}

int irqchip_ioapic_state(struct irqchip *c, struct splitvm_ioapic_state *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (c->mode == IRQCHIP_KERNEL)
		return kernel_irqchip_ioapic_state(c->host.vm_fd, ret);
	split_lock(c);
	ret->id = (uint32_t)c->ioapic.id << 24;
	ret->version = (uint32_t)c->ioapic.version |
		       (c->ioapic.pins - 1) << 16;
	ret->pins = c->ioapic.pins;
	for (unsigned int pin = 0; pin < c->ioapic.pins; pin++) {
		ret->entries[pin] = ioapic_entry(&c->ioapic, pin);
		ret->lines[pin] = c->ioapic.line[pin];
	}
	split_unlock(c);
	return 0;
}

int irqchip_pic_state(struct irqchip *c, struct splitvm_pic_state *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (c->mode == IRQCHIP_KERNEL)
		return kernel_irqchip_pic_state(c->host.vm_fd, ret);
	split_lock(c);
	for (unsigned int i = 0; i < 2; i++) {
		const struct pic_chip *m = &c->pic.chip[i];

		ret->chip[i] = (struct splitvm_pic_chip_state){
			m->irr, m->isr, m->imr, m->elcr, m->irq_base,
			m->priority_add, m->auto_eoi, m->special_mask,
			m->special_fully_nested, m->poll, m->init_state,
		};
	}
	split_unlock(c);
	return 0;
}

int irqchip_kernel_pit_state(struct irqchip *c, struct splitvm_pit_state *ret)
{
	if (c->mode != IRQCHIP_KERNEL)
		return -ENODEV;
	return kernel_irqchip_pit_state(c->host.vm_fd, ret);
}

void irqchip_vector_stats(struct irqchip *c, uint64_t ret[256])
{
	split_lock(c);
	memcpy(ret, c->vectors, sizeof(c->vectors));
	split_unlock(c);
}

int irqchip_line_stats(struct irqchip *c, unsigned int line,
		       struct irqchip_line_stats *ret)
{
	const struct ioapic_pin_stats *s;
	unsigned int pin = line == 0 ? 2 : line;

	if (line >= c->lines)
		return -EINVAL;
	if (c->mode == IRQCHIP_KERNEL)
		return -ENOTSUP;
	split_lock(c);
	s = &c->ioapic.stats[pin];
	*ret = (struct irqchip_line_stats){
		.asserts = c->line_asserts[line],
		.deliveries = s->deliveries,
		.eois = s->eois,
		.coalesced = s->coalesced,
		.eois_recovered = c->eois_recovered[pin],
	};
	if (line < PIC_NR_IRQS)
		ret->deliveries += c->pic.stats.per_irq[line];
	split_unlock(c);
	return 0;
}

/* ---- Snapshots ------------------------------------------------------- */

/*
 * The blob: a 16-byte header, then the mode's state. Header: magic
 * "SVIC", format version, mode, flags (PICs present), IOAPIC pins and
 * version, 2 reserved bytes, the length of what follows. Split mode
 * then has ioapic_save(), pic_save() and the router's section
 * (split_save_router()); kernel mode kernel_irqchip_save()'s. All
 * integers little-endian; the layout is fixed by the configuration,
 * so a load wants exactly that length.
 *
 * Times are the chip's own clock, CLOCK_MONOTONIC, which is also
 * vm_now_ns(): they are saved as distances from the caller's now.
 */
#define SNAP_MAGIC 0x43495653u /* "SVIC" */
#define SNAP_FORMAT 1
#define SNAP_HAS_PIC 0x01
#define SNAP_HEADER_SIZE 16

/* Router flags. */
#define SNAP_IOAPIC_EXTINT 0x01 /* an IOAPIC ExtINT message is owed */
#define SNAP_WATCH_ARMED 0x02	/* the lost-EOI watchdog has a deadline */
#define SNAP_ROUTER_FLAGS (SNAP_IOAPIC_EXTINT | SNAP_WATCH_ARMED)

/* The router's part of a snapshot, decoded and checked. */
struct split_router_image {
	bool ioapic_extint;
	uint64_t deferred[2];
	uint64_t defer_deadline, watch_deadline;
	uint64_t line_asserts[IOAPIC_MAX_PINS];
	uint64_t eois_recovered[IOAPIC_MAX_PINS];
	uint64_t irr_since[IOAPIC_MAX_PINS];
	uint64_t watch_wait[IOAPIC_MAX_PINS];
	uint64_t vectors[256];
};

/* Everything a split-mode load decodes before the chip changes. */
struct split_image {
	struct ioapic ioapic;
	struct pic pic;
	struct split_router_image router;
};

static void snap_put_header(struct blob_writer *w, const struct irqchip *c,
			    size_t body)
{
	bool kernel = c->mode == IRQCHIP_KERNEL;

	blob_put_u32(w, SNAP_MAGIC);
	blob_put_u16(w, SNAP_FORMAT);
	blob_put_u8(w, (uint8_t)c->mode);
	blob_put_u8(w, kernel || c->has_pic ? SNAP_HAS_PIC : 0);
	blob_put_u8(w, (uint8_t)c->lines);
	blob_put_u8(w, kernel ? IOAPIC_VERSION_82093AA : c->ioapic.version);
	blob_put_zero(w, 2);
	blob_put_u32(w, (uint32_t)body);
}

/*
 * The header of a blob of exactly this chip's configuration: a snapshot
 * of another mode, pin count, IOAPIC version or PIC presence is refused.
 */
static void snap_check_header(struct blob_reader *r, const struct irqchip *c,
			      size_t body)
{
	uint8_t want[SNAP_HEADER_SIZE];
	struct blob_writer w = {want, sizeof(want), 0};

	snap_put_header(&w, c, body);
	for (unsigned int i = 0; i < sizeof(want); i++)
		blob_check(r, blob_get_u8(r) == want[i]);
	blob_check(r, r->len - r->pos == body);
}

/* Nanoseconds from now until deadline (0 if passed), at most max. */
static uint64_t until(uint64_t deadline, uint64_t now, uint64_t max)
{
	uint64_t d = deadline > now ? deadline - now : 0;

	return d < max ? d : max;
}

/* A deadline d from now; never 0, which means none. */
static uint64_t at(uint64_t now, uint64_t d)
{
	return now > UINT64_MAX - d ? UINT64_MAX : now + d ? now + d : 1;
}

/* Bitmap word i of the pins that exist (bit n: pin 64 * i + n). */
static uint64_t pins_mask(const struct irqchip *c, unsigned int i)
{
	unsigned int n = c->lines > 64 * i ? c->lines - 64 * i : 0;

	return n >= 64 ? ~0ull : (1ull << n) - 1;
}

/*
 * The watchdog's look in progress (reports_due) is not saved: the vCPUs
 * that were asked to answer are not the ones that will run on. The
 * watchdog is saved as due now instead, and looks again.
 */
static void save_router_times(const struct irqchip *c, struct blob_writer *w,
			      uint64_t now)
{
	uint64_t watched[2] = {0, 0};

	blob_put_u64(w, c->deferred[0]);
	blob_put_u64(w, c->deferred[1]);
	blob_put_u64(w, until(c->defer_deadline, now, STORM_DELAY_NS));
	blob_put_u64(w, c->reports_due ? 0
				       : until(c->watch_deadline, now,
					       EOI_WATCHDOG_MAX_NS));
	for (unsigned int pin = 0; pin < c->lines; pin++)
		if (c->irr_since[pin])
			watched[pin / 64] |= 1ull << (pin % 64);
	blob_put_u64(w, watched[0]);
	blob_put_u64(w, watched[1]);
}

/*
 * Layout: flags, 7 reserved bytes, the deferred pins (2 x 64 bits), the
 * storm limiter's and the watchdog's remaining wait, the pins whose
 * Remote IRR the watchdog times (2 x 64 bits); per pin the line's
 * asserts, its recovered EOIs, the age of its Remote IRR and the
 * watchdog's current wait for it (32 bytes); the 256 vector counters.
 */
static void split_save_router(const struct irqchip *c, struct blob_writer *w,
			      uint64_t now)
{
	bool armed = c->watch_deadline || c->reports_due;

	blob_put_u8(w, (c->ioapic_extint ? SNAP_IOAPIC_EXTINT : 0) |
			       (armed ? SNAP_WATCH_ARMED : 0));
	blob_put_zero(w, 7);
	save_router_times(c, w, now);
	for (unsigned int pin = 0; pin < c->lines; pin++) {
		uint64_t since = c->irr_since[pin];

		blob_put_u64(w, c->line_asserts[pin]);
		blob_put_u64(w, c->eois_recovered[pin]);
		blob_put_u64(w, since && since < now ? now - since : 0);
		blob_put_u64(w, c->watch_wait[pin]);
	}
	for (unsigned int v = 0; v < 256; v++)
		blob_put_u64(w, c->vectors[v]);
}

static void split_save_body(const struct irqchip *c, struct blob_writer *w,
			    uint64_t now)
{
	ioapic_save(&c->ioapic, w);
	pic_save(&c->pic, w);
	split_save_router(c, w, now);
}

/*
 * The body's length, fixed by the configuration: measured once, by a save
 * that only counts. Under lock.
 */
static size_t split_body_size(struct irqchip *c)
{
	if (!c->body_size) {
		struct blob_writer w = {NULL, 0, 0};

		split_save_body(c, &w, 0);
		c->body_size = w.len;
	}
	return c->body_size;
}

int irqchip_save(struct irqchip *c, void *buf, size_t cap, uint64_t now)
{
	struct blob_writer w = {buf, cap, 0};
	size_t body;
	int r;

	if (c->mode == IRQCHIP_KERNEL) {
		body = kernel_irqchip_state_size();
		if (SNAP_HEADER_SIZE + body > cap)
			return -ENOSPC;
		snap_put_header(&w, c, body);
		r = kernel_irqchip_save(c->host.vm_fd, &w);
		if (r == -ENOTSUP)
			log_error(c->host.log,
				  "snapshot: IRQ0 is unmasked, and KVM's own "
				  "PIT cannot be put back mid-period "
				  "(KVM_SET_PIT2 restarts its count): use "
				  "--irqchip split, or mask IRQ0 first");
		return r ? r : (int)w.len;
	}
	split_lock(c);
	body = split_body_size(c);
	r = -ENOSPC;
	if (SNAP_HEADER_SIZE + body <= cap) {
		snap_put_header(&w, c, body);
		split_save_body(c, &w, now);
		r = (int)w.len;
	}
	split_unlock(c);
	return r;
}

/*
 * The storm limiter holds back pins until a deadline within its delay;
 * the watchdog looks within its longest wait. Either is armed exactly
 * when it has something to wait for.
 */
static void load_router_times(const struct irqchip *c,
			      struct split_router_image *t, bool armed,
			      uint64_t watched[2], struct blob_reader *r,
			      uint64_t now)
{
	uint64_t defer_in, watch_in;
	bool deferring;

	t->deferred[0] = blob_get_u64(r);
	t->deferred[1] = blob_get_u64(r);
	defer_in = blob_get_u64(r);
	watch_in = blob_get_u64(r);
	watched[0] = blob_get_u64(r);
	watched[1] = blob_get_u64(r);
	for (unsigned int i = 0; i < 2; i++)
		blob_check(r, !(t->deferred[i] & ~pins_mask(c, i)) &&
				  !(watched[i] & ~pins_mask(c, i)));
	deferring = t->deferred[0] || t->deferred[1];
	blob_check(r, defer_in <= STORM_DELAY_NS && (deferring || !defer_in));
	t->defer_deadline = deferring ? at(now, defer_in) : 0;
	blob_check(r, watch_in <= EOI_WATCHDOG_MAX_NS && (armed || !watch_in));
	t->watch_deadline = armed ? at(now, watch_in) : 0;
}

/*
 * One pin's counters and watchdog. The watchdog's wait starts at
 * EOI_WATCHDOG_NS and doubles up to EOI_WATCHDOG_MAX_NS; it is 0 only
 * for a pin never delivered at level. A Remote IRR's age is rebased
 * (1, the earliest time there is, if now is younger than that).
 */
static void load_router_pin(struct split_router_image *t, unsigned int pin,
			    bool watched, struct blob_reader *r, uint64_t now)
{
	uint64_t age, wait;

	t->line_asserts[pin] = blob_get_u64(r);
	t->eois_recovered[pin] = blob_get_u64(r);
	age = blob_get_u64(r);
	wait = blob_get_u64(r);
	blob_check(r, watched || !age);
	blob_check(r, (!wait && !watched) || (wait >= EOI_WATCHDOG_NS &&
					      wait <= EOI_WATCHDOG_MAX_NS));
	t->watch_wait[pin] = wait;
	t->irr_since[pin] = !watched ? 0 : age < now ? now - age : 1;
}

static void split_load_router(const struct irqchip *c,
			      struct split_router_image *t,
			      struct blob_reader *r, uint64_t now)
{
	uint64_t watched[2];
	uint8_t flags = blob_get_u8(r);

	memset(t, 0, sizeof(*t));
	blob_check(r, !(flags & ~SNAP_ROUTER_FLAGS));
	blob_get_zero(r, 7);
	t->ioapic_extint = flags & SNAP_IOAPIC_EXTINT;
	load_router_times(c, t, flags & SNAP_WATCH_ARMED, watched, r, now);
	for (unsigned int pin = 0; pin < c->lines && !r->bad; pin++)
		load_router_pin(t, pin, (watched[pin / 64] >> (pin % 64)) & 1,
				r, now);
	for (unsigned int v = 0; v < 256; v++)
		t->vectors[v] = blob_get_u64(r);
}

static void split_commit_router(struct irqchip *c,
				const struct split_router_image *t)
{
	size_t n = c->lines * sizeof(uint64_t);

	c->ioapic_extint = t->ioapic_extint;
	memcpy(c->deferred, t->deferred, sizeof(c->deferred));
	c->defer_deadline = t->defer_deadline;
	c->watch_deadline = t->watch_deadline;
	memcpy(c->line_asserts, t->line_asserts, n);
	memcpy(c->eois_recovered, t->eois_recovered, n);
	memcpy(c->irr_since, t->irr_since, n);
	memcpy(c->watch_wait, t->watch_wait, n);
	memcpy(c->vectors, t->vectors, sizeof(c->vectors));
	c->reports_due = 0;
	memset(c->seen, 0, sizeof(c->seen));
}

/*
 * The loaded state goes live. The GSI routes that differ from the loaded
 * entries are installed. KVM scans every vCPU's EOI-exit vectors again
 * after that, and after the vCPUs' KVM_SET_LAPIC (kvm_apic_set_state()
 * recalculates the APIC map, which requests the scan), which the restore
 * does before this: a level vector in service still exits on its EOI,
 * and a table left as it was is not installed again, which would cost an
 * SRCU grace period in KVM_SET_GSI_ROUTING. A level
 * pin with Remote IRR set waits for that EOI, as on the 82093AA
 * (3.2.4); a pin the chip owes a message and the storm limiter did not
 * hold back is served now. The PIC's INT pin and an owed IOAPIC ExtINT
 * go to the ExtINT vCPU; the timer is armed for the rebased deadlines.
 * Under lock.
 */
static void split_commit(struct irqchip *c, const struct split_image *img)
{
	bool extint;

	c->ioapic = img->ioapic;
	c->pic = img->pic;
	split_commit_router(c, &img->router);
	c->routes_dirty = true;
	split_flush_routes(c);
	for (unsigned int pin = 0; pin < c->lines; pin++)
		if (ioapic_owed(&c->ioapic, pin) &&
		    !((c->deferred[pin / 64] >> (pin % 64)) & 1))
			ioapic_retry(&c->ioapic, pin);
	extint = pic_output(&c->pic) || c->ioapic_extint;
	atomic_store(&c->extint, extint);
	if (extint)
		c->host.kick(c->host.vm, EXTINT_CPU);
	split_arm_timer(c);
}

/* Decodes into a copy of the chips; only a valid blob reaches them. */
static int split_load(struct irqchip *c, struct blob_reader *r, uint64_t now)
{
	struct split_image *img = malloc(sizeof(*img));
	int ret = -EINVAL;

	if (!img)
		return -ENOMEM;
	img->ioapic = c->ioapic;
	img->pic = c->pic;
	if (!ioapic_load(&img->ioapic, r) && !pic_load(&img->pic, r)) {
		split_load_router(c, &img->router, r, now);
		if (!r->bad && r->pos == r->len) {
			split_commit(c, img);
			ret = 0;
		}
	}
	free(img);
	return ret;
}

int irqchip_load(struct irqchip *c, const void *buf, size_t len,
		 uint64_t now)
{
	struct blob_reader r = {buf, len, 0, false};
	int ret;

	if (!buf)
		return -EINVAL;
	if (c->mode == IRQCHIP_KERNEL) {
		/* The header fixes the length: the state ends the blob. */
		snap_check_header(&r, c, kernel_irqchip_state_size());
		return r.bad ? -EINVAL : kernel_irqchip_load(c->host.vm_fd, &r);
	}
	split_lock(c);
	snap_check_header(&r, c, split_body_size(c));
	ret = r.bad ? -EINVAL : split_load(c, &r, now);
	split_unlock(c);
	return ret;
}
