// SPDX-License-Identifier: MIT
/* Log lines go to the embedder's handler, or to stderr when there is none. */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

void log_msg(const struct logger *lg, enum splitvm_log_level level,
	     const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (lg && lg->fn ? level > lg->max_level
			 : level > SPLITVM_LOG_WARNING)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (lg && lg->fn)
		lg->fn(lg->userdata, level, line);
	else
		fprintf(stderr, "splitvm: %s\n", line);
}
