/* ss_exhaustive_rules: the inter-pod rules of the naive reference
 * (docs/kubernetes.md, "Inter-pod rules"): for the pod being placed, every
 * topology domain of every rule is recounted from the list of pods on nodes
 * (ss_exh_t.where), then each node is filtered and scored from those counts.
 * Only what a selector means is shared (ss_rules.h); the counting is this
 * file's own, so that it can check the fast engine's. */
#include <stdlib.h>
#include <string.h>

#include "ss_exhaustive_int.h"
#include "ss_reason.h"
#include "ss_rules.h"
#include "ss_sched_class.h"

#define EXH_SPREAD_CAP 50      /* a domain saturates at 50 matching pods */
#define EXH_SPREAD_WEIGHT 2    /* -2 x min(cnt, 50) per ScheduleAnyway constraint */
#define EXH_AFFINITY_SCALE 200 /* 2 x 100 x (matched - anti) / total */
#define EXH_LOCALITY_BONUS 300
#define EXH_HOST_KEY SS_EXH_HOST_KEY

/* Label `key` of node (hostname implied), from the index when it has key. */
static bool node_value(const ss_exh_t *r, int32_t node, int32_t key, int32_t *v)
{
    for (int32_t i = 0; i < r->n_keys; i++)
        if (r->keys[i] == key) {
            *v = r->keyvals[i][node];
            return *v >= 0;
        }
    if (key == EXH_HOST_KEY) {
        *v = r->c->node_name[node];
        return true;
    }
    return ss_node_label(&r->mx, r->c, node, key, v);
}

static int add_key(ss_exh_t *r, int32_t key)
{
    for (int32_t i = 0; i < r->n_keys; i++)
        if (r->keys[i] == key)
            return 0;
    if (r->n_keys == SS_EXH_MAX_KEYS || (key < 0 && key != EXH_HOST_KEY))
        return 0; /* read from the labels each time */
    int32_t *vals = malloc((r->c->n_nodes > 0 ? (size_t)r->c->n_nodes : 1) * sizeof *vals);
    if (!vals)
        return SS_ENOMEM;
    for (int32_t n = 0; n < r->c->n_nodes; n++)
        if (!node_value(r, n, key, &vals[n]))
            vals[n] = -1;
    r->keys[r->n_keys] = key;
    r->keyvals[r->n_keys++] = vals;
    return 0;
}

typedef struct {
    int32_t workload, ns, pod;
} wl_t;

static int cmp_wl(const void *a, const void *b)
{
    const wl_t *x = a, *y = b;
    if (x->workload != y->workload)
        return x->workload < y->workload ? -1 : 1;
    if (x->ns != y->ns)
        return x->ns < y->ns ? -1 : 1;
    return (x->pod > y->pod) - (x->pod < y->pod);
}

static int running_by_node(ss_exh_t *r)
{
    const ss_cluster_t *c = r->c;
    r->run_first = calloc((size_t)c->n_nodes + 1, sizeof *r->run_first);
    r->run_pods = malloc((c->n_pods > 0 ? (size_t)c->n_pods : 1) * sizeof *r->run_pods);
    if (!r->run_first || !r->run_pods)
        return SS_ENOMEM;
    for (int32_t q = 0; q < c->n_pods; q++)
        if (c->pod_node[q] >= 0)
            r->run_first[c->pod_node[q] + 1]++;
    for (int32_t n = 0; n < c->n_nodes; n++)
        r->run_first[n + 1] += r->run_first[n];
    int32_t *fill = malloc(((size_t)c->n_nodes + 1) * sizeof *fill);
    if (!fill)
        return SS_ENOMEM;
    memcpy(fill, r->run_first, ((size_t)c->n_nodes + 1) * sizeof *fill);
    for (int32_t q = 0; q < c->n_pods; q++)
        if (c->pod_node[q] >= 0)
            r->run_pods[fill[c->pod_node[q]]++] = q;
    free(fill);
    return 0;
}

int ss_exh_index(ss_exh_t *r)
{
    const ss_cluster_t *c = r->c;
    int rc = add_key(r, r->mx.hostname >= 0 ? r->mx.hostname : EXH_HOST_KEY);
    if (!rc && r->mx.zone >= 0)
        rc = add_key(r, r->mx.zone);
    for (int32_t i = 0; i < c->n_spreads && !rc; i++)
        rc = add_key(r, c->spreads[i].key);
    for (int32_t i = 0; i < c->n_pterms && !rc; i++)
        rc = add_key(r, c->pterms[i].key);
    size_t np = c->n_pods > 0 ? (size_t)c->n_pods : 1;
    wl_t *w = malloc(np * sizeof *w);
    r->wl_pods = malloc(np * sizeof *r->wl_pods);
    r->wl_first = malloc(np * sizeof *r->wl_first);
    r->wl_count = malloc(np * sizeof *r->wl_count);
    if (rc || !w || !r->wl_pods || !r->wl_first || !r->wl_count) {
        free(w);
        return SS_ENOMEM;
    }
    for (int32_t q = 0; q < c->n_pods; q++)
        w[q] = (wl_t){c->templates[c->pod_template[q]].workload, c->pod_ns[q], q};
    qsort(w, (size_t)c->n_pods, sizeof *w, cmp_wl);
    for (int32_t i = 0; i < c->n_pods;) {
        int32_t j = i;
        while (j < c->n_pods && w[j].workload == w[i].workload && w[j].ns == w[i].ns)
            j++;
        for (int32_t k = i; k < j; k++) {
            r->wl_pods[k] = w[k].pod;
            r->wl_first[w[k].pod] = i;
            r->wl_count[w[k].pod] = j - i;
        }
        i = j;
    }
    free(w);
    return running_by_node(r);
}

void ss_exh_index_free(ss_exh_t *r)
{
    for (int32_t i = 0; i < r->n_keys; i++)
        free(r->keyvals[i]);
    r->n_keys = 0;
    free(r->wl_pods);
    free(r->wl_first);
    free(r->wl_count);
    free(r->run_pods);
    free(r->run_first);
}

enum { M_SPREAD, M_WORKLOAD, M_TERM };
typedef struct {
    int kind;
    const ss_selector_t *sel; /* M_SPREAD */
    const ss_podterm_t *term; /* M_TERM */
    int32_t pod;              /* the pod being placed */
} matcher_t;

static bool matches(const ss_cluster_t *c, const matcher_t *m, int32_t q)
{
    switch (m->kind) {
    case M_SPREAD:
        return c->pod_ns[q] == c->pod_ns[m->pod] && ss_sel_match_pod(c, m->sel, q);
    case M_WORKLOAD:
        return ss_default_spread_matches(c, m->pod, q);
    default:
        return ss_pterm_matches_pod(c, m->term, c->pod_ns[m->pod], q);
    }
}

/* cnt[n] = pods matching m on the nodes of n's domain of key (only nodes
 * with elig[] set count, elig NULL: all), -1 where n has no such label. */
static void domain_counts(const ss_exh_t *r, int32_t key, const uint8_t *elig, const matcher_t *m,
                          int32_t *cnt)
{
    const ss_cluster_t *c = r->c;
    int32_t v;
    bool wl = m->kind == M_WORKLOAD; /* only the workload's own pods can match */
    int32_t nq = wl ? r->wl_count[m->pod] : c->n_pods;
    for (int32_t i = 0; i < nq; i++) {
        int32_t q = wl ? r->wl_pods[r->wl_first[m->pod] + i] : i, n = r->where[q];
        if (n >= 0 && (!elig || elig[n]) && node_value(r, n, key, &v) && matches(c, m, q))
            r->scratch[v]++;
    }
    for (int32_t n = 0; n < c->n_nodes; n++)
        cnt[n] = node_value(r, n, key, &v) ? r->scratch[v] : -1;
    for (int32_t n = 0; n < c->n_nodes; n++)
        if (node_value(r, n, key, &v))
            r->scratch[v] = 0;
}

static ss_exh_rule_t *add_rule(ss_exh_prep_t *p, int kind, int32_t key, int32_t n_nodes)
{
    if (p->n_rules == p->cap_rules) {
        int nc = p->cap_rules ? 2 * p->cap_rules : 8;
        ss_exh_rule_t *a = realloc(p->rules, (size_t)nc * sizeof *a);
        if (!a)
            return NULL;
        p->rules = a;
        p->cap_rules = nc;
    }
    ss_exh_rule_t *x = &p->rules[p->n_rules];
    memset(x, 0, sizeof *x);
    x->cnt = malloc((n_nodes > 0 ? (size_t)n_nodes : 1) * sizeof *x->cnt);
    if (!x->cnt)
        return NULL;
    p->n_rules++;
    x->kind = kind;
    x->key = key;
    return x;
}

/* Eligible nodes of DoNotSchedule constraint s: every DoNotSchedule key of
 * the template, and node affinity / taints when the policies say Honor. */
static void spread_eligible(ss_exh_t *r, int32_t t, const ss_spread_t *s)
{
    const ss_cluster_t *c = r->c;
    const ss_template_t *tp = &c->templates[t];
    for (int32_t n = 0; n < c->n_nodes; n++) {
        bool ok = true;
        int32_t v;
        for (int32_t i = 0; i < tp->spread_count && ok; i++) {
            const ss_spread_t *o = &c->spreads[tp->spread_begin + i];
            ok = o->when != SS_WHEN_DO_NOT_SCHEDULE || node_value(r, n, o->key, &v);
        }
        if (ok && s->node_affinity_policy == SS_INCL_HONOR)
            ok = ss_match_node_selector(&r->mx, c, t, n) &&
                 ss_match_required_affinity(&r->mx, c, t, n);
        if (ok && s->node_taints_policy == SS_INCL_HONOR)
            ok = ss_match_taints(&r->mx, c, t, n, NULL) == 1;
        r->elig[n] = ok;
    }
}

/* min over eligible domains of cnt, 0 when fewer than min_domains. */
static int32_t spread_min(ss_exh_t *r, const int32_t *cnt, int32_t key, int32_t min_domains)
{
    const ss_cluster_t *c = r->c;
    int32_t min = INT32_MAX, domains = 0, v;
    for (int32_t n = 0; n < c->n_nodes; n++) {
        if (!r->elig[n] || !node_value(r, n, key, &v))
            continue;
        if (!r->scratch[v]) {
            r->scratch[v] = 1;
            domains++;
        }
        if (cnt[n] < min)
            min = cnt[n];
    }
    for (int32_t n = 0; n < c->n_nodes; n++)
        if (r->elig[n] && node_value(r, n, key, &v))
            r->scratch[v] = 0;
    return domains < min_domains || domains == 0 ? 0 : min;
}

static bool default_spread(const ss_exh_t *r, int32_t t)
{
    const ss_template_t *tp = &r->c->templates[t];
    return r->o.default_spreading == SS_SPREAD_DEFAULT_SYSTEM && tp->spread_count == 0 &&
           (tp->flags & SS_TF_CONTROLLER) && !(tp->flags & SS_TF_DAEMONSET) && tp->workload > 0;
}

static int prep_spreads(ss_exh_t *r, ss_exh_prep_t *p, int32_t t)
{
    const ss_cluster_t *c = r->c;
    const ss_template_t *tp = &c->templates[t];
    for (int32_t i = 0; i < tp->spread_count; i++) {
        const ss_spread_t *s = &c->spreads[tp->spread_begin + i];
        bool hard = s->when == SS_WHEN_DO_NOT_SCHEDULE;
        ss_exh_rule_t *x =
            add_rule(p, hard ? EXH_SPREAD_HARD : EXH_SPREAD_SOFT, s->key, c->n_nodes);
        if (!x)
            return SS_ENOMEM;
        matcher_t m = {M_SPREAD, &s->sel, NULL, p->pod};
        x->spread = s;
        x->max_skew = s->max_skew;
        if (hard) {
            spread_eligible(r, t, s);
            domain_counts(r, s->key, r->elig, &m, x->cnt);
            x->self = ss_sel_match_pod(c, &s->sel, p->pod);
            x->min = spread_min(r, x->cnt, s->key, s->min_domains);
        } else {
            domain_counts(r, s->key, NULL, &m, x->cnt);
        }
    }
    if (default_spread(r, t)) {
        int32_t keys[2] = {r->mx.hostname >= 0 ? r->mx.hostname : EXH_HOST_KEY, r->mx.zone};
        matcher_t m = {M_WORKLOAD, NULL, NULL, p->pod};
        for (int k = 0; k < 2; k++) {
            ss_exh_rule_t *x = add_rule(p, EXH_SPREAD_SOFT, keys[k], c->n_nodes);
            if (!x)
                return SS_ENOMEM;
            x->max_skew = k == 0 ? SS_DEFAULT_SPREAD_HOST_SKEW : SS_DEFAULT_SPREAD_ZONE_SKEW;
            domain_counts(r, keys[k], NULL, &m, x->cnt);
        }
    }
    return 0;
}

/* The pod's own terms, and the first-pod-of-a-group exception. */
static int prep_terms(ss_exh_t *r, ss_exh_prep_t *p, int32_t t)
{
    const ss_cluster_t *c = r->c;
    const ss_template_t *tp = &c->templates[t];
    int32_t ns = c->pod_ns[p->pod];
    bool any_required = false, self_all = true;
    for (int32_t i = 0; i < tp->pterm_count; i++) {
        const ss_podterm_t *term = &c->pterms[tp->pterm_begin + i];
        int kind = term->weight == 0
                       ? (term->kind == SS_PT_AFFINITY ? EXH_AFFINITY : EXH_ANTI_AFFINITY)
                       : (term->kind == SS_PT_AFFINITY ? EXH_PREF_AFFINITY : EXH_PREF_ANTI);
        ss_exh_rule_t *x = add_rule(p, kind, term->key, c->n_nodes);
        if (!x)
            return SS_ENOMEM;
        matcher_t m = {M_TERM, NULL, term, p->pod};
        x->term = term;
        x->weight = term->weight;
        domain_counts(r, term->key, NULL, &m, x->cnt);
        if (kind == EXH_AFFINITY) {
            any_required = true;
            self_all = self_all && ss_pterm_matches_pod(c, term, ns, p->pod);
        }
    }
    if (!any_required || !self_all)
        return 0;
    /* Waived when no pod on a node with a term's key matches that term
     * (docs/kubernetes.md: each term on its own). */
    for (int32_t q = 0; q < c->n_pods; q++) {
        if (r->where[q] < 0)
            continue;
        for (int32_t i = 0; i < tp->pterm_count; i++) {
            const ss_podterm_t *term = &c->pterms[tp->pterm_begin + i];
            int32_t v;
            if (term->weight == 0 && term->kind == SS_PT_AFFINITY &&
                ss_pterm_matches_pod(c, term, ns, q) && node_value(r, r->where[q], term->key, &v))
                return 0;
        }
    }
    p->affinity_waived = 1;
    return 0;
}

static int push_sym(ss_exh_sym_t **a, int32_t *n, int32_t *cap, ss_exh_sym_t s)
{
    if (*n == *cap) {
        int32_t nc = *cap ? 2 * *cap : 16;
        ss_exh_sym_t *b = realloc(*a, (size_t)nc * sizeof *b);
        if (!b)
            return SS_ENOMEM;
        *a = b;
        *cap = nc;
    }
    (*a)[(*n)++] = s;
    return 0;
}

static int cmp_sym(const void *a, const void *b)
{
    const ss_exh_sym_t *x = a, *y = b;
    if (x->pterm != y->pterm)
        return x->pterm < y->pterm ? -1 : 1;
    if (x->ns != y->ns)
        return x->ns < y->ns ? -1 : 1;
    return (x->value > y->value) - (x->value < y->value);
}

/* Terms of pods on nodes that match the pod (the symmetric rules). */
static int prep_symmetric(ss_exh_t *r, ss_exh_prep_t *p)
{
    const ss_cluster_t *c = r->c;
    for (int32_t i = 0; i < r->n_termpods; i++) {
        int32_t e = r->termpods[i], node = r->where[e];
        if (node < 0)
            continue;
        const ss_template_t *te = &c->templates[c->pod_template[e]];
        for (int32_t k = 0; k < te->pterm_count; k++) {
            int32_t ti = te->pterm_begin + k, v;
            const ss_podterm_t *term = &c->pterms[ti];
            if (!node_value(r, node, term->key, &v) ||
                !ss_pterm_matches_pod(c, term, c->pod_ns[e], p->pod))
                continue;
            ss_exh_sym_t s = {ti, c->pod_ns[e], term->key, v};
            int rc = term->weight == 0 && term->kind == SS_PT_ANTI_AFFINITY
                         ? push_sym(&p->anti, &p->n_anti, &p->cap_anti, s)
                         : push_sym(&p->sym, &p->n_sym, &p->cap_sym, s);
            if (rc)
                return rc;
        }
    }
    if (p->n_sym > 1)
        qsort(p->sym, (size_t)p->n_sym, sizeof *p->sym, cmp_sym);
    return 0;
}

/* The zone holding the most pods of the pod's workload (ties: the zone of
 * the lowest node index), -1 when none runs or locality is off. */
static int32_t locality_zone(ss_exh_t *r, int32_t pod)
{
    const ss_cluster_t *c = r->c;
    const ss_template_t *tp = &c->templates[c->pod_template[pod]];
    if (r->o.locality != SS_LOCALITY_ZONE || tp->workload <= 0 || r->mx.zone < 0)
        return -1;
    int32_t v, best = -1, most = 0;
    for (int32_t i = 0; i < r->wl_count[pod]; i++) {
        int32_t q = r->wl_pods[r->wl_first[pod] + i];
        if (r->where[q] >= 0 && ss_default_spread_matches(c, pod, q) &&
            node_value(r, r->where[q], r->mx.zone, &v))
            r->scratch[v]++;
    }
    for (int32_t n = 0; n < c->n_nodes; n++)
        if (node_value(r, n, r->mx.zone, &v) && r->scratch[v] > most) {
            most = r->scratch[v];
            best = v;
        }
    for (int32_t n = 0; n < c->n_nodes; n++)
        if (node_value(r, n, r->mx.zone, &v))
            r->scratch[v] = 0;
    return best;
}

int ss_exh_prep(ss_exh_t *r, int32_t pod, ss_exh_prep_t *p)
{
    ss_exh_prep_free(p);
    p->pod = pod;
    int32_t t = r->c->pod_template[pod];
    int rc = prep_spreads(r, p, t);
    if (!rc)
        rc = prep_terms(r, p, t);
    if (!rc)
        rc = prep_symmetric(r, p);
    p->locality_zone = locality_zone(r, pod);
    p->has_rules = p->n_rules > 0 || p->n_anti > 0 || p->n_sym > 0 || p->locality_zone >= 0;
    return rc;
}

void ss_exh_prep_free(ss_exh_prep_t *p)
{
    for (int i = 0; i < p->n_rules; i++)
        free(p->rules[i].cnt);
    free(p->rules);
    free(p->anti);
    free(p->sym);
    memset(p, 0, sizeof *p);
    p->locality_zone = -1;
}

int ss_exh_rule_filter(const ss_exh_t *r, const ss_exh_prep_t *p, int32_t node)
{
    if (!p->has_rules)
        return SS_REASON_NONE;
    for (int i = 0; i < p->n_rules; i++) {
        const ss_exh_rule_t *x = &p->rules[i];
        if (x->kind != EXH_SPREAD_HARD)
            continue;
        if (x->cnt[node] < 0)
            return SS_REASON_SPREAD_LABEL;
        if ((int64_t)x->cnt[node] + x->self - x->min > x->max_skew)
            return SS_REASON_SPREAD;
    }
    for (int i = 0; i < p->n_rules; i++) /* waived: the node still needs the key */
        if (p->rules[i].kind == EXH_AFFINITY &&
            (p->affinity_waived ? p->rules[i].cnt[node] < 0 : p->rules[i].cnt[node] <= 0))
            return SS_REASON_POD_AFFINITY;
    for (int i = 0; i < p->n_rules; i++)
        if (p->rules[i].kind == EXH_ANTI_AFFINITY && p->rules[i].cnt[node] > 0)
            return SS_REASON_POD_ANTI_AFFINITY;
    for (int32_t i = 0; i < p->n_anti; i++) {
        int32_t v;
        if (node_value(r, node, p->anti[i].key, &v) && v == p->anti[i].value)
            return SS_REASON_EXISTING_ANTI_AFFINITY;
    }
    return SS_REASON_NONE;
}

/* 2 x 100 x (matched affinity - matched anti-affinity) / all weights. */
static int64_t affinity_score(const ss_exh_t *r, const ss_exh_prep_t *p, int32_t node)
{
    int64_t plus = 0, minus = 0, total = 0;
    for (int i = 0; i < p->n_rules; i++) {
        const ss_exh_rule_t *x = &p->rules[i];
        if (x->kind != EXH_PREF_AFFINITY && x->kind != EXH_PREF_ANTI)
            continue;
        total += x->weight;
        if (x->cnt[node] > 0)
            *(x->kind == EXH_PREF_AFFINITY ? &plus : &minus) += x->weight;
    }
    for (int32_t i = 0; i < p->n_sym;) {
        int32_t j = i;
        bool matched = false;
        for (; j < p->n_sym && p->sym[j].pterm == p->sym[i].pterm && p->sym[j].ns == p->sym[i].ns;
             j++) {
            int32_t v;
            matched = matched || (node_value(r, node, p->sym[j].key, &v) && v == p->sym[j].value);
        }
        const ss_podterm_t *term = &r->c->pterms[p->sym[i].pterm];
        int64_t w = term->weight == 0 ? 1 : term->weight; /* hardPodAffinityWeight 1 */
        total += w;
        if (matched)
            *(term->kind == SS_PT_AFFINITY ? &plus : &minus) += w;
        i = j;
    }
    return total ? EXH_AFFINITY_SCALE * (plus - minus) / total : 0;
}

int64_t ss_exh_rule_score(const ss_exh_t *r, const ss_exh_prep_t *p, int32_t node)
{
    if (!p->has_rules)
        return 0;
    int64_t spread = 0;
    for (int i = 0; i < p->n_rules; i++) {
        const ss_exh_rule_t *x = &p->rules[i];
        if (x->kind == EXH_SPREAD_SOFT)
            spread +=
                x->cnt[node] < 0 || x->cnt[node] > EXH_SPREAD_CAP ? EXH_SPREAD_CAP : x->cnt[node];
    }
    int64_t score = -EXH_SPREAD_WEIGHT * spread + affinity_score(r, p, node);
    int32_t v;
    if (p->locality_zone >= 0 && node_value(r, node, r->mx.zone, &v) && v == p->locality_zone)
        score += EXH_LOCALITY_BONUS;
    return score;
}

int ss_exh_filter(const ss_exh_t *r, const ss_exh_prep_t *p, int32_t pod, int32_t node)
{
    const ss_cluster_t *c = r->c;
    int32_t t = c->pod_template[pod];
    int64_t bonus = 0;
    int why = ss_static_eval(&r->mx, c, r->max_untolerated, t, node, &bonus);
    if (why == SS_REASON_NONE)
        why = ss_state_fit(r->st, &c->templates[t], node);
    if (why == SS_REASON_NONE)
        why = ss_exh_rule_filter(r, p, node);
    return why;
}
