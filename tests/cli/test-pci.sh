#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The PCI bus as a guest finds it: the pci guest walks bus 0, sizes the
# BARs, runs pci-testdev's protocol and takes edu's INTx and MSI. It must
# pass under splitvm in both irqchip modes, through the QEMU front end,
# and under QEMU itself (its pc machine with the same two devices), which
# is the reference. Emits TAP.
set -u

# shellcheck source=tests/cli/tap.sh
. "$(dirname "$0")/tap.sh"
require_kvm

# run NAME COMMAND...: the guest passes (status 1: debug-exit code 0).
run() {
	local name=$1
	shift
	n=$((n + 1))
	timeout -k 5 120 "$@" >"$tmp/out" 2>&1 </dev/null
	local st=$?
	if [ "$st" = 1 ] && grep -q "SUMMARY: .* 0 failures" "$tmp/out"; then
		echo "ok $n - $name"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name: status $st"
		sed 's/^/# /' "$tmp/out" | grep -v '^# PASS' | tail -20
	fi
}

run "splitvm, split irqchip" \
	"$SPLITVM" run --kernel "$G/pci.elf" --device edu --timeout 60
run "splitvm, kernel irqchip" \
	"$SPLITVM" run --kernel "$G/pci.elf" --device edu --irqchip kernel \
	--timeout 60
run "splitvm, 2 CPUs, x2APIC" \
	"$SPLITVM" run --kernel "$G/pci.elf" --device edu --cpus 2 \
	--append x2apic=1 --timeout 60
qline=(-m 64 -display none -nodefaults -no-reboot
	-device isa-debug-exit,iobase=0xf4,iosize=4 -serial stdio
	-device pci-testdev -device edu -kernel "$G/pci.elf")
if [ -n "${QEMU_FRONTEND:-}" ]; then
	run "the QEMU front end, QEMU's line" \
		"$QEMU_FRONTEND" -accel kvm,kernel_irqchip=split "${qline[@]}"
fi
if [ -n "${QEMU:-}" ]; then
	run "QEMU pc (the reference)" \
		"$QEMU" -accel kvm,kernel-irqchip=split "${qline[@]}"
fi

# Without edu the walk finds the bridge and pci-testdev only; the edu
# checks fail, and say so.
n=$((n + 1))
"$SPLITVM" run --kernel "$G/pci.elf" --timeout 60 >"$tmp/out" 2>&1 </dev/null
st=$?
if [ "$st" = 3 ] && grep -q "FAIL: edu (1234:11e8) is on the bus" "$tmp/out" &&
	grep -q "PASS: pci-testdev: 6 tests" "$tmp/out"; then
	echo "ok $n - without --device edu: pci-testdev only"
else
	failed=$((failed + 1))
	echo "not ok $n - without --device edu: status $st"
fi

# A hostile guest cannot break the bus: config writes everywhere.
n=$((n + 1))
if "$SPLITVM" run --kernel "$G/pci.elf" --device edu --device edu \
	>/dev/null 2>"$tmp/err"; then
	failed=$((failed + 1))
	echo "not ok $n - --device edu twice is accepted"
else
	echo "ok $n - --device edu twice is refused"
fi

echo "1..$n"
[ $failed = 0 ]
