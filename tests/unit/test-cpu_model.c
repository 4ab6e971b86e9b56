// SPDX-License-Identifier: MIT
/* -cpu strings: parsed as QEMU does, made into the CPUID the guest reads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_model.h"
#include "unit.h"

#define EXT 0x80000000u
#define X2APIC (1u << 21)
#define TSC_DEADLINE (1u << 24)
#define HYPERVISOR (1u << 31)
#define VMX (1u << 5)
#define UMIP (1u << 2)
#define PCID (1u << 17)
#define INVPCID (1u << 10)
/* qemu64's CPUID.80000001H:EDX: LM, NX, SYSCALL. */
#define E1_EDX_QEMU64 0x20100800u

/* The log lines a parse or apply wrote, one after another. */
static char logged[2048];

static void collect(void *userdata, enum splitvm_log_level level,
		    const char *line)
{
	size_t n = strlen(logged);

	snprintf(logged + n, sizeof(logged) - n, "%s%s\n",
		 level == SPLITVM_LOG_ERROR ? "error: " : "warning: ", line);
}

static const struct logger lg = { collect, NULL, SPLITVM_LOG_DEBUG };

/*
 * A host as KVM_GET_SUPPORTED_CPUID could report it: AMD, leaves to 0xd
 * and 0x80000008, x2APIC, TSC deadline (the VMM adds it), UMIP, PCID and
 * INVPCID, 48 physical address bits; no VMX.
 */
static struct kvm_cpuid2 *host(void)
{
	static const struct kvm_cpuid_entry2 e[] = {
		{ .function = 0, .eax = 0x10, .ebx = 0x68747541,
		  .edx = 0x69746e65, .ecx = 0x444d4163 }, /* AuthenticAMD */
		{ .function = 1, .eax = 0xa00f11, .ebx = 0x800,
		  .ecx = X2APIC | TSC_DEADLINE | PCID | 1, .edx = 0x178bfbff },
		{ .function = 7, .index = 0,
		  .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
		  .ebx = INVPCID | 1, .ecx = UMIP },
		{ .function = 0xb, .index = 0,
		  .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX },
		{ .function = 0xd, .index = 0,
		  .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 7 },
		{ .function = 0x10 },
		{ .function = 0x40000000, .eax = 0x40000001 },
		{ .function = 0x40000001, .eax = 0x01007afb },
		{ .function = EXT, .eax = EXT | 0x21, .ebx = 0x68747541,
		  .edx = 0x69746e65, .ecx = 0x444d4163 },
		{ .function = EXT | 1, .ecx = 0x75c237fb, .edx = 0x2fd3fbff },
		{ .function = EXT | 2, .eax = 0x20444d41 },
		{ .function = EXT | 8, .eax = 0x3030, .ebx = 0x10 },
		{ .function = EXT | 0x21 },
	};
	size_t n = sizeof(e) / sizeof(e[0]);
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(e[0]));

	ck_assert_ptr_nonnull(c);
	c->nent = (uint32_t)n;
	memcpy(c->entries, e, sizeof(e));
	return c;
}

static struct kvm_cpuid_entry2 *leaf(struct kvm_cpuid2 *c, uint32_t fn)
{
	for (unsigned int i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn)
			return &c->entries[i];
	return NULL;
}

/* The guest's CPUID for spec; the test fails if it is refused. */
static struct kvm_cpuid2 *guest(const char *spec)
{
	struct kvm_cpuid2 *c = host();
	struct cpu_spec s;

	logged[0] = 0;
	ck_assert_int_eq(cpu_spec_parse(spec, &s, &lg), 0);
	ck_assert_int_eq(cpu_spec_apply(&s, c, &lg), 0);
	return c;
}

static void vendor(struct kvm_cpuid2 *c, uint32_t fn, char out[13])
{
	struct kvm_cpuid_entry2 *e = leaf(c, fn);

	ck_assert_ptr_nonnull(e);
	memcpy(out, &e->ebx, 4);
	memcpy(out + 4, &e->edx, 4);
	memcpy(out + 8, &e->ecx, 4);
	out[12] = 0;
}

START_TEST(cpu_model_host_is_what_kvm_offers_plus_x2apic)
{
	struct kvm_cpuid2 *c = guest("host"), *h = host();

	ck_assert_uint_eq(c->nent, h->nent);
	ck_assert_uint_eq(leaf(c, 1)->ecx, leaf(h, 1)->ecx | HYPERVISOR);
	ck_assert_uint_eq(leaf(c, 7)->ebx, leaf(h, 7)->ebx);
	ck_assert_uint_eq(leaf(c, EXT | 8)->eax & 0xff, 0x30);
	ck_assert_str_eq(logged, "");
	free(c);
	free(h);
	c = guest(NULL); /* the default */
	ck_assert_uint_eq(leaf(c, 1)->ecx & X2APIC, X2APIC);
	free(c);
}
END_TEST

START_TEST(cpu_model_qemu64_is_qemus)
{
	struct kvm_cpuid2 *c = guest("qemu64");
	char v[13];

	/* The host's vendor, as QEMU leaves it under KVM. */
	vendor(c, 0, v);
	ck_assert_str_eq(v, "AuthenticAMD");
	vendor(c, EXT, v);
	ck_assert_str_eq(v, "AuthenticAMD");
	/* Family 15, model 107, stepping 1. */
	ck_assert_uint_eq(leaf(c, 1)->eax, 0x60fb1);
	ck_assert_uint_eq(leaf(c, 0)->eax, 0xd);
	ck_assert_uint_eq(leaf(c, EXT)->eax, EXT | 0xa);
	/* SSE3 and CX16 asked, CX16 not offered; x2APIC and the hypervisor
	 * bit added, as QEMU does under KVM; no PCID, no TSC deadline. */
	ck_assert_uint_eq(leaf(c, 1)->ecx, 1 | X2APIC | HYPERVISOR);
	ck_assert_uint_eq(leaf(c, 7)->ebx, 0);
	/* Leaves past 0xd and 0x8000000a are gone; KVM's stay. */
	ck_assert_ptr_null(leaf(c, 0x10));
	ck_assert_ptr_null(leaf(c, EXT | 0x21));
	ck_assert_ptr_nonnull(leaf(c, 0x40000001));
	ck_assert_uint_eq(leaf(c, EXT | 8)->eax & 0xff, 40);
	ck_assert(!memcmp(&leaf(c, EXT | 2)->eax, "QEMU", 4));
	free(c);
}
END_TEST

START_TEST(cpu_model_flags_set_and_clear_bits)
{
	struct kvm_cpuid2 *c = guest("qemu64,+x2apic,+tsc-deadline");

	ck_assert_uint_eq(leaf(c, 1)->ecx & (X2APIC | TSC_DEADLINE),
			  X2APIC | TSC_DEADLINE);
	free(c);
	/* xapic: x2APIC really hidden. */
	c = guest("qemu64,-x2apic,+tsc-deadline");
	ck_assert_uint_eq(leaf(c, 1)->ecx & X2APIC, 0);
	ck_assert(!cpu_has_x2apic(c));
	free(c);
	c = guest("qemu64,pcid=on,invpcid=on,x2apic=off");
	ck_assert_uint_eq(leaf(c, 1)->ecx & (PCID | X2APIC), PCID);
	ck_assert_uint_eq(leaf(c, 7)->ebx, INVPCID);
	free(c);
	c = guest("host,-pcid,-invpcid");
	ck_assert_uint_eq(leaf(c, 1)->ecx & PCID, 0);
	ck_assert_uint_eq(leaf(c, 7)->ebx & INVPCID, 0);
	free(c);
	/* QEMU's '_' and '-' are the same in a name. */
	c = guest("qemu64,+tsc_deadline");
	ck_assert_uint_eq(leaf(c, 1)->ecx & TSC_DEADLINE, TSC_DEADLINE);
	free(c);
}
END_TEST

START_TEST(cpu_model_raises_the_level_for_a_flag)
{
	/* Opteron_G1 stops at leaf 5; +umip needs leaf 7, as in QEMU. */
	struct kvm_cpuid2 *c = guest("Opteron_G1,vendor=AuthenticAMD");

	ck_assert_ptr_null(leaf(c, 7));
	ck_assert_uint_eq(leaf(c, 0)->eax, 5);
	ck_assert_uint_eq(leaf(c, 1)->eax, 0xf61);
	free(c);
	c = guest("Opteron_G1,+umip");
	ck_assert_ptr_nonnull(leaf(c, 7));
	ck_assert_uint_eq(leaf(c, 0)->eax, 7);
	ck_assert_uint_eq(leaf(c, 7)->ecx, UMIP);
	free(c);
}
END_TEST

START_TEST(cpu_model_vendor_and_phys_bits)
{
	struct kvm_cpuid2 *c = guest("qemu64,vendor=GenuineIntel");
	char v[13];

	vendor(c, 0, v);
	ck_assert_str_eq(v, "GenuineIntel");
	vendor(c, EXT, v);
	ck_assert_str_eq(v, "GenuineIntel");
	/* An Intel vendor: no AMD copies of leaf 1 EDX in 0x80000001. */
	ck_assert_uint_eq(leaf(c, EXT | 1)->edx, E1_EDX_QEMU64);
	free(c);
	/* An AMD vendor: the copies, as QEMU makes them. */
	c = guest("qemu64");
	ck_assert_uint_eq(leaf(c, EXT | 1)->edx,
			  E1_EDX_QEMU64 | (leaf(c, 1)->edx & 0x0183f3ff));
	free(c);
	c = guest("max,host-phys-bits");
	ck_assert_uint_eq(leaf(c, EXT | 8)->eax & 0xff, 0x30);
	free(c);
	c = guest("qemu64,host-phys-bits=on");
	ck_assert_uint_eq(leaf(c, EXT | 8)->eax & 0xff, 0x30);
	free(c);
	c = guest("qemu64,phys-bits=36");
	ck_assert_uint_eq(leaf(c, EXT | 8)->eax & 0xff, 36);
	free(c);
	c = guest("qemu64,phys-bits=52");
	ck_assert_uint_eq(leaf(c, EXT | 8)->eax & 0xff, 0x30);
	ck_assert_ptr_nonnull(strstr(logged, "phys-bits property (52)"));
	free(c);
}
END_TEST

START_TEST(cpu_model_drops_what_kvm_cannot_give_with_a_warning)
{
	struct kvm_cpuid2 *c = guest("max,+vmx");
	struct cpu_spec s;

	ck_assert_uint_eq(leaf(c, 1)->ecx & VMX, 0);
	ck_assert_str_eq(logged, "warning: host doesn't support requested "
				 "feature: CPUID.01H:ECX.vmx [bit 5]\n");
	free(c);
	c = guest("qemu64,+svm");
	ck_assert_ptr_nonnull(strstr(logged, "CPUID.80000001H:ECX.svm [bit 2]"));
	free(c);
	/* enforce: an error instead. */
	c = host();
	ck_assert_int_eq(cpu_spec_parse("max,+vmx,enforce", &s, &lg), 0);
	logged[0] = 0;
	ck_assert_int_eq(cpu_spec_apply(&s, c, &lg), -EINVAL);
	ck_assert_ptr_nonnull(strstr(logged, "error: host doesn't support"));
	free(c);
}
END_TEST

START_TEST(cpu_model_refuses_what_it_does_not_know_by_name)
{
	static const struct {
		const char *spec, *named;
	} bad[] = {
		{ "pentium9", "'pentium9'" },
		{ "qemu64,+frobnicate", "'frobnicate'" },
		{ "qemu64,frobnicate=on", "'frobnicate'" },
		{ "qemu64,x2apic=maybe", "'x2apic=maybe'" },
		{ "qemu64,vendor=Intel", "'Intel'" },
		{ "qemu64,phys-bits=99", "'99'" },
		{ "qemu64,+x2apic=on", "'+x2apic=on'" },
		{ "", NULL },
	};
	struct cpu_spec s;

	for (unsigned int i = 0; bad[i].named; i++) {
		logged[0] = 0;
		ck_assert_int_eq(cpu_spec_parse(bad[i].spec, &s, &lg),
				 -EINVAL);
		ck_assert_msg(strstr(logged, bad[i].named), "%s: %s",
			      bad[i].spec, logged);
	}
	/* Properties with no CPUID effect are taken. */
	ck_assert_int_eq(cpu_spec_parse("host,migratable=no,check", &s, &lg),
			 0);
}
END_TEST

START_TEST(cpu_model_lists_its_models_and_flags)
{
	const char *desc, *name;
	bool qemu64 = false, g1 = false;
	unsigned int i;

	for (i = 0; (name = cpu_model_name(i, &desc)); i++) {
		ck_assert(desc && *desc);
		qemu64 |= !strcmp(name, "qemu64");
		g1 |= !strcmp(name, "Opteron_G1");
	}
	ck_assert(qemu64 && g1);
	for (i = 0; cpu_flag_name(i); i++)
		;
	ck_assert_uint_gt(i, 100);
}
END_TEST

UNIT_SUITE("cpu_model", cpu_model_host_is_what_kvm_offers_plus_x2apic,
	   cpu_model_qemu64_is_qemus, cpu_model_flags_set_and_clear_bits,
	   cpu_model_raises_the_level_for_a_flag,
	   cpu_model_vendor_and_phys_bits,
	   cpu_model_drops_what_kvm_cannot_give_with_a_warning,
	   cpu_model_refuses_what_it_does_not_know_by_name,
	   cpu_model_lists_its_models_and_flags)
