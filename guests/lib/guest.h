/* SPDX-License-Identifier: MIT */
/* The freestanding runtime shared by splitvm's test guests. */
#ifndef GUEST_H
#define GUEST_H

/* gcc's freestanding headers; nothing from a host libc. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KiB 1024ul
#define MiB (1024ul * KiB)
#define GiB (1024ul * MiB)

/*
 * Exit codes written to isa-debug-exit (port 0xf4). The VMM (and QEMU)
 * turns code c into the process status (c << 1) | 1, so 0 -> 1 (all
 * passed), 1 -> 3 (some check failed), 0x7d -> 251, 0x7e -> 253,
 * 0x7f -> 255.
 */
#define GUEST_EXIT_PASS 0
#define GUEST_EXIT_FAIL 1
#define GUEST_EXIT_USAGE 0x7d	  /* malformed command-line arguments */
#define GUEST_EXIT_BOOT 0x7e	  /* entered by an unknown boot protocol */
#define GUEST_EXIT_EXCEPTION 0x7f /* unexpected exception or interrupt */

/* ---- Boot ---- */

enum guest_protocol {
	GUEST_BOOT_MULTIBOOT = 1, /* start32.S: info = multiboot info */
	GUEST_BOOT_FDT = 2,	  /* start64.S: info = flattened device tree */
};

struct guest_boot {
	enum guest_protocol protocol;
	uint32_t magic; /* EAX at entry (multiboot), else 0 */
	uint64_t info;	/* physical address of the boot information */
};

/* What the start code passed, valid for the whole life of the guest. */
extern struct guest_boot guest_boot;

/*
 * Each guest defines guest_main(); its return value is the exit code.
 * Serial, the IDT and the boot record are ready when it is called.
 */
int guest_main(const struct guest_boot *boot);

/* Linker script symbols: the loaded image, [_kernel_start, _kernel_end). */
extern char _kernel_start[], _kernel_end[];

/* ---- Port and memory-mapped I/O ---- */

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* MMIO through volatile pointers: one access of exactly the given size. */
static inline uint8_t mmio_read8(uint64_t addr)
{
	return *(volatile uint8_t *)addr;
}

static inline uint16_t mmio_read16(uint64_t addr)
{
	return *(volatile uint16_t *)addr;
}

static inline uint32_t mmio_read32(uint64_t addr)
{
	return *(volatile uint32_t *)addr;
}

static inline uint64_t mmio_read64(uint64_t addr)
{
	return *(volatile uint64_t *)addr;
}

static inline void mmio_write8(uint64_t addr, uint8_t v)
{
	*(volatile uint8_t *)addr = v;
}

static inline void mmio_write16(uint64_t addr, uint16_t v)
{
	*(volatile uint16_t *)addr = v;
}

static inline void mmio_write32(uint64_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

static inline void mmio_write64(uint64_t addr, uint64_t v)
{
	*(volatile uint64_t *)addr = v;
}

/* ---- CPU ---- */

static inline void irq_enable(void)
{
	__asm__ volatile("sti" : : : "memory");
}

static inline void irq_disable(void)
{
	__asm__ volatile("cli" : : : "memory");
}

/*
 * Enables interrupts and halts in one go: STI's one-instruction interrupt
 * shadow covers HLT, so an interrupt pending at STI wakes the HLT instead
 * of being taken just before it and sleeping forever.
 */
static inline void safe_halt(void)
{
	__asm__ volatile("sti; hlt" : : : "memory");
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" : : : "memory");
}

static inline void barrier(void)
{
	__asm__ volatile("" : : : "memory");
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | (uint64_t)hi << 32;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr"
			 :
			 : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
}

static inline uint64_t read_cr2(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_rflags(void)
{
	uint64_t v;

	__asm__ volatile("pushfq; popq %0" : "=r"(v));
	return v;
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b,
			 uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid"
			 : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
			 : "a"(leaf), "c"(sub));
}

/* ---- Exit and console ---- */

/* Writes code to isa-debug-exit; never returns (halts if nobody listens). */
__attribute__((noreturn)) void exit(int code);

/* COM1 (0x3f8), 115200 8N1, FIFOs on; interrupts off. */
void serial_init(void);
void serial_putc(char c);
void serial_puts(const char *s);
bool serial_can_read(void);
/* Blocks (polling the line status register) until a byte arrives. */
uint8_t serial_getc(void);

/*
 * printf subset: %d %i %u %x %X %c %s %p %%, length l/ll/z, flags 0 and -,
 * a decimal field width. Writes to COM1; returns the characters written.
 */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* ---- Test reports, as in kvm-unit-tests ---- */

/* Prints "PASS: name" or "FAIL: name" and counts it; returns ok. */
bool report(const char *name, bool ok);
bool reportf(bool ok, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints "SKIP: name": a check whose inputs were not given. */
void report_skip(const char *name);
/*
 * Prints "SUMMARY: N tests, M failures" (and ", K skipped" when some
 * were) and returns GUEST_EXIT_PASS if nothing failed, else
 * GUEST_EXIT_FAIL: a guest ends with "return report_summary();".
 */
int report_summary(void);

/* ---- Strings (also what gcc may call behind our back) ---- */

void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
void *memchr(const void *s, int c, size_t n);
bool str_starts_with(const char *s, const char *prefix);
/*
 * Parses an unsigned number, decimal or 0x-prefixed hex, from s; stops
 * at the first other character and stores its address in *end (if end).
 * Returns false if no digit was read or the value overflowed.
 */
bool parse_u64(const char *s, const char **end, uint64_t *ret);

/* ---- Command line "key=value" arguments ---- */

/*
 * Finds the space-separated token "key=..." in cmdline and copies its
 * value (up to the next space) into buf, NUL-terminated. Returns false if
 * the key is absent or the value does not fit.
 */
bool cmdline_get(const char *cmdline, const char *key, char *buf, size_t size);
/* Same, parsed as a number with parse_u64; the whole value must parse. */
bool cmdline_get_u64(const char *cmdline, const char *key, uint64_t *ret);

/* ---- Interrupts and exceptions ---- */

/* The stack frame built by the entry stubs (lib/isr.S), lowest first. */
struct ex_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t vector;
	uint64_t error_code;		   /* 0 for vectors without one */
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

typedef void (*idt_handler_fn)(struct ex_regs *regs);

/*
 * Installs fn for vector (0-255) behind a 64-bit interrupt gate (IF is
 * cleared on entry); the handler may change regs, e.g. advance rip, and
 * returns with IRETQ. fn == NULL restores the default, which reports the
 * vector, error code and RIP and exits with GUEST_EXIT_EXCEPTION. Vectors
 * 32-255 are left empty until first installed, so a stray interrupt
 * shows up as #GP with an error code naming the vector.
 */
void set_idt_handler(unsigned int vector, idt_handler_fn fn);
/* Loads the IDT (called by the runtime before guest_main). */
void idt_init(void);

/* ---- fw_cfg (QEMU's firmware configuration interface, x86 ports) ---- */

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MAX_CPUS 0x0f

/* Selects key and reads size bytes of its item into buf. */
void fw_cfg_read(uint16_t key, void *buf, size_t size);
/* True if the signature item reads "QEMU". */
bool fw_cfg_present(void);
uint64_t fw_cfg_ram_size(void);
uint16_t fw_cfg_cpus(void);

/* ---- Multiboot v1 information (lib/multiboot.c) ---- */

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002

#define MB_INFO_MEMORY (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS (1u << 3)
#define MB_INFO_MMAP (1u << 6)

struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower; /* KiB from 0 */
	uint32_t mem_upper; /* KiB from 1 MiB up to the first hole */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;
	uint32_t mmap_addr;
} __attribute__((packed));

struct multiboot_module {
	uint32_t mod_start;
	uint32_t mod_end; /* first byte past the module */
	uint32_t string;
	uint32_t reserved;
} __attribute__((packed));

struct multiboot_mmap_entry {
	uint32_t size; /* of the rest of the entry, from base_addr on */
	uint64_t base_addr;
	uint64_t length;
	uint32_t type; /* 1 = available RAM */
} __attribute__((packed));

#define MB_MMAP_AVAILABLE 1

/* The multiboot info, or NULL if the guest was not booted by multiboot. */
const struct multiboot_info *mb_info(void);
/* Flag 2's command line, or NULL. */
const char *mb_cmdline(void);
/* Flag 3's modules: the count (0 without the flag) and the i-th one. */
uint32_t mb_module_count(void);
const struct multiboot_module *mb_module(uint32_t i);
/*
 * Iterates flag 6's memory map: pass NULL for the first entry, then the
 * previous one. Returns NULL at the end, or at a malformed entry (one
 * whose size field is under 20 or runs past mmap_length).
 */
const struct multiboot_mmap_entry *
mb_mmap_next(const struct multiboot_mmap_entry *prev);

/* The command line whatever the protocol: multiboot's, or /chosen's. */
const char *guest_cmdline(void);

/* ---- Flattened device tree reader (lib/fdt.c) ---- */

#define FDT_MAGIC 0xd00dfeed
/* Larger than any machine description we expect (splitvm's is <= 64 KiB). */
#define GUEST_FDT_MAX_SIZE (1u << 20)

static inline uint32_t fdt32_ld(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

static inline uint64_t fdt64_ld(const void *p)
{
	return (uint64_t)fdt32_ld(p) << 32 | fdt32_ld((const uint8_t *)p + 4);
}

/*
 * Checks the header: magic, version >= 16, a total size of at most
 * max_size, blocks inside it. Returns 0 or a negative reason (FDT_ERR_*).
 */
int fdt_check(const void *fdt, uint32_t max_size);
/* Node offsets are >= 0 (the root is 0); negative values are errors. */
#define FDT_ERR_NOTFOUND (-1)
#define FDT_ERR_BADMAGIC (-2)
#define FDT_ERR_BADVERSION (-3)
#define FDT_ERR_BADSTRUCTURE (-4)
#define FDT_ERR_TRUNCATED (-5)
/*
 * Finds a node by absolute path ("/", "/cpus", "/memory@0"). A path
 * component without '@' also matches "name@unit" as libfdt does.
 */
int fdt_path_offset(const void *fdt, const char *path);
/* The child of node after prev (prev < 0: the first one), or an error. */
int fdt_next_child(const void *fdt, int node, int prev);
/* The node's name ("" for the root), or NULL on a bad offset. */
const char *fdt_node_name(const void *fdt, int node);
/* A property of node and its length, or NULL if absent. */
const void *fdt_getprop(const void *fdt, int node, const char *name,
			uint32_t *ret_len);
/* Reads a one-cell property (#address-cells...), or def if absent. */
uint32_t fdt_getprop_u32(const void *fdt, int node, const char *name,
			 uint32_t def);
/* True if a string-list property (compatible) holds str exactly. */
bool fdt_stringlist_contains(const char *list, uint32_t len, const char *str);
/* True if a string property is NUL-terminated within its length. */
bool fdt_prop_is_string(const char *prop, uint32_t len);

#endif /* GUEST_H */
