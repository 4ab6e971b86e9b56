// SPDX-License-Identifier: MIT
/* Polled COM1 16550A console: the guests' only output besides exit codes. */
#include "guest.h"

#define COM1 0x3f8
#define UART_RBR 0 /* DLAB=0, read */
#define UART_THR 0 /* DLAB=0, write */
#define UART_DLL 0 /* DLAB=1 */
#define UART_IER 1
#define UART_DLM 1 /* DLAB=1 */
#define UART_FCR 2 /* write */
#define UART_IIR 2 /* read */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5

#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define FCR_ENABLE_CLEAR_TX 0x05 /* FIFOs on, clear the TX FIFO only */
#define IIR_FIFO_ON 0xc0	 /* both bits set: a 16550A with FIFOs */
#define MCR_DTR_RTS_OUT2 0x0b	 /* OUT2 gates the IRQ line on PCs */
#define LSR_DR 0x01
#define LSR_THRE 0x20

/*
 * Bytes we may still write before polling LSR again. When THRE is set
 * the transmitter FIFO is empty, so a 16550A with FIFOs takes 16 bytes
 * without another look; each LSR read is a VM exit, so this halves the
 * exits per character. An 8250/16450 (no FIFO) takes one.
 */
static unsigned int tx_room;
static unsigned int tx_fifo_size = 1;

/*
 * Input that arrived before serial_init(): turning the FIFOs on resets
 * them (16550A datasheet, FCR bit 0), which would drop bytes a test sent
 * early, so they are read out first and served from here.
 */
static uint8_t early_rx[16];
static unsigned int early_len, early_pos;

void serial_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_8N1); /* DLAB=0: offset 0 is RBR */
	while (early_len < sizeof(early_rx) && (inb(COM1 + UART_LSR) & LSR_DR))
		early_rx[early_len++] = inb(COM1 + UART_RBR);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DLL, 1); /* 115200 baud */
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, FCR_ENABLE_CLEAR_TX);
	outb(COM1 + UART_MCR, MCR_DTR_RTS_OUT2);
	if ((inb(COM1 + UART_IIR) & IIR_FIFO_ON) == IIR_FIFO_ON)
		tx_fifo_size = 16;
	tx_room = 0;
}

void serial_putc(char c)
{
	if (!tx_room) {
		while (!(inb(COM1 + UART_LSR) & LSR_THRE))
			cpu_relax();
		tx_room = tx_fifo_size;
	}
	outb(COM1 + UART_THR, (uint8_t)c);
	tx_room--;
}

void serial_puts(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

bool serial_can_read(void)
{
	if (early_pos < early_len)
		return true;
	return inb(COM1 + UART_LSR) & LSR_DR;
}

uint8_t serial_getc(void)
{
	if (early_pos < early_len)
		return early_rx[early_pos++];
	while (!serial_can_read())
		cpu_relax();
	return inb(COM1 + UART_RBR);
}
