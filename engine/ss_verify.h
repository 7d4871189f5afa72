/* ss_verify: the independent checker behind `shardsched verify`. It
 * re-derives every constraint a placement must satisfy from the cluster with
 * its own plain loops over labels, taints, affinity terms, resources and
 * GPUs — it never calls the engine's matching or scheduling code
 * (ss_match, ss_sched, ss_state), so an engine bug cannot hide itself.
 *
 * Kubernetes rules, as kube-scheduler applies them: NoSchedule / NoExecute
 * taints must be tolerated; cordoned nodes take only pods that tolerate
 * node.kubernetes.io/unschedulable:NoSchedule; nodeSelector; required node
 * affinity; resources (running + placed pods within allocatable cpu, memory,
 * pods and each extended resource); plus the project's rules: allowed GPU
 * models, per-GPU masks and capacity, unsupported rules never placed, reason
 * codes consistent with the node, gangs all-or-nothing and inside one domain
 * when required, and one placements row per pending pod in order.
 *
 * Cost: linear in pods, nodes and GPUs (each placed pod is checked against
 * its node's labels and taints only); 1,000,000 pods take well under a second.
 */
#ifndef SS_VERIFY_H
#define SS_VERIFY_H

#include <stdint.h>
#include <stdio.h>

#include "ss_cluster.h"
#include "ss_error.h"
#include "ss_placements.h"
#include "ss_summary.h"

/* The rules, with the text a violation message carries. */
#define SS_VRULE_MAP(X)                                                                            \
    X(ROWS, "placements rows must be the pending pods in order")                                   \
    X(REASON, "reason code inconsistent with the node")                                            \
    X(UNSUPPORTED, "pod with an unsupported rule placed")                                          \
    X(CORDONED, "node cordoned")                                                                   \
    X(TAINT, "untolerated taint")                                                                  \
    X(SELECTOR, "nodeSelector mismatch")                                                           \
    X(AFFINITY, "required node affinity mismatch")                                                 \
    X(GPU_MODEL, "GPU model not allowed")                                                          \
    X(GPU_MASK, "GPU mask does not match the request")                                             \
    X(CPU, "cpu overcommitted")                                                                    \
    X(MEMORY, "memory overcommitted")                                                              \
    X(PODS, "pods per node exceeded")                                                              \
    X(EXT, "extended resource overcommitted")                                                      \
    X(GPU_SHARE, "GPU over-shared")                                                                \
    X(GANG, "pod group partly placed (fewer than minMember)")                                      \
    X(TOPOLOGY, "pod group straddles its required topology domain")

enum ss_vrule {
#define SS_VRULE_ENUM(name, text) SS_VRULE_##name,
    SS_VRULE_MAP(SS_VRULE_ENUM)
#undef SS_VRULE_ENUM
        SS_VRULE_COUNT
};

/* Text of a rule; "unknown rule" if out of range. */
const char *ss_verify_rule_text(int rule);

#define SS_VERIFY_MAX_MESSAGES 20
#define SS_VERIFY_MSG_LEN 512

typedef struct {
    int64_t violations;              /* total count */
    int64_t by_rule[SS_VRULE_COUNT]; /* count per ss_vrule */
    int32_t n_messages;              /* the first SS_VERIFY_MAX_MESSAGES, in detection order */
    char messages[SS_VERIFY_MAX_MESSAGES][SS_VERIFY_MSG_LEN];
    ss_summary_t summary; /* the run's figures (owns memory) */
} ss_verify_report_t;

/* Checks placements p against cluster c (which must have passed
 * ss_cluster_validate) and fills *rep (zeroed first; free it with
 * ss_verify_report_free even on error). Each violation names the pod, the
 * node and the rule: "pod ns/name on node n7: untolerated taint gpu=yes:NoSchedule".
 *
 * Definitions the checks rely on:
 *  - resources: a (node, resource) pair is one violation when placed pods add
 *    a nonzero request of it and running + placed requests exceed allocatable
 *    (zero requests are never refused, as in kube-scheduler); the message
 *    names the first placed pod with a nonzero request there. Likewise one
 *    violation per over-shared GPU.
 *  - gangs: a group with p > 0 placed pending members and r running members
 *    violates minMember when p + r < minMember (running members count, as in
 *    the coscheduling plugin); with topo_mode REQUIRED its placed members
 *    must share one domain at topo_level.
 *
 * Returns the number of violations (>= 0), or a negative SS_E* code (out of
 * memory) with a message in err. */
int64_t ss_verify(const ss_cluster_t *c, const ss_placements_t *p, ss_verify_report_t *rep,
                  ss_error_t *err);

void ss_verify_report_free(ss_verify_report_t *rep); /* accepts a zeroed or freed report */

/* Prints the recorded violation messages, then "... and N more" and a total
 * line, to f. Prints nothing when there are none. */
void ss_verify_print_violations(FILE *f, const ss_verify_report_t *rep);

/* Prints the human summary of the run (ss_summary_print) to f. */
void ss_verify_print_summary(FILE *f, const ss_verify_report_t *rep);

#endif
