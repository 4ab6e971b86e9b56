// SPDX-License-Identifier: MIT
/*
 * Kernel mode: KVM emulates the PICs, the IOAPIC and the PIT itself. Used
 * as the reference model: every irqchip guest must give the same verdict
 * here as under splitvm's own chips.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "ioapic.h"
#include "kernel.h"
#include "pic.h"

#define ISA_LINES 16

/*
 * The PC's wiring, as the in-kernel chips need it spelled out: GSI n
 * reaches PIC input n (n < 16) and IOAPIC pin n, except that the PIT's
 * GSI 0 reaches IOAPIC pin 2 and the cascade (GSI 2) no IOAPIC pin. KVM's
 * default table sends GSI 0 to pin 0, which no PC firmware describes.
 */
static int kernel_set_routing(int vm_fd)
{
	struct kvm_irq_routing *r;
	unsigned int n = 0;
	int ret = 0;

	r = calloc(1, sizeof(*r) + (ISA_LINES + KERNEL_IRQCHIP_LINES) *
					  sizeof(r->entries[0]));
	if (!r)
		return -ENOMEM;
	for (unsigned int gsi = 0; gsi < ISA_LINES; gsi++) {
		struct kvm_irq_routing_entry *e = &r->entries[n++];

		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
					       : KVM_IRQCHIP_PIC_SLAVE;
		e->u.irqchip.pin = gsi % 8;
	}
	for (unsigned int gsi = 0; gsi < KERNEL_IRQCHIP_LINES; gsi++) {
		struct kvm_irq_routing_entry *e;

		if (gsi == 2)
			continue;
		e = &r->entries[n++];
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e->u.irqchip.pin = gsi == 0 ? 2 : gsi;
	}
	r->nr = n;
	if (ioctl(vm_fd, KVM_SET_GSI_ROUTING, r) < 0)
		ret = -errno;
	free(r);
	return ret;
}

/*
 * KVM's PICs start in their power-on state; ours start as PC firmware
 * leaves them (DEVICE-CONTRACT, "State at start"). For the two modes to be
 * compared, the kernel's get exactly the state of our model after its
 * firmware reset.
 */
static int kernel_set_pic_firmware_state(int vm_fd)
{
	struct pic model;

	pic_init(&model, NULL, NULL);
	pic_reset(&model, true);
	for (unsigned int i = 0; i < 2; i++) {
		const struct pic_chip *m = &model.chip[i];
		struct kvm_irqchip chip = {
			.chip_id = i == 0 ? KVM_IRQCHIP_PIC_MASTER
					  : KVM_IRQCHIP_PIC_SLAVE,
		};
		struct kvm_pic_state *k = &chip.chip.pic;

		if (ioctl(vm_fd, KVM_GET_IRQCHIP, &chip) < 0)
			return -errno;
		k->last_irr = m->last_irr;
		k->irr = m->irr;
		k->imr = m->imr;
		k->isr = m->isr;
		k->priority_add = m->priority_add;
		k->irq_base = m->irq_base;
		k->read_reg_select = m->read_isr;
		k->poll = m->poll;
		k->special_mask = m->special_mask;
		k->init_state = m->init_state;
		k->auto_eoi = m->auto_eoi;
		k->rotate_on_auto_eoi = m->rotate_on_auto_eoi;
		k->special_fully_nested_mode = m->special_fully_nested;
		k->init4 = m->icw4_needed;
		k->elcr = m->elcr;
		k->elcr_mask = m->elcr_mask;
		if (ioctl(vm_fd, KVM_SET_IRQCHIP, &chip) < 0)
			return -errno;
	}
	return 0;
}

/*
 * As our PIT's firmware reset (pit_reset(p, true)) leaves it: counters 1
 * and 2 in mode 3 awaiting a count, counter 0 as SeaBIOS's pit_setup()
 * programs it (mode 2, count 0 = 65536: IRQ0 at 18.2 Hz). KVM_SET_PIT2
 * loads each channel's count, which starts counter 0.
 */
static int kernel_reset_pit(int vm_fd)
{
	struct kvm_pit_state2 pit = {0};

	for (unsigned int i = 0; i < 3; i++) {
		pit.channels[i].mode = i == 0 ? 2 : 3;
		pit.channels[i].rw_mode = 3; /* LSB then MSB */
		pit.channels[i].read_state = 3;
		pit.channels[i].write_state = 3;
		pit.channels[i].gate = i != 2;
	}
	return ioctl(vm_fd, KVM_SET_PIT2, &pit) < 0 ? -errno : 0;
}

int kernel_irqchip_create(int vm_fd, const struct logger *log)
{
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
	int r = 0;

	if (ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		r = -errno;
		log_error(log, "KVM_CREATE_IRQCHIP failed: %s", strerror(-r));
		return r;
	}
	if (ioctl(vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		r = -errno;
		log_error(log, "KVM_CREATE_PIT2 failed: %s", strerror(-r));
		return r;
	}
	r = kernel_set_routing(vm_fd);
	if (r) {
		log_error(log, "KVM_SET_GSI_ROUTING failed: %s", strerror(-r));
		return r;
	}
	r = kernel_set_pic_firmware_state(vm_fd);
	if (!r)
		r = kernel_reset_pit(vm_fd);
	if (r)
		log_error(log, "setting the in-kernel PICs and PIT failed: %s",
			  strerror(-r));
	return r;
}

/* IOAPIC entries masked, ID 0, lines low (82093AA 3.2.4 reset state). */
static int kernel_reset_ioapic(int vm_fd)
{
	struct kvm_irqchip chip = {.chip_id = KVM_IRQCHIP_IOAPIC};
	struct kvm_ioapic_state *k = &chip.chip.ioapic;

	if (ioctl(vm_fd, KVM_GET_IRQCHIP, &chip) < 0)
		return -errno;
	k->id = 0;
	k->irr = 0;
	k->ioregsel = 0;
	for (unsigned int i = 0; i < KERNEL_IRQCHIP_LINES; i++)
		k->redirtbl[i].bits = 1ull << 16;
	return ioctl(vm_fd, KVM_SET_IRQCHIP, &chip) < 0 ? -errno : 0;
}

void kernel_irqchip_reset(int vm_fd, const struct logger *log)
{
	int r = kernel_set_pic_firmware_state(vm_fd);

	if (!r)
		r = kernel_reset_ioapic(vm_fd);
	if (!r)
		r = kernel_reset_pit(vm_fd);
	if (r)
		log_error(log, "resetting the in-kernel irqchip failed: %s",
			  strerror(-r));
}

int kernel_irqchip_ioapic_state(int vm_fd, struct splitvm_ioapic_state *ret)
{
	struct kvm_irqchip chip = {.chip_id = KVM_IRQCHIP_IOAPIC};
	const struct kvm_ioapic_state *k = &chip.chip.ioapic;

	if (ioctl(vm_fd, KVM_GET_IRQCHIP, &chip) < 0)
		return -errno;
	ret->id = k->id << 24;
	ret->version = 0x11 | (KERNEL_IRQCHIP_LINES - 1) << 16;
	ret->pins = KERNEL_IRQCHIP_LINES;
	for (unsigned int pin = 0; pin < KERNEL_IRQCHIP_LINES; pin++) {
		ret->entries[pin] = k->redirtbl[pin].bits;
		ret->lines[pin] = (k->irr >> pin) & 1;
	}
	return 0;
}

int kernel_irqchip_pic_state(int vm_fd, struct splitvm_pic_state *ret)
{
	for (unsigned int i = 0; i < 2; i++) {
		struct kvm_irqchip chip = {
			.chip_id = i ? KVM_IRQCHIP_PIC_SLAVE
				     : KVM_IRQCHIP_PIC_MASTER,
		};
		const struct kvm_pic_state *k = &chip.chip.pic;

		if (ioctl(vm_fd, KVM_GET_IRQCHIP, &chip) < 0)
			return -errno;
		ret->chip[i] = (struct splitvm_pic_chip_state){
			k->irr, k->isr, k->imr, k->elcr, k->irq_base,
			k->priority_add, k->auto_eoi, k->special_mask,
			k->special_fully_nested_mode, k->poll, k->init_state,
		};
	}
	return 0;
}

int kernel_irqchip_pit_state(int vm_fd, struct splitvm_pit_state *ret)
{
	struct kvm_pit_state2 pit;

	if (ioctl(vm_fd, KVM_GET_PIT2, &pit) < 0)
		return -errno;
	for (unsigned int i = 0; i < 3; i++) {
		const struct kvm_pit_channel_state *c = &pit.channels[i];

		ret->channel[i].count = c->count ? c->count : 0x10000;
		ret->channel[i].mode = c->mode;
		ret->channel[i].bcd = c->bcd;
		ret->channel[i].gate = c->gate;
	}
	return 0;
}

void kernel_irqchip_set_irq(int vm_fd, unsigned int line, bool level)
{
	struct kvm_irq_level irq = {.irq = line, .level = level};

	ioctl(vm_fd, KVM_IRQ_LINE, &irq);
}

/* ---- Snapshots ------------------------------------------------------- */

/*
 * What KVM lets us read is all that is saved. Left behind, because KVM
 * has no interface for them (state that only shapes timing):
 *  - the PIT's phase: KVM_SET_PIT2 reloads every counter's count
 *    (kvm_pit_load_count()), so a counter restarts its period from the
 *    load, and ticks KVM had not injected yet are forgotten;
 *  - the IOAPIC's per-pin EOI storm counters, and which interrupt
 *    sources hold each PIC and IOAPIC line (KVM_SET_IRQCHIP takes the
 *    levels as asserted by one source, the one KVM_IRQ_LINE uses).
 * The LAPICs are the vCPUs' state, not the irqchip's.
 */

#ifndef KVM_PIT_FLAGS_SPEAKER_DATA_ON
#define KVM_PIT_FLAGS_SPEAKER_DATA_ON 0x00000002
#endif
#define PIT_FLAGS (KVM_PIT_FLAGS_HPET_LEGACY | KVM_PIT_FLAGS_SPEAKER_DATA_ON)

struct kernel_state {
	struct kvm_irqchip chip[3]; /* PIC master, PIC slave, IOAPIC */
	struct kvm_pit_state2 pit;
};

static const uint32_t chip_ids[3] = {
	KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE, KVM_IRQCHIP_IOAPIC,
};

static int kernel_get(int vm_fd, struct kernel_state *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned int i = 0; i < 3; i++) {
		s->chip[i].chip_id = chip_ids[i];
		if (ioctl(vm_fd, KVM_GET_IRQCHIP, &s->chip[i]) < 0)
			return -errno;
	}
	/* KVM_CREATE_PIT2 always ran: kernel mode refuses to go without. */
	return ioctl(vm_fd, KVM_GET_PIT2, &s->pit) < 0 ? -errno : 0;
}

/* Sets the first n of the chips and the PIT (n == 4). */
static int kernel_set(int vm_fd, struct kernel_state *s, unsigned int n,
		      unsigned int *ret_done)
{
	*ret_done = 0;
	for (unsigned int i = 0; i < n; i++) {
		int r = i < 3 ? ioctl(vm_fd, KVM_SET_IRQCHIP, &s->chip[i])
			      : ioctl(vm_fd, KVM_SET_PIT2, &s->pit);

		if (r < 0)
			return -errno;
		*ret_done = i + 1;
	}
	return 0;
}

/* 16 bytes, in struct kvm_pic_state's order. */
static void save_kvm_pic(const struct kvm_pic_state *k, struct blob_writer *w)
{
	const uint8_t v[16] = {
		k->last_irr, k->irr, k->imr, k->isr, k->priority_add,
		k->irq_base, k->read_reg_select, k->poll, k->special_mask,
		k->init_state, k->auto_eoi, k->rotate_on_auto_eoi,
		k->special_fully_nested_mode, k->init4, k->elcr, k->elcr_mask,
	};

	for (unsigned int i = 0; i < 16; i++)
		blob_put_u8(w, v[i]);
}

static void save_kvm_ioapic(const struct kvm_ioapic_state *k,
			    struct blob_writer *w)
{
	blob_put_u64(w, k->base_address);
	blob_put_u32(w, k->ioregsel);
	blob_put_u32(w, k->id);
	blob_put_u32(w, k->irr);
	blob_put_zero(w, 4);
	for (unsigned int pin = 0; pin < KERNEL_IRQCHIP_LINES; pin++)
		blob_put_u64(w, k->redirtbl[pin].bits);
}

/* count_load_time is not saved: KVM_SET_PIT2 ignores it. */
static void save_kvm_pit(const struct kvm_pit_state2 *k, struct blob_writer *w)
{
	blob_put_u32(w, k->flags);
	blob_put_zero(w, 4);
	for (unsigned int i = 0; i < 3; i++) {
		const struct kvm_pit_channel_state *c = &k->channels[i];

		blob_put_u32(w, c->count);
		blob_put_u16(w, c->latched_count);
		blob_put_u8(w, c->count_latched);
		blob_put_u8(w, c->status_latched);
		blob_put_u8(w, c->status);
		blob_put_u8(w, c->read_state);
		blob_put_u8(w, c->write_state);
		blob_put_u8(w, c->write_latch);
		blob_put_u8(w, c->rw_mode);
		blob_put_u8(w, c->mode);
		blob_put_u8(w, c->bcd);
		blob_put_u8(w, c->gate);
	}
}

static void kernel_encode(const struct kernel_state *s, struct blob_writer *w)
{
	save_kvm_pic(&s->chip[0].chip.pic, w);
	save_kvm_pic(&s->chip[1].chip.pic, w);
	save_kvm_ioapic(&s->chip[2].chip.ioapic, w);
	save_kvm_pit(&s->pit, w);
}

size_t kernel_irqchip_state_size(void)
{
	static const struct kernel_state zero;
	struct blob_writer w = {NULL, 0, 0};

	kernel_encode(&zero, &w);
	return w.len;
}

/*
 * Whether IRQ0 can reach the guest: unmasked in the master 8259A once it
 * is initialized (OCW1, 8259A datasheet) or on IOAPIC pin 2 (82093AA
 * 3.2.4, bit 16 masks). KVM_SET_PIT2 reloads a counter's count
 * (kvm_pit_load_count()), so a restore would restart counter 0's period:
 * the guest would see its timer tick late, once. That phase is what KVM
 * does not let us put back, so a snapshot is refused while it matters.
 */
static bool kernel_pit_phase_live(const struct kernel_state *s)
{
	const struct kvm_pic_state *master = &s->chip[0].chip.pic;
	const struct kvm_ioapic_state *io = &s->chip[2].chip.ioapic;

	return (!master->init_state && !(master->imr & 1)) ||
	       !(io->redirtbl[2].fields.mask);
}

int kernel_irqchip_save(int vm_fd, struct blob_writer *w)
{
	struct kernel_state s;
	int r = kernel_get(vm_fd, &s);

	if (!r && kernel_pit_phase_live(&s))
		return -ENOTSUP;
	if (!r)
		kernel_encode(&s, w);
	return r;
}

/*
 * What KVM's i8259 can hold: a vector base from ICW2 (T7-T3), priority
 * and initialization step in range, flags 0 or 1, and the ELCR mask KVM
 * created the chip with (IRQ0-2, 8 and 13 edge only).
 */
static void load_kvm_pic(struct kvm_pic_state *k, uint8_t elcr_mask,
			 struct blob_reader *r)
{
	k->last_irr = blob_get_u8(r);
	k->irr = blob_get_u8(r);
	k->imr = blob_get_u8(r);
	k->isr = blob_get_u8(r);
	k->priority_add = blob_get_u8(r);
	k->irq_base = blob_get_u8(r);
	k->read_reg_select = blob_get_bool(r);
	k->poll = blob_get_bool(r);
	k->special_mask = blob_get_bool(r);
	k->init_state = blob_get_u8(r);
	k->auto_eoi = blob_get_bool(r);
	k->rotate_on_auto_eoi = blob_get_bool(r);
	k->special_fully_nested_mode = blob_get_bool(r);
	k->init4 = blob_get_bool(r);
	k->elcr = blob_get_u8(r);
	k->elcr_mask = blob_get_u8(r);
	blob_check(r, k->priority_add <= 7 && !(k->irq_base & 7) &&
			  k->init_state <= 3);
	blob_check(r, k->elcr_mask == elcr_mask && !(k->elcr & ~elcr_mask));
}

/*
 * KVM's IOAPIC decodes MMIO at base_address, so it must stay where the
 * machine description puts it. IOREGSEL holds 8 bits, the ID 4 (82093AA
 * 3.1.1, 3.2.1), the line levels one per pin; in the entries Delivery
 * Status is never set and KVM clears Remote IRR on edge entries.
 */
static void load_kvm_ioapic(struct kvm_ioapic_state *k, struct blob_reader *r)
{
	k->base_address = blob_get_u64(r);
	k->ioregsel = blob_get_u32(r);
	k->id = blob_get_u32(r);
	k->irr = blob_get_u32(r);
	blob_get_zero(r, 4);
	blob_check(r, k->base_address == IOAPIC_BASE && k->ioregsel <= 0xff &&
			  k->id <= 0xf &&
			  !(k->irr >> KERNEL_IRQCHIP_LINES));
	for (unsigned int pin = 0; pin < KERNEL_IRQCHIP_LINES; pin++) {
		uint64_t e = blob_get_u64(r);

		blob_check(r, !(e & IOAPIC_RTE_DELIVS) &&
				  (!(e & IOAPIC_RTE_REMOTE_IRR) ||
				   (e & IOAPIC_RTE_LEVEL)));
		k->redirtbl[pin].bits = e;
	}
}

/*
 * A channel as KVM's i8254 leaves it after any control word (8254
 * datasheet, "Control Word Format"): modes 0-5 (6 and 7 fold to 2 and
 * 3), access 1-3, read/write state LSB, MSB or the word's two halves
 * (1-4), a latched count of the access mode or none, count 1-65536.
 */
static void load_kvm_pit_channel(struct kvm_pit_channel_state *c,
				 struct blob_reader *r)
{
	c->count = blob_get_u32(r);
	c->latched_count = blob_get_u16(r);
	c->count_latched = blob_get_u8(r);
	c->status_latched = blob_get_bool(r);
	c->status = blob_get_u8(r);
	c->read_state = blob_get_u8(r);
	c->write_state = blob_get_u8(r);
	c->write_latch = blob_get_u8(r);
	c->rw_mode = blob_get_u8(r);
	c->mode = blob_get_u8(r);
	c->bcd = blob_get_bool(r);
	c->gate = blob_get_bool(r);
	blob_check(r, c->count >= 1 && c->count <= 0x10000 &&
			  c->count_latched <= 3 && c->mode <= 5);
	blob_check(r, c->rw_mode >= 1 && c->rw_mode <= 3 &&
			  c->read_state >= 1 && c->read_state <= 4 &&
			  c->write_state >= 1 && c->write_state <= 4);
}

static void load_kvm_pit(struct kvm_pit_state2 *k, struct blob_reader *r)
{
	k->flags = blob_get_u32(r);
	blob_get_zero(r, 4);
	blob_check(r, !(k->flags & ~PIT_FLAGS));
	for (unsigned int i = 0; i < 3; i++)
		load_kvm_pit_channel(&k->channels[i], r);
}

static void kernel_decode(struct kernel_state *s, struct blob_reader *r)
{
	memset(s, 0, sizeof(*s));
	for (unsigned int i = 0; i < 3; i++)
		s->chip[i].chip_id = chip_ids[i];
	load_kvm_pic(&s->chip[0].chip.pic, PIC_ELCR_MASK_MASTER, r);
	load_kvm_pic(&s->chip[1].chip.pic, PIC_ELCR_MASK_SLAVE, r);
	load_kvm_ioapic(&s->chip[2].chip.ioapic, r);
	load_kvm_pit(&s->pit, r);
}

int kernel_irqchip_load(int vm_fd, struct blob_reader *r)
{
	struct kernel_state *s = malloc(2 * sizeof(*s)), *old = s + 1;
	unsigned int done = 0, undone;
	int ret;

	if (!s)
		return -ENOMEM;
	kernel_decode(s, r);
	ret = r->bad ? -EINVAL : kernel_get(vm_fd, old);
	if (!ret)
		ret = kernel_set(vm_fd, s, 4, &done);
	if (ret && ret != -EINVAL && done)
		kernel_set(vm_fd, old, done, &undone); /* all or nothing */
	free(s);
	return ret;
}
