/* ss_kube_internal: state shared by the Kubernetes importer's files
 * (ss_kube_import.c: documents, orchestration; ss_kube_gangs.c: pod groups
 * of every dialect; ss_kube_nodes.c: Node objects; ss_kube_pods.c: Pod
 * objects, effective requests and templates). Not a public API. */
#ifndef SS_KUBE_INTERNAL_H
#define SS_KUBE_INTERNAL_H

#include <jansson.h>
#include <sys/types.h>

#include "ss_kube_import.h"
#include "ss_yaml.h"

/* Resource vector of one pod: [0] cpu milli, [1] memory bytes, [2] GPUs,
 * [3 + i] the i-th other resource name in kctx_t.resnames (id i + 1). */
#define KRES_CPU 0
#define KRES_MEM 1
#define KRES_GPU 2
#define KRES_FIRST_OTHER 3
#define KRES_MAX 40

typedef struct {
    int64_t v[KRES_MAX];
} krvec_t;

enum kpod_class { KPOD_PENDING, KPOD_RUNNING, KPOD_TERMINAL, KPOD_OTHER_SCHED, KPOD_UNKNOWN_NODE };

/* One input document: a file's text (or a string's), with its role ('N'
 * nodes, 'P' pods, 'G' podgroups: the kind of kind-less objects). A YAML
 * text is kept as trees (yaml), its items in yitems: an item's "offset" is
 * then its index there. */
typedef struct {
    const char *path; /* as given, "<stdin>" for "-" (or "<nodes>" for strings) */
    char *buf;        /* NUL-terminated text */
    size_t len;
    dev_t dev;
    ino_t ino;
    bool owned; /* buf was read from a file (freed with the context) */
    char role;
    ss_yaml_t *yaml; /* YAML input: its documents; NULL for JSON */
    json_t *yitems;  /* YAML input: an array of its items */
} kdoc_t;

typedef struct {
    json_t *obj;      /* a Node/PodGroup: held by the context; a Pod: while it is added */
    const char *path; /* file it came from (or "<nodes>" for strings) */
    const char *kind; /* "Node", "Pod" or "PodGroup" (messages) */
    size_t index;     /* position in its file's items */
} kitem_t;

typedef struct {
    kitem_t *v;
    size_t n, cap;
} kitems_t;

/* A growing vector of int32 words (template parts, dedupe keys). */
typedef struct {
    int32_t *v;
    size_t n, cap;
    bool oom;
} kivec_t;
void kipush(kivec_t *a, int32_t x);

/* The largest values the engine accepts (engine/ss_validate.c's limits,
 * repeated so that an import names the pod or node and field instead). */
#define KMAX_CPU_MILLI (INT64_C(1) << 40)
#define KMAX_MEMORY (INT64_C(1) << 56)
#define KMAX_PODS 1000000
#define KMAX_EXT (INT64_C(1) << 56)
/* An error naming the object and field when v is above max. */
int klimit(const kitem_t *it, const char *field, int64_t v, int64_t max, ss_error_t *err);

/* A Pod as seen when the files are read: where its text is (it is parsed
 * again when added), and what classifying it needs before nodes are known. */
enum { KP_TERMINAL = 1, KP_OTHER_SCHED = 2, KP_REQ_ERROR = 4 };
typedef struct {
    size_t index, off, len;
    int32_t doc;
    int32_t node_sid; /* spec.nodeName in kctx_t.podnodes, 0: none */
    uint32_t flags;
    uint64_t resmask; /* other resources requested: bit i = krvec_t slot KRES_FIRST_OTHER + i */
} kpod_t;

typedef struct {
    kpod_t *v;
    size_t n, cap;
} kpods_t;

typedef struct {
    const ss_kube_opts_t *o;
    ss_kube_report_t *rep;
    ss_cluster_t *c;
    kdoc_t *docs; /* one per input file (ndocs) */
    size_t ndocs;
    kitems_t nodes, pgs;
    kitems_t pcs, pdbs, nss; /* PriorityClass, PodDisruptionBudget, Namespace objects */
    struct kprio *prio;      /* the PriorityClasses by name (ss_kube_policy.c) */
    kpods_t pods;
    ss_strtab_t *podkeys;  /* "ns/name" of every Pod (id = pods index + 1) */
    ss_strtab_t *podnodes; /* spec.nodeName values of Pods */
    ss_strtab_t *resnames; /* other resource names requested (id 1..) */
    int32_t *node_by_str;  /* cluster string id -> node row, -1 */
    int32_t node_by_str_len;
    uint8_t *pod_class; /* enum kpod_class per pods item */
    int32_t *gpu_used;  /* milli used per GPU record (running pods) */
    ss_strtab_t *tkeys; /* template dedupe keys */
    int32_t *tkey_tmpl;
    int32_t tkey_cap;
    struct kgangs *gangs;         /* pod groups of every dialect (ss_kube_gangs.c) */
    struct ktopo *topo;           /* Topology and HyperNode objects (ss_kube_topo.c) */
    int32_t ext_of_res[KRES_MAX]; /* resource vector slot -> ext index, -1 */
    ss_yaml_t *mig_yaml;          /* --mig-config's document (ss_kube_mig.c) */
    json_t *mig_configs;          /* its mig-configs mapping (borrowed from mig_yaml) */
    int32_t *mig_single;          /* per nodes item: single-strategy profile (string id), 0 */
    int32_t level_keys[SS_TOPO_MAX_LEVELS]; /* topology level keys met (ss_kube_levels.c) */
    int n_level_keys;
} kctx_t;

/* Helpers (ss_kube_import.c). */
json_t *kget(json_t *o, const char *k1, const char *k2, const char *k3);
const char *kstr(json_t *o, const char *k1, const char *k2, const char *k3);
/* "ns/name" of an object into buf (size 320). */
const char *kname(json_t *o, char *buf);
/* Expected JSON types of a field (kat). */
enum ktype { KT_OBJ, KT_ARR, KT_STR, KT_BOOL, KT_INT, KT_QTY };
/* The member k1[.k2[.k3]] of base (NULL keys end the path) into *out, NULL
 * when absent or null. A member, or one on the way to it, of another type
 * is an error naming it->path, the object and the field (where.k1.k2...). */
int kat(const kitem_t *it, json_t *base, const char *where, const char *k1, const char *k2,
        const char *k3, int type, json_t **out, ss_error_t *err);
/* "path: Kind ns/name" of an item into buf (size 512). */
const char *kwho(const kitem_t *it, char *buf);
/* Parses a quantity (string or number) with err naming path, object, field. */
int kqty(const kitem_t *it, const char *field, json_t *v, int scale, int64_t *out, ss_error_t *err);
int kwarn(kctx_t *k, int kind, const kitem_t *it, ss_error_t *err);
int32_t kstr_id(kctx_t *k, const char *s, ss_error_t *err);

/* ss_kube_levels.c: the topology levels of an import. kube_level gives the
 * index of node label key among the levels met so far (at first the legacy
 * five: region, zone, --block-label, --rack-label, hostname; any other key
 * is appended), or SS_ERANGE (message naming the key) past 16. A group's
 * topo_level is that index until kube_set_levels orders the levels
 * (ss_cluster_set_levels), fills the nodes' values and remaps the groups;
 * it warns about appended keys whose values do not nest. */
int kube_level(kctx_t *k, const char *key, ss_error_t *err);
int kube_set_levels(kctx_t *k, ss_error_t *err);

/* ss_kube_gangs.c: the gang dialects. kube_gangs_index reads the PodGroup
 * and Workload objects (k->pgs) before any pod; kube_gang_pod gives a pod's
 * gang (0: none), the `unsupported` rule bits its gang references leave
 * (pending pods), and its priority when its group sets one; kube_gang_join
 * gives the gang's group row (-1 for none), made on first use;
 * kube_gangs_finish reports groups with fewer members than their minimum. */
typedef struct kgangs kgangs_t;
int kube_gangs_index(kctx_t *k, ss_error_t *err);
int kube_gang_pod(kctx_t *k, const kitem_t *it, bool pending, int32_t *gang, uint32_t *rules,
                  int32_t *prio, ss_error_t *err);
int kube_gang_join(kctx_t *k, int32_t gang, int32_t *group, ss_error_t *err);
int kube_gangs_finish(kctx_t *k, ss_error_t *err);
void kube_gangs_free(kctx_t *k);

/* ss_kube_topo.c: a node's HyperNode tier labels (appended to its label
 * range, counted in *count); it is an item of k->nodes. */
int kube_topo_node_labels(kctx_t *k, const kitem_t *it, int32_t *count, ss_error_t *err);
/* Whether kind is one ss_kube_topo.c reads (Topology, ResourceFlavor, HyperNode). */
bool kube_topo_kind(const char *kind);

/* ss_kube_read.c: input files, scanned item by item. The callback gets
 * each item parsed (borrowed: incref to keep it) and where its text is. */
typedef int (*kdoc_fn)(void *ctx, const kdoc_t *d, json_t *obj, size_t index, size_t off,
                       size_t len, ss_error_t *err);
/* The files an input names, appended to *files (n, cap): "-" (standard
 * input), a file, or a folder's .json, .yaml and .yml files in name order
 * (other entries skipped with a note on log, which may be NULL). */
typedef struct {
    char *path;
    char role;
} kfile_t;
int kube_input_files(const char *path, char role, kfile_t **files, size_t *n, size_t *cap,
                     FILE *log, ss_error_t *err);
/* path "-" reads standard input (named "<stdin>"). */
int kube_file_load(const char *path, kdoc_t *d, ss_error_t *err);
void kube_file_free(kdoc_t *d);
/* JSON, or YAML when the text does not start with '{' or '['. */
int kube_doc_scan(kdoc_t *d, kdoc_fn fn, void *ctx, ss_error_t *err);
json_t *kube_doc_item(const kdoc_t *d, size_t off, size_t len, ss_error_t *err);
/* kwho, with the line and column where v (or obj's member key) was written
 * when it comes from YAML. */
const char *kwho_at(const kitem_t *it, json_t *obj, const char *key, json_t *v, char *buf);

/* ss_kube_nodes.c */
int kube_index_node_names(kctx_t *k, ss_error_t *err);    /* before classifying pods */
int32_t kube_node_row(const kctx_t *k, const char *name); /* -1: not in the input */
int kube_effect(const char *s, int32_t *effect);          /* -1 unless a taint effect or "" */
int kube_add_nodes(kctx_t *k, ss_error_t *err);

/* ss_kube_template.c: the pod's template (deduplicated); pending says
 * whether unmodelled fields are counted and set as SS_RULE_OTHER; rules are
 * the rule bits its gang references left (kube_gang_pod); flags the
 * ss_tmpl_flag bits known before (SS_TF_PREEMPT_NEVER from the pod's
 * priority class). */
int kube_pod_template(kctx_t *k, const kitem_t *it, const ss_request_t *req, bool pending,
                      uint32_t rules, uint32_t flags, int32_t mig_profile, int32_t mig_count,
                      int32_t *tmpl, ss_error_t *err);

/* ss_kube_rules.c: label selectors, topologySpreadConstraints and pod
 * (anti-)affinity terms, as int32 words (part of the template's dedupe
 * key) and then into the cluster's pools. A selector's words: null, the
 * requirement count, then per requirement key, op, nval, values. */
int kube_selector(kctx_t *k, const kitem_t *it, json_t *sel, const char *field, kivec_t *out,
                  ss_error_t *err);
/* The pod's spread constraints and pod terms; plabels are its labels as
 * (key, value) string id pairs (matchLabelKeys take their values). */
int kube_pod_rules(kctx_t *k, const kitem_t *it, const kivec_t *plabels, kivec_t *spreads,
                   kivec_t *pterms, ss_error_t *err);
/* kube-scheduler's NodePorts filter as pod rules (docs/kubernetes.md,
 * "Host ports"): for each (protocol, hostPort) in ports (words
 * protocol * 65536 + port, protocol KPORT_TCP.., sorted, unique) the label
 * SS_KUBE_HOST_PORT_PREFIX "<tcp|udp|sctp>-<port>" = "true" goes to
 * plabels and a required anti-affinity term (hostname, that key Exists,
 * all namespaces) to pterms, through the same term reader as the pod's own
 * terms. A label key plabels already has is not added twice. */
enum { KPORT_TCP = 0, KPORT_UDP = 1, KPORT_SCTP = 2 };
int kube_host_port_rules(kctx_t *k, const kitem_t *it, const kivec_t *ports, kivec_t *plabels,
                         kivec_t *pterms, ss_error_t *err);
/* Appends the selector at w[*pos] to the pools, advancing *pos. */
int kube_commit_selector(ss_cluster_t *c, const int32_t *w, size_t *pos, ss_selector_t *s);
/* Appends spreads and pterms, setting x's ranges. */
int kube_commit_rules(ss_cluster_t *c, const kivec_t *spreads, const kivec_t *pterms,
                      ss_template_t *x);

/* ss_kube_policy.c: PriorityClass, Namespace and PodDisruptionBudget
 * objects, a pod's priority and preemption policy, its start time. */
int kube_index_priority_classes(kctx_t *k, ss_error_t *err); /* before any pod */
/* spec.priority, spec.priorityClassName (resolved), spec.preemptionPolicy
 * (else the class's): *never is true for preemptionPolicy Never. */
int kube_pod_priority(kctx_t *k, const kitem_t *it, int32_t *prio, bool *never, ss_error_t *err);
/* status.startTime as Unix seconds, 0 when absent. */
int kube_pod_start(const kitem_t *it, int64_t *start, ss_error_t *err);
int kube_add_namespaces(kctx_t *k, ss_error_t *err);
int kube_add_pdbs(kctx_t *k, ss_error_t *err);
void kube_policy_free(kctx_t *k);

/* ss_kube_mig.c: MIG nodes and requests (issue 15, docs/mig.md). */
bool kube_mig_resource(const char *name); /* nvidia.com/mig-<profile> */
/* The pod's nvidia.com/mig-<profile> request (profile: string id of the
 * profile name, "+me" for ".me"); pending and rules are not used. */
int kube_mig_request(kctx_t *k, const kitem_t *it, const krvec_t *r, bool pending, int32_t *profile,
                     int32_t *count, uint32_t *rules, ss_error_t *err);
int kube_mig_config_load(kctx_t *k, ss_error_t *err); /* --mig-config, before nodes */
void kube_mig_free(kctx_t *k);
/* Adds node item nidx's GPU records with their MIG state (n_gpu: its
 * allocatable nvidia.com/gpu); *handled false when it has no MIG. */
int kube_node_mig(kctx_t *k, const kitem_t *it, int32_t nidx, int64_t n_gpu, int32_t model_sid,
                  int32_t *begin, int32_t *count, bool *handled, ss_error_t *err);

/* ss_kube_pods.c */
/* A Pod item as the files are read: identity, classification inputs and
 * requested resources; the item is parsed again when added. */
int kube_pod_seen(kctx_t *k, const kitem_t *it, int32_t doc, size_t off, size_t len,
                  ss_error_t *err);
int kube_classify_pods(kctx_t *k, ss_error_t *err);
int kube_scan_resources(kctx_t *k, ss_error_t *err);
int kube_add_pods(kctx_t *k, ss_error_t *err);
/* Effective request of a pod (Kubernetes' PodRequests with sidecars). */
int kube_pod_requests(kctx_t *k, const kitem_t *it, krvec_t *r, ss_error_t *err);

#endif
