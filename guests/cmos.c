// SPDX-License-Identifier: MIT
/* The RTC/CMOS and the ACPI PM device, as a PC guest uses them; then S5. */
#include "guest.h"

/*
 * Reads the RTC and checks the date is valid BCD and plausible (and, with
 * epoch=N on the command line, within two minutes of that Unix time);
 * checks register D, the NVRAM memory bytes against fw_cfg's RAM size,
 * sets the time with SET, sees the update-ended flag, takes periodic
 * interrupts on IRQ 8 through the IOAPIC; measures the PM timer against
 * the TSC (loose bounds), then powers off as Linux does: PM1a_CNT and
 * _S5's SLP_TYP, both read from the ACPI tables. Powering off ends the
 * run with status 0; a failed check ends it through debug-exit instead.
 */

#define RTC_INDEX 0x70
#define RTC_DATA 0x71
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define A_UIP 0x80
#define B_SET 0x80
#define B_PIE 0x40
#define C_IRQF 0x80
#define C_PF 0x40
#define C_UF 0x10
#define RTC_IRQ 8
#define VEC_RTC 0x48
#define PM_TIMER_HZ 3579545ull
#define SLP_EN (1u << 13)

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

static bool is_bcd(uint8_t b)
{
	return (b & 0xf) <= 9 && b >> 4 <= 9;
}

static unsigned int bcd(uint8_t b)
{
	return (b >> 4) * 10 + (b & 0xf);
}

struct rtc_time {
	uint8_t sec, min, hour, mday, mon, year, century;
};

/* Reads the time between updates, as Linux's mc146818_get_time does. */
static void rtc_read_time(struct rtc_time *t)
{
	spin_until(!(rtc_read(REG_A) & A_UIP), 10000);
	t->sec = rtc_read(0x00);
	t->min = rtc_read(0x02);
	t->hour = rtc_read(0x04);
	t->mday = rtc_read(0x07);
	t->mon = rtc_read(0x08);
	t->year = rtc_read(0x09);
	t->century = rtc_read(0x32);
}

/* Days from 1970-01-01 (a proleptic Gregorian civil date). */
static int64_t days_since_epoch(int64_t y, unsigned int m, unsigned int d)
{
	static const unsigned int before[12] = { 0,   31,  59,	90,  120, 151,
						 181, 212, 243, 273, 304, 334 };
	int64_t leaps = (y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400;
	bool leap = (y % 4 == 0 && y % 100) || y % 400 == 0;

	return (y - 1970) * 365 + leaps - 477 + before[m - 1] +
	       (m > 2 && leap) + d - 1;
}

static void test_time(void)
{
	struct rtc_time t;
	bool valid;
	uint64_t epoch;

	report("register B: 24-hour BCD, interrupts off",
	       rtc_read(REG_B) == 0x02);
	report("register D: VRT", rtc_read(REG_D) == 0x80);
	rtc_read_time(&t);
	printf("cmos: RTC reads %02x%02x-%02x-%02x %02x:%02x:%02x\n", t.century,
	       t.year, t.mon, t.mday, t.hour, t.min, t.sec);
	valid = is_bcd(t.sec) && is_bcd(t.min) && is_bcd(t.hour) &&
		is_bcd(t.mday) && is_bcd(t.mon) && is_bcd(t.year) &&
		is_bcd(t.century) && bcd(t.sec) < 60 && bcd(t.min) < 60 &&
		bcd(t.hour) < 24 && bcd(t.mday) >= 1 && bcd(t.mday) <= 31 &&
		bcd(t.mon) >= 1 && bcd(t.mon) <= 12;
	report("time and date are valid BCD", valid);
	report("the year is 2024 or later",
	       valid && bcd(t.century) * 100 + bcd(t.year) >= 2024);
	if (!valid || !cmdline_get_u64(guest_cmdline(), "epoch", &epoch)) {
		report_skip("RTC agrees with epoch= (not given)");
		return;
	}
	int64_t secs = days_since_epoch(bcd(t.century) * 100 + bcd(t.year),
					bcd(t.mon), bcd(t.mday)) *
			       86400 +
		       bcd(t.hour) * 3600 + bcd(t.min) * 60 + bcd(t.sec);
	int64_t diff = secs - (int64_t)epoch;

	reportf(diff > -120 && diff < 120,
		"RTC within 2 minutes of the host's time (%ld s)", diff);
}

/* PC/AT NVRAM: extended memory (0x30) and memory above 16 MiB (0x34). */
static void test_nvram(void)
{
	uint64_t ram = fw_cfg_ram_size(), low = ram;
	unsigned int ext = rtc_read(0x30) | rtc_read(0x31) << 8;
	unsigned int m16 = rtc_read(0x34) | rtc_read(0x35) << 8;
	uint64_t want_ext, want16;

	if (low > 0xc0000000ull) /* at most 3 GiB sit below 4 GiB */
		low = 0xc0000000ull;
	want_ext = (low >> 10) - 1024;
	want16 = low > (16u << 20) ? (low - (16u << 20)) >> 16 : 0;
	if (want_ext > 0xffff)
		want_ext = 0xffff;
	if (want16 > 0xffff)
		want16 = 0xffff;
	reportf(ext == want_ext, "CMOS 0x30: %u KiB above 1 MiB", ext);
	if (!ram || low != ram)
		report_skip("CMOS 0x34 against fw_cfg's RAM size");
	else
		reportf(m16 == want16, "CMOS 0x34: %u x 64 KiB above 16 MiB",
			m16);
	rtc_write(0x50, 0x5a);
	report("an NVRAM byte keeps what is written", rtc_read(0x50) == 0x5a);
}

/* SET holds the clock while the guest writes it; clearing SET starts it. */
static void test_set(void)
{
	struct rtc_time t;

	rtc_write(REG_B, 0x02 | B_SET);
	rtc_write(0x00, 0x58);
	rtc_write(0x02, 0x59);
	rtc_write(0x04, 0x23);
	rtc_write(0x07, 0x31);
	rtc_write(0x08, 0x12);
	rtc_write(0x09, 0x30);
	rtc_write(0x32, 0x20);
	rtc_write(REG_B, 0x02);
	rtc_read(REG_C);
	report("update-ended flag within 1.5 s of SET cleared",
	       wait_until(rtc_read(REG_C) & C_UF, 1500));
	sleep_ms(1100);
	rtc_read_time(&t);
	reportf(t.century == 0x20 && t.year == 0x31 && t.mon == 0x01 &&
			t.mday == 0x01 && t.hour == 0 && t.min == 0 &&
			t.sec <= 0x02,
		"2030-12-31 23:59:58 became %02x%02x-%02x-%02x %02x:%02x:%02x",
		t.century, t.year, t.mon, t.mday, t.hour, t.min, t.sec);
}

static volatile uint32_t rtc_irqs;
static volatile uint8_t rtc_last_c;

/* An RTC interrupt: register C must be read for the next one. */
static void rtc_handler(struct ex_regs *regs)
{
	rtc_last_c = rtc_read(REG_C);
	rtc_irqs++;
	lapic_eoi();
}

/* PIE at 1024 Hz (RS = 6) on IRQ 8, IOAPIC pin 8, edge. */
static void test_periodic(void)
{
	uint32_t n;

	set_idt_handler(VEC_RTC, rtc_handler);
	ioapic_write_entry(RTC_IRQ, ioapic_entry(VEC_RTC, 0, lapic_id()));
	rtc_read(REG_C);
	rtc_write(REG_A, 0x26);
	rtc_write(REG_B, 0x02 | B_PIE);
	report("a periodic interrupt arrives",
	       wait_until(rtc_irqs > 0, IRQ_TIMEOUT_MS));
	report("its register C says IRQF and PF",
	       (rtc_last_c & (C_IRQF | C_PF)) == (C_IRQF | C_PF));
	n = rtc_irqs;
	sleep_ms(100);
	n = rtc_irqs - n;
	/* 1024 Hz would give ~102; the host timer is allowed to be slow. */
	reportf(n >= 5 && n <= 200, "%u periodic interrupts in 100 ms", n);
	rtc_write(REG_B, 0x02);
	rtc_read(REG_C);
	sleep_ms(10); /* one already on its way may still land */
	n = rtc_irqs;
	sleep_ms(IRQ_QUIET_MS);
	reportf(rtc_irqs == n, "none with PIE clear (%u)", rtc_irqs - n);
	ioapic_mask_pin(RTC_IRQ, true);
}

/* What Linux reads from the FADT and DSDT to power off. */
struct acpi_pm_info {
	uint16_t pm1a_evt, pm1a_cnt, pm_tmr;
	uint16_t smi_cmd;    /* 0: the machine is in ACPI mode already */
	uint8_t acpi_enable; /* written to smi_cmd to enter it */
	int s5;		     /* _S5's SLP_TYPa, -1: not found */
};

static const uint8_t *find_rsdp(void)
{
	for (uintptr_t p = 0xe0000; p < 0x100000; p += 16)
		if (!memcmp((const void *)p, "RSD PTR ", 8))
			return (const uint8_t *)p;
	return NULL;
}

static uint32_t ld32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* _S5's first element: ZeroOp, OneOp or BytePrefix n (ACPI 20.2.3). */
static int dsdt_s5(const uint8_t *dsdt)
{
	uint32_t len = ld32(dsdt + 4);

	for (uint32_t i = 36; i + 9 < len; i++) {
		const uint8_t *p = dsdt + i;

		if (memcmp(p, "_S5_", 4) || p[4] != 0x12)
			continue;
		p += 7; /* name, PackageOp, PkgLength, NumElements */
		return p[0] == 0x0a ? p[1] : p[0] <= 1 ? p[0] : -1;
	}
	return -1;
}

static bool acpi_find_pm(struct acpi_pm_info *pm)
{
	const uint8_t *rsdp = find_rsdp(), *rsdt;

	pm->s5 = -1;
	if (!rsdp)
		return false;
	rsdt = (const uint8_t *)(uintptr_t)ld32(rsdp + 16);
	for (uint32_t off = 36; off + 4 <= ld32(rsdt + 4); off += 4) {
		const uint8_t *t = (const uint8_t *)(uintptr_t)ld32(rsdt + off);

		if (memcmp(t, "FACP", 4))
			continue;
		pm->smi_cmd = (uint16_t)ld32(t + 48);
		pm->acpi_enable = t[52];
		pm->pm1a_evt = (uint16_t)ld32(t + 56);
		pm->pm1a_cnt = (uint16_t)ld32(t + 64);
		pm->pm_tmr = (uint16_t)ld32(t + 76);
		pm->s5 = dsdt_s5((const uint8_t *)(uintptr_t)ld32(t + 40));
		return pm->pm1a_cnt && pm->s5 >= 0;
	}
	return false;
}

/* 24-bit PM timer ticks against the TSC over ~100 ms: within 3x. */
static void test_pm_timer(const struct acpi_pm_info *pm)
{
	uint32_t t0, t1;
	uint64_t tsc0, tsc1, ticks, us, want;

	if (!pm->pm_tmr) {
		report("the FADT names a PM timer", false);
		return;
	}
	t0 = inl(pm->pm_tmr);
	tsc0 = rdtsc();
	sleep_ms(100);
	t1 = inl(pm->pm_tmr);
	tsc1 = rdtsc();
	report("PM timer bits 31:24 read 0", !((t0 | t1) & 0xff000000u));
	ticks = (t1 - t0) & 0xffffff;
	us = (tsc1 - tsc0) * 1000 / tsc_khz;
	want = us * PM_TIMER_HZ / 1000000;
	reportf(ticks * 3 >= want && ticks <= want * 3,
		"PM timer: %lu ticks in %lu us (3.58 MHz: %lu)", ticks, us,
		want);
}

static void test_pm1(const struct acpi_pm_info *pm)
{
	/*
	 * ACPI 6.4 4.8.2.5 / 16.3.1: with SMI_CMD 0 the machine is in ACPI
	 * mode from the start (splitvm); otherwise OSPM writes ACPI_ENABLE
	 * there and waits for SCI_EN (QEMU's PIIX4), as Linux does.
	 */
	if (pm->smi_cmd) {
		printf("cmos: ACPI_ENABLE 0x%x to SMI_CMD 0x%x\n",
		       pm->acpi_enable, pm->smi_cmd);
		outb(pm->smi_cmd, pm->acpi_enable);
		for (int i = 0; i < 1000 && !(inw(pm->pm1a_cnt) & 1); i++)
			delay_us(100);
	}
	report("SCI_EN reads 1 (ACPI mode)", inw(pm->pm1a_cnt) & 1);
	outw(pm->pm1a_evt, 0xffff);
	report("PM1_STS clears on write 1", !(inw(pm->pm1a_evt) & 0xfffe));
	outw(pm->pm1a_evt + 2, 0x0100);
	report("PM1_EN keeps PWRBTN_EN", inw(pm->pm1a_evt + 2) == 0x0100);
	outw(pm->pm1a_evt + 2, 0);
}

int guest_main(const struct guest_boot *boot)
{
	struct acpi_pm_info pm = { 0 };
	int verdict;

	if (!interrupts_init(lapic_mode_from_cmdline()))
		return report_summary();
	ioapic_mask_all();
	test_time();
	test_nvram();
	test_set();
	test_periodic();
	if (!report("ACPI tables name PM1a_CNT and _S5", acpi_find_pm(&pm)))
		return report_summary();
	test_pm_timer(&pm);
	test_pm1(&pm);
	verdict = report_summary();
	if (verdict != GUEST_EXIT_PASS)
		return verdict;
	printf("cmos: S5: SLP_TYP %d to port 0x%x\n", pm.s5, pm.pm1a_cnt);
	outw(pm.pm1a_cnt, (uint16_t)(pm.s5 << 10 | SLP_EN));
	/* QEMU powers off a little later; splitvm at once. */
	sleep_ms(1000);
	printf("FAIL: still running 1 s after SLP_EN\n");
	return GUEST_EXIT_FAIL;
}
