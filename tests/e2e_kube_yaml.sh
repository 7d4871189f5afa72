#!/bin/bash
# End-to-end test of `shardsched import` on YAML (issue 13): the same
# objects as tests/data/kube/*.json written as YAML (a v1 List, `---`
# documents, a sequence) give an h5diff-identical snapshot; so do standard
# input (`-`), a folder and a flag given several times; the FGD simulator's
# example cluster (one object a file, Alibaba GPU annotations) imports as it
# is with the expected counts and GPU fields; YAML errors (bad indentation,
# a tab, an unclosed quote, a wrong type) name file:line:column, exit 1 and
# write nothing.
# usage: bash e2e_kube_yaml.sh BINARY WORKDIR
set -u
BIN=$1
WORK=$2
DATA=${SS_TEST_DATA_DIR:-$(cd "$(dirname "$0")" && pwd)/data}
K=$DATA/kube
rm -rf "$WORK" && mkdir -p "$WORK/out" && cd "$WORK" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
imp() { "$BIN" import -q "$@" >stdout.txt 2>stderr.txt || fail "import $*: $(cat stderr.txt)"; }
same() { h5diff --exclude-path /run "$1" "$2" >/dev/null || fail "$3: $1 and $2 differ"; }

# JSON and YAML of the same objects
imp --nodes "$K/nodes.json" --pods "$K/pods.json" --podgroups "$K/podgroups.json" -o json.h5
cp stdout.txt json.txt
imp --nodes "$K/yaml/nodes.yaml" --pods "$K/yaml/pods.yaml" --podgroups "$K/yaml/podgroups.yaml" \
    -o yaml.h5
same json.h5 yaml.h5 "JSON vs YAML"
[ "$(sed 's/yaml.h5/json.h5/' stdout.txt)" = "$(cat json.txt)" ] || fail "reports differ: $(cat stdout.txt)"
grep -q "^imported 3 nodes, 1 running and 14 pending pods (13 templates, 2 pod groups)" json.txt ||
    fail "fixture counts: $(cat json.txt)"

# standard input, for YAML and for JSON, on any flag
imp --nodes "$K/yaml/nodes.yaml" --pods - --podgroups "$K/yaml/podgroups.yaml" -o stdin.h5 \
    <"$K/yaml/pods.yaml"
same json.h5 stdin.h5 "YAML on stdin"
cat "$K/nodes.json" | imp --nodes - --pods "$K/pods.json" --podgroups "$K/podgroups.json" -o stdin2.h5
same json.h5 stdin2.h5 "JSON on stdin"
# one stream on two flags is read once
cat "$K/yaml/nodes.yaml" "$K/yaml/pods.yaml" |
    imp --nodes - --pods - --podgroups "$K/podgroups.json" -o stdin3.h5
same json.h5 stdin3.h5 "one stdin on two flags"

# a folder (files in name order, JSON and YAML mixed, others skipped with a note)
mkdir -p dir/sub
python3 - "$K/yaml/pods.yaml" dir <<'EOF' || fail "split pods.yaml"
import sys
docs = open(sys.argv[1]).read().split("\n---\n")[1:]
for i, d in enumerate(docs):
    open("%s/pod-%02d.%s" % (sys.argv[2], i, "yml" if i % 2 else "yaml"), "w").write(d + "\n")
EOF
cp "$K/nodes.json" dir/00-nodes.json
cp "$K/yaml/podgroups.yaml" dir/zz-podgroups.YAML
echo "not an input" >dir/README.md
"$BIN" import -q --nodes dir -o dir.h5 >stdout.txt 2>stderr.txt || fail "folder: $(cat stderr.txt)"
same json.h5 dir.h5 "folder"
grep -qx "note: skipped dir/README.md (not .json, .yaml or .yml)" stderr.txt ||
    fail "no note for README.md: $(cat stderr.txt)"
grep -qx "note: skipped dir/sub (not a regular file)" stderr.txt || fail "no note for sub: $(cat stderr.txt)"
# a flag given several times, and a folder that also holds a file named on its own
mkdir -p pods && cp dir/pod-* pods/
imp --nodes "$K/yaml/nodes.yaml" --pods pods/pod-00.yaml --pods pods --podgroups "$K/podgroups.json" \
    -o many.h5
same json.h5 many.h5 "repeated flags"

# the FGD simulator's example cluster, as it is
FGD=$K/fgd_simulator_example_cluster
imp --nodes "$FGD" -o fgd.h5
grep -q "^imported 2 nodes, 0 running and 3 pending pods (3 templates, 0 pod groups)" stdout.txt ||
    fail "FGD counts: $(cat stdout.txt)"
grep -q "objects of other kinds (ignored): 2" stdout.txt || fail "FGD Config objects: $(cat stdout.txt)"
ds() { h5dump -d "$1" fgd.h5 | sed -n 's/^ *(0): //p'; }
[ "$(ds /nodes/gpu_count)" = "2, 4" ] || fail "FGD node GPUs: $(ds /nodes/gpu_count)"
[ "$(ds /nodes/cpu_milli)" = "64000, 64000" ] || fail "FGD node cpu: $(ds /nodes/cpu_milli)"
[ "$(ds /templates/gpu_count)" = "1, 0, 2" ] || fail "FGD pod GPUs: $(ds /templates/gpu_count)"
[ "$(ds /templates/gpu_milli)" = "500, 0, 1000" ] || fail "FGD gpu-milli: $(ds /templates/gpu_milli)"
[ "$(ds /templates/cpu_milli)" = "4000, 8000, 12000" ] || fail "FGD pod cpu: $(ds /templates/cpu_milli)"
"$BIN" schedule -q -i fgd.h5 -o fgd.p.h5 >/dev/null 2>&1 || fail "FGD schedule"

# YAML errors: exit 1, file:line:column, nothing written
refuse() { # FILE MESSAGE
    "$BIN" import -q --nodes "$1" -o out/c.h5 >stdout.txt 2>stderr.txt
    local rc=$?
    [ $rc -eq 1 ] || fail "$1: exit $rc, want 1: $(cat stderr.txt)"
    [ "$(cat stderr.txt)" = "shardsched import: $2" ] ||
        fail "$1: got '$(cat stderr.txt)', want 'shardsched import: $2'"
    [ -z "$(ls -A out)" ] || fail "$1: left $(ls -A out)"
}
printf 'kind: Node\nmetadata:\n  name: n1\n   labels: {}\n' >indent.yaml
refuse indent.yaml "indent.yaml:4:10: YAML: mapping values are not allowed in this context"
printf 'kind: Node\nmetadata:\n\tname: n1\n' >tab.yaml
refuse tab.yaml "tab.yaml:3:1: YAML: found character that cannot start any token (while scanning for the next token at line 3, column 1); the line holds a tab: YAML indents with spaces only"
printf 'kind: Node\nmetadata:\n  name: "n1\nstatus: {}\n' >quote.yaml
refuse quote.yaml "quote.yaml:5:1: YAML: found unexpected end of stream (while scanning a quoted scalar at line 3, column 9)"
printf 'kind: Node\nmetadata:\n  name: n1\nspec:\n  taints:\n    key: a\n' >type.yaml
refuse type.yaml "type.yaml:6:5: Node n1: spec.taints: expected an array, got an object"
printf -- '---\nkind: Node\nmetadata: {name: n1}\n---\nkind: Node\nmetadata: {name: n2}\nspec: {unschedulable: "no"}\n' >doc2.yaml
refuse doc2.yaml "doc2.yaml:7:23: Node n2: spec.unschedulable: expected true or false, got a string"
echo "PASS"
