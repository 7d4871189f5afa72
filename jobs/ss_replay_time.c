/* ss_replay_time: event replay of a trace in trace time (issue 5): pods
 * arrive at creation_time and leave at deletion_time, nodes are added,
 * removed or cordoned by /trace/events, and arrivals are placed in batches
 * of `window` seconds by one of the ss_fgd policies. A pod that does not fit
 * waits and is retried at each later batch; since placements only take
 * capacity away, the waiting pods are retried only in batches where
 * something may have changed for them (a departure, an eviction, a node
 * added, a reservation dropped, a new member of their gang), which gives the
 * same result as retrying every batch.
 *
 * The queue is ordered by priority (higher first), then arrival. The pods of
 * a pod group are placed all-or-nothing: at least min_member of its waiting
 * pods in one batch, or none; a gang that does not fit is passed over and
 * the pods behind it are tried in the same batch. A gang that has waited
 * long enough gets a reservation against starvation (see resv_t below).
 *
 * Workload: the OpenB trace (8,152 pods over ~150 days, ~16,000 batches with
 * an event at a 1 s window; no gangs, one priority). Only batches that
 * contain an event are visited. */
#define _GNU_SOURCE /* qsort_r */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_policy.h"
#include "ss_replay.h"

enum { POD_WAITING_ARRIVAL, POD_PENDING, POD_RUNNING, POD_DONE };

/* Gangs over time (docs/gangs-and-topology.md, "Gangs over time: no
 * starvation"). The rule: once a gang has waited reserve_wait seconds
 * (ss_time_gang_opts_t) since min_member of its pods were waiting (and it
 * can fit on the empty cluster), and no other gang holds the reservation,
 * it gets one: start
 * time S = the earliest batch end at which the gang fits when the running
 * pods leave at their known deletion times, and the nodes R its pods would
 * take then. Until the gang starts, any other pod may be placed on a node of
 * R only if it leaves no later than S (its release batch <= S: backfill).
 * The reservation is dropped when the gang starts, when it stops being
 * ready, or when S has come and it still does not fit (a new one is then
 * computed). One reservation at a time; the candidate is the first such gang
 * in queue order; all ties by pod and node index. */
typedef struct {
    int32_t g;        /* holder, -1 when none */
    int64_t start;    /* S: batch end at which the holder fits */
    int32_t n_nodes;  /* R, distinct, ascending order of first use */
    int32_t *nodes;   /* [n_nodes] */
    uint8_t *saved;   /* [n_nodes] blocked state while hidden */
    uint8_t *is_resv; /* per node */
    bool hidden;      /* R is blocked in the state right now */
    int32_t n_plan;   /* the holder's pods and nodes at S */
    int32_t *plan_pod, *plan_node;
} resv_t;

typedef struct {
    const ss_cluster_t *c;
    const ss_trace_t *t;
    ss_fgd_state_t *s;
    ss_fgd_pod_t *tp;
    ss_fgd_sched_t *k;
    int64_t window, reserve_wait;
    int32_t *by_create, *by_delete; /* pod order by time */
    int32_t id;                     /* next by_delete row not yet departed */
    int32_t *node;                  /* per pod */
    uint64_t *mask;
    uint8_t *st;
    int64_t *arrive_batch;  /* end of the batch a pod arrived in */
    int64_t *seq, next_seq; /* queue arrival order */
    int32_t *pending;       /* queue: priority desc, then seq */
    int32_t *scratch;       /* [2 n_pods]: merge buffer; tentative pods, released pods */
    int32_t n_pending, running;
    int64_t arrived_pods, arrived_gpu;
    int64_t lat_sum, lat_n, lat_max, b_lat_sum, b_lat_n, b_lat_max;
    bool force_retry; /* something other than a departure may let pods fit */
    /* gangs: waiting members of groups not started, CSR in queue order */
    int32_t ng;
    int32_t *g_begin, *g_count, *g_list;
    int32_t *g_checked;      /* member count the empty-cluster check saw, -1 none */
    uint32_t *g_seen, stamp; /* a group is visited once per pass */
    uint8_t *g_flags;        /* G_* bits */
    ss_fgd_state_t *s0;      /* the empty cluster, for "can never fit" */
    ss_fgd_sched_t *k0;
    int32_t *e_node; /* tentative placements on s0 */
    uint64_t *e_mask;
    resv_t rv;
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
    free(r->pod_start);
    free(r->group_status);
    free(r->group_ready);
    free(r->group_start);
    free(r->group_resv_start);
    free(r->group_fit_empty);
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
    r->alloc_cpu_pct[i] =
        s->cpu_cap_total ? 100.0 * (double)s->cpu_alloc / (double)s->cpu_cap_total : 0;
    r->alloc_mem_pct[i] =
        s->mem_cap_total ? 100.0 * (double)s->mem_alloc / (double)s->mem_cap_total : 0;
    r->alloc_gpu_pct[i] = 100.0 * (double)s->gpu_alloc / g;
    r->running[i] = w->running;
    r->pending[i] = w->n_pending;
    r->frag_pct[i] = ss_fgd_frag_rate(s);
    r->latency_mean_s[i] = w->b_lat_n ? (double)w->b_lat_sum / (double)w->b_lat_n : 0.0;
    r->latency_max_s[i] = w->b_lat_max;
    w->b_lat_sum = w->b_lat_n = w->b_lat_max = 0;
    return 0;
}

enum { G_STARTED = 1, G_NEVER = 2, G_EVER_READY = 4, G_EVICT = 8 }; /* run_t.g_flags bits */

static int64_t batch_end(int64_t t, int64_t window)
{
    return (t / window + 1) * window;
}

/* End of the batch in which pod leaves (its room is free for that batch's
 * placements); INT64_MAX for a pod that never leaves. */
static int64_t release_batch(const run_t *w, int32_t pod)
{
    int64_t d = w->t->deletion[pod];
    if (d > INT64_MAX - w->window)
        return INT64_MAX;
    return batch_end(d, w->window);
}

static const ss_fgd_pod_t *pod_of(const run_t *w, int32_t pod)
{
    return &w->tp[w->c->pod_template[pod]];
}

/* ---------- the queue: priority desc, then arrival (seq) ---------- */

static bool before(const run_t *w, int32_t a, int32_t b)
{
    int32_t pa = w->c->pod_priority[a], pb = w->c->pod_priority[b];
    if (pa != pb)
        return pa > pb;
    return w->seq[a] < w->seq[b];
}

static int by_queue(const void *a, const void *b, void *arg)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return before(arg, x, y) ? -1 : before(arg, y, x) ? 1 : 0;
}

static void enqueue(run_t *w, int32_t pod, int64_t end)
{
    w->st[pod] = POD_PENDING;
    w->arrive_batch[pod] = end;
    w->seq[pod] = w->next_seq++;
    w->pending[w->n_pending++] = pod;
}

/* Sorts the pods queued since seq `first` (the tail of the queue) and merges
 * them into it; returns the position of the first of them. With a single
 * priority the tail is already in place and this costs only the tail. */
static int32_t merge_new(run_t *w, int64_t first)
{
    int32_t n = w->n_pending, k = n;
    while (k > 0 && w->seq[w->pending[k - 1]] >= first)
        k--;
    if (k == n)
        return n;
    qsort_r(w->pending + k, (size_t)(n - k), sizeof(int32_t), by_queue, w);
    if (k == 0 || !before(w, w->pending[k], w->pending[k - 1]))
        return k;
    int32_t i = 0, j = k, o = 0, pos = -1;
    while (i < k || j < n) {
        if (j < n && (i == k || before(w, w->pending[j], w->pending[i]))) {
            if (pos < 0)
                pos = o;
            w->scratch[o++] = w->pending[j++];
        } else {
            w->scratch[o++] = w->pending[i++];
        }
    }
    memcpy(w->pending, w->scratch, (size_t)n * sizeof *w->pending);
    return pos;
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

/* ---------- placing and releasing ---------- */

static void place(run_t *w, int32_t pod, int32_t n, uint64_t mask)
{
    ss_fgd_apply(w->s, n, pod_of(w, pod), mask, +1);
    w->node[pod] = n;
    w->mask[pod] = mask;
}

static void unplace(run_t *w, int32_t pod)
{
    ss_fgd_apply(w->s, w->node[pod], pod_of(w, pod), w->mask[pod], -1);
    w->node[pod] = -1;
}

/* A placed pod starts running at batch end `now`. */
static void commit(run_t *w, int32_t pod, int64_t now)
{
    w->st[pod] = POD_RUNNING;
    w->running++;
    if (w->r->pod_start[pod] < 0)
        w->r->placed++; /* pods, not placements: an evicted pod placed again counts once */
    w->r->pod_start[pod] = now;
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

static void release(run_t *w, int32_t pod)
{
    unplace(w, pod);
    w->running--;
}

/* ---------- the reservation ---------- */

/* Blocks (hide) or restores the reserved nodes in the state. Only inside a
 * pass: node events never see them hidden. */
static void hide_reserved(run_t *w, bool hide)
{
    resv_t *v = &w->rv;
    if (hide == v->hidden)
        return;
    for (int32_t i = 0; i < v->n_nodes; i++) {
        int32_t n = v->nodes[i];
        if (hide) {
            v->saved[i] = w->s->blocked[n];
            ss_fgd_set_blocked(w->s, n, true);
        } else {
            ss_fgd_set_blocked(w->s, n, v->saved[i] != 0);
        }
    }
    v->hidden = hide;
}

static void drop_reservation(run_t *w)
{
    resv_t *v = &w->rv;
    hide_reserved(w, false);
    for (int32_t i = 0; i < v->n_nodes; i++)
        v->is_resv[v->nodes[i]] = 0;
    v->g = -1;
    v->n_nodes = v->n_plan = 0;
    w->force_retry = true; /* pods kept off R may fit now */
}

/* The scheduler's node for pod, off the reserved nodes unless the pod is the
 * holder's or leaves no later than the reservation starts (backfill). */
static int32_t pick(run_t *w, int32_t pod, bool holder, uint64_t *mask)
{
    hide_reserved(w, w->rv.g >= 0 && !holder && release_batch(w, pod) > w->rv.start);
    return ss_fgd_sched_pick(w->k, pod_of(w, pod), mask);
}

/* Tentatively places as many of m[0..k) as the scheduler finds room for, in
 * order; their pods go to w->scratch. Returns how many. */
static int32_t place_greedy(run_t *w, const int32_t *m, int32_t k, bool holder)
{
    int32_t got = 0;
    for (int32_t i = 0; i < k; i++) {
        uint64_t mask;
        int32_t n = pick(w, m[i], holder, &mask);
        if (n >= 0) {
            place(w, m[i], n, mask);
            w->scratch[got++] = m[i];
        }
    }
    return got;
}

static void unplace_all(run_t *w, int32_t got)
{
    while (got > 0)
        unplace(w, w->scratch[--got]);
}

/* The holder's pods on the nodes the reservation planned for them, those
 * still waiting and fitting; into w->scratch. Returns how many. */
static int32_t place_planned(run_t *w)
{
    resv_t *v = &w->rv;
    int32_t got = 0;
    hide_reserved(w, false);
    for (int32_t i = 0; i < v->n_plan; i++) {
        int32_t pod = v->plan_pod[i], n = v->plan_node[i];
        const ss_fgd_pod_t *p = pod_of(w, pod);
        if (w->st[pod] != POD_PENDING || !ss_fgd_fits(w->s, n, p))
            continue;
        int32_t gpu = p->num_gpu == 1 && p->milli < SS_GPU_MILLI
                          ? ss_fgd_tightest_gpu(w->s, n, p->milli)
                          : -1;
        place(w, pod, n, ss_fgd_gpu_mask(w->s, n, p, gpu));
        w->scratch[got++] = pod;
    }
    return got;
}

/* Records the tentative placement in w->scratch[0..got) as g's reservation
 * starting at `start`. */
static void set_reservation(run_t *w, int32_t g, int64_t start, int32_t got)
{
    resv_t *v = &w->rv;
    v->g = g;
    v->start = start;
    v->n_plan = got;
    v->n_nodes = 0;
    for (int32_t i = 0; i < got; i++) {
        int32_t pod = w->scratch[i], n = w->node[pod];
        v->plan_pod[i] = pod;
        v->plan_node[i] = n;
        if (!v->is_resv[n]) {
            v->is_resv[n] = 1;
            v->nodes[v->n_nodes++] = n;
        }
    }
    w->r->group_resv_start[g] = start;
    w->r->reservations++;
}

/* Computes gang g's reservation: releases the running pods in order of
 * departure (ties by pod index) and, after each batch of departures, tries
 * the gang; the first batch end where min_member of its pods fit is S. Then
 * restores every pod. Returns false when it does not fit even after every
 * pod that ever leaves has left. */
static bool reserve(run_t *w, int32_t g)
{
    const int32_t *m = w->g_list + w->g_begin[g];
    int32_t k = w->g_count[g], min = w->c->group_min_member[g], n = w->c->n_pods, n_rel = 0;
    int64_t cur = -1, found = -1;
    hide_reserved(w, false);
    for (int32_t j = w->id;; j++) {
        int32_t pod = j < n ? w->by_delete[j] : -1;
        if (pod >= 0 && w->st[pod] != POD_RUNNING)
            continue;
        int64_t e = pod >= 0 ? release_batch(w, pod) : INT64_MAX;
        if (e != cur && cur >= 0) {
            int32_t got = place_greedy(w, m, k, true);
            if (got >= min) {
                found = cur;
                set_reservation(w, g, cur, got);
            }
            unplace_all(w, got);
            if (found >= 0)
                break;
        }
        if (e == INT64_MAX)
            break;
        ss_fgd_apply(w->s, w->node[pod], pod_of(w, pod), w->mask[pod], -1);
        w->scratch[k + n_rel++] = pod; /* after room for the gang's own */
        cur = e;
    }
    while (n_rel > 0) {
        int32_t pod = w->scratch[k + --n_rel];
        ss_fgd_apply(w->s, w->node[pod], pod_of(w, pod), w->mask[pod], +1);
    }
    return found >= 0;
}

/* ---------- gangs ---------- */

/* How many of g's waiting pods the scheduler places on the empty cluster. */
static int32_t fit_empty(run_t *w, int32_t g)
{
    const int32_t *m = w->g_list + w->g_begin[g];
    int32_t got = 0;
    for (int32_t i = 0; i < w->g_count[g]; i++) {
        uint64_t mask;
        int32_t n = ss_fgd_sched_pick(w->k0, pod_of(w, m[i]), &mask);
        if (n < 0)
            continue;
        ss_fgd_apply(w->s0, n, pod_of(w, m[i]), mask, +1);
        w->e_node[got] = n;
        w->e_mask[got] = mask;
        w->scratch[got++] = m[i];
    }
    for (int32_t i = got - 1; i >= 0; i--)
        ss_fgd_apply(w->s0, w->e_node[i], pod_of(w, w->scratch[i]), w->e_mask[i], -1);
    return got;
}

/* Lists the waiting pods of each group not started (CSR, queue order) and
 * updates readiness and the empty-cluster check. */
static void index_gangs(run_t *w, int64_t now)
{
    const ss_cluster_t *c = w->c;
    memset(w->g_count, 0, (size_t)w->ng * sizeof *w->g_count);
    for (int32_t i = 0; i < w->n_pending; i++) {
        int32_t g = c->pod_group[w->pending[i]];
        if (g >= 0 && !(w->g_flags[g] & G_STARTED))
            w->g_count[g]++;
    }
    w->g_begin[0] = 0;
    for (int32_t g = 0; g < w->ng; g++) {
        w->g_begin[g + 1] = w->g_begin[g] + w->g_count[g];
        w->g_count[g] = 0;
    }
    for (int32_t i = 0; i < w->n_pending; i++) {
        int32_t pod = w->pending[i], g = c->pod_group[pod];
        if (g >= 0 && !(w->g_flags[g] & G_STARTED))
            w->g_list[w->g_begin[g] + w->g_count[g]++] = pod;
    }
    for (int32_t g = 0; g < w->ng; g++) {
        if (w->g_flags[g] & G_STARTED)
            continue;
        if (w->g_count[g] < c->group_min_member[g]) {
            w->r->group_ready[g] = -1;
            if (w->rv.g == g)
                drop_reservation(w); /* members left: not ready any more */
            continue;
        }
        if (w->r->group_ready[g] < 0)
            w->r->group_ready[g] = now;
        w->g_flags[g] |= G_EVER_READY;
        if (w->g_checked[g] != w->g_count[g]) {
            int32_t fe = fit_empty(w, g);
            w->g_checked[g] = w->g_count[g];
            w->r->group_fit_empty[g] = fe;
            if (fe < c->group_min_member[g])
                w->g_flags[g] |= G_NEVER;
            else
                w->g_flags[g] &= (uint8_t)~G_NEVER;
        }
        if ((w->g_flags[g] & G_NEVER) && w->rv.g == g)
            drop_reservation(w);
    }
}

static bool gang_has_new(const run_t *w, int32_t g, int64_t first_seq)
{
    const int32_t *m = w->g_list + w->g_begin[g];
    for (int32_t i = 0; i < w->g_count[g]; i++)
        if (w->seq[m[i]] >= first_seq)
            return true;
    return false;
}

/* All-or-nothing: commits when min_member of g's waiting pods fit, else
 * takes every tentative placement back. The holder, once S has come, falls
 * back to the planned nodes; if even that fails its reservation is dropped
 * (and recomputed at the end of the pass). */
static void try_gang(run_t *w, int32_t g, int64_t now)
{
    const int32_t *m = w->g_list + w->g_begin[g];
    int32_t min = w->c->group_min_member[g];
    bool holder = g == w->rv.g, due = holder && now >= w->rv.start;
    int32_t got = place_greedy(w, m, w->g_count[g], holder);
    if (got < min && due) {
        unplace_all(w, got);
        got = place_planned(w);
    }
    if (got < min) {
        unplace_all(w, got);
        if (due)
            drop_reservation(w);
        return;
    }
    for (int32_t i = 0; i < got; i++)
        commit(w, w->scratch[i], now);
    w->g_flags[g] |= G_STARTED;
    w->r->group_start[g] = now;
    w->r->gangs_placed++;
    if (holder)
        drop_reservation(w);
}

/* After a pass: the first gang in queue order that is ready, can fit, and
 * has waited reserve_wait seconds gets the reservation (if none is held). */
static void maybe_reserve(run_t *w, int64_t now)
{
    if (w->reserve_wait <= 0 || w->rv.g >= 0 || !w->ng)
        return;
    w->stamp++;
    for (int32_t i = 0; i < w->n_pending; i++) {
        int32_t g = w->c->pod_group[w->pending[i]];
        if (g < 0 || (w->g_flags[g] & (G_STARTED | G_NEVER)) || w->g_seen[g] == w->stamp)
            continue;
        w->g_seen[g] = w->stamp;
        int64_t ready = w->r->group_ready[g];
        if (ready < 0 || now - ready < w->reserve_wait)
            continue;
        if (reserve(w, g))
            return;
    }
}

/* ---------- one batch ---------- */

/* Tries the queue in order. Unless `all`, only what may have changed is
 * tried: pods queued since first_seq (from position `from` on) and gangs
 * with such a pod. Keeps the unplaced in order. */
static void pass(run_t *w, int32_t from, int64_t first_seq, int64_t now, bool all)
{
    if (w->ng)
        index_gangs(w, now);
    w->stamp++;
    for (int32_t i = all ? 0 : from; i < w->n_pending; i++) {
        int32_t pod = w->pending[i], g = w->c->pod_group[pod];
        if (w->st[pod] != POD_PENDING)
            continue; /* placed with its gang earlier in this pass */
        if (g >= 0 && !(w->g_flags[g] & G_STARTED)) {
            if (w->g_seen[g] == w->stamp)
                continue;
            w->g_seen[g] = w->stamp;
            if (w->g_count[g] >= w->c->group_min_member[g] && !(w->g_flags[g] & G_NEVER) &&
                (all || gang_has_new(w, g, first_seq)))
                try_gang(w, g, now);
        } else if (all || w->seq[pod] >= first_seq) {
            uint64_t mask;
            int32_t n = pick(w, pod, false, &mask);
            if (n >= 0) {
                place(w, pod, n, mask);
                commit(w, pod, now);
            }
        }
    }
    hide_reserved(w, false);
    int32_t keep = 0;
    for (int32_t i = 0; i < w->n_pending; i++)
        if (w->st[w->pending[i]] == POD_PENDING)
            w->pending[keep++] = w->pending[i];
    w->n_pending = keep;
    maybe_reserve(w, now);
}

static void evict(run_t *w, int32_t pod, int64_t end)
{
    release(w, pod);
    enqueue(w, pod, end);
    w->r->evicted++;
}

/* Node event: add unblocks, cordon blocks, remove blocks and evicts. A gang
 * with an evicted pod is restarted: its other running pods are evicted
 * too, and it waits to be placed all-or-nothing again. */
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
    bool freed = false, restart = false;
    for (int32_t pod = 0; pod < w->c->n_pods; pod++)
        if (w->st[pod] == POD_RUNNING && w->node[pod] == n) {
            int32_t g = w->c->pod_group[pod];
            if (g >= 0 && (w->g_flags[g] & G_STARTED)) {
                w->g_flags[g] = (uint8_t)((w->g_flags[g] & ~G_STARTED) | G_EVICT);
                restart = true;
            }
            evict(w, pod, end);
            freed = true;
        }
    if (!restart)
        return freed;
    for (int32_t pod = 0; pod < w->c->n_pods; pod++) {
        int32_t g = w->c->pod_group[pod];
        if (g >= 0 && (w->g_flags[g] & G_EVICT) && w->st[pod] == POD_RUNNING)
            evict(w, pod, end);
    }
    for (int32_t g = 0; g < w->ng; g++) {
        if (w->g_flags[g] & G_EVICT)
            w->r->group_ready[g] = -1;
        w->g_flags[g] &= (uint8_t)~G_EVICT;
    }
    return true;
}

static void finish_gangs(run_t *w)
{
    ss_time_result_t *r = w->r;
    for (int32_t g = 0; g < w->ng; g++) {
        uint8_t f = w->g_flags[g];
        r->group_status[g] = f & G_STARTED      ? SS_GANG_PLACED
                             : f & G_NEVER      ? SS_GANG_NEVER_FITS
                             : f & G_EVER_READY ? SS_GANG_WAITING
                                                : SS_GANG_INCOMPLETE;
        r->gangs_never_fit += r->group_status[g] == SS_GANG_NEVER_FITS;
    }
}

/* The event loop: one iteration per batch that holds an event. */
static int replay(run_t *w, const ss_time_opts_t *o)
{
    const ss_trace_t *t = w->t;
    int32_t n = w->c->n_pods, ia = 0, ie = 0;
    int64_t total = (int64_t)2 * n + t->n_events, done = 0;
    bool freed = false;
    while (ia < n || w->id < n || ie < t->n_events) {
        int64_t next = INT64_MAX;
        if (ia < n)
            next = t->creation[w->by_create[ia]];
        if (ie < t->n_events && t->ev_time[ie] < next)
            next = t->ev_time[ie];
        /* departures matter only for pods that arrived */
        while (w->id < n && w->st[w->by_delete[w->id]] == POD_DONE)
            w->id++;
        if (w->id < n && t->deletion[w->by_delete[w->id]] < next)
            next = t->deletion[w->by_delete[w->id]];
        if (next == INT64_MAX || next == SS_TRACE_NO_TIME)
            break;
        int64_t end = batch_end(next, o->window), first_seq = w->next_seq;
        for (; ie < t->n_events && t->ev_time[ie] < end; ie++, done++)
            freed |= node_event(w, ie, end);
        for (; w->id < n && t->deletion[w->by_delete[w->id]] < end; w->id++, done++) {
            int32_t pod = w->by_delete[w->id];
            if (w->st[pod] == POD_RUNNING) {
                release(w, pod);
                freed = true;
            } else if (w->st[pod] == POD_PENDING) {
                drop_pending(w, pod);
                w->r->never_placed += w->r->pod_start[pod] < 0; /* else evicted: was placed */
            }
            w->st[pod] = POD_DONE;
        }
        for (; ia < n && t->creation[w->by_create[ia]] < end; ia++, done++) {
            int32_t pod = w->by_create[ia];
            const ss_fgd_pod_t *p = pod_of(w, pod);
            w->arrived_pods++;
            w->arrived_gpu += (int64_t)p->num_gpu * p->milli;
            if (w->st[pod] == POD_DONE) {
                /* arrived and left within this batch, before the scheduler
                 * ran: never placed (issue 10, item 7: it used to vanish) */
                w->r->never_placed++;
                w->r->left_in_batch++;
                continue;
            }
            enqueue(w, pod, end);
        }
        int32_t from = merge_new(w, first_seq);
        bool all = freed || w->force_retry || (w->rv.g >= 0 && end >= w->rv.start);
        w->force_retry = false;
        pass(w, from, first_seq, end, all);
        freed = false;
        if (add_row(w, end))
            return -1;
        if (o->progress && (w->r->n & 255) == 0)
            o->progress(o->progress_arg, total ? (double)done / (double)total : 1.0);
    }
    if (o->progress)
        o->progress(o->progress_arg, 1.0);
    finish_gangs(w);
    for (int32_t i = 0; i < w->n_pending; i++)
        w->r->pending_end += w->r->pod_start[w->pending[i]] < 0; /* else evicted: was placed */
    w->r->latency_mean_all_s = w->lat_n ? (double)w->lat_sum / (double)w->lat_n : 0.0;
    w->r->latency_max_all_s = w->lat_max;
    return 0;
}

const char *ss_gang_status_name(int status)
{
    static const char *const names[] = {"incomplete", "waiting", "placed", "never-fits"};
    return status >= 0 && status < 4 ? names[status] : NULL;
}

int ss_time_gang_reason(const ss_time_result_t *r, const ss_cluster_t *c, int32_t g, char *buf,
                        size_t len)
{
    if (buf && len)
        buf[0] = '\0';
    if (!r || !c || !buf || g < 0 || g >= r->n_groups || g >= c->n_groups)
        return SS_EINVAL;
    const char *name = ss_cluster_strget(c, c->group_name[g]);
    int32_t min = c->group_min_member[g];
    switch (r->group_status[g]) {
    case SS_GANG_PLACED:
        snprintf(buf, len, "gang '%s': placed at %lld s", name, (long long)r->group_start[g]);
        break;
    case SS_GANG_NEVER_FITS:
        snprintf(buf, len,
                 "gang '%s': unschedulable: only %d of min_member %d pods fit on the empty "
                 "cluster",
                 name, r->group_fit_empty[g], min);
        break;
    case SS_GANG_WAITING:
        snprintf(buf, len, "gang '%s': had min_member %d pods waiting but was not placed", name,
                 min);
        break;
    default:
        snprintf(buf, len, "gang '%s': incomplete: never had min_member %d pods waiting at once",
                 name, min);
        break;
    }
    return r->group_status[g];
}

/* The invariant of issue 10, item 7: every pod of the trace ends as placed
 * (at least once), never placed (left the queue, or left before its first
 * batch) or pending at the end, and the counters agree with the pods'
 * states. A failure is a bug in this file, reported, never a wrong count. */
static int check_counts(const run_t *w, ss_error_t *err)
{
    const ss_time_result_t *r = w->r;
    int64_t placed = 0, gone = 0, waiting = 0;
    for (int32_t pod = 0; pod < w->c->n_pods; pod++) {
        if (r->pod_start[pod] >= 0)
            placed++;
        else if (w->st[pod] == POD_DONE)
            gone++;
        else if (w->st[pod] == POD_PENDING)
            waiting++;
        else
            return ss_error_set(err, SS_EINVAL,
                                "time replay: internal error: pod %d (%s) was never counted "
                                "(creation %lld s, window %lld s)",
                                pod, ss_cluster_strget(w->c, w->c->pod_name[pod]),
                                (long long)w->t->creation[pod], (long long)w->window);
    }
    if (placed != r->placed || gone != r->never_placed || waiting != r->pending_end ||
        r->placed + r->never_placed + r->pending_end != w->c->n_pods)
        return ss_error_set(err, SS_EINVAL,
                            "time replay: internal error: %lld placed + %lld never placed + %lld "
                            "pending at the end != %d pods in the trace (by pod state: %lld, "
                            "%lld, %lld; window %lld s)",
                            (long long)r->placed, (long long)r->never_placed,
                            (long long)r->pending_end, w->c->n_pods, (long long)placed,
                            (long long)gone, (long long)waiting, (long long)w->window);
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
    free(w->seq);
    free(w->pending);
    free(w->scratch);
    free(w->e_node);
    free(w->e_mask);
    free(w->g_begin);
    free(w->g_count);
    free(w->g_list);
    free(w->g_checked);
    free(w->g_seen);
    free(w->g_flags);
    free(w->rv.nodes);
    free(w->rv.saved);
    free(w->rv.is_resv);
    free(w->rv.plan_pod);
    free(w->rv.plan_node);
    free(w->tp);
    ss_fgd_sched_destroy(w->k);
    ss_fgd_sched_destroy(w->k0);
    ss_fgd_state_destroy(w->s);
    ss_fgd_state_destroy(w->s0);
    ss_time_result_destroy(w->r);
}

/* The per-pod and per-group outputs, -1 filled. Returns false when out of
 * memory. */
static bool alloc_outputs(ss_time_result_t *r, const ss_cluster_t *c)
{
    size_t np = (size_t)(c->n_pods > 0 ? c->n_pods : 1);
    size_t ng = (size_t)(c->n_groups > 0 ? c->n_groups : 1);
    r->n_pods = c->n_pods;
    r->n_groups = c->n_groups;
    r->pod_start = malloc(np * sizeof *r->pod_start);
    r->group_status = calloc(ng, sizeof *r->group_status);
    r->group_ready = malloc(ng * sizeof *r->group_ready);
    r->group_start = malloc(ng * sizeof *r->group_start);
    r->group_resv_start = malloc(ng * sizeof *r->group_resv_start);
    r->group_fit_empty = malloc(ng * sizeof *r->group_fit_empty);
    if (!r->pod_start || !r->group_status || !r->group_ready || !r->group_start ||
        !r->group_resv_start || !r->group_fit_empty)
        return false;
    for (size_t i = 0; i < np; i++)
        r->pod_start[i] = -1;
    for (size_t g = 0; g < ng; g++) {
        r->group_ready[g] = r->group_start[g] = r->group_resv_start[g] = -1;
        r->group_fit_empty[g] = -1;
    }
    return true;
}

/* Gang bookkeeping and the empty cluster; only when there are groups.
 * Returns 0, SS_ENOMEM or an ss_fgd_state_create error. */
static int alloc_gangs(run_t *w, const ss_policy_t *pol, const int32_t *rank,
                       const ss_fgd_pod_t *orig, uint64_t seed, ss_error_t *err)
{
    const ss_cluster_t *c = w->c;
    size_t ng = (size_t)c->n_groups, nn = (size_t)(c->n_nodes > 0 ? c->n_nodes : 1);
    size_t np = (size_t)(c->n_pods > 0 ? c->n_pods : 1);
    w->ng = c->n_groups;
    w->g_begin = malloc((ng + 1) * sizeof *w->g_begin);
    w->g_count = malloc(ng * sizeof *w->g_count);
    w->g_list = malloc(np * sizeof *w->g_list);
    w->g_checked = malloc(ng * sizeof *w->g_checked);
    w->g_seen = calloc(ng, sizeof *w->g_seen);
    w->g_flags = calloc(ng, 1);
    w->e_node = malloc(np * sizeof *w->e_node);
    w->e_mask = malloc(np * sizeof *w->e_mask);
    w->rv.nodes = malloc(nn * sizeof *w->rv.nodes);
    w->rv.saved = malloc(nn);
    w->rv.is_resv = calloc(nn, 1);
    w->rv.plan_pod = malloc(np * sizeof *w->rv.plan_pod);
    w->rv.plan_node = malloc(np * sizeof *w->rv.plan_node);
    if (!w->g_begin || !w->g_count || !w->g_list || !w->g_checked || !w->g_seen || !w->g_flags ||
        !w->e_node || !w->e_mask || !w->rv.nodes || !w->rv.saved || !w->rv.is_resv ||
        !w->rv.plan_pod || !w->rv.plan_node)
        return SS_ENOMEM;
    for (size_t g = 0; g < ng; g++)
        w->g_checked[g] = -1;
    int rc = ss_fgd_state_create(c, &w->s0, err);
    if (rc || (rc = ss_fgd_set_typical(w->s0, orig, c->n_pods, false, err)))
        return rc;
    ss_rng_t rr;
    ss_rng_seed(&rr, seed ^ 0x74696d65ull);
    return (w->k0 = ss_fgd_sched_create(w->s0, pol->replay_score, c->n_templates, rank, &rr))
               ? 0
               : SS_ENOMEM;
}

int ss_replay_time(const ss_cluster_t *c, const ss_trace_t *t, const ss_time_opts_t *o,
                   ss_time_result_t **out, ss_error_t *err)
{
    return ss_replay_time_gangs(c, t, o, NULL, out, err);
}

int ss_replay_time_gangs(const ss_cluster_t *c, const ss_trace_t *t, const ss_time_opts_t *o,
                         const ss_time_gang_opts_t *go, ss_time_result_t **out, ss_error_t *err)
{
    *out = NULL;
    int64_t reserve_wait = go ? go->reserve_wait : SS_TIME_GANG_RESERVE_WAIT_DEFAULT;
    const ss_policy_t *pol = ss_policy_find(o->policy);
    if (!pol)
        return ss_error_set(err, SS_EINVAL, "unknown policy '%s' (try --list-policies)",
                            o->policy ? o->policy : "");
    if (o->window < 1 || o->window > SS_TRACE_MAX_TIME)
        return ss_error_set(err, SS_EINVAL, "batch window must be between 1 and %lld s",
                            (long long)SS_TRACE_MAX_TIME);
    if (reserve_wait < 0)
        return ss_error_set(err, SS_EINVAL, "gang reservation wait must be >= 0 s (0 = off)");
    int rc = ss_trace_validate(t, c, err);
    if (rc)
        return rc;
    run_t w = {.c = c, .t = t, .window = o->window, .reserve_wait = reserve_wait};
    w.rv.g = -1;
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
    w.seq = calloc(np, sizeof *w.seq);
    w.pending = malloc(np * sizeof *w.pending);
    w.scratch = malloc(2 * np * sizeof *w.scratch); /* a gang's pods, then the released */
    w.r = calloc(1, sizeof *w.r);
    rc = SS_ENOMEM;
    if (!rank || !orig || !w.tp || !w.by_create || !w.by_delete || !w.node || !w.mask || !w.st ||
        !w.arrive_batch || !w.seq || !w.pending || !w.scratch || !w.r || !alloc_outputs(w.r, c))
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
    if (c->n_groups > 0 && (rc = alloc_gangs(&w, pol, rank, orig, o->seed, err)))
        goto out;
    rc = SS_ENOMEM;
    ss_rng_t rr;
    ss_rng_seed(&rr, o->seed ^ 0x74696d65ull);
    if (!(w.k = ss_fgd_sched_create(w.s, pol->replay_score, c->n_templates, rank, &rr)) ||
        replay(&w, o))
        goto out;
    if ((rc = check_counts(&w, err)))
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
