// SPDX-License-Identifier: MIT
/*
 * The benchmark guest: times one path n times with the TSC and prints the
 * samples (TSC ticks) on COM1 for bench/run. It runs unchanged under
 * splitvm, QEMU and the raw floor (bench/floor/floor.c), so it touches only
 * what all three have: COM1, debug-exit, the in-kernel LAPIC, pc-testdev's
 * line ports (0x2000 + n) and, where the host offers it, a trigger
 * register (MMIO, one byte at TRIGGER_MMIO).
 *
 * Command line: mode=M n=N tsc_khz=K [cpus=C], where M is one of
 *   exit   an `out` to an unclaimed port and back
 *   edge   IOAPIC pin 14, edge: line up -> handler entry
 *   level  IOAPIC pin 15, level: one delivery -> the next while the line
 *          stays high (the handler EOIs; the VMM re-delivers at the EOI)
 *   pic    8259A IRQ5 through LVT0 ExtINT: line up -> handler entry
 *   msi    a write to the trigger -> the host's MSI -> handler entry;
 *          with edu=1 (QEMU pc, which has no trigger) a write to the
 *          raise register of QEMU's `edu` PCI device, which sends its MSI
 *   nmi    a write to the trigger -> the host's NMI (a vCPU ioctl) ->
 *          handler entry
 *   msinmi a write to the trigger -> an MSI with delivery mode NMI ->
 *          handler entry; with edu=1, edu's MSI so programmed
 *   ipi    fixed IPI to CPU 1, which answers with one: round trip on CPU 0
 *   smp    INIT-SIPI-SIPI to all APs -> every AP running C code
 *   idle   prints "bench: idle" and halts for ever (memory figures)
 *
 * Everything here runs at CPL0, which the PVM build hosts interpret at
 * ~0.5 us per instruction (KVM-NOTES): the measured paths are kept to a
 * handful of instructions, and the same guest code runs under every VMM,
 * so its constant cost is in every figure alike. TSC frequency comes from
 * the host (tsc_khz=, KVM_GET_TSC_KHZ); it only bounds the waits.
 */
#include "guest.h"

#define EXIT_PORT 0x3000    /* unclaimed in splitvm, QEMU pc and microvm */
/*
 * bench/svbench.c and the floor claim it: MMIO, as QEMU's edu register
 * is, so the exits before the MSI are alike in every column.
 */
#define TRIGGER_MMIO 0xfe800000u
#define TRIGGER_MSI 1
#define TRIGGER_NMI 2
#define TRIGGER_MSI_NMI 3

#define EDGE_LINE 14  /* QEMU's pc-testdev takes lines 0-15 only */
#define LEVEL_LINE 15
#define PIC_IRQ 5     /* master 8259A: no cascade EOI */
#define PIC_BASE 0x50 /* master 0x50-0x57, slave 0x58-0x5f */
#define EDGE_VECTOR 0x40
#define LEVEL_VECTOR 0x41
#define MSI_VECTOR 0x42
#define MSI_DM_NMI (4u << 8) /* MSI data: delivery mode NMI */
#define IPI_VECTOR 0x44
#define IPI_REPLY_VECTOR 0x45
#define AP_UP_VECTOR 0x46

#define MAX_SAMPLES 20000
#define LEVEL_BURST 8 /* deliveries per assertion of the level line */
#define WAIT_US 200000

static uint32_t samples[MAX_SAMPLES];
static unsigned int nsamples;

/* Set by the handlers: TSC at entry and a delivery count. */
static volatile uint64_t hit_tsc;
static volatile uint32_t hits;
static volatile uint64_t level_tsc[LEVEL_BURST];

static void record(uint64_t ticks)
{
	if (nsamples < MAX_SAMPLES)
		samples[nsamples++] = ticks > UINT32_MAX ? UINT32_MAX
							 : (uint32_t)ticks;
}

/* ---- Handlers: gcc's interrupt attribute saves only what they use ---- */

struct interrupt_frame;

static inline void xapic_eoi(void)
{
	mmio_write32(APIC_MMIO_BASE + APIC_EOI, 0);
}

__attribute__((interrupt)) static void lapic_handler(struct interrupt_frame *f)
{
	hit_tsc = rdtsc();
	hits = hits + 1;
	xapic_eoi();
}

/* Lowers the line at the burst's last delivery, then EOIs: the VMM sees
 * the EOI with the line high LEVEL_BURST - 1 times and re-delivers. */
__attribute__((interrupt)) static void level_handler(struct interrupt_frame *f)
{
	uint32_t i = hits;

	if (i < LEVEL_BURST)
		level_tsc[i] = rdtsc();
	hits = i + 1;
	if (i + 1 >= LEVEL_BURST)
		testdev_set_line(LEVEL_LINE, 0);
	xapic_eoi();
}

__attribute__((interrupt)) static void pic_handler(struct interrupt_frame *f)
{
	hit_tsc = rdtsc();
	hits = hits + 1;
	outb(PIC_MASTER_CMD, PIC_OCW2_EOI);
}

__attribute__((interrupt)) static void nmi_handler(struct interrupt_frame *f)
{
	hit_tsc = rdtsc();
	hits = hits + 1;
}

/* On the AP: answer CPU 0 at once. */
__attribute__((interrupt)) static void ipi_handler(struct interrupt_frame *f)
{
	mmio_write32(APIC_MMIO_BASE + APIC_ICR2, smp_cpu[0].apic_id << 24);
	mmio_write32(APIC_MMIO_BASE + APIC_ICR,
		     APIC_DM_FIXED | APIC_INT_ASSERT | IPI_REPLY_VECTOR);
	xapic_eoi();
}

/* Run by each AP once in C (smp_ap_main): wakes CPU 0. */
static void ap_up(unsigned int cpu)
{
	apic_send_fixed(smp_cpu[0].apic_id, AP_UP_VECTOR);
}

__attribute__((interrupt)) static void ap_up_handler(struct interrupt_frame *f)
{
	xapic_eoi();
}

/*
 * Points vector's gate at fn: the runtime's set_idt_handler() fills the
 * gate's other fields, then the handler address is patched in (through
 * SIDT), bypassing the runtime's register-saving stub.
 */
static void set_raw_handler(unsigned int vector,
			    void (*fn)(struct interrupt_frame *))
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) desc;
	uint64_t addr = (uint64_t)(uintptr_t)fn;
	volatile uint8_t *gate;

	set_idt_handler(vector, NULL);
	__asm__ volatile("sidt %0" : "=m"(desc));
	gate = (volatile uint8_t *)(uintptr_t)(desc.base + 16 * vector);
	*(volatile uint16_t *)(gate + 0) = (uint16_t)addr;
	*(volatile uint16_t *)(gate + 6) = (uint16_t)(addr >> 16);
	*(volatile uint32_t *)(gate + 8) = (uint32_t)(addr >> 32);
}

/* Spins (IF as it is) until hits reaches want; false after WAIT_US. */
static bool wait_hits(uint32_t want)
{
	return spin_until(atomic_read(&hits) >= want, WAIT_US);
}

static void fail(const char *what)
{
	printf("bench: FAIL: %s (after %u samples)\n", what, nsamples);
	exit(GUEST_EXIT_FAIL);
}

/* ---- The paths ---- */

static void start_aps(unsigned int aps);

static void run_exit(unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint64_t t0 = rdtsc();

		outb(EXIT_PORT, 0);
		record(rdtsc() - t0);
	}
}

/* Line up, measured to the handler; line down, not measured. */
static void run_line(unsigned int line, unsigned int n)
{
	irq_enable();
	for (unsigned int i = 0; i < n; i++) {
		uint64_t t0 = rdtsc();

		testdev_set_line(line, 1);
		if (!wait_hits(i + 1))
			fail("no interrupt for the line");
		record(hit_tsc - t0);
		testdev_set_line(line, 0);
	}
	irq_disable();
}

static void run_edge(unsigned int n)
{
	set_raw_handler(EDGE_VECTOR, lapic_handler);
	ioapic_write_entry(EDGE_LINE, ioapic_entry(EDGE_VECTOR, 0, 0));
	run_line(EDGE_LINE, n);
	ioapic_mask_pin(EDGE_LINE, true);
}

static void run_level(unsigned int n)
{
	set_raw_handler(LEVEL_VECTOR, level_handler);
	ioapic_write_entry(LEVEL_LINE,
			   ioapic_entry(LEVEL_VECTOR, IOAPIC_LEVEL, 0));
	irq_enable();
	while (nsamples < n) {
		hits = 0;
		testdev_set_line(LEVEL_LINE, 1);
		if (!wait_hits(LEVEL_BURST))
			fail("level line not re-delivered after its EOI");
		for (int i = 1; i < LEVEL_BURST && nsamples < n; i++)
			record(level_tsc[i] - level_tsc[i - 1]);
	}
	irq_disable();
	ioapic_mask_pin(LEVEL_LINE, true);
}

static void run_pic(unsigned int n)
{
	set_raw_handler(PIC_BASE + PIC_IRQ, pic_handler);
	pic_init(PIC_BASE, PIC_BASE + 8, false);
	pic_unmask(PIC_IRQ);
	lapic_setup_virtual_wire();
	run_line(PIC_IRQ, n);
	pic_mask_all();
}

/* A trigger write, measured to the handler. */
static void run_trigger(unsigned int what, unsigned int n)
{
	irq_enable();
	for (unsigned int i = 0; i < n; i++) {
		uint64_t t0 = rdtsc();

		mmio_write8(TRIGGER_MMIO, (uint8_t)what);
		if (!wait_hits(i + 1))
			fail("no interrupt from the trigger");
		record(hit_tsc - t0);
	}
	irq_disable();
}

/*
 * QEMU's `edu` device (docs/specs/edu.rst): PCI 1234:11e8; a write to BAR0
 * + 0x60 raises an interrupt, sent as its MSI when MSI is enabled. Found
 * through configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2) on bus
 * 0; the firmware has assigned BAR0.
 */
#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc
#define EDU_ID 0x11e81234u
#define EDU_RAISE 0x60
#define PCI_CAP_MSI 0x05

static uint32_t pci_read(unsigned int dev, unsigned int reg)
{
	outl(PCI_ADDR, 0x80000000u | dev << 11 | (reg & 0xfc));
	return inl(PCI_DATA);
}

static void pci_write(unsigned int dev, unsigned int reg, uint32_t v)
{
	outl(PCI_ADDR, 0x80000000u | dev << 11 | (reg & 0xfc));
	outl(PCI_DATA, v);
}

/*
 * Points edu's MSI at APIC 0 with data (PCI 3.0 6.8.1: control at +2,
 * address at +4, data at +8, or +0xc with 64-bit addresses; the data is
 * the vector and delivery mode of SDM vol. 3 10.11.2) and turns on memory
 * decoding and bus mastering; returns its raise register, or 0.
 */
static uint64_t edu_setup(uint32_t data)
{
	unsigned int dev, cap, ctl;

	for (dev = 0; dev < 32 && pci_read(dev, 0) != EDU_ID; dev++)
		;
	if (dev == 32)
		return 0;
	for (cap = pci_read(dev, 0x34) & 0xfc; cap;
	     cap = (pci_read(dev, cap) >> 8) & 0xfc)
		if ((pci_read(dev, cap) & 0xff) == PCI_CAP_MSI)
			break;
	if (!cap)
		return 0;
	ctl = pci_read(dev, cap) >> 16;
	pci_write(dev, cap + 4, 0xfee00000u);
	if (ctl & 0x80) { /* 64-bit address */
		pci_write(dev, cap + 8, 0);
		pci_write(dev, cap + 0xc, data);
	} else {
		pci_write(dev, cap + 8, data);
	}
	pci_write(dev, cap, (pci_read(dev, cap) & 0xffff) | (ctl | 1) << 16);
	pci_write(dev, 4, pci_read(dev, 4) | 0x6); /* memory, bus master */
	return (pci_read(dev, 0x10) & ~0xfu) + EDU_RAISE;
}

/* An edu raise-register write, measured to the handler. */
static void run_edu(uint32_t msi_data, unsigned int n)
{
	uint64_t raise = edu_setup(msi_data);

	if (!raise)
		fail("edu=1, but no edu PCI device with MSI");
	irq_enable();
	for (unsigned int i = 0; i < n; i++) {
		uint64_t t0 = rdtsc();

		mmio_write32(raise, 1);
		if (!wait_hits(i + 1))
			fail("no MSI from the edu device");
		record(hit_tsc - t0);
	}
	irq_disable();
}

static void run_msi(unsigned int n)
{
	set_raw_handler(MSI_VECTOR, lapic_handler);
	if (cmdline_u64("edu", 0))
		run_edu(MSI_VECTOR, n);
	else
		run_trigger(TRIGGER_MSI, n);
}

static void run_nmi(unsigned int n)
{
	set_raw_handler(2, nmi_handler);
	run_trigger(TRIGGER_NMI, n);
}

static void run_msi_nmi(unsigned int n)
{
	set_raw_handler(2, nmi_handler);
	if (cmdline_u64("edu", 0))
		run_edu(MSI_DM_NMI, n);
	else
		run_trigger(TRIGGER_MSI_NMI, n);
}

/*
 * Halts (sti; hlt, with IF=0 until then so the interrupt cannot slip in
 * before the HLT) until hits reaches want; bounded by WAIT_US, spinning
 * with IF=1 after a wakeup that was not ours. A halted vCPU gives its host
 * core up: a spinning one would delay the other vCPU's thread whenever the
 * host placed both on one core.
 */
static bool halt_for_hits(uint32_t want)
{
	bool ok = true;

	if (atomic_read(&hits) < want)
		safe_halt();
	if (atomic_read(&hits) < want)
		ok = wait_hits(want); /* IF=1 here */
	irq_disable();
	return ok;
}

static void run_ipi(unsigned int n)
{
	set_raw_handler(IPI_VECTOR, ipi_handler);
	set_raw_handler(IPI_REPLY_VECTOR, lapic_handler);
	if (smp_cpu_count() < 2)
		fail("ipi needs cpus=2");
	smp_install_trampoline(SMP_TRAMPOLINE_PAGE);
	start_aps(smp_cpu_count() - 1);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t t0 = rdtsc();

		mmio_write32(APIC_MMIO_BASE + APIC_ICR2,
			     smp_cpu[1].apic_id << 24);
		mmio_write32(APIC_MMIO_BASE + APIC_ICR,
			     APIC_DM_FIXED | APIC_INT_ASSERT | IPI_VECTOR);
		if (!halt_for_hits(i + 1))
			fail("no IPI reply from CPU 1");
		record(hit_tsc - t0);
	}
}

extern volatile uint32_t ap_next_slot; /* lib/trampoline.S */

/*
 * INIT then two SIPIs to all APs by shorthand, with no delays (KVM's LAPIC
 * needs none, and Linux skips the MP spec's 10 ms under a hypervisor);
 * returns once all aps have run ap_start() (which counts the start, then
 * calls ap_up()). Every AP has done its stack slot's xadd before the
 * previous round ended, so the slots are reused.
 */
static void start_aps(unsigned int aps)
{
	uint32_t want = smp_ap_starts + aps;
	uint64_t end = rdtsc() + 10 * WAIT_US * tsc_khz / 1000;

	irq_disable();
	atomic_set(&ap_next_slot, 0);
	apic_send_allbutself(APIC_DM_INIT | APIC_INT_LEVELTRIG);
	apic_send_allbutself(APIC_DM_STARTUP | SMP_TRAMPOLINE_PAGE);
	apic_send_allbutself(APIC_DM_STARTUP | SMP_TRAMPOLINE_PAGE);
	/* Each AP's ap_up() wakes this CPU: halt rather than spin (see
	 * halt_for_hits()). */
	while (atomic_read(&smp_ap_starts) < want && rdtsc() < end) {
		safe_halt();
		irq_disable();
	}
	if (atomic_read(&smp_ap_starts) < want)
		fail("APs did not come up");
}

/* A round's INIT sends the APs of the previous round back to
 * wait-for-SIPI. */
static void run_smp(unsigned int n)
{
	unsigned int aps = smp_cpu_count() - 1;

	if (!aps)
		fail("smp needs cpus=2 or more");
	smp_install_trampoline(SMP_TRAMPOLINE_PAGE);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t t0 = rdtsc();

		start_aps(aps);
		record(rdtsc() - t0);
	}
}

/* ---- Output: "S" lines of hex samples, 16 to a line ---- */

static char *put_hex(char *p, uint32_t v)
{
	char tmp[8];
	int len = 0;

	do {
		tmp[len++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	while (len)
		*p++ = tmp[--len];
	return p;
}

static void print_samples(void)
{
	char line[16 * 9 + 4];

	for (unsigned int i = 0; i < nsamples; i += 16) {
		char *p = line;

		*p++ = 'S';
		for (unsigned int j = i; j < nsamples && j < i + 16; j++) {
			*p++ = ' ';
			p = put_hex(p, samples[j]);
		}
		*p++ = '\n';
		*p = 0;
		serial_puts(line);
	}
}

int guest_main(const struct guest_boot *boot)
{
	char mode[16];
	uint64_t n = cmdline_u64("n", 100);

	tsc_khz = cmdline_u64("tsc_khz", 1000000);
	if (!cmdline_get(guest_cmdline(), "mode", mode, sizeof(mode)) ||
	    n > MAX_SAMPLES || !tsc_khz) {
		printf("bench: usage: mode=M n=N (<= %u) tsc_khz=K\n",
		       MAX_SAMPLES);
		return GUEST_EXIT_USAGE;
	}
	pic_mask_all();
	lapic_init(LAPIC_XAPIC);
	smp_init();
	set_raw_handler(AP_UP_VECTOR, ap_up_handler);
	smp_ap_main = ap_up;
	printf("bench: mode=%s n=%lu\n", mode, n);
	if (!strcmp(mode, "exit"))
		run_exit((unsigned int)n);
	else if (!strcmp(mode, "edge"))
		run_edge((unsigned int)n);
	else if (!strcmp(mode, "level"))
		run_level((unsigned int)n);
	else if (!strcmp(mode, "pic"))
		run_pic((unsigned int)n);
	else if (!strcmp(mode, "msi"))
		run_msi((unsigned int)n);
	else if (!strcmp(mode, "nmi"))
		run_nmi((unsigned int)n);
	else if (!strcmp(mode, "msinmi"))
		run_msi_nmi((unsigned int)n);
	else if (!strcmp(mode, "ipi"))
		run_ipi((unsigned int)n);
	else if (!strcmp(mode, "smp"))
		run_smp((unsigned int)n);
	else if (!strcmp(mode, "idle")) {
		serial_puts("bench: idle\n");
		for (;;)
			__asm__ volatile("cli; hlt");
	} else {
		printf("bench: unknown mode '%s'\n", mode);
		return GUEST_EXIT_USAGE;
	}
	print_samples();
	serial_puts("bench: done\n");
	return GUEST_EXIT_PASS;
}
