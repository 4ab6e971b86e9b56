// SPDX-License-Identifier: MIT
/* The snapshot port: each write is a request with its value and vCPU. */
#include <errno.h>

#include "snapshot_port.h"
#include "unit.h"

struct seen {
	unsigned int calls;
	uint32_t value;
	int vcpu;
};

static void on_request(void *vm, uint32_t value, int vcpu)
{
	struct seen *s = vm;

	s->calls++;
	s->value = value;
	s->vcpu = vcpu;
}

START_TEST(snapshot_port_writes_are_requests)
{
	struct seen seen = {0};
	const struct snapshot_hook hook = {on_request, &seen};
	struct snapshot_port *p;
	struct io_access a = {SNAPSHOT_PORT, 0, 4, 2};
	uint8_t buf[8];

	ck_assert_int_eq(snapshot_port_new(NULL, &p), -EINVAL);
	ck_assert_int_eq(snapshot_port_new(&hook, &p), 0);
	snapshot_port_ops.write(p, &a, 0x12345678);
	ck_assert_uint_eq(seen.calls, 1);
	ck_assert_uint_eq(seen.value, 0x12345678);
	ck_assert_int_eq(seen.vcpu, 2);
	a.len = 1;
	snapshot_port_ops.write(p, &a, 0x7f);
	ck_assert_uint_eq(seen.value, 0x7f);
	/* Not at the port's first byte, or 8 bytes wide: no request. */
	a = (struct io_access){SNAPSHOT_PORT + 1, 1, 1, 0};
	snapshot_port_ops.write(p, &a, 1);
	a = (struct io_access){SNAPSHOT_PORT, 0, 8, 0};
	snapshot_port_ops.write(p, &a, 1);
	ck_assert_uint_eq(seen.calls, 2);
	ck_assert_uint_eq(snapshot_port_ops.read(p, &a), 0);
	/* No state: an empty snapshot record, and nothing else taken. */
	ck_assert_int_eq(snapshot_port_ops.save(p, buf, sizeof(buf), 0), 0);
	ck_assert_int_eq(snapshot_port_ops.load(p, buf, 0, 0), 0);
	ck_assert_int_eq(snapshot_port_ops.load(p, buf, 1, 0), -EINVAL);
	snapshot_port_ops.destroy(p);
}
END_TEST

UNIT_SUITE("snapshot_port", snapshot_port_writes_are_requests)
