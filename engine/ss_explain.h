/* ss_explain: why one pending pod was or was not placed, told the way
 * kube-scheduler's FailedScheduling event tells it:
 *
 *   0/200 nodes are available: 12 Insufficient cpu, 3 node(s) were
 *   unschedulable. preemption: 0/200 nodes are available: ...
 *
 * Every node is run through the engine's own filters (ss_match_static, then
 * the free-capacity comparisons of ss_state_fit) in the state the engine saw
 * when it tried the pod, and the nodes are counted per reason string, as
 * kube's FitError.Error() counts framework.Diagnosis' per-node statuses:
 *  - a node that fails a static filter gives one reason, the first failing
 *    plugin in kube's order (NodeUnschedulable, TaintToleration, NodeAffinity;
 *    shardsched's GPU-model list is a node affinity once exported to kube);
 *  - a node that passes them but lacks capacity gives one reason per lacking
 *    resource, as NodeResourcesFit does ("Too many pods", "Insufficient cpu",
 *    "Insufficient memory", "Insufficient nvidia.com/gpu", "Insufficient
 *    <extended resource>"), so the counts may add up to more than the nodes;
 *  - the histogram entries are "<count> <reason>" strings sorted byte-wise
 *    (Go's sort.Strings), joined with ", " and ended with ".".
 *  - a node that passes those and fails an inter-pod rule (given an
 *    ss_explain_rules_t, ss_explain_rules.c) gives one reason, the first
 *    failing rule in kube's plugin order: PodTopologySpread ("node(s) didn't
 *    match pod topology spread constraints", "... (missing required
 *    label)"), then InterPodAffinity ("node(s) didn't match pod affinity
 *    rules", "node(s) didn't match pod anti-affinity rules", "node(s) didn't
 *    satisfy existing pods anti-affinity rules");
 * The preemption suffix says which nodes kube would call "Preemption is not
 * helpful for scheduling" (a static filter, a missing spread key or pod
 * affinity failed: removing pods cannot help) and counts the others as not
 * attempted.
 *
 * One pod at a time, O(nodes) per call: a diagnostic, not part of a run.
 * Plain C, no allocation beyond the result, no globals.
 */
#ifndef SS_EXPLAIN_H
#define SS_EXPLAIN_H

#include <stdbool.h>

#include "ss_placements.h"
#include "ss_policy.h"
#include "ss_state.h"

/* The reason families, one per kube message text. */
enum ss_explain_kind {
    SS_EXPLAIN_UNSCHEDULABLE, /* "node(s) were unschedulable" (cordoned) */
    SS_EXPLAIN_TAINT,         /* "node(s) had untolerated taint {key: value}" */
    SS_EXPLAIN_AFFINITY,      /* "node(s) didn't match Pod's node affinity/selector" */
    SS_EXPLAIN_PODS,          /* "Too many pods" */
    SS_EXPLAIN_CPU,           /* "Insufficient cpu" */
    SS_EXPLAIN_MEMORY,        /* "Insufficient memory" */
    SS_EXPLAIN_GPU,           /* "Insufficient nvidia.com/gpu" */
    SS_EXPLAIN_EXT,           /* "Insufficient <name>" of an extended resource */
    /* the inter-pod rules (a = the ss_reason code, whose text is kube's) */
    SS_EXPLAIN_SPREAD,        /* "node(s) didn't match pod topology spread constraints" */
    SS_EXPLAIN_SPREAD_LABEL,  /* "... (missing required label)" */
    SS_EXPLAIN_POD_AFFINITY,  /* "node(s) didn't match pod affinity rules" */
    SS_EXPLAIN_POD_ANTI,      /* "node(s) didn't match pod anti-affinity rules" */
    SS_EXPLAIN_EXISTING_ANTI, /* "node(s) didn't satisfy existing pods anti-affinity rules" */
};

typedef struct {
    int kind;      /* ss_explain_kind */
    int32_t a, b;  /* TAINT: the taint's key and value string ids; EXT: its index */
    int64_t nodes; /* nodes that report this reason */
    char *text;    /* the kube text, owned by the result */
} ss_explain_reason_t;

/* What one pod meets on every node. */
typedef struct {
    int32_t n_nodes;        /* nodes evaluated (all of the cluster) */
    int32_t n_feasible;     /* nodes that pass every filter now */
    int32_t n_unresolvable; /* nodes failing a static filter (preemption cannot help) */
    int32_t n_capacity;     /* nodes failing on free capacity only */
    int32_t n_reasons;
    ss_explain_reason_t *reasons; /* in message order (see the top of this file) */
    /* Best feasible node by total score (ties: lowest index), when a policy
     * was given and some node is feasible; else -1 and 0. */
    int32_t best_node;
    int64_t best_score;
    /* Nodes that pass the static filters and capacity but fail spread skew,
     * pod anti-affinity or an existing pod's anti-affinity (what preemption
     * may resolve). Those failing a missing spread key or pod affinity count
     * in n_unresolvable. n_feasible + n_unresolvable + n_capacity + n_rules
     * = n_nodes. */
    int32_t n_rules;
} ss_explain_t;

/* A node's score for a pod, split as the engine adds it up (ss_policy.h):
 * total = fit + affinity + taint. */
typedef struct {
    int64_t fit;      /* SS_WEIGHT_FIT x the policy's fit score */
    int64_t affinity; /* SS_WEIGHT_AFFINITY x preferred node affinity (0..100) */
    int64_t taint;    /* SS_WEIGHT_TAINT x (100 - untolerated PreferNoSchedule share) */
    int64_t total;
} ss_explain_score_t;

/* Builds in *out the state in which the engine tried pod: c's running pods
 * plus the placements p of the pending pods that come before pod in queue
 * order (order: the n_order pending pods in queue order, as ss_queue_build
 * gives them). Pods of a pod group that failed as a whole hold no node in p,
 * so for them this is the state before the group was tried. Stores pod's
 * position in order in *position (if not NULL). Returns 0; SS_ENOTFOUND when
 * pod is not in order (not pending); SS_EINVAL when order or p do not match
 * c; SS_ENOMEM. On failure *out is NULL. The state borrows c. */
int ss_explain_state(const ss_cluster_t *c, const ss_placements_t *p, const int32_t *order,
                     int32_t n_order, int32_t pod, ss_state_t **out, int32_t *position,
                     ss_error_t *err);

/* Runs every node of s->c through the filters for a pod of template tmpl in
 * state s and fills *out (which the caller releases with ss_explain_free).
 * policy may be NULL (then best_node is -1). Returns 0, SS_EINVAL (bad
 * template index) or SS_ENOMEM; on failure *out holds nothing to free. */
int ss_explain_nodes(const ss_state_t *s, int32_t tmpl, const ss_policy_t *policy,
                     ss_explain_t *out, ss_error_t *err);

/* ---- the inter-pod rules (engine/ss_explain_rules.c) ---- */

/* The pods on each node in the state pending pod `pod` was tried in:
 * on[q] = its node or -1 ([c->n_pods], caller's). The running pods, plus
 * the rows committed (/placements/seq) before the pod's position: its own
 * seq when placed; for an unplaced pod (no commit position), right after the
 * last commit of a pod before it in queue order (order: ss_queue_build's),
 * i.e. when a sequential engine last tried it (the preemption pass included);
 * minus the victims of every preemptor among those (a gang's victims when
 * any member is among them), and of the pod itself when it is placed (it
 * was judged after its victims left). Stores pod's queue position in
 * *position (if not NULL). Returns 0; SS_ENOTFOUND when pod is not in order;
 * SS_EINVAL when order or p do not match c; SS_ENOMEM. */
int ss_explain_on(const ss_cluster_t *c, const ss_placements_t *p, const int32_t *order,
                  int32_t n_order, int32_t pod, int32_t *on, int32_t *position, ss_error_t *err);

/* The free capacity of that state (ss_state_create's, victims removed,
 * the included placements applied with their GPU masks). NULL if out of
 * memory. The state borrows c. */
ss_state_t *ss_explain_state_on(const ss_cluster_t *c, const ss_placements_t *p, const int32_t *on);

/* The hard inter-pod rules of one pod against one such state. */
typedef struct ss_explain_rules ss_explain_rules_t;

/* Counts every DoNotSchedule spread constraint and required pod
 * (anti-)affinity term of pod's template, and the required anti-affinity
 * terms of pods on nodes that match pod, per topology value, in state on
 * (borrowed until destroy). Returns 0, SS_EINVAL (bad pod) or SS_ENOMEM. */
int ss_explain_rules_create(const ss_cluster_t *c, const int32_t *on, int32_t pod,
                            ss_explain_rules_t **out, ss_error_t *err);
void ss_explain_rules_destroy(ss_explain_rules_t *r); /* accepts NULL */

/* True iff the pod has any hard inter-pod rule to check (r may be NULL). */
bool ss_explain_rules_any(const ss_explain_rules_t *r);

/* The first rule node fails, in kube's order, as an ss_reason code
 * (SS_REASON_SPREAD_LABEL, SS_REASON_SPREAD, SS_REASON_POD_AFFINITY,
 * SS_REASON_POD_ANTI_AFFINITY, SS_REASON_EXISTING_ANTI_AFFINITY), or
 * SS_REASON_NONE. */
int ss_explain_rules_check(const ss_explain_rules_t *r, int32_t node);

enum ss_explain_rule_kind {
    SS_XRULE_SPREAD,   /* a DoNotSchedule spread constraint of the pod */
    SS_XRULE_AFFINITY, /* a required pod affinity term of the pod */
    SS_XRULE_ANTI,     /* a required pod anti-affinity term of the pod */
    SS_XRULE_EXISTING, /* pods on nodes whose required anti-affinity matches it, per key */
};

/* One rule on one node, with what it counted. */
typedef struct {
    int kind;           /* ss_explain_rule_kind */
    int32_t index;      /* spread or pod term index; -1 for SS_XRULE_EXISTING */
    int32_t key, value; /* topology key; the node's value of it, -1 when missing */
    int32_t count;      /* matching pods in the node's domain (EXISTING: repelling terms) */
    int32_t self, min, skew, max_skew, domains; /* spread: skew = count + self - min */
    int32_t holder;                             /* EXISTING: a repelling pod there, or -1 */
    int exception;                              /* AFFINITY: passed by the first-pod exception */
    int ok;                                     /* the node passes this rule */
} ss_explain_rule_t;

/* Every hard rule of r on node, in check order, into out[0 .. cap).
 * Returns how many there are (may exceed cap). */
int32_t ss_explain_rules_detail(const ss_explain_rules_t *r, int32_t node, ss_explain_rule_t *out,
                                int32_t cap);

/* ss_explain_nodes with the inter-pod rules of r (NULL: none) judged after
 * the static filters and capacity. s and r must be of the same state. */
int ss_explain_nodes_rules(const ss_state_t *s, int32_t tmpl, const ss_explain_rules_t *r,
                           const ss_policy_t *policy, ss_explain_t *out, ss_error_t *err);

void ss_explain_free(ss_explain_t *e); /* accepts NULL and a zeroed result */

/* The message, as kube-scheduler's FitError.Error() writes it:
 * "<feasible>/<nodes> nodes are available: <histogram>." and, when no node is
 * feasible, " preemption: 0/<nodes> nodes are available: <histogram>." (see
 * the top of this file); "no nodes available to schedule pods" for a cluster
 * without nodes. Returns a string the caller frees, or NULL if out of memory. */
char *ss_explain_message(const ss_explain_t *e);

/* Score of a pod of template tmpl on node in state s under policy, split in
 * its parts. The node's static filters are not checked. */
void ss_explain_score(const ss_state_t *s, int32_t tmpl, const ss_policy_t *policy, int32_t node,
                      ss_explain_score_t *out);

#endif
