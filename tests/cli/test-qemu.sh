#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The same guest binaries under splitvm and under QEMU (TCG, or KVM when
# QEMU_ACCEL says so) must give the same exit status: QEMU's isa-debug-exit
# is the reference for the verdict protocol. Emits TAP.
set -u

# shellcheck source=tests/cli/tap.sh
. "$(dirname "$0")/tap.sh"
QEMU=${QEMU:-qemu-system-x86_64}

require_kvm

# shellcheck source=tests/cli/qemu-cases.sh
. "$(dirname "$0")/qemu-cases.sh"

# same NAME CPUS MEM_MIB APPEND KERNEL [MODULE...]
same() {
	local name=$1 cpus=$2 mem=$3 append=$4 kernel=$5
	shift 5
	local sv_args=()
	for m in "$@"; do
		sv_args+=(--module "$m")
	done
	n=$((n + 1))
	"$SPLITVM" run --kernel "$kernel" --cpus "$cpus" --memory "$mem" \
		--append "$append" --timeout 60 "${sv_args[@]}" \
		>"$tmp/sv.out" 2>&1 </dev/null
	local sv=$?
	qemu_line "${QEMU_ACCEL:-tcg}" "$cpus" "$mem" "$append" "$kernel" "$@"
	timeout 120 "$QEMU" "${qargs[@]}" >"$tmp/q.out" 2>&1 </dev/null
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

run_cases "$G" "$tmp"
# Not shared with the front-end test: the clock readings in the output
# differ from run to run, and a poweroff is not a debug-exit status.
# RTC, PM timer, then poweroff through the ACPI tables' PM1a_CNT: 0.
same "cmos powers off through ACPI" 1 64 "epoch=$(date -u +%s)" "$G/cmos.elf"
same "cmos notices a wrong clock" 1 64 "epoch=1000000000" "$G/cmos.elf"

echo "1..$n"
[ $failed = 0 ]
