/* SPDX-License-Identifier: MIT */
/* Kernel images built in memory: ELF32/ELF64 and multiboot v1 headers. */
#ifndef SPLITVM_TEST_ELF_IMAGE_H
#define SPLITVM_TEST_ELF_IMAGE_H

#include <elf.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "unit.h"

#define MB_MAGIC 0x1BADB002u
#define MB_AOUT (1u << 16) /* flag 16: the a.out address fields follow */

struct timage {
	_Alignas(8) uint8_t buf[16384];
	size_t size;
	bool is64;
};

/* One program header, and its file bytes (filesz of fill). */
struct tseg {
	uint32_t type;
	uint64_t paddr, vaddr, filesz, memsz;
	uint8_t fill;
};

/* File offset of the first segment's bytes; each next one 256-aligned. */
#define ELF_DATA_START 0x400

static inline void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static inline Elf64_Ehdr *eh64(struct timage *t)
{
	return (Elf64_Ehdr *)t->buf;
}

static inline Elf32_Ehdr *eh32(struct timage *t)
{
	return (Elf32_Ehdr *)t->buf;
}

/* Program header i; the table follows the ELF header. */
static inline Elf64_Phdr *ph64(struct timage *t, unsigned int i)
{
	return (Elf64_Phdr *)(t->buf + sizeof(Elf64_Ehdr)) + i;
}

static inline Elf32_Phdr *ph32(struct timage *t, unsigned int i)
{
	return (Elf32_Phdr *)(t->buf + sizeof(Elf32_Ehdr)) + i;
}

/* The x86 machine of a class: EM_X86_64 for ELF64, EM_386 for ELF32. */
static inline uint16_t elf_x86_machine(bool is64)
{
	return is64 ? EM_X86_64 : EM_386;
}

/*
 * ELF32 and ELF64 headers have the same fields in other widths and order,
 * so one initialiser serves both classes: E is the Elf*_Ehdr type, P the
 * Elf*_Phdr type.
 */
#define ELF_EHDR(E, P, machine, n, entry)                                      \
	(E)                                                                    \
	{                                                                      \
		.e_type = ET_EXEC, .e_machine = (machine),                     \
		.e_version = EV_CURRENT, .e_entry = (entry),                   \
		.e_phoff = sizeof(E), .e_ehsize = sizeof(E),                   \
		.e_phentsize = sizeof(P), .e_phnum = (n)                       \
	}

/* The program header of segment s, its bytes at file offset off. */
#define ELF_PHDR(P, s, off)                                                    \
	(P)                                                                    \
	{                                                                      \
		.p_type = (s)->type, .p_flags = PF_R | PF_W | PF_X,            \
		.p_offset = (off), .p_vaddr = (s)->vaddr,                      \
		.p_paddr = (s)->paddr, .p_filesz = (s)->filesz,                \
		.p_memsz = (s)->memsz, .p_align = 0x1000                       \
	}

static inline void put_phdr(struct timage *t, unsigned int i,
			    const struct tseg *s, uint64_t off)
{
	if (t->is64)
		*ph64(t, i) = ELF_PHDR(Elf64_Phdr, s, off);
	else
		*ph32(t, i) = ELF_PHDR(Elf32_Phdr, s, off);
}

static inline void put_ehdr(struct timage *t, uint16_t machine, unsigned int n,
			    uint64_t entry)
{
	const uint8_t ident[EI_NIDENT] = {ELFMAG0,
					  ELFMAG1,
					  ELFMAG2,
					  ELFMAG3,
					  t->is64 ? ELFCLASS64 : ELFCLASS32,
					  ELFDATA2LSB,
					  EV_CURRENT};

	if (t->is64)
		*eh64(t) = ELF_EHDR(Elf64_Ehdr, Elf64_Phdr, machine, n, entry);
	else
		*eh32(t) = ELF_EHDR(Elf32_Ehdr, Elf32_Phdr, machine, n, entry);
	memcpy(t->buf, ident, EI_NIDENT);
}

/*
 * An executable as ld lays one out: the ELF header, the program headers
 * at e_phoff, then each segment's bytes from ELF_DATA_START, 256-aligned.
 */
static inline void build_elf_image(struct timage *t, bool is64,
				   uint16_t machine, const struct tseg *segs,
				   unsigned int n, uint64_t entry)
{
	uint64_t off = ELF_DATA_START;
	unsigned int i;

	memset(t, 0, sizeof(*t));
	t->is64 = is64;
	put_ehdr(t, machine, n, entry);
	for (i = 0; i < n; i++) {
		ck_assert_uint_le(off + segs[i].filesz, sizeof(t->buf));
		put_phdr(t, i, &segs[i], off);
		memset(t->buf + off, segs[i].fill, segs[i].filesz);
		off += (segs[i].filesz + 0xff) & ~0xffull;
	}
	t->size = off;
}

/* A multiboot v1 header (magic, flags, checksum) at p (Multiboot 3.1.1). */
static inline void mb_header(uint8_t *p, uint32_t flags)
{
	put32(p, MB_MAGIC);
	put32(p + 4, flags);
	put32(p + 8, -(MB_MAGIC + flags));
}

#endif /* SPLITVM_TEST_ELF_IMAGE_H */
