/* ss_placements: the result of a scheduling run, one row per pending pod of
 * the snapshot (in snapshot pod order): the chosen node (global node index)
 * or -1 with a reason code (ss_reason.h), and for GPU pods the GPUs used (bit
 * i = the node's i-th GPU record). */
#ifndef SS_PLACEMENTS_H
#define SS_PLACEMENTS_H

#include <stdint.h>

#include "ss_error.h"
#include "ss_mig.h"

typedef struct {
    int32_t n;          /* rows: the number of pending pods */
    int32_t *pod;       /* pod row index in the snapshot (increasing) */
    int32_t *node;      /* node index, or -1 when unschedulable */
    int32_t *reason;    /* ss_reason code; SS_REASON_NONE when placed */
    uint64_t *gpu_mask; /* GPUs used on node */
    /* Commit order (issue 12): seq[i] = the position at which row i was
     * placed (0, 1, ...), -1 when not placed. The inter-pod rules hold when
     * the placements are replayed in this order (ss_verify does). */
    int32_t *seq;
    /* Preemption: running pods removed so that a preemptor fits, in commit
     * order. victim_row = the preemptor's placements row; victim_pod = the
     * victim's pod index in the snapshot. */
    int32_t n_victims, cap_victims;
    int32_t *victim_row, *victim_pod;
    /* MIG re-layout (issue 15, `schedule --mig-relayout`, docs/mig.md): new
     * layouts for idle GPUs, by increasing GPU record. A MIG pod's gpu_mask
     * (bit i = the node's i-th MIG instance) counts the instances of the
     * node after these changes (ss_mig_relayout_apply). relayout_model[i]:
     * an ss_mig model index, or -1 for MIG disabled (a whole GPU again);
     * relayout[i] is the canonical placement of its counts. */
    int32_t n_relayout, cap_relayout;
    int32_t *relayout_gpu;
    int32_t *relayout_model;
    ss_mig_layout_t *relayout;
    char policy[64]; /* policy name the run used */
    int exhaustive;  /* 1 if computed by the naive reference */
    /* ss_cluster_fingerprint of the snapshot the placements were computed
     * for (root attribute snapshot_fingerprint); has_fingerprint = 0 for a
     * file written before the attribute existed. */
    uint64_t fingerprint;
    int has_fingerprint;
    /* How the run went (the file's /run group; never part of a comparison):
     * 0 = not measured, and then not written. */
    double seconds;  /* wall time of the scheduling run */
    int32_t ranks;   /* MPI ranks of the run */
    int32_t threads; /* OpenMP threads per rank */
    /* 1: the run treated PodDisruptionBudgets as hard when choosing victims
     * (schedule --preempt-with evict; root attribute preempt_with =
     * "evict"); 0: best effort ("delete", or a file without the attribute).
     * bind refuses to evict the victims of a plan computed with 0. */
    int32_t pdb_hard;
} ss_placements_t;

/* Allocates n rows (zeroed; node = -1). NULL when out of memory. */
ss_placements_t *ss_placements_create(int32_t n);
void ss_placements_destroy(ss_placements_t *p); /* accepts NULL */
/* Appends a victim. Returns 0 or SS_ENOMEM. */
int ss_placements_add_victim(ss_placements_t *p, int32_t row, int32_t pod);

#endif
