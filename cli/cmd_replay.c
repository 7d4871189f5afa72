/* shardsched replay: replays a trace snapshot (shardsched import --openb-...)
 * against one placement policy and writes a metrics file (io/ss_metrics.h).
 * Two protocols: `fgd` (the FGD paper's evaluation, jobs/ss_replay_fgd.c)
 * and `time` (event replay in trace time, jobs/ss_replay_time.c).
 *
 * A replay is one sequential pass (each placement depends on the previous
 * one), so rank 0 computes and the other ranks wait for its status: the
 * output is the same file for any rank count (ss_dist_on_rank0). Progress
 * goes to stderr only when stderr is a terminal and -q is not given. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ss_cli.h"
#include "ss_metrics.h"
#include "ss_policy.h"
#include "ss_replay.h"
#include "ss_replay_mig.h"
#include "ss_opt.h"
#include "ss_progress.h"
#include "ss_rank0.h"
#include "ss_snapshot.h"
#include "ss_trace.h"

typedef struct {
    const char *in, *out, *policy, *protocol, *summary_csv;
    uint64_t seed;
    int64_t seeds; /* fgd: run seeds seed .. seed + seeds - 1 */
    int64_t window;
    int64_t gang_wait; /* anti-starvation reservation wait, trace seconds (0: off) */
    int mig;           /* ss_replay_mig_mode (fgd protocol) */
    int quiet;
    ss_cli_progress_t progress;
} opts_t;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: shardsched replay -i trace.h5 -o metrics.h5 [--protocol fgd|time]\n"
            "                         [--policy NAME] [--seed S] [--summary-csv FILE]\n"
            "                         [--batch-window SECONDS] [--gang-reserve-wait S] [-q]\n"
            "                         [--mig off|fixed:all-1g.10gb|fixed:half-3g.40gb|\n"
            "                                fixed:trace-mix|relayout]\n"
            "       shardsched replay -i trace.h5 --summary-csv FILE [--seeds N] [--policy NAME]\n"
            "       shardsched replay --list-policies\n"
            "\n"
            "  -i, --input FILE     trace snapshot (shardsched import --openb-nodes ...)\n"
            "  -o, --output FILE    metrics file (HDF5, a dataset per column under /metrics)\n"
            "  --protocol fgd       the FGD paper's evaluation: arrivals only, seeded order,\n"
            "                       inflated to 130%% of GPU capacity, a row per pod (default)\n"
            "  --protocol time      event replay in trace time: arrivals, departures, node\n"
            "                       events, batches; one row per batch\n"
            "  --policy NAME        placement policy, case-insensitive (default fgd)\n"
            "  --list-policies      print each policy's name and summary, then exit\n"
            "  --seed S             seed of the order, node tie-break and Random (default 42)\n"
            "  --summary-csv FILE   append trace,policy,seed,unalloc_pct_at_100,\n"
            "                       unalloc_pct_at_130,frag_rate_pct_at_90 (fgd protocol);\n"
            "                       with it and without -o, no metrics file is written\n"
            "  --seeds N            fgd protocol without -o: seeds S .. S+N-1 in one run (1)\n"
            "  --batch-window S     batch length in trace seconds for --protocol time (1)\n"
            "  --gang-reserve-wait S  a gang waiting this long gets a reservation, with\n"
            "                       backfill of pods that finish before it (600; 0 = off)\n"
            "  --mig MODE           fgd protocol, a what-if: the GPUs are MIG-capable A100\n"
            "                       80GB (GPU-model constraints ignored) and fractional pods\n"
            "                       take the smallest MIG instance covering their share:\n"
            "                       fixed:all-1g.10gb, fixed:half-3g.40gb, fixed:trace-mix\n"
            "                       (fixed layouts on a share of the nodes), relayout (idle\n"
            "                       GPUs laid out on demand); off = time-slicing, today's\n"
            "                       model (default). docs/evaluation.md, \"MIG what-if\"\n"
            "  -q, --quiet          no progress\n"
            "  -h, --help           this text\n"
            "\n"
            "A replay is sequential: under mpirun rank 0 computes and every rank exits with\n"
            "its status; the metrics file is the same for any rank count. Exit status:\n"
            "0 done, 1 failed, 2 bad usage. Protocols and metrics: docs/evaluation.md.\n"
            "\n"
            "Examples:\n"
            "  shardsched replay -i trace.h5 -o m.h5 --policy fgd --seed 43\n"
            "  shardsched replay -i trace.h5 -o m.h5 --protocol time --batch-window 10\n"
            "  mpirun -n 2 shardsched replay -i trace.h5 -o m.h5 --summary-csv runs.csv\n");
}

static const char *const protocols[] = {"fgd", "time", NULL};

/* Returns SS_OPT_RUN, or the exit status after --help, --list-policies or a
 * usage error (every rank parses the same argv; only the loud one prints). */
static int parse(int argc, char **argv, opts_t *o, bool loud)
{
    memset(o, 0, sizeof *o);
    o->policy = "fgd";
    o->seed = 42;
    o->seeds = 1;
    o->window = 1;
    o->gang_wait = 600;
    int list = 0, protocol = 0;
    const ss_opt_t opts[] = {
        SS_O_STR('i', "input", &o->in),
        SS_O_STR('o', "output", &o->out),
        SS_O_STR(0, "policy", &o->policy),
        SS_O_FLAG(0, "list-policies", &list),
        SS_O_CHOICE(0, "protocol", &protocol, protocols),
        SS_O_STR(0, "summary-csv", &o->summary_csv),
        SS_O_U64(0, "seed", &o->seed),
        SS_O_INT(0, "seeds", &o->seeds, 1, 100000),
        SS_O_INT(0, "batch-window", &o->window, 1, 1e15),
        SS_O_INT(0, "gang-reserve-wait", &o->gang_wait, 0, 1e15),
        SS_O_CHOICE(0, "mig", &o->mig, ss_replay_mig_modes),
        SS_O_FLAG('q', "quiet", &o->quiet),
        SS_O_END,
    };
    const ss_opt_spec_t spec = {"replay", opts, usage, NULL};
    int st = ss_opt_parse(&spec, argc, argv, loud);
    if (st != SS_OPT_RUN)
        return st;
    o->protocol = protocols[protocol];
    if (list) {
        if (loud)
            ss_opt_list_policies(stdout);
        return 0;
    }
    bool fgd = !strcasecmp(o->protocol, "fgd");
    if (!o->in || (!o->out && !(fgd && o->summary_csv)))
        return ss_opt_fail("replay", loud, "%s is required",
                           !o->in ? "-i trace.h5" : "-o metrics.h5");
    if (o->mig && !fgd)
        return ss_opt_fail("replay", loud, "--mig %s needs --protocol fgd",
                           ss_replay_mig_modes[o->mig]);
    if (o->seeds > 1 && (o->out || !fgd))
        return ss_opt_fail("replay", loud,
                           "--seeds %lld needs --protocol fgd, --summary-csv and no -o (one "
                           "metrics file per run: run the seeds one by one)",
                           (long long)o->seeds);
    if ((o->out && SS_OPT_DISTINCT("replay", loud, o->out, o->in) != SS_OPT_RUN) ||
        SS_OPT_DISTINCT("replay", loud, o->summary_csv, o->in, o->out) != SS_OPT_RUN)
        return 2;
    if (ss_opt_policy("replay", o->policy, loud) != SS_OPT_RUN)
        return 2;
    return SS_OPT_RUN;
}

/* The time replay's fraction, shown as a progress line. */
static void progress(void *arg, double frac)
{
    ss_progress_tick(arg, (int64_t)(frac * 1000.0), 1000);
}

static int append_summary(const char *path, const char *trace, const char *policy, uint64_t seed,
                          const ss_fgd_result_t *r, ss_error_t *err)
{
    FILE *f = fopen(path, "a");
    if (!f)
        return ss_error_set(err, SS_EIO, "%s: %s", path, strerror(errno));
    if (ftell(f) == 0)
        fprintf(f,
                "trace,policy,seed,unalloc_pct_at_100,unalloc_pct_at_130,frag_rate_pct_at_90%s\n",
                r->mig ? ",mig,unused_compute_slices_at_100,unused_mem_slices_at_100,"
                         "mig_gpus_at_end,relayouts"
                       : "");
    char pol[64];
    size_t i;
    for (i = 0; policy[i] && i + 1 < sizeof pol; i++)
        pol[i] = (char)tolower((unsigned char)policy[i]);
    pol[i] = 0;
    fprintf(f, "%s,%s,%llu,%.2f,%.2f,%.2f", trace, pol, (unsigned long long)seed, r->unalloc_at_100,
            r->unalloc_at_130, r->frag_at_90);
    if (r->mig)
        fprintf(f, ",%s,%.2f,%.2f,%d,%lld", ss_replay_mig_modes[r->mig], r->unused_compute_at_100,
                r->unused_mem_at_100, r->n > 0 ? r->mig_gpus[r->n - 1] : 0,
                (long long)r->relayouts);
    fputc('\n', f);
    int bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad) /* checked at close: a full disk is an error */
        return ss_error_set(err, SS_EIO, "%s: write failed: %s", path,
                            strerror(errno ? errno : EIO));
    return 0;
}

/* The metrics file of one fgd run: the columns and attributes of the
 * protocol, and with a MIG mode its unused slices (docs/evaluation.md). */
static int write_fgd(const char *path, const ss_fgd_result_t *r, const char *policy,
                     const char *trace, uint64_t seed, ss_error_t *err)
{
    const ss_metric_col_t cols[] = {
        {"pod", SS_METRIC_I32, r->pod},
        {"node", SS_METRIC_I32, r->node},
        {"arrived_gpu_milli", SS_METRIC_I64, r->arrived_milli},
        {"alloc_gpu_milli", SS_METRIC_I64, r->alloc_gpu_milli},
        {"alloc_cpu_milli", SS_METRIC_I64, r->alloc_cpu_milli},
        {"frag_rate_pct", SS_METRIC_F64, r->frag_pct},
        {"unused_compute_slices", SS_METRIC_I32, r->unused_compute},
        {"unused_mem_slices", SS_METRIC_I32, r->unused_mem},
        {"mig_gpus", SS_METRIC_I32, r->mig_gpus},
    };
    const ss_metric_attr_t attrs[] = {
        {"protocol", "fgd", 0},
        {"policy", policy, 0},
        {"trace", trace, 0},
        {"seed", NULL, (double)seed},
        {"gpu_capacity_milli", NULL, (double)r->gpu_capacity},
        {"original_pods", NULL, (double)r->n_original},
        {"unalloc_pct_at_100", NULL, r->unalloc_at_100},
        {"unalloc_pct_at_130", NULL, r->unalloc_at_130},
        {"frag_rate_pct_at_90", NULL, r->frag_at_90},
        {"mig", r->mig ? ss_replay_mig_modes[r->mig] : "off", 0},
        {"mig_gpu_model", "A100-80GB (what-if)", 0},
        {"gpus", NULL, (double)r->n_gpus},
        {"unused_compute_slices_at_100", NULL, r->unused_compute_at_100},
        {"unused_mem_slices_at_100", NULL, r->unused_mem_at_100},
        {"relayouts", NULL, (double)r->relayouts},
    };
    /* mig off: exactly the columns and attributes of before */
    return ss_metrics_write(path, r->n, cols, r->mig ? 9 : 6, attrs, r->mig ? 15 : 9, err);
}

static int run_fgd_seed(opts_t *o, const ss_cluster_t *c, const char *trace, uint64_t seed,
                        ss_error_t *err)
{
    ss_fgd_opts_t fo = {o->policy, seed, 130, NULL};
    ss_fgd_result_t *r;
    ss_cli_progress_begin(&o->progress, "replay fgd", !o->quiet);
    fo.progress = ss_cli_progress_get(&o->progress); /* arrived pods of the run */
    int rc = ss_replay_fgd_mig(c, &fo, o->mig, &r, err);
    ss_cli_progress_end(&o->progress);
    if (rc)
        return rc;
    const ss_policy_t *pol = ss_policy_find(o->policy);
    rc = o->out ? write_fgd(o->out, r, pol->name, trace, seed, err) : 0;
    if (!rc && o->summary_csv)
        rc = append_summary(o->summary_csv, trace, pol->name, seed, r, err);
    if (!rc)
        printf("replay fgd: policy %s seed %llu trace %s: %d pods (%d original), unallocated GPU "
               "%.2f%% at 100%% arrived, %.2f%% at 130%%, fragmentation %.2f%% at 90%% "
               "(%.3f s)\n",
               pol->name, (unsigned long long)seed, trace, r->n, r->n_original, r->unalloc_at_100,
               r->unalloc_at_130, r->frag_at_90, r->elapsed_s);
    if (!rc && r->mig)
        printf("replay fgd: MIG %s (what-if, A100 80GB): unused MIG slices at 100%% arrived: "
               "compute %.1f of %d, memory %.1f of %d (%d GPUs in MIG mode at the end, %lld "
               "laid out on demand)\n",
               ss_replay_mig_modes[r->mig], r->unused_compute_at_100, 7 * r->n_gpus,
               r->unused_mem_at_100, 8 * r->n_gpus, r->n > 0 ? r->mig_gpus[r->n - 1] : 0,
               (long long)r->relayouts);
    ss_fgd_result_destroy(r);
    return rc;
}

/* The fgd protocol for seeds seed .. seed + seeds - 1 (one unless the
 * summary-only form): the snapshot is read once for all of them. */
static int run_fgd(opts_t *o, const ss_cluster_t *c, const char *trace, ss_error_t *err)
{
    int rc = 0;
    for (int64_t i = 0; i < o->seeds && !rc; i++)
        rc = run_fgd_seed(o, c, trace, o->seed + (uint64_t)i, err);
    return rc;
}

static int run_time(opts_t *o, const ss_cluster_t *c, const ss_trace_t *t, ss_error_t *err)
{
    ss_cli_progress_begin(&o->progress, "replay time", !o->quiet);
    const ss_progress_t *pg = ss_cli_progress_get(&o->progress);
    ss_time_opts_t to = {o->policy, o->seed, o->window, pg ? progress : NULL, (void *)pg};
    ss_time_gang_opts_t go = {o->gang_wait};
    ss_time_result_t *r;
    int rc = ss_replay_time_gangs(c, t, &to, &go, &r, err);
    ss_cli_progress_end(&o->progress);
    if (rc)
        return rc;
    const ss_policy_t *pol = ss_policy_find(o->policy);
    const ss_metric_col_t cols[] = {
        {"time", SS_METRIC_I64, r->time},
        {"arrived_pods", SS_METRIC_I64, r->arrived_pods},
        {"arrived_gpu_pct", SS_METRIC_F64, r->arrived_gpu_pct},
        {"alloc_cpu_pct", SS_METRIC_F64, r->alloc_cpu_pct},
        {"alloc_mem_pct", SS_METRIC_F64, r->alloc_mem_pct},
        {"alloc_gpu_pct", SS_METRIC_F64, r->alloc_gpu_pct},
        {"running_pods", SS_METRIC_I32, r->running},
        {"pending_pods", SS_METRIC_I32, r->pending},
        {"frag_rate_pct", SS_METRIC_F64, r->frag_pct},
        {"latency_mean_s", SS_METRIC_F64, r->latency_mean_s},
        {"latency_max_s", SS_METRIC_I64, r->latency_max_s},
    };
    const ss_metric_attr_t attrs[] = {
        {"protocol", "time", 0},
        {"policy", pol->name, 0},
        {"trace", t->name, 0},
        {"seed", NULL, (double)o->seed},
        {"batch_window_s", NULL, (double)o->window},
        {"placed", NULL, (double)r->placed},
        {"never_placed", NULL, (double)r->never_placed},
        {"left_in_batch", NULL, (double)r->left_in_batch},
        {"pending_at_end", NULL, (double)r->pending_end},
        {"evicted", NULL, (double)r->evicted},
        {"latency_mean_s", NULL, r->latency_mean_all_s},
        {"latency_max_s", NULL, (double)r->latency_max_all_s},
    };
    rc = ss_metrics_write(o->out, r->n, cols, 11, attrs, 12, err);
    if (!rc)
        printf("replay time: policy %s seed %llu trace %s: %d batches, %lld placed, %lld never "
               "placed (%lld left within one batch window), %lld pending at the end, %lld "
               "evicted, latency mean %.1f s max %lld s\n",
               pol->name, (unsigned long long)o->seed, t->name, r->n, (long long)r->placed,
               (long long)r->never_placed, (long long)r->left_in_batch, (long long)r->pending_end,
               (long long)r->evicted, r->latency_mean_all_s, (long long)r->latency_max_all_s);
    ss_time_result_destroy(r);
    return rc;
}

/* Rank 0's work: read, replay, write. Returns an exit status. */
static int work(void *arg)
{
    opts_t *o = arg;
    ss_error_t err = {{0}};
    ss_cluster_t *c = NULL;
    ss_trace_t *t = NULL;
    int time = !strcasecmp(o->protocol, "time");
    int rc = ss_snapshot_read(o->in, &c, &err);
    if (!rc) {
        rc = ss_trace_read(o->in, c->n_pods, &t, &err);
        if (rc == SS_ENOTFOUND && !time)
            rc = 0; /* the fgd protocol needs no times */
    }
    if (!rc)
        rc = time ? run_time(o, c, t, &err) : run_fgd(o, c, t ? t->name : "", &err);
    if (rc)
        fprintf(stderr, "shardsched replay: %s\n", err.text);
    ss_trace_destroy(t);
    ss_cluster_destroy(c);
    return rc ? 1 : 0;
}

int ss_cmd_replay(int argc, char **argv, MPI_Comm comm)
{
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    opts_t o;
    int st = parse(argc, argv, &o, rank == 0);
    if (st != SS_OPT_RUN)
        return st;
    return ss_dist_on_rank0(comm, "replay", work, &o);
}
