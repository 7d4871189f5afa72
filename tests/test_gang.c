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
#include "ss_test_gangs.h"

/* Shard sizes 1, 2, 5 (a gang spans shards) x 1-2 threads against the reference. */
static ss_placements_t *schedule(const ss_cluster_t *c)
{
    static const int32_t sizes[] = {1, 2, 5};
    return ss_test_schedule(c, sizes, 3);
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
    return c->node_topo[(size_t)node * SS_TOPO_STRIDE + level];
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
