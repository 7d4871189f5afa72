/* ss_bind: turns placements into Kubernetes Binding objects and applies
 * them: written as a v1 List (or NDJSON) for `kubectl create -f`, or posted
 * to an API server (POST /api/v1/namespaces/NS/pods/NAME/binding, as
 * kube-scheduler's DefaultBinder does) with bounded concurrency, a QPS limit,
 * retries with exponential backoff and jitter, and a journal so that a rerun
 * after a crash never binds a pod twice and never loses one.
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

typedef struct {
    const char *ns, *name, *node; /* borrowed from the cluster's strings */
    int32_t group;                /* pod group row, or -1 */
    const char *group_name;       /* borrowed; "" when group is -1 */
} ss_binding_t;

/* Outcomes of a binding, counted in the summary. */
enum ss_bind_outcome {
    SS_BIND_PENDING = 0, /* not (yet) decided */
    SS_BIND_BOUND,       /* 201 */
    SS_BIND_ALREADY,     /* 409: the pod was bound already */
    SS_BIND_GONE,        /* 404: the pod no longer exists */
    SS_BIND_FAILED,      /* other 4xx, or retries exhausted */
    SS_BIND_JOURNALED    /* skipped: the journal says it was done */
};

typedef struct {
    int32_t total; /* bindings to post */
    int32_t bound, already, gone, failed, journaled;
    int32_t retries;       /* re-posts after 429, 5xx, resets, timeouts */
    int32_t held;          /* gang members not posted: a member has no placement */
    int32_t unplaced;      /* pending pods the placements leave unplaced */
    int32_t partial_gangs; /* groups with members bound and members failed */
    bool interrupted;      /* stopped by SIGINT/SIGTERM */
} ss_bind_summary_t;

/* The bindings for every placed pending pod of c, in pod order. A pod
 * group's pending members are included only if every one of them is placed
 * (else they are counted in s->held). *out (caller frees with free()) holds
 * strings borrowed from c. */
int ss_bind_collect(const ss_cluster_t *c, const ss_placements_t *p, ss_binding_t **out, int32_t *n,
                    ss_bind_summary_t *s, ss_error_t *err);

/* Writes the bindings as a v1 List (or one Binding per line with ndjson) to
 * path atomically (tmp + rename), or to stdout when path is "-". */
int ss_bind_emit(const ss_binding_t *b, int32_t n, const char *path, bool ndjson, ss_error_t *err);

typedef struct {
    const char *server;     /* e.g. http://127.0.0.1:8001 (kubectl proxy) */
    const char *token_file; /* bearer token, or NULL */
    const char *ca_file;    /* CA bundle for https, or NULL */
    bool insecure;          /* skip TLS verification */
    int concurrency;        /* transfers in flight (default 16) */
    double qps;             /* requests started per second, 0 = unlimited */
    const char *journal;    /* append-only record of decided bindings, or NULL */
    double timeout_s;       /* per request (default 30) */
    int max_attempts;       /* per binding (default 8) */
    double max_backoff_s;   /* cap of the exponential backoff (default 10) */
    uint64_t seed;          /* jitter RNG seed */
    FILE *log;              /* progress and loud reports; NULL = silent */
} ss_bind_opts_t;

void ss_bind_opts_default(ss_bind_opts_t *o);

/* Posts the bindings. Pods the journal lists are skipped; every decided
 * binding is appended to the journal and fsync'ed before the next is
 * counted. Fills s (adds to what collect counted) and reports partly bound
 * gangs loudly on o->log. Returns 0 when the run completed (even with failed
 * pods: see s), or a negative code for setup errors (bad URL, unreadable
 * token, journal not writable). */
int ss_bind_post(const ss_binding_t *b, int32_t n, const ss_bind_opts_t *o, ss_bind_summary_t *s,
                 ss_error_t *err);

/* One-paragraph summary of s to f. */
void ss_bind_summary_print(const ss_bind_summary_t *s, FILE *f);

/* JSON text of one Binding (caller frees with free()), or NULL. */
char *ss_bind_json(const ss_binding_t *b);

#endif
