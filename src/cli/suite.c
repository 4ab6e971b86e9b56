// SPDX-License-Identifier: MIT
/* The suite's entries, what they expect, and their VM configurations. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"
#include "suite.h"

/* Names become file names (NAME.log) and group names: a safe alphabet. */
bool suite_valid_name(const char *s, size_t len)
{
	if (len == 0 || len > SUITE_NAME_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    (!s[i] || !strchr("_.+-", s[i])))
			return false;
	return true;
}

struct suite_entry *suite_add(struct suite *s, const char *name)
{
	struct suite_entry **grown, *e;

	grown = realloc(s->entries, (s->n + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	s->entries = grown;
	e = calloc(1, sizeof(*e));
	if (!e || !(e->name = strdup(name))) {
		free(e);
		return NULL;
	}
	s->entries[s->n++] = e;
	return e;
}

struct suite_entry *suite_find(const struct suite *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->entries[i]->name, name))
			return s->entries[i];
	return NULL;
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

static void entry_free(struct suite_entry *e)
{
	free(e->name);
	free(e->file);
	free(e->kernel);
	free(e->initrd);
	free(e->restore);
	free(e->append);
	free(e->cpu);
	free_list(e->modules, e->n_modules);
	free_list(e->groups, e->n_groups);
	free_list(e->devices, e->n_devices);
	if (e->expect.console)
		regfree(&e->expect.console_re);
	free(e->expect.console);
	free(e->timeout_text);
	free(e->prejudged_reason);
	free(e);
}

void suite_free(struct suite *s)
{
	for (size_t i = 0; i < s->n; i++)
		entry_free(s->entries[i]);
	free(s->entries);
	s->entries = NULL;
	s->n = 0;
}

bool suite_entry_in_group(const struct suite_entry *e, const char *g)
{
	for (size_t i = 0; i < e->n_groups; i++)
		if (!strcmp(e->groups[i], g))
			return true;
	return false;
}

/* "exit 3", "poweroff": an outcome as expectations and reasons say it. */
static int outcome_text(enum splitvm_outcome o, bool with_code, uint32_t code,
			char *buf, size_t size)
{
	if (o == SPLITVM_OUTCOME_EXIT && with_code)
		return snprintf(buf, size, "exit %u", code);
	return snprintf(buf, size, "%s", splitvm_outcome_name(o));
}

/* The outcomes expected: "exit 0", "exit 0 or emulation-failure"... */
static void outcomes_text(const struct suite_expect *x, char *buf,
			  size_t size)
{
	size_t len = 0;

	if (x->outcomes == SUITE_ANY_OUTCOME) {
		snprintf(buf, size, "any");
		return;
	}
	buf[0] = 0;
	for (int o = SPLITVM_OUTCOME_EXIT; o <= SPLITVM_OUTCOME_ERROR; o++) {
		if (!(x->outcomes & (1u << o)) || len >= size)
			continue;
		if (len)
			len += (size_t)snprintf(buf + len, size - len, " or ");
		if (len < size)
			len += (size_t)outcome_text((enum splitvm_outcome)o,
						    x->exit_code_set,
						    x->exit_code, buf + len,
						    size - len);
	}
}

char *suite_expect_text(const struct suite_expect *x)
{
	char what[256];
	char *s;

	outcomes_text(x, what, sizeof(what));
	if (asprintf(&s, "%s%s%s%s", what, x->console ? " and console /" : "",
		     x->console ? x->console : "", x->console ? "/" : "") < 0)
		return NULL;
	return s;
}

bool suite_judge(const struct suite_expect *x,
		 const struct splitvm_result *res, const char *console,
		 char *why, size_t why_size)
{
	char want[256], got[32];
	bool met = (x->outcomes & (1u << res->outcome)) &&
		   (res->outcome != SPLITVM_OUTCOME_EXIT || !x->exit_code_set ||
		    res->exit_code == x->exit_code);

	if (!met) {
		outcomes_text(x, want, sizeof(want));
		outcome_text(res->outcome, true, res->exit_code, got,
			     sizeof(got));
		snprintf(why, why_size, "expected %s, got %s (status %d)%s%s",
			 want, got, status_of(res), res->detail[0] ? ": " : "",
			 res->detail);
		return false;
	}
	if (x->console && regexec(&x->console_re, console, 0, NULL, 0)) {
		snprintf(why, why_size, "the console does not match /%s/",
			 x->console);
		return false;
	}
	return true;
}

int suite_entry_config(const struct suite_entry *e,
		       struct splitvm_config *cfg)
{
	int r = splitvm_config_set_kernel(cfg, e->kernel);

	if (!r && e->initrd)
		r = splitvm_config_set_initrd(cfg, e->initrd);
	if (!r && e->restore)
		r = splitvm_config_set_restore(cfg, e->restore);
	for (size_t i = 0; !r && i < e->n_modules; i++)
		r = splitvm_config_add_module(cfg, e->modules[i]);
	if (!r && e->append)
		r = splitvm_config_set_cmdline(cfg, e->append);
	if (!r && e->cpus)
		r = splitvm_config_set_cpus(cfg, e->cpus);
	if (!r && e->memory)
		r = splitvm_config_set_memory(cfg, e->memory);
	if (!r && e->timeout_ms)
		r = splitvm_config_set_timeout(cfg, e->timeout_ms);
	if (!r)
		r = splitvm_config_set_irqchip(cfg, e->irqchip);
	if (!r && e->cpu)
		r = splitvm_config_set_cpu(cfg, e->cpu);
	if (!r && (e->ioapic_pins || e->ioapic_version))
		r = splitvm_config_set_ioapic(cfg,
					      e->ioapic_pins ? e->ioapic_pins
							     : 24,
					      e->ioapic_version
						      ? e->ioapic_version
						      : 0x20);
	if (!r && (e->no_chips & SUITE_NO_PIT))
		r = splitvm_config_set_pit(cfg, 0);
	if (!r && (e->no_chips & SUITE_NO_PIC))
		r = splitvm_config_set_pic(cfg, 0);
	if (!r && (e->no_chips & SUITE_NO_RTC))
		r = splitvm_config_set_rtc(cfg, 0);
	for (size_t i = 0; !r && i < e->n_devices; i++)
		r = splitvm_config_add_pci_device(cfg, e->devices[i]);
	return r;
}
