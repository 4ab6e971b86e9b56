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

#define FW_CFG_FILE_DIR 0x19

/* Directory: a big-endian count, then {size, select, reserved, name[56]}. */
bool fw_cfg_find_file(const char *name, uint16_t *ret_key, uint32_t *ret_size)
{
	uint8_t be[4];
	uint32_t count;

	fw_cfg_read(FW_CFG_FILE_DIR, be, sizeof(be));
	count = (uint32_t)be[0] << 24 | be[1] << 16 | be[2] << 8 | be[3];
	/* Keep reading the same item: the offset moves on. */
	for (uint32_t i = 0; i < count && i < 4096; i++) {
		struct {
			uint8_t size[4];
			uint8_t select[2];
			uint8_t reserved[2];
			char name[56];
		} e;
		uint8_t *p = (uint8_t *)&e;

		for (size_t j = 0; j < sizeof(e); j++)
			p[j] = inb(FW_CFG_PORT_DATA);
		if (strncmp(e.name, name, sizeof(e.name)))
			continue;
		if (ret_key)
			*ret_key = (uint16_t)(e.select[0] << 8 | e.select[1]);
		if (ret_size)
			*ret_size = (uint32_t)e.size[0] << 24 |
				    e.size[1] << 16 | e.size[2] << 8 |
				    e.size[3];
		return true;
	}
	return false;
}

bool guest_on_qemu(void)
{
	static int cached = -1;

	if (cached < 0)
		cached = fw_cfg_present() &&
			 (fw_cfg_find_file("genroms/multiboot_dma.bin", NULL,
					   NULL) ||
			  fw_cfg_find_file("genroms/multiboot.bin", NULL,
					   NULL));
	return cached;
}
