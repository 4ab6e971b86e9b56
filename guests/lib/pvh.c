// SPDX-License-Identifier: MIT
/* Accessors for the Xen PVH hvm_start_info (start_info.h, version 1). */
#include "guest.h"

const struct hvm_start_info *pvh_info(void)
{
	const struct hvm_start_info *si =
		(const struct hvm_start_info *)(uintptr_t)guest_boot.info;

	if (guest_boot.protocol != GUEST_BOOT_PVH || !si ||
	    si->magic != HVM_START_MAGIC)
		return NULL;
	return si;
}

const char *pvh_cmdline(void)
{
	const struct hvm_start_info *si = pvh_info();

	if (!si || !si->cmdline_paddr)
		return NULL;
	return (const char *)(uintptr_t)si->cmdline_paddr;
}

const struct hvm_modlist_entry *pvh_module(uint32_t i)
{
	const struct hvm_start_info *si = pvh_info();

	if (!si || i >= si->nr_modules || !si->modlist_paddr)
		return NULL;
	return (const struct hvm_modlist_entry *)(uintptr_t)si->modlist_paddr +
	       i;
}

/* The memory map exists from version 1 on. */
const struct hvm_memmap_table_entry *pvh_memmap(uint32_t i)
{
	const struct hvm_start_info *si = pvh_info();

	if (!si || si->version < 1 || i >= si->memmap_entries ||
	    !si->memmap_paddr)
		return NULL;
	return (const struct hvm_memmap_table_entry *)(uintptr_t)
		       si->memmap_paddr +
	       i;
}
