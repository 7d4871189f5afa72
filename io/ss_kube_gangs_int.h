/* ss_kube_gangs_int: the gang table shared by the importer's gang files
 * (ss_kube_gangs.c: PodGroup/Workload dialects and pod references;
 * ss_kube_subgroups.c: sub-groups and composite groups; ss_kube_topo.c:
 * Topology, ResourceFlavor and HyperNode objects). Not a public API. */
#ifndef SS_KUBE_GANGS_INT_H
#define SS_KUBE_GANGS_INT_H

#include "ss_kube_internal.h"

/* Dialect of a PodGroup object, by its apiVersion's group. */
enum { KD_COSCHED, KD_VOLCANO, KD_KAI, KD_UPSTREAM };
/* What an entry of the key table is. */
enum {
    KG_PODGROUP,  /* "P": a PodGroup object */
    KG_WORKLOAD,  /* "W": a Workload object */
    KG_WGANG,     /* "w": a Workload pod group (and replica key) */
    KG_KUEUE,     /* "K": a Kueue plain pod group */
    KG_COMPOSITE, /* "C": an upstream CompositePodGroup */
    KG_SUB,       /* "S": a sub-group (KAI subGroups, Volcano tasks and
                   * subGroupPolicy instances, Kueue slices) */
};

/* How a group's pods are split into its sub-groups. */
enum {
    KS_NONE,
    KS_KAI,    /* label kai.scheduler/subgroup-name names a leaf sub-group */
    KS_TASK,   /* annotation volcano.sh/task-spec names a minTaskMember task */
    KS_POLICY, /* Volcano subGroupPolicy: label selector, matchLabelKeys */
    KS_SLICE,  /* Kueue podset-slice-size: slices of the members by index */
};

typedef struct {
    int32_t item; /* k->pgs index (objects), -1 */
    int8_t kind, dialect, split;
    int32_t min;            /* 0: basic policy, no gang */
    int32_t level, mode;    /* level: an index into the importer's level keys;
                             * mode -1: no constraint on the object (members' annotations) */
    int32_t key_sid;        /* the topology key (cluster string id), 0: none */
    const char *topo_field; /* and where it was (a literal) */
    uint32_t rules;         /* unsupported bits for pending members */
    int warn;               /* the warning for rules, -1 */
    bool has_prio;
    int32_t prio;
    const char *path; /* where the group was seen first (messages) */
    int32_t row, members;
    int32_t parent;      /* entry id of the enclosing group, 0: top level */
    int32_t child, next; /* static sub-groups (from objects): first, next sibling (ids) */
    int32_t nchild;      /* static sub-groups */
    int32_t min_groups;  /* sub-groups required (KAI minSubGroup, composite
                          * minGroupCount), 0: all */
    bool resolved;       /* level made (resolve_level) */
    int32_t slice_size, slices_seen; /* KS_SLICE: pods per slice; members without an index */
    int8_t slice_indexed;            /* KS_SLICE: -1 unknown, 0 by order, 1 by index label */
    int32_t slice_key_sid;           /* KS_SLICE: the slice level's key */
} kgang_t;

/* Keys: a one-letter tag (KG_* above), \x01, "ns/name"; sub-groups add
 * "\x01" and their own name. What follows the tag is the group's name in
 * the cluster (\x01 shown as '/'). */
struct kgangs {
    ss_strtab_t *keys;
    kgang_t *v; /* per key id */
    int32_t cap;
};

/* The entry of key (added when add is true and it is new): its id, 0 when
 * absent, -1 out of memory. *fresh says whether it was added. */
int32_t kube_gang_entry(kgangs_t *g, const char *key, bool add, bool *fresh);

/* Adds entry child as a static sub-group of parent (last of its list). */
void kube_gang_adopt(kgangs_t *g, int32_t parent, int32_t child);

/* Topology constraints of an object or sub-group at where (base: the
 * object holding networkTopology / topologyConstraint). */
int kube_volcano_topology(kctx_t *k, const kitem_t *it, json_t *base, const char *where, kgang_t *e,
                          ss_error_t *err);
int kube_kai_topology(kctx_t *k, const kitem_t *it, json_t *base, const char *where, kgang_t *e,
                      ss_error_t *err);
/* An upstream schedulingConstraints.topology (at most one) at where. */
int kube_upstream_topology(kctx_t *k, const kitem_t *it, kgang_t *e, ss_error_t *err);
/* "ns/name" key of an object with tag (name: the object's when NULL). */
void kube_gang_key(char *buf, size_t n, char tag, json_t *obj, const char *name);

/* A topology constraint of e on the node label key at mode (field: where it
 * was written, for messages). */
int kube_gang_set_topology(kctx_t *k, kgang_t *e, const char *key, int mode, const char *field,
                           ss_error_t *err);

/* ss_kube_subgroups.c */
/* A label selector {matchLabels, matchExpressions (In, NotIn, Exists,
 * DoesNotExist)} at where: checked; and whether labels (an object) match
 * a checked one. */
int kube_check_selector(const kitem_t *it, json_t *sel, const char *where, ss_error_t *err);
bool kube_selector_matches(json_t *sel, json_t *labels);
/* KAI spec.subGroups, Volcano minTaskMember / subGroupPolicy of PodGroup
 * entry id (its object it). */
int kube_sub_kai(kctx_t *k, const kitem_t *it, int32_t id, ss_error_t *err);
int kube_sub_volcano(kctx_t *k, const kitem_t *it, int32_t id, ss_error_t *err);
/* A CompositePodGroup object (k->pgs index i). */
int kube_sub_composite(kctx_t *k, const kitem_t *it, int32_t i, ss_error_t *err);
/* After every object is indexed: parents named by PodGroups and composites
 * resolved, composite minimums computed. */
int kube_sub_link(kctx_t *k, ss_error_t *err);
/* The innermost group of a pod whose top-level group is entry id: id or one
 * of its sub-group entries (*out). */
int kube_sub_pod(kctx_t *k, const kitem_t *it, int32_t id, int32_t *out, ss_error_t *err);

/* ss_kube_topo.c */
/* A Topology (Kueue or KAI), ResourceFlavor or HyperNode object: true when
 * it is one (read into the level keys / the HyperNode tree). */
bool kube_topo_kind(const char *kind);
int kube_topo_object(kctx_t *k, const kitem_t *it, ss_error_t *err);
/* After every object is read: the HyperNode tree (nesting checked). */
int kube_topo_finish(kctx_t *k, ss_error_t *err);
/* The synthetic label key of Volcano's HyperNode tier (highestTierAllowed
 * tier, or highestTierName name when not NULL) as a cluster string id; 0
 * when no HyperNode has that tier. *nested false when the tree does not
 * nest (then *hn names the first HyperNode at fault). */
int32_t kube_topo_tier_key(kctx_t *k, int64_t tier, const char *name, bool *nested, const char **hn,
                           ss_error_t *err);
/* Whether any node carries label key (a cluster string id); call after the
 * nodes are added. */
bool kube_topo_carried(kctx_t *k, int32_t key);
/* Whether key is a level of a KAI Topology object named name (true when
 * no such object is in the input). */
bool kube_topo_kai_level(const kctx_t *k, const char *name, const char *key);
/* Registers the Kueue and KAI Topology objects' levels that nodes carry
 * (kube_level), once; after the nodes are added. */
int kube_topo_levels(kctx_t *k, ss_error_t *err);
void kube_topo_free(kctx_t *k);

#endif
