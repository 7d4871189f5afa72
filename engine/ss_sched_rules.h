/* ss_sched_rules: the fast engine's inter-pod rules (topology spread, pod
 * (anti-)affinity, default spreading, locality), internal to engine/.
 * docs/kubernetes.md ("Inter-pod rules") is the contract; docs/architecture.md
 * says how the engine keeps it across partitions.
 *
 * Pods are grouped in pairs (template, namespace): every rule depends on a
 * pod only through its pair. A counter counts pods per topology domain (the
 * value of one node label): pods a selector matches, pods of one workload,
 * or pods of one pair (for the symmetric rules). A view is what one placer
 * sees: the counts of the running pods (shared, read-only) plus its own
 * changes.
 *
 * Pairs are of three kinds:
 *   - PLAIN: no rule of their own, and no other pod's rule filters or scores
 *     them: the heap engine places them; their placements are still counted.
 *   - LOCAL: every hard rule is on a key whose domains lie inside one
 *     partition (hostname, rack, ...): a partition places them by scanning
 *     its nodes, and the counts it sees for those domains are exact.
 *   - WIDE: a hard rule on a key whose domains cross partitions (a zone
 *     spread, a zone anti-affinity), or a required pod affinity: placed after
 *     the partitions' rounds, in queue order, over the whole cluster with
 *     exact counts, identically on every process. */
#ifndef SS_SCHED_RULES_H
#define SS_SCHED_RULES_H

#include "ss_sched_int.h"

enum { SS_PAIR_PLAIN = 0, SS_PAIR_LOCAL = 1, SS_PAIR_WIDE = 2 };

typedef struct ss_rules ss_rules_t;
typedef struct ss_rview ss_rview_t;

/* Builds the rules of s's cluster (every process the same). default_spreading
 * / locality: the modes to use (the snapshot's, or overridden). Returns NULL
 * with err set; *none = 1 when the cluster has no rule at all (every pair is
 * PLAIN: only preemption uses the counts). */
ss_rules_t *ss_rules_create(const ss_sched_t *s, int default_spreading, int locality, int *none,
                            ss_error_t *err);
void ss_rules_destroy(ss_rules_t *r); /* accepts NULL */

int ss_rules_pair_kind(const ss_rules_t *r, int32_t pod);
/* The pair of a pod (pods with the same pair have the same rules). */
int32_t ss_rules_pair_of(const ss_rules_t *r, int32_t pod);

/* A view over the base counts (running pods). */
ss_rview_t *ss_rview_create(const ss_rules_t *r);
void ss_rview_destroy(ss_rview_t *v);
/* Counts pod on node (sign +1) or removes it (-1). Returns 0 or SS_ENOMEM. */
int ss_rview_add(ss_rview_t *v, int32_t pod, int32_t node, int sign);

/* Places pods[0..n) (one pair, queue order) one by one on the best node of
 * [w->lo, w->hi) with every rule, state st; commits through the shards when
 * shards is 1 (the partition's own state), else only into st. seq: the next
 * commit number, incremented per placement, written to out->seq. *placed:
 * how many landed before the first that did not (the rest keep reasons). */
int ss_rules_place(ss_sched_t *s, ss_work_t *w, ss_rview_t *v, ss_state_t *st, int shards,
                   const int32_t *pods, int32_t n, ss_placements_t *out, int32_t *seq,
                   int32_t *placed);

/* The deferred pass (ss_sched_spill.c) places a run of one pair pod by pod
 * in the partitions of its rotation, each by a walk kept for the run. */
typedef struct ss_rwalks ss_rwalks_t;
ss_rwalks_t *ss_rwalks_create(int32_t n_parts); /* NULL: out of memory */
void ss_rwalks_reset(ss_rwalks_t *k);           /* a new run: the walks go */
void ss_rwalks_destroy(ss_rwalks_t *k);         /* accepts NULL */
/* The best node for pod (not of a gang) of [w->lo, w->hi), partition
 * part's nodes, with every rule and state st (the whole cluster's): *node
 * and *score, or *node -1 when none passes (no reason kept); *empty: no
 * node of the partition passes the static filters and has room. */
int ss_rules_walk_best(ss_sched_t *s, ss_work_t *w, ss_rview_t *v, ss_state_t *st, ss_rwalks_t *k,
                       int32_t part, int32_t pod, int32_t *node, int64_t *score, int *empty);
/* Puts pod on node (of partition part) into st, the counts and out. */
int ss_rules_walk_commit(ss_sched_t *s, ss_work_t *w, ss_rview_t *v, ss_state_t *st, ss_rwalks_t *k,
                         int32_t part, int32_t pod, int32_t node, ss_placements_t *out,
                         int32_t *seq);
/* Something else was placed on node (of partition part) during the run. */
void ss_rwalks_touch(ss_sched_t *s, ss_work_t *w, ss_rview_t *v, ss_state_t *st, ss_rwalks_t *k,
                     int32_t part, int32_t node);
/* Zones: indices 0 .. n_zones-1, n_zones for nodes without the zone label. */
int32_t ss_rules_n_zones(const ss_rview_t *v);
int32_t ss_rules_zone_of(const ss_rview_t *v, int32_t node);
/* ok[0 .. n_zones]: 1 where pod's hard rules on the zone key allow the zone
 * now (other keys are checked per node). 0 or SS_ENOMEM. */
int ss_rules_zones_allowed(const ss_rview_t *v, int32_t pod, uint8_t *ok);
/* True iff pod's pair has a rule of its own or one of another pod applies
 * to it (its filters or score depend on the counts). */
bool ss_rules_has_rules(const ss_rview_t *v, int32_t pod);
/* True iff one of pod's rules filters nodes (a DoNotSchedule spread, a
 * required (anti-)affinity term, or an existing pod's required
 * anti-affinity): without one, only its score depends on the counts. */
bool ss_rules_has_hard_rules(const ss_rview_t *v, int32_t pod);
/* The counters (0 .. ss_rules_n_counters-1) pod's filtering rules read:
 * mark[k] = value for each. ss_rules_counted: whether pod q is counted by a
 * marked counter (removing it would change what those rules see). */
int32_t ss_rules_n_counters(const ss_rview_t *v);
void ss_rules_mark_hard(const ss_rview_t *v, int32_t pod, uint8_t *mark, uint8_t value);
bool ss_rules_counted(const ss_rview_t *v, int32_t q, const uint8_t *mark);
/* pod's filtering rules on a node with the counts as they are now (the
 * per-pod work done once: valid while the counts stay). */
typedef struct ss_rprep ss_rprep_t;
ss_rprep_t *ss_rules_prep_create(const ss_rview_t *v, int32_t pod); /* NULL: out of memory */
void ss_rules_prep_destroy(ss_rprep_t *x);                          /* accepts NULL */
int ss_rules_prep_filter(const ss_rview_t *v, const ss_rprep_t *x, int32_t node);
/* True iff pod has a DoNotSchedule spread constraint (a node without its
 * key is then no preemption candidate). */
bool ss_rules_has_hard_spread(const ss_rview_t *v, int32_t pod);
/* True iff node lacks the key of one of pod's DoNotSchedule constraints. */
bool ss_rules_missing_spread_key(const ss_rview_t *v, int32_t pod, int32_t node);

/* Every filter of pod on node in state st and view v: SS_REASON_NONE, a
 * reason, or SS_ENOMEM. */
int ss_rules_check(ss_sched_t *s, ss_work_t *w, const ss_rview_t *v, const ss_state_t *st,
                   int32_t pod, int32_t node);

/* Preemption (ss_sched_preempt.c), after every other placement: units
 * (queue order) with pods still unplaced try again, then by preempting
 * lower-priority running pods as kube-scheduler's DefaultPreemption does
 * (docs/kubernetes.md). st / v: the whole cluster's state and counts with
 * every placement so far; key2 / seq2: commit keys of rows placed here. */
int ss_preempt_run(ss_sched_t *s, ss_rview_t *v, ss_state_t *st, const int32_t *order,
                   const ss_unit_t *units, int32_t n_units, ss_placements_t *out, int64_t *key2,
                   int32_t *seq2, ss_error_t *err);

#endif
