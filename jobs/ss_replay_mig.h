/* ss_replay_mig: the MIG what-if of the FGD protocol (issue 15,
 * docs/evaluation.md "MIG what-if"): the trace's GPUs are treated as
 * MIG-capable A100 80GB GPUs, and each fractional-GPU pod (one GPU, 0 <
 * gpu_milli < 1000) is served by one instance of the smallest A100-80GB
 * profile whose compute (of 7) and memory (of 8) slices both cover its
 * share, instead of by time-slicing. The trace's GPU-model constraints are
 * ignored in these modes (every GPU is "an A100 80GB").
 *
 * Modes: off (today's replay, untouched), fixed layouts on a share of the
 * nodes (the rest stay whole for whole-GPU pods), and relayout (every GPU
 * starts whole; an idle GPU gets a new layout when no free instance of the
 * cluster serves an arriving pod).
 *
 * The replay's GPU-sharing state (ss_fgd.h) sees a MIG GPU as a GPU whose
 * free share is the compute share of its unused instances (capped at 999
 * milli, so no whole-GPU pod ever fits it), and a MIG pod as a shared pod
 * of its profile's compute share: the policies score nodes unchanged on
 * that view; the instance is chosen here. Plain C: no MPI, no HDF5. */
#ifndef SS_REPLAY_MIG_H
#define SS_REPLAY_MIG_H

#include <stdint.h>

#include "ss_error.h"
#include "ss_fgd.h"
#include "ss_mig.h"

enum ss_replay_mig_mode {
    SS_REPLAY_MIG_OFF = 0,
    SS_REPLAY_MIG_ALL_1G = 1,    /* fixed: the MIG nodes' GPUs all-1g.10gb */
    SS_REPLAY_MIG_HALF_3G = 2,   /* fixed: even GPU records all-3g.40gb, odd all-1g.10gb */
    SS_REPLAY_MIG_RELAYOUT = 3,  /* idle GPUs get a new layout on demand */
    SS_REPLAY_MIG_TRACE_MIX = 4, /* fixed: layouts matching the trace's profile mix */
};

/* "off", "fixed:all-1g.10gb", "fixed:half-3g.40gb", "relayout",
 * "fixed:trace-mix", NULL (the option's choices, indexed by
 * ss_replay_mig_mode). */
extern const char *const ss_replay_mig_modes[];

/* The smallest profile of A100-80GB (by memory slices, then compute slices,
 * media-extension profiles left out) with compute x 1000 >= 7 x milli and
 * memory x 1000 >= 8 x milli; -1 when milli is not in 1..999. */
int ss_replay_mig_profile(int32_t milli);

/* The share (milli) the replay's state gives an instance of profile p: its
 * compute slices x 1000 / 7, rounded down, at most 999. */
int32_t ss_replay_mig_milli(int p);

/* Whether pod p is served by MIG in the what-if (one GPU, 0 < milli < 1000). */
bool ss_replay_mig_pod(const ss_fgd_pod_t *p);

typedef struct ss_replay_mig ss_replay_mig_t;

/* The MIG side of a run over state s (borrowed; all free): lays out the
 * fixed modes' GPUs, and, for relayout, chooses per profile the layout
 * given to an idle GPU (ss_replay_mig_layout). orig[0..n) are the trace's
 * pods (their shares decide the fixed modes' node share and the relayout
 * layouts). score: the policy's (NULL = Random, drawn with seed); rank: the
 * node tie-break (borrowed, lower wins). Returns 0 (*out set), SS_EINVAL
 * (unknown mode) or SS_ENOMEM. */
int ss_replay_mig_create(ss_fgd_state_t *s, int mode, const ss_fgd_pod_t *orig, int32_t n,
                         ss_fgd_score_f score, int32_t n_shapes, const int32_t *rank, uint64_t seed,
                         ss_replay_mig_t **out, ss_error_t *err);
void ss_replay_mig_destroy(ss_replay_mig_t *m); /* accepts NULL */

/* Rewrites pods[0..n)'s fractional shares to their profile's share (the
 * typical-pod table of a MIG run sees the instances the pods take). */
void ss_replay_mig_view(ss_fgd_pod_t *pods, int32_t n);

/* Places MIG pod p (ss_replay_mig_pod): a node with a free instance of its
 * profile if any passes the filter (the policy's best score on the state's
 * view, ties to the lowest rank), the instance on the tightest GPU (fewest
 * free memory slices in unused instances, ties by index), the first free
 * one in instance order; under relayout, when none has one, the node the
 * policy prefers among those with an idle whole GPU, whose first idle GPU
 * gets ss_replay_mig_layout(profile). Updates s (cpu, memory, the GPU view;
 * s->gpu_alloc grows by the pod's request). Returns the node or -1. */
int32_t ss_replay_mig_place(ss_replay_mig_t *m, const ss_fgd_pod_t *p);

/* The layout relayout gives an idle GPU for a pod of profile p. */
const ss_mig_layout_t *ss_replay_mig_layout(const ss_replay_mig_t *m, int p);

/* Unused slices over the GPUs in MIG mode: compute (of 7) and memory (of
 * 8) of instances no pod holds plus the slices no instance covers. */
void ss_replay_mig_unused(const ss_replay_mig_t *m, int32_t *compute, int32_t *mem);
int32_t ss_replay_mig_gpus(const ss_replay_mig_t *m);      /* GPUs in MIG mode */
int64_t ss_replay_mig_relayouts(const ss_replay_mig_t *m); /* GPUs given a layout on demand */

#endif
