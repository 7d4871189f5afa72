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
 * The inter-pod rules of issue 12 (opts->rules = SS_GEN_RULES_DEFAULT):
 * topologySpreadConstraints on ~20% of pending pods, required pod
 * anti-affinity on ~2%, preferred pod anti-affinity on ~30% of service
 * templates, pod affinity on ~2% (a "cache" next to a "web"), PDBs on ~30%
 * of services (pending and running workloads), running pods of the
 * priority classes below (so that production pods must preempt batch
 * ones), and default_spreading SYSTEM. SS_GEN_RULES_NONE makes the same
 * workload (same nodes, pods, templates, requests, node rules) without any
 * of them: no spreads, pod terms or PDBs, every running pod at the batch
 * priority, every pending template preemptionPolicy Never, default
 * spreading NONE; the benchmark compares the two.
 *
 * Everything is drawn from seeded ss_rng_t streams (the workload's, the
 * rules' and the start times', each from opts->seed): the same options give
 * an identical cluster (every array equal), and the rules' stream never
 * changes the workload's draws.
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

/* What opts->rules selects (see the top of this file). */
enum ss_gen_rules { SS_GEN_RULES_NONE = 0, SS_GEN_RULES_DEFAULT = 1 };
/* Cluster profiles: PRODUCT.md's default mix, or an AI cluster (GPU-heavy
 * nodes: 60% of them 8-GPU; training gangs and GPU inference services whose
 * replicas anti-affine across zones; cluster->locality = SS_LOCALITY_ZONE),
 * or the default mix with its running pods fragmented (issue 14's
 * consolidation input): every node, GPU racks included (none left idle),
 * filled to a target drawn in [0.85, 1.35] x opts->used (default: [0.35,
 * 1.85] x used), so that about opts->used of the capacity is spread evenly
 * over all nodes; the pending workload is the default one. */
enum ss_gen_profile {
    SS_GEN_PROFILE_DEFAULT = 0,
    SS_GEN_PROFILE_AI = 1,
    SS_GEN_PROFILE_FRAGMENTED = 2
};
/* MIG in the AI profile (opts->mig, issue 15; docs/mig.md "gen and export"):
 * DEFAULT puts about half of the idle H100 / A100 80GB GPU nodes in MIG mode
 * (one mig-parted-style entry per node: all-1g.10gb, all-2g.20gb,
 * all-3g.40gb, all-balanced, all-7g.80gb, or half of its GPUs
 * all-balanced), fills a share of their instances with running inference
 * pods and turns a share of the pending GPU inference workloads into
 * nvidia.com/mig-<profile>: 1 requests. NONE: the AI profile as before
 * issue 15. Other profiles never have MIG. Drawn from its own stream: the
 * nodes, the other running pods and the pending pods' names, sizes and rules
 * are those of NONE. */
enum ss_gen_mig { SS_GEN_MIG_NONE = 0, SS_GEN_MIG_DEFAULT = 1 };

/* The priority classes gen's pods use, highest first (every pod's priority
 * is one of these values): system-cluster-critical (Kubernetes' built-in
 * class, never written as an object), production, batch, best-effort. */
typedef struct {
    const char *name;
    int32_t value;
    bool builtin;        /* a class the API server has already (system-*) */
    bool global_default; /* globalDefault: true */
    const char *description;
} ss_gen_prio_class_t;
#define SS_GEN_PRIO_SYSTEM 2000000000
#define SS_GEN_PRIO_PRODUCTION 100000
#define SS_GEN_PRIO_BATCH 1000
#define SS_GEN_PRIO_BEST_EFFORT 0
#define SS_GEN_NPRIO_CLASSES 4
extern const ss_gen_prio_class_t ss_gen_prio_classes[SS_GEN_NPRIO_CLASSES];
/* The class of a priority value, or NULL when none has it. */
const ss_gen_prio_class_t *ss_gen_prio_class(int32_t value);

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
    bool subgroups;          /* gangs of >= 4 pods in two sub-groups (off by default) */
    bool extended_resources; /* example.com/fpga on a few nodes and pods */
    bool cordoned;           /* ~3% of nodes spec.unschedulable */
    int profile;             /* ss_gen_profile */
    int rules;               /* ss_gen_rules; NONE turns the five below off */
    bool topology_spread;    /* topologySpreadConstraints on ~20% of pending pods */
    bool pod_anti_affinity;  /* required (~2% of pods) and preferred pod anti-affinity */
    bool pod_affinity;       /* pod affinity on ~2% of pods */
    bool pdbs;               /* PodDisruptionBudgets on ~30% of services */
    bool preemption;         /* running pods of lower classes (else all batch; pending: Never) */
    int mig;                 /* ss_gen_mig (profile AI only) */
    /* Ticked as nodes are filled with running pods, then as pending pods
     * are emitted: done/total in units of nodes + pending pods. Borrowed;
     * NULL (the default): none. Never changes the cluster. */
    const ss_progress_t *progress;
} ss_gen_opts_t;

/* Fills o with PRODUCT.md's default mix on the built-in default cluster
 * (2,000 nodes, 20,000 pending pods, seed 1, profile DEFAULT): every rule
 * family on, rules = SS_GEN_RULES_DEFAULT. */
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
