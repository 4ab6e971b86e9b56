#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile guests: splitvm must stay up, use bounded memory and report how
# each run ended, whatever the guest does. Emits TAP.
set -u

SPLITVM=${SPLITVM:-build/splitvm}
G=${SPLITVM_GUESTS:-build/guests}
n=0
failed=0

if [ ! -e /dev/kvm ]; then
	echo "1..0 # SKIP /dev/kvm is missing"
	exit 77
fi

# run NAME ALLOWED_STATUSES ARGS...: the run must end with one of the
# statuses (a guest verdict or outcome, never 126, a monitor failure) and
# peak RSS under 100 MiB (64 MiB of guest RAM at most, plus the monitor).
run() {
	local name=$1 allowed=$2
	shift 2
	n=$((n + 1))
	python3 - "$SPLITVM" run "$@" <<'PY' >/tmp/hostile.$$ 2>&1
import resource, subprocess, sys
st = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL).returncode
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(st, rss)
PY
	read -r st rss </tmp/hostile.$$
	if [[ " $allowed " == *" $st "* ]] && [ "$rss" -lt 102400 ]; then
		echo "ok $n - $name: status $st, peak RSS $((rss / 1024)) MiB"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name: status $st, peak RSS ${rss} KiB"
		sed 's/^/# /' /tmp/hostile.$$ | head -10
	fi
	rm -f /tmp/hostile.$$
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
# The other hostile outcomes.
run "triple fault" "4" --kernel "$G/triple.elf" --serial none --timeout 60
run "endless loop with IF=0 ends at the timeout" "124" \
	--kernel "$G/spin.elf" --serial none --timeout 1
run "halt with IF=0 ends at the timeout" "124" \
	--kernel "$G/hang.elf" --serial none --timeout 1

echo "1..$n"
[ $failed = 0 ]
