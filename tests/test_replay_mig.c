/* test_replay_mig: the MIG what-if of the FGD protocol (jobs/ss_replay_mig.c):
 * the share -> profile mapping, relayout's layout rule, fixed layouts and
 * unused-slice counts on small hand-computed states, and the driver
 * (ss_replay_fgd_mig: off untouched, deterministic). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ss_replay.h"
#include "ss_replay_mig.h"

static const ss_mig_model_t *a100(void)
{
    return ss_mig_model(ss_mig_find_model("A100-80GB"));
}

static int prof(const char *name)
{
    return ss_mig_find_profile(a100(), name);
}

/* nn nodes of ng GPUs, lots of cpu and memory; pods (num_gpu, milli). */
static ss_cluster_t *cluster(int nn, int ng, int npods, const int32_t (*req)[2])
{
    ss_cluster_t *c = ss_cluster_create();
    int32_t m = ss_cluster_str(c, "T4"), topo[4] = {0, 0, 0, 0};
    char name[16];
    for (int n = 0; n < nn; n++) {
        for (int k = 0; k < ng; k++)
            ss_cluster_add_gpu(c, m, 1000);
        snprintf(name, sizeof name, "n%d", n);
        ss_cluster_add_node(c, ss_cluster_str(c, name), topo, 1000000, 1ll << 40, 110, NULL, false,
                            0, 0, 0, 0, n * ng, ng);
    }
    for (int i = 0; i < npods; i++) {
        ss_template_t t;
        memset(&t, 0, sizeof t);
        t.req.cpu_milli = 1000;
        t.req.gpu_count = req[i][0];
        t.req.gpu_milli = req[i][1];
        int32_t ti = ss_cluster_add_template(c, &t);
        snprintf(name, sizeof name, "p%d", i);
        ss_cluster_add_pod(c, ss_cluster_str(c, name), 0, ti, 0, -1, -1, 0);
    }
    assert_int_equal(ss_cluster_validate(c, NULL), 0);
    return c;
}

static ss_fgd_pod_t pod(int32_t num, int32_t milli, int32_t shape)
{
    ss_fgd_pod_t p = {1000, 1 << 20, num, milli, 0, shape};
    return p;
}

static void test_ss_replay_mig_profile_mapping(void **state)
{
    (void)state;
    assert_int_equal(ss_replay_mig_profile(100), prof("1g.10gb"));
    assert_int_equal(ss_replay_mig_profile(125), prof("1g.10gb")); /* 1/8 exactly */
    assert_int_equal(ss_replay_mig_profile(126), prof("1g.20gb")); /* memory needs 2/8 */
    assert_int_equal(ss_replay_mig_profile(140), prof("1g.20gb"));
    assert_int_equal(ss_replay_mig_profile(150), prof("2g.20gb")); /* compute 1/7 < 0.15 */
    assert_int_equal(ss_replay_mig_profile(250), prof("2g.20gb"));
    assert_int_equal(ss_replay_mig_profile(270), prof("3g.40gb")); /* memory 2/8 < 0.27 */
    assert_int_equal(ss_replay_mig_profile(300), prof("3g.40gb")); /* 2/7 = 0.286 < 0.3 */
    assert_int_equal(ss_replay_mig_profile(500), prof("4g.40gb"));
    assert_int_equal(ss_replay_mig_profile(501), prof("7g.80gb")); /* memory 4/8 < 0.501 */
    assert_int_equal(ss_replay_mig_profile(571), prof("7g.80gb")); /* compute 4/7 would do */
    assert_int_equal(ss_replay_mig_profile(900), prof("7g.80gb"));
    assert_int_equal(ss_replay_mig_profile(0), -1);
    assert_int_equal(ss_replay_mig_profile(1000), -1);
    assert_int_equal(ss_replay_mig_milli(prof("1g.10gb")), 142);
    assert_int_equal(ss_replay_mig_milli(prof("3g.40gb")), 428);
    assert_int_equal(ss_replay_mig_milli(prof("7g.80gb")), 999); /* never fully free */
}

/* The profiles of layout l, in instance order, as "a,b,c". */
static void names(const ss_mig_layout_t *l, char *buf, size_t len)
{
    buf[0] = 0;
    for (int i = 0; i < l->n; i++) {
        size_t k = strlen(buf);
        snprintf(buf + k, len - k, "%s%s@%d", i ? "," : "",
                 a100()->profiles[l->inst[i].profile].name, l->inst[i].start);
    }
}

static ss_replay_mig_t *make(ss_fgd_state_t *s, int mode, const ss_fgd_pod_t *orig, int n,
                             const int32_t *rank)
{
    ss_replay_mig_t *m = NULL;
    assert_int_equal(
        ss_replay_mig_create(s, mode, orig, n, ss_fgd_score_bestfit, 4, rank, 1, &m, NULL), 0);
    return m;
}

static void test_ss_replay_mig_relayout_rule(void **state)
{
    (void)state;
    const int32_t req[][2] = {{1, 300}};
    ss_cluster_t *c = cluster(1, 1, 1, req);
    ss_fgd_state_t *s;
    assert_int_equal(ss_fgd_state_create(c, &s, NULL), 0);
    int32_t rank[1] = {0};
    char buf[128];
    /* three 3g pods, one 4g: a 3g pod's GPU keeps the other 3g (3 x 3 = 9
     * beats 4 x 1 = 4); a 4g pod's GPU gets a 3g beside it */
    ss_fgd_pod_t t1[] = {pod(1, 300, 0), pod(1, 300, 0), pod(1, 350, 0), pod(1, 500, 1)};
    ss_replay_mig_t *m = make(s, SS_REPLAY_MIG_RELAYOUT, t1, 4, rank);
    names(ss_replay_mig_layout(m, prof("3g.40gb")), buf, sizeof buf);
    assert_string_equal(buf, "3g.40gb@0,3g.40gb@4");
    names(ss_replay_mig_layout(m, prof("4g.40gb")), buf, sizeof buf);
    assert_string_equal(buf, "4g.40gb@0,3g.40gb@4");
    names(ss_replay_mig_layout(m, prof("7g.80gb")), buf, sizeof buf);
    assert_string_equal(buf, "7g.80gb@0");
    ss_replay_mig_destroy(m);
    /* three 4g pods, one 3g: the 3g pod's GPU keeps a 4g beside it */
    ss_fgd_pod_t t2[] = {pod(1, 500, 0), pod(1, 500, 0), pod(1, 550, 0), pod(1, 300, 1)};
    m = make(s, SS_REPLAY_MIG_RELAYOUT, t2, 4, rank);
    names(ss_replay_mig_layout(m, prof("3g.40gb")), buf, sizeof buf);
    assert_string_equal(buf, "4g.40gb@0,3g.40gb@4");
    /* 2g pods with 4g pods the most common: 4g + 2g + 1g */
    names(ss_replay_mig_layout(m, prof("2g.20gb")), buf, sizeof buf);
    assert_string_equal(buf, "4g.40gb@0,2g.20gb@4,1g.10gb@6");
    ss_replay_mig_destroy(m);
    ss_fgd_state_destroy(s);
    ss_cluster_destroy(c);
}

static void unused_is(const ss_replay_mig_t *m, int32_t compute, int32_t mem, int32_t gpus)
{
    int32_t uc, um;
    ss_replay_mig_unused(m, &uc, &um);
    assert_int_equal(uc, compute);
    assert_int_equal(um, mem);
    assert_int_equal(ss_replay_mig_gpus(m), gpus);
}

static void test_ss_replay_mig_relayout_unused(void **state)
{
    (void)state;
    const int32_t req[][2] = {{1, 300}};
    ss_cluster_t *c = cluster(1, 2, 1, req);
    ss_fgd_state_t *s;
    assert_int_equal(ss_fgd_state_create(c, &s, NULL), 0);
    int32_t rank[1] = {0};
    /* the trace: two 3g pods, one 1g.10gb pod */
    ss_fgd_pod_t tr[] = {pod(1, 300, 0), pod(1, 300, 0), pod(1, 100, 1)};
    ss_replay_mig_t *m = make(s, SS_REPLAY_MIG_RELAYOUT, tr, 3, rank);
    unused_is(m, 0, 0, 0);
    /* first 3g pod: GPU 0 gets 3g + 3g, one held: 1 uncovered compute
     * slice + 3 of the free 3g; memory 0 + 4 */
    assert_int_equal(ss_replay_mig_place(m, &tr[0]), 0);
    unused_is(m, 4, 4, 1);
    /* second: the free 3g instance, no new layout */
    assert_int_equal(ss_replay_mig_place(m, &tr[1]), 0);
    unused_is(m, 1, 0, 1);
    assert_int_equal(ss_replay_mig_relayouts(m), 1);
    assert_int_equal(s->gpu_free[0], 0);
    /* a 1g.10gb pod: GPU 1 gets 3g + 4 x 1g.10gb (the others worth 3 x 2 +
     * 3 x 1 = 9; 3g + 3 x 1g: 8, 3g + 2g + 2 x 1g: 7), canonically 1g at
     * 0..3, 3g at 4; unused: 3 + 3 x 1 compute, 4 + 3 x 1 memory */
    assert_int_equal(ss_replay_mig_place(m, &tr[2]), 0);
    char buf[128];
    names(ss_replay_mig_layout(m, prof("1g.10gb")), buf, sizeof buf);
    assert_string_equal(buf, "1g.10gb@0,1g.10gb@1,1g.10gb@2,1g.10gb@3,3g.40gb@4");
    unused_is(m, 1 + 6, 0 + 7, 2);
    assert_int_equal(ss_replay_mig_relayouts(m), 2);
    assert_int_equal(s->gpu_free[1], 428 + 3 * 142);
    /* no whole GPU left; a third 3g pod takes GPU 1's 3g */
    ss_fgd_pod_t whole = pod(1, 1000, 2);
    assert_false(ss_fgd_fits(s, 0, &whole));
    assert_int_equal(ss_replay_mig_place(m, &tr[0]), 0);
    unused_is(m, 1 + 3, 0 + 3, 2);
    assert_int_equal(ss_replay_mig_relayouts(m), 2);
    /* the allocation counts the requests, not the instances */
    assert_int_equal(s->gpu_alloc, 300 + 300 + 100 + 300);
    /* a 4g pod: no 4g instance, no idle GPU */
    ss_fgd_pod_t big = pod(1, 500, 3);
    assert_int_equal(ss_replay_mig_place(m, &big), -1);
    ss_replay_mig_destroy(m);
    ss_fgd_state_destroy(s);
    ss_cluster_destroy(c);
}

static void test_ss_replay_mig_fixed_layouts(void **state)
{
    (void)state;
    const int32_t req[][2] = {{1, 300}};
    ss_cluster_t *c = cluster(4, 1, 1, req);
    int32_t rank[4] = {0, 1, 2, 3};
    /* fractional pods ask for half of the trace's GPU milli: 2 of 4 GPUs */
    ss_fgd_pod_t tr[] = {pod(1, 500, 0), pod(1, 500, 0), pod(1, 1000, 1)};
    for (int mode = SS_REPLAY_MIG_ALL_1G; mode <= SS_REPLAY_MIG_HALF_3G; mode++) {
        ss_fgd_state_t *s;
        assert_int_equal(ss_fgd_state_create(c, &s, NULL), 0);
        ss_replay_mig_t *m = make(s, mode, tr, 3, rank);
        /* nodes 1 and 3 (error diffusion in node order) */
        assert_int_equal(s->gpu_free[0], 1000);
        assert_int_equal(s->gpu_free[2], 1000);
        ss_fgd_pod_t whole = pod(1, 1000, 1), three = pod(1, 300, 2), one = pod(1, 100, 3);
        assert_false(ss_fgd_fits(s, 1, &whole));
        assert_false(ss_fgd_fits(s, 3, &whole));
        if (mode == SS_REPLAY_MIG_ALL_1G) {
            assert_int_equal(s->gpu_free[1], 994);
            unused_is(m, 14, 16, 2);
            assert_int_equal(ss_replay_mig_place(m, &three), -1); /* fixed: no new layout */
            assert_int_equal(ss_replay_mig_place(m, &one), 1);    /* bestfit: tied, rank */
            unused_is(m, 13, 15, 2);
        } else { /* node 1: 2 x 3g.40gb, node 3: 7 x 1g.10gb */
            assert_int_equal(s->gpu_free[1], 856);
            assert_int_equal(s->gpu_free[3], 994);
            unused_is(m, 1 + 6 + 7, 0 + 8 + 1 + 7, 2);
            assert_int_equal(ss_replay_mig_place(m, &three), 1);
            assert_int_equal(ss_replay_mig_place(m, &one), 3);
            unused_is(m, 14 - 3 - 1, 16 - 4 - 1, 2);
        }
        assert_int_equal(ss_replay_mig_relayouts(m), 0);
        ss_replay_mig_destroy(m);
        ss_fgd_state_destroy(s);
    }
    ss_cluster_destroy(c);
}

static void test_ss_replay_mig_trace_mix(void **state)
{
    (void)state;
    const int32_t req[][2] = {{1, 300}};
    ss_cluster_t *c = cluster(2, 1, 1, req);
    int32_t rank[2] = {0, 1};
    ss_fgd_state_t *s;
    assert_int_equal(ss_fgd_state_create(c, &s, NULL), 0);
    /* one 4g pod, three 3g pods, no whole-GPU pod: both GPUs go MIG; the
     * mix wants 2 x 1 x 7 / 13 = 1.08 4g and 3.2 3g instances: GPU 0 gets
     * 4g + 3g (worth 4 x 1.0 + 3 x 1.0 against 3g + 3g's 3 x 2.0), GPU 1
     * 3g + 3g (4 x 0.08 + 3 x 1.0 against 3 x 2.0) */
    ss_fgd_pod_t tr[] = {pod(1, 500, 0), pod(1, 300, 1), pod(1, 300, 1), pod(1, 350, 1)};
    ss_replay_mig_t *m = make(s, SS_REPLAY_MIG_TRACE_MIX, tr, 4, rank);
    assert_int_equal(s->gpu_free[0], 571 + 428);
    assert_int_equal(s->gpu_free[1], 428 + 428);
    unused_is(m, 4 + 3 + 1 + 6, 4 + 4 + 8, 2);
    assert_int_equal(ss_replay_mig_place(m, &tr[0]), 0);
    assert_int_equal(ss_replay_mig_place(m, &tr[0]), -1); /* no second 4g, no relayout */
    ss_replay_mig_destroy(m);
    ss_fgd_state_destroy(s);
    ss_cluster_destroy(c);
}

static void same_result(const ss_fgd_result_t *a, const ss_fgd_result_t *b)
{
    assert_int_equal(a->n, b->n);
    assert_memory_equal(a->pod, b->pod, (size_t)a->n * sizeof *a->pod);
    assert_memory_equal(a->node, b->node, (size_t)a->n * sizeof *a->node);
    assert_memory_equal(a->alloc_gpu_milli, b->alloc_gpu_milli, (size_t)a->n * sizeof(int64_t));
}

static void test_ss_replay_mig_driver(void **state)
{
    (void)state;
    const int32_t req[][2] = {{1, 300}, {1, 100}, {1, 1000}, {2, 1000},
                              {1, 500}, {0, 0},   {1, 810},  {1, 230}};
    ss_cluster_t *c = cluster(3, 4, 8, req);
    const char *pols[] = {"fgd", "bestfit", "random"};
    for (int pi = 0; pi < 3; pi++) {
        ss_fgd_opts_t o = {pols[pi], 5, 130, NULL};
        ss_fgd_result_t *off, *plain, *r[5];
        assert_int_equal(ss_replay_fgd(c, &o, &plain, NULL), 0);
        assert_int_equal(ss_replay_fgd_mig(c, &o, SS_REPLAY_MIG_OFF, &off, NULL), 0);
        same_result(plain, off);
        assert_null(off->unused_compute);
        assert_int_equal(off->mig, 0);
        for (int mode = 1; mode <= 4; mode++) {
            ss_fgd_result_t *again;
            assert_int_equal(ss_replay_fgd_mig(c, &o, mode, &r[mode], NULL), 0);
            assert_int_equal(ss_replay_fgd_mig(c, &o, mode, &again, NULL), 0);
            same_result(r[mode], again); /* deterministic */
            assert_memory_equal(r[mode]->unused_compute, again->unused_compute,
                                (size_t)again->n * sizeof(int32_t));
            ss_fgd_result_destroy(again);
            assert_int_equal(r[mode]->n, off->n); /* the arrival order ignores the mode */
            assert_memory_equal(r[mode]->pod, off->pod, (size_t)off->n * sizeof *off->pod);
            assert_int_equal(r[mode]->n_gpus, 12);
            for (int32_t i = 0; i < r[mode]->n; i++) {
                assert_true(r[mode]->unused_compute[i] <= 7 * r[mode]->mig_gpus[i]);
                assert_true(r[mode]->unused_mem[i] <= 8 * r[mode]->mig_gpus[i]);
                assert_true(r[mode]->alloc_gpu_milli[i] <= r[mode]->gpu_capacity);
            }
        }
        /* relayout starts with no MIG GPU and lays out one per new layout */
        assert_int_equal(r[3]->mig_gpus[r[3]->n - 1], (int32_t)r[3]->relayouts);
        assert_true(r[3]->relayouts > 0);
        for (int mode = 1; mode <= 4; mode++)
            ss_fgd_result_destroy(r[mode]);
        ss_fgd_result_destroy(off);
        ss_fgd_result_destroy(plain);
    }
    ss_fgd_opts_t o = {"fgd", 5, 130, NULL};
    ss_fgd_result_t *bad = NULL;
    assert_int_equal(ss_replay_fgd_mig(c, &o, 9, &bad, NULL), SS_EINVAL);
    assert_null(bad);
    ss_cluster_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ss_replay_mig_profile_mapping),
        cmocka_unit_test(test_ss_replay_mig_relayout_rule),
        cmocka_unit_test(test_ss_replay_mig_relayout_unused),
        cmocka_unit_test(test_ss_replay_mig_fixed_layouts),
        cmocka_unit_test(test_ss_replay_mig_trace_mix),
        cmocka_unit_test(test_ss_replay_mig_driver),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
