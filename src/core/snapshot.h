/* SPDX-License-Identifier: MIT */
/*
 * Snapshots of a VM, in memory: take one of a paused VM, and put a VM back
 * to one (include/splitvm.h, "Snapshots", says what they hold).
 */
#ifndef SPLITVM_SNAPSHOT_H
#define SPLITVM_SNAPSHOT_H

#include "vcpu_state.h"
#include "vm.h"

#define SNAP_PAGE 4096ull
#define SNAP_BLOB_MAX (1u << 20)  /* more than any device's state */

struct snap_blob {
	void *data;
	size_t len;
};

struct splitvm_snapshot {
	/* Which snapshot this is: what a VM's ram_base names. */
	uint64_t id;
	/* Who wrote it, and the configuration it fits. */
	char version[32];
	unsigned int nr_vcpus;
	uint64_t mem_size;
	uint32_t irqchip_mode; /* enum irqchip_mode */
	unsigned int nr_devices;
	char **device_names;

	struct vcpu_state *vcpus;
	struct kvm_clock_data clock;
	uint64_t unclaimed_pio, unclaimed_mmio; /* the buses' counters */
	struct snap_blob irqchip;
	struct snap_blob *devices;

	/* RAM: nr_pages pages, of which the nr_saved in pages[] (ascending)
	 * are not all zero; pages[i]'s bytes are data + SNAP_PAGE * i. */
	uint64_t nr_pages;
	uint64_t nr_saved;
	uint32_t *pages;
	uint8_t *data;
	size_t data_size;
	/* RAM as a file, for forks (snapshot_ram_image()), or -1. */
	pthread_mutex_t image_lock;
	int image_fd;
};


/*
 * Takes a snapshot of vm, which must be quiet: never started, or paused
 * (every vCPU parked). Returns 0 and *ret, or -EBUSY (running), -ESRCH
 * (ended), -ENOTSUP (a device that cannot be saved: the log names it),
 * -ENOMEM, or an errno from KVM.
 */
int snapshot_take(struct splitvm *vm, struct splitvm_snapshot **ret);

/*
 * Puts vm back to s: RAM, vCPUs, clock, interrupt controller, devices. vm
 * must be quiet and configured as the snapshot's VM was (-EINVAL and the
 * difference in the log otherwise). A restore that fails after it changed
 * the VM ends the run with outcome ERROR.
 */
int snapshot_restore(struct splitvm *vm, const struct splitvm_snapshot *s);

void snapshot_free(struct splitvm_snapshot *s);

/*
 * The snapshot's RAM as a file for forks to map copy-on-write: a memfd
 * with the saved pages at their places (the rest holes, read as zero),
 * made by the first call and kept with s. Any thread. Returns the
 * descriptor (s keeps it) or a negative errno.
 */
int snapshot_ram_image(struct splitvm_snapshot *s);

/*
 * The guest's snapshot point, on the I/O thread: waits for the vCPUs that
 * the request paused to park, writes the snapshot to vm->snapshot_fd and
 * resumes the VM. What fails goes to the log; the guest runs on.
 */
void snapshot_point(struct splitvm *vm);

/* An empty snapshot with room for vcpus vCPUs and devices devices (their
 * names NULL), or NULL. */
struct splitvm_snapshot *snapshot_alloc(unsigned int vcpus,
					unsigned int devices);

/*
 * The snapshot file (snapshot_file.c): a flattened device tree with the
 * state, then the saved RAM pages from a page boundary. write returns 0
 * or a negative errno; read parses a file that may be hostile, checking
 * its structure (-EINVAL for one snapshot_write() could not have written)
 * and leaving what the state means to snapshot_restore().
 */
int snapshot_write(const struct splitvm_snapshot *s, const char *path);
/* The same to fd, from offset 0, the file then cut to the snapshot. */
int snapshot_write_fd(const struct splitvm_snapshot *s, int fd);
int snapshot_read(const char *path, struct splitvm_snapshot **ret);
/* snapshot_read() of a file that is all in memory (the fuzzer's way). */
int snapshot_parse(const void *file, size_t size,
		   struct splitvm_snapshot **ret);

#endif /* SPLITVM_SNAPSHOT_H */
