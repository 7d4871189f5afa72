/* ss_sched_topo: placement of pod groups that require or prefer one topology
 * domain (docs/gangs-and-topology.md).
 *
 * Nodes are sorted by topology, so a domain at any level is a contiguous
 * range of node rows. For a group asking for level L, the engine tries
 * domains from the finest level up to L (a gang that fits in one rack gets
 * one rack even when it only asks for a block): at each level, the domains
 * that hold at least minMember pods of the group's (first member's) template
 * by free capacity, summed over all ranks, best fit first (fewest such pod
 * slots left over; lowest index on ties),
 * and places the group inside the first one where at least minMember pods
 * land. Required groups that fit no domain are rejected with reason
 * "no topology domain fits the pod group"; preferred ones fall back to the
 * whole cluster. Every rank takes the same decisions from the same sums. */
#include <stdlib.h>
#include <string.h>

#include "ss_reason.h"
#include "ss_sched_int.h"

#define TRIES_PER_LEVEL 3

int ss_sched_domains_build(ss_sched_t *s, ss_error_t *err)
{
    const ss_cluster_t *c = s->c;
    for (int l = 0; l < SS_TOPO_NODE; l++) {
        int32_t n = 0;
        s->dom_begin[l] = malloc(((size_t)c->n_nodes + 2) * sizeof(int32_t));
        if (!s->dom_begin[l])
            return ss_error_set(err, SS_ENOMEM, "out of memory building topology domains");
        for (int32_t i = 0; i < c->n_nodes; i++) {
            bool starts = i == 0;
            for (int k = 0; k <= l && !starts; k++)
                starts = c->node_topo[(size_t)i * SS_TOPO_NLEVELS + k] !=
                         c->node_topo[(size_t)(i - 1) * SS_TOPO_NLEVELS + k];
            if (starts)
                s->dom_begin[l][n++] = i;
        }
        s->dom_begin[l][n] = c->n_nodes;
        s->n_dom[l] = n;
    }
    s->n_dom[SS_TOPO_NODE] = c->n_nodes;
    s->dom_begin[SS_TOPO_NODE] = NULL; /* domain i is node i */
    return 0;
}

static int32_t dom_lo(const ss_sched_t *s, int l, int32_t d)
{
    return l == SS_TOPO_NODE ? d : s->dom_begin[l][d];
}

static int32_t dom_hi(const ss_sched_t *s, int l, int32_t d)
{
    return l == SS_TOPO_NODE ? d + 1 : s->dom_begin[l][d + 1];
}

/* Counts, per domain at level l and over all ranks, how many pods of
 * template t fit: per node that passes the static filters, the pods its free
 * capacity holds (ss_state_slots), summed. */
static int domain_slots(ss_sched_t *s, const ss_sched_comm_t *comm, int l, int32_t t, int64_t *f,
                        ss_error_t *err)
{
    int32_t nd = s->n_dom[l];
    const ss_template_t *tp = &s->c->templates[t];
    memset(f, 0, (size_t)nd * sizeof *f);
    int32_t d = 0;
    for (int32_t k = s->shard_lo; k < s->shard_hi; k++)
        for (int32_t i = s->sh[k].lo; i < s->sh[k].hi; i++) {
            while (dom_hi(s, l, d) <= i)
                d++;
            int64_t bonus;
            if (ss_sched_node_static(s, t, i, &bonus) == SS_REASON_NONE)
                f[d] += ss_state_slots(s->st, tp, i);
        }
    return comm ? comm->sum(comm->ctx, f, nd, err) : 0;
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

/* Tries the best-fitting domains of level l; *done = 1 when the group landed. */
static int try_level(ss_sched_t *s, const ss_sched_comm_t *comm, const int32_t *pods, int32_t n,
                     int32_t min, int l, runbuf_t *b, ss_placements_t *out, int *done,
                     ss_error_t *err)
{
    int32_t nd = s->n_dom[l], t = s->c->pod_template[pods[0]];
    int64_t *f = malloc(((size_t)nd + 1) * sizeof *f);
    cand_t *cand = malloc(((size_t)nd + 1) * sizeof *cand);
    int rc = f && cand ? 0 : ss_error_set(err, SS_ENOMEM, "out of memory in topology placement");
    if (rc == 0 && ss_vcache_get(s->vcache, &s->mx, s->c, &s->cl, t, &s->v) < 0)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory caching verdicts");
    /* Every process enters the sum of domain_slots, or none does. */
    rc = ss_sched_agree(comm, rc, "topology placement", err);
    if (rc == 0)
        rc = domain_slots(s, comm, l, t, f, err);
    int32_t m = 0;
    for (int32_t d = 0; rc == 0 && d < nd; d++)
        if (f[d] >= min)
            cand[m++] = (cand_t){f[d] - min, d};
    if (rc == 0)
        qsort(cand, (size_t)m, sizeof *cand, cmp_cand);
    for (int32_t i = 0; rc == 0 && i < m && i < TRIES_PER_LEVEL && !*done; i++) {
        s->range_lo = dom_lo(s, l, cand[i].dom);
        s->range_hi = dom_hi(s, l, cand[i].dom);
        int32_t total = 0;
        rc = ss_sched_place_runs(s, comm, pods, n, b, out, &total, err);
        if (rc == 0 && total >= min) {
            *done = 1;
        } else if (rc == 0) {
            ss_sched_gang_rollback(s, pods, n, out);
            ss_sched_note_rollback_failure(s);
        }
    }
    s->range_lo = 0;
    s->range_hi = s->c->n_nodes;
    free(f);
    free(cand);
    return rc;
}

int ss_sched_place_gang_topo(ss_sched_t *s, const ss_sched_comm_t *comm, const int32_t *pods,
                             int32_t n, int32_t group, runbuf_t *b, ss_placements_t *out,
                             ss_error_t *err)
{
    const ss_cluster_t *c = s->c;
    int32_t min = c->group_min_member[group];
    int level = c->group_topo_level[group];
    int done = 0, rc = 0;
    /* Finest level first, but the node level only when asked for. */
    int first = level == SS_TOPO_NODE ? SS_TOPO_NODE : SS_TOPO_RACK;
    for (int l = first; l >= level && !done && rc == 0; l--)
        rc = try_level(s, comm, pods, n, min, l, b, out, &done, err);
    if (rc < 0 || done)
        return rc;
    if (c->group_topo_mode[group] == SS_TOPO_MODE_PREFERRED) {
        int32_t total = 0;
        if ((rc = ss_sched_place_runs(s, comm, pods, n, b, out, &total, err)) < 0)
            return rc;
        if (total < min) {
            ss_sched_gang_rollback(s, pods, n, out);
            ss_sched_note_rollback_failure(s);
        }
        return 0;
    }
    for (int32_t i = 0; i < n; i++)
        out->reason[s->row_of_pod[pods[i]]] = SS_REASON_TOPOLOGY;
    return 0;
}
