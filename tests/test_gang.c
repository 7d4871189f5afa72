/* Gangs (pod groups) and topology-aware placement: hand-made clusters with
 * known answers, each also checked against the naive reference, at several
 * shard sizes (so a gang spans shards) and thread counts. */
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
#include "ss_sched.h"

static int32_t S(ss_cluster_t *c, const char *s)
{
    return ss_cluster_str(c, s);
}

/* GPU nodes: racks of `per_rack` nodes, `racks_per_block` racks per block,
 * 8 GPUs each; busy[i] GPUs of node i are taken by a running pod. */
static ss_cluster_t *gpu_cluster(int32_t n, int32_t per_rack, int32_t racks_per_block,
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
            ss_cluster_add_pod(c, S(c, name), S(c, "default"), t, 0, -1, i, UINT64_C(1) << g);
        }
    return c;
}

/* A gang of `size` pods of 8 GPUs each; returns the group index. */
static int32_t add_gang(ss_cluster_t *c, const char *name, int32_t size, int32_t min, int level,
                        int mode)
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

static void add_small(ss_cluster_t *c, const char *name, int32_t n)
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

/* Schedules with the fast engine at shard size 1, 2, 5 and 1-2 threads and
 * with the reference; asserts all agree and returns the fast result. */
static ss_placements_t *schedule(const ss_cluster_t *c)
{
    ss_error_t err;
    assert_int_equal(ss_cluster_validate(c, &err), 0);
    ss_queue_t *q = ss_queue_build(c, &err);
    const ss_policy_t *pol = ss_policy_find("least-allocated");
    ss_placements_t *ref = ss_placements_create(q->n_order);
    assert_int_equal(ss_exhaustive_run(c, pol, q->order, q->units, q->n_units, ref, &err), 0);
    ss_placements_t *got = NULL;
    int32_t sizes[] = {1, 2, 5};
    for (int si = 0; si < 3; si++)
        for (int th = 1; th <= 2; th++) {
            omp_set_num_threads(th);
            int32_t bounds[SS_SCHED_MAX_SHARDS + 1];
            int32_t ns = ss_sched_shards(c, sizes[si], bounds);
            ss_sched_t *s = ss_sched_create(c, pol, sizes[si], 0, ns, &err);
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

static int32_t row_of(const ss_cluster_t *c, const ss_placements_t *p, const char *pod)
{
    for (int32_t i = 0; i < p->n; i++)
        if (!strcmp(ss_cluster_strget(c, c->pod_name[p->pod[i]]), pod))
            return i;
    fail_msg("no pending pod %s", pod);
    return -1;
}

static int32_t rack_of(const ss_cluster_t *c, int32_t node, int level)
{
    return c->node_topo[(size_t)node * SS_TOPO_NLEVELS + level];
}

static void test_gang_spanning_shards_is_placed(void **state)
{
    (void)state;
    ss_cluster_t *c = gpu_cluster(8, 8, 1, NULL);
    add_gang(c, "train", 6, 6, 0, SS_TOPO_MODE_NONE);
    ss_placements_t *p = schedule(c); /* shard sizes 1, 2, 5: the gang spans shards */
    for (int32_t i = 0; i < 6; i++)
        assert_true(p->node[i] >= 0);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_gang_that_fits_nowhere_is_rolled_back_and_frees_room(void **state)
{
    (void)state;
    ss_cluster_t *c = gpu_cluster(8, 8, 1, NULL);
    add_gang(c, "huge", 10, 10, 0, SS_TOPO_MODE_NONE); /* 10 nodes' worth on 8 nodes */
    add_gang(c, "fits", 8, 8, 0, SS_TOPO_MODE_NONE);   /* needs every node: only if rolled back */
    ss_placements_t *p = schedule(c);
    for (int32_t i = 0; i < 10; i++) {
        assert_int_equal(p->node[row_of(c, p, "huge-0") + i], -1);
        assert_true(p->reason[i] == SS_REASON_GANG || p->reason[i] == SS_REASON_GPU);
    }
    for (int32_t i = 0; i < 8; i++)
        assert_true(p->node[row_of(c, p, "fits-0") + i] >= 0);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_gang_asking_block_that_fits_a_rack_gets_one_rack(void **state)
{
    (void)state;
    /* 4 racks of 4 nodes, 2 racks a block. Rack 2 is the only rack with
     * exactly 3 free nodes (best fit); without topology the lowest free
     * nodes (0, 1, 2 in rack 0) would win the tie. */
    int32_t busy[16] = {0, 0, 0, 0, 8, 8, 8, 8, 8, 0, 0, 0, 0, 0, 0, 0};
    ss_cluster_t *c = gpu_cluster(16, 4, 2, busy);
    add_gang(c, "job", 3, 3, SS_TOPO_BLOCK, SS_TOPO_MODE_REQUIRED);
    ss_placements_t *p = schedule(c);
    int32_t r0 = row_of(c, p, "job-0");
    for (int32_t i = 0; i < 3; i++) {
        assert_true(p->node[r0 + i] >= 9 && p->node[r0 + i] < 12); /* rack-002 */
        assert_int_equal(rack_of(c, p->node[r0 + i], SS_TOPO_RACK),
                         rack_of(c, p->node[r0], SS_TOPO_RACK));
    }
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_gang_needing_a_block_never_straddles_two(void **state)
{
    (void)state;
    /* 6 pods need 2 racks. Block 0 has 1 + 4 free nodes, block 1 has 4 + 2:
     * without topology the six lowest free nodes (3..8) straddle both. */
    int32_t busy[16] = {8, 8, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 8};
    ss_cluster_t *c = gpu_cluster(16, 4, 2, busy);
    add_gang(c, "big", 6, 6, SS_TOPO_BLOCK, SS_TOPO_MODE_REQUIRED);
    ss_placements_t *p = schedule(c);
    int32_t r0 = row_of(c, p, "big-0");
    for (int32_t i = 0; i < 6; i++) {
        assert_true(p->node[r0 + i] >= 0);
        assert_true(p->node[r0 + i] >= 8); /* block-01 */
        assert_int_equal(rack_of(c, p->node[r0 + i], SS_TOPO_BLOCK),
                         rack_of(c, p->node[r0], SS_TOPO_BLOCK));
    }
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_gang_required_rack_without_room_is_rejected_preferred_is_placed(void **state)
{
    (void)state;
    int32_t busy[8] = {8, 0, 0, 8, 0, 0, 8, 0}; /* racks of 4: at most 3 free per rack */
    ss_cluster_t *c = gpu_cluster(8, 4, 2, busy);
    add_gang(c, "strict", 4, 4, SS_TOPO_RACK, SS_TOPO_MODE_REQUIRED);
    add_gang(c, "loose", 4, 4, SS_TOPO_RACK, SS_TOPO_MODE_PREFERRED);
    add_small(c, "small", 2); /* not blocked by the rejected gang */
    ss_placements_t *p = schedule(c);
    int32_t rs = row_of(c, p, "strict-0"), rl = row_of(c, p, "loose-0");
    for (int32_t i = 0; i < 4; i++) {
        assert_int_equal(p->node[rs + i], -1);
        assert_int_equal(p->reason[rs + i], SS_REASON_TOPOLOGY);
        assert_true(p->node[rl + i] >= 0);
    }
    assert_true(p->node[row_of(c, p, "small-0")] >= 0);
    assert_true(p->node[row_of(c, p, "small-1")] >= 0);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gang_spanning_shards_is_placed),
        cmocka_unit_test(test_gang_that_fits_nowhere_is_rolled_back_and_frees_room),
        cmocka_unit_test(test_gang_asking_block_that_fits_a_rack_gets_one_rack),
        cmocka_unit_test(test_gang_needing_a_block_never_straddles_two),
        cmocka_unit_test(test_gang_required_rack_without_room_is_rejected_preferred_is_placed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
