// SPDX-License-Identifier: MIT
/*
 * Build step: compiles every role's allowlist (sandbox_rules.c) with
 * libseccomp, once plain and once with a sanitizer's needs, and writes the
 * BPF programs as C arrays (sandbox_bpf.h) for sandbox.c to load as they
 * are. Usage: sandbox-gen OUTPUT. The two values known only at run time
 * are compiled as placeholders (sandbox.h); each program is checked to
 * hold them only where sandbox_program() fills them in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "sandbox_rules.h"

/* The program for role, or NULL after a line on stderr. */
static struct sock_filter *compile(enum sandbox_role role, bool sanitizer,
				   size_t *ret_len)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	struct sock_filter *insns = NULL;
	FILE *tmp = tmpfile();
	long size = -1;
	int r = -ENOMEM;

	if (ctx && tmp) {
		r = sandbox_rules_add(ctx, role, SANDBOX_PID_PLACEHOLDER,
				      sanitizer);
		if (!r)
			r = seccomp_export_bpf(ctx, fileno(tmp));
	}
	if (!r && fseek(tmp, 0, SEEK_END) == 0)
		size = ftell(tmp);
	if (size > 0 && size % (long)sizeof(*insns) == 0 &&
	    (insns = malloc((size_t)size))) {
		rewind(tmp);
		if (fread(insns, 1, (size_t)size, tmp) != (size_t)size) {
			free(insns);
			insns = NULL;
		}
	}
	if (!insns)
		fprintf(stderr, "sandbox-gen: role %d: %s\n", (int)role,
			r ? strerror(-r) : "no program exported");
	if (tmp)
		fclose(tmp);
	seccomp_release(ctx);
	*ret_len = insns ? (size_t)size / sizeof(*insns) : 0;
	return insns;
}

/*
 * The placeholders are where sandbox_program() looks for them, and
 * nowhere else: one comparison with the pid, and the action only in
 * returns.
 */
static bool placeholders_ok(const struct sock_filter *insns, size_t len)
{
	size_t pid_cmps = 0, action_rets = 0;

	for (size_t i = 0; i < len; i++) {
		if (insns[i].k == SANDBOX_PID_PLACEHOLDER) {
			if (insns[i].code != (BPF_JMP | BPF_JEQ | BPF_K))
				return false;
			pid_cmps++;
		}
		if (insns[i].code == (BPF_RET | BPF_K) &&
		    insns[i].k == SECCOMP_RET_TRAP)
			action_rets++;
	}
	return pid_cmps == 1 && action_rets > 0;
}

int main(int argc, char **argv)
{
	FILE *out;
	size_t max = 0;

	if (argc != 2 || !(out = fopen(argv[1], "w"))) {
		fprintf(stderr, "usage: sandbox-gen OUTPUT\n");
		return 2;
	}
	fputs("/* Generated when splitvm was built: sandbox_gen.c compiled "
	      "sandbox_rules.c. */\n"
	      "struct sandbox_bpf {\n"
	      "\tconst struct sock_filter *insns;\n"
	      "\tsize_t len;\n"
	      "};\n\n",
	      out);
	for (int san = 0; san < 2; san++)
		for (int role = 0; role < SANDBOX_NR_ROLES; role++) {
			size_t len;
			struct sock_filter *p = compile(role, san, &len);

			if (!p)
				return 1;
			if (!placeholders_ok(p, len)) {
				fprintf(stderr, "sandbox-gen: role %d: a "
						"placeholder is out of place\n",
					role);
				return 1;
			}
			fprintf(out, "static const struct sock_filter "
				     "sandbox_bpf_%d_%d[] = {\n", san, role);
			for (size_t i = 0; i < len; i++)
				fprintf(out, "\t{0x%04x, %u, %u, 0x%08x},\n",
					p[i].code, p[i].jt, p[i].jf, p[i].k);
			fputs("};\n", out);
			if (len > max)
				max = len;
			free(p);
		}
	fprintf(out, "\n#define SANDBOX_BPF_MAX %zu\n\n", max);
	fputs("/* [sanitizer][role] */\nstatic const struct sandbox_bpf "
	      "sandbox_bpf[2][SANDBOX_NR_ROLES] = {\n", out);
	for (int san = 0; san < 2; san++) {
		fputs("\t{\n", out);
		for (int role = 0; role < SANDBOX_NR_ROLES; role++)
			fprintf(out, "\t\t{sandbox_bpf_%d_%d, sizeof(sandbox_bpf_"
				     "%d_%d) / sizeof(struct sock_filter)},\n",
				san, role, san, role);
		fputs("\t},\n", out);
	}
	fputs("};\n", out);
	return fclose(out) ? 1 : 0;
}
