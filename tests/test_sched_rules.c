/* The fast engine's inter-pod rules (engine/ss_sched_rules.c): hand-made
 * clusters with answers computed by hand from the contract in
 * docs/kubernetes.md ("Inter-pod rules"), each run with one partition and
 * with partitions of one or two nodes, at 1 and 2 threads: the placements
 * must be the same everywhere the rules allow no choice, and always valid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include <cmocka.h>
#include <omp.h>

#include "ss_cluster.h"
#include "ss_exhaustive.h"
#include "ss_queue.h"
#include "ss_rng.h"
#include "ss_rules.h"
#include "ss_verify.h"
#include "ss_reason.h"
#include "ss_sched.h"

static int32_t S(ss_cluster_t *c, const char *s)
{
    return ss_cluster_str(c, s);
}

/* zones x per_zone nodes of 4 cpu, zone label topology.kubernetes.io/zone
 * (on every node but each gap-th when gap > 0). */
static ss_cluster_t *zone_cluster_gaps(int zones, int per_zone, int gap)
{
    ss_cluster_t *c = ss_cluster_create();
    for (int z = 0; z < zones; z++)
        for (int i = 0; i < per_zone; i++) {
            char name[32], zone[16], rack[16];
            snprintf(name, sizeof name, "n-%d-%d", z, i);
            snprintf(zone, sizeof zone, "zone-%c", 'a' + z);
            snprintf(rack, sizeof rack, "rack-%d-%d", z, i);
            int32_t lb = c->n_labels, nl = !(gap > 0 && (z * per_zone + i) % gap == gap - 1);
            if (nl)
                ss_cluster_add_label(c, S(c, "topology.kubernetes.io/zone"), S(c, zone));
            int32_t topo[4] = {S(c, "r"), S(c, zone), S(c, zone), S(c, rack)};
            ss_cluster_add_node(c, S(c, name), topo, 4000, (int64_t)8 << 30, 110, NULL, false, lb,
                                nl, 0, 0, c->n_gpus, 0);
        }
    return c;
}

static ss_cluster_t *zone_cluster(int zones, int per_zone)
{
    return zone_cluster_gaps(zones, per_zone, 0);
}

/* A selector app In (value). */
static ss_selector_t sel_app(ss_cluster_t *c, const char *app)
{
    int32_t vb = c->n_expr_values;
    ss_cluster_add_expr_value(c, S(c, app));
    int32_t eb = c->n_exprs;
    ss_cluster_add_expr(c, S(c, "app"), SS_OP_IN, 0, vb, 1);
    return (ss_selector_t){eb, 1, 0};
}

typedef struct {
    const char *app;
    int64_t cpu;
    int spread; /* 0 none, 1 hostname DoNotSchedule, 2 zone DoNotSchedule */
    int max_skew;
    int anti;           /* required anti-affinity on own app: 1 hostname, 2 zone */
    const char *aff_to; /* required affinity (zone) to pods of this app */
} tdef_t;

static int32_t add_tmpl(ss_cluster_t *c, const tdef_t *d)
{
    ss_template_t t = {.req = {.cpu_milli = d->cpu, .memory = 1 << 20}};
    t.plabel_begin = c->n_labels;
    ss_cluster_add_label(c, S(c, "app"), S(c, d->app));
    t.plabel_count = 1;
    t.spread_begin = c->n_spreads;
    if (d->spread) {
        ss_spread_t sp = {
            .max_skew = d->max_skew,
            .key = S(c, d->spread == 1 ? "kubernetes.io/hostname" : "topology.kubernetes.io/zone"),
            .when = SS_WHEN_DO_NOT_SCHEDULE,
            .min_domains = 1,
            .sel = sel_app(c, d->app)};
        ss_cluster_add_spread(c, &sp);
        t.spread_count = 1;
    }
    t.pterm_begin = c->n_pterms;
    if (d->anti) {
        ss_podterm_t pt = {
            .kind = SS_PT_ANTI_AFFINITY,
            .key = S(c, d->anti == 1 ? "kubernetes.io/hostname" : "topology.kubernetes.io/zone"),
            .sel = sel_app(c, d->app),
            .ns_sel = {0, 0, 1}};
        ss_cluster_add_pterm(c, &pt);
        t.pterm_count++;
    }
    if (d->aff_to) {
        ss_podterm_t pt = {.kind = SS_PT_AFFINITY,
                           .key = S(c, "topology.kubernetes.io/zone"),
                           .sel = sel_app(c, d->aff_to),
                           .ns_sel = {0, 0, 1}};
        ss_cluster_add_pterm(c, &pt);
        t.pterm_count++;
    }
    return ss_cluster_add_template(c, &t);
}

static void add_pods(ss_cluster_t *c, int32_t t, const char *prefix, int n, int32_t node)
{
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s-%d", prefix, i);
        ss_cluster_add_pod(c, S(c, name), S(c, "default"), t, 0, -1, node, 0);
    }
}

/* Runs c with most-allocated (which packs: the rules must spread) at
 * partition sizes `parts` and 1-2 threads; returns the first result and
 * asserts the others equal it when `same`. */
static ss_placements_t *run_all(const ss_cluster_t *c, const int32_t *parts, int n_parts, int same)
{
    ss_error_t err;
    assert_int_equal(ss_cluster_validate(c, &err), 0);
    ss_queue_t *q = ss_queue_build(c, &err);
    assert_non_null(q);
    const ss_policy_t *pol = ss_policy_find("most-allocated");
    ss_placements_t *first = NULL;
    for (int pi = 0; pi < n_parts; pi++)
        for (int th = 1; th <= 2; th++) {
            omp_set_num_threads(th);
            ss_layout_t l;
            ss_layout_build(c, parts[pi], 1, &l);
            ss_sched_t *s = ss_sched_create(c, pol, &l, 0, l.n_parts, &err);
            assert_non_null(s);
            ss_placements_t *got = ss_placements_create(q->n_order);
            assert_int_equal(ss_sched_run(s, q->order, q->units, q->n_units, NULL, got, &err), 0);
            ss_sched_destroy(s);
            if (!first) {
                first = got;
                continue;
            }
            for (int32_t i = 0; same && i < got->n; i++) {
                assert_int_equal(got->node[i], first->node[i]);
                assert_int_equal(got->reason[i], first->reason[i]);
                assert_int_equal(got->seq[i], first->seq[i]);
            }
            ss_placements_destroy(got);
        }
    ss_queue_destroy(q);
    return first;
}

static int count_on(const ss_placements_t *p, int32_t node)
{
    int n = 0;
    for (int32_t i = 0; i < p->n; i++)
        n += p->node[i] == node;
    return n;
}

static void test_hostname_spread_spreads_what_packing_would_stack(void **state)
{
    (void)state;
    /* 3 nodes of 4 cpu, 6 pods of 0.5 cpu, hostname maxSkew 1: packing alone
     * would put all 6 on node 0; the spread gives 2, 2, 2. With partitions
     * of one node each, each partition first sees min 0 elsewhere, refuses
     * the second pod, and the exact pass after the rounds places it. */
    ss_cluster_t *c = zone_cluster(1, 3);
    int32_t t = add_tmpl(c, &(tdef_t){.app = "web", .cpu = 500, .spread = 1, .max_skew = 1});
    add_pods(c, t, "web", 6, -1);
    int32_t parts[] = {1000, 1};
    ss_placements_t *p = run_all(c, parts, 2, 0);
    for (int32_t n = 0; n < 3; n++)
        assert_int_equal(count_on(p, n), 2);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_hostname_anti_affinity_one_per_node(void **state)
{
    (void)state;
    ss_cluster_t *c = zone_cluster(1, 3);
    int32_t t = add_tmpl(c, &(tdef_t){.app = "db", .cpu = 500, .anti = 1});
    add_pods(c, t, "db", 4, -1);
    int32_t parts[] = {1000, 1};
    ss_placements_t *p = run_all(c, parts, 2, 0);
    int placed = 0;
    for (int32_t n = 0; n < 3; n++) {
        assert_int_equal(count_on(p, n), 1);
        placed++;
    }
    int refused = 0;
    for (int32_t i = 0; i < p->n; i++)
        refused += p->node[i] < 0 && p->reason[i] == SS_REASON_POD_ANTI_AFFINITY;
    assert_int_equal(refused, 1);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_zone_spread_is_exact_across_partitions(void **state)
{
    (void)state;
    /* 2 zones x 2 nodes; 4 pods with zone maxSkew 1: 2 per zone, whatever
     * the partitions (zone spread is placed after the rounds, exactly). */
    ss_cluster_t *c = zone_cluster(2, 2);
    int32_t t = add_tmpl(c, &(tdef_t){.app = "web", .cpu = 500, .spread = 2, .max_skew = 1});
    add_pods(c, t, "web", 4, -1);
    int32_t parts[] = {1000, 1, 2};
    ss_placements_t *p = run_all(c, parts, 3, 1);
    assert_int_equal(count_on(p, 0) + count_on(p, 1), 2);
    assert_int_equal(count_on(p, 2) + count_on(p, 3), 2);
    /* most-allocated packs inside a zone: node 0 first, then node 2. */
    assert_int_equal(count_on(p, 0), 2);
    assert_int_equal(count_on(p, 2), 2);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_existing_anti_affinity_repels(void **state)
{
    (void)state;
    /* A running "guard" pod on node 0 refuses app=web in its zone (zone a);
     * web pods would pack onto node 0 (most allocated): they go to zone b. */
    ss_cluster_t *c = zone_cluster(2, 2);
    ss_template_t g = {.req = {.cpu_milli = 1000, .memory = 1 << 20}};
    g.plabel_begin = c->n_labels;
    ss_cluster_add_label(c, S(c, "app"), S(c, "guard"));
    g.plabel_count = 1;
    g.pterm_begin = c->n_pterms;
    ss_podterm_t pt = {.kind = SS_PT_ANTI_AFFINITY,
                       .key = S(c, "topology.kubernetes.io/zone"),
                       .sel = sel_app(c, "web"),
                       .ns_sel = {0, 0, 1}};
    ss_cluster_add_pterm(c, &pt);
    g.pterm_count = 1;
    int32_t gt = ss_cluster_add_template(c, &g);
    add_pods(c, gt, "guard", 1, 0);
    int32_t t = add_tmpl(c, &(tdef_t){.app = "web", .cpu = 500});
    add_pods(c, t, "web", 3, -1);
    int32_t parts[] = {1000, 1, 2};
    ss_placements_t *p = run_all(c, parts, 3, 1);
    for (int32_t i = 0; i < p->n; i++) {
        assert_int_equal(p->reason[i], SS_REASON_NONE);
        assert_true(p->node[i] >= 2);
    }
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_required_affinity_follows_its_target(void **state)
{
    (void)state;
    /* web runs on node 3 (zone b); cache requires a web pod in its zone. */
    ss_cluster_t *c = zone_cluster(2, 2);
    int32_t w = add_tmpl(c, &(tdef_t){.app = "web", .cpu = 500});
    add_pods(c, w, "web", 1, 3);
    int32_t t = add_tmpl(c, &(tdef_t){.app = "cache", .cpu = 500, .aff_to = "web"});
    add_pods(c, t, "cache", 2, -1);
    int32_t parts[] = {1000, 1};
    ss_placements_t *p = run_all(c, parts, 2, 1);
    for (int32_t i = 0; i < p->n; i++)
        assert_int_equal(p->node[i], 3); /* packed next to web, zone b */
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_affinity_first_pod_exception(void **state)
{
    (void)state;
    /* Pods that require their own kind in the zone: the first lands (no pod
     * matches yet, and it matches itself), the others follow it. */
    ss_cluster_t *c = zone_cluster(2, 2);
    int32_t t = add_tmpl(c, &(tdef_t){.app = "band", .cpu = 500, .aff_to = "band"});
    add_pods(c, t, "band", 3, -1);
    int32_t parts[] = {1000, 1};
    ss_placements_t *p = run_all(c, parts, 2, 1);
    for (int32_t i = 0; i < p->n; i++) {
        assert_int_equal(p->reason[i], SS_REASON_NONE);
        assert_true(p->node[i] < 2); /* all in zone a */
    }
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_commit_order_is_dense(void **state)
{
    (void)state;
    ss_cluster_t *c = zone_cluster(2, 2);
    int32_t t = add_tmpl(c, &(tdef_t){.app = "web", .cpu = 500, .spread = 2, .max_skew = 1});
    add_pods(c, t, "web", 3, -1);
    int32_t u = add_tmpl(c, &(tdef_t){.app = "plain", .cpu = 500});
    add_pods(c, u, "plain", 3, -1);
    int32_t parts[] = {1000, 1};
    ss_placements_t *p = run_all(c, parts, 2, 0);
    int seen[6] = {0};
    for (int32_t i = 0; i < p->n; i++) {
        assert_true(p->seq[i] >= 0 && p->seq[i] < 6);
        seen[p->seq[i]]++;
    }
    for (int i = 0; i < 6; i++)
        assert_int_equal(seen[i], 1);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* A pod of cpu milli-cores and priority prio, running on node (or -1). */
static int32_t add_prio_pod(ss_cluster_t *c, const char *name, const char *app, int64_t cpu,
                            int32_t prio, int32_t node, uint32_t flags)
{
    ss_template_t t = {.req = {.cpu_milli = cpu, .memory = 1 << 20}, .flags = flags};
    t.plabel_begin = c->n_labels;
    ss_cluster_add_label(c, S(c, "app"), S(c, app));
    t.plabel_count = 1;
    int32_t ti = ss_cluster_add_template(c, &t);
    return ss_cluster_add_pod(c, S(c, name), S(c, "default"), ti, prio, -1, node, 0);
}

static void test_preemption_evicts_lower_priority(void **state)
{
    (void)state;
    ss_cluster_t *c = zone_cluster(1, 1);
    int32_t low = add_prio_pod(c, "low", "batch", 3000, 0, 0, 0);
    add_prio_pod(c, "same", "batch", 500, 100, 0, 0); /* equal priority: never a victim */
    add_prio_pod(c, "high", "prod", 2000, 100, -1, 0);
    int32_t parts[] = {1000};
    ss_placements_t *p = run_all(c, parts, 1, 1);
    assert_int_equal(p->node[0], 0);
    assert_int_equal(p->n_victims, 1);
    assert_int_equal(p->victim_pod[0], low);
    assert_int_equal(p->victim_row[0], 0);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_preemption_never_and_no_lower_priority(void **state)
{
    (void)state;
    ss_cluster_t *c = zone_cluster(1, 1);
    add_prio_pod(c, "low", "batch", 3000, 0, 0, 0);
    add_prio_pod(c, "polite", "prod", 2000, 100, -1, SS_TF_PREEMPT_NEVER);
    add_prio_pod(c, "peer", "batch", 2000, 0, -1, 0); /* same priority as the victim */
    int32_t parts[] = {1000};
    ss_placements_t *p = run_all(c, parts, 1, 1);
    assert_int_equal(p->node[0], -1);
    assert_int_equal(p->node[1], -1);
    assert_int_equal(p->n_victims, 0);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_equal_priority_is_never_a_victim(void **state)
{
    (void)state;
    ss_cluster_t *c = zone_cluster(1, 1);
    add_prio_pod(c, "peer", "prod", 3000, 100, 0, 0);
    add_prio_pod(c, "low", "batch", 500, 0, 0, 0);
    add_prio_pod(c, "high", "prod", 2000, 100, -1, 0);
    int32_t parts[] = {1000};
    ss_placements_t *p = run_all(c, parts, 1, 1);
    assert_int_equal(p->node[0], -1);
    assert_int_equal(p->n_victims, 0);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_pdb_makes_the_cheapest_node_the_wrong_one(void **state)
{
    (void)state;
    /* Node 0's victim has priority 0 (cheaper) but a PDB with no budget;
     * node 1's has priority 10 and no PDB: kube picks node 1 (fewest PDB
     * violations comes first). */
    ss_cluster_t *c = zone_cluster(1, 2);
    add_prio_pod(c, "guarded", "db", 3000, 0, 0, 0);
    int32_t free_one = add_prio_pod(c, "loose", "batch", 3000, 10, 1, 0);
    add_prio_pod(c, "high", "prod", 2000, 100, -1, 0);
    ss_pdb_t pdb = {.name = S(c, "db-pdb"),
                    .ns = S(c, "default"),
                    .sel = sel_app(c, "db"),
                    .min_available = 1,
                    .max_unavailable = -1,
                    .allowed = -1};
    ss_cluster_add_pdb(c, &pdb);
    int32_t parts[] = {1000};
    ss_placements_t *p = run_all(c, parts, 1, 1);
    assert_int_equal(p->node[0], 1);
    assert_int_equal(p->n_victims, 1);
    assert_int_equal(p->victim_pod[0], free_one);
    ss_placements_destroy(p);
    /* Without the PDB the cheaper victim goes. */
    c->n_pdbs = 0;
    p = run_all(c, parts, 1, 1);
    assert_int_equal(p->node[0], 0);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* A random cluster with every rule: zones, racks, apps, spread of both
 * kinds on zone and hostname, pod (anti-)affinity required and preferred,
 * running pods at several priorities with start times, PDBs, default
 * spreading and locality at random. */
static ss_cluster_t *random_rules_cluster(uint64_t seed)
{
    ss_rng_t g;
    ss_rng_seed(&g, seed);
#define R(n) ((int)(ss_rng_next(&g) % (uint64_t)(n)))
    int zones = 1 + R(3), per = 2 + R(5);
    ss_cluster_t *c = zone_cluster_gaps(zones, per, R(3) == 0 ? 3 : 0); /* some without a zone */
    c->default_spreading = R(2) ? SS_SPREAD_DEFAULT_SYSTEM : SS_SPREAD_DEFAULT_NONE;
    c->locality = R(4) == 0 ? SS_LOCALITY_ZONE : SS_LOCALITY_OFF;
    static const char *apps[] = {"a", "b", "c", "d"};
    const char *keys[] = {"kubernetes.io/hostname", "topology.kubernetes.io/zone"};
    int n_t = 3 + R(5);
    for (int t = 0; t < n_t; t++) {
        const char *app = apps[R(4)];
        ss_template_t tp = {.req = {.cpu_milli = 250 * (1 + R(6)), .memory = 1 << 20}};
        tp.flags = R(3) ? SS_TF_CONTROLLER : 0;
        if (R(6) == 0)
            tp.flags |= SS_TF_PREEMPT_NEVER;
        tp.workload = S(c, app);
        tp.plabel_begin = c->n_labels;
        ss_cluster_add_label(c, S(c, "app"), S(c, app));
        tp.plabel_count = 1;
        tp.spread_begin = c->n_spreads;
        for (int k = R(3); k > 1; k--) {
            ss_spread_t sp = {.max_skew = 1 + R(2),
                              .key = S(c, keys[R(2)]),
                              .when = R(2) ? SS_WHEN_DO_NOT_SCHEDULE : SS_WHEN_SCHEDULE_ANYWAY,
                              .min_domains = 1 + R(3) * (R(3) == 0),
                              .node_affinity_policy = R(2),
                              .node_taints_policy = R(2),
                              .sel = sel_app(c, apps[R(4)])};
            ss_cluster_add_spread(c, &sp);
            tp.spread_count++;
        }
        tp.pterm_begin = c->n_pterms;
        for (int k = R(4); k > 1; k--) {
            ss_podterm_t pt = {.kind = R(2) ? SS_PT_AFFINITY : SS_PT_ANTI_AFFINITY,
                               .weight = R(2) ? 0 : 1 + R(100),
                               .key = S(c, keys[R(2)]),
                               .sel = sel_app(c, apps[R(4)]),
                               .ns_sel = {0, 0, 1}};
            ss_cluster_add_pterm(c, &pt);
            tp.pterm_count++;
        }
        int32_t ti = ss_cluster_add_template(c, &tp);
        int n = 1 + R(6);
        for (int i = 0; i < n; i++) {
            char name[32];
            snprintf(name, sizeof name, "p%d-%d", t, i);
            int32_t node = R(3) == 0 ? R(c->n_nodes) : -1;
            int32_t prio = (int32_t[]){0, 10, 100, -5}[R(4)];
            int32_t pod = ss_cluster_add_pod(c, S(c, name), S(c, "default"), ti, prio, -1, node, 0);
            if (node >= 0)
                ss_cluster_set_pod_start(c, pod, R(3) ? 1000 + R(50) : 0);
        }
    }
    for (int k = R(3); k > 0; k--) {
        ss_pdb_t pdb = {.name = S(c, apps[k]),
                        .ns = S(c, "default"),
                        .sel = sel_app(c, apps[R(4)]),
                        .min_available = R(3),
                        .max_unavailable = -1,
                        .allowed = -1};
        ss_cluster_add_pdb(c, &pdb);
    }
#undef R
    return c;
}

/* With one partition and every node scored, the engine gives exactly the
 * reference's answer (preemption ordered as the engine orders it); with
 * partitions of 1-3 nodes the placements still pass the verifier. */
static void test_engine_matches_reference_with_every_rule(void **state)
{
    (void)state;
    ss_error_t err;
    const ss_policy_t *pol = ss_policy_find("most-allocated");
    int compared = 0, victims = 0, placed = 0;
    for (uint64_t seed = 1; seed <= 300; seed++) {
        ss_cluster_t *c = random_rules_cluster(seed);
        assert_int_equal(ss_cluster_validate(c, &err), 0);
        int32_t allowed[8];
        assert_true(c->n_pdbs <= 8);
        assert_int_equal(ss_pdb_allowed_all(c, allowed), 0); /* the one-pass form agrees */
        for (int32_t k = 0; k < c->n_pdbs; k++)
            assert_int_equal(allowed[k], ss_pdb_allowed(c, &c->pdbs[k]));
        ss_queue_t *q = ss_queue_build(c, &err);
        assert_non_null(q);
        ss_exh_opts_t xo;
        ss_exh_opts_default(&xo);
        xo.preempt_last = 1;
        ss_placements_t *ref = ss_placements_create(q->n_order);
        assert_int_equal(
            ss_exhaustive_run_opts(c, pol, q->order, q->units, q->n_units, &xo, ref, &err), 0);
        int32_t parts[] = {100000, 1, 3};
        for (int pi = 0; pi < 3; pi++) {
            ss_layout_t l;
            ss_layout_build(c, parts[pi], 1, &l);
            ss_sched_t *s = ss_sched_create(c, pol, &l, 0, l.n_parts, &err);
            assert_non_null(s);
            ss_sched_opts_t so = ss_sched_opts_default();
            so.pct_to_score = 100;
            ss_sched_set_opts(s, &so);
            ss_placements_t *got = ss_placements_create(q->n_order);
            assert_int_equal(ss_sched_run(s, q->order, q->units, q->n_units, NULL, got, &err), 0);
            ss_sched_destroy(s);
            ss_verify_report_t rep = {0};
            int64_t bad = ss_verify(c, got, &rep, &err);
            if (bad != 0)
                fail_msg("seed %llu partitions of %d: the verifier found %lld violation(s)",
                         (unsigned long long)seed, parts[pi], (long long)bad);
            ss_verify_report_free(&rep);
            for (int32_t i = 0; pi == 0 && i < ref->n; i++)
                if (got->node[i] != ref->node[i] || got->reason[i] != ref->reason[i])
                    fail_msg("seed %llu row %d: engine node %d reason %d, reference node %d "
                             "reason %d",
                             (unsigned long long)seed, i, got->node[i], got->reason[i],
                             ref->node[i], ref->reason[i]);
            if (pi == 0) {
                if (got->n_victims != ref->n_victims)
                    fail_msg("seed %llu: engine %d victims, reference %d", (unsigned long long)seed,
                             got->n_victims, ref->n_victims);
                int64_t *a = malloc(sizeof *a * ((size_t)got->n_victims + 1));
                int64_t *b = malloc(sizeof *b * ((size_t)got->n_victims + 1));
                assert_non_null(a);
                assert_non_null(b);
                for (int32_t v = 0; v < got->n_victims; v++) { /* a preemptor's set */
                    a[v] = ((int64_t)got->victim_row[v] << 32) | got->victim_pod[v];
                    b[v] = ((int64_t)ref->victim_row[v] << 32) | ref->victim_pod[v];
                }
                qsort(a, (size_t)got->n_victims, sizeof *a, cmp_i64);
                qsort(b, (size_t)got->n_victims, sizeof *b, cmp_i64);
                for (int32_t v = 0; v < got->n_victims; v++)
                    if (a[v] != b[v])
                        fail_msg("seed %llu: victims differ", (unsigned long long)seed);
                free(a);
                free(b);
                compared++;
                victims += got->n_victims;
                for (int32_t i = 0; i < got->n; i++)
                    placed += got->node[i] >= 0;
            }
            ss_placements_destroy(got);
        }
        ss_placements_destroy(ref);
        ss_queue_destroy(q);
        ss_cluster_destroy(c);
    }
    /* The cases must exercise something. */
    assert_int_equal(compared, 300);
    assert_true(victims > 20);
    assert_true(placed > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostname_spread_spreads_what_packing_would_stack),
        cmocka_unit_test(test_hostname_anti_affinity_one_per_node),
        cmocka_unit_test(test_zone_spread_is_exact_across_partitions),
        cmocka_unit_test(test_existing_anti_affinity_repels),
        cmocka_unit_test(test_required_affinity_follows_its_target),
        cmocka_unit_test(test_affinity_first_pod_exception),
        cmocka_unit_test(test_commit_order_is_dense),
        cmocka_unit_test(test_preemption_evicts_lower_priority),
        cmocka_unit_test(test_preemption_never_and_no_lower_priority),
        cmocka_unit_test(test_equal_priority_is_never_a_victim),
        cmocka_unit_test(test_pdb_makes_the_cheapest_node_the_wrong_one),
        cmocka_unit_test(test_engine_matches_reference_with_every_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
