/* ss_sched_rules: counters, views and the placement scan of the fast
 * engine's inter-pod rules (see ss_sched_rules.h). */
#include "ss_sched_rules.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "ss_hash.h"
#include "ss_reason.h"
#include "ss_rules.h"

/* ---------- a map (counter, domain value) -> count ---------- */

typedef struct {
    uint64_t *k;
    int32_t *v;
    int64_t n, cap; /* cap: a power of two */
} cmap_t;

#define CMAP_EMPTY UINT64_MAX

static inline uint64_t ckey(int32_t counter, int32_t value)
{
    return ((uint64_t)(uint32_t)counter << 32) | (uint32_t)value;
}

static inline uint64_t cmix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static int cmap_init(cmap_t *m, int64_t cap)
{
    int64_t c = 64;
    while (c < cap)
        c *= 2;
    m->k = malloc((size_t)c * sizeof *m->k);
    m->v = malloc((size_t)c * sizeof *m->v);
    if (!m->k || !m->v)
        return SS_ENOMEM;
    memset(m->k, 0xff, (size_t)c * sizeof *m->k);
    m->cap = c;
    m->n = 0;
    return 0;
}

static void cmap_free(cmap_t *m)
{
    free(m->k);
    free(m->v);
    memset(m, 0, sizeof *m);
}

static int32_t cmap_get(const cmap_t *m, uint64_t key)
{
    if (!m->cap)
        return 0;
    for (uint64_t i = cmix(key) & (uint64_t)(m->cap - 1);; i = (i + 1) & (uint64_t)(m->cap - 1)) {
        if (m->k[i] == key)
            return m->v[i];
        if (m->k[i] == CMAP_EMPTY)
            return 0;
    }
}

static int cmap_add(cmap_t *m, uint64_t key, int32_t d)
{
    if ((m->n + 1) * 2 > m->cap) {
        cmap_t g;
        if (cmap_init(&g, m->cap * 2) < 0) {
            cmap_free(&g);
            return SS_ENOMEM;
        }
        for (int64_t i = 0; i < m->cap; i++)
            if (m->k[i] != CMAP_EMPTY)
                cmap_add(&g, m->k[i], m->v[i]);
        cmap_free(m);
        *m = g;
    }
    uint64_t i = cmix(key) & (uint64_t)(m->cap - 1);
    while (m->k[i] != CMAP_EMPTY && m->k[i] != key)
        i = (i + 1) & (uint64_t)(m->cap - 1);
    if (m->k[i] == CMAP_EMPTY) {
        m->k[i] = key;
        m->v[i] = 0;
        m->n++;
    }
    m->v[i] += d;
    return 0;
}

/* ---------- the model ---------- */

enum { CK_SEL, CK_DEFAULT, CK_OWNER };
/* The hostname key of the default constraints when the cluster never
 * interned "kubernetes.io/hostname" (no rule names it): implied anyway. */
#define HOST_KEY (-2)

typedef struct {
    int32_t key; /* topology key */
    int8_t kind, wide, host;
    int32_t ns;               /* CK_SEL spread / CK_DEFAULT: the namespace counted */
    const ss_selector_t *sel; /* CK_SEL */
    const ss_podterm_t *pt;   /* CK_SEL of a pod term: its namespaces (owner ns = ns) */
    int32_t workload;         /* CK_DEFAULT */
    int32_t owner_pair;       /* CK_OWNER */
    const uint8_t *elig;      /* hard spread: per class, nodes whose pods count; NULL all */
    const int32_t *cls_val;   /* non-hostname keys: the value per node class (-1: none) */
    int32_t elig_rule;        /* the rule whose eligibility this is, or -1 */
} counter_t;

enum { R_SPREAD_HARD, R_SPREAD_SOFT, R_AFF_REQ, R_ANTI_REQ, R_REPEL, R_PREF, R_LOCALITY };

typedef struct {
    int8_t type, self;
    int32_t counter;
    int32_t max_skew, min_domains;
    int32_t weight;     /* R_PREF: + affinity, - anti-affinity */
    uint8_t *elig;      /* R_SPREAD_HARD: [n_classes] eligible classes (NULL: node-specific) */
    int64_t n_elig_dom; /* eligible domains */
    int32_t *dom_v;     /* non-hostname keys: the eligible domains' values */
    int32_t n_dom_v;
} rule_t;

typedef struct {
    int32_t t, ns;
    int8_t kind, pending, grouped;
    int32_t rule_b, rule_n;   /* range in rules */
    int32_t match_b, match_n; /* counters a pod of the pair adds to: range in match */
    int32_t total_w;          /* sum of |weights| of R_PREF rules */
} pair_t;

struct ss_rules {
    const ss_sched_t *s;
    const ss_cluster_t *c;
    int32_t n_pairs;
    pair_t *pairs;
    int32_t *pair_of_pod;
    counter_t *ctr;
    int32_t n_ctr, cap_ctr;
    rule_t *rules;
    int32_t n_rules, cap_rules;
    int32_t *match;
    int64_t n_match, cap_match;
    int default_spreading, locality; /* the modes of this run */
    int32_t zone_key;
    int32_t *zones; /* distinct zone values in node order */
    int32_t n_zones;
    int32_t n_keys;
    int32_t *keys, **key_val; /* distinct non-hostname keys and their value per class */
    int32_t *zone_of_class;   /* [n_classes] index in zones, n_zones when the class has none */
    cmap_t base;              /* counts of the running pods */
    int64_t *base_tot;        /* [n_ctr] */
};

struct ss_rview {
    const ss_rules_t *r;
    int64_t next_start; /* kube's nextStartNodeIndex, relative to the scanned range */
    cmap_t d;
    int64_t *tot; /* [n_ctr] own changes of the totals */
};

/* ---------- small helpers ---------- */

static int32_t add_ctr(ss_rules_t *r, counter_t x)
{
    if (r->n_ctr == r->cap_ctr) {
        int32_t c = r->cap_ctr ? r->cap_ctr * 2 : 64;
        counter_t *q = realloc(r->ctr, (size_t)c * sizeof *q);
        if (!q)
            return -1;
        r->ctr = q;
        r->cap_ctr = c;
    }
    x.host = (x.key >= 0 && x.key == r->s->mx.hostname) || x.key == HOST_KEY;
    r->ctr[r->n_ctr] = x;
    return r->n_ctr++;
}

static int32_t add_rule(ss_rules_t *r, rule_t x)
{
    if (r->n_rules == r->cap_rules) {
        int32_t c = r->cap_rules ? r->cap_rules * 2 : 64;
        rule_t *q = realloc(r->rules, (size_t)c * sizeof *q);
        if (!q)
            return -1;
        r->rules = q;
        r->cap_rules = c;
    }
    r->rules[r->n_rules] = x;
    return r->n_rules++;
}

/* The value of label key on node (hostname implied), or -1. */
static inline int32_t node_value(const ss_rules_t *r, int32_t node, int32_t key)
{
    int32_t v = -1;
    return ss_node_label(&r->s->mx, r->c, node, key, &v) ? v : -1;
}

static bool pair_has_label_match(const ss_rules_t *r, const ss_selector_t *sel, int32_t pair)
{
    const ss_template_t *t = &r->c->templates[r->pairs[pair].t];
    return ss_sel_match(r->c, sel, t->plabel_begin, t->plabel_count);
}

/* Does a pod of pair x add to counter k? */
static bool ctr_matches(const ss_rules_t *r, const counter_t *k, int32_t x)
{
    const pair_t *p = &r->pairs[x];
    switch (k->kind) {
    case CK_SEL:
        if (k->pt ? !ss_pterm_covers_ns(r->c, k->pt, k->ns, p->ns) : p->ns != k->ns)
            return false;
        return pair_has_label_match(r, k->sel, x);
    case CK_DEFAULT:
        return p->ns == k->ns && r->c->templates[p->t].workload == k->workload;
    default:
        return k->owner_pair == x;
    }
}

/* ---------- building ---------- */

static int build_pairs(ss_rules_t *r)
{
    const ss_cluster_t *c = r->c;
    int64_t cap = 64;
    while (cap < 2 * (int64_t)c->n_pods + 2)
        cap *= 2;
    uint64_t *hk = malloc((size_t)cap * sizeof *hk);
    int32_t *hv = malloc((size_t)cap * sizeof *hv);
    r->pair_of_pod = malloc(((size_t)c->n_pods + 1) * sizeof(int32_t));
    r->pairs = malloc(((size_t)c->n_pods + 1) * sizeof(pair_t));
    if (!hk || !hv || !r->pair_of_pod || !r->pairs) {
        free(hk);
        free(hv);
        return SS_ENOMEM;
    }
    memset(hk, 0xff, (size_t)cap * sizeof *hk);
    for (int32_t p = 0; p < c->n_pods; p++) {
        uint64_t key = ckey(c->pod_template[p], c->pod_ns[p]);
        uint64_t i = cmix(key) & (uint64_t)(cap - 1);
        while (hk[i] != CMAP_EMPTY && hk[i] != key)
            i = (i + 1) & (uint64_t)(cap - 1);
        if (hk[i] == CMAP_EMPTY) {
            hk[i] = key;
            hv[i] = r->n_pairs;
            r->pairs[r->n_pairs++] = (pair_t){.t = c->pod_template[p], .ns = c->pod_ns[p]};
        }
        int32_t x = hv[i];
        r->pair_of_pod[p] = x;
        if (c->pod_node[p] < 0)
            r->pairs[x].pending = 1;
        if (c->pod_group[p] >= 0)
            r->pairs[x].grouped = 1;
    }
    free(hk);
    free(hv);
    return 0;
}

/* Eligible classes of a hard spread rule of pair x (nodeAffinityPolicy,
 * nodeTaintsPolicy, every hard key present), and its eligible domains. */
static int spread_elig(ss_rules_t *r, int32_t x, rule_t *ru, const ss_spread_t *sp)
{
    const ss_sched_t *s = r->s;
    const ss_cluster_t *c = r->c;
    const ss_template_t *tp = &c->templates[r->pairs[x].t];
    int32_t K = s->cl.n_classes, t = r->pairs[x].t;
    ru->elig = calloc((size_t)K + 1, 1);
    if (!ru->elig)
        return SS_ENOMEM;
    for (int32_t k = 0; k < K; k++) {
        int32_t n = s->cl.rep[k];
        bool ok = true;
        if (sp->node_affinity_policy == SS_INCL_HONOR)
            ok = ss_match_node_selector(&s->mx, c, t, n) &&
                 ss_match_required_affinity(&s->mx, c, t, n);
        if (ok && sp->node_taints_policy == SS_INCL_HONOR)
            ok = ss_match_taints(&s->mx, c, t, n, NULL) != 0;
        for (int32_t j = 0; ok && j < tp->spread_count; j++) {
            const ss_spread_t *o = &c->spreads[tp->spread_begin + j];
            if (o->when == SS_WHEN_DO_NOT_SCHEDULE && o->key != s->mx.hostname)
                ok = node_value(r, n, o->key) >= 0;
        }
        ru->elig[k] = ok;
    }
    /* Domains: nodes (hostname) or distinct values over eligible classes. */
    const counter_t *k0 = &r->ctr[ru->counter];
    if (k0->host) {
        for (int32_t n = 0; n < c->n_nodes; n++)
            ru->n_elig_dom += ru->elig[s->cl.node_class[n]];
        return 0;
    }
    int32_t cap = 16;
    ru->dom_v = malloc((size_t)cap * sizeof *ru->dom_v);
    if (!ru->dom_v)
        return SS_ENOMEM;
    for (int32_t k = 0; k < K; k++) {
        if (!ru->elig[k])
            continue;
        int32_t v = node_value(r, s->cl.rep[k], k0->key);
        bool seen = v < 0;
        for (int32_t i = 0; i < ru->n_dom_v && !seen; i++)
            seen = ru->dom_v[i] == v;
        if (seen)
            continue;
        if (ru->n_dom_v == cap) {
            cap *= 2;
            int32_t *q = realloc(ru->dom_v, (size_t)cap * sizeof *q);
            if (!q)
                return SS_ENOMEM;
            ru->dom_v = q;
        }
        ru->dom_v[ru->n_dom_v++] = v;
    }
    ru->n_elig_dom = ru->n_dom_v;
    return 0;
}

static int32_t default_ctr(ss_rules_t *r, int32_t workload, int32_t ns, int32_t key)
{
    for (int32_t i = 0; i < r->n_ctr; i++) /* few: one or two per workload */
        if (r->ctr[i].kind == CK_DEFAULT && r->ctr[i].workload == workload && r->ctr[i].ns == ns &&
            r->ctr[i].key == key)
            return i;
    return add_ctr(
        r, (counter_t){
               .key = key, .kind = CK_DEFAULT, .ns = ns, .workload = workload, .elig_rule = -1});
}

/* The rules of pending pair x's own template. */
static int own_rules(ss_rules_t *r, int32_t x)
{
    const ss_cluster_t *c = r->c;
    pair_t *p = &r->pairs[x];
    const ss_template_t *tp = &c->templates[p->t];
    for (int32_t j = 0; j < tp->spread_count; j++) {
        const ss_spread_t *sp = &c->spreads[tp->spread_begin + j];
        int hard = sp->when == SS_WHEN_DO_NOT_SCHEDULE;
        int32_t k = add_ctr(
            r, (counter_t){
                   .key = sp->key, .kind = CK_SEL, .ns = p->ns, .sel = &sp->sel, .elig_rule = -1});
        if (k < 0)
            return SS_ENOMEM;
        rule_t ru = {.type = hard ? R_SPREAD_HARD : R_SPREAD_SOFT,
                     .self = pair_has_label_match(r, &sp->sel, x),
                     .counter = k,
                     .max_skew = sp->max_skew,
                     .min_domains = sp->min_domains};
        if (hard && spread_elig(r, x, &ru, sp) < 0)
            return SS_ENOMEM;
        int32_t id = add_rule(r, ru);
        if (id < 0)
            return SS_ENOMEM;
        if (hard) {
            r->ctr[k].elig = r->rules[id].elig;
            r->ctr[k].elig_rule = id;
        }
    }
    if (tp->spread_count == 0 && r->default_spreading == SS_SPREAD_DEFAULT_SYSTEM &&
        (tp->flags & SS_TF_CONTROLLER) && !(tp->flags & SS_TF_DAEMONSET) && tp->workload > 0 &&
        !p->grouped) {
        int32_t keys[2] = {r->s->mx.hostname >= 0 ? r->s->mx.hostname : HOST_KEY, r->zone_key};
        for (int i = 0; i < 2; i++) {
            if (keys[i] < 0 && keys[i] != HOST_KEY)
                continue;
            int32_t k = default_ctr(r, tp->workload, p->ns, keys[i]);
            if (k < 0 || add_rule(r, (rule_t){.type = R_SPREAD_SOFT, .counter = k}) < 0)
                return SS_ENOMEM;
        }
    }
    for (int32_t j = 0; j < tp->pterm_count; j++) {
        const ss_podterm_t *pt = &c->pterms[tp->pterm_begin + j];
        int32_t k = add_ctr(r, (counter_t){.key = pt->key,
                                           .kind = CK_SEL,
                                           .ns = p->ns,
                                           .sel = &pt->sel,
                                           .pt = pt,
                                           .elig_rule = -1});
        if (k < 0)
            return SS_ENOMEM;
        int aff = pt->kind == SS_PT_AFFINITY;
        rule_t ru = {.counter = k};
        if (pt->weight == 0) {
            ru.type = aff ? R_AFF_REQ : R_ANTI_REQ;
            ru.self =
                ss_pterm_covers_ns(c, pt, p->ns, p->ns) && pair_has_label_match(r, &pt->sel, x);
        } else {
            ru.type = R_PREF;
            ru.weight = aff ? pt->weight : -pt->weight;
            p->total_w += pt->weight;
        }
        if (add_rule(r, ru) < 0)
            return SS_ENOMEM;
    }
    if (r->locality == SS_LOCALITY_ZONE && tp->workload > 0 && r->zone_key >= 0) {
        int32_t k = default_ctr(r, tp->workload, p->ns, r->zone_key);
        if (k < 0 || add_rule(r, (rule_t){.type = R_LOCALITY, .counter = k}) < 0)
            return SS_ENOMEM;
    }
    return 0;
}

/* ---------- indexes by label: which pairs carry key=value ---------- */

typedef struct {
    int32_t key, value, pair;
} lab_t;

static int cmp_lab(const void *a, const void *b)
{
    const lab_t *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return (x->pair > y->pair) - (x->pair < y->pair);
}

typedef struct {
    lab_t *l;
    int64_t n;
} labidx_t;

static int labidx_build(const ss_rules_t *r, int pending_only, labidx_t *ix)
{
    const ss_cluster_t *c = r->c;
    int64_t n = 0;
    for (int32_t x = 0; x < r->n_pairs; x++)
        if (!pending_only || r->pairs[x].pending)
            n += c->templates[r->pairs[x].t].plabel_count;
    ix->l = malloc(((size_t)n + 1) * sizeof *ix->l);
    if (!ix->l)
        return SS_ENOMEM;
    ix->n = 0;
    for (int32_t x = 0; x < r->n_pairs; x++) {
        if (pending_only && !r->pairs[x].pending)
            continue;
        const ss_template_t *t = &c->templates[r->pairs[x].t];
        for (int32_t i = 0; i < t->plabel_count; i++) {
            const ss_label_t *lb = &c->labels[t->plabel_begin + i];
            ix->l[ix->n++] = (lab_t){lb->key, lb->value, x};
        }
    }
    qsort(ix->l, (size_t)ix->n, sizeof *ix->l, cmp_lab);
    return 0;
}

/* [*lo, *hi) of the entries with key=value. */
static void labidx_find(const labidx_t *ix, int32_t key, int32_t value, int64_t *lo, int64_t *hi)
{
    lab_t probe = {key, value, -1};
    int64_t a = 0, b = ix->n;
    while (a < b) {
        int64_t m = (a + b) / 2;
        if (cmp_lab(&ix->l[m], &probe) < 0)
            a = m + 1;
        else
            b = m;
    }
    *lo = a;
    while (a < ix->n && ix->l[a].key == key && ix->l[a].value == value)
        a++;
    *hi = a;
}

/* The first In requirement of a selector: only pairs with one of its values
 * can match. NULL: no anchor (check every pair). */
static const ss_expr_t *anchor(const ss_cluster_t *c, const ss_selector_t *s)
{
    if (s->null)
        return NULL;
    for (int32_t i = 0; i < s->count; i++)
        if (c->exprs[s->begin + i].op == SS_OP_IN && !c->exprs[s->begin + i].is_field)
            return &c->exprs[s->begin + i];
    return NULL;
}

typedef struct {
    int32_t pair, what;
} pw_t;

typedef struct {
    pw_t *v;
    int64_t n, cap;
} pwvec_t;

static int pw_push(pwvec_t *a, int32_t pair, int32_t what)
{
    if (a->n == a->cap) {
        int64_t c = a->cap ? a->cap * 2 : 256;
        pw_t *q = realloc(a->v, (size_t)c * sizeof *q);
        if (!q)
            return SS_ENOMEM;
        a->v = q;
        a->cap = c;
    }
    a->v[a->n++] = (pw_t){pair, what};
    return 0;
}

static int cmp_pw(const void *a, const void *b)
{
    const pw_t *x = a, *y = b;
    if (x->pair != y->pair)
        return x->pair < y->pair ? -1 : 1;
    return (x->what > y->what) - (x->what < y->what);
}

/* Every pair (from ix, or all when ix->l is NULL) that sel may match: calls
 * back with each candidate once. */
static int for_candidates(const ss_rules_t *r, const labidx_t *ix, const ss_selector_t *sel,
                          int pending_only, int (*fn)(void *, int32_t), void *arg)
{
    const ss_expr_t *a = anchor(r->c, sel);
    if (!a) {
        for (int32_t x = 0; x < r->n_pairs; x++)
            if ((!pending_only || r->pairs[x].pending) && fn(arg, x) < 0)
                return SS_ENOMEM;
        return 0;
    }
    for (int32_t i = 0; i < a->val_count; i++) {
        int64_t lo, hi;
        labidx_find(ix, a->key, r->c->expr_values[a->val_begin + i], &lo, &hi);
        for (int64_t j = lo; j < hi; j++)
            if (fn(arg, ix->l[j].pair) < 0)
                return SS_ENOMEM;
    }
    return 0;
}

/* Owner terms: every pod term of every pair, for the symmetric rules. */
typedef struct {
    ss_rules_t *r;
    pwvec_t *out;
    int32_t owner, term; /* owner pair, term index in pterms */
    int32_t sym;         /* the owner term's index */
} symarg_t;

static int sym_cb(void *arg, int32_t x)
{
    symarg_t *a = arg;
    const ss_podterm_t *pt = &a->r->c->pterms[a->term];
    const pair_t *o = &a->r->pairs[a->owner], *p = &a->r->pairs[x];
    if (!ss_pterm_covers_ns(a->r->c, pt, o->ns, p->ns) || !pair_has_label_match(a->r, &pt->sel, x))
        return 0;
    /* Symmetric terms that change anything: required anti-affinity
     * (filter), preferred terms and required affinity (score). */
    return pw_push(a->out, x, a->sym);
}

typedef struct {
    int32_t owner, term, counter;
} symt_t;

/* Counter additions: pairs whose pods a counter counts. */
typedef struct {
    ss_rules_t *r;
    pwvec_t *out;
    int32_t k;
} matcharg_t;

static int match_cb(void *arg, int32_t x)
{
    matcharg_t *a = arg;
    return ctr_matches(a->r, &a->r->ctr[a->k], x) ? pw_push(a->out, x, a->k) : 0;
}

/* ---------- assembling the pairs' rules ---------- */

static int32_t owner_ctr(ss_rules_t *r, symt_t *st)
{
    if (st->counter < 0)
        st->counter = add_ctr(r, (counter_t){.key = r->c->pterms[st->term].key,
                                             .kind = CK_OWNER,
                                             .owner_pair = st->owner,
                                             .elig_rule = -1});
    return st->counter;
}

/* The symmetric rules of pending pair x, from the owner terms matching it. */
static int sym_rules(ss_rules_t *r, int32_t x, symt_t *syms, const pw_t *m, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        symt_t *st = &syms[m[i].what];
        const ss_podterm_t *pt = &r->c->pterms[st->term];
        rule_t ru = {0};
        if (pt->weight == 0 && pt->kind == SS_PT_ANTI_AFFINITY) {
            ru.type = R_REPEL;
        } else if (pt->weight == 0) {
            ru.type = R_PREF; /* kube's hardPodAffinityWeight */
            ru.weight = 1;
        } else {
            ru.type = R_PREF;
            ru.weight = pt->kind == SS_PT_AFFINITY ? pt->weight : -pt->weight;
        }
        if ((ru.counter = owner_ctr(r, st)) < 0)
            return SS_ENOMEM;
        r->pairs[x].total_w += ru.weight < 0 ? -ru.weight : ru.weight;
        if (add_rule(r, ru) < 0)
            return SS_ENOMEM;
    }
    return 0;
}

static int build_rules(ss_rules_t *r, labidx_t *pend)
{
    const ss_cluster_t *c = r->c;
    int64_t n_sym = 0;
    for (int32_t x = 0; x < r->n_pairs; x++)
        n_sym += c->templates[r->pairs[x].t].pterm_count;
    symt_t *syms = malloc(((size_t)n_sym + 1) * sizeof *syms);
    pwvec_t hits = {0};
    int rc = syms ? 0 : SS_ENOMEM;
    n_sym = 0;
    for (int32_t x = 0; x < r->n_pairs && rc == 0; x++) {
        const ss_template_t *t = &c->templates[r->pairs[x].t];
        for (int32_t j = 0; j < t->pterm_count && rc == 0; j++) {
            syms[n_sym] = (symt_t){x, t->pterm_begin + j, -1};
            symarg_t a = {r, &hits, x, t->pterm_begin + j, (int32_t)n_sym++};
            rc = for_candidates(r, pend, &c->pterms[a.term].sel, 1, sym_cb, &a);
        }
    }
    if (rc == 0 && hits.n > 0)
        qsort(hits.v, (size_t)hits.n, sizeof *hits.v, cmp_pw);
    int64_t h = 0;
    for (int32_t x = 0; x < r->n_pairs && rc == 0; x++) {
        pair_t *p = &r->pairs[x];
        int64_t h0 = h;
        while (h < hits.n && hits.v[h].pair == x)
            h++;
        if (!p->pending)
            continue;
        p->rule_b = r->n_rules;
        rc = own_rules(r, x);
        if (rc == 0)
            rc = sym_rules(r, x, syms, hits.v + h0, h - h0);
        p->rule_n = r->n_rules - p->rule_b;
    }
    free(syms);
    free(hits.v);
    return rc;
}

/* Which counters each pair's pods add to. */
static int build_matches(ss_rules_t *r)
{
    labidx_t all = {0};
    pwvec_t m = {0};
    int rc = labidx_build(r, 0, &all);
    for (int32_t k = 0; k < r->n_ctr && rc == 0; k++) {
        const counter_t *ct = &r->ctr[k];
        matcharg_t a = {r, &m, k};
        if (ct->kind == CK_SEL) {
            rc = for_candidates(r, &all, ct->sel, 0, match_cb, &a);
        } else if (ct->kind == CK_OWNER) {
            rc = pw_push(&m, ct->owner_pair, k);
        } else {
            for (int32_t x = 0; x < r->n_pairs && rc == 0; x++)
                rc = match_cb(&a, x);
        }
    }
    if (rc == 0) {
        if (m.n > 0)
            qsort(m.v, (size_t)m.n, sizeof *m.v, cmp_pw);
        r->match = malloc(((size_t)m.n + 1) * sizeof *r->match);
        rc = r->match ? 0 : SS_ENOMEM;
    }
    int64_t i = 0;
    for (int32_t x = 0; x < r->n_pairs && rc == 0; x++) {
        r->pairs[x].match_b = (int32_t)r->n_match;
        for (; i < m.n && m.v[i].pair == x; i++)
            if (r->n_match == 0 || m.v[i].what != r->match[r->n_match - 1] ||
                r->pairs[x].match_b == r->n_match)
                r->match[r->n_match++] = m.v[i].what;
        r->pairs[x].match_n = (int32_t)(r->n_match - r->pairs[x].match_b);
    }
    free(all.l);
    free(m.v);
    return rc;
}

/* Keys whose domains cross partitions. */
static int mark_wide(ss_rules_t *r)
{
    const ss_sched_t *s = r->s;
    const ss_cluster_t *c = r->c;
    for (int32_t k = 0; k < r->n_ctr; k++) {
        counter_t *ct = &r->ctr[k];
        if (ct->host)
            continue;
        int32_t done = -1;
        for (int32_t j = 0; j < k && done < 0; j++)
            if (r->ctr[j].key == ct->key)
                done = j;
        if (done >= 0) {
            ct->wide = r->ctr[done].wide;
            continue;
        }
        cmap_t first; /* value -> partition + 1 */
        if (cmap_init(&first, 256) < 0)
            return SS_ENOMEM;
        for (int32_t part = 0; part < s->lay.n_parts && !ct->wide; part++) {
            int32_t lo = ss_layout_node_lo(&s->lay, part);
            int32_t hi =
                part + 1 < s->lay.n_parts ? ss_layout_node_lo(&s->lay, part + 1) : c->n_nodes;
            for (int32_t n = lo; n < hi && !ct->wide; n++) {
                int32_t v = node_value(r, n, ct->key);
                if (v < 0)
                    continue;
                int32_t q = cmap_get(&first, ckey(0, v));
                if (q == 0 && cmap_add(&first, ckey(0, v), part + 1) < 0) {
                    cmap_free(&first);
                    return SS_ENOMEM;
                }
                ct->wide = q != 0 && q != part + 1;
            }
        }
        cmap_free(&first);
    }
    return 0;
}

static void classify(ss_rules_t *r)
{
    for (int32_t x = 0; x < r->n_pairs; x++) {
        pair_t *p = &r->pairs[x];
        p->kind = p->rule_n > 0 ? SS_PAIR_LOCAL : SS_PAIR_PLAIN;
        for (int32_t i = 0; i < p->rule_n; i++) {
            const rule_t *ru = &r->rules[p->rule_b + i];
            int hard = ru->type == R_SPREAD_HARD || ru->type == R_ANTI_REQ || ru->type == R_REPEL;
            if (r->s->lay.n_parts > 1 &&
                (ru->type == R_AFF_REQ || (hard && r->ctr[ru->counter].wide)))
                p->kind = SS_PAIR_WIDE; /* one partition sees everything: nothing is wide */
        }
        if (p->kind != SS_PAIR_PLAIN && p->grouped)
            p->kind = SS_PAIR_WIDE; /* gang members with rules: member by member */
    }
}

/* A counter's domain on node: O(1) (labels are a property of the class). */
static inline int32_t ctr_value(const ss_rules_t *r, const counter_t *ct, int32_t node)
{
    return ct->host ? r->c->node_name[node] : ct->cls_val[r->s->cl.node_class[node]];
}

/* Per distinct key, its value on every class. */
static int key_values(ss_rules_t *r)
{
    const ss_sched_t *s = r->s;
    int32_t K = s->cl.n_classes;
    r->keys = malloc(((size_t)r->n_ctr + 1) * sizeof *r->keys);
    r->key_val = calloc((size_t)r->n_ctr + 1, sizeof *r->key_val);
    if (!r->keys || !r->key_val)
        return SS_ENOMEM;
    for (int32_t k = 0; k < r->n_ctr; k++) {
        counter_t *ct = &r->ctr[k];
        if (ct->host)
            continue;
        int32_t i = 0;
        while (i < r->n_keys && r->keys[i] != ct->key)
            i++;
        if (i == r->n_keys) {
            r->keys[r->n_keys] = ct->key;
            int32_t *v = malloc(((size_t)K + 1) * sizeof *v);
            if (!v)
                return SS_ENOMEM;
            for (int32_t cl = 0; cl < K; cl++)
                v[cl] = node_value(r, s->cl.rep[cl], ct->key);
            r->key_val[r->n_keys++] = v;
        }
        ct->cls_val = r->key_val[i];
    }
    return 0;
}

/* Adds a pod of pair x on node to map m (and totals). */
static int count_pod(const ss_rules_t *r, cmap_t *m, int64_t *tot, int32_t x, int32_t node,
                     int sign)
{
    const pair_t *p = &r->pairs[x];
    for (int32_t i = 0; i < p->match_n; i++) {
        int32_t k = r->match[p->match_b + i];
        const counter_t *ct = &r->ctr[k];
        if (ct->elig && !ct->elig[r->s->cl.node_class[node]])
            continue;
        int32_t v = ctr_value(r, ct, node);
        if (v < 0)
            continue;
        if (cmap_add(m, ckey(k, v), sign) < 0)
            return SS_ENOMEM;
        tot[k] += sign;
    }
    return 0;
}

static int zones_build(ss_rules_t *r)
{
    const ss_cluster_t *c = r->c;
    r->zones = malloc(sizeof(int32_t) * 64);
    int32_t cap = 64;
    if (!r->zones)
        return SS_ENOMEM;
    for (int32_t n = 0; n < c->n_nodes && r->zone_key >= 0; n++) {
        int32_t v = node_value(r, n, r->zone_key);
        bool seen = v < 0;
        for (int32_t i = r->n_zones - 1; i >= 0 && !seen; i--)
            seen = r->zones[i] == v;
        if (seen)
            continue;
        if (r->n_zones == cap) {
            cap *= 2;
            int32_t *q = realloc(r->zones, (size_t)cap * sizeof *q);
            if (!q)
                return SS_ENOMEM;
            r->zones = q;
        }
        r->zones[r->n_zones++] = v;
    }
    return 0;
}

static int zone_classes(ss_rules_t *r)
{
    const ss_sched_t *s = r->s;
    r->zone_of_class = malloc(((size_t)s->cl.n_classes + 1) * sizeof *r->zone_of_class);
    if (!r->zone_of_class)
        return SS_ENOMEM;
    for (int32_t k = 0; k < s->cl.n_classes; k++) {
        int32_t v = r->zone_key >= 0 ? node_value(r, s->cl.rep[k], r->zone_key) : -1, z = 0;
        while (z < r->n_zones && r->zones[z] != v)
            z++;
        r->zone_of_class[k] = z; /* n_zones: no zone label */
    }
    return 0;
}

static bool any_rules(const ss_cluster_t *c, int default_spreading, int locality)
{
    if (c->n_spreads > 0 || c->n_pterms > 0 || locality == SS_LOCALITY_ZONE)
        return true;
    if (default_spreading != SS_SPREAD_DEFAULT_SYSTEM)
        return false;
    for (int32_t t = 0; t < c->n_templates; t++)
        if ((c->templates[t].flags & SS_TF_CONTROLLER) && c->templates[t].workload > 0)
            return true;
    return false;
}

ss_rules_t *ss_rules_create(const ss_sched_t *s, int default_spreading, int locality, int *none,
                            ss_error_t *err)
{
    const ss_cluster_t *c = s->c;
    *none = !any_rules(c, default_spreading, locality);
    ss_rules_t *r = calloc(1, sizeof *r);
    if (!r) {
        ss_error_set(err, SS_ENOMEM, "out of memory building the inter-pod rules");
        return NULL;
    }
    r->s = s;
    r->c = c;
    r->zone_key = s->mx.zone;
    r->default_spreading = default_spreading;
    r->locality = locality;
    labidx_t pend = {0};
    int rc = build_pairs(r);
    if (rc == 0)
        rc = zones_build(r);
    if (rc == 0)
        rc = zone_classes(r);
    if (rc == 0)
        rc = labidx_build(r, 1, &pend);
    if (rc == 0)
        rc = build_rules(r, &pend);
    free(pend.l);
    if (rc == 0)
        rc = build_matches(r);
    if (rc == 0)
        rc = key_values(r);
    if (rc == 0)
        rc = mark_wide(r);
    if (rc == 0) {
        classify(r);
        r->base_tot = calloc((size_t)r->n_ctr + 1, sizeof *r->base_tot);
        rc = r->base_tot ? cmap_init(&r->base, 1024) : SS_ENOMEM;
    }
    for (int32_t p = 0; p < c->n_pods && rc == 0; p++)
        if (c->pod_node[p] >= 0)
            rc = count_pod(r, &r->base, r->base_tot, r->pair_of_pod[p], c->pod_node[p], +1);
    if (rc < 0) {
        ss_rules_destroy(r);
        ss_error_set(err, SS_ENOMEM, "out of memory building the inter-pod rules");
        return NULL;
    }
    return r;
}

void ss_rules_destroy(ss_rules_t *r)
{
    if (!r)
        return;
    for (int32_t i = 0; i < r->n_rules; i++) {
        free(r->rules[i].elig);
        free(r->rules[i].dom_v);
    }
    free(r->rules);
    free(r->ctr);
    free(r->pairs);
    free(r->pair_of_pod);
    free(r->match);
    free(r->zones);
    free(r->zone_of_class);
    free(r->base_tot);
    for (int32_t i = 0; i < r->n_keys; i++)
        free(r->key_val[i]);
    free(r->keys);
    free(r->key_val);
    cmap_free(&r->base);
    free(r);
}

int32_t ss_rules_pair_of(const ss_rules_t *r, int32_t pod)
{
    return r->pair_of_pod[pod];
}

int ss_rules_pair_kind(const ss_rules_t *r, int32_t pod)
{
    return r->pairs[r->pair_of_pod[pod]].kind;
}

ss_rview_t *ss_rview_create(const ss_rules_t *r)
{
    ss_rview_t *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->r = r;
    v->tot = calloc((size_t)r->n_ctr + 1, sizeof *v->tot);
    if (!v->tot || cmap_init(&v->d, 256) < 0) {
        ss_rview_destroy(v);
        return NULL;
    }
    return v;
}

void ss_rview_destroy(ss_rview_t *v)
{
    if (!v)
        return;
    cmap_free(&v->d);
    free(v->tot);
    free(v);
}

int ss_rview_add(ss_rview_t *v, int32_t pod, int32_t node, int sign)
{
    return count_pod(v->r, &v->d, v->tot, v->r->pair_of_pod[pod], node, sign);
}

static inline int32_t vcount(const ss_rview_t *v, int32_t k, int32_t value)
{
    uint64_t key = ckey(k, value);
    return cmap_get(&v->r->base, key) + cmap_get(&v->d, key);
}

static inline int64_t vtotal(const ss_rview_t *v, int32_t k)
{
    return v->r->base_tot[k] + v->tot[k];
}

/* ---------- evaluation ---------- */

/* What a pod's rules need once per pod: the global minimum of each hard
 * spread constraint, the affinity exception, the locality zone. */
typedef struct {
    int32_t *min;         /* [rule_n] */
    int32_t *mval, *mcnt; /* [rule_n] a rule's last domain (not hostname) and its count */
    int aff_exception;
    int32_t loc_zone;
    int64_t total_w; /* the weights the preferred terms are divided by */
} prep_t;

/* A prep_t's arrays: on the stack (mins[PREP_STACK]) for up to 64 rules,
 * else (or when mins is NULL) allocated. Returns pp->min, NULL when out of
 * memory. */
#define PREP_STACK (3 * 64)
static int32_t *prep_open(prep_t *pp, int32_t *mins, int32_t n)
{
    memset(pp, 0, sizeof *pp);
    int32_t *m = mins && n <= 64 ? mins : malloc(3 * ((size_t)n + 1) * sizeof *m);
    if (m) {
        pp->min = m;
        pp->mval = m + n;
        pp->mcnt = m + 2 * n;
    }
    return m;
}

static void prep_close(prep_t *pp, int32_t *mins)
{
    if (pp->min != mins)
        free(pp->min);
}

static int32_t spread_min(const ss_rules_t *r, const ss_rview_t *v, const rule_t *ru)
{
    int64_t tot = vtotal(v, ru->counter);
    if (ru->n_elig_dom < ru->min_domains || ru->n_elig_dom > tot)
        return 0; /* fewer domains than minDomains, or some domain is empty */
    int32_t best = INT32_MAX;
    if (r->ctr[ru->counter].host) {
        for (int32_t n = 0; n < r->c->n_nodes && best > 0; n++)
            if (ru->elig[r->s->cl.node_class[n]]) {
                int32_t x = vcount(v, ru->counter, r->c->node_name[n]);
                best = x < best ? x : best;
            }
    } else {
        for (int32_t i = 0; i < ru->n_dom_v && best > 0; i++) {
            int32_t x = vcount(v, ru->counter, ru->dom_v[i]);
            best = x < best ? x : best;
        }
    }
    return best == INT32_MAX ? 0 : best;
}

static void prepare(const ss_rules_t *r, const ss_rview_t *v, const pair_t *p, prep_t *pp)
{
    int all_self = 1, any_aff = 0;
    int64_t matching = 0;
    pp->loc_zone = -1;
    pp->total_w = 0;
    for (int32_t i = 0; i < p->rule_n; i++)
        pp->mval[i] = INT32_MIN;
    for (int32_t i = 0; i < p->rule_n; i++) {
        const rule_t *ru = &r->rules[p->rule_b + i];
        /* The pod's own preferred terms, and those of pods already placed
         * (the symmetric terms of an owner with no pod yet weigh nothing). */
        if (ru->type == R_PREF &&
            (r->ctr[ru->counter].kind != CK_OWNER || vtotal(v, ru->counter) > 0))
            pp->total_w += ru->weight < 0 ? -ru->weight : ru->weight;
        if (ru->type == R_SPREAD_HARD)
            pp->min[i] = spread_min(r, v, ru);
        if (ru->type == R_AFF_REQ) {
            any_aff = 1;
            all_self &= ru->self;
            matching += vtotal(v, ru->counter);
        }
        if (ru->type == R_LOCALITY) {
            int32_t most = 0;
            for (int32_t z = 0; z < r->n_zones; z++) {
                int32_t x = vcount(v, ru->counter, r->zones[z]);
                if (x > most) {
                    most = x;
                    pp->loc_zone = r->zones[z];
                }
            }
        }
    }
    /* Kubernetes: no pod matches the terms, and the pod matches them all. */
    pp->aff_exception = any_aff && all_self && matching == 0;
}

/* The count of rule i's counter on domain val (0 without the key): the
 * last one of a domain wider than a node is kept for the pod (nodes come in
 * runs of one zone). */
static inline int32_t rcount(const ss_rview_t *v, const rule_t *ru, int32_t i, const prep_t *pp,
                             int32_t val)
{
    if (val < 0)
        return 0;
    if (v->r->ctr[ru->counter].host)
        return vcount(v, ru->counter, val);
    if (pp->mval[i] != val) {
        pp->mval[i] = val;
        pp->mcnt[i] = vcount(v, ru->counter, val);
    }
    return pp->mcnt[i];
}

/* The filter of hard rule i of pair p (rules[p->rule_b + i]) on a domain
 * of value val (-1: the node lacks the key): SS_REASON_NONE or a reason. */
static int hard_check(const ss_rview_t *v, const rule_t *ru, int32_t i, const prep_t *pp,
                      int32_t val)
{
    if (ru->type == R_AFF_REQ && pp->aff_exception) /* the key is still needed */
        return val < 0 ? SS_REASON_POD_AFFINITY : SS_REASON_NONE;
    int32_t cnt = rcount(v, ru, i, pp, val);
    switch (ru->type) {
    case R_SPREAD_HARD:
        if (val < 0)
            return SS_REASON_SPREAD_LABEL;
        return (int64_t)cnt + ru->self - pp->min[i] > ru->max_skew ? SS_REASON_SPREAD
                                                                   : SS_REASON_NONE;
    case R_AFF_REQ:
        return val < 0 || cnt == 0 ? SS_REASON_POD_AFFINITY : SS_REASON_NONE;
    case R_ANTI_REQ:
        return cnt > 0 ? SS_REASON_POD_ANTI_AFFINITY : SS_REASON_NONE;
    default: /* R_REPEL */
        return cnt > 0 ? SS_REASON_EXISTING_ANTI_AFFINITY : SS_REASON_NONE;
    }
}

static const int8_t hard_order[4] = {R_SPREAD_HARD, R_AFF_REQ, R_ANTI_REQ, R_REPEL};

/* Filters (reason, or SS_REASON_NONE) and score terms of pair p on node:
 * spread, pod affinity, pod anti-affinity, existing pods' anti-affinity, in
 * kube-scheduler's order. */
static int eval_node(const ss_rules_t *r, const ss_rview_t *v, const pair_t *p, const prep_t *pp,
                     int32_t node, int64_t *add)
{
    for (int o = 0; o < 4; o++)
        for (int32_t i = 0; i < p->rule_n; i++) {
            const rule_t *ru = &r->rules[p->rule_b + i];
            if (ru->type != hard_order[o])
                continue;
            int why = hard_check(v, ru, i, pp, ctr_value(r, &r->ctr[ru->counter], node));
            if (why != SS_REASON_NONE)
                return why;
        }
    int64_t spread = 0, pref = 0, loc = 0;
    for (int32_t i = 0; i < p->rule_n; i++) {
        const rule_t *ru = &r->rules[p->rule_b + i];
        if (ru->type != R_SPREAD_SOFT && ru->type != R_PREF && ru->type != R_LOCALITY)
            continue;
        int32_t val = ctr_value(r, &r->ctr[ru->counter], node);
        int32_t cnt = rcount(v, ru, i, pp, val);
        if (ru->type == R_SPREAD_SOFT)
            spread += val < 0 ? 50 : cnt < 50 ? cnt : 50;
        else if (ru->type == R_PREF)
            pref += cnt > 0 ? ru->weight : 0;
        else
            loc += pp->loc_zone >= 0 && val == pp->loc_zone ? 300 : 0;
    }
    *add = -2 * spread + (pp->total_w > 0 ? 200 * pref / pp->total_w : 0) + loc;
    return SS_REASON_NONE;
}

/* ---------- placement ---------- */

typedef struct {
    int64_t score;
    int32_t node;
    int64_t reasons[SS_REASON_COUNT];
} scan_t;

/* kube-scheduler's numFeasibleNodesToFind. */
static int64_t feasible_to_find(int64_t n, int32_t pct)
{
    if (n < 100 || pct >= 100)
        return n;
    int64_t p = pct;
    if (p <= 0) {
        p = 50 - n / 125;
        if (p < 5)
            p = 5;
    }
    int64_t k = n * p / 100;
    return k < 100 ? 100 : k;
}

static void scan_range(ss_sched_t *s, const ss_work_t *w, const ss_rview_t *v, const ss_state_t *st,
                       const pair_t *p, const prep_t *pp, int32_t lo, int32_t hi, scan_t *out)
{
    const ss_rules_t *r = v->r;
    int32_t t = p->t;
    const ss_template_t *tp = &s->c->templates[t];
    out->node = -1;
    out->score = INT64_MIN;
    memset(out->reasons, 0, sizeof out->reasons);
    for (int32_t n = lo; n < hi; n++) {
        int64_t bonus = 0, add = 0;
        int why = ss_sched_node_static(s, w, t, n, &bonus);
        if (why == SS_REASON_NONE)
            why = ss_state_fit(st, tp, n);
        if (why == SS_REASON_NONE)
            why = eval_node(r, v, p, pp, n, &add);
        if (why != SS_REASON_NONE) {
            out->reasons[why]++;
            continue;
        }
        int64_t score =
            SS_WEIGHT_FIT * ss_policy_fit(s->policy->id, s->pctx, st, tp, n) + bonus + add;
        if (out->node < 0 || score > out->score) {
            out->node = n;
            out->score = score;
        }
    }
}

/* The best node of [lo, hi): threads over node chunks when there are many
 * nodes and no parallel region is active; chunks merge in node order, so the
 * answer is the sequential one. */
static void scan(ss_sched_t *s, const ss_work_t *w, const ss_rview_t *v, const ss_state_t *st,
                 const pair_t *p, const prep_t *pp, int all, scan_t *res)
{
    int32_t lo = w->lo, hi = w->hi, n = hi - lo;
    /* One partition is the reference's answer: every node is scored. */
    int64_t want = s->lay.n_parts > 1 && !all ? feasible_to_find(n, s->opts.pct_to_score) : n;
    if (want < n) { /* kube's sampling: from the rotating start, until enough are feasible */
        int64_t start = n > 0 ? v->next_start % n : 0, found = 0, done = 0;
        scan_t part;
        res->node = -1;
        res->score = INT64_MIN;
        memset(res->reasons, 0, sizeof res->reasons);
        while (done < n && found < want) {
            int32_t a = lo + (int32_t)((start + done) % n);
            int32_t b = a + 64 < hi ? a + 64 : hi; /* a run of nodes, in node order */
            if (b - a > n - done)
                b = a + (int32_t)(n - done);
            scan_range(s, w, v, st, p, pp, a, b, &part);
            int64_t bad = 0;
            for (int k = 0; k < SS_REASON_COUNT; k++) {
                res->reasons[k] += part.reasons[k];
                bad += part.reasons[k];
            }
            found += (b - a) - bad;
            done += b - a;
            if (part.node >= 0 && (res->node < 0 || part.score > res->score ||
                                   (part.score == res->score && part.node < res->node))) {
                res->node = part.node;
                res->score = part.score;
            }
        }
        ((ss_rview_t *)v)->next_start = (start + done) % n;
        return;
    }
    int nt = omp_in_parallel() || hi - lo < 4096 ? 1 : omp_get_max_threads();
    if (nt <= 1) {
        scan_range(s, w, v, st, p, pp, lo, hi, res);
        return;
    }
    scan_t part[64];
    if (nt > 64)
        nt = 64;
#pragma omp parallel for num_threads(nt) schedule(static, 1)
    for (int i = 0; i < nt; i++)
        scan_range(s, w, v, st, p, pp, lo + (int32_t)((int64_t)(hi - lo) * i / nt),
                   lo + (int32_t)((int64_t)(hi - lo) * (i + 1) / nt), &part[i]);
    *res = part[0];
    for (int i = 1; i < nt; i++) {
        for (int k = 0; k < SS_REASON_COUNT; k++)
            res->reasons[k] += part[i].reasons[k];
        if (part[i].node >= 0 && (res->node < 0 || part[i].score > res->score)) {
            res->node = part[i].node;
            res->score = part[i].score;
        }
    }
}

static int most_common(const int64_t *counts)
{
    int why = SS_REASON_NO_NODES;
    int64_t most = 0;
    for (int k = 1; k < SS_REASON_COUNT; k++)
        if (counts[k] > most) {
            most = counts[k];
            why = k;
        }
    return why;
}

/* ---------- a run in a partition: nodes sorted by their score without the
 * rules, walked best first until no node can beat the best found ---------- */

typedef struct {
    int64_t key;  /* base + the pair's hostname spread terms */
    int64_t base; /* policy fit + static score */
    int32_t node, zone;
} went_t;

static int cmp_went(const void *a, const void *b)
{
    const went_t *x = a, *y = b;
    if (x->zone != y->zone)
        return x->zone < y->zone ? -1 : 1;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return (x->node > y->node) - (x->node < y->node);
}

/* The score terms of p's soft spread constraints and preferred terms on
 * hostname at node, the preferred ones divided by tw (the pod's total_w):
 * within a run in a partition they change only on the node placed on (nobody
 * else places there meanwhile), so the walk keeps them in its key. */
static int64_t host_terms(const ss_rules_t *r, const ss_rview_t *v, const pair_t *p, int32_t node,
                          int64_t tw)
{
    int64_t spread = 0, pref = 0;
    for (int32_t i = 0; i < p->rule_n; i++) {
        const rule_t *ru = &r->rules[p->rule_b + i];
        if ((ru->type != R_SPREAD_SOFT && ru->type != R_PREF) || !r->ctr[ru->counter].host)
            continue;
        int32_t cnt = vcount(v, ru->counter, r->c->node_name[node]);
        if (ru->type == R_SPREAD_SOFT)
            spread += cnt < 50 ? cnt : 50;
        else
            pref += cnt > 0 ? ru->weight : 0;
    }
    return -2 * spread + (tw > 0 ? 200 * pref / tw : 0);
}

typedef struct {
    went_t *e;
    int32_t n;
    int32_t *seg; /* [n_zones + 2] segment starts by zone index */
    int64_t tw;   /* the total_w the keys were computed with */
} walk_t;

static int64_t base_of(ss_sched_t *s, const ss_work_t *w, const ss_state_t *st, int32_t t,
                       int32_t node, int *why)
{
    int64_t bonus = 0;
    const ss_template_t *tp = &s->c->templates[t];
    *why = ss_sched_node_static(s, w, t, node, &bonus);
    if (*why == SS_REASON_NONE)
        *why = ss_state_fit(st, tp, node);
    if (*why != SS_REASON_NONE)
        return 0;
    return SS_WEIGHT_FIT * ss_policy_fit(s->policy->id, s->pctx, st, tp, node) + bonus;
}

static void walk_segments(const ss_rules_t *r, walk_t *k)
{
    int32_t Z = r->n_zones + 1;
    qsort(k->e, (size_t)k->n, sizeof *k->e, cmp_went);
    for (int32_t i = 0, z = 0; z <= Z; z++) {
        while (i < k->n && k->e[i].zone < z)
            i++;
        k->seg[z] = i;
    }
}

/* The pod's total_w changed (an owner's first pod was counted): new keys. */
static void walk_rekey(const ss_rview_t *v, const pair_t *p, walk_t *k, int64_t tw)
{
    k->tw = tw;
    for (int32_t i = 0; i < k->n; i++)
        k->e[i].key = k->e[i].base + host_terms(v->r, v, p, k->e[i].node, tw);
    walk_segments(v->r, k);
}

static int walk_build(ss_sched_t *s, const ss_work_t *w, const ss_rview_t *v, const pair_t *p,
                      const ss_state_t *st, int64_t tw, walk_t *k)
{
    const ss_rules_t *r = v->r;
    int32_t t = p->t;
    int32_t Z = r->n_zones + 1;
    k->e = malloc(((size_t)(w->hi - w->lo) + 1) * sizeof *k->e);
    k->seg = calloc((size_t)Z + 1, sizeof *k->seg);
    if (!k->e || !k->seg)
        return SS_ENOMEM;
    k->n = 0;
    for (int32_t node = w->lo; node < w->hi; node++) {
        int why;
        int64_t b = base_of(s, w, st, t, node, &why);
        if (why == SS_REASON_NONE)
            k->e[k->n++] = (went_t){b + host_terms(r, v, p, node, tw), b, node,
                                    r->zone_of_class[s->cl.node_class[node]]};
    }
    k->tw = tw;
    walk_segments(r, k);
    return 0;
}

/* The placed node changed: its entry moves (or leaves when nothing fits). */
static void walk_update(ss_sched_t *s, const ss_work_t *w, const ss_rview_t *v, const pair_t *p,
                        const ss_state_t *st, walk_t *k, int32_t node)
{
    const ss_rules_t *r = v->r;
    int32_t t = p->t;
    int32_t z = r->zone_of_class[s->cl.node_class[node]], a = k->seg[z], b = k->seg[z + 1], i = a;
    while (i < b && k->e[i].node != node)
        i++;
    if (i == b)
        return;
    memmove(&k->e[i], &k->e[i + 1], (size_t)(k->n - i - 1) * sizeof *k->e);
    k->n--;
    for (int32_t j = z + 1; j <= r->n_zones + 1; j++)
        k->seg[j]--;
    int why;
    int64_t base = base_of(s, w, st, t, node, &why);
    if (why != SS_REASON_NONE)
        return;
    went_t x = {base + host_terms(r, v, p, node, k->tw), base, node, z};
    int32_t lo = k->seg[z], hi = k->seg[z + 1];
    while (lo < hi) { /* first entry that sorts after x */
        int32_t m = (lo + hi) / 2;
        if (cmp_went(&k->e[m], &x) < 0)
            lo = m + 1;
        else
            hi = m;
    }
    memmove(&k->e[lo + 1], &k->e[lo], (size_t)(k->n - lo) * sizeof *k->e);
    k->e[lo] = x;
    k->n++;
    for (int32_t j = z + 1; j <= r->n_zones + 1; j++)
        k->seg[j]++;
}

/* Upper bound of the rule terms on any node of zone index z beyond the
 * walk's key (which has the hostname terms): the zone spread terms exactly,
 * every other penalty as 0, every other bonus in full (rounded up: the key
 * rounded its share of the preferred terms down). */
static int64_t zone_bound(const ss_rules_t *r, const ss_rview_t *v, const pair_t *p,
                          const prep_t *pp, int32_t z)
{
    int64_t spread = 0, pos = 0, loc = 0;
    int32_t zv = z < r->n_zones ? r->zones[z] : -1;
    for (int32_t i = 0; i < p->rule_n; i++) {
        const rule_t *ru = &r->rules[p->rule_b + i];
        const counter_t *ct = &r->ctr[ru->counter];
        if (ru->type == R_SPREAD_SOFT && ct->key == r->zone_key && r->zone_key >= 0) {
            int32_t cnt = zv >= 0 ? vcount(v, ru->counter, zv) : 50;
            spread += cnt < 50 ? cnt : 50;
        } else if (ru->type == R_PREF && ru->weight > 0 && !ct->host) {
            pos += ru->weight;
        } else if (ru->type == R_LOCALITY && pp->loc_zone >= 0 && zv == pp->loc_zone) {
            loc = 300;
        }
    }
    return -2 * spread + (pp->total_w > 0 ? (200 * pos + pp->total_w - 1) / pp->total_w : 0) + loc;
}

/* Best node by the walk; res->node -1 when none passes (reasons not set). */
static void walk_best(ss_sched_t *s, const ss_work_t *w, const ss_rview_t *v, const pair_t *p,
                      const prep_t *pp, const walk_t *k, scan_t *res)
{
    const ss_rules_t *r = v->r;
    res->node = -1;
    res->score = INT64_MIN;
    for (int32_t z = 0; z <= r->n_zones; z++) {
        if (k->seg[z] == k->seg[z + 1])
            continue;
        int64_t bound = zone_bound(r, v, p, pp, z);
        for (int32_t i = k->seg[z]; i < k->seg[z + 1]; i++) {
            const went_t *e = &k->e[i];
            /* Later entries of the segment have a lower key, or the same key
             * and a higher node index: none can win past this. */
            if (res->node >= 0 && (e->key + bound < res->score ||
                                   (e->key + bound == res->score && e->node > res->node)))
                break;
            int64_t add = 0;
            if (eval_node(r, v, p, pp, e->node, &add) != SS_REASON_NONE)
                continue;
            int64_t sc = e->base + add;
            if (res->node < 0 || sc > res->score || (sc == res->score && e->node < res->node)) {
                res->node = e->node;
                res->score = sc;
            }
        }
    }
    (void)s;
    (void)w;
}

/* Puts pod on node: state (through the shards when shards is 1), counts,
 * its row and the next commit number. */
static int commit(ss_sched_t *s, ss_work_t *w, ss_rview_t *v, ss_state_t *st, int shards,
                  int32_t pod, int32_t node, ss_placements_t *out, int32_t *seq)
{
    const pair_t *p = &v->r->pairs[v->r->pair_of_pod[pod]];
    const ss_template_t *tp = &s->c->templates[p->t];
    int32_t row = s->row_of_pod[pod];
    int rc = 0;
    uint64_t mask = ss_policy_pick_gpus(s->pctx, st, p->t, node);
    if (shards)
        rc = ss_shard_apply(s, &s->sh[s->node_shard[node]], tp, node, mask, +1);
    else
        ss_state_apply(st, tp, node, mask, +1);
    if (rc == 0)
        rc = ss_rview_add(v, pod, node, +1);
    if (rc < 0)
        return ss_error_set(&w->err, SS_ENOMEM, "out of memory placing pods with rules");
    out->node[row] = node;
    out->gpu_mask[row] = mask;
    out->reason[row] = SS_REASON_NONE;
    out->seq[row] = (*seq)++;
    return 0;
}

int ss_rules_place(ss_sched_t *s, ss_work_t *w, ss_rview_t *v, ss_state_t *st, int shards,
                   const int32_t *pods, int32_t n, ss_placements_t *out, int32_t *seq,
                   int32_t *placed)
{
    const ss_rules_t *r = v->r;
    *placed = 0;
    if (n <= 0)
        return 0;
    const pair_t *p = &r->pairs[r->pair_of_pod[pods[0]]];
    int32_t mins[PREP_STACK];
    prep_t pp;
    int32_t *min = prep_open(&pp, mins, p->rule_n);
    if (!min)
        return ss_error_set(&w->err, SS_ENOMEM, "out of memory placing pods with rules");
    ss_sched_verdict(s, w, p->t);
    int rc = 0;
    /* Inside a partition every node is scored: by the walk for runs. */
    walk_t wk = {0};
    int walk = shards && n >= 2;
    if (walk) {
        prepare(r, v, p, &pp);
        if (walk_build(s, w, v, p, st, pp.total_w, &wk) < 0)
            rc = ss_error_set(&w->err, SS_ENOMEM, "out of memory placing pods with rules");
    }
    for (int32_t i = 0; i < n && rc == 0; i++) {
        int32_t pod = pods[i];
        prepare(r, v, p, &pp);
        scan_t res;
        if (walk && pp.total_w != wk.tw)
            walk_rekey(v, p, &wk, pp.total_w);
        if (walk)
            walk_best(s, w, v, p, &pp, &wk, &res);
        if (!walk || res.node < 0)
            scan(s, w, v, st, p, &pp, shards, &res); /* also the reasons when nothing passes */
        if (res.node < 0) {
            int why = most_common(res.reasons);
            for (int32_t j = i; j < n; j++)
                out->reason[s->row_of_pod[pods[j]]] = why;
            break;
        }
        if ((rc = commit(s, w, v, st, shards, pod, res.node, out, seq)) < 0)
            break;
        (*placed)++;
        if (walk)
            walk_update(s, w, v, p, st, &wk, res.node);
    }
    free(wk.e);
    free(wk.seg);
    prep_close(&pp, mins);
    return rc;
}

/* ---------- the deferred pass: walks per partition ---------- */

struct ss_rwalks {
    int32_t n_parts, pair; /* the pair the walks are for; -1: none */
    walk_t *w;             /* [n_parts]; e == NULL: not built */
};

ss_rwalks_t *ss_rwalks_create(int32_t n_parts)
{
    ss_rwalks_t *k = calloc(1, sizeof *k);
    if (!k || !(k->w = calloc((size_t)n_parts + 1, sizeof *k->w))) {
        free(k);
        return NULL;
    }
    k->n_parts = n_parts;
    k->pair = -1;
    return k;
}

void ss_rwalks_reset(ss_rwalks_t *k)
{
    for (int32_t q = 0; k && q < k->n_parts; q++) {
        free(k->w[q].e);
        free(k->w[q].seg);
        memset(&k->w[q], 0, sizeof k->w[q]);
    }
    if (k)
        k->pair = -1;
}

void ss_rwalks_destroy(ss_rwalks_t *k)
{
    if (!k)
        return;
    ss_rwalks_reset(k);
    free(k->w);
    free(k);
}

int ss_rules_walk_best(ss_sched_t *s, ss_work_t *w, ss_rview_t *v, ss_state_t *st, ss_rwalks_t *k,
                       int32_t part, int32_t pod, int32_t *node, int64_t *score, int *empty)
{
    const ss_rules_t *r = v->r;
    int32_t x = r->pair_of_pod[pod];
    const pair_t *p = &r->pairs[x];
    *node = -1;
    if (k->pair != x) {
        ss_rwalks_reset(k);
        k->pair = x;
    }
    int32_t mins[PREP_STACK];
    prep_t pp;
    int32_t *min = prep_open(&pp, mins, p->rule_n);
    if (!min)
        return ss_error_set(&w->err, SS_ENOMEM, "out of memory placing pods with rules");
    ss_sched_verdict(s, w, p->t);
    prepare(r, v, p, &pp);
    walk_t *wk = &k->w[part];
    int rc = 0;
    if (!wk->e && walk_build(s, w, v, p, st, pp.total_w, wk) < 0)
        rc = ss_error_set(&w->err, SS_ENOMEM, "out of memory placing pods with rules");
    scan_t res = {.node = -1};
    if (rc == 0) {
        if (pp.total_w != wk->tw)
            walk_rekey(v, p, wk, pp.total_w);
        walk_best(s, w, v, p, &pp, wk, &res);
        *node = res.node;
        *score = res.score;
        *empty = wk->n == 0;
    }
    prep_close(&pp, mins);
    return rc;
}

int ss_rules_walk_commit(ss_sched_t *s, ss_work_t *w, ss_rview_t *v, ss_state_t *st, ss_rwalks_t *k,
                         int32_t part, int32_t pod, int32_t node, ss_placements_t *out,
                         int32_t *seq)
{
    int rc = commit(s, w, v, st, 0, pod, node, out, seq);
    if (rc == 0)
        ss_rwalks_touch(s, w, v, st, k, part, node);
    return rc;
}

void ss_rwalks_touch(ss_sched_t *s, ss_work_t *w, ss_rview_t *v, ss_state_t *st, ss_rwalks_t *k,
                     int32_t part, int32_t node)
{
    if (k->pair >= 0 && k->w[part].e)
        walk_update(s, w, v, &v->r->pairs[k->pair], st, &k->w[part], node);
}

int32_t ss_rules_n_zones(const ss_rview_t *v)
{
    return v->r->n_zones;
}

int32_t ss_rules_zone_of(const ss_rview_t *v, int32_t node)
{
    return v->r->zone_of_class[v->r->s->cl.node_class[node]];
}

int ss_rules_zones_allowed(const ss_rview_t *v, int32_t pod, uint8_t *ok)
{
    const ss_rules_t *r = v->r;
    const pair_t *p = &r->pairs[r->pair_of_pod[pod]];
    int32_t mins[PREP_STACK];
    prep_t pp;
    int32_t *min = prep_open(&pp, mins, p->rule_n);
    if (!min)
        return SS_ENOMEM;
    prepare(r, v, p, &pp);
    for (int32_t z = 0; z <= r->n_zones; z++) {
        int32_t val = z < r->n_zones ? r->zones[z] : -1;
        ok[z] = 1;
        for (int32_t i = 0; i < p->rule_n && ok[z] && r->zone_key >= 0; i++) {
            const rule_t *ru = &r->rules[p->rule_b + i];
            if (r->ctr[ru->counter].key != r->zone_key)
                continue;
            if (ru->type == R_SPREAD_HARD || ru->type == R_AFF_REQ || ru->type == R_ANTI_REQ ||
                ru->type == R_REPEL)
                ok[z] = hard_check(v, ru, i, &pp, val) == SS_REASON_NONE;
        }
    }
    prep_close(&pp, mins);
    return 0;
}

bool ss_rules_has_rules(const ss_rview_t *v, int32_t pod)
{
    return v->r->pairs[v->r->pair_of_pod[pod]].rule_n > 0;
}

bool ss_rules_has_hard_rules(const ss_rview_t *v, int32_t pod)
{
    const pair_t *p = &v->r->pairs[v->r->pair_of_pod[pod]];
    for (int32_t i = 0; i < p->rule_n; i++) {
        int t = v->r->rules[p->rule_b + i].type;
        if (t == R_SPREAD_HARD || t == R_AFF_REQ || t == R_ANTI_REQ || t == R_REPEL)
            return true;
    }
    return false;
}

int32_t ss_rules_n_counters(const ss_rview_t *v)
{
    return v->r->n_ctr;
}

void ss_rules_mark_hard(const ss_rview_t *v, int32_t pod, uint8_t *mark, uint8_t value)
{
    const pair_t *p = &v->r->pairs[v->r->pair_of_pod[pod]];
    for (int32_t i = 0; i < p->rule_n; i++) {
        const rule_t *ru = &v->r->rules[p->rule_b + i];
        if (ru->type == R_SPREAD_HARD || ru->type == R_AFF_REQ || ru->type == R_ANTI_REQ ||
            ru->type == R_REPEL)
            mark[ru->counter] = value;
    }
}

bool ss_rules_counted(const ss_rview_t *v, int32_t q, const uint8_t *mark)
{
    const pair_t *p = &v->r->pairs[v->r->pair_of_pod[q]];
    for (int32_t i = 0; i < p->match_n; i++)
        if (mark[v->r->match[p->match_b + i]])
            return true;
    return false;
}

struct ss_rprep {
    int32_t pair;
    prep_t pp;
};

ss_rprep_t *ss_rules_prep_create(const ss_rview_t *v, int32_t pod)
{
    const ss_rules_t *r = v->r;
    ss_rprep_t *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->pair = r->pair_of_pod[pod];
    const pair_t *p = &r->pairs[x->pair];
    if (!prep_open(&x->pp, NULL, p->rule_n)) {
        free(x);
        return NULL;
    }
    prepare(r, v, p, &x->pp);
    return x;
}

void ss_rules_prep_destroy(ss_rprep_t *x)
{
    if (x)
        prep_close(&x->pp, NULL);
    free(x);
}

int ss_rules_prep_filter(const ss_rview_t *v, const ss_rprep_t *x, int32_t node)
{
    int64_t add;
    return eval_node(v->r, v, &v->r->pairs[x->pair], &x->pp, node, &add);
}

bool ss_rules_has_hard_spread(const ss_rview_t *v, int32_t pod)
{
    const pair_t *p = &v->r->pairs[v->r->pair_of_pod[pod]];
    for (int32_t i = 0; i < p->rule_n; i++)
        if (v->r->rules[p->rule_b + i].type == R_SPREAD_HARD)
            return true;
    return false;
}

bool ss_rules_missing_spread_key(const ss_rview_t *v, int32_t pod, int32_t node)
{
    const ss_rules_t *r = v->r;
    const pair_t *p = &r->pairs[r->pair_of_pod[pod]];
    for (int32_t i = 0; i < p->rule_n; i++) {
        const rule_t *ru = &r->rules[p->rule_b + i];
        if (ru->type == R_SPREAD_HARD && ctr_value(r, &r->ctr[ru->counter], node) < 0)
            return true;
    }
    return false;
}

int ss_rules_check(ss_sched_t *s, ss_work_t *w, const ss_rview_t *v, const ss_state_t *st,
                   int32_t pod, int32_t node)
{
    const ss_rules_t *r = v->r;
    const pair_t *p = &r->pairs[r->pair_of_pod[pod]];
    int32_t mins[PREP_STACK];
    prep_t pp;
    int32_t *min = prep_open(&pp, mins, p->rule_n);
    if (!min)
        return SS_ENOMEM;
    ss_sched_verdict(s, w, p->t);
    int64_t bonus = 0, add = 0;
    int why = ss_sched_node_static(s, w, p->t, node, &bonus);
    if (why == SS_REASON_NONE)
        why = ss_state_fit(st, &s->c->templates[p->t], node);
    if (why == SS_REASON_NONE) {
        prepare(r, v, p, &pp);
        why = eval_node(r, v, p, &pp, node, &add);
    }
    prep_close(&pp, mins);
    return why;
}
