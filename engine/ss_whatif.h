/* ss_whatif: the plain engine side of `shardsched whatif` (issue 14): node
 * pools (the value of a pool label), copies of a pool's first node added to
 * a cluster in place (and taken out again), the volume lower bound, the
 * first-fit-decreasing estimate of how many new nodes of a pool the pods
 * left unplaced need, and Cluster Autoscaler's expanders (least-waste,
 * most-pods, priority) to choose among pools. No MPI, no HDF5: the command
 * (cli/cmd_whatif.c) schedules the copies with ss_run_schedule. docs/whatif.md
 * describes the semantics. */
#ifndef SS_WHATIF_H
#define SS_WHATIF_H

#include <stdint.h>

#include "ss_cluster.h"
#include "ss_error.h"

/* The pool labels looked for when --pool-label is not given, in order: the
 * first key that some node carries is the pool label. NULL-terminated. */
extern const char *const ss_whatif_pool_labels[];

/* The node pools of a cluster, in the order of their first node. */
typedef struct {
    int32_t label;  /* string id of the pool label key; -1: no node has one */
    int32_t n;      /* pools */
    int32_t *name;  /* [n] string ids of the pool names */
    int32_t *first; /* [n] the pool's first node (the template of its copies) */
    int32_t *nodes; /* [n] nodes in the pool */
} ss_pools_t;

/* Finds the pools of c by the label key `label` (NULL: the first of
 * ss_whatif_pool_labels that some node has). Returns 0 (a cluster without
 * the label has no pools), SS_ENOMEM. */
int ss_pools_find(const ss_cluster_t *c, const char *label, ss_pools_t *p, ss_error_t *err);
void ss_pools_free(ss_pools_t *p);
/* The index of the pool called name, or -1. */
int32_t ss_pools_index(const ss_pools_t *p, const ss_cluster_t *c, const char *name);

/* What ss_whatif_add did, so that ss_whatif_remove can undo it. */
typedef struct {
    int32_t n_nodes0, n_gpus0, n_mig0, n_pods0; /* the counts before */
    int32_t n_added;
    int32_t *added; /* [n_added] node rows of the copies, increasing */
} ss_whatif_undo_t;

/* Adds count[i] copies of pool i's first node to c (pools p, found on c as
 * it is now): the same capacity, topology, labels (the pool label
 * included), taints and GPU records (MIG layouts copied), not cordoned,
 * named "<pool>-whatif-<k>" (k = 1, 2, ... per pool; kubernetes.io/hostname
 * is the name). Each copy runs the DaemonSet pods (template flag
 * SS_TF_DAEMONSET) that run on its template node, as Cluster Autoscaler's
 * template nodes do: new running pods "<pod>-<copy>" appended to the pods
 * (same template, namespace, priority, GPU mask, start time), so their
 * requests take room on the copy. Each copy goes at the end of its
 * template's rack, as ss_cluster_sort_nodes would place it, so c stays
 * sorted; pod_node is renumbered. Fails (SS_EINVAL, nothing changed) when a
 * copy's name is a node of c already. Returns 0, SS_EINVAL, SS_ENOMEM. */
int ss_whatif_add(ss_cluster_t *c, const ss_pools_t *p, const int32_t *count, ss_whatif_undo_t *u,
                  ss_error_t *err);
/* Takes the copies and their DaemonSet pods out again: c is as before
 * ss_whatif_add (the strings interned for the names stay). u is freed. */
void ss_whatif_remove(ss_cluster_t *c, ss_whatif_undo_t *u);
void ss_whatif_undo_free(ss_whatif_undo_t *u);

/* The DaemonSet pods running on node (pod rows, increasing) into out[0 ..
 * max); returns how many there are (out may be NULL with max 0). */
int32_t ss_whatif_ds_pods(const ss_cluster_t *c, int32_t node, int32_t *out, int32_t max);

/* The probe cluster of --min-nodes' search: the
 * copies ss_whatif_add would add for count (same names, topology, GPUs,
 * DaemonSet pods), sorted by topology, and c's pods pods[0 .. n) pending,
 * rows 0 .. n in that order (same name, namespace, template, priority,
 * group, start). Nothing else: none of c's nodes nor their pods, so that
 * scheduling it costs what the new nodes cost. Its strings and pools
 * (templates, labels, taints, tolerations, terms, selectors, spreads, pod
 * terms, namespaces, PDBs, groups) are c's, borrowed: c must outlive it
 * and keep those pools unchanged; free it with ss_whatif_probe_free.
 * Returns 0 (*out set), SS_ENOMEM. */
int ss_whatif_probe(ss_cluster_t *c, const ss_pools_t *p, const int32_t *count, const int32_t *pods,
                    int32_t n, ss_cluster_t **out, ss_error_t *err);
void ss_whatif_probe_free(ss_cluster_t *s);

/* The estimate for one pool: first-fit decreasing of pods[0 .. n) (pod
 * rows of c, pending) into empty copies of node `tmpl` (a copy's room: the
 * node's allocatable less the requests, GPUs and MIG instances of the
 * DaemonSet pods running on tmpl, which every copy runs), pods by dominant
 * share (their largest request relative to that room), largest
 * first, ties by pod row. A pod fits a copy by its static filters (taints,
 * nodeSelector, required node affinity, GPU model; the copy is never
 * cordoned), pod slots, cpu, memory, extended resources, GPUs (whole,
 * fractional, MIG instances of its profile). A pod with a required
 * anti-affinity term on kubernetes.io/hostname gets a copy to itself among
 * its template's pods. At most max_nodes copies (< 0: no limit). */
typedef struct {
    int32_t nodes;            /* copies used */
    int32_t placed;           /* pods placed */
    int32_t lower_bound;      /* volume bound for the pods that fit an empty copy */
    int64_t cpu_req, mem_req; /* placed pods' requests */
    int64_t cpu_cap, mem_cap; /* the copies' capacity (nodes x one copy) */
    uint8_t *fits;            /* [n] when not NULL: 1 = pods[i] was placed */
} ss_ffd_t;

int ss_whatif_ffd(const ss_cluster_t *c, int32_t tmpl, const int32_t *pods, int32_t n,
                  int32_t max_nodes, ss_ffd_t *out, ss_error_t *err);

/* The volume lower bound of pods[0 .. n) on copies of node tmpl: for each
 * resource (cpu, memory, pod slots, GPU milli, each extended resource,
 * MIG instances of each profile) ceil(total request / one copy's room, the
 * DaemonSet pods of tmpl taken out),
 * the largest over resources. Pods that fit no empty copy are left out
 * (mask: NULL = all count). */
int32_t ss_whatif_lower_bound(const ss_cluster_t *c, int32_t tmpl, const int32_t *pods, int32_t n,
                              const uint8_t *mask);

/* Expanders, as Cluster Autoscaler names them. */
enum ss_expander { SS_EXP_LEAST_WASTE = 0, SS_EXP_MOST_PODS = 1, SS_EXP_PRIORITY = 2 };
extern const char *const ss_expander_names[]; /* "least-waste", "most-pods", "priority", NULL */

/* One candidate: a pool and its estimate for the pods still unplaced. */
typedef struct {
    int32_t pool;
    int32_t priority; /* priority expander's value (INT32_MIN: no pattern matched) */
    ss_ffd_t est;
} ss_whatif_option_t;

/* The option the expander picks among opt[0 .. n) (those with est.placed >
 * 0 only): least-waste: the least (unused cpu / cpu) + (unused memory /
 * memory) of the new nodes, then most pods; most-pods: the most pods, then
 * fewest nodes; priority: the highest priority (options matching no pattern
 * only when none matches), then least-waste. The priorities are
 * the command's (cli/cmd_whatif.c reads CA's priority-expander ConfigMap). Remaining ties: the
 * first. Returns the index, or -1 when no option places a pod. */
int32_t ss_whatif_expand(int expander, const ss_whatif_option_t *opt, int32_t n);

#endif
