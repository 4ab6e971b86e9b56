/* SPDX-License-Identifier: MIT */
/* Recorders standing in for what a device or loader reports to: logger, VM. */
#ifndef SPLITVM_TEST_FAKES_H
#define SPLITVM_TEST_FAKES_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "device.h"
#include "log.h"
#include "unit.h"

/* ------------------------------------------------------------------ */
/* Logger: counts error lines and keeps the last one.                  */

struct capture {
	unsigned int errors;
	char msg[512];
};

static inline void capture_fn(void *userdata, enum splitvm_log_level level,
			      const char *message)
{
	struct capture *c = userdata;

	if (level != SPLITVM_LOG_ERROR)
		return;
	c->errors++;
	snprintf(c->msg, sizeof(c->msg), "%s", message);
}

/* A struct logger initialiser that records into cap (else errors go to
 * stderr). */
#define LOGGER(cap)                                                            \
	{                                                                      \
		.fn = capture_fn, .userdata = &(cap),                          \
		.max_level = SPLITVM_LOG_DEBUG                                 \
	}

/* The call failed with want, logging one error line that says substr. */
#define ck_assert_fails(ret, want, cap, substr)                                \
	do {                                                                   \
		ck_assert_int_eq((ret), (want));                               \
		ck_assert_uint_eq((cap).errors, 1);                            \
		ck_assert_msg(strstr((cap).msg, (substr)),                     \
			      "log line \"%s\" does not say \"%s\"",           \
			      (cap).msg, (substr));                            \
	} while (0)

/* ------------------------------------------------------------------ */
/* VM end hook: what the debug-exit, reset and shutdown ports report.  */

struct fake_vm {
	unsigned int ends;
	enum splitvm_outcome outcome; /* of the last end */
	uint32_t code;
	int vcpu;
};

static inline void fake_end(void *vm, enum splitvm_outcome outcome,
			    uint32_t code, int vcpu)
{
	struct fake_vm *f = vm;

	f->ends++;
	f->outcome = outcome;
	f->code = code;
	f->vcpu = vcpu;
}

/* The hook that records into vm. */
static inline struct vm_end_hook fake_vm_hook(struct fake_vm *vm)
{
	return (struct vm_end_hook){fake_end, vm};
}

/* The last end reported outcome, code and vcpu; case_no names the case. */
static inline void ck_assert_last_end(const struct fake_vm *vm,
				      enum splitvm_outcome outcome,
				      uint32_t code, int vcpu, size_t case_no)
{
	ck_assert_msg(vm->outcome == outcome, "case %zu: outcome %d", case_no,
		      vm->outcome);
	ck_assert_msg(vm->code == code, "case %zu: code %#x", case_no,
		      vm->code);
	ck_assert_msg(vm->vcpu == vcpu, "case %zu: vCPU %d", case_no,
		      vm->vcpu);
}

/*
 * new_fn(hook, ret) of a device of type dev_type refuses a missing hook,
 * a hook without an end function and a missing ret with -EINVAL.
 */
#define ck_assert_new_needs_end_hook(new_fn, dev_type)                         \
	do {                                                                   \
		struct fake_vm vm_ = {0};                                      \
		const struct vm_end_hook hook_ = fake_vm_hook(&vm_);           \
		const struct vm_end_hook none_ = {NULL, &vm_};                 \
		dev_type *dev_;                                                \
                                                                               \
		ck_assert_int_eq(new_fn(NULL, &dev_), -EINVAL);                \
		ck_assert_int_eq(new_fn(&none_, &dev_), -EINVAL);              \
		ck_assert_int_eq(new_fn(&hook_, NULL), -EINVAL);               \
	} while (0)

/* ------------------------------------------------------------------ */
/* Interrupt line: set() must only ever see changes of level.          */

struct fake_irq {
	unsigned int line; /* the only line set() may be called for */
	bool level;
	unsigned int sets, rises, redundant;
};

static inline void fake_irq_set(void *router, unsigned int line, bool level)
{
	struct fake_irq *f = router;

	ck_assert_uint_eq(line, f->line);
	if (level == f->level)
		f->redundant++;
	if (level)
		f->rises++;
	f->level = level;
	f->sets++;
}

/* ------------------------------------------------------------------ */
/* Console sink: keeps the first 8 KiB written and counts the calls.    */

struct fake_sink {
	char buf[8192];
	size_t len;
	unsigned int calls;
};

static inline void fake_sink_write(void *ctx, const char *data, size_t len)
{
	struct fake_sink *s = ctx;

	for (size_t i = 0; i < len; i++)
		if (s->len < sizeof(s->buf))
			s->buf[s->len++] = data[i];
	s->calls++;
}

#endif /* SPLITVM_TEST_FAKES_H */
