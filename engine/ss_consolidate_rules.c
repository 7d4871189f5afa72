/* ss_consolidate_rules: exact per-domain counts of the running pods for the
 * consolidation planner's required inter-pod rules (ss_consolidate_rules.h).
 *
 * Running pods fall into classes (template, namespace): pods of one class
 * have the same labels, namespace and rules. Each rule of a class is one
 * counter set: a DoNotSchedule spread constraint counts the pods its
 * selector matches (in the class's namespace) on its eligible nodes per
 * domain, with a histogram of the eligible domains' counts so that the
 * minimum is kept in O(1) per move; a required affinity / anti-affinity
 * term counts the pods it matches per domain, and an anti-affinity term
 * also its owners per domain (the symmetric rule). Moving a pod updates the
 * rules that count its class. Semantics: docs/kubernetes.md "Inter-pod
 * rules" (filters 1-4), counted with this file's own code; verify --plan
 * recounts them with its own (engine/ss_verify_plan.c). */
#include "ss_consolidate_rules.h"

#include <stdlib.h>
#include <string.h>

#include "ss_error.h"
#include "ss_match.h"
#include "ss_rules.h"

enum { R_SPREAD, R_AFF, R_ANTI };

typedef struct {
    int kind;
    int32_t cls; /* owner class */
    int32_t key; /* index in keys */
    const ss_spread_t *s;
    const ss_podterm_t *pt;
    uint8_t *match; /* [n_cls] pods of that class count */
    int32_t *cnt;   /* [D] matching pods per domain (spread: on eligible nodes) */
    int32_t *own;   /* R_ANTI: [D] owner pods per domain */
    int64_t total;  /* matching pods on nodes with the key (spread: eligible ones) */
    uint8_t *elig;  /* R_SPREAD: [n_nodes] eligible node */
    int32_t *hist;  /* R_SPREAD: eligible domains by count */
    int32_t n_edom; /* R_SPREAD: eligible domains */
    int32_t min;    /* R_SPREAD: smallest count of an eligible domain */
    int32_t self;   /* R_SPREAD: the class's own pods match the selector */
    int32_t max_skew, min_domains;
} rule_t;

struct ss_consol_rules {
    const ss_cluster_t *c;
    int32_t n_cls, n_rules, n_keys;
    int32_t *cls;       /* [n_pods] class of a running pod, -1 pending */
    int32_t *rep;       /* [n_cls] a pod of the class */
    int32_t *cls_n;     /* [n_cls] its running pods */
    int32_t *at;        /* [n_pods] node counted, -1 lifted */
    int32_t *key_id;    /* [n_keys] string id */
    int32_t **dom;      /* [n_keys][n_nodes] dense domain, -1 no label */
    int32_t *ndom;      /* [n_keys] domains */
    rule_t *rules;      /* by owner class */
    int32_t *own_beg;   /* [n_cls + 1] rules owned, in rules */
    int32_t *m_beg, *m; /* CSR [n_cls]: rules that count the class */
    uint8_t *self_aff;  /* [n_cls] the class matches all its required affinity terms */
};

static bool checked_term(const ss_podterm_t *t, int32_t host)
{
    return t->weight == 0 && (t->kind == SS_PT_AFFINITY || t->key != host);
}

/* ---- classes and domains ---- */

static const ss_cluster_t *sort_c;
static int cmp_pod(const void *a, const void *b)
{
    int32_t p = *(const int32_t *)a, q = *(const int32_t *)b;
    int32_t tp = sort_c->pod_template[p], tq = sort_c->pod_template[q];
    if (tp != tq)
        return tp < tq ? -1 : 1;
    if (sort_c->pod_ns[p] != sort_c->pod_ns[q])
        return sort_c->pod_ns[p] < sort_c->pod_ns[q] ? -1 : 1;
    return (p > q) - (p < q);
}

static int classes(ss_consol_rules_t *r)
{
    const ss_cluster_t *c = r->c;
    size_t P = c->n_pods ? (size_t)c->n_pods : 1;
    int32_t *v = malloc(P * sizeof *v), n = 0;
    r->cls = malloc(P * sizeof *r->cls);
    r->at = malloc(P * sizeof *r->at);
    r->rep = malloc(P * sizeof *r->rep);
    r->cls_n = calloc(P, sizeof *r->cls_n);
    if (!v || !r->cls || !r->at || !r->rep || !r->cls_n) {
        free(v);
        return SS_ENOMEM;
    }
    for (int32_t q = 0; q < c->n_pods; q++) {
        r->cls[q] = -1;
        r->at[q] = c->pod_node[q];
        if (c->pod_node[q] >= 0)
            v[n++] = q;
    }
    sort_c = c;
    qsort(v, (size_t)n, sizeof *v, cmp_pod);
    for (int32_t i = 0; i < n; i++) {
        if (i == 0 || c->pod_template[v[i]] != c->pod_template[v[i - 1]] ||
            c->pod_ns[v[i]] != c->pod_ns[v[i - 1]])
            r->rep[r->n_cls++] = v[i];
        r->cls[v[i]] = r->n_cls - 1;
        r->cls_n[r->n_cls - 1]++;
    }
    free(v);
    return 0;
}

/* The index of key (a string id) in keys, added with its domains. */
static int32_t key_index(ss_consol_rules_t *r, const ss_match_ctx_t *mx, int32_t key,
                         int32_t *dense)
{
    const ss_cluster_t *c = r->c;
    for (int32_t i = 0; i < r->n_keys; i++)
        if (r->key_id[i] == key)
            return i;
    int32_t *d = malloc((c->n_nodes ? (size_t)c->n_nodes : 1) * sizeof *d), nd = 0, v;
    if (!d)
        return SS_ENOMEM;
    for (int32_t n = 0; n < c->n_nodes; n++) {
        d[n] = -1;
        if (ss_node_label(mx, c, n, key, &v) && v >= 0) {
            if (dense[v] < 0)
                dense[v] = nd++;
            d[n] = dense[v];
        }
    }
    for (int32_t n = 0; n < c->n_nodes; n++)
        if (ss_node_label(mx, c, n, key, &v) && v >= 0)
            dense[v] = -1;
    r->key_id[r->n_keys] = key;
    r->ndom[r->n_keys] = nd;
    r->dom[r->n_keys] = d;
    return r->n_keys++;
}

/* ---- rules ---- */

/* True iff pods of class k count for rule x. */
static bool counts(const ss_consol_rules_t *r, const rule_t *x, int32_t k)
{
    const ss_cluster_t *c = r->c;
    int32_t owner = r->rep[x->cls], q = r->rep[k];
    if (x->kind == R_SPREAD)
        return c->pod_ns[q] == c->pod_ns[owner] && ss_sel_match_pod(c, &x->s->sel, q);
    return ss_pterm_matches_pod(c, x->pt, c->pod_ns[owner], q);
}

/* The eligible nodes of spread rule x (docs/kubernetes.md, filter 1). */
static void spread_eligible(const ss_consol_rules_t *r, const ss_match_ctx_t *mx, rule_t *x)
{
    const ss_cluster_t *c = r->c;
    int32_t tm = c->pod_template[r->rep[x->cls]], v;
    const ss_template_t *t = &c->templates[tm];
    for (int32_t n = 0; n < c->n_nodes; n++) {
        bool ok = true;
        for (int32_t i = 0; i < t->spread_count && ok; i++) {
            const ss_spread_t *o = &c->spreads[t->spread_begin + i];
            ok = o->when != SS_WHEN_DO_NOT_SCHEDULE || ss_node_label(mx, c, n, o->key, &v);
        }
        if (ok && x->s->node_affinity_policy == SS_INCL_HONOR)
            ok = ss_match_node_selector(mx, c, tm, n) && ss_match_required_affinity(mx, c, tm, n);
        if (ok && x->s->node_taints_policy == SS_INCL_HONOR)
            ok = ss_match_taints(mx, c, tm, n, NULL) == 1;
        x->elig[n] = ok;
    }
}

static int add_rule(ss_consol_rules_t *r, const ss_match_ctx_t *mx, int32_t *dense, int kind,
                    int32_t k, const ss_spread_t *s, const ss_podterm_t *pt)
{
    rule_t *x = &r->rules[r->n_rules];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->cls = k;
    x->s = s;
    x->pt = pt;
    x->key = key_index(r, mx, s ? s->key : pt->key, dense);
    if (x->key < 0)
        return x->key;
    size_t D = r->ndom[x->key] ? (size_t)r->ndom[x->key] : 1;
    x->cnt = calloc(D, sizeof *x->cnt);
    x->own = kind == R_ANTI ? calloc(D, sizeof *x->own) : NULL;
    x->elig = kind == R_SPREAD ? calloc(r->c->n_nodes ? (size_t)r->c->n_nodes : 1, 1) : NULL;
    r->n_rules++;
    if (!x->cnt || (kind == R_ANTI && !x->own) || (kind == R_SPREAD && !x->elig))
        return SS_ENOMEM;
    if (kind == R_SPREAD) {
        x->max_skew = s->max_skew;
        x->min_domains = s->min_domains;
        spread_eligible(r, mx, x);
    }
    return 0;
}

/* The rules of every class, in class order. */
static int make_rules(ss_consol_rules_t *r, const ss_match_ctx_t *mx)
{
    const ss_cluster_t *c = r->c;
    int32_t nr = 0;
    for (int32_t k = 0; k < r->n_cls; k++) {
        const ss_template_t *t = &c->templates[c->pod_template[r->rep[k]]];
        for (int32_t i = 0; i < t->spread_count; i++)
            nr += c->spreads[t->spread_begin + i].when == SS_WHEN_DO_NOT_SCHEDULE;
        for (int32_t i = 0; i < t->pterm_count; i++)
            nr += checked_term(&c->pterms[t->pterm_begin + i], mx->hostname);
    }
    if (nr == 0)
        return 0;
    size_t S = (size_t)ss_strtab_count(c->strings) + 1;
    int32_t *dense = malloc(S * sizeof *dense);
    r->rules = calloc((size_t)nr, sizeof *r->rules);
    r->key_id = calloc((size_t)nr, sizeof *r->key_id);
    r->ndom = calloc((size_t)nr, sizeof *r->ndom);
    r->dom = calloc((size_t)nr, sizeof *r->dom);
    r->own_beg = calloc((size_t)r->n_cls + 1, sizeof *r->own_beg);
    int rc = dense && r->rules && r->key_id && r->ndom && r->dom && r->own_beg ? 0 : SS_ENOMEM;
    for (size_t i = 0; dense && i < S; i++)
        dense[i] = -1;
    for (int32_t k = 0; k < r->n_cls && rc == 0; k++) {
        const ss_template_t *t = &c->templates[c->pod_template[r->rep[k]]];
        r->own_beg[k] = r->n_rules;
        for (int32_t i = 0; i < t->spread_count && rc == 0; i++) {
            const ss_spread_t *s = &c->spreads[t->spread_begin + i];
            if (s->when == SS_WHEN_DO_NOT_SCHEDULE)
                rc = add_rule(r, mx, dense, R_SPREAD, k, s, NULL);
        }
        for (int32_t i = 0; i < t->pterm_count && rc == 0; i++) {
            const ss_podterm_t *pt = &c->pterms[t->pterm_begin + i];
            if (checked_term(pt, mx->hostname))
                rc = add_rule(r, mx, dense, pt->kind == SS_PT_AFFINITY ? R_AFF : R_ANTI, k, NULL,
                              pt);
        }
    }
    if (rc == 0)
        r->own_beg[r->n_cls] = r->n_rules;
    free(dense);
    return rc;
}

/* The rules that count each class (CSR), and each class's own affinity
 * self-match (the first-pod exception). */
static int match_lists(ss_consol_rules_t *r)
{
    size_t K = (size_t)r->n_cls;
    int64_t n = 0, cap = 64;
    r->m_beg = calloc(K + 1, sizeof *r->m_beg);
    r->m = malloc((size_t)cap * sizeof *r->m);
    r->self_aff = calloc(K ? K : 1, 1);
    if (!r->m_beg || !r->m || !r->self_aff)
        return SS_ENOMEM;
    for (int32_t i = 0; i < r->n_rules; i++) {
        rule_t *x = &r->rules[i];
        x->match = calloc(K ? K : 1, 1);
        if (!x->match)
            return SS_ENOMEM;
        for (int32_t k = 0; k < r->n_cls; k++)
            x->match[k] = counts(r, x, k);
        x->self = x->match[x->cls];
    }
    for (int32_t k = 0; k < r->n_cls; k++) {
        r->m_beg[k] = (int32_t)n;
        r->self_aff[k] = 1;
        for (int32_t i = 0; i < r->n_rules; i++) {
            if (!r->rules[i].match[k])
                continue;
            if (n == cap) {
                int32_t *a = realloc(r->m, (size_t)cap * 2 * sizeof *a);
                if (!a)
                    return SS_ENOMEM;
                r->m = a;
                cap *= 2;
            }
            r->m[n++] = i;
        }
        for (int32_t i = r->own_beg[k]; i < r->own_beg[k + 1]; i++)
            if (r->rules[i].kind == R_AFF && !r->rules[i].self)
                r->self_aff[k] = 0;
    }
    r->m_beg[K] = (int32_t)n;
    return 0;
}

/* ---- counting ---- */

/* Adds delta (+-1) to spread rule x's count of domain d. */
static void spread_add(rule_t *x, int32_t d, int32_t delta)
{
    int32_t old = x->cnt[d], now = old + delta;
    x->cnt[d] = now;
    if (!x->hist)
        return; /* still counting the start */
    x->hist[old]--;
    x->hist[now]++;
    if (now < x->min)
        x->min = now;
    else if (old == x->min && x->hist[old] == 0)
        x->min = now;
}

/* Counts (delta +1) or uncounts (-1) pod q on node n. */
static void count(ss_consol_rules_t *r, int32_t q, int32_t n, int32_t delta)
{
    int32_t k = r->cls[q];
    if (k < 0 || n < 0)
        return;
    for (int32_t j = r->m_beg[k]; j < r->m_beg[k + 1]; j++) {
        rule_t *x = &r->rules[r->m[j]];
        int32_t d = r->dom[x->key][n];
        if (d < 0 || (x->kind == R_SPREAD && !x->elig[n]))
            continue;
        if (x->kind == R_SPREAD)
            spread_add(x, d, delta);
        else
            x->cnt[d] += delta;
        x->total += delta;
    }
    for (int32_t i = r->own_beg[k]; i < r->own_beg[k + 1]; i++) {
        rule_t *x = &r->rules[i];
        int32_t d = r->dom[x->key][n];
        if (x->kind == R_ANTI && d >= 0)
            x->own[d] += delta;
    }
}

/* The histogram of eligible domains by count, after the start is counted. */
static int spread_hists(ss_consol_rules_t *r)
{
    const ss_cluster_t *c = r->c;
    for (int32_t i = 0; i < r->n_rules; i++) {
        rule_t *x = &r->rules[i];
        if (x->kind != R_SPREAD)
            continue;
        int32_t D = r->ndom[x->key];
        int64_t most = 0; /* every running pod it counts, in one domain */
        for (int32_t k = 0; k < r->n_cls; k++)
            most += x->match[k] ? r->cls_n[k] : 0;
        uint8_t *ed = calloc(D ? (size_t)D : 1, 1);
        x->hist = calloc((size_t)most + 2, sizeof *x->hist);
        if (!ed || !x->hist) {
            free(ed);
            return SS_ENOMEM;
        }
        for (int32_t n = 0; n < c->n_nodes; n++)
            if (x->elig[n] && r->dom[x->key][n] >= 0)
                ed[r->dom[x->key][n]] = 1;
        x->min = INT32_MAX;
        for (int32_t d = 0; d < D; d++)
            if (ed[d]) {
                x->n_edom++;
                x->hist[x->cnt[d]]++;
                x->min = x->cnt[d] < x->min ? x->cnt[d] : x->min;
            }
        if (x->n_edom == 0)
            x->min = 0;
        free(ed);
    }
    return 0;
}

void ss_consol_rules_destroy(ss_consol_rules_t *r)
{
    if (!r)
        return;
    for (int32_t i = 0; r->rules && i < r->n_rules; i++) {
        free(r->rules[i].match);
        free(r->rules[i].cnt);
        free(r->rules[i].own);
        free(r->rules[i].elig);
        free(r->rules[i].hist);
    }
    for (int32_t i = 0; i < r->n_keys; i++)
        free(r->dom[i]);
    free(r->rules);
    free(r->dom);
    free(r->key_id);
    free(r->ndom);
    free(r->own_beg);
    free(r->m_beg);
    free(r->m);
    free(r->self_aff);
    free(r->cls);
    free(r->rep);
    free(r->cls_n);
    free(r->at);
    free(r);
}

int ss_consol_rules_create(const ss_cluster_t *c, ss_consol_rules_t **out)
{
    ss_match_ctx_t mx;
    *out = NULL;
    ss_consol_rules_t *r = calloc(1, sizeof *r);
    if (!r)
        return SS_ENOMEM;
    r->c = c;
    ss_match_ctx_init(&mx, c);
    int rc = classes(r);
    if (rc == 0)
        rc = make_rules(r, &mx);
    if (rc == 0 && r->n_rules == 0) {
        ss_consol_rules_destroy(r);
        return 0;
    }
    if (rc == 0)
        rc = match_lists(r);
    for (int32_t q = 0; rc == 0 && q < c->n_pods; q++)
        count(r, q, r->at[q], +1);
    if (rc == 0)
        rc = spread_hists(r);
    if (rc < 0) {
        ss_consol_rules_destroy(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* ---- moves and the check ---- */

void ss_consol_rules_lift(ss_consol_rules_t *r, int32_t pod)
{
    if (!r || r->at[pod] < 0)
        return;
    count(r, pod, r->at[pod], -1);
    r->at[pod] = -1;
}

void ss_consol_rules_put(ss_consol_rules_t *r, int32_t pod, int32_t node)
{
    if (!r || r->at[pod] >= 0)
        return;
    r->at[pod] = node;
    count(r, pod, node, +1);
}

void ss_consol_rules_move(ss_consol_rules_t *r, int32_t pod, int32_t node)
{
    ss_consol_rules_lift(r, pod);
    ss_consol_rules_put(r, pod, node);
}

/* The pod's own rules (filters 1-3). */
static bool own_ok(const ss_consol_rules_t *r, int32_t k, int32_t node)
{
    bool waive = r->self_aff[k];
    for (int32_t i = r->own_beg[k]; i < r->own_beg[k + 1] && waive; i++)
        if (r->rules[i].kind == R_AFF && r->rules[i].total > 0)
            waive = false;
    for (int32_t i = r->own_beg[k]; i < r->own_beg[k + 1]; i++) {
        const rule_t *x = &r->rules[i];
        int32_t d = r->dom[x->key][node];
        switch (x->kind) {
        case R_SPREAD: {
            int32_t min = x->n_edom < x->min_domains ? 0 : x->min;
            if (d < 0 || x->cnt[d] + x->self - min > x->max_skew)
                return false;
            break;
        }
        case R_AFF:
            if (d < 0 || (!waive && x->cnt[d] == 0))
                return false;
            break;
        default:
            if (d >= 0 && x->cnt[d] > 0)
                return false;
        }
    }
    return true;
}

bool ss_consol_rules_ok(const ss_consol_rules_t *r, int32_t pod, int32_t node)
{
    if (!r || r->cls[pod] < 0)
        return true;
    int32_t k = r->cls[pod];
    if (!own_ok(r, k, node))
        return false;
    for (int32_t j = r->m_beg[k]; j < r->m_beg[k + 1]; j++) { /* filter 4 */
        const rule_t *x = &r->rules[r->m[j]];
        int32_t d = r->dom[x->key][node];
        if (x->kind == R_ANTI && d >= 0 && x->own[d] > 0)
            return false;
    }
    return true;
}

bool ss_consol_rules_ordered(const ss_consol_rules_t *r, int32_t pod)
{
    if (!r || r->cls[pod] < 0)
        return false;
    int32_t k = r->cls[pod];
    return r->own_beg[k + 1] > r->own_beg[k] || r->m_beg[k + 1] > r->m_beg[k];
}
