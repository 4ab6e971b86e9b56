#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A/B: every interrupt-controller guest runs on splitvm's own chips
# (--irqchip split) and on KVM's (--irqchip kernel, the reference model), and
# must pass on both, with the same verdict. Guests testing what only split
# mode has (48 pins, version 0x11, the 8259A behaviours KVM's PIC departs
# from: special mask mode, poll) run there alone. Emits TAP.
set -u

# shellcheck source=tests/cli/tap.sh
. "$(dirname "$0")/tap.sh"

require_kvm

# guest  cpus  modes  extra splitvm flags  | guest command line
GUESTS='
ioapic      2   both   -                        |
pic         1   both   -                        |
nmi         2   both   -                        |
pit         1   both   -                        |
smp         4   both   -                        |
smp         16  both   -                        | x2apic=1
tour        4   both   -                        |
pic         1   split  -                        | datasheet=1
pit         1   split  -                        | datasheet=1
ioapic48    1   split  --ioapic-pins=48         |
ioapic_v11  1   split  --ioapic-version=0x11    |
'

# run NAME MODE CPUS FLAGS APPEND: the guest's status in that mode.
run() {
	local flags=()
	[ "$4" != - ] && flags=("$4")
	"$SPLITVM" run --kernel "$G/$1.elf" --irqchip "$2" --cpus "$3" \
		"${flags[@]}" --append "$5" --timeout 60 --serial "file:$tmp/$1-$2.log" \
		>/dev/null 2>"$tmp/$1-$2.err" </dev/null
}

report() { # NAME STATUS LOG
	n=$((n + 1))
	if [ "$2" = 1 ]; then
		echo "ok $n - $1"
	else
		failed=$((failed + 1))
		echo "not ok $n - $1: status $2"
		grep -E 'FAIL|SUMMARY|unexpected' "$3" 2>/dev/null | sed 's/^/# /' | head -20
		sed 's/^/# stderr: /' "${3%.log}.err" 2>/dev/null | head -5
	fi
}

while IFS='|' read -r spec append; do
	read -r name cpus modes flags <<<"$spec"
	[ -n "$name" ] || continue
	append=$(echo "$append" | xargs)
	label="$name${append:+ $append} ($cpus CPUs)"
	if [ ! -e "$G/$name.elf" ]; then
		n=$((n + 1)); failed=$((failed + 1))
		echo "not ok $n - $label: guest $name.elf was not built"
		continue
	fi
	if [ "$modes" = split ]; then
		run "$name" split "$cpus" "$flags" "$append"
		report "$label, split only" $? "$tmp/$name-split.log"
		continue
	fi
	run "$name" split "$cpus" "$flags" "$append"
	s=$?
	report "$label, split" $s "$tmp/$name-split.log"
	run "$name" kernel "$cpus" "$flags" "$append"
	k=$?
	report "$label, kernel" $k "$tmp/$name-kernel.log"
	n=$((n + 1))
	if [ $s = $k ]; then
		echo "ok $n - $label: same verdict in both modes ($s)"
	else
		failed=$((failed + 1))
		echo "not ok $n - $label: split gave $s, kernel $k"
	fi
done <<<"$GUESTS"

# NMIs from the host (splitvm_nmi through --control): the guest waits for
# three after saying it is ready, while halted with interrupts on.
for mode in split kernel; do
	n=$((n + 1))
	{
		for _ in $(seq 100); do
			grep -q 'nmi: ready' "$tmp/hostnmi-$mode.log" 2>/dev/null && break
			sleep 0.05
		done
		for _ in 1 2 3; do
			echo '{"cmd":"nmi","cpu":0}'
			sleep 0.1
		done
		sleep 5
	} | "$SPLITVM" run --kernel "$G/nmi.elf" --irqchip $mode --append host_nmi=3 \
		--control - --serial "file:$tmp/hostnmi-$mode.log" --timeout 30 \
		>"$tmp/hostnmi.out" 2>&1
	st=$?
	if [ $st = 1 ] && [ "$(grep -c '"ok":true' "$tmp/hostnmi.out")" = 3 ]; then
		echo "ok $n - three host NMIs reach the guest ($mode)"
	else
		failed=$((failed + 1))
		echo "not ok $n - host NMIs ($mode): status $st"
		sed 's/^/# /' "$tmp/hostnmi-$mode.log" | tail -5
	fi
done

# --trace: the interrupt lifecycle as JSON lines, for the tour guest.
n=$((n + 1))
"$SPLITVM" run --kernel "$G/tour.elf" --cpus 2 --trace "$tmp/trace.json" \
	--serial none --timeout 60 </dev/null >/dev/null 2>&1
st=$?
missing=""
# (a guest's own NMI IPI never leaves the kernel: no nmi event here)
for ev in line routed injected eoi redirection pic; do
	grep -q "\"event\":\"$ev\"" "$tmp/trace.json" || missing="$missing $ev"
done
bad=$(grep -cvE '^\{"t":[0-9]+,"event":"[a-z]+","cpu":-?[0-9]+,"line":-?[0-9]+,"vector":-?[0-9]+,"level":-?[0-9]+,"value":[0-9]+\}$' "$tmp/trace.json")
if [ $st = 1 ] && [ -z "$missing" ] && [ "$bad" = 0 ]; then
	echo "ok $n - --trace writes every kind of event as JSON lines"
else
	failed=$((failed + 1))
	echo "not ok $n - --trace: status $st, missing:$missing, $bad malformed lines"
fi

echo "1..$n"
[ $failed = 0 ]
