/* ss_sched: the fast engine (see ss_sched.h for the design). This file holds
 * the run loop: per-shard heaps, speculative greedy sequences, the best-first
 * merge of shard proposals, gang commit/rollback and unschedulable reasons. */
#include "ss_sched.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "ss_reason.h"
#include "ss_sched_class.h"


typedef struct {
    int64_t score;
    int32_t node;
    uint32_t ver;
} hent_t;

typedef struct {
    int32_t lo, hi;      /* node range */
    hent_t *heap;
    int32_t n_heap;
    ss_cand_t *log;      /* speculative placements, in order */
    int32_t n_log, consumed, log_cap;
    int exhausted;
} shard_t;

struct ss_sched {
    const ss_cluster_t *c;
    const ss_policy_t *policy;
    ss_state_t *st;
    ss_match_ctx_t mx;
    ss_classes_t cl;
    ss_verdict_t v;
    int32_t n_shards, shard_lo, shard_hi;
    int32_t bounds[SS_SCHED_MAX_SHARDS + 1];
    shard_t *sh;         /* [n_shards]; only owned ones are used */
    int32_t *node_shard; /* [n_nodes] */
    int32_t *row_of_pod; /* [n_pods] placements row, -1 if running */
};

/* ---------- virtual shards ---------- */

static bool topo_break(const ss_cluster_t *c, int32_t i)
{
    /* True when node i starts a new rack (or block, zone, region). */
    for (int l = 0; l < SS_TOPO_NODE; l++)
        if (c->node_topo[(size_t)i * SS_TOPO_NLEVELS + l] !=
            c->node_topo[(size_t)(i - 1) * SS_TOPO_NLEVELS + l])
            return true;
    return false;
}

int32_t ss_sched_shards(const ss_cluster_t *c, int32_t shard_nodes, int32_t *bounds)
{
    int32_t n = c->n_nodes;
    if (shard_nodes <= 0)
        shard_nodes = SS_SCHED_DEFAULT_SHARD_NODES;
    int32_t k = (int32_t)(((int64_t)n + shard_nodes - 1) / shard_nodes);
    if (k < 1)
        k = 1;
    if (k > SS_SCHED_MAX_SHARDS)
        k = SS_SCHED_MAX_SHARDS;
    bounds[0] = 0;
    int32_t m = 1;
    for (int32_t j = 1; j < k; j++) {
        int32_t b = (int32_t)((int64_t)n * j / k);
        /* Move the cut forward to the next rack boundary if one is close. */
        for (int32_t d = 0; d < shard_nodes / 4 && b + d < n; d++)
            if (b + d > 0 && topo_break(c, b + d)) {
                b += d;
                break;
            }
        if (b > bounds[m - 1] && b < n)
            bounds[m++] = b;
    }
    bounds[m] = n;
    return m;
}

/* ---------- create / destroy ---------- */

void ss_sched_destroy(ss_sched_t *s)
{
    if (!s)
        return;
    if (s->sh)
        for (int32_t i = 0; i < s->n_shards; i++) {
            free(s->sh[i].heap);
            free(s->sh[i].log);
        }
    free(s->sh);
    free(s->node_shard);
    free(s->row_of_pod);
    ss_verdict_free(&s->v);
    ss_classes_free(&s->cl);
    ss_state_destroy(s->st);
    free(s);
}

ss_sched_t *ss_sched_create(const ss_cluster_t *c, const ss_policy_t *policy,
                            int32_t shard_nodes, int32_t shard_lo, int32_t shard_hi,
                            ss_error_t *err)
{
    ss_sched_t *s = calloc(1, sizeof *s);
    if (!s) {
        ss_error_set(err, SS_ENOMEM, "out of memory creating the scheduler");
        return NULL;
    }
    s->c = c;
    s->policy = policy;
    s->n_shards = ss_sched_shards(c, shard_nodes, s->bounds);
    if (shard_lo < 0 || shard_hi > s->n_shards || shard_lo > shard_hi) {
        ss_error_set(err, SS_EINVAL, "shard range [%d, %d) outside the cluster's %d shards",
                     shard_lo, shard_hi, s->n_shards);
        goto fail;
    }
    s->shard_lo = shard_lo;
    s->shard_hi = shard_hi;
    ss_match_ctx_init(&s->mx, c);
    if (ss_classes_build(c, &s->cl, err) < 0)
        goto fail;
    s->st = ss_state_create(c);
    s->sh = calloc((size_t)s->n_shards, sizeof *s->sh);
    s->node_shard = malloc((c->n_nodes > 0 ? (size_t)c->n_nodes : 1) * sizeof(int32_t));
    s->row_of_pod = malloc((c->n_pods > 0 ? (size_t)c->n_pods : 1) * sizeof(int32_t));
    if (!s->st || !s->sh || !s->node_shard || !s->row_of_pod ||
        ss_verdict_alloc(&s->cl, &s->v) < 0) {
        ss_error_set(err, SS_ENOMEM, "out of memory creating the scheduler");
        goto fail;
    }
    for (int32_t k = 0; k < s->n_shards; k++) {
        shard_t *h = &s->sh[k];
        h->lo = s->bounds[k];
        h->hi = s->bounds[k + 1];
        for (int32_t i = h->lo; i < h->hi; i++)
            s->node_shard[i] = k;
        if (k >= shard_lo && k < shard_hi) {
            h->heap = malloc((size_t)(h->hi - h->lo + 1) * 2 * sizeof *h->heap);
            h->log = malloc(64 * sizeof *h->log);
            h->log_cap = 64;
            if (!h->heap || !h->log) {
                ss_error_set(err, SS_ENOMEM, "out of memory creating the scheduler");
                goto fail;
            }
        }
    }
    int32_t row = 0;
    for (int32_t p = 0; p < c->n_pods; p++)
        s->row_of_pod[p] = c->pod_node[p] < 0 ? row++ : -1;
    return s;
fail:
    ss_sched_destroy(s);
    return NULL;
}

/* ---------- heaps: max by score, then min by node ---------- */

static inline bool better(const hent_t *a, const hent_t *b)
{
    return a->score > b->score || (a->score == b->score && a->node < b->node);
}

static void sift_down(hent_t *h, int32_t n, int32_t i)
{
    for (;;) {
        int32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && better(&h[l], &h[m]))
            m = l;
        if (r < n && better(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        hent_t t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void heap_push(hent_t *h, int32_t *n, hent_t e)
{
    int32_t i = (*n)++;
    h[i] = e;
    while (i > 0) {
        int32_t p = (i - 1) / 2;
        if (!better(&h[i], &h[p]))
            break;
        hent_t t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

static hent_t heap_pop(hent_t *h, int32_t *n)
{
    hent_t top = h[0];
    h[0] = h[--(*n)];
    sift_down(h, *n, 0);
    return top;
}

/* Static reason of template t on node (from the class verdict, or computed
 * for node-specific templates); *bonus receives the static score. */
static int node_static(const ss_sched_t *s, int32_t t, int32_t node, int64_t *bonus)
{
    if (s->v.node_specific)
        return ss_static_eval(&s->mx, s->c, s->cl.max_untolerated_prefer, t, node, bonus);
    int32_t k = s->cl.node_class[node];
    *bonus = s->v.bonus[k];
    return s->v.reason[k];
}

/* Score of a node that passed the static filters, or -1 if it does not fit. */
static int64_t node_score(const ss_sched_t *s, const ss_template_t *tp, int32_t node, int64_t bonus)
{
    if (ss_state_fit(s->st, tp, node) != SS_REASON_NONE)
        return -1;
    return SS_WEIGHT_FIT * s->policy->fit_score(s->st, tp, node) + bonus;
}

static void shard_build(ss_sched_t *s, shard_t *h, int32_t t)
{
    const ss_template_t *tp = &s->c->templates[t];
    h->n_heap = 0;
    h->n_log = h->consumed = 0;
    h->exhausted = 0;
    for (int32_t i = h->lo; i < h->hi; i++) {
        int64_t bonus;
        if (node_static(s, t, i, &bonus) != SS_REASON_NONE)
            continue;
        int64_t sc = node_score(s, tp, i, bonus);
        if (sc >= 0)
            h->heap[h->n_heap++] = (hent_t){sc, i, s->st->version[i]};
    }
    for (int32_t i = h->n_heap / 2 - 1; i >= 0; i--)
        sift_down(h->heap, h->n_heap, i);
}

static int log_reserve(shard_t *h, int32_t need)
{
    if (need <= h->log_cap)
        return 0;
    int32_t cap = h->log_cap * 2;
    while (cap < need)
        cap *= 2;
    ss_cand_t *l = realloc(h->log, (size_t)cap * sizeof *l);
    if (!l)
        return -1;
    h->log = l;
    h->log_cap = cap;
    return 0;
}

/* Extends the shard's speculative sequence until it holds `ahead` entries
 * not yet consumed, or no node is left. Each entry is applied to the state
 * as if the shard wins it. */
static int shard_extend(ss_sched_t *s, shard_t *h, int32_t t, int32_t ahead)
{
    const ss_template_t *tp = &s->c->templates[t];
    while (!h->exhausted && h->n_log - h->consumed < ahead) {
        if (h->n_heap == 0) {
            h->exhausted = 1;
            break;
        }
        hent_t e = heap_pop(h->heap, &h->n_heap);
        if (e.ver != s->st->version[e.node])
            continue; /* stale: a fresher entry for this node is in the heap */
        uint64_t mask = ss_state_pick_gpus(s->st, tp, e.node);
        if (log_reserve(h, h->n_log + 1) < 0)
            return SS_ENOMEM;
        h->log[h->n_log++] = (ss_cand_t){e.score, e.node, (int32_t)(h - s->sh), mask};
        ss_state_apply(s->st, tp, e.node, mask, +1);
        int64_t bonus;
        node_static(s, t, e.node, &bonus);
        int64_t sc = node_score(s, tp, e.node, bonus);
        if (sc >= 0)
            heap_push(h->heap, &h->n_heap, (hent_t){sc, e.node, s->st->version[e.node]});
    }
    return 0;
}

/* Undoes the speculative entries that were not consumed, newest first. */
static void shard_rewind(ss_sched_t *s, shard_t *h, int32_t t)
{
    const ss_template_t *tp = &s->c->templates[t];
    for (int32_t i = h->n_log - 1; i >= h->consumed; i--)
        ss_state_apply(s->st, tp, h->log[i].node, h->log[i].gpu_mask, -1);
    h->n_log = h->consumed;
}

/* ---------- one run: `want` replicas of template t ---------- */

typedef struct {
    ss_cand_t *all;      /* gathered proposals, grouped by shard in shard order */
    int32_t n_all;
    int32_t *first, *cnt; /* per shard: range in all */
    int8_t *done;        /* per shard: exhausted after its listed entries */
} proposals_t;

/* Collects this process's unconsumed entries of every owned shard, followed
 * by an end marker for exhausted shards, and gathers them over processes. */
static int exchange(ss_sched_t *s, const ss_sched_comm_t *comm, ss_cand_t **mine, int32_t *cap,
                    proposals_t *pr, ss_error_t *err)
{
    int32_t n = 0;
    for (int32_t k = s->shard_lo; k < s->shard_hi; k++) {
        shard_t *h = &s->sh[k];
        int32_t need = n + (h->n_log - h->consumed) + 1;
        if (need > *cap) {
            int32_t nc = *cap * 2 > need ? *cap * 2 : need;
            ss_cand_t *m = realloc(*mine, (size_t)nc * sizeof *m);
            if (!m)
                return ss_error_set(err, SS_ENOMEM, "out of memory exchanging proposals");
            *mine = m;
            *cap = nc;
        }
        for (int32_t i = h->consumed; i < h->n_log; i++)
            (*mine)[n++] = h->log[i];
        if (h->exhausted)
            (*mine)[n++] = (ss_cand_t){0, -1, k, 0};
    }
    if (comm) {
        free(pr->all);
        pr->all = NULL;
        int rc = comm->gather(comm->ctx, *mine, n, &pr->all, &pr->n_all, err);
        if (rc < 0)
            return rc;
    } else {
        pr->all = *mine;
        pr->n_all = n;
    }
    for (int32_t k = 0; k < s->n_shards; k++) {
        pr->cnt[k] = 0;
        pr->done[k] = 0;
        pr->first[k] = -1;
    }
    /* Entries arrive grouped by shard (each shard has one owner). */
    for (int32_t i = 0; i < pr->n_all; i++) {
        int32_t k = pr->all[i].shard;
        if (k < 0 || k >= s->n_shards)
            return ss_error_set(err, SS_EINVAL, "proposal names shard %d of %d", k, s->n_shards);
        if (pr->all[i].node < 0) {
            pr->done[k] = 1;
            continue;
        }
        if (pr->first[k] < 0)
            pr->first[k] = i;
        pr->cnt[k]++;
    }
    return 0;
}

/* Best-first merge of the shard sequences. Takes up to `want` winners into
 * win[]; stops early when a shard that may still have a better node has no
 * listed entry left (*more = 1: another round is needed) or when every shard
 * is exhausted (*more = 0). taken[k] counts winners from shard k. */
static int32_t merge(const ss_sched_t *s, const proposals_t *pr, int32_t want, ss_cand_t *win,
                     int32_t *taken, int *more)
{
    int32_t got = 0;
    *more = 0;
    for (int32_t k = 0; k < s->n_shards; k++)
        taken[k] = 0;
    while (got < want) {
        int32_t best = -1;
        for (int32_t k = 0; k < s->n_shards; k++) {
            if (taken[k] == pr->cnt[k]) {
                if (!pr->done[k]) {
                    *more = 1; /* this shard's next entry is unknown */
                    return got;
                }
                continue;
            }
            const ss_cand_t *e = &pr->all[pr->first[k] + taken[k]];
            const ss_cand_t *b = best < 0 ? NULL : &pr->all[pr->first[best] + taken[best]];
            if (!b || e->score > b->score || (e->score == b->score && e->node < b->node))
                best = k;
        }
        if (best < 0)
            return got; /* every shard exhausted */
        win[got++] = pr->all[pr->first[best] + taken[best]];
        taken[best]++;
    }
    return got;
}

typedef struct {
    proposals_t pr;
    ss_cand_t *mine, *win;
    int32_t mine_cap, win_cap;
    int32_t *taken;
} runbuf_t;

static int run_rounds(ss_sched_t *s, const ss_sched_comm_t *comm, int32_t t, const int32_t *pods,
                      int32_t want, runbuf_t *b, ss_placements_t *out, int32_t *placed,
                      ss_error_t *err)
{
    int rc = 0;
    *placed = 0;
    while (*placed < want) {
        int32_t remaining = want - *placed;
        int32_t ahead = 2 * remaining / s->n_shards + 1;
        if (ahead > remaining)
            ahead = remaining;
#pragma omp parallel for schedule(dynamic, 1) reduction(min : rc)
        for (int32_t k = s->shard_lo; k < s->shard_hi; k++) {
            int r = shard_extend(s, &s->sh[k], t, ahead);
            rc = r < rc ? r : rc;
        }
        if (rc < 0)
            return ss_error_set(err, rc, "out of memory extending shard sequences");
        if ((rc = exchange(s, comm, &b->mine, &b->mine_cap, &b->pr, err)) < 0)
            return rc;
        if (remaining > b->win_cap) {
            ss_cand_t *w = realloc(b->win, (size_t)remaining * sizeof *w);
            if (!w)
                return ss_error_set(err, SS_ENOMEM, "out of memory merging proposals");
            b->win = w;
            b->win_cap = remaining;
        }
        int more;
        int32_t got = merge(s, &b->pr, remaining, b->win, b->taken, &more);
        for (int32_t k = s->shard_lo; k < s->shard_hi; k++)
            s->sh[k].consumed += b->taken[k];
        for (int32_t i = 0; i < got; i++) {
            int32_t row = s->row_of_pod[pods[*placed + i]];
            out->node[row] = b->win[i].node;
            out->gpu_mask[row] = b->win[i].gpu_mask;
            out->reason[row] = SS_REASON_NONE;
        }
        *placed += got;
        if (!more)
            break;
    }
    return 0;
}

/* The reason most nodes give for refusing template t (first failing filter
 * per node, counted over all processes); ties go to the earlier filter. */
static int run_reason(ss_sched_t *s, const ss_sched_comm_t *comm, int32_t t, int *reason,
                      ss_error_t *err)
{
    int64_t counts[SS_REASON_COUNT] = {0};
    const ss_template_t *tp = &s->c->templates[t];
    for (int32_t k = s->shard_lo; k < s->shard_hi; k++)
        for (int32_t i = s->sh[k].lo; i < s->sh[k].hi; i++) {
            int64_t bonus;
            int r = node_static(s, t, i, &bonus);
            if (r == SS_REASON_NONE)
                r = ss_state_fit(s->st, tp, i);
            counts[r]++;
        }
    if (comm) {
        int rc = comm->sum(comm->ctx, counts, SS_REASON_COUNT, err);
        if (rc < 0)
            return rc;
    }
    *reason = SS_REASON_NO_NODES;
    int64_t best = 0;
    for (int r = 1; r < SS_REASON_COUNT; r++)
        if (counts[r] > best) {
            best = counts[r];
            *reason = r;
        }
    return 0;
}

/* Places pods[0..n) (all of template t) and sets reasons for those left. */
static int place_run(ss_sched_t *s, const ss_sched_comm_t *comm, int32_t t, const int32_t *pods,
                     int32_t n, runbuf_t *b, ss_placements_t *out, int32_t *placed,
                     ss_error_t *err)
{
    int rc = ss_sched_unsupported_reason(s->c->templates[t].unsupported);
    if (rc != SS_REASON_NONE) {
        for (int32_t i = 0; i < n; i++)
            out->reason[s->row_of_pod[pods[i]]] = rc;
        *placed = 0;
        return 0;
    }
    ss_verdict_compute(&s->mx, s->c, &s->cl, t, &s->v);
#pragma omp parallel for schedule(dynamic, 1)
    for (int32_t k = s->shard_lo; k < s->shard_hi; k++)
        shard_build(s, &s->sh[k], t);
    rc = run_rounds(s, comm, t, pods, n, b, out, placed, err);
#pragma omp parallel for schedule(dynamic, 1)
    for (int32_t k = s->shard_lo; k < s->shard_hi; k++)
        shard_rewind(s, &s->sh[k], t);
    if (rc < 0)
        return rc;
    if (*placed < n) {
        int reason;
        if ((rc = run_reason(s, comm, t, &reason, err)) < 0)
            return rc;
        for (int32_t i = *placed; i < n; i++)
            out->reason[s->row_of_pod[pods[i]]] = reason;
    }
    return 0;
}

/* Removes the placements of a failed gang from the nodes this process owns. */
static void gang_rollback(ss_sched_t *s, const int32_t *pods, int32_t n, ss_placements_t *out)
{
    for (int32_t i = 0; i < n; i++) {
        int32_t row = s->row_of_pod[pods[i]];
        int32_t node = out->node[row];
        if (node < 0)
            continue;
        int32_t k = s->node_shard[node];
        if (k >= s->shard_lo && k < s->shard_hi)
            ss_state_apply(s->st, &s->c->templates[s->c->pod_template[pods[i]]], node,
                           out->gpu_mask[row], -1);
        out->node[row] = -1;
        out->gpu_mask[row] = 0;
        out->reason[row] = SS_REASON_GANG;
    }
}

static int place_unit(ss_sched_t *s, const ss_sched_comm_t *comm, const int32_t *pods, int32_t n,
                      int32_t group, runbuf_t *b, ss_placements_t *out, ss_error_t *err)
{
    const ss_cluster_t *c = s->c;
    if (group >= 0) {
        /* A gang with a member the engine cannot honour is not placed. */
        for (int32_t i = 0; i < n; i++) {
            int r = ss_sched_unsupported_reason(c->templates[c->pod_template[pods[i]]].unsupported);
            if (r != SS_REASON_NONE) {
                for (int32_t j = 0; j < n; j++)
                    out->reason[s->row_of_pod[pods[j]]] = r;
                return 0;
            }
        }
    }
    int32_t total = 0;
    for (int32_t i = 0; i < n;) {
        int32_t t = c->pod_template[pods[i]], j = i + 1;
        while (j < n && c->pod_template[pods[j]] == t)
            j++;
        int32_t placed;
        int rc = place_run(s, comm, t, pods + i, j - i, b, out, &placed, err);
        if (rc < 0)
            return rc;
        total += placed;
        i = j;
    }
    if (group >= 0 && total < c->group_min_member[group])
        gang_rollback(s, pods, n, out);
    return 0;
}

int ss_sched_run(ss_sched_t *s, const int32_t *order, const ss_unit_t *units, int32_t n_units,
                 const ss_sched_comm_t *comm, ss_placements_t *out, ss_error_t *err)
{
    const ss_cluster_t *c = s->c;
    int32_t pending = 0;
    for (int32_t p = 0; p < c->n_pods; p++)
        if (c->pod_node[p] < 0) {
            if (pending < out->n)
                out->pod[pending] = p;
            pending++;
        }
    if (pending != out->n)
        return ss_error_set(err, SS_EINVAL, "placements have %d rows for %d pending pods", out->n,
                            pending);
    for (int32_t r = 0; r < out->n; r++) {
        out->node[r] = -1;
        out->gpu_mask[r] = 0;
        out->reason[r] = SS_REASON_NO_NODES;
    }
    runbuf_t b = {0};
    int32_t ns = s->n_shards;
    b.pr.first = malloc((size_t)ns * sizeof(int32_t));
    b.pr.cnt = malloc((size_t)ns * sizeof(int32_t));
    b.pr.done = malloc((size_t)ns);
    b.taken = malloc((size_t)ns * sizeof(int32_t));
    int rc = 0;
    if (!b.pr.first || !b.pr.cnt || !b.pr.done || !b.taken)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory starting the run");
    for (int32_t u = 0; u < n_units && rc == 0; u++)
        rc = place_unit(s, comm, order + units[u].begin, units[u].count, units[u].group, &b, out,
                        err);
    if (comm)
        free(b.pr.all);
    free(b.mine);
    free(b.win);
    free(b.pr.first);
    free(b.pr.cnt);
    free(b.pr.done);
    free(b.taken);
    return rc;
}

int ss_sched_unsupported_reason(uint32_t rules)
{
    if (rules & SS_RULE_TOPOLOGY_SPREAD)
        return SS_REASON_UNSUPPORTED_SPREAD;
    if (rules & SS_RULE_POD_AFFINITY)
        return SS_REASON_UNSUPPORTED_POD_AFFINITY;
    if (rules & SS_RULE_POD_ANTI_AFFINITY)
        return SS_REASON_UNSUPPORTED_POD_ANTI_AFFINITY;
    if (rules)
        return SS_REASON_UNSUPPORTED_OTHER;
    return SS_REASON_NONE;
}
