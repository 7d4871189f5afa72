/* test_fgd: node fragmentation and every policy's integer score on small
 * hand-computed nodes (engine/ss_fgd*.c), plus the filter (the registry is
 * tests/test_policy.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "ss_fgd.h"

/* A cluster of nodes with the given cpu and GPU counts (model "V100"). */
static ss_cluster_t *make_cluster(int n, const int64_t *cpu, const int32_t *gpus)
{
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    int32_t m = ss_cluster_str(c, "V100"), topo[4] = {0, 0, 0, 0};
    char name[16];
    for (int i = 0; i < n; i++) {
        int32_t g0 = c->n_gpus;
        for (int k = 0; k < gpus[i]; k++)
            ss_cluster_add_gpu(c, m, 1000);
        snprintf(name, sizeof name, "n%d", i);
        ss_cluster_add_node(c, ss_cluster_str(c, name), topo, cpu[i], 1ll << 40, 110, NULL, false,
                            0, 0, 0, 0, g0, gpus[i]);
    }
    return c;
}

static ss_fgd_pod_t pod(int64_t cpu, int32_t num, int32_t milli)
{
    ss_fgd_pod_t p = {cpu, 0, num, milli, 0, 0};
    return p;
}

static void test_ss_fgd_frag_hand_example(void **state)
{
    (void)state;
    int64_t cpu[] = {10000};
    int32_t gpus[] = {2};
    ss_cluster_t *c = make_cluster(1, cpu, gpus);
    ss_fgd_state_t *s;
    assert_int_equal(ss_fgd_state_create(c, &s, NULL), 0);
    /* typical pods: A (1 cpu, 0.5 GPU) x3, a CPU pod, C (20 cpu, 1 GPU) */
    ss_fgd_pod_t typ[] = {pod(1000, 1, 500), pod(1000, 1, 500), pod(1000, 1, 500), pod(2000, 0, 0),
                          pod(20000, 1, 1000)};
    assert_int_equal(ss_fgd_set_typical(s, typ, 5, false, NULL), 0);
    assert_int_equal(s->n_typical, 3);
    assert_int_equal(s->typical_denom, 5);
    /* idle node: A fits, nothing unusable; CPU pod and C (cpu) count all 2000 */
    assert_int_equal(s->frag[0], 0 * 3 + 2000 + 2000);
    /* GPUs [1000, 300]: A can't use the 300 -> 3*300; the others all 1300 */
    ss_fgd_pod_t seven = pod(0, 1, 700);
    ss_fgd_apply(s, 0, &seven, 2, +1);
    assert_int_equal(s->frag[0], 3 * 300 + 1300 + 1300);
    assert_int_equal(s->frag_total, 3500);
    /* fragmentation rate: 700 milli fragmented of 1300 idle */
    assert_true(fabs(ss_fgd_frag_rate(s) - 100.0 * 700.0 / 1300.0) < 1e-9);
    ss_fgd_apply(s, 0, &seven, 2, -1); /* release restores */
    assert_int_equal(s->frag[0], 4000);
    ss_fgd_state_destroy(s);
    ss_cluster_destroy(c);
}

/* Node X: 64 cores, 4 GPUs with free [1000, 1000, 600, 200], 8 cores used by
 * two shared pods. */
static ss_fgd_state_t *node_x(ss_cluster_t **cout)
{
    int64_t cpu[] = {64000, 64000};
    int32_t gpus[] = {4, 8};
    ss_cluster_t *c = make_cluster(2, cpu, gpus);
    ss_fgd_state_t *s;
    assert_int_equal(ss_fgd_state_create(c, &s, NULL), 0);
    ss_fgd_pod_t a = pod(4000, 1, 400), b = pod(4000, 1, 800);
    ss_fgd_apply(s, 0, &a, 1u << 2, +1);
    ss_fgd_apply(s, 0, &b, 1u << 3, +1);
    *cout = c;
    return s;
}

static void test_ss_fgd_scores_hand_computed(void **state)
{
    (void)state;
    ss_cluster_t *c;
    ss_fgd_state_t *s = node_x(&c);
    ss_fgd_pod_t p = pod(4000, 1, 500), two = pod(4000, 2, 1000), cpu = pod(1000, 0, 0);
    int32_t g;
    /* dot = 56/128*4/128 + 2.8/8*0.5/8 = 0.035546875 -> int(100*(1-dot/2)) = 98 */
    assert_int_equal(ss_fgd_score_dotprod(s, 0, &p, &g), 98);
    /* r = 0.5*52/128 + 0.5*2.3/8 = 0.346875 -> 65 */
    assert_int_equal(ss_fgd_score_bestfit(s, 0, &p, &g), 65);
    /* tightest fitting GPU has 600 free: 100 - (600*100/1000)/10 = 94 */
    assert_int_equal(ss_fgd_score_packing(s, 0, &p, &g), 94);
    /* two fully free GPUs on a used node: 50 - 2 */
    assert_int_equal(ss_fgd_score_packing(s, 0, &two, &g), 48);
    /* idle 8-GPU node: max(33 - 8, 8) */
    assert_int_equal(ss_fgd_score_packing(s, 1, &p, &g), 25);
    assert_int_equal(ss_fgd_score_packing(s, 0, &cpu, &g), 0);
    /* b = 25*(8000-2800)/8000 = 16; node holds only share-GPU pods: +75 */
    assert_int_equal(ss_fgd_score_clustering(s, 0, &p, &g), 91);
    /* a 2-GPU pod on a node with other tags only: b */
    assert_int_equal(ss_fgd_score_clustering(s, 0, &two, &g), 16);
    /* idle node: 25*(8000-8000)/8000 + 25 */
    assert_int_equal(ss_fgd_score_clustering(s, 1, &two, &g), 25);
    ss_fgd_state_destroy(s);
    ss_cluster_destroy(c);
}

static void test_ss_fgd_score_fgd_gpu_choice(void **state)
{
    (void)state;
    ss_cluster_t *c;
    ss_fgd_state_t *s = node_x(&c);
    ss_fgd_pod_t p = pod(4000, 1, 500);
    assert_int_equal(ss_fgd_set_typical(s, &p, 1, true, NULL), 0);
    assert_int_equal(s->frag[0], 200); /* only the 200 GPU is unusable for p */
    int32_t g;
    /* GPU 0 or 1 leaves frag 200 (dF 0, score 50); GPU 2 leaves 100+200 (47) */
    assert_int_equal(ss_fgd_score_fgd(s, 0, &p, &g), 50);
    assert_int_equal(g, 0);
    /* a 2-GPU pod: frag after = 200 (still fits), dF = 0 */
    ss_fgd_pod_t two = pod(4000, 2, 1000);
    assert_int_equal(ss_fgd_score_fgd(s, 0, &two, &g), 50);
    ss_fgd_state_destroy(s);
    ss_cluster_destroy(c);
}

static void test_ss_fgd_fits_filter(void **state)
{
    (void)state;
    ss_cluster_t *c;
    ss_fgd_state_t *s = node_x(&c);
    ss_fgd_pod_t p = pod(4000, 1, 700);
    assert_true(ss_fgd_fits(s, 0, &p));
    p.milli = 1000;
    assert_true(ss_fgd_fits(s, 0, &p));
    p.num_gpu = 3;
    assert_false(ss_fgd_fits(s, 0, &p)); /* only two fully free */
    p = pod(60000, 0, 0);
    assert_false(ss_fgd_fits(s, 0, &p)); /* 56 cores left */
    p = pod(1, 1, 100);
    p.models = SS_FGD_NO_MODEL;
    assert_false(ss_fgd_fits(s, 0, &p));
    p.models = 1; /* model 0 = V100 */
    assert_true(ss_fgd_fits(s, 0, &p));
    ss_fgd_set_blocked(s, 0, true);
    assert_false(ss_fgd_fits(s, 0, &p));
    ss_fgd_state_destroy(s);
    ss_cluster_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ss_fgd_frag_hand_example),
        cmocka_unit_test(test_ss_fgd_scores_hand_computed),
        cmocka_unit_test(test_ss_fgd_score_fgd_gpu_choice),
        cmocka_unit_test(test_ss_fgd_fits_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
