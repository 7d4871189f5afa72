/* shardsched schedule: the main job. Reads a snapshot, places every pending
 * pod with the fast engine (or the naive reference with --exhaustive) over
 * all MPI ranks and OpenMP threads, and writes the placements.
 *
 * I/O is parallel HDF5: each rank reads the capacity of its own nodes only
 * (ss_snapshot_read_mpi) and writes a slab of the placements rows
 * (ss_placements_write_mpi). --exhaustive needs every node's capacity on
 * every rank and reads the whole snapshot with the serial reader, and so does
 * --repair (engine/ss_repair.h), which then runs identically on every rank
 * after the engine. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_cli.h"
#include "ss_count.h"
#include "ss_atomic.h"
#include "ss_dist.h"
#include "ss_mig_relayout.h"
#include "ss_opt.h"
#include "ss_progress.h"
#include "ss_queue.h"
#include "ss_repair.h"
#include "ss_run.h"
#include "ss_snapshot.h"
#include "ss_snapshot_mpi.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: shardsched schedule -i cluster.h5 -o placements.h5 [--policy NAME]\n"
               "                           [--exhaustive] [--repair] [--repair-priority P]\n"
               "                           [--mig-relayout [--emit-mig-config FILE]]\n"
               "                           [--partition-nodes N] [--shard-nodes N] [-q]\n"
               "                           [--collective-timeout SECONDS]\n"
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
               "  --repair             after the greedy pass, place stranded pods by moving\n"
               "                       placed pending pods of equal or lower priority to other\n"
               "                       nodes (rule-free pods only; gangs whole; never running\n"
               "                       pods); the plan stays valid in commit order. Reads the\n"
               "                       whole snapshot on every rank (docs/evaluation.md)\n"
               "  --repair-priority lower|any  which placed pods --repair may move: of equal\n"
               "                       or lower priority than the stranded pod (lower, the\n"
               "                       default), or then, in a second pass, of any priority\n"
               "                       (they stay placed). Implies --repair\n"
               "  --mig-relayout       give idle MIG-capable GPUs new MIG layouts (or MIG off)\n"
               "                       so that pods left without an instance or a GPU fit:\n"
               "                       fewest GPUs changed, then fewest unused slices; never a\n"
               "                       GPU with a running pod. A second pass places on the new\n"
               "                       layouts; the file records them (docs/mig.md). Reads the\n"
               "                       whole snapshot on every rank\n"
               "  --emit-mig-config FILE  with --mig-relayout: write mig-parted's config with\n"
               "                       the entries the re-laid-out nodes need (bind sets each\n"
               "                       node's nvidia.com/mig.config label to its entry)\n"
               "  -q, --quiet          no summary line and no progress\n"
               "  --collective-timeout S  give up when a step that needs every rank (an\n"
               "                       agreement, an exchange) waits more than S seconds for\n"
               "                       a rank (stopped, hung): name it, exit 1 (default: wait)\n"
               "  --partition-nodes N  nodes per partition (default 1024, more above 65,536\n"
               "                       nodes: at most 64 partitions). One partition gives\n"
               "                       exactly --exhaustive's answer; more partitions place\n"
               "                       in parallel and spill what does not fit\n"
               "  --shard-nodes N      nodes per virtual shard (default 512); changes only how\n"
               "                       work is cut, never the result\n" SS_RULE_HELP
               "  -h, --help           this text\n\n"
               "Run under 'mpirun -n N' to share the nodes over N ranks; OMP_NUM_THREADS\n"
               "threads per rank. The result is the same for any N and thread count.\n"
               "On a terminal, progress of each phase (read, schedule, write) goes to stderr.\n"
               "Design: docs/architecture.md. Exit status: 0 done, 1 failed, 2 bad usage.\n\n"
               "Examples:\n"
               "  shardsched schedule -i cluster.h5 -o placements.h5\n"
               "  OMP_NUM_THREADS=8 mpirun -n 4 shardsched schedule -i cluster.h5 -o p.h5 \\\n"
               "      --policy most-allocated\n"
               "  shardsched schedule -i cluster.h5 -o ref.h5 --exhaustive -q\n"
               "  shardsched schedule -i cluster.h5 -o p.h5 --repair\n"
               "  shardsched schedule -i cluster.h5 -o p.h5 --repair-priority any\n"
               "  shardsched schedule -i cluster.h5 -o p.h5 --mig-relayout \\\n"
               "      --emit-mig-config mig-config.yaml\n");
}

static const char *const repair_prio_names[] = {"lower", "any", NULL};

typedef struct {
    const char *in, *out, *policy, *mig_config;
    int exhaustive, repair, repair_prio, quiet, mig_relayout;
    int32_t shard_nodes, part_nodes;
    double collective_timeout;
    ss_rule_cli_t rules;
} opts_t;

/* Returns SS_OPT_RUN, or the exit status after --help, --list-policies or a
 * usage error (printed when loud). */
static int parse(int argc, char **argv, opts_t *o, bool loud)
{
    int64_t shard_nodes = 0, part_nodes = 0;
    int list = 0;
    const ss_opt_t opts[] = {
        SS_O_STR('i', "input", &o->in),
        SS_O_STR('o', "output", &o->out),
        SS_O_STR(0, "policy", &o->policy),
        SS_O_FLAG(0, "list-policies", &list),
        SS_O_FLAG(0, "exhaustive", &o->exhaustive),
        SS_O_FLAG(0, "repair", &o->repair),
        SS_O_FLAG(0, "mig-relayout", &o->mig_relayout),
        SS_O_STR(0, "emit-mig-config", &o->mig_config),
        SS_O_CHOICE(0, "repair-priority", &o->repair_prio, repair_prio_names),
        SS_O_FLAG('q', "quiet", &o->quiet),
        SS_O_INT(0, "shard-nodes", &shard_nodes, 1, 100000000),
        SS_O_INT(0, "partition-nodes", &part_nodes, 1, 100000000),
        SS_O_DOUBLE(0, "collective-timeout", &o->collective_timeout, 0.001, 1e6),
        SS_O_RULES(&o->rules),
        SS_O_END,
    };
    const ss_opt_spec_t spec = {"schedule", opts, usage, NULL};
    *o = (opts_t){NULL, NULL, "least-allocated", NULL, 0, 0, -1, 0, 0, 0, 0, 0, {0}};
    ss_rule_cli_init(&o->rules);
    int st = ss_opt_parse(&spec, argc, argv, loud);
    if (st != SS_OPT_RUN)
        return st;
    o->shard_nodes = (int32_t)shard_nodes;
    o->repair |= o->repair_prio >= 0; /* --repair-priority implies --repair */
    o->part_nodes = (int32_t)part_nodes;
    if (list) {
        if (loud)
            ss_opt_list_policies(stdout);
        return 0;
    }
    if (!o->in || !o->out)
        return ss_opt_fail("schedule", loud, "%s is required", !o->in ? "-i FILE" : "-o FILE");
    if (SS_OPT_DISTINCT("schedule", loud, o->out, o->in) != SS_OPT_RUN)
        return 2;
    if (o->mig_config && !o->mig_relayout)
        return ss_opt_fail("schedule", loud, "--emit-mig-config needs --mig-relayout");
    if (o->mig_relayout && o->exhaustive)
        return ss_opt_fail("schedule", loud, "--mig-relayout and --exhaustive do not go together");
    if (o->mig_config && (SS_OPT_DISTINCT("schedule", loud, o->mig_config, o->in) != SS_OPT_RUN ||
                          SS_OPT_DISTINCT("schedule", loud, o->mig_config, o->out) != SS_OPT_RUN))
        return 2;
    return ss_opt_policy("schedule", o->policy, loud);
}

/* --repair reads the whole snapshot on every rank (the pass needs every
 * node's capacity) and keeps the engine's partition, so that the greedy pass
 * is the one ss_run_read's parallel read gives. Collective, agreed status as
 * ss_run_read. */
/* The repair pass on the placements every rank holds whole: the same input
 * and a deterministic pass give the same result on every rank. */
static int run_repair(const ss_cluster_t *c, int any_priority, ss_placements_t *pl,
                      ss_repair_stats_t *st, ss_error_t *err)
{
    ss_queue_t *q = ss_queue_build(c, err);
    if (!q)
        return SS_ENOMEM;
    ss_repair_opts_t ro;
    ss_repair_opts_default(&ro);
    ro.any_priority = any_priority;
    int rc = ss_repair_run(c, q->order, q->units, q->n_units, &ro, pl, st, err);
    ss_queue_destroy(q);
    return rc;
}

/* --emit-mig-config: mig-parted's configuration with the entries the
 * re-laid-out nodes need (rank 0; atomic). */
static int write_mig_config(const char *path, const ss_cluster_t *c, const ss_placements_t *p,
                            ss_error_t *err)
{
    char tmp[4200];
    FILE *f = ss_atomic_fopen(path, tmp, sizeof tmp, err);
    if (!f)
        return SS_EIO;
    int rc = ss_mig_plan_write_config(f, c, p, err);
    return ss_atomic_fclose(f, tmp, path, rc, err);
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
    ss_dist_set_timeout(o.collective_timeout);
    ss_cli_progress_t pr; /* one line per phase on rank 0's terminal */
    bool show = rank == 0 && !o.quiet;
    ss_cli_progress_begin(&pr, "schedule: read", show);
    ss_error_t err = {""};
    ss_cluster_t *c = NULL;
    ss_placements_t *pl = NULL;
    ss_dist_part_t part;
    ss_sched_opts_t so;
    ss_rule_cli_get(&o.rules, &so);
    ss_run_opts_t ro = {
        ss_policy_find(o.policy), o.part_nodes, o.shard_nodes, o.exhaustive, NULL, NULL, &so, 0};
    double t0 = MPI_Wtime(), t_read, t_write = 0;
    ro.full_read = (o.repair || o.mig_relayout) && !o.exhaustive;
    int rc = ss_run_read(comm, o.in, &ro, &c, &part, &err);
    ss_cli_progress_end(&pr);
    if ((rc = ss_dist_fail(comm, "schedule", rc, &err)) < 0)
        goto done;
    t_read = MPI_Wtime() - t0;
    ss_cli_progress_begin(&pr, "schedule: place", show);
    ro.progress = ss_cli_progress_get(&pr);
    ss_count_reset();
    rc = ss_run_schedule(comm, &ro, c, &part, &pl, &err);
    int64_t collectives = ss_count_collectives();
    ss_cli_progress_end(&pr);
    if ((rc = ss_dist_fail(comm, "schedule", rc, &err)) < 0)
        goto done;
    ss_run_relayout_stats_t mst = {0};
    if (o.mig_relayout) {
        ss_cli_progress_begin(&pr, "schedule: MIG re-layout", show);
        rc = ss_run_mig_relayout(comm, &ro, c, &part, &pl, &mst, &err);
        ss_cli_progress_end(&pr);
        if ((rc = ss_dist_fail(comm, "schedule", rc, &err)) < 0)
            goto done;
    }
    ss_repair_stats_t rst = {0};
    if (o.repair) {
        ss_cli_progress_begin(&pr, "schedule: repair", show);
        rc = run_repair(c, o.repair_prio == 1, pl, &rst, &err);
        ss_cli_progress_end(&pr);
        if ((rc = ss_dist_fail(comm, "schedule", rc, &err)) < 0)
            goto done;
    }
    /* The time goes to the file's /run group, which no determinism check
     * compares (docs/snapshot-format.md). */
    ss_cli_progress_begin(&pr, "schedule: write", show);
    pl->pdb_hard = so.pdb_hard; /* root attribute preempt_with (bind checks it) */
    double t1 = MPI_Wtime();
    rc = ss_run_injected(comm, "write", &err);
    if ((rc = ss_dist_fail(comm, "schedule", rc, &err)) < 0)
        goto done; /* every rank is fine before anything is written */
    rc = ss_placements_write_mpi(o.out, comm, c, pl, &err);
    if (rc == 0 && o.mig_config)
        rc = ss_dist_agree_err(comm, rank == 0 ? write_mig_config(o.mig_config, c, pl, &err) : 0,
                               o.mig_config, &err);
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
                "x %d thread(s)); read %.2fs, schedule %.2fs (%lld collectives), write %.2fs; peak "
                "%.0f MiB/rank\n",
                placed, pl->n, c->n_nodes, pl->policy, o.exhaustive ? ", exhaustive" : "", size,
                pl->threads, t_read, pl->seconds, (long long)collectives, t_write,
                ss_dist_peak_mib());
        if (o.mig_relayout)
            fprintf(stderr,
                    "shardsched schedule: MIG re-layout for %lld pods short of an instance or a "
                    "GPU: %d GPUs re-laid-out (%d chosen, %d unused and undone), placed %d -> %d, "
                    "%.2fs%s%s\n",
                    (long long)mst.demand, mst.kept, mst.chosen, mst.dropped, mst.placed_before,
                    mst.placed_after, mst.seconds, o.mig_config ? "; mig-parted config " : "",
                    o.mig_config ? o.mig_config : "");
        if (o.repair)
            fprintf(stderr,
                    "shardsched schedule: repair placed %d more of %d stranded pods (%d in scope) "
                    "moving %d, %lld fit checks, %.2fs%s\n",
                    rst.added, rst.stranded, rst.candidates, rst.moved, (long long)rst.checks,
                    rst.seconds, rst.rejected ? "; the verifier refused it: greedy plan kept" : "");
    }
done:
    ss_cli_progress_end(&pr);
    ss_placements_destroy(pl);
    ss_cluster_destroy(c);
    return rc < 0 ? 1 : 0;
}
