// SPDX-License-Identifier: MIT
/*
 * Snapshots, in memory: a quiet VM's guest RAM (the pages that are not all
 * zero), every vCPU (vcpu_state.c), KVM's clock, the interrupt controller
 * and every device model (their save and load, src/base/device.h), and
 * the way back to them.
 *
 * Taking a snapshot turns on KVM's dirty log of guest RAM. From then on a
 * restore into the VM whose RAM last matched that snapshot copies back
 * only the pages the guest wrote since: the reset in place a fuzzer or a
 * per-test harness loops on. Any other restore drops all of RAM and
 * copies every saved page.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h" /* SPLITVM_VERSION */
#include "snapshot.h"

/* Ids start at 1: a VM's ram_base of 0 names no snapshot. */
static _Atomic uint64_t snapshot_ids = 1;

/* ---- vCPUs ------------------------------------------------------------ */

struct msr_list_call {
	int kvm_fd;
	uint32_t *index;
};

static int call_msr_list(struct vcpu *v, void *arg)
{
	struct msr_list_call *c = arg;

	return vcpu_state_msr_list(v, c->kvm_fd, c->index, VCPU_STATE_MAX_MSRS);
}

/* The MSRs every snapshot of vm keeps: asked of KVM once per VM. */
static int snapshot_msr_list(struct splitvm *vm)
{
	struct msr_list_call c = {vm->kvm_fd, NULL};
	int n;

	if (vm->msr_index)
		return 0;
	c.index = calloc(VCPU_STATE_MAX_MSRS, sizeof(*c.index));
	if (!c.index)
		return -ENOMEM;
	n = vm_call(vm, 0, call_msr_list, &c);
	if (n < 0) {
		free(c.index);
		return n;
	}
	vm->msr_index = c.index;
	vm->nr_msr_index = n;
	return 0;
}

static int call_save(struct vcpu *v, void *arg)
{
	return vcpu_state_save(v, arg);
}

static int call_load(struct vcpu *v, void *arg)
{
	return vcpu_state_load(v, arg);
}

static int snapshot_vcpus(struct splitvm *vm, struct splitvm_snapshot *s)
{
	int r = snapshot_msr_list(vm);

	for (unsigned int i = 0; i < vm->nr_vcpus && !r; i++) {
		struct vcpu_state *st = &s->vcpus[i];

		st->nr_msrs = (uint32_t)vm->nr_msr_index;
		for (uint32_t m = 0; m < st->nr_msrs; m++)
			st->msrs[m].index = vm->msr_index[m];
		r = vm_call(vm, i, call_save, st);
	}
	return r;
}

/* ---- chips and devices ------------------------------------------------ */

/* A state blob from save(), in a buffer that grows until it fits. */
static int snapshot_blob(struct snap_blob *b, void *dev, uint64_t now,
			 int (*save)(void *, void *, size_t, uint64_t))
{
	for (size_t cap = 256; cap <= SNAP_BLOB_MAX; cap *= 2) {
		void *buf = malloc(cap);
		int n;

		if (!buf)
			return -ENOMEM;
		n = save(dev, buf, cap, now);
		if (n >= 0) {
			b->data = buf;
			b->len = (size_t)n;
			return 0;
		}
		free(buf);
		if (n != -ENOSPC)
			return n;
	}
	return -E2BIG;
}

static int irqchip_save_fn(void *chip, void *buf, size_t cap, uint64_t now)
{
	return irqchip_save(chip, buf, cap, now);
}

static int snapshot_devices(struct splitvm *vm, struct splitvm_snapshot *s,
			    uint64_t now)
{
	int r = snapshot_blob(&s->irqchip, vm->irqchip, now, irqchip_save_fn);

	for (unsigned int i = 0; i < vm->nr_devices && !r; i++) {
		const struct device_slot *d = &vm->devices[i];

		if (!(s->device_names[i] = strdup(d->ops->name)))
			return -ENOMEM;
		if (!d->ops->save || !d->ops->load) {
			log_error(&vm->log, "snapshot: the %s device cannot be "
					    "saved", d->ops->name);
			return -ENOTSUP;
		}
		r = snapshot_blob(&s->devices[i], d->dev, now, d->ops->save);
		if (r)
			log_error(&vm->log, "snapshot: saving the %s device "
					    "failed: %s", d->ops->name,
				  strerror(-r));
	}
	return r;
}

/* ---- RAM -------------------------------------------------------------- */

/*
 * Copies the pages of RAM that are not all zero. Pages never touched are
 * not resident (mincore()) and are zero without being read: reading them
 * would map them all.
 */
static int snapshot_ram(struct splitvm *vm, struct splitvm_snapshot *s)
{
	const uint8_t *host = vm->mem.host;
	unsigned char *keep;
	uint64_t n = 0;

	s->nr_pages = vm->mem.size / SNAP_PAGE;
	keep = malloc(s->nr_pages);
	if (!keep)
		return -ENOMEM;
	if (mincore((void *)host, s->nr_pages * SNAP_PAGE, keep) < 0) {
		free(keep);
		return -errno;
	}
	for (uint64_t p = 0; p < s->nr_pages; p++) {
		keep[p] = (keep[p] & 1) &&
			  !mem_is_zero(host + p * SNAP_PAGE, SNAP_PAGE);
		n += keep[p];
	}
	s->pages = malloc((n ? n : 1) * sizeof(*s->pages));
	s->data_size = n * SNAP_PAGE;
	s->data = n ? mmap(NULL, s->data_size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
		    : NULL;
	if (!s->pages || s->data == MAP_FAILED) {
		s->data = NULL;
		free(keep);
		return -ENOMEM;
	}
	for (uint64_t p = 0; p < s->nr_pages; p++)
		if (keep[p]) {
			s->pages[s->nr_saved] = (uint32_t)p;
			memcpy(s->data + SNAP_PAGE * s->nr_saved++,
			       host + p * SNAP_PAGE, SNAP_PAGE);
		}
	free(keep);
	return 0;
}

/* Guest page p as the snapshot has it: saved (found by bisection), or 0. */
static void restore_page(struct splitvm *vm, const struct splitvm_snapshot *s,
			 uint64_t p)
{
	uint8_t *dst = vm->mem.host + p * SNAP_PAGE;
	uint64_t lo = 0, hi = s->nr_saved;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (s->pages[mid] < p)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->nr_saved && s->pages[lo] == p)
		memcpy(dst, s->data + SNAP_PAGE * lo, SNAP_PAGE);
	else
		memset(dst, 0, SNAP_PAGE);
}

/*
 * Takes KVM's dirty log of one memory slot (which clears it): with s, puts
 * back every page the guest wrote since the log was last taken; without,
 * only clears it. first is the slot's first page in vm->mem.
 */
static int dirty_log_slot(struct splitvm *vm, uint32_t slot, uint64_t first,
			  uint64_t pages, const struct splitvm_snapshot *s)
{
	size_t words = (pages + 63) / 64;
	uint64_t *bitmap = calloc(words ? words : 1, sizeof(*bitmap));
	struct kvm_dirty_log log = {.slot = slot, .dirty_bitmap = bitmap};

	if (!bitmap)
		return -ENOMEM;
	if (ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0) {
		int err = -errno;

		free(bitmap);
		return err;
	}
	for (size_t w = 0; s && w < words; w++)
		for (uint64_t bits = bitmap[w]; bits; bits &= bits - 1)
			restore_page(vm, s,
				     first + w * 64 + (uint64_t)__builtin_ctzll(bits));
	free(bitmap);
	return 0;
}

/* The dirty logs of all of RAM: slot 0 below 4 GiB, slot 1 above. */
static int dirty_log(struct splitvm *vm, const struct splitvm_snapshot *s)
{
	uint64_t low = vm->mem.low_size / SNAP_PAGE;
	uint64_t all = vm->mem.size / SNAP_PAGE;
	int r = dirty_log_slot(vm, 0, 0, low, s);

	if (!r && all > low)
		r = dirty_log_slot(vm, 1, low, all - low, s);
	return r;
}

/*
 * From here RAM equals s but for what the dirty log will name: logging on
 * (once), the log emptied, s recorded as the VM's base.
 */
static int ram_based_on(struct splitvm *vm, const struct splitvm_snapshot *s)
{
	int r = vm_ram_dirty_logging(vm);

	if (!r)
		r = dirty_log(vm, NULL);
	vm->ram_base = r ? 0 : s->id;
	atomic_store(&vm->ram_host_dirty, false);
	return r;
}

static int restore_ram(struct splitvm *vm, const struct splitvm_snapshot *s)
{
	if (vm->dirty_logging && vm->ram_base == s->id &&
	    !atomic_load(&vm->ram_host_dirty))
		return dirty_log(vm, s);
	/* A fork of s: its RAM drops back to s's image, shared again. */
	if (vm->ram_image == s->id) {
		if (madvise(vm->mem.host, vm->mem.size, MADV_DONTNEED) < 0)
			return -errno;
		return ram_based_on(vm, s);
	}
	/* Every page: RAM is dropped (zero), then the saved pages copied. */
	guest_mem_zero(&vm->mem, vm->mem.host, vm->mem.size);
	for (uint64_t i = 0; i < s->nr_saved; i++)
		memcpy(vm->mem.host + SNAP_PAGE * s->pages[i],
		       s->data + SNAP_PAGE * i, SNAP_PAGE);
	return ram_based_on(vm, s);
}

/* ---- the whole VM ----------------------------------------------------- */

int snapshot_take(struct splitvm *vm, struct splitvm_snapshot **ret)
{
	struct splitvm_snapshot *s;
	uint64_t now;
	int r = vm_quiet(vm);

	if (r)
		return r;
	/* Asleep in S3, the machine is half-way between its states: what the
	 * vCPUs wait for lives in the core, not in a snapshot. */
	if (atomic_load(&vm->suspended)) {
		log_error(&vm->log, "snapshot: the VM sleeps in ACPI S3");
		return -ENOTSUP;
	}
	s = snapshot_alloc(vm->nr_vcpus, vm->nr_devices);
	if (!s)
		return -ENOMEM;
	s->mem_size = vm->mem.size;
	s->irqchip_mode = irqchip_mode(vm->irqchip);
	pthread_mutex_lock(&vm->timer_lock);
	now = vm_now_ns();
	r = snapshot_vcpus(vm, s);
	if (!r)
		r = snapshot_devices(vm, s, now);
	if (!r && ioctl(vm->vm_fd, KVM_GET_CLOCK, &s->clock) < 0)
		r = -errno;
	s->unclaimed_pio = atomic_load(&vm->pio.unclaimed);
	s->unclaimed_mmio = atomic_load(&vm->mmio.unclaimed);
	if (!r)
		r = snapshot_ram(vm, s);
	if (!r)
		r = ram_based_on(vm, s);
	pthread_mutex_unlock(&vm->timer_lock);
	if (r) {
		snapshot_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

/* Whether s fits vm; the difference goes to the log. */
static bool snapshot_fits(struct splitvm *vm, const struct splitvm_snapshot *s)
{
	if (strcmp(s->version, SPLITVM_VERSION)) {
		log_error(&vm->log, "snapshot: written by splitvm %s, this is "
				    "%s", s->version, SPLITVM_VERSION);
		return false;
	}
	if (s->irqchip_mode != (uint32_t)irqchip_mode(vm->irqchip)) {
		log_error(&vm->log, "snapshot: taken with the %s irqchip",
			  s->irqchip_mode == IRQCHIP_SPLIT ? "split"
							   : "kernel");
		return false;
	}
	if (s->nr_vcpus != vm->nr_vcpus || s->mem_size != vm->mem.size) {
		log_error(&vm->log, "snapshot: taken of %u vCPUs and %llu MiB, "
				    "not %u and %llu",
			  s->nr_vcpus, (unsigned long long)(s->mem_size >> 20),
			  vm->nr_vcpus,
			  (unsigned long long)(vm->mem.size >> 20));
		return false;
	}
	if (s->nr_devices != vm->nr_devices) {
		log_error(&vm->log, "snapshot: taken with %u devices, not %u",
			  s->nr_devices, vm->nr_devices);
		return false;
	}
	for (unsigned int i = 0; i < s->nr_devices; i++)
		if (strcmp(s->device_names[i], vm->devices[i].ops->name)) {
			log_error(&vm->log, "snapshot: device %u is %s, not %s",
				  i, s->device_names[i],
				  vm->devices[i].ops->name);
			return false;
		}
	return true;
}

/*
 * Parked vCPUs are at instruction boundaries (vcpu_exit_unfinished()),
 * with no exit for KVM to finish over RAM or registers. The order: RAM;
 * the devices, whose lines may reach the old chip state and the LAPICs; the
 * vCPUs, LAPICs included, which wipes what those did; the interrupt
 * controller, whose line levels and counters are the snapshot's and which
 * sends what it owed the (now restored) LAPICs; KVM's clock.
 */
static int restore_state(struct splitvm *vm, const struct splitvm_snapshot *s,
			 uint64_t now)
{
	struct kvm_clock_data clock = {.clock = s->clock.clock};
	int r = restore_ram(vm, s);

	for (unsigned int i = 0; i < vm->nr_devices && !r; i++) {
		const struct device_slot *d = &vm->devices[i];

		r = d->ops->load(d->dev, s->devices[i].data,
				 s->devices[i].len, now);
		if (r)
			log_error(&vm->log, "snapshot: loading the %s device "
					    "failed: %s", d->ops->name,
				  strerror(-r));
	}
	for (unsigned int i = 0; i < vm->nr_vcpus && !r; i++)
		r = vm_call(vm, i, call_load, &s->vcpus[i]);
	if (!r)
		r = irqchip_load(vm->irqchip, s->irqchip.data, s->irqchip.len,
				 now);
	if (!r && ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
		r = -errno;
	atomic_store(&vm->pio.unclaimed, s->unclaimed_pio);
	atomic_store(&vm->mmio.unclaimed, s->unclaimed_mmio);
	return r;
}

int snapshot_restore(struct splitvm *vm, const struct splitvm_snapshot *s)
{
	int r = vm_quiet(vm);

	if (r)
		return r;
	/* The same devices as the snapshot's, which could all be saved: they
	 * can all be loaded. */
	if (!snapshot_fits(vm, s))
		return -EINVAL;
	pthread_mutex_lock(&vm->timer_lock);
	r = restore_state(vm, s, vm_now_ns());
	pthread_mutex_unlock(&vm->timer_lock);
	if (r)
		vm_fail(vm, -1, r, "restoring a snapshot failed");
	return r;
}

void snapshot_point(struct splitvm *vm)
{
	struct splitvm_snapshot *s = NULL;
	int r;

	atomic_store(&vm->snapshot_wanted, false);
	r = vm_wait_parked(vm);
	if (r)
		return; /* the run ended: nothing to resume */
	r = snapshot_take(vm, &s);
	if (!r)
		r = snapshot_write_fd(s, vm->snapshot_fd);
	snapshot_free(s);
	if (r)
		log_error(&vm->log, "the guest's snapshot failed: %s",
			  strerror(-r));
	vm_resume(vm);
}

static int image_write(int fd, const struct splitvm_snapshot *s)
{
	if (ftruncate(fd, (off_t)s->mem_size) < 0)
		return -errno;
	for (uint64_t i = 0; i < s->nr_saved; i++) {
		const uint8_t *page = s->data + SNAP_PAGE * i;
		off_t at = (off_t)(SNAP_PAGE * s->pages[i]);

		for (size_t done = 0; done < SNAP_PAGE;) {
			ssize_t n = pwrite(fd, page + done, SNAP_PAGE - done,
					   at + (off_t)done);

			if (n < 0 && errno != EINTR)
				return -errno;
			done += n > 0 ? (size_t)n : 0;
		}
	}
	return 0;
}

int snapshot_ram_image(struct splitvm_snapshot *s)
{
	int r = 0;

	pthread_mutex_lock(&s->image_lock);
	if (s->image_fd < 0) {
		int fd = memfd_create("splitvm-snapshot", MFD_CLOEXEC);

		r = fd < 0 ? -errno : image_write(fd, s);
		if (!r)
			s->image_fd = fd;
		else if (fd >= 0)
			close(fd);
	}
	if (!r)
		r = s->image_fd;
	pthread_mutex_unlock(&s->image_lock);
	return r;
}

struct splitvm_snapshot *snapshot_alloc(unsigned int vcpus,
					unsigned int devices)
{
	struct splitvm_snapshot *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->id = atomic_fetch_add(&snapshot_ids, 1);
	s->image_fd = -1;
	pthread_mutex_init(&s->image_lock, NULL);
	snprintf(s->version, sizeof(s->version), "%s", SPLITVM_VERSION);
	s->nr_vcpus = vcpus;
	s->nr_devices = devices;
	s->vcpus = calloc(vcpus ? vcpus : 1, sizeof(*s->vcpus));
	s->devices = calloc(devices + 1, sizeof(*s->devices));
	s->device_names = calloc(devices + 1, sizeof(*s->device_names));
	if (!s->vcpus || !s->devices || !s->device_names) {
		snapshot_free(s);
		return NULL;
	}
	return s;
}

void snapshot_free(struct splitvm_snapshot *s)
{
	if (!s)
		return;
	for (unsigned int i = 0; s->devices && i < s->nr_devices; i++)
		free(s->devices[i].data);
	for (unsigned int i = 0; s->device_names && i < s->nr_devices; i++)
		free(s->device_names[i]);
	free(s->devices);
	free(s->device_names);
	free(s->irqchip.data);
	free(s->vcpus);
	free(s->pages);
	if (s->data)
		munmap(s->data, s->data_size);
	if (s->image_fd >= 0)
		close(s->image_fd);
	pthread_mutex_destroy(&s->image_lock);
	free(s);
}
