// SPDX-License-Identifier: MIT
/* Exits with the code given as exit=N on the command line (default 0). */
#include "guest.h"

/*
 * Tests of the debug-exit path and of command-line passing: with exit=N
 * the VMM must end with status (N << 1) | 1 (truncated to 8 bits by the
 * host's exit status). N is decimal or 0x-prefixed hex, 0 to 0xffffffff.
 */
int guest_main(const struct guest_boot *boot)
{
	const char *cmdline = guest_cmdline();
	uint64_t code = 0;
	char arg[24];

	if (cmdline_get(cmdline, "exit", arg, sizeof(arg)) &&
	    (!cmdline_get_u64(cmdline, "exit", &code) || code > UINT32_MAX)) {
		printf("exitcode: cannot parse exit=%s\n", arg);
		return GUEST_EXIT_USAGE;
	}
	printf("exitcode: exiting with %lu\n", code);
	return (int)(uint32_t)code;
}
