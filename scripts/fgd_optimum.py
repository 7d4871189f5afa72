#!/usr/bin/env python3
"""fgd_optimum.py: how far each policy is from the best possible placement on
small windows of the OpenB trace (docs/evaluation.md, "How far from the
optimum").

A window is N nodes sampled (seeded) from the node list, with the trace's pods
replayed by `shardsched replay --protocol fgd` (the same shuffled order for
every policy of one seed; the typical pods are those of the whole trace). The
pods that arrive until the arrived GPU request reaches 100 % of the window's
GPU capacity are the window's pods; a policy's figure is the GPU milli it has
allocated at that point. The optimum is the most GPU milli any placement of
the same pods can allocate (no order: every pod may go anywhere it fits),
an integer program solved by CBC (Debian coinor-cbc) through its command
line on an LP file written here:

  pods of one shape (cpu, memory, num_gpu, gpu_milli, models) are
  interchangeable, so the variables count them: z[s,n] pods of a CPU-only
  or whole-GPU shape s on node n, v[s,n,g] pods of a GPU-sharing shape s on
  GPU g of node n, y[n,g] = 1 when GPU g of node n is taken whole;
  maximise sum of num_gpu x gpu_milli over placed pods, subject to
  cpu and memory per node, sum_s milli_s v[s,n,g] + 1000 y[n,g] <= 1000 per
  GPU, sum_g y[n,g] = sum_s num_gpu_s z[s,n] per node (whole GPUs), the
  count of each shape, and the filter's model rule; the GPUs of a node are
  alike, so y and the GPUs' loads are kept in decreasing order (symmetry
  breaking, no loss of optimality).

The gap of a policy = (optimum - policy) / window GPU capacity, in percentage
points of unallocated GPU. When CBC stops on its time limit the optimum is
only known to lie between the best placement found (CBC's, or the best
policy's if that is better) and CBC's bound; the gap is then printed as that
range.

usage: fgd_optimum.py BINARY NODE_CSV POD_CSV OUTDIR [--nodes 10 20 40]
           [--seeds 42 43 44] [--policies fgd fgd-cpu ...] [--time-limit 60]
Needs /usr/bin/python3 with python3-h5py (the metrics files) and cbc.
"""
import argparse
import csv
import os
import random
import re
import subprocess
import sys
from collections import OrderedDict, defaultdict

import h5py

POLICIES = ["random", "dotprod", "gpuclustering", "gpupacking", "bestfit", "fgd", "fgd-reserve",
            "fgd-cpu"]


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit("fgd_optimum: %s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr))
    return r.stdout


def window_nodes(nodes, n, seed):
    rng = random.Random("nodes-%d-%d" % (n, seed))
    return sorted(rng.sample(nodes, n), key=lambda r: r["sn"])


def policy_window(binary, h5, policy, seed, out):
    """The pods that arrive until 100 % of capacity, and the policy's GPU milli
    allocated then: (pod indices, alloc milli, capacity milli)."""
    m = os.path.join(out, "m-%s-%d.h5" % (policy, seed))
    run([binary, "replay", "-i", h5, "-o", m, "--protocol", "fgd", "--policy", policy,
         "--seed", str(seed), "-q"])
    with h5py.File(m, "r") as f:
        cap = int(f.attrs["gpu_capacity_milli"])
        arrived = f["metrics/arrived_gpu_milli"][:]
        alloc = f["metrics/alloc_gpu_milli"][:]
        pod = f["metrics/pod"][:]
    last = -1
    for i in range(len(arrived)):
        if arrived[i] > cap:
            break
        last = i
    os.remove(m)
    return [int(p) for p in pod[:last + 1]], int(alloc[last]) if last >= 0 else 0, cap


def shape_of(p):
    spec = tuple(sorted(x for x in (p.get("gpu_spec") or "").split("|") if x))
    ng = int(p["num_gpu"])
    return (int(p["cpu_milli"]), int(p.get("memory_mib") or 0), ng,
            int(p["gpu_milli"] or 0) if ng else 0, spec)


def write_lp_file(path, obj, cons, bounds, ints, bins):
    """Writes a maximisation in CPLEX LP format (what cbc reads)."""
    with open(path, "w") as f:
        f.write("Maximize\n obj: %s\nSubject To\n" % (" + ".join(obj) if obj else "0 x_dummy"))
        for c in cons:
            f.write(" %s\n" % c)
        f.write("Bounds\n")
        for b in bounds:
            f.write(" %s\n" % b)
        if ints:
            f.write("General\n %s\n" % "\n ".join(ints))
        if bins:
            f.write("Binary\n %s\n" % "\n ".join(bins))
        f.write("End\n")


def write_lp(path, nodes, shapes):
    """shapes: OrderedDict shape -> count. Returns nothing; writes the LP."""
    obj, cons, bounds, ints, bins = [], [], [], [], []
    place = defaultdict(list)  # shape index -> variables counting its pods
    for ni, n in enumerate(nodes):
        ncpu, nmem, ngpu, model = (int(n["cpu_milli"]), int(n["memory_mib"]), int(n["gpu"]),
                                   n.get("model") or "")
        cpu_terms, mem_terms, whole_terms, gpu_terms = [], [], [], defaultdict(list)
        for si, (s, cnt) in enumerate(shapes.items()):
            cpu, mem, ng, milli, spec = s
            if cpu > ncpu or mem > nmem or ng > ngpu or (ng and spec and model not in spec):
                continue
            gain = ng * milli
            if ng == 1 and milli < 1000:
                for g in range(ngpu):
                    v = "v_%d_%d_%d" % (si, ni, g)
                    ints.append(v)
                    bounds.append("0 <= %s <= %d" % (v, min(cnt, 1000 // milli)))
                    place[si].append(v)
                    obj.append("%d %s" % (gain, v))
                    cpu_terms.append("%d %s" % (cpu, v))
                    mem_terms.append("%d %s" % (mem, v))
                    gpu_terms[g].append("%d %s" % (milli, v))
            else:
                v = "z_%d_%d" % (si, ni)
                ints.append(v)
                ub = min(cnt, ncpu // cpu if cpu else cnt, nmem // mem if mem else cnt,
                         ngpu // ng if ng else cnt)
                bounds.append("0 <= %s <= %d" % (v, ub))
                place[si].append(v)
                if gain:
                    obj.append("%d %s" % (gain, v))
                cpu_terms.append("%d %s" % (cpu, v))
                mem_terms.append("%d %s" % (mem, v))
                if ng:
                    whole_terms.append("%d %s" % (ng, v))
        if cpu_terms:
            cons.append("cpu_%d: %s <= %d" % (ni, " + ".join(cpu_terms), ncpu))
            cons.append("mem_%d: %s <= %d" % (ni, " + ".join(mem_terms), nmem))
        ys = ["y_%d_%d" % (ni, g) for g in range(ngpu)]
        if whole_terms:
            bins.extend(ys)
            cons.append("whole_%d: %s - %s = 0" % (ni, " + ".join(whole_terms), " - ".join(ys)))
            for g in range(ngpu - 1):
                cons.append("sym_%d_%d: y_%d_%d - y_%d_%d >= 0" % (ni, g, ni, g, ni, g + 1))
        loads = []
        for g in range(ngpu):
            terms = list(gpu_terms[g]) + (["1000 y_%d_%d" % (ni, g)] if whole_terms else [])
            loads.append(terms)
            if terms:
                cons.append("gpu_%d_%d: %s <= 1000" % (ni, g, " + ".join(terms)))
        for g in range(ngpu - 1):  # the GPUs are alike: their loads in decreasing order
            if loads[g] and loads[g + 1]:
                neg = " - ".join(loads[g + 1]).replace(" + ", " - ")
                cons.append("order_%d_%d: %s - %s >= 0" % (ni, g, " + ".join(loads[g]), neg))
    for si, (s, cnt) in enumerate(shapes.items()):
        if place[si]:
            cons.append("count_%d: %s <= %d" % (si, " + ".join(place[si]), cnt))
    write_lp_file(path, obj, cons, bounds, ints, bins)


def solve(lp, sol, limit):
    """CBC on the LP file: (objective, bound, proven optimal)."""
    out = run(["cbc", lp, "sec", str(limit), "threads", "1", "ratio", "0", "solve",
               "solution", sol])
    with open(sol) as f:
        head = f.readline()
    m = re.search(r"objective value\s+(-?[0-9.eE+]+)", head)
    obj = abs(float(m.group(1))) if m else 0.0
    optimal = head.startswith("Optimal")
    bound = obj
    b = re.search(r"Upper bound:\s+(-?[0-9.eE+]+)", out) or \
        re.search(r"best possible\s+(-?[0-9.eE+]+)", out, re.I)
    if not optimal and b:
        bound = abs(float(b.group(1)))
    return obj, max(obj, bound), optimal


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("nodes")
    ap.add_argument("pods")
    ap.add_argument("outdir")
    ap.add_argument("--nodes", dest="sizes", type=int, nargs="+", default=[10, 20, 40])
    ap.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    ap.add_argument("--policies", nargs="+", default=POLICIES)
    ap.add_argument("--time-limit", type=int, default=60)
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    with open(a.nodes, newline="") as f:
        rd = csv.DictReader(f)
        nfields, nodes = rd.fieldnames, list(rd)
    with open(a.pods, newline="") as f:
        pods = list(csv.DictReader(f))
    # the importer keeps the file's pod order: metrics' pod index = row index
    rows = []
    for size in a.sizes:
        for seed in a.seeds:
            win = window_nodes(nodes, size, seed)
            tag = "w%d-s%d" % (size, seed)
            ncsv = os.path.join(a.outdir, tag + "-nodes.csv")
            with open(ncsv, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=nfields, lineterminator="\n")
                w.writeheader()
                w.writerows(win)
            h5 = os.path.join(a.outdir, tag + ".h5")
            if os.path.exists(h5):
                os.remove(h5)
            run([a.binary, "import", "--openb-nodes", ncsv, "--openb-pods", a.pods, "-o", h5])
            got, arrived_pods = OrderedDict(), None
            for pol in a.policies:
                pl, alloc, cap = policy_window(a.binary, h5, pol, seed, a.outdir)
                if arrived_pods is None:
                    arrived_pods = pl
                elif pl != arrived_pods:
                    sys.exit("fgd_optimum: %s saw another arrival order" % pol)
                got[pol] = alloc
            shapes = OrderedDict()
            for i in arrived_pods:
                s = shape_of(pods[i])
                shapes[s] = shapes.get(s, 0) + 1
            lp = os.path.join(a.outdir, tag + ".lp")
            write_lp(lp, win, shapes)
            obj, bound, optimal = solve(lp, os.path.join(a.outdir, tag + ".sol"), a.time_limit)
            if max(got.values()) > bound + 0.5:
                sys.exit("fgd_optimum: %s: a policy allocated %d > the optimum %.0f: the pod "
                         "rows do not match the CSV" % (tag, max(got.values()), bound))
            lo = max(obj, max(got.values()))  # a placement that exists
            rows.append((size, seed, len(arrived_pods), cap, lo, bound, optimal, got))
            pct = lambda v: 100.0 * (cap - v) / cap
            print("window %3d nodes seed %d: %d pods, %d GPUs, optimum %s unallocated; %s"
                  % (size, seed, len(arrived_pods), cap // 1000,
                     "%.2f %% (proven)" % pct(bound) if optimal else
                     "%.2f-%.2f %% (CBC time limit: bound-best found)" % (pct(bound), pct(lo)),
                     " ".join("%s %.2f" % (p, pct(v)) for p, v in got.items())), flush=True)
    print("\nmean gap to the optimum, percentage points of GPU capacity (policy's unallocated "
          "minus the optimum's; a-b: the optimum lies between CBC's best placement and its "
          "bound):")
    print("| nodes | pods | GPUs | optimum unalloc % | " + " | ".join(a.policies) + " |")
    print("|---:|---:|---:|---:|" + "---:|" * len(a.policies))
    for size in a.sizes:
        rs = [r for r in rows if r[0] == size]
        mean = lambda f: sum(f(r) for r in rs) / len(rs)
        lo = {p: mean(lambda r: 100.0 * (r[4] - r[7][p]) / r[3]) for p in a.policies}
        hi = {p: mean(lambda r: 100.0 * (r[5] - r[7][p]) / r[3]) for p in a.policies}
        olo, ohi = mean(lambda r: 100.0 * (r[3] - r[5]) / r[3]), \
            mean(lambda r: 100.0 * (r[3] - r[4]) / r[3])
        rng = lambda x, y: "%.2f" % x if abs(x - y) < 0.005 else "%.2f-%.2f" % (x, y)
        print("| %d | %.0f | %.0f | %s | %s |" % (
            size, mean(lambda r: r[2]), mean(lambda r: r[3] / 1000.0), rng(olo, ohi),
            " | ".join(rng(lo[p], hi[p]) for p in a.policies)))


if __name__ == "__main__":
    main()
