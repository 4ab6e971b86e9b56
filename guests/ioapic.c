// SPDX-License-Identifier: MIT
/*
 * The IOAPIC as a guest sees it: registers, edge and level delivery,
 * Remote IRR and EOIs (LAPIC, EOI register, directed EOI, edge flip),
 * masking, destinations and delivery modes.
 */
#include "guest.h"

#define VEC_EDGE 0x41
#define VEC_LEVEL 0x52
#define VEC_NMI_ENTRY 0x63 /* in an NMI entry: must not arrive as fixed */

/* Test lines (= IOAPIC pins, none of them 0 or 2). */
static unsigned int edge_line, level_line;
static uint32_t bsp_id;
static unsigned int ncpus;

static volatile uint32_t nmi_count;
static volatile uint32_t level_count;
static volatile bool level_rirr_seen;

static void nmi_handler(struct ex_regs *regs)
{
	atomic_inc(&nmi_count);
}

/* Level vector: note Remote IRR as delivered; no EOI here. */
static void level_handler(struct ex_regs *regs)
{
	level_rirr_seen = ioapic_remote_irr(level_line);
	atomic_inc(&level_count);
}

static void pick_lines(void)
{
	uint64_t l[2];
	int n = cmdline_get_list(guest_cmdline(), "lines", l, 2);

	if (n == 0) {
		/* QEMU's pc-testdev aborts on lines >= 16. */
		l[0] = guest_on_qemu() ? 14 : 16;
		l[1] = l[0] + 1;
	} else if (n != 2 || l[0] == l[1] || l[0] >= ioapic_pins() ||
		   l[1] >= ioapic_pins() || l[0] == 0 || l[0] == 2 ||
		   l[1] == 0 || l[1] == 2) {
		printf("FAIL: lines=EDGE,LEVEL: two distinct IOAPIC pins "
		       "other than 0 and 2\n");
		exit(GUEST_EXIT_USAGE);
	}
	edge_line = (unsigned int)l[0];
	level_line = (unsigned int)l[1];
}

static uint64_t edge_entry(uint8_t vec, uint32_t flags, uint8_t dest)
{
	return ioapic_entry(vec, flags, dest);
}

static uint64_t level_entry(uint32_t flags)
{
	return ioapic_entry(VEC_LEVEL, IOAPIC_LEVEL | flags, (uint8_t)bsp_id);
}

static void pulse(unsigned int line)
{
	testdev_set_line(line, 1);
	testdev_set_line(line, 0);
}

static bool rirr_clears(unsigned int pin)
{
	return wait_until(!ioapic_remote_irr(pin), IRQ_TIMEOUT_MS);
}

/* Raises the level line and waits for one more delivery. */
static bool level_deliver(void)
{
	uint32_t c = level_count;

	testdev_set_line(level_line, 1);
	return wait_until(level_count > c, IRQ_TIMEOUT_MS);
}

/*
 * TPR 0xd0 holds test vectors (classes 4-6) off: the level line is
 * raised and the vector left pending in the LAPIC IRR, accepted (so
 * Remote IRR is set) but neither delivered nor EOIed. This works the
 * same whether or not the LAPIC keeps delivered vectors in service.
 */
#define TPR_HOLD 0xd0

static bool level_pending(void)
{
	lapic_set_tpr(TPR_HOLD);
	testdev_set_line(level_line, 1);
	return wait_until(lapic_irr(VEC_LEVEL), IRQ_TIMEOUT_MS);
}

/* Drops TPR and waits for the held vector to be delivered. */
static bool level_release(void)
{
	uint32_t c = level_count;

	lapic_set_tpr(0);
	return wait_until(level_count > c, IRQ_TIMEOUT_MS);
}

static void skip_in_service(const char *what)
{
	char name[160];

	snprintf(name, sizeof(name),
		 "%s (needs a LAPIC that keeps vectors in service)", what);
	report_skip(name);
}

/* Back to: line low, nothing in service, Remote IRR clear, masked. */
static void level_reset(void)
{
	testdev_set_line(level_line, 0);
	lapic_set_tpr(0);
	sleep_ms(1);
	lapic_drain_isr();
	if (ioapic_remote_irr(level_line))
		rirr_clears(level_line);
	ioapic_write_entry(level_line, level_entry(IOAPIC_MASKED));
}

static void test_registers(void)
{
	uint32_t ver = ioapic_read(IOAPIC_REG_VERSION);
	uint32_t id = ioapic_read(IOAPIC_REG_ID);
	unsigned int pins = ((ver >> 16) & 0xff) + 1;
	uint64_t want_ver = cmdline_u64("version", 0);
	uint64_t want_pins = cmdline_u64("pins", 0);
	bool all_masked = true;
	uint32_t v;

	printf("ioapic: version register 0x%08x: version 0x%x, %u pins\n", ver,
	       ver & 0xff, pins);
	reportf((ver & 0xff) == 0x20 || (ver & 0xff) == 0x11,
		"version register: version is 0x20 or 0x11 (0x%x)", ver & 0xff);
	if (want_ver)
		reportf((ver & 0xff) == want_ver,
			"version register: version 0x%lx as asked (0x%x)",
			want_ver, ver & 0xff);
	if (want_pins)
		reportf(pins == want_pins,
			"version register: %lu pins as asked (%u)", want_pins,
			pins);
	else
		reportf(pins >= 24, "version register: at least 24 pins (%u)",
			pins);
	reportf((ver & 0xff00ff00) == 0,
		"version register: reserved bits read 0 (0x%08x)", ver);
	ioapic_write(IOAPIC_REG_VERSION, ~ver);
	v = ioapic_read(IOAPIC_REG_VERSION);
	reportf(v == ver,
		"version register is read-only (0x%08x after "
		"writing 0x%08x)",
		v, ~ver);

	/* Firmware (and reset) state: every pin masked. */
	for (unsigned int pin = 0; pin < pins; pin++) {
		uint64_t e = ioapic_read_entry(pin);

		if (!(e & IOAPIC_MASKED)) {
			printf("  pin %u: entry 0x%016lx\n", pin, e);
			all_masked = false;
		}
	}
	report("every redirection entry is masked at start", all_masked);

	ioapic_write(IOAPIC_REG_ID, 0xffffffff);
	v = ioapic_read(IOAPIC_REG_ID);
	reportf(v == 0x0f000000,
		"ID register: only bits 27:24 are writable "
		"(0x%08x after writing all ones)",
		v);
	ioapic_write(IOAPIC_REG_ID, 0x05000000);
	v = ioapic_read(IOAPIC_REG_ID);
	reportf(v == 0x05000000, "ID register: reads back 0x05000000 (0x%08x)",
		v);
	v = ioapic_read(IOAPIC_REG_ARB);
	reportf(v == 0x05000000,
		"arbitration register reads the ID, as in QEMU and KVM "
		"(0x%08x)",
		v);
	ioapic_write(IOAPIC_REG_ID, id);
}

/* Fields of an entry that are defined and writable (82093AA 3.2.4). */
#define ENTRY_RW_FIELDS                                                        \
	(0xffull | 0x700 | IOAPIC_DEST_LOGICAL | IOAPIC_ACTIVE_LOW |           \
	 IOAPIC_LEVEL | IOAPIC_MASKED | 0xffull << IOAPIC_DEST_SHIFT)

static void test_redirection_readback(void)
{
	uint64_t a = ioapic_entry(0x5a,
				  IOAPIC_DM_LOWEST | IOAPIC_DEST_LOGICAL |
					  IOAPIC_LEVEL | IOAPIC_MASKED,
				  0xa5);
	uint64_t b = ioapic_entry(
		0xa7, IOAPIC_DM_NMI | IOAPIC_ACTIVE_LOW | IOAPIC_MASKED, 0x3c);
	uint64_t ra, rb;

	ioapic_write_entry(level_line, a);
	ioapic_write_entry(edge_line, b);
	ra = ioapic_read_entry(level_line);
	rb = ioapic_read_entry(edge_line);
	reportf((ra & ENTRY_RW_FIELDS) == a,
		"redirection entry reads back vector, delivery and destination "
		"modes, trigger, mask, destination (wrote 0x%016lx, read "
		"0x%016lx)",
		a, ra);
	reportf((rb & ENTRY_RW_FIELDS) == b,
		"redirection entry: a second pin keeps its own fields, "
		"polarity included (wrote 0x%016lx, read 0x%016lx)",
		b, rb);

	/* Delivery status and Remote IRR are read-only. */
	ioapic_write_entry(edge_line, edge_entry(VEC_EDGE,
						 IOAPIC_MASKED | IOAPIC_DELIVS |
							 IOAPIC_REMOTE_IRR,
						 (uint8_t)bsp_id));
	ioapic_write_entry(
		level_line,
		level_entry(IOAPIC_MASKED | IOAPIC_DELIVS | IOAPIC_REMOTE_IRR));
	rb = ioapic_read_entry(edge_line);
	ra = ioapic_read_entry(level_line);
	reportf(!(rb & (IOAPIC_DELIVS | IOAPIC_REMOTE_IRR)) &&
			!(ra & (IOAPIC_DELIVS | IOAPIC_REMOTE_IRR)),
		"delivery status and Remote IRR are not writable (edge 0x%lx, "
		"level 0x%lx)",
		rb & 0xffffffff, ra & 0xffffffff);
	ioapic_write_entry(edge_line, edge_entry(VEC_EDGE, IOAPIC_MASKED,
						 (uint8_t)bsp_id));
	ioapic_write_entry(level_line, level_entry(IOAPIC_MASKED));
}

static void test_edge(void)
{
	uint32_t c0 = irq_count[VEC_EDGE];
	bool ok;

	testdev_set_line(edge_line, 0);
	ioapic_write_entry(edge_line, edge_entry(VEC_EDGE, 0, (uint8_t)bsp_id));
	testdev_set_line(edge_line, 1);
	ok = wait_until(irq_count[VEC_EDGE] >= c0 + 1, IRQ_TIMEOUT_MS);
	reportf(ok, "edge: a rising line delivers the vector (%u interrupts)",
		irq_count[VEC_EDGE] - c0);
	sleep_ms(IRQ_QUIET_MS);
	reportf(irq_count[VEC_EDGE] == c0 + 1,
		"edge: a line held high delivers nothing more (%u interrupts)",
		irq_count[VEC_EDGE] - c0);
	reportf(!ioapic_remote_irr(edge_line),
		"edge: Remote IRR stays clear (entry 0x%x)",
		ioapic_read(IOAPIC_REG_REDTBL(edge_line)));
	testdev_set_line(edge_line, 0);
	testdev_set_line(edge_line, 1);
	ok = wait_until(irq_count[VEC_EDGE] >= c0 + 2, IRQ_TIMEOUT_MS);
	reportf(ok, "edge: the next rising edge delivers again (%u interrupts)",
		irq_count[VEC_EDGE] - c0);
	testdev_set_line(edge_line, 0);
}

static void test_level(void)
{
	uint32_t c;
	bool ok;

	testdev_set_line(level_line, 0);
	level_count = 0;
	ioapic_write_entry(level_line, level_entry(0));
	ok = level_pending();
	reportf(ok,
		"level: a high line sends the vector (pending in the LAPIC "
		"IRR while TPR 0x%x holds it off)",
		TPR_HOLD);
	if (!ok) {
		level_reset();
		return;
	}
	reportf(ioapic_remote_irr(level_line),
		"level: Remote IRR is set once the LAPIC accepted the message");
	report("level: the LAPIC TMR bit of the vector is set",
	       lapic_tmr(VEC_LEVEL));
	reportf(level_count == 0,
		"level: TPR holds the vector off (%u "
		"interrupts)",
		level_count);
	ok = level_release();
	reportf(ok,
		"level: the vector is delivered when TPR drops (%u "
		"interrupts)",
		level_count);
	if (!ok) {
		level_reset();
		return;
	}
	if (lapic_keeps_in_service) {
		report("level: Remote IRR is set while the vector is in "
		       "service",
		       level_rirr_seen);
		sleep_ms(IRQ_QUIET_MS);
		reportf(level_count == 1 && ioapic_remote_irr(level_line),
			"level: no re-delivery while in service (line high, no "
			"EOI: %u interrupts, Remote IRR %d)",
			level_count, ioapic_remote_irr(level_line));
	} else {
		skip_in_service("level: no re-delivery while in service");
	}

	/* EOI with the line still high: Remote IRR clears, then re-sent. */
	c = level_count;
	lapic_eoi();
	ok = wait_until(level_count > c, IRQ_TIMEOUT_MS);
	reportf(ok,
		"level: a line still high is sent again after the EOI "
		"(%u interrupts)",
		level_count);
	if (lapic_keeps_in_service)
		reportf(ioapic_remote_irr(level_line),
			"level: Remote IRR is set again by the re-delivery");

	testdev_set_line(level_line, 0);
	lapic_eoi();
	ok = rirr_clears(level_line);
	reportf(ok,
		"level: a LAPIC EOI after the line drops clears Remote IRR "
		"(entry 0x%x)",
		ioapic_read(IOAPIC_REG_REDTBL(level_line)));
	sleep_ms(10);
	c = level_count;
	sleep_ms(IRQ_QUIET_MS);
	reportf(level_count == c,
		"level: no re-delivery after the line drops (%u more)",
		level_count - c);
	level_reset();
}

static void test_mask(void)
{
	uint32_t c0 = irq_count[VEC_EDGE];
	bool ok;

	ioapic_write_entry(edge_line, edge_entry(VEC_EDGE, IOAPIC_MASKED,
						 (uint8_t)bsp_id));
	pulse(edge_line);
	ioapic_mask_pin(edge_line, false);
	sleep_ms(IRQ_QUIET_MS);
	reportf(irq_count[VEC_EDGE] == c0,
		"mask: an edge while masked is lost (%u interrupts after "
		"unmasking)",
		irq_count[VEC_EDGE] - c0);
	pulse(edge_line);
	ok = wait_until(irq_count[VEC_EDGE] >= c0 + 1, IRQ_TIMEOUT_MS);
	reportf(ok, "mask: after unmasking the next edge is delivered (%u)",
		irq_count[VEC_EDGE] - c0);

	level_count = 0;
	ioapic_write_entry(level_line, level_entry(IOAPIC_MASKED));
	testdev_set_line(level_line, 1);
	sleep_ms(IRQ_QUIET_MS);
	reportf(level_count == 0 && !ioapic_remote_irr(level_line),
		"mask: a high level line is not delivered while masked (%u "
		"interrupts, Remote IRR %d)",
		level_count, ioapic_remote_irr(level_line));
	ioapic_mask_pin(level_line, false);
	ok = wait_until(level_count >= 1, IRQ_TIMEOUT_MS);
	reportf(ok,
		"mask: a level line held while masked is delivered on "
		"unmask (%u interrupts)",
		level_count);
	level_reset();
}

static void test_eoi_register(uint8_t version)
{
	bool ok;

	if (version != 0x20) {
		report_skip("EOI register: the IOAPIC is not version 0x20");
		return;
	}
	level_count = 0;
	ioapic_write_entry(level_line, level_entry(0));
	if (!level_pending() || !ioapic_remote_irr(level_line)) {
		report("EOI register: the level vector is pending with Remote "
		       "IRR set",
		       false);
		level_reset();
		return;
	}
	testdev_set_line(level_line, 0);
	ioapic_eoi(VEC_LEVEL + 1);
	sleep_ms(10);
	reportf(ioapic_remote_irr(level_line),
		"EOI register: an EOI for another vector leaves Remote IRR "
		"set");
	ioapic_eoi(VEC_LEVEL);
	ok = rirr_clears(level_line);
	reportf(ok,
		"EOI register: an EOI for the vector clears Remote IRR "
		"(the vector still pending at the LAPIC: %d)",
		lapic_irr(VEC_LEVEL));
	ok = level_release();
	sleep_ms(10);
	reportf(ok && level_count == 1,
		"EOI register: the held vector is then delivered once (%u "
		"interrupts)",
		level_count);
	lapic_eoi();
	level_reset();

	/* The same with the vector in service, not yet EOIed at the LAPIC. */
	if (!lapic_keeps_in_service) {
		skip_in_service("EOI register: Remote IRR cleared while the "
				"vector is in service");
		return;
	}
	level_count = 0;
	ioapic_write_entry(level_line, level_entry(0));
	if (!level_deliver()) {
		report("EOI register: the level vector was delivered", false);
		level_reset();
		return;
	}
	testdev_set_line(level_line, 0);
	ioapic_eoi(VEC_LEVEL);
	ok = rirr_clears(level_line);
	reportf(ok && lapic_isr(VEC_LEVEL),
		"EOI register: clears Remote IRR while the vector is in "
		"service at the LAPIC (ISR %d)",
		lapic_isr(VEC_LEVEL));
	lapic_eoi();
	sleep_ms(10);
	reportf(level_count == 1 && !lapic_isr(VEC_LEVEL),
		"EOI register: then the LAPIC EOI ends it, nothing re-sent "
		"(%u interrupts)",
		level_count);
	level_reset();
}

/*
 * Directed EOI (LVR bit 24, SVR bit 12): the LAPIC EOI is not broadcast,
 * the EOI register ends the interrupt at the IOAPIC. This works even on
 * a LAPIC that EOIs at delivery: that implicit EOI is not broadcast
 * either, so Remote IRR gates re-delivery as on hardware.
 */
static void test_directed_eoi(uint8_t version)
{
	uint32_t svr = lapic_read(APIC_SVR);
	uint32_t lvr = lapic_read(APIC_LVR);
	bool ok;

	if (!(lvr & APIC_LVR_DIRECTED_EOI) || version != 0x20) {
		printf("ioapic: LAPIC version 0x%x: directed EOI %s\n", lvr,
		       lvr & APIC_LVR_DIRECTED_EOI ? "offered" : "not offered");
		report_skip("directed EOI: needs LVR bit 24 and an IOAPIC "
			    "with an EOI register");
		return;
	}
	lapic_write(APIC_SVR, svr | APIC_SVR_SUPPRESS_EOI);
	reportf(lapic_read(APIC_SVR) & APIC_SVR_SUPPRESS_EOI,
		"directed EOI: SVR bit 12 is writable (SVR 0x%x)",
		lapic_read(APIC_SVR));
	level_count = 0;
	ioapic_write_entry(level_line, level_entry(0));
	if (!level_deliver()) {
		report("directed EOI: the level vector was delivered", false);
		lapic_write(APIC_SVR, svr);
		level_reset();
		return;
	}
	sleep_ms(IRQ_QUIET_MS);
	reportf(level_count == 1 && ioapic_remote_irr(level_line),
		"directed EOI: a line held high is not sent again while "
		"Remote IRR is set (%u interrupts)", level_count);
	testdev_set_line(level_line, 0);
	lapic_eoi();
	sleep_ms(20);
	reportf(ioapic_remote_irr(level_line),
		"directed EOI: with SVR bit 12 set a LAPIC EOI leaves Remote "
		"IRR set");
	if (lapic_keeps_in_service)
		reportf(!lapic_isr(VEC_LEVEL),
			"directed EOI: the LAPIC EOI still ends the vector's "
			"service");
	ioapic_eoi(VEC_LEVEL);
	ok = rirr_clears(level_line);
	report("directed EOI: the EOI register then clears Remote IRR", ok);
	lapic_write(APIC_SVR, svr);
	level_reset();
}

/*
 * Old Linux (and Xen) clear a stuck Remote IRR on IOAPICs without an
 * EOI register by rewriting the entry as masked edge, then as it was.
 */
static void test_edge_flip(void)
{
	uint32_t lo;
	bool ok;

	level_count = 0;
	ioapic_write_entry(level_line, level_entry(0));
	if (!level_pending() || !ioapic_remote_irr(level_line)) {
		report("edge flip: the level vector is pending with Remote IRR "
		       "set",
		       false);
		level_reset();
		return;
	}
	testdev_set_line(level_line, 0);
	ioapic_write(IOAPIC_REG_REDTBL(level_line), VEC_LEVEL | IOAPIC_MASKED);
	lo = ioapic_read(IOAPIC_REG_REDTBL(level_line));
	reportf(!(lo & IOAPIC_REMOTE_IRR),
		"edge flip: rewriting the entry as masked edge clears Remote "
		"IRR (0x%x)",
		lo);
	ioapic_write_entry(level_line, level_entry(0));
	lo = ioapic_read(IOAPIC_REG_REDTBL(level_line));
	reportf(!(lo & IOAPIC_REMOTE_IRR),
		"edge flip: Remote IRR stays clear when set back to level "
		"(0x%x)",
		lo);
	ok = level_release();
	lapic_eoi();
	sleep_ms(IRQ_QUIET_MS);
	reportf(ok && level_count == 1,
		"edge flip: the held vector is "
		"delivered once, nothing more with the line low (%u "
		"interrupts)",
		level_count);
	level_reset();
}

static unsigned int total_deliveries(void)
{
	unsigned int n = 0;

	for (unsigned int c = 0; c < smp_cpus_known; c++)
		n += irq_cpu_total[c];
	return n;
}

/* Edge pulse through an entry; returns deliveries of VEC_EDGE seen. */
static unsigned int edge_through(uint64_t entry, bool expect)
{
	uint32_t c0 = irq_count[VEC_EDGE];

	ioapic_write_entry(edge_line, entry);
	pulse(edge_line);
	if (expect)
		wait_until(irq_count[VEC_EDGE] > c0, IRQ_TIMEOUT_MS);
	sleep_ms(expect ? 10 : IRQ_QUIET_MS);
	ioapic_write_entry(edge_line, entry | IOAPIC_MASKED);
	return irq_count[VEC_EDGE] - c0;
}

/* CPU c has a logical ID an IOAPIC entry can name (8 bits, one bit). */
static bool logical_8bit(unsigned int c)
{
	uint32_t l = smp_cpu[c].logical_id;

	return l && l <= 0xff;
}

static void test_destinations(void)
{
	uint32_t bsp_logical = smp_cpu[0].logical_id;
	uint8_t all_logical = 0, free_bit = 0;
	unsigned int n, t0;

	/* Physical: this CPU, then an APIC ID nobody has. */
	n = edge_through(edge_entry(VEC_EDGE, 0, (uint8_t)bsp_id), true);
	reportf(n == 1 && irq_cpu[VEC_EDGE] == 0,
		"physical destination: APIC ID %u reaches the BSP (%u)", bsp_id,
		n);
	n = edge_through(edge_entry(VEC_EDGE, 0, (uint8_t)(ncpus + 8)), false);
	reportf(n == 0,
		"physical destination: APIC ID %u (no such CPU) "
		"delivers nothing (%u)",
		ncpus + 8, n);

	/* Every AP by physical ID. */
	for (unsigned int c = 1; c < smp_cpus_known; c++) {
		n = edge_through(
			edge_entry(VEC_EDGE, 0, (uint8_t)smp_cpu[c].apic_id),
			true);
		reportf(n == 1 && irq_cpu[VEC_EDGE] == c,
			"physical destination: APIC ID %u reaches CPU %u (%u "
			"interrupts, last on CPU %u)",
			smp_cpu[c].apic_id, c, n, irq_cpu[VEC_EDGE]);
	}

	/*
	 * Logical, flat model (x2APIC: cluster 0, where APIC IDs 0-7 have
	 * the same bits): only IDs that fit the entry's 8-bit destination.
	 */
	for (unsigned int c = 0; c < smp_cpus_known; c++)
		if (logical_8bit(c))
			all_logical |= (uint8_t)smp_cpu[c].logical_id;
	for (int b = 7; b >= 0; b--)
		if (!(all_logical & (1u << b))) {
			free_bit = (uint8_t)(1u << b);
			break;
		}
	if (!logical_8bit(0)) {
		report_skip("logical destination: the BSP is not in x2APIC "
			    "cluster 0");
		return;
	}
	n = edge_through(
		edge_entry(VEC_EDGE, IOAPIC_DEST_LOGICAL, (uint8_t)bsp_logical),
		true);
	reportf(n == 1 && irq_cpu[VEC_EDGE] == 0,
		"logical destination 0x%02x (the BSP's LDR) reaches the BSP "
		"(%u)",
		bsp_logical, n);
	for (unsigned int c = 1; c < smp_cpus_known; c++) {
		if (!logical_8bit(c))
			continue;
		n = edge_through(edge_entry(VEC_EDGE, IOAPIC_DEST_LOGICAL,
					    (uint8_t)smp_cpu[c].logical_id),
				 true);
		reportf(n == 1 && irq_cpu[VEC_EDGE] == c,
			"logical destination 0x%02x reaches CPU %u (%u, last "
			"on "
			"CPU %u)",
			smp_cpu[c].logical_id, c, n, irq_cpu[VEC_EDGE]);
	}
	if (free_bit) {
		n = edge_through(
			edge_entry(VEC_EDGE, IOAPIC_DEST_LOGICAL, free_bit),
			false);
		reportf(n == 0,
			"logical destination 0x%02x (no CPU's LDR) "
			"delivers nothing (%u)",
			free_bit, n);
	}

	/* Lowest priority: exactly one of the CPUs named. */
	t0 = total_deliveries();
	n = edge_through(edge_entry(VEC_EDGE,
				    IOAPIC_DM_LOWEST | IOAPIC_DEST_LOGICAL,
				    all_logical),
			 true);
	sleep_ms(IRQ_QUIET_MS);
	reportf(n == 1 && total_deliveries() - t0 == 1,
		"lowest priority to logical 0x%02x: delivered once, on CPU %u "
		"(%u)",
		all_logical, irq_cpu[VEC_EDGE], n);
}

static void test_nmi_entry(void)
{
	uint32_t n0 = nmi_count, f0 = irq_count[VEC_NMI_ENTRY];
	bool ok;

	testdev_set_line(edge_line, 0);
	ioapic_write_entry(edge_line, edge_entry(VEC_NMI_ENTRY, IOAPIC_DM_NMI,
						 (uint8_t)bsp_id));
	testdev_set_line(edge_line, 1);
	ok = wait_until(nmi_count > n0, IRQ_TIMEOUT_MS);
	reportf(ok, "NMI delivery mode: the entry raises an NMI (%u NMIs)",
		nmi_count - n0);
	sleep_ms(10);
	reportf(nmi_count == n0 + 1 && irq_count[VEC_NMI_ENTRY] == f0,
		"NMI delivery mode: one NMI and no fixed vector 0x%x (%u NMIs, "
		"%u fixed)",
		VEC_NMI_ENTRY, nmi_count - n0, irq_count[VEC_NMI_ENTRY] - f0);
	testdev_set_line(edge_line, 0);
	ioapic_write_entry(edge_line, edge_entry(VEC_EDGE, IOAPIC_MASKED,
						 (uint8_t)bsp_id));
}

int guest_main(const struct guest_boot *boot)
{
	uint8_t version;

	/* Registers first: the all-masked check wants the start state. */
	pick_lines();
	bsp_id = 0;
	test_registers();

	if (!interrupts_init(lapic_mode_from_cmdline()))
		return report_summary();
	bsp_id = lapic_id();
	version = ioapic_version();
	printf("ioapic: lines %u (edge) and %u (level), %s, BSP APIC ID %u\n",
	       edge_line, level_line, lapic_is_x2apic() ? "x2APIC" : "xAPIC",
	       bsp_id);
	ioapic_mask_all();
	testdev_set_line(edge_line, 0);
	testdev_set_line(level_line, 0);
	irq_count_install(VEC_EDGE, true);
	irq_count_install(VEC_NMI_ENTRY, true);
	set_idt_handler(VEC_LEVEL, level_handler);
	set_nmi_handler(nmi_handler);
	irq_enable();

	test_redirection_readback();
	test_edge();
	test_level();
	test_mask();
	test_eoi_register(version);
	test_directed_eoi(version);
	test_edge_flip();
	test_nmi_entry();

	ncpus = smp_cpu_count();
	if (ncpus > 1) {
		unsigned int up = smp_boot_aps(ncpus, NULL, 0);

		reportf(up == ncpus,
			"%u of %u CPUs online for the destination "
			"tests",
			up, ncpus);
	}
	test_destinations();

	irq_disable();
	ioapic_mask_all();
	return report_summary();
}
