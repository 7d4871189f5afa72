/* ss_sched: the fast engine inside one partition (see ss_sched.h for the
 * design): the layout, per-shard heaps, speculative greedy sequences, the
 * best-first merge of shard proposals, gang commit/rollback and
 * unschedulable reasons. The rounds across partitions and processes are in
 * ss_sched_spill.c. */
#include "ss_sched.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "ss_reason.h"
#include "ss_sched_int.h"
#include "ss_subgroups.h"

/* ---------- layout ---------- */

/* The coarsest topology level that changes at node i (the node level: none). */
static int topo_break(const ss_cluster_t *c, int32_t i)
{
    for (int l = 0; l + 1 < c->n_levels; l++)
        if (c->node_topo[(size_t)i * SS_TOPO_STRIDE + l] !=
            c->node_topo[(size_t)(i - 1) * SS_TOPO_STRIDE + l])
            return l;
    return c->n_levels - 1;
}

/* Cuts [lo, hi) into k pieces of about equal size, each cut moved forward
 * (within window nodes) to the closest boundary of the coarsest level
 * found. Writes the k-1 inner cuts that stay strictly increasing; returns
 * how many. */
static int32_t cut(const ss_cluster_t *c, int32_t lo, int32_t hi, int32_t k, int32_t window,
                   int32_t *cuts)
{
    int32_t m = 0, prev = lo;
    for (int32_t j = 1; j < k; j++) {
        int32_t b = lo + (int32_t)((int64_t)(hi - lo) * j / k), best = b;
        int best_level = c->n_levels;
        for (int32_t d = 0; d < window && b + d < hi; d++) {
            int l = b + d > 0 ? topo_break(c, b + d) : c->n_levels - 1;
            if (l < best_level) {
                best_level = l;
                best = b + d;
            }
        }
        if (best_level > c->n_levels - 2)
            best = b; /* no boundary above the node near: cut where it falls */
        if (best > prev && best < hi)
            cuts[m++] = prev = best;
    }
    return m;
}

void ss_layout_build(const ss_cluster_t *c, int32_t part_nodes, int32_t shard_nodes, ss_layout_t *l)
{
    int32_t n = c->n_nodes;
    if (part_nodes <= 0)
        part_nodes = SS_SCHED_DEFAULT_PART_NODES;
    if (shard_nodes <= 0)
        shard_nodes = SS_SCHED_DEFAULT_SHARD_NODES;
    int32_t np = (int32_t)(((int64_t)n + part_nodes - 1) / part_nodes);
    np = np < 1 ? 1 : np > SS_SCHED_MAX_PARTS ? SS_SCHED_MAX_PARTS : np;
    int32_t pcut[SS_SCHED_MAX_PARTS + 1];
    int32_t size = n / np + 1;
    pcut[0] = 0;
    int32_t m = 1 + cut(c, 0, n, np, size / 4, pcut + 1);
    pcut[m] = n;
    l->n_parts = m;
    l->n_shards = 0;
    int32_t per_part = SS_SCHED_MAX_SHARDS / m;
    for (int32_t p = 0; p < m; p++) {
        int32_t lo = pcut[p], hi = pcut[p + 1];
        int32_t k = (int32_t)(((int64_t)(hi - lo) + shard_nodes - 1) / shard_nodes);
        k = k < 1 ? 1 : k > per_part ? per_part : k;
        l->part_shard[p] = l->n_shards;
        l->bounds[l->n_shards++] = lo;
        int32_t scut[SS_SCHED_MAX_SHARDS];
        int32_t ns = cut(c, lo, hi, k, shard_nodes / 4, scut);
        for (int32_t j = 0; j < ns; j++)
            l->bounds[l->n_shards++] = scut[j];
    }
    l->part_shard[m] = l->n_shards;
    l->bounds[l->n_shards] = n;
}

/* ---------- create / destroy ---------- */

void ss_sched_destroy(ss_sched_t *s)
{
    if (!s)
        return;
    if (s->sh)
        for (int32_t i = s->shard_lo; i < s->shard_hi; i++)
            ss_shard_free(&s->sh[i]);
    free(s->sh);
    free(s->stamp);
    ss_sigtab_destroy(s->sigs);
    ss_vcache_destroy(s->vcache);
    for (int l = 0; l < SS_TOPO_MAX_LEVELS; l++)
        free(s->dom_begin[l]);
    free(s->node_shard);
    free(s->row_of_pod);
    free(s->tmpl_sig);
    free(s->tmpl_vent);
    free(s->sub_running);
    ss_classes_free(&s->cl);
    ss_state_destroy(s->st);
    ss_policy_ctx_destroy(s->pctx);
    free(s);
}

ss_sched_t *ss_sched_create(const ss_cluster_t *c, const ss_policy_t *policy, const ss_layout_t *l,
                            int32_t part_lo, int32_t part_hi, ss_error_t *err)
{
    ss_sched_t *s = calloc(1, sizeof *s);
    if (!s) {
        ss_error_set(err, SS_ENOMEM, "out of memory creating the scheduler");
        return NULL;
    }
    s->c = c;
    s->policy = policy;
    s->fault_after = -1;
    s->lay = *l;
    s->opts = ss_sched_opts_default();
    if (part_lo < 0 || part_hi > l->n_parts || part_lo > part_hi ||
        l->bounds[l->n_shards] != c->n_nodes) {
        ss_error_set(err, SS_EINVAL, "partition range [%d, %d) outside the cluster's %d partitions",
                     part_lo, part_hi, l->n_parts);
        goto fail;
    }
    s->part_lo = part_lo;
    s->part_hi = part_hi;
    s->shard_lo = l->part_shard[part_lo];
    s->shard_hi = l->part_shard[part_hi];
    s->node_lo = l->bounds[s->shard_lo];
    s->node_hi = l->bounds[s->shard_hi];
    ss_match_ctx_init(&s->mx, c);
    if (ss_classes_build(c, &s->cl, err) < 0 || ss_sched_domains_build(s, err) < 0 ||
        ss_policy_ctx_create(policy, c, &s->pctx, err) < 0)
        goto fail;
    size_t nn = c->n_nodes > 0 ? (size_t)c->n_nodes : 1;
    size_t nt = c->n_templates > 0 ? (size_t)c->n_templates : 1;
    s->st = ss_state_create_range(c, s->node_lo, s->node_hi);
    s->sh = calloc((size_t)l->n_shards, sizeof *s->sh);
    s->node_shard = malloc(nn * sizeof(int32_t));
    s->row_of_pod = malloc((c->n_pods > 0 ? (size_t)c->n_pods : 1) * sizeof(int32_t));
    s->stamp = calloc(nn, sizeof *s->stamp);
    s->tmpl_sig = malloc(nt * sizeof(int32_t));
    s->tmpl_vent = malloc(nt * sizeof(int32_t));
    s->sigs = ss_sigtab_create(s->cl.n_classes);
    s->vcache = ss_vcache_create();
    if (!s->st || !s->sh || !s->node_shard || !s->row_of_pod || !s->stamp || !s->tmpl_sig ||
        !s->tmpl_vent || !s->sigs || !s->vcache) {
        ss_error_set(err, SS_ENOMEM, "out of memory creating the scheduler");
        goto fail;
    }
    for (size_t t = 0; t < nt; t++)
        s->tmpl_sig[t] = s->tmpl_vent[t] = -1;
    if (ss_subgroups_running(c, &s->sub_running) < 0) {
        ss_error_set(err, SS_ENOMEM, "out of memory creating the scheduler");
        goto fail;
    }
    for (int32_t k = 0; k < l->n_shards; k++) {
        for (int32_t i = l->bounds[k]; i < l->bounds[k + 1]; i++)
            s->node_shard[i] = k;
        if (k >= s->shard_lo && k < s->shard_hi &&
            ss_shard_init(&s->sh[k], l->bounds[k], l->bounds[k + 1], s->cl.node_class) < 0) {
            ss_error_set(err, SS_ENOMEM, "out of memory creating the scheduler");
            goto fail;
        }
        s->sh[k].lo = l->bounds[k];
        s->sh[k].hi = l->bounds[k + 1];
    }
    int32_t row = 0;
    for (int32_t p = 0; p < c->n_pods; p++)
        s->row_of_pod[p] = c->pod_node[p] < 0 ? row++ : -1;
    return s;
fail:
    ss_sched_destroy(s);
    return NULL;
}

void ss_sched_verdict(const ss_sched_t *s, ss_work_t *w, int32_t t)
{
    ss_vcache_view(s->vcache, s->tmpl_vent[t], &w->v);
}

/* ---------- one run: `want` replicas of template t in one partition ---------- */

/* Lists the unconsumed entries of the partition's shards and what each
 * shard would propose next, for the merge. */
static int collect(const ss_sched_t *s, ss_work_t *w)
{
    proposals_t *pr = &w->pr;
    int32_t n = 0;
    for (int32_t k = w->k_lo; k < w->k_hi; k++) {
        const shard_t *h = &s->sh[k];
        int32_t need = n + (h->n_log - h->consumed);
        if (need > w->mine_cap) {
            int32_t nc = w->mine_cap * 2 > need ? w->mine_cap * 2 : need;
            ss_cand_t *m = realloc(w->mine, (size_t)nc * sizeof *m);
            if (!m)
                return ss_error_set(&w->err, SS_ENOMEM, "out of memory merging proposals");
            w->mine = m;
            w->mine_cap = nc;
        }
        pr->first[k] = n;
        pr->cnt[k] = h->n_log - h->consumed;
        for (int32_t i = h->consumed; i < h->n_log; i++)
            w->mine[n++] = h->log[i];
        pr->done[k] = (int8_t)h->exhausted;
        pr->bound[k] = h->exhausted ? INT32_MIN : h->bound;
        pr->bound_node[k] = h->bound != INT32_MAX ? h->bound_node : s->lay.bounds[k];
    }
    pr->all = w->mine;
    pr->n_all = n;
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

/* Best-first merge of the partition's shard sequences. Takes up to `want` winners into
 * win[]; stops early (*more = 1: another round is needed) when the best head
 * belongs to a shard whose listed entries are used up but that may still
 * have nodes: its bound says whether anything it holds could beat the other
 * heads. Stops with *more = 0 when every shard is exhausted. taken[k] counts
 * winners from shard k; heads is scratch of n_shards entries. */
static int32_t merge(const ss_work_t *w, const proposals_t *pr, int32_t want, ss_cand_t *win,
                     int32_t *taken, int32_t *heads, int *more)
{
    int32_t got = 0, n = 0;
    *more = 0;
    for (int32_t k = w->k_lo; k < w->k_hi; k++) {
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

static int run_rounds(ss_sched_t *s, ss_work_t *w, int32_t t, const int32_t *pods, int32_t want,
                      ss_placements_t *out, int32_t *placed)
{
    int rc = 0;
    int32_t ns = w->k_hi - w->k_lo;
    *placed = 0;
    /* The lookahead changes how many rounds a run takes, never its result:
     * a shard whose proposals were all taken proposes twice as many next
     * round, so a shard that keeps winning needs few rounds. */
    for (int32_t k = w->k_lo; k < w->k_hi; k++)
        s->sh[k].ahead = 2 * want / ns + 1;
    if (want > w->win_cap) {
        ss_cand_t *x = realloc(w->win, (size_t)want * sizeof *x);
        if (!x)
            return ss_error_set(&w->err, SS_ENOMEM, "out of memory merging proposals");
        w->win = x;
        w->win_cap = want;
    }
    for (int round = 0; *placed < want; round++) {
        int32_t remaining = want - *placed;
        /* The first round's extensions pop fresh heaps (the heavy part);
         * later rounds touch few shards, cheaper than a parallel region. */
#pragma omp parallel for schedule(static) reduction(min : rc) if (round == 0 && ns > 1)
        for (int32_t k = w->k_lo; k < w->k_hi; k++) {
            shard_t *h = &s->sh[k];
            int r = ss_shard_extend(s, w, h, t, h->ahead < remaining ? h->ahead : remaining);
            rc = r < rc ? r : rc;
        }
        if (rc < 0)
            return ss_error_set(&w->err, rc, "out of memory extending shard sequences");
        if ((rc = collect(s, w)) < 0)
            return rc;
        int more;
        int32_t got = merge(w, &w->pr, remaining, w->win, w->taken, w->heads, &more);
        for (int32_t k = w->k_lo; k < w->k_hi; k++) {
            shard_t *h = &s->sh[k];
            h->consumed += w->taken[k];
            if (h->consumed == h->n_log && !h->exhausted && w->taken[k] > 0 &&
                h->ahead < (INT32_MAX / 2))
                h->ahead *= 2;
        }
        for (int32_t i = 0; i < got; i++) {
            int32_t row = s->row_of_pod[pods[*placed + i]];
            out->node[row] = w->win[i].node;
            out->gpu_mask[row] = w->win[i].gpu_mask;
            out->reason[row] = SS_REASON_NONE;
        }
        *placed += got;
        if (!more)
            break;
    }
    return 0;
}

/* The reason most nodes of the work's range give for refusing template t
 * (first failing filter per node); ties go to the earlier filter. */
static int run_reason(const ss_sched_t *s, const ss_work_t *w, int32_t t)
{
    int64_t counts[SS_REASON_COUNT] = {0};
    const ss_template_t *tp = &s->c->templates[t];
    for (int32_t i = w->lo; i < w->hi; i++) {
        int64_t bonus;
        int r = ss_sched_node_static(s, w, t, i, &bonus);
        if (r == SS_REASON_NONE)
            r = ss_state_fit(s->st, tp, i);
        counts[r]++;
    }
    int reason = SS_REASON_NO_NODES;
    int64_t best = 0;
    for (int r = 1; r < SS_REASON_COUNT; r++)
        if (counts[r] > best) {
            best = counts[r];
            reason = r;
        }
    return reason;
}

/* Places pods[0..n) (all of template t) in the work's nodes and sets
 * reasons for those left. */
static int place_run(ss_sched_t *s, ss_work_t *w, int32_t t, const int32_t *pods, int32_t n,
                     ss_placements_t *out, int32_t *placed)
{
    *placed = 0;
    int rc = ss_sched_unsupported_reason(s->c->templates[t].unsupported);
    if (rc != SS_REASON_NONE) {
        for (int32_t i = 0; i < n; i++)
            out->reason[s->row_of_pod[pods[i]]] = rc;
        return 0;
    }
    int64_t run;
#pragma omp atomic capture
    run = s->runs++;
    if (s->fault_after >= 0 && run == s->fault_after)
        return ss_error_set(&w->err, SS_ENOMEM, "injected fault in run %lld", (long long)run);
    ss_sched_verdict(s, w, t);
    int32_t sig = s->tmpl_sig[t];
    rc = 0;
#pragma omp parallel for schedule(static) reduction(min : rc) if (w->k_hi - w->k_lo > 1)
    for (int32_t k = w->k_lo; k < w->k_hi; k++) {
        int r = ss_shard_begin(s, w, &s->sh[k], t, sig);
        rc = r < rc ? r : rc;
    }
    if (rc < 0)
        return ss_error_set(&w->err, rc, "out of memory building shard heaps");
    rc = run_rounds(s, w, t, pods, n, out, placed);
    int failed = 0;
    for (int32_t k = w->k_lo; k < w->k_hi; k++) { /* cheap: few entries each */
        ss_shard_rewind(s, &s->sh[k], t);
        failed |= s->sh[k].failed;
    }
    if (rc < 0)
        return rc;
    if (failed)
        return ss_error_set(&w->err, SS_ENOMEM, "out of memory rewinding shards");
    if (*placed < n) {
        int reason = run_reason(s, w, t);
        for (int32_t i = *placed; i < n; i++)
            out->reason[s->row_of_pod[pods[i]]] = reason;
    }
    return 0;
}

/* Removes a failed gang's placements from the work's shards. */
int ss_sched_gang_rollback(ss_sched_t *s, ss_work_t *w, const int32_t *pods, int32_t n,
                           ss_placements_t *out)
{
    int rc = 0;
    for (int32_t i = 0; i < n; i++) {
        int32_t row = s->row_of_pod[pods[i]];
        int32_t node = out->node[row];
        if (node < 0)
            continue; /* keeps its own reason */
        int32_t k = s->node_shard[node];
        if (k < w->k_lo || k >= w->k_hi)
            continue; /* placed by another partition */
        if (ss_shard_apply(s, &s->sh[k], &s->c->templates[s->c->pod_template[pods[i]]], node,
                           out->gpu_mask[row], -1) < 0)
            rc = ss_error_set(&w->err, SS_ENOMEM, "out of memory rolling back a pod group");
        out->node[row] = -1;
        out->gpu_mask[row] = 0;
        out->reason[row] = SS_REASON_GANG;
    }
    return rc;
}

int ss_sched_place_runs(ss_sched_t *s, ss_work_t *w, const int32_t *pods, int32_t n,
                        ss_placements_t *out, int32_t *total)
{
    const ss_cluster_t *c = s->c;
    *total = 0;
    for (int32_t i = 0; i < n;) {
        int32_t t = c->pod_template[pods[i]], j = i + 1;
        while (j < n && c->pod_template[pods[j]] == t)
            j++;
        int32_t placed = 0;
        int rc = place_run(s, w, t, pods + i, j - i, out, &placed);
        if (rc < 0)
            return rc;
        *total += placed;
        i = j;
    }
    return 0;
}

ss_sched_opts_t ss_sched_opts_default(void)
{
    return (ss_sched_opts_t){.default_spreading = -1,
                             .locality = -1,
                             .preemption = 1,
                             .pdb_hard = 0,
                             .min_candidate_pct = 10,
                             .min_candidate_abs = 100,
                             .seed = 0,
                             .pct_to_score = 0};
}

void ss_sched_set_opts(ss_sched_t *s, const ss_sched_opts_t *o)
{
    s->opts = *o;
}

void ss_sched_set_progress(ss_sched_t *s, const ss_progress_t *p)
{
    s->progress = p;
}

void ss_sched_inject_fault(ss_sched_t *s, int64_t after)
{
    s->fault_after = after;
}

void ss_sched_stats(const ss_sched_t *s, ss_sched_stats_t *st)
{
    *st = s->stats;
}

int ss_sched_pod_unsupported(const ss_cluster_t *c, int32_t pod)
{
    const ss_template_t *t = &c->templates[c->pod_template[pod]];
    int rs = ss_sched_unsupported_reason(t->unsupported);
    if (rs == SS_REASON_NONE && t->mig_count > 0 && c->pod_group[pod] >= 0)
        rs = SS_REASON_UNSUPPORTED_MIG;
    return rs;
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
    if (rules & SS_RULE_MIG)
        return SS_REASON_UNSUPPORTED_MIG;
    if (rules)
        return SS_REASON_UNSUPPORTED_OTHER;
    return SS_REASON_NONE;
}
