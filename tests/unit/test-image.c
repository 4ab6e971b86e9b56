// SPDX-License-Identifier: MIT
/* The process's firmware images: one per shape, the bytes of a fresh build. */
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "image.h"
#include "mptable.h"
#include "unit.h"

#define ACPI_GPA 0xe0000ull
#define MP_GPA 0xf0000ull

/* Each test runs in its own process (Check forks): a shape of its own
 * all the same, so that the first get is the one that builds. */
static struct machine_desc shape(unsigned int cpus, unsigned int pins)
{
	struct machine_desc m;

	machine_desc_init(&m, cpus, pins, 0x20);
	return m;
}

/* img holds what acpi_build(), mptable_build() and bios.c give for m. */
static void check_bytes(const struct firmware_image *img,
			const struct machine_desc *m)
{
	static uint8_t acpi[16384], mp[16384];
	uint8_t ivt[BIOS_IVT_SIZE], stubs[BIOS_STUBS_SIZE];
	uint64_t rsdp, mpf;

	ck_assert_uint_eq(img->acpi_len, acpi_size(m));
	ck_assert_uint_eq(img->mp_len, mptable_size(m));
	ck_assert_int_eq(acpi_build(m, acpi, sizeof(acpi), ACPI_GPA, &rsdp),
			 0);
	ck_assert_int_eq(mptable_build(m, mp, sizeof(mp), MP_GPA, &mpf), 0);
	bios_build_ivt(ivt);
	bios_build_stubs(stubs);
	ck_assert_mem_eq(img->acpi, acpi, img->acpi_len);
	ck_assert_mem_eq(img->mp, mp, img->mp_len);
	ck_assert_mem_eq(img->ivt, ivt, sizeof(ivt));
	ck_assert_mem_eq(img->stubs, stubs, sizeof(stubs));
	ck_assert(machine_desc_equal(&img->machine, m));
}

START_TEST(image_is_built_once_per_shape)
{
	struct machine_desc m = shape(3, 24), same = shape(3, 24);
	struct machine_desc other = shape(4, 24);
	const struct firmware_image *a, *b, *c, *d;

	ck_assert_int_eq(firmware_image_get(&m, ACPI_GPA, MP_GPA, &a), 0);
	ck_assert(a->shared);
	check_bytes(a, &m);
	/* An equal description, made apart: the same image. */
	ck_assert_int_eq(firmware_image_get(&same, ACPI_GPA, MP_GPA, &b), 0);
	ck_assert_ptr_eq(a, b);
	/* Another shape, or the same at other addresses: another image. */
	ck_assert_int_eq(firmware_image_get(&other, ACPI_GPA, MP_GPA, &c), 0);
	ck_assert_ptr_ne(a, c);
	check_bytes(c, &other);
	ck_assert_int_eq(firmware_image_get(&m, ACPI_GPA + 0x1000, MP_GPA, &d),
			 0);
	ck_assert_ptr_ne(a, d);
	ck_assert_uint_eq(d->acpi_addr, ACPI_GPA + 0x1000);
	firmware_image_put(a);
	firmware_image_put(b);
	firmware_image_put(c);
	firmware_image_put(d);
	/* Given back, a kept image is still the process's. */
	ck_assert_int_eq(firmware_image_get(&m, ACPI_GPA, MP_GPA, &b), 0);
	ck_assert_ptr_eq(a, b);
	check_bytes(b, &m);
	firmware_image_put(b);
}
END_TEST

/*
 * Past FIRMWARE_SHAPES shapes, a VM gets an image of its own, freed at
 * its put (LeakSanitizer would see one kept by mistake). Shapes of 64
 * pins, which no other test uses: with CK_FORK=no the tests before this
 * one have kept theirs, so the kept ones run out within FIRMWARE_SHAPES.
 */
START_TEST(image_beyond_the_kept_shapes_is_the_callers)
{
	const struct firmware_image *img[FIRMWARE_SHAPES + 2];
	unsigned int first_own = FIRMWARE_SHAPES + 2;
	struct machine_desc m;

	for (unsigned int i = 0; i < FIRMWARE_SHAPES + 2; i++) {
		m = shape(1 + i, 64);
		ck_assert_int_eq(firmware_image_get(&m, ACPI_GPA, MP_GPA,
						    &img[i]),
				 0);
		check_bytes(img[i], &m);
		if (!img[i]->shared && first_own > i)
			first_own = i;
		/* Once the kept shapes run out, they stay out. */
		ck_assert(img[i]->shared == (i < first_own));
	}
	ck_assert_uint_le(first_own, FIRMWARE_SHAPES);
	for (unsigned int i = 0; i < FIRMWARE_SHAPES + 2; i++)
		firmware_image_put(img[i]);
}
END_TEST

/* Every field is part of the shape: a machine that differs in any one
 * has tables of its own. */
START_TEST(image_shape_is_every_field)
{
	const struct machine_desc base = shape(2, 24);
	struct machine_desc m[26];
	unsigned int n = 0;

	for (unsigned int i = 0; i < 26; i++)
		m[i] = base;
	m[n++].cpus = 3;
	m[n++].lapic_addr ^= 0x1000;
	m[n++].ioapic_addr ^= 0x1000;
	m[n++].ioapic_id ^= 1;
	m[n++].ioapic_version = 0x11;
	m[n++].ioapic_pins = 23;
	m[n++].pit ^= 1;
	m[n++].pic ^= 1;
	m[n++].pci_io_base = 0xc000;
	m[n++].pci_io_size = 0x1000;
	m[n++].pci_mem_base = 0xc0000000u;
	m[n++].pci_mem_size = 0x10000000u;
	m[n++].pci_intx_gsi = 16;
	m[n++].x2apic ^= 1;
	m[n++].rtc ^= 1;
	m[n++].pm1a_evt_port ^= 0x10;
	m[n++].pm1a_cnt_port ^= 0x10;
	m[n++].pm_timer_port ^= 0x10;
	m[n++].sci_irq = 11;
	m[n++].s5_slp_typ ^= 1;
	m[n++].s3 ^= 1;
	m[n++].s3_slp_typ ^= 2;
	m[n++].reset_port ^= 1;
	m[n++].reset_value ^= 1;
	m[n++].com1_port = 0x2f8;
	m[n++].com1_irq = 3;
	ck_assert_uint_eq(n, 26);
	ck_assert(machine_desc_equal(&base, &base));
	for (unsigned int i = 0; i < n; i++)
		ck_assert_msg(!machine_desc_equal(&base, &m[i]),
			      "field %u changed, same shape", i);
}
END_TEST

/* Threads asking at once for a new shape all get the one image that was
 * published; the others' builds are dropped. */
struct getter {
	pthread_barrier_t *go;
	const struct firmware_image *img;
	int r;
};

static void *get_shape(void *arg)
{
	struct getter *g = arg;
	struct machine_desc m = shape(7, 48);

	pthread_barrier_wait(g->go);
	g->r = firmware_image_get(&m, ACPI_GPA, MP_GPA, &g->img);
	return NULL;
}

START_TEST(image_is_one_when_threads_race)
{
	enum { N = 8 };
	pthread_barrier_t go;
	pthread_t t[N];
	struct getter g[N];

	pthread_barrier_init(&go, NULL, N);
	for (unsigned int i = 0; i < N; i++) {
		g[i] = (struct getter){&go, NULL, -1};
		ck_assert_int_eq(pthread_create(&t[i], NULL, get_shape, &g[i]),
				 0);
	}
	for (unsigned int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	for (unsigned int i = 0; i < N; i++) {
		ck_assert_int_eq(g[i].r, 0);
		ck_assert_ptr_eq(g[i].img, g[0].img);
		ck_assert(g[i].img->shared);
	}
	pthread_barrier_destroy(&go);
}
END_TEST

/* The test that fills the kept shapes goes last (CK_FORK=no). */
UNIT_SUITE("image", image_is_built_once_per_shape, image_shape_is_every_field,
	   image_is_one_when_threads_race,
	   image_beyond_the_kept_shapes_is_the_callers)
