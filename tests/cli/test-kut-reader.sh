#!/bin/bash
# SPDX-License-Identifier: MIT
# 'splitvm test --kvm-unit-tests DIR' on a made-up tree (CI cannot fetch
# kvm-unit-tests): a config.mak, an x86/unittests.cfg written here, and
# the project's guests as its x86/*.flat. The QEMU parameters' translation
# (seen by the demo guest: RAM, CPUs, command line), run_tests.sh's
# verdicts from the exit status and the console, and its SKIP rules
# (arch, nodefault, check=, accel, a missing file, a command line the
# front end refuses), timeouts, groups, and trees that are not built.
. "$(dirname "$0")/tap.sh"
require_kvm

# tap NAME REGEX: the TAP line of entry NAME matches REGEX (grep -E).
tap() {
	grep -E "^(not )?ok [0-9]+ - $1( |\$)" "$tmp/t.out" | grep -qE "$2"
}

json() {
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
t = {c["name"]: c for c in r["tests"]}
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$@" 2>>"$tmp/py.err"
}

tree=$tmp/kut
mkdir -p "$tree/x86"
echo "ARCH=x86_64" >"$tree/config.mak"
for g in demo exitcode hang; do
	cp "$G/$g.elf" "$tree/x86/$g.flat"
done
echo N >"$tmp/param_n"
echo Y >"$tmp/param_y"
cat >"$tree/x86/unittests.cfg" <<EOF
# A made-up x86/unittests.cfg: keys as kvm-unit-tests writes them.
[translated]
file = demo.flat
smp = 2
test_args = 'hello  world'
qemu_params = -m 256 -cpu qemu64,+x2apic
groups = quick

[multiline]
file = demo.flat
extra_params = """-m 96 \\
  -cpu qemu64"""

[clock]
file = demo.flat
test_args = "10000000 \`date +%s\`"

[skipped_by_guest]
file = exitcode.flat
test_args = exit=38

[failed_by_guest]
file = exitcode.flat
test_args = "exit=1"

[i386_only]
file = demo.flat
arch = i386

[manual]
file = demo.flat
groups = nodefault quick

[check_no]
file = demo.flat
check = $tmp/param_y=Y $tmp/param_n=Y

[check_yes]
file = demo.flat
check = $tmp/param_y=Y

[tcg_only]
file = demo.flat
accel = tcg

[no_file]
file = nosuch.flat

[refused_device]
file = demo.flat
qemu_params = -device hyperv-testdev

[refused_cpu]
file = demo.flat
qemu_params = -cpu nosuchmodel

[hangs]
file = hang.flat
timeout = 1s

[shell]
file = demo.flat
test_args = "x \`rm -rf /\`"
EOF

ACCEL='' TIMEOUT='' CHECK='' MACHINE='' run --kvm-unit-tests "$tree" --json "$tmp/r.json" --junit "$tmp/r.xml"
check "a failing entry: status 1" [ "$st" = 1 ]
check "the plan holds every entry" grep -qx '1\.\.15' "$tmp/t.out"
check "PASS with run_tests.sh's summary" tap translated '^ok .* \(4 tests, 0 failures\)$'
check "-smp 2 -m 256 and -append reach the guest as QEMU's" \
	grep -q "256 MiB of RAM, 2 CPUs, command line \"$tree/x86/demo.flat hello  world\"" \
	"$tmp/splitvm-test-logs/translated.log"
check "extra_params over lines (\"\"\" and backslash-newline)" \
	grep -q "96 MiB of RAM, 1 CPU," "$tmp/splitvm-test-logs/multiline.log"
check "\`date +%s\` in test_args is the time" \
	grep -qE 'demo.flat 10000000 [0-9]{10}"' "$tmp/splitvm-test-logs/clock.log"
check "debug-exit status 77: SKIP" tap skipped_by_guest '^ok .* # SKIP'
check "debug-exit status 3: FAIL" tap failed_by_guest '^not ok '
check "arch = i386: SKIP (i386 only)" tap i386_only '^ok .* # SKIP i386 only$'
check "groups = nodefault: SKIP (manual run only)" \
	tap manual '# SKIP test marked as manual run only$'
check "check = PATH=Y: SKIP when a file differs" \
	tap check_no "# SKIP $tmp/param_n not equal to Y\$"
check "check = PATH=Y: runs when every file holds it" tap check_yes '^ok .*\(4 tests'
check "accel = tcg: SKIP" tap tcg_only '^ok .* # SKIP tcg only'
check "a missing file: SKIP" tap no_file "# SKIP Test file 'x86/nosuch.flat' not found\$"
check "a device the front end refuses: SKIP with its line" \
	tap refused_device "# SKIP splitvm: .*hyperv-testdev"
check "a CPU model splitvm lacks: SKIP with the --cpu line" \
	tap refused_cpu "# SKIP splitvm: --cpu 'nosuchmodel'"
check "timeout = 1s: FAIL (timeout; duration=1s)" \
	tap hangs '^not ok .* \(timeout; duration=1s\)$'
check "shell it does not evaluate: FAIL, nothing run" \
	tap shell "^not ok .*command substitution 'rm -rf /' is not evaluated"
check "JSON: verdicts, summaries, SKIP count" json "$tmp/r.json" \
	'r["summary"]["skipped"] == 8 and r["summary"]["passed"] == 4 and
	 r["summary"]["failed"] == 3 and t["manual"]["verdict"] == "skip" and
	 t["translated"]["summary"] == "4 tests, 0 failures" and
	 t["hangs"]["summary"] == "timeout; duration=1s" and
	 t["i386_only"]["log"] is None'
check "JUnit: SKIPs as skipped with their reason" python3 -c '
import sys, xml.etree.ElementTree as ET
x = ET.parse(sys.argv[1]).getroot()
s = x.find("testsuite")
c = {e.get("name"): e for e in s.iter("testcase")}
sys.exit(0 if s.get("skipped") == "8" and s.get("name") == "kvm-unit-tests"
         and c["i386_only"].find("skipped").get("message") == "i386 only"
         else 1)' "$tmp/r.xml"

# run_tests.sh -g: the group's nodefault entries run; names as its
# arguments; TIMEOUT from the environment.
run --kvm-unit-tests "$tree" --group quick --log-dir "$tmp/g"
check "--group quick: the nodefault entry runs" tap manual '^ok .*\(4 tests'
check "--group quick: only its entries" grep -qx '1\.\.2' "$tmp/t.out"
TIMEOUT=2 run --kvm-unit-tests "$tree" hangs failed_by_guest --log-dir "$tmp/n"
check "entry names: only those; TIMEOUT overrides the cfg" \
	sh -c "grep -qx '1\.\.2' '$tmp/t.out' && grep -q 'hangs (timeout; duration=2)' '$tmp/t.out'"
CHECK="$tmp/param_y=Y" run --kvm-unit-tests "$tree" check_no --log-dir "$tmp/c"
check "CHECK overrides check =" tap check_no '^ok .*\(4 tests'
ACCEL=tcg run --kvm-unit-tests "$tree" tcg_only translated --log-dir "$tmp/a"
check "ACCEL=tcg: the tcg entry is not skipped by accel, the front end refuses tcg" \
	sh -c "grep -q 'tcg_only # SKIP splitvm: ' '$tmp/t.out' && grep -q 'translated # SKIP splitvm: ' '$tmp/t.out'"
run --kvm-unit-tests "$tree" --list
check "--list: every name, in order" \
	sh -c "[ \$(wc -l <'$tmp/t.out') = 15 ] && head -1 '$tmp/t.out' | grep -qx translated"

# Bad trees and configurations: one line, status 2, nothing run.
bad() {
	local name=$1 want=$2
	shift 2
	run "$@"
	if [ "$st" = 2 ] && [ "$(wc -l <"$tmp/t.err")" = 1 ] &&
		grep -qE "$want" "$tmp/t.err" && ! [ -s "$tmp/t.out" ]; then
		ok "$name"
	else
		not_ok "$name (status $st)"
	fi
}
bad "no such directory" "No such file or directory" --kvm-unit-tests "$tmp/nowhere"
mkdir -p "$tmp/empty"
bad "no x86/unittests.cfg" "is not a kvm-unit-tests tree \(no x86/unittests.cfg\)" \
	--kvm-unit-tests "$tmp/empty"
mkdir -p "$tmp/unbuilt/x86"
cp "$tree/x86/unittests.cfg" "$tmp/unbuilt/x86/"
bad "not configured (no config.mak)" "is not configured" --kvm-unit-tests "$tmp/unbuilt"
cp "$tree/config.mak" "$tmp/unbuilt/"
bad "not built (no x86/*.flat)" "is not built \(no x86/\*\.flat\): run 'make'" \
	--kvm-unit-tests "$tmp/unbuilt"
# bad_cfg NAME TEXT WANT: the tree's configuration with TEXT appended.
bad_cfg() {
	rm -rf "$tmp/bad"
	cp -r "$tree" "$tmp/bad"
	printf "$2" >>"$tmp/bad/x86/unittests.cfg"
	bad "$1" "$3" --kvm-unit-tests "$tmp/bad"
}
bad_cfg "a section twice: file and line" '[translated]\nfile = demo.flat\n' \
	"unittests.cfg:64: \\[translated\\] is there twice"
bad_cfg "a name that is no file name" '[a/b]\nfile = demo.flat\n' \
	"unittests.cfg:64: \\[a/b\\]: a name is"
bad_cfg "an unterminated \"\"\"" '[u]\nfile = demo.flat\nqemu_params = """-m 64\n' \
	"unittests.cfg:66: a \"\"\" without its end"
bad "an entry name it lacks" "'nosuch': no entry" --kvm-unit-tests "$tree" nosuch

echo "1..$n"
[ "$failed" = 0 ]
