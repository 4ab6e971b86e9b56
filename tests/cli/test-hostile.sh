#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile guests: splitvm must stay up, use bounded memory and CPU for
# itself, and report how each run ended, whatever the guest does. Emits TAP.
set -u

SPLITVM=${SPLITVM:-build/splitvm}
G=${SPLITVM_GUESTS:-build/guests}
MONITOR=$(dirname "$0")/hostile-monitor.py
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
n=0
failed=0

if [ ! -e /dev/kvm ]; then
	echo "1..0 # SKIP /dev/kvm is missing"
	exit 77
fi

# Bounds, generous enough for a loaded host and the sanitizer build, yet
# crossed by a monitor thread that spins or memory that grows per event:
# peak RSS (64 MiB of guest RAM at most, plus the monitor), CPU time of
# the non-vCPU threads and user time of the vCPU threads in percent of the
# wall time (for runs of 500 ms or more: one 10 ms clock tick is 2% of
# that), RSS growth over the second half of the run.
MAX_RSS_KIB=102400
MAX_MONITOR_PCT=20
MAX_VCPU_USER_PCT=20
MAX_GROWTH_KIB=8192

fail() {
	failed=$((failed + 1))
	echo "not ok $n - $1"
	sed 's/^/# /' "$TMP/run.err" | head -12
	sed 's/^/# /' "$TMP/run.out" | grep -v '^# PASS' | head -12
}

# over VALUE LIMIT WALL_MS: true if the decimal VALUE reaches the integer
# LIMIT in a run long enough to measure.
over() {
	[ "$3" -ge 500 ] && [ "${1%.*}" -ge "$2" ]
}

# run NAME ALLOWED_STATUSES ARGS...: the run must end with one of the
# statuses (a guest verdict or outcome; never 126, a monitor failure)
# within the memory and CPU bounds, with no sanitizer report on stderr
# (ASan exits with 1 by default, a guest's passing status). Status 6
# (emulation failure) must come with its register dump.
run() {
	local name=$1 allowed=$2 st rss mon vcpu growth ms what
	shift 2
	n=$((n + 1))
	read -r st rss mon vcpu growth ms < <(python3 "$MONITOR" "$TMP/run" \
		"$SPLITVM" run "$@")
	what="$name: status $st, peak RSS $((rss / 1024)) MiB, monitor CPU"
	what+=" $mon%, vCPU user $vcpu%, RSS growth $growth KiB, $ms ms"
	if [[ " $allowed " != *" $st "* ]] || [ "$rss" -ge $MAX_RSS_KIB ] ||
		over "$mon" $MAX_MONITOR_PCT "$ms" ||
		over "$vcpu" $MAX_VCPU_USER_PCT "$ms" ||
		[ "$growth" -ge $MAX_GROWTH_KIB ]; then
		fail "$what"
	elif grep -q 'Sanitizer\|runtime error:' "$TMP/run.err"; then
		fail "$what: sanitizer report"
	elif [ "$st" = 6 ] && ! { grep -q 'instruction emulation failed' \
		"$TMP/run.err" && grep -q '^  rip [0-9a-f]\{16\}' "$TMP/run.err"; }; then
		fail "$what: no emulation failure report with registers"
	else
		echo "ok $n - $what"
	fi
}

# Random writes of every width to ports, the IOAPIC, the test device's
# MMIO and unmapped MMIO: the guest finishes (1) unless what it set off
# ends it (a triple fault from an INIT or NMI it did not expect: 4).
for mode in split kernel; do
	for seed in 1 2 3 4 5; do
		run "random I/O, seed $seed, $mode" "1 3 4 255" \
			--kernel "$G/hostile.elf" --append "seed=$seed" \
			--irqchip $mode --cpus 2 --timeout 60 --serial none
	done
done

# Level-triggered storms: the line stays high, every interrupt is EOIed
# (or none is) without quieting it; the guest masks it after 1 s and
# checks that the machine still works (its verdict: 1). Kernel mode has
# KVM's IOAPIC (version 0x11, no EOI register) and PICs.
for mode in split kernel; do
	for args in "" "eoi=0" "pic=1" "pic=1 eoi=0" "x2apic=1"; do
		run "level storm ${args:-eoi=1}, $mode" "1" \
			--kernel "$G/storm.elf" --append "$args" \
			--irqchip $mode --timeout 60 --serial stdio
	done
done
run "level storm, IOAPIC version 0x11" "1" --kernel "$G/storm.elf" \
	--ioapic-version 0x11 --timeout 60 --serial stdio

# EOI storms with nothing in service; interrupts must still arrive.
for mode in split kernel; do
	for seed in 1 2; do
		run "EOI storm, seed $seed, $mode" "1" \
			--kernel "$G/eoistorm.elf" --append "seed=$seed" \
			--irqchip $mode --timeout 60 --serial stdio
	done
done
run "EOI storm, IOAPIC version 0x11" "1" --kernel "$G/eoistorm.elf" \
	--ioapic-version 0x11 --timeout 60 --serial stdio

# Instructions KVM's emulator refuses at CPL0 on the PVM hosts: an
# emulation failure with a register dump (6), or, where the CPU runs
# them (VMX/SVM), the guest's own verdict that the trap was delivered or
# the instruction completed (1). A fault or fall-through (3) fails.
for mode in split kernel; do
	for insn in int3 int80 xsave cmpxchg16b; do
		run "refused instruction $insn, $mode" "1 6" \
			--kernel "$G/refuse.elf" --append "insn=$insn" \
			--irqchip $mode --timeout 60 --serial stdio
	done
done
# Where the LAPIC keeps vectors in service and the CPU executes what PVM
# refuses, QEMU's TCG: the guests' own verdicts (1) must hold there too
# (a level storm never EOIed is one interrupt; a PIC storm starves the
# interrupted code, so the handler ends it).
QEMU=${QEMU:-$(command -v qemu-system-x86_64)}
qemu_run() {
	local name=$1 kernel=$2 args=$3 st
	n=$((n + 1))
	if [ -z "$QEMU" ]; then
		echo "ok $n - $name under QEMU # SKIP no QEMU"
		return
	fi
	timeout 120 "$QEMU" -accel tcg -cpu max -m 64 -display none \
		-nodefaults -no-reboot -serial stdio -device pc-testdev \
		-device isa-debug-exit,iobase=0xf4,iosize=4 \
		-kernel "$G/$kernel" -append "$args" </dev/null \
		>"$TMP/run.out" 2>"$TMP/run.err"
	st=$?
	if [ $st = 1 ]; then
		echo "ok $n - $name under QEMU TCG: the guest's verdict"
	else
		fail "$name under QEMU TCG: status $st, want 1"
	fi
}
for insn in int3 int80 xsave cmpxchg16b; do
	qemu_run "refuse $insn" refuse.elf "insn=$insn"
done
for args in "eoi=1" "eoi=0" "pic=1"; do
	qemu_run "level storm $args" storm.elf "$args"
done
qemu_run "EOI storm" eoistorm.elf "seed=1"

# The other hostile outcomes.
run "triple fault" "4" --kernel "$G/triple.elf" --serial none --timeout 60
for mode in split kernel; do
	run "endless loop with IF=0 ends at the timeout, $mode" "124" \
		--kernel "$G/spin.elf" --irqchip $mode --serial none --timeout 1
	run "halt with IF=0 ends at the timeout, $mode" "124" \
		--kernel "$G/hang.elf" --irqchip $mode --serial none --timeout 1
done

echo "1..$n"
[ $failed = 0 ]
