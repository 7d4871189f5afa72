/* ss_test_gangs: hand-made GPU clusters and pod groups shared by the gang
 * and partition tests (test_gang.c, test_spill.c). Include after cmocka. */
#ifndef SS_TEST_GANGS_H
#define SS_TEST_GANGS_H

#include <omp.h>
#include <stdio.h>

#include "ss_cluster.h"
#include "ss_queue.h"
#include "ss_sched.h"

static inline int32_t S(ss_cluster_t *c, const char *s)
{
    return ss_cluster_str(c, s);
}

/* GPU nodes: racks of `per_rack` nodes, `racks_per_block` racks per block,
 * 8 GPUs each; busy[i] GPUs of node i are taken by a running pod. */
static inline ss_cluster_t *gpu_cluster(int32_t n, int32_t per_rack, int32_t racks_per_block,
                                        const int32_t *busy)
{
    ss_cluster_t *c = ss_cluster_create();
    ss_template_t run = {
        .req = {.cpu_milli = 1000, .memory = 1 << 30, .gpu_count = 1, .gpu_milli = 1000}};
    int32_t model = S(c, "H100");
    for (int32_t i = 0; i < n; i++) {
        char name[32], rack[32], block[32];
        snprintf(name, sizeof name, "gpu-%03d", i);
        snprintf(rack, sizeof rack, "rack-%03d", i / per_rack);
        snprintf(block, sizeof block, "block-%02d", i / (per_rack * racks_per_block));
        int32_t gb = c->n_gpus;
        for (int g = 0; g < 8; g++)
            ss_cluster_add_gpu(c, model, 1000);
        int32_t topo[4] = {S(c, "region"), S(c, "zone-a"), S(c, block), S(c, rack)};
        ss_cluster_add_node(c, S(c, name), topo, 96000, (int64_t)1 << 40, 110, NULL, false,
                            c->n_labels, 0, c->n_taints, 0, gb, 8);
    }
    for (int32_t i = 0; i < n && busy; i++)
        for (int32_t g = 0; g < busy[i]; g++) {
            char name[32];
            snprintf(name, sizeof name, "running-%d-%d", i, g);
            int32_t t = ss_cluster_add_template(c, &run);
            ss_cluster_add_pod(c, S(c, name), S(c, "default"), t, 100, -1, i, UINT64_C(1) << g);
        }
    return c;
}

/* A gang of `size` pods of 8 GPUs each; returns the group index. */
static inline int32_t add_gang(ss_cluster_t *c, const char *name, int32_t size, int32_t min,
                               int level, int mode)
{
    ss_template_t t = {
        .req = {.cpu_milli = 8000, .memory = 1 << 30, .gpu_count = 8, .gpu_milli = 1000}};
    int32_t ti = ss_cluster_add_template(c, &t);
    int32_t g = ss_cluster_add_group(c, S(c, name), min, level, mode);
    for (int32_t i = 0; i < size; i++) {
        char pod[64];
        snprintf(pod, sizeof pod, "%s-%d", name, i);
        ss_cluster_add_pod(c, S(c, pod), S(c, "default"), ti, 100, g, -1, 0);
    }
    return g;
}

static inline void add_small(ss_cluster_t *c, const char *name, int32_t n)
{
    ss_template_t t = {
        .req = {.cpu_milli = 100, .memory = 1 << 20, .gpu_count = 1, .gpu_milli = 1000}};
    int32_t ti = ss_cluster_add_template(c, &t);
    for (int32_t i = 0; i < n; i++) {
        char pod[64];
        snprintf(pod, sizeof pod, "%s-%d", name, i);
        ss_cluster_add_pod(c, S(c, pod), S(c, "default"), ti, 0, -1, -1, 0);
    }
}

/* Schedules with the fast engine at each shard size of sizes[0..n) and 1-2
 * threads and with the reference (--exhaustive, least-allocated); asserts
 * all agree and returns the fast result. */
static inline ss_placements_t *ss_test_schedule(const ss_cluster_t *c, const int32_t *sizes,
                                                int n_sizes)
{
    ss_error_t err;
    assert_int_equal(ss_cluster_validate(c, &err), 0);
    ss_queue_t *q = ss_queue_build(c, &err);
    const ss_policy_t *pol = ss_policy_find("least-allocated");
    ss_placements_t *ref = ss_placements_create(q->n_order);
    assert_int_equal(ss_exhaustive_run(c, pol, q->order, q->units, q->n_units, ref, &err), 0);
    ss_placements_t *got = NULL;
    for (int si = 0; si < n_sizes; si++)
        for (int th = 1; th <= 2; th++) {
            omp_set_num_threads(th);
            ss_layout_t l;
            ss_layout_build(c, 0, sizes[si], &l);
            ss_sched_t *s = ss_sched_create(c, pol, &l, 0, l.n_parts, &err);
            assert_non_null(s);
            ss_placements_destroy(got);
            got = ss_placements_create(q->n_order);
            assert_int_equal(ss_sched_run(s, q->order, q->units, q->n_units, NULL, got, &err), 0);
            ss_sched_destroy(s);
            for (int32_t i = 0; i < got->n; i++) {
                assert_int_equal(got->node[i], ref->node[i]);
                assert_int_equal(got->reason[i], ref->reason[i]);
            }
        }
    ss_placements_destroy(ref);
    ss_queue_destroy(q);
    return got;
}

#endif
