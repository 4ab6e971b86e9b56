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
 * first it refuses). Any thread vm_call() picks; fills index[] and
 * returns the count, or a negative errno.
 */
int vcpu_state_msr_list(struct vcpu *v, int kvm_fd, uint32_t *index,
			unsigned int cap);

/*
 * Reads or writes all of v's state, the VM paused, on any thread the
 * sandbox lets make v's ioctls (vm_call()). A parked vCPU is at an
 * instruction boundary (vcpu_exit_unfinished()); both refuse (-EBUSY) one
 * that is not. save reads the MSRs s->msrs[].index names (s->nr_msrs of
 * them); load refuses (-EINVAL) state KVM will not take, naming what in
 * the log.
 */
int vcpu_state_save(struct vcpu *v, struct vcpu_state *s);
int vcpu_state_load(struct vcpu *v, const struct vcpu_state *s);

#endif /* SPLITVM_VCPU_STATE_H */
