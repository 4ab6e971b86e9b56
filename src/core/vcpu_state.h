/* SPDX-License-Identifier: MIT */
/*
 * A vCPU's whole state as KVM keeps it, for snapshots: what decides
 * everything the vCPU does next.
 */
#ifndef SPLITVM_VCPU_STATE_H
#define SPLITVM_VCPU_STATE_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"

/* MSRs kept per vCPU: KVM_GET_MSR_INDEX_LIST gives ~60 on x86 hosts. */
#define VCPU_STATE_MAX_MSRS 256

struct vcpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	/* FPU, SSE, AVX...: struct kvm_xsave's region (KVM_CAP_XSAVE2 =
	 * 4096 here), without its flexible extra[] tail. */
	uint32_t xsave[1024];
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events; /* exception, IRQ, NMI, SMI pending */
	struct kvm_mp_state mp_state;  /* runnable, halted, wait-for-SIPI */
	struct kvm_debugregs debugregs;
	uint32_t nr_msrs; /* the TSC included: guest time goes on from it */
	struct kvm_msr_entry msrs[VCPU_STATE_MAX_MSRS];
	uint64_t stats[VCPU_NR_STATS]; /* what the API reports, as taken */
	/* Requests posted while the VM was paused (an NMI, a SIPI...). */
	uint32_t requests;
	uint32_t sipi_vector;
};

/*
 * The MSRs a snapshot keeps: KVM's list (KVM_GET_MSR_INDEX_LIST on
 * kvm_fd), without those this vCPU cannot read (KVM_GET_MSRS stops at the
 * first it refuses). On v's own thread; fills index[] and returns the
 * count, or a negative errno.
 */
int vcpu_state_msr_list(struct vcpu *v, int kvm_fd, uint32_t *index,
			unsigned int cap);

/*
 * An exit's instruction is finished by the next KVM_RUN (an IN's value
 * lands in RAX, RIP moves past it). complete_io does that now, when the
 * last exit may need it, with a KVM_RUN that returns at once
 * (immediate_exit, api.rst), so that the state read next is at an
 * instruction boundary and a state written next is not moved past an
 * instruction by the old exit's completion. On v's own thread; always 0.
 * io_pending says whether it would run KVM_RUN: any thread, VM paused.
 */
bool vcpu_state_io_pending(const struct vcpu *v);
int vcpu_state_complete_io(struct vcpu *v);

/*
 * Reads or writes all of v's state, on v's own thread (vm_call()), the VM
 * paused. save first finishes the last exit (complete_io); load expects
 * its caller to have done so before it put back RAM, which completing a
 * string I/O could write. save reads the MSRs s->msrs[].index names
 * (s->nr_msrs of them); load refuses (-EINVAL) state KVM will not take,
 * naming what in the log.
 */
int vcpu_state_save(struct vcpu *v, struct vcpu_state *s);
int vcpu_state_load(struct vcpu *v, const struct vcpu_state *s);

#endif /* SPLITVM_VCPU_STATE_H */
