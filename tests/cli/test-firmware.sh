#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What firmware leaves for a guest, and ACPI S3, through the command line
# in both irqchip modes, then the same guests under QEMU (with SeaBIOS)
# where it is installed: the firmware guest (PIC bases and masks, the PIT
# ticking, the real-mode IVT, IRQ0 at vector 8, IRQ8 at 0x70) and the s3
# guest (suspend, the RTC alarm's wake, the waking vector in real mode or
# in 32-bit protected mode; with no vector the machine resets). Emits TAP.
set -u

# shellcheck source=tests/cli/tap.sh
. "$(dirname "$0")/tap.sh"
FRONTEND=${QEMU_FRONTEND:-build/qemu-system-x86_64}
QEMU=${QEMU:-}

require_kvm

ok() { # COND LABEL LOG
	n=$((n + 1))
	if [ "$1" = 1 ]; then
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
		sed 's/^/# /' "$3" 2>/dev/null | tail -15
		sed 's/^/# stderr: /' "$3.err" 2>/dev/null | tail -5
	fi
}

# run MODE GUEST APPEND LOG [OPTION...]: the status of splitvm.
run() {
	local mode=$1 guest=$2 append=$3 log=$4
	shift 4
	"$SPLITVM" run --kernel "$G/$guest" --irqchip "$mode" --append "$append" \
		--timeout 60 --serial "file:$log" "$@" >/dev/null 2>"$log.err" \
		</dev/null
}

has() { grep -q -- "$2" "$1" && echo 1; }

for mode in split kernel; do
	log="$tmp/fw-$mode.log"
	run "$mode" firmware.elf "" "$log"
	s=$?
	ok "$([ $s = 1 ] && has "$log" 'SUMMARY: [0-9]* tests, 0 failures')" \
		"$mode: firmware.elf: PICs, PIT and IVT as firmware leaves them (status $s)" "$log"

	log="$tmp/s3-$mode.log"
	run "$mode" s3.elf "" "$log" --cpus 2 --trace "$tmp/s3-$mode.trace"
	s=$?
	ok "$([ $s = 1 ] && has "$log" 'resumed in real mode at 0400:0008')" \
		"$mode: s3.elf: the RTC alarm wakes it into its real-mode waking vector (status $s)" "$log"
	ok "$(grep -q '"event":"suspended".*"value":3' "$tmp/s3-$mode.trace" &&
		grep -q '"event":"wakeup".*"value":33792' "$tmp/s3-$mode.trace" && echo 1)" \
		"$mode: --trace shows the suspension (S3) and the wake-up (WAK_STS | RTC_STS)" \
		"$tmp/s3-$mode.trace"

	log="$tmp/s3-32-$mode.log"
	run "$mode" s3.elf "mode=32" "$log"
	s=$?
	ok "$([ $s = 1 ] && has "$log" 'resumed in 32-bit protected mode')" \
		"$mode: s3.elf mode=32: X_Firmware_Waking_Vector in flat protected mode (status $s)" "$log"
done

# No waking vector: the firmware resets the machine, which ends the run as
# a guest's reset does (10), and, as QEMU -no-reboot, with 0 through the
# QEMU front end.
log="$tmp/s3-none.log"
run split s3.elf "mode=none" "$log"
s=$?
ok "$([ $s = 10 ] && has "$log.err" 'no waking vector')" \
	"s3.elf mode=none: woken with no waking vector, the machine resets (status $s)" "$log"
debug_exit=isa-debug-exit,iobase=0xf4,iosize=4
qline=(-accel kvm -m 64 -display none -nodefaults -no-reboot
	-device "$debug_exit" -serial stdio)
"$FRONTEND" "${qline[@]}" -kernel "$G/s3.elf" -append "mode=none" \
	>"$tmp/fe.log" 2>"$tmp/fe.log.err" </dev/null
s=$?
ok "$([ $s = 0 ] && echo 1)" \
	"s3.elf mode=none through the QEMU front end: exit 0, as QEMU -no-reboot (status $s)" \
	"$tmp/fe.log"

# QEMU with SeaBIOS is the reference for both guests.
if [ -n "$QEMU" ]; then
	for guest in firmware.elf s3.elf; do
		timeout 120 "$QEMU" "${qline[@]}" -kernel "$G/$guest" -append "" \
			>"$tmp/q.log" 2>"$tmp/q.log.err" </dev/null
		s=$?
		ok "$([ $s = 1 ] && echo 1)" "QEMU (SeaBIOS): $guest passes too (status $s)" \
			"$tmp/q.log"
	done
	timeout 120 "$QEMU" "${qline[@]}" -kernel "$G/s3.elf" -append "mode=none" \
		>"$tmp/q.log" 2>"$tmp/q.log.err" </dev/null
	s=$?
	ok "$([ $s = 0 ] && echo 1)" "QEMU (SeaBIOS): s3.elf mode=none resets (status $s)" \
		"$tmp/q.log"
else
	n=$((n + 1))
	echo "ok $n - QEMU comparison # SKIP qemu-system-x86_64 is not installed"
fi

echo "1..$n"
[ $failed = 0 ]
