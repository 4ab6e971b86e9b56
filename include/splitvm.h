/* SPDX-License-Identifier: MIT */
/*
 * splitvm.h - the public interface of libsplitvm, a KVM virtual machine
 * monitor with a userspace IOAPIC and 8259A PICs (KVM_CAP_SPLIT_IRQCHIP).
 *
 * Conventions, true of every function below unless its comment says
 * otherwise:
 *  - Functions return 0 on success or a negative errno value. They never
 *    call exit() or abort() and install no signal handlers.
 *  - Constructors take an output parameter; destructors accept NULL.
 *  - A guest's outcome (its exit code, a triple fault, a timeout...) is a
 *    result, reported in struct splitvm_result, never an error code.
 *  - Why an operation failed is said once, in a line given to the log
 *    handler (or printed to stderr when none is set); the errno says what
 *    kind of failure it was.
 *  - Threads: a struct splitvm_config belongs to one thread at a time. A
 *    struct splitvm may be used from any thread once created; only
 *    splitvm_destroy() must not race with other calls on the same VM.
 *    Distinct VMs may be used concurrently. They share only what no guest
 *    can change: the firmware tables of each machine shape, built once
 *    per process and copied into each VM's own RAM, and idle threads
 *    (below).
 *  - Callbacks (console, event, device, log handlers) run on the VM's
 *    own threads (its vCPU threads and its I/O thread). A call that would
 *    wait for those threads returns -EDEADLK at once when made there:
 *    splitvm_wait(), splitvm_run(), splitvm_pause(), splitvm_reset() and
 *    splitvm_wakeup(); splitvm_destroy() then does nothing (and logs why).
 *    splitvm_stop() and the other calls work from a callback.
 *  - A VM's run ends once (its outcome is decided: splitvm_wait() then
 *    returns it). From then on, every call that needs a running VM (or
 *    one that can still start) returns -ESRCH: the pause, reset, wakeup,
 *    register and interrupt calls. What the run left stays readable until
 *    splitvm_destroy(): the result, guest memory, statistics and chip
 *    snapshots. Arguments are checked first (-EINVAL).
 *  - A VM's threads block every asynchronous signal; a running VM sends
 *    its kick signal (SIGUSR1 by default, see
 *    splitvm_config_set_kick_signal()) only to its own vCPU threads, and
 *    the host program's handlers are never touched.
 *  - Once a run's end is collected (splitvm_wait(), splitvm_run() or
 *    splitvm_destroy()), its vCPU threads end, and its I/O thread waits
 *    up to a second for the process's next VM, then ends. A thread that
 *    entered a sandbox serves only a VM with the same sandbox
 *    (splitvm_config_set_sandbox()); an unconfined one serves any. So a
 *    callback may run on a thread that served another VM before, and a
 *    thread-local value it keeps outlives the VM. A child of fork()
 *    starts with no idle thread.
 */
#ifndef SPLITVM_H
#define SPLITVM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The library's version, as "MAJOR.MINOR.PATCH". */
const char *splitvm_version(void);

/* ------------------------------------------------------------------ */
/* Results                                                             */

/** How a VM's run ended. */
enum splitvm_outcome {
	SPLITVM_OUTCOME_RUNNING = 0,	 /**< not ended yet */
	SPLITVM_OUTCOME_EXIT,		 /**< debug-exit port 0xf4 written */
	SPLITVM_OUTCOME_POWEROFF,	 /**< shutdown port or ACPI poweroff */
	SPLITVM_OUTCOME_RESET,		 /**< reset requested (port 0x64/0xcf9/0x92) */
	SPLITVM_OUTCOME_TRIPLE_FAULT,	 /**< KVM_EXIT_SHUTDOWN */
	SPLITVM_OUTCOME_EMULATION_FAILURE, /**< KVM_EXIT_INTERNAL_ERROR */
	SPLITVM_OUTCOME_ENTRY_FAILURE,	 /**< KVM_EXIT_FAIL_ENTRY */
	SPLITVM_OUTCOME_CRASH,		 /**< guest reported a crash (system event) */
	SPLITVM_OUTCOME_TIMEOUT,	 /**< the configured wall-clock limit passed */
	SPLITVM_OUTCOME_STOPPED,	 /**< splitvm_stop() was called */
	SPLITVM_OUTCOME_ERROR,		 /**< the monitor failed; see error */
};

/** A vCPU's registers, as dumped when a run ends abnormally. */
struct splitvm_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
	uint64_t cr0, cr2, cr3, cr4, efer;
	uint16_t cs, ds, es, ss;
};

/** What a finished run left behind. */
struct splitvm_result {
	enum splitvm_outcome outcome;
	/** Value the guest wrote to the debug-exit port (outcome EXIT). */
	uint32_t exit_code;
	/** vCPU whose exit ended the run, or -1 (timeout, stop...). */
	int cpu;
	/** Negative errno when outcome is ERROR, else 0. */
	int error;
	/** Wall-clock time from splitvm_start() to the end, in ns. */
	uint64_t duration_ns;
	/** Non-zero when regs holds the ending vCPU's registers. */
	int has_regs;
	struct splitvm_regs regs;
	/** One line saying what happened, e.g. "triple fault on vCPU 0". */
	char detail[160];
};

/** A constant name for an outcome ("exit", "triple-fault", ...). */
const char *splitvm_outcome_name(enum splitvm_outcome outcome);

/* ------------------------------------------------------------------ */
/* Configuration                                                       */

struct splitvm_config;

/** Severity of a log line; lower is more severe. */
enum splitvm_log_level {
	SPLITVM_LOG_ERROR = 0,
	SPLITVM_LOG_WARNING,
	SPLITVM_LOG_INFO,
	SPLITVM_LOG_DEBUG,
};

/** Receives one log line (no trailing newline). */
typedef void (*splitvm_log_fn)(void *userdata, enum splitvm_log_level level,
			       const char *message);

/**
 * Receives bytes the guest wrote to its serial console (COM1). Called on
 * a vCPU thread, line by line where the guest prints lines; the buffer is
 * valid only during the call.
 */
typedef void (*splitvm_console_fn)(void *userdata, const char *data,
				   size_t len);

/**
 * Allocates a configuration with the defaults: 1 vCPU, 64 MiB of RAM, no
 * timeout, serial output discarded, kick signal SIGUSR1, log errors to
 * stderr.
 *
 * @ret: receives the new configuration.
 * Returns 0, or -EINVAL (ret is NULL), -ENOMEM.
 */
int splitvm_config_new(struct splitvm_config **ret);

/** Frees a configuration. VMs created from it do not depend on it. */
void splitvm_config_free(struct splitvm_config *cfg);

/**
 * Sets the kernel image: a Linux bzImage, a multiboot image (ELF32/ELF64
 * or a.out kludge), a PVH ELF (Xen entry note) or an ELF64 entered in long
 * mode. splitvm_create() reads it whole into memory of its own, which a
 * reset boots again: the file may change or go once the VM exists, and a
 * file that changes while it is read fails splitvm_create() (-ESTALE).
 * Returns 0, or -EINVAL (NULL or empty path), -ENOMEM.
 */
int splitvm_config_set_kernel(struct splitvm_config *cfg, const char *path);

/**
 * Sets the initial ramdisk: for multiboot it is module 0 (as in QEMU).
 * Returns 0, or -EINVAL, -ENOMEM.
 */
int splitvm_config_set_initrd(struct splitvm_config *cfg, const char *path);

/**
 * Appends a boot module (multiboot), after the initrd if one is set.
 * Returns 0, or -EINVAL (NULL path), -E2BIG (more than 64 modules),
 * -ENOMEM.
 */
int splitvm_config_add_module(struct splitvm_config *cfg, const char *path);

/**
 * Makes splitvm_create() put the new VM back to the snapshot in the file
 * at path (docs/snapshots.md): the VM then starts from there, not at the
 * kernel's entry. The file is read when the VM is created; one that is
 * not a snapshot, or of a VM configured otherwise, makes splitvm_create()
 * fail with -EINVAL, the log saying why. NULL: no snapshot (the default).
 * Returns 0, or -EINVAL (cfg NULL, path empty), -ENOMEM.
 */
int splitvm_config_set_restore(struct splitvm_config *cfg, const char *path);

/**
 * Sets the kernel command line (at most 4095 bytes).
 * Returns 0, or -EINVAL (NULL), -E2BIG (too long), -ENOMEM.
 */
int splitvm_config_set_cmdline(struct splitvm_config *cfg, const char *cmdline);

/**
 * Sets the number of vCPUs, 1 to 255.
 * Returns 0, or -EINVAL (out of range).
 */
int splitvm_config_set_cpus(struct splitvm_config *cfg, unsigned int cpus);

/**
 * Sets guest RAM in bytes: a multiple of 4 KiB from 2 MiB to 1 TiB. RAM
 * above 3 GiB is placed above 4 GiB, leaving the hole for MMIO.
 * Returns 0, or -EINVAL (not aligned or out of range).
 */
int splitvm_config_set_memory(struct splitvm_config *cfg, uint64_t bytes);

/**
 * Sets a wall-clock limit for a run, counted from splitvm_start(); when it
 * passes, the VM stops with outcome TIMEOUT. 0 (the default) means none.
 * Returns 0, or -EINVAL (cfg NULL).
 */
int splitvm_config_set_timeout(struct splitvm_config *cfg,
			       uint64_t timeout_ms);

/**
 * Sends the guest's serial output to fd out_fd (-1 discards it) and feeds
 * the guest's serial input from in_fd (-1 for none). The descriptors stay
 * the caller's: they must stay open while the VM exists. A console
 * handler, when set, replaces out_fd.
 * Returns 0, or -EINVAL (cfg NULL or fd < -1).
 */
int splitvm_config_set_serial_fds(struct splitvm_config *cfg, int out_fd,
				  int in_fd);

/**
 * Sets the handler that receives the guest's serial output.
 * Returns 0, or -EINVAL (cfg NULL).
 */
int splitvm_config_set_console_handler(struct splitvm_config *cfg,
				       splitvm_console_fn fn, void *userdata);

/**
 * Sets the log handler and the most verbose level passed to it. With no
 * handler, errors and warnings go to stderr.
 * Returns 0, or -EINVAL (cfg NULL or level out of range).
 */
int splitvm_config_set_log_handler(struct splitvm_config *cfg,
				   splitvm_log_fn fn, void *userdata,
				   enum splitvm_log_level max_level);

/**
 * Sets the signal used to kick vCPU threads out of KVM_RUN: SIGUSR1 (the
 * default), SIGUSR2 or a real-time signal. The VM's threads keep it
 * blocked and consume it themselves; no handler is installed.
 * Returns 0, or -EINVAL (a signal that cannot serve, e.g. SIGKILL).
 */
int splitvm_config_set_kick_signal(struct splitvm_config *cfg, int signo);

/** Which interrupt controllers a VM gets. */
enum splitvm_irqchip {
	/** splitvm's IOAPIC, PICs and PIT over KVM's LAPICs (the default). */
	SPLITVM_IRQCHIP_SPLIT = 0,
	/** KVM's in-kernel PICs, IOAPIC and PIT: the reference model. */
	SPLITVM_IRQCHIP_KERNEL,
};

/**
 * Chooses the interrupt controllers.
 * Returns 0, or -EINVAL (cfg NULL or unknown mode).
 */
int splitvm_config_set_irqchip(struct splitvm_config *cfg,
			       enum splitvm_irqchip mode);

/**
 * Shapes the IOAPIC of split mode: pins (1 to 120; 24 by default, the
 * 82093AA's count; ACRN gives its guests 48) and version (0x20, the
 * default, with the EOI register; or 0x11, the 82093AA's, without).
 * Returns 0, or -EINVAL (out of range).
 */
int splitvm_config_set_ioapic(struct splitvm_config *cfg, unsigned int pins,
			      unsigned int version);

/**
 * Turns the PIT (i8254 at ports 0x40-0x43 and 0x61) on (the default) or
 * off. Returns 0, or -EINVAL (cfg NULL).
 */
int splitvm_config_set_pit(struct splitvm_config *cfg, int enabled);

/**
 * Turns the two 8259A PICs (ports 0x20-0x21, 0xa0-0xa1, ELCR 0x4d0-0x4d1)
 * on (the default) or off, as QEMU's -machine pic=off: with them off the
 * ports read all ones, no line reaches them and the MADT's PCAT_COMPAT
 * flag is clear. Split mode only: KVM's in-kernel chips always have them.
 * Returns 0, or -EINVAL (cfg NULL).
 */
int splitvm_config_set_pic(struct splitvm_config *cfg, int enabled);

/**
 * Turns the MC146818A RTC/CMOS (ports 0x70-0x71) on (the default) or off,
 * as QEMU's -machine rtc=off. Returns 0, or -EINVAL (cfg NULL).
 */
int splitvm_config_set_rtc(struct splitvm_config *cfg, int enabled);

/**
 * Adds a PCI device model to the machine's bus. "edu" is QEMU's
 * educational device (1234:11e8: a register the guest writes to raise an
 * interrupt, MSI or INTA); "pci-testdev" (1b36:0005, QEMU's) is always
 * there and is accepted as a no-op. The bus, its host bridge and the BAR
 * addresses are described in README.md ("The machine").
 * Returns 0, -EINVAL (cfg or model NULL, an unknown model) or -EEXIST
 * (added already).
 */
int splitvm_config_add_pci_device(struct splitvm_config *cfg,
				  const char *model);

/**
 * The vCPUs' CPU model and feature flags, in QEMU's -cpu syntax:
 * "MODEL[,+FLAG|,-FLAG|,FLAG=on|off|,vendor=STR|,phys-bits=N|...]", e.g.
 * "qemu64,+x2apic,-pcid" or "max,vendor=GenuineIntel". MODEL is one of
 * splitvm_cpu_model_info()'s; "host" (the default) and "max" give all KVM
 * supports. Flags are QEMU's names (splitvm_cpu_flag_name()). The result
 * goes to the guest through KVM_SET_CPUID2, and the MADT, MP table and
 * FDT follow it (no x2APIC entries when x2apic is off). A flag KVM cannot
 * give is dropped with one warning line, as QEMU does.
 * Returns 0, -EINVAL (cfg or spec NULL, an unknown model or flag, a bad
 * value: the log handler says which) or -ENOMEM.
 */
int splitvm_config_set_cpu(struct splitvm_config *cfg, const char *spec);

/**
 * The CPU models splitvm_config_set_cpu() takes, by index from 0: sets
 * *ret_name ("qemu64") and *ret_desc (a one-line description).
 * Returns 0, or -ENOENT past the last model.
 */
int splitvm_cpu_model_info(unsigned int index, const char **ret_name,
			   const char **ret_desc);

/** The feature flag names -cpu takes, by index from 0; NULL past the end. */
const char *splitvm_cpu_flag_name(unsigned int index);

/**
 * What the sandbox does with a system call outside a thread's list. The
 * library confines nothing unless asked (OFF is the default); ERRNO is
 * the action for embedders: it never takes their process down.
 */
enum splitvm_sandbox {
	SPLITVM_SANDBOX_OFF = 0, /**< no sandbox (the library's default) */
	SPLITVM_SANDBOX_ERRNO,	 /**< the call fails with EPERM (recommended
				      for embedders) */
	SPLITVM_SANDBOX_TRAP,	 /**< SIGSYS to the thread: only for a host
				      that installed a SIGSYS handler (the
				      CLI does); without one, SIGSYS's
				      default action kills the process */
	SPLITVM_SANDBOX_KILL,	 /**< the whole process is killed */
};

/**
 * Confines each of the VM's threads with a seccomp allowlist for its role
 * once its setup is done: a vCPU thread may use its vCPU's KVM ioctls and
 * those of interrupt delivery, memory, locks, signals, clocks and reads
 * and writes on open descriptors, nothing else (no open, exec, socket...);
 * the I/O thread likewise. The embedder's callbacks run on these threads
 * and are confined alike. Needs libseccomp at build time. Not calling
 * this leaves the VM unconfined (SPLITVM_SANDBOX_OFF).
 *
 * What a callback (console, event, device or log handler) may do:
 *  - OFF: anything.
 *  - ERRNO: compute, allocate memory, take locks, read clocks, read and
 *    write descriptors that are already open, and call splitvm_stop(),
 *    splitvm_irq_set(), splitvm_nmi(), splitvm_init_cpu(),
 *    splitvm_sipi(), splitvm_mem_read(), splitvm_mem_write(),
 *    splitvm_get_stats(), splitvm_irq_stats(), splitvm_fd(), and the
 *    chip snapshots of split mode; splitvm_msi() on a vCPU thread (the
 *    console and device callbacks; an event handler on the I/O thread
 *    gets -EPERM). Anything else the kernel refuses with EPERM and the
 *    process goes on: opening a file or socket, creating a thread or
 *    process, the chip snapshots of kernel mode on a vCPU thread
 *    (-EPERM)... The calls that wait for the VM's threads return
 *    -EDEADLK under every action.
 *  - TRAP: the same list; a refused call raises SIGSYS in the calling
 *    thread, which kills the whole process unless the host installed a
 *    SIGSYS handler beforehand (the CLI's reports the call and exits).
 *  - KILL: the same list; a refused call kills the whole process.
 * Returns 0, or -EINVAL (unknown action), -ENOTSUP (built without
 * libseccomp).
 */
int splitvm_config_set_sandbox(struct splitvm_config *cfg,
			       enum splitvm_sandbox action);

/**
 * Confines the calling thread as the CLI confines its main thread once
 * the VM runs: interrupt and snapshot calls, waiting, and destroying the
 * VM remain possible. For hosts that dedicate a thread to one VM.
 * Returns 0, or -EINVAL, -ENOTSUP, or libseccomp's errno.
 */
int splitvm_sandbox_control_thread(enum splitvm_sandbox action);

/** The address spaces a device can sit in. */
enum splitvm_space {
	SPLITVM_SPACE_PIO = 0, /**< x86 I/O ports */
	SPLITVM_SPACE_MMIO,    /**< guest-physical memory, outside RAM */
};

/**
 * A device model of the embedder's. Both callbacks are called on vCPU
 * threads, possibly several at once: the model does its own locking.
 * offset is from the region's base; len is 1, 2, 4 or 8; cpu is the vCPU.
 * read returns the value (its low len bytes count). Either may be NULL
 * (reads then give all ones, writes are dropped). The callbacks may call
 * splitvm_irq_set() and the other interrupt calls.
 */
struct splitvm_device_ops {
	uint64_t (*read)(void *userdata, uint64_t offset, unsigned int len,
			 int cpu);
	void (*write)(void *userdata, uint64_t offset, unsigned int len,
		      uint64_t value, int cpu);
};

/**
 * Adds a device at [base, base + size) of space; ops is copied. It must
 * not overlap splitvm's own devices (splitvm_create() then fails with
 * -EEXIST and says which) nor, for MMIO, guest RAM.
 * Returns 0, or -EINVAL (NULL ops, size 0, range wraps, unknown space),
 * -E2BIG (more than 32 devices).
 */
int splitvm_config_add_device(struct splitvm_config *cfg,
			      enum splitvm_space space, uint64_t base,
			      uint64_t size,
			      const struct splitvm_device_ops *ops,
			      void *userdata);

/** What happened to an interrupt; see struct splitvm_event. */
enum splitvm_event_type {
	/** A device (or the host) set a line: line, level. */
	SPLITVM_EVENT_LINE = 0,
	/** The IOAPIC sent pin @line's message: vector, cpu = destination
	 *  field, value = delivery mode (0 fixed ... 7 ExtINT). */
	SPLITVM_EVENT_ROUTED,
	/** The PIC's vector was injected (KVM_INTERRUPT): cpu, vector. */
	SPLITVM_EVENT_INJECTED,
	/** An EOI cleared pin @line's Remote IRR: vector, cpu (or -1 when the
	 *  EOI came through the IOAPIC's EOI register or the watchdog). */
	SPLITVM_EVENT_EOI,
	/** The guest changed redirection entry @line: value = the entry. */
	SPLITVM_EVENT_REDIRECTION,
	/** The guest wrote a PIC or ELCR port: value = port << 8 | byte. */
	SPLITVM_EVENT_PIC,
	/** An NMI was injected (KVM_NMI) on cpu. */
	SPLITVM_EVENT_NMI,
	/** The guest entered ACPI sleep state S@value (3: suspend to RAM)
	 *  from cpu; every vCPU stops, RAM is kept, until a wake event (the
	 *  RTC alarm, or splitvm_wakeup()). */
	SPLITVM_EVENT_SUSPENDED,
	/** The sleep ended: value = the PM1 status the wake event left
	 *  (WAK_STS 0x8000 with RTC_STS 0x400 or PWRBTN_STS 0x100); the BSP
	 *  enters the OS's waking vector (with none, the run then ends with
	 *  outcome RESET). */
	SPLITVM_EVENT_WAKEUP,
	/** A message-signalled interrupt went to KVM (KVM_SIGNAL_MSI), the
	 *  host's (splitvm_msi()) or a PCI device's: value = the message,
	 *  address << 32 | data (the address's low 32 bits, 0xfeeXXXXX; the
	 *  high half, used only by extended destination IDs, is not shown),
	 *  cpu = its destination field (address bits 19:12), vector = data
	 *  bits 7:0. Sent in both irqchip modes; emitted before the message
	 *  is delivered, whether KVM then delivers it or not. The IOAPIC's
	 *  own messages are ROUTED events instead. */
	SPLITVM_EVENT_MSI,
	SPLITVM_EVENT_TYPES
};

/** One step in an interrupt's life. Fields a type does not use are -1. */
struct splitvm_event {
	enum splitvm_event_type type;
	uint64_t time_ns; /**< monotonic time since splitvm_start() */
	int cpu;
	int line;
	int vector;
	int level;
	uint64_t value;
};

/**
 * Receives interrupt events (and the power-state events SUSPENDED and
 * WAKEUP). Called on the thread where the event happened (a vCPU thread,
 * the I/O thread, or a thread calling splitvm_irq_set()),
 * never with a splitvm lock held: it may call any splitvm function but
 * those that wait for the VM's threads (on a VM thread they return
 * -EDEADLK, see the conventions at the top). Keep it short: the guest
 * waits.
 */
typedef void (*splitvm_event_fn)(void *userdata,
				 const struct splitvm_event *event);

/**
 * Subscribes @fn to the event types in @mask (bit 1 << type; 0 turns the
 * stream off). In kernel irqchip mode only LINE, NMI, MSI, SUSPENDED and
 * WAKEUP events exist.
 * Returns 0, or -EINVAL (cfg NULL).
 */
int splitvm_config_set_event_handler(struct splitvm_config *cfg,
				     unsigned int mask, splitvm_event_fn fn,
				     void *userdata);

/** A name for an event type ("line", "routed", ...). */
const char *splitvm_event_name(enum splitvm_event_type type);

/* ------------------------------------------------------------------ */
/* Virtual machines                                                    */

struct splitvm;

/**
 * Creates a VM from a configuration: opens /dev/kvm, enables the split
 * irqchip, maps guest RAM, loads the kernel and creates the vCPUs. The
 * VM does not run until splitvm_start().
 *
 * Returns 0, or -EINVAL (bad arguments), -ENOENT/-EACCES (a file or
 * /dev/kvm cannot be opened), -ENOEXEC (the kernel image is not a format
 * splitvm boots, or is malformed: the log says what is wrong), -EFBIG (an
 * image or module does not fit in guest RAM), -ENOTSUP (KVM lacks a
 * capability splitvm needs), -ENOMEM, -EMFILE, or another errno from KVM.
 */
int splitvm_create(const struct splitvm_config *cfg, struct splitvm **ret);

/**
 * Starts the vCPU threads. A VM runs once: it cannot be started again.
 * Returns 0, or -EINVAL (vm NULL), -EALREADY (already started, ended
 * too), or the
 * errno of a failed thread creation (the VM then ends with outcome ERROR).
 */
int splitvm_start(struct splitvm *vm);

/**
 * Waits until the VM's run has ended and all its vCPU threads are done,
 * then fills in the result. timeout_ms < 0 waits for ever.
 *
 * Returns 0, or -EINVAL (vm or ret NULL), -EDEADLK (called from one of
 * the VM's own threads, i.e. a callback: it could never end), -ESRCH
 * (never started), -ETIMEDOUT (still running after timeout_ms; the VM
 * goes on).
 */
int splitvm_wait(struct splitvm *vm, int64_t timeout_ms,
		 struct splitvm_result *ret);

/**
 * A descriptor for an event loop (poll, epoll, select): it becomes
 * readable (POLLIN) once the VM's run has ended and its vCPU threads are
 * done, so that splitvm_wait() then returns the result without blocking;
 * it stays readable from then on. It is not readable before
 * splitvm_start() nor while the guest runs. It is an eventfd (close on
 * exec) owned by the VM: valid until splitvm_destroy(), which closes it.
 * Do not close it, nor read it (a read would make it unreadable again).
 * Any thread, in any state of the VM; the same descriptor every time.
 * Returns the descriptor (>= 0, not 0 on success as other calls), or
 * -EINVAL (vm NULL).
 */
int splitvm_fd(struct splitvm *vm);

/**
 * Starts the VM and waits for it to end: splitvm_start() then
 * splitvm_wait() for ever (bound it with splitvm_config_set_timeout()).
 * Returns as those do; on a VM already started (or ended), it waits.
 */
int splitvm_run(struct splitvm *vm, struct splitvm_result *ret);

/**
 * Asks a running VM to stop; it ends with outcome STOPPED unless it had
 * already ended otherwise. Returns at once: splitvm_wait() for the end.
 * Safe from any thread, and from the console handler. On an ended VM it
 * changes nothing (the outcome stays).
 * Returns 0, or -EINVAL (vm NULL).
 */
int splitvm_stop(struct splitvm *vm);

/**
 * Pauses a running VM: every vCPU stops at its next exit (a halted one is
 * kicked) and stays stopped until splitvm_resume(). Returns once all are
 * stopped. Any thread but a VM callback's.
 * Returns 0, or -EINVAL (vm NULL), -EDEADLK (called from one of the VM's
 * own threads, i.e. a callback: that thread would never stop),
 * -EALREADY (paused), -ESRCH (not running: never started, or ended).
 */
int splitvm_pause(struct splitvm *vm);

/**
 * Lets a paused VM run again.
 * Returns 0, or -EINVAL (vm NULL), -EALREADY (not paused), -ESRCH (not
 * running: never started, or ended).
 */
int splitvm_resume(struct splitvm *vm);

/**
 * Resets the machine as its reset line would: interrupt controllers,
 * devices and vCPUs return to their state at creation (the BSP at the
 * kernel's entry, APs waiting for SIPI), the kernel and modules are loaded
 * again; the rest of RAM is kept, as on hardware. An NMI, INIT or SIPI
 * asked for before the reset and not yet taken is dropped with the run it
 * was meant for. The run goes on (a paused VM stays paused). Any thread
 * but a VM callback's.
 * Returns 0, or -EINVAL (vm NULL), -EDEADLK (called from one of the VM's
 * own threads, i.e. a callback), -ESRCH (not running: never started, or
 * ended).
 */
int splitvm_reset(struct splitvm *vm);

/**
 * Wakes a VM that sleeps in ACPI S3 (the guest wrote _S3's SLP_TYP with
 * SLP_EN to PM1a_CNT; see SPLITVM_EVENT_SUSPENDED), as pressing its power
 * button would, the way QEMU's system_wakeup does: PM1_STS gets
 * PWRBTN_STS and WAK_STS, the machine is reset but for RAM, the PM1 block
 * and the RTC, and the BSP enters the waking vector the guest left in the
 * FACS (real mode at (vector >> 4):(vector & 0xf); flat 32-bit protected
 * mode at X_Firmware_Waking_Vector if set; with neither, the machine
 * resets as SeaBIOS resets it then, which ends the run with outcome
 * RESET). Returns at once; the VM's I/O thread carries out the wake-up
 * (SPLITVM_EVENT_WAKEUP). An RTC alarm with RTC_EN set in PM1_EN wakes
 * the VM the same way without this call. A paused VM wakes but stays
 * paused. Any thread but a VM callback's.
 * Returns 0, or -EINVAL (vm NULL), -EDEADLK (called from one of the VM's
 * own threads, i.e. a callback), -EALREADY (not sleeping), -ESRCH (not
 * running: never started, or ended).
 */
int splitvm_wakeup(struct splitvm *vm);

/**
 * Snapshots: a VM's whole state, in this process's memory. A snapshot
 * holds guest RAM (the pages that are not all zero), every vCPU's
 * registers, segment and control registers, FPU/XSAVE and XCRs, the MSRs
 * KVM lists (the TSC among them: guest time goes on from the snapshot's),
 * LAPIC, pending events (exception, interrupt, NMI, SMI), run state
 * (wait-for-SIPI included) and debug registers; KVM's clock; the
 * interrupt controller (IOAPIC entries, lines and Remote IRR, both PICs
 * and the ELCR, an ExtINT acknowledged but not yet injected; in
 * `--irqchip kernel` mode KVM's own chips) and every device model, with
 * their timers going on from where they were. Devices an embedder added
 * (splitvm_config_add_device()) keep their own state: it is not saved.
 *
 * splitvm_snapshot_take() takes one of a VM that is paused
 * (splitvm_pause()) or not yet started. Returns 0 and *ret, or -EINVAL
 * (NULL arguments), -EDEADLK (called from a VM callback), -EBUSY (the VM
 * runs: pause it first), -ESRCH (the run has ended), -ENOTSUP (a device
 * that cannot be saved: the log names it), -ENOMEM.
 *
 * splitvm_snapshot_restore() puts a VM back to a snapshot: the VM it was
 * taken of, or another configured alike (same CPUs, memory and devices:
 * -EINVAL and the difference in the log otherwise), paused or not yet
 * started; it then goes on from the snapshot when resumed or started.
 * Restoring the VM whose RAM last matched the snapshot (it was taken of
 * it, or last restored to it) copies back only the pages the guest wrote
 * since, from KVM's dirty log: the reset a fuzzer or a per-test harness
 * loops on. A restore that fails after it changed the VM ends the run with
 * outcome ERROR. Returns 0, or the errors of splitvm_snapshot_take().
 *
 * A snapshot is independent of its VM: it may outlive it, and serve any
 * number of restores, from any thread, one at a time per VM.
 */
struct splitvm_snapshot;

int splitvm_snapshot_take(struct splitvm *vm, struct splitvm_snapshot **ret);
int splitvm_snapshot_restore(struct splitvm *vm,
			     const struct splitvm_snapshot *snap);
/** Frees a snapshot (NULL: nothing). */
void splitvm_snapshot_free(struct splitvm_snapshot *snap);

/**
 * Forks a snapshot: creates a VM configured by cfg (as the snapshot's VM
 * was) whose guest RAM maps the snapshot's RAM copy-on-write, and puts
 * the rest of it back to the snapshot. Pages the new VM never writes stay
 * shared with the snapshot and every other fork of it: N forks of a
 * booted guest cost the pages each one writes. The first fork makes the
 * snapshot's RAM image (a memfd, kept with the snapshot; forks from
 * several threads at once are fine); the VM keeps the image mapped, so the
 * snapshot may be freed before it. The VM is not started.
 * Returns 0 and *ret, or -EINVAL (NULL arguments; another memory size
 * than the snapshot's; another configuration: the log says how),
 * -ENOMEM, or the errors of splitvm_create().
 */
int splitvm_fork(const struct splitvm_config *cfg,
		 struct splitvm_snapshot *snap, struct splitvm **ret);

/**
 * Snapshot files: a flattened device tree with the state (its layout is in
 * docs/snapshots.md), then the saved RAM pages. splitvm_snapshot_write()
 * writes snap to path (beside it first, then renamed in place);
 * splitvm_snapshot_save() takes a snapshot of vm and writes it, as
 * splitvm_snapshot_take() then _write(). splitvm_snapshot_read() reads a
 * file, which may be hostile: its structure is checked whole (-EINVAL for
 * a file snapshot_write() could not have written), and what its state
 * means when it is restored: a snapshot from another splitvm version or
 * configuration is refused then, the log naming the difference.
 * Return 0, or a negative errno (the file's, -EINVAL, -ENOMEM, and those
 * of splitvm_snapshot_take()).
 */
int splitvm_snapshot_write(const struct splitvm_snapshot *snap,
			   const char *path);
/** The same to fd, a regular file open for writing: from offset 0, the
 *  file then cut to the snapshot's size. */
int splitvm_snapshot_write_fd(const struct splitvm_snapshot *snap, int fd);

/**
 * The guest's own snapshot point: a write to port 0x8910 (1, 2 or 4
 * bytes, any value) pauses the VM at that instruction, writes its
 * snapshot to fd (from offset 0, the file cut to its size: a regular file
 * opened for writing, which the VM does not close) and resumes it, all on
 * the VM's I/O thread: "I am booted; tests start here". The last request
 * wins. fd -1 (the default) ignores the port. Errors go to the log; the
 * guest runs on. Returns 0, or -EINVAL (cfg NULL, fd < -1).
 */
int splitvm_config_set_snapshot_fd(struct splitvm_config *cfg, int fd);
int splitvm_snapshot_save(struct splitvm *vm, const char *path);
int splitvm_snapshot_read(const char *path, struct splitvm_snapshot **ret);

/**
 * Copies len bytes of guest RAM at guest-physical address gpa to buf, or
 * buf to guest RAM. Any thread; the guest may be running (no ordering
 * with its accesses is promised unless it is paused), and after the run
 * ended (RAM is kept until splitvm_destroy()).
 * Returns 0, or -EINVAL (NULL arguments), -EFAULT (the range is not all
 * RAM).
 */
int splitvm_mem_read(struct splitvm *vm, uint64_t gpa, void *buf,
		     size_t len);
int splitvm_mem_write(struct splitvm *vm, uint64_t gpa, const void *buf,
		      size_t len);

/**
 * Reads or writes vCPU @cpu's registers (those of struct splitvm_regs;
 * writing changes the general registers, rip, rflags, cr0-cr4 and efer,
 * not the segments). The VM must be paused (splitvm_pause()) or not yet
 * started; the vCPU's own thread does the work.
 * Returns 0, or -EINVAL (NULL, no such vCPU), -EBUSY (running, not
 * paused), -ESRCH (the run has ended), or KVM's errno.
 */
int splitvm_get_regs(struct splitvm *vm, unsigned int cpu,
		     struct splitvm_regs *ret);
int splitvm_set_regs(struct splitvm *vm, unsigned int cpu,
		     const struct splitvm_regs *regs);

/**
 * What a VM did so far, summed over its vCPUs. The exits_ counters count
 * KVM_RUN returns to the monitor, by reason. HLT is not among them: the
 * LAPICs are KVM's in both irqchip modes, so a halted vCPU waits in the
 * kernel and never exits to splitvm; nothing here counts halts.
 */
struct splitvm_stats {
	uint64_t exits_io;	   /**< port I/O exits */
	uint64_t exits_mmio;	   /**< MMIO exits */
	uint64_t exits_ioapic_eoi; /**< EOIs of level vectors (split mode) */
	uint64_t exits_irq_window; /**< interrupt windows opened for ExtINT */
	uint64_t exits_intr;	   /**< kicks: requests, stops, NMIs... */
	/** Always 0. Was exits_hlt, which could never count (see above);
	 *  kept so that the layout of this struct does not change. */
	uint64_t reserved;
	uint64_t exits_other;	   /**< any other exit (unexpected) */
	uint64_t extint_injected;  /**< PIC vectors injected (KVM_INTERRUPT) */
	uint64_t nmi_injected;	   /**< NMIs injected (KVM_NMI) */
	uint64_t unclaimed_pio;	   /**< port accesses no device took */
	uint64_t unclaimed_mmio;   /**< MMIO accesses no device took */
	/** Interrupts the IOAPIC and PIC sent, per vector (split mode). */
	uint64_t vectors[256];
};

/**
 * Reads the statistics. Any thread, also after the run ended.
 * Returns 0, or -EINVAL (NULL arguments).
 */
int splitvm_get_stats(struct splitvm *vm, struct splitvm_stats *ret);

/**
 * Sets the level of interrupt line @line, as a device would: ISA lines
 * 0-15 reach PIC input n and IOAPIC pin n (line 0, the PIT's, reaches
 * IOAPIC pin 2); lines 16 and up reach only the IOAPIC. A line stays at
 * the level given until set again. Any thread, before start too.
 * Returns 0, or -EINVAL (vm NULL or no such line), -ESRCH (the run has
 * ended).
 */
int splitvm_irq_set(struct splitvm *vm, unsigned int line, int level);

/**
 * Sends a message-signalled interrupt (Intel SDM 10.11): @address
 * (0xfeeXXXXX: destination, mode) and @data (vector, delivery mode,
 * trigger), as a PCI device would, through KVM_SIGNAL_MSI. Any thread.
 * Returns 0, or -EINVAL (vm NULL, address not in 0xfee00000-0xfeefffff),
 * -ESRCH (the run has ended), or KVM's errno.
 */
int splitvm_msi(struct splitvm *vm, uint64_t address, uint32_t data);

/**
 * Sends an NMI to vCPU @cpu, or to every vCPU if cpu is -1, through
 * KVM_NMI on each vCPU's own thread. Works before start too (the NMI
 * waits). Any thread.
 * Returns 0, or -EINVAL (vm NULL or no such vCPU), -ESRCH (the run has
 * ended).
 */
int splitvm_nmi(struct splitvm *vm, int cpu);

/**
 * Sends INIT to vCPU @cpu, as an INIT IPI would: the kernel's LAPIC resets
 * it; an AP then waits for SIPI (the BSP restarts at the reset vector,
 * 0xfffffff0, where this machine has no firmware). Done on the vCPU's own
 * thread with KVM_SET_VCPU_EVENTS. Any thread.
 * Returns 0, or -EINVAL (vm NULL or no such vCPU), -ESRCH (the run has
 * ended).
 */
int splitvm_init_cpu(struct splitvm *vm, unsigned int cpu);

/**
 * Sends a SIPI with @vector to vCPU @cpu: if it waits for SIPI (an AP not
 * yet started, or after INIT), it starts in real mode at vector << 12;
 * otherwise the SIPI is ignored, as hardware does. Any thread.
 * Returns 0, or -EINVAL (vm NULL, no such vCPU, vector > 255), -ESRCH
 * (the run has ended).
 */
int splitvm_sipi(struct splitvm *vm, unsigned int cpu, unsigned int vector);

/** The IOAPIC as the guest sees it, plus its input lines. */
struct splitvm_ioapic_state {
	uint32_t id;	  /**< ID register (bits 27:24 hold the ID) */
	uint32_t version; /**< version register (pins - 1 in bits 23:16) */
	unsigned int pins;
	uint64_t entries[120]; /**< redirection entries; pins are valid */
	uint8_t lines[120];    /**< input levels (1 = asserted) */
};

/** One 8259A of the pair. */
struct splitvm_pic_chip_state {
	uint8_t irr, isr, imr;
	uint8_t elcr;
	uint8_t vector_base;
	uint8_t priority_add; /**< the input with the highest priority */
	uint8_t auto_eoi, special_mask, special_fully_nested, poll;
	uint8_t init_state;   /**< 0 ready; 1-3 waiting for ICW2-ICW4 */
};

/** Both PICs: [0] master, [1] slave. */
struct splitvm_pic_state {
	struct splitvm_pic_chip_state chip[2];
};

/** The PIT's three counters. */
struct splitvm_pit_state {
	struct {
		uint32_t count; /**< loaded count, 1-65536 */
		uint8_t mode;	/**< 0-5 */
		uint8_t bcd;
		uint8_t gate;
	} channel[3];
};

/**
 * Snapshots of the chips, in either irqchip mode (kernel mode reads KVM's
 * own). Any thread, also after the run ended; they are consistent for
 * each chip.
 * Returns 0, or -EINVAL (NULL), -ENODEV (no PIT: --no-pit), or KVM's errno.
 */
int splitvm_get_ioapic_state(struct splitvm *vm,
			     struct splitvm_ioapic_state *ret);
int splitvm_get_pic_state(struct splitvm *vm, struct splitvm_pic_state *ret);
int splitvm_get_pit_state(struct splitvm *vm, struct splitvm_pit_state *ret);

/** Counters of one interrupt line (split mode). */
struct splitvm_irq_stats {
	uint64_t asserts;    /**< times the line went (or was set) high */
	uint64_t deliveries; /**< interrupts the IOAPIC or PIC sent for it */
	uint64_t eois;	     /**< EOIs that cleared its Remote IRR */
	uint64_t coalesced;  /**< asserts merged into one outstanding */
	/** EOIs the monitor completed itself: the guest's EOI exit was lost
	 *  (a KVM quirk, see KVM-NOTES rule 12) and no LAPIC held the vector */
	uint64_t eois_recovered;
};

/**
 * Reads the counters of a line. Any thread, also after the run ended.
 * Returns 0, or -EINVAL (no such line), -ENOTSUP (kernel irqchip mode,
 * whose chips keep no such counters).
 */
int splitvm_irq_stats(struct splitvm *vm, unsigned int line,
		      struct splitvm_irq_stats *ret);

/**
 * Stops the VM if it runs, waits for its threads and frees everything it
 * holds. Must not race with other calls on the same VM. Called from one
 * of the VM's own threads (a callback), it cannot wait for them: it then
 * does nothing but log an error, and the VM must be destroyed from
 * another thread.
 */
void splitvm_destroy(struct splitvm *vm);

#ifdef __cplusplus
}
#endif

#endif /* SPLITVM_H */
