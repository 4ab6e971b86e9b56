// SPDX-License-Identifier: MIT
/* Interrupt handlers that count deliveries per vector and per CPU. */
#include "guest.h"

volatile uint32_t irq_count[256];
volatile uint32_t irq_cpu[256];
volatile uint32_t irq_cpu_total[SMP_MAX_CPUS];
void (*volatile irq_hook)(unsigned int vector);
static volatile bool irq_eoi[256];

static void count_handler(struct ex_regs *regs)
{
	unsigned int v = regs->vector & 0xff;
	unsigned int cpu = smp_cpu_id();
	void (*hook)(unsigned int) = irq_hook;

	if (hook)
		hook(v);
	irq_cpu[v] = cpu;
	if (cpu < SMP_MAX_CPUS)
		atomic_inc(&irq_cpu_total[cpu]);
	atomic_inc(&irq_count[v]);
	if (irq_eoi[v])
		lapic_eoi();
}

void irq_count_install(unsigned int vector, bool eoi)
{
	irq_eoi[vector & 0xff] = eoi;
	set_idt_handler(vector, count_handler);
}

void irq_count_set_eoi(unsigned int vector, bool eoi)
{
	irq_eoi[vector & 0xff] = eoi;
}
