// SPDX-License-Identifier: MIT
/*
 * The real-mode IVT and its handlers: every vector is followed, as a CPU
 * in real mode would, into the handler bytes, which a small interpreter of
 * the few 16-bit instructions they may use runs to their IRET.
 */
#include <string.h>

#include "acpi.h"
#include "bios.h"
#include "mptable.h"
#include "pic.h"
#include "unit.h"

/* What running one handler did. */
struct run {
	unsigned int steps;
	uint8_t ports[4], values[4]; /* OUT imm8, AL in order */
	unsigned int nr_out;
	bool iret;	 /* ended with IRET, stack balanced */
	bool ax_kept;	 /* AX as on entry */
	bool bad_opcode; /* something the handlers must not contain */
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/*
 * Runs the handler at seg:off, which must lie in the stubs; AX starts as
 * 0x1234. Only push ax, pop ax, mov al imm8, out imm8 al and iret exist.
 */
static struct run run_handler(const uint8_t *stubs, uint16_t seg, uint16_t off)
{
	uint64_t ip = (uint64_t)seg * 16 + off;
	uint16_t ax = 0x1234, stack[4];
	unsigned int sp = 0;
	struct run r = { 0 };

	while (r.steps++ < 32) {
		const uint8_t *p;

		if (ip < BIOS_STUBS_ADDR ||
		    ip >= BIOS_STUBS_ADDR + BIOS_STUBS_SIZE) {
			r.bad_opcode = true;
			return r;
		}
		p = stubs + (ip - BIOS_STUBS_ADDR);
		switch (p[0]) {
		case 0x50: /* push ax */
			if (sp == 4)
				goto bad;
			stack[sp++] = ax;
			ip += 1;
			break;
		case 0x58: /* pop ax */
			if (sp == 0)
				goto bad;
			ax = stack[--sp];
			ip += 1;
			break;
		case 0xb0: /* mov al, imm8 */
			ax = (uint16_t)((ax & 0xff00) | p[1]);
			ip += 2;
			break;
		case 0xe6: /* out imm8, al */
			if (r.nr_out == 4)
				goto bad;
			r.ports[r.nr_out] = p[1];
			r.values[r.nr_out++] = (uint8_t)ax;
			ip += 2;
			break;
		case 0xcf: /* iret */
			r.iret = sp == 0;
			r.ax_kept = ax == 0x1234;
			return r;
		default:
			goto bad;
		}
	}
bad:
	r.bad_opcode = true;
	return r;
}

/* The vector bases the handlers assume are those the PICs are left at. */
START_TEST(bios_vectors_match_the_pic_firmware_state)
{
	ck_assert_uint_eq(BIOS_MASTER_VECTOR, PIC_FW_MASTER_BASE);
	ck_assert_uint_eq(BIOS_SLAVE_VECTOR, PIC_FW_SLAVE_BASE);
	ck_assert_uint_eq(BIOS_SEGMENT * 16 + BIOS_IRET_OFFSET, 0xfff53);
}
END_TEST

/*
 * Every vector returns; the PIC's send the EOIs an IRQ needs (the slave's
 * to both chips, slave first) and keep AX; the others touch no port.
 */
START_TEST(bios_every_vector_returns_and_eois_its_pic)
{
	uint8_t ivt[BIOS_IVT_SIZE], stubs[BIOS_STUBS_SIZE];

	memset(ivt, 0xa5, sizeof(ivt));
	memset(stubs, 0xa5, sizeof(stubs));
	bios_build_ivt(ivt);
	bios_build_stubs(stubs);
	for (unsigned int v = 0; v < BIOS_IVT_ENTRIES; v++) {
		bool master = v >= 0x08 && v <= 0x0f;
		bool slave = v >= 0x70 && v <= 0x77;
		uint16_t off = rd16(ivt + 4 * v), seg = rd16(ivt + 4 * v + 2);
		struct run r = run_handler(stubs, seg, off);

		ck_assert_msg(seg == 0xf000, "vector 0x%x: segment 0x%x", v,
			      seg);
		ck_assert_msg(!r.bad_opcode && r.iret && r.ax_kept,
			      "vector 0x%x at %04x:%04x", v, seg, off);
		if (!master && !slave) {
			ck_assert_msg(off == 0xff53 && r.nr_out == 0,
				      "vector 0x%x", v);
			continue;
		}
		ck_assert_uint_eq(r.nr_out, slave ? 2 : 1);
		if (slave) {
			ck_assert_uint_eq(r.ports[0], 0xa0);
			ck_assert_uint_eq(r.values[0], 0x20);
		}
		ck_assert_uint_eq(r.ports[r.nr_out - 1], 0x20);
		ck_assert_uint_eq(r.values[r.nr_out - 1], 0x20);
	}
}
END_TEST

/* Every byte of the stubs is written: nothing left of what was there. */
START_TEST(bios_stubs_are_all_written)
{
	uint8_t a[BIOS_STUBS_SIZE], b[BIOS_STUBS_SIZE];

	memset(a, 0x00, sizeof(a));
	memset(b, 0xff, sizeof(b));
	bios_build_stubs(a);
	bios_build_stubs(b);
	ck_assert_mem_eq(a, b, sizeof(a));
	ck_assert_uint_eq(a[BIOS_IRET_OFFSET - 0xff40], 0xcf);
	ck_assert_uint_eq(a[BIOS_STUBS_SIZE - 1], 0xcf);
}
END_TEST

/*
 * The handlers sit in the BIOS area, past the largest MP table (255 CPUs
 * at 0xf0000) and the ACPI tables at 0xe0000 (which end below 0xf0000),
 * and below the reset vector's paragraph.
 */
START_TEST(bios_stubs_clear_of_the_tables)
{
	struct machine_desc m;

	machine_desc_init(&m, MPTABLE_MAX_CPUS, MACHINE_IOAPIC_MAX_PINS, 0x20);
	m.rtc = true;
	ck_assert_uint_gt(mptable_size(&m), 0);
	ck_assert_uint_le(0xf0000 + mptable_size(&m), BIOS_STUBS_ADDR);
	ck_assert_uint_le(BIOS_STUBS_ADDR + BIOS_STUBS_SIZE, 0xffff0);
	machine_desc_init(&m, MACHINE_MAX_CPUS, MACHINE_IOAPIC_MAX_PINS, 0x20);
	m.rtc = true;
	ck_assert_uint_gt(acpi_size(&m), 0);
	ck_assert_uint_le(0xe0000 + acpi_size(&m), 0xf0000);
	/* The IVT ends where the BIOS data area begins. */
	ck_assert_uint_eq(BIOS_IVT_ADDR + BIOS_IVT_SIZE, 0x400);
}
END_TEST

UNIT_SUITE("bios", bios_vectors_match_the_pic_firmware_state,
	   bios_every_vector_returns_and_eois_its_pic,
	   bios_stubs_are_all_written, bios_stubs_clear_of_the_tables)
