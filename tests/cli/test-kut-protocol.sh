#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kvm-unit-tests' runner against the QEMU front end: the probes its
# scripts make of the QEMU binary (run_tests.sh, scripts/arch-run.bash,
# x86/run), each with the command and the grep pattern the runner uses,
# then boots with the command line x86/run builds. Written from reading
# those scripts; kvm-unit-tests itself is not needed. The probes need no
# /dev/kvm; without it the boots are skipped, each saying so. Emits TAP.
# The checks are eval'd strings, expanded when they run:
# shellcheck disable=SC2016
set -u

# shellcheck source=tests/cli/tap.sh
. "$(dirname "$0")/tap.sh"
FRONTEND=${QEMU_FRONTEND:-build/qemu-system-x86_64}
QEMU=${QEMU:-}

check() { # LABEL COMMAND...: ok if the command succeeds
	local label=$1
	shift
	if "$@"; then ok "$label"; else not_ok "$label"; fi
}

skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP /dev/kvm is missing"
}

rm -f "$tmp"/*.out "$tmp"/*.err

# --- scripts/arch-run.bash search_qemu_binary: the binary answers --help
# with a text containing QEMU.
check "search_qemu_binary: --help | grep -q 'QEMU'" \
	eval '"$FRONTEND" --help 2>/dev/null | grep -q "QEMU"'

# --- env_params: QEMU_VERSION_STRING is the first line of -h, read as
# "_ _ _ MAJOR MINOR MICRO rest" split on spaces and dots.
for opt in -h --help -help -version; do
	first=$("$FRONTEND" "$opt" </dev/null | head -1)
	IFS='[ .]' read -r _ _ _ major minor micro _ <<<"$first"
	if [[ $first =~ ^QEMU\ emulator\ version\ 7\.2\.[0-9]+\ \(splitvm\ [^\)]+\)$ ]] &&
		[ "$major" = 7 ] && [ "$minor" = 2 ] && [[ $micro =~ ^[0-9]+$ ]]; then
		ok "$opt: first line '$first' gives QEMU_MAJOR 7, MINOR 2, MICRO $micro"
	else
		not_ok "$opt: first line '$first' ($major.$minor.$micro)"
	fi
done
if [ -n "$QEMU" ]; then
	# The same split of real QEMU's line gives the same kind of numbers.
	IFS='[ .]' read -r _ _ _ major minor micro _ <<<"$("$QEMU" -h | head -1)"
	check "QEMU's own -h line splits the same way ($major.$minor.$micro)" \
		test "$major" = 7 -a "$minor" = 2
fi

# --- x86/run: the test devices, from -device '?' with stderr merged.
"$FRONTEND" -device '?' >"$tmp/dev.out" 2>&1 </dev/null
st=$?
check "-device '?': exit 0" test "$st" = 0
check "x86/run: -device '?' | grep -F -e '\"testdev\"' -e '\"pc-testdev\"'" \
	grep -F -q -e \"testdev\" -e \"pc-testdev\" "$tmp/dev.out"
check "x86/run: -device '?' | grep -F 'pc-testdev' (so pc-testdev + isa-debug-exit)" \
	grep -F -q "pc-testdev" "$tmp/dev.out"
check "x86/run: -device '?' | grep -F 'pci-testdev' (so -device pci-testdev)" \
	grep -F -q "pci-testdev" "$tmp/dev.out"
check "-device '?' lists exactly edu, isa-debug-exit, pc-testdev and pci-testdev, QEMU's way" \
	diff -u - "$tmp/dev.out" <<'EOF'

Misc devices:
name "edu", bus PCI
name "isa-debug-exit", bus ISA
name "pc-testdev", bus ISA
name "pci-testdev", bus PCI, desc "PCI Test Device"
EOF
"$FRONTEND" -device help >"$tmp/help.out" 2>&1 </dev/null
check "-device help: the same list" cmp -s "$tmp/dev.out" "$tmp/help.out"
"$SPLITVM" qemu -device '?' >"$tmp/sub.out" 2>&1 </dev/null
check "splitvm qemu -device '?': the same list" cmp -s "$tmp/dev.out" "$tmp/sub.out"
if [ -n "$QEMU" ]; then
	# Each of splitvm's lines is one of QEMU's, word for word.
	"$QEMU" -device '?' >"$tmp/qdev.out" 2>/dev/null </dev/null
	check "QEMU's -device '?' has the same lines for both devices" \
		eval 'grep "^name" "$tmp/dev.out" | grep -v -x -F -f "$tmp/qdev.out" | (! grep -q .)'
fi
"$FRONTEND" -device isa-debug-exit,help >"$tmp/props.out" 2>&1 </dev/null
check "-device isa-debug-exit,help: QEMU's options header, iobase and iosize" \
	eval 'head -1 "$tmp/props.out" | grep -qx "isa-debug-exit options:" &&
		grep -q "^  iobase=<uint32>  *- " "$tmp/props.out" &&
		grep -q "^  iosize=<uint32>  *- " "$tmp/props.out"'

# --- -machine help and -cpu help, QEMU's formats.
for opt in "-machine help" "-M help" "-machine ?"; do
	# shellcheck disable=SC2086
	"$FRONTEND" $opt >"$tmp/m.out" 2>&1 </dev/null
	st=$?
	if [ "$st" = 0 ] && head -1 "$tmp/m.out" | grep -qx "Supported machines are:" &&
		grep -q "^pc  *Standard PC (i440FX + PIIX, 1996)" "$tmp/m.out" &&
		grep -q "^q35  *Standard PC (Q35 + ICH9, 2009)" "$tmp/m.out" &&
		grep -q "^microvm  *microvm (i386)$" "$tmp/m.out" &&
		[ "$(grep -c '(default)$' "$tmp/m.out")" = 1 ]; then
		ok "$opt: pc, q35 and microvm, one default"
	else
		not_ok "$opt: exit $st"
	fi
done
"$FRONTEND" -cpu help >"$tmp/cpu.out" 2>&1 </dev/null
st=$?
if [ "$st" = 0 ] && head -1 "$tmp/cpu.out" | grep -qx "Available CPUs:" &&
	grep -q "^x86 host  " "$tmp/cpu.out" && grep -q "^x86 max  " "$tmp/cpu.out" &&
	grep -q "^x86 qemu64  " "$tmp/cpu.out" &&
	grep -qx "Recognized CPUID flags:" "$tmp/cpu.out" &&
	grep -qw x2apic "$tmp/cpu.out" && grep -qw tsc-deadline "$tmp/cpu.out"; then
	ok "-cpu help: models (host, max, qemu64) and the CPUID flags"
else
	not_ok "-cpu help: exit $st"
fi
# listflags()'s shape: indented by two, lines under 76 columns.
check "-cpu help: the flags wrapped as QEMU wraps them" \
	eval 'sed -n "/^Recognized CPUID flags:/,\$p" "$tmp/cpu.out" | tail -n +2 |
		grep . | awk "!/^  [^ ]/ || length > 76 { bad = 1 } END { exit bad }"'

# --- run_tests.sh's premature_failure(): x86/run's whole line with the
# kernel _NO_FILE_4Uhere_; the test runs only if the output names that
# file with one of these words (vmm.bash qemu_parse_premature_failure).
# x86/run's line, as it builds it for ACCEL=kvm,kernel_irqchip=split.
kut_line() { # KERNEL [OPTIONS...]: sets kut
	local kernel=$1
	shift
	# shellcheck disable=SC2054 # the commas are QEMU's
	kut=(--no-reboot -nodefaults -global kvm-pit.lost_tick_policy=discard
		-device pc-testdev -device isa-debug-exit,iobase=0xf4,iosize=0x4
		-display none -serial stdio -device pci-testdev
		-machine accel=kvm,kernel_irqchip=split -kernel "$kernel" "$@")
}

premature() { # LABEL OPTIONS...: the line is taken up to the kernel
	local label=$1
	shift
	kut_line _NO_FILE_4Uhere_ "$@"
	log=$(timeout -k 1s 30 "$FRONTEND" "${kut[@]}" -initrd "$tmp/env" </dev/null 2>&1)
	st=$?
	if [ "$st" = 126 ] && grep "_NO_FILE_4Uhere_" <<<"$log" |
		grep -q -e "[Cc]ould not \(load\|open\) kernel" \
			-e "error loading" -e "failed to load"; then
		ok "premature_failure: $label: the kernel is looked for"
	else
		echo "$log" >"$tmp/premature.err"
		not_ok "premature_failure: $label: exit $st"
	fi
}

printf 'TARGET=qemu\nQEMU_ACCEL=kvm\n' >"$tmp/env"
premature "smptest (-smp 2)" -smp 2
premature "msr (-cpu max,vendor=GenuineIntel)" -smp 1 -cpu max,vendor=GenuineIntel
premature "x2apic (-cpu qemu64,+x2apic,+tsc-deadline)" -smp 2 \
	-cpu qemu64,+x2apic,+tsc-deadline
premature "vmexit_ipi (-machine pit=off)" -smp 2 -append ipi -machine pit=off
premature "asyncpf (-cpu host -m 2048)" -smp 1 -cpu host -m 2048
premature "svm (-cpu max,+svm -m 4g)" -smp 2 -cpu max,+svm -m 4g
premature "cet (-enable-kvm -m 2048 -cpu host)" -smp 2 -enable-kvm -m 2048 -cpu host
premature "-vnc none" -smp 1 -vnc none

# QEMU's exact words for a missing kernel, which the runner reads, with
# nothing else on stderr; splitvm's status 126, since to the runner QEMU's
# 1 is a passing test.
kut_line _NO_FILE_4Uhere_ -smp 1
"$FRONTEND" "${kut[@]}" >"$tmp/nofile.out" 2>"$tmp/nofile.err" </dev/null
st=$?
echo "qemu: could not open kernel file '_NO_FILE_4Uhere_': No such file or directory" \
	>"$tmp/nofile.want"
check "a missing -kernel: exit 126 and QEMU's one line" \
	eval '[ "$st" = 126 ] && [ ! -s "$tmp/nofile.out" ] &&
		cmp -s "$tmp/nofile.want" "$tmp/nofile.err"'
if [ -n "$QEMU" ]; then
	# QEMU with the same line (TCG: the probe only loads the kernel).
	timeout -k 1s 60 "$QEMU" "${kut[@]}" -machine accel=tcg </dev/null 2>&1 |
		grep _NO_FILE_4Uhere_ >"$tmp/qnofile.out"
	q=${PIPESTATUS[0]}
	check "QEMU says the same and exits $q" \
		eval '[ "$q" = 1 ] && cmp -s "$tmp/qnofile.out" "$tmp/nofile.err"'
fi
# A FIFO is not waited on (QEMU would block on it for ever).
mkfifo "$tmp/fifo"
kut_line "$tmp/fifo" -smp 1
timeout -k 1s 20 "$FRONTEND" "${kut[@]}" >/dev/null 2>"$tmp/fifo.err" </dev/null
st=$?
check "a FIFO as -kernel: exit 126 at once, could not load kernel" \
	eval '[ "$st" = 126 ] && grep -q "^qemu: could not load kernel " "$tmp/fifo.err"'
rm -f "$tmp/fifo" "$tmp"/*.err

# Entries splitvm cannot run: refused before the kernel is looked for,
# status 2, one line naming the option, which the runner prints as the
# SKIP reason (the tail of the premature log).
refused() { # PATTERN OPTIONS...
	local what=$1
	shift
	kut_line _NO_FILE_4Uhere_ -smp 1 "$@"
	"$FRONTEND" "${kut[@]}" >"$tmp/ref.out" 2>"$tmp/ref.err" </dev/null
	st=$?
	if [ "$st" = 2 ] && [ "$(wc -l <"$tmp/ref.err")" = 1 ] &&
		grep -q -- "^splitvm: .*$what" "$tmp/ref.err" &&
		! grep -q "_NO_FILE_4Uhere_" "$tmp/ref.err"; then
		ok "refused, the runner skips: $*"
	else
		not_ok "refused: $*: exit $st"
	fi
	rm -f "$tmp/ref.err"
}
refused "-machine vmport=on is not supported" -machine vmport=on -cpu max
refused "-overcommit cpu-pm=on is not supported" -cpu max,+svm -overcommit cpu-pm=on -m 4g
refused "-device 'hyperv-testdev' is not supported" -cpu host,hv_passthrough -device hyperv-testdev
refused "-device 'intel-iommu' is not supported" -M q35,kernel-irqchip=split \
	-device intel-iommu,intremap=on,eim=off -device edu
refused "--cpu 'max,+nosuchflag'" -cpu max,+nosuchflag
refused "-global kvm-pit.lost_tick_policy=delay is not supported" \
	-global kvm-pit.lost_tick_policy=delay
refused "-global isa-fdc.driveA is not supported" -global isa-fdc.driveA=d0

# --- Boots with x86/run's line. scripts/arch-run.bash run_test() adds
# -initrd with the environment file; vmm.bash's fixup counts status 1
# with nothing but warnings on stderr as a pass.
boot() { # LABEL STATUS PATTERN KERNEL [OPTIONS...]
	local label=$1 want=$2 pattern=$3
	shift 3
	if [ ! -e /dev/kvm ]; then
		skip "$label"
		return
	fi
	kut_line "$@"
	timeout -k 1s --foreground 90s "$FRONTEND" "${kut[@]}" -initrd "$tmp/env" \
		>"$tmp/boot.out" 2>"$tmp/boot.err" </dev/null
	st=$?
	if [ "$st" = "$want" ] && grep -q -- "$pattern" "$tmp/boot.out" &&
		{ [ "$st" != 1 ] || ! grep -qvi warning "$tmp/boot.err"; }; then
		ok "$label: exit $st"
	else
		not_ok "$label: exit $st, wanted $want and '$pattern' in the output"
	fi
	rm -f "$tmp/boot.out" "$tmp/boot.err"
}
boot "demo, x86/run's line: exit 1, a pass for the runner" 1 "SUMMARY: .* 0 failures" \
	"$G/demo.elf" -smp 1
boot "exitcode 1: exit 3, a failure for the runner" 3 "exiting with 1" \
	"$G/exitcode.elf" -smp 1 -append exit=1
boot "smp, 2 CPUs, -cpu qemu64,+x2apic" 1 "0 failures" \
	"$G/smp.elf" -smp 2 -cpu qemu64,+x2apic
boot "demo, -machine pit=off, -cpu max,vendor=GenuineIntel" 1 "0 failures" \
	"$G/demo.elf" -smp 1 -machine pit=off -cpu max,vendor=GenuineIntel
boot "demo, -m 2048 -enable-kvm -vnc none" 1 "0 failures" \
	"$G/demo.elf" -smp 1 -m 2048 -enable-kvm -vnc none
boot "demo, -machine pit=off,pic=off,rtc=off" 1 "0 failures" \
	"$G/demo.elf" -smp 1 -machine pit=off,pic=off,rtc=off

# The native options those lines become ('splitvm run').
check "splitvm --help names --cpu, --no-pic and --no-rtc" \
	eval '"$SPLITVM" --help | grep -q -- "--cpu MODEL" &&
		"$SPLITVM" --help | grep -q -- "--no-pic" &&
		"$SPLITVM" --help | grep -q -- "--no-rtc"'
if [ -e /dev/kvm ]; then
	"$SPLITVM" run --kernel "$G/demo.elf" --cpu qemu64,+x2apic --no-pit \
		--no-pic --no-rtc --timeout 60 >"$tmp/native.out" 2>&1 </dev/null
	st=$?
	check "splitvm run --cpu qemu64,+x2apic --no-pit --no-pic --no-rtc: exit $st" \
		eval '[ "$st" = 1 ] && grep -q "0 failures" "$tmp/native.out"'
else
	skip "splitvm run --cpu qemu64,+x2apic --no-pit --no-pic --no-rtc"
fi
"$SPLITVM" run --kernel "$G/demo.elf" --cpu nosuchmodel >/dev/null \
	2>"$tmp/native.err" </dev/null
st=$?
check "splitvm run --cpu nosuchmodel: exit 2, one line" \
	eval '[ "$st" = 2 ] && [ "$(wc -l <"$tmp/native.err")" = 1 ] &&
		grep -q "^splitvm: --cpu .nosuchmodel.: " "$tmp/native.err"'

echo "1..$n"
[ $failed = 0 ]
