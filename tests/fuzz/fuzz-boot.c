// SPDX-License-Identifier: MIT
/* libFuzzer harness: boot_load(), which detects the format and loads it. */
#include <stdint.h>
#include <string.h>

#include "fuzz-boot.h"

/* Entry-state descriptors boot_write_tables() puts at BOOT_GDT_ADDR. */
#define GDT_CODE32 0x00cf9b000000ffffull
#define GDT_DATA 0x00cf93000000ffffull
#define GDT_CODE64 0x00af9b000000ffffull

/*
 * Every protocol boot_load() knows is reached from here, so loaders added
 * later are fuzzed without a harness of their own. Input: fuzz-boot.h.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_boot b;
	struct boot_plan plan;
	uint64_t gdt[4];
	int ret;

	if (!fuzz_boot_setup(&b, data, size))
		return 0;
	ret = boot_load(&b.mem, &b.in, &plan, &b.lg);
	fuzz_boot_check(&b, ret, &plan);
	/* boot.h: "On a malformed image it logs one error" - one, not more */
	if (ret)
		FUZZ_CHECK(b.errors == 1);
	if (!ret) {
		/* the GDT is in place whatever the protocol */
		FUZZ_CHECK(!guest_mem_read(&b.mem, BOOT_GDT_ADDR, gdt,
					   sizeof(gdt)));
		FUZZ_CHECK(gdt[0] == 0);
		FUZZ_CHECK(gdt[BOOT_SEL_CODE32 / 8] == GDT_CODE32);
		FUZZ_CHECK(gdt[BOOT_SEL_DATA / 8] == GDT_DATA);
		FUZZ_CHECK(gdt[BOOT_SEL_CODE64 / 8] == GDT_CODE64);
	}
	fuzz_boot_free(&b);
	return 0;
}
