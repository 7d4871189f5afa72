/* ss_reason: why a pending pod was not placed. One code per pod in the
 * placements file; the text is what a person reads (and what the file's
 * /placements/reason_names table holds, indexed by code). Codes are part of
 * the snapshot format: append new ones, never renumber. */
#ifndef SS_REASON_H
#define SS_REASON_H

#define SS_REASON_MAP(X)                                                                           \
    X(NONE, 0, "placed")                                                                           \
    X(CORDONED, 1, "node(s) cordoned (unschedulable)")                                             \
    X(TAINT, 2, "node(s) had untolerated taint")                                                   \
    X(NODE_SELECTOR, 3, "node(s) didn't match node selector")                                      \
    X(NODE_AFFINITY, 4, "node(s) didn't match required node affinity")                             \
    X(GPU_MODEL, 5, "node(s) have no allowed GPU model")                                           \
    X(CPU, 6, "insufficient cpu")                                                                  \
    X(MEMORY, 7, "insufficient memory")                                                            \
    X(GPU, 8, "insufficient nvidia.com/gpu")                                                       \
    X(PODS, 9, "too many pods")                                                                    \
    X(EXT, 10, "insufficient extended resource")                                                   \
    X(NO_NODES, 11, "no nodes in the cluster")                                                     \
    X(GANG, 12, "pod group could not place minMember pods")                                        \
    X(TOPOLOGY, 13, "no topology domain fits the pod group")                                       \
    X(UNSUPPORTED_SPREAD, 14, "unsupported: topologySpreadConstraints")                            \
    X(UNSUPPORTED_POD_AFFINITY, 15, "unsupported: podAffinity")                                    \
    X(UNSUPPORTED_POD_ANTI_AFFINITY, 16, "unsupported: podAntiAffinity")                           \
    X(UNSUPPORTED_OTHER, 17, "unsupported: field not modelled")                                    \
    X(UNSUPPORTED_WORKLOAD_REF, 18, "unsupported: spec.workloadRef")                               \
    X(UNSUPPORTED_SCHEDULING_GROUP, 19, "unsupported: spec.schedulingGroup")                       \
    X(UNSUPPORTED_POD_GROUP, 20,                                                                   \
      "unsupported: pod group label or annotation not read (Kueue, Volcano, KAI)")                 \
    X(UNSUPPORTED_TOPOLOGY, 21, "unsupported: topology annotation not read (Kueue, KAI)")          \
    X(UNSUPPORTED_SCHEDULING_GATES, 22, "unsupported: spec.schedulingGates")                       \
    X(SPREAD, 23, "node(s) didn't match pod topology spread constraints")                          \
    X(SPREAD_LABEL, 24,                                                                            \
      "node(s) didn't match pod topology spread constraints (missing required label)")             \
    X(POD_AFFINITY, 25, "node(s) didn't match pod affinity rules")                                 \
    X(POD_ANTI_AFFINITY, 26, "node(s) didn't match pod anti-affinity rules")                       \
    X(EXISTING_ANTI_AFFINITY, 27, "node(s) didn't satisfy existing pods anti-affinity rules")      \
    X(UNSUPPORTED_MIG, 28, "unsupported: MIG pod in a pod group")                                  \
    X(MIG, 29, "insufficient MIG instances of the requested profile")

enum ss_reason {
#define SS_REASON_ENUM(name, val, text) SS_REASON_##name = val,
    SS_REASON_MAP(SS_REASON_ENUM)
#undef SS_REASON_ENUM
        SS_REASON_COUNT
};

/* Human text for a reason code; "unknown reason" if out of range. */
const char *ss_reason_text(int code);

#endif
