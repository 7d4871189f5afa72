/* ss_exhaustive: the options of the naive reference scheduler
 * (`schedule --exhaustive`, ss_exhaustive*.c): kube-scheduler's algorithm
 * at percentageOfNodesToScore 100 with every inter-pod rule of issue 12
 * (topology spread, pod (anti-)affinity, default spreading, locality,
 * DefaultPreemption with PodDisruptionBudgets), each counted with its own
 * code. docs/kubernetes.md ("Inter-pod rules") is the contract. */
#ifndef SS_EXHAUSTIVE_H
#define SS_EXHAUSTIVE_H

#include "ss_sched.h"

typedef struct {
    int preemption;            /* 1: DefaultPreemption on (--preemption on) */
    int pdb_hard;              /* 1: PDBs are hard (--preempt-with evict) */
    int32_t min_candidate_pct; /* minCandidateNodesPercentage (10) */
    int32_t min_candidate_abs; /* minCandidateNodesAbsolute (100) */
    int64_t seed_offset;       /* first node of the candidate search (mod nodes) */
    int32_t default_spreading; /* ss_default_spreading, -1: the snapshot's */
    int32_t locality;          /* ss_locality, -1: the snapshot's */
    /* 1: preempt as the fast engine orders it: every unit first without
     * preemption, then the units with pods left, in queue order, each pod
     * placed if it fits now or by preemption (0: kube's order, inline). */
    int preempt_last;
} ss_exh_opts_t;

/* The defaults: preemption on, PDBs best effort, 10 % / 100 candidates,
 * offset 0, the snapshot's modes. */
void ss_exh_opts_default(ss_exh_opts_t *o);

/* ss_exhaustive_run with options (o NULL: the defaults). Fills out's rows,
 * seq (commit order) and victims. Returns 0 or negative with err set. */
int ss_exhaustive_run_opts(const ss_cluster_t *c, const ss_policy_t *policy, const int32_t *order,
                           const ss_unit_t *units, int32_t n_units, const ss_exh_opts_t *o,
                           ss_placements_t *out, ss_error_t *err);

#endif
