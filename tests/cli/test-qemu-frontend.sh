#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The QEMU front end: the project's guests run with the QEMU command lines
# of test-qemu.sh through build/qemu-system-x86_64 (the link to splitvm)
# must end as under 'splitvm run' (and as under QEMU, which test-qemu.sh
# checks): same status, same serial output. Then the options only the
# front end has, the -no-reboot statuses (against QEMU when it is
# installed) and the refusals. Emits TAP.
set -u

# shellcheck source=tests/cli/tap.sh
. "$(dirname "$0")/tap.sh"
FRONTEND=${QEMU_FRONTEND:-build/qemu-system-x86_64}
QEMU=${QEMU:-}

require_kvm

# fe ARGS...: the front end, as a script would run QEMU. Sets st.
fe() {
	timeout 120 "$FRONTEND" "$@" >"$tmp/fe.out" 2>"$tmp/fe.err" </dev/null
	st=$?
}

# shellcheck source=tests/cli/qemu-cases.sh
. "$(dirname "$0")/qemu-cases.sh"

# same NAME CPUS MEM_MIB APPEND KERNEL [MODULE...]: native vs front end.
same() {
	local name=$1 cpus=$2 mem=$3 append=$4 kernel=$5
	shift 5
	local sv_args=()
	for m in "$@"; do
		sv_args+=(--module "$m")
	done
	"$SPLITVM" run --kernel "$kernel" --cpus "$cpus" --memory "$mem" \
		--append "$append" --timeout 60 "${sv_args[@]}" \
		>"$tmp/sv.out" 2>"$tmp/sv.err" </dev/null
	local sv=$?
	qemu_line kvm "$cpus" "$mem" "$append" "$kernel" "$@"
	fe "${qargs[@]}"
	if [ "$sv" = "$st" ] && [ $((st & 1)) = 1 ] &&
		cmp -s "$tmp/sv.out" "$tmp/fe.out" && [ -s "$tmp/fe.out" ]; then
		ok "$name: both exit $st, same serial output"
	else
		not_ok "$name: splitvm run $sv, front end $st"
	fi
}

# expect NAME STATUS GREP-PATTERN: the last fe's status and serial output.
expect() {
	if [ "$st" = "$2" ] && grep -q -- "$3" "$tmp/fe.out"; then
		ok "$1: exit $st"
	else
		not_ok "$1: exit $st, wanted $2 and '$3' in the output"
	fi
}

run_cases "$G" "$tmp"

# The options the shared line does not use, each shown by a guest that
# checks what it got: bootinfo verifies the memory size, CPU count and
# modules against its command line.
for m in "96" "96M" "size=96M" "98304K" "100663296B"; do
	fe -m "$m" -smp cpus=2 -kernel "$G/bootinfo.elf" -nographic \
		-append "mods=0 cpus=2 mem=96" -device isa-debug-exit,iobase=0xf4,iosize=0x04
	expect "bootinfo sees -m $m" 1 "SUMMARY: .* 0 failures"
done
fe -m 1G -smp 4,sockets=1,cores=4,threads=1 -kernel "$G/bootinfo.elf" \
	-serial mon:stdio -append "mods=0 cpus=4 mem=1024"
expect "bootinfo sees -m 1G -smp 4,sockets=1,cores=4,threads=1" 1 "0 failures"
fe --machine q35,accel=kvm,kernel-irqchip=split --smp 4 --m 128M \
	--nographic --kernel "$G/tour.elf" --device pc-testdev
expect "tour, 4 CPUs, split irqchip, --options" 1 "tour: 4 CPUs up"
fe -machine pc -accel kvm,kernel-irqchip=on -enable-kvm -cpu host -smp 2 \
	-serial stdio -kernel "$G/tour.elf" -vga none -vnc none -monitor none
expect "tour, 2 CPUs, kernel-irqchip=on (KVM's chips)" 1 "tour: 2 CPUs up"
fe -smp cores=2,threads=2 -kernel "$G/smp.elf" -nographic -name smp
expect "smp, -smp cores=2,threads=2" 1 "0 failures"

# -serial file: and -serial null; the link found through PATH; the
# subcommand; a copy by another name.
# (QEMU's default memory is 128 MiB, and so is the front end's.)
fe -kernel "$G/demo.elf" -serial "file:$tmp/com1.txt"
"$SPLITVM" run --kernel "$G/demo.elf" --memory 128 >"$tmp/sv.out" 2>&1 </dev/null
if [ "$st" = 1 ] && [ ! -s "$tmp/fe.out" ] && cmp -s "$tmp/com1.txt" "$tmp/sv.out"; then
	ok "-serial file:PATH gets the serial output"
else
	not_ok "-serial file:PATH: exit $st"
fi
fe -kernel "$G/exitcode.elf" -append exit=5 -serial null
if [ "$st" = 11 ] && [ ! -s "$tmp/fe.out" ]; then
	ok "-serial null: no output, exit 11"
else
	not_ok "-serial null: exit $st"
fi
PATH="$(dirname "$FRONTEND"):$PATH" qemu-system-x86_64 -kernel "$G/exitcode.elf" \
	-append exit=9 </dev/null >/dev/null 2>&1
st=$?
[ "$st" = 19 ] && ok "qemu-system-x86_64 through PATH: exit 19" ||
	not_ok "qemu-system-x86_64 through PATH: exit $st"
"$SPLITVM" qemu -kernel "$G/exitcode.elf" -append exit=9 </dev/null >/dev/null 2>&1
st=$?
[ "$st" = 19 ] && ok "splitvm qemu ...: exit 19" || not_ok "splitvm qemu: exit $st"
ln -s "$(readlink -f "$SPLITVM")" "$tmp/qemu-system-x86_64-splitvm"
"$tmp/qemu-system-x86_64-splitvm" -kernel "$G/exitcode.elf" -append exit=9 \
	</dev/null >/dev/null 2>&1
st=$?
[ "$st" = 19 ] && ok "a link named qemu-system-x86_64-splitvm: exit 19" ||
	not_ok "qemu-system-x86_64-splitvm: exit $st"

# Reset and triple fault: QEMU with -no-reboot exits 0; without it QEMU
# reboots for ever, splitvm ends with its own status (4) and says why.
fe -no-reboot -nodefaults -serial stdio -kernel "$G/triple.elf"
expect "triple fault with -no-reboot" 0 "loading an empty IDT"
fe -serial stdio -kernel "$G/triple.elf"
if [ "$st" = 4 ] && grep -q "triple fault" "$tmp/fe.err"; then
	ok "triple fault without -no-reboot: exit 4, said on stderr"
else
	not_ok "triple fault without -no-reboot: exit $st"
fi
if [ -n "$QEMU" ]; then
	for kv in "exitcode.elf exit=4" "triple.elf x" "demo.elf x"; do
		read -r k a <<<"$kv"
		qemu_line tcg 1 64 "$a" "$G/$k"
		timeout 120 "$QEMU" "${qargs[@]}" >/dev/null 2>&1 </dev/null
		q=$?
		qemu_line kvm 1 64 "$a" "$G/$k"
		fe "${qargs[@]}"
		[ "$q" = "$st" ] && ok "$k: QEMU and the front end both exit $st" ||
			not_ok "$k: QEMU $q, front end $st"
	done
fi

# Refusals: status 2, one line on stderr naming the option, no VM.
refused() {
	local what=$1 label
	shift
	label="$*"
	label=${label//"$G/"/}
	fe "$@"
	if [ "$st" = 2 ] && [ "$(wc -l <"$tmp/fe.err")" = 1 ] &&
		grep -q -- "^splitvm: $what" "$tmp/fe.err" && [ ! -s "$tmp/fe.out" ]; then
		ok "refused: $label"
	else
		not_ok "refused: $label: exit $st"
	fi
}
refused "-accel tcg: splitvm runs only on KVM" -accel tcg -kernel "$G/demo.elf"
refused "-machine accel=tcg: splitvm runs only on KVM" -machine pc,accel=tcg -kernel "$G/demo.elf"
refused "-machine kernel-irqchip=off is not supported" -M q35,kernel-irqchip=off -kernel "$G/demo.elf"
refused "qemu option -xyz is not supported" -kernel "$G/demo.elf" -xyz
refused "qemu option -hda is not supported: splitvm has no disks" -hda disk.img -kernel "$G/demo.elf"
refused "qemu option -S is not supported" -S -kernel "$G/demo.elf"
refused "-device 'virtio-net-pci' is not supported" -device virtio-net-pci -kernel "$G/demo.elf"
refused "-device isa-debug-exit: splitvm's is at iobase=0xf4,iosize=4" -device isa-debug-exit -kernel "$G/demo.elf"
refused "-m: '99999999999999G' is not a size" -m 99999999999999G -kernel "$G/demo.elf"
refused "-smp: maxcpus 8 is not cpus 4" -smp 4,maxcpus=8 -kernel "$G/demo.elf"
refused "-serial 'pty' is not supported" -serial pty -kernel "$G/demo.elf"
refused "qemu option -append needs a value" -kernel "$G/demo.elf" -append
refused "-kernel FILE is needed" -m 64
refused "unexpected argument 'disk.img'" -kernel "$G/demo.elf" disk.img
# A missing kernel: QEMU's words (test runners grep them), splitvm's
# status: QEMU's 1 would read as debug-exit code 0, a pass.
fe -kernel "$tmp/missing.elf"
[ "$st" = 126 ] && grep -qx "qemu: could not open kernel file '$tmp/missing.elf': No such file or directory" "$tmp/fe.err" &&
	ok "a missing kernel: QEMU's words, exit 126" || not_ok "a missing kernel: exit $st"

echo "1..$n"
[ $failed = 0 ]
