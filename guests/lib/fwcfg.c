// SPDX-License-Identifier: MIT
/* QEMU fw_cfg through the x86 I/O ports: selector 0x510, data 0x511. */
#include "guest.h"

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511

void fw_cfg_read(uint16_t key, void *buf, size_t size)
{
	uint8_t *p = buf;

	/* Selecting a key rewinds its data offset to 0. */
	outw(FW_CFG_PORT_SEL, key);
	while (size--)
		*p++ = inb(FW_CFG_PORT_DATA);
}

bool fw_cfg_present(void)
{
	char sig[4];

	fw_cfg_read(FW_CFG_SIGNATURE, sig, sizeof(sig));
	return !memcmp(sig, "QEMU", 4);
}

/* fw_cfg integers are little-endian, as is the guest. */
uint64_t fw_cfg_ram_size(void)
{
	uint64_t v;

	fw_cfg_read(FW_CFG_RAM_SIZE, &v, sizeof(v));
	return v;
}

uint16_t fw_cfg_cpus(void)
{
	uint16_t v;

	fw_cfg_read(FW_CFG_NB_CPUS, &v, sizeof(v));
	return v;
}
