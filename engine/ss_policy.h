/* ss_policy: the registry of placement policies, looked up by name
 * (case-insensitive). A policy scores one node for one pod from read-only
 * views of the cluster and the current state; the queue order (which pod
 * next) is separate (jobs/ss_queue.h).
 *
 * Scores are integers, as in kube-scheduler. The score of a node depends on
 * that node alone (and the pod), never on the other candidates: this is what
 * lets the engine keep per-node scores in heaps and merge shard results
 * exactly. Where kube-scheduler normalises a plugin's score over the feasible
 * nodes (NodeAffinity, TaintToleration), shardsched normalises with a static
 * bound instead; docs/architecture.md explains the difference.
 *
 * Total score of a node = fit (0..100, the policy) + 2 x affinity (0..100:
 * matched preferred-term weight x 100 / the template's total preferred
 * weight) + 3 x taint (0..100: 100 - untolerated PreferNoSchedule taints x
 * 100 / the cluster's largest such count), weights as kube-scheduler's
 * defaults.
 */
#ifndef SS_POLICY_H
#define SS_POLICY_H

#include "ss_state.h"

enum ss_policy_id {
    SS_POLICY_LEAST_ALLOCATED = 0,
    SS_POLICY_MOST_ALLOCATED = 1,
    SS_POLICY_BALANCED = 2,
};

typedef struct {
    int version;      /* 1 */
    int id;           /* ss_policy_id */
    const char *name; /* canonical name */
    const char *help;
    /* 0..100: how good node is for a pod of t, given free capacity now. */
    int64_t (*fit_score)(const ss_state_t *s, const ss_template_t *t, int32_t node);
} ss_policy_t;

/* The policy named name (case-insensitive), or NULL. Static storage. */
const ss_policy_t *ss_policy_find(const char *name);
/* i-th registered policy, NULL past the end. */
const ss_policy_t *ss_policy_at(int i);

#define SS_WEIGHT_FIT 1
#define SS_WEIGHT_AFFINITY 2
#define SS_WEIGHT_TAINT 3

/* The static part of a node's score: 2 x affinity + 3 x taint (see above).
 * pref_weight: matched preferred weight; total_weight: the template's total;
 * untolerated: PreferNoSchedule taints not tolerated; max_untolerated: the
 * cluster's largest PreferNoSchedule count on a node. */
int64_t ss_policy_static_score(int32_t pref_weight, int32_t total_weight, int32_t untolerated,
                               int32_t max_untolerated);

#endif
