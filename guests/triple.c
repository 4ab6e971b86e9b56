// SPDX-License-Identifier: MIT
/* Triple-faults on purpose: the VMM must report it as a guest outcome. */
#include "guest.h"

/*
 * With an IDT limit of 0 no vector can be delivered: the #UD from UD2
 * becomes #GP, then #DF, then a shutdown (SDM vol. 3 6.15, "Interrupt 8").
 * UD2 rather than INT n, which PVM cannot emulate at CPL0.
 */
int guest_main(const struct guest_boot *boot)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty = {0, 0};

	printf("triple: loading an empty IDT and executing ud2\n");
	__asm__ volatile("lidt %0\n\tud2" : : "m"(empty) : "memory");

	/* Unreachable unless the fault was swallowed. */
	printf("FAIL: still running after the triple fault\n");
	return GUEST_EXIT_FAIL;
}
