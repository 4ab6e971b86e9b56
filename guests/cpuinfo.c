// SPDX-License-Identifier: MIT
/* Prints the CPUID leaves a -cpu model decides, for VMMs to be compared. */
#include "guest.h"

/*
 * One line per leaf, the same under every VMM for the same -cpu on the
 * same host: the vendor, the highest leaves, the signature and the
 * feature words (leaf 1 EBX holds APIC IDs and is left out), the physical
 * address width and the brand string. Exits with 0.
 */
static void vendor(uint32_t leaf)
{
	uint32_t a, v[3];
	char s[13];

	cpuid(leaf, 0, &a, &v[0], &v[2], &v[1]);
	memcpy(s, v, 12);
	s[12] = 0;
	printf("cpuinfo: %08x: max %08x vendor %s\n", leaf, a, s);
}

static void words(uint32_t leaf, uint32_t sub)
{
	uint32_t a, b, c, d;

	cpuid(leaf, sub, &a, &b, &c, &d);
	if (leaf == 1)
		b = 0;
	printf("cpuinfo: %08x.%u: %08x %08x %08x %08x\n", leaf, sub, a, b, c,
	       d);
}

int guest_main(const struct guest_boot *boot)
{
	uint32_t max, xmax, a, b, c, d, brand[12];

	vendor(0);
	vendor(0x80000000);
	cpuid(0, 0, &max, &b, &c, &d);
	cpuid(0x80000000, 0, &xmax, &b, &c, &d);
	words(1, 0);
	if (max >= 7)
		words(7, 0);
	if (xmax >= 0x80000001)
		words(0x80000001, 0);
	if (xmax >= 0x80000004) {
		for (uint32_t i = 0; i < 3; i++)
			cpuid(0x80000002 + i, 0, &brand[4 * i],
			      &brand[4 * i + 1], &brand[4 * i + 2],
			      &brand[4 * i + 3]);
		((char *)brand)[47] = 0;
		printf("cpuinfo: brand '%s'\n", (char *)brand);
	}
	if (xmax >= 0x80000008) {
		cpuid(0x80000008, 0, &a, &b, &c, &d);
		printf("cpuinfo: phys-bits %u\n", a & 0xff);
	}
	return GUEST_EXIT_PASS;
}
