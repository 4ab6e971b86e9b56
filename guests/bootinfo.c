// SPDX-License-Identifier: MIT
/* Checks the multiboot information against what the command line expects. */
#include "guest.h"

/*
 * Command-line arguments, each optional (a check whose argument is absent
 * is skipped); numbers are decimal or 0x-prefixed hex:
 *
 *   mods=N            the number of modules
 *   modI=SIZE[:SUM]   module I's size in bytes and its checksum, defined
 *                     as the sum of all its bytes modulo 2^32
 *                     (python3: sum(data) & 0xffffffff)
 *   cpus=N            the CPU count fw_cfg reports
 *   mem=MiB           the RAM size, from fw_cfg and the memory map
 *
 * Always checked: the info flags, that the command line starts with the
 * kernel's file name followed by the arguments, mem_lower/mem_upper, a
 * sane memory map with RAM under the kernel, and that modules and the
 * boot information lie in RAM, clear of the kernel and of each other.
 */

#define MAX_MODS 16
#define LOW_RESERVED 0x8000 /* pages tests use for real-mode trampolines */

struct range {
	const char *what;
	uint64_t start, end;
};

static bool overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	return a0 < b1 && b0 < a1;
}

/* True if [start, end) lies inside one available memory map entry. */
static bool in_available_ram(uint64_t start, uint64_t end)
{
	const struct multiboot_mmap_entry *e = NULL;

	while ((e = mb_mmap_next(e)))
		if (e->type == MB_MMAP_AVAILABLE && start >= e->base_addr &&
		    end <= e->base_addr + e->length)
			return true;
	return false;
}

static void check_cmdline(const char *cmdline)
{
	size_t n = 0;

	if (!report("command line present", cmdline && *cmdline))
		return;
	printf("bootinfo: command line \"%s\"\n", cmdline);
	/* The first word is the kernel's file name, as QEMU passes it. */
	while (cmdline[n] && cmdline[n] != ' ')
		n++;
	report("command line starts with the kernel file name",
	       n && !memchr(cmdline, '=', n));
	while (cmdline[n] == ' ')
		n++;
	report("arguments follow the kernel file name", cmdline[n] != '\0');
}

/* mem=MiB, or 0 if not given. */
static uint64_t expected_ram(const char *cmdline)
{
	uint64_t mib;

	return cmdline_get_u64(cmdline, "mem", &mib) ? mib * MiB : 0;
}

static void check_memory(const struct multiboot_info *mbi, uint64_t ram)
{
	const struct multiboot_mmap_entry *e, *f;
	uint64_t fw_ram = fw_cfg_ram_size(), avail = 0, top, consumed = 0;
	unsigned int entries = 0;
	bool disjoint = true;

	if (ram)
		reportf(fw_ram == ram, "fw_cfg RAM size is %lu MiB (got %lu)",
			ram / MiB, fw_ram / MiB);
	else
		report_skip("fw_cfg RAM size (no mem=)");
	if (!ram)
		ram = fw_ram;

	if (report("info has mem_lower/mem_upper",
		   mbi->flags & MB_INFO_MEMORY)) {
		printf("bootinfo: mem_lower %u KiB, mem_upper %u KiB\n",
		       mbi->mem_lower, mbi->mem_upper);
		report("mem_lower is 1-640 KiB",
		       mbi->mem_lower >= 1 && mbi->mem_lower <= 640);
		/*
		 * Below the PCI hole (never under 2 GiB on a PC) mem_upper
		 * reaches the end of RAM, less at most 1 MiB of firmware.
		 */
		top = 1 * MiB + mbi->mem_upper * KiB;
		report("mem_upper ends within 1 MiB of the end of RAM",
		       top <= ram && (ram > 2 * GiB || ram - top <= 1 * MiB));
	}

	if (!report("info has a memory map", mbi->flags & MB_INFO_MMAP))
		return;
	for (e = mb_mmap_next(NULL); e; e = mb_mmap_next(e)) {
		printf("bootinfo: mmap 0x%010lx-0x%010lx type %u\n",
		       e->base_addr, e->base_addr + e->length - 1, e->type);
		entries++;
		consumed += 4 + e->size;
		if (e->type != MB_MMAP_AVAILABLE)
			continue;
		avail += e->length;
		for (f = mb_mmap_next(NULL); f != e; f = mb_mmap_next(f))
			if (f->type == MB_MMAP_AVAILABLE &&
			    overlaps(e->base_addr, e->base_addr + e->length,
				     f->base_addr, f->base_addr + f->length))
				disjoint = false;
	}
	report("memory map entries fill mmap_length exactly",
	       entries && consumed == mbi->mmap_length);
	report("available memory map ranges do not overlap", disjoint);
	report(
	    "the kernel lies in available RAM",
	    in_available_ram((uintptr_t)_kernel_start, (uintptr_t)_kernel_end));
	/*
	 * Firmware keeps a little RAM for itself (the EBDA under 640 KiB,
	 * tables at the top): allow 1 MiB plus 1/64 of RAM, never more
	 * than RAM.
	 */
	reportf(avail <= ram && avail + 1 * MiB + ram / 64 >= ram,
		"available RAM in the memory map (%lu KiB) matches %lu MiB",
		avail / KiB, ram / MiB);
}

static bool check_module(uint32_t i, const struct multiboot_module *m,
			 const char *cmdline)
{
	char key[16], arg[48];
	const char *s = (const char *)(uintptr_t)m->string;
	uint64_t size = (uint64_t)m->mod_end - m->mod_start, want;
	const char *p;
	bool ok = true;

	printf("bootinfo: module %u at 0x%x-0x%x, %lu bytes, \"%s\"\n", i,
	       m->mod_start, m->mod_end, m->mod_end >= m->mod_start ? size : 0,
	       s && strnlen(s, 256) < 256 ? s : "?");
	ok &= reportf(m->mod_end >= m->mod_start,
		      "module %u ends after it starts", i);
	if (!ok)
		return false;
	ok &= reportf(!(m->mod_start & 0xfff),
		      "module %u is page aligned (header flag 0)", i);
	ok &= reportf(in_available_ram(m->mod_start, m->mod_end),
		      "module %u lies in available RAM", i);
	ok &=
	    reportf(!overlaps(m->mod_start, m->mod_end,
			      (uintptr_t)_kernel_start, (uintptr_t)_kernel_end),
		    "module %u is clear of the kernel", i);
	ok &= reportf(s && *s && strnlen(s, 4096) < 4096,
		      "module %u has a string", i);

	snprintf(key, sizeof(key), "mod%u", i);
	if (!cmdline_get(cmdline, key, arg, sizeof(arg))) {
		snprintf(arg, sizeof(arg), "module %u size and sum (no %s=)", i,
			 key);
		report_skip(arg);
		return ok;
	}
	if (!parse_u64(arg, &p, &want) || (*p && *p != ':')) {
		printf("bootinfo: cannot parse %s=%s\n", key, arg);
		exit(GUEST_EXIT_USAGE);
	}
	ok &= reportf(size == want, "module %u is %lu bytes (got %lu)", i, want,
		      size);
	if (*p == ':') {
		uint32_t sum = byte_sum(
		    (const uint8_t *)(uintptr_t)m->mod_start, (size_t)size);

		if (!parse_u64(p + 1, &p, &want) || *p) {
			printf("bootinfo: cannot parse %s=%s\n", key, arg);
			exit(GUEST_EXIT_USAGE);
		}
		ok &= reportf(sum == want,
			      "module %u byte sum is 0x%lx (got 0x%x)", i, want,
			      sum);
	}
	return ok;
}

static void check_modules(const struct multiboot_info *mbi, const char *cmdline)
{
	uint32_t i, j, count = mb_module_count();
	uint64_t want;
	bool disjoint = true;

	if (cmdline_get_u64(cmdline, "mods", &want))
		reportf(count == want, "%lu modules (got %u)", want, count);
	else
		report_skip("module count (no mods=)");
	if (count > MAX_MODS) {
		printf("bootinfo: checking the first %u modules only\n",
		       MAX_MODS);
		count = MAX_MODS;
	}
	for (i = 0; i < count; i++) {
		const struct multiboot_module *m = mb_module(i);

		check_module(i, m, cmdline);
		for (j = 0; j < i; j++)
			if (overlaps(m->mod_start, m->mod_end,
				     mb_module(j)->mod_start,
				     mb_module(j)->mod_end))
				disjoint = false;
	}
	if (count > 1)
		report("modules do not overlap each other", disjoint);
}

/*
 * The info itself, its strings and arrays: in RAM, clear of the kernel,
 * of the modules and of the low pages where tests put real-mode
 * trampolines (DEVICE-CONTRACT.md, "Boot protocols"). RAM here is what
 * mem_lower/mem_upper describe, not only "available" map entries: a
 * loader may fairly mark its own boot data reserved.
 */
static bool in_ram(const struct multiboot_info *mbi, uint64_t start,
		   uint64_t end)
{
	if (!(mbi->flags & MB_INFO_MEMORY))
		return in_available_ram(start, end);
	return end <= mbi->mem_lower * KiB ||
	       (start >= 1 * MiB && end <= 1 * MiB + mbi->mem_upper * KiB);
}

static void check_placement(const struct multiboot_info *mbi,
			    const char *cmdline)
{
	struct range r[4 + MAX_MODS];
	unsigned int n = 0, i, j, count = mb_module_count();
	bool ok;

	r[n++] = (struct range){"the info", (uintptr_t)mbi,
				(uintptr_t)mbi + sizeof(*mbi)};
	if (cmdline)
		r[n++] =
		    (struct range){"the command line", (uintptr_t)cmdline,
				   (uintptr_t)cmdline + strlen(cmdline) + 1};
	if (mbi->flags & MB_INFO_MMAP)
		r[n++] =
		    (struct range){"the memory map", mbi->mmap_addr,
				   (uint64_t)mbi->mmap_addr + mbi->mmap_length};
	if (count)
		r[n++] = (struct range){
		    "the module list", mbi->mods_addr,
		    mbi->mods_addr +
			(uint64_t)count * sizeof(struct multiboot_module)};
	for (i = 0; i < n; i++) {
		printf("bootinfo: %s at 0x%lx-0x%lx\n", r[i].what, r[i].start,
		       r[i].end - 1);
		ok = r[i].start >= LOW_RESERVED &&
		     in_ram(mbi, r[i].start, r[i].end) &&
		     !overlaps(r[i].start, r[i].end, (uintptr_t)_kernel_start,
			       (uintptr_t)_kernel_end);
		for (j = 0; j < count && j < MAX_MODS; j++)
			if (overlaps(r[i].start, r[i].end,
				     mb_module(j)->mod_start,
				     mb_module(j)->mod_end))
				ok = false;
		reportf(ok,
			"%s is in RAM above 0x%x, clear of the kernel "
			"and modules",
			r[i].what, LOW_RESERVED);
	}
}

int guest_main(const struct guest_boot *boot)
{
	const struct multiboot_info *mbi = mb_info();
	const char *cmdline = mb_cmdline();
	uint64_t want;

	if (!mbi) {
		printf("bootinfo: not booted by multiboot\n");
		return GUEST_EXIT_BOOT;
	}
	printf("bootinfo: multiboot info at %p, flags 0x%x\n", mbi, mbi->flags);
	report("info has a command line, modules and a memory map",
	       (mbi->flags & (MB_INFO_CMDLINE | MB_INFO_MODS | MB_INFO_MMAP)) ==
		   (MB_INFO_CMDLINE | MB_INFO_MODS | MB_INFO_MMAP));
	check_cmdline(cmdline);
	report("fw_cfg signature is \"QEMU\"", fw_cfg_present());
	if (cmdline_get_u64(cmdline, "cpus", &want))
		reportf(fw_cfg_cpus() == want,
			"fw_cfg reports %lu CPUs (got %u)", want,
			fw_cfg_cpus());
	else
		report_skip("CPU count (no cpus=)");
	check_memory(mbi, expected_ram(cmdline));
	check_modules(mbi, cmdline);
	check_placement(mbi, cmdline);
	return report_summary();
}
