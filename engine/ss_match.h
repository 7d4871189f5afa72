/* ss_match: the Kubernetes matching rules behind the engine's capacity-
 * independent filters and the node-affinity / taint scores: taints and
 * tolerations (k8s.io/api core/v1 Toleration.ToleratesTaint), nodeSelector,
 * required and preferred node affinity (k8s.io/component-helpers
 * scheduling/corev1/nodeaffinity), cordoned nodes (the NodeUnschedulable
 * plugin) and the GPU model list.
 *
 * These run once per (template, node) pair that the filter cascade reaches,
 * i.e. up to templates x nodes times, so everything compares interned string
 * ids; strings are read only to parse Gt / Lt integers. Every function is pure
 * on const data: no allocation, no globals, safe to call from many threads on
 * one cluster. The cluster must have passed ss_cluster_validate (ranges in
 * their pools); these functions do not re-check ranges.
 *
 * Node labels: a node's "kubernetes.io/hostname" label is not stored in its
 * label list; it is implied and equals the node name (see ss_node_label).
 */
#ifndef SS_MATCH_H
#define SS_MATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "ss_cluster.h"

/* Ids of well-known strings in one cluster's string table, looked up once
 * with ss_strtab_find. An id is -1 when the cluster never interned the string
 * (then nothing in the cluster can refer to it, and comparisons simply fail).
 * Valid for the cluster it was built from, for as long as that cluster lives;
 * interning more strings later does not change these ids. */
typedef struct {
    int32_t hostname;      /* "kubernetes.io/hostname" (implied label = node name) */
    int32_t unschedulable; /* "node.kubernetes.io/unschedulable" (cordon taint key) */
    int32_t zone;          /* "topology.kubernetes.io/zone" */
    int32_t region;        /* "topology.kubernetes.io/region" */
} ss_match_ctx_t;

/* Fills ctx from c's string table. Returns 0, or SS_EINVAL if ctx, c or
 * c->strings is NULL (ctx is then left unchanged). */
int ss_match_ctx_init(ss_match_ctx_t *ctx, const ss_cluster_t *c);

/* True iff toleration t tolerates taint, as Kubernetes' ToleratesTaint:
 * the effects match (t->effect is SS_EFFECT_ANY or equals the taint's);
 * an empty key (id 0) with op Exists matches every key, otherwise the keys
 * must be equal; Exists matches any value, Equal needs equal values (an empty
 * value equals only an empty value). An unknown op tolerates nothing. */
bool ss_match_toleration(const ss_toleration_t *t, const ss_taint_t *taint);

/* The TaintToleration filter and score for template tmpl on node.
 * Returns 1 if every NoSchedule and NoExecute taint of the node is tolerated
 * by at least one toleration of the template, else 0. If prefer_untolerated
 * is not NULL, stores there the number of the node's PreferNoSchedule taints
 * that no toleration tolerates (the score's input; lower is better), counted
 * over all taints even when the function returns 0. */
int ss_match_taints(const ss_match_ctx_t *x, const ss_cluster_t *c, int32_t tmpl, int32_t node,
                    int32_t *prefer_untolerated);

/* Looks up label key on node: the node's stored labels, then the implied
 * "kubernetes.io/hostname" whose value is the node name. Returns true and
 * stores the value's string id in *value (if value is not NULL) when the node
 * has the label; false otherwise (*value untouched). */
bool ss_node_label(const ss_match_ctx_t *x, const ss_cluster_t *c, int32_t node, int32_t key,
                   int32_t *value);

/* True iff one node selector requirement matches node, as Kubernetes:
 *  - In: the label exists and its value is one of the values;
 *  - NotIn: the label is missing, or its value is none of the values;
 *  - Exists / DoesNotExist: the label is present / missing;
 *  - Gt / Lt: the label exists, the requirement has exactly one value, and
 *    both the label value and that value parse as base-10 int64 (the whole
 *    string, optional sign, no spaces, no overflow, like Go's
 *    strconv.ParseInt(s, 10, 64)); then label > value / label < value.
 *  - is_field (matchFields): compares metadata.name (the node name) with In /
 *    NotIn and exactly one value; any other operator matches nothing.
 * A requirement Kubernetes would reject when parsing it (In / NotIn with no
 * values, Exists / DoesNotExist with values, an unknown op) matches nothing,
 * which makes its whole term fail, as a term with a parse error does in
 * kube-scheduler. */
bool ss_match_expr(const ss_match_ctx_t *x, const ss_cluster_t *c, const ss_expr_t *e,
                   int32_t node);

/* The set operators (In, NotIn, Exists, DoesNotExist) of e on a label that
 * is present (has, with value) or not; anything else matches nothing. Shared
 * by node selectors and label selectors over pods and namespaces. */
bool ss_match_set_op(const ss_cluster_t *c, const ss_expr_t *e, bool has, int32_t value);

/* True iff node has every (key, value) pair of the template's nodeSelector
 * (hostname implied as in ss_node_label). An empty nodeSelector matches. */
bool ss_match_node_selector(const ss_match_ctx_t *x, const ss_cluster_t *c, int32_t tmpl,
                            int32_t node);

/* Required node affinity: true when the template has none (req_count == 0);
 * otherwise true iff some term (terms are ORed) has all its expressions
 * (ANDed) matching. A term with zero expressions matches nothing. */
bool ss_match_required_affinity(const ss_match_ctx_t *x, const ss_cluster_t *c, int32_t tmpl,
                                int32_t node);

/* Preferred node affinity: the sum of the weights of the template's preferred
 * terms that match node (0 when none). A term with zero expressions matches
 * nothing, as does a term with an unparsable requirement (see ss_match_expr). */
int32_t ss_match_preferred_weight(const ss_match_ctx_t *x, const ss_cluster_t *c, int32_t tmpl,
                                  int32_t node);

/* GPU model list: true when the template asks for no GPU (gpu_count == 0) or
 * lists no model; otherwise true iff node has at least gpu_count GPUs whose
 * model is in the list (free or not: capacity is another filter's job). */
bool ss_match_gpu_model(const ss_match_ctx_t *x, const ss_cluster_t *c, int32_t tmpl, int32_t node);

/* All capacity-independent filters for tmpl on node, in kube-scheduler's
 * order. Returns SS_REASON_NONE when node passes, or the first failure:
 * SS_REASON_CORDONED (node unschedulable and the template does not tolerate
 * the taint node.kubernetes.io/unschedulable:NoSchedule), SS_REASON_TAINT,
 * SS_REASON_NODE_SELECTOR, SS_REASON_NODE_AFFINITY, SS_REASON_GPU_MODEL. */
int ss_match_static(const ss_match_ctx_t *x, const ss_cluster_t *c, int32_t tmpl, int32_t node);

#endif
