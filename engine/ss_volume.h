/* ss_volume: the bin-packing quality figure of PRODUCT.md ("uses no more
 * than 2% more nodes than the volume lower bound"), computed from a cluster
 * and its placements with plain loops (no engine code), for `bench`.
 *
 * Only nodes that were empty before the run count: nodes no running pod
 * sits on. `used` is the number of them the run placed at least one pod on.
 * The volume lower bound of the pods placed on them is, per resource (cpu,
 * memory, GPU capacity in milli-GPU, pods, each extended resource), the
 * fewest empty nodes, taken largest first, whose capacities add up to the
 * requests of those pods; the bound is the largest over the resources. Every
 * empty node is a candidate, cordoned or not (more candidates can only lower
 * the bound, so it stays a lower bound). */
#ifndef SS_VOLUME_H
#define SS_VOLUME_H

#include <stdint.h>

#include "ss_cluster.h"
#include "ss_error.h"
#include "ss_placements.h"

typedef struct {
    int32_t empty_nodes; /* nodes without running pods before the run */
    int32_t used;        /* of those, nodes the run placed a pod on */
    int32_t bound;       /* the volume lower bound of the pods placed on them */
    int32_t bound_res;   /* the resource that sets it: 0 cpu, 1 memory, 2 GPU, 3 pods, 4+e ext e */
} ss_volume_t;

/* Fills *out from c and p (rows naming no valid pending pod or node are
 * skipped). Returns 0 or SS_ENOMEM with a message. */
int ss_volume_bound(const ss_cluster_t *c, const ss_placements_t *p, ss_volume_t *out,
                    ss_error_t *err);

/* Name of a bound_res value ("cpu", "memory", "gpu", "pods", or the
 * extended resource's name). */
const char *ss_volume_res_name(const ss_cluster_t *c, int32_t res);

#endif
