// SPDX-License-Identifier: MIT
/*
 * TAP, JSON (jansson) and JUnit XML reports of a suite (report.h). Every
 * string in a report went through report_text(), so that strict readers
 * (a JSON parser decoding UTF-8, an XML parser, which takes no control
 * characters even escaped) accept whatever a guest printed.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "suite.h"

static const char *const verdict_names[] = {
	[REPORT_PASS] = "pass",
	[REPORT_FAIL] = "fail",
	[REPORT_ALLOWED_FAIL] = "allowed-fail",
	[REPORT_NOT_RUN] = "not-run",
	[REPORT_SKIP] = "skip",
};

const char *report_verdict_name(enum report_verdict v)
{
	return (unsigned int)v < sizeof(verdict_names) / sizeof(verdict_names[0])
		       ? verdict_names[v]
		       : "fail";
}

/*
 * The length of the valid UTF-8 sequence at s (at most len bytes), or 0:
 * no overlong forms, surrogates or code points past U+10FFFF (RFC 3629),
 * nor U+FFFE and U+FFFF, which XML does not take.
 */
static size_t utf8_valid(const unsigned char *s, size_t len)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
	    cp == 0xfffe || cp == 0xffff)
		return 0;
	return n;
}

char *report_text(const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)buf;
	/* At worst every byte becomes U+FFFD, three bytes. */
	char *out = malloc(len * 3 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_valid(s + i, len - i);

		if (n == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		if (n > 1 || s[i] == '\t' || s[i] == '\n' ||
		    (s[i] >= 0x20 && s[i] != 0x7f)) {
			memcpy(o, s + i, n);
			o += n;
		}
		i += n;
	}
	*o = 0;
	return out;
}

void report_tap_text(FILE *f, const char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
			fputc(' ', f);
		else if (*s == '#' || *s == '\\') /* TAP 13: escaped */
			fprintf(f, "\\%c", *s);
		else
			fputc(*s, f);
}

void report_tap_line(FILE *f, size_t number, const struct report_case *c)
{
	fprintf(f, "%s %zu - ",
		c->verdict == REPORT_PASS || c->verdict == REPORT_SKIP
			? "ok"
			: "not ok",
		number);
	report_tap_text(f, c->name);
	/* kvm-unit-tests: as run_tests.sh says it, "smptest (1 tests)",
	 * and a SKIP as TAP's directive with its reason. */
	if (c->verdict == REPORT_SKIP) {
		fputs(" # SKIP ", f);
		report_tap_text(f, c->summary ? c->summary : "");
		fputc('\n', f);
		fflush(f);
		return;
	}
	if (c->summary) {
		fputs(" (", f);
		report_tap_text(f, c->summary);
		fputc(')', f);
	}
	if (c->verdict == REPORT_NOT_RUN)
		fputs(" # not run: the suite was stopped", f);
	else if (c->allow_fail)
		fputs(" # TODO allowed to fail", f);
	if (c->reason && c->verdict != REPORT_NOT_RUN && !c->summary) {
		fputs(c->allow_fail ? ": " : " # ", f);
		report_tap_text(f, c->reason);
	}
	fputc('\n', f);
	fflush(f);
}

void report_case_free(struct report_case *c)
{
	free(c->name);
	free(c->expected);
	free(c->outcome);
	free(c->reason);
	free(c->detail);
	free(c->log);
	free(c->console);
	free(c->summary);
	*c = (struct report_case){.name = NULL};
}

void report_free(struct report *r)
{
	for (size_t i = 0; i < r->n; i++)
		report_case_free(&r->cases[i]);
	free(r->cases);
	free(r->suite);
	*r = (struct report){.suite = NULL};
}

/* Counts of each verdict, and the time of all. */
struct tally {
	size_t n[REPORT_VERDICTS];
	double time;
};

static struct tally tally(const struct report *r)
{
	struct tally t = {.time = 0};

	for (size_t i = 0; i < r->n; i++) {
		t.n[r->cases[i].verdict]++;
		t.time += r->cases[i].duration;
	}
	return t;
}

/* Opens a report for writing; says why not in err. */
static FILE *open_report(const char *path, char *err, size_t err_size)
{
	FILE *f = fopen(path, "we");

	if (!f)
		snprintf(err, err_size, "%s: cannot write: %s", path,
			 strerror(errno));
	return f;
}

/* Closes a report written to f: any write that failed is said. */
static int close_report(FILE *f, const char *path, char *err,
			size_t err_size)
{
	int bad = ferror(f);

	if (fclose(f) || bad) {
		snprintf(err, err_size, "%s: writing failed: %s", path,
			 strerror(bad ? EIO : errno));
		return -1;
	}
	return 0;
}

/* A JSON string, or null for NULL. Made report text here whatever it
 * came from: jansson refuses invalid UTF-8 (it returns NULL). */
static json_t *jstr(const char *s)
{
	char *text;
	json_t *j;

	if (!s)
		return json_null();
	text = report_text(s, strlen(s));
	j = text ? json_string(text) : NULL;
	free(text);
	return j;
}

static json_t *case_json(const struct report_case *c)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	/* A member that cannot be made (no memory) fails the dump below:
	 * json_object_set_new() refuses NULL values. */
	if (json_object_set_new(o, "name", jstr(c->name)) ||
	    json_object_set_new(o, "verdict",
				json_string(report_verdict_name(c->verdict))) ||
	    json_object_set_new(o, "expected", jstr(c->expected)) ||
	    json_object_set_new(o, "outcome", jstr(c->outcome)) ||
	    json_object_set_new(o, "status", json_integer(c->status)) ||
	    json_object_set_new(o, "exit_code", json_integer(c->exit_code)) ||
	    json_object_set_new(o, "duration", json_real(c->duration)) ||
	    json_object_set_new(o, "allow_fail", json_boolean(c->allow_fail)) ||
	    json_object_set_new(o, "reason", jstr(c->reason)) ||
	    json_object_set_new(o, "summary", jstr(c->summary)) ||
	    json_object_set_new(o, "detail", jstr(c->detail)) ||
	    json_object_set_new(o, "log", jstr(c->log)) ||
	    json_object_set_new(o, "console", jstr(c->console))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *report_json(const struct report *r)
{
	struct tally t = tally(r);
	json_t *root = json_object(), *tests = json_array();
	json_t *summary = json_pack(
		"{s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "total", (json_int_t)r->n,
		"passed", (json_int_t)t.n[REPORT_PASS], "failed",
		(json_int_t)t.n[REPORT_FAIL], "allowed_failures",
		(json_int_t)t.n[REPORT_ALLOWED_FAIL], "not_run",
		(json_int_t)t.n[REPORT_NOT_RUN], "skipped",
		(json_int_t)t.n[REPORT_SKIP], "duration", t.time);
	bool ok = root && tests && summary;

	for (size_t i = 0; ok && i < r->n; i++)
		ok = !json_array_append_new(tests, case_json(&r->cases[i]));
	ok = ok && !json_object_set_new(root, "suite", jstr(r->suite)) &&
	     !json_object_set_new(root, "summary", summary) &&
	     !json_object_set_new(root, "tests", tests);
	if (!ok) {
		json_decref(root);
		return NULL;
	}
	return root;
}

int report_write_json(const struct report *r, const char *path, char *err,
		      size_t err_size)
{
	json_t *root = report_json(r);
	FILE *f;
	int ret;

	if (!root) {
		snprintf(err, err_size, "%s: %s", path, strerror(ENOMEM));
		return -1;
	}
	f = open_report(path, err, err_size);
	if (!f) {
		json_decref(root);
		return -1;
	}
	ret = json_dumpf(root, f, JSON_INDENT(1) | JSON_REAL_PRECISION(9));
	fputc('\n', f);
	json_decref(root);
	if (ret && !ferror(f))
		snprintf(err, err_size, "%s: %s", path, strerror(ENOMEM));
	return close_report(f, path, err, err_size) || ret ? -1 : 0;
}

/* Text or an attribute value in XML: the five entities; in attributes
 * also tab and newline, which a parser would fold into spaces. */
static void xml_text(FILE *f, const char *s, bool attr)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs(attr ? "&quot;" : "\"", f);
			break;
		case '\n':
			fputs(attr ? "&#10;" : "\n", f);
			break;
		case '\t':
			fputs(attr ? "&#9;" : "\t", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static void junit_case(FILE *f, const char *suite, const struct report_case *c)
{
	fputs("    <testcase classname=\"", f);
	xml_text(f, suite, true);
	fputs("\" name=\"", f);
	xml_text(f, c->name, true);
	fprintf(f, "\" time=\"%.3f\">\n", c->duration);
	if (c->verdict == REPORT_FAIL) {
		fputs("      <failure message=\"", f);
		xml_text(f, c->reason, true);
		fputs("\" type=\"", f);
		xml_text(f, c->outcome, true);
		fputs("\">expected: ", f);
		xml_text(f, c->expected, false);
		fprintf(f, "\nstatus: %d\n", c->status);
		if (c->detail) {
			fputs("detail: ", f);
			xml_text(f, c->detail, false);
			fputc('\n', f);
		}
		fputs("</failure>\n", f);
	} else if (c->verdict == REPORT_ALLOWED_FAIL) {
		fputs("      <skipped message=\"allowed to fail: ", f);
		xml_text(f, c->reason, true);
		fputs("\"/>\n", f);
	} else if (c->verdict == REPORT_SKIP) {
		fputs("      <skipped message=\"", f);
		xml_text(f, c->summary, true);
		fputs("\"/>\n", f);
	} else if (c->verdict == REPORT_NOT_RUN) {
		fputs("      <error message=\"not run: the suite was "
		      "stopped\" type=\"not-run\"/>\n", f);
	}
	if (c->console) {
		fputs("      <system-out>", f);
		xml_text(f, c->console, false);
		fputs("</system-out>\n", f);
	}
	fputs("    </testcase>\n", f);
}

int report_write_junit(const struct report *r, const char *path, char *err,
		       size_t err_size)
{
	struct tally t = tally(r);
	const char *suite = r->suite ? r->suite : "splitvm";
	FILE *f = open_report(path, err, err_size);

	if (!f)
		return -1;
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuites tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
		"skipped=\"%zu\" time=\"%.3f\">\n"
		"  <testsuite name=\"",
		r->n, t.n[REPORT_FAIL], t.n[REPORT_NOT_RUN],
		t.n[REPORT_ALLOWED_FAIL] + t.n[REPORT_SKIP], t.time);
	xml_text(f, suite, true);
	fprintf(f,
		"\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
		"skipped=\"%zu\" time=\"%.3f\">\n",
		r->n, t.n[REPORT_FAIL], t.n[REPORT_NOT_RUN],
		t.n[REPORT_ALLOWED_FAIL] + t.n[REPORT_SKIP], t.time);
	for (size_t i = 0; i < r->n; i++)
		junit_case(f, suite, &r->cases[i]);
	fputs("  </testsuite>\n</testsuites>\n", f);
	return close_report(f, path, err, err_size);
}

/* A string member of a test read back: absent or null is NULL. */
static bool read_string(json_t *o, const char *key, char **ret)
{
	json_t *v = json_object_get(o, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_string(v))
		return false;
	*ret = report_text(json_string_value(v), json_string_length(v));
	return *ret != NULL;
}

static bool read_verdict(json_t *o, enum report_verdict *ret)
{
	const char *s = json_string_value(json_object_get(o, "verdict"));

	for (size_t i = 0; s && i < sizeof(verdict_names) / sizeof(verdict_names[0]); i++) {
		if (!strcmp(s, verdict_names[i])) {
			*ret = (enum report_verdict)i;
			return true;
		}
	}
	return false;
}

/* One test of a report read back; NULL, or what is wrong with it. */
static const char *read_case(json_t *o, struct report_case *c)
{
	json_t *status = json_object_get(o, "status");
	json_t *code = json_object_get(o, "exit_code");
	json_t *duration = json_object_get(o, "duration");

	if (!json_is_object(o))
		return "not an object";
	if (!read_string(o, "name", &c->name) || !c->name || !*c->name)
		return "no \"name\" string";
	/* Names as a manifest allows them: they become TAP lines and file
	 * names again. */
	if (!suite_valid_name(c->name, strlen(c->name)))
		return "a \"name\" that is not a test name";
	if (!read_verdict(o, &c->verdict))
		return "no \"verdict\" of pass, fail, allowed-fail, not-run, skip";
	if (!read_string(o, "expected", &c->expected) ||
	    !read_string(o, "outcome", &c->outcome) ||
	    !read_string(o, "reason", &c->reason) ||
	    !read_string(o, "summary", &c->summary) ||
	    !read_string(o, "detail", &c->detail) ||
	    !read_string(o, "log", &c->log) ||
	    !read_string(o, "console", &c->console))
		return "a member that should be a string is not";
	if ((status && !json_is_integer(status)) ||
	    (code && !json_is_integer(code)) ||
	    (duration && !json_is_number(duration)))
		return "status, exit_code or duration is not a number";
	c->status = (int)json_integer_value(status);
	c->exit_code = (uint32_t)json_integer_value(code);
	c->duration = duration ? json_number_value(duration) : 0;
	if (!(c->duration >= 0 && c->duration < 1e9))
		c->duration = 0;
	c->allow_fail = json_is_true(json_object_get(o, "allow_fail"));
	return NULL;
}

static const struct report_case *find_case(const struct report *r,
					   const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->cases[i].name, name))
			return &r->cases[i];
	return NULL;
}

int report_read_json(const char *path, struct report *r, char *err,
		     size_t err_size)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	json_t *tests = json_object_get(root, "tests");
	struct report_case *grown;
	const char *why = NULL;
	char dup[160];
	bool in_tests;
	size_t i = 0;

	if (!root) {
		if (jerr.line > 0)
			snprintf(err, err_size, "%s:%d: %s", path, jerr.line,
				 jerr.text);
		else
			snprintf(err, err_size, "%s: %s", path, jerr.text);
		return -1;
	}
	if (!json_is_array(tests))
		why = "not a splitvm test report (no \"tests\" array)";
	if (!why && !r->suite &&
	    !read_string(root, "suite", &r->suite))
		why = "\"suite\" is not a string";
	for (i = 0; !why && i < json_array_size(tests); i++) {
		grown = realloc(r->cases, (r->n + 1) * sizeof(*grown));
		if (!grown) {
			why = strerror(ENOMEM);
			break;
		}
		r->cases = grown;
		grown[r->n] = (struct report_case){.name = NULL};
		why = read_case(json_array_get(tests, i), &grown[r->n]);
		if (!why && find_case(r, grown[r->n].name)) {
			snprintf(dup, sizeof(dup),
				 "'%s' is a test already read (in this "
				 "report or another)",
				 grown[r->n].name);
			why = dup;
		}
		if (why)
			report_case_free(&grown[r->n]);
		else
			r->n++;
	}
	/* tests is root's: sized before root goes. */
	in_tests = i && i <= json_array_size(tests);
	json_decref(root);
	if (!why)
		return 0;
	if (in_tests)
		snprintf(err, err_size, "%s: test %zu: %s", path, i, why);
	else
		snprintf(err, err_size, "%s: %s", path, why);
	return -1;
}
