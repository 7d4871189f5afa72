/* Tests of the fast engine against the naive reference (ss_exhaustive_run)
 * on many small random clusters with every rule the engine implements, for
 * every policy, shard size and thread count: the placements must be equal
 * row for row. Plus hand-made cases for gangs, unsupported rules, reasons and
 * queue order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <omp.h>

#include "ss_cluster.h"
#include "ss_queue.h"
#include "ss_reason.h"
#include "ss_rng.h"
#include "ss_sched.h"

static int32_t S(ss_cluster_t *c, const char *s)
{
    return ss_cluster_str(c, s);
}

static int32_t pick(ss_rng_t *r, int32_t n)
{
    return (int32_t)ss_rng_below(r, (uint64_t)n);
}

static void random_nodes(ss_cluster_t *c, ss_rng_t *r, int32_t n)
{
    static const char *models[] = {"A100", "H100", "V100"};
    for (int32_t i = 0; i < n; i++) {
        char name[32], zone[32], rack[32], gen[16];
        snprintf(name, sizeof name, "node-%04d", i);
        snprintf(zone, sizeof zone, "zone-%d", i * 3 / n);
        snprintf(rack, sizeof rack, "rack-%03d", i / 5);
        snprintf(gen, sizeof gen, "%d", 1 + pick(r, 5));
        int32_t lb = c->n_labels;
        ss_cluster_add_label(c, S(c, "topology.kubernetes.io/zone"), S(c, zone));
        ss_cluster_add_label(c, S(c, "pool"), S(c, pick(r, 2) ? "a" : "b"));
        ss_cluster_add_label(c, S(c, "gen"), S(c, gen));
        if (pick(r, 3) == 0)
            ss_cluster_add_label(c, S(c, "ssd"), S(c, "true"));
        int32_t tb = c->n_taints;
        if (pick(r, 6) == 0)
            ss_cluster_add_taint(c, S(c, "dedicated"), S(c, "x"), SS_EFFECT_NO_SCHEDULE);
        if (pick(r, 5) == 0)
            ss_cluster_add_taint(c, S(c, "spot"), S(c, "true"), SS_EFFECT_PREFER_NO_SCHEDULE);
        if (pick(r, 12) == 0)
            ss_cluster_add_taint(c, S(c, "evict"), S(c, ""), SS_EFFECT_NO_EXECUTE);
        int32_t gb = c->n_gpus, ng = pick(r, 3) == 0 ? 1 + pick(r, 4) : 0;
        int32_t model = S(c, models[pick(r, 3)]);
        for (int32_t g = 0; g < ng; g++)
            ss_cluster_add_gpu(c, model, 1000);
        char block[32];
        snprintf(block, sizeof block, "b%02d", i / 15);
        int32_t topo[4] = {S(c, "r1"), S(c, zone), S(c, block), S(c, rack)};
        int64_t ext[SS_MAX_EXT] = {pick(r, 4) == 0 ? 2 : 0};
        ss_cluster_add_node(c, S(c, name), topo, 1000 * (2 + pick(r, 14)),
                            (int64_t)(1 + pick(r, 32)) << 30, 3 + pick(r, 20), ext,
                            pick(r, 15) == 0, lb, c->n_labels - lb, tb, c->n_taints - tb, gb, ng);
    }
}

static int32_t random_expr(ss_cluster_t *c, ss_rng_t *r)
{
    int32_t vb = c->n_expr_values;
    char v[32];
    switch (pick(r, 5)) {
    case 0:
        ss_cluster_add_expr_value(c, S(c, "a"));
        return ss_cluster_add_expr(c, S(c, "pool"), SS_OP_IN, 0, vb, 1);
    case 1:
        ss_cluster_add_expr_value(c, S(c, "zone-0"));
        return ss_cluster_add_expr(c, S(c, "topology.kubernetes.io/zone"), SS_OP_NOT_IN, 0, vb, 1);
    case 2:
        snprintf(v, sizeof v, "%d", 1 + pick(r, 4));
        ss_cluster_add_expr_value(c, S(c, v));
        return ss_cluster_add_expr(c, S(c, "gen"), pick(r, 2) ? SS_OP_GT : SS_OP_LT, 0, vb, 1);
    case 3:
        return ss_cluster_add_expr(c, S(c, "ssd"), pick(r, 2) ? SS_OP_EXISTS : SS_OP_DOES_NOT_EXIST,
                                   0, vb, 0);
    default:
        snprintf(v, sizeof v, "node-%04d", pick(r, 40));
        ss_cluster_add_expr_value(c, S(c, v));
        return ss_cluster_add_expr(c, S(c, "kubernetes.io/hostname"), SS_OP_NOT_IN, 0, vb, 1);
    }
}

static void random_template(ss_cluster_t *c, ss_rng_t *r, ss_template_t *t)
{
    memset(t, 0, sizeof *t);
    t->req.cpu_milli = 100 * (1 + pick(r, 40));
    t->req.memory = (int64_t)(1 + pick(r, 64)) << 27;
    if (pick(r, 5) == 0) {
        t->req.gpu_count = pick(r, 3) == 0 ? 1 + pick(r, 2) : 1;
        t->req.gpu_milli = t->req.gpu_count == 1 && pick(r, 2) ? 250 * (1 + pick(r, 3)) : 1000;
        t->model_begin = c->n_models;
        if (pick(r, 3) == 0)
            t->model_count = 1, ss_cluster_add_model(c, S(c, pick(r, 2) ? "A100" : "H100"));
    }
    if (pick(r, 8) == 0)
        t->req.ext[0] = 1;
    t->sel_begin = c->n_labels;
    if (pick(r, 6) == 0)
        t->sel_count = 1, ss_cluster_add_label(c, S(c, "pool"), S(c, pick(r, 2) ? "a" : "b"));
    t->req_begin = c->n_terms;
    for (int32_t k = pick(r, 4) == 0 ? 1 + pick(r, 2) : 0; k > 0; k--, t->req_count++) {
        int32_t eb = c->n_exprs, ne = 1 + pick(r, 2);
        for (int32_t e = 0; e < ne; e++)
            random_expr(c, r);
        ss_cluster_add_term(c, eb, ne, 0);
    }
    t->pref_begin = c->n_terms;
    for (int32_t k = pick(r, 3) == 0 ? 1 + pick(r, 2) : 0; k > 0; k--, t->pref_count++) {
        int32_t eb = c->n_exprs;
        random_expr(c, r);
        ss_cluster_add_term(c, eb, 1, 1 + pick(r, 100));
    }
    t->tol_begin = c->n_tolerations;
    if (pick(r, 3) == 0)
        t->tol_count++, ss_cluster_add_toleration(c, S(c, "dedicated"), S(c, "x"), SS_TOL_EQUAL,
                                                  SS_EFFECT_NO_SCHEDULE);
    if (pick(r, 4) == 0)
        t->tol_count++, ss_cluster_add_toleration(c, S(c, "spot"), 0, SS_TOL_EXISTS, SS_EFFECT_ANY);
    if (pick(r, 20) == 0)
        t->tol_count++, ss_cluster_add_toleration(c, 0, 0, SS_TOL_EXISTS, SS_EFFECT_ANY);
    if (pick(r, 40) == 0)
        t->unsupported = SS_RULE_POD_ANTI_AFFINITY;
}

/* A random cluster: n nodes, about m pending pods in runs of replicas, some
 * running pods, some gangs. */
static ss_cluster_t *random_cluster(uint64_t seed, int32_t n, int32_t m)
{
    ss_rng_t r;
    ss_rng_seed(&r, seed);
    ss_cluster_t *c = ss_cluster_create();
    ss_cluster_add_ext(c, "example.com/fpga");
    random_nodes(c, &r, n);
    int32_t made = 0, w = 0;
    while (made < m) {
        ss_template_t t;
        random_template(c, &r, &t);
        int32_t ti = ss_cluster_add_template(c, &t), reps = 1 + pick(&r, 12);
        int32_t group = -1, prio = 100 * pick(&r, 3);
        if (pick(&r, 8) == 0) /* gangs, some wanting one zone / block / rack */
            group = ss_cluster_add_group(c, S(c, "gang"), 1 + pick(&r, reps), 1 + pick(&r, 3),
                                         pick(&r, 3));
        for (int32_t i = 0; i < reps; i++, made++) {
            char name[32];
            snprintf(name, sizeof name, "w%d-%d", w, i);
            int32_t node = -1;
            uint64_t mask = 0;
            if (group < 0 && t.req.gpu_count == 0 && t.req.ext[0] == 0 && pick(&r, 5) == 0)
                node = pick(&r, n); /* running: may over-commit its node, which is allowed */
            ss_cluster_add_pod(c, S(c, name), S(c, "default"), ti, prio, group, node, mask);
        }
        w++;
    }
    return c;
}

static ss_placements_t *pending_table(const ss_cluster_t *c)
{
    int32_t n = 0;
    for (int32_t p = 0; p < c->n_pods; p++)
        n += c->pod_node[p] < 0;
    return ss_placements_create(n);
}

static void run_fast(const ss_cluster_t *c, const ss_policy_t *pol, int32_t shard_nodes,
                     const ss_queue_t *q, ss_placements_t *out)
{
    ss_error_t err;
    ss_layout_t l;
    ss_layout_build(c, 0, shard_nodes, &l);
    ss_sched_t *s = ss_sched_create(c, pol, &l, 0, l.n_parts, &err);
    assert_non_null(s);
    assert_int_equal(ss_sched_run(s, q->order, q->units, q->n_units, NULL, out, &err), 0);
    ss_sched_destroy(s);
}

static void test_ss_sched_run_matches_exhaustive_on_random_clusters(void **state)
{
    (void)state;
    ss_error_t err;
    int compared = 0, placed_total = 0, gpu_placed = 0, shared_placed = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        ss_cluster_t *c =
            random_cluster(seed, 20 + (int32_t)(seed * 7 % 90), 60 + (int32_t)(seed * 13 % 200));
        assert_int_equal(ss_cluster_validate(c, &err), 0);
        ss_queue_t *q = ss_queue_build(c, &err);
        assert_non_null(q);
        for (int pi = 0; ss_policy_at(pi); pi++) {
            const ss_policy_t *pol = ss_policy_at(pi);
            ss_placements_t *ref = pending_table(c);
            assert_int_equal(ss_exhaustive_run(c, pol, q->order, q->units, q->n_units, ref, &err),
                             0);
            int32_t shard_sizes[] = {0, 1, 3, 7};
            for (int si = 0; si < 4; si++)
                for (int threads = 1; threads <= 2; threads++) {
                    omp_set_num_threads(threads);
                    ss_placements_t *got = pending_table(c);
                    run_fast(c, pol, shard_sizes[si], q, got);
                    for (int32_t i = 0; i < ref->n; i++) {
                        if (got->node[i] != ref->node[i] || got->reason[i] != ref->reason[i] ||
                            got->gpu_mask[i] != ref->gpu_mask[i])
                            fail_msg("seed %llu policy %s shards %d threads %d row %d: fast "
                                     "node %d reason %d mask %llx, exhaustive node %d reason "
                                     "%d mask %llx",
                                     (unsigned long long)seed, pol->name, shard_sizes[si], threads,
                                     i, got->node[i], got->reason[i],
                                     (unsigned long long)got->gpu_mask[i], ref->node[i],
                                     ref->reason[i], (unsigned long long)ref->gpu_mask[i]);
                    }
                    compared++;
                    ss_placements_destroy(got);
                }
            for (int32_t i = 0; i < ref->n; i++) {
                placed_total += ref->node[i] >= 0;
                const ss_template_t *tp = &c->templates[c->pod_template[ref->pod[i]]];
                gpu_placed += ref->node[i] >= 0 && tp->req.gpu_count > 0;
                shared_placed +=
                    ref->node[i] >= 0 && tp->req.gpu_milli < 1000 && tp->req.gpu_count > 0;
            }
            ss_placements_destroy(ref);
        }
        ss_queue_destroy(q);
        ss_cluster_destroy(c);
    }
    assert_true(compared == 40 * SS_POLICY_COUNT * 8); /* every registry policy */
    assert_true(placed_total > 1000);                  /* the clusters are not trivially empty */
    assert_true(gpu_placed > 500);                     /* GPU pods, shared ones too, land */
    assert_true(shared_placed > 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ss_sched_run_matches_exhaustive_on_random_clusters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
