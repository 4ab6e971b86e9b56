#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The report of bench/kut/run: results.json and results.md from the two
verdict files (tests/kvm-unit-tests/kut-lib.sh's format) and compare.tap
(kut_compare's TAP), or the table of an earlier results.json (--table).
"""
import argparse
import json
import os
import platform
import re
import sys

VERDICTS = ("PASS", "FAIL", "SKIP")


def read_verdicts(path):
    """The header ("# key: value") and the entries, in order, of a
    verdict file."""
    meta, entries = {}, []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.match(r"# ([a-z-]+): (.*)", line)
            if m:
                meta.setdefault(m.group(1), m.group(2))
                continue
            m = re.match(r"(PASS|FAIL|SKIP) (\S+) ?(.*)", line)
            if m:
                entries.append({"name": m.group(2), "verdict": m.group(1),
                                "summary": m.group(3)})
    return meta, entries


def read_compare(path):
    """name -> (ok, allowed reason or None) from kut_compare's TAP."""
    res = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"(not ok|ok) \d+ - ([^:]+):.*?(?: # allowed: (.*))?$",
                         line.rstrip("\n"))
            if m:
                res[m.group(2)] = (m.group(1) == "ok", m.group(3))
    return res


def wall(meta):
    try:
        return float(meta.get("wall", ""))
    except ValueError:
        return None


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def side(meta, entries, saved=False):
    counts = {v: sum(1 for e in entries if e["verdict"] == v)
              for v in VERDICTS}
    return {"version": meta.get("version", ""),
            "binary": meta.get("binary", ""),
            "wall_s": wall(meta), "date": meta.get("date", ""),
            "host": meta.get("host", ""), "args": meta.get("args", ""),
            "logs": meta.get("logs", ""), "saved": saved,
            "source": meta.get("source", ""),
            "entries": len(entries), "counts": counts}


def table(res):
    s, q = res["splitvm"], res["qemu"]
    qname = "QEMU, split irqchip" + (" (saved run)" if q["saved"] else "")

    def fmt(x):
        return "n/a" if x is None else "%.1f" % x
    ratio = res.get("ratio_wall")
    lines = [
        "kvm-unit-tests %s, %s, ACCEL=%s; %s" % (
            res["build_head"], res["subset"] or "every x86 entry",
            res["accel"], res["machine"]["summary"]),
        "",
        "| | splitvm | %s |" % qname,
        "| --- | --- | --- |",
        "| wall time of run_tests.sh (s) | %s | %s |" % (
            fmt(s["wall_s"]), fmt(q["wall_s"])),
        "| ratio to QEMU | %s | 1 |" % (
            "n/a" if ratio is None else "%.2f" % ratio),
    ]
    for v in VERDICTS:
        lines.append("| %s | %d | %d |" % (v, s["counts"][v], q["counts"][v]))
    lines.append("| entries | %d | %d |" % (s["entries"], q["entries"]))
    d = res["differences"]
    lines += ["", "%d entries, %d with the same verdict, %d different "
              "(%d in expected-differences.txt, %d not)." % (
                  len(res["entries"]), d["same"], d["allowed"] + d["unexpected"],
                  d["allowed"], d["unexpected"])]
    diff = [e for e in res["entries"] if e["splitvm"] != e["qemu"]]
    if diff:
        lines += ["", "| entry | splitvm | QEMU | allowed because |",
                  "| --- | --- | --- | --- |"]
        for e in diff:
            lines.append("| %s | %s | %s | %s |" % (
                e["name"], e["splitvm"], e["qemu"],
                e["allowed"] or "**not in the allow-list**"))
    if q["saved"]:
        lines += ["", "QEMU's figures are a saved run's (%s, %s)." % (
            q["source"] or q["date"], q["host"])]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--splitvm")
    ap.add_argument("--qemu")
    ap.add_argument("--compare")
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--qemu-saved", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--table", metavar="JSON")
    a = ap.parse_args()
    if a.table:
        with open(a.table, encoding="utf-8") as f:
            sys.stdout.write(table(json.load(f)))
        return 0
    if not (a.splitvm and a.qemu and a.compare and a.out):
        ap.error("--splitvm, --qemu, --compare and --out are needed")

    smeta, sent = read_verdicts(a.splitvm)
    qmeta, qent = read_verdicts(a.qemu)
    cmp = read_compare(a.compare)
    sv = {e["name"]: e for e in sent}
    qv = {e["name"]: e for e in qent}
    names = [e["name"] for e in sent]
    names += [n for n in qv if n not in sv and n in cmp]
    entries, same, allowed, unexpected = [], 0, 0, 0
    for n in names:
        s, q = sv.get(n), qv.get(n)
        ok, why = cmp.get(n, (False, None))
        e = {"name": n,
             "splitvm": s["verdict"] if s else "none",
             "splitvm_summary": s["summary"] if s else "",
             "qemu": q["verdict"] if q else "none",
             "qemu_summary": q["summary"] if q else "",
             "ok": ok, "allowed": why}
        if e["splitvm"] == e["qemu"]:
            same += 1
        elif ok:
            allowed += 1
        else:
            unexpected += 1
        entries.append(e)
    res = {
        "benchmark": "kvm-unit-tests run_tests.sh wall time, splitvm vs "
                     "QEMU (kernel_irqchip=split)",
        "tree": smeta.get("tree", ""),
        "build_head": smeta.get("build-head", ""),
        "accel": smeta.get("accel", ""),
        "subset": smeta.get("args", ""),
        "splitvm_commit": a.commit,
        "machine": {"kernel": platform.release(), "cpus": os.cpu_count(),
                    "cpu": cpu_model(),
                    "pvm": os.path.exists("/sys/module/kvm_pvm")},
        "splitvm": side(smeta, sent),
        "qemu": side(qmeta, qent, a.qemu_saved),
        "differences": {"same": same, "allowed": allowed,
                        "unexpected": unexpected},
        "entries": entries,
    }
    m = res["machine"]
    m["summary"] = "%s, %d CPUs, kernel %s%s" % (
        m["cpu"], m["cpus"], m["kernel"], " (PVM)" if m["pvm"] else "")
    sw, qw = res["splitvm"]["wall_s"], res["qemu"]["wall_s"]
    res["ratio_wall"] = sw / qw if sw and qw else None
    if a.qemu_saved and res["subset"] != res["qemu"]["args"]:
        res["ratio_wall"] = None  # a subset against a whole run
    with open(os.path.join(a.out, "results.json"), "w",
              encoding="utf-8") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    md = table(res)
    with open(os.path.join(a.out, "results.md"), "w", encoding="utf-8") as f:
        f.write(md)
    sys.stdout.write(md)
    print("\nwritten: %s/results.json, results.md, compare.tap" % a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
