/* shardsched schedule: the main job. Reads a snapshot, places every pending
 * pod with the fast engine (or the naive reference with --exhaustive) over
 * all MPI ranks and OpenMP threads, and writes the placements.
 *
 * I/O is parallel HDF5: each rank reads the capacity of its own nodes only
 * (ss_snapshot_read_mpi) and writes a slab of the placements rows
 * (ss_placements_write_mpi). --exhaustive needs every node's capacity on
 * every rank and reads the whole snapshot with the serial reader. */
#include <getopt.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_cli.h"
#include "ss_dist.h"
#include "ss_run.h"
#include "ss_snapshot_mpi.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: shardsched schedule -i cluster.h5 -o placements.h5 [--policy NAME]\n"
               "                           [--exhaustive] [--quiet]\n\n"
               "Places every pending pod of the snapshot and writes one row per pending pod:\n"
               "the node chosen, or the reason it could not be placed.\n\n"
               "  -i, --input FILE     cluster snapshot (from gen or import)\n"
               "  -o, --output FILE    placements file to write (atomically)\n"
               "  --policy NAME        placement policy (default least-allocated):\n");
    for (int i = 0; ss_policy_at(i); i++)
        fprintf(f, "                         %-16s %s\n", ss_policy_at(i)->name,
                ss_policy_at(i)->help);
    fprintf(f, "  --exhaustive         naive reference: every pod against every node, no caches\n"
               "  --quiet              no summary line\n"
               "  --shard-nodes N      nodes per virtual shard (default 512); changes only how\n"
               "                       work is cut, never the result\n\n"
               "Run under 'mpirun -n N' to share the nodes over N ranks; OMP_NUM_THREADS\n"
               "threads per rank. The result is the same for any N and thread count.\n");
}

typedef struct {
    const char *in, *out, *policy;
    int exhaustive, quiet;
    int32_t shard_nodes;
} opts_t;

static int parse(int argc, char **argv, opts_t *o)
{
    static const struct option lo[] = {
        {"input", required_argument, 0, 'i'},  {"output", required_argument, 0, 'o'},
        {"policy", required_argument, 0, 'p'}, {"exhaustive", no_argument, 0, 'x'},
        {"quiet", no_argument, 0, 'q'},        {"shard-nodes", required_argument, 0, 's'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    *o = (opts_t){NULL, NULL, "least-allocated", 0, 0, 0};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "i:o:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'i':
            o->in = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'p':
            o->policy = optarg;
            break;
        case 'x':
            o->exhaustive = 1;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 's': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 100000000) {
                fprintf(stderr, "shardsched schedule: --shard-nodes wants 1..1e8, not '%s'\n",
                        optarg);
                return -1;
            }
            o->shard_nodes = (int32_t)v;
            break;
        }
        case 'h':
            return 1;
        default:
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "shardsched schedule: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (!o->in || !o->out) {
        fprintf(stderr, "shardsched schedule: -i and -o are required (see --help)\n");
        return -1;
    }
    if (!ss_policy_find(o->policy)) {
        fprintf(stderr, "shardsched schedule: unknown policy '%s' (see --help)\n", o->policy);
        return -1;
    }
    return 0;
}

int ss_cmd_schedule(int argc, char **argv, MPI_Comm comm)
{
    opts_t o;
    int rank, size, prc = parse(argc, argv, &o);
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    if (prc != 0) {
        if (rank == 0)
            usage(prc > 0 ? stdout : stderr);
        return prc > 0 ? 0 : 2;
    }
    ss_error_t err = {""};
    ss_cluster_t *c = NULL;
    ss_placements_t *pl = NULL;
    ss_dist_part_t part;
    ss_run_opts_t ro = {ss_policy_find(o.policy), o.shard_nodes, o.exhaustive};
    double t0 = MPI_Wtime(), t_read, t_write = 0;
    int rc = ss_run_read(comm, o.in, &ro, &c, &part, &err);
    if ((rc = ss_dist_fail(comm, "schedule", rc, &err)) < 0)
        goto done;
    t_read = MPI_Wtime() - t0;
    rc = ss_run_schedule(comm, &ro, c, &part, &pl, &err);
    if ((rc = ss_dist_fail(comm, "schedule", rc, &err)) < 0)
        goto done;
    /* The time goes to the file's /run group, which no determinism check
     * compares (docs/snapshot-format.md). */
    double t1 = MPI_Wtime();
    rc = ss_run_injected(comm, "write", &err);
    if ((rc = ss_dist_fail(comm, "schedule", rc, &err)) < 0)
        goto done; /* every rank is fine before anything is written */
    rc = ss_placements_write_mpi(o.out, comm, c, pl, &err);
    if ((rc = ss_dist_fail(comm, "schedule", rc, &err)) < 0)
        goto done;
    t_write = MPI_Wtime() - t1;
    if (rank == 0 && !o.quiet) {
        int32_t placed = 0;
        for (int32_t i = 0; i < pl->n; i++)
            placed += pl->node[i] >= 0;
        fprintf(stderr,
                "shardsched schedule: placed %d of %d pending pods on %d nodes (%s%s, %d rank(s) "
                "x %d thread(s)); read %.2fs, schedule %.2fs, write %.2fs; peak %.0f MiB/rank\n",
                placed, pl->n, c->n_nodes, pl->policy, o.exhaustive ? ", exhaustive" : "", size,
                pl->threads, t_read, pl->seconds, t_write, ss_dist_peak_mib());
    }
done:
    ss_placements_destroy(pl);
    ss_cluster_destroy(c);
    return rc < 0 ? 1 : 0;
}
