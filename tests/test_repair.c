/* test_repair: `schedule --repair` (engine/ss_repair.c): hand-computed
 * cases where greedy strands a pod and moves fix it, cases where the move
 * must not happen (a higher-priority pod, a gang member, a hard spread
 * selector's pod), and a property test on generated clusters: the repaired
 * plan verifies clean in commit order and places at least greedy's pods. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "golden_build.h"
#include "ss_exhaustive.h"
#include "ss_gen.h"
#include "ss_placements.h"
#include "ss_policy.h"
#include "ss_queue.h"
#include "ss_reason.h"
#include "ss_repair.h"
#include "ss_verify.h"

/* A "greedy" plan written by hand: node[i] for the i-th pending pod (-1:
 * unplaced, reason cpu), seq in row order. */
static ss_placements_t *plan(const ss_cluster_t *c, const int32_t *node)
{
    int32_t n = 0;
    for (int32_t p = 0; p < c->n_pods; p++)
        n += c->pod_node[p] < 0;
    ss_placements_t *pl = ss_placements_create(n);
    assert_non_null(pl);
    int32_t i = 0, seq = 0;
    for (int32_t p = 0; p < c->n_pods; p++) {
        if (c->pod_node[p] >= 0)
            continue;
        pl->pod[i] = p;
        pl->node[i] = node[i];
        pl->reason[i] = node[i] >= 0 ? SS_REASON_NONE : SS_REASON_CPU;
        pl->seq[i] = node[i] >= 0 ? seq++ : -1;
        i++;
    }
    return pl;
}

/* Repairs pl; returns the stats. Checks the plan verifies clean. */
static ss_repair_stats_t repair(const ss_cluster_t *c, ss_placements_t *pl)
{
    ss_error_t err = {{0}};
    ss_queue_t *q = ss_queue_build(c, &err);
    assert_non_null(q);
    ss_repair_stats_t st;
    assert_int_equal(ss_repair_run(c, q->order, q->units, q->n_units, NULL, pl, &st, &err), 0);
    ss_queue_destroy(q);
    ss_verify_report_t rep;
    int64_t v = ss_verify(c, pl, &rep, &err);
    if (v)
        ss_verify_print_violations(stdout, &rep);
    ss_verify_report_free(&rep);
    assert_int_equal(v, 0);
    return st;
}

static const gnode_t two_nodes[] = {
    {"n1", 4000, 16, 0, "", "", ""}, {"n2", 4000, 16, 0, "", "", ""}, {NULL, 0, 0, 0, 0, 0, 0}};

/* Least-allocated greedy: a (2) on n1, b (2) on n2, c (3) fits nowhere.
 * Repair: c takes n1 by moving a to n2 (a keeps its seq, c takes the next). */
static void test_one_move(void **state)
{
    (void)state;
    const gpod_t pods[] = {{.name = "a", .cpu_m = 2000, .mem_g = 1},
                           {.name = "b", .cpu_m = 2000, .mem_g = 1},
                           {.name = "c", .cpu_m = 3000, .mem_g = 1},
                           {0}};
    ss_cluster_t *c = gb_cluster(two_nodes, pods);
    const int32_t greedy[] = {0, 1, -1};
    ss_placements_t *pl = plan(c, greedy);
    ss_repair_stats_t st = repair(c, pl);
    assert_int_equal(st.stranded, 1);
    assert_int_equal(st.added, 1);
    assert_int_equal(st.moved, 1);
    assert_int_equal(pl->node[2], 0); /* c on n1 */
    assert_int_equal(pl->node[0], 1); /* a moved to n2 */
    assert_int_equal(pl->node[1], 1);
    assert_int_equal(pl->seq[0], 0);
    assert_int_equal(pl->seq[2], 2);
    assert_int_equal(pl->reason[2], SS_REASON_NONE);
    ss_placements_destroy(pl);
    ss_cluster_destroy(c);
}

/* Two pods must leave one node together; and a case where nothing fits. */
static void test_pair_move(void **state)
{
    (void)state;
    const gpod_t pods[] = {
        {.name = "a", .cpu_m = 2000, .mem_g = 1}, {.name = "b", .cpu_m = 1000, .mem_g = 1},
        {.name = "d", .cpu_m = 1000, .mem_g = 1}, {.name = "e", .cpu_m = 2000, .mem_g = 1},
        {.name = "c", .cpu_m = 3000, .mem_g = 1}, {0}};
    ss_cluster_t *c = gb_cluster(two_nodes, pods);
    /* a on n1, b on n2, d on n2, e on n1: both full but n2's two 1-cpu pods
     * could not move singly anywhere (n1 full) */
    const int32_t greedy[] = {0, 1, 1, 0, -1};
    ss_placements_t *pl = plan(c, greedy);
    ss_repair_stats_t st = repair(c, pl);
    assert_int_equal(st.added, 0); /* 12 cpu of pods on 8: nothing can fit c */
    ss_placements_destroy(pl);
    ss_cluster_destroy(c);

    /* b, d, a (1 each) on n1 (1 free), e (2) on n2 (2 free): c (3) fits only
     * where two 1-cpu pods leave n1 together for n2; no single move does */
    const gpod_t pods2[] = {
        {.name = "b", .cpu_m = 1000, .mem_g = 1}, {.name = "d", .cpu_m = 1000, .mem_g = 1},
        {.name = "a", .cpu_m = 1000, .mem_g = 1}, {.name = "e", .cpu_m = 2000, .mem_g = 1},
        {.name = "c", .cpu_m = 3000, .mem_g = 1}, {0}};
    c = gb_cluster(two_nodes, pods2);
    const int32_t greedy2[] = {0, 0, 0, 1, -1};
    pl = plan(c, greedy2);
    st = repair(c, pl);
    assert_int_equal(st.added, 1);
    assert_int_equal(st.moved, 2);
    assert_int_equal(pl->node[4], 0);
    assert_int_equal(pl->node[3], 1);
    assert_int_equal((pl->node[0] == 0) + (pl->node[1] == 0) + (pl->node[2] == 0), 1);
    ss_placements_destroy(pl);
    ss_cluster_destroy(c);
}

/* a and b (priority 10) fill both nodes; c (priority 0) fits only on a node
 * one of them left. */
static const gpod_t prio_pods[] = {{.name = "a", .prio = 10, .cpu_m = 2000, .mem_g = 1},
                                   {.name = "b", .prio = 10, .cpu_m = 2000, .mem_g = 1},
                                   {.name = "c", .prio = 0, .cpu_m = 3000, .mem_g = 1},
                                   {0}};

/* a and b have a higher priority than c: they stay; nothing is added. */
static void test_no_higher_priority(void **state)
{
    (void)state;
    ss_cluster_t *c = gb_cluster(two_nodes, prio_pods);
    const int32_t greedy[] = {0, 1, -1};
    ss_placements_t *pl = plan(c, greedy);
    ss_repair_stats_t st = repair(c, pl);
    assert_int_equal(st.added, 0);
    assert_int_equal(pl->node[0], 0);
    assert_int_equal(pl->node[1], 1);
    assert_int_equal(pl->node[2], -1);
    assert_int_equal(pl->reason[2], SS_REASON_CPU);
    ss_placements_destroy(pl);
    ss_cluster_destroy(c);
}

/* c (4 cpu) needs n1 cleared of its three 1-cpu pods; n2 (a running pod
 * of 1) takes all three. */
static void test_clear_node(void **state)
{
    (void)state;
    const gpod_t pods[] = {{.name = "e", .cpu_m = 1000, .mem_g = 1, .on = "n2"},
                           {.name = "a", .cpu_m = 1000, .mem_g = 1},
                           {.name = "b", .cpu_m = 1000, .mem_g = 1},
                           {.name = "d", .cpu_m = 1000, .mem_g = 1},
                           {.name = "c", .cpu_m = 4000, .mem_g = 1},
                           {0}};
    ss_cluster_t *c = gb_cluster(two_nodes, pods);
    const int32_t greedy[] = {0, 0, 0, -1};
    ss_placements_t *pl = plan(c, greedy);
    ss_repair_stats_t st = repair(c, pl);
    assert_int_equal(st.added, 1);
    assert_int_equal(st.moved, 3);
    assert_int_equal(pl->node[3], 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pl->node[i], 1);
        assert_int_equal(pl->seq[i], i);
    }
    ss_placements_destroy(pl);
    ss_cluster_destroy(c);
}

/* The second pass of any_priority moves a and b (priority 10) for c. */
static void test_any_priority(void **state)
{
    (void)state;
    ss_cluster_t *c = gb_cluster(two_nodes, prio_pods);
    const int32_t greedy[] = {0, 1, -1};
    ss_placements_t *pl = plan(c, greedy);
    ss_error_t err = {{0}};
    ss_queue_t *q = ss_queue_build(c, &err);
    ss_repair_opts_t o;
    ss_repair_opts_default(&o);
    o.any_priority = 1;
    ss_repair_stats_t st;
    assert_int_equal(ss_repair_run(c, q->order, q->units, q->n_units, &o, pl, &st, &err), 0);
    assert_int_equal(st.added, 1);
    assert_int_equal(st.candidates, 1);
    assert_int_equal(pl->node[2], 0);
    assert_int_equal(pl->node[0], 1);
    assert_int_equal(pl->node[1], 1);
    assert_int_equal(pl->seq[2], 2);
    ss_queue_destroy(q);
    ss_placements_destroy(pl);
    ss_cluster_destroy(c);
}

/* A stranded gang placed whole: two 4-cpu members on n1 and n3 once x and
 * z join y on n2. */
static void test_gang_whole(void **state)
{
    (void)state;
    const gnode_t three[] = {{"n1", 4000, 16, 0, "", "", ""},
                             {"n2", 4000, 16, 0, "", "", ""},
                             {"n3", 4000, 16, 0, "", "", ""},
                             {NULL, 0, 0, 0, 0, 0, 0}};
    const gpod_t pods[] = {
        {.name = "x", .cpu_m = 1000, .mem_g = 1},
        {.name = "y", .cpu_m = 1000, .mem_g = 1},
        {.name = "z", .cpu_m = 1000, .mem_g = 1},
        {.name = "g", .count = 2, .cpu_m = 4000, .mem_g = 1, .group = "g", .min_member = 2},
        {0}};
    ss_cluster_t *c = gb_cluster(three, pods);
    const int32_t greedy[] = {0, 1, 2, -1, -1};
    ss_placements_t *pl = plan(c, greedy);
    ss_repair_stats_t st = repair(c, pl);
    assert_int_equal(st.added, 2);
    assert_int_equal(st.candidates, 2);
    assert_true(pl->node[3] >= 0 && pl->node[4] >= 0 && pl->node[3] != pl->node[4]);
    assert_int_equal(pl->seq[3], 3);
    assert_int_equal(pl->seq[4], 4);
    ss_placements_destroy(pl);
    ss_cluster_destroy(c);
}

/* a and b are one gang: never moved (c stays stranded); a running pod
 * never moves either. */
static void test_no_gang_no_running(void **state)
{
    (void)state;
    const gpod_t pods[] = {{.name = "a", .cpu_m = 2000, .mem_g = 1, .group = "g", .min_member = 2},
                           {.name = "b", .cpu_m = 2000, .mem_g = 1, .group = "g", .min_member = 2},
                           {.name = "c", .cpu_m = 3000, .mem_g = 1},
                           {0}};
    ss_cluster_t *c = gb_cluster(two_nodes, pods);
    const int32_t greedy[] = {0, 1, -1};
    ss_placements_t *pl = plan(c, greedy);
    ss_repair_stats_t st = repair(c, pl);
    assert_int_equal(st.added, 0);
    assert_int_equal(pl->node[0], 0);
    assert_int_equal(pl->node[1], 1);
    ss_placements_destroy(pl);
    ss_cluster_destroy(c);

    const gpod_t run[] = {{.name = "a", .cpu_m = 2000, .mem_g = 1, .on = "n1"},
                          {.name = "b", .cpu_m = 2000, .mem_g = 1, .on = "n2"},
                          {.name = "c", .cpu_m = 3000, .mem_g = 1},
                          {0}};
    c = gb_cluster(two_nodes, run);
    const int32_t g2[] = {-1};
    pl = plan(c, g2);
    st = repair(c, pl);
    assert_int_equal(st.added, 0);
    ss_placements_destroy(pl);
    ss_cluster_destroy(c);
}

/* b's labels are selected by a DoNotSchedule spread of another template:
 * moving b could break that rule at its commit position, so b stays; a
 * stranded gang is placed whole (both members) when a move makes room. */
static void test_no_spread_target(void **state)
{
    (void)state;
    const gpod_t pods[] = {{.name = "a", .prio = 10, .cpu_m = 2000, .mem_g = 1},
                           {.name = "b", .cpu_m = 2000, .mem_g = 1},
                           {.name = "c", .cpu_m = 3000, .mem_g = 1},
                           {0}};
    ss_cluster_t *c = gb_cluster(two_nodes, pods);
    /* give b the label app=web and template a a spread selecting it */
    int32_t key = ss_cluster_str(c, "app"), val = ss_cluster_str(c, "web");
    int32_t lb = c->n_labels;
    ss_cluster_add_label(c, key, val);
    ss_template_t *tb = &c->templates[c->pod_template[1]];
    tb->plabel_begin = lb;
    tb->plabel_count = 1;
    int32_t eb = c->n_exprs, vb = c->n_expr_values;
    ss_cluster_add_expr_value(c, val);
    ss_cluster_add_expr(c, key, SS_OP_IN, 0, vb, 1);
    ss_spread_t sp = {1,
                      ss_cluster_str(c, "kubernetes.io/hostname"),
                      SS_WHEN_DO_NOT_SCHEDULE,
                      1,
                      SS_INCL_HONOR,
                      SS_INCL_IGNORE,
                      {eb, 1, 0}};
    ss_template_t *ta = &c->templates[c->pod_template[0]];
    ta->spread_begin = c->n_spreads;
    ta->spread_count = 1;
    ss_cluster_add_spread(c, &sp);
    ss_error_t err = {{0}};
    assert_int_equal(ss_cluster_validate(c, &err), 0);
    const int32_t greedy[] = {0, 1, -1};
    ss_placements_t *pl = plan(c, greedy);
    ss_repair_stats_t st = repair(c, pl);
    assert_int_equal(st.added, 0);
    assert_int_equal(pl->node[1], 1);
    ss_placements_destroy(pl);
    ss_cluster_destroy(c);

    /* the gang case: x (2) on n1, y (2) on n2; gang g of two 3-cpu pods
     * cannot be placed; with one node of 4 and x, y movable onto n3 (4). */
    const gnode_t three[] = {{"n1", 4000, 16, 0, "", "", ""},
                             {"n2", 4000, 16, 0, "", "", ""},
                             {"n3", 4000, 16, 0, "", "", ""},
                             {NULL, 0, 0, 0, 0, 0, 0}};
    const gpod_t gp[] = {
        {.name = "x", .cpu_m = 2000, .mem_g = 1},
        {.name = "y", .cpu_m = 2000, .mem_g = 1},
        {.name = "z", .cpu_m = 3000, .mem_g = 1},
        {.name = "g", .count = 2, .cpu_m = 3000, .mem_g = 1, .group = "g", .min_member = 2},
        {0}};
    c = gb_cluster(three, gp);
    const int32_t g3[] = {0, 1, 2, -1, -1};
    pl = plan(c, g3);
    st = repair(c, pl);
    /* x, y together on one node frees another: one gang member fits, the
     * other does not: the gang stays out, every move undone */
    assert_int_equal(st.added, 0);
    assert_int_equal(pl->node[0], 0);
    assert_int_equal(pl->node[1], 1);
    assert_int_equal(pl->node[2], 2);
    ss_placements_destroy(pl);
    ss_cluster_destroy(c);
}

/* Generated clusters, greedy = the naive reference: the repaired plan
 * verifies clean (ss_repair_run's own check is off here, so a violation
 * would show) and places at least as many pods. */
static void test_property(void **state)
{
    (void)state;
    const ss_policy_t *pol = ss_policy_find("least-allocated");
    int32_t added = 0;
    for (int rules = 0; rules < 2; rules++)
        for (uint64_t seed = 1; seed <= 4; seed++) {
            ss_gen_opts_t go;
            ss_gen_opts_default(&go);
            go.nodes = 40;
            go.pods = 400;
            go.seed = seed;
            go.rules = rules ? SS_GEN_RULES_DEFAULT : SS_GEN_RULES_NONE;
            ss_cluster_t *c = NULL;
            ss_error_t err = {{0}};
            assert_int_equal(ss_gen(&go, &c, &err), 0);
            ss_queue_t *q = ss_queue_build(c, &err);
            ss_placements_t *pl = ss_placements_create(q->n_order);
            assert_int_equal(
                ss_exhaustive_run_opts(c, pol, q->order, q->units, q->n_units, NULL, pl, &err), 0);
            int32_t before = 0, after = 0;
            for (int32_t i = 0; i < pl->n; i++)
                before += pl->node[i] >= 0;
            ss_repair_opts_t ro;
            ss_repair_opts_default(&ro);
            ro.verify = 0;
            ss_repair_stats_t st;
            assert_int_equal(ss_repair_run(c, q->order, q->units, q->n_units, &ro, pl, &st, &err),
                             0);
            for (int32_t i = 0; i < pl->n; i++)
                after += pl->node[i] >= 0;
            assert_int_equal(after, before + st.added);
            assert_true(after >= before);
            ss_verify_report_t rep;
            int64_t v = ss_verify(c, pl, &rep, &err);
            if (v)
                ss_verify_print_violations(stdout, &rep);
            ss_verify_report_free(&rep);
            assert_int_equal(v, 0);
            added += st.added;
            ss_placements_destroy(pl);
            ss_queue_destroy(q);
            ss_cluster_destroy(c);
        }
    printf("property: repair added %d pods over 8 clusters\n", added);
    assert_true(added > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_move),           cmocka_unit_test(test_pair_move),
        cmocka_unit_test(test_clear_node),         cmocka_unit_test(test_no_higher_priority),
        cmocka_unit_test(test_no_gang_no_running), cmocka_unit_test(test_any_priority),
        cmocka_unit_test(test_gang_whole),         cmocka_unit_test(test_no_spread_target),
        cmocka_unit_test(test_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
