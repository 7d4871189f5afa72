/* ss_repair: `schedule --repair`, a pass after the greedy schedule that
 * places pods greedy stranded by moving already-placed pending pods of equal
 * or lower priority to other feasible nodes (issue 16, item 4;
 * docs/evaluation.md "Repair: using the whole wave" states the rules).
 *
 * With opts.any_priority a second pass may also move pods of higher
 * priority (they stay placed, at their seq, on another feasible node).
 *
 * Scope (sound by construction, then checked): only pods that no hard
 * inter-pod rule can see are moved or added: their template has no topology
 * spread and no pod (anti-)affinity terms, carries no unsupported rule, and
 * its pod labels match no DoNotSchedule spread selector and no required pod
 * term selector of any template in the cluster. Running pods, preemptors
 * (rows with victims) and gang members are never moved; a stranded gang
 * without a required topology is added whole or not at all. Every fit is
 * checked against the union of running pods (victims included) and every
 * placed pod, which contains the state at any position of the commit order,
 * so a moved pod keeps its seq and an added pod takes the next seq after the
 * greedy plan's. Finally the plan is checked with ss_verify; if it has
 * violations, the greedy plan is kept.
 *
 * Deterministic: units in queue order, nodes and pods by index, no
 * randomness; the same on every rank and thread count. */
#ifndef SS_REPAIR_H
#define SS_REPAIR_H

#include "ss_placements.h"
#include "ss_sched.h"

typedef struct {
    int32_t depth;  /* moves in one augmenting chain: 1 or 2 (default 2) */
    int64_t budget; /* fit checks per stranded pod (default 20000) */
    int verify;     /* 1: check the result with ss_verify, keep greedy's on failure */
    /* 0 (the default): only pods of equal or lower priority than the
     * stranded pod move. 1: then a second pass that may move placed pending
     * pods of any priority (each stays placed, on another feasible node). */
    int any_priority;
} ss_repair_opts_t;

typedef struct {
    int32_t stranded;   /* unplaced pods before the pass */
    int32_t candidates; /* of those, pods the pass may place (rule-free, in scope) */
    int32_t added;      /* pods placed by the pass */
    int32_t moved;      /* placed pods moved to another node */
    int64_t checks;     /* fit checks made */
    int rejected;       /* 1: the verifier refused the plan; the greedy one was kept */
    double seconds;
} ss_repair_stats_t;

void ss_repair_opts_default(ss_repair_opts_t *o);

/* Improves pl (the greedy placements of c for the queue order / units) in
 * place: node, gpu_mask, reason and seq of rows; victims are untouched.
 * o NULL: the defaults; st may be NULL. Returns 0 or SS_ENOMEM with err
 * set (pl is then unchanged). */
int ss_repair_run(const ss_cluster_t *c, const int32_t *order, const ss_unit_t *units,
                  int32_t n_units, const ss_repair_opts_t *o, ss_placements_t *pl,
                  ss_repair_stats_t *st, ss_error_t *err);

#endif
