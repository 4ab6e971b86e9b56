// SPDX-License-Identifier: MIT
/* libFuzzer harness: multiboot_detect() and multiboot_load() directly. */
#include <stdint.h>

#include "fuzz-boot.h"

/*
 * multiboot_load() is called whatever multiboot_detect() says, so that
 * its own header search is fuzzed on images the dispatcher would never
 * hand it. Input: fuzz-boot.h.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_boot b;
	struct boot_plan plan;
	bool claimed;
	int ret;

	if (!fuzz_boot_setup(&b, data, size))
		return 0;
	claimed = multiboot_detect(b.in.kernel, b.in.kernel_size);
	ret = multiboot_load(&b.mem, &b.in, &plan, &b.lg);
	fuzz_boot_check(&b, ret, &plan);
	if (!ret) {
		/* only an image with the magic can load (3.1.1) */
		FUZZ_CHECK(claimed);
		FUZZ_CHECK(plan.mode == BOOT_MODE_PROTECTED32);
		FUZZ_CHECK(plan.rax == 0x2BADB002u);
		FUZZ_CHECK(plan.rbx >= BOOT_INFO_ADDR &&
			   plan.rbx < BOOT_INFO_END);
		FUZZ_CHECK(plan.image_end <= GUEST_HIGH_RAM_START);
	}
	fuzz_boot_free(&b);
	return 0;
}
