#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A long fuzzing run of one harness, on all cores, keeping what it learns.
#
# usage: tests/fuzz/run-long.sh TARGET [SECONDS]     (default: 3600)
#
#   FUZZ_BUILD  the -Dfuzzing=true build directory (default: build-fuzz)
#   FUZZ_WORK   where the growing corpus and crashes live, outside git
#               (default: $FUZZ_BUILD/fuzz-work/TARGET)
#   FUZZ_JOBS   parallel fuzzing processes (default: nproc)
#
# New inputs go to $FUZZ_WORK/corpus; the committed seeds are only read.
# Crashes land in $FUZZ_WORK as crash-*, leak-*, timeout-* or oom-* (see
# README.md, "Triage"). To fold the best new inputs into the committed
# corpus, minimize them against it afterwards:
#   $FUZZ_BUILD/tests/fuzz/fuzz-TARGET -merge=1 tests/fuzz/corpus/TARGET \
#       $FUZZ_WORK/corpus
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	sed -n '3,18s/^# \{0,1\}//p' "$0" >&2
	exit 2
fi
target=$1
seconds=${2:-3600}
dir=$(cd "$(dirname "$0")" && pwd)
build=${FUZZ_BUILD:-build-fuzz}
exe=$build/tests/fuzz/fuzz-$target
work=${FUZZ_WORK:-$build/fuzz-work/$target}
jobs=${FUZZ_JOBS:-$(nproc)}

if [ ! -x "$exe" ]; then
	echo "run-long: no $exe; build it first:" >&2
	echo "  CC=clang meson setup $build -Dfuzzing=true && ninja -C $build" >&2
	exit 1
fi
mkdir -p "$work/corpus"
opts=(-timeout=5 -rss_limit_mb=2048 -max_total_time="$seconds"
      -print_final_stats=1 -artifact_prefix="$work/")
[ -f "$dir/dict/$target.dict" ] && opts+=(-dict="$dir/dict/$target.dict")
if [ "$jobs" -gt 1 ]; then
	# -fork keeps going after a crash and shares one corpus.
	opts+=(-fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
fi
echo "run-long: fuzz-$target for ${seconds}s on $jobs job(s), work in $work"
exec "$exe" "${opts[@]}" "$work/corpus" "$dir/corpus/$target"
