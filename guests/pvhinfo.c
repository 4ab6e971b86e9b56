// SPDX-License-Identifier: MIT
/*
 * Booted by PVH (Xen's x86/HVM direct boot ABI, docs/misc/pvh.pandoc):
 * checks the hvm_start_info against what the command line expects.
 *
 * Command-line arguments, each optional (numbers decimal or 0x hex):
 *
 *   mods=N            the number of modules
 *   modI=SIZE[:SUM]   module I's size and byte sum modulo 2^32
 *   mem=MiB           the RAM size, from fw_cfg and the memory map
 *   acpi=1            rsdp_paddr must be given (else it may be 0)
 *   contract=1        the boot data must sit above the low pages, as
 *                     DEVICE-CONTRACT promises (QEMU's PVH option ROM
 *                     puts it at a few KiB)
 *
 * Always checked: magic and version 1, a command line of the arguments
 * alone (PVH passes no kernel name), a sorted, disjoint memory map with
 * the kernel in RAM, an RSDP with a valid checksum wherever one is named,
 * and modules and the start info in RAM, clear of the kernel and of each
 * other.
 */
#include "guest.h"

#define MAX_MODS 16
#define LOW_RESERVED 0x8000 /* pages tests use for real-mode trampolines */
#define E820_RAM 1

static bool overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	return a0 < b1 && b0 < a1;
}

static bool overlaps_kernel(uint64_t start, uint64_t end)
{
	return overlaps(start, end, (uintptr_t)_kernel_start,
			(uintptr_t)_kernel_end);
}

/* True if [start, end) lies inside one RAM entry of the memory map. */
static bool in_ram(uint64_t start, uint64_t end)
{
	const struct hvm_memmap_table_entry *e;

	for (uint32_t i = 0; (e = pvh_memmap(i)); i++)
		if (e->type == E820_RAM && start >= e->addr &&
		    end <= e->addr + e->size)
			return true;
	return false;
}

static void check_memmap(uint64_t want_ram)
{
	const struct hvm_memmap_table_entry *e, *prev = NULL;
	uint64_t ram = fw_cfg_ram_size(), avail = 0;
	bool sorted = true;
	uint32_t i;

	if (want_ram)
		reportf(ram == want_ram, "fw_cfg RAM size is %lu MiB (got %lu)",
			want_ram / MiB, ram / MiB);
	for (i = 0; (e = pvh_memmap(i)); prev = e, i++) {
		printf("pvhinfo: memmap 0x%010lx-0x%010lx type %u\n", e->addr,
		       e->addr + e->size - 1, e->type);
		if (prev && e->addr < prev->addr + prev->size)
			sorted = false;
		if (e->type == E820_RAM)
			avail += e->size;
	}
	report("version 1 gives a memory map", i > 0);
	report("memory map entries are sorted and disjoint", sorted);
	report("the kernel lies in RAM",
	       in_ram((uintptr_t)_kernel_start, (uintptr_t)_kernel_end));
	/* As bootinfo: firmware keeps at most 1 MiB plus 1/64 of RAM. */
	reportf(avail <= ram && avail + 1 * MiB + ram / 64 >= ram,
		"RAM in the memory map (%lu KiB) matches %lu MiB", avail / KiB,
		ram / MiB);
}

/* ACPI 6.4 5.2.5.3: "RSD PTR ", the first 20 bytes sum to zero. */
static void check_rsdp(const struct hvm_start_info *si, bool required)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)si->rsdp_paddr;
	uint8_t sum = 0;

	printf("pvhinfo: rsdp_paddr 0x%lx\n", si->rsdp_paddr);
	if (!si->rsdp_paddr) {
		report("rsdp_paddr given (acpi=1)", !required);
		return;
	}
	for (int i = 0; i < 20; i++)
		sum += p[i];
	report("rsdp_paddr points at an RSDP with a valid checksum",
	       !memcmp(p, "RSD PTR ", 8) && sum == 0);
}

/* modI=SIZE[:SUM], when given. */
static void check_module_args(uint32_t i, const struct hvm_modlist_entry *m,
			      const char *cmdline)
{
	char key[16], arg[48];
	uint64_t size, sum;
	const char *p;

	snprintf(key, sizeof(key), "mod%u", i);
	if (!cmdline_get(cmdline, key, arg, sizeof(arg)))
		return;
	if (!parse_u64(arg, &p, &size) ||
	    (*p == ':' && (!parse_u64(p + 1, &p, &sum) || *p)) ||
	    (*p && *p != ':')) {
		printf("pvhinfo: cannot parse %s=%s\n", key, arg);
		exit(GUEST_EXIT_USAGE);
	}
	reportf(m->size == size, "module %u is %lu bytes (got %lu)", i, size,
		m->size);
	if (strchr(arg, ':'))
		reportf(byte_sum((const void *)(uintptr_t)m->paddr,
				 (size_t)m->size) == (uint32_t)sum,
			"module %u byte sum is 0x%lx", i, sum);
}

static void check_modules(const struct hvm_start_info *si, const char *cmdline)
{
	const struct hvm_modlist_entry *m, *n;
	uint64_t want;
	uint32_t i, j;

	if (cmdline_get_u64(cmdline, "mods", &want))
		reportf(si->nr_modules == want, "%lu modules (got %u)", want,
			si->nr_modules);
	for (i = 0; i < si->nr_modules && i < MAX_MODS; i++) {
		m = pvh_module(i);
		printf("pvhinfo: module %u at 0x%lx, %lu bytes\n", i, m->paddr,
		       m->size);
		reportf(in_ram(m->paddr, m->paddr + m->size) &&
				!overlaps_kernel(m->paddr, m->paddr + m->size),
			"module %u lies in RAM, clear of the kernel", i);
		for (j = 0; j < i; j++) {
			n = pvh_module(j);
			reportf(!overlaps(m->paddr, m->paddr + m->size,
					  n->paddr, n->paddr + n->size),
				"modules %u and %u do not overlap", j, i);
		}
		if (m->cmdline_paddr)
			reportf(strnlen((const char *)(uintptr_t)
						m->cmdline_paddr,
					4096) < 4096,
				"module %u's string ends", i);
		check_module_args(i, m, cmdline);
	}
}

/* The start info and its arrays: in RAM, clear of kernel and modules. */
static void check_placement(const struct hvm_start_info *si, bool contract)
{
	const struct {
		const char *what;
		uint64_t start, len;
	} r[] = {
		{"the start info", (uintptr_t)si, sizeof(*si)},
		{"the memory map", si->memmap_paddr,
		 si->memmap_entries * sizeof(struct hvm_memmap_table_entry)},
		{"the module list", si->modlist_paddr,
		 si->nr_modules * sizeof(struct hvm_modlist_entry)},
	};
	const struct hvm_modlist_entry *m;
	bool ok;

	for (unsigned int i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		if (!r[i].len)
			continue;
		ok = in_ram(r[i].start, r[i].start + r[i].len) &&
		     !overlaps_kernel(r[i].start, r[i].start + r[i].len);
		for (uint32_t j = 0; (m = pvh_module(j)) && j < MAX_MODS; j++)
			ok &= !overlaps(r[i].start, r[i].start + r[i].len,
					m->paddr, m->paddr + m->size);
		reportf(ok, "%s at 0x%lx is in RAM, clear of the kernel and "
			    "modules",
			r[i].what, r[i].start);
		if (contract)
			reportf(r[i].start >= LOW_RESERVED,
				"%s is above 0x%x (contract=1)", r[i].what,
				LOW_RESERVED);
	}
}

int guest_main(const struct guest_boot *boot)
{
	const struct hvm_start_info *si = pvh_info();
	const char *cmdline = pvh_cmdline();
	uint64_t want;

	if (!si) {
		printf("pvhinfo: not booted by PVH\n");
		return GUEST_EXIT_BOOT;
	}
	printf("pvhinfo: start info at %p, version %u, flags 0x%x\n", si,
	       si->version, si->flags);
	report("hvm_start_info version 1", si->version == 1);
	if (report("command line present", cmdline != NULL)) {
		printf("pvhinfo: command line \"%s\"\n", cmdline);
		/* No kernel file name first: the first word is an argument. */
		report("command line is the arguments alone",
		       !*cmdline || strchr(cmdline, '=') < strchr(cmdline, ' ') ||
			       !strchr(cmdline, ' '));
	}
	report("fw_cfg signature is \"QEMU\"", fw_cfg_present());
	check_memmap(cmdline_get_u64(cmdline, "mem", &want) ? want * MiB : 0);
	check_rsdp(si, cmdline_get_u64(cmdline, "acpi", &want) && want);
	check_modules(si, cmdline);
	check_placement(si, cmdline_get_u64(cmdline, "contract", &want) &&
				    want);
	return report_summary();
}
