# SPDX-License-Identifier: MIT
# Sourced by the CLI test scripts: the binaries under test (from meson's
# environment, or the build/ defaults), a scratch directory removed on
# exit, the TAP counters, and the skip without /dev/kvm.
SPLITVM=${SPLITVM:-build/splitvm}
G=${SPLITVM_GUESTS:-build/guests}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

# require_kvm: without /dev/kvm the whole script is skipped (77).
require_kvm() {
	if [ ! -e /dev/kvm ]; then
		echo "1..0 # SKIP /dev/kvm is missing"
		exit 77
	fi
}

# check NAME COND...: one TAP line, ok when the command COND succeeds.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# run ARGS...: splitvm test, its stdout in $tmp/t.out, stderr in
# $tmp/t.err, its status in $st.
run() {
	"$SPLITVM" test "$@" >"$tmp/t.out" 2>"$tmp/t.err" </dev/null
	st=$?
}

# ok NAME, not_ok NAME: one TAP line; a failure shows the tail of every
# non-empty $tmp/*.out and $tmp/*.err.
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	for f in "$tmp"/*.out "$tmp"/*.err; do
		[ -s "$f" ] && sed "s|^|# $(basename "$f"): |" "$f" | tail -8
	done
	return 0
}

# await_handler PID SIGNUM: waits (up to 0.4 s) until the splitvm process
# PID catches SIGNUM. Before that the signal would reach the shell's child
# before its exec, which dies of SIGTERM and ignores SIGINT when run in the
# background: nobody's to guard. Name and SigCgt come from one read of
# status: read apart, the handler seen could be the shell's.
await_handler() {
	local cgt
	for _ in $(seq 400); do
		cgt=$(awk '/^Name:/ {n = $2} /^SigCgt:/ {c = $2}
			END {if (n == "splitvm") print c}' \
			"/proc/$1/status" 2>/dev/null)
		[ -n "$cgt" ] && (((0x$cgt >> ($2 - 1)) & 1)) && return 0
		sleep 0.001
	done
	return 1
}
