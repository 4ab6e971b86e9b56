/*
 * ACPI S3, suspend to RAM, as an OS does it and as kvm-unit-tests' s3
 * expects it to work: the waking vector in the FACS, RTC_EN in PM1_EN, an
 * RTC alarm every second, then SLP_EN with _S3's SLP_TYP in PM1a_CNT. The
 * alarm wakes the machine, which enters the waking vector in real mode;
 * the 16-bit code there checks where and how it was entered (CS:IP from
 * the vector, CR0.PE clear, WAK_STS and RTC_STS in PM1_STS), that IRQ0
 * reaches it through the real-mode IVT (firmware's handler EOIs it), and
 * exits with code 0. Any other exit code names what was wrong.
 *
 * wake=button: no alarm; the host wakes the VM (splitvm_wakeup(), QEMU's
 * system_wakeup), which PM1_STS shows as the power button (PWRBTN_STS).
 * mode=32: the 32-bit X_Firmware_Waking_Vector instead, entered in flat
 * protected mode (splitvm; SeaBIOS knows only the real-mode one).
 * mode=none: no waking vector: the firmware resets the machine (splitvm
 * ends with outcome "reset", QEMU -no-reboot exits with 0).
 */
#include "guest.h"

#define RTC_INDEX 0x70
#define RTC_DATA 0x71
#define REG_A_UIP 0x80
#define REG_B_AIE 0x20
#define ALARM_DONT_CARE 0xc0
#define PM1_WAK_STS 0x8000
#define PM1_PWRBTN 0x0100
#define PM1_RTC 0x0400 /* RTC_STS, RTC_EN */
#define SLP_EN (1u << 13)

/*
 * The waking vector, 8 bytes into its paragraph so that CS and IP both
 * show (0x400:0x0008); the PM1a event port and the status bits expected
 * at the wake are left just before it. The 32-bit vector follows.
 */
#define WAKE_DATA 0x4000
#define WAKE_VECTOR 0x4008
#define WAKE_VECTOR32 0x4100

/* Exit codes of the waking code (statuses 1, 0x23, 0x25 ...), as the
 * assembly below spells them. */
#define WAKE_PASS 0x00
#define WAKE_BAD_CS 0x11
#define WAKE_BAD_IP 0x12
#define WAKE_PROTECTED 0x13
#define WAKE_NO_STATUS 0x14
#define WAKE_NOT_PROTECTED 0x15

extern char s3_wake[], s3_wake_end[], s3_wake32[], s3_wake32_end[];
__asm__(".text\n"
	".code16\n"
	".globl s3_wake, s3_wake_end\n"
	"s3_wake:\n"
	"	cli\n"
	"	xorw %ax, %ax\n"
	"	movw %ax, %ss\n"
	"	movw $0x3ff0, %sp\n"
	"	movw %ax, %ds\n"
	"	movw %ax, %es\n"
	/* CS = vector >> 4 */
	"	movw $0x11, %cx\n"
	"	movw %cs, %bx\n"
	"	cmpw $0x400, %bx\n"
	"	jne 9f\n"
	/* IP = vector & 0xf: where the call returns is 8 + its offset */
	"	movw $0x12, %cx\n"
	"	call 1f\n"
	"1:	popw %bx\n"
	"	cmpw $(8 + 1b - s3_wake), %bx\n"
	"	jne 9f\n"
	/* real mode */
	"	movw $0x13, %cx\n"
	"	smsw %bx\n"
	"	testw $1, %bx\n"
	"	jnz 9f\n"
	/* PM1_STS: WAK_STS and the wake event's own status bit */
	"	movw $0x14, %cx\n"
	"	movw 0x4000, %dx\n"
	"	inw %dx, %ax\n"
	"	andw 0x4002, %ax\n"
	"	cmpw 0x4002, %ax\n"
	"	jne 9f\n"
	/*
	 * IRQ0 through the IVT, three times: each one is EOIed by the
	 * firmware's handler or the next never comes. SeaBIOS's resume
	 * path leaves IRQ0 masked: an OS unmasks it.
	 */
	"	inb $0x21, %al\n"
	"	andb $0xfe, %al\n"
	"	outb %al, $0x21\n"
	"	sti\n"
	"	hlt\n"
	"	hlt\n"
	"	hlt\n"
	"	cli\n"
	"	movw $(0x4008 + 3f - s3_wake), %si\n"
	"	movw $0x3f8, %dx\n"
	"2:	lodsb\n"
	"	testb %al, %al\n"
	"	jz 8f\n"
	"	outb %al, %dx\n"
	"	jmp 2b\n"
	"8:	xorw %cx, %cx\n"
	"9:	movzwl %cx, %eax\n"
	"	outl %eax, $0xf4\n"
	"7:	hlt\n"
	"	jmp 7b\n"
	"3:	.asciz \"s3: resumed in real mode at 0400:0008; IRQ0 "
	"through the IVT\\n\"\n"
	"s3_wake_end:\n"
	/* The 32-bit vector: flat protected mode, paging off. */
	".code32\n"
	".globl s3_wake32, s3_wake32_end\n"
	"s3_wake32:\n"
	"	movl $0x15, %ecx\n"
	"	movl %cr0, %eax\n"
	"	testl $1, %eax\n"
	"	jz 9f\n"
	"	testl $0x80000000, %eax\n"
	"	jnz 9f\n"
	"	movl $0x14, %ecx\n"
	"	movzwl 0x4000, %edx\n"
	"	inw %dx, %ax\n"
	"	andw 0x4002, %ax\n"
	"	cmpw 0x4002, %ax\n"
	"	jne 9f\n"
	"	movl $(0x4100 + 3f - s3_wake32), %esi\n"
	"	movw $0x3f8, %dx\n"
	"2:	lodsb\n"
	"	testb %al, %al\n"
	"	jz 8f\n"
	"	outb %al, %dx\n"
	"	jmp 2b\n"
	"8:	xorl %ecx, %ecx\n"
	"9:	movl %ecx, %eax\n"
	"	outl %eax, $0xf4\n"
	"7:	hlt\n"
	"	jmp 7b\n"
	"3:	.asciz \"s3: resumed in 32-bit protected mode at 0x4100\\n\"\n"
	"s3_wake32_end:\n"
	".code64\n");

/* Through a volatile address: gcc may not see these objects' size. */
static volatile uintptr_t low_page = 0x4000;

static void *low(uint64_t addr)
{
	return (void *)(low_page - 0x4000 + (uintptr_t)addr);
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

int guest_main(const struct guest_boot *boot)
{
	struct acpi_info acpi;
	volatile uint8_t *facs;
	size_t len = (size_t)(s3_wake_end - s3_wake);
	size_t len32 = (size_t)(s3_wake32_end - s3_wake32);
	char wake[16] = "rtc", mode[16] = "16";
	bool button;
	int verdict;

	cmdline_get(guest_cmdline(), "wake", wake, sizeof(wake));
	cmdline_get(guest_cmdline(), "mode", mode, sizeof(mode));
	button = !strcmp(wake, "button");
	if (!interrupts_init(lapic_mode_from_cmdline()))
		return report_summary();
	if (!report("ACPI tables name PM1a blocks and a FACS",
		    acpi_find(&acpi) && acpi.facs) ||
	    !reportf(acpi.s3 >= 0, "the DSDT has _S3 (SLP_TYP %d)", acpi.s3))
		return report_summary();
	facs = (volatile uint8_t *)(uintptr_t)acpi.facs;
	report("the FACS has its signature",
	       !memcmp((const void *)facs, "FACS", 4));
	report("the waking code fits below its page's end",
	       len < WAKE_VECTOR32 - WAKE_VECTOR &&
		       len32 < 0x1000 - (WAKE_VECTOR32 - WAKE_DATA));
	if (!strcmp(mode, "32"))
		report("FACS version 1 or later: X_Firmware_Waking_Vector",
		       facs[32] >= 1);
	verdict = report_summary();
	if (verdict != GUEST_EXIT_PASS)
		return verdict;

	/* The OS's part (ACPI 6.x 16.1.3.1): code and vector, then sleep. */
	memcpy(low(WAKE_VECTOR), s3_wake, len);
	memcpy(low(WAKE_VECTOR32), s3_wake32, len32);
	*(volatile uint16_t *)low(WAKE_DATA) = acpi.pm1a_evt;
	*(volatile uint16_t *)low(WAKE_DATA + 2) =
		PM1_WAK_STS | (button ? PM1_PWRBTN : PM1_RTC);
	*(volatile uint32_t *)(facs + 12) =
		!strcmp(mode, "16") ? WAKE_VECTOR : 0;
	*(volatile uint64_t *)(facs + 24) =
		!strcmp(mode, "32") ? WAKE_VECTOR32 : 0;
	printf("s3: suspending (SLP_TYP %d to port 0x%x) until %s, then to "
	       "%s\n",
	       acpi.s3, acpi.pm1a_cnt,
	       button ? "the power button" : "the RTC alarm",
	       !strcmp(mode, "16")   ? "the real-mode vector"
	       : !strcmp(mode, "32") ? "the 32-bit vector"
				     : "no vector");
	outw(acpi.pm1a_evt, 0xffff); /* clear every status bit */
	if (!button) {
		/*
		 * An alarm every second, set just after an update (as
		 * kvm-unit-tests' s3 does) so that it cannot fire before
		 * SLP_EN: the wake event is the alarm flag's rise.
		 */
		spin_until(rtc_read(0x0a) & REG_A_UIP, 1100000);
		spin_until(!(rtc_read(0x0a) & REG_A_UIP), 10000);
		rtc_read(0x0c);
		rtc_write(0x01, ALARM_DONT_CARE);
		rtc_write(0x03, ALARM_DONT_CARE);
		rtc_write(0x05, ALARM_DONT_CARE);
		outw(acpi.pm1a_evt + 2, PM1_RTC); /* RTC_EN */
		rtc_write(0x0b, rtc_read(0x0b) | REG_B_AIE);
	}
	outw(acpi.pm1a_cnt, (uint16_t)(acpi.s3 << 10 | SLP_EN));
	/* The machine stops here; QEMU a little later than splitvm. */
	sleep_ms(3000);
	printf("FAIL: still running 3 s after SLP_EN\n");
	return GUEST_EXIT_FAIL;
}
