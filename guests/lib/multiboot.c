// SPDX-License-Identifier: MIT
/* Accessors for the Multiboot v1 information structure (spec 3.3). */
#include "guest.h"

const struct multiboot_info *mb_info(void)
{
	if (guest_boot.protocol != GUEST_BOOT_MULTIBOOT)
		return NULL;
	return (const struct multiboot_info *)(uintptr_t)guest_boot.info;
}

const char *mb_cmdline(void)
{
	const struct multiboot_info *mbi = mb_info();

	if (!mbi || !(mbi->flags & MB_INFO_CMDLINE) || !mbi->cmdline)
		return NULL;
	return (const char *)(uintptr_t)mbi->cmdline;
}

uint32_t mb_module_count(void)
{
	const struct multiboot_info *mbi = mb_info();

	if (!mbi || !(mbi->flags & MB_INFO_MODS))
		return 0;
	return mbi->mods_count;
}

const struct multiboot_module *mb_module(uint32_t i)
{
	const struct multiboot_info *mbi = mb_info();

	if (i >= mb_module_count())
		return NULL;
	return (const struct multiboot_module *)(uintptr_t)mbi->mods_addr + i;
}

const struct multiboot_mmap_entry *
mb_mmap_next(const struct multiboot_mmap_entry *prev)
{
	const struct multiboot_info *mbi = mb_info();
	uint64_t start, end, next;

	if (!mbi || !(mbi->flags & MB_INFO_MMAP))
		return NULL;
	start = mbi->mmap_addr;
	end = start + mbi->mmap_length;
	/*
	 * The size field does not count itself; entries may be longer than
	 * the 20 bytes we know, so step by it (spec 3.3, mmap_*).
	 */
	if (!prev)
		next = start;
	else
		next = (uint64_t)(uintptr_t)prev + 4 + prev->size;
	if (next + sizeof(struct multiboot_mmap_entry) > end)
		return NULL;
	prev = (const struct multiboot_mmap_entry *)(uintptr_t)next;
	if (prev->size < 20 || next + 4 + prev->size > end)
		return NULL;
	return prev;
}
