// SPDX-License-Identifier: MIT
/*
 * Integration tests: boot the guests in guests/ through the public API
 * alone and check each outcome. Needs /dev/kvm; skips (77) without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <ucontext.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "splitvm.h"
#include "unit.h"

/* Everything a test wants back from one boot. */
struct boot {
	struct splitvm_config *cfg;
	struct splitvm *vm;
	struct splitvm_result res;
	pthread_mutex_t lock;
	char console[8192];
	size_t console_len;
	char log[1024];
};

static const char *guest_path(const char *file)
{
	static char path[4096];
	const char *dir = getenv("SPLITVM_GUESTS");

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "guests", file);
	return path;
}

static void on_console(void *userdata, const char *data, size_t len)
{
	struct boot *b = userdata;

	pthread_mutex_lock(&b->lock);
	if (len > sizeof(b->console) - 1 - b->console_len)
		len = sizeof(b->console) - 1 - b->console_len;
	memcpy(b->console + b->console_len, data, len);
	b->console_len += len;
	b->console[b->console_len] = 0;
	pthread_mutex_unlock(&b->lock);
}

static void on_log(void *userdata, enum splitvm_log_level level,
		   const char *msg)
{
	struct boot *b = userdata;

	if (level == SPLITVM_LOG_ERROR)
		snprintf(b->log, sizeof(b->log), "%s", msg);
}

static struct boot *boot_new(const char *guest, const char *cmdline)
{
	struct boot *b = calloc(1, sizeof(*b));

	ck_assert_ptr_nonnull(b);
	pthread_mutex_init(&b->lock, NULL);
	ck_assert_int_eq(splitvm_config_new(&b->cfg), 0);
	ck_assert_int_eq(splitvm_config_set_kernel(b->cfg, guest_path(guest)),
			 0);
	if (cmdline)
		ck_assert_int_eq(splitvm_config_set_cmdline(b->cfg, cmdline),
				 0);
	ck_assert_int_eq(
		splitvm_config_set_console_handler(b->cfg, on_console, b), 0);
	ck_assert_int_eq(splitvm_config_set_log_handler(b->cfg, on_log, b,
							SPLITVM_LOG_WARNING),
			 0);
	/* Every guest of the suite runs sandboxed. */
	ck_assert_int_eq(splitvm_config_set_sandbox(b->cfg,
						    SPLITVM_SANDBOX_ERRNO),
			 0);
	/* No guest here may run this long; a hang fails, never blocks. */
	ck_assert_int_eq(splitvm_config_set_timeout(b->cfg, 60000), 0);
	return b;
}

static void boot_run(struct boot *b)
{
	int r = splitvm_create(b->cfg, &b->vm);

	ck_assert_msg(r == 0, "create: %s (%s)", strerror(-r), b->log);
	ck_assert_int_eq(splitvm_run(b->vm, &b->res), 0);
}

static void boot_free(struct boot *b)
{
	splitvm_destroy(b->vm);
	splitvm_config_free(b->cfg);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* The guest ended through debug-exit with code, and said no FAIL. */
static void assert_exit(const struct boot *b, uint32_t code)
{
	ck_assert_msg(b->res.outcome == SPLITVM_OUTCOME_EXIT,
			  "outcome %s (%s); console:\n%s",
			  splitvm_outcome_name(b->res.outcome), b->res.detail,
			  b->console);
	ck_assert_msg(b->res.exit_code == code, "exit code %u; console:\n%s",
			  b->res.exit_code, b->console);
}

START_TEST(boot_demo_greets_and_passes)
{
	struct boot *b = boot_new("demo.elf", "demo");

	boot_run(b);
	assert_exit(b, 0);
	ck_assert_ptr_nonnull(strstr(b->console, "hello"));
	ck_assert_ptr_nonnull(strstr(b->console, "SUMMARY:"));
	ck_assert_ptr_null(strstr(b->console, "FAIL"));
	ck_assert_uint_gt(b->res.duration_ns, 0);
	boot_free(b);
}
END_TEST

START_TEST(boot_exit_code_reaches_result)
{
	static const uint32_t codes[] = {0, 1, 42, 127, 255};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		char cmd[32];
		struct boot *b;

		snprintf(cmd, sizeof(cmd), "exit=%u", codes[i]);
		b = boot_new("exitcode.elf", cmd);
		boot_run(b);
		assert_exit(b, codes[i]);
		ck_assert_int_eq(b->res.cpu, 0);
		boot_free(b);
	}
}
END_TEST

/* Writes a file of n bytes (a pattern of seed) and returns its checksum. */
static uint32_t write_module(const char *path, size_t n, unsigned int seed)
{
	FILE *f = fopen(path, "wb");
	uint32_t sum = 0;

	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)(i * 31 + seed);

		sum += c;
		fputc(c, f);
	}
	fclose(f);
	return sum;
}

/*
 * Boots guest with two modules (an initrd of size0 bytes and a module of
 * size1), its command line being args followed by the modules' sizes and
 * sums ("mods=2 mod0=SIZE:SUM mod1=SIZE:SUM ARGS"), in mem_mib of RAM.
 * The guest checks what it was given; the caller frees the boot.
 */
static struct boot *boot_with_modules(const char *guest, size_t size0,
				      size_t size1, unsigned int mem_mib,
				      const char *args)
{
	char dir[] = "/tmp/splitvm-test-XXXXXX";
	char m0[64], m1[64], cmd[256];
	uint32_t s0, s1;
	struct boot *b;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(m0, sizeof(m0), "%s/initrd", dir);
	snprintf(m1, sizeof(m1), "%s/module", dir);
	s0 = write_module(m0, size0, 1);
	s1 = write_module(m1, size1, 2);
	snprintf(cmd, sizeof(cmd), "mods=2 mod0=%zu:%u mod1=%zu:%u %s", size0,
		 s0, size1, s1, args);
	b = boot_new(guest, cmd);
	ck_assert_int_eq(splitvm_config_set_initrd(b->cfg, m0), 0);
	ck_assert_int_eq(splitvm_config_add_module(b->cfg, m1), 0);
	ck_assert_int_eq(
		splitvm_config_set_memory(b->cfg, (uint64_t)mem_mib << 20), 0);
	ck_assert_int_eq(splitvm_config_set_cpus(b->cfg, 2), 0);
	boot_run(b);
	unlink(m0);
	unlink(m1);
	rmdir(dir);
	return b;
}

START_TEST(boot_multiboot_info_modules_and_memory)
{
	struct boot *b = boot_with_modules("bootinfo.elf", 100000, 4097, 96,
					   "cpus=2 mem=96");

	assert_exit(b, 0);
	ck_assert_ptr_null(strstr(b->console, "FAIL"));
	boot_free(b);
}
END_TEST

/*
 * PVH: the same modules through hvm_start_info, with the memory map, the
 * RSDP and the command line checked by the guest (guests/pvhinfo.c).
 */
START_TEST(boot_pvh_start_info)
{
	struct boot *b = boot_with_modules("pvhinfo.pvh", 70000, 4096, 80,
					   "mem=80 acpi=1 contract=1");

	assert_exit(b, 0);
	ck_assert_ptr_null(strstr(b->console, "FAIL"));
	ck_assert_ptr_nonnull(strstr(b->console, "PASS: module 1 byte sum"));
	ck_assert_ptr_nonnull(
		strstr(b->console, "PASS: rsdp_paddr points at an RSDP"));
	ck_assert_ptr_nonnull(strstr(b->console, "(contract=1)"));
	boot_free(b);
}
END_TEST

START_TEST(boot_elf64_gets_fdt)
{
	struct boot *b = boot_new("fdt64.elf64", "fdt64 test");

	ck_assert_int_eq(splitvm_config_set_cpus(b->cfg, 3), 0);
	ck_assert_int_eq(splitvm_config_set_memory(b->cfg, 48ull << 20), 0);
	boot_run(b);
	assert_exit(b, 0);
	ck_assert_ptr_null(strstr(b->console, "FAIL"));
	boot_free(b);
}
END_TEST

START_TEST(boot_triple_fault_is_an_outcome_with_registers)
{
	struct boot *b = boot_new("triple.elf", NULL);

	boot_run(b);
	ck_assert_int_eq(b->res.outcome, SPLITVM_OUTCOME_TRIPLE_FAULT);
	ck_assert_int_eq(b->res.cpu, 0);
	ck_assert(b->res.has_regs);
	ck_assert_uint_ne(b->res.regs.cr0 & 1, 0); /* protected mode */
	ck_assert_ptr_nonnull(strstr(b->res.detail, "triple fault"));
	boot_free(b);
}
END_TEST

START_TEST(boot_timeout_ends_halted_guest)
{
	struct boot *b = boot_new("hang.elf", NULL);

	ck_assert_int_eq(splitvm_config_set_timeout(b->cfg, 300), 0);
	boot_run(b);
	ck_assert_int_eq(b->res.outcome, SPLITVM_OUTCOME_TIMEOUT);
	ck_assert_uint_ge(b->res.duration_ns, 300000000ull);
	ck_assert_int_eq(b->res.cpu, -1);
	boot_free(b);
}
END_TEST

static void *stop_later(void *arg)
{
	struct splitvm *vm = arg;
	struct timespec ts = {0, 200 * 1000 * 1000};

	nanosleep(&ts, NULL);
	splitvm_stop(vm);
	return NULL;
}

/* A vCPU spinning with IF=0 never exits by itself: only a kick stops it. */
START_TEST(boot_stop_from_another_thread)
{
	static const char *const guests[] = {"spin.elf", "hang.elf"};

	for (size_t i = 0; i < 2; i++) {
		struct boot *b = boot_new(guests[i], NULL);
		pthread_t t;

		ck_assert_int_eq(splitvm_config_set_cpus(b->cfg, 2), 0);
		ck_assert_int_eq(splitvm_create(b->cfg, &b->vm), 0);
		ck_assert_int_eq(splitvm_start(b->vm), 0);
		ck_assert_int_eq(splitvm_start(b->vm), -EALREADY);
		ck_assert_int_eq(pthread_create(&t, NULL, stop_later, b->vm),
				 0);
		ck_assert_int_eq(splitvm_wait(b->vm, 30000, &b->res), 0);
		pthread_join(t, NULL);
		ck_assert_int_eq(b->res.outcome, SPLITVM_OUTCOME_STOPPED);
		boot_free(b);
	}
}
END_TEST

START_TEST(boot_wait_times_out_while_running)
{
	struct boot *b = boot_new("hang.elf", NULL);

	ck_assert_int_eq(splitvm_create(b->cfg, &b->vm), 0);
	ck_assert_int_eq(splitvm_wait(b->vm, 10, &b->res), -ESRCH);
	ck_assert_int_eq(splitvm_start(b->vm), 0);
	ck_assert_int_eq(splitvm_wait(b->vm, 50, &b->res), -ETIMEDOUT);
	ck_assert_int_eq(splitvm_wait(b->vm, 0, &b->res), -ETIMEDOUT);
	ck_assert_int_eq(splitvm_stop(b->vm), 0);
	ck_assert_int_eq(splitvm_wait(b->vm, -1, &b->res), 0);
	ck_assert_int_eq(b->res.outcome, SPLITVM_OUTCOME_STOPPED);
	/* A second wait gives the same result. */
	ck_assert_int_eq(splitvm_wait(b->vm, 0, &b->res), 0);
	ck_assert_int_eq(b->res.outcome, SPLITVM_OUTCOME_STOPPED);
	boot_free(b);
}
END_TEST

/* Several VMs at once in one process, each with its own verdict. */
START_TEST(boot_concurrent_vms_keep_their_results)
{
	enum { N = 8 };
	struct boot *b[N];

	for (unsigned int i = 0; i < N; i++) {
		char cmd[32];

		snprintf(cmd, sizeof(cmd), "exit=%u", 10 + i);
		b[i] = boot_new("exitcode.elf", cmd);
		ck_assert_int_eq(splitvm_config_set_cpus(b[i]->cfg, 1 + i % 3),
				 0);
		ck_assert_int_eq(splitvm_create(b[i]->cfg, &b[i]->vm), 0);
	}
	for (unsigned int i = 0; i < N; i++)
		ck_assert_int_eq(splitvm_start(b[i]->vm), 0);
	for (unsigned int i = N; i-- > 0;) {
		ck_assert_int_eq(splitvm_wait(b[i]->vm, -1, &b[i]->res), 0);
		assert_exit(b[i], 10 + i);
		boot_free(b[i]);
	}
}
END_TEST

START_TEST(boot_serial_input_reaches_guest)
{
	struct boot *b = boot_new("echo.elf", NULL);
	int fds[2];
	static const char line[] = "ping from the host\n";

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(write(fds[1], line, sizeof(line) - 1),
			 (ssize_t)sizeof(line) - 1);
	ck_assert_int_eq(splitvm_config_set_serial_fds(b->cfg, -1, fds[0]), 0);
	boot_run(b);
	assert_exit(b, 0);
	ck_assert_ptr_nonnull(strstr(b->console, "ping from the host"));
	close(fds[0]);
	close(fds[1]);
	boot_free(b);
}
END_TEST

START_TEST(boot_bad_images_fail_create_with_reason)
{
	char path[] = "/tmp/splitvm-bad-XXXXXX";
	int fd = mkstemp(path);
	struct boot *b;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "not a kernel at all", 19), 19);
	close(fd);

	b = boot_new("demo.elf", NULL);
	ck_assert_int_eq(splitvm_config_set_kernel(b->cfg, path), 0);
	ck_assert_int_eq(splitvm_create(b->cfg, &b->vm), -ENOEXEC);
	ck_assert_ptr_null(b->vm);
	ck_assert_msg(strlen(b->log) > 0, "no reason logged");

	ck_assert_int_eq(splitvm_config_set_kernel(b->cfg, "/nonexistent/k"),
			 0);
	ck_assert_int_eq(splitvm_create(b->cfg, &b->vm), -ENOENT);
	ck_assert_ptr_nonnull(strstr(b->log, "/nonexistent/k"));
	unlink(path);
	boot_free(b);
}
END_TEST

START_TEST(boot_destroy_running_vm)
{
	struct boot *b = boot_new("spin.elf", NULL);

	ck_assert_int_eq(splitvm_create(b->cfg, &b->vm), 0);
	ck_assert_int_eq(splitvm_start(b->vm), 0);
	splitvm_destroy(b->vm); /* must stop and join, not hang */
	b->vm = NULL;
	boot_free(b);
}
END_TEST

/* Pause parks every vCPU, even one spinning with IF=0, and resume lets
 * them go; neither disturbs the run's outcome. */
START_TEST(boot_pause_resume)
{
	struct boot *b = boot_new("spin.elf", NULL);

	ck_assert_int_eq(splitvm_config_set_cpus(b->cfg, 3), 0);
	ck_assert_int_eq(splitvm_create(b->cfg, &b->vm), 0);
	ck_assert_int_eq(splitvm_pause(b->vm), -ESRCH);
	ck_assert_int_eq(splitvm_start(b->vm), 0);
	for (int i = 0; i < 20; i++) {
		ck_assert_int_eq(splitvm_pause(b->vm), 0);
		ck_assert_int_eq(splitvm_pause(b->vm), -EALREADY);
		ck_assert_int_eq(splitvm_wait(b->vm, 0, &b->res), -ETIMEDOUT);
		ck_assert_int_eq(splitvm_resume(b->vm), 0);
		ck_assert_int_eq(splitvm_resume(b->vm), -EALREADY);
	}
	/* Stopping a paused VM ends it too. */
	ck_assert_int_eq(splitvm_pause(b->vm), 0);
	ck_assert_int_eq(splitvm_stop(b->vm), 0);
	ck_assert_int_eq(splitvm_wait(b->vm, 30000, &b->res), 0);
	ck_assert_int_eq(b->res.outcome, SPLITVM_OUTCOME_STOPPED);
	ck_assert_int_eq(splitvm_pause(b->vm), -ESRCH);
	boot_free(b);
}
END_TEST

/* The interrupt and vCPU calls check their arguments. */
START_TEST(boot_irq_and_cpu_calls_check_arguments)
{
	struct boot *b = boot_new("hang.elf", NULL);
	struct splitvm_irq_stats st;

	ck_assert_int_eq(splitvm_config_set_cpus(b->cfg, 2), 0);
	ck_assert_int_eq(splitvm_create(b->cfg, &b->vm), 0);
	ck_assert_int_eq(splitvm_irq_set(b->vm, 24, 1), -EINVAL);
	ck_assert_int_eq(splitvm_irq_set(NULL, 3, 1), -EINVAL);
	ck_assert_int_eq(splitvm_irq_set(b->vm, 23, 1), 0);
	ck_assert_int_eq(splitvm_irq_stats(b->vm, 23, &st), 0);
	ck_assert_uint_eq(st.asserts, 1);
	ck_assert_uint_eq(st.deliveries, 0); /* the entry is masked */
	ck_assert_int_eq(splitvm_irq_stats(b->vm, 24, &st), -EINVAL);
	ck_assert_int_eq(splitvm_nmi(b->vm, 2), -EINVAL);
	ck_assert_int_eq(splitvm_nmi(b->vm, -2), -EINVAL);
	ck_assert_int_eq(splitvm_init_cpu(b->vm, 2), -EINVAL);
	ck_assert_int_eq(splitvm_sipi(b->vm, 1, 256), -EINVAL);
	ck_assert_int_eq(splitvm_sipi(b->vm, 1, 0x10), 0);
	ck_assert_int_eq(splitvm_reset(b->vm), -ESRCH);
	boot_free(b);
}
END_TEST

static unsigned int count(const char *haystack, const char *needle)
{
	unsigned int n = 0;

	for (const char *p = haystack; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Waits (bounded) until the console holds needle at least n times. */
static bool wait_console(struct boot *b, const char *needle, unsigned int n)
{
	for (int i = 0; i < 3000; i++) {
		bool ok;
		struct timespec ts = {0, 10 * 1000 * 1000};

		pthread_mutex_lock(&b->lock);
		ok = count(b->console, needle) >= n;
		pthread_mutex_unlock(&b->lock);
		if (ok)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/* A reset reloads the kernel and restarts the BSP at its entry; APs go
 * back to waiting for SIPI. The guest boots again, as on a reboot. */
static void reset_reboots(enum splitvm_irqchip mode)
{
	struct boot *b = boot_new("hang.elf", NULL);

	ck_assert_int_eq(splitvm_config_set_irqchip(b->cfg, mode), 0);
	ck_assert_int_eq(splitvm_config_set_cpus(b->cfg, 2), 0);
	ck_assert_int_eq(splitvm_create(b->cfg, &b->vm), 0);
	ck_assert_int_eq(splitvm_start(b->vm), 0);
	ck_assert_msg(wait_console(b, "hang:", 1), "no first boot: %s",
			  b->console);
	ck_assert_int_eq(splitvm_reset(b->vm), 0);
	ck_assert_msg(wait_console(b, "hang:", 2), "no second boot: %s",
			  b->console);
	/* A reset while paused keeps the VM paused until resumed. */
	ck_assert_int_eq(splitvm_pause(b->vm), 0);
	ck_assert_int_eq(splitvm_reset(b->vm), 0);
	ck_assert_int_eq(splitvm_resume(b->vm), 0);
	ck_assert_msg(wait_console(b, "hang:", 3), "no third boot: %s",
			  b->console);
	ck_assert_int_eq(splitvm_stop(b->vm), 0);
	ck_assert_int_eq(splitvm_wait(b->vm, -1, &b->res), 0);
	ck_assert_int_eq(b->res.outcome, SPLITVM_OUTCOME_STOPPED);
	boot_free(b);
}

START_TEST(boot_reset_reboots_the_guest)
{
	reset_reboots(SPLITVM_IRQCHIP_SPLIT);
	reset_reboots(SPLITVM_IRQCHIP_KERNEL);
}
END_TEST

/* Registers and memory of a paused guest can be read and changed; the
 * statistics count what the guest did. */
START_TEST(boot_regs_memory_and_stats)
{
	struct boot *b = boot_new("hang.elf", NULL);
	struct splitvm_regs regs, again;
	struct splitvm_stats st;
	uint8_t buf[16] = "splitvm-memtest", back[16];

	ck_assert_int_eq(splitvm_create(b->cfg, &b->vm), 0);
	/* Before start: the entry state the loader chose (multiboot). */
	ck_assert_int_eq(splitvm_get_regs(b->vm, 0, &regs), 0);
	ck_assert_uint_eq(regs.rax, 0x2badb002);
	ck_assert_uint_ge(regs.rip, 0x100000); /* the kernel loads at 1 MiB */
	ck_assert_int_eq(splitvm_start(b->vm), 0);
	ck_assert_msg(wait_console(b, "hang:", 1), "no boot");
	ck_assert_int_eq(splitvm_get_regs(b->vm, 0, &regs), -EBUSY);
	ck_assert_int_eq(splitvm_pause(b->vm), 0);
	ck_assert_int_eq(splitvm_get_regs(b->vm, 0, &regs), 0);
	ck_assert_uint_ne(regs.cr0 & 0x80000000u, 0); /* paging: long mode */
	ck_assert_uint_eq(regs.rflags & 0x200, 0);    /* cli; hlt */
	regs.r15 = 0x1122334455667788ull;
	ck_assert_int_eq(splitvm_set_regs(b->vm, 0, &regs), 0);
	ck_assert_int_eq(splitvm_get_regs(b->vm, 0, &again), 0);
	ck_assert_uint_eq(again.r15, 0x1122334455667788ull);
	ck_assert_uint_eq(again.rip, regs.rip);
	ck_assert_int_eq(splitvm_get_regs(b->vm, 1, &again), -EINVAL);

	ck_assert_int_eq(splitvm_mem_write(b->vm, 0x7000, buf, sizeof(buf)), 0);
	ck_assert_int_eq(splitvm_mem_read(b->vm, 0x7000, back, sizeof(back)),
			 0);
	ck_assert_mem_eq(buf, back, sizeof(buf));
	ck_assert_int_eq(splitvm_mem_read(b->vm, 0xfec00000, back, 4), -EFAULT);
	ck_assert_int_eq(splitvm_mem_read(b->vm, (64 << 20) - 2, back, 4),
			 -EFAULT);
	ck_assert_int_eq(splitvm_resume(b->vm), 0);

	ck_assert_int_eq(splitvm_get_stats(b->vm, &st), 0);
	ck_assert_uint_gt(st.exits_io, 10); /* the serial line, at least */
	ck_assert_int_eq(splitvm_stop(b->vm), 0);
	ck_assert_int_eq(splitvm_wait(b->vm, -1, &b->res), 0);
	boot_free(b);
}
END_TEST

static uint64_t dummy_read(void *ud, uint64_t off, unsigned int len, int cpu)
{
	return 0;
}

/* The embedder's devices may not overlap splitvm's, nor RAM. */
START_TEST(boot_user_devices_checked)
{
	static const struct splitvm_device_ops ops = {.read = dummy_read};
	static const struct {
		enum splitvm_space space;
		uint64_t base, size;
		int config, create;
	} cases[] = {
		{SPLITVM_SPACE_PIO, 0x3f8, 8, 0, -EEXIST},		/* COM1 */
		{SPLITVM_SPACE_PIO, 0xf0, 8, 0, -EEXIST},		/* debug-exit */
		{SPLITVM_SPACE_MMIO, 0x100000, 0x1000, 0, -EEXIST}, /* RAM */
		{SPLITVM_SPACE_MMIO, 0xfec00000, 16, 0, -EEXIST},	/* IOAPIC */
		{SPLITVM_SPACE_PIO, 0xfff0, 0x20, -EINVAL, 0},	/* > 64K */
		{SPLITVM_SPACE_MMIO, ~0ull, 2, -EINVAL, 0},		/* wraps */
		{SPLITVM_SPACE_PIO, 0x300, 0, -EINVAL, 0},		/* empty */
		{SPLITVM_SPACE_PIO, 0x300, 16, 0, 0},		/* free */
		{SPLITVM_SPACE_MMIO, 0xd0000000, 0x1000, 0, 0},	/* hole */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct boot *b = boot_new("demo.elf", NULL);
		int r;

		r = splitvm_config_add_device(b->cfg, cases[i].space,
						  cases[i].base, cases[i].size,
						  &ops, NULL);
		ck_assert_msg(r == cases[i].config, "case %zu: config %d", i,
				  r);
		if (!r) {
			r = splitvm_create(b->cfg, &b->vm);
			ck_assert_msg(r == cases[i].create,
					  "case %zu: create %d", i, r);
			if (r)
				ck_assert_msg(strlen(b->log) > 0,
						  "case %zu: no reason", i);
		}
		boot_free(b);
	}
}
END_TEST

/* Both irqchip modes start their chips in the same, firmware-left state. */
START_TEST(boot_chip_snapshots_agree_across_modes)
{
	struct splitvm_pic_state pic[2];
	struct splitvm_ioapic_state io[2];
	struct splitvm_pit_state pit, pit0[2];

	for (int m = 0; m < 2; m++) {
		struct boot *b = boot_new("hang.elf", NULL);

		ck_assert_int_eq(splitvm_config_set_irqchip(
					 b->cfg, m ? SPLITVM_IRQCHIP_KERNEL
						   : SPLITVM_IRQCHIP_SPLIT),
				 0);
		ck_assert_int_eq(splitvm_create(b->cfg, &b->vm), 0);
		ck_assert_int_eq(splitvm_get_pic_state(b->vm, &pic[m]), 0);
		ck_assert_int_eq(splitvm_get_ioapic_state(b->vm, &io[m]), 0);
		ck_assert_int_eq(splitvm_get_pit_state(b->vm, &pit), 0);
		ck_assert_int_eq(splitvm_get_pit_state(NULL, &pit), -EINVAL);
		pit0[m] = pit;
		boot_free(b);
	}
	ck_assert_mem_eq(&pic[0], &pic[1], sizeof(pic[0]));
	ck_assert_uint_eq(pic[0].chip[0].vector_base, 0x08);
	ck_assert_uint_eq(pic[0].chip[1].vector_base, 0x70);
	ck_assert_uint_eq(pic[0].chip[0].imr, 0xb8);
	ck_assert_uint_eq(pic[0].chip[1].imr, 0x8e);
	/* Counter 0 as SeaBIOS's pit_setup() leaves it: mode 2, 65536. */
	for (int m = 0; m < 2; m++) {
		ck_assert_uint_eq(pit0[m].channel[0].mode, 2);
		ck_assert_uint_eq(pit0[m].channel[0].count, 0x10000);
		ck_assert_uint_eq(pit0[m].channel[0].gate, 1);
	}
	ck_assert_uint_eq(io[0].pins, 24);
	ck_assert_uint_eq(io[1].pins, 24);
	ck_assert_uint_eq(io[0].version, 0x170020);
	ck_assert_uint_eq(io[1].version, 0x170011);
	for (unsigned int pin = 0; pin < 24; pin++) {
		ck_assert_uint_eq(io[0].entries[pin] & 0x10000, 0x10000);
		ck_assert_uint_eq(io[1].entries[pin] & 0x10000, 0x10000);
	}
}
END_TEST

static unsigned int open_fds(void)
{
	char path[64];
	unsigned int n = 0;

	for (int fd = 0; fd < 4096; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n += access(path, F_OK) == 0;
	}
	return n;
}

/* A harness runs many VMs at once: 100 in one process, each its verdict. */
START_TEST(boot_hundred_vms_at_once)
{
	enum { N = 100 };
	struct boot **b = calloc(N, sizeof(*b));

	ck_assert_ptr_nonnull(b);
	for (unsigned int i = 0; i < N; i++) {
		char cmd[32];

		snprintf(cmd, sizeof(cmd), "exit=%u", i);
		b[i] = boot_new("exitcode.elf", cmd);
		ck_assert_int_eq(splitvm_config_set_memory(b[i]->cfg, 8 << 20),
				 0);
		ck_assert_int_eq(splitvm_create(b[i]->cfg, &b[i]->vm), 0);
		ck_assert_int_eq(splitvm_start(b[i]->vm), 0);
	}
	for (unsigned int i = 0; i < N; i++) {
		ck_assert_int_eq(splitvm_wait(b[i]->vm, -1, &b[i]->res), 0);
		assert_exit(b[i], i);
		ck_assert_ptr_nonnull(strstr(b[i]->console, "exiting with"));
		boot_free(b[i]);
	}
	free(b);
}
END_TEST

/* Creating and destroying VMs in a loop leaks no descriptor (memory is
 * checked by the sanitizer build's leak checker). */
START_TEST(boot_create_destroy_loop_leaks_nothing)
{
	unsigned int before = open_fds();

	for (int i = 0; i < 200; i++) {
		struct boot *b = boot_new("exitcode.elf", "exit=3");

		ck_assert_int_eq(splitvm_config_set_cpus(b->cfg, 1 + i % 2), 0);
		ck_assert_int_eq(splitvm_create(b->cfg, &b->vm), 0);
		if (i % 2) {
			ck_assert_int_eq(splitvm_run(b->vm, &b->res), 0);
			assert_exit(b, 3);
		}
		boot_free(b);
	}
	ck_assert_uint_eq(open_fds(), before);
}
END_TEST

/* What a console handler saw when it tried to make a socket (refused in
 * every build; sanitizer builds let their runtime open files). */
static volatile sig_atomic_t sigsys_count, sigsys_nr;
static int open_result, open_errno;
static bool open_tried;

/* A host's SIGSYS handler: note the call, make it fail with EPERM. */
static void on_sigsys(int sig, siginfo_t *si, void *ucp)
{
	ucontext_t *uc = ucp;

	sigsys_count++;
	sigsys_nr = si->si_syscall;
	uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
}

static void console_tries_open(void *userdata, const char *data, size_t len)
{
	if (open_tried)
		return;
	open_tried = true;
	open_result = socket(AF_UNIX, SOCK_STREAM, 0);
	open_errno = errno;
}

/* The embedder's callbacks run on the vCPU threads, inside the sandbox:
 * a system call outside the vCPU allowlist is refused, and reported. */
START_TEST(boot_sandbox_refuses_forbidden_syscall)
{
	static const enum splitvm_sandbox modes[] = {SPLITVM_SANDBOX_ERRNO,
						     SPLITVM_SANDBOX_TRAP};
	struct sigaction sa = {.sa_sigaction = on_sigsys,
			       .sa_flags = SA_SIGINFO};

	sigaction(SIGSYS, &sa, NULL);
	for (unsigned int i = 0; i < 2; i++) {
		struct boot *b = boot_new("demo.elf", NULL);

		open_tried = false;
		sigsys_count = 0;
		ck_assert_int_eq(splitvm_config_set_sandbox(b->cfg, modes[i]),
				 0);
		ck_assert_int_eq(splitvm_config_set_console_handler(
					 b->cfg, console_tries_open, b),
				 0);
		boot_run(b);
		assert_exit(b, 0); /* the guest itself is not disturbed */
		ck_assert(open_tried);
		ck_assert_int_eq(open_result, -1);
		ck_assert_int_eq(open_errno, EPERM);
		if (modes[i] == SPLITVM_SANDBOX_ERRNO) {
			ck_assert_int_eq(sigsys_count, 0);
		} else {
			ck_assert_int_eq(sigsys_count, 1);
			ck_assert_int_eq(sigsys_nr, SYS_socket);
		}
		boot_free(b);
	}
	/* Without the sandbox the same call works: the test can fail. */
	struct boot *b = boot_new("demo.elf", NULL);

	open_tried = false;
	ck_assert_int_eq(splitvm_config_set_sandbox(b->cfg,
						    SPLITVM_SANDBOX_OFF),
			 0);
	ck_assert_int_eq(splitvm_config_set_console_handler(
				 b->cfg, console_tries_open, b),
			 0);
	boot_run(b);
	ck_assert_int_ge(open_result, 0);
	close(open_result);
	boot_free(b);
}
END_TEST

/* Events seen by a handler: counts per type, and EOIs match deliveries. */
struct events {
	pthread_mutex_t lock;
	unsigned int count[SPLITVM_EVENT_TYPES];
	bool routed_vector[256];
	unsigned int eoi_unmatched;
	uint64_t last_time;
	unsigned int out_of_order;
};

static void on_event(void *userdata, const struct splitvm_event *ev)
{
	struct events *e = userdata;

	pthread_mutex_lock(&e->lock);
	e->count[ev->type]++;
	if (ev->type == SPLITVM_EVENT_ROUTED)
		e->routed_vector[ev->vector & 0xff] = true;
	if (ev->type == SPLITVM_EVENT_EOI &&
	    !e->routed_vector[ev->vector & 0xff])
		e->eoi_unmatched++;
	pthread_mutex_unlock(&e->lock);
}

/* The interrupt lifecycle a handler sees: lines, the IOAPIC's messages,
 * EOIs of what it sent, guest writes to entries and PIC ports; filtered
 * by the subscription mask. */
START_TEST(boot_event_stream)
{
	static const struct {
		const char *guest;
		unsigned int mask;
	} runs[] = {
		{"ioapic.elf", ~0u},
		{"pic.elf", ~0u},
		{"ioapic.elf", 1u << SPLITVM_EVENT_LINE},
	};

	for (unsigned int i = 0; i < 3; i++) {
		struct boot *b = boot_new(runs[i].guest, NULL);
		struct events e = {.lock = PTHREAD_MUTEX_INITIALIZER};

		ck_assert_int_eq(splitvm_config_set_cpus(b->cfg, 2), 0);
		ck_assert_int_eq(splitvm_config_set_event_handler(
					 b->cfg, runs[i].mask, on_event, &e),
				 0);
		boot_run(b);
		assert_exit(b, 0);
		ck_assert_uint_gt(e.count[SPLITVM_EVENT_LINE], 0);
		if (runs[i].mask != ~0u) {
			for (int t = 1; t < SPLITVM_EVENT_TYPES; t++)
				ck_assert_uint_eq(e.count[t], 0);
		} else if (i == 0) {
			ck_assert_uint_gt(e.count[SPLITVM_EVENT_ROUTED], 0);
			ck_assert_uint_gt(e.count[SPLITVM_EVENT_EOI], 0);
			ck_assert_uint_gt(e.count[SPLITVM_EVENT_REDIRECTION], 0);
			ck_assert_uint_eq(e.eoi_unmatched, 0);
		} else {
			ck_assert_uint_gt(e.count[SPLITVM_EVENT_PIC], 0);
			ck_assert_uint_gt(e.count[SPLITVM_EVENT_INJECTED], 0);
		}
		boot_free(b);
	}
}
END_TEST

/*
 * Real-mode programs for an AP, written by the host: write a code to the
 * debug-exit port (mov ax, code; out 0xf4, ax), or loop for ever (jmp $).
 */
static void put_exit_program(struct splitvm *vm, uint64_t gpa, uint8_t code)
{
	const uint8_t prog[] = {0xb8, code, 0x00, 0xe7, 0xf4, 0xf4, 0xeb, 0xfe};

	ck_assert_int_eq(splitvm_mem_write(vm, gpa, prog, sizeof(prog)), 0);
}

static void put_loop_program(struct splitvm *vm, uint64_t gpa)
{
	const uint8_t prog[] = {0xeb, 0xfe};

	ck_assert_int_eq(splitvm_mem_write(vm, gpa, prog, sizeof(prog)), 0);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* The library's SIPI starts an AP waiting for one; INIT sends a running AP
 * back to wait-for-SIPI, and the next SIPI restarts it at a new vector; a
 * SIPI to a running AP is ignored (SDM 10.4.4). The BSP halts meanwhile. */
START_TEST(boot_library_init_and_sipi)
{
	struct boot *b = boot_new("hang.elf", NULL);

	ck_assert_int_eq(splitvm_config_set_cpus(b->cfg, 2), 0);
	ck_assert_int_eq(splitvm_create(b->cfg, &b->vm), 0);
	put_loop_program(b->vm, 0x10000);
	put_exit_program(b->vm, 0x20000, 42);
	ck_assert_int_eq(splitvm_start(b->vm), 0);
	ck_assert(wait_console(b, "hang:", 1));

	/* AP 1 starts at vector 0x10 and loops; a SIPI now changes nothing. */
	ck_assert_int_eq(splitvm_sipi(b->vm, 1, 0x10), 0);
	sleep_ms(100);
	ck_assert_int_eq(splitvm_sipi(b->vm, 1, 0x20), 0);
	sleep_ms(200);
	ck_assert_int_eq(splitvm_wait(b->vm, 0, &b->res), -ETIMEDOUT);

	/* INIT, then a SIPI to 0x20: the AP runs the exit program. */
	ck_assert_int_eq(splitvm_init_cpu(b->vm, 1), 0);
	sleep_ms(50);
	ck_assert_int_eq(splitvm_sipi(b->vm, 1, 0x20), 0);
	ck_assert_int_eq(splitvm_wait(b->vm, 30000, &b->res), 0);
	assert_exit(b, 42);
	ck_assert_int_eq(b->res.cpu, 1);
	boot_free(b);
}
END_TEST

/* What the host sees of an ACPI sleep: the power-state events. */
struct sleep_events {
	pthread_mutex_t lock;
	unsigned int suspended, wakeups;
	int cpu;
	uint64_t state, sts;
};

static void on_sleep_event(void *userdata, const struct splitvm_event *ev)
{
	struct sleep_events *e = userdata;

	pthread_mutex_lock(&e->lock);
	if (ev->type == SPLITVM_EVENT_SUSPENDED) {
		e->suspended++;
		e->cpu = ev->cpu;
		e->state = ev->value;
	} else if (ev->type == SPLITVM_EVENT_WAKEUP) {
		e->wakeups++;
		e->sts = ev->value;
	}
	pthread_mutex_unlock(&e->lock);
}

static struct boot *boot_sleeper(const char *cmdline, struct sleep_events *e)
{
	struct boot *b = boot_new("s3.elf", cmdline);

	ck_assert_int_eq(splitvm_config_set_cpus(b->cfg, 2), 0);
	ck_assert_int_eq(splitvm_config_set_event_handler(
				 b->cfg,
				 1u << SPLITVM_EVENT_SUSPENDED |
					 1u << SPLITVM_EVENT_WAKEUP,
				 on_sleep_event, e),
			 0);
	return b;
}

/*
 * ACPI S3 in both irqchip modes: the guest suspends with _S3's SLP_TYP,
 * the RTC alarm wakes it (RTC_EN), and its waking vector runs in real
 * mode at 0400:0008 with WAK_STS and RTC_STS in PM1_STS and IRQ0 coming
 * through the IVT (exit code 0). The host sees S3 entered from vCPU 0 and
 * one wake-up.
 */
START_TEST(boot_s3_rtc_alarm_wakes_the_guest)
{
	for (int m = 0; m < 2; m++) {
		struct sleep_events e = {.lock = PTHREAD_MUTEX_INITIALIZER};
		struct boot *b = boot_sleeper(NULL, &e);

		ck_assert_int_eq(splitvm_config_set_irqchip(
					 b->cfg, m ? SPLITVM_IRQCHIP_KERNEL
						   : SPLITVM_IRQCHIP_SPLIT),
				 0);
		boot_run(b);
		assert_exit(b, 0);
		ck_assert_ptr_nonnull(strstr(b->console, "resumed in real mode"));
		ck_assert_uint_eq(e.suspended, 1);
		ck_assert_uint_eq(e.state, 3);
		ck_assert_int_eq(e.cpu, 0);
		ck_assert_uint_eq(e.wakeups, 1);
		ck_assert_uint_eq(e.sts & 0x8400, 0x8400);
		boot_free(b);
	}
}
END_TEST

/*
 * splitvm_wakeup() is the power button: PWRBTN_STS and WAK_STS. Here the
 * guest left only the 32-bit waking vector, entered in flat protected
 * mode. Before the guest sleeps, the call has nothing to wake.
 */
START_TEST(boot_s3_wakeup_call)
{
	struct sleep_events e = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct boot *b = boot_sleeper("wake=button mode=32", &e);
	int r = -EALREADY;

	ck_assert_int_eq(splitvm_wakeup(NULL), -EINVAL);
	ck_assert_int_eq(splitvm_create(b->cfg, &b->vm), 0);
	ck_assert_int_eq(splitvm_wakeup(b->vm), -ESRCH);
	ck_assert_int_eq(splitvm_start(b->vm), 0);
	for (int i = 0; i < 2000 && r == -EALREADY; i++) {
		sleep_ms(10);
		r = splitvm_wakeup(b->vm);
	}
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(splitvm_wait(b->vm, 30000, &b->res), 0);
	assert_exit(b, 0);
	ck_assert_ptr_nonnull(
		strstr(b->console, "resumed in 32-bit protected mode"));
	ck_assert_uint_eq(e.suspended, 1);
	ck_assert_uint_eq(e.wakeups, 1);
	ck_assert_uint_eq(e.sts & 0x8100, 0x8100);
	ck_assert_int_eq(splitvm_wakeup(b->vm), -ESRCH);
	boot_free(b);
}
END_TEST

/* Woken with no waking vector, the machine resets as SeaBIOS resets it. */
START_TEST(boot_s3_without_vector_resets)
{
	struct sleep_events e = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct boot *b = boot_sleeper("mode=none", &e);

	boot_run(b);
	ck_assert_msg(b->res.outcome == SPLITVM_OUTCOME_RESET,
		      "outcome %s (%s); console:\n%s",
		      splitvm_outcome_name(b->res.outcome), b->res.detail,
		      b->console);
	ck_assert_ptr_nonnull(strstr(b->res.detail, "no waking vector"));
	ck_assert_uint_eq(e.wakeups, 1);
	boot_free(b);
}
END_TEST

/* The kick signal is the host's choice; stopping still works with it. */
START_TEST(boot_kick_signal_configurable)
{
	const int sigs[] = {SIGUSR2, SIGRTMIN + 3};

	for (unsigned int i = 0; i < 2; i++) {
		struct boot *b = boot_new("spin.elf", NULL);
		pthread_t t;

		ck_assert_int_eq(splitvm_config_set_kick_signal(b->cfg,
								sigs[i]),
				 0);
		ck_assert_int_eq(splitvm_config_set_cpus(b->cfg, 2), 0);
		ck_assert_int_eq(splitvm_create(b->cfg, &b->vm), 0);
		ck_assert_int_eq(splitvm_start(b->vm), 0);
		ck_assert_int_eq(pthread_create(&t, NULL, stop_later, b->vm),
				 0);
		ck_assert_int_eq(splitvm_wait(b->vm, 30000, &b->res), 0);
		pthread_join(t, NULL);
		ck_assert_int_eq(b->res.outcome, SPLITVM_OUTCOME_STOPPED);
		boot_free(b);
	}
	ck_assert_int_eq(splitvm_config_set_kick_signal(NULL, SIGUSR2),
			 -EINVAL);
}
END_TEST

/*
 * A hypercall KVM never completes (issue 12): on the PVM hosts, where
 * guest kernel code is interpreted, KVM's emulator "patches" vmcall and
 * vmmcall into the vendor's hypercall and runs it again in place, for
 * ever, with no exit. splitvm's watchdog ends the run within seconds as
 * an emulation failure naming the instruction, with the registers. Where
 * the CPU runs it (VMX/SVM) KVM answers -KVM_ENOSYS and the guest passes.
 */
START_TEST(boot_hypercall_that_never_completes_ends_the_run)
{
	static const char *const insns[] = {"vmcall", "vmmcall"};

	for (size_t i = 0; i < 2; i++) {
		char cmd[32];
		struct boot *b;

		snprintf(cmd, sizeof(cmd), "insn=%s", insns[i]);
		b = boot_new("refuse.elf", cmd);
		boot_run(b);
		if (b->res.outcome == SPLITVM_OUTCOME_EXIT) {
			assert_exit(b, 0);
			ck_assert_ptr_nonnull(strstr(b->console, "completed"));
			boot_free(b);
			continue;
		}
		ck_assert_msg(b->res.outcome ==
				      SPLITVM_OUTCOME_EMULATION_FAILURE,
			      "%s: outcome %s (%s); console:\n%s", insns[i],
			      splitvm_outcome_name(b->res.outcome),
			      b->res.detail, b->console);
		/* KVM may have rewritten vmmcall into vmcall by then. */
		ck_assert_msg(strstr(b->res.detail, "call (0f 01 ") &&
				      strstr(b->res.detail, "never completes"),
			      "%s", b->res.detail);
		ck_assert_int_eq(b->res.cpu, 0);
		ck_assert_int_ne(b->res.has_regs, 0);
		ck_assert_uint_eq(b->res.regs.rax, 0x5eb1);
		/* Ended by the watchdog, not by the 60 s limit. */
		ck_assert_uint_lt(b->res.duration_ns, 20000000000ull);
		boot_free(b);
	}
}
END_TEST

static void *nmi_later(void *arg)
{
	struct splitvm *vm = arg;
	struct timespec ts = {3, 0};

	nanosleep(&ts, NULL);
	splitvm_nmi(vm, 0);
	return NULL;
}

/*
 * What the watchdog must leave alone: a vCPU that stays in one state and
 * never exits is a dead end only at an instruction KVM never completes.
 * A spin or a HLT with interrupts off is a guest waiting (the host can
 * still send an NMI) and runs on: to its timeout, or until the NMI.
 */
START_TEST(boot_waiting_guests_are_not_ended_by_the_watchdog)
{
	static const char *const guests[] = {"spin.elf", "hang.elf"};
	struct boot *b;
	pthread_t t;

	for (size_t i = 0; i < 2; i++) {
		b = boot_new(guests[i], NULL);
		ck_assert_int_eq(splitvm_config_set_cpus(b->cfg, 2), 0);
		ck_assert_int_eq(splitvm_config_set_timeout(b->cfg, 3500), 0);
		boot_run(b);
		ck_assert_msg(b->res.outcome == SPLITVM_OUTCOME_TIMEOUT,
			      "%s: outcome %s (%s)", guests[i],
			      splitvm_outcome_name(b->res.outcome),
			      b->res.detail);
		boot_free(b);
	}
	/* The BSP halted with IF=0 for 3 s (the AP waits for SIPI), then
	 * woken by an NMI: the guest's handler reports it (exit 0x7f). */
	b = boot_new("hang.elf", NULL);
	ck_assert_int_eq(splitvm_config_set_cpus(b->cfg, 2), 0);
	ck_assert_int_eq(splitvm_create(b->cfg, &b->vm), 0);
	ck_assert_int_eq(splitvm_start(b->vm), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, nmi_later, b->vm), 0);
	ck_assert_int_eq(splitvm_wait(b->vm, 30000, &b->res), 0);
	pthread_join(t, NULL);
	assert_exit(b, 0x7f);
	ck_assert_uint_ge(b->res.duration_ns, 3000000000ull);
	boot_free(b);
}
END_TEST

UNIT_KVM_SUITE("boot",
	       boot_demo_greets_and_passes,
	       boot_exit_code_reaches_result,
	       boot_multiboot_info_modules_and_memory,
	       boot_pvh_start_info,
	       boot_elf64_gets_fdt,
	       boot_triple_fault_is_an_outcome_with_registers,
	       boot_timeout_ends_halted_guest,
	       boot_stop_from_another_thread,
	       boot_wait_times_out_while_running,
	       boot_concurrent_vms_keep_their_results,
	       boot_serial_input_reaches_guest,
	       boot_bad_images_fail_create_with_reason,
	       boot_destroy_running_vm,
	       boot_pause_resume,
	       boot_irq_and_cpu_calls_check_arguments,
	       boot_reset_reboots_the_guest,
	       boot_regs_memory_and_stats,
	       boot_user_devices_checked,
	       boot_chip_snapshots_agree_across_modes,
	       boot_hundred_vms_at_once,
	       boot_create_destroy_loop_leaks_nothing,
	       boot_sandbox_refuses_forbidden_syscall,
	       boot_event_stream,
	       boot_library_init_and_sipi,
	       boot_kick_signal_configurable,
	       boot_s3_rtc_alarm_wakes_the_guest,
	       boot_s3_wakeup_call,
	       boot_s3_without_vector_resets,
	       boot_hypercall_that_never_completes_ends_the_run,
	       boot_waiting_guests_are_not_ended_by_the_watchdog)
