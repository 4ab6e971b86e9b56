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
	if (r)
		log_error(log, "KVM_SET_GSI_ROUTING failed: %s", strerror(-r));
	return r;
}

void kernel_irqchip_set_irq(int vm_fd, unsigned int line, bool level)
{
	struct kvm_irq_level irq = {.irq = line, .level = level};

	ioctl(vm_fd, KVM_IRQ_LINE, &irq);
}
