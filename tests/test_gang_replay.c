/* test_gang_replay: gangs in the time replay (jobs/ss_replay_time.c):
 * all-or-nothing placement, waiting for min_member, a gang that does not fit
 * never holding back the pods behind it, and the anti-starvation rule
 * (reservation after a wait, with backfill) on a hand-made trace where a
 * stream of one-node pods keeps a four-node gang out. The rule is described
 * in docs/gangs-and-topology.md, "Gangs over time: no starvation". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ss_replay.h"

#define GPUS 8 /* per node */

/* n nodes with 8 GPUs each and plenty of cpu and memory. */
static ss_cluster_t *cluster(int n)
{
    ss_cluster_t *c = ss_cluster_create();
    int32_t m = ss_cluster_str(c, "A100"), topo[4] = {0, 0, 0, 0};
    char name[16];
    for (int i = 0; i < n; i++) {
        int32_t g0 = c->n_gpus;
        for (int k = 0; k < GPUS; k++)
            ss_cluster_add_gpu(c, m, 1000);
        snprintf(name, sizeof name, "n%d", i);
        ss_cluster_add_node(c, ss_cluster_str(c, name), topo, 1000000, 1ll << 40, 110, NULL, false,
                            0, 0, 0, 0, g0, GPUS);
    }
    return c;
}

/* A pod asking for `gpus` whole GPUs, in group `group` (-1: none). */
static int32_t pod(ss_cluster_t *c, int gpus, int prio, int group)
{
    ss_template_t t;
    memset(&t, 0, sizeof t);
    t.req.cpu_milli = 1000;
    t.req.gpu_count = gpus;
    t.req.gpu_milli = gpus ? 1000 : 0;
    char name[16];
    snprintf(name, sizeof name, "p%d", c->n_pods);
    return ss_cluster_add_pod(c, ss_cluster_str(c, name), 0, ss_cluster_add_template(c, &t), prio,
                              group, -1, 0);
}

static ss_time_result_t *run(const ss_cluster_t *c, const ss_trace_t *t, int64_t wait)
{
    ss_time_opts_t o = {"fgd", 1, 1, NULL, NULL};
    ss_time_gang_opts_t go = {wait};
    ss_time_result_t *r = NULL;
    ss_error_t err;
    int rc = ss_replay_time_gangs(c, t, &o, &go, &r, &err);
    if (rc)
        fail_msg("replay: %s", err.text);
    return r;
}

/* No gang is ever partly placed: a placed gang has min_member pods that
 * started in the batch it was placed, and none started before; a gang never
 * placed has no pod that ever started (these traces have no evictions). */
static void check_all_or_nothing(const ss_cluster_t *c, const ss_time_result_t *r)
{
    assert_int_equal(r->n_groups, c->n_groups);
    for (int32_t g = 0; g < c->n_groups; g++) {
        int32_t at_start = 0;
        for (int32_t p = 0; p < c->n_pods; p++) {
            if (c->pod_group[p] != g)
                continue;
            if (r->group_start[g] < 0)
                assert_int_equal(r->pod_start[p], -1);
            else
                assert_false(r->pod_start[p] >= 0 && r->pod_start[p] < r->group_start[g]);
            at_start += r->group_start[g] >= 0 && r->pod_start[p] == r->group_start[g];
        }
        if (r->group_start[g] >= 0) {
            assert_int_equal(r->group_status[g], SS_GANG_PLACED);
            assert_true(at_start >= c->group_min_member[g]);
        }
    }
}

/* The starvation scenario. Four 8-GPU nodes. Gang "train": four 8-GPU pods
 * (min_member 4) arriving at 50 and deleted at gang_del. Stream: s0..s30,
 * one whole node each, s_i alive [100 i, 100 i + 300): three run at once, so
 * never four nodes are free while it lasts (it ends at 3300). b0: one node,
 * alive [810, 860), short enough to backfill. Pod indices: gang 0..3,
 * s_i = 4 + i, b0 = 35. */
enum { N_STREAM = 31, S0 = 4, B0 = S0 + N_STREAM };

static void stream(int64_t gang_del, ss_cluster_t **cp, ss_trace_t **tp)
{
    ss_cluster_t *c = cluster(4);
    int32_t g =
        ss_cluster_add_group(c, ss_cluster_str(c, "train"), 4, SS_TOPO_NODE, SS_TOPO_MODE_NONE);
    for (int i = 0; i < 4; i++)
        pod(c, GPUS, 0, g);
    for (int i = 0; i < N_STREAM; i++)
        pod(c, GPUS, 0, -1);
    pod(c, GPUS, 0, -1);
    assert_int_equal(ss_cluster_validate(c, NULL), 0);
    ss_trace_t *t = ss_trace_create(c->n_pods, 0);
    for (int i = 0; i < 4; i++) {
        t->creation[i] = 50;
        t->deletion[i] = gang_del;
    }
    for (int i = 0; i < N_STREAM; i++) {
        t->creation[S0 + i] = 100 * i;
        t->deletion[S0 + i] = 100 * i + 300;
    }
    t->creation[B0] = 810;
    t->deletion[B0] = 860;
    *cp = c;
    *tp = t;
}

static void test_ss_replay_time_gangs_no_starvation(void **state)
{
    (void)state;
    static const struct {
        int64_t wait, gang_del; /* inputs */
        int64_t resv, start;    /* the gang's reservation start and start, -1 none */
        int64_t never_placed;
        int64_t s8_start, b0_start;
    } rows[] = {
        /* no rule: the stream keeps the gang out until its pods are deleted... */
        {0, 1400, -1, -1, 4, 801, 811},
        /* ...or, if they live long enough, until the stream has ended */
        {0, 9000, -1, 3301, 0, 801, 811},
        /* rule, W = 600: waited 650 s at 701, reserved all 4 nodes from 1001
         * (when s5, s6, s7 have left); s8 (leaves 1100) is kept off the node
         * s5 frees at 801, b0 (leaves 860) is backfilled onto it; s8..s11 are
         * deleted while the gang runs; s12 on run again */
        {600, 1400, 1001, 1001, 4, -1, 811},
        {600, 9000, 1001, 1001, 23, -1, 811},
        /* rule, W = 300: reserved at 401 for 701; s5..s11 and b0 are lost */
        {300, 1400, 701, 701, 8, -1, -1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        ss_cluster_t *c;
        ss_trace_t *t;
        stream(rows[i].gang_del, &c, &t);
        ss_time_result_t *r = run(c, t, rows[i].wait);
        check_all_or_nothing(c, r);
        assert_int_equal(r->group_ready[0], rows[i].start >= 0 ? 51 : -1); /* -1: they left */
        assert_int_equal(r->group_resv_start[0], rows[i].resv);
        assert_int_equal(r->group_start[0], rows[i].start);
        assert_int_equal(r->reservations, rows[i].resv >= 0);
        assert_int_equal(r->gangs_placed, rows[i].start >= 0);
        assert_int_equal(r->group_status[0], rows[i].start >= 0 ? SS_GANG_PLACED : SS_GANG_WAITING);
        assert_int_equal(r->never_placed, rows[i].never_placed);
        assert_int_equal(r->pod_start[S0 + 8], rows[i].s8_start);
        assert_int_equal(r->pod_start[B0], rows[i].b0_start);
        if (rows[i].start >= 0 && rows[i].wait > 0)
            assert_true(r->group_start[0] <= r->group_resv_start[0]);
        /* the stream before the reservation and after the gang ran as usual */
        assert_int_equal(r->pod_start[S0 + 0], 1);
        assert_int_equal(r->pod_start[S0 + 4], 401);
        ss_time_result_destroy(r);
        ss_trace_destroy(t);
        ss_cluster_destroy(c);
    }
}

static void test_ss_replay_time_gangs_never_fits_does_not_block(void **state)
{
    (void)state;
    /* four nodes. At 0: gang "huge" (five whole nodes, priority 10, first in
     * the queue) and three one-node pods (priority 0, leave at 100). At 10:
     * gang "pair" (two whole nodes, priority 10) that does not fit yet, and a
     * one-node pod behind it. At 50: one more one-node pod. */
    ss_cluster_t *c = cluster(4);
    int32_t huge = ss_cluster_add_group(c, ss_cluster_str(c, "huge"), 5, SS_TOPO_NODE, 0);
    int32_t pair = ss_cluster_add_group(c, ss_cluster_str(c, "pair"), 2, SS_TOPO_NODE, 0);
    for (int i = 0; i < 5; i++)
        pod(c, GPUS, 10, huge); /* 0..4 */
    for (int i = 0; i < 3; i++)
        pod(c, GPUS, 0, -1); /* 5..7 */
    pod(c, GPUS, 10, pair);  /* 8 */
    pod(c, GPUS, 10, pair);  /* 9 */
    pod(c, GPUS, 0, -1);     /* 10 */
    pod(c, GPUS, 0, -1);     /* 11 */
    assert_int_equal(ss_cluster_validate(c, NULL), 0);
    ss_trace_t *t = ss_trace_create(c->n_pods, 0);
    for (int p = 0; p < c->n_pods; p++) {
        t->creation[p] = p < 8 ? 0 : p < 11 ? 10 : 50;
        t->deletion[p] = p >= 5 && p <= 7 ? 100 : p == 11 ? 500 : 1000;
    }
    ss_time_result_t *r = run(c, t, 1); /* reservations after 1 s: never for "huge" */
    check_all_or_nothing(c, r);
    for (int p = 5; p <= 7; p++)
        assert_int_equal(r->pod_start[p], 1); /* not held back by "huge" */
    assert_int_equal(r->pod_start[10], 11);   /* not held back by "pair" */
    assert_int_equal(r->group_status[huge], SS_GANG_NEVER_FITS);
    assert_int_equal(r->group_fit_empty[huge], 4);
    assert_int_equal(r->group_resv_start[huge], -1);
    assert_int_equal(r->gangs_never_fit, 1);
    char why[200];
    assert_int_equal(ss_time_gang_reason(r, c, huge, why, sizeof why), SS_GANG_NEVER_FITS);
    assert_string_equal(why, "gang 'huge': unschedulable: only 4 of min_member 5 pods fit on "
                             "the empty cluster");
    /* "pair", waiting since 11, is reserved at 51 for 101 (when pods 5..7
     * leave) and starts then; pod 11 (arrived at 50) takes the third node */
    assert_int_equal(r->group_status[pair], SS_GANG_PLACED);
    assert_int_equal(r->group_ready[pair], 11);
    assert_int_equal(r->group_resv_start[pair], 101);
    assert_int_equal(r->group_start[pair], 101);
    assert_int_equal(r->pod_start[11], 101);
    assert_int_equal(r->never_placed, 5);
    assert_int_equal(ss_time_gang_reason(r, c, pair, why, sizeof why), SS_GANG_PLACED);
    assert_string_equal(why, "gang 'pair': placed at 101 s");
    ss_time_result_destroy(r);
    ss_trace_destroy(t);
    ss_cluster_destroy(c);
}

static void test_ss_replay_time_gangs_wait_for_min_member(void **state)
{
    (void)state;
    /* min_member 3 of 4; members arrive at 0, 0, 100, 200 on an empty
     * cluster: none starts before the third has come; the fourth, after the
     * gang started, is placed like an ordinary pod */
    ss_cluster_t *c = cluster(4);
    int32_t g = ss_cluster_add_group(c, ss_cluster_str(c, "g"), 3, SS_TOPO_NODE, 0);
    for (int i = 0; i < 4; i++)
        pod(c, 4, 0, g);
    ss_trace_t *t = ss_trace_create(4, 0);
    const int64_t created[] = {0, 0, 100, 200}, want[] = {101, 101, 101, 201};
    for (int p = 0; p < 4; p++) {
        t->creation[p] = created[p];
        t->deletion[p] = 1000;
    }
    ss_time_result_t *r = run(c, t, 0);
    check_all_or_nothing(c, r);
    for (int p = 0; p < 4; p++)
        assert_int_equal(r->pod_start[p], want[p]);
    assert_int_equal(r->group_ready[g], 101);
    assert_int_equal(r->pending[0], 2); /* the two first pods waited at batch 1 */
    ss_time_result_destroy(r);
    /* a gang that never has min_member pods waiting at once is "incomplete" */
    t->deletion[0] = t->deletion[1] = 150;
    t->creation[2] = 160;
    t->deletion[2] = 170;
    r = run(c, t, 600);
    check_all_or_nothing(c, r);
    assert_int_equal(r->group_status[g], SS_GANG_INCOMPLETE);
    char why[200];
    assert_int_equal(ss_time_gang_reason(r, c, g, why, sizeof why), SS_GANG_INCOMPLETE);
    assert_non_null(strstr(why, "never had min_member 3"));
    ss_time_result_destroy(r);
    ss_trace_destroy(t);
    ss_cluster_destroy(c);
}

static void test_ss_replay_time_gangs_bad_input(void **state)
{
    (void)state;
    ss_cluster_t *c = cluster(1);
    pod(c, 1, 0, -1);
    ss_trace_t *t = ss_trace_create(1, 0);
    t->deletion[0] = 10;
    ss_time_opts_t o = {"fgd", 1, 1, NULL, NULL};
    ss_time_gang_opts_t go = {-1};
    ss_time_result_t *r;
    ss_error_t err;
    assert_int_equal(ss_replay_time_gangs(c, t, &o, &go, &r, &err), SS_EINVAL);
    assert_null(r);
    assert_non_null(strstr(err.text, "reservation wait"));
    assert_int_equal(ss_replay_time_gangs(c, t, &o, NULL, &r, &err), 0); /* defaults */
    char why[64];
    assert_int_equal(ss_time_gang_reason(r, c, 0, why, sizeof why), SS_EINVAL); /* no group 0 */
    assert_string_equal(why, "");
    assert_null(ss_gang_status_name(4));
    assert_string_equal(ss_gang_status_name(SS_GANG_NEVER_FITS), "never-fits");
    ss_time_result_destroy(r);
    ss_trace_destroy(t);
    ss_cluster_destroy(c);
}

static uint64_t lcg(uint64_t *x)
{
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return *x >> 33;
}

static void test_ss_replay_time_gangs_random_all_or_nothing(void **state)
{
    (void)state;
    /* random gangs (2..6 pods of 4 or 8 GPUs, min_member = size or one
     * less) and single pods (1..8 GPUs), three priorities, on 6 nodes; with
     * and without the rule: no gang partly placed, runs repeat exactly */
    int64_t reservations = 0, gangs_placed = 0, never_fit = 0;
    for (uint64_t seed = 1; seed <= 30; seed++) {
        uint64_t x = seed;
        ss_cluster_t *c = cluster(6);
        ss_trace_t *t = ss_trace_create(200, 0);
        while (c->n_pods < 180) {
            int64_t at = (int64_t)(lcg(&x) % 5000), life = 50 + (int64_t)(lcg(&x) % 2000);
            int prio = (int)(lcg(&x) % 3);
            if (lcg(&x) % 4 == 0) {
                int size = 2 + (int)(lcg(&x) % 5), gpus = lcg(&x) % 2 ? 4 : 8;
                char name[16];
                snprintf(name, sizeof name, "g%d", c->n_groups);
                int32_t g = ss_cluster_add_group(c, ss_cluster_str(c, name),
                                                 size - (int)(lcg(&x) % 2), SS_TOPO_NODE, 0);
                for (int k = 0; k < size; k++) {
                    int32_t p = pod(c, gpus, prio, g);
                    t->creation[p] = at + (int64_t)(lcg(&x) % 30);
                    t->deletion[p] = t->creation[p] + life;
                }
            } else {
                int32_t p = pod(c, 1 + (int)(lcg(&x) % GPUS), prio, -1);
                t->creation[p] = at;
                t->deletion[p] = at + life;
            }
        }
        t->n_pods = c->n_pods;
        assert_int_equal(ss_cluster_validate(c, NULL), 0);
        for (int64_t wait = 0; wait <= 300; wait += 300) {
            ss_time_result_t *a = run(c, t, wait), *b = run(c, t, wait);
            check_all_or_nothing(c, a);
            assert_int_equal(a->n, b->n);
            assert_memory_equal(a->pod_start, b->pod_start, (size_t)c->n_pods * 8);
            assert_memory_equal(a->group_start, b->group_start, (size_t)c->n_groups * 8);
            assert_int_equal(a->placed + a->never_placed, c->n_pods);
            if (!wait)
                assert_int_equal(a->reservations, 0);
            reservations += a->reservations;
            gangs_placed += a->gangs_placed;
            never_fit += a->gangs_never_fit;
            ss_time_result_destroy(a);
            ss_time_result_destroy(b);
        }
        ss_trace_destroy(t);
        ss_cluster_destroy(c);
    }
    print_message("random: %lld gang placements, %lld reservations, %lld never fit\n",
                  (long long)gangs_placed, (long long)reservations, (long long)never_fit);
    assert_true(reservations > 0 && gangs_placed > 0); /* the cases are not vacuous */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ss_replay_time_gangs_no_starvation),
        cmocka_unit_test(test_ss_replay_time_gangs_never_fits_does_not_block),
        cmocka_unit_test(test_ss_replay_time_gangs_wait_for_min_member),
        cmocka_unit_test(test_ss_replay_time_gangs_bad_input),
        cmocka_unit_test(test_ss_replay_time_gangs_random_all_or_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
