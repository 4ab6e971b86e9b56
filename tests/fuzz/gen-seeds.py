#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora in tests/fuzz/corpus/: minimal valid images.

The seeds are committed, so CI needs neither this script nor a toolchain
for guests; run it again after changing an input format (see README.md).

  gen-seeds.py [--guests BUILDDIR/guests]

With --guests, stripped copies of two of the project's guests (a
multiboot ELF32 and an ELF64) are added to the loader corpora too.
"""

import argparse
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

# fuzz-boot.h: a 4-byte header, then parts separated by SEP.
SEP = b"--next--"
F_CMDLINE, F_FDT, F_NO_NAME, F_MOD_NAMES, F_NULL_MOD_NAME, F_RSDP = (
    0x01, 0x02, 0x04, 0x08, 0x10, 0x20)
RAM_32M, RAM_MIN, RAM_1M4K, RAM_2M_ODD, RAM_SPLIT, RAM_SMALL, RAM_16M, \
    RAM_4M = range(8)

MIB = 0x100000
CODE = b"\xfa\xf4\xeb\xfd"  # cli; hlt; jmp .-1


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- Loader images -------------------------------------------------------

def elf(is64, segs, entry, machine=None, etype=2):
    """An ELF with segs = [(p_type, paddr, vaddr, data, memsz, align)]."""
    if machine is None:
        machine = 62 if is64 else 3
    ehsize, phsize = (64, 56) if is64 else (52, 32)
    off = ehsize + phsize * len(segs)
    phdrs, body = b"", b""
    for p_type, paddr, vaddr, data, memsz, align in segs:
        pad = (-(off + len(body))) % 16
        body += b"\0" * pad
        p_off = off + len(body)
        if is64:
            phdrs += struct.pack("<IIQQQQQQ", p_type, 5, p_off, vaddr, paddr,
                                 len(data), memsz, align)
        else:
            phdrs += struct.pack("<IIIIIIII", p_type, p_off, vaddr, paddr,
                                 len(data), memsz, 5, align)
        body += data
    ident = b"\x7fELF" + bytes([2 if is64 else 1, 1, 1]) + b"\0" * 9
    if is64:
        eh = ident + struct.pack("<HHIQQQIHHHHHH", etype, machine, 1, entry,
                                 ehsize, 0, 0, ehsize, phsize, len(segs), 0,
                                 0, 0)
    else:
        eh = ident + struct.pack("<HHIIIIIHHHHHH", etype, machine, 1, entry,
                                 ehsize, 0, 0, ehsize, phsize, len(segs), 0,
                                 0, 0)
    return eh + phdrs + body


def mb_header(flags, aout=None):
    """Multiboot 0.6.96 3.1: magic, flags, checksum (+ a.out fields)."""
    magic = 0x1BADB002
    h = struct.pack("<III", magic, flags, (-(magic + flags)) & 0xffffffff)
    if aout:
        h += struct.pack("<IIIII", *aout)
    return h


def mb_elf32():
    text = mb_header(0x3) + CODE
    return elf(False, [(1, MIB, MIB, text, 0x2000, 0x1000)],
               MIB + 12)


def mb_elf64():
    text = mb_header(0x3) + CODE
    return elf(True, [(1, MIB, MIB, text, 0x1000, 0x1000)], MIB + 12)


def mb_aout():
    # header_addr, load_addr, load_end_addr (0: the file), bss_end, entry
    hdr = mb_header(0x10003, (MIB, MIB, 0, MIB + 0x3000, MIB + 32))
    return hdr + CODE + b"\0" * 28


def elf64_plain():
    return elf(True, [(1, MIB, MIB, CODE, 0x1000, 0x1000)], MIB)


def elf64_higher_half():
    va = 0xffffffff80000000 + MIB
    return elf(True, [(1, MIB, va, CODE, 0x3000, 0x1000),
                      (1, 2 * MIB, va + MIB, b"data", 0x100, 0x1000)], va)


def elf32_plain():
    return elf(False, [(1, MIB, MIB, CODE, 0x100, 0x1000)], MIB)


def xen_note(desc):
    name = b"Xen\0"
    return struct.pack("<III", len(name), len(desc), 18) + name + desc


def pvh64():
    """A vmlinux-like ELF64 with the PVH entry note (8-byte desc)."""
    note = xen_note(struct.pack("<Q", MIB + 0x10))
    return elf(True, [(1, MIB, 0xffffffff81000000, b"\0" * 16 + CODE,
                       0x2000, 0x1000),
                      (4, 0, 0, note, len(note), 4)], 0xffffffff81000000)


def pvh32():
    note = xen_note(struct.pack("<I", MIB))
    return elf(False, [(1, MIB, MIB, CODE, 0x1000, 0x1000),
                       (4, 0, 0, note, len(note), 4)], MIB)


def bzimage(relocatable=True, pref=0x1000000, init_size=0x20000,
            version=0x020f, xloadflags=0x3, payload=0x600):
    """Documentation/arch/x86/boot.rst: setup sectors, then the kernel."""
    setup_sects = 1
    img = bytearray((setup_sects + 1) * 512)
    img[0x1f1] = setup_sects
    struct.pack_into("<I", img, 0x1f4, (payload + 15) // 16)  # syssize
    struct.pack_into("<H", img, 0x1fe, 0xaa55)
    img[0x200:0x202] = b"\xeb\x6a"  # jmp over the header (ends at 0x26c)
    img[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", img, 0x206, version)
    img[0x211] = 0x01                                  # LOADED_HIGH
    struct.pack_into("<I", img, 0x214, MIB)            # code32_start
    struct.pack_into("<I", img, 0x22c, 0x7fffffff)     # initrd_addr_max
    struct.pack_into("<I", img, 0x230, 0x200000)       # kernel_alignment
    img[0x234] = 1 if relocatable else 0
    img[0x235] = 21                                    # min_alignment
    struct.pack_into("<H", img, 0x236, xloadflags)
    struct.pack_into("<I", img, 0x238, 2047)           # cmdline_size
    struct.pack_into("<Q", img, 0x258, pref)           # pref_address
    struct.pack_into("<I", img, 0x260, init_size)
    kernel = bytearray(payload)
    kernel[0x200:0x200 + len(CODE)] = CODE             # 64-bit entry
    return bytes(img + kernel)


def fdt_blob():
    """An empty but well-formed FDT (header, empty structure block)."""
    # FDT_BEGIN_NODE, the root's empty name, FDT_END_NODE, FDT_END
    struct_block = struct.pack(">IIII", 1, 0, 2, 9)
    off_rsv = 40
    off_struct = off_rsv + 16
    off_strings = off_struct + len(struct_block)
    total = off_strings
    hdr = struct.pack(">IIIIIIIIII", 0xd00dfeed, total, off_struct,
                      off_strings, off_rsv, 17, 16, 0, 0, len(struct_block))
    return hdr + b"\0" * 16 + struct_block


def boot_input(kernel, ram=RAM_32M, flags=0, reserved=0, harness=0,
               cmdline=None, fdt=None, modules=()):
    parts = [kernel]
    if cmdline is not None or fdt is not None or modules:
        parts.append(cmdline or b"")
    if fdt is not None or modules:
        parts.append(fdt or b"")
    parts += list(modules)
    for p in parts:
        assert SEP not in p, "a part holds the separator"
    return bytes([ram, flags, reserved, harness]) + SEP.join(parts)


def loader_seeds(guests):
    images = {
        "mb-elf32": mb_elf32(),
        "mb-elf64": mb_elf64(),
        "mb-aout": mb_aout(),
        "elf64": elf64_plain(),
        "elf64-higher-half": elf64_higher_half(),
        "elf32-plain": elf32_plain(),
        "pvh64": pvh64(),
        "pvh32": pvh32(),
        "bzimage": bzimage(),
        "bzimage-fixed": bzimage(relocatable=False, pref=MIB),
        "bzimage-low": bzimage(pref=0, init_size=0x1000),
    }
    images.update(guests)
    cmd = b"console=ttyS0 earlyprintk=serial splitvm.test=1"
    mods = (b"module one\n" * 4, b"\x00\x01\x02" * 100)
    # Which images suit which harness: boot takes them all.
    suits = {
        "boot": list(images),
        "multiboot": [n for n in images if n.startswith("mb-")] +
                     [n for n in guests if "mb" in n],
        "elf": [n for n in images if "elf" in n or n.startswith("pvh")],
        "bzimage": [n for n in images if n.startswith("bzimage")],
        "pvh": [n for n in images if n.startswith("pvh")],
    }
    for target, names in suits.items():
        for n in names:
            img = images[n]
            write(target, n, boot_input(img))
            if n in guests:
                continue    # 45 KiB each: one seed per harness is plenty
            write(target, n + "-cmdline-mods",
                  boot_input(img, flags=F_CMDLINE | F_MOD_NAMES,
                             cmdline=cmd, modules=mods))
            write(target, n + "-small-reserved",
                  boot_input(img, ram=RAM_4M, flags=F_CMDLINE | F_RSDP,
                             reserved=0x13, cmdline=b"quiet"))
            write(target, n + "-split-ram",
                  boot_input(img, ram=RAM_SPLIT, flags=F_FDT, harness=1,
                             fdt=fdt_blob(), modules=(b"initrd",)))


def guest_images(guests_dir):
    out = {}
    if not guests_dir:
        return out
    for name, key in (("hang.elf", "guest-mb-hang"),
                      ("fdt64.elf64", "guest-elf64-fdt64")):
        with tempfile.TemporaryDirectory() as tmp:
            dst = os.path.join(tmp, name)
            subprocess.run(["strip", "-o", dst,
                            os.path.join(guests_dir, name)], check=True)
            with open(dst, "rb") as f:
                data = f.read()
        if len(data) > 64 * 1024:
            sys.exit(f"{name}: {len(data)} bytes stripped, too big a seed")
        out[key] = data
    return out


# ---- Device models: operation sequences ----------------------------------
# Opcodes: the enum op of each harness, in order.

def ioapic_seeds():
    WRITE, READ, SET_IRQ, EOI, RETRY, RESET, WRITE_RTE, READ_RTE, \
        EOI_REG, PULSE, MSI, STORM = range(12)

    def rte(pin, high, val):
        return bytes([WRITE_RTE, 0x10 + 2 * pin + high]) + \
            struct.pack("<I", val)

    level_30 = 0x8030            # level, fixed, vector 0x30, unmasked
    seq = rte(2, 1, 0x01000000) + rte(2, 0, level_30) + \
        bytes([SET_IRQ, 2, 1, EOI, 0x30, EOI, 0x30, SET_IRQ, 2, 0]) + \
        bytes([READ_RTE, 0x14, READ_RTE, 0x01, READ_RTE, 0x00])
    write("ioapic", "level-eoi", bytes([0x17, 0]) + seq)
    write("ioapic", "level-eoi-reg", bytes([0x97, 1]) + rte(2, 0, level_30) +
          bytes([SET_IRQ, 2, 1, EOI_REG, 0x30, RETRY, 2, EOI_REG, 0x30]))
    write("ioapic", "edge-pulse", bytes([0x17, 0]) + rte(0, 0, 0x0031) +
          bytes([PULSE, 0, PULSE, 0, SET_IRQ, 0, 1, SET_IRQ, 0, 1]))
    write("ioapic", "mask-unmask", bytes([0x17, 1]) +
          rte(4, 0, 0x18041) + bytes([SET_IRQ, 4, 1]) + rte(4, 0, 0x8041) +
          bytes([EOI, 0x41, RESET]))
    write("ioapic", "modes", bytes([0x0f, 0]) + rte(1, 0, 0x8332) +
          rte(3, 0, 0x8633) + rte(5, 0, 0x0734) +
          bytes([SET_IRQ, 1, 1, SET_IRQ, 3, 1, SET_IRQ, 5, 1,
                 WRITE, 0, 0, 0x23, 0, 0, 0, READ, 1, 2, READ, 0xc1, 0x40,
                 0x00, 3]))
    # A device that never quiets: the storm limiter defers, then a retry.
    write("ioapic", "eoi-storm", bytes([0x17, 3]) + rte(9, 0, 0x8039) +
          bytes([SET_IRQ, 9, 1, STORM, 0x39, 1, RETRY, 9, MSI, 9, MSI, 0xff]))
    write("ioapic", "msi", bytes([0x17, 0]) + rte(3, 1, 0x5a000000) +
          rte(3, 0, 0x8942) + bytes([MSI, 3]) + rte(5, 0, 0x0143) +
          bytes([MSI, 5, MSI, 0xf7]))


def pic_seeds():
    WRITE, READ, SET_IRQ, INTACK, RESET, INIT, PULSE = range(7)
    # pick_port(): 0 0x20, 1 0x21, 2 0xa0, 3 0xa1, 4 0x4d0, 5 0x4d1
    linux_init = bytes([INIT, 0, 0x11, 0x20, 0x04, 0x01,
                        INIT, 1, 0x11, 0x28, 0x02, 0x01,
                        WRITE, 1, 0x00, WRITE, 3, 0x00])
    write("pic", "linux-init-timer", bytes([0]) + linux_init +
          bytes([PULSE, 0, INTACK, WRITE, 0, 0x20, PULSE, 0, INTACK,
                 WRITE, 0, 0x20]))
    write("pic", "slave-level", bytes([1]) +
          bytes([WRITE, 5, 0x08, SET_IRQ, 11, 1, INTACK, WRITE, 2, 0x20,
                 WRITE, 0, 0x20, SET_IRQ, 11, 0, READ, 2, READ, 5]))
    write("pic", "aeoi-rotate", bytes([0]) +
          bytes([INIT, 0, 0x13, 0x08, 0x03, WRITE, 0, 0x80]) +
          bytes([PULSE, 3, PULSE, 5, INTACK, INTACK, INTACK]))
    write("pic", "poll-smm", bytes([1]) +
          bytes([WRITE, 0, 0x68, PULSE, 1, WRITE, 0, 0x0c, READ, 0,
                 WRITE, 0, 0x0b, READ, 0, WRITE, 0, 0x0a, READ, 0,
                 RESET, 0, INTACK]))
    write("pic", "sfnm", bytes([1]) +
          bytes([INIT, 0, 0x11, 0x20, 0x04, 0x11, PULSE, 9, INTACK,
                 PULSE, 10, INTACK, WRITE, 2, 0x20, WRITE, 0, 0x20]))


def pit_seeds():
    WRITE, READ, WRITE_61, READ_61, ADVANCE, FIRE, FIRE_EARLY, CHANNEL, \
        RESET, PROGRAM, RUN = range(11)

    def adv(scale, n):
        return bytes([ADVANCE, scale]) + struct.pack("<H", n)

    # Linux's periodic tick: mode 2, count 1193 (1 kHz).
    write("pit", "linux-hz", bytes([0]) +
          bytes([PROGRAM, 0x34, 0xa9, 0x04]) + adv(1, 500) +
          bytes([FIRE, FIRE, RUN, CHANNEL, 0]) + adv(2, 20) +
          bytes([FIRE_EARLY, READ, 0, 0, READ, 0, 0]))
    # Calibration through counter 2 and port 0x61 (pit_calibrate_tsc).
    write("pit", "calibrate", bytes([0]) +
          bytes([WRITE_61, 0x01, PROGRAM, 0xb0, 0xff, 0xff]) + adv(1, 50) +
          bytes([READ_61, READ, 2, 0, READ, 2, 0]) + adv(2, 60) +
          bytes([READ_61, CHANNEL, 2]))
    # One-shot (mode 4), read-back, BCD square wave, a late timer.
    write("pit", "oneshot-readback", bytes([0]) +
          bytes([PROGRAM, 0x38, 0x00, 0x10, WRITE, 3, 0, 0xe2,
                 READ, 0, 0, READ, 0, 0, READ, 0, 0]) + adv(0, 5000) +
          bytes([FIRE, PROGRAM, 0x77, 0x99, 0x99, CHANNEL, 1]))
    write("pit", "firmware-late", bytes([1]) + adv(4, 3) +
          bytes([READ, 0, 0, FIRE, RUN, RESET, 0, RUN]))
    write("pit", "reload-mode3", bytes([0]) +
          bytes([PROGRAM, 0x36, 0x00, 0x20]) + adv(1, 1) +
          bytes([WRITE, 0, 0, 0x10, WRITE, 0, 0, 0x08, RUN,
                 CHANNEL, 0, WRITE, 3, 0, 0x30]))


def uart_seeds():
    WRITE, READ, RECEIVE, RESET, TX = range(5)

    def w(reg, val):
        return bytes([WRITE, reg, 0, val])

    def r(reg):
        return bytes([READ, reg, 0])

    # serial8250_do_startup-like: divisor, 8N1, FIFOs, THRE test, IRQs.
    init = w(3, 0x80) + w(0, 0x01) + w(1, 0x00) + w(3, 0x03) + \
        w(2, 0xc7) + w(4, 0x0b) + w(1, 0x02) + r(2) + r(5)
    write("uart", "linux-startup", bytes([0]) + init +
          bytes([TX, ord("h"), TX, ord("i")]) + r(2) +
          bytes([RECEIVE, 3]) + b"abc" + r(2) + r(0) + r(5) + r(0) + r(0))
    write("uart", "loopback", bytes([0]) + w(4, 0x1f) + w(1, 0x0f) +
          bytes([TX, 0x55, TX, 0xaa]) + r(6) + r(0) + r(0) + r(5) +
          w(4, 0x10) + r(6) + r(2))
    write("uart", "fifo-full", bytes([0]) + w(2, 0x01) + w(1, 0x01) +
          bytes([RECEIVE, 19]) + bytes(range(19)) + r(2) +
          b"".join(r(0) for _ in range(17)) + w(2, 0x07) + r(5) +
          bytes([RESET]))
    write("uart", "no-fifo-overrun", bytes([2]) + w(4, 0x10) +
          bytes([TX, 1, TX, 2]) + r(5) + r(5) + r(0) + r(7) + w(7, 0x42) +
          r(7))


def fw_cfg_seeds():
    SELECT, READ, ACCESS, ADD_BYTES, ADD_FILE, RESET = range(6)
    hdr = struct.pack("<HBB", 64, 2, 4)    # 64 MiB, 2 of 4 CPUs
    write("fw_cfg", "signature", hdr + bytes([SELECT, 0, 0, READ, 4]) +
          bytes([SELECT, 1, 0, READ, 8, SELECT, 3, 0, READ, 8]))
    name = b"etc/splitvm/test"
    write("fw_cfg", "files", hdr +
          bytes([ADD_FILE, len(name)]) + name + bytes([5]) + b"hello" +
          bytes([SELECT, 0x19, 0, READ, 0x48, SELECT, 0x20, 0, READ, 6]))
    write("fw_cfg", "arch-local", hdr +
          bytes([ADD_BYTES, 0x00, 0x80, 3]) + b"abc" +
          bytes([ADD_BYTES, 0x19, 0x00, 0]) +
          bytes([ACCESS, 0, 1, 0x00, 0x80, 0, READ, 4, RESET, READ, 1,
                 ACCESS, 1, 0, 0, 0, 1]))


def testdev_seeds():
    PW, PR, LW, LR, MW, MR, RESET, FLUSH = range(8)
    # pick_port(): 0xdc + n; len selectors: 0 1, 1 2, 2 4, 3 8
    write("testdev", "latch", bytes([0x17, 0]) +
          bytes([PW, 4, 2]) + struct.pack("<I", 0x12345678) +
          bytes([PR, 4, 0, PR, 7, 0, PR, 12, 2, PW, 12, 0, 0x99, 0, 0, 0,
                 PR, 4, 2]))
    write("testdev", "lines", bytes([0x17, 0]) +
          bytes([LW, 2, 0, 1, 0, 0, 0, LW, 3, 2]) +
          struct.pack("<I", 0x00010001) + bytes([LR, 3, 2, RESET]))
    write("testdev", "mmio-flush", bytes([0x17, 4]) +
          bytes([MW, 0x10, 0x00, 3]) + struct.pack("<Q", 0x1122334455667788) +
          bytes([MR, 0x12, 0x00, 1, MR, 0xfc, 0xff, 2]) +
          bytes([FLUSH]) + struct.pack("<I", 0x123456))


def pci_seeds():
    ADDR, DR, DW, IOR, IOW, MR, MW, INTX, NOTIFY, RESET = range(10)

    def cfg(slot, reg):
        return struct.pack("<I", 0x80000000 | slot << 11 | reg)
    # Size BAR 1 of slot 3, read it back, restore; read pci-testdev's name.
    write("pci", "size-bar", bytes([ADDR]) + cfg(3, 0x14) +
          bytes([DW, 4, 2]) + struct.pack("<I", 0xffffffff) +
          bytes([DR, 4, 2, DW, 4, 2]) + struct.pack("<I", 0xe0000000) +
          bytes([MW]) + struct.pack("<I", 0) + bytes([0]) + b"\0" * 8 +
          bytes([MR]) + struct.pack("<I", 16) + bytes([0]))
    # MSI on slot 3: address, data, enable, master, then a notify; INTx.
    write("pci", "msi", bytes([ADDR]) + cfg(3, 0x44) +
          bytes([DW, 4, 2]) + struct.pack("<I", 0xfee00000) +
          bytes([ADDR]) + cfg(3, 0x4c) + bytes([DW, 4, 1]) +
          struct.pack("<I", 0x41) + bytes([ADDR]) + cfg(3, 0x40) +
          bytes([DW, 6, 1]) + struct.pack("<I", 0x31) +
          bytes([ADDR]) + cfg(3, 0x04) + bytes([DW, 4, 1]) +
          struct.pack("<I", 7) + bytes([NOTIFY, 1, INTX, 1, INTX, 0,
                                        RESET]))
    # MSI-X: enable, table entry 0 in BAR 2, unmask, notify.
    write("pci", "msix", bytes([ADDR]) + cfg(3, 0x50) +
          bytes([DW, 6, 1]) + struct.pack("<I", 0x8000) +
          bytes([ADDR]) + cfg(3, 0x04) + bytes([DW, 4, 1]) +
          struct.pack("<I", 7) + bytes([NOTIFY, 0]) +
          bytes([MW]) + struct.pack("<I", 0x102000 + 12) + bytes([2]) +
          struct.pack("<Q", 0))


def bus_seeds():
    REGISTER, READ, WRITE, FIND = range(4)
    # anchors: 0 0, 1 0x1000, 2 0x10000, 3 ioapic, 4 top-64K, 5 top-256
    # sizes: 0 0, 1 1, 2 2, 3 3, 4 4, 5 8, 6 16, 7 4K, 8 64K, 9 max
    seq = bytes([REGISTER, 1, 0, 0, 7, 0,
                 REGISTER, 1, 0x10, 0, 6, 2,        # overlaps
                 REGISTER, 2, 0, 0, 6, 3,
                 REGISTER, 5, 0xf0, 0, 6, 0,        # ends at 2^64
                 READ, 1, 0x00, 0x0f, 3, WRITE, 1, 0xfe, 0x0f, 3]) + \
        struct.pack("<Q", 0x0102030405060708) + \
        bytes([READ, 5, 0xfc, 0, 7, FIND, 2, 0x0c, 0, 4, READ, 0, 0, 0, 0])
    write("bus", "regions", seq)
    write("bus", "wrap", bytes([REGISTER, 4, 0xff, 0xff, 9, 0,
                               REGISTER, 0, 0, 0, 0x89, 1,
                               READ, 0, 0, 0, 1, FIND, 0, 0, 0, 0]))


# libFuzzer dictionaries (-dict=): the loaders' magic numbers, so that
# mutations that insert one are tried early. One file per harness.
LOADER_DICT = [
    ("elf_magic", b"\x7fELF"),
    ("multiboot_magic", struct.pack("<I", 0x1BADB002)),
    ("multiboot_aout_flags", struct.pack("<I", 0x10003)),
    ("linux_hdrs", b"HdrS"),
    ("linux_boot_flag", b"\x55\xaa"),
    ("linux_jump", b"\xeb\x6a"),
    ("linux_version", struct.pack("<H", 0x020f)),
    ("xen_note_name", b"Xen\x00"),
    ("xen_phys32_entry", struct.pack("<I", 18)),
    ("pt_load", struct.pack("<I", 1)),
    ("pt_note", struct.pack("<I", 4)),
    ("one_mib", struct.pack("<I", MIB)),
    ("part_separator", SEP),
]


def dicts():
    d = os.path.join(HERE, "dict")
    os.makedirs(d, exist_ok=True)
    for target in ("boot", "multiboot", "elf", "bzimage", "pvh"):
        with open(os.path.join(d, target + ".dict"), "w") as f:
            f.write("# Generated by gen-seeds.py: loader magic numbers.\n")
            for name, value in LOADER_DICT:
                esc = "".join(f"\\x{b:02x}" for b in value)
                f.write(f'{name}="{esc}"\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--guests", help="a build's guests/ directory")
    args = ap.parse_args()
    dicts()
    loader_seeds(guest_images(args.guests))
    ioapic_seeds()
    pic_seeds()
    pit_seeds()
    uart_seeds()
    fw_cfg_seeds()
    testdev_seeds()
    pci_seeds()
    bus_seeds()


if __name__ == "__main__":
    main()
