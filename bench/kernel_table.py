#!/usr/bin/env python3
"""Markdown table of regrad-bench results.

Usage: kernel_table.py RESULTS.json [MORE.json ...]   ("-" reads stdin)

Reads Google Benchmark JSON (regrad-bench --benchmark_format=json or
--benchmark_out=FILE) and prints one row per kernel slot and size, one column
per ISA: the figure and, beside it, the ratio to scalar. Figures are
elements/ns (items_per_second), GB/s (bytes read) or GFLOP/s, whichever the
benchmark reported. With --benchmark_repetitions the median is used,
otherwise the mean of the runs of a name; several files are merged.
"""
import json
import math
import sys

ISA_ORDER = ["scalar", "neon", "avx2", "avx512"]


def metric(run):
    """(value, unit) of one benchmark entry."""
    if "GFLOP/s" in run:
        return run["GFLOP/s"], "GFLOP/s"
    if "bytes_per_second" in run:
        return run["bytes_per_second"] / 1e9, "GB/s"
    return run["items_per_second"] / 1e9, "elem/ns"


def load(paths):
    """Results by (slot, size, isa) -> (value, unit, label), and contexts."""
    runs, medians, contexts = {}, {}, []
    for path in paths:
        with (sys.stdin if path == "-" else open(path)) as f:
            doc = json.load(f)
        contexts.append(doc.get("context", {}))
        for run in doc.get("benchmarks", []):
            parts = run.get("run_name", run["name"]).split("/")
            if run.get("error_occurred") or len(parts) != 3:
                continue
            slot, isa, size = parts
            key = (slot, size, isa)
            if run.get("run_type") == "aggregate":
                if run.get("aggregate_name") == "median":
                    medians[key] = run
            else:
                runs.setdefault(key, []).append(run)
    results = {}
    for key, entries in runs.items():
        if key in medians:
            entries = [medians[key]]
        values = [metric(r)[0] for r in entries]
        results[key] = (sum(values) / len(values), metric(entries[0])[1],
                        entries[0].get("label", ""))
    return results, contexts


def fmt(value):
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def table(results):
    """Markdown lines: rows in first-seen order, ISA columns in ISA_ORDER."""
    rows = list(dict.fromkeys((slot, size) for slot, size, _ in results))
    seen = {isa for _, _, isa in results}
    isas = [i for i in ISA_ORDER if i in seen] + sorted(seen - set(ISA_ORDER))
    lines = ["| slot | size | shape | unit | " + " | ".join(isas) + " |",
             "|---|---|---|---|" + "--:|" * len(isas)]
    ratios = {isa: [] for isa in isas}
    for slot, size in rows:
        cells, unit, label = [], "", ""
        base = results.get((slot, size, "scalar"))
        for isa in isas:
            r = results.get((slot, size, isa))
            if not r:
                cells.append("–")
                continue
            value, unit, label = r
            cell = fmt(value)
            if base and isa != "scalar" and base[0] > 0:
                ratios[isa].append(value / base[0])
                cell += f" ({value / base[0]:.1f}x)"
            cells.append(cell)
        lines.append(f"| {slot} | {size} | {label} | {unit} | " + " | ".join(cells) + " |")
    return lines, ratios


def summary(ratios, contexts):
    ctx = contexts[0] if contexts else {}
    out = [f"Measured {ctx.get('date', '?')} on {ctx.get('num_cpus', '?')} CPUs at "
           f"{ctx.get('mhz_per_cpu', '?')} MHz; ISAs: {ctx.get('regrad_isas', '?')}"
           + (f" (skipped, CPU lacks: {ctx['regrad_isas_skipped']})"
              if ctx.get("regrad_isas_skipped") else "") + "."]
    for isa, values in ratios.items():
        if values:
            geo = math.exp(sum(math.log(v) for v in values) / len(values))
            out.append(f"Geometric mean of {isa} / scalar over {len(values)} rows: {geo:.1f}x.")
    return out


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    results, contexts = load(argv[1:])
    if not results:
        print("kernel_table.py: no slot/isa/size results in the input", file=sys.stderr)
        return 1
    lines, ratios = table(results)
    print("\n".join(lines + [""] + summary(ratios, contexts)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
