#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Control clients that misbehave (issue 13): one that never reads its
# answers, one that stays idle or stops mid-line, lines the parser must
# refuse, a socket file left by a killed run. None of them may block the
# monitor, keep it alive past --timeout or SIGTERM, or get a command run
# that was not sent whole and well-formed. Emits TAP.
set -u

# shellcheck source=tests/cli/tap.sh
. "$(dirname "$0")/tap.sh"
require_kvm
PY=${PYTHON:-python3}

# The clients, in Python: ctl.py WHAT SOCKET ARGS... (see each one).
cat >"$tmp/ctl.py" <<'PYEOF'
import json, select, socket, sys, time

what, path = sys.argv[1], sys.argv[2]


def connect():
    # a socket file that is there may be a stale one not yet replaced
    # (a timeout: connect() waits while the listen backlog is full)
    for _ in range(100):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(3)
            s.connect(path)
            s.settimeout(None)
            return s
        except (ConnectionRefusedError, FileNotFoundError):
            s.close()
            time.sleep(0.05)
        except OSError as e:
            raise SystemExit("cannot connect to %s: %s" % (path, e))
    raise SystemExit("cannot connect to " + path)


def closed_by_peer(s, secs):
    """Seconds until the server hangs up (POLLHUP, nothing read), or None."""
    p = select.poll()
    p.register(s, select.POLLHUP)
    t0 = time.monotonic()
    while time.monotonic() - t0 < secs:
        for _, ev in p.poll(100):
            if ev & (select.POLLHUP | select.POLLERR):
                return time.monotonic() - t0
    return None


def readline(s, secs):
    s.settimeout(secs)
    buf = b""
    try:
        while not buf.endswith(b"\n"):
            c = s.recv(1)
            if not c:
                break
            buf += c
    except OSError:
        return "TIMEOUT"
    return buf.decode("latin-1").rstrip("\n") if buf else "EOF"


if what == "flood":  # flood SOCK N HOLD: N 'state's, never read, HOLD s
    n, hold = int(sys.argv[3]), float(sys.argv[4])
    s = connect()
    s.setblocking(False)
    data = b'{"cmd":"state"}\n' * n
    sent, t0 = 0, time.monotonic()
    while sent < len(data) and time.monotonic() - t0 < 3:
        try:
            sent += s.send(data[sent:])
        except BlockingIOError:
            time.sleep(0.01)
    print("sent", sent, flush=True)
    t = closed_by_peer(s, hold)
    print("held" if t is None else "dropped after %.1f s" % t, flush=True)
elif what == "idle":  # idle SOCK HOLD [BYTES]: send BYTES, wait for a hang-up
    s = connect()
    if len(sys.argv) > 4:
        s.sendall(sys.argv[4].encode())
    t = closed_by_peer(s, float(sys.argv[3]))
    print("open" if t is None else "closed after %.1f s" % t, flush=True)
elif what == "ask":  # ask SOCK LINE...: one answer a line, within 3 s each
    s = connect()
    for line in sys.argv[3:]:
        s.sendall(line.encode() + b"\n")
        print(readline(s, 3), flush=True)
elif what == "many":  # many SOCK N: N clients connected at once, each asks
    socks = [connect() for _ in range(int(sys.argv[3]))]
    for s in socks:
        s.sendall(b'{"cmd":"stats"}\n')
    for s in socks:
        print(readline(s, 3)[:30], flush=True)
elif what == "cut":  # cut SOCK BYTES: send, half-close, print the answer
    s = connect()
    s.sendall(sys.argv[3].encode())
    s.shutdown(socket.SHUT_WR)
    print(readline(s, 3), flush=True)
elif what == "lines":  # lines FILE: the IOAPIC lines of the last state
    lines = None
    for l in open(path, "rb"):
        try:
            d = json.loads(l)
        except ValueError:
            continue
        if d.get("cmd") == "state" and d.get("ok"):
            lines = d["ioapic"]["lines"]
    print(" ".join(str(x) for x in lines or []))
elif what == "asserts":  # asserts FILE LINE: --result-json's count
    d = json.load(open(path))
    print(d["stats"]["lines"].get(sys.argv[3], {}).get("asserts", 0))
PYEOF
ctl() { "$PY" "$tmp/ctl.py" "$@"; }

# start SOCKET ARGS...: splitvm on hang.elf with --control SOCKET, in the
# background ($pid), its stderr in $tmp/vm.err; waits for the socket.
start() {
	local sock=$1
	shift
	"$SPLITVM" run --kernel "$G/hang.elf" --serial none --control "$sock" \
		"$@" >"$tmp/vm.out" 2>"$tmp/vm.err" &
	pid=$!
	for _ in $(seq 200); do
		[ -S "$sock" ] && return 0
		sleep 0.05
	done
	return 1
}

# finish SECONDS: waits that long at most for $pid to end; sets $st to its
# status, or to "hung" (then kills it).
finish() {
	local state
	for _ in $(seq $(($1 * 20))); do
		state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)
		[ -z "$state" ] || [ "$state" = Z ] && break
		sleep 0.05
	done
	state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)
	if [ -n "$state" ] && [ "$state" != Z ]; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		st=hung
		return
	fi
	wait "$pid"
	st=$?
}

check() { # NAME CONDITION...: ok when the condition holds
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# first_line FILE PATTERN: the first line of FILE matches PATTERN
first_line() {
	head -1 "$1" | grep -q "$2"
}

# line_is FILE N VALUE: the IOAPIC line N of the last state answer in FILE
line_is() {
	local v
	read -ra v < <(ctl lines "$1")
	[ "${v[$2]:-}" = "$3" ]
}

# Each part has a socket of its own: one that fails leaves the others be.
# 4. A client floods 'state' and never reads its answers: SIGTERM still
# ends the run at once (130), and another client is answered meanwhile.
sock=$tmp/flood.sock
start "$sock"
ctl flood "$sock" 10000 30 >"$tmp/flood.out" &
cpid=$!
sleep 1.5
ctl ask "$sock" '{"cmd":"stats"}' >"$tmp/ask.out"
check "4: a client that never reads does not stop another being answered" \
	grep -q '^{"ok":true,"cmd":"stats"' "$tmp/ask.out"
kill -TERM $pid
finish 5
kill $cpid 2>/dev/null
wait $cpid 2>/dev/null
check "4: ... and SIGTERM ends the run within 5 s (status $st)" [ "$st" = 130 ]
check "4: ... and the socket is removed" [ ! -e "$sock" ]

# The same client and --timeout: the run ends as the timeout says.
sock=$tmp/timeout.sock
start "$sock" --timeout 2
ctl flood "$sock" 10000 30 >"$tmp/flood.out" &
cpid=$!
finish 8
kill $cpid 2>/dev/null
wait $cpid 2>/dev/null
check "4: ... and --timeout 2 still ends the run (124, got $st)" \
	[ "$st" = 124 ]

# 5. One client connected and idle: another is answered all the same.
sock=$tmp/idle.sock
start "$sock"
ctl idle "$sock" 10 >"$tmp/idle.out" &
i=$!
sleep 0.5
ctl ask "$sock" '{"cmd":"stats"}' '{"cmd":"quit"}' >"$tmp/ask.out"
finish 5
wait $i
check "5: with one client idle, a second is answered (at once)" \
	first_line "$tmp/ask.out" '^{"ok":true,"cmd":"stats"'
check "5: ... and its quit ends the run (130, got $st)" [ "$st" = 130 ]

# Left alone, such a client is dropped, and the log says so in one line;
# so is one that sends part of a line and nothing more. An idle client
# (nothing sent) stays connected and is answered later.
sock=$tmp/drop.sock
start "$sock"
ctl flood "$sock" 10000 12 >"$tmp/flood.out" &
f=$!
ctl idle "$sock" 12 '{"cmd":"sta' >"$tmp/partial.out" &
p=$!
ctl idle "$sock" 9 >"$tmp/idle.out" &
i=$!
sleep 1
ctl ask "$sock" '{"cmd":"irq","line":3,"level":1}' >"$tmp/ask.out"
check "5: a flooder, a half-line sender, an idle client: a fourth is answered" \
	grep -qx '{"ok":true,"cmd":"irq"}' "$tmp/ask.out"
wait "$f" "$p" "$i"
check "4: the client that never reads is dropped ($(tail -1 "$tmp/flood.out"))" \
	grep -q '^dropped after [4-9]' "$tmp/flood.out"
check "5: the client that stopped mid-line is dropped ($(cat "$tmp/partial.out"))" \
	grep -q '^closed after [4-9]' "$tmp/partial.out"
check "5: the idle client is left alone ($(cat "$tmp/idle.out"))" \
	grep -qx 'open' "$tmp/idle.out"
check "4/5: one line in the log for each drop" \
	[ "$(grep -c 'dropped client' "$tmp/vm.err")" = 2 ]
check "4: ... saying why (answers unread)" \
	grep -q 'dropped client [0-9]*: its answers went unread' "$tmp/vm.err"
check "5: ... saying why (part of a line)" \
	grep -q 'dropped client [0-9]*: it sent part of a line' "$tmp/vm.err"

# 5. Many clients at once; past the limit one is told EBUSY and closed.
ctl many "$sock" 12 >"$tmp/many.out"
check "5: twelve clients connected at once are all answered" \
	[ "$(grep -c '^{"ok":true,"cmd":"stats"' "$tmp/many.out")" = 12 ]
sleep 0.3 # the twelve hang up
"$PY" - "$sock" >"$tmp/busy.out" <<'PYEOF'
import socket, sys, time
held = []
try:
    for _ in range(17):
        s = socket.socket(socket.AF_UNIX); s.settimeout(3)
        s.connect(sys.argv[1]); held.append(s)
        time.sleep(0.02)
    print(s.recv(200).decode().strip())
except OSError as e:
    print(e)
PYEOF
check "5: a seventeenth client is told EBUSY" grep -qx \
	'{"ok":false,"cmd":"?","code":"EBUSY","error":"too many clients"}' \
	"$tmp/busy.out"
sleep 0.3 # the sixteen hang up
ctl ask "$sock" '{"cmd":"quit"}' >"$tmp/ask.out"
finish 5
check "5: ... and quit still ends the run (130, got $st)" [ "$st" = 130 ]

# --control - with stdout a pipe that nobody reads, stdin flooding:
# --timeout still ends the run.
"$PY" - "$SPLITVM" "$G/hang.elf" >"$tmp/stdio.out" 2>&1 <<'PYEOF'
import subprocess, sys, threading, time
p = subprocess.Popen([sys.argv[1], "run", "--kernel", sys.argv[2],
                      "--control", "-", "--timeout", "2"],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.DEVNULL)
def feed():
    try:
        p.stdin.write(b'{"cmd":"state"}\n' * 10000)
        p.stdin.flush()
    except OSError:
        pass
threading.Thread(target=feed, daemon=True).start()
t0 = time.monotonic()
try:
    st = p.wait(10)
except subprocess.TimeoutExpired:
    p.kill()
    st = "hung"
print(st, "%.1f" % (time.monotonic() - t0))
PYEOF
check "4: --control -, stdout unread: --timeout 2 ends the run ($(cat "$tmp/stdio.out"))" \
	grep -q '^124 ' "$tmp/stdio.out"

# --control - with a stdin that closes after a command, and on /dev/null.
# (timeout -s KILL: a run that hangs ends as 137)
printf '{"cmd":"stats"}\n' | timeout -s KILL 20 "$SPLITVM" run \
	--kernel "$G/hang.elf" --control - --timeout 3 >"$tmp/out" 2>"$tmp/err"
st=$?
check "5: --control -, stdin closing: the run goes on (124, got $st)" \
	[ "$st" = 124 ]
check "5: ... and the command before was answered" \
	[ "$(grep -c '^{"ok":true,"cmd":"stats"' "$tmp/out")" = 1 ]
timeout -s KILL 20 "$SPLITVM" run --kernel "$G/hang.elf" --control - \
	--timeout 1 </dev/null >/dev/null 2>"$tmp/err"
st=$?
check "5: --control - on /dev/null: the run goes on (124, got $st)" \
	[ "$st" = 124 ]

# 12. The parser: each line gets one answer, valid JSON, with the code
# expected; none of the refused lines does anything (no line 1 or 4 set,
# no pause), and a line cut off by the end of the input is not run. The
# run lasts long enough for a slow (sanitizer) build to take every line
# while the VM still runs.
{
	sleep 0.3
	printf '%s\n' \
		'{"cmd":"irq","line":1e3,"level":1}' \
		'{"cmd":"irq","line":4,"level":1.9}' \
		'{"cmd":"irq","line":4.7,"level":1}' \
		'{"nested":{"cmd":"pause"}}' \
		'{"cmd":"pause","cmd":"resume"}' \
		'{"cmd":"pause"} x' \
		'{"cmd":"pause"}{"cmd":"pause"}' \
		'{"cmd":"p\u0061use"}' \
		'{"cmd":"nmi","cpus":0}' \
		'{"cmd":"irq","line":04,"level":1}' \
		'{"cmd":"irq","line":"4","level":1}' \
		'{"cmd":"irq","line":99999999999999999999,"level":1}' \
		'{"cmd":"irq","line":true,"level":1}' \
		'[{"cmd":"pause"}]' \
		'{"cmd":["pause"]}' \
		$'{"cmd":"pa\tuse"}' \
		'{"cmd":"pause",}' \
		'{"cmd":"a\"b"}'
	printf '{"cmd":"pause"}\0\n{"cmd":"irq","line":7,"level":1}\n'
	printf '%s\n' ' {"cmd" : "irq", "line" : 6 , "level" : 1 } ' \
		'{"cmd":"msi","address":"0xfee00000","data":240}' \
		'{"cmd":"pause"}' '{"cmd":"resume"}' '{"cmd":"state"}'
	printf '{"cmd":"irq","line":4,"level":1'
	sleep 0.5
} | timeout -s KILL 30 "$SPLITVM" run --kernel "$G/hang.elf" --control - \
	--timeout 5 --result-json "$tmp/r.json" >"$tmp/out" 2>"$tmp/err"
st=$?
codes=$("$PY" - "$tmp/out" <<'PYEOF'
import json, sys
out = []
for line in open(sys.argv[1], "rb"):
    try:
        d = json.loads(line)
        out.append("%s:%s" % (d["cmd"], d.get("code", "ok")))
    except ValueError:
        out.append("INVALID")
print(" ".join(out))
PYEOF
)
want="irq:EINVAL irq:EINVAL irq:EINVAL ?:EPROTO ?:EPROTO ?:EPROTO ?:EPROTO"
want+=" ?:EPROTO nmi:EINVAL ?:EPROTO irq:EINVAL irq:EINVAL irq:EINVAL"
want+=" ?:EPROTO ?:EPROTO ?:EPROTO ?:EPROTO ?:EPROTO ?:EPROTO irq:ok irq:ok"
want+=" msi:ok pause:ok resume:ok state:ok ?:EPROTO"
check "12: every line answered once, as valid JSON, with the right code" \
	[ "$codes" = "$want" ]
if [ "$codes" != "$want" ]; then
	echo "# got:  $codes"
	echo "# want: $want"
fi
check "12: the run ends at its timeout (124, got $st)" [ "$st" = 124 ]
if line_is "$tmp/out" 1 0 && line_is "$tmp/out" 4 0 &&
	line_is "$tmp/out" 6 1 && line_is "$tmp/out" 7 1; then
	ok "12: the state shows lines 6 and 7 set, 1 and 4 not"
else
	not_ok "12: lines 6 and 7 set, 1 and 4 not: $(ctl lines "$tmp/out")"
fi
a1=$(ctl asserts "$tmp/r.json" 1)
a4=$(ctl asserts "$tmp/r.json" 4)
check "12: the result counts no assert of line 1 ($a1) or 4 ($a4)" \
	[ "$a1" = 0 -a "$a4" = 0 ]
check "12: a NUL byte is refused as such (and the next line runs, above)" \
	grep -q '"EPROTO","error":"not a JSON .* string: a NUL byte at byte 16"' \
	"$tmp/out"

# A line cut off by a socket client's half-close is refused, not run.
sock=$tmp/cut.sock
start "$sock"
ctl cut "$sock" '{"cmd":"irq","line":4,"level":1' >"$tmp/cut.out"
ctl ask "$sock" '{"cmd":"state"}' '{"cmd":"quit"}' >"$tmp/ask.out"
finish 5
check "12: a line cut off by a half-close is refused (EPROTO)" \
	grep -q '^{"ok":false,"cmd":"?","code":"EPROTO"' "$tmp/cut.out"
check "12: ... and line 4 stays low" line_is "$tmp/ask.out" 4 0
check "12: ... and quit answers (130, got $st)" [ "$st" = 130 ]

# 14. A socket file left by a SIGKILLed run is replaced; one that a live
# run listens on is refused, and left to it; a file of another kind is
# refused and kept.
sock=$tmp/stale.sock
start "$sock"
kill -KILL $pid
wait $pid 2>/dev/null
# The socket's remover, a process of its own, unlinks it even then.
for _ in $(seq 40); do [ -e "$sock" ] || break; sleep 0.05; done
check "14: even after SIGKILL the socket file is removed" [ ! -e "$sock" ]
# A socket file nobody listens on (another program's, or a remover that
# was killed too): replaced by the next run.
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$sock"
check "14: (a stale socket file is there)" [ -S "$sock" ]
start "$sock"
ctl ask "$sock" '{"cmd":"quit"}' >"$tmp/ask.out"
finish 5
check "14: the next run on it starts (130, got $st)" [ "$st" = 130 ]
check "14: ... and answers" grep -qx '{"ok":true,"cmd":"quit"}' "$tmp/ask.out"
start "$sock"
first=$pid
timeout -s KILL 20 "$SPLITVM" run --kernel "$G/hang.elf" --serial none \
	--control "$sock" --timeout 5 >"$tmp/out" 2>"$tmp/err2"
st=$?
check "14: a second run on a live socket is refused (126, got $st)" \
	[ "$st" = 126 ]
check "14: ... saying another process is listening there" \
	grep -q "another process is listening on '$sock'" "$tmp/err2"
pid=$first
ctl ask "$sock" '{"cmd":"quit"}' >"$tmp/ask.out"
finish 5
check "14: ... and the first run keeps its socket (quit answered)" \
	grep -qx '{"ok":true,"cmd":"quit"}' "$tmp/ask.out"
check "14: ... and ends with it (130, got $st)" [ "$st" = 130 ]
rm -f "$sock"
echo keep >"$sock"
timeout -s KILL 20 "$SPLITVM" run --kernel "$G/hang.elf" --serial none \
	--control "$sock" --timeout 5 >"$tmp/out" 2>"$tmp/err2"
st=$?
check "14: a regular file at the path is refused (126, got $st)" \
	[ "$st" = 126 ]
check "14: ... and kept" grep -qx keep "$sock"

echo "1..$n"
[ $failed = 0 ]
