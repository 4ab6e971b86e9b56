#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Scripting splitvm through --control (stdin and a Unix socket) and
# --result-json, as a test harness written in shell would. Emits TAP.
set -u

# shellcheck source=tests/cli/tap.sh
. "$(dirname "$0")/tap.sh"

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
	[ -f "$tmp/out" ] && sed 's/^/# out: /' "$tmp/out" | head -20
	[ -f "$tmp/err" ] && sed 's/^/# err: /' "$tmp/err" | head -10
}
expect() { # NAME FILE PATTERN: FILE has a line matching PATTERN
	if grep -qE -- "$3" "$2"; then ok "$1"; else not_ok "$1"; fi
}

require_kvm

# Commands on stdin, answers on stdout; the guest halts for ever, so only
# quit ends the run (status 130, as a stop).
{
	sleep 0.3
	printf '%s\n' '{"cmd":"stats"}' '{"cmd":"irq","line":20,"level":1}' \
		'{"cmd":"irq","line":99,"level":1}' '{"cmd":"pulse","line":3}' \
		'{"cmd":"pause"}' '{"cmd":"pause"}' '{"cmd":"resume"}' \
		'{"cmd":"state"}' '{"cmd":"msi","address":"0xfee00000","data":240}' \
		'{"cmd":"sipi","cpu":1,"vector":16}' '{"cmd":"init"}' \
		'{"cmd":"fly"}' 'garbage' "{\"cmd\":\"$(head -c 3000 /dev/zero | tr '\0' x)\"}" \
		'{"cmd":"quit"}'
	sleep 2
} | "$SPLITVM" run --kernel "$G/hang.elf" --cpus 2 --control - \
	--result-json "$tmp/result.json" >"$tmp/out" 2>"$tmp/err"
st=$?
[ $st = 130 ] && ok "quit stops the VM (status 130)" || not_ok "quit gave status $st"
expect "stats answers with counters" "$tmp/out" '^\{"ok":true,"cmd":"stats","stats":\{"exits_io":[0-9]+'
expect "irq sets a line" "$tmp/out" '^\{"ok":true,"cmd":"irq"\}$'
expect "irq on a missing line is refused" "$tmp/out" '^\{"ok":false,"cmd":"irq","code":"EINVAL","error":"Invalid argument"\}$'
expect "pulse" "$tmp/out" '^\{"ok":true,"cmd":"pulse"\}$'
expect "pause" "$tmp/out" '^\{"ok":true,"cmd":"pause"\}$'
expect "a second pause says so" "$tmp/out" '^\{"ok":false,"cmd":"pause","code":"EALREADY","error":"Operation already in progress"\}$'
expect "resume" "$tmp/out" '^\{"ok":true,"cmd":"resume"\}$'
expect "state shows line 20 high and the IOAPIC version" "$tmp/out" '"version":1507360,.*"lines":\[(0,){20}1,'
expect "msi" "$tmp/out" '^\{"ok":true,"cmd":"msi"\}$'
expect "sipi" "$tmp/out" '^\{"ok":true,"cmd":"sipi"\}$'
expect "init without cpu is refused" "$tmp/out" '^\{"ok":false,"cmd":"init","code":"EINVAL","error":"needs cpu"\}$'
expect "unknown command" "$tmp/out" '^\{"ok":false,"cmd":"\?","code":"ENOSYS","error":"unknown command"\}$'
expect "garbage" "$tmp/out" '^\{"ok":false,"cmd":"\?","code":"EPROTO","error":"not a JSON object'
expect "an overlong line is refused" "$tmp/out" '^\{"ok":false,"cmd":"\?","code":"EMSGSIZE","error":"line too long"\}$'
expect "quit answers" "$tmp/out" '^\{"ok":true,"cmd":"quit"\}$'
[ "$(grep -c '' "$tmp/out")" = 15 ] && ok "one answer per command" || not_ok "$(grep -c '' "$tmp/out") answers for 15 commands"
expect "result: stopped, with line 20's assert counted" "$tmp/result.json" \
	'^\{"outcome":"stopped","status":130,.*"lines":\{.*"20":\{"asserts":1,'

# The result of a guest that exits by itself.
"$SPLITVM" run --kernel "$G/exitcode.elf" --append "exit=21" \
	--result-json "$tmp/r2.json" >"$tmp/out" 2>"$tmp/err"
st=$?
[ $st = 43 ] && ok "exit=21 gives status 43" || not_ok "exit=21 gave $st"
expect "result-json has outcome, status and code" "$tmp/r2.json" \
	'^\{"outcome":"exit","status":43,"exit_code":21,"cpu":0,"duration_ns":[0-9]+,'

# A Unix socket: a client connects, commands, quits.
"$SPLITVM" run --kernel "$G/hang.elf" --control "$tmp/ctl.sock" \
	--serial none >"$tmp/out" 2>"$tmp/err" &
pid=$!
python3 - "$tmp/ctl.sock" >"$tmp/client" 2>&1 <<'PY'
import socket, sys, time
for _ in range(100):
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); break
    except OSError:
        time.sleep(0.05)
f = s.makefile("rw")
for cmd in ('{"cmd":"irq","line":5,"level":1}', '{"cmd":"stats"}', '{"cmd":"quit"}'):
    f.write(cmd + "\n"); f.flush()
    print(f.readline().strip())
PY
wait $pid
st=$?
[ $st = 130 ] && ok "socket: quit stops the VM" || not_ok "socket: status $st"
expect "socket: irq answered" "$tmp/client" '^\{"ok":true,"cmd":"irq"\}$'
expect "socket: stats counts line 5" "$tmp/client" '"5":\{"asserts":1,'
[ ! -e "$tmp/ctl.sock" ] && ok "socket removed at the end" || not_ok "socket left behind"

# Bad uses are usage errors.
"$SPLITVM" run --kernel "$G/hang.elf" --control - --serial stdio >"$tmp/out" 2>"$tmp/err" </dev/null
[ $? = 2 ] && ok "--control - with --serial stdio is refused" || not_ok "--control - with --serial stdio"
"$SPLITVM" run --kernel "$G/hang.elf" --control "$tmp/no/dir/sock" >"$tmp/out" 2>"$tmp/err" </dev/null
[ $? = 126 ] && grep -q "cannot listen" "$tmp/err" && ok "unusable socket path" || not_ok "unusable socket path"

echo "1..$n"
[ $failed = 0 ]
