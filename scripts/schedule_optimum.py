#!/usr/bin/env python3
"""schedule_optimum.py: the most pending pods any placement of a small
snapshot can place, to measure `schedule` and `schedule --repair` against
(docs/evaluation.md, "Repair: using the whole wave").

An integer program solved by CBC (Debian coinor-cbc) through its command
line, as scripts/fgd_optimum.py does (its solve() is reused): pending pods
of one class (template, priority, pod group) are interchangeable, so the
variables count them, z[k,n] pods of class k on node n (v[k,n,g] on GPU g
for a GPU-sharing class), y[n,g] = 1 when the fully free GPU g of node n is
taken whole. Maximise the placed count (each pod weighs 1 + 1e-4 x its
priority level's rank among the pending pods' levels / levels: the count
first, ties toward higher priority), subject to, per node, the free cpu,
memory, pod slots and extended resources after the running pods, whole GPUs
on fully free GPUs of an allowed model, per-GPU milli for sharing pods; the
static filters (cordon, NoSchedule / NoExecute taints, nodeSelector,
required node affinity, GPU models) decide which z exist; a gang places all
its pending members or none (b[k] binary; min(count, minMember - running
members) .. count), inside one domain of its level when its topology is
required (d[k,dom]). No order: any pod may go anywhere it fits. Inter-pod
rules are not modelled: the snapshot must have none (gen --rules none).

With --rule GREEDY.h5 it also bounds what any repair of that greedy plan
can place under the issue's rule (a pod placed by moving only placed
pending pods of equal or lower priority; rule_bound below).

usage: schedule_optimum.py BINARY SNAPSHOT.h5 [--placements A.h5 B.h5 ...]
           [--rule GREEDY.h5] [--time-limit 120] [--workdir DIR]
Prints the optimum (proven or CBC's bound range), the rule's bound, and,
for each placements file, its placed count and share of the optimum. Needs /usr/bin/python3
with python3-h5py and cbc.
"""
import argparse
import os
import sys
import tempfile
from collections import OrderedDict, defaultdict

import h5py

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fgd_optimum import solve, write_lp_file  # noqa: E402

EQUAL, EXISTS = 0, 1
IN, NOT_IN, EXISTS_OP, DNE, GT, LT = range(6)


def load(path):
    f = h5py.File(path, "r")
    d = {k: {c: f[k][c][:] for c in f[k]} for k in f if isinstance(f[k], h5py.Group)}
    data, off = bytes(d["strings"]["data"]), d["strings"]["offsets"]
    d["str"] = [data[off[i]:off[i + 1] - 1].decode() for i in range(len(off) - 1)]
    return d


def sid(d, s):
    return d["str"].index(s) if s in d["str"] else -2


class Cluster:
    def __init__(self, d):
        self.d = d
        nd = d["nodes"]
        self.n = len(nd["name"])
        self.host = sid(d, "kubernetes.io/hostname")
        self.cordon = sid(d, "node.kubernetes.io/unschedulable")
        lab = d["labels"]
        self.labels = []
        for i in range(self.n):
            b, c = nd["label_begin"][i], nd["label_count"][i]
            m = {int(lab["key"][j]): int(lab["value"][j]) for j in range(b, b + c)}
            m[self.host] = int(nd["name"][i])
            self.labels.append(m)

    def tolerates(self, t, key, value, effect):
        tl = self.d["tolerations"]
        for j in range(t["tol_begin"], t["tol_begin"] + t["tol_count"]):
            if tl["effect"][j] not in (0, effect):
                continue
            if tl["op"][j] == EXISTS and (tl["key"][j] == 0 or tl["key"][j] == key):
                return True
            if tl["op"][j] == EQUAL and tl["key"][j] == key and tl["value"][j] == value:
                return True
        return False

    def expr(self, j, node):
        e, vals = self.d["exprs"], self.d["exprs"]["values"]
        vs = [int(vals[k]) for k in range(e["val_begin"][j], e["val_begin"][j] + e["val_count"][j])]
        op = e["op"][j]
        if e["is_field"][j]:
            if len(vs) != 1 or op not in (IN, NOT_IN):
                return False
            return (self.d["nodes"]["name"][node] == vs[0]) == (op == IN)
        lab = self.labels[node]
        has, v = int(e["key"][j]) in lab, lab.get(int(e["key"][j]))
        if op == IN:
            return bool(vs) and has and v in vs
        if op == NOT_IN:
            return bool(vs) and (not has or v not in vs)
        if op == EXISTS_OP:
            return not vs and has
        if op == DNE:
            return not vs and not has
        if op in (GT, LT) and has and len(vs) == 1:
            try:
                a, b = int(self.d["str"][v]), int(self.d["str"][vs[0]])
            except ValueError:
                return False
            return a > b if op == GT else a < b
        return False

    def static_ok(self, t, node):
        d, nd = self.d, self.d["nodes"]
        if t["unsupported"]:
            return False
        if nd["unschedulable"][node] and not self.tolerates(t, self.cordon, 0, 1):
            return False
        tn = d["taints"]
        for j in range(nd["taint_begin"][node], nd["taint_begin"][node] + nd["taint_count"][node]):
            if tn["effect"][j] in (1, 3) and not self.tolerates(t, tn["key"][j], tn["value"][j],
                                                                tn["effect"][j]):
                return False
        lab, lb = self.labels[node], d["labels"]
        for j in range(t["sel_begin"], t["sel_begin"] + t["sel_count"]):
            if lab.get(int(lb["key"][j])) != int(lb["value"][j]):
                return False
        if t["req_count"]:
            tm = d["terms"]
            ok = False
            for k in range(t["req_begin"], t["req_begin"] + t["req_count"]):
                b, c = tm["expr_begin"][k], tm["expr_count"][k]
                if c and all(self.expr(j, node) for j in range(b, b + c)):
                    ok = True
                    break
            if not ok:
                return False
        if t["gpu_count"] and t["model_count"]:
            models = set(int(m) for m in d["models"]["model"][
                t["model_begin"]:t["model_begin"] + t["model_count"]])
            g = d["gpus"]["model"][nd["gpu_begin"][node]:nd["gpu_begin"][node] +
                                   nd["gpu_count"][node]]
            if sum(1 for m in g if int(m) in models) < t["gpu_count"]:
                return False
        return True


def tmpl(d, i):
    t = d["templates"]
    return {k: (t[k][i] if t[k].ndim == 1 else t[k][i, :]) for k in t}


def build_lp(path, d, greedy=None, top=None):
    """Writes the LP; returns (classes, weights). With greedy (pod -> (node,
    gpu_mask) of a greedy plan) and top (a priority): the bound of a repair
    under the issue's rule whose highest added pod has priority top: greedy
    pods above top stay where they are (as if running), pending pods above
    top stay unplaced, each class at or below top places at least the pods
    the greedy plan placed of it (a repair never unplaces a pod), and at
    least one pod of priority top is added (top is the highest added)."""
    cl = Cluster(d)
    nd, pods, n = d["nodes"], d["pods"], cl.n
    if len(d["spreads"]["key"]) or len(d["pterms"]["key"]):
        sys.exit("schedule_optimum: the snapshot has inter-pod rules (gen --rules none)")
    n_ext = len(d["resources"]["name"]) if "resources" in d else 0
    free = {"cpu": nd["cpu_milli"].astype(object).copy(), "mem": nd["memory"].astype(object).copy(),
            "pods": nd["pods"].astype(object).copy()}
    fext = [nd["ext"][:, e].astype(object).copy() for e in range(n_ext)]
    gfree = [int(x) for x in d["gpus"]["milli"]]
    run_members = defaultdict(int)
    classes = OrderedDict()
    keep = defaultdict(int)  # class -> pods the greedy plan placed (rule bound)
    for p in range(len(pods["name"])):
        t = tmpl(d, pods["template"][p])
        node, grp = int(pods["node"][p]), int(pods["group"][p])
        mask = int(pods["gpu_mask"][p])
        if node < 0 and greedy is not None and int(pods["priority"][p]) > top:
            if p not in greedy:
                continue  # above the top added pod: stays unplaced
            node, mask = greedy[p]
        if node >= 0:
            free["cpu"][node] -= int(t["cpu_milli"])
            free["mem"][node] -= int(t["memory"])
            free["pods"][node] -= 1
            for e in range(n_ext):
                fext[e][node] -= int(t["ext"][e])
            for g in range(int(nd["gpu_count"][node])):
                if mask >> g & 1:
                    gfree[nd["gpu_begin"][node] + g] -= int(t["gpu_milli"])
            if grp >= 0:
                run_members[grp] += 1
            continue
        key = (int(pods["template"][p]), int(pods["priority"][p]), grp)
        classes[key] = classes.get(key, 0) + 1
        if greedy is not None and p in greedy:
            keep[key] += 1
    levels = sorted(set(k[1] for k in classes))
    weight = {k: 1 + 1e-4 * levels.index(k[1]) / len(levels) for k in classes}
    obj, cons, bounds, ints, bins = [], [], [], [], []
    per_node = [defaultdict(list) for _ in range(n)]  # resource -> terms
    gpu_terms = defaultdict(list)  # global gpu -> terms
    whole = defaultdict(list)  # node -> terms (GPUs taken whole)
    place = defaultdict(list)
    topo = defaultdict(lambda: defaultdict(list))  # class -> domain -> vars
    groups = d["groups"]
    for ki, (k, cnt) in enumerate(classes.items()):
        t = tmpl(d, k[0])
        cpu, mem, gc, gm = int(t["cpu_milli"]), int(t["memory"]), int(t["gpu_count"]), \
            int(t["gpu_milli"])
        ext = [int(t["ext"][e]) for e in range(n_ext)]
        for node in range(n):
            if not cl.static_ok(t, node):
                continue
            if (cpu and free["cpu"][node] < cpu) or (mem and free["mem"][node] < mem) or \
                    free["pods"][node] < 1 or any(x and fext[e][node] < x
                                                  for e, x in enumerate(ext)):
                continue
            gb, gn = int(nd["gpu_begin"][node]), int(nd["gpu_count"][node])
            vs = []
            if gc == 1 and gm < 1000:
                for g in range(gn):
                    if gfree[gb + g] >= gm:
                        v = "v_%d_%d_%d" % (ki, node, g)
                        vs.append(v)
                        gpu_terms[gb + g].append("%d %s" % (gm, v))
            else:
                if gc and sum(1 for g in range(gn) if gfree[gb + g] == 1000) < gc:
                    continue
                v = "z_%d_%d" % (ki, node)
                vs.append(v)
                if gc:
                    whole[node].append("%d %s" % (gc, v))
            for v in vs:
                ints.append(v)
                bounds.append("0 <= %s <= %d" % (v, cnt))
                place[ki].append(v)
                obj.append("%.6f %s" % (weight[k], v))
                for res, q in (("cpu", cpu), ("mem", mem), ("pods", 1)):
                    if q:
                        per_node[node][res].append("%d %s" % (q, v))
                for e, q in enumerate(ext):
                    if q:
                        per_node[node]["ext%d" % e].append("%d %s" % (q, v))
                if k[2] >= 0 and groups["topo_mode"][k[2]] == 2:
                    lvl = int(groups["topo_level"][k[2]])
                    topo[ki][int(nd["topo"][node, lvl])].append(v)
    for node in range(n):
        for res, terms in per_node[node].items():
            cap = free[res][node] if res in free else fext[int(res[3:])][node]
            cons.append("%s_%d: %s <= %d" % (res, node, " + ".join(terms), max(cap, 0)))
        gb, gn = int(nd["gpu_begin"][node]), int(nd["gpu_count"][node])
        ys = []
        if whole[node]:
            for g in range(gn):
                if gfree[gb + g] == 1000:
                    y = "y_%d_%d" % (node, g)
                    ys.append(y)
                    bins.append(y)
                    gpu_terms[gb + g].append("1000 %s" % y)
            cons.append("whole_%d: %s - %s = 0" % (node, " + ".join(whole[node]), " - ".join(ys)))
        for g in range(gn):
            if gpu_terms[gb + g]:
                cons.append("gpu_%d: %s <= %d" % (gb + g, " + ".join(gpu_terms[gb + g]),
                                                  max(gfree[gb + g], 0)))
    top_terms, top_keep = [], 0
    for ki, (k, cnt) in enumerate(classes.items()):
        if not place[ki]:
            continue
        s = " + ".join(place[ki])
        if keep[k]:
            cons.append("keep_%d: %s >= %d" % (ki, s, keep[k]))
        if greedy is not None and k[1] == top:
            top_terms.append(s)
            top_keep += keep[k]
        if k[2] < 0:
            cons.append("count_%d: %s <= %d" % (ki, s, cnt))
            continue
        b = "b_%d" % ki
        bins.append(b)
        need = min(cnt, max(1, int(groups["min_member"][k[2]]) - run_members[k[2]]))
        cons.append("gang_hi_%d: %s - %d %s <= 0" % (ki, s, cnt, b))
        cons.append("gang_lo_%d: %s - %d %s >= 0" % (ki, s, need, b))
        if ki in topo:
            ds = []
            for di, (dom, vs) in enumerate(topo[ki].items()):
                dv = "d_%d_%d" % (ki, di)
                bins.append(dv)
                ds.append(dv)
                cons.append("dom_%d_%d: %s - %d %s <= 0" % (ki, di, " + ".join(vs), cnt, dv))
            cons.append("one_%d: %s - %s = 0" % (ki, " + ".join(ds), b))
    if greedy is not None:
        if not top_terms:
            return None, weight  # no pod of priority top can go anywhere
        cons.append("top_added: %s >= %d" % (" + ".join(top_terms), top_keep + 1))
    write_lp_file(path, obj, cons, bounds, ints, bins)
    return classes, weight


def placed(path):
    with h5py.File(path, "r") as f:
        return int((f["placements/node"][:] >= 0).sum())


def greedy_plan(path):
    with h5py.File(path, "r") as f:
        pl = f["placements"]
        return {int(p): (int(n), int(m)) for p, n, m in
                zip(pl["pod"][:], pl["node"][:], pl["gpu_mask"][:]) if n >= 0}


def rule_bound(a, d, wd):
    """The most pods a repair of the greedy plan a.rule can place under the
    issue's rule (move only placed pending pods of priority <= the pod it
    places): the best, over the priority top of the highest pod it adds,
    of the program with every greedy pod above top fixed (build_lp)."""
    greedy = greedy_plan(a.rule)
    pods = d["pods"]
    stranded = set(int(pods["priority"][p]) for p in range(len(pods["name"]))
                   if int(pods["node"][p]) < 0 and p not in greedy)
    best = (len(greedy), len(greedy), None)
    for top in sorted(stranded):
        lp = os.path.join(wd, "rule-%d.lp" % top)
        classes, _ = build_lp(lp, d, greedy, top)
        fixed = sum(1 for p in greedy if int(pods["priority"][p]) > top)
        if classes is not None:
            obj, bound, _ = solve(lp, lp + ".sol", a.time_limit)
            with open(lp + ".sol") as f:
                infeasible = "infeasible" in f.readline().lower()
        if classes is None or infeasible:
            print("  rule bound, highest added priority %d: no such repair (no pod of priority "
                  "%d can be added)" % (top, top))
            continue
        lo, hi = int(obj + 1e-6) + fixed, int(bound + 1e-6) + fixed
        print("  rule bound, highest added priority %d: %d-%d pods (%d fixed)" % (top, lo, hi,
                                                                               fixed))
        if hi > best[1]:
            best = (lo, hi, top)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary", help="shardsched (unused; kept for the scripts' common usage)")
    ap.add_argument("snapshot")
    ap.add_argument("--placements", nargs="*", default=[])
    ap.add_argument("--time-limit", type=int, default=120)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--rule", default=None, metavar="GREEDY.h5",
                    help="also bound what a repair of this greedy plan can place under the "
                    "issue's rule (rule_bound)")
    a = ap.parse_args()
    wd = a.workdir or tempfile.mkdtemp(prefix="ss-opt-")
    os.makedirs(wd, exist_ok=True)
    d = load(a.snapshot)
    lp = os.path.join(wd, os.path.basename(a.snapshot) + ".lp")
    classes, _ = build_lp(lp, d)
    obj, bound, optimal = solve(lp, lp + ".sol", a.time_limit)
    pending = sum(classes.values())
    # the weights add < 1e-4 per pod: the count is the integer part
    lo, hi = int(obj + 1e-6), int(bound + 1e-6)
    # CBC may stop on its limit still closing the priority tie-break: the count
    # is proven when the bound leaves no room for one more pod
    proven = optimal or lo == hi
    print("%s: %d pending pods, optimum %s" % (a.snapshot, pending, "%d (proven)" % lo if proven
                                               else "%d-%d (CBC time limit)" % (lo, hi)))
    if a.rule:
        lo_r, hi_r, top = rule_bound(a, d, wd)
        print("  under the rule: at most %d pods (%.2f %% of the optimum; best found %d)" % (
            hi_r, 100.0 * hi_r / hi if hi else 100.0, lo_r))
    for p in a.placements:
        got = placed(p)
        print("  %s: %d placed, %.2f %% of the optimum%s" % (
            p, got, 100.0 * got / hi if hi else 100.0,
            "" if proven else " (of its bound; %.2f %% of the best found)" %
            (100.0 * got / lo if lo else 100.0)))


if __name__ == "__main__":
    main()
