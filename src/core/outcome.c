// SPDX-License-Identifier: MIT
/* The names of the guest outcomes (enum splitvm_outcome, include/splitvm.h). */
#include "outcome.h"

const char *outcome_name(enum splitvm_outcome outcome)
{
	static const char *const names[] = {
		[SPLITVM_OUTCOME_RUNNING] = "running",
		[SPLITVM_OUTCOME_EXIT] = "exit",
		[SPLITVM_OUTCOME_POWEROFF] = "poweroff",
		[SPLITVM_OUTCOME_RESET] = "reset",
		[SPLITVM_OUTCOME_TRIPLE_FAULT] = "triple-fault",
		[SPLITVM_OUTCOME_EMULATION_FAILURE] = "emulation-failure",
		[SPLITVM_OUTCOME_ENTRY_FAILURE] = "entry-failure",
		[SPLITVM_OUTCOME_CRASH] = "crash",
		[SPLITVM_OUTCOME_TIMEOUT] = "timeout",
		[SPLITVM_OUTCOME_STOPPED] = "stopped",
		[SPLITVM_OUTCOME_ERROR] = "error",
	};

	if ((unsigned int)outcome >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[outcome];
}
