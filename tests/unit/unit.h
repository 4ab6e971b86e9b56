/* SPDX-License-Identifier: MIT */
/* Shared scaffolding for the Check unit tests: TAP output for meson. */
#ifndef SPLITVM_TEST_UNIT_H
#define SPLITVM_TEST_UNIT_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * Runs every test of the suite, writing TAP to stdout (meson's 'tap'
 * protocol). Set CK_FORK=no to run the tests in one process under gdb.
 */
static inline int unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* One TCase per suite keeps the TAP names flat: "<module>_<behaviour>". */
#define UNIT_SUITE_OF(name, ...)                                               \
	static Suite *unit_suite(void)                                         \
	{                                                                      \
		Suite *s = suite_create(name);                                 \
		TCase *tc = tcase_create(name);                                \
		tcase_set_timeout(tc, 120);                                    \
		const TTest *tests[] = {__VA_ARGS__};                          \
		for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)  \
			_tcase_add_test(tc, tests[i], 0, 0, 0, 1);             \
		suite_add_tcase(s, tc);                                        \
		return s;                                                      \
	}

#define UNIT_SUITE(name, ...)                                                  \
	UNIT_SUITE_OF(name, __VA_ARGS__)                                       \
	int main(void)                                                         \
	{                                                                      \
		return unit_run(unit_suite());                                 \
	}

/*
 * The same for tests that boot guests: without /dev/kvm the whole program
 * is skipped (77, meson's skip status) with its reason, and only then.
 */
#define UNIT_KVM_SUITE(name, ...)                                              \
	UNIT_SUITE_OF(name, __VA_ARGS__)                                       \
	int main(void)                                                         \
	{                                                                      \
		if (access("/dev/kvm", F_OK) != 0) {                           \
			printf("1..0 # SKIP /dev/kvm is missing\n");          \
			return 77;                                             \
		}                                                              \
		return unit_run(unit_suite());                                 \
	}

#endif /* SPLITVM_TEST_UNIT_H */
