// SPDX-License-Identifier: MIT
/* Spins forever with interrupts off: a vCPU that never exits on its own. */
#include "guest.h"

int guest_main(const struct guest_boot *boot)
{
	printf("spin: spinning forever with interrupts disabled\n");
	/*
	 * A bare JMP to itself: no I/O, no HLT, nothing that would give the
	 * VMM a natural exit; only a kick can stop it.
	 */
	__asm__ volatile("cli\n1:\tjmp 1b" : : : "memory");
	__builtin_unreachable();
}
