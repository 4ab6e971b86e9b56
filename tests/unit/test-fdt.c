// SPDX-License-Identifier: MIT
/* Machine-description FDT: built, packed and read back with libfdt. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libfdt.h>

#include "fdt_machine.h"
#include "isa_fdt.h"
#include "unit.h"

#define MiB (1ull << 20)

static uint8_t tree[FDT_MAX_SIZE];

/* RAM sizes only: the FDT code never touches guest memory. */
static struct guest_mem ram(uint64_t size)
{
	struct guest_mem m;

	guest_mem_layout(&m, NULL, size);
	return m;
}

static const void *prop(const char *path, const char *name, int *len)
{
	int off = fdt_path_offset(tree, path);
	const void *p;

	ck_assert_msg(off >= 0, "no node %s", path);
	p = fdt_getprop(tree, off, name, len);
	ck_assert_msg(p, "no property %s in %s", name, path);
	return p;
}

static uint32_t prop_u32(const char *path, const char *name)
{
	int len;
	const fdt32_t *p = prop(path, name, &len);

	ck_assert_int_eq(len, 4);
	return fdt32_to_cpu(*p);
}

static const char *prop_str(const char *path, const char *name)
{
	int len;
	const char *p = prop(path, name, &len);

	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(p[len - 1], '\0');
	return p;
}

/* Property values are only 4-byte aligned in the blob. */
static uint64_t cells64(const void *p, int i)
{
	fdt64_t v;

	memcpy(&v, (const uint8_t *)p + 8 * i, 8);
	return fdt64_to_cpu(v);
}

START_TEST(fdt_machine_tree)
{
	struct guest_mem m = ram(64 * MiB);
	int isa, len;
	const void *reg;

	isa = fdt_machine_begin(tree, sizeof(tree), &m, 4, "console=ttyS0");
	ck_assert_int_ge(isa, 0);
	ck_assert_int_eq(isa, fdt_path_offset(tree, "/isa"));
	ck_assert_int_eq(fdt_machine_finish(tree), 0);
	ck_assert_int_eq(fdt_check_header(tree), 0);

	ck_assert_str_eq(prop_str("/", "compatible"), "splitvm,pc");
	ck_assert_str_eq(prop_str("/", "model"), "splitvm");
	ck_assert_uint_eq(prop_u32("/", "#address-cells"), 2);
	ck_assert_uint_eq(prop_u32("/", "#size-cells"), 2);
	ck_assert_str_eq(prop_str("/chosen", "bootargs"), "console=ttyS0");

	ck_assert_str_eq(prop_str("/memory@0", "device_type"), "memory");
	reg = prop("/memory@0", "reg", &len);
	ck_assert_int_eq(len, 16);
	ck_assert_uint_eq(cells64(reg, 0), 0);
	ck_assert_uint_eq(cells64(reg, 1), 64 * MiB);

	ck_assert_uint_eq(prop_u32("/isa", "#address-cells"), 2);
	ck_assert_uint_eq(prop_u32("/isa", "#size-cells"), 1);
	ck_assert_str_eq(prop_str("/isa", "compatible"), "isa");
}
END_TEST

START_TEST(fdt_machine_cpus_in_order)
{
	struct guest_mem m = ram(64 * MiB);
	char path[32];
	int cpus, off, n = 0;
	unsigned int i;

	ck_assert_int_ge(fdt_machine_begin(tree, sizeof(tree), &m, 12, NULL),
			 0);
	ck_assert_int_eq(fdt_machine_finish(tree), 0);
	ck_assert_uint_eq(prop_u32("/cpus", "#address-cells"), 1);
	ck_assert_uint_eq(prop_u32("/cpus", "#size-cells"), 0);
	for (i = 0; i < 12; i++) {
		snprintf(path, sizeof(path), "/cpus/cpu@%x", i);
		ck_assert_str_eq(prop_str(path, "device_type"), "cpu");
		ck_assert_uint_eq(prop_u32(path, "reg"), i);
	}
	/* Children read in APIC ID order, and the root's as built. */
	cpus = fdt_path_offset(tree, "/cpus");
	fdt_for_each_subnode(off, tree, cpus) ck_assert_uint_eq(
	    fdt32_to_cpu(*(const fdt32_t *)fdt_getprop(tree, off, "reg", NULL)),
	    n++);
	ck_assert_int_eq(n, 12);
	off = fdt_first_subnode(tree, 0);
	ck_assert_str_eq(fdt_get_name(tree, off, NULL), "chosen");
	off = fdt_next_subnode(tree, off);
	ck_assert_str_eq(fdt_get_name(tree, off, NULL), "memory@0");
}
END_TEST

START_TEST(fdt_machine_no_cmdline)
{
	struct guest_mem m = ram(64 * MiB);
	int chosen;

	ck_assert_int_ge(fdt_machine_begin(tree, sizeof(tree), &m, 1, NULL), 0);
	chosen = fdt_path_offset(tree, "/chosen");
	ck_assert_int_ge(chosen, 0);
	ck_assert_ptr_null(fdt_getprop(tree, chosen, "bootargs", NULL));
}
END_TEST

START_TEST(fdt_machine_high_memory)
{
	struct guest_mem m = ram(GUEST_MMIO_HOLE_START + 512 * MiB);
	const void *reg;
	int len;

	ck_assert_int_ge(fdt_machine_begin(tree, sizeof(tree), &m, 2, ""), 0);
	reg = prop("/memory@0", "reg", &len);
	ck_assert_int_eq(len, 32);
	ck_assert_uint_eq(cells64(reg, 0), 0);
	ck_assert_uint_eq(cells64(reg, 1), GUEST_MMIO_HOLE_START);
	ck_assert_uint_eq(cells64(reg, 2), 0x100000000ull);
	ck_assert_uint_eq(cells64(reg, 3), 512 * MiB);
}
END_TEST

START_TEST(fdt_isa_devices)
{
	struct guest_mem m = ram(64 * MiB);
	int isa, off;

	isa = fdt_machine_begin(tree, sizeof(tree), &m, 1, NULL);
	ck_assert_int_ge(isa, 0);
	off = fdt_add_isa_device(tree, isa, "serial", "ns16550a", 0x3f8, 8, 4);
	ck_assert_int_ge(off, 0);
	isa = fdt_path_offset(tree, "/isa");
	off = fdt_add_isa_device(tree, isa, "debug-exit", "qemu,isa-debug-exit",
				 0xf4, 4, -1);
	ck_assert_int_ge(off, 0);
	ck_assert_int_eq(fdt_machine_finish(tree), 0);

	ck_assert_str_eq(prop_str("/isa/serial@3f8", "compatible"), "ns16550a");
	ck_assert_isa_reg(tree, fdt_path_offset(tree, "/isa/serial@3f8"), 0x3f8,
			  8);
	ck_assert_uint_eq(prop_u32("/isa/serial@3f8", "interrupts"), 4);

	off = fdt_path_offset(tree, "/isa/debug-exit@f4");
	ck_assert_isa_reg(tree, off, 0xf4, 4);
	ck_assert_ptr_null(fdt_getprop(tree, off, "interrupts", NULL));
}
END_TEST

START_TEST(fdt_errors)
{
	struct guest_mem m = ram(64 * MiB);
	static uint8_t small[256];
	char name[100];
	int isa;

	ck_assert_int_eq(fdt_machine_begin(small, sizeof(small), &m, 4, NULL),
			 -ENOSPC);
	ck_assert_int_eq(fdt_machine_begin(tree, 40, &m, 4, NULL), -ENOSPC);
	ck_assert_int_eq(fdt_machine_begin(NULL, 4096, &m, 4, NULL), -EINVAL);

	isa = fdt_machine_begin(tree, sizeof(tree), &m, 1, NULL);
	ck_assert_int_ge(fdt_add_isa_device(tree, isa, "a", "x", 0x60, 1, 1),
			 0);
	isa = fdt_path_offset(tree, "/isa");
	/* Same name and port twice, a bad parent, an over-long name. */
	ck_assert_int_eq(fdt_add_isa_device(tree, isa, "a", "x", 0x60, 1, 1),
			 -EINVAL);
	ck_assert_int_eq(fdt_add_isa_device(tree, 3, "b", "x", 0x60, 1, 1),
			 -EINVAL);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ck_assert_int_eq(fdt_add_isa_device(tree, isa, name, "x", 1, 1, 1),
			 -EINVAL);
}
END_TEST

/* A tree with no room left refuses more devices with -ENOSPC. */
START_TEST(fdt_full_tree)
{
	struct guest_mem m = ram(64 * MiB);
	static uint8_t buf[2048];
	int isa, ret = 0;
	uint32_t port;

	isa = fdt_machine_begin(buf, sizeof(buf), &m, 2, NULL);
	ck_assert_int_ge(isa, 0);
	for (port = 0; port < 1000 && ret >= 0; port++) {
		isa = fdt_path_offset(buf, "/isa");
		ret = fdt_add_isa_device(buf, isa, "dev", "x", port, 1, 0);
	}
	ck_assert_int_eq(ret, -ENOSPC);
	ck_assert_int_eq(fdt_machine_finish(buf), 0);
	ck_assert_int_eq(fdt_check_header(buf), 0);
}
END_TEST

START_TEST(fdt_pack_shrinks)
{
	struct guest_mem m = ram(64 * MiB);

	ck_assert_int_ge(fdt_machine_begin(tree, sizeof(tree), &m, 2, "x"), 0);
	ck_assert_uint_eq(fdt_totalsize(tree), sizeof(tree));
	ck_assert_int_eq(fdt_machine_finish(tree), 0);
	ck_assert_uint_lt(fdt_totalsize(tree), 1024);
}
END_TEST

UNIT_SUITE("fdt", fdt_machine_tree, fdt_machine_cpus_in_order,
	   fdt_machine_no_cmdline, fdt_machine_high_memory, fdt_isa_devices,
	   fdt_errors, fdt_full_tree, fdt_pack_shrinks)
