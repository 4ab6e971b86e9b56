// SPDX-License-Identifier: MIT
/* The real-mode interrupt vector table and the handlers it points at. */
#include <string.h>

#include "bios.h"

#define OP_PUSH_AX 0x50
#define OP_POP_AX 0x58
#define OP_MOV_AL_IMM 0xb0
#define OP_OUT_IMM_AL 0xe6
#define OP_IRET 0xcf

#define PIC_MASTER_CMD 0x20
#define PIC_SLAVE_CMD 0xa0
#define PIC_OCW2_EOI 0x20 /* non-specific EOI (8259A OCW2) */

static void put_vector(uint8_t *ivt, unsigned int vector, uint16_t offset)
{
	uint8_t *e = ivt + 4 * vector;

	e[0] = (uint8_t)offset;
	e[1] = (uint8_t)(offset >> 8);
	e[2] = (uint8_t)BIOS_SEGMENT;
	e[3] = (uint8_t)(BIOS_SEGMENT >> 8);
}

void bios_build_ivt(uint8_t ivt[BIOS_IVT_SIZE])
{
	for (unsigned int v = 0; v < BIOS_IVT_ENTRIES; v++) {
		uint16_t off = BIOS_IRET_OFFSET;

		if (v >= BIOS_MASTER_VECTOR && v < BIOS_MASTER_VECTOR + 8)
			off = BIOS_MASTER_EOI_OFFSET;
		else if (v >= BIOS_SLAVE_VECTOR && v < BIOS_SLAVE_VECTOR + 8)
			off = BIOS_SLAVE_EOI_OFFSET;
		put_vector(ivt, v, off);
	}
}

/* A handler at offset in the BIOS segment, sending EOIs to the ports. */
static void put_eoi_handler(uint8_t *stubs, uint16_t offset,
			    const uint8_t *ports, unsigned int nr_ports)
{
	uint8_t *p = stubs + (offset - (uint16_t)BIOS_STUBS_ADDR);

	*p++ = OP_PUSH_AX;
	*p++ = OP_MOV_AL_IMM;
	*p++ = PIC_OCW2_EOI;
	for (unsigned int i = 0; i < nr_ports; i++) {
		*p++ = OP_OUT_IMM_AL;
		*p++ = ports[i];
	}
	*p++ = OP_POP_AX;
	*p = OP_IRET;
}

void bios_build_stubs(uint8_t stubs[BIOS_STUBS_SIZE])
{
	/* The slave's request reached the CPU through the master's IR2. */
	static const uint8_t master[] = { PIC_MASTER_CMD };
	static const uint8_t slave[] = { PIC_SLAVE_CMD, PIC_MASTER_CMD };

	memset(stubs, OP_IRET, BIOS_STUBS_SIZE);
	put_eoi_handler(stubs, BIOS_MASTER_EOI_OFFSET, master, 1);
	put_eoi_handler(stubs, BIOS_SLAVE_EOI_OFFSET, slave, 2);
}
