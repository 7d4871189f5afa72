/* ss_replay: trace replays against the placement policies of ss_fgd.h.
 *
 * Two drivers, one function each:
 *  - ss_replay_fgd: the FGD paper's evaluation protocol (docs/fgd-protocol
 *    and docs/evaluation.md): arrival only, pods sorted by name then shuffled
 *    with the seed, inflated to 130 % of GPU capacity, one placement attempt
 *    per pod, a seeded node permutation breaking ties; metrics per pod.
 *  - ss_replay_time: an event replay in trace time: arrivals at
 *    creation_time, departures at deletion_time, node add/remove/cordon
 *    events, batches of `window` seconds; pods that do not fit wait and are
 *    retried at each later batch; metrics per batch.
 * Both are deterministic for a given (cluster, trace, policy, seed).
 */
#ifndef SS_REPLAY_H
#define SS_REPLAY_H

#include <stdint.h>

#include "ss_cluster.h"
#include "ss_progress.h"
#include "ss_error.h"

/* ---------- the trace: what a snapshot's /trace group holds ---------- */

enum ss_trace_ev_kind { SS_TRACE_EV_ADD = 0, SS_TRACE_EV_REMOVE = 1, SS_TRACE_EV_CORDON = 2 };
#define SS_TRACE_NO_TIME INT64_MAX /* deletion_time of a pod that never leaves */
/* The largest time (and batch window) a trace may hold, so that batch ends
 * never overflow: 2^62 s. */
#define SS_TRACE_MAX_TIME ((int64_t)1 << 62)

typedef struct {
    int32_t n_pods;    /* = the cluster's n_pods, same order */
    int64_t *creation; /* seconds from trace start */
    int64_t *deletion; /* seconds, SS_TRACE_NO_TIME = never */
    int32_t n_events;  /* node events, sorted by time */
    int64_t *ev_time;
    int32_t *ev_kind; /* ss_trace_ev_kind */
    int32_t *ev_node; /* node index */
    char name[256];   /* trace name (the pod file's base name) */
} ss_trace_t;

/* Zeroed trace with room for n_pods pods and n_events events; NULL when out
 * of memory. */
ss_trace_t *ss_trace_create(int32_t n_pods, int32_t n_events);
void ss_trace_destroy(ss_trace_t *t); /* accepts NULL */

/* Checks the trace against the cluster: pod count, times >= 0, deletion >=
 * creation, events sorted with known kinds and nodes in range. SS_EFORMAT
 * with a message naming the row otherwise. */
int ss_trace_validate(const ss_trace_t *t, const ss_cluster_t *c, ss_error_t *err);

/* ---------- FGD protocol ---------- */

typedef struct {
    const char *policy; /* registry name, case-insensitive */
    uint64_t seed;
    int32_t inflate_pct;           /* 130: stop inflating at this % of GPU capacity */
    const ss_progress_t *progress; /* ticks per arrived pod; NULL = none */
} ss_fgd_opts_t;

typedef struct {
    int32_t n;                /* rows: pods in arrival order */
    int32_t *pod;             /* cluster pod index (clones repeat one) */
    int32_t *node;            /* node index, -1 when no node fit */
    int64_t *arrived_milli;   /* GPU milli requested by pods so far, failed ones included */
    int64_t *alloc_gpu_milli; /* GPU milli allocated after this pod */
    int64_t *alloc_cpu_milli;
    double *frag_pct;      /* cluster fragmentation rate after this pod */
    int64_t gpu_capacity;  /* milli */
    int32_t n_original;    /* pods before the inflation clones */
    double unalloc_at_100; /* summary, see ss_fgd_bucket_mean */
    double unalloc_at_130;
    double frag_at_90;
    double elapsed_s; /* wall time of the run (not written to files) */
    /* the MIG what-if (ss_replay_mig.h); NULL / 0 when mig is off */
    int32_t mig;             /* the mode */
    int32_t *unused_compute; /* per row: unused compute slices (of 7 a GPU) of MIG GPUs */
    int32_t *unused_mem;     /* per row: unused memory slices (of 8 a GPU) */
    int32_t *mig_gpus;       /* per row: GPUs in MIG mode */
    int32_t n_gpus;          /* GPUs of the cluster */
    int64_t relayouts;       /* idle GPUs given a layout on demand */
    double unused_compute_at_100, unused_mem_at_100; /* bucket means, as unalloc_at_100 */
} ss_fgd_result_t;

/* Runs the protocol on the cluster's pods (all treated as arriving, in the
 * order described above) and nodes (all initially free). Returns 0, or
 * SS_EINVAL (unknown policy), SS_ENOMEM, SS_EUNSUPPORTED. *out is owned by
 * the caller. */
int ss_replay_fgd(const ss_cluster_t *c, const ss_fgd_opts_t *o, ss_fgd_result_t **out,
                  ss_error_t *err);
/* The same with the MIG what-if mode mig (ss_replay_mig_mode of
 * ss_replay_mig.h; SS_REPLAY_MIG_OFF = ss_replay_fgd). SS_EINVAL for an
 * unknown mode. */
int ss_replay_fgd_mig(const ss_cluster_t *c, const ss_fgd_opts_t *o, int mig, ss_fgd_result_t **out,
                      ss_error_t *err);
void ss_fgd_result_destroy(ss_fgd_result_t *r); /* accepts NULL */

/* The simulator's analysis (merge_alloc_discrete.py): rows bucketed by
 * round(arrived %), alloc rounded to 2 decimals; returns the mean of
 * alloc % (or of frag_pct when frag is true) over the rows of bucket b; if
 * no row falls in b, the value of the last row before it (NaN when none). */
double ss_fgd_bucket_mean(const ss_fgd_result_t *r, int b, int frag);

/* ---------- time-based replay ---------- */

typedef struct {
    const char *policy;
    uint64_t seed;
    int64_t window;                               /* batch length in trace seconds (>= 1) */
    void (*progress)(void *arg, double fraction); /* may be NULL */
    void *progress_arg;
} ss_time_opts_t;

/* Gang options of the time replay (a separate struct so that callers of
 * ss_replay_time that fill ss_time_opts_t positionally stay valid). */
typedef struct {
    /* Anti-starvation (docs/gangs-and-topology.md, "Gangs over time: no
     * starvation"): a gang that has waited this many trace seconds since
     * min_member of its pods were waiting gets a reservation; other pods may
     * use the reserved nodes only if they leave no later than it starts
     * (backfill). 0 disables the rule. */
    int64_t reserve_wait;
} ss_time_gang_opts_t;

#define SS_TIME_GANG_RESERVE_WAIT_DEFAULT 600 /* 10 minutes of trace time */

/* What became of a pod group by the end of a time replay. */
enum ss_gang_status {
    SS_GANG_INCOMPLETE = 0, /* never had min_member pods waiting at once */
    SS_GANG_WAITING = 1,    /* had them, but was not placed (or restarted and not again) */
    SS_GANG_PLACED = 2,     /* placed all-or-nothing (last placement stands) */
    SS_GANG_NEVER_FITS = 3, /* fewer than min_member of its pods fit on the empty cluster */
};
/* "incomplete", "waiting", "placed", "never-fits"; NULL if bad. */
const char *ss_gang_status_name(int status);

typedef struct {
    int32_t n;               /* rows: one per batch that had an event */
    int64_t *time;           /* batch end, trace seconds */
    int64_t *arrived_pods;   /* cumulative */
    double *arrived_gpu_pct; /* cumulative GPU requested, % of capacity */
    double *alloc_cpu_pct, *alloc_mem_pct, *alloc_gpu_pct;
    int32_t *running; /* pods placed and not departed */
    int32_t *pending; /* pods waiting after the batch */
    double *frag_pct;
    double *latency_mean_s; /* of the pods placed in this batch (0 if none) */
    int64_t *latency_max_s;
    /* summary: every pod of the trace is exactly one of placed, never_placed
     * and pending_end (the replay checks placed + never_placed + pending_end
     * == n_pods and fails with an internal error otherwise) */
    int64_t placed;        /* pods placed at least once (an evicted pod stays counted) */
    int64_t never_placed;  /* never placed, left the queue at their deletion time */
    int64_t left_in_batch; /* of never_placed: arrived and left within one batch window */
    int64_t pending_end;   /* never placed, still waiting when the trace ends */
    int64_t evicted;       /* evictions by node removal (a pod may count more than once) */
    double latency_mean_all_s;
    int64_t latency_max_all_s;
    /* per pod, cluster order: batch end when last placed, -1 never */
    int32_t n_pods;
    int64_t *pod_start;
    /* per pod group, cluster order */
    int32_t n_groups;
    int32_t *group_status;     /* ss_gang_status */
    int64_t *group_ready;      /* batch end since when min_member pods wait; -1 when not */
    int64_t *group_start;      /* batch end of its last placement, -1 never */
    int64_t *group_resv_start; /* start time of the last reservation made for it, -1 none */
    int32_t *group_fit_empty;  /* waiting pods that fit on the empty cluster, -1 unknown */
    int64_t gangs_placed;      /* gang placements (a restarted gang counts again) */
    int64_t gangs_never_fit;   /* groups whose final status is SS_GANG_NEVER_FITS */
    int64_t reservations;      /* reservations made */
} ss_time_result_t;

/* Replays trace t on cluster c. Latency of a pod = end of the batch that
 * placed it - end of the batch it arrived in. A pod still pending at its
 * deletion time leaves the queue unplaced ("never placed"); so does a pod
 * that arrives and leaves within one batch window (left_in_batch). The
 * queue is
 * ordered by priority (higher first), then by arrival; the pods of a group
 * are placed all-or-nothing (at least min_member of its waiting pods, or
 * none), and a gang that does not fit does not hold back the pods behind it.
 * Group topology constraints are not applied here. Returns 0 or a negative
 * code (SS_EINVAL for bad options). */
int ss_replay_time(const ss_cluster_t *c, const ss_trace_t *t, const ss_time_opts_t *o,
                   ss_time_result_t **out, ss_error_t *err);
/* The same with gang options; go == NULL means the defaults (reservations
 * after SS_TIME_GANG_RESERVE_WAIT_DEFAULT s), which is what ss_replay_time
 * uses. SS_EINVAL when go->reserve_wait < 0. */
int ss_replay_time_gangs(const ss_cluster_t *c, const ss_trace_t *t, const ss_time_opts_t *o,
                         const ss_time_gang_opts_t *go, ss_time_result_t **out, ss_error_t *err);
void ss_time_result_destroy(ss_time_result_t *r); /* accepts NULL */

/* Writes why group g of the replayed cluster c ended as it did, e.g.
 * "gang 'train': unschedulable: only 4 of min_member 5 pods fit on the
 * empty cluster", into buf (always terminated). Returns the
 * ss_gang_status, or SS_EINVAL when g is out of range. */
int ss_time_gang_reason(const ss_time_result_t *r, const ss_cluster_t *c, int32_t g, char *buf,
                        size_t len);

/* ---------- shared by the drivers ---------- */

#include "ss_fgd.h"

/* One ss_fgd_pod_t per cluster template (shape = template index), in a new
 * array the caller frees. NULL when out of memory. */
ss_fgd_pod_t *ss_replay_template_pods(const ss_fgd_state_t *s, const ss_cluster_t *c);

/* A seeded random permutation of 0..n-1 (the node tie-break rank), in a new
 * array the caller frees. NULL when out of memory. */
int32_t *ss_replay_node_rank(int32_t n, uint64_t seed);

#endif
