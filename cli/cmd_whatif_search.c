/* cmd_whatif_search.c: --min-nodes' answer for `shardsched whatif`
 * (cli/cmd_whatif.h): the first schedule's placements made running, the
 * first-fit-decreasing estimate with the expander, then a search over the
 * counts on probe clusters (the new nodes and the pods left over only,
 * ss_whatif_probe: milliseconds where the whole cluster takes seconds), and
 * one schedule of the whole cluster with the answer to verify it, with
 * every rule; only when that schedule places fewer pods than the probes
 * said does the search go on over whole-cluster schedules. docs/whatif.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_whatif.h"
#include "ss_dist.h"

int ss_wi_schedule(run_t *r, ss_error_t *err)
{
    ss_layout_t l;
    ss_dist_part_t part;
    ss_layout_build(r->c, r->ro.part_nodes, r->ro.shard_nodes, &l);
    ss_dist_partition(r->comm, &l, &part);
    ss_placements_destroy(r->pl);
    r->pl = NULL;
    r->schedules++;
    return ss_run_schedule(r->comm, &r->ro, r->c, &part, &r->pl, err);
}

int ss_wi_set_copies(run_t *r, const int32_t *counts, ss_error_t *err)
{
    ss_whatif_remove(r->c, &r->undo);
    return ss_whatif_add(r->c, &r->pools, counts, &r->undo, err);
}

/* ---- --min-nodes ---- */

int32_t *ss_wi_target_pods(const run_t *r, int32_t *n)
{
    const ss_cluster_t *c = r->c;
    int32_t *t = malloc(((size_t)c->n_pods + 1) * sizeof *t), k = 0;
    for (int32_t p = 0; t && p < c->n_pods; p++)
        if (c->pod_node[p] < 0 && (r->group < 0 || c->pod_group[p] == r->group))
            t[k++] = p;
    *n = k;
    return t;
}

int32_t ss_wi_target_placed(const run_t *r)
{
    int32_t k = 0;
    for (int32_t i = 0; i < r->pl->n; i++)
        k += r->pl->node[i] >= 0 &&
             (r->leftover ? r->leftover[r->pl->pod[i]]
                          : r->group < 0 || r->c->pod_group[r->pl->pod[i]] == r->group);
    return k;
}

/* Expander rounds over the pods rem[0 .. *n) (unplaced by the first
 * schedule): each round estimates every pool not chosen yet, the expander
 * picks one, its pods leave rem. est[k] = the nodes of pool k. */
static int estimate(run_t *r, int32_t *rem, int32_t *n, int32_t *est, ss_error_t *err)
{
    int32_t np = r->pools.n, nrem = *n;
    ss_whatif_option_t *opt = calloc((size_t)np + 1, sizeof *opt);
    uint8_t **fits = calloc((size_t)np + 1, sizeof *fits);
    uint8_t *chosen = calloc((size_t)np + 1, 1);
    int rc = opt && fits && chosen ? 0 : ss_error_set(err, SS_ENOMEM, "out of memory");
    r->first_pool = -1;
    while (rc == 0 && nrem > 0) {
        int32_t no = 0;
        for (int32_t k = 0; rc == 0 && k < np; k++) {
            if (!r->use[k] || chosen[k] || r->limit[k] == 0)
                continue;
            if (!fits[no] && !(fits[no] = malloc((size_t)nrem)))
                rc = ss_error_set(err, SS_ENOMEM, "out of memory");
            opt[no].est.fits = fits[no];
            opt[no].pool = k;
            opt[no].priority = r->prio[k];
            if (rc == 0)
                rc = ss_whatif_ffd(r->c, r->pools.first[k], rem, nrem, r->limit[k], &opt[no].est,
                                   err);
            no++;
        }
        int32_t b = rc == 0 ? ss_whatif_expand(r->o->expander, opt, no) : -1;
        if (b < 0)
            break;
        int32_t k = opt[b].pool, m = 0;
        chosen[k] = 1;
        est[k] = opt[b].est.nodes;
        r->lower_bound += opt[b].est.lower_bound;
        if (r->first_pool < 0)
            r->first_pool = k;
        for (int32_t i = 0; i < nrem; i++)
            if (!opt[b].est.fits[i])
                rem[m++] = rem[i];
        nrem = m;
    }
    *n = nrem;
    for (int32_t k = 0; fits && k < np; k++)
        free(fits[k]);
    free(fits);
    free(opt);
    free(chosen);
    return rc;
}

/* The counts at scale x (64 = base), capped by --pool-size. */
static void scaled(const run_t *r, const int32_t *base, int64_t x, int32_t *cnt)
{
    for (int32_t k = 0; k < r->pools.n; k++) {
        int64_t v = base[k] > 0 ? (base[k] * x + 63) / 64 : 0;
        if (r->limit[k] >= 0 && v > r->limit[k])
            v = r->limit[k];
        cnt[k] = v > 1000000 ? 1000000 : (int32_t)v;
    }
}

/* One try of the search: the target pods placed with counts cnt. */
typedef int (*try_fn)(run_t *r, const int32_t *cnt, int32_t *placed, ss_error_t *err);

/* A probe: the new nodes of cnt (with their DaemonSet pods) and the pods
 * pending after the first schedule, nothing else; scheduled with every
 * rule like the whole cluster. Collective (every rank builds the same). */
static int try_probe(run_t *r, const int32_t *cnt, int32_t *placed, ss_error_t *err)
{
    ss_cluster_t *s = NULL;
    ss_placements_t *pl = NULL;
    double t0 = MPI_Wtime();
    int rc = ss_whatif_probe(r->c, &r->pools, cnt, r->probe_pods, r->n_probe_pods, &s, err);
    rc = ss_dist_agree_err(r->comm, rc, "whatif probe", err);
    if (rc == 0) {
        ss_layout_t l;
        ss_dist_part_t part;
        ss_layout_build(s, r->ro.part_nodes, r->ro.shard_nodes, &l);
        ss_dist_partition(r->comm, &l, &part);
        r->probes++;
        rc = ss_run_schedule(r->comm, &r->ro, s, &part, &pl, err);
    }
    *placed = 0;
    for (int32_t i = 0; rc == 0 && i < pl->n; i++)
        *placed += pl->node[i] >= 0 && r->leftover[r->probe_pods[pl->pod[i]]];
    ss_placements_destroy(pl);
    ss_whatif_probe_free(s);
    r->t_probe += MPI_Wtime() - t0;
    return rc;
}

/* A schedule of the whole cluster with the copies of cnt (r->pl: its
 * placements, r->add: cnt). */
static int try_full(run_t *r, const int32_t *cnt, int32_t *placed, ss_error_t *err)
{
    size_t bytes = (size_t)r->pools.n * sizeof *cnt;
    if (r->full_tried && r->pl && memcmp(cnt, r->add, bytes) == 0) {
        *placed = ss_wi_target_placed(r); /* the last schedule was with these counts */
        return 0;
    }
    int rc = ss_dist_agree_err(r->comm, ss_wi_set_copies(r, cnt, err), "whatif copies", err);
    if (rc == 0)
        rc = ss_wi_schedule(r, err);
    if (rc == 0) {
        *placed = ss_wi_target_placed(r);
        memcpy(r->add, cnt, bytes);
        r->full_tried = 1;
    }
    return rc;
}

/* The search's state: counts at scale lo placed fewer than need, at hi
 * (> 0) at least need; cnt, tmp: scratch. */
typedef struct {
    try_fn f;
    const int32_t *base;
    int32_t need, *cnt, *tmp;
    int64_t lo, hi;
    size_t bytes;
} search_t;

/* Doubling from base (scale 64) until need is placed (hi), --pool-size
 * stops growth (hi stays -1), or more nodes place nothing more: then need
 * lowers to what the last scale placed and that scale is hi. */
static int grow(run_t *r, search_t *s, ss_error_t *err)
{
    int32_t placed = 0, prev = 0;
    int64_t lo_prev = 64;
    scaled(r, s->base, 64, s->cnt);
    int rc = s->f(r, s->cnt, &placed, err);
    s->lo = 64;
    s->hi = rc == 0 && placed >= s->need ? 64 : -1;
    for (int step = 0; rc == 0 && s->hi < 0 && step < 16; step++) {
        prev = placed;
        scaled(r, s->base, s->lo, s->tmp);
        scaled(r, s->base, s->lo * 2, s->cnt);
        if (memcmp(s->cnt, s->tmp, s->bytes) == 0)
            break; /* every pool at its --pool-size */
        if ((rc = s->f(r, s->cnt, &placed, err)) < 0)
            break;
        if (placed >= s->need)
            s->hi = s->lo * 2;
        else if (placed <= prev) { /* stalled: the last scale is the answer */
            s->need = prev;
            s->hi = s->lo;
            s->lo = lo_prev;
        } else {
            lo_prev = s->lo;
            s->lo *= 2;
        }
    }
    return rc;
}

/* Bisection on the scale between lo and hi. */
static int bisect(run_t *r, search_t *s, ss_error_t *err)
{
    int rc = 0;
    while (rc == 0 && s->hi > 0 && s->hi - s->lo > 1) {
        int64_t mid = s->lo + (s->hi - s->lo) / 2;
        int32_t placed = 0;
        scaled(r, s->base, s->hi, s->tmp);
        scaled(r, s->base, mid, s->cnt);
        if (memcmp(s->cnt, s->tmp, s->bytes) == 0) {
            s->hi = mid;
            continue;
        }
        scaled(r, s->base, s->lo, s->tmp);
        if (memcmp(s->cnt, s->tmp, s->bytes) == 0) {
            s->lo = mid;
            continue;
        }
        if ((rc = s->f(r, s->cnt, &placed, err)) == 0) {
            if (placed >= s->need)
                s->hi = mid;
            else
                s->lo = mid;
        }
    }
    return rc;
}

/* Per pool, in pool order: the fewest of its nodes that still place need
 * with the other pools' counts as they are (bisection). ans in, out. */
static int trim(run_t *r, search_t *s, int32_t *ans, ss_error_t *err)
{
    int rc = 0;
    for (int32_t k = 0; rc == 0 && k < r->pools.n; k++) {
        int32_t lo = 0, hi = ans[k]; /* hi places need */
        memcpy(s->cnt, ans, s->bytes);
        while (rc == 0 && lo < hi) {
            int32_t placed = 0;
            s->cnt[k] = lo + (hi - lo) / 2;
            if ((rc = s->f(r, s->cnt, &placed, err)) == 0) {
                if (placed >= s->need)
                    hi = s->cnt[k];
                else
                    lo = s->cnt[k] + 1;
            }
        }
        ans[k] = hi;
    }
    return rc;
}

/* The search with f from base: doubling, bisection, then (probes only)
 * the per-pool trim. ans: the answer's counts (or, without one, the last
 * tried); *need: the target pods it places; returns whether one fits in
 * *ok. */
static int search(run_t *r, try_fn f, const int32_t *base, int32_t *need, int32_t *ans, int *ok,
                  ss_error_t *err)
{
    int32_t np = r->pools.n;
    search_t s = {f,
                  base,
                  *need,
                  calloc((size_t)np + 1, sizeof(int32_t)),
                  calloc((size_t)np + 1, sizeof(int32_t)),
                  64,
                  -1,
                  (size_t)np * sizeof(int32_t)};
    int rc = s.cnt && s.tmp ? 0 : ss_error_set(err, SS_ENOMEM, "out of memory");
    if (rc == 0)
        rc = grow(r, &s, err);
    if (rc == 0)
        rc = bisect(r, &s, err);
    *ok = rc == 0 && s.hi > 0;
    if (*ok)
        scaled(r, base, s.hi, ans);
    else if (rc == 0)
        memcpy(ans, s.cnt, s.bytes);
    if (*ok && f == try_probe)
        rc = trim(r, &s, ans, err);
    *need = s.need;
    free(s.cnt);
    free(s.tmp);
    return rc;
}

/* Finds the answer from the estimate est: the search on probes, then one
 * schedule of the whole cluster with it. When that places fewer target
 * pods than the probes did (a rule that the rest of the cluster decides:
 * a zone spread or anti-affinity counting pods elsewhere), the search goes
 * on over whole-cluster schedules from the probes' answer. Leaves the
 * answer's copies in r->c, its placements in r->pl, its counts in r->add.
 * *found: whether an answer was verified (r->stuck pods aside). */
static int verify(run_t *r, const int32_t *est, int *found, ss_error_t *err)
{
    int32_t np = r->pools.n, all = r->n_leftover - r->unplaceable, need = all, placed = 0;
    int32_t *ans = calloc((size_t)np + 1, sizeof *ans);
    if (!ans)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    int ok = 0;
    int rc = search(r, try_probe, est, &need, ans, &ok, err);
    if (rc == 0)
        rc = try_full(r, ans, &placed, err); /* the verifying schedule */
    if (rc == 0 && ok && placed < need) {    /* the probes were wrong: whole schedules */
        int32_t *b = malloc(((size_t)np + 1) * sizeof *b);
        if (!b)
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        if (rc == 0) {
            memcpy(b, ans, (size_t)np * sizeof *b);
            need = all;
            rc = search(r, try_full, b, &need, ans, &ok, err);
        }
        if (rc == 0 && memcmp(ans, r->add, (size_t)np * sizeof *ans) != 0)
            rc = try_full(r, ans, &placed, err); /* the last try was not the answer */
        free(b);
    }
    if (rc == 0) {
        placed = ss_wi_target_placed(r);
        r->stuck = all - placed > 0 ? all - placed : 0;
    }
    *found = rc == 0 && ok;
    free(ans);
    return rc;
}

/* Makes r->pl's placements running pods of c (its victims pending again,
 * as their controllers would recreate them); r->pl moves to *keep. */
static void commit(run_t *r, ss_placements_t **keep)
{
    ss_cluster_t *c = r->c;
    ss_placements_t *pl = r->pl;
    for (int32_t i = 0; i < pl->n; i++)
        if (pl->node[i] >= 0) {
            c->pod_node[pl->pod[i]] = pl->node[i];
            c->pod_gpu_mask[pl->pod[i]] = pl->gpu_mask[i];
        }
    for (int32_t v = 0; v < pl->n_victims; v++) {
        c->pod_node[pl->victim_pod[v]] = -1;
        c->pod_gpu_mask[pl->victim_pod[v]] = 0;
    }
    *keep = pl;
    r->pl = NULL;
}

/* The first schedule's placements become running pods (r->pl0). When it
 * preempted, the victims' replacements are scheduled on the cluster as it
 * is then, as the scheduler would before any new node is up (minutes
 * later), and that is committed too (r->pl1). The target pods still
 * pending are t[0 .. *m) (flagged in r->leftover), the pods pending then
 * are the probes' (r->probe_pods). */
static int settle(run_t *r, int32_t *t, int32_t *m, ss_error_t *err)
{
    ss_cluster_t *c = r->c;
    commit(r, &r->pl0);
    int rc = 0;
    if (r->pl0->n_victims > 0 && (rc = ss_wi_schedule(r, err)) == 0)
        commit(r, &r->pl1);
    r->leftover = calloc((size_t)c->n_pods + 1, 1);
    r->probe_pods = malloc(((size_t)c->n_pods + 1) * sizeof *r->probe_pods);
    if (rc == 0 && (!r->leftover || !r->probe_pods))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    int32_t k = 0;
    for (int32_t i = 0; rc == 0 && i < *m; i++)
        if (c->pod_node[t[i]] < 0) {
            r->leftover[t[i]] = 1;
            t[k++] = t[i];
        }
    *m = k;
    for (int32_t p = 0; rc == 0 && p < c->n_pods; p++) /* what the verifying schedules place */
        if (c->pod_node[p] < 0)
            r->probe_pods[r->n_probe_pods++] = p;
    return rc;
}

/* Of the pods t[0 .. m) no chosen pool took, those that some pool's node
 * would take without --pool-size (r->capped): the rest fit no new node. */
static int count_capped(run_t *r, const int32_t *t, int32_t m, ss_error_t *err)
{
    uint8_t *fits = malloc((size_t)m), *any = calloc((size_t)m, 1);
    int rc = fits && any ? 0 : ss_error_set(err, SS_ENOMEM, "out of memory");
    for (int32_t k = 0; rc == 0 && k < r->pools.n; k++) {
        ss_ffd_t e = {.fits = fits};
        if (!r->use[k] || r->limit[k] < 0)
            continue; /* a pool without a limit took all it could */
        rc = ss_whatif_ffd(r->c, r->pools.first[k], t, m, -1, &e, err);
        for (int32_t i = 0; rc == 0 && i < m; i++)
            any[i] |= fits[i];
    }
    r->capped = 0;
    for (int32_t i = 0; rc == 0 && i < m; i++)
        r->capped += any[i];
    free(fits);
    free(any);
    return rc;
}

int ss_wi_min_nodes(run_t *r, int *found, ss_error_t *err)
{
    int32_t n = 0, *t = ss_wi_target_pods(r, &n), np = r->pools.n;
    int32_t *est = calloc((size_t)np + 1, sizeof *est);
    int rc = t && est ? 0 : ss_error_set(err, SS_ENOMEM, "out of memory");
    r->minmode = 1;
    r->target = n;
    int32_t m = 0;
    for (int32_t i = 0, j = 0; rc == 0 && i < n; i++) { /* the unplaced target pods */
        while (r->pl->pod[j] < t[i])
            j++;
        if (r->pl->node[j] < 0)
            t[m++] = t[i];
    }
    double ts = MPI_Wtime();
    if (rc == 0 && m > 0)
        rc = settle(r, t, &m, err);
    r->n_leftover = m;
    double t0 = MPI_Wtime();
    r->t_settle = t0 - ts;
    if (rc == 0)
        rc = estimate(r, t, &m, est, err);
    if (rc == 0 && m > 0)
        rc = count_capped(r, t, m, err);
    r->unplaceable = m - r->capped;
    int32_t total = 0;
    for (int32_t k = 0; k < np; k++)
        total += est[k];
    *found = 0;
    double t1 = MPI_Wtime();
    r->t_est = t1 - t0;
    if (rc == 0 && total == 0)
        r->verified = 1; /* nothing to add (or nothing that new nodes help) */
    else if (rc == 0 && total > 0)
        rc = verify(r, est, &r->verified, err);
    if (rc == 0 && !r->pl) /* nothing added: the left-over pods' reasons */
        rc = ss_wi_schedule(r, err);
    *found = r->verified && m == 0 && r->stuck == 0;
    r->t_verify = MPI_Wtime() - t1;
    free(est);
    free(t);
    return rc;
}
