/* SPDX-License-Identifier: MIT */
/* The loader harnesses' common input format, guest RAM and checks. */
#ifndef SPLITVM_FUZZ_BOOT_H
#define SPLITVM_FUZZ_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot.h"
#include "fuzz.h"

/*
 * An input is a 4-byte header, then parts separated by FUZZ_BOOT_SEP:
 *
 *   byte 0: guest RAM layout (fuzz_boot_ram[] index, modulo its size)
 *   byte 1: FUZZ_BOOT_F_* flags
 *   byte 2: reserved ranges the VM keeps, a bitmask over a fixed table
 *           (only where boot_input has them)
 *   byte 3: left to the harness (e.g. which loader entry point)
 *   part 0: the kernel image
 *   part 1: the command line (with FUZZ_BOOT_F_CMDLINE)
 *   part 2: the FDT blob (with FUZZ_BOOT_F_FDT)
 *   part 3 and on: modules, at most FUZZ_BOOT_MAX_MODULES
 *
 * Every part is copied to a heap buffer of its exact size, so that a
 * loader reading past the end of the image or a module hits a redzone.
 * gen-seeds.py writes inputs in this format.
 */
#define FUZZ_BOOT_SEP "--next--"
#define FUZZ_BOOT_HEADER 4
#define FUZZ_BOOT_MAX_MODULES 8

#define FUZZ_BOOT_F_CMDLINE 0x01       /* cmdline non-NULL (part 1, or "") */
#define FUZZ_BOOT_F_FDT 0x02	       /* fdt = part 2 */
#define FUZZ_BOOT_F_NO_NAME 0x04       /* kernel_name NULL */
#define FUZZ_BOOT_F_MOD_NAMES 0x08     /* module names: their data as text */
#define FUZZ_BOOT_F_NULL_MOD_NAME 0x10 /* module names NULL */
#define FUZZ_BOOT_F_RSDP 0x20	       /* acpi_rsdp set */

struct fuzz_boot {
	struct guest_mem mem; /* RAM: reused from run to run */
	struct boot_input in;
	struct boot_module mods[FUZZ_BOOT_MAX_MODULES];
	uint8_t *parts[3 + FUZZ_BOOT_MAX_MODULES]; /* heap copies */
	char *names[FUZZ_BOOT_MAX_MODULES];
	char *cmdline;
	uint8_t harness_byte; /* header byte 3 */
	unsigned int errors;  /* error lines logged */
	struct logger lg;
#ifdef BOOT_MAX_RESERVED
	struct boot_mem_range reserved[8];
#endif
};

/* Builds RAM and the boot input from data. Returns false if too short. */
bool fuzz_boot_setup(struct fuzz_boot *b, const uint8_t *data, size_t size);

/*
 * The checks every loader must pass after returning ret with plan: a
 * documented error, at least one error line when failing and none when
 * not, and on success an entry state that points into what was loaded,
 * with the VM's reserved ranges left untouched.
 */
void fuzz_boot_check(struct fuzz_boot *b, int ret,
		     const struct boot_plan *plan);

void fuzz_boot_free(struct fuzz_boot *b);

#endif /* SPLITVM_FUZZ_BOOT_H */
