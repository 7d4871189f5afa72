/* ss_bind_http: posts Bindings to a Kubernetes API server with libcurl's
 * multi interface: up to `concurrency` transfers in flight, started no
 * faster than `qps`, retried after 429 (honouring Retry-After), 5xx,
 * connection resets and timeouts with bounded exponential backoff and
 * seeded jitter. Every decided binding (201, 409, 404, permanent failure)
 * is appended to the journal and fsync'ed, so a rerun skips exactly what is
 * known to be decided; a pod bound just before a crash but not journaled is
 * re-posted and answered 409, which counts as already bound. */
#include "ss_bind.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ss_rng.h"
#include "ss_strtab.h"

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
    char reply[200];
    size_t reply_len;
    double retry_after; /* seconds from a Retry-After header, or -1 */
} xfer_t;

typedef struct {
    const ss_binding_t *b;
    int32_t n;
    const ss_bind_opts_t *o;
    ss_bind_summary_t *s;
    uint8_t *outcome, *attempts;
    int32_t *retry_idx; /* bindings waiting to be re-posted */
    double *retry_at;
    int32_t n_retry;
    int journal_fd;
    struct curl_slist *headers;
    CURLM *multi;
    ss_rng_t rng;
    char base[2048];
} poster_t;

/* ---- journal ---- */

static int journal_load(poster_t *P, ss_error_t *err)
{
    FILE *f = fopen(P->o->journal, "r");
    if (!f)
        return errno == ENOENT
                   ? 0
                   : ss_error_set(err, SS_EIO, "%s: cannot read journal", P->o->journal);
    ss_strtab_t *done = ss_strtab_create();
    char line[2048];
    while (done && fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n')
            continue; /* a torn last line: not known to be decided */
        char *ns = strchr(line, '\t'), *name = ns ? strchr(ns + 1, '\t') : NULL;
        char *node = name ? strchr(name + 1, '\t') : NULL;
        if (!node)
            continue;
        *node = '\0';
        ss_strtab_intern(done, ns + 1); /* "ns\tname" */
    }
    fclose(f);
    if (!done)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    char key[1024];
    for (int32_t i = 0; i < P->n; i++) {
        snprintf(key, sizeof key, "%s\t%s", P->b[i].ns, P->b[i].name);
        if (ss_strtab_find(done, key) > 0) {
            P->outcome[i] = SS_BIND_JOURNALED;
            P->s->journaled++;
        }
    }
    ss_strtab_destroy(done);
    return 0;
}

static int journal_open(poster_t *P, ss_error_t *err)
{
    P->journal_fd = -1;
    if (!P->o->journal)
        return 0;
    int rc = journal_load(P, err);
    if (rc < 0)
        return rc;
    P->journal_fd = open(P->o->journal, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (P->journal_fd < 0)
        return ss_error_set(err, SS_EIO, "%s: cannot open journal for appending", P->o->journal);
    /* a torn last line from a crash gets its own line ended */
    off_t end = lseek(P->journal_fd, 0, SEEK_END);
    char last = '\n';
    int rfd = open(P->o->journal, O_RDONLY);
    if (end > 0 && rfd >= 0 && pread(rfd, &last, 1, end - 1) == 1 && last != '\n')
        (void)!write(P->journal_fd, "\n", 1);
    if (rfd >= 0)
        close(rfd);
    return 0;
}

static void journal_append(poster_t *P, int32_t i, const char *what)
{
    if (P->journal_fd < 0)
        return;
    char line[2048];
    int len = snprintf(line, sizeof line, "%s\t%s\t%s\t%s\n", what, P->b[i].ns, P->b[i].name,
                       P->b[i].node);
    if (len <= 0 || (size_t)len >= sizeof line || write(P->journal_fd, line, (size_t)len) != len ||
        fsync(P->journal_fd) != 0) {
        if (P->o->log)
            fprintf(P->o->log, "bind: warning: journal write failed for %s/%s\n", P->b[i].ns,
                    P->b[i].name);
    }
}

/* ---- transfers ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    xfer_t *x = user;
    size_t n = size * nmemb, room = sizeof x->reply - 1 - x->reply_len;
    memcpy(x->reply + x->reply_len, data, n < room ? n : room);
    x->reply_len += n < room ? n : room;
    x->reply[x->reply_len] = '\0';
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
    char url[4096];
    snprintf(url, sizeof url, "%s/api/v1/namespaces/%s/pods/%s/binding", P->base, P->b[i].ns,
             P->b[i].name);
    CURL *h = x->h;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, P->headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->err);
    curl_easy_setopt(h, CURLOPT_PRIVATE, x);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(P->o->timeout_s * 1000));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(P->o->timeout_s * 1000));
    if (P->o->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, P->o->ca_file);
    if (P->o->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (curl_multi_add_handle(P->multi, h) != CURLM_OK) {
        curl_easy_cleanup(h);
        free(x->body);
        free(x);
        return SS_ENET;
    }
    P->attempts[i]++;
    return 0;
}

static void decide(poster_t *P, int32_t i, int outcome, const char *why)
{
    static const char *const names[] = {"", "bound", "already", "gone", "failed", ""};
    P->outcome[i] = (uint8_t)outcome;
    int32_t *cnt[] = {NULL, &P->s->bound, &P->s->already, &P->s->gone, &P->s->failed};
    (*cnt[outcome])++;
    journal_append(P, i, names[outcome]);
    if (P->o->log && (outcome == SS_BIND_GONE || outcome == SS_BIND_FAILED))
        fprintf(P->o->log, "bind: %s/%s -> %s: %s (%s)\n", P->b[i].ns, P->b[i].name, P->b[i].node,
                names[outcome], why);
}

static void schedule_retry(poster_t *P, int32_t i, double retry_after, const char *why)
{
    if (P->attempts[i] >= P->o->max_attempts) {
        decide(P, i, SS_BIND_FAILED, why);
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

static void finish(poster_t *P, CURL *h, CURLcode rc)
{
    xfer_t *x = NULL;
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&x);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    char why[400];
    int32_t i = x->idx;
    if (rc != CURLE_OK) {
        snprintf(why, sizeof why, "%s", x->err[0] ? x->err : curl_easy_strerror(rc));
        if (retryable(rc))
            schedule_retry(P, i, -1, why);
        else
            decide(P, i, SS_BIND_FAILED, why);
    } else {
        snprintf(why, sizeof why, "HTTP %ld %.150s", code, x->reply);
        if (code == 200 || code == 201)
            decide(P, i, SS_BIND_BOUND, why);
        else if (code == 409)
            decide(P, i, SS_BIND_ALREADY, why);
        else if (code == 404)
            decide(P, i, SS_BIND_GONE, why);
        else if (code == 429 || code >= 500)
            schedule_retry(P, i, code == 429 ? x->retry_after : -1, why);
        else
            decide(P, i, SS_BIND_FAILED, why);
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

static int run_loop(poster_t *P, ss_error_t *err)
{
    int32_t cursor = 0, active = 0;
    double next_slot = now_s(), gap = P->o->qps > 0 ? 1.0 / P->o->qps : 0;
    for (;;) {
        double now = now_s();
        while (!stop_flag && active < P->o->concurrency && next_slot <= now) {
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
        if (active == 0 && (stop_flag || !more))
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
    return 0;
}

static const char *group_name(const poster_t *P, int32_t g)
{
    for (int32_t i = 0; i < P->n; i++)
        if (P->b[i].group == g)
            return P->b[i].group_name;
    return "?";
}

/* Loud report of gangs with members bound and members gone/failed. */
static void report_partial_gangs(poster_t *P)
{
    int32_t ng = 0;
    for (int32_t i = 0; i < P->n; i++)
        if (P->b[i].group + 1 > ng)
            ng = P->b[i].group + 1;
    if (ng == 0)
        return;
    int32_t *ok = calloc((size_t)ng * 2, sizeof *ok);
    if (!ok)
        return;
    for (int32_t i = 0; i < P->n; i++) {
        int32_t g = P->b[i].group, o = P->outcome[i];
        if (g < 0)
            continue;
        if (o == SS_BIND_BOUND || o == SS_BIND_ALREADY || o == SS_BIND_JOURNALED)
            ok[2 * g]++;
        else if (o == SS_BIND_GONE || o == SS_BIND_FAILED)
            ok[2 * g + 1]++;
    }
    for (int32_t g = 0; g < ng; g++) {
        if (!ok[2 * g] || !ok[2 * g + 1])
            continue;
        P->s->partial_gangs++;
        if (P->o->log)
            fprintf(P->o->log,
                    "bind: *** PARTLY BOUND GANG %s: %d members bound, %d could not be "
                    "bound; bindings cannot be undone: delete and recreate the group's pods ***\n",
                    group_name(P, g), ok[2 * g], ok[2 * g + 1]);
        for (int32_t i = 0; P->o->log && i < P->n; i++)
            if (P->b[i].group == g &&
                (P->outcome[i] == SS_BIND_GONE || P->outcome[i] == SS_BIND_FAILED))
                fprintf(P->o->log, "bind: ***   not bound: %s/%s\n", P->b[i].ns, P->b[i].name);
    }
    free(ok);
}

static int setup(poster_t *P, ss_error_t *err)
{
    const ss_bind_opts_t *o = P->o;
    size_t len = strlen(o->server);
    while (len > 0 && o->server[len - 1] == '/')
        len--;
    if (len == 0 || len >= sizeof P->base ||
        (strncmp(o->server, "http://", 7) && strncmp(o->server, "https://", 8)))
        return ss_error_set(err, SS_EINVAL,
                            "--server '%s': expected http://HOST[:PORT] or https://...", o->server);
    memcpy(P->base, o->server, len);
    P->base[len] = '\0';
    P->outcome = calloc((size_t)P->n + 1, 1);
    P->attempts = calloc((size_t)P->n + 1, 1);
    P->retry_idx = malloc(((size_t)P->n + 1) * sizeof *P->retry_idx);
    P->retry_at = malloc(((size_t)P->n + 1) * sizeof *P->retry_at);
    P->headers = curl_slist_append(NULL, "Content-Type: application/json");
    P->headers = curl_slist_append(P->headers, "Accept: application/json");
    if (!P->outcome || !P->attempts || !P->retry_idx || !P->retry_at || !P->headers)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    if (o->token_file) {
        char tok[8192], hdr[8300];
        FILE *f = fopen(o->token_file, "r");
        size_t n = f ? fread(tok, 1, sizeof tok - 1, f) : 0;
        if (f)
            fclose(f);
        while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r' || tok[n - 1] == ' '))
            n--;
        tok[n] = '\0';
        if (!f || n == 0)
            return ss_error_set(err, SS_EIO, "%s: cannot read a bearer token", o->token_file);
        snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", tok);
        P->headers = curl_slist_append(P->headers, hdr);
    }
    if (o->ca_file && access(o->ca_file, R_OK) != 0)
        return ss_error_set(err, SS_EIO, "%s: cannot read CA file", o->ca_file);
    ss_rng_seed(&P->rng, o->seed);
    if (!(P->multi = curl_multi_init()))
        return ss_error_set(err, SS_ENET, "curl_multi_init failed");
    return journal_open(P, err);
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
    P.journal_fd = -1;
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
    }
    if (P.journal_fd >= 0)
        close(P.journal_fd);
    if (P.multi)
        curl_multi_cleanup(P.multi);
    curl_slist_free_all(P.headers);
    free(P.outcome);
    free(P.attempts);
    free(P.retry_idx);
    free(P.retry_at);
    curl_global_cleanup();
    return rc;
}
