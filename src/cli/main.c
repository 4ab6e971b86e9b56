// SPDX-License-Identifier: MIT
/* The splitvm command line: boot a kernel and exit with the guest's verdict. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control.h"
#include "qemu_args.h"
#include "result.h"
#include "splitvm.h"
#include "status.h"
#include "suite_cmd.h"
#include "values.h"

/* An ASan build, whose LeakSanitizer checks what is left at exit. */
#if defined(__SANITIZE_ADDRESS__)
#define CLI_LEAK_CHECKED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CLI_LEAK_CHECKED 1
#endif
#endif
#ifndef CLI_LEAK_CHECKED
#define CLI_LEAK_CHECKED 0
#endif

static const char usage_text[] =
	"Usage: splitvm run --kernel FILE [options]\n"
	"       splitvm test MANIFEST [options]\n"
	"       splitvm test --kvm-unit-tests DIR [options] [ENTRY...]\n"
	"       splitvm test --merge [--junit FILE] [--json FILE] REPORT...\n"
	"       splitvm qemu QEMU-OPTIONS (or run as qemu-system-x86_64)\n"
	"       splitvm --help | --version\n"
	"\n"
	"Boots a kernel in a KVM virtual machine whose IOAPIC and 8259A PICs\n"
	"are emulated by splitvm (KVM's split irqchip) and exits with the\n"
	"guest's verdict.\n"
	"\n"
	"Options of 'run':\n"
	"  --kernel FILE         Linux bzImage, multiboot image (ELF32/ELF64,\n"
	"                        a.out kludge), PVH ELF (Xen entry note), or\n"
	"                        ELF64 entered in long mode with RDI = FDT\n"
	"  --initrd FILE         initial ramdisk (bzImage initrd; module 0)\n"
	"  --module FILE         another multiboot/PVH module (repeatable)\n"
	"  --append STR          kernel command line\n"
	"  --cpus N              vCPUs, 1-255 (default 1)\n"
	"  --memory SIZE         guest RAM: a number of MiB, or with a K, M, G\n"
	"                        or T suffix (default 64M)\n"
	"  --timeout SECONDS     stop the guest after this long (decimals ok)\n"
	"  --serial KIND         stdio (default), file:PATH or none\n"
	"  --irqchip MODE        split (default: splitvm's IOAPIC, PICs, PIT)\n"
	"                        or kernel (KVM's own, the reference model)\n"
	"  --ioapic-pins N       IOAPIC pins in split mode, 1-120 (default 24)\n"
	"  --ioapic-version V    0x20 (default, with EOI register) or 0x11\n"
	"  --no-pit              no i8254 PIT (split mode)\n"
	"  --no-pic              no 8259A PICs (split mode; the MADT then says\n"
	"                        no PC/AT compatibility)\n"
	"  --no-rtc              no MC146818A RTC/CMOS (ports 0x70-0x71)\n"
	"  --device MODEL        a PCI device: edu (QEMU's educational device);\n"
	"                        pci-testdev is always there\n"
	"  --cpu MODEL[,FLAGS]   the vCPUs' model and features in QEMU's -cpu\n"
	"                        syntax, e.g. qemu64,+x2apic,-pcid or\n"
	"                        max,vendor=GenuineIntel (default host: all KVM\n"
	"                        supports); 'splitvm qemu -cpu help' lists them\n"
	"  --trace FILE          write every interrupt event (line set, routed,\n"
	"                        injected, EOI, entry/PIC writes, NMI) to FILE,\n"
	"                        one JSON object a line\n"
	"  --control PATH        take JSON commands, one a line, on a Unix\n"
	"                        socket made at PATH (or stdin if PATH is -,\n"
	"                        answers on stdout; the serial console then\n"
	"                        defaults to none): irq, pulse, msi, nmi, init,\n"
	"                        sipi, pause, resume, reset, stats, state,\n"
	"                        snapshot, quit\n"
	"  --result-json FILE    write the outcome, exit status, duration and\n"
	"                        statistics to FILE as one JSON object\n"
	"  --restore FILE        start from the snapshot in FILE (written by\n"
	"                        --snapshot-file or splitvm_snapshot_save() of\n"
	"                        a VM with the same options) instead of the\n"
	"                        kernel's entry\n"
	"  --snapshot-file FILE  when the guest writes port 0x8910 (or a\n"
	"                        --control client sends snapshot), write its\n"
	"                        snapshot to FILE there and go on\n"
	"  --no-sandbox          run without the seccomp allowlists (on by\n"
	"                        default: a refused system call ends splitvm\n"
	"                        with status 126 and says which)\n"
	"  --verbose             log what the monitor does (repeat for more)\n"
	"\n"
	"Options of 'test' (runs a suite manifest's guests as VMs in one\n"
	"process; docs/suite.md; exits 0 when every one met its expectation,\n"
	"1 when one did not, 2 for bad input):\n"
	"  --jobs N              VMs at a time (default: the host's CPUs)\n"
	"  --group G             only entries in group G (repeatable)\n"
	"  --list                list the entries chosen, run nothing\n"
	"  --shard I/N           run shard I of N, balanced by --durations\n"
	"  --durations FILE      a --json report of an earlier run\n"
	"  --junit FILE          write JUnit XML (consoles in system-out)\n"
	"  --json FILE           write a JSON report\n"
	"  --log-dir DIR         the console logs, NAME.log (default: beside\n"
	"                        the report, or a new directory in $TMPDIR)\n"
	"  --timeout SECONDS     for entries without their own (default 120)\n"
	"  --no-sandbox          run the VMs without their seccomp allowlists\n"
	"  --merge               merge the JSON reports of shards\n"
	"  --kvm-unit-tests DIR  run a built kvm-unit-tests tree's\n"
	"                        x86/unittests.cfg instead of a MANIFEST, with\n"
	"                        run_tests.sh's PASS, FAIL and SKIP\n"
	"\n"
	"Exit status (of 'run'):\n"
	"  (v << 1) | 1  the guest wrote v to the debug-exit port 0xf4\n"
	"  0             the guest powered off\n"
	"  2             usage error\n"
	"  4             triple fault\n"
	"  6             emulation failure (KVM internal error)\n"
	"  8             VM entry failure\n"
	"  10            the guest asked for a reset\n"
	"  12            the guest reported a crash\n"
	"  124           the --timeout passed\n"
	"  126           splitvm itself failed (bad image, no /dev/kvm, ...)\n"
	"  130           stopped: SIGINT, SIGTERM, SIGHUP or --control quit\n"
	"\n"
	"'splitvm qemu -help' lists the qemu-system-x86_64 options taken.\n";

/*
 * SIGINT, SIGTERM or SIGHUP before the run's signal thread takes them
 * (cli_boot() blocks them for it): noted, never fatal, so that a signal
 * at any moment ends splitvm with status 130, not by the signal. One of
 * the CLI's two globals (with sigsys_result): a signal handler has
 * nowhere else to look.
 */
static volatile sig_atomic_t early_stop;

static void note_stop(int sig)
{
	early_stop = sig;
}

static void catch_stop_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa = {.sa_handler = note_stop};

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* The --trace file; events come from several threads at once. */
struct trace {
	FILE *f;
	pthread_mutex_t lock;
	/* Its stdio buffer, given at open: left to stdio, the first write
	 * (a vCPU thread, sandboxed) would probe the file with isatty().
	 * Allocated then, not kept in struct cli: zeroing 64 KiB of stack
	 * cost every run 16 page faults. */
	char *buf;
};

enum { TRACE_BUF_SIZE = 1 << 16 };

struct cli {
	struct splitvm_config *cfg;
	struct trace trace;
	const char *serial;
	int verbose;
	unsigned int ioapic_pins;
	unsigned int ioapic_version;
	bool sandbox;
	bool serial_given;
	const char *control;
	bool result_json; /* result holds --result-json's file */
	int snapshot_fd; /* --snapshot-file, or -1 */
	const char *snapshot_path;
	struct result_file result;
	const char *kernel;
	bool qemu;	     /* run for the QEMU front end */
	bool qemu_no_reboot; /* QEMU front end with -no-reboot */
};

static void cli_log(void *userdata, enum splitvm_log_level level,
		    const char *message)
{
	static const char *const tags[] = {"", "warning: ", "", "debug: "};
	const struct cli *cli = userdata;

	fprintf(stderr, "splitvm: %s%s\n", tags[level], message);
	if (cli && cli->result_json && level == SPLITVM_LOG_ERROR)
		result_reason(&cli->result, message);
}

/*
 * Says on stderr why the run fails, and gives the --result-json keeper
 * the same line: its document then says why, even if nothing else does.
 */
static void cli_fail(const struct cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void cli_fail(const struct cli *cli, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "splitvm: %s\n", line);
	if (cli->result_json)
		result_reason(&cli->result, line);
}

/*
 * What the library logs while it checks a --cpu value: its first error
 * becomes the one line saying why the value is refused; anything milder
 * is passed on.
 */
struct log_capture {
	char error[256];
};

static void capture_log(void *userdata, enum splitvm_log_level level,
			const char *message)
{
	struct log_capture *c = userdata;

	if (level == SPLITVM_LOG_ERROR && !c->error[0])
		snprintf(c->error, sizeof(c->error), "%s", message);
	else if (level <= SPLITVM_LOG_WARNING)
		cli_log(NULL, level, message);
}

/* --cpu: splitvm_config_set_cpu() says in its log what is wrong. */
static int cli_cpu(struct splitvm_config *cfg, const char *spec)
{
	struct log_capture cap = {""};
	const char *why = cap.error;
	int r;

	splitvm_config_set_log_handler(cfg, capture_log, &cap,
				       SPLITVM_LOG_WARNING);
	r = splitvm_config_set_cpu(cfg, spec);
	splitvm_config_set_log_handler(cfg, cli_log, NULL, SPLITVM_LOG_WARNING);
	if (r != -EINVAL)
		return r;
	if (!*why)
		return usage_error("--cpu '%s': not a CPU model and flags splitvm has",
				   spec);
	/* One line; the library's message says where to look. */
	if (!strncmp(why, "cpu: ", 5))
		why += 5;
	fprintf(stderr, "splitvm: --cpu '%s': %s\n", spec, why);
	return EXIT_USAGE;
}

/* One JSON object a line: what happened, where, when (ns from start). */
static void trace_event(void *userdata, const struct splitvm_event *ev)
{
	struct trace *t = userdata;

	pthread_mutex_lock(&t->lock);
	fprintf(t->f,
		"{\"t\":%llu,\"event\":\"%s\",\"cpu\":%d,\"line\":%d,"
		"\"vector\":%d,\"level\":%d,\"value\":%llu}\n",
		(unsigned long long)ev->time_ns, splitvm_event_name(ev->type),
		ev->cpu, ev->line, ev->vector, ev->level,
		(unsigned long long)ev->value);
	pthread_mutex_unlock(&t->lock);
}

/*
 * Opens a file the user named for splitvm to write (--serial file:,
 * --trace, --result-json) without ever blocking: a FIFO that nobody reads
 * is refused at once (ENXIO), one with a reader is written as a pipe.
 * Returns the fd or -1 with errno set.
 */
static int open_output(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
				    O_NONBLOCK,
		      0644);
	int fl;

	if (fd >= 0 && ((fl = fcntl(fd, F_GETFL)) < 0 ||
			fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The same as a stdio stream. */
static FILE *fopen_output(const char *path)
{
	int fd = open_output(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (fd >= 0 && !f)
		close(fd);
	return f;
}

/* Applies one option of 'run'. Returns 0 or an exit status. */
/*
 * --snapshot-file: opened now, as --result-json is (the sandbox allows no
 * open once the VM runs); the I/O thread writes to it when the guest asks.
 */
static int cli_snapshot_file(struct cli *cli, const char *path)
{
	/* Non-blocking: a FIFO with no reader fails instead of hanging. */
	int fd = open(path, O_WRONLY | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0644);
	struct stat st;

	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
			ftruncate(fd, 0) < 0)) {
		close(fd);
		fd = -1;
		errno = EINVAL; /* it is cut and rewritten: a file only */
	}
	if (fd < 0) {
		fprintf(stderr, "splitvm: --snapshot-file: cannot write '%s': %s\n",
			path, strerror(errno));
		return EXIT_MONITOR_ERROR;
	}
	if (cli->snapshot_fd >= 0)
		close(cli->snapshot_fd);
	cli->snapshot_fd = fd;
	cli->snapshot_path = path;
	return splitvm_config_set_snapshot_fd(cli->cfg, fd) ? EXIT_MONITOR_ERROR
							   : 0;
}

static int cli_option(struct cli *cli, int opt, const char *arg)
{
	struct splitvm_config *cfg = cli->cfg;
	unsigned long long n;
	uint64_t v;
	int r = 0;

	switch (opt) {
	case 'k':
		r = splitvm_config_set_kernel(cfg, arg);
		cli->kernel = arg;
		break;
	case 'i':
		r = splitvm_config_set_initrd(cfg, arg);
		break;
	case 'M':
		r = splitvm_config_add_module(cfg, arg);
		if (r == -E2BIG)
			return usage_error("--module: more than 64 modules");
		break;
	case 'a':
		r = splitvm_config_set_cmdline(cfg, arg);
		if (r == -E2BIG)
			return usage_error("--append: longer than 4095 bytes");
		break;
	case 'c':
		if (!parse_uint(arg, 1, 255, &n))
			return usage_error("--cpus: '%s' is not a number from 1 to 255",
					   arg);
		r = splitvm_config_set_cpus(cfg, (unsigned int)n);
		break;
	case 'm':
		if (!parse_size(arg, &v) || splitvm_config_set_memory(cfg, v))
			return usage_error("--memory: '%s' is not a size from 2M to 1T in whole pages",
					   arg);
		break;
	case 't':
		if (!parse_seconds(arg, &v))
			return usage_error("--timeout: '%s' is not a positive number of seconds",
					   arg);
		r = splitvm_config_set_timeout(cfg, v);
		break;
	case 's':
		if (strcmp(arg, "stdio") && strcmp(arg, "none") &&
		    (strncmp(arg, "file:", 5) || !arg[5]))
			return usage_error("--serial: '%s' is not stdio, none or file:PATH",
					   arg);
		cli->serial = arg;
		cli->serial_given = true;
		break;
	case 'I':
		if (!strcmp(arg, "split"))
			r = splitvm_config_set_irqchip(cfg, SPLITVM_IRQCHIP_SPLIT);
		else if (!strcmp(arg, "kernel"))
			r = splitvm_config_set_irqchip(cfg,
						       SPLITVM_IRQCHIP_KERNEL);
		else
			return usage_error("--irqchip: '%s' is not split or kernel",
					   arg);
		break;
	case 'P':
		if (!parse_uint(arg, 1, 120, &n))
			return usage_error("--ioapic-pins: '%s' is not a number from 1 to 120",
					   arg);
		cli->ioapic_pins = (unsigned int)n;
		break;
	case 'V':
		if (strcmp(arg, "0x20") && strcmp(arg, "0x11"))
			return usage_error("--ioapic-version: '%s' is not 0x20 or 0x11",
					   arg);
		cli->ioapic_version = (unsigned int)strtoul(arg, NULL, 16);
		break;
	case 'N':
		r = splitvm_config_set_pit(cfg, 0);
		break;
	case 'p':
		r = splitvm_config_set_pic(cfg, 0);
		break;
	case 'r':
		r = splitvm_config_set_rtc(cfg, 0);
		break;
	case 'D':
		r = splitvm_config_add_pci_device(cfg, arg);
		if (r == -EINVAL)
			return usage_error("--device '%s': not a device "
					   "splitvm has (edu, pci-testdev)",
					   arg);
		break;
	case 'u':
		r = cli_cpu(cfg, arg);
		if (r > 0)
			return r; /* the usage error's status */
		break;
	case 'T':
		if (cli->trace.f)
			fclose(cli->trace.f);
		if (!cli->trace.buf)
			cli->trace.buf = malloc(TRACE_BUF_SIZE);
		cli->trace.f = cli->trace.buf ? fopen_output(arg) : NULL;
		if (cli->trace.f)
			setvbuf(cli->trace.f, cli->trace.buf, _IOFBF,
				TRACE_BUF_SIZE);
		if (!cli->trace.f) {
			fprintf(stderr, "splitvm: --trace: cannot open '%s': %s\n",
				arg, strerror(errno));
			return EXIT_MONITOR_ERROR;
		}
		r = splitvm_config_set_event_handler(cfg, ~0u, trace_event,
						     &cli->trace);
		break;
	case 'S':
		cli->sandbox = false;
		break;
	case 'C':
		if (!*arg)
			return usage_error("--control needs a socket path or -");
		cli->control = arg;
		break;
	case 'R':
		/* Opened now: once the VM runs, the sandbox allows no open. */
		if (cli->result_json)
			result_close(&cli->result);
		r = result_open(&cli->result, arg);
		cli->result_json = !r;
		if (r) {
			fprintf(stderr, "splitvm: --result-json: cannot open '%s': %s\n",
				arg, strerror(-r));
			return EXIT_MONITOR_ERROR;
		}
		break;
	case 'X':
		r = splitvm_config_set_restore(cfg, arg);
		break;
	case 'Y':
		return cli_snapshot_file(cli, arg);
	case 'v':
		cli->verbose++;
		break;
	default:
		return EXIT_USAGE;
	}
	if (r == -EINVAL)
		return usage_error("'%s' is not a valid value", arg);
	if (r) {
		fprintf(stderr, "splitvm: %s\n", strerror(-r));
		return EXIT_MONITOR_ERROR;
	}
	return 0;
}

static int cli_parse_run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"kernel", required_argument, NULL, 'k'},
		{"initrd", required_argument, NULL, 'i'},
		{"module", required_argument, NULL, 'M'},
		{"append", required_argument, NULL, 'a'},
		{"cpus", required_argument, NULL, 'c'},
		{"memory", required_argument, NULL, 'm'},
		{"timeout", required_argument, NULL, 't'},
		{"serial", required_argument, NULL, 's'},
		{"irqchip", required_argument, NULL, 'I'},
		{"ioapic-pins", required_argument, NULL, 'P'},
		{"ioapic-version", required_argument, NULL, 'V'},
		{"no-pit", no_argument, NULL, 'N'},
		{"no-pic", no_argument, NULL, 'p'},
		{"no-rtc", no_argument, NULL, 'r'},
		{"cpu", required_argument, NULL, 'u'},
		{"device", required_argument, NULL, 'D'},
		{"trace", required_argument, NULL, 'T'},
		{"no-sandbox", no_argument, NULL, 'S'},
		{"control", required_argument, NULL, 'C'},
		{"result-json", required_argument, NULL, 'R'},
		{"restore", required_argument, NULL, 'X'},
		{"snapshot-file", required_argument, NULL, 'Y'},
		{"verbose", no_argument, NULL, 'v'},
		{NULL, 0, NULL, 0},
	};
	bool have_kernel = false;
	int opt, r;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (opt == '?')
			return usage_error("unknown option '%s'",
					   argv[optind - 1]);
		if (opt == ':')
			return usage_error("%s needs a value",
					   argv[optind - 1]);
		have_kernel |= opt == 'k';
		r = cli_option(cli, opt, optarg);
		if (r)
			return r;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!have_kernel)
		return usage_error("run needs --kernel FILE");
	if (cli->control && !strcmp(cli->control, "-")) {
		if (cli->serial_given && !strcmp(cli->serial, "stdio"))
			return usage_error("--control - and --serial stdio both want stdin and stdout");
		if (!cli->serial_given)
			cli->serial = "none";
	}
	return splitvm_config_set_ioapic(cli->cfg, cli->ioapic_pins,
					 cli->ioapic_version)
		       ? EXIT_MONITOR_ERROR
		       : 0;
}

/* Wires the serial console as --serial says. Returns 0 or an exit status. */
static int cli_serial(struct cli *cli)
{
	int out = 1, in = 0;

	if (!strcmp(cli->serial, "none")) {
		out = in = -1;
	} else if (!strncmp(cli->serial, "file:", 5)) {
		out = open_output(cli->serial + 5);
		if (out < 0) {
			cli_fail(cli, "--serial: cannot open '%s': %s",
				 cli->serial + 5, strerror(errno));
			return EXIT_MONITOR_ERROR;
		}
		in = -1;
	}
	splitvm_config_set_serial_fds(cli->cfg, out, in);
	return 0;
}

static void print_regs(const struct splitvm_regs *r)
{
	fprintf(stderr,
		"  rip %016llx rflags %016llx\n"
		"  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
		"  rsi %016llx rdi %016llx rbp %016llx rsp %016llx\n"
		"  r8  %016llx r9  %016llx r10 %016llx r11 %016llx\n"
		"  r12 %016llx r13 %016llx r14 %016llx r15 %016llx\n"
		"  cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx\n"
		"  efer %llx cs %04x ds %04x es %04x ss %04x\n",
		(unsigned long long)r->rip, (unsigned long long)r->rflags,
		(unsigned long long)r->rax, (unsigned long long)r->rbx,
		(unsigned long long)r->rcx, (unsigned long long)r->rdx,
		(unsigned long long)r->rsi, (unsigned long long)r->rdi,
		(unsigned long long)r->rbp, (unsigned long long)r->rsp,
		(unsigned long long)r->r8, (unsigned long long)r->r9,
		(unsigned long long)r->r10, (unsigned long long)r->r11,
		(unsigned long long)r->r12, (unsigned long long)r->r13,
		(unsigned long long)r->r14, (unsigned long long)r->r15,
		(unsigned long long)r->cr0, (unsigned long long)r->cr2,
		(unsigned long long)r->cr3, (unsigned long long)r->cr4,
		(unsigned long long)r->efer, r->cs, r->ds, r->es, r->ss);
}

/*
 * QEMU 7.2 given -no-reboot ends with status 0 when the guest resets the
 * machine or triple-faults (a shutdown cycle, which the PC turns into a
 * reset). Without it QEMU reboots, and splitvm, which cannot, keeps its
 * own statuses: the script sees a failure, as from a guest rebooting for
 * ever.
 */
static int qemu_status(const struct splitvm_result *res, int status)
{
	if (res->outcome == SPLITVM_OUTCOME_RESET ||
	    res->outcome == SPLITVM_OUTCOME_TRIPLE_FAULT)
		return EXIT_POWEROFF;
	return status;
}

/* Maps an outcome to the exit status, saying on stderr what went wrong. */
static int cli_verdict(const struct splitvm_result *res)
{
	if (res->outcome != SPLITVM_OUTCOME_EXIT &&
	    res->outcome != SPLITVM_OUTCOME_POWEROFF) {
		fprintf(stderr, "splitvm: %s\n", res->detail);
		if (res->has_regs)
			print_regs(&res->regs);
	}
	return status_of(res);
}

/*
 * SIGSYS from the sandbox: a splitvm thread made a system call its role's
 * allowlist refuses. Say which, then end: the monitor cannot be trusted
 * to go on. Only async-signal-safe calls here.
 */
/* The --result-json keeper on_sigsys() tells; set by cli_sandbox(). */
static const struct result_file *sigsys_result;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	char msg[96] = "splitvm: sandbox refused system call ";
	size_t len = strlen(msg);
	char digits[12];
	int n = 0, nr = si->si_syscall;

	do
		digits[n++] = (char)('0' + nr % 10);
	while ((nr /= 10) && n < (int)sizeof(digits));
	while (n)
		msg[len++] = digits[--n];
	msg[len] = 0;
	if (sigsys_result) /* without "splitvm: " */
		result_reason(sigsys_result, msg + 9);
	msg[len++] = '\n';
	if (write(STDERR_FILENO, msg, len) < 0)
		_exit(EXIT_MONITOR_ERROR);
	_exit(EXIT_MONITOR_ERROR);
}

static int cli_sandbox(struct cli *cli)
{
	struct sigaction sa = {.sa_sigaction = on_sigsys,
			       .sa_flags = SA_SIGINFO};
	int r;

	if (!cli->sandbox)
		return 0;
	sigsys_result = cli->result_json ? &cli->result : NULL;
	sigaction(SIGSYS, &sa, NULL);
	r = splitvm_config_set_sandbox(cli->cfg, SPLITVM_SANDBOX_TRAP);
	if (r) {
		cli_fail(cli, "the sandbox is not available (%s); use --no-sandbox",
			 strerror(-r));
		return EXIT_MONITOR_ERROR;
	}
	return 0;
}

/* --result-json: the outcome, the exit status and the statistics. */
static int write_result_json(struct cli *cli, struct splitvm *vm,
			     const struct splitvm_result *res, int status)
{
	FILE *f = cli->result.out;
	int r;

	fprintf(f,
		"{\"outcome\":\"%s\",\"status\":%d,\"exit_code\":%u,"
		"\"cpu\":%d,\"duration_ns\":%llu,\"detail\":\"",
		splitvm_outcome_name(res->outcome), status, res->exit_code,
		res->cpu, (unsigned long long)res->duration_ns);
	result_json_string(f, res->detail);
	fputs("\",\"stats\":", f);
	control_write_stats(vm, f);
	fputs("}\n", f);
	r = result_done(&cli->result);
	if (r) {
		cli_fail(cli, "--result-json: %s", strerror(-r));
		return EXIT_MONITOR_ERROR;
	}
	return status;
}

/*
 * Closes --trace. A trace that could not be written (a full disk) is the
 * monitor's failure whatever the guest's verdict: the user asked for it
 * and would be left with a cut-off file and nothing said.
 */
static int close_trace(struct cli *cli, int status)
{
	struct trace *t = &cli->trace;
	int err = ferror(t->f) ? EIO : 0;

	if (fclose(t->f))
		err = errno;
	t->f = NULL;
	if (!err)
		return status;
	cli_fail(cli, "--trace: writing the trace failed: %s", strerror(err));
	return EXIT_MONITOR_ERROR;
}

/*
 * Waits for the end of the run, turning SIGINT, SIGTERM and SIGHUP
 * (blocked, and taken through sfd) into splitvm_stop(): one poll() over
 * the signals and the VM's end descriptor, on the main thread, with no
 * thread of its own to start and confine. Returns splitvm_wait()'s result.
 */
static int cli_wait(struct splitvm *vm, int sfd, struct splitvm_result *res)
{
	struct pollfd pfd[2] = {{.fd = sfd, .events = POLLIN},
				{.fd = splitvm_fd(vm), .events = POLLIN}};
	struct signalfd_siginfo si;

	/* Without a signalfd (none could be made), the stop signals stay
	 * blocked and pending: only the VM's own end ends the run. */
	while (!(pfd[1].revents & POLLIN)) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if ((pfd[0].revents & POLLIN) &&
		    read(sfd, &si, sizeof(si)) == sizeof(si))
			splitvm_stop(vm);
	}
	return splitvm_wait(vm, -1, res);
}

static int cli_boot(struct cli *cli)
{
	struct splitvm *vm;
	struct splitvm_result res;
	struct control ctl = {.listen_fd = -1, .snapshot_fd = -1};
	sigset_t stops;
	int sfd, r, status;

	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stops, NULL);
	/* A signal before this point was noted: the run never starts. */
	if (early_stop) {
		cli_fail(cli, "stopped by signal %d before the run",
			 (int)early_stop);
		return EXIT_INTERRUPTED;
	}
	/* From here the stop signals are read, never delivered: every
	 * thread the VM starts inherits the mask. */
	sfd = signalfd(-1, &stops, SFD_CLOEXEC);

	if (cli->control && (r = control_open(&ctl, cli->control))) {
		cli_fail(cli, "--control: cannot listen on '%s': %s",
			 cli->control, strerror(-r));
		goto err_sfd;
	}
	ctl.snapshot_fd = cli->snapshot_fd;
	ctl.snapshot_path = cli->snapshot_path;
	r = splitvm_create(cli->cfg, &vm);
	if (r) {
		control_close(&ctl);
		goto err_sfd; /* the log said why */
	}
	if (cli->control)
		r = control_start(&ctl, vm,
				  cli->sandbox ? SPLITVM_SANDBOX_TRAP
					       : SPLITVM_SANDBOX_OFF);
	if (!r)
		r = splitvm_start(vm);
	/* From here the main thread only waits, reports and tears down. */
	if (!r && cli->sandbox)
		r = splitvm_sandbox_control_thread(SPLITVM_SANDBOX_TRAP);
	if (!r)
		r = cli_wait(vm, sfd, &res);
	if (cli->control)
		control_close(&ctl);
	if (sfd >= 0)
		close(sfd);
	if (r) {
		cli_fail(cli, "running the VM failed: %s", strerror(-r));
		splitvm_destroy(vm);
		return EXIT_MONITOR_ERROR;
	}
	status = cli_verdict(&res);
	if (cli->qemu_no_reboot)
		status = qemu_status(&res, status);
	if (cli->trace.f)
		status = close_trace(cli, status);
	if (cli->result_json)
		status = write_result_json(cli, vm, &res, status);
	/*
	 * The run is over, its threads joined and its output flushed: the
	 * process ends now, and the kernel frees the VM with the rest of it,
	 * ~0.2 ms sooner than splitvm_destroy() first (bench/README.md,
	 * #14). Under ASan the VM is destroyed, for LeakSanitizer to check.
	 */
	if (CLI_LEAK_CHECKED)
		splitvm_destroy(vm);
	return status;

err_sfd:
	if (sfd >= 0)
		close(sfd);
	return EXIT_MONITOR_ERROR;
}

/*
 * The QEMU front end's -kernel: QEMU 7.2 says these words when it cannot
 * open or load the file, and test runners read them (kvm-unit-tests'
 * arch-run.bash probes with a missing kernel and greps "could not open
 * kernel" to learn that the rest of the line was taken). The status is
 * splitvm's 126, not QEMU's 1: to those runners 1 is debug-exit code 0,
 * a pass, and a missing kernel must never read as one. Checked before
 * splitvm opens the file, without blocking on a FIFO, which QEMU would
 * wait on for ever.
 */
static int qemu_check_kernel(const struct cli *cli)
{
	struct stat st = {0};
	int fd = open(cli->kernel, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char line[PATH_MAX + 64];

	if (fd < 0) {
		snprintf(line, sizeof(line),
			 "could not open kernel file '%s': %s", cli->kernel,
			 strerror(errno));
	} else if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	} else {
		snprintf(line, sizeof(line), "could not load kernel '%s': %s",
			 cli->kernel,
			 S_ISDIR(st.st_mode) ? strerror(EISDIR)
					     : "Not a regular file");
		close(fd);
	}
	fprintf(stderr, "qemu: %s\n", line);
	if (cli->result_json)
		result_reason(&cli->result, line);
	return EXIT_MONITOR_ERROR;
}

/*
 * 'splitvm run'; qemu: for the QEMU front end, qemu_no_reboot: which had
 * -no-reboot.
 */
static int cli_run(int argc, char **argv, bool qemu, bool qemu_no_reboot)
{
	struct cli cli = {
		.trace = {.f = NULL, .lock = PTHREAD_MUTEX_INITIALIZER},
		.serial = "stdio",
		.ioapic_pins = 24,
		.ioapic_version = 0x20,
		.sandbox = true,
		.snapshot_fd = -1,
		.qemu = qemu,
		.qemu_no_reboot = qemu_no_reboot,
	};
	int r;

	if (splitvm_config_new(&cli.cfg))
		return EXIT_MONITOR_ERROR;
	/* Until --verbose is known: what --cpu's check logs. */
	splitvm_config_set_log_handler(cli.cfg, cli_log, &cli,
				       SPLITVM_LOG_WARNING);
	r = cli_parse_run(&cli, argc, argv);
	/* A command line refused ran nothing: the file stays as it was.
	 * Otherwise its keeper starts, before anything can fail. */
	if (r && cli.result_json) {
		result_close(&cli.result);
		cli.result_json = false;
	}
	if (!r && cli.result_json && (r = result_keep(&cli.result)) < 0) {
		fprintf(stderr, "splitvm: --result-json: %s\n", strerror(-r));
		r = EXIT_MONITOR_ERROR;
	}
	/* Every option taken, as QEMU would have: now the kernel file. */
	if (!r && cli.qemu)
		r = qemu_check_kernel(&cli);
	if (!r)
		r = cli_serial(&cli);
	if (!r)
		r = cli_sandbox(&cli);
	if (!r) {
		enum splitvm_log_level level =
			cli.verbose >= 2   ? SPLITVM_LOG_DEBUG
			: cli.verbose == 1 ? SPLITVM_LOG_INFO
					   : SPLITVM_LOG_WARNING;

		splitvm_config_set_log_handler(cli.cfg, cli_log, &cli, level);
		r = cli_boot(&cli);
	}
	splitvm_config_free(cli.cfg);
	if (cli.trace.f)
		r = close_trace(&cli, r);
	free(cli.trace.buf); /* after the stream that used it */
	if (cli.result_json)
		result_close(&cli.result);
	/* A signal caught before the run (cli_boot() blocks them from
	 * there): whatever it interrupted, the run was stopped. */
	if (early_stop)
		r = EXIT_INTERRUPTED;
	return r;
}

/*
 * The first line of QEMU's -version and -help, which scripts parse
 * (kvm-unit-tests reads QEMU_MAJOR, _MINOR and _MICRO from it): QEMU's
 * words and version, then splitvm's where QEMU puts its package version.
 */
static void qemu_print_version_line(void)
{
	printf("QEMU emulator version " QEMU_ARGS_QEMU_VERSION
	       " (splitvm %s)\n",
	       splitvm_version());
}

/*
 * -device help, in QEMU's format: the devices splitvm has, under QEMU's
 * category header (a blank line before every category but the first of
 * QEMU's list, which Misc is not).
 */
static void qemu_device_help(void)
{
	fputs("\n"
	      "Misc devices:\n"
	      "name \"edu\", bus PCI\n"
	      "name \"isa-debug-exit\", bus ISA\n"
	      "name \"pc-testdev\", bus ISA\n"
	      "name \"pci-testdev\", bus PCI, desc \"PCI Test Device\"\n",
	      stdout);
}

/* -device NAME,help, in QEMU's format (object_property_help()). */
static void qemu_device_props(const char *name)
{
	if (strcmp(name, "isa-debug-exit")) {
		printf("There are no options for %s.\n", name);
		return;
	}
	/* QEMU's defaults, which splitvm refuses: its port is fixed. */
	fputs("isa-debug-exit options:\n"
	      "  iobase=<uint32>        - splitvm takes only 0xf4 (default: 1281)\n"
	      "  iosize=<uint32>        - splitvm takes only 4 (default: 2)\n",
	      stdout);
}

/*
 * -machine help, in QEMU's format and order: the types the front end
 * takes (the pc-i440fx-* and pc-q35-* versions too). Each gives splitvm's
 * one PC; the descriptions are QEMU's, for scripts that look for them.
 */
static void qemu_machine_help(void)
{
	static const char *const lines[][2] = {
		{"microvm", "microvm (i386)"},
		{"pc", "Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-7.2)"},
		{"pc-i440fx-7.2", "Standard PC (i440FX + PIIX, 1996) (default)"},
		{"q35", "Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)"},
		{"pc-q35-7.2", "Standard PC (Q35 + ICH9, 2009)"},
	};

	puts("Supported machines are:");
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		printf("%-20s %s\n", lines[i][0], lines[i][1]);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * -cpu help, in QEMU 7.2's format (x86_cpu_list()): the models, then the
 * flags sorted and wrapped as QEMU's listflags() wraps them.
 */
static int qemu_cpu_help(void)
{
	const char *name, *desc, **flags;
	unsigned int n = 0;
	size_t len = 0;

	puts("Available CPUs:");
	for (unsigned int i = 0; !splitvm_cpu_model_info(i, &name, &desc); i++)
		printf("x86 %-20s  %s\n", name, desc ? desc : "");
	while (splitvm_cpu_flag_name(n))
		n++;
	flags = calloc(n ? n : 1, sizeof(*flags));
	if (!flags) {
		fprintf(stderr, "splitvm: %s\n", strerror(ENOMEM));
		return EXIT_MONITOR_ERROR;
	}
	for (unsigned int i = 0; i < n; i++)
		flags[i] = splitvm_cpu_flag_name(i);
	qsort(flags, n, sizeof(*flags), cmp_str);
	puts("\nRecognized CPUID flags:");
	for (unsigned int i = 0; i < n; i++) {
		if (len + strlen(flags[i]) + 1 >= 75) {
			putchar('\n');
			len = 0;
		}
		printf("%s%s", len ? " " : "  ", flags[i]);
		len += strlen(flags[i]) + 1;
	}
	puts("\n");
	free(flags);
	return 0;
}

/* A qemu-system-x86_64 command line; argv[0] is the program's name. */
static int cli_qemu(int argc, char **argv)
{
	struct qemu_args q;
	int r = qemu_args_parse(argc, argv, &q);

	if (r == -EINVAL) {
		fprintf(stderr, "splitvm: %s (see 'splitvm qemu -help')\n",
			q.error);
		r = EXIT_USAGE;
	} else if (r) {
		fprintf(stderr, "splitvm: %s\n", strerror(-r));
		r = EXIT_MONITOR_ERROR;
	} else {
		switch (q.action) {
		case QEMU_ACTION_RUN:
			r = cli_run(q.run_argc, q.run_argv, true, q.no_reboot);
			break;
		case QEMU_ACTION_HELP:
			qemu_print_version_line();
			fputs(qemu_args_help, stdout);
			break;
		case QEMU_ACTION_VERSION:
			qemu_print_version_line();
			puts("splitvm's QEMU command-line front end (not QEMU)");
			break;
		case QEMU_ACTION_ACCEL_HELP:
			puts("Accelerators supported in QEMU binary:\nkvm");
			break;
		case QEMU_ACTION_MACHINE_HELP:
			qemu_machine_help();
			break;
		case QEMU_ACTION_DEVICE_HELP:
			qemu_device_help();
			break;
		case QEMU_ACTION_DEVICE_PROPS:
			qemu_device_props(q.help_device);
			break;
		case QEMU_ACTION_CPU_HELP:
			r = qemu_cpu_help();
			break;
		}
	}
	qemu_args_free(&q);
	return r;
}

/* Run as qemu-system-x86_64 (a link or a copy by that name): QEMU's CLI. */
static bool called_as_qemu(const char *argv0)
{
	const char *base = strrchr(argv0, '/');

	base = base ? base + 1 : argv0;
	return !strncmp(base, "qemu-system-x86_64", 18);
}

/*
 * What a careless caller may hand us. fds 0-2 closed: each gets /dev/null
 * before anything is opened, or the first file opened (a --result-json,
 * a socket) would become "stdout" and receive the guest's output. A
 * reader that leaves (`| head -1`, a control client that hangs up): its
 * output is dropped with EPIPE, never a SIGPIPE that kills the run and
 * its verdict.
 */
static void harden_stdio(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
		    open("/dev/null", O_RDWR) < 0)
			_exit(EXIT_MONITOR_ERROR);
	signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
	catch_stop_signals();
	harden_stdio();
	if (argc > 0 && called_as_qemu(argv[0]))
		return cli_qemu(argc, argv);
	if (argc < 2)
		return usage_error("no command given");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help") ||
	    ((!strcmp(argv[1], "run") || !strcmp(argv[1], "test")) &&
	     argc == 3 &&
	     (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")))) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("splitvm %s\n", splitvm_version());
		return 0;
	}
	if (!strcmp(argv[1], "run"))
		return cli_run(argc - 1, argv + 1, false, false);
	if (!strcmp(argv[1], "qemu"))
		return cli_qemu(argc - 1, argv + 1);
	if (!strcmp(argv[1], "test"))
		return cli_test(argc - 1, argv + 1, &early_stop);
	return usage_error("unknown command '%s'", argv[1]);
}
