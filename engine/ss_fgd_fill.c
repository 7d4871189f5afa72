/* ss_fgd_fill: the dead-share measure of the fgd-fill policy
 * (docs/evaluation.md, "Our policy: fgd-fill"), one formula for the
 * replay's scorer (ss_fgd_policy.c) and the engine's (ss_policy_fgd.c).
 *
 * At 100 % arrival on the OpenB trace every idle GPU is a share left on a
 * partly used GPU; some of those shares no typical pod can ever fill, by
 * size (no sum of typical shared pods' milli reaches it) or because the
 * node lacks the cpu for the pods that would fill it. FGD's measure counts
 * such a share as fragmentation only for the next pod; this one counts
 * what stays dead. Tables are built once per run from the typical pods. */
#include <stdint.h>
#include <string.h>

#include "ss_fgd.h"

static bool shared_typical(const ss_fgd_typical_t *t)
{
    return t->num_gpu == 1 && t->milli > 0 && t->milli < SS_GPU_MILLI;
}

void ss_fgd_fill_build(const ss_fgd_typical_t *typ, int32_t n, ss_fgd_fill_t *f)
{
    uint8_t can[SS_GPU_MILLI + 1];
    memset(can, 0, sizeof can);
    can[0] = 1;
    for (int32_t g = 1; g <= SS_GPU_MILLI; g++)
        for (int32_t t = 0; t < n && !can[g]; t++)
            if (shared_typical(&typ[t]) && typ[t].milli <= g && can[g - typ[t].milli])
                can[g] = 1;
    int32_t reach = 0;
    for (int32_t g = 0; g <= SS_GPU_MILLI; g++) {
        if (can[g])
            reach = g;
        f->dead[g] = (int16_t)(g - reach);
        f->mincpu[g] = INT64_MAX;
        for (int32_t t = 0; t < n; t++)
            if (shared_typical(&typ[t]) && typ[t].milli <= g && typ[t].cpu < f->mincpu[g])
                f->mincpu[g] = typ[t].cpu;
    }
    f->dead[SS_GPU_MILLI] = 0; /* a free GPU is FGD's business */
}

int64_t ss_fgd_fill_dead(const ss_fgd_fill_t *f, const int32_t *g, int32_t ng, int64_t cpu_free)
{
    int64_t dead = 0, val[SS_MAX_GPUS_PER_NODE];
    int32_t nh = 0;
    for (int32_t i = 0; i < ng; i++) {
        if (g[i] <= 0 || g[i] >= SS_GPU_MILLI)
            continue;
        if (cpu_free < f->mincpu[g[i]]) { /* no fitting typical pod has the cpu */
            dead += g[i];
            continue;
        }
        dead += f->dead[g[i]];
        val[nh++] = g[i] - f->dead[g[i]];
    }
    int64_t fillers = cpu_free / SS_FGD_FILL_CPU_MILLI;
    if (nh > fillers) {                  /* the smallest fillable amounts lack the cpu for a pod */
        for (int32_t a = 1; a < nh; a++) /* insertion sort, ascending */
            for (int32_t b = a; b > 0 && val[b] < val[b - 1]; b--) {
                int64_t x = val[b];
                val[b] = val[b - 1];
                val[b - 1] = x;
            }
        for (int32_t a = 0; a < nh - fillers; a++)
            dead += val[a];
    }
    return dead;
}
