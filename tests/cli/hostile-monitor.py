#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs a command (splitvm) and measures what the monitor itself costs.

Usage: hostile-monitor.py OUT_PREFIX COMMAND...

Samples /proc/PID/task/*/stat and /proc/PID/status every 20 ms while the
command runs, then prints one line: "status peak_rss_kib monitor_pct vcpu_user_pct
rss_growth_kib wall_ms". The command's stdout and stderr go to
OUT_PREFIX.out and OUT_PREFIX.err.

- monitor_pct: user + system CPU time of the threads that are not vCPUs
  (the I/O thread, the control thread, the main thread...), in percent of
  the wall time. They serve timers and devices: a guest must not be able
  to make them spin.
- vcpu_user_pct: user-mode CPU time of the vCPU threads ("splitvm-vcpuN"),
  in percent of the wall time: what splitvm's exit handlers cost. The
  guest's own time shows as the vCPU threads' system time on the PVM
  hosts (guest_time stays 0), so system time is not counted.
- rss_growth_kib: RSS at the end minus RSS halfway through the run.
"""
import os
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def task_times(pid):
    """{tid: (name, utime, stime)} in clock ticks, for the live threads."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # "tid (comm) state ...": comm may hold spaces, so split at ')'.
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[tid] = (name, int(fields[11]), int(fields[12]))
    return out


def memory_kib(pid):
    """(VmRSS, VmHWM) in KiB, or None once the process is gone."""
    vals = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key = line.split(":")[0]
                if key in ("VmRSS", "VmHWM"):
                    vals[key] = int(line.split()[1])
    except OSError:
        return None
    return (vals["VmRSS"], vals["VmHWM"]) if len(vals) == 2 else None


def main():
    prefix, cmd = sys.argv[1], sys.argv[2:]
    with open(prefix + ".out", "wb") as out, open(prefix + ".err", "wb") as err:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=err)
        last = {}
        rss = []
        peak = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            last.update(task_times(proc.pid))
            m = memory_kib(proc.pid)
            if m is not None:
                rss.append((time.monotonic() - start, m[0]))
                peak = max(peak, m[1])
            time.sleep(0.02)
        wall = time.monotonic() - start
    st = os.waitstatus_to_exitcode(status)
    if st < 0:
        st = 128 - st
    monitor = vcpu_user = 0
    for name, utime, stime in last.values():
        if name.startswith("splitvm-vcpu"):
            vcpu_user += utime
        elif not name.startswith("kvm"):  # KVM's own kernel workers
            monitor += utime + stime
    half = [r for t, r in rss if t >= wall / 2]
    growth = rss[-1][1] - half[0] if rss and half else 0
    pct = lambda ticks: 100.0 * ticks / TICK / wall
    # VmHWM starts again at exec, while ru_maxrss also counts this Python
    # (the child's memory before exec): the latter only for runs too short
    # to sample, as an upper bound.
    print(st, peak if len(rss) >= 3 else usage.ru_maxrss, f"{pct(monitor):.1f}", f"{pct(vcpu_user):.1f}",
          growth, int(wall * 1000))


main()
