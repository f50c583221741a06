#!/usr/bin/env python3
"""Summaries of bench RESULT lines ("RESULT <name> <value> <unit>", one per run),
used by bench/run.sh and bench/cluster.sh.

  summary.py summary FILE
      SUMMARY <name> median=.. min=.. max=.. <unit> (runs=R), names in first-seen order
  summary.py compare OURS THEIRS
      COMPARE lines: each name with median [min - max] in both files side by side,
      and the ratio of the medians (ours / theirs)
  summary.py table --rows "a b" --col LABEL=PATTERN ... --vs LABEL FILE...
      one row per word of --rows; a column per --col whose RESULT name is PATTERN
      with {} replaced by the row; then, for every other column, the ratio of its
      median to the median of the --vs column
"""
import argparse
import statistics
import sys


def load(*paths):
    """RESULT values by name (a file that cannot be read counts as empty)."""
    vals, units, order = {}, {}, []
    for p in paths:
        try:
            lines = open(p).readlines()
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if len(f) >= 4 and f[0] == "RESULT":
                if f[1] not in vals:
                    vals[f[1]] = []
                    order.append(f[1])
                vals[f[1]].append(float(f[2]))
                units[f[1]] = f[3]
    return vals, units, order


def fmt(v):
    if not v:
        return "-"
    m = statistics.median(v)
    d = 0 if m >= 1000 else 2
    return f"{m:,.{d}f} [{min(v):,.{d}f} - {max(v):,.{d}f}]"


def summary(path):
    vals, units, order = load(path)
    for n in order:
        v = vals[n]
        print(f"SUMMARY {n} median={statistics.median(v):.2f} min={min(v):.2f} max={max(v):.2f} "
              f"{units[n]} (runs={len(v)})")


# our workloads cloudwu/skynet has no twin of, and the figure of theirs each is set beside
AGAINST = {"spawn_main": "spawn", "spawn_main_rss": "spawn_rss"}


def compare(ours, theirs):
    a, ua, oa = load(ours)
    b, ub, ob = load(theirs)
    names = oa + [n for n in ob if n not in a]
    print(f"{'COMPARE name':<34} {'ours median [min-max]':<34} {'cloudwu/skynet median [min-max]':<34} {'ours/cw':<8} unit")
    for n in names:
        t = b.get(n) or b.get(AGAINST.get(n, n))
        ratio = f"{statistics.median(a[n]) / statistics.median(t):.2f}x" if a.get(n) and t and statistics.median(t) else "-"
        print(f"COMPARE {n:<26} {fmt(a.get(n)):<34} {fmt(t):<34} {ratio:<8} {ua.get(n) or ub.get(n)}")


def table(rows, cols, vs, paths):
    vals, units, _ = load(*paths)
    cols = [c.split("=", 1) for c in cols]
    labels = [label for label, _ in cols]
    if vs not in labels:
        sys.exit(f"--vs {vs}: not a column label")
    others = [label for label in labels if label != vs]
    lines = [["workload"] + labels + [f"{label} / {vs}" for label in others] + ["unit"]]
    for row in rows.split():
        names = [pattern.replace("{}", row) for _, pattern in cols]
        v = {label: vals.get(name) for label, name in zip(labels, names)}
        ratios = [f"{statistics.median(v[label]) / statistics.median(v[vs]):.2f}x" if v[label] and v[vs] else "-"
                  for label in others]
        unit = next((units[n] for n in names if n in units), "")
        lines.append([row] + [fmt(v[label]) for label in labels] + ratios + [unit])
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for line in lines:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("summary").add_argument("file")
    c = sub.add_parser("compare")
    c.add_argument("ours")
    c.add_argument("theirs")
    t = sub.add_parser("table")
    t.add_argument("--rows", required=True)
    t.add_argument("--col", action="append", required=True)
    t.add_argument("--vs", required=True)
    t.add_argument("files", nargs="+")
    a = ap.parse_args()
    if a.cmd == "summary":
        summary(a.file)
    elif a.cmd == "compare":
        compare(a.ours, a.theirs)
    else:
        table(a.rows, a.col, a.vs, a.files)


if __name__ == "__main__":
    main()
