// SPDX-License-Identifier: MIT
/*
 * kvm-unit-tests' x86/unittests.cfg as a suite (kut.h), read by the rules
 * of the tree's own scripts: scripts/common.bash (for_each_unittest: the
 * file's syntax), scripts/runtime.bash (run: what SKIPs before QEMU
 * starts, and the verdict), x86/run and scripts/arch-run.bash (the QEMU
 * command line and its exit status) and scripts/vmm.bash (the status
 * fixup). The command line is translated by the QEMU front end
 * (qemu_args.c) and set on the entry through manifest_entry_set(), so an
 * entry is configured and checked exactly as a manifest entry or 'splitvm
 * qemu' would be.
 *
 * The runner evaluates the configuration's values with the shell (eval);
 * this reader takes the part of the shell they use (quotes, backslashes,
 * $VAR, and `date +%s` in kvmclock_test) and refuses the rest for that
 * entry: nothing in a configuration is ever run.
 */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <math.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kut.h"
#include "manifest.h"
#include "qemu_args.h"
#include "status.h"

/* run_tests.sh's default timeout (runtime.bash: ${11:-90s}). */
#define KUT_DEFAULT_TIMEOUT "90s"

/* A growing string. */
struct buf {
	char *p;
	size_t len, cap;
};

static bool buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = realloc(b->p, cap);

		if (!p)
			return false;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
	return true;
}

/* Words of a command line. */
struct words {
	char **v;
	size_t n;
};

static void words_free(struct words *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	*w = (struct words){.v = NULL};
}

static bool words_add(struct words *w, const char *s, size_t n)
{
	char **grown = realloc(w->v, (w->n + 2) * sizeof(*grown));

	if (!grown)
		return false;
	w->v = grown;
	w->v[w->n] = strndup(s, n);
	if (!w->v[w->n])
		return false;
	w->v[++w->n] = NULL;
	return true;
}

/* The shell's part of the reader: one command line into words. */
struct shell {
	const char *p;
	struct words *out;
	struct buf word;
	bool in_word; /* a word has begun, if only with "" */
	char why[200];
	bool nomem;
};

static bool shell_fail(struct shell *sh, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool shell_fail(struct shell *sh, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sh->why, sizeof(sh->why), fmt, ap);
	va_end(ap);
	return false;
}

static bool shell_char(struct shell *sh, char c)
{
	sh->in_word = true;
	if (!buf_add(&sh->word, &c, 1))
		sh->nomem = true;
	return !sh->nomem;
}

static bool shell_end_word(struct shell *sh)
{
	if (sh->in_word &&
	    !words_add(sh->out, sh->word.p ? sh->word.p : "", sh->word.len))
		sh->nomem = true;
	sh->word.len = 0;
	sh->in_word = false;
	return !sh->nomem;
}

/*
 * An expansion's text: unquoted, it is split into words at blanks (the
 * shell's field splitting, with the default IFS); quoted, it is part of
 * the word.
 */
static bool shell_text(struct shell *sh, const char *s, bool quoted)
{
	for (; *s; s++) {
		if (!quoted && strchr(" \t\n", *s)) {
			if (!shell_end_word(sh))
				return false;
		} else if (!shell_char(sh, *s)) {
			return false;
		}
	}
	return true;
}

/*
 * `cmd` or $(cmd), body its text: the one command kvm-unit-tests' x86
 * configuration runs is kvmclock_test's `date +%s`, the wall clock
 * that the guest compares its kvmclock with; it is answered here.
 */
static bool shell_command(struct shell *sh, const char *body, size_t len,
			  bool quoted)
{
	char now[32];

	while (len && isspace((unsigned char)*body))
		body++, len--;
	while (len && isspace((unsigned char)body[len - 1]))
		len--;
	if (len != 8 || memcmp(body, "date +%s", 8))
		return shell_fail(sh,
				  "the command substitution '%.*s' is not "
				  "evaluated (only `date +%%s` is)",
				  (int)(len > 60 ? 60 : len), body);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	return shell_text(sh, now, quoted);
}

/* $NAME or ${NAME}: from the environment, as the runner's eval sees
 * it; MAX_SMP has runtime.bash's default, the online CPUs. */
static bool shell_variable(struct shell *sh, bool quoted)
{
	const char *p = sh->p + 1, *value;
	bool braced = *p == '{';
	char name[64];
	size_t len;

	p += braced;
	len = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			"0123456789_");
	if (!len || isdigit((unsigned char)*p) || len >= sizeof(name) ||
	    (braced && p[len] != '}'))
		return shell_fail(sh, "the expansion '%.20s' is not evaluated",
				  sh->p);
	memcpy(name, p, len);
	name[len] = 0;
	sh->p = p + len + braced;
	value = getenv(name);
	if (!value && !strcmp(name, "MAX_SMP")) {
		char cpus[16];

		snprintf(cpus, sizeof(cpus), "%ld",
			 sysconf(_SC_NPROCESSORS_ONLN));
		return shell_text(sh, cpus, quoted);
	}
	return shell_text(sh, value ? value : "", quoted);
}

/* $... or `...` at sh->p; sh->p moves past it. */
static bool shell_expand(struct shell *sh, bool quoted)
{
	const char *start = sh->p, *body, *end;
	bool tick = *start == '`';

	if (tick || start[1] == '(') {
		body = start + (tick ? 1 : 2);
		end = strchr(body, tick ? '`' : ')');
		if (!end)
			return shell_fail(sh, "a %s without its closing %c",
					  tick ? "`" : "$(", tick ? '`' : ')');
		sh->p = end + 1;
		return shell_command(sh, body, (size_t)(end - body), quoted);
	}
	return shell_variable(sh, quoted);
}

/* "...": sh->p at the opening quote; moves past the closing one. */
static bool shell_double_quoted(struct shell *sh)
{
	sh->in_word = true;
	sh->p++;
	while (*sh->p != '"') {
		char c = *sh->p;

		if (!c)
			return shell_fail(sh, "a \" without its closing \"");
		if (c == '\\' && sh->p[1] && strchr("$`\"\\\n", sh->p[1])) {
			if (sh->p[1] != '\n' && !shell_char(sh, sh->p[1]))
				return false;
			sh->p += 2;
		} else if (c == '$' || c == '`') {
			if (!shell_expand(sh, true))
				return false;
		} else {
			if (!shell_char(sh, c))
				return false;
			sh->p++;
		}
	}
	sh->p++;
	return true;
}

/* One step of the unquoted text at sh->p. */
static bool shell_step(struct shell *sh)
{
	char c = *sh->p;
	const char *end;

	switch (c) {
	case ' ':
	case '\t':
	case '\n':
		sh->p++;
		return shell_end_word(sh);
	case '\'':
		end = strchr(sh->p + 1, '\'');
		if (!end)
			return shell_fail(sh, "a ' without its closing '");
		sh->in_word = true;
		for (const char *q = sh->p + 1; q < end; q++)
			if (!shell_char(sh, *q))
				return false;
		sh->p = end + 1;
		return true;
	case '"':
		return shell_double_quoted(sh);
	case '\\':
		if (sh->p[1] && sh->p[1] != '\n' && !shell_char(sh, sh->p[1]))
			return false;
		sh->p += sh->p[1] ? 2 : 1;
		return true;
	case '$':
	case '`':
		return shell_expand(sh, false);
	case ';':
	case '&':
	case '|':
	case '<':
	case '>':
	case '(':
	case ')':
		return shell_fail(sh, "the shell operator '%c' is not evaluated",
				  c);
	default:
		sh->p++;
		return shell_char(sh, c);
	}
}

/*
 * Splits s into words as the runner's eval would, into *out. Returns 0,
 * -ENOMEM, or -EINVAL with why saying what is not evaluated.
 */
static int shell_words(const char *s, struct words *out, char *why,
		       size_t why_size)
{
	struct shell sh = {.p = s, .out = out};
	bool ok = true;

	while (ok && *sh.p)
		ok = shell_step(&sh);
	if (ok)
		ok = shell_end_word(&sh);
	free(sh.word.p);
	if (sh.nomem)
		return -ENOMEM;
	if (!ok)
		snprintf(why, why_size, "%s", sh.why);
	return ok ? 0 : -EINVAL;
}

/*
 * A duration as timeout(1) takes it: a non-negative number, decimals
 * allowed, with s, m, h or d; 0 is no timeout at all.
 */
static bool parse_duration(const char *s, uint64_t *ret_ms)
{
	char *end;
	double v;

	if (!*s || isspace((unsigned char)*s) || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v))
		return false;
	if (*end) {
		static const char units[] = "smhd";
		static const double scale[] = {1, 60, 3600, 86400};
		const char *u = strchr(units, *end);

		if (!u || end[1])
			return false;
		v *= scale[u - units];
	}
	if (v * 1000 > 1e15)
		return false;
	/* rounded up: a timeout never comes early (no libm for ceil()) */
	*ret_ms = (uint64_t)(v * 1000);
	if ((double)*ret_ms < v * 1000)
		(*ret_ms)++;
	return true;
}

/* One section of the configuration as for_each_unittest collects it. */
struct kut_raw {
	char *name;
	unsigned int line;
	char *file, *smp, *test_args, *params, *groups, *arch, *machine;
	char *check, *accel, *timeout, *disabled_if;
};

static void raw_clear(struct kut_raw *r)
{
	char **fields[] = {&r->name,	&r->file,  &r->smp,    &r->test_args,
			   &r->params,	&r->groups, &r->arch,  &r->machine,
			   &r->check,	&r->accel, &r->timeout, &r->disabled_if};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		free(*fields[i]);
		*fields[i] = NULL;
	}
}

struct kut {
	const char *dir;
	char *cfg;	/* DIR/x86/unittests.cfg */
	char arch[32];	/* config.mak's ARCH */
	bool groups_given;
	struct suite *s;
	FILE *f;
	unsigned int line;
	bool failed;
	char err[512];
};

static bool kut_fail(struct kut *k, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The first problem, "CFG:LINE: ..." (or the tree's own line). */
static bool kut_fail(struct kut *k, unsigned int line, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	if (k->failed)
		return false;
	k->failed = true;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(k->err, sizeof(k->err), "%s:%u: %s", k->cfg, line,
			 what);
	else
		snprintf(k->err, sizeof(k->err), "%s", what);
	return false;
}

/* run_tests.sh's find_word: whether word is one of list's blank-separated
 * words. */
static bool find_word(const char *word, const char *list)
{
	size_t len = strlen(word);

	for (const char *p = list ? list : ""; *p;) {
		size_t n;

		p += strspn(p, " \t");
		n = strcspn(p, " \t");
		if (n == len && !strncmp(p, word, len))
			return true;
		p += n;
	}
	return false;
}

/* Marks e as decided before it runs, with run_tests.sh's reason. */
static bool prejudge(struct kut *k, struct suite_entry *e,
		     enum suite_prejudged how, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static bool prejudge(struct kut *k, struct suite_entry *e,
		     enum suite_prejudged how, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&e->prejudged_reason, fmt, ap);
	va_end(ap);
	if (r < 0) {
		e->prejudged_reason = NULL;
		return kut_fail(k, 0, "%s", strerror(ENOMEM));
	}
	e->prejudged = how;
	return true;
}

/*
 * check = PATH=VALUE...: each file must hold the value (cat's output,
 * less its trailing newlines), or the entry SKIPs. Returns the first
 * that does not, as "PATH not equal to VALUE" in why; false if all do.
 */
static bool check_fails(const char *check, char *why, size_t why_size)
{
	for (const char *p = check; *p;) {
		size_t n, plen, got = 0;
		const char *eq;
		char content[4096], path[1024];
		struct stat st;
		FILE *f;

		p += strspn(p, " \t");
		n = strcspn(p, " \t");
		if (!n)
			break;
		eq = memchr(p, '=', n);
		plen = eq ? (size_t)(eq - p) : n;
		snprintf(why, why_size, "%.*s not equal to %.*s", (int)plen, p,
			 eq ? (int)(n - plen - 1) : 0, eq ? eq + 1 : "");
		snprintf(path, sizeof(path), "%.*s", (int)plen, p);
		f = !stat(path, &st) && S_ISREG(st.st_mode) ? fopen(path, "re")
							   : NULL;
		if (f) {
			got = fread(content, 1, sizeof(content) - 1, f);
			fclose(f);
		}
		content[got] = 0;
		while (got && content[got - 1] == '\n')
			content[--got] = 0;
		if (!f || strlen(content) != (eq ? n - plen - 1 : 0) ||
		    (eq && memcmp(content, eq + 1, n - plen - 1)))
			return true;
		p += n;
	}
	return false;
}

/* accel = A: run_tests.sh SKIPs unless $ACCEL =~ ^A(,|$). */
static bool accel_matches(const char *accel, const char *given)
{
	regex_t re;
	char *pattern;
	bool match;

	if (asprintf(&pattern, "^%s(,|$)", accel) < 0)
		return false;
	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB)) {
		free(pattern);
		return false;
	}
	match = !regexec(&re, given, 0, NULL, 0);
	regfree(&re);
	free(pattern);
	return match;
}

/* The checks of runtime.bash's run() before QEMU, in its order. */
static bool skip_before_run(struct kut *k, struct suite_entry *e,
			    const struct kut_raw *r, const char *kernel_rel,
			    const char *kernel)
{
	const char *accel_env = getenv("ACCEL");
	const char *machine_env = getenv("MACHINE");
	const char *check = getenv("CHECK");
	struct stat st;
	char why[1200];

	if (!check || !*check)
		check = r->check;
	if (find_word("pv-host", r->groups))
		return prejudge(k, e, SUITE_SKIP,
				"no gen-se-header available for pv-host test");
	if (!k->groups_given && find_word("nodefault", r->groups))
		return prejudge(k, e, SUITE_SKIP,
				"test marked as manual run only");
	if (r->arch && *r->arch && strcmp(r->arch, k->arch))
		return prejudge(k, e, SUITE_SKIP, "%s only", r->arch);
	if (r->machine && *r->machine && machine_env && *machine_env &&
	    strcmp(r->machine, machine_env))
		return prejudge(k, e, SUITE_SKIP, "%s only", r->machine);
	/* splitvm is KVM, whatever $ACCEL says: without it, run_tests.sh
	 * compares with nothing and x86/run picks kvm. */
	if (r->accel && *r->accel && accel_env && *accel_env &&
	    !accel_matches(r->accel, accel_env))
		return prejudge(k, e, SUITE_SKIP, "%s only, but ACCEL=%s",
				r->accel, accel_env);
	if (r->accel && *r->accel && (!accel_env || !*accel_env) &&
	    !accel_matches(r->accel, "kvm"))
		return prejudge(k, e, SUITE_SKIP, "%s only, but splitvm is kvm",
				r->accel);
	if (r->disabled_if && *r->disabled_if)
		return prejudge(k, e, SUITE_SKIP,
				"disabled_if is shell splitvm does not "
				"evaluate: %.100s",
				r->disabled_if);
	if (check && *check && check_fails(check, why, sizeof(why)))
		return prejudge(k, e, SUITE_SKIP, "%s", why);
	/* runtime.bash's [ ! -f "$kernel" ]: a regular file, and a
	 * section with no file line names none ('' not found). */
	if (!r->file || stat(kernel, &st) || !S_ISREG(st.st_mode))
		return prejudge(k, e, SUITE_SKIP, "Test file '%s' not found",
				r->file ? kernel_rel : "");
	return true;
}

/* 'splitvm run' options as manifest keys: the front end's output. */
static const struct {
	const char *option;
	const char *key;   /* NULL: not the entry's (the console is its log) */
	const char *value; /* for an option without a value */
} run_options[] = {
	{"--kernel", "kernel", NULL},	{"--initrd", "initrd", NULL},
	{"--module", "module", NULL},	{"--append", "append", NULL},
	{"--cpus", "cpus", NULL},	{"--memory", "memory", NULL},
	{"--cpu", "cpu", NULL},		{"--irqchip", "irqchip", NULL},
	{"--device", "device", NULL},	{"--serial", NULL, NULL},
	{"--no-pit", "pit", "false"},	{"--no-pic", "pic", "false"},
	{"--no-rtc", "rtc", "false"},
};

/*
 * The front end's 'splitvm run' line onto the entry. What the entry
 * refuses is what 'splitvm run' would refuse before the kernel is
 * opened: run_tests.sh's premature-failure probe then SKIPs the entry
 * with the front end's line, and so does this.
 */
static bool apply_run_argv(struct kut *k, struct suite_entry *e,
			   const struct qemu_args *q)
{
	char err[400];

	for (int i = 1; i < q->run_argc; i++) {
		size_t j = 0;

		while (j < sizeof(run_options) / sizeof(run_options[0]) &&
		       strcmp(run_options[j].option, q->run_argv[i]))
			j++;
		if (j == sizeof(run_options) / sizeof(run_options[0]))
			return kut_fail(k, e->line,
					"[%s]: the front end gave '%s', which "
					"this reader does not know",
					e->name, q->run_argv[i]);
		if (!run_options[j].value && ++i == q->run_argc)
			return kut_fail(k, e->line, "[%s]: %s without a value",
					e->name, q->run_argv[i - 1]);
		if (run_options[j].key &&
		    manifest_entry_set(e, run_options[j].key,
				       run_options[j].value
					       ? run_options[j].value
					       : q->run_argv[i],
				       err, sizeof(err)))
			return prejudge(k, e, SUITE_SKIP, "splitvm: --%s", err);
	}
	return true;
}

/* x86/run's QEMU command line for the entry, then its translation. */
static bool translate(struct kut *k, struct suite_entry *e,
		      const struct kut_raw *r, const char *kernel)
{
	const char *accel = getenv("ACCEL");
	char *machine = NULL, *line = NULL, why[240];
	struct words argv = {.v = NULL};
	struct qemu_args q;
	bool ok = false;
	int err;

	/* x86/run: run_tests.sh's ACCEL (kvm when unset) and its props. */
	if (asprintf(&machine, "accel=%s", accel && *accel ? accel : "kvm") < 0)
		machine = NULL;
	/* common.bash: "-smp N", "-append ARGS" and the parameters, one
	 * string that the runner's eval splits. */
	if (asprintf(&line, "-smp %s%s%s %s", r->smp ? r->smp : "1",
		     r->test_args ? " -append " : "",
		     r->test_args ? r->test_args : "",
		     r->params ? r->params : "") < 0)
		line = NULL;
	static const char *const fixed[] = {
		"qemu-system-x86_64", "--no-reboot", "-nodefaults", "-global",
		"kvm-pit.lost_tick_policy=discard", "-device", "pc-testdev",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x4", "-display",
		"none", "-serial", "stdio", "-device", "pci-testdev",
		"-machine"};
	for (size_t i = 0; machine && i < sizeof(fixed) / sizeof(fixed[0]);
	     i++)
		if (!words_add(&argv, fixed[i], strlen(fixed[i])))
			goto nomem;
	if (!machine || !line || !words_add(&argv, machine, strlen(machine)) ||
	    !words_add(&argv, "-kernel", 7) ||
	    !words_add(&argv, kernel, strlen(kernel)))
		goto nomem;
	err = shell_words(line, &argv, why, sizeof(why));
	if (err == -ENOMEM)
		goto nomem;
	if (err) {
		ok = prejudge(k, e, SUITE_REFUSED, "%s", why);
		goto out;
	}
	err = qemu_args_parse((int)argv.n, argv.v, &q);
	if (err == -ENOMEM) {
		qemu_args_free(&q);
		goto nomem;
	}
	if (err)
		ok = prejudge(k, e, SUITE_SKIP,
			      "splitvm: %s (see 'splitvm qemu -help')",
			      q.error);
	else if (q.action != QEMU_ACTION_RUN)
		ok = prejudge(k, e, SUITE_SKIP,
			      "the parameters ask QEMU for help, not a run");
	else
		ok = apply_run_argv(k, e, &q);
	qemu_args_free(&q);
	goto out;
nomem:
	ok = kut_fail(k, 0, "%s", strerror(ENOMEM));
out:
	words_free(&argv);
	free(line);
	free(machine);
	return ok;
}

/* One section, as runtime.bash's run() takes it. */
static bool make_entry(struct kut *k, const struct kut_raw *r)
{
	const char *timeout = getenv("TIMEOUT");
	char *kernel = NULL, *kernel_rel = NULL, err[400];
	struct suite_entry *e;
	bool ok;

	/* run(): an empty name is no test; x86 names are file names. */
	if (!*r->name)
		return true;
	if (!suite_valid_name(r->name, strlen(r->name)))
		return kut_fail(k, r->line,
				"[%.80s]: a name is 1 to %d letters, digits, "
				"'_', '.', '+' or '-', not starting with '.' "
				"or '-'",
				r->name, SUITE_NAME_MAX);
	if (suite_find(k->s, r->name))
		return kut_fail(k, r->line, "[%s] is there twice", r->name);
	e = suite_add(k->s, r->name);
	if (!e || !(e->file = strdup(k->cfg)))
		return kut_fail(k, r->line, "%s", strerror(ENOMEM));
	e->line = r->line;
	e->judging = SUITE_JUDGE_KUT;
	e->expect.outcomes = 1u << SPLITVM_OUTCOME_EXIT;
	e->expect.exit_code_set = true;
	if (r->groups && manifest_entry_set(e, "groups", r->groups, err,
					    sizeof(err)))
		return kut_fail(k, r->line, "[%s]: %s", r->name, err);
	/* runtime.bash: TIMEOUT from the environment first. */
	if (!timeout || !*timeout)
		timeout = r->timeout && *r->timeout ? r->timeout
						    : KUT_DEFAULT_TIMEOUT;
	e->timeout_text = strdup(timeout);
	if (!e->timeout_text)
		return kut_fail(k, r->line, "%s", strerror(ENOMEM));
	if (!parse_duration(timeout, &e->timeout_ms))
		/* timeout(1) refuses it: status 125, a FAIL. */
		return prejudge(k, e, SUITE_REFUSED,
				"timeout: invalid time interval '%s'", timeout);
	if (!e->timeout_ms) /* timeout 0: none (x86/run adds no timeout) */
		e->timeout_ms = UINT64_MAX / 2000000;
	if (asprintf(&kernel_rel, "x86/%s", r->file ? r->file : "") < 0 ||
	    asprintf(&kernel, "%s/%s", k->dir, kernel_rel) < 0) {
		free(kernel_rel);
		return kut_fail(k, r->line, "%s", strerror(ENOMEM));
	}
	ok = skip_before_run(k, e, r, kernel_rel, kernel);
	if (ok && e->prejudged == SUITE_RUN)
		ok = translate(k, e, r, kernel);
	free(kernel);
	free(kernel_rel);
	return ok;
}

/* A value of the line as common.bash's "^key *= *(.*)$" takes it. */
static const char *value_of(const char *line, const char *key)
{
	size_t len = strlen(key);

	if (strncmp(line, key, len))
		return NULL;
	line += len;
	line += strspn(line, " ");
	if (*line != '=')
		return NULL;
	line++;
	return line + strspn(line, " ");
}

static bool set_field(struct kut *k, char **field, const char *value)
{
	free(*field);
	*field = strdup(value);
	return *field || kut_fail(k, k->line, "%s", strerror(ENOMEM));
}

/* The bytes of a line less the blanks 'read' strips at either end. */
static char *trim(char *s)
{
	size_t len;

	s += strspn(s, " \t\n");
	len = strlen(s);
	while (len && strchr(" \t\n", s[len - 1]))
		s[--len] = 0;
	return s;
}

/*
 * extra_params = """...""": the lines up to the one holding """, each
 * line's end kept as a newline unless escaped by a backslash, as
 * common.bash joins them.
 */
static bool read_multiline(struct kut *k, struct kut_raw *r, const char *first)
{
	struct buf b = {.p = NULL};
	char *line = NULL;
	size_t cap = 0;
	bool ok = buf_add(&b, first, strlen(first)) && buf_add(&b, "\n", 1);
	unsigned int start = k->line;

	while (ok) {
		ssize_t n = getline(&line, &cap, k->f);
		char *end;

		if (n < 0) {
			ok = kut_fail(k, start, "a \"\"\" without its end");
			break;
		}
		k->line++;
		if (n && line[n - 1] == '\n')
			line[--n] = 0;
		/* a backslash-newline joins the lines */
		if (b.len >= 2 && b.p[b.len - 1] == '\n' &&
		    b.p[b.len - 2] == '\\') {
			size_t bs = 0;

			while (bs + 1 < b.len && b.p[b.len - 2 - bs] == '\\')
				bs++;
			if (bs % 2)
				b.p[b.len -= 2] = 0;
		}
		end = strstr(line, "\"\"\"");
		if (end) {
			ok = buf_add(&b, line, (size_t)(end - line));
			break;
		}
		ok = buf_add(&b, line, (size_t)n) && buf_add(&b, "\n", 1);
	}
	free(line);
	if (ok && !b.p)
		ok = kut_fail(k, start, "%s", strerror(ENOMEM));
	if (ok) {
		free(r->params);
		r->params = b.p;
		return true;
	}
	free(b.p);
	return ok || kut_fail(k, start, "%s", strerror(ENOMEM));
}

/* One line of the configuration (for_each_unittest's cases). */
static bool read_line(struct kut *k, struct kut_raw *r, char *raw)
{
	static const struct {
		const char *key;
		size_t offset;
	} keys[] = {
		{"file", offsetof(struct kut_raw, file)},
		{"smp", offsetof(struct kut_raw, smp)},
		{"test_args", offsetof(struct kut_raw, test_args)},
		{"groups", offsetof(struct kut_raw, groups)},
		{"arch", offsetof(struct kut_raw, arch)},
		{"machine", offsetof(struct kut_raw, machine)},
		{"check", offsetof(struct kut_raw, check)},
		{"disabled_if", offsetof(struct kut_raw, disabled_if)},
		{"accel", offsetof(struct kut_raw, accel)},
		{"timeout", offsetof(struct kut_raw, timeout)},
	};
	char *line = trim(raw);
	size_t len = strlen(line);
	const char *v;

	if (line[0] == '[' && len >= 2 && line[len - 1] == ']') {
		if (r->name && !make_entry(k, r))
			return false;
		raw_clear(r);
		r->line = k->line;
		line[len - 1] = 0;
		return set_field(k, &r->name, line + 1);
	}
	if (!r->name)
		return true; /* before the first section: not a test's */
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((v = value_of(line, keys[i].key)))
			return set_field(k, (char **)((char *)r +
						      keys[i].offset),
					 v);
	if ((v = value_of(line, "extra_params")) ||
	    (v = value_of(line, "qemu_params"))) {
		if (!strncmp(v, "\"\"\"", 3))
			return read_multiline(k, r, v + 3);
		return set_field(k, &r->params, v);
	}
	return true;
}

/* The configuration, line by line, each section an entry at its end. */
static void read_cfg(struct kut *k)
{
	struct kut_raw r = {.name = NULL};
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while (!k->failed && (n = getline(&line, &cap, k->f)) >= 0) {
		k->line++;
		if (memchr(line, 0, (size_t)n)) {
			kut_fail(k, k->line, "a NUL byte");
			break;
		}
		read_line(k, &r, line);
	}
	if (!k->failed && ferror(k->f))
		kut_fail(k, 0, "%s: reading failed: %s", k->cfg,
			 strerror(EIO));
	if (!k->failed && r.name)
		make_entry(k, &r);
	raw_clear(&r);
	free(line);
}

/* config.mak's ARCH: what "arch = x86_64" is compared with. */
static bool read_config_mak(struct kut *k)
{
	char *path = NULL, *line = NULL;
	size_t cap = 0;
	FILE *f;

	if (asprintf(&path, "%s/config.mak", k->dir) < 0)
		return kut_fail(k, 0, "%s", strerror(ENOMEM));
	f = fopen(path, "re");
	free(path);
	if (!f)
		return kut_fail(k, 0,
				"%s is not configured (no config.mak): run "
				"'./configure && make' in it",
				k->dir);
	while (getline(&line, &cap, f) >= 0)
		if (!strncmp(line, "ARCH=", 5))
			snprintf(k->arch, sizeof(k->arch), "%s",
				 trim(line + 5));
	free(line);
	fclose(f);
	if (!k->arch[0])
		return kut_fail(k, 0, "%s/config.mak has no ARCH=", k->dir);
	return true;
}

/* A tree whose x86 test kernels are built; says what is missing. */
static bool check_tree(struct kut *k)
{
	struct stat st;
	glob_t g;
	char *pattern;
	int r;

	if (stat(k->dir, &st))
		return kut_fail(k, 0, "--kvm-unit-tests '%s': %s", k->dir,
				strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return kut_fail(k, 0, "--kvm-unit-tests '%s': %s", k->dir,
				strerror(ENOTDIR));
	if (stat(k->cfg, &st) || !S_ISREG(st.st_mode))
		return kut_fail(k, 0,
				"%s is not a kvm-unit-tests tree (no "
				"x86/unittests.cfg)",
				k->dir);
	if (!read_config_mak(k))
		return false;
	if (asprintf(&pattern, "%s/x86/*.flat", k->dir) < 0)
		return kut_fail(k, 0, "%s", strerror(ENOMEM));
	r = glob(pattern, GLOB_NOSORT, NULL, &g);
	free(pattern);
	if (r == 0)
		globfree(&g);
	if (r == GLOB_NOSPACE)
		return kut_fail(k, 0, "%s", strerror(ENOMEM));
	if (r)
		return kut_fail(k, 0,
				"%s is not built (no x86/*.flat): run 'make' "
				"in it",
				k->dir);
	return true;
}

int kut_read(const char *dir, bool groups_given, struct suite *s, char *err,
	     size_t err_size)
{
	struct kut k = {.dir = dir, .groups_given = groups_given, .s = s};
	size_t before = s->n;

	if (asprintf(&k.cfg, "%s/x86/unittests.cfg", dir) < 0) {
		k.cfg = NULL;
		kut_fail(&k, 0, "%s", strerror(ENOMEM));
	} else if (check_tree(&k)) {
		k.f = fopen(k.cfg, "re");
		if (!k.f)
			kut_fail(&k, 0, "%s: %s", k.cfg, strerror(errno));
		else
			read_cfg(&k);
	}
	if (!k.failed && s->n == before)
		kut_fail(&k, 0, "%s: no entries", k.cfg);
	if (k.f)
		fclose(k.f);
	free(k.cfg);
	if (k.failed)
		snprintf(err, err_size, "%s", k.err);
	return k.failed ? -1 : 0;
}

/*
 * runtime.bash's extract_summary: "SUMMARY: ..." among the last five
 * lines the guest printed (the monitor's "splitvm: " lines in the log
 * are not the guest's), its CR removed. NULL when there is none.
 */
static char *extract_summary(const char *console)
{
	const char *lines[5] = {NULL};
	size_t lens[5] = {0}, n = 0;
	struct buf b = {.p = NULL};

	for (const char *p = console; *p;) {
		size_t len = strcspn(p, "\n");

		if (strncmp(p, "splitvm: ", 9)) {
			lines[n % 5] = p;
			lens[n % 5] = len;
			n++;
		}
		p += len + (p[len] == '\n');
	}
	for (size_t i = n > 5 ? n - 5 : 0; i < n; i++) {
		const char *l = lines[i % 5];
		size_t len = lens[i % 5];

		if (len < 9 || strncmp(l, "SUMMARY: ", 9))
			continue;
		if (l[len - 1] == '\r')
			len--;
		if ((b.len && !buf_add(&b, ") (", 3)) ||
		    !buf_add(&b, l + 9, len - 9))
			break;
	}
	return b.p;
}

enum report_verdict kut_judge(const struct suite_entry *e,
			      const struct splitvm_result *res,
			      const char *console, bool monitor_error,
			      char **ret_summary)
{
	int ret = status_of(res);
	char *summary = extract_summary(console);
	const char *sig;

	*ret_summary = NULL;
	/* x86/run passes --no-reboot: a reset or a triple fault ends QEMU
	 * with 0. timeout(1) ends the run with 124. */
	if (res->outcome == SPLITVM_OUTCOME_RESET ||
	    res->outcome == SPLITVM_OUTCOME_TRIPLE_FAULT)
		ret = EXIT_POWEROFF;
	/* vmm.bash's qemu_fixup_return_code: 0 (no debug-exit) is an
	 * error; 1 is success unless stderr said more than warnings. */
	if (ret == 0)
		ret = 1;
	else if (ret == 1 && !monitor_error)
		ret = 0;
	/* runtime.bash's verdicts */
	if (ret == 0 || ret == 77) {
		*ret_summary = summary;
		return ret ? REPORT_SKIP : REPORT_PASS;
	}
	free(summary);
	summary = NULL;
	if (ret == EXIT_TIMEOUT) {
		if (asprintf(&summary, "timeout; duration=%s",
			     e->timeout_text ? e->timeout_text : "") < 0)
			summary = NULL;
	} else if (ret > 127) {
		sig = sigabbrev_np(ret - 128);
		if (asprintf(&summary, "terminated on SIG%s",
			     sig ? sig : "?") < 0)
			summary = NULL;
	} else {
		summary = extract_summary(console);
	}
	*ret_summary = summary;
	return REPORT_FAIL;
}
