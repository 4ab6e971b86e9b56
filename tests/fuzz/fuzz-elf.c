// SPDX-License-Identifier: MIT
/* libFuzzer harness: the ELF loader's entry points, elf_load() and ELF64. */
#include <errno.h>
#include <stdint.h>

#include "fuzz-boot.h"

/*
 * Header byte 3, bit 0 picks the entry point: elf_load() alone (as the
 * multiboot loader uses it, ELF32 or ELF64), or elf64_boot_load() (plain
 * ELF64 boot, with the FDT). Input: fuzz-boot.h.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_boot b;
	struct boot_plan plan;
	uint64_t entry = 0, end = 0;
	bool is_elf, is64;
	int ret;

	if (!fuzz_boot_setup(&b, data, size))
		return 0;
	is_elf = elf_detect(b.in.kernel, b.in.kernel_size);
	is64 = elf_is_64(b.in.kernel, b.in.kernel_size);
	FUZZ_CHECK(!is64 || is_elf);
	if (b.harness_byte & 1) {
		ret = elf64_boot_load(&b.mem, &b.in, &plan, &b.lg);
		fuzz_boot_check(&b, ret, &plan);
		if (!ret) {
			FUZZ_CHECK(is64);
			FUZZ_CHECK(plan.mode == BOOT_MODE_LONG64);
		}
	} else {
		ret = elf_load(&b.mem, b.in.kernel, b.in.kernel_size, &entry,
			       &end, &b.lg);
		FUZZ_CHECK(ret == 0 || ret == -ENOEXEC || ret == -EFBIG);
		FUZZ_CHECK(!ret == !b.errors);
		if (!ret) {
			FUZZ_CHECK(is_elf);
			/* the entry lies in a loaded segment, below the end */
			FUZZ_CHECK(entry < end);
			FUZZ_CHECK(guest_mem_ptr(&b.mem, entry, 1));
			FUZZ_CHECK(guest_mem_ptr(&b.mem, end - 1, 1));
		}
	}
	fuzz_boot_free(&b);
	return 0;
}
