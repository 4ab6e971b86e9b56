# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Sourced by tests/kvm-unit-tests/compare.sh and bench/kut/run: how to run
# an unchanged, built kvm-unit-tests tree's own run_tests.sh under one VMM
# (splitvm's QEMU front end or QEMU), time it, read its verdicts, and
# compare two sets of verdicts. Nothing here runs on its own.
#
# A verdict file is the runner's result lines with the colours removed,
# "PASS|FAIL|SKIP <entry> [(<summary>)]", one per entry in the runner's
# order, after "# key: value" header lines (vmm, binary, version, accel,
# tree, build-head, host, date, args, wall, logs).

# The accelerator every run uses: KVM with the split irqchip, the mode
# splitvm always runs in and the one QEMU is compared in.
KUT_ACCEL=kvm,kernel_irqchip=split

# kut_die MESSAGE: the setup is wrong (tree not built, binary missing...):
# one line on stderr, status 2.
kut_die() {
	echo "${0##*/}: $*" >&2
	exit 2
}

# kut_check_tree TREE: a configured x86_64 tree whose test kernels are
# built (every x86/*.flat that x86/unittests.cfg names for x86_64), with
# the enhanced getopt run_tests.sh needs; otherwise kut_die says what to do.
kut_check_tree() {
	local tree=$1 missing arch
	[ -n "$tree" ] ||
		kut_die "no kvm-unit-tests tree: pass its path or set KVM_UNIT_TESTS"
	[ -d "$tree" ] || kut_die "$tree: no such directory"
	if [ ! -f "$tree/run_tests.sh" ] || [ ! -f "$tree/x86/unittests.cfg" ]; then
		kut_die "$tree is not a kvm-unit-tests tree (no run_tests.sh or x86/unittests.cfg)"
	fi
	[ -f "$tree/config.mak" ] ||
		kut_die "$tree is not built: run './configure && make' in it"
	arch=$(sed -n 's/^ARCH=//p' "$tree/config.mak")
	[ "$arch" = x86_64 ] ||
		kut_die "$tree is configured for ARCH=$arch, not x86_64"
	case $tree in
	*[[:space:]]*) kut_die "$tree: run_tests.sh cannot take a path with spaces" ;;
	esac
	missing=$(awk '
		function flush() {
			if (file != "" && arch != "i386")
				print file
			file = ""; arch = ""
		}
		/^\[/ { flush(); next }
		/^file[ \t]*=/ { sub(/^file[ \t]*=[ \t]*/, ""); sub(/[ \t]*$/, ""); file = $0 }
		/^arch[ \t]*=/ { sub(/^arch[ \t]*=[ \t]*/, ""); sub(/[ \t]*$/, ""); arch = $0 }
		END { flush() }' "$tree/x86/unittests.cfg" | sort -u |
		while read -r f; do
			[ -f "$tree/x86/$f" ] || printf ' %s' "$f"
		done)
	[ -z "$missing" ] ||
		kut_die "$tree is not built (missing x86/:$missing): run 'make' in it"
	getopt -T >/dev/null 2>&1
	[ $? -eq 4 ] || kut_die "run_tests.sh needs util-linux's enhanced getopt"
	command -v timeout >/dev/null || kut_die "run_tests.sh needs timeout(1)"
}

# kut_check_qemu BINARY WHAT: the binary passes the runner's own probe
# (search_qemu_binary: "--help" prints "QEMU"); prints its version line.
kut_check_qemu() {
	local bin=$1 what=$2
	[ -n "$bin" ] || kut_die "no $what binary"
	case $bin in
	*[[:space:]]*) kut_die "$bin: run_tests.sh cannot take a path with spaces" ;;
	esac
	[ -x "$bin" ] || kut_die "$what: $bin is missing or not executable"
	"$bin" --help 2>/dev/null | grep -q QEMU ||
		kut_die "$what: '$bin --help' does not print QEMU: run_tests.sh would not take it"
	"$bin" -version 2>/dev/null | head -1
}

# kut_find_qemu: QEMU itself, not splitvm's front end: $KUT_QEMU, else the
# first qemu-system-x86_64 in PATH (or /usr/bin) whose version line does
# not name splitvm. Prints nothing when there is none.
kut_find_qemu() {
	local c
	if [ -n "${KUT_QEMU:-}" ]; then
		echo "$KUT_QEMU"
		return
	fi
	for c in $(type -ap qemu-system-x86_64) /usr/bin/qemu-system-x86_64; do
		[ -x "$c" ] || continue
		"$c" -version 2>/dev/null | head -1 | grep -q splitvm && continue
		echo "$c"
		return
	done
}

# kut_snapshot_splitvm FRONTEND DIR: copies the splitvm binary that
# FRONTEND (build/qemu-system-x86_64, or splitvm itself) resolves to into
# DIR, links DIR/qemu-system-x86_64 to it and prints that link. A run lasts
# minutes; the copy keeps a rebuild of build/ meanwhile out of it.
kut_snapshot_splitvm() {
	local real
	real=$(readlink -f "$1")
	if [ ! -f "$real" ] || [ ! -x "$real" ]; then
		kut_die "splitvm: $1 is missing (build it: ninja -C build)"
	fi
	mkdir -p "$2" || exit 2
	cp "$real" "$2/splitvm" || kut_die "cannot copy $real"
	ln -sfn splitvm "$2/qemu-system-x86_64"
	echo "$2/qemu-system-x86_64"
}

# kut_run VMM BINARY TREE DIR [RUN_TESTS ARGS...]: runs TREE's run_tests.sh
# once, unchanged, with QEMU=BINARY and ACCEL=$KUT_ACCEL, its per-entry
# logs in DIR/logs (run_tests.sh takes unittest_log_dir, relative to the
# tree unless absolute, and moves an old one to DIR/logs.old). Writes
# DIR/run_tests.out and .err (the runner's output) and DIR/verdicts.txt;
# each result line goes to stderr as it comes, as "[VMM] PASS entry ...".
# The environment's TIMEOUT, CHECK and MACHINE reach the runner as usual.
kut_run() {
	local vmm=$1 bin=$2 tree=$3 dir=$4 t0 t1 version
	shift 4
	version=$("$bin" -version 2>/dev/null | head -1)
	mkdir -p "$dir" || exit 2
	dir=$(cd "$dir" && pwd)
	rm -rf "$dir/logs" "$dir/logs.old"
	t0=$EPOCHREALTIME
	(cd "$tree" && exec env QEMU="$bin" ACCEL="$KUT_ACCEL" \
		unittest_log_dir="$dir/logs" ./run_tests.sh -v "$@") \
		</dev/null 2>"$dir/run_tests.err" | tee "$dir/run_tests.out" |
		kut_strip | grep --line-buffered -E '^(PASS|FAIL|SKIP) ' |
		sed -u "s/^/[$vmm] /" >&2
	t1=$EPOCHREALTIME
	{
		echo "# vmm: $vmm"
		echo "# binary: $bin"
		echo "# version: $version"
		echo "# accel: $KUT_ACCEL"
		echo "# tree: $tree"
		echo "# build-head: $(cat "$tree/build-head" 2>/dev/null)"
		echo "# host: $(uname -r), $(nproc) CPUs"
		echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "# args: $*"
		echo "# wall: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
		echo "# logs: $dir/logs"
		kut_strip <"$dir/run_tests.out" | kut_results
	} >"$dir/verdicts.txt"
}

# kut_strip: the runner's output without its colour escapes and CRs.
kut_strip() {
	sed -u 's/\x1b\[[0-9;]*m//g; s/\r$//'
}

# kut_results: the result lines of (colourless) runner output, trailing
# blanks removed.
kut_results() {
	grep -E '^(PASS|FAIL|SKIP) [^ ]' | sed 's/[ \t]*$//'
}

# kut_meta FILE KEY: the value of a "# KEY: value" header line.
kut_meta() {
	sed -n "s/^# $2: //p" "$1" | head -1
}

# kut_convert RUN_TESTS_OUT [QEMU_BINARY]: a verdict file from a saved
# run_tests.sh output (as "./run_tests.sh -v > out" wrote it, colours and
# all). The wall time is taken from a "real XmY.Zs" line of time(1) in it
# or in the .err file beside it (run_tests.err for run_tests.out), or from
# start.epoch and end.epoch files beside it; the version from
# QEMU_BINARY, if given (the binary that made the run, presumably).
kut_convert() {
	local out=$1 bin=${2:-} dir wall=
	[ -f "$out" ] || kut_die "$out: no such file"
	dir=$(cd "$(dirname "$out")" && pwd)
	wall=$(cat "$out" "${out%.out}.err" 2>/dev/null | kut_strip | awk '$1 == "real" && $2 ~ /^[0-9]+m[0-9.]+s$/ {
		split($2, p, "m"); sub(/s$/, "", p[2]); printf "%.1f", p[1] * 60 + p[2] }')
	if [ -z "$wall" ] && [ -f "$dir/start.epoch" ] && [ -f "$dir/end.epoch" ]; then
		wall=$(( $(cat "$dir/end.epoch") - $(cat "$dir/start.epoch") ))
	fi
	echo "# vmm: qemu"
	[ -n "$bin" ] && echo "# binary: $bin" &&
		echo "# version: $("$bin" -version 2>/dev/null | head -1)"
	echo "# accel: $(kut_strip <"$out" | sed -n 's/.* ACCEL=\([^ ]*\) .*/\1/p' | head -1)"
	echo "# source: converted from $out"
	echo "# host: $(uname -r), $(nproc) CPUs"
	echo "# date: $(date -u -r "$out" +%Y-%m-%dT%H:%M:%SZ)"
	echo "# wall: ${wall:-unknown}"
	[ -d "$dir/logs" ] && echo "# logs: $dir/logs"
	kut_strip <"$out" | kut_results
}

# kut_compare SPLITVM_VERDICTS QEMU_VERDICTS ALLOW UNION: TAP, one line
# per entry with both verdicts: ok when they are the same, or when the
# allow-list ALLOW has a line "entry splitvm-verdict qemu-verdict reason"
# for that pair ("*" matches any verdict; a line without "*" whose
# entry now gets the same verdicts is noted as stale). UNION=1: every entry of either
# file (both runs made with the same arguments); 0: only splitvm's
# entries (QEMU's verdicts are a saved full run). Entries that fail under
# one VMM and not the other, or whose checks differ, get the FAIL: lines
# of their logs (the "logs" header of each file) as TAP comments. Prints
# the plan last; returns 1 if any line is "not ok".
kut_compare() {
	awk -v S="$1" -v Q="$2" -v A="$3" -v union="$4" '
	function rest(s, n) {	# s without its first n fields
		while (n-- > 0)
			sub(/^[ \t]*[^ \t]+/, "", s)
		sub(/^[ \t]+/, "", s)
		gsub(/#/, "", s)
		return s
	}
	function fails(f, out,    line, k, r) {	# its FAIL: lines; -1: no such file
		k = 0
		while ((r = (getline line < f)) > 0) {
			sub(/\r$/, "", line)
			if (line ~ /^FAIL: /)
				out[++k] = substr(line, 7)
		}
		close(f)
		return r < 0 && k == 0 ? -1 : k
	}
	# Why a run failed, from its log: the message splitvm gives (not a
	# warning), an ABORT or unhandled exception, else the last line.
	function why(f,    line, last, msg) {
		last = ""; msg = ""
		while ((getline line < f) > 0) {
			sub(/\r$/, "", line)
			if (msg == "" && (line ~ /^splitvm: / && line !~ /warning/ ||
			    line ~ /^(ABORT: |Unhandled exception|KVM internal error)|assert failed/))
				msg = line
			if (line ~ /[^ \t]/)
				last = line
		}
		close(f)
		return substr(msg != "" ? msg : last, 1, 200)
	}
	# The checks that FAIL in one log and not in the other, as comments
	# (only when both logs are there).
	function diffchecks(n,    sf, qf, ns, nq, i, seen, shown, any) {
		if (slogs == "" || qlogs == "")
			return
		ns = fails(slogs "/" n ".log", sf)
		nq = fails(qlogs "/" n ".log", qf)
		if (ns < 0 || nq < 0)
			return
		for (i = 1; i <= nq; i++)
			seen[qf[i]] = 1
		shown = 0
		for (i = 1; i <= ns; i++)
			if (!(sf[i] in seen) && shown++ < 8)
				print "#   only splitvm FAILs: " sf[i]
		any = shown
		delete seen
		for (i = 1; i <= ns; i++)
			seen[sf[i]] = 1
		shown = 0
		for (i = 1; i <= nq; i++)
			if (!(qf[i] in seen) && shown++ < 8)
				print "#   only qemu FAILs: " qf[i]
		if (any + shown > 0 && (ss[n] ~ /^\(timeout/ || qs[n] ~ /^\(timeout/))
			print "#   (a log cut short by the timeout lacks the later checks)"
	}
	FILENAME == A {
		if ($0 ~ /^[ \t]*(#|$)/)
			next
		an[$1] = 1; as[$1] = $2; aq[$1] = $3; ar[$1] = rest($0, 3)
		next
	}
	FILENAME == S || FILENAME == Q {
		if ($0 ~ /^# logs: /) {
			d = substr($0, 9)
			if (FILENAME == S) slogs = d; else qlogs = d
		}
		if ($1 !~ /^(PASS|FAIL|SKIP)$/)
			next
		if (FILENAME == S) {
			if (!($2 in sv)) sorder[++ns] = $2
			sv[$2] = $1; ss[$2] = rest($0, 2)
		} else {
			if (!($2 in qv)) qorder[++nq] = $2
			qv[$2] = $1; qs[$2] = rest($0, 2)
		}
	}
	END {
		quiet = "unexpected failures|^\\(timeout"
		for (i = 1; i <= ns; i++)
			names[++nn] = sorder[i]
		if (union)
			for (i = 1; i <= nq; i++)
				if (!(qorder[i] in sv))
					names[++nn] = qorder[i]
		bad = 0
		for (i = 1; i <= nn; i++) {
			n = names[i]
			s = n in sv ? sv[n] : "none"
			q = n in qv ? qv[n] : "none"
			line = n ": splitvm " s (ss[n] != "" ? " " ss[n] : "") \
			       ", qemu " q (qs[n] != "" ? " " qs[n] : "")
			allowed = (n in an) && (as[n] == s || as[n] == "*") &&
				  (aq[n] == q || aq[n] == "*") && s != "none" && q != "none"
			ok = 1
			if (s == q && s != "none") {
				print "ok " i " - " line
				if ((n in an) && as[n] != "*" && aq[n] != "*")
					print "# note: expected-differences.txt lists " n \
					      " (" as[n] " vs " aq[n] "), but the verdicts match"
			} else if (allowed) {
				print "ok " i " - " line " # allowed: " ar[n]
			} else {
				ok = 0
				bad++
				print "not ok " i " - " line
				if (n in an)
					print "# expected-differences.txt allows " as[n] \
					      " vs " aq[n] " for " n ", not " s " vs " q
			}
			# A failure that is not a count of failed checks nor a
			# timeout: what stopped the test, from its log.
			if (s == "FAIL" && slogs != "" && (ss[n] !~ quiet || !ok))
				print "#   splitvm log: " why(slogs "/" n ".log")
			if (q == "FAIL" && qlogs != "" && qs[n] !~ quiet)
				print "#   qemu log: " why(qlogs "/" n ".log")
			if (s == "FAIL" || q == "FAIL")
				diffchecks(n)
		}
		print "1.." nn
		exit (bad > 0 ? 1 : 0)
	}' "$3" "$1" "$2"
}

# kut_counts VERDICTS: "N PASS, N FAIL, N SKIP".
kut_counts() {
	awk '$1 ~ /^(PASS|FAIL|SKIP)$/ { c[$1]++ }
	     END { printf "%d PASS, %d FAIL, %d SKIP\n", c["PASS"], c["FAIL"], c["SKIP"] }' "$1"
}
