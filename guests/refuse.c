// SPDX-License-Identifier: MIT
/*
 * An instruction KVM's emulator may refuse (insn=int3|int80|xsave|
 * cmpxchg16b|vmcall|vmmcall). On the PVM hosts, where CPL0 code is
 * interpreted, the first four stop the vCPU with an emulation failure
 * (KVM-NOTES) and splitvm must report it with a register dump; vmcall and
 * vmmcall never complete (KVM's emulator runs them again in place, with
 * no exit) and splitvm's watchdog must end the run the same way, within
 * seconds. On VMX/SVM hardware they run natively: int3 and int $0x80 trap
 * to this guest's IDT, xsave and lock cmpxchg16b complete, a hypercall
 * KVM does not know returns -KVM_ENOSYS, and the guest says so with its
 * own verdict (exit code 0). Any other end (a fault, or falling through
 * a trap) fails (exit code 1).
 */
#include "guest.h"

#define CR4_OSXSAVE (1ul << 18)
#define CPUID1_ECX_CX16 (1u << 13)
#define CPUID1_ECX_XSAVE (1u << 26)
#define XSTATE_X87 1u
#define XSAVE_HEADER 512 /* XSTATE_BV, SDM vol. 1 13.4.2 */

static const char *insn;

static void trapped(struct ex_regs *regs)
{
	printf("refuse: %s trapped to the guest's IDT (vector %lu, RIP "
	       "0x%lx)\n",
	       insn, regs->vector, regs->rip);
	exit(GUEST_EXIT_PASS);
}

static void faulted(struct ex_regs *regs)
{
	printf("refuse: FAIL: %s raised exception %lu at RIP 0x%lx\n", insn,
	       regs->vector, regs->rip);
	exit(GUEST_EXIT_FAIL);
}

static int do_trap(unsigned int vector)
{
	set_idt_handler(vector, trapped);
	if (vector == 3)
		__asm__ volatile("int3");
	else
		__asm__ volatile("int $0x80");
	printf("refuse: FAIL: %s returned without trapping\n", insn);
	return GUEST_EXIT_FAIL;
}

static uint64_t read_cr4(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

/* x87 state only: nothing else is enabled in XCR0. */
static int do_xsave(void)
{
	static uint8_t area[4096] __attribute__((aligned(64)));
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & CPUID1_ECX_XSAVE)) {
		printf("refuse: FAIL: CPUID offers no xsave\n");
		return GUEST_EXIT_FAIL;
	}
	__asm__ volatile("mov %0, %%cr4" : : "r"(read_cr4() | CR4_OSXSAVE));
	__asm__ volatile("xsetbv" : : "c"(0), "a"(XSTATE_X87), "d"(0));
	/*
	 * XSAVE writes the x87 region whatever XINUSE says and leaves the
	 * XSTATE_BV bits outside the requested mask alone (SDM vol. 1
	 * 13.7): after FNINIT, FCW reads 0x037f and XSTATE_BV at most 1.
	 */
	memset(area, 0xff, sizeof(area));
	memset(area + XSAVE_HEADER, 0, 64);
	__asm__ volatile("fninit");
	__asm__ volatile("xsave %0"
			 : "+m"(area)
			 : "a"(XSTATE_X87), "d"(0)
			 : "memory");
	if (area[0] != 0x7f || area[1] != 0x03 ||
	    area[XSAVE_HEADER] > XSTATE_X87) {
		printf("refuse: FAIL: xsave wrote FCW 0x%02x%02x, XSTATE_BV "
		       "0x%x\n",
		       area[1], area[0], area[XSAVE_HEADER]);
		return GUEST_EXIT_FAIL;
	}
	printf("refuse: xsave completed in the guest\n");
	return GUEST_EXIT_PASS;
}

static int do_cmpxchg16b(void)
{
	static volatile uint64_t mem[2] __attribute__((aligned(16))) = {1, 2};
	uint64_t lo = 1, hi = 2;
	uint32_t a, b, c, d;
	bool ok;

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & CPUID1_ECX_CX16)) {
		printf("refuse: FAIL: CPUID offers no cmpxchg16b\n");
		return GUEST_EXIT_FAIL;
	}
	__asm__ volatile("lock cmpxchg16b %1"
			 : "=@ccz"(ok), "+m"(mem), "+a"(lo), "+d"(hi)
			 : "b"(3ul), "c"(4ul)
			 : "memory");
	if (!ok || mem[0] != 3 || mem[1] != 4) {
		printf("refuse: FAIL: lock cmpxchg16b did not swap\n");
		return GUEST_EXIT_FAIL;
	}
	printf("refuse: lock cmpxchg16b completed in the guest\n");
	return GUEST_EXIT_PASS;
}

/* KVM's hypercall ABI (Documentation/virt/kvm/x86/hypercalls.rst): the
 * number in RAX, the result back in RAX. No KVM_HC_* is this large. */
#define HC_UNKNOWN 0x5eb1ul
#define KVM_ENOSYS 1000

static int do_hypercall(bool amd)
{
	long ret;

	if (amd)
		__asm__ volatile("vmmcall"
				 : "=a"(ret)
				 : "a"(HC_UNKNOWN)
				 : "memory");
	else
		__asm__ volatile("vmcall"
				 : "=a"(ret)
				 : "a"(HC_UNKNOWN)
				 : "memory");
	if (ret != -KVM_ENOSYS) {
		printf("refuse: FAIL: %s returned %ld, not -KVM_ENOSYS\n", insn,
		       ret);
		return GUEST_EXIT_FAIL;
	}
	printf("refuse: %s completed (-KVM_ENOSYS)\n", insn);
	return GUEST_EXIT_PASS;
}

int guest_main(const struct guest_boot *boot)
{
	static char buf[16];

	if (!cmdline_get(guest_cmdline(), "insn", buf, sizeof(buf))) {
		printf("refuse: insn=int3|int80|xsave|cmpxchg16b|vmcall|"
		       "vmmcall is missing\n");
		return GUEST_EXIT_USAGE;
	}
	insn = buf;
	for (unsigned int v = 0; v < 32; v++)
		if (v != 2)
			set_idt_handler(v, faulted);
	printf("refuse: executing %s at CPL0\n", insn);
	if (!strcmp(insn, "int3"))
		return do_trap(3);
	if (!strcmp(insn, "int80"))
		return do_trap(0x80);
	if (!strcmp(insn, "xsave"))
		return do_xsave();
	if (!strcmp(insn, "cmpxchg16b"))
		return do_cmpxchg16b();
	if (!strcmp(insn, "vmcall"))
		return do_hypercall(false);
	if (!strcmp(insn, "vmmcall"))
		return do_hypercall(true);
	printf("refuse: unknown insn=%s\n", insn);
	return GUEST_EXIT_USAGE;
}
