/* ss_bind: turns placements into Kubernetes Binding objects and applies
 * them: written as a v1 List (or NDJSON) for `kubectl create -f`, or posted
 * to an API server (POST /api/v1/namespaces/NS/pods/NAME/binding, as
 * kube-scheduler's DefaultBinder does) with bounded concurrency, a QPS limit,
 * retries with exponential backoff and jitter, and a journal so that a rerun
 * after a crash or an outage never binds a pod twice and never loses one.
 * Before posting, GET /api must answer a Kubernetes APIVersions object, and
 * every reply is checked to be a Kubernetes object of the expected kind
 * (a Binding, or a Status that says why) before it is believed.
 *
 * Built for waves of up to ~1,000,000 bindings: a binding is three borrowed
 * strings; the HTTP loop keeps `concurrency` transfers in flight. */
#ifndef SS_BIND_H
#define SS_BIND_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ss_cluster.h"
#include "ss_placements.h"
#include "ss_progress.h"

typedef struct {
    const char *ns, *name, *node; /* borrowed from the cluster's strings */
    int32_t group;                /* pod group row, or -1 */
    const char *group_name;       /* borrowed; "" when group is -1 */
    int32_t group_need;           /* members this run must bind for the group to reach
                                     minMember (minMember - running members), or 0 */
} ss_binding_t;

/* Outcomes of a binding, counted in the summary. */
enum ss_bind_outcome {
    SS_BIND_PENDING = 0, /* not (yet) decided */
    SS_BIND_BOUND,       /* 201 with a Binding or a Success Status: final, journaled */
    SS_BIND_ALREADY,     /* 409: already bound to the same node: final, journaled */
    SS_BIND_GONE,        /* 404 NotFound Status: the pod no longer exists (retried next run) */
    SS_BIND_FAILED,      /* refused (401, 403, 4xx), 5xx after the last retry, or a reply
                            that is not a Kubernetes object (retried next run) */
    SS_BIND_JOURNALED,   /* skipped: the journal says it is bound */
    SS_BIND_ELSEWHERE,   /* 409: already bound to another node: final, journaled */
    SS_BIND_UNKNOWN,     /* the last attempt got no reply (timeout, dropped connection):
                            it may have been applied (retried next run) */
    SS_BIND_ABANDONED    /* request log: the unit's victims were not gone in time; final,
                            journaled: a rerun does not bind it (schedule again) */
};

typedef struct {
    int32_t total; /* bindings to post */
    int32_t bound, already, gone, journaled;
    int32_t failed;        /* not bound, for any reason but gone: includes unknown and
                              elsewhere (so that failed + gone counts every pod not bound
                              as placed); failed - unknown - elsewhere were refused or erred */
    int32_t unknown;       /* of failed: no reply to the last attempt; may have been applied */
    int32_t elsewhere;     /* of failed: bound to another node by someone else (409) */
    int32_t retries;       /* re-posts after 429, 5xx, resets, timeouts */
    int32_t held;          /* gang members not posted: their group has fewer than minMember
                              members placed or running */
    int32_t unplaced;      /* pending pods the placements leave unplaced */
    int32_t partial_gangs; /* groups with members bound and members failed */
    /* request log (preemption, ss_bind_log_*): requests are the log's lines */
    int32_t preemptors;     /* bindings that have victims */
    int32_t victims;        /* victims to remove */
    int32_t removed;        /* of victims: deleted or evicted (or already gone) */
    int32_t pdb_refused;    /* evictions refused for a disruption budget (final, reported) */
    int32_t stuck;          /* preemptors abandoned: a victim was not gone within the wait */
    int32_t requests_done;  /* log lines confirmed this run */
    int32_t requests_total; /* log lines */
    /* MIG re-layout (issue 15, ss_bind_mig.c): nodes whose nvidia.com/mig.config label
       the log sets before binding their pods */
    int32_t mig_nodes;
    int32_t mig_ready;   /* of mig_nodes: label, state success and allocatable seen */
    int32_t mig_already; /* of mig_ready: already so before this run's PATCH (none sent) */
    int32_t mig_failed;  /* of mig_nodes: state failed or not ready within --mig-wait */
    /* PodGroup status write-back (--write-status, ss_bind_godel.c): status patches of
       unplaceable gangs */
    int32_t pg_status;  /* patches in the plan */
    int32_t pg_written; /* of pg_status: confirmed (this run or journaled) */
    int32_t pg_missing; /* of pg_written: 404, no upstream PodGroup of that name */
    int32_t pg_failed;  /* of pg_status: refused or no reply (a rerun sends it again) */
    /* consolidate's waves (ss_bind_waves.c): evictions count as victims / removed */
    int32_t waves;        /* waves in the log */
    int32_t waves_done;   /* of waves: every line confirmed and the wait held */
    int32_t cordons;      /* nodes to cordon */
    int32_t cordoned;     /* of cordons: confirmed (this run or journaled) */
    int32_t wave_stopped; /* the wave the plan stopped at (a refusal, a failure, a wait
                             running out), or 0 */
    bool interrupted;     /* stopped by SIGINT/SIGTERM */
} ss_bind_summary_t;

/* The bindings for every placed pending pod of c, in pod order. A pod
 * group's placed members are included only if placed + running members
 * reach the group's minMember (the rule ss_verify and the coscheduling
 * plugin apply; an elastic gang with 53 of 64 placed and minMember 32 is
 * posted), else they are counted in s->held. *out (caller frees with free())
 * holds strings borrowed from c. */
int ss_bind_collect(const ss_cluster_t *c, const ss_placements_t *p, ss_binding_t **out, int32_t *n,
                    ss_bind_summary_t *s, ss_error_t *err);

/* Writes the bindings as a v1 List (or one Binding per line with ndjson) to
 * path atomically (tmp + rename), or to stdout when path is "-". */
int ss_bind_emit(const ss_binding_t *b, int32_t n, const char *path, bool ndjson, ss_error_t *err);

typedef struct {
    const char *server;            /* e.g. http://127.0.0.1:8001 (kubectl proxy) */
    const char *token_file;        /* bearer token, or NULL */
    const char *ca_file;           /* CA bundle for https, or NULL */
    bool insecure;                 /* skip TLS verification */
    int concurrency;               /* transfers in flight (default 16) */
    double qps;                    /* requests started per second, 0 = unlimited */
    const char *journal;           /* append-only record of confirmed bindings, or NULL */
    const char *placements;        /* the placements file's name, recorded in the journal's
                                      header for the messages; NULL = not recorded */
    double timeout_s;              /* per request (default 30) */
    int max_attempts;              /* per binding (default 8) */
    double max_backoff_s;          /* cap of the exponential backoff (default 10) */
    uint64_t seed;                 /* jitter RNG seed */
    FILE *log;                     /* progress and loud reports; NULL = silent */
    const ss_progress_t *progress; /* ticks per decided binding; NULL = none */
    /* request log (plans with victims) */
    bool preempt_evict;  /* remove victims with a policy/v1 Eviction, not a DELETE */
    double evict_wait_s; /* how long to wait for a unit's victims to be gone (default 60) */
    double poll_s;       /* GET interval while waiting (default 0.5) */
    double mig_wait_s;   /* how long to wait for a node's new MIG layout (default 300) */
    /* --binder godel (ss_bind_godel.c): the godel.bytedance.com/selected-scheduler value;
       NULL = Binding objects (--binder kube) */
    const char *godel_scheduler;
    /* --write-status VERSION: scheduling.k8s.io version of the PodGroup status patches
       (v1alpha2, v1alpha3, v1beta1); NULL = none */
    const char *podgroup_status;
} ss_bind_opts_t;

void ss_bind_opts_default(ss_bind_opts_t *o);

/* Posts the bindings. First GET URL/api must answer an APIVersions object
 * listing v1 (else nothing is posted). The journal (locked with flock for
 * the run; its header names the server and a fingerprint of the bindings,
 * and a journal of another run is refused) lists the pods confirmed bound:
 * they are skipped; every new confirmation (bound, already, elsewhere) is
 * appended and fsync'ed before the next is counted. Failed, gone and
 * unknown pods are not journaled: a rerun posts them again. Fills s (adds to
 * what collect counted) and reports partly bound gangs and pods bound
 * elsewhere loudly on o->log. Returns 0 when the run completed (even with
 * failed pods: see s), or a negative code when it could not start (bad URL,
 * bad token file, not a Kubernetes API, journal of another run or in use)
 * or had to stop (a journal write failed, replies are not Kubernetes
 * objects); when it stops, the summary so far is printed on o->log. */
/* 0 when url is an http or https URL with a host (e.g. http://127.0.0.1:8001),
 * else SS_EINVAL with a message naming it ("http://" has no host). */
int ss_bind_server_check(const char *url, ss_error_t *err);

int ss_bind_post(const ss_binding_t *b, int32_t n, const ss_bind_opts_t *o, ss_bind_summary_t *s,
                 ss_error_t *err);

/* One-paragraph summary of s to f. */
void ss_bind_summary_print(const ss_bind_summary_t *s, FILE *f);

/* Exit status of a posting run: 0 iff every binding was confirmed (bound,
 * already bound to its node, or journaled as such), nothing was interrupted
 * and no gang was left partly bound; else 1 (the same as gone || failed ||
 * interrupted || partial_gangs). */
int ss_bind_summary_status(const ss_bind_summary_t *s);

/* JSON text of one Binding (caller frees with free()), or NULL. */
char *ss_bind_json(const ss_binding_t *b);

/* ---- the ordered request log (ss_bind_log.c, ss_bind_replay.c) ----
 * A plan with preemption victims is not a Binding List: it is a list of
 * requests in order, one JSON object a line (docs/kubernetes.md, "Ordered
 * request log"). Lines of one unit run in order, each only after the one
 * before it was confirmed and its wait holds; units are independent. */
enum ss_bind_op {
    SS_REQ_NOMINATE = 0, /* PATCH the preemptor's status.nominatedNodeName */
    SS_REQ_DISRUPT,      /* PATCH the victim's status: condition DisruptionTarget */
    SS_REQ_DELETE,       /* DELETE the victim */
    SS_REQ_EVICT,        /* POST the victim's policy/v1 Eviction */
    SS_REQ_BIND,         /* POST the Binding */
    SS_REQ_MIGCONFIG,    /* PATCH the node's nvidia.com/mig.config label (issue 15) */
    SS_REQ_GODEL,        /* PATCH the pod's godel.bytedance.com annotations (--binder godel) */
    SS_REQ_PGSTATUS,     /* PATCH an upstream PodGroup's status (--write-status) */
    SS_REQ_CORDON,       /* PATCH the node's spec.unschedulable (consolidate's waves) */
    SS_REQ_COUNT
};

typedef struct {
    int32_t unit;    /* lines of one unit run in order */
    int op;          /* enum ss_bind_op */
    char *method;    /* PATCH, DELETE, POST */
    char *path;      /* from the API root, names escaped: /api/v1/namespaces/NS/pods/NAME/...
                        (mig-config: /api/v1/nodes/NAME) */
    char *ctype;     /* Content-Type of the body */
    char *body;      /* compact JSON text, or NULL (DELETE) */
    char *ns, *name; /* the pod the request is about (unescaped); mig-config: "", the node */
    char *node;      /* nominate, bind, mig-config: the node */
    int32_t n_gone;  /* wait before the unit's next line: these pod paths answer 404 */
    char **gone;
    double wait_s; /* ... within this many seconds, else the unit is abandoned */
    /* mig-config: the label's value (a mig-parted entry), and the wait after
       the PATCH: nvidia.com/mig.config.state=success and exactly these
       allocatable counts (sorted keys; absent counts as 0) within wait_s,
       else the unit's Bindings are not sent */
    char *entry;
    int32_t n_alloc;
    char **alloc_key; /* nvidia.com/gpu, nvidia.com/mig-<profile> ('+' as '.') */
    int64_t *alloc_val;
    /* consolidate's waves (ss_bind_waves.c): the line's wave (1..), 0 when
       the log is not a plan of waves; a wave's last eviction also waits,
       after its gone pods, until each list path (pods of a label selector
       in a namespace) has at least running_min[k] Running pods not being
       deleted, and each PodDisruptionBudget path has
       status.disruptionsAllowed >= budget_min[k] (what the next wave needs) */
    int32_t wave;
    int32_t n_running;
    char **running;
    int32_t *running_min;
    int32_t n_budgets;
    char **budget;
    int32_t *budget_min;
} ss_bind_line_t;

typedef struct {
    int32_t n, cap;
    ss_bind_line_t *line;
    int32_t n_units;
    int32_t n_victims; /* victims the log removes */
} ss_bind_log_t;

void ss_bind_log_free(ss_bind_log_t *l);

/* true when p lists preemption victims. */
bool ss_bind_has_victims(const ss_cluster_t *c, const ss_placements_t *p);

/* Refuses (SS_EINVAL, a message naming fname and the options) to remove
 * p's victims by Eviction (evict) when p was computed with
 * PodDisruptionBudgets best effort (p->pdb_hard 0: schedule --preempt-with
 * delete, or a file without the preempt_with attribute): the API server
 * enforces PDBs on evictions and would refuse some, leaving their
 * preemptors unbound. allow_soft (bind --allow-soft-pdb) accepts it. A plan
 * without victims, or removal by DELETE, always passes. Returns 0 or
 * SS_EINVAL. */
int ss_bind_check_pdb_mode(const ss_placements_t *p, const char *fname, bool evict, bool allow_soft,
                           ss_error_t *err);

/* true when the plan must run as a request log: it has victims, or MIG
 * re-layouts (p->n_relayout) of nodes with pods to bind. b, n: what
 * ss_bind_collect returned. */
bool ss_bind_needs_log(const ss_cluster_t *c, const ss_placements_t *p, const ss_binding_t *b,
                       int32_t n);

/* The plan as a request log, in commit order (p->seq, else row order): for
 * each preemptor: nominate; per victim disrupt + delete (or evict with
 * o->preempt_evict), the last removal waiting (o->evict_wait_s) until every
 * victim of the preemptor is gone; then its Binding. Every Binding onto a
 * node that has victims is in that node's unit, after the removals that
 * come before it in commit order; other Bindings are one-line units.
 * A node with MIG re-layouts (p->relayout_gpu) and a pod to bind that needs
 * them (a MIG pod, or a whole-GPU pod on a re-laid-out GPU) gets a unit
 * that starts with a mig-config line (set nvidia.com/mig.config, wait for
 * the MIG manager's success and the new allocatable, o->mig_wait_s), and
 * every Binding onto that node follows it in that unit.
 * b, n: what ss_bind_collect returned (only those pods are bound). */
int ss_bind_log_build(const ss_cluster_t *c, const ss_placements_t *p, const ss_binding_t *b,
                      int32_t n, const ss_bind_opts_t *o, ss_bind_log_t *l, ss_error_t *err);

/* Writes l as JSON Lines to path atomically, or to stdout when path is "-". */
int ss_bind_log_write(const ss_bind_log_t *l, const char *path, ss_error_t *err);

/* Reads a log written by ss_bind_log_write; every line is checked (method,
 * op and path agree; units in order) and an error names the file and line. */
int ss_bind_log_read(const char *path, ss_bind_log_t *l, ss_error_t *err);

/* Executes l against o->server with o's retry, journal (one record per
 * confirmed line; a rerun resumes each unit where it stopped) and exactly-
 * once guarantees. Same return convention as ss_bind_post; s counts the
 * Bindings (total, bound, ...) and the preemption fields. */
int ss_bind_log_run(const ss_bind_log_t *l, const ss_bind_opts_t *o, ss_bind_summary_t *s,
                    ss_error_t *err);

/* ---- Gödel binder and PodGroup status write-back (ss_bind_godel.c) ----
 * The plan of a bind run: with o->godel_scheduler, one godel line (a merge
 * patch of the pod's godel.bytedance.com annotations) per binding of b, in
 * commit order; else the request log of ss_bind_log_build when the plan
 * needs one (*use_log) or when status patches are asked for. With
 * o->podgroup_status, one podgroup-status line per gang the placements
 * leave below minMember is appended. *use_log tells whether l is the plan
 * (else the Bindings b are). */
int ss_bind_plan(const ss_cluster_t *c, const ss_placements_t *p, const ss_binding_t *b, int32_t n,
                 const ss_bind_opts_t *o, ss_bind_log_t *l, bool *use_log, ss_error_t *err);

/* The merge patch of a godel line (caller frees with free()): pod-state
 * assumed, selected-scheduler sched, and assumed-node node; or, with
 * n_victims > 0, nominated-node {"node": node, "victims": [{"name",
 * "namespace"}]} (the other of the two set to null). */
char *ss_bind_godel_patch(const char *sched, const char *node, const char *const *victim_ns,
                          const char *const *victim_name, int32_t n_victims);

/* The condition type of scheduling.k8s.io/version PodGroups
 * (PodGroupScheduled for v1alpha2, PodGroupInitiallyScheduled for v1alpha3
 * and v1beta1), or NULL for another version. */
const char *ss_bind_podgroup_condition(const char *version);

#endif
