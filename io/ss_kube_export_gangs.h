/* ss_kube_export_gangs: the gang dialects the Kubernetes exporter writes
 * (issue 13; docs/kubernetes.md "gen --gang-dialect"): a cluster's pod
 * groups as coscheduling, Volcano, KAI, upstream Workload or PodGroup
 * objects, or Kueue pod groups, each the way io/ss_kube_gangs.c reads it
 * back. The enum is public (ss_kube_export_opts_t.gang_dialect); the kexp_
 * functions are what io/ss_kube_export.c calls. */
#ifndef SS_KUBE_EXPORT_GANGS_H
#define SS_KUBE_EXPORT_GANGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ss_cluster.h"

typedef enum {
    SS_KUBE_DIALECT_DEFAULT = 0, /* coscheduling PodGroups, members by Volcano's annotation (or
                                    the coscheduling label when the pod carries it) */
    SS_KUBE_DIALECT_COSCHEDULING,
    SS_KUBE_DIALECT_VOLCANO,
    SS_KUBE_DIALECT_KAI,
    SS_KUBE_DIALECT_WORKLOAD, /* scheduling.k8s.io/v1alpha1 Workload, spec.workloadRef */
    SS_KUBE_DIALECT_PODGROUP, /* scheduling.k8s.io/v1alpha2 PodGroup, spec.schedulingGroup */
    SS_KUBE_DIALECT_KUEUE,
    SS_KUBE_DIALECT_COUNT
} ss_kube_dialect_t;

/* The dialects' names in enum order ("default", "coscheduling", "volcano",
 * "kai", "workload", "podgroup", "kueue"), NULL-terminated: gen's
 * --gang-dialect choices. */
extern const char *const ss_kube_dialect_names[SS_KUBE_DIALECT_COUNT + 1];

/* The pod group name of a Workload dialect gang's one pod group (the gang
 * imports as "namespace/<gang>.workers"). */
#define SS_KUBE_EXPORT_WORKLOAD_PODGROUP "workers"

/* The node label key of topology level l, as export writes it (the
 * importer's default keys for the five levels of old). */
const char *kexp_level_key(const ss_cluster_t *c, int l);

/* Pod p's membership in its group (if any) and the group's topology, in
 * dialect d's labels and annotations of the pod (labels already hold the
 * template's pod labels). */
void kexp_gang_pod_meta(const ss_cluster_t *c, int d, int32_t p, json_t *labels, json_t *ann);

/* The same in the pod's spec: spec.workloadRef, spec.schedulingGroup,
 * Kueue's topology scheduling gate on a pending member. */
void kexp_gang_pod_spec(const ss_cluster_t *c, int d, int32_t p, json_t *spec);

/* Whether dialect d has a group object (Kueue has none). */
bool kexp_gang_has_object(int d);

/* The group object of g (a new reference; NULL out of memory) in
 * namespace ns, named name. */
json_t *kexp_gang_object(const ss_cluster_t *c, int d, int32_t g, const char *ns, int ns_len,
                         const char *name);

#endif
