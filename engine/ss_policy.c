/* ss_policy: kube-scheduler's resource scoring strategies (NodeResourcesFit
 * LeastAllocated / MostAllocated and NodeResourcesBalancedAllocation) over
 * cpu and memory with weight 1 each, in the same integer arithmetic. */
#include "ss_policy.h"

#include <math.h>
#include <stddef.h>
#include <strings.h>

/* requested = allocatable - free + request, as kube's "requested" after the
 * pod is added. */
/* floor(a * 100 / b) for 0 <= a <= b, b > 0. A double division is correctly
 * rounded, and for b < 2^44 the true quotient is at least 1/b below the next
 * integer, far more than the rounding error, so the floor is exact (and much
 * cheaper than a 64-bit integer division in the engine's hottest loop). */
static inline int64_t pct(int64_t a, int64_t b)
{
    if (b < (INT64_C(1) << 44))
        return (int64_t)((double)(a * 100) / (double)b);
    return a * 100 / b;
}

static int64_t least_one(int64_t alloc, int64_t free, int64_t req)
{
    if (alloc <= 0)
        return 0;
    int64_t requested = alloc - free + req;
    if (requested > alloc)
        return 0;
    return pct(alloc - requested, alloc);
}

static int64_t most_one(int64_t alloc, int64_t free, int64_t req)
{
    if (alloc <= 0)
        return 0;
    int64_t requested = alloc - free + req;
    if (requested > alloc)
        return 100;
    if (requested < 0) /* an over-committed node's running pods left */
        return 0;
    return pct(requested, alloc);
}

static int64_t least_allocated(const ss_state_t *s, const ss_template_t *t, int32_t n)
{
    const ss_cluster_t *c = s->c;
    return (least_one(c->node_cpu[n], s->free_cpu[n], t->req.cpu_milli) +
            least_one(c->node_mem[n], s->free_mem[n], t->req.memory)) /
           2;
}

static int64_t most_allocated(const ss_state_t *s, const ss_template_t *t, int32_t n)
{
    const ss_cluster_t *c = s->c;
    return (most_one(c->node_cpu[n], s->free_cpu[n], t->req.cpu_milli) +
            most_one(c->node_mem[n], s->free_mem[n], t->req.memory)) /
           2;
}

static double fraction(int64_t alloc, int64_t free, int64_t req)
{
    if (alloc <= 0)
        return 1.0;
    double f = (double)(alloc - free + req) / (double)alloc;
    return f > 1.0 ? 1.0 : f;
}

static int64_t balanced(const ss_state_t *s, const ss_template_t *t, int32_t n)
{
    const ss_cluster_t *c = s->c;
    double fc = fraction(c->node_cpu[n], s->free_cpu[n], t->req.cpu_milli);
    double fm = fraction(c->node_mem[n], s->free_mem[n], t->req.memory);
    double std = fabs(fc - fm) / 2.0; /* standard deviation of two values */
    return (int64_t)((1.0 - std) * 100.0);
}

static const ss_policy_t policies[] = {
    {1, SS_POLICY_LEAST_ALLOCATED, "least-allocated",
     "spread: prefer nodes with the most free cpu and memory (kube default)", least_allocated},
    {1, SS_POLICY_MOST_ALLOCATED, "most-allocated",
     "bin-packing: prefer the fullest nodes that fit", most_allocated},
    {1, SS_POLICY_BALANCED, "balanced",
     "prefer nodes whose cpu and memory use stay balanced", balanced},
};
#define NPOLICIES ((int)(sizeof policies / sizeof policies[0]))

const ss_policy_t *ss_policy_find(const char *name)
{
    for (int i = 0; i < NPOLICIES; i++)
        if (!strcasecmp(name, policies[i].name))
            return &policies[i];
    return NULL;
}

const ss_policy_t *ss_policy_at(int i)
{
    return i >= 0 && i < NPOLICIES ? &policies[i] : NULL;
}

int64_t ss_policy_static_score(int32_t pref_weight, int32_t total_weight, int32_t untolerated,
                               int32_t max_untolerated)
{
    int64_t aff = total_weight > 0 ? (int64_t)pref_weight * 100 / total_weight : 0;
    int64_t taint = max_untolerated > 0 ? 100 - (int64_t)untolerated * 100 / max_untolerated : 100;
    return SS_WEIGHT_AFFINITY * aff + SS_WEIGHT_TAINT * taint;
}
