// SPDX-License-Identifier: MIT
/* A VM's life: KVM setup in split-irqchip mode, devices, boot, run, end. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <libfdt.h>

#include "bios.h"
#include "debug_exit.h"
#include "edu.h"
#include "fdt_machine.h"
#include "image.h"
#include "outcome.h"
#include "file.h"
#include "acpi_pm.h"
#include "cmos.h"
#include "fw_cfg.h"
#include "pci.h"
#include "pci_testdev.h"
#include "pit.h"
#include "reset.h"
#include "sandbox.h"
#include "shutdown.h"
#include "snapshot.h"
#include "snapshot_port.h"
#include "testdev.h"
#include "uart.h"
#include "vm.h"
#include "worker.h"

#define KVM_API_VERSION_EXPECTED 12
#define COM1_BASE 0x3f8
#define COM1_IRQ 4

/* The VM whose thread this is, if any (vm_thread_enter()). */
static _Thread_local const struct splitvm *vm_own_thread;

void vm_thread_enter(struct splitvm *vm)
{
	vm_own_thread = vm;
}

bool vm_on_own_thread(const struct splitvm *vm)
{
	return vm_own_thread == vm;
}

uint64_t vm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- KVM: the VM-wide setup ------------------------------------------ */

static int kvm_check_cap(struct splitvm *vm, long cap, const char *name)
{
	int r = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, cap);

	if (r <= 0) {
		log_error(&vm->log, "KVM lacks %s, which splitvm needs", name);
		return -ENOTSUP;
	}
	return r;
}

static int kvm_open(struct splitvm *vm, unsigned int cpus)
{
	int r;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		r = -errno;
		log_error(&vm->log, "cannot open /dev/kvm: %s", strerror(-r));
		return r;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) !=
	    KVM_API_VERSION_EXPECTED) {
		log_error(&vm->log, "/dev/kvm speaks an unknown API version");
		return -ENOTSUP;
	}
	if ((r = kvm_check_cap(vm, KVM_CAP_SPLIT_IRQCHIP,
			       "KVM_CAP_SPLIT_IRQCHIP")) < 0 ||
	    (r = kvm_check_cap(vm, KVM_CAP_IMMEDIATE_EXIT,
			       "KVM_CAP_IMMEDIATE_EXIT")) < 0)
		return r;
	r = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (r > 0 && cpus > (unsigned int)r) {
		log_error(&vm->log, "KVM allows %d vCPUs; %u were asked for",
			  r, cpus);
		return -EINVAL;
	}
	r = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (r <= 0)
		return r < 0 ? -errno : -EINVAL;
	vm->run_size = (size_t)r;
	return 0;
}

static int kvm_enable_cap(struct splitvm *vm, uint32_t cap, uint64_t arg0)
{
	struct kvm_enable_cap c = {.cap = cap, .args = {arg0}};

	return ioctl(vm->vm_fd, KVM_ENABLE_CAP, &c) < 0 ? -errno : 0;
}

/* Creates the VM; the irqchip is set up next (irqchip_create()). */
static int kvm_create_vm(struct splitvm *vm)
{
	int r;

	do {
		vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	} while (vm->vm_fd < 0 && errno == EINTR);
	if (vm->vm_fd < 0) {
		r = -errno;
		log_error(&vm->log, "KVM_CREATE_VM failed: %s", strerror(-r));
		return r;
	}
	/* Intel without unrestricted guest needs both; elsewhere harmless. */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, VM_TSS_ADDR) < 0) {
		r = -errno;
		log_error(&vm->log, "KVM_SET_TSS_ADDR failed: %s",
			  strerror(-r));
		return r;
	}
	uint64_t ident = VM_IDENTITY_MAP_ADDR;

	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0) {
		r = -errno;
		log_error(&vm->log, "KVM_SET_IDENTITY_MAP_ADDR failed: %s",
			  strerror(-r));
		return r;
	}
	return 0;
}

/*
 * KVM sizes per-VM tables by the highest APIC ID + 1, among them the
 * posted-interrupt descriptor table of IPI virtualization (seeds/003): no
 * bigger than the vCPUs need. Must come before any vCPU exists.
 */
static void kvm_set_max_vcpu_id(struct splitvm *vm, unsigned int cpus)
{
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID) <= 0)
		return;
	if (kvm_enable_cap(vm, KVM_CAP_MAX_VCPU_ID, cpus))
		log_debug(&vm->log, "KVM_CAP_MAX_VCPU_ID %u not taken", cpus);
}

/*
 * What KVM supports (KVM_GET_SUPPORTED_CPUID), with TSC deadline where KVM
 * emulates it (it is not in the supported list: QEMU asks
 * KVM_CAP_TSC_DEADLINE_TIMER too). It is the host's and KVM's, the same
 * for every VM of the process, and dear to ask: KVM reads every host
 * leaf, and each CPUID traps where the host is itself a guest (about 1 ms
 * a VM on the PVM hosts, bench/README.md). So it is asked once per
 * process, as QEMU keeps its cpuid_cache, and only ever read after: the
 * library's one piece of state shared between VMs, which no guest can
 * reach (each VM works on its own copy).
 */
static struct kvm_cpuid2 *supported_cpuid;
static pthread_mutex_t supported_cpuid_lock = PTHREAD_MUTEX_INITIALIZER;

static int kvm_ask_supported_cpuid(int kvm_fd, struct kvm_cpuid2 **ret)
{
	/* KVM_MAX_CPUID_ENTRIES (256) since Linux 5.x: one call, as a
	 * smaller guess makes KVM fill the table and fail (E2BIG). */
	for (unsigned int n = 256; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) +
						     n * sizeof(c->entries[0]));

		if (!c)
			return -ENOMEM;
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			bool deadline = ioctl(kvm_fd, KVM_CHECK_EXTENSION,
					      KVM_CAP_TSC_DEADLINE_TIMER) > 0;

			for (unsigned int i = 0; deadline && i < c->nent; i++)
				if (c->entries[i].function == 1)
					c->entries[i].ecx |= 1u << 24;
			*ret = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG)
			return -errno;
	}
	return -E2BIG;
}

/* The guest's CPUID, one for every vCPU but the APIC IDs: what KVM
 * supports, made into the configured model. */
static int kvm_get_cpuid(struct splitvm *vm, const struct cpu_spec *spec)
{
	struct kvm_cpuid2 *c;
	size_t size;
	int r = 0;

	pthread_mutex_lock(&supported_cpuid_lock);
	if (!supported_cpuid)
		r = kvm_ask_supported_cpuid(vm->kvm_fd, &supported_cpuid);
	pthread_mutex_unlock(&supported_cpuid_lock);
	if (r)
		return r;
	size = sizeof(*c) + supported_cpuid->nent * sizeof(c->entries[0]);
	c = malloc(size);
	if (!c)
		return -ENOMEM;
	memcpy(c, supported_cpuid, size);
	vm->cpuid = c;
	return cpu_spec_apply(spec, c, &vm->log);
}

static int kvm_set_memory(struct splitvm *vm, uint32_t slot, uint64_t gpa,
			  uint64_t size, void *host)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.flags = vm->dirty_logging ? KVM_MEM_LOG_DIRTY_PAGES : 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -errno;
	return 0;
}

/*
 * Guest RAM: reserved lazily, so a VM costs only the pages it touches; or,
 * for a fork, a private mapping of a snapshot's RAM image, whose pages the
 * VMs share until one writes them.
 */
static int vm_map_ram(struct splitvm *vm, uint64_t size,
		      const struct splitvm_config *cfg)
{
	uint8_t *host = mmap(NULL, size, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_NORESERVE |
				     (cfg->ram_fd < 0 ? MAP_ANONYMOUS : 0),
			     cfg->ram_fd, 0);
	int r;

	if (host == MAP_FAILED) {
		r = -errno;
		log_error(&vm->log, "cannot map %llu MiB of guest RAM: %s",
			  (unsigned long long)(size >> 20), strerror(-r));
		return r;
	}
	guest_mem_layout(&vm->mem, host, size);
	/* Dropped pages of an image come back as the image's, not zero. */
	vm->mem.discardable = cfg->ram_fd < 0;
	vm->ram_image = cfg->ram_fd < 0 ? 0 : cfg->ram_image;
	r = kvm_set_memory(vm, 0, 0, vm->mem.low_size, host);
	if (!r && size > vm->mem.low_size)
		r = kvm_set_memory(vm, 1, GUEST_HIGH_RAM_START,
				   size - vm->mem.low_size,
				   host + vm->mem.low_size);
	if (r)
		log_error(&vm->log, "KVM_SET_USER_MEMORY_REGION failed: %s",
			  strerror(-r));
	return r;
}

int vm_ram_dirty_logging(struct splitvm *vm)
{
	int r = 0;

	if (vm->dirty_logging)
		return 0;
	vm->dirty_logging = true;
	r = kvm_set_memory(vm, 0, 0, vm->mem.low_size, vm->mem.host);
	if (!r && vm->mem.size > vm->mem.low_size)
		r = kvm_set_memory(vm, 1, GUEST_HIGH_RAM_START,
				   vm->mem.size - vm->mem.low_size,
				   vm->mem.host + vm->mem.low_size);
	if (r)
		vm->dirty_logging = false; /* KVM kept the slots as they were */
	return r;
}

/*
 * Writes all of buf to fd, or as much as the reader takes: output to a
 * reader that left is lost and the guest goes on. A pipe whose reader left
 * would raise SIGPIPE in the writing thread, which by default kills the
 * embedding process: the signal is blocked around the write and, if the
 * write raised it, taken back, so the caller's process never sees it.
 */
static void write_quietly(int fd, const char *buf, size_t len)
{
	const struct timespec now = { 0, 0 };
	sigset_t pipe, old;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, &old);
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 && errno == EPIPE)
				sigtimedwait(&pipe, NULL, &now);
			break;
		}
		buf += n;
		len -= (size_t)n;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* ---- Console --------------------------------------------------------- */

static void console_flush_locked(struct console *c)
{
	if (c->len == 0)
		return;
	if (c->fn)
		c->fn(c->userdata, c->buf, c->len);
	else if (c->fd >= 0)
		write_quietly(c->fd, c->buf, c->len);
	c->len = 0;
}

/* Collects serial output into lines: one handler call or write a line. */
static void console_write(void *ctx, const char *data, size_t len)
{
	struct console *c = ctx;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < len; i++) {
		c->buf[c->len++] = data[i];
		if (data[i] == '\n' || c->len == sizeof(c->buf))
			console_flush_locked(c);
	}
	pthread_mutex_unlock(&c->lock);
}

static void console_flush(struct console *c)
{
	pthread_mutex_lock(&c->lock);
	console_flush_locked(c);
	pthread_mutex_unlock(&c->lock);
}

/* ---- Devices --------------------------------------------------------- */

static void vm_end_hook_fn(void *vmp, enum splitvm_outcome outcome,
			   uint32_t code, int vcpu)
{
	char detail[64];

	snprintf(detail, sizeof(detail), "%s from vCPU %d",
		 outcome_name(outcome), vcpu);
	vm_end(vmp, outcome, code, vcpu, NULL, detail);
}

/* Takes ownership of dev: it is destroyed with the VM. */
static int vm_add_device(struct splitvm *vm, const struct device_ops *ops,
			 void *dev)
{
	struct device_slot *d = realloc(
		vm->devices, (vm->nr_devices + 1) * sizeof(*vm->devices));

	if (!d) {
		if (ops->destroy)
			ops->destroy(dev);
		return -ENOMEM;
	}
	vm->devices = d;
	vm->devices[vm->nr_devices++] = (struct device_slot){ops, dev};
	return 0;
}

static int vm_map_pio(struct splitvm *vm, uint64_t base, uint64_t size,
		      const struct device_ops *ops, void *dev)
{
	int r = bus_register(&vm->pio, base, size, ops, dev);

	if (r)
		log_error(&vm->log, "%s: ports 0x%llx+%llu: %s", ops->name,
			  (unsigned long long)base, (unsigned long long)size,
			  strerror(-r));
	return r;
}

static uint64_t vm_clock(void *ctx)
{
	return vm_now_ns();
}

static void vm_arm_pit(void *vmp, uint64_t deadline)
{
	vm_timer_arm(vmp, VM_TIMER_PIT, deadline);
}

static void vm_fire_pit(struct splitvm *vm)
{
	pit_fire(vm->pit);
}

/*
 * The test device's page flush (port 0xe4; kvm-unit-tests' eventinj
 * writes a page's address there): KVM drops its mapping and the guest's
 * next access faults it in again. guest_mem_flush_page() does it without
 * taking the page away from the host, as splitvm_mem_read() and
 * splitvm_mem_write() may run on any thread meanwhile. MADV_DONTNEED
 * would zero the page instead.
 */
static int vm_testdev_flush(void *vmp, uint64_t gpa)
{
	struct splitvm *vm = vmp;

	return guest_mem_flush_page(&vm->mem, gpa);
}

/* QEMU's pc-testdev: latch and flush ports, one line port per IOAPIC pin,
 * 64 KiB of MMIO scratch. */
static void vm_io_wake(struct splitvm *vm);

/*
 * The guest asked for a snapshot here (snapshot_port.c), on its vCPU's
 * thread. That thread cannot take it (it would wait for itself to park):
 * it pauses the VM without waiting and leaves the rest to the I/O thread
 * (snapshot_point()).
 */
static void vm_snapshot_request(void *vmp, uint32_t value, int vcpu)
{
	struct splitvm *vm = vmp;

	if (vm->snapshot_fd < 0)
		return;
	log_debug(&vm->log, "vCPU %d asks for a snapshot (0x%x)", vcpu, value);
	pthread_mutex_lock(&vm->lock);
	if (!vm->paused && vm->result.outcome == SPLITVM_OUTCOME_RUNNING) {
		vm->paused = true;
		atomic_store(&vm->snapshot_wanted, true);
		for (unsigned int i = 0; i < vm->nr_vcpus; i++)
			vcpu_request(&vm->vcpus[i], VCPU_REQ_PAUSE);
	}
	pthread_mutex_unlock(&vm->lock);
	vm_io_wake(vm);
}

static int vm_create_snapshot_port(struct splitvm *vm)
{
	const struct snapshot_hook hook = {vm_snapshot_request, vm};
	struct snapshot_port *p;
	int r;

	if ((r = snapshot_port_new(&hook, &p)))
		return r;
	if ((r = vm_add_device(vm, &snapshot_port_ops, p))) {
		snapshot_port_ops.destroy(p);
		return r;
	}
	return vm_map_pio(vm, SNAPSHOT_PORT, SNAPSHOT_PORT_SIZE,
			  &snapshot_port_ops, p);
}

static int vm_create_testdev(struct splitvm *vm)
{
	const struct irq_line lines = {irqchip_set_irq, vm->irqchip, 0};
	const struct testdev_hooks hooks = {vm_testdev_flush, vm};
	struct testdev *td;
	int r;

	if ((r = testdev_new(&lines, irqchip_lines(vm->irqchip), &hooks,
			     &td)) ||
	    (r = vm_add_device(vm, &testdev_port_ops, td)) ||
	    (r = vm_map_pio(vm, TESTDEV_PORT_BASE, TESTDEV_PORT_SIZE,
			    &testdev_port_ops, td)) ||
	    (r = vm_map_pio(vm, TESTDEV_IRQ_BASE, testdev_nr_lines(td),
			    &testdev_irq_ops, td)) ||
	    (r = bus_register(&vm->mmio, TESTDEV_IOMEM_BASE,
			      TESTDEV_IOMEM_SIZE, &testdev_mmio_ops, td)))
		return r;
	return 0;
}

/* ---- PCI ------------------------------------------------------------ */

int vm_signal_msi(struct splitvm *vm, uint64_t address, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)address,
		.address_hi = (uint32_t)(address >> 32),
		.data = data,
	};
	/* Every MSI, the host's and the devices', passes here: one event,
	 * before delivery so that it precedes what the guest does with it. */
	const struct splitvm_event ev = {
		SPLITVM_EVENT_MSI, vm_now_ns(), (int)((address >> 12) & 0xff),
		-1, (int)(data & 0xff), -1,
		(uint64_t)(uint32_t)address << 32 | data};

	vm_event(vm, &ev);
	if (ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0)
		return -errno;
	return 0;
}

static void vm_pci_msi(void *vmp, uint64_t address, uint32_t data)
{
	struct splitvm *vm = vmp;
	int r = vm_signal_msi(vm, address, data);

	/* A message the guest aimed nowhere (its own doing): counted by
	 * KVM as dropped; logged once in a while. */
	if (r && ratelimit_ok(&vm->pci_msi_errors))
		log_warn(&vm->log, "PCI MSI to 0x%llx data 0x%x: %s",
			 (unsigned long long)address, data, strerror(-r));
}

/* Plugs d into the next free slot. */
static int vm_pci_plug(struct splitvm *vm, const struct pci_function_desc *d,
		       struct pci_function **ret)
{
	int r = pci_bus_add(vm->pci, vm->pci_slots, d, ret);

	if (r)
		log_error(&vm->log, "PCI: %s in slot %u: %s", d->name,
			  vm->pci_slots, strerror(-r));
	vm->pci_slots++;
	return r;
}

/*
 * The host bridge at 0xcf8 (sharing the port with the reset control
 * register at 0xcf9), its two windows, and the PCI devices: QEMU's
 * pci-testdev always, edu when asked for. INTx reaches IOAPIC pins 16-19
 * where the IOAPIC has them.
 */
static int vm_create_pci(struct splitvm *vm, const struct splitvm_config *cfg,
			 struct reset *rst)
{
	const struct pci_hooks hooks = {
		.msi = vm_pci_msi,
		.ctx = vm,
		.intx = {irqchip_set_irq, vm->irqchip, 0},
		.cf9_ops = &reset_ops,
		.cf9_dev = rst,
	};
	bool wired = irqchip_lines(vm->irqchip) >=
		     PCI_INTX_GSI_BASE + PCI_INTX_GSIS;
	struct pci_function_desc d;
	struct pci_testdev *td;
	struct pci_function *f;
	struct edu *edu;
	int r;

	vm->pci_slots = 1;
	if ((r = pci_bus_new(&hooks, wired, &vm->pci)) ||
	    (r = vm_add_device(vm, &pci_config_ops, vm->pci)) ||
	    (r = vm_map_pio(vm, PCI_CONFIG_PORT, PCI_CONFIG_SIZE,
			    &pci_config_ops, vm->pci)) ||
	    (r = vm_map_pio(vm, PCI_IO_WINDOW_BASE, PCI_IO_WINDOW_SIZE,
			    &pci_io_window_ops, vm->pci)) ||
	    (r = bus_register(&vm->mmio, PCI_MEM_WINDOW_BASE,
			      PCI_MEM_WINDOW_SIZE, &pci_mem_window_ops,
			      vm->pci)))
		return r;
	if ((r = pci_testdev_new(&td)) ||
	    (r = vm_add_device(vm, &pci_testdev_mem_ops, td)))
		return r;
	pci_testdev_desc(td, &d);
	if ((r = vm_pci_plug(vm, &d, NULL)))
		return r;
	if (!cfg->edu)
		return 0;
	if ((r = edu_new(&edu)) || (r = vm_add_device(vm, &edu_ops, edu)))
		return r;
	edu_desc(edu, &d);
	if ((r = vm_pci_plug(vm, &d, &f)))
		return r;
	edu_attach(edu, f);
	return 0;
}

/* ---- The embedder's devices ------------------------------------------ */

static uint64_t user_device_read(void *dev, const struct io_access *a)
{
	const struct user_device *u = dev;

	if (!u->ops.read)
		return io_all_ones(a->len);
	return u->ops.read(u->userdata, a->offset, a->len, a->vcpu);
}

static void user_device_write(void *dev, const struct io_access *a,
			      uint64_t val)
{
	const struct user_device *u = dev;

	if (u->ops.write)
		u->ops.write(u->userdata, a->offset, a->len, val, a->vcpu);
}

static const struct device_ops user_device_ops = {
	.name = "user device",
	.read = user_device_read,
	.write = user_device_write,
};

/* MMIO devices may not hide RAM: KVM would never exit for them. */
static int vm_map_user_devices(struct splitvm *vm,
			       const struct splitvm_config *cfg)
{
	vm->user_devices = calloc(cfg->nr_user_devices + 1,
				  sizeof(*vm->user_devices));
	if (!vm->user_devices)
		return -ENOMEM;
	for (unsigned int i = 0; i < cfg->nr_user_devices; i++) {
		struct user_device *u = &vm->user_devices[i];
		bool mmio = cfg->user_devices[i].space == SPLITVM_SPACE_MMIO;
		int r;

		*u = cfg->user_devices[i];
		if (mmio && (u->base < vm->mem.low_size ||
			     (u->base + u->size > GUEST_HIGH_RAM_START &&
			      u->base < GUEST_HIGH_RAM_START + vm->mem.size -
						vm->mem.low_size))) {
			log_error(&vm->log,
				  "device %u: MMIO 0x%llx+0x%llx overlaps RAM",
				  i, (unsigned long long)u->base,
				  (unsigned long long)u->size);
			return -EEXIST;
		}
		r = bus_register(mmio ? &vm->mmio : &vm->pio, u->base, u->size,
				 &user_device_ops, u);
		if (r) {
			log_error(&vm->log,
				  "device %u: %s 0x%llx+0x%llx overlaps another "
				  "device",
				  i, mmio ? "MMIO" : "ports",
				  (unsigned long long)u->base,
				  (unsigned long long)u->size);
			return r;
		}
	}
	return 0;
}

/*
 * The i8254 of split mode; kernel mode has KVM's (KVM_CREATE_PIT2). Counter
 * 0 runs as PC firmware leaves it (18.2 Hz), at creation and every reset.
 */
static int vm_create_pit(struct splitvm *vm)
{
	const struct pit_clock clock = {vm_clock, vm};
	const struct pit_timer_ops timer = {vm_arm_pit, vm};
	const struct irq_line irq0 = {irqchip_set_irq, vm->irqchip, PIT_IRQ};
	int r;

	vm->timers[VM_TIMER_PIT].fire = vm_fire_pit;
	if ((r = pit_new(&clock, &timer, &irq0, &vm->pit)) ||
	    (r = vm_add_device(vm, &pit_ops, vm->pit)) ||
	    (r = vm_map_pio(vm, PIT_BASE, PIT_REGION_SIZE, &pit_ops,
			    vm->pit)) ||
	    (r = vm_map_pio(vm, PIT_PORT61, PIT_PORT61_SIZE,
			    &pit_port61_ops, vm->pit)))
		return r;
	pit_reset(vm->pit, true);
	return 0;
}

static int64_t vm_wall_clock(void *ctx)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void vm_arm_rtc(void *vmp, uint64_t deadline)
{
	vm_timer_arm(vmp, VM_TIMER_RTC, deadline);
}

static void vm_fire_rtc(struct splitvm *vm)
{
	cmos_fire(vm->cmos);
}

/*
 * The RTC's alarm output reaches the PM1 block's RTC_STS, as on PC
 * chipsets; called with the RTC's lock held.
 */
static void vm_rtc_alarm(void *vmp, unsigned int line, bool level)
{
	struct splitvm *vm = vmp;

	if (vm->acpi_pm)
		acpi_pm_rtc_alarm(vm->acpi_pm, level);
}

/* The RTC at 0x70 on IRQ 8, from the host's wall clock (UTC). */
static int vm_create_cmos(struct splitvm *vm, unsigned int cpus)
{
	const struct cmos_config cfg = {
	    .clock = {vm_clock, vm_wall_clock, vm},
	    .timer = {vm_arm_rtc, vm},
	    .irq = {irqchip_set_irq, vm->irqchip, CMOS_IRQ},
	    .alarm = {vm_rtc_alarm, vm, 0},
	    .ram_below_4g = vm->mem.low_size,
	    .ram_above_4g = vm->mem.size - vm->mem.low_size,
	    .cpus = cpus,
	};
	int r;

	vm->timers[VM_TIMER_RTC].fire = vm_fire_rtc;
	if ((r = cmos_new(&cfg, &vm->cmos)) ||
	    (r = vm_add_device(vm, &cmos_ops, vm->cmos)) ||
	    (r = vm_map_pio(vm, CMOS_BASE, CMOS_REGION_SIZE, &cmos_ops,
			    vm->cmos)))
		return r;
	return 0;
}

static void vm_arm_acpi_pm(void *vmp, uint64_t deadline)
{
	vm_timer_arm(vmp, VM_TIMER_ACPI_PM, deadline);
}

static void vm_fire_acpi_pm(struct splitvm *vm)
{
	acpi_pm_fire(vm->acpi_pm);
}

/*
 * ACPI S3 (16.1.3): the guest wrote SLP_EN with _S3's SLP_TYP, on vCPU
 * vcpu's thread. Every vCPU parks and stays parked, RAM kept, until a
 * wake event (vm_acpi_wake()); the I/O thread then carries out the wake
 * (vm_do_wake()).
 */
static void vm_acpi_sleep(void *vmp, unsigned int state, int vcpu)
{
	struct splitvm *vm = vmp;
	const struct splitvm_event ev = {SPLITVM_EVENT_SUSPENDED, vm_now_ns(),
					 vcpu, -1, -1, -1, state};
	bool now = false;

	pthread_mutex_lock(&vm->lock);
	if (vm->result.outcome == SPLITVM_OUTCOME_RUNNING) {
		atomic_store(&vm->suspended, true);
		for (unsigned int i = 0; i < vm->nr_vcpus; i++)
			vcpu_request(&vm->vcpus[i], VCPU_REQ_PAUSE);
		now = true;
	}
	pthread_mutex_unlock(&vm->lock);
	if (!now)
		return;
	log_debug(&vm->log, "S%u: the vCPUs stop until a wake event", state);
	vm_event(vm, &ev);
	/* A wake event that came first is waiting for this. */
	vm_io_wake(vm);
}

/*
 * A wake event ended the sleep (the PM1 block's lock is held, maybe the
 * RTC's): only posted, for the I/O thread.
 */
static void vm_acpi_wake(void *vmp, uint16_t pm1_sts)
{
	struct splitvm *vm = vmp;

	atomic_store(&vm->wake_sts, pm1_sts);
	atomic_store(&vm->wake_pending, true);
	vm_io_wake(vm);
}

/* The fixed hardware the FADT names, at its ports; S3 and S5 as the DSDT
 * says. */
static int vm_create_acpi_pm(struct splitvm *vm)
{
	const struct machine_desc *m = &vm->machine;
	const struct acpi_pm_config cfg = {
	    .end = {vm_end_hook_fn, vm},
	    .clock = {vm_clock, vm},
	    .timer = {vm_arm_acpi_pm, vm},
	    .sci = {irqchip_set_irq, vm->irqchip, m->sci_irq},
	    .s5_slp_typ = m->s5_slp_typ,
	    .sleep = {m->s3 ? vm_acpi_sleep : NULL,
		      m->s3 ? vm_acpi_wake : NULL, vm},
	    .s3_slp_typ = m->s3_slp_typ,
	    .evt_port = m->pm1a_evt_port,
	    .cnt_port = m->pm1a_cnt_port,
	    .tmr_port = m->pm_timer_port,
	};
	struct acpi_pm *pm;
	int r;

	vm->timers[VM_TIMER_ACPI_PM].fire = vm_fire_acpi_pm;
	if ((r = acpi_pm_new(&cfg, &pm)) ||
	    (r = vm_add_device(vm, &acpi_pm_evt_ops, pm)))
		return r;
	vm->acpi_pm = pm;
	if ((r = vm_map_pio(vm, m->pm1a_evt_port, ACPI_PM_EVT_SIZE,
			    &acpi_pm_evt_ops, pm)) ||
	    (r = vm_map_pio(vm, m->pm1a_cnt_port, ACPI_PM_CNT_SIZE,
			    &acpi_pm_cnt_ops, pm)) ||
	    (m->pm_timer_port &&
	     (r = vm_map_pio(vm, m->pm_timer_port, ACPI_PM_TMR_SIZE,
			     &acpi_pm_tmr_ops, pm))))
		return r;
	return 0;
}

static int vm_create_devices(struct splitvm *vm,
			     const struct splitvm_config *cfg)
{
	unsigned int cpus = cfg->cpus;
	const struct vm_end_hook hook = {vm_end_hook_fn, vm};
	const struct console_sink sink = {console_write, &vm->console};
	const struct irq_line com1_irq = {irqchip_set_irq, vm->irqchip,
					  COM1_IRQ};
	struct debug_exit *dx;
	struct fw_cfg *fw;
	struct reset *rst;
	struct shutdown_port *sd;
	int r;

	if ((r = irqchip_map(vm->irqchip, &vm->pio, &vm->mmio))) {
		log_error(&vm->log, "mapping the irqchip failed: %s",
			  strerror(-r));
		return r;
	}
	if ((r = uart_new(&sink, &com1_irq, &vm->uart)) ||
	    (r = vm_add_device(vm, &uart_ops, vm->uart)) ||
	    (r = vm_map_pio(vm, COM1_BASE, 8, &uart_ops, vm->uart)))
		return r;
	if ((r = debug_exit_new(&hook, &dx)) ||
	    (r = vm_add_device(vm, &debug_exit_ops, dx)) ||
	    (r = vm_map_pio(vm, 0xf4, 4, &debug_exit_ops, dx)))
		return r;
	if ((r = fw_cfg_new(vm->mem.size, (uint16_t)cpus, (uint16_t)cpus,
			    &fw)) ||
	    (r = vm_add_device(vm, &fw_cfg_ops, fw)) ||
	    (r = vm_map_pio(vm, 0x510, 2, &fw_cfg_ops, fw)))
		return r;
	if ((r = reset_new(&hook, &rst)) ||
	    (r = vm_add_device(vm, &reset_ops, rst)) ||
	    (r = vm_map_pio(vm, 0x64, 1, &reset_ops, rst)) ||
	    (r = vm_map_pio(vm, 0x92, 1, &reset_ops, rst)) ||
	    (r = vm_create_pci(vm, cfg, rst)))
		return r;
	if ((r = shutdown_port_new(&hook, &sd)) ||
	    (r = vm_add_device(vm, &shutdown_port_ops, sd)) ||
	    (r = vm_map_pio(vm, 0x8900, 1, &shutdown_port_ops, sd)))
		return r;
	if (cfg->pit && irqchip_mode(vm->irqchip) == IRQCHIP_SPLIT &&
	    (r = vm_create_pit(vm)))
		return r;
	if ((vm->machine.rtc && (r = vm_create_cmos(vm, cpus))) ||
	    (r = vm_create_acpi_pm(vm)))
		return r;
	if ((r = vm_create_testdev(vm)) || (r = vm_create_snapshot_port(vm)))
		return r;
	return vm_map_user_devices(vm, cfg);
}

/* ---- Interrupt controller ---------------------------------------------- */

static void vm_kick_cpu(void *vmp, unsigned int cpu)
{
	struct splitvm *vm = vmp;

	if (cpu < vm->nr_vcpus)
		vcpu_request(&vm->vcpus[cpu], VCPU_REQ_EXTINT);
}

static void vm_lapic_check(void *vmp)
{
	struct splitvm *vm = vmp;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_request(&vm->vcpus[i], VCPU_REQ_LAPIC);
}

void vm_event(struct splitvm *vm, const struct splitvm_event *ev)
{
	struct splitvm_event e = *ev;

	if (!(vm->event_mask & (1u << ev->type)))
		return;
	e.time_ns = ev->time_ns > vm->start_ns ? ev->time_ns - vm->start_ns
					       : 0;
	vm->event_fn(vm->event_data, &e);
}

static void vm_irqchip_event(void *vmp, const struct splitvm_event *ev)
{
	vm_event(vmp, ev);
}

static void vm_arm_irqchip_timer(void *vmp, uint64_t deadline)
{
	vm_timer_arm(vmp, VM_TIMER_IRQCHIP, deadline);
}

static void vm_fire_irqchip_timer(struct splitvm *vm)
{
	irqchip_timer(vm->irqchip);
}

static int vm_create_irqchip(struct splitvm *vm,
			     const struct splitvm_config *cfg)
{
	const struct irqchip_config icfg = {
		.mode = cfg->irqchip == SPLITVM_IRQCHIP_KERNEL ? IRQCHIP_KERNEL
							       : IRQCHIP_SPLIT,
		.ioapic_pins = cfg->ioapic_pins,
		.ioapic_version = cfg->ioapic_version,
		.pic = cfg->pic,
	};
	const struct irqchip_host host = {
		.vm_fd = vm->vm_fd,
		.log = &vm->log,
		.kick = vm_kick_cpu,
		.arm_timer = vm_arm_irqchip_timer,
		.lapic_check = vm_lapic_check,
		.event = vm_irqchip_event,
		.event_mask = vm->event_mask,
		.nr_vcpus = cfg->cpus,
		.vm = vm,
	};

	/* KVM's in-kernel irqchip always has its 8259As and its PIT. */
	if (icfg.mode == IRQCHIP_KERNEL && (!cfg->pit || !cfg->pic)) {
		log_error(&vm->log, "no %s with the kernel irqchip: KVM's "
				    "always has its 8259As and PIT (use "
				    "the split irqchip)",
			  !cfg->pit ? "PIT" : "PICs");
		return -EINVAL;
	}
	vm->timers[VM_TIMER_IRQCHIP].fire = vm_fire_irqchip_timer;
	return irqchip_create(&icfg, &host, &vm->irqchip);
}

/* ---- Boot ------------------------------------------------------------ */

/* The machine description: RAM, CPUs, then each device describes itself. */
static int vm_build_fdt(struct splitvm *vm, void *buf, size_t size,
			const char *cmdline)
{
	int isa = fdt_machine_begin(buf, size, &vm->mem, vm->nr_vcpus,
				    cmdline);
	int r = isa < 0 ? isa : 0;

	if (!r)
		r = fdt_add_interrupt_controllers(buf, &vm->machine);
	/* New nodes move the others: find /isa again. */
	if (!r && (isa = fdt_path_offset(buf, "/isa")) < 0)
		r = -EINVAL;
	for (unsigned int i = 0; !r && i < vm->nr_devices; i++) {
		const struct device_slot *d = &vm->devices[i];

		if (d->ops->describe)
			r = d->ops->describe(d->dev, buf, isa);
	}
	if (!r)
		r = fdt_machine_finish(buf);
	return r;
}

/* Where PC firmware leaves its tables; both are scanned for by Linux. */
#define VM_ACPI_ADDR 0xe0000ull
#define VM_MPTABLE_ADDR 0xf0000ull

/*
 * The machine as the guest is told about it, in either irqchip mode: one
 * description for the FDT, ACPI and the MP table, so they cannot differ.
 */
static void vm_describe_machine(struct splitvm *vm,
				const struct splitvm_config *cfg)
{
	bool kernel = irqchip_mode(vm->irqchip) == IRQCHIP_KERNEL;

	machine_desc_init(&vm->machine, cfg->cpus, irqchip_lines(vm->irqchip),
			  kernel ? 0x11 : cfg->ioapic_version);
	vm->machine.pit = cfg->pit;
	vm->machine.pic = cfg->pic;
	vm->machine.rtc = cfg->rtc; /* in both modes: KVM has no RTC */
	vm->machine.x2apic = cpu_has_x2apic(vm->cpuid);
	vm->machine.pci_io_base = PCI_IO_WINDOW_BASE;
	vm->machine.pci_io_size = PCI_IO_WINDOW_SIZE;
	vm->machine.pci_mem_base = (uint32_t)PCI_MEM_WINDOW_BASE;
	vm->machine.pci_mem_size = (uint32_t)PCI_MEM_WINDOW_SIZE;
	if (irqchip_lines(vm->irqchip) >= PCI_INTX_GSI_BASE + PCI_INTX_GSIS)
		vm->machine.pci_intx_gsi = PCI_INTX_GSI_BASE;
}

/* The process's image of this machine's shape (image.c), once per VM. */
static int vm_get_firmware(struct splitvm *vm)
{
	int r = firmware_image_get(&vm->machine, VM_ACPI_ADDR, VM_MPTABLE_ADDR,
				   &vm->firmware);

	if (r)
		log_error(&vm->log, "building the firmware tables failed: %s",
			  strerror(-r));
	return r;
}

/*
 * The firmware in low memory, at creation and on a reset: ACPI at
 * 0xE0000 and the MP table at 0xF0000, in the [639 KiB, 1 MiB) range
 * every memory map reports reserved, and the real-mode environment PC
 * firmware leaves (bios.h), the IVT at 0 and its handlers at F000:FF40.
 * Copied from the VM's image (vm_get_firmware()). Written again before
 * each kernel load, which may write over the IVT (the rest is reserved).
 */
static int vm_write_firmware_tables(struct splitvm *vm)
{
	const struct firmware_image *img = vm->firmware;
	void *acpi, *mp, *ivt, *stubs;

	acpi = guest_mem_ptr(&vm->mem, VM_ACPI_ADDR, img->acpi_len);
	mp = guest_mem_ptr(&vm->mem, VM_MPTABLE_ADDR, img->mp_len);
	ivt = guest_mem_ptr(&vm->mem, BIOS_IVT_ADDR, BIOS_IVT_SIZE);
	stubs = guest_mem_ptr(&vm->mem, BIOS_STUBS_ADDR, BIOS_STUBS_SIZE);
	if (!acpi || !mp || !ivt || !stubs) {
		log_error(&vm->log, "no room in RAM for the firmware tables");
		return -EFBIG;
	}
	memcpy(acpi, img->acpi, img->acpi_len);
	memcpy(mp, img->mp, img->mp_len);
	memcpy(ivt, img->ivt, BIOS_IVT_SIZE);
	memcpy(stubs, img->stubs, BIOS_STUBS_SIZE);
	return 0;
}

/*
 * Reads the kernel and the modules (initrd first, as module 0) and builds
 * the machine description: all a load needs, kept until the VM is
 * destroyed so that a reset can load them again.
 */
static int vm_prepare_boot(struct splitvm *vm,
			   const struct splitvm_config *cfg)
{
	const char *paths[CONFIG_MAX_MODULES + 1];
	void *fdt;
	unsigned int n = 0;
	int r;

	if (!cfg->kernel) {
		log_error(&vm->log, "no kernel given");
		return -EINVAL;
	}
	r = file_map(cfg->kernel, "kernel", vm->mem.size, &vm->kernel_file,
		     &vm->log);
	if (r)
		return r;
	if (cfg->initrd)
		paths[n++] = cfg->initrd;
	for (unsigned int i = 0; i < cfg->nr_modules; i++)
		paths[n++] = cfg->modules[i];
	for (unsigned int i = 0; i < n; i++) {
		struct mapped_file *f = &vm->module_files[i];
		char what[32];

		snprintf(what, sizeof(what), "module %u", i);
		r = file_map(paths[i], what, vm->mem.size, f, &vm->log);
		if (r)
			return r;
		vm->modules[i] = (struct boot_module){f->data, f->size,
						      paths[i]};
		vm->boot.nr_modules = i + 1;
	}
	/*
	 * Built in a buffer that starts at 4 KiB and doubles, up to
	 * FDT_MAX_SIZE, while libfdt finds it too small: fdt_create() zeroes
	 * all of its buffer, and one of the largest size cost every VM 16
	 * page faults for a tree of a few KiB. Then cut to what it holds,
	 * which is kept for resets.
	 */
	for (size_t size = 4096;; size *= 2) {
		vm->fdt = malloc(size);
		if (!vm->fdt)
			return -ENOMEM;
		r = vm_build_fdt(vm, vm->fdt, size, cfg->cmdline);
		if (r != -ENOSPC || size >= FDT_MAX_SIZE)
			break;
		free(vm->fdt);
		vm->fdt = NULL;
	}
	if (r) {
		log_error(&vm->log, "building the machine FDT failed: %s",
			  strerror(-r));
		return r;
	}
	fdt = realloc(vm->fdt, fdt_totalsize(vm->fdt));
	if (fdt)
		vm->fdt = fdt;
	vm->boot.kernel = vm->kernel_file.data;
	vm->boot.kernel_size = vm->kernel_file.size;
	vm->boot.kernel_name = cfg->kernel;
	vm->boot.cmdline = vm->cmdline;
	vm->boot.modules = vm->modules;
	vm->boot.fdt = vm->fdt;
	vm->boot.fdt_size = fdt_totalsize(vm->fdt);
	/*
	 * The firmware tables, to the byte: no image may load over them.
	 * The rest of the BIOS area is RAM an image may load into (an ELF32
	 * linked at 1 MiB puts its headers at 0xff000), as QEMU allows; the
	 * memory maps report [639 KiB, 1 MiB) reserved all the same.
	 */
	vm->boot.acpi_rsdp = VM_ACPI_ADDR;
	vm->boot.nr_reserved = 0;
	r = boot_reserve(&vm->boot, VM_ACPI_ADDR, vm->firmware->acpi_len,
			 BOOT_MEM_RESERVED);
	if (!r)
		r = boot_reserve(&vm->boot, VM_MPTABLE_ADDR,
				 vm->firmware->mp_len, BOOT_MEM_RESERVED);
	if (!r)
		r = boot_reserve(&vm->boot, BIOS_STUBS_ADDR, BIOS_STUBS_SIZE,
				 BOOT_MEM_RESERVED);
	return r;
}

/*
 * Loads the kernel and modules into guest RAM, at creation and at each
 * reset, from splitvm's own copies of the files (file.c): a reset boots
 * exactly what the first load booted, whatever became of the files, as
 * QEMU reloads its ROM blobs. The copies are kept until the VM is
 * destroyed, since splitvm_reset() may come at any time: each VM holds
 * its images' size in resident memory (~180 KiB for a test guest, the
 * size of a bzImage and its initrd for Linux).
 */
static int vm_load_kernel(struct splitvm *vm)
{
	return boot_load(&vm->mem, &vm->boot, &vm->plan, &vm->log);
}

static void vm_release_boot(struct splitvm *vm)
{
	for (unsigned int i = 0; i < vm->boot.nr_modules; i++)
		file_unmap(&vm->module_files[i]);
	file_unmap(&vm->kernel_file);
	free(vm->fdt);
	free(vm->cmdline);
}

/* ---- Life cycle ------------------------------------------------------ */

static int vm_init_sync(struct splitvm *vm)
{
	if (pthread_mutex_init(&vm->lock, NULL))
		return -ENOMEM;
	if (pthread_mutex_init(&vm->console.lock, NULL)) {
		pthread_mutex_destroy(&vm->lock);
		return -ENOMEM;
	}
	if (pthread_mutex_init(&vm->timer_lock, NULL)) {
		pthread_mutex_destroy(&vm->console.lock);
		pthread_mutex_destroy(&vm->lock);
		return -ENOMEM;
	}
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (pthread_cond_init(&vm->ended, &attr) ||
	    pthread_cond_init(&vm->parked_cond, NULL) ||
	    pthread_cond_init(&vm->resume_cond, NULL)) {
		pthread_condattr_destroy(&attr);
		pthread_mutex_destroy(&vm->timer_lock);
		pthread_mutex_destroy(&vm->console.lock);
		pthread_mutex_destroy(&vm->lock);
		return -ENOMEM;
	}
	pthread_condattr_destroy(&attr);
	return 0;
}

int vm_create(const struct splitvm_config *cfg, struct splitvm **ret)
{
	struct splitvm *vm = calloc(1, sizeof(*vm));
	int r;

	if (!vm)
		return -ENOMEM;
	vm->log = cfg->log;
	vm->kvm_fd = vm->vm_fd = vm->io_wake_fd = vm->end_fd = -1;
	vm->kick_signal = cfg->kick_signal;
	vm->timeout_ms = cfg->timeout_ms;
	vm->sandbox = cfg->sandbox;
	vm->event_mask = cfg->event_fn ? cfg->event_mask : 0;
	vm->event_fn = cfg->event_fn;
	vm->event_data = cfg->event_data;
	vm->serial_in_fd = cfg->serial_in_fd;
	vm->snapshot_fd = cfg->snapshot_fd;
	vm->nr_vcpus = cfg->cpus;
	vm->console.fn = cfg->console_fn;
	vm->console.userdata = cfg->console_data;
	vm->console.fd = cfg->serial_out_fd;
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
	r = vm_init_sync(vm);
	if (r) {
		free(vm);
		return r;
	}
	vm->io_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vm->end_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->io_wake_fd < 0 || vm->end_fd < 0) {
		r = -errno;
		goto err;
	}
	vm->vcpus = calloc(cfg->cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		r = -ENOMEM;
		goto err;
	}
	for (unsigned int i = 0; i < cfg->cpus; i++)
		vm->vcpus[i].fd = -1;
	if ((r = kvm_open(vm, cfg->cpus)) || (r = kvm_create_vm(vm)))
		goto err;
	kvm_set_max_vcpu_id(vm, cfg->cpus);
	if ((r = vm_create_irqchip(vm, cfg)) || (r = kvm_get_cpuid(vm, &cfg->cpu)) ||
	    (r = vm_map_ram(vm, cfg->memory, cfg)))
		goto err;
	/* First: the devices are created as the tables describe them. */
	vm_describe_machine(vm, cfg);
	if ((r = vm_create_devices(vm, cfg)))
		goto err;
	if (cfg->cmdline && !(vm->cmdline = strdup(cfg->cmdline))) {
		r = -ENOMEM;
		goto err;
	}
	if ((r = vm_get_firmware(vm)) || (r = vm_write_firmware_tables(vm)) ||
	    (r = vm_prepare_boot(vm, cfg)))
		goto err;
	if ((r = vm_load_kernel(vm)))
		goto err;
	for (unsigned int i = 0; i < cfg->cpus; i++) {
		r = vcpu_init(&vm->vcpus[i], vm, i, &vm->plan);
		if (r) {
			log_error(&vm->log, "creating vCPU %u failed: %s", i,
				  strerror(-r));
			goto err;
		}
	}
	*ret = vm;
	return 0;
err:
	vm_destroy(vm);
	return r;
}

/* Makes the I/O thread look at its timers and stop flag again. */
static void vm_io_wake(struct splitvm *vm)
{
	uint64_t one = 1;
	ssize_t n;

	if (vm->io_wake_fd < 0 ||
	    (atomic_load(&vm->io_started) &&
	     pthread_equal(pthread_self(), vm->io_thread)))
		return;
	n = write(vm->io_wake_fd, &one, sizeof(one));
	(void)n; /* a full counter wakes the thread all the same */
}

void vm_timer_arm(struct splitvm *vm, enum vm_timer_id id, uint64_t deadline)
{
	uint64_t old = atomic_exchange(&vm->timers[id].deadline, deadline);

	/* Only an earlier deadline can be missed by the sleeping thread. */
	if (deadline && (!old || deadline < old))
		vm_io_wake(vm);
}

/*
 * Makes splitvm_fd() readable once the run has ended and every vCPU
 * thread is done, so that splitvm_wait() then returns at once. Called
 * with vm->lock held; writes once.
 */
static void vm_signal_end_locked(struct splitvm *vm)
{
	uint64_t one = 1;
	ssize_t n;

	if (vm->end_signalled || !vm->started || vm->running > 0 ||
	    vm->result.outcome == SPLITVM_OUTCOME_RUNNING || vm->end_fd < 0)
		return;
	vm->end_signalled = true;
	n = write(vm->end_fd, &one, sizeof(one));
	(void)n; /* a fresh eventfd cannot be full */
}

bool vm_end(struct splitvm *vm, enum splitvm_outcome outcome, uint32_t code,
	    int cpu, const struct splitvm_regs *regs, const char *detail)
{
	bool decided = false;

	pthread_mutex_lock(&vm->lock);
	if (vm->result.outcome == SPLITVM_OUTCOME_RUNNING) {
		struct splitvm_result *res = &vm->result;

		decided = true;
		res->outcome = outcome;
		res->exit_code = code;
		res->cpu = cpu;
		res->has_regs = regs != NULL;
		if (regs)
			res->regs = *regs;
		snprintf(res->detail, sizeof(res->detail), "%s",
			 detail ? detail : outcome_name(outcome));
		res->duration_ns = vm_now_ns() - vm->start_ns;
		atomic_store(&vm->run_ended, true);
		for (unsigned int i = 0; i < vm->nr_vcpus; i++)
			vcpu_request(&vm->vcpus[i], VCPU_REQ_STOP);
		atomic_store(&vm->io_stop, true);
		vm_io_wake(vm);
		pthread_cond_broadcast(&vm->resume_cond);
		pthread_cond_broadcast(&vm->parked_cond);
		vm_signal_end_locked(vm);
	}
	pthread_mutex_unlock(&vm->lock);
	return decided;
}

void vm_fail(struct splitvm *vm, int cpu, int err, const char *detail)
{
	if (vm_end(vm, SPLITVM_OUTCOME_ERROR, 0, cpu, NULL, detail)) {
		pthread_mutex_lock(&vm->lock);
		vm->result.error = err;
		pthread_mutex_unlock(&vm->lock);
	}
}

/* The I/O thread's last act on the VM (vm_join_locked()). */
static void vm_io_done(struct splitvm *vm)
{
	vm_thread_enter(NULL);
	pthread_mutex_lock(&vm->lock);
	vm->io_running = false;
	pthread_cond_broadcast(&vm->ended);
	pthread_mutex_unlock(&vm->lock);
}

void vm_vcpu_done(struct splitvm *vm)
{
	pthread_mutex_lock(&vm->lock);
	if (--vm->running == 0)
		pthread_cond_broadcast(&vm->ended);
	pthread_cond_broadcast(&vm->parked_cond);
	vm_signal_end_locked(vm);
	pthread_mutex_unlock(&vm->lock);
}

/*
 * Feeds host input to the UART: one read per readiness, so a blocking
 * descriptor never stalls the thread, and only while the FIFO has room.
 */
static void io_feed_serial(struct splitvm *vm, bool *in_open)
{
	uint8_t c;
	ssize_t got = read(vm->serial_in_fd, &c, 1);

	if (got == 1)
		uart_receive(vm->uart, &c, 1);
	else if (got == 0 || (errno != EINTR && errno != EAGAIN))
		*in_open = false;
}

/* Fires the timers that are due; returns the earliest deadline left. */
static uint64_t vm_run_timers(struct splitvm *vm, uint64_t now)
{
	uint64_t next = 0;

	pthread_mutex_lock(&vm->timer_lock); /* not during a snapshot */
	for (unsigned int i = 0; i < VM_NR_TIMERS; i++) {
		struct vm_timer *t = &vm->timers[i];
		uint64_t d = atomic_load(&t->deadline);

		if (d && d <= now &&
		    atomic_compare_exchange_strong(&t->deadline, &d, 0)) {
			t->fire(vm);
			d = atomic_load(&t->deadline); /* fire() may re-arm */
		}
		if (d && (!next || d < next))
			next = d;
	}
	pthread_mutex_unlock(&vm->timer_lock);
	return next;
}

/* A reset ends a sleep too: the machine boots (the PM1 block was reset). */
static void vm_reset_clears_sleep(struct splitvm *vm)
{
	pthread_mutex_lock(&vm->lock);
	atomic_store(&vm->suspended, false);
	atomic_store(&vm->wake_pending, false);
	pthread_cond_broadcast(&vm->resume_cond);
	pthread_mutex_unlock(&vm->lock);
}

/*
 * Waking from S3, as PC firmware's resume path leaves the machine (ACPI
 * 6.x 16.1.3.1, 7.4.2.4): what loses power in S3 is reset (the CPUs, the
 * interrupt controllers, the PIT, the UART...); the PM1 block and the RTC,
 * in the wells that keep power, keep their state, so OSPM reads in PM1_STS
 * what woke it. The BSP enters the FACS waking vector: in real mode at
 * (vector >> 4):(vector & 0xf), or in flat 32-bit protected mode at
 * X_Firmware_Waking_Vector if the OS set one; APs wait for SIPI.
 * Returns false if the OS left no vector: SeaBIOS then resets the machine
 * (QEMU with -no-reboot exits), and so does splitvm, as a guest's reset
 * ends the run.
 */
static bool vm_wake_machine(struct splitvm *vm)
{
	const uint8_t *facs = guest_mem_ptr(
		&vm->mem, VM_ACPI_ADDR + acpi_facs_offset(), 64);

	vm->wake_vector = 0;
	vm->wake_x_vector = 0;
	if (facs)
		acpi_facs_waking(facs, &vm->wake_vector, &vm->wake_x_vector);
	if (!vm->wake_vector && !vm->wake_x_vector)
		return false;
	log_debug(&vm->log, "waking at 0x%x (32-bit: 0x%llx)", vm->wake_vector,
		  (unsigned long long)vm->wake_x_vector);
	irqchip_reset(vm->irqchip);
	for (unsigned int i = 0; i < vm->nr_devices; i++) {
		const struct device_slot *d = &vm->devices[i];

		if (d->ops->reset && d->dev != vm->acpi_pm &&
		    d->dev != vm->cmos)
			d->ops->reset(d->dev);
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		vcpu_drop_guest_requests(&vm->vcpus[i]);
		vcpu_request(&vm->vcpus[i],
			     i == 0 ? VCPU_REQ_WAKE : VCPU_REQ_RESET);
	}
	return true;
}

/* On the I/O thread: a wake event came while the VM sleeps. */
static void vm_do_wake(struct splitvm *vm)
{
	struct splitvm_event ev = {SPLITVM_EVENT_WAKEUP, 0, -1, -1, -1, -1,
				   atomic_load(&vm->wake_sts)};
	bool go, woken;

	pthread_mutex_lock(&vm->lock);
	/* Every vCPU was asked to park when the sleep began. */
	while (vm->parked < vm->running &&
	       vm->result.outcome == SPLITVM_OUTCOME_RUNNING)
		pthread_cond_wait(&vm->parked_cond, &vm->lock);
	atomic_store(&vm->wake_pending, false);
	go = vm->result.outcome == SPLITVM_OUTCOME_RUNNING &&
	     atomic_load(&vm->suspended);
	pthread_mutex_unlock(&vm->lock);
	if (!go)
		return;
	woken = vm_wake_machine(vm);
	if (woken) {
		pthread_mutex_lock(&vm->lock);
		atomic_store(&vm->suspended, false);
		pthread_cond_broadcast(&vm->resume_cond);
		pthread_mutex_unlock(&vm->lock);
	}
	ev.time_ns = vm_now_ns();
	vm_event(vm, &ev);
	if (!woken)
		vm_end(vm, SPLITVM_OUTCOME_RESET, 0, -1, NULL,
		       "woken from S3 with no waking vector in the FACS: "
		       "reset");
}

int vm_wakeup(struct splitvm *vm)
{
	int r = 0;

	pthread_mutex_lock(&vm->lock);
	if (!vm->started || vm->result.outcome != SPLITVM_OUTCOME_RUNNING)
		r = -ESRCH;
	else if (!atomic_load(&vm->suspended) || !vm->acpi_pm)
		r = -EALREADY;
	pthread_mutex_unlock(&vm->lock);
	if (r)
		return r;
	/* As QEMU's system_wakeup: the power button, a wake event in S3. */
	acpi_pm_power_button(vm->acpi_pm);
	return 0;
}

/*
 * The I/O thread: serves the host timers (PIT, storm limiter), the
 * wall-clock limit and serial input, until the run ends.
 */
static void vm_io_thread(void *arg)
{
	struct splitvm *vm = arg;
	/* A limit past what the clock can count (~584 years) is none: the
	 * product would wrap and end the run at once. */
	uint64_t limit = vm->timeout_ms &&
				 vm->timeout_ms <= (UINT64_MAX - vm->start_ns) /
							   1000000ull
				 ? vm->start_ns + vm->timeout_ms * 1000000ull
				 : 0;
	bool in_open = vm->serial_in_fd >= 0;
	/*
	 * The stuck-vCPU watchdog: a kick to every vCPU twice a second, so
	 * that one which never exits is looked at by its own thread (vcpu.c
	 * samples after a long KVM_RUN; a short one costs a re-entry).
	 */
	const uint64_t watch_ns = 500000000ull;
	uint64_t watch = vm->start_ns + watch_ns;
	int r;

	vm_thread_enter(vm);
	pthread_setname_np(pthread_self(), "splitvm-io");
	if (vm->sandbox && (r = sandbox_enter(SANDBOX_IO, vm->sandbox))) {
		vm_fail(vm, -1, r, "the I/O thread's sandbox failed");
		vm_io_done(vm);
		return;
	}
	while (!atomic_load(&vm->io_stop)) {
		uint64_t now, next;

		if (atomic_load(&vm->snapshot_wanted))
			snapshot_point(vm);
		now = vm_now_ns();
		next = vm_run_timers(vm, now);

		/* A timer (the RTC alarm) or the API woke a sleeping VM. */
		if (atomic_load(&vm->wake_pending) &&
		    atomic_load(&vm->suspended)) {
			vm_do_wake(vm);
			continue;
		}
		struct pollfd fds[2] = {
			{.fd = vm->io_wake_fd, .events = POLLIN},
			{.fd = in_open ? vm->serial_in_fd : -1,
			 .events = POLLIN},
		};
		struct timespec ts, *wait = NULL;

		if (limit && now >= limit) {
			vm_end(vm, SPLITVM_OUTCOME_TIMEOUT, 0, -1, NULL,
			       "wall-clock limit reached");
			break;
		}
		if (limit && (!next || limit < next))
			next = limit;
		if (now >= watch) {
			/* io_stop: the vCPU threads may be on their way out. */
			for (unsigned int i = 0;
			     i < vm->nr_vcpus && !atomic_load(&vm->io_stop);
			     i++)
				if (atomic_load(&vm->vcpus[i].thread_started))
					vcpu_kick(&vm->vcpus[i]);
			watch = now + watch_ns;
		}
		if (!next || watch < next)
			next = watch;
		/* A full receive FIFO: look again soon rather than read. */
		if (in_open && !uart_rx_ready(vm->uart)) {
			fds[1].fd = -1;
			if (!next || next > now + 5000000)
				next = now + 5000000;
		}
		if (next) {
			uint64_t d = next > now ? next - now : 0;

			ts = (struct timespec){(time_t)(d / 1000000000ull),
					       (long)(d % 1000000000ull)};
			wait = &ts;
		}
		if (ppoll(fds, 2, wait, NULL) < 0 && errno != EINTR)
			break;
		if (fds[0].revents) {
			uint64_t count;
			ssize_t n = read(vm->io_wake_fd, &count, sizeof(count));

			(void)n; /* only the wake-up matters */
		}
		if (fds[1].revents)
			io_feed_serial(vm, &in_open);
	}
	vm_io_done(vm);
}

bool vm_park(struct splitvm *vm, struct vcpu *v)
{
	bool go_on;

	pthread_mutex_lock(&vm->lock);
	vm->parked++;
	pthread_cond_broadcast(&vm->parked_cond);
	while ((vm->paused || atomic_load(&vm->suspended) || vm->calls) &&
	       vm->result.outcome == SPLITVM_OUTCOME_RUNNING) {
		struct vcpu_call *c = v->call;

		if (!c) {
			pthread_cond_wait(&vm->resume_cond, &vm->lock);
			continue;
		}
		/* Work asked of this vCPU's thread while it is parked. */
		v->call = NULL;
		pthread_mutex_unlock(&vm->lock);
		c->result = c->fn(v, c->arg);
		pthread_mutex_lock(&vm->lock);
		c->done = true;
		pthread_cond_broadcast(&vm->parked_cond);
	}
	vm->parked--;
	go_on = vm->result.outcome == SPLITVM_OUTCOME_RUNNING;
	pthread_mutex_unlock(&vm->lock);
	return go_on;
}

/* fn on v's parked thread, which wakes for it; vm->lock held. */
static int vm_call_on_thread(struct splitvm *vm, struct vcpu *v,
			     int (*fn)(struct vcpu *v, void *arg), void *arg)
{
	struct vcpu_call c = {fn, arg, 0, false};

	v->call = &c;
	pthread_cond_broadcast(&vm->resume_cond);
	while (!c.done && vm->result.outcome == SPLITVM_OUTCOME_RUNNING)
		pthread_cond_wait(&vm->parked_cond, &vm->lock);
	v->call = NULL;
	return c.done ? c.result : -ESRCH;
}

int vm_call(struct splitvm *vm, unsigned int cpu,
	    int (*fn)(struct vcpu *v, void *arg), void *arg)
{
	int r;

	pthread_mutex_lock(&vm->lock);
	if (vm->result.outcome != SPLITVM_OUTCOME_RUNNING) {
		r = -ESRCH;
	} else if (vm->started && (!vm->paused || vm->parked < vm->running)) {
		r = -EBUSY;
	} else if (vm->started && (vm_own_thread || sandbox_confined())) {
		/* A VM's threads (this one's or another's) and a control
		 * thread run sandboxed: only a vCPU's own filter allows its
		 * state ioctls. */
		r = vm_call_on_thread(vm, &vm->vcpus[cpu], fn, arg);
	} else {
		/* The vCPUs stay parked, and a start waits, until the call is
		 * done (vm_park()); fn runs unlocked, as it may log through
		 * the host's callback, which may call back into the VM. */
		vm->calls++;
		pthread_mutex_unlock(&vm->lock);
		r = fn(&vm->vcpus[cpu], arg);
		pthread_mutex_lock(&vm->lock);
		if (!--vm->calls)
			pthread_cond_broadcast(&vm->resume_cond);
	}
	pthread_mutex_unlock(&vm->lock);
	return r;
}

int vm_wait_parked(struct splitvm *vm)
{
	int r;

	pthread_mutex_lock(&vm->lock);
	while (vm->paused && vm->parked < vm->running &&
	       vm->result.outcome == SPLITVM_OUTCOME_RUNNING)
		pthread_cond_wait(&vm->parked_cond, &vm->lock);
	r = vm->result.outcome == SPLITVM_OUTCOME_RUNNING ? 0 : -ESRCH;
	pthread_mutex_unlock(&vm->lock);
	return r;
}

int vm_quiet(struct splitvm *vm)
{
	int r = 0;

	pthread_mutex_lock(&vm->lock);
	if (vm->result.outcome != SPLITVM_OUTCOME_RUNNING)
		r = -ESRCH;
	else if (vm->started && (!vm->paused || vm->parked < vm->running))
		r = -EBUSY;
	pthread_mutex_unlock(&vm->lock);
	return r;
}

int vm_pause(struct splitvm *vm)
{
	int r = 0;

	pthread_mutex_lock(&vm->lock);
	if (!vm->started || vm->result.outcome != SPLITVM_OUTCOME_RUNNING)
		r = -ESRCH;
	else if (vm->paused)
		r = -EALREADY;
	if (r) {
		pthread_mutex_unlock(&vm->lock);
		return r;
	}
	vm->paused = true;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_request(&vm->vcpus[i], VCPU_REQ_PAUSE);
	while (vm->parked < vm->running &&
	       vm->result.outcome == SPLITVM_OUTCOME_RUNNING)
		pthread_cond_wait(&vm->parked_cond, &vm->lock);
	if (vm->result.outcome != SPLITVM_OUTCOME_RUNNING)
		r = -ESRCH;
	pthread_mutex_unlock(&vm->lock);
	return r;
}

int vm_resume(struct splitvm *vm)
{
	int r = 0;

	pthread_mutex_lock(&vm->lock);
	if (!vm->started || vm->result.outcome != SPLITVM_OUTCOME_RUNNING)
		r = -ESRCH;
	else if (!vm->paused)
		r = -EALREADY;
	vm->paused = false;
	pthread_cond_broadcast(&vm->resume_cond);
	pthread_mutex_unlock(&vm->lock);
	return r;
}

int vm_reset(struct splitvm *vm)
{
	int r = vm_pause(vm);

	if (r == -EALREADY)
		r = 0; /* already paused by the caller: stays paused after */
	else if (r)
		return r;
	else
		r = 1; /* paused here: resume after */
	irqchip_reset(vm->irqchip);
	for (unsigned int i = 0; i < vm->nr_devices; i++)
		if (vm->devices[i].ops->reset)
			vm->devices[i].ops->reset(vm->devices[i].dev);
	atomic_store(&vm->ram_host_dirty, true);
	if (vm_write_firmware_tables(vm) || vm_load_kernel(vm) < 0)
		vm_fail(vm, -1, -EIO, "reloading the kernel on reset failed");
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		vcpu_drop_guest_requests(&vm->vcpus[i]);
		vcpu_request(&vm->vcpus[i], VCPU_REQ_RESET);
	}
	vm_reset_clears_sleep(vm);
	if (r == 1)
		vm_resume(vm);
	return 0;
}

int vm_start(struct splitvm *vm)
{
	bool io_go = false;
	int r = 0;

	pthread_mutex_lock(&vm->lock);
	while (vm->calls) /* another thread loads a vCPU's state */
		pthread_cond_wait(&vm->resume_cond, &vm->lock);
	if (vm->started) {
		pthread_mutex_unlock(&vm->lock);
		return -EALREADY;
	}
	vm->started = true;
	vm->start_ns = vm_now_ns();
	/*
	 * The vCPUs first: the first instruction is then one thread creation
	 * from here, not two (bench/README.md, #14). A timer a vCPU arms
	 * before the I/O thread runs waits in vm->timers, and the I/O
	 * thread looks at them before it first sleeps.
	 */
	for (unsigned int i = 0; i < vm->nr_vcpus && !r; i++) {
		r = vcpu_start(&vm->vcpus[i]);
		if (!r)
			vm->running++;
	}
	if (!r)
		r = worker_start(vm_io_thread, vm, SANDBOX_IO, vm->sandbox,
				 &vm->io_worker);
	if (r >= 0) {
		io_go = r == 1;
		r = 0;
		vm->io_thread = worker_thread(vm->io_worker);
		vm->io_running = true;
		atomic_store(&vm->io_started, true);
	}
	vm_signal_end_locked(vm); /* stopped before start, no thread left */
	pthread_mutex_unlock(&vm->lock);
	/*
	 * A kept I/O thread (worker.c) is woken unlocked: it may take this
	 * CPU at once, and this thread held up with the lock cost VMs per
	 * second with two threads starting VMs. It cannot be given back
	 * before it runs: vm_join_locked() waits for its vm_io_done().
	 */
	if (io_go)
		worker_go(vm->io_worker);
	if (r)
		vm_fail(vm, -1, r, "starting the VM's threads failed");
	return r;
}

/*
 * Gives the threads of an ended run back to the pool, once. Called with
 * vm->lock held, with every vCPU thread done (vm->running 0): each said
 * so as its last act on the VM (vm_vcpu_done()), as the I/O thread does
 * (vm_io_done()).
 */
static void vm_join_locked(struct splitvm *vm)
{
	if (vm->joined)
		return;
	vm->joined = true;
	while (vm->io_running)
		pthread_cond_wait(&vm->ended, &vm->lock);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		if (atomic_load(&vm->vcpus[i].thread_started))
			worker_release(vm->vcpus[i].worker);
	if (atomic_load(&vm->io_started))
		worker_release(vm->io_worker);
	pthread_mutex_unlock(&vm->lock);
	console_flush(&vm->console);
	pthread_mutex_lock(&vm->lock);
}

int vm_wait(struct splitvm *vm, int64_t timeout_ms, struct splitvm_result *ret)
{
	struct timespec until;
	int r = 0;

	/* Longer than the clock can count: for ever, not a wrapped sum. */
	if (timeout_ms >= 0 &&
	    (uint64_t)timeout_ms > (UINT64_MAX - vm_now_ns()) / 1000000ull)
		timeout_ms = -1;
	if (timeout_ms >= 0) {
		uint64_t t = vm_now_ns() + (uint64_t)timeout_ms * 1000000ull;

		until.tv_sec = (time_t)(t / 1000000000ull);
		until.tv_nsec = (long)(t % 1000000000ull);
	}
	pthread_mutex_lock(&vm->lock);
	if (!vm->started) {
		pthread_mutex_unlock(&vm->lock);
		return -ESRCH;
	}
	while (vm->running > 0 && !r) {
		if (timeout_ms < 0)
			pthread_cond_wait(&vm->ended, &vm->lock);
		else
			r = pthread_cond_timedwait(&vm->ended, &vm->lock,
						   &until);
	}
	if (vm->running > 0) {
		pthread_mutex_unlock(&vm->lock);
		return -ETIMEDOUT;
	}
	vm_join_locked(vm);
	*ret = vm->result;
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

void vm_destroy(struct splitvm *vm)
{
	if (!vm)
		return;
	/* A callback's thread cannot join itself: refused, the VM lives. */
	if (vm_on_own_thread(vm)) {
		log_error(&vm->log, "splitvm_destroy() called from one of the "
				    "VM's own threads (a callback): ignored");
		return;
	}
	if (vm->started) {
		struct splitvm_result res;

		vm_end(vm, SPLITVM_OUTCOME_STOPPED, 0, -1, NULL,
		       "VM destroyed while running");
		vm_wait(vm, -1, &res);
	}
	for (unsigned int i = 0; vm->vcpus && i < vm->nr_vcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	for (unsigned int i = vm->nr_devices; i-- > 0;)
		if (vm->devices[i].ops->destroy)
			vm->devices[i].ops->destroy(vm->devices[i].dev);
	free(vm->devices);
	free(vm->user_devices);
	irqchip_destroy(vm->irqchip);
	vm_release_boot(vm);
	firmware_image_put(vm->firmware);
	bus_free(&vm->pio);
	bus_free(&vm->mmio);
	if (vm->mem.host)
		munmap(vm->mem.host, vm->mem.size);
	free(vm->cpuid);
	if (vm->io_wake_fd >= 0)
		close(vm->io_wake_fd);
	if (vm->end_fd >= 0)
		close(vm->end_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	pthread_cond_destroy(&vm->ended);
	pthread_cond_destroy(&vm->parked_cond);
	pthread_cond_destroy(&vm->resume_cond);
	pthread_mutex_destroy(&vm->timer_lock);
	pthread_mutex_destroy(&vm->console.lock);
	pthread_mutex_destroy(&vm->lock);
	free(vm->msr_index);
	free(vm);
}
