#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 'splitvm test --kvm-unit-tests TREE' (the native reader, kut.c) against
# the tree's own run_tests.sh with splitvm as its QEMU: both runs of the
# same entries, then TAP, one line per entry with both verdicts, ok only
# when they are the same (no allow-list: the two must agree everywhere).
# With --saved (KUT_NATIVE_SAVED=1) the native run is compared with QEMU's
# saved verdicts (qemu-verdicts.txt) and expected-differences.txt instead,
# as compare.sh --splitvm-only does. Then the wall times and their ratio.
# See README.md in this folder.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/kvm-unit-tests/kut-lib.sh
. "$here/kut-lib.sh"

usage() {
	cat <<EOF
usage: ${0##*/} [OPTIONS] [TREE] [-- ENTRY...]

TREE is a built kvm-unit-tests tree, or \$KVM_UNIT_TESTS. ENTRY (or
\$KUT_TESTS): entry names; none: every entry.

  --saved                compare with QEMU's saved verdicts, not with a
                         run_tests.sh run (also KUT_NATIVE_SAVED=1)
  --qemu-verdicts FILE   those verdicts (default: qemu-verdicts.txt here)
  --runner-verdicts FILE take run_tests.sh's verdicts from an earlier run
                         (compare.sh's splitvm/verdicts.txt) instead of
                         running it
  --out DIR              where the runs go (\$KUT_OUT; default: a new
                         directory under \${TMPDIR:-/tmp})
  --splitvm PATH         splitvm's front end (\$KUT_SPLITVM; default:
                         build/qemu-system-x86_64); a copy is run
  --jobs N               'splitvm test --jobs' (default: the host's CPUs)

Exit status: 0 every entry ok, 1 some not ok, 2 bad setup, 77 no /dev/kvm.
EOF
}

tree=${KVM_UNIT_TESTS:-}
saved=${KUT_NATIVE_SAVED:-0}
qverdicts=${KUT_QEMU_VERDICTS:-$here/qemu-verdicts.txt}
rverdicts=
out=${KUT_OUT:-}
splitvm=${KUT_SPLITVM:-$here/../../build/qemu-system-x86_64}
jobs=()
names=()
read -ra names <<<"${KUT_TESTS:-}"
need() { [ "$1" -ge 2 ] || kut_die "$2 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
	case $1 in
	--saved) saved=1 ;;
	--qemu-verdicts) need $# "$1"; qverdicts=$2; shift ;;
	--runner-verdicts) need $# "$1"; rverdicts=$2; shift ;;
	--out) need $# "$1"; out=$2; shift ;;
	--splitvm) need $# "$1"; splitvm=$2; shift ;;
	--jobs) need $# "$1"; jobs=(--jobs "$2"); shift ;;
	-h | --help) usage; exit 0 ;;
	--) shift; names+=("$@"); break ;;
	-*) echo "${0##*/}: unknown option $1" >&2; usage >&2; exit 2 ;;
	*) tree=$1 ;;
	esac
	shift
done

kut_check_tree "$tree"
tree=$(cd "$tree" && pwd)
if [ ! -c /dev/kvm ]; then
	echo "1..0 # SKIP /dev/kvm is missing"
	exit 77
fi
sversion=$(kut_check_qemu "$splitvm" splitvm) || exit 2
[ "$saved" = 0 ] || [ -f "$qverdicts" ] || kut_die "$qverdicts: no saved verdicts"
[ -z "$rverdicts" ] || [ -f "$rverdicts" ] || kut_die "$rverdicts: no such file"
if [ -z "$out" ]; then
	out=$(mktemp -d "${TMPDIR:-/tmp}/kut-native.XXXXXX") || exit 2
fi
mkdir -p "$out/native" || exit 2
out=$(cd "$out" && pwd)
sbin=$(kut_snapshot_splitvm "$splitvm" "$out/bin") || exit 2
echo "# kvm-unit-tests: $tree (build-head $(cat "$tree/build-head" 2>/dev/null))"
echo "# splitvm: $sversion; output in $out"

# The native run, in the tree as run_tests.sh runs (x86/ paths).
t0=$EPOCHREALTIME
(cd "$tree" && exec "$out/bin/splitvm" test --kvm-unit-tests . "${jobs[@]}" \
	--log-dir "$out/native/logs" --json "$out/native/report.json" \
	"${names[@]}") </dev/null >"$out/native/tap" 2>"$out/native/err"
status=$?
t1=$EPOCHREALTIME
if [ "$status" -ge 2 ]; then
	echo "not ok 1 - splitvm test --kvm-unit-tests ended with status $status"
	sed 's/^/#   /' "$out/native/err" | tail -5
	echo "1..1"
	exit 1
fi
{
	echo "# vmm: splitvm test --kvm-unit-tests"
	echo "# binary: $out/bin/splitvm"
	echo "# version: $sversion"
	echo "# tree: $tree"
	echo "# args: ${names[*]:-}"
	echo "# wall: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
	echo "# logs: $out/native/logs"
	python3 - "$out/native/report.json" <<'EOF'
import json, sys
for t in json.load(open(sys.argv[1]))["tests"]:
    v = {"pass": "PASS", "skip": "SKIP"}.get(t["verdict"], "FAIL")
    s = t.get("summary")
    print(f"{v} {t['name']}" + (f" ({s})" if s else ""))
EOF
} >"$out/native/verdicts.txt" || kut_die "cannot read $out/native/report.json"

if [ "$saved" = 1 ]; then
	ref=$qverdicts
	allow=$here/expected-differences.txt
	echo "# against: QEMU's saved verdicts $ref"
elif [ -n "$rverdicts" ]; then
	ref=$rverdicts
	allow=/dev/null
	echo "# against: run_tests.sh with splitvm, saved in $ref"
else
	kut_run splitvm "$sbin" "$tree" "$out/runner" "${names[@]}"
	ref=$out/runner/verdicts.txt
	allow=/dev/null
	echo "# against: run_tests.sh with splitvm as QEMU, this run"
fi
# kut_compare's first file is "splitvm", the second "qemu": here the
# native run and the reference.
kut_compare "$out/native/verdicts.txt" "$ref" "$allow" \
	"$([ ${#names[@]} -gt 0 ] && [ "$ref" = "$qverdicts" ] && echo 0 || echo 1)" |
	sed 's/: splitvm \([A-Z]*\)/: native \1/; s/, qemu \([A-Z]*\)/, reference \1/'
status=${PIPESTATUS[0]}
nwall=$(kut_meta "$out/native/verdicts.txt" wall)
rwall=$(kut_meta "$ref" wall)
echo "# verdicts: native $(kut_counts "$out/native/verdicts.txt"); reference $(kut_counts "$ref")"
echo "# wall time: native $nwall s; reference $rwall s"
# A ratio only of two runs of the same entries.
[ ${#names[@]} -eq 0 ] && awk -v s="$nwall" -v q="$rwall" 'BEGIN {
	if (s + 0 > 0 && q + 0 > 0)
		printf "# wall time ratio reference/native: %.1f\n", q / s }'
exit "$status"
