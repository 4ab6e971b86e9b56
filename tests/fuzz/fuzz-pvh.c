// SPDX-License-Identifier: MIT
/* libFuzzer harness: pvh_detect() and pvh_load() directly. */
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
	claimed = pvh_detect(b.in.kernel, b.in.kernel_size);
	ret = pvh_load(&b.mem, &b.in, &plan, &b.lg);
	fuzz_boot_check(&b, ret, &plan);
	if (!ret) {
		FUZZ_CHECK(claimed);
		/* the PVH ABI: 32-bit protected mode, EBX = hvm_start_info */
		FUZZ_CHECK(plan.mode == BOOT_MODE_PROTECTED32);
		FUZZ_CHECK(guest_mem_ptr(&b.mem, plan.rbx, 1));
	}
	fuzz_boot_free(&b);
	return 0;
}
