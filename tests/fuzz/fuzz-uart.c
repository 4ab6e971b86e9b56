// SPDX-License-Identifier: MIT
/* libFuzzer harness: the 16550A's registers, host input, console and IRQ. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "uart.h"

/*
 * Input: a configuration byte (bit 0: no console sink, bit 1: no IRQ
 * line), then operations, one opcode byte each followed by its operands.
 */
enum op {
	OP_WRITE,   /* offset selector, len selector, value */
	OP_READ,    /* offset selector, len selector */
	OP_RECEIVE, /* count byte, then that many bytes */
	OP_RESET,
	OP_TX, /* value: a THR write with DLAB clear, as a driver does */
	NR_OPS
};

#define REG_THR 0
#define REG_IER 1
#define REG_IIR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define REG_MSR 6

#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

/*
 * A shadow of the receiver, to check that bytes come out of RBR in the
 * order the host pushed them, none lost, none made up. It is only exact
 * from a known state on: writes that may drop or add receiver bytes
 * behind its back (FCR, THR in loopback) make it unknown until the
 * receiver is seen empty (LSR.DR clear) again.
 */
struct shadow_rx {
	bool known;
	uint8_t buf[UART_FIFO_SIZE];
	unsigned int head, count;
};

struct harness {
	struct uart *u;
	bool has_sink, has_irq;
	bool level;		 /* the line as last driven */
	unsigned int sink_calls; /* in the current operation */
	uint8_t sink_byte;
	struct shadow_rx rx;
};

static void h_sink(void *ctx, const char *data, size_t len)
{
	struct harness *h = ctx;

	/* "one byte per call" */
	FUZZ_CHECK(len == 1);
	h->sink_calls++;
	h->sink_byte = (uint8_t)data[0];
}

static void h_irq(void *router, unsigned int line, bool level)
{
	struct harness *h = router;

	FUZZ_CHECK(line == 4);
	/* "only when its level changes" */
	FUZZ_CHECK(level != h->level);
	h->level = level;
}

static uint8_t reg_read(struct harness *h, unsigned int reg)
{
	const struct io_access a = { UART_COM1_BASE + reg, reg, 1, 0 };

	return (uint8_t)uart_ops.read(h->u, &a);
}

static void reg_write(struct harness *h, uint64_t off, unsigned int len,
		      uint8_t val)
{
	const struct io_access a = { UART_COM1_BASE + off, off, len, 0 };

	uart_ops.write(h->u, &a, val);
}

static void rx_reset(struct shadow_rx *rx)
{
	rx->known = true;
	rx->head = rx->count = 0;
}

/* An RBR read: what the shadow expects, if it knows. */
static void check_rbr(struct harness *h, uint8_t v, bool had_data)
{
	struct shadow_rx *rx = &h->rx;

	if (!rx->known)
		return;
	FUZZ_CHECK(had_data == (rx->count > 0));
	if (!rx->count)
		return;
	FUZZ_CHECK(v == rx->buf[rx->head]);
	rx->head = (rx->head + 1) % UART_FIFO_SIZE;
	rx->count--;
}

static void do_read(struct harness *h, uint64_t off, unsigned int len)
{
	const struct io_access a = { UART_COM1_BASE + off, off, len, 0 };
	uint8_t lcr = reg_read(h, REG_LCR), lsr_before = 0, fcr_fifo;
	bool level_before = h->level; /* an IIR read may clear THRE */
	uint64_t v;

	if (len == 1 && off == REG_THR && !(lcr & LCR_DLAB))
		lsr_before = reg_read(h, REG_LSR);
	v = uart_ops.read(h->u, &a);
	if (len != 1 || off >= UART_REGION_SIZE) {
		FUZZ_CHECK(v == io_all_ones(len));
		return;
	}
	FUZZ_CHECK(v <= 0xff);
	switch (off) {
	case REG_THR:
		if (!(lcr & LCR_DLAB))
			check_rbr(h, (uint8_t)v, lsr_before & LSR_DR);
		break;
	case REG_IER:
		if (!(lcr & LCR_DLAB))
			FUZZ_CHECK(!(v & 0xf0));
		break;
	case REG_IIR:
		fcr_fifo = v & 0xc0;
		FUZZ_CHECK(fcr_fifo == 0 || fcr_fifo == 0xc0);
		FUZZ_CHECK(!(v & 0x30));
		/* the line is high exactly while an interrupt is pending */
		if (h->has_irq)
			FUZZ_CHECK(level_before == !(v & 1));
		break;
	case REG_MCR:
		FUZZ_CHECK(!(v & 0xe0));
		break;
	case REG_LSR:
		/* output is never back-pressured: THR is always empty */
		FUZZ_CHECK((v & (LSR_THRE | LSR_TEMT)) ==
			   (LSR_THRE | LSR_TEMT));
		if (h->rx.known)
			FUZZ_CHECK(!!(v & LSR_DR) == (h->rx.count > 0));
		else if (!(v & LSR_DR))
			rx_reset(&h->rx);
		break;
	case REG_MSR:
		/* outside loopback, a connected modem: DCD, DSR, CTS */
		if (!(reg_read(h, REG_MCR) & MCR_LOOP))
			FUZZ_CHECK((v & 0xf0) == 0xb0);
		break;
	}
}

static void do_write(struct harness *h, uint64_t off, unsigned int len,
		     uint8_t val)
{
	uint8_t lcr = reg_read(h, REG_LCR), mcr = reg_read(h, REG_MCR);
	bool thr = len == 1 && off == REG_THR && !(lcr & LCR_DLAB);

	h->sink_calls = 0;
	reg_write(h, off, len, val);
	if (len == 1 && off == 2)
		h->rx.known = false; /* FCR: may reset the receiver */
	if (thr && (mcr & MCR_LOOP))
		h->rx.known = false; /* looped back into the receiver */
	/* a THR byte goes to the console at once, loopback keeps it */
	if (thr && !(mcr & MCR_LOOP) && h->has_sink) {
		FUZZ_CHECK(h->sink_calls == 1);
		FUZZ_CHECK(h->sink_byte == val);
	} else {
		FUZZ_CHECK(h->sink_calls == 0);
	}
}

static void do_receive(struct harness *h, struct fuzz_in *in)
{
	uint8_t buf[UART_FIFO_SIZE + 4];
	size_t len = fuzz_u8(in) % sizeof(buf), n;
	bool ready = uart_rx_ready(h->u);
	bool loop = reg_read(h, REG_MCR) & MCR_LOOP;

	for (size_t i = 0; i < len; i++)
		buf[i] = fuzz_u8(in);
	n = uart_receive(h->u, buf, len);
	FUZZ_CHECK(n <= len && n <= UART_FIFO_SIZE);
	if (loop)
		FUZZ_CHECK(n == 0); /* loopback cuts the input off */
	if (!ready)
		FUZZ_CHECK(n == 0);
	else if (len)
		FUZZ_CHECK(n >= 1); /* "would take at least one byte" */
	if (!h->rx.known)
		return;
	FUZZ_CHECK(h->rx.count + n <= UART_FIFO_SIZE);
	for (size_t i = 0; i < n; i++)
		h->rx.buf[(h->rx.head + h->rx.count++) % UART_FIFO_SIZE] =
			buf[i];
}

static uint64_t pick_offset(struct fuzz_in *in)
{
	uint8_t b = fuzz_u8(in);

	return b < 0xf0 ? b % UART_REGION_SIZE : b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct harness h;
	const struct console_sink sink = { h_sink, &h };
	const struct irq_line irq = { h_irq, &h, 4 };
	struct fuzz_in in;
	unsigned int len;
	uint64_t off;
	uint8_t cfg, lcr;

	fuzz_in_init(&in, data, size);
	cfg = fuzz_u8(&in);
	memset(&h, 0, sizeof(h));
	h.has_sink = !(cfg & 1);
	h.has_irq = !(cfg & 2);
	FUZZ_CHECK(uart_new(h.has_sink ? &sink : NULL, h.has_irq ? &irq : NULL,
			    &h.u) == 0);
	rx_reset(&h.rx);
	while (fuzz_more(&in)) {
		switch ((enum op)(fuzz_u8(&in) % NR_OPS)) {
		case OP_WRITE:
			off = pick_offset(&in);
			len = fuzz_len(&in);
			do_write(&h, off, len, fuzz_u8(&in));
			break;
		case OP_READ:
			off = pick_offset(&in);
			len = fuzz_len(&in);
			do_read(&h, off, len);
			break;
		case OP_RECEIVE:
			do_receive(&h, &in);
			break;
		case OP_RESET:
			uart_ops.reset(h.u);
			rx_reset(&h.rx);
			FUZZ_CHECK(!h.level); /* reset state: no interrupt */
			break;
		case OP_TX:
			lcr = reg_read(&h, REG_LCR);
			reg_write(&h, REG_LCR, 1, lcr & ~LCR_DLAB);
			do_write(&h, REG_THR, 1, fuzz_u8(&in));
			break;
		case NR_OPS:
			break;
		}
	}
	uart_ops.destroy(h.u);
	return 0;
}
