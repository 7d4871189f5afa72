/* ss_repair: the repair pass after the greedy schedule (see ss_repair.h).
 *
 * Each stranded pod in scope is tried in queue order with an augmenting
 * search by iterative deepening over the depth d = 0, 1, 2 of a chain:
 * d = 0 places it where it fits now (best fit: the least cpu left, then
 * memory, then the lowest node index); d >= 1 goes over the nodes its static
 * filters allow, by index, and makes room there by taking off one candidate
 * (a movable pod of no higher priority, by row), or two, or the largest set
 * needed (the node's candidates that use the resource it is short of, by
 * row), each taken-off pod then placed elsewhere at depth d - 1. Every change
 * goes through an undo log, so a failed branch, a gang that does not fit
 * whole or a pod that ran out of budget leaves the state exactly as it was.
 * A template whose pod failed is not tried again until something is placed
 * (the same search on the same state would fail again). */
#include "ss_repair.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ss_match.h"
#include "ss_reason.h"
#include "ss_rules.h"
#include "ss_state.h"
#include "ss_verify.h"

typedef struct {
    int32_t row, node, seq, reason;
    uint64_t mask;
} rp_undo_t;

typedef struct {
    const ss_cluster_t *c;
    ss_placements_t *pl;
    ss_state_t *st;
    ss_match_ctx_t mx;
    uint8_t *iso;     /* [n_templates] no hard inter-pod rule involves it */
    uint8_t *movable; /* [rows] placed rows the pass may move */
    int32_t *head;    /* [n_nodes] first movable row on the node, -1 */
    int32_t *next, *prev;
    rp_undo_t *log;
    int32_t n_log, cap_log;
    int64_t checks, budget;
    int32_t next_seq;
    /* A pod of template t that failed at epoch fail_epoch[t] (placements
     * kept so far) with priority fail_prio[t]: the same search on the same
     * state fails again for any pod of t with no higher priority. */
    int64_t epoch;
    int any_prio; /* this pass may move pods of any priority */
    int64_t *fail_epoch;
    int32_t *fail_prio;
    int rc;
} rp_t;

void ss_repair_opts_default(ss_repair_opts_t *o)
{
    o->depth = 2;
    o->budget = 200000;
    o->any_priority = 0;
    o->verify = 1;
}

static int32_t tmpl_of(const rp_t *r, int32_t row)
{
    return r->c->pod_template[r->pl->pod[row]];
}

static int32_t prio_of(const rp_t *r, int32_t row)
{
    return r->c->pod_priority[r->pl->pod[row]];
}

/* True iff one of the hard selectors (DoNotSchedule spreads, required pod
 * terms) of any template matches template t's pod labels. */
static bool seen_by_hard_rule(const ss_cluster_t *c, const ss_template_t *t)
{
    for (int32_t s = 0; s < c->n_spreads; s++)
        if (c->spreads[s].when == SS_WHEN_DO_NOT_SCHEDULE &&
            ss_sel_match(c, &c->spreads[s].sel, t->plabel_begin, t->plabel_count))
            return true;
    for (int32_t k = 0; k < c->n_pterms; k++)
        if (c->pterms[k].weight == 0 &&
            ss_sel_match(c, &c->pterms[k].sel, t->plabel_begin, t->plabel_count))
            return true;
    return false;
}

static void list_add(rp_t *r, int32_t row)
{
    int32_t n = r->pl->node[row];
    r->prev[row] = -1;
    r->next[row] = r->head[n];
    if (r->head[n] >= 0)
        r->prev[r->head[n]] = row;
    r->head[n] = row;
}

static void list_del(rp_t *r, int32_t row)
{
    int32_t n = r->pl->node[row];
    if (r->prev[row] >= 0)
        r->next[r->prev[row]] = r->next[row];
    else
        r->head[n] = r->next[row];
    if (r->next[row] >= 0)
        r->prev[r->next[row]] = r->prev[row];
}

/* Sets row to (node, mask, seq, reason), keeping the state and the lists in
 * step. log: record the old values. */
static void set_row(rp_t *r, int32_t row, int32_t node, uint64_t mask, int32_t seq, int32_t reason,
                    int log)
{
    ss_placements_t *pl = r->pl;
    const ss_template_t *t = &r->c->templates[tmpl_of(r, row)];
    if (log) {
        if (r->n_log == r->cap_log) {
            int32_t cap = r->cap_log ? 2 * r->cap_log : 256;
            rp_undo_t *g = realloc(r->log, (size_t)cap * sizeof *g);
            if (!g) {
                r->rc = SS_ENOMEM;
                return;
            }
            r->log = g;
            r->cap_log = cap;
        }
        r->log[r->n_log++] =
            (rp_undo_t){row, pl->node[row], pl->seq[row], pl->reason[row], pl->gpu_mask[row]};
    }
    if (pl->node[row] >= 0) {
        ss_state_apply(r->st, t, pl->node[row], pl->gpu_mask[row], -1);
        if (r->movable[row])
            list_del(r, row);
    }
    pl->node[row] = node;
    pl->gpu_mask[row] = mask;
    pl->seq[row] = seq;
    pl->reason[row] = reason;
    if (node >= 0) {
        ss_state_apply(r->st, t, node, mask, +1);
        if (r->movable[row])
            list_add(r, row);
    }
}

static void rollback(rp_t *r, int32_t mark)
{
    while (r->n_log > mark) {
        rp_undo_t u = r->log[--r->n_log];
        set_row(r, u.row, u.node, u.mask, u.seq, u.reason, 0);
    }
}

static void place(rp_t *r, int32_t row, int32_t node, int32_t seq)
{
    const ss_template_t *t = &r->c->templates[tmpl_of(r, row)];
    set_row(r, row, node, ss_state_pick_gpus(r->st, t, node), seq, SS_REASON_NONE, 1);
}

static bool static_ok(rp_t *r, int32_t tmpl, int32_t node)
{
    r->checks++;
    return ss_match_static(&r->mx, r->c, tmpl, node) == SS_REASON_NONE;
}

static bool fits(rp_t *r, int32_t tmpl, int32_t node)
{
    r->checks++;
    return ss_state_fit(r->st, &r->c->templates[tmpl], node) == SS_REASON_NONE &&
           static_ok(r, tmpl, node);
}

static int place_any(rp_t *r, int32_t row, int32_t seq, int depth, int32_t prio);

/* Makes room for row on node n by moving two of its candidates buf[0..k)
 * (each then placed with chains of depth - 1). Same returns as place_any. */
static int place_pair(rp_t *r, int32_t row, int32_t seq, int depth, int32_t prio, int32_t n,
                      const int32_t *buf, int32_t k)
{
    const ss_template_t *t = &r->c->templates[tmpl_of(r, row)];
    for (int32_t i = 0; i < k && r->checks < r->budget; i++)
        for (int32_t j = i + 1; j < k && r->checks < r->budget; j++) {
            int32_t a = buf[i], b = buf[j], aseq = r->pl->seq[a], bseq = r->pl->seq[b];
            int32_t mark = r->n_log;
            set_row(r, a, -1, 0, -1, SS_REASON_CPU, 1);
            set_row(r, b, -1, 0, -1, SS_REASON_CPU, 1);
            r->checks++;
            int got = 0;
            if (ss_state_fit(r->st, t, n) == SS_REASON_NONE) {
                place(r, row, n, seq);
                got = r->rc < 0 ? -1 : place_any(r, a, aseq, depth - 1, prio);
                if (got > 0)
                    got = place_any(r, b, bseq, depth - 1, prio);
                if (got != 0)
                    return got;
            }
            rollback(r, mark);
            if (r->rc < 0)
                return -1;
        }
    return 0;
}

/* True iff row asks a nonzero amount of the resource `reason` names. */
static bool uses(const rp_t *r, int32_t row, int reason)
{
    const ss_request_t *q = &r->c->templates[tmpl_of(r, row)].req;
    switch (reason) {
    case SS_REASON_CPU:
        return q->cpu_milli > 0;
    case SS_REASON_MEMORY:
        return q->memory > 0;
    case SS_REASON_GPU:
        return q->gpu_count > 0;
    case SS_REASON_EXT:
        for (int e = 0; e < SS_MAX_EXT; e++)
            if (q->ext[e] > 0)
                return true;
        return false;
    default: /* pod slots: every pod */
        return true;
    }
}

/* Makes room for row on node n by taking off candidates buf[0..k) that use
 * the resource it is short of, one at a time until it fits; those it can do
 * without go back, the others are placed elsewhere with chains of depth - 1
 * (this is how a whole-GPU pod gets a node whose GPUs are shared by several
 * small pods). Same returns as place_any. */
static int place_evict(rp_t *r, int32_t row, int32_t seq, int depth, int32_t prio, int32_t n,
                       const int32_t *buf, int32_t k)
{
    const ss_template_t *t = &r->c->templates[tmpl_of(r, row)];
    int32_t mark = r->n_log, off[256], offseq[256], n_off = 0;
    int why;
    for (int32_t i = 0; i < k && (why = ss_state_fit(r->st, t, n)) != SS_REASON_NONE; i++) {
        r->checks++;
        if (!uses(r, buf[i], why))
            continue;
        off[n_off] = buf[i];
        offseq[n_off++] = r->pl->seq[buf[i]];
        set_row(r, buf[i], -1, 0, -1, SS_REASON_CPU, 1);
    }
    if (n_off < 3 || ss_state_fit(r->st, t, n) != SS_REASON_NONE) { /* 1, 2: done before */
        rollback(r, mark);
        return r->rc < 0 ? -1 : 0;
    }
    place(r, row, n, seq);
    int got = r->rc < 0 ? -1 : 1;
    for (int32_t i = n_off - 1; i >= 0 && got > 0; i--) {
        int32_t m = off[i];
        if (fits(r, tmpl_of(r, m), n)) /* not needed after all */
            place(r, m, n, offseq[i]);
        else
            got = place_any(r, m, offseq[i], depth - 1, prio);
        if (r->rc < 0)
            got = -1;
    }
    if (got == 0)
        rollback(r, mark);
    return r->rc < 0 ? -1 : got;
}

/* Places the unplaced row (with seq) using chains of at most `depth` moves
 * of movable rows with priority <= prio. Returns 1 placed, 0 not (state as
 * before), -1 out of memory. */
static int place_any(rp_t *r, int32_t row, int32_t seq, int depth, int32_t prio)
{
    const ss_cluster_t *c = r->c;
    int32_t t = tmpl_of(r, row);
    int32_t best = -1; /* best fit: the least cpu left, then memory, lowest index */
    for (int32_t n = 0; n < c->n_nodes && r->checks < r->budget; n++)
        if (fits(r, t, n) && (best < 0 || r->st->free_cpu[n] < r->st->free_cpu[best] ||
                              (r->st->free_cpu[n] == r->st->free_cpu[best] &&
                               r->st->free_mem[n] < r->st->free_mem[best])))
            best = n;
    if (best >= 0) {
        place(r, row, best, seq);
        return r->rc < 0 ? -1 : 1;
    }
    if (depth == 0)
        return 0;
    int32_t buf[256];
    for (int32_t n = 0; n < c->n_nodes && r->checks < r->budget; n++) {
        if (!static_ok(r, t, n))
            continue;
        int32_t k = 0; /* the node's candidates, fixed before anything moves */
        for (int32_t m = r->head[n]; m >= 0 && k < 256; m = r->next[m])
            if (r->any_prio || prio_of(r, m) <= prio) {
                int32_t j = k++; /* by row: independent of the list's history */
                for (; j > 0 && buf[j - 1] > m; j--)
                    buf[j] = buf[j - 1];
                buf[j] = m;
            }
        for (int32_t i = 0; i < k && r->checks < r->budget; i++) {
            int32_t m = buf[i], mseq = r->pl->seq[m], mark = r->n_log;
            set_row(r, m, -1, 0, -1, SS_REASON_CPU, 1);
            r->checks++;
            if (ss_state_fit(r->st, &c->templates[t], n) == SS_REASON_NONE) {
                place(r, row, n, seq);
                int got = r->rc < 0 ? -1 : place_any(r, m, mseq, depth - 1, prio);
                if (got != 0)
                    return got;
            }
            rollback(r, mark);
            if (r->rc < 0)
                return -1;
        }
        int got = k > 1 ? place_pair(r, row, seq, depth, prio, n, buf, k) : 0;
        if (got == 0 && k > 2 && r->checks < r->budget)
            got = place_evict(r, row, seq, depth, prio, n, buf, k);
        if (got != 0)
            return got;
    }
    return 0;
}

/* Tries one unit: an ordinary pod at a time, or a gang whole. */
static int repair_unit(rp_t *r, const int32_t *order, const ss_unit_t *u, const int32_t *row_of,
                       int depth, ss_repair_stats_t *st)
{
    const ss_cluster_t *c = r->c;
    bool gang = u->group >= 0;
    if (gang) { /* every member stranded and in scope, no required topology */
        if (c->group_topo_mode[u->group] == SS_TOPO_MODE_REQUIRED)
            return 0;
        for (int32_t i = 0; i < u->count; i++) {
            int32_t row = row_of[order[u->begin + i]];
            if (r->pl->node[row] >= 0 || !r->iso[tmpl_of(r, row)])
                return 0;
        }
        st->candidates += u->count;
    }
    int32_t mark = r->n_log, seq0 = r->next_seq, added = 0;
    for (int32_t i = 0; i < u->count; i++) {
        int32_t pod = order[u->begin + i], row = row_of[pod];
        if (r->pl->node[row] >= 0)
            continue;
        if (!gang && (!r->iso[tmpl_of(r, row)] || c->pod_group[pod] >= 0))
            continue;
        if (!gang)
            st->candidates++;
        int32_t t = tmpl_of(r, row), prio = c->pod_priority[pod];
        if (!gang && r->fail_epoch[t] == r->epoch && prio <= r->fail_prio[t])
            continue;
        r->checks = 0;
        int got = 0;
        for (int d = 0; d <= depth && got == 0 && r->checks < r->budget; d++)
            got = place_any(r, row, r->next_seq, d, prio);
        st->checks += r->checks;
        if (got < 0)
            return got;
        if (got == 0 && !gang) {
            r->fail_epoch[t] = r->epoch;
            r->fail_prio[t] = prio;
        }
        if (got == 0 && gang) {
            rollback(r, mark);
            r->next_seq = seq0;
            return r->rc;
        }
        if (got) {
            r->next_seq++;
            added++;
        }
    }
    for (int32_t k = mark; k < r->n_log; k++) /* a move logs its old node */
        st->moved += r->log[k].node >= 0;
    st->added += added;
    r->epoch += added > 0;
    r->n_log = mark; /* kept: nothing before it is ever undone */
    return r->rc;
}

static void rp_free(rp_t *r)
{
    ss_state_destroy(r->st);
    free(r->iso);
    free(r->fail_epoch);
    free(r->fail_prio);
    free(r->movable);
    free(r->head);
    free(r->next);
    free(r->prev);
    free(r->log);
}

/* The state, scope and lists of pl. Returns 0 or SS_ENOMEM. */
static int rp_init(rp_t *r, const ss_cluster_t *c, ss_placements_t *pl)
{
    memset(r, 0, sizeof *r);
    r->c = c;
    r->pl = pl;
    r->st = ss_state_create(c);
    r->iso = calloc((size_t)c->n_templates + 1, 1);
    r->fail_epoch = malloc(((size_t)c->n_templates + 1) * sizeof *r->fail_epoch);
    r->fail_prio = malloc(((size_t)c->n_templates + 1) * sizeof *r->fail_prio);
    r->movable = calloc((size_t)pl->n + 1, 1);
    r->head = malloc(((size_t)c->n_nodes + 1) * sizeof *r->head);
    r->next = malloc(((size_t)pl->n + 1) * sizeof *r->next);
    r->prev = malloc(((size_t)pl->n + 1) * sizeof *r->prev);
    if (!r->st || !r->iso || !r->movable || !r->head || !r->next || !r->prev || !r->fail_epoch ||
        !r->fail_prio)
        return SS_ENOMEM;
    ss_match_ctx_init(&r->mx, c);
    for (int32_t t = 0; t < c->n_templates; t++) {
        const ss_template_t *tp = &c->templates[t];
        r->iso[t] = tp->spread_count == 0 && tp->pterm_count == 0 && tp->unsupported == 0 &&
                    !seen_by_hard_rule(c, tp);
    }
    for (int32_t n = 0; n < c->n_nodes; n++)
        r->head[n] = -1;
    for (int32_t t = 0; t < c->n_templates; t++)
        r->fail_epoch[t] = -1;
    for (int32_t v = 0; v < pl->n_victims; v++) /* preemptors stay where they are */
        r->movable[pl->victim_row[v]] = 2;
    for (int32_t i = 0; i < pl->n; i++) {
        int32_t pod = pl->pod[i];
        r->movable[i] = r->movable[i] == 0 && r->iso[c->pod_template[pod]] && c->pod_group[pod] < 0;
        r->next_seq = pl->seq[i] >= r->next_seq ? pl->seq[i] + 1 : r->next_seq;
        if (pl->node[i] >= 0) {
            ss_state_apply(r->st, &c->templates[c->pod_template[pod]], pl->node[i], pl->gpu_mask[i],
                           +1);
            if (r->movable[i])
                list_add(r, i);
        }
    }
    return 0;
}

/* 1 if the verifier finds violations in pl, 0 if none, < 0 on error. */
static int has_violations(const ss_cluster_t *c, const ss_placements_t *pl, ss_error_t *err)
{
    ss_verify_report_t rep;
    int64_t v = ss_verify(c, pl, &rep, err);
    ss_verify_report_free(&rep);
    return v < 0 ? (int)v : v > 0;
}

int ss_repair_run(const ss_cluster_t *c, const int32_t *order, const ss_unit_t *units,
                  int32_t n_units, const ss_repair_opts_t *o, ss_placements_t *pl,
                  ss_repair_stats_t *st, ss_error_t *err)
{
    ss_repair_opts_t def;
    ss_repair_stats_t mine;
    if (!o) {
        ss_repair_opts_default(&def);
        o = &def;
    }
    if (!st)
        st = &mine;
    memset(st, 0, sizeof *st);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int32_t n = pl->n;
    int32_t *row_of = malloc(((size_t)c->n_pods + 1) * sizeof *row_of);
    int32_t *keep = malloc(((size_t)n + 1) * 3 * sizeof *keep);
    uint64_t *keep_mask = malloc(((size_t)n + 1) * sizeof *keep_mask);
    rp_t r;
    memset(&r, 0, sizeof r);
    int rc = row_of && keep && keep_mask ? 0 : SS_ENOMEM;
    if (rc == 0) {
        for (int32_t p = 0; p < c->n_pods; p++)
            row_of[p] = -1;
        for (int32_t i = 0; i < n; i++) {
            row_of[pl->pod[i]] = i;
            keep[3 * i] = pl->node[i];
            keep[3 * i + 1] = pl->seq[i];
            keep[3 * i + 2] = pl->reason[i];
            keep_mask[i] = pl->gpu_mask[i];
            st->stranded += pl->node[i] < 0;
        }
        rc = rp_init(&r, c, pl);
    }
    r.budget = o->budget;
    int depth = o->depth < 1 ? 1 : o->depth > 2 ? 2 : o->depth;
    for (int pass = 0; pass < 1 + !!o->any_priority; pass++) { /* the priority rule first */
        r.any_prio = pass;
        r.epoch++; /* the memo of failures is per pass */
        int32_t cand = st->candidates;
        for (int32_t u = 0; rc == 0 && u < n_units; u++)
            rc = repair_unit(&r, order, &units[u], row_of, depth, st);
        if (pass)
            st->candidates = cand; /* the same pods again */
    }
    if (rc == 0 && o->verify && st->added > 0) {
        int v = has_violations(c, pl, err);
        if (v < 0)
            rc = v;
        else if (v > 0)
            st->rejected = 1;
    }
    if (rc < 0 || st->rejected) { /* the greedy plan, exactly */
        for (int32_t i = 0; i < n; i++) {
            pl->node[i] = keep[3 * i];
            pl->seq[i] = keep[3 * i + 1];
            pl->reason[i] = keep[3 * i + 2];
            pl->gpu_mask[i] = keep_mask[i];
        }
        if (rc == SS_ENOMEM)
            ss_error_set(err, rc, "out of memory in the repair pass");
    }
    rp_free(&r);
    free(row_of);
    free(keep);
    free(keep_mask);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    st->seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    return rc;
}
