#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --result-json holds one valid JSON document however the run ends (issue
# 13, item 11): a verdict, a monitor error, a signal, a crashed or killed
# monitor. A regular file is replaced atomically; anything else is written
# as it is. Emits TAP.
set -u

# shellcheck source=tests/cli/tap.sh
. "$(dirname "$0")/tap.sh"
require_kvm
PY=${PYTHON:-python3}

# result FILE STATUS OUTCOME [DETAIL-REGEX]: FILE is one JSON object
# with that status and outcome, and a detail matching the regex.
result() {
	"$PY" - "$@" <<'EOF' 2>/dev/null
import json, re, sys
path, status, outcome = sys.argv[1], int(sys.argv[2]), sys.argv[3]
d = json.load(open(path))
ok = d["status"] == status and d["outcome"] == outcome
if len(sys.argv) > 4:
    ok = ok and re.search(sys.argv[4], d["detail"]) is not None
sys.exit(0 if ok else 1)
EOF
}

# no_temporaries DIR: nothing but what we put there (no .NAME.XXXXXX).
no_temporaries() {
	[ -z "$(find "$1" -name '.*.??????' -print -quit)" ]
}

# monitor_of PID: the monitor process the keeper PID forked.
monitor_of() {
	local m i
	for i in $(seq 50); do
		m=$(pgrep -P "$1" | head -1)
		[ -n "$m" ] && echo "$m" && return
		sleep 0.1
	done
}

# 1. A monitor error before any verdict: status 126, and the reason.
printf 'not a kernel\n' >"$tmp/junk"
"$SPLITVM" run --kernel "$tmp/junk" --result-json "$tmp/r1.json" \
	>/dev/null 2>"$tmp/1.err"
st=$?
[ "$st" = 126 ] && result "$tmp/r1.json" 126 error "not a recognised kernel image" &&
	ok "an unloadable kernel: 126, and the reason in --result-json" ||
	not_ok "unloadable kernel: status $st, $(cat "$tmp/r1.json" 2>&1)"

# 2. The monitor killed (SIGKILL, as the OOM killer would) or crashing
# (SIGSEGV) in the middle of a run: 126 and a document saying so.
# (In the ASan build the sanitizer takes the SIGSEGV and ends the run its
# own way: there only the status and a reason are checked.)
asan=no
ldd "$SPLITVM" 2>/dev/null | grep -q libasan && asan=yes
for sig in KILL SEGV; do
	why="died of signal $(kill -l $sig)"
	[ $sig = SEGV ] && [ $asan = yes ] && why=.
	"$SPLITVM" run --kernel "$G/hang.elf" --result-json "$tmp/r2.json" \
		>/dev/null 2>"$tmp/2.err" &
	pid=$!
	sleep 0.5
	mon=$(monitor_of $pid)
	# (No monitor: not this design; end the run, the checks then fail.)
	[ -n "$mon" ] && kill -"$sig" "$mon" || kill -KILL $pid
	wait $pid
	st=$?
	[ "$st" = 126 ] && result "$tmp/r2.json" 126 error "$why" &&
		ok "monitor killed by SIG$sig: 126, and a document that says so" ||
		not_ok "monitor killed by SIG$sig: status $st, $(cat "$tmp/r2.json" 2>&1)"
done

# 3. SIGTERM to the pid the caller started reaches the run: a stop (130).
"$SPLITVM" run --kernel "$G/hang.elf" --result-json "$tmp/r3.json" \
	>/dev/null 2>"$tmp/3.err" &
pid=$!
sleep 0.5
kill -TERM $pid
wait $pid
st=$?
[ "$st" = 130 ] && result "$tmp/r3.json" 130 stopped &&
	ok "SIGTERM to splitvm: 130, outcome stopped" ||
	not_ok "SIGTERM: status $st, $(cat "$tmp/r3.json" 2>&1)"

# 4. Atomic: an old document stays whole while the run goes on, the new
# one replaces it at the end, and no temporary is left behind.
mkdir "$tmp/d4"
echo '{"outcome":"old"}' >"$tmp/d4/r.json"
"$SPLITVM" run --kernel "$G/hang.elf" --timeout 1 \
	--result-json "$tmp/d4/r.json" >/dev/null 2>"$tmp/4.err" &
pid=$!
sleep 0.4
during=$(cat "$tmp/d4/r.json")
wait $pid
st=$?
[ "$during" = '{"outcome":"old"}' ] && [ "$st" = 124 ] &&
	result "$tmp/d4/r.json" 124 timeout && no_temporaries "$tmp/d4" &&
	ok "the old document stays whole during the run, then is replaced" ||
	not_ok "atomic replace: during '$during', status $st, after $(cat "$tmp/d4/r.json"), $(ls -a "$tmp/d4")"

# 5. Signals at any moment of the start, run after run: always 130 and a
# valid document (never a death by the signal, never an empty file).
bad=0
for i in $(seq 20); do
	rm -f "$tmp/r5.json"
	"$SPLITVM" run --kernel "$G/hang.elf" --result-json "$tmp/r5.json" \
		>/dev/null 2>"$tmp/5.err" &
	pid=$!
	await_handler $pid 2
	sleep "0.00$((i % 10))"
	kill -INT $pid
	wait $pid
	st=$?
	if [ "$st" != 130 ] || ! result "$tmp/r5.json" 130 stopped; then
		bad=$((bad + 1))
		echo "# run $i: status $st, $(cat "$tmp/r5.json" 2>&1)"
	fi
done
[ $bad = 0 ] && no_temporaries "$tmp" &&
	ok "SIGINT at 20 moments of the first 10 ms: 130 and a document each time" ||
	not_ok "SIGINT during the start: $bad runs of 20 went wrong"

# 6. What is not a regular file is written as it is: /dev/null stays a
# device, /dev/stdout on a pipe carries the document.
"$SPLITVM" run --kernel "$G/demo.elf" --result-json /dev/null \
	>/dev/null 2>"$tmp/6.err"
st=$?
[ "$st" = 1 ] && [ -c /dev/null ] &&
	ok "--result-json /dev/null: the guest's status, /dev/null untouched" ||
	not_ok "--result-json /dev/null: status $st"
"$SPLITVM" run --kernel "$G/demo.elf" --serial none --result-json /dev/stdout \
	2>"$tmp/6.err" | cat >"$tmp/r6.json"
result "$tmp/r6.json" 1 exit &&
	ok "--result-json /dev/stdout into a pipe: the document arrives" ||
	not_ok "--result-json /dev/stdout: $(cat "$tmp/r6.json")"

# ... and /dev/stdout into a file: the document follows the console in
# it, never replaces the file (which would lose what the guest printed).
"$SPLITVM" run --kernel "$G/demo.elf" --result-json /dev/stdout \
	>"$tmp/r6b.out" 2>"$tmp/6b.err"
grep -q "hello from a tiny guest" "$tmp/r6b.out" &&
	tail -n 1 "$tmp/r6b.out" >"$tmp/r6b.json" && result "$tmp/r6b.json" 1 exit &&
	ok "--result-json /dev/stdout into a file: console kept, document after it" ||
	not_ok "--result-json /dev/stdout into a file: $(head -c 300 "$tmp/r6b.out")"

# 7. A symbolic link is written through: the link stays, its file changes.
echo old >"$tmp/target.json"
ln -s target.json "$tmp/link.json"
"$SPLITVM" run --kernel "$G/demo.elf" --result-json "$tmp/link.json" \
	>/dev/null 2>"$tmp/7.err"
[ -L "$tmp/link.json" ] && result "$tmp/target.json" 1 exit &&
	ok "a symbolic link: followed, the link kept" ||
	not_ok "symbolic link: $(ls -l "$tmp/link.json") $(cat "$tmp/target.json")"

# ... a link to a file not there yet: the file is made through it.
ln -s made.json "$tmp/dangling.json"
"$SPLITVM" run --kernel "$G/demo.elf" --result-json "$tmp/dangling.json" \
	>/dev/null 2>"$tmp/7b.err"
[ -L "$tmp/dangling.json" ] && result "$tmp/made.json" 1 exit &&
	ok "a link to a file not there yet: the file made through it" ||
	not_ok "dangling link: $(ls -l "$tmp/dangling.json" "$tmp/made.json" 2>&1)"

# ... and a reason that is not UTF-8 (a file name): still valid JSON.
"$SPLITVM" run --kernel "$tmp/$(printf 'bad\xffname')" \
	--result-json "$tmp/r7c.json" >/dev/null 2>"$tmp/7c.err"
result "$tmp/r7c.json" 126 error "cannot open" &&
	ok "a reason that is not UTF-8: the document is valid JSON still" ||
	not_ok "non-UTF-8 reason: $(cat "$tmp/r7c.json")"

# 8. A command line refused after --result-json ran nothing: the file is
# left as it was, and no temporary stays.
mkdir "$tmp/d8"
echo keep >"$tmp/d8/r.json"
"$SPLITVM" run --kernel "$G/demo.elf" --result-json "$tmp/d8/r.json" \
	--cpus 0 >/dev/null 2>"$tmp/8.err"
st=$?
[ "$st" = 2 ] && [ "$(cat "$tmp/d8/r.json")" = keep ] && no_temporaries "$tmp/d8" &&
	ok "a refused command line: status 2, the file untouched" ||
	not_ok "refused command line: status $st, $(cat "$tmp/d8/r.json"), $(ls -a "$tmp/d8")"

# 9. A directory that is not there: refused at once, saying so.
"$SPLITVM" run --kernel "$G/demo.elf" --result-json "$tmp/nodir/r.json" \
	>/dev/null 2>"$tmp/9.err"
st=$?
[ "$st" = 126 ] && grep -q "result-json: cannot open.*No such file" "$tmp/9.err" &&
	ok "a result path in a missing directory: 126 at once, said" ||
	not_ok "missing directory: status $st"

echo "1..$n"
[ $failed = 0 ]
