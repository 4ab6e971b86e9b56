# SPDX-License-Identifier: MIT
# Sourced by test-qemu.sh and test-qemu-frontend.sh: the QEMU command line
# test scripts use, and the guests both scripts run through it. The
# sourcing script defines same(), which runs one case and compares.

# qemu_line ACCEL CPUS MEM_MIB APPEND KERNEL [MODULE...]: sets the array
# qargs to the options a test script passes to qemu-system-x86_64.
qemu_line() {
	local accel=$1 cpus=$2 mem=$3 append=$4 kernel=$5 mods=''
	shift 5
	for m in "$@"; do
		mods=${mods:+$mods,}$m
	done
	qargs=(-accel "$accel" -m "$mem" -smp "$cpus"
		-display none -nodefaults -no-reboot
		-device isa-debug-exit,iobase=0xf4,iosize=4 -serial stdio
		-kernel "$kernel" -append "$append" ${mods:+-initrd "$mods"})
}

# The byte sum of a file modulo 2^32: the module checksum bootinfo expects.
sum() { od -An -v -tu1 "$1" | tr -s ' ' '\n' | awk '{s += $1} END {print s % 4294967296}'; }

# run_cases GUESTS_DIR TMPDIR: same NAME CPUS MEM_MIB APPEND KERNEL [MODULE...]
run_cases() {
	local G=$1 tmp=$2
	same "demo" 1 64 "" "$G/demo.elf"
	for code in 0 3 42 127; do
		same "exitcode $code" 1 64 "exit=$code" "$G/exitcode.elf"
	done
	head -c 50000 /dev/urandom >"$tmp/m0"
	head -c 777 /dev/urandom >"$tmp/m1"
	same "bootinfo, 2 modules, 2 CPUs" 2 96 \
		"mods=2 mod0=50000:$(sum "$tmp/m0") mod1=777:$(sum "$tmp/m1") cpus=2 mem=96" \
		"$G/bootinfo.elf" "$tmp/m0" "$tmp/m1"
	same "bootinfo notices a wrong checksum" 1 64 \
		"mods=1 mod0=777:1 cpus=1 mem=64" "$G/bootinfo.elf" "$tmp/m1"
	# PVH (an ELF64 with the Xen entry note); QEMU takes one module.
	same "pvhinfo, 1 module" 1 64 \
		"mods=1 mod0=50000:$(sum "$tmp/m0") mem=64" "$G/pvhinfo.pvh" \
		"$tmp/m0"
	same "pvhinfo notices a wrong checksum" 1 64 \
		"mods=1 mod0=777:1 mem=64" "$G/pvhinfo.pvh" "$tmp/m1"
}
