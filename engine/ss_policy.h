/* ss_policy: the registry of placement policies, looked up by name
 * (case-insensitive). A policy scores one node for one pod from read-only
 * views of the cluster and the current state; the queue order (which pod
 * next) is separate (jobs/ss_queue.h).
 *
 * Scores are integers, as in kube-scheduler. The score of a node depends on
 * that node alone (and the pod), never on the other candidates: this is what
 * lets the engine keep per-node scores in heaps and merge shard results
 * exactly. Where kube-scheduler normalises a plugin's score over the feasible
 * nodes (NodeAffinity, TaintToleration), shardsched normalises with a static
 * bound instead; docs/architecture.md explains the difference.
 *
 * Total score of a node = fit (0..100, the policy) + 2 x affinity (0..100:
 * matched preferred-term weight x 100 / the template's total preferred
 * weight) + 3 x taint (0..100: 100 - untolerated PreferNoSchedule taints x
 * 100 / the cluster's largest such count), weights as kube-scheduler's
 * defaults.
 */
#ifndef SS_POLICY_H
#define SS_POLICY_H

#include <math.h>

#include "ss_state.h"

enum ss_policy_id {
    SS_POLICY_LEAST_ALLOCATED = 0,
    SS_POLICY_MOST_ALLOCATED = 1,
    SS_POLICY_BALANCED = 2,
};

typedef struct {
    int version;      /* 1 */
    int id;           /* ss_policy_id */
    const char *name; /* canonical name */
    const char *help;
    /* 0..100: how good node is for a pod of t, given free capacity now. */
    int64_t (*fit_score)(const ss_state_t *s, const ss_template_t *t, int32_t node);
} ss_policy_t;

/* The policy named name (case-insensitive), or NULL. Static storage. */
const ss_policy_t *ss_policy_find(const char *name);
/* i-th registered policy, NULL past the end. */
const ss_policy_t *ss_policy_at(int i);

/* The policies' scores, inline so the engine's hottest loop can call them
 * without an indirect call (ss_policy_fit below picks one by id). kube's
 * "requested" after the pod is added is allocatable - free + request. */
/* floor(a * 100 / b) for 0 <= a <= b, b > 0. A double division is correctly
 * rounded, and for b < 2^44 the true quotient is at least 1/b below the next
 * integer, far more than the rounding error, so the floor is exact (and much
 * cheaper than a 64-bit integer division in the engine's hottest loop). */
static inline int64_t ss_policy_pct_(int64_t a, int64_t b)
{
    if (b < (INT64_C(1) << 44))
        return (int64_t)((double)(a * 100) / (double)b);
    return a * 100 / b;
}

static inline int64_t ss_policy_least_one_(int64_t alloc, int64_t free, int64_t req)
{
    if (alloc <= 0)
        return 0;
    int64_t requested = alloc - free + req;
    if (requested > alloc)
        return 0;
    return ss_policy_pct_(alloc - requested, alloc);
}

static inline int64_t ss_policy_most_one_(int64_t alloc, int64_t free, int64_t req)
{
    if (alloc <= 0)
        return 0;
    int64_t requested = alloc - free + req;
    if (requested > alloc)
        return 100;
    if (requested < 0) /* an over-committed node's running pods left */
        return 0;
    return ss_policy_pct_(requested, alloc);
}

static inline int64_t ss_policy_least_allocated(const ss_state_t *s, const ss_template_t *t,
                                                int32_t n)
{
    const ss_cluster_t *c = s->c;
    return (ss_policy_least_one_(c->node_cpu[n], s->free_cpu[n], t->req.cpu_milli) +
            ss_policy_least_one_(c->node_mem[n], s->free_mem[n], t->req.memory)) /
           2;
}

static inline int64_t ss_policy_most_allocated(const ss_state_t *s, const ss_template_t *t,
                                               int32_t n)
{
    const ss_cluster_t *c = s->c;
    return (ss_policy_most_one_(c->node_cpu[n], s->free_cpu[n], t->req.cpu_milli) +
            ss_policy_most_one_(c->node_mem[n], s->free_mem[n], t->req.memory)) /
           2;
}

static inline double ss_policy_fraction_(int64_t alloc, int64_t free, int64_t req)
{
    if (alloc <= 0)
        return 1.0;
    double f = (double)(alloc - free + req) / (double)alloc;
    return f > 1.0 ? 1.0 : f;
}

static inline int64_t ss_policy_balanced(const ss_state_t *s, const ss_template_t *t, int32_t n)
{
    const ss_cluster_t *c = s->c;
    double fc = ss_policy_fraction_(c->node_cpu[n], s->free_cpu[n], t->req.cpu_milli);
    double fm = ss_policy_fraction_(c->node_mem[n], s->free_mem[n], t->req.memory);
    double std = fabs(fc - fm) / 2.0; /* standard deviation of two values */
    return (int64_t)((1.0 - std) * 100.0);
}

/* fit score of policy id (ss_policy_id). */
static inline int64_t ss_policy_fit(int id, const ss_state_t *s, const ss_template_t *t, int32_t n)
{
    switch (id) {
    case SS_POLICY_MOST_ALLOCATED:
        return ss_policy_most_allocated(s, t, n);
    case SS_POLICY_BALANCED:
        return ss_policy_balanced(s, t, n);
    default:
        return ss_policy_least_allocated(s, t, n);
    }
}

#define SS_WEIGHT_FIT 1
#define SS_WEIGHT_AFFINITY 2
#define SS_WEIGHT_TAINT 3

/* The static part of a node's score: 2 x affinity + 3 x taint (see above).
 * pref_weight: matched preferred weight; total_weight: the template's total;
 * untolerated: PreferNoSchedule taints not tolerated; max_untolerated: the
 * cluster's largest PreferNoSchedule count on a node. */
int64_t ss_policy_static_score(int32_t pref_weight, int32_t total_weight, int32_t untolerated,
                               int32_t max_untolerated);

#endif
