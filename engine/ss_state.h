/* ss_state: what a scheduling run changes — the free capacity of every node
 * and GPU — kept apart from the immutable cluster (ss_cluster.h).
 *
 * Free capacity starts as allocatable minus the requests of the pods already
 * running on the node (a node may start over-committed: its free value is
 * then negative and nothing more fits). Every change bumps the node's
 * version, so caches keyed by node can tell stale entries.
 */
#ifndef SS_STATE_H
#define SS_STATE_H

#include "ss_cluster.h"

/* GPU pods are counted per kind for the GpuClustering policy: tag 0 shares a
 * GPU, tag k (1..8) takes k whole GPUs, tag 9 more. */
#define SS_STATE_NTAGS 10

typedef struct {
    const ss_cluster_t *c; /* borrowed; must outlive the state */
    int64_t *free_cpu, *free_mem;
    int32_t *free_pods;
    int64_t *free_ext; /* [n_nodes * SS_MAX_EXT] */
    int32_t *gpu_free; /* [n_gpus] free milli-GPU per GPU */
    uint32_t *version; /* [n_nodes], bumped at each place/unplace */
    int32_t *tags;     /* [n_nodes * SS_STATE_NTAGS] GPU pods on the node per tag */
    /* MIG (issue 15): node-local instances taken (ss_cluster_node_mig_inst),
     * and the memory slices of each instance (by mig_insts index). NULL in a
     * cluster without MIG instances. */
    uint64_t *mig_used; /* [n_nodes] */
    int8_t *mig_mem;    /* [n_mig_insts] */
} ss_state_t;

/* Builds the state of c with its running pods applied. Returns NULL if out
 * of memory. */
ss_state_t *ss_state_create(const ss_cluster_t *c);
/* The same for nodes [lo, hi) only (the others read as full and are never
 * written): the memory it takes is proportional to hi - lo, since pages of
 * other nodes are never touched. For an engine over part of the cluster. */
ss_state_t *ss_state_create_range(const ss_cluster_t *c, int32_t lo, int32_t hi);
void ss_state_destroy(ss_state_t *s); /* accepts NULL */

/* Returns SS_REASON_NONE if the request fits the node's free capacity now,
 * else the first failing resource in Kubernetes' order (pods, cpu, memory,
 * GPU, extended). GPU fit follows ss_state_pick_gpus. */
int ss_state_fit(const ss_state_t *s, const ss_template_t *t, int32_t node);

/* Chooses the GPUs a pod would use on node: whole-GPU pods take the first
 * gpu_count fully free GPUs of an allowed model; a fractional pod takes the
 * fitting GPU with the least free capacity (lowest index on ties). Returns
 * the bit mask (bit i = the node's i-th GPU), 0 for a pod without GPUs, and
 * UINT64_MAX when the GPUs do not fit. A MIG pod (mig_count > 0) gets a mask
 * of node-local MIG instances instead: free instances of its profile on the
 * tightest GPU first (fewest free memory slices in its unused instances,
 * lowest index on ties), in instance order, then on the next tightest. */
uint64_t ss_state_pick_gpus(const ss_state_t *s, const ss_template_t *t, int32_t node);
/* The same choice with free[i] the free milli-GPU of node's i-th GPU
 * (UINT64_MAX for a MIG pod: the callers, preemption, never take one). */
uint64_t ss_state_pick_gpus_from(const ss_cluster_t *c, const ss_template_t *t, int32_t node,
                                 const int32_t *free);

/* How many pods of template t would fit on node by free capacity alone (pod
 * slots, cpu, memory, extended resources and GPUs; fractional GPU pods count
 * one per GPU with room). Static filters are not checked. Used to size
 * topology domains for pod groups. */
int64_t ss_state_slots(const ss_state_t *s, const ss_template_t *t, int32_t node);

/* The GpuClustering tag of a GPU pod of t (see SS_STATE_NTAGS). */
static inline int ss_state_tag(const ss_template_t *t)
{
    if (t->req.gpu_milli < SS_GPU_MILLI)
        return 0;
    return t->req.gpu_count <= 8 ? t->req.gpu_count : SS_STATE_NTAGS - 1;
}

/* Applies (sign = +1) or removes (sign = -1) a pod of template t on node
 * with the given GPU mask. No checks: callers check fit first. */
void ss_state_apply(ss_state_t *s, const ss_template_t *t, int32_t node, uint64_t gpu_mask,
                    int sign);

#endif
