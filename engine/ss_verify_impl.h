/* ss_verify_impl: what the verifier's two files (ss_verify.c: per-row and
 * gang checks; ss_verify_rules.c: the commit-order replay with resources,
 * inter-pod rules and preemption) share. Private to the verifier: nothing
 * else includes it. */
#ifndef SS_VERIFY_IMPL_H
#define SS_VERIFY_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "ss_verify.h"

typedef struct {
    const ss_cluster_t *c;
    const ss_placements_t *p;
    ss_verify_report_t *rep;
    int32_t hostname_key; /* string id of kubernetes.io/hostname, or -1 */
    int32_t unsched_key;  /* string id of node.kubernetes.io/unschedulable, or INT32_MIN */
} vctx_t;

/* Records one violation of rule by pod on node (either may be -1); detail is
 * an optional printf-style suffix. */
void ss_verify_violation(vctx_t *v, int rule, int32_t pod, int32_t node, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Value id of label key on node, or -1 (hostname implied by the node name). */
int32_t ss_verify_node_label(const vctx_t *v, int32_t node, int32_t key);

/* The template's nodeSelector and required node affinity both match node. */
bool ss_verify_node_matches(const vctx_t *v, const ss_template_t *t, int32_t node);

/* The template tolerates every NoSchedule / NoExecute taint of node. */
bool ss_verify_taints_tolerated(const vctx_t *v, const ss_template_t *t, int32_t node);

/* Row names a pending pod and a node in range (the others are reported by
 * the row checks and left out of the replay). */
bool ss_verify_row_placed(const vctx_t *v, int32_t row);

/* One placed row and its sort key. */
typedef struct {
    int64_t key;
    int32_t row;
} ss_verify_order_t;

/* The placed rows in replay order: by seq when any row has one (reporting
 * SEQ for placed rows without one, unplaced rows with one and repeated
 * values), else queue order (priority descending, then pod index); sets
 * rep->rules.order_by_seq. Returns a malloc'ed array of *n_out rows, or
 * NULL when out of memory. */
ss_verify_order_t *ss_verify_commit_order(vctx_t *v, int32_t *n_out);

/* The replay in commit order (ss_verify_rules.c): resources at each
 * placement, DoNotSchedule spread, required pod (anti-)affinity both
 * directions, victims and PDBs. Fills v->rep->rules. Returns 0 or SS_ENOMEM. */
int ss_verify_replay(vctx_t *v, int pdb_hard, ss_error_t *err);

#endif
