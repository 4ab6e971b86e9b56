// SPDX-License-Identifier: MIT
/*
 * splitvm's own protocol for a plain ELF64 kernel: long mode at e_entry on
 * the identity map, RDI = the machine description (FDT) in guest RAM.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "boot.h"

/* The FDT goes where multiboot would put its information. */
static int copy_fdt(const struct guest_mem *mem, const struct boot_input *in,
		    const struct logger *lg)
{
	if (guest_mem_write(mem, BOOT_INFO_ADDR, in->fdt, in->fdt_size)) {
		log_error(lg,
			  "guest RAM is too small for the machine "
			  "description at 0x%llx",
			  BOOT_INFO_ADDR);
		return -EFBIG;
	}
	return 0;
}

int elf64_boot_load(const struct guest_mem *mem, const struct boot_input *in,
		    struct boot_plan *plan, const struct logger *lg)
{
	uint64_t entry, end;
	int ret;

	if (elf_detect(in->kernel, in->kernel_size) &&
	    in->kernel_size > EI_CLASS && in->kernel[EI_CLASS] == ELFCLASS32) {
		log_error(lg, "kernel: a 32-bit ELF (ELFCLASS32) cannot be "
			      "entered in long mode; it needs a multiboot "
			      "header");
		return -ENOEXEC;
	}
	if (in->fdt_size > BOOT_INFO_END - BOOT_INFO_ADDR) {
		log_error(lg,
			  "machine description (FDT, %zu bytes) does not "
			  "fit in the boot information area (%llu bytes)",
			  in->fdt_size, BOOT_INFO_END - BOOT_INFO_ADDR);
		return -EINVAL;
	}
	ret = boot_check_reserved(in, lg);
	if (!ret)
		ret = elf_check_reserved(in, lg);
	if (!ret)
		ret = elf_load(mem, in->kernel, in->kernel_size, &entry, &end,
			       lg);
	if (ret)
		return ret;
	/* Long mode starts on the monitor's identity map of [0, 4 GiB). */
	if (entry >= GUEST_HIGH_RAM_START) {
		log_error(lg,
			  "kernel: ELF64 entry point 0x%" PRIx64 " is above "
			  "4 GiB, outside the identity map in place at "
			  "entry",
			  entry);
		return -ENOEXEC;
	}
	memset(plan, 0, sizeof(*plan));
	if (in->fdt && in->fdt_size) {
		ret = copy_fdt(mem, in, lg);
		if (ret)
			return ret;
		plan->rdi = BOOT_INFO_ADDR;
	}
	plan->protocol = "elf64";
	plan->mode = BOOT_MODE_LONG64;
	plan->entry = entry;
	plan->rsp = BOOT_STACK_TOP;
	plan->image_end = end;
	return 0;
}
