#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# -cpu as QEMU means it: the cpuinfo guest prints the CPUID a model and its
# flags decide (vendor, levels, signature, feature words, brand, physical
# address width). Under splitvm --cpu and under QEMU with KVM it must print
# the same lines, and splitvm must warn as QEMU warns, for the models and
# flags kvm-unit-tests passes. Without QEMU, splitvm's own checks remain.
# Emits TAP.
set -u

# shellcheck source=tests/cli/tap.sh
. "$(dirname "$0")/tap.sh"
require_kvm
QEMU=${QEMU:-}

specs=(qemu64 "qemu64,+x2apic,+tsc-deadline" "qemu64,-x2apic,+tsc-deadline"
	"qemu64,+x2apic" "qemu64,vendor=GenuineIntel"
	"Opteron_G1,vendor=AuthenticAMD" "qemu64,+umip" max
	"max,host-phys-bits" "max,+vmx" "max,vendor=GenuineIntel" host
	"host,migratable=no" kvm64 "qemu64,+pcid,+invpcid"
	"qemu64,-pcid,-invpcid" "qemu64,-pcid,+invpcid" "qemu64,+svm"
	IvyBridge "IvyBridge,phys-bits=36,host-phys-bits=off")

for spec in "${specs[@]}"; do
	"$SPLITVM" run --kernel "$G/cpuinfo.elf" --cpu "$spec" --timeout 30 \
		>"$tmp/sv.out" 2>"$tmp/sv.err" </dev/null
	st=$?
	n=$((n + 1))
	if [ "$st" != 1 ] || ! grep -q "^cpuinfo: 00000001" "$tmp/sv.out"; then
		failed=$((failed + 1))
		echo "not ok $n - --cpu $spec: status $st"
		sed 's/^/# /' "$tmp/sv.err" | tail -5
		continue
	fi
	if [ -z "$QEMU" ]; then
		echo "ok $n - --cpu $spec: the guest reads its CPUID"
		continue
	fi
	timeout -k 5 60 "$QEMU" -accel kvm,kernel-irqchip=split -cpu "$spec" \
		-m 64 -display none -nodefaults -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -serial stdio \
		-kernel "$G/cpuinfo.elf" >"$tmp/q.out" 2>"$tmp/q.err" </dev/null
	# The same CPUID lines, and QEMU's warnings word for word.
	grep '^cpuinfo:' "$tmp/sv.out" >"$tmp/sv.cpuid"
	grep '^cpuinfo:' "$tmp/q.out" >"$tmp/q.cpuid"
	sed -n 's/^splitvm: warning: //p' "$tmp/sv.err" >"$tmp/sv.warn"
	sed -n 's/^qemu-system-x86_64: warning: //p' "$tmp/q.err" >"$tmp/q.warn"
	if cmp -s "$tmp/sv.cpuid" "$tmp/q.cpuid" &&
		cmp -s "$tmp/sv.warn" "$tmp/q.warn"; then
		echo "ok $n - --cpu $spec: CPUID and warnings as QEMU's"
	else
		failed=$((failed + 1))
		echo "not ok $n - --cpu $spec: differs from QEMU"
		diff "$tmp/sv.cpuid" "$tmp/q.cpuid" | sed 's/^/# cpuid: /'
		diff "$tmp/sv.warn" "$tmp/q.warn" | sed 's/^/# warnings: /'
	fi
done

# -x2apic hides x2APIC from the guest for real: leaf 1 ECX bit 21.
"$SPLITVM" run --kernel "$G/cpuinfo.elf" --cpu "qemu64,-x2apic" \
	>"$tmp/out" 2>&1 </dev/null
ecx=$(awk '/^cpuinfo: 00000001.0:/ {print $5}' "$tmp/out")
n=$((n + 1))
if [ -n "$ecx" ] && (((0x$ecx >> 21 & 1) == 0)); then
	echo "ok $n - -x2apic: CPUID.01H:ECX[21] is 0 (0x$ecx)"
else
	failed=$((failed + 1))
	echo "not ok $n - -x2apic: ECX 0x$ecx"
fi

echo "1..$n"
[ $failed = 0 ]
