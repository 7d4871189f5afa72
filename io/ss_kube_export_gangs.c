/* ss_kube_export_gangs: a cluster's pod groups written in one gang dialect
 * (gen --emit-kube --gang-dialect D; docs/kubernetes.md "gen
 * --gang-dialect"), each as io/ss_kube_gangs.c reads it back, so that the
 * same gangs in any dialect import to the same groups (name, members,
 * minimum, topology level and mode) and schedule to the same placements:
 *
 *   default       coscheduling PodGroup; members by Volcano's annotation
 *                 (the coscheduling label when the pod carries it); Kueue
 *                 topology annotations (the output before dialects existed)
 *   coscheduling  scheduling.x-k8s.io/v1alpha1 PodGroup, label
 *                 scheduling.x-k8s.io/pod-group; Kueue topology annotations
 *   volcano       scheduling.volcano.sh/v1beta1 PodGroup, annotations
 *                 scheduling.k8s.io/group-name and scheduling.volcano.sh/
 *                 group-name; Kueue topology annotations (networkTopology
 *                 names HyperNode tiers, which gen does not make)
 *   kai           scheduling.run.ai/v2alpha2 PodGroup with
 *                 spec.topologyConstraint.{required,preferred}TopologyLevel,
 *                 annotation pod-group-name
 *   workload      scheduling.k8s.io/v1alpha1 Workload with one pod group,
 *                 spec.workloadRef; Kueue topology annotations
 *   podgroup      scheduling.k8s.io/v1alpha2 PodGroup, spec.schedulingGroup;
 *                 a required level as schedulingConstraints.topology[0].key,
 *                 a preferred one (which the API cannot say) as the members'
 *                 Kueue preferred annotation
 *   kueue         no object: label kueue.x-k8s.io/pod-group-name, annotation
 *                 pod-group-total-count (the minimum), Kueue topology
 *                 annotations and, on pending members with a topology, the
 *                 kueue.x-k8s.io/topology scheduling gate. */
#include "ss_kube_export_gangs.h"

#include <stdio.h>
#include <string.h>

#include "ss_kube_import.h"

#define KUEUE_GROUP_LABEL "kueue.x-k8s.io/pod-group-name"
#define KUEUE_TOTAL_ANNOTATION "kueue.x-k8s.io/pod-group-total-count"
#define KUEUE_TOPOLOGY_GATE "kueue.x-k8s.io/topology"
#define VOLCANO_GROUP_ANNOTATION2 "scheduling.volcano.sh/group-name"
#define KAI_GROUP_ANNOTATION "pod-group-name"

const char *const ss_kube_dialect_names[SS_KUBE_DIALECT_COUNT + 1] = {
    "default", "coscheduling", "volcano", "kai", "workload", "podgroup", "kueue", NULL};

static const char *S(const ss_cluster_t *c, int32_t id)
{
    return ss_cluster_strget(c, id);
}

const char *kexp_level_key(const ss_cluster_t *c, int l)
{
    static const char *legacy[SS_TOPO_LEGACY_LEVELS] = {
        SS_KUBE_REGION_LABEL, SS_KUBE_ZONE_LABEL, SS_KUBE_DEFAULT_BLOCK_LABEL,
        SS_KUBE_DEFAULT_RACK_LABEL, SS_KUBE_HOSTNAME_LABEL};
    if (l == c->n_levels - 1)
        return SS_KUBE_HOSTNAME_LABEL;
    if (c->n_levels == SS_TOPO_LEGACY_LEVELS || c->level_key[l] <= 0)
        return l < SS_TOPO_LEGACY_LEVELS ? legacy[l] : "";
    return S(c, c->level_key[l]);
}

/* The key of group g's topology level (its mode must not be NONE). */
static const char *group_key(const ss_cluster_t *c, int32_t g)
{
    int32_t l = c->group_topo_level[g];
    return kexp_level_key(c, l >= 0 && l < c->n_levels ? l : c->n_levels - 1);
}

/* The group's name without the "namespace/" import gives it. */
static const char *bare_name(const ss_cluster_t *c, int32_t g)
{
    const char *gn = S(c, c->group_name[g]), *slash = strchr(gn, '/');
    return slash ? slash + 1 : gn;
}

/* Whether dialect d writes g's topology (mode m) as the members' Kueue
 * annotations rather than on its object. */
static bool kueue_topology(int d, int m)
{
    return m != SS_TOPO_MODE_NONE && d != SS_KUBE_DIALECT_KAI &&
           !(d == SS_KUBE_DIALECT_PODGROUP && m == SS_TOPO_MODE_REQUIRED);
}

void kexp_gang_pod_meta(const ss_cluster_t *c, int d, int32_t p, json_t *labels, json_t *ann)
{
    int32_t g = ss_cluster_gang_of(c, p); /* sub-groups are not written: members join the gang */
    if (g < 0)
        return;
    const char *name = bare_name(c, g);
    switch (d) {
    case SS_KUBE_DIALECT_COSCHEDULING:
        json_object_set_new(labels, SS_KUBE_POD_GROUP_LABEL, json_string(name));
        break;
    case SS_KUBE_DIALECT_VOLCANO: /* Volcano writes both of its annotations */
        json_object_set_new(ann, SS_KUBE_VOLCANO_GROUP_ANNOTATION, json_string(name));
        json_object_set_new(ann, VOLCANO_GROUP_ANNOTATION2, json_string(name));
        break;
    case SS_KUBE_DIALECT_KAI:
        json_object_set_new(ann, KAI_GROUP_ANNOTATION, json_string(name));
        break;
    case SS_KUBE_DIALECT_WORKLOAD:
    case SS_KUBE_DIALECT_PODGROUP:
        break; /* in the spec */
    case SS_KUBE_DIALECT_KUEUE: {
        char buf[16];
        snprintf(buf, sizeof buf, "%d", (int)c->group_min_member[g]);
        json_object_set_new(labels, KUEUE_GROUP_LABEL, json_string(name));
        json_object_set_new(ann, KUEUE_TOTAL_ANNOTATION, json_string(buf));
        break;
    }
    default: /* a label the pod does not carry would change its labels: Volcano's annotation */
        if (json_object_get(labels, SS_KUBE_POD_GROUP_LABEL))
            json_object_set_new(labels, SS_KUBE_POD_GROUP_LABEL, json_string(name));
        else
            json_object_set_new(ann, SS_KUBE_VOLCANO_GROUP_ANNOTATION, json_string(name));
    }
    int m = c->group_topo_mode[g];
    if (kueue_topology(d, m))
        json_object_set_new(ann,
                            m == SS_TOPO_MODE_REQUIRED ? SS_KUBE_REQUIRED_TOPOLOGY_ANNOTATION
                                                       : SS_KUBE_PREFERRED_TOPOLOGY_ANNOTATION,
                            json_string(group_key(c, g)));
}

void kexp_gang_pod_spec(const ss_cluster_t *c, int d, int32_t p, json_t *spec)
{
    int32_t g = ss_cluster_gang_of(c, p);
    if (g < 0)
        return;
    const char *name = bare_name(c, g);
    if (d == SS_KUBE_DIALECT_WORKLOAD)
        json_object_set_new(
            spec, "workloadRef",
            json_pack("{s:s, s:s}", "name", name, "podGroup", SS_KUBE_EXPORT_WORKLOAD_PODGROUP));
    else if (d == SS_KUBE_DIALECT_PODGROUP)
        json_object_set_new(spec, "schedulingGroup", json_pack("{s:s}", "podGroupName", name));
    else if (d == SS_KUBE_DIALECT_KUEUE && c->pod_node[p] < 0 &&
             c->group_topo_mode[g] != SS_TOPO_MODE_NONE) {
        /* Kueue gates a TAS pod until it has chosen the domain (the engine's choice) */
        json_t *gates = json_object_get(spec, "schedulingGates");
        if (!gates) {
            gates = json_array();
            json_object_set_new(spec, "schedulingGates", gates);
        }
        json_array_append_new(gates, json_pack("{s:s}", "name", KUEUE_TOPOLOGY_GATE));
    }
}

bool kexp_gang_has_object(int d)
{
    return d != SS_KUBE_DIALECT_KUEUE;
}

/* spec of a group object in dialect d (coscheduling, Volcano, KAI,
 * upstream PodGroup). */
static json_t *group_spec(const ss_cluster_t *c, int d, int32_t g)
{
    int32_t min = c->group_min_member[g] > 0 ? c->group_min_member[g] : 1;
    int m = c->group_topo_mode[g];
    json_t *spec;
    switch (d) {
    case SS_KUBE_DIALECT_VOLCANO:
        return json_pack("{s:i, s:s}", "minMember", min, "queue", "default");
    case SS_KUBE_DIALECT_KAI:
        spec = json_pack("{s:i}", "minMember", min);
        if (spec && m != SS_TOPO_MODE_NONE)
            json_object_set_new(spec, "topologyConstraint",
                                json_pack("{s:s}",
                                          m == SS_TOPO_MODE_REQUIRED ? "requiredTopologyLevel"
                                                                     : "preferredTopologyLevel",
                                          group_key(c, g)));
        return spec;
    case SS_KUBE_DIALECT_PODGROUP:
        spec = json_pack("{s:{s:{s:i}}}", "schedulingPolicy", "gang", "minCount", min);
        if (spec && m == SS_TOPO_MODE_REQUIRED)
            json_object_set_new(spec, "schedulingConstraints",
                                json_pack("{s:[{s:s}]}", "topology", "key", group_key(c, g)));
        return spec;
    default:
        return json_pack("{s:i}", "minMember", c->group_min_member[g]);
    }
}

json_t *kexp_gang_object(const ss_cluster_t *c, int d, int32_t g, const char *ns, int ns_len,
                         const char *name)
{
    static const char *api[SS_KUBE_DIALECT_COUNT] = {"scheduling.x-k8s.io/v1alpha1",
                                                     "scheduling.x-k8s.io/v1alpha1",
                                                     "scheduling.volcano.sh/v1beta1",
                                                     "scheduling.run.ai/v2alpha2",
                                                     "scheduling.k8s.io/v1alpha1",
                                                     "scheduling.k8s.io/v1alpha2",
                                                     ""};
    if (d < 0 || d >= SS_KUBE_DIALECT_COUNT || !kexp_gang_has_object(d))
        d = SS_KUBE_DIALECT_DEFAULT;
    json_t *spec;
    if (d == SS_KUBE_DIALECT_WORKLOAD) {
        int32_t min = c->group_min_member[g] > 0 ? c->group_min_member[g] : 1;
        spec = json_pack("{s:[{s:s, s:{s:{s:i}}}]}", "podGroups", "name",
                         SS_KUBE_EXPORT_WORKLOAD_PODGROUP, "policy", "gang", "minCount", min);
    } else {
        spec = group_spec(c, d, g);
    }
    if (!spec)
        return NULL;
    return json_pack("{s:s, s:s, s:{s:s, s:s#}, s:o}", "apiVersion", api[d], "kind",
                     d == SS_KUBE_DIALECT_WORKLOAD ? "Workload" : "PodGroup", "metadata", "name",
                     name, "namespace", ns, ns_len, "spec", spec);
}
