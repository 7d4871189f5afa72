/* test_policy: the one policy registry (engine/ss_policy.c): every name,
 * case-insensitive lookup, unknown names rejected by the commands;
 * kube-default's golden values on hand-computed node/pod pairs; and the
 * engine's FGD-paper scorers (engine/ss_policy_fgd.c, on ss_state_t) against
 * the replay's (engine/ss_fgd_policy.c, on ss_fgd_state_t) on equal states;
 * fgd-cpu's golden values on a hand-computed two-node cluster. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ss_fgd.h"
#include "ss_policy.h"
#include "ss_rng.h"

static const char *names[] = {
    "least-allocated", "most-allocated", "balanced",   "kube-default", "random",
    "dotprod",         "gpuclustering",  "gpupacking", "bestfit",      "fgd",
    "fgd-reserve",     "fgd-cpu",        "fgd-fill"};
#define NNAMES ((int)(sizeof names / sizeof names[0]))

static void test_ss_policy_find_every_name_case_insensitive(void **state)
{
    (void)state;
    assert_int_equal(ss_policy_count(), NNAMES);
    for (int i = 0; i < NNAMES; i++) {
        const ss_policy_t *p = ss_policy_find(names[i]);
        assert_non_null(p);
        assert_string_equal(p->name, names[i]);
        assert_ptr_equal(ss_policy_at(i), p);
        assert_int_equal(p->id, i);
        assert_non_null(p->help);
        assert_non_null(p->score);
        /* every policy but random has a replay scorer (random draws) */
        assert_true((p->replay_score == NULL) == (p->id == SS_POLICY_RANDOM));
        char up[64];
        size_t k = 0;
        for (; names[i][k]; k++)
            up[k] =
                (char)(k % 2 ? names[i][k]
                             : (names[i][k] >= 'a' && names[i][k] <= 'z' ? names[i][k] - 'a' + 'A'
                                                                         : names[i][k]));
        up[k] = 0;
        assert_ptr_equal(ss_policy_find(up), p);
    }
    assert_null(ss_policy_at(NNAMES));
    assert_null(ss_policy_at(-1));
    assert_null(ss_policy_find("nope"));
    assert_null(ss_policy_find("fgd-"));
    assert_null(ss_policy_find(""));
    assert_null(ss_policy_find(NULL));
}

/* Each command refuses an unknown policy before reading any file. */
static void test_ss_policy_commands_reject_unknown(void **state)
{
    (void)state;
    const char *cmds[] = {
        SS_BINARY " schedule -i /nonexistent.h5 -o /tmp/x.h5 --policy nope 2>/dev/null",
        SS_BINARY " replay -i /nonexistent.h5 -o /tmp/x.h5 --policy nope 2>/dev/null",
        SS_BINARY " bench --scenario small --policy nope 2>/dev/null",
    };
    for (int i = 0; i < 3; i++) {
        int rc = system(cmds[i]);
        assert_true(rc != -1 && rc != 0);
    }
    char cmd[256];
    snprintf(cmd, sizeof cmd, SS_BINARY " replay --list-policies > /tmp/ss_policies_%d.txt",
             (int)getpid());
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "/tmp/ss_policies_%d.txt", (int)getpid());
    FILE *f = fopen(cmd, "r");
    assert_non_null(f);
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, " \n")] = 0; /* the name, before its help text */
        assert_true(n < NNAMES);
        assert_string_equal(line, names[n++]);
    }
    fclose(f);
    remove(cmd);
    assert_int_equal(n, NNAMES);
}

/* One node per (cpu, memory) pair, no GPUs, no taints. */
static ss_cluster_t *kube_cluster(void)
{
    ss_cluster_t *c = ss_cluster_create();
    int32_t topo[4] = {0, 0, 0, 0};
    ss_cluster_add_node(c, ss_cluster_str(c, "a"), topo, 4000, 8ll << 30, 110, NULL, false, 0, 0, 0,
                        0, 0, 0);
    ss_cluster_add_node(c, ss_cluster_str(c, "b"), topo, 8000, 4ll << 30, 110, NULL, false, 0, 0, 0,
                        0, 0, 0);
    ss_template_t t;
    memset(&t, 0, sizeof t);
    t.req.cpu_milli = 1000;
    t.req.memory = 1ll << 30;
    ss_cluster_add_template(c, &t); /* 0: 1 cpu, 1 GiB */
    t.req.memory = 512ll << 20;
    ss_cluster_add_template(c, &t); /* 1: 1 cpu, 512 MiB */
    t.req.cpu_milli = 2000;
    t.req.memory = 3ll << 30;
    ss_cluster_add_template(c, &t); /* 2: the running pod on b */
    return c;
}

static void test_ss_policy_kube_default_golden(void **state)
{
    (void)state;
    ss_cluster_t *c = kube_cluster();
    ss_state_t *s = ss_state_create(c);
    assert_non_null(s);
    ss_state_apply(s, &c->templates[2], 1, 0, +1); /* b: 2 cpu, 3 GiB used */
    const ss_policy_t *kd = ss_policy_find("kube-default");
    ss_policy_ctx_t *x = NULL;
    assert_int_equal(ss_policy_ctx_create(kd, c, &x, NULL), 0);
    /* node a (4 cpu, 8 GiB, empty), pod 1 cpu + 1 GiB:
     *   LeastAllocated: cpu (4000-1000)*100/4000 = 75, mem 7*100/8 = 87.5 -> 87;
     *   (75 + 87) / 2 = 81.
     *   Balanced: fractions 0.25 and 0.125, std |0.25-0.125|/2 = 0.0625,
     *   (1 - 0.0625) * 100 = 93.75 -> 93.  kube-default = 81 + 93 = 174. */
    assert_int_equal(ss_policy_least_allocated(s, &c->templates[0], 0), 81);
    assert_int_equal(ss_policy_balanced(s, &c->templates[0], 0), 93);
    assert_int_equal(ss_policy_fit(kd->id, x, s, &c->templates[0], 0), 174);
    /* node b (8 cpu, 4 GiB, 2 cpu + 3 GiB used), pod 1 cpu + 512 MiB:
     *   requested cpu 3000 -> (8000-3000)*100/8000 = 62.5 -> 62;
     *   requested mem 3.5 GiB -> 0.5*100/4 = 12.5 -> 12; (62 + 12) / 2 = 37.
     *   Balanced: 0.375 and 0.875, std 0.25 -> 75.  kube-default = 112.
     *   MostAllocated: 37.5 -> 37 and 87.5 -> 87, (37 + 87) / 2 = 62. */
    assert_int_equal(ss_policy_fit(kd->id, x, s, &c->templates[1], 1), 112);
    assert_int_equal(ss_policy_fit(SS_POLICY_MOST_ALLOCATED, x, s, &c->templates[1], 1), 62);
    /* the registry's out-of-line scorer is the same formula */
    assert_int_equal(kd->score(x, s, 1, 1, NULL), 112);
    /* static part (weights 2 and 3): preferred weight 30 of 40 -> 75;
     * 1 of at most 2 PreferNoSchedule taints untolerated -> 100 - 50 = 50;
     * 2*75 + 3*50 = 300.  No preferences, no such taints: 0 + 3*100. */
    assert_int_equal(ss_policy_static_score(30, 40, 1, 2), 300);
    assert_int_equal(ss_policy_static_score(0, 0, 0, 0), 300);
    /* replay: the same integer arithmetic on the GPU-sharing state */
    ss_fgd_state_t *fs = NULL;
    assert_int_equal(ss_fgd_state_create(c, &fs, NULL), 0);
    ss_fgd_pod_t p0, p1, p2;
    ss_fgd_pod_from_template(fs, c, 0, &p0);
    ss_fgd_pod_from_template(fs, c, 1, &p1);
    ss_fgd_pod_from_template(fs, c, 2, &p2);
    ss_fgd_apply(fs, 1, &p2, 0, +1);
    int32_t g;
    assert_int_equal(kd->replay_score(fs, 0, &p0, &g), 174);
    assert_int_equal(kd->replay_score(fs, 1, &p1, &g), 112);
    assert_int_equal(ss_policy_find("balanced")->replay_score(fs, 1, &p1, &g), 75);
    assert_int_equal(ss_policy_find("most-allocated")->replay_score(fs, 1, &p1, &g), 62);
    ss_fgd_state_destroy(fs);
    ss_policy_ctx_destroy(x);
    ss_state_destroy(s);
    ss_cluster_destroy(c);
}

/* GPU nodes of one model with random templates (CPU, shared and whole-GPU
 * pods), all pending: the engine's state and the replay's start equal. */
static ss_cluster_t *gpu_cluster(ss_rng_t *r)
{
    ss_cluster_t *c = ss_cluster_create();
    int32_t m = ss_cluster_str(c, "V100"), topo[4] = {0, 0, 0, 0};
    for (int i = 0; i < 12; i++) {
        char name[16];
        int32_t g0 = c->n_gpus, ng = (int32_t)ss_rng_below(r, 9);
        for (int k = 0; k < ng; k++)
            ss_cluster_add_gpu(c, m, 1000);
        snprintf(name, sizeof name, "n%d", i);
        ss_cluster_add_node(c, ss_cluster_str(c, name), topo,
                            8000 * (1 + (int64_t)ss_rng_below(r, 12)), 256ll << 30, 110, NULL,
                            false, 0, 0, 0, 0, g0, ng);
    }
    for (int t = 0; t < 8; t++) {
        ss_template_t tp;
        memset(&tp, 0, sizeof tp);
        tp.req.cpu_milli = 1000 * (1 + (int64_t)ss_rng_below(r, 16));
        tp.req.memory = 1ll << 30;
        int kind = (int)ss_rng_below(r, 3);
        if (kind == 1) {
            tp.req.gpu_count = 1;
            tp.req.gpu_milli = 100 * (1 + (int32_t)ss_rng_below(r, 9));
        } else if (kind == 2) {
            tp.req.gpu_count = 1 + (int32_t)ss_rng_below(r, 4);
            tp.req.gpu_milli = 1000;
        }
        int32_t ti = ss_cluster_add_template(c, &tp);
        for (int k = 1 + (int)ss_rng_below(r, 5); k > 0; k--) {
            char name[16];
            snprintf(name, sizeof name, "p%d", c->n_pods);
            ss_cluster_add_pod(c, ss_cluster_str(c, name), ss_cluster_str(c, "default"), ti, 0, -1,
                               -1, 0);
        }
    }
    return c;
}

/* Places pods on both states at once, the engine choosing the GPUs. */
static void place_both(ss_state_t *s, ss_fgd_state_t *fs, const ss_policy_ctx_t *x,
                       const ss_fgd_pod_t *fp, int32_t t, int32_t n)
{
    uint64_t mask = ss_policy_pick_gpus(x, s, t, n);
    ss_state_apply(s, &s->c->templates[t], n, mask, +1);
    ss_fgd_apply(fs, n, fp, mask, +1);
}

static void test_ss_policy_engine_fgd_scores_equal_replay(void **state)
{
    (void)state;
    int checked = 0;
    for (uint64_t seed = 1; seed <= 30; seed++) {
        ss_rng_t r;
        ss_rng_seed(&r, seed);
        ss_cluster_t *c = gpu_cluster(&r);
        for (int pi = SS_POLICY_DOTPROD; pi < SS_POLICY_COUNT; pi++) {
            const ss_policy_t *pol = ss_policy_at(pi);
            ss_policy_ctx_t *x = NULL;
            ss_fgd_state_t *fs = NULL;
            ss_state_t *s = ss_state_create(c);
            assert_int_equal(ss_policy_ctx_create(pol, c, &x, NULL), 0);
            assert_int_equal(ss_fgd_state_create(c, &fs, NULL), 0);
            ss_fgd_pod_t *fp = calloc((size_t)c->n_templates, sizeof *fp);
            ss_fgd_pod_t *orig = calloc((size_t)c->n_pods, sizeof *orig);
            for (int32_t t = 0; t < c->n_templates; t++)
                ss_fgd_pod_from_template(fs, c, t, &fp[t]);
            for (int32_t p = 0; p < c->n_pods; p++)
                orig[p] = fp[c->pod_template[p]];
            assert_int_equal(ss_fgd_set_typical(fs, orig, c->n_pods, false, NULL), 0);
            for (int step = 0; step < 40; step++) {
                /* every (template, node) that fits: the same score and GPU */
                for (int32_t t = 0; t < c->n_templates; t++)
                    for (int32_t n = 0; n < c->n_nodes; n++) {
                        if (!ss_fgd_fits(fs, n, &fp[t]))
                            continue;
                        assert_int_equal(ss_state_fit(s, &c->templates[t], n), 0);
                        int32_t ge = -1, gr = -1;
                        int64_t e = pol->score(x, s, t, n, &ge);
                        int32_t rs = pol->replay_score(fs, n, &fp[t], &gr);
                        if (e != rs || ge != gr)
                            fail_msg("seed %llu %s template %d node %d: engine %lld gpu %d, "
                                     "replay %d gpu %d",
                                     (unsigned long long)seed, pol->name, t, n, (long long)e, ge,
                                     rs, gr);
                        checked++;
                    }
                /* then a random fitting placement changes one node */
                int32_t t = (int32_t)ss_rng_below(&r, (uint64_t)c->n_templates);
                int32_t n = (int32_t)ss_rng_below(&r, (uint64_t)c->n_nodes);
                if (ss_fgd_fits(fs, n, &fp[t]))
                    place_both(s, fs, x, &fp[t], t, n);
            }
            free(orig);
            free(fp);
            ss_state_destroy(s);
            ss_fgd_state_destroy(fs);
            ss_policy_ctx_destroy(x);
        }
        ss_cluster_destroy(c);
    }
    assert_true(checked > 10000);
}

/* fgd-cpu's rule by hand. Nodes a (16 cpu), b (64 cpu) and c (64 cpu, 2 GiB
 * of memory), 4 whole GPUs each, a and b 256 GiB; one pending pod of
 * template 0 (8 cpu, 1 GiB, 1 whole GPU), so the typical table is that one
 * shape (mean memory 1 GiB), count 1, denominator 1. Template 1: 8 cpu,
 * 1 GiB, no GPU.
 *   fgd: nothing the pods do leaves a free GPU smaller than 1000 or takes
 *   the cpu below 8, so every frag is 0: all scores int(100 sigmoid(0)) = 50.
 *   fgd-cpu: a fitting typical pod uses at most floor(cpu_free / 8000) x
 *   2000 milli (SS_FGD_CPU_COPY_MILLI) of the usable free GPUs.
 *   - CPU pod on a: cpu 16 -> 8, 1 copy covers 2000 of the 4000 free:
 *     frag 0 -> 2000, dF = -2000: int(100 / (1 + e^2)) = 11.
 *   - CPU pod on b: 7 copies cover 14000 >= 4000: frag stays 0: 50.
 *   - GPU pod on a: cpu 8, 3 GPUs: 1 copy covers 2000 of 3000: frag 1000,
 *     dF = -1000: int(100 / (1 + e)) = 26.   On b: 50.
 *   - on c memory limits the copies the same way (2 GiB -> 1 GiB left, 1
 *     copy): CPU pod 11, GPU pod 26.
 * So fgd-cpu sends both pods to b where fgd sees a tie. */
static ss_cluster_t *cpu_cluster(void)
{
    ss_cluster_t *c = ss_cluster_create();
    int32_t m = ss_cluster_str(c, "V100"), topo[4] = {0, 0, 0, 0};
    const int64_t cpu[3] = {16000, 64000, 64000}, mem[3] = {256ll << 30, 256ll << 30, 2ll << 30};
    const char *name[3] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        int32_t g0 = c->n_gpus;
        for (int k = 0; k < 4; k++)
            ss_cluster_add_gpu(c, m, 1000);
        ss_cluster_add_node(c, ss_cluster_str(c, name[i]), topo, cpu[i], mem[i], 110, NULL, false,
                            0, 0, 0, 0, g0, 4);
    }
    ss_template_t tp;
    memset(&tp, 0, sizeof tp);
    tp.req.cpu_milli = 8000;
    tp.req.memory = 1ll << 30;
    tp.req.gpu_count = 1;
    tp.req.gpu_milli = 1000;
    int32_t t0 = ss_cluster_add_template(c, &tp);
    tp.req.gpu_count = 0;
    tp.req.gpu_milli = 0;
    ss_cluster_add_template(c, &tp);
    ss_cluster_add_pod(c, ss_cluster_str(c, "p0"), ss_cluster_str(c, "default"), t0, 0, -1, -1, 0);
    return c;
}

static void test_ss_policy_fgd_cpu_golden(void **state)
{
    (void)state;
    const int64_t G = 1ll << 30;
    assert_int_equal(ss_fgd_cpu_usable(4000, 16000, 8000, 8 * G, G, 1), 4000);
    assert_int_equal(ss_fgd_cpu_usable(4000, 15999, 8000, 8 * G, G, 1), 2000); /* one copy */
    assert_int_equal(ss_fgd_cpu_usable(4000, 16000, 8000, 8 * G, G, 2), 4000); /* 2 x 2 x 2000 */
    assert_int_equal(ss_fgd_cpu_usable(3000, 7999, 8000, 8 * G, G, 1), 0);
    assert_int_equal(ss_fgd_cpu_usable(4000, 64000, 8000, G + G / 2, G, 1), 2000); /* memory */
    assert_int_equal(ss_fgd_cpu_usable(4000, 64000, 8000, G / 2, G, 1), 0);
    assert_int_equal(ss_fgd_cpu_usable(3000, 0, 0, 0, 0, 1), 3000);     /* asks neither: no limit */
    assert_int_equal(ss_fgd_cpu_usable(3000, 0, 0, 2 * G, G, 1), 3000); /* 2 copies by memory */
    ss_cluster_t *c = cpu_cluster();
    ss_fgd_state_t *fs = NULL;
    assert_int_equal(ss_fgd_state_create(c, &fs, NULL), 0);
    ss_fgd_pod_t gp, cp;
    ss_fgd_pod_from_template(fs, c, 0, &gp);
    ss_fgd_pod_from_template(fs, c, 1, &cp);
    assert_int_equal(ss_fgd_set_typical(fs, &gp, 1, false, NULL), 0);
    const ss_policy_t *cpu = ss_policy_find("fgd-cpu"), *fgd = ss_policy_find("fgd");
    ss_policy_ctx_t *xc = NULL, *xf = NULL;
    assert_int_equal(ss_policy_ctx_create(cpu, c, &xc, NULL), 0);
    assert_int_equal(ss_policy_ctx_create(fgd, c, &xf, NULL), 0);
    ss_state_t *s = ss_state_create(c);
    /* {template, node, fgd-cpu, fgd} */
    const int want[6][4] = {{1, 0, 11, 50}, {1, 1, 50, 50}, {0, 0, 26, 50},
                            {0, 1, 50, 50}, {1, 2, 11, 50}, {0, 2, 26, 50}};
    for (int i = 0; i < 6; i++) {
        const ss_fgd_pod_t *p = want[i][0] ? &cp : &gp;
        int32_t g;
        assert_int_equal(cpu->replay_score(fs, want[i][1], p, &g), want[i][2]);
        assert_int_equal(fgd->replay_score(fs, want[i][1], p, &g), want[i][3]);
        assert_int_equal(cpu->score(xc, s, want[i][0], want[i][1], NULL), want[i][2]);
        assert_int_equal(fgd->score(xf, s, want[i][0], want[i][1], NULL), want[i][3]);
    }
    ss_state_destroy(s);
    ss_policy_ctx_destroy(xc);
    ss_policy_ctx_destroy(xf);
    ss_fgd_state_destroy(fs);
    ss_cluster_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ss_policy_find_every_name_case_insensitive),
        cmocka_unit_test(test_ss_policy_commands_reject_unknown),
        cmocka_unit_test(test_ss_policy_kube_default_golden),
        cmocka_unit_test(test_ss_policy_engine_fgd_scores_equal_replay),
        cmocka_unit_test(test_ss_policy_fgd_cpu_golden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
