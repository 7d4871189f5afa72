/* ss_queue: the queue order of pending pods (which pod next), kept apart
 * from placement scores (which node). Order: priority descending, then
 * snapshot order. A pod group is placed as one unit at the position of its
 * first member (members in snapshot order), so a gang is decided in one go.
 * Units of ordinary pods are runs of consecutive replicas of one template,
 * the engine's natural batch. */
#ifndef SS_QUEUE_H
#define SS_QUEUE_H

#include "ss_sched.h"

typedef struct {
    int32_t n_order; /* number of pending pods */
    int32_t *order;  /* pending pod indices in queue order */
    int32_t n_units;
    ss_unit_t *units; /* ranges of order */
} ss_queue_t;

/* Builds the queue of c's pending pods. Returns NULL with err set. */
ss_queue_t *ss_queue_build(const ss_cluster_t *c, ss_error_t *err);
void ss_queue_destroy(ss_queue_t *q); /* accepts NULL */

#endif
