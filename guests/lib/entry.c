// SPDX-License-Identifier: MIT
/* The common C entry reached from start32.S and start64.S, and exit(). */
#include "guest.h"

struct guest_boot guest_boot;

void guest_entry(uint32_t protocol, uint64_t magic, uint64_t info);

void guest_entry(uint32_t protocol, uint64_t magic, uint64_t info)
{
	guest_boot.protocol = protocol;
	guest_boot.magic = (uint32_t)magic;
	guest_boot.info = info;

	serial_init();
	idt_init();

	/*
	 * A multiboot image entered some other way (say, as a plain ELF32
	 * at e_entry) has a garbage EBX: refuse to parse it.
	 */
	if (protocol == GUEST_BOOT_MULTIBOOT &&
	    guest_boot.magic != MULTIBOOT_BOOTLOADER_MAGIC) {
		printf("FAIL: multiboot magic is 0x%x, not 0x%x\n",
		       guest_boot.magic, MULTIBOOT_BOOTLOADER_MAGIC);
		exit(GUEST_EXIT_BOOT);
	}
	if (protocol == GUEST_BOOT_PVH && !pvh_info()) {
		printf("FAIL: no hvm_start_info at 0x%lx (magic 0x%x)\n", info,
		       info ? *(const uint32_t *)(uintptr_t)info : 0);
		exit(GUEST_EXIT_BOOT);
	}
	exit(guest_main(&guest_boot));
}

void exit(int code)
{
	/*
	 * isa-debug-exit ends the VM on a write; QEMU's device is declared
	 * with iosize=4 by our convention, so write all 32 bits.
	 */
	outl(0xf4, (uint32_t)code);
	/* No debug-exit device: stop here, quietly, with interrupts off. */
	for (;;)
		__asm__ volatile("cli; hlt");
}

const char *guest_cmdline(void)
{
	const void *fdt = (const void *)(uintptr_t)guest_boot.info;
	const char *args;
	uint32_t len;
	int node;

	if (guest_boot.protocol == GUEST_BOOT_MULTIBOOT)
		return mb_cmdline();
	if (guest_boot.protocol == GUEST_BOOT_PVH)
		return pvh_cmdline();
	if (guest_boot.protocol != GUEST_BOOT_FDT ||
	    fdt_check(fdt, GUEST_FDT_MAX_SIZE))
		return NULL;
	node = fdt_path_offset(fdt, "/chosen");
	if (node < 0)
		return NULL;
	args = fdt_getprop(fdt, node, "bootargs", &len);
	return fdt_prop_is_string(args, len) ? args : NULL;
}
