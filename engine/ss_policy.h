/* ss_policy: the one registry of placement policies, used by `schedule`,
 * `bench` (the engine, ss_sched*.c and ss_exhaustive.c) and `replay` (the
 * GPU-sharing model, ss_fgd*.c). Looked up by name, case-insensitive; an
 * unknown name is NULL and every command rejects it.
 *
 * Each entry carries two scorers of one formula: `score` on the engine's
 * state (ss_state.h) and `replay_score` on the replay's GPU-sharing state
 * (ss_fgd.h). The kube policies use kube-scheduler's integer arithmetic in
 * both; the six FGD-paper policies keep the FGD simulator's own scores.
 *
 * Scores are integers, as in kube-scheduler. The score of a node depends on
 * that node alone (and the pod), never on the other candidates: this is what
 * lets the engine keep per-node scores in heaps and merge shard results
 * exactly. Where kube-scheduler normalises a plugin's score over the feasible
 * nodes (NodeAffinity, TaintToleration), shardsched normalises with a static
 * bound instead; docs/architecture.md ("Policies") explains the difference.
 * The FGD policies' fragmentation is per node too, against a typical-pod
 * table built once per run from the snapshot's pending pods.
 *
 * Total engine score of a node = fit (the policy's score) + 2 x affinity
 * (0..100: matched preferred-term weight x 100 / the template's total
 * preferred weight) + 3 x taint (0..100: 100 - untolerated PreferNoSchedule
 * taints x 100 / the cluster's largest such count), weights as
 * kube-scheduler's defaults.
 */
#ifndef SS_POLICY_H
#define SS_POLICY_H

#include <math.h>
#include <stdbool.h>

#include "ss_fgd.h"
#include "ss_state.h"

enum ss_policy_id {
    SS_POLICY_LEAST_ALLOCATED = 0,
    SS_POLICY_MOST_ALLOCATED = 1,
    SS_POLICY_BALANCED = 2,
    SS_POLICY_KUBE_DEFAULT = 3,
    SS_POLICY_RANDOM = 4,
    SS_POLICY_DOTPROD = 5,
    SS_POLICY_GPUCLUSTERING = 6,
    SS_POLICY_GPUPACKING = 7,
    SS_POLICY_BESTFIT = 8,
    SS_POLICY_FGD = 9,
    SS_POLICY_FGD_RESERVE = 10,
    SS_POLICY_FGD_CPU = 11,
    SS_POLICY_FGD_FILL = 12,
    SS_POLICY_COUNT = 13
};

/* Per-run data of the engine's non-kube scorers: the typical-pod table,
 * dense GPU models, each template's FGD view. Built by ss_policy_ctx_create;
 * read-only while scheduling (shards score in parallel). */
typedef struct ss_policy_ctx ss_policy_ctx_t;

/* Engine scorer: node's score for template t (index) given the state now;
 * *gpu (may be NULL) receives the policy's GPU (index within the node) for a
 * shared-GPU pod, or -1 for the tightest-GPU rule of ss_state_pick_gpus. */
typedef int64_t (*ss_policy_score_f)(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t,
                                     int32_t node, int32_t *gpu);

typedef struct {
    int version;      /* 2 */
    int id;           /* ss_policy_id */
    const char *name; /* canonical name, lower case */
    const char *help;
    ss_policy_score_f score;     /* engine (schedule, bench) */
    ss_fgd_score_f replay_score; /* replay; NULL for random (a uniform draw) */
} ss_policy_t;

/* The policy named name (case-insensitive), or NULL (also for NULL). */
const ss_policy_t *ss_policy_find(const char *name);
/* i-th registered policy, NULL past the end. */
const ss_policy_t *ss_policy_at(int i);
int ss_policy_count(void);

/* Builds *out, the engine context of pol for cluster c (borrowed: must
 * outlive it). Returns 0, SS_ENOMEM, or SS_EUNSUPPORTED (fgd policies on a
 * cluster with more than 63 GPU models). */
int ss_policy_ctx_create(const ss_policy_t *pol, const ss_cluster_t *c, ss_policy_ctx_t **out,
                         ss_error_t *err);
void ss_policy_ctx_destroy(ss_policy_ctx_t *x); /* accepts NULL */

/* The GPUs a pod of template t gets on node (which must fit): the policy's
 * GPU for a shared pod where the policy chooses one (fgd, fgd-reserve, fgd-cpu,
 * random), otherwise ss_state_pick_gpus's rule. */
uint64_t ss_policy_pick_gpus(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t,
                             int32_t node);

/* The non-kube score of the context's policy (its `score`), out of line. */
int64_t ss_policy_ctx_score(const ss_policy_ctx_t *x, const ss_state_t *s, const ss_template_t *tp,
                            int32_t node);

/* The kube policies' scores, inline so the engine's hottest loop can call
 * them without an indirect call (ss_policy_fit below picks one by id). kube's
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

static inline double ss_policy_fraction_(int64_t alloc, int64_t free, int64_t req)
{
    if (alloc <= 0)
        return 1.0;
    double f = (double)(alloc - free + req) / (double)alloc;
    return f > 1.0 ? 1.0 : f;
}

/* The three kube resource scores over (cpu, memory), from raw numbers:
 * allocatable, free now and the pod's request of each. */
static inline int64_t ss_policy_least_raw(int64_t ca, int64_t cf, int64_t cr, int64_t ma,
                                          int64_t mf, int64_t mr)
{
    return (ss_policy_least_one_(ca, cf, cr) + ss_policy_least_one_(ma, mf, mr)) / 2;
}

static inline int64_t ss_policy_most_raw(int64_t ca, int64_t cf, int64_t cr, int64_t ma, int64_t mf,
                                         int64_t mr)
{
    return (ss_policy_most_one_(ca, cf, cr) + ss_policy_most_one_(ma, mf, mr)) / 2;
}

/* NodeResourcesBalancedAllocation: (1 - std) x 100 truncated, std of the two
 * fractions = |fc - fm| / 2, fractions capped at 1. */
static inline int64_t ss_policy_balanced_raw(int64_t ca, int64_t cf, int64_t cr, int64_t ma,
                                             int64_t mf, int64_t mr)
{
    double fc = ss_policy_fraction_(ca, cf, cr);
    double fm = ss_policy_fraction_(ma, mf, mr);
    double std = fabs(fc - fm) / 2.0; /* standard deviation of two values */
    return (int64_t)((1.0 - std) * 100.0);
}

#define SS_POLICY_ARGS_(s, t, n)                                                                   \
    (s)->c->node_cpu[n], (s)->free_cpu[n], (t)->req.cpu_milli, (s)->c->node_mem[n],                \
        (s)->free_mem[n], (t)->req.memory

static inline int64_t ss_policy_least_allocated(const ss_state_t *s, const ss_template_t *t,
                                                int32_t n)
{
    return ss_policy_least_raw(SS_POLICY_ARGS_(s, t, n));
}

static inline int64_t ss_policy_most_allocated(const ss_state_t *s, const ss_template_t *t,
                                               int32_t n)
{
    return ss_policy_most_raw(SS_POLICY_ARGS_(s, t, n));
}

static inline int64_t ss_policy_balanced(const ss_state_t *s, const ss_template_t *t, int32_t n)
{
    return ss_policy_balanced_raw(SS_POLICY_ARGS_(s, t, n));
}

/* kube-default's resource part: NodeResourcesFit (LeastAllocated) weight 1
 * + NodeResourcesBalancedAllocation weight 1; its TaintToleration (3) and
 * NodeAffinity (2) are the static part every policy gets. */
static inline int64_t ss_policy_kube_default(const ss_state_t *s, const ss_template_t *t, int32_t n)
{
    return ss_policy_least_allocated(s, t, n) + ss_policy_balanced(s, t, n);
}

/* Fit score of policy id (ss_policy_id) with context x: the kube ones
 * inline, the others through the registry's scorer. Every id is a case. */
static inline int64_t ss_policy_fit(int id, const ss_policy_ctx_t *x, const ss_state_t *s,
                                    const ss_template_t *t, int32_t n)
{
    switch ((enum ss_policy_id)id) {
    case SS_POLICY_LEAST_ALLOCATED:
        return ss_policy_least_allocated(s, t, n);
    case SS_POLICY_MOST_ALLOCATED:
        return ss_policy_most_allocated(s, t, n);
    case SS_POLICY_BALANCED:
        return ss_policy_balanced(s, t, n);
    case SS_POLICY_KUBE_DEFAULT:
        return ss_policy_kube_default(s, t, n);
    case SS_POLICY_RANDOM:
    case SS_POLICY_DOTPROD:
    case SS_POLICY_GPUCLUSTERING:
    case SS_POLICY_GPUPACKING:
    case SS_POLICY_BESTFIT:
    case SS_POLICY_FGD:
    case SS_POLICY_FGD_RESERVE:
    case SS_POLICY_FGD_CPU:
    case SS_POLICY_FGD_FILL:
        return ss_policy_ctx_score(x, s, t, n);
    case SS_POLICY_COUNT:
        break;
    }
    return 0; /* not reached: ids come from the registry */
}

#define SS_WEIGHT_FIT 1
#define SS_WEIGHT_AFFINITY 2
#define SS_WEIGHT_TAINT 3
/* kube-scheduler's default profile also weighs PodTopologySpread 2 and
 * InterPodAffinity 2; they join kube-default when spread lands. */

/* The static part of a node's score: 2 x affinity + 3 x taint (see above).
 * pref_weight: matched preferred weight; total_weight: the template's total;
 * untolerated: PreferNoSchedule taints not tolerated; max_untolerated: the
 * cluster's largest PreferNoSchedule count on a node. */
int64_t ss_policy_static_score(int32_t pref_weight, int32_t total_weight, int32_t untolerated,
                               int32_t max_untolerated);

/* Engine scorers of the FGD-paper policies, fgd-reserve and fgd-cpu (ss_policy_fgd.c),
 * exported for the registry and tests. */
int64_t ss_policy_score_random(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t, int32_t n,
                               int32_t *gpu);
int64_t ss_policy_score_dotprod(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t, int32_t n,
                                int32_t *gpu);
int64_t ss_policy_score_clustering(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t,
                                   int32_t n, int32_t *gpu);
int64_t ss_policy_score_packing(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t, int32_t n,
                                int32_t *gpu);
int64_t ss_policy_score_bestfit(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t, int32_t n,
                                int32_t *gpu);
int64_t ss_policy_score_fgd(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t, int32_t n,
                            int32_t *gpu);
int64_t ss_policy_score_reserve(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t, int32_t n,
                                int32_t *gpu);
int64_t ss_policy_score_cpu(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t, int32_t n,
                            int32_t *gpu);
int64_t ss_policy_score_fill(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t, int32_t n,
                             int32_t *gpu);

#endif
