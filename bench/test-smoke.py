#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The benchmark suite's smoke test (TAP): bench/run --smoke (2-4
iterations, no QEMU) must write a well-formed results.json naming every
figure and variant, with numbers for splitvm and the floor, plus the
markdown table and, when gnuplot is installed, the plots. It checks that
the suite works, never how fast anything is."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

RUN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run")
build = os.environ.get("SPLITVM_BUILD", "build")
n = 0
failed = 0


def ok(cond, name, why=""):
    global n, failed
    n += 1
    if not cond:
        failed += 1
    print("%s %d - %s%s" % ("ok" if cond else "not ok", n, name,
                            "" if cond or not why else ": " + why))


def main():
    if not os.path.exists("/dev/kvm"):
        print("1..0 # SKIP /dev/kvm is missing")
        return 77
    figs, variants = [l.split() for l in subprocess.run(
        [sys.executable, RUN, "--list"], stdout=subprocess.PIPE, text=True,
        check=True).stdout.splitlines()]
    with tempfile.TemporaryDirectory() as out:
        p = subprocess.run([sys.executable, RUN, "--smoke", "--no-build",
                            "--no-qemu", "--build", build, "--out", out],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=170)
        ok(p.returncode == 0, "bench/run --smoke exits 0",
           p.stderr.strip()[-300:])
        try:
            with open(os.path.join(out, "results.json")) as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            ok(False, "results.json is well-formed JSON", str(e))
            doc = {"figures": {}}
        else:
            ok(True, "results.json is well-formed JSON")
        ok(set(doc["figures"]) == set(figs), "every figure is in it",
           "missing %s" % sorted(set(figs) - set(doc["figures"])))
        for fig in figs:
            res = doc["figures"].get(fig, {}).get("results", {})
            ok(set(res) == set(variants), "%s: every variant reported" % fig)
            # The floor has no snapshots: resets and forks are splitvm's.
            for v in (("splitvm",) if fig in ("reset", "fork3k", "save",
                                              "restore")
                      else ("splitvm", "floor")):
                s = res.get(v, {})
                good = (isinstance(s.get("median"), (int, float)) and
                        s["median"] > 0 and s["n"] >= 1 and
                        s["median"] <= s["p90"] <= s["p99"] <= s["max"])
                ok(good, "%s: %s has a positive median <= p90 <= p99" %
                   (fig, v), str(s))
            for v in ("qemu-microvm", "qemu-pc"):
                ok("na" in res.get(v, {}),
                   "%s: %s says n/a and why" % (fig, v))
        table = p.stdout
        ok(all("| %s |" % f in table for f in figs),
           "the printed table has a row per figure")
        ok(os.path.exists(os.path.join(out, "results.md")), "results.md")
        if shutil.which("gnuplot"):
            ok(os.path.exists(os.path.join(out, "plots", "edge.png")),
               "plots/edge.png written")
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
