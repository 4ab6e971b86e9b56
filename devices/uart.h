/* SPDX-License-Identifier: MIT */
/* 16550A UART on COM1: register model, console output and host input. */
#ifndef SPLITVM_UART_H
#define SPLITVM_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"

#define UART_COM1_BASE 0x3f8
#define UART_REGION_SIZE 8	/* register uart_ops for 8 ports */
#define UART_FIFO_SIZE 16

struct uart;

extern const struct device_ops uart_ops;

/**
 * uart_new() - creates a 16550A in its reset state, at COM1 (0x3f8).
 * @out: where transmitted bytes go, one byte per call, with the UART's
 *	 lock held (the sink must not call back into this UART); NULL
 *	 discards output. Copied.
 * @irq: the line the UART drives (its .line is also the "interrupts"
 *	 value put in the FDT); NULL for none. Copied.
 * @ret: receives the UART; free it with uart_ops.destroy.
 *
 * The line is set with the UART's lock held, and only when its level
 * changes; the router must not call back into the UART from set().
 *
 * Returns 0, or -EINVAL (ret NULL), -ENOMEM.
 */
int uart_new(const struct console_sink *out, const struct irq_line *irq,
	     struct uart **ret);

/**
 * uart_receive() - pushes host bytes into the receiver.
 * @u: the UART.
 * @data, @len: the bytes.
 *
 * Takes as many bytes as the receiver has room for (16 with the FIFO on,
 * 1 without) and raises the interrupt as IER says. Bytes that do not fit
 * are not taken: the caller keeps them and retries once uart_rx_ready()
 * says so. Nothing is taken in loopback mode, where the 16550A cuts its
 * serial input off.
 *
 * Returns how many bytes were taken.
 */
size_t uart_receive(struct uart *u, const uint8_t *data, size_t len);

/* True when uart_receive() would take at least one byte. */
bool uart_rx_ready(struct uart *u);

#endif /* SPLITVM_UART_H */
