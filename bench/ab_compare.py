#!/usr/bin/env python3
"""Before/after of two builds of regrad-compare, regrad side only.

Usage: ab_compare.py OLD_BINARY NEW_BINARY [--only SUBSTR] [--isa ISA ...]
                     [--runs N] [--rounds N] [--sample-ms MS]

Runs the two binaries one after the other, alternating, --runs times per ISA
(REGRAD_ISA), each run `--rounds R --sample-ms MS --only SUBSTR --no-torch
--json`, and prints a markdown table: per ISA and workload the median of the
runs' medians for each build and new / old (for rates; old / new for times),
so above 1 means the new build is faster. Typical use, the old build from a
git worktree:

  git worktree add /tmp/old <commit>
  (cd /tmp/old && meson setup build-perf -Dbuildtype=release &&
   ninja -C build-perf bench/regrad-compare)
  bench/ab_compare.py /tmp/old/build-perf/bench/regrad-compare \\
      build-perf/bench/regrad-compare --only pytorch/ --isa avx512 avx2
"""
import argparse
import json
import os
import statistics
import subprocess

TIME_UNITS = {"us", "us/op", "s", "ms"}


def run(binary, isa, args):
    """{workload: (figure, unit)} of one run of binary on isa."""
    cmd = [binary, "--rounds", str(args.rounds), "--sample-ms", str(args.sample_ms),
           "--no-torch", "--json"]
    if args.only:
        cmd += ["--only", args.only]
    env = dict(os.environ, REGRAD_ISA=isa)
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return {r["name"]: (r["regrad"], r["unit"]) for r in json.loads(out)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--only", default="")
    ap.add_argument("--isa", nargs="+", default=["avx512"])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sample-ms", type=int, default=100)
    args = ap.parse_args()
    print("| isa | workload | unit | old | new | new vs old |")
    print("|---|---|---|--:|--:|--:|")
    for isa in args.isa:
        figures = {"old": {}, "new": {}}
        for _ in range(args.runs):
            for side in ("old", "new"):
                for name, value in run(getattr(args, side), isa, args).items():
                    figures[side].setdefault(name, []).append(value)
        for name, runs in figures["new"].items():
            if name not in figures["old"]:
                continue
            unit = runs[0][1]
            old = statistics.median(v for v, _ in figures["old"][name])
            new = statistics.median(v for v, _ in runs)
            ratio = old / new if unit in TIME_UNITS else new / old
            print(f"| {isa} | {name} | {unit} | {old:.4g} | {new:.4g} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
