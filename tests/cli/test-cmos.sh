#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The RTC/CMOS and ACPI PM guest in both irqchip modes: it checks the RTC
# against the host's clock, SET, the update flag, periodic IRQ 8, the PM
# timer's rate and PM1 registers, then powers off through PM1a_CNT with
# _S5's SLP_TYP as the ACPI tables give them: status 0 (poweroff), not a
# debug-exit status. Emits TAP.
set -u

# shellcheck source=tests/cli/tap.sh
. "$(dirname "$0")/tap.sh"

require_kvm

ok() { # STATUS-OK LABEL LOG
	n=$((n + 1))
	if [ "$1" = 1 ]; then
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
		grep -E 'FAIL|SUMMARY' "$3" 2>/dev/null | sed 's/^/# /' | head -20
		sed 's/^/# stderr: /' "$3.err" 2>/dev/null | head -5
	fi
}

# run MODE APPEND LOG: the status of splitvm.
run() {
	"$SPLITVM" run --kernel "$G/cmos.elf" --irqchip "$1" --append "$2" \
		--timeout 60 --serial "file:$3" >/dev/null 2>"$3.err" </dev/null
}

for mode in split kernel; do
	log="$tmp/$mode.log"
	run "$mode" "epoch=$(date -u +%s)" "$log"
	s=$?
	ok "$([ $s = 0 ] && echo 1)" "$mode: powered off through PM1a_CNT (status $s)" "$log"
	ok "$(grep -q 'SUMMARY: [0-9]* tests, 0 failures' "$log" && echo 1)" \
		"$mode: every check passed" "$log"
	ok "$(grep -q '^cmos: S5: SLP_TYP' "$log" && echo 1)" \
		"$mode: S5 was taken from the ACPI tables" "$log"
done

# A clock two decades off fails the guest's check: it then ends through
# debug-exit (odd status), so status 0 above is the poweroff's own.
log="$tmp/wrong-epoch.log"
run split "epoch=1000000000" "$log"
s=$?
ok "$([ $s = 3 ] && grep -q 'FAIL: RTC within 2 minutes' "$log" && echo 1)" \
	"a wrong host time is caught (status $s)" "$log"

echo "1..$n"
[ $failed = 0 ]
