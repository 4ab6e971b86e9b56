// SPDX-License-Identifier: MIT
/*
 * The CLI's --control channel: a script sends one flat JSON object a line,
 * {"cmd":"irq","line":4,"level":1}, and gets one JSON line back,
 * {"ok":true,"cmd":"irq"} or {"ok":false,"cmd":"irq","error":"..."}.
 * Everything read is untrusted: bounded lines, checked numbers.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"

#define LINE_MAX_LEN 1024

/* ---- A few words of JSON ------------------------------------------------ */

/* The text after "key": in a flat object, or NULL. */
static const char *json_find(const char *line, const char *key)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(line, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	p += strspn(p, " \t");
	if (*p != ':')
		return NULL;
	return p + 1 + strspn(p + 1, " \t");
}

/* A string value, at most size - 1 bytes, without escapes. */
static bool json_string(const char *line, const char *key, char *buf,
			size_t size)
{
	const char *p = json_find(line, key), *end;

	if (!p || *p != '"')
		return false;
	end = strchr(p + 1, '"');
	if (!end || (size_t)(end - p - 1) >= size)
		return false;
	memcpy(buf, p + 1, (size_t)(end - p - 1));
	buf[end - p - 1] = 0;
	return true;
}

/* A whole number in [min, max]: decimal, or a "0x..." string for big
 * values such as MSI addresses. */
static bool json_number(const char *line, const char *key, long long min,
			long long max, long long *ret)
{
	const char *p = json_find(line, key);
	char *end;
	int base = 10;

	if (!p)
		return false;
	if (*p == '"') {
		p++;
		base = 16;
		if (strncmp(p, "0x", 2))
			return false;
	}
	errno = 0;
	*ret = strtoll(p, &end, base);
	if (errno || end == p || *ret < min || *ret > max)
		return false;
	return base == 10 || *end == '"';
}

/* ---- Commands ------------------------------------------------------------ */

struct cmd_ctx {
	struct splitvm *vm;
	const char *line;
	FILE *out;
	const char *name;
};

static int cmd_error(struct cmd_ctx *c, const char *why)
{
	fprintf(c->out, "{\"ok\":false,\"cmd\":\"%s\",\"error\":\"%s\"}\n",
		c->name, why);
	return -1;
}

/* Ends an answer: ok, or the errno of the call as the error. */
static int cmd_done(struct cmd_ctx *c, int r)
{
	if (r)
		return cmd_error(c, strerror(-r));
	fprintf(c->out, "{\"ok\":true,\"cmd\":\"%s\"}\n", c->name);
	return 0;
}

static int cmd_irq(struct cmd_ctx *c)
{
	long long line, level;

	if (!json_number(c->line, "line", 0, 1023, &line) ||
	    !json_number(c->line, "level", 0, 1, &level))
		return cmd_error(c, "needs line (number) and level (0 or 1)");
	return cmd_done(c, splitvm_irq_set(c->vm, (unsigned int)line,
					   (int)level));
}

static int cmd_pulse(struct cmd_ctx *c)
{
	long long line;
	int r;

	if (!json_number(c->line, "line", 0, 1023, &line))
		return cmd_error(c, "needs line (number)");
	r = splitvm_irq_set(c->vm, (unsigned int)line, 1);
	if (!r)
		r = splitvm_irq_set(c->vm, (unsigned int)line, 0);
	return cmd_done(c, r);
}

static int cmd_msi(struct cmd_ctx *c)
{
	long long address, data;

	if (!json_number(c->line, "address", 0, INT64_MAX, &address) ||
	    !json_number(c->line, "data", 0, UINT32_MAX, &data))
		return cmd_error(c, "needs address and data");
	return cmd_done(c, splitvm_msi(c->vm, (uint64_t)address,
				       (uint32_t)data));
}

/* The vCPU a command names: "cpu", or default when absent. */
static bool cmd_cpu(struct cmd_ctx *c, long long def, long long *cpu)
{
	if (!json_find(c->line, "cpu")) {
		*cpu = def;
		return def >= -1;
	}
	return json_number(c->line, "cpu", -1, 1023, cpu);
}

static int cmd_nmi(struct cmd_ctx *c)
{
	long long cpu;

	if (!cmd_cpu(c, -1, &cpu))
		return cmd_error(c, "cpu must be a vCPU number or -1 (all)");
	return cmd_done(c, splitvm_nmi(c->vm, (int)cpu));
}

static int cmd_init(struct cmd_ctx *c)
{
	long long cpu;

	if (!cmd_cpu(c, -2, &cpu) || cpu < 0)
		return cmd_error(c, "needs cpu");
	return cmd_done(c, splitvm_init_cpu(c->vm, (unsigned int)cpu));
}

static int cmd_sipi(struct cmd_ctx *c)
{
	long long cpu, vector;

	if (!cmd_cpu(c, -2, &cpu) || cpu < 0 ||
	    !json_number(c->line, "vector", 0, 255, &vector))
		return cmd_error(c, "needs cpu and vector (0-255)");
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
			first ? "" : ",", i,
			(unsigned long long)line.asserts,
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

static const struct {
	const char *name;
	int (*fn)(struct cmd_ctx *c);
} commands[] = {
	{"irq", cmd_irq},     {"pulse", cmd_pulse}, {"msi", cmd_msi},
	{"nmi", cmd_nmi},     {"init", cmd_init},   {"sipi", cmd_sipi},
	{"pause", cmd_pause}, {"resume", cmd_resume}, {"reset", cmd_reset},
	{"stats", cmd_stats}, {"state", cmd_state},
};

bool control_command(struct splitvm *vm, const char *line, FILE *out)
{
	struct cmd_ctx c = {vm, line, out, "?"};
	char name[16];

	if (!json_string(line, "cmd", name, sizeof(name))) {
		cmd_error(&c, "not a JSON object with a \\\"cmd\\\" string");
		return true;
	}
	c.name = name;
	if (!strcmp(name, "quit")) {
		cmd_done(&c, vm ? splitvm_stop(vm) : 0);
		return false;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(name, commands[i].name))
			continue;
		if (!vm)
			cmd_error(&c, "the VM has ended");
		else
			commands[i].fn(&c);
		return true;
	}
	c.name = "?";
	cmd_error(&c, "unknown command");
	return true;
}

/* ---- The channel ---------------------------------------------------------- */

int control_open(struct control *c, const char *spec)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int r;

	c->listen_fd = -1;
	c->path = NULL;
	pthread_mutex_init(&c->lock, NULL);
	if (!strcmp(spec, "-"))
		return 0;
	if (strlen(spec) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, spec);
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->listen_fd < 0)
		return -errno;
	if (bind(c->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(c->listen_fd, 1) < 0) {
		r = -errno;
		close(c->listen_fd);
		c->listen_fd = -1;
		return r;
	}
	c->path = spec;
	return 0;
}

/* Serves one connection (or stdin) line by line until EOF or "quit". */
static bool control_serve(struct control *c, FILE *in, FILE *out)
{
	char line[LINE_MAX_LEN];
	bool go_on = true;

	while (go_on && fgets(line, sizeof(line), in)) {
		if (!strchr(line, '\n') && !feof(in)) {
			int ch;

			while ((ch = fgetc(in)) != EOF && ch != '\n')
				;
			fputs("{\"ok\":false,\"cmd\":\"?\",\"error\":\"line "
			      "too long\"}\n",
			      out);
		} else if (line[strspn(line, " \t\r\n")]) {
			pthread_mutex_lock(&c->lock);
			go_on = control_command(c->vm, line, out);
			pthread_mutex_unlock(&c->lock);
		}
		fflush(out);
	}
	return go_on;
}

static void *control_thread(void *arg)
{
	struct control *c = arg;

	pthread_setname_np(pthread_self(), "splitvm-control");
	if (c->sandbox && splitvm_sandbox_control_thread(c->sandbox)) {
		fputs("splitvm: --control: the sandbox failed\n", stderr);
		return NULL;
	}

	if (c->listen_fd < 0) {
		control_serve(c, stdin, stdout);
		return NULL;
	}
	for (;;) {
		int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		FILE *in, *out;
		bool go_on;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		in = fdopen(fd, "r");
		out = in ? fdopen(dup(fd), "w") : NULL;
		if (!in || !out) {
			if (in)
				fclose(in);
			else
				close(fd);
			continue;
		}
		go_on = control_serve(c, in, out);
		fclose(in);
		fclose(out);
		if (!go_on)
			return NULL;
	}
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
	pthread_detach(c->thread);
	return 0;
}

void control_close(struct control *c)
{
	pthread_mutex_lock(&c->lock);
	c->vm = NULL;
	pthread_mutex_unlock(&c->lock);
	if (c->path)
		unlink(c->path);
	/* The thread may sit in accept() or read(): it ends with the process,
	 * and never touches a VM again. */
}
