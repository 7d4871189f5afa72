/* test_policy_fill: fgd-fill's dead-share rule (engine/ss_fgd_fill.c,
 * docs/evaluation.md "Our policy: fgd-fill") by hand, on the replay's and
 * the engine's scorers, and a case where it picks another node than
 * fgd-cpu.
 *
 * Typical pods (the pending pods): X = 1 GPU x 700 milli, 1 cpu, 1 GiB
 * (two pods) and Y = 1 GPU x 300 milli, 1 cpu, 1 GiB (one pod): count 2
 * and 1, denominator 3. Sums of {300, 700} up to 1000: 0, 300, 600, 700,
 * 900, 1000, so dead[g] = g below 300, g - 300 to 599, g - 600 to 699,
 * g - 700 to 899, g - 900 to 999; mincpu[g] = 1000 from g = 300 on.
 *
 * Nodes a (6 cpu) and b (100 cpu), 2 GPUs and 256 GiB each, each GPU
 * holding one X: free shares 300 and 300, free cpu 4000 and 98000. The
 * pod scored is Q, a CPU-only pod of 1 cpu (not pending: not typical).
 *   fgd-cpu, Q on a: X fits no GPU: 2 x 600 = 1200; Y fits both GPUs, 4
 *   copies before and 3 after cap the usable 600 at 8000 / 6000: 0. frag
 *   1200 before and after: dF = 0, score int(100 sigmoid(0)) = 50. On b:
 *   the same, 50. A tie: the lower rank, a, wins.
 *   fgd-fill adds the dead share: on a before, cpu 4000 >= mincpu[300],
 *   dead[300] = 0, and 4000 / 2000 = 2 fillers for the 2 fillable shares:
 *   0. After Q, 3000 / 2000 = 1 filler: the other 300 is dead. The
 *   numerator grows by 3 x 300: dF = -300 milli, int(100 / (1 + e^0.3)) =
 *   42. On b, 49 fillers before and after: 50. So fgd-fill sends Q to b.
 *
 * And its model rule (a typical pod that may not use a node's GPU model is
 * not counted there), by hand below. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ss_fgd.h"
#include "ss_policy.h"

static ss_cluster_t *fill_cluster(void)
{
    ss_cluster_t *c = ss_cluster_create();
    int32_t m = ss_cluster_str(c, "V100"), topo[4] = {0, 0, 0, 0};
    const int64_t cpu[2] = {6000, 100000};
    const char *name[2] = {"a", "b"};
    for (int i = 0; i < 2; i++) {
        int32_t g0 = c->n_gpus;
        for (int k = 0; k < 2; k++)
            ss_cluster_add_gpu(c, m, 1000);
        ss_cluster_add_node(c, ss_cluster_str(c, name[i]), topo, cpu[i], 256ll << 30, 110, NULL,
                            false, 0, 0, 0, 0, g0, 2);
    }
    ss_template_t tp;
    memset(&tp, 0, sizeof tp);
    tp.req.cpu_milli = 1000;
    tp.req.memory = 1ll << 30;
    tp.req.gpu_count = 1;
    tp.req.gpu_milli = 700;
    int32_t tx = ss_cluster_add_template(c, &tp); /* 0: X */
    tp.req.gpu_milli = 300;
    int32_t ty = ss_cluster_add_template(c, &tp); /* 1: Y */
    tp.req.gpu_count = 0;
    tp.req.gpu_milli = 0;
    ss_cluster_add_template(c, &tp); /* 2: Q */
    int32_t ns = ss_cluster_str(c, "default");
    ss_cluster_add_pod(c, ss_cluster_str(c, "x0"), ns, tx, 0, -1, -1, 0);
    ss_cluster_add_pod(c, ss_cluster_str(c, "x1"), ns, tx, 0, -1, -1, 0);
    ss_cluster_add_pod(c, ss_cluster_str(c, "y0"), ns, ty, 0, -1, -1, 0);
    return c;
}

static void test_ss_fgd_fill_tables_golden(void **state)
{
    (void)state;
    ss_fgd_typical_t typ[2];
    memset(typ, 0, sizeof typ);
    typ[0] = (ss_fgd_typical_t){1000, 1, 700, 0, 2, 1ll << 30};
    typ[1] = (ss_fgd_typical_t){1000, 1, 300, 0, 1, 1ll << 30};
    ss_fgd_fill_t f;
    ss_fgd_fill_build(typ, 2, &f);
    const int32_t g[][2] = {{0, 0},    {250, 250}, {299, 299}, {300, 0},  {550, 250},
                            {650, 50}, {700, 0},   {850, 150}, {950, 50}, {1000, 0}};
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
        assert_int_equal(f.dead[g[i][0]], g[i][1]);
    assert_true(f.mincpu[299] == INT64_MAX);
    assert_int_equal(f.mincpu[300], 1000);
    /* a node's dead share: cpu-dead, size-dead, and fillers limited by cpu */
    const int32_t two[2] = {300, 300}, mix[3] = {550, 1000, 0};
    assert_int_equal(ss_fgd_fill_dead(&f, two, 2, 999), 600);  /* no cpu for Y */
    assert_int_equal(ss_fgd_fill_dead(&f, two, 2, 4000), 0);   /* 2 fillers */
    assert_int_equal(ss_fgd_fill_dead(&f, two, 2, 3999), 300); /* 1 filler */
    assert_int_equal(ss_fgd_fill_dead(&f, mix, 3, 2000), 250); /* 550 - 300; free GPU: 0 */
    assert_int_equal(ss_fgd_fill_dead(&f, mix, 3, 1999), 550); /* no filler: all of it */
    /* pods of 4 cpu: a share is dead below 4000 free, fillers or not */
    typ[0].cpu = typ[1].cpu = 4000;
    ss_fgd_fill_build(typ, 2, &f);
    const int32_t one[2] = {300, 1000};
    assert_int_equal(f.mincpu[300], 4000);
    assert_int_equal(ss_fgd_fill_dead(&f, one, 2, 3999), 300);
    assert_int_equal(ss_fgd_fill_dead(&f, one, 2, 4000), 0);
}

static void test_ss_policy_fgd_fill_golden_differs_from_fgd_cpu(void **state)
{
    (void)state;
    ss_cluster_t *c = fill_cluster();
    ss_fgd_state_t *fs = NULL;
    assert_int_equal(ss_fgd_state_create(c, &fs, NULL), 0);
    ss_fgd_pod_t fp[3];
    for (int32_t t = 0; t < 3; t++) {
        ss_fgd_pod_from_template(fs, c, t, &fp[t]);
        fp[t].shape = t;
    }
    ss_fgd_pod_t orig[3] = {fp[0], fp[0], fp[1]};
    assert_int_equal(ss_fgd_set_typical(fs, orig, 3, false, NULL), 0);
    assert_int_equal(fs->n_typical, 2);
    assert_int_equal(fs->typical_denom, 3);
    const ss_policy_t *cpu = ss_policy_find("fgd-cpu"), *fill = ss_policy_find("fgd-fill");
    assert_non_null(fill);
    ss_policy_ctx_t *xc = NULL, *xl = NULL;
    assert_int_equal(ss_policy_ctx_create(cpu, c, &xc, NULL), 0);
    assert_int_equal(ss_policy_ctx_create(fill, c, &xl, NULL), 0);
    ss_state_t *s = ss_state_create(c);
    for (int32_t n = 0; n < 2; n++) /* one X on each GPU */
        for (int32_t g = 0; g < 2; g++) {
            ss_state_apply(s, &c->templates[0], n, UINT64_C(1) << g, +1);
            ss_fgd_apply(fs, n, &fp[0], UINT64_C(1) << g, +1);
        }
    const int want[2][2] = {{50, 42}, {50, 50}}; /* node: {fgd-cpu, fgd-fill} */
    for (int32_t n = 0; n < 2; n++) {
        int32_t g;
        assert_int_equal(cpu->replay_score(fs, n, &fp[2], &g), want[n][0]);
        assert_int_equal(fill->replay_score(fs, n, &fp[2], &g), want[n][1]);
        assert_int_equal(cpu->score(xc, s, 2, n, NULL), want[n][0]);
        assert_int_equal(fill->score(xl, s, 2, n, NULL), want[n][1]);
    }
    /* the replay's node choice: fgd-cpu a (tie, lower rank), fgd-fill b */
    ss_fgd_sched_t *kc = ss_fgd_sched_create(fs, cpu->replay_score, 3, NULL, NULL);
    ss_fgd_sched_t *kl = ss_fgd_sched_create(fs, fill->replay_score, 3, NULL, NULL);
    assert_non_null(kc);
    assert_non_null(kl);
    uint64_t mask;
    assert_int_equal(ss_fgd_sched_pick(kc, &fp[2], &mask), 0);
    assert_int_equal(ss_fgd_sched_pick(kl, &fp[2], &mask), 1);
    ss_fgd_sched_destroy(kc);
    ss_fgd_sched_destroy(kl);
    ss_state_destroy(s);
    ss_policy_ctx_destroy(xc);
    ss_policy_ctx_destroy(xl);
    ss_fgd_state_destroy(fs);
    ss_cluster_destroy(c);
}

/* The model rule (ss_fgd.h, SS_FGD_FRAG_MODEL): node a has one GPU of model
 * A, node b one of model B, 100 cpu and 256 GiB each, all free. Pending
 * (typical) pods: ZA = 1 GPU x 1000 milli on model A (two pods), ZB = the
 * same on model B (one), U = 1 GPU x 500 milli, any model (one): counts
 * 2, 1, 1, denominator 4. Scored: W = 1 GPU x 1000 milli, any model, 1 cpu
 * (not pending). fgd-cpu on a: ZA and U fit (0), ZB may not use A and
 * counts all 1000 milli: 1000 before, 0 after W: dF = 250, int(100
 * sigmoid(0.25)) = 56; on b ZA counts 2 x 1000: dF = 500, 62: W goes to b,
 * the model with less capacity (in the trace: T4 next to G2), whose own
 * pods then fail. fgd-fill leaves ZB out on a and ZA on b: 0 before and
 * after on both, 50 and 50: a tie, the lower rank (a) wins. */
static ss_cluster_t *model_cluster(void)
{
    ss_cluster_t *c = ss_cluster_create();
    int32_t topo[4] = {0, 0, 0, 0}, m[2] = {ss_cluster_str(c, "A"), ss_cluster_str(c, "B")};
    const char *name[2] = {"a", "b"};
    for (int i = 0; i < 2; i++) {
        int32_t g0 = c->n_gpus;
        ss_cluster_add_gpu(c, m[i], 1000);
        ss_cluster_add_node(c, ss_cluster_str(c, name[i]), topo, 100000, 256ll << 30, 110, NULL,
                            false, 0, 0, 0, 0, g0, 1);
    }
    ss_template_t tp;
    memset(&tp, 0, sizeof tp);
    tp.req.cpu_milli = 1000;
    tp.req.memory = 1ll << 30;
    tp.req.gpu_count = 1;
    tp.req.gpu_milli = 1000;
    int32_t tz[2];
    for (int i = 0; i < 2; i++) {
        tp.model_begin = ss_cluster_add_model(c, m[i]);
        tp.model_count = 1;
        tz[i] = ss_cluster_add_template(c, &tp); /* 0: ZA, 1: ZB */
    }
    tp.model_begin = tp.model_count = 0;
    tp.req.gpu_milli = 500;
    int32_t tu = ss_cluster_add_template(c, &tp); /* 2: U */
    tp.req.gpu_milli = 1000;
    ss_cluster_add_template(c, &tp); /* 3: W */
    int32_t ns = ss_cluster_str(c, "default");
    ss_cluster_add_pod(c, ss_cluster_str(c, "za0"), ns, tz[0], 0, -1, -1, 0);
    ss_cluster_add_pod(c, ss_cluster_str(c, "za1"), ns, tz[0], 0, -1, -1, 0);
    ss_cluster_add_pod(c, ss_cluster_str(c, "zb0"), ns, tz[1], 0, -1, -1, 0);
    ss_cluster_add_pod(c, ss_cluster_str(c, "u0"), ns, tu, 0, -1, -1, 0);
    return c;
}

static void test_ss_policy_fgd_fill_model_golden(void **state)
{
    (void)state;
    ss_cluster_t *c = model_cluster();
    ss_fgd_state_t *fs = NULL;
    assert_int_equal(ss_fgd_state_create(c, &fs, NULL), 0);
    ss_fgd_pod_t fp[4];
    for (int32_t t = 0; t < 4; t++) {
        ss_fgd_pod_from_template(fs, c, t, &fp[t]);
        fp[t].shape = t;
    }
    ss_fgd_pod_t orig[4] = {fp[0], fp[0], fp[1], fp[2]};
    assert_int_equal(ss_fgd_set_typical(fs, orig, 4, false, NULL), 0);
    assert_int_equal(fs->n_typical, 3);
    assert_int_equal(fs->typical_denom, 4);
    const ss_policy_t *cpu = ss_policy_find("fgd-cpu"), *fill = ss_policy_find("fgd-fill");
    ss_policy_ctx_t *xc = NULL, *xl = NULL;
    assert_int_equal(ss_policy_ctx_create(cpu, c, &xc, NULL), 0);
    assert_int_equal(ss_policy_ctx_create(fill, c, &xl, NULL), 0);
    ss_state_t *s = ss_state_create(c);
    const int want[2][2] = {{56, 50}, {62, 50}}; /* node: {fgd-cpu, fgd-fill} */
    for (int32_t n = 0; n < 2; n++) {
        int32_t g;
        assert_int_equal(cpu->replay_score(fs, n, &fp[3], &g), want[n][0]);
        assert_int_equal(fill->replay_score(fs, n, &fp[3], &g), want[n][1]);
        assert_int_equal(cpu->score(xc, s, 3, n, NULL), want[n][0]);
        assert_int_equal(fill->score(xl, s, 3, n, NULL), want[n][1]);
    }
    ss_fgd_sched_t *kc = ss_fgd_sched_create(fs, cpu->replay_score, 4, NULL, NULL);
    ss_fgd_sched_t *kl = ss_fgd_sched_create(fs, fill->replay_score, 4, NULL, NULL);
    assert_non_null(kc);
    assert_non_null(kl);
    uint64_t mask;
    assert_int_equal(ss_fgd_sched_pick(kc, &fp[3], &mask), 1);
    assert_int_equal(ss_fgd_sched_pick(kl, &fp[3], &mask), 0);
    ss_fgd_sched_destroy(kc);
    ss_fgd_sched_destroy(kl);
    ss_state_destroy(s);
    ss_policy_ctx_destroy(xc);
    ss_policy_ctx_destroy(xl);
    ss_fgd_state_destroy(fs);
    ss_cluster_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ss_fgd_fill_tables_golden),
        cmocka_unit_test(test_ss_policy_fgd_fill_golden_differs_from_fgd_cpu),
        cmocka_unit_test(test_ss_policy_fgd_fill_model_golden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
