// SPDX-License-Identifier: MIT
/* The first guest anyone boots: says hello and checks a few boot facts. */
#include "guest.h"

static volatile unsigned int ud_seen;

/* A temporary #UD handler: note the fault and step over the 2-byte UD2. */
static void skip_ud2(struct ex_regs *regs)
{
	ud_seen++;
	regs->rip += 2;
}

/*
 * mem_upper counts KiB from 1 MiB up to the first hole. Below the PCI
 * hole (never lower than 2 GiB on a PC) that is the end of RAM, less at
 * most 1 MiB that firmware may keep for itself.
 */
static bool mem_upper_matches(uint64_t ram, uint32_t mem_upper)
{
	uint64_t top = 1 * MiB + mem_upper * KiB;

	if (top > ram)
		return false;
	return ram > 2 * GiB || ram - top <= 1 * MiB;
}

int guest_main(const struct guest_boot *boot)
{
	const struct multiboot_info *mbi = mb_info();
	const char *cmdline = guest_cmdline();
	bool fw = fw_cfg_present();
	uint64_t ram = fw ? fw_cfg_ram_size() : 0;
	unsigned int cpus = fw ? fw_cfg_cpus() : 0;

	printf("splitvm demo: hello from a tiny guest\n");
	printf("demo: %s boot, %lu MiB of RAM, %u CPU%s, command line \"%s\"\n",
	       boot->protocol == GUEST_BOOT_MULTIBOOT ? "multiboot" : "FDT",
	       ram / MiB, cpus, cpus == 1 ? "" : "s", cmdline ? cmdline : "");

	report("fw_cfg signature is \"QEMU\"", fw);
	if (mbi && (mbi->flags & MB_INFO_MEMORY))
		reportf(mem_upper_matches(ram, mbi->mem_upper),
			"fw_cfg RAM size matches multiboot mem_upper (%u KiB)",
			mbi->mem_upper);
	else
		report("multiboot info has mem_lower/mem_upper", false);
	report("command line present", cmdline && *cmdline);

	set_idt_handler(6, skip_ud2);
	__asm__ volatile("ud2" : : : "memory");
	set_idt_handler(6, NULL);
	report("ud2 raises #UD and the handler returns", ud_seen == 1);

	return report_summary();
}
