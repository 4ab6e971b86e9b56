// SPDX-License-Identifier: MIT
/* A run's outcome as the exit status of 'splitvm run' (status.h). */
#include <stdarg.h>
#include <stdio.h>

#include "status.h"

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("splitvm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see 'splitvm --help')\n", stderr);
	return EXIT_USAGE;
}

int status_of(const struct splitvm_result *res)
{
	switch (res->outcome) {
	case SPLITVM_OUTCOME_EXIT:
		return (int)(((res->exit_code << 1) | 1) & 0xff);
	case SPLITVM_OUTCOME_POWEROFF:
		return EXIT_POWEROFF;
	case SPLITVM_OUTCOME_RESET:
		return EXIT_RESET;
	case SPLITVM_OUTCOME_TRIPLE_FAULT:
		return EXIT_TRIPLE_FAULT;
	case SPLITVM_OUTCOME_EMULATION_FAILURE:
		return EXIT_EMULATION_FAILURE;
	case SPLITVM_OUTCOME_ENTRY_FAILURE:
		return EXIT_ENTRY_FAILURE;
	case SPLITVM_OUTCOME_CRASH:
		return EXIT_CRASH;
	case SPLITVM_OUTCOME_TIMEOUT:
		return EXIT_TIMEOUT;
	case SPLITVM_OUTCOME_STOPPED:
		return EXIT_INTERRUPTED;
	default:
		return EXIT_MONITOR_ERROR;
	}
}
