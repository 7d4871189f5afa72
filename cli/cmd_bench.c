/* shardsched bench: the engine's benchmark scenarios (cli/ss_bench_scen.c:
 * borg-cell, hyperscale, growth, openb-x100, and the older sizes), each
 * generated in memory on every rank (not timed), then timed phase by phase
 * like `schedule`: setup (the reader's work without the file: validation and
 * the partition), schedule (ss_run_schedule, with the collectives counted by
 * mpi/ss_count and the time inside them), write (the real parallel writer
 * into a file on tmpfs, removed after). Rank 0 verifies the result
 * (ss_verify) and measures the packing (ss_volume); borg-cell also runs
 * --exhaustive beside it. Human lines first; the LAST line is one JSON
 * object per scenario step (growth: one per size, the last three lines). */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ss_bench.h"
#include "ss_cli.h"
#include "ss_count.h"
#include "ss_dist.h"
#include "ss_json_out.h"
#include "ss_opt.h"
#include "ss_run.h"
#include "ss_snapshot_mpi.h"
#include "ss_verify.h"
#include "ss_volume.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: shardsched bench --scenario NAME [--policy NAME] [--seed S]\n"
               "                        [--openb-dir DIR] [--exhaustive | --no-exhaustive]\n"
               "                        [--partition-nodes N] [--keep-placements DIR]\n"
               "                        [--collective-timeout SECONDS]\n"
               "       shardsched bench --list-policies\n\n"
               "Generates a scenario's cluster in memory (not timed) and schedules it like\n"
               "'schedule' does, printing the time of each phase, pods per second, peak memory\n"
               "per rank and in total, pods placed, explicit MPI collectives of the schedule\n"
               "phase, nodes used against the volume lower bound, stranded GPUs and the\n"
               "verifier's verdict. The last line (growth: the last three) is a JSON object.\n\n"
               "  --scenario NAME      one of:\n");
    ss_bench_print_scenarios(f);
    fprintf(f, "  --policy NAME        placement policy (default least-allocated)\n"
               "  --list-policies      print each policy's name and help, then exit\n"
               "  --seed S             seed of the generator / the pod sampling (default 1)\n"
               "  --openb-dir DIR      the OpenB CSVs for openb-x100 (default tests/data/openb)\n"
               "  --exhaustive         also run --exhaustive on the same input (borg-cell: on)\n"
               "  --no-exhaustive      do not\n"
               "  --rules default|none  gen's mix with the inter-pod rules (spread, pod\n"
               "                       (anti-)affinity, PDBs, priorities; default) or without\n"
               "  --partition-nodes N  nodes per partition, as for schedule (default 1024; a huge\n"
               "                       N gives one partition: exactly --exhaustive's answer)\n"
               "  --keep-placements DIR  write the placements to DIR/SCENARIO-NODES.h5 and keep\n"
               "                       them (to compare runs with h5diff --exclude-path /run)\n"
               "  -q, --quiet          only the JSON line(s)\n"
               "  --collective-timeout S  give up when a step that needs every rank waits more\n"
               "                       than S seconds for a rank: name it, exit 1 (default: wait)\n"
               "  -h, --help           this text\n\n"
               "Run under 'mpirun -n N' with OMP_NUM_THREADS=T for N ranks x T threads.\n"
               "Exit status: 0 done, 1 failed or verifier violations, 2 bad usage.\n\n"
               "Examples:\n"
               "  shardsched bench --scenario borg-cell\n"
               "  OMP_NUM_THREADS=1 mpirun -n 2 shardsched bench --scenario hyperscale\n"
               "  shardsched bench --scenario openb-x100 --openb-dir /data/openb\n"
               "  shardsched bench --scenario hyperscale --policy most-allocated \\\n"
               "      --partition-nodes 100000000     # the exact reference, for quality\n");
}

typedef struct {
    const ss_bench_scen_t *scen;
    const char *name; /* as given (an alias stays visible) */
    const char *policy;
    ss_bench_build_t build;
    bool exhaustive;
    int exhaustive_seen, quiet;
    double collective_timeout; /* seconds; 0 = wait forever */
    int64_t part_nodes;        /* 0: the default */
    const char *keep_dir;      /* NULL: placements go to a temporary file */
} bench_opts_t;

/* Returns SS_OPT_RUN, or the exit status after --help, --list-policies or a
 * usage error (printed when loud). --scale F is a test hook (not in the
 * help): it multiplies node and pod counts. */
static const char *const bench_rules_names[] = {"default", "none", NULL};

static int parse(int argc, char **argv, bench_opts_t *o, bool loud)
{
    int list = 0, have_scen = 0, scen = 0;
    *o = (bench_opts_t){NULL, NULL, "least-allocated", {1, 1.0, "tests/data/openb", 0}, 0, 0, 0, 0,
                        0,    NULL};
    ss_opt_t opts[] = {
        SS_O_CHOICE(0, "scenario", &scen, ss_bench_names),
        SS_O_STR(0, "policy", &o->policy),
        SS_O_FLAG(0, "list-policies", &list),
        SS_O_U64(0, "seed", &o->build.seed),
        SS_O_STR(0, "openb-dir", &o->build.openb_dir),
        SS_O_SWITCH("exhaustive", &o->exhaustive),
        SS_O_DOUBLE(0, "scale", &o->build.scale, 1e-4, 10.0),
        SS_O_CHOICE(0, "rules", &o->build.rules, bench_rules_names),
        SS_O_FLAG('q', "quiet", &o->quiet),
        SS_O_DOUBLE(0, "collective-timeout", &o->collective_timeout, 0.001, 1e6),
        SS_O_INT(0, "partition-nodes", &o->part_nodes, 1, 100000000),
        SS_O_STR(0, "keep-placements", &o->keep_dir),
        SS_O_END,
    };
    opts[0].seen = &have_scen;
    opts[5].seen = &o->exhaustive_seen;
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
    o->name = ss_bench_names[scen];
    o->scen = ss_bench_scenario(scen);
    if (!o->exhaustive_seen)
        o->exhaustive = o->scen->exhaustive;
    return ss_opt_policy("bench", o->policy, loud);
}

/* The figures of one step. */
typedef struct {
    int32_t nodes, pending, pod_groups, placed;
    double setup_s, schedule_s, comm_s, write_s;
    int64_t collectives, collectives_min, collectives_max;
    double peak_sum, peak_max;
    int64_t violations, stranded_milli;
    ss_volume_t vol;
    char vol_res[64];
    double exhaustive_s;
    int32_t exhaustive_placed; /* -1: not run */
    ss_sched_stats_t stats;    /* the engine's, on rank 0 */
} bench_res_t;

static int32_t count_placed(const ss_placements_t *pl)
{
    int32_t n = 0;
    for (int32_t i = 0; i < pl->n; i++)
        n += pl->node[i] >= 0;
    return n;
}

/* The read-equivalent setup: what `schedule`'s reader does besides the
 * file (validation, the partition). Agreed. */
static int setup(MPI_Comm comm, const bench_opts_t *o, const ss_cluster_t *c, ss_dist_part_t *part,
                 bench_res_t *r, ss_error_t *err)
{
    MPI_Barrier(comm);
    double t0 = MPI_Wtime();
    int rc = ss_cluster_validate(c, err);
    if (rc == 0) {
        ss_layout_t l;
        ss_layout_build(c, (int32_t)o->part_nodes, 0, &l);
        ss_dist_partition(comm, &l, part);
    }
    rc = ss_dist_agree_err(comm, rc, "bench setup", err);
    r->setup_s = MPI_Wtime() - t0;
    return rc;
}

/* The schedule phase, with the collectives counted (reset before, read
 * after; the ranks' counts are compared afterwards, outside the phase). */
static int schedule(MPI_Comm comm, const ss_run_opts_t *ro, const ss_cluster_t *c,
                    const ss_dist_part_t *part, ss_placements_t **pl, bench_res_t *r,
                    ss_error_t *err)
{
    MPI_Barrier(comm);
    ss_count_reset();
    double t0 = MPI_Wtime();
    int rc = ss_run_schedule(comm, ro, c, part, pl, err);
    r->schedule_s = MPI_Wtime() - t0;
    r->collectives = ss_count_collectives();
    r->comm_s = ss_count_seconds();
    MPI_Allreduce(&r->collectives, &r->collectives_min, 1, MPI_INT64_T, MPI_MIN, comm);
    MPI_Allreduce(&r->collectives, &r->collectives_max, 1, MPI_INT64_T, MPI_MAX, comm);
    return rc;
}

/* The write-equivalent: the parallel placements writer of `schedule`, into
 * a file on tmpfs (/dev/shm when there is one) that rank 0 removes after. */
static int write_equiv(MPI_Comm comm, const bench_opts_t *o, const ss_cluster_t *c,
                       const ss_placements_t *pl, bench_res_t *r, ss_error_t *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    char path[512] = "";
    if (rank == 0 && o->keep_dir) {
        snprintf(path, sizeof path, "%s/%s-%d.h5", o->keep_dir, o->scen->name, c->n_nodes);
    } else if (rank == 0) {
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/shardsched-bench-%ld.h5", dir ? dir : "/tmp",
                 (long)getpid());
    }
    MPI_Bcast(path, sizeof path, MPI_CHAR, 0, comm);
    MPI_Barrier(comm);
    double t0 = MPI_Wtime();
    int rc = ss_placements_write_mpi(path, comm, c, pl, err);
    r->write_s = MPI_Wtime() - t0;
    if (rank == 0 && !o->keep_dir)
        unlink(path);
    return rc;
}

/* Rank 0: the verifier's verdict, stranded GPUs, groups with pending
 * members and the packing; broadcast so every rank returns alike. */
static int check(MPI_Comm comm, const ss_cluster_t *c, const ss_placements_t *pl, bench_res_t *r,
                 ss_error_t *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    int64_t v[7] = {0};
    if (rank == 0) {
        ss_verify_report_t rep;
        int64_t nv = ss_verify(c, pl, &rep, err);
        int rc = nv < 0 ? (int)nv : ss_volume_bound(c, pl, &r->vol, err);
        v[0] = rc < 0 ? rc : 0;
        v[1] = nv;
        v[2] = rep.summary.stranded_gpu_milli;
        v[3] = rep.summary.gangs;
        v[4] = r->vol.empty_nodes;
        v[5] = r->vol.used;
        v[6] = r->vol.bound;
        snprintf(r->vol_res, sizeof r->vol_res, "%s", ss_volume_res_name(c, r->vol.bound_res));
        if (nv > 0)
            ss_verify_print_violations(stderr, &rep);
        ss_verify_report_free(&rep);
    }
    MPI_Bcast(v, 7, MPI_INT64_T, 0, comm);
    r->violations = v[1];
    r->stranded_milli = v[2];
    r->pod_groups = (int32_t)v[3];
    r->vol.empty_nodes = (int32_t)v[4];
    r->vol.used = (int32_t)v[5];
    r->vol.bound = (int32_t)v[6];
    return ss_dist_agree_err(comm, (int)v[0], "bench verify", err);
}

/* --exhaustive on the same input: every rank computes it whole. */
static int exhaustive(MPI_Comm comm, const ss_policy_t *pol, const ss_cluster_t *c, bench_res_t *r,
                      ss_error_t *err)
{
    ss_run_opts_t ro = {pol, 0, 0, 1, NULL, NULL, NULL, 0};
    ss_dist_part_t all; /* not used by the reference */
    memset(&all, 0, sizeof all);
    ss_placements_t *pl = NULL;
    MPI_Barrier(comm);
    double t0 = MPI_Wtime();
    int rc = ss_run_schedule(comm, &ro, c, &all, &pl, err);
    r->exhaustive_s = MPI_Wtime() - t0;
    if (rc == 0)
        r->exhaustive_placed = count_placed(pl);
    ss_placements_destroy(pl);
    return rc;
}

/* One step on cluster c: the phases, the checks, the side run. */
static int run_step(MPI_Comm comm, const bench_opts_t *o, const ss_cluster_t *c, bench_res_t *r,
                    ss_error_t *err)
{
    const ss_policy_t *pol = ss_policy_find(o->policy);
    ss_run_opts_t ro = {pol, (int32_t)o->part_nodes, 0, 0, NULL, &r->stats, NULL, 0};
    ss_dist_part_t part;
    ss_placements_t *pl = NULL;
    memset(r, 0, sizeof *r);
    r->exhaustive_placed = -1;
    r->nodes = c->n_nodes;
    int rc = setup(comm, o, c, &part, r, err);
    if (rc == 0)
        rc = ss_dist_agree_err(comm, schedule(comm, &ro, c, &part, &pl, r, err), "schedule", err);
    if (rc == 0) {
        r->pending = pl->n;
        r->placed = count_placed(pl);
        rc = ss_dist_agree_err(comm, write_equiv(comm, o, c, pl, r, err), "bench write", err);
    }
    /* Peaks before the checks and the side run allocate more. */
    double peak = ss_dist_peak_mib();
    MPI_Reduce(&peak, &r->peak_sum, 1, MPI_DOUBLE, MPI_SUM, 0, comm);
    MPI_Reduce(&peak, &r->peak_max, 1, MPI_DOUBLE, MPI_MAX, 0, comm);
    if (rc == 0)
        rc = check(comm, c, pl, r, err);
    if (rc == 0 && o->exhaustive)
        rc = ss_dist_agree_err(comm, exhaustive(comm, pol, c, r, err), "exhaustive", err);
    ss_placements_destroy(pl);
    return rc;
}

static void print_human(const bench_opts_t *o, const bench_res_t *r, int size)
{
    double total = r->setup_s + r->schedule_s + r->write_s;
    printf("bench %s: %d nodes, %d pending pods, %d pod groups, policy %s, %d rank(s) x %d "
           "thread(s)\n",
           o->name, r->nodes, r->pending, r->pod_groups, o->policy, size, omp_get_max_threads());
    printf("  setup %.3f s, schedule %.3f s (%.0f pods/s; inside collectives %.3f s), write "
           "%.3f s, total %.3f s\n",
           r->setup_s, r->schedule_s, r->pending / (r->schedule_s > 0 ? r->schedule_s : 1e-9),
           r->comm_s, r->write_s, total);
    printf("  placed %d (%.2f %%), collectives %lld (limit 200 + 2 x %d groups = %d)%s\n",
           r->placed, r->pending ? 100.0 * r->placed / r->pending : 0.0, (long long)r->collectives,
           r->pod_groups, 200 + 2 * r->pod_groups,
           r->collectives_min != r->collectives_max ? " RANKS DISAGREE" : "");
    const ss_sched_stats_t *st = &r->stats;
    printf("  engine (rank 0): %d round(s), %lld unit(s) spilled, %d pod group(s) across "
           "partitions; setup %.3f s, place %.3f s, exchange %.3f s, across %.3f s, gather "
           "%.3f s\n",
           st->rounds, (long long)st->spilled, st->across, st->setup_s, st->place_s, st->exchange_s,
           st->across_s, st->finish_s);
    printf("  peak memory %.0f MiB all ranks, %.0f MiB largest rank\n", r->peak_sum, r->peak_max);
    printf("  %s: %d of %d empty nodes used, volume lower bound %d (%s): %+.2f %%\n", o->policy,
           r->vol.used, r->vol.empty_nodes, r->vol.bound, r->vol_res,
           r->vol.bound ? 100.0 * (r->vol.used - r->vol.bound) / r->vol.bound : 0.0);
    printf("  stranded GPUs %.1f, verifier: %lld violation(s)\n", r->stranded_milli / 1000.0,
           (long long)r->violations);
    if (r->exhaustive_placed >= 0)
        printf("  exhaustive: %.3f s, placed %d (engine %.1fx faster, %.3f %% of its pods)\n",
               r->exhaustive_s, r->exhaustive_placed, r->exhaustive_s / r->schedule_s,
               r->exhaustive_placed ? 100.0 * r->placed / r->exhaustive_placed : 100.0);
}

#define JSET(k, v) built |= ss_json_set(j, k, v)

/* A time or a rate, to a microsecond (or one unit in a million). */
static json_t *jr(double x)
{
    return json_real(x >= 1e6 ? (double)llround(x) : llround(x * 1e6) / 1e6);
}

static json_t *to_json(const bench_opts_t *o, const bench_res_t *r, int size)
{
    json_t *j = json_object();
    int built = j ? 0 : -1;
    JSET("scenario", json_string(o->scen->name));
    JSET("as_named", json_string(o->name));
    JSET("policy", json_string(o->policy));
    JSET("seed", json_integer((json_int_t)o->build.seed));
    JSET("rules", json_string(o->build.rules ? "none" : "default"));
    JSET("scale", json_real(o->build.scale));
    JSET("ranks", json_integer(size));
    JSET("threads", json_integer(omp_get_max_threads()));
    JSET("nodes", json_integer(r->nodes));
    JSET("pods", json_integer(r->pending));
    JSET("pod_groups", json_integer(r->pod_groups));
    JSET("placed", json_integer(r->placed));
    JSET("setup_s", jr(r->setup_s));
    JSET("schedule_s", jr(r->schedule_s));
    JSET("comm_s", jr(r->comm_s));
    JSET("write_s", jr(r->write_s));
    JSET("total_s", jr(r->setup_s + r->schedule_s + r->write_s));
    JSET("pods_per_s", jr(r->pending / (r->schedule_s > 0 ? r->schedule_s : 1e-9)));
    JSET("peak_rss_mib", jr(r->peak_sum));
    JSET("peak_rss_mib_max_rank", jr(r->peak_max));
    JSET("collectives", json_integer(r->collectives));
    JSET("rounds", json_integer(r->stats.rounds));
    JSET("across", json_integer(r->stats.across));
    JSET("spilled", json_integer(r->stats.spilled));
    JSET("engine_setup_s", jr(r->stats.setup_s));
    JSET("engine_place_s", jr(r->stats.place_s));
    JSET("engine_exchange_s", jr(r->stats.exchange_s));
    JSET("engine_across_s", jr(r->stats.across_s));
    JSET("engine_gather_s", jr(r->stats.finish_s));
    JSET("collectives_agree", json_boolean(r->collectives_min == r->collectives_max));
    JSET("collectives_limit", json_integer(200 + 2 * (json_int_t)r->pod_groups));
    JSET("violations", json_integer(r->violations));
    JSET("empty_nodes", json_integer(r->vol.empty_nodes));
    JSET("empty_nodes_used", json_integer(r->vol.used));
    JSET("volume_lower_bound", json_integer(r->vol.bound));
    JSET("stranded_gpus", json_real(r->stranded_milli / 1000.0));
    if (r->exhaustive_placed >= 0) {
        JSET("exhaustive_s", jr(r->exhaustive_s));
        JSET("exhaustive_placed", json_integer(r->exhaustive_placed));
    }
    if (built) {
        json_decref(j);
        return NULL;
    }
    return j;
}

int ss_cmd_bench(int argc, char **argv, MPI_Comm comm)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    bench_opts_t o;
    int prc = parse(argc, argv, &o, rank == 0);
    if (prc != SS_OPT_RUN)
        return prc;
    ss_dist_set_timeout(o.collective_timeout);
    json_t *lines[SS_BENCH_MAX_STEPS] = {NULL};
    int rc = 0, bad = 0;
    for (int k = 0; k < o.scen->n_steps && rc == 0; k++) {
        ss_error_t err = {""};
        ss_cluster_t *c = NULL;
        bench_res_t r;
        rc = ss_dist_fail(comm, "bench", ss_bench_build(o.scen, k, &o.build, &c, &err), &err);
        if (rc == 0)
            rc = ss_dist_fail(comm, "bench", run_step(comm, &o, c, &r, &err), &err);
        if (rc == 0 && rank == 0) {
            if (!o.quiet)
                print_human(&o, &r, size);
            fflush(stdout);
            lines[k] = to_json(&o, &r, size);
        }
        bad |= rc == 0 && r.violations != 0;
        ss_cluster_destroy(c);
    }
    for (int k = 0; k < o.scen->n_steps && rc == 0; k++)
        if (rank == 0 && ss_json_emit("bench", lines[k], lines[k] ? 0 : -1) < 0)
            bad = 1;
    if (rc < 0)
        for (int k = 0; k < SS_BENCH_MAX_STEPS; k++)
            json_decref(lines[k]);
    return rc < 0 || bad ? 1 : 0;
}
