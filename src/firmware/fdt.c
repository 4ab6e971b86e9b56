// SPDX-License-Identifier: MIT
/* The machine-description flattened device tree, built with libfdt. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>

#include <libfdt.h>

#include "fdt_machine.h"

/*
 * libfdt inserts a new node before its parent's existing children, so
 * nodes are added last-first to read in their natural order.
 */

static int fdt_errno(int err)
{
	return err == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
}

/* Runs a libfdt call that returns 0 or -FDT_ERR_*; bails out on error. */
#define FDT_TRY(call)                                                          \
	do {                                                                   \
		int err_ = (call);                                             \
		if (err_ < 0)                                                  \
			return fdt_errno(err_);                                \
	} while (0)

/* ISA binding (IEEE 1275 ISA bus binding): the first cell is 1 for I/O. */
#define ISA_SPACE_IO 1

static int add_node(void *fdt, int parent, const char *name)
{
	int off = fdt_add_subnode(fdt, parent, name);

	return off < 0 ? fdt_errno(off) : off;
}

static int add_isa(void *fdt)
{
	int off = add_node(fdt, 0, "isa");

	if (off < 0)
		return off;
	FDT_TRY(fdt_setprop_string(fdt, off, "compatible", "isa"));
	FDT_TRY(fdt_setprop_u32(fdt, off, "#address-cells", 2));
	FDT_TRY(fdt_setprop_u32(fdt, off, "#size-cells", 1));
	return 0;
}

/* /cpus: reg is the APIC ID, which is the CPU's index. */
static int add_cpus(void *fdt, unsigned int cpus)
{
	int parent = add_node(fdt, 0, "cpus"), off;
	char name[32];

	if (parent < 0)
		return parent;
	FDT_TRY(fdt_setprop_u32(fdt, parent, "#address-cells", 1));
	FDT_TRY(fdt_setprop_u32(fdt, parent, "#size-cells", 0));
	while (cpus--) {
		snprintf(name, sizeof(name), "cpu@%x", cpus);
		off = add_node(fdt, parent, name);
		if (off < 0)
			return off;
		FDT_TRY(fdt_setprop_string(fdt, off, "device_type", "cpu"));
		FDT_TRY(fdt_setprop_u32(fdt, off, "reg", cpus));
	}
	return 0;
}

/* One node, memory@0, with a reg pair per RAM range (low, then 4 GiB+). */
static int add_memory(void *fdt, const struct guest_mem *mem)
{
	uint64_t high = mem->size - mem->low_size;
	fdt64_t reg[4] = {
	    cpu_to_fdt64(0),
	    cpu_to_fdt64(mem->low_size),
	    cpu_to_fdt64(GUEST_HIGH_RAM_START),
	    cpu_to_fdt64(high),
	};
	int off = add_node(fdt, 0, "memory@0");

	if (off < 0)
		return off;
	FDT_TRY(fdt_setprop_string(fdt, off, "device_type", "memory"));
	FDT_TRY(fdt_setprop(fdt, off, "reg", reg,
			    high ? sizeof(reg) : sizeof(reg) / 2));
	return 0;
}

static int add_chosen(void *fdt, const char *cmdline)
{
	int off = add_node(fdt, 0, "chosen");

	if (off < 0)
		return off;
	if (cmdline)
		FDT_TRY(fdt_setprop_string(fdt, off, "bootargs", cmdline));
	return 0;
}

int fdt_machine_begin(void *buf, size_t size, const struct guest_mem *mem,
		      unsigned int cpus, const char *cmdline)
{
	int ret;

	if (!buf || !mem || size > INT_MAX)
		return -EINVAL;
	FDT_TRY(fdt_create_empty_tree(buf, (int)size));
	FDT_TRY(fdt_setprop_string(buf, 0, "compatible", "splitvm,pc"));
	FDT_TRY(fdt_setprop_string(buf, 0, "model", "splitvm"));
	FDT_TRY(fdt_setprop_u32(buf, 0, "#address-cells", 2));
	FDT_TRY(fdt_setprop_u32(buf, 0, "#size-cells", 2));
	ret = add_isa(buf);
	if (!ret)
		ret = add_cpus(buf, cpus);
	if (!ret)
		ret = add_memory(buf, mem);
	if (!ret)
		ret = add_chosen(buf, cmdline);
	if (ret)
		return ret;
	/* Offsets moved as nodes went in before /isa: look it up again. */
	ret = fdt_path_offset(buf, "/isa");
	return ret < 0 ? fdt_errno(ret) : ret;
}

/* A node named "name@hex" under the root with a 64-bit reg of size. */
static int add_mmio_node(void *fdt, const char *name, uint64_t addr,
			 uint64_t size, const char *compatible)
{
	char unit[48];
	int off;
	fdt64_t reg[2] = {cpu_to_fdt64(addr), cpu_to_fdt64(size)};

	snprintf(unit, sizeof(unit), "%s@%llx", name,
		 (unsigned long long)addr);
	off = add_node(fdt, 0, unit);
	if (off < 0)
		return off;
	FDT_TRY(fdt_setprop_string(fdt, off, "compatible", compatible));
	FDT_TRY(fdt_setprop(fdt, off, "reg", reg, sizeof(reg)));
	FDT_TRY(fdt_setprop(fdt, off, "interrupt-controller", NULL, 0));
	return off;
}

int fdt_add_interrupt_controllers(void *fdt, const struct machine_desc *m)
{
	fdt32_t map[MACHINE_ISA_IRQS * 3];
	unsigned int n = 0;
	int off;

	off = add_mmio_node(fdt, "interrupt-controller", m->lapic_addr,
			    0x1000, "intel,local-apic");
	if (off < 0)
		return off;
	off = add_mmio_node(fdt, "interrupt-controller", m->ioapic_addr,
			    0x1000, "intel,82093aa");
	if (off < 0)
		return off;
	FDT_TRY(fdt_setprop_u32(fdt, off, "splitvm,id", m->ioapic_id));
	FDT_TRY(fdt_setprop_u32(fdt, off, "splitvm,version",
				m->ioapic_version));
	FDT_TRY(fdt_setprop_u32(fdt, off, "splitvm,pins", m->ioapic_pins));
	for (unsigned int irq = 0; irq < MACHINE_ISA_IRQS; irq++) {
		unsigned int pin;
		uint16_t flags;

		if (!machine_isa_irq(m, irq, &pin, &flags))
			continue;
		map[n++] = cpu_to_fdt32(irq);
		map[n++] = cpu_to_fdt32(pin);
		map[n++] = cpu_to_fdt32(flags);
	}
	FDT_TRY(fdt_setprop(fdt, off, "isa-irq-map", map,
			    n * sizeof(map[0])));
	return 0;
}

int fdt_machine_finish(void *buf)
{
	FDT_TRY(fdt_pack(buf));
	return 0;
}

int fdt_add_isa_device(void *fdt, int parent, const char *name,
		       const char *compatible, uint32_t port, uint32_t len,
		       int irq)
{
	fdt32_t reg[3] = {
	    cpu_to_fdt32(ISA_SPACE_IO),
	    cpu_to_fdt32(port),
	    cpu_to_fdt32(len),
	};
	char node[64];
	int off;

	if (!name || !compatible ||
	    snprintf(node, sizeof(node), "%s@%x", name, port) >=
		(int)sizeof(node))
		return -EINVAL;
	off = add_node(fdt, parent, node);
	if (off < 0)
		return off;
	FDT_TRY(fdt_setprop_string(fdt, off, "compatible", compatible));
	FDT_TRY(fdt_setprop(fdt, off, "reg", reg, sizeof(reg)));
	if (irq >= 0)
		FDT_TRY(fdt_setprop_u32(fdt, off, "interrupts", (uint32_t)irq));
	return off;
}
