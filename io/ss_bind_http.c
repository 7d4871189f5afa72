/* ss_bind_http: posts Bindings to a Kubernetes API server with libcurl's
 * multi interface: up to `concurrency` transfers in flight, started no
 * faster than `qps`, retried after 429 (honouring Retry-After), 5xx,
 * connection resets and timeouts with bounded exponential backoff and
 * seeded jitter. GET /api must first answer an APIVersions object; every
 * reply is believed only when it is a Kubernetes object of the expected
 * kind (ss_bind_reply.c), and a run of replies that are not stops the run.
 * Every confirmed binding (bound, already bound to its node, bound
 * elsewhere) is appended to the journal and fsync'ed (ss_bind_journal.c),
 * so a rerun skips exactly what is known to be bound and posts the rest
 * again; a pod bound just before a crash but not journaled is answered 409
 * "already assigned to node X", which confirms it. Names are percent-escaped
 * in every URL. */
#include "ss_bind_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ss_rng.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct {
    int32_t idx;
    CURL *h;
    char *body;
    char err[CURL_ERROR_SIZE];
    char reply[8192];
    size_t reply_len;
    double retry_after; /* seconds from a Retry-After header, or -1 */
    bool want_big;      /* ss_bind_conn_get_big: the whole body in big */
    bool big_over;      /* ... longer than SS_BIND_BIG_MAX, or out of memory */
    char *big;
    size_t big_len, big_cap;
} xfer_t;

/* After this many replies in a row that are not Kubernetes objects, the
 * server is not believed to be a Kubernetes API and the run stops. */
#define ALIEN_LIMIT 8

typedef struct {
    const ss_binding_t *b;
    int32_t n;
    const ss_bind_opts_t *o;
    ss_bind_summary_t *s;
    uint8_t *outcome, *attempts;
    uint8_t *no_reply;  /* the last attempt got no reply: it may have been applied */
    int32_t *retry_idx; /* bindings waiting to be re-posted */
    double *retry_at;
    int32_t n_retry;
    int32_t aliens;  /* replies in a row that were not Kubernetes objects */
    int32_t decided; /* bindings with a final outcome this run (progress) */
    ss_bind_journal_t journal;
    struct curl_slist *headers;
    CURLM *multi;
    ss_rng_t rng;
    char base[2048];
    int fatal; /* a journal write failed or the server is not believed: stop */
    ss_error_t fatal_err;
} poster_t;

/* ---- transfers ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    xfer_t *x = user;
    size_t n = size * nmemb, room = sizeof x->reply - 1 - x->reply_len;
    memcpy(x->reply + x->reply_len, data, n < room ? n : room);
    x->reply_len += n < room ? n : room;
    x->reply[x->reply_len] = '\0';
    if (!x->want_big)
        return n;
    if (x->big_len + n + 1 > x->big_cap) {
        size_t cap = x->big_cap ? x->big_cap : 65536;
        while (cap < x->big_len + n + 1)
            cap *= 2;
        char *b = cap <= SS_BIND_BIG_MAX ? realloc(x->big, cap) : NULL;
        if (!b) {
            x->big_over = true;
            return 0; /* curl stops the transfer (a write error) */
        }
        x->big = b;
        x->big_cap = cap;
    }
    memcpy(x->big + x->big_len, data, n);
    x->big_len += n;
    x->big[x->big_len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *user)
{
    xfer_t *x = user;
    size_t n = size * nmemb;
    if (n > 12 && !strncasecmp(data, "Retry-After:", 12)) {
        char buf[32];
        size_t m = n - 12 < sizeof buf - 1 ? n - 12 : sizeof buf - 1;
        memcpy(buf, data + 12, m);
        buf[m] = '\0';
        char *end;
        double v = strtod(buf, &end);
        if (end != buf && v >= 0)
            x->retry_after = v > 300 ? 300 : v;
    }
    return n;
}

/* s escaped for a log line (names come from untrusted input): control
 * bytes, spaces, '%' and non-ASCII become %XX. */
static const char *esc(const char *s, char *buf)
{
    return ss_bind_escape(s, buf, SS_BIND_FIELD_MAX, false) < 0 ? "(name too long)" : buf;
}

/* s percent-escaped as one URL path segment. */
static const char *esc_path(const char *s, char *buf)
{
    return ss_bind_escape(s, buf, SS_BIND_FIELD_MAX, true) < 0 ? "(name too long)" : buf;
}

static void set_common(struct curl_slist *headers, const ss_bind_opts_t *o, CURL *h, xfer_t *x)
{
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->err);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(o->timeout_s * 1000));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->timeout_s * 1000));
    if (o->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
    if (o->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

static int start(poster_t *P, int32_t i)
{
    xfer_t *x = calloc(1, sizeof *x);
    if (!x || !(x->h = curl_easy_init()) || !(x->body = ss_bind_json(&P->b[i]))) {
        if (x)
            curl_easy_cleanup(x->h);
        free(x);
        return SS_ENOMEM;
    }
    x->idx = i;
    x->retry_after = -1;
    char ns[SS_BIND_FIELD_MAX], name[SS_BIND_FIELD_MAX], url[4096];
    snprintf(url, sizeof url, "%s/api/v1/namespaces/%s/pods/%s/binding", P->base,
             esc_path(P->b[i].ns, ns), esc_path(P->b[i].name, name)); /* fit: see check_names */
    CURL *h = x->h;
    set_common(P->headers, P->o, h, x);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(h, CURLOPT_PRIVATE, x);
    if (curl_multi_add_handle(P->multi, h) != CURLM_OK) {
        curl_easy_cleanup(h);
        free(x->body);
        free(x);
        return SS_ENET;
    }
    P->attempts[i]++;
    return 0;
}

static void set_fatal(poster_t *P, int rc, const ss_error_t *e)
{
    if (P->fatal)
        return;
    P->fatal = rc;
    P->fatal_err = *e;
}

static void decide(poster_t *P, int32_t i, int outcome, const char *why, const char *other)
{
    static const char *const names[] = {"",       "bound", "already",   "gone",
                                        "failed", "",      "elsewhere", "unknown"};
    ss_bind_summary_t *s = P->s;
    P->outcome[i] = (uint8_t)outcome;
    ss_progress_tick(P->o->progress, ++P->decided, P->n);
    int32_t *cnt[] = {NULL,       &s->bound, &s->already,   &s->gone,
                      &s->failed, NULL,      &s->elsewhere, &s->unknown};
    (*cnt[outcome])++;
    if (outcome == SS_BIND_ELSEWHERE || outcome == SS_BIND_UNKNOWN)
        s->failed++; /* failed counts every pod not bound but the gone ones */
    if (outcome == SS_BIND_BOUND || outcome == SS_BIND_ALREADY || outcome == SS_BIND_ELSEWHERE) {
        ss_error_t e = {{0}};
        int rc = ss_bind_journal_append(&P->journal, names[outcome], &P->b[i],
                                        outcome == SS_BIND_ELSEWHERE ? other : NULL, &e);
        if (rc < 0)
            set_fatal(P, rc, &e);
    }
    if (!P->o->log || outcome == SS_BIND_BOUND || outcome == SS_BIND_ALREADY)
        return;
    char ns[SS_BIND_FIELD_MAX], name[SS_BIND_FIELD_MAX], node[SS_BIND_FIELD_MAX],
        oth[SS_BIND_FIELD_MAX];
    const char *label = outcome == SS_BIND_ELSEWHERE ? "bound elsewhere: already on node"
                        : outcome == SS_BIND_UNKNOWN
                            ? "unknown: no reply, it may have been applied; a rerun confirms it"
                            : names[outcome];
    fprintf(P->o->log, "bind: %s/%s -> %s: %s%s%s (%s)\n", esc(P->b[i].ns, ns),
            esc(P->b[i].name, name), esc(P->b[i].node, node), label,
            outcome == SS_BIND_ELSEWHERE ? " " : "",
            outcome == SS_BIND_ELSEWHERE ? esc(other, oth) : "", why);
}

static void schedule_retry(poster_t *P, int32_t i, double retry_after, const char *why,
                           bool no_reply)
{
    P->no_reply[i] = no_reply;
    if (P->attempts[i] >= P->o->max_attempts) {
        decide(P, i, no_reply ? SS_BIND_UNKNOWN : SS_BIND_FAILED, why, NULL);
        return;
    }
    double backoff = 0.1;
    for (int a = 1; a < P->attempts[i] && backoff < P->o->max_backoff_s; a++)
        backoff *= 2;
    if (backoff > P->o->max_backoff_s)
        backoff = P->o->max_backoff_s;
    double delay = backoff / 2 + ss_rng_uniform(&P->rng) * backoff / 2;
    if (retry_after > delay)
        delay = retry_after;
    P->retry_idx[P->n_retry] = i;
    P->retry_at[P->n_retry++] = now_s() + delay;
    P->s->retries++;
}

static bool retryable(CURLcode rc)
{
    return rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
           rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
           rc == CURLE_PARTIAL_FILE || rc == CURLE_SSL_CONNECT_ERROR ||
           rc == CURLE_COULDNT_RESOLVE_HOST;
}

/* A completed reply: believed only when it is a Kubernetes object. */
static void classify_reply(poster_t *P, xfer_t *x, long code, const char *ctype)
{
    char why[600], other[SS_BIND_FIELD_MAX] = "";
    int32_t i = x->idx;
    enum ss_bind_verdict v = ss_bind_classify(code, ctype, x->reply, x->reply_len, P->b[i].node,
                                              why, sizeof why, other, sizeof other);
    P->aliens = v == SS_VERDICT_ALIEN ? P->aliens + 1 : 0;
    switch (v) {
    case SS_VERDICT_BOUND:
        decide(P, i, SS_BIND_BOUND, why, NULL);
        break;
    case SS_VERDICT_ALREADY:
        decide(P, i, SS_BIND_ALREADY, why, NULL);
        break;
    case SS_VERDICT_ELSEWHERE:
        decide(P, i, SS_BIND_ELSEWHERE, why, other);
        break;
    case SS_VERDICT_GONE:
        decide(P, i, SS_BIND_GONE, why, NULL);
        break;
    case SS_VERDICT_RETRY:
        schedule_retry(P, i, code == 429 ? x->retry_after : -1, why, false);
        break;
    case SS_VERDICT_REFUSED:
    case SS_VERDICT_ALIEN:
    case SS_VERDICT_BUDGET:  /* not a verdict of a Binding */
    case SS_VERDICT_PRESENT: /* idem */
        decide(P, i, SS_BIND_FAILED, why, NULL);
        break;
    }
    if (P->aliens >= ALIEN_LIMIT) {
        ss_error_t e = {{0}};
        ss_error_set(&e, SS_ENET,
                     "%s: %d replies in a row were not Kubernetes objects (last: %s): stopped; "
                     "is --server the API server?",
                     P->base, P->aliens, why);
        set_fatal(P, SS_ENET, &e);
    }
}

static void finish(poster_t *P, CURL *h, CURLcode rc)
{
    xfer_t *x = NULL;
    long code = 0, sent = 0;
    char *ctype = NULL;
    curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&x);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
    curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent);
    if (rc != CURLE_OK) {
        const char *why = x->err[0] ? x->err : curl_easy_strerror(rc);
        if (retryable(rc))
            schedule_retry(P, x->idx, -1, why, sent > 0 && rc != CURLE_COULDNT_CONNECT);
        else
            decide(P, x->idx, SS_BIND_FAILED, why, NULL);
    } else {
        classify_reply(P, x, code, ctype);
    }
    curl_multi_remove_handle(P->multi, h);
    curl_easy_cleanup(h);
    free(x->body);
    free(x);
}

/* Next binding to start: a due retry first, else the next fresh one. */
static int32_t next_ready(poster_t *P, int32_t *cursor, double now)
{
    for (int32_t r = 0; r < P->n_retry; r++)
        if (P->retry_at[r] <= now) {
            int32_t i = P->retry_idx[r];
            P->retry_idx[r] = P->retry_idx[--P->n_retry];
            P->retry_at[r] = P->retry_at[P->n_retry];
            return i;
        }
    while (*cursor < P->n && P->outcome[*cursor] != SS_BIND_PENDING)
        (*cursor)++;
    return *cursor < P->n ? (*cursor)++ : -1;
}

/* Runs until every binding is decided, a signal, or a fatal error (then the
 * transfers in flight are let finish, bounded by the timeout). */
static int run_loop(poster_t *P, ss_error_t *err)
{
    int32_t cursor = 0, active = 0;
    double next_slot = now_s(), gap = P->o->qps > 0 ? 1.0 / P->o->qps : 0;
    for (;;) {
        double now = now_s();
        while (!stop_flag && !P->fatal && active < P->o->concurrency && next_slot <= now) {
            int32_t i = next_ready(P, &cursor, now);
            if (i < 0)
                break;
            int rc = start(P, i);
            if (rc < 0)
                return ss_error_set(err, rc, "cannot start an HTTP transfer");
            active++;
            next_slot = (next_slot > now - gap ? next_slot : now) + gap;
        }
        bool more = P->n_retry > 0 || cursor < P->n;
        if (active == 0 && (stop_flag || P->fatal || !more))
            break;
        int running = 0;
        curl_multi_perform(P->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(P->multi, &left)))
            if (m->msg == CURLMSG_DONE) {
                finish(P, m->easy_handle, m->data.result);
                active--;
            }
        curl_multi_poll(P->multi, NULL, 0, active ? 50 : 10, NULL);
    }
    P->s->interrupted = stop_flag != 0;
    if (P->fatal) {
        *err = P->fatal_err;
        return P->fatal;
    }
    return 0;
}

static const char *group_name(const poster_t *P, int32_t g)
{
    for (int32_t i = 0; i < P->n; i++)
        if (P->b[i].group == g)
            return P->b[i].group_name;
    return "?";
}

static bool confirmed(int o)
{
    return o == SS_BIND_BOUND || o == SS_BIND_ALREADY || o == SS_BIND_JOURNALED;
}

static bool not_bound(int o)
{
    return o == SS_BIND_GONE || o == SS_BIND_FAILED || o == SS_BIND_ELSEWHERE ||
           o == SS_BIND_UNKNOWN;
}

/* Loud report of gangs left below minMember: members bound, others not. */
static void report_partial_gangs(poster_t *P)
{
    int32_t ng = 0;
    for (int32_t i = 0; i < P->n; i++)
        if (P->b[i].group + 1 > ng)
            ng = P->b[i].group + 1;
    int32_t *ok = ng ? calloc((size_t)ng * 3, sizeof *ok) : NULL;
    if (!ok)
        return;
    for (int32_t i = 0; i < P->n; i++) {
        int32_t g = P->b[i].group;
        if (g < 0)
            continue;
        ok[3 * g] += confirmed(P->outcome[i]);
        ok[3 * g + 1] += not_bound(P->outcome[i]);
        ok[3 * g + 2] = P->b[i].group_need;
    }
    char buf[SS_BIND_FIELD_MAX], buf2[SS_BIND_FIELD_MAX];
    for (int32_t g = 0; g < ng; g++) {
        if (!ok[3 * g] || !ok[3 * g + 1] || ok[3 * g] >= ok[3 * g + 2])
            continue;
        P->s->partial_gangs++;
        if (!P->o->log)
            continue;
        fprintf(P->o->log,
                "bind: *** PARTLY BOUND GANG %s: %d members bound, %d could not be (it needs %d "
                "to reach minMember); bindings cannot be undone: delete and recreate the "
                "group's pods ***\n",
                esc(group_name(P, g), buf), ok[3 * g], ok[3 * g + 1], ok[3 * g + 2]);
        for (int32_t i = 0; i < P->n; i++)
            if (P->b[i].group == g && not_bound(P->outcome[i]))
                fprintf(P->o->log, "bind: ***   not bound: %s/%s\n", esc(P->b[i].ns, buf),
                        esc(P->b[i].name, buf2));
    }
    free(ok);
}

/* GET URL/api must answer an APIVersions object (retried a little). */
static int probe(const char *base, struct curl_slist *headers, const ss_bind_opts_t *o,
                 ss_error_t *err)
{
    char url[2100];
    snprintf(url, sizeof url, "%s/api", base);
    int tries = o->max_attempts < 3 ? o->max_attempts : 3;
    for (int a = 0;; a++) {
        xfer_t *x = calloc(1, sizeof *x);
        CURL *h = x ? curl_easy_init() : NULL;
        if (!h) {
            free(x);
            return ss_error_set(err, SS_ENOMEM, "out of memory");
        }
        set_common(headers, o, h, x);
        curl_easy_setopt(h, CURLOPT_URL, url);
        CURLcode rc = curl_easy_perform(h);
        long code = 0;
        char *ct = NULL, ctype[128] = "";
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
            snprintf(ctype, sizeof ctype, "%s", ct);
        curl_easy_cleanup(h);
        bool again = rc != CURLE_OK ? retryable(rc) : (code == 429 || code >= 500);
        int res = 0;
        if (again && a + 1 < tries) {
            struct timespec ts = {0, 200000000L << a};
            nanosleep(&ts, NULL);
            res = 1;
        } else if (rc != CURLE_OK) {
            res = ss_error_set(err, SS_ENET, "%s: %s", url,
                               x->err[0] ? x->err : curl_easy_strerror(rc));
        } else {
            res = ss_bind_check_api(url, code, ctype, x->reply, x->reply_len, err);
        }
        free(x);
        if (res <= 0)
            return res;
    }
}

/* Bindings whose names cannot go into a URL path are failed upfront. */
static void check_names(poster_t *P)
{
    char buf[SS_BIND_FIELD_MAX];
    for (int32_t i = 0; i < P->n; i++) {
        const char *f[3] = {P->b[i].ns, P->b[i].name, P->b[i].node};
        if (P->outcome[i] != SS_BIND_PENDING)
            continue;
        for (int k = 0; k < 3; k++)
            if (!*f[k] || !strcmp(f[k], ".") || !strcmp(f[k], "..") ||
                ss_bind_escape(f[k], buf, sizeof buf, true) < 0) {
                decide(P, i, SS_BIND_FAILED,
                       "a namespace, name or node that is empty, '.', '..' or too long", NULL);
                break;
            }
    }
}

/* The server URL without trailing slashes into base[cap]. */
static int set_base(const char *server, char *base, size_t cap, ss_error_t *err)
{
    size_t len = strlen(server);
    while (len > 0 && server[len - 1] == '/')
        len--;
    if (len == 0 || len >= cap || (strncmp(server, "http://", 7) && strncmp(server, "https://", 8)))
        return ss_error_set(err, SS_EINVAL,
                            "--server '%s': expected http://HOST[:PORT] or https://...", server);
    memcpy(base, server, len);
    base[len] = '\0';
    return 0;
}

/* The bearer token header (when o->token_file), and the CA file check. */
static int add_auth(struct curl_slist **headers, const ss_bind_opts_t *o, ss_error_t *err)
{
    if (o->token_file) {
        static char tok[16386], hdr[16450];
        int rc = ss_bind_read_token(o->token_file, tok, sizeof tok, err);
        if (rc < 0)
            return rc;
        snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", tok);
        *headers = curl_slist_append(*headers, hdr);
        if (!*headers)
            return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    if (o->ca_file && access(o->ca_file, R_OK) != 0)
        return ss_error_set(err, SS_EIO, "%s: cannot read CA file", o->ca_file);
    return 0;
}

static int setup(poster_t *P, ss_error_t *err)
{
    const ss_bind_opts_t *o = P->o;
    if (set_base(o->server, P->base, sizeof P->base, err) < 0)
        return SS_EINVAL;
    P->outcome = calloc((size_t)P->n + 1, 1);
    P->attempts = calloc((size_t)P->n + 1, 1);
    P->no_reply = calloc((size_t)P->n + 1, 1);
    P->retry_idx = malloc(((size_t)P->n + 1) * sizeof *P->retry_idx);
    P->retry_at = malloc(((size_t)P->n + 1) * sizeof *P->retry_at);
    P->headers = curl_slist_append(NULL, "Content-Type: application/json");
    P->headers = curl_slist_append(P->headers, "Accept: application/json");
    if (!P->outcome || !P->attempts || !P->no_reply || !P->retry_idx || !P->retry_at || !P->headers)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    int rc = add_auth(&P->headers, o, err);
    if (rc < 0)
        return rc;
    ss_rng_seed(&P->rng, o->seed);
    if (!(P->multi = curl_multi_init()))
        return ss_error_set(err, SS_ENET, "curl_multi_init failed");
    /* the server first: a journal is never tied to a server that is not one */
    rc = probe(P->base, P->headers, o, err);
    if (rc == 0)
        rc = ss_bind_journal_open(&P->journal, o->journal, P->base, ss_bind_fingerprint(P->b, P->n),
                                  o->placements, P->b, P->n, P->outcome, P->s, o->log, err);
    if (rc == 0)
        check_names(P);
    return rc;
}

int ss_bind_server_check(const char *url, ss_error_t *err)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int rc = 0;
    if (!u)
        return ss_error_set(err, SS_ENOMEM, "out of memory parsing --server");
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0])
        rc = ss_error_set(err, SS_EINVAL, "--server '%s' is not a URL with a host", url);
    else if (strcmp(scheme, "http") && strcmp(scheme, "https"))
        rc = ss_error_set(err, SS_EINVAL, "--server '%s': the scheme must be http or https", url);
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

int ss_bind_post(const ss_binding_t *b, int32_t n, const ss_bind_opts_t *o, ss_bind_summary_t *s,
                 ss_error_t *err)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return ss_error_set(err, SS_ENET, "curl_global_init failed");
    poster_t P;
    memset(&P, 0, sizeof P);
    P.b = b;
    P.n = n;
    P.o = o;
    P.s = s;
    P.journal.fd = -1;
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    stop_flag = 0;
    int rc = setup(&P, err);
    if (rc == 0) {
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        rc = run_loop(&P, err);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        report_partial_gangs(&P);
        if (rc < 0) /* stopped: the caller prints only the error */
            ss_bind_summary_print(s, o->log);
    }
    ss_bind_journal_close(&P.journal);
    if (P.multi)
        curl_multi_cleanup(P.multi);
    curl_slist_free_all(P.headers);
    free(P.outcome);
    free(P.attempts);
    free(P.no_reply);
    free(P.retry_idx);
    free(P.retry_at);
    curl_global_cleanup();
    return rc;
}

/* ---- one request at a time (the request log, ss_bind_replay.c) ---- */

struct ss_bind_conn {
    CURL *h; /* kept: its connection is reused */
    const ss_bind_opts_t *o;
    struct curl_slist *auth; /* the token header, or NULL */
    char base[2048];
};

int ss_bind_conn_open(const ss_bind_opts_t *o, ss_bind_conn_t **out, ss_error_t *err)
{
    *out = NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return ss_error_set(err, SS_ENET, "curl_global_init failed");
    ss_bind_conn_t *c = calloc(1, sizeof *c);
    struct curl_slist *hdr = NULL;
    int rc = c ? set_base(o->server, c->base, sizeof c->base, err)
               : ss_error_set(err, SS_ENOMEM, "out of memory");
    if (rc == 0) {
        c->o = o;
        rc = add_auth(&c->auth, o, err);
    }
    if (rc == 0 && !(c->h = curl_easy_init()))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    if (rc == 0) {
        hdr = curl_slist_append(NULL, "Accept: application/json");
        for (struct curl_slist *a = c->auth; hdr && a; a = a->next)
            hdr = curl_slist_append(hdr, a->data);
        rc = hdr ? probe(c->base, hdr, o, err) : ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    curl_slist_free_all(hdr);
    if (rc < 0) {
        if (c)
            ss_bind_conn_close(c);
        else
            curl_global_cleanup();
        return rc;
    }
    *out = c;
    return 0;
}

const char *ss_bind_conn_base(const ss_bind_conn_t *c)
{
    return c->base;
}

void ss_bind_conn_close(ss_bind_conn_t *c)
{
    if (!c)
        return;
    if (c->h)
        curl_easy_cleanup(c->h);
    curl_slist_free_all(c->auth);
    free(c);
    curl_global_cleanup();
}

bool ss_bind_stopped(void)
{
    return stop_flag != 0;
}

void ss_bind_signals(bool on)
{
    static struct sigaction old_int, old_term;
    if (on) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        stop_flag = 0;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
    } else {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
}

static int conn_do(ss_bind_conn_t *c, const char *method, const char *path, const char *ctype,
                   const char *body, ss_bind_http_reply_t *r, char **big)
{
    memset(r, 0, sizeof *r);
    r->retry_after = -1;
    xfer_t *x = calloc(1, sizeof *x);
    if (x)
        x->want_big = big != NULL;
    char url[4096], ct[300];
    snprintf(url, sizeof url, "%s%s", c->base, path);
    snprintf(ct, sizeof ct, "Content-Type: %s", ctype ? ctype : "application/json");
    struct curl_slist *hdr = x ? curl_slist_append(NULL, "Accept: application/json") : NULL;
    if (hdr && body)
        hdr = curl_slist_append(hdr, ct);
    for (struct curl_slist *a = c->auth; hdr && a; a = a->next)
        hdr = curl_slist_append(hdr, a->data);
    if (!hdr) {
        free(x);
        return SS_ENOMEM;
    }
    x->retry_after = -1;
    CURL *h = c->h;
    curl_easy_reset(h); /* keeps the connection */
    set_common(hdr, c->o, h, x);
    curl_easy_setopt(h, CURLOPT_URL, url);
    if (!strcmp(method, "GET"))
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    else
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    CURLcode rc = curl_easy_perform(h);
    char *cty = NULL;
    long sent = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->code);
    if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &cty) == CURLE_OK && cty)
        snprintf(r->ctype, sizeof r->ctype, "%s", cty);
    curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent);
    if (rc != CURLE_OK) {
        r->transport = x->big_over ? 2 : retryable(rc) ? 1 : 2;
        r->maybe_sent = sent > 0 && rc != CURLE_COULDNT_CONNECT;
        if (x->big_over)
            snprintf(r->err, sizeof r->err, "the reply is longer than %u MiB (or out of memory)",
                     SS_BIND_BIG_MAX >> 20);
        else
            snprintf(r->err, sizeof r->err, "%s", x->err[0] ? x->err : curl_easy_strerror(rc));
    } else {
        memcpy(r->body, x->reply, x->reply_len + 1);
        r->len = x->reply_len;
        r->retry_after = x->retry_after;
        if (big) {
            *big = x->big ? x->big : strdup("");
            x->big = NULL;
            r->len = *big ? x->big_len : 0;
        }
    }
    curl_slist_free_all(hdr);
    free(x->big);
    free(x);
    return big && !r->transport && !*big ? SS_ENOMEM : 0;
}

int ss_bind_conn_request(ss_bind_conn_t *c, const char *method, const char *path, const char *ctype,
                         const char *body, ss_bind_http_reply_t *r)
{
    return conn_do(c, method, path, ctype, body, r, NULL);
}

int ss_bind_conn_get_big(ss_bind_conn_t *c, const char *path, ss_bind_http_reply_t *r, char **big)
{
    *big = NULL;
    return conn_do(c, "GET", path, NULL, NULL, r, big);
}
