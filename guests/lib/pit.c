// SPDX-License-Identifier: MIT
/* The i8254 PIT: programming, latching, read-back, channel 2's gate. */
#include "guest.h"

/* Control word (8254 datasheet): SC1 SC0 RW1 RW0 M2 M1 M0 BCD. */
#define PIT_RW_LSB_MSB (3u << 4)
#define PIT_READBACK (3u << 6)
#define PIT_RB_NO_COUNT (1u << 5)
#define PIT_RB_NO_STATUS (1u << 4)

static uint16_t pit_port(unsigned int ch)
{
	return (uint16_t)(PIT_CH0 + ch);
}

void pit_program(unsigned int ch, unsigned int mode, uint16_t count, bool bcd)
{
	outb(PIT_CMD, (uint8_t)(ch << 6 | PIT_RW_LSB_MSB | (mode & 7) << 1 |
				(bcd ? 1 : 0)));
	outb(pit_port(ch), (uint8_t)count);
	outb(pit_port(ch), (uint8_t)(count >> 8));
}

uint16_t pit_read_counter(unsigned int ch)
{
	uint8_t lo = inb(pit_port(ch));
	uint8_t hi = inb(pit_port(ch));

	return lo | (uint16_t)hi << 8;
}

uint16_t pit_latch_read(unsigned int ch)
{
	uint8_t lo, hi;

	outb(PIT_CMD, (uint8_t)(ch << 6)); /* RW = 00: counter latch */
	lo = inb(pit_port(ch));
	hi = inb(pit_port(ch));
	return lo | (uint16_t)hi << 8;
}

uint8_t pit_readback(unsigned int ch, bool with_count, uint16_t *ret_count)
{
	uint8_t status, lo, hi;

	/* Read-back: bit 1 + ch selects the counter (datasheet fig. 9). */
	outb(PIT_CMD, (uint8_t)(PIT_READBACK |
				(with_count ? 0 : PIT_RB_NO_COUNT) | 2u << ch));
	/* Status and count both latched: the status is read first. */
	status = inb(pit_port(ch));
	if (with_count) {
		lo = inb(pit_port(ch));
		hi = inb(pit_port(ch));
		if (ret_count)
			*ret_count = lo | (uint16_t)hi << 8;
	}
	return status;
}

void pit_ch2_gate(bool high)
{
	uint8_t v = inb(PORT_61) & ~(PORT_61_GATE2 | PORT_61_SPEAKER);

	/* Only bits 0-3 are writable; write back the low nibble. */
	outb(PORT_61, (v & 0x0f) | (high ? PORT_61_GATE2 : 0));
}
