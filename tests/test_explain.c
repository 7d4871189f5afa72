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
           "not helpful for scheduling, 6 Preemption was not replayed (explain does not replay "
           "preemption).");
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
                           "Preemption was not replayed (explain does not replay preemption).");
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

/* ---- the inter-pod rules (engine/ss_explain_rules.c) ---- */

#define ZONE "topology.kubernetes.io/zone"
#define HOST "kubernetes.io/hostname"

/* matchLabels "k=v" as one In requirement. */
static ss_selector_t rsel(ss_cluster_t *c, const char *k, const char *v)
{
    ss_selector_t s = {c->n_exprs, 1, 0};
    int32_t x = ss_cluster_add_expr_value(c, S(c, v));
    assert_true(x >= 0);
    assert_true(ss_cluster_add_expr(c, S(c, k), SS_OP_IN, 0, x, 1) >= 0);
    return s;
}

/* A node in zone (NULL: no zone label; added last, after the zones). */
static void rnode(ss_cluster_t *c, const char *name, const char *zone, int64_t cpu)
{
    int32_t lb = c->n_labels, nl = 0;
    if (zone) {
        assert_true(ss_cluster_add_label(c, S(c, ZONE), S(c, zone)) >= 0);
        nl = 1;
    }
    int32_t topo[4] = {S(c, "r1"), S(c, zone ? zone : "~none"), S(c, "b1"), S(c, "k1")};
    assert_true(ss_cluster_add_node(c, S(c, name), topo, cpu ? cpu : 8000, 16 * GiB, 110, NULL,
                                    false, lb, nl, c->n_taints, 0, c->n_gpus, 0) >= 0);
}

/* A template labelled app=<app>, with at most one DoNotSchedule spread
 * constraint (maxSkew 1 on key, selector app=<app>) and one required term
 * (kind on key against app=<against>). */
static int32_t rtmpl(ss_cluster_t *c, const char *app, const char *spread_key, int term_kind,
                     const char *term_key, const char *against)
{
    ss_template_t t;
    memset(&t, 0, sizeof t);
    t.req.cpu_milli = 1000;
    t.req.memory = 1 << 20;
    t.plabel_begin = c->n_labels;
    t.plabel_count = 1;
    assert_true(ss_cluster_add_label(c, S(c, "app"), S(c, app)) >= 0);
    t.spread_begin = c->n_spreads;
    if (spread_key) {
        ss_spread_t sp = {1,
                          S(c, spread_key),
                          SS_WHEN_DO_NOT_SCHEDULE,
                          1,
                          SS_INCL_HONOR,
                          SS_INCL_IGNORE,
                          rsel(c, "app", app)};
        assert_true(ss_cluster_add_spread(c, &sp) >= 0);
        t.spread_count = 1;
    }
    t.pterm_begin = c->n_pterms;
    if (term_key) {
        ss_podterm_t pt = {term_kind, 0, S(c, term_key), rsel(c, "app", against), 0, 0, {0, 0, 1}};
        assert_true(ss_cluster_add_pterm(c, &pt) >= 0);
        t.pterm_count = 1;
    }
    t.workload = S(c, app);
    int32_t i = ss_cluster_add_template(c, &t);
    assert_true(i >= 0);
    return i;
}

/* One row per pending pod (pod order), unplaced; place() fills one. */
static ss_placements_t *rplan(const ss_cluster_t *c)
{
    int32_t n = 0;
    for (int32_t i = 0; i < c->n_pods; i++)
        n += c->pod_node[i] < 0;
    ss_placements_t *p = ss_placements_create(n);
    assert_non_null(p);
    for (int32_t i = 0, r = 0; i < c->n_pods; i++)
        if (c->pod_node[i] < 0) {
            p->pod[r] = i;
            p->node[r] = -1;
            p->seq[r] = -1;
            p->reason[r++] = SS_REASON_POD_ANTI_AFFINITY;
        }
    return p;
}

static int32_t rrow(const ss_placements_t *p, int32_t pod)
{
    for (int32_t r = 0; r < p->n; r++)
        if (p->pod[r] == pod)
            return r;
    fail_msg("pod %d has no row", pod);
    return -1;
}

static void place(ss_placements_t *p, int32_t pod, int32_t node, int32_t seq)
{
    int32_t r = rrow(p, pod);
    p->node[r] = node;
    p->seq[r] = seq;
    p->reason[r] = SS_REASON_NONE;
}

/* Explains pod as the binary does: its state (ss_explain_on), the rules,
 * every node. Returns the message; *d (if not NULL) gets the rules on
 * node dnode. */
static char *rexplain(const ss_cluster_t *c, const ss_placements_t *p, int32_t pod,
                      ss_explain_t *ex, int32_t dnode, ss_explain_rule_t *d)
{
    ss_error_t err = {{0}};
    validate(c);
    ss_queue_t *q = ss_queue_build(c, &err);
    assert_non_null(q);
    int32_t *on = malloc((size_t)c->n_pods * sizeof *on);
    assert_non_null(on);
    assert_int_equal(ss_explain_on(c, p, q->order, q->n_order, pod, on, NULL, &err), 0);
    ss_explain_rules_t *r = NULL;
    assert_int_equal(ss_explain_rules_create(c, on, pod, &r, &err), 0);
    ss_state_t *s = ss_explain_state_on(c, p, on);
    assert_non_null(s);
    assert_int_equal(ss_explain_nodes_rules(s, c->pod_template[pod], r, NULL, ex, &err), 0);
    assert_int_equal(ex->n_feasible + ex->n_unresolvable + ex->n_capacity + ex->n_rules,
                     c->n_nodes);
    if (d)
        assert_true(ss_explain_rules_detail(r, dnode, d, 1) >= 1); /* the first rule */
    char *m = ss_explain_message(ex);
    assert_non_null(m);
    ss_state_destroy(s);
    ss_explain_rules_destroy(r);
    free(on);
    ss_queue_destroy(q);
    return m;
}

/* Spread, zone maxSkew 1: zone a holds 2 web pods, zone b none (min 0):
 * n0, n1 give skew 2 + 1 - 0 = 3; n2 (zone b) lacks cpu (NodeResourcesFit
 * comes first); n3 has no zone label. */
static void test_explain_spread_blocked(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    rnode(c, "n0", "a", 0);
    rnode(c, "n1", "a", 0);
    rnode(c, "n2", "b", 500);
    rnode(c, "n3", NULL, 0);
    int32_t web = rtmpl(c, "web", ZONE, 0, NULL, NULL);
    add_pod(c, "web-0", web, 0, 0);
    add_pod(c, "web-1", web, 0, 1);
    int32_t x = add_pod(c, "web-2", web, 0, -1);
    ss_placements_t *p = rplan(c);
    ss_explain_t ex;
    ss_explain_rule_t d;
    char *m = rexplain(c, p, x, &ex, 0, &d);
    assert_string_equal(
        m, "0/4 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match pod topology "
           "spread constraints (missing required label), 2 node(s) didn't match pod topology "
           "spread constraints. preemption: 0/4 nodes are available: 1 Preemption is not helpful "
           "for scheduling, 3 Preemption was not replayed (explain does not replay preemption).");
    assert_int_equal(ex.n_rules, 2);
    assert_int_equal(ex.n_unresolvable, 1);
    assert_int_equal(ex.n_capacity, 1);
    /* n0: 2 matching in zone a, itself, min 0 over the 2 eligible zones */
    assert_int_equal(d.kind, SS_XRULE_SPREAD);
    assert_int_equal(d.count, 2);
    assert_int_equal(d.self, 1);
    assert_int_equal(d.min, 0);
    assert_int_equal(d.skew, 3);
    assert_int_equal(d.domains, 2);
    assert_false(d.ok);
    free(m);
    ss_explain_free(&ex);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* Required anti-affinity on hostname against app=db: db pods run on n0 and
 * n1, so only n2 is left. The running db pods' own term matches the
 * incoming pod too, but kube reports the incoming pod's own term first. */
static void test_explain_anti_affinity_blocked(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    rnode(c, "n0", "a", 0);
    rnode(c, "n1", "a", 0);
    rnode(c, "n2", "b", 0);
    int32_t db = rtmpl(c, "db", NULL, SS_PT_ANTI_AFFINITY, HOST, "db");
    add_pod(c, "db-0", db, 0, 0);
    add_pod(c, "db-1", db, 0, 1);
    int32_t x = add_pod(c, "db-2", db, 0, -1);
    ss_placements_t *p = rplan(c);
    ss_explain_t ex;
    ss_explain_rule_t d;
    char *m = rexplain(c, p, x, &ex, 2, &d);
    assert_string_equal(m, "1/3 nodes are available: 2 node(s) didn't match pod anti-affinity "
                           "rules.");
    assert_int_equal(d.kind, SS_XRULE_ANTI); /* then the running db pods' terms (EXISTING) */
    assert_int_equal(d.count, 0);
    assert_true(d.ok);
    free(m);
    ss_explain_free(&ex);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* The symmetric rule: a running guard pod on n0 has required anti-affinity
 * on the zone against app=web; the incoming web pod has no term of its own
 * and is kept out of zone a (n0, n1). */
static void test_explain_existing_anti_affinity(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    rnode(c, "n0", "a", 0);
    rnode(c, "n1", "a", 0);
    rnode(c, "n2", "b", 0);
    int32_t guard = rtmpl(c, "guard", NULL, SS_PT_ANTI_AFFINITY, ZONE, "web");
    int32_t web = rtmpl(c, "web", NULL, 0, NULL, NULL);
    add_pod(c, "guard-0", guard, 0, 0);
    int32_t x = add_pod(c, "web-0", web, 0, -1);
    ss_placements_t *p = rplan(c);
    ss_explain_t ex;
    ss_explain_rule_t d;
    char *m = rexplain(c, p, x, &ex, 1, &d);
    assert_string_equal(m, "1/3 nodes are available: 2 node(s) didn't satisfy existing pods "
                           "anti-affinity rules.");
    assert_int_equal(d.kind, SS_XRULE_EXISTING);
    assert_int_equal(d.count, 1);
    assert_int_equal(d.holder, 0);
    assert_false(d.ok);
    free(m);
    ss_explain_free(&ex);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* Commit order, not queue order: w1 is first in the queue (priority 3) but
 * committed second (seq 1), after w2 (seq 0) went to zone b. So w1 saw
 * zone b = 1, zone a = 0 (min 0): n1 (zone b) gives skew 1 + 1 - 0 = 2 > 1.
 * w3 (unplaced, last in the queue) sees both. */
static void test_explain_commit_order(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    rnode(c, "n0", "a", 0);
    rnode(c, "n1", "b", 0);
    int32_t web = rtmpl(c, "web", ZONE, 0, NULL, NULL);
    int32_t w1 = add_pod(c, "w1", web, 3, -1);
    int32_t w2 = add_pod(c, "w2", web, 2, -1);
    int32_t w3 = add_pod(c, "w3", web, 1, -1);
    ss_placements_t *p = rplan(c);
    place(p, w2, 1, 0);
    place(p, w1, 0, 1);
    ss_explain_t ex;
    ss_explain_rule_t d;
    char *m = rexplain(c, p, w1, &ex, 0, &d);
    assert_string_equal(m, "1/2 nodes are available: 1 node(s) didn't match pod topology spread "
                           "constraints.");
    assert_int_equal(d.count, 0); /* on its own node n0: zone a empty, skew 1 */
    assert_int_equal(d.skew, 1);
    assert_true(d.ok);
    free(m);
    ss_explain_free(&ex);
    m = rexplain(c, p, w2, &ex, 1, &d); /* first commit: an empty cluster */
    assert_string_equal(m, "2/2 nodes are available.");
    free(m);
    ss_explain_free(&ex);
    m = rexplain(c, p, w3, &ex, 0, &d); /* both before it: 1 and 1, min 1 */
    assert_string_equal(m, "2/2 nodes are available.");
    assert_int_equal(d.count, 1);
    assert_int_equal(d.min, 1);
    assert_int_equal(d.skew, 1);
    free(m);
    ss_explain_free(&ex);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* A victim stops counting when its preemptor commits. db pods v (n0) and w
 * (n1) run; pending pods with required hostname anti-affinity against
 * app=db: r (queue first, unplaced), pre (placed on n0 at seq 0, victim v),
 * q (queue last, unplaced). r saw both db pods; pre was judged after v
 * left; q sees n0 free of db pods. */
static void test_explain_victim_removed(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    rnode(c, "n0", "a", 0);
    rnode(c, "n1", "a", 0);
    int32_t db = rtmpl(c, "db", NULL, 0, NULL, NULL);
    int32_t web = rtmpl(c, "web", NULL, SS_PT_ANTI_AFFINITY, HOST, "db");
    int32_t v = add_pod(c, "v", db, 0, 0);
    add_pod(c, "w", db, 0, 1);
    int32_t r = add_pod(c, "r", web, 10, -1);
    int32_t pre = add_pod(c, "pre", web, 5, -1);
    int32_t q = add_pod(c, "q", web, 1, -1);
    ss_placements_t *p = rplan(c);
    place(p, pre, 0, 0);
    assert_int_equal(ss_placements_add_victim(p, rrow(p, pre), v), 0);
    ss_explain_t ex;
    ss_explain_rule_t d;
    char *m = rexplain(c, p, r, &ex, 0, NULL);
    assert_string_equal(m, "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity "
                           "rules. preemption: 0/2 nodes are available: 2 Preemption was not "
                           "replayed (explain does not replay preemption).");
    free(m);
    ss_explain_free(&ex);
    m = rexplain(c, p, pre, &ex, 0, &d);
    assert_string_equal(m, "1/2 nodes are available: 1 node(s) didn't match pod anti-affinity "
                           "rules.");
    assert_int_equal(d.count, 0);
    assert_true(d.ok);
    free(m);
    ss_explain_free(&ex);
    m = rexplain(c, p, q, &ex, 0, &d);
    assert_string_equal(m, "1/2 nodes are available: 1 node(s) didn't match pod anti-affinity "
                           "rules.");
    assert_true(d.ok);
    free(m);
    ss_explain_free(&ex);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* With every inter-pod rule on (gen's default mix, preemption included),
 * explain's own counting against the engine's answer (the reference run):
 * a placed pod's node passes every filter in the state explain rebuilds
 * (commit order, victims gone), and an unplaced pod outside a gang finds
 * no feasible node. */
static void test_explain_rules_agree(void **state)
{
    (void)state;
    ss_gen_opts_t o;
    ss_gen_opts_default(&o);
    o.nodes = 120;
    o.pods = 1500;
    o.seed = 7;
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    assert_int_equal(ss_gen(&o, &c, &err), 0);
    assert_true(c->n_spreads > 0 && c->n_pterms > 0);
    ss_queue_t *q = ss_queue_build(c, &err);
    assert_non_null(q);
    ss_placements_t *p = ss_placements_create(q->n_order);
    assert_non_null(p);
    assert_int_equal(ss_exhaustive_run(c, ss_policy_find("least-allocated"), q->order, q->units,
                                       q->n_units, p, &err),
                     0);
    int32_t *on = malloc((size_t)c->n_pods * sizeof *on);
    assert_non_null(on);
    int32_t placed = 0, unplaced = 0, with_rules = 0, bad = 0;
    for (int32_t row = 0; row < p->n; row++) {
        int32_t pod = p->pod[row], t = c->pod_template[pod];
        if (c->pod_group[pod] >= 0 || c->templates[t].unsupported)
            continue;
        assert_int_equal(ss_explain_on(c, p, q->order, q->n_order, pod, on, NULL, &err), 0);
        ss_explain_rules_t *r = NULL;
        assert_int_equal(ss_explain_rules_create(c, on, pod, &r, &err), 0);
        ss_state_t *s = ss_explain_state_on(c, p, on);
        assert_non_null(s);
        with_rules += ss_explain_rules_any(r);
        ss_explain_t ex;
        assert_int_equal(ss_explain_nodes_rules(s, t, r, NULL, &ex, &err), 0);
        int32_t node = p->node[row];
        if (node >= 0) {
            placed++;
            int why = ss_explain_rules_check(r, node);
            if (why != SS_REASON_NONE || ss_state_fit(s, &c->templates[t], node) != SS_REASON_NONE)
                bad++,
                    print_message("placed pod %d on node %d: %s\n", pod, node, ss_reason_text(why));
        } else {
            unplaced++;
            if (ex.n_feasible > 0)
                bad++, print_message("unplaced pod %d (%s): %d feasible\n", pod,
                                     ss_reason_text(p->reason[row]), ex.n_feasible);
        }
        ss_explain_free(&ex);
        ss_state_destroy(s);
        ss_explain_rules_destroy(r);
    }
    print_message("rules agree: %d placed, %d unplaced, %d with hard rules, %d victims, %d "
                  "disagreements\n",
                  placed, unplaced, with_rules, p->n_victims, bad);
    assert_true(placed > 0 && unplaced > 0 && with_rules > 0);
    assert_int_equal(bad, 0);
    free(on);
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
    /* With gen's inter-pod rules: a placed web replica lists its spread
     * constraint on its node, text and JSON, and the histogram counts the
     * nodes its spread rules out (gen --seed 3's cluster). */
    assert_int_equal(
        sh("cd %s && %s gen --nodes 200 --pods 3000 --seed 3 -o r.h5 >/dev/null 2>&1 && "
           "%s schedule -i r.h5 -o rp.h5 >/dev/null 2>&1 && "
           "%s explain -i r.h5 -p rp.h5 team-30/web-000155-13 > out 2>/dev/null && "
           "grep -q '^  satisfied spread: kubernetes.io/hostname=' out && "
           "grep -q \"node(s) didn't match pod topology spread constraints\" out && "
           "%s explain -i r.h5 -p rp.h5 -o json team-30/web-000155-13 > r.json 2>/dev/null && "
           "python3 -c 'import json; d=json.load(open(\"r.json\")); r=d[\"rules\"][0]; "
           "assert d[\"placed\"] and d[\"inter_pod_rules\"]>0 and r[\"rule\"]==\"spread\" "
           "and r[\"ok\"] and r[\"skew\"]==r[\"count\"]+r[\"self\"]-r[\"min\"]<=r[\"max_skew\"]'",
           dir, SS_BINARY, SS_BINARY, SS_BINARY, SS_BINARY),
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
        cmocka_unit_test(test_explain_spread_blocked),
        cmocka_unit_test(test_explain_anti_affinity_blocked),
        cmocka_unit_test(test_explain_existing_anti_affinity),
        cmocka_unit_test(test_explain_commit_order),
        cmocka_unit_test(test_explain_victim_removed),
        cmocka_unit_test(test_explain_rules_agree),
        cmocka_unit_test(test_explain_binary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
