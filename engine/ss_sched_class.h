/* ss_sched_class: node classes and per-template static verdicts, shared by
 * the fast engine's files (internal to engine/). Nodes whose labels, taints,
 * cordon flag and GPU models are identical get the same verdict from every
 * static filter and the same static score, so those are computed once per
 * (template, class) instead of once per (pod, node). */
#ifndef SS_SCHED_CLASS_H
#define SS_SCHED_CLASS_H

#include "ss_cluster.h"
#include "ss_match.h"

typedef struct {
    int32_t n_classes;
    int32_t *node_class;            /* [n_nodes] */
    int32_t *rep;                   /* [n_classes] a representative node */
    int32_t max_untolerated_prefer; /* largest PreferNoSchedule taint count on a node */
    int32_t hostname_key;           /* string id of kubernetes.io/hostname, or -1 */
} ss_classes_t;

/* Verdict of the static filters and the static score for one template. */
typedef struct {
    int node_specific; /* template refers to node names: evaluate per node */
    uint8_t *reason;   /* [n_classes] SS_REASON_NONE or the failing filter */
    int64_t *bonus;    /* [n_classes] ss_policy_static_score */
} ss_verdict_t;

int ss_classes_build(const ss_cluster_t *c, ss_classes_t *cl, ss_error_t *err);
void ss_classes_free(ss_classes_t *cl);

int ss_verdict_alloc(const ss_classes_t *cl, ss_verdict_t *v);
void ss_verdict_free(ss_verdict_t *v);
/* Fills v for template t (all classes, or marks it node_specific). */
void ss_verdict_compute(const ss_match_ctx_t *x, const ss_cluster_t *c, const ss_classes_t *cl,
                        int32_t t, ss_verdict_t *v);
/* Static reason and bonus of template t on one node, straight from the
 * match functions (used for node-specific templates and by the reference). */
int ss_static_eval(const ss_match_ctx_t *x, const ss_cluster_t *c, int32_t max_untolerated,
                   int32_t t, int32_t node, int64_t *bonus);

#endif

/* Score signatures: two templates with the same requests, allowed GPU models
 * and verdict (reason and bonus per class) get the same feasibility and the
 * same score on every node, so the engine can reuse one's node heaps for the
 * other. Templates that name nodes get a signature of their own. */
typedef struct ss_sigtab ss_sigtab_t;
ss_sigtab_t *ss_sigtab_create(int32_t n_classes);
void ss_sigtab_destroy(ss_sigtab_t *st); /* accepts NULL */
/* Id of template t's signature (v computed for t), added if new; -1 if out
 * of memory. */
int32_t ss_sigtab_id(ss_sigtab_t *st, const ss_cluster_t *c, int32_t t, const ss_verdict_t *v);
/* The same with the verdict's hash (ss_sigtab_verdict_hash) computed once
 * by the caller for the many templates that share one verdict; NULL:
 * computed here. */
int32_t ss_sigtab_id_hashed(ss_sigtab_t *st, const ss_cluster_t *c, int32_t t,
                            const ss_verdict_t *v, const uint64_t *vhash);
uint64_t ss_sigtab_verdict_hash(const ss_verdict_t *v, int32_t k);

/* Verdicts depend only on a template's constraints (selector, affinity,
 * tolerations, allowed models and GPU count), which many templates share
 * (most have none): a cache keyed by those constraints computes each verdict
 * once. */
typedef struct ss_vcache ss_vcache_t;
ss_vcache_t *ss_vcache_create(void);
void ss_vcache_destroy(ss_vcache_t *vc); /* accepts NULL */
/* Fills v for template t, from the cache or computed (and cached). Returns
 * the entry's id (>= 0) or SS_ENOMEM. */
int ss_vcache_get(ss_vcache_t *vc, const ss_match_ctx_t *x, const ss_cluster_t *c,
                  const ss_classes_t *cl, int32_t t, ss_verdict_t *v);
/* Points v at entry id's arrays (read-only; valid until the next
 * ss_vcache_get adds an entry). Safe from several threads at once. */
/* The split form of ss_vcache_get, so several processes can share the
 * work: reserve gives template t's entry id (added, verdict not computed,
 * if new), compute fills an entry's verdict; a verdict computed elsewhere
 * is written through ss_vcache_view's arrays and the node-specific flag. */
int ss_vcache_reserve(ss_vcache_t *vc, const ss_cluster_t *c, const ss_classes_t *cl, int32_t t);
void ss_vcache_compute(ss_vcache_t *vc, const ss_match_ctx_t *x, const ss_cluster_t *c,
                       const ss_classes_t *cl, int32_t id);
void ss_vcache_set_node_specific(ss_vcache_t *vc, int32_t id, int node_specific);
/* Entries in the cache (ids are 0 .. count-1). */
int32_t ss_vcache_count(const ss_vcache_t *vc);
void ss_vcache_view(const ss_vcache_t *vc, int32_t id, ss_verdict_t *v);
