/* ss_verify_rules: the verifier's replay of a run in commit order (see
 * ss_verify.h, ss_verify_with). Starting from the running pods, each placed
 * row is applied in /placements/seq order: its victims removed, its
 * resources added and checked, its DoNotSchedule spread constraints and
 * required pod (anti-)affinity terms checked against the pods on nodes at
 * that moment, and in the other direction the required anti-affinity of the
 * pods already there.
 *
 * Pods are counted per topology domain with this file's own counters (only
 * the meaning of a selector and of a term's namespaces comes from
 * ss_rules.h). A counter is one (rule instance, namespace): a spread
 * constraint of a template for the incoming pod's namespace, a pod term for
 * its owner's namespace, or the pods holding a required anti-affinity term.
 * It is built the first time it is needed by scanning the pods on nodes, then
 * kept exact by every later add and remove (each event visits every
 * counter). A spread counter also keeps a histogram of its eligible domains'
 * counts, so that the global minimum costs O(1). Memory: one int32 per
 * (counter, domain of its key); hostname keys cost one per node. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ss_rules.h"
#include "ss_summary.h"
#include "ss_verify_impl.h"

/* A topology key's domains: dom[node] = dense domain index, -1 = no label. */
typedef struct {
    int32_t key, ndom;
    int32_t *dom;
} keydom_t;

enum { CT_SPREAD, CT_TERM, CT_HOLDER };

typedef struct {
    int kind;
    int32_t index, ns; /* spread or pterm index; namespace */
    int32_t tmpl;      /* the template owning index */
    int32_t kd;        /* index in keys */
    int32_t next;      /* next counter of the same (kind, index), -1 */
    int32_t *cnt;      /* [ndom] matching pods per domain */
    uint8_t *elig;     /* CT_SPREAD: [n_nodes] eligible nodes */
    uint8_t *edom;     /* CT_SPREAD: [ndom] eligible domains */
    int32_t n_edom;    /* CT_SPREAD: eligible domains */
    int32_t *hist;     /* CT_SPREAD: hist[v] = eligible domains with count v */
    int32_t hist_cap, min;
} counter_t;

/* A growable list of counter indices. */
typedef struct {
    int32_t n, cap;
    int32_t *v;
} ilist_t;

typedef struct {
    vctx_t *v;
    const ss_cluster_t *c;
    int32_t *on;      /* [n_pods] the node a pod is on now, or -1 */
    uint8_t *removed; /* [n_pods] removed as a victim */
    keydom_t *keys;
    int32_t nkeys, capkeys;
    counter_t *ctr;
    int32_t nctr, capctr;
    int32_t *head[3];                  /* [n_spreads or n_pterms]: first counter, -1 */
    int32_t *spread_tmpl, *pterm_tmpl; /* owner template of each spread / pterm */
    int32_t *scratch;                  /* [n_strings] -1, for numbering domains */
    ilist_t *react;              /* [n_templates]: counters a pod of the template may change */
    ilist_t *repel;              /* [n_templates]: holder counters whose term matches its labels */
    int32_t *tp_begin, *tp_pods; /* pods by template (CSR) */
    int64_t *cpu, *mem, *ext;    /* in use per node now */
    int32_t *pods, *gpu;         /* pods per node; milli-GPU per GPU */
    uint16_t *over;              /* per node: resources already reported over */
    uint8_t *gover;              /* per GPU: reported over-shared */
    uint64_t *mig;               /* per node: node-local MIG instances held */
    int32_t *vic_begin, *vic_list; /* victims per row (CSR over victim entries) */
    int32_t *grp_begin, *grp_rows; /* rows per group (CSR) */
    uint8_t *grp_done;             /* group's victims removed */
    int oom;
} replay_t;

/* ---- domains ---- */

static int32_t keydom(replay_t *r, int32_t key)
{
    for (int32_t i = 0; i < r->nkeys; i++)
        if (r->keys[i].key == key)
            return i;
    if (r->nkeys == r->capkeys) {
        int32_t cap = r->capkeys ? 2 * r->capkeys : 8;
        keydom_t *k = realloc(r->keys, (size_t)cap * sizeof *k);
        if (!k)
            return r->oom = 1, -1;
        r->keys = k, r->capkeys = cap;
    }
    const ss_cluster_t *c = r->c;
    keydom_t *k = &r->keys[r->nkeys];
    k->key = key, k->ndom = 0;
    k->dom = malloc((c->n_nodes > 0 ? (size_t)c->n_nodes : 1) * sizeof *k->dom);
    if (!k->dom)
        return r->oom = 1, -1;
    for (int32_t n = 0; n < c->n_nodes; n++) {
        int32_t val = ss_verify_node_label(r->v, n, key);
        if (val < 0) {
            k->dom[n] = -1;
            continue;
        }
        if (r->scratch[val] < 0)
            r->scratch[val] = k->ndom++;
        k->dom[n] = r->scratch[val];
    }
    for (int32_t n = 0; n < c->n_nodes; n++) {
        int32_t val = ss_verify_node_label(r->v, n, key);
        if (val >= 0)
            r->scratch[val] = -1;
    }
    return r->nkeys++;
}

/* ---- counters ---- */

/* A node is eligible for spread constraint s of template t (the contract's
 * filter 1): it has every DoNotSchedule key of t, passes t's nodeSelector and
 * required node affinity under nodeAffinityPolicy Honor, and t tolerates its
 * NoSchedule / NoExecute taints under nodeTaintsPolicy Honor. */
static bool eligible(replay_t *r, const ss_spread_t *s, const ss_template_t *t, int32_t node)
{
    const ss_cluster_t *c = r->c;
    for (int32_t i = t->spread_begin; i < t->spread_begin + t->spread_count; i++)
        if (c->spreads[i].when == SS_WHEN_DO_NOT_SCHEDULE &&
            ss_verify_node_label(r->v, node, c->spreads[i].key) < 0)
            return false;
    if (s->node_affinity_policy == SS_INCL_HONOR && !ss_verify_node_matches(r->v, t, node))
        return false;
    if (s->node_taints_policy == SS_INCL_HONOR && !ss_verify_taints_tolerated(r->v, t, node))
        return false;
    return true;
}

static void hist_move(replay_t *r, counter_t *k, int32_t from, int32_t to)
{
    if (to >= k->hist_cap) {
        int32_t cap = 2 * k->hist_cap > to + 1 ? 2 * k->hist_cap : to + 1;
        int32_t *h = realloc(k->hist, (size_t)cap * sizeof *h);
        if (!h) {
            r->oom = 1;
            return;
        }
        memset(h + k->hist_cap, 0, (size_t)(cap - k->hist_cap) * sizeof *h);
        k->hist = h, k->hist_cap = cap;
    }
    k->hist[from]--;
    k->hist[to]++;
    if (to > from && from == k->min && k->hist[from] == 0)
        k->min = to;
    else if (to < k->min)
        k->min = to;
}

/* Pod q on node added (delta 1) or removed (-1) for counter ci. */
static void counter_apply(replay_t *r, int32_t ci, int32_t q, int32_t node, int32_t delta)
{
    const ss_cluster_t *c = r->c;
    counter_t *k = &r->ctr[ci];
    int32_t d = r->keys[k->kd].dom[node];
    if (d < 0)
        return;
    switch (k->kind) {
    case CT_SPREAD:
        if (!k->elig[node] || c->pod_ns[q] != k->ns ||
            !ss_sel_match_pod(c, &c->spreads[k->index].sel, q))
            return;
        break;
    case CT_TERM:
        if (!ss_pterm_matches_pod(c, &c->pterms[k->index], k->ns, q))
            return;
        break;
    default:
        if (c->pod_template[q] != k->tmpl || c->pod_ns[q] != k->ns)
            return;
    }
    int32_t old = k->cnt[d];
    k->cnt[d] += delta;
    if (k->kind == CT_SPREAD)
        hist_move(r, k, old, old + delta);
}

static bool ilist_push(replay_t *r, ilist_t *l, int32_t x)
{
    if (l->n == l->cap) {
        int32_t cap = l->cap ? 2 * l->cap : 4;
        int32_t *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v)
            return r->oom = 1, false;
        l->v = v, l->cap = cap;
    }
    l->v[l->n++] = x;
    return true;
}

/* Files counter ci under every template whose pods it counts (and, for a
 * holder, every template its term matches), counting the pods of those
 * templates that are on nodes now. Selectors match pod labels, which are the
 * template's, so this is decided per template once. */
static void counter_file(replay_t *r, int32_t ci)
{
    const ss_cluster_t *c = r->c;
    const counter_t *k = &r->ctr[ci];
    const ss_selector_t *sel =
        k->kind == CT_SPREAD ? &c->spreads[k->index].sel : &c->pterms[k->index].sel;
    for (int32_t t = 0; t < c->n_templates && !r->oom; t++) {
        const ss_template_t *tm = &c->templates[t];
        bool labels = ss_sel_match(c, sel, tm->plabel_begin, tm->plabel_count);
        if (k->kind == CT_HOLDER && labels)
            ilist_push(r, &r->repel[t], ci);
        if (k->kind == CT_HOLDER ? t != k->tmpl : !labels)
            continue;
        if (!ilist_push(r, &r->react[t], ci))
            return;
        for (int32_t i = r->tp_begin[t]; i < r->tp_begin[t + 1]; i++) {
            int32_t q = r->tp_pods[i];
            if (r->on[q] >= 0)
                counter_apply(r, ci, q, r->on[q], 1);
        }
    }
}

static int32_t counter_new(replay_t *r, int kind, int32_t index, int32_t ns)
{
    const ss_cluster_t *c = r->c;
    if (r->nctr == r->capctr) {
        int32_t cap = r->capctr ? 2 * r->capctr : 16;
        counter_t *k = realloc(r->ctr, (size_t)cap * sizeof *k);
        if (!k)
            return r->oom = 1, -1;
        r->ctr = k, r->capctr = cap;
    }
    int32_t tmpl = kind == CT_SPREAD ? r->spread_tmpl[index] : r->pterm_tmpl[index];
    int32_t key = kind == CT_SPREAD ? c->spreads[index].key : c->pterms[index].key;
    int32_t kd = keydom(r, key);
    if (kd < 0)
        return -1;
    int32_t ci = r->nctr;
    counter_t *k = &r->ctr[ci];
    memset(k, 0, sizeof *k);
    k->kind = kind, k->index = index, k->ns = ns, k->tmpl = tmpl, k->kd = kd;
    int32_t ndom = r->keys[kd].ndom;
    size_t nn = c->n_nodes > 0 ? (size_t)c->n_nodes : 1;
    k->cnt = calloc(ndom > 0 ? (size_t)ndom : 1, sizeof *k->cnt);
    if (kind == CT_SPREAD) {
        k->elig = calloc(nn, 1);
        k->edom = calloc(ndom > 0 ? (size_t)ndom : 1, 1);
        k->hist = calloc(16, sizeof *k->hist);
        k->hist_cap = 16;
    }
    r->nctr++; /* owned from here on: freed with the replay */
    if (!k->cnt || (kind == CT_SPREAD && (!k->elig || !k->edom || !k->hist)))
        return r->oom = 1, -1;
    if (kind == CT_SPREAD) {
        const ss_template_t *t = &c->templates[tmpl];
        for (int32_t n = 0; n < c->n_nodes; n++) {
            int32_t d = r->keys[kd].dom[n];
            if (d >= 0 && eligible(r, &c->spreads[index], t, n)) {
                k->elig[n] = 1;
                k->n_edom += !k->edom[d];
                k->edom[d] = 1;
            }
        }
        k->hist[0] = k->n_edom;
    }
    counter_file(r, ci);
    k = &r->ctr[ci];
    k->next = r->head[kind][index];
    r->head[kind][index] = ci;
    return r->oom ? -1 : ci;
}

/* The counter for (kind, index, ns), built when first asked for; -1 = OOM. */
static int32_t counter_get(replay_t *r, int kind, int32_t index, int32_t ns)
{
    for (int32_t ci = r->head[kind][index]; ci >= 0; ci = r->ctr[ci].next)
        if (r->ctr[ci].ns == ns)
            return ci;
    return counter_new(r, kind, index, ns);
}

/* Pod q arrives on (delta 1) or leaves (-1) node: its counters follow. */
static void event(replay_t *r, int32_t q, int32_t node, int32_t delta)
{
    const ilist_t *l = &r->react[r->c->pod_template[q]];
    for (int32_t i = 0; i < l->n; i++)
        counter_apply(r, l->v[i], q, node, delta);
    r->on[q] = delta > 0 ? node : -1;
}

/* ---- resources ---- */

enum { RES_CPU, RES_MEM, RES_PODS, RES_EXT0 };

static void res_apply(replay_t *r, int32_t q, int32_t node, uint64_t mask, int sign)
{
    const ss_cluster_t *c = r->c;
    const ss_request_t *req = &c->templates[c->pod_template[q]].req;
    r->cpu[node] = ss_sat_add64(r->cpu[node], sign * req->cpu_milli);
    r->mem[node] = ss_sat_add64(r->mem[node], sign * req->memory);
    r->pods[node] = ss_sat_add32(r->pods[node], sign);
    for (int e = 0; e < c->n_ext; e++) {
        int64_t *x = &r->ext[(size_t)node * SS_MAX_EXT + e];
        *x = ss_sat_add64(*x, sign * req->ext[e]);
    }
    if (c->templates[c->pod_template[q]].mig_count > 0) { /* mask: MIG instances */
        r->mig[node] = sign > 0 ? r->mig[node] | mask : r->mig[node] & ~mask;
        return;
    }
    int32_t ng = c->node_gpu_count[node], gb = c->node_gpu_begin[node];
    for (int32_t b = 0; b < ng && b < 64; b++)
        if (mask >> b & 1)
            r->gpu[gb + b] = ss_sat_add32(r->gpu[gb + b], (int64_t)sign * req->gpu_milli);
}

static void res_over(replay_t *r, int32_t q, int32_t node, int res, int rule, int64_t used,
                     int64_t cap, const char *what)
{
    if (r->over[node] >> res & 1)
        return;
    r->over[node] |= (uint16_t)(1u << res);
    ss_verify_violation(r->v, rule, q, node, "%s requested %lld of %lld allocatable", what,
                        (long long)used, (long long)cap);
}

/* Adds placed pod q on node and reports each resource it asks for that no
 * longer fits (once per node and resource, once per GPU). */
static void res_place(replay_t *r, int32_t q, int32_t node, uint64_t mask)
{
    const ss_cluster_t *c = r->c;
    const ss_request_t *req = &c->templates[c->pod_template[q]].req;
    if (c->templates[c->pod_template[q]].mig_count > 0 && (r->mig[node] & mask))
        ss_verify_violation(r->v, SS_VRULE_MIG, q, node,
                            "MIG instance(s) 0x%llx of the node held by another pod at this point",
                            (unsigned long long)(r->mig[node] & mask));
    res_apply(r, q, node, mask, 1);
    if (req->cpu_milli > 0 && r->cpu[node] > c->node_cpu[node])
        res_over(r, q, node, RES_CPU, SS_VRULE_CPU, r->cpu[node], c->node_cpu[node], "cpu");
    if (req->memory > 0 && r->mem[node] > c->node_mem[node])
        res_over(r, q, node, RES_MEM, SS_VRULE_MEMORY, r->mem[node], c->node_mem[node], "memory");
    if (r->pods[node] > c->node_pods[node])
        res_over(r, q, node, RES_PODS, SS_VRULE_PODS, r->pods[node], c->node_pods[node], "pods");
    for (int e = 0; e < c->n_ext; e++) {
        size_t x = (size_t)node * SS_MAX_EXT + e;
        if (req->ext[e] > 0 && r->ext[x] > c->node_ext[x])
            res_over(r, q, node, RES_EXT0 + e, SS_VRULE_EXT, r->ext[x], c->node_ext[x],
                     ss_cluster_strget(c, c->ext_name[e]));
    }
    int32_t ng = c->node_gpu_count[node], gb = c->node_gpu_begin[node];
    for (int32_t b = 0; b < ng && b < 64; b++) {
        int32_t g = gb + b;
        if (!(mask >> b & 1) || req->gpu_milli <= 0 || r->gpu[g] <= c->gpu_milli[g] || r->gover[g])
            continue;
        r->gover[g] = 1;
        ss_verify_violation(r->v, SS_VRULE_GPU_SHARE, q, node,
                            "GPU %d milli-GPU requested %d of %d allocatable", b, r->gpu[g],
                            c->gpu_milli[g]);
    }
}

/* ---- the inter-pod rules at one placement ---- */

static const char *str(const replay_t *r, int32_t id)
{
    return ss_cluster_strget(r->c, id);
}

/* DoNotSchedule spread constraints of pod q placed on node. */
static void check_spread(replay_t *r, int32_t q, int32_t node)
{
    const ss_cluster_t *c = r->c;
    const ss_template_t *t = &c->templates[c->pod_template[q]];
    ss_verify_rules_t *st = &r->v->rep->rules;
    for (int32_t s = t->spread_begin; s < t->spread_begin + t->spread_count; s++) {
        const ss_spread_t *sp = &c->spreads[s];
        if (sp->when != SS_WHEN_DO_NOT_SCHEDULE)
            continue;
        st->spread_checked++;
        int32_t ci = counter_get(r, CT_SPREAD, s, c->pod_ns[q]);
        if (ci < 0)
            return;
        const counter_t *k = &r->ctr[ci];
        int32_t d = r->keys[k->kd].dom[node];
        if (d < 0) {
            st->spread_violated++;
            ss_verify_violation(r->v, SS_VRULE_SPREAD, q, node, "node has no label %s",
                                str(r, sp->key));
            continue;
        }
        int64_t min = k->n_edom < sp->min_domains ? 0 : k->min;
        int64_t self = ss_sel_match_pod(c, &sp->sel, q) ? 1 : 0;
        int64_t skew = k->cnt[d] + self - min;
        if (skew > sp->max_skew) {
            st->spread_violated++;
            ss_verify_violation(r->v, SS_VRULE_SPREAD, q, node,
                                "%s=%s: %d matching + %lld - min %lld = skew %lld > maxSkew %d",
                                str(r, sp->key), str(r, ss_verify_node_label(r->v, node, sp->key)),
                                k->cnt[d], (long long)self, (long long)min, (long long)skew,
                                sp->max_skew);
        }
    }
}

/* True iff some pod on a node with a term's key matches that required
 * affinity term of q's template (the first-pod exception's test, as
 * docs/kubernetes.md states it; a plain scan, rarely needed). */
static bool some_pod_matches_all(const replay_t *r, int32_t q)
{
    const ss_cluster_t *c = r->c;
    const ss_template_t *t = &c->templates[c->pod_template[q]];
    for (int32_t e = 0; e < c->n_pods; e++) {
        if (r->on[e] < 0)
            continue;
        for (int32_t i = t->pterm_begin; i < t->pterm_begin + t->pterm_count; i++) {
            const ss_podterm_t *pt = &c->pterms[i];
            if (pt->kind == SS_PT_AFFINITY && pt->weight == 0 &&
                ss_pterm_matches_pod(c, pt, c->pod_ns[q], e) &&
                ss_verify_node_label(r->v, r->on[e], pt->key) >= 0)
                return true;
        }
    }
    return false;
}

static bool matches_own_terms(const replay_t *r, int32_t q)
{
    const ss_cluster_t *c = r->c;
    const ss_template_t *t = &c->templates[c->pod_template[q]];
    for (int32_t i = t->pterm_begin; i < t->pterm_begin + t->pterm_count; i++) {
        const ss_podterm_t *pt = &c->pterms[i];
        if (pt->kind == SS_PT_AFFINITY && pt->weight == 0 &&
            !ss_pterm_matches_pod(c, pt, c->pod_ns[q], q))
            return false;
    }
    return true;
}

/* Pod q's own required terms on node: affinity (filter 2) and anti-affinity
 * (filter 3). */
static void check_own_terms(replay_t *r, int32_t q, int32_t node)
{
    const ss_cluster_t *c = r->c;
    const ss_template_t *t = &c->templates[c->pod_template[q]];
    ss_verify_rules_t *st = &r->v->rep->rules;
    int exception = -1; /* -1: not computed yet; 0 / 1 */
    for (int32_t i = t->pterm_begin; i < t->pterm_begin + t->pterm_count; i++) {
        const ss_podterm_t *pt = &c->pterms[i];
        if (pt->weight != 0)
            continue;
        int32_t ci = counter_get(r, CT_TERM, i, c->pod_ns[q]);
        if (ci < 0)
            return;
        int32_t d = r->keys[r->ctr[ci].kd].dom[node];
        int32_t n = d >= 0 ? r->ctr[ci].cnt[d] : 0;
        if (pt->kind == SS_PT_ANTI_AFFINITY) {
            st->anti_checked++;
            if (d >= 0 && n > 0) {
                st->anti_violated++;
                ss_verify_violation(r->v, SS_VRULE_POD_ANTI_AFFINITY, q, node,
                                    "%d matching pod(s) in %s=%s", n, str(r, pt->key),
                                    str(r, ss_verify_node_label(r->v, node, pt->key)));
            }
            continue;
        }
        st->affinity_checked++;
        if (n > 0)
            continue;
        if (exception < 0)
            exception = matches_own_terms(r, q) && !some_pod_matches_all(r, q);
        if (exception && d >= 0) /* the node still needs the key */
            continue;
        st->affinity_violated++;
        if (d < 0)
            ss_verify_violation(r->v, SS_VRULE_POD_AFFINITY, q, node, "node has no label %s",
                                str(r, pt->key));
        else
            ss_verify_violation(r->v, SS_VRULE_POD_AFFINITY, q, node, "no matching pod in %s=%s",
                                str(r, pt->key), str(r, ss_verify_node_label(r->v, node, pt->key)));
    }
}

/* A pod holding counter k's term in domain d, for the message; -1 if none. */
static int32_t holder_in(const replay_t *r, const counter_t *k, int32_t d)
{
    const ss_cluster_t *c = r->c;
    for (int32_t e = 0; e < c->n_pods; e++)
        if (r->on[e] >= 0 && c->pod_template[e] == k->tmpl && c->pod_ns[e] == k->ns &&
            r->keys[k->kd].dom[r->on[e]] == d)
            return e;
    return -1;
}

/* Filter 4: no pod already on a node of node's domain has a required
 * anti-affinity term that matches q. */
static void check_symmetric(replay_t *r, int32_t q, int32_t node)
{
    const ss_cluster_t *c = r->c;
    ss_verify_rules_t *st = &r->v->rep->rules;
    const ilist_t *l = &r->repel[c->pod_template[q]];
    for (int32_t i = 0; i < l->n; i++) {
        const counter_t *k = &r->ctr[l->v[i]];
        if (!ss_pterm_matches_pod(c, &c->pterms[k->index], k->ns, q))
            continue;
        st->anti_checked++;
        int32_t d = r->keys[k->kd].dom[node];
        if (d < 0 || k->cnt[d] == 0)
            continue;
        st->anti_violated++;
        int32_t e = r->v->rep->n_messages < SS_VERIFY_MAX_MESSAGES ? holder_in(r, k, d) : -1;
        const char *ens = e >= 0 ? str(r, c->pod_ns[e]) : "?";
        ss_verify_violation(r->v, SS_VRULE_SYMMETRIC, q, node, "pod %s/%s repels it in %s=%s", ens,
                            e >= 0 ? str(r, c->pod_name[e]) : "?", str(r, c->pterms[k->index].key),
                            str(r, ss_verify_node_label(r->v, node, c->pterms[k->index].key)));
    }
}

/* ---- victims ---- */

/* Removes the victims of row (placed on its node, pod its preemptor). */
static void remove_victims(replay_t *r, int32_t row)
{
    const ss_cluster_t *c = r->c;
    const ss_placements_t *p = r->v->p;
    int32_t q = p->pod[row], node = p->node[row];
    bool never = (c->templates[c->pod_template[q]].flags & SS_TF_PREEMPT_NEVER) != 0;
    for (int32_t i = r->vic_begin[row]; i < r->vic_begin[row + 1]; i++) {
        int32_t x = r->vic_list[i];
        if (x < 0)
            continue; /* reported when the victims were grouped */
        if (never)
            ss_verify_violation(r->v, SS_VRULE_VICTIM, x, c->pod_node[x],
                                "preemptor %s/%s has preemptionPolicy Never", str(r, c->pod_ns[q]),
                                str(r, c->pod_name[q]));
        if (r->removed[x]) {
            ss_verify_violation(r->v, SS_VRULE_VICTIM, x, c->pod_node[x], "removed twice");
            continue;
        }
        if (c->pod_priority[x] >= c->pod_priority[q])
            ss_verify_violation(r->v, SS_VRULE_VICTIM, x, c->pod_node[x],
                                "priority %d not below its preemptor %s/%s's %d",
                                c->pod_priority[x], str(r, c->pod_ns[q]), str(r, c->pod_name[q]),
                                c->pod_priority[q]);
        if (c->pod_node[x] != node)
            ss_verify_violation(r->v, SS_VRULE_VICTIM, x, c->pod_node[x],
                                "not on its preemptor %s/%s's node %s", str(r, c->pod_ns[q]),
                                str(r, c->pod_name[q]), str(r, c->node_name[node]));
        r->removed[x] = 1;
        res_apply(r, x, c->pod_node[x], c->pod_gpu_mask[x], -1);
        event(r, x, c->pod_node[x], -1);
    }
}

/* Groups the victim entries by row (CSR), reporting entries that name no
 * row or no running pod (left out as -1), and counts the preemptors. */
static int group_victims(replay_t *r, ss_error_t *err)
{
    const ss_cluster_t *c = r->c;
    const ss_placements_t *p = r->v->p;
    ss_verify_rules_t *st = &r->v->rep->rules;
    r->vic_begin = calloc((size_t)p->n + 2, sizeof *r->vic_begin);
    r->vic_list = malloc((p->n_victims > 0 ? (size_t)p->n_victims : 1) * sizeof *r->vic_list);
    if (!r->vic_begin || !r->vic_list)
        return ss_error_set(err, SS_ENOMEM, "verify: out of memory for %d victims", p->n_victims);
    for (int32_t i = 0; i < p->n_victims; i++)
        if (p->victim_row[i] >= 0 && p->victim_row[i] < p->n)
            r->vic_begin[p->victim_row[i] + 2]++;
    for (int32_t row = 0; row < p->n; row++) {
        st->preemptors += r->vic_begin[row + 2] > 0;
        r->vic_begin[row + 2] += r->vic_begin[row + 1];
    }
    for (int32_t i = 0; i < p->n_victims; i++) {
        int32_t row = p->victim_row[i], x = p->victim_pod[i];
        st->victims++;
        if (row < 0 || row >= p->n) {
            ss_verify_violation(r->v, SS_VRULE_VICTIM, x >= 0 && x < c->n_pods ? x : -1, -1,
                                "victim entry %d names row %d of %d", i, row, p->n);
            continue;
        }
        bool running = x >= 0 && x < c->n_pods && c->pod_node[x] >= 0;
        if (!running)
            ss_verify_violation(r->v, SS_VRULE_VICTIM, x >= 0 && x < c->n_pods ? x : -1, -1,
                                "victim entry %d (pod index %d) is not a running pod", i, x);
        else if (!ss_verify_row_placed(r->v, row))
            ss_verify_violation(r->v, SS_VRULE_VICTIM, x, c->pod_node[x],
                                "its preemptor (row %d) is not placed", row);
        r->vic_list[r->vic_begin[row + 1]++] = running && ss_verify_row_placed(r->v, row) ? x : -1;
    }
    return 0;
}

/* Rows per group (CSR over placed rows of gang members). */
static int group_rows(replay_t *r, ss_error_t *err)
{
    const ss_cluster_t *c = r->c;
    const ss_placements_t *p = r->v->p;
    size_t ng = c->n_groups > 0 ? (size_t)c->n_groups : 1;
    r->grp_begin = calloc(ng + 2, sizeof *r->grp_begin);
    r->grp_rows = malloc((p->n > 0 ? (size_t)p->n : 1) * sizeof *r->grp_rows);
    r->grp_done = calloc(ng, 1);
    if (!r->grp_begin || !r->grp_rows || !r->grp_done)
        return ss_error_set(err, SS_ENOMEM, "verify: out of memory for %d groups", c->n_groups);
    for (int32_t row = 0; row < p->n; row++)
        if (ss_verify_row_placed(r->v, row) && c->pod_group[p->pod[row]] >= 0)
            r->grp_begin[c->pod_group[p->pod[row]] + 2]++;
    for (int32_t g = 0; g < c->n_groups; g++)
        r->grp_begin[g + 2] += r->grp_begin[g + 1];
    for (int32_t row = 0; row < p->n; row++)
        if (ss_verify_row_placed(r->v, row) && c->pod_group[p->pod[row]] >= 0)
            r->grp_rows[r->grp_begin[c->pod_group[p->pod[row]] + 1]++] = row;
    return 0;
}

/* ---- PDBs ---- */

static void check_pdbs(replay_t *r, int pdb_hard)
{
    const ss_cluster_t *c = r->c;
    ss_verify_rules_t *st = &r->v->rep->rules;
    st->pdbs = c->n_pdbs;
    st->pdb_hard = pdb_hard;
    /* the pods removed, each once, in victim order (vic_list is reused) */
    const ss_placements_t *p = r->v->p;
    int32_t nv = 0;
    for (int32_t i = 0; i < r->vic_begin[p->n]; i++) {
        int32_t x = r->vic_list[i];
        if (x >= 0 && r->removed[x] == 1) {
            r->removed[x] = 2;
            r->vic_list[nv++] = x;
        }
    }
    for (int32_t i = 0; i < c->n_pdbs && nv > 0; i++) {
        const ss_pdb_t *b = &c->pdbs[i];
        int64_t hit = 0;
        int32_t first = -1;
        for (int32_t j = 0; j < nv; j++)
            if (ss_pdb_covers(c, b, r->vic_list[j])) {
                hit++;
                first = first < 0 ? r->vic_list[j] : first;
            }
        if (hit == 0)
            continue;
        int32_t allowed = ss_pdb_allowed(c, b);
        if (hit <= allowed)
            continue;
        st->pdb_exceeded++;
        if (pdb_hard)
            ss_verify_violation(r->v, SS_VRULE_PDB, first, c->pod_node[first],
                                "PDB %s/%s: %lld victims, disruptionsAllowed %d", str(r, b->ns),
                                str(r, b->name), (long long)hit, allowed);
    }
}

/* ---- driver ---- */

/* Holder counters for every (required anti-affinity term, namespace) of
 * any pod, so that pods on nodes always repel matching newcomers. */
static int make_holders(replay_t *r)
{
    const ss_cluster_t *c = r->c;
    for (int32_t q = 0; q < c->n_pods; q++) {
        const ss_template_t *t = &c->templates[c->pod_template[q]];
        for (int32_t i = t->pterm_begin; i < t->pterm_begin + t->pterm_count; i++)
            if (c->pterms[i].kind == SS_PT_ANTI_AFFINITY && c->pterms[i].weight == 0 &&
                counter_get(r, CT_HOLDER, i, c->pod_ns[q]) < 0)
                return SS_ENOMEM;
    }
    return 0;
}

static int replay_init(replay_t *r, ss_error_t *err)
{
    const ss_cluster_t *c = r->c;
    size_t np = c->n_pods > 0 ? (size_t)c->n_pods : 1, nn = c->n_nodes > 0 ? (size_t)c->n_nodes : 1;
    size_t ns = c->n_spreads > 0 ? (size_t)c->n_spreads : 1;
    size_t nt = c->n_pterms > 0 ? (size_t)c->n_pterms : 1;
    int32_t nstr = ss_strtab_count(c->strings);
    r->on = malloc(np * sizeof *r->on);
    r->removed = calloc(np, 1);
    r->spread_tmpl = malloc(ns * sizeof *r->spread_tmpl);
    r->pterm_tmpl = malloc(nt * sizeof *r->pterm_tmpl);
    r->head[CT_SPREAD] = malloc(ns * sizeof(int32_t));
    r->head[CT_TERM] = malloc(nt * sizeof(int32_t));
    r->head[CT_HOLDER] = malloc(nt * sizeof(int32_t));
    r->scratch = malloc((nstr > 0 ? (size_t)nstr : 1) * sizeof *r->scratch);
    r->cpu = calloc(nn, sizeof *r->cpu);
    r->mem = calloc(nn, sizeof *r->mem);
    r->ext = calloc(nn * SS_MAX_EXT, sizeof *r->ext);
    r->pods = calloc(nn, sizeof *r->pods);
    r->gpu = calloc(c->n_gpus > 0 ? (size_t)c->n_gpus : 1, sizeof *r->gpu);
    r->over = calloc(nn, sizeof *r->over);
    r->gover = calloc(c->n_gpus > 0 ? (size_t)c->n_gpus : 1, 1);
    r->mig = calloc(nn, sizeof *r->mig);
    size_t ntm = c->n_templates > 0 ? (size_t)c->n_templates : 1;
    r->react = calloc(ntm, sizeof *r->react);
    r->repel = calloc(ntm, sizeof *r->repel);
    r->tp_begin = calloc(ntm + 2, sizeof *r->tp_begin);
    r->tp_pods = malloc(np * sizeof *r->tp_pods);
    if (!r->react || !r->repel || !r->tp_begin || !r->tp_pods)
        return ss_error_set(err, SS_ENOMEM, "verify: out of memory for %d templates",
                            c->n_templates);
    if (!r->on || !r->removed || !r->spread_tmpl || !r->pterm_tmpl || !r->head[0] || !r->head[1] ||
        !r->head[2] || !r->scratch || !r->cpu || !r->mem || !r->ext || !r->pods || !r->gpu ||
        !r->over || !r->gover || !r->mig)
        return ss_error_set(err, SS_ENOMEM, "verify: out of memory for %d pods", c->n_pods);
    memset(r->head[CT_SPREAD], -1, ns * sizeof(int32_t));
    memset(r->head[CT_TERM], -1, nt * sizeof(int32_t));
    memset(r->head[CT_HOLDER], -1, nt * sizeof(int32_t));
    memset(r->scratch, -1, (nstr > 0 ? (size_t)nstr : 1) * sizeof *r->scratch);
    for (int32_t t = 0; t < c->n_templates; t++) {
        const ss_template_t *tm = &c->templates[t];
        for (int32_t i = tm->spread_begin; i < tm->spread_begin + tm->spread_count; i++)
            r->spread_tmpl[i] = t;
        for (int32_t i = tm->pterm_begin; i < tm->pterm_begin + tm->pterm_count; i++)
            r->pterm_tmpl[i] = t;
    }
    for (int32_t q = 0; q < c->n_pods; q++)
        r->tp_begin[c->pod_template[q] + 2]++;
    for (int32_t t = 0; t < c->n_templates; t++)
        r->tp_begin[t + 2] += r->tp_begin[t + 1];
    for (int32_t q = 0; q < c->n_pods; q++)
        r->tp_pods[r->tp_begin[c->pod_template[q] + 1]++] = q;
    for (int32_t q = 0; q < c->n_pods; q++) {
        r->on[q] = c->pod_node[q];
        if (r->on[q] >= 0)
            res_apply(r, q, r->on[q], c->pod_gpu_mask[q], 1);
    }
    if (make_holders(r) < 0 || r->oom)
        return ss_error_set(err, SS_ENOMEM, "verify: out of memory for pod term counters");
    return 0;
}

static void replay_free(replay_t *r)
{
    for (int32_t i = 0; i < r->nkeys; i++)
        free(r->keys[i].dom);
    for (int32_t i = 0; i < r->nctr; i++) {
        free(r->ctr[i].cnt), free(r->ctr[i].elig), free(r->ctr[i].edom);
        free(r->ctr[i].hist);
    }
    free(r->keys), free(r->ctr), free(r->on), free(r->removed), free(r->spread_tmpl);
    free(r->pterm_tmpl), free(r->head[0]), free(r->head[1]), free(r->head[2]), free(r->scratch);
    free(r->cpu), free(r->mem), free(r->ext), free(r->pods), free(r->gpu), free(r->over);
    free(r->gover), free(r->mig), free(r->vic_begin), free(r->vic_list), free(r->grp_begin),
        free(r->grp_rows);
    free(r->grp_done);
    for (int32_t t = 0; r->react && r->repel && t < r->c->n_templates; t++)
        free(r->react[t].v), free(r->repel[t].v);
    free(r->react), free(r->repel), free(r->tp_begin), free(r->tp_pods);
}

/* One placed row: its victims (or its gang's) go, then it is checked and
 * added. */
static void replay_row(replay_t *r, int32_t row)
{
    const ss_cluster_t *c = r->c;
    const ss_placements_t *p = r->v->p;
    int32_t q = p->pod[row], node = p->node[row], g = c->pod_group[q];
    if (r->on[q] >= 0)
        return; /* a second row for the pod: reported by the row checks */
    if (g < 0)
        remove_victims(r, row);
    else if (!r->grp_done[g]) {
        r->grp_done[g] = 1;
        for (int32_t i = r->grp_begin[g]; i < r->grp_begin[g + 1]; i++)
            remove_victims(r, r->grp_rows[i]);
    }
    res_place(r, q, node, p->gpu_mask[row]);
    check_spread(r, q, node);
    check_own_terms(r, q, node);
    check_symmetric(r, q, node);
    event(r, q, node, 1);
}

int ss_verify_replay(vctx_t *v, int pdb_hard, ss_error_t *err)
{
    replay_t r;
    memset(&r, 0, sizeof r);
    r.v = v, r.c = v->c;
    ss_verify_order_t *o = NULL;
    int32_t n = 0;
    int rc = replay_init(&r, err);
    if (rc == 0)
        rc = group_victims(&r, err);
    if (rc == 0)
        rc = group_rows(&r, err);
    if (rc == 0 && !(o = ss_verify_commit_order(v, &n)))
        rc = ss_error_set(err, SS_ENOMEM, "verify: out of memory for %d rows", v->p->n);
    for (int32_t i = 0; rc == 0 && i < n && !r.oom; i++)
        replay_row(&r, o[i].row);
    if (rc == 0 && r.oom)
        rc = ss_error_set(err, SS_ENOMEM, "verify: out of memory for domain counters");
    if (rc == 0)
        check_pdbs(&r, pdb_hard);
    free(o);
    replay_free(&r);
    return rc;
}
