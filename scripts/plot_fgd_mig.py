#!/usr/bin/python3
"""plot_fgd_mig.py: the MIG what-if of the FGD protocol as one PNG.

  plot_fgd_mig.py OUT.png RUN.h5 [RUN.h5 ...]

Each RUN.h5 is a `shardsched replay --protocol fgd [--mig MODE]` metrics
file (scripts/fgd_mig_sweep.sh writes them). Left: unallocated GPU %
against arrived workload % (75-130 %), one colour per MIG mode, one line
style per policy, the median over seeds with the min-max band. Right: the
unused MIG slices (compute, of 7 a GPU) as % of the cluster's GPUs, same
lines. Bucketing as the simulator's merge_alloc_discrete.py (plot_fgd.py).

Uses Debian's python3-matplotlib and python3-h5py.
"""
import sys
from collections import defaultdict

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

MODES = ["off", "fixed:all-1g.10gb", "fixed:half-3g.40gb", "fixed:trace-mix", "relayout"]
LABEL = {"off": "time-slicing (off)", "fixed:all-1g.10gb": "fixed all-1g.10gb",
         "fixed:half-3g.40gb": "fixed half 3g.40gb / 1g.10gb",
         "fixed:trace-mix": "fixed trace-mix", "relayout": "relayout"}
LS = ["-", "--", ":", "-."]


def attr(f, name, default=None):
    if name not in f.attrs:
        return default
    v = f.attrs[name]
    return v.decode() if isinstance(v, bytes) else (v.item() if hasattr(v, "item") else v)


def curves(path, lo=75, hi=130):
    """(mode, policy, unallocated %[lo..hi], unused compute % of GPUs[lo..hi])."""
    with h5py.File(path, "r") as f:
        cap = float(attr(f, "gpu_capacity_milli"))
        arrived = f["metrics/arrived_gpu_milli"][:] / cap * 100.0
        alloc = np.round(f["metrics/alloc_gpu_milli"][:] / cap * 100.0, 2)
        mode, pol = attr(f, "mig", "off"), attr(f, "policy")
        if "unused_compute_slices" in f["metrics"]:
            unused = f["metrics/unused_compute_slices"][:] / 7.0 / (cap / 1000.0) * 100.0
        else:
            unused = np.zeros_like(alloc)
    bucket = np.rint(arrived).astype(int)
    ua = np.full(hi - lo + 1, np.nan)
    uc = np.full(hi - lo + 1, np.nan)
    for b in range(lo, hi + 1):
        sel = bucket == b
        if sel.any():
            ua[b - lo] = 100.0 - alloc[sel].mean()
            uc[b - lo] = unused[sel].mean()
    return mode, pol, ua, uc


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    lo, hi = 75, 130
    x = np.arange(lo, hi + 1)
    ua, uc = defaultdict(list), defaultdict(list)
    for r in argv[2:]:
        mode, pol, a, c = curves(r, lo, hi)
        ua[(mode, pol)].append(a)
        uc[(mode, pol)].append(c)
    pols = sorted({p for _, p in ua}, key=lambda p: (p != "fgd", p))
    modes = [m for m in MODES if any(k[0] == m for k in ua)]
    colors = dict(zip(MODES, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    for ax, data, ylab in ((axes[0], ua, "unallocated GPU (% of capacity)"),
                           (axes[1], uc, "unused MIG compute slices (% of the GPUs)")):
        for m in modes:
            for i, p in enumerate(pols):
                if (m, p) not in data:
                    continue
                ys = np.array(data[(m, p)])
                ax.plot(x, np.nanmedian(ys, axis=0), color=colors[m], ls=LS[i % len(LS)],
                        lw=2.0 if p == "fgd" else 1.3, label=f"{LABEL[m]}, {p} (n={len(ys)})")
                ax.fill_between(x, np.nanmin(ys, axis=0), np.nanmax(ys, axis=0),
                                color=colors[m], alpha=0.15, lw=0)
        ax.axvline(100, color="grey", lw=0.8, ls=":")
        ax.set_xlim(lo, hi)
        ax.set_ylim(bottom=0)
        ax.set_xlabel("arrived workload (% of GPU capacity)")
        ax.set_ylabel(ylab)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle("What-if: OpenB default trace on MIG-capable A100 80GB GPUs (GPU models "
                 "ignored); median over seeds, min-max band", fontsize=10)
    fig.tight_layout()
    fig.savefig(argv[1], dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
