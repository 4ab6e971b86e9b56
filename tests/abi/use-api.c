// SPDX-License-Identifier: MIT
/*
 * A user's first program: built by the ABI tests against the shared and
 * the static library, as C99 and as C++11, with the strictest warnings.
 * Usage: use-api VERSION; exits 0 when the library answers as documented.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <splitvm.h>

int main(int argc, char **argv)
{
	struct splitvm_config *cfg = NULL;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: use-api VERSION\n");
		return 2;
	}
	if (strcmp(splitvm_version(), argv[1]) != 0) {
		fprintf(stderr,
			"splitvm_version() is \"%s\", expected \"%s\"\n",
			splitvm_version(), argv[1]);
		return 1;
	}
	err = splitvm_config_new(&cfg);
	if (err) {
		fprintf(stderr, "splitvm_config_new: %s\n", strerror(-err));
		return 1;
	}
	/* A call that must fail, to see the errno convention across the
	 * library boundary. */
	err = splitvm_config_set_cpus(cfg, 0);
	splitvm_config_free(cfg);
	if (err != -EINVAL) {
		fprintf(stderr, "splitvm_config_set_cpus(0) gave %d\n", err);
		return 1;
	}
	printf("libsplitvm %s: %s\n", splitvm_version(),
	       splitvm_outcome_name(SPLITVM_OUTCOME_EXIT));
	return 0;
}
