// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: the snapshot file reader (src/core/snapshot_file.c)
 * on any bytes. It must refuse what snapshot_write() could not have
 * written without crashing, reading out of bounds or leaking; what it
 * accepts must be self-consistent: every saved page inside RAM, in order,
 * with its bytes present.
 */
#include "fuzz.h"
#include "snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct splitvm_snapshot *s = NULL;
	int r = snapshot_parse(data, size, &s);

	if (r) {
		FUZZ_CHECK(r < 0 && !s);
		return 0;
	}
	FUZZ_CHECK(s->nr_vcpus > 0 && s->nr_pages * 4096 == s->mem_size);
	FUZZ_CHECK(s->data_size == s->nr_saved * 4096);
	for (uint64_t i = 0; i < s->nr_saved; i++) {
		FUZZ_CHECK(s->pages[i] < s->nr_pages);
		FUZZ_CHECK(!i || s->pages[i] > s->pages[i - 1]);
	}
	for (unsigned int i = 0; i < s->nr_vcpus; i++)
		FUZZ_CHECK(s->vcpus[i].nr_msrs <= VCPU_STATE_MAX_MSRS);
	for (unsigned int i = 0; i < s->nr_devices; i++)
		FUZZ_CHECK(s->device_names[i] && s->devices[i].data &&
			   s->devices[i].len <= SNAP_BLOB_MAX);
	snapshot_free(s);
	return 0;
}
