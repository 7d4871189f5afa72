/* ss_exhaustive: the naive reference scheduler (`schedule --exhaustive`).
 * Every pod in queue order is filtered and scored against every node from
 * scratch: no node classes, no heaps, no shards — kube-scheduler's algorithm
 * with percentageOfNodesToScore 100. Cost pods x nodes: for tests and for
 * measuring the fast engine against, not for production sizes. */
#include <stdlib.h>

#include "ss_match.h"
#include "ss_reason.h"
#include "ss_sched.h"
#include "ss_sched_class.h"

typedef struct {
    const ss_cluster_t *c;
    const ss_policy_t *policy;
    ss_policy_ctx_t *pctx;
    ss_state_t *st;
    ss_match_ctx_t mx;
    int32_t max_untolerated;
    int32_t lo, hi; /* nodes a pod may use (a topology domain, or all) */
} ref_t;

/* Best node for template t, or -1 with *reason the most common refusal. */
static int32_t best_node(const ref_t *r, int32_t t, int *reason, int64_t *best_score)
{
    const ss_template_t *tp = &r->c->templates[t];
    int64_t counts[SS_REASON_COUNT] = {0};
    int32_t best = -1;
    for (int32_t n = r->lo; n < r->hi; n++) {
        int64_t bonus = 0;
        int why = ss_static_eval(&r->mx, r->c, r->max_untolerated, t, n, &bonus);
        if (why == SS_REASON_NONE)
            why = ss_state_fit(r->st, tp, n);
        if (why != SS_REASON_NONE) {
            counts[why]++;
            continue;
        }
        int64_t score = SS_WEIGHT_FIT * ss_policy_fit(r->policy->id, r->pctx, r->st, tp, n) + bonus;
        if (best < 0 || score > *best_score) {
            best = n;
            *best_score = score;
        }
    }
    *reason = SS_REASON_NO_NODES;
    int64_t most = 0;
    for (int k = 1; k < SS_REASON_COUNT; k++)
        if (counts[k] > most) {
            most = counts[k];
            *reason = k;
        }
    return best;
}

/* Places the pods one by one; returns how many landed. */
static int32_t place_each(ref_t *r, const int32_t *pods, int32_t n, const int32_t *row_of_pod,
                          ss_placements_t *out)
{
    const ss_cluster_t *c = r->c;
    int32_t placed = 0;
    for (int32_t i = 0; i < n; i++) {
        int32_t p = pods[i], row = row_of_pod[p], t = c->pod_template[p];
        int why = ss_sched_unsupported_reason(c->templates[t].unsupported);
        if (why != SS_REASON_NONE) {
            out->reason[row] = why;
            continue;
        }
        int64_t score = 0;
        int32_t node = best_node(r, t, &why, &score);
        if (node < 0) {
            out->reason[row] = why;
            continue;
        }
        uint64_t mask = ss_policy_pick_gpus(r->pctx, r->st, t, node);
        ss_state_apply(r->st, &c->templates[t], node, mask, +1);
        out->node[row] = node;
        out->gpu_mask[row] = mask;
        out->reason[row] = SS_REASON_NONE;
        placed++;
    }
    return placed;
}

static void unplace_all(ref_t *r, const int32_t *pods, int32_t n, const int32_t *row_of_pod,
                        ss_placements_t *out)
{
    for (int32_t i = 0; i < n; i++) {
        int32_t row = row_of_pod[pods[i]];
        if (out->node[row] < 0)
            continue;
        ss_state_apply(r->st, &r->c->templates[r->c->pod_template[pods[i]]], out->node[row],
                       out->gpu_mask[row], -1);
        out->node[row] = -1;
        out->gpu_mask[row] = 0;
        out->reason[row] = SS_REASON_GANG;
    }
}

/* Domains of level l in node order: [*lo, *hi) for domain index d; false
 * past the last. Recomputed by scanning: this is the slow reference. */
static bool domain_at(const ss_cluster_t *c, int l, int32_t d, int32_t *lo, int32_t *hi)
{
    int32_t seen = -1;
    for (int32_t i = 0; i < c->n_nodes; i++) {
        bool starts = i == 0 || l == SS_TOPO_NODE;
        for (int k = 0; k <= l && !starts; k++)
            starts = c->node_topo[(size_t)i * SS_TOPO_NLEVELS + k] !=
                     c->node_topo[(size_t)(i - 1) * SS_TOPO_NLEVELS + k];
        if (starts && ++seen == d)
            *lo = i;
        else if (starts && seen == d + 1) {
            *hi = i;
            return true;
        }
    }
    *hi = c->n_nodes;
    return seen >= d;
}

typedef struct {
    int64_t left;
    int32_t lo, hi;
} dom_t;

static int cmp_dom(const void *a, const void *b)
{
    const dom_t *x = a, *y = b;
    if (x->left != y->left)
        return x->left < y->left ? -1 : 1;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

/* Same rule as ss_sched_topo.c, computed naively: domains from the finest
 * level up to the group's, those holding at least minMember pods of the first
 * member's template by free capacity, fewest slots left over first, three
 * tries per level. */
static bool place_in_domain(ref_t *r, const int32_t *pods, int32_t n, int32_t group,
                            const int32_t *row_of_pod, ss_placements_t *out)
{
    const ss_cluster_t *c = r->c;
    int32_t min = c->group_min_member[group], level = c->group_topo_level[group];
    int32_t t = c->pod_template[pods[0]];
    dom_t *doms = malloc(((size_t)c->n_nodes + 1) * sizeof *doms);
    bool done = false;
    int first = level == SS_TOPO_NODE ? SS_TOPO_NODE : SS_TOPO_RACK;
    for (int l = first; doms && l >= level && !done; l--) {
        int32_t m = 0, lo = 0, hi = 0;
        for (int32_t d = 0; domain_at(c, l, d, &lo, &hi); d++) {
            int64_t slots = 0, bonus;
            for (int32_t i = lo; i < hi; i++)
                if (ss_static_eval(&r->mx, c, r->max_untolerated, t, i, &bonus) == SS_REASON_NONE)
                    slots += ss_state_slots(r->st, &c->templates[t], i);
            if (slots >= min)
                doms[m++] = (dom_t){slots - min, lo, hi};
        }
        qsort(doms, (size_t)m, sizeof *doms, cmp_dom);
        for (int32_t i = 0; i < m && i < 3 && !done; i++) {
            r->lo = doms[i].lo;
            r->hi = doms[i].hi;
            done = place_each(r, pods, n, row_of_pod, out) >= min;
            if (!done)
                unplace_all(r, pods, n, row_of_pod, out);
        }
        r->lo = 0;
        r->hi = c->n_nodes;
    }
    free(doms);
    return done;
}

static void place_pods(ref_t *r, const int32_t *pods, int32_t n, int32_t group,
                       const int32_t *row_of_pod, ss_placements_t *out)
{
    const ss_cluster_t *c = r->c;
    if (group >= 0) {
        int why = SS_REASON_NONE;
        for (int32_t i = 0; i < n && !why; i++)
            why = ss_sched_unsupported_reason(c->templates[c->pod_template[pods[i]]].unsupported);
        for (int32_t i = 0; i < n && why; i++)
            out->reason[row_of_pod[pods[i]]] = why;
        if (why)
            return;
        if (c->group_topo_mode[group] != SS_TOPO_MODE_NONE) {
            if (place_in_domain(r, pods, n, group, row_of_pod, out))
                return;
            if (c->group_topo_mode[group] == SS_TOPO_MODE_REQUIRED) {
                for (int32_t i = 0; i < n; i++)
                    out->reason[row_of_pod[pods[i]]] = SS_REASON_TOPOLOGY;
                return;
            }
        }
    }
    int32_t placed = place_each(r, pods, n, row_of_pod, out);
    if (group >= 0 && placed < c->group_min_member[group])
        unplace_all(r, pods, n, row_of_pod, out); /* all or nothing */
}

int ss_exhaustive_run(const ss_cluster_t *c, const ss_policy_t *policy, const int32_t *order,
                      const ss_unit_t *units, int32_t n_units, ss_placements_t *out,
                      ss_error_t *err)
{
    ref_t r = {c, policy, NULL, ss_state_create(c), {0}, 0, 0, c->n_nodes};
    int32_t *row_of_pod = malloc((c->n_pods > 0 ? (size_t)c->n_pods : 1) * sizeof(int32_t));
    int rc = 0;
    if (!r.st || !row_of_pod)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory in the exhaustive scheduler");
    else
        rc = ss_policy_ctx_create(policy, c, &r.pctx, err);
    if (rc) {
        ss_state_destroy(r.st);
        free(row_of_pod);
        return rc;
    }
    ss_match_ctx_init(&r.mx, c);
    for (int32_t n = 0; n < c->n_nodes; n++) {
        int32_t prefer = 0;
        for (int32_t k = 0; k < c->node_taint_count[n]; k++)
            prefer += c->taints[c->node_taint_begin[n] + k].effect == SS_EFFECT_PREFER_NO_SCHEDULE;
        if (prefer > r.max_untolerated)
            r.max_untolerated = prefer;
    }
    int32_t rows = 0;
    for (int32_t p = 0; p < c->n_pods; p++) {
        row_of_pod[p] = -1;
        if (c->pod_node[p] < 0) {
            if (rows < out->n)
                out->pod[rows] = p;
            row_of_pod[p] = rows++;
        }
    }
    if (rows != out->n) {
        rc = ss_error_set(err, SS_EINVAL, "placements have %d rows for %d pending pods", out->n,
                          rows);
    } else {
        for (int32_t i = 0; i < out->n; i++) {
            out->node[i] = -1;
            out->gpu_mask[i] = 0;
            out->reason[i] = SS_REASON_NO_NODES;
        }
        for (int32_t u = 0; u < n_units; u++)
            place_pods(&r, order + units[u].begin, units[u].count, units[u].group, row_of_pod, out);
    }
    ss_state_destroy(r.st);
    ss_policy_ctx_destroy(r.pctx);
    free(row_of_pod);
    return rc;
}
