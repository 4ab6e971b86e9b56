/* SPDX-License-Identifier: MIT */
/* A virtual machine: KVM handles, RAM, buses, devices, vCPUs, run state. */
#ifndef SPLITVM_VM_H
#define SPLITVM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "acpi.h"
#include "boot.h"
#include "bus.h"
#include "vm_config.h"
#include "device.h"
#include "file.h"
#include "guest_mem.h"
#include "irqchip.h"
#include "log.h"
#include "vcpu.h"

/* Where KVM keeps its real-mode TSS and identity map (Intel only). */
#define VM_IDENTITY_MAP_ADDR 0xfeffc000ull
#define VM_TSS_ADDR 0xfeffd000ull

/* Host timers, served by the I/O thread. */
enum vm_timer_id {
	VM_TIMER_IRQCHIP, /* the IOAPIC's storm limiter */
	VM_TIMER_PIT,	  /* the PIT's next edge on channel 0 */
	VM_TIMER_RTC,	  /* the RTC's next interrupt flag */
	VM_TIMER_ACPI_PM, /* the PM timer's next TMR_STS */
	VM_NR_TIMERS,
};

struct vm_timer {
	_Atomic uint64_t deadline; /* monotonic ns; 0 = disarmed */
	void (*fire)(struct splitvm *vm);
};

struct device_slot {
	const struct device_ops *ops;
	void *dev;
};

/* Serial output collected into lines before it reaches the embedder. */
struct console {
	pthread_mutex_t lock;
	splitvm_console_fn fn;
	void *userdata;
	int fd;
	size_t len;
	char buf[256];
};

struct firmware_image;

struct splitvm {
	struct logger log;
	int kvm_fd;
	int vm_fd;
	size_t run_size; /* bytes of each vCPU's kvm_run mapping */
	struct kvm_cpuid2 *cpuid;
	struct guest_mem mem;
	struct bus pio;
	struct bus mmio;
	struct device_slot *devices;
	struct user_device *user_devices;
	unsigned int nr_devices;
	struct uart *uart;
	struct irqchip *irqchip;
	struct pit *pit;
	struct cmos *cmos;
	struct acpi_pm *acpi_pm;
	struct pci_bus *pci;
	unsigned int pci_slots; /* the next free slot */
	struct ratelimit pci_msi_errors;
	struct console console;
	struct machine_desc machine; /* what the FDT, ACPI and MP table say */
	const struct firmware_image *firmware; /* its tables (image.c) */
	struct boot_plan plan;
	/* What the kernel was loaded from, kept for a reset to load again. */
	struct mapped_file kernel_file;
	struct mapped_file module_files[CONFIG_MAX_MODULES + 1];
	struct boot_module modules[CONFIG_MAX_MODULES + 1];
	struct boot_input boot;
	void *fdt;
	char *cmdline;
	unsigned int nr_vcpus;
	struct vcpu *vcpus;
	int kick_signal;
	uint64_t timeout_ms;
	enum splitvm_sandbox sandbox;
	unsigned int event_mask;
	splitvm_event_fn event_fn;
	void *event_data;
	int serial_in_fd;

	/* Run state, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t ended;
	pthread_cond_t parked_cond; /* a vCPU parked, or the run ended */
	pthread_cond_t resume_cond; /* pause lifted, or the run ended */
	bool paused;
	unsigned int parked;	/* vCPU threads parked by a pause */
	unsigned int calls;	/* vm_call()s on the caller's thread: stay parked */
	bool started;
	bool joined;
	unsigned int running; /* vCPU threads not yet done */
	uint64_t start_ns;
	struct splitvm_result result;
	/* result.outcome is decided: read without the lock by the calls
	 * that refuse an ended VM (-ESRCH). */
	atomic_bool run_ended;
	/* eventfd the embedder polls (splitvm_fd()): written once, when the
	 * run has ended and its vCPU threads are done (end_signalled). */
	int end_fd;
	bool end_signalled;

	/*
	 * ACPI S3. suspended (written under lock): every vCPU parks until a
	 * wake event, which sets wake_pending and wake_sts (the PM1 status
	 * it left) for the I/O thread to carry out; it reads the OS's
	 * waking vectors from the FACS into wake_vector and wake_x_vector
	 * for the BSP's VCPU_REQ_WAKE.
	 */
	atomic_bool suspended;
	atomic_bool wake_pending;
	_Atomic uint16_t wake_sts;
	uint32_t wake_vector;
	uint64_t wake_x_vector;

	/*
	 * Snapshots (snapshot.c). timer_lock is held by the I/O thread while
	 * it fires timers, and by a snapshot or restore, so that no device
	 * changes under one. Guest RAM equals the snapshot ram_base (0: none)
	 * but for the pages KVM's dirty log holds (dirty_logging), unless the
	 * host wrote RAM since (ram_host_dirty: a reset, splitvm_mem_write()).
	 */
	pthread_mutex_t timer_lock;
	uint64_t ram_base;
	uint64_t ram_image; /* RAM is that snapshot's image, copy-on-write */
	bool dirty_logging;
	atomic_bool ram_host_dirty;
	uint32_t *msr_index; /* the MSRs a snapshot keeps, found once */
	int nr_msr_index;
	/* The guest's snapshot point (snapshot_port.c): where it is written,
	 * and a request the I/O thread has yet to carry out. */
	int snapshot_fd;
	atomic_bool snapshot_wanted;

	/* The I/O thread: timers, the wall-clock limit, serial input. */
	struct worker *io_worker;
	pthread_t io_thread;
	atomic_bool io_started; /* io_thread is set: read after this */
	bool io_running;	/* until vm_io_done(); under lock */
	int io_wake_fd; /* eventfd: wakes the I/O thread to look again */
	atomic_bool io_stop;
	struct vm_timer timers[VM_NR_TIMERS];
};

int vm_create(const struct splitvm_config *cfg, struct splitvm **ret);
int vm_start(struct splitvm *vm);
int vm_wait(struct splitvm *vm, int64_t timeout_ms,
	    struct splitvm_result *ret);
void vm_destroy(struct splitvm *vm);
/* Turns on KVM's dirty log of guest RAM (KVM_MEM_LOG_DIRTY_PAGES), once;
 * vm->dirty_logging says whether it is on. Returns 0 or a negative errno. */
int vm_ram_dirty_logging(struct splitvm *vm);

/*
 * Ends the run with an outcome, unless it has ended already, and asks
 * every vCPU to stop. regs may be NULL. Any thread. Returns true when this
 * call decided the outcome.
 */
bool vm_end(struct splitvm *vm, enum splitvm_outcome outcome, uint32_t code,
	    int cpu, const struct splitvm_regs *regs, const char *detail);

/* Ends the run with outcome ERROR: the monitor failed with err (< 0). */
void vm_fail(struct splitvm *vm, int cpu, int err, const char *detail);

/*
 * Stops every vCPU at its next exit and waits until all are parked (or
 * the run has ended). Returns 0, -EALREADY (paused), -ESRCH (not
 * running).
 */
int vm_pause(struct splitvm *vm);
int vm_resume(struct splitvm *vm);

/*
 * Resets the machine as a reset line would: chips, devices and vCPUs to
 * their state at creation, the kernel loaded again; RAM otherwise kept.
 * The run goes on. Returns 0 or a negative errno.
 */
int vm_reset(struct splitvm *vm);
/* 0 when no vCPU of vm runs (never started, or paused and all parked),
 * -EBUSY when one may, -ESRCH when the run has ended. */
int vm_quiet(struct splitvm *vm);
/* Waits until every vCPU of a paused vm has parked: 0, or -ESRCH when the
 * run ended meanwhile. */
int vm_wait_parked(struct splitvm *vm);

/*
 * Wakes a VM sleeping in ACPI S3 as its power button would (PWRBTN_STS and
 * WAK_STS set), the way QEMU's system_wakeup does; the I/O thread then
 * resumes it at its waking vector. Any thread but a VM callback's.
 * Returns 0 (the wake-up is under way), -EALREADY (not sleeping), -ESRCH
 * (not running).
 */
int vm_wakeup(struct splitvm *vm);

/*
 * Runs fn for vCPU cpu while the VM is paused (or before it starts), its
 * vCPU threads parked outside KVM_RUN. On the calling thread, which saves
 * the two wake-ups of the vCPU's thread (KVM lets any thread of the
 * process make a vCPU's ioctls outside KVM_RUN, KVM-NOTES 7), unless the
 * caller is sandboxed: then on the vCPU's own thread. fn must not call
 * KVM_RUN: from another thread, KVM would take that thread for the
 * vCPU's. Returns fn's result, or -ESRCH (ended), -EBUSY (running, not
 * paused).
 */
int vm_call(struct splitvm *vm, unsigned int cpu,
	    int (*fn)(struct vcpu *v, void *arg), void *arg);

/* A vCPU thread parks here while the VM is paused. Returns false if the
 * run ended meanwhile. */
bool vm_park(struct splitvm *vm, struct vcpu *v);

/* Called by each vCPU thread as it leaves its run loop. */
void vm_vcpu_done(struct splitvm *vm);

/* Arms timer id at deadline (monotonic ns; 0 disarms). Any thread. */
void vm_timer_arm(struct splitvm *vm, enum vm_timer_id id, uint64_t deadline);

/* Hands an event (time_ns absolute) to the embedder, if subscribed. */
void vm_event(struct splitvm *vm, const struct splitvm_event *ev);

/* True once the run has ended (its outcome is decided). Any thread. */
static inline bool vm_ended(struct splitvm *vm)
{
	return atomic_load(&vm->run_ended);
}

/*
 * Marks the calling thread as one of vm's own (a vCPU or its I/O
 * thread), where the embedder's callbacks run: the calls that would wait
 * for these threads refuse it (vm_on_own_thread()). Called first thing by
 * each of them.
 */
void vm_thread_enter(struct splitvm *vm);

/* True on one of vm's own threads, e.g. in a callback. */
bool vm_on_own_thread(const struct splitvm *vm);

/* Monotonic clock in ns. */
uint64_t vm_now_ns(void);

/* Sends an MSI (KVM_SIGNAL_MSI). Returns 0 or a negative errno. */
int vm_signal_msi(struct splitvm *vm, uint64_t address, uint32_t data);

#endif /* SPLITVM_VM_H */
