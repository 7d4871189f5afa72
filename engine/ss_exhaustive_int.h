/* ss_exhaustive_int: what the naive reference's files share (internal to
 * ss_exhaustive*.c). The reference keeps, for every pod of the snapshot, the
 * node it is on now (running pods minus victims, plus pods placed in this
 * run) and recounts every topology domain from that list for each pod it
 * places: no incremental counts, no caches, so that it can check the fast
 * engine's. */
#ifndef SS_EXHAUSTIVE_INT_H
#define SS_EXHAUSTIVE_INT_H

#include "ss_exhaustive.h"
#include "ss_match.h"

/* One counted rule of the pod being placed: per node, the number of pods
 * matching it in the node's domain of `key` (-1: the node has no such
 * label). */
enum ss_exh_rule_kind {
    EXH_SPREAD_HARD,   /* DoNotSchedule constraint (eligible nodes only) */
    EXH_SPREAD_SOFT,   /* ScheduleAnyway constraint (explicit or default) */
    EXH_AFFINITY,      /* required pod affinity term */
    EXH_ANTI_AFFINITY, /* required pod anti-affinity term */
    EXH_PREF_AFFINITY, /* preferred affinity term (+weight) */
    EXH_PREF_ANTI,     /* preferred anti-affinity term (-weight) */
};

typedef struct {
    int kind;                  /* ss_exh_rule_kind */
    int32_t key;               /* topology key (string id) */
    const ss_spread_t *spread; /* spread kinds: the constraint (NULL: a default one) */
    int32_t max_skew;          /* hard spread */
    int32_t self;              /* hard spread: 1 if the pod matches its own selector */
    int32_t min;               /* hard spread: min over eligible domains (minDomains applied) */
    const ss_podterm_t *term;  /* pod term kinds */
    int32_t weight;            /* preferred terms */
    int32_t *cnt;              /* [n_nodes] */
} ss_exh_rule_t;

/* A symmetric term: a term of pods present on nodes that matches the pod
 * being placed, identified by (pterm index, owner namespace); the domains
 * holding at least one such owner are (key, value) pairs. */
typedef struct {
    int32_t pterm, ns, key, value;
} ss_exh_sym_t;

/* Everything the rules need for one pod, computed from the current state. */
typedef struct {
    int32_t pod;
    int n_rules, cap_rules;
    ss_exh_rule_t *rules;
    int affinity_waived; /* the first-pod-of-a-group exception holds */
    ss_exh_sym_t *anti;  /* existing pods' required anti-affinity domains */
    int32_t n_anti, cap_anti;
    ss_exh_sym_t *sym; /* existing pods' preferred / required affinity, sorted */
    int32_t n_sym, cap_sym;
    int32_t locality_zone; /* zone value with the most pods of the workload, -1 */
    int has_rules;         /* anything above is non-empty */
} ss_exh_prep_t;

#define SS_EXH_MAX_KEYS 64
#define SS_EXH_HOST_KEY (-2) /* kubernetes.io/hostname when the cluster never interned it */

typedef struct {
    const ss_cluster_t *c;
    const ss_policy_t *policy;
    ss_policy_ctx_t *pctx;
    ss_state_t *st;
    ss_match_ctx_t mx;
    int32_t max_untolerated;
    int32_t lo, hi;      /* nodes a pod may use (a topology domain, or all) */
    ss_exh_opts_t o;     /* modes resolved (never -1) */
    int32_t *where;      /* [n_pods] node a pod is on now, -1 */
    int32_t *row_of_pod; /* [n_pods] placements row, -1 for running pods */
    int32_t next_seq;
    int32_t *scratch;  /* [n_strings] zeroed counts by label value */
    uint8_t *elig;     /* [n_nodes] scratch */
    int32_t *termpods; /* pods whose template has pod terms */
    int32_t n_termpods;
    int32_t *node_reason; /* [n_nodes] the last pod's per-node refusal */
    int32_t *pdb_left;    /* [n_pdbs] budget left in this run */
    ss_placements_t *out;
    int rc; /* first error (out of memory) */
    /* every node's value of each topology key the rules use (-1: none) */
    int32_t n_keys;
    int32_t keys[SS_EXH_MAX_KEYS];
    int32_t *keyvals[SS_EXH_MAX_KEYS];
    /* pods grouped by (workload, namespace): wl_pods[wl_first[p] ..
     * + wl_count[p]) are the pods of p's workload (default spreading,
     * locality) */
    int32_t *wl_pods, *wl_first, *wl_count;
    /* the snapshot's running pods by node: run_pods[run_first[n] ..
     * run_first[n+1]) (the only possible victims) */
    int32_t *run_pods, *run_first;
} ss_exh_t;

/* Fills r's key values and workload groups. Returns 0 or SS_ENOMEM. */
int ss_exh_index(ss_exh_t *r);
void ss_exh_index_free(ss_exh_t *r);

/* Builds p for pod `pod` from r's current state. Returns 0 or SS_ENOMEM. */
int ss_exh_prep(ss_exh_t *r, int32_t pod, ss_exh_prep_t *p);
void ss_exh_prep_free(ss_exh_prep_t *p);
/* The rule filters on node: SS_REASON_NONE or the first failing reason. */
int ss_exh_rule_filter(const ss_exh_t *r, const ss_exh_prep_t *p, int32_t node);
/* The rule score terms on node (spread, pod affinity, locality). */
int64_t ss_exh_rule_score(const ss_exh_t *r, const ss_exh_prep_t *p, int32_t node);

/* Every filter (static, resources, rules) of pod on node. */
int ss_exh_filter(const ss_exh_t *r, const ss_exh_prep_t *p, int32_t pod, int32_t node);

/* Commits pod on node (state, where, out row, seq) / takes it back. */
void ss_exh_commit(ss_exh_t *r, int32_t pod, int32_t node);
void ss_exh_uncommit(ss_exh_t *r, int32_t pod);

/* Preemption for pod (which fits no node; r->node_reason holds why, per
 * node): chooses a node and victims as DefaultPreemption does, removes the
 * victims (recorded in r->out) and places the pod. Returns 1 when placed, 0
 * when no candidate, or SS_ENOMEM. */
int ss_exh_preempt(ss_exh_t *r, int32_t pod);
/* Puts back the victims recorded after index `keep` of r->out (a gang that
 * did not make it). */
void ss_exh_restore_victims(ss_exh_t *r, int32_t keep);

#endif
