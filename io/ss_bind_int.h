/* ss_bind_int: what the bind files share and nothing else needs: name
 * escaping, the journal (header, lock, load, append) and the check that a
 * reply is a Kubernetes object of the expected kind. */
#ifndef SS_BIND_INT_H
#define SS_BIND_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ss_bind.h"

/* Longest escaped namespace, name or node bind handles (Kubernetes names are
 * at most 253 bytes; escaped, 3 bytes each). */
#define SS_BIND_FIELD_MAX 800

/* Percent-escapes s into out[cap]: every byte but A-Z a-z 0-9 - . _ ~ when
 * all is true (a URL path segment, a journal field), else only bytes
 * outside 0x21..0x7e and '%'. Returns the length, or -1 if it does not fit. */
int ss_bind_escape(const char *s, char *out, size_t cap, bool all);

/* FNV-1a 64 of every binding's namespace, name and node, in order. */
uint64_t ss_bind_fingerprint(const ss_binding_t *b, int32_t n);

/* ---- journal (ss_bind_journal.c) ---- */

typedef struct {
    int fd; /* -1 when there is no journal */
    const char *path;
} ss_bind_journal_t;

/* Opens (creating) path, takes an exclusive flock (refused when another run
 * holds it), checks or writes the header (server, fingerprint, placements
 * name), and marks the bindings the journal lists: outcome[i] = JOURNALED
 * (bound, already) or ELSEWHERE (counted in s, logged on log). */
int ss_bind_journal_open(ss_bind_journal_t *j, const char *path, const char *server, uint64_t fp,
                         const char *placements, const ss_binding_t *b, int32_t n, uint8_t *outcome,
                         ss_bind_summary_t *s, FILE *log, ss_error_t *err);

/* Appends "what ns name node [other]" (escaped) and fsyncs; a failure is an
 * error naming the journal and errno. */
int ss_bind_journal_append(ss_bind_journal_t *j, const char *what, const ss_binding_t *b,
                           const char *other, ss_error_t *err);

void ss_bind_journal_close(ss_bind_journal_t *j);
/* Journal records of the request log: "done" (a line confirmed) loads as
 * SS_BIND_JOURNALED, "abandoned" as SS_BIND_ABANDONED; keys are ("line", N). */

/* ---- replies (ss_bind_reply.c) ---- */

enum ss_bind_verdict {
    SS_VERDICT_BOUND,     /* 2xx with a Binding or a Success Status */
    SS_VERDICT_ALREADY,   /* 409 Status: already assigned to this node */
    SS_VERDICT_ELSEWHERE, /* 409 Status: already assigned to another node (in other) */
    SS_VERDICT_GONE,      /* 404 NotFound Status */
    SS_VERDICT_REFUSED,   /* another 4xx Status (401, 403, 400, 422, ...) */
    SS_VERDICT_RETRY,     /* 429, 5xx, another 409: try again */
    SS_VERDICT_ALIEN,     /* not a Kubernetes object of the expected kind */
    SS_VERDICT_BUDGET,    /* eviction refused for a disruption budget (429 with a
                             DisruptionBudget cause, or 500 for several PDBs): final */
    SS_VERDICT_PRESENT    /* GET: the pod is still there */
};

/* Classifies one reply to a binding posted for node. why gets a one-line
 * reason; other gets the node named by an "already assigned" 409. */
enum ss_bind_verdict ss_bind_classify(long code, const char *ctype, const char *body, size_t len,
                                      const char *node, char *why, size_t why_cap, char *other,
                                      size_t other_cap);

/* Classifies one reply to a request of the log (op: enum ss_bind_op, or -1
 * for the GET of a wait). Binds go to ss_bind_classify. For the others:
 * 2xx with the pod (or a Success Status, an Eviction) is BOUND (done); 404
 * NotFound is GONE; an eviction's 429 with a DisruptionBudget cause (or a
 * message about the disruption budget) and its 500 "more than one
 * PodDisruptionBudget" are BUDGET; other 429s, 5xx and 409s RETRY; other
 * 4xx REFUSED; a GET's 200 Pod is PRESENT. */
enum ss_bind_verdict ss_bind_classify_step(int op, long code, const char *ctype, const char *body,
                                           size_t len, char *why, size_t why_cap);

const char *ss_bind_op_name(int op);

/* A reply to the GET of a wave's pod list (PATH?labelSelector=SEL): PRESENT
 * with *running = its items in phase Running without a deletionTimestamp;
 * a Status as for a GET of the log (404 NotFound: GONE; 429, 5xx: RETRY;
 * another 4xx: REFUSED); anything else ALIEN (RETRY for 429, 5xx). */
enum ss_bind_verdict ss_bind_count_running(long code, const char *ctype, const char *body,
                                           size_t len, int64_t *running, char *why, size_t cap);

/* A reply to the GET of a PodDisruptionBudget: PRESENT with *allowed =
 * status.disruptionsAllowed (0 when absent); otherwise as above. */
enum ss_bind_verdict ss_bind_pdb_allowed(long code, const char *ctype, const char *body, size_t len,
                                         int64_t *allowed, char *why, size_t cap);

/* ---- MIG re-layout (ss_bind_mig.c) ---- */

/* mask[nd] (n_nodes entries): the node-local GPU indexes (bit i = the
 * node's i-th GPU record) p re-lays out. Checks p's re-layout rows
 * (increasing GPU records of the cluster, known models, valid layouts);
 * an error names the row. */
int ss_bind_mig_masks(const ss_cluster_t *c, const ss_placements_t *p, uint64_t *mask,
                      ss_error_t *err);

/* Whether placement row r needs its node's new MIG layout before it is
 * bound: a MIG pod, or a GPU pod holding a re-laid-out GPU (mask: the
 * node's, from ss_bind_mig_masks). */
bool ss_bind_mig_row_needs(const ss_cluster_t *c, const ss_placements_t *p, int32_t r,
                           uint64_t mask);

/* Fills x->entry (the node's mig-parted entry) and x->alloc_* (what the
 * device plugin advertises after the re-layout, mixed strategy:
 * nvidia.com/gpu for the GPUs not in MIG mode and nvidia.com/mig-<profile>
 * per profile, sorted) for node nd. */
int ss_bind_mig_expect(const ss_cluster_t *c, const ss_placements_t *p, int32_t nd,
                       ss_bind_line_t *x, ss_error_t *err);

enum ss_bind_mig_seen {
    SS_MIG_READY,   /* label = entry, state success, allocatable as expected */
    SS_MIG_WAITING, /* not yet (another label, pending, old allocatable) */
    SS_MIG_FAILED,  /* label = entry and state failed */
    SS_MIG_GONE,    /* 404 NotFound: the node no longer exists */
    SS_MIG_RETRY,   /* 429, 5xx: ask again */
    SS_MIG_REFUSED, /* another 4xx Status */
    SS_MIG_ALIEN    /* not a Kubernetes Node or Status */
};

/* Classifies a reply to GET /api/v1/nodes/NAME against mig-config line x;
 * seen gets what the node shows (the label, the state, the allocatable
 * counts that differ from x's). */
enum ss_bind_mig_seen ss_bind_mig_check(const ss_bind_line_t *x, long code, const char *ctype,
                                        const char *body, size_t len, char *seen, size_t cap);

/* ---- one request at a time (ss_bind_http.c) ---- */

typedef struct ss_bind_conn ss_bind_conn_t;

typedef struct {
    long code;
    char ctype[128];
    char body[8192];
    size_t len;
    double retry_after; /* seconds from Retry-After, or -1 */
    int transport;      /* 0: a reply came; 1: no reply, worth retrying; 2: no reply, final */
    bool maybe_sent;    /* no reply, but the request may have been applied */
    char err[256];
} ss_bind_http_reply_t;

/* Connects to o->server: GET /api must answer an APIVersions object. */
int ss_bind_conn_open(const ss_bind_opts_t *o, ss_bind_conn_t **out, ss_error_t *err);
const char *ss_bind_conn_base(const ss_bind_conn_t *c);
/* One request (path from the API root); 0, or SS_ENOMEM. */
int ss_bind_conn_request(ss_bind_conn_t *c, const char *method, const char *path, const char *ctype,
                         const char *body, ss_bind_http_reply_t *r);
/* A GET whose whole body is wanted (a list: up to SS_BIND_BIG_MAX bytes):
 * as ss_bind_conn_request, with the body in *big (caller frees; r->body
 * holds its first 8 KiB); a longer body is a transport failure (2). */
#define SS_BIND_BIG_MAX (64u << 20)
int ss_bind_conn_get_big(ss_bind_conn_t *c, const char *path, ss_bind_http_reply_t *r, char **big);
void ss_bind_conn_close(ss_bind_conn_t *c); /* accepts NULL */
/* SIGINT/SIGTERM set a flag instead of killing (on), or restore (off). */
void ss_bind_signals(bool on);
bool ss_bind_stopped(void);

/* Checks a reply to GET /api: 0 when it is an APIVersions object listing
 * v1, else an error that says what was answered instead. */
int ss_bind_check_api(const char *url, long code, const char *ctype, const char *body, size_t len,
                      ss_error_t *err);

/* Reads a bearer token: one line of visible ASCII (0x21..0x7e), at most
 * 16 KiB, with at most one trailing LF (dropped); a CR, an inner LF or any
 * other byte is refused, naming the file and the byte's offset. */
int ss_bind_read_token(const char *path, char *tok, size_t cap, ss_error_t *err);

/* ---- Gödel binder and PodGroup status (ss_bind_godel.c) ---- */

/* Ops that count as the binding of a pod in the summary (bind, godel). */
static inline bool ss_bind_op_binds(int op)
{
    return op == SS_REQ_BIND || op == SS_REQ_GODEL;
}

/* Appends a line; path NULL = the op's pod path of ns/name; body (JSON
 * text) is consumed. NULL when out of memory or a name is too long. */
ss_bind_line_t *ss_bind_log_add(ss_bind_log_t *l, int32_t unit, int op, const char *path,
                                const char *ns, const char *name, const char *node, char *body,
                                const char *ctype);

/* path = PRE NS MID NAME SUFFIX with NS and NAME escaped path segments
 * (not empty, "." or ".."): fills ns, name (unescaped, caller frees). */
bool ss_bind_parse_path(const char *path, const char *pre, const char *mid, const char *suffix,
                        char **ns, char **name);

/* Checks a godel or podgroup-status line read from a log (o: its JSON
 * object, x->op and x->unit set): fills path, ns, name, node, ctype, body;
 * *why says what is wrong. */
struct json_t;
int ss_bind_godel_parse(struct json_t *o, ss_bind_line_t *x, const char **why);

#endif
