// SPDX-License-Identifier: MIT
/* Unit tests of the 16550A UART, driven through its register interface. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fakes.h"
#include "isa_fdt.h"
#include "rng.h"
#include "uart.h"
#include "unit.h"
#include "snapshot_checks.h"

enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2,
       LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

struct rig {
	struct uart *u;
	struct fake_irq irq;
	struct fake_sink out;
};

static void rig_init(struct rig *r)
{
	const struct console_sink sink = {fake_sink_write, &r->out};
	const struct irq_line line = {fake_irq_set, &r->irq, 4};

	memset(r, 0, sizeof(*r));
	r->irq.line = line.line; /* the fake checks every set() is for it */
	ck_assert_int_eq(uart_new(&sink, &line, &r->u), 0);
}

static void rig_fini(struct rig *r)
{
	ck_assert_uint_eq(r->irq.redundant, 0);
	uart_ops.destroy(r->u);
}

static uint64_t rd_len(struct rig *r, unsigned int off, unsigned int len)
{
	const struct io_access a = {UART_COM1_BASE + off, off, len, 0};

	return uart_ops.read(r->u, &a);
}

static void wr_len(struct rig *r, unsigned int off, unsigned int len,
		   uint64_t v)
{
	const struct io_access a = {UART_COM1_BASE + off, off, len, 0};

	uart_ops.write(r->u, &a, v);
}

static uint8_t rd(struct rig *r, unsigned int off)
{
	return (uint8_t)rd_len(r, off, 1);
}

static void wr(struct rig *r, unsigned int off, uint8_t v)
{
	wr_len(r, off, 1, v);
}

static void rx(struct rig *r, const char *s)
{
	size_t n = strlen(s);

	ck_assert_uint_eq(uart_receive(r->u, (const uint8_t *)s, n), n);
}

START_TEST(uart_reset_state_matches_qemu)
{
	struct rig r;

	rig_init(&r);
	ck_assert_uint_eq(rd(&r, IER), 0x00);
	ck_assert_uint_eq(rd(&r, IIR), 0x01);
	ck_assert_uint_eq(rd(&r, LCR), 0x00);
	ck_assert_uint_eq(rd(&r, MCR), 0x08);
	ck_assert_uint_eq(rd(&r, LSR), 0x60);
	ck_assert_uint_eq(rd(&r, MSR), 0xb0);
	ck_assert_uint_eq(rd(&r, SCR), 0x00);
	wr(&r, LCR, 0x80);
	ck_assert_uint_eq(rd(&r, DLL), 12);
	ck_assert_uint_eq(rd(&r, DLM), 0);
	ck_assert(!r.irq.level);
	ck_assert_uint_eq(r.irq.sets, 0);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_registers_read_back)
{
	static const struct {
		unsigned int reg;
		uint8_t write, read;
	} cases[] = {
		{SCR, 0x5a, 0x5a}, {SCR, 0xff, 0xff}, {LCR, 0x03, 0x03},
		{LCR, 0x7f, 0x7f}, {IER, 0xff, 0x0f}, {IER, 0x05, 0x05},
		{MCR, 0xff, 0x1f}, {MCR, 0x0b, 0x0b}, {LCR, 0x00, 0x00},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rig r;

		rig_init(&r);
		wr(&r, cases[i].reg, cases[i].write);
		ck_assert_msg(rd(&r, cases[i].reg) == cases[i].read,
			      "case %zu", i);
		rig_fini(&r);
	}
}
END_TEST

START_TEST(uart_lsr_msr_writes_ignored)
{
	struct rig r;

	rig_init(&r);
	wr(&r, LSR, 0x1f);
	wr(&r, MSR, 0x0f);
	ck_assert_uint_eq(rd(&r, LSR), 0x60);
	ck_assert_uint_eq(rd(&r, MSR), 0xb0);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_dlab_aliases_divisor_latch)
{
	struct rig r;

	rig_init(&r);
	wr(&r, IER, 0x05);
	wr(&r, LCR, 0x83);
	wr(&r, DLL, 0x01);
	wr(&r, DLM, 0x02);
	ck_assert_uint_eq(rd(&r, DLL), 0x01);
	ck_assert_uint_eq(rd(&r, DLM), 0x02);
	/* Neither transmitted nor touched IER. */
	ck_assert_uint_eq(r.out.len, 0);
	wr(&r, LCR, 0x03);
	ck_assert_uint_eq(rd(&r, IER), 0x05);
	wr(&r, THR, 'z');
	ck_assert_uint_eq(r.out.len, 1);
	/* The latch keeps its value across DLAB changes. */
	wr(&r, LCR, 0x80);
	ck_assert_uint_eq(rd(&r, DLL), 0x01);
	ck_assert_uint_eq(rd(&r, DLM), 0x02);
	/* IIR, LCR and SCR are not aliased. */
	ck_assert_uint_eq(rd(&r, IIR) & 0x0f, 0x01);
	wr(&r, SCR, 0x33);
	ck_assert_uint_eq(rd(&r, SCR), 0x33);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_dlab_rx_not_consumed)
{
	struct rig r;

	rig_init(&r);
	rx(&r, "q");
	wr(&r, LCR, 0x80);
	ck_assert_uint_eq(rd(&r, DLL), 12);
	wr(&r, LCR, 0x00);
	ck_assert_uint_eq(rd(&r, LSR) & 0x01, 0x01);
	ck_assert_uint_eq(rd(&r, RBR), 'q');
	rig_fini(&r);
}
END_TEST

START_TEST(uart_thr_goes_to_sink)
{
	struct rig r;

	rig_init(&r);
	for (const char *p = "hello\n"; *p; p++) {
		wr(&r, THR, (uint8_t)*p);
		ck_assert_uint_eq(rd(&r, LSR) & 0x60, 0x60);
	}
	ck_assert_uint_eq(r.out.len, 6);
	ck_assert(!memcmp(r.out.buf, "hello\n", 6));
	ck_assert_uint_eq(r.out.calls, 6);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_wrong_size_ignored)
{
	static const unsigned int lens[] = {2, 4, 8};

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct rig r;

		rig_init(&r);
		rx(&r, "a");
		for (unsigned int off = 0; off + lens[i] <= 8; off++) {
			ck_assert_uint_eq(rd_len(&r, off, lens[i]),
					  io_all_ones(lens[i]));
			wr_len(&r, off, lens[i], ~0ull);
		}
		ck_assert_uint_eq(r.out.len, 0);
		ck_assert_uint_eq(rd(&r, IER), 0);
		ck_assert_uint_eq(rd(&r, LCR), 0);
		ck_assert_uint_eq(rd(&r, MCR), 0x08);
		ck_assert_uint_eq(rd(&r, SCR), 0);
		ck_assert_uint_eq(rd(&r, IIR), 0x01);
		ck_assert_uint_eq(rd(&r, RBR), 'a');
		rig_fini(&r);
	}
}
END_TEST

START_TEST(uart_thre_raised_when_etbei_set)
{
	struct rig r;

	rig_init(&r);
	wr(&r, IER, 0x02);
	ck_assert(r.irq.level);
	ck_assert_uint_eq(rd(&r, IIR), 0x02);
	/* Reading IIR with THRE as the source clears it. */
	ck_assert(!r.irq.level);
	ck_assert_uint_eq(rd(&r, IIR), 0x01);
	/* Rewriting the same IER does not re-arm it; 0 -> 1 does. */
	wr(&r, IER, 0x02);
	ck_assert(!r.irq.level);
	wr(&r, IER, 0x00);
	wr(&r, IER, 0x02);
	ck_assert(r.irq.level);
	/* Clearing ETBEI drops the condition. */
	wr(&r, IER, 0x00);
	ck_assert(!r.irq.level);
	wr(&r, IER, 0x01);
	ck_assert_uint_eq(rd(&r, IIR), 0x01);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_thre_raised_after_each_write)
{
	struct rig r;
	unsigned int rises;

	rig_init(&r);
	wr(&r, IER, 0x02);
	ck_assert_uint_eq(rd(&r, IIR), 0x02);
	ck_assert(!r.irq.level);
	wr(&r, THR, 'a');
	ck_assert(r.irq.level);
	/* Still pending: the next write drops and raises the line, a new
	 * edge per byte. */
	rises = r.irq.rises;
	wr(&r, THR, 'b');
	ck_assert(r.irq.level);
	ck_assert_uint_eq(r.irq.rises, rises + 1);
	ck_assert_uint_eq(rd(&r, IIR), 0x02);
	ck_assert(!r.irq.level);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_thre_not_cleared_by_iir_when_not_reported)
{
	struct rig r;

	rig_init(&r);
	rx(&r, "x");
	wr(&r, IER, 0x03);
	/* Data outranks THRE: reading IIR reports data, THRE stays. */
	ck_assert_uint_eq(rd(&r, IIR), 0x04);
	ck_assert_uint_eq(rd(&r, RBR), 'x');
	ck_assert(r.irq.level);
	ck_assert_uint_eq(rd(&r, IIR), 0x02);
	ck_assert(!r.irq.level);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_linux_thre_test_passes)
{
	/* serial8250_do_startup(): a real 16550 re-asserts THRE when IER
	 * toggles, or Linux marks the port UART_BUG_THRE. */
	struct rig r;
	uint8_t iir1, iir2;

	rig_init(&r);
	wr(&r, FCR, 0x01);
	wr(&r, IER, 0x02);
	iir1 = rd(&r, IIR);
	wr(&r, IER, 0x00);
	wr(&r, IER, 0x02);
	iir2 = rd(&r, IIR);
	wr(&r, IER, 0x00);
	ck_assert_uint_eq(iir1, 0xc2);
	ck_assert_uint_eq(iir2, 0xc2);
	ck_assert(!r.irq.level);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_linux_loopback_probe_passes)
{
	/* autoconfig(): MCR = LOOP | RTS | OUT2 must read MSR 0x90 in the
	 * high nibble; FCR = 1 must give IIR bits 7:6 = 11 (a 16550A) and
	 * FCR bit 5 must not show as a 64-byte FIFO (no 16750). */
	struct rig r;

	rig_init(&r);
	wr(&r, MCR, 0x1a);
	ck_assert_uint_eq(rd(&r, MSR) & 0xf0, 0x90);
	wr(&r, MCR, 0x08);
	wr(&r, FCR, 0x01);
	ck_assert_uint_eq(rd(&r, IIR) >> 6, 3);
	wr(&r, FCR, 0x21);
	ck_assert_uint_eq(rd(&r, IIR) & 0x20, 0);
	ck_assert_uint_eq(r.out.len, 0);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_rx_interrupt_per_ier)
{
	struct rig r;

	rig_init(&r);
	rx(&r, "k");
	ck_assert(!r.irq.level); /* IER.ERBFI off */
	ck_assert_uint_eq(rd(&r, IIR), 0x01);
	ck_assert_uint_eq(rd(&r, LSR), 0x61);
	wr(&r, IER, 0x01);
	ck_assert(r.irq.level);
	ck_assert_uint_eq(rd(&r, IIR), 0x04);
	ck_assert(r.irq.level); /* reading IIR does not clear data */
	ck_assert_uint_eq(rd(&r, RBR), 'k');
	ck_assert(!r.irq.level);
	ck_assert_uint_eq(rd(&r, LSR), 0x60);
	ck_assert_uint_eq(rd(&r, IIR), 0x01);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_rx_without_fifo_holds_one)
{
	struct rig r;
	const uint8_t in[] = "abc";

	rig_init(&r);
	ck_assert(uart_rx_ready(r.u));
	ck_assert_uint_eq(uart_receive(r.u, in, 3), 1);
	ck_assert(!uart_rx_ready(r.u));
	ck_assert_uint_eq(uart_receive(r.u, in + 1, 2), 0);
	ck_assert_uint_eq(rd(&r, RBR), 'a');
	ck_assert(uart_rx_ready(r.u));
	/* No overrun from host input: the caller kept the rest. */
	ck_assert_uint_eq(rd(&r, LSR), 0x60);
	/* An empty 16450-mode RBR still holds the last byte. */
	ck_assert_uint_eq(rd(&r, RBR), 'a');
	rig_fini(&r);
}
END_TEST

START_TEST(uart_fifo_holds_sixteen_in_order)
{
	struct rig r;
	uint8_t in[20];

	for (unsigned int i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)('A' + i);
	rig_init(&r);
	wr(&r, FCR, 0x01);
	ck_assert_uint_eq(uart_receive(r.u, in, sizeof(in)), 16);
	ck_assert(!uart_rx_ready(r.u));
	ck_assert_uint_eq(uart_receive(r.u, in + 16, 4), 0);
	for (unsigned int i = 0; i < 16; i++) {
		ck_assert_uint_eq(rd(&r, LSR) & 0x01, 0x01);
		ck_assert_uint_eq(rd(&r, RBR), 'A' + i);
		ck_assert(uart_rx_ready(r.u));
	}
	ck_assert_uint_eq(rd(&r, LSR), 0x60);
	ck_assert_uint_eq(rd(&r, RBR), 0); /* empty FIFO reads 0, as QEMU */
	/* Room again: the wrap-around keeps order. */
	ck_assert_uint_eq(uart_receive(r.u, in + 16, 4), 4);
	for (unsigned int i = 16; i < 20; i++)
		ck_assert_uint_eq(rd(&r, RBR), 'A' + i);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_fifo_trigger_levels)
{
	static const struct {
		uint8_t fcr;
		unsigned int level;
	} cases[] = {
		{0x01, 1}, {0x41, 4}, {0x81, 8}, {0xc1, 14}, {0xc9, 14},
	};
	const uint8_t data[16] = {0};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rig r;

		rig_init(&r);
		wr(&r, FCR, cases[i].fcr);
		wr(&r, IER, 0x01);
		ck_assert_uint_eq(rd(&r, FCR), 0xc1); /* IIR, no interrupt */
		if (cases[i].level > 1) {
			uart_receive(r.u, data, cases[i].level - 1);
			/* Below the trigger: character timeout. */
			ck_assert_msg(rd(&r, IIR) == 0xcc, "case %zu", i);
			ck_assert(r.irq.level);
			uart_receive(r.u, data, 1);
		} else {
			uart_receive(r.u, data, 1);
		}
		ck_assert_msg(rd(&r, IIR) == 0xc4, "case %zu", i);
		ck_assert(r.irq.level);
		/* Draining below the trigger turns it into a timeout. */
		rd(&r, RBR);
		if (cases[i].level > 1)
			ck_assert_uint_eq(rd(&r, IIR), 0xcc);
		while (rd(&r, LSR) & 0x01)
			rd(&r, RBR);
		ck_assert(!r.irq.level);
		ck_assert_uint_eq(rd(&r, IIR), 0xc1);
		rig_fini(&r);
	}
}
END_TEST

START_TEST(uart_fifo_reset_bits)
{
	struct rig r;

	rig_init(&r);
	wr(&r, FCR, 0x01);
	rx(&r, "abcd");
	wr(&r, FCR, 0x05); /* transmit FIFO reset only */
	ck_assert_uint_eq(rd(&r, LSR), 0x61);
	wr(&r, FCR, 0x03); /* receive FIFO reset */
	ck_assert_uint_eq(rd(&r, LSR), 0x60);
	ck_assert_uint_eq(rd(&r, RBR), 0);
	ck_assert_uint_eq(rd(&r, IIR), 0xc1); /* reset bits self-clear */
	rig_fini(&r);
}
END_TEST

START_TEST(uart_fifo_toggle_flushes)
{
	static const uint8_t seq[][2] = {{0x00, 0x01}, {0x01, 0x00}};

	for (size_t i = 0; i < 2; i++) {
		struct rig r;

		rig_init(&r);
		wr(&r, FCR, seq[i][0]);
		rx(&r, "z");
		wr(&r, FCR, seq[i][1]);
		ck_assert_uint_eq(rd(&r, LSR), 0x60);
		ck_assert_uint_eq(rd(&r, IIR), seq[i][1] ? 0xc1 : 0x01);
		rig_fini(&r);
	}
}
END_TEST

START_TEST(uart_xmit_fifo_reset_rearms_thre)
{
	struct rig r;

	rig_init(&r);
	wr(&r, IER, 0x02);
	ck_assert_uint_eq(rd(&r, IIR), 0x02);
	ck_assert(!r.irq.level);
	wr(&r, FCR, 0x05);
	ck_assert(r.irq.level);
	ck_assert_uint_eq(rd(&r, IIR), 0xc2);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_loopback_thr_reaches_rbr)
{
	struct rig r;

	rig_init(&r);
	wr(&r, MCR, 0x10);
	wr(&r, IER, 0x01);
	wr(&r, THR, 'L');
	ck_assert_uint_eq(r.out.len, 0);
	ck_assert(r.irq.level);
	ck_assert_uint_eq(rd(&r, LSR), 0x61);
	ck_assert_uint_eq(rd(&r, RBR), 'L');
	ck_assert(!r.irq.level);
	wr(&r, MCR, 0x00);
	wr(&r, THR, 'O');
	ck_assert_uint_eq(r.out.len, 1);
	ck_assert_uint_eq(r.out.buf[0], 'O');
	ck_assert_uint_eq(rd(&r, LSR), 0x60);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_loopback_refuses_host_input)
{
	struct rig r;
	const uint8_t c = 'h';

	rig_init(&r);
	wr(&r, MCR, 0x10);
	ck_assert(!uart_rx_ready(r.u));
	ck_assert_uint_eq(uart_receive(r.u, &c, 1), 0);
	ck_assert_uint_eq(rd(&r, LSR), 0x60);
	wr(&r, MCR, 0x00);
	ck_assert(uart_rx_ready(r.u));
	ck_assert_uint_eq(uart_receive(r.u, &c, 1), 1);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_loopback_msr_mirrors_mcr)
{
	static const struct {
		uint8_t mcr, msr_high;
	} cases[] = {
		{0x10, 0x00}, {0x11, 0x20}, {0x12, 0x10}, {0x14, 0x40},
		{0x18, 0x80}, {0x1f, 0xf0}, {0x1a, 0x90}, {0x15, 0x60},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rig r;

		rig_init(&r);
		wr(&r, MCR, cases[i].mcr);
		ck_assert_msg((rd(&r, MSR) & 0xf0) == cases[i].msr_high,
			      "case %zu", i);
		/* Leaving loopback gives the modem's lines back. */
		wr(&r, MCR, 0x00);
		ck_assert_uint_eq(rd(&r, MSR) & 0xf0, 0xb0);
		rig_fini(&r);
	}
}
END_TEST

START_TEST(uart_msr_delta_bits)
{
	struct rig r;

	rig_init(&r);
	/* Into loopback with all outputs off: CTS, DSR, DCD fall. */
	wr(&r, MCR, 0x10);
	ck_assert_uint_eq(rd(&r, MSR), 0x0b);
	ck_assert_uint_eq(rd(&r, MSR), 0x00); /* deltas clear on read */
	/* RI rising sets no TERI; its trailing edge does. */
	wr(&r, MCR, 0x14);
	ck_assert_uint_eq(rd(&r, MSR), 0x40);
	wr(&r, MCR, 0x10);
	ck_assert_uint_eq(rd(&r, MSR), 0x04);
	/* Deltas accumulate until read. */
	wr(&r, MCR, 0x11);
	wr(&r, MCR, 0x13);
	ck_assert_uint_eq(rd(&r, MSR), 0x33);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_modem_status_interrupt)
{
	struct rig r;

	rig_init(&r);
	wr(&r, MCR, 0x10);
	ck_assert(!r.irq.level); /* IER.EDSSI off */
	wr(&r, IER, 0x08);
	ck_assert(r.irq.level);
	ck_assert_uint_eq(rd(&r, IIR), 0x00);
	ck_assert(r.irq.level); /* IIR read does not clear it */
	rd(&r, MSR);
	ck_assert(!r.irq.level);
	ck_assert_uint_eq(rd(&r, IIR), 0x01);
	wr(&r, MCR, 0x12);
	ck_assert(r.irq.level);
	rd(&r, MSR);
	ck_assert(!r.irq.level);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_loopback_overrun_with_fifo)
{
	struct rig r;

	rig_init(&r);
	wr(&r, FCR, 0x01);
	wr(&r, MCR, 0x10);
	for (unsigned int i = 0; i < 17; i++)
		wr(&r, THR, (uint8_t)('a' + i));
	/* The 17th byte is lost, the FIFO kept whole. */
	ck_assert_uint_eq(rd(&r, LSR), 0x63);
	ck_assert_uint_eq(rd(&r, LSR), 0x61); /* OE clears on read */
	for (unsigned int i = 0; i < 16; i++)
		ck_assert_uint_eq(rd(&r, RBR), 'a' + i);
	ck_assert_uint_eq(rd(&r, LSR), 0x60);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_loopback_overrun_without_fifo)
{
	struct rig r;

	rig_init(&r);
	wr(&r, MCR, 0x10);
	wr(&r, THR, '1');
	ck_assert_uint_eq(rd(&r, LSR), 0x61);
	wr(&r, THR, '2');
	/* The new byte overwrites the unread one. */
	ck_assert_uint_eq(rd(&r, LSR), 0x63);
	ck_assert_uint_eq(rd(&r, RBR), '2');
	ck_assert_uint_eq(rd(&r, LSR), 0x60);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_line_status_interrupt)
{
	struct rig r;

	rig_init(&r);
	wr(&r, MCR, 0x10);
	wr(&r, THR, '1');
	wr(&r, THR, '2'); /* overrun */
	ck_assert(!r.irq.level);
	wr(&r, IER, 0x04);
	ck_assert(r.irq.level);
	ck_assert_uint_eq(rd(&r, IIR), 0x06);
	ck_assert_uint_eq(rd(&r, LSR), 0x63);
	ck_assert(!r.irq.level);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_interrupt_priorities)
{
	/* All four sources at once: each read clears one, IIR always shows
	 * the highest left (datasheet Table IV). */
	struct rig r;

	rig_init(&r);
	wr(&r, MCR, 0x10);
	wr(&r, THR, '1');
	wr(&r, THR, '2'); /* data + overrun + THRE + modem deltas */
	wr(&r, IER, 0x0f);
	ck_assert_uint_eq(rd(&r, IIR), 0x06);
	ck_assert(r.irq.level);
	rd(&r, LSR);
	ck_assert_uint_eq(rd(&r, IIR), 0x04);
	rd(&r, RBR);
	ck_assert_uint_eq(rd(&r, IIR), 0x02); /* clears THRE */
	ck_assert_uint_eq(rd(&r, IIR), 0x00);
	ck_assert(r.irq.level);
	rd(&r, MSR);
	ck_assert_uint_eq(rd(&r, IIR), 0x01);
	ck_assert(!r.irq.level);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_irq_ignores_out2)
{
	/* A documented choice: as QEMU, OUT2 does not gate the line. */
	struct rig r;

	rig_init(&r);
	wr(&r, MCR, 0x00);
	wr(&r, IER, 0x02);
	ck_assert(r.irq.level);
	wr(&r, MCR, 0x08);
	ck_assert(r.irq.level);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_null_sink_and_line)
{
	struct uart *u;
	const struct io_access a = {UART_COM1_BASE, 0, 1, 0};
	const struct io_access ier = {UART_COM1_BASE + 1, 1, 1, 0};
	const uint8_t c = 'x';

	ck_assert_int_eq(uart_new(NULL, NULL, NULL), -EINVAL);
	ck_assert_int_eq(uart_new(NULL, NULL, &u), 0);
	uart_ops.write(u, &ier, 0x0f);
	uart_ops.write(u, &a, 'y');
	ck_assert_uint_eq(uart_receive(u, &c, 1), 1);
	ck_assert_uint_eq(uart_ops.read(u, &a), 'x');
	uart_ops.destroy(u);
	uart_ops.destroy(NULL);
}
END_TEST

START_TEST(uart_describe_adds_isa_node)
{
	char fdt[1024], tiny[128];
	const fdt32_t *p;
	struct rig r;
	struct uart *bare;
	int off, len;

	rig_init(&r);
	off = isa_describe(&uart_ops, r.u, fdt, sizeof(fdt), "serial@3f8");
	ck_assert_str_eq(fdt_getprop(fdt, off, "compatible", NULL), "ns16550a");
	ck_assert_isa_reg(fdt, off, 0x3f8, 8);
	p = fdt_getprop(fdt, off, "interrupts", &len);
	ck_assert_int_eq(len, 4);
	ck_assert_uint_eq(fdt32_to_cpu(p[0]), 4);
	/* No line, no interrupts property. */
	ck_assert_int_eq(uart_new(NULL, NULL, &bare), 0);
	off = isa_describe(&uart_ops, bare, fdt, sizeof(fdt), "serial@3f8");
	ck_assert_ptr_null(fdt_getprop(fdt, off, "interrupts", NULL));
	/* A full tree is an error, not a crash. */
	ck_assert_int_eq(fdt_create_empty_tree(tiny, sizeof(tiny)), 0);
	ck_assert_int_lt(uart_ops.describe(bare, tiny, 0), 0);
	uart_ops.destroy(bare);
	rig_fini(&r);
}
END_TEST

/* One random access, or host input; never a DLAB-dependent assumption. */
static void random_step(struct rig *r, uint64_t *seed)
{
	static const unsigned int lens[] = {1, 1, 1, 1, 1, 1, 2, 4};
	uint64_t x = xorshift64(seed);
	unsigned int off = x & 7, len = lens[(x >> 3) & 7];
	uint8_t buf[24];

	if (off + len > 8)
		len = 1;
	switch ((x >> 6) & 7) {
	case 0: {
		size_t n = (x >> 9) % sizeof(buf);

		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)(x >> (i % 7));
		ck_assert_uint_le(uart_receive(r->u, buf, n), 16);
		break;
	}
	case 1:
	case 2:
	case 3:
		wr_len(r, off, len, x >> 16);
		break;
	default:
		rd_len(r, off, len);
		break;
	}
}

/* Invariants a guest can observe at any time. */
static void check_invariants(struct rig *r)
{
	uint8_t lcr = rd(r, LCR), iir;
	bool level;

	ck_assert_uint_eq(rd(r, LSR) & 0x60, 0x60);
	/* Reading LSR may have cleared an error: sample the line now. */
	level = r->irq.level;
	iir = rd(r, IIR);
	ck_assert_msg(level == !(iir & 0x01), "line %d, IIR %#x", level, iir);
	ck_assert_uint_eq(iir & 0x30, 0);
	ck_assert(iir >> 6 == 0 || iir >> 6 == 3);
	ck_assert_uint_eq(rd(r, MCR) & 0xe0, 0);
	if (!(lcr & 0x80))
		ck_assert_uint_eq(rd(r, IER) & 0xf0, 0);
}

START_TEST(uart_random_accesses_keep_invariants)
{
	uint64_t seed = 0x5eed5eed12345678ull;
	struct rig r;

	rig_init(&r);
	for (unsigned int i = 0; i < 20000; i++) {
		random_step(&r, &seed);
		if (xorshift64(&seed) & 1)
			check_invariants(&r);
	}
	check_invariants(&r);
	rig_fini(&r);
}
END_TEST

struct thread_arg {
	struct rig *r;
	uint64_t seed;
};

static void *random_thread(void *p)
{
	struct thread_arg *t = p;

	for (unsigned int i = 0; i < 5000; i++)
		random_step(t->r, &t->seed);
	return NULL;
}

START_TEST(uart_concurrent_accesses_are_serialized)
{
	/* The fake line counts set() calls that repeat the level; with the
	 * UART's lock held around each update there are none. */
	struct thread_arg args[4];
	pthread_t th[4];
	struct rig r;

	rig_init(&r);
	for (unsigned int i = 0; i < 4; i++) {
		args[i].r = &r;
		args[i].seed = 0x9e3779b97f4a7c15ull * (i + 1);
		ck_assert_int_eq(
			pthread_create(&th[i], NULL, random_thread, &args[i]),
			0);
	}
	for (unsigned int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	check_invariants(&r);
	rig_fini(&r);
}
END_TEST

/* ---- Snapshots ------------------------------------------------------ */

/* The blob's layout (uart.c): what the hostile-field cases poke at. */
enum { S_BASE = 8, S_RX = 10, S_RX_HEAD = 26, S_RX_COUNT, S_RBR, S_IER,
       S_FCR, S_LCR, S_MCR, S_LSR, S_MSR, S_SCR, S_DIV, S_THR = S_DIV + 2,
       S_LEN };

/* One random step on both rigs alike: the guest and host see the same. */
static void twin_step(struct rig *a, struct rig *b, uint64_t *seed)
{
	uint64_t x = xorshift64(seed);
	unsigned int off = x & 7;
	uint8_t v = (uint8_t)(x >> 16), in[4] = {v, v ^ 1, v ^ 2, v ^ 3};
	size_t n = ((x >> 24) & 3) + 1;

	switch ((x >> 3) & 7) {
	case 0:
		ck_assert_uint_eq(uart_receive(a->u, in, n),
				  uart_receive(b->u, in, n));
		break;
	case 1:
	case 2:
		wr(a, off, v);
		wr(b, off, v);
		break;
	default:
		ck_assert_uint_eq(rd(a, off), rd(b, off));
		break;
	}
	ck_assert_int_eq(a->irq.level, b->irq.level);
	ck_assert_uint_eq(a->out.len, b->out.len);
	ck_assert(!memcmp(a->out.buf, b->out.buf, a->out.len));
}

/*
 * Saves a, loads the blob into a fresh UART, and checks that the two then
 * behave alike: the same line level at once (raised once if high), the
 * same answers to steps random accesses, the same blob at the end.
 */
static void check_twin(struct rig *a, unsigned int steps, uint64_t seed)
{
	size_t n, n2;
	uint8_t *blob = snap_save(&uart_ops, a->u, &n), *again;
	struct rig b;

	ck_assert_uint_eq(n, S_LEN);
	rig_init(&b);
	ck_assert_int_eq(uart_ops.load(b.u, blob, n, SNAP_NOW + 5), 0);
	ck_assert_int_eq(b.irq.level, a->irq.level);
	ck_assert_uint_eq(b.irq.sets, a->irq.level ? 1 : 0);
	memset(&a->out, 0, sizeof(a->out));
	for (unsigned int i = 0; i < steps; i++)
		twin_step(a, &b, &seed);
	free(blob);
	blob = snap_save(&uart_ops, a->u, &n);
	again = snap_save(&uart_ops, b.u, &n2);
	ck_assert_uint_eq(n, n2);
	ck_assert(!memcmp(blob, again, n));
	free(blob);
	free(again);
	rig_fini(&b);
}

START_TEST(uart_snapshot_fifo_wrapped_dlab_set)
{
	struct rig r;
	size_t n;
	uint8_t *blob;

	rig_init(&r);
	wr(&r, FCR, 0xc1); /* FIFO on, trigger at 14 */
	wr(&r, IER, 0x0f);
	rx(&r, "0123456789abcdef");
	for (unsigned int i = 0; i < 10; i++)
		ck_assert_uint_eq(rd(&r, RBR), "0123456789"[i]);
	rx(&r, "ghijklmn"); /* 14 bytes, wrapped round the FIFO's end */
	wr(&r, LCR, 0x83);
	wr(&r, DLL, 0x01);
	wr(&r, DLM, 0x02);
	wr(&r, SCR, 0x5a);
	ck_assert(r.irq.level);
	blob = snap_save(&uart_ops, r.u, &n);
	ck_assert_uint_eq(blob[S_RX_HEAD], 10);
	ck_assert_uint_eq(blob[S_RX_COUNT], 14);
	free(blob);
	check_twin(&r, 0, 1);
	/* The loaded copy reads the same bytes in the same order. */
	{
		struct rig b;

		blob = snap_save(&uart_ops, r.u, &n);
		rig_init(&b);
		ck_assert_int_eq(uart_ops.load(b.u, blob, n, 0), 0);
		ck_assert_uint_eq(rd(&b, DLL), 0x01);
		ck_assert_uint_eq(rd(&b, DLM), 0x02);
		wr(&b, LCR, 0x03);
		ck_assert_uint_eq(rd(&b, IIR), 0xc4); /* RDA, FIFO on */
		for (unsigned int i = 0; i < 14; i++)
			ck_assert_uint_eq(rd(&b, RBR), "abcdefghijklmn"[i]);
		ck_assert_uint_eq(rd(&b, IIR), 0xc2); /* THRE next */
		ck_assert_uint_eq(rd(&b, IIR), 0xc1);
		ck_assert(!b.irq.level);
		ck_assert_uint_eq(rd(&b, SCR), 0x5a);
		free(blob);
		rig_fini(&b);
	}
	check_twin(&r, 400, 2);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_snapshot_thre_loopback_overrun)
{
	struct rig r;

	rig_init(&r);
	wr(&r, IER, 0x02); /* THRE pending at once */
	ck_assert(r.irq.level);
	check_twin(&r, 300, 3);
	ck_assert_uint_eq(rd(&r, IIR), 0x02);
	wr(&r, IER, 0x02);
	check_twin(&r, 0, 4); /* THRE reported, so cleared: line low */
	wr(&r, MCR, 0x1f);    /* loopback: MSR deltas */
	wr(&r, THR, 'x');
	wr(&r, THR, 'y'); /* no FIFO: overrun */
	wr(&r, IER, 0x0f);
	ck_assert_uint_eq(rd(&r, IIR), 0x06);
	check_twin(&r, 300, 5);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_snapshot_random_moments)
{
	uint64_t seed = 0xfeedface12345ull;
	struct rig r;

	rig_init(&r);
	for (unsigned int i = 0; i < 40; i++) {
		for (unsigned int j = 0; j < 200; j++)
			random_step(&r, &seed);
		check_twin(&r, 100, seed ^ i);
	}
	rig_fini(&r);
}
END_TEST

START_TEST(uart_snapshot_load_drives_line_on_change)
{
	struct rig hi, lo;
	uint8_t *h, *l;
	size_t n;

	rig_init(&hi);
	rig_init(&lo);
	wr(&hi, IER, 0x02);
	h = snap_save(&uart_ops, hi.u, &n);
	l = snap_save(&uart_ops, lo.u, &n);
	ck_assert_int_eq(uart_ops.load(lo.u, h, n, 0), 0);
	ck_assert(lo.irq.level);
	ck_assert_int_eq(uart_ops.load(lo.u, h, n, 0), 0); /* no new set */
	ck_assert_uint_eq(lo.irq.sets, 1);
	ck_assert_int_eq(uart_ops.load(lo.u, l, n, 0), 0);
	ck_assert(!lo.irq.level);
	ck_assert_uint_eq(lo.irq.sets, 2);
	free(h);
	free(l);
	rig_fini(&hi);
	rig_fini(&lo); /* no redundant set() */
}
END_TEST

START_TEST(uart_snapshot_save_needs_room)
{
	uint8_t buf[S_LEN];
	struct rig r;

	rig_init(&r);
	for (size_t cap = 0; cap < S_LEN; cap++)
		ck_assert_int_eq(uart_ops.save(r.u, buf, cap, 0), -ENOSPC);
	ck_assert_int_eq(uart_ops.save(r.u, buf, S_LEN, 0), S_LEN);
	rig_fini(&r);
}
END_TEST

START_TEST(uart_snapshot_refuses_bad_blobs)
{
	/* A blob of a FIFO with 3 bytes (head 2), to break one field at a
	 * time. */
	static const struct {
		size_t off;
		uint8_t v;
	} cases[] = {
		{0, 'u'},	   {4, 2},	     {5, 1},
		{S_BASE, 0xf9},	   {S_RX_HEAD, 16},  {S_RX_HEAD, 0xff},
		{S_RX_COUNT, 17},  {S_RX_COUNT, 0},  {S_IER, 0x10},
		{S_FCR, 0x02},	   {S_FCR, 0xc8},    {S_MCR, 0x20},
		{S_LSR, 0x60},	   {S_LSR, 0x65},    {S_LSR, 0x41},
		{S_LSR, 0x71},	   {S_LSR, 0xe1},    {S_MSR, 0x30},
		{S_MSR, 0xf0},	   {S_THR, 2},	     {S_THR, 0x80},
	};
	struct rig r, t;
	uint8_t *blob;
	size_t n;

	rig_init(&r);
	rig_init(&t);
	wr(&r, FCR, 0x01);
	rx(&r, "abcde");
	rd(&r, RBR);
	rd(&r, RBR);
	blob = snap_save(&uart_ops, r.u, &n);
	ck_assert_int_eq(snap_try(&uart_ops, t.u, blob, n), 0);
	uart_ops.reset(t.u);
	snap_check_lengths(&uart_ops, t.u, blob, n);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		snap_check_refused(&uart_ops, t.u, blob, n, cases[i].off,
				   cases[i].v, i);
	/* Without the FIFO: one byte at most, at position 0. */
	blob[S_FCR] = 0;
	snap_check_refused(&uart_ops, t.u, blob, n, S_RX_COUNT, 3, 100);
	blob[S_RX_COUNT] = 1;
	snap_check_refused(&uart_ops, t.u, blob, n, S_RX_HEAD, 2, 101);
	blob[S_RX_HEAD] = 0;
	ck_assert_int_eq(snap_try(&uart_ops, t.u, blob, n), 0);
	free(blob);
	rig_fini(&r);
	rig_fini(&t);
}
END_TEST

START_TEST(uart_snapshot_hostile_blobs_never_crash)
{
	uint64_t seed = 0x0123456789abcdefull;
	struct rig r, t;
	uint8_t *blob;
	size_t n;

	rig_init(&r);
	rig_init(&t);
	for (unsigned int i = 0; i < 4; i++) {
		for (unsigned int j = 0; j < 300; j++)
			random_step(&r, &seed);
		blob = snap_save(&uart_ops, r.u, &n);
		snap_fuzz(&uart_ops, t.u, blob, n, 1500, seed);
		free(blob);
	}
	rig_fini(&r);
	rig_fini(&t);
}
END_TEST

UNIT_SUITE("uart", uart_reset_state_matches_qemu, uart_registers_read_back,
	   uart_lsr_msr_writes_ignored, uart_dlab_aliases_divisor_latch,
	   uart_dlab_rx_not_consumed, uart_thr_goes_to_sink,
	   uart_wrong_size_ignored, uart_thre_raised_when_etbei_set,
	   uart_thre_raised_after_each_write,
	   uart_thre_not_cleared_by_iir_when_not_reported,
	   uart_linux_thre_test_passes, uart_linux_loopback_probe_passes,
	   uart_rx_interrupt_per_ier, uart_rx_without_fifo_holds_one,
	   uart_fifo_holds_sixteen_in_order, uart_fifo_trigger_levels,
	   uart_fifo_reset_bits, uart_fifo_toggle_flushes,
	   uart_xmit_fifo_reset_rearms_thre, uart_loopback_thr_reaches_rbr,
	   uart_loopback_refuses_host_input, uart_loopback_msr_mirrors_mcr,
	   uart_msr_delta_bits, uart_modem_status_interrupt,
	   uart_loopback_overrun_with_fifo,
	   uart_loopback_overrun_without_fifo, uart_line_status_interrupt,
	   uart_interrupt_priorities, uart_irq_ignores_out2,
	   uart_null_sink_and_line, uart_describe_adds_isa_node,
	   uart_random_accesses_keep_invariants,
	   uart_concurrent_accesses_are_serialized,
	   uart_snapshot_fifo_wrapped_dlab_set,
	   uart_snapshot_thre_loopback_overrun, uart_snapshot_random_moments,
	   uart_snapshot_load_drives_line_on_change,
	   uart_snapshot_save_needs_room, uart_snapshot_refuses_bad_blobs,
	   uart_snapshot_hostile_blobs_never_crash)
