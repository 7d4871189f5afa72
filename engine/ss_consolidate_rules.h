/* ss_consolidate_rules: the required inter-pod rules of consolidate's movers
 * (docs/consolidate.md, docs/kubernetes.md "Inter-pod rules"), internal to
 * the planner (engine/ss_consolidate_plan.c). It keeps exact per-domain
 * counts of the running pods as the plan moves them and answers "may pod
 * P's replacement go to node N now" for DoNotSchedule topology spread,
 * required pod affinity (any key), required pod anti-affinity on keys other
 * than kubernetes.io/hostname, and the symmetric rule (a running pod's
 * required non-hostname anti-affinity repels a replacement it matches).
 * Required hostname anti-affinity stays with the planner's own pairwise
 * check. Every function accepts r == NULL (a cluster without such rules):
 * nothing is counted and every answer is "allowed". */
#ifndef SS_CONSOLIDATE_RULES_H
#define SS_CONSOLIDATE_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "ss_cluster.h"

typedef struct ss_consol_rules ss_consol_rules_t;

/* Counts c's running pods where they run. *out is NULL when no running pod
 * has a rule this file checks. Returns 0 or SS_ENOMEM. */
int ss_consol_rules_create(const ss_cluster_t *c, ss_consol_rules_t **out);
void ss_consol_rules_destroy(ss_consol_rules_t *r);

/* Takes running pod `pod` out of the counts (it is evicted; its
 * replacement is about to be placed). */
void ss_consol_rules_lift(ss_consol_rules_t *r, int32_t pod);
/* Counts pod (lifted) on node. */
void ss_consol_rules_put(ss_consol_rules_t *r, int32_t pod, int32_t node);
/* Moves a counted pod from its node to node (undo of a move). */
void ss_consol_rules_move(ss_consol_rules_t *r, int32_t pod, int32_t node);

/* True iff the replacement of lifted pod `pod` may go to node now by its
 * DoNotSchedule spread, its required pod (anti-)affinity and the running
 * pods' required anti-affinity (hostname anti-affinity excepted). */
bool ss_consol_rules_ok(const ss_consol_rules_t *r, int32_t pod, int32_t node);

/* True iff pod has such a rule or is counted by one: its moves must keep
 * their order relative to each other in the plan (the checks depend on it). */
bool ss_consol_rules_ordered(const ss_consol_rules_t *r, int32_t pod);

#endif
