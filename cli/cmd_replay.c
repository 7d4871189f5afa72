/* shardsched replay: replays a trace snapshot (shardsched import --openb-...)
 * against one placement policy and writes a metrics file (io/ss_metrics.h).
 * Two protocols: `fgd` (the FGD paper's evaluation, jobs/ss_replay_fgd.c)
 * and `time` (event replay in trace time, jobs/ss_replay_time.c).
 *
 * A replay is one sequential pass (each placement depends on the previous
 * one), so rank 0 computes and the other ranks wait for its status: the
 * output is the same file for any rank count. Progress goes to stderr only
 * when stderr is a terminal. */
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
#include "ss_snapshot.h"
#include "ss_trace.h"

typedef struct {
    const char *in, *out, *policy, *protocol, *summary_csv;
    uint64_t seed;
    int64_t window;
    int64_t gang_wait; /* anti-starvation reservation wait, trace seconds (0: off) */
    int list, help;
} opts_t;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: shardsched replay -i trace.h5 -o metrics.h5 [--protocol fgd|time]\n"
            "                         [--policy NAME] [--seed S] [--summary-csv FILE]\n"
            "                         [--batch-window SECONDS]\n"
            "       shardsched replay --list-policies\n"
            "\n"
            "  -i FILE              trace snapshot (shardsched import --openb-nodes ...)\n"
            "  -o FILE              metrics file (HDF5, one dataset per column under /metrics)\n"
            "  --protocol fgd       the FGD paper's evaluation: arrivals only, seeded order,\n"
            "                       inflated to 130%% of GPU capacity, one row per pod (default)\n"
            "  --protocol time      event replay in trace time: arrivals, departures, node\n"
            "                       events, batches; one row per batch\n"
            "  --policy NAME        placement policy, case-insensitive (default fgd)\n"
            "  --seed S             seed of the order, node tie-break and Random (default 42)\n"
            "  --summary-csv FILE   append trace,policy,seed,unalloc_pct_at_100,\n"
            "                       unalloc_pct_at_130,frag_rate_pct_at_90 (fgd protocol)\n"
            "  --batch-window S     batch length in trace seconds for --protocol time (1)\n"
            "  --gang-reserve-wait S  a gang waiting this long gets a reservation, with\n"
            "                       backfill of pods that finish before it (600; 0 = off)\n"
            "  --list-policies      print every policy name, one a line\n");
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-')
        return -1;
    *v = x;
    return 0;
}

static int parse(int argc, char **argv, opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->policy = "fgd";
    o->protocol = "fgd";
    o->seed = 42;
    o->window = 1;
    o->gang_wait = 600;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t u;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            o->help = 1;
            continue;
        }
        if (!strcmp(a, "--list-policies")) {
            o->list = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "shardsched replay: unknown argument or missing value: '%s'\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "-i") || !strcmp(a, "--input"))
            o->in = v;
        else if (!strcmp(a, "-o") || !strcmp(a, "--output"))
            o->out = v;
        else if (!strcmp(a, "--policy"))
            o->policy = v;
        else if (!strcmp(a, "--protocol"))
            o->protocol = v;
        else if (!strcmp(a, "--summary-csv"))
            o->summary_csv = v;
        else if (!strcmp(a, "--seed") && !parse_u64(v, &u))
            o->seed = u;
        else if (!strcmp(a, "--batch-window") && !parse_u64(v, &u) && u >= 1 && u < INT64_MAX)
            o->window = (int64_t)u;
        else if (!strcmp(a, "--gang-reserve-wait") && !parse_u64(v, &u) && u < INT64_MAX)
            o->gang_wait = (int64_t)u;
        else {
            fprintf(stderr, "shardsched replay: bad option '%s %s' (try --help)\n", a, v);
            return 2;
        }
    }
    if (o->help || o->list)
        return 0;
    if (!o->in || !o->out) {
        fprintf(stderr, "shardsched replay: need -i trace.h5 and -o metrics.h5 (try --help)\n");
        return 2;
    }
    if (strcasecmp(o->protocol, "fgd") && strcasecmp(o->protocol, "time")) {
        fprintf(stderr, "shardsched replay: --protocol must be fgd or time\n");
        return 2;
    }
    if (!ss_policy_find(o->policy)) {
        fprintf(stderr, "shardsched replay: unknown policy '%s' (try --list-policies)\n",
                o->policy);
        return 2;
    }
    return 0;
}

static void progress(void *arg, double frac)
{
    (void)arg;
    int w = 40, k = (int)(frac * w);
    fprintf(stderr, "\rreplay [%.*s%*s] %3d%%", k, "########################################",
            w - k, "", (int)(frac * 100));
    if (frac >= 1.0)
        fputc('\n', stderr);
}

static int append_summary(const char *path, const char *trace, const char *policy, uint64_t seed,
                          const ss_fgd_result_t *r, ss_error_t *err)
{
    FILE *f = fopen(path, "a");
    if (!f)
        return ss_error_set(err, SS_EIO, "%s: %s", path, strerror(errno));
    if (ftell(f) == 0)
        fprintf(f, "trace,policy,seed,unalloc_pct_at_100,unalloc_pct_at_130,frag_rate_pct_at_90\n");
    char pol[64];
    size_t i;
    for (i = 0; policy[i] && i + 1 < sizeof pol; i++)
        pol[i] = (char)tolower((unsigned char)policy[i]);
    pol[i] = 0;
    fprintf(f, "%s,%s,%llu,%.2f,%.2f,%.2f\n", trace, pol, (unsigned long long)seed,
            r->unalloc_at_100, r->unalloc_at_130, r->frag_at_90);
    if (fclose(f) != 0)
        return ss_error_set(err, SS_EIO, "%s: write failed", path);
    return 0;
}

static int run_fgd(const opts_t *o, const ss_cluster_t *c, const char *trace, ss_error_t *err)
{
    ss_fgd_opts_t fo = {o->policy, o->seed, 130};
    ss_fgd_result_t *r;
    int rc = ss_replay_fgd(c, &fo, &r, err);
    if (rc)
        return rc;
    const ss_policy_t *pol = ss_policy_find(o->policy);
    const ss_metric_col_t cols[] = {
        {"pod", SS_METRIC_I32, r->pod},
        {"node", SS_METRIC_I32, r->node},
        {"arrived_gpu_milli", SS_METRIC_I64, r->arrived_milli},
        {"alloc_gpu_milli", SS_METRIC_I64, r->alloc_gpu_milli},
        {"alloc_cpu_milli", SS_METRIC_I64, r->alloc_cpu_milli},
        {"frag_rate_pct", SS_METRIC_F64, r->frag_pct},
    };
    const ss_metric_attr_t attrs[] = {
        {"protocol", "fgd", 0},
        {"policy", pol->name, 0},
        {"trace", trace, 0},
        {"seed", NULL, (double)o->seed},
        {"gpu_capacity_milli", NULL, (double)r->gpu_capacity},
        {"original_pods", NULL, (double)r->n_original},
        {"unalloc_pct_at_100", NULL, r->unalloc_at_100},
        {"unalloc_pct_at_130", NULL, r->unalloc_at_130},
        {"frag_rate_pct_at_90", NULL, r->frag_at_90},
    };
    rc = ss_metrics_write(o->out, r->n, cols, 6, attrs, 9, err);
    if (!rc && o->summary_csv)
        rc = append_summary(o->summary_csv, trace, pol->name, o->seed, r, err);
    if (!rc)
        printf("replay fgd: policy %s seed %llu trace %s: %d pods (%d original), unallocated GPU "
               "%.2f%% at 100%% arrived, %.2f%% at 130%%, fragmentation %.2f%% at 90%% "
               "(%.3f s)\n",
               pol->name, (unsigned long long)o->seed, trace, r->n, r->n_original,
               r->unalloc_at_100, r->unalloc_at_130, r->frag_at_90, r->elapsed_s);
    ss_fgd_result_destroy(r);
    return rc;
}

static int run_time(const opts_t *o, const ss_cluster_t *c, const ss_trace_t *t, ss_error_t *err)
{
    ss_time_opts_t to = {o->policy, o->seed, o->window, isatty(2) ? progress : NULL, NULL};
    ss_time_gang_opts_t go = {o->gang_wait};
    ss_time_result_t *r;
    int rc = ss_replay_time_gangs(c, t, &to, &go, &r, err);
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
        {"evicted", NULL, (double)r->evicted},
        {"latency_mean_s", NULL, r->latency_mean_all_s},
        {"latency_max_s", NULL, (double)r->latency_max_all_s},
    };
    rc = ss_metrics_write(o->out, r->n, cols, 11, attrs, 10, err);
    if (!rc)
        printf("replay time: policy %s seed %llu trace %s: %d batches, %lld placed, %lld never "
               "placed, %lld evicted, latency mean %.1f s max %lld s\n",
               pol->name, (unsigned long long)o->seed, t->name, r->n, (long long)r->placed,
               (long long)r->never_placed, (long long)r->evicted, r->latency_mean_all_s,
               (long long)r->latency_max_all_s);
    ss_time_result_destroy(r);
    return rc;
}

/* Rank 0's work: read, replay, write. Returns an exit status. */
static int work(const opts_t *o)
{
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
    int status = 0;
    if (rank == 0) {
        status = parse(argc, argv, &o);
        if (!status && o.help)
            usage(stdout);
        else if (!status && o.list)
            for (int i = 0; ss_policy_at(i); i++)
                printf("%s\n", ss_policy_at(i)->name);
        else if (!status)
            status = work(&o);
        fflush(stdout);
    }
    if (MPI_Bcast(&status, 1, MPI_INT, 0, comm) != MPI_SUCCESS)
        return 1;
    return status;
}
