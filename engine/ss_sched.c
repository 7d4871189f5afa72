/* ss_sched: the fast engine (see ss_sched.h for the design). This file holds
 * the run loop: per-shard heaps, speculative greedy sequences, the best-first
 * merge of shard proposals, gang commit/rollback and unschedulable reasons. */
#include "ss_sched.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "ss_reason.h"
#include "ss_sched_int.h"

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
        for (int32_t i = 0; i < s->n_shards; i++)
            ss_shard_free(&s->sh[i]);
    free(s->sh);
    free(s->stamp);
    ss_sigtab_destroy(s->sigs);
    ss_vcache_destroy(s->vcache);
    for (int l = 0; l < SS_TOPO_NLEVELS; l++)
        free(s->dom_begin[l]);
    free(s->node_shard);
    free(s->row_of_pod);
    ss_verdict_free(&s->v);
    ss_classes_free(&s->cl);
    ss_state_destroy(s->st);
    ss_policy_ctx_destroy(s->pctx);
    free(s);
}

ss_sched_t *ss_sched_create(const ss_cluster_t *c, const ss_policy_t *policy, int32_t shard_nodes,
                            int32_t shard_lo, int32_t shard_hi, ss_error_t *err)
{
    ss_sched_t *s = calloc(1, sizeof *s);
    if (!s) {
        ss_error_set(err, SS_ENOMEM, "out of memory creating the scheduler");
        return NULL;
    }
    s->c = c;
    s->policy = policy;
    s->fault_after = -1;
    s->range_hi = c->n_nodes;
    s->n_shards = ss_sched_shards(c, shard_nodes, s->bounds);
    if (shard_lo < 0 || shard_hi > s->n_shards || shard_lo > shard_hi) {
        ss_error_set(err, SS_EINVAL, "shard range [%d, %d) outside the cluster's %d shards",
                     shard_lo, shard_hi, s->n_shards);
        goto fail;
    }
    s->shard_lo = shard_lo;
    s->shard_hi = shard_hi;
    ss_match_ctx_init(&s->mx, c);
    if (ss_classes_build(c, &s->cl, err) < 0 || ss_sched_domains_build(s, err) < 0 ||
        ss_policy_ctx_create(policy, c, &s->pctx, err) < 0)
        goto fail;
    s->st = ss_state_create(c);
    s->sh = calloc((size_t)s->n_shards, sizeof *s->sh);
    s->node_shard = malloc((c->n_nodes > 0 ? (size_t)c->n_nodes : 1) * sizeof(int32_t));
    s->row_of_pod = malloc((c->n_pods > 0 ? (size_t)c->n_pods : 1) * sizeof(int32_t));
    s->stamp = calloc(c->n_nodes > 0 ? (size_t)c->n_nodes : 1, sizeof *s->stamp);
    s->sigs = ss_sigtab_create(s->cl.n_classes);
    s->vcache = ss_vcache_create();
    if (!s->st || !s->sh || !s->node_shard || !s->row_of_pod || !s->stamp || !s->sigs ||
        !s->vcache || ss_verdict_alloc(&s->cl, &s->v) < 0) {
        ss_error_set(err, SS_ENOMEM, "out of memory creating the scheduler");
        goto fail;
    }
    for (int32_t k = 0; k < s->n_shards; k++) {
        for (int32_t i = s->bounds[k]; i < s->bounds[k + 1]; i++)
            s->node_shard[i] = k;
        if (k >= shard_lo && k < shard_hi &&
            ss_shard_init(&s->sh[k], s->bounds[k], s->bounds[k + 1], s->cl.node_class) < 0) {
            ss_error_set(err, SS_ENOMEM, "out of memory creating the scheduler");
            goto fail;
        }
        s->sh[k].lo = s->bounds[k];
        s->sh[k].hi = s->bounds[k + 1];
    }
    int32_t row = 0;
    for (int32_t p = 0; p < c->n_pods; p++)
        s->row_of_pod[p] = c->pod_node[p] < 0 ? row++ : -1;
    return s;
fail:
    ss_sched_destroy(s);
    return NULL;
}

/* ---------- one run: `want` replicas of template t ---------- */

/* Collects this process's unconsumed entries of every owned shard, followed
 * by an end marker for exhausted shards, and gathers them over processes. */
static int exchange(ss_sched_t *s, const ss_sched_comm_t *comm, ss_cand_t **mine, int32_t *cap,
                    proposals_t *pr, ss_error_t *err)
{
    int32_t n = 0;
    for (int32_t k = s->shard_lo; k < s->shard_hi && s->local_rc == 0; k++) {
        shard_t *h = &s->sh[k];
        int32_t need = n + (h->n_log - h->consumed) + 2;
        if (need > *cap) {
            int32_t nc = *cap * 2 > need ? *cap * 2 : need;
            ss_cand_t *m = realloc(*mine, (size_t)nc * sizeof *m);
            if (!m) {
                s->local_rc =
                    ss_error_set(&s->local_err, SS_ENOMEM, "out of memory exchanging proposals");
                break;
            }
            *mine = m;
            *cap = nc;
        }
        for (int32_t i = h->consumed; i < h->n_log; i++)
            (*mine)[n++] = h->log[i];
        if (h->exhausted)
            (*mine)[n++] = (ss_cand_t){0, -1, k, 0};
        else if (h->bound != INT32_MAX)
            (*mine)[n++] = (ss_cand_t){h->bound, -3, k, (uint64_t)h->bound_node}; /* what next */
    }
    if (s->local_rc < 0) /* tell everyone: a single error marker (*mine holds >= 1) */
        (*mine)[0] = (ss_cand_t){s->local_rc, -2, -1, 0}, n = 1;
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
        pr->bound[k] = INT32_MAX;
        pr->bound_node[k] = s->bounds[k];
    }
    if (s->local_rc < 0) {
        *err = s->local_err;
        return s->local_rc;
    }
    for (int32_t i = 0; i < pr->n_all; i++)
        if (pr->all[i].node == -2)
            return ss_error_set(err, SS_EPEER, "another rank failed during the run");
    /* Entries arrive grouped by shard (each shard has one owner). */
    for (int32_t i = 0; i < pr->n_all; i++) {
        int32_t k = pr->all[i].shard;
        if (k < 0 || k >= s->n_shards)
            return ss_error_set(err, SS_EINVAL, "proposal names shard %d of %d", k, s->n_shards);
        if (pr->all[i].node == -3) {
            pr->bound[k] = (int32_t)pr->all[i].score;
            pr->bound_node[k] = (int32_t)pr->all[i].gpu_mask;
            continue;
        }
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

/* Shard k's head in the merge: its next listed entry, or, once those are
 * used up, a virtual entry (bound, bound_node) that no later proposal of the
 * shard can beat: its exact next proposal when known, else the best score it
 * might reach with its first node. */
static inline void head_of(const proposals_t *pr, const int32_t *taken, int32_t k, int64_t *score,
                           int32_t *node)
{
    if (taken[k] < pr->cnt[k]) {
        const ss_cand_t *x = &pr->all[pr->first[k] + taken[k]];
        *score = x->score;
        *node = x->node;
    } else {
        *score = pr->bound[k];
        *node = pr->bound_node[k];
    }
}

static inline bool head_better(const proposals_t *pr, const int32_t *taken, int32_t a, int32_t b)
{
    int64_t sa, sb;
    int32_t na, nb;
    head_of(pr, taken, a, &sa, &na);
    head_of(pr, taken, b, &sb, &nb);
    return sa > sb || (sa == sb && na < nb);
}

static void heads_down(const proposals_t *pr, const int32_t *taken, int32_t *h, int32_t n,
                       int32_t i)
{
    for (;;) {
        int32_t l = 2 * i + 1, m = i;
        if (l < n && head_better(pr, taken, h[l], h[m]))
            m = l;
        if (l + 1 < n && head_better(pr, taken, h[l + 1], h[m]))
            m = l + 1;
        if (m == i)
            return;
        int32_t t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* Best-first merge of the shard sequences. Takes up to `want` winners into
 * win[]; stops early (*more = 1: another round is needed) when the best head
 * belongs to a shard whose listed entries are used up but that may still
 * have nodes: its bound says whether anything it holds could beat the other
 * heads. Stops with *more = 0 when every shard is exhausted. taken[k] counts
 * winners from shard k; heads is scratch of n_shards entries. */
static int32_t merge(const ss_sched_t *s, const proposals_t *pr, int32_t want, ss_cand_t *win,
                     int32_t *taken, int32_t *heads, int *more)
{
    int32_t got = 0, n = 0;
    *more = 0;
    for (int32_t k = 0; k < s->n_shards; k++) {
        taken[k] = 0;
        if (pr->cnt[k] > 0 || !pr->done[k])
            heads[n++] = k;
    }
    for (int32_t i = n / 2 - 1; i >= 0; i--)
        heads_down(pr, taken, heads, n, i);
    while (got < want && n > 0) {
        int32_t k = heads[0];
        if (taken[k] == pr->cnt[k]) { /* a virtual head is the best: unknown territory */
            *more = 1;
            return got;
        }
        win[got++] = pr->all[pr->first[k] + taken[k]];
        taken[k]++;
        if (taken[k] == pr->cnt[k] && pr->done[k])
            heads[0] = heads[--n];
        heads_down(pr, taken, heads, n, 0);
    }
    return got;
}

static int run_rounds(ss_sched_t *s, const ss_sched_comm_t *comm, int32_t t, const int32_t *pods,
                      int32_t want, runbuf_t *b, ss_placements_t *out, int32_t *placed,
                      ss_error_t *err)
{
    int rc = 0;
    *placed = 0;
    /* The lookahead changes how many rounds a run takes, never its result:
     * a shard whose proposals were all taken proposes twice as many next
     * round, so a shard that keeps winning needs few rounds. */
    for (int32_t k = s->shard_lo; k < s->shard_hi; k++)
        s->sh[k].ahead = 2 * want / s->n_shards + 1;
    /* The merge buffer for the whole run, before the first exchange: a rank
     * that cannot have it says so there instead of leaving the rounds. */
    if (want > b->win_cap && s->local_rc == 0) {
        ss_cand_t *w = realloc(b->win, (size_t)want * sizeof *w);
        if (w) {
            b->win = w;
            b->win_cap = want;
        } else {
            s->local_rc = ss_error_set(&s->local_err, SS_ENOMEM, "out of memory merging proposals");
        }
    }
    for (int round = 0; *placed < want; round++) {
        int32_t remaining = want - *placed;
        if (s->local_rc == 0) {
            /* The first round's extensions pop fresh heaps (the heavy part);
             * later rounds touch few shards, cheaper than a parallel region. */
#pragma omp parallel for schedule(static) reduction(min : rc) if (round == 0)
            for (int32_t k = s->shard_lo; k < s->shard_hi; k++) {
                shard_t *h = &s->sh[k];
                int r = ss_shard_extend(s, h, t, h->ahead < remaining ? h->ahead : remaining);
                rc = r < rc ? r : rc;
            }
            if (rc < 0)
                s->local_rc =
                    ss_error_set(&s->local_err, rc, "out of memory extending shard sequences");
        }
        if ((rc = exchange(s, comm, &b->mine, &b->mine_cap, &b->pr, err)) < 0)
            return rc;
        int more;
        int32_t got = merge(s, &b->pr, remaining, b->win, b->taken, b->heads, &more);
        for (int32_t k = s->shard_lo; k < s->shard_hi; k++) {
            shard_t *h = &s->sh[k];
            h->consumed += b->taken[k];
            if (h->consumed == h->n_log && !h->exhausted && b->taken[k] > 0 &&
                h->ahead < (INT32_MAX / 2))
                h->ahead *= 2;
        }
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
#pragma omp parallel for schedule(static) reduction(+ : counts[:SS_REASON_COUNT])
    for (int32_t k = s->shard_lo; k < s->shard_hi; k++) {
        int32_t lo = s->sh[k].lo > s->range_lo ? s->sh[k].lo : s->range_lo;
        int32_t hi = s->sh[k].hi < s->range_hi ? s->sh[k].hi : s->range_hi;
        for (int32_t i = lo; i < hi; i++) {
            int64_t bonus;
            int r = ss_sched_node_static(s, t, i, &bonus);
            if (r == SS_REASON_NONE)
                r = ss_state_fit(s->st, tp, i);
            counts[r]++;
        }
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
                     int32_t n, runbuf_t *b, ss_placements_t *out, int32_t *placed, ss_error_t *err)
{
    int rc = ss_sched_unsupported_reason(s->c->templates[t].unsupported);
    if (rc != SS_REASON_NONE) {
        for (int32_t i = 0; i < n; i++)
            out->reason[s->row_of_pod[pods[i]]] = rc;
        *placed = 0;
        return 0;
    }
    int32_t sig = ss_vcache_get(s->vcache, &s->mx, s->c, &s->cl, t, &s->v) < 0
                      ? -1
                      : ss_sigtab_id(s->sigs, s->c, t, &s->v);
    if (sig < 0 && s->local_rc == 0)
        s->local_rc = ss_error_set(&s->local_err, SS_ENOMEM, "out of memory caching verdicts");
    rc = 0;
    if (s->fault_after >= 0 && s->runs == s->fault_after && s->local_rc == 0)
        s->local_rc = ss_error_set(&s->local_err, SS_ENOMEM, "injected fault in run %lld",
                                   (long long)s->runs);
    s->runs++;
    if (s->local_rc == 0) {
#pragma omp parallel for schedule(static) reduction(min : rc)
        for (int32_t k = s->shard_lo; k < s->shard_hi; k++) {
            int r = ss_shard_begin(s, &s->sh[k], t, sig);
            rc = r < rc ? r : rc;
        }
        if (rc < 0)
            s->local_rc = ss_error_set(&s->local_err, rc, "out of memory building shard heaps");
    }
    rc = run_rounds(s, comm, t, pods, n, b, out, placed, err);
    int failed = 0;
    for (int32_t k = s->shard_lo; k < s->shard_hi; k++) { /* cheap: few entries each */
        ss_shard_rewind(s, &s->sh[k], t);
        failed |= s->sh[k].failed;
    }
    if (rc < 0)
        return rc;
    if (failed && s->local_rc == 0)
        s->local_rc = ss_error_set(&s->local_err, SS_ENOMEM, "out of memory rewinding shards");
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
void ss_sched_gang_rollback(ss_sched_t *s, const int32_t *pods, int32_t n, ss_placements_t *out)
{
    for (int32_t i = 0; i < n; i++) {
        int32_t row = s->row_of_pod[pods[i]];
        int32_t node = out->node[row];
        if (node < 0)
            continue;
        int32_t k = s->node_shard[node];
        if (k >= s->shard_lo && k < s->shard_hi &&
            ss_shard_apply(s, &s->sh[k], &s->c->templates[s->c->pod_template[pods[i]]], node,
                           out->gpu_mask[row], -1) < 0)
            s->sh[k].failed = 1; /* reported by the caller */
        out->node[row] = -1;
        out->gpu_mask[row] = 0;
        out->reason[row] = SS_REASON_GANG;
    }
}

int ss_sched_place_runs(ss_sched_t *s, const ss_sched_comm_t *comm, const int32_t *pods, int32_t n,
                        runbuf_t *b, ss_placements_t *out, int32_t *total, ss_error_t *err)
{
    const ss_cluster_t *c = s->c;
    *total = 0;
    for (int32_t i = 0; i < n;) {
        int32_t t = c->pod_template[pods[i]], j = i + 1;
        while (j < n && c->pod_template[pods[j]] == t)
            j++;
        int32_t placed = 0;
        int rc = place_run(s, comm, t, pods + i, j - i, b, out, &placed, err);
        if (rc < 0)
            return rc;
        *total += placed;
        i = j;
    }
    return 0;
}

void ss_sched_note_rollback_failure(ss_sched_t *s)
{
    for (int32_t k = s->shard_lo; k < s->shard_hi; k++)
        if (s->sh[k].failed && s->local_rc == 0)
            s->local_rc =
                ss_error_set(&s->local_err, SS_ENOMEM, "out of memory rolling back a pod group");
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
        if (c->group_topo_mode[group] != SS_TOPO_MODE_NONE)
            return ss_sched_place_gang_topo(s, comm, pods, n, group, b, out, err);
    }
    int32_t total;
    int rc = ss_sched_place_runs(s, comm, pods, n, b, out, &total, err);
    if (rc < 0)
        return rc;
    if (group >= 0 && total < c->group_min_member[group]) {
        ss_sched_gang_rollback(s, pods, n, out);
        ss_sched_note_rollback_failure(s);
    }
    return 0;
}

int ss_sched_agree(const ss_sched_comm_t *comm, int rc, const char *what, ss_error_t *err)
{
    if (!comm)
        return rc;
    int64_t failed = rc < 0;
    ss_error_t e;
    int mrc = comm->sum(comm->ctx, &failed, 1, &e);
    if (rc < 0)
        return rc;
    if (mrc < 0) {
        *err = e;
        return mrc;
    }
    return failed > 0 ? ss_error_set(err, SS_EPEER, "%s: another rank failed", what) : 0;
}

void ss_sched_set_progress(ss_sched_t *s, const ss_progress_t *p)
{
    s->progress = p;
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
    b.pr.bound = malloc((size_t)ns * sizeof(int32_t));
    b.pr.bound_node = malloc((size_t)ns * sizeof(int32_t));
    b.taken = malloc((size_t)ns * sizeof(int32_t));
    b.heads = malloc((size_t)ns * sizeof(int32_t));
    int rc = 0;
    if (!b.pr.first || !b.pr.cnt || !b.pr.done || !b.pr.bound || !b.pr.bound_node || !b.taken ||
        !b.heads)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory starting the run");
    b.mine = malloc(64 * sizeof *b.mine);
    b.mine_cap = 64;
    if (!b.mine)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory starting the run");
    rc = ss_sched_agree(comm, rc, "starting the run", err); /* before the first exchange */
    for (int32_t u = 0; u < n_units && rc == 0; u++) {
        rc = place_unit(s, comm, order + units[u].begin, units[u].count, units[u].group, &b, out,
                        err);
        ss_progress_tick(s->progress, u + 1, n_units);
    }
    if (rc == 0 && s->local_rc < 0) { /* seen after the last exchange */
        *err = s->local_err;
        rc = s->local_rc;
    }
    if (comm)
        free(b.pr.all);
    free(b.mine);
    free(b.win);
    free(b.pr.first);
    free(b.pr.cnt);
    free(b.pr.done);
    free(b.pr.bound);
    free(b.pr.bound_node);
    free(b.taken);
    free(b.heads);
    return rc;
}

void ss_sched_inject_fault(ss_sched_t *s, int64_t after)
{
    s->fault_after = after;
}

int ss_sched_unsupported_reason(uint32_t rules)
{
    if (rules & SS_RULE_TOPOLOGY_SPREAD)
        return SS_REASON_UNSUPPORTED_SPREAD;
    if (rules & SS_RULE_POD_AFFINITY)
        return SS_REASON_UNSUPPORTED_POD_AFFINITY;
    if (rules & SS_RULE_POD_ANTI_AFFINITY)
        return SS_REASON_UNSUPPORTED_POD_ANTI_AFFINITY;
    if (rules & SS_RULE_WORKLOAD_REF)
        return SS_REASON_UNSUPPORTED_WORKLOAD_REF;
    if (rules & SS_RULE_SCHEDULING_GROUP)
        return SS_REASON_UNSUPPORTED_SCHEDULING_GROUP;
    if (rules & SS_RULE_POD_GROUP)
        return SS_REASON_UNSUPPORTED_POD_GROUP;
    if (rules & SS_RULE_TOPOLOGY)
        return SS_REASON_UNSUPPORTED_TOPOLOGY;
    if (rules & SS_RULE_SCHEDULING_GATES)
        return SS_REASON_UNSUPPORTED_SCHEDULING_GATES;
    if (rules)
        return SS_REASON_UNSUPPORTED_OTHER;
    return SS_REASON_NONE;
}
