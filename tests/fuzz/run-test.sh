#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The CI test of one harness: replays its regression inputs, then fuzzes
# from its seed corpus for a few seconds without writing into the corpus.
#
# usage: run-test.sh FUZZER TARGET FUZZDIR [SECONDS]
#   FUZZDIR is tests/fuzz in the source tree; FUZZ_SECONDS overrides
#   SECONDS (default 20). Crashing inputs go to FUZZ_ARTIFACTS (default
#   ./fuzz-artifacts, i.e. in the build directory under meson test).
set -euo pipefail

exe=$1 target=$2 dir=$3
seconds=${FUZZ_SECONDS:-${4:-20}}
corpus=$dir/corpus/$target
regressions=$dir/regressions/$target
dict=$dir/dict/$target.dict
artifacts=${FUZZ_ARTIFACTS:-$PWD/fuzz-artifacts}

mkdir -p "$artifacts"
# libFuzzer's own exit code for a crash, 77, is meson's "skipped".
opts=(-timeout=5 -rss_limit_mb=2048 -error_exitcode=1 -timeout_exitcode=1
      -artifact_prefix="$artifacts/$target-")
[ -f "$dict" ] && opts+=(-dict="$dict")

# 1. Every input that once crashed must run clean now. Given files (not
#    directories), libFuzzer runs each once and fails on the first crash.
shopt -s nullglob
inputs=("$regressions"/*)
if [ ${#inputs[@]} -gt 0 ]; then
	echo "fuzz-$target: replaying ${#inputs[@]} regression input(s)"
	"$exe" "${opts[@]}" "${inputs[@]}"
fi

# 2. A short run. libFuzzer writes new inputs into the first corpus
#    directory it is given: a scratch one, so the committed seeds stay as
#    they are.
work=$(mktemp -d "${TMPDIR:-/tmp}/splitvm-fuzz-$target.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "fuzz-$target: fuzzing for ${seconds}s from $corpus"
"$exe" "${opts[@]}" -max_total_time="$seconds" -print_final_stats=1 \
	"$work" "$corpus"
