// SPDX-License-Identifier: MIT
/* Halts forever with interrupts off: for timeout and stop tests. */
#include "guest.h"

int guest_main(const struct guest_boot *boot)
{
	printf("hang: halting forever with interrupts disabled\n");
	/*
	 * Only an NMI, SMI or INIT wakes this HLT; an NMI reaches the
	 * default handler, which reports it and exits with 0x7f.
	 */
	for (;;)
		__asm__ volatile("cli; hlt" : : : "memory");
}
