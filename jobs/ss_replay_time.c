/* ss_replay_time: event replay of a trace in trace time (issue 5): pods
 * arrive at creation_time and leave at deletion_time, nodes are added,
 * removed or cordoned by /trace/events, and arrivals are placed in batches
 * of `window` seconds by one of the ss_fgd policies. A pod that does not fit
 * waits and is retried at each later batch; since placements only take
 * capacity away, the waiting pods are retried only in batches where
 * something was freed (a departure, an eviction, a node added), which gives
 * the same result as retrying every batch.
 *
 * Workload: the OpenB trace (8,152 pods over ~150 days, ~16,000 batches with
 * an event at a 1 s window). Only batches that contain an event are visited. */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>
#include <string.h>

#include "ss_replay.h"

enum { POD_WAITING_ARRIVAL, POD_PENDING, POD_RUNNING, POD_DONE };

typedef struct {
    const ss_cluster_t *c;
    const ss_trace_t *t;
    ss_fgd_state_t *s;
    ss_fgd_pod_t *tp;
    ss_fgd_sched_t *k;
    int32_t *by_create, *by_delete; /* pod order by time */
    int32_t *node;                  /* per pod */
    uint64_t *mask;
    uint8_t *st;
    int64_t *arrive_batch;          /* end of the batch a pod arrived in */
    int32_t *pending;
    int32_t n_pending, running;
    int64_t arrived_pods, arrived_gpu;
    int64_t lat_sum, lat_n, lat_max, b_lat_sum, b_lat_n, b_lat_max;
    ss_time_result_t *r;
    int32_t cap_rows;
} run_t;

static int by_key(const void *a, const void *b, void *arg)
{
    const int64_t *key = arg;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (key[x] != key[y])
        return key[x] < key[y] ? -1 : 1;
    return (x > y) - (x < y);
}

void ss_time_result_destroy(ss_time_result_t *r)
{
    if (!r)
        return;
    free(r->time);
    free(r->arrived_pods);
    free(r->arrived_gpu_pct);
    free(r->alloc_cpu_pct);
    free(r->alloc_mem_pct);
    free(r->alloc_gpu_pct);
    free(r->running);
    free(r->pending);
    free(r->frag_pct);
    free(r->latency_mean_s);
    free(r->latency_max_s);
    free(r);
}

#define GROW(p, n)                                                                                 \
    do {                                                                                           \
        void *q_ = realloc((p), (size_t)(n) * sizeof *(p));                                        \
        if (!q_)                                                                                   \
            return -1;                                                                             \
        (p) = q_;                                                                                  \
    } while (0)

static int add_row(run_t *w, int64_t time)
{
    ss_time_result_t *r = w->r;
    if (r->n == w->cap_rows) {
        int32_t cap = w->cap_rows ? 2 * w->cap_rows : 1024;
        GROW(r->time, cap);
        GROW(r->arrived_pods, cap);
        GROW(r->arrived_gpu_pct, cap);
        GROW(r->alloc_cpu_pct, cap);
        GROW(r->alloc_mem_pct, cap);
        GROW(r->alloc_gpu_pct, cap);
        GROW(r->running, cap);
        GROW(r->pending, cap);
        GROW(r->frag_pct, cap);
        GROW(r->latency_mean_s, cap);
        GROW(r->latency_max_s, cap);
        w->cap_rows = cap;
    }
    const ss_fgd_state_t *s = w->s;
    int32_t i = r->n++;
    double g = s->gpu_cap_total ? (double)s->gpu_cap_total : 1.0;
    r->time[i] = time;
    r->arrived_pods[i] = w->arrived_pods;
    r->arrived_gpu_pct[i] = 100.0 * (double)w->arrived_gpu / g;
    r->alloc_cpu_pct[i] = s->cpu_cap_total ? 100.0 * (double)s->cpu_alloc / (double)s->cpu_cap_total : 0;
    r->alloc_mem_pct[i] = s->mem_cap_total ? 100.0 * (double)s->mem_alloc / (double)s->mem_cap_total : 0;
    r->alloc_gpu_pct[i] = 100.0 * (double)s->gpu_alloc / g;
    r->running[i] = w->running;
    r->pending[i] = w->n_pending;
    r->frag_pct[i] = ss_fgd_frag_rate(s);
    r->latency_mean_s[i] = w->b_lat_n ? (double)w->b_lat_sum / (double)w->b_lat_n : 0.0;
    r->latency_max_s[i] = w->b_lat_max;
    w->b_lat_sum = w->b_lat_n = w->b_lat_max = 0;
    return 0;
}

static void release(run_t *w, int32_t pod)
{
    ss_fgd_apply(w->s, w->node[pod], &w->tp[w->c->pod_template[pod]], w->mask[pod], -1);
    w->running--;
}

/* Tries pending pods from index `from` on; keeps the unplaced in order. */
static void try_pending(run_t *w, int32_t from, int64_t now)
{
    int32_t keep = from;
    for (int32_t i = from; i < w->n_pending; i++) {
        int32_t pod = w->pending[i];
        const ss_fgd_pod_t *p = &w->tp[w->c->pod_template[pod]];
        uint64_t mask;
        int32_t n = ss_fgd_sched_pick(w->k, p, &mask);
        if (n < 0) {
            w->pending[keep++] = pod;
            continue;
        }
        ss_fgd_apply(w->s, n, p, mask, +1);
        w->node[pod] = n;
        w->mask[pod] = mask;
        w->st[pod] = POD_RUNNING;
        w->running++;
        int64_t lat = now - w->arrive_batch[pod];
        w->lat_sum += lat;
        w->lat_n++;
        w->b_lat_sum += lat;
        w->b_lat_n++;
        if (lat > w->lat_max)
            w->lat_max = lat;
        if (lat > w->b_lat_max)
            w->b_lat_max = lat;
    }
    w->n_pending = keep;
}

static void drop_pending(run_t *w, int32_t pod)
{
    for (int32_t i = 0; i < w->n_pending; i++)
        if (w->pending[i] == pod) {
            memmove(w->pending + i, w->pending + i + 1,
                    (size_t)(w->n_pending - i - 1) * sizeof *w->pending);
            w->n_pending--;
            return;
        }
}

/* Node event: add unblocks, cordon blocks, remove blocks and evicts. */
static bool node_event(run_t *w, int32_t e, int64_t end)
{
    int32_t n = w->t->ev_node[e];
    if (w->t->ev_kind[e] == SS_TRACE_EV_ADD) {
        ss_fgd_set_blocked(w->s, n, false);
        return true;
    }
    ss_fgd_set_blocked(w->s, n, true);
    if (w->t->ev_kind[e] != SS_TRACE_EV_REMOVE)
        return false;
    bool freed = false;
    for (int32_t pod = 0; pod < w->c->n_pods; pod++)
        if (w->st[pod] == POD_RUNNING && w->node[pod] == n) {
            release(w, pod);
            w->st[pod] = POD_PENDING;
            w->arrive_batch[pod] = end;
            w->pending[w->n_pending++] = pod;
            w->r->evicted++;
            freed = true;
        }
    return freed;
}

static int64_t batch_end(int64_t t, int64_t window)
{
    return (t / window + 1) * window;
}

/* The event loop: one iteration per batch that holds an event. */
static int replay(run_t *w, const ss_time_opts_t *o)
{
    const ss_trace_t *t = w->t;
    int32_t n = w->c->n_pods, ia = 0, id = 0, ie = 0;
    int64_t total = (int64_t)2 * n + t->n_events, done = 0;
    bool freed = false;
    while (ia < n || id < n || ie < t->n_events) {
        int64_t next = INT64_MAX;
        if (ia < n)
            next = t->creation[w->by_create[ia]];
        if (ie < t->n_events && t->ev_time[ie] < next)
            next = t->ev_time[ie];
        /* departures matter only for pods that arrived */
        while (id < n && w->st[w->by_delete[id]] == POD_DONE)
            id++;
        if (id < n && t->deletion[w->by_delete[id]] < next)
            next = t->deletion[w->by_delete[id]];
        if (next == INT64_MAX || next == SS_TRACE_NO_TIME)
            break;
        int64_t end = batch_end(next, o->window);
        for (; ie < t->n_events && t->ev_time[ie] < end; ie++, done++)
            freed |= node_event(w, ie, end);
        for (; id < n && t->deletion[w->by_delete[id]] < end; id++, done++) {
            int32_t pod = w->by_delete[id];
            if (w->st[pod] == POD_RUNNING) {
                release(w, pod);
                freed = true;
            } else if (w->st[pod] == POD_PENDING) {
                drop_pending(w, pod);
                w->r->never_placed++;
            }
            w->st[pod] = POD_DONE;
        }
        int32_t first_new = w->n_pending;
        for (; ia < n && t->creation[w->by_create[ia]] < end; ia++, done++) {
            int32_t pod = w->by_create[ia];
            if (w->st[pod] == POD_DONE)
                continue; /* left in the same batch it arrived (deletion < end) */
            const ss_fgd_pod_t *p = &w->tp[w->c->pod_template[pod]];
            w->st[pod] = POD_PENDING;
            w->arrive_batch[pod] = end;
            w->pending[w->n_pending++] = pod;
            w->arrived_pods++;
            w->arrived_gpu += (int64_t)p->num_gpu * p->milli;
        }
        try_pending(w, freed ? 0 : first_new, end);
        freed = false;
        if (add_row(w, end))
            return -1;
        if (o->progress && (w->r->n & 255) == 0)
            o->progress(o->progress_arg, total ? (double)done / (double)total : 1.0);
    }
    if (o->progress)
        o->progress(o->progress_arg, 1.0);
    w->r->never_placed += w->n_pending;
    w->r->placed = w->lat_n;
    w->r->latency_mean_all_s = w->lat_n ? (double)w->lat_sum / (double)w->lat_n : 0.0;
    w->r->latency_max_all_s = w->lat_max;
    return 0;
}

static void run_free(run_t *w)
{
    free(w->by_create);
    free(w->by_delete);
    free(w->node);
    free(w->mask);
    free(w->st);
    free(w->arrive_batch);
    free(w->pending);
    free(w->tp);
    ss_fgd_sched_destroy(w->k);
    ss_fgd_state_destroy(w->s);
    ss_time_result_destroy(w->r);
}

int ss_replay_time(const ss_cluster_t *c, const ss_trace_t *t, const ss_time_opts_t *o,
                   ss_time_result_t **out, ss_error_t *err)
{
    *out = NULL;
    const ss_fgd_policy_t *pol = ss_fgd_policy_find(o->policy);
    if (!pol)
        return ss_error_set(err, SS_EINVAL, "unknown policy '%s' (try --list-policies)",
                            o->policy ? o->policy : "");
    if (o->window < 1)
        return ss_error_set(err, SS_EINVAL, "batch window must be >= 1 s");
    int rc = ss_trace_validate(t, c, err);
    if (rc)
        return rc;
    run_t w = {.c = c, .t = t};
    if ((rc = ss_fgd_state_create(c, &w.s, err)))
        return rc;
    size_t np = (size_t)(c->n_pods > 0 ? c->n_pods : 1);
    int32_t *rank = ss_replay_node_rank(c->n_nodes, o->seed);
    ss_fgd_pod_t *orig = malloc(np * sizeof *orig);
    w.tp = ss_replay_template_pods(w.s, c);
    w.by_create = malloc(np * sizeof *w.by_create);
    w.by_delete = malloc(np * sizeof *w.by_delete);
    w.node = malloc(np * sizeof *w.node);
    w.mask = calloc(np, sizeof *w.mask);
    w.st = calloc(np, 1);
    w.arrive_batch = calloc(np, sizeof *w.arrive_batch);
    w.pending = malloc(np * sizeof *w.pending);
    w.r = calloc(1, sizeof *w.r);
    rc = SS_ENOMEM;
    if (!rank || !orig || !w.tp || !w.by_create || !w.by_delete || !w.node || !w.mask || !w.st ||
        !w.arrive_batch || !w.pending || !w.r)
        goto out;
    for (int32_t i = 0; i < c->n_pods; i++) {
        orig[i] = w.tp[c->pod_template[i]];
        w.by_create[i] = w.by_delete[i] = i;
        w.node[i] = -1;
    }
    qsort_r(w.by_create, np, sizeof(int32_t), by_key, t->creation);
    qsort_r(w.by_delete, np, sizeof(int32_t), by_key, t->deletion);
    /* nodes that an "add" event brings in are absent until then */
    for (int32_t e = 0; e < t->n_events; e++)
        if (t->ev_kind[e] == SS_TRACE_EV_ADD)
            ss_fgd_set_blocked(w.s, t->ev_node[e], true);
    if ((rc = ss_fgd_set_typical(w.s, orig, c->n_pods, false, err)))
        goto out;
    rc = SS_ENOMEM;
    ss_rng_t rr;
    ss_rng_seed(&rr, o->seed ^ 0x74696d65ull);
    if (!(w.k = ss_fgd_sched_create(w.s, pol, c->n_templates, rank, &rr)) || replay(&w, o))
        goto out;
    *out = w.r;
    w.r = NULL;
    rc = 0;
out:
    if (rc == SS_ENOMEM)
        ss_error_set(err, rc, "time replay: out of memory");
    free(rank);
    free(orig);
    run_free(&w);
    return rc;
}
