// SPDX-License-Identifier: MIT
/*
 * A vCPU's state for snapshots: every piece KVM lets us read and write
 * (api.rst, "KVM_GET_*"), in the order QEMU's kvm_arch_put_registers()
 * found to work: the control registers and MSRs before the LAPIC, whose
 * base sregs.apic_base sets, and the pending events after it.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vcpu_state.h"
#include "vm.h"

int vcpu_state_msr_list(struct vcpu *v, int kvm_fd, uint32_t *index,
			unsigned int cap)
{
	struct kvm_msr_list *list =
		calloc(1, sizeof(*list) + cap * sizeof(uint32_t));
	struct kvm_msrs *probe;
	unsigned int n = 0;

	if (!list)
		return -ENOMEM;
	list->nmsrs = cap;
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		int err = -errno;

		free(list);
		return err;
	}
	probe = calloc(1, sizeof(*probe) + list->nmsrs * sizeof(probe->entries[0]));
	if (!probe) {
		free(list);
		return -ENOMEM;
	}
	/* KVM_GET_MSRS reads in order and stops at the first MSR it refuses
	 * (one the host CPU lacks): that one is left out, the rest tried. */
	for (unsigned int from = 0; from < list->nmsrs;) {
		unsigned int want = list->nmsrs - from;
		int got;

		probe->nmsrs = want;
		for (unsigned int i = 0; i < want; i++)
			probe->entries[i].index = list->indices[from + i];
		got = ioctl(v->fd, KVM_GET_MSRS, probe);
		if (got < 0)
			break;
		for (int i = 0; i < got; i++)
			index[n++] = list->indices[from + (unsigned int)i];
		from += (unsigned int)got + 1; /* past the refused one */
	}
	free(probe);
	free(list);
	return (int)n;
}

/*
 * KVM_GET_MSRS or KVM_SET_MSRS of the n entries in: all of them or an
 * error (-EINVAL naming the MSR KVM refused). A read's values go to out.
 */
static int vcpu_state_msrs(struct vcpu *v, unsigned long req,
			   const struct kvm_msr_entry *in, uint32_t n,
			   struct kvm_msr_entry *out)
{
	struct kvm_msrs *m;
	int r;

	if (n > VCPU_STATE_MAX_MSRS)
		return -EINVAL;
	m = malloc(sizeof(*m) + n * sizeof(m->entries[0]));
	if (!m)
		return -ENOMEM;
	m->nmsrs = n;
	m->pad = 0;
	memcpy(m->entries, in, n * sizeof(m->entries[0]));
	r = ioctl(v->fd, req, m);
	if (r < 0) {
		r = -errno;
	} else if ((uint32_t)r < n) {
		log_error(&v->vm->log, "vCPU %u: KVM refused MSR 0x%x",
			  v->index, m->entries[r].index);
		r = -EINVAL;
	} else {
		r = 0;
		if (out)
			memcpy(out, m->entries, n * sizeof(m->entries[0]));
	}
	free(m);
	return r;
}

int vcpu_state_save(struct vcpu *v, struct vcpu_state *s)
{
	if (vcpu_exit_unfinished(v))
		return -EBUSY;
	if (ioctl(v->fd, KVM_GET_REGS, &s->regs) < 0 ||
	    ioctl(v->fd, KVM_GET_XSAVE, s->xsave) < 0 ||
	    ioctl(v->fd, KVM_GET_XCRS, &s->xcrs) < 0 ||
	    ioctl(v->fd, KVM_GET_SREGS, &s->sregs) < 0 ||
	    ioctl(v->fd, KVM_GET_MP_STATE, &s->mp_state) < 0 ||
	    ioctl(v->fd, KVM_GET_LAPIC, &s->lapic) < 0 ||
	    ioctl(v->fd, KVM_GET_VCPU_EVENTS, &s->events) < 0 ||
	    ioctl(v->fd, KVM_GET_DEBUGREGS, &s->debugregs) < 0)
		return -errno;
	for (unsigned int i = 0; i < VCPU_NR_STATS; i++)
		s->stats[i] = atomic_load(&v->stats[i]);
	s->requests = atomic_load(&v->requests) & VCPU_REQ_GUEST;
	s->sipi_vector = atomic_load(&v->sipi_vector);
	return vcpu_state_msrs(v, KVM_GET_MSRS, s->msrs, s->nr_msrs, s->msrs);
}

int vcpu_state_load(struct vcpu *v, const struct vcpu_state *s)
{
	struct kvm_vcpu_events ev = s->events;
	int r;

	/* What a KVM_GET_VCPU_EVENTS leaves out of its flags is set too. */
	ev.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING |
		    KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	/* KVM would finish the old exit over the loaded registers. */
	if (vcpu_exit_unfinished(v))
		return -EBUSY;
	if (ioctl(v->fd, KVM_SET_REGS, &s->regs) < 0 ||
	    ioctl(v->fd, KVM_SET_XSAVE, s->xsave) < 0 ||
	    ioctl(v->fd, KVM_SET_XCRS, &s->xcrs) < 0 ||
	    ioctl(v->fd, KVM_SET_SREGS, &s->sregs) < 0)
		return -errno;
	r = vcpu_state_msrs(v, KVM_SET_MSRS, s->msrs, s->nr_msrs, NULL);
	if (r)
		return r;
	if (ioctl(v->fd, KVM_SET_MP_STATE, &s->mp_state) < 0 ||
	    ioctl(v->fd, KVM_SET_LAPIC, &s->lapic) < 0 ||
	    ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0 ||
	    ioctl(v->fd, KVM_SET_DEBUGREGS, &s->debugregs) < 0)
		return -errno;
	v->run->request_interrupt_window = 0;
	for (unsigned int i = 0; i < VCPU_NR_STATS; i++)
		atomic_store(&v->stats[i], s->stats[i]);
	atomic_store(&v->sipi_vector, s->sipi_vector);
	/* The run's own requests (stop, pause) stay; the guest's are the
	 * snapshot's, and a reset asked before the restore is undone by it. */
	vcpu_drop_guest_requests(v);
	atomic_fetch_or(&v->requests, s->requests & VCPU_REQ_GUEST);
	return 0;
}
