// SPDX-License-Identifier: MIT
/* The raw floor's VM: only the KVM ioctls a benchmark path needs. */
#include "kvm_min.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The guest's interface (bench/guest/bench.c). */
#define PORT_COM1 0x3f8
#define PORT_COM1_LSR 0x3fd
#define PORT_DEBUG_EXIT 0xf4
#define PORT_TESTDEV_LINE 0x2000
#define MMIO_TRIGGER 0xfe800000u /* the bench guest's msi/nmi trigger */
#define EDGE_LINE 14
#define LEVEL_LINE 15
#define PIC_IRQ 5
#define PIC_VECTOR (0x50 + PIC_IRQ)
#define EDGE_VECTOR 0x40
#define LEVEL_VECTOR 0x41
#define MSI_VECTOR 0x42
#define MSI_GSI 24 /* past the 24 userspace-IOAPIC GSIs: no EOI exits */
#define IOAPIC_GSIS 24

#define TSS_ADDR 0xfffbd000
#define MB_INFO_ADDR 0x20000
#define MB_MAGIC 0x2BADB002
#define MB_INFO_MEMORY (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define LSR_THRE_TEMT 0x60

static int fail(const char *what)
{
	int r = -errno;

	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	return r ? r : -EINVAL;
}

static int enable_split_irqchip(struct fvm *vm)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_SPLIT_IRQCHIP,
		.args[0] = IOAPIC_GSIS,
	};

	return ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0
		       ? fail("KVM_CAP_SPLIT_IRQCHIP")
		       : 0;
}

/*
 * What the userspace IOAPIC of a real VMM would program for the guest's
 * redirection entries, fixed in advance: line 14 edge and line 15 level
 * (trigger bit 15: KVM then exits on its EOI, KVM-NOTES rule 2) to APIC 0,
 * and an edge MSI on a GSI of its own for the irqfd.
 */
static int set_routes(struct fvm *vm)
{
	struct {
		struct kvm_irq_routing r;
		struct kvm_irq_routing_entry e[3];
	} t = {.r.nr = 3};
	const struct {
		uint32_t gsi, data;
	} map[3] = {
		{EDGE_LINE, EDGE_VECTOR},
		{LEVEL_LINE, LEVEL_VECTOR | 1u << 15 | 1u << 14},
		{MSI_GSI, MSI_VECTOR},
	};

	for (int i = 0; i < 3; i++) {
		t.e[i].gsi = map[i].gsi;
		t.e[i].type = KVM_IRQ_ROUTING_MSI;
		t.e[i].u.msi.address_lo = 0xfee00000;
		t.e[i].u.msi.data = map[i].data;
	}
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, &t) < 0)
		return fail("KVM_SET_GSI_ROUTING");
	vm->msi_eventfd = eventfd(0, EFD_CLOEXEC);
	if (vm->msi_eventfd < 0)
		return fail("eventfd");
	struct kvm_irqfd irqfd = {.fd = (uint32_t)vm->msi_eventfd,
				  .gsi = MSI_GSI};
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0)
		return fail("KVM_IRQFD");
	return 0;
}

static int set_memory(struct fvm *vm, uint64_t size)
{
	vm->mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		return fail("mmap guest RAM");
	}
	vm->mem_size = size;
	struct kvm_userspace_memory_region region = {
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)vm->mem,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail("KVM_SET_USER_MEMORY_REGION");
	return 0;
}

/* Copies the ELF32's PT_LOAD segments to their physical addresses. */
static int load_elf32(struct fvm *vm, const uint8_t *img, size_t len,
		      uint32_t *ret_entry)
{
	const Elf32_Ehdr *eh = (const void *)img;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS32 ||
	    eh->e_phentsize != sizeof(Elf32_Phdr) ||
	    eh->e_phoff > len ||
	    (len - eh->e_phoff) / sizeof(Elf32_Phdr) < eh->e_phnum) {
		fprintf(stderr, "floor: kernel: not a multiboot ELF32\n");
		return -ENOEXEC;
	}
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		const Elf32_Phdr *ph =
		    (const void *)(img + eh->e_phoff + i * sizeof(*ph));

		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_filesz > ph->p_memsz || ph->p_offset > len ||
		    ph->p_filesz > len - ph->p_offset ||
		    ph->p_paddr > vm->mem_size ||
		    ph->p_memsz > vm->mem_size - ph->p_paddr) {
			fprintf(stderr, "floor: kernel: bad segment %u\n", i);
			return -ENOEXEC;
		}
		memcpy(vm->mem + ph->p_paddr, img + ph->p_offset,
		       ph->p_filesz);
		/* Fresh anonymous memory is zero: no memset of the rest. */
	}
	*ret_entry = eh->e_entry;
	return 0;
}

static int load_kernel(struct fvm *vm, const char *path, const char *cmdline,
		       uint32_t *ret_entry)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;
	uint8_t *img;

	if (fd < 0)
		return fail(path);
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		close(fd);
		return fail(path);
	}
	img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (img == MAP_FAILED)
		return fail(path);
	r = load_elf32(vm, img, (size_t)st.st_size, ret_entry);
	munmap(img, (size_t)st.st_size);
	if (r)
		return r;

	/*
	 * Multiboot 0.6.96 section 3.3: memory (flag 0), cmdline (flag 2).
	 * The command line starts with the kernel's path, as QEMU and
	 * splitvm write it: the guest parses it byte by byte (interpreted
	 * on the PVM hosts), so a shorter one here would be guest work the
	 * floor skips, not VMM cost splitvm adds.
	 */
	uint32_t *info = (uint32_t *)(vm->mem + MB_INFO_ADDR);
	char *cl = (char *)(vm->mem + MB_INFO_ADDR + 0x100);

	snprintf(cl, 4096, "%s %s", path, cmdline);
	info[0] = MB_INFO_MEMORY | MB_INFO_CMDLINE;
	info[1] = 640;
	info[2] = (uint32_t)((vm->mem_size >> 10) - 1024);
	info[4] = MB_INFO_ADDR + 0x100;
	return 0;
}

/* CPUID as KVM supports it, with this vCPU's APIC ID (leaf 1 EBX). */
static int set_cpuid(struct fvm *vm, struct fcpu *c, struct kvm_cpuid2 *cpuid)
{
	for (unsigned int i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 1)
			cpuid->entries[i].ebx = (cpuid->entries[i].ebx &
						 0x00ffffff) |
						c->index << 24;
	return ioctl(c->fd, KVM_SET_CPUID2, cpuid) < 0 ? fail("KVM_SET_CPUID2")
						       : 0;
}

static struct kvm_cpuid2 *get_cpuid(struct fvm *vm)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));

	if (!c)
		return NULL;
	c->nent = 256;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		fail("KVM_GET_SUPPORTED_CPUID");
		free(c);
		return NULL;
	}
	return c;
}

/* Multiboot entry state: flat 32-bit protected mode, paging off. */
static int set_entry_state(struct fcpu *c, uint32_t entry)
{
	struct kvm_sregs s;
	struct kvm_regs regs = {
		.rflags = 2,
		.rip = entry,
		.rax = MB_MAGIC,
		.rbx = MB_INFO_ADDR,
	};
	struct kvm_segment flat = {
		.limit = 0xffffffff, .present = 1, .s = 1, .db = 1, .g = 1,
	};

	if (ioctl(c->fd, KVM_GET_SREGS, &s) < 0)
		return fail("KVM_GET_SREGS");
	s.cs = flat;
	s.cs.selector = 0x08;
	s.cs.type = 0xb;
	s.ds = flat;
	s.ds.selector = 0x10;
	s.ds.type = 0x3;
	s.es = s.fs = s.gs = s.ss = s.ds;
	s.cr0 = 0x11; /* PE | ET */
	s.cr4 = 0;
	s.efer = 0;
	if (ioctl(c->fd, KVM_SET_SREGS, &s) < 0)
		return fail("KVM_SET_SREGS");
	if (ioctl(c->fd, KVM_SET_REGS, &regs) < 0)
		return fail("KVM_SET_REGS");
	return 0;
}

static int create_vcpus(struct fvm *vm, uint32_t entry)
{
	struct kvm_cpuid2 *cpuid = get_cpuid(vm);
	int r = 0;

	if (!cpuid)
		return -ENOMEM;
	for (unsigned int i = 0; i < vm->cpus && !r; i++) {
		struct fcpu *c = &vm->cpu[i];

		c->vm = vm;
		c->index = i;
		c->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, i);
		if (c->fd < 0) {
			r = fail("KVM_CREATE_VCPU");
			break;
		}
		c->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, c->fd, 0);
		if (c->run == MAP_FAILED) {
			c->run = NULL;
			r = fail("mmap kvm_run");
			break;
		}
		r = set_cpuid(vm, c, cpuid);
		if (!r && i == 0)
			r = set_entry_state(c, entry);
	}
	free(cpuid);
	return r;
}

int fvm_create(struct fvm *vm, const char *kernel, const char *cmdline,
	       unsigned int cpus, uint64_t mem_size)
{
	uint32_t entry;
	int r, size;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->msi_eventfd = -1;
	for (unsigned int i = 0; i < FVM_MAX_CPUS; i++)
		vm->cpu[i].fd = -1;
	if (cpus < 1 || cpus > FVM_MAX_CPUS)
		return -EINVAL;
	vm->cpus = cpus;
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return fail("/dev/kvm");
	size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size <= 0)
		return fail("KVM_GET_VCPU_MMAP_SIZE");
	vm->run_size = (size_t)size;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return fail("KVM_CREATE_VM");
	/* Intel without unrestricted guest needs it for real mode (APs). */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, TSS_ADDR) < 0)
		return fail("KVM_SET_TSS_ADDR");
	r = enable_split_irqchip(vm);
	if (!r)
		r = set_memory(vm, mem_size);
	if (!r)
		r = set_routes(vm);
	if (!r)
		r = load_kernel(vm, kernel, cmdline, &entry);
	if (!r)
		r = create_vcpus(vm, entry);
	return r;
}

/* ---- Running ---- */

static void finish(struct fvm *vm, int status)
{
	if (!__sync_bool_compare_and_swap(&vm->done, 0, 1))
		return;
	vm->status = status;
	/* The other vCPUs may sleep in HLT: they are cancelled at destroy. */
}

static void line_write(struct fcpu *c, unsigned int line, uint8_t level)
{
	struct fvm *vm = c->vm;
	struct kvm_irq_level irq = {.irq = line, .level = 1};

	if (line == PIC_IRQ && level) {
		/* ExtINT: inject at an open window (KVM-NOTES rule 5). */
		if (c->run->ready_for_interrupt_injection) {
			struct kvm_interrupt in = {.irq = PIC_VECTOR};

			ioctl(c->fd, KVM_INTERRUPT, &in);
		} else {
			c->run->request_interrupt_window = 1;
		}
		return;
	}
	if (line == LEVEL_LINE)
		vm->level_high = level;
	if ((line == EDGE_LINE || line == LEVEL_LINE) && level)
		ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq);
}

static void pio_out(struct fcpu *c, uint16_t port, uint32_t v)
{
	if (port == PORT_DEBUG_EXIT) {
		finish(c->vm, (int)(((v << 1) | 1) & 0xff));
	} else if (port == PORT_COM1) {
		if (c->vm->echo)
			putchar((int)(v & 0xff));
		if ((v & 0xff) == '\n')
			__atomic_add_fetch(&c->vm->lines, 1, __ATOMIC_SEQ_CST);
	} else if (port >= PORT_TESTDEV_LINE && port < PORT_TESTDEV_LINE + 24) {
		line_write(c, port - PORT_TESTDEV_LINE, (uint8_t)v);
	}
}

/*
 * The bench guest's trigger: 1 sends the MSI (an irqfd), 2 an NMI, 3 an
 * MSI with delivery mode NMI to APIC 0.
 */
static void trigger(struct fcpu *c, uint8_t v)
{
	struct kvm_msi nmi = {.address_lo = 0xfee00000u, .data = 0x400};
	uint64_t one = 1;

	if (v == 1 && write(c->vm->msi_eventfd, &one, 8) != 8)
		finish(c->vm, 126);
	if (v == 2)
		ioctl(c->fd, KVM_NMI);
	if (v == 3)
		ioctl(c->vm->vm_fd, KVM_SIGNAL_MSI, &nmi);
}

static void handle_io(struct fcpu *c)
{
	struct kvm_run *run = c->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		if (run->io.direction == KVM_EXIT_IO_OUT) {
			uint32_t v = 0;

			memcpy(&v, data, run->io.size);
			pio_out(c, run->io.port, v);
		} else {
			memset(data, 0xff, run->io.size);
			if (run->io.port == PORT_COM1_LSR)
				data[0] = LSR_THRE_TEMT;
		}
	}
}

bool fvm_handle_exit(struct fcpu *c)
{
	struct kvm_run *run = c->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(c);
		return true;
	case KVM_EXIT_MMIO:
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
		else if (run->mmio.phys_addr == MMIO_TRIGGER)
			trigger(c, run->mmio.data[0]);
		return true;
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		run->request_interrupt_window = 0;
		line_write(c, PIC_IRQ, 1);
		return true;
	case KVM_EXIT_IOAPIC_EOI:
		/* The userspace IOAPIC's job: re-deliver a line still high. */
		if (run->eoi.vector == LEVEL_VECTOR && c->vm->level_high)
			line_write(c, LEVEL_LINE, 1);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SHUTDOWN:
		finish(c->vm, 4);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		finish(c->vm, 6);
		return false;
	default:
		fprintf(stderr, "floor: vCPU %u: exit reason %u\n", c->index,
			run->exit_reason);
		finish(c->vm, 8);
		return false;
	}
}

static void *vcpu_loop(void *arg)
{
	struct fcpu *c = arg;

	while (!c->vm->done) {
		if (ioctl(c->fd, KVM_RUN, 0) < 0) {
			/* EAGAIN once after INIT (KVM-NOTES rule 9). */
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fail("KVM_RUN");
			finish(c->vm, 126);
			break;
		}
		if (!fvm_handle_exit(c))
			break;
	}
	return NULL;
}

int fvm_start(struct fvm *vm)
{
	for (unsigned int i = 0; i < vm->cpus; i++) {
		int r = pthread_create(&vm->cpu[i].thread, NULL, vcpu_loop,
				       &vm->cpu[i]);
		if (r) {
			errno = r;
			return fail("pthread_create");
		}
	}
	return 0;
}

static void no_op(int sig)
{
}

/* Ends the other vCPUs: halted ones sleep in KVM_RUN (KVM-NOTES rule 6). */
static void kick_aps(struct fvm *vm)
{
	for (unsigned int i = 1; i < vm->cpus; i++) {
		vm->cpu[i].run->immediate_exit = 1;
		pthread_kill(vm->cpu[i].thread, SIGUSR1);
		pthread_join(vm->cpu[i].thread, NULL);
	}
}

int fvm_run(struct fvm *vm)
{
	struct sigaction sa = {.sa_handler = no_op};

	sigaction(SIGUSR1, &sa, NULL);
	for (unsigned int i = 1; i < vm->cpus; i++) {
		int r = pthread_create(&vm->cpu[i].thread, NULL, vcpu_loop,
				       &vm->cpu[i]);
		if (r) {
			errno = r;
			fail("pthread_create");
			vm->cpus = i;
			finish(vm, 126);
			kick_aps(vm);
			return 126;
		}
	}
	vcpu_loop(&vm->cpu[0]);
	kick_aps(vm);
	return vm->status;
}

void fvm_destroy(struct fvm *vm)
{
	for (unsigned int i = 0; i < FVM_MAX_CPUS; i++) {
		if (vm->cpu[i].run)
			munmap(vm->cpu[i].run, vm->run_size);
		if (vm->cpu[i].fd >= 0)
			close(vm->cpu[i].fd);
	}
	if (vm->msi_eventfd >= 0)
		close(vm->msi_eventfd);
	if (vm->mem)
		munmap(vm->mem, vm->mem_size);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
}

unsigned long fvm_tsc_khz(void)
{
	struct fvm vm;
	long khz = 0;

	memset(&vm, 0, sizeof(vm));
	vm.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm.kvm_fd < 0)
		return 0;
	vm.vm_fd = ioctl(vm.kvm_fd, KVM_CREATE_VM, 0);
	if (vm.vm_fd >= 0) {
		int fd = ioctl(vm.vm_fd, KVM_CREATE_VCPU, 0);

		if (fd >= 0) {
			khz = ioctl(fd, KVM_GET_TSC_KHZ, 0);
			close(fd);
		}
		close(vm.vm_fd);
	}
	close(vm.kvm_fd);
	return khz > 0 ? (unsigned long)khz : 0;
}
