/* test_consolidate_index: consolidate's free-room index
 * (engine/ss_consolidate_index.c) gives exactly the plan of the reference
 * scan of every node (ss_consolidate_scan): on random clusters with nodes of
 * a few shared and some odd capacities (tiny cpu too, tainted pools), pods
 * of random cpu, memory, nodeSelectors, owners and required hostname
 * anti-affinity, both target policies, a
 * --drain list and a wave limit; and on gen's fragmented profile, whose
 * shape the test checks too (every node used about --used, none idle). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ss_consolidate.h"
#include "ss_gen.h"
#include "ss_verify_plan.h"

static int32_t S(ss_cluster_t *c, const char *s)
{
    int32_t id = ss_cluster_str(c, s);
    assert_true(id >= 0);
    return id;
}

static int rnd(uint64_t *r, int n)
{
    *r = *r * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int)((*r >> 33) % (uint64_t)n);
}

/* Both planners on c with o: the plans must be equal field by field, and
 * verify (its own code) finds no violation in them. */
static int64_t same_plans(const ss_cluster_t *c, const ss_consolidate_opts_t *o, const char *what)
{
    ss_error_t err = {{0}};
    ss_cplan_t a, b;
    assert_int_equal(ss_consolidate(c, o, &a, &err), 0);
    assert_int_equal(ss_consolidate_scan(c, o, &b, &err), 0);
    if (a.n_drain != b.n_drain || a.n_moves != b.n_moves || a.n_waves != b.n_waves ||
        a.candidates != b.candidates || a.not_freed != b.not_freed)
        fail_msg("%s: index %d freed / %d moves / %d waves, scan %d / %d / %d", what,
                 (int)a.n_drain, (int)a.n_moves, (int)a.n_waves, (int)b.n_drain, (int)b.n_moves,
                 (int)b.n_waves);
    for (int32_t i = 0; i < a.n_drain; i++)
        if (a.drain_node[i] != b.drain_node[i] || a.drain_wave[i] != b.drain_wave[i])
            fail_msg("%s: drain %d differs", what, (int)i);
    for (int32_t i = 0; i < a.n_moves; i++)
        if (a.move_pod[i] != b.move_pod[i] || a.move_from[i] != b.move_from[i] ||
            a.move_to[i] != b.move_to[i] || a.move_wave[i] != b.move_wave[i] ||
            a.move_gpu_mask[i] != b.move_gpu_mask[i])
            fail_msg("%s: move %d: pod %d -> %d (index) against pod %d -> %d (scan)", what, (int)i,
                     (int)a.move_pod[i], (int)a.move_to[i], (int)b.move_pod[i], (int)b.move_to[i]);
    ss_vplan_report_t *rep = calloc(1, sizeof *rep); /* and the plan checks out */
    assert_non_null(rep);
    int64_t bad = ss_verify_plan(c, &a, rep, &err);
    if (bad != 0)
        fail_msg("%s: %lld violations, first: %s", what, (long long)bad,
                 rep->n_messages ? rep->messages[0] : "?");
    free(rep);
    int64_t moves = a.n_moves;
    ss_cplan_free(&a);
    ss_cplan_free(&b);
    return moves;
}

/* A random node: mostly one of three pool shapes (classes of many nodes,
 * the pool "spot" tainted), sometimes an odd size (cpu below the index's
 * 256 rows included). */
static void random_node(ss_cluster_t *c, uint64_t *r, int i)
{
    static const int64_t cpus[3] = {8000, 16000, 16000};
    static const int64_t mems[3] = {INT64_C(32) << 30, INT64_C(64) << 30, INT64_C(64) << 30};
    char name[32];
    snprintf(name, sizeof name, "n%03d", i);
    int32_t topo[4] = {S(c, "r"), S(c, "z"), S(c, "b"), S(c, "k")};
    int32_t lb = c->n_labels, nl = 0, tb = c->n_taints, nt = 0;
    int shape = rnd(r, 4);
    int64_t cpu = shape < 3 ? cpus[shape] : 100 + 1000 * rnd(r, 20);
    int64_t mem = shape < 3 ? mems[shape] : (INT64_C(1) << 30) * (1 + rnd(r, 64));
    if (rnd(r, 2)) {
        assert_true(ss_cluster_add_label(c, S(c, "disk"), S(c, "ssd")) >= 0);
        nl = 1;
    }
    if (shape == 2) {
        assert_true(ss_cluster_add_taint(c, S(c, "spot"), S(c, "true"), SS_EFFECT_NO_SCHEDULE) >=
                    0);
        nt = 1;
    }
    assert_true(ss_cluster_add_node(c, S(c, name), topo, cpu, mem, 3 + rnd(r, 20), NULL, false, lb,
                                    nl, tb, nt, c->n_gpus, 0) >= 0);
}

/* A random running pod on a random node, where it fits. */
static void random_pod(ss_cluster_t *c, uint64_t *r, int i, int64_t *ucpu, int64_t *umem,
                       int32_t *upods)
{
    static const uint32_t kinds[] = {SS_TF_CONTROLLER,
                                     SS_TF_CONTROLLER,
                                     SS_TF_CONTROLLER,
                                     SS_TF_CONTROLLER,
                                     0,
                                     SS_TF_CONTROLLER | SS_TF_DAEMONSET};
    static const char *const apps[] = {"web", "api", "db"};
    ss_template_t t;
    memset(&t, 0, sizeof t);
    t.req.cpu_milli = 50 * rnd(r, 60);
    t.req.memory = (INT64_C(1) << 28) * rnd(r, 40);
    t.plabel_begin = c->n_labels;
    assert_true(ss_cluster_add_label(c, S(c, "app"), S(c, apps[rnd(r, 3)])) >= 0);
    t.plabel_count = 1;
    t.sel_begin = c->n_labels;
    if (rnd(r, 6) == 0) {
        assert_true(ss_cluster_add_label(c, S(c, "disk"), S(c, "ssd")) >= 0);
        t.sel_count = 1;
    }
    t.tol_begin = c->n_tolerations;
    if (rnd(r, 3) == 0) {
        assert_true(ss_cluster_add_toleration(c, S(c, "spot"), S(c, "true"), SS_TOL_EQUAL,
                                              SS_EFFECT_NO_SCHEDULE) >= 0);
        t.tol_count = 1;
    }
    t.pterm_begin = c->n_pterms;
    if (rnd(r, 8) == 0) { /* required anti-affinity to its own app on the hostname */
        const char *app = ss_cluster_strget(c, c->labels[t.plabel_begin].value);
        int32_t v = ss_cluster_add_expr_value(c, S(c, app));
        int32_t e = ss_cluster_add_expr(c, S(c, "app"), SS_OP_IN, 0, v, 1);
        assert_true(v >= 0 && e >= 0);
        ss_podterm_t pt = {
            SS_PT_ANTI_AFFINITY, 0, S(c, "kubernetes.io/hostname"), {e, 1, 0}, 0, 0, {0, 0, 1}};
        assert_true(ss_cluster_add_pterm(c, &pt) >= 0);
        t.pterm_count = 1;
    }
    t.flags = kinds[rnd(r, 6)] | SS_TF_EVICT_FACTS;
    t.workload = S(c, "w");
    int32_t ti = ss_cluster_add_template(c, &t), on = rnd(r, c->n_nodes);
    assert_true(ti >= 0);
    if (ucpu[on] + t.req.cpu_milli > c->node_cpu[on] || umem[on] + t.req.memory > c->node_mem[on] ||
        upods[on] + 1 > c->node_pods[on])
        return;
    ucpu[on] += t.req.cpu_milli;
    umem[on] += t.req.memory;
    upods[on]++;
    char name[32];
    snprintf(name, sizeof name, "p%04d", i);
    assert_true(ss_cluster_add_pod(c, S(c, name), S(c, "default"), ti, 0, -1, on, 0) >= 0);
}

static void test_random_index_equals_scan(void **state)
{
    (void)state;
    uint64_t r = 2026;
    int64_t moves = 0;
    for (int round = 0; round < 80; round++) {
        ss_cluster_t *c = ss_cluster_create();
        assert_non_null(c);
        int nn = 20 + rnd(&r, 180);
        for (int i = 0; i < nn; i++)
            random_node(c, &r, i);
        int64_t *ucpu = calloc((size_t)nn, sizeof *ucpu), *umem = calloc((size_t)nn, sizeof *umem);
        int32_t *upods = calloc((size_t)nn, sizeof *upods);
        assert_true(ucpu && umem && upods);
        int np = nn * (2 + rnd(&r, 8));
        for (int i = 0; i < np; i++)
            random_pod(c, &r, i, ucpu, umem, upods);
        free(ucpu);
        free(umem);
        free(upods);
        ss_error_t err = {{0}};
        if (ss_cluster_validate(c, &err) != 0)
            fail_msg("invalid test cluster: %s", err.text);
        ss_consolidate_opts_t o = {0};
        int32_t only[8];
        if (round % 4 == 1) {
            o.n_only = 1 + rnd(&r, 8);
            for (int i = 0; i < o.n_only; i++)
                only[i] = rnd(&r, nn);
            o.only = only;
        }
        if (round % 5 == 2)
            o.max_waves = 1 + rnd(&r, 3);
        char what[64];
        snprintf(what, sizeof what, "round %d (%d nodes)", round, nn);
        moves += same_plans(c, &o, what);
        o.targets = SS_TARGET_LEAST_ALLOCATED;
        moves += same_plans(c, &o, what);
        ss_cluster_destroy(c);
    }
    print_message("index = scan on 160 random plans, %lld moves\n", (long long)moves);
    assert_true(moves > 1000); /* the rounds exercise the search */
}

/* gen --profile fragmented: every node carries running pods and about
 * --used of its cpu (none over 1.35 x --used); the index plans it as the
 * scan does. */
static void test_fragmented_profile(void **state)
{
    (void)state;
    ss_gen_opts_t o;
    ss_gen_opts_default(&o);
    o.profile = SS_GEN_PROFILE_FRAGMENTED;
    o.nodes = 400;
    o.pods = 0;
    o.seed = 3;
    ss_error_t err = {{0}};
    ss_cluster_t *c = NULL;
    assert_int_equal(ss_gen(&o, &c, &err), 0);
    int64_t *used = calloc((size_t)c->n_nodes, sizeof *used);
    int32_t *pods = calloc((size_t)c->n_nodes, sizeof *pods);
    assert_true(used && pods);
    for (int32_t p = 0; p < c->n_pods; p++)
        if (c->pod_node[p] >= 0) {
            used[c->pod_node[p]] += c->templates[c->pod_template[p]].req.cpu_milli;
            pods[c->pod_node[p]]++;
        }
    double sum = 0;
    for (int32_t n = 0; n < c->n_nodes; n++) {
        double share = (double)used[n] / (double)c->node_cpu[n];
        if (pods[n] == 0 || share > 1.35 * o.used + 1e-9)
            fail_msg("node %d: %d running pods, %.3f of its cpu", (int)n, (int)pods[n], share);
        sum += share;
    }
    double mean = sum / c->n_nodes;
    print_message("fragmented: %d nodes, %d running pods, mean cpu share %.3f\n", c->n_nodes,
                  c->n_pods, mean);
    assert_true(mean > 0.3 && mean < 0.5);
    ss_consolidate_opts_t co = {0};
    assert_true(same_plans(c, &co, "fragmented") > 0);
    free(used);
    free(pods);
    ss_cluster_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_index_equals_scan),
        cmocka_unit_test(test_fragmented_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
