/* ss_summary: the figures a person reads after a scheduling run — pods placed
 * and unschedulable by reason, utilisation per resource before and after,
 * per zone, gangs placed / rejected and how tightly they sit, and stranded
 * GPUs — computed from a cluster and its placements with plain loops.
 *
 * Part of the independent verifier (ss_verify.h): it never calls the
 * engine's state or match code, so an engine bug cannot hide in the figures.
 * Cost is linear in pods + nodes + GPUs, plus (distinct GPU request shapes)^2
 * for the stranded-GPU figure; fine for 1,000,000 pods on 100,000 nodes.
 *
 * Placement rows that do not name a valid pending pod, or name a node out of
 * range, are ignored here (the verifier reports them as violations).
 */
#ifndef SS_SUMMARY_H
#define SS_SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include "ss_cluster.h"
#include "ss_error.h"
#include "ss_placements.h"
#include "ss_reason.h"

/* The pod a placements row names, or -1 when the row does not name a pending
 * pod of c (out of range, or a pod that is already running). */
int32_t ss_summary_row_pod(const ss_cluster_t *c, const ss_placements_t *p, int32_t row);

/* Number of leading topology levels (region, zone, block, rack, node) on
 * which nodes a and b agree: 5 for the same node, 0 for different regions.
 * Two nodes share a domain at level L iff the result is > L. */
int ss_summary_topo_common(const ss_cluster_t *c, int32_t a, int32_t b);

/* Per-node and per-GPU requests, split into [0] = pods already running and
 * [1] = pods placed by the run. Filled by ss_usage_compute. */
typedef struct {
    int64_t *cpu[2], *mem[2]; /* [n_nodes] */
    int32_t *pods[2];         /* [n_nodes] */
    int64_t *ext[2];          /* [n_nodes * SS_MAX_EXT] */
    int32_t *gpu[2];          /* [n_gpus] milli-GPU */
    uint64_t *mig[2];         /* [n_nodes] node-local MIG instances held (docs/mig.md) */
} ss_usage_t;

/* Sums the requests of running pods and of placed rows per node and per GPU
 * (only mask bits inside the node's GPU range count). Returns 0, or SS_ENOMEM
 * with *u left empty. Free with ss_usage_free. */
int ss_usage_compute(const ss_cluster_t *c, const ss_placements_t *p, ss_usage_t *u,
                     ss_error_t *err);
void ss_usage_free(ss_usage_t *u); /* accepts a zeroed or freed usage */

enum ss_res { SS_RES_CPU, SS_RES_MEMORY, SS_RES_GPU, SS_RES_PODS };
#define SS_RES_COUNT 4

typedef struct {
    int64_t capacity; /* allocatable summed over all nodes (GPU: milli-GPU) */
    int64_t before;   /* requested by running pods */
    int64_t after;    /* running + placed */
} ss_res_use_t;

typedef struct {
    char name[64]; /* zone label value, truncated */
    int32_t id;    /* its string id in the cluster */
    int32_t nodes;
    int64_t cpu_capacity, cpu_after; /* milli-cpu */
    int64_t gpu_capacity, gpu_after; /* milli-GPU */
} ss_zone_use_t;

typedef struct {
    int64_t pending;                  /* pending pods in the input */
    int64_t placed;                   /* rows with a valid node */
    int64_t unsched[SS_REASON_COUNT]; /* unplaced rows by reason (NONE: bad rows) */
    int64_t unsched_bad_reason;       /* unplaced rows with an unknown code */
    ss_res_use_t res[SS_RES_COUNT];   /* indexed by ss_res */
    int32_t n_zones;
    ss_zone_use_t *zones;                     /* owned; in node order of first appearance */
    int64_t gangs;                            /* groups with at least one pending member */
    int64_t gangs_placed, gangs_rejected;     /* >= 1 member placed / none placed */
    int64_t gangs_in_one[SS_TOPO_MAX_LEVELS]; /* placed gangs whose placed members share a domain */
    int n_levels;                             /* the cluster's topology levels */
    const char *level_name[SS_TOPO_MAX_LEVELS]; /* ss_topo_level_name (the cluster's strings) */
    bool legacy_levels;                         /* region, zone, block, rack, node */
    int64_t free_gpu_milli;                     /* free GPU capacity after the run */
    int64_t stranded_gpu_milli;                 /* see ss_summary_compute */
    int32_t stranded_nodes;                     /* nodes holding stranded GPU capacity */
    int32_t gpu_shapes;                         /* distinct GPU request shapes considered */
    /* GPUs in MIG mode (left out of the milli-GPU figures above): their
     * instances, those held by a pod after the run, and the slices no held
     * instance covers (of 7 compute and 8 memory slices per GPU). */
    int32_t mig_gpus;
    int64_t mig_insts, mig_held, mig_unused_compute, mig_unused_mem;
    /* Pods of one workload (template workload and namespace) on nodes after
     * the run, as pairs: all of them, and those whose two nodes are in
     * different zones (topology.kubernetes.io/zone; a node without the label
     * is a zone of its own) -- cross-zone traffic, what --locality cuts. */
    int64_t workload_pairs, workload_pairs_cross;
} ss_summary_t;

/* Computes the summary of placements p for cluster c from the usage u
 * (ss_usage_compute). Fills *s (which the caller frees with ss_summary_free).
 *
 * Stranded GPUs: a node's free GPU capacity (the sum over its GPUs of
 * capacity minus the milli-GPU requested by running and placed pods) is
 * stranded when no GPU request shape of the pending workload fits the node's
 * remaining resources. The shapes are the requests of the templates of all
 * pending pods (placed or not) that ask for at least one GPU; a shape
 * (cpu, memory, ext, k GPUs of m milli each) fits a node when one more pod
 * slot is free, cpu, memory and every extended resource fit the free amount,
 * and at least k of the node's GPUs each have >= m milli free. Only resources
 * count (no taints, selectors or GPU models). Shapes without GPUs are left out
 * on purpose: they cannot use the free GPUs. With no GPU shape pending, all
 * free GPU capacity is stranded.
 *
 * Returns 0 or SS_ENOMEM. */
int ss_summary_compute(const ss_cluster_t *c, const ss_placements_t *p, const ss_usage_t *u,
                       ss_summary_t *s, ss_error_t *err);
void ss_summary_free(ss_summary_t *s); /* accepts a zeroed or freed summary */

/* Prints the human summary (several lines) to f. */
void ss_summary_print(FILE *f, const ss_summary_t *s);

/* What a snapshot holds of the inter-pod rules (format version 2), for
 * inspect: the rows of each table, split by kind, and the pods whose
 * template carries them. */
typedef struct {
    int32_t spreads, spreads_hard;       /* constraints; of which DoNotSchedule */
    int32_t affinity_req, affinity_pref; /* pod affinity terms: required / preferred */
    int32_t anti_req, anti_pref;         /* pod anti-affinity terms */
    int64_t pods_spread, pods_pterm;     /* pods whose template has spreads / pod terms */
    int64_t pods_started;                /* pods with a start time (> 0) */
    int32_t pdbs, pdbs_from_status;      /* PDBs; of which allowed came from status */
    int32_t namespaces;                  /* namespaces with labels */
    int32_t default_spreading, locality; /* the modes (ss_default_spreading, ss_locality) */
} ss_rule_counts_t;

void ss_rule_counts(const ss_cluster_t *c, ss_rule_counts_t *r);
/* "none" / "system", "off" / "zone"; "?" for a value out of range. */
const char *ss_default_spreading_name(int32_t mode);
const char *ss_locality_name(int32_t mode);
/* Prints inspect's lines for r ("rules ...", "modes ...") to f. */
void ss_rule_counts_print(FILE *f, const ss_rule_counts_t *r);

#endif
