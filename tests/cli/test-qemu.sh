#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The same guest binaries under splitvm and under QEMU (TCG, or KVM when
# QEMU_ACCEL says so) must give the same exit status: QEMU's isa-debug-exit
# is the reference for the verdict protocol. Emits TAP.
set -u

SPLITVM=${SPLITVM:-build/splitvm}
QEMU=${QEMU:-qemu-system-x86_64}
G=${SPLITVM_GUESTS:-build/guests}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -e /dev/kvm ]; then
	echo "1..0 # SKIP /dev/kvm is missing"
	exit 77
fi

n=0
failed=0

# same NAME CPUS MEM_MIB APPEND KERNEL [MODULE...]
same() {
	local name=$1 cpus=$2 mem=$3 append=$4 kernel=$5
	shift 5
	local sv_args=() q_mods=''
	for m in "$@"; do
		sv_args+=(--module "$m")
		q_mods=${q_mods:+$q_mods,}$m
	done
	n=$((n + 1))
	"$SPLITVM" run --kernel "$kernel" --cpus "$cpus" --memory "$mem" \
		--append "$append" --timeout 60 "${sv_args[@]}" \
		>"$tmp/sv.out" 2>&1 </dev/null
	local sv=$?
	timeout 120 "$QEMU" -accel "${QEMU_ACCEL:-tcg}" -m "$mem" -smp "$cpus" \
		-display none -nodefaults -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -serial stdio \
		-kernel "$kernel" -append "$append" ${q_mods:+-initrd "$q_mods"} \
		>"$tmp/q.out" 2>&1 </dev/null
	local q=$?
	if [ "$sv" = "$q" ] && [ "$sv" != 126 ]; then
		echo "ok $n - $name: both exit $sv"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name: splitvm $sv, qemu $q"
		sed 's/^/# splitvm: /' "$tmp/sv.out" | tail -15
		sed 's/^/# qemu: /' "$tmp/q.out" | tail -15
	fi
}

# The module checksum bootinfo expects: the byte sum, modulo 2^32.
sum() { od -An -v -tu1 "$1" | tr -s ' ' '\n' | awk '{s += $1} END {print s % 4294967296}'; }

same "demo" 1 64 "" "$G/demo.elf"
for code in 0 3 42 127; do
	same "exitcode $code" 1 64 "exit=$code" "$G/exitcode.elf"
done
head -c 50000 /dev/urandom >"$tmp/m0"
head -c 777 /dev/urandom >"$tmp/m1"
same "bootinfo, 2 modules, 2 CPUs" 2 96 \
	"mods=2 mod0=50000:$(sum "$tmp/m0") mod1=777:$(sum "$tmp/m1") cpus=2 mem=96" \
	"$G/bootinfo.elf" "$tmp/m0" "$tmp/m1"
same "bootinfo notices a wrong checksum" 1 64 "mods=1 mod0=777:1 cpus=1 mem=64" \
	"$G/bootinfo.elf" "$tmp/m1"

echo "1..$n"
[ $failed = 0 ]
