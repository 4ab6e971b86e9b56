// SPDX-License-Identifier: MIT
/* The suite manifest reader: what it takes, and a file:line for bad input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manifest.h"
#include "unit.h"

/* A scratch directory with a file "k" for the kernels to name. */
struct dir {
	char path[64];
	char manifest[96];
};

static void dir_make(struct dir *d)
{
	char k[96];
	FILE *f;

	snprintf(d->path, sizeof(d->path), "/tmp/test-manifest.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(d->path));
	snprintf(k, sizeof(k), "%s/k", d->path);
	f = fopen(k, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	snprintf(d->manifest, sizeof(d->manifest), "%s/m.ini", d->path);
}

static void dir_remove(struct dir *d)
{
	char k[96];

	snprintf(k, sizeof(k), "%s/k", d->path);
	unlink(k);
	unlink(d->manifest);
	rmdir(d->path);
}

/* Reads text (len bytes) as a manifest; returns manifest_read()'s. */
static int read_text(struct dir *d, const char *text, size_t len,
		     struct suite *s, char *err, size_t err_size)
{
	FILE *f = fopen(d->manifest, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	fclose(f);
	err[0] = 0;
	return manifest_read(d->manifest, s, err, err_size);
}

/* text must be refused with exactly "MANIFEST:LINE: why" (line 0: no
 * line), and leave no entry half made that leaks. */
static void refuses_(const char *text, size_t len, unsigned int line,
		     const char *why)
{
	struct suite s = {.entries = NULL};
	struct dir d;
	char err[600], want[600];

	dir_make(&d);
	ck_assert_int_eq(read_text(&d, text, len, &s, err, sizeof(err)), -1);
	if (line)
		snprintf(want, sizeof(want), "%s:%u: %s", d.manifest, line, why);
	else
		snprintf(want, sizeof(want), "%s: %s", d.manifest, why);
	ck_assert_str_eq(err, want);
	suite_free(&s);
	dir_remove(&d);
}
#define refuses(text, line, why) refuses_(text, strlen(text), line, why)

START_TEST(manifest_reads_an_entry)
{
	struct suite s = {.entries = NULL};
	struct dir d;
	char err[600];
	struct suite_entry *e;

	dir_make(&d);
	ck_assert_int_eq(read_text(&d,
				   "[defaults]\ntimeout = 2.5\n"
				   "[a]\nkernel = k ; a comment\ncpus = 3\n"
				   "memory = 96\nexpect = exit poweroff\n"
				   "expect-exit = 0x10\ngroups = x, y\n",
				   strlen("[defaults]\ntimeout = 2.5\n"
					  "[a]\nkernel = k ; a comment\ncpus = 3\n"
					  "memory = 96\nexpect = exit poweroff\n"
					  "expect-exit = 0x10\ngroups = x, y\n"),
				   &s, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(s.n, 1);
	e = s.entries[0];
	ck_assert_str_eq(e->name, "a");
	ck_assert_uint_eq(e->line, 3);
	ck_assert_str_eq(e->kernel + strlen(e->kernel) - 2, "/k");
	ck_assert_uint_eq(e->cpus, 3);
	ck_assert_uint_eq(e->memory, 96ull << 20);
	ck_assert_uint_eq(e->timeout_ms, 2500);
	ck_assert_uint_eq(e->expect.exit_code, 16);
	ck_assert_uint_eq(e->n_groups, 2);
	ck_assert(suite_entry_in_group(e, "y"));
	suite_free(&s);
	dir_remove(&d);
}
END_TEST

/* libinih's lines end at 200 bytes: "append +=" joins pieces with a
 * space, so a command line of any length up to 4095 can be written. */
START_TEST(manifest_append_joins_pieces)
{
	struct suite s = {.entries = NULL};
	char text[2048], piece[181], err[600];
	size_t len;
	struct dir d;

	memset(piece, 'x', sizeof(piece) - 1);
	piece[sizeof(piece) - 1] = 0;
	len = (size_t)snprintf(text, sizeof(text),
			       "[a]\nkernel = k\nappend = %s\nappend += %s\n"
			       "append+= end\n",
			       piece, piece);
	dir_make(&d);
	ck_assert_int_eq(read_text(&d, text, len, &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(strlen(s.entries[0]->append), 180 + 1 + 180 + 4);
	ck_assert(!strncmp(s.entries[0]->append + 180, " x", 2));
	ck_assert_str_eq(s.entries[0]->append + 362, "end");
	suite_free(&s);
	/* += alone starts the value */
	ck_assert_int_eq(read_text(&d, "[b]\nkernel = k\nappend += a\n",
				   strlen("[b]\nkernel = k\nappend += a\n"),
				   &s, err, sizeof(err)),
			 0);
	ck_assert_str_eq(s.entries[0]->append, "a");
	suite_free(&s);
	dir_remove(&d);
}
END_TEST

START_TEST(manifest_bad_input_says_file_and_line)
{
	char longline[260];

	refuses("[a]\nkernel = k\ngarbage\n", 3,
		"not a [section], a key = value or a comment");
	refuses("[a]\nkernel = k\ncolour = red\n", 3,
		"unknown key 'colour' in [a]");
	refuses("[a]\nkernel = k\ncpus = 1\ncpus = 2\n", 4,
		"'cpus' is given twice in [a] (first at line 3)");
	refuses("[a]\nkernel = k\n[a]\nkernel = k\n", 3,
		"[a] is there twice (first at line 1)");
	refuses("[a/b]\nkernel = k\n", 1,
		"[a/b]: a name is 1 to 49 letters, digits, '_', '.', '+' or "
		"'-', not starting with '.' or '-'");
	refuses("[a]\ncpus = 2\n", 1, "[a] has no kernel");
	refuses("[a]\nkernel = k\ncpus = 0\n", 3,
		"cpus: '0' is not a number from 1 to 255");
	refuses("[a]\nkernel = k\nmemory = 1M\n", 3,
		"memory: '1M' is not a size from 2M to 1T in whole pages");
	refuses("[a]\nkernel = k\ntimeout = -1\n", 3,
		"timeout: '-1' is not a positive number of seconds");
	refuses("[a]\nkernel = k\nexpect = sometimes\n", 3,
		"expect: 'sometimes' is not outcomes among exit, poweroff, "
		"reset, triple-fault, emulation-failure, entry-failure, "
		"crash, timeout, error, or any");
	refuses("[a]\nkernel = k\nexpect = poweroff\nexpect-exit = 1\n", 4,
		"expect-exit goes with an expect that has exit");
	refuses("[a]\nkernel = k\nexpect-console = (\n", 3,
		"expect-console: /(/: Unmatched ( or \\(");
	refuses("[a]\nkernel = k\ncpus += 2\n", 3,
		"'cpus +=': only append takes += (in [a])");
	refuses("[a]\nkernel = k\nappend = a\n  b\n", 4,
		"an indented line: continuation lines are not taken, write "
		"the value on one line");
	refuses("kernel = k\n", 1, "'kernel' outside any [section]");
	refuses("[a\n", 1, "'[' without ']'");
	refuses("; nothing\n", 0, "no entries: a [section] a test");
	refuses_("[a]\nkernel = k\0\n", 16, 2, "a NUL byte");
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "[a]\nkernel = k\nappend = ", 24);
	longline[sizeof(longline) - 2] = '\n';
	longline[sizeof(longline) - 1] = 0;
	refuses(longline, 3, "a line longer than 198 bytes");
}
END_TEST

START_TEST(manifest_kernel_must_exist)
{
	struct suite s = {.entries = NULL};
	struct dir d;
	char err[600], want[600];

	dir_make(&d);
	ck_assert_int_eq(read_text(&d, "[a]\nkernel = nosuch\n",
				   strlen("[a]\nkernel = nosuch\n"), &s, err,
				   sizeof(err)),
			 -1);
	snprintf(want, sizeof(want),
		 "%s:2: kernel '%s/nosuch': No such file or directory",
		 d.manifest, d.path);
	ck_assert_str_eq(err, want);
	suite_free(&s);
	dir_remove(&d);
	ck_assert_int_eq(manifest_read("/nonexistent.ini", &s, err,
				       sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "/nonexistent.ini: cannot open the manifest: "
			      "No such file or directory");
	ck_assert_int_eq(manifest_read("/tmp", &s, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/tmp: the manifest is not a regular file");
	suite_free(&s);
}
END_TEST

/* The other readers' way in (kut.c): one key, the same checks. */
START_TEST(manifest_entry_set_checks_values)
{
	struct suite s = {.entries = NULL};
	struct suite_entry *e = suite_add(&s, "x");
	char err[400];

	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(manifest_entry_set(e, "cpus", "4", err, sizeof(err)),
			 0);
	ck_assert_uint_eq(e->cpus, 4);
	ck_assert_int_eq(manifest_entry_set(e, "cpus", "x", err, sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "cpus: 'x' is not a number from 1 to 255");
	ck_assert_int_eq(manifest_entry_set(e, "cpu", "nosuchmodel", err,
					    sizeof(err)),
			 -1);
	ck_assert(!strncmp(err, "cpu 'nosuchmodel': ", 19));
	ck_assert_int_eq(manifest_entry_set(e, "device", "edu", err,
					    sizeof(err)),
			 0);
	ck_assert_int_eq(manifest_entry_set(e, "device", "edu", err,
					    sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "device 'edu' is there twice");
	ck_assert_int_eq(manifest_entry_set(e, "colour", "red", err,
					    sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "'colour' is not a manifest key");
	suite_free(&s);
}
END_TEST

UNIT_SUITE("manifest", manifest_reads_an_entry, manifest_append_joins_pieces,
	   manifest_bad_input_says_file_and_line, manifest_kernel_must_exist,
	   manifest_entry_set_checks_values)
