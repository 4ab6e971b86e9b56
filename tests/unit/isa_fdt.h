/* SPDX-License-Identifier: MIT */
/* Reading back a device's node under the machine FDT's "isa" bus. */
#ifndef SPLITVM_TEST_ISA_FDT_H
#define SPLITVM_TEST_ISA_FDT_H

#include <stddef.h>
#include <stdint.h>

#include <libfdt.h>

#include "device.h"
#include "unit.h"

/*
 * Makes fdt (size bytes) a fresh tree with an "isa" node, has dev describe
 * itself there and returns the offset of the node it must have added.
 */
static inline int isa_describe(const struct device_ops *ops, void *dev,
			       void *fdt, int size, const char *node)
{
	int isa, off;

	ck_assert_int_eq(fdt_create_empty_tree(fdt, size), 0);
	isa = fdt_add_subnode(fdt, 0, "isa");
	ck_assert_int_ge(isa, 0);
	ck_assert_int_eq(ops->describe(dev, fdt, isa), 0);
	off = fdt_subnode_offset(fdt, isa, node);
	ck_assert_msg(off >= 0, "no node isa/%s", node);
	return off;
}

/* The node's reg is <1 port len>: I/O space (cell 1), then the range. */
static inline void ck_assert_isa_reg(const void *fdt, int off, uint32_t port,
				     uint32_t len)
{
	const fdt32_t *p;
	int n;

	p = fdt_getprop(fdt, off, "reg", &n);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(n, 12);
	ck_assert_uint_eq(fdt32_to_cpu(p[0]), 1); /* I/O space */
	ck_assert_uint_eq(fdt32_to_cpu(p[1]), port);
	ck_assert_uint_eq(fdt32_to_cpu(p[2]), len);
}

#endif /* SPLITVM_TEST_ISA_FDT_H */
