// SPDX-License-Identifier: MIT
/* libFuzzer harness: bzimage_detect() and bzimage_load() directly. */
#include <stdint.h>

#include "fuzz-boot.h"

/* Input: fuzz-boot.h. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_boot b;
	struct boot_plan plan;
	bool claimed;
	int ret;

	if (!fuzz_boot_setup(&b, data, size))
		return 0;
	claimed = bzimage_detect(b.in.kernel, b.in.kernel_size);
	ret = bzimage_load(&b.mem, &b.in, &plan, &b.lg);
	fuzz_boot_check(&b, ret, &plan);
	if (!ret) {
		FUZZ_CHECK(claimed);
		FUZZ_CHECK(plan.mode == BOOT_MODE_LONG64);
		/* boot_params, the zero page, is handed over in RSI */
		FUZZ_CHECK(guest_mem_ptr(&b.mem, plan.rsi, 0x1000));
	}
	fuzz_boot_free(&b);
	return 0;
}
