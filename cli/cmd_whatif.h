/* cmd_whatif.h: what the three files of `shardsched whatif` share (cli/
 * only): the options and the run's state; cmd_whatif.c parses and runs,
 * cmd_whatif_search.c finds --min-nodes' answer, cmd_whatif_report.c
 * prints the summary and the JSON. docs/whatif.md. */
#ifndef SS_CMD_WHATIF_H
#define SS_CMD_WHATIF_H

#include <mpi.h>
#include <stdbool.h>
#include <stdint.h>

#include "ss_run.h"
#include "ss_whatif.h"

#define SS_WI_CMD "whatif"

typedef struct {
    const char *in, *out, *cluster_out, *add, *min_nodes, *group, *pool_size, *pool_label;
    const char *prio_file, *policy;
    int expander, json, quiet;
    int64_t part_nodes, shard_nodes;
    ss_rule_cli_t rules;
} opts_t;

typedef struct {
    MPI_Comm comm;
    int rank;
    const opts_t *o;
    ss_run_opts_t ro;
    ss_sched_opts_t so;
    ss_cluster_t *c;
    ss_pools_t pools;
    int32_t *add;      /* [pools] --add counts / the answer */
    int32_t *limit;    /* [pools] --pool-size (-1: none) */
    uint8_t *use;      /* [pools] --min-nodes' pools */
    int32_t group;     /* --group's index, -1 */
    int32_t *prio;     /* [pools] priority expander's values */
    int32_t schedules; /* full schedules (the cluster with its new nodes) */
    int32_t probes;    /* schedules of probe clusters (the new nodes only) */
    int32_t n_pods0;   /* pods in the snapshot (copies add DaemonSet pods after them) */
    /* --min-nodes */
    int minmode;
    int32_t lower_bound, first_pool, unplaceable, target;
    ss_placements_t *pl;  /* the last schedule */
    ss_placements_t *pl0; /* --min-nodes: the first schedule, committed into c */
    ss_placements_t *pl1; /* its victims' replacements, scheduled and committed, or NULL */
    ss_whatif_undo_t undo;
    uint8_t *orig_pending; /* [pods] pending in the snapshot */
    uint8_t *leftover;     /* [pods] target pods the first schedule left unplaced */
    int32_t n_leftover;
    int32_t capped; /* left-over pods that only --pool-size kept out */
    int32_t stuck;  /* left-over pods that fit a new node but no number of them placed */
    int full_tried; /* r->pl is a schedule with the copies of r->add */
    int verified;   /* the answer's schedule placed every pod new nodes can take */
    double t_read, t_first, t_settle, t_est, t_verify,
        t_probe;         /* seconds (stderr only: never in the JSON) */
    int32_t *where;      /* [pods] the node of each pending pod at the end, -1 */
    int32_t *probe_pods; /* the pods pending after commit: the probe clusters' pods */
    int32_t n_probe_pods;
} run_t;

/* Schedules r->c as it is now into r->pl (replacing it). Collective. */
int ss_wi_schedule(run_t *r, ss_error_t *err);
/* Replaces the copies in r->c by counts (per pool). Not collective: every
 * rank does the same. */
int ss_wi_set_copies(run_t *r, const int32_t *counts, ss_error_t *err);
/* The pending pods --min-nodes and --group answer for (pod rows; malloc'd). */
int32_t *ss_wi_target_pods(const run_t *r, int32_t *n);
/* Target pods placed by r->pl. */
int32_t ss_wi_target_placed(const run_t *r);
/* --min-nodes (or --group that does not fit), after the first schedule
 * (r->pl). *found: the answer places every target pod. Collective. */
int ss_wi_min_nodes(run_t *r, int *found, ss_error_t *err);
/* Whether the outputs are written: not for a --min-nodes without an answer
 * for the pods that new nodes can take. */
bool ss_wi_writable(const run_t *r);
/* The summary (stdout unless --json or -q) and --json's object (rank 0). */
int ss_wi_report(const run_t *r, int found);

#endif
