// SPDX-License-Identifier: MIT
/* 16550A UART: the register model of COM1, its FIFOs and its interrupt. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fdt_machine.h"
#include "uart.h"

/*
 * Register offsets and bits, as in the National/TI PC16550D datasheet
 * ("Registers" section and its register summary table).
 */
enum {
	REG_RBR_THR = 0, /* DLL when LCR.DLAB = 1 */
	REG_IER = 1,	 /* DLM when LCR.DLAB = 1 */
	REG_IIR_FCR = 2,
	REG_LCR = 3,
	REG_MCR = 4,
	REG_LSR = 5,
	REG_MSR = 6,
	REG_SCR = 7,
};

#define IER_ERBFI 0x01 /* received data available (and timeout) */
#define IER_ETBEI 0x02 /* transmitter holding register empty */
#define IER_ELSI 0x04  /* receiver line status */
#define IER_EDSSI 0x08 /* modem status */
#define IER_MASK 0x0f  /* bits 4-7 are always 0 on a 16550A */

#define IIR_NONE 0x01
#define IIR_MSI 0x00
#define IIR_THRE 0x02
#define IIR_RDA 0x04
#define IIR_RLS 0x06
#define IIR_CTI 0x0c
#define IIR_FIFO 0xc0 /* both set when FCR.0 = 1 */

#define FCR_FE 0x01
#define FCR_RFR 0x02
#define FCR_XFR 0x04
#define FCR_DMS 0x08
#define FCR_KEEP 0xc9 /* FE, DMA mode, trigger level: what reads back */

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f /* bits 5-7 are always 0 on a 16550A */

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_PE 0x04
#define LSR_FE 0x08
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_ERRORS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_DELTAS 0x0f
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

struct uart {
	pthread_mutex_t lock;
	struct console_sink out;
	struct irq_line irq;
	uint16_t base;

	uint8_t rx[UART_FIFO_SIZE]; /* RBR, or the receiver FIFO */
	unsigned int rx_head;	    /* the oldest byte */
	unsigned int rx_count;
	uint8_t rbr; /* the byte read last: a 16450-mode RBR keeps it */
	uint8_t ier, fcr, lcr, mcr, lsr, msr, scr;
	uint16_t divisor;
	bool thr_pending; /* the THRE interrupt condition */
	bool irq_level;	  /* what the line was last driven to */
};

static unsigned int uart_rx_capacity(const struct uart *u)
{
	return u->fcr & FCR_FE ? UART_FIFO_SIZE : 1;
}

/* FCR bits 7:6 select 1, 4, 8 or 14 bytes (datasheet, FCR description). */
static unsigned int uart_rx_trigger(const struct uart *u)
{
	static const unsigned char level[4] = {1, 4, 8, 14};

	return level[u->fcr >> 6];
}

/*
 * The pending interrupt of highest priority (datasheet Table IV,
 * "Interrupt Control Functions"): receiver line status, then received data
 * available or character timeout, then THR empty, then modem status.
 *
 * The character timeout fires when data has sat in the FIFO below the
 * trigger level for four character times with no FIFO activity. Bytes
 * reach this model in bursts from the host, with no line time between
 * them, so that time has always already passed: data below the trigger
 * level is reported as a timeout at once, which is what a guest would
 * see after waiting. As on real parts (and in QEMU), IER.ERBFI gates it.
 */
static uint8_t uart_iir_id(const struct uart *u)
{
	if ((u->ier & IER_ELSI) && (u->lsr & LSR_ERRORS))
		return IIR_RLS;
	if ((u->ier & IER_ERBFI) && u->rx_count) {
		if ((u->fcr & FCR_FE) && u->rx_count < uart_rx_trigger(u))
			return IIR_CTI;
		return IIR_RDA;
	}
	if ((u->ier & IER_ETBEI) && u->thr_pending)
		return IIR_THRE;
	if ((u->ier & IER_EDSSI) && (u->msr & MSR_DELTAS))
		return IIR_MSI;
	return IIR_NONE;
}

/*
 * Drives the line from the interrupt state, under the lock so that two
 * vCPUs' updates cannot reach the router in the wrong order.
 *
 * MCR.OUT2 is deliberately not part of the level. On a PC, OUT2 gates the
 * UART's INTR onto the ISA bus, but QEMU's serial model ignores it, so
 * test kernels written against QEMU that program MCR without OUT2 (0x03,
 * DTR | RTS, is a common init value) get their interrupts there and expect
 * them here. Linux sets OUT2 whenever the port has an IRQ
 * (serial8250_do_startup), and its IRQ autoprobe only needs the interrupt
 * to arrive once enabled, so it works either way. Following QEMU costs
 * nothing and keeps those guests running. (Likewise loopback, which on a
 * PC forces OUT2 off and so silences the line, leaves it working, as the
 * 16550A's own INTR output does and as QEMU does.)
 */
static void uart_update_irq(struct uart *u)
{
	bool level = uart_iir_id(u) != IIR_NONE;

	if (level != u->irq_level) {
		u->irq_level = level;
		irq_line_set(&u->irq, level);
	}
}

/*
 * The modem status inputs. Outside loopback they are those of a connected,
 * ready modem (DCD, DSR, CTS, no ring), as QEMU reports for a plain
 * character backend. In loopback the datasheet (MCR bit 4) wires them to
 * the outputs: DTR -> DSR, RTS -> CTS, OUT1 -> RI, OUT2 -> DCD.
 */
static uint8_t uart_modem_inputs(const struct uart *u)
{
	uint8_t m = u->mcr;

	if (!(m & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	return (m & MCR_DTR ? MSR_DSR : 0) | (m & MCR_RTS ? MSR_CTS : 0) |
	       (m & MCR_OUT1 ? MSR_RI : 0) | (m & MCR_OUT2 ? MSR_DCD : 0);
}

/*
 * Latches the inputs into MSR and sets the delta bits for those that
 * changed; TERI only on RI's trailing edge (1 -> 0). The deltas stay set
 * until MSR is read (datasheet, MSR bits 0-3), and in loopback they are
 * the modem status interrupt's sources (MCR bit 4 description).
 */
static void uart_latch_modem_inputs(struct uart *u)
{
	uint8_t old = u->msr & 0xf0, now = uart_modem_inputs(u);
	uint8_t delta = (uint8_t)((old ^ now) >> 4);

	if (!(old & MSR_RI) || (now & MSR_RI))
		delta &= (uint8_t)~MSR_TERI;
	u->msr = (uint8_t)(now | (u->msr & MSR_DELTAS) | delta);
}

static void uart_rx_clear(struct uart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
	u->lsr &= (uint8_t)~(LSR_DR | LSR_BI);
}

static void uart_rx_put(struct uart *u, uint8_t c)
{
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = c;
	u->rx_count++;
	u->lsr |= LSR_DR;
}

/*
 * A byte reaching the receiver from the transmitter in loopback. When
 * there is no room it is an overrun (datasheet, LSR bit 1): without the
 * FIFO the new byte overwrites the unread one in RBR; with the FIFO the
 * byte in the shift register is lost and the FIFO is left intact.
 */
static void uart_rx_loop(struct uart *u, uint8_t c)
{
	if (u->rx_count < uart_rx_capacity(u)) {
		uart_rx_put(u, c);
		return;
	}
	u->lsr |= LSR_OE;
	if (!(u->fcr & FCR_FE))
		u->rx[u->rx_head] = c;
}

/*
 * Reading an empty receiver gives what RBR last held in 16450 mode, and 0
 * with the FIFO on (QEMU's choice; the datasheet leaves it undefined).
 */
static uint8_t uart_rx_get(struct uart *u)
{
	if (!u->rx_count)
		return u->fcr & FCR_FE ? 0 : u->rbr;
	u->rbr = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
	if (--u->rx_count == 0)
		uart_rx_clear(u);
	return u->rbr;
}

/*
 * A byte written to THR goes out at once: output is never back-pressured,
 * so THR and the transmitter are always empty again by the time the write
 * returns. The THRE interrupt is cleared by the write and set again when
 * the byte has gone (datasheet Table IV: "writing into the THR" resets
 * it); the line drops and rises in between, as QEMU's does, so an
 * edge-triggered input sees a fresh edge for every byte.
 */
static void uart_write_thr(struct uart *u, uint8_t c)
{
	u->thr_pending = false;
	uart_update_irq(u);
	if (u->mcr & MCR_LOOP)
		uart_rx_loop(u, c);
	else if (u->out.write)
		u->out.write(u->out.ctx, (const char *)&c, 1);
	u->thr_pending = true;
	uart_update_irq(u);
}

/*
 * Setting IER.ETBEI while THR is empty raises THRE even if reading IIR had
 * cleared it before: not in the datasheet, but real parts do it and
 * Windows and Linux's THRE test (serial8250_do_startup) rely on it. Like
 * QEMU and Bochs, only the 0 -> 1 edge re-arms it; clearing ETBEI drops
 * the condition.
 */
static void uart_write_ier(struct uart *u, uint8_t v)
{
	uint8_t changed = (u->ier ^ v) & IER_MASK;

	u->ier = v & IER_MASK;
	if (changed & IER_ETBEI)
		u->thr_pending = u->ier & IER_ETBEI;
}

/*
 * FCR: changing FCR.0 resets both FIFOs (datasheet, FCR bit 0), as do
 * bits 1 and 2; resetting the transmitter leaves THR empty, so THRE is
 * pending again (as in QEMU). Only FE, DMA mode and the trigger level
 * stick.
 */
static void uart_write_fcr(struct uart *u, uint8_t v)
{
	if ((v ^ u->fcr) & FCR_FE)
		v |= FCR_RFR | FCR_XFR;
	if (v & FCR_RFR)
		uart_rx_clear(u);
	if (v & FCR_XFR)
		u->thr_pending = true;
	u->fcr = v & FCR_KEEP;
}

static void uart_write_locked(struct uart *u, unsigned int reg, uint8_t v)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_RBR_THR:
		if (dlab)
			u->divisor = (uint16_t)((u->divisor & 0xff00) | v);
		else
			uart_write_thr(u, v);
		return; /* uart_write_thr() updated the line itself */
	case REG_IER:
		if (dlab)
			u->divisor = (uint16_t)((u->divisor & 0x00ff) | v << 8);
		else
			uart_write_ier(u, v);
		break;
	case REG_IIR_FCR:
		uart_write_fcr(u, v);
		break;
	case REG_LCR:
		u->lcr = v;
		break;
	case REG_MCR:
		u->mcr = v & MCR_MASK;
		uart_latch_modem_inputs(u);
		break;
	case REG_SCR:
		u->scr = v;
		break;
	default:
		/* LSR and MSR are read-only here, as in QEMU (the datasheet's
		 * LSR writes are for factory testing only). */
		break;
	}
	uart_update_irq(u);
}

static uint8_t uart_read_locked(struct uart *u, unsigned int reg)
{
	bool dlab = u->lcr & LCR_DLAB;
	uint8_t v;

	switch (reg) {
	case REG_RBR_THR:
		if (dlab)
			return (uint8_t)u->divisor;
		v = uart_rx_get(u);
		break;
	case REG_IER:
		return dlab ? (uint8_t)(u->divisor >> 8) : u->ier;
	case REG_IIR_FCR:
		/* Reading IIR when THRE is the source reported clears it
		 * (datasheet Table IV). */
		v = uart_iir_id(u);
		if (v == IIR_THRE)
			u->thr_pending = false;
		v |= u->fcr & FCR_FE ? IIR_FIFO : 0;
		break;
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		/* The error bits clear on read (datasheet, LSR bits 1-4). */
		v = u->lsr | LSR_THRE | LSR_TEMT;
		u->lsr &= (uint8_t)~LSR_ERRORS;
		break;
	case REG_MSR:
		v = u->msr;
		u->msr &= (uint8_t)~MSR_DELTAS;
		break;
	case REG_SCR:
		return u->scr;
	default:
		return 0xff;
	}
	uart_update_irq(u);
	return v;
}

/* Only byte accesses: the 16550A's registers are 8 bits wide. */
static uint64_t uart_read(void *dev, const struct io_access *a)
{
	struct uart *u = dev;
	uint8_t v;

	if (a->len != 1 || a->offset >= UART_REGION_SIZE)
		return io_all_ones(a->len);
	pthread_mutex_lock(&u->lock);
	v = uart_read_locked(u, (unsigned int)a->offset);
	pthread_mutex_unlock(&u->lock);
	return v;
}

static void uart_write(void *dev, const struct io_access *a, uint64_t val)
{
	struct uart *u = dev;

	if (a->len != 1 || a->offset >= UART_REGION_SIZE)
		return;
	pthread_mutex_lock(&u->lock);
	uart_write_locked(u, (unsigned int)a->offset, (uint8_t)val);
	pthread_mutex_unlock(&u->lock);
}

size_t uart_receive(struct uart *u, const uint8_t *data, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	if (!(u->mcr & MCR_LOOP)) {
		unsigned int cap = uart_rx_capacity(u);

		while (n < len && u->rx_count < cap)
			uart_rx_put(u, data[n++]);
		uart_update_irq(u);
	}
	pthread_mutex_unlock(&u->lock);
	return n;
}

bool uart_rx_ready(struct uart *u)
{
	bool ready;

	pthread_mutex_lock(&u->lock);
	ready = !(u->mcr & MCR_LOOP) && u->rx_count < uart_rx_capacity(u);
	pthread_mutex_unlock(&u->lock);
	return ready;
}

static int uart_describe(void *dev, void *fdt, int parent)
{
	struct uart *u = dev;
	int r = fdt_add_isa_device(fdt, parent, "serial", "ns16550a", u->base,
				   UART_REGION_SIZE,
				   u->irq.set ? (int)u->irq.line : -1);

	return r < 0 ? r : 0;
}

static void uart_destroy(void *dev)
{
	struct uart *u = dev;

	if (!u)
		return;
	pthread_mutex_destroy(&u->lock);
	free(u);
}

/*
 * QEMU's reset state: 9600 baud (divisor 12), OUT2 set, a ready modem on
 * the inputs, transmitter empty, FIFOs off and empty, no interrupt.
 */
static void uart_set_power_on(struct uart *u)
{
	u->rx_head = u->rx_count = 0;
	u->rbr = 0;
	u->ier = u->fcr = u->lcr = u->scr = 0;
	u->divisor = 12;
	u->mcr = MCR_OUT2;
	u->lsr = LSR_THRE | LSR_TEMT;
	u->msr = MSR_DCD | MSR_DSR | MSR_CTS;
	u->thr_pending = false;
}

static void uart_reset(void *dev)
{
	struct uart *u = dev;

	pthread_mutex_lock(&u->lock);
	uart_set_power_on(u);
	if (u->irq_level) {
		u->irq_level = false;
		irq_line_set(&u->irq, false);
	}
	pthread_mutex_unlock(&u->lock);
}

/*
 * The snapshot blob, little-endian: "UART", the format version (u32), the
 * base port (the configuration it was taken from), then every register
 * and the receiver FIFO with its position. The line's level is not in it:
 * load works it out from the registers, as every update does.
 */
enum {
	SNAP_BASE = 8, /* u16 */
	SNAP_RX = 10,  /* UART_FIFO_SIZE bytes */
	SNAP_RX_HEAD = SNAP_RX + UART_FIFO_SIZE,
	SNAP_RX_COUNT,
	SNAP_RBR,
	SNAP_IER,
	SNAP_FCR,
	SNAP_LCR,
	SNAP_MCR,
	SNAP_LSR,
	SNAP_MSR,
	SNAP_SCR,
	SNAP_DIVISOR, /* u16 */
	SNAP_THR_PENDING = SNAP_DIVISOR + 2,
	SNAP_LEN,
};

#define SNAP_VERSION 1

static const uint8_t snap_head[8] = {'U', 'A', 'R', 'T', SNAP_VERSION};

static int uart_save(void *dev, void *buf, size_t cap, uint64_t now)
{
	struct uart *u = dev;
	uint8_t *p = buf;

	if (cap < SNAP_LEN)
		return -ENOSPC;
	memcpy(p, snap_head, sizeof(snap_head));
	p[SNAP_BASE] = (uint8_t)u->base;
	p[SNAP_BASE + 1] = (uint8_t)(u->base >> 8);
	pthread_mutex_lock(&u->lock);
	memcpy(p + SNAP_RX, u->rx, UART_FIFO_SIZE);
	p[SNAP_RX_HEAD] = (uint8_t)u->rx_head;
	p[SNAP_RX_COUNT] = (uint8_t)u->rx_count;
	p[SNAP_RBR] = u->rbr;
	p[SNAP_IER] = u->ier;
	p[SNAP_FCR] = u->fcr;
	p[SNAP_LCR] = u->lcr;
	p[SNAP_MCR] = u->mcr;
	p[SNAP_LSR] = u->lsr;
	p[SNAP_MSR] = u->msr;
	p[SNAP_SCR] = u->scr;
	p[SNAP_DIVISOR] = (uint8_t)u->divisor;
	p[SNAP_DIVISOR + 1] = (uint8_t)(u->divisor >> 8);
	p[SNAP_THR_PENDING] = u->thr_pending;
	pthread_mutex_unlock(&u->lock);
	return SNAP_LEN;
}

/* The blob's registers, into s's state fields only (s has no lock). */
static void uart_snap_decode(struct uart *s, const uint8_t *p)
{
	memcpy(s->rx, p + SNAP_RX, UART_FIFO_SIZE);
	s->rx_head = p[SNAP_RX_HEAD];
	s->rx_count = p[SNAP_RX_COUNT];
	s->rbr = p[SNAP_RBR];
	s->ier = p[SNAP_IER];
	s->fcr = p[SNAP_FCR];
	s->lcr = p[SNAP_LCR];
	s->mcr = p[SNAP_MCR];
	s->lsr = p[SNAP_LSR];
	s->msr = p[SNAP_MSR];
	s->scr = p[SNAP_SCR];
	s->divisor = (uint16_t)(p[SNAP_DIVISOR] | p[SNAP_DIVISOR + 1] << 8);
	s->thr_pending = p[SNAP_THR_PENDING] & 1;
}

/*
 * Whether the model could have reached s: the bits a 16550A reads as 0
 * are 0 (datasheet register summary), the receiver holds no more than it
 * can take and starts at 0 when empty or in 16450 mode (uart_rx_clear()),
 * LSR.DR says whether it holds anything, the transmitter is always empty,
 * only overrun among the errors ever occurs here, and MSR's inputs are
 * what MCR gives them.
 */
static bool uart_snap_valid(const struct uart *s, const uint8_t *p)
{
	const uint8_t lsr_can = LSR_DR | LSR_OE | LSR_THRE | LSR_TEMT;

	if (p[SNAP_THR_PENDING] > 1 || (s->ier & ~IER_MASK) ||
	    (s->fcr & ~FCR_KEEP) || (s->mcr & ~MCR_MASK))
		return false;
	if (s->rx_head >= UART_FIFO_SIZE || s->rx_count > uart_rx_capacity(s) ||
	    ((!s->rx_count || !(s->fcr & FCR_FE)) && s->rx_head))
		return false;
	if ((s->lsr & ~lsr_can) ||
	    (s->lsr & (LSR_THRE | LSR_TEMT)) != (LSR_THRE | LSR_TEMT) ||
	    !(s->lsr & LSR_DR) != !s->rx_count)
		return false;
	return (s->msr & 0xf0) == uart_modem_inputs(s);
}

static void uart_copy_state(struct uart *u, const struct uart *s)
{
	memcpy(u->rx, s->rx, UART_FIFO_SIZE);
	u->rx_head = s->rx_head;
	u->rx_count = s->rx_count;
	u->rbr = s->rbr;
	u->ier = s->ier;
	u->fcr = s->fcr;
	u->lcr = s->lcr;
	u->mcr = s->mcr;
	u->lsr = s->lsr;
	u->msr = s->msr;
	u->scr = s->scr;
	u->divisor = s->divisor;
	u->thr_pending = s->thr_pending;
}

/* All checked before anything changes; then the line follows IIR. */
static int uart_load(void *dev, const void *buf, size_t len, uint64_t now)
{
	struct uart *u = dev, s;
	const uint8_t *p = buf;

	if (len != SNAP_LEN || memcmp(p, snap_head, sizeof(snap_head)) ||
	    (p[SNAP_BASE] | p[SNAP_BASE + 1] << 8) != u->base)
		return -EINVAL;
	memset(&s, 0, sizeof(s));
	uart_snap_decode(&s, p);
	if (!uart_snap_valid(&s, p))
		return -EINVAL;
	pthread_mutex_lock(&u->lock);
	uart_copy_state(u, &s);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return 0;
}

const struct device_ops uart_ops = {
	.name = "uart",
	.read = uart_read,
	.write = uart_write,
	.reset = uart_reset,
	.describe = uart_describe,
	.destroy = uart_destroy,
	.save = uart_save,
	.load = uart_load,
};

int uart_new(const struct console_sink *out, const struct irq_line *irq,
	     struct uart **ret)
{
	struct uart *u;

	if (!ret)
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	pthread_mutex_init(&u->lock, NULL);
	if (out)
		u->out = *out;
	if (irq)
		u->irq = *irq;
	u->base = UART_COM1_BASE;
	uart_set_power_on(u);
	*ret = u;
	return 0;
}
