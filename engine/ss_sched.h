/* ss_sched: the fast scheduling engine.
 *
 * Workload: up to 1,000,000 pending pods from ~20,000 templates on 100,000
 * nodes. The cluster is cut into partitions (contiguous node ranges on
 * zone/block/rack boundaries, at most SS_SCHED_MAX_PARTS, their count from
 * the cluster alone), and every queue unit gets a home partition from the
 * workload alone (weighted by where its template can run). Each partition
 * places its units in queue order, independently of the others, exactly as
 * the naive reference (ss_exhaustive.c) would on that partition's nodes.
 * Units that do not fit spill: in bounded rounds each failed unit moves to
 * the next partition of its rotation that may still hold it; pod groups that
 * fit no single partition are placed across partitions with two collectives
 * each. One partition gives exactly the reference's answer; several give a
 * measured approximation of it (docs/architecture.md, docs/PERFORMANCE.md).
 *
 * Inside a partition the speed comes from three things:
 *   - nodes with identical labels, taints, cordon flag and GPU models form a
 *     class; the static filters and the static part of the score are
 *     computed once per (template, class);
 *   - a run of replicas of one template is placed with one heap of node
 *     scores per virtual shard, updated only where a pod lands;
 *   - virtual shards (contiguous node ranges inside a partition) each
 *     propose their greedy sequence and a best-first merge gives exactly the
 *     sequential answer.
 * Partitions run in parallel: OpenMP threads within a process, MPI ranks
 * across processes (each rank owns a contiguous block of partitions).
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

/* What processes exchange (typed records; see ss_sched_comm_t). */
typedef enum {
    SS_MSG_FAILED = 1, /* unit `unit` failed in partition `part` after placing `count` pods */
    SS_MSG_DEAD,       /* template `tmpl` no longer fits anywhere in partition `part` */
    SS_MSG_FREE,       /* partition `part`'s largest free capacity on one node, below */
    SS_MSG_ERROR,      /* this process failed; `count` holds its error code */
} ss_msg_kind_t;

typedef struct {
    int32_t kind; /* ss_msg_kind_t */
    int32_t part, unit, tmpl, count;
    int32_t pods;      /* SS_MSG_FREE: most free pod slots on one node */
    int64_t cpu, mem;  /* SS_MSG_FREE: most free cpu (milli) / memory on one node */
    int32_t gpus;      /* SS_MSG_FREE: most whole free GPUs on one node */
    int32_t gpu_milli; /* SS_MSG_FREE: most free milli-GPU on one GPU */
} ss_sched_msg_t;

/* One placements row as the process that decided it reports it. */
typedef struct {
    int32_t row, node; /* node -1: not placed */
    uint64_t gpu_mask;
    int32_t reason, pad;
} ss_sched_row_t;

/* How partitions owned by other processes are reached. NULL ops: this
 * process owns every partition. Every call is collective over all processes
 * and made by all of them in the same order, on every path. */
typedef struct {
    void *ctx;
    int rank, size; /* this process and how many there are */
    /* Gathers every process's records: *all receives the concatenation in
     * process order, in a buffer the ops own (valid until the next gather).
     * Returns 0 or negative. */
    int (*gather_msgs)(void *ctx, const ss_sched_msg_t *mine, int32_t n, ss_sched_msg_t **all,
                       int32_t *n_all, ss_error_t *err);
    int (*gather_rows)(void *ctx, const ss_sched_row_t *mine, int32_t n, ss_sched_row_t **all,
                       int32_t *n_all, ss_error_t *err);
    /* Verdict records (ss_sched_spill.c: entry id, node-specific flag, the
     * static score and the reason of every node class), as int64 words. */
    int (*gather_i64)(void *ctx, const int64_t *mine, int32_t n, int64_t **all, int32_t *n_all,
                      ss_error_t *err);
    /* Sums counts element-wise over processes, in place. */
    int (*sum)(void *ctx, int64_t *counts, int32_t n, ss_error_t *err);
} ss_sched_comm_t;

typedef struct ss_sched ss_sched_t;

/* The layout of a cluster: partitions and, inside them, virtual shards.
 * Partition p owns shards [part_shard[p], part_shard[p+1]); shard k owns
 * nodes [bounds[k], bounds[k+1]). Depends on the cluster only, never on the
 * number of processes or threads. Computed once and handed to the reader
 * (node rows), the engine and the exchange. */
#define SS_SCHED_MAX_PARTS 64
#define SS_SCHED_MAX_SHARDS 1024
#define SS_SCHED_DEFAULT_PART_NODES 1024
#define SS_SCHED_DEFAULT_SHARD_NODES 512
typedef struct {
    int32_t n_parts, n_shards;
    int32_t part_shard[SS_SCHED_MAX_PARTS + 1];
    int32_t bounds[SS_SCHED_MAX_SHARDS + 1];
} ss_layout_t;

/* part_nodes / shard_nodes: target nodes per partition / shard (0 = the
 * defaults). Partitions grow beyond part_nodes to stay within
 * SS_SCHED_MAX_PARTS; boundaries fall on zone, block or rack changes where
 * one is close. The shard size changes only how work is cut inside a
 * partition, never the result; the partition size changes the result. */
void ss_layout_build(const ss_cluster_t *c, int32_t part_nodes, int32_t shard_nodes,
                     ss_layout_t *l);
static inline int32_t ss_layout_node_lo(const ss_layout_t *l, int32_t part)
{
    return l->bounds[l->part_shard[part]];
}

/* Creates an engine over c (borrowed, must outlive it) that owns partitions
 * [part_lo, part_hi) of l (copied). Returns NULL with err set. */
ss_sched_t *ss_sched_create(const ss_cluster_t *c, const ss_policy_t *policy, const ss_layout_t *l,
                            int32_t part_lo, int32_t part_hi, ss_error_t *err);
void ss_sched_destroy(ss_sched_t *s); /* accepts NULL */

/* What the last ss_sched_run did on this process, and where its time went
 * (seconds, wall clock). */
typedef struct {
    int64_t collectives; /* collective operations through ss_sched_comm_t */
    int32_t rounds;      /* rounds: the first placement plus spill rounds */
    int32_t across;      /* pod groups tried across partitions */
    int64_t spilled;     /* units that moved to another partition at least once */
    double setup_s;      /* items, verdicts, home partitions */
    double place_s;      /* placing inside this process's partitions */
    double exchange_s;   /* the rounds' exchanges (waiting for other processes included) */
    double across_s;     /* pod groups across partitions */
    double finish_s;     /* gathering every process's rows */
    int64_t deferred;    /* pods with rules on domains wider than a partition */
    int64_t preemptors;  /* pods placed by preempting others */
    double rules_s;      /* the deferred pods and preemption */
    double deferred_s;   /* of which the deferred pods */
    double preempt_s;    /* of which preemption */
} ss_sched_stats_t;
void ss_sched_stats(const ss_sched_t *s, ss_sched_stats_t *st);

/* Test hook: makes this process fail (as if out of memory) when it starts
 * its run number `after` (counted from 0, over its partitions), to test that
 * the other processes stop cleanly too. -1 (the default) disables it. */
void ss_sched_inject_fault(ss_sched_t *s, int64_t after);

/* Progress of ss_sched_run: ticked once per round (decided units /
 * n_units) on the calling thread. p is borrowed (NULL: none); set it on one rank only
 * to show it once. */
void ss_sched_set_progress(ss_sched_t *s, const ss_progress_t *p);

/* Options of the inter-pod rules (issue 12; docs/kubernetes.md). */
typedef struct {
    int default_spreading;     /* ss_default_spreading, or -1: the snapshot's */
    int locality;              /* ss_locality, or -1: the snapshot's */
    int preemption;            /* 1: pods that fit nowhere may preempt (default) */
    int pdb_hard;              /* 1: a preemption may not break a PDB (bind --preempt-with evict) */
    int32_t min_candidate_pct; /* minCandidateNodesPercentage (10) */
    int32_t min_candidate_abs; /* minCandidateNodesAbsolute (100) */
    int64_t seed;              /* candidate search offset: seed % nodes (0: offset 0) */
    /* Pods with inter-pod rules are scored on kube-scheduler's share of
     * feasible nodes: percentageOfNodesToScore (0: kube's adaptive share,
     * 50 % - nodes/125, at least 5 % and 100 nodes; 100: every node, which
     * is --exhaustive's answer on one partition). */
    int32_t pct_to_score;
} ss_sched_opts_t;
/* The defaults: snapshot modes, preemption on, best-effort PDBs, 10 % / 100. */
ss_sched_opts_t ss_sched_opts_default(void);
void ss_sched_set_opts(ss_sched_t *s, const ss_sched_opts_t *o);

/* Places the queue's units and fills out (rows = pending pods in pod order;
 * out->n must equal the number of pending pods). comm may be NULL. On every
 * process the whole of out is filled. Returns 0 or negative; an error on one
 * process reaches the others at the next exchange (they return SS_EPEER),
 * so no process is left waiting in a collective. The number of collectives
 * is at most 2 per spill round (< SS_SCHED_MAX_PARTS), 2 per pod group
 * placed across partitions, and 3 more. */
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
/* The same for one pod: its template's bits, and a MIG pod in a pod group
 * (gangs of MIG pods are not placed yet: SS_REASON_UNSUPPORTED_MIG). */
int ss_sched_pod_unsupported(const ss_cluster_t *c, int32_t pod);

#endif
