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
