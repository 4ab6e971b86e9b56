#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The splitvm command line as a script uses it: exit statuses, messages,
# serial output. Emits TAP. Needs /dev/kvm for the boots (skips without).
set -u

# shellcheck source=tests/cli/tap.sh
. "$(dirname "$0")/tap.sh"

# check NAME EXPECTED_STATUS [--out PATTERN] [--err PATTERN] -- COMMAND...
# Runs COMMAND, checks its exit status and that stdout/stderr match.
check() {
	local name=$1 want=$2 out_pat='' err_pat='' err_lines=''
	shift 2
	while [ "$1" != -- ]; do
		case $1 in
		--out) out_pat=$2; shift 2 ;;
		--err) err_pat=$2; shift 2 ;;
		--err-lines) err_lines=$2; shift 2 ;;
		esac
	done
	shift
	n=$((n + 1))
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	local got=$? why=''
	[ "$got" = "$want" ] || why="exit status $got, want $want"
	if [ -z "$why" ] && [ -n "$out_pat" ] && ! grep -qE -- "$out_pat" "$tmp/out"; then
		why="stdout lacks /$out_pat/"
	fi
	if [ -z "$why" ] && [ -n "$err_pat" ] && ! grep -qE -- "$err_pat" "$tmp/err"; then
		why="stderr lacks /$err_pat/"
	fi
	if [ -z "$why" ] && [ -n "$err_lines" ] && [ "$(wc -l <"$tmp/err")" != "$err_lines" ]; then
		why="stderr has $(wc -l <"$tmp/err") lines, want $err_lines"
	fi
	if [ -z "$why" ]; then
		echo "ok $n - $name"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name: $why"
		sed 's/^/# out: /' "$tmp/out" | head -20
		sed 's/^/# err: /' "$tmp/err" | head -20
	fi
}

run() { "$SPLITVM" run "$@"; }

# --- no KVM needed ---------------------------------------------------------
check "help" 0 --out 'Usage: splitvm run' --out 'Exit status' -- "$SPLITVM" --help
check "run --help" 0 --out 'Usage: splitvm run' --out 'bzImage' -- "$SPLITVM" run --help
check "version" 0 --out '^splitvm [0-9]+\.[0-9]+\.[0-9]+$' -- "$SPLITVM" --version
check "no command" 2 --err-lines 1 --err 'no command' -- "$SPLITVM"
check "unknown command" 2 --err-lines 1 --err "unknown command 'fly'" -- "$SPLITVM" fly
check "unknown option" 2 --err-lines 1 --err "unknown option '--warp'" -- run --kernel "$G/demo.elf" --warp
check "missing value" 2 --err-lines 1 --err 'needs a value' -- run --kernel
check "missing kernel" 2 --err-lines 1 --err 'needs --kernel' -- run --cpus 2
check "stray argument" 2 --err-lines 1 --err "unexpected argument 'x'" -- run --kernel "$G/demo.elf" x
for bad in 0 256 -1 two 1.5 ''; do
	check "cpus '$bad' refused" 2 --err-lines 1 --err '--cpus' -- run --kernel "$G/demo.elf" --cpus "$bad"
done
for bad in 0 1M 3000T 12Q 64MB 1.5G '' x 4097K; do
	check "memory '$bad' refused" 2 --err-lines 1 --err '--memory' -- run --kernel "$G/demo.elf" --memory "$bad"
done
for bad in 0 -1 abc 1.2.3 . '' 1e3; do
	check "timeout '$bad' refused" 2 --err-lines 1 --err '--timeout' -- run --kernel "$G/demo.elf" --timeout "$bad"
done
for bad in tcp:1 file: stdout ''; do
	check "serial '$bad' refused" 2 --err-lines 1 --err '--serial' -- run --kernel "$G/demo.elf" --serial "$bad"
done
for bad in '' split2 KERNEL; do
	check "irqchip '$bad' refused" 2 --err-lines 1 --err '--irqchip' -- run --kernel "$G/demo.elf" --irqchip "$bad"
done
for bad in 0 121 x; do
	check "ioapic-pins '$bad' refused" 2 --err-lines 1 --err '--ioapic-pins' -- run --kernel "$G/demo.elf" --ioapic-pins "$bad"
done
for bad in 0x12 20 ''; do
	check "ioapic-version '$bad' refused" 2 --err-lines 1 --err '--ioapic-version' -- run --kernel "$G/demo.elf" --ioapic-version "$bad"
done
check "append too long" 2 --err-lines 1 --err '4095' -- run --kernel "$G/demo.elf" --append "$(head -c 5000 /dev/zero | tr '\0' a)"

if [ ! -e /dev/kvm ]; then
	echo "1..$n # SKIP the boots: /dev/kvm is missing"
	exit 0
fi

# --- boots -----------------------------------------------------------------
check "demo greets, exit status 1" 1 --out 'hello' --out 'SUMMARY:' -- run --kernel "$G/demo.elf"
for code in 0 5 100 127; do
	check "debug-exit $code gives $(((code << 1 | 1) & 255))" $(((code << 1 | 1) & 255)) -- \
		run --kernel "$G/exitcode.elf" --append "exit=$code"
done
check "triple fault gives 4 and a register dump" 4 --err 'triple fault' --err 'rip [0-9a-f]{16}' -- \
	run --kernel "$G/triple.elf"
check "timeout gives 124" 124 --err 'wall-clock limit' -- run --kernel "$G/hang.elf" --timeout 0.3
check "spinning guest times out too" 124 -- run --kernel "$G/spin.elf" --timeout 0.3 --cpus 2
check "serial none prints nothing" 1 -- run --kernel "$G/demo.elf" --serial none
[ -s "$tmp/out" ] && { failed=$((failed + 1)); echo "not ok $((n + 1)) - serial none left output"; } || echo "ok $((n + 1)) - serial none left no output"
n=$((n + 1))
check "serial to a file" 1 -- run --kernel "$G/demo.elf" --serial "file:$tmp/serial.txt"
n=$((n + 1))
if grep -q hello "$tmp/serial.txt" 2>/dev/null; then echo "ok $n - serial file has the greeting"; else failed=$((failed + 1)); echo "not ok $n - serial file has the greeting"; fi
check "serial file in a missing directory" 126 --err-lines 1 --err 'cannot open' -- \
	run --kernel "$G/demo.elf" --serial "file:$tmp/no/such/dir"
check "modules and memory" 1 -- run --kernel "$G/exitcode.elf" --append "exit=0" \
	--initrd "$G/demo.elf" --module "$G/exitcode.elf" --memory 32M --cpus 4
for mode in split kernel; do
	check "demo with --irqchip $mode" 1 --out 'SUMMARY: [0-9]+ tests, 0 failures' -- run --kernel "$G/demo.elf" --irqchip $mode
done
check "48-pin v0x11 IOAPIC, no PIT" 1 -- run --kernel "$G/demo.elf" --ioapic-pins 48 --ioapic-version 0x11 --no-pit
check "no PICs, no RTC" 1 --out 'SUMMARY: [0-9]+ tests, 0 failures' -- \
	run --kernel "$G/demo.elf" --no-pic --no-rtc
for chip in pit pic; do
	check "--no-$chip with the kernel irqchip is refused, saying why" 126 \
		--err-lines 1 --err 'kernel irqchip: KVM.s always has' -- \
		run --kernel "$G/demo.elf" --irqchip kernel --no-$chip
done
check "--cpu with an unknown flag: a usage error naming it" 2 --err-lines 1 \
	--err "frobnicate" -- run --kernel "$G/demo.elf" --cpu qemu64,+frobnicate
check "--device with an unknown model" 2 --err-lines 1 --err "e1000" -- \
	run --kernel "$G/demo.elf" --device e1000
check "ELF64 entry with FDT" 1 --out 'SUMMARY' -- run --kernel "$G/fdt64.elf64" --cpus 2 --memory 128
check "missing kernel file" 126 --err-lines 1 --err "cannot open '/nonexistent'" -- run --kernel /nonexistent
check "kernel is a directory" 126 --err-lines 1 --err 'directory' -- run --kernel "$tmp"
printf 'garbage' >"$tmp/garbage"
check "garbage kernel" 126 --err-lines 1 --err 'kernel' -- run --kernel "$tmp/garbage"
: >"$tmp/empty"
check "empty kernel" 126 --err-lines 1 --err 'kernel' -- run --kernel "$tmp/empty"
check "missing initrd" 126 --err-lines 1 --err "module 0: cannot open" -- run --kernel "$G/demo.elf" --initrd /nonexistent

# The bad-input table of the README: each row, one clear line and its status.
head -c 1000 "$G/demo.elf" >"$tmp/truncated"
check "truncated kernel" 126 --err-lines 1 --err 'kernel' -- run --kernel "$tmp/truncated"
head -c 3145728 /dev/zero >"$tmp/big"
cat "$G/demo.elf" "$tmp/big" >"$tmp/huge.elf"
check "image larger than RAM" 126 --err-lines 1 --err 'more than the' -- run --kernel "$tmp/huge.elf" --memory 2M
python3 - "$G/fdt64.elf64" "$tmp/arm.elf" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[18:20] = (183).to_bytes(2, "little")  # e_machine = EM_AARCH64
open(sys.argv[2], "wb").write(b)
PY
check "wrong architecture" 126 --err-lines 1 --err 'machine' -- run --kernel "$tmp/arm.elf"
check "unreadable kernel" 126 --err-lines 1 --err 'cannot open' -- run --kernel /proc/self/mem/x
n=$((n + 1))
( ulimit -n 6; "$SPLITVM" run --kernel "$G/demo.elf" >"$tmp/out" 2>"$tmp/err" </dev/null )
st=$?
if [ $st = 126 ] && grep -q 'Too many open files' "$tmp/err" && [ "$(wc -l <"$tmp/err")" = 1 ]; then
	echo "ok $n - too many open files"
else
	failed=$((failed + 1)); echo "not ok $n - too many open files: status $st"; sed 's/^/# /' "$tmp/err"
fi
n=$((n + 1))
if unshare -m true 2>/dev/null; then
	unshare -m sh -c 'mount -t tmpfs none /dev && exec "$0" run --kernel "$1"' \
		"$SPLITVM" "$G/demo.elf" >"$tmp/out" 2>"$tmp/err" </dev/null
	st=$?
	if [ $st = 126 ] && grep -q 'cannot open /dev/kvm' "$tmp/err"; then
		echo "ok $n - no /dev/kvm"
	else
		failed=$((failed + 1)); echo "not ok $n - no /dev/kvm: status $st"; sed 's/^/# /' "$tmp/err"
	fi
else
	echo "ok $n - no /dev/kvm # SKIP needs root to hide /dev/kvm in a mount namespace"
fi

# A host KVM without the capabilities splitvm is built on.
for cap in split-irqchip:KVM_CAP_SPLIT_IRQCHIP immediate-exit:KVM_CAP_IMMEDIATE_EXIT; do
	n=$((n + 1))
	if [ -z "${WITHOUT_CAP:-}" ]; then
		echo "ok $n - KVM without ${cap%%:*} # SKIP built without libseccomp"
		continue
	fi
	"$WITHOUT_CAP" "${cap%%:*}" "$SPLITVM" run --kernel "$G/demo.elf" \
		>"$tmp/out" 2>"$tmp/err" </dev/null
	st=$?
	if [ $st = 126 ] && grep -q "KVM lacks ${cap#*:}" "$tmp/err" &&
		[ "$(wc -l <"$tmp/err")" = 1 ]; then
		echo "ok $n - KVM without ${cap%%:*}"
	else
		failed=$((failed + 1)); echo "not ok $n - KVM without ${cap%%:*}: status $st"; sed 's/^/# /' "$tmp/err"
	fi
done

# SIGTERM stops a running guest with status 130.
n=$((n + 1))
"$SPLITVM" run --kernel "$G/hang.elf" --serial none </dev/null >/dev/null 2>"$tmp/err" &
pid=$!
sleep 0.5
kill -TERM $pid
wait $pid
st=$?
if [ $st = 130 ]; then echo "ok $n - SIGTERM stops the guest (130)"; else failed=$((failed + 1)); echo "not ok $n - SIGTERM gave $st"; cat "$tmp/err" | sed 's/^/# /'; fi

echo "1..$n"
[ $failed = 0 ]
