/* ss_explain_rules: the inter-pod rules in explain (issue 12): the state a
 * pending pod was tried in, as the pods on each node (commit order, victims
 * removed when their preemptor commits), and the four hard rules of
 * docs/kubernetes.md "Inter-pod rules" judged on every node against it:
 * DoNotSchedule topology spread, required pod affinity, required pod
 * anti-affinity, and existing pods' required anti-affinity.
 *
 * One pod at a time: each rule of the pod gets one counter per topology
 * value (indexed by the value's string id), filled by one pass over the pods
 * on nodes; a node is then judged in O(rules). The counting is this file's
 * own (only what a selector and a term's namespaces mean comes from
 * ss_rules.h), so explain is a third, independent reading of the contract
 * next to the engine and the verifier. Plain C, no globals. */
#include <stdlib.h>
#include <string.h>

#include "ss_explain.h"
#include "ss_match.h"
#include "ss_reason.h"
#include "ss_rules.h"

typedef struct {
    int32_t index; /* spread constraint or pod term index in the cluster */
    int32_t key;
    int32_t *cnt;   /* [n_strings] matching pods per topology value */
    uint8_t *edom;  /* spread: [n_strings] eligible domains */
    int32_t min;    /* spread: the minimum over eligible domains (minDomains applied) */
    int32_t n_edom; /* spread: eligible domains */
    int32_t self;   /* spread: the pod matches the selector itself */
    int kind;       /* pod terms: ss_podterm_kind */
    int any;        /* pod terms: some pod on a node with the key matches */
} rule_t;

/* Existing pods' required anti-affinity terms that match the pod, per key. */
typedef struct {
    int32_t key;
    int32_t *cnt;    /* [n_strings] repelling (pod, term) pairs per value */
    int32_t *holder; /* [n_strings] the first such pod per value, -1 */
} repel_t;

struct ss_explain_rules {
    const ss_cluster_t *c;
    ss_match_ctx_t mx;
    int32_t pod, tmpl, ns, nstr;
    const int32_t *on;
    rule_t *sp, *tm;
    int32_t n_sp, n_tm;
    repel_t *rp;
    int32_t n_rp, cap_rp;
    int exception; /* the first-pod exception of required affinity applies */
};

static int32_t label_of(const ss_explain_rules_t *r, int32_t node, int32_t key)
{
    int32_t v = -1;
    return ss_node_label(&r->mx, r->c, node, key, &v) ? v : -1;
}

static int32_t *new_counts(int32_t nstr, int32_t fill)
{
    int32_t *a = malloc((nstr > 0 ? (size_t)nstr : 1) * sizeof *a);
    if (a && fill == 0)
        memset(a, 0, (nstr > 0 ? (size_t)nstr : 1) * sizeof *a);
    else if (a)
        memset(a, 0xff, (nstr > 0 ? (size_t)nstr : 1) * sizeof *a); /* -1 */
    return a;
}

/* Spread eligibility of node for constraint s (filter 1 of the contract). */
static bool eligible(const ss_explain_rules_t *r, const ss_spread_t *s, int32_t node)
{
    const ss_cluster_t *c = r->c;
    const ss_template_t *t = &c->templates[r->tmpl];
    for (int32_t i = t->spread_begin; i < t->spread_begin + t->spread_count; i++)
        if (c->spreads[i].when == SS_WHEN_DO_NOT_SCHEDULE &&
            label_of(r, node, c->spreads[i].key) < 0)
            return false;
    if (s->node_affinity_policy == SS_INCL_HONOR &&
        (!ss_match_node_selector(&r->mx, c, r->tmpl, node) ||
         !ss_match_required_affinity(&r->mx, c, r->tmpl, node)))
        return false;
    if (s->node_taints_policy == SS_INCL_HONOR && !ss_match_taints(&r->mx, c, r->tmpl, node, NULL))
        return false;
    return true;
}

static int build_spread(ss_explain_rules_t *r, rule_t *k)
{
    const ss_cluster_t *c = r->c;
    const ss_spread_t *s = &c->spreads[k->index];
    uint8_t *elig = calloc(c->n_nodes > 0 ? (size_t)c->n_nodes : 1, 1);
    k->cnt = new_counts(r->nstr, 0);
    k->edom = calloc(r->nstr > 0 ? (size_t)r->nstr : 1, 1);
    if (!elig || !k->cnt || !k->edom) {
        free(elig);
        return SS_ENOMEM;
    }
    for (int32_t n = 0; n < c->n_nodes; n++) {
        int32_t v = label_of(r, n, k->key);
        if (v >= 0 && eligible(r, s, n)) {
            elig[n] = 1;
            k->n_edom += !k->edom[v];
            k->edom[v] = 1;
        }
    }
    for (int32_t q = 0; q < c->n_pods; q++) {
        int32_t n = r->on[q];
        if (n >= 0 && elig[n] && c->pod_ns[q] == r->ns && ss_sel_match_pod(c, &s->sel, q))
            k->cnt[label_of(r, n, k->key)]++;
    }
    k->min = -1;
    for (int32_t v = 0; v < r->nstr; v++)
        if (k->edom[v] && (k->min < 0 || k->cnt[v] < k->min))
            k->min = k->cnt[v];
    if (k->min < 0 || k->n_edom < s->min_domains)
        k->min = 0;
    k->self = ss_sel_match_pod(c, &s->sel, r->pod);
    free(elig);
    return 0;
}

static int build_term(ss_explain_rules_t *r, rule_t *k)
{
    const ss_cluster_t *c = r->c;
    const ss_podterm_t *pt = &c->pterms[k->index];
    if (!(k->cnt = new_counts(r->nstr, 0)))
        return SS_ENOMEM;
    for (int32_t q = 0; q < c->n_pods; q++) {
        int32_t n = r->on[q], v = n >= 0 ? label_of(r, n, k->key) : -1;
        if (v >= 0 && ss_pterm_matches_pod(c, pt, r->ns, q)) {
            k->cnt[v]++;
            k->any = 1;
        }
    }
    return 0;
}

static repel_t *repel_for(ss_explain_rules_t *r, int32_t key)
{
    for (int32_t i = 0; i < r->n_rp; i++)
        if (r->rp[i].key == key)
            return &r->rp[i];
    if (r->n_rp == r->cap_rp) {
        int32_t cap = r->cap_rp ? 2 * r->cap_rp : 4;
        repel_t *n = realloc(r->rp, (size_t)cap * sizeof *n);
        if (!n)
            return NULL;
        r->rp = n, r->cap_rp = cap;
    }
    repel_t *x = &r->rp[r->n_rp];
    x->key = key;
    x->cnt = new_counts(r->nstr, 0);
    x->holder = new_counts(r->nstr, -1);
    r->n_rp++; /* owned from here on */
    return x->cnt && x->holder ? x : NULL;
}

/* Filter 4: every pod on a node whose required anti-affinity term matches
 * the pod marks its node's value of the term's key. */
static int build_repel(ss_explain_rules_t *r)
{
    const ss_cluster_t *c = r->c;
    for (int32_t e = 0; e < c->n_pods; e++) {
        if (r->on[e] < 0)
            continue;
        const ss_template_t *t = &c->templates[c->pod_template[e]];
        for (int32_t i = t->pterm_begin; i < t->pterm_begin + t->pterm_count; i++) {
            const ss_podterm_t *pt = &c->pterms[i];
            if (pt->kind != SS_PT_ANTI_AFFINITY || pt->weight != 0 ||
                !ss_pterm_matches_pod(c, pt, c->pod_ns[e], r->pod))
                continue;
            int32_t v = label_of(r, r->on[e], pt->key);
            if (v < 0)
                continue;
            repel_t *x = repel_for(r, pt->key);
            if (!x)
                return SS_ENOMEM;
            x->cnt[v]++;
            if (x->holder[v] < 0)
                x->holder[v] = e;
        }
    }
    return 0;
}

/* The first-pod exception (filter 2): no pod on a node with a term's key
 * matches any required affinity term, and the pod matches all of them. */
static void decide_exception(ss_explain_rules_t *r)
{
    bool some = false, own = true;
    for (int32_t i = 0; i < r->n_tm; i++) {
        if (r->tm[i].kind != SS_PT_AFFINITY)
            continue;
        some = some || r->tm[i].any;
        own = own && ss_pterm_matches_pod(r->c, &r->c->pterms[r->tm[i].index], r->ns, r->pod);
    }
    r->exception = !some && own;
}

static int build(ss_explain_rules_t *r)
{
    const ss_cluster_t *c = r->c;
    const ss_template_t *t = &c->templates[r->tmpl];
    size_t ns = t->spread_count > 0 ? (size_t)t->spread_count : 1;
    size_t nt = t->pterm_count > 0 ? (size_t)t->pterm_count : 1;
    r->sp = calloc(ns, sizeof *r->sp);
    r->tm = calloc(nt, sizeof *r->tm);
    if (!r->sp || !r->tm)
        return SS_ENOMEM;
    for (int32_t i = t->spread_begin; i < t->spread_begin + t->spread_count; i++) {
        if (c->spreads[i].when != SS_WHEN_DO_NOT_SCHEDULE)
            continue;
        rule_t *k = &r->sp[r->n_sp++];
        k->index = i, k->key = c->spreads[i].key;
        if (build_spread(r, k) < 0)
            return SS_ENOMEM;
    }
    for (int32_t i = t->pterm_begin; i < t->pterm_begin + t->pterm_count; i++) {
        if (c->pterms[i].weight != 0)
            continue;
        rule_t *k = &r->tm[r->n_tm++];
        k->index = i, k->key = c->pterms[i].key, k->kind = c->pterms[i].kind;
        if (build_term(r, k) < 0)
            return SS_ENOMEM;
    }
    decide_exception(r);
    return build_repel(r);
}

int ss_explain_rules_create(const ss_cluster_t *c, const int32_t *on, int32_t pod,
                            ss_explain_rules_t **out, ss_error_t *err)
{
    *out = NULL;
    if (pod < 0 || pod >= c->n_pods)
        return ss_error_set(err, SS_EINVAL, "explain: pod %d out of range", pod);
    ss_explain_rules_t *r = calloc(1, sizeof *r);
    if (!r)
        return ss_error_set(err, SS_ENOMEM, "explain: out of memory for the inter-pod rules");
    r->c = c, r->on = on, r->pod = pod, r->tmpl = c->pod_template[pod], r->ns = c->pod_ns[pod];
    r->nstr = ss_strtab_count(c->strings);
    ss_match_ctx_init(&r->mx, c);
    if (build(r) < 0) {
        ss_explain_rules_destroy(r);
        return ss_error_set(err, SS_ENOMEM, "explain: out of memory counting the inter-pod rules");
    }
    *out = r;
    return 0;
}

void ss_explain_rules_destroy(ss_explain_rules_t *r)
{
    if (!r)
        return;
    for (int32_t i = 0; i < r->n_sp; i++)
        free(r->sp[i].cnt), free(r->sp[i].edom);
    for (int32_t i = 0; i < r->n_tm; i++)
        free(r->tm[i].cnt);
    for (int32_t i = 0; i < r->n_rp; i++)
        free(r->rp[i].cnt), free(r->rp[i].holder);
    free(r->sp), free(r->tm), free(r->rp), free(r);
}

int32_t ss_explain_rules_detail(const ss_explain_rules_t *r, int32_t node, ss_explain_rule_t *out,
                                int32_t cap)
{
    const ss_cluster_t *c = r->c;
    int32_t n = 0;
    for (int32_t i = 0; i < r->n_sp; i++, n++) {
        const rule_t *k = &r->sp[i];
        int32_t v = label_of(r, node, k->key), cnt = v >= 0 ? k->cnt[v] : 0;
        ss_explain_rule_t x = {SS_XRULE_SPREAD,
                               k->index,
                               k->key,
                               v,
                               cnt,
                               k->self,
                               k->min,
                               cnt + k->self - k->min,
                               c->spreads[k->index].max_skew,
                               k->n_edom,
                               -1,
                               0,
                               0};
        x.ok = v >= 0 && x.skew <= x.max_skew;
        if (n < cap)
            out[n] = x;
    }
    for (int32_t i = 0; i < r->n_tm; i++, n++) {
        const rule_t *k = &r->tm[i];
        int32_t v = label_of(r, node, k->key), cnt = v >= 0 ? k->cnt[v] : 0;
        bool anti = k->kind == SS_PT_ANTI_AFFINITY;
        ss_explain_rule_t x = {anti ? SS_XRULE_ANTI : SS_XRULE_AFFINITY,
                               k->index,
                               k->key,
                               v,
                               cnt,
                               0,
                               0,
                               0,
                               0,
                               0,
                               -1,
                               0,
                               0};
        x.exception = !anti && cnt == 0 && r->exception;
        x.ok = anti ? cnt == 0 : v >= 0 && (cnt > 0 || x.exception);
        if (n < cap)
            out[n] = x;
    }
    for (int32_t i = 0; i < r->n_rp; i++, n++) {
        const repel_t *k = &r->rp[i];
        int32_t v = label_of(r, node, k->key), cnt = v >= 0 ? k->cnt[v] : 0;
        ss_explain_rule_t x = {SS_XRULE_EXISTING,          -1, k->key,  v, cnt, 0, 0, 0, 0, 0,
                               v >= 0 ? k->holder[v] : -1, 0,  cnt == 0};
        if (n < cap)
            out[n] = x;
    }
    return n;
}

int ss_explain_rules_check(const ss_explain_rules_t *r, int32_t node)
{
    /* kube's plugin order: PodTopologySpread (per constraint: the missing
     * key, then the skew), then InterPodAffinity (affinity, anti-affinity,
     * existing pods' anti-affinity). */
    for (int32_t i = 0; i < r->n_sp; i++) {
        const rule_t *k = &r->sp[i];
        int32_t v = label_of(r, node, k->key);
        if (v < 0)
            return SS_REASON_SPREAD_LABEL;
        if (k->cnt[v] + k->self - k->min > r->c->spreads[k->index].max_skew)
            return SS_REASON_SPREAD;
    }
    bool missing = false;
    for (int32_t i = 0; i < r->n_tm; i++) {
        const rule_t *k = &r->tm[i];
        if (k->kind != SS_PT_AFFINITY)
            continue;
        int32_t v = label_of(r, node, k->key);
        if (v < 0)
            return SS_REASON_POD_AFFINITY; /* every key must be there */
        missing = missing || k->cnt[v] == 0;
    }
    if (missing && !r->exception)
        return SS_REASON_POD_AFFINITY;
    for (int32_t i = 0; i < r->n_tm; i++) {
        const rule_t *k = &r->tm[i];
        int32_t v = k->kind == SS_PT_ANTI_AFFINITY ? label_of(r, node, k->key) : -1;
        if (v >= 0 && k->cnt[v] > 0)
            return SS_REASON_POD_ANTI_AFFINITY;
    }
    for (int32_t i = 0; i < r->n_rp; i++) {
        int32_t v = label_of(r, node, r->rp[i].key);
        if (v >= 0 && r->rp[i].cnt[v] > 0)
            return SS_REASON_EXISTING_ANTI_AFFINITY;
    }
    return SS_REASON_NONE;
}

bool ss_explain_rules_any(const ss_explain_rules_t *r)
{
    return r && (r->n_sp > 0 || r->n_tm > 0 || r->n_rp > 0);
}

/* ---- the state: pods on nodes ---- */

/* Row of pod in p (p->pod is increasing), or -1. */
static int32_t row_of(const ss_placements_t *p, int32_t pod)
{
    int32_t lo = 0, hi = p->n;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (p->pod[mid] < pod)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < p->n && p->pod[lo] == pod ? lo : -1;
}

/* Removes (on[x] = -1) the victims whose preemptor has committed: those of
 * every included row, of the pod's own row when placed (it was judged after
 * its victims left), and, since a gang preempts as one unit, of every row of
 * a group one of those belongs to. Returns 0 or SS_ENOMEM. */
static int remove_victims(const ss_cluster_t *c, const ss_placements_t *p, const uint8_t *inc,
                          int32_t self_row, int32_t *on)
{
    uint8_t *ggone = calloc(c->n_groups > 0 ? (size_t)c->n_groups : 1, 1);
    if (!ggone)
        return SS_ENOMEM;
    for (int32_t r = 0; r < p->n; r++) {
        int32_t g = c->pod_group[p->pod[r]];
        if (g >= 0 && p->node[r] >= 0 && (inc[r] || r == self_row))
            ggone[g] = 1;
    }
    for (int32_t i = 0; i < p->n_victims; i++) {
        int32_t row = p->victim_row[i], x = p->victim_pod[i];
        if (row < 0 || row >= p->n || x < 0 || x >= c->n_pods || p->node[row] < 0)
            continue;
        int32_t g = c->pod_group[p->pod[row]];
        if (inc[row] || row == self_row || (g >= 0 && ggone[g]))
            on[x] = -1;
    }
    free(ggone);
    return 0;
}

int ss_explain_on(const ss_cluster_t *c, const ss_placements_t *p, const int32_t *order,
                  int32_t n_order, int32_t pod, int32_t *on, int32_t *position, ss_error_t *err)
{
    int32_t pos = -1, self = row_of(p, pod);
    for (int32_t i = 0; i < n_order && pos < 0; i++) {
        if (order[i] < 0 || order[i] >= c->n_pods || row_of(p, order[i]) < 0)
            return ss_error_set(err, SS_EINVAL,
                                "explain: queue entry %d (pod %d) has no row in the placements", i,
                                order[i]);
        if (order[i] == pod)
            pos = i;
    }
    if (pos < 0 || self < 0)
        return ss_error_set(err, SS_ENOTFOUND, "explain: pod %d is not in the queue", pod);
    uint8_t *inc = calloc(p->n > 0 ? (size_t)p->n : 1, 1);
    if (!inc)
        return ss_error_set(err, SS_ENOMEM, "explain: out of memory for %d rows", p->n);
    /* The commit position at which the pod was (last) tried: its own when
     * placed; otherwise right after the last commit of a pod before it in
     * the queue. */
    int32_t cut = 0;
    if (p->node[self] >= 0 && p->seq[self] >= 0)
        cut = p->seq[self];
    else
        for (int32_t i = 0; i < pos; i++) {
            int32_t r = row_of(p, order[i]);
            if (p->node[r] >= 0 && p->seq[r] >= cut)
                cut = p->seq[r] + 1;
        }
    for (int32_t r = 0; r < p->n; r++)
        inc[r] = p->node[r] >= 0 && p->seq[r] >= 0 && p->seq[r] < cut;
    for (int32_t q = 0; q < c->n_pods; q++)
        on[q] = c->pod_node[q];
    if (remove_victims(c, p, inc, self, on) < 0) {
        free(inc);
        return ss_error_set(err, SS_ENOMEM, "explain: out of memory for %d groups", c->n_groups);
    }
    for (int32_t r = 0; r < p->n; r++)
        if (inc[r])
            on[p->pod[r]] = p->node[r];
    free(inc);
    if (position)
        *position = pos;
    return 0;
}

ss_state_t *ss_explain_state_on(const ss_cluster_t *c, const ss_placements_t *p, const int32_t *on)
{
    ss_state_t *s = ss_state_create(c);
    if (!s)
        return NULL;
    for (int32_t q = 0; q < c->n_pods; q++)
        if (c->pod_node[q] >= 0 && on[q] < 0) /* a victim gone */
            ss_state_apply(s, &c->templates[c->pod_template[q]], c->pod_node[q], c->pod_gpu_mask[q],
                           -1);
    for (int32_t r = 0; r < p->n; r++) {
        int32_t q = p->pod[r];
        if (c->pod_node[q] < 0 && on[q] >= 0)
            ss_state_apply(s, &c->templates[c->pod_template[q]], on[q], p->gpu_mask[r], +1);
    }
    return s;
}
