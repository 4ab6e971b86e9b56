// SPDX-License-Identifier: MIT
/* The IDT: default exception reports, and handlers tests install. */
#include "guest.h"
#include "segments.h"

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

#define GATE_INTERRUPT_P 0x8e /* present, DPL 0, 64-bit interrupt gate */
#define ISR_STUB_SIZE 16      /* see isr.S */

extern char isr_stubs[];

/* isr.S pushes 15 registers, the vector and an error code; the CPU 5. */
_Static_assert(sizeof(struct ex_regs) == 22 * 8, "ex_regs must match isr.S");

static struct idt_gate idt[256] __attribute__((aligned(16)));
static idt_handler_fn handlers[256];

void idt_dispatch(struct ex_regs *regs);

static void set_gate(unsigned int vector)
{
	uint64_t addr = (uint64_t)(uintptr_t)isr_stubs + ISR_STUB_SIZE * vector;
	struct idt_gate *g = &idt[vector];

	g->offset_low = (uint16_t)addr;
	g->selector = SEL_CODE64;
	g->ist = 0;
	g->type_attr = GATE_INTERRUPT_P;
	g->offset_mid = (uint16_t)(addr >> 16);
	g->offset_high = (uint32_t)(addr >> 32);
	g->reserved = 0;
}

/* All CPUs share the one table: APs load it when they start. */
void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) desc = {
	    .limit = sizeof(idt) - 1,
	    .base = (uint64_t)(uintptr_t)idt,
	};

	__asm__ volatile("lidt %0" : : "m"(desc));
}

void idt_init(void)
{
	unsigned int v;

	/*
	 * Only the 32 exception vectors now: filling all 256 gates costs a
	 * few milliseconds of interpreted code at every boot, and a vector
	 * nobody installed then raises #GP with the vector in the error
	 * code, which names it just as well.
	 */
	for (v = 0; v < 32; v++)
		set_gate(v);
	idt_load();
}

void set_idt_handler(unsigned int vector, idt_handler_fn fn)
{
	if (vector >= ARRAY_SIZE(idt))
		return;
	handlers[vector] = fn;
	barrier();
	set_gate(vector);
}

static const char *const exception_names[32] = {
    [0] = "#DE",  [1] = "#DB",	[2] = "NMI",  [3] = "#BP",  [4] = "#OF",
    [5] = "#BR",  [6] = "#UD",	[7] = "#NM",  [8] = "#DF",  [10] = "#TS",
    [11] = "#NP", [12] = "#SS", [13] = "#GP", [14] = "#PF", [16] = "#MF",
    [17] = "#AC", [18] = "#MC", [19] = "#XM", [20] = "#VE", [21] = "#CP",
    [29] = "#VC", [30] = "#SX",
};

static void unexpected(const struct ex_regs *regs)
{
	static bool busy;
	const char *name = "interrupt";

	/* A fault while reporting a fault: don't loop, just leave. */
	if (busy)
		exit(GUEST_EXIT_EXCEPTION);
	busy = true;

	if (regs->vector < 32 && exception_names[regs->vector])
		name = exception_names[regs->vector];
	printf("EXCEPTION: unexpected %s (vector %lu), error code 0x%lx, "
	       "RIP 0x%lx\n",
	       name, regs->vector, regs->error_code, regs->rip);
	printf("  CS 0x%lx RFLAGS 0x%lx RSP 0x%lx", regs->cs, regs->rflags,
	       regs->rsp);
	if (regs->vector == 14)
		printf(" CR2 0x%lx", read_cr2());
	printf("\n");
	/*
	 * Selector error codes (SDM 6.13): bit 1 set means bits 3-15 index
	 * the IDT, as when an interrupt arrives on a vector whose gate was
	 * never installed (an empty gate is #GP, a non-present one #NP).
	 * QEMU's TCG reports vector * 2 there in long mode.
	 */
	if ((regs->vector == 11 || regs->vector == 13) &&
	    (regs->error_code & 2))
		printf("  (delivery through IDT entry %lu failed: no handler "
		       "installed?)\n",
		       regs->error_code >> 3);
	exit(GUEST_EXIT_EXCEPTION);
}

void idt_dispatch(struct ex_regs *regs)
{
	idt_handler_fn fn = handlers[regs->vector & 0xff];

	if (fn)
		fn(regs);
	else
		unexpected(regs);
}
