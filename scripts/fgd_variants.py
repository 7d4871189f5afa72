#!/usr/bin/env python3
"""fgd_variants.py: the workload variants of the FGD paper's sensitivity study
(ATC'23, sections 6.3-6.6: figures 11-14), generated from the default OpenB
pod list, for scripts/fgd_variants_sweep.sh and docs/evaluation.md.

Each variant changes one share of the default trace and keeps the rest:

  cpuNNN       CPU-only pods' CPU demand x NNN/100 (cpu050 = half, cpu250 =
               2.5x; cpu100 is the default): the CPU-only pods are repeated
               floor(f) times and a seeded sample of frac(f) of them is added;
               the GPU pods are unchanged.
  gpushareX    X % of the GPU request (sum of num_gpu x gpu_milli) comes from
               GPU-sharing pods (one GPU, gpu_milli < 1000); the whole-GPU pods
               make up the rest; the total GPU request stays the default's.
  multigpuX    X % of the GPU request comes from multi-GPU pods (num_gpu > 1),
               the single-GPU pods (shared or whole) the rest; total kept.
  gpuspecX     pods chosen at random (seeded) until X % of the GPU request is
               constrained to a GPU model: each gets one model (gpu_spec),
               drawn with weight = that model's GPUs among the models with a
               node that can hold the pod (cpu, memory, GPU count); V100 pods
               get "V100M16|V100M32" (either V100) as the published files do.

A class is scaled by a factor r in the same way as the CPU-only pods: every
pod floor(r) times plus a seeded sample of frac(r) of them, so the shapes keep
their proportions within the class. The paper's simulator resamples the
published files the same way (they are "sampled from the default one"); the
files here are our generation, not copies. Pods are renamed openb-pod-NNNNN in
output order; creation/deletion times are copied (the fgd protocol ignores
them).

usage: fgd_variants.py POD_CSV NODE_CSV OUTDIR [--seed S] [--only NAME...]
Writes OUTDIR/openb_pod_list_<variant>.csv and prints one line per variant
with its measured shares.
"""
import argparse
import csv
import math
import os
import random
import sys

VARIANTS = (["default"] + ["cpu%03d" % f for f in (50, 200, 250)] +
            ["gpushare%d" % x for x in (40, 60, 80, 100)] +
            ["multigpu%d" % x for x in (20, 30, 40, 50)] +
            ["gpuspec%d" % x for x in (10, 20, 25, 33)])


def gpu(p):
    return int(p["num_gpu"]) * int(p["gpu_milli"] or 0)


def is_cpu(p):
    return int(p["num_gpu"]) == 0


def is_share(p):
    return int(p["num_gpu"]) == 1 and 0 < int(p["gpu_milli"] or 0) < 1000


def is_multi(p):
    return int(p["num_gpu"]) > 1


def scale(pods, r, rng):
    """Every pod floor(r) times plus a seeded sample of frac(r) of them."""
    whole = int(math.floor(r))
    out = [p for p in pods for _ in range(whole)]
    extra = int(round((r - whole) * len(pods)))
    out += rng.sample(pods, extra) if extra <= len(pods) else []
    return out


def split_by_gpu(gpu_pods, member, pct, rng):
    """Scales the pods where member(p) holds to pct % of the GPU request and
    the other GPU pods to the rest, keeping the total."""
    total = sum(gpu(p) for p in gpu_pods)
    a = [p for p in gpu_pods if member(p)]
    b = [p for p in gpu_pods if not member(p)]
    ga, gb = sum(gpu(p) for p in a), sum(gpu(p) for p in b)
    if not a or (pct < 100 and not b):
        sys.exit("fgd_variants: the default trace has no pods of a class to scale")
    out = scale(a, total * pct / 100.0 / ga, rng)
    if pct < 100:
        out += scale(b, total * (100 - pct) / 100.0 / gb, rng)
    return out


def constrain(pods, nodes, pct, rng):
    """Gives random GPU pods a GPU model until pct % of the GPU request is
    constrained (pods are copied, never changed in place)."""
    gpu_by_model = {}
    for n in nodes:
        if int(n["gpu"]) > 0:
            gpu_by_model[n["model"]] = gpu_by_model.get(n["model"], 0) + int(n["gpu"])
    models = sorted(gpu_by_model)

    def hosts(p, m):
        return any(n["model"] == m and int(n["gpu"]) >= int(p["num_gpu"]) and
                   int(n["cpu_milli"]) >= int(p["cpu_milli"]) and
                   int(n["memory_mib"]) >= int(p.get("memory_mib") or 0) for n in nodes)

    out = [dict(p) for p in pods]
    total = sum(gpu(p) for p in out)
    idx = [i for i, p in enumerate(out) if gpu(p) > 0 and not p.get("gpu_spec")]
    rng.shuffle(idx)
    done = sum(gpu(p) for p in out if gpu(p) > 0 and p.get("gpu_spec"))
    fit_cache = {}
    for i in idx:
        if done * 100 >= pct * total:
            break
        p = out[i]
        key = (p["num_gpu"], p["cpu_milli"], p.get("memory_mib"))
        if key not in fit_cache:
            fit_cache[key] = [m for m in models if hosts(p, m)]
        ok = fit_cache[key]
        if not ok:
            continue
        m = rng.choices(ok, weights=[gpu_by_model[x] for x in ok])[0]
        p["gpu_spec"] = "V100M16|V100M32" if m.startswith("V100") else m
        done += gpu(p)
    return out


def make(name, pods, nodes, rng):
    cpu = [p for p in pods if is_cpu(p)]
    gp = [p for p in pods if not is_cpu(p)]
    if name == "default":
        return list(pods)
    if name.startswith("cpu"):
        return scale(cpu, int(name[3:]) / 100.0, rng) + gp
    if name.startswith("gpushare"):
        return cpu + split_by_gpu(gp, is_share, int(name[8:]), rng)
    if name.startswith("multigpu"):
        return cpu + split_by_gpu(gp, is_multi, int(name[8:]), rng)
    if name.startswith("gpuspec"):
        return constrain(pods, nodes, int(name[7:]), rng)
    sys.exit("fgd_variants: unknown variant '%s' (known: %s)" % (name, " ".join(VARIANTS)))


def shares(pods):
    g = sum(gpu(p) for p in pods) or 1
    cpu_all = sum(int(p["cpu_milli"]) for p in pods) or 1
    return ("pods %5d  cpu-only %4.1f %% of pods, %4.1f %% of cpu; of the GPU request: "
            "sharing %5.1f %%, multi-GPU %4.1f %%, model-constrained %4.1f %%; GPU %.0f" %
            (len(pods), 100.0 * sum(map(is_cpu, pods)) / len(pods),
             100.0 * sum(int(p["cpu_milli"]) for p in pods if is_cpu(p)) / cpu_all,
             100.0 * sum(gpu(p) for p in pods if is_share(p)) / g,
             100.0 * sum(gpu(p) for p in pods if is_multi(p)) / g,
             100.0 * sum(gpu(p) for p in pods if p.get("gpu_spec")) / g, g / 1000.0))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pods")
    ap.add_argument("nodes")
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", nargs="*", default=None)
    a = ap.parse_args()
    with open(a.pods, newline="") as f:
        rd = csv.DictReader(f)
        fields = rd.fieldnames
        pods = list(rd)
    with open(a.nodes, newline="") as f:
        nodes = list(csv.DictReader(f))
    os.makedirs(a.outdir, exist_ok=True)
    for i, name in enumerate(a.only or VARIANTS):
        rng = random.Random("%d-%s" % (a.seed, name))
        out = make(name, pods, nodes, rng)
        path = os.path.join(a.outdir, "openb_pod_list_%s.csv" % name)
        with open(path + ".tmp", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
            w.writeheader()
            for k, p in enumerate(out):
                q = dict(p)
                q["name"] = "openb-pod-%05d" % k
                w.writerow(q)
        os.replace(path + ".tmp", path)
        print("%-11s %s" % (name, shares(out)))


if __name__ == "__main__":
    main()
