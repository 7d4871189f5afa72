/* ss_consolidate: a plan that empties nodes by moving their running pods
 * onto free room elsewhere, in waves that respect PodDisruptionBudgets
 * (issue 14, docs/consolidate.md). Plain engine code: no MPI, no HDF5.
 *
 * Which pods may move follows the drain conventions of cluster-autoscaler and
 * Karpenter (ss_consolidate_movable); a node is freed only when every pod on
 * it moves; a gang moves whole or not at all. Each move gets a target node
 * (never a node being drained) where the pod fits by resources, GPUs and the
 * static filters (engine/ss_match.h), and where its replacement passes the
 * required inter-pod rules (spread, pod (anti-)affinity both ways:
 * ss_consolidate_rules.h). Only free room is used, so no pod is displaced.
 * Deterministic: every tie goes to the lowest index. */
#ifndef SS_CONSOLIDATE_H
#define SS_CONSOLIDATE_H

#include <stdint.h>

#include "ss_cluster.h"
#include "ss_error.h"

/* Why a running pod may not move. SS_MOVE_OK: it may. */
enum ss_move_reason {
    SS_MOVE_OK = 0,
    SS_MOVE_BARE,           /* no controller: nothing would recreate it */
    SS_MOVE_DAEMONSET,      /* a DaemonSet pod stays with its node */
    SS_MOVE_MIRROR,         /* a mirror (static) pod */
    SS_MOVE_LOCAL_STORAGE,  /* emptyDir / hostPath, not annotated safe-to-evict */
    SS_MOVE_KUBE_SYSTEM,    /* a kube-system pod without a PDB */
    SS_MOVE_PVC,            /* a persistentVolumeClaim (volume topology not modelled) */
    SS_MOVE_NOT_SAFE,       /* safe-to-evict: "false" */
    SS_MOVE_DO_NOT_DISRUPT, /* karpenter.sh/do-not-disrupt: "true" */
    SS_MOVE_PDB_ZERO,       /* a PDB that covers it allows no disruption */
    SS_MOVE_RULES,          /* unused: every required inter-pod rule is checked */
    SS_MOVE_GANG,           /* a member of a gang that cannot move whole */
    SS_MOVE_COUNT
};
/* "no controller", "DaemonSet", ...; NULL if r is out of range. */
const char *ss_move_reason_name(int r);

/* --allow bits: relax one convention each. */
enum ss_allow {
    SS_ALLOW_LOCAL_STORAGE = 1u << 0,
    SS_ALLOW_KUBE_SYSTEM = 1u << 1,
    SS_ALLOW_PVC = 1u << 2,
    SS_ALLOW_BARE = 1u << 3,          /* move pods without a controller */
    SS_ALLOW_NOT_SAFE = 1u << 4,      /* ignore safe-to-evict: "false" */
    SS_ALLOW_DO_NOT_DISRUPT = 1u << 5 /* ignore karpenter.sh/do-not-disrupt */
};
/* Parses "local-storage,kube-system,pvc,bare,not-safe-to-evict,do-not-disrupt"
 * into *allow. Returns 0 or SS_EINVAL naming the bad word. */
int ss_allow_parse(const char *s, uint32_t *allow, ss_error_t *err);
/* The words of allow, comma-separated, into buf ("" for none). */
void ss_allow_format(uint32_t allow, char *buf, size_t n);

/* How a moved pod's target is chosen. */
enum ss_target_policy {
    SS_TARGET_TIGHTEST = 0,       /* least free cpu + memory after it: bin packing (default) */
    SS_TARGET_LEAST_ALLOCATED = 1 /* most free after it, as kube-scheduler's default
                                   * LeastAllocated: the node-by-node greedy baseline */
};

typedef struct {
    uint32_t allow;      /* ss_allow bits */
    int32_t max_waves;   /* >= 1; 0: unlimited */
    const int32_t *only; /* NULL: every node is a candidate (auto); else only these */
    int32_t n_only;      /*   node rows, in the order given (--drain, --nodes-from) */
    int32_t targets;     /* ss_target_policy */
} ss_consolidate_opts_t;

/* The plan. Moves are in commit order: by wave, then the order chosen
 * (each target valid after all earlier moves). Waves are numbered 1..n_waves. */
typedef struct {
    int32_t n_waves;
    int32_t n_drain;
    int32_t *drain_node; /* node rows freed by the plan */
    int32_t *drain_wave; /* the wave that cordons it (its first move's; 1 if it was empty) */
    int32_t n_moves;
    int32_t *move_pod, *move_from, *move_to, *move_wave;
    uint64_t *move_gpu_mask; /* the GPUs (MIG instances) the pod takes on its target */
    uint32_t allow;
    /* figures */
    int32_t candidates;               /* nodes tried */
    int32_t not_freed;                /* tried and kept */
    int64_t unmovable[SS_MOVE_COUNT]; /* running pods by reason */
    int64_t facts_unknown;            /* running pods whose template lacks SS_TF_EVICT_FACTS */
} ss_cplan_t;

void ss_cplan_free(ss_cplan_t *p); /* frees the arrays; accepts NULL */

/* Why running pod `pod` may not move on its own (the gang rule is applied by
 * ss_consolidate, not here); allowed[k] is PDB k's disruptionsAllowed. */
int ss_consolidate_movable(const ss_cluster_t *c, int32_t pod, uint32_t allow,
                           const int32_t *allowed);

/* Computes the plan for c (validated). Returns 0, SS_EINVAL (a bad option),
 * SS_ENOMEM. */
int ss_consolidate(const ss_cluster_t *c, const ss_consolidate_opts_t *o, ss_cplan_t *out,
                   ss_error_t *err);
/* The same plan found by scanning every node for each move instead of the
 * free-room index (engine/ss_consolidate_index.h): the reference the tests
 * compare ss_consolidate with; time grows as moves x nodes. */
int ss_consolidate_scan(const ss_cluster_t *c, const ss_consolidate_opts_t *o, ss_cplan_t *out,
                        ss_error_t *err);

/* The fewest nodes whose capacity holds the running pods' requests, for
 * each resource alone (largest nodes first), and the largest of those: a
 * lower bound on the nodes any plan keeps. */
int32_t ss_consolidate_lower_bound(const ss_cluster_t *c);

#endif
