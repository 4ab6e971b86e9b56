/* SPDX-License-Identifier: MIT */
/* The contents of a struct splitvm_config, shared by the API and the VM. */
#ifndef SPLITVM_VM_CONFIG_H
#define SPLITVM_VM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu_model.h"
#include "log.h"
#include "splitvm.h"

#define CONFIG_MAX_MODULES 64
#define CONFIG_MAX_USER_DEVICES 32
#define CONFIG_MAX_CMDLINE 4095
#define CONFIG_MAX_CPUS 255
#define CONFIG_MIN_MEMORY (2ull << 20)
#define CONFIG_MAX_MEMORY (1ull << 40)

/* A device of the embedder's (splitvm_config_add_device()). */
struct user_device {
	enum splitvm_space space;
	uint64_t base;
	uint64_t size;
	struct splitvm_device_ops ops;
	void *userdata;
};

struct splitvm_config {
	char *kernel;
	char *initrd;
	char *modules[CONFIG_MAX_MODULES];
	unsigned int nr_modules;
	char *cmdline;
	unsigned int cpus;
	uint64_t memory;
	uint64_t timeout_ms;
	int serial_out_fd;
	int serial_in_fd;
	int snapshot_fd; /* where the guest's snapshot requests go, or -1 */
	char *restore;	 /* a snapshot file splitvm_create() restores */
	/* Guest RAM mapped copy-on-write from this file (a snapshot's RAM
	 * image, splitvm_fork()), or -1: anonymous memory. */
	int ram_fd;
	uint64_t ram_image; /* the snapshot whose image ram_fd is */
	splitvm_console_fn console_fn;
	void *console_data;
	struct logger log;
	int kick_signal;
	enum splitvm_irqchip irqchip;
	unsigned int ioapic_pins;
	uint8_t ioapic_version;
	bool pit;
	bool pic;
	bool rtc;
	bool edu; /* QEMU's edu PCI device */
	struct cpu_spec cpu;
	struct user_device user_devices[CONFIG_MAX_USER_DEVICES];
	unsigned int nr_user_devices;
	enum splitvm_sandbox sandbox;
	unsigned int event_mask;
	splitvm_event_fn event_fn;
	void *event_data;
};

#endif /* SPLITVM_VM_CONFIG_H */
