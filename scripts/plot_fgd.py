#!/usr/bin/python3
"""plot_fgd.py: PNG plots from `shardsched replay` metrics files.

  plot_fgd.py fgd  OUT.png RUN.h5 [RUN.h5 ...]
      Unallocated GPU % against arrived workload % (75-130 %), one line per
      policy: the median over seeds, with the min-max band (the shape of the
      FGD paper's Figure 9a). Each RUN.h5 is a `replay --protocol fgd` output;
      the policy and seed come from its attributes.
  plot_fgd.py time OUT.png RUN.h5
      Timeline of a `replay --protocol time` run: allocated cpu / memory /
      GPU % and arrived GPU workload % on the left axis, pending pods on the
      right.

Uses Debian's python3-matplotlib and python3-h5py (apt-get install
python3-matplotlib python3-h5py).
"""
import sys
from collections import defaultdict

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ORDER = ["random", "dotprod", "gpuclustering", "gpupacking", "bestfit", "fgd"]


def attr(f, name):
    v = f.attrs[name]
    return v.decode() if isinstance(v, bytes) else (v.item() if hasattr(v, "item") else v)


def unalloc_curve(path, lo=75, hi=130):
    """Per bucket round(arrived %), the mean of round(alloc %, 2); as the
    simulator's merge_alloc_discrete.py. Returns (policy, seed, y[lo..hi])."""
    with h5py.File(path, "r") as f:
        cap = float(attr(f, "gpu_capacity_milli"))
        arrived = f["metrics/arrived_gpu_milli"][:] / cap * 100.0
        alloc = np.round(f["metrics/alloc_gpu_milli"][:] / cap * 100.0, 2)
        pol, seed = attr(f, "policy"), int(attr(f, "seed"))
    bucket = np.rint(arrived).astype(int)
    y = np.full(hi - lo + 1, np.nan)
    for b in range(lo, hi + 1):
        sel = bucket == b
        if sel.any():
            y[b - lo] = 100.0 - alloc[sel].mean()
    return pol, seed, y


def plot_fgd(out, runs):
    lo, hi = 75, 130
    curves = defaultdict(list)
    for r in runs:
        pol, _, y = unalloc_curve(r, lo, hi)
        curves[pol].append(y)
    x = np.arange(lo, hi + 1)
    fig, ax = plt.subplots(figsize=(8, 5))
    names = [p for p in ORDER if p in curves] + sorted(p for p in curves if p not in ORDER)
    for p in names:
        ys = np.array(curves[p])
        med = np.nanmedian(ys, axis=0)
        line, = ax.plot(x, med, label=f"{p} (n={len(ys)})", lw=1.6)
        ax.fill_between(x, np.nanmin(ys, axis=0), np.nanmax(ys, axis=0),
                        color=line.get_color(), alpha=0.18, lw=0)
    ax.set_xlabel("arrived workload (% of GPU capacity)")
    ax.set_ylabel("unallocated GPU (%)")
    ax.set_title("OpenB default trace: unallocated GPUs (median over seeds, min-max band)")
    ax.axvline(100, color="grey", lw=0.8, ls=":")
    ax.set_xlim(lo, hi)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def plot_time(out, run):
    with h5py.File(run, "r") as f:
        m = {k: f["metrics/" + k][:] for k in f["metrics"]}
        pol, trace = attr(f, "policy"), attr(f, "trace")
    days = m["time"] / 86400.0
    fig, ax = plt.subplots(figsize=(9, 5))
    ax.plot(days, m["alloc_gpu_pct"], label="allocated GPU %", lw=1.2)
    ax.plot(days, m["alloc_cpu_pct"], label="allocated cpu %", lw=1.0)
    ax.plot(days, m["alloc_mem_pct"], label="allocated memory %", lw=1.0)
    ax.plot(days, m["frag_rate_pct"], label="fragmentation rate %", lw=0.8, alpha=0.7)
    ax.set_xlabel("trace time (days)")
    ax.set_ylabel("% of cluster capacity")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax2 = ax.twinx()
    ax2.plot(days, m["pending_pods"], color="black", lw=0.8, ls="--", label="pending pods")
    ax2.set_ylabel("pending pods")
    ax2.set_ylim(bottom=0, top=max(1, m["pending_pods"].max()) * 1.1)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper left")
    ax.set_title(f"time replay of {trace}, policy {pol}")
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def main(argv):
    if len(argv) < 4 or argv[1] not in ("fgd", "time"):
        sys.stderr.write(__doc__)
        return 2
    if argv[1] == "fgd":
        plot_fgd(argv[2], argv[3:])
    else:
        plot_time(argv[2], argv[3])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
