// SPDX-License-Identifier: MIT
/*
 * The floor of a reset in place (bench/run's "reset"): guests/snap.elf on
 * the raw VM, paused mid-run and put back to a snapshot with only the KVM
 * calls any reset needs: the dirty log and the pages it names, the vCPU's
 * state in the order splitvm loads it (src/core/vcpu_state.c), and KVM's
 * clock. As in splitvm, the calls come from the controlling thread while
 * the vCPU's thread waits outside KVM_RUN. What the floor leaves out is
 * what it does not have: device models and an interrupt controller.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "reset.h"
#include "kvm_min.h"

#define PAGE 4096u
#define ROUNDS_ADDR (8u << 20) /* guests/snap.c: word 0 of its first page */
#define MAX_MSRS 256

/* One vCPU's state, as a snapshot keeps it. */
struct cpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave xsave;
	struct kvm_xcrs xcrs;
	struct kvm_mp_state mp;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_debugregs debugregs;
	struct kvm_msrs *msrs;
};

struct reset_vm {
	struct fvm vm;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool run;    /* the vCPU may run */
	bool parked; /* its thread waits outside KVM_RUN */
	bool ended;  /* the guest ended, or KVM_RUN failed */
};

static void no_op(int sig)
{
}

/* KVM_RUN until a kick (EINTR): false if the guest ended. */
static bool run_until_kicked(struct fcpu *c)
{
	for (;;) {
		if (ioctl(c->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR) {
				__atomic_store_n(&c->run->immediate_exit, 0,
						 __ATOMIC_SEQ_CST);
				return true;
			}
			if (errno != EAGAIN)
				return false;
			continue;
		}
		if (!fvm_handle_exit(c))
			return false;
	}
}

static void *vcpu_thread(void *arg)
{
	struct reset_vm *r = arg;
	bool go = true;

	pthread_mutex_lock(&r->lock);
	while (go) {
		while (!r->run) {
			r->parked = true;
			pthread_cond_broadcast(&r->cond);
			pthread_cond_wait(&r->cond, &r->lock);
		}
		r->parked = false;
		pthread_mutex_unlock(&r->lock);
		go = run_until_kicked(&r->vm.cpu[0]);
		pthread_mutex_lock(&r->lock);
	}
	r->ended = r->parked = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* Kicks the vCPU out of KVM_RUN and waits for its thread to park. */
static int pause_vm(struct reset_vm *r)
{
	pthread_mutex_lock(&r->lock);
	r->run = false;
	__atomic_store_n(&r->vm.cpu[0].run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(r->thread, SIGUSR1);
	while (!r->parked)
		pthread_cond_wait(&r->cond, &r->lock);
	pthread_mutex_unlock(&r->lock);
	return r->ended ? -ESRCH : 0;
}

static void resume_vm(struct reset_vm *r)
{
	pthread_mutex_lock(&r->lock);
	r->run = true;
	r->parked = false;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static uint64_t rounds(const struct reset_vm *r)
{
	return __atomic_load_n((uint64_t *)(r->vm.mem + ROUNDS_ADDR),
			       __ATOMIC_RELAXED);
}

/* Lets the guest run until it has done n rounds, then pauses it. */
static int run_to(struct reset_vm *r, uint64_t n)
{
	struct timespec tick = {0, 20000};

	resume_vm(r);
	while (rounds(r) < n && !r->ended)
		nanosleep(&tick, NULL);
	return pause_vm(r);
}

/* The MSRs KVM lists that this vCPU reads (as splitvm keeps them). */
static struct kvm_msrs *msr_list(const struct fvm *vm, const struct fcpu *c)
{
	struct kvm_msr_list *list =
		calloc(1, sizeof(*list) + MAX_MSRS * sizeof(uint32_t));
	struct kvm_msrs *m =
		calloc(1, sizeof(*m) + MAX_MSRS * sizeof(m->entries[0]));
	struct kvm_msrs *one = calloc(1, sizeof(*one) + sizeof(one->entries[0]));

	if (!list || !m || !one)
		goto fail;
	list->nmsrs = MAX_MSRS;
	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, list) < 0)
		goto fail;
	for (uint32_t i = 0; i < list->nmsrs; i++) {
		one->nmsrs = 1;
		one->entries[0].index = list->indices[i];
		if (ioctl(c->fd, KVM_GET_MSRS, one) == 1)
			m->entries[m->nmsrs++].index = list->indices[i];
	}
	free(one);
	free(list);
	return m;
fail:
	free(one);
	free(list);
	free(m);
	return NULL;
}

static int save_state(const struct fcpu *c, struct cpu_state *s)
{
	if (ioctl(c->fd, KVM_GET_REGS, &s->regs) < 0 ||
	    ioctl(c->fd, KVM_GET_SREGS, &s->sregs) < 0 ||
	    ioctl(c->fd, KVM_GET_XSAVE, &s->xsave) < 0 ||
	    ioctl(c->fd, KVM_GET_XCRS, &s->xcrs) < 0 ||
	    ioctl(c->fd, KVM_GET_MP_STATE, &s->mp) < 0 ||
	    ioctl(c->fd, KVM_GET_LAPIC, &s->lapic) < 0 ||
	    ioctl(c->fd, KVM_GET_VCPU_EVENTS, &s->events) < 0 ||
	    ioctl(c->fd, KVM_GET_DEBUGREGS, &s->debugregs) < 0 ||
	    ioctl(c->fd, KVM_GET_MSRS, s->msrs) != (int)s->msrs->nmsrs)
		return -1;
	s->events.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING |
			   KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	return 0;
}

static int load_state(const struct fcpu *c, const struct cpu_state *s)
{
	if (ioctl(c->fd, KVM_SET_REGS, &s->regs) < 0 ||
	    ioctl(c->fd, KVM_SET_XSAVE, &s->xsave) < 0 ||
	    ioctl(c->fd, KVM_SET_XCRS, &s->xcrs) < 0 ||
	    ioctl(c->fd, KVM_SET_SREGS, &s->sregs) < 0 ||
	    ioctl(c->fd, KVM_SET_MSRS, s->msrs) != (int)s->msrs->nmsrs ||
	    ioctl(c->fd, KVM_SET_MP_STATE, &s->mp) < 0 ||
	    ioctl(c->fd, KVM_SET_LAPIC, &s->lapic) < 0 ||
	    ioctl(c->fd, KVM_SET_VCPU_EVENTS, &s->events) < 0 ||
	    ioctl(c->fd, KVM_SET_DEBUGREGS, &s->debugregs) < 0)
		return -1;
	return 0;
}

/* Takes (and so clears) the dirty log; with saved, puts those pages back. */
static int dirty_log(struct fvm *vm, uint64_t *bitmap, const uint8_t *saved)
{
	struct kvm_dirty_log log = {.slot = 0, .dirty_bitmap = bitmap};
	uint64_t words = (vm->mem_size / PAGE + 63) / 64;

	if (ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
		return -1;
	for (uint64_t w = 0; saved && w < words; w++)
		for (uint64_t bits = bitmap[w]; bits; bits &= bits - 1) {
			uint64_t off = (w * 64 + (uint64_t)__builtin_ctzll(bits)) * PAGE;

			memcpy(vm->mem + off, saved + off, PAGE);
		}
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The measured loop, once the VM is paused at round `at` with its
 * snapshot taken: run 20 rounds, put it back, check it is back. */
static int reset_rounds(struct reset_vm *r, const struct cpu_state *s,
			const struct kvm_clock_data *clock, const uint8_t *saved,
			uint64_t *bitmap, uint64_t at, unsigned long iterations)
{
	struct fcpu *c = &r->vm.cpu[0];
	struct kvm_clock_data cl = {.clock = clock->clock};

	for (unsigned long i = 0; i < iterations; i++) {
		uint64_t t0;

		if (run_to(r, at + 20))
			return -1;
		t0 = mono_ns();
		if (dirty_log(&r->vm, bitmap, saved) || load_state(c, s) ||
		    ioctl(r->vm.vm_fd, KVM_SET_CLOCK, &cl) < 0)
			return -1;
		printf("T %llu\n", (unsigned long long)(mono_ns() - t0));
		if (rounds(r) != at)
			return -1; /* not back at the snapshot */
	}
	return 0;
}

/* Dirty logging on, the guest run to round 100, its snapshot taken. */
static int reset_prepare(struct reset_vm *r, struct cpu_state *s,
			 struct kvm_clock_data *clock, uint8_t **saved,
			 uint64_t **bitmap)
{
	struct fvm *vm = &r->vm;
	struct kvm_userspace_memory_region slot = {
		.flags = KVM_MEM_LOG_DIRTY_PAGES,
		.memory_size = vm->mem_size,
		.userspace_addr = (uint64_t)(uintptr_t)vm->mem,
	};
	struct sigaction sa = {.sa_handler = no_op};

	sigaction(SIGUSR1, &sa, NULL);
	*saved = malloc(vm->mem_size);
	*bitmap = calloc((vm->mem_size / PAGE + 63) / 64, sizeof(uint64_t));
	s->msrs = msr_list(vm, &vm->cpu[0]);
	if (!*saved || !*bitmap || !s->msrs ||
	    ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0 ||
	    pthread_create(&r->thread, NULL, vcpu_thread, r))
		return -1;
	if (run_to(r, 100) || save_state(&vm->cpu[0], s) ||
	    ioctl(vm->vm_fd, KVM_GET_CLOCK, clock) < 0 ||
	    dirty_log(vm, *bitmap, NULL))
		return -1;
	memcpy(*saved, vm->mem, vm->mem_size);
	return 0;
}

int floor_reset_loop(const struct bench_vm_args *a, unsigned long iterations)
{
	struct reset_vm *r = calloc(1, sizeof(*r));
	struct cpu_state s = {0};
	struct kvm_clock_data clock = {0};
	uint8_t *saved = NULL;
	uint64_t *bitmap = NULL;
	int status = 1;

	if (!r)
		return 1;
	if (a->cpus != 1 || a->kernel_irqchip) {
		fprintf(stderr, "floor: reset: one vCPU, split irqchip only\n");
		free(r);
		return 1;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	if (!fvm_create(&r->vm, a->kernel, a->cmdline, 1, a->mem_bytes) &&
	    !reset_prepare(r, &s, &clock, &saved, &bitmap) &&
	    !reset_rounds(r, &s, &clock, saved, bitmap, rounds(r),
			  iterations))
		status = 0;
	if (status)
		fprintf(stderr, "floor: reset: %s\n", strerror(errno));
	/* The vCPU thread, parked or not, ends with the process. */
	return status;
}
