/* Tests of the parallel snapshot reader and placements writer
 * (io/ss_snapshot_mpi.c), at one rank (MPI singleton): the parallel reader
 * must return the cluster the serial reader returns (a rewrite of each is
 * byte-identical, which also catches its column table drifting from
 * ss_snapshot.c's), the parallel writer must write what the serial writer
 * writes (h5diff finds no difference), and bad input gives one message and
 * no file. Several ranks are covered by tests/e2e_parallel_io.sh. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <mpi.h>

#include "ss_dist.h"
#include "ss_gen.h"
#include "ss_queue.h"
#include "ss_reason.h"
#include "ss_sched.h"
#include "ss_snapshot_mpi.h"

#include "ss_test_files.h"

static bool same_bytes(const char *a, const char *b)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

/* A generated cluster with every rule family, written to cluster.h5. */
static ss_cluster_t *cluster(void)
{
    ss_gen_opts_t o;
    ss_gen_opts_default(&o);
    o.nodes = 700;
    o.pods = 3000;
    o.seed = 7;
    o.gang_topology = o.topology_spread = o.pod_anti_affinity = true;
    ss_cluster_t *c = NULL;
    ss_error_t err = {""};
    assert_int_equal(ss_gen(&o, &c, &err), 0);
    assert_int_equal(ss_snapshot_write(wpath("cluster.h5"), c, &err), 0);
    return c;
}

/* Placements of c by the naive reference. */
static ss_placements_t *placements(const ss_cluster_t *c)
{
    ss_error_t err = {""};
    int32_t pending = 0;
    for (int32_t p = 0; p < c->n_pods; p++)
        pending += c->pod_node[p] < 0;
    ss_placements_t *pl = ss_placements_create(pending);
    ss_queue_t *q = ss_queue_build(c, &err);
    assert_non_null(pl);
    assert_non_null(q);
    snprintf(pl->policy, sizeof pl->policy, "least-allocated");
    assert_int_equal(ss_exhaustive_run(c, ss_policy_find("least-allocated"), q->order, q->units,
                                       q->n_units, pl, &err),
                     0);
    ss_queue_destroy(q);
    return pl;
}

/* The parallel reader in its two steps, with the partition in between as
 * cli/ss_run.c computes it. */
static int read_mpi(const char *path, int32_t shard_nodes, ss_cluster_t **out, int32_t *lo,
                    int32_t *hi, ss_error_t *err)
{
    ss_snapshot_mpi_reader_t *r = NULL;
    ss_dist_part_t part;
    int rc = ss_snapshot_read_mpi_begin(path, MPI_COMM_WORLD, &r, out, err);
    if (rc < 0)
        return rc;
    ss_layout_t l; /* small partitions: every rank reads a different range */
    ss_layout_build(*out, shard_nodes, shard_nodes, &l);
    ss_dist_partition(MPI_COMM_WORLD, &l, &part);
    *lo = part.node_lo;
    *hi = part.node_hi;
    rc = ss_snapshot_read_mpi_end(r, *out, part.node_lo, part.node_hi, err);
    if (rc < 0) {
        ss_cluster_destroy(*out);
        *out = NULL;
    }
    return rc;
}

static void test_snapshot_read_mpi_matches_serial(void **state)
{
    (void)state;
    ss_cluster_destroy(cluster());
    ss_cluster_t *a = NULL, *b = NULL;
    ss_error_t err = {""};
    int32_t lo = -1, hi = -1;
    assert_int_equal(ss_snapshot_read(wpath("cluster.h5"), &a, &err), 0);
    int rc = read_mpi(wpath("cluster.h5"), 64, &b, &lo, &hi, &err);
    if (rc != 0)
        fail_msg("%s", err.text);
    assert_int_equal(lo, 0);
    assert_int_equal(hi, a->n_nodes); /* one rank owns every node */
    assert_int_equal(ss_snapshot_write(wpath("a.h5"), a, &err), 0);
    assert_int_equal(ss_snapshot_write(wpath("b.h5"), b, &err), 0);
    assert_true(same_bytes(wpath("a.h5"), wpath("b.h5")));
    ss_cluster_destroy(a);
    ss_cluster_destroy(b);
}

static void test_placements_write_mpi_matches_serial(void **state)
{
    (void)state;
    ss_cluster_t *c = cluster();
    ss_placements_t *p = placements(c);
    ss_error_t err = {""};
    p->seconds = 1.5; /* the optional /run group too */
    p->ranks = 3;
    p->threads = 2;
    assert_int_equal(ss_placements_write(wpath("ps.h5"), c, p, &err), 0);
    int rc = ss_placements_write_mpi(wpath("pm.h5"), MPI_COMM_WORLD, c, p, &err);
    if (rc != 0)
        fail_msg("%s", err.text);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "h5diff -c '%s' '%s'", wpath("ps.h5"), wpath("pm.h5"));
    assert_int_equal(system(cmd), 0);
    ss_placements_t *back = NULL;
    assert_int_equal(ss_placements_read(wpath("pm.h5"), c, &back, &err), 0);
    assert_int_equal(back->n, p->n);
    assert_memory_equal(back->node, p->node, (size_t)p->n * sizeof *p->node);
    assert_memory_equal(back->gpu_mask, p->gpu_mask, (size_t)p->n * sizeof *p->gpu_mask);
    assert_string_equal(back->policy, "least-allocated");
    assert_true(back->seconds == 1.5);
    assert_int_equal(back->ranks, 3);
    assert_int_equal(back->threads, 2);
    assert_false(tmp_left());
    ss_placements_destroy(back);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_placements_write_mpi_no_pending(void **state)
{
    (void)state;
    ss_cluster_t *c = cluster();
    for (int32_t i = 0; i < c->n_pods; i++) /* a cluster with nothing pending */
        if (c->pod_node[i] < 0)
            c->pod_node[i] = 0, c->pod_gpu_mask[i] = 0;
    ss_placements_t *p = ss_placements_create(0);
    ss_error_t err = {""};
    assert_int_equal(ss_placements_write_mpi(wpath("empty.h5"), MPI_COMM_WORLD, c, p, &err), 0);
    ss_placements_t *back = NULL;
    assert_int_equal(ss_placements_read_unchecked(wpath("empty.h5"), &back, &err), 0);
    assert_int_equal(back->n, 0);
    ss_placements_destroy(back);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_placements_write_mpi_bad_rows(void **state)
{
    (void)state;
    ss_cluster_t *c = cluster();
    ss_placements_t *p = placements(c);
    ss_error_t err = {""};
    p->reason[p->n - 1] = SS_REASON_COUNT; /* unknown code */
    unlink(wpath("bad.h5"));
    assert_int_equal(ss_placements_write_mpi(wpath("bad.h5"), MPI_COMM_WORLD, c, p, &err),
                     SS_EFORMAT);
    assert_non_null(strstr(err.text, "/placements/reason"));
    assert_false(exists(wpath("bad.h5")));
    assert_false(tmp_left());
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_placements_write_mpi_rename_fails(void **state)
{
    (void)state;
    ss_cluster_t *c = cluster();
    ss_placements_t *p = placements(c);
    ss_error_t err = {""};
    mkdir(wpath("adir"), 0755); /* a file cannot replace a directory */
    assert_int_equal(ss_placements_write_mpi(wpath("adir"), MPI_COMM_WORLD, c, p, &err), SS_EIO);
    assert_non_null(strstr(err.text, "cannot rename"));
    assert_false(tmp_left());
    rmdir(wpath("adir"));
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_snapshot_read_mpi_missing_file(void **state)
{
    (void)state;
    ss_cluster_t *c = (ss_cluster_t *)1;
    ss_error_t err = {""};
    int32_t lo, hi;
    assert_true(read_mpi(wpath("nope.h5"), 0, &c, &lo, &hi, &err) < 0);
    assert_null(c);
    assert_non_null(strstr(err.text, "nope.h5"));
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    snprintf(workdir, sizeof workdir, "/tmp/test_snapshot_mpi.%ld", (long)getpid());
    mkdir(workdir, 0755);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_read_mpi_matches_serial),
        cmocka_unit_test(test_placements_write_mpi_matches_serial),
        cmocka_unit_test(test_placements_write_mpi_no_pending),
        cmocka_unit_test(test_placements_write_mpi_bad_rows),
        cmocka_unit_test(test_placements_write_mpi_rename_fails),
        cmocka_unit_test(test_snapshot_read_mpi_missing_file),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
    if (system(cmd) != 0)
        rc = 1;
    MPI_Finalize();
    return rc;
}
