// SPDX-License-Identifier: MIT
/*
 * The process's firmware images (image.h). A VM copies its image into its
 * own RAM: whatever the guest writes there stays in that VM, and a reset
 * copies the image again. The kept images are published once, complete,
 * and never written after: lookups take no lock, and a child of fork()
 * finds them as they were.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "mptable.h"

static _Atomic(struct firmware_image *) shapes[FIRMWARE_SHAPES];

static void image_free(struct firmware_image *img)
{
	if (!img)
		return;
	free(img->acpi);
	free(img->mp);
	free(img);
}

static int image_build(const struct machine_desc *m, uint64_t acpi_addr,
		       uint64_t mp_addr, struct firmware_image **ret)
{
	struct firmware_image *img = calloc(1, sizeof(*img));
	uint64_t rsdp, mpf;
	int r;

	if (!img)
		return -ENOMEM;
	img->machine = *m;
	img->acpi_addr = acpi_addr;
	img->mp_addr = mp_addr;
	img->acpi_len = acpi_size(m);
	img->mp_len = mptable_size(m);
	img->acpi = malloc(img->acpi_len ? img->acpi_len : 1);
	img->mp = malloc(img->mp_len ? img->mp_len : 1);
	if (!img->acpi || !img->mp) {
		image_free(img);
		return -ENOMEM;
	}
	r = acpi_build(m, img->acpi, img->acpi_len, acpi_addr, &rsdp);
	if (!r)
		r = mptable_build(m, img->mp, img->mp_len, mp_addr, &mpf);
	if (r) {
		image_free(img);
		return r;
	}
	bios_build_ivt(img->ivt);
	bios_build_stubs(img->stubs);
	*ret = img;
	return 0;
}

static bool image_is(const struct firmware_image *img,
		     const struct machine_desc *m, uint64_t acpi_addr,
		     uint64_t mp_addr)
{
	return img->acpi_addr == acpi_addr && img->mp_addr == mp_addr &&
	       machine_desc_equal(&img->machine, m);
}

int firmware_image_get(const struct machine_desc *m, uint64_t acpi_addr,
		       uint64_t mp_addr, const struct firmware_image **ret)
{
	struct firmware_image *fresh = NULL;
	int r;

	for (unsigned int i = 0; i < FIRMWARE_SHAPES; i++) {
		struct firmware_image *img = atomic_load(&shapes[i]);

		if (!img) {
			/* The first free place: this shape is new. Built
			 * outside any lock; if another thread publishes
			 * here first, its image is looked at instead. */
			if (!fresh &&
			    (r = image_build(m, acpi_addr, mp_addr, &fresh)))
				return r;
			fresh->shared = true;
			if (atomic_compare_exchange_strong(&shapes[i], &img,
							   fresh)) {
				*ret = fresh;
				return 0;
			}
		}
		if (image_is(img, m, acpi_addr, mp_addr)) {
			image_free(fresh);
			*ret = img;
			return 0;
		}
	}
	if (!fresh && (r = image_build(m, acpi_addr, mp_addr, &fresh)))
		return r;
	fresh->shared = false;
	*ret = fresh;
	return 0;
}

void firmware_image_put(const struct firmware_image *img)
{
	if (img && !img->shared)
		image_free((struct firmware_image *)img);
}
