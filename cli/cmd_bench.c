/* shardsched bench: an in-memory benchmark of the engine on a generated
 * cluster (no file I/O), under any number of ranks and threads. Every rank
 * generates the same cluster from the seed, then all ranks schedule it
 * together; rank 0 prints one line of figures. docs/PERFORMANCE.md uses it
 * together with scripts/bench.sh (which times the file-based phases). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_cli.h"
#include "ss_dist.h"
#include "ss_gen.h"
#include "ss_opt.h"
#include "ss_run.h"

static const struct {
    const char *name;
    int64_t nodes, pods;
} scenarios[] = {
    {"default", 2000, 20000},
    {"small", 1000, 10000},
    {"medium", 10000, 100000},
    {"large", 100000, 1000000},
};
#define NSCEN ((int)(sizeof scenarios / sizeof scenarios[0]))

static void usage(FILE *f)
{
    fprintf(f, "usage: shardsched bench --scenario NAME [--policy NAME] [--seed S] [-q]\n"
               "                        [--collective-timeout SECONDS]\n"
               "       shardsched bench --list-policies\n\n"
               "Generates a cluster in memory (the default workload mix, as shardsched gen) and\n"
               "schedules it, printing the time of each phase, pods per second and peak memory\n"
               "per rank (one line on stdout).\n\n"
               "  --scenario NAME      the cluster size:\n");
    for (int i = 0; i < NSCEN; i++)
        fprintf(f, "                         %-8s %7lld nodes, %8lld pending pods\n",
                scenarios[i].name, (long long)scenarios[i].nodes, (long long)scenarios[i].pods);
    fprintf(f, "  --policy NAME        placement policy (default least-allocated)\n"
               "  --list-policies      print each policy's name and help, then exit\n"
               "  --seed S             seed of the generator (default 1)\n"
               "  -q, --quiet          accepted for uniformity (bench prints one line)\n"
               "  --collective-timeout S  give up when a step that needs every rank waits more\n"
               "                       than S seconds for a rank: name it, exit 1 (default: wait)\n"
               "  -h, --help           this text\n\n"
               "Run under 'mpirun -n N' with OMP_NUM_THREADS=T for N ranks x T threads;\n"
               "scripts/bench.sh times the file-based phases. Exit status: 0 done, 1 failed,\n"
               "2 bad usage.\n\n"
               "Examples:\n"
               "  shardsched bench --scenario small\n"
               "  OMP_NUM_THREADS=4 mpirun -n 4 shardsched bench --scenario large\n"
               "  shardsched bench --scenario medium --policy balanced --seed 3\n");
}

static const char *const scenario_names[] = {"default", "small", "medium", "large", NULL};

/* Returns SS_OPT_RUN, or the exit status after --help, --list-policies or a
 * usage error (printed when loud). */
static int parse(int argc, char **argv, int *scen, const char **policy, uint64_t *seed,
                 double *ctimeout, bool loud)
{
    int list = 0, quiet = 0, have_scen = 0;
    ss_opt_t opts[] = {
        SS_O_CHOICE(0, "scenario", scen, scenario_names),
        SS_O_STR(0, "policy", policy),
        SS_O_FLAG(0, "list-policies", &list),
        SS_O_U64(0, "seed", seed),
        SS_O_FLAG('q', "quiet", &quiet),
        SS_O_DOUBLE(0, "collective-timeout", ctimeout, 0.001, 1e6),
        SS_O_END,
    };
    opts[0].seen = &have_scen;
    const ss_opt_spec_t spec = {"bench", opts, usage, NULL};
    int st = ss_opt_parse(&spec, argc, argv, loud);
    if (st != SS_OPT_RUN)
        return st;
    if (list) {
        if (loud)
            ss_opt_list_policies(stdout);
        return 0;
    }
    if (!have_scen)
        return ss_opt_fail("bench", loud, "--scenario NAME is required");
    return ss_opt_policy("bench", *policy, loud);
}

/* Schedules c (every rank holds it in full) with ss_run_schedule. */
static int schedule(MPI_Comm comm, const ss_cluster_t *c, const ss_policy_t *pol, int32_t *placed,
                    int32_t *pending, ss_error_t *err)
{
    ss_run_opts_t ro = {pol, 0, 0, NULL};
    ss_dist_part_t part;
    ss_placements_t *pl = NULL;
    ss_dist_partition(comm, c, ro.shard_nodes, &part);
    int rc = ss_run_schedule(comm, &ro, c, &part, &pl, err);
    *pending = *placed = 0;
    if (rc == 0) {
        *pending = pl->n;
        for (int32_t i = 0; i < pl->n; i++)
            *placed += pl->node[i] >= 0;
    }
    ss_placements_destroy(pl);
    return rc;
}

int ss_cmd_bench(int argc, char **argv, MPI_Comm comm)
{
    int scen, rank, size;
    const char *policy = "least-allocated";
    uint64_t seed = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    double ctimeout = 0;
    int prc = parse(argc, argv, &scen, &policy, &seed, &ctimeout, rank == 0);
    if (prc != SS_OPT_RUN)
        return prc;
    ss_dist_set_timeout(ctimeout);
    ss_gen_opts_t o;
    ss_gen_opts_default(&o);
    o.nodes = scenarios[scen].nodes;
    o.pods = scenarios[scen].pods;
    o.seed = seed;
    ss_error_t err = {""};
    ss_cluster_t *c = NULL;
    double t0 = MPI_Wtime();
    int rc = ss_gen(&o, &c, &err);
    double t_gen = MPI_Wtime() - t0;
    if ((rc = ss_dist_fail(comm, "bench", rc, &err)) < 0)
        return 1;
    if (ss_dist_barrier(comm, "bench start", &err) < 0)
        return 1; /* only on a collective timeout: main aborts */
    int32_t placed = 0, pending = 0;
    t0 = MPI_Wtime();
    rc = schedule(comm, c, ss_policy_find(policy), &placed, &pending, &err);
    double t_sched = MPI_Wtime() - t0;
    rc = ss_dist_fail(comm, "bench", rc, &err);
    double peak = ss_dist_peak_mib(), peak_max = peak;
    if (!ss_dist_timed_out())
        MPI_Reduce(&peak, &peak_max, 1, MPI_DOUBLE, MPI_MAX, 0, comm);
    if (rc == 0 && rank == 0)
        printf(
            "bench %s: %d nodes, %d pending pods, policy %s, %d rank(s) x %d thread(s): "
            "gen %.2f s, schedule %.2f s (%.0f pods/s), placed %d (%.2f%%), peak %.0f MiB/rank\n",
            scenarios[scen].name, c->n_nodes, pending, policy, size, omp_get_max_threads(), t_gen,
            t_sched, pending / (t_sched > 0 ? t_sched : 1e-9), placed,
            pending ? 100.0 * placed / pending : 0.0, peak_max);
    ss_cluster_destroy(c);
    return rc < 0 ? 1 : 0;
}
