/* ss_sched_topo: placement of pod groups that require or prefer one topology
 * domain (docs/gangs-and-topology.md).
 *
 * Nodes are sorted by topology, so a domain at any level is a contiguous
 * range of node rows. For a group asking for level L, the engine tries
 * domains from the finest level up to L (a gang that fits in one rack gets
 * one rack even when it only asks for a block): at each level, the domains
 * that hold at least minMember pods of the group's (first member's) template
 * by free capacity inside the partition at work, best fit first (fewest
 * such pod slots left over; lowest index on ties), and places the group
 * inside the first one where at least minMember pods land. The caller
 * (ss_sched.c) decides what happens when none does: another partition, a
 * domain across partitions, or for preferred groups anywhere. */
#include <stdlib.h>
#include <string.h>

#include "ss_reason.h"
#include "ss_sched_int.h"
#include "ss_subgroups.h"

#define TRIES_PER_LEVEL 3

int ss_sched_domains_build(ss_sched_t *s, ss_error_t *err)
{
    const ss_cluster_t *c = s->c;
    int node = c->n_levels - 1;
    for (int l = 0; l < node; l++) {
        int32_t n = 0;
        s->dom_begin[l] = malloc(((size_t)c->n_nodes + 2) * sizeof(int32_t));
        if (!s->dom_begin[l])
            return ss_error_set(err, SS_ENOMEM, "out of memory building topology domains");
        for (int32_t i = 0; i < c->n_nodes; i++) {
            bool starts = i == 0;
            for (int k = 0; k <= l && !starts; k++)
                starts = c->node_topo[(size_t)i * SS_TOPO_STRIDE + k] !=
                         c->node_topo[(size_t)(i - 1) * SS_TOPO_STRIDE + k];
            if (starts)
                s->dom_begin[l][n++] = i;
        }
        s->dom_begin[l][n] = c->n_nodes;
        s->n_dom[l] = n;
    }
    s->n_dom[node] = c->n_nodes;
    s->dom_begin[node] = NULL; /* domain i is node i */
    return 0;
}

int32_t ss_sched_dom_lo(const ss_sched_t *s, int l, int32_t d)
{
    return l == s->c->n_levels - 1 ? d : s->dom_begin[l][d];
}

int32_t ss_sched_dom_hi(const ss_sched_t *s, int l, int32_t d)
{
    return l == s->c->n_levels - 1 ? d + 1 : s->dom_begin[l][d + 1];
}

/* The domain of level l that holds node i. */
static int32_t dom_of(const ss_sched_t *s, int l, int32_t i)
{
    if (l == s->c->n_levels - 1)
        return i;
    int32_t lo = 0, hi = s->n_dom[l] - 1; /* dom_begin[l][lo] <= i */
    while (lo < hi) {
        int32_t m = lo + (hi - lo + 1) / 2;
        if (s->dom_begin[l][m] <= i)
            lo = m;
        else
            hi = m - 1;
    }
    return lo;
}

/* Counts, per domain of level l overlapping the work's nodes (domain
 * d0 + j in f[j]), how many pods of template t fit there: per node that
 * passes the static filters, the pods its free capacity holds
 * (ss_state_slots), summed over the work's nodes only. */
static void domain_slots(ss_sched_t *s, const ss_work_t *w, int l, int32_t t, int32_t d0,
                         int32_t nd, int64_t *f)
{
    const ss_template_t *tp = &s->c->templates[t];
    memset(f, 0, (size_t)nd * sizeof *f);
    int32_t d = d0;
    for (int32_t i = w->lo; i < w->hi; i++) {
        while (ss_sched_dom_hi(s, l, d) <= i)
            d++;
        int64_t bonus;
        if (ss_sched_node_static(s, w, t, i, &bonus) == SS_REASON_NONE)
            f[d - d0] += ss_state_slots(s->st, tp, i);
    }
}

typedef struct {
    int64_t left;
    int32_t dom;
} cand_t;

static int cmp_cand(const void *a, const void *b)
{
    const cand_t *x = a, *y = b;
    if (x->left != y->left)
        return x->left < y->left ? -1 : 1;
    return (x->dom > y->dom) - (x->dom < y->dom);
}

/* Tries the best-fitting domains of level l (their part inside the work's
 * nodes); *done = 1 when the group landed. */
static int try_level(ss_sched_t *s, ss_work_t *w, const int32_t *pods, int32_t n, int32_t min,
                     int l, ss_placements_t *out, int *done, bool check_subs)
{
    int32_t t = s->c->pod_template[pods[0]];
    int32_t d0 = dom_of(s, l, w->lo), nd = dom_of(s, l, w->hi - 1) - d0 + 1;
    int64_t *f = malloc(((size_t)nd + 1) * sizeof *f);
    cand_t *cand = malloc(((size_t)nd + 1) * sizeof *cand);
    int rc = 0;
    if (!f || !cand) {
        rc = ss_error_set(&w->err, SS_ENOMEM, "out of memory in topology placement");
        goto out;
    }
    ss_sched_verdict(s, w, t);
    domain_slots(s, w, l, t, d0, nd, f);
    int32_t m = 0;
    for (int32_t j = 0; j < nd; j++)
        if (f[j] >= min)
            cand[m++] = (cand_t){f[j] - min, d0 + j};
    qsort(cand, (size_t)m, sizeof *cand, cmp_cand);
    int32_t lo = w->lo, hi = w->hi;
    for (int32_t i = 0; rc == 0 && i < m && i < TRIES_PER_LEVEL && !*done; i++) {
        int32_t a = ss_sched_dom_lo(s, l, cand[i].dom), b = ss_sched_dom_hi(s, l, cand[i].dom);
        w->lo = a > lo ? a : lo;
        w->hi = b < hi ? b : hi;
        int32_t total = 0;
        rc = ss_sched_place_runs(s, w, pods, n, out, &total);
        int sub =
            rc == 0 && total >= min
                ? (check_subs ? ss_subgroups_ok(s->c, pods, n, out, s->row_of_pod, s->sub_running)
                              : 1)
                : 0;
        if (sub < 0)
            rc = ss_error_set(&w->err, SS_ENOMEM, "out of memory checking sub-groups");
        else if (sub)
            *done = 1;
        else if (rc == 0)
            rc = ss_sched_gang_rollback(s, w, pods, n, out);
    }
    w->lo = lo;
    w->hi = hi;
out:
    free(f);
    free(cand);
    return rc;
}

int ss_sched_place_gang_topo(ss_sched_t *s, ss_work_t *w, const int32_t *pods, int32_t n,
                             int32_t group, ss_placements_t *out, int *done)
{
    const ss_cluster_t *c = s->c;
    int32_t min = c->group_min_member[group];
    int level = c->group_topo_level[group];
    int rc = 0;
    *done = 0;
    if (w->lo >= w->hi)
        return 0;
    /* Finest level first, but the node level only when asked for. */
    int node = c->n_levels - 1;
    int first = level == node ? node : node - 1;
    for (int l = first; l >= level && !*done && rc == 0; l--)
        rc = try_level(s, w, pods, n, min, l, out, done, true);
    return rc;
}

/* The gang's members inside [w->lo, w->hi), run by run of one group (the
 * queue orders them sub-group by sub-group): a sub-group with a level goes
 * into one domain of it (finest first, as any gang), the others as they
 * fit; *done when the gang's minimum and the sub-group rule hold, else
 * everything is rolled back. */
static int subs_in_range(ss_sched_t *s, ss_work_t *w, const int32_t *pods, int32_t n, int32_t root,
                         ss_placements_t *out, int *done)
{
    const ss_cluster_t *c = s->c;
    int node = c->n_levels - 1, rc = 0;
    int32_t total = 0;
    bool dead = false;
    for (int32_t i = 0, j; i < n && rc == 0 && !dead; i = j) {
        int32_t g = c->pod_group[pods[i]], got = 0;
        for (j = i + 1; j < n && c->pod_group[pods[j]] == g;)
            j++;
        int placed_in = 0;
        if (g != root && c->group_topo_mode[g] != SS_TOPO_MODE_NONE) {
            int level = c->group_topo_level[g], first = level == node ? node : node - 1;
            for (int l = first; l >= level && !placed_in && rc == 0; l--)
                rc = try_level(s, w, pods + i, j - i, c->group_min_member[g], l, out, &placed_in,
                               false);
            dead = rc == 0 && !placed_in && c->group_topo_mode[g] == SS_TOPO_MODE_REQUIRED;
        }
        if (rc == 0 && !dead && !placed_in)
            rc = ss_sched_place_runs(s, w, pods + i, j - i, out, &got);
        for (int32_t k = i; k < j && placed_in; k++)
            got += out->node[s->row_of_pod[pods[k]]] >= 0;
        total += got;
    }
    int ok = rc == 0 && !dead && total >= c->group_min_member[root]
                 ? ss_subgroups_ok(c, pods, n, out, s->row_of_pod, s->sub_running)
                 : 0;
    if (ok < 0)
        return ss_error_set(&w->err, SS_ENOMEM, "out of memory checking sub-groups");
    if (ok)
        *done = 1;
    else if (rc == 0)
        rc = ss_sched_gang_rollback(s, w, pods, n, out);
    return rc;
}

int ss_sched_place_gang_subs(ss_sched_t *s, ss_work_t *w, const int32_t *pods, int32_t n,
                             int32_t root, ss_placements_t *out, int *done)
{
    const ss_cluster_t *c = s->c;
    *done = 0;
    if (w->lo >= w->hi)
        return 0;
    if (c->group_topo_mode[root] == SS_TOPO_MODE_NONE)
        return subs_in_range(s, w, pods, n, root, out, done);
    /* One domain of the gang's level after another, in node order. */
    int l = c->group_topo_level[root], rc = 0;
    int32_t lo = w->lo, hi = w->hi;
    for (int32_t d = dom_of(s, l, lo); rc == 0 && !*done && d < s->n_dom[l]; d++) {
        int32_t a = ss_sched_dom_lo(s, l, d), b = ss_sched_dom_hi(s, l, d);
        if (a >= hi)
            break;
        w->lo = a > lo ? a : lo;
        w->hi = b < hi ? b : hi;
        rc = subs_in_range(s, w, pods, n, root, out, done);
    }
    w->lo = lo;
    w->hi = hi;
    return rc;
}
