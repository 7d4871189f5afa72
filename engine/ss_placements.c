/* ss_placements: allocation of a result table. */
#include "ss_placements.h"

#include <stdlib.h>

ss_placements_t *ss_placements_create(int32_t n)
{
    ss_placements_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    size_t m = n > 0 ? (size_t)n : 1;
    p->n = n;
    p->pod = calloc(m, sizeof *p->pod);
    p->node = malloc(m * sizeof *p->node);
    p->reason = calloc(m, sizeof *p->reason);
    p->gpu_mask = calloc(m, sizeof *p->gpu_mask);
    if (!p->pod || !p->node || !p->reason || !p->gpu_mask) {
        ss_placements_destroy(p);
        return NULL;
    }
    for (int32_t i = 0; i < n; i++)
        p->node[i] = -1;
    return p;
}

void ss_placements_destroy(ss_placements_t *p)
{
    if (!p)
        return;
    free(p->pod);
    free(p->node);
    free(p->reason);
    free(p->gpu_mask);
    free(p);
}
