// SPDX-License-Identifier: MIT
/* The QEMU command-line front end: a qemu-system-x86_64 argv as 'splitvm run'. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_args.h"
#include "values.h"

#define QEMU_DEFAULT_MEMORY (128ull << 20)

/*
 * The subset of qemu-system-x86_64 (7.2) that scripts running test
 * kernels use. Everything is translated into the options of 'splitvm
 * run', so the two front ends share one path from configuration to exit
 * status. Options QEMU takes but splitvm cannot honour are refused with
 * the reason rather than ignored: a script must not get a different
 * machine than it asked for without being told.
 */

const char qemu_args_help[] =
	"Usage: qemu-system-x86_64 -kernel FILE [options]   (splitvm's front end)\n"
	"       splitvm qemu -kernel FILE [options]\n"
	"\n"
	"Runs the kernel under splitvm as QEMU would run it. Accepted ('-opt'\n"
	"or '--opt'):\n"
	"  -kernel FILE -initrd FILE[,FILE...] -append STR\n"
	"  -m [size=]N[K|M|G|T]   -smp [cpus=]N[,maxcpus=N,sockets=,dies=,\n"
	"                         clusters=,cores=,threads=]\n"
	"  -machine/-M pc|q35|microvm|pc-i440fx-*|pc-q35-*[,accel=kvm]\n"
	"             [,kernel-irqchip=split|on][,pit=off][,pic=off][,rtc=off]\n"
	"             [,smm=off,usb=off,vmport=off]\n"
	"  -accel kvm[,kernel-irqchip=split|on]   -enable-kvm\n"
	"  -cpu MODEL[,+FLAG|,-FLAG|,FLAG=on|off|,vendor=STR|,phys-bits=N...]\n"
	"  -device isa-debug-exit,iobase=0xf4,iosize=4   -device pc-testdev\n"
	"  -device pci-testdev   -device edu\n"
	"  -global kvm-pit.lost_tick_policy=discard (or isa-pit.)\n"
	"  -overcommit cpu-pm=off,mem-lock=off\n"
	"  -serial stdio|mon:stdio|null|none|file:PATH   -nographic\n"
	"  -display none  -vga none  -vnc none  -monitor none  -nodefaults\n"
	"  -no-reboot  -name NAME  -version  -help\n"
	"  -machine help  -cpu help  -device help  -device NAME,help  -accel help\n"
	"Property names take '_' and '-' alike (kernel_irqchip). Everything else\n"
	"is refused (status 2). Whichever machine is named, the guest gets\n"
	"splitvm's PC with its PCI bus. The serial port is off unless -serial\n"
	"or -nographic says otherwise; kernel-irqchip defaults to split;\n"
	"without -cpu the vCPUs are QEMU's default qemu64.\n"
	"Exit status as QEMU's: (v << 1) | 1 for isa-debug-exit, 0 for a\n"
	"poweroff, and with -no-reboot 0 for a reset or triple fault (without\n"
	"it QEMU would reboot: splitvm ends with 10 or 4). A -kernel file that\n"
	"cannot be opened gets QEMU's message, with status 126 (not QEMU's 1,\n"
	"which test runners read as a pass). splitvm's own statuses otherwise\n"
	"(see 'splitvm --help').\n";

/* The machine the options describe, before it becomes 'splitvm run'. */
struct qemu_machine {
	const char *kernel;
	const char *initrd; /* QEMU's comma list, as given */
	const char *append;
	unsigned long long cpus; /* 0: not given */
	unsigned long long mem;	 /* bytes; 0: not given */
	const char *serial;	 /* --serial's value; NULL: not given */
	unsigned int serials;	 /* -serial options other than none */
	const char *cpu;	 /* -cpu as given, for --cpu; NULL: not given */
	bool kernel_irqchip;
	bool nographic;
	bool no_pit, no_pic, no_rtc; /* -machine pit=off, pic=off, rtc=off */
	bool edu;		      /* -device edu */
};

/* One item of a QEMU option string: "key=value", or a bare "value". */
struct kv {
	char key[32];
	char value[128];
	bool bare;
};

static int fail(struct qemu_args *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A property name: QEMU takes '_' and '-' alike in them (its keyval
 * parser "dashifies" -machine's keys, so kernel_irqchip=split is
 * kernel-irqchip=split). Every key is compared here.
 */
static bool key_is(const char *key, const char *name)
{
	for (; *key && *name; key++, name++) {
		bool dash_a = *key == '_' || *key == '-';
		bool dash_b = *name == '_' || *name == '-';

		if (*key != *name && !(dash_a && dash_b))
			return false;
	}
	return *key == *name;
}

/* An item "key=value" with this key (never a bare value). */
static bool kv_is(const struct kv *kv, const char *name)
{
	return !kv->bare && key_is(kv->key, name);
}

/* QEMU's is_help_option(): "help" or "?". */
static bool is_help(const char *s)
{
	return !strcmp(s, "help") || !strcmp(s, "?");
}

/*
 * Records a help action. The highest ranked wins, the first among equals
 * (see enum qemu_action).
 */
static int action_rank(enum qemu_action a)
{
	switch (a) {
	case QEMU_ACTION_RUN:
		return 0;
	case QEMU_ACTION_ACCEL_HELP:
		return 1;
	case QEMU_ACTION_MACHINE_HELP:
		return 2;
	case QEMU_ACTION_DEVICE_HELP:
	case QEMU_ACTION_DEVICE_PROPS:
		return 3;
	case QEMU_ACTION_CPU_HELP:
		return 4;
	case QEMU_ACTION_HELP:
	case QEMU_ACTION_VERSION:
		return 5;
	}
	return 0;
}

static bool set_action(struct qemu_args *q, enum qemu_action a)
{
	if (action_rank(a) <= action_rank(q->action))
		return false;
	q->action = a;
	return true;
}

static int fail(struct qemu_args *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->error, sizeof(q->error), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/*
 * Copies the text up to the next unescaped ',' of *s into buf, turning
 * ",," into ',' (QEMU's escape for a comma inside a value), and moves *s
 * past it (NULL after the last item). False if it does not fit.
 */
static bool split_item(const char **s, char *buf, size_t size)
{
	const char *p = *s;
	size_t n = 0;

	for (; *p; p++) {
		if (*p == ',' && p[1] != ',')
			break;
		if (*p == ',')
			p++;
		if (n + 1 >= size)
			return false;
		buf[n++] = *p;
	}
	buf[n] = 0;
	*s = *p ? p + 1 : NULL;
	return true;
}

/* Next key=value item of option opt's argument; false at the end. */
static bool kv_next(struct qemu_args *q, const char *opt, const char **s,
		    struct kv *kv, int *err)
{
	char item[sizeof(kv->key) + sizeof(kv->value)];
	char *eq;

	*err = 0;
	if (!*s)
		return false;
	if (!split_item(s, item, sizeof(item))) {
		*err = fail(q, "-%s: an item of '%.64s...' is too long", opt,
			    *s);
		return false;
	}
	eq = strchr(item, '=');
	kv->bare = !eq;
	kv->key[0] = 0;
	if (eq) {
		*eq = 0;
		if (strlen(item) >= sizeof(kv->key)) {
			*err = fail(q, "-%s: '%.64s' is too long", opt, item);
			return false;
		}
		if (strlen(eq + 1) >= sizeof(kv->value)) {
			*err = fail(q, "-%s: the value of '%s' is too long",
				    opt, item);
			return false;
		}
		strcpy(kv->key, item);
		strcpy(kv->value, eq + 1);
	} else if (strlen(item) >= sizeof(kv->value)) {
		*err = fail(q, "-%s: '%.64s...' is too long", opt, item);
		return false;
	} else {
		strcpy(kv->value, item);
	}
	return true;
}

/*
 * -m's size: a whole number of MiB, or with one of QEMU's suffixes B, K,
 * M, G, T, P, E (powers of 1024, either case). Then splitvm's limits:
 * 2 MiB to 1 TiB in whole 4 KiB pages (splitvm_config_set_memory()).
 */
static bool parse_mem(const char *s, unsigned long long *ret)
{
	static const char units[] = "BKMGTPE";
	unsigned long long n;
	unsigned int shift = 20;
	char num[24];
	size_t len = strlen(s);
	const char *u;

	if (len == 0 || len >= sizeof(num))
		return false;
	memcpy(num, s, len + 1);
	u = strchr(units, num[len - 1] & ~0x20);
	if (u && (num[len - 1] & ~0x20)) {
		shift = 10 * (unsigned int)(u - units);
		num[len - 1] = 0;
	}
	if (!parse_uint_base(num, 10, 1, ~0ull >> shift, &n))
		return false;
	n <<= shift;
	if (n < (2ull << 20) || n > (1ull << 40) || n % 4096)
		return false;
	*ret = n;
	return true;
}

static int opt_mem(struct qemu_args *q, struct qemu_machine *m,
		   const char *arg)
{
	const char *s = arg;
	struct kv kv;
	int err;

	while (kv_next(q, "m", &s, &kv, &err)) {
		if (!kv.bare && !key_is(kv.key, "size"))
			return fail(q, "-m: '%s=' is not supported (no memory hotplug: only size)",
				    kv.key);
		if (!parse_mem(kv.value, &m->mem))
			return fail(q, "-m: '%s' is not a size from 2M to 1T in whole pages",
				    kv.value);
	}
	return err;
}

/* -smp's values: cpus, maxcpus and the five topology levels. */
enum { SMP_CPUS, SMP_MAX, SMP_SOCKETS, SMP_DIES, SMP_CLUSTERS, SMP_CORES,
       SMP_THREADS, SMP_N };

/*
 * Fills in omitted topology values the way QEMU 7.2 does for its current
 * machine types ("prefer cores"): with no cpus nor maxcpus, each level
 * defaults to 1; otherwise maxcpus defaults to cpus, then cores (or, if
 * cores is given, sockets) takes what the others leave, then threads.
 * The product of the levels must then equal maxcpus (QEMU's "Invalid CPU
 * topology" rule). splitvm presents no topology: it is only checked.
 */
static int smp_resolve(struct qemu_args *q, unsigned long long v[SMP_N])
{
	unsigned long long *max = &v[SMP_MAX], prod;

	v[SMP_DIES] = v[SMP_DIES] ? v[SMP_DIES] : 1;
	v[SMP_CLUSTERS] = v[SMP_CLUSTERS] ? v[SMP_CLUSTERS] : 1;
	if (!v[SMP_CPUS] && !*max) {
		for (int i = SMP_SOCKETS; i < SMP_N; i++)
			v[i] = v[i] ? v[i] : 1;
	} else {
		*max = *max ? *max : v[SMP_CPUS];
		if (!v[SMP_CORES]) {
			v[SMP_SOCKETS] = v[SMP_SOCKETS] ? v[SMP_SOCKETS] : 1;
			v[SMP_THREADS] = v[SMP_THREADS] ? v[SMP_THREADS] : 1;
			v[SMP_CORES] = *max / (v[SMP_SOCKETS] * v[SMP_DIES] *
					       v[SMP_CLUSTERS] * v[SMP_THREADS]);
		} else if (!v[SMP_SOCKETS]) {
			v[SMP_THREADS] = v[SMP_THREADS] ? v[SMP_THREADS] : 1;
			v[SMP_SOCKETS] = *max / (v[SMP_DIES] * v[SMP_CLUSTERS] *
						 v[SMP_CORES] * v[SMP_THREADS]);
		}
		if (!v[SMP_THREADS])
			v[SMP_THREADS] = *max / (v[SMP_SOCKETS] * v[SMP_DIES] *
						 v[SMP_CLUSTERS] * v[SMP_CORES]);
	}
	prod = v[SMP_SOCKETS] * v[SMP_DIES] * v[SMP_CLUSTERS] * v[SMP_CORES] *
	       v[SMP_THREADS];
	*max = *max ? *max : prod;
	v[SMP_CPUS] = v[SMP_CPUS] ? v[SMP_CPUS] : *max;
	if (prod != *max)
		return fail(q, "-smp: sockets * dies * clusters * cores * threads (%llu) is not maxcpus (%llu)",
			    prod, *max);
	if (v[SMP_CPUS] > 255)
		return fail(q, "-smp: %llu CPUs: splitvm takes 1 to 255",
			    v[SMP_CPUS]);
	if (*max != v[SMP_CPUS])
		return fail(q, "-smp: maxcpus %llu is not cpus %llu (no CPU hotplug)",
			    *max, v[SMP_CPUS]);
	return 0;
}

static int opt_smp(struct qemu_args *q, struct qemu_machine *m,
		   const char *arg)
{
	static const char *const keys[SMP_N] = {
		"cpus", "maxcpus", "sockets", "dies", "clusters", "cores",
		"threads"};
	unsigned long long v[SMP_N] = {0};
	const char *s = arg;
	bool first = true;
	struct kv kv;
	int i, err;

	while (kv_next(q, "smp", &s, &kv, &err)) {
		/* Only the first item may be bare: the number of CPUs. */
		i = kv.bare && first ? SMP_CPUS : SMP_N;
		for (int k = 0; !kv.bare && k < SMP_N; k++)
			if (key_is(kv.key, keys[k]))
				i = k;
		if (i == SMP_N)
			return fail(q, "-smp: '%s%s%s' is not one of [cpus=]N, maxcpus, sockets, dies, clusters, cores, threads",
				    kv.key, kv.bare ? "" : "=", kv.value);
		/* 255 at most each keeps the product of the levels far
		 * from overflowing. */
		if (!parse_uint_base(kv.value, 10, 1, 255, &v[i]))
			return fail(q, "-smp: %s '%s' is not a number from 1 to 255",
				    keys[i], kv.value);
		first = false;
	}
	if (err || (err = smp_resolve(q, v)))
		return err;
	m->cpus = v[SMP_CPUS];
	return 0;
}

/* kernel-irqchip: split is splitvm's own chips, on is KVM's. */
static int set_irqchip(struct qemu_args *q, struct qemu_machine *m,
		       const char *opt, const char *value)
{
	if (!strcmp(value, "split") || !strcmp(value, "on")) {
		m->kernel_irqchip = !strcmp(value, "on");
		return 0;
	}
	if (!strcmp(value, "off"))
		return fail(q, "-%s kernel-irqchip=off is not supported: splitvm keeps the local APICs in KVM (split or on)",
			    opt);
	return fail(q, "-%s: kernel-irqchip '%s' is not split, on or off", opt,
		    value);
}

/* -accel and accel=: KVM is all splitvm runs on. what: "-accel " or
 * "-machine accel=", for the message. */
static int set_accel(struct qemu_args *q, const char *what, const char *value)
{
	size_t n = strcspn(value, ":");

	/* A QEMU list "kvm:tcg" tries in order: KVM is taken first. */
	if (n == 3 && !strncmp(value, "kvm", 3))
		return 0;
	return fail(q, "%s%.*s: splitvm runs only on KVM", what,
		    (int)(n < 32 ? n : 32), value);
}

static int opt_accel(struct qemu_args *q, struct qemu_machine *m,
		     const char *arg)
{
	const char *s = arg;
	bool first = true;
	struct kv kv;
	int err, r;

	while (kv_next(q, "accel", &s, &kv, &err)) {
		if (first && (kv.bare || kv_is(&kv, "accel")) &&
		    is_help(kv.value)) {
			set_action(q, QEMU_ACTION_ACCEL_HELP);
			return 0; /* QEMU looks no further */
		}
		if ((kv.bare && first) || kv_is(&kv, "accel"))
			r = set_accel(q, "-accel ", kv.value);
		else if (kv_is(&kv, "kernel-irqchip"))
			r = set_irqchip(q, m, "accel", kv.value);
		else
			r = fail(q, "-accel: '%s' is not supported (kernel-irqchip only)",
				 kv.bare ? kv.value : kv.key);
		if (r)
			return r;
		first = false;
	}
	return err;
}

/*
 * The machine type: whichever a script names, the guest gets splitvm's
 * PC (ISA devices, IOAPIC, PICs, PIT; no PCI): the test kernels these
 * scripts run ask no more of pc, q35 or microvm.
 */
static bool machine_known(const char *type)
{
	return !strcmp(type, "pc") || !strcmp(type, "q35") ||
	       !strcmp(type, "microvm") ||
	       !strncmp(type, "pc-i440fx-", 10) ||
	       !strncmp(type, "pc-q35-", 7);
}

/*
 * pit, pic and rtc (OnOffAuto on QEMU 7.2's pc and microvm): splitvm's
 * PC has the three chips unless one is turned off; auto is on.
 */
static int machine_chip(struct qemu_args *q, const struct kv *kv, bool *off)
{
	if (!strcmp(kv->value, "on") || !strcmp(kv->value, "auto")) {
		*off = false;
		return 0;
	}
	if (!strcmp(kv->value, "off")) {
		*off = true;
		return 0;
	}
	return fail(q, "-machine: %s '%s' is not on, off or auto", kv->key,
		    kv->value);
}

/* Machine properties for things splitvm lacks: fine when turned off. */
static const struct {
	const char *name;
	const char *lacks;
} machine_absent[] = {
	{"smm", "System Management Mode"},
	{"usb", "USB"},
	{"vmport", "VMware I/O port (0x5658)"},
};

/* 1: kv named one of machine_absent (0, or the refusal, in *r); 0: not. */
static bool machine_prop_absent(struct qemu_args *q, const struct kv *kv,
				int *r)
{
	size_t n = sizeof(machine_absent) / sizeof(machine_absent[0]);

	for (size_t i = 0; i < n; i++) {
		if (!kv_is(kv, machine_absent[i].name))
			continue;
		*r = strcmp(kv->value, "off")
			     ? fail(q, "-machine %s=%s is not supported: splitvm has no %s (only %s=off)",
				    kv->key, kv->value, machine_absent[i].lacks,
				    kv->key)
			     : 0;
		return true;
	}
	return false;
}

static int opt_machine(struct qemu_args *q, struct qemu_machine *m,
		       const char *arg)
{
	const char *s = arg;
	bool first = true;
	struct kv kv;
	int err, r = 0;

	while (kv_next(q, "machine", &s, &kv, &err)) {
		if ((kv.bare && first) || kv_is(&kv, "type")) {
			if (is_help(kv.value)) {
				set_action(q, QEMU_ACTION_MACHINE_HELP);
				return 0; /* QEMU looks no further */
			}
			if (!machine_known(kv.value))
				r = fail(q, "-machine '%s' is not supported (pc, q35 or microvm)",
					 kv.value);
		} else if (kv_is(&kv, "accel")) {
			r = set_accel(q, "-machine accel=", kv.value);
		} else if (kv_is(&kv, "kernel-irqchip")) {
			r = set_irqchip(q, m, "machine", kv.value);
		} else if (kv_is(&kv, "pit")) {
			r = machine_chip(q, &kv, &m->no_pit);
		} else if (kv_is(&kv, "pic")) {
			r = machine_chip(q, &kv, &m->no_pic);
		} else if (kv_is(&kv, "rtc")) {
			r = machine_chip(q, &kv, &m->no_rtc);
		} else if (!machine_prop_absent(q, &kv, &r)) {
			r = fail(q, "-machine: '%s%s%s' is not supported",
				 kv.key, kv.bare ? "" : "=", kv.value);
		}
		if (r)
			return r;
		first = false;
	}
	return err;
}

/* isa-debug-exit must be where splitvm's is: ports 0xf4-0xf7. */
static int device_debug_exit(struct qemu_args *q, const char *s)
{
	/* QEMU's defaults: what a line that leaves them out asks for. */
	unsigned long long base = 0x501, size = 2, *v;
	struct kv kv;
	int err;

	while (kv_next(q, "device", &s, &kv, &err)) {
		if (kv_is(&kv, "id"))
			continue;
		v = kv_is(&kv, "iobase")   ? &base
		    : kv_is(&kv, "iosize") ? &size
					   : NULL;
		if (!v)
			return fail(q, "-device isa-debug-exit: '%s' is not supported (iobase, iosize)",
				    kv.bare ? kv.value : kv.key);
		if (!parse_uint_base(kv.value, 0, 0, UINT32_MAX, v))
			return fail(q, "-device isa-debug-exit: %s '%s' is not a number",
				    kv.key, kv.value);
	}
	if (err)
		return err;
	/* QEMU's default is iobase=0x501,iosize=2; splitvm's port is
	 * fixed, so a script must ask for it. */
	if (base != 0xf4 || size != 4)
		return fail(q, "-device isa-debug-exit: splitvm's is at iobase=0xf4,iosize=4 (not iobase=%#llx,iosize=%llu)",
			    base, size);
	return 0;
}

/* Whether a -device item list (after the name) asks for help. */
static bool device_wants_help(struct qemu_args *q, const char *s)
{
	struct kv kv;
	int err;

	while (kv_next(q, "device", &s, &kv, &err))
		if ((kv.bare && is_help(kv.value)) || kv_is(&kv, "help"))
			return true;
	return false;
}

static int opt_device(struct qemu_args *q, struct qemu_machine *m,
		      const char *arg)
{
	const char *s = arg, *name;
	struct kv kv;
	int err;

	if (!kv_next(q, "device", &s, &kv, &err))
		return err ? err : fail(q, "-device needs a device name");
	if (!kv.bare && !key_is(kv.key, "driver"))
		return fail(q, "-device '%s': the device name comes first",
			    arg);
	/* -device help: the list, whatever follows (as QEMU). */
	if (is_help(kv.value)) {
		set_action(q, QEMU_ACTION_DEVICE_HELP);
		return 0;
	}
	if (!strcmp(kv.value, "isa-debug-exit"))
		name = "isa-debug-exit";
	else if (!strcmp(kv.value, "pc-testdev"))
		name = "pc-testdev";
	else if (!strcmp(kv.value, "pci-testdev"))
		name = "pci-testdev";
	else if (!strcmp(kv.value, "edu"))
		name = "edu";
	else
		return fail(q, "-device '%s' is not supported (isa-debug-exit, pc-testdev, pci-testdev, edu)",
			    kv.value);
	/* -device NAME,help: its options, the rest unchecked (as QEMU). */
	if (device_wants_help(q, s)) {
		if (set_action(q, QEMU_ACTION_DEVICE_PROPS))
			q->help_device = name;
		return 0;
	}
	if (!strcmp(name, "isa-debug-exit"))
		return device_debug_exit(q, s);
	/* pc-testdev and pci-testdev are always there; edu is asked for.
	 * None takes a property but id (QEMU's addr= is not taken: the
	 * slots are splitvm's). */
	while (kv_next(q, "device", &s, &kv, &err))
		if (!kv_is(&kv, "id"))
			return fail(q, "-device %s: '%s' is not supported",
				    name, kv.bare ? kv.value : kv.key);
	if (!err && !strcmp(name, "edu"))
		m->edu = true;
	return err;
}

/*
 * -global DRIVER.PROPERTY=VALUE (or driver=D,property=P,value=V): the
 * one QEMU's test scripts pass, kvm-pit.lost_tick_policy=discard
 * (kvm-unit-tests' x86/run, always), is what splitvm's PIT does anyway:
 * it never re-injects the ticks a vCPU missed. isa-pit is QEMU's
 * userspace PIT, the one it uses with kernel-irqchip=split.
 */
static int opt_global(struct qemu_args *q, const char *arg)
{
	char driver[64] = "", prop[64] = "", value[64] = "";
	size_t n = strcspn(arg, ".=");
	const char *s = arg;
	struct kv kv;
	int err;

	if (arg[n] == '.') {
		const char *eq = strchr(arg + n, '=');
		size_t pn = eq ? (size_t)(eq - arg - n - 1) : 0;

		if (!eq || !n || !pn || n >= sizeof(driver) ||
		    pn >= sizeof(prop) || strlen(eq + 1) >= sizeof(value))
			return fail(q, "-global '%.64s' is not DRIVER.PROPERTY=VALUE",
				    arg);
		memcpy(driver, arg, n);
		memcpy(prop, arg + n + 1, pn);
		strcpy(value, eq + 1);
	} else {
		while (kv_next(q, "global", &s, &kv, &err)) {
			char *to = kv_is(&kv, "driver")	    ? driver
				   : kv_is(&kv, "property") ? prop
				   : kv_is(&kv, "value")    ? value
							    : NULL;

			if (!to || strlen(kv.value) >= sizeof(driver))
				return fail(q, "-global '%.64s' is not DRIVER.PROPERTY=VALUE",
					    arg);
			strcpy(to, kv.value);
		}
		if (err)
			return err;
		if (!driver[0] || !prop[0])
			return fail(q, "-global '%.64s' is not DRIVER.PROPERTY=VALUE",
				    arg);
	}
	if ((strcmp(driver, "kvm-pit") && strcmp(driver, "isa-pit")) ||
	    !key_is(prop, "lost_tick_policy"))
		return fail(q, "-global %s.%s is not supported (only kvm-pit.lost_tick_policy=discard)",
			    driver, prop);
	if (strcmp(value, "discard"))
		return fail(q, "-global %s.%s=%s is not supported: splitvm's PIT never re-injects lost ticks (only discard)",
			    driver, prop, value);
	return 0;
}

/*
 * -overcommit: QEMU's defaults (mem-lock=off, cpu-pm=off) are what
 * splitvm does; it can do neither of the others.
 */
static int opt_overcommit(struct qemu_args *q, const char *arg)
{
	const char *s = arg;
	struct kv kv;
	int err;

	while (kv_next(q, "overcommit", &s, &kv, &err)) {
		if (!kv_is(&kv, "mem-lock") && !kv_is(&kv, "cpu-pm"))
			return fail(q, "-overcommit: '%s' is not supported (mem-lock, cpu-pm)",
				    kv.bare ? kv.value : kv.key);
		if (!strcmp(kv.value, "off"))
			continue;
		if (kv_is(&kv, "cpu-pm"))
			return fail(q, "-overcommit cpu-pm=%s is not supported: splitvm keeps the HLT, MWAIT and PAUSE exits (only cpu-pm=off)",
				    kv.value);
		return fail(q, "-overcommit mem-lock=%s is not supported: splitvm does not lock guest memory (only mem-lock=off)",
			    kv.value);
	}
	return err;
}

/* -cpu MODEL[,FLAGS]: the library checks it (splitvm_config_set_cpu()). */
static int opt_cpu(struct qemu_args *q, struct qemu_machine *m,
		   const char *arg)
{
	if (is_help(arg)) {
		set_action(q, QEMU_ACTION_CPU_HELP);
		return 0;
	}
	if (!*arg || *arg == ',')
		return fail(q, "-cpu '%s': the CPU model comes first (see -cpu help)",
			    arg);
	m->cpu = arg; /* the last -cpu counts, as in QEMU */
	return 0;
}

/* COM1 only: QEMU's second -serial would be COM2. */
static int opt_serial(struct qemu_args *q, struct qemu_machine *m,
		      const char *arg)
{
	const char *native;

	if (!strcmp(arg, "stdio") || !strcmp(arg, "mon:stdio"))
		native = "stdio";
	else if (!strcmp(arg, "null") || !strcmp(arg, "none"))
		native = "none";
	else if (!strncmp(arg, "file:", 5) && arg[5])
		native = arg;
	else
		return fail(q, "-serial '%s' is not supported (stdio, mon:stdio, null, none, file:PATH)",
			    arg);
	if (strcmp(native, "none") && m->serials++)
		return fail(q, "-serial '%s': splitvm has one serial port (COM1)",
			    arg);
	m->serial = native;
	return 0;
}

/* Options whose only accepted value is one word ("none", "host"...). */
static int only(struct qemu_args *q, const char *opt, const char *arg,
		const char *a, const char *b)
{
	if (!strcmp(arg, a) || (b && !strcmp(arg, b)))
		return 0;
	return fail(q, "-%s '%s' is not supported (only %s%s%s)", opt, arg, a,
		    b ? " or " : "", b ? b : "");
}

enum qemu_opt_id {
	O_KERNEL, O_INITRD, O_APPEND, O_M, O_SMP, O_MACHINE, O_ACCEL,
	O_ENABLE_KVM, O_CPU, O_DEVICE, O_SERIAL, O_NOGRAPHIC, O_DISPLAY,
	O_VGA, O_VNC, O_MONITOR, O_NODEFAULTS, O_NO_REBOOT, O_NAME,
	O_GLOBAL, O_OVERCOMMIT, O_VERSION, O_HELP, O_REFUSED,
};

struct qemu_opt {
	const char *name;
	enum qemu_opt_id id;
	bool has_arg;
	const char *refusal; /* O_REFUSED: why */
};

static const struct qemu_opt qemu_opts[] = {
	{"kernel", O_KERNEL, true, NULL},
	{"initrd", O_INITRD, true, NULL},
	{"append", O_APPEND, true, NULL},
	{"m", O_M, true, NULL},
	{"smp", O_SMP, true, NULL},
	{"machine", O_MACHINE, true, NULL},
	{"M", O_MACHINE, true, NULL},
	{"accel", O_ACCEL, true, NULL},
	{"enable-kvm", O_ENABLE_KVM, false, NULL},
	{"cpu", O_CPU, true, NULL},
	{"device", O_DEVICE, true, NULL},
	{"serial", O_SERIAL, true, NULL},
	{"nographic", O_NOGRAPHIC, false, NULL},
	{"display", O_DISPLAY, true, NULL},
	{"vga", O_VGA, true, NULL},
	{"vnc", O_VNC, true, NULL},
	{"monitor", O_MONITOR, true, NULL},
	{"nodefaults", O_NODEFAULTS, false, NULL},
	{"no-reboot", O_NO_REBOOT, false, NULL},
	{"name", O_NAME, true, NULL},
	{"global", O_GLOBAL, true, NULL},
	{"overcommit", O_OVERCOMMIT, true, NULL},
	{"version", O_VERSION, false, NULL},
	{"h", O_HELP, false, NULL},
	{"help", O_HELP, false, NULL},
	{"S", O_REFUSED, false, "splitvm has no monitor to start a stopped VM"},
	{"no-shutdown", O_REFUSED, false,
	 "splitvm always ends when the guest powers off"},
	{"bios", O_REFUSED, true, "splitvm boots -kernel images, no firmware"},
	{"hda", O_REFUSED, true, "splitvm has no disks"},
	{"drive", O_REFUSED, true, "splitvm has no disks"},
	{"cdrom", O_REFUSED, true, "splitvm has no disks"},
	{"netdev", O_REFUSED, true, "splitvm has no network"},
	{"gdb", O_REFUSED, true, "splitvm has no gdb stub"},
	{"s", O_REFUSED, false, "splitvm has no gdb stub"},
	{"chardev", O_REFUSED, true,
	 "splitvm's only character device is COM1 (see -serial)"},
	{"mon", O_REFUSED, true, "splitvm has no monitor (QMP or HMP)"},
	{"qmp", O_REFUSED, true, "splitvm has no monitor (QMP or HMP)"},
	{"incoming", O_REFUSED, true, "splitvm cannot migrate a VM"},
};

static int apply(struct qemu_args *q, struct qemu_machine *m,
		 const struct qemu_opt *o, const char *arg)
{
	switch (o->id) {
	case O_KERNEL:
		m->kernel = arg;
		return 0;
	case O_INITRD:
		m->initrd = arg; /* QEMU: the last -initrd counts */
		return 0;
	case O_APPEND:
		m->append = arg;
		return 0;
	case O_M:
		return opt_mem(q, m, arg);
	case O_SMP:
		return opt_smp(q, m, arg);
	case O_MACHINE:
		return opt_machine(q, m, arg);
	case O_ACCEL:
		return opt_accel(q, m, arg);
	case O_CPU:
		return opt_cpu(q, m, arg);
	case O_DEVICE:
		return opt_device(q, m, arg);
	case O_SERIAL:
		return opt_serial(q, m, arg);
	case O_NOGRAPHIC:
		m->nographic = true;
		return 0;
	case O_DISPLAY:
		return only(q, "display", arg, "none", NULL);
	case O_VGA:
		return only(q, "vga", arg, "none", NULL);
	case O_VNC:
		return only(q, "vnc", arg, "none", NULL);
	case O_MONITOR:
		return only(q, "monitor", arg, "none", NULL);
	case O_NO_REBOOT:
		q->no_reboot = true;
		return 0;
	case O_GLOBAL:
		return opt_global(q, arg);
	case O_OVERCOMMIT:
		return opt_overcommit(q, arg);
	case O_VERSION:
		set_action(q, QEMU_ACTION_VERSION);
		return 0;
	case O_HELP:
		set_action(q, QEMU_ACTION_HELP);
		return 0;
	case O_REFUSED:
		return fail(q, "qemu option -%s is not supported: %s", o->name,
			    o->refusal);
	case O_ENABLE_KVM:
	case O_NODEFAULTS: /* COM1 is off without -serial either way */
	case O_NAME:
		return 0;
	}
	return 0;
}

static int push(struct qemu_args *q, const char *a, const char *b)
{
	const char *s[2] = {a, b};

	for (int i = 0; i < 2 && s[i]; i++) {
		if (q->run_argc + 1 >= QEMU_ARGS_MAX_ARGV)
			return fail(q, "too many arguments");
		q->run_argv[q->run_argc] = strdup(s[i]);
		if (!q->run_argv[q->run_argc])
			return -ENOMEM;
		q->run_argc++;
	}
	return 0;
}

/*
 * -initrd's list: for a multiboot kernel QEMU loads each file as a
 * module, in order. The first becomes --initrd (module 0), the rest
 * --module. A module's own command line ("file args") is not supported.
 */
static int push_initrd(struct qemu_args *q, const char *list)
{
	char path[4096];
	const char *s = list;
	int files = 0, r;

	do {
		if (!split_item(&s, path, sizeof(path)))
			return fail(q, "-initrd: a file name is too long");
		if (!path[0])
			return fail(q, "-initrd: an empty file name in '%s'",
				    list);
		if (strchr(path, ' '))
			return fail(q, "-initrd: '%s': module command lines are not supported",
				    path);
		/* splitvm_config_add_module()'s limit, plus module 0. */
		if (++files > 65)
			return fail(q, "-initrd: more than 65 files");
		r = push(q, files == 1 ? "--initrd" : "--module", path);
		if (r)
			return r;
	} while (s);
	return 0;
}

/* The native options for the machine m describes. */
static int build_run_argv(struct qemu_args *q, const struct qemu_machine *m)
{
	char num[32];
	int r;

	if (!m->kernel)
		return fail(q, "-kernel FILE is needed: splitvm boots no firmware or disk");
	if ((r = push(q, "run", "--kernel")) || (r = push(q, m->kernel, NULL)))
		return r;
	if (m->initrd && (r = push_initrd(q, m->initrd)))
		return r;
	if (m->append && (r = push(q, "--append", m->append)))
		return r;
	if (m->cpus) {
		snprintf(num, sizeof(num), "%llu", m->cpus);
		if ((r = push(q, "--cpus", num)))
			return r;
	}
	/* QEMU's default is 128 MiB (splitvm's own, 64): a test kernel
	 * sized for QEMU must find as much. */
	snprintf(num, sizeof(num), "%lluK",
		 (m->mem ? m->mem : QEMU_DEFAULT_MEMORY) >> 10);
	if ((r = push(q, "--memory", num)))
		return r;
	/* QEMU's default model is qemu64: a test expects its CPUID. */
	if ((r = push(q, "--cpu", m->cpu ? m->cpu : "qemu64")))
		return r;
	/* QEMU without -serial: -nographic puts COM1 on stdio, otherwise
	 * it goes to a display ("vc") or nowhere (-nodefaults). */
	if ((r = push(q, "--serial", m->serial      ? m->serial
				     : m->nographic ? "stdio"
						    : "none")))
		return r;
	if (m->kernel_irqchip && (r = push(q, "--irqchip", "kernel")))
		return r;
	if ((m->no_pit && (r = push(q, "--no-pit", NULL))) ||
	    (m->no_pic && (r = push(q, "--no-pic", NULL))) ||
	    (m->no_rtc && (r = push(q, "--no-rtc", NULL))) ||
	    (m->edu && (r = push(q, "--device", "edu"))))
		return r;
	q->run_argv[q->run_argc] = NULL;
	return 0;
}

static const struct qemu_opt *find_opt(const char *arg)
{
	const char *name = arg + 1;

	if (*name == '-') /* QEMU takes --opt as -opt */
		name++;
	for (size_t i = 0; i < sizeof(qemu_opts) / sizeof(qemu_opts[0]); i++)
		if (!strcmp(qemu_opts[i].name, name))
			return &qemu_opts[i];
	return NULL;
}

int qemu_args_parse(int argc, char *const *argv, struct qemu_args *ret)
{
	struct qemu_machine m = {0};
	int r;

	memset(ret, 0, sizeof(*ret));
	for (int i = 1; i < argc; i++) {
		const struct qemu_opt *o;
		const char *arg = NULL;

		if (argv[i][0] != '-' || !argv[i][1])
			return fail(ret, "unexpected argument '%s': splitvm has no disks (use -kernel)",
				    argv[i]);
		o = find_opt(argv[i]);
		if (!o)
			return fail(ret, "qemu option %s is not supported",
				    argv[i]);
		if (o->has_arg) {
			if (i + 1 >= argc)
				return fail(ret, "qemu option %s needs a value",
					    argv[i]);
			arg = argv[++i];
		}
		if ((r = apply(ret, &m, o, arg)))
			return r;
	}
	if (ret->action != QEMU_ACTION_RUN)
		return 0;
	r = build_run_argv(ret, &m);
	if (r)
		qemu_args_free(ret); /* no half-made line */
	return r;
}

void qemu_args_free(struct qemu_args *q)
{
	for (int i = 0; i < q->run_argc; i++)
		free(q->run_argv[i]);
	q->run_argc = 0;
	q->run_argv[0] = NULL;
}
