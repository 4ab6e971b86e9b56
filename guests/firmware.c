// SPDX-License-Identifier: MIT
/*
 * What PC firmware leaves for the kernel it boots, as real-mode code and
 * kvm-unit-tests' realmode count on: both 8259As programmed at vector
 * bases 0x08 and 0x70 with SeaBIOS's masks, the PIT's counter 0 running
 * at 18.2 Hz, and a real-mode interrupt vector table leading into the
 * BIOS segment. Read before anything is changed, then used as it is:
 * IRQ0 is taken at vector 8 and the RTC's IRQ8 at vector 0x70 without
 * reprogramming either PIC.
 */
#include "guest.h"
#include "segments.h"

/* SeaBIOS's masks: open IRQ 0, 1, 2, 6 and 8, 12, 13, 14 (verified with
 * QEMU's "info pic"). */
#define FW_MASTER_IMR 0xb8
#define FW_SLAVE_IMR 0x8e
#define VEC_IRQ0 0x08
#define VEC_IRQ8 0x70
#define RTC_INDEX 0x70
#define RTC_DATA 0x71

/*
 * Vector 8 is also #DF, for which the runtime's stub expects an error
 * code; IRQ0 pushes none. Its own stub: count, EOI the master, return.
 */
volatile uint32_t irq0_count;
extern char irq0_stub[];
__asm__(".text\n"
	".globl irq0_stub\n"
	"irq0_stub:\n"
	"	pushq %rax\n"
	"	incl irq0_count(%rip)\n"
	"	movb $0x20, %al\n"
	"	outb %al, $0x20\n"
	"	popq %rax\n"
	"	iretq\n");

/* Points IDT gate 8 at irq0_stub: a 64-bit interrupt gate (SDM 6.14.1). */
static void install_irq0_gate(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr;
	uint64_t addr = (uint64_t)(uintptr_t)irq0_stub;
	volatile uint8_t *g;

	__asm__ volatile("sidt %0" : "=m"(idtr));
	g = (volatile uint8_t *)(uintptr_t)(idtr.base + 16 * VEC_IRQ0);
	g[0] = (uint8_t)addr;
	g[1] = (uint8_t)(addr >> 8);
	g[2] = SEL_CODE64;
	g[3] = 0;
	g[4] = 0;    /* IST */
	g[5] = 0x8e; /* present, DPL 0, interrupt gate */
	g[6] = (uint8_t)(addr >> 16);
	g[7] = (uint8_t)(addr >> 24);
	for (unsigned int i = 0; i < 4; i++)
		g[8 + i] = (uint8_t)(addr >> (32 + 8 * i));
	for (unsigned int i = 12; i < 16; i++)
		g[i] = 0;
}

static volatile uint32_t irq8_count;

/* The RTC's periodic interrupt through the slave: read C, EOI both. */
static void irq8_handler(struct ex_regs *regs)
{
	outb(RTC_INDEX, 0x0c);
	inb(RTC_DATA);
	irq8_count++;
	outb(PIC_SLAVE_CMD, 0x20);
	outb(PIC_MASTER_CMD, 0x20);
}

static uint8_t rtc_read(uint8_t reg)
{
	outb(RTC_INDEX, reg);
	return inb(RTC_DATA);
}

static void rtc_write(uint8_t reg, uint8_t v)
{
	outb(RTC_INDEX, reg);
	outb(RTC_DATA, v);
}

/* Through a volatile address: gcc takes address 0 for a null pointer. */
static volatile uintptr_t ivt_addr = 0;

/*
 * The real-mode IVT at physical 0: 256 far pointers (offset, segment).
 * The PICs' 16 vectors lead into the BIOS segment, to handlers. (SeaBIOS
 * leaves the user vectors 0x60-0x66 and 0x79 null; splitvm none.)
 */
static void test_ivt(void)
{
	const volatile uint16_t *ivt = (const volatile uint16_t *)ivt_addr;
	unsigned int bad = 0, first = 0;

	for (unsigned int i = 0; i < 16; i++) {
		unsigned int v = i < 8 ? VEC_IRQ0 + i : VEC_IRQ8 + i - 8;

		if (ivt[2 * v + 1] != 0xf000 && !bad++)
			first = v;
	}
	reportf(bad == 0,
		"IVT: the PICs' vectors 0x08-0x0f, 0x70-0x77 lead into the "
		"BIOS segment (%u do not; first 0x%x)",
		bad, first);
	printf("firmware: IVT: IRQ0 at %04x:%04x, IRQ8 at %04x:%04x\n",
	       ivt[2 * VEC_IRQ0 + 1], ivt[2 * VEC_IRQ0], ivt[2 * VEC_IRQ8 + 1],
	       ivt[2 * VEC_IRQ8]);
}

/* Counter 0 as SeaBIOS's pit_setup() leaves it: 18.2 Hz, counting. */
static void test_pit(void)
{
	uint16_t c0, c1;
	uint8_t st = pit_readback(0, true, &c0);
	unsigned int mode = (st >> 1) & 7;

	reportf((st & 0x31) == 0x30 && (mode == 2 || mode == 3),
		"PIT counter 0: LSB then MSB, binary, mode 2 or 3 (status "
		"0x%02x: mode %u)",
		st, mode);
	reportf(!(st & 0x40), "PIT counter 0: a count is loaded (NULL COUNT "
			      "clear)");
	delay_us(2000);
	pit_readback(0, true, &c1);
	reportf(c0 != c1, "PIT counter 0 counts (0x%04x, then 0x%04x)", c0, c1);
}

/* IRQ0 at vector 8, through the PIC as firmware programmed it. */
static void test_irq0(uint16_t imr)
{
	uint32_t n;
	bool ok;

	install_irq0_gate();
	irq0_count = 0;
	pic_set_imr(imr);
	ok = wait_until(irq0_count >= 2, 1000);
	reportf(ok, "IRQ0 arrives at vector 8 after sti; hlt (%u)", irq0_count);
	n = irq0_count;
	sleep_ms(550);
	n = irq0_count - n;
	/* 18.2 Hz: 10 in 550 ms; the host timer may be late. */
	reportf(n >= 5 && n <= 15, "IRQ0 at about 18.2 Hz (%u in 550 ms)", n);
	irq_disable();
}

/* IRQ8 at vector 0x70, through the slave on IR2. */
static void test_irq8(uint16_t imr)
{
	bool ok;

	set_idt_handler(VEC_IRQ8, irq8_handler);
	pic_set_imr(imr | 1); /* IRQ0 quiet now */
	rtc_read(0x0c);
	rtc_write(0x0a, 0x2a); /* 32.768 kHz time base, 64 Hz */
	rtc_write(0x0b, rtc_read(0x0b) | 0x40);
	ok = wait_until(irq8_count >= 2, 1000);
	reportf(ok, "IRQ8 (the RTC) arrives at vector 0x70 (%u)", irq8_count);
	irq_disable();
	rtc_write(0x0b, rtc_read(0x0b) & ~0x40);
	rtc_read(0x0c);
}

int guest_main(const struct guest_boot *boot)
{
	uint8_t master = inb(PIC_MASTER_DATA), slave = inb(PIC_SLAVE_DATA);
	uint16_t imr = master | (uint16_t)slave << 8;

	printf("firmware: IMR master 0x%02x, slave 0x%02x\n", master, slave);
	reportf(master == FW_MASTER_IMR,
		"master IMR as firmware leaves it: 0x%02x (want 0x%02x)",
		master, FW_MASTER_IMR);
	reportf(slave == FW_SLAVE_IMR,
		"slave IMR as firmware leaves it: 0x%02x (want 0x%02x)", slave,
		FW_SLAVE_IMR);
	test_ivt();
	if (!interrupts_init(lapic_mode_from_cmdline()))
		return report_summary();
	test_pit();
	ioapic_mask_all();
	lapic_setup_virtual_wire();
	test_irq0(imr);
	test_irq8(imr);
	pic_mask_all();
	return report_summary();
}
