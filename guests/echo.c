// SPDX-License-Identifier: MIT
/* Echoes COM1 input back until a newline, then exits 0: serial input test. */
#include "guest.h"

int guest_main(const struct guest_boot *boot)
{
	uint8_t c;

	/*
	 * Bytes sent before this line is printed are not lost: they wait in
	 * the UART's receive FIFO (and the VMM's input buffer).
	 */
	printf("echo: ready\n");
	do {
		/* Polling LSR: each read is a VM exit, so this does not burn
		 * interpreted instructions while it waits. */
		c = serial_getc();
		serial_putc((char)c);
	} while (c != '\n' && c != '\r');
	return GUEST_EXIT_PASS;
}
