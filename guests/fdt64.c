// SPDX-License-Identifier: MIT
/* Checks the machine-description FDT a plain ELF64 kernel is entered with. */
#include "guest.h"

/*
 * Built as a plain ELF64 (start64.S): the VMM enters it in long mode with
 * RDI = the FDT. Checks the header, that the root is compatible with
 * "splitvm...", that the /memory nodes add up to fw_cfg's RAM size (and
 * /memory@0 exists), that /cpus has one node per fw_cfg CPU with distinct
 * reg (APIC IDs), and /chosen's bootargs. Optional bootargs:
 *
 *   cpus=N   the CPU count to expect
 *   mem=MiB  the RAM size to expect
 *
 * Linked with start32.S instead (fdt64-mb.elf), it reads the FDT from
 * multiboot module 0, so the same checks run under QEMU on a dumped tree.
 */

#define MAX_CPUS 256

static const void *find_fdt(const struct guest_boot *boot)
{
	if (boot->protocol == GUEST_BOOT_FDT)
		return (const void *)(uintptr_t)boot->info;
	if (mb_module_count())
		return (const void *)(uintptr_t)mb_module(0)->mod_start;
	return NULL;
}

static bool contains(const char *s, uint32_t len, const char *sub)
{
	size_t n = strlen(sub);
	uint32_t i;

	for (i = 0; i + n <= len; i++)
		if (!memcmp(s + i, sub, n))
			return true;
	return false;
}

static bool is_node(const char *name, const char *base)
{
	size_t n = strlen(base);

	return name && !strncmp(name, base, n) &&
	       (name[n] == '\0' || name[n] == '@');
}

/* Reads a value of cells 32-bit cells (1 or 2) at p. */
static uint64_t read_cells(const uint8_t *p, uint32_t cells)
{
	return cells == 2 ? fdt64_ld(p) : fdt32_ld(p);
}

static void check_memory(const void *fdt, int root, uint64_t ram)
{
	uint32_t ac = fdt_getprop_u32(fdt, root, "#address-cells", 2);
	uint32_t sc = fdt_getprop_u32(fdt, root, "#size-cells", 1);
	uint64_t total = 0;
	bool well_formed = true;
	int node;

	report("/memory@0 exists", fdt_path_offset(fdt, "/memory@0") >= 0);
	if (!reportf((ac == 1 || ac == 2) && (sc == 1 || sc == 2),
		     "root #address-cells %u and #size-cells %u are 1 or 2", ac,
		     sc))
		return;
	/* Every /memory node counts: RAM above a hole is a second one. */
	for (node = fdt_next_child(fdt, root, -1); node >= 0;
	     node = fdt_next_child(fdt, root, node)) {
		const uint8_t *reg;
		uint32_t len, off, entry = (ac + sc) * 4;

		if (!is_node(fdt_node_name(fdt, node), "memory"))
			continue;
		reg = fdt_getprop(fdt, node, "reg", &len);
		if (!reg || !len || len % entry) {
			well_formed = false;
			continue;
		}
		for (off = 0; off < len; off += entry) {
			uint64_t base = read_cells(reg + off, ac);
			uint64_t size = read_cells(reg + off + ac * 4, sc);

			printf("fdt64: %s: 0x%lx-0x%lx\n",
			       fdt_node_name(fdt, node), base, base + size - 1);
			total += size;
		}
	}
	report("/memory nodes have a well-formed reg", well_formed);
	reportf(total == ram,
		"memory reg sizes add up to %lu MiB (got %lu KiB)", ram / MiB,
		total / KiB);
}

static void check_cpus(const void *fdt, unsigned int want)
{
	uint32_t ids[MAX_CPUS];
	unsigned int count = 0, i;
	bool regs_ok = true;
	int cpus, node;

	cpus = fdt_path_offset(fdt, "/cpus");
	if (!report("/cpus exists", cpus >= 0))
		return;
	for (node = fdt_next_child(fdt, cpus, -1); node >= 0;
	     node = fdt_next_child(fdt, cpus, node)) {
		const void *reg;
		uint32_t len;

		if (!is_node(fdt_node_name(fdt, node), "cpu"))
			continue;
		/* /cpus has #address-cells 1: reg is the APIC ID. */
		reg = fdt_getprop(fdt, node, "reg", &len);
		if (!reg || len != 4 || count >= MAX_CPUS) {
			regs_ok = false;
		} else {
			ids[count] = fdt32_ld(reg);
			for (i = 0; i < count; i++)
				if (ids[i] == ids[count])
					regs_ok = false;
		}
		count++;
	}
	reportf(count == want, "/cpus has %u cpu nodes (got %u)", want, count);
	report("cpu nodes have distinct one-cell reg (APIC ID)", regs_ok);
}

static void check_chosen(const void *fdt, uint64_t *ram, unsigned int *cpus)
{
	const char *args;
	uint32_t len;
	uint64_t v;
	int node;

	node = fdt_path_offset(fdt, "/chosen");
	args = node >= 0 ? fdt_getprop(fdt, node, "bootargs", &len) : NULL;
	if (!args) {
		report_skip("/chosen bootargs (absent)");
		return;
	}
	if (!report("/chosen bootargs is a string",
		    fdt_prop_is_string(args, len)))
		return;
	printf("fdt64: bootargs \"%s\"\n", args);
	if (cmdline_get_u64(args, "mem", &v)) {
		reportf(*ram == v * MiB, "fw_cfg RAM size is %lu MiB (got %lu)",
			v, *ram / MiB);
		*ram = v * MiB;
	}
	if (cmdline_get_u64(args, "cpus", &v)) {
		reportf(*cpus == v, "fw_cfg CPU count is %lu (got %u)", v,
			*cpus);
		*cpus = (unsigned int)v;
	}
}

int guest_main(const struct guest_boot *boot)
{
	const void *fdt = find_fdt(boot);
	const char *compat;
	uint64_t ram = fw_cfg_ram_size();
	unsigned int cpus = fw_cfg_cpus();
	uint32_t len;
	int err, root;

	printf("fdt64: machine description at %p\n", fdt);
	report("fw_cfg signature is \"QEMU\"", fw_cfg_present());
	err = fdt_check(fdt, GUEST_FDT_MAX_SIZE);
	if (!reportf(!err, "FDT header is valid (error %d)", err))
		return report_summary();
	printf("fdt64: %u bytes, version %u\n",
	       fdt32_ld((const uint8_t *)fdt + 4),
	       fdt32_ld((const uint8_t *)fdt + 20));

	root = fdt_path_offset(fdt, "/");
	compat = root >= 0 ? fdt_getprop(fdt, root, "compatible", &len) : NULL;
	report("root compatible names splitvm",
	       compat && fdt_prop_is_string(compat, len) &&
		   contains(compat, len, "splitvm"));

	check_chosen(fdt, &ram, &cpus);
	check_memory(fdt, root, ram);
	check_cpus(fdt, cpus);
	return report_summary();
}
