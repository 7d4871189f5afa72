#!/usr/bin/env python3
"""binder_server: a stand-in for the Kubernetes API server's pod binding
endpoint, for tests/e2e_bind.sh. Listens on 127.0.0.1 only (a free port,
written to --port-file), serves GET PREFIX/api (an APIVersions object) and
POST PREFIX/api/v1/namespaces/NS/pods/NAME/binding with Kubernetes' status
codes and Status bodies; any other path answers 404 text/plain, as a plain
web server would. --token T: requests without "Authorization: Bearer T" get
401 (a Status). Faults, in mode "normal":

  - a pod bound once answers 409 "already assigned to node X" to every later
    post (X is the node it was bound to);
  - pods named gone-* answer 404 NotFound (the pod was deleted);
  - pods named prebound-* answer 409 naming the node posted (bound to the
    same node by an earlier run); elsewhere-* answer 409 naming "other-node";
  - on a pod's first post, by crc32(name) % 8: 0 -> 500, 1 -> 429 with
    Retry-After: 1, 2 -> connection dropped without a reply, 3 -> slow reply
    (0.5 s) then 201; otherwise 201;
  - pods whose name starts with the control "hang" prefix are bound on their
    first post, but no post of theirs is ever answered: the handler waits
    --hang seconds (at most 10) and drops the connection;
  - every reply takes --delay seconds, so a run lasts long enough to be
    killed half-way.

Other modes (POST /control {"mode": M, "hang": PREFIX} switches): "html"
(every binding answered 200 text/html, nothing bound), "forbidden" (403
Status), "outage" (503 Status), "unauthorized" (401 Status, also for /api).

Pod endpoints for the ordered request log (bind --replay; victims are
told apart by their name's prefix):

  - PATCH PREFIX/api/v1/namespaces/NS/pods/NAME/status (merge or strategic
    merge patch; another Content-Type gets 415): records
    status.nominatedNodeName and status.conditions, answers the Pod (404 for
    a deleted pod or one named gone-*);
  - DELETE .../pods/NAME: the pod is gone (GET answers 404) at once, or
    after 1.5 s for slowgone-*, or never for stuck-* (a finalizer); 404 when
    it is gone already;
  - POST .../pods/NAME/eviction (a policy/v1 Eviction for the pod): like a
    DELETE, except pdb-* (429 TooManyRequests with a DisruptionBudget cause,
    as the API server refuses an eviction that would break a PDB), multipdb-*
    (500 "This pod has more than one PodDisruptionBudget..."), ratelimit-*
    (429 without a cause, Retry-After: 1, on the first post; then evicted);
  - GET .../pods/NAME: the Pod while it exists, else 404 NotFound.

Gödel binder's endpoints (bind --binder godel, --write-status):

  - PATCH .../pods/NAME (application/merge-patch+json of
    metadata.annotations; another Content-Type gets 415): the annotations
    are merged into the pod's record (a null removes one) and counted
    ("annotation_patches"); answers the Pod with its annotations; 404 for
    gone-*; the first PATCH of a flaky-* pod answers 500 (retried);
  - PATCH PREFIX/apis/scheduling.k8s.io/VERSION/namespaces/NS/podgroups/
    NAME/status (strategic merge patch of status.conditions): recorded in
    --state.podgroups ({"ns/name": {"version", "conditions": {type: c},
    "patches"}}) and answered with the PodGroup when ns/name is listed in
    --podgroups (comma-separated), else 404 NotFound.

Node endpoints, simulating NVIDIA's MIG manager (--nodes FILE: a kubectl
JSON List of Nodes, or {"items": [...]}):

  - GET PREFIX/api/v1/nodes/NAME: the Node, 404 NotFound if not listed;
  - PATCH PREFIX/api/v1/nodes/NAME (merge patch of metadata.labels; another
    Content-Type gets 415): a new value of nvidia.com/mig.config sets
    nvidia.com/mig.config.state=pending; after --mig-pending-gets GETs of
    the node (default 2) the state becomes "success" and status.allocatable
    is rewritten from the entry of --mig-config FILE (mig-parted's YAML:
    per GPU index below nvidia.com/gpu.count, the first device group with
    devices all or listing it; mig-enabled groups add their mig-devices
    counts as nvidia.com/mig-<profile> ('+' as '.'), the others count as
    nvidia.com/gpu), or "failed" for the entry named by --mig-fail, or for
    an entry the file does not have. Nodes are kept in --state.nodes.
    The YAML is read with python3-yaml when it is installed, else with
    parse_yaml_subset (block maps and lists, flow lists, plain and quoted
    scalars: what mig-parted configs use).

A cluster for consolidate's waves (--cluster-pods FILE: a kubectl List of
Pods and PodDisruptionBudgets, e.g. gen --emit-kube's pods.json; with
--nodes for the Nodes):

  - PATCH PREFIX/api/v1/nodes/NAME with {"spec": {"unschedulable": true}}
    (merge or strategic merge patch): the node is cordoned (kept in
    --state.nodes; recorded in the event as "cordon");
  - the listed running pods exist; GET .../pods/NAME answers them (with a
    deletionTimestamp while terminating), pods not listed answer 404;
  - GET PREFIX/api/v1/namespaces/NS/pods?labelSelector=k=v,... : a PodList
    of the pods of NS with those labels (listed pods not gone, and the
    replacements their controllers made);
  - POST .../pods/NAME/eviction enforces the PodDisruptionBudgets as the API
    server does: the PDBs of the pod's namespace whose selector (matchLabels,
    matchExpressions In/NotIn/Exists/DoesNotExist; an empty selector matches
    nothing) matches its labels; more than one: 500; one with
    disruptionsAllowed 0: 429 with a DisruptionBudget cause; else the pod is
    evicted: it terminates for --terminate-delay s (default 0.3), and when it
    has a controller ownerReference (not a DaemonSet) a replacement NAME-rN
    with the same labels is Running --recreate-delay s (default 0.6) after
    the eviction (a simulated controller);
  - pods named by --refuse-evict NS/NAME,... (or POST /control {"refuse":
    [...]}) are always refused with the disruption-budget 429;
  - GET PREFIX/apis/policy/v1/namespaces/NS/poddisruptionbudgets/NAME: the
    PDB with status expectedPods (the listed pods it selects), currentHealthy
    (those Running and not terminating, replacements included),
    desiredHealthy (minAvailable, or expectedPods - maxUnavailable;
    percentages rounded up, as the disruption controller does) and
    disruptionsAllowed.

Every API request is recorded in --state.events (a JSON list of {"n", "method",
"path", "code"} in arrival order; a node GET adds its "config" and "state" labels) and pod records in --state.pods.

State: {"ns/name": {"posts", "bound", "node", "path"}}, written atomically
to --state after every request and served at GET /state; the requests for
paths outside the API go to --state.stray (one "METHOD PATH" per line). The
server exits by itself after --lifetime seconds (at most 600), or on POST
/shutdown. Every handler is bounded in time.
"""
import argparse
import json
import os
import re
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
pods = {}  # "ns/name" -> {"posts": n, "bound": n, "node": str, "path": raw path}
stray = []  # paths asked for outside the API
podrec = {}  # "ns/name" -> {"deleted_at", "deletes", "evictions", "nominated", "conditions", ...}
events = []  # every API request: {"n", "method", "path", "code"}
control = {"mode": "normal", "hang": None}
nodes = {}  # name -> Node object
podgroups = {}  # "ns/name" -> {"version", "conditions", "patches"} (--write-status)
node_pending = {}  # name -> GETs left before the MIG manager finishes
mig_configs = {}  # mig-parted entry -> list of device groups
args = None
cluster = {}  # --cluster-pods: "ns/name" -> Pod (running pods)
cluster_pdbs = []  # --cluster-pods: PodDisruptionBudgets
replacements = {}  # "ns/name" of an evicted pod -> {"name", "at"}: its controller's new pod


def _scalar(t):
    t = t.strip()
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"":
        return t[1:-1]
    if t.startswith("[") and t.endswith("]"):
        return [_scalar(x) for x in t[1:-1].split(",") if x.strip()]
    if t in ("true", "True"):
        return True
    if t in ("false", "False"):
        return False
    if t in ("null", "~", ""):
        return None
    try:
        return int(t)
    except ValueError:
        return t


def _key_value(t):
    """'key: value' (the key may be quoted) -> (key, value text) or None."""
    if t[:1] in "'\"":
        end = t.index(t[0], 1)
        k, rest = t[1:end], t[end + 1:]
    else:
        i = t.find(": ") if ": " in t else (len(t) - 1 if t.endswith(":") else -1)
        if i < 0:
            return None
        k, rest = t[:i], t[i:]
    rest = rest.lstrip()
    if not rest.startswith(":"):
        return None
    return k, rest[1:].strip()


def parse_yaml_subset(text):
    """The YAML subset mig-parted configs use: block maps and lists, flow
    lists, plain and quoted scalars, comments."""
    lines = []
    for raw in text.splitlines():
        s = raw.split(" #")[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if s.strip():
            lines.append((len(s) - len(s.lstrip()), s.strip()))
    pos = [0]

    def block(indent):
        if pos[0] >= len(lines):
            return None
        ind, t = lines[pos[0]]
        if t.startswith("- ") or t == "-":
            out = []
            while pos[0] < len(lines) and lines[pos[0]][0] == ind and lines[pos[0]][1].startswith("-"):
                item = lines[pos[0]][1][1:].strip()
                if not item:
                    pos[0] += 1
                    out.append(block(lines[pos[0]][0]) if pos[0] < len(lines) else None)
                elif _key_value(item):
                    # a map whose first key is on the dash's line
                    lines[pos[0]] = (ind + 2, item)
                    out.append(block(ind + 2))
                else:
                    pos[0] += 1
                    out.append(_scalar(item))
            return out
        out = {}
        while pos[0] < len(lines) and lines[pos[0]][0] == ind:
            kv = _key_value(lines[pos[0]][1])
            if kv is None:
                raise ValueError("not a key: value line: " + lines[pos[0]][1])
            k, v = kv
            pos[0] += 1
            if v:
                out[k] = _scalar(v)
            elif pos[0] < len(lines) and lines[pos[0]][0] > ind:
                out[k] = block(lines[pos[0]][0])
            elif pos[0] < len(lines) and lines[pos[0]][0] == ind and lines[pos[0]][1].startswith("-"):
                out[k] = block(ind)  # a list at the key's own indentation
            else:
                out[k] = None
        return out

    return block(lines[0][0]) if lines else None


def load_yaml(path):
    text = open(path).read()
    if not args.yaml_subset:
        try:
            import yaml
            return yaml.safe_load(text)
        except ImportError:
            pass
    return parse_yaml_subset(text)


def mig_allocatable(node, entry):
    """The node's allocatable after the MIG manager applied entry, or None
    (entry not in the file)."""
    groups = mig_configs.get(entry)
    if groups is None:
        return None
    labels = node["metadata"].get("labels", {})
    n = int(labels.get("nvidia.com/gpu.count", "0"))
    alloc = {k: v for k, v in node["status"].get("allocatable", {}).items()
             if not k.startswith("nvidia.com/mig-")}
    whole, counts = 0, {}
    for g in range(n):
        grp = next((x for x in groups
                    if x.get("devices") == "all" or g in (x.get("devices") or [])), None)
        if grp is None or not grp.get("mig-enabled"):
            whole += 1
            continue
        for prof, c in (grp.get("mig-devices") or {}).items():
            key = "nvidia.com/mig-" + prof.replace("+", ".")
            counts[key] = counts.get(key, 0) + int(c)
    alloc["nvidia.com/gpu"] = str(whole)
    for k, v in counts.items():
        alloc[k] = str(v)
    return alloc


def dump(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f)
    os.replace(tmp, path)


def save_state():
    dump(args.state, pods)
    dump(args.state + ".nodes", nodes)
    dump(args.state + ".events", events)
    dump(args.state + ".pods", podrec)
    dump(args.state + ".podgroups", podgroups)


def event(method, path, code, extra=None):
    with lock:
        events.append(dict({"n": len(events), "method": method, "path": path, "code": code},
                           **(extra or {})))
        save_state()


POD_PATH = r"/api/v1/namespaces/([^/]+)/pods/([^/]+)"


def key_of(ns, name):
    return ns + "/" + name


def has_controller(pod):
    return any(o.get("controller") and o.get("kind") != "DaemonSet"
               for o in pod["metadata"].get("ownerReferences", []))


def cluster_pods(now):
    """The pods of --cluster-pods as they are now: (key, Pod, terminating)
    for the listed pods not gone and the replacements already made."""
    out = []
    for key, pod in cluster.items():
        t = podrec.get(key, {}).get("deleted_at")
        if t is None or now < t + args.terminate_delay:
            out.append((key, pod, t is not None))
        rep = replacements.get(key)
        if rep and now >= rep["at"]:
            new = json.loads(json.dumps(pod))
            new["metadata"]["name"] = rep["name"]
            new["spec"].pop("nodeName", None)
            out.append((pod["metadata"]["namespace"] + "/" + rep["name"], new, False))
    return out


def selector_matches(sel, labels):
    if not isinstance(sel, dict) or (not sel.get("matchLabels") and not sel.get("matchExpressions")):
        return False  # the eviction API: an empty or null selector matches nothing
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if (op == "In" and labels.get(k) not in vals) or (op == "NotIn" and labels.get(k) in vals) \
                or (op == "Exists" and k not in labels) or (op == "DoesNotExist" and k in labels):
            return False
    return True


def scaled(v, n):
    if isinstance(v, str) and v.endswith("%"):
        return -(-int(v[:-1]) * n // 100)  # rounded up
    return int(v)


def pdb_status(pdb, now):
    ns, sel = pdb["metadata"]["namespace"], pdb["spec"].get("selector")
    expected = sum(1 for p in cluster.values() if p["metadata"]["namespace"] == ns
                   and selector_matches(sel, p["metadata"].get("labels", {})))
    healthy = sum(1 for _, p, term in cluster_pods(now) if not term
                  and p["metadata"]["namespace"] == ns
                  and selector_matches(sel, p["metadata"].get("labels", {})))
    spec = pdb["spec"]
    if spec.get("minAvailable") is not None:
        desired = scaled(spec["minAvailable"], expected)
    elif spec.get("maxUnavailable") is not None:
        desired = expected - scaled(spec["maxUnavailable"], expected)
    else:
        desired = expected
    return {"expectedPods": expected, "currentHealthy": healthy, "desiredHealthy": desired,
            "disruptionsAllowed": max(0, healthy - desired)}


def gone(key, name):
    r = podrec.get(key, {})
    if args.cluster_pods:
        if key not in cluster:
            return True
        t = r.get("deleted_at")
        return t is not None and time.time() >= t + args.terminate_delay
    if name.startswith("gone-"):
        return True
    t = r.get("deleted_at")
    if t is None or name.startswith("stuck-"):
        return False
    return time.time() >= t + (1.5 if name.startswith("slowgone-") else 0)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 15  # a client that stalls mid-request is dropped

    def log_message(self, fmt, *a):
        pass

    def send(self, code, body, ctype, headers=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:  # the client was killed: nothing to tell it
            self.close_connection = True

    def reply(self, code, obj, headers=(), extra=None):
        if self.path.startswith((args.prefix + "/api/", args.prefix + "/apis/")):
            event(self.command, self.path[len(args.prefix):], code, extra)
        self.send(code, json.dumps(obj).encode(), "application/json", headers)

    def pod_match(self, suffix):
        m = re.match("^" + re.escape(args.prefix) + POD_PATH + suffix + "$", self.path)
        if not m:
            return None
        ns, name = urllib.parse.unquote(m.group(1)), urllib.parse.unquote(m.group(2))
        return ns, name, ns + "/" + name

    def pod_object(self, ns, name, r):
        st = {"phase": "Running", "conditions": list(r.get("conditions", {}).values())}
        if r.get("nominated"):
            st["nominatedNodeName"] = r["nominated"]
        meta = {"name": name, "namespace": ns}
        if args.cluster_pods and key_of(ns, name) in cluster:
            meta["labels"] = cluster[key_of(ns, name)]["metadata"].get("labels", {})
            if r.get("deleted_at") is not None:
                meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
        if r.get("annotations"):
            meta["annotations"] = r["annotations"]
        return {"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": {}, "status": st}

    def body_json(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(min(n, 1 << 20))
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return "bad"

    def node_match(self):
        m = re.match("^" + re.escape(args.prefix) + r"/api/v1/nodes/([^/]+)$", self.path)
        return urllib.parse.unquote(m.group(1)) if m else None

    def get_node(self, name):
        with lock:
            node = nodes.get(name)
            if node is not None and name in node_pending:
                node_pending[name] -= 1
                if node_pending[name] <= 0:  # the MIG manager is done
                    del node_pending[name]
                    labels = node["metadata"]["labels"]
                    entry = labels.get("nvidia.com/mig.config")
                    alloc = None if entry == args.mig_fail else mig_allocatable(node, entry)
                    if alloc is None:
                        labels["nvidia.com/mig.config.state"] = "failed"
                    else:
                        labels["nvidia.com/mig.config.state"] = "success"
                        node["status"]["allocatable"] = alloc
            obj = json.loads(json.dumps(node)) if node is not None else None
        if obj is None:
            return self.status(404, "NotFound", 'nodes "%s" not found' % name)
        labels = obj["metadata"]["labels"]
        self.reply(200, obj, extra={"config": labels.get("nvidia.com/mig.config"),
                                    "state": labels.get("nvidia.com/mig.config.state")})

    def cordon(self, name, value):
        time.sleep(args.delay)
        with lock:
            node = nodes.get(name)
            if node is not None:
                node.setdefault("spec", {})["unschedulable"] = bool(value)
                obj = json.loads(json.dumps(node))
        if node is None:
            return self.status(404, "NotFound", 'nodes "%s" not found' % name)
        self.reply(200, obj, extra={"cordon": bool(value)})

    def list_pods(self, ns, query):
        sel = {}
        for term in (urllib.parse.parse_qs(query).get("labelSelector") or [""])[0].split(","):
            if term:
                k, _, v = term.partition("=")
                sel[k] = v.lstrip("=")
        now = time.time()
        items = []
        with lock:
            for key, pod, term in cluster_pods(now):
                md = pod["metadata"]
                labels = md.get("labels", {})
                if md["namespace"] != ns or any(labels.get(k) != v for k, v in sel.items()):
                    continue
                obj = {"kind": "Pod", "apiVersion": "v1",
                       "metadata": {"name": md["name"], "namespace": ns, "labels": labels},
                       "spec": {"nodeName": pod["spec"].get("nodeName", "")},
                       "status": {"phase": "Running"}}
                if term:
                    obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
                items.append(obj)
        self.reply(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items},
                   extra={"count": len(items)})

    def get_pdb(self, ns, name):
        with lock:
            pdb = next((d for d in cluster_pdbs if d["metadata"]["namespace"] == ns
                        and d["metadata"]["name"] == name), None)
            st = pdb_status(pdb, time.time()) if pdb else None
        if pdb is None:
            return self.status(404, "NotFound", 'poddisruptionbudgets.policy "%s" not found' % name)
        obj = dict(pdb, status=st)
        self.reply(200, obj, extra={"disruptionsAllowed": st["disruptionsAllowed"]})

    def refuse_budget(self, pdb_name):
        return self.reply(429, {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "Cannot evict pod as it would violate the pod's disruption budget.",
            "reason": "TooManyRequests", "code": 429,
            "details": {"causes": [{"reason": "DisruptionBudget", "type": "DisruptionBudget",
                                    "message": "The disruption budget %s needs more healthy pods"
                                               % pdb_name}]}})

    def evict_cluster(self, ns, name, key):
        time.sleep(args.delay)
        now = time.time()
        with lock:
            r = podrec.setdefault(key, {})
            r["eviction_posts"] = r.get("eviction_posts", 0) + 1
            pod = cluster.get(key)
            if pod is None or r.get("deleted_at") is not None:
                outcome, pdb = (404 if gone(key, name) else 201), None
            else:
                labels = pod["metadata"].get("labels", {})
                mine = [d for d in cluster_pdbs if d["metadata"]["namespace"] == ns and labels
                        and selector_matches(d["spec"].get("selector"), labels)]
                pdb = mine[0]["metadata"]["name"] if mine else "refused-by-test"
                if key in control.get("refuse", []):
                    outcome = 429
                elif len(mine) > 1:
                    outcome = 500
                elif mine and pdb_status(mine[0], now)["disruptionsAllowed"] <= 0:
                    outcome = 429
                else:
                    outcome = 201
                    r["evictions"] = r.get("evictions", 0) + 1
                    r["deleted_at"] = now
                    if has_controller(pod):
                        k = sum(1 for x in replacements if x == key) + 1
                        replacements[key] = {"name": "%s-r%d" % (name, k),
                                             "at": now + args.recreate_delay}
        if outcome == 404:
            return self.status(404, "NotFound", 'pods "%s" not found' % name)
        if outcome == 429:
            return self.refuse_budget(pdb)
        if outcome == 500:
            return self.status(500, "InternalError", "Internal error occurred: This pod has more "
                               "than one PodDisruptionBudget, which the eviction subresource does "
                               "not support.")
        self.reply(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                         "code": 201})

    def patch_node(self, name, b):
        ct = self.headers.get("Content-Type", "")
        cordon = isinstance(b, dict) and isinstance(b.get("spec"), dict)
        if ct != "application/merge-patch+json" and not (
                cordon and ct == "application/strategic-merge-patch+json"):
            return self.status(415, "UnsupportedMediaType", "the body of the request was in an "
                               "unknown format: " + ct)
        spec = b.get("spec") if isinstance(b, dict) else None
        if isinstance(spec, dict) and set(spec) == {"unschedulable"}:
            return self.cordon(name, spec["unschedulable"])
        labels = b.get("metadata", {}).get("labels") if isinstance(b, dict) else None
        if not isinstance(labels, dict):
            return self.status(400, "BadRequest", "not a label patch")
        time.sleep(args.delay)
        with lock:
            node = nodes.get(name)
            if node is not None:
                have = node["metadata"].setdefault("labels", {})
                old = have.get("nvidia.com/mig.config")
                for k, v in labels.items():
                    if v is None:
                        have.pop(k, None)
                    else:
                        have[k] = v
                new = have.get("nvidia.com/mig.config")
                if new != old and new is not None:  # the MIG manager starts
                    have["nvidia.com/mig.config.state"] = "pending"
                    node_pending[name] = args.mig_pending_gets
                obj = json.loads(json.dumps(node))
        if node is None:
            return self.status(404, "NotFound", 'nodes "%s" not found' % name)
        self.reply(200, obj)

    def do_PATCH(self):
        b = self.body_json()
        nm = self.node_match()
        if nm is not None:
            return self.patch_node(nm, b) if self.authorized() else None
        t = self.pod_match("/status")
        if not t and self.pod_match(""):
            return self.patch_annotations(self.pod_match(""), b) if self.authorized() else None
        m = re.match("^" + re.escape(args.prefix) + r"/apis/scheduling\.k8s\.io/([^/]+)"
                     r"/namespaces/([^/]+)/podgroups/([^/]+)/status$", self.path)
        if not t and m:
            return self.patch_podgroup(m, b) if self.authorized() else None
        if not t:
            return self.not_found_plain()
        if not self.authorized():
            return
        ns, name, key = t
        ct = self.headers.get("Content-Type", "")
        if ct not in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
            return self.status(415, "UnsupportedMediaType", "the body of the request was in an "
                               "unknown format: " + ct)
        if not isinstance(b, dict) or not isinstance(b.get("status"), dict):
            return self.status(400, "BadRequest", "not a status patch")
        time.sleep(args.delay)
        with lock:
            if gone(key, name):
                missing = True
            else:
                missing = False
                r = podrec.setdefault(key, {})
                r["patches"] = r.get("patches", 0) + 1
                if "nominatedNodeName" in b["status"]:
                    r["nominated"] = b["status"]["nominatedNodeName"]
                for c in b["status"].get("conditions", []):
                    if ct != "application/strategic-merge-patch+json":
                        r["conditions"] = {}  # a merge patch replaces the whole list
                    r.setdefault("conditions", {})[c["type"]] = c
                obj = self.pod_object(ns, name, r)
        if missing:
            return self.status(404, "NotFound", 'pods "%s" not found' % name)
        self.reply(200, obj)

    def patch_annotations(self, t, b):
        ns, name, key = t
        ct = self.headers.get("Content-Type", "")
        if ct != "application/merge-patch+json":
            return self.status(415, "UnsupportedMediaType", "the body of the request was in an "
                               "unknown format: " + ct)
        ann = b.get("metadata", {}).get("annotations") if isinstance(b, dict) else None
        if not isinstance(ann, dict):
            return self.status(400, "BadRequest", "not a patch of metadata.annotations")
        time.sleep(args.delay)
        with lock:
            r = podrec.setdefault(key, {})
            missing = gone(key, name)
            flaky = name.startswith("flaky-") and not r.get("flaked")
            if flaky:
                r["flaked"] = True
            elif not missing:
                r["annotation_patches"] = r.get("annotation_patches", 0) + 1
                a = r.setdefault("annotations", {})
                for k, v in ann.items():
                    if v is None:
                        a.pop(k, None)
                    else:
                        a[k] = v
                obj = self.pod_object(ns, name, r)
        if missing:
            return self.status(404, "NotFound", 'pods "%s" not found' % name)
        if flaky:
            return self.status(500, "InternalError", "etcdserver: request timed out")
        self.reply(200, obj)

    def patch_podgroup(self, m, b):
        version = m.group(1)
        ns, name = urllib.parse.unquote(m.group(2)), urllib.parse.unquote(m.group(3))
        key = ns + "/" + name
        ct = self.headers.get("Content-Type", "")
        if ct not in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
            return self.status(415, "UnsupportedMediaType", "unknown format: " + ct)
        conds = b.get("status", {}).get("conditions") if isinstance(b, dict) else None
        if not isinstance(conds, list):
            return self.status(400, "BadRequest", "not a status patch of conditions")
        if key not in (args.podgroups or "").split(","):
            return self.status(404, "NotFound", 'podgroups.scheduling.k8s.io "%s" not found'
                               % name)
        with lock:
            r = podgroups.setdefault(key, {"version": version, "conditions": {}, "patches": 0})
            r["patches"] += 1
            for c in conds:
                r["conditions"][c["type"]] = c
            obj = {"kind": "PodGroup", "apiVersion": "scheduling.k8s.io/" + version,
                   "metadata": {"name": name, "namespace": ns},
                   "status": {"conditions": list(r["conditions"].values())}}
        self.reply(200, obj)

    def do_DELETE(self):
        self.body_json()
        t = self.pod_match("")
        if not t:
            return self.not_found_plain()
        if not self.authorized():
            return
        ns, name, key = t
        time.sleep(args.delay)
        with lock:
            missing = gone(key, name)
            if not missing:
                r = podrec.setdefault(key, {})
                r["deletes"] = r.get("deletes", 0) + 1
                r.setdefault("deleted_at", time.time())
                obj = self.pod_object(ns, name, r)
        if missing:
            return self.status(404, "NotFound", 'pods "%s" not found' % name)
        self.reply(200, obj)

    def evict(self, ns, name, key, b):
        ok = (isinstance(b, dict) and b.get("kind") == "Eviction" and b.get("apiVersion") == "policy/v1"
              and b.get("metadata", {}).get("name") == name)
        if not ok:
            return self.status(400, "BadRequest", "not a policy/v1 Eviction for this pod")
        if args.cluster_pods:
            return self.evict_cluster(ns, name, key)
        time.sleep(args.delay)
        with lock:
            r = podrec.setdefault(key, {})
            r["eviction_posts"] = r.get("eviction_posts", 0) + 1
            missing = gone(key, name)
            outcome = 404 if missing else 201
            if not missing and name.startswith("pdb-"):
                outcome = 4291
            elif not missing and name.startswith("multipdb-"):
                outcome = 500
            elif not missing and name.startswith("ratelimit-") and r["eviction_posts"] == 1:
                outcome = 429
            if outcome == 201:
                r["evictions"] = r.get("evictions", 0) + 1
                r.setdefault("deleted_at", time.time())
        if outcome == 404:
            return self.status(404, "NotFound", 'pods "%s" not found' % name)
        if outcome == 4291:
            return self.reply(429, {
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "Cannot evict pod as it would violate the pod's disruption budget.",
                "reason": "TooManyRequests", "code": 429,
                "details": {"causes": [{"reason": "DisruptionBudget", "type": "DisruptionBudget",
                                        "message": "The disruption budget pdb-x needs 2 healthy "
                                                   "pods and has 2 currently"}]}})
        if outcome == 500:
            return self.status(500, "InternalError", "Internal error occurred: This pod has more "
                               "than one PodDisruptionBudget, which the eviction subresource does "
                               "not support.")
        if outcome == 429:
            return self.status(429, "TooManyRequests", "Too many requests, please try again later.",
                               [("Retry-After", "1")])
        self.reply(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                         "code": 201})

    def status(self, code, reason, msg, headers=()):
        self.reply(code, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                          "status": "Failure", "message": msg, "reason": reason, "code": code},
                   headers)

    def not_found_plain(self):
        with lock:
            if len(stray) < 1000:
                stray.append(self.command + " " + self.path)
                with open(args.state + ".stray", "a") as f:
                    f.write(stray[-1] + "\n")
        self.send(404, b"404 page not found\n", "text/plain; charset=utf-8")

    def authorized(self):
        if control["mode"] == "unauthorized" or (
                args.token and self.headers.get("Authorization") != "Bearer " + args.token):
            self.status(401, "Unauthorized", "Unauthorized")
            return False
        return True

    def do_GET(self):
        if self.path == "/state":
            with lock:
                return self.reply(200, pods)
        nm = self.node_match()
        if nm is not None:
            return self.get_node(nm) if self.authorized() else None
        m = re.match("^" + re.escape(args.prefix) + r"/api/v1/namespaces/([^/?]+)/pods\?(.*)$",
                     self.path)
        if m and args.cluster_pods:
            return self.list_pods(urllib.parse.unquote(m.group(1)), m.group(2)) \
                if self.authorized() else None
        m = re.match("^" + re.escape(args.prefix) + r"/apis/policy/v1/namespaces/([^/]+)/"
                     r"poddisruptionbudgets/([^/]+)$", self.path)
        if m and args.cluster_pods:
            return self.get_pdb(urllib.parse.unquote(m.group(1)), urllib.parse.unquote(m.group(2))) \
                if self.authorized() else None
        t = self.pod_match("")
        if t and self.authorized():
            ns, name, key = t
            with lock:
                r = podrec.setdefault(key, {})
                r["gets"] = r.get("gets", 0) + 1
                missing = gone(key, name)
                obj = self.pod_object(ns, name, r)
            if missing:
                return self.status(404, "NotFound", 'pods "%s" not found' % name)
            return self.reply(200, obj)
        if t:
            return
        if self.path != args.prefix + "/api":
            return self.not_found_plain()
        if self.authorized():
            self.reply(200, {"kind": "APIVersions", "versions": ["v1"],
                             "serverAddressByClientCIDRs": [
                                 {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]})

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(min(n, 1 << 20))
        if self.path == "/shutdown":
            self.reply(200, {})
            threading.Thread(target=self.server.shutdown).start()
            return
        if self.path == "/control":
            with lock:
                control.update(json.loads(raw))
            return self.reply(200, control)
        t = self.pod_match("/eviction")
        if t:
            if not self.authorized():
                return
            try:
                b = json.loads(raw)
            except ValueError:
                b = None
            return self.evict(t[0], t[1], t[2], b)
        m = re.match("^" + re.escape(args.prefix) + r"/api/v1/namespaces/([^/]+)/pods/([^/]+)/binding$",
                     self.path)
        if not m:
            return self.not_found_plain()
        if not self.authorized():
            return
        ns, name = urllib.parse.unquote(m.group(1)), urllib.parse.unquote(m.group(2))
        try:
            b = json.loads(raw)
            ok = (b["kind"] == "Binding" and b["apiVersion"] == "v1" and b["metadata"]["name"] == name
                  and b["metadata"].get("namespace", ns) == ns and b["target"]["kind"] == "Node"
                  and b["target"]["name"])
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            return self.status(400, "BadRequest", "not a Binding for this pod")
        mode = control["mode"]
        if mode == "html":
            return self.send(200, b"<html><body>Welcome to our proxy</body></html>\n", "text/html")
        if mode == "forbidden":
            return self.status(403, "Forbidden", 'pods "%s" is forbidden: User "x" cannot create '
                               'resource "pods/binding"' % name)
        if mode == "outage":
            return self.status(503, "ServiceUnavailable", "the server is currently unable to "
                               "handle the request")
        self.bind(ns, name, b)

    def bind(self, ns, name, b):
        time.sleep(args.delay)
        key = ns + "/" + name
        hang = control["hang"] and name.startswith(control["hang"])
        with lock:
            rec = pods.setdefault(key, {"posts": 0, "bound": 0, "node": "", "path": self.path})
            rec["posts"] += 1
            first = rec["posts"] == 1
            fault = zlib.crc32(name.encode()) % 8 if first and not hang else -1
            other = None
            if name.startswith("gone-"):
                outcome = 404
            elif name.startswith("elsewhere-"):
                outcome, other = 409, "other-node"
            elif name.startswith("prebound-"):
                outcome, other = 409, b["target"]["name"]
            elif rec["bound"] > 0:
                outcome, other = 409, rec["node"]
            elif fault in (0, 1, 2):
                outcome = (500, 429, 0)[fault]
            else:
                outcome = 201
                rec["bound"] += 1
                rec["node"] = b["target"]["name"]
            save_state()
        if hang:
            time.sleep(min(args.hang, 10))
            self.close_connection = True  # applied, but never answered
            return
        if outcome == 0:
            self.close_connection = True  # dropped: no reply at all
            return
        if fault == 3:
            time.sleep(0.5)
        if outcome == 201:
            self.reply(201, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                             "status": "Success", "code": 201})
        elif outcome == 409:
            self.status(409, "Conflict", 'Operation cannot be fulfilled on pods/binding "%s": pod '
                        '%s is already assigned to node "%s"' % (name, name, other))
        elif outcome == 404:
            self.status(404, "NotFound", 'pods "%s" not found' % name)
        elif outcome == 429:
            self.status(429, "TooManyRequests", "slow down", [("Retry-After", "1")])
        else:
            self.status(500, "InternalError", "injected failure")


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--state", required=True)
    p.add_argument("--delay", type=float, default=0.02)
    p.add_argument("--hang", type=float, default=2)
    p.add_argument("--prefix", default="")
    p.add_argument("--token", default=None)
    p.add_argument("--lifetime", type=float, default=120)
    p.add_argument("--nodes", default=None)
    p.add_argument("--mig-config", default=None)
    p.add_argument("--mig-fail", default=None)
    p.add_argument("--mig-pending-gets", type=int, default=2)
    p.add_argument("--podgroups", default=None, help="ns/name,... PodGroups that exist")
    p.add_argument("--cluster-pods", default=None,
                   help="a List of Pods and PodDisruptionBudgets: the cluster of consolidate's waves")
    p.add_argument("--terminate-delay", type=float, default=0.3)
    p.add_argument("--recreate-delay", type=float, default=0.6)
    p.add_argument("--refuse-evict", default="", help="ns/name,... evictions always refused (429)")
    p.add_argument("--yaml-subset", action="store_true",
                   help="read --mig-config with parse_yaml_subset even if python3-yaml is there")
    args = p.parse_args()
    if args.nodes:
        doc = json.load(open(args.nodes))
        for n in doc.get("items", [doc]) if isinstance(doc, dict) else doc:
            n.setdefault("status", {}).setdefault("allocatable", {})
            n["metadata"].setdefault("labels", {})
            nodes[n["metadata"]["name"]] = n
    if args.cluster_pods:
        for item in json.load(open(args.cluster_pods)).get("items", []):
            md = item.get("metadata", {})
            if item.get("kind") == "PodDisruptionBudget":
                cluster_pdbs.append(item)
            elif item.get("kind") == "Pod" and item.get("spec", {}).get("nodeName") and \
                    item.get("status", {}).get("phase") == "Running":
                cluster[md.get("namespace", "default") + "/" + md["name"]] = item
                md.setdefault("namespace", "default")
    control["refuse"] = [x for x in args.refuse_evict.split(",") if x]
    if args.mig_config:
        mig_configs.update((load_yaml(args.mig_config) or {}).get("mig-configs") or {})
    save_state()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    timer = threading.Timer(min(args.lifetime, 600), srv.shutdown)
    timer.daemon = True
    timer.start()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
