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
