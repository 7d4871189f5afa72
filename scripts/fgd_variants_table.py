#!/usr/bin/env python3
"""fgd_variants_table.py: the table (and, with --plot, the figure) of a
variant sweep (scripts/fgd_variants_sweep.sh): unallocated GPU % at 100 %
arrival per variant (rows) and policy (columns), mean +- standard deviation
over the seeds (the plot's bars: the min-max range), and per variant how far
our policy (--ours) is from FGD: paired over seeds, the mean difference +- its
standard deviation, how many seeds it wins, and whether the mean gain exceeds
the standard deviation of FGD's own figures over the seeds.

usage: fgd_variants_table.py SUMMARY_CSV [--plot OUT.png] [--markdown]
            [--ours fgd-fill]
The plot needs python3-matplotlib; the table needs nothing beyond Python.
"""
import argparse
import csv
import math
from collections import OrderedDict, defaultdict

ORDER = ["default", "cpu050", "cpu200", "cpu250", "gpushare40", "gpushare60", "gpushare80",
         "gpushare100", "multigpu20", "multigpu30", "multigpu40", "multigpu50", "gpuspec10",
         "gpuspec20", "gpuspec25", "gpuspec33"]


POLICY_ORDER = ["random", "dotprod", "gpuclustering", "gpupacking", "bestfit", "fgd", "fgd-reserve",
                "fgd-cpu", "fgd-fill"]


def variant_of(trace):
    return trace[len("openb_pod_list_"):] if trace.startswith("openb_pod_list_") else trace


def stats(xs):
    m = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return m, sd, min(xs), max(xs)


def load(path):
    runs = defaultdict(dict)  # (variant, policy) -> seed -> value
    pols = OrderedDict()
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            v = variant_of(r["trace"])
            runs[(v, r["policy"])][int(r["seed"])] = float(r["unalloc_pct_at_100"])
            pols[r["policy"]] = 1
    variants = sorted({v for v, _ in runs}, key=lambda v: (ORDER.index(v) if v in ORDER else 99, v))
    pols = sorted(pols, key=lambda p: (POLICY_ORDER.index(p) if p in POLICY_ORDER else 99, p))
    return runs, variants, pols


def table(runs, variants, pols, ours, md):
    sep = " | " if md else "  "
    head = ["variant"] + pols
    if ours in pols and "fgd" in pols:
        head += ["%s - fgd (paired)" % ours, "wins", "beyond fgd's sd"]
    lines = [sep.join(head)]
    if md:
        lines[0] = "| " + lines[0] + " |"
        lines.append("|" + "---|" * len(head))
    for v in variants:
        row = [v]
        for p in pols:
            xs = list(runs.get((v, p), {}).values())
            row.append("%.2f +- %.2f" % stats(xs)[:2] if xs else "-")
        if ours in pols and "fgd" in pols:
            a, b = runs.get((v, ours), {}), runs.get((v, "fgd"), {})
            common = sorted(set(a) & set(b))
            if common:
                d = [a[s] - b[s] for s in common]
                m, sd, _, _ = stats(d)
                row.append("%+.2f +- %.2f" % (m, sd))
                row.append("%d/%d" % (sum(x < 0 for x in d), len(d)))
                fsd = stats(list(b.values()))[1]
                row.append("yes" if m < -fsd else "no (%.2f < %.2f)" % (-m, fsd))
            else:
                row += ["-", "-", "-"]
        lines.append(("| " + sep.join(row) + " |") if md else sep.join(row))
    return "\n".join(lines)


def plot(runs, variants, pols, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(max(8, 1.1 * len(variants)), 4.8))
    w = 0.8 / max(1, len(pols))
    for i, p in enumerate(pols):
        xs, ys, lo, hi = [], [], [], []
        for j, v in enumerate(variants):
            vals = list(runs.get((v, p), {}).values())
            if not vals:
                continue
            m, _, mn, mx = stats(vals)
            xs.append(j + (i - (len(pols) - 1) / 2.0) * w)
            ys.append(m)
            lo.append(m - mn)
            hi.append(mx - m)
        ax.bar(xs, ys, w, yerr=[lo, hi], capsize=1.5, label=p, edgecolor="black", linewidth=0.3,
               error_kw={"elinewidth": 0.6})
    ax.set_xticks(range(len(variants)))
    ax.set_xticklabels(variants, rotation=35, ha="right")
    ax.set_ylabel("unallocated GPU % at 100 % arrived\n(mean over seeds, bar: min-max)")
    ax.set_title("OpenB trace variants (FGD paper's sensitivity study)")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=7, ncol=4)
    fig.tight_layout()
    fig.savefig(out, dpi=130)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("summary")
    ap.add_argument("--plot")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--ours", default="fgd-fill")
    a = ap.parse_args()
    runs, variants, pols = load(a.summary)
    print(table(runs, variants, pols, a.ours, a.markdown))
    if a.plot:
        plot(runs, variants, pols, a.plot)


if __name__ == "__main__":
    main()
