/* SPDX-License-Identifier: MIT */
/*
 * The firmware a VM's low memory holds: the ACPI tables, the MP table,
 * the real-mode IVT and its handlers. All of it is a function of the
 * machine description and where the tables go, so it is built once per
 * process for each such shape and copied into every VM of that shape, at
 * its creation and at each reset (#14).
 */
#ifndef SPLITVM_IMAGE_H
#define SPLITVM_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acpi.h"
#include "bios.h"

/* Shapes kept per process; a VM of yet another shape builds its own. */
#define FIRMWARE_SHAPES 32

struct firmware_image {
	/* The shape: what the bytes below were built from. */
	struct machine_desc machine;
	uint64_t acpi_addr, mp_addr;
	/* The bytes, for guest memory at those addresses and the BIOS's. */
	size_t acpi_len, mp_len;
	uint8_t *acpi, *mp;
	uint8_t ivt[BIOS_IVT_SIZE];
	uint8_t stubs[BIOS_STUBS_SIZE];
	bool shared; /* kept for the process: never freed, never written */
};

/*
 * The image for machine m with its ACPI tables at acpi_addr and its MP
 * table at mp_addr: the process's, built on first use (any thread), or a
 * new one once FIRMWARE_SHAPES shapes are kept. Read-only either way;
 * give it back with firmware_image_put(). Returns 0, -ENOMEM, or the
 * error of acpi_build() or mptable_build().
 */
int firmware_image_get(const struct machine_desc *m, uint64_t acpi_addr,
		       uint64_t mp_addr, const struct firmware_image **ret);

/* Gives back an image from firmware_image_get(). NULL does nothing. */
void firmware_image_put(const struct firmware_image *img);

#endif /* SPLITVM_IMAGE_H */
