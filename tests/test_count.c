/* test_count: mpi/ss_count, the PMPI wrapper that counts the explicit MPI
 * collectives of a phase (bench's `collectives`), checked against a hand
 * count of known calls at one rank (MPI singleton); and engine/ss_volume,
 * the nodes-used-against-the-volume-lower-bound figure of bench, on a
 * cluster small enough to work out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <mpi.h>

#include "ss_count.h"
#include "ss_dist.h"
#include "ss_volume.h"

/* Nine collectives (two non-blocking, completed by MPI_Wait, not counted). */
static void test_count_known_calls(void **state)
{
    (void)state;
    int a = 1, b = 0, all[1], counts[1] = {1}, displs[1] = {0};
    MPI_Request req;
    ss_count_reset();
    assert_int_equal(ss_count_collectives(), 0);
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Bcast(&a, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Allreduce(&a, &b, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &b, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allgather(&a, 1, MPI_INT, all, 1, MPI_INT, MPI_COMM_WORLD);
    MPI_Allgatherv(&a, 1, MPI_INT, all, counts, displs, MPI_INT, MPI_COMM_WORLD);
    MPI_Reduce(&a, &b, 1, MPI_INT, MPI_MAX, 0, MPI_COMM_WORLD);
    MPI_Iallreduce(&a, &b, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD, &req);
    MPI_Wait(&req, MPI_STATUS_IGNORE);
    MPI_Ibarrier(MPI_COMM_WORLD, &req);
    MPI_Wait(&req, MPI_STATUS_IGNORE);
    assert_int_equal(ss_count_collectives(), 9);
    assert_int_equal(b, 1); /* the calls still do their work */
    assert_true(ss_count_seconds() >= 0);
    /* ss_dist's agreement is one MPI_Allreduce each */
    ss_error_t err = {""};
    assert_int_equal(ss_dist_agree(MPI_COMM_WORLD, 0), 0);
    assert_int_equal(ss_dist_agree_err(MPI_COMM_WORLD, 0, "x", &err), 0);
    assert_int_equal(ss_count_collectives(), 11);
    ss_count_reset();
    assert_int_equal(ss_count_collectives(), 0);
    assert_true(ss_count_seconds() == 0);
}

/* Nodes n0 (8 cpu, running pod: not empty), n1 (4 cpu, 8 GiB), n2 (2 cpu,
 * 32 GiB), n3 (1 cpu, 4 GiB); pods of 1.5 cpu, 2 GiB. Three pods placed on
 * n1, n1, n2, one on n0 (not counted), one unplaced: 2 empty nodes used;
 * cpu 4.5 needs 4 + 2 (2 nodes), memory 6 GiB one node, pods one: bound 2. */
static void test_volume_by_hand(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    int32_t s = ss_cluster_str(c, "x"), topo[4] = {s, s, s, s};
    const int64_t cpu[4] = {8000, 4000, 2000, 1000}, gib = 1ll << 30;
    const int64_t mem[4] = {16 * gib, 8 * gib, 32 * gib, 4 * gib};
    for (int i = 0; i < 4; i++) {
        char name[8];
        snprintf(name, sizeof name, "n%d", i);
        assert_int_equal(ss_cluster_add_node(c, ss_cluster_str(c, name), topo, cpu[i], mem[i], 110,
                                             NULL, false, 0, 0, 0, 0, 0, 0),
                         i);
    }
    ss_template_t t;
    memset(&t, 0, sizeof t);
    t.req.cpu_milli = 1500;
    t.req.memory = 2 * gib;
    assert_int_equal(ss_cluster_add_template(c, &t), 0);
    assert_int_equal(ss_cluster_add_pod(c, s, s, 0, 0, -1, 0, 0), 0); /* running on n0 */
    for (int i = 1; i <= 5; i++)
        assert_int_equal(ss_cluster_add_pod(c, s, s, 0, 0, -1, -1, 0), i);
    ss_placements_t *p = ss_placements_create(5);
    assert_non_null(p);
    const int32_t node[5] = {1, 1, 2, 0, -1};
    for (int i = 0; i < 5; i++) {
        p->pod[i] = i + 1;
        p->node[i] = node[i];
    }
    ss_volume_t v;
    ss_error_t err = {""};
    assert_int_equal(ss_volume_bound(c, p, &v, &err), 0);
    assert_int_equal(v.empty_nodes, 3);
    assert_int_equal(v.used, 2);
    assert_int_equal(v.bound, 2);
    assert_string_equal(ss_volume_res_name(c, v.bound_res), "cpu");
    /* all three on n2 (32 GiB holds 6 GiB): one node used, cpu still needs 2 */
    p->node[0] = p->node[1] = 2;
    assert_int_equal(ss_volume_bound(c, p, &v, &err), 0);
    assert_int_equal(v.used, 1);
    assert_int_equal(v.bound, 2);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_known_calls),
        cmocka_unit_test(test_volume_by_hand),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    MPI_Finalize();
    return rc;
}
