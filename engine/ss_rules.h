/* ss_rules: the shared vocabulary of the inter-pod rules (issue 12):
 * label selectors over pods and namespaces, the namespaces a pod
 * (anti-)affinity term covers, the system default spread constraints, and a
 * PodDisruptionBudget's computed disruptionsAllowed.
 *
 * These are definitions, not placement logic: the fast engine, the naive
 * reference (ss_exhaustive.c) and the verifier each count pods per topology
 * domain with their own code, and only share what a selector means.
 * docs/kubernetes.md states the semantics. */
#ifndef SS_RULES_H
#define SS_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "ss_cluster.h"

/* True iff the labels [label_begin, +label_count) satisfy s, as
 * metav1.LabelSelectorAsSelector: null matches nothing, {} everything; In
 * needs the key with one of the values, NotIn matches a missing key, Exists /
 * DoesNotExist test presence. A requirement Kubernetes would reject (In with
 * no values, Exists with values, Gt/Lt or an unknown op) matches nothing. */
bool ss_sel_match(const ss_cluster_t *c, const ss_selector_t *s, int32_t label_begin,
                  int32_t label_count);

/* s against pod's labels (its template's pod labels). */
bool ss_sel_match_pod(const ss_cluster_t *c, const ss_selector_t *s, int32_t pod);

/* s against namespace ns (a string id): the labels of its /namespaces row,
 * if any, plus the implied kubernetes.io/metadata.name = ns. */
bool ss_sel_match_ns(const ss_cluster_t *c, const ss_selector_t *s, int32_t ns);

/* True iff term t of a pod in namespace owner_ns covers pods of namespace
 * ns: listed in t's namespaces or matched by its namespaceSelector; both
 * empty: ns == owner_ns. */
bool ss_pterm_covers_ns(const ss_cluster_t *c, const ss_podterm_t *t, int32_t owner_ns, int32_t ns);

/* True iff term t of a pod in owner_ns matches pod `pod` (namespace and
 * label selector). */
bool ss_pterm_matches_pod(const ss_cluster_t *c, const ss_podterm_t *t, int32_t owner_ns,
                          int32_t pod);

/* kube-scheduler's system default constraints (PodTopologySpread
 * defaultingType System): hostname maxSkew 3 and zone maxSkew 5, both
 * ScheduleAnyway. They apply, when the cluster's default_spreading is
 * SYSTEM, to a pod whose template has no topologySpreadConstraints and is
 * owned by a controller (SS_TF_CONTROLLER, not a DaemonSet). Without Service
 * objects the selector is "the pods of the same workload in the same
 * namespace": same template workload id and namespace
 * (docs/kubernetes.md). */
#define SS_DEFAULT_SPREAD_HOST_SKEW 3
#define SS_DEFAULT_SPREAD_ZONE_SKEW 5
bool ss_default_spread_applies(const ss_cluster_t *c, int32_t tmpl);
/* True iff pod `other` counts for the default constraints of pod `pod`. */
bool ss_default_spread_matches(const ss_cluster_t *c, int32_t pod, int32_t other);

/* True iff PDB p covers pod (same namespace, selector matches). */
bool ss_pdb_covers(const ss_cluster_t *c, const ss_pdb_t *p, int32_t pod);

/* What preemption counts (kube's filterPodsWithPDBViolation): PDB p covers
 * pod, the pod has labels, and p's selector is not empty. */
bool ss_pdb_covers_victim(const ss_cluster_t *c, const ss_pdb_t *p, int32_t pod);

/* p's disruptionsAllowed: p->allowed when it came from a cluster's status
 * (>= 0); otherwise computed as the disruption controller does, with the
 * matching pods standing in for the controllers' scale: expected = the
 * matching pods (running or pending), healthy = the running ones;
 * desired = minAvailable N (or ceil(N % of expected)), or expected -
 * maxUnavailable M (M % of expected rounded up), or expected when neither is
 * set; allowed = max(0, healthy - desired). */
int32_t ss_pdb_allowed(const ss_cluster_t *c, const ss_pdb_t *p);

/* Every PDB's disruptionsAllowed at once (out[k] for c->pdbs[k]), in one
 * pass over the pods (each template's labels matched once per PDB).
 * Returns 0 or SS_ENOMEM. */
int ss_pdb_allowed_all(const ss_cluster_t *c, int32_t *out);

#endif
