/* Partitions and spill (engine/ss_sched_spill.c): hand-made clusters cut
 * into small partitions, with answers computed by hand: pods that do not
 * fit their home partition spill to one that holds them, pod groups larger
 * than a partition are placed across partitions (inside one topology domain
 * when they require it), and every result is the same at every shard size
 * and thread count and passes the independent verifier. */
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
#include "ss_test_gangs.h"
#include "ss_verify.h"

/* Schedules c cut into partitions of part_nodes nodes at shard sizes 1, 2,
 * 64 and 1-2 threads; asserts every run agrees, the layout has n_parts
 * partitions, and the verifier finds nothing. Returns the result. */
static ss_placements_t *schedule_parts(const ss_cluster_t *c, int32_t part_nodes, int32_t n_parts)
{
    ss_error_t err;
    assert_int_equal(ss_cluster_validate(c, &err), 0);
    ss_queue_t *q = ss_queue_build(c, &err);
    assert_non_null(q);
    const ss_policy_t *pol = ss_policy_find("least-allocated");
    ss_placements_t *first = NULL;
    int32_t sizes[] = {1, 2, 64};
    for (int si = 0; si < 3; si++)
        for (int th = 1; th <= 2; th++) {
            omp_set_num_threads(th);
            ss_layout_t l;
            ss_layout_build(c, part_nodes, sizes[si], &l);
            assert_int_equal(l.n_parts, n_parts);
            ss_sched_t *s = ss_sched_create(c, pol, &l, 0, l.n_parts, &err);
            assert_non_null(s);
            ss_placements_t *got = ss_placements_create(q->n_order);
            assert_int_equal(ss_sched_run(s, q->order, q->units, q->n_units, NULL, got, &err), 0);
            ss_sched_destroy(s);
            ss_verify_report_t rep = {0};
            assert_int_equal(ss_verify(c, got, &rep, &err), 0);
            ss_verify_report_free(&rep);
            if (!first) {
                first = got;
                continue;
            }
            for (int32_t i = 0; i < got->n; i++) {
                assert_int_equal(got->node[i], first->node[i]);
                assert_int_equal(got->reason[i], first->reason[i]);
                assert_true(got->gpu_mask[i] == first->gpu_mask[i]);
            }
            ss_placements_destroy(got);
        }
    ss_queue_destroy(q);
    return first;
}

static int32_t row_of(const ss_cluster_t *c, const ss_placements_t *p, const char *pod)
{
    for (int32_t i = 0; i < p->n; i++)
        if (!strcmp(ss_cluster_strget(c, c->pod_name[p->pod[i]]), pod))
            return i;
    fail_msg("no pending pod %s", pod);
    return -1;
}

static void test_layout_cuts_partitions_on_block_boundaries(void **state)
{
    (void)state;
    /* 12 nodes, racks of 2, blocks of 3 racks (6 nodes). Partitions of 4:
     * cuts at 4 and 8, both rack boundaries; the search window (a quarter
     * of 12 / 3 + 1 = 5 nodes: 1) reaches no block boundary. */
    ss_cluster_t *c = gpu_cluster(12, 2, 3, NULL);
    ss_layout_t l;
    ss_layout_build(c, 4, 2, &l);
    assert_int_equal(l.n_parts, 3);
    assert_int_equal(ss_layout_node_lo(&l, 0), 0);
    assert_int_equal(ss_layout_node_lo(&l, 1), 4);
    assert_int_equal(ss_layout_node_lo(&l, 2), 8);
    assert_int_equal(ss_layout_node_lo(&l, 3), 12);
    assert_int_equal(l.n_shards, 6); /* two shards of 2 nodes per partition */
    /* Partitions of 8: two of them, one cut at 12 / 2 = 6, the block
     * boundary; one shard each at the default shard size. */
    ss_layout_build(c, 8, 512, &l);
    assert_int_equal(l.n_parts, 2);
    assert_int_equal(ss_layout_node_lo(&l, 1), 6);
    assert_int_equal(l.n_shards, 2);
    /* More than the cap: never more than SS_SCHED_MAX_PARTS partitions. */
    ss_layout_build(c, 1, 1, &l);
    assert_int_equal(l.n_parts, 12);
    ss_cluster_destroy(c);
}

static void test_pods_that_do_not_fit_their_home_spill_to_a_partition_that_holds_them(void **state)
{
    (void)state;
    /* 8 nodes in 2 partitions of 4; nodes 0-3 have every GPU taken. 16
     * one-GPU pods of 16 templates (16 items, homes drawn over both
     * partitions): those homed in partition 0 find no GPU there and spill
     * to partition 1, which has 32 free GPUs: all 16 land on nodes 4-7. */
    int32_t busy[8] = {8, 8, 8, 8, 0, 0, 0, 0};
    ss_cluster_t *c = gpu_cluster(8, 2, 2, busy);
    for (int i = 0; i < 16; i++) {
        char name[16];
        snprintf(name, sizeof name, "web%d", i);
        add_small(c, name, 1);
    }
    ss_placements_t *p = schedule_parts(c, 4, 2);
    int gpus[8] = {0};
    for (int32_t i = 0; i < p->n; i++) {
        if (c->pod_node[p->pod[i]] >= 0)
            continue;
        assert_true(p->node[i] >= 4 && p->node[i] < 8);
        gpus[p->node[i]]++;
    }
    for (int32_t n = 4; n < 8; n++)
        assert_true(gpus[n] <= 8);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_pods_that_fit_nowhere_keep_the_reason_of_the_last_partition(void **state)
{
    (void)state;
    /* Every GPU taken: the pods try both partitions and stay pending with
     * "insufficient nvidia.com/gpu" (the reason every node gives). */
    int32_t busy[8] = {8, 8, 8, 8, 8, 8, 8, 8};
    ss_cluster_t *c = gpu_cluster(8, 2, 2, busy);
    add_small(c, "web", 3);
    ss_placements_t *p = schedule_parts(c, 4, 2);
    for (int32_t i = 0; i < 3; i++) {
        assert_int_equal(p->node[i], -1);
        assert_int_equal(p->reason[i], SS_REASON_GPU);
    }
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_gang_larger_than_a_partition_is_placed_across_partitions(void **state)
{
    (void)state;
    /* Partitions of 4 nodes hold 4 eight-GPU pods each; a gang of 6 fits
     * neither, so it is placed across: members 0-3 in partition 0 (its
     * share), 4-5 in partition 1, all on distinct nodes. */
    ss_cluster_t *c = gpu_cluster(8, 2, 2, NULL);
    add_gang(c, "train", 6, 6, 0, SS_TOPO_MODE_NONE);
    ss_placements_t *p = schedule_parts(c, 4, 2);
    int32_t r0 = row_of(c, p, "train-0");
    int used[8] = {0};
    for (int32_t i = 0; i < 6; i++) {
        int32_t n = p->node[r0 + i];
        assert_true(n >= 0);
        assert_true(i < 4 ? n < 4 : n >= 4);
        assert_int_equal(used[n]++, 0);
    }
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_gang_requiring_a_block_across_partitions_stays_in_that_block(void **state)
{
    (void)state;
    /* 16 nodes, racks of 2, blocks of 8 nodes, partitions of 4: block 0 is
     * nodes 0-7 (partitions 0 and 1). Nodes 0-1 and 8-13 are busy, so block
     * 0 has 6 free nodes and block 1 only 2. A gang of 6 that requires one
     * block fits no partition alone; across partitions only block 0 holds
     * it: nodes 2-7, never a node of block 1. A gang of 3 that requires one
     * rack (2 nodes) fits no rack and stays pending. */
    int32_t busy[16] = {8, 8, 0, 0, 0, 0, 0, 0, 8, 8, 8, 8, 8, 8, 0, 0};
    ss_cluster_t *c = gpu_cluster(16, 2, 4, busy);
    add_gang(c, "big", 6, 6, SS_TOPO_BLOCK, SS_TOPO_MODE_REQUIRED);
    add_gang(c, "rack3", 3, 3, SS_TOPO_RACK, SS_TOPO_MODE_REQUIRED);
    ss_placements_t *p = schedule_parts(c, 4, 4);
    int32_t r0 = row_of(c, p, "big-0");
    for (int32_t i = 0; i < 6; i++)
        assert_true(p->node[r0 + i] >= 2 && p->node[r0 + i] < 8);
    int32_t r1 = row_of(c, p, "rack3-0");
    for (int32_t i = 0; i < 3; i++) {
        assert_int_equal(p->node[r1 + i], -1);
        assert_int_equal(p->reason[r1 + i], SS_REASON_TOPOLOGY);
    }
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_gang_that_fits_nowhere_is_not_partly_placed(void **state)
{
    (void)state;
    /* 9 eight-GPU pods on 8 nodes: neither a partition nor the whole
     * cluster holds them; nothing of the gang stays placed, and the small
     * pods after it still land. */
    ss_cluster_t *c = gpu_cluster(8, 2, 2, NULL);
    add_gang(c, "huge", 9, 9, 0, SS_TOPO_MODE_NONE);
    add_small(c, "web", 2);
    ss_placements_t *p = schedule_parts(c, 4, 2);
    int32_t r0 = row_of(c, p, "huge-0");
    for (int32_t i = 0; i < 9; i++)
        assert_int_equal(p->node[r0 + i], -1);
    assert_true(p->node[row_of(c, p, "web-0")] >= 0);
    assert_true(p->node[row_of(c, p, "web-1")] >= 0);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_cuts_partitions_on_block_boundaries),
        cmocka_unit_test(test_pods_that_do_not_fit_their_home_spill_to_a_partition_that_holds_them),
        cmocka_unit_test(test_pods_that_fit_nowhere_keep_the_reason_of_the_last_partition),
        cmocka_unit_test(test_gang_larger_than_a_partition_is_placed_across_partitions),
        cmocka_unit_test(test_gang_requiring_a_block_across_partitions_stays_in_that_block),
        cmocka_unit_test(test_gang_that_fits_nowhere_is_not_partly_placed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
