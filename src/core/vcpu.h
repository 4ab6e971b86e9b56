/* SPDX-License-Identifier: MIT */
/* A vCPU: its thread, its run loop, and requests other threads post to it. */
#ifndef SPLITVM_VCPU_H
#define SPLITVM_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "boot.h"

struct splitvm;
struct vcpu;

/*
 * Work another thread asks of a vCPU. While the vCPU runs, only its own
 * thread issues its ioctls (KVM-NOTES rule 7), so others set a bit here
 * and kick; the thread handles the bits, in this order, before each
 * KVM_RUN. (A paused vCPU's state is another thread's to read and write:
 * vm_call().)
 */
enum vcpu_request {
	VCPU_REQ_STOP = 1u << 0,   /* leave the run loop */
	VCPU_REQ_NMI = 1u << 1,	   /* KVM_NMI */
	VCPU_REQ_EXTINT = 1u << 2, /* look at the PIC's output (a kick) */
	VCPU_REQ_LAPIC = 1u << 3,  /* report LAPIC IRR|ISR to the irqchip */
	VCPU_REQ_INIT = 1u << 4,   /* INIT: reset, then wait for SIPI */
	VCPU_REQ_SIPI = 1u << 5,   /* start at sipi_vector if waiting */
	VCPU_REQ_RESET = 1u << 6,  /* back to the state it was created in */
	VCPU_REQ_PAUSE = 1u << 7,  /* park until the VM resumes */
	VCPU_REQ_WAKE = 1u << 8,   /* reset, then enter the S3 waking vector */
};

/*
 * The requests that are the guest's state, not the host's: a snapshot
 * keeps them, a restore replaces them, and a reset or an S3 wake, which
 * starts the vCPU afresh, drops those posted before it
 * (vcpu_drop_guest_requests()).
 */
#define VCPU_REQ_GUEST                                                       \
	(VCPU_REQ_NMI | VCPU_REQ_EXTINT | VCPU_REQ_LAPIC | VCPU_REQ_INIT |   \
	 VCPU_REQ_SIPI | VCPU_REQ_WAKE)

/* A vCPU's registers as created: what a VM reset restores. */
struct vcpu_initial {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_lapic_state lapic;
	struct kvm_mp_state mp_state;
};

/* Exits by reason, counted by the vCPU's own thread, read by anyone. */
enum vcpu_stat {
	VCPU_STAT_IO,
	VCPU_STAT_MMIO,
	VCPU_STAT_IOAPIC_EOI,
	VCPU_STAT_IRQ_WINDOW,
	VCPU_STAT_INTR, /* kicks and signals */
	VCPU_STAT_HLT,
	VCPU_STAT_OTHER,
	VCPU_STAT_EXTINT_INJECTED,
	VCPU_STAT_NMI_INJECTED,
	VCPU_NR_STATS,
};

/* Work a paused vCPU's thread does for a sandboxed one (see vm_call()). */
struct vcpu_call {
	int (*fn)(struct vcpu *v, void *arg);
	void *arg;
	int result;
	bool done;
};

struct vcpu {
	struct splitvm *vm;
	unsigned int index; /* also its APIC ID */
	int fd;
	struct kvm_run *run;
	struct worker *worker; /* the thread running it (worker.c) */
	pthread_t thread;
	atomic_bool thread_started;
	/*
	 * Kicks reach the thread only while it runs this vCPU: it is the
	 * pool's once the run ends, and may serve another VM by then.
	 */
	pthread_mutex_t kick_lock;
	bool kickable; /* under kick_lock */
	atomic_uint requests;
	atomic_uint sipi_vector; /* for VCPU_REQ_SIPI */
	struct vcpu_initial *initial;
	struct vcpu_call *call;	/* under vm->lock */
	_Atomic uint64_t stats[VCPU_NR_STATS];
};

/*
 * Describes a KVM_EXIT_INTERNAL_ERROR of vCPU index in buf (always
 * NUL-terminated): the suberror and, for an emulation failure, the
 * instruction bytes KVM fetched, if it passed them.
 */
void vcpu_describe_internal_error(const struct kvm_run *run,
				  unsigned int index, char *buf, size_t size);

/* Registers as the public API shows them; on the vCPU's thread. */
int vcpu_read_regs(struct vcpu *v, void *regs);
int vcpu_write_regs(struct vcpu *v, void *regs);

/*
 * Creates vCPU index in the VM: KVM_CREATE_VCPU, the kvm_run mapping,
 * CPUID, the kick signal mask and, for the BSP, the boot entry state.
 * Runs on the creating thread, before any vCPU thread exists.
 * Returns 0 or a negative errno.
 */
int vcpu_init(struct vcpu *v, struct splitvm *vm, unsigned int index,
	      const struct boot_plan *plan);
void vcpu_destroy(struct vcpu *v);

/* Starts the vCPU thread. Returns 0 or a negative errno. */
int vcpu_start(struct vcpu *v);

/*
 * Whether KVM has yet to finish v's last exit: an I/O, MMIO or MSR exit is
 * completed by the next KVM_RUN (an IN's value into RAX, RIP past the
 * instruction). A vCPU parks only once it is not (vcpu_handle_requests()),
 * so a paused VM's state is at instruction boundaries. Any thread.
 */
bool vcpu_exit_unfinished(const struct vcpu *v);

/*
 * Drops v's guest requests (VCPU_REQ_GUEST), with a reset it has not yet
 * made: what a reset or an S3 wake posted next replaces. The VM paused.
 */
void vcpu_drop_guest_requests(struct vcpu *v);

/* Posts requests to the vCPU and kicks it out of KVM_RUN. Any thread. */
void vcpu_request(struct vcpu *v, unsigned int requests);

/* Makes the vCPU's KVM_RUN return (signal + immediate_exit). */
void vcpu_kick(struct vcpu *v);

#endif /* SPLITVM_VCPU_H */
