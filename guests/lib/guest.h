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
	GUEST_BOOT_PVH = 3,	  /* start32.S -DGUEST_PVH: hvm_start_info */
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
/* The sum of n bytes modulo 2^32 (python3: sum(data) & 0xffffffff). */
uint32_t byte_sum(const void *data, size_t n);
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

/* ---- Xen PVH start information (lib/pvh.c) ---- */

/*
 * Xen's public/arch-x86/hvm/start_info.h, version 1: the structures a PVH
 * loader hands over, all addresses physical.
 */
#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;	 /* version 1 */
	uint32_t memmap_entries; /* version 1 */
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type; /* e820 types: 1 = RAM */
	uint32_t reserved;
};

/* The start info, or NULL if the guest was not booted by PVH. */
const struct hvm_start_info *pvh_info(void);
/* Its command line, or NULL. */
const char *pvh_cmdline(void);
/* The i-th module or memory map entry, or NULL past the end. */
const struct hvm_modlist_entry *pvh_module(uint32_t i);
const struct hvm_memmap_table_entry *pvh_memmap(uint32_t i);

/* The command line whatever the protocol: multiboot's, PVH's or /chosen's. */
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

/* ---- Time: TSC, calibrated against the PIT (lib/time.c) ---- */

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | (uint64_t)hi << 32;
}

/* TSC ticks per millisecond, set by timer_init(). */
extern uint64_t tsc_khz;

/*
 * Calibrates the TSC against PIT channel 2 (mode 0, gate through port
 * 0x61, as Linux's pit_calibrate_tsc does) and the LAPIC timer against
 * the TSC, and installs the wakeup handler used by the bounded waits
 * below. Needs lapic_init() first. Prints a note if the PIT did not
 * count (the TSC rate then comes from CPUID or a guess).
 */
void timer_init(void);
/* Microseconds since timer_init() (TSC based). */
uint64_t now_us(void);
/* Busy-waits (pause loop on the TSC); does not touch IF. */
void delay_us(uint64_t us);

/*
 * Bounded waits. The CPU halts with interrupts enabled (sti; hlt) and
 * the LAPIC timer, one-shot on TIMER_WAKEUP_VECTOR, wakes it at least
 * every millisecond, so a wait ends even if no interrupt comes; IF is
 * restored on return. wait_until(cond, ms) evaluates cond after every
 * wakeup and returns its last value, false on timeout.
 */
struct wait_state {
	uint64_t deadline; /* TSC */
	bool irqs_were_on;
};

void wait_begin(struct wait_state *w, uint64_t timeout_ms);
bool wait_step(struct wait_state *w); /* false once the deadline passed */
void wait_end(struct wait_state *w);

#define wait_until(cond, timeout_ms)                                           \
	({                                                                     \
		struct wait_state __w;                                         \
		bool __ok;                                                     \
		wait_begin(&__w, (timeout_ms));                                \
		while (!(__ok = (cond)) && wait_step(&__w))                    \
			;                                                      \
		wait_end(&__w);                                                \
		__ok;                                                          \
	})

/* Sleeps (halted, interrupts on) for about ms milliseconds. */
void sleep_ms(uint64_t ms);

/* Spins on the TSC with IF unchanged (for IF=0 or NMI context). */
#define spin_until(cond, timeout_us)                                           \
	({                                                                     \
		uint64_t __end = rdtsc() + (timeout_us) * tsc_khz / 1000;      \
		bool __ok;                                                     \
		while (!(__ok = (cond)) && rdtsc() < __end)                    \
			cpu_relax();                                           \
		__ok;                                                          \
	})

/* How long tests allow an interrupt to take before calling it missing. */
#define IRQ_TIMEOUT_MS 500
/* How long tests watch for an interrupt that must not come. */
#define IRQ_QUIET_MS 100

/* ---- Vectors the runtime uses ---- */

#define SPURIOUS_VECTOR 0xff	 /* LAPIC SVR spurious vector */
#define TIMER_WAKEUP_VECTOR 0xfe /* LAPIC timer of the bounded waits */
#define ISR_PROBE_VECTOR 0xe0	 /* lapic_probe_in_service() */
/*
 * Tests use 0x20-0xdf; 0xe0-0xff are the runtime's. The wakeup timer is
 * in priority class 15 so that no test vector left in service (class
 * 2-13) nor a TPR up to 0xe0 can hold it off.
 */
#define TEST_VECTOR_MAX 0xdf

/* ---- Local APIC (lib/apic.c), xAPIC MMIO or x2APIC MSRs ---- */

#define APIC_MMIO_BASE 0xfee00000ul
#define MSR_IA32_APIC_BASE 0x1b
#define APIC_BASE_BSP (1u << 8)
#define APIC_BASE_X2APIC (1u << 10)
#define APIC_BASE_ENABLE (1u << 11)

/* Register offsets (SDM vol. 3 table 11-1); x2APIC MSR = 0x800 + off/16. */
#define APIC_ID 0x020
#define APIC_LVR 0x030
#define APIC_TPR 0x080
#define APIC_APR 0x090
#define APIC_PPR 0x0a0
#define APIC_EOI 0x0b0
#define APIC_LDR 0x0d0
#define APIC_DFR 0x0e0
#define APIC_SVR 0x0f0
#define APIC_ISR 0x100
#define APIC_TMR 0x180
#define APIC_IRR 0x200
#define APIC_ESR 0x280
#define APIC_ICR 0x300
#define APIC_ICR2 0x310
#define APIC_LVTT 0x320
#define APIC_LVTTHMR 0x330
#define APIC_LVTPC 0x340
#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_LVTERR 0x370
#define APIC_TMICT 0x380
#define APIC_TMCCT 0x390
#define APIC_TDCR 0x3e0
#define APIC_SELF_IPI 0x3f0 /* x2APIC only */

#define APIC_LVR_DIRECTED_EOI (1u << 24)
#define APIC_SVR_ENABLE (1u << 8)
#define APIC_SVR_SUPPRESS_EOI (1u << 12)
#define APIC_DFR_FLAT 0xffffffffu
#define APIC_DFR_CLUSTER 0x0fffffffu

/* ICR and LVT fields. */
#define APIC_DM_FIXED 0x000
#define APIC_DM_LOWEST 0x100
#define APIC_DM_SMI 0x200
#define APIC_DM_NMI 0x400
#define APIC_DM_INIT 0x500
#define APIC_DM_STARTUP 0x600
#define APIC_DM_EXTINT 0x700
#define APIC_DEST_LOGICAL 0x800
#define APIC_ICR_BUSY 0x1000 /* xAPIC delivery status */
#define APIC_INT_ASSERT 0x4000
#define APIC_INT_LEVELTRIG 0x8000
#define APIC_DEST_SELF 0x40000
#define APIC_DEST_ALLINC 0x80000
#define APIC_DEST_ALLBUT 0xc0000
#define APIC_LVT_MASKED 0x10000
#define APIC_LVT_LEVEL 0x8000
#define APIC_LVT_TIMER_PERIODIC 0x20000
#define APIC_TDCR_DIV1 0xb

enum lapic_mode {
	LAPIC_XAPIC,  /* MMIO at 0xfee00000 */
	LAPIC_X2APIC, /* MSRs 0x800+ */
};

/* CPUID.1:ECX[21]. */
bool lapic_x2apic_supported(void);
/*
 * Enables this CPU's LAPIC in the given mode (globally through
 * IA32_APIC_BASE, then SVR = enable | SPURIOUS_VECTOR) and installs a
 * handler counting spurious interrupts. The first call (on the BSP)
 * sets the mode for all CPUs; APs follow it. Returns false if x2APIC
 * was asked for and is not supported.
 */
bool lapic_init(enum lapic_mode mode);
/*
 * Whether a delivered vector stays in service (ISR bit set, PPR raised)
 * until its EOI, as the SDM says. Found by interrupts_init() with a self
 * IPI whose handler reads the ISR. On the PVM hosts splitvm is developed
 * on, KVM's LAPIC EOIs at delivery instead (the ISR is clear inside the
 * handler, lower-priority vectors are not held off, and a level vector
 * whose line stays high is sent again at once); tests skip the checks
 * that need in-service semantics there and use TPR to hold vectors
 * pending instead.
 */
extern bool lapic_keeps_in_service;
bool lapic_probe_in_service(void);
/* EOIs every test vector (below 0xe0) left in service, at most 8. */
void lapic_drain_isr(void);

/* LAPIC_X2APIC if the command line says x2apic=1, else LAPIC_XAPIC. */
enum lapic_mode lapic_mode_from_cmdline(void);
/* Enables this CPU's LAPIC in the mode lapic_init() chose (APs). */
void lapic_enable_this_cpu(void);
bool lapic_is_x2apic(void);
extern volatile unsigned int lapic_spurious_count;

uint32_t lapic_read(unsigned int reg);
void lapic_write(unsigned int reg, uint32_t v);
/* The APIC ID: bits 31:24 of the register in xAPIC mode, all in x2APIC. */
uint32_t lapic_id(void);
static inline void lapic_eoi(void)
{
	lapic_write(APIC_EOI, 0);
}
static inline void lapic_set_tpr(uint8_t tpr)
{
	lapic_write(APIC_TPR, tpr);
}
static inline uint8_t lapic_get_tpr(void)
{
	return (uint8_t)lapic_read(APIC_TPR);
}
/* Bit vector of the 256-bit ISR, TMR or IRR (base APIC_ISR...). */
bool lapic_vector_bit(unsigned int base, uint8_t vector);
static inline bool lapic_isr(uint8_t v)
{
	return lapic_vector_bit(APIC_ISR, v);
}
static inline bool lapic_irr(uint8_t v)
{
	return lapic_vector_bit(APIC_IRR, v);
}
static inline bool lapic_tmr(uint8_t v)
{
	return lapic_vector_bit(APIC_TMR, v);
}
/* The highest vector in service, or -1. */
int lapic_highest_isr(void);

/*
 * Writes the ICR: low holds vector, delivery mode, destination mode,
 * level, trigger and shorthand; dest is the destination (8 bits in
 * xAPIC mode, 32 in x2APIC mode). In xAPIC mode it then waits (bounded)
 * for the delivery status to clear and returns false if it never did.
 */
bool apic_icr_write(uint32_t low, uint32_t dest);
static inline bool apic_send_fixed(uint32_t dest, uint8_t vector)
{
	return apic_icr_write(APIC_DM_FIXED | APIC_INT_ASSERT | vector, dest);
}
static inline bool apic_send_logical(uint32_t dest, uint8_t vector)
{
	return apic_icr_write(APIC_DM_FIXED | APIC_DEST_LOGICAL |
				  APIC_INT_ASSERT | vector,
			      dest);
}
static inline bool apic_send_nmi(uint32_t dest)
{
	return apic_icr_write(APIC_DM_NMI | APIC_INT_ASSERT, dest);
}
/* INIT assert (and, in xAPIC mode, the level de-assert that follows). */
bool apic_send_init(uint32_t dest);
/* STARTUP IPI: the AP starts in real mode at page << 12 (CS = page << 8). */
static inline bool apic_send_sipi(uint32_t dest, uint8_t page)
{
	return apic_icr_write(APIC_DM_STARTUP | APIC_INT_ASSERT | page, dest);
}
/* Shorthand all-excluding-self with the given low ICR bits. */
static inline bool apic_send_allbutself(uint32_t low)
{
	return apic_icr_write(APIC_DEST_ALLBUT | APIC_INT_ASSERT | low, 0);
}
/* A fixed self IPI: the SELF IPI MSR in x2APIC mode, else shorthand. */
void apic_self_ipi(uint8_t vector);
/* NMI to this CPU, physical destination = own APIC ID (SDM: the self
 * shorthand allows fixed delivery only). */
static inline bool apic_self_nmi(void)
{
	return apic_send_nmi(lapic_id());
}

/*
 * Logical addressing. xAPIC: flat model (DFR all ones), LDR[31:24] =
 * bits. x2APIC: the LDR is read-only, (cluster << 16) | 1 << (id & 15),
 * and bits is ignored. Returns this CPU's logical destination as it
 * goes in the ICR (xAPIC: 8 bits, x2APIC: 32) and, for IDs in x2APIC
 * cluster 0 or any flat ID, in an IOAPIC entry (8 bits); 0 if none.
 */
uint32_t lapic_set_logical_id(uint8_t bits);
uint32_t lapic_logical_id(void);

/* LVT0 = ExtINT, LVT1 = NMI, both unmasked: PC virtual-wire mode. */
void lapic_setup_virtual_wire(void);
/* LVT timer: one-shot (periodic if set) at divide 1; count 0 stops. */
void lapic_timer_start(uint8_t vector, uint32_t count, bool periodic);
void lapic_timer_stop(void);
/* LAPIC timer ticks per millisecond at divide 1 (timer_init). */
extern uint64_t lapic_timer_khz;

/* ---- IOAPIC (lib/apic.c) ---- */

#define IOAPIC_MMIO_BASE 0xfec00000ul
#define IOAPIC_IOREGSEL 0x00
#define IOAPIC_IOWIN 0x10
#define IOAPIC_EOI_REG 0x40 /* version 0x20 only */
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VERSION 0x01
#define IOAPIC_REG_ARB 0x02
#define IOAPIC_REG_REDTBL(pin) (0x10 + 2 * (pin))

/* Redirection entry fields (82093AA 3.2.4). */
#define IOAPIC_DM_FIXED (0u << 8)
#define IOAPIC_DM_LOWEST (1u << 8)
#define IOAPIC_DM_SMI (2u << 8)
#define IOAPIC_DM_NMI (4u << 8)
#define IOAPIC_DM_INIT (5u << 8)
#define IOAPIC_DM_EXTINT (7u << 8)
#define IOAPIC_DEST_LOGICAL (1u << 11)
#define IOAPIC_DELIVS (1u << 12) /* read-only */
#define IOAPIC_ACTIVE_LOW (1u << 13)
#define IOAPIC_REMOTE_IRR (1u << 14) /* read-only */
#define IOAPIC_LEVEL (1u << 15)
#define IOAPIC_MASKED (1u << 16)
#define IOAPIC_DEST_SHIFT 56

uint32_t ioapic_read(unsigned int reg);
void ioapic_write(unsigned int reg, uint32_t v);
uint64_t ioapic_read_entry(unsigned int pin);
/* Writes the high half (destination) first, then the low half. */
void ioapic_write_entry(unsigned int pin, uint64_t entry);
static inline uint64_t ioapic_entry(uint8_t vector, uint32_t flags,
				    uint8_t dest)
{
	return vector | flags | (uint64_t)dest << IOAPIC_DEST_SHIFT;
}
void ioapic_mask_pin(unsigned int pin, bool masked);
static inline bool ioapic_remote_irr(unsigned int pin)
{
	return ioapic_read_entry(pin) & IOAPIC_REMOTE_IRR;
}
/* The version register's version (bits 7:0) and pin count (23:16 + 1). */
uint8_t ioapic_version(void);
unsigned int ioapic_pins(void);
/* Masks every pin (edge, vector 0). */
void ioapic_mask_all(void);
/* The EOI register (I/O(x)APIC version 0x20): an EOI for vector. */
static inline void ioapic_eoi(uint8_t vector)
{
	mmio_write32(IOAPIC_MMIO_BASE + IOAPIC_EOI_REG, vector);
}
/* The IOAPIC pin an ISA IRQ / test line reaches: IRQ0 goes to pin 2. */
static inline unsigned int ioapic_pin_of_line(unsigned int line)
{
	return line == 0 ? 2 : line;
}

/* ---- Dual 8259A PIC and ELCR (lib/pic.c) ---- */

#define PIC_MASTER_CMD 0x20
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_CMD 0xa0
#define PIC_SLAVE_DATA 0xa1
#define PIC_ELCR1 0x4d0
#define PIC_ELCR2 0x4d1

#define PIC_OCW2_EOI 0x20	      /* non-specific EOI */
#define PIC_OCW2_SEOI 0x60	      /* specific EOI | level */
#define PIC_OCW2_ROTATE_EOI 0xa0      /* rotate on non-specific EOI */
#define PIC_OCW2_ROTATE_SEOI 0xe0     /* rotate on specific EOI | level */
#define PIC_OCW2_SET_PRIORITY 0xc0    /* lowest priority = level */
#define PIC_OCW2_ROTATE_AEOI_SET 0x80 /* rotate in AEOI mode: on */
#define PIC_OCW2_ROTATE_AEOI_CLR 0x00 /* ... off */
#define PIC_OCW3_READ_IRR 0x0a
#define PIC_OCW3_READ_ISR 0x0b
#define PIC_OCW3_POLL 0x0c
#define PIC_OCW3_SMM_SET 0x68 /* special mask mode on */
#define PIC_OCW3_SMM_CLR 0x48 /* special mask mode off */

/*
 * ICW1-ICW4 on both chips: edge (ELCR decides per line on a PC),
 * cascade on IRQ2, 8086 mode, AEOI if asked; then every line masked.
 */
void pic_init(uint8_t master_base, uint8_t slave_base, bool auto_eoi);
/* IMR of both chips: bits 0-7 master, 8-15 slave. */
void pic_set_imr(uint16_t mask);
uint16_t pic_get_imr(void);
void pic_mask_all(void);
/* Unmasking a slave line also unmasks the cascade (IRQ2). */
void pic_unmask(unsigned int irq);
void pic_mask(unsigned int irq);
/* Non-specific EOI: to the slave too for irq >= 8. */
void pic_eoi(unsigned int irq);
/* Specific EOI for irq (and for IRQ2 on the master if irq >= 8). */
void pic_eoi_specific(unsigned int irq);
/* OCW2 or OCW3 to one chip (slave = irq >= 8 lines). */
void pic_cmd(bool slave, uint8_t ocw);
/* IRR or ISR of both chips via OCW3. */
uint16_t pic_read_irr(void);
uint16_t pic_read_isr(void);
/* Poll command (OCW3 P) then a read: 0x80 | level if a request was
 * pending (and is now acknowledged), else 0x00 (bit 7 clear). */
uint8_t pic_poll(bool slave);
uint16_t elcr_read(void);
void elcr_write(uint16_t v);

/* ---- i8254 PIT and port 0x61 (lib/pit.c) ---- */

#define PIT_HZ 1193182u
#define PIT_CH0 0x40
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PORT_61 0x61
#define PORT_61_GATE2 0x01
#define PORT_61_SPEAKER 0x02
#define PORT_61_OUT2 0x20

/* Control word for channel ch, mode 0-5, LSB-then-MSB access, binary or
 * BCD, then the count (0 means 65536, or 10000 in BCD). */
void pit_program(unsigned int ch, unsigned int mode, uint16_t count,
		 bool bcd);
/* Reads the counter directly (no latch): LSB then MSB, as it runs. */
uint16_t pit_read_counter(unsigned int ch);
/* Counter latch command, then LSB and MSB. */
uint16_t pit_latch_read(unsigned int ch);
/* Read-back command latching ch's status (and count if with_count):
 * returns the status byte; *ret_count gets the count if asked. */
uint8_t pit_readback(unsigned int ch, bool with_count, uint16_t *ret_count);
/* Port 0x61: channel 2's gate (bit 0, speaker data bit 1 cleared). */
void pit_ch2_gate(bool high);
/* Port 0x61 bit 5: channel 2's OUT. */
static inline bool pit_ch2_out(void)
{
	return inb(PORT_61) & PORT_61_OUT2;
}
static inline uint16_t pit_count_for_us(uint64_t us)
{
	return (uint16_t)(us * PIT_HZ / 1000000);
}

/* ---- pc-testdev interrupt lines ---- */

#define TESTDEV_IRQ_PORT 0x2000

/* Drives line n (an ISA IRQ for n < 16, an IOAPIC pin otherwise). */
static inline void testdev_set_line(unsigned int n, uint8_t level)
{
	outb(TESTDEV_IRQ_PORT + n, level);
}

/*
 * True when booted by QEMU's multiboot loader (its option ROM is in
 * fw_cfg): QEMU's pc-testdev only takes lines 0-15 (it aborts on more),
 * so guests pick lines < 16 there.
 */
bool guest_on_qemu(void);
/* A fw_cfg file's selector and size, from the file directory (0x19). */
bool fw_cfg_find_file(const char *name, uint16_t *ret_key,
		      uint32_t *ret_size);

/*
 * Parses the command-line value of key as a comma-separated list of up
 * to max numbers into out; returns how many were read (0 if absent),
 * -1 if malformed.
 */
int cmdline_get_list(const char *cmdline, const char *key, uint64_t *out,
		     int max);

/*
 * The number given as key=N, or def if key is absent; a malformed value
 * prints a FAIL line and exits with GUEST_EXIT_USAGE.
 */
uint64_t cmdline_u64(const char *key, uint64_t def);

/* ---- Counting interrupt handlers (lib/irqcount.c) ---- */

/*
 * irq_count[v] counts deliveries of vector v on any CPU, irq_cpu[v] the
 * CPU index (smp_cpu_id()) of the last one, and irq_cpu_total[c] all
 * counted deliveries on CPU c. With eoi, the handler ends with a LAPIC
 * EOI. irq_hook, if set, runs first (with the vector).
 */
extern volatile uint32_t irq_count[256];
extern volatile uint32_t irq_cpu[256];
extern volatile uint32_t irq_cpu_total[];
extern void (*volatile irq_hook)(unsigned int vector);
void irq_count_install(unsigned int vector, bool eoi);
/* Whether the installed counting handler EOIs (can change at any time). */
void irq_count_set_eoi(unsigned int vector, bool eoi);

/* ---- NMI ---- */

/* Installs fn for NMIs (vector 2); NULL restores the default. */
static inline void set_nmi_handler(idt_handler_fn fn)
{
	set_idt_handler(2, fn);
}

/* ---- SMP (lib/smp.c, lib/trampoline.S) ---- */

#define SMP_MAX_CPUS 64
#define SMP_TRAMPOLINE_PAGE 0x08     /* 0x8000 */
#define SMP_TRAMPOLINE_PAGE_ALT 0x06 /* 0x6000, for restart tests */

struct cpu_info {
	uint32_t apic_id;
	uint32_t cpuid_apic_id;	      /* CPUID.1:EBX[31:24] / 0xb:EDX */
	volatile uint32_t online;     /* set once the AP is in C */
	volatile uint32_t starts;     /* times it came through a SIPI */
	volatile uint32_t sipi_page;  /* the page of its last start */
	volatile uint32_t idle;	      /* halting in the idle loop */
	volatile uint32_t logical_id; /* ICR logical destination */
};

extern struct cpu_info smp_cpu[SMP_MAX_CPUS];
/* smp_cpu[] entries in use: the BSP and every AP that ever started. */
extern volatile uint32_t smp_cpus_known;
/* Total starts of APs through a SIPI (restarts included). */
extern volatile uint32_t smp_ap_starts;

typedef void (*ap_main_fn)(unsigned int cpu);

/*
 * The usual start of an interrupt test on the BSP: masks both PICs
 * (firmware may have left lines unmasked on vectors 8-15), lapic_init(),
 * timer_init(), smp_init(). Returns false (after a FAIL line) if the
 * LAPIC mode is not supported.
 */
bool interrupts_init(enum lapic_mode mode);
/* Registers the BSP as CPU 0 (after lapic_init()). */
void smp_init(void);
/* The calling CPU's index in smp_cpu[] (from its APIC ID). */
unsigned int smp_cpu_id(void);
/* The index of the CPU with this APIC ID, or -1. */
int smp_cpu_of_apic(uint32_t apic_id);
/* The CPU count: cmdline cpus=N, else fw_cfg's, else 1. */
unsigned int smp_cpu_count(void);
/* Copies the real-mode trampoline to page << 12. */
void smp_install_trampoline(uint8_t page);

/*
 * What an AP runs once it is in long mode on its own stack with the
 * LAPIC enabled (may be NULL); when it returns, the AP halts with
 * interrupts on in an idle loop, serving IPIs.
 */
extern volatile ap_main_fn smp_ap_main;

#define SMP_BOOT_BROADCAST 1 /* INIT/SIPI to all-excluding-self */
/*
 * Starts APs with INIT-SIPI-SIPI on SMP_TRAMPOLINE_PAGE: to APIC IDs
 * 0..count-1 except the BSP's one by one, or by broadcast; waits
 * (bounded) until count - 1 APs are online. Returns the CPUs online.
 */
unsigned int smp_boot_aps(unsigned int count, ap_main_fn fn,
			  unsigned int flags);
/* One AP: INIT, 10 ms, SIPI, 200 us, SIPI (page). */
void smp_start_ap(uint32_t apic_id, uint8_t page);

/* Atomics (lock-prefixed ops work at CPL0 on the interpreting host). */
#define atomic_inc(p) __atomic_add_fetch((p), 1, __ATOMIC_SEQ_CST)
#define atomic_read(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define atomic_set(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)

/* Loads the (shared) IDT on this CPU. */
void idt_load(void);

/* ---- ACPI tables, as an OS reads them to sleep (lib/acpi.c) ---- */

struct acpi_info {
	uint16_t pm1a_evt, pm1a_cnt, pm_tmr; /* FADT ports */
	uint16_t smi_cmd;    /* 0: the machine is in ACPI mode already */
	uint8_t acpi_enable; /* written to smi_cmd to enter it */
	uint64_t facs;	     /* the FACS's physical address, 0: none */
	int s3, s5;	     /* SLP_TYPa of _S3 and _S5, -1: absent */
};

/*
 * Finds the RSDP in 0xe0000-0xfffff, the FADT through the RSDT, the FACS
 * and the DSDT's _S3 and _S5 packages. Returns false without an RSDP or
 * a FADT with PM1a blocks.
 */
bool acpi_find(struct acpi_info *ret);

#endif /* GUEST_H */
