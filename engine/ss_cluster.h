/* ss_cluster: the cluster and workload model, as struct-of-arrays indexed by
 * dense integer ids.
 *
 * Built for 100,000 nodes and 1,000,000 pending pods in memory. Pods come from
 * workloads whose replicas share one template (requests, selectors, affinity,
 * tolerations, labels): a pod row is 32 bytes plus its interned name, and the
 * ~20,000 templates hold everything that is the same for all replicas. A node
 * row is ~90 bytes plus its labels, taints and GPU records. See
 * docs/architecture.md for the byte counts.
 *
 * All strings are interned in one ss_strtab_t (`strings`); every int32
 * "string id" below is an id in it. Variable-length lists (labels, taints,
 * tolerations, affinity terms...) are CSR ranges: a (begin, count) pair into a
 * flat array owned by the cluster.
 *
 * The cluster is immutable input: what the scheduler changes (free capacity,
 * placements) lives in ss_state_t (ss_state.h). Nodes are kept sorted by
 * topology (their values of the topology levels, coarse to fine) so that a
 * contiguous range of node rows is a topology domain; ss_cluster_sort_nodes()
 * establishes that.
 */
#ifndef SS_CLUSTER_H
#define SS_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ss_error.h"
#include "ss_strtab.h"

#define SS_MAX_EXT 8               /* extended resources per cluster */
#define SS_MAX_GPUS_PER_NODE 64    /* GPU assignments are a uint64 bitmask */
#define SS_GPU_MILLI 1000          /* one whole GPU */
#define SS_MAX_PRIORITY 1000000000 /* Kubernetes' largest user priority is 1e9 (system: 2e9) */

/* Topology levels (format version 6, docs/gangs-and-topology.md): a cluster
 * has n_levels levels (2..SS_TOPO_MAX_LEVELS, Kueue's limit), coarse to fine,
 * each named by a node label key (level_key); the last is always the node
 * (kubernetes.io/hostname, whose value is the node's name). A domain at level
 * l is the set of nodes with the same values at levels 0..l (path-qualified,
 * as Kueue's topology-aware scheduling does). node_topo has a fixed stride of
 * SS_TOPO_STRIDE ids per node. The five levels of clusters before version 6,
 * and of gen's clusters, are the "legacy" ones below: region, zone, block,
 * rack, node, in that order (ss_cluster_set_legacy_levels). */
#define SS_TOPO_MAX_LEVELS 16
#define SS_TOPO_STRIDE SS_TOPO_MAX_LEVELS
enum ss_topo_level { SS_TOPO_REGION, SS_TOPO_ZONE, SS_TOPO_BLOCK, SS_TOPO_RACK, SS_TOPO_NODE };
#define SS_TOPO_LEGACY_LEVELS 5
#define SS_TOPO_REGION_KEY "topology.kubernetes.io/region"
#define SS_TOPO_ZONE_KEY "topology.kubernetes.io/zone"
#define SS_TOPO_BLOCK_KEY "topology.kubernetes.io/block"
#define SS_TOPO_RACK_KEY "topology.kubernetes.io/rack"
#define SS_TOPO_HOSTNAME_KEY "kubernetes.io/hostname"

/* Taint effects. A toleration with effect SS_EFFECT_ANY (Kubernetes' empty
 * effect) matches every effect; a taint always has one of the other three. */
enum ss_effect {
    SS_EFFECT_ANY = 0,
    SS_EFFECT_NO_SCHEDULE = 1,
    SS_EFFECT_PREFER_NO_SCHEDULE = 2,
    SS_EFFECT_NO_EXECUTE = 3
};
enum ss_tol_op { SS_TOL_EQUAL = 0, SS_TOL_EXISTS = 1 };
/* Node selector requirement operators (node affinity). */
enum ss_sel_op { SS_OP_IN, SS_OP_NOT_IN, SS_OP_EXISTS, SS_OP_DOES_NOT_EXIST, SS_OP_GT, SS_OP_LT };
#define SS_OP_COUNT 6

/* Rules that a template may carry but the engine does not implement yet.
 * A pod whose template has any of these bits is reported unschedulable with
 * reason "unsupported: <rule>", never placed as if the rule were absent. */
enum ss_rule {
    SS_RULE_TOPOLOGY_SPREAD = 1u << 0,
    SS_RULE_POD_AFFINITY = 1u << 1,
    SS_RULE_POD_ANTI_AFFINITY = 1u << 2,
    SS_RULE_OTHER = 1u << 3, /* any other field an importer could not model */
    /* gang and topology references an importer does not read (reason
     * UNSUPPORTED_WORKLOAD_REF .. UNSUPPORTED_SCHEDULING_GATES) */
    SS_RULE_WORKLOAD_REF = 1u << 4,
    SS_RULE_SCHEDULING_GROUP = 1u << 5,
    SS_RULE_POD_GROUP = 1u << 6,
    SS_RULE_TOPOLOGY = 1u << 7,
    SS_RULE_SCHEDULING_GATES = 1u << 8,
    /* a pending pod requesting nvidia.com/mig-<profile> (issue 15): MIG
     * placement is not implemented yet (reason UNSUPPORTED_MIG) */
    SS_RULE_MIG = 1u << 9,
};

/* ---- inter-pod rules (issue 12: topology spread, pod (anti-)affinity,
 * disruption budgets). docs/kubernetes.md gives the semantics. ---- */

/* A label selector over pod (or namespace) labels: the requirements
 * exprs[begin .. begin+count) (is_field 0; ops In, NotIn, Exists,
 * DoesNotExist; matchLabels k: v is `k In (v)`), ANDed. null = 1: the
 * selector was absent, and matches nothing; an empty range with null = 0
 * ({}) matches everything. */
typedef struct {
    int32_t begin, count, null;
} ss_selector_t;

enum ss_when { SS_WHEN_DO_NOT_SCHEDULE = 0, SS_WHEN_SCHEDULE_ANYWAY = 1 };
/* nodeAffinityPolicy / nodeTaintsPolicy of a spread constraint. */
enum ss_inclusion { SS_INCL_HONOR = 0, SS_INCL_IGNORE = 1 };

/* One topologySpreadConstraint of a template. matchLabelKeys are folded
 * into sel at import (key In (the pod's value)), as kube-scheduler does. */
typedef struct {
    int32_t max_skew;             /* >= 1 */
    int32_t key;                  /* topologyKey: a node label key (string id) */
    int32_t when;                 /* ss_when */
    int32_t min_domains;          /* >= 1 (1 when unset) */
    int32_t node_affinity_policy; /* ss_inclusion, Honor when unset */
    int32_t node_taints_policy;   /* ss_inclusion, Ignore when unset */
    ss_selector_t sel;            /* labelSelector */
} ss_spread_t;

enum ss_podterm_kind { SS_PT_AFFINITY = 0, SS_PT_ANTI_AFFINITY = 1 };

/* One pod (anti-)affinity term of a template, required (weight 0) or
 * preferred (weight 1..100). matchLabelKeys (In) and mismatchLabelKeys
 * (NotIn) are folded into sel at import with the pod's values. The term's
 * namespaces: the union of ns (a range in expr_values: namespace string ids)
 * and the namespaces ns_sel matches; both empty (ns_count 0, ns_sel.null 1):
 * the pod's own namespace. */
typedef struct {
    int32_t kind;   /* ss_podterm_kind */
    int32_t weight; /* 0: required; 1..100: preferred */
    int32_t key;    /* topologyKey (string id) */
    ss_selector_t sel;
    int32_t ns_begin, ns_count;
    ss_selector_t ns_sel; /* namespaceSelector over namespace labels */
} ss_podterm_t;

/* A policy/v1 PodDisruptionBudget. */
typedef struct {
    int32_t name, ns;        /* string ids */
    ss_selector_t sel;       /* spec.selector (null: matches nothing; {}: every pod of ns) */
    int32_t min_available;   /* -1 unset */
    int32_t min_pct;         /* 1: min_available is a percentage */
    int32_t max_unavailable; /* -1 unset */
    int32_t max_pct;         /* 1: max_unavailable is a percentage */
    int32_t allowed;         /* disruptionsAllowed (status), or -1: computed (ss_pdb_allowed) */
    int32_t always_allow;    /* unhealthyPodEvictionPolicy AlwaysAllow (else IfHealthyBudget) */
} ss_pdb_t;

/* Template flags. */
enum ss_tmpl_flag {
    SS_TF_CONTROLLER = 1u << 0,    /* owned by a controller (default spreading; victims' note) */
    SS_TF_PREEMPT_NEVER = 1u << 1, /* preemptionPolicy: Never */
    SS_TF_DAEMONSET = 1u << 2,     /* owned by a DaemonSet */
    /* Eviction facts (issue 14, format version 5), read by consolidate
     * (engine/ss_consolidate.h). A version 4 file has them all 0, and
     * SS_TF_EVICT_FACTS 0 says so: unknown, taken as "none of these". */
    SS_TF_MIRROR = 1u << 3,         /* a mirror (static) pod: kubernetes.io/config.mirror */
    SS_TF_LOCAL_STORAGE = 1u << 4,  /* an emptyDir volume not in memory, or a hostPath volume */
    SS_TF_PVC = 1u << 5,            /* a persistentVolumeClaim (or ephemeral) volume */
    SS_TF_SAFE_TO_EVICT = 1u << 6,  /* cluster-autoscaler.kubernetes.io/safe-to-evict: "true" */
    SS_TF_NOT_SAFE_EVICT = 1u << 7, /* cluster-autoscaler.kubernetes.io/safe-to-evict: "false" */
    SS_TF_DO_NOT_DISRUPT = 1u << 8, /* karpenter.sh/do-not-disrupt: "true" */
    SS_TF_EVICT_FACTS = 1u << 9,    /* the writer knew the five facts above */
};
#define SS_TF_KNOWN_BITS 0x3ffu

/* Cluster-wide modes stored in the snapshot. */
enum ss_default_spreading { SS_SPREAD_DEFAULT_NONE = 0, SS_SPREAD_DEFAULT_SYSTEM = 1 };
enum ss_locality { SS_LOCALITY_OFF = 0, SS_LOCALITY_ZONE = 1 };

/* Pod group topology constraint on where its members may sit. */
enum ss_topo_mode { SS_TOPO_MODE_NONE = 0, SS_TOPO_MODE_PREFERRED = 1, SS_TOPO_MODE_REQUIRED = 2 };
/* Where a group came from (format version 6, /groups/dialect): the object a
 * status write-back may patch. UNKNOWN for gen's groups and older files. */
enum ss_group_dialect {
    SS_GD_UNKNOWN = 0,
    SS_GD_COSCHEDULING = 1, /* scheduling.x-k8s.io PodGroup */
    SS_GD_VOLCANO = 2,      /* scheduling.volcano.sh PodGroup */
    SS_GD_KAI = 3,          /* scheduling.run.ai PodGroup */
    SS_GD_WORKLOAD = 4,     /* scheduling.k8s.io Workload pod group */
    SS_GD_PODGROUP = 5,     /* scheduling.k8s.io PodGroup */
    SS_GD_COMPOSITE = 6,    /* scheduling.k8s.io CompositePodGroup */
    SS_GD_KUEUE = 7,        /* Kueue plain pod group (no object) */
    SS_GD_SUBGROUP = 8,     /* a sub-group (no object of its own) */
    SS_GD_COUNT
};

typedef struct {
    int32_t key, value; /* string ids */
} ss_label_t;

typedef struct {
    int32_t key, value; /* string ids */
    int32_t effect;     /* SS_EFFECT_NO_SCHEDULE / PREFER_NO_SCHEDULE / NO_EXECUTE */
} ss_taint_t;

typedef struct {
    int32_t key, value; /* string ids; key 0 ("") with Exists tolerates every taint */
    int32_t op;         /* ss_tol_op */
    int32_t effect;     /* ss_effect, SS_EFFECT_ANY matches all */
} ss_toleration_t;

/* One node selector requirement: key op values. is_field = 1 means a
 * matchFields requirement on metadata.name (key is then unused). */
typedef struct {
    int32_t key;
    int32_t op; /* ss_sel_op */
    int32_t is_field;
    int32_t val_begin, val_count; /* range in expr_values (string ids) */
} ss_expr_t;

/* A node selector term (requirements ANDed); terms of one template are ORed
 * (required) or weighted and summed (preferred, weight 1..100). */
typedef struct {
    int32_t expr_begin, expr_count; /* range in exprs */
    int32_t weight;                 /* 0 for required terms */
} ss_term_t;

typedef struct {
    int64_t cpu_milli;
    int64_t memory;    /* bytes */
    int32_t gpu_count; /* number of GPUs */
    int32_t gpu_milli; /* per GPU, 1..1000; < 1000 only with gpu_count == 1 */
    int64_t ext[SS_MAX_EXT];
} ss_request_t;

/* A pod template: everything replicas of one workload share. */
typedef struct {
    ss_request_t req;
    int32_t sel_begin, sel_count;       /* nodeSelector: range in labels (all must match) */
    int32_t req_begin, req_count;       /* required node affinity terms: range in terms */
    int32_t pref_begin, pref_count;     /* preferred node affinity terms: range in terms */
    int32_t tol_begin, tol_count;       /* range in tolerations */
    int32_t model_begin, model_count;   /* allowed GPU models: range in models (empty = any) */
    int32_t plabel_begin, plabel_count; /* the pod's own labels: range in labels */
    uint32_t unsupported;               /* ss_rule bits */
    int32_t workload;                   /* string id of the owning controller (e.g. "deploy/web") */
    int32_t spread_begin, spread_count; /* topologySpreadConstraints: range in spreads */
    int32_t pterm_begin, pterm_count;   /* pod (anti-)affinity terms: range in pterms */
    uint32_t flags;                     /* ss_tmpl_flag bits */
    /* MIG request (issue 15, format version 3): nvidia.com/mig-<profile>:
     * mig_count instances of the profile named by mig_profile (a string id
     * of the profile name, e.g. "3g.40gb"; "1g.10gb+me" for the resource
     * mig-1g.10gb.me). mig_count 0 and mig_profile 0: none. */
    int32_t mig_profile;
    int32_t mig_count;
} ss_template_t;

/* One MIG instance of a GPU (issue 15): its profile (a string id of the
 * profile name in the ss_mig table of the GPU's MIG model) and its first
 * memory slice. */
typedef struct {
    int32_t profile;
    int32_t start;
} ss_mig_instance_t;

typedef struct ss_cluster {
    ss_strtab_t *strings;

    /* Extended resources (beyond cpu, memory, nvidia.com/gpu, pods). */
    int32_t n_ext;
    int32_t ext_name[SS_MAX_EXT]; /* string ids */

    /* ---- topology levels, coarse to fine (see SS_TOPO_MAX_LEVELS) ---- */
    int32_t n_levels;
    int32_t level_key[SS_TOPO_MAX_LEVELS]; /* node label key string ids */

    /* ---- nodes, n_nodes rows, sorted by topology ---- */
    int32_t n_nodes, cap_nodes;
    int32_t *node_name;    /* string id; also the kubernetes.io/hostname value */
    int32_t *node_topo;    /* [n_nodes * SS_TOPO_STRIDE] string ids; node level = name */
    int64_t *node_cpu;     /* allocatable cpu, milli */
    int64_t *node_mem;     /* allocatable memory, bytes */
    int32_t *node_pods;    /* allocatable pods */
    int64_t *node_ext;     /* [n_nodes * SS_MAX_EXT] allocatable extended resources */
    uint8_t *node_unsched; /* spec.unschedulable (cordoned) */
    int32_t *node_label_begin, *node_label_count; /* range in labels */
    int32_t *node_taint_begin, *node_taint_count; /* range in taints */
    int32_t *node_gpu_begin, *node_gpu_count;     /* range in gpus; count = nvidia.com/gpu */

    /* ---- GPUs, one record per physical GPU, grouped by node ---- */
    int32_t n_gpus, cap_gpus;
    int32_t *gpu_model; /* string id, e.g. "V100M32" */
    int32_t *gpu_milli; /* capacity in milli-GPU (1000) */

    /* ---- templates ---- */
    int32_t n_templates, cap_templates;
    ss_template_t *templates;

    /* ---- pods (running and pending), n_pods rows ---- */
    int32_t n_pods, cap_pods;
    int32_t *pod_name;     /* string id */
    int32_t *pod_ns;       /* namespace string id */
    int32_t *pod_template; /* template index */
    int32_t *pod_priority;
    int32_t *pod_group;     /* group index or -1 */
    int32_t *pod_node;      /* node index if running, -1 if pending */
    uint64_t *pod_gpu_mask; /* running pods: bit i = the node's i-th GPU is used */
    int64_t *pod_start;     /* status.startTime, Unix seconds; 0 = unknown */

    /* ---- pod groups (gangs) ---- */
    int32_t n_groups, cap_groups;
    int32_t *group_name; /* string id */
    int32_t *group_min_member;
    int32_t *group_topo_level; /* level index (used when mode != NONE) */
    int32_t *group_topo_mode;  /* ss_topo_mode */
    int32_t *group_parent;     /* enclosing group (a sub-group's), -1: a top-level group;
                                * parents come before their sub-groups */
    int32_t *group_dialect;    /* ss_group_dialect */

    /* ---- flat pools the ranges above point into ---- */
    int32_t n_labels, cap_labels;
    ss_label_t *labels;
    int32_t n_taints, cap_taints;
    ss_taint_t *taints;
    int32_t n_tolerations, cap_tolerations;
    ss_toleration_t *tolerations;
    int32_t n_terms, cap_terms;
    ss_term_t *terms;
    int32_t n_exprs, cap_exprs;
    ss_expr_t *exprs;
    int32_t n_expr_values, cap_expr_values;
    int32_t *expr_values; /* string ids */
    int32_t n_models, cap_models;
    int32_t *models; /* string ids */
    int32_t n_spreads, cap_spreads;
    ss_spread_t *spreads;
    int32_t n_pterms, cap_pterms;
    ss_podterm_t *pterms;

    /* ---- namespaces with labels (for namespaceSelector); a namespace not
     * listed has only kubernetes.io/metadata.name, which is implied ---- */
    int32_t n_namespaces, cap_namespaces;
    int32_t *ns_name;                         /* string id */
    int32_t *ns_label_begin, *ns_label_count; /* range in labels */

    /* ---- PodDisruptionBudgets ---- */
    int32_t n_pdbs, cap_pdbs;
    ss_pdb_t *pdbs;

    /* ---- modes (snapshot root attributes) ---- */
    int32_t default_spreading; /* ss_default_spreading */
    int32_t locality;          /* ss_locality */

    /* ---- MIG state (issue 15, format version 3, docs/mig.md), one row per
     * GPU record (allocated with the GPUs, cap_gpus rows). gpu_mig_model 0:
     * the GPU is not partitioned (MIG disabled, the whole GPU is the unit);
     * otherwise the string id of its model's name in the ss_mig table
     * ("H100-80GB") and its instances mig_insts[begin .. begin+count), by
     * start (count 0: MIG enabled, no instance created). ---- */
    int32_t *gpu_mig_model;
    int32_t *gpu_mig_begin, *gpu_mig_count;
    int32_t n_mig_insts, cap_mig_insts;
    ss_mig_instance_t *mig_insts;
} ss_cluster_t;

/* Returns an empty cluster (with its string table), or NULL if out of memory. */
ss_cluster_t *ss_cluster_create(void);
void ss_cluster_destroy(ss_cluster_t *c); /* accepts NULL */

/* ---- builder API (generator, importers, readers). Each returns the new
 * row's index, or -1 when out of memory. Ranges passed in must already be
 * appended with the pool functions below. ---- */

/* Declares an extended resource; returns its index, or -1 (too many). Must be
 * called before the first node is added. */
int ss_cluster_add_ext(ss_cluster_t *c, const char *name);

/* topo: string ids of the levels above the node (n_levels - 1 of them; for
 * the legacy levels region, zone, block, rack); the node level is name. */
int32_t ss_cluster_add_node(ss_cluster_t *c, int32_t name, const int32_t topo[4], int64_t cpu_milli,
                            int64_t memory, int32_t pods, const int64_t *ext, bool unschedulable,
                            int32_t label_begin, int32_t label_count, int32_t taint_begin,
                            int32_t taint_count, int32_t gpu_begin, int32_t gpu_count);
int32_t ss_cluster_add_gpu(ss_cluster_t *c, int32_t model, int32_t milli);
int32_t ss_cluster_add_template(ss_cluster_t *c, const ss_template_t *t);
int32_t ss_cluster_add_pod(ss_cluster_t *c, int32_t name, int32_t ns, int32_t tmpl,
                           int32_t priority, int32_t group, int32_t node, uint64_t gpu_mask);
int32_t ss_cluster_add_group(ss_cluster_t *c, int32_t name, int32_t min_member, int32_t topo_level,
                             int32_t topo_mode);
/* A sub-group of parent (a gang inside the gang: the parent commits only when
 * every sub-group reaches its own minimum, each sub-group's members in one
 * domain of its level when required). -1 when out of memory or parent bad. */
int32_t ss_cluster_add_subgroup(ss_cluster_t *c, int32_t parent, int32_t name, int32_t min_member,
                                int32_t topo_level, int32_t topo_mode);
int32_t ss_cluster_add_label(ss_cluster_t *c, int32_t key, int32_t value);
int32_t ss_cluster_add_taint(ss_cluster_t *c, int32_t key, int32_t value, int32_t effect);
int32_t ss_cluster_add_toleration(ss_cluster_t *c, int32_t key, int32_t value, int32_t op,
                                  int32_t effect);
int32_t ss_cluster_add_term(ss_cluster_t *c, int32_t expr_begin, int32_t expr_count,
                            int32_t weight);
int32_t ss_cluster_add_expr(ss_cluster_t *c, int32_t key, int32_t op, int32_t is_field,
                            int32_t val_begin, int32_t val_count);
int32_t ss_cluster_add_expr_value(ss_cluster_t *c, int32_t value);
int32_t ss_cluster_add_model(ss_cluster_t *c, int32_t model);
int32_t ss_cluster_add_spread(ss_cluster_t *c, const ss_spread_t *s);
int32_t ss_cluster_add_pterm(ss_cluster_t *c, const ss_podterm_t *t);
int32_t ss_cluster_add_namespace(ss_cluster_t *c, int32_t name, int32_t label_begin,
                                 int32_t label_count);
int32_t ss_cluster_add_pdb(ss_cluster_t *c, const ss_pdb_t *p);
/* Puts GPU record gpu in MIG mode: model is the string id of an ss_mig
 * model name, inst[0 .. n) its instances (appended to mig_insts). Checks
 * nothing (ss_cluster_validate does). Returns 0, or -1 when out of memory. */
int ss_cluster_set_gpu_mig(ss_cluster_t *c, int32_t gpu, int32_t model,
                           const ss_mig_instance_t *inst, int32_t n);
int32_t ss_cluster_add_mig_instance(ss_cluster_t *c, int32_t profile, int32_t start);

/* MIG instances of a node, numbered node-locally (docs/mig.md): its GPU
 * records in order, each GPU's instances in mig_insts order (by start). A
 * MIG pod's gpu_mask (template mig_count > 0) is the mask of the node-local
 * instances it holds. At most SS_MAX_MIG_PER_NODE per node (validated). */
#define SS_MAX_MIG_PER_NODE 64
int32_t ss_cluster_node_mig_count(const ss_cluster_t *c, int32_t node);
/* The global mig_insts index of node's node-local instance i (0 <= i <
 * ss_cluster_node_mig_count), and its GPU record in *gpu (may be NULL). */
int32_t ss_cluster_node_mig_inst(const ss_cluster_t *c, int32_t node, int32_t i, int32_t *gpu);
/* Running MIG pods whose gpu_mask is 0 (Kubernetes does not say which
 * instance a pod holds) take the first free instances of their profile on
 * their node, node-local order, pods in snapshot order, after the masks
 * already set. Import, gen and readers of format version 3 call it. Returns
 * 0, or SS_EFORMAT naming the pod and node when the node lacks the free
 * instances (nothing is changed then), SS_ENOMEM. */
int ss_cluster_mig_assign_running(ss_cluster_t *c, ss_error_t *err);
/* Sets pod i's start time (status.startTime, Unix seconds). */
void ss_cluster_set_pod_start(ss_cluster_t *c, int32_t pod, int64_t start);

/* The top-level group (gang) of pod: its group, or that group's outermost
 * enclosing group; -1 when the pod is in no group. */
static inline int32_t ss_cluster_gang_of(const ss_cluster_t *c, int32_t pod)
{
    int32_t g = c->pod_group[pod];
    while (g >= 0 && c->group_parent && c->group_parent[g] >= 0)
        g = c->group_parent[g];
    return g;
}

/* Convenience: interns s. Returns the id or -1. */
int32_t ss_cluster_str(ss_cluster_t *c, const char *s);
/* Borrowed string for an id (see ss_strtab_get). */
const char *ss_cluster_strget(const ss_cluster_t *c, int32_t id);

/* Moves the node rows: row k becomes old row order[k], for k < n (n <= the
 * node count; the rows past n are left as they are). Every node column
 * moves (the one list of them); pod_node is not renumbered. Returns 0 or
 * SS_ENOMEM. */
int ss_cluster_gather_nodes(ss_cluster_t *c, const int32_t *order, int32_t n, ss_error_t *err);

/* The five legacy levels (region, zone, block, rack, node) with their
 * default label keys (block_key / rack_key: NULL for the defaults). Interns
 * the keys. Returns 0 or SS_ENOMEM. A new cluster has these levels with
 * unnamed keys (id 0) until this is called. */
int ss_cluster_set_legacy_levels(ss_cluster_t *c, const char *block_key, const char *rack_key,
                                 ss_error_t *err);

/* Sets the levels from node label keys (string ids), coarse to fine as far
 * as known: they must include SS_TOPO_HOSTNAME_KEY, be distinct and be at
 * most 16. Keeps the order given, except that a key goes before the first
 * earlier key that is strictly finer (whose domains nest in the key's and
 * are more, over the nodes); the hostname last. Fills node_topo from the nodes'
 * labels ("" where a node lacks the label), and remaps every group's
 * group_topo_level from an index into keys to the new level index. nests
 * (optional, n entries, for keys[i]) is set to 0 where a key's values do not
 * nest in the coarser levels (one value under two coarser paths: its domains
 * are then split by path), 1 otherwise. Call before ss_cluster_sort_nodes.
 * Returns 0, SS_EINVAL (bad keys, message naming the key) or SS_ENOMEM. */
int ss_cluster_set_levels(ss_cluster_t *c, const int32_t *keys, int n, uint8_t *nests,
                          ss_error_t *err);

/* Level whose key is the string id key, or -1. */
int ss_cluster_level_of_key(const ss_cluster_t *c, int32_t key);
/* A level's display name: "region", "zone", "block", "rack", "node" for
 * the legacy keys, else the label key. Never NULL ("?" if bad). */
const char *ss_topo_level_name(const ss_cluster_t *c, int level);
/* The level of topology.kubernetes.io/zone, or -1 when the cluster has none. */
int ss_cluster_zone_level(const ss_cluster_t *c);

/* Stable-sorts nodes by their level values (strings, coarse to fine),
 * keeping input order within the finest domain above the node, and
 * renumbers pod_node. Returns 0 or SS_ENOMEM. */
int ss_cluster_sort_nodes(ss_cluster_t *c, ss_error_t *err);

/* True iff nodes are sorted by topology as ss_cluster_sort_nodes leaves them. */
bool ss_cluster_nodes_sorted(const ss_cluster_t *c);

/* Checks every invariant a reader or builder must guarantee before the engine
 * runs: ranges inside their pools, ids inside the string table, indices in
 * range, no negative or absurd quantities, GPU requests well-formed, running
 * pods' GPU masks inside their node, nodes sorted. On failure returns
 * SS_EFORMAT with a message naming the table, row and field. */
int ss_cluster_validate(const ss_cluster_t *c, ss_error_t *err);

/* Saturating arithmetic for resource quantities (issue 10, item 9). The
 * format allows values whose sums do not fit (128 running pods of 2^56 bytes
 * on one node), so every sum and difference of quantities in the engine, the
 * verifier and inspect goes through these: the result is clamped to
 * [INT64_MIN, INT64_MAX] (int32: [INT32_MIN, INT32_MAX]) instead of wrapping.
 * A clamped free capacity stays hugely negative, so nothing more fits. */
static inline int64_t ss_sat_add64(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}
static inline int64_t ss_sat_sub64(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r))
        return b < 0 ? INT64_MAX : INT64_MIN;
    return r;
}
static inline int32_t ss_sat_add32(int32_t a, int64_t b)
{
    int64_t r = (int64_t)a + (b > INT32_MAX ? INT32_MAX : b < INT32_MIN ? INT32_MIN : b);
    return r > INT32_MAX ? INT32_MAX : r < INT32_MIN ? INT32_MIN : (int32_t)r;
}

/* The snapshot fingerprint a placements file carries (its root attribute
 * snapshot_fingerprint, docs/snapshot-format.md): a 64-bit hash (ss_hash) of
 * the identity columns, node names in row order, then each pod's namespace,
 * name and node row (-1 pending). Deterministic, independent of ranks and
 * threads (every rank holds these columns whole). */
uint64_t ss_cluster_fingerprint(const ss_cluster_t *c);

/* Memory used by the cluster's arrays, in bytes. */
size_t ss_cluster_bytes(const ss_cluster_t *c);

#endif
