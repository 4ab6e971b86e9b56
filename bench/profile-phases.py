#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Where a process's CPU time goes, by phase, from `perf script` output.

    perf record -e cpu-clock -F 20000 -g -o P.data -- CMD...
    perf script -i P.data | bench/profile-phases.py COMM [RUNS]

Each sample of COMM (or of its threads, named COMM-...) is put in the first phase whose marker appears in its
call chain (kernel and user frames); prints the share of each phase and,
given RUNS (how many processes were recorded), samples per run: at one
sampling rate, two commands' samples per run compare their CPU time."""
import sys

PHASES = [
    ("guest: KVM_RUN (interpreting CPL0 code, exits)",
     ["kvm_arch_vcpu_ioctl_run"]),
    ("KVM_GET_SUPPORTED_CPUID", ["kvm_dev_ioctl_get_cpuid"]),
    ("KVM_SET_CPUID2", ["kvm_vcpu_ioctl_set_cpuid2"]),
    ("VM teardown (last close of the VM fd)",
     ["kvm_destroy_vm", "kvm_vm_release", "kvm_vcpu_release"]),
    ("KVM_CREATE_VM / VCPU / IRQCHIP / PIT", ["kvm_dev_ioctl_create_vm",
     "kvm_vm_ioctl_create_vcpu", "kvm_create_pic", "kvm_create_pit",
     "kvm_ioapic_init", "kvm_arch_vm_ioctl"]),
    ("other KVM ioctls", ["kvm_vm_ioctl", "kvm_vcpu_ioctl", "kvm_dev_ioctl"]),
    ("seccomp filters", ["libseccomp", "seccomp"]),
    ("splitvm: FDT, ACPI, MP and BIOS tables",
     ["vm_build_fdt", "vm_describe_machine", "vm_write_firmware_tables",
      "vm_write_bios"]),
    ("splitvm: kernel file and loading", ["vm_prepare_boot",
                                          "vm_load_kernel", "file_map"]),
    ("splitvm: devices and irqchip set-up", ["vm_create_devices",
                                             "vm_create_irqchip"]),
    ("splitvm: guest RAM mapping", ["vm_map_ram"]),
    ("splitvm: teardown", ["vm_destroy"]),
    ("exec and dynamic linking", ["ld-linux", "load_elf_binary",
                                  "bprm_execve"]),
    ("threads: create and exit", ["clone", "do_exit", "exit_mm"]),
    ("process exit (mm teardown)", ["do_group_exit", "exit_mmap"]),
    ("page faults", ["exc_page_fault"]),
    ("other", [""]),
]


def main():
    comm = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    counts = {p[0]: 0 for p in PHASES}
    total = 0
    sample = None

    def flush(s):
        nonlocal total
        # COMM and its threads (splitvm-vcpu0, splitvm-io...); COMM may
        # be a comma-separated list (svbench,splitvm: the driver and the
        # library's threads).
        if not s or not any(s[0] == c or s[0].startswith(c + "-")
                            for c in comm.split(",")):
            return
        chain = " ".join(s[1:])
        for name, marks in PHASES:
            if any(m in chain for m in marks):
                counts[name] += 1
                break
        total += 1

    for line in sys.stdin:
        if not line.strip():
            flush(sample)
            sample = None
        elif not line.startswith((" ", "\t")):
            sample = [line.split()[0]]
        elif sample is not None:
            sample.append(line.strip())
    flush(sample)
    print("%-50s %6s %12s" % ("phase (%s, %d samples)" % (comm, total),
                              "share", "samples/run" if runs else ""))
    for name, _ in PHASES:
        if counts[name]:
            print("%-50s %5.1f%% %12s" % (
                name, 100.0 * counts[name] / max(total, 1),
                "%.1f" % (counts[name] / runs) if runs else ""))


if __name__ == "__main__":
    main()
