/* ss_sched_int: internals of the fast engine shared by ss_sched.c (runs,
 * merge, gangs) and ss_sched_shard.c (per-shard heaps and sequences). Not a
 * public header. */
#ifndef SS_SCHED_INT_H
#define SS_SCHED_INT_H

#include "ss_sched.h"
#include "ss_sched_class.h"

/* A shard's proposal inside one process: place a pod on node with this
 * score (and GPUs). Never sent between processes. */
typedef struct {
    int64_t score;
    int32_t node;
    int32_t shard;
    uint64_t gpu_mask;
} ss_cand_t;

typedef struct {
    int32_t score; /* scores are at most a few hundred */
    int32_t node;
    uint32_t ver; /* node version when scored; stale if it differs now */
} hent_t;

/* A cached heap of node scores for one signature in one shard. Entries go
 * stale when their node changes; the shard's change log says which nodes to
 * re-score the next time the heap is used. */
#define SS_SHARD_SLOTS 64
typedef struct {
    int32_t sig; /* -1: free slot */
    hent_t *heap;
    int32_t n, cap;
    int64_t pos;   /* change-log position the heap is synced to */
    int heapified; /* heap order holds (else an unordered array) */
    int pops;      /* pops in the current run */
    int32_t best;  /* index of the best entry if known (just built), else -1 */
    int32_t bound; /* >= every score in the array except entry `best` */
    int bound_ok;  /* bound is valid (built and not scanned since) */
    uint64_t used; /* LRU clock */
} slot_t;

typedef struct {
    int32_t lo, hi;               /* node range */
    int32_t *by_class;            /* the shard's nodes grouped by class (stable) */
    int32_t *run_class, *run_end; /* class runs in by_class: class, end offset */
    int32_t n_runs;
    slot_t slot[SS_SHARD_SLOTS];
    int32_t slot_sig[SS_SHARD_SLOTS]; /* slot[i].sig, packed for the lookup */
    slot_t scratch;                   /* uncached heap for runs restricted to a node range */
    slot_t *cur;                      /* the heap of the current run */
    int32_t *chg;                     /* change log: nodes whose free capacity changed */
    int64_t n_chg, chg_cap;
    uint32_t stamp_gen; /* dedup of change-log nodes during a resync */
    uint64_t clock;
    ss_cand_t *log; /* this run's speculative placements, in order */
    int32_t n_log, consumed, log_cap;
    int exhausted;
    int32_t ahead;      /* lookahead: entries to propose per round */
    int32_t bound;      /* upper bound on the score of the next proposal */
    int32_t bound_node; /* its node if known exactly, else the shard's first node */
    int failed;         /* out of memory in a parallel region */
} shard_t;

struct ss_sched {
    const ss_cluster_t *c;
    const ss_policy_t *policy;
    ss_policy_ctx_t *pctx; /* the policy's per-run data (typical pods, ...) */
    ss_state_t *st;
    ss_match_ctx_t mx;
    ss_classes_t cl;
    ss_sigtab_t *sigs;
    ss_vcache_t *vcache; /* filled before the parallel part, read-only in it */
    ss_layout_t lay;
    int32_t part_lo, part_hi;   /* owned partitions */
    int32_t shard_lo, shard_hi; /* their shards */
    int32_t node_lo, node_hi;   /* their nodes */
    shard_t *sh;                /* [n_shards]; only owned ones are used */
    int32_t *node_shard;        /* [n_nodes] */
    int32_t *row_of_pod;        /* [n_pods] placements row, -1 if running */
    uint32_t *stamp;            /* [n_nodes] resync dedup stamps */
    int32_t *tmpl_sig;          /* [n_templates] score signature, -1 until known */
    int32_t *tmpl_vent;         /* [n_templates] verdict cache entry, -1 until known */
    int32_t *sub_running;       /* [n_groups] running members (ss_subgroups_running); NULL: none */
    int64_t runs, fault_after;  /* test hook: fail after this many runs (-1: never) */
    ss_sched_stats_t stats;     /* of the last run */
    int32_t n_dom[SS_TOPO_MAX_LEVELS];      /* topology domains per level (contiguous ranges) */
    int32_t *dom_begin[SS_TOPO_MAX_LEVELS]; /* n_dom+1 boundaries; NULL for the node level */
    const ss_progress_t *progress;          /* ss_sched_set_progress; NULL: none */
    ss_sched_opts_t opts;                   /* ss_sched_set_opts */
};

typedef struct {
    ss_cand_t *all; /* proposals, grouped by shard in shard order */
    int32_t n_all;
    int32_t *first, *cnt; /* per shard: range in all */
    int8_t *done;         /* per shard: exhausted after its listed entries */
    int32_t *bound;       /* per shard: bound on its next entry (INT32_MAX: unknown) */
    int32_t *bound_node;  /* per shard: the node that goes with the bound */
} proposals_t;

/* One partition at work: what a run needs besides the engine. A thread
 * works on one partition at a time; nothing here is shared. */
typedef struct {
    int32_t part;       /* the partition */
    int32_t k_lo, k_hi; /* its shards */
    int32_t lo, hi;     /* nodes a run may use: the partition, or a domain inside it */
    ss_verdict_t v;     /* the current template's verdict (a view into the cache) */
    proposals_t pr;
    ss_cand_t *mine, *win;
    int32_t mine_cap, win_cap;
    int32_t *taken, *heads;
    int rc; /* first error in this partition (message in err) */
    ss_error_t err;
} ss_work_t;

/* Runs and gangs inside one partition (ss_sched.c), used by the topology
 * placement. Each returns 0 or a negative code with w->err set. */
int ss_sched_place_runs(ss_sched_t *s, ss_work_t *w, const int32_t *pods, int32_t n,
                        ss_placements_t *out, int32_t *total);
int ss_sched_gang_rollback(ss_sched_t *s, ss_work_t *w, const int32_t *pods, int32_t n,
                           ss_placements_t *out);
/* Sets w->v to template t's verdict. */
void ss_sched_verdict(const ss_sched_t *s, ss_work_t *w, int32_t t);

/* Topology (ss_sched_topo.c). */
int ss_sched_domains_build(ss_sched_t *s, ss_error_t *err);
int32_t ss_sched_dom_lo(const ss_sched_t *s, int l, int32_t d);
int32_t ss_sched_dom_hi(const ss_sched_t *s, int l, int32_t d);
/* Places a pod group that requires or prefers one topology domain, inside
 * the nodes [w->lo, w->hi). *done = 1 when it landed. */
/* A gang with sub-groups (ss_subgroups.h), inside the work's nodes: within
 * one domain of its own level (each in node order) when it has one, each
 * sub-group in one domain of its level; *done = 1 when it landed. */
int ss_sched_place_gang_subs(ss_sched_t *s, ss_work_t *w, const int32_t *pods, int32_t n,
                             int32_t root, ss_placements_t *out, int *done);
int ss_sched_place_gang_topo(ss_sched_t *s, ss_work_t *w, const int32_t *pods, int32_t n,
                             int32_t group, ss_placements_t *out, int *done);

/* Shard work (ss_sched_shard.c). Each touches only its shard's nodes, so
 * different shards may run in parallel threads. */
int ss_shard_init(shard_t *h, int32_t lo, int32_t hi, const int32_t *node_class);
void ss_shard_free(shard_t *h);
/* Starts a run of template t (signature sig) on shard h: finds or builds the
 * heap and brings it up to date. Returns 0 or SS_ENOMEM. */
int ss_shard_begin(ss_sched_t *s, const ss_work_t *w, shard_t *h, int32_t t, int32_t sig);
/* Extends the speculative sequence to `ahead` unconsumed entries. */
int ss_shard_extend(ss_sched_t *s, const ss_work_t *w, shard_t *h, int32_t t, int32_t ahead);
/* Undoes the entries not consumed, newest first. */
void ss_shard_rewind(ss_sched_t *s, shard_t *h, int32_t t);
/* Applies or removes a pod on a node of shard h and logs the change. */
int ss_shard_apply(ss_sched_t *s, shard_t *h, const ss_template_t *tp, int32_t node, uint64_t mask,
                   int sign);
/* Static reason of t on node (w->v holds t's verdict); *bonus gets the
 * static score. */
int ss_sched_node_static(const ss_sched_t *s, const ss_work_t *w, int32_t t, int32_t node,
                         int64_t *bonus);

#endif
