/* shardsched schedule: the main job. Reads a snapshot, places every pending
 * pod with the fast engine (or the naive reference with --exhaustive) over
 * all MPI ranks and OpenMP threads, and writes the placements.
 *
 * I/O is parallel HDF5: each rank reads the capacity of its own nodes only
 * (ss_snapshot_read_mpi) and writes a slab of the placements rows
 * (ss_placements_write_mpi). --exhaustive needs every node's capacity on
 * every rank and reads the whole snapshot with the serial reader. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_cli.h"
#include "ss_dist.h"
#include "ss_queue.h"
#include "ss_reason.h"
#include "ss_sched.h"
#include "ss_opt.h"
#include "ss_progress.h"
#include "ss_snapshot.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: shardsched schedule -i cluster.h5 -o placements.h5 [--policy NAME]\n"
               "                           [--exhaustive] [--shard-nodes N] [-q]\n"
               "       shardsched schedule --list-policies\n\n"
               "Places every pending pod of the snapshot and writes one row per pending pod:\n"
               "the node chosen, or the reason it could not be placed.\n\n"
               "  -i, --input FILE     cluster snapshot (from gen or import)\n"
               "  -o, --output FILE    placements file to write (atomically)\n"
               "  --policy NAME        placement policy (default least-allocated):\n");
    for (int i = 0; ss_policy_at(i); i++)
        fprintf(f, "                         %-16s %s\n", ss_policy_at(i)->name,
                ss_policy_at(i)->help);
    fprintf(f, "  --list-policies      print each policy's name and help, then exit\n"
               "  --exhaustive         naive reference: every pod against every node, no caches\n"
               "  -q, --quiet          no summary line and no progress\n"
               "  --shard-nodes N      nodes per virtual shard (default 512); changes only how\n"
               "                       work is cut, never the result\n"
               "  -h, --help           this text\n\n"
               "Run under 'mpirun -n N' to share the nodes over N ranks; OMP_NUM_THREADS\n"
               "threads per rank. The result is the same for any N and thread count.\n"
               "On a terminal, progress of each phase (read, schedule, write) goes to stderr.\n"
               "Design: docs/architecture.md. Exit status: 0 done, 1 failed, 2 bad usage.\n\n"
               "Examples:\n"
               "  shardsched schedule -i cluster.h5 -o placements.h5\n"
               "  OMP_NUM_THREADS=8 mpirun -n 4 shardsched schedule -i cluster.h5 -o p.h5 \\\n"
               "      --policy most-allocated\n"
               "  shardsched schedule -i cluster.h5 -o ref.h5 --exhaustive -q\n");
}

typedef struct {
    const char *in, *out, *policy;
    int exhaustive, quiet;
    int32_t shard_nodes;
    const ss_progress_t *progress; /* the schedule phase's, rank 0 only (NULL: none) */
} opts_t;

/* Returns SS_OPT_RUN, or the exit status after --help, --list-policies or a
 * usage error (printed when loud). */
static int parse(int argc, char **argv, opts_t *o, bool loud)
{
    int64_t shard_nodes = 0;
    int list = 0;
    const ss_opt_t opts[] = {
        SS_O_STR('i', "input", &o->in),
        SS_O_STR('o', "output", &o->out),
        SS_O_STR(0, "policy", &o->policy),
        SS_O_FLAG(0, "list-policies", &list),
        SS_O_FLAG(0, "exhaustive", &o->exhaustive),
        SS_O_FLAG('q', "quiet", &o->quiet),
        SS_O_INT(0, "shard-nodes", &shard_nodes, 1, 100000000),
        SS_O_END,
    };
    const ss_opt_spec_t spec = {"schedule", opts, usage, NULL};
    *o = (opts_t){NULL, NULL, "least-allocated", 0, 0, 0, NULL};
    int st = ss_opt_parse(&spec, argc, argv, loud);
    if (st != SS_OPT_RUN)
        return st;
    o->shard_nodes = (int32_t)shard_nodes;
    if (list) {
        if (loud)
            ss_opt_list_policies(stdout);
        return 0;
    }
    if (!o->in || !o->out)
        return ss_opt_fail("schedule", loud, "%s is required", !o->in ? "-i FILE" : "-o FILE");
    return ss_opt_policy("schedule", o->policy, loud);
}

/* Test hook: SS_FAULT_INJECT="PHASE:RANK" makes that rank fail at that phase
 * (read, schedule, engine: inside the collective rounds, write), to test that a fault on one rank
 * ends every rank cleanly. */
static int injected(MPI_Comm comm, const char *phase, ss_error_t *err)
{
    const char *spec = getenv("SS_FAULT_INJECT");
    size_t n = strlen(phase);
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (spec && !strncmp(spec, phase, n) && spec[n] == ':' && atoi(spec + n + 1) == rank)
        return ss_error_set(err, SS_EIO, "injected fault in phase %s", phase);
    return 0;
}

static int32_t count_pending(const ss_cluster_t *c)
{
    int32_t n = 0;
    for (int32_t p = 0; p < c->n_pods; p++)
        n += c->pod_node[p] < 0;
    return n;
}

/* The engine's shards [*lo, *hi) for this rank, after checking that they
 * cover exactly the node rows [node_lo, node_hi) whose capacity was read. */
static int owned_shards(MPI_Comm comm, const ss_cluster_t *c, int32_t shard_nodes, int32_t node_lo,
                        int32_t node_hi, int32_t *lo, int32_t *hi, ss_error_t *err)
{
    int32_t bounds[SS_SCHED_MAX_SHARDS + 1];
    ss_dist_owned(comm, ss_sched_shards(c, shard_nodes, bounds), lo, hi);
    if (bounds[*lo] != node_lo || bounds[*hi] != node_hi)
        return ss_error_set(err, SS_EINVAL,
                            "internal error: this rank owns nodes [%d, %d) but read the capacity "
                            "of nodes [%d, %d)",
                            (int)bounds[*lo], (int)bounds[*hi], (int)node_lo, (int)node_hi);
    return 0;
}

/* node_lo, node_hi: the nodes whose capacity this rank read (all of them
 * for --exhaustive). */
static int run(MPI_Comm comm, const opts_t *o, const ss_cluster_t *c, int32_t node_lo,
               int32_t node_hi, ss_placements_t *pl, double *t_sched, ss_error_t *err)
{
    const ss_policy_t *policy = ss_policy_find(o->policy);
    int size;
    MPI_Comm_size(comm, &size);
    ss_queue_t *q = ss_queue_build(c, err);
    if (!q)
        return SS_ENOMEM;
    double t0 = MPI_Wtime();
    int rc;
    if (o->exhaustive) {
        /* The reference is sequential: every rank computes it whole. */
        rc = ss_exhaustive_run(c, policy, q->order, q->units, q->n_units, pl, err);
    } else {
        int32_t lo = 0, hi = 0;
        ss_sched_t *s = NULL;
        rc = owned_shards(comm, c, o->shard_nodes, node_lo, node_hi, &lo, &hi, err);
        if (rc == 0 && !(s = ss_sched_create(c, policy, o->shard_nodes, lo, hi, err)))
            rc = SS_ENOMEM;
        if (s)
            ss_sched_set_progress(s, o->progress);
        rc = ss_dist_agree(comm, rc);
        if (rc == 0 && injected(comm, "engine", NULL) < 0)
            ss_sched_inject_fault(s, 100); /* fail inside the collective rounds */
        if (rc == 0) {
            ss_sched_comm_t ops;
            ss_dist_ctx_t ctx;
            int32_t nb[SS_SCHED_MAX_SHARDS + 1];
            rc = ss_dist_sched_comm(comm, ss_sched_shards(c, o->shard_nodes, nb), &ctx, &ops);
            rc = ss_dist_agree(comm, rc);
            if (rc == 0)
                rc = ss_sched_run(s, q->order, q->units, q->n_units, size > 1 ? &ops : NULL, pl,
                                  err);
            else
                ss_error_set(err, rc, "out of memory setting up the exchange");
            ss_dist_ctx_free(&ctx);
        } else if (s) { /* SS_EPEER: this rank is not the one that speaks */
            rc = ss_error_set(err, SS_EPEER, "scheduler setup failed on another rank");
        }
        ss_sched_destroy(s);
    }
    *t_sched = MPI_Wtime() - t0;
    ss_queue_destroy(q);
    return rc;
}

int ss_cmd_schedule(int argc, char **argv, MPI_Comm comm)
{
    opts_t o;
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    int prc = parse(argc, argv, &o, rank == 0);
    if (prc != SS_OPT_RUN)
        return prc;
    ss_cli_progress_t pr; /* one line per phase on rank 0's terminal */
    bool show = rank == 0 && !o.quiet;
    ss_cli_progress_begin(&pr, "schedule: read", show);
    ss_error_t err = {""};
    ss_cluster_t *c = NULL;
    ss_placements_t *pl = NULL;
    double t0 = MPI_Wtime(), t_read, t_sched = 0, t_write = 0;
    int32_t node_lo = 0, node_hi = 0;
    int rc;
    if (o.exhaustive) {
        rc = ss_snapshot_read(o.in, &c, &err);
        node_hi = rc == 0 ? c->n_nodes : 0;
    } else {
        rc = ss_snapshot_read_mpi(o.in, comm, o.shard_nodes, &c, &node_lo, &node_hi, &err);
    }
    ss_cli_progress_end(&pr);
    if (rc == 0)
        rc = injected(comm, "read", &err);
    if ((rc = ss_dist_fail(comm, "schedule", rc, &err)) < 0)
        goto done;
    t_read = MPI_Wtime() - t0;
    pl = ss_placements_create(count_pending(c));
    rc = pl ? 0 : ss_error_set(&err, SS_ENOMEM, "out of memory for placements");
    if ((rc = ss_dist_fail(comm, "schedule", rc, &err)) < 0)
        goto done;
    snprintf(pl->policy, sizeof pl->policy, "%s", ss_policy_find(o.policy)->name);
    pl->exhaustive = o.exhaustive;
    rc = injected(comm, "schedule", &err);
    if ((rc = ss_dist_fail(comm, "schedule", rc, &err)) < 0)
        goto done;
    ss_cli_progress_begin(&pr, "schedule: place", show);
    o.progress = ss_cli_progress_get(&pr);
    rc = run(comm, &o, c, node_lo, node_hi, pl, &t_sched, &err);
    ss_cli_progress_end(&pr);
    if ((rc = ss_dist_fail(comm, "schedule", rc, &err)) < 0)
        goto done;
    ss_cli_progress_begin(&pr, "schedule: write", show);
    /* The time is printed, not stored: identical input must give identical
     * files (h5diff) whatever the run took. */
    double t1 = MPI_Wtime();
    rc = injected(comm, "write", &err);
    if ((rc = ss_dist_fail(comm, "schedule", rc, &err)) < 0)
        goto done; /* every rank is fine before anything is written */
    rc = ss_placements_write_mpi(o.out, comm, c, pl, &err);
    ss_cli_progress_end(&pr);
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
                omp_get_max_threads(), t_read, t_sched, t_write, ss_dist_peak_mib());
    }
done:
    ss_cli_progress_end(&pr);
    ss_placements_destroy(pl);
    ss_cluster_destroy(c);
    return rc < 0 ? 1 : 0;
}
