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
    p->seq = malloc(m * sizeof *p->seq);
    if (!p->pod || !p->node || !p->reason || !p->gpu_mask || !p->seq) {
        ss_placements_destroy(p);
        return NULL;
    }
    for (int32_t i = 0; i < n; i++)
        p->node[i] = p->seq[i] = -1;
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
    free(p->seq);
    free(p->victim_row);
    free(p->victim_pod);
    free(p->relayout_gpu);
    free(p->relayout_model);
    free(p->relayout);
    free(p);
}

int ss_placements_add_victim(ss_placements_t *p, int32_t row, int32_t pod)
{
    if (p->n_victims == p->cap_victims) {
        int32_t nc = p->cap_victims ? p->cap_victims * 2 : 16;
        int32_t *a = realloc(p->victim_row, (size_t)nc * sizeof *a);
        if (!a)
            return SS_ENOMEM;
        p->victim_row = a;
        int32_t *b = realloc(p->victim_pod, (size_t)nc * sizeof *b);
        if (!b)
            return SS_ENOMEM;
        p->victim_pod = b;
        p->cap_victims = nc;
    }
    p->victim_row[p->n_victims] = row;
    p->victim_pod[p->n_victims] = pod;
    p->n_victims++;
    return 0;
}
