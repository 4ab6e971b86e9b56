// SPDX-License-Identifier: MIT
/* Named, counted checks and the summary line test scripts parse. */
#include "guest.h"

static unsigned int tests, failures, skipped;

bool report(const char *name, bool ok)
{
	tests++;
	if (!ok)
		failures++;
	printf("%s: %s\n", ok ? "PASS" : "FAIL", name);
	return ok;
}

bool reportf(bool ok, const char *fmt, ...)
{
	char name[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	return report(name, ok);
}

void report_skip(const char *name)
{
	skipped++;
	printf("SKIP: %s\n", name);
}

int report_summary(void)
{
	printf("SUMMARY: %u tests, %u failures", tests, failures);
	if (skipped)
		printf(", %u skipped", skipped);
	printf("\n");
	return failures ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
