// SPDX-License-Identifier: MIT
/*
 * The CLI's --control channel: a script sends one flat JSON object a line,
 * {"cmd":"irq","line":4,"level":1}, and gets one JSON line back,
 * {"ok":true,"cmd":"irq"} or {"ok":false,"cmd":"irq","code":"EINVAL",
 * "error":"..."}. The code is stable, for scripts; the text is for people:
 *
 *   EPROTO    the line is not one flat JSON object with a "cmd" string
 *             (bad syntax, a nested value, an escape in a string, a
 *             duplicate key, a NUL byte, text after the object, input that
 *             ended in the middle of a line); "cmd" is then "?"
 *   EMSGSIZE  the line is longer than 1024 bytes
 *   ENOSYS    no such command
 *   EINVAL    an argument missing, unknown, out of range or not an integer
 *   ESRCH     the VM has ended
 *   EBUSY     too many clients (sent once, then the connection is closed)
 *   E...      the errno of the call that failed (EINVAL, EALREADY...)
 *
 * Everything read is untrusted: bounded lines, a strict parser, checked
 * numbers. Nothing a client does blocks the monitor: one thread polls the
 * socket and every client, descriptors are non-blocking, each client has
 * bounded buffers, and a client that stalls is dropped with one line on
 * stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A command line, its newline included. */
#define CONTROL_LINE_MAX 1024
/* Clients served at once; more are told EBUSY and closed. */
#define CONTROL_MAX_CLIENTS 16
/* A client's unread answers: past HIGH no more of its commands are read
 * (it is not reading); past MAX (one huge answer) it is dropped. */
#define CONTROL_OUT_HIGH (64 * 1024)
#define CONTROL_OUT_MAX (1024 * 1024)
/* A socket client that leaves its answers unread, or a line unfinished,
 * this long is dropped. */
#define CONTROL_STALL_MS 5000

/* ---- One flat JSON object ------------------------------------------------ */

/*
 * RFC 8259, restricted to what the channel takes: one object whose values
 * are strings without escapes, numbers and the literals; no nesting, no
 * duplicate keys, nothing after the closing brace but whitespace. Numbers
 * keep their kind: an integer in the range of long long, or anything
 * else (1e3, 4.7, 1.9, 2^64) that no argument takes.
 */
enum json_type {
	JSON_STRING,
	JSON_INTEGER,
	JSON_NUMBER,  /* a fraction, an exponent, or out of range */
	JSON_LITERAL, /* true, false, null */
};

struct json_value {
	enum json_type type;
	const char *text; /* a string's bytes, without the quotes */
	size_t len;
	long long integer;
};

#define JSON_MAX_MEMBERS 8

struct json_object {
	struct {
		const char *key;
		size_t key_len;
		struct json_value value;
	} member[JSON_MAX_MEMBERS];
	unsigned int nr;
};

struct json_parser {
	const char *start, *p, *end;
	const char *why; /* what is wrong at p */
};

static bool json_fail(struct json_parser *jp, const char *why)
{
	jp->why = why;
	return false;
}

static bool json_digit(const struct json_parser *jp, const char *p)
{
	return p < jp->end && *p >= '0' && *p <= '9';
}

static void json_space(struct json_parser *jp)
{
	while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' ||
				   *jp->p == '\r' || *jp->p == '\n'))
		jp->p++;
}

static bool json_string(struct json_parser *jp, const char **ret,
			size_t *ret_len)
{
	const char *s;

	if (jp->p == jp->end || *jp->p != '"')
		return json_fail(jp, "expected a string");
	for (s = ++jp->p; jp->p < jp->end; jp->p++) {
		unsigned char ch = (unsigned char)*jp->p;

		if (ch == '"') {
			*ret = s;
			*ret_len = (size_t)(jp->p++ - s);
			return true;
		}
		if (ch == '\\')
			return json_fail(jp,
					 "escapes in strings are not taken");
		if (ch < 0x20)
			return json_fail(jp, "a control character in a string");
	}
	return json_fail(jp, "an unterminated string");
}

static bool json_number(struct json_parser *jp, struct json_value *v)
{
	const char *p = jp->p;
	unsigned long long mag = 0, limit = LLONG_MAX;
	bool integer = true;

	if (*p == '-') {
		limit = (unsigned long long)LLONG_MAX + 1;
		p++;
	}
	if (!json_digit(jp, p)) {
		jp->p = p;
		return json_fail(jp, "a number without digits");
	}
	if (*p == '0' && json_digit(jp, p + 1)) {
		jp->p = p;
		return json_fail(jp, "a number with a leading zero");
	}
	for (; json_digit(jp, p); p++) {
		unsigned int d = (unsigned int)(*p - '0');

		if (mag > (limit - d) / 10)
			integer = false;
		else
			mag = mag * 10 + d;
	}
	if (p < jp->end && *p == '.') {
		integer = false;
		if (!json_digit(jp, ++p)) {
			jp->p = p;
			return json_fail(jp, "no digits after a decimal point");
		}
		while (json_digit(jp, p))
			p++;
	}
	if (p < jp->end && (*p == 'e' || *p == 'E')) {
		integer = false;
		if (++p < jp->end && (*p == '+' || *p == '-'))
			p++;
		if (!json_digit(jp, p)) {
			jp->p = p;
			return json_fail(jp, "no digits in an exponent");
		}
		while (json_digit(jp, p))
			p++;
	}
	v->type = integer ? JSON_INTEGER : JSON_NUMBER;
	v->text = jp->p;
	v->len = (size_t)(p - jp->p);
	if (integer)
		v->integer =
			*jp->p == '-' ? (long long)(0 - mag) : (long long)mag;
	jp->p = p;
	return true;
}

static bool json_value(struct json_parser *jp, struct json_value *v)
{
	static const char *const literals[] = { "true", "false", "null" };

	if (jp->p == jp->end)
		return json_fail(jp, "expected a value");
	if (*jp->p == '"') {
		v->type = JSON_STRING;
		return json_string(jp, &v->text, &v->len);
	}
	if (*jp->p == '-' || (*jp->p >= '0' && *jp->p <= '9'))
		return json_number(jp, v);
	if (*jp->p == '{' || *jp->p == '[')
		return json_fail(jp, "nested objects and arrays are not taken");
	for (size_t i = 0; i < ARRAY_SIZE(literals); i++) {
		size_t len = strlen(literals[i]);

		if ((size_t)(jp->end - jp->p) >= len &&
		    !memcmp(jp->p, literals[i], len)) {
			v->type = JSON_LITERAL;
			v->text = jp->p;
			v->len = len;
			jp->p += len;
			return true;
		}
	}
	return json_fail(jp, "expected a value");
}

/* Parses line (len bytes) as one flat object into obj. */
static bool json_parse(struct json_parser *jp, const char *line, size_t len,
		       struct json_object *obj)
{
	const char *nul = memchr(line, 0, len);

	jp->start = jp->p = line;
	jp->end = line + len;
	obj->nr = 0;
	if (nul) {
		jp->p = nul;
		return json_fail(jp, "a NUL byte");
	}
	json_space(jp);
	if (jp->p == jp->end || *jp->p != '{')
		return json_fail(jp, "expected '{'");
	jp->p++;
	json_space(jp);
	if (jp->p < jp->end && *jp->p == '}')
		jp->p++;
	else
		for (;;) {
			const char *at = jp->p;
			const char *key;
			size_t key_len;

			if (!json_string(jp, &key, &key_len))
				return false;
			for (unsigned int i = 0; i < obj->nr; i++)
				if (obj->member[i].key_len == key_len &&
				    !memcmp(obj->member[i].key, key, key_len)) {
					jp->p = at;
					return json_fail(jp, "a duplicate key");
				}
			if (obj->nr == JSON_MAX_MEMBERS) {
				jp->p = at;
				return json_fail(jp, "too many keys");
			}
			json_space(jp);
			if (jp->p == jp->end || *jp->p != ':')
				return json_fail(jp, "expected ':'");
			jp->p++;
			json_space(jp);
			if (!json_value(jp, &obj->member[obj->nr].value))
				return false;
			obj->member[obj->nr].key = key;
			obj->member[obj->nr].key_len = key_len;
			obj->nr++;
			json_space(jp);
			if (jp->p < jp->end && *jp->p == ',') {
				jp->p++;
				json_space(jp);
				continue;
			}
			if (jp->p < jp->end && *jp->p == '}') {
				jp->p++;
				break;
			}
			return json_fail(jp, "expected ',' or '}'");
		}
	json_space(jp);
	if (jp->p != jp->end)
		return json_fail(jp, "text after the object");
	return true;
}

static bool json_key_is(const char *key, size_t len, const char *name)
{
	return strlen(name) == len && !memcmp(key, name, len);
}

static const struct json_value *json_get(const struct json_object *obj,
					 const char *key)
{
	for (unsigned int i = 0; i < obj->nr; i++)
		if (json_key_is(obj->member[i].key, obj->member[i].key_len,
				key))
			return &obj->member[i].value;
	return NULL;
}

/* A JSON string of any bytes: what is not printable ASCII is escaped,
 * so an answer stays valid JSON whatever a client sent. */
static void json_write_string(FILE *out, const char *s, size_t len)
{
	putc('"', out);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20 || ch > 0x7e)
			fprintf(out, "\\u%04x", ch);
		else
			putc(ch, out);
	}
	putc('"', out);
}

/* ---- Commands ------------------------------------------------------------ */

struct cmd_ctx {
	const struct control *ctl;
	struct splitvm *vm;
	const struct json_object *obj;
	FILE *out;
	const char *name; /* a command's name, or "?": never client bytes */
};

__attribute__((format(printf, 3, 4))) static int
cmd_error(struct cmd_ctx *c, const char *code, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fprintf(c->out,
		"{\"ok\":false,\"cmd\":\"%s\",\"code\":\"%s\",\"error\":",
		c->name, code);
	json_write_string(c->out, why, strlen(why));
	fputs("}\n", c->out);
	return -1;
}

/* Ends an answer: ok, or the errno of the call, by name and in words. */
static int cmd_done(struct cmd_ctx *c, int r)
{
	const char *code;

	if (r) {
		code = strerrorname_np(-r);
		return cmd_error(c, code ? code : "EIO", "%s", strerror(-r));
	}
	fprintf(c->out, "{\"ok\":true,\"cmd\":\"%s\"}\n", c->name);
	return 0;
}

/* A whole number in [min, max]: a JSON integer, or a "0x..." string for
 * big values such as MSI addresses. */
static bool arg_number(struct cmd_ctx *c, const char *key, long long min,
		       long long max, long long *ret)
{
	const struct json_value *v = json_get(c->obj, key);
	unsigned long long x = 0;

	if (!v)
		return false;
	if (v->type == JSON_INTEGER) {
		*ret = v->integer;
		return *ret >= min && *ret <= max;
	}
	if (v->type != JSON_STRING || v->len < 3 || memcmp(v->text, "0x", 2) ||
	    max < 0)
		return false;
	for (size_t i = 2; i < v->len; i++) {
		char ch = v->text[i];
		unsigned int d;

		if (ch >= '0' && ch <= '9')
			d = (unsigned int)(ch - '0');
		else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
			d = (unsigned int)((ch | 0x20) - 'a' + 10);
		else
			return false;
		if (x >> 60)
			return false;
		x = x << 4 | d;
	}
	if (x > (unsigned long long)max || (long long)x < min)
		return false;
	*ret = (long long)x;
	return true;
}

static int cmd_irq(struct cmd_ctx *c)
{
	long long line, level;

	if (!arg_number(c, "line", 0, 1023, &line) ||
	    !arg_number(c, "level", 0, 1, &level))
		return cmd_error(c, "EINVAL",
				 "needs line (number) and level (0 or 1)");
	return cmd_done(c,
			splitvm_irq_set(c->vm, (unsigned int)line, (int)level));
}

static int cmd_pulse(struct cmd_ctx *c)
{
	long long line;
	int r;

	if (!arg_number(c, "line", 0, 1023, &line))
		return cmd_error(c, "EINVAL", "needs line (number)");
	r = splitvm_irq_set(c->vm, (unsigned int)line, 1);
	if (!r)
		r = splitvm_irq_set(c->vm, (unsigned int)line, 0);
	return cmd_done(c, r);
}

static int cmd_msi(struct cmd_ctx *c)
{
	long long address, data;

	if (!arg_number(c, "address", 0, INT64_MAX, &address) ||
	    !arg_number(c, "data", 0, UINT32_MAX, &data))
		return cmd_error(c, "EINVAL", "needs address and data");
	return cmd_done(c,
			splitvm_msi(c->vm, (uint64_t)address, (uint32_t)data));
}

/* The vCPU a command names: "cpu", or def when absent. */
static bool arg_cpu(struct cmd_ctx *c, long long def, long long *cpu)
{
	if (!json_get(c->obj, "cpu")) {
		*cpu = def;
		return def >= -1;
	}
	return arg_number(c, "cpu", -1, 1023, cpu);
}

static int cmd_nmi(struct cmd_ctx *c)
{
	long long cpu;

	if (!arg_cpu(c, -1, &cpu))
		return cmd_error(c, "EINVAL",
				 "cpu must be a vCPU number or -1 (all)");
	return cmd_done(c, splitvm_nmi(c->vm, (int)cpu));
}

static int cmd_init(struct cmd_ctx *c)
{
	long long cpu;

	if (!arg_cpu(c, -2, &cpu) || cpu < 0)
		return cmd_error(c, "EINVAL", "needs cpu");
	return cmd_done(c, splitvm_init_cpu(c->vm, (unsigned int)cpu));
}

static int cmd_sipi(struct cmd_ctx *c)
{
	long long cpu, vector;

	if (!arg_cpu(c, -2, &cpu) || cpu < 0 ||
	    !arg_number(c, "vector", 0, 255, &vector))
		return cmd_error(c, "EINVAL", "needs cpu and vector (0-255)");
	return cmd_done(c, splitvm_sipi(c->vm, (unsigned int)cpu,
					(unsigned int)vector));
}

static int cmd_pause(struct cmd_ctx *c)
{
	return cmd_done(c, splitvm_pause(c->vm));
}

static int cmd_resume(struct cmd_ctx *c)
{
	return cmd_done(c, splitvm_resume(c->vm));
}

static int cmd_reset(struct cmd_ctx *c)
{
	return cmd_done(c, splitvm_reset(c->vm));
}

/*
 * snapshot: the VM's snapshot to --snapshot-file (the only file the
 * confined monitor can write), paused for it if it runs and then resumed.
 * A "path" other than that file's is refused.
 */
static int cmd_snapshot(struct cmd_ctx *c)
{
	const struct json_value *path = json_get(c->obj, "path");
	struct splitvm_snapshot *snap;
	bool paused;
	int r;

	if (c->ctl->snapshot_fd < 0 || !c->ctl->snapshot_path)
		return cmd_error(c, "ENODEV", "splitvm runs without "
					      "--snapshot-file");
	if (path && (path->type != JSON_STRING ||
		     !json_key_is(path->text, path->len,
				  c->ctl->snapshot_path)))
		return cmd_error(c, "EPERM", "path must be --snapshot-file's: "
					     "no other file can be opened now");
	r = splitvm_pause(c->vm);
	paused = r == 0;
	if (r == -EALREADY)
		r = 0; /* paused by the client: stays paused */
	if (!r)
		r = splitvm_snapshot_take(c->vm, &snap);
	if (!r) {
		r = splitvm_snapshot_write_fd(snap, c->ctl->snapshot_fd);
		splitvm_snapshot_free(snap);
	}
	if (paused)
		splitvm_resume(c->vm);
	return cmd_done(c, r);
}

static int cmd_quit(struct cmd_ctx *c)
{
	return cmd_done(c, c->vm ? splitvm_stop(c->vm) : 0);
}

void control_write_stats(struct splitvm *vm, FILE *out)
{
	struct splitvm_stats s;
	struct splitvm_irq_stats line;
	bool first = true;

	if (splitvm_get_stats(vm, &s)) {
		fputs("{}", out);
		return;
	}
	fprintf(out,
		"{\"exits_io\":%llu,\"exits_mmio\":%llu,"
		"\"exits_ioapic_eoi\":%llu,\"exits_irq_window\":%llu,"
		"\"exits_intr\":%llu,\"extint_injected\":%llu,"
		"\"nmi_injected\":%llu,\"unclaimed_pio\":%llu,"
		"\"unclaimed_mmio\":%llu,\"lines\":{",
		(unsigned long long)s.exits_io,
		(unsigned long long)s.exits_mmio,
		(unsigned long long)s.exits_ioapic_eoi,
		(unsigned long long)s.exits_irq_window,
		(unsigned long long)s.exits_intr,
		(unsigned long long)s.extint_injected,
		(unsigned long long)s.nmi_injected,
		(unsigned long long)s.unclaimed_pio,
		(unsigned long long)s.unclaimed_mmio);
	for (unsigned int i = 0; splitvm_irq_stats(vm, i, &line) == 0; i++) {
		if (!line.asserts && !line.deliveries)
			continue;
		fprintf(out,
			"%s\"%u\":{\"asserts\":%llu,\"deliveries\":%llu,"
			"\"eois\":%llu,\"coalesced\":%llu}",
			first ? "" : ",", i, (unsigned long long)line.asserts,
			(unsigned long long)line.deliveries,
			(unsigned long long)line.eois,
			(unsigned long long)line.coalesced);
		first = false;
	}
	fputs("}}", out);
}

static int cmd_stats(struct cmd_ctx *c)
{
	fprintf(c->out, "{\"ok\":true,\"cmd\":\"stats\",\"stats\":");
	control_write_stats(c->vm, c->out);
	fputs("}\n", c->out);
	return 0;
}

static int cmd_state(struct cmd_ctx *c)
{
	struct splitvm_ioapic_state io;
	struct splitvm_pic_state pic;
	int r = splitvm_get_ioapic_state(c->vm, &io);

	if (!r)
		r = splitvm_get_pic_state(c->vm, &pic);
	if (r)
		return cmd_done(c, r);
	fprintf(c->out,
		"{\"ok\":true,\"cmd\":\"state\",\"ioapic\":{\"id\":%u,"
		"\"version\":%u,\"entries\":[",
		io.id, io.version);
	for (unsigned int i = 0; i < io.pins; i++)
		fprintf(c->out, "%s\"0x%016llx\"", i ? "," : "",
			(unsigned long long)io.entries[i]);
	fputs("],\"lines\":[", c->out);
	for (unsigned int i = 0; i < io.pins; i++)
		fprintf(c->out, "%s%u", i ? "," : "", io.lines[i]);
	fputs("]},\"pic\":[", c->out);
	for (unsigned int i = 0; i < 2; i++) {
		const struct splitvm_pic_chip_state *p = &pic.chip[i];

		fprintf(c->out,
			"%s{\"irr\":%u,\"isr\":%u,\"imr\":%u,\"elcr\":%u,"
			"\"base\":%u}",
			i ? "," : "", p->irr, p->isr, p->imr, p->elcr,
			p->vector_base);
	}
	fputs("]}\n", c->out);
	return 0;
}

/* Each command with the keys it takes beside "cmd": any other key is
 * refused, so a misspelt one ("cpus") never means a default. */
static const struct {
	const char *name;
	int (*fn)(struct cmd_ctx *c);
	const char *keys[2];
} commands[] = {
	{ "irq", cmd_irq, { "line", "level" } },
	{ "pulse", cmd_pulse, { "line" } },
	{ "msi", cmd_msi, { "address", "data" } },
	{ "nmi", cmd_nmi, { "cpu" } },
	{ "init", cmd_init, { "cpu" } },
	{ "sipi", cmd_sipi, { "cpu", "vector" } },
	{ "pause", cmd_pause, { NULL } },
	{ "resume", cmd_resume, { NULL } },
	{ "reset", cmd_reset, { NULL } },
	{ "stats", cmd_stats, { NULL } },
	{ "state", cmd_state, { NULL } },
	{ "snapshot", cmd_snapshot, { "path" } },
	{ "quit", cmd_quit, { NULL } },
};

/* The first key of obj that command i does not take, or -1. */
static int cmd_unknown_key(size_t i, const struct json_object *obj)
{
	for (unsigned int m = 0; m < obj->nr; m++) {
		const char *key = obj->member[m].key;
		size_t len = obj->member[m].key_len;
		bool known = json_key_is(key, len, "cmd");

		for (size_t k = 0; !known && k < ARRAY_SIZE(commands[i].keys);
		     k++)
			known = commands[i].keys[k] &&
				json_key_is(key, len, commands[i].keys[k]);
		if (!known)
			return (int)m;
	}
	return -1;
}

bool control_command(const struct control *ctl, struct splitvm *vm,
		     const char *line, size_t len, FILE *out)
{
	struct json_object obj;
	struct cmd_ctx c = { ctl, vm, &obj, out, "?" };
	struct json_parser jp;
	const struct json_value *name;
	int unknown;

	if (!json_parse(&jp, line, len, &obj)) {
		cmd_error(&c, "EPROTO",
			  "not a JSON object with a \"cmd\" string: %s at "
			  "byte %zu",
			  jp.why, (size_t)(jp.p - jp.start) + 1);
		return true;
	}
	name = json_get(&obj, "cmd");
	if (!name || name->type != JSON_STRING) {
		cmd_error(&c, "EPROTO",
			  "not a JSON object with a \"cmd\" string");
		return true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (!json_key_is(name->text, name->len, commands[i].name))
			continue;
		c.name = commands[i].name;
		unknown = cmd_unknown_key(i, &obj);
		if (unknown >= 0) {
			int klen = (int)obj.member[unknown].key_len;

			cmd_error(&c, "EINVAL", "unknown key \"%.*s\"",
				  klen > 32 ? 32 : klen,
				  obj.member[unknown].key);
			return true;
		}
		if (commands[i].fn == cmd_quit) {
			cmd_quit(&c);
			return false;
		}
		if (!vm)
			cmd_error(&c, "ESRCH", "the VM has ended");
		else
			commands[i].fn(&c);
		return true;
	}
	cmd_error(&c, "ENOSYS", "unknown command");
	return true;
}

/* ---- Clients ------------------------------------------------------------ */

struct client {
	bool used;
	bool stdio;    /* --control -: no stall limits, nobody else to serve */
	bool gated;    /* out_fd may block: write what poll() allows */
	bool eof;      /* nothing more to read */
	bool skipping; /* discarding the rest of an overlong line */
	unsigned int id;
	int in_fd, out_fd; /* the same socket, or our stdin and stdout */
	long long in_time, out_time; /* ms: the last progress either way */
	size_t in_len;
	char in[CONTROL_LINE_MAX];
	char *out;
	size_t out_off, out_len, out_size;
};

struct server {
	struct control *c;
	bool quit; /* a client said quit: the VM has ended for all */
	unsigned int next_id;
	long long accept_again; /* ms: out of descriptors, try then */
	struct client client[CONTROL_MAX_CLIENTS];
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static size_t client_pending(const struct client *cl)
{
	return cl->out_len - cl->out_off;
}

static bool client_has_line(const struct client *cl)
{
	return memchr(cl->in, '\n', cl->in_len) != NULL;
}

/* Whether to read more: not past the end, not with answers unread. */
static bool client_wants_input(const struct client *cl)
{
	return !cl->eof && client_pending(cl) <= CONTROL_OUT_HIGH &&
	       (cl->skipping || cl->in_len < sizeof(cl->in));
}

static void client_add(struct server *s, int in_fd, int out_fd, bool stdio,
		       bool gated)
{
	for (size_t i = 0; i < ARRAY_SIZE(s->client); i++) {
		struct client *cl = &s->client[i];

		if (cl->used)
			continue;
		*cl = (struct client){
			.used = true,
			.stdio = stdio,
			.gated = gated,
			.id = stdio ? 0 : ++s->next_id,
			.in_fd = in_fd,
			.out_fd = out_fd,
			.in_time = now_ms(),
		};
		return;
	}
}

/* Ends a client; why, when it is dropped rather than gone, is logged. */
static void client_close(struct client *cl, const char *why)
{
	if (why && cl->stdio)
		fprintf(stderr,
			"splitvm: --control: stopped reading stdin: %s\n", why);
	else if (why)
		fprintf(stderr, "splitvm: --control: dropped client %u: %s\n",
			cl->id, why);
	close(cl->in_fd);
	if (cl->out_fd != cl->in_fd)
		close(cl->out_fd);
	free(cl->out);
	*cl = (struct client){ .used = false };
}

/* Queues an answer; false when that drops the client. */
static bool client_queue(struct client *cl, const char *buf, size_t len)
{
	size_t pending = client_pending(cl);

	if (pending + len > CONTROL_OUT_MAX) {
		client_close(cl, "its unread answers passed 1 MiB");
		return false;
	}
	if (!pending) {
		cl->out_off = cl->out_len = 0;
		cl->out_time = now_ms();
	} else if (cl->out_off) {
		memmove(cl->out, cl->out + cl->out_off, pending);
		cl->out_off = 0;
		cl->out_len = pending;
	}
	if (cl->out_len + len > cl->out_size) {
		size_t size = cl->out_size ? cl->out_size : 4096;
		char *p;

		while (size < cl->out_len + len)
			size *= 2;
		p = realloc(cl->out, size);
		if (!p) {
			client_close(cl, "out of memory");
			return false;
		}
		cl->out = p;
		cl->out_size = size;
	}
	memcpy(cl->out + cl->out_len, buf, len);
	cl->out_len += len;
	return true;
}

static bool client_reply_error(struct client *cl, const char *code,
			       const char *why)
{
	char buf[160];
	int n = snprintf(buf, sizeof(buf),
			 "{\"ok\":false,\"cmd\":\"?\",\"code\":\"%s\","
			 "\"error\":\"%s\"}\n",
			 code, why);

	return client_queue(cl, buf, (size_t)n);
}

/*
 * Writes what the client takes without waiting: all it will take on a
 * non-blocking descriptor; one pipe-atomic chunk, when poll() said so, on
 * a stdout that could not be made non-blocking (a write no larger than
 * PIPE_BUF to a pipe or socket poll() calls writable does not wait).
 * False when the client is gone.
 */
static bool client_flush(struct client *cl, bool writable)
{
	while (client_pending(cl)) {
		size_t len = client_pending(cl);
		ssize_t n;

		if (cl->gated) {
			if (!writable)
				return true;
			writable = false;
			if (len > PIPE_BUF)
				len = PIPE_BUF;
		}
		n = write(cl->out_fd, cl->out + cl->out_off, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN;
		}
		cl->out_off += (size_t)n;
		cl->out_time = now_ms();
	}
	cl->out_off = cl->out_len = 0;
	return true;
}

/* Reads what there is; an error ends the input as EOF does. */
static void client_read(struct client *cl)
{
	ssize_t n = read(cl->in_fd, cl->in + cl->in_len,
			 sizeof(cl->in) - cl->in_len);
	char *nl;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		cl->eof = true;
		return;
	}
	cl->in_time = now_ms();
	if (!cl->skipping) {
		cl->in_len += (size_t)n;
		return;
	}
	/* in_len is 0 while skipping: keep what follows the newline */
	nl = memchr(cl->in, '\n', (size_t)n);
	if (nl) {
		cl->skipping = false;
		cl->in_len = (size_t)(cl->in + n - (nl + 1));
		memmove(cl->in, nl + 1, cl->in_len);
	}
}

static bool line_blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return false;
	return true;
}

/* Runs one line (without its newline); false when the client is dropped. */
static bool client_command(struct server *s, struct client *cl,
			   const char *line, size_t len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f;
	bool ok;

	if (line_blank(line, len))
		return true; /* no command, no answer */
	f = open_memstream(&buf, &size);
	if (!f) {
		client_close(cl, "out of memory");
		return false;
	}
	pthread_mutex_lock(&s->c->lock);
	if (!control_command(s->c, s->quit ? NULL : s->c->vm, line, len, f))
		s->quit = true;
	pthread_mutex_unlock(&s->c->lock);
	ok = !ferror(f);
	if (fclose(f) || !ok) {
		free(buf);
		client_close(cl, "out of memory");
		return false;
	}
	ok = client_queue(cl, buf, size);
	free(buf);
	return ok;
}

/*
 * Runs the complete lines read, as long as the client reads its answers.
 * A command is a whole line: one cut off by the end of the input is
 * refused, not run.
 */
static void client_lines(struct server *s, struct client *cl)
{
	char *nl;

	while (client_pending(cl) <= CONTROL_OUT_HIGH &&
	       (nl = memchr(cl->in, '\n', cl->in_len))) {
		size_t len = (size_t)(nl - cl->in);

		if (!client_command(s, cl, cl->in, len))
			return;
		cl->in_len -= len + 1;
		memmove(cl->in, nl + 1, cl->in_len);
		cl->in_time = now_ms();
	}
	if (cl->in_len == sizeof(cl->in) && !client_has_line(cl)) {
		cl->in_len = 0;
		cl->skipping = true;
		client_reply_error(cl, "EMSGSIZE", "line too long");
	} else if (cl->eof && cl->in_len && !client_has_line(cl)) {
		cl->in_len = 0;
		client_reply_error(cl, "EPROTO",
				   "the input ended in the middle of a line");
	}
}

/* Writing failed: a socket's peer hung up, which is its right; stdout
 * failing is worth a line. */
static void client_gone(struct client *cl)
{
	char why[80];

	if (!cl->stdio) {
		client_close(cl, NULL);
		return;
	}
	snprintf(why, sizeof(why), "writing stdout failed: %s",
		 strerror(errno));
	client_close(cl, why);
}

/* What poll() said for the client: read, run, write, until none helps. */
static void client_step(struct server *s, struct client *cl, short in_ev,
			short out_ev)
{
	bool writable = out_ev != 0;

	if (in_ev && client_wants_input(cl))
		client_read(cl);
	for (;;) {
		client_lines(s, cl);
		if (!cl->used)
			return;
		if (!client_flush(cl, writable)) {
			client_gone(cl);
			return;
		}
		writable = false;
		if (client_pending(cl) > CONTROL_OUT_HIGH ||
		    !client_has_line(cl))
			break;
	}
	if (cl->eof && !cl->in_len && !client_pending(cl))
		client_close(cl, NULL);
}

/* When a socket client counts as stalled, or LLONG_MAX. */
static long long client_deadline(const struct client *cl)
{
	long long t = LLONG_MAX;

	if (cl->stdio)
		return t;
	if (client_pending(cl))
		t = cl->out_time + CONTROL_STALL_MS;
	if (!cl->eof &&
	    (cl->skipping || (cl->in_len && !client_has_line(cl))) &&
	    cl->in_time + CONTROL_STALL_MS < t)
		t = cl->in_time + CONTROL_STALL_MS;
	return t;
}

static void client_check_stall(struct client *cl, long long now)
{
	if (client_deadline(cl) > now)
		return;
	if (client_pending(cl) && cl->out_time + CONTROL_STALL_MS <= now)
		client_close(cl, "its answers went unread for 5 s");
	else
		client_close(cl,
			     "it sent part of a line, then nothing for 5 s");
}

static void server_accept(struct server *s)
{
	static const char busy[] =
		"{\"ok\":false,\"cmd\":\"?\",\"code\":"
		"\"EBUSY\",\"error\":\"too many clients\"}\n";
	int fd = accept4(s->c->listen_fd, NULL, NULL,
			 SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		/* out of descriptors: the connection stays queued, and
		 * polling for it again at once would spin */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM)
			s->accept_again = now_ms() + 1000;
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(s->client); i++)
		if (!s->client[i].used) {
			client_add(s, fd, fd, false, false);
			return;
		}
	fprintf(stderr,
		"splitvm: --control: refused a client: %d are connected\n",
		CONTROL_MAX_CLIENTS);
	if (write(fd, busy, sizeof(busy) - 1) < 0) {
		/* it will not know why */
	}
	close(fd);
}

/* Serves the socket and every client, or stdin, until control_close(). */
static void server_run(struct server *s)
{
	struct control *c = s->c;
	struct pollfd pfd[2 + 2 * CONTROL_MAX_CLIENTS];

	for (;;) {
		long long deadline = LLONG_MAX, now;
		int timeout = -1;

		pfd[0] = (struct pollfd){ .fd = c->wake[0], .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = -1, .events = POLLIN };
		if (c->listen_fd >= 0 && s->accept_again == 0)
			pfd[1].fd = c->listen_fd;
		else if (c->listen_fd >= 0)
			deadline = s->accept_again;
		for (size_t i = 0; i < ARRAY_SIZE(s->client); i++) {
			const struct client *cl = &s->client[i];
			struct pollfd *in = &pfd[2 + 2 * i], *out = in + 1;
			long long t;

			*in = (struct pollfd){ .fd = -1 };
			*out = (struct pollfd){ .fd = -1 };
			if (!cl->used)
				continue;
			if (client_wants_input(cl))
				in->events = POLLIN;
			if (client_pending(cl)) {
				if (cl->in_fd == cl->out_fd)
					in->events |= POLLOUT;
				else
					*out = (struct pollfd){ cl->out_fd,
								POLLOUT, 0 };
			}
			if (in->events)
				in->fd = cl->in_fd;
			t = client_deadline(cl);
			if (t < deadline)
				deadline = t;
		}
		now = now_ms();
		if (deadline <= now)
			timeout = 0;
		else if (deadline - now < INT_MAX)
			timeout = (int)(deadline - now);
		if (poll(pfd, ARRAY_SIZE(pfd), timeout) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "splitvm: --control: poll: %s\n",
				strerror(errno));
			return;
		}
		if (pfd[0].revents)
			return;
		now = now_ms();
		if (s->accept_again && s->accept_again <= now)
			s->accept_again = 0;
		for (size_t i = 0; i < ARRAY_SIZE(s->client); i++) {
			struct client *cl = &s->client[i];
			short in_ev = pfd[2 + 2 * i].revents;
			short out_ev = pfd[3 + 2 * i].revents;

			if (cl->in_fd == cl->out_fd) {
				out_ev = in_ev & (POLLOUT | POLLERR | POLLHUP |
						  POLLNVAL);
				in_ev &= POLLIN | POLLERR | POLLHUP | POLLNVAL;
			}
			if (cl->used && (in_ev || out_ev))
				client_step(s, cl, in_ev, out_ev);
			if (cl->used)
				client_check_stall(cl, now_ms());
		}
		/* after the clients: a new one has no poll result yet */
		if (pfd[1].revents)
			server_accept(s);
	}
}

/* The last answers, if they can go at once (the quit's own answer). */
static void server_end(struct server *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(s->client); i++) {
		struct client *cl = &s->client[i];
		struct pollfd p = { cl->out_fd, POLLOUT, 0 };

		if (!cl->used)
			continue;
		if (client_pending(cl))
			client_flush(cl, !cl->gated || (poll(&p, 1, 0) == 1 &&
							p.revents == POLLOUT));
		client_close(cl, NULL);
	}
}

/* ---- The channel -------------------------------------------------------- */

/*
 * Binds the socket at path. A socket file that nobody listens on (the
 * connect is refused) was left by a run that was killed: it is replaced.
 * One that is listened on, or a file of another kind, is left alone.
 */
static int control_bind(int fd, const struct sockaddr_un *addr)
{
	struct stat st;
	int probe, r;

	if (bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0)
		return 0;
	if (errno != EADDRINUSE)
		return -errno;
	if (lstat(addr->sun_path, &st) < 0)
		return -EADDRINUSE; /* gone meanwhile: it was not ours */
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -errno;
	r = connect(probe, (const struct sockaddr *)addr, sizeof(*addr)) ? errno
									 : 0;
	close(probe);
	if (r == 0 || r == EAGAIN) {
		fprintf(stderr,
			"splitvm: --control: another process is listening on "
			"'%s'\n",
			addr->sun_path);
		return -EADDRINUSE;
	}
	if (r != ECONNREFUSED)
		return -r;
	if (unlink(addr->sun_path) < 0 && errno != ENOENT)
		return -errno;
	if (bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0)
		return -errno;
	return 0;
}

/*
 * --control -: descriptors of our own for stdin and stdout. A pipe or a
 * terminal on stdout is opened anew, non-blocking for us alone (O_NONBLOCK
 * on fd 1 itself would reach the caller's shell through the shared open
 * file); a socket is written as far as poll() allows; a file or /dev/null
 * takes all at once.
 */
static int control_open_stdio(struct control *c)
{
	struct stat st = { 0 };

	c->in_fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	if (c->in_fd < 0)
		return -errno;
	c->out_fd = -1;
	if (fstat(STDOUT_FILENO, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)))
		c->out_fd = open("/proc/self/fd/1",
				 O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (c->out_fd < 0) {
		c->out_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		c->out_gated = !S_ISREG(st.st_mode);
	}
	if (c->out_fd < 0) {
		int r = -errno;

		close(c->in_fd);
		return r;
	}
	return 0;
}

/*
 * The socket file must go when the run ends, but no confined thread may
 * unlink: a small process forked before any thread or filter exists waits
 * for the end of a pipe and removes the file then, however the run ended
 * (even a SIGKILL, which would otherwise leave a stale socket). It holds
 * nothing else: not the listening socket, and no signal stops it early.
 * Returns the write end of the pipe it waits on and sets *ret_done to the
 * read end of the one it closes once the file is gone; or -1 (then
 * control_close() unlinks).
 */
static int spawn_janitor(int listen_fd, const char *path, int *ret_done)
{
	int go[2], done[2];
	pid_t pid;
	char byte;

	if (pipe2(go, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(done, O_CLOEXEC) < 0) {
		close(go[0]);
		close(go[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		close(listen_fd);
		close(go[1]);
		close(done[0]);
		while (read(go[0], &byte, 1) < 0 && errno == EINTR)
			;
		unlink(path);
		_exit(0); /* closes done[1]: the parent's wait ends */
	}
	close(go[0]);
	close(done[1]);
	if (pid < 0) {
		close(go[1]);
		close(done[0]);
		return -1;
	}
	*ret_done = done[0];
	return go[1];
}

int control_open(struct control *c, const char *spec)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int r;

	*c = (struct control){ .listen_fd = -1,
			       .in_fd = -1,
			       .out_fd = -1,
			       .janitor = -1,
			       .janitor_done = -1,
			       .snapshot_fd = -1 };
	pthread_mutex_init(&c->lock, NULL);
	if (pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	if (!strcmp(spec, "-")) {
		r = control_open_stdio(c);
		if (r)
			goto err_wake;
		c->opened = true;
		return 0;
	}
	r = -ENAMETOOLONG;
	if (strlen(spec) >= sizeof(addr.sun_path))
		goto err_wake;
	strcpy(addr.sun_path, spec);
	c->listen_fd =
		socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->listen_fd < 0) {
		r = -errno;
		goto err_wake;
	}
	r = control_bind(c->listen_fd, &addr);
	if (r)
		goto err_socket;
	if (listen(c->listen_fd, CONTROL_MAX_CLIENTS) < 0) {
		r = -errno;
		unlink(spec);
		goto err_socket;
	}
	c->path = spec;
	c->janitor = spawn_janitor(c->listen_fd, spec, &c->janitor_done);
	c->opened = true;
	return 0;

err_socket:
	close(c->listen_fd);
	c->listen_fd = -1;
err_wake:
	close(c->wake[0]);
	close(c->wake[1]);
	return r;
}

static void *control_thread(void *arg)
{
	struct control *c = arg;
	struct server *s;

	pthread_setname_np(pthread_self(), "splitvm-control");
	s = calloc(1, sizeof(*s));
	if (!s) {
		fputs("splitvm: --control: out of memory\n", stderr);
		return NULL;
	}
	s->c = c;
	if (c->in_fd >= 0) {
		client_add(s, c->in_fd, c->out_fd, true, c->out_gated);
		c->in_fd = c->out_fd = -1; /* the client's now */
	}
	if (c->sandbox && splitvm_sandbox_control_thread(c->sandbox))
		fputs("splitvm: --control: the sandbox failed\n", stderr);
	else
		server_run(s);
	server_end(s);
	free(s);
	return NULL;
}

int control_start(struct control *c, struct splitvm *vm,
		  enum splitvm_sandbox sandbox)
{
	int r;

	c->vm = vm;
	c->sandbox = sandbox;
	r = pthread_create(&c->thread, NULL, control_thread, c);
	if (r)
		return -r;
	c->started = true;
	return 0;
}

void control_close(struct control *c)
{
	if (!c->opened)
		return;
	pthread_mutex_lock(&c->lock);
	c->vm = NULL;
	pthread_mutex_unlock(&c->lock);
	if (c->started) {
		/* the thread only ever waits in poll(): it ends at once */
		while (write(c->wake[1], "", 1) < 0 && errno == EINTR)
			;
		pthread_join(c->thread, NULL);
		c->started = false;
	}
	if (c->in_fd >= 0)
		close(c->in_fd);
	if (c->out_fd >= 0)
		close(c->out_fd);
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	/* The socket's remover sees the pipe close (as it would on a
	 * crash or SIGKILL) and unlinks it; this thread is confined and may
	 * not. Without a remover, as a last resort, now. */
	if (c->janitor >= 0) {
		char byte;

		close(c->janitor);
		/* Until it has: a caller may look for the file at our exit. */
		while (read(c->janitor_done, &byte, 1) < 0 && errno == EINTR)
			;
		close(c->janitor_done);
	} else if (c->path) {
		unlink(c->path);
	}
	close(c->wake[0]);
	close(c->wake[1]);
	pthread_mutex_destroy(&c->lock);
	c->opened = false;
}
