#!/usr/bin/env python3
"""Before/after of two builds of regrad-compare (regrad side) or regrad-bench.

Usage: ab_compare.py OLD_BINARY NEW_BINARY [--only SUBSTR] [--isa ISA ...]
                     [--runs N] [--rounds N] [--sample-ms MS]
       ab_compare.py --kernels OLD_BENCH NEW_BENCH [--only REGEX] [--runs N]

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

With --kernels the binaries are regrad-bench: each run is one pass over
every slot, ISA and size (--only: a --benchmark_filter regex), figures as
kernel_table.py reads them (elements/ns, GB/s, GFLOP/s: rates).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_table import metric  # noqa: E402

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


def run_kernels(binary, args):
    """{slot/isa/size: (figure, unit)} of one pass of regrad-bench."""
    cmd = [binary, "--benchmark_min_time=0.05", "--benchmark_format=json"]
    if args.only:
        cmd.append("--benchmark_filter=" + args.only)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return {r["name"]: metric(r) for r in json.loads(out)["benchmarks"]
            if not r.get("error_occurred")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--only", default="")
    ap.add_argument("--isa", nargs="+", default=["avx512"])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sample-ms", type=int, default=100)
    ap.add_argument("--kernels", action="store_true", help="the binaries are regrad-bench")
    args = ap.parse_args()
    if args.kernels:
        args.isa = ["all"]  # regrad-bench runs every ISA itself
    print("| isa | workload | unit | old | new | new vs old |")
    print("|---|---|---|--:|--:|--:|")
    for isa in args.isa:
        figures = {"old": {}, "new": {}}
        for _ in range(args.runs):
            for side in ("old", "new"):
                binary = getattr(args, side)
                got = run_kernels(binary, args) if args.kernels else run(binary, isa, args)
                for name, value in got.items():
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
