/* SPDX-License-Identifier: MIT */
/* Loading a kernel into guest RAM and saying how the BSP must enter it. */
#ifndef SPLITVM_BOOT_H
#define SPLITVM_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest_mem.h"
#include "log.h"

/*
 * Guest-physical layout of what the monitor writes before the guest runs.
 * It sits in conventional memory below 640 KiB, above the low pages that
 * guests use for real-mode AP trampolines (some use page 0), and below
 * the kernel images, which load at 1 MiB or above.
 */
#define BOOT_STACK_TOP 0x80000ull /* RSP at ELF64 entry; grows down */
#define BOOT_GDT_ADDR 0x80000ull  /* flat GDT used by the entry state */
#define BOOT_PML4_ADDR 0x81000ull /* then PDPT and 4 PDs: 0x81000-0x86fff */
#define BOOT_INFO_ADDR 0x88000ull /* multiboot info, strings, mmap, FDT */
#define BOOT_INFO_END 0x9f000ull
#define BOOT_LOW_MEM_END 0x9fc00ull /* 639 KiB of conventional memory */

/*
 * Linux boot_params (the "zero page", 4 KiB) of a bzImage: page 7, as
 * Firecracker puts it, below the boot area and far from the stack top.
 * The kernel copies it before it uses low memory for anything else.
 */
#define BOOT_PARAMS_ADDR 0x7000ull

/* GDT selectors of the entry state (index << 3). */
#define BOOT_SEL_CODE32 0x08
#define BOOT_SEL_DATA 0x10
#define BOOT_SEL_CODE64 0x18

enum boot_mode {
	BOOT_MODE_PROTECTED32, /* flat 32-bit protected mode, paging off */
	BOOT_MODE_LONG64,      /* long mode, identity map of the low 4 GiB */
};

/* The BSP's entry state, filled in by a loader. */
struct boot_plan {
	const char *protocol; /* "bzimage", "multiboot", "pvh", "elf64" */
	enum boot_mode mode;
	uint64_t entry;
	uint64_t rax, rbx, rsi, rdi, rsp;
	uint64_t image_end; /* first byte above everything loaded */
};

/*
 * Memory map entry types: the e820 values (ACPI, "System Address Map
 * Interfaces", address range types), which the PVH memory map
 * (XEN_HVM_MEMMAP_TYPE_*) shares.
 */
enum boot_mem_type {
	BOOT_MEM_RAM = 1,
	BOOT_MEM_RESERVED = 2,
	BOOT_MEM_ACPI = 3, /* ACPI tables, reclaimable once parsed */
	BOOT_MEM_NVS = 4,  /* ACPI NVS */
	BOOT_MEM_UNUSABLE = 5,
};

/* A range of guest-physical addresses and what the guest may do there. */
struct boot_mem_range {
	uint64_t addr;
	uint64_t size;
	enum boot_mem_type type;
};

/* Most ranges a VM may reserve (boot_input.reserved). */
#define BOOT_MAX_RESERVED 32
/* Ranges boot_reserve() keeps in a boot_input's own reserved_buf. */
#define BOOT_RESERVED_BUF 4
/*
 * Most entries boot_memmap() produces: three RAM ranges, the legacy
 * hole, and each reserved range splitting one entry in two. Fits the 128
 * e820 slots of the Linux zero page.
 */
#define BOOT_MEMMAP_MAX (3 + 2 * (1 + BOOT_MAX_RESERVED))

struct boot_module {
	const uint8_t *data;
	size_t size;
	const char *name; /* the module's string (file name) */
};

/* What a loader is given. Nothing in it is trusted. */
struct boot_input {
	const uint8_t *kernel;
	size_t kernel_size;
	const char *kernel_name; /* the guest command line starts with it */
	const char *cmdline;	 /* may be NULL */
	const struct boot_module *modules;
	unsigned int nr_modules;
	const void *fdt; /* machine description, for ELF64 entry */
	size_t fdt_size;
	/*
	 * The guest-physical RSDP (0: no ACPI), for bzImage (boot_params
	 * acpi_rsdp_addr) and PVH (rsdp_paddr). And the ranges the VM keeps
	 * for itself (the bytes of its ACPI tables and MP table, NVS, MMIO
	 * it wants reported): cut out of RAM in every memory map (e820, PVH,
	 * multiboot), and never loaded over by any loader. Each has a
	 * non-RAM type, a non-zero size and stays out of the boot area
	 * (BOOT_GDT_ADDR..BOOT_INFO_END) and the zero page
	 * (BOOT_PARAMS_ADDR); at most BOOT_MAX_RESERVED, else boot_load()
	 * fails with -EINVAL.
	 *
	 * A range the VM wrote tables into should cover those bytes and no
	 * more: [639 KiB, 1 MiB) is reserved in every memory map anyway,
	 * and images may load into what the VM left unused there, as on a
	 * PC, whose BIOS area is RAM. An ELF32 linked with
	 * ld -Ttext=0x100000 has a PT_LOAD of its own headers at 0xff000.
	 */
	uint64_t acpi_rsdp;
	const struct boot_mem_range *reserved;
	unsigned int nr_reserved;
	/*
	 * Room for ranges sized at run time (boot_reserve()); reserved
	 * points here once it is used. Loaders read it through reserved
	 * only.
	 */
	struct boot_mem_range reserved_buf[BOOT_RESERVED_BUF];
};

/* ---- The dispatcher (boot.c) ------------------------------------------ */

/*
 * Detects the image's boot protocol, loads it and fills in plan. On a
 * malformed image it logs one error naming what is wrong.
 * Returns 0, -ENOEXEC (not a bootable image, or malformed), -EFBIG (does
 * not fit in RAM), -EINVAL.
 */
int boot_load(const struct guest_mem *mem, const struct boot_input *in,
	      struct boot_plan *plan, const struct logger *lg);

/* Writes the flat GDT and the identity-mapping page tables (2 MiB pages). */
int boot_write_tables(const struct guest_mem *mem);

/* ---- The protocols: each calls only what is below it ------------------ */

/* Linux bzImage, 64-bit boot protocol (bzimage.c). */
bool bzimage_detect(const uint8_t *img, size_t size);
int bzimage_load(const struct guest_mem *mem, const struct boot_input *in,
		 struct boot_plan *plan, const struct logger *lg);

/* Multiboot v1 (multiboot.c). */
bool multiboot_detect(const uint8_t *img, size_t size);
int multiboot_load(const struct guest_mem *mem, const struct boot_input *in,
		   struct boot_plan *plan, const struct logger *lg);

/*
 * PVH (pvh.c): an ELF with a Xen XEN_ELFNOTE_PHYS32_ENTRY note,
 * entered in 32-bit protected mode with EBX = the hvm_start_info.
 */
bool pvh_detect(const uint8_t *img, size_t size);
int pvh_load(const struct guest_mem *mem, const struct boot_input *in,
	     struct boot_plan *plan, const struct logger *lg);
/* Plain ELF64 (elf64.c): long mode at e_entry, RDI = the FDT in guest RAM. */
int elf64_boot_load(const struct guest_mem *mem, const struct boot_input *in,
		    struct boot_plan *plan, const struct logger *lg);

/* ---- The ELF reader (elf.c), for the protocols that take ELF ---------- */

bool elf_detect(const uint8_t *img, size_t size);
bool elf_is_64(const uint8_t *img, size_t size);
/*
 * Copies an ELF32 or ELF64 image's PT_LOAD segments to their physical
 * addresses (p_paddr), zero-filling to p_memsz. Sets *entry (e_entry) and
 * *end (first byte above the segments).
 */
int elf_load(const struct guest_mem *mem, const uint8_t *img, size_t size,
	     uint64_t *entry, uint64_t *end, const struct logger *lg);
/*
 * Refuses (-EFBIG, with a log line) an ELF kernel whose PT_LOAD segments
 * overlap in->reserved; 0 for anything else, a malformed ELF included
 * (elf_load() reports that).
 */
int elf_check_reserved(const struct boot_input *in, const struct logger *lg);

/* ---- What the protocols share (place.c) -------------------------------- */

/*
 * Checks that an image wants [gpa, gpa + len) somewhere a loader may write:
 * no wrap-around, not the boot area (BOOT_GDT_ADDR..BOOT_INFO_END), not the
 * MMIO hole, inside guest RAM. what names the range in the error line
 * ("kernel: ELF program header 2").
 * Returns 0, -ENOEXEC (can never be loaded) or -EFBIG (needs more RAM).
 */
int boot_check_range(const struct guest_mem *mem, uint64_t gpa, uint64_t len,
		     const char *what, const struct logger *lg);

/*
 * The guest's memory map, sorted, without overlaps: [0, 639 KiB) RAM,
 * [639 KiB, 1 MiB) reserved, [1 MiB, low RAM end) RAM, RAM above 4 GiB,
 * with in->reserved cut out of it. map holds BOOT_MEMMAP_MAX entries.
 * Returns the number of entries written.
 */
unsigned int boot_memmap(const struct guest_mem *mem,
			 const struct boot_input *in,
			 struct boot_mem_range *map);

/*
 * Checks in->reserved as struct boot_input describes. boot_load() does so
 * before any protocol; bzimage_load() and pvh_load() again, for callers
 * that use them directly. Returns 0 or -EINVAL, with a log line.
 */
int boot_check_reserved(const struct boot_input *in, const struct logger *lg);

/*
 * Reserves [addr, addr + len) with type, in in->reserved_buf, pointing
 * in->reserved there: for bytes the VM writes into guest RAM before the
 * load (a firmware table of a size known at run time). A len of 0 reserves
 * nothing: nothing was written. boot_load() checks the range as it checks
 * every reserved one.
 * Returns 0, -EINVAL (in->reserved is another array) or -ENOSPC
 * (BOOT_RESERVED_BUF ranges already).
 */
int boot_reserve(struct boot_input *in, uint64_t addr, uint64_t len,
		 enum boot_mem_type type);

/* The first of in->reserved that overlaps [addr, addr + len), or NULL. */
const struct boot_mem_range *boot_reserved_overlap(const struct boot_input *in,
						   uint64_t addr, uint64_t len);

/*
 * Copies module i of in to the lowest page-aligned address at or above
 * *next, in RAM below the MMIO hole, that overlaps no reserved range; sets
 * *addr to it and moves *next past the module. Shared by multiboot and
 * PVH. Returns 0, -EINVAL (no data) or -EFBIG (does not fit), with a log
 * line.
 */
int boot_place_module(const struct guest_mem *mem, const struct boot_input *in,
		      unsigned int i, uint64_t *addr, uint64_t *next,
		      const struct logger *lg);

/*
 * The boot information area, [BOOT_INFO_ADDR, BOOT_INFO_END) of guest RAM:
 * where the multiboot and PVH loaders put their structures and strings,
 * handed out by a bump allocator.
 */
struct boot_area {
	uint8_t *host; /* BOOT_INFO_ADDR in the host */
	uint64_t used;
};

/*
 * Zeroes the area and starts handing it out. what names the structure in
 * the error line ("multiboot information"). Returns 0 or -EFBIG (RAM ends
 * before the area does).
 */
int boot_area_init(struct boot_area *a, const struct guest_mem *mem,
		   const char *what, const struct logger *lg);
/* The guest-physical address of len bytes aligned to align; 0: full. */
uint64_t boot_area_alloc(struct boot_area *a, uint64_t len, uint64_t align);
/* Host pointer to gpa, an address boot_area_alloc() gave. */
uint8_t *boot_area_host(const struct boot_area *a, uint64_t gpa);
/* Copies str with its NUL into the area; its address, or 0: full. */
uint64_t boot_area_string(struct boot_area *a, const char *str);

#endif /* SPLITVM_BOOT_H */
