/* ss_policy: kube-scheduler's resource scoring strategies (NodeResourcesFit
 * LeastAllocated / MostAllocated and NodeResourcesBalancedAllocation) over
 * cpu and memory with weight 1 each, in the same integer arithmetic. */
#include "ss_policy.h"

#include <stddef.h>
#include <strings.h>

/* requested = allocatable - free + request, as kube's "requested" after the
 * pod is added. */
static int64_t least_allocated(const ss_state_t *s, const ss_template_t *t, int32_t n)
{
    return ss_policy_least_allocated(s, t, n);
}

static int64_t most_allocated(const ss_state_t *s, const ss_template_t *t, int32_t n)
{
    return ss_policy_most_allocated(s, t, n);
}

static int64_t balanced(const ss_state_t *s, const ss_template_t *t, int32_t n)
{
    return ss_policy_balanced(s, t, n);
}

static const ss_policy_t policies[] = {
    {1, SS_POLICY_LEAST_ALLOCATED, "least-allocated",
     "spread: prefer nodes with the most free cpu and memory (kube default)", least_allocated},
    {1, SS_POLICY_MOST_ALLOCATED, "most-allocated",
     "bin-packing: prefer the fullest nodes that fit", most_allocated},
    {1, SS_POLICY_BALANCED, "balanced", "prefer nodes whose cpu and memory use stay balanced",
     balanced},
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
