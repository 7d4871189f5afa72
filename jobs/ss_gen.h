/* ss_gen: the seeded synthetic cluster and workload generator behind
 * `shardsched gen`, and the default workload every speed figure refers to
 * (PRODUCT.md, "The default workload").
 *
 * Built for 100,000 nodes and 1,000,000 pending pods in a few seconds on one
 * core: nodes are emitted already sorted by topology (no sort pass), running
 * pods fill each node once, and pending pods come from ~20,000 workload
 * templates whose replicas share everything but their name.
 *
 * The cluster: one region, min(nodes, max(3, min(8, nodes/2000))) zones
 * (three at the 2,000-node default, eight from 16,000 nodes up), each pool
 * split evenly over them and every block and rack inside one zone; pools of 8-GPU
 * nodes (racks of 18 = an NVLink domain, blocks of 32 racks = an InfiniBand
 * block, one GPU model per rack), general, high-memory, spot (tainted
 * spot=true:NoSchedule, some also PreferNoSchedule) and system (tainted
 * dedicated=system:NoSchedule) nodes; ~3% cordoned; ~40% of cpu, memory and
 * GPU capacity used by running pods, never over any capacity.
 *
 * Everything is drawn from one ss_rng_t seeded with opts->seed: the same
 * options give an identical cluster (every array equal).
 */
#ifndef SS_GEN_H
#define SS_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "ss_cluster.h"
#include "ss_progress.h"
#include "ss_error.h"

#define SS_GEN_MAX_NODES 10000000
#define SS_GEN_MAX_PODS 100000000

typedef struct {
    int64_t nodes; /* 1..SS_GEN_MAX_NODES */
    int64_t pods;  /* pending pods, 0..SS_GEN_MAX_PODS (running pods come on top) */
    uint64_t seed;
    double used; /* target share of capacity used by running pods, 0..0.9 */
    /* One switch per rule family; a switch that is off removes the feature
     * from nodes and pods alike. */
    bool node_selector;      /* nodeSelector on pods (system pods: pool=system) */
    bool node_affinity;      /* required and preferred node affinity terms */
    bool taints_tolerations; /* node taints and pod tolerations */
    bool gpu;                /* GPU nodes and GPU pods (off also removes gangs) */
    bool fractional_gpu;     /* gpu_milli 250/500 pods, running and pending */
    bool gpu_models;         /* allowed-GPU-model lists on GPU pods */
    bool gangs;              /* pod groups of 8..1,024 pods of 8 GPUs */
    bool gang_topology;      /* required/preferred rack/block/zone on groups */
    bool extended_resources; /* example.com/fpga on a few nodes and pods */
    bool cordoned;           /* ~3% of nodes spec.unschedulable */
    bool topology_spread;    /* SS_RULE_TOPOLOGY_SPREAD on ~20% of pods */
    bool pod_anti_affinity;  /* SS_RULE_POD_ANTI_AFFINITY on ~2% of pods */
    /* Ticked as nodes are filled with running pods, then as pending pods
     * are emitted: done/total in units of nodes + pending pods. Borrowed;
     * NULL (the default): none. Never changes the cluster. */
    const ss_progress_t *progress;
} ss_gen_opts_t;

/* Fills o with PRODUCT.md's default mix on the built-in default cluster
 * (2,000 nodes, 20,000 pending pods, seed 1): every implemented rule on;
 * topology_spread and pod_anti_affinity off until the engine
 * implements them. */
void ss_gen_opts_default(ss_gen_opts_t *o);

/* Checks o; returns 0 or SS_EINVAL / SS_ERANGE with a message naming the
 * option. */
int ss_gen_opts_check(const ss_gen_opts_t *o, ss_error_t *err);

/* Builds a cluster from o. On success returns 0 and *out is a new cluster
 * the caller owns (ss_cluster_destroy), which passes ss_cluster_validate.
 * On failure returns SS_EINVAL / SS_ERANGE (bad options, checked before
 * anything is allocated) or SS_ENOMEM, and *out is NULL. */
int ss_gen(const ss_gen_opts_t *o, ss_cluster_t **out, ss_error_t *err);

#endif
