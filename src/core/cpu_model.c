// SPDX-License-Identifier: MIT
/* CPU models and feature flags in QEMU's -cpu syntax, made into CPUID. */
#include <cpuid.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_model.h"

/*
 * The models are QEMU 7.2's of the same names (target/i386/cpu.c,
 * builtin_x86_defs): vendor, family/model/stepping, the highest basic and
 * extended leaves, the feature words and the brand string, so a test that
 * names one sees the CPU it would see under QEMU with KVM. The flag names
 * are QEMU's (feature_word_info), with their CPUID leaf, subleaf,
 * register and bit from the Intel SDM vol. 2A (CPUID) and AMD's APM vol. 3
 * (appendix E).
 */

enum reg { EAX, EBX, ECX, EDX };

struct cpu_flag {
	const char *name;
	uint32_t leaf;
	uint8_t sub;
	uint8_t reg;
	uint8_t bit;
};

#define EXT 0x80000000u
#define KVM_SIGNATURE 0x40000000u /* KVM's leaves start here */
#define KVM_LEAF 0x40000001u

/* Two to a line: a table to scan, not to scroll. */
/* clang-format off */
static const struct cpu_flag flags[] = {
	/* CPUID.01H:EDX */
	{ "fpu", 1, 0, EDX, 0 }, { "vme", 1, 0, EDX, 1 },
	{ "de", 1, 0, EDX, 2 }, { "pse", 1, 0, EDX, 3 },
	{ "tsc", 1, 0, EDX, 4 }, { "msr", 1, 0, EDX, 5 },
	{ "pae", 1, 0, EDX, 6 }, { "mce", 1, 0, EDX, 7 },
	{ "cx8", 1, 0, EDX, 8 }, { "apic", 1, 0, EDX, 9 },
	{ "sep", 1, 0, EDX, 11 }, { "mtrr", 1, 0, EDX, 12 },
	{ "pge", 1, 0, EDX, 13 }, { "mca", 1, 0, EDX, 14 },
	{ "cmov", 1, 0, EDX, 15 }, { "pat", 1, 0, EDX, 16 },
	{ "pse36", 1, 0, EDX, 17 }, { "clflush", 1, 0, EDX, 19 },
	{ "ds", 1, 0, EDX, 21 }, { "acpi", 1, 0, EDX, 22 },
	{ "mmx", 1, 0, EDX, 23 }, { "fxsr", 1, 0, EDX, 24 },
	{ "sse", 1, 0, EDX, 25 }, { "sse2", 1, 0, EDX, 26 },
	{ "ss", 1, 0, EDX, 27 }, { "ht", 1, 0, EDX, 28 },
	{ "tm", 1, 0, EDX, 29 }, { "pbe", 1, 0, EDX, 31 },
	/* CPUID.01H:ECX */
	{ "pni", 1, 0, ECX, 0 }, { "sse3", 1, 0, ECX, 0 },
	{ "pclmulqdq", 1, 0, ECX, 1 }, { "dtes64", 1, 0, ECX, 2 },
	{ "monitor", 1, 0, ECX, 3 }, { "ds-cpl", 1, 0, ECX, 4 },
	{ "vmx", 1, 0, ECX, 5 }, { "smx", 1, 0, ECX, 6 },
	{ "est", 1, 0, ECX, 7 }, { "tm2", 1, 0, ECX, 8 },
	{ "ssse3", 1, 0, ECX, 9 }, { "cid", 1, 0, ECX, 10 },
	{ "fma", 1, 0, ECX, 12 }, { "cx16", 1, 0, ECX, 13 },
	{ "xtpr", 1, 0, ECX, 14 }, { "pdcm", 1, 0, ECX, 15 },
	{ "pcid", 1, 0, ECX, 17 }, { "dca", 1, 0, ECX, 18 },
	{ "sse4.1", 1, 0, ECX, 19 }, { "sse4-1", 1, 0, ECX, 19 },
	{ "sse4.2", 1, 0, ECX, 20 }, { "sse4-2", 1, 0, ECX, 20 },
	{ "x2apic", 1, 0, ECX, 21 }, { "movbe", 1, 0, ECX, 22 },
	{ "popcnt", 1, 0, ECX, 23 }, { "tsc-deadline", 1, 0, ECX, 24 },
	{ "aes", 1, 0, ECX, 25 }, { "xsave", 1, 0, ECX, 26 },
	{ "avx", 1, 0, ECX, 28 }, { "f16c", 1, 0, ECX, 29 },
	{ "rdrand", 1, 0, ECX, 30 }, { "hypervisor", 1, 0, ECX, 31 },
	/* CPUID.(EAX=07H,ECX=0):EBX */
	{ "fsgsbase", 7, 0, EBX, 0 }, { "tsc-adjust", 7, 0, EBX, 1 },
	{ "sgx", 7, 0, EBX, 2 }, { "bmi1", 7, 0, EBX, 3 },
	{ "hle", 7, 0, EBX, 4 }, { "avx2", 7, 0, EBX, 5 },
	{ "smep", 7, 0, EBX, 7 }, { "bmi2", 7, 0, EBX, 8 },
	{ "erms", 7, 0, EBX, 9 }, { "invpcid", 7, 0, EBX, 10 },
	{ "rtm", 7, 0, EBX, 11 }, { "mpx", 7, 0, EBX, 14 },
	{ "avx512f", 7, 0, EBX, 16 }, { "avx512dq", 7, 0, EBX, 17 },
	{ "rdseed", 7, 0, EBX, 18 }, { "adx", 7, 0, EBX, 19 },
	{ "smap", 7, 0, EBX, 20 }, { "avx512ifma", 7, 0, EBX, 21 },
	{ "clflushopt", 7, 0, EBX, 23 }, { "clwb", 7, 0, EBX, 24 },
	{ "intel-pt", 7, 0, EBX, 25 }, { "avx512pf", 7, 0, EBX, 26 },
	{ "avx512er", 7, 0, EBX, 27 }, { "avx512cd", 7, 0, EBX, 28 },
	{ "sha-ni", 7, 0, EBX, 29 }, { "avx512bw", 7, 0, EBX, 30 },
	{ "avx512vl", 7, 0, EBX, 31 },
	/* CPUID.(EAX=07H,ECX=0):ECX */
	{ "avx512vbmi", 7, 0, ECX, 1 }, { "umip", 7, 0, ECX, 2 },
	{ "pku", 7, 0, ECX, 3 }, { "waitpkg", 7, 0, ECX, 5 },
	{ "avx512vbmi2", 7, 0, ECX, 6 }, { "gfni", 7, 0, ECX, 8 },
	{ "vaes", 7, 0, ECX, 9 }, { "vpclmulqdq", 7, 0, ECX, 10 },
	{ "avx512vnni", 7, 0, ECX, 11 }, { "avx512bitalg", 7, 0, ECX, 12 },
	{ "avx512-vpopcntdq", 7, 0, ECX, 14 }, { "la57", 7, 0, ECX, 16 },
	{ "rdpid", 7, 0, ECX, 22 }, { "bus-lock-detect", 7, 0, ECX, 24 },
	{ "cldemote", 7, 0, ECX, 25 }, { "movdiri", 7, 0, ECX, 27 },
	{ "movdir64b", 7, 0, ECX, 28 }, { "pks", 7, 0, ECX, 31 },
	/* CPUID.(EAX=07H,ECX=0):EDX */
	{ "avx512-4vnniw", 7, 0, EDX, 2 }, { "avx512-4fmaps", 7, 0, EDX, 3 },
	{ "fsrm", 7, 0, EDX, 4 }, { "md-clear", 7, 0, EDX, 10 },
	{ "serialize", 7, 0, EDX, 14 }, { "tsx-ldtrk", 7, 0, EDX, 16 },
	{ "arch-lbr", 7, 0, EDX, 19 }, { "spec-ctrl", 7, 0, EDX, 26 },
	{ "stibp", 7, 0, EDX, 27 }, { "arch-capabilities", 7, 0, EDX, 29 },
	{ "core-capability", 7, 0, EDX, 30 }, { "ssbd", 7, 0, EDX, 31 },
	/* CPUID.(EAX=07H,ECX=1):EAX */
	{ "avx-vnni", 7, 1, EAX, 4 }, { "avx512-bf16", 7, 1, EAX, 5 },
	{ "lam", 7, 1, EAX, 26 },
	/* CPUID.80000001H:EDX, the bits that are not copies of 01H:EDX */
	{ "syscall", EXT | 1, 0, EDX, 11 }, { "nx", EXT | 1, 0, EDX, 20 },
	{ "xd", EXT | 1, 0, EDX, 20 }, { "mmxext", EXT | 1, 0, EDX, 22 },
	{ "fxsr-opt", EXT | 1, 0, EDX, 25 },
	{ "pdpe1gb", EXT | 1, 0, EDX, 26 }, { "rdtscp", EXT | 1, 0, EDX, 27 },
	{ "lm", EXT | 1, 0, EDX, 29 }, { "3dnowext", EXT | 1, 0, EDX, 30 },
	{ "3dnow", EXT | 1, 0, EDX, 31 },
	/* CPUID.80000001H:ECX */
	{ "lahf-lm", EXT | 1, 0, ECX, 0 }, { "cmp-legacy", EXT | 1, 0, ECX, 1 },
	{ "svm", EXT | 1, 0, ECX, 2 }, { "extapic", EXT | 1, 0, ECX, 3 },
	{ "cr8legacy", EXT | 1, 0, ECX, 4 }, { "abm", EXT | 1, 0, ECX, 5 },
	{ "sse4a", EXT | 1, 0, ECX, 6 }, { "misalignsse", EXT | 1, 0, ECX, 7 },
	{ "3dnowprefetch", EXT | 1, 0, ECX, 8 },
	{ "osvw", EXT | 1, 0, ECX, 9 }, { "ibs", EXT | 1, 0, ECX, 10 },
	{ "xop", EXT | 1, 0, ECX, 11 }, { "skinit", EXT | 1, 0, ECX, 12 },
	{ "wdt", EXT | 1, 0, ECX, 13 }, { "lwp", EXT | 1, 0, ECX, 15 },
	{ "fma4", EXT | 1, 0, ECX, 16 }, { "tce", EXT | 1, 0, ECX, 17 },
	{ "nodeid-msr", EXT | 1, 0, ECX, 19 }, { "tbm", EXT | 1, 0, ECX, 21 },
	{ "topoext", EXT | 1, 0, ECX, 22 },
	{ "perfctr-core", EXT | 1, 0, ECX, 23 },
	{ "perfctr-nb", EXT | 1, 0, ECX, 24 },
	/* CPUID.80000008H:EBX */
	{ "clzero", EXT | 8, 0, EBX, 0 }, { "xsaveerptr", EXT | 8, 0, EBX, 2 },
	{ "rdpru", EXT | 8, 0, EBX, 4 }, { "wbnoinvd", EXT | 8, 0, EBX, 9 },
	{ "ibpb", EXT | 8, 0, EBX, 12 }, { "amd-ssbd", EXT | 8, 0, EBX, 24 },
	/* CPUID.8000000AH:EDX, the SVM features */
	{ "npt", EXT | 0xa, 0, EDX, 0 }, { "lbrv", EXT | 0xa, 0, EDX, 1 },
	{ "svm-lock", EXT | 0xa, 0, EDX, 2 },
	{ "nrip-save", EXT | 0xa, 0, EDX, 3 },
	{ "tsc-scale", EXT | 0xa, 0, EDX, 4 },
	{ "vmcb-clean", EXT | 0xa, 0, EDX, 5 },
	{ "flushbyasid", EXT | 0xa, 0, EDX, 6 },
	{ "decodeassists", EXT | 0xa, 0, EDX, 7 },
	{ "pause-filter", EXT | 0xa, 0, EDX, 10 },
	{ "pfthreshold", EXT | 0xa, 0, EDX, 12 },
	{ "avic", EXT | 0xa, 0, EDX, 13 },
	{ "v-vmsave-vmload", EXT | 0xa, 0, EDX, 15 },
	{ "vgif", EXT | 0xa, 0, EDX, 16 },
	/* CPUID.40000001H:EAX, KVM's paravirtual features */
	{ "kvmclock", KVM_LEAF, 0, EAX, 0 },
	{ "kvm-nopiodelay", KVM_LEAF, 0, EAX, 1 },
	{ "kvm-mmu", KVM_LEAF, 0, EAX, 2 },
	{ "kvm-asyncpf", KVM_LEAF, 0, EAX, 4 },
	{ "kvm-steal-time", KVM_LEAF, 0, EAX, 5 },
	{ "kvm-pv-eoi", KVM_LEAF, 0, EAX, 6 },
	{ "kvm-pv-unhalt", KVM_LEAF, 0, EAX, 7 },
	{ "kvm-pv-tlb-flush", KVM_LEAF, 0, EAX, 9 },
	{ "kvm-asyncpf-vmexit", KVM_LEAF, 0, EAX, 10 },
	{ "kvm-pv-ipi", KVM_LEAF, 0, EAX, 11 },
	{ "kvm-poll-control", KVM_LEAF, 0, EAX, 12 },
	{ "kvm-pv-sched-yield", KVM_LEAF, 0, EAX, 13 },
	{ "kvm-asyncpf-int", KVM_LEAF, 0, EAX, 14 },
	{ "kvm-msi-ext-dest-id", KVM_LEAF, 0, EAX, 15 },
	{ "kvmclock-stable-bit", KVM_LEAF, 0, EAX, 24 },
	/* CPUID.(EAX=0DH,ECX=1):EAX, last as in QEMU's feature words */
	{ "xsaveopt", 0xd, 1, EAX, 0 }, { "xsavec", 0xd, 1, EAX, 1 },
	{ "xgetbv1", 0xd, 1, EAX, 2 }, { "xsaves", 0xd, 1, EAX, 3 },
};
/* clang-format on */

#define NR_FLAGS (sizeof(flags) / sizeof(flags[0]))
#define BIT(n) (1u << (n))

/* CPUID.01H:EDX of QEMU's PPRO_FEATURES. */
#define PPRO_EDX                                                               \
	(BIT(0) | BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(7) | BIT(8) |        \
	 BIT(13) | BIT(15) | BIT(16) | BIT(24) | BIT(23) | BIT(25) | BIT(26) | \
	 BIT(6) | BIT(11) | BIT(9))
#define VME BIT(1)
#define MTRR BIT(12)
#define MCA BIT(14)
#define PSE36 BIT(17)
#define CLFLUSH BIT(19)
#define SSE3 BIT(0)
#define CX16 BIT(13)
#define E_SYSCALL BIT(11)
#define E_NX BIT(20)
#define E_LM BIT(29)
#define E_LAHF_LM BIT(0)

struct cpu_model {
	const char *name;
	const char *desc;
	bool host; /* everything KVM offers, as it reports it */
	unsigned int family, model, stepping;
	uint32_t level, xlevel;
	uint32_t f1_edx, f1_ecx, e1_edx, e1_ecx;
	const char *brand;
	/* More features by QEMU's names, any leaf of the flag table: the
	 * later models' long lists read better so than as masks. */
	const char *features;
};

#define QEMU_BRAND "QEMU Virtual CPU version 2.5+"

static const struct cpu_model models[] = {
	{ .name = "host",
	  .desc = "KVM processor with all supported host features",
	  .host = true },
	{ .name = "max",
	  .desc = "Enables all features supported by the accelerator",
	  .host = true },
	{ "qemu64", "QEMU Virtual CPU version 2.5+", false, 15, 107, 1, 0xd,
	  EXT | 0xa, PPRO_EDX | MTRR | CLFLUSH | MCA | PSE36, SSE3 | CX16,
	  E_LM | E_SYSCALL | E_NX, E_LAHF_LM /* svm: off under KVM, as QEMU */,
	  QEMU_BRAND, NULL },
	{ "qemu32", "QEMU Virtual CPU version 2.5+", false, 6, 6, 3, 4, EXT | 4,
	  PPRO_EDX, SSE3, 0, 0, QEMU_BRAND, NULL },
	{ "kvm64", "Common KVM processor", false, 15, 6, 1, 0xd, EXT | 8,
	  PPRO_EDX | VME | MTRR | CLFLUSH | MCA | PSE36, SSE3 | CX16,
	  E_LM | E_SYSCALL | E_NX, 0, "Common KVM processor", NULL },
	{ "kvm32", "Common 32-bit KVM processor", false, 15, 6, 1, 5, EXT | 8,
	  PPRO_EDX | VME | MTRR | CLFLUSH | MCA | PSE36, SSE3, 0, 0,
	  "Common 32-bit KVM processor", NULL },
	{ "Opteron_G1", "AMD Opteron 240 (Gen 1 Class Opteron)", false, 15, 6,
	  1, 5, EXT | 8, PPRO_EDX | VME | MTRR | CLFLUSH | MCA | PSE36, SSE3,
	  E_LM | E_NX | E_SYSCALL, 0, "AMD Opteron 240 (Gen 1 Class Opteron)",
	  NULL },
	{ "IvyBridge", "Intel Xeon E3-12xx v2 (Ivy Bridge)", false, 6, 58, 9,
	  0xd, EXT | 8, PPRO_EDX | VME | MTRR | CLFLUSH | MCA | PSE36, 0, 0, 0,
	  "Intel Xeon E3-12xx v2 (Ivy Bridge)",
	  "pni pclmulqdq ssse3 cx16 sse4.1 sse4.2 popcnt tsc-deadline aes "
	  "xsave avx f16c rdrand fsgsbase smep erms syscall nx rdtscp lm "
	  "lahf-lm xsaveopt" },
	{ "Skylake-Server", "Intel Xeon Processor (Skylake)", false, 6, 85, 4,
	  0xd, EXT | 8, PPRO_EDX | VME | MTRR | CLFLUSH | MCA | PSE36, 0, 0, 0,
	  "Intel Xeon Processor (Skylake)",
	  "pni pclmulqdq ssse3 fma cx16 pcid sse4.1 sse4.2 movbe popcnt "
	  "tsc-deadline aes xsave avx f16c rdrand fsgsbase bmi1 hle avx2 "
	  "smep bmi2 erms invpcid rtm avx512f avx512dq rdseed adx smap "
	  "clflushopt clwb avx512cd avx512bw avx512vl pku syscall nx pdpe1gb "
	  "rdtscp lm lahf-lm abm 3dnowprefetch xsaveopt xsavec xgetbv1" },
};

#define NR_MODELS (sizeof(models) / sizeof(models[0]))

const char *cpu_model_name(unsigned int i, const char **ret_desc)
{
	if (i >= NR_MODELS)
		return NULL;
	if (ret_desc)
		*ret_desc = models[i].desc;
	return models[i].name;
}

const char *cpu_flag_name(unsigned int i)
{
	return i < NR_FLAGS ? flags[i].name : NULL;
}

/* QEMU's property names take '_' and '-' alike. */
static bool name_eq(const char *a, const char *b, size_t blen)
{
	size_t i;

	for (i = 0; i < blen && a[i]; i++)
		if (a[i] != b[i] && !((a[i] == '_' || a[i] == '-') &&
				      (b[i] == '_' || b[i] == '-')))
			return false;
	return i == blen && !a[i];
}

static int find_flag(const char *name, size_t len)
{
	for (unsigned int i = 0; i < NR_FLAGS; i++)
		if (name_eq(flags[i].name, name, len))
			return (int)i;
	return -1;
}

static int add_flag(struct cpu_spec *s, int f, bool on, const struct logger *lg)
{
	if (s->nr_flags == CPU_SPEC_MAX_FLAGS) {
		log_error(lg, "cpu: more than %d feature flags",
			  CPU_SPEC_MAX_FLAGS);
		return -EINVAL;
	}
	s->flags[s->nr_flags].feature = (uint16_t)f;
	s->flags[s->nr_flags++].on = on;
	return 0;
}

static bool on_off(const char *v, bool *ret)
{
	if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes")) {
		*ret = true;
		return true;
	}
	if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no")) {
		*ret = false;
		return true;
	}
	return false;
}

/*
 * One item after the model: "+f", "-f", "f=on|off", "f" (on), or one of
 * the properties that are not CPUID bits.
 */
static int parse_item(struct cpu_spec *s, const char *item,
		      const struct logger *lg)
{
	const char *eq = strchr(item, '='), *val = eq ? eq + 1 : NULL;
	size_t len = eq ? (size_t)(eq - item) : strlen(item);
	char *end;
	bool on = true;
	int f;

	if (*item == '+' || *item == '-') {
		on = *item == '+';
		item++;
		len--;
		if (eq) {
			log_error(lg,
				  "cpu: '%s': +flag and -flag take no "
				  "value",
				  item - 1);
			return -EINVAL;
		}
	}
	if (name_eq("vendor", item, len) && val) {
		if (strlen(val) != 12) {
			log_error(lg, "cpu: vendor '%s' is not 12 characters",
				  val);
			return -EINVAL;
		}
		memcpy(s->vendor, val, 13);
		return 0;
	}
	if (name_eq("phys-bits", item, len) && val) {
		unsigned long n = strtoul(val, &end, 10);

		if (*val < '0' || *val > '9' || *end || n < 32 || n > 52) {
			log_error(lg, "cpu: phys-bits '%s' is not 32 to 52",
				  val);
			return -EINVAL;
		}
		s->phys_bits = (unsigned int)n;
		return 0;
	}
	if (val && !on_off(val, &on)) {
		log_error(lg, "cpu: '%.*s=%s': the value is not on or off",
			  (int)len, item, val);
		return -EINVAL;
	}
	if (name_eq("host-phys-bits", item, len)) {
		s->host_phys_bits = on;
		return 0;
	}
	if (name_eq("enforce", item, len)) {
		s->enforce = on;
		return 0;
	}
	if (name_eq("migratable", item, len)) {
		s->unmigratable = !on;
		return 0;
	}
	/* No effect here: a flag KVM cannot give is always reported. */
	if (name_eq("check", item, len))
		return 0;
	f = find_flag(item, len);
	if (f < 0) {
		log_error(lg,
			  "cpu: '%.*s' is not a CPU feature or property "
			  "splitvm knows ('splitvm qemu -cpu help' "
			  "lists them)",
			  (int)len, item);
		return -EINVAL;
	}
	return add_flag(s, f, on, lg);
}

int cpu_spec_parse(const char *str, struct cpu_spec *ret,
		   const struct logger *lg)
{
	char item[128];
	const char *p = str, *comma;
	size_t len;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->model = &models[0];
	if (!str || !*str)
		return 0;
	comma = strchr(p, ',');
	len = comma ? (size_t)(comma - p) : strlen(p);
	ret->model = NULL;
	for (unsigned int i = 0; i < NR_MODELS; i++)
		if (strlen(models[i].name) == len &&
		    !strncmp(models[i].name, p, len))
			ret->model = &models[i];
	if (!ret->model) {
		log_error(lg,
			  "cpu: model '%.*s' is not one splitvm has "
			  "('splitvm qemu -cpu help' lists them)",
			  (int)(len < 64 ? len : 64), p);
		return -EINVAL;
	}
	while (comma) {
		p = comma + 1;
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == 0)
			continue;
		if (len >= sizeof(item)) {
			log_error(lg, "cpu: an item of '%.64s' is too long", p);
			return -EINVAL;
		}
		memcpy(item, p, len);
		item[len] = 0;
		r = parse_item(ret, item, lg);
		if (r)
			return r;
	}
	return 0;
}

static struct kvm_cpuid_entry2 *entry(struct kvm_cpuid2 *c, uint32_t leaf,
				      uint32_t sub)
{
	for (unsigned int i = 0; i < c->nent; i++)
		if (c->entries[i].function == leaf &&
		    (c->entries[i].index == sub ||
		     !(c->entries[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX)))
			return &c->entries[i];
	return NULL;
}

static uint32_t *reg_of(struct kvm_cpuid_entry2 *e, unsigned int reg)
{
	switch (reg) {
	case EAX:
		return &e->eax;
	case EBX:
		return &e->ebx;
	case ECX:
		return &e->ecx;
	default:
		return &e->edx;
	}
}

/* EAX of CPUID.01H (SDM vol. 2A, "Version Information"). */
static uint32_t version(const struct cpu_model *m)
{
	uint32_t fam = m->family > 15 ? 15 : m->family;
	uint32_t ext = m->family > 15 ? m->family - 15 : 0;

	return m->stepping | (m->model & 0xf) << 4 | fam << 8 |
	       (m->model >> 4) << 16 | ext << 20;
}

static void set_vendor(struct kvm_cpuid_entry2 *e, const char *v)
{
	memcpy(&e->ebx, v, 4);
	memcpy(&e->edx, v + 4, 4);
	memcpy(&e->ecx, v + 8, 4);
}

/* The first flag (QEMU's own name) for a bit; -1 if it has none. */
static int flag_of(uint32_t leaf, uint32_t sub, unsigned int reg,
		   unsigned int bit)
{
	for (unsigned int i = 0; i < NR_FLAGS; i++)
		if (flags[i].leaf == leaf && flags[i].sub == sub &&
		    flags[i].reg == reg && flags[i].bit == bit)
			return (int)i;
	return -1;
}

/*
 * Sets *r to the model's want & what KVM offers; marks in missing the
 * bits the model wants that KVM cannot give.
 */
static void model_word(uint32_t *r, uint32_t want, uint32_t leaf, uint32_t sub,
		       unsigned int reg, bool missing[])
{
	uint32_t lost = want & ~*r;
	int f;

	*r &= want;
	for (unsigned int bit = 0; lost; bit++, lost >>= 1)
		if ((lost & 1) && (f = flag_of(leaf, sub, reg, bit)) >= 0)
			missing[f] = true;
}

/*
 * A named model over what KVM offers: never more than KVM offers. The
 * vendor stays the host's, as QEMU leaves it under KVM (a guest's
 * SYSCALL/SYSENTER choice must match the CPU that runs it): vendor=
 * changes it.
 */
/* The model's bits of one register: its mask and its named features. */
static uint32_t model_bits(const struct cpu_model *m, uint32_t leaf,
			   uint32_t sub, unsigned int reg, uint32_t mask)
{
	const char *p = m->features;

	while (p && *p) {
		size_t len = strcspn(p, " ");
		int f = find_flag(p, len);

		if (f >= 0 && flags[f].leaf == leaf && flags[f].sub == sub &&
		    flags[f].reg == reg)
			mask |= BIT(flags[f].bit);
		p += len + (p[len] == ' ');
	}
	return mask;
}

static void apply_model(const struct cpu_model *m, struct kvm_cpuid2 *c,
			bool missing[])
{
	char brand[48] = { 0 };

	strncpy(brand, m->brand, sizeof(brand) - 1);
	for (unsigned int i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			e->eax = version(m);
			model_word(&e->edx, model_bits(m, 1, 0, EDX, m->f1_edx),
				   1, 0, EDX, missing);
			model_word(&e->ecx, model_bits(m, 1, 0, ECX, m->f1_ecx),
				   1, 0, ECX, missing);
			break;
		case 7:
			e->eax = 0;
			if (e->index) {
				e->ebx = e->ecx = e->edx = 0;
				break;
			}
			model_word(&e->ebx, model_bits(m, 7, 0, EBX, 0), 7, 0,
				   EBX, missing);
			model_word(&e->ecx, model_bits(m, 7, 0, ECX, 0), 7, 0,
				   ECX, missing);
			model_word(&e->edx, model_bits(m, 7, 0, EDX, 0), 7, 0,
				   EDX, missing);
			break;
		case 0xd:
			if (e->index == 1)
				model_word(&e->eax,
					   model_bits(m, 0xd, 1, EAX, 0), 0xd,
					   1, EAX, missing);
			break;
		case EXT | 1:
			model_word(&e->edx,
				   model_bits(m, EXT | 1, 0, EDX, m->e1_edx),
				   EXT | 1, 0, EDX, missing);
			model_word(&e->ecx,
				   model_bits(m, EXT | 1, 0, ECX, m->e1_ecx),
				   EXT | 1, 0, ECX, missing);
			break;
		case EXT | 2:
		case EXT | 3:
		case EXT | 4:
			memcpy(&e->eax, brand + 16 * (e->function - (EXT | 2)),
			       16);
			break;
		case EXT | 8:
			e->ebx = 0;
			break;
		case EXT | 0xa:
			e->edx = 0;
			break;
		}
	}
}

/*
 * What QEMU shows whatever the model: the vendor in 0x80000000 too, the
 * signature in 0x80000001 EAX, and for host and max the host's brand
 * string, which KVM does not pass on.
 */
static void common_leaves(const struct cpu_model *m, struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *v = entry(c, 0, 0), *l1 = entry(c, 1, 0);
	struct kvm_cpuid_entry2 *x = entry(c, EXT, 0), *e;
	uint32_t r[4];

	if (v && x) {
		x->ebx = v->ebx;
		x->ecx = v->ecx;
		x->edx = v->edx;
	}
	e = entry(c, EXT | 1, 0);
	if (l1 && e)
		e->eax = l1->eax;
	for (uint32_t leaf = EXT | 2; m->host && leaf <= (EXT | 4); leaf++) {
		e = entry(c, leaf, 0);
		if (!e || e->eax || e->ebx || e->ecx || e->edx)
			continue;
		__cpuid(leaf, r[0], r[1], r[2], r[3]);
		e->eax = r[0];
		e->ebx = r[1];
		e->ecx = r[2];
		e->edx = r[3];
	}
}

/* The highest leaf an enabled flag needs: QEMU raises the level to it. */
static uint32_t needed_level(const struct cpu_spec *s, uint32_t base)
{
	uint32_t level = 0;

	for (unsigned int i = 0; i < s->nr_flags; i++) {
		uint32_t leaf = flags[s->flags[i].feature].leaf;

		if (!s->flags[i].on || (leaf & EXT) != base ||
		    (!base && leaf >= KVM_SIGNATURE))
			continue;
		if (leaf > level)
			level = leaf;
	}
	return level;
}

/* Drops the entries past the levels and sets the levels in 0 and EXT. */
static void trim_levels(struct kvm_cpuid2 *c, uint32_t level, uint32_t xlevel)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if ((e->function > level && e->function < KVM_SIGNATURE) ||
		    (e->function > xlevel && e->function >= EXT))
			continue;
		if (e->function == 0 && e->eax > level)
			e->eax = level;
		if (e->function == EXT && e->eax > xlevel)
			e->eax = xlevel;
		c->entries[n++] = *e;
	}
	c->nent = n;
}

static void set_flag(struct kvm_cpuid2 *c, const struct kvm_cpuid2 *sup,
		     unsigned int i, bool on, bool missing[])
{
	const struct cpu_flag *f = &flags[i];
	struct kvm_cpuid_entry2 *e = entry(c, f->leaf, f->sub);
	struct kvm_cpuid_entry2 *s =
		entry((struct kvm_cpuid2 *)sup, f->leaf, f->sub);
	uint32_t bit = BIT(f->bit);
	int first;

	if (!on) {
		if (e)
			*reg_of(e, f->reg) &= ~bit;
		return;
	}
	/* The in-kernel LAPIC implements x2APIC; the hypervisor bit is ours. */
	if (e && s &&
	    ((*reg_of(s, f->reg) & bit) || (f->leaf == 1 && f->reg == ECX &&
					    (f->bit == 21 || f->bit == 31)))) {
		*reg_of(e, f->reg) |= bit;
		return;
	}
	first = flag_of(f->leaf, f->sub, f->reg, f->bit);
	missing[first >= 0 ? first : (int)i] = true;
}

/* One line per feature KVM cannot give, in QEMU's words and order. */
static int report_missing(const bool missing[], bool enforce,
			  const struct logger *lg)
{
	static const char *const names[] = { "EAX", "EBX", "ECX", "EDX" };
	enum splitvm_log_level level =
		enforce ? SPLITVM_LOG_ERROR : SPLITVM_LOG_WARNING;
	bool any = false;

	for (unsigned int i = 0; i < NR_FLAGS; i++) {
		const struct cpu_flag *f = &flags[i];

		if (!missing[i])
			continue;
		any = true;
		log_msg(lg, level,
			"host doesn't support requested feature: "
			"CPUID.%0*XH:%s.%s [bit %u]",
			f->leaf & EXT ? 8 : 2, f->leaf, names[f->reg], f->name,
			f->bit);
	}
	return enforce && any ? -EINVAL : 0;
}

/*
 * AMD CPUs repeat most of CPUID.01H:EDX in CPUID.80000001H:EDX (APM vol.
 * 3, E.4.2). QEMU copies them for an AMD vendor, after the flags; and with
 * migratable=off on host and max whatever the vendor, since its view of
 * KVM's supported CPUID adds them, and only the migratable (named) bits
 * are otherwise kept. amd_only: the first case.
 */
#define AMD_ALIASES 0x0183f3ffu

static void amd_aliases(struct kvm_cpuid2 *c, bool amd_only)
{
	struct kvm_cpuid_entry2 *v = entry(c, 0, 0), *l1 = entry(c, 1, 0);
	struct kvm_cpuid_entry2 *e1 = entry(c, EXT | 1, 0);

	if (!v || !l1 || !e1)
		return;
	if (!amd_only ||
	    (!memcmp(&v->ebx, "Auth", 4) && !memcmp(&v->edx, "enti", 4) &&
	     !memcmp(&v->ecx, "cAMD", 4)))
		e1->edx |= l1->edx & AMD_ALIASES;
}

static void set_phys_bits(const struct cpu_spec *spec, struct kvm_cpuid2 *c,
			  const struct logger *lg)
{
	struct kvm_cpuid_entry2 *e = entry(c, EXT | 8, 0);
	unsigned int host, want;

	if (!e)
		return;
	host = e->eax & 0xff;
	/* QEMU: host and max take the host's; other models 40. */
	want = spec->phys_bits				   ? spec->phys_bits
	       : spec->host_phys_bits || spec->model->host ? host
							   : 40;
	/* QEMU's warning, word for word; more than the host has is cut. */
	if (spec->phys_bits && spec->phys_bits != host)
		log_warn(lg,
			 "Host physical bits (%u) does not match "
			 "phys-bits property (%u)",
			 host, spec->phys_bits);
	if (want > host)
		want = host;
	e->eax = (e->eax & ~0xffu) | want;
}

int cpu_spec_apply(const struct cpu_spec *spec, struct kvm_cpuid2 *c,
		   const struct logger *lg)
{
	size_t size = sizeof(*c) + c->nent * sizeof(c->entries[0]);
	const struct cpu_model *m = spec->model;
	bool missing[NR_FLAGS] = { false };
	struct kvm_cpuid_entry2 *e;
	struct kvm_cpuid2 *sup = malloc(size);
	int r;

	if (!sup)
		return -ENOMEM;
	memcpy(sup, c, size);
	if (!m->host)
		apply_model(m, c, missing);
	common_leaves(m, c);
	/* Under KVM QEMU turns x2APIC on for every model; we are a VMM. */
	e = entry(c, 1, 0);
	if (e)
		e->ecx |= BIT(21) | BIT(31);
	for (unsigned int i = 0; i < spec->nr_flags; i++)
		set_flag(c, sup, spec->flags[i].feature, spec->flags[i].on,
			 missing);
	free(sup);
	r = report_missing(missing, spec->enforce, lg);
	if (spec->vendor[0])
		for (unsigned int i = 0; i < c->nent; i++)
			if (c->entries[i].function == 0 ||
			    c->entries[i].function == EXT)
				set_vendor(&c->entries[i], spec->vendor);
	if (!m->host || spec->unmigratable)
		amd_aliases(c, !m->host);
	set_phys_bits(spec, c, lg);
	if (!m->host) {
		uint32_t level = needed_level(spec, 0);
		uint32_t xlevel = needed_level(spec, EXT);

		trim_levels(c, level > m->level ? level : m->level,
			    xlevel > m->xlevel ? xlevel : m->xlevel);
	}
	return r;
}

bool cpu_has_x2apic(const struct kvm_cpuid2 *c)
{
	const struct kvm_cpuid_entry2 *e = entry((struct kvm_cpuid2 *)c, 1, 0);

	return e && (e->ecx & BIT(21));
}
