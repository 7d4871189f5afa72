/* test_explain: per-reason node counts and kube's FailedScheduling message
 * (engine/ss_explain.h). Hand-made clusters whose message is computed by
 * hand; the state a pod was tried in (queue order, placements before it);
 * a generated cluster where explain must agree with the reference scheduler
 * on every pending pod; and the real binary on a generated cluster (good and
 * bad input). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/wait.h>

#include "ss_explain.h"
#include "ss_gen.h"
#include "ss_queue.h"
#include "ss_reason.h"

#define GiB (INT64_C(1) << 30)

static void validate(const ss_cluster_t *c)
{
    ss_error_t err = {{0}};
    if (ss_cluster_validate(c, &err) != 0)
        fail_msg("invalid test cluster: %s", err.text);
}

static int32_t S(ss_cluster_t *c, const char *s)
{
    int32_t id = ss_cluster_str(c, s);
    assert_true(id >= 0);
    return id;
}

typedef struct {
    int64_t cpu, mem;
    int32_t pods;
    bool cordoned;
    const char *pool;        /* label pool=<pool>, default "general" */
    const char *tkey, *tval; /* one taint, when tkey is set */
    int32_t teffect;         /* its effect, default NoSchedule */
    bool prefer_first;       /* a PreferNoSchedule taint before it */
} node_t_;

static void add_node(ss_cluster_t *c, int i, const node_t_ *n)
{
    char name[32];
    snprintf(name, sizeof name, "n%d", i);
    int32_t topo[4] = {S(c, "r"), S(c, "z"), S(c, "b"), S(c, "k")};
    int32_t lb = c->n_labels;
    assert_true(ss_cluster_add_label(c, S(c, "pool"), S(c, n->pool ? n->pool : "general")) >= 0);
    int32_t tb = c->n_taints, tc = 0;
    if (n->prefer_first) {
        assert_true(
            ss_cluster_add_taint(c, S(c, "soft"), S(c, "x"), SS_EFFECT_PREFER_NO_SCHEDULE) >= 0);
        tc++;
    }
    if (n->tkey) {
        assert_true(ss_cluster_add_taint(c, S(c, n->tkey), S(c, n->tval),
                                         n->teffect ? n->teffect : SS_EFFECT_NO_SCHEDULE) >= 0);
        tc++;
    }
    assert_true(ss_cluster_add_node(c, S(c, name), topo, n->cpu ? n->cpu : 8000,
                                    n->mem ? n->mem : 16 * GiB, n->pods ? n->pods : 110, NULL,
                                    n->cordoned, lb, 1, tb, tc, c->n_gpus, 0) >= 0);
}

/* A template asking cpu / mem with nodeSelector pool=general. */
static int32_t add_tmpl(ss_cluster_t *c, int64_t cpu, int64_t mem)
{
    ss_template_t t;
    memset(&t, 0, sizeof t);
    t.req.cpu_milli = cpu;
    t.req.memory = mem;
    t.sel_begin = c->n_labels;
    t.sel_count = 1;
    assert_true(ss_cluster_add_label(c, S(c, "pool"), S(c, "general")) >= 0);
    t.workload = S(c, "deploy/x");
    int32_t i = ss_cluster_add_template(c, &t);
    assert_true(i >= 0);
    return i;
}

static int32_t add_pod(ss_cluster_t *c, const char *name, int32_t tmpl, int32_t prio, int32_t node)
{
    int32_t i = ss_cluster_add_pod(c, S(c, name), S(c, "default"), tmpl, prio, -1, node, 0);
    assert_true(i >= 0);
    return i;
}

/* Explains template t on c with running pods only; returns the message. */
static char *explain(const ss_cluster_t *c, int32_t t, ss_explain_t *ex)
{
    ss_error_t err = {{0}};
    validate(c);
    ss_state_t *s = ss_state_create(c);
    assert_non_null(s);
    assert_int_equal(ss_explain_nodes(s, t, ss_policy_find("least-allocated"), ex, &err), 0);
    ss_state_destroy(s);
    char *m = ss_explain_message(ex);
    assert_non_null(m);
    return m;
}

/* 10 nodes: 4 lack cpu, 3 lack memory (2 of those also cpu), 2 tainted (one
 * behind a PreferNoSchedule taint that must not be reported), 1 cordoned
 * (and tainted: only the first plugin, NodeUnschedulable, counts), 1 full of
 * pods, 1 with the wrong pool label. Computed by hand: kube sorts the
 * "<count> <reason>" strings byte-wise, so "1 Too many pods" ('T') comes
 * before "1 node(s)" ('n'). */
static void test_explain_nodes_hand_computed(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    const node_t_ nodes[10] = {
        {.cpu = 1000, .mem = 1 * GiB},
        {.cpu = 1000, .mem = 1 * GiB},
        {.cpu = 1000},
        {.cpu = 1000},
        {.mem = 1 * GiB},
        {.tkey = "dedicated", .tval = "system"},
        {.tkey = "spot", .tval = "true", .teffect = SS_EFFECT_NO_EXECUTE, .prefer_first = true},
        {.cordoned = true, .tkey = "dedicated", .tval = "system"},
        {.pods = 1},
        {.pool = "system"},
    };
    for (int i = 0; i < 10; i++)
        add_node(c, i, &nodes[i]);
    int32_t t = add_tmpl(c, 2000, 2 * GiB), small = add_tmpl(c, 100, 1);
    add_pod(c, "running", small, 0, 8); /* fills n8's only pod slot */
    add_pod(c, "web-0", t, 0, -1);
    ss_explain_t ex;
    char *m = explain(c, t, &ex);
    assert_string_equal(
        m, "0/10 nodes are available: 1 Too many pods, 1 node(s) didn't match Pod's node "
           "affinity/selector, 1 node(s) had untolerated taint {dedicated: system}, 1 node(s) "
           "had untolerated taint {spot: true}, 1 node(s) were unschedulable, 3 Insufficient "
           "memory, 4 Insufficient cpu. preemption: 0/10 nodes are available: 4 Preemption is "
           "not helpful for scheduling, 6 Preemption was not attempted (shardsched does not "
           "preempt).");
    assert_int_equal(ex.n_nodes, 10);
    assert_int_equal(ex.n_feasible, 0);
    assert_int_equal(ex.n_unresolvable, 4);
    assert_int_equal(ex.n_capacity, 6);
    assert_int_equal(ex.n_reasons, 7);
    assert_int_equal(ex.best_node, -1);
    free(m);
    ss_explain_free(&ex);

    /* The small template fits on the nodes without a static problem except
     * n8 (no pod slot): 5 of 10 available, and no preemption suffix. */
    m = explain(c, small, &ex);
    assert_string_equal(m, "5/10 nodes are available: 1 Too many pods, 1 node(s) didn't match "
                           "Pod's node affinity/selector, 1 node(s) had untolerated taint "
                           "{dedicated: system}, 1 node(s) had untolerated taint {spot: true}, "
                           "1 node(s) were unschedulable.");
    assert_true(ex.best_node >= 0 && ex.best_node < 5);
    free(m);
    ss_explain_free(&ex);
    ss_cluster_destroy(c);
}

/* Byte-wise order of the histogram, not numeric: 10 < 2 < 9. */
static void test_explain_message_sorts_as_strings(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    int i = 0;
    for (int k = 0; k < 10; k++)
        add_node(c, i++, &(node_t_){.tkey = "a", .tval = "b"});
    for (int k = 0; k < 2; k++)
        add_node(c, i++, &(node_t_){.cordoned = true});
    for (int k = 0; k < 9; k++)
        add_node(c, i++, &(node_t_){.cpu = 100});
    int32_t t = add_tmpl(c, 1000, 1);
    ss_explain_t ex;
    char *m = explain(c, t, &ex);
    assert_string_equal(m, "0/21 nodes are available: 10 node(s) had untolerated taint {a: b}, "
                           "2 node(s) were unschedulable, 9 Insufficient cpu. preemption: 0/21 "
                           "nodes are available: 12 Preemption is not helpful for scheduling, 9 "
                           "Preemption was not attempted (shardsched does not preempt).");
    free(m);
    ss_explain_free(&ex);
    ss_cluster_destroy(c);
}

static void test_explain_message_no_nodes(void **state)
{
    (void)state;
    ss_explain_t ex;
    memset(&ex, 0, sizeof ex);
    char *m = ss_explain_message(&ex);
    assert_string_equal(m, "no nodes available to schedule pods");
    free(m);
}

/* The state of a pod's try: running pods plus the placements of the pods
 * before it in queue order (priority first), not the final state. */
static void test_explain_state_queue_order(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    add_node(c, 0, &(node_t_){.cpu = 3000});
    int32_t t = add_tmpl(c, 1000, 1);
    add_pod(c, "run", t, 0, 0);            /* 2000m left */
    int32_t a = add_pod(c, "a", t, 0, -1); /* third in the queue */
    int32_t b = add_pod(c, "b", t, 5, -1); /* first: highest priority */
    int32_t d = add_pod(c, "d", t, 1, -1); /* second */
    ss_error_t err = {{0}};
    validate(c);
    ss_queue_t *q = ss_queue_build(c, &err);
    assert_non_null(q);
    ss_placements_t *p = ss_placements_create(3);
    assert_non_null(p);
    /* rows in pod order: a, b, d. b and d placed, a refused for cpu. */
    int32_t pods[3] = {a, b, d}, where[3] = {-1, 0, 0};
    for (int i = 0; i < 3; i++) {
        p->pod[i] = pods[i];
        p->node[i] = where[i];
        p->reason[i] = where[i] < 0 ? SS_REASON_CPU : SS_REASON_NONE;
    }
    static const struct {
        int idx;
        int32_t position;
        int64_t free_cpu;
        int32_t feasible;
    } rows[] = {{1, 0, 2000, 1}, {2, 1, 1000, 1}, {0, 2, 0, 0}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ss_state_t *s = NULL;
        int32_t pos = -1;
        assert_int_equal(
            ss_explain_state(c, p, q->order, q->n_order, pods[rows[i].idx], &s, &pos, &err), 0);
        assert_int_equal(pos, rows[i].position);
        assert_int_equal(s->free_cpu[0], rows[i].free_cpu);
        ss_explain_t ex;
        assert_int_equal(ss_explain_nodes(s, t, NULL, &ex, &err), 0);
        assert_int_equal(ex.n_feasible, rows[i].feasible);
        ss_explain_free(&ex);
        ss_state_destroy(s);
    }
    /* Bad input: a running pod is not in the queue; a bad template. */
    ss_state_t dummy, *s = &dummy;
    assert_int_equal(ss_explain_state(c, p, q->order, q->n_order, 0, &s, NULL, &err), SS_ENOTFOUND);
    assert_null(s);
    s = ss_state_create(c);
    ss_explain_t ex;
    assert_int_equal(ss_explain_nodes(s, 7, NULL, &ex, &err), SS_EINVAL);
    assert_non_null(strstr(err.text, "template 7"));
    ss_state_destroy(s);
    ss_placements_destroy(p);
    ss_queue_destroy(q);
    ss_cluster_destroy(c);
}

/* kube reason kind that a reason code of the engine stands for. */
static int kind_of(int reason)
{
    switch (reason) {
    case SS_REASON_CORDONED:
        return SS_EXPLAIN_UNSCHEDULABLE;
    case SS_REASON_TAINT:
        return SS_EXPLAIN_TAINT;
    case SS_REASON_CPU:
        return SS_EXPLAIN_CPU;
    case SS_REASON_MEMORY:
        return SS_EXPLAIN_MEMORY;
    case SS_REASON_GPU:
        return SS_EXPLAIN_GPU;
    case SS_REASON_PODS:
        return SS_EXPLAIN_PODS;
    case SS_REASON_EXT:
        return SS_EXPLAIN_EXT;
    default:
        return SS_EXPLAIN_AFFINITY;
    }
}

static bool has_kind(const ss_explain_t *ex, int kind)
{
    for (int32_t i = 0; i < ex->n_reasons; i++)
        if (ex->reasons[i].kind == kind)
            return true;
    return false;
}

/* Checks one pending pod (queue position i) against the engine's result. */
static void check_pod(const ss_cluster_t *c, const ss_placements_t *p, const ss_queue_t *q,
                      const ss_policy_t *pol, int32_t i, int32_t row)
{
    ss_error_t err = {{0}};
    int32_t pod = q->order[i], g = c->pod_group[pod], t = c->pod_template[pod];
    if (g >= 0 || c->templates[t].unsupported)
        return; /* gangs decide as a unit; unsupported pods are never tried */
    ss_state_t *s = NULL;
    int32_t pos;
    assert_int_equal(ss_explain_state(c, p, q->order, q->n_order, pod, &s, &pos, &err), 0);
    assert_int_equal(pos, i);
    ss_explain_t ex;
    assert_int_equal(ss_explain_nodes(s, t, pol, &ex, &err), 0);
    int64_t sum = 0;
    for (int32_t k = 0; k < ex.n_reasons; k++)
        sum += ex.reasons[k].nodes;
    assert_int_equal(ex.n_unresolvable + ex.n_capacity + ex.n_feasible, c->n_nodes);
    assert_true(sum >= ex.n_unresolvable + ex.n_capacity);
    if (p->node[row] < 0) {
        if (ex.n_feasible != 0)
            fail_msg("pod %d: engine placed nothing, explain finds %d feasible", pod,
                     ex.n_feasible);
        if (!has_kind(&ex, kind_of(p->reason[row])))
            fail_msg("pod %d: engine reason '%s' missing from the counts", pod,
                     ss_reason_text(p->reason[row]));
    } else {
        ss_explain_score_t sc;
        ss_explain_score(s, t, pol, p->node[row], &sc);
        if (ex.best_node != p->node[row] || sc.total != ex.best_score)
            fail_msg("pod %d: engine chose node %d, explain's best is %d", pod, p->node[row],
                     ex.best_node);
        assert_int_equal(sc.total, sc.fit + sc.affinity + sc.taint);
    }
    ss_explain_free(&ex);
    ss_state_destroy(s);
}

/* On a generated cluster, every pending pod outside a gang: unplaced ones
 * have no feasible node and the engine's reason among the counts; placed
 * ones went to explain's best-scoring node. */
static void test_explain_agrees_with_reference(void **state)
{
    (void)state;
    ss_gen_opts_t o;
    ss_gen_opts_default(&o);
    o.nodes = 150;
    o.pods = 1500;
    o.seed = 5;
    o.rules = SS_GEN_RULES_NONE; /* explain counts node filters and resources only */
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    assert_int_equal(ss_gen(&o, &c, &err), 0);
    ss_queue_t *q = ss_queue_build(c, &err);
    assert_non_null(q);
    ss_placements_t *p = ss_placements_create(q->n_order);
    assert_non_null(p);
    const ss_policy_t *pol = ss_policy_find("most-allocated");
    assert_int_equal(ss_exhaustive_run(c, pol, q->order, q->units, q->n_units, p, &err), 0);
    int32_t *row = malloc((size_t)c->n_pods * sizeof *row), unplaced = 0;
    assert_non_null(row);
    for (int32_t r = 0; r < p->n; r++) {
        row[p->pod[r]] = r;
        unplaced += p->node[r] < 0;
    }
    assert_true(unplaced > 0 && unplaced < p->n);
    for (int32_t i = 0; i < q->n_order; i++)
        check_pod(c, p, q, pol, i, row[q->order[i]]);
    free(row);
    ss_placements_destroy(p);
    ss_queue_destroy(q);
    ss_cluster_destroy(c);
}

/* ---- the binary ---- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Sums the counts "N reason" of the histogram that follows head in s, up to
 * the '.' that ends it. */
static int64_t histogram_sum(const char *s, const char *head)
{
    const char *h = strstr(s, head);
    assert_non_null(h);
    h += strlen(head);
    int64_t sum = 0;
    for (;;) {
        char *end;
        sum += strtoll(h, &end, 10);
        assert_true(end > h);
        const char *comma = strstr(end, ", "), *dot = strchr(end, '.');
        /* taint texts hold no ", "; a '.' may sit inside "nvidia.com/gpu" */
        while (dot && dot[1] != ' ' && dot[1] != '\n' && dot[1] != 0)
            dot = strchr(dot + 1, '.');
        if (!comma || (dot && dot < comma))
            return sum;
        h = comma + 2;
    }
}

static void test_explain_binary(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_explain_XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(
        sh("cd %s && %s gen --nodes 200 --pods 3000 --seed 3 --rules none -o c.h5 >/dev/null && "
           "%s schedule -i c.h5 -o p.h5 >/dev/null",
           dir, SS_BINARY, SS_BINARY),
        0);
    /* An unplaced pod outside a gang, from the placements file: reason 6 is
     * insufficient cpu (not a gang or topology reason). */
    assert_int_equal(sh("cd %s && h5dump -y -w 0 -d /placements/pod_name p.h5 | sed -n '/DATA "
                        "{/,/}/p' | sed '1d;$d' | tr -d ' \"' | tr ',' '\\n' | grep -v '^$' > "
                        "names && h5dump -y -w 0 -d /placements/reason p.h5 | sed -n '/DATA "
                        "{/,/}/p' | sed '1d;$d' | tr -d ' ' | tr ',' '\\n' | grep -v '^$' > "
                        "reasons && paste names reasons | awk '$2==6{print $1; exit}' > pod && "
                        "test -s pod",
                        dir),
                     0);
    assert_int_equal(
        sh("cd %s && %s explain -i c.h5 -p p.h5 $(cat pod) > out 2> err", dir, SS_BINARY), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/out", dir);
    const char *out = slurp(path);
    const char *msg = strstr(out, "0/200 nodes are available: ");
    assert_non_null(msg);
    assert_non_null(strstr(out, "not placed: insufficient cpu"));
    /* Every node fails; one node may give several reasons, and the preemption
     * part counts every node once. */
    assert_true(histogram_sum(msg, "nodes are available: ") >= 200);
    assert_int_equal(histogram_sum(msg, "preemption: 0/200 nodes are available: "), 200);
    assert_non_null(strstr(msg, "Insufficient cpu"));
    snprintf(path, sizeof path, "%s/err", dir);
    assert_string_equal(slurp(path), ""); /* no engine/explain disagreement */
    /* JSON: the same message, node totals. */
    assert_int_equal(sh("cd %s && %s explain -i c.h5 -p p.h5 -o json $(cat pod) > out.json && "
                        "python3 -c 'import json,sys; d=json.load(open(\"out.json\")); "
                        "assert d[\"nodes\"]==200 and d[\"feasible\"]==0 and "
                        "d[\"unresolvable\"]+d[\"capacity\"]==200 and not d[\"placed\"] and "
                        "d[\"message\"].startswith(\"0/200 nodes are available:\") and "
                        "sum(r[\"nodes\"] for r in d[\"reasons\"])>=200'",
                        dir, SS_BINARY),
                     0);
    /* A placed pod: its node and score. */
    assert_int_equal(sh("cd %s && %s explain -i c.h5 -p p.h5 $(paste names reasons | awk "
                        "'$2==0{print $1; exit}') > out 2> err && grep -q 'placed on node' out && "
                        "grep -q '^  score ' out && test ! -s err",
                        dir, SS_BINARY),
                     0);
    /* Bad input: an unknown pod (exit 1, named), a missing file (exit 1,
     * named), usage (exit 2, one line and a pointer to --help). */
    assert_int_equal(sh("cd %s && %s explain -i c.h5 -p p.h5 nosuch/pod 2> err", dir, SS_BINARY),
                     1);
    snprintf(path, sizeof path, "%s/err", dir);
    assert_non_null(strstr(slurp(path), "no pod 'nosuch/pod'"));
    assert_int_equal(sh("cd %s && %s explain -i missing.h5 -p p.h5 a/b 2> err", dir, SS_BINARY), 1);
    assert_non_null(strstr(slurp(path), "missing.h5"));
    assert_int_equal(sh("cd %s && %s explain -i c.h5 -p p.h5 justaname 2> err", dir, SS_BINARY), 2);
    assert_non_null(strstr(slurp(path), "see 'shardsched explain --help'"));
    assert_int_equal(sh("cd %s && %s explain --frobnicate 2> err", dir, SS_BINARY), 2);
    assert_int_equal(sh("cd %s && %s explain --help | grep -q '^Examples:'", dir, SS_BINARY), 0);
    sh("rm -rf %s", dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_explain_nodes_hand_computed),
        cmocka_unit_test(test_explain_message_sorts_as_strings),
        cmocka_unit_test(test_explain_message_no_nodes),
        cmocka_unit_test(test_explain_state_queue_order),
        cmocka_unit_test(test_explain_agrees_with_reference),
        cmocka_unit_test(test_explain_binary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
