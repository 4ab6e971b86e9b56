// SPDX-License-Identifier: MIT
/* vCPU threads: entry state, the KVM_RUN loop, exits, requests and kicks. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#include "sandbox.h"
#include "vcpu.h"
#include "vm.h"
#include "worker.h"


#define CR0_PE (1ull << 0)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define RFLAGS_VM (1ull << 17)

/* Local APIC register offsets (SDM vol. 3, table 11-1). */
#define APIC_SVR 0x0f0
#define APIC_SVR_SUPPRESS_EOI (1u << 12)
#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_DM_NMI 0x400
#define APIC_DM_EXTINT 0x700

/*
 * Per-vCPU CPUID: the VM's (cpu_spec_apply()), with this vCPU's APIC ID
 * in leaf 1 EBX[31:24] and the x2APIC ID in leaves 0xb and 0x1f EDX.
 */
static int vcpu_set_cpuid(struct vcpu *v)
{
	const struct kvm_cpuid2 *base = v->vm->cpuid;
	size_t size = sizeof(*base) + base->nent * sizeof(base->entries[0]);
	struct kvm_cpuid2 *c = malloc(size);
	int r = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, base, size);
	for (unsigned int i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x0000ffffu) | (v->index << 24) |
				 ((v->vm->nr_vcpus & 0xffu) << 16);
			break;
		case 0xb:
		case 0x1f:
			e->edx = v->index;
			break;
		}
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
		r = -errno;
	free(c);
	return r;
}

static void seg_flat(struct kvm_segment *s, uint16_t sel, uint8_t type,
		     bool code64)
{
	*s = (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.s = 1,
		.db = code64 ? 0 : 1,
		.l = code64 ? 1 : 0,
		.g = 1,
	};
}

/*
 * The BSP's registers at entry, as the loader's plan says, also kept in
 * *i (what a reset restores).
 */
static int vcpu_set_entry_state(struct vcpu *v, const struct boot_plan *p,
				struct vcpu_initial *i)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {0};
	bool lm = p->mode == BOOT_MODE_LONG64;

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	seg_flat(&sregs.cs, lm ? BOOT_SEL_CODE64 : BOOT_SEL_CODE32, 0xb, lm);
	seg_flat(&sregs.ds, BOOT_SEL_DATA, 0x3, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = BOOT_GDT_ADDR;
	sregs.gdt.limit = 4 * 8 - 1;
	sregs.cr0 = CR0_PE | CR0_ET | CR0_NE;
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (lm) {
		sregs.cr0 |= CR0_PG;
		sregs.cr3 = BOOT_PML4_ADDR;
		sregs.cr4 = CR4_PAE;
		sregs.efer = EFER_LME | EFER_LMA;
	}
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;

	regs.rflags = 2; /* bit 1 is reserved, always set */
	regs.rip = p->entry;
	regs.rax = p->rax;
	regs.rbx = p->rbx;
	regs.rsi = p->rsi;
	regs.rdi = p->rdi;
	regs.rsp = p->rsp;
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	i->sregs = sregs;
	i->regs = regs;
	return 0;
}

/*
 * LVT0 = ExtINT and LVT1 = NMI, unmasked, as PC firmware leaves the BSP
 * (MP spec 3.6.2.2, virtual wire mode): the PIC then reaches the CPU
 * through the LAPIC before the guest touches it.
 */
static int vcpu_set_virtual_wire(struct vcpu *v, struct vcpu_initial *i)
{
	struct kvm_lapic_state *lapic = &i->lapic;

	if (ioctl(v->fd, KVM_GET_LAPIC, lapic) < 0)
		return -errno;
	*(uint32_t *)&lapic->regs[APIC_LVT0] = APIC_DM_EXTINT;
	*(uint32_t *)&lapic->regs[APIC_LVT1] = APIC_DM_NMI;
	if (ioctl(v->fd, KVM_SET_LAPIC, lapic) < 0)
		return -errno;
	return 0;
}

/*
 * The signal mask in force during KVM_RUN: every signal blocked but the
 * kick. Outside KVM_RUN the thread blocks the kick too (worker.c blocks
 * every asynchronous signal), so a kick never runs a handler; it only
 * makes KVM_RUN return EINTR. Any other signal sent to the thread stays
 * pending, blocked on both sides: one let through here would make every
 * KVM_RUN return at once without ever being delivered.
 */
static int vcpu_set_signal_mask(struct vcpu *v)
{
	/* struct kvm_signal_mask, then the kernel's 64-bit sigset_t. */
	union {
		struct kvm_signal_mask head;
		uint8_t bytes[sizeof(struct kvm_signal_mask) + 8];
	} m;
	sigset_t set;

	sigfillset(&set);
	sigdelset(&set, v->vm->kick_signal);
	m.head.len = 8;
	memcpy(m.bytes + sizeof(m.head), &set, 8);
	if (ioctl(v->fd, KVM_SET_SIGNAL_MASK, &m) < 0)
		return -errno;
	return 0;
}

/*
 * An AP's state at creation, as KVM made it (waiting for INIT-SIPI-SIPI):
 * what a reset restores. The BSP's is what vcpu_init() set, kept as it
 * was set rather than read back: each vCPU ioctl costs a vcpu_load (tens
 * of microseconds on the PVM hosts, bench/README.md).
 */
static int vcpu_save_initial(struct vcpu *v, struct vcpu_initial *i)
{
	if (ioctl(v->fd, KVM_GET_REGS, &i->regs) < 0 ||
	    ioctl(v->fd, KVM_GET_SREGS, &i->sregs) < 0 ||
	    ioctl(v->fd, KVM_GET_LAPIC, &i->lapic) < 0 ||
	    ioctl(v->fd, KVM_GET_MP_STATE, &i->mp_state) < 0)
		return -errno;
	return 0;
}

/*
 * A VM reset, on the vCPU's own thread: the registers, LAPIC and run state
 * it was created with (the BSP at the kernel's entry, APs waiting for
 * SIPI), and no event left pending: no NMI, and no INIT latched for KVM to
 * take at the next KVM_RUN (vcpu_do_init() latches one through smi).
 */
static void vcpu_do_reset(struct vcpu *v)
{
	struct vcpu_initial *i = v->initial;
	struct kvm_vcpu_events ev = {.flags = KVM_VCPUEVENT_VALID_NMI_PENDING |
					      KVM_VCPUEVENT_VALID_SMM};

	v->run->request_interrupt_window = 0;
	if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0 ||
	    ioctl(v->fd, KVM_SET_SREGS, &i->sregs) < 0 ||
	    ioctl(v->fd, KVM_SET_REGS, &i->regs) < 0 ||
	    ioctl(v->fd, KVM_SET_LAPIC, &i->lapic) < 0 ||
	    ioctl(v->fd, KVM_SET_MP_STATE, &i->mp_state) < 0)
		vm_fail(v->vm, (int)v->index, -errno,
			"resetting a vCPU failed");
}

/* A segment as real mode has it: base = selector << 4, 64 KiB limit. */
static void seg_real(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	*s = (struct kvm_segment){
		.base = (uint64_t)sel << 4,
		.limit = 0xffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.s = 1,
	};
}

/*
 * Waking from S3 (ACPI 6.x 5.2.10, 16.1.3.1), after a reset to the state
 * of creation: the BSP enters the OS's waking vector as the firmware's
 * resume path would jump there. X_Firmware_Waking_Vector, when set, in
 * 32-bit protected mode with flat segments and paging off; otherwise
 * Firmware_Waking_Vector in real mode at CS = vector >> 4, IP = vector &
 * 0xf, the other segments 0. Interrupts off, stack undefined (0).
 */
static void vcpu_do_wake(struct vcpu *v)
{
	const struct splitvm *vm = v->vm;
	struct kvm_sregs sregs;
	struct kvm_regs regs = {.rflags = 2};

	vcpu_do_reset(v);
	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		goto fail;
	sregs.cr0 = CR0_ET;
	sregs.cr3 = 0;
	sregs.cr4 = 0;
	sregs.efer = 0;
	sregs.idt.base = 0;
	sregs.idt.limit = 0x3ff; /* the real-mode IVT */
	sregs.gdt.base = 0;
	sregs.gdt.limit = 0xffff;
	if (vm->wake_x_vector) {
		seg_flat(&sregs.cs, BOOT_SEL_CODE32, 0xb, false);
		seg_flat(&sregs.ds, BOOT_SEL_DATA, 0x3, false);
		sregs.cr0 |= CR0_PE;
		regs.rip = (uint32_t)vm->wake_x_vector;
	} else {
		seg_real(&sregs.cs, (uint16_t)(vm->wake_vector >> 4), 0xb);
		seg_real(&sregs.ds, 0, 0x3);
		regs.rip = vm->wake_vector & 0xf;
	}
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0 ||
	    ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		goto fail;
	return;
fail:
	vm_fail(v->vm, (int)v->index, -errno, "waking the BSP failed");
}

int vcpu_init(struct vcpu *v, struct splitvm *vm, unsigned int index,
	      const struct boot_plan *plan)
{
	int r;

	v->vm = vm;
	v->index = index;
	atomic_init(&v->requests, 0);
	pthread_mutex_init(&v->kick_lock, NULL);
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (v->fd < 0) {
		v->fd = -1;
		return -errno;
	}
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return -errno;
	}
	v->initial = calloc(1, sizeof(*v->initial));
	if (!v->initial)
		return -ENOMEM;
	r = vcpu_set_cpuid(v);
	if (!r)
		r = vcpu_set_signal_mask(v);
	/* APs wait for INIT-SIPI-SIPI in the kernel's LAPIC (KVM-NOTES 9);
	 * the BSP is runnable from creation (KVM's reset BSP). */
	if (!r && index == 0)
		r = vcpu_set_entry_state(v, plan, v->initial);
	if (!r && index == 0)
		r = vcpu_set_virtual_wire(v, v->initial);
	if (!r && index == 0)
		v->initial->mp_state.mp_state = KVM_MP_STATE_RUNNABLE;
	if (!r && index != 0)
		r = vcpu_save_initial(v, v->initial);
	return r;
}

void vcpu_destroy(struct vcpu *v)
{
	free(v->initial);
	v->initial = NULL;
	if (v->run)
		munmap(v->run, v->vm->run_size);
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
	if (v->vm) /* vcpu_init() made the lock */
		pthread_mutex_destroy(&v->kick_lock);
}

void vcpu_drop_guest_requests(struct vcpu *v)
{
	atomic_fetch_and(&v->requests, ~(VCPU_REQ_GUEST | VCPU_REQ_RESET));
}

void vcpu_request(struct vcpu *v, unsigned int requests)
{
	atomic_fetch_or(&v->requests, requests);
	if (atomic_load(&v->thread_started))
		vcpu_kick(v);
}

void vcpu_kick(struct vcpu *v)
{
	/*
	 * immediate_exit makes a KVM_RUN that has not yet entered the guest
	 * return at once; the signal takes out one that has (or one that
	 * is blocked on a halted vCPU). Either way KVM_RUN gives EINTR.
	 * Not the thread itself: it looks at its requests before KVM_RUN.
	 */
	pthread_mutex_lock(&v->kick_lock);
	if (v->kickable && !pthread_equal(pthread_self(), v->thread)) {
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		pthread_kill(v->thread, v->vm->kick_signal);
	}
	pthread_mutex_unlock(&v->kick_lock);
}

/* Takes back the kick: clears immediate_exit and the pending signal. */
static void vcpu_consume_kick(struct vcpu *v)
{
	static const struct timespec zero;
	sigset_t set;

	__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
	sigemptyset(&set);
	sigaddset(&set, v->vm->kick_signal);
	while (sigtimedwait(&set, NULL, &zero) >= 0)
		;
}

static void stat_inc(struct vcpu *v, enum vcpu_stat s)
{
	/* One writer, the vCPU's thread: no locked add needed. */
	atomic_store_explicit(&v->stats[s],
			      atomic_load_explicit(&v->stats[s],
						   memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

static void vcpu_get_regs(struct vcpu *v, struct splitvm_regs *out)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	memset(out, 0, sizeof(*out));
	if (ioctl(v->fd, KVM_GET_REGS, &r) == 0) {
		out->rax = r.rax, out->rbx = r.rbx, out->rcx = r.rcx;
		out->rdx = r.rdx, out->rsi = r.rsi, out->rdi = r.rdi;
		out->rbp = r.rbp, out->rsp = r.rsp, out->r8 = r.r8;
		out->r9 = r.r9, out->r10 = r.r10, out->r11 = r.r11;
		out->r12 = r.r12, out->r13 = r.r13, out->r14 = r.r14;
		out->r15 = r.r15, out->rip = r.rip, out->rflags = r.rflags;
	}
	if (ioctl(v->fd, KVM_GET_SREGS, &s) == 0) {
		out->cr0 = s.cr0;
		out->cr2 = s.cr2;
		out->cr3 = s.cr3;
		out->cr4 = s.cr4;
		out->efer = s.efer;
		out->cs = s.cs.selector;
		out->ds = s.ds.selector;
		out->es = s.es.selector;
		out->ss = s.ss.selector;
	}
}

int vcpu_read_regs(struct vcpu *v, void *regs)
{
	vcpu_get_regs(v, regs);
	return 0;
}

/* Sets what struct splitvm_regs holds; the rest of the state stays. */
int vcpu_write_regs(struct vcpu *v, void *regsp)
{
	const struct splitvm_regs *in = regsp;
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	r = (struct kvm_regs){
		.rax = in->rax, .rbx = in->rbx, .rcx = in->rcx,
		.rdx = in->rdx, .rsi = in->rsi, .rdi = in->rdi,
		.rbp = in->rbp, .rsp = in->rsp, .r8 = in->r8,
		.r9 = in->r9, .r10 = in->r10, .r11 = in->r11,
		.r12 = in->r12, .r13 = in->r13, .r14 = in->r14,
		.r15 = in->r15, .rip = in->rip, .rflags = in->rflags | 2,
	};
	s.cr0 = in->cr0;
	s.cr2 = in->cr2;
	s.cr3 = in->cr3;
	s.cr4 = in->cr4;
	s.efer = in->efer;
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0 ||
	    ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		return -errno;
	return 0;
}

/* Ends the run with an outcome the guest caused, dumping its registers. */
static void vcpu_end(struct vcpu *v, enum splitvm_outcome outcome,
		     const char *detail)
{
	struct splitvm_regs regs;

	vcpu_get_regs(v, &regs);
	vm_end(v->vm, outcome, 0, (int)v->index, &regs, detail);
}

/* Port I/O: count accesses of size bytes each (rep ins/outs). */
static void vcpu_exit_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned int size = run->io.size;
	uint64_t span = (uint64_t)run->io.count * size;
	uint8_t *p = (uint8_t *)run + run->io.data_offset;

	if (size == 0 || size > 4 || run->io.data_offset > v->vm->run_size ||
	    span > v->vm->run_size - run->io.data_offset)
		return;
	for (uint32_t i = 0; i < run->io.count; i++, p += size) {
		uint64_t val = 0;

		if (run->io.direction == KVM_EXIT_IO_OUT) {
			memcpy(&val, p, size);
			bus_write(&v->vm->pio, run->io.port, size,
				  (int)v->index, val);
		} else {
			bus_read(&v->vm->pio, run->io.port, size,
				 (int)v->index, &val);
			memcpy(p, &val, size);
		}
	}
}

static void vcpu_exit_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned int len = run->mmio.len;
	uint64_t val = 0;

	if (len == 0 || len > 8)
		return;
	if (run->mmio.is_write) {
		memcpy(&val, run->mmio.data, len);
		bus_write(&v->vm->mmio, run->mmio.phys_addr, len,
			  (int)v->index, val);
	} else {
		bus_read(&v->vm->mmio, run->mmio.phys_addr, len,
			 (int)v->index, &val);
		memcpy(run->mmio.data, &val, len);
	}
}

static void vcpu_exit_system_event(struct vcpu *v)
{
	char detail[64];

	snprintf(detail, sizeof(detail), "system event %u on vCPU %u",
		 v->run->system_event.type, v->index);
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_end(v->vm, SPLITVM_OUTCOME_POWEROFF, 0, (int)v->index,
		       NULL, detail);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_end(v->vm, SPLITVM_OUTCOME_RESET, 0, (int)v->index, NULL,
		       detail);
		break;
	default:
		vcpu_end(v, SPLITVM_OUTCOME_CRASH, detail);
		break;
	}
}

/*
 * Says which internal error stopped vCPU index. For an emulation failure
 * KVM passes the bytes it fetched at RIP when the flag says so (the
 * emulation_failure overlay of struct kvm_run): printed, they tell which
 * instruction the emulator lacks (on PVM, e.g. int3 at CPL0, KVM-NOTES).
 */
void vcpu_describe_internal_error(const struct kvm_run *run,
				  unsigned int index, char *buf, size_t size)
{
	size_t n;
	unsigned int insn_size;

	n = (size_t)snprintf(buf, size,
			     "KVM internal error on vCPU %u: suberror %u",
			     index, run->internal.suberror);
	if (run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION ||
	    n >= size)
		return;
	n += (size_t)snprintf(buf + n, size - n,
			      " (instruction emulation failed)");
	if (run->emulation_failure.ndata < 3 ||
	    !(run->emulation_failure.flags &
	      KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES))
		return;
	/* insn_size comes from the kernel, but is checked like any input. */
	insn_size = run->emulation_failure.insn_size;
	if (insn_size > sizeof(run->emulation_failure.insn_bytes))
		insn_size = sizeof(run->emulation_failure.insn_bytes);
	for (unsigned int i = 0; i < insn_size && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%02x",
				      i ? " " : ", instruction bytes ",
				      run->emulation_failure.insn_bytes[i]);
}

/*
 * Guests that cannot go on (issue 12). KVM can leave a vCPU in a dead end
 * where it never exits again, which the VMM only sees as a KVM_RUN that
 * does not return. vm.c's watchdog kicks every vCPU twice a second; when
 * a kick ends a long KVM_RUN, the vCPU's thread samples its state. What
 * it remembers, on its stack, to tell a dead end from a slow guest:
 */
struct vcpu_watch {
	uint64_t run_ns;   /* when the current KVM_RUN began (coarse) */
	uint64_t since_ns; /* when the vCPU was first seen in this state */
	uint64_t exits;	   /* its exits, counted at that sample */
	unsigned int same; /* samples in a row in the same state */
	bool looked;	   /* this state's instruction was looked at */
	struct kvm_regs regs;
	uint64_t cr3;
};

/* A KVM_RUN this long with no exit is worth a look when a kick ends it. */
#define WATCH_RUN_NS 300000000ull
/* Samples in the same state, and the time they must span, before the
 * instruction at RIP is looked at: a fixed point, not a passing one. */
#define WATCH_SAMPLES 3
#define WATCH_SPAN_NS 1000000000ull

/* CLOCK_MONOTONIC_COARSE: the vDSO answers it at the cost of a load. */
static uint64_t coarse_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* All exits this vCPU's thread has counted (kicks are not exits). */
static uint64_t vcpu_exit_count(struct vcpu *v)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < VCPU_NR_STATS; i++)
		n += atomic_load_explicit(&v->stats[i], memory_order_relaxed);
	return n;
}

/* The CPL as KVM has it: SS.DPL in protected mode (SDM 5.5). */
static unsigned int vcpu_cpl(const struct kvm_sregs *s, uint64_t rflags)
{
	if (!(s->cr0 & CR0_PE))
		return 0;
	if (rflags & RFLAGS_VM)
		return 3;
	return s->ss.dpl;
}

static bool guest_read_pte(struct vcpu *v, uint64_t gpa, unsigned int size,
			   uint64_t *pte)
{
	*pte = 0;
	return guest_mem_read(&v->vm->mem, gpa, pte, size) == 0;
}

/*
 * Translates linear address la through the guest's page tables as the
 * CPU would for a fetch (SDM vol. 3, 4.3-4.5): no paging, 32-bit, PAE,
 * 4- and 5-level; large pages. Access rights are not checked: only what
 * the vCPU is already executing is read. Returns false if not mapped.
 */
static bool vcpu_translate(struct vcpu *v, const struct kvm_sregs *s,
			   uint64_t la, uint64_t *gpa)
{
	const uint64_t pa_mask = 0x000ffffffffff000ull;
	uint64_t table, e;
	int level;

	if (!(s->cr0 & CR0_PG)) {
		*gpa = la;
		return true;
	}
	if (!(s->cr4 & CR4_PAE)) {
		if (!guest_read_pte(v, (s->cr3 & 0xfffff000) + (la >> 22) * 4,
				    4, &e) ||
		    !(e & 1))
			return false;
		if ((e & 0x80) && (s->cr4 & CR4_PSE)) {
			*gpa = (e & 0xffc00000) | (la & 0x3fffff);
			return true;
		}
		if (!guest_read_pte(v,
				    (e & 0xfffff000) + ((la >> 12) & 0x3ff) * 4,
				    4, &e) ||
		    !(e & 1))
			return false;
		*gpa = (e & 0xfffff000) | (la & 0xfff);
		return true;
	}
	if (s->efer & EFER_LMA) {
		level = (s->cr4 & CR4_LA57) ? 5 : 4;
		table = s->cr3 & pa_mask;
	} else {
		/* PAE: the PDPTE, then a directory and a table. */
		if (!guest_read_pte(v, (s->cr3 & 0xffffffe0) + (la >> 30) * 8,
				    8, &e) ||
		    !(e & 1))
			return false;
		level = 2;
		table = e & pa_mask;
	}
	for (; level >= 1; level--) {
		unsigned int shift = 12 + 9 * (unsigned int)(level - 1);
		uint64_t size = 1ull << shift;

		if (!guest_read_pte(v, table + ((la >> shift) & 0x1ff) * 8, 8,
				    &e) ||
		    !(e & 1))
			return false;
		if (level == 1 || ((level == 2 || level == 3) && (e & 0x80))) {
			*gpa = (e & pa_mask & ~(size - 1)) | (la & (size - 1));
			return true;
		}
		table = e & pa_mask;
	}
	return false;
}

/* Reads n bytes of code at CS:RIP. Returns false if any is not in RAM. */
static bool vcpu_read_code(struct vcpu *v, const struct kvm_sregs *s,
			   uint64_t rip, uint8_t *buf, unsigned int n)
{
	bool wide = (s->efer & EFER_LMA) && s->cs.l;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t la = s->cs.base + rip + i, gpa;

		if (!wide)
			la &= 0xffffffffull;
		if (!vcpu_translate(v, s, la, &gpa) ||
		    guest_mem_read(&v->vm->mem, gpa, &buf[i], 1))
			return false;
	}
	return true;
}

/*
 * The vCPU has stayed in one state, with no exit, over WATCH_SAMPLES
 * samples: is that a dead end KVM made? One is known. VMCALL and VMMCALL
 * go through KVM's emulator whenever the CPU does not run them itself,
 * as on the PVM hosts, where guest kernel code is interpreted: the
 * emulator "patches" the instruction into the vendor's hypercall and
 * leaves RIP on it for the CPU to run again (em_hypercall()), so the
 * interpreter takes it up again, forever; no hypercall is made and
 * nothing reaches the VMM. On VMX/SVM the CPU runs the patched
 * instruction and KVM completes it, RIP moves on and no two samples
 * agree. Any other fixed point (HLT, a spin waiting for an interrupt or
 * for an NMI from the host) is left to run.
 */
static void vcpu_watch_check(struct vcpu *v, const struct vcpu_watch *w,
			     const struct kvm_sregs *s, uint64_t now)
{
	static const uint8_t vmcall[3] = {0x0f, 0x01, 0xc1};
	static const uint8_t vmmcall[3] = {0x0f, 0x01, 0xd9};
	struct kvm_mp_state mp;
	uint8_t insn[3];
	const char *name;
	char detail[160];

	if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) < 0 ||
	    mp.mp_state != KVM_MP_STATE_RUNNABLE ||
	    !vcpu_read_code(v, s, w->regs.rip, insn, sizeof(insn)))
		return;
	if (!memcmp(insn, vmcall, sizeof(insn)))
		name = "vmcall";
	else if (!memcmp(insn, vmmcall, sizeof(insn)))
		name = "vmmcall";
	else
		return;
	snprintf(detail, sizeof(detail),
		 "%s (%02x %02x %02x) at CPL %u never completes on vCPU %u: "
		 "KVM's emulator re-runs it in place (no exit for %.1f s)",
		 name, insn[0], insn[1], insn[2], vcpu_cpl(s, w->regs.rflags),
		 v->index, (double)(now - w->since_ns) / 1e9);
	vcpu_end(v, SPLITVM_OUTCOME_EMULATION_FAILURE, detail);
}

/*
 * A kick ended a KVM_RUN that had lasted WATCH_RUN_NS or more: has the
 * vCPU moved since the last such sample? On the vCPU's own thread.
 */
static void vcpu_watch_sample(struct vcpu *v, struct vcpu_watch *w,
			      uint64_t now)
{
	uint64_t exits = vcpu_exit_count(v);
	struct kvm_regs regs;
	struct kvm_sregs sregs;

	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0 ||
	    ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return;
	if (!w->same || exits != w->exits ||
	    memcmp(&regs, &w->regs, sizeof(regs)) || sregs.cr3 != w->cr3) {
		w->same = 1;
		w->looked = false;
		w->since_ns = now;
		w->exits = exits;
		w->regs = regs;
		w->cr3 = sregs.cr3;
		return;
	}
	if (++w->same < WATCH_SAMPLES || w->looked ||
	    now - w->since_ns < WATCH_SPAN_NS)
		return;
	w->looked = true;
	vcpu_watch_check(v, w, &sregs, now);
}

/* Handles one exit. Returns false when the loop must stop. */
static bool vcpu_handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	char detail[160];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		stat_inc(v, VCPU_STAT_IO);
		vcpu_exit_io(v);
		return true;
	case KVM_EXIT_MMIO:
		stat_inc(v, VCPU_STAT_MMIO);
		vcpu_exit_mmio(v);
		return true;
	case KVM_EXIT_IOAPIC_EOI:
		stat_inc(v, VCPU_STAT_IOAPIC_EOI);
		irqchip_eoi(v->vm->irqchip, v->index, run->eoi.vector);
		return true;
	case KVM_EXIT_IRQ_WINDOW_OPEN: /* vcpu_inject_extint() looks next */
		stat_inc(v, VCPU_STAT_IRQ_WINDOW);
		return true;
	case KVM_EXIT_INTR:
		stat_inc(v, VCPU_STAT_INTR);
		return true;
	case KVM_EXIT_HLT: /* in-kernel LAPIC: HLT stays in the kernel */
		stat_inc(v, VCPU_STAT_HLT);
		return true;
	case KVM_EXIT_SHUTDOWN:
		snprintf(detail, sizeof(detail), "triple fault on vCPU %u",
			 v->index);
		vcpu_end(v, SPLITVM_OUTCOME_TRIPLE_FAULT, detail);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		vcpu_describe_internal_error(run, v->index, detail,
					     sizeof(detail));
		vcpu_end(v, SPLITVM_OUTCOME_EMULATION_FAILURE, detail);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(detail, sizeof(detail),
			 "VM entry failed on vCPU %u: hardware reason 0x%llx",
			 v->index,
			 (unsigned long long)run->fail_entry
				 .hardware_entry_failure_reason);
		vcpu_end(v, SPLITVM_OUTCOME_ENTRY_FAILURE, detail);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		vcpu_exit_system_event(v);
		return false;
	default:
		stat_inc(v, VCPU_STAT_OTHER);
		snprintf(detail, sizeof(detail),
			 "unexpected KVM exit %u on vCPU %u", run->exit_reason,
			 v->index);
		vcpu_end(v, SPLITVM_OUTCOME_ERROR, detail);
		return false;
	}
}

/* The lost-EOI watchdog's question: which vectors are pending or in
 * service in this vCPU's LAPIC (IRR at 0x200, ISR at 0x100, SDM 11.8.4)? */
static void vcpu_report_lapic(struct vcpu *v)
{
	struct kvm_lapic_state lapic;
	uint32_t vectors[8];

	/*
	 * Unknown, or EOI broadcasts suppressed (SVR bit 12, SDM 10.8.5):
	 * this vCPU's EOIs never exit by design and must reach the IOAPIC's
	 * EOI register, so nothing of its may count as lost.
	 */
	if (ioctl(v->fd, KVM_GET_LAPIC, &lapic) < 0 ||
	    (*(uint32_t *)&lapic.regs[APIC_SVR] & APIC_SVR_SUPPRESS_EOI))
		memset(vectors, 0xff, sizeof(vectors));
	else
		for (unsigned int i = 0; i < 8; i++)
			vectors[i] = *(uint32_t *)&lapic.regs[0x100 + i * 16] |
				     *(uint32_t *)&lapic.regs[0x200 + i * 16];
	irqchip_lapic_report(v->vm->irqchip, v->index, vectors);
}

/*
 * INIT through the vCPU's own ioctl: latching it in the vCPU events
 * (smi.latched_init, valid with KVM_VCPUEVENT_VALID_SMM) makes the
 * in-kernel LAPIC process it as if an INIT IPI had come, with KVM's
 * architectural INIT reset; an AP then waits for SIPI, the BSP restarts
 * at the reset vector (SDM 9.1, 10.4.7.3).
 */
static void vcpu_do_init(struct vcpu *v)
{
	struct kvm_vcpu_events ev;

	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) == 0) {
		ev.flags = KVM_VCPUEVENT_VALID_SMM;
		ev.smi.latched_init = 1;
		if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) == 0)
			return;
	}
	log_error(&v->vm->log, "INIT of vCPU %u failed: %s", v->index,
		  strerror(errno));
}

/*
 * SIPI: a vCPU in wait-for-SIPI (KVM's UNINITIALIZED, as APs start, or
 * INIT_RECEIVED, after an INIT) starts in real mode at vector << 12, CS =
 * vector << 8, IP 0 (SDM 10.4.4.1). A vCPU doing anything else ignores it,
 * as a running CPU ignores a SIPI.
 */
static void vcpu_do_sipi(struct vcpu *v)
{
	unsigned int vector = atomic_load(&v->sipi_vector) & 0xff;
	struct kvm_mp_state mp;
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) < 0 ||
	    (mp.mp_state != KVM_MP_STATE_UNINITIALIZED &&
	     mp.mp_state != KVM_MP_STATE_INIT_RECEIVED))
		return;
	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0 ||
	    ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
		goto fail;
	sregs.cs.selector = (uint16_t)(vector << 8);
	sregs.cs.base = (uint64_t)vector << 12;
	regs.rip = 0;
	mp.mp_state = KVM_MP_STATE_RUNNABLE;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0 ||
	    ioctl(v->fd, KVM_SET_REGS, &regs) < 0 ||
	    ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0)
		goto fail;
	return;
fail:
	log_error(&v->vm->log, "SIPI to vCPU %u failed: %s", v->index,
		  strerror(errno));
}

static void vcpu_injected_nmi(struct vcpu *v)
{
	const struct splitvm_event ev = {SPLITVM_EVENT_NMI, vm_now_ns(),
					 (int)v->index, -1, 2, -1, 0};

	stat_inc(v, VCPU_STAT_NMI_INJECTED);
	vm_event(v->vm, &ev);
}

bool vcpu_exit_unfinished(const struct vcpu *v)
{
	if (!atomic_load(&v->thread_started))
		return false; /* never ran */
	switch (v->run->exit_reason) {
	case KVM_EXIT_INTR: /* a kick; the loop sets it after EINTR too */
	case KVM_EXIT_IRQ_WINDOW_OPEN:
	case KVM_EXIT_IOAPIC_EOI:
	case KVM_EXIT_HLT:
	case KVM_EXIT_SHUTDOWN:
		return false;
	default: /* I/O, MMIO, MSR...: KVM may finish them */
		return true;
	}
}

/*
 * Parks v while the VM is paused, at an instruction boundary: an exit KVM
 * has yet to finish is finished first, by a KVM_RUN that returns at once
 * (immediate_exit, api.rst), and the loop comes back here. The other
 * requests wait in v->requests meanwhile, where a snapshot keeps them and
 * a restore replaces them. Returns the requests to act on, or
 * VCPU_REQ_STOP.
 */
static unsigned int vcpu_pause(struct vcpu *v, unsigned int req)
{
	while (req & VCPU_REQ_PAUSE && !(req & VCPU_REQ_STOP)) {
		if (vcpu_exit_unfinished(v)) {
			atomic_fetch_or(&v->requests, req);
			__atomic_store_n(&v->run->immediate_exit, 1,
					 __ATOMIC_SEQ_CST);
			return 0;
		}
		atomic_fetch_or(&v->requests, req & ~VCPU_REQ_PAUSE);
		if (!vm_park(v->vm, v))
			return VCPU_REQ_STOP;
		req = atomic_exchange(&v->requests, 0);
	}
	return req;
}

/* Handles posted requests. Returns false when the loop must stop. */
static bool vcpu_handle_requests(struct vcpu *v)
{
	unsigned int req = vcpu_pause(v, atomic_exchange(&v->requests, 0));

	if (req & VCPU_REQ_STOP)
		return false;
	if (req & VCPU_REQ_RESET)
		vcpu_do_reset(v);
	if (req & VCPU_REQ_WAKE)
		vcpu_do_wake(v);
	if (req & VCPU_REQ_NMI) {
		if (ioctl(v->fd, KVM_NMI) < 0)
			log_error(&v->vm->log, "KVM_NMI on vCPU %u failed: %s",
				  v->index, strerror(errno));
		else
			vcpu_injected_nmi(v);
	}
	if (req & VCPU_REQ_LAPIC)
		vcpu_report_lapic(v);
	if (req & VCPU_REQ_INIT)
		vcpu_do_init(v);
	if (req & VCPU_REQ_SIPI)
		vcpu_do_sipi(v);
	return true;
}

/*
 * ExtINT (KVM-NOTES, split rule 5): the PIC's vector goes in with
 * KVM_INTERRUPT only when KVM says the vCPU can take it (IF set, LVT0
 * accepting ExtINT, nothing else being injected); otherwise KVM is asked
 * to exit when the window opens. The INTA cycle happens at injection, so
 * the PIC's priorities hold at the moment the CPU takes the interrupt.
 */
static void vcpu_inject_extint(struct vcpu *v)
{
	struct irqchip *chip = v->vm->irqchip;
	struct kvm_run *run = v->run;
	struct kvm_interrupt irq;

	if (!irqchip_extint_pending(chip, v->index)) {
		run->request_interrupt_window = 0;
		return;
	}
	if (!run->ready_for_interrupt_injection) {
		run->request_interrupt_window = 1;
		return;
	}
	irq.irq = irqchip_extint_ack(chip, v->index);
	if (ioctl(v->fd, KVM_INTERRUPT, &irq) < 0)
		log_error(&v->vm->log, "KVM_INTERRUPT 0x%x on vCPU %u: %s",
			  irq.irq, v->index, strerror(errno));
	else
		stat_inc(v, VCPU_STAT_EXTINT_INJECTED);
	run->request_interrupt_window =
		irqchip_extint_pending(chip, v->index);
}

/*
 * The thread leaves the vCPU: no kick reaches it after this (vcpu_kick()),
 * which could otherwise signal a thread that has ended (vCPU threads are
 * detached, worker.c), and one already sent is taken back.
 */
static void vcpu_leave_thread(struct vcpu *v)
{
	pthread_mutex_lock(&v->kick_lock);
	v->kickable = false;
	pthread_mutex_unlock(&v->kick_lock);
	vcpu_consume_kick(v);
	vm_thread_enter(NULL);
}

static void vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vcpu_watch watch = {0};
	char detail[96];
	int r;

	vm_thread_enter(v->vm); /* callbacks here may not wait for it */
	/* Kicks from here on: a request posted before was seen by
	 * whoever posted it as not kickable, and is in v->requests, which
	 * the loop reads first. */
	pthread_mutex_lock(&v->kick_lock);
	v->thread = pthread_self();
	v->kickable = true;
	pthread_mutex_unlock(&v->kick_lock);
	/* Named so that the monitor's own CPU time can be told apart. */
	snprintf(detail, 16, "splitvm-vcpu%u", v->index);
	pthread_setname_np(pthread_self(), detail);
	if (v->vm->sandbox && (r = sandbox_enter(SANDBOX_VCPU, v->vm->sandbox))) {
		vm_fail(v->vm, (int)v->index, r, "the vCPU sandbox failed");
		vcpu_leave_thread(v);
		vm_vcpu_done(v->vm);
		return;
	}
	while (vcpu_handle_requests(v)) {
		if (v->run->request_interrupt_window ||
		    irqchip_extint_pending(v->vm->irqchip, v->index))
			vcpu_inject_extint(v);
		watch.run_ns = coarse_now_ns();
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			int err = errno;

			/* EINTR: kicked. EAGAIN: an AP got INIT (KVM-NOTES 9).
			 * Either way no exit is left to finish. */
			if (err == EINTR || err == EAGAIN) {
				uint64_t now = coarse_now_ns();

				v->run->exit_reason = KVM_EXIT_INTR;
				vcpu_consume_kick(v);
				if (err == EINTR &&
				    now - watch.run_ns >= WATCH_RUN_NS)
					vcpu_watch_sample(v, &watch, now);
				continue;
			}
			snprintf(detail, sizeof(detail),
				 "KVM_RUN failed on vCPU %u: %s", v->index,
				 strerror(err));
			vm_fail(v->vm, (int)v->index, -err, detail);
			break;
		}
		if (!vcpu_handle_exit(v))
			break;
	}
	vcpu_leave_thread(v);
	vm_vcpu_done(v->vm);
}

int vcpu_start(struct vcpu *v)
{
	int r = worker_start(vcpu_thread, v, SANDBOX_VCPU, v->vm->sandbox,
			     &v->worker);

	if (r < 0)
		return r;
	if (r == 1) /* a kept thread: worker.c keeps none for vCPUs */
		worker_go(v->worker);
	/*
	 * A request posted before thread_started was visible went without a
	 * kick; the thread may have missed it on its way into KVM_RUN. Both
	 * sides are sequentially consistent, so one of them sees the other:
	 * the poster kicks, or this does.
	 */
	atomic_store(&v->thread_started, true);
	if (atomic_load(&v->requests))
		vcpu_kick(v);
	return 0;
}
