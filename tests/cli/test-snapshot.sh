#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Snapshots through the command line (docs/snapshots.md): a guest asks for
# one through the snapshot port (--snapshot-file), another process starts
# from the file (--restore) and must end exactly as the first did, in both
# irqchip modes; files that do not fit, or are not snapshots, are refused
# with status 126 and a reason. Emits TAP.
set -u

# shellcheck source=tests/cli/tap.sh
. "$(dirname "$0")/tap.sh"
require_kvm
args=(--kernel "$G/snap.elf" --append "rounds=20000 snap_at=7000")

# checksum FILE: the guest's checksum line, if it printed one.
checksum() {
	grep -o 'checksum 0x[0-9a-f]*' "$1"
}

for mode in split kernel; do
	f=$tmp/$mode.snap
	"$SPLITVM" run "${args[@]}" --irqchip "$mode" --snapshot-file "$f" \
		>"$tmp/first.out" 2>"$tmp/first.err"
	st=$?
	check "$mode: the first run ends as the guest says (status 1)" \
		[ "$st" = 1 ]
	check "$mode: it passed the snapshot point" \
		grep -q 'snapshot point at round 7000' "$tmp/first.out"
	check "$mode: the snapshot file was written" [ -s "$f" ]
	"$SPLITVM" run "${args[@]}" --irqchip "$mode" --restore "$f" \
		>"$tmp/again.out" 2>"$tmp/again.err"
	st=$?
	check "$mode: the restored run ends alike (status 1)" [ "$st" = 1 ]
	check "$mode: it started past the snapshot point" \
		bash -c "! grep -q 'snapshot point' '$tmp/again.out'"
	check "$mode: with the first run's checksum" \
		[ -n "$(checksum "$tmp/first.out")" -a \
			"$(checksum "$tmp/first.out")" = "$(checksum "$tmp/again.out")" ]
done

# A --control client's snapshot, at whatever round: a restored run ends
# with the checksum of a whole one (the guest's result depends on every
# round it did, so it must go on from exactly where it was).
f=$tmp/control.snap
{
	sleep 0.1
	echo '{"cmd":"snapshot"}'
	echo '{"cmd":"snapshot","path":"/etc/passwd"}'
	sleep 2
} | "$SPLITVM" run --kernel "$G/snap.elf" --append rounds=20000 \
	--snapshot-file "$f" --control - --serial "file:$tmp/control.con" \
	>"$tmp/control.out" 2>"$tmp/control.err"
check "control: snapshot answers ok" \
	grep -q '^{"ok":true,"cmd":"snapshot"}$' "$tmp/control.out"
check "control: another path is refused (EPERM)" \
	grep -q '"cmd":"snapshot","code":"EPERM"' "$tmp/control.out"
"$SPLITVM" run --kernel "$G/snap.elf" --append rounds=20000 --restore "$f" \
	>"$tmp/again.out" 2>"$tmp/again.err"
check "control: the restored run ends with the whole run's checksum" \
	[ -n "$(checksum "$tmp/control.con")" -a \
		"$(checksum "$tmp/control.con")" = "$(checksum "$tmp/again.out")" ]
echo '{"cmd":"snapshot"}' | "$SPLITVM" run --kernel "$G/snap.elf" \
	--append rounds=2000 --control - --serial none >"$tmp/nofile.out" 2>&1
check "control: without --snapshot-file, ENODEV" \
	grep -q '"code":"ENODEV"' "$tmp/nofile.out"

# 'splitvm test' entries start from a snapshot file (restore =): one that
# fits ends as the whole run did; one of another memory size is that
# entry's failure (126), the others go on.
want=$(checksum "$tmp/first.out")
cat >"$tmp/suite.ini" <<INI
[defaults]
kernel = $(cd "$G" && pwd)/snap.elf
append = rounds=20000 snap_at=7000
restore = $tmp/split.snap

[from-snapshot]
expect-console = $want

[from-snapshot-again]
expect-console = $want

[wrong-size]
memory = 32
INI
"$SPLITVM" test "$tmp/suite.ini" >"$tmp/suite.out" 2>"$tmp/suite.err"
st=$?
check "test: entries restored from the file pass" \
	[ "$(grep -cE '^ok [0-9]+ - from-snapshot(-again)?$' "$tmp/suite.out")" = 2 ]
check "test: one that does not fit fails with 126, and says why" \
	grep -qE '^not ok [0-9]+ - wrong-size .*status 126.*64 MiB, not 1 and 32' \
	"$tmp/suite.out"
check "test: the suite's status says one failed (1)" [ "$st" = 1 ]

# refused FILE REASON ARGS...: --restore FILE gives 126 and REASON.
refused() {
	local file=$1 reason=$2
	shift 2
	"$SPLITVM" run --kernel "$G/snap.elf" --restore "$file" "$@" \
		>"$tmp/r.out" 2>"$tmp/r.err"
	st=$?
	[ "$st" = 126 ] && grep -q "$reason" "$tmp/r.err"
}

f=$tmp/split.snap
check "another memory size is refused, naming both" \
	refused "$f" "taken of 1 vCPUs and 64 MiB, not 1 and 32" --memory 32
check "another irqchip mode is refused" \
	refused "$f" "taken with the split irqchip" --irqchip kernel
check "another vCPU count is refused" \
	refused "$f" "taken of 1 vCPUs" --cpus 2
head -c 4096 /dev/urandom >"$tmp/noise"
check "bytes that are no snapshot are refused" \
	refused "$tmp/noise" "not a splitvm snapshot file"
head -c 3000 "$f" >"$tmp/cut"
check "a cut snapshot file is refused" \
	refused "$tmp/cut" "not a splitvm snapshot file"
check "a missing file is refused" \
	refused "$tmp/none" "No such file"
mkfifo "$tmp/fifo"
timeout 10 "$SPLITVM" run "${args[@]}" --snapshot-file "$tmp/fifo" \
	>"$tmp/fifo.out" 2>"$tmp/fifo.err"
st=$?
check "a FIFO as --snapshot-file is refused at once, not waited on" \
	[ "$st" = 126 ]

echo "1..$n"
[ "$failed" = 0 ]
