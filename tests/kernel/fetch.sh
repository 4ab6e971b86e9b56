#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fetches Debian's cloud and generic kernels and busybox-static from the
# Debian archive (apt-get download: no root, nothing installed) into a cache
# directory and builds a busybox initramfs. Never committed; reused when
# present. Prints nothing but errors; on success the cache holds (~90 MB):
#   vmlinuz-cloud, vmlinuz-generic, vmlinux-generic (its ELF),
#   initrd.cpio.gz, VERSIONS
# Usage: fetch.sh [CACHE_DIR]   (default: build/kernels)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${1:-build/kernels}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)


# resolve META: the versioned package a metapackage depends on
# (linux-image-cloud-amd64 -> linux-image-6.1.0-NN-cloud-amd64).
resolve() {
	apt-cache depends "$1" 2>/dev/null |
		awk '/^ *Depends: linux-image-[0-9]/ { print $2; exit }'
}

# download PKG: the .deb into $cache/debs, once; apt-get update on a miss.
download() {
	local pkg=$1
	mkdir -p "$cache/debs"
	if ls "$cache/debs/${pkg}_"*.deb >/dev/null 2>&1; then
		return 0
	fi
	if ! (cd "$cache/debs" && apt-get download -qq "$pkg" 2>/dev/null); then
		apt-get update -qq || true
		(cd "$cache/debs" && apt-get download -qq "$pkg")
	fi
}

# extract PKG: unpacks its .deb under $cache/root/PKG.
extract() {
	local pkg=$1 deb
	deb=$(ls "$cache/debs/${pkg}_"*.deb | head -1)
	rm -rf "$cache/root/$pkg"
	mkdir -p "$cache/root/$pkg"
	dpkg-deb -x "$deb" "$cache/root/$pkg"
}

# vmlinux IN OUT: the ELF inside a bzImage, decompressed here. On PVM the
# guest decompresses the generic kernel's 66 MB of xz at ~0.5 us an
# instruction: tens of minutes. Its ELF boots through PVH instead.
vmlinux() {
	python3 - "$1" "$2" <<'PY'
import lzma, struct, sys
img = open(sys.argv[1], "rb").read()
# boot.rst: setup_sects at 0x1f1, payload_offset and payload_length at 0x248.
start = (img[0x1f1] + 1) * 512 + struct.unpack_from("<I", img, 0x248)[0]
length = struct.unpack_from("<I", img, 0x24c)[0]
payload = img[start:start + length]
if not payload.startswith(b"\xfd7zXZ\x00"):
    sys.exit("fetch: %s: payload is not xz" % sys.argv[1])
elf = lzma.LZMADecompressor().decompress(payload)
if not elf.startswith(b"\x7fELF"):
    sys.exit("fetch: %s: payload is not an ELF" % sys.argv[1])
open(sys.argv[2], "wb").write(elf)
PY
}

kernel() {
	local meta=$1 out=$2 pkg
	pkg=$(resolve "$meta")
	if [ -z "$pkg" ]; then
		apt-get update -qq || true
		pkg=$(resolve "$meta")
	fi
	[ -n "$pkg" ] || { echo "fetch: cannot resolve $meta" >&2; exit 1; }
	download "$pkg"
	extract "$pkg"
	cp "$cache/root/$pkg/boot/vmlinuz-"* "$cache/$out.tmp"
	mv "$cache/$out.tmp" "$cache/$out"
	echo "$out $pkg" >>"$cache/VERSIONS"
	rm -rf "$cache/root/$pkg"
}

# Each step is cached: the kernels, busybox, and the initramfs, which is
# made again whenever mkinitramfs.py changes.
if [ ! -s "$cache/vmlinuz-cloud" ] || [ ! -s "$cache/vmlinux-generic" ]; then
	: >"$cache/VERSIONS"
	kernel linux-image-cloud-amd64 vmlinuz-cloud
	kernel linux-image-amd64 vmlinuz-generic
	vmlinux "$cache/vmlinuz-generic" "$cache/vmlinux-generic.tmp"
	mv "$cache/vmlinux-generic.tmp" "$cache/vmlinux-generic"
	rm -f "$cache/busybox"
fi
if [ ! -s "$cache/busybox" ]; then
	download busybox-static
	extract busybox-static
	cp "$cache/root/busybox-static/bin/busybox" "$cache/busybox"
	echo "busybox $(ls "$cache/debs/" | grep busybox-static)" >>"$cache/VERSIONS"
fi
if [ ! "$cache/initrd.cpio.gz" -nt "$here/mkinitramfs.py" ]; then
	python3 "$here/mkinitramfs.py" "$cache/busybox" \
		"$cache/initrd.cpio.gz.tmp"
	mv "$cache/initrd.cpio.gz.tmp" "$cache/initrd.cpio.gz"
fi
# The .debs (~100 MB) were only needed for what was just extracted.
rm -rf "$cache/root" "$cache/debs"
