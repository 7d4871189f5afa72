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
 * Then it replays the placements in commit order (seq) and checks, at each
 * placement, resources, DoNotSchedule topology spread, required pod
 * (anti-)affinity in both directions, preemption victims and PDB budgets,
 * counting pods per topology domain with its own counters
 * (ss_verify_rules.c; docs/kubernetes.md "Inter-pod rules" is the contract).
 *
 * Cost: the row checks are linear in pods, nodes and GPUs; the replay adds,
 * per pod added or removed, one step per domain counter that pod's template
 * can change, and per counter (rule instance x namespace) one pass over the
 * nodes and templates when first needed, and one int32 per domain of its
 * key (hostname: per node). Measured: 100,000 nodes, 1,000,000 placed pods,
 * 400 templates with zone + hostname spread and 40 with hostname
 * anti-affinity: 5.4 s, 367 MB.
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
    X(TOPOLOGY, "pod group straddles its required topology domain")                                \
    X(SEQ, "commit order (seq) inconsistent")                                                      \
    X(SPREAD, "topology spread (DoNotSchedule) violated")                                          \
    X(POD_AFFINITY, "required pod affinity unmet")                                                 \
    X(POD_ANTI_AFFINITY, "required pod anti-affinity violated")                                    \
    X(SYMMETRIC, "an existing pod's required anti-affinity violated")                              \
    X(VICTIM, "invalid preemption victim")                                                         \
    X(PDB, "PodDisruptionBudget broken (hard PDBs)")                                               \
    X(MIG, "MIG instances do not match the request (count, profile, node) or are held twice")

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

/* What the replay of the inter-pod rules checked (docs/kubernetes.md,
 * "Inter-pod rules"). A "check" is one (placed pod, rule instance) pair. */
typedef struct {
    int order_by_seq;                        /* 1: replayed by /placements/seq; 0: queue order */
    int64_t spread_checked, spread_violated; /* (pod, DoNotSchedule constraint) pairs */
    int64_t affinity_checked;                /* (pod, required affinity term) pairs */
    int64_t affinity_violated;               /* of those, unmet (POD_AFFINITY) */
    int64_t anti_checked;                    /* (pod, own required anti term) pairs, plus
                                                (pod, existing pod's anti term matching it) */
    int64_t anti_violated;                   /* POD_ANTI_AFFINITY + SYMMETRIC */
    int64_t victims, preemptors;             /* victim entries; rows with victims */
    int64_t pdbs;                            /* PDBs in the snapshot */
    int64_t pdb_exceeded;                    /* PDBs whose victims exceed ss_pdb_allowed */
    int pdb_hard;                            /* pdb_exceeded counted as violations (PDB) */
} ss_verify_rules_t;

typedef struct {
    int64_t violations;              /* total count */
    int64_t by_rule[SS_VRULE_COUNT]; /* count per ss_vrule */
    int32_t n_messages;              /* the first SS_VERIFY_MAX_MESSAGES, in detection order */
    char messages[SS_VERIFY_MAX_MESSAGES][SS_VERIFY_MSG_LEN];
    ss_summary_t summary;    /* the run's figures (owns memory) */
    ss_verify_rules_t rules; /* the inter-pod rules' figures */
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
 *  - commit order: the placed rows are replayed in /placements/seq order
 *    (every placed row needs a distinct seq >= 0, unplaced rows -1: else
 *    SEQ); when every seq is -1 (a file from before seq existed) in queue
 *    order instead: priority descending, then pod index. The replay starts
 *    from the running pods. When a row with victims is replayed, its victims
 *    are removed first (for a gang, every member's victims, at its first
 *    member). Then, against the pods on nodes at that moment:
 *  - resources: cpu, memory, pods, extended resources and per-GPU milli must
 *    fit when the pod is added; one violation per (node, resource) and per
 *    GPU, and only for a resource the pod asks a nonzero amount of. With no
 *    victims this is exactly "running + placed within allocatable".
 *  - DoNotSchedule spread, required pod affinity (with the first-pod
 *    exception), required anti-affinity and existing pods' required
 *    anti-affinity, as docs/kubernetes.md "Inter-pod rules" states, counted
 *    per topology domain with this file's own code (ss_rules.h gives only
 *    what a selector and a term's namespaces mean).
 *  - victims: each a running pod, removed once, on its preemptor's node, of
 *    lower priority than its preemptor, whose preemptionPolicy is not Never
 *    and whose row is placed (VICTIM).
 *  - PDBs: a PDB is exceeded when more of the pods it covers are victims
 *    than ss_pdb_allowed; with pdb_hard each is a PDB violation, otherwise
 *    only counted (rules.pdb_exceeded, best effort as kube-scheduler).
 *
 * Returns the number of violations (>= 0), or a negative SS_E* code (out of
 * memory) with a message in err. */
int64_t ss_verify_with(const ss_cluster_t *c, const ss_placements_t *p, int pdb_hard,
                       ss_verify_report_t *rep, ss_error_t *err);

/* ss_verify_with(c, p, 0, rep, err): PDBs best effort. */
int64_t ss_verify(const ss_cluster_t *c, const ss_placements_t *p, ss_verify_report_t *rep,
                  ss_error_t *err);

void ss_verify_report_free(ss_verify_report_t *rep); /* accepts a zeroed or freed report */

/* Prints the recorded violation messages, then "... and N more" and a total
 * line, to f. Prints nothing when there are none. */
void ss_verify_print_violations(FILE *f, const ss_verify_report_t *rep);

/* Prints the human summary of the run (ss_summary_print), then the inter-pod
 * rules' lines (ss_verify_print_rules), to f. */
void ss_verify_print_summary(FILE *f, const ss_verify_report_t *rep);

/* Prints the inter-pod rules' lines: spread, affinity, anti-affinity,
 * victims and preemptors, PDB budget exceeded. */
void ss_verify_print_rules(FILE *f, const ss_verify_report_t *rep);

#endif
