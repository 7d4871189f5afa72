/* test_gen: the synthetic generator (jobs/ss_gen.h). Determinism (every
 * array of two runs equal), validity, the default mix on the default
 * 2,000-node / 20,000-pod cluster within stated tolerances, running usage
 * (~40%, never over any capacity, per GPU included), one case per switch
 * showing that turning it off removes its feature (the inter-pod rule
 * families included; test_gen_rules.c checks those rules in depth), and bad
 * options. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ss_cluster.h"
#include "ss_gen.h"

static ss_cluster_t *gen_with(const ss_gen_opts_t *o)
{
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    int rc = ss_gen(o, &c, &err);
    if (rc != 0)
        fail_msg("ss_gen: %s", err.text);
    assert_non_null(c);
    rc = ss_cluster_validate(c, &err);
    if (rc != 0)
        fail_msg("validate: %s", err.text);
    return c;
}

static ss_cluster_t *gen_default(void)
{
    ss_gen_opts_t o;
    ss_gen_opts_default(&o);
    return gen_with(&o);
}

/* ---- determinism ---- */

#define SAME(field, n)                                                                             \
    do {                                                                                           \
        assert_int_equal((n) > 0 ? memcmp(a->field, b->field, (size_t)(n) * sizeof *a->field) : 0, \
                         0);                                                                       \
    } while (0)

static void assert_clusters_equal(const ss_cluster_t *a, const ss_cluster_t *b)
{
    assert_int_equal(a->n_nodes, b->n_nodes);
    assert_int_equal(a->n_gpus, b->n_gpus);
    assert_int_equal(a->n_templates, b->n_templates);
    assert_int_equal(a->n_pods, b->n_pods);
    assert_int_equal(a->n_groups, b->n_groups);
    assert_int_equal(a->n_labels, b->n_labels);
    assert_int_equal(a->n_taints, b->n_taints);
    assert_int_equal(a->n_tolerations, b->n_tolerations);
    assert_int_equal(a->n_terms, b->n_terms);
    assert_int_equal(a->n_exprs, b->n_exprs);
    assert_int_equal(a->n_expr_values, b->n_expr_values);
    assert_int_equal(a->n_models, b->n_models);
    assert_int_equal(a->n_ext, b->n_ext);
    assert_memory_equal(a->ext_name, b->ext_name, sizeof a->ext_name);
    int32_t n = a->n_nodes;
    SAME(node_name, n);
    SAME(node_topo, (int64_t)n * SS_TOPO_STRIDE);
    SAME(node_cpu, n);
    SAME(node_mem, n);
    SAME(node_pods, n);
    SAME(node_ext, (int64_t)n * SS_MAX_EXT);
    SAME(node_unsched, n);
    SAME(node_label_begin, n);
    SAME(node_label_count, n);
    SAME(node_taint_begin, n);
    SAME(node_taint_count, n);
    SAME(node_gpu_begin, n);
    SAME(node_gpu_count, n);
    SAME(gpu_model, a->n_gpus);
    SAME(gpu_milli, a->n_gpus);
    SAME(templates, a->n_templates);
    SAME(pod_name, a->n_pods);
    SAME(pod_ns, a->n_pods);
    SAME(pod_template, a->n_pods);
    SAME(pod_priority, a->n_pods);
    SAME(pod_group, a->n_pods);
    SAME(pod_node, a->n_pods);
    SAME(pod_gpu_mask, a->n_pods);
    SAME(group_name, a->n_groups);
    SAME(group_min_member, a->n_groups);
    SAME(group_topo_level, a->n_groups);
    SAME(group_topo_mode, a->n_groups);
    SAME(labels, a->n_labels);
    SAME(taints, a->n_taints);
    SAME(tolerations, a->n_tolerations);
    SAME(terms, a->n_terms);
    SAME(exprs, a->n_exprs);
    SAME(expr_values, a->n_expr_values);
    SAME(models, a->n_models);
    assert_int_equal(a->n_spreads, b->n_spreads);
    assert_int_equal(a->n_pterms, b->n_pterms);
    assert_int_equal(a->n_pdbs, b->n_pdbs);
    SAME(spreads, a->n_spreads);
    SAME(pterms, a->n_pterms);
    SAME(pdbs, a->n_pdbs);
    SAME(pod_start, a->n_pods);
    assert_int_equal(a->default_spreading, b->default_spreading);
    assert_int_equal(a->locality, b->locality);
    size_t ba, bb;
    const char *da = ss_strtab_data(a->strings, &ba), *db = ss_strtab_data(b->strings, &bb);
    assert_int_equal(ba, bb);
    assert_memory_equal(da, db, ba);
    assert_int_equal(ss_strtab_count(a->strings), ss_strtab_count(b->strings));
}

static void test_gen_same_seed_identical(void **state)
{
    (void)state;
    ss_gen_opts_t o;
    ss_gen_opts_default(&o);
    o.seed = 42;
    o.gang_topology = o.topology_spread = o.pod_anti_affinity = true;
    ss_cluster_t *a = gen_with(&o), *b = gen_with(&o);
    assert_clusters_equal(a, b);
    ss_cluster_destroy(a);
    ss_cluster_destroy(b);
}

static void test_gen_other_seed_differs(void **state)
{
    (void)state;
    ss_gen_opts_t o;
    ss_gen_opts_default(&o);
    ss_cluster_t *a = gen_with(&o);
    o.seed = 2;
    ss_cluster_t *b = gen_with(&o);
    bool differ = a->n_pods != b->n_pods || a->n_templates != b->n_templates ||
                  memcmp(a->pod_template, b->pod_template, (size_t)a->n_pods * 4) != 0;
    assert_true(differ);
    ss_cluster_destroy(a);
    ss_cluster_destroy(b);
}

/* ---- validity at odd sizes ---- */

static void test_gen_validates_at_odd_sizes(void **state)
{
    (void)state;
    static const int64_t sizes[][2] = {{1, 0}, {1, 1}, {7, 13}, {19, 500}, {100, 3}, {4001, 9000}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        ss_gen_opts_t o;
        ss_gen_opts_default(&o);
        o.nodes = sizes[i][0];
        o.pods = sizes[i][1];
        o.gang_topology = o.topology_spread = o.pod_anti_affinity = true;
        ss_cluster_t *c = gen_with(&o);
        assert_int_equal(c->n_nodes, o.nodes);
        int64_t pending = 0;
        for (int32_t p = 0; p < c->n_pods; p++)
            pending += c->pod_node[p] < 0;
        assert_int_equal(pending, o.pods);
        ss_cluster_destroy(c);
    }
}

/* ---- the default mix ---- */

enum { C_WEB, C_BATCH, C_GPU, C_TRAIN, C_SYS, C_SPOT, C_HUGE, C_RUN, NCLS };
static const char *cls_prefix[NCLS] = {"deploy/web-",     "job/batch-",     "deploy/gpu-",
                                       "podgroup/train-", "daemonset/sys-", "deploy/spot-",
                                       "deploy/huge-",    "deploy/run-"};

typedef struct {
    int64_t pending, running, templates;
    int64_t cls[NCLS];
    int64_t sel, req, pref, aff, tol, spread, anti, models, frac, ext, gpu;
    int64_t prio0, prio1000, prio100000, prio_sys;
} mix_t;

/* True iff template t has a pod term of kind `kind`, required (weight 0)
 * or preferred (weight > 0) as `required` says. */
static bool has_pterm(const ss_cluster_t *c, const ss_template_t *t, int kind, bool required)
{
    for (int32_t i = 0; i < t->pterm_count; i++) {
        const ss_podterm_t *pt = &c->pterms[t->pterm_begin + i];
        if (pt->kind == kind && (pt->weight == 0) == required)
            return true;
    }
    return false;
}

static int class_of(const ss_cluster_t *c, const ss_template_t *t)
{
    const char *w = ss_cluster_strget(c, t->workload);
    for (int k = 0; k < NCLS; k++)
        if (!strncmp(w, cls_prefix[k], strlen(cls_prefix[k])))
            return k;
    return -1;
}

static void count_pod(const ss_cluster_t *c, const ss_template_t *t, int32_t prio, mix_t *m)
{
    int k = class_of(c, t);
    assert_true(k >= 0 && k != C_RUN);
    m->cls[k]++;
    m->sel += t->sel_count > 0;
    m->req += t->req_count > 0;
    m->pref += t->pref_count > 0;
    m->aff += t->req_count > 0 || t->pref_count > 0;
    m->tol += t->tol_count > 0;
    m->spread += t->spread_count > 0;
    m->anti += has_pterm(c, t, SS_PT_ANTI_AFFINITY, true);
    m->models += t->model_count > 0;
    m->frac += t->req.gpu_count > 0 && t->req.gpu_milli < SS_GPU_MILLI;
    m->gpu += t->req.gpu_count > 0;
    for (int e = 0; e < SS_MAX_EXT; e++)
        if (t->req.ext[e] > 0) {
            m->ext++;
            break;
        }
    m->prio0 += prio == 0;
    m->prio1000 += prio == 1000;
    m->prio100000 += prio == 100000;
    m->prio_sys += prio == SS_GEN_PRIO_SYSTEM;
}

static mix_t mix_of(const ss_cluster_t *c)
{
    mix_t m = {0};
    uint8_t *seen = calloc((size_t)c->n_templates + 1, 1);
    assert_non_null(seen);
    for (int32_t p = 0; p < c->n_pods; p++) {
        const ss_template_t *t = &c->templates[c->pod_template[p]];
        if (c->pod_node[p] >= 0) {
            m.running++;
            continue;
        }
        m.pending++;
        if (!seen[c->pod_template[p]]++)
            m.templates++;
        count_pod(c, t, c->pod_priority[p], &m);
    }
    free(seen);
    return m;
}

/* share of pending pods, in percent */
static double pct(const mix_t *m, int64_t x)
{
    return 100.0 * (double)x / (double)m->pending;
}

#define NEAR(what, got, want, tol)                                                                 \
    do {                                                                                           \
        double g_ = (got);                                                                         \
        if (fabs(g_ - (want)) > (tol))                                                             \
            fail_msg("%s: %.2f%%, want %.2f%% +- %.2f", what, g_, (double)(want), (double)(tol));  \
    } while (0)

static void check_default_mix(uint64_t seed)
{
    ss_gen_opts_t o;
    ss_gen_opts_default(&o);
    o.seed = seed;
    ss_cluster_t *c = gen_with(&o);
    mix_t m = mix_of(c);
    assert_int_equal(m.pending, 20000);
    print_message("seed %llu: pending %lld in %lld templates, running %lld; web %.1f%% batch "
                  "%.1f%% gpu %.1f%% "
                  "gang %.1f%% sys %.1f%% spot %.1f%% nowhere %.1f%%; affinity %.1f%% (pref "
                  "%.1f%%) tol %.1f%% sel %.1f%% models %.1f%% frac %.1f%% ext %.2f%%\n",
                  (unsigned long long)seed, (long long)m.pending, (long long)m.templates,
                  (long long)m.running, pct(&m, m.cls[C_WEB]), pct(&m, m.cls[C_BATCH]),
                  pct(&m, m.cls[C_GPU]), pct(&m, m.cls[C_TRAIN]), pct(&m, m.cls[C_SYS]),
                  pct(&m, m.cls[C_SPOT]), pct(&m, m.cls[C_HUGE]), pct(&m, m.aff), pct(&m, m.pref),
                  pct(&m, m.tol), pct(&m, m.sel), pct(&m, m.models), pct(&m, m.frac),
                  pct(&m, m.ext));
    /* classes (percent of pending pods, +- points) */
    NEAR("services", pct(&m, m.cls[C_WEB]), 59, 2);
    NEAR("batch", pct(&m, m.cls[C_BATCH]), 25, 2);
    NEAR("gpu", pct(&m, m.cls[C_GPU]), 10, 1);
    NEAR("gang members", pct(&m, m.cls[C_TRAIN]), 3, 0.5);
    NEAR("system", pct(&m, m.cls[C_SYS]), 1, 0.3);
    NEAR("spot", pct(&m, m.cls[C_SPOT]), 1, 0.3);
    NEAR("fit nowhere", pct(&m, m.cls[C_HUGE]), 1, 0.3);
    /* constraint shares */
    NEAR("node affinity", pct(&m, m.aff), 10, 2);
    NEAR("preferred affinity", pct(&m, m.pref), 5, 1.5);
    NEAR("tolerations", pct(&m, m.tol), 15, 2);
    NEAR("node selector", pct(&m, m.sel), 7.5, 2.5);
    NEAR("topology spread", pct(&m, m.spread), 20, 5); /* issue 12: on by default */
    NEAR("required pod anti-affinity", pct(&m, m.anti), 2, 1);
    assert_true(m.frac > 0 && m.models > 0 && m.ext > 0);
    assert_true(m.prio0 > 0 && m.prio1000 > 0 && m.prio100000 > 0);
    assert_int_equal(m.prio_sys, m.cls[C_SYS]); /* DaemonSets: system-cluster-critical */
    assert_int_equal(m.prio0 + m.prio1000 + m.prio100000 + m.prio_sys, m.pending);
    /* heavy-tailed workloads: ~50 pods per template in the limit; at 20,000
     * pods the tail is cut at 500, so expect 15..60 */
    double per = (double)m.pending / (double)m.templates;
    if (per < 15 || per > 60)
        fail_msg("%.1f pods per pending template", per);
    /* 1 region, 3 zones at 2,000 nodes (test_gen_zones_by_size); 15% GPU
     * nodes with 8 GPUs */
    assert_int_equal(c->n_gpus, 300 * 8);
    ss_cluster_destroy(c);
}

/* The default cluster (2,000 nodes, 20,000 pods) at a few seeds: the shares
 * are kept by error diffusion, so they hold at every seed, not on average. */
static void test_gen_default_mix_on_default_cluster(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++)
        check_default_mix(seed);
}

static void test_gen_mix_shares_with_all_rules(void **state)
{
    (void)state;
    ss_gen_opts_t o;
    ss_gen_opts_default(&o);
    o.topology_spread = o.pod_anti_affinity = o.gang_topology = true;
    ss_cluster_t *c = gen_with(&o);
    mix_t m = mix_of(c);
    NEAR("topology spread", pct(&m, m.spread), 20, 2);
    NEAR("required pod anti-affinity", pct(&m, m.anti), 2, 1);
    int32_t with_topo = 0;
    for (int32_t g = 0; g < c->n_groups; g++)
        with_topo += c->group_topo_mode[g] != SS_TOPO_MODE_NONE;
    assert_true(c->n_groups > 0 && with_topo > 0);
    ss_cluster_destroy(c);
}

/* Pending replicas are consecutive pods "<app>-<i>" sharing namespace,
 * template, priority and group. */
static void test_gen_replicas_consecutive_and_named(void **state)
{
    (void)state;
    ss_cluster_t *c = gen_default();
    int32_t prev = -1, i = 0;
    char want[128];
    for (int32_t p = 0; p < c->n_pods; p++) {
        if (c->pod_node[p] >= 0)
            continue;
        int32_t t = c->pod_template[p];
        i = t == prev ? i + 1 : 0;
        if (t == prev) {
            assert_int_equal(c->pod_ns[p], c->pod_ns[p - 1]);
            assert_int_equal(c->pod_priority[p], c->pod_priority[p - 1]);
            assert_int_equal(c->pod_group[p], c->pod_group[p - 1]);
        }
        prev = t;
        const ss_template_t *tp = &c->templates[t];
        assert_int_equal(tp->plabel_count, 2);
        snprintf(want, sizeof want, "%s-%d",
                 ss_cluster_strget(c, c->labels[tp->plabel_begin].value), i);
        assert_string_equal(ss_cluster_strget(c, c->pod_name[p]), want);
        if (c->pod_group[p] >= 0 && i == 0)
            assert_int_equal(c->group_min_member[c->pod_group[p]] > 0, 1);
    }
    ss_cluster_destroy(c);
}

/* The "fit nowhere" workloads really fit no node: a resource beyond every
 * node, or a selector that no node's labels match. */
static bool node_has_label(const ss_cluster_t *c, int32_t n, int32_t key, int32_t value)
{
    for (int32_t l = 0; l < c->node_label_count[n]; l++) {
        const ss_label_t *lb = &c->labels[c->node_label_begin[n] + l];
        if (lb->key == key && lb->value == value)
            return true;
    }
    return false;
}

static bool fits_somewhere(const ss_cluster_t *c, const ss_template_t *t)
{
    for (int32_t n = 0; n < c->n_nodes; n++) {
        bool ok = t->req.cpu_milli <= c->node_cpu[n] && t->req.memory <= c->node_mem[n] &&
                  t->req.gpu_count <= c->node_gpu_count[n];
        for (int32_t s = 0; ok && s < t->sel_count; s++)
            ok = node_has_label(c, n, c->labels[t->sel_begin + s].key,
                                c->labels[t->sel_begin + s].value);
        if (ok)
            return true;
    }
    return false;
}

static void test_gen_fit_nowhere_pods_fit_nowhere(void **state)
{
    (void)state;
    ss_cluster_t *c = gen_default();
    int32_t huge = 0;
    for (int32_t t = 0; t < c->n_templates; t++) {
        if (class_of(c, &c->templates[t]) != C_HUGE)
            continue;
        huge++;
        assert_false(fits_somewhere(c, &c->templates[t]));
    }
    assert_true(huge > 0);
    ss_cluster_destroy(c);
}

/* ---- running pods: ~40% used, never over ---- */

static void test_gen_running_usage_near_target_never_over(void **state)
{
    (void)state;
    ss_cluster_t *c = gen_default();
    int32_t nn = c->n_nodes;
    int64_t *cpu = calloc((size_t)nn, 8), *mem = calloc((size_t)nn, 8),
            *pods = calloc((size_t)nn, 8);
    int64_t *ext = calloc((size_t)nn * SS_MAX_EXT, 8);
    int32_t *gpu = calloc((size_t)c->n_gpus + 1, 4);
    assert_true(cpu && mem && pods && ext && gpu);
    for (int32_t p = 0; p < c->n_pods; p++) {
        int32_t n = c->pod_node[p];
        if (n < 0)
            continue;
        const ss_request_t *r = &c->templates[c->pod_template[p]].req;
        cpu[n] += r->cpu_milli;
        mem[n] += r->memory;
        pods[n]++;
        for (int e = 0; e < SS_MAX_EXT; e++)
            ext[(size_t)n * SS_MAX_EXT + e] += r->ext[e];
        for (int b = 0; b < c->node_gpu_count[n]; b++)
            if (c->pod_gpu_mask[p] >> b & 1)
                gpu[c->node_gpu_begin[n] + b] += r->gpu_milli;
    }
    double ucpu = 0, acpu = 0, umem = 0, amem = 0, ugpu = 0, agpu = 0;
    for (int32_t n = 0; n < nn; n++) {
        assert_true(cpu[n] <= c->node_cpu[n]);
        assert_true(mem[n] <= c->node_mem[n]);
        assert_true(pods[n] <= c->node_pods[n]);
        for (int e = 0; e < SS_MAX_EXT; e++)
            assert_true(ext[(size_t)n * SS_MAX_EXT + e] <= c->node_ext[(size_t)n * SS_MAX_EXT + e]);
        ucpu += (double)cpu[n];
        acpu += (double)c->node_cpu[n];
        umem += (double)mem[n];
        amem += (double)c->node_mem[n];
    }
    for (int32_t g = 0; g < c->n_gpus; g++) {
        assert_true(gpu[g] <= c->gpu_milli[g]);
        ugpu += gpu[g];
        agpu += c->gpu_milli[g];
    }
    print_message("running: cpu %.1f%%, memory %.1f%%, gpu %.1f%% of allocatable\n",
                  100 * ucpu / acpu, 100 * umem / amem, 100 * ugpu / agpu);
    NEAR("cpu used", 100 * ucpu / acpu, 40, 8);
    NEAR("memory used", 100 * umem / amem, 40, 8);
    NEAR("gpu used", 100 * ugpu / agpu, 40, 8);
    free(cpu);
    free(mem);
    free(pods);
    free(ext);
    free(gpu);
    ss_cluster_destroy(c);
}

/* ---- topology ---- */

static void test_gen_topology_racks_blocks_zones(void **state)
{
    (void)state;
    ss_gen_opts_t o;
    ss_gen_opts_default(&o);
    o.nodes = 9000; /* 4 zones, 1350 GPU nodes: several blocks */
    o.pods = 1000;
    ss_cluster_t *c = gen_with(&o);
    int32_t zones = 0, rack_n = 0, racks_in_block = 0, max_rack = 0, max_block = 0;
    for (int32_t n = 0; n < c->n_nodes; n++) {
        const int32_t *t = &c->node_topo[(size_t)n * SS_TOPO_STRIDE];
        const int32_t *pt = n ? t - SS_TOPO_STRIDE : NULL;
        zones += !pt || pt[SS_TOPO_ZONE] != t[SS_TOPO_ZONE];
        bool new_block = !pt || pt[SS_TOPO_BLOCK] != t[SS_TOPO_BLOCK];
        bool new_rack = new_block || pt[SS_TOPO_RACK] != t[SS_TOPO_RACK];
        racks_in_block = new_block ? 1 : racks_in_block + new_rack;
        rack_n = new_rack ? 1 : rack_n + 1;
        if (c->node_gpu_count[n] > 0) {
            max_rack = rack_n > max_rack ? rack_n : max_rack;
            max_block = racks_in_block > max_block ? racks_in_block : max_block;
            if (!new_rack) /* one model per rack */
                assert_int_equal(c->gpu_model[c->node_gpu_begin[n]],
                                 c->gpu_model[c->node_gpu_begin[n - 1]]);
        }
        assert_int_equal(t[SS_TOPO_NODE], c->node_name[n]);
    }
    assert_int_equal(zones, 4);
    assert_int_equal(max_rack, 18);
    assert_true(max_block > 1 && max_block <= 32);
    assert_true(ss_cluster_nodes_sorted(c));
    ss_cluster_destroy(c);
}

/* Zones by cluster size: at least three from 3 nodes up (PRODUCT.md: zone
 * spreading must show even in the 2,000-node default cluster), one per 2,000
 * nodes above 6,000, at most eight; nodes split evenly over the zones, and
 * every block and rack inside one zone. */
static void test_gen_zones_by_size(void **state)
{
    (void)state;
    static const int64_t rows[][2] = {{1, 1},    {2, 2},    {3, 3},     {40, 3},    {2000, 3},
                                      {5999, 3}, {8000, 4}, {16000, 8}, {100000, 8}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ss_gen_opts_t o;
        ss_gen_opts_default(&o);
        o.nodes = rows[i][0];
        o.pods = 0;
        ss_cluster_t *c = gen_with(&o);
        int32_t nstr = 0;
        for (size_t k = 0; k < (size_t)c->n_nodes * SS_TOPO_STRIDE; k++)
            nstr = c->node_topo[k] >= nstr ? c->node_topo[k] + 1 : nstr;
        int32_t *zone_of = malloc((size_t)nstr * sizeof *zone_of); /* block/rack -> zone */
        int32_t zones = 0, run = 0, min_run = INT32_MAX, max_run = 0;
        assert_non_null(zone_of);
        for (int32_t k = 0; k < nstr; k++)
            zone_of[k] = -1;
        for (int32_t n = 0; n < c->n_nodes; n++) {
            const int32_t *t = &c->node_topo[(size_t)n * SS_TOPO_STRIDE];
            bool last = n + 1 == c->n_nodes ||
                        t[SS_TOPO_STRIDE + SS_TOPO_ZONE] != t[SS_TOPO_ZONE]; /* next node */
            zones += run++ == 0;
            if (last) {
                min_run = run < min_run ? run : min_run;
                max_run = run > max_run ? run : max_run;
                run = 0;
            }
            for (int lv = SS_TOPO_BLOCK; lv <= SS_TOPO_RACK; lv++) {
                if (zone_of[t[lv]] < 0)
                    zone_of[t[lv]] = t[SS_TOPO_ZONE];
                if (zone_of[t[lv]] != t[SS_TOPO_ZONE])
                    fail_msg("%lld nodes: node %d's block/rack is in two zones", (long long)o.nodes,
                             n);
            }
        }
        /* each of the 5 pools splits over the zones within one node */
        if (zones != rows[i][1] || max_run - min_run > 5)
            fail_msg("%lld nodes: %d zones of %d..%d nodes, want %lld even zones",
                     (long long)o.nodes, zones, min_run, max_run, (long long)rows[i][1]);
        free(zone_of);
        ss_cluster_destroy(c);
    }
}

/* ---- switches ---- */

static int64_t count_feature(const ss_cluster_t *c, size_t field)
{
    int64_t n = 0;
    for (int32_t i = 0; i < c->n_templates; i++) {
        const ss_template_t *t = &c->templates[i];
        if (field == offsetof(ss_gen_opts_t, node_selector))
            n += t->sel_count;
        else if (field == offsetof(ss_gen_opts_t, node_affinity))
            n += t->req_count + t->pref_count;
        else if (field == offsetof(ss_gen_opts_t, taints_tolerations))
            n += t->tol_count;
        else if (field == offsetof(ss_gen_opts_t, gpu))
            n += t->req.gpu_count;
        else if (field == offsetof(ss_gen_opts_t, fractional_gpu))
            n += t->req.gpu_count > 0 && t->req.gpu_milli < SS_GPU_MILLI;
        else if (field == offsetof(ss_gen_opts_t, gpu_models))
            n += t->model_count;
        else if (field == offsetof(ss_gen_opts_t, extended_resources))
            for (int e = 0; e < SS_MAX_EXT; e++)
                n += t->req.ext[e];
        else if (field == offsetof(ss_gen_opts_t, topology_spread))
            n += t->spread_count;
        else if (field == offsetof(ss_gen_opts_t, pod_anti_affinity))
            n += has_pterm(c, t, SS_PT_ANTI_AFFINITY, true) ||
                 has_pterm(c, t, SS_PT_ANTI_AFFINITY, false);
        else if (field == offsetof(ss_gen_opts_t, pod_affinity))
            n += has_pterm(c, t, SS_PT_AFFINITY, true) || has_pterm(c, t, SS_PT_AFFINITY, false);
    }
    if (field == offsetof(ss_gen_opts_t, pdbs))
        n += c->n_pdbs;
    /* preemption: running pods of a class other than batch, pending
     * templates that may preempt */
    for (int32_t p = 0; field == offsetof(ss_gen_opts_t, preemption) && p < c->n_pods; p++)
        n += c->pod_node[p] >= 0 ? c->pod_priority[p] != SS_GEN_PRIO_BATCH
                                 : !(c->templates[c->pod_template[p]].flags & SS_TF_PREEMPT_NEVER);
    if (field == offsetof(ss_gen_opts_t, taints_tolerations))
        n += c->n_taints;
    if (field == offsetof(ss_gen_opts_t, gpu))
        n += c->n_gpus;
    if (field == offsetof(ss_gen_opts_t, gpu_models))
        n += c->n_models;
    if (field == offsetof(ss_gen_opts_t, extended_resources))
        n += c->n_ext;
    if (field == offsetof(ss_gen_opts_t, gangs))
        n += c->n_groups;
    if (field == offsetof(ss_gen_opts_t, node_affinity))
        n += c->n_terms;
    for (int32_t g = 0; field == offsetof(ss_gen_opts_t, gang_topology) && g < c->n_groups; g++)
        n += c->group_topo_mode[g] != SS_TOPO_MODE_NONE;
    for (int32_t i = 0; field == offsetof(ss_gen_opts_t, cordoned) && i < c->n_nodes; i++)
        n += c->node_unsched[i];
    return n;
}

static const struct {
    const char *name;
    size_t field;
} switches[] = {
#define SW(f)                                                                                      \
    {                                                                                              \
#f, offsetof(ss_gen_opts_t, f)                                                             \
    }
    SW(node_selector),
    SW(node_affinity),
    SW(taints_tolerations),
    SW(gpu),
    SW(fractional_gpu),
    SW(gpu_models),
    SW(gangs),
    SW(gang_topology),
    SW(extended_resources),
    SW(cordoned),
    SW(topology_spread),
    SW(pod_anti_affinity),
    SW(pod_affinity),
    SW(pdbs),
    SW(preemption),
#undef SW
};

static void test_gen_each_switch_off_removes_feature(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof switches / sizeof switches[0]; i++) {
        ss_gen_opts_t o;
        ss_gen_opts_default(&o);
        o.pods = 5000;
        o.gang_topology = o.topology_spread = o.pod_anti_affinity = true;
        ss_cluster_t *on = gen_with(&o);
        *(bool *)((char *)&o + switches[i].field) = false;
        ss_cluster_t *off = gen_with(&o);
        int64_t a = count_feature(on, switches[i].field), b = count_feature(off, switches[i].field);
        if (a == 0 || b != 0)
            fail_msg("%s: %lld with the switch on, %lld off", switches[i].name, (long long)a,
                     (long long)b);
        ss_cluster_destroy(on);
        ss_cluster_destroy(off);
    }
}

static void test_gen_gpu_off_removes_gangs_and_gpu_nodes(void **state)
{
    (void)state;
    ss_gen_opts_t o;
    ss_gen_opts_default(&o);
    o.gpu = false;
    ss_cluster_t *c = gen_with(&o);
    assert_int_equal(c->n_gpus, 0);
    assert_int_equal(c->n_groups, 0);
    assert_int_equal(c->n_models, 0);
    mix_t m = mix_of(c);
    assert_int_equal(m.gpu, 0);
    assert_int_equal(m.pending, o.pods);
    ss_cluster_destroy(c);
}

/* ---- bad options ---- */

static void test_gen_bad_opts_rejected(void **state)
{
    (void)state;
    static const struct {
        int64_t nodes, pods;
        double used;
    } rows[] = {
        {0, 10, 0.4},
        {-1, 10, 0.4},
        {SS_GEN_MAX_NODES + 1, 10, 0.4},
        {10, -1, 0.4},
        {10, SS_GEN_MAX_PODS + 1, 0.4},
        {10, 10, -0.1},
        {10, 10, 0.95},
        {10, 10, NAN},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ss_gen_opts_t o;
        ss_gen_opts_default(&o);
        o.nodes = rows[i].nodes;
        o.pods = rows[i].pods;
        o.used = rows[i].used;
        ss_cluster_t *c = (ss_cluster_t *)&o; /* must be reset to NULL */
        ss_error_t err = {{0}};
        int rc = ss_gen(&o, &c, &err);
        assert_true(rc < 0);
        assert_null(c);
        assert_true(strlen(err.text) > 0);
        assert_non_null(strstr(err.text, "gen:"));
    }
    ss_cluster_t *c = NULL;
    assert_int_equal(ss_gen_opts_check(NULL, NULL), SS_EINVAL);
    (void)c;
}

/* ---- the command line (the real binary, one process) ---- */

/* Runs "SS_BINARY gen ARGS" in dir with stderr to dir/err.txt; returns the
 * exit status, or -1 if it did not exit normally. */
static int run_gen(const char *dir, const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 '%s' gen %s "
             ">out.txt 2>err.txt",
             dir, SS_BINARY, args);
    int st = system(cmd);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool same_file(const char *a, const char *b)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

static void test_cmd_gen_bad_args_exit_2_no_file(void **state)
{
    (void)state;
    if (access(SS_BINARY, X_OK) != 0)
        skip();
    char dir[] = "/tmp/test_gen_XXXXXX";
    assert_non_null(mkdtemp(dir));
    static const char *bad[] = {
        "--nodes -1 -o c.h5",
        "--nodes abc -o c.h5",
        "--nodes 10000001 -o c.h5",
        "--pods 100000001 -o c.h5",
        "--pods 1e5 -o c.h5",
        "--nodes 0 -o c.h5",
        "--seed -3 -o c.h5",
        "--nodes 10",
        "--bogus -o c.h5",
        "--used 2 -o c.h5",
        "-o",
        "--pods",
    };
    char path[512];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int st = run_gen(dir, bad[i]);
        if (st != 2)
            fail_msg("'gen %s' exited %d, want 2", bad[i], st);
        snprintf(path, sizeof path, "%s/c.h5", dir);
        assert_int_not_equal(access(path, F_OK), 0);
    }
    assert_int_equal(run_gen(dir, "--help"), 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_cmd_gen_same_seed_same_file(void **state)
{
    (void)state;
    if (access(SS_BINARY, X_OK) != 0)
        skip();
    char dir[] = "/tmp/test_gen_XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(run_gen(dir, "--nodes 300 --pods 3000 --seed 9 -o a.h5"), 0);
    assert_int_equal(run_gen(dir, "--nodes 300 --pods 3000 --seed 9 -o b.h5"), 0);
    assert_int_equal(run_gen(dir, "--nodes 300 --pods 3000 --seed 10 -o c.h5"), 0);
    char a[512], b[512], c[512];
    snprintf(a, sizeof a, "%s/a.h5", dir);
    snprintf(b, sizeof b, "%s/b.h5", dir);
    snprintf(c, sizeof c, "%s/c.h5", dir);
    assert_true(same_file(a, b));
    assert_false(same_file(a, c));
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gen_same_seed_identical),
        cmocka_unit_test(test_gen_other_seed_differs),
        cmocka_unit_test(test_gen_validates_at_odd_sizes),
        cmocka_unit_test(test_gen_default_mix_on_default_cluster),
        cmocka_unit_test(test_gen_mix_shares_with_all_rules),
        cmocka_unit_test(test_gen_replicas_consecutive_and_named),
        cmocka_unit_test(test_gen_fit_nowhere_pods_fit_nowhere),
        cmocka_unit_test(test_gen_running_usage_near_target_never_over),
        cmocka_unit_test(test_gen_topology_racks_blocks_zones),
        cmocka_unit_test(test_gen_zones_by_size),
        cmocka_unit_test(test_gen_each_switch_off_removes_feature),
        cmocka_unit_test(test_gen_gpu_off_removes_gangs_and_gpu_nodes),
        cmocka_unit_test(test_gen_bad_opts_rejected),
        cmocka_unit_test(test_cmd_gen_bad_args_exit_2_no_file),
        cmocka_unit_test(test_cmd_gen_same_seed_same_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
