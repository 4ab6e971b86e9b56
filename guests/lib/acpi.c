// SPDX-License-Identifier: MIT
/* The few ACPI tables a guest reads to sleep or power off (ACPI 6.x 5.2). */
#include "guest.h"

static uint32_t ld32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* 5.2.5.1: on a 16-byte boundary of the BIOS area (QEMU's, splitvm's). */
static const uint8_t *find_rsdp(void)
{
	for (uintptr_t p = 0xe0000; p < 0x100000; p += 16)
		if (!memcmp((const void *)p, "RSD PTR ", 8))
			return (const uint8_t *)p;
	return NULL;
}

/*
 * A sleep package's first element (7.4.2): Name (_Sx_, Package { ... })
 * is NameOp, the name, PackageOp, a PkgLength, NumElements, then ZeroOp,
 * OneOp or BytePrefix n (20.2.3). Returns -1 if absent.
 */
static int dsdt_sleep_type(const uint8_t *dsdt, const char name[4])
{
	uint32_t len = ld32(dsdt + 4);

	for (uint32_t i = 36; i + 10 < len; i++) {
		const uint8_t *p = dsdt + i;
		unsigned int pkglen_bytes;

		if (memcmp(p, name, 4) || p[4] != 0x12)
			continue;
		pkglen_bytes = 1 + (p[5] >> 6);
		p += 5 + pkglen_bytes + 1;
		return p[0] == 0x0a ? p[1] : p[0] <= 1 ? p[0] : -1;
	}
	return -1;
}

bool acpi_find(struct acpi_info *ret)
{
	const uint8_t *rsdp = find_rsdp(), *rsdt;

	*ret = (struct acpi_info){ .s3 = -1, .s5 = -1 };
	if (!rsdp)
		return false;
	rsdt = (const uint8_t *)(uintptr_t)ld32(rsdp + 16);
	for (uint32_t off = 36; off + 4 <= ld32(rsdt + 4); off += 4) {
		const uint8_t *t = (const uint8_t *)(uintptr_t)ld32(rsdt + off);
		const uint8_t *dsdt;

		if (memcmp(t, "FACP", 4))
			continue;
		ret->facs = ld32(t + 36);
		dsdt = (const uint8_t *)(uintptr_t)ld32(t + 40);
		ret->smi_cmd = (uint16_t)ld32(t + 48);
		ret->acpi_enable = t[52];
		ret->pm1a_evt = (uint16_t)ld32(t + 56);
		ret->pm1a_cnt = (uint16_t)ld32(t + 64);
		ret->pm_tmr = (uint16_t)ld32(t + 76);
		ret->s3 = dsdt_sleep_type(dsdt, "_S3_");
		ret->s5 = dsdt_sleep_type(dsdt, "_S5_");
		return ret->pm1a_evt && ret->pm1a_cnt;
	}
	return false;
}
