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
#include "ss_h5util.h"
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

/* Adds one of each format version 2 row to c (a spread constraint and a pod
 * term on template 0, a namespace, a PDB, start times, both modes). */
static void add_rules(ss_cluster_t *c)
{
    int32_t key = ss_cluster_str(c, "topology.kubernetes.io/zone");
    int32_t v = ss_cluster_add_expr_value(c, ss_cluster_str(c, "default"));
    int32_t e = ss_cluster_add_expr(c, ss_cluster_str(c, "app"), SS_OP_EXISTS, 0, 0, 0);
    ss_spread_t sp = {.max_skew = 2, .key = key, .min_domains = 3, .sel = {e, 1, 0}};
    ss_podterm_t pt = {.kind = SS_PT_ANTI_AFFINITY,
                       .weight = 40,
                       .key = key,
                       .sel = {e, 1, 0},
                       .ns_begin = v,
                       .ns_count = 1,
                       .ns_sel = {0, 0, 1}};
    c->templates[0].spread_begin = ss_cluster_add_spread(c, &sp);
    c->templates[0].spread_count = 1;
    c->templates[0].pterm_begin = ss_cluster_add_pterm(c, &pt);
    c->templates[0].pterm_count = 1;
    c->templates[0].flags = SS_TF_CONTROLLER | SS_TF_PREEMPT_NEVER;
    ss_cluster_add_namespace(c, ss_cluster_str(c, "default"), 0, c->n_labels > 0);
    ss_pdb_t pdb = {.name = ss_cluster_str(c, "pdb"),
                    .ns = ss_cluster_str(c, "default"),
                    .sel = {e, 1, 0},
                    .min_available = -1,
                    .max_unavailable = 10,
                    .max_pct = 1,
                    .allowed = 3};
    ss_cluster_add_pdb(c, &pdb);
    for (int32_t i = 0; i < c->n_pods; i += 7)
        ss_cluster_set_pod_start(c, i, INT64_C(1700000000) + i);
    c->default_spreading = SS_SPREAD_DEFAULT_SYSTEM;
    c->locality = SS_LOCALITY_ZONE;
}

/* A generated cluster with every rule family (the same on every rank). */
static ss_cluster_t *gen_cluster(void)
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
    add_rules(c);
    return c;
}

/* gen_cluster(), written to cluster.h5. */
static ss_cluster_t *cluster(void)
{
    ss_cluster_t *c = gen_cluster();
    ss_error_t err = {""};
    if (ss_snapshot_write(wpath("cluster.h5"), c, &err) < 0)
        fail_msg("%s", err.text);
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
    /* format v2: a commit order (placed rows backwards) and victims: the
     * first running pod of each of the first placed rows' nodes */
    int32_t k = 0;
    for (int32_t r = pl->n - 1; r >= 0; r--)
        if (pl->node[r] >= 0)
            pl->seq[r] = k++;
    uint8_t *taken = calloc((size_t)c->n_pods, 1);
    for (int32_t r = 0, nv = 0; r < pl->n && nv < 5; r++)
        for (int32_t p = 0; pl->node[r] >= 0 && p < c->n_pods; p++)
            if (c->pod_node[p] == pl->node[r] && !taken[p]) {
                taken[p] = 1;
                assert_int_equal(ss_placements_add_victim(pl, r, p), 0);
                nv++;
                break;
            }
    free(taken);
    assert_true(pl->n_victims > 0);
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

/* A version 1 file (the version 2 datasets and attributes removed) reads in
 * parallel as serially: the same cluster, the rules empty. */
static void test_snapshot_read_mpi_v1(void **state)
{
    (void)state;
    ss_cluster_destroy(cluster());
    static const char *const gone[] = {"/spreads",
                                       "/pterms",
                                       "/namespaces",
                                       "/pdbs",
                                       "/templates/spread_begin",
                                       "/templates/spread_count",
                                       "/templates/pterm_begin",
                                       "/templates/pterm_count",
                                       "/templates/flags",
                                       "/pods/start"};
    ss_error_t err = {""};
    hid_t f = H5Fopen(wpath("cluster.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
        assert_true(H5Ldelete(f, gone[i], H5P_DEFAULT) >= 0);
    assert_true(H5Adelete(f, "default_spreading") >= 0 && H5Adelete(f, "locality") >= 0);
    assert_int_equal(ss_h5_attr_write_i32(f, "cluster.h5", "/", "format_version", 1, &err), 0);
    H5Fclose(f);
    ss_cluster_t *a = NULL, *b = NULL;
    int32_t lo = -1, hi = -1;
    assert_int_equal(ss_snapshot_read(wpath("cluster.h5"), &a, &err), 0);
    if (read_mpi(wpath("cluster.h5"), 64, &b, &lo, &hi, &err) != 0)
        fail_msg("%s", err.text);
    assert_int_equal(b->n_spreads + b->n_pterms + b->n_namespaces + b->n_pdbs, 0);
    assert_int_equal(b->default_spreading, SS_SPREAD_DEFAULT_NONE);
    assert_int_equal(b->locality, SS_LOCALITY_OFF);
    for (int32_t i = 0; i < b->n_pods; i++)
        assert_true(b->pod_start[i] == 0);
    assert_int_equal(ss_snapshot_write(wpath("a1.h5"), a, &err), 0);
    assert_int_equal(ss_snapshot_write(wpath("b1.h5"), b, &err), 0);
    assert_true(same_bytes(wpath("a1.h5"), wpath("b1.h5")));
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
    p->pdb_hard = 1; /* root attribute preempt_with = "evict" */
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
    assert_memory_equal(back->seq, p->seq, (size_t)p->n * sizeof *p->seq);
    assert_int_equal(back->n_victims, p->n_victims);
    assert_memory_equal(back->victim_row, p->victim_row, (size_t)p->n_victims * sizeof(int32_t));
    assert_memory_equal(back->victim_pod, p->victim_pod, (size_t)p->n_victims * sizeof(int32_t));
    assert_string_equal(back->policy, "least-allocated");
    assert_true(back->seconds == 1.5);
    assert_int_equal(back->ranks, 3);
    assert_int_equal(back->threads, 2);
    assert_int_equal(back->pdb_hard, 1);
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

/* The child of test_mpi_three_ranks, under mpirun: rank 0 writes the
 * snapshot and the serial placements; every rank reads its own node range
 * in parallel and writes its slab of the placements (and of /victims); rank
 * 0 then checks the file against the serial one (h5diff) and that the
 * cluster read has the rules. Returns the process exit status. */
static int multi_rank(void)
{
    int rank, size, bad = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    ss_cluster_t *c = gen_cluster(), *b = NULL;
    ss_placements_t *p = placements(c);
    ss_error_t err = {""};
    if (rank == 0 && (ss_snapshot_write(wpath("mcluster.h5"), c, &err) < 0 ||
                      ss_placements_write(wpath("mps.h5"), c, p, &err) < 0))
        bad = 1;
    MPI_Barrier(MPI_COMM_WORLD);
    int32_t lo, hi;
    if (!bad && read_mpi(wpath("mcluster.h5"), 64, &b, &lo, &hi, &err) < 0)
        bad = 1;
    if (!bad &&
        (b->n_spreads != c->n_spreads || b->n_pterms != c->n_pterms || b->n_pdbs != c->n_pdbs ||
         b->n_namespaces != c->n_namespaces || b->locality != c->locality ||
         memcmp(b->pod_start, c->pod_start, (size_t)c->n_pods * sizeof(int64_t)) ||
         memcmp(b->pdbs, c->pdbs, (size_t)c->n_pdbs * sizeof *c->pdbs)))
        bad = 1, snprintf(err.text, sizeof err.text, "rank %d: rules differ", rank);
    if (!bad && ss_placements_write_mpi(wpath("mpm.h5"), MPI_COMM_WORLD, c, p, &err) < 0)
        bad = 1;
    if (bad)
        fprintf(stderr, "rank %d of %d: %s\n", rank, size, err.text);
    int any = 0;
    MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0 && !any) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "h5diff -c '%s' '%s'", wpath("mps.h5"), wpath("mpm.h5"));
        any = system(cmd) != 0;
    }
    ss_cluster_destroy(b);
    ss_cluster_destroy(c);
    ss_placements_destroy(p);
    return any;
}

static const char *self_path;

/* Three ranks split the node range, the placements rows and the victims
 * (five victims over three ranks: uneven slabs). */
static void test_mpi_three_ranks(void **state)
{
    (void)state;
    char cmd[1500];
    /* The singleton's own launcher variables would make mpirun join it. */
    snprintf(cmd, sizeof cmd,
             "for v in $(env | grep -oE '^(OMPI|PMIX|PRTE|OPAL)_[A-Za-z0-9_]*'); do unset $v; "
             "done; OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 "
             "timeout 120 mpirun -n 3 --oversubscribe --bind-to none '%s' --ranks '%s'",
             self_path, workdir);
    assert_int_equal(system(cmd), 0);
    assert_false(tmp_left());
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    self_path = argv[0];
    if (argc == 3 && !strcmp(argv[1], "--ranks")) {
        snprintf(workdir, sizeof workdir, "%s", argv[2]);
        int rc = multi_rank();
        MPI_Finalize();
        return rc;
    }
    snprintf(workdir, sizeof workdir, "/tmp/test_snapshot_mpi.%ld", (long)getpid());
    mkdir(workdir, 0755);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_read_mpi_matches_serial),
        cmocka_unit_test(test_snapshot_read_mpi_v1),
        cmocka_unit_test(test_placements_write_mpi_matches_serial),
        cmocka_unit_test(test_placements_write_mpi_no_pending),
        cmocka_unit_test(test_placements_write_mpi_bad_rows),
        cmocka_unit_test(test_placements_write_mpi_rename_fails),
        cmocka_unit_test(test_snapshot_read_mpi_missing_file),
        cmocka_unit_test(test_mpi_three_ranks),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
    if (system(cmd) != 0)
        rc = 1;
    MPI_Finalize();
    return rc;
}
