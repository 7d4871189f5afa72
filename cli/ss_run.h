/* ss_run: the distributed schedule that `schedule` and `bench` share, set up
 * in one place: the partition (computed once, ss_dist_partition, and handed
 * to the parallel reader, the engine and the exchange), the queue, the
 * engine or the naive reference (--exhaustive), the exchange context, error
 * agreement before every collective step, and the SS_FAULT_INJECT test hooks.
 *
 * Every function is collective over comm and returns an agreed status: 0 on
 * every rank, or < 0 on every rank, where a rank that saw the cause holds its
 * message and the others SS_EPEER; the caller reports it with ss_dist_fail. */
#ifndef SS_RUN_H
#define SS_RUN_H

#include <mpi.h>

#include "ss_cluster.h"
#include "ss_dist.h"
#include "ss_placements.h"
#include "ss_policy.h"
#include "ss_progress.h"
#include "ss_sched.h"

typedef struct {
    const ss_policy_t *policy;
    int32_t part_nodes;            /* nodes per partition; 0 = the default */
    int32_t shard_nodes;           /* nodes per virtual shard; 0 = the default */
    int exhaustive;                /* the naive reference instead of the engine */
    const ss_progress_t *progress; /* ticks of the engine's units; NULL: none */
    ss_sched_stats_t *stats;       /* filled with the engine's figures when not NULL */
    const ss_sched_opts_t *sched;  /* the inter-pod rules' options; NULL: the defaults */
    int full_read;                 /* every rank reads the whole snapshot (schedule --repair) */
} ss_run_opts_t;

/* The inter-pod rules' options, shared by schedule, bench and replay:
 * --default-spreading snapshot|system|none, --locality snapshot|zone|off,
 * --preemption on|off, --preempt-with delete|evict, --min-candidate-percent,
 * --min-candidate-nodes, --seed. Put SS_O_RULES(&r) in the option table,
 * ss_rule_cli_init(&r) before parsing, ss_rule_cli_get after. */
typedef struct {
    int spreading, locality, preemption, preempt_with;
    int64_t cand_pct, cand_abs, pct_score;
    uint64_t seed;
} ss_rule_cli_t;
extern const char *const ss_rule_spreading_names[];
extern const char *const ss_rule_locality_names[];
extern const char *const ss_rule_onoff_names[];
extern const char *const ss_rule_preempt_names[];
#define SS_O_RULES(r)                                                                              \
    SS_O_CHOICE(0, "default-spreading", &(r)->spreading, ss_rule_spreading_names),                 \
        SS_O_CHOICE(0, "locality", &(r)->locality, ss_rule_locality_names),                        \
        SS_O_CHOICE(0, "preemption", &(r)->preemption, ss_rule_onoff_names),                       \
        SS_O_CHOICE(0, "preempt-with", &(r)->preempt_with, ss_rule_preempt_names),                 \
        SS_O_INT(0, "min-candidate-percent", &(r)->cand_pct, 0, 100),                              \
        SS_O_INT(0, "min-candidate-nodes", &(r)->cand_abs, 0, 100000000),                          \
        SS_O_INT(0, "percentage-of-nodes-to-score", &(r)->pct_score, 0, 100),                      \
        SS_O_U64(0, "seed", &(r)->seed)
/* The help lines of these options. */
#define SS_RULE_HELP                                                                               \
    "  --default-spreading snapshot|system|none  kube-scheduler's default spread\n"                \
    "                       constraints for controller pods (default: the snapshot's)\n"           \
    "  --locality snapshot|zone|off  score the zone where a workload runs most higher\n"           \
    "  --preemption on|off  pods that fit nowhere may evict lower-priority pods (on)\n"            \
    "  --preempt-with delete|evict  how bind will remove victims: evict makes\n"                   \
    "                       PodDisruptionBudgets hard (default delete: best effort)\n"             \
    "  --min-candidate-percent P, --min-candidate-nodes N  preemption's candidate\n"               \
    "                       search (kube's 10 %% and 100)\n"                                       \
    "  --seed N             preemption's search starts at node N %% nodes (default 0)\n"           \
    "  --percentage-of-nodes-to-score P  pods with inter-pod rules are scored on\n"                \
    "                       kube's share of feasible nodes (0: adaptive, the default;\n"           \
    "                       100: all, --exhaustive's answer on one partition)\n"
void ss_rule_cli_init(ss_rule_cli_t *r);
void ss_rule_cli_get(const ss_rule_cli_t *r, ss_sched_opts_t *o);

/* Test hook: SS_FAULT_INJECT="PHASE:RANK" makes that rank fail at PHASE
 * (read, schedule, engine: inside the collective rounds, write), to test that
 * a fault on one rank ends every rank cleanly. Returns SS_EIO ("injected
 * fault in phase PHASE") on that rank, else 0. Not collective. The phase
 * "stop" (before the schedule setup agreement) makes that rank SIGSTOP
 * itself instead, to test --collective-timeout. */
int ss_run_injected(MPI_Comm comm, const char *phase, ss_error_t *err);

/* Reads the snapshot at path for a run with o: the parallel reader, each rank
 * reading the capacity of its own nodes (part), or with o->exhaustive the
 * serial reader on every rank (part then covers every node on every rank),
 * or with o->full_read the serial reader on every rank and the engine's
 * usual partition.
 * On success *c is the cluster (the caller owns it) and *part the partition. */
int ss_run_read(MPI_Comm comm, const char *path, const ss_run_opts_t *o, ss_cluster_t **c,
                ss_dist_part_t *part, ss_error_t *err);

/* Places every pending pod of c (part from ss_run_read, or ss_dist_partition
 * for a cluster every rank holds in full). On success *out is the placements
 * (the caller owns them, the same on every rank) with policy, exhaustive and
 * the run's time, ranks and threads filled in. */
int ss_run_schedule(MPI_Comm comm, const ss_run_opts_t *o, const ss_cluster_t *c,
                    const ss_dist_part_t *part, ss_placements_t **out, ss_error_t *err);

/* What `schedule --mig-relayout` did (cli/ss_run_mig.c). */
typedef struct {
    int64_t demand;                      /* unplaced pods short of a MIG instance or a GPU */
    int32_t chosen, dropped, kept;       /* GPUs re-laid-out: chosen, unused by pass 2, kept */
    int32_t placed_before, placed_after; /* placed pods after pass 1 and after pass 2 */
    double seconds;
} ss_run_relayout_stats_t;

/* --mig-relayout after ss_run_schedule: *pl (the first pass, whole on every
 * rank, c read whole) gets new layouts for idle GPUs (docs/mig.md), c is
 * re-laid-out, a second pass replaces *pl, and the layouts it left unused
 * are undone. Without anything to re-lay out, *pl stays. Collective;
 * every rank ends with the same c and *pl. Returns 0 or a negative code
 * (agreed). */
int ss_run_mig_relayout(MPI_Comm comm, const ss_run_opts_t *o, ss_cluster_t *c,
                        const ss_dist_part_t *part, ss_placements_t **pl,
                        ss_run_relayout_stats_t *st, ss_error_t *err);

#endif
