// SPDX-License-Identifier: MIT
/*
 * Reads a suite manifest (manifest.h) in two passes. The first, libinih's
 * parse, collects each section's keys as they are written, with their
 * line numbers; the second checks every value of every entry, taking
 * what an entry leaves out from [defaults], and says at which line a
 * value is wrong. libinih reports only the line of a syntax error and
 * never sees section headers (nor empty sections, nor a section given
 * twice, which it would merge): the line reader it is given counts lines
 * and notes the headers itself.
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "manifest.h"
#include "values.h"

/* One "key = value" as written. */
struct raw_value {
	const char *key; /* one of keys[]'s names */
	char *value;
	unsigned int line;
};

/* One [section] as written. */
struct raw_section {
	char *name;
	unsigned int line;
	struct raw_value *values;
	size_t n_values;
};

struct manifest {
	const char *path;
	char *dir;	/* the manifest's directory, for relative paths */
	FILE *f;
	unsigned int line; /* lines read so far: the one being parsed */
	struct raw_section *sections;
	size_t n_sections;
	/* A scratch configuration on which values the library judges
	 * (memory, --cpu) are tried, and what its log said. */
	struct splitvm_config *scratch;
	char scratch_error[200];
	/* The first problem found, and its line (0: the file as such). */
	bool failed;
	unsigned int err_line;
	char err[400];
};

static bool fail(struct manifest *m, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Notes the first problem; later ones follow from it and are not said. */
static bool fail(struct manifest *m, unsigned int line, const char *fmt, ...)
{
	va_list ap;

	if (m->failed)
		return false;
	m->failed = true;
	m->err_line = line;
	va_start(ap, fmt);
	vsnprintf(m->err, sizeof(m->err), fmt, ap);
	va_end(ap);
	return false;
}

/* A "[name]" line: a new section, unless the name is taken or invalid. */
static bool open_section(struct manifest *m, const char *name, size_t len)
{
	struct raw_section *grown, *sec;

	if (!suite_valid_name(name, len))
		return fail(m, m->line,
			    "[%.*s]: a name is 1 to %d letters, digits, '_', "
			    "'.', '+' or '-', not starting with '.' or '-'",
			    (int)(len > 80 ? 80 : len), name, SUITE_NAME_MAX);
	for (size_t i = 0; i < m->n_sections; i++)
		if (strlen(m->sections[i].name) == len &&
		    !memcmp(m->sections[i].name, name, len))
			return fail(m, m->line,
				    "[%.*s] is there twice (first at line %u)",
				    (int)len, name, m->sections[i].line);
	grown = realloc(m->sections, (m->n_sections + 1) * sizeof(*grown));
	if (!grown)
		return fail(m, m->line, "%s", strerror(ENOMEM));
	m->sections = grown;
	sec = &m->sections[m->n_sections];
	*sec = (struct raw_section){.name = strndup(name, len),
				    .line = m->line};
	if (!sec->name)
		return fail(m, m->line, "%s", strerror(ENOMEM));
	m->n_sections++;
	return true;
}

/*
 * What the reader sees of a line before libinih does: section headers,
 * and the forms libinih would take in a way the manifest does not mean
 * (an indented line continues the previous value there).
 */
static bool look_at_line(struct manifest *m, char *str)
{
	char *p = str;
	char *close;

	if (m->line == 1 && !strncmp(p, "\xef\xbb\xbf", 3))
		p += 3; /* a UTF-8 byte order mark, as libinih skips */
	if (isspace((unsigned char)*p) && *p != '\n') {
		while (isspace((unsigned char)*p))
			p++;
		if (*p && *p != ';' && *p != '#')
			return fail(m, m->line,
				    "an indented line: continuation lines "
				    "are not taken, write the value on one "
				    "line");
		return true;
	}
	if (*p != '[')
		return true;
	close = strchr(p, ']');
	if (!close)
		return fail(m, m->line, "'[' without ']'");
	return open_section(m, p + 1, (size_t)(close - p - 1));
}

/*
 * libinih's line reader, as fgets() but strict: a line longer than
 * libinih's buffer (it would split it in two and read the rest as a
 * line of its own) or holding a NUL byte ends the parse with an error.
 */
static char *read_line(char *str, int num, void *stream)
{
	struct manifest *m = stream;
	int c = EOF, len = 0;

	if (m->failed)
		return NULL;
	while (len < num - 1 && (c = getc(m->f)) != EOF) {
		if (c == 0) {
			fail(m, m->line + 1, "a NUL byte");
			return NULL;
		}
		str[len++] = (char)c;
		if (c == '\n')
			break;
	}
	if (len == 0)
		return NULL;
	str[len] = 0;
	m->line++;
	if (c != '\n' && len == num - 1) {
		c = getc(m->f);
		if (c != EOF && c != '\n') {
			fail(m, m->line, "a line longer than %d bytes",
			     num - 2);
			return NULL;
		}
	}
	return look_at_line(m, str) ? str : NULL;
}

static const char *known_key(const char *name);

/*
 * "append += more": libinih takes lines of up to 200 bytes (Debian builds
 * it with INI_MAX_LINE 200), and continuation lines are refused here, so
 * a long command line is written in pieces, joined with one space.
 */
static bool extend_value(struct manifest *m, struct raw_section *sec,
			 const char *key, const char *more)
{
	for (size_t i = 0; i < sec->n_values; i++) {
		struct raw_value *v = &sec->values[i];
		char *joined;

		if (v->key != key)
			continue;
		if (asprintf(&joined, "%s%s%s", v->value, *v->value ? " " : "",
			     more) < 0)
			return fail(m, m->line, "%s", strerror(ENOMEM));
		free(v->value);
		v->value = joined;
		return true;
	}
	return false;
}

/* libinih's handler: one "key = value" of the current section. */
static int take_value(void *user, const char *section, const char *name,
		      const char *value)
{
	struct manifest *m = user;
	struct raw_section *sec;
	struct raw_value *grown;
	size_t len = strlen(name);
	/* libinih reads "append += x" as the key "append +". */
	bool extend = len && name[len - 1] == '+';
	char base[32];
	const char *key;

	if (extend) {
		len--;
		while (len && isspace((unsigned char)name[len - 1]))
			len--;
	}
	snprintf(base, sizeof(base), "%.*s", (int)len, name);
	key = len < sizeof(base) ? known_key(base) : NULL;
	if (m->failed)
		return 1; /* said already */
	if (!m->n_sections || strcmp(section, m->sections[m->n_sections - 1].name))
		return fail(m, m->line, "'%s' outside any [section]", name);
	sec = &m->sections[m->n_sections - 1];
	if (!key)
		return fail(m, m->line, "unknown key '%s' in [%s]", name,
			    section);
	if (extend && strcmp(key, "append"))
		return fail(m, m->line,
			    "'%s +=': only append takes += (in [%s])", key,
			    section);
	if (extend && (extend_value(m, sec, key, value) || m->failed))
		return !m->failed;
	for (size_t i = 0; !extend && i < sec->n_values; i++)
		if (sec->values[i].key == key && strcmp(key, "module"))
			return fail(m, m->line,
				    "'%s' is given twice in [%s] (first at "
				    "line %u)",
				    key, section, sec->values[i].line);
	grown = realloc(sec->values, (sec->n_values + 1) * sizeof(*grown));
	if (!grown)
		return fail(m, m->line, "%s", strerror(ENOMEM));
	sec->values = grown;
	grown[sec->n_values] = (struct raw_value){
		.key = key, .value = strdup(value), .line = m->line};
	if (!grown[sec->n_values].value)
		return fail(m, m->line, "%s", strerror(ENOMEM));
	sec->n_values++;
	return 1;
}

static const struct raw_section *find_section(const struct manifest *m,
					      const char *name)
{
	for (size_t i = 0; i < m->n_sections; i++)
		if (!strcmp(m->sections[i].name, name))
			return &m->sections[i];
	return NULL;
}

/* The n-th value of key in sec (module may come several times). */
static const struct raw_value *find_value(const struct raw_section *sec,
					  const char *key, size_t n)
{
	for (size_t i = 0; sec && i < sec->n_values; i++)
		if (!strcmp(sec->values[i].key, key) && n-- == 0)
			return &sec->values[i];
	return NULL;
}

/* The section that gives key to entry sec: itself, else [defaults]. */
static const struct raw_section *
giver(const struct raw_section *sec, const struct raw_section *defaults,
      const char *key)
{
	return find_value(sec, key, 0) ? sec : defaults;
}

/* A path in the manifest, relative to its directory unless absolute. */
static char *resolve(const struct manifest *m, const char *path)
{
	char *s;

	if (path[0] == '/' || !strcmp(m->dir, "."))
		return strdup(path);
	return asprintf(&s, "%s/%s", m->dir, path) < 0 ? NULL : s;
}

/*
 * A file the entry boots: it must be there now. Whether it is a kernel
 * is for the VM to find: that is the entry's failure, not bad input.
 */
static bool take_file(struct manifest *m, const struct raw_value *v,
		      char **ret)
{
	struct stat st;

	if (!*v->value)
		return fail(m, v->line, "%s: no file given", v->key);
	*ret = resolve(m, v->value);
	if (!*ret)
		return fail(m, v->line, "%s", strerror(ENOMEM));
	if (stat(*ret, &st))
		return fail(m, v->line, "%s '%s': %s", v->key, *ret,
			    strerror(errno));
	if (S_ISDIR(st.st_mode))
		return fail(m, v->line, "%s '%s': %s", v->key, *ret,
			    strerror(EISDIR));
	return true;
}

/* Splits a list ("a b", "a, b") into its words, appended to *list. */
static bool take_words(struct manifest *m, const struct raw_value *v,
		       bool names, char ***list, size_t *n)
{
	const char *p = v->value;

	while (*p) {
		size_t len = strcspn(p, " \t,");
		char **grown;

		if (len == 0) {
			p++;
			continue;
		}
		if (names && !suite_valid_name(p, len))
			return fail(m, v->line,
				    "%s: '%.*s' is not a name (letters, "
				    "digits, '_', '.', '+', '-')",
				    v->key, (int)(len > 80 ? 80 : len), p);
		grown = realloc(*list, (*n + 1) * sizeof(*grown));
		if (!grown)
			return fail(m, v->line, "%s", strerror(ENOMEM));
		*list = grown;
		grown[*n] = strndup(p, len);
		if (!grown[*n])
			return fail(m, v->line, "%s", strerror(ENOMEM));
		(*n)++;
		p += len;
	}
	return true;
}

static void capture_log(void *userdata, enum splitvm_log_level level,
			const char *message)
{
	struct manifest *m = userdata;

	if (level == SPLITVM_LOG_ERROR && !m->scratch_error[0])
		snprintf(m->scratch_error, sizeof(m->scratch_error), "%s",
			 message);
}

/* The library judges memory sizes and --cpu specs: a scratch config. */
static struct splitvm_config *scratch(struct manifest *m)
{
	if (!m->scratch && !splitvm_config_new(&m->scratch))
		splitvm_config_set_log_handler(m->scratch, capture_log, m,
					       SPLITVM_LOG_ERROR);
	m->scratch_error[0] = 0;
	return m->scratch;
}

/* expect-exit: a code the guest writes, decimal or 0x hexadecimal. */
static bool parse_code(const char *s, uint32_t *ret)
{
	unsigned long long v;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isxdigit((unsigned char)s[2])) {
		errno = 0;
		v = strtoull(s + 2, &end, 16);
		if (errno || *end || v > UINT32_MAX)
			return false;
	} else if (!parse_uint(s, 0, UINT32_MAX, &v)) {
		return false;
	}
	*ret = (uint32_t)v;
	return true;
}

static bool parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i]) || !strcasecmp(s, no[i])) {
			*ret = !strcasecmp(s, yes[i]);
			return true;
		}
	}
	return false;
}

/* expect = NAME...: outcome names of splitvm_outcome_name(), or any. */
static bool parse_outcomes(const char *s, unsigned int *ret_mask)
{
	*ret_mask = 0;
	while (*s) {
		size_t len = strcspn(s, " \t,");
		bool known = false;

		if (len == 3 && !strncmp(s, "any", 3)) {
			*ret_mask |= SUITE_ANY_OUTCOME;
			known = true;
		}
		for (int o = SPLITVM_OUTCOME_EXIT;
		     !known && o <= SPLITVM_OUTCOME_ERROR; o++) {
			const char *name =
				splitvm_outcome_name((enum splitvm_outcome)o);

			if (strlen(name) == len && !strncmp(s, name, len)) {
				*ret_mask |= 1u << o;
				known = true;
			}
		}
		if (len && !known)
			return false;
		s += len;
		s += strspn(s, " \t,");
	}
	return *ret_mask != 0;
}

/* A key's value for an entry: checked, then stored in e. */
typedef bool (*take_fn)(struct manifest *m, struct suite_entry *e,
			const struct raw_value *v);

static bool take_kernel(struct manifest *m, struct suite_entry *e,
			const struct raw_value *v)
{
	return take_file(m, v, &e->kernel);
}

static bool take_initrd(struct manifest *m, struct suite_entry *e,
			const struct raw_value *v)
{
	return take_file(m, v, &e->initrd);
}

static bool take_restore(struct manifest *m, struct suite_entry *e,
			 const struct raw_value *v)
{
	return take_file(m, v, &e->restore);
}

/* module: each word a file, each of the key's lines in turn. */
static bool take_module(struct manifest *m, struct suite_entry *e,
			const struct raw_value *v)
{
	size_t first = e->n_modules;

	if (!take_words(m, v, false, &e->modules, &e->n_modules))
		return false;
	for (size_t j = first; j < e->n_modules; j++) {
		struct raw_value one = {.key = v->key, .value = e->modules[j],
					.line = v->line};
		char *path = NULL;
		bool ok = take_file(m, &one, &path);

		free(e->modules[j]);
		e->modules[j] = path;
		if (!ok)
			return false;
	}
	return true;
}

static bool take_append(struct manifest *m, struct suite_entry *e,
			const struct raw_value *v)
{
	if (strlen(v->value) > 4095)
		return fail(m, v->line, "append: longer than 4095 bytes");
	return (e->append = strdup(v->value)) ||
	       fail(m, v->line, "%s", strerror(ENOMEM));
}

static bool take_cpus(struct manifest *m, struct suite_entry *e,
		      const struct raw_value *v)
{
	unsigned long long n;

	if (!parse_uint(v->value, 1, 255, &n))
		return fail(m, v->line,
			    "cpus: '%s' is not a number from 1 to 255",
			    v->value);
	e->cpus = (unsigned int)n;
	return true;
}

static bool take_memory(struct manifest *m, struct suite_entry *e,
			const struct raw_value *v)
{
	struct splitvm_config *cfg = scratch(m);

	if (!cfg)
		return fail(m, v->line, "%s", strerror(ENOMEM));
	if (!parse_size(v->value, &e->memory) ||
	    splitvm_config_set_memory(cfg, e->memory))
		return fail(m, v->line,
			    "memory: '%s' is not a size from 2M to 1T in "
			    "whole pages",
			    v->value);
	return true;
}

/* cpu: the library says what is wrong with a spec, in its log. */
static bool take_cpu(struct manifest *m, struct suite_entry *e,
		     const struct raw_value *v)
{
	struct splitvm_config *cfg = scratch(m);
	const char *why = m->scratch_error;

	if (!cfg)
		return fail(m, v->line, "%s", strerror(ENOMEM));
	if (splitvm_config_set_cpu(cfg, v->value)) {
		/* The library's line names its subsystem: one "cpu" is
		 * enough. */
		if (!strncmp(why, "cpu: ", 5))
			why += 5;
		return fail(m, v->line, "cpu '%s': %s", v->value,
			    *why ? why
				 : "not a CPU model and flags splitvm has");
	}
	return (e->cpu = strdup(v->value)) ||
	       fail(m, v->line, "%s", strerror(ENOMEM));
}

static bool take_irqchip(struct manifest *m, struct suite_entry *e,
			 const struct raw_value *v)
{
	if (strcmp(v->value, "split") && strcmp(v->value, "kernel"))
		return fail(m, v->line, "irqchip: '%s' is not split or kernel",
			    v->value);
	e->irqchip = !strcmp(v->value, "kernel") ? SPLITVM_IRQCHIP_KERNEL
						 : SPLITVM_IRQCHIP_SPLIT;
	return true;
}

static bool take_ioapic_pins(struct manifest *m, struct suite_entry *e,
			     const struct raw_value *v)
{
	unsigned long long n;

	if (!parse_uint(v->value, 1, 120, &n))
		return fail(m, v->line,
			    "ioapic-pins: '%s' is not a number from 1 to 120",
			    v->value);
	e->ioapic_pins = (unsigned int)n;
	return true;
}

static bool take_ioapic_version(struct manifest *m, struct suite_entry *e,
				const struct raw_value *v)
{
	if (strcmp(v->value, "0x20") && strcmp(v->value, "0x11"))
		return fail(m, v->line,
			    "ioapic-version: '%s' is not 0x20 or 0x11",
			    v->value);
	e->ioapic_version = (unsigned int)strtoul(v->value, NULL, 16);
	return true;
}

/* pit, pic, rtc = true|false: the chips --no-pit and co. remove. */
static bool take_chip(struct manifest *m, struct suite_entry *e,
		      const struct raw_value *v)
{
	bool on;

	if (!parse_bool(v->value, &on))
		return fail(m, v->line, "%s: '%s' is not true or false",
			    v->key, v->value);
	if (!on)
		e->no_chips |= !strcmp(v->key, "pit")	? SUITE_NO_PIT
			       : !strcmp(v->key, "pic") ? SUITE_NO_PIC
							: SUITE_NO_RTC;
	return true;
}

/* device: PCI models, tried together on a fresh scratch configuration. */
static bool take_device(struct manifest *m, struct suite_entry *e,
			const struct raw_value *v)
{
	struct splitvm_config *cfg;

	if (!take_words(m, v, true, &e->devices, &e->n_devices))
		return false;
	splitvm_config_free(m->scratch);
	m->scratch = NULL;
	cfg = scratch(m);
	if (!cfg)
		return fail(m, v->line, "%s", strerror(ENOMEM));
	for (size_t i = 0; i < e->n_devices; i++) {
		int r = splitvm_config_add_pci_device(cfg, e->devices[i]);

		if (r == -EEXIST)
			return fail(m, v->line, "device '%s' is there twice",
				    e->devices[i]);
		if (r)
			return fail(m, v->line,
				    "device '%s': not a device splitvm has "
				    "(edu, pci-testdev)",
				    e->devices[i]);
	}
	return true;
}

static bool take_timeout(struct manifest *m, struct suite_entry *e,
			 const struct raw_value *v)
{
	if (!parse_seconds(v->value, &e->timeout_ms))
		return fail(m, v->line,
			    "timeout: '%s' is not a positive number of seconds",
			    v->value);
	return true;
}

static bool take_groups(struct manifest *m, struct suite_entry *e,
			const struct raw_value *v)
{
	return take_words(m, v, true, &e->groups, &e->n_groups);
}

static bool take_allow_fail(struct manifest *m, struct suite_entry *e,
			    const struct raw_value *v)
{
	if (!parse_bool(v->value, &e->allow_fail))
		return fail(m, v->line, "allow-fail: '%s' is not true or false",
			    v->value);
	return true;
}

static bool take_expect(struct manifest *m, struct suite_entry *e,
			const struct raw_value *v)
{
	if (!parse_outcomes(v->value, &e->expect.outcomes))
		return fail(m, v->line,
			    "expect: '%s' is not outcomes among exit, "
			    "poweroff, reset, triple-fault, "
			    "emulation-failure, entry-failure, crash, "
			    "timeout, error, or any",
			    v->value);
	return true;
}

/* expect-exit: the code, and the run must end by debug-exit for it. */
static bool take_expect_exit(struct manifest *m, struct suite_entry *e,
			     const struct raw_value *v)
{
	if (!parse_code(v->value, &e->expect.exit_code))
		return fail(m, v->line,
			    "expect-exit: '%s' is not a number from 0 to "
			    "0xffffffff",
			    v->value);
	e->expect.exit_code_set = true;
	return true;
}

static bool take_expect_console(struct manifest *m, struct suite_entry *e,
				const struct raw_value *v)
{
	struct suite_expect *x = &e->expect;
	int r = regcomp(&x->console_re, v->value,
			REG_EXTENDED | REG_NEWLINE | REG_NOSUB);

	if (r) {
		char why[160];

		regerror(r, &x->console_re, why, sizeof(why));
		return fail(m, v->line, "expect-console: /%s/: %s", v->value,
			    why);
	}
	x->console = strdup(v->value);
	if (!x->console) {
		regfree(&x->console_re);
		return fail(m, v->line, "%s", strerror(ENOMEM));
	}
	return true;
}

/* The keys an entry (or [defaults]) takes, in the order they are
 * checked: expect before expect-exit, which depends on it. */
static const struct key {
	const char *name;
	take_fn take;
} keys[] = {
	{"kernel", take_kernel},
	{"initrd", take_initrd},
	{"restore", take_restore},
	{"module", take_module},
	{"append", take_append},
	{"cpus", take_cpus},
	{"memory", take_memory},
	{"cpu", take_cpu},
	{"irqchip", take_irqchip},
	{"ioapic-pins", take_ioapic_pins},
	{"ioapic-version", take_ioapic_version},
	{"pit", take_chip},
	{"pic", take_chip},
	{"rtc", take_chip},
	{"device", take_device},
	{"timeout", take_timeout},
	{"groups", take_groups},
	{"allow-fail", take_allow_fail},
	{"expect", take_expect},
	{"expect-exit", take_expect_exit},
	{"expect-console", take_expect_console},
};

/* The value of key for entry sec, or [defaults]'s, or NULL. */
static const struct raw_value *value_of(const struct raw_section *sec,
					const struct raw_section *defaults,
					const char *key)
{
	return find_value(giver(sec, defaults, key), key, 0);
}

static const char *known_key(const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].name, name))
			return keys[i].name;
	return NULL;
}

/* Second pass: one entry from its section and [defaults]. */
static bool make_entry(struct manifest *m, struct suite *s,
		       const struct raw_section *sec,
		       const struct raw_section *defaults)
{
	const struct raw_value *v;
	struct suite_entry *e;
	struct suite_expect *x;

	if (suite_find(s, sec->name))
		return fail(m, sec->line, "[%s]: another manifest has it",
			    sec->name);
	e = suite_add(s, sec->name);
	if (!e || !(e->file = strdup(m->path)))
		return fail(m, sec->line, "%s", strerror(ENOMEM));
	e->line = sec->line;
	if (!value_of(sec, defaults, "kernel"))
		return fail(m, sec->line, "[%s] has no kernel", sec->name);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct raw_section *from =
			giver(sec, defaults, keys[i].name);

		for (size_t n = 0; (v = find_value(from, keys[i].name, n)); n++)
			if (!keys[i].take(m, e, v))
				return false;
	}
	/* Nothing said: the guest's checks all pass (debug-exit code 0);
	 * expect-exit alone means an exit with that code. */
	x = &e->expect;
	if (!x->outcomes)
		x->outcomes = 1u << SPLITVM_OUTCOME_EXIT;
	if (!value_of(sec, defaults, "expect") && !x->exit_code_set)
		x->exit_code_set = true; /* code 0 */
	v = value_of(sec, defaults, "expect-exit");
	if (v && !(x->outcomes & (1u << SPLITVM_OUTCOME_EXIT)))
		return fail(m, v->line,
			    "expect-exit goes with an expect that has exit");
	return true;
}

static void manifest_free(struct manifest *m)
{
	for (size_t i = 0; i < m->n_sections; i++) {
		for (size_t j = 0; j < m->sections[i].n_values; j++)
			free(m->sections[i].values[j].value);
		free(m->sections[i].values);
		free(m->sections[i].name);
	}
	free(m->sections);
	free(m->dir);
	splitvm_config_free(m->scratch);
	if (m->f)
		fclose(m->f);
}

/* First pass: the raw sections, or the first syntax error. */
static void parse(struct manifest *m)
{
	int r = ini_parse_stream(read_line, m, take_value, m);

	/* libinih gives the line of the first error it saw, its own (a
	 * line neither header, key = value nor comment) or the handler's;
	 * the earlier of that and ours is the one to say. */
	if (r > 0 && (!m->failed || (unsigned int)r < m->err_line)) {
		m->failed = false;
		fail(m, (unsigned int)r,
		     "not a [section], a key = value or a comment");
	} else if (r == -2) {
		fail(m, 0, "%s", strerror(ENOMEM));
	}
	if (!m->failed && ferror(m->f))
		fail(m, 0, "reading failed: %s", strerror(EIO));
}

int manifest_entry_set(struct suite_entry *e, const char *key,
		       const char *value, char *err, size_t err_size)
{
	struct manifest m = {.path = ""};
	struct raw_value v = {.key = known_key(key), .line = 0};

	if (!v.key) {
		snprintf(err, err_size, "'%s' is not a manifest key", key);
		return -1;
	}
	m.dir = strdup(".");
	v.value = strdup(value);
	if (!m.dir || !v.value)
		fail(&m, 0, "%s", strerror(ENOMEM));
	for (size_t i = 0; !m.failed && i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].name == v.key)
			keys[i].take(&m, e, &v);
	if (m.failed)
		snprintf(err, err_size, "%s", m.err);
	free(v.value);
	manifest_free(&m);
	return m.failed ? -1 : 0;
}

int manifest_read(const char *path, struct suite *s, char *err,
		  size_t err_size)
{
	struct manifest m = {.path = path};
	const struct raw_section *defaults;
	char *copy = strdup(path);
	struct stat st;
	size_t entries = 0;

	m.dir = copy ? strdup(dirname(copy)) : NULL;
	free(copy);
	if (!m.dir)
		fail(&m, 0, "%s", strerror(ENOMEM));
	else if (!(m.f = fopen(path, "re")))
		fail(&m, 0, "cannot open the manifest: %s", strerror(errno));
	else if (fstat(fileno(m.f), &st) || !S_ISREG(st.st_mode))
		fail(&m, 0, "the manifest is not a regular file");
	if (!m.failed)
		parse(&m);
	defaults = find_section(&m, "defaults");
	for (size_t i = 0; !m.failed && i < m.n_sections; i++) {
		if (&m.sections[i] == defaults)
			continue;
		make_entry(&m, s, &m.sections[i], defaults);
		entries++;
	}
	if (!m.failed && !entries)
		fail(&m, 0, "no entries: a [section] a test");
	if (m.failed && m.err_line)
		snprintf(err, err_size, "%s:%u: %s", path, m.err_line, m.err);
	else if (m.failed)
		snprintf(err, err_size, "%s: %s", path, m.err);
	manifest_free(&m);
	return m.failed ? -1 : 0;
}
