/* The inter-pod rules of issue 12 in the naive reference
 * (ss_exhaustive_run_opts): table-driven golden cases written from the
 * Kubernetes documentation's examples and kube-scheduler's documented
 * behaviour, with the expected nodes computed by hand (docs/kubernetes.md,
 * "Inter-pod rules"): topology spread (maxSkew, minDomains,
 * nodeAffinityPolicy), pod affinity and anti-affinity (the web-store /
 * redis-cache example, the symmetric rule, the first pod of a group),
 * preferred terms, default spreading, locality, and preemption (PDBs,
 * preemptionPolicy Never, every pickOneNodeForPreemption criterion, gangs).
 *
 * Pods request no cpu or memory unless a case needs it, so that the policy's
 * fit score is the same on every node and only the rules decide; ties go
 * to the lowest node index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ss_cluster.h"
#include "ss_exhaustive.h"
#include "ss_queue.h"
#include "ss_reason.h"

#define ZONE "topology.kubernetes.io/zone"
#define HOST "kubernetes.io/hostname"

static int32_t S(ss_cluster_t *c, const char *s)
{
    return ss_cluster_str(c, s);
}

/* A node in zone (NULL: no zone label) with cpu millicores and pod slots.
 * Nodes must be added in zone order (the cluster keeps them sorted). */
static int32_t add_node(ss_cluster_t *c, const char *zone, int64_t cpu, int32_t pods)
{
    char name[32];
    snprintf(name, sizeof name, "node-%d", c->n_nodes);
    int32_t lb = c->n_labels;
    if (zone)
        ss_cluster_add_label(c, S(c, ZONE), S(c, zone));
    int32_t topo[4] = {S(c, "r"), S(c, zone ? zone : ""), S(c, "b"), S(c, "rk")};
    return ss_cluster_add_node(c, S(c, name), topo, cpu, (int64_t)1 << 34, pods, NULL, false, lb,
                               c->n_labels - lb, c->n_taints, 0, c->n_gpus, 0);
}

/* The selector key In (value). */
static ss_selector_t sel_eq(ss_cluster_t *c, const char *key, const char *value)
{
    int32_t vb = c->n_expr_values;
    ss_cluster_add_expr_value(c, S(c, value));
    int32_t e = ss_cluster_add_expr(c, S(c, key), SS_OP_IN, 0, vb, 1);
    return (ss_selector_t){e, 1, 0};
}

static int32_t add_spread(ss_cluster_t *c, const char *key, int32_t skew, int when, int32_t min_dom,
                          int naff, ss_selector_t sel)
{
    ss_spread_t s = {skew, S(c, key), when, min_dom, naff, SS_INCL_IGNORE, sel};
    return ss_cluster_add_spread(c, &s);
}

/* A pod term (weight 0: required) over app=value in the pod's namespace. */
static int32_t add_pterm(ss_cluster_t *c, int kind, int32_t weight, const char *key,
                         const char *app)
{
    ss_podterm_t t = {kind, weight, S(c, key), sel_eq(c, "app", app), 0, 0, {0, 0, 1}};
    return ss_cluster_add_pterm(c, &t);
}

typedef struct {
    int64_t cpu;
    const char *app; /* the pod label app=..., NULL: none */
    uint32_t flags;  /* ss_tmpl_flag */
    const char *workload;
    int32_t spread_begin, spread_count, pterm_begin, pterm_count, req_begin, req_count;
} tdef_t;

static int32_t add_tmpl(ss_cluster_t *c, const tdef_t *d)
{
    int32_t lb = c->n_labels;
    if (d->app)
        ss_cluster_add_label(c, S(c, "app"), S(c, d->app));
    ss_template_t t = {.req = {.cpu_milli = d->cpu},
                       .req_begin = d->req_begin,
                       .req_count = d->req_count,
                       .plabel_begin = lb,
                       .plabel_count = c->n_labels - lb,
                       .workload = d->workload ? S(c, d->workload) : 0,
                       .spread_begin = d->spread_begin,
                       .spread_count = d->spread_count,
                       .pterm_begin = d->pterm_begin,
                       .pterm_count = d->pterm_count,
                       .flags = d->flags};
    return ss_cluster_add_template(c, &t);
}

/* A pod of template t on node (-1: pending); returns its index. */
static int32_t add_pod(ss_cluster_t *c, int32_t t, int32_t prio, int32_t node)
{
    char name[32];
    snprintf(name, sizeof name, "pod-%d", c->n_pods);
    return ss_cluster_add_pod(c, S(c, name), S(c, "default"), t, prio, -1, node, 0);
}

static ss_placements_t *run(const ss_cluster_t *c, const ss_exh_opts_t *o)
{
    ss_error_t err;
    if (ss_cluster_validate(c, &err))
        fail_msg("invalid cluster: %s", err.text);
    ss_queue_t *q = ss_queue_build(c, &err);
    assert_non_null(q);
    ss_placements_t *p = ss_placements_create(q->n_order);
    int rc = ss_exhaustive_run_opts(c, ss_policy_find("least-allocated"), q->order, q->units,
                                    q->n_units, o, p, &err);
    if (rc)
        fail_msg("run failed: %s", err.text);
    ss_queue_destroy(q);
    return p;
}

/* Expected outcome of pending row i: a node, or -1 with a reason. */
typedef struct {
    int32_t node, reason;
} want_t;

static void expect(const ss_placements_t *p, const want_t *w, int32_t n, const char *name)
{
    assert_int_equal(p->n, n);
    int32_t seq = 0;
    for (int32_t i = 0; i < n; i++) {
        if (p->node[i] != w[i].node || (w[i].node < 0 && p->reason[i] != w[i].reason))
            fail_msg("%s: row %d went to node %d (reason %d), expected node %d (reason %d)", name,
                     i, p->node[i], p->reason[i], w[i].node, w[i].reason);
        seq += p->node[i] >= 0;
    }
    for (int32_t s = 0; s < seq; s++) { /* seq is 0..placed-1, each once */
        int hits = 0;
        for (int32_t i = 0; i < n; i++)
            hits += p->seq[i] == s;
        assert_int_equal(hits, 1);
    }
}

static ss_exh_opts_t opts(void)
{
    ss_exh_opts_t o;
    ss_exh_opts_default(&o);
    return o;
}

/* ---- topology spread ---- */

/* The documentation's example: zones A {n0, n1}, B {n2, n3}, pods foo=bar on
 * n0, n1, n2; a 4th pod with maxSkew 1 on zone must go to zone B (zone A
 * would make the skew 2); a 5th then finds 2/2 and takes the lowest node. */
static void test_spread_docs_example(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    for (int i = 0; i < 4; i++)
        add_node(c, i < 2 ? "zoneA" : "zoneB", 4000, 10);
    int32_t plain = add_tmpl(c, &(tdef_t){.app = "bar"});
    int32_t sb =
        add_spread(c, ZONE, 1, SS_WHEN_DO_NOT_SCHEDULE, 1, SS_INCL_HONOR, sel_eq(c, "app", "bar"));
    int32_t t = add_tmpl(c, &(tdef_t){.app = "bar", .spread_begin = sb, .spread_count = 1});
    for (int n = 0; n < 3; n++)
        add_pod(c, plain, 0, n);
    add_pod(c, t, 0, -1);
    add_pod(c, t, 0, -1);
    ss_exh_opts_t o = opts();
    ss_placements_t *p = run(c, &o);
    expect(p, (want_t[]){{2, 0}, {0, 0}}, 2, "spread docs example");
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* minDomains: zones A {n0}, B {n1}, one matching pod in A. With minDomains
 * 3 (only 2 domains) the global minimum is 0: the 1st pod goes to B, the
 * 2nd fits nowhere (1 + 1 - 0 > 1 in both). With minDomains 1 the 2nd sees
 * min 1 and takes n0. */
static void test_spread_min_domains(void **state)
{
    (void)state;
    int32_t mins[2] = {3, 1};
    want_t wants[2][2] = {{{1, 0}, {-1, SS_REASON_SPREAD}}, {{1, 0}, {0, 0}}};
    for (int k = 0; k < 2; k++) {
        ss_cluster_t *c = ss_cluster_create();
        add_node(c, "zoneA", 4000, 10);
        add_node(c, "zoneB", 4000, 10);
        int32_t plain = add_tmpl(c, &(tdef_t){.app = "bar"});
        int32_t sb = add_spread(c, ZONE, 1, SS_WHEN_DO_NOT_SCHEDULE, mins[k], SS_INCL_HONOR,
                                sel_eq(c, "app", "bar"));
        int32_t t = add_tmpl(c, &(tdef_t){.app = "bar", .spread_begin = sb, .spread_count = 1});
        add_pod(c, plain, 0, 0);
        add_pod(c, t, 0, -1);
        add_pod(c, t, 0, -1);
        ss_exh_opts_t o = opts();
        ss_placements_t *p = run(c, &o);
        expect(p, wants[k], 2, mins[k] == 3 ? "minDomains 3" : "minDomains 1");
        ss_placements_destroy(p);
        ss_cluster_destroy(c);
    }
}

/* nodeAffinityPolicy: zones A {n0}, B {n1}, C {n2}; the pod's node affinity
 * excludes zone C; one matching pod in A and one in B. Honor: C is not an
 * eligible domain, min 1, n0 passes (1 + 1 - 1 = 1). Ignore: C counts with
 * 0, so A and B are at skew 2 and C fails node affinity: unschedulable. */
static void test_spread_node_affinity_policy(void **state)
{
    (void)state;
    int pol[2] = {SS_INCL_HONOR, SS_INCL_IGNORE};
    want_t wants[2] = {{0, 0}, {-1, SS_REASON_SPREAD}};
    for (int k = 0; k < 2; k++) {
        ss_cluster_t *c = ss_cluster_create();
        add_node(c, "zoneA", 4000, 10);
        add_node(c, "zoneB", 4000, 10);
        add_node(c, "zoneC", 4000, 10);
        int32_t plain = add_tmpl(c, &(tdef_t){.app = "bar"});
        int32_t vb = c->n_expr_values;
        ss_cluster_add_expr_value(c, S(c, "zoneC"));
        int32_t e = ss_cluster_add_expr(c, S(c, ZONE), SS_OP_NOT_IN, 0, vb, 1);
        int32_t term = ss_cluster_add_term(c, e, 1, 0);
        int32_t sb =
            add_spread(c, ZONE, 1, SS_WHEN_DO_NOT_SCHEDULE, 1, pol[k], sel_eq(c, "app", "bar"));
        int32_t t = add_tmpl(c, &(tdef_t){.app = "bar",
                                          .spread_begin = sb,
                                          .spread_count = 1,
                                          .req_begin = term,
                                          .req_count = 1});
        add_pod(c, plain, 0, 0);
        add_pod(c, plain, 0, 1);
        add_pod(c, t, 0, -1);
        ss_exh_opts_t o = opts();
        ss_placements_t *p = run(c, &o);
        expect(p, &wants[k], 1, k == 0 ? "nodeAffinityPolicy Honor" : "nodeAffinityPolicy Ignore");
        ss_placements_destroy(p);
        ss_cluster_destroy(c);
    }
}

/* A node without the constraint's key cannot host the pod. */
static void test_spread_missing_label(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    add_node(c, NULL, 4000, 10);
    int32_t sb =
        add_spread(c, ZONE, 1, SS_WHEN_DO_NOT_SCHEDULE, 1, SS_INCL_HONOR, sel_eq(c, "app", "bar"));
    int32_t t = add_tmpl(c, &(tdef_t){.app = "bar", .spread_begin = sb, .spread_count = 1});
    add_pod(c, t, 0, -1);
    ss_exh_opts_t o = opts();
    ss_placements_t *p = run(c, &o);
    expect(p, (want_t[]){{-1, SS_REASON_SPREAD_LABEL}}, 1, "missing label");
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* ---- pod affinity and anti-affinity ---- */

/* The documentation's web-store / redis-cache example on 4 nodes: 3 cache
 * replicas with hostname anti-affinity to each other land on n0, n1, n2; 4
 * web replicas want a cache on their node (affinity) and no other web
 * replica (anti-affinity): one per cache node, and the 4th stays pending
 * (n3 has no cache, the others have a web replica). */
static void test_web_store_redis_cache(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    for (int i = 0; i < 4; i++)
        add_node(c, "zoneA", 4000, 10);
    int32_t cb = add_pterm(c, SS_PT_ANTI_AFFINITY, 0, HOST, "store");
    int32_t cache = add_tmpl(c, &(tdef_t){.app = "store", .pterm_begin = cb, .pterm_count = 1});
    int32_t wb = add_pterm(c, SS_PT_ANTI_AFFINITY, 0, HOST, "web-store");
    add_pterm(c, SS_PT_AFFINITY, 0, HOST, "store");
    int32_t web = add_tmpl(c, &(tdef_t){.app = "web-store", .pterm_begin = wb, .pterm_count = 2});
    for (int i = 0; i < 3; i++)
        add_pod(c, cache, 10, -1);
    for (int i = 0; i < 4; i++)
        add_pod(c, web, 0, -1);
    ss_exh_opts_t o = opts();
    ss_placements_t *p = run(c, &o);
    expect(p,
           (want_t[]){
               {0, 0}, {1, 0}, {2, 0}, {0, 0}, {1, 0}, {2, 0}, {-1, SS_REASON_POD_ANTI_AFFINITY}},
           7, "web-store / redis-cache");
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* The symmetric rule: a running pod on n0 (zone A) with required zone
 * anti-affinity to app=web repels a web pod without rules from the whole
 * zone; a pod it does not match takes n0. */
static void test_symmetric_anti_affinity(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    add_node(c, "zoneA", 4000, 10);
    add_node(c, "zoneA", 4000, 10);
    add_node(c, "zoneB", 4000, 10);
    int32_t eb = add_pterm(c, SS_PT_ANTI_AFFINITY, 0, ZONE, "web");
    int32_t e = add_tmpl(c, &(tdef_t){.app = "guard", .pterm_begin = eb, .pterm_count = 1});
    int32_t web = add_tmpl(c, &(tdef_t){.app = "web"});
    int32_t other = add_tmpl(c, &(tdef_t){.app = "other"});
    add_pod(c, e, 0, 0);
    add_pod(c, web, 0, -1);
    add_pod(c, other, 0, -1);
    ss_exh_opts_t o = opts();
    ss_placements_t *p = run(c, &o);
    expect(p, (want_t[]){{2, 0}, {0, 0}}, 2, "symmetric anti-affinity");
    ss_placements_destroy(p);
    /* with zone B gone (cordoned) the web pod fits nowhere, for that reason */
    c->node_unsched[2] = 1;
    p = run(c, &o);
    assert_int_equal(p->node[0], -1);
    assert_int_equal(p->reason[0], SS_REASON_EXISTING_ANTI_AFFINITY);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* The first pod of a group: required zone affinity to its own label with no
 * such pod anywhere places it (n0); the second must join its zone (n0 is
 * full, n1 is zone B): n2. A pod whose affinity does not match itself gets
 * no exception. */
static void test_first_pod_affinity_exception(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    add_node(c, "zoneA", 4000, 1);
    add_node(c, "zoneB", 4000, 10);
    add_node(c, "zoneC", 4000, 10);
    /* zone C is relabelled zone A below: nodes stay sorted by topology */
    int32_t db = add_pterm(c, SS_PT_AFFINITY, 0, ZONE, "db");
    int32_t self = add_tmpl(c, &(tdef_t){.app = "db", .pterm_begin = db, .pterm_count = 1});
    int32_t stranger = add_tmpl(c, &(tdef_t){.app = "x", .pterm_begin = db, .pterm_count = 1});
    add_pod(c, stranger, 10, -1);
    add_pod(c, self, 0, -1);
    add_pod(c, self, 0, -1);
    c->labels[c->node_label_begin[2]].value = S(c, "zoneA");
    ss_exh_opts_t o = opts();
    ss_placements_t *p = run(c, &o);
    expect(p, (want_t[]){{-1, SS_REASON_POD_AFFINITY}, {0, 0}, {2, 0}}, 3, "first pod of a group");
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* Preferred hostname anti-affinity (weight 100) moves a replica off the
 * node of its sibling; preferred affinity pulls it to the node of a pod it
 * likes. */
static void test_preferred_terms(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    add_node(c, "zoneA", 4000, 10);
    add_node(c, "zoneA", 4000, 10);
    add_node(c, "zoneA", 4000, 10);
    int32_t plain = add_tmpl(c, &(tdef_t){.app = "web"});
    int32_t cachet = add_tmpl(c, &(tdef_t){.app = "cache"});
    int32_t ab = add_pterm(c, SS_PT_ANTI_AFFINITY, 100, HOST, "web");
    int32_t anti = add_tmpl(c, &(tdef_t){.app = "web", .pterm_begin = ab, .pterm_count = 1});
    int32_t fb = add_pterm(c, SS_PT_AFFINITY, 50, HOST, "cache");
    int32_t fond = add_tmpl(c, &(tdef_t){.app = "y", .pterm_begin = fb, .pterm_count = 1});
    add_pod(c, plain, 0, 0);
    add_pod(c, cachet, 0, 2);
    add_pod(c, anti, 0, -1);
    add_pod(c, fond, 0, -1);
    ss_exh_opts_t o = opts();
    ss_placements_t *p = run(c, &o);
    expect(p, (want_t[]){{1, 0}, {2, 0}}, 2, "preferred terms");
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* The symmetric score: a running pod's preferred anti-affinity (weight 100)
 * to app=web on its node pushes a web pod without rules to n1; a running
 * pod's required affinity to app=web (hardPodAffinityWeight 1) pulls one
 * to its node, n2. */
static void test_symmetric_preferred(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    for (int i = 0; i < 3; i++)
        add_node(c, "zoneA", 4000, 10);
    int32_t ab = add_pterm(c, SS_PT_ANTI_AFFINITY, 100, HOST, "web");
    int32_t shy = add_tmpl(c, &(tdef_t){.app = "shy", .pterm_begin = ab, .pterm_count = 1});
    int32_t fb = add_pterm(c, SS_PT_AFFINITY, 0, HOST, "web2");
    int32_t fan = add_tmpl(c, &(tdef_t){.app = "fan", .pterm_begin = fb, .pterm_count = 1});
    add_pod(c, shy, 0, 0);
    add_pod(c, fan, 0, 2);
    add_pod(c, add_tmpl(c, &(tdef_t){.app = "web"}), 0, -1);
    add_pod(c, add_tmpl(c, &(tdef_t){.app = "web2"}), 0, -1);
    ss_exh_opts_t o = opts();
    ss_placements_t *p = run(c, &o);
    expect(p, (want_t[]){{1, 0}, {2, 0}}, 2, "symmetric preferred terms");
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* ---- default spreading and locality ---- */

/* One replica of deploy/web runs on n0: with system default spreading the
 * next goes to n1 (hostname and zone terms); with none, the tie goes to
 * n0. Set by the snapshot or overridden by the options. */
static void test_default_spreading(void **state)
{
    (void)state;
    for (int k = 0; k < 3; k++) {
        ss_cluster_t *c = ss_cluster_create();
        add_node(c, "zoneA", 4000, 10);
        add_node(c, "zoneB", 4000, 10);
        int32_t t = add_tmpl(
            c, &(tdef_t){.app = "web", .flags = SS_TF_CONTROLLER, .workload = "deploy/web"});
        add_pod(c, t, 0, 0);
        add_pod(c, t, 0, -1);
        ss_exh_opts_t o = opts();
        c->default_spreading = k == 0 ? SS_SPREAD_DEFAULT_SYSTEM : SS_SPREAD_DEFAULT_NONE;
        if (k == 2)
            o.default_spreading = SS_SPREAD_DEFAULT_SYSTEM; /* the override */
        ss_placements_t *p = run(c, &o);
        expect(p, (want_t[]){{k == 1 ? 0 : 1, 0}}, 1, "default spreading");
        ss_placements_destroy(p);
        /* a DaemonSet's pods get no default constraints */
        c->templates[t].flags |= SS_TF_DAEMONSET;
        p = run(c, &o);
        expect(p, (want_t[]){{0, 0}}, 1, "default spreading, DaemonSet");
        ss_placements_destroy(p);
        ss_cluster_destroy(c);
    }
}

/* Locality on zones A {n0, n1}, B {n2, n3}: deploy/web runs on n0, n2, n3.
 * Default spreading alone picks n1 (-2 against -6); locality adds 300 in
 * zone B, where most replicas run: n2. */
static void test_locality(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        ss_cluster_t *c = ss_cluster_create();
        for (int i = 0; i < 4; i++)
            add_node(c, i < 2 ? "zoneA" : "zoneB", 4000, 10);
        int32_t t = add_tmpl(
            c, &(tdef_t){.app = "web", .flags = SS_TF_CONTROLLER, .workload = "deploy/web"});
        add_pod(c, t, 0, 0);
        add_pod(c, t, 0, 2);
        add_pod(c, t, 0, 3);
        add_pod(c, t, 0, -1);
        c->default_spreading = SS_SPREAD_DEFAULT_SYSTEM;
        c->locality = k ? SS_LOCALITY_ZONE : SS_LOCALITY_OFF;
        ss_exh_opts_t o = opts();
        ss_placements_t *p = run(c, &o);
        expect(p, (want_t[]){{k ? 2 : 1, 0}}, 1, k ? "locality zone" : "locality off");
        ss_placements_destroy(p);
        ss_cluster_destroy(c);
    }
}

/* ---- preemption ---- */

/* Two nodes of 4 cpu, each with a 3-cpu running pod: a (prio 0) on n0, b
 * (prio 10) on n1; a 2-cpu pod of priority 100 fits nowhere. */
typedef struct {
    ss_cluster_t *c;
    int32_t a, b, preemptor_tmpl;
} pre_t;

static pre_t pre_cluster(uint32_t flags)
{
    pre_t s;
    s.c = ss_cluster_create();
    add_node(s.c, "zoneA", 4000, 10);
    add_node(s.c, "zoneA", 4000, 10);
    int32_t ta = add_tmpl(s.c, &(tdef_t){.cpu = 3000, .app = "a"});
    int32_t tb = add_tmpl(s.c, &(tdef_t){.cpu = 3000, .app = "b"});
    s.preemptor_tmpl = add_tmpl(s.c, &(tdef_t){.cpu = 2000, .app = "p", .flags = flags});
    s.a = add_pod(s.c, ta, 0, 0);
    s.b = add_pod(s.c, tb, 10, 1);
    add_pod(s.c, s.preemptor_tmpl, 100, -1);
    return s;
}

static void add_pdb(ss_cluster_t *c, const char *app)
{
    ss_pdb_t d = {S(c, "pdb"), S(c, "default"), sel_eq(c, "app", app), 1, 0, -1, 0, -1, 0};
    ss_cluster_add_pdb(c, &d);
}

static void expect_victims(const ss_placements_t *p, const int32_t *pods, int32_t n)
{
    assert_int_equal(p->n_victims, n);
    for (int32_t i = 0; i < n; i++) {
        int found = 0;
        for (int32_t k = 0; k < p->n_victims; k++)
            found |= p->victim_pod[k] == pods[i];
        if (!found)
            fail_msg("pod %d is not a victim", pods[i]);
    }
}

/* Without a PDB the cheapest node (lowest victim priority) is n0; a PDB
 * with no budget on a makes n0 the wrong one: n1, victim b. With PDBs hard
 * (evict) n0 is no candidate at all; with b under a PDB too, nothing. */
static void test_preemption_pdb(void **state)
{
    (void)state;
    ss_exh_opts_t o = opts();
    pre_t s = pre_cluster(0);
    ss_placements_t *p = run(s.c, &o);
    expect(p, (want_t[]){{0, 0}}, 1, "preemption without PDB");
    expect_victims(p, &s.a, 1);
    assert_int_equal(p->victim_row[0], 0);
    ss_placements_destroy(p);
    add_pdb(s.c, "a");
    p = run(s.c, &o);
    expect(p, (want_t[]){{1, 0}}, 1, "preemption with a PDB");
    expect_victims(p, &s.b, 1);
    ss_placements_destroy(p);
    o.pdb_hard = 1;
    p = run(s.c, &o);
    expect(p, (want_t[]){{1, 0}}, 1, "preemption, PDBs hard");
    ss_placements_destroy(p);
    add_pdb(s.c, "b");
    p = run(s.c, &o);
    expect(p, (want_t[]){{-1, SS_REASON_CPU}}, 1, "preemption, PDBs hard, both covered");
    expect_victims(p, NULL, 0);
    ss_placements_destroy(p);
    o.pdb_hard = 0; /* best effort: both violate, the lower priority wins again */
    p = run(s.c, &o);
    expect(p, (want_t[]){{0, 0}}, 1, "preemption, both covered, best effort");
    ss_placements_destroy(p);
    ss_cluster_destroy(s.c);
}

/* The budget is spent across the run: a PDB allowing 1 disruption over a0
 * (n0) and a1 (n1) lets the first preemptor evict a0; with PDBs hard the
 * second may not evict a1 and waits; best effort, it does (1 violation). */
static void test_pdb_budget_across_preemptions(void **state)
{
    (void)state;
    for (int hard = 0; hard < 2; hard++) {
        ss_cluster_t *c = ss_cluster_create();
        add_node(c, "zoneA", 4000, 10);
        add_node(c, "zoneA", 4000, 10);
        int32_t ta = add_tmpl(c, &(tdef_t){.cpu = 3000, .app = "a"});
        int32_t a[2] = {add_pod(c, ta, 0, 0), add_pod(c, ta, 0, 1)};
        int32_t tp = add_tmpl(c, &(tdef_t){.cpu = 3000, .app = "p"});
        add_pod(c, tp, 100, -1);
        add_pod(c, tp, 100, -1);
        add_pdb(c, "a");
        ss_exh_opts_t o = opts();
        o.pdb_hard = hard;
        ss_placements_t *p = run(c, &o);
        if (hard) {
            expect(p, (want_t[]){{0, 0}, {-1, SS_REASON_CPU}}, 2, "PDB budget spent, hard");
            expect_victims(p, a, 1);
        } else {
            expect(p, (want_t[]){{0, 0}, {1, 0}}, 2, "PDB budget spent, best effort");
            expect_victims(p, a, 2);
        }
        ss_placements_destroy(p);
        ss_cluster_destroy(c);
    }
}

/* preemptionPolicy Never and --preemption off: no victims, the pod waits. */
static void test_preemption_never_and_off(void **state)
{
    (void)state;
    ss_exh_opts_t o = opts();
    pre_t s = pre_cluster(SS_TF_PREEMPT_NEVER);
    ss_placements_t *p = run(s.c, &o);
    expect(p, (want_t[]){{-1, SS_REASON_CPU}}, 1, "preemptionPolicy Never");
    expect_victims(p, NULL, 0);
    ss_placements_destroy(p);
    s.c->templates[s.preemptor_tmpl].flags = 0;
    o.preemption = 0;
    p = run(s.c, &o);
    expect(p, (want_t[]){{-1, SS_REASON_CPU}}, 1, "--preemption off");
    expect_victims(p, NULL, 0);
    ss_placements_destroy(p);
    /* equal priority is never preempted */
    o.preemption = 1;
    s.c->pod_priority[2] = 0;
    s.c->pod_priority[s.b] = 0;
    p = run(s.c, &o);
    expect(p, (want_t[]){{-1, SS_REASON_CPU}}, 1, "equal priority");
    ss_placements_destroy(p);
    ss_cluster_destroy(s.c);
}

/* pickOneNodeForPreemption, one case per criterion. Each node has 4 cpu;
 * victims[n] lists the running pods of node n as (cpu, priority, start);
 * the preemptor asks for 3 cpu at priority 100. */
typedef struct {
    int64_t cpu;
    int32_t prio;
    int64_t start;
} run_t;

typedef struct {
    const char *name;
    run_t pods[2][2];
    int32_t n[2];
    int32_t want_node;
} tie_case_t;

static void test_pick_one_node(void **state)
{
    (void)state;
    static const tie_case_t cases[] = {
        /* n1's sum is the larger (2 victims), its highest priority the lower */
        {"lowest highest priority", {{{4000, 5, 0}}, {{2000, 3, 0}, {2000, 3, 0}}}, {1, 2}, 1},
        {"smallest priority sum",
         {{{2000, 5, 0}, {2000, 5, 0}}, {{2000, 5, 0}, {2000, 1, 0}}},
         {2, 2},
         1},
        /* without the 2^31 offset n0's sum (-10) would be the smaller */
        {"sum with negative priorities",
         {{{2000, -5, 0}, {2000, -5, 0}}, {{4000, -5, 0}}},
         {2, 1},
         1},
        /* equal offset sums (2^32 + 0 - 2^31 = 2^31 + 0): fewer victims */
        {"fewest victims", {{{2000, 0, 0}, {2000, INT32_MIN, 0}}, {{4000, 0, 0}}}, {2, 1}, 1},
        {"latest start time", {{{4000, 5, 1000}}, {{4000, 5, 2000}}}, {1, 1}, 1},
        {"unknown start reads as now", {{{4000, 5, 0}}, {{4000, 5, 2000}}}, {1, 1}, 0},
        {"lowest node index", {{{4000, 5, 1000}}, {{4000, 5, 1000}}}, {1, 1}, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const tie_case_t *tc = &cases[k];
        ss_cluster_t *c = ss_cluster_create();
        add_node(c, "zoneA", 4000, 10);
        add_node(c, "zoneA", 4000, 10);
        int32_t victims[2];
        int32_t nv = 0;
        for (int32_t n = 0; n < 2; n++)
            for (int32_t i = 0; i < tc->n[n]; i++) {
                int32_t t = add_tmpl(c, &(tdef_t){.cpu = tc->pods[n][i].cpu, .app = "v"});
                int32_t q = add_pod(c, t, tc->pods[n][i].prio, n);
                ss_cluster_set_pod_start(c, q, tc->pods[n][i].start);
                if (n == tc->want_node)
                    victims[nv++] = q;
            }
        add_pod(c, add_tmpl(c, &(tdef_t){.cpu = 3000}), 100, -1);
        ss_exh_opts_t o = opts();
        ss_placements_t *p = run(c, &o);
        expect(p, (want_t[]){{tc->want_node, 0}}, 1, tc->name);
        expect_victims(p, victims, nv);
        ss_placements_destroy(p);
        ss_cluster_destroy(c);
    }
}

/* A cluster read from a snapshot without start times (no pod_start column)
 * preempts as if every start were unknown. */
static void test_no_start_column(void **state)
{
    (void)state;
    pre_t s = pre_cluster(0);
    free(s.c->pod_start);
    s.c->pod_start = NULL;
    ss_exh_opts_t o = opts();
    ss_placements_t *p = run(s.c, &o);
    expect(p, (want_t[]){{0, 0}}, 1, "no start column");
    expect_victims(p, &s.a, 1);
    ss_placements_destroy(p);
    ss_cluster_destroy(s.c);
}

/* Reprieve: of two victims on the node, the more important one is put back
 * when the pod fits without removing it. */
static void test_reprieve(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    add_node(c, "zoneA", 4000, 10);
    int32_t t = add_tmpl(c, &(tdef_t){.cpu = 2000});
    int32_t lo = add_pod(c, t, 1, 0);
    add_pod(c, t, 5, 0);
    add_pod(c, t, 100, -1);
    ss_exh_opts_t o = opts();
    ss_placements_t *p = run(c, &o);
    expect(p, (want_t[]){{0, 0}}, 1, "reprieve");
    expect_victims(p, &lo, 1);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* Anti-affinity resolved by preemption: the only node holds a low-priority
 * pod that the preemptor's required anti-affinity forbids. */
static void test_preemption_anti_affinity(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    add_node(c, "zoneA", 4000, 10);
    int32_t web = add_tmpl(c, &(tdef_t){.app = "web"});
    int32_t other = add_tmpl(c, &(tdef_t){.app = "x"});
    int32_t ab = add_pterm(c, SS_PT_ANTI_AFFINITY, 0, HOST, "web");
    int32_t t = add_tmpl(c, &(tdef_t){.app = "p", .pterm_begin = ab, .pterm_count = 1});
    int32_t v = add_pod(c, web, 0, 0);
    add_pod(c, other, 0, 0);
    add_pod(c, t, 100, -1);
    ss_exh_opts_t o = opts();
    ss_placements_t *p = run(c, &o);
    expect(p, (want_t[]){{0, 0}}, 1, "preemption for anti-affinity");
    expect_victims(p, &v, 1); /* the pod it does not mind is reprieved */
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* Spread resolved by preemption: zone A {n0} holds 2 low-priority pods
 * matching the selector, zone B {n1} is full; the pod (maxSkew 1) needs
 * both victims gone from the domain count (1 + 1 - 0 > 1 with one back). */
static void test_preemption_spread(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    add_node(c, "zoneA", 4000, 10);
    add_node(c, "zoneB", 4000, 0);
    int32_t low = add_tmpl(c, &(tdef_t){.app = "bar"});
    int32_t v[2] = {add_pod(c, low, 0, 0), add_pod(c, low, 0, 0)};
    int32_t sb =
        add_spread(c, ZONE, 1, SS_WHEN_DO_NOT_SCHEDULE, 1, SS_INCL_HONOR, sel_eq(c, "app", "bar"));
    add_pod(c, add_tmpl(c, &(tdef_t){.app = "bar", .spread_begin = sb, .spread_count = 1}), 100,
            -1);
    ss_exh_opts_t o = opts();
    ss_placements_t *p = run(c, &o);
    expect(p, (want_t[]){{0, 0}}, 1, "preemption for spread");
    expect_victims(p, v, 2);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* A gang preempts as a unit: 2 members of 3 cpu at priority 100 on 2 full
 * nodes take both victims; with minMember 3 (only 2 nodes) nothing is
 * preempted and every member waits. */
static void test_gang_preempts_as_unit(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        ss_cluster_t *c = ss_cluster_create();
        add_node(c, "zoneA", 4000, 10);
        add_node(c, "zoneA", 4000, 10);
        int32_t low = add_tmpl(c, &(tdef_t){.cpu = 4000, .app = "low"});
        int32_t v[2] = {add_pod(c, low, 0, 0), add_pod(c, low, 0, 1)};
        int32_t size = k == 0 ? 2 : 3;
        int32_t g = ss_cluster_add_group(c, S(c, "gang"), size, SS_TOPO_NODE, SS_TOPO_MODE_NONE);
        int32_t t = add_tmpl(c, &(tdef_t){.cpu = 3000});
        for (int32_t i = 0; i < size; i++) {
            char name[32];
            snprintf(name, sizeof name, "member-%d", i);
            ss_cluster_add_pod(c, S(c, name), S(c, "default"), t, 100, g, -1, 0);
        }
        ss_exh_opts_t o = opts();
        ss_placements_t *p = run(c, &o);
        if (k == 0) {
            expect(p, (want_t[]){{0, 0}, {1, 0}}, 2, "gang preempts");
            expect_victims(p, v, 2);
        } else {
            for (int32_t i = 0; i < 3; i++)
                assert_int_equal(p->node[i], -1);
            expect_victims(p, NULL, 0);
        }
        ss_placements_destroy(p);
        ss_cluster_destroy(c);
    }
}

/* The candidate search is bounded: with 1 % / 1 candidate it stops at the
 * first candidate from the offset, so the seed offset picks the node. */
static void test_candidate_bound(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    for (int i = 0; i < 3; i++)
        add_node(c, "zoneA", 4000, 10);
    int32_t prio[3] = {7, 3, 5};
    for (int i = 0; i < 3; i++)
        add_pod(c, add_tmpl(c, &(tdef_t){.cpu = 4000}), prio[i], i);
    add_pod(c, add_tmpl(c, &(tdef_t){.cpu = 3000}), 100, -1);
    ss_exh_opts_t o = opts();
    ss_placements_t *p = run(c, &o); /* all 3 searched: n1 (priority 3) */
    expect(p, (want_t[]){{1, 0}}, 1, "full search");
    ss_placements_destroy(p);
    o.min_candidate_pct = 1;
    o.min_candidate_abs = 1;
    int32_t want[3] = {0, 1, 2};
    for (int off = 0; off < 3; off++) {
        o.seed_offset = off + 3; /* taken modulo the node count */
        p = run(c, &o);
        expect(p, (want_t[]){{want[off], 0}}, 1, "bounded search");
        ss_placements_destroy(p);
    }
    o.min_candidate_abs = 2; /* from n2: n2 and n0 are seen: n2 (5 < 7) */
    o.seed_offset = 2;
    p = run(c, &o);
    expect(p, (want_t[]){{2, 0}}, 1, "bounded search of 2");
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spread_docs_example),
        cmocka_unit_test(test_spread_min_domains),
        cmocka_unit_test(test_spread_node_affinity_policy),
        cmocka_unit_test(test_spread_missing_label),
        cmocka_unit_test(test_web_store_redis_cache),
        cmocka_unit_test(test_symmetric_anti_affinity),
        cmocka_unit_test(test_first_pod_affinity_exception),
        cmocka_unit_test(test_preferred_terms),
        cmocka_unit_test(test_symmetric_preferred),
        cmocka_unit_test(test_default_spreading),
        cmocka_unit_test(test_locality),
        cmocka_unit_test(test_preemption_pdb),
        cmocka_unit_test(test_pdb_budget_across_preemptions),
        cmocka_unit_test(test_preemption_never_and_off),
        cmocka_unit_test(test_pick_one_node),
        cmocka_unit_test(test_no_start_column),
        cmocka_unit_test(test_reprieve),
        cmocka_unit_test(test_preemption_anti_affinity),
        cmocka_unit_test(test_preemption_spread),
        cmocka_unit_test(test_gang_preempts_as_unit),
        cmocka_unit_test(test_candidate_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
