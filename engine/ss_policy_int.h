/* ss_policy_int: the engine policy context (ss_policy.h), shared by the
 * registry (ss_policy.c) and the engine's FGD-paper scorers
 * (ss_policy_fgd.c). Not a public header. */
#ifndef SS_POLICY_INT_H
#define SS_POLICY_INT_H

#include "ss_policy.h"

struct ss_policy_ctx {
    const ss_policy_t *pol;
    const ss_cluster_t *c;
    ss_fgd_pod_t *pod;  /* [n_templates] each template as the FGD scores see it */
    uint64_t *tkey;     /* [n_templates] hash of (request, models): random's key */
    int32_t *gpu_model; /* [n_gpus] dense model of each GPU record (fgd policies) */
    int32_t n_models;   /* dense models, cluster string ids in model_str */
    int32_t model_str[SS_FGD_MAX_MODELS];
    ss_fgd_typical_t *typical; /* typical pods of the pending pods (fgd policies) */
    int32_t n_typical;
    int64_t typical_denom;
    ss_fgd_fill_t *fill; /* fgd-fill's tables of the typical pods */
};

/* Random's seed: fixed, so a snapshot always gives the same placements. */
#define SS_POLICY_RANDOM_SEED UINT64_C(0x5eed5eed5eed5eed)

/* One step of the hash the random policy draws from. */
static inline uint64_t ss_policy_mix(uint64_t h, uint64_t v)
{
    h ^= v + UINT64_C(0x9e3779b97f4a7c15) + (h << 6) + (h >> 2);
    return h * UINT64_C(0xff51afd7ed558ccd);
}

#endif
