/* ss_subgroups: the sub-group rule of a gang (docs/gangs-and-topology.md
 * "Sub-groups"): a gang's members are the pods of its group and of all the
 * groups nested in it; it commits only when every sub-group that has members
 * among them reaches its own minimum, and the placed members of a sub-group
 * with a required level share one domain of that level. The gang's own
 * minimum and level are checked by the placer as for any gang. */
#ifndef SS_SUBGROUPS_H
#define SS_SUBGROUPS_H

#include "ss_cluster.h"
#include "ss_placements.h"

/* True when the gang of pods[0] has a sub-group (running: as below; NULL,
 * the cluster has none: false). */
bool ss_gang_has_subgroups(const ss_cluster_t *c, const int32_t *running, const int32_t *pods,
                           int32_t n);

/* Running members per group, a sub-group's counting in every group around
 * it ([n_groups], free it), in *out; NULL when the cluster has no sub-group
 * (then every gang passes the rule). Returns 0 or SS_ENOMEM. */
int ss_subgroups_running(const ss_cluster_t *c, int32_t **out);

/* The rule above over the placements out (row of pod p: row_of_pod[p]),
 * for every sub-group of the gang of pods[0], with or without pending
 * members (a sub-group's count: its placed members plus running[g]).
 * running from ss_subgroups_running (NULL: holds). Returns 1 (holds), 0
 * (broken) or SS_ENOMEM. */
int ss_subgroups_ok(const ss_cluster_t *c, const int32_t *pods, int32_t n,
                    const ss_placements_t *out, const int32_t *row_of_pod, const int32_t *running);

#endif
