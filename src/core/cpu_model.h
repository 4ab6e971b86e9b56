/* SPDX-License-Identifier: MIT */
/* CPU models and feature flags in QEMU's -cpu syntax, made into CPUID. */
#ifndef SPLITVM_CPU_MODEL_H
#define SPLITVM_CPU_MODEL_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "log.h"

#define CPU_SPEC_MAX_FLAGS 64

struct cpu_model;

/* What a -cpu string asks for, checked but not yet applied. */
struct cpu_spec {
	const struct cpu_model *model; /* never NULL after parsing */
	struct {
		uint16_t feature; /* index into the flag table */
		bool on;
	} flags[CPU_SPEC_MAX_FLAGS];
	unsigned int nr_flags;
	char vendor[13];	  /* "": the model's */
	unsigned int phys_bits;	  /* 0: the model's default */
	bool host_phys_bits;	  /* 0x80000008 EAX[7:0] as the host's */
	bool enforce;		  /* a flag KVM cannot give is an error */
	bool unmigratable;	  /* migratable=off: host bits QEMU hides */
};

/*
 * Parses "MODEL[,+flag|,-flag|,flag=on|off|,vendor=S|,phys-bits=N|...]"
 * (NULL or "": host). QEMU takes '_' for '-' in names, and so does this.
 * Returns 0 or -EINVAL, with one error line naming the model, flag or
 * value at fault.
 */
int cpu_spec_parse(const char *s, struct cpu_spec *ret,
		   const struct logger *lg);

/*
 * Turns c, KVM's supported CPUID (KVM_GET_SUPPORTED_CPUID, with leaf 1
 * ECX's TSC-deadline bit set when KVM_CAP_TSC_DEADLINE_TIMER is there),
 * into the guest's: the model's vendor, signature, levels and features
 * (those KVM cannot give dropped), then the flags, then x2APIC and the
 * hypervisor bit as QEMU sets them under KVM. Entries past the model's
 * levels are removed. A requested flag that KVM cannot give is dropped
 * with one warning line (an error with "enforce").
 * Returns 0 or -EINVAL (enforce).
 */
int cpu_spec_apply(const struct cpu_spec *spec, struct kvm_cpuid2 *c,
		   const struct logger *lg);

/* True when the guest's CPUID (after cpu_spec_apply()) offers x2APIC. */
bool cpu_has_x2apic(const struct kvm_cpuid2 *c);

/* Model index i's name and description; NULL past the last one. */
const char *cpu_model_name(unsigned int i, const char **ret_desc);
/* Flag index i's QEMU name; NULL past the last one. */
const char *cpu_flag_name(unsigned int i);

#endif /* SPLITVM_CPU_MODEL_H */
