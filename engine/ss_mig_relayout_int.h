/* ss_mig_relayout_int: helpers shared by ss_mig_relayout.c and
 * ss_mig_relayout_choose.c (not part of the engine's interface). */
#ifndef SS_MIG_RELAYOUT_INT_H
#define SS_MIG_RELAYOUT_INT_H

#include <stdbool.h>

#include "ss_mig_relayout.h"

/* The row of p re-laying out GPU record g (binary search), or -1. */
int ss_mig_relayout_find(const ss_placements_t *p, int32_t g);
/* The ss_mig model of GPU g's board (c->gpu_model), or -1. */
int ss_mig_board_model(const ss_cluster_t *c, int32_t g);
/* GPU g's state now: model -1 (not partitioned, l->n 0) or its ss_mig
 * model and layout. False when the layout names what the table lacks. */
bool ss_mig_gpu_current(const ss_cluster_t *c, int32_t g, int *model, ss_mig_layout_t *l);
/* GPU g's state after p (p's row when it has one, else the current one). */
void ss_mig_gpu_after(const ss_cluster_t *c, const ss_placements_t *p, int32_t g, int *model,
                      ss_mig_layout_t *l);
/* counts[SS_MIG_MAX_PROFILES]: instances per profile. */
void ss_mig_layout_counts(const ss_mig_layout_t *l, int32_t *counts);
bool ss_mig_layout_same(const ss_mig_layout_t *a, const ss_mig_layout_t *b);
bool ss_mig_layout_is_canonical(const ss_mig_model_t *m, const ss_mig_layout_t *l);
/* [c->n_gpus] node of each GPU record (-1: none), malloc'd; NULL: no memory. */
int32_t *ss_mig_gpu_nodes(const ss_cluster_t *c);

/* Renumbers a MIG mask of a node of k GPUs whose instance counts go from
 * cnt_old to cnt_new; moved[j]: GPU j changes (none of its instances may be
 * held). Returns 0, -1 (a bit past the instances) or -2 (a held instance
 * on a moved GPU). */
int ss_mig_remap_mask(uint64_t mask, int32_t k, const int32_t *cnt_old, const int32_t *cnt_new,
                      const uint8_t *moved, uint64_t *out);
/* The running pods' masks after p ([c->n_pods], malloc'd into *out), or
 * SS_EINVAL when a running pod holds a GPU p changes. */
int ss_mig_relayout_running_masks(const ss_cluster_t *c, const ss_placements_t *p, uint64_t **out,
                                  ss_error_t *err);

#endif
