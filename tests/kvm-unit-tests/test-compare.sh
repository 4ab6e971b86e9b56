#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# compare.sh and bench/kut/report.py against a fake kvm-unit-tests tree:
# its run_tests.sh is a stub that prints result lines and logs as the real
# one does, and the two "VMMs" are scripts that answer the runner's probes.
# Checks the verdict parsing, the allow-list, subsets, the saved-verdict
# mode, the conversion, and the refusals (status 2). No guest runs and
# kvm-unit-tests is not needed, but compare.sh skips without /dev/kvm,
# so this does too. Emits TAP.
# The checks are eval'd strings, expanded when they run:
# shellcheck disable=SC2016
set -u
here=$(cd "$(dirname "$0")" && pwd)
compare=$here/compare.sh
report=$here/../../bench/kut/report.py
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
n=0
failed=0

if [ ! -c /dev/kvm ]; then
	echo "1..0 # SKIP /dev/kvm is missing (compare.sh skips without it)"
	exit 77
fi

check() { # LABEL COMMAND...: ok if the command succeeds
	local label=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $label"
	else
		failed=$((failed + 1))
		echo "not ok $n - $label"
		for f in "$tmp"/out "$tmp"/err; do
			[ -s "$f" ] && sed "s|^|# ${f##*/}: |" "$f" | tail -15
		done
	fi
	return 0
}
has() { grep -qE -- "$1" "$tmp/out"; }
hasnt() { ! grep -qE -- "$1" "$tmp/out"; }
err_has() { grep -qE -- "$1" "$tmp/err"; }

# The fake tree: three x86_64 entries and an i386 one (whose kernel is
# never built, as on x86_64).
tree=$tmp/kut
mkdir -p "$tree/x86" "$tmp/bin"
printf 'ARCH=x86_64\nTEST_DIR=x86\n' >"$tree/config.mak"
echo fake1234 >"$tree/build-head"
cat >"$tree/x86/unittests.cfg" <<'EOF'
[same]
file = a.flat
[allowed]
file = b.flat
arch = x86_64
[differs]
file = c.flat
[old]
file = old.flat
arch = i386
EOF
touch "$tree/x86/a.flat" "$tree/x86/b.flat" "$tree/x86/c.flat"
# The stub runner: under splitvm (its -version names splitvm) "allowed"
# passes and "differs" fails; under QEMU the other way round.
cat >"$tree/run_tests.sh" <<'EOF'
#!/usr/bin/env bash
mkdir "$unittest_log_dir" || exit 2
sleep 0.2  # a wall time to measure
if $QEMU -version | grep -q splitvm; then
	v=(PASS PASS FAIL)
else
	v=(PASS FAIL PASS)
fi
names=" "
for a; do [ "$a" = -v ] || names+="$a "; done
i=0
for t in same allowed differs old; do
	[ "$names" != " " ] && [[ "$names" != *" $t "* ]] && { i=$((i + 1)); continue; }
	if [ $t = old ]; then
		printf '\e[33mSKIP\e[0m old (i386 only)\n'
		continue
	fi
	echo "TESTNAME=$t TIMEOUT=90s MACHINE= ACCEL=$ACCEL ./x86/run x86/$t.flat"
	case ${v[$i]} in
	PASS) printf '\e[32mPASS\e[0m %s (1 tests)\n' $t
	      echo "PASS: check $t" >"$unittest_log_dir/$t.log" ;;
	FAIL) printf '\e[31mFAIL\e[0m %s (2 tests, 1 unexpected failures)\n' $t
	      printf 'PASS: one\nFAIL: check %s\n' $t >"$unittest_log_dir/$t.log" ;;
	esac
	i=$((i + 1))
done
EOF
chmod +x "$tree/run_tests.sh"
for vmm in splitvm qemu; do
	if [ $vmm = splitvm ]; then
		ver="QEMU emulator version 7.2.0 (splitvm 0.1.0)"
	else
		ver="QEMU emulator version 7.2.22 (fake)"
	fi
	cat >"$tmp/bin/$vmm" <<EOF
#!/bin/sh
echo "$ver"
EOF
	chmod +x "$tmp/bin/$vmm"
done
printf '# comment\nallowed  PASS  FAIL  splitvm passes, QEMU times out\n' \
	>"$tmp/allow.txt"
run() { # run compare.sh with the fakes; status in $rc
	KVM_UNIT_TESTS=$tree KUT_SPLITVM=$tmp/bin/splitvm KUT_QEMU=$tmp/bin/qemu \
		KUT_TESTS='' KUT_SPLITVM_ONLY='' KUT_QEMU_VERDICTS='' KUT_OUT='' \
		bash "$compare" --allow "$tmp/allow.txt" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

run --out "$tmp/o1" --save-qemu-verdicts "$tmp/q.txt"
check "both VMMs: status 1 with one unexpected difference" [ $rc = 1 ]
check "same verdicts: ok" has '^ok 1 - same: splitvm PASS \(1 tests\), qemu PASS \(1 tests\)$'
check "a listed difference: ok with its reason" \
	has '^ok 2 - allowed: splitvm PASS .*qemu FAIL .* # allowed: splitvm passes, QEMU times out$'
check "an unlisted difference: not ok" has '^not ok 3 - differs: splitvm FAIL .*, qemu PASS'
check "the checks that fail on one side only" has '^#   only splitvm FAILs: check differs$'
check "an i386 entry: both SKIP, ok" has '^ok 4 - old: splitvm SKIP \(i386 only\), qemu SKIP'
check "the plan" has '^1\.\.4$'
check "both wall times and the ratio" has '^# wall time: splitvm [0-9.]+ s; qemu [0-9.]+ s$'
check "the ratio" has '^# wall time ratio splitvm/qemu: [0-9.]+$'
check "the verdict counts" has '^# verdicts: splitvm 2 PASS, 1 FAIL, 1 SKIP; qemu 2 PASS, 1 FAIL, 1 SKIP$'
check "each run its own log dir outside the tree" \
	test -f "$tmp/o1/splitvm/logs/same.log" -a -f "$tmp/o1/qemu/logs/same.log" -a ! -e "$tree/logs"
check "splitvm ran from a copy" grep -q "^# binary: $tmp/o1/bin/qemu-system-x86_64$" "$tmp/o1/splitvm/verdicts.txt"
check "progress on stderr" err_has '^\[qemu\] FAIL allowed \(2 tests, 1 unexpected failures\)$'
check "QEMU's verdicts saved" grep -q '^FAIL allowed (2 tests, 1 unexpected failures)$' "$tmp/q.txt"

run --out "$tmp/o2" -- same allowed
check "a subset through '--': status 0" [ $rc = 0 ]
check "a subset: only its entries" has '^1\.\.2$'
run --out "$tmp/o3" --splitvm-only --qemu-verdicts "$tmp/q.txt"
check "--splitvm-only against saved verdicts: the same lines" \
	has '^not ok 3 - differs: splitvm FAIL .*, qemu PASS'
check "--splitvm-only runs no QEMU" test ! -e "$tmp/o3/qemu"
check "--splitvm-only: the saved run's wall time" has '^# wall time: splitvm [0-9.]+ s \(this run\); qemu [0-9.]+ s \(the saved run'
run --out "$tmp/o4" --splitvm-only --qemu-verdicts "$tmp/q.txt" -- same
check "--splitvm-only with a subset: status 0, one entry" \
	eval '[ $rc = 0 ] && has "^1\.\.1$"'
check "a subset against a whole saved run: no ratio" hasnt 'ratio'
run --out "$tmp/o5" -- same nosuchentry
check "a name that gives no verdict is named" has "^# warning: no verdict for 'nosuchentry'"
run --out "$tmp/o6" -- nosuchentry
check "no verdict at all: not ok" eval '[ $rc = 1 ] && has "^not ok 1 - run_tests.sh gave no verdict under splitvm"'

# The conversion of a saved runner output.
{
	printf 'TESTNAME=same ...\n\e[32mPASS\e[0m same (1 tests)\r\n'
	printf '\e[33mSKIP\e[0m old (i386 only)\n'
} >"$tmp/run_tests.out"
printf '\nreal\t2m3.500s\nuser\t0m1.0s\n' >"$tmp/run_tests.err"
KUT_QEMU=$tmp/bin/qemu bash "$compare" --convert "$tmp/run_tests.out" >"$tmp/out" 2>"$tmp/err"
check "--convert: the verdicts without colours" has '^PASS same \(1 tests\)$'
check "--convert: the wall time from time(1)'s line" has '^# wall: 123\.5$'
check "--convert: QEMU's version" has '^# version: QEMU emulator version 7\.2\.22 \(fake\)$'

# Refusals.
run --out "$tmp/o7" "$tmp/nothere"
check "no such tree: status 2" eval '[ $rc = 2 ] && err_has "nothere: no such directory"'
mv "$tree/x86/c.flat" "$tmp/"
run --out "$tmp/o7"
check "a test kernel missing: status 2, named" eval '[ $rc = 2 ] && err_has "not built \(missing x86/: c\.flat\)"'
mv "$tmp/c.flat" "$tree/x86/"
mv "$tree/config.mak" "$tmp/"
run --out "$tmp/o7"
check "not configured: status 2" eval '[ $rc = 2 ] && err_has "is not built: run .\./configure && make. in it"'
mv "$tmp/config.mak" "$tree/"
run --out "$tmp/o7" --splitvm-only --qemu-verdicts "$tmp/none.txt"
check "--splitvm-only without saved verdicts: status 2" eval '[ $rc = 2 ] && err_has "no saved QEMU verdicts"'
run --out "$tmp/o7" --qemu "$tmp/bin/splitvm"
check "splitvm given as QEMU: status 2" eval '[ $rc = 2 ] && err_has "front end, not QEMU"'
run --out "$tmp/o7" --splitvm "$tmp/bin/nothere"
check "no splitvm binary: status 2" eval '[ $rc = 2 ] && err_has "missing or not executable"'

# bench/kut/run's report from the first comparison.
# shellcheck source=tests/kvm-unit-tests/kut-lib.sh
. "$here/kut-lib.sh"
kut_compare "$tmp/o1/splitvm/verdicts.txt" "$tmp/o1/qemu/verdicts.txt" \
	"$tmp/allow.txt" 1 >"$tmp/o1/compare.tap"
python3 "$report" --splitvm "$tmp/o1/splitvm/verdicts.txt" \
	--qemu "$tmp/o1/qemu/verdicts.txt" --compare "$tmp/o1/compare.tap" \
	--out "$tmp/o1" >"$tmp/out" 2>"$tmp/err"
check "report: the table" has '^\| PASS \| 2 \| 2 \|$'
check "report: the differing entries" has '^\| differs \| FAIL \| PASS \| \*\*not in the allow-list\*\* \|$'
check "report: well-formed JSON with both wall times" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["splitvm"]["wall_s"] is not None and r["qemu"]["wall_s"] is not None
assert r["differences"] == {"same": 2, "allowed": 1, "unexpected": 1}, r["differences"]
assert r["splitvm"]["counts"] == {"PASS": 2, "FAIL": 1, "SKIP": 1}
' "$tmp/o1/results.json"
python3 "$report" --table "$tmp/o1/results.json" >"$tmp/out" 2>"$tmp/err"
check "report --table prints it again" has '^\| wall time of run_tests.sh \(s\) \| [0-9.]+ \| [0-9.]+ \|$'

echo "1..$n"
[ $failed = 0 ]
