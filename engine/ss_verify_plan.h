/* ss_verify_plan: checks a consolidate plan (engine/ss_consolidate.h) step by
 * step with code of its own (docs/consolidate.md): it replays the moves in
 * order from the running pods with its own free-capacity arrays. */
#ifndef SS_VERIFY_PLAN_H
#define SS_VERIFY_PLAN_H

#include <stdint.h>
#include <stdio.h>

#include "ss_cluster.h"
#include "ss_consolidate.h"
#include "ss_error.h"

#define SS_VPLAN_MAX_MESSAGES 20
#define SS_VPLAN_MSG_LEN 400

typedef struct {
    int64_t violations;
    int32_t n_messages; /* the first SS_VPLAN_MAX_MESSAGES */
    char messages[SS_VPLAN_MAX_MESSAGES][SS_VPLAN_MSG_LEN];
    int32_t nodes, in_use_before, in_use_after; /* nodes with running pods */
    int32_t freed, moved, waves, lower_bound;
    int32_t pdb_checked; /* (wave, PDB) pairs with a moved pod */
} ss_vplan_report_t;

/* Checks p against c: each move in order (the pod is running where the plan
 * says, movable by the conventions and the plan's --allow, moved once, its
 * gang moved whole in one wave; the target is not drained, passes the static
 * filters (taints, cordon, nodeSelector, node affinity, GPU model), has the
 * pods, cpu, memory, extended resources and the named GPUs free after the
 * earlier moves, no pod there has a required hostname anti-affinity
 * against it or the reverse, and the replacement passes the required
 * inter-pod rules -- DoNotSchedule spread, required pod affinity and
 * anti-affinity, the running pods' required anti-affinity -- recounted
 * from every pod's position at that point of the plan), waves in order, no PDB losing more than its
 * disruptionsAllowed in any wave, every drained node empty at the end.
 * Returns the number of violations (>= 0) or a negative code. */
int64_t ss_verify_plan(const ss_cluster_t *c, const ss_cplan_t *p, ss_vplan_report_t *r,
                       ss_error_t *err);

/* Prints the messages, then the figures. */
void ss_verify_plan_print(FILE *f, const ss_vplan_report_t *r);

#endif
