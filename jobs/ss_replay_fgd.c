/* ss_replay_fgd: the FGD paper's evaluation protocol as its public
 * simulator runs it (details: ../shared/docs/fgd-protocol.md and
 * docs/evaluation.md), and the in-memory trace type.
 *
 * Workload: the OpenB default trace, 8,152 pods inflated to ~10,500 on 1,213
 * GPU nodes; a sweep is 60 of these runs, so one run must take well under a
 * second: the per-(node, shape) score cache of ss_fgd_sched does that. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ss_policy.h"
#include "ss_replay.h"
#include "ss_replay_mig.h"

#define SEED_NODES 0x6e6f646573ull /* separate streams for node rank and Random */
#define SEED_RANDOM 0x72616e646full

ss_trace_t *ss_trace_create(int32_t n_pods, int32_t n_events)
{
    ss_trace_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    size_t np = (size_t)(n_pods > 0 ? n_pods : 1), ne = (size_t)(n_events > 0 ? n_events : 1);
    t->n_pods = n_pods;
    t->n_events = n_events;
    t->creation = calloc(np, sizeof *t->creation);
    t->deletion = calloc(np, sizeof *t->deletion);
    t->ev_time = calloc(ne, sizeof *t->ev_time);
    t->ev_kind = calloc(ne, sizeof *t->ev_kind);
    t->ev_node = calloc(ne, sizeof *t->ev_node);
    if (!t->creation || !t->deletion || !t->ev_time || !t->ev_kind || !t->ev_node) {
        ss_trace_destroy(t);
        return NULL;
    }
    return t;
}

void ss_trace_destroy(ss_trace_t *t)
{
    if (!t)
        return;
    free(t->creation);
    free(t->deletion);
    free(t->ev_time);
    free(t->ev_kind);
    free(t->ev_node);
    free(t);
}

int ss_trace_validate(const ss_trace_t *t, const ss_cluster_t *c, ss_error_t *err)
{
    if (t->n_pods != c->n_pods)
        return ss_error_set(err, SS_EFORMAT, "/trace has %d pods, /pods has %d", t->n_pods,
                            c->n_pods);
    for (int32_t i = 0; i < t->n_pods; i++) {
        if (t->creation[i] < 0)
            return ss_error_set(err, SS_EFORMAT, "/trace pod %d: negative creation_time", i);
        if (t->creation[i] > SS_TRACE_MAX_TIME ||
            (t->deletion[i] != SS_TRACE_NO_TIME && t->deletion[i] > SS_TRACE_MAX_TIME))
            return ss_error_set(err, SS_EFORMAT,
                                "/trace pod %d: creation_time or deletion_time beyond 2^62 s", i);
        if (t->deletion[i] < t->creation[i])
            return ss_error_set(err, SS_EFORMAT,
                                "/trace pod %d: deletion_time %lld before creation_time %lld", i,
                                (long long)t->deletion[i], (long long)t->creation[i]);
    }
    for (int32_t i = 0; i < t->n_events; i++) {
        if (t->ev_kind[i] < SS_TRACE_EV_ADD || t->ev_kind[i] > SS_TRACE_EV_CORDON)
            return ss_error_set(err, SS_EFORMAT, "/trace/events row %d: unknown kind %d", i,
                                t->ev_kind[i]);
        if (t->ev_node[i] < 0 || t->ev_node[i] >= c->n_nodes)
            return ss_error_set(err, SS_EFORMAT, "/trace/events row %d: node %d out of range", i,
                                t->ev_node[i]);
        if (t->ev_time[i] < 0 || t->ev_time[i] > SS_TRACE_MAX_TIME)
            return ss_error_set(err, SS_EFORMAT, "/trace/events row %d: time %lld out of range", i,
                                (long long)t->ev_time[i]);
        if (i > 0 && t->ev_time[i] < t->ev_time[i - 1])
            return ss_error_set(err, SS_EFORMAT, "/trace/events row %d: time not sorted", i);
    }
    return 0;
}

ss_fgd_pod_t *ss_replay_template_pods(const ss_fgd_state_t *s, const ss_cluster_t *c)
{
    ss_fgd_pod_t *tp = calloc((size_t)(c->n_templates > 0 ? c->n_templates : 1), sizeof *tp);
    if (!tp)
        return NULL;
    for (int32_t t = 0; t < c->n_templates; t++) {
        ss_fgd_pod_from_template(s, c, t, &tp[t]);
        tp[t].shape = t;
    }
    return tp;
}

static void shuffle(int32_t *a, int32_t n, ss_rng_t *r)
{
    for (int32_t i = n - 1; i > 0; i--) {
        int32_t j = (int32_t)ss_rng_below(r, (uint64_t)i + 1);
        int32_t x = a[i];
        a[i] = a[j];
        a[j] = x;
    }
}

int32_t *ss_replay_node_rank(int32_t n, uint64_t seed)
{
    int32_t *rank = malloc((size_t)(n > 0 ? n : 1) * sizeof *rank);
    if (!rank)
        return NULL;
    ss_rng_t r;
    ss_rng_seed(&r, seed ^ SEED_NODES);
    for (int32_t i = 0; i < n; i++)
        rank[i] = i;
    shuffle(rank, n, &r);
    return rank;
}

typedef struct {
    const char *name;
    int32_t idx;
} named_t;

static int named_cmp(const void *a, const void *b)
{
    const named_t *x = a, *y = b;
    int d = strcmp(x->name, y->name);
    return d ? d : (x->idx > y->idx) - (x->idx < y->idx);
}

/* The arrival order: pods sorted by name, shuffled with the seed, then
 * clones drawn with replacement from the sorted list until the next draw's
 * per-GPU milli would push the running total (num_gpu x milli) above the
 * limit (the simulator's stop-test quirk). Returns the count or -1. */
static int32_t arrival_order(const ss_cluster_t *c, const ss_fgd_pod_t *tp, int64_t limit,
                             uint64_t seed, int32_t **order_out, int32_t *n_orig)
{
    int32_t n = c->n_pods;
    named_t *nm = malloc((size_t)(n > 0 ? n : 1) * sizeof *nm);
    int32_t cap = n > 0 ? 2 * n + 16 : 16, cnt = n;
    int32_t *order = malloc((size_t)cap * sizeof *order);
    if (!nm || !order) {
        free(nm);
        free(order);
        return -1;
    }
    for (int32_t i = 0; i < n; i++)
        nm[i] = (named_t){ss_cluster_strget(c, c->pod_name[i]), i};
    qsort(nm, (size_t)n, sizeof *nm, named_cmp);
    int64_t total = 0;
    bool any_gpu = false;
    for (int32_t i = 0; i < n; i++) {
        order[i] = nm[i].idx;
        const ss_fgd_pod_t *p = &tp[c->pod_template[nm[i].idx]];
        total += (int64_t)p->num_gpu * p->milli;
        any_gpu |= p->milli > 0;
    }
    ss_rng_t r;
    ss_rng_seed(&r, seed);
    shuffle(order, n, &r);
    while (any_gpu && n > 0 && cnt < 100 * n) {
        int32_t j = nm[ss_rng_below(&r, (uint64_t)n)].idx;
        const ss_fgd_pod_t *p = &tp[c->pod_template[j]];
        if (total + p->milli > limit)
            break;
        if (cnt == cap) {
            int32_t *o2 = realloc(order, (size_t)cap * 2 * sizeof *order);
            if (!o2) {
                free(nm);
                free(order);
                return -1;
            }
            order = o2;
            cap *= 2;
        }
        order[cnt++] = j;
        total += (int64_t)p->num_gpu * p->milli;
    }
    free(nm);
    *order_out = order;
    *n_orig = n;
    return cnt;
}

void ss_fgd_result_destroy(ss_fgd_result_t *r)
{
    if (!r)
        return;
    free(r->pod);
    free(r->node);
    free(r->arrived_milli);
    free(r->alloc_gpu_milli);
    free(r->alloc_cpu_milli);
    free(r->frag_pct);
    free(r->unused_compute);
    free(r->unused_mem);
    free(r->mig_gpus);
    free(r);
}

static ss_fgd_result_t *result_create(int32_t n, int32_t mig)
{
    ss_fgd_result_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    size_t m = (size_t)(n > 0 ? n : 1);
    r->n = n;
    r->pod = malloc(m * sizeof *r->pod);
    r->node = malloc(m * sizeof *r->node);
    r->arrived_milli = malloc(m * sizeof *r->arrived_milli);
    r->alloc_gpu_milli = malloc(m * sizeof *r->alloc_gpu_milli);
    r->alloc_cpu_milli = malloc(m * sizeof *r->alloc_cpu_milli);
    r->frag_pct = malloc(m * sizeof *r->frag_pct);
    if (!r->pod || !r->node || !r->arrived_milli || !r->alloc_gpu_milli || !r->alloc_cpu_milli ||
        !r->frag_pct) {
        ss_fgd_result_destroy(r);
        return NULL;
    }
    if (mig) {
        r->mig = mig;
        r->unused_compute = malloc(m * sizeof *r->unused_compute);
        r->unused_mem = malloc(m * sizeof *r->unused_mem);
        r->mig_gpus = malloc(m * sizeof *r->mig_gpus);
        if (!r->unused_compute || !r->unused_mem || !r->mig_gpus) {
            ss_fgd_result_destroy(r);
            return NULL;
        }
    }
    return r;
}

double ss_fgd_bucket_mean(const ss_fgd_result_t *r, int b, int frag)
{
    double unit = (double)r->gpu_capacity / 100.0, sum = 0.0, last = NAN;
    int32_t cnt = 0;
    for (int32_t i = 0; i < r->n; i++) {
        double bucket = nearbyint((double)r->arrived_milli[i] / unit);
        double v =
            frag ? r->frag_pct[i] : nearbyint((double)r->alloc_gpu_milli[i] / unit * 100.0) / 100.0;
        if (bucket == (double)b) {
            sum += v;
            cnt++;
        } else if (bucket < (double)b) {
            last = v;
        }
    }
    return cnt ? sum / cnt : last;
}

/* ss_fgd_bucket_mean's rule on an integer column. */
static double bucket_mean_i32(const ss_fgd_result_t *r, int b, const int32_t *col)
{
    double unit = (double)r->gpu_capacity / 100.0, sum = 0.0, last = NAN;
    int32_t cnt = 0;
    for (int32_t i = 0; i < r->n; i++) {
        double bucket = nearbyint((double)r->arrived_milli[i] / unit);
        if (bucket == (double)b) {
            sum += col[i];
            cnt++;
        } else if (bucket < (double)b) {
            last = col[i];
        }
    }
    return cnt ? sum / cnt : last;
}

/* The invariant of issue 10, item 7 for this protocol: the first
 * n_original rows are the trace's pods, each exactly once, each placed or
 * dropped (node -1); the clones follow. A failure is a bug here. */
static int check_rows(const ss_cluster_t *c, const ss_fgd_result_t *r, ss_error_t *err)
{
    if (r->n_original != c->n_pods || r->n < r->n_original)
        return ss_error_set(err, SS_EINVAL,
                            "fgd replay: internal error: %d original rows of %d for %d pods",
                            r->n_original, r->n, c->n_pods);
    uint8_t *seen = calloc((size_t)(c->n_pods > 0 ? c->n_pods : 1), 1);
    if (!seen)
        return ss_error_set(err, SS_ENOMEM, "fgd replay: out of memory");
    int rc = 0;
    for (int32_t i = 0; i < r->n && !rc; i++) {
        int32_t p = r->pod[i];
        if (p < 0 || p >= c->n_pods || (i < r->n_original && seen[p]++) || r->node[i] < -1 ||
            r->node[i] >= c->n_nodes)
            rc = ss_error_set(err, SS_EINVAL,
                              "fgd replay: internal error: row %d (pod %d, node %d) is not one "
                              "pod placed or dropped once",
                              i, p, r->node[i]);
    }
    free(seen);
    return rc;
}

/* Places every pod of order[] once; fills r. With mig (not NULL), the MIG
 * pods go to ss_replay_mig_place and the rows get its unused slices. */
static int run_pods(const ss_cluster_t *c, ss_fgd_state_t *s, const ss_fgd_pod_t *tp,
                    ss_fgd_sched_t *k, ss_replay_mig_t *mig, const int32_t *order,
                    ss_fgd_result_t *r, const ss_progress_t *progress)
{
    int64_t arrived = 0;
    for (int32_t i = 0; i < r->n; i++) {
        const ss_fgd_pod_t *p = &tp[c->pod_template[order[i]]];
        uint64_t mask = 0;
        int32_t node;
        if (mig && ss_replay_mig_pod(p)) {
            node = ss_replay_mig_place(mig, p);
        } else if ((node = ss_fgd_sched_pick(k, p, &mask)) >= 0) {
            ss_fgd_apply(s, node, p, mask, +1);
        }
        if (mig) {
            ss_replay_mig_unused(mig, &r->unused_compute[i], &r->unused_mem[i]);
            r->mig_gpus[i] = ss_replay_mig_gpus(mig);
        }
        arrived += (int64_t)p->num_gpu * p->milli;
        r->pod[i] = order[i];
        r->node[i] = node;
        r->arrived_milli[i] = arrived;
        r->alloc_gpu_milli[i] = s->gpu_alloc;
        r->alloc_cpu_milli[i] = s->cpu_alloc;
        r->frag_pct[i] = ss_fgd_frag_rate(s);
        if ((i & 255) == 0 || i + 1 == r->n)
            ss_progress_tick(progress, i + 1, r->n);
    }
    return 0;
}

/* The MIG what-if's setup (mig_mode not off): every pod's GPU-model
 * constraint dropped (tp and orig), the MIG side created on the free state,
 * and the typical pods taken from orig with the shares of their instances. */
static int mig_setup(ss_fgd_state_t *s, const ss_fgd_opts_t *o, int mig_mode,
                     const ss_policy_t *pol, const ss_cluster_t *c, ss_fgd_pod_t *tp,
                     ss_fgd_pod_t *orig, const int32_t *rank, ss_replay_mig_t **mig,
                     ss_error_t *err)
{
    for (int32_t t = 0; t < c->n_templates; t++)
        tp[t].models = 0;
    for (int32_t i = 0; i < c->n_pods; i++)
        orig[i].models = 0;
    int rc = ss_replay_mig_create(s, mig_mode, orig, c->n_pods, pol->replay_score, c->n_templates,
                                  rank, o->seed, mig, err);
    if (rc)
        return rc;
    ss_replay_mig_view(orig, c->n_pods);
    return ss_fgd_set_typical(s, orig, c->n_pods, false, err);
}

/* The summary values of a finished run. */
static void summarise(ss_fgd_result_t *r, const ss_fgd_opts_t *o, const ss_replay_mig_t *mig,
                      const ss_cluster_t *c)
{
    r->unalloc_at_100 = 100.0 - ss_fgd_bucket_mean(r, 100, 0);
    r->unalloc_at_130 = 100.0 - ss_fgd_bucket_mean(r, o->inflate_pct, 0);
    r->frag_at_90 = ss_fgd_bucket_mean(r, 90, 1);
    if (!mig)
        return;
    r->n_gpus = c->n_gpus;
    r->relayouts = ss_replay_mig_relayouts(mig);
    r->unused_compute_at_100 = bucket_mean_i32(r, 100, r->unused_compute);
    r->unused_mem_at_100 = bucket_mean_i32(r, 100, r->unused_mem);
}

int ss_replay_fgd(const ss_cluster_t *c, const ss_fgd_opts_t *o, ss_fgd_result_t **out,
                  ss_error_t *err)
{
    return ss_replay_fgd_mig(c, o, SS_REPLAY_MIG_OFF, out, err);
}

int ss_replay_fgd_mig(const ss_cluster_t *c, const ss_fgd_opts_t *o, int mig_mode,
                      ss_fgd_result_t **out, ss_error_t *err)
{
    *out = NULL;
    const ss_policy_t *pol = ss_policy_find(o->policy);
    if (!pol)
        return ss_error_set(err, SS_EINVAL, "unknown policy '%s' (try --list-policies)",
                            o->policy ? o->policy : "");
    if (o->inflate_pct < 0 || o->inflate_pct > 10000)
        return ss_error_set(err, SS_EINVAL, "inflation %d%% out of range", o->inflate_pct);
    if (mig_mode < SS_REPLAY_MIG_OFF || mig_mode > SS_REPLAY_MIG_TRACE_MIX)
        return ss_error_set(err, SS_EINVAL, "unknown MIG mode %d", mig_mode);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ss_fgd_state_t *s = NULL;
    int rc = ss_fgd_state_create(c, &s, err);
    if (rc)
        return rc;
    ss_fgd_pod_t *tp = ss_replay_template_pods(s, c);
    ss_fgd_pod_t *orig = malloc((size_t)(c->n_pods > 0 ? c->n_pods : 1) * sizeof *orig);
    int32_t *order = NULL, *rank = ss_replay_node_rank(c->n_nodes, o->seed), n_orig = 0;
    ss_fgd_sched_t *k = NULL;
    ss_fgd_result_t *r = NULL;
    ss_replay_mig_t *mig = NULL;
    rc = SS_ENOMEM;
    if (!tp || !orig || !rank)
        goto out;
    for (int32_t i = 0; i < c->n_pods; i++)
        orig[i] = tp[c->pod_template[i]];
    if ((rc = mig_mode ? mig_setup(s, o, mig_mode, pol, c, tp, orig, rank, &mig, err)
                       : ss_fgd_set_typical(s, orig, c->n_pods, false, err)))
        goto out;
    rc = SS_ENOMEM;
    int64_t limit = s->gpu_cap_total * o->inflate_pct / 100;
    int32_t n = arrival_order(c, tp, limit, o->seed, &order, &n_orig);
    ss_rng_t rr;
    ss_rng_seed(&rr, o->seed ^ SEED_RANDOM);
    if (n < 0 || !(k = ss_fgd_sched_create(s, pol->replay_score, c->n_templates, rank, &rr)) ||
        !(r = result_create(n, mig_mode)))
        goto out;
    r->gpu_capacity = s->gpu_cap_total;
    r->n_original = n_orig;
    run_pods(c, s, tp, k, mig, order, r, o->progress);
    if ((rc = check_rows(c, r, err)))
        goto out;
    summarise(r, o, mig, c);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->elapsed_s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    *out = r;
    r = NULL;
    rc = 0;
out:
    if (rc == SS_ENOMEM)
        ss_error_set(err, rc, "fgd replay: out of memory");
    ss_fgd_result_destroy(r);
    ss_fgd_sched_destroy(k);
    ss_replay_mig_destroy(mig);
    free(order);
    free(rank);
    free(orig);
    free(tp);
    ss_fgd_state_destroy(s);
    return rc;
}
