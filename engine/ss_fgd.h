/* ss_fgd: GPU-sharing placement state and the policies of the FGD paper
 * ("Beware of Fragmentation", ATC'23) plus the project's own.
 *
 * Built for trace replays on the OpenB trace: ~1,200 GPU nodes with up to 8
 * GPUs each, ~10,000 pods placed one at a time, 60 runs per sweep. Every
 * policy's score depends only on (node state, pod shape), and one placement
 * changes one node, so scores are cached per (node, shape) and invalidated by
 * a per-node version counter: a pod costs one cache probe per node plus a
 * fresh score only for nodes that changed. Each node's fragmentation (against
 * the typical-pod table) is kept as an exact integer numerator and updated
 * only for the node that changed.
 *
 * Plain C: no MPI, no HDF5. The state borrows nothing from the cluster after
 * ss_fgd_state_create returns.
 */
#ifndef SS_FGD_H
#define SS_FGD_H

#include <stdbool.h>
#include <stdint.h>

#include "ss_cluster.h"
#include "ss_error.h"
#include "ss_rng.h"

#define SS_FGD_MAX_MODELS 63         /* node GPU models, one bit each */
#define SS_FGD_NO_MODEL (1ull << 63) /* pod mask bit: asks only unknown models */
#define SS_FGD_NTAGS 10              /* GpuClustering tags: share, 1..8 GPUs, other */
#define SS_FGD_COVERAGE_PCT 95       /* typical pods cover this share of pods */
#define SS_FGD_NORM_CPU 128000.0     /* the simulator's normalisers: largest node */
#define SS_FGD_NORM_GPU 8000.0
#define SS_FGD_RESERVE_CPU_PER_GPU 12000 /* fgd-reserve: milli-cpu kept per idle GPU */
#define SS_FGD_CPU_COPY_MILLI 2000       /* fgd-cpu: GPU milli one copy of a typical pod covers */
#define SS_FGD_FILL_CPU_MILLI 2000       /* fgd-fill: milli-cpu one filling pod needs */

/* A pod as the policies see it. */
typedef struct {
    int64_t cpu;     /* milli */
    int64_t mem;     /* bytes */
    int32_t num_gpu; /* GPUs */
    int32_t milli;   /* per GPU, 0 for CPU pods */
    uint64_t models; /* bit m: node model m allowed; 0 = any */
    int32_t shape;   /* dense id of (cpu, num_gpu, milli, models): score cache key */
} ss_fgd_pod_t;

/* One typical pod shape and how many pods of the original trace have it. */
typedef struct {
    int64_t cpu;
    int32_t num_gpu, milli;
    uint64_t models;
    int64_t count;
    int64_t mem; /* mean memory (bytes) of its pods: not part of the key; fgd-cpu's copies */
} ss_fgd_typical_t;

/* fgd-fill's tables (ss_fgd_fill.c), from the typical pods: for a free
 * share g of a partly used GPU, dead[g] = g - the largest sum <= g of
 * typical shared pods' milli (repeats allowed), mincpu[g] = the least cpu
 * of a typical shared pod with milli <= g (INT64_MAX: none). */
typedef struct {
    int16_t dead[SS_GPU_MILLI + 1];
    int64_t mincpu[SS_GPU_MILLI + 1];
} ss_fgd_fill_t;

typedef struct {
    int32_t n_nodes;
    int64_t *cpu_cap, *mem_cap, *cpu_free, *mem_free;
    int32_t *model;     /* dense model index of the node's GPUs, -1 without GPUs */
    int32_t *gpu_begin; /* node's GPUs: gpu_free[gpu_begin[n] .. + ngpu[n]] */
    int32_t *ngpu;
    int32_t *gpu_free; /* milli free per GPU */
    int32_t *gpu_cap;
    int32_t *gpu_free_total; /* per node */
    int32_t *n_full;         /* fully free GPUs per node */
    int32_t *max_free;       /* largest free share on one GPU */
    int32_t *tag_count;      /* [n_nodes * SS_FGD_NTAGS] GPU pods per tag */
    int64_t *frag;           /* fragmentation numerator: sum count_p * amount_p */
    uint32_t *version;       /* bumped on every change of the node */
    uint8_t *blocked;        /* nonzero: cordoned or absent, nothing new lands here */

    int32_t n_models;
    int32_t model_str[SS_FGD_MAX_MODELS]; /* cluster string id of each dense model */

    int32_t n_typical;
    ss_fgd_typical_t *typical;
    int64_t typical_denom; /* sum of typical counts (frag = numerator / denom) */
    ss_fgd_fill_t *fill;   /* fgd-fill's tables of the typical pods */

    int64_t gpu_cap_total, cpu_cap_total, mem_cap_total;
    int64_t gpu_alloc, cpu_alloc, mem_alloc;
    int64_t frag_total; /* sum of frag[] */
} ss_fgd_state_t;

/* Builds the state from the cluster's nodes (all free; running pods are not
 * applied). A node's model is the model of its first GPU record. Returns 0,
 * SS_ENOMEM, or SS_EUNSUPPORTED (more than 63 GPU models, or a node mixing
 * models). */
int ss_fgd_state_create(const ss_cluster_t *c, ss_fgd_state_t **out, ss_error_t *err);
void ss_fgd_state_destroy(ss_fgd_state_t *s); /* accepts NULL */

/* Fills *p from the cluster template t (shape is left to the caller). */
void ss_fgd_pod_from_template(const ss_fgd_state_t *s, const ss_cluster_t *c, int32_t t,
                              ss_fgd_pod_t *p);

/* Sets the typical-pod table from pods[0..n) (the original trace, CPU pods
 * included): shapes by count descending (ties: larger (cpu, milli, num,
 * models) first), kept until they cover SS_FGD_COVERAGE_PCT % of the pods
 * (all shapes when all is true), then recomputes every node's fragmentation.
 * Returns 0 or SS_ENOMEM. */
int ss_fgd_set_typical(ss_fgd_state_t *s, const ss_fgd_pod_t *pods, int32_t n, bool all,
                       ss_error_t *err);

/* The table itself, as ss_fgd_set_typical builds it: *table (caller frees)
 * gets *n_typical shapes; *denom the sum of their counts (at least 1). Also
 * used by the engine's fgd policies. Returns 0 or SS_ENOMEM. */
int ss_fgd_typical_build(const ss_fgd_pod_t *pods, int32_t n, bool all, ss_fgd_typical_t **table,
                         int32_t *n_typical, int64_t *denom, ss_error_t *err);

/* True iff the pod passes the filter on node n: node not blocked, cpu,
 * memory, GPU model and GPU shares (one GPU with free >= milli, or num fully
 * free GPUs). */
bool ss_fgd_fits(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p);

/* Which fragmentation measure ss_fgd_frag_of computes. */
typedef enum {
    SS_FGD_FRAG_PLAIN = 0, /* FGD's */
    SS_FGD_FRAG_CPU = 1,   /* fgd-cpu's: copies limited by cpu and memory */
    SS_FGD_FRAG_MODEL = 2, /* fgd-fill's: fgd-cpu's, and a typical GPU pod whose
                            * models exclude the node's is not counted */
} ss_fgd_frag_mode_t;

/* Fragmentation numerator of a node whose GPUs have the given free shares
 * and cpu_free: sum over typical pods of count * (free milli the pod cannot
 * use). Divide by typical_denom for milli-GPU. SS_FGD_FRAG_CPU and
 * SS_FGD_FRAG_MODEL (fgd-cpu, fgd-fill, docs/evaluation.md): a typical pod
 * that fits uses at most what the cpu and memory let copies of it take
 * (ss_fgd_cpu_usable); mem_free is read only then. SS_FGD_FRAG_MODEL also
 * leaves out the typical GPU pods that may not use the node's model: FGD
 * counts all of the node's free milli as fragmented for them, which makes
 * filling a model that fewer typical pods can use look better, so pods free
 * to go anywhere crowd the small models whose own pods then fail. */
int64_t ss_fgd_frag_of(const ss_fgd_state_t *s, int32_t model, int64_t cpu_free, int64_t mem_free,
                       const int32_t *gpu_free, int32_t ngpu, ss_fgd_frag_mode_t mode);

/* Chooses GPUs for pod p on node n: the node's GPU index `gpu` for a
 * shared pod (must fit), the first fully free GPUs for whole-GPU pods.
 * Returns the mask (0 for CPU pods). */
uint64_t ss_fgd_gpu_mask(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p, int32_t gpu);

/* Tightest GPU of node n that fits a shared pod (least free >= milli, first
 * index on ties), or -1. */
int32_t ss_fgd_tightest_gpu(const ss_fgd_state_t *s, int32_t n, int32_t milli);

/* Applies (sign = +1) or releases (sign = -1) pod p on node n with the GPUs
 * in mask; updates free capacity, tags, totals and the node's fragmentation,
 * and bumps its version. The caller has checked that it fits. */
void ss_fgd_apply(ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p, uint64_t mask, int sign);

/* Blocks (cordons) or unblocks node n; bumps its version. */
void ss_fgd_set_blocked(ss_fgd_state_t *s, int32_t n, bool blocked);

/* Cluster fragmentation rate: fragmented idle GPU milli over idle GPU milli,
 * in percent (0 when nothing is idle). */
double ss_fgd_frag_rate(const ss_fgd_state_t *s);

/* ---------------- policies ---------------- */

/* Integer node score for a pod that passed the filter (higher wins); *gpu
 * receives the policy's GPU for a shared pod, or -1 for the default rule
 * (tightest fitting GPU). */
typedef int32_t (*ss_fgd_score_f)(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p,
                                  int32_t *gpu);

/* The registry of policies is engine/ss_policy.h (one for every command):
 * each entry's replay_score is one of the scores below, or a kube score on
 * this state. */

/* GpuPacking's score for pod p on a node whose ng GPUs have free shares g
 * (n_full of them fully free): one formula for the replay's state and the
 * engine's (ss_policy_fgd.c). */
int32_t ss_fgd_packing_of(const int32_t *g, int32_t ng, int32_t n_full, const ss_fgd_pod_t *p);

/* The FGD-paper scores (ss_fgd_policy.c). */
int32_t ss_fgd_score_dotprod(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p,
                             int32_t *gpu);
int32_t ss_fgd_score_clustering(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p,
                                int32_t *gpu);
int32_t ss_fgd_score_packing(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p,
                             int32_t *gpu);
int32_t ss_fgd_score_bestfit(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p,
                             int32_t *gpu);
int32_t ss_fgd_score_fgd(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p, int32_t *gpu);
int32_t ss_fgd_score_reserve(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p,
                             int32_t *gpu);
/* fgd-cpu (this project's): FGD's score on a fragmentation measure that
 * also counts the GPU capacity a typical pod cannot use for lack of cpu or
 * memory (docs/evaluation.md, "Our policy: fgd-cpu"). */
int32_t ss_fgd_score_cpu(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p, int32_t *gpu);
/* fgd-cpu's cap on what a fitting typical pod (cpu milli-cpu, mem bytes,
 * num_gpu GPUs) can use of the usable free milli of a node with cpu_free and
 * mem_free: min(usable, copies x num_gpu x SS_FGD_CPU_COPY_MILLI), copies =
 * min(floor(cpu_free / cpu), floor(mem_free / mem)), a resource the pod
 * does not ask for not limiting. One formula for the replay's and the
 * engine's scorer. */
int64_t ss_fgd_cpu_usable(int64_t usable, int64_t cpu_free, int64_t cpu, int64_t mem_free,
                          int64_t mem, int32_t num_gpu);

/* fgd-fill (this project's): fgd-cpu's score with dF plus the drop of the
 * node's dead share (ss_fgd_fill_dead, milli-GPU) that the pod causes. */
int32_t ss_fgd_score_fill(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p, int32_t *gpu);
/* Fills f from the typical table typ[0..n). */
void ss_fgd_fill_build(const ss_fgd_typical_t *typ, int32_t n, ss_fgd_fill_t *f);
/* Dead share of a node whose GPUs have free shares g[0..ng) and cpu_free:
 * over its partly used GPUs (0 < g < 1000), g if cpu_free < mincpu[g],
 * else dead[g]; of the latter GPUs only the floor(cpu_free /
 * SS_FGD_FILL_CPU_MILLI) with the largest fillable amount (g - dead[g])
 * keep it, the others' fillable amount counts as dead too. In milli-GPU. */
int64_t ss_fgd_fill_dead(const ss_fgd_fill_t *f, const int32_t *g, int32_t ng, int64_t cpu_free);

/* ---------------- one-pod-at-a-time scheduler ---------------- */

typedef struct ss_fgd_sched ss_fgd_sched_t;

/* A scheduler over state s (borrowed; must outlive it) with the policy's
 * score (NULL: Random, a uniform feasible node and fitting GPU), n_shapes score-cache keys
 * (pod.shape in 0..n_shapes-1), ties broken by node_rank (borrowed copy made: lower rank wins; NULL
 * = node index), and rng (copied) for Random's draws. Returns NULL when out of memory. */
ss_fgd_sched_t *ss_fgd_sched_create(ss_fgd_state_t *s, ss_fgd_score_f score, int32_t n_shapes,
                                    const int32_t *node_rank, const ss_rng_t *rng);
void ss_fgd_sched_destroy(ss_fgd_sched_t *k); /* accepts NULL */

/* Picks a node for p: the best score, ties to the lowest rank. Returns the
 * node index (and *mask, the GPUs) or -1 when no node passes the filter. Does
 * not change the state; call ss_fgd_apply to place. */
int32_t ss_fgd_sched_pick(ss_fgd_sched_t *k, const ss_fgd_pod_t *p, uint64_t *mask);

#endif
