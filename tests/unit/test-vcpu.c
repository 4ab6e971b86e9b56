// SPDX-License-Identifier: MIT
/* What a vCPU says when KVM stops it with an internal error. */
#include <string.h>

#include "unit.h"
#include "vcpu.h"

/* An emulation failure as KVM reports it, with bytes when n > 0. */
static void emulation_failure(struct kvm_run *run, const uint8_t *bytes,
			      unsigned int n, unsigned int insn_size)
{
	memset(run, 0, sizeof(*run));
	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->emulation_failure.suberror = KVM_INTERNAL_ERROR_EMULATION;
	if (!n)
		return;
	run->emulation_failure.ndata = 3; /* flags, size + 15 bytes */
	run->emulation_failure.flags =
		KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
	run->emulation_failure.insn_size = (uint8_t)insn_size;
	memcpy(run->emulation_failure.insn_bytes, bytes, n);
}

/* Linux 6.1's SLUB on PVM: lock cmpxchg16b [rbp+0x20]. */
START_TEST(vcpu_internal_error_shows_instruction_bytes)
{
	static const uint8_t insn[] = {0xf0, 0x48, 0x0f, 0xc7, 0x4d, 0x20};
	struct kvm_run run;
	char buf[160];

	emulation_failure(&run, insn, sizeof(insn), sizeof(insn));
	vcpu_describe_internal_error(&run, 1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "KVM internal error on vCPU 1: suberror 1 "
			      "(instruction emulation failed), instruction "
			      "bytes f0 48 0f c7 4d 20");
}
END_TEST

START_TEST(vcpu_internal_error_without_bytes)
{
	static const uint8_t int3 = 0xcc;
	struct kvm_run run;
	char buf[160];

	emulation_failure(&run, NULL, 0, 0);
	vcpu_describe_internal_error(&run, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "KVM internal error on vCPU 0: suberror 1 "
			      "(instruction emulation failed)");
	/* The flag without the data it promises: ndata too small. */
	emulation_failure(&run, &int3, 1, 1);
	run.emulation_failure.ndata = 1;
	vcpu_describe_internal_error(&run, 0, buf, sizeof(buf));
	ck_assert_ptr_null(strstr(buf, "bytes"));
	/* Data without the flag. */
	emulation_failure(&run, &int3, 1, 1);
	run.emulation_failure.flags = 0;
	vcpu_describe_internal_error(&run, 0, buf, sizeof(buf));
	ck_assert_ptr_null(strstr(buf, "bytes"));
}
END_TEST

/* Other suberrors carry no instruction; their data is not ABI. */
START_TEST(vcpu_internal_error_other_suberror)
{
	struct kvm_run run;
	char buf[160];

	memset(&run, 0, sizeof(run));
	run.internal.suberror = KVM_INTERNAL_ERROR_DELIVERY_EV;
	run.internal.ndata = 3;
	run.internal.data[0] = 1;
	vcpu_describe_internal_error(&run, 3, buf, sizeof(buf));
	ck_assert_str_eq(buf, "KVM internal error on vCPU 3: suberror 3");
}
END_TEST

/* An insn_size past the 15 bytes there are shows 15; a short buffer is
 * cut, never overrun. */
START_TEST(vcpu_internal_error_bounds)
{
	uint8_t insn[15];
	struct kvm_run run;
	char buf[160], small[48];

	memset(insn, 0x90, sizeof(insn));
	emulation_failure(&run, insn, sizeof(insn), 255);
	vcpu_describe_internal_error(&run, 0, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "bytes 90 90"));
	ck_assert_uint_eq(strlen(strstr(buf, "bytes ")), 6 + 15 * 3 - 1);

	memset(small, 'x', sizeof(small));
	vcpu_describe_internal_error(&run, 0, small, 40);
	ck_assert_uint_eq(strlen(small), 39);
	ck_assert_int_eq(small[40], 'x');
	/* Cut in the middle of the bytes. */
	memset(buf, 'x', sizeof(buf));
	vcpu_describe_internal_error(&run, 0, buf, 100);
	ck_assert_uint_eq(strlen(buf), 99);
	ck_assert_int_eq(buf[100], 'x');
}
END_TEST

UNIT_SUITE("vcpu", vcpu_internal_error_shows_instruction_bytes,
	   vcpu_internal_error_without_bytes,
	   vcpu_internal_error_other_suberror, vcpu_internal_error_bounds)
