/* ss_bind_reply: what bind believes of an API server's answers. A status
 * code alone proves nothing (a proxy's HTML page is a 200 too, and any web
 * server says 404): a reply counts only when its body is a Kubernetes object
 * of the expected kind, a Binding or a Status whose reason says why. Also
 * the percent-escaping of names, the bindings' fingerprint, and reading a
 * bearer token file strictly. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "ss_bind_int.h"

int ss_bind_escape(const char *s, char *out, size_t cap, bool all)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool keep = all ? ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                           (*p >= '0' && *p <= '9') || strchr("-._~", *p))
                        : (*p > 0x20 && *p < 0x7f && *p != '%');
        if (k + (keep ? 1 : 3) >= cap)
            return -1;
        if (keep) {
            out[k++] = (char)*p;
        } else {
            out[k++] = '%';
            out[k++] = hex[*p >> 4];
            out[k++] = hex[*p & 15];
        }
    }
    if (k >= cap)
        return -1;
    out[k] = '\0';
    return (int)k;
}

static uint64_t fnv(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s;; p++) {
        h = (h ^ *p) * 0x100000001b3ULL;
        if (!*p)
            return h;
    }
}

uint64_t ss_bind_fingerprint(const ss_binding_t *b, int32_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int32_t i = 0; i < n; i++)
        h = fnv(fnv(fnv(h, b[i].ns), b[i].name), b[i].node);
    return h;
}

static const char *str_of(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* A printable start of a body that is not what it should be. */
static void snippet(const char *ctype, const char *body, size_t len, char *out, size_t cap)
{
    char text[121];
    size_t k = 0;
    for (size_t i = 0; i < len && k < sizeof text - 1; i++)
        text[k++] = (body[i] >= 0x20 && body[i] < 0x7f) ? body[i] : ' ';
    text[k] = '\0';
    snprintf(out, cap, "%s body '%s%s'", ctype && *ctype ? ctype : "untyped", text,
             len > k ? "..." : "");
}

/* The node an "already assigned to node \"X\"" message names, or false. */
static bool assigned_node(const char *msg, char *other, size_t cap)
{
    const char *p = strstr(msg, "already assigned to node \"");
    if (!p || cap == 0)
        return false;
    p += strlen("already assigned to node \"");
    size_t k = 0;
    for (; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1])
            p++;
        if (k + 1 < cap)
            other[k++] = *p;
    }
    other[k] = '\0';
    return *p == '"' && k > 0;
}

static enum ss_bind_verdict classify_status(long code, json_t *o, const char *node, char *why,
                                            size_t why_cap, char *other, size_t other_cap)
{
    const char *reason = str_of(o, "reason"), *msg = str_of(o, "message");
    snprintf(why, why_cap, "HTTP %ld %s: %.200s", code, *reason ? reason : "(no reason)", msg);
    if (code >= 200 && code < 300)
        return !strcmp(str_of(o, "status"), "Success") ? SS_VERDICT_BOUND : SS_VERDICT_ALIEN;
    if (code == 429 || code >= 500)
        return SS_VERDICT_RETRY;
    if (code == 404)
        return !strcmp(reason, "NotFound") ? SS_VERDICT_GONE : SS_VERDICT_REFUSED;
    if (code == 409) {
        if (!assigned_node(msg, other, other_cap))
            return SS_VERDICT_RETRY; /* another conflict: may clear up */
        return !strcmp(other, node) ? SS_VERDICT_ALREADY : SS_VERDICT_ELSEWHERE;
    }
    return SS_VERDICT_REFUSED;
}

enum ss_bind_verdict ss_bind_classify(long code, const char *ctype, const char *body, size_t len,
                                      const char *node, char *why, size_t why_cap, char *other,
                                      size_t other_cap)
{
    json_error_t jerr;
    json_t *o = json_loadb(body, len, 0, &jerr);
    const char *kind = json_is_object(o) ? str_of(o, "kind") : "";
    enum ss_bind_verdict v;
    if (!strcmp(kind, "Status")) {
        v = classify_status(code, o, node, why, why_cap, other, other_cap);
    } else if (!strcmp(kind, "Binding") && code >= 200 && code < 300) {
        snprintf(why, why_cap, "HTTP %ld Binding", code);
        v = SS_VERDICT_BOUND;
    } else {
        char sn[200];
        snippet(ctype, body, len, sn, sizeof sn);
        snprintf(why, why_cap, "HTTP %ld, not a Kubernetes %s: %s", code,
                 code < 300 ? "Binding or Status" : "Status", sn);
        /* a proxy's 502/503 page in an outage: worth retrying */
        v = (code == 429 || code >= 500) ? SS_VERDICT_RETRY : SS_VERDICT_ALIEN;
    }
    json_decref(o);
    return v;
}

int ss_bind_check_api(const char *url, long code, const char *ctype, const char *body, size_t len,
                      ss_error_t *err)
{
    json_error_t jerr;
    json_t *o = json_loadb(body, len, 0, &jerr);
    const char *kind = json_is_object(o) ? str_of(o, "kind") : "";
    bool v1 = false;
    json_t *vs = json_is_object(o) ? json_object_get(o, "versions") : NULL;
    for (size_t i = 0; json_is_array(vs) && i < json_array_size(vs); i++) {
        const char *v = json_string_value(json_array_get(vs, i));
        v1 |= v && !strcmp(v, "v1");
    }
    int rc = 0;
    if (code == 200 && !strcmp(kind, "APIVersions") && v1) {
        rc = 0;
    } else if (!strcmp(kind, "Status") && (code == 401 || code == 403)) {
        rc = ss_error_set(err, SS_EINVAL,
                          "%s: HTTP %ld %s (%.200s): the API server refuses these credentials; "
                          "check --token-file (or use kubectl proxy)",
                          url, code, str_of(o, "reason"), str_of(o, "message"));
    } else {
        char sn[200];
        snippet(ctype, body, len, sn, sizeof sn);
        char what[240];
        if (*kind)
            snprintf(what, sizeof what, "a %.100s object", kind);
        else
            snprintf(what, sizeof what, "%s", sn);
        rc = ss_error_set(err, SS_EINVAL,
                          "%s: not a Kubernetes API server: HTTP %ld, %s (expected an "
                          "APIVersions object listing v1); is --server the API server's URL, "
                          "with the right path prefix?",
                          url, code, what);
    }
    json_decref(o);
    return rc;
}

int ss_bind_read_token(const char *path, char *tok, size_t cap, ss_error_t *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ss_error_set(err, SS_EIO, "%s: cannot read the bearer token: %s", path,
                            strerror(errno));
    size_t n = fread(tok, 1, cap - 1, f);
    bool more = fgetc(f) != EOF, bad_read = ferror(f) != 0;
    fclose(f);
    if (bad_read)
        return ss_error_set(err, SS_EIO, "%s: error reading the bearer token", path);
    if (more)
        return ss_error_set(err, SS_EINVAL, "%s: longer than %zu bytes: not a bearer token", path,
                            cap - 2);
    if (n > 0 && tok[n - 1] == '\n')
        n--; /* one trailing newline, as an editor or `echo` writes it */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)tok[i] < 0x21 || (unsigned char)tok[i] > 0x7e)
            return ss_error_set(err, SS_EINVAL,
                                "%s: byte %zu is %s: a bearer token is one line of visible ASCII "
                                "(only one trailing newline is allowed)",
                                path, i,
                                tok[i] == '\r'   ? "a CR"
                                : tok[i] == '\n' ? "a line feed"
                                                 : "a space or control character");
    if (n == 0)
        return ss_error_set(err, SS_EINVAL, "%s: empty bearer token", path);
    tok[n] = '\0';
    return 0;
}

/* An eviction refused for a PodDisruptionBudget: a DisruptionBudget cause
 * (the API server's), or its message. */
static bool budget_refusal(long code, json_t *o)
{
    const char *msg = str_of(o, "message");
    if (code == 500)
        return strstr(msg, "more than one PodDisruptionBudget") != NULL;
    json_t *causes = json_object_get(json_object_get(o, "details"), "causes");
    for (size_t i = 0; json_is_array(causes) && i < json_array_size(causes); i++)
        if (!strcmp(str_of(json_array_get(causes, i), "type"), "DisruptionBudget"))
            return true;
    return strstr(msg, "disruption budget") != NULL;
}

static enum ss_bind_verdict step_status(int op, long code, json_t *o, char *why, size_t why_cap)
{
    const char *reason = str_of(o, "reason"), *msg = str_of(o, "message");
    snprintf(why, why_cap, "HTTP %ld %s: %.200s", code, *reason ? reason : "(no reason)", msg);
    if (code >= 200 && code < 300)
        return !strcmp(str_of(o, "status"), "Success") ? SS_VERDICT_BOUND : SS_VERDICT_ALIEN;
    if (code == 404)
        return !strcmp(reason, "NotFound") ? SS_VERDICT_GONE : SS_VERDICT_REFUSED;
    if (op == SS_REQ_EVICT && (code == 429 || code == 500) && budget_refusal(code, o))
        return SS_VERDICT_BUDGET;
    if (code == 429 || code >= 500 || code == 409)
        return SS_VERDICT_RETRY;
    return SS_VERDICT_REFUSED;
}

enum ss_bind_verdict ss_bind_classify_step(int op, long code, const char *ctype, const char *body,
                                           size_t len, char *why, size_t why_cap)
{
    json_error_t jerr;
    json_t *o = json_loadb(body, len, 0, &jerr);
    const char *kind = json_is_object(o) ? str_of(o, "kind") : "";
    enum ss_bind_verdict v;
    bool ok2xx = code >= 200 && code < 300;
    if (!strcmp(kind, "Status")) {
        v = step_status(op, code, o, why, why_cap);
    } else if (ok2xx &&
               (op == SS_REQ_MIGCONFIG || op == SS_REQ_CORDON ? !strcmp(kind, "Node")
                : op == SS_REQ_PGSTATUS
                    ? !strcmp(kind, "PodGroup")
                    : !strcmp(kind, "Pod") || (op == SS_REQ_EVICT && !strcmp(kind, "Eviction")))) {
        snprintf(why, why_cap, "HTTP %ld %s", code, kind);
        v = op < 0 ? SS_VERDICT_PRESENT : SS_VERDICT_BOUND;
    } else {
        char sn[200];
        snippet(ctype, body, len, sn, sizeof sn);
        snprintf(why, why_cap, "HTTP %ld, not a Kubernetes %s: %s", code,
                 ok2xx ? "Pod or Status" : "Status", sn);
        v = (code == 429 || code >= 500) ? SS_VERDICT_RETRY : SS_VERDICT_ALIEN;
    }
    if (op < 0 && v == SS_VERDICT_BOUND)
        v = SS_VERDICT_ALIEN; /* a GET of a pod answers the Pod */
    json_decref(o);
    return v;
}

/* A GET of a wave's wait (a PodList or a PodDisruptionBudget): the object
 * of kind, or the verdict that it is not. */
static enum ss_bind_verdict wave_object(long code, const char *ctype, const char *body, size_t len,
                                        const char *want, json_t **out, char *why, size_t cap)
{
    json_error_t jerr;
    json_t *o = json_loadb(body, len, 0, &jerr);
    const char *kind = json_is_object(o) ? str_of(o, "kind") : "";
    *out = NULL;
    if (code == 200 && !strcmp(kind, want)) {
        *out = o;
        return SS_VERDICT_PRESENT;
    }
    enum ss_bind_verdict v;
    if (!strcmp(kind, "Status")) {
        v = step_status(-1, code, o, why, cap);
    } else {
        char sn[200];
        snippet(ctype, body, len, sn, sizeof sn);
        snprintf(why, cap, "HTTP %ld, not a Kubernetes %s or Status: %s", code, want, sn);
        v = (code == 429 || code >= 500) ? SS_VERDICT_RETRY : SS_VERDICT_ALIEN;
    }
    json_decref(o);
    return v == SS_VERDICT_BOUND ? SS_VERDICT_ALIEN : v;
}

enum ss_bind_verdict ss_bind_count_running(long code, const char *ctype, const char *body,
                                           size_t len, int64_t *running, char *why, size_t cap)
{
    json_t *o;
    enum ss_bind_verdict v = wave_object(code, ctype, body, len, "PodList", &o, why, cap);
    *running = 0;
    if (!o)
        return v;
    json_t *items = json_object_get(o, "items");
    for (size_t i = 0; json_is_array(items) && i < json_array_size(items); i++) {
        json_t *p = json_array_get(items, i);
        json_t *md = json_object_get(p, "metadata");
        bool deleting = json_object_get(md, "deletionTimestamp") &&
                        !json_is_null(json_object_get(md, "deletionTimestamp"));
        *running += !deleting && !strcmp(str_of(json_object_get(p, "status"), "phase"), "Running");
    }
    snprintf(why, cap, "%lld Running", (long long)*running);
    v = json_is_array(items) ? SS_VERDICT_PRESENT : SS_VERDICT_ALIEN;
    json_decref(o);
    return v;
}

enum ss_bind_verdict ss_bind_pdb_allowed(long code, const char *ctype, const char *body, size_t len,
                                         int64_t *allowed, char *why, size_t cap)
{
    json_t *o;
    enum ss_bind_verdict v =
        wave_object(code, ctype, body, len, "PodDisruptionBudget", &o, why, cap);
    *allowed = 0;
    if (!o)
        return v;
    json_t *a = json_object_get(json_object_get(o, "status"), "disruptionsAllowed");
    *allowed = json_is_integer(a) ? (int64_t)json_integer_value(a) : 0;
    snprintf(why, cap, "status.disruptionsAllowed %lld", (long long)*allowed);
    json_decref(o);
    return SS_VERDICT_PRESENT;
}
