/* ss_sched_preempt: priority preemption in the fast engine, after every
 * other placement, over the whole cluster, identically on every process (see
 * ss_sched_rules.h and docs/kubernetes.md, "Preemption"): kube-scheduler's
 * DefaultPreemption with its bounded candidate search, SelectVictimsOnNode
 * (remove every lower-priority pod, reprieve PDB-violating pods first, then
 * the others, most important first) and pickOneNodeForPreemption's order. */
#include <stdlib.h>
#include <string.h>

#include "ss_reason.h"
#include "ss_rules.h"
#include "ss_sched_rules.h"
#include "ss_subgroups.h"

struct res {
    int64_t cpu, mem, pods, ext[SS_MAX_EXT];
};

#define POT_CACHE 8

typedef struct {
    int32_t node, nv, n_viol, max_prio;
    int64_t sum_prio, start; /* start: earliest start among the highest-priority victims */
    int32_t *victims;
} cand_t;

typedef struct {
    ss_sched_t *s;
    const ss_cluster_t *c;
    ss_rview_t *v;
    ss_state_t *st;
    ss_work_t w;
    ss_placements_t *out;
    int64_t *key2;
    int32_t *seq2;
    int32_t *node_b, *node_pods; /* running pods by node (CSR) */
    uint8_t *removed;            /* [n_pods] victims so far */
    int32_t *pdb_left;           /* [n_pdbs] disruptions still allowed */
    int32_t *buf, *buf2;         /* [n_pods on a node] */
    int32_t *gfree;              /* [GPUs on a node] free milli-GPU while choosing victims */
    uint8_t *viol;               /* [n_pods on a node] */
    uint8_t *mark;               /* [n_counters] the counters the preemptor's hard rules read */
    ss_rprep_t *prep;            /* the preemptor's hard rules, prepared; NULL: none */
    int32_t *pot;                /* [n_nodes] the potential nodes of a preemptor */
    /* The potential nodes of the last few static verdicts (templates with
     * the same verdict have the same ones when no spread key decides). */
    int32_t pc_vent[POT_CACHE], pc_n[POT_CACHE], *pc_pot[POT_CACHE], pc_next;
    uint8_t *is_dirty;       /* [n_nodes] a victim left the node */
    int32_t *dirty, n_dirty; /* those nodes */
    int32_t low;             /* the lowest running priority: no victim below it */
    int8_t *why;             /* [cap_why] a gang's reasons before its try */
    int32_t cap_why;
    int32_t n_levels, *levels; /* the preemptors' distinct priorities, ascending */
    struct res *freeable;      /* [n_nodes * n_levels] requests of running pods below each */
    int64_t *fcpu, *fmem;      /* [n_levels * n_nodes] the same cpu and memory, level-major */
    int32_t cap_buf;
    int32_t *tp_b, *tp_pdb; /* per template: the PDBs whose selector its labels match (CSR) */
    int fast;               /* the current preemptor: resources and GPUs only (no filtering rule) */
    /* undo log of a gang's tentative work: +row placed, -(pod+1) victim */
    int32_t *undo;
    int32_t n_undo, cap_undo;
} pctx_t;

static const ss_template_t *tmpl_of(const pctx_t *x, int32_t pod)
{
    return &x->c->templates[x->c->pod_template[pod]];
}

static int remove_pod(pctx_t *x, int32_t pod, int sign)
{
    int32_t node = x->c->pod_node[pod];
    ss_state_apply(x->st, tmpl_of(x, pod), node, x->c->pod_gpu_mask[pod], sign);
    return ss_rview_add(x->v, pod, node, sign);
}

static int push_undo(pctx_t *x, int32_t e)
{
    if (x->n_undo == x->cap_undo) {
        int32_t c = x->cap_undo ? x->cap_undo * 2 : 64;
        int32_t *q = realloc(x->undo, (size_t)c * sizeof *q);
        if (!q)
            return SS_ENOMEM;
        x->undo = q;
        x->cap_undo = c;
    }
    x->undo[x->n_undo++] = e;
    return 0;
}

static inline int64_t start_of(const ss_cluster_t *c, int32_t p)
{
    return c->pod_start && c->pod_start[p] > 0 ? c->pod_start[p] : INT64_MAX; /* unknown: now */
}

/* kube's MoreImportantPod: higher priority, then earlier start, then index. */
static const ss_cluster_t *g_c;
static int cmp_important(const void *a, const void *b)
{
    int32_t p = *(const int32_t *)a, q = *(const int32_t *)b;
    if (g_c->pod_priority[p] != g_c->pod_priority[q])
        return g_c->pod_priority[p] > g_c->pod_priority[q] ? -1 : 1;
    if (start_of(g_c, p) != start_of(g_c, q))
        return start_of(g_c, p) < start_of(g_c, q) ? -1 : 1;
    return (p > q) - (p < q);
}

static int fits(pctx_t *x, int32_t pod, int32_t node)
{
    return ss_rules_check(x->s, &x->w, x->v, x->st, pod, node);
}

/* Resources only: does the pod fit on node once `extra` is freed? */
typedef struct res res_t;
static bool res_fit(const pctx_t *x, const ss_template_t *tp, int32_t node, const res_t *e)
{
    const ss_state_t *st = x->st;
    if (st->free_pods[node] + e->pods < 1 || st->free_cpu[node] + e->cpu < tp->req.cpu_milli ||
        st->free_mem[node] + e->mem < tp->req.memory)
        return false;
    for (int k = 0; k < x->c->n_ext; k++)
        if (st->free_ext[(size_t)node * SS_MAX_EXT + k] + e->ext[k] < tp->req.ext[k])
            return false;
    return true;
}
static void res_add(res_t *e, const ss_template_t *t, int sign)
{
    e->pods += sign;
    e->cpu += sign * t->req.cpu_milli;
    e->mem += sign * t->req.memory;
    for (int k = 0; k < SS_MAX_EXT; k++)
        e->ext[k] += sign * t->req.ext[k];
}

static int32_t level_of(const pctx_t *x, int32_t prio)
{
    for (int32_t i = 0; i < x->n_levels; i++)
        if (x->levels[i] == prio)
            return i;
    return -1;
}

/* Running pod q leaves (sign -1) or comes back (+1): the freeable sums of
 * the levels above its priority follow. */
static void freeable_add(pctx_t *x, int32_t q, int sign)
{
    int32_t node = x->c->pod_node[q];
    const ss_template_t *t = tmpl_of(x, q);
    for (int32_t i = 0; i < x->n_levels; i++)
        if (x->levels[i] > x->c->pod_priority[q]) {
            res_add(&x->freeable[(size_t)node * x->n_levels + i], t, sign);
            x->fcpu[(size_t)i * x->c->n_nodes + node] += sign * t->req.cpu_milli;
            x->fmem[(size_t)i * x->c->n_nodes + node] += sign * t->req.memory;
        }
}

/* The node's GPUs as x->gfree says, with pod q's share freed (sign +1) or
 * taken back (-1). */
static void gfree_add(pctx_t *x, int32_t q, int sign)
{
    const ss_template_t *t = tmpl_of(x, q);
    for (uint64_t m = x->c->pod_gpu_mask[q]; m && t->req.gpu_count > 0; m &= m - 1)
        x->gfree[__builtin_ctzll(m)] += sign * t->req.gpu_milli;
}

/* Resources only (the pod has no filtering rule): requests and GPUs fit
 * once `extra` and the GPUs in x->gfree are what is free beyond the state. */
static bool fast_fit(const pctx_t *x, const ss_template_t *tp, int32_t node, const res_t *extra)
{
    return res_fit(x, tp, node, extra) &&
           (tp->req.gpu_count == 0 ||
            ss_state_pick_gpus_from(x->c, tp, node, x->gfree) != UINT64_MAX);
}

/* SelectVictimsOnNode. 1: a candidate (c filled, state unchanged), 0: not,
 * negative: out of memory. */
static int select_victims(pctx_t *x, int32_t pod, int32_t node, int pdb_hard, cand_t *cd)
{
    const ss_cluster_t *c = x->c;
    int32_t pr = c->pod_priority[pod], n = 0;
    for (int32_t i = x->node_b[node]; i < x->node_b[node + 1]; i++) {
        int32_t q = x->node_pods[i];
        if (!x->removed[q] && c->pod_priority[q] < pr)
            x->buf[n++] = q;
    }
    if (n == 0)
        return 0;
    const ss_template_t *ptp = tmpl_of(x, pod);
    /* When no pod that could go is counted by the pod's filtering rules,
     * those rules see the same whatever goes: decided once, and the
     * victims are then chosen by resources and GPUs alone. */
    int fast = x->fast, i0 = 0;
    while (!fast && i0 < n && !ss_rules_counted(x->v, x->buf[i0], x->mark))
        i0++;
    if (!fast && i0 == n) {
        int why = ss_rules_prep_filter(x->v, x->prep, node);
        if (why != SS_REASON_NONE)
            return why < 0 ? why : 0;
        fast = 1;
    }
    res_t extra = {0};
    for (int32_t i = 0; i < n; i++)
        res_add(&extra, tmpl_of(x, x->buf[i]), +1);
    if (fast) { /* the GPUs as they would be with every lower-priority pod gone */
        int32_t b = c->node_gpu_begin[node];
        for (int32_t i = 0; i < c->node_gpu_count[node]; i++)
            x->gfree[i] = x->st->gpu_free[b + i];
        for (int32_t i = 0; i < n; i++)
            gfree_add(x, x->buf[i], +1);
    }
    if (!(fast ? fast_fit(x, ptp, node, &extra) : res_fit(x, ptp, node, &extra)))
        return 0; /* not even every lower-priority pod gone makes room */
    int why = SS_REASON_NONE;
    if (!fast) {
        for (int32_t i = 0; i < n; i++)
            if (remove_pod(x, x->buf[i], -1) < 0)
                return SS_ENOMEM;
        why = fits(x, pod, node);
        if (why != SS_REASON_NONE) {
            for (int32_t i = 0; i < n; i++)
                if (remove_pod(x, x->buf[i], +1) < 0)
                    return SS_ENOMEM;
            return why < 0 ? why : 0;
        }
    }
    /* x->buf is most important first: each node's pods are sorted so. */
    /* filterPodsWithPDBViolation: violating first, then the others. */
    uint8_t *viol = x->viol;
    memset(viol, 0, (size_t)n);
    for (int32_t i = 0; i < n; i++) { /* the budgets, counted down in x->pdb_left, then restored */
        int32_t q = x->buf[i], t = c->pod_template[q];
        for (int32_t j = x->tp_b[t]; c->templates[t].plabel_count > 0 && j < x->tp_b[t + 1]; j++)
            if (c->pdbs[x->tp_pdb[j]].ns == c->pod_ns[q] && --x->pdb_left[x->tp_pdb[j]] < 0)
                viol[i] = 1;
    }
    for (int32_t i = 0; i < n; i++) {
        int32_t q = x->buf[i], t = c->pod_template[q];
        for (int32_t j = x->tp_b[t]; c->templates[t].plabel_count > 0 && j < x->tp_b[t + 1]; j++)
            if (c->pdbs[x->tp_pdb[j]].ns == c->pod_ns[q])
                x->pdb_left[x->tp_pdb[j]]++;
    }
    int32_t m = 0;
    for (int pass = 1; pass >= 0; pass--)
        for (int32_t i = 0; i < n; i++)
            if (viol[i] == pass)
                x->buf2[m++] = x->buf[i] * 2 + pass;
    cd->nv = cd->n_viol = 0;
    int rc = 0;
    for (int32_t i = 0; i < m && rc == 0 && fast; i++) { /* resources only */
        int32_t q = x->buf2[i] / 2;
        res_add(&extra, tmpl_of(x, q), -1);
        gfree_add(x, q, -1);
        if (!fast_fit(x, ptp, node, &extra)) {
            res_add(&extra, tmpl_of(x, q), +1);
            gfree_add(x, q, +1);
            cd->victims[cd->nv++] = q;
            cd->n_viol += x->buf2[i] & 1;
        }
    }
    for (int32_t i = 0; i < m && rc == 0 && !fast; i++) { /* reprieve what still fits */
        int32_t q = x->buf2[i] / 2;
        if ((rc = remove_pod(x, q, +1)) < 0)
            break;
        why = fits(x, pod, node);
        if (why < 0) {
            rc = why;
        } else if (why != SS_REASON_NONE) {
            rc = remove_pod(x, q, -1);
            cd->victims[cd->nv++] = q;
            cd->n_viol += x->buf2[i] & 1;
        }
    }
    for (int32_t i = 0; i < cd->nv && rc == 0 && !fast; i++) /* leave the state as it was */
        rc = remove_pod(x, cd->victims[i], +1);
    if (rc < 0)
        return rc;
    if (pdb_hard && cd->n_viol > 0)
        return 0;
    cd->node = node;
    cd->max_prio = INT32_MIN;
    cd->sum_prio = 0;
    for (int32_t i = 0; i < cd->nv; i++) {
        int32_t p = c->pod_priority[cd->victims[i]];
        cd->max_prio = p > cd->max_prio ? p : cd->max_prio;
        cd->sum_prio += (int64_t)p + ((int64_t)INT32_MAX + 1);
    }
    cd->start = INT64_MAX;
    for (int32_t i = 0; i < cd->nv; i++)
        if (c->pod_priority[cd->victims[i]] == cd->max_prio &&
            start_of(c, cd->victims[i]) < cd->start)
            cd->start = start_of(c, cd->victims[i]);
    return 1;
}

static int cmp_pod(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* pickOneNodeForPreemption: true iff a is better than b. */
static bool better(const cand_t *a, const cand_t *b)
{
    if (a->n_viol != b->n_viol)
        return a->n_viol < b->n_viol;
    if (a->max_prio != b->max_prio)
        return a->max_prio < b->max_prio;
    if (a->sum_prio != b->sum_prio)
        return a->sum_prio < b->sum_prio;
    if (a->nv != b->nv)
        return a->nv < b->nv;
    if (a->start != b->start)
        return a->start > b->start;
    return a->node < b->node;
}

/* Whether pod, which failed before on every node, may fit now: with a
 * filtering rule it may anywhere (an affinity target landed since, a
 * spread minimum rose); without one only where a victim left (everything
 * else only lost room since). */
static bool may_fit_now(pctx_t *x, int32_t pod)
{
    if (ss_rules_has_hard_rules(x->v, pod))
        return true;
    int32_t t = x->c->pod_template[pod];
    ss_sched_verdict(x->s, &x->w, t);
    for (int32_t i = 0; i < x->n_dirty; i++) {
        int64_t bonus;
        int32_t n = x->dirty[i];
        if (ss_sched_node_static(x->s, &x->w, t, n, &bonus) == SS_REASON_NONE &&
            ss_state_fit(x->st, tmpl_of(x, pod), n) == SS_REASON_NONE)
            return true;
    }
    return false;
}

/* Places pod normally, or by preempting. 1 placed, 0 not, negative error. */
static int place_one(pctx_t *x, int32_t pod, const ss_sched_opts_t *o)
{
    const ss_cluster_t *c = x->c;
    int32_t row = x->s->row_of_pod[pod], got = 0;
    int rc = may_fit_now(x, pod)
                 ? ss_rules_place(x->s, &x->w, x->v, x->st, 0, &pod, 1, x->out, x->seq2, &got)
                 : 0;
    if (rc < 0)
        return rc;
    if (got) {
        x->key2[row] = x->out->seq[row];
        return push_undo(x, row) < 0 ? SS_ENOMEM : 1;
    }
    if (!o->preemption || (tmpl_of(x, pod)->flags & SS_TF_PREEMPT_NEVER) ||
        tmpl_of(x, pod)->mig_count > 0 ||
        c->pod_priority[pod] <= x->low) /* MIG pods do not preempt */
        return 0;
    int32_t L = level_of(x, c->pod_priority[pod]);
    int hard = ss_rules_has_hard_rules(x->v, pod);
    /* kube's DryRunPreemption: the potential nodes (static filters pass),
     * numCandidates of them from the offset, until one breaks no PDB. */
    int32_t N = 0, slot = -1;
    int keys = ss_rules_has_hard_spread(x->v, pod);
    ss_sched_verdict(x->s, &x->w, c->pod_template[pod]);
    int32_t vent = x->s->tmpl_vent[c->pod_template[pod]];
    int cacheable = !keys && !x->w.v.node_specific && vent >= 0;
    const int32_t *pot = x->pot;
    for (int32_t i = 0; i < POT_CACHE && cacheable && slot < 0; i++)
        if (x->pc_pot[i] && x->pc_vent[i] == vent)
            slot = i;
    if (slot >= 0) {
        N = x->pc_n[slot];
        pot = x->pc_pot[slot];
    }
    for (int32_t n = 0; n < c->n_nodes && slot < 0; n++) {
        int64_t bonus;
        if (ss_sched_node_static(x->s, &x->w, c->pod_template[pod], n, &bonus) != SS_REASON_NONE)
            continue;
        /* The first failing filter decides (kube): a missing spread key is
         * unresolvable, unless the resources already fail. */
        if (keys && ss_rules_missing_spread_key(x->v, pod, n) &&
            ss_state_fit(x->st, tmpl_of(x, pod), n) == SS_REASON_NONE)
            continue;
        x->pot[N++] = n;
    }
    if (slot < 0 && cacheable) {
        int32_t i = x->pc_next;
        x->pc_next = (x->pc_next + 1) % POT_CACHE;
        free(x->pc_pot[i]);
        if ((x->pc_pot[i] = malloc(((size_t)N + 1) * sizeof *x->pot))) {
            memcpy(x->pc_pot[i], x->pot, (size_t)N * sizeof *x->pot);
            x->pc_vent[i] = vent;
            x->pc_n[i] = N;
        }
    }
    int64_t want = (int64_t)N * o->min_candidate_pct / 100;
    if (want < o->min_candidate_abs)
        want = o->min_candidate_abs;
    if (want > N)
        want = N;
    cand_t best = {.node = -1}, cur = {0};
    best.victims = malloc(((size_t)x->cap_buf + 1) * sizeof(int32_t));
    cur.victims = malloc(((size_t)x->cap_buf + 1) * sizeof(int32_t));
    if (!best.victims || !cur.victims) {
        free(best.victims);
        free(cur.victims);
        return SS_ENOMEM;
    }
    const ss_template_t *ptp = tmpl_of(x, pod);
    /* Soft rules only score: the fit is then resources and GPUs only. */
    x->fast = !hard;
    if (hard) {
        ss_rules_mark_hard(x->v, pod, x->mark, 1);
        if (!(x->prep = ss_rules_prep_create(x->v, pod)))
            rc = SS_ENOMEM;
    }
    int32_t off = N > 0 ? (int32_t)(((uint64_t)o->seed) % (uint64_t)N) : 0;
    int64_t found = 0, nonviol = 0;
    const int64_t *fc = L >= 0 ? x->fcpu + (size_t)L * c->n_nodes : NULL;
    const int64_t *fm = L >= 0 ? x->fmem + (size_t)L * c->n_nodes : NULL;
    for (int32_t i = 0; i < N && rc == 0; i++) {
        int32_t node = pot[off + i < N ? off + i : off + i - N];
        if (L >= 0 && (x->st->free_cpu[node] + fc[node] < ptp->req.cpu_milli ||
                       x->st->free_mem[node] + fm[node] < ptp->req.memory ||
                       !res_fit(x, ptp, node, &x->freeable[(size_t)node * x->n_levels + L])))
            continue; /* even every lower-priority pod gone leaves no room */
        int k = select_victims(x, pod, node, o->pdb_hard, &cur);
        if (k < 0) {
            rc = k;
            break;
        }
        if (k == 0)
            continue;
        found++;
        nonviol += cur.n_viol == 0;
        if (best.node < 0 || better(&cur, &best)) {
            int32_t *vb = best.victims;
            best = cur;
            cur.victims = vb;
        }
        if (nonviol > 0 && found >= want)
            break;
    }
    int placed = 0;
    if (rc == 0 && best.node >= 0)
        qsort(best.victims, (size_t)best.nv, sizeof *best.victims, cmp_pod); /* by pod */
    if (rc == 0 && best.node >= 0) {
        for (int32_t i = 0; i < best.nv && rc == 0; i++) {
            int32_t q = best.victims[i];
            rc = remove_pod(x, q, -1);
            x->removed[q] = 1;
            freeable_add(x, q, -1);
            if (!x->is_dirty[best.node]) {
                x->is_dirty[best.node] = 1;
                x->dirty[x->n_dirty++] = best.node;
            }
            for (int32_t j = x->tp_b[c->pod_template[q]]; j < x->tp_b[c->pod_template[q] + 1]; j++)
                if (tmpl_of(x, q)->plabel_count > 0 && c->pdbs[x->tp_pdb[j]].ns == c->pod_ns[q])
                    x->pdb_left[x->tp_pdb[j]]--;
            if (rc == 0)
                rc = ss_placements_add_victim(x->out, row, q);
            if (rc == 0)
                rc = push_undo(x, -(q + 1));
        }
        const ss_template_t *tp = tmpl_of(x, pod);
        uint64_t mask = ss_policy_pick_gpus(x->s->pctx, x->st, c->pod_template[pod], best.node);
        ss_state_apply(x->st, tp, best.node, mask, +1);
        if (rc == 0)
            rc = ss_rview_add(x->v, pod, best.node, +1);
        x->out->node[row] = best.node;
        x->out->gpu_mask[row] = mask;
        x->out->reason[row] = SS_REASON_NONE;
        x->out->seq[row] = (*x->seq2)++;
        x->key2[row] = x->out->seq[row];
        if (rc == 0)
            rc = push_undo(x, row);
        placed = 1;
    }
    free(best.victims);
    free(cur.victims);
    if (hard)
        ss_rules_mark_hard(x->v, pod, x->mark, 0);
    ss_rules_prep_destroy(x->prep);
    x->prep = NULL;
    return rc < 0 ? rc : placed;
}

/* Undoes a gang's tentative placements and preemptions. */
static int undo_all(pctx_t *x, int reason)
{
    const ss_cluster_t *c = x->c;
    int rc = 0;
    for (int32_t i = x->n_undo - 1; i >= 0 && rc == 0; i--) {
        int32_t e = x->undo[i];
        if (e >= 0) {
            int32_t pod = x->out->pod[e];
            ss_state_apply(x->st, tmpl_of(x, pod), x->out->node[e], x->out->gpu_mask[e], -1);
            rc = ss_rview_add(x->v, pod, x->out->node[e], -1);
            x->out->node[e] = -1;
            x->out->gpu_mask[e] = 0;
            x->out->reason[e] = reason;
            x->out->seq[e] = -1;
            x->key2[e] = -1;
        } else {
            int32_t q = -e - 1;
            rc = remove_pod(x, q, +1);
            x->removed[q] = 0;
            freeable_add(x, q, +1);
            x->out->n_victims--;
            for (int32_t j = x->tp_b[c->pod_template[q]]; j < x->tp_b[c->pod_template[q] + 1]; j++)
                if (tmpl_of(x, q)->plabel_count > 0 && c->pdbs[x->tp_pdb[j]].ns == c->pod_ns[q])
                    x->pdb_left[x->tp_pdb[j]]++;
        }
    }
    x->n_undo = 0;
    return rc;
}

static int ctx_init(pctx_t *x, ss_sched_t *s, ss_rview_t *v, ss_state_t *st, ss_placements_t *out,
                    int64_t *key2, int32_t *seq2)
{
    const ss_cluster_t *c = s->c;
    memset(x, 0, sizeof *x);
    x->s = s;
    x->c = c;
    x->v = v;
    x->st = st;
    x->out = out;
    x->key2 = key2;
    x->seq2 = seq2;
    size_t nn = (size_t)c->n_nodes + 2, np = (size_t)c->n_pods + 1;
    x->node_b = calloc(nn, sizeof *x->node_b);
    x->node_pods = malloc(np * sizeof *x->node_pods);
    x->removed = calloc(np, 1);
    x->pdb_left = malloc(((size_t)c->n_pdbs + 1) * sizeof *x->pdb_left);
    if (!x->node_b || !x->node_pods || !x->removed || !x->pdb_left)
        return SS_ENOMEM;
    for (int32_t p = 0; p < c->n_pods; p++)
        if (c->pod_node[p] >= 0)
            x->node_b[c->pod_node[p] + 1]++;
    for (int32_t n = 0; n < c->n_nodes; n++) {
        int32_t k = x->node_b[n + 1];
        x->cap_buf = k > x->cap_buf ? k : x->cap_buf;
        x->node_b[n + 1] += x->node_b[n];
    }
    int32_t *fill = malloc(nn * sizeof *fill);
    x->buf = malloc(((size_t)x->cap_buf + 1) * sizeof *x->buf);
    x->buf2 = malloc(((size_t)x->cap_buf + 1) * sizeof *x->buf2);
    x->viol = malloc((size_t)x->cap_buf + 1);
    int32_t max_gpus = 0;
    for (int32_t n = 0; n < c->n_nodes; n++)
        max_gpus = c->node_gpu_count[n] > max_gpus ? c->node_gpu_count[n] : max_gpus;
    x->gfree = malloc(((size_t)max_gpus + 1) * sizeof *x->gfree);
    x->mark = calloc((size_t)ss_rules_n_counters(v) + 1, 1);
    x->pot = malloc(nn * sizeof *x->pot);
    x->is_dirty = calloc(nn, 1);
    x->dirty = malloc(nn * sizeof *x->dirty);
    if (!fill || !x->buf || !x->buf2 || !x->viol || !x->pot || !x->is_dirty || !x->dirty ||
        !x->gfree || !x->mark) {
        free(fill);
        return SS_ENOMEM;
    }
    memcpy(fill, x->node_b, nn * sizeof *fill);
    for (int32_t p = 0; p < c->n_pods; p++)
        if (c->pod_node[p] >= 0)
            x->node_pods[fill[c->pod_node[p]]++] = p;
    free(fill);
    g_c = c; /* each node's pods most important first, once */
    for (int32_t n = 0; n < c->n_nodes; n++)
        qsort(x->node_pods + x->node_b[n], (size_t)(x->node_b[n + 1] - x->node_b[n]),
              sizeof *x->node_pods, cmp_important);
    if (ss_pdb_allowed_all(c, x->pdb_left) < 0)
        return SS_ENOMEM;
    x->tp_b = calloc((size_t)c->n_templates + 2, sizeof *x->tp_b);
    int64_t cap = 64, n = 0;
    x->tp_pdb = malloc((size_t)cap * sizeof *x->tp_pdb);
    if (!x->tp_b || !x->tp_pdb)
        return SS_ENOMEM;
    for (int32_t t = 0; t < c->n_templates; t++) {
        const ss_template_t *tp = &c->templates[t];
        x->tp_b[t] = (int32_t)n;
        for (int32_t k = 0; k < c->n_pdbs && tp->plabel_count > 0; k++) {
            if (c->pdbs[k].sel.count == 0 || /* kube ignores an empty selector here */
                !ss_sel_match(c, &c->pdbs[k].sel, tp->plabel_begin, tp->plabel_count))
                continue;
            if (n == cap) {
                cap *= 2;
                int32_t *q = realloc(x->tp_pdb, (size_t)cap * sizeof *q);
                if (!q)
                    return SS_ENOMEM;
                x->tp_pdb = q;
            }
            x->tp_pdb[n++] = k;
        }
    }
    x->tp_b[c->n_templates] = (int32_t)n;
    x->levels = malloc(sizeof *x->levels * 16);
    int32_t cap_l = 16;
    if (!x->levels)
        return SS_ENOMEM;
    for (int32_t p = 0; p < c->n_pods; p++) {
        if (c->pod_node[p] >= 0 || level_of(x, c->pod_priority[p]) >= 0)
            continue;
        if (x->n_levels == cap_l) {
            cap_l *= 2;
            int32_t *q = realloc(x->levels, (size_t)cap_l * sizeof *q);
            if (!q)
                return SS_ENOMEM;
            x->levels = q;
        }
        x->levels[x->n_levels++] = c->pod_priority[p];
    }
    x->freeable = calloc((size_t)c->n_nodes * (size_t)x->n_levels + 1, sizeof *x->freeable);
    x->fcpu = calloc((size_t)c->n_nodes * (size_t)x->n_levels + 1, sizeof *x->fcpu);
    x->fmem = calloc((size_t)c->n_nodes * (size_t)x->n_levels + 1, sizeof *x->fmem);
    if (!x->freeable || !x->fcpu || !x->fmem)
        return SS_ENOMEM;
    for (int32_t p = 0; p < c->n_pods; p++)
        if (c->pod_node[p] >= 0)
            freeable_add(x, p, +1);
    x->w.lo = 0;
    x->w.hi = c->n_nodes;
    return 0;
}

static void ctx_free(pctx_t *x)
{
    free(x->node_b);
    free(x->node_pods);
    free(x->removed);
    free(x->pdb_left);
    free(x->buf);
    free(x->buf2);
    free(x->viol);
    free(x->gfree);
    free(x->mark);
    free(x->pot);
    for (int32_t i = 0; i < POT_CACHE; i++)
        free(x->pc_pot[i]);
    free(x->is_dirty);
    free(x->dirty);
    free(x->undo);
    free(x->tp_b);
    free(x->tp_pdb);
    free(x->levels);
    free(x->freeable);
    free(x->fcpu);
    free(x->fmem);
}

int ss_preempt_run(ss_sched_t *s, ss_rview_t *v, ss_state_t *st, const int32_t *order,
                   const ss_unit_t *units, int32_t n_units, ss_placements_t *out, int64_t *key2,
                   int32_t *seq2, ss_error_t *err)
{
    const ss_cluster_t *c = s->c;
    int32_t low = INT32_MAX;
    for (int32_t p = 0; p < c->n_pods; p++)
        if (c->pod_node[p] >= 0 && c->pod_priority[p] < low)
            low = c->pod_priority[p];
    pctx_t x;
    int rc = ctx_init(&x, s, v, st, out, key2, seq2);
    x.low = low;
    x.cap_why = 0;
    for (int32_t u = 0; u < n_units; u++)
        x.cap_why = units[u].count > x.cap_why ? units[u].count : x.cap_why;
    x.why = malloc((size_t)x.cap_why + 1);
    if (!x.why && rc == 0)
        rc = SS_ENOMEM;
    for (int32_t u = 0; u < n_units && rc == 0; u++) {
        const int32_t *pods = order + units[u].begin;
        int32_t g = units[u].group, placed = 0;
        x.n_undo = 0;
        for (int32_t i = 0; i < units[u].count && i < x.cap_why; i++)
            x.why[i] = (int8_t)out->reason[s->row_of_pod[pods[i]]];
        for (int32_t i = 0; i < units[u].count && rc == 0; i++) {
            int32_t row = s->row_of_pod[pods[i]];
            if (out->node[row] >= 0)
                continue;
            int k = place_one(&x, pods[i], &s->opts);
            if (k < 0)
                rc = k;
            placed += k > 0;
            if (k == 0 && g < 0) /* the next replicas would fail the same way */
                break;
        }
        int sub = rc == 0 && g >= 0 && placed >= c->group_min_member[g]
                      ? ss_subgroups_ok(c, pods, units[u].count, out, s->row_of_pod, s->sub_running)
                      : 1;
        if (sub < 0)
            rc = SS_ENOMEM;
        if (rc == 0 && g >= 0 && (placed < c->group_min_member[g] || !sub))
            rc = undo_all(&x, SS_REASON_GANG); /* as the first pass left it */
        for (int32_t i = 0; i < units[u].count && i < x.cap_why; i++) /* the first reasons */
            if (out->node[s->row_of_pod[pods[i]]] < 0)
                out->reason[s->row_of_pod[pods[i]]] = x.why[i];
    }
    ctx_free(&x);
    free(x.why);
    s->stats.preemptors = 0;
    for (int32_t i = 0; i < out->n_victims; i++)
        s->stats.preemptors += i == 0 || out->victim_row[i] != out->victim_row[i - 1];
    if (rc < 0)
        return ss_error_set(err, SS_ENOMEM, "out of memory while preempting");
    return 0;
}
