#!/usr/bin/python3
"""plot_fgd.py: PNG plots from `shardsched replay` metrics files.

  plot_fgd.py fgd  OUT.png RUN.h5 [RUN.h5 ...]
      Unallocated GPU % against arrived workload % (75-130 %), one line per
      policy: the median over seeds, with the min-max band (the shape of the
      FGD paper's Figure 9a). Policies differ by line style and marker too,
      and an inset zooms on the FGD-like curves (fgd and fgd-reserve end
      within 0.1 pp, so one would hide the other). Each RUN.h5 is a `replay
      --protocol fgd` output; the policy and seed come from its attributes.
  plot_fgd.py time OUT.png RUN.h5
      Timeline of a `replay --protocol time` run: allocated cpu / memory /
      GPU % of capacity with pending pods (integer ticks) on the right axis;
      below, the fragmentation rate (% of the idle GPU capacity) on its own
      axis.

Uses Debian's python3-matplotlib and python3-h5py (apt-get install
python3-matplotlib python3-h5py).
"""
import sys
from collections import defaultdict

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
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


# Line style and marker per policy: FGD and fgd-reserve end within 0.1 pp of
# each other, so colour alone would draw one over the other; fgd is a wide
# solid line with circles, fgd-reserve a dashed line with crosses on top.
STYLE = {
    "random": dict(ls="-", marker="v"),
    "dotprod": dict(ls="-", marker="^"),
    "gpuclustering": dict(ls="-.", marker="s"),
    "gpupacking": dict(ls=":", marker="D"),
    "bestfit": dict(ls="-", marker="P"),
    "fgd": dict(ls="-", marker="o", lw=3.0, zorder=3, markevery=(0, 6)),
    "fgd-reserve": dict(ls="--", marker="x", lw=1.4, zorder=4, markevery=(3, 6)),
}


def draw_curves(ax, x, curves, names, colors, band=True):
    for p in names:
        ys = np.array(curves[p])
        st = dict(ls="-", marker=None, lw=1.6, zorder=2, markevery=6, color=colors[p])
        st.update(STYLE.get(p, {}))
        line, = ax.plot(x, np.nanmedian(ys, axis=0), label=f"{p} (n={len(ys)})", ms=5, **st)
        if band:
            ax.fill_between(x, np.nanmin(ys, axis=0), np.nanmax(ys, axis=0),
                            color=line.get_color(), alpha=0.18, lw=0)


def plot_fgd(out, runs):
    lo, hi = 75, 130
    curves = defaultdict(list)
    for r in runs:
        pol, _, y = unalloc_curve(r, lo, hi)
        curves[pol].append(y)
    x = np.arange(lo, hi + 1)
    fig, ax = plt.subplots(figsize=(8, 5))
    names = [p for p in ORDER if p in curves] + sorted(p for p in curves if p not in ORDER)
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colors = {p: cycle[i % len(cycle)] for i, p in enumerate(names)}  # same in the inset
    draw_curves(ax, x, curves, names, colors)
    ax.set_xlabel("arrived workload (% of GPU capacity)")
    ax.set_ylabel("unallocated GPU (%)")
    ax.set_title("OpenB default trace: unallocated GPUs (median over seeds, min-max band)")
    ax.axvline(100, color="grey", lw=0.8, ls=":")
    ax.set_xlim(lo, hi)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    # Zoom on the lowest curves (FGD-like policies nearly coincide), medians only.
    low = [p for p in names if p.startswith("fgd")]
    if low:
        ins = ax.inset_axes([0.52, 0.56, 0.45, 0.4])
        draw_curves(ins, x, curves, low, colors, band=False)
        meds = np.array([np.nanmedian(np.array(curves[p]), axis=0) for p in low])
        tail = meds[:, x >= 100]
        ins.set_xlim(100, hi)
        ins.set_ylim(np.nanmin(tail) - 0.15, np.nanmax(tail) + 0.15)
        ins.set_title("zoom: arrived 100-130 %, medians", fontsize=8)
        ins.tick_params(labelsize=7)
        ins.grid(alpha=0.3)
        ins.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def plot_time(out, run):
    """Top: allocated cpu / memory / GPU % of capacity and pending pods
    (integer ticks, right axis). Bottom: the fragmentation rate, which is a
    share of the idle GPU capacity, not of the cluster, on its own axis."""
    with h5py.File(run, "r") as f:
        m = {k: f["metrics/" + k][:] for k in f["metrics"]}
        pol, trace = attr(f, "policy"), attr(f, "trace")
    days = m["time"] / 86400.0
    fig, (ax, axf) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True,
                                  gridspec_kw=dict(height_ratios=[3, 2]))
    ax.plot(days, m["alloc_gpu_pct"], label="allocated GPU %", lw=1.2)
    ax.plot(days, m["alloc_cpu_pct"], label="allocated cpu %", lw=1.0)
    ax.plot(days, m["alloc_mem_pct"], label="allocated memory %", lw=1.0)
    ax.set_ylabel("allocated (% of cluster capacity)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax2 = ax.twinx()
    ax2.plot(days, m["pending_pods"], color="black", lw=0.8, ls="--", label="pending pods")
    ax2.set_ylabel("pending pods")
    ax2.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.set_ylim(bottom=0, top=max(1, int(m["pending_pods"].max())) * 1.1)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper left")
    ax.set_title(f"time replay of {trace}, policy {pol}")
    axf.plot(days, m["frag_rate_pct"], color="tab:red", lw=0.8, label="fragmentation rate")
    axf.set_ylabel("fragmentation rate\n(% of idle GPU capacity)")
    axf.set_ylim(0, 100)
    axf.set_xlabel("trace time (days)")
    axf.grid(alpha=0.3)
    axf.legend(fontsize=8, loc="lower left")
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
