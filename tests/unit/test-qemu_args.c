// SPDX-License-Identifier: MIT
/* The QEMU front end: qemu-system-x86_64 options to 'splitvm run' options. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "qemu_args.h"
#include "unit.h"

#define MAX_ARGS 200

/* Parses a NULL-terminated list of options after the program name. */
static int parse(struct qemu_args *q, const char *const *opts)
{
	char *argv[MAX_ARGS] = {(char *)"qemu-system-x86_64"};
	int argc = 1;

	for (; *opts; opts++) {
		ck_assert_int_lt(argc, MAX_ARGS - 1);
		argv[argc++] = (char *)*opts;
	}
	return qemu_args_parse(argc, argv, q);
}

/* run_argv joined by spaces, an empty argument as ''. */
static const char *joined(const struct qemu_args *q, char *buf, size_t size)
{
	size_t n = 0;

	ck_assert_ptr_null(q->run_argv[q->run_argc]);
	buf[0] = 0;
	for (int i = 0; i < q->run_argc; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? " " : "",
				      *q->run_argv[i] ? q->run_argv[i] : "''");
	ck_assert_uint_lt(n, size);
	return buf;
}

/* The options must translate to exactly the native line expect. */
static void accepts_(const char *expect, const char *const *opts)
{
	struct qemu_args q;
	char buf[8192];
	int r = parse(&q, opts);

	ck_assert_msg(r == 0, "refused (%d): %s", r, q.error);
	ck_assert_int_eq(q.action, QEMU_ACTION_RUN);
	ck_assert_str_eq(joined(&q, buf, sizeof(buf)), expect);
	qemu_args_free(&q);
}

/* The options must be refused with exactly this message. */
static void refuses_(const char *message, const char *const *opts)
{
	struct qemu_args q;
	int r = parse(&q, opts);

	ck_assert_int_eq(r, -EINVAL);
	ck_assert_str_eq(q.error, message);
	ck_assert_int_eq(q.run_argc, 0);
	ck_assert_ptr_null(strchr(q.error, '\n'));
	qemu_args_free(&q);
}

/*
 * The options must ask for this action rather than a boot: no native
 * line. device: QEMU_ACTION_DEVICE_PROPS's help_device.
 */
static void acts_(enum qemu_action action, const char *device,
		  const char *const *opts)
{
	struct qemu_args q;
	int r = parse(&q, opts);

	ck_assert_msg(r == 0, "refused (%d): %s", r, q.error);
	ck_assert_int_eq(q.action, action);
	ck_assert_int_eq(q.run_argc, 0);
	ck_assert_ptr_null(q.run_argv[0]);
	if (action == QEMU_ACTION_DEVICE_PROPS)
		ck_assert_str_eq(q.help_device, device);
	qemu_args_free(&q);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ACCEPTS(expect, ...) accepts_(expect, ARGS(__VA_ARGS__))
#define REFUSES(message, ...) refuses_(message, ARGS(__VA_ARGS__))
#define ACTS(action, ...) acts_(action, NULL, ARGS(__VA_ARGS__))
#define DEVICE_PROPS(device, ...)                                              \
	acts_(QEMU_ACTION_DEVICE_PROPS, device, ARGS(__VA_ARGS__))
/* -kernel k plus the options, and what they add after the kernel. */
#define K_ACCEPTS(tail, ...) ACCEPTS("run --kernel k " tail, "-kernel", "k", __VA_ARGS__)
#define K_REFUSES(message, ...) REFUSES(message, "-kernel", "k", __VA_ARGS__)

START_TEST(qemu_args_minimal)
{
	ACCEPTS("run --kernel k --memory 131072K --cpu qemu64 --serial none", "-kernel", "k");
	/* The last -kernel counts, as in QEMU. */
	ACCEPTS("run --kernel b --memory 131072K --cpu qemu64 --serial none", "-kernel", "a",
		"-kernel", "b");
}
END_TEST

/* The exact command line of tests/cli/test-qemu.sh. */
START_TEST(qemu_args_test_script_line)
{
	ACCEPTS("run --kernel g/bootinfo.elf --initrd m0 --module m1 "
		"--append mods=2 cpus=2 --cpus 2 --memory 98304K --cpu qemu64 "
		"--serial stdio",
		"-accel", "kvm", "-m", "96", "-smp", "2", "-display", "none",
		"-nodefaults", "-no-reboot", "-device",
		"isa-debug-exit,iobase=0xf4,iosize=4", "-serial", "stdio",
		"-kernel", "g/bootinfo.elf", "-append", "mods=2 cpus=2",
		"-initrd", "m0,m1");
}
END_TEST

START_TEST(qemu_args_double_dash)
{
	ACCEPTS("run --kernel k --cpus 2 --memory 65536K --cpu qemu64 --serial stdio",
		"--kernel", "k", "--m", "64", "--smp", "2", "--serial", "stdio",
		"--no-reboot", "--nodefaults");
}
END_TEST

START_TEST(qemu_args_memory_forms)
{
	K_ACCEPTS("--memory 65536K --cpu qemu64 --serial none", "-m", "64");
	K_ACCEPTS("--memory 65536K --cpu qemu64 --serial none", "-m", "64M");
	K_ACCEPTS("--memory 65536K --cpu qemu64 --serial none", "-m", "64m");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-m",
		  "size=128M");
	K_ACCEPTS("--memory 1048576K --cpu qemu64 --serial none", "-m", "1G");
	K_ACCEPTS("--memory 1048576K --cpu qemu64 --serial none", "-m", "1g");
	K_ACCEPTS("--memory 2048K --cpu qemu64 --serial none", "-m", "2048K");
	K_ACCEPTS("--memory 4096K --cpu qemu64 --serial none", "-m",
		  "4194304B");
	K_ACCEPTS("--memory 1073741824K --cpu qemu64 --serial none", "-m",
		  "1T");
	/* The last -m counts. */
	K_ACCEPTS("--memory 32768K --cpu qemu64 --serial none", "-m", "64",
		  "-m", "32M");
}
END_TEST

START_TEST(qemu_args_memory_refused)
{
	static const char *const bad[] = {
		"1M", "2000T", "1P", "1E", "64MB", "", "0", "-1", "+64",
		"1.5G", "4097K", "M", "64 ", " 64", "0x40",
		"99999999999999G", "18446744073709551616",
		"99999999999999999999999999999999999999999"};
	char msg[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(msg, sizeof(msg),
			 "-m: '%s' is not a size from 2M to 1T in whole pages",
			 bad[i]);
		K_REFUSES(msg, "-m", bad[i]);
	}
	K_REFUSES("-m: 'slots=' is not supported (no memory hotplug: only size)",
		  "-m", "size=64M,slots=2");
	K_REFUSES("-m: 'maxmem=' is not supported (no memory hotplug: only size)",
		  "-m", "64M,maxmem=1G");
}
END_TEST

START_TEST(qemu_args_smp_forms)
{
	K_ACCEPTS("--cpus 4 --memory 131072K --cpu qemu64 --serial none", "-smp", "4");
	K_ACCEPTS("--cpus 4 --memory 131072K --cpu qemu64 --serial none", "-smp", "cpus=4");
	K_ACCEPTS("--cpus 4 --memory 131072K --cpu qemu64 --serial none", "-smp",
		  "4,sockets=1,cores=4,threads=1");
	K_ACCEPTS("--cpus 4 --memory 131072K --cpu qemu64 --serial none", "-smp",
		  "4,sockets=1,dies=1,clusters=1,cores=2,threads=2");
	/* Omitted levels are filled in (cores first), or the product. */
	K_ACCEPTS("--cpus 4 --memory 131072K --cpu qemu64 --serial none", "-smp", "4,cores=2");
	K_ACCEPTS("--cpus 4 --memory 131072K --cpu qemu64 --serial none", "-smp", "4,sockets=2");
	K_ACCEPTS("--cpus 4 --memory 131072K --cpu qemu64 --serial none", "-smp",
		  "4,sockets=2,cores=2");
	K_ACCEPTS("--cpus 4 --memory 131072K --cpu qemu64 --serial none", "-smp",
		  "sockets=2,cores=2");
	K_ACCEPTS("--cpus 6 --memory 131072K --cpu qemu64 --serial none", "-smp",
		  "cores=3,threads=2");
	K_ACCEPTS("--cpus 4 --memory 131072K --cpu qemu64 --serial none", "-smp", "4,maxcpus=4");
	K_ACCEPTS("--cpus 1 --memory 131072K --cpu qemu64 --serial none", "-smp", "1");
	K_ACCEPTS("--cpus 255 --memory 131072K --cpu qemu64 --serial none", "-smp", "255");
}
END_TEST

START_TEST(qemu_args_smp_refused)
{
	K_REFUSES("-smp: cpus '0' is not a number from 1 to 255", "-smp", "0");
	K_REFUSES("-smp: cpus '256' is not a number from 1 to 255", "-smp",
		  "256");
	K_REFUSES("-smp: cpus 'two' is not a number from 1 to 255", "-smp",
		  "two");
	K_REFUSES("-smp: cpus '' is not a number from 1 to 255", "-smp", "");
	K_REFUSES("-smp: cpus '-1' is not a number from 1 to 255", "-smp",
		  "-1");
	K_REFUSES("-smp: cpus '99999999999999999999999' is not a number from 1 to 255",
		  "-smp", "99999999999999999999999");
	K_REFUSES("-smp: cores '0' is not a number from 1 to 255", "-smp",
		  "4,cores=0");
	K_REFUSES("-smp: sockets * dies * clusters * cores * threads (2) is not maxcpus (4)",
		  "-smp", "4,sockets=1,cores=2,threads=1");
	K_REFUSES("-smp: sockets * dies * clusters * cores * threads (0) is not maxcpus (4)",
		  "-smp", "4,sockets=8");
	K_REFUSES("-smp: maxcpus 8 is not cpus 4 (no CPU hotplug)", "-smp",
		  "4,maxcpus=8");
	K_REFUSES("-smp: 65025 CPUs: splitvm takes 1 to 255", "-smp",
		  "sockets=255,cores=255");
	K_REFUSES("-smp: 'foo=1' is not one of [cpus=]N, maxcpus, sockets, dies, clusters, cores, threads",
		  "-smp", "4,foo=1");
	K_REFUSES("-smp: '4' is not one of [cpus=]N, maxcpus, sockets, dies, clusters, cores, threads",
		  "-smp", "cores=2,4");
	K_REFUSES("-smp: '' is not one of [cpus=]N, maxcpus, sockets, dies, clusters, cores, threads",
		  "-smp", "4,");
}
END_TEST

START_TEST(qemu_args_machine_accepted)
{
	static const char *const ok[] = {
		"pc", "q35", "microvm", "pc-i440fx-7.2", "pc-q35-7.2",
		"type=q35", "pc,accel=kvm", "accel=kvm:tcg",
		"q35,accel=kvm,kernel-irqchip=split",
		"pc,smm=off,usb=off,vmport=off"};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-machine", ok[i]);
		K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-M", ok[i]);
	}
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none --irqchip kernel", "-machine",
		  "pc,kernel-irqchip=on");
	/* The last word counts, whichever option says it. */
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-machine", "kernel-irqchip=on",
		  "-accel", "kvm,kernel-irqchip=split");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none --irqchip kernel", "-accel",
		  "kvm,kernel-irqchip=on");
	K_ACCEPTS("--memory 131072K --cpu max --serial none", "-accel", "kvm", "-enable-kvm",
		  "-cpu", "host", "-cpu", "max");
}
END_TEST

START_TEST(qemu_args_machine_refused)
{
	K_REFUSES("-machine 'isapc' is not supported (pc, q35 or microvm)",
		  "-machine", "isapc");
	K_REFUSES("-machine '' is not supported (pc, q35 or microvm)", "-M",
		  "");
	K_REFUSES("-machine 'Help' is not supported (pc, q35 or microvm)", "-M",
		  "Help");
	K_REFUSES("-machine accel=tcg: splitvm runs only on KVM", "-machine",
		  "pc,accel=tcg");
	K_REFUSES("-machine accel=tcg: splitvm runs only on KVM", "-machine",
		  "accel=tcg:kvm");
	K_REFUSES("-machine kernel-irqchip=off is not supported: splitvm keeps the local APICs in KVM (split or on)",
		  "-machine", "pc,kernel-irqchip=off");
	K_REFUSES("-machine: kernel-irqchip 'maybe' is not split, on or off",
		  "-machine", "pc,kernel-irqchip=maybe");
	K_REFUSES("-machine smm=on is not supported: splitvm has no System Management Mode (only smm=off)",
		  "-machine", "pc,smm=on");
	K_REFUSES("-machine: 'foo=bar' is not supported", "-machine",
		  "pc,foo=bar");
	K_REFUSES("-machine: 'q35' is not supported", "-machine", "pc,q35");
	K_REFUSES("-accel tcg: splitvm runs only on KVM", "-accel", "tcg");
	K_REFUSES("-accel xen: splitvm runs only on KVM", "-accel", "xen");
	K_REFUSES("-accel : splitvm runs only on KVM", "-accel", "");
	K_REFUSES("-accel: 'foo' is not supported (kernel-irqchip only)",
		  "-accel", "kvm,foo=1");
	K_REFUSES("-accel kernel-irqchip=off is not supported: splitvm keeps the local APICs in KVM (split or on)",
		  "-accel", "kvm,kernel-irqchip=off");
	K_REFUSES("-accel: 'help' is not supported (kernel-irqchip only)",
		  "-accel", "kvm,help");
}
END_TEST

START_TEST(qemu_args_devices)
{
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-device",
		  "isa-debug-exit,iobase=0xf4,iosize=0x04");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-device",
		  "isa-debug-exit,iobase=0xf4,iosize=4", "-device",
		  "isa-debug-exit,id=dx,iosize=0x4,iobase=244");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-device",
		  "driver=isa-debug-exit,iobase=0364,iosize=4");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-device", "pc-testdev",
		  "-device", "pc-testdev,id=t");
}
END_TEST

START_TEST(qemu_args_devices_refused)
{
	K_REFUSES("-device isa-debug-exit: splitvm's is at iobase=0xf4,iosize=4 (not iobase=0x501,iosize=2)",
		  "-device", "isa-debug-exit");
	K_REFUSES("-device isa-debug-exit: splitvm's is at iobase=0xf4,iosize=4 (not iobase=0xf4,iosize=2)",
		  "-device", "isa-debug-exit,iobase=0xf4");
	K_REFUSES("-device isa-debug-exit: splitvm's is at iobase=0xf4,iosize=4 (not iobase=0x501,iosize=4)",
		  "-device", "isa-debug-exit,iosize=4");
	/* The message names what was written, 0 included (not a default). */
	K_REFUSES("-device isa-debug-exit: splitvm's is at iobase=0xf4,iosize=4 (not iobase=0xf4,iosize=0)",
		  "-device", "isa-debug-exit,iobase=0xf4,iosize=0");
	K_REFUSES("-device isa-debug-exit: splitvm's is at iobase=0xf4,iosize=4 (not iobase=0,iosize=4)",
		  "-device", "isa-debug-exit,iobase=0,iosize=4");
	K_REFUSES("-device isa-debug-exit: iobase 'zz' is not a number",
		  "-device", "isa-debug-exit,iobase=zz,iosize=4");
	K_REFUSES("-device isa-debug-exit: iobase '0x1ffffffff' is not a number",
		  "-device", "isa-debug-exit,iobase=0x1ffffffff,iosize=4");
	K_REFUSES("-device isa-debug-exit: iosize '' is not a number",
		  "-device", "isa-debug-exit,iobase=0xf4,iosize=");
	K_REFUSES("-device isa-debug-exit: 'bus' is not supported (iobase, iosize)",
		  "-device", "isa-debug-exit,bus=isa.0,iobase=0xf4,iosize=4");
	K_REFUSES("-device 'e1000' is not supported (isa-debug-exit, pc-testdev, pci-testdev, edu)",
		  "-device", "e1000");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-device", "pci-testdev");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none --device edu", "-device", "edu");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none --device edu", "-device",
		  "edu,id=e0");
	K_REFUSES("-device edu: 'addr' is not supported", "-device",
		  "edu,addr=04.0");
	K_REFUSES("-device '' is not supported (isa-debug-exit, pc-testdev, pci-testdev, edu)",
		  "-device", "");
	K_REFUSES("-device 'id=x,pc-testdev': the device name comes first",
		  "-device", "id=x,pc-testdev");
	K_REFUSES("-device pc-testdev: 'x' is not supported", "-device",
		  "pc-testdev,x");
}
END_TEST

START_TEST(qemu_args_serial)
{
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial stdio", "-serial", "stdio");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial stdio", "-serial", "mon:stdio");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-serial", "null");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-serial", "none");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial file:/tmp/a,b", "-serial",
		  "file:/tmp/a,b");
	/* -nographic puts COM1 on stdio unless -serial says otherwise. */
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial stdio", "-nographic");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-nographic", "-serial",
		  "null");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial stdio", "-serial", "none", "-serial",
		  "stdio");
	K_REFUSES("-serial 'pty' is not supported (stdio, mon:stdio, null, none, file:PATH)",
		  "-serial", "pty");
	K_REFUSES("-serial 'file:' is not supported (stdio, mon:stdio, null, none, file:PATH)",
		  "-serial", "file:");
	K_REFUSES("-serial 'tcp::4444,server' is not supported (stdio, mon:stdio, null, none, file:PATH)",
		  "-serial", "tcp::4444,server");
	K_REFUSES("-serial 'stdio': splitvm has one serial port (COM1)",
		  "-serial", "stdio", "-serial", "stdio");
}
END_TEST

START_TEST(qemu_args_flags)
{
	struct qemu_args q;

	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-display", "none", "-vga",
		  "none", "-vnc", "none", "-monitor", "none", "-nodefaults",
		  "-name", "t,x=y", "-no-reboot", "-enable-kvm");
	ck_assert_int_eq(parse(&q, ARGS("-kernel", "k", "-no-reboot")), 0);
	ck_assert(q.no_reboot);
	qemu_args_free(&q);
	ck_assert_int_eq(parse(&q, ARGS("-kernel", "k")), 0);
	ck_assert(!q.no_reboot);
	qemu_args_free(&q);
	K_REFUSES("-display 'gtk' is not supported (only none)", "-display",
		  "gtk");
	K_REFUSES("-vga 'std' is not supported (only none)", "-vga", "std");
	K_REFUSES("-vnc ':0' is not supported (only none)", "-vnc", ":0");
	K_REFUSES("-monitor 'stdio' is not supported (only none)", "-monitor",
		  "stdio");
}
END_TEST

START_TEST(qemu_args_initrd_append)
{
	K_ACCEPTS("--initrd a --module b --module c --memory 131072K --cpu qemu64 --serial none",
		  "-initrd", "a,b,c");
	/* ",," is QEMU's escape for a comma in a name. */
	K_ACCEPTS("--initrd a,b --module c, --memory 131072K --cpu qemu64 --serial none",
		  "-initrd", "a,,b,c,,");
	K_ACCEPTS("--initrd z --memory 131072K --cpu qemu64 --serial none", "-initrd", "a,b",
		  "-initrd", "z");
	K_ACCEPTS("--append exit=3 x=a,b --memory 131072K --cpu qemu64 --serial none", "-append",
		  "exit=3 x=a,b");
	K_ACCEPTS("--append '' --memory 131072K --cpu qemu64 --serial none", "-append", "");
	K_ACCEPTS("--append -S --memory 131072K --cpu qemu64 --serial none", "-append", "-S");
	K_REFUSES("-initrd: an empty file name in 'a,'", "-initrd", "a,");
	K_REFUSES("-initrd: an empty file name in ''", "-initrd", "");
	K_REFUSES("-initrd: an empty file name in 'a,,,'", "-initrd", "a,,,");
	K_REFUSES("-initrd: 'm0 arg=1': module command lines are not supported",
		  "-initrd", "m0 arg=1");
}
END_TEST

/* splitvm takes module 0 and 64 more: 65 files, and not one more. */
START_TEST(qemu_args_initrd_limit)
{
	char list[66 * 4], expect[66 * 16] = "run --kernel k";
	struct qemu_args q;
	size_t n = 0, mods;

	for (int i = 0; i < 65; i++) {
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%d",
				      i ? "," : "", i);
		snprintf(expect + strlen(expect), sizeof(expect) - strlen(expect),
			 " %s %d", i ? "--module" : "--initrd", i);
	}
	mods = strlen(expect);
	strcat(expect, " --memory 131072K --cpu qemu64 --serial none");
	ACCEPTS(expect, "-kernel", "k", "-initrd", list);
	/* With the other native options too (QEMU_ARGS_MAX_ARGV). */
	snprintf(expect + mods, sizeof(expect) - mods,
		 " --append a --cpus 2 --memory 65536K --cpu host"
		 " --serial stdio --no-pit --no-pic --no-rtc");
	ACCEPTS(expect, "-kernel", "k", "-initrd", list, "-append", "a", "-smp",
		"2", "-m", "64", "-cpu", "host", "-serial", "stdio", "-machine",
		"pit=off,pic=off,rtc=off");
	strcat(list, ",65");
	ck_assert_int_eq(parse(&q, ARGS("-kernel", "k", "-initrd", list)),
			 -EINVAL);
	ck_assert_str_eq(q.error, "-initrd: more than 65 files");
	qemu_args_free(&q);
}
END_TEST

START_TEST(qemu_args_refused)
{
	REFUSES("qemu option -xyz is not supported", "-kernel", "k", "-xyz");
	REFUSES("qemu option --xyz is not supported", "--xyz");
	REFUSES("qemu option --- is not supported", "---");
	REFUSES("qemu option -kernel=k is not supported", "-kernel=k");
	REFUSES("qemu option -S is not supported: splitvm has no monitor to start a stopped VM",
		"-kernel", "k", "-S");
	REFUSES("qemu option -no-shutdown is not supported: splitvm always ends when the guest powers off",
		"-kernel", "k", "-no-shutdown");
	REFUSES("qemu option -hda is not supported: splitvm has no disks",
		"-hda", "disk.img", "-kernel", "k");
	REFUSES("qemu option -s is not supported: splitvm has no gdb stub",
		"-s");
	REFUSES("unexpected argument 'disk.img': splitvm has no disks (use -kernel)",
		"-kernel", "k", "disk.img");
	REFUSES("unexpected argument '-': splitvm has no disks (use -kernel)",
		"-kernel", "k", "-");
	REFUSES("unexpected argument '': splitvm has no disks (use -kernel)",
		"-kernel", "k", "");
	REFUSES("-kernel FILE is needed: splitvm boots no firmware or disk",
		"-m", "64");
	REFUSES("-kernel FILE is needed: splitvm boots no firmware or disk",
		"-serial", "stdio");
}
END_TEST

/* An option's value missing at the end of argv. */
START_TEST(qemu_args_missing_value)
{
	static const char *const opts[] = {
		"-kernel", "-initrd", "-append", "-m", "-smp", "-machine",
		"-M", "-accel", "-cpu", "-device", "-serial", "-display",
		"-vga", "-vnc", "-monitor", "-name", "--m", "-hda", "-global",
		"-overcommit", "-chardev", "-mon", "-qmp", "-incoming"};
	char msg[64];

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		snprintf(msg, sizeof(msg), "qemu option %s needs a value",
			 opts[i]);
		REFUSES(msg, "-kernel", "k", opts[i]);
	}
}
END_TEST

START_TEST(qemu_args_version_help)
{
	struct qemu_args q;

	ck_assert_int_eq(parse(&q, ARGS("-version")), 0);
	ck_assert_int_eq(q.action, QEMU_ACTION_VERSION);
	ck_assert_int_eq(q.run_argc, 0);
	qemu_args_free(&q);
	ck_assert_int_eq(parse(&q, ARGS("--help")), 0);
	ck_assert_int_eq(q.action, QEMU_ACTION_HELP);
	qemu_args_free(&q);
	ck_assert_int_eq(parse(&q, ARGS("-h")), 0);
	ck_assert_int_eq(q.action, QEMU_ACTION_HELP);
	qemu_args_free(&q);
	/* Everything on the line is still checked. */
	REFUSES("qemu option -xyz is not supported", "-version", "-xyz");
	ck_assert_ptr_nonnull(strstr(qemu_args_help, "isa-debug-exit"));
}
END_TEST

/* Long, odd or hostile values get a message, never a crash. */
START_TEST(qemu_args_hostile)
{
	static char big[20000];
	struct qemu_args q;
	char *argv[2] = {(char *)"qemu-system-x86_64", NULL};

	memset(big, 'x', sizeof(big) - 1);
	K_REFUSES("-device: an item of 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is too long",
		  "-device", big);
	K_REFUSES("-smp: an item of 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is too long",
		  "-smp", big);
	K_REFUSES("-initrd: a file name is too long", "-initrd", big);
	K_REFUSES("-machine: 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk' is too long",
		  "-machine", "pc,kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk=1");
	K_REFUSES("-machine: the value of 'x' is too long", "-machine",
		  "pc,x=vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv");
	/* A kernel path or -append of any length passes through: the
	 * native checks (and their limits) apply. */
	big[40] = 'x';
	ck_assert_int_eq(parse(&q, ARGS("-kernel", big, "-append", big)), 0);
	ck_assert_str_eq(q.run_argv[2], big);
	qemu_args_free(&q);
	/* No options at all, and argc 1. */
	ck_assert_int_eq(qemu_args_parse(1, argv, &q), -EINVAL);
	qemu_args_free(&q);
	ck_assert_int_eq(qemu_args_parse(0, argv, &q), -EINVAL);
	qemu_args_free(&q);
}
END_TEST

/* QEMU takes '_' and '-' alike in property names (kernel_irqchip). */
START_TEST(qemu_args_property_dashes)
{
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-machine",
		  "accel=kvm,kernel_irqchip=split");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none --irqchip kernel", "-machine",
		  "pc,kernel_irqchip=on");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none --irqchip kernel", "-accel",
		  "kvm,kernel_irqchip=on");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none --irqchip kernel", "-accel",
		  "accel=kvm,kernel_irqchip=on");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-accel",
		  "kvm,kernel_irqchip=on", "-machine", "kernel-irqchip=split");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-machine",
		  "pc,smm=off,usb=off,vmport=off", "-overcommit",
		  "mem_lock=off,cpu_pm=off", "-global",
		  "kvm-pit.lost-tick-policy=discard");
	/* The refusal names the property as splitvm knows it. */
	K_REFUSES("-machine kernel-irqchip=off is not supported: splitvm keeps the local APICs in KVM (split or on)",
		  "-machine", "accel=kvm,kernel_irqchip=off");
	K_REFUSES("-accel: kernel-irqchip 'yes' is not split, on or off",
		  "-accel", "kvm,kernel_irqchip=yes");
	/* Only in names: a value or a driver is taken as written. */
	K_REFUSES("-accel k_vm: splitvm runs only on KVM", "-accel", "k_vm");
	K_REFUSES("-global kvm_pit.lost_tick_policy is not supported (only kvm-pit.lost_tick_policy=discard)",
		  "-global", "kvm_pit.lost_tick_policy=discard");
	K_REFUSES("-machine: kernel-irqchip 'sp-lit' is not split, on or off",
		  "-machine", "kernel_irqchip=sp-lit");
	K_REFUSES("-machine: 'kernel__irqchip=split' is not supported",
		  "-machine", "kernel__irqchip=split");
}
END_TEST

/* -machine pit=, pic=, rtc=: on and auto are splitvm's PC, off drops one. */
START_TEST(qemu_args_machine_chips)
{
	static const char *const dflt[] = {
		"pit=on", "pit=auto", "pic=on", "pic=auto", "rtc=on",
		"rtc=auto", "pc,pit=on,pic=auto,rtc=on",
	};

	for (size_t i = 0; i < sizeof(dflt) / sizeof(dflt[0]); i++)
		K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-machine", dflt[i]);
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none --no-pit", "-machine", "pit=off");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none --no-pic", "-machine", "pic=off");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none --no-rtc", "-machine", "rtc=off");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none --no-rtc", "-M",
		  "microvm,rtc=off");
	/* Always in this order, after --irqchip. */
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial stdio --no-pit --no-pic --no-rtc",
		  "-machine", "rtc=off,pic=off", "-M", "q35,pit=off",
		  "-nographic");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none --irqchip kernel --no-rtc",
		  "-machine", "rtc=off", "-accel", "kvm,kernel-irqchip=on");
	/* The last word on each counts. */
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-machine", "pit=off",
		  "-machine", "pit=auto");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none --no-pic", "-machine",
		  "pic=on,pic=off");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none --no-pit", "-machine",
		  "pit=off,pic=off", "-M", "pic=on");
	/* A bad value is refused naming the property as written. */
	K_REFUSES("-machine: pit 'no' is not on, off or auto", "-machine",
		  "pit=no");
	K_REFUSES("-machine: pic 'OFF' is not on, off or auto", "-machine",
		  "pc,pic=OFF");
	K_REFUSES("-machine: rtc '' is not on, off or auto", "-machine",
		  "rtc=");
	K_REFUSES("-machine: 'pit' is not supported", "-machine", "pc,pit");
}
END_TEST

/* -cpu MODEL[,FLAGS] passes through; QEMU's default model is qemu64. */
START_TEST(qemu_args_cpu)
{
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-enable-kvm");
	K_ACCEPTS("--memory 131072K --cpu host --serial none", "-cpu", "host");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-cpu", "qemu64");
	K_ACCEPTS("--memory 131072K --cpu qemu64,+x2apic,-pcid --serial none", "-cpu",
		  "qemu64,+x2apic,-pcid");
	K_ACCEPTS("--memory 131072K --cpu max,vendor=GenuineIntel,phys-bits=40,pmu=off --serial none",
		  "-cpu", "max,vendor=GenuineIntel,phys-bits=40,pmu=off");
	/* The library checks the model and flags, not the front end. */
	K_ACCEPTS("--memory 131072K --cpu no-such-model --serial none", "-cpu", "no-such-model");
	/* The last -cpu counts. */
	K_ACCEPTS("--memory 131072K --cpu host --serial none", "-cpu", "max,+x2apic", "-cpu",
		  "host");
	/* After --memory, before --serial. */
	ACCEPTS("run --kernel k --append a --cpus 2 --memory 65536K --cpu host --serial stdio --irqchip kernel",
		"-cpu", "host", "-nographic", "-smp", "2", "-m", "64",
		"-append", "a", "-machine", "kernel-irqchip=on", "-kernel",
		"k");
	K_REFUSES("-cpu '': the CPU model comes first (see -cpu help)", "-cpu",
		  "");
	K_REFUSES("-cpu ',+x2apic': the CPU model comes first (see -cpu help)",
		  "-cpu", ",+x2apic");
	K_REFUSES("-cpu '': the CPU model comes first (see -cpu help)", "-cpu",
		  "host", "-cpu", "");
}
END_TEST

/* -global: kvm-pit's (or isa-pit's) lost_tick_policy=discard only. */
START_TEST(qemu_args_global)
{
	static const char *const ok[] = {
		"kvm-pit.lost_tick_policy=discard",
		"isa-pit.lost_tick_policy=discard",
		"driver=kvm-pit,property=lost_tick_policy,value=discard",
		"driver=isa-pit,property=lost_tick_policy,value=discard",
		"value=discard,property=lost_tick_policy,driver=kvm-pit",
	};
	static const char *const bad[] = {
		"kvm-pit",
		"kvm-pit.lost_tick_policy",
		".lost_tick_policy=discard",
		"kvm-pit.=discard",
		"",
		"driver=kvm-pit,value=discard",
		"property=lost_tick_policy,value=discard",
		"driver=kvm-pit,property=lost_tick_policy,value=discard,x=1",
		"driver=kvm-pit,lost_tick_policy",
	};
	char msg[256];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-global", ok[i]);
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-global", ok[0], "--global",
		  ok[1]);
	/* Other drivers and properties. */
	K_REFUSES("-global mc146818rtc.lost_tick_policy is not supported (only kvm-pit.lost_tick_policy=discard)",
		  "-global", "mc146818rtc.lost_tick_policy=discard");
	K_REFUSES("-global kvm-pit.iobase is not supported (only kvm-pit.lost_tick_policy=discard)",
		  "-global", "kvm-pit.iobase=0x40");
	K_REFUSES("-global isa-debug-exit.iobase is not supported (only kvm-pit.lost_tick_policy=discard)",
		  "-global",
		  "driver=isa-debug-exit,property=iobase,value=0xf4");
	K_REFUSES("-global kvm-pit.lost_tick_policy.x is not supported (only kvm-pit.lost_tick_policy=discard)",
		  "-global", "kvm-pit.lost_tick_policy.x=discard");
	/* Other values. */
	K_REFUSES("-global kvm-pit.lost_tick_policy=delay is not supported: splitvm's PIT never re-injects lost ticks (only discard)",
		  "-global", "kvm-pit.lost_tick_policy=delay");
	K_REFUSES("-global isa-pit.lost_tick_policy=slew is not supported: splitvm's PIT never re-injects lost ticks (only discard)",
		  "-global",
		  "driver=isa-pit,property=lost_tick_policy,value=slew");
	K_REFUSES("-global kvm-pit.lost_tick_policy= is not supported: splitvm's PIT never re-injects lost ticks (only discard)",
		  "-global", "kvm-pit.lost_tick_policy=");
	K_REFUSES("-global kvm-pit.lost_tick_policy= is not supported: splitvm's PIT never re-injects lost ticks (only discard)",
		  "-global", "driver=kvm-pit,property=lost_tick_policy");
	/* Neither form. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(msg, sizeof(msg),
			 "-global '%s' is not DRIVER.PROPERTY=VALUE", bad[i]);
		K_REFUSES(msg, "-global", bad[i]);
	}
}
END_TEST

/* -overcommit: QEMU's defaults, which are what splitvm does. */
START_TEST(qemu_args_overcommit)
{
	static const char *const ok[] = {
		"mem-lock=off",
		"cpu-pm=off",
		"mem-lock=off,cpu-pm=off",
		"cpu_pm=off,mem_lock=off",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-overcommit", ok[i]);
	K_REFUSES("-overcommit mem-lock=on is not supported: splitvm does not lock guest memory (only mem-lock=off)",
		  "-overcommit", "mem-lock=on");
	K_REFUSES("-overcommit mem-lock=on is not supported: splitvm does not lock guest memory (only mem-lock=off)",
		  "-overcommit", "cpu-pm=off,mem_lock=on");
	K_REFUSES("-overcommit mem-lock= is not supported: splitvm does not lock guest memory (only mem-lock=off)",
		  "-overcommit", "mem-lock=");
	K_REFUSES("-overcommit cpu-pm=on is not supported: splitvm keeps the HLT, MWAIT and PAUSE exits (only cpu-pm=off)",
		  "-overcommit", "cpu-pm=on");
	K_REFUSES("-overcommit cpu-pm=auto is not supported: splitvm keeps the HLT, MWAIT and PAUSE exits (only cpu-pm=off)",
		  "-overcommit", "mem-lock=off", "-overcommit", "cpu_pm=auto");
	K_REFUSES("-overcommit: 'foo' is not supported (mem-lock, cpu-pm)",
		  "-overcommit", "mem-lock=off,foo=off");
	K_REFUSES("-overcommit: 'off' is not supported (mem-lock, cpu-pm)",
		  "-overcommit", "off");
	K_REFUSES("-overcommit: '' is not supported (mem-lock, cpu-pm)",
		  "-overcommit", "");
}
END_TEST

/* The help and version options: an action instead of a boot. */
START_TEST(qemu_args_help_actions)
{
	ACTS(QEMU_ACTION_HELP, "-h");
	ACTS(QEMU_ACTION_HELP, "-help");
	ACTS(QEMU_ACTION_HELP, "--help");
	ACTS(QEMU_ACTION_VERSION, "-version");
	ACTS(QEMU_ACTION_VERSION, "--version");
	ACTS(QEMU_ACTION_DEVICE_HELP, "-device", "help");
	ACTS(QEMU_ACTION_DEVICE_HELP, "-device", "?");
	ACTS(QEMU_ACTION_DEVICE_HELP, "-device", "driver=help");
	/* Whatever follows, as in QEMU. */
	ACTS(QEMU_ACTION_DEVICE_HELP, "-device", "help,bus=isa.0,x");
	ACTS(QEMU_ACTION_MACHINE_HELP, "-machine", "help");
	ACTS(QEMU_ACTION_MACHINE_HELP, "-M", "help");
	ACTS(QEMU_ACTION_MACHINE_HELP, "-M", "?");
	ACTS(QEMU_ACTION_MACHINE_HELP, "-machine", "type=help");
	ACTS(QEMU_ACTION_MACHINE_HELP, "-machine", "help,accel=tcg");
	ACTS(QEMU_ACTION_CPU_HELP, "-cpu", "help");
	ACTS(QEMU_ACTION_CPU_HELP, "-cpu", "?");
	ACTS(QEMU_ACTION_ACCEL_HELP, "-accel", "help");
	ACTS(QEMU_ACTION_ACCEL_HELP, "-accel", "?");
	ACTS(QEMU_ACTION_ACCEL_HELP, "-accel", "accel=help");
	ACTS(QEMU_ACTION_ACCEL_HELP, "-accel", "help,foo=1");
	/* -device NAME,help: that device's options, the rest unchecked. */
	DEVICE_PROPS("isa-debug-exit", "-device", "isa-debug-exit,help");
	DEVICE_PROPS("isa-debug-exit", "-device", "isa-debug-exit,?");
	DEVICE_PROPS("isa-debug-exit", "-device",
		     "isa-debug-exit,iobase=0x501,help");
	DEVICE_PROPS("isa-debug-exit", "-device",
		     "driver=isa-debug-exit,help=on");
	DEVICE_PROPS("pc-testdev", "-device", "pc-testdev,help");
	DEVICE_PROPS("pc-testdev", "-device", "pc-testdev,x,?");
	/* No -kernel needed; with one, still no boot. */
	ACTS(QEMU_ACTION_CPU_HELP, "-kernel", "k", "-smp", "2", "-cpu", "help");
	ACTS(QEMU_ACTION_DEVICE_HELP, "-device", "help", "-kernel", "k");
	/* Everything on the line is still checked. */
	REFUSES("-device 'e1000' is not supported (isa-debug-exit, pc-testdev, pci-testdev, edu)",
		"-device", "e1000,help");
	DEVICE_PROPS("pci-testdev", "-device", "pci-testdev,?");
	REFUSES("qemu option -xyz is not supported", "-cpu", "help", "-xyz");
	REFUSES("qemu option -xyz is not supported", "-xyz", "-device", "help");
	REFUSES("-m: '1M' is not a size from 2M to 1T in whole pages",
		"-machine", "help", "-m", "1M");
	REFUSES("-machine 'Help' is not supported (pc, q35 or microvm)", "-M",
		"Help");
	REFUSES("-machine: 'help' is not supported", "-machine", "pc,help");
	/* The help text lists the new options. */
	ck_assert_ptr_nonnull(strstr(qemu_args_help, "-cpu help"));
	ck_assert_ptr_nonnull(strstr(qemu_args_help, "-device NAME,help"));
	ck_assert_ptr_nonnull(
		strstr(qemu_args_help, "kvm-pit.lost_tick_policy"));
	ck_assert_ptr_nonnull(strstr(qemu_args_help, "-overcommit"));
	ck_assert_ptr_nonnull(strstr(qemu_args_help, "[,pit=off]"));
}
END_TEST

/*
 * Several on one line: -h and -version first (the first of the two),
 * then -cpu help, -device's (the first), -machine help, -accel help.
 */
START_TEST(qemu_args_help_precedence)
{
	ACTS(QEMU_ACTION_CPU_HELP, "-accel", "help", "-machine", "help",
	     "-device", "help", "-cpu", "help");
	ACTS(QEMU_ACTION_CPU_HELP, "-cpu", "help", "-device", "help",
	     "-machine", "help", "-accel", "help");
	ACTS(QEMU_ACTION_CPU_HELP, "-device", "isa-debug-exit,help", "-cpu",
	     "?");
	ACTS(QEMU_ACTION_DEVICE_HELP, "-accel", "help", "-machine", "help",
	     "-device", "help");
	ACTS(QEMU_ACTION_DEVICE_HELP, "-device", "help", "-M", "help");
	DEVICE_PROPS("pc-testdev", "-machine", "help", "-device",
		     "pc-testdev,help", "-accel", "help");
	ACTS(QEMU_ACTION_MACHINE_HELP, "-accel", "help", "-M", "help");
	ACTS(QEMU_ACTION_MACHINE_HELP, "-M", "help", "-accel", "help");
	/* Among -device's, the first. */
	ACTS(QEMU_ACTION_DEVICE_HELP, "-device", "help", "-device",
	     "isa-debug-exit,help");
	DEVICE_PROPS("isa-debug-exit", "-device", "isa-debug-exit,help",
		     "-device", "help");
	DEVICE_PROPS("pc-testdev", "-device", "pc-testdev,help", "-device",
		     "isa-debug-exit,help");
	DEVICE_PROPS("isa-debug-exit", "-device", "isa-debug-exit,help",
		     "-device", "pc-testdev,help");
	/* -h and -version before any help value, the first of them. */
	ACTS(QEMU_ACTION_VERSION, "-cpu", "help", "-version");
	ACTS(QEMU_ACTION_HELP, "-device", "help", "-cpu", "help", "-h");
	ACTS(QEMU_ACTION_VERSION, "-version", "-h");
	ACTS(QEMU_ACTION_HELP, "-h", "-version");
	ACTS(QEMU_ACTION_HELP, "-help", "-accel", "help", "--version");
}
END_TEST

/*
 * kvm-unit-tests' x86/run: pc-testdev, isa-debug-exit and pci-testdev
 * when '-device ?' lists them, as splitvm's list does, then a test's
 * extra_params.
 */
START_TEST(qemu_args_kvm_unit_tests_line)
{
	ACCEPTS("run --kernel x86/vmexit.flat --append ipi --cpus 2 --memory 131072K --cpu qemu64 --serial stdio --no-pit",
		"-nodefaults", "-device", "pc-testdev", "-device",
		"isa-debug-exit,iobase=0xf4,iosize=0x4", "-vnc", "none",
		"-serial", "stdio", "-device", "pci-testdev", "-machine",
		"accel=kvm,kernel_irqchip=split", "-kernel", "x86/vmexit.flat",
		"-smp", "2", "-append", "ipi", "-machine", "pit=off", "-global",
		"kvm-pit.lost_tick_policy=discard");
	ACCEPTS("run --kernel x86/vmexit.flat --append ipi --cpus 2 --memory 131072K --cpu qemu64 --serial stdio --no-pit",
		"-nodefaults", "-device", "pc-testdev", "-device",
		"isa-debug-exit,iobase=0xf4,iosize=0x4", "-vnc", "none",
		"-serial", "stdio", "-machine",
		"accel=kvm,kernel_irqchip=split", "-kernel", "x86/vmexit.flat",
		"-smp", "2", "-append", "ipi", "-machine", "pit=off", "-global",
		"kvm-pit.lost_tick_policy=discard");
	/* With --no-reboot, as x86/run starts, and a test's -cpu. */
	ACCEPTS("run --kernel x86/apic.flat --cpus 2 --memory 131072K --cpu qemu64,+x2apic,+tsc-deadline --serial stdio",
		"--no-reboot", "-nodefaults", "-device", "pc-testdev",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x4", "-vnc",
		"none", "-serial", "stdio", "-machine", "accel=kvm", "-kernel",
		"x86/apic.flat", "-smp", "2", "-cpu",
		"qemu64,+x2apic,+tsc-deadline", "-machine",
		"kernel_irqchip=split");
	/* The probe x86/run makes first. */
	ACTS(QEMU_ACTION_DEVICE_HELP, "-device", "?");
}
END_TEST

/* Hardware QEMU has and splitvm lacks: refused with the reason. */
START_TEST(qemu_args_absent_hardware)
{
	K_REFUSES("-machine vmport=on is not supported: splitvm has no VMware I/O port (0x5658) (only vmport=off)",
		  "-machine", "vmport=on");
	K_REFUSES("-machine vmport=auto is not supported: splitvm has no VMware I/O port (0x5658) (only vmport=off)",
		  "-machine", "pc,vmport=auto");
	K_REFUSES("-machine smm=auto is not supported: splitvm has no System Management Mode (only smm=off)",
		  "-M", "q35,smm=auto");
	K_REFUSES("-machine usb=on is not supported: splitvm has no USB (only usb=off)",
		  "-machine", "pc,usb=on");
	K_REFUSES("-device 'hyperv-testdev' is not supported (isa-debug-exit, pc-testdev, pci-testdev, edu)",
		  "-device", "hyperv-testdev");
	K_REFUSES("-device 'intel-iommu' is not supported (isa-debug-exit, pc-testdev, pci-testdev, edu)",
		  "-device", "intel-iommu");
	K_REFUSES("-device 'intel-iommu' is not supported (isa-debug-exit, pc-testdev, pci-testdev, edu)",
		  "-device", "intel-iommu,intremap=on,eim=off");
	K_ACCEPTS("--memory 131072K --cpu qemu64 --serial none", "-device",
		  "driver=pci-testdev");
}
END_TEST

/* Monitors, character devices and migration: refused with the reason. */
START_TEST(qemu_args_refused_monitor_migration)
{
	K_REFUSES("qemu option -chardev is not supported: splitvm's only character device is COM1 (see -serial)",
		  "-chardev", "socket,id=c0,path=/tmp/s,server=on,wait=off");
	K_REFUSES("qemu option -qmp is not supported: splitvm has no monitor (QMP or HMP)",
		  "-qmp", "unix:/tmp/q,server,nowait");
	K_REFUSES("qemu option -qmp is not supported: splitvm has no monitor (QMP or HMP)",
		  "--qmp", "stdio");
	K_REFUSES("qemu option -mon is not supported: splitvm has no monitor (QMP or HMP)",
		  "-mon", "chardev=c0,mode=control");
	K_REFUSES("qemu option -incoming is not supported: splitvm cannot migrate a VM",
		  "-incoming", "tcp:0:4444");
	K_REFUSES("qemu option -incoming is not supported: splitvm cannot migrate a VM",
		  "-incoming", "defer");
	/* Refused before a help action could be taken. */
	REFUSES("qemu option -chardev is not supported: splitvm's only character device is COM1 (see -serial)",
		"-cpu", "help", "-chardev", "stdio,id=s");
}
END_TEST

UNIT_SUITE("qemu_args", qemu_args_minimal, qemu_args_test_script_line,
	   qemu_args_double_dash, qemu_args_memory_forms,
	   qemu_args_memory_refused, qemu_args_smp_forms, qemu_args_smp_refused,
	   qemu_args_machine_accepted, qemu_args_machine_refused,
	   qemu_args_devices, qemu_args_devices_refused, qemu_args_serial,
	   qemu_args_flags, qemu_args_initrd_append, qemu_args_initrd_limit,
	   qemu_args_refused, qemu_args_missing_value, qemu_args_version_help,
	   qemu_args_hostile, qemu_args_property_dashes,
	   qemu_args_machine_chips, qemu_args_cpu, qemu_args_global,
	   qemu_args_overcommit, qemu_args_help_actions,
	   qemu_args_help_precedence, qemu_args_kvm_unit_tests_line,
	   qemu_args_absent_hardware, qemu_args_refused_monitor_migration)
