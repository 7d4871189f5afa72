/* ss_kube_import: reads Kubernetes Node, Pod and PodGroup objects (what
 * `kubectl get nodes,pods -o json` prints; and the PriorityClass,
 * PodDisruptionBudget and Namespace objects around them) into an ss_cluster_t, following
 * Kubernetes' own rules for effective requests, quantities, node affinity and
 * tolerations. Each file is read into memory once and its items are parsed
 * one at a time (ss_kube_read.c), so memory stays within ~2x the input for
 * millions of pods; identical pod specs of one workload share one template.
 * Every field read is type-checked, names are checked as Kubernetes checks
 * them, and duplicates are errors naming both items.
 *
 * What is modelled and what is reported instead is listed in
 * docs/kubernetes.md; nothing the engine cannot honour is silently dropped:
 * it is counted per kind of field, printed as a warning, set as an
 * `unsupported` rule bit on the pod's template, and an error with --strict.
 */
#ifndef SS_KUBE_IMPORT_H
#define SS_KUBE_IMPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ss_cluster.h"
#include "ss_progress.h"

#define SS_KUBE_DEFAULT_SCHEDULER "default-scheduler"
#define SS_KUBE_DEFAULT_RACK_LABEL "topology.kubernetes.io/rack"
#define SS_KUBE_DEFAULT_BLOCK_LABEL "topology.kubernetes.io/block"
#define SS_KUBE_REGION_LABEL "topology.kubernetes.io/region"
#define SS_KUBE_ZONE_LABEL "topology.kubernetes.io/zone"
#define SS_KUBE_HOSTNAME_LABEL "kubernetes.io/hostname"
/* The synthetic pod label of a host port (NodePorts): the prefix, then
 * tcp-, udp- or sctp- and the port, e.g. shardsched.io/host-port-tcp-8080;
 * its value is "true" (docs/kubernetes.md, "Host ports"). */
#define SS_KUBE_HOST_PORT_PREFIX "shardsched.io/host-port-"
#define SS_KUBE_GPU "nvidia.com/gpu"
#define SS_KUBE_GPU_PRODUCT_LABEL "nvidia.com/gpu.product"
#define SS_KUBE_POD_GROUP_LABEL "scheduling.x-k8s.io/pod-group"
#define SS_KUBE_VOLCANO_GROUP_ANNOTATION "scheduling.k8s.io/group-name"
/* A pod group's topology (all members in one domain of the level the node
 * label key names), as Kueue's topology-aware scheduling writes it on pods. */
#define SS_KUBE_REQUIRED_TOPOLOGY_ANNOTATION "kueue.x-k8s.io/podset-required-topology"
#define SS_KUBE_PREFERRED_TOPOLOGY_ANNOTATION "kueue.x-k8s.io/podset-preferred-topology"
/* Gang and topology references that are not read: a pod carrying one
 * (label or annotation) is imported with an `unsupported` rule bit, never
 * placed as a single pod (docs/kubernetes.md). The dialects read are in
 * io/ss_kube_gangs.c. */
#define SS_KUBE_FOREIGN_GANG_KEYS "pod-group.scheduling.run.ai/name"
/* GPU sharing as in the Alibaba OpenB trace / FGD simulator: per-GPU milli
 * and GPU count as pod annotations, GPU count as a node resource. */
#define SS_KUBE_ALI_GPU_MILLI "alibabacloud.com/gpu-milli"
#define SS_KUBE_ALI_GPU_COUNT "alibabacloud.com/gpu-count"
#define SS_KUBE_ALI_GPU_MODEL_LABEL "alibabacloud.com/gpu-card-model"

/* Kinds of things the importer reports (a count each). The first ones are
 * fields of pending pods the engine does not model. */
#define SS_KUBE_WARN_MAP(X)                                                                        \
    X(PVC, "persistentVolumeClaim or ephemeral volumes (volume binding not modelled: pods "        \
           "reported unsupported)")                                                                \
    X(RESOURCE_CLAIM, "spec.resourceClaims (DRA not modelled: pods reported unsupported)")         \
    X(SCHEDULING_GATES, "spec.schedulingGates (gated pods are not scheduled: reported "            \
                        "unsupported)")                                                            \
    X(WORKLOAD_REF, "spec.workloadRef naming a Workload or pod group not in the input "            \
                    "(Kubernetes keeps the pods pending: reported unsupported)")                   \
    X(SCHEDULING_GROUP, "spec.schedulingGroup naming a PodGroup not in the input (Kubernetes "     \
                        "keeps the pods pending: reported unsupported)")                           \
    X(FOREIGN_GANG, "Volcano or KAI pod group annotations naming a PodGroup not in the input, "    \
                    "or gang keys not read (pods reported unsupported)")                           \
    X(TOPOLOGY_REF, "Kueue/KAI topology annotations not read (outside a pod group read, or "       \
                    "another kind: pods reported unsupported)")                                    \
    X(PRIORITY_CLASS_UNKNOWN, "pods whose priorityClassName names no PriorityClass in the input "  \
                              "(their spec.priority kept, else 0)")                                \
    X(PRIORITY_MISMATCH, "pods whose spec.priority differs from their PriorityClass's value "      \
                         "(spec.priority kept: kube-scheduler reads it)")                          \
    X(HOSTNAME_MISMATCH, "nodes whose kubernetes.io/hostname label differs from their name")       \
    X(NO_POD_GROUP, "pods naming a pod group with no PodGroup object (scheduled as single pods)")  \
    X(TOPOLOGY_KEY, "pod group topology keys no node carries (Kubernetes keeps the pods "          \
                    "pending: reported unsupported)")                                              \
    X(VOLCANO_TOPOLOGY, "Volcano networkTopology over a HyperNode tree that does not nest "        \
                        "(pods reported unsupported)")                                             \
    X(SUBGROUPS, "sub-groups of which fewer than all are needed (KAI minSubGroup, Volcano or "     \
                 "upstream minimum group counts: not modelled, pods reported unsupported)")        \
    X(SHORT_GANG, "pod groups with fewer members in the input than their minimum (Kubernetes "     \
                  "keeps them pending)")                                                           \
    X(OTHER_KIND, "objects of other kinds (ignored)")

enum ss_kube_warn {
#define SS_KUBE_WARN_ENUM(name, text) SS_KUBE_WARN_##name,
    SS_KUBE_WARN_MAP(SS_KUBE_WARN_ENUM)
#undef SS_KUBE_WARN_ENUM
        SS_KUBE_WARN_COUNT
};

/* Text of a warning kind; "" if out of range. */
const char *ss_kube_warn_text(int kind);

typedef struct {
    const char *scheduler_name;    /* pending pods with another spec.schedulerName are skipped */
    const char *rack_label;        /* node label giving the rack (NVLink domain) */
    const char *block_label;       /* node label giving the block (InfiniBand fabric) */
    bool strict;                   /* every warning above is an error */
    FILE *log;                     /* warnings and the summary go here; NULL: silent */
    const ss_progress_t *progress; /* ticked over nodes then pods (borrowed; NULL: none) */
    const char *mig_config_path;   /* --mig-config: mig-parted's config (NULL: canonical layouts) */
} ss_kube_opts_t;

/* Fills o with the defaults above (strict off, log stderr). */
void ss_kube_opts_default(ss_kube_opts_t *o);

#define SS_KUBE_MAX_REPORTED 5

typedef struct {
    int32_t nodes, running, pending, templates, groups;
    int32_t terminal;        /* Succeeded/Failed pods, ignored */
    int32_t other_scheduler; /* pending pods for another scheduler, skipped */
    int32_t unknown_node;    /* pods bound to a node not in the input, skipped */
    char unknown_names[SS_KUBE_MAX_REPORTED][160]; /* "ns/name -> node", the first few */
    int32_t warn[SS_KUBE_WARN_COUNT];
    char topology_key[240];   /* the first key of SS_KUBE_WARN_TOPOLOGY_KEY, and where */
    char priority_class[240]; /* the first class of SS_KUBE_WARN_PRIORITY_CLASS_UNKNOWN */
} ss_kube_report_t;

/* One input of an import: a file, "-" for standard input, or a folder
 * (its .json, .yaml and .yml files in name order; other entries are skipped
 * with a note on the log). role: 'N', 'P', 'G', 'C', 'B' or 'S', the kind
 * of the objects without a kind (--nodes, --pods, --podgroups,
 * --priority-classes, --pdbs; 'S' Namespaces). PriorityClass,
 * PodDisruptionBudget and Namespace objects are read from any input. */
typedef struct {
    const char *path;
    char role;
} ss_kube_input_t;

/* Imports the objects of the inputs: each file JSON (a v1 List, a single
 * object or a JSON array of objects) or, when its text does not start with
 * '{' or '[', YAML (the same, or several `---`-separated documents; see
 * io/ss_yaml.h). The kind of each object decides its role; objects without
 * a kind take the role of their input. Entries with a NULL path are
 * skipped. Results and errors as ss_kube_import_files. */
int ss_kube_import_inputs(const ss_kube_input_t *in, size_t n, const ss_kube_opts_t *o,
                          ss_cluster_t **out, ss_kube_report_t *rep, ss_error_t *err);

/* Imports the objects in the files, as ss_kube_import_inputs (a path may
 * also be "-" or a folder). podgroups_path and pods_path may be NULL. On success *out is a new,
 * validated cluster with sorted nodes that the caller owns, and rep (may be NULL) is filled. On
 * failure returns a negative code with a message naming the file, object and field, and *out is
 * NULL. */
int ss_kube_import_files(const char *nodes_path, const char *pods_path, const char *podgroups_path,
                         const ss_kube_opts_t *o, ss_cluster_t **out, ss_kube_report_t *rep,
                         ss_error_t *err);

/* The same from JSON or YAML text in memory (for tests); any may be NULL. */
int ss_kube_import_strings(const char *nodes_json, const char *pods_json,
                           const char *podgroups_json, const ss_kube_opts_t *o, ss_cluster_t **out,
                           ss_kube_report_t *rep, ss_error_t *err);

/* An RFC 3339 time as metav1.Time writes it (2006-01-02T15:04:05Z; a
 * fraction of a second is dropped, an offset +hh:mm applied) into Unix
 * seconds. Returns 0, or -1 when s is not one. */
int ss_kube_rfc3339(const char *s, int64_t *out);

/* Prints the report (counts, first unknown-node pods, warnings) to f. */
void ss_kube_report_print(const ss_kube_report_t *rep, FILE *f);

/* Writes c as kubectl-style v1 Lists: Nodes to nodes_json and Pods (running
 * and pending, with their template's requests and constraints) and
 * PodGroups (in their members' namespace; group topology as the Kueue
 * annotations above on the members) to pods_json, each atomically.
 * import(export(c)) gives the same cluster up to GPU assignment of running
 * pods (first free), GPU model lists, which become nvidia.com/gpu.product
 * node affinity, and group names, which become "namespace/name". */
int ss_kube_export_cluster(const ss_cluster_t *c, const char *nodes_json, const char *pods_json,
                           ss_error_t *err);

/* A PriorityClass for export: pods whose priority is value get
 * priorityClassName name (and spec.priority); the classes used are written
 * as scheduling.k8s.io/v1 objects. Priorities without a class are written
 * as spec.priority only. */
typedef struct {
    const char *name;
    int32_t value;
    bool global_default;
    bool preempt_never; /* the class's preemptionPolicy: Never */
} ss_kube_priority_class_t;

typedef struct {
    const ss_kube_priority_class_t *classes; /* may be NULL */
    int32_t n_classes;
    int gang_dialect; /* how pod groups are written: ss_kube_dialect_t
                         (io/ss_kube_export_gangs.h); 0 the default */
} ss_kube_export_opts_t;

/* ss_kube_export_cluster with options (o may be NULL). pods_json also gets
 * the PriorityClasses used, the cluster's PodDisruptionBudgets and its
 * Namespaces with labels; pods get their spread constraints, pod
 * (anti-)affinity terms, owner (controller: true when SS_TF_CONTROLLER),
 * preemptionPolicy and status.startTime. */
int ss_kube_export_cluster_opts(const ss_cluster_t *c, const char *nodes_json,
                                const char *pods_json, const ss_kube_export_opts_t *o,
                                ss_error_t *err);

/* Writes path (atomically) as NVIDIA mig-parted's configuration of the
 * entries the exported MIG nodes' nvidia.com/mig.config labels name
 * (all-<profile>, all-balanced, or custom-<hash> listing its GPUs), so that
 * `import --mig-config path` reads the same layouts back. *written: false
 * (and no file) when c has no GPU in MIG mode. Returns 0, SS_EIO or
 * SS_ENOMEM. */
int ss_kube_export_mig_config(const ss_cluster_t *c, const char *path, bool *written,
                              ss_error_t *err);

#endif
