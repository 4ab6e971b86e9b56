#!/bin/bash
# SPDX-License-Identifier: MIT
# 'splitvm test': suites of guests in one process. Verdicts, TAP, JUnit
# and JSON reports, groups, jobs, shards and their merge, bad input, and
# the guests' own manifest (guests/suite.ini).
. "$(dirname "$0")/tap.sh"
require_kvm

# suite FILE: a manifest from stdin; the guests' paths are absolute.
suite() {
	cat >"$1"
}

# json FILE EXPR: python's verdict on the JSON report FILE (as r).
json() {
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$@" 2>>"$tmp/py.err"
}

# junit FILE EXPR: the same over the JUnit file's root element (as x),
# parsed by xml.etree: a file it refuses fails.
junit() {
	python3 -c 'import sys, xml.etree.ElementTree as ET
x = ET.parse(sys.argv[1]).getroot()
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$@" 2>>"$tmp/py.err"
}

# verdicts FILE: "name verdict" lines of a JSON report, sorted.
verdicts() {
	python3 -c 'import json, sys
for t in json.load(open(sys.argv[1]))["tests"]:
    print(t["name"], t["verdict"], t["outcome"], t["status"])' "$1" | sort
}

printf 'not a kernel\n' >"$tmp/junk.bin"

# A suite that passes: the ends a guest can have, a console check, and
# a console full of what XML does not take (control characters).
suite "$tmp/pass.ini" <<EOF
[defaults]
timeout = 30

[demo]
kernel = $G/demo.elf
append = <&"'> hello
groups = quick
expect-console = ^SUMMARY: [0-9]+ tests, 0 failures

[exit5]
kernel = $G/exitcode.elf
append = exit=5
expect-exit = 5
groups = quick codes

[triple]
kernel = $G/triple.elf
expect = triple-fault

[hang]
kernel = $G/hang.elf
timeout = 0.5
expect = timeout
expect-console = halting forever
EOF
run "$tmp/pass.ini" --jobs 2 --json "$tmp/pass.json" --junit "$tmp/pass.xml" \
	--log-dir "$tmp/logs"
check "a passing suite exits 0 (status $st)" [ "$st" = 0 ]
check "TAP: a plan and one ok line each" \
	bash -c "head -1 '$tmp/t.out' | grep -qx '1..4' &&
		[ \$(grep -c '^ok [0-9]* - ' '$tmp/t.out') = 4 ]"
check "JSON report: every entry, its outcome, status and verdict" \
	json "$tmp/pass.json" 'len(r["tests"]) == 4 and r["summary"]["passed"] == 4
		and {t["name"]: (t["outcome"], t["status"], t["exit_code"], t["verdict"])
		     for t in r["tests"]} == {
		"demo": ("exit", 1, 0, "pass"), "exit5": ("exit", 11, 5, "pass"),
		"triple": ("triple-fault", 4, 0, "pass"),
		"hang": ("timeout", 124, 0, "pass")}
		and all(t["duration"] >= 0 and t["log"].endswith(t["name"] + ".log")
			for t in r["tests"])'
check "JUnit: valid XML, 4 testcases, no failure, the console in system-out" \
	junit "$tmp/pass.xml" 'len(x.findall(".//testcase")) == 4
		and not x.findall(".//failure")
		and "exiting with 5" in x.find(".//testcase[@name=\"exit5\"]/system-out").text
		and "<&\"'"'"'> hello" in x.find(".//testcase[@name=\"demo\"]/system-out").text'
check "each VM has its console log" \
	grep -q "halting forever" "$tmp/logs/hang.log"

# Unmet expectations: an exit code, an outcome, a console regex; the
# allowed failure and the VM the monitor cannot make are reported, the
# others go on.
suite "$tmp/fail.ini" <<EOF
[wrong-code]
kernel = $G/exitcode.elf
append = exit=3
expect-exit = 4

[wrong-console]
kernel = $G/exitcode.elf
expect-console = ^no such line$

[allowed]
kernel = $G/exitcode.elf
append = exit=1
allow-fail = true

[not-a-kernel]
kernel = $tmp/junk.bin

[fine]
kernel = $G/exitcode.elf
EOF
run "$tmp/fail.ini" --jobs 2 --json "$tmp/fail.json" --junit "$tmp/fail.xml"
check "unmet expectations: status 1 (status $st)" [ "$st" = 1 ]
check "TAP: not ok with the reason, TODO for the allowed failure" \
	bash -c "grep -q '^not ok [0-9]* - wrong-code # expected exit 4, got exit 3' '$tmp/t.out' &&
		grep -q '^not ok [0-9]* - wrong-console # the console does not match' '$tmp/t.out' &&
		grep -q '^not ok [0-9]* - allowed # TODO allowed to fail' '$tmp/t.out' &&
		grep -q '^ok [0-9]* - fine$' '$tmp/t.out'"
check "a kernel that is not one: that entry fails with status 126, the rest run" \
	json "$tmp/fail.json" '{t["name"]: (t["verdict"], t["status"]) for t in r["tests"]} == {
		"wrong-code": ("fail", 7), "wrong-console": ("fail", 1),
		"allowed": ("allowed-fail", 3), "not-a-kernel": ("fail", 126),
		"fine": ("pass", 1)}
		and "not a recognised kernel image" in
			[t for t in r["tests"] if t["name"] == "not-a-kernel"][0]["reason"]'
check "JUnit: 3 failures, the allowed one skipped" \
	junit "$tmp/fail.xml" 'len(x.findall(".//failure")) == 3
		and len(x.findall(".//skipped")) == 1
		and x.find("testsuite").get("failures") == "3"'
check "the report lands next to its logs by default" \
	[ -s "$tmp/splitvm-test-logs/fine.log" ]

# Groups and --list.
run "$tmp/pass.ini" --list --group quick
check "--group quick --list: the entries of that group" \
	bash -c "[ \"\$(cat '$tmp/t.out')\" = \"\$(printf 'demo\nexit5')\" ]"
run "$tmp/pass.ini" --group codes --json "$tmp/g.json"
check "--group codes runs exit5 alone (status $st)" \
	json "$tmp/g.json" '[t["name"] for t in r["tests"]] == ["exit5"]'

# --jobs 1 and 2 give the same verdicts.
run "$tmp/fail.ini" --jobs 1 --json "$tmp/fail1.json"
check "--jobs 1 and --jobs 2: the same verdicts, outcomes and statuses" \
	[ "$(verdicts "$tmp/fail1.json")" = "$(verdicts "$tmp/fail.json")" ]

# Shards: four of them cover the suite once, balanced by the durations
# of an earlier run, and their reports merge.
{
	for i in $(seq 1 10); do
		printf '[e%02d]\nkernel = %s\nappend = exit=%d\nexpect-exit = %d\n' \
			"$i" "$G/exitcode.elf" "$i" "$i"
	done
} >"$tmp/shard.ini"
"$SPLITVM" test "$tmp/shard.ini" --list | sort >"$tmp/all.list"
for i in 1 2 3 4; do
	"$SPLITVM" test "$tmp/shard.ini" --list --shard "$i/4" \
		--durations "$tmp/fail.json" >"$tmp/s$i.list"
done
check "4 shards: together every entry, none twice" \
	bash -c "cat '$tmp'/s[1-4].list | sort | diff - '$tmp/all.list' >/dev/null &&
		[ \$(cat '$tmp'/s[1-4].list | sort | uniq -d | wc -l) = 0 ]"
check "4 shards: balanced (10 entries: 3, 3, 2, 2)" \
	bash -c "[ \"\$(wc -l <'$tmp/s1.list') \$(wc -l <'$tmp/s2.list') \$(wc -l <'$tmp/s3.list') \$(wc -l <'$tmp/s4.list')\" = '3 3 2 2' ]"
for i in 1 2 3 4; do
	run "$tmp/shard.ini" --shard "$i/4" --json "$tmp/s$i.json"
done
run --merge --json "$tmp/merged.json" --junit "$tmp/merged.xml" \
	"$tmp"/s[1-4].json
check "--merge: status 0, all 10 entries once, all passed" \
	json "$tmp/merged.json" 'sorted(t["name"] for t in r["tests"]) ==
		["e%02d" % i for i in range(1, 11)]
		and r["summary"]["passed"] == 10'
check "--merge: the JUnit report holds the 10 testcases" \
	junit "$tmp/merged.xml" 'len(x.findall(".//testcase")) == 10'
run --merge --json "$tmp/m2.json" "$tmp/s1.json" "$tmp/s1.json"
check "--merge: the same shard twice is refused (status $st)" \
	bash -c "[ $st = 2 ] && grep -q \"s1.json: test 1: 'e.*' is a test already read\" '$tmp/t.err'"
# Durations steer the shards: the known long entry is alone in its shard.
python3 -c 'import json, sys
json.dump({"tests": [{"name": "e07", "verdict": "pass", "duration": 100.0}] +
	[{"name": "e%02d" % i, "verdict": "pass", "duration": 1.0}
	 for i in range(1, 11) if i != 7]}, open(sys.argv[1], "w"))' "$tmp/dur.json"
"$SPLITVM" test "$tmp/shard.ini" --list --shard 1/4 --durations "$tmp/dur.json" \
	>"$tmp/d1.list"
check "--durations: the longest entry has shard 1 to itself" \
	[ "$(cat "$tmp/d1.list")" = e07 ]

# Bad input: one line naming the file and the line, status 2.
# bad NAME EXPECTED-MESSAGE-REGEX: the manifest from stdin.
bad() {
	local name=$1 pattern=$2
	cat >"$tmp/bad.ini"
	run "$tmp/bad.ini"
	if [ "$st" = 2 ] && [ "$(wc -l <"$tmp/t.err")" = 1 ] &&
		grep -Eq "^splitvm: $tmp/bad.ini:$pattern" "$tmp/t.err"; then
		ok "bad input: $name"
	else
		not_ok "bad input: $name (status $st: $(cat "$tmp/t.err"))"
	fi
}
bad "a syntax error" "3: not a \[section\]" <<EOF
[a]
kernel = $G/demo.elf
this line has no value
EOF
bad "an unknown key" "3: unknown key 'kernal' in \[a\]" <<EOF
[a]
kernel = $G/demo.elf
kernal = x
EOF
bad "a missing kernel file" "2: kernel '/nonexistent.elf': No such file" <<EOF
[a]
kernel = /nonexistent.elf
EOF
bad "an entry without a kernel" "1: \[a\] has no kernel" <<EOF
[a]
append = x
EOF
bad "a duplicate name" "4: \[a\] is there twice \(first at line 1\)" <<EOF
[a]
kernel = $G/demo.elf

[a]
kernel = $G/demo.elf
EOF
bad "a key given twice" "3: 'cpus' is given twice" <<EOF
[a]
cpus = 1
cpus = 2
EOF
bad "a value out of range" "3: cpus: '0' is not a number from 1 to 255" <<EOF
[a]
kernel = $G/demo.elf
cpus = 0
EOF
bad "a bad regular expression" "2: expect-console: /\(/" <<EOF
[a]
expect-console = (
kernel = $G/demo.elf
EOF
bad "an unknown outcome" "2: expect: 'happy' is not" <<EOF
[a]
expect = happy
kernel = $G/demo.elf
EOF
bad "a bad --cpu spec" "2: cpu 'qemu64,\\+nosuchflag': 'nosuchflag' is not" <<EOF
[a]
cpu = qemu64,+nosuchflag
kernel = $G/demo.elf
EOF
bad "a key outside any section" "1: 'kernel' outside any \[section\]" <<EOF
kernel = $G/demo.elf
EOF
bad "a line longer than libinih takes" "2: a line longer than" <<EOF
[a]
append = $(printf 'x%.0s' $(seq 300))
kernel = $G/demo.elf
EOF
bad "a default that is wrong" "2: timeout: 'soon'" <<EOF
[defaults]
timeout = soon
[a]
kernel = $G/demo.elf
EOF
printf '' >"$tmp/empty.ini"
run "$tmp/empty.ini"
check "bad input: an empty manifest (status $st)" \
	bash -c "[ $st = 2 ] && grep -q '^splitvm: $tmp/empty.ini: no entries' '$tmp/t.err'"
run "$tmp/nonexistent.ini"
check "bad input: no such manifest (status $st)" \
	bash -c "[ $st = 2 ] && grep -q 'nonexistent.ini: cannot open the manifest' '$tmp/t.err'"
for spec in 0/4 5/4 1/0 x 1/ /4 1/4x 1/1001; do
	run "$tmp/pass.ini" --shard "$spec"
	check "bad input: --shard $spec (status $st)" \
		bash -c "[ $st = 2 ] && grep -q \"^splitvm: --shard: '$spec' is not I/N\" '$tmp/t.err'"
done
printf '{"tests": [1,\n' >"$tmp/broken.json"
run --merge --json "$tmp/x.json" "$tmp/broken.json"
check "bad input: a JSON report cut off (status $st)" \
	bash -c "[ $st = 2 ] && grep -q '^splitvm: $tmp/broken.json:2: ' '$tmp/t.err'"
run "$tmp/pass.ini" --group nosuchgroup
check "bad input: a group no entry has (status $st)" [ "$st" = 2 ]

# Manifest text that is not UTF-8 or holds control characters (here a
# console regex) and a failing entry: both reports stay well formed, and
# no TAP line gains a directive (a "# TODO" would hide a failure).
printf '[odd]\nkernel = %s\nexpect-console = PASS\377|hello\001\n' \
	"$G/demo.elf" >"$tmp/odd.ini"
run "$tmp/odd.ini" --json "$tmp/odd.json" --junit "$tmp/odd.xml"
check "odd bytes in a manifest: both reports written (status $st)" \
	bash -c "[ $st = 0 ] || [ $st = 1 ]"
check "... the JSON report is valid" json "$tmp/odd.json" 'len(r["tests"]) == 1'
check "... the JUnit report is valid" junit "$tmp/odd.xml" 'len(x.findall(".//testcase")) == 1'
suite "$tmp/hash.ini" <<EOF
[hash]
kernel = $G/exitcode.elf
append = exit=3
expect-exit = 4
EOF
run "$tmp/hash.ini"
check "a failing entry's TAP line has no directive (status $st)" \
	bash -c "[ $st = 1 ] && grep -q '^not ok 1 - hash' '$tmp/t.out' &&
		! grep -E '^not ok 1 [^#]*# *(TODO|SKIP)' '$tmp/t.out'"

# A signal while the suite runs: the rest is not run, status 130.
suite "$tmp/long.ini" <<EOF
[a]
kernel = $G/hang.elf
expect = timeout
timeout = 20
[b]
kernel = $G/hang.elf
expect = timeout
timeout = 20
EOF
"$SPLITVM" test "$tmp/long.ini" --jobs 1 --json "$tmp/long.json" \
	>"$tmp/t.out" 2>"$tmp/t.err" </dev/null &
pid=$!
await_handler $pid 15
sleep 1
kill -TERM $pid
wait $pid
st=$?
check "SIGTERM during a suite: status 130, the rest not run" \
	bash -c "[ $st = 130 ] && grep -q 'not-run' '$tmp/long.json'"

# The guests' own manifest: every guest with its arguments and outcome.
if [ -f "$G/suite.ini" ]; then
	run "$G/suite.ini" --jobs 2 --json "$tmp/guests.json" \
		--junit "$tmp/guests.xml"
	check "guests/suite.ini: every guest meets its expectation (status $st)" \
		[ "$st" = 0 ]
	check "guests/suite.ini lists every guest built" \
		python3 -c 'import json, os, sys
names = {os.path.splitext(f)[0] for f in os.listdir(sys.argv[1])
	 if f.endswith((".elf", ".pvh", ".elf64"))}
kernels = set()
for line in open(sys.argv[1] + "/suite.ini"):
    if line.startswith("kernel"):
        kernels.add(os.path.splitext(line.split("=")[1].strip())[0])
sys.exit(0 if names <= kernels else (print(names - kernels), 1)[1])' "$G"
else
	ok "guests/suite.ini # SKIP not built beside the guests"
fi

echo "1..$n"
[ "$failed" = 0 ]
