/* ss_exhaustive: the naive reference scheduler (`schedule --exhaustive`).
 * Every pod in queue order is filtered and scored against every node from
 * scratch: no node classes, no heaps, no shards — kube-scheduler's algorithm
 * with percentageOfNodesToScore 100, with the inter-pod rules recounted for
 * each pod (ss_exhaustive_rules.c) and DefaultPreemption when a pod fits
 * nowhere (ss_exhaustive_preempt.c). Cost pods x (nodes + pods): for tests
 * and for measuring the fast engine against, not for production sizes. */
#include <stdlib.h>
#include <string.h>

#include "ss_exhaustive_int.h"
#include "ss_reason.h"
#include "ss_rules.h"
#include "ss_sched_class.h"

typedef ss_exh_t ref_t;

void ss_exh_commit(ss_exh_t *r, int32_t pod, int32_t node)
{
    const ss_cluster_t *c = r->c;
    int32_t t = c->pod_template[pod], row = r->row_of_pod[pod];
    uint64_t mask = ss_policy_pick_gpus(r->pctx, r->st, t, node);
    ss_state_apply(r->st, &c->templates[t], node, mask, +1);
    r->where[pod] = node;
    r->out->node[row] = node;
    r->out->gpu_mask[row] = mask;
    r->out->reason[row] = SS_REASON_NONE;
    r->out->seq[row] = r->next_seq++;
}

void ss_exh_uncommit(ss_exh_t *r, int32_t pod)
{
    const ss_cluster_t *c = r->c;
    int32_t row = r->row_of_pod[pod];
    ss_state_apply(r->st, &c->templates[c->pod_template[pod]], r->out->node[row],
                   r->out->gpu_mask[row], -1);
    r->where[pod] = -1;
    r->out->node[row] = -1;
    r->out->gpu_mask[row] = 0;
    r->out->reason[row] = SS_REASON_GANG;
    r->out->seq[row] = -1;
    r->next_seq--; /* a gang's members are the last ones committed */
}

/* Best node for the pod (rules prepared in p), or -1 with *reason the most
 * common refusal; r->node_reason keeps every node's. */
static int32_t best_node(const ref_t *r, const ss_exh_prep_t *p, int32_t pod, int *reason)
{
    const ss_cluster_t *c = r->c;
    int32_t t = c->pod_template[pod];
    const ss_template_t *tp = &c->templates[t];
    int64_t counts[SS_REASON_COUNT] = {0}, best_score = 0;
    int32_t best = -1;
    for (int32_t n = 0; n < c->n_nodes; n++)
        r->node_reason[n] = SS_REASON_TOPOLOGY; /* outside the domain tried */
    for (int32_t n = r->lo; n < r->hi; n++) {
        int64_t bonus = 0;
        int why = ss_static_eval(&r->mx, c, r->max_untolerated, t, n, &bonus);
        if (why == SS_REASON_NONE)
            why = ss_state_fit(r->st, tp, n);
        if (why == SS_REASON_NONE)
            why = ss_exh_rule_filter(r, p, n);
        r->node_reason[n] = why;
        if (why != SS_REASON_NONE) {
            counts[why]++;
            continue;
        }
        int64_t score = SS_WEIGHT_FIT * ss_policy_fit(r->policy->id, r->pctx, r->st, tp, n) +
                        bonus + ss_exh_rule_score(r, p, n);
        if (best < 0 || score > best_score) {
            best = n;
            best_score = score;
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

static bool may_preempt(const ref_t *r, int32_t pod)
{
    const ss_cluster_t *c = r->c;
    return r->o.preemption && r->lo == 0 && r->hi == c->n_nodes &&
           !(c->templates[c->pod_template[pod]].flags & SS_TF_PREEMPT_NEVER) &&
           c->templates[c->pod_template[pod]].mig_count == 0; /* MIG pods do not preempt */
}

/* Places one pod: 1 placed, 0 not, or negative (out of memory). */
static int place_one(ref_t *r, int32_t pod, bool preempt)
{
    const ss_cluster_t *c = r->c;
    int32_t row = r->row_of_pod[pod];
    if (r->out->node[row] >= 0) /* the second pass of preempt_last */
        return 1;
    int why = ss_sched_unsupported_reason(c->templates[c->pod_template[pod]].unsupported);
    if (why != SS_REASON_NONE) {
        r->out->reason[row] = why;
        return 0;
    }
    ss_exh_prep_t p = {0};
    int rc = ss_exh_prep(r, pod, &p);
    int32_t node = rc ? -1 : best_node(r, &p, pod, &why);
    ss_exh_prep_free(&p);
    if (rc)
        return rc;
    if (node >= 0) {
        ss_exh_commit(r, pod, node);
        return 1;
    }
    r->out->reason[row] = why;
    return preempt && may_preempt(r, pod) ? ss_exh_preempt(r, pod) : 0;
}

/* Places the pods one by one; returns how many landed (r->rc keeps an
 * error). */
static int32_t place_each(ref_t *r, const int32_t *pods, int32_t n, bool preempt)
{
    int32_t placed = 0;
    for (int32_t i = 0; i < n && !r->rc; i++) {
        int rc = place_one(r, pods[i], preempt);
        if (rc < 0)
            r->rc = rc;
        else
            placed += rc;
    }
    return placed;
}

static void unplace_all(ref_t *r, const int32_t *pods, int32_t n)
{
    for (int32_t i = n - 1; i >= 0; i--)
        if (r->out->node[r->row_of_pod[pods[i]]] >= 0)
            ss_exh_uncommit(r, pods[i]);
}

/* Domains of level l in node order: [*lo, *hi) for domain index d; false
 * past the last. Recomputed by scanning: this is the slow reference. */
static bool domain_at(const ss_cluster_t *c, int l, int32_t d, int32_t *lo, int32_t *hi)
{
    int32_t seen = -1;
    for (int32_t i = 0; i < c->n_nodes; i++) {
        bool starts = i == 0 || l == c->n_levels - 1;
        for (int k = 0; k <= l && !starts; k++)
            starts = c->node_topo[(size_t)i * SS_TOPO_STRIDE + k] !=
                     c->node_topo[(size_t)(i - 1) * SS_TOPO_STRIDE + k];
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

/* Whether placed pod q is a member of group g (its group or an enclosing one). */
static bool member_of(const ss_cluster_t *c, int32_t q, int32_t g)
{
    for (int32_t h = c->pod_group[q]; h >= 0; h = c->group_parent[h])
        if (h == g)
            return true;
    return false;
}

/* The sub-group rule, naively: every group nested in the gang of pods
 * (with or without pending members) reaches its minimum with the placed and
 * the running ones, the placed ones in one domain of its level when
 * required. */
static bool subs_hold(const ref_t *r, const int32_t *pods, int32_t n)
{
    const ss_cluster_t *c = r->c;
    int32_t root = n > 0 ? ss_cluster_gang_of(c, pods[0]) : -1;
    for (int32_t g = 0; c->group_parent && g < c->n_groups; g++) {
        bool inner = false;
        for (int32_t h = c->group_parent[g]; h >= 0 && !inner; h = c->group_parent[h])
            inner = h == root;
        if (!inner)
            continue;
        int32_t placed = 0, first = -1, running = 0;
        bool split = false;
        for (int32_t q = 0; q < c->n_pods; q++)
            running += c->pod_node[q] >= 0 && member_of(c, q, g);
        for (int32_t i = 0; i < n; i++) {
            if (!member_of(c, pods[i], g))
                continue;
            int32_t node = r->out->node[r->row_of_pod[pods[i]]];
            if (node < 0)
                continue;
            placed++;
            if (first < 0)
                first = node;
            else if (c->group_topo_mode[g] == SS_TOPO_MODE_REQUIRED)
                for (int k = 0; k <= c->group_topo_level[g]; k++)
                    split |= c->node_topo[(size_t)first * SS_TOPO_STRIDE + k] !=
                             c->node_topo[(size_t)node * SS_TOPO_STRIDE + k];
        }
        if (split || placed + running < c->group_min_member[g])
            return false;
    }
    return true;
}

/* Same rule as ss_sched_topo.c, computed naively: domains from the finest
 * level up to the group's, those holding at least minMember pods of the first
 * member's template by free capacity, fewest slots left over first, three
 * tries per level. */
static bool place_in_domain(ref_t *r, const int32_t *pods, int32_t n, int32_t group)
{
    const ss_cluster_t *c = r->c;
    int32_t min = c->group_min_member[group], level = c->group_topo_level[group];
    int32_t t = c->pod_template[pods[0]];
    dom_t *doms = malloc(((size_t)c->n_nodes + 1) * sizeof *doms);
    bool done = false;
    if (!doms)
        r->rc = SS_ENOMEM;
    int node = c->n_levels - 1, first = level == node ? node : node - 1;
    for (int l = first; doms && l >= level && !done && !r->rc; l--) {
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
            done = place_each(r, pods, n, false) >= min && subs_hold(r, pods, n);
            if (!done)
                unplace_all(r, pods, n);
        }
        r->lo = 0;
        r->hi = c->n_nodes;
    }
    free(doms);
    return done;
}

/* A run of sub-group g's members into one domain of level l, inside
 * [r->lo, r->hi): the domains (clipped to it) holding at least g's minimum
 * by free capacity, best fit first, three tries; true when it landed. */
static bool run_in_domain(ref_t *r, const int32_t *pods, int32_t n, int32_t g, int l)
{
    const ss_cluster_t *c = r->c;
    int32_t min = c->group_min_member[g], t = c->pod_template[pods[0]], lo0 = r->lo, hi0 = r->hi;
    dom_t *doms = malloc(((size_t)c->n_nodes + 1) * sizeof *doms);
    bool done = false;
    if (!doms) {
        r->rc = SS_ENOMEM;
        return false;
    }
    int32_t m = 0, lo = 0, hi = 0;
    for (int32_t d = 0; domain_at(c, l, d, &lo, &hi); d++) {
        lo = lo > lo0 ? lo : lo0;
        hi = hi < hi0 ? hi : hi0;
        int64_t slots = 0, bonus;
        for (int32_t i = lo; i < hi; i++)
            if (ss_static_eval(&r->mx, c, r->max_untolerated, t, i, &bonus) == SS_REASON_NONE)
                slots += ss_state_slots(r->st, &c->templates[t], i);
        if (lo < hi && slots >= min)
            doms[m++] = (dom_t){slots - min, lo, hi};
    }
    qsort(doms, (size_t)m, sizeof *doms, cmp_dom);
    for (int32_t i = 0; i < m && i < 3 && !done && !r->rc; i++) {
        r->lo = doms[i].lo;
        r->hi = doms[i].hi;
        done = place_each(r, pods, n, false) >= min;
        if (!done)
            unplace_all(r, pods, n);
    }
    r->lo = lo0;
    r->hi = hi0;
    free(doms);
    return done;
}

/* A gang with sub-groups inside [r->lo, r->hi), run by run of one group as
 * the queue orders them: the same rule as ss_sched_topo.c's, naively. */
static bool subs_in_range(ref_t *r, const int32_t *pods, int32_t n, int32_t root)
{
    const ss_cluster_t *c = r->c;
    int node = c->n_levels - 1;
    bool dead = false;
    for (int32_t i = 0, j; i < n && !dead && !r->rc; i = j) {
        int32_t g = c->pod_group[pods[i]];
        for (j = i + 1; j < n && c->pod_group[pods[j]] == g;)
            j++;
        bool in = false;
        if (g != root && c->group_topo_mode[g] != SS_TOPO_MODE_NONE) {
            int level = c->group_topo_level[g];
            for (int l = level == node ? node : node - 1; l >= level && !in && !r->rc; l--)
                in = run_in_domain(r, pods + i, j - i, g, l);
            dead = !in && c->group_topo_mode[g] == SS_TOPO_MODE_REQUIRED;
        }
        if (!dead && !in)
            place_each(r, pods + i, j - i, false);
    }
    int32_t total = 0;
    for (int32_t i = 0; i < n; i++)
        total += r->out->node[r->row_of_pod[pods[i]]] >= 0;
    if (!dead && !r->rc && total >= c->group_min_member[root] && subs_hold(r, pods, n))
        return true;
    unplace_all(r, pods, n);
    return false;
}

/* A gang with sub-groups: in each domain of its level in node order (the
 * whole cluster when it has none) until it lands. */
static void place_subs(ref_t *r, const int32_t *pods, int32_t n, int32_t root)
{
    const ss_cluster_t *c = r->c;
    bool done = false;
    if (c->group_topo_mode[root] == SS_TOPO_MODE_NONE)
        done = subs_in_range(r, pods, n, root);
    int32_t lo = 0, hi = 0;
    for (int32_t d = 0; c->group_topo_mode[root] != SS_TOPO_MODE_NONE && !done && !r->rc &&
                        domain_at(c, c->group_topo_level[root], d, &lo, &hi);
         d++) {
        r->lo = lo;
        r->hi = hi;
        done = subs_in_range(r, pods, n, root);
    }
    r->lo = 0;
    r->hi = c->n_nodes;
    for (int32_t i = 0; i < n && !done; i++)
        if (r->out->reason[r->row_of_pod[pods[i]]] == SS_REASON_NONE)
            r->out->reason[r->row_of_pod[pods[i]]] = SS_REASON_GANG;
}

/* A gang that did not fit as things are tries again with preemption, as a
 * unit: its members' victims stay only if at least minMember land. */
static void place_gang(ref_t *r, const int32_t *pods, int32_t n, int32_t group)
{
    int32_t min = r->c->group_min_member[group];
    if ((place_each(r, pods, n, false) >= min && subs_hold(r, pods, n)) || r->rc)
        return;
    unplace_all(r, pods, n);
    if (!r->o.preemption)
        return;
    /* The reasons of the try without preemption stay if this one fails. */
    int8_t *why = malloc((size_t)n + 1);
    if (!why) {
        r->rc = SS_ENOMEM;
        return;
    }
    for (int32_t i = 0; i < n; i++)
        why[i] = (int8_t)r->out->reason[r->row_of_pod[pods[i]]];
    int32_t keep = r->out->n_victims;
    if ((place_each(r, pods, n, true) < min || !subs_hold(r, pods, n)) && !r->rc) {
        unplace_all(r, pods, n);
        ss_exh_restore_victims(r, keep);
        for (int32_t i = 0; i < n; i++)
            r->out->reason[r->row_of_pod[pods[i]]] = why[i];
    }
    free(why);
}

static void place_pods(ref_t *r, const int32_t *pods, int32_t n, int32_t group)
{
    const ss_cluster_t *c = r->c;
    if (group < 0) {
        place_each(r, pods, n, true);
        return;
    }
    int why = SS_REASON_NONE;
    for (int32_t i = 0; i < n && !why; i++)
        why = ss_sched_pod_unsupported(c, pods[i]);
    for (int32_t i = 0; i < n && why; i++)
        r->out->reason[r->row_of_pod[pods[i]]] = why;
    if (why)
        return;
    bool subs = false; /* the gang has a sub-group (pods in it or not) */
    for (int32_t g = group + 1; c->group_parent && g < c->n_groups && !subs; g++)
        for (int32_t h = c->group_parent[g]; h >= 0 && !subs; h = c->group_parent[h])
            subs = h == group;
    if (subs) {
        place_subs(r, pods, n, group);
        return;
    }
    if (c->group_topo_mode[group] != SS_TOPO_MODE_NONE) {
        if (place_in_domain(r, pods, n, group) || r->rc)
            return;
        if (c->group_topo_mode[group] == SS_TOPO_MODE_REQUIRED) {
            for (int32_t i = 0; i < n; i++)
                r->out->reason[r->row_of_pod[pods[i]]] = SS_REASON_TOPOLOGY;
            return;
        }
    }
    place_gang(r, pods, n, group);
}

void ss_exh_opts_default(ss_exh_opts_t *o)
{
    *o = (ss_exh_opts_t){.preemption = 1,
                         .pdb_hard = 0,
                         .min_candidate_pct = 10,
                         .min_candidate_abs = 100,
                         .seed_offset = 0,
                         .default_spreading = -1,
                         .locality = -1};
}

/* Allocates r's arrays and fills the per-pod ones. */
static int setup(ref_t *r, const ss_cluster_t *c, const ss_exh_opts_t *o, ss_placements_t *out,
                 ss_error_t *err)
{
    size_t np = c->n_pods > 0 ? (size_t)c->n_pods : 1, nn = c->n_nodes > 0 ? (size_t)c->n_nodes : 1;
    size_t ns = (size_t)ss_strtab_count(c->strings) + 1;
    r->o = *o;
    if (r->o.default_spreading < 0)
        r->o.default_spreading = c->default_spreading;
    if (r->o.locality < 0)
        r->o.locality = c->locality;
    r->out = out;
    r->st = ss_state_create(c);
    r->where = malloc(np * sizeof *r->where);
    r->row_of_pod = malloc(np * sizeof *r->row_of_pod);
    r->termpods = malloc(np * sizeof *r->termpods);
    r->scratch = calloc(ns, sizeof *r->scratch);
    r->elig = malloc(nn);
    r->node_reason = malloc(nn * sizeof *r->node_reason);
    r->pdb_left = malloc((c->n_pdbs > 0 ? (size_t)c->n_pdbs : 1) * sizeof *r->pdb_left);
    if (!r->st || !r->where || !r->row_of_pod || !r->termpods || !r->scratch || !r->elig ||
        !r->node_reason || !r->pdb_left)
        return ss_error_set(err, SS_ENOMEM, "out of memory in the exhaustive scheduler");
    ss_match_ctx_init(&r->mx, c);
    for (int32_t n = 0; n < c->n_nodes; n++) {
        int32_t prefer = 0;
        for (int32_t k = 0; k < c->node_taint_count[n]; k++)
            prefer += c->taints[c->node_taint_begin[n] + k].effect == SS_EFFECT_PREFER_NO_SCHEDULE;
        if (prefer > r->max_untolerated)
            r->max_untolerated = prefer;
    }
    int32_t rows = 0;
    for (int32_t p = 0; p < c->n_pods; p++) {
        r->where[p] = c->pod_node[p];
        r->row_of_pod[p] = -1;
        if (c->templates[c->pod_template[p]].pterm_count > 0)
            r->termpods[r->n_termpods++] = p;
        if (c->pod_node[p] < 0) {
            if (rows < out->n)
                out->pod[rows] = p;
            r->row_of_pod[p] = rows++;
        }
    }
    if (ss_pdb_allowed_all(c, r->pdb_left) < 0)
        return ss_error_set(err, SS_ENOMEM, "out of memory in the exhaustive scheduler");
    if (ss_exh_index(r))
        return ss_error_set(err, SS_ENOMEM, "out of memory in the exhaustive scheduler");
    if (rows != out->n)
        return ss_error_set(err, SS_EINVAL, "placements have %d rows for %d pending pods", out->n,
                            rows);
    return 0;
}

static void teardown(ref_t *r)
{
    ss_state_destroy(r->st);
    ss_policy_ctx_destroy(r->pctx);
    free(r->where);
    free(r->row_of_pod);
    free(r->termpods);
    free(r->scratch);
    free(r->elig);
    free(r->node_reason);
    free(r->pdb_left);
    ss_exh_index_free(r);
}

int ss_exhaustive_run_opts(const ss_cluster_t *c, const ss_policy_t *policy, const int32_t *order,
                           const ss_unit_t *units, int32_t n_units, const ss_exh_opts_t *o,
                           ss_placements_t *out, ss_error_t *err)
{
    ss_exh_opts_t def;
    ss_exh_opts_default(&def);
    ref_t r;
    memset(&r, 0, sizeof r);
    r.c = c;
    r.policy = policy;
    r.hi = c->n_nodes;
    int rc = setup(&r, c, o ? o : &def, out, err);
    if (!rc)
        rc = ss_policy_ctx_create(policy, c, &r.pctx, err);
    if (!rc) {
        out->n_victims = 0;
        for (int32_t i = 0; i < out->n; i++) {
            out->node[i] = -1;
            out->gpu_mask[i] = 0;
            out->seq[i] = -1;
            out->reason[i] = SS_REASON_NO_NODES;
        }
        int pre = r.o.preemption;
        if (r.o.preempt_last)
            r.o.preemption = 0;
        for (int32_t u = 0; u < n_units && !r.rc; u++)
            place_pods(&r, order + units[u].begin, units[u].count, units[u].group);
        r.o.preemption = pre;
        for (int32_t u = 0; r.o.preempt_last && pre && u < n_units && !r.rc; u++) {
            bool left = false, any = false; /* pods left; a gang: none placed */
            for (int32_t i = 0; i < units[u].count; i++) {
                bool placed = out->node[r.row_of_pod[order[units[u].begin + i]]] >= 0;
                left |= !placed;
                any |= placed;
            }
            if (units[u].group >= 0 && any)
                continue;
            /* A pod this pass does not place keeps the first pass's reason. */
            int8_t *why = left ? malloc((size_t)units[u].count) : NULL;
            if (left && !why) {
                r.rc = SS_ENOMEM;
                break;
            }
            for (int32_t i = 0; left && i < units[u].count; i++)
                why[i] = (int8_t)out->reason[r.row_of_pod[order[units[u].begin + i]]];
            if (left)
                place_pods(&r, order + units[u].begin, units[u].count, units[u].group);
            for (int32_t i = 0; left && i < units[u].count; i++) {
                int32_t row = r.row_of_pod[order[units[u].begin + i]];
                if (out->node[row] < 0)
                    out->reason[row] = why[i];
            }
            free(why);
        }
        if (r.rc)
            rc = ss_error_set(err, r.rc, "out of memory in the exhaustive scheduler");
    }
    teardown(&r);
    return rc;
}

/* The old entry point: the defaults (the snapshot's modes, preemption on)
 * with preemption ordered as the fast engine orders it (preempt_last), so
 * that tests compare the two. */
int ss_exhaustive_run(const ss_cluster_t *c, const ss_policy_t *policy, const int32_t *order,
                      const ss_unit_t *units, int32_t n_units, ss_placements_t *out,
                      ss_error_t *err)
{
    ss_exh_opts_t o;
    ss_exh_opts_default(&o);
    o.preempt_last = 1;
    return ss_exhaustive_run_opts(c, policy, order, units, n_units, &o, out, err);
}
