/* SPDX-License-Identifier: MIT */
/* The names of the guest outcomes, for logs, results and the API. */
#ifndef SPLITVM_OUTCOME_H
#define SPLITVM_OUTCOME_H

#include "splitvm.h"

/* "exit", "poweroff", ...; "unknown" for a value outside the enum. */
const char *outcome_name(enum splitvm_outcome outcome);

#endif /* SPLITVM_OUTCOME_H */
