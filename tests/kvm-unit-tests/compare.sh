#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kvm-unit-tests, unchanged, under splitvm's QEMU front end and under QEMU:
# runs a built tree's own run_tests.sh once per VMM, both with
# ACCEL=kvm,kernel_irqchip=split, and prints TAP, one line per entry with
# both verdicts: ok when they are the same or the difference is listed in
# expected-differences.txt, not ok otherwise. Then the two wall times.
# See README.md in this folder; "compare.sh --help" lists the options.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/kvm-unit-tests/kut-lib.sh
. "$here/kut-lib.sh"

usage() {
	cat <<EOF
usage: ${0##*/} [OPTIONS] [TREE] [-- RUN_TESTS_ARGS...]

TREE is a built kvm-unit-tests tree (./configure && make), or
\$KVM_UNIT_TESTS. RUN_TESTS_ARGS (or \$KUT_TESTS, split on blanks) go to
run_tests.sh unchanged: entry names, '-g GROUP', '-a'...; none: every entry.

  --splitvm-only            run splitvm only and compare with saved QEMU
                            verdicts (also KUT_SPLITVM_ONLY=1)
  --qemu-verdicts FILE      those saved verdicts (\$KUT_QEMU_VERDICTS;
                            default: qemu-verdicts.txt next to this script)
  --qemu-only               run QEMU only (to save its verdicts)
  --save-qemu-verdicts FILE write the QEMU run's verdicts to FILE
  --convert RUN_TESTS_OUT   write the verdicts of a saved run_tests.sh
                            output (to --save-qemu-verdicts FILE, or
                            stdout) and exit; no run
  --out DIR                 keep the runs' output in DIR (\$KUT_OUT;
                            default: a new directory under \${TMPDIR:-/tmp})
  --allow FILE              the allow-list (default:
                            expected-differences.txt next to this script)
  --splitvm PATH            splitvm's front end (\$KUT_SPLITVM; default:
                            build/qemu-system-x86_64 of this source tree);
                            a copy of the binary is run, not PATH itself
  --no-snapshot             run PATH itself, not a copy
  --qemu PATH               QEMU (\$KUT_QEMU; default: qemu-system-x86_64
                            in PATH that is not splitvm, or /usr/bin's)

Exit status: 0 every entry ok, 1 some not ok, 2 bad setup (tree not
built, binary missing...), 77 no /dev/kvm.
EOF
}

mode=both
[ "${KUT_SPLITVM_ONLY:-0}" = 1 ] && mode='splitvm-only'
tree=${KVM_UNIT_TESTS:-}
qverdicts=${KUT_QEMU_VERDICTS:-$here/qemu-verdicts.txt}
allow=$here/expected-differences.txt
splitvm=${KUT_SPLITVM:-$here/../../build/qemu-system-x86_64}
out=${KUT_OUT:-}
save=
convert=
snapshot=1
args=()
read -ra args <<<"${KUT_TESTS:-}"

need() { [ "$1" -ge 2 ] || kut_die "$2 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
	case $1 in
	--splitvm-only) mode='splitvm-only' ;;
	--qemu-only) mode='qemu-only' ;;
	--qemu-verdicts) need $# "$1"; qverdicts=$2; shift ;;
	--save-qemu-verdicts) need $# "$1"; save=$2; shift ;;
	--convert) need $# "$1"; convert=$2; shift ;;
	--out) need $# "$1"; out=$2; shift ;;
	--allow) need $# "$1"; allow=$2; shift ;;
	--splitvm) need $# "$1"; splitvm=$2; shift ;;
	--qemu) need $# "$1"; KUT_QEMU=$2; shift ;;
	--no-snapshot) snapshot=0 ;;
	-h | --help) usage; exit 0 ;;
	--) shift; args+=("$@"); break ;;
	-*) echo "${0##*/}: unknown option $1" >&2; usage >&2; exit 2 ;;
	*) tree=$1 ;;
	esac
	shift
done

if [ -n "$convert" ]; then
	q=$(kut_find_qemu)
	if [ -n "$save" ]; then
		kut_convert "$convert" "$q" >"$save" || exit 2
		echo "${0##*/}: $(kut_counts "$save") in $save" >&2
	else
		kut_convert "$convert" "$q"
	fi
	exit 0
fi

kut_check_tree "$tree"
tree=$(cd "$tree" && pwd)
[ -f "$allow" ] || kut_die "$allow: no such allow-list"

if [ ! -c /dev/kvm ]; then
	echo "1..0 # SKIP /dev/kvm is missing"
	exit 77
fi

if [ "$mode" != splitvm-only ]; then
	qemu=$(kut_find_qemu)
	[ -n "$qemu" ] || kut_die "QEMU not found: install qemu-system-x86, set KUT_QEMU, or use --splitvm-only"
	qversion=$(kut_check_qemu "$qemu" QEMU) || exit 2
	case $qversion in
	*splitvm*) kut_die "$qemu is splitvm's front end, not QEMU: set KUT_QEMU" ;;
	esac
fi
if [ "$mode" != qemu-only ]; then
	sversion=$(kut_check_qemu "$splitvm" splitvm) || exit 2
	case $sversion in
	*splitvm*) ;;
	*) kut_die "$splitvm is not splitvm's front end ($sversion)" ;;
	esac
fi
if [ "$mode" = splitvm-only ]; then
	[ -f "$qverdicts" ] || kut_die "$qverdicts: no saved QEMU verdicts (make them with --qemu-only --save-qemu-verdicts FILE, or --convert)"
	grep -qE '^(PASS|FAIL|SKIP) ' "$qverdicts" ||
		kut_die "$qverdicts holds no verdicts"
fi

if [ -z "$out" ]; then
	out=$(mktemp -d "${TMPDIR:-/tmp}/kut-compare.XXXXXX") || exit 2
fi
mkdir -p "$out" || exit 2
out=$(cd "$out" && pwd)

echo "# kvm-unit-tests: $tree (build-head $(cat "$tree/build-head" 2>/dev/null)), ACCEL=$KUT_ACCEL"
echo "# run_tests.sh arguments: ${args[*]:-(none: every entry)}"
echo "# output and per-entry logs: $out"

# no_verdicts VMM DIR: the runner said nothing usable; one not ok line.
no_verdicts() {
	echo "not ok 1 - run_tests.sh gave no verdict under $1"
	sed 's/^/#   /' "$2/run_tests.err" "$2/run_tests.out" | tail -10
	echo "1..1"
	exit 1
}

if [ "$mode" != qemu-only ]; then
	if [ "$snapshot" = 1 ]; then
		sbin=$(kut_snapshot_splitvm "$splitvm" "$out/bin") || exit 2
		echo "# splitvm: $sversion, $(readlink -f "$splitvm") copied to $out/bin"
	else
		sbin=$splitvm
		echo "# splitvm: $sversion, $sbin"
	fi
	kut_run splitvm "$sbin" "$tree" "$out/splitvm" "${args[@]}"
	sfile=$out/splitvm/verdicts.txt
	grep -qE '^(PASS|FAIL|SKIP) ' "$sfile" || no_verdicts splitvm "$out/splitvm"
fi

if [ "$mode" != splitvm-only ]; then
	echo "# qemu: $qversion, $qemu"
	kut_run qemu "$qemu" "$tree" "$out/qemu" "${args[@]}"
	qfile=$out/qemu/verdicts.txt
	grep -qE '^(PASS|FAIL|SKIP) ' "$qfile" || no_verdicts qemu "$out/qemu"
	if [ -n "$save" ]; then
		cp "$qfile" "$save" || exit 2
		echo "# QEMU's verdicts saved in $save"
	fi
else
	qfile=$qverdicts
	echo "# qemu: saved verdicts $qfile ($(kut_meta "$qfile" version);" \
	     "$(kut_meta "$qfile" host); $(kut_meta "$qfile" date))"
fi

if [ "$mode" = qemu-only ]; then
	echo "# qemu: $(kut_counts "$qfile"), wall time $(kut_meta "$qfile" wall) s"
	echo "1..0 # SKIP only QEMU was run: nothing to compare"
	exit 0
fi

# Names given that no verdict came back for (a typo, or no such entry).
skipnext=0
for a in "${args[@]}"; do
	if [ "$skipnext" = 1 ]; then skipnext=0; continue; fi
	case $a in
	-g | --group | -j | --parallel) skipnext=1 ;;
	-*) ;;
	*) grep -qE "^(PASS|FAIL|SKIP) $a( |\$)" "$sfile" ||
		echo "# warning: no verdict for '$a' (not an entry of x86/unittests.cfg?)" ;;
	esac
done

union=1
[ "$mode" = splitvm-only ] && [ ${#args[@]} -gt 0 ] && union=0
kut_compare "$sfile" "$qfile" "$allow" "$union"
status=$?

swall=$(kut_meta "$sfile" wall)
qwall=$(kut_meta "$qfile" wall)
echo "# verdicts: splitvm $(kut_counts "$sfile"); qemu$([ $union = 0 ] &&
	echo " (the whole saved run)") $(kut_counts "$qfile")"
if [ "$mode" = splitvm-only ]; then
	qargs=$(kut_meta "$qfile" args)
	echo "# wall time: splitvm $swall s (this run); qemu $qwall s (the saved" \
	     "run, arguments: ${qargs:-none})"
else
	echo "# wall time: splitvm $swall s; qemu $qwall s"
fi
# A ratio only of two runs of the same entries.
if [ "$mode" = both ] || [ "${args[*]:-}" = "$(kut_meta "$qfile" args)" ]; then
	awk -v s="$swall" -v q="$qwall" 'BEGIN { if (s + 0 > 0 && q + 0 > 0)
		printf "# wall time ratio splitvm/qemu: %.2f\n", s / q }'
fi
exit $status
