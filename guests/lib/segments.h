/* SPDX-License-Identifier: MIT */
/* GDT selectors and page table bits shared by the assembly start code. */
#ifndef GUEST_SEGMENTS_H
#define GUEST_SEGMENTS_H

#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_CODE32 0x18

#define PTE_P 0x001
#define PTE_RW 0x002
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_PS 0x080 /* 2 MiB page in a page directory entry */

#define CR0_PG 0x80000000
#define CR0_CD 0x40000000
#define CR0_NW 0x20000000
#define CR4_PAE 0x020
#define MSR_EFER 0xc0000080
#define EFER_LME 0x100

/* Must match enum guest_protocol in guest.h. */
#define PROTO_MULTIBOOT 1
#define PROTO_FDT 2
#define PROTO_PVH 3

#define STACK_SIZE 0x4000

/* The GDT in tables.S: null, code64, data, code32. */
#define GDT_SIZE (4 * 8)

/* AP stacks (trampoline.S): one slot per AP start, restarts included. */
#define AP_STACK_SIZE 0x2000
#define AP_STACK_SLOTS 80

#endif /* GUEST_SEGMENTS_H */
