#!/usr/bin/env python3
"""binder_server: a stand-in for the Kubernetes API server's pod binding
endpoint, for tests/e2e_bind.sh. Listens on 127.0.0.1 (a free port, written
to --port-file), implements POST /api/v1/namespaces/NS/pods/NAME/binding with
Kubernetes' status codes, and injects faults so that the binder's retries are
exercised:

  - a pod bound once answers 409 (AlreadyExists) to every later post;
  - pods named gone-* answer 404 (the pod was deleted);
  - pods named prebound-* answer 409 (bound by someone else);
  - on a pod's first post, by crc32(name) % 8: 0 -> 500, 1 -> 429 with
    Retry-After: 1, 2 -> connection dropped without a reply, 3 -> slow reply
    (0.5 s) then 201; otherwise 201;
  - every reply takes --delay seconds, so a run lasts long enough to be
    killed half-way.

Per-pod counts (posts, bindings made, node) are written atomically to
--state after every request, and served at GET /state. The server exits by
itself after --lifetime seconds, or on POST /shutdown.
"""
import argparse
import json
import os
import re
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATH = re.compile(r"^/api/v1/namespaces/([^/]+)/pods/([^/]+)/binding$")
lock = threading.Lock()
pods = {}  # "ns/name" -> {"posts": n, "bound": n, "node": str}
args = None


def save_state():
    tmp = args.state + ".tmp"
    with open(tmp, "w") as f:
        json.dump(pods, f)
    os.replace(tmp, args.state)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def reply(self, code, obj, headers=()):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:  # the client was killed: nothing to tell it
            self.close_connection = True

    def status(self, code, reason, msg, headers=()):
        self.reply(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                          "message": msg, "reason": reason, "code": code}, headers)

    def do_GET(self):
        with lock:
            self.reply(200, pods)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        if self.path == "/shutdown":
            self.reply(200, {})
            threading.Thread(target=self.server.shutdown).start()
            return
        m = PATH.match(self.path)
        if not m:
            return self.status(404, "NotFound", "no such path")
        ns, name = m.group(1), m.group(2)
        try:
            b = json.loads(raw)
            ok = (b["kind"] == "Binding" and b["apiVersion"] == "v1" and b["metadata"]["name"] == name
                  and b["metadata"].get("namespace", ns) == ns and b["target"]["kind"] == "Node"
                  and b["target"]["name"])
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            return self.status(400, "BadRequest", "not a Binding for this pod")
        time.sleep(args.delay)
        key = ns + "/" + name
        with lock:
            rec = pods.setdefault(key, {"posts": 0, "bound": 0, "node": ""})
            rec["posts"] += 1
            first = rec["posts"] == 1
            fault = zlib.crc32(name.encode()) % 8 if first else -1
            if name.startswith("gone-"):
                outcome = 404
            elif name.startswith("prebound-") or rec["bound"] > 0:
                outcome = 409
            elif fault in (0, 1, 2):
                outcome = (500, 429, 0)[fault]
            else:
                outcome = 201
                rec["bound"] += 1
                rec["node"] = b["target"]["name"]
            save_state()
        if outcome == 0:
            self.close_connection = True  # dropped: no reply at all
            return
        if fault == 3:
            time.sleep(0.5)
        if outcome == 201:
            self.reply(201, b)
        elif outcome == 409:
            self.status(409, "Conflict", "pod %s is already assigned to a node" % name)
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
    p.add_argument("--lifetime", type=float, default=120)
    args = p.parse_args()
    save_state()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    timer = threading.Timer(args.lifetime, srv.shutdown)
    timer.daemon = True
    timer.start()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
