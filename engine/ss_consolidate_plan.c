/* ss_consolidate_plan: the consolidation planner (ss_consolidate.h,
 * docs/consolidate.md).
 *
 * Candidates are tried one at a time (auto: fewest running pods first, then
 * least requested cpu, then row; or the nodes given, in order). Trying a
 * node moves each of its pods (a gang member brings its whole gang) to the
 * tightest node that fits it now -- not a node being drained, not one of the
 * given candidates still to try -- and assigns each move unit (a pod, or a
 * whole gang) to the earliest wave in which every PDB covering it has budget
 * left, else to a new wave (never before the last gang's wave, since a gang
 * frees room on nodes that stay). If any pod finds no target, or a unit
 * needs more than a PDB's whole budget, or the waves would exceed
 * --max-waves, everything done for the node is undone and it is kept. A node
 * that received a pod is not a candidate afterwards.
 *
 * The target search goes through the free-room index
 * (ss_consolidate_index.h: nodes by capacity class and free cpu x memory),
 * which gives exactly the node a scan of every node would (ss_consolidate_scan:
 * that scan, kept as the reference the tests compare against); every candidate
 * a search settles on passes target_accept last. */
#include <stdlib.h>
#include <string.h>

#include "ss_consolidate.h"
#include "ss_consolidate_index.h"
#include "ss_consolidate_rules.h"
#include "ss_match.h"
#include "ss_rules.h"
#include "ss_state.h"

typedef struct {
    const ss_cluster_t *c;
    const ss_consolidate_opts_t *o;
    ss_match_ctx_t x;
    ss_state_t *s;
    int32_t host;                   /* string id of kubernetes.io/hostname, or -1 */
    int32_t *allowed;               /* [n_pdbs] disruptionsAllowed */
    int32_t *wused, cap_w, n_w;     /* [cap_w x n_pdbs] pods taken per (wave, PDB); waves so far */
    int32_t floor;                  /* no unit goes before this wave (the last gang's) */
    ss_consol_rules_t *rules;       /* spread, pod (anti-)affinity counts (NULL: none) */
    int32_t rfloor;                 /* nor a unit with such rules before the last one's */
    int32_t *open;                  /* [n_pdbs] every wave before it is full for the PDB */
    int32_t *ks;                    /* [n_pdbs] scratch: the PDBs of a unit */
    int8_t *why;                    /* [n_pods] ss_move_reason */
    int32_t *pod_at;                /* [n_pods] node now (-1 pending) */
    int32_t *nbeg, *npods;          /* CSR: running pods by original node */
    int32_t *gbeg, *gpods;          /* CSR: running pods by group */
    uint8_t *draining;              /* per node: being drained (or freed) */
    int32_t *recv;                  /* per node: pods moved onto it */
    uint8_t *pending_cand;          /* per node: a given candidate still to try */
    int32_t *cnt;                   /* [n_pdbs] scratch: a unit's pods per PDB */
    int32_t *log_k, n_log, cap_log; /* undo log of wused: (wave, pdb, added) */
    ss_cplan_t *p;
    int32_t cap_moves, cap_drain;
    /* per template: a bitmap of the nodes passing the static filters,
     * built at its first move (NULL: not yet); at most STATIC_CACHE_BYTES */
    uint64_t **stat;
    uint8_t **stat_cls; /* per template: [classes] 1 if some node of the class passes */
    size_t stat_bytes;
    ss_cidx_t *ix;              /* the free-room index (NULL: the reference scan) */
    int32_t *in_head, *in_next; /* per node: the last move onto it; per move: the one before */
} cx_t;

#define STATIC_CACHE_BYTES ((size_t)256 << 20)

/* ---- the plan's arrays ---- */

static int push_move(cx_t *x, int32_t pod, int32_t from, int32_t to, uint64_t mask)
{
    ss_cplan_t *p = x->p;
    if (p->n_moves == x->cap_moves) {
        int32_t cap = x->cap_moves ? 2 * x->cap_moves : 256;
        int32_t **a[4] = {&p->move_pod, &p->move_from, &p->move_to, &p->move_wave};
        for (int i = 0; i < 4; i++) {
            int32_t *n = realloc(*a[i], (size_t)cap * sizeof *n);
            if (!n)
                return SS_ENOMEM;
            *a[i] = n;
        }
        uint64_t *m = realloc(p->move_gpu_mask, (size_t)cap * sizeof *m);
        if (!m)
            return SS_ENOMEM;
        p->move_gpu_mask = m;
        int32_t *nx = realloc(x->in_next, (size_t)cap * sizeof *nx);
        if (!nx)
            return SS_ENOMEM;
        x->in_next = nx;
        x->cap_moves = cap;
    }
    int32_t i = p->n_moves++;
    p->move_pod[i] = pod;
    p->move_from[i] = from;
    p->move_to[i] = to;
    p->move_wave[i] = 0; /* set when its unit is assigned */
    p->move_gpu_mask[i] = mask;
    x->in_next[i] = x->in_head[to]; /* undone last-in first-out (undo_moves) */
    x->in_head[to] = i;
    return 0;
}

static int push_drain(cx_t *x, int32_t node, int32_t wave)
{
    ss_cplan_t *p = x->p;
    if (p->n_drain == x->cap_drain) {
        int32_t cap = x->cap_drain ? 2 * x->cap_drain : 64;
        int32_t *a = realloc(p->drain_node, (size_t)cap * sizeof *a);
        if (!a)
            return SS_ENOMEM;
        p->drain_node = a;
        int32_t *b = realloc(p->drain_wave, (size_t)cap * sizeof *b);
        if (!b)
            return SS_ENOMEM;
        p->drain_wave = b;
        x->cap_drain = cap;
    }
    p->drain_node[p->n_drain] = node;
    p->drain_wave[p->n_drain++] = wave;
    return 0;
}

/* ---- required anti-affinity on the hostname (both directions) ---- */

static bool host_anti(const cx_t *x, int32_t a, int32_t b)
{
    const ss_cluster_t *c = x->c;
    const ss_template_t *t = &c->templates[c->pod_template[a]];
    for (int32_t i = 0; i < t->pterm_count; i++) {
        const ss_podterm_t *pt = &c->pterms[t->pterm_begin + i];
        if (pt->weight == 0 && pt->kind == SS_PT_ANTI_AFFINITY && pt->key == x->host &&
            ss_pterm_matches_pod(c, pt, c->pod_ns[a], b))
            return true;
    }
    return false;
}

/* True iff mover m may join node n: no pod there has a required hostname
 * anti-affinity term matching m, nor m one matching it. The pods there: the
 * node's own that have not left, and those moved in. */
static bool rules_ok(const cx_t *x, int32_t m, int32_t n)
{
    const ss_cplan_t *p = x->p;
    for (int32_t i = x->nbeg[n]; i < x->nbeg[n + 1]; i++) {
        int32_t q = x->npods[i];
        if (q != m && x->pod_at[q] == n && (host_anti(x, q, m) || host_anti(x, m, q)))
            return false;
    }
    for (int32_t i = x->in_head[n]; i >= 0; i = x->in_next[i]) {
        int32_t q = p->move_pod[i];
        if (q != m && x->pod_at[q] == n && (host_anti(x, q, m) || host_anti(x, m, q)))
            return false;
    }
    return true;
}

/* Builds template tmpl's static-filter bitmap, and which capacity classes
 * have a node passing, at its first move (within STATIC_CACHE_BYTES). */
static void static_build(cx_t *x, int32_t tmpl)
{
    const ss_cluster_t *c = x->c;
    size_t words = ((size_t)c->n_nodes + 63) / 64;
    size_t ncls = x->ix ? (size_t)ss_cidx_classes(x->ix) : 0;
    if (x->stat[tmpl] || x->stat_bytes + words * 8 + ncls > STATIC_CACHE_BYTES)
        return;
    uint64_t *bits = calloc(words ? words : 1, 8);
    uint8_t *cls = ncls ? calloc(ncls, 1) : NULL;
    if (!bits || (ncls && !cls)) {
        free(bits);
        free(cls);
        return; /* no cache: static_ok asks ss_match_static */
    }
    x->stat_bytes += words * 8 + ncls;
    for (int32_t i = 0; i < c->n_nodes; i++)
        if (ss_match_static(&x->x, c, tmpl, i) == 0) {
            bits[i / 64] |= UINT64_C(1) << (i % 64);
            if (cls)
                cls[ss_cidx_class_of(x->ix, i)] = 1;
        }
    x->stat[tmpl] = bits;
    x->stat_cls[tmpl] = cls;
}

/* The static filters of template tmpl on node n, from the cache. */
static bool static_ok(cx_t *x, int32_t tmpl, int32_t n)
{
    static_build(x, tmpl);
    if (x->stat[tmpl])
        return x->stat[tmpl][n / 64] >> (n % 64) & 1;
    return ss_match_static(&x->x, x->c, tmpl, n) == 0;
}

/* The last word on a candidate target n for mover m, once it passes the
 * static filters and fits by every resource and beats the best so far:
 * every search (the index and the reference scan) settles on a target only
 * through here. Checks the required hostname anti-affinity (both ways) and
 * chooses the GPUs (MIG instances) into *mask. */
static bool target_accept(cx_t *x, int32_t m, int32_t n, bool any_anti, uint64_t *mask)
{
    const ss_template_t *t = &x->c->templates[x->c->pod_template[m]];
    if (any_anti && !rules_ok(x, m, n))
        return false;
    if (!ss_consol_rules_ok(x->rules, m, n))
        return false;
    uint64_t g = ss_state_pick_gpus(x->s, t, n);
    if (g == UINT64_MAX)
        return false;
    *mask = g;
    return true;
}

/* The reference search: every node in row order (ss_consolidate_scan). */
static int32_t scan_target(cx_t *x, int32_t m, bool any_anti, uint64_t *mask)
{
    const ss_cluster_t *c = x->c;
    int32_t tmpl = c->pod_template[m], best = -1;
    const ss_template_t *t = &c->templates[tmpl];
    int64_t best_score = 0;
    for (int32_t n = 0; n < c->n_nodes; n++) {
        if (x->draining[n] || x->pending_cand[n] || n == x->pod_at[m])
            continue;
        if (!static_ok(x, tmpl, n) || ss_state_fit(x->s, t, n) != 0)
            continue;
        int64_t score = ss_cidx_score(
            c->node_cpu[n], c->node_mem[n], x->s->free_cpu[n] - t->req.cpu_milli,
            x->s->free_mem[n] - t->req.memory, x->o->targets == SS_TARGET_LEAST_ALLOCATED);
        if (best >= 0 && score >= best_score)
            continue;
        if (!target_accept(x, m, n, any_anti, mask))
            continue;
        best = n;
        best_score = score;
    }
    return best;
}

typedef struct {
    cx_t *x;
    int32_t m, tmpl;
    bool any_anti;
    uint64_t *mask;
} want_t;

/* The index's callback: node n (free cpu, memory, a pod slot) for w->m. */
static bool index_accept(void *ctx, int32_t n)
{
    want_t *w = ctx;
    cx_t *x = w->x;
    const ss_template_t *t = &x->c->templates[w->tmpl];
    if (n == x->pod_at[w->m] || !static_ok(x, w->tmpl, n) || ss_state_fit(x->s, t, n) != 0)
        return false;
    return target_accept(x, w->m, n, w->any_anti, w->mask);
}

/* The tightest node for pod m now (least free cpu + memory per mille after
 * it, lowest row on ties; with --targets least-allocated the most), or -1;
 * its GPU choice in *mask. */
static int32_t pick_target(cx_t *x, int32_t m, bool any_anti, uint64_t *mask)
{
    if (!x->ix)
        return scan_target(x, m, any_anti, mask);
    const ss_cluster_t *c = x->c;
    int32_t tmpl = c->pod_template[m];
    const ss_template_t *t = &c->templates[tmpl];
    static_build(x, tmpl);
    want_t w = {x, m, tmpl, any_anti, mask};
    ss_cidx_query_t q = {
        t->req.cpu_milli,  t->req.memory, x->o->targets == SS_TARGET_LEAST_ALLOCATED,
        x->stat_cls[tmpl], index_accept,  &w};
    return ss_cidx_best(x->ix, &q);
}

/* Node n's place in the index after a change of its free room or of
 * whether it may take pods (not draining, not a given candidate to try). */
static void index_sync(cx_t *x, int32_t n)
{
    if (x->ix)
        ss_cidx_set(x->ix, n, !x->draining[n] && !x->pending_cand[n]);
}

/* ---- PDB budgets per wave, with an undo log ---- */

/* Makes room for wave w (1-based) in wused. */
static int grow_waves(cx_t *x, int32_t w)
{
    size_t K = x->c->n_pdbs ? (size_t)x->c->n_pdbs : 1;
    if (w <= x->cap_w)
        return 0;
    int32_t cap = x->cap_w ? 2 * x->cap_w : 16;
    while (cap < w)
        cap *= 2;
    int32_t *n = realloc(x->wused, (size_t)cap * K * sizeof *n);
    if (!n)
        return SS_ENOMEM;
    memset(n + (size_t)x->cap_w * K, 0, (size_t)(cap - x->cap_w) * K * sizeof *n);
    x->wused = n;
    x->cap_w = cap;
    return 0;
}

static int32_t *wu(cx_t *x, int32_t w, int32_t k)
{
    return &x->wused[(size_t)(w - 1) * (size_t)(x->c->n_pdbs ? x->c->n_pdbs : 1) + (size_t)k];
}

static int log_used(cx_t *x, int32_t w, int32_t k, int32_t add)
{
    if (x->n_log == x->cap_log) {
        int32_t cap = x->cap_log ? 2 * x->cap_log : 64;
        int32_t *a = realloc(x->log_k, (size_t)cap * 3 * sizeof *a);
        if (!a)
            return SS_ENOMEM;
        x->log_k = a;
        x->cap_log = cap;
    }
    int32_t *e = &x->log_k[3 * x->n_log++];
    e[0] = w;
    e[1] = k;
    e[2] = add;
    *wu(x, w, k) += add;
    return 0;
}

static void undo_used(cx_t *x)
{
    for (int32_t i = x->n_log - 1; i >= 0; i--) {
        int32_t w = x->log_k[3 * i], k = x->log_k[3 * i + 1];
        *wu(x, w, k) -= x->log_k[3 * i + 2];
        x->open[k] = w < x->open[k] ? w : x->open[k];
    }
    x->n_log = 0;
}

/* Assigns the moves [from, p->n_moves) (one unit) to the earliest wave, from
 * the floor (the last gang's wave: a gang frees room on nodes that stay), in
 * which every PDB covering it keeps budget, or a new wave. Returns 1 when
 * assigned, 0 when it cannot be (a PDB's whole budget is too small, or
 * --max-waves), or SS_ENOMEM. */
static int assign_wave(cx_t *x, int32_t from, bool gang)
{
    const ss_cluster_t *c = x->c;
    ss_cplan_t *p = x->p;
    int32_t nk = 0, w;
    bool ordered = false; /* the rules' checks assumed the order chosen: keep it */
    for (int32_t i = from; i < p->n_moves; i++)
        ordered |= ss_consol_rules_ordered(x->rules, p->move_pod[i]);
    for (int32_t i = from; i < p->n_moves; i++)
        for (int32_t k = 0; k < c->n_pdbs; k++)
            if (c->pdbs[k].ns == c->pod_ns[p->move_pod[i]] &&
                ss_pdb_covers(c, &c->pdbs[k], p->move_pod[i])) {
                if (!x->cnt[k]++)
                    x->ks[nk++] = k;
            }
    int rc = 1;
    for (int32_t j = 0; j < nk; j++)
        if (x->cnt[x->ks[j]] > x->allowed[x->ks[j]])
            rc = 0;
    w = x->floor > 0 ? x->floor : 1;
    w = ordered && x->rfloor > w ? x->rfloor : w;
    for (int32_t j = 0; j < nk; j++) { /* skip the waves a PDB of the unit has used up */
        int32_t k = x->ks[j];
        while (x->open[k] <= x->n_w && *wu(x, x->open[k], k) >= x->allowed[k])
            x->open[k]++;
        w = x->open[k] > w ? x->open[k] : w;
    }
    w = w > x->n_w + 1 ? x->n_w + 1 : w;
    for (; rc == 1 && w <= x->n_w; w++) {
        bool fits = true;
        for (int32_t j = 0; j < nk && fits; j++)
            fits = *wu(x, w, x->ks[j]) + x->cnt[x->ks[j]] <= x->allowed[x->ks[j]];
        if (fits)
            break;
    }
    if (rc == 1 && w > x->n_w) {
        if (x->o->max_waves > 0 && w > x->o->max_waves)
            rc = 0;
        else if (grow_waves(x, w) < 0)
            rc = SS_ENOMEM;
        else
            x->n_w = w;
    }
    for (int32_t j = 0; j < nk; j++) {
        if (rc == 1 && log_used(x, w, x->ks[j], x->cnt[x->ks[j]]) < 0)
            rc = SS_ENOMEM;
        x->cnt[x->ks[j]] = 0;
    }
    for (int32_t i = from; rc == 1 && i < p->n_moves; i++)
        p->move_wave[i] = w;
    if (rc == 1 && gang)
        x->floor = w;
    if (rc == 1 && ordered)
        x->rfloor = w;
    return rc;
}

/* ---- one candidate ---- */

/* Moves pod q to its best target; returns 1, 0 (no target) or SS_ENOMEM. */
static int move_one(cx_t *x, int32_t q, bool any_anti)
{
    const ss_cluster_t *c = x->c;
    const ss_template_t *t = &c->templates[c->pod_template[q]];
    int32_t from = x->pod_at[q];
    uint64_t mask = 0;
    /* its own room is not free for it: it leaves only when its node drains */
    ss_consol_rules_lift(x->rules, q);
    int32_t to = pick_target(x, q, any_anti, &mask);
    ss_consol_rules_put(x->rules, q, to < 0 ? from : to);
    if (to < 0)
        return 0;
    if (push_move(x, q, from, to, mask) < 0)
        return SS_ENOMEM;
    ss_state_apply(x->s, t, from, c->pod_gpu_mask[q], -1);
    ss_state_apply(x->s, t, to, mask, +1);
    x->pod_at[q] = to;
    x->recv[to]++;
    index_sync(x, from);
    index_sync(x, to);
    return 1;
}

static void undo_moves(cx_t *x, int32_t first)
{
    const ss_cluster_t *c = x->c;
    ss_cplan_t *p = x->p;
    for (int32_t i = p->n_moves - 1; i >= first; i--) {
        int32_t q = p->move_pod[i];
        const ss_template_t *t = &c->templates[c->pod_template[q]];
        ss_state_apply(x->s, t, p->move_to[i], p->move_gpu_mask[i], -1);
        ss_state_apply(x->s, t, p->move_from[i], c->pod_gpu_mask[q], +1);
        x->pod_at[q] = p->move_from[i];
        ss_consol_rules_move(x->rules, q, p->move_from[i]);
        x->recv[p->move_to[i]]--;
        x->in_head[p->move_to[i]] = x->in_next[i];
        index_sync(x, p->move_to[i]);
        index_sync(x, p->move_from[i]);
    }
    p->n_moves = first;
}

/* Moves one unit: pod q alone, or q's whole gang. 1, 0 or SS_ENOMEM. */
static int move_unit(cx_t *x, int32_t q, bool any_anti)
{
    const ss_cluster_t *c = x->c;
    int32_t g = c->pod_group[q], first = x->p->n_moves, rc = 1;
    if (g < 0)
        rc = move_one(x, q, any_anti);
    for (int32_t i = g >= 0 ? x->gbeg[g] : 0; g >= 0 && rc == 1 && i < x->gbeg[g + 1]; i++)
        if (x->pod_at[x->gpods[i]] == c->pod_node[x->gpods[i]]) /* not moved yet */
            rc = move_one(x, x->gpods[i], any_anti);
    if (rc == 1)
        rc = assign_wave(x, first, g >= 0);
    return rc;
}

/* Tries to free node n. 1 freed, 0 kept, or SS_ENOMEM. */
static int try_node(cx_t *x, int32_t n, bool any_anti)
{
    ss_cplan_t *p = x->p;
    int32_t first = p->n_moves, nw0 = x->n_w, floor0 = x->floor, rfloor0 = x->rfloor, rc = 1;
    x->draining[n] = 1;
    index_sync(x, n);
    x->n_log = 0;
    for (int32_t i = x->nbeg[n]; i < x->nbeg[n + 1] && rc == 1; i++) {
        int32_t q = x->npods[i];
        if (x->pod_at[q] != n)
            continue; /* already moved with its gang */
        rc = x->why[q] != SS_MOVE_OK ? 0 : move_unit(x, q, any_anti);
    }
    if (rc == 1) {
        rc = push_drain(x, n, 1); /* the wave is set at the end */
        return rc < 0 ? rc : 1;
    }
    if (rc < 0)
        return rc;
    undo_moves(x, first);
    undo_used(x);
    x->n_w = nw0; /* the waves it opened are empty again */
    x->floor = floor0;
    x->rfloor = rfloor0;
    x->draining[n] = 0;
    index_sync(x, n);
    p->not_freed++;
    return rc;
}

/* ---- setup ---- */

/* CSR of the running pods by key[pod] in [0, n): beg[n + 1], list. */
static int csr(const ss_cluster_t *c, const int32_t *key, int32_t n, int32_t **beg, int32_t **list)
{
    *beg = calloc((size_t)n + 1, sizeof **beg);
    *list = malloc((c->n_pods ? (size_t)c->n_pods : 1) * sizeof **list);
    if (!*beg || !*list)
        return SS_ENOMEM;
    for (int32_t q = 0; q < c->n_pods; q++)
        if (c->pod_node[q] >= 0 && key[q] >= 0)
            (*beg)[key[q] + 1]++;
    for (int32_t i = 0; i < n; i++)
        (*beg)[i + 1] += (*beg)[i];
    int32_t *at = malloc(((size_t)n + 1) * sizeof *at);
    if (!at)
        return SS_ENOMEM;
    memcpy(at, *beg, ((size_t)n + 1) * sizeof *at);
    for (int32_t q = 0; q < c->n_pods; q++)
        if (c->pod_node[q] >= 0 && key[q] >= 0)
            (*list)[at[key[q]]++] = q;
    free(at);
    return 0;
}

/* Each running pod's reason; a gang with a fixed member, or with a
 * required topology domain (not modelled here), keeps all its members. */
static void reasons(cx_t *x)
{
    const ss_cluster_t *c = x->c;
    for (int32_t q = 0; q < c->n_pods; q++) {
        x->pod_at[q] = c->pod_node[q];
        x->why[q] = c->pod_node[q] < 0
                        ? SS_MOVE_OK
                        : (int8_t)ss_consolidate_movable(c, q, x->o->allow, x->allowed);
        if (c->pod_node[q] >= 0 && !(c->templates[c->pod_template[q]].flags & SS_TF_EVICT_FACTS))
            x->p->facts_unknown++;
    }
    for (int32_t g = 0; g < c->n_groups; g++) {
        bool fixed = c->group_topo_mode[g] == SS_TOPO_MODE_REQUIRED;
        for (int32_t i = x->gbeg[g]; i < x->gbeg[g + 1]; i++)
            fixed |= x->why[x->gpods[i]] != SS_MOVE_OK;
        for (int32_t i = x->gbeg[g]; fixed && i < x->gbeg[g + 1]; i++)
            if (x->why[x->gpods[i]] == SS_MOVE_OK)
                x->why[x->gpods[i]] = SS_MOVE_GANG;
    }
    for (int32_t q = 0; q < c->n_pods; q++)
        if (c->pod_node[q] >= 0)
            x->p->unmovable[(int)x->why[q]]++;
}

static const ss_cluster_t *sort_c;
static const int32_t *sort_beg;
static const ss_state_t *sort_s;

/* Auto order: fewest running pods, then least requested cpu, then row. */
static int cmp_cand(const void *a, const void *b)
{
    int32_t i = *(const int32_t *)a, j = *(const int32_t *)b;
    int32_t pi = sort_beg[i + 1] - sort_beg[i], pj = sort_beg[j + 1] - sort_beg[j];
    if (pi != pj)
        return pi < pj ? -1 : 1;
    int64_t ri = sort_c->node_cpu[i] - sort_s->free_cpu[i];
    int64_t rj = sort_c->node_cpu[j] - sort_s->free_cpu[j];
    if (ri != rj)
        return ri < rj ? -1 : 1;
    return i < j ? -1 : i > j;
}

static bool has_host_anti(const cx_t *x)
{
    const ss_cluster_t *c = x->c;
    for (int32_t i = 0; i < c->n_pterms; i++)
        if (c->pterms[i].weight == 0 && c->pterms[i].kind == SS_PT_ANTI_AFFINITY &&
            c->pterms[i].key == x->host)
            return true;
    return false;
}

static void cx_free(cx_t *x)
{
    ss_state_destroy(x->s);
    ss_consol_rules_destroy(x->rules);
    free(x->allowed);
    free(x->wused);
    free(x->ks);
    free(x->open);
    free(x->why);
    free(x->pod_at);
    free(x->nbeg);
    free(x->npods);
    free(x->gbeg);
    free(x->gpods);
    free(x->draining);
    free(x->recv);
    free(x->pending_cand);
    free(x->cnt);
    free(x->log_k);
    for (int32_t t = 0; x->stat && t < x->c->n_templates; t++)
        free(x->stat[t]);
    for (int32_t t = 0; x->stat_cls && t < x->c->n_templates; t++)
        free(x->stat_cls[t]);
    free(x->stat);
    free(x->stat_cls);
    ss_cidx_destroy(x->ix);
    free(x->in_head);
    free(x->in_next);
}

static int cx_init(cx_t *x, const ss_cluster_t *c, const ss_consolidate_opts_t *o, ss_cplan_t *p,
                   bool scan)
{
    size_t N = c->n_nodes ? (size_t)c->n_nodes : 1, P = c->n_pods ? (size_t)c->n_pods : 1;
    size_t K = c->n_pdbs ? (size_t)c->n_pdbs : 1;
    memset(x, 0, sizeof *x);
    x->c = c;
    x->o = o;
    x->p = p;
    ss_match_ctx_init(&x->x, c);
    x->host = x->x.hostname;
    x->s = ss_state_create(c);
    x->allowed = calloc(K, sizeof *x->allowed);
    x->ks = calloc(K, sizeof *x->ks);
    x->open = malloc(K * sizeof *x->open);
    for (size_t k = 0; x->open && k < K; k++)
        x->open[k] = 1;
    x->cnt = calloc(K, sizeof *x->cnt);
    x->why = calloc(P, sizeof *x->why);
    x->pod_at = calloc(P, sizeof *x->pod_at);
    x->draining = calloc(N, 1);
    x->pending_cand = calloc(N, 1);
    x->recv = calloc(N, sizeof *x->recv);
    x->stat = calloc(c->n_templates ? (size_t)c->n_templates : 1, sizeof *x->stat);
    x->stat_cls = calloc(c->n_templates ? (size_t)c->n_templates : 1, sizeof *x->stat_cls);
    x->in_head = malloc(N * sizeof *x->in_head);
    if (x->in_head)
        memset(x->in_head, 0xff, N * sizeof *x->in_head);
    if (x->s && !scan && !(x->ix = ss_cidx_create(c, x->s)))
        return SS_ENOMEM;
    if (!x->stat || !x->stat_cls || !x->in_head || !x->open || !x->s || !x->allowed || !x->ks ||
        !x->cnt || !x->why || !x->pod_at || !x->draining || !x->pending_cand || !x->recv)
        return SS_ENOMEM;
    if (csr(c, c->pod_node, c->n_nodes, &x->nbeg, &x->npods) < 0 ||
        csr(c, c->pod_group, c->n_groups, &x->gbeg, &x->gpods) < 0 ||
        ss_pdb_allowed_all(c, x->allowed) < 0 || ss_consol_rules_create(c, &x->rules) < 0)
        return SS_ENOMEM;
    return 0;
}

/* The candidates in the order tried (o->only, or every node sorted). */
static int32_t *candidates(cx_t *x, int32_t *n)
{
    const ss_cluster_t *c = x->c;
    *n = x->o->only ? x->o->n_only : c->n_nodes;
    int32_t *v = malloc((*n ? (size_t)*n : 1) * sizeof *v);
    if (!v)
        return NULL;
    for (int32_t i = 0; i < *n; i++)
        v[i] = x->o->only ? x->o->only[i] : i;
    if (!x->o->only) {
        sort_c = c;
        sort_beg = x->nbeg;
        sort_s = x->s;
        qsort(v, (size_t)*n, sizeof *v, cmp_cand);
    } else {
        for (int32_t i = 0; i < *n; i++)
            x->pending_cand[v[i]] = 1;
    }
    return v;
}

/* Orders the moves by wave (stable: the order chosen within a wave), sets
 * each drained node's wave (its earliest move's; 1 if it was empty) and the
 * wave count. Returns 0 or SS_ENOMEM. */
static int finish(ss_cplan_t *p, const ss_cluster_t *c)
{
    int32_t n = p->n_moves, W = 0;
    for (int32_t i = 0; i < n; i++)
        W = p->move_wave[i] > W ? p->move_wave[i] : W;
    int32_t *beg = calloc((size_t)W + 2, sizeof *beg), *perm = malloc((n ? (size_t)n : 1) * 24);
    int32_t *first = malloc((c->n_nodes ? (size_t)c->n_nodes : 1) * sizeof *first);
    if (!beg || !perm || !first) {
        free(beg);
        free(perm);
        free(first);
        return SS_ENOMEM;
    }
    for (int32_t i = 0; i < n; i++)
        beg[p->move_wave[i] + 1]++;
    for (int32_t w = 0; w <= W; w++)
        beg[w + 1] += beg[w];
    for (int32_t i = 0; i < n; i++)
        perm[beg[p->move_wave[i]]++] = i;
    int32_t *tmp = perm + n;
    uint64_t *tm = (uint64_t *)(void *)(perm + 2 * (size_t)n);
    int32_t *cols[4] = {p->move_pod, p->move_from, p->move_to, p->move_wave};
    for (int k = 0; k < 4 && n > 0; k++) { /* no moves: the columns may be NULL */
        for (int32_t i = 0; i < n; i++)
            tmp[i] = cols[k][perm[i]];
        memcpy(cols[k], tmp, (size_t)n * sizeof *tmp);
    }
    for (int32_t i = 0; i < n; i++)
        tm[i] = p->move_gpu_mask[perm[i]];
    if (n)
        memcpy(p->move_gpu_mask, tm, (size_t)n * sizeof *tm);
    for (int32_t i = 0; i < c->n_nodes; i++)
        first[i] = 0;
    for (int32_t i = n - 1; i >= 0; i--)
        first[p->move_from[i]] = p->move_wave[i];
    p->n_waves = W;
    for (int32_t i = 0; i < p->n_drain; i++) {
        p->drain_wave[i] = first[p->drain_node[i]] ? first[p->drain_node[i]] : 1;
        p->n_waves = p->drain_wave[i] > p->n_waves ? p->drain_wave[i] : p->n_waves;
    }
    free(beg);
    free(perm);
    free(first);
    return 0;
}

static int plan(const ss_cluster_t *c, const ss_consolidate_opts_t *o, ss_cplan_t *out,
                ss_error_t *err, bool scan)
{
    cx_t x;
    int32_t nc = 0, *cand = NULL;
    memset(out, 0, sizeof *out);
    for (int32_t i = 0; o->only && i < o->n_only; i++)
        if (o->only[i] < 0 || o->only[i] >= c->n_nodes)
            return ss_error_set(err, SS_EINVAL, "consolidate: node row %d out of range",
                                (int)o->only[i]);
    out->allow = o->allow;
    int rc = cx_init(&x, c, o, out, scan);
    if (rc == 0 && !(cand = candidates(&x, &nc)))
        rc = SS_ENOMEM;
    if (rc == 0) {
        reasons(&x);
        bool any_anti = has_host_anti(&x);
        for (int32_t n = 0; n < c->n_nodes; n++)
            index_sync(&x, n);
        for (int32_t i = 0; i < nc && rc >= 0; i++) {
            int32_t n = cand[i];
            x.pending_cand[n] = 0;
            index_sync(&x, n);
            if (x.draining[n] || (!o->only && x.recv[n] > 0))
                continue; /* listed twice, or took a pod already */
            out->candidates++;
            rc = try_node(&x, n, any_anti);
        }
    }
    if (rc >= 0)
        rc = finish(out, c);
    free(cand);
    cx_free(&x);
    if (rc < 0) {
        ss_cplan_free(out);
        return ss_error_set(err, rc, "consolidate: out of memory");
    }
    return 0;
}

int ss_consolidate(const ss_cluster_t *c, const ss_consolidate_opts_t *o, ss_cplan_t *out,
                   ss_error_t *err)
{
    return plan(c, o, out, err, false);
}

int ss_consolidate_scan(const ss_cluster_t *c, const ss_consolidate_opts_t *o, ss_cplan_t *out,
                        ss_error_t *err)
{
    return plan(c, o, out, err, true);
}
