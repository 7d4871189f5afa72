/* ss_sched: the fast scheduling engine.
 *
 * Workload: up to 1,000,000 pending pods from ~20,000 templates on 100,000
 * nodes. Pods are scheduled one at a time in queue order, exactly as the
 * naive reference (ss_exhaustive.c) does: each pod goes to the feasible node
 * with the highest score, ties to the lowest node index. The speed comes from
 * three things that do not change that answer:
 *   - nodes with identical labels, taints, cordon flag and GPU models form a
 *     class; the static filters and the static part of the score are
 *     computed once per (template, class);
 *   - replicas of one template that follow each other in the queue form a
 *     run; a run is placed with one heap of node scores per virtual shard,
 *     updated only where a pod lands, instead of a scan per pod;
 *   - nodes are cut into virtual shards (contiguous node ranges whose count
 *     depends on the cluster only). Each shard proposes its own greedy
 *     sequence ("my best node, then my best node after that pod, ...");
 *     because a placement changes only its own shard, merging the shards'
 *     sequences best-first gives exactly the sequential answer. Shards run in
 *     parallel (OpenMP threads here, MPI ranks through ss_sched_comm_t).
 * docs/architecture.md tells the whole story.
 */
#ifndef SS_SCHED_H
#define SS_SCHED_H

#include "ss_placements.h"
#include "ss_policy.h"
#include "ss_progress.h"
#include "ss_state.h"

/* A unit of the queue: order[begin .. begin+count) are pod indices placed
 * together. group >= 0: the pods are one pod group, placed all-or-nothing
 * (at least min_member of them, or none). */
typedef struct {
    int32_t begin, count;
    int32_t group;
} ss_unit_t;

/* A shard's proposal: place a pod on node with this score (and GPUs). A
 * record with node == -1 says "shard has no more feasible node". */
typedef struct {
    int64_t score;
    int32_t node;
    int32_t shard;
    uint64_t gpu_mask;
} ss_cand_t;

/* How shards owned by other processes are reached. NULL ops: this process
 * owns every shard. Both calls are collective over all processes and must be
 * made by all of them in the same order. */
typedef struct {
    void *ctx;
    /* Gathers every process's proposals: *all receives the concatenation over
     * processes (caller frees with free()). Returns 0 or a negative code. */
    int (*gather)(void *ctx, const ss_cand_t *mine, int32_t n, ss_cand_t **all, int32_t *n_all,
                  ss_error_t *err);
    /* Sums counts element-wise over processes, in place. */
    int (*sum)(void *ctx, int64_t *counts, int32_t n, ss_error_t *err);
} ss_sched_comm_t;

typedef struct ss_sched ss_sched_t;

/* Number of virtual shards for c, and their node ranges: shard k owns nodes
 * [bounds[k], bounds[k+1]). Depends on the cluster only; boundaries fall on
 * rack (or block, zone) changes where possible. bounds must hold
 * SS_SCHED_MAX_SHARDS + 1 entries. */
#define SS_SCHED_MAX_SHARDS 1024
#define SS_SCHED_DEFAULT_SHARD_NODES 512
/* shard_nodes: target nodes per shard (0 = the default). Results are the
 * same whatever the value; it only changes how work is cut. */
int32_t ss_sched_shards(const ss_cluster_t *c, int32_t shard_nodes, int32_t *bounds);

/* Creates an engine over c (borrowed, must outlive it) that owns shards
 * [shard_lo, shard_hi) of ss_sched_shards(c). Returns NULL with err set. */
ss_sched_t *ss_sched_create(const ss_cluster_t *c, const ss_policy_t *policy, int32_t shard_nodes,
                            int32_t shard_lo, int32_t shard_hi, ss_error_t *err);
void ss_sched_destroy(ss_sched_t *s); /* accepts NULL */

/* Test hook: makes this process fail (as if out of memory) when it starts
 * its run number `after` (counted from 0), to test that the other processes
 * stop cleanly too. -1 (the default) disables it. */
void ss_sched_inject_fault(ss_sched_t *s, int64_t after);

/* Progress of ss_sched_run: ticked once per unit (done units / n_units) on
 * the calling thread. p is borrowed (NULL: none); set it on one rank only
 * to show it once. */
void ss_sched_set_progress(ss_sched_t *s, const ss_progress_t *p);

/* Places the queue's units in order and fills out (rows = pending pods in
 * pod order; out->n must equal the number of pending pods). comm may be
 * NULL. On every process the whole of out is filled. Returns 0 or negative;
 * an error on one process reaches the others at the next exchange (they
 * return SS_EPEER), so no process is left waiting in a collective. */
int ss_sched_run(ss_sched_t *s, const int32_t *order, const ss_unit_t *units, int32_t n_units,
                 const ss_sched_comm_t *comm, ss_placements_t *out, ss_error_t *err);

/* The naive reference: for each pod in queue order, every node is filtered
 * and scored from scratch (no classes, no heaps, no shards), kube-scheduler
 * with percentageOfNodesToScore 100. Same semantics as ss_sched_run. */
int ss_exhaustive_run(const ss_cluster_t *c, const ss_policy_t *policy, const int32_t *order,
                      const ss_unit_t *units, int32_t n_units, ss_placements_t *out,
                      ss_error_t *err);

/* Maps a template's unsupported rule bits to the reason reported (the first
 * rule, in a fixed order), or SS_REASON_NONE when the template has none. */
int ss_sched_unsupported_reason(uint32_t rules);

#endif
