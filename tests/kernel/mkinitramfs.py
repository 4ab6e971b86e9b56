#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes a gzipped newc cpio initramfs holding a static busybox, its
applet links, /dev/console and an /init that prints a marker and powers
off (through isa-debug-exit with acpi=off). Usage: mkinitramfs.py BUSYBOX OUTPUT.cpio.gz

The newc format: each entry is the ASCII magic "070701", 13 eight-digit
hex fields, the NUL-terminated name padded to 4 bytes, then the data
padded to 4 bytes; the archive ends with an entry named "TRAILER!!!"."""
import gzip
import stat
import sys

MARKER = "SPLITVM-INITRAMFS-SHELL"

INIT = f"""#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo
echo {MARKER}
echo "cpus online: $(cat /sys/devices/system/cpu/online)"
# Without ACPI the kernel cannot power the machine off (its poweroff ends
# in a halt): end the VM through isa-debug-exit instead, value 0 to port
# 0xf4 (status 1), through /dev/port.
case " $(cat /proc/cmdline) " in
*" acpi=off "*)
	mount -t devtmpfs dev /dev
	printf '\\000' | dd of=/dev/port bs=1 seek=244 2>/dev/null ;;
esac
poweroff -f
"""

APPLETS = ["sh", "mount", "echo", "cat", "poweroff", "ls", "dmesg", "printf",
           "dd"]


class Cpio:
    def __init__(self):
        self.data = bytearray()
        self.ino = 1

    def entry(self, name, mode, body=b"", rdev=(0, 0)):
        fields = [self.ino, mode, 0, 0, 1, 0, len(body), 0, 0,
                  rdev[0], rdev[1], len(name) + 1, 0]
        self.ino += 1
        head = b"070701" + b"".join(b"%08x" % f for f in fields)
        self.data += head + name.encode() + b"\0"
        self.pad()
        self.data += body
        self.pad()

    def pad(self):
        self.data += b"\0" * (-len(self.data) % 4)

    def directory(self, name):
        self.entry(name, stat.S_IFDIR | 0o755)

    def file(self, name, body, perm=0o755):
        self.entry(name, stat.S_IFREG | perm, body)

    def symlink(self, name, target):
        self.entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor):
        self.entry(name, stat.S_IFCHR | 0o600, rdev=(major, minor))

    def finish(self):
        self.entry("TRAILER!!!", 0)
        return bytes(self.data)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: mkinitramfs.py BUSYBOX OUTPUT.cpio.gz")
    with open(sys.argv[1], "rb") as f:
        busybox = f.read()
    c = Cpio()
    for d in ["bin", "dev", "proc", "sys"]:
        c.directory(d)
    # The kernel opens /dev/console for init's stdio before init runs.
    c.chardev("dev/console", 5, 1)
    c.file("bin/busybox", busybox)
    for a in APPLETS:
        c.symlink("bin/" + a, "busybox")
    c.file("init", INIT.encode())
    with gzip.open(sys.argv[2], "wb") as f:
        f.write(c.finish())


if __name__ == "__main__":
    main()
