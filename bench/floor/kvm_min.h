/* SPDX-License-Identifier: MIT */
/*
 * The raw floor: a VM made with only the KVM ioctls a benchmark path
 * needs, to measure splitvm against. No device models: port and MMIO
 * accesses are answered inline (COM1 output collected, reads all ones,
 * LSR "transmitter empty"), and the interrupt paths are wired statically
 * to the vectors the bench guest programs (bench/guest/bench.c).
 */
#ifndef KVM_MIN_H
#define KVM_MIN_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FVM_MAX_CPUS 8

struct fvm;

struct fcpu {
	struct fvm *vm;
	unsigned int index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
};

struct fvm {
	int kvm_fd, vm_fd;
	uint8_t *mem;
	uint64_t mem_size;
	size_t run_size;
	unsigned int cpus;
	struct fcpu cpu[FVM_MAX_CPUS];
	int msi_eventfd; /* irqfd on the MSI GSI */
	bool level_high; /* the level test line */
	bool echo;	 /* copy COM1 output to stdout */
	unsigned int lines; /* COM1 lines written so far */
	/* The outcome, set by the vCPU that saw it. */
	volatile int done;
	int status; /* (code << 1) | 1, as the CLI's; or 4/6/8 */
};

/*
 * Creates a VM: /dev/kvm, KVM_CREATE_VM, split irqchip, RAM, the static
 * MSI routes and irqfd, the multiboot ELF32 kernel and its info, vCPUs.
 * Returns 0 or a negative errno (and says why on stderr).
 */
int fvm_create(struct fvm *vm, const char *kernel, const char *cmdline,
	       unsigned int cpus, uint64_t mem_size);
/* Runs every vCPU (APs on threads, the BSP here) until the guest ends;
 * returns the status. */
int fvm_run(struct fvm *vm);
/* Starts the vCPUs on threads and returns; nothing stops them (for
 * memory figures: the process exits). */
int fvm_start(struct fvm *vm);
void fvm_destroy(struct fvm *vm);
/* Handles vCPU c's last exit; false when the vCPU must stop. */
bool fvm_handle_exit(struct fcpu *c);
/* The host's TSC rate as KVM gives it to a vCPU, in kHz, or 0. */
unsigned long fvm_tsc_khz(void);

#endif
