/* test_bind: the parts of bind that need no server. Which gang members are
 * posted (a group reaching minMember with placed + running members, never
 * one below it), how names are escaped, how replies are classified (by
 * their Kubernetes body, not the status code alone), the GET /api check, and
 * which token files are refused; the ordered request log of a plan with
 * preemption victims (built from placements in memory, in commit order,
 * written and read back), malformed logs, and how the replies to its
 * requests are classified (eviction refusals by their Status body); the
 * mig-config line of a node with MIG re-layouts (its label, its wait's
 * allocatable, its Bindings after it), and how a GET of the node is judged.
 * tests/e2e_bind.sh and tests/e2e_bind_preempt.sh drive the rest against a
 * fault-injecting server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <unistd.h>

#include "ss_bind.h"
#include "ss_bind_int.h"
#include "ss_reason.h"

static int32_t S(ss_cluster_t *c, const char *s)
{
    int32_t id = ss_cluster_str(c, s);
    assert_true(id >= 0);
    return id;
}

/* Groups: "elastic" 3 of 4 placed (minMember 2): posted; "short" 1 of 4
 * placed (minMember 2): held; "helped" 1 placed + 1 running (minMember 2):
 * posted, needing 1. */
static void test_collect_gangs(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    int32_t topo[4] = {S(c, "r"), S(c, "z"), S(c, "b"), S(c, "k")};
    assert_true(ss_cluster_add_node(c, S(c, "n0"), topo, 64000, 1LL << 36, 110, NULL, false, 0, 0,
                                    0, 0, 0, 0) == 0);
    ss_template_t t;
    memset(&t, 0, sizeof t);
    t.req.cpu_milli = 100;
    t.workload = S(c, "deploy/x");
    int32_t tm = ss_cluster_add_template(c, &t);
    int32_t ge = ss_cluster_add_group(c, S(c, "ns/elastic"), 2, 0, 0);
    int32_t gs = ss_cluster_add_group(c, S(c, "ns/short"), 2, 0, 0);
    int32_t gh = ss_cluster_add_group(c, S(c, "ns/helped"), 2, 0, 0);
    char name[32];
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "e-%d", i);
        assert_true(ss_cluster_add_pod(c, S(c, name), S(c, "ns"), tm, 0, ge, -1, 0) >= 0);
    }
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "s-%d", i);
        assert_true(ss_cluster_add_pod(c, S(c, name), S(c, "ns"), tm, 0, gs, -1, 0) >= 0);
    }
    assert_true(ss_cluster_add_pod(c, S(c, "h-run"), S(c, "ns"), tm, 0, gh, 0, 0) >= 0);
    assert_true(ss_cluster_add_pod(c, S(c, "h-0"), S(c, "ns"), tm, 0, gh, -1, 0) >= 0);
    /* rows: the 9 pending pods; placed: e-0..2, s-0, h-0 */
    ss_placements_t *p = ss_placements_create(9);
    assert_non_null(p);
    const int32_t pods[9] = {0, 1, 2, 3, 4, 5, 6, 7, 9}, node[9] = {0, 0, 0, -1, 0, -1, -1, -1, 0};
    for (int i = 0; i < 9; i++) {
        p->pod[i] = pods[i];
        p->node[i] = node[i];
    }
    ss_binding_t *b = NULL;
    int32_t n = 0;
    ss_bind_summary_t s;
    memset(&s, 0, sizeof s);
    ss_error_t err = {{0}};
    assert_int_equal(ss_bind_collect(c, p, &b, &n, &s, &err), 0);
    assert_int_equal(n, 4);
    assert_string_equal(b[0].name, "e-0");
    assert_string_equal(b[2].name, "e-2");
    assert_int_equal(b[0].group_need, 2);
    assert_string_equal(b[3].name, "h-0");
    assert_int_equal(b[3].group_need, 1);
    assert_int_equal(s.held, 1);     /* s-0: its group is below minMember */
    assert_int_equal(s.unplaced, 4); /* e-3, s-1..3 */
    free(b);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_escape(void **state)
{
    (void)state;
    char out[64];
    assert_true(ss_bind_escape("a/../../nodes/x", out, sizeof out, true) > 0);
    assert_string_equal(out, "a%2F..%2F..%2Fnodes%2Fx");
    assert_true(ss_bind_escape("a b%\n", out, sizeof out, true) > 0);
    assert_string_equal(out, "a%20b%25%0A");
    assert_true(ss_bind_escape("http://h:1/x y", out, sizeof out, false) > 0);
    assert_string_equal(out, "http://h:1/x%20y");
    assert_int_equal(ss_bind_escape("////", out, 12, true), -1); /* does not fit */
}

static enum ss_bind_verdict cls(long code, const char *ctype, const char *body, char *other)
{
    char why[400];
    return ss_bind_classify(code, ctype, body, strlen(body), "node-1", why, sizeof why, other, 64);
}

static void test_classify(void **state)
{
    (void)state;
    char other[64];
    assert_int_equal(cls(200, "text/html", "<html>ok</html>", other), SS_VERDICT_ALIEN);
    assert_int_equal(cls(200, "application/json", "{\"kind\":\"Pod\"}", other), SS_VERDICT_ALIEN);
    assert_int_equal(cls(201, "application/json",
                         "{\"kind\":\"Status\",\"status\":\"Success\",\"code\":201}", other),
                     SS_VERDICT_BOUND);
    assert_int_equal(cls(201, "application/json", "{\"kind\":\"Binding\"}", other),
                     SS_VERDICT_BOUND);
    assert_int_equal(cls(404, "text/plain", "404 page not found", other), SS_VERDICT_ALIEN);
    assert_int_equal(cls(404, "application/json",
                         "{\"kind\":\"Status\",\"reason\":\"NotFound\",\"message\":\"pods "
                         "\\\"x\\\" not found\"}",
                         other),
                     SS_VERDICT_GONE);
    const char *c409 =
        "{\"kind\":\"Status\",\"reason\":\"Conflict\",\"message\":\"Operation cannot "
        "be fulfilled on pods/binding \\\"x\\\": pod x is already assigned to node "
        "\\\"%s\\\"\"}";
    char body[400];
    snprintf(body, sizeof body, c409, "node-1");
    assert_int_equal(cls(409, "application/json", body, other), SS_VERDICT_ALREADY);
    snprintf(body, sizeof body, c409, "node-2");
    assert_int_equal(cls(409, "application/json", body, other), SS_VERDICT_ELSEWHERE);
    assert_string_equal(other, "node-2");
    assert_int_equal(
        cls(409, "application/json", "{\"kind\":\"Status\",\"reason\":\"Conflict\"}", other),
        SS_VERDICT_RETRY);
    assert_int_equal(
        cls(403, "application/json", "{\"kind\":\"Status\",\"reason\":\"Forbidden\"}", other),
        SS_VERDICT_REFUSED);
    assert_int_equal(cls(502, "text/html", "<html>bad gateway</html>", other), SS_VERDICT_RETRY);
    assert_int_equal(cls(401, "text/plain", "Unauthorized", other), SS_VERDICT_ALIEN);
}

static void test_check_api(void **state)
{
    (void)state;
    ss_error_t err = {{0}};
    const char *ok = "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"]}";
    assert_int_equal(ss_bind_check_api("u", 200, "application/json", ok, strlen(ok), &err), 0);
    const char *no_v1 = "{\"kind\":\"APIVersions\",\"versions\":[\"v2\"]}";
    assert_true(ss_bind_check_api("u", 200, "application/json", no_v1, strlen(no_v1), &err) < 0);
    assert_true(ss_bind_check_api("u", 200, "text/html", "<html/>", 7, &err) < 0);
    assert_non_null(strstr(err.text, "not a Kubernetes API server"));
}

static int token(const char *text, size_t len, char *tok, ss_error_t *err)
{
    char path[] = "/tmp/test_bind_tokenXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    int rc = ss_bind_read_token(path, tok, 64, err);
    unlink(path);
    return rc;
}

/* --server is checked before anything is read: a URL without a host or of
 * another scheme is a usage error naming it (it used to be tried and give
 * "http:/api: Could not resolve host: api"). */
static void test_server_check(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        int ok;
        const char *why;
    } rows[] = {
        {"http://127.0.0.1:8001", 1, NULL},
        {"https://api.example.com:6443/prefix", 1, NULL},
        {"http://", 0, "not a URL with a host"},
        {"ftp://host", 0, "scheme must be http or https"},
        {"not a url", 0, "not a URL with a host"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ss_error_t err = {{0}};
        int rc = ss_bind_server_check(rows[i].url, &err);
        if (rows[i].ok) {
            assert_int_equal(rc, 0);
        } else {
            assert_int_equal(rc, SS_EINVAL);
            if (!strstr(err.text, rows[i].why) || !strstr(err.text, rows[i].url))
                fail_msg("'%s': %s", rows[i].url, err.text);
        }
    }
}

static void test_token(void **state)
{
    (void)state;
    char tok[64];
    ss_error_t err = {{0}};
    assert_int_equal(token("abc\n", 4, tok, &err), 0);
    assert_string_equal(tok, "abc");
    assert_int_equal(token("abc", 3, tok, &err), 0);
    assert_true(token("abc\r\n", 5, tok, &err) < 0);
    assert_non_null(strstr(err.text, "byte 3 is a CR"));
    assert_true(token("abc\nX: y\n", 9, tok, &err) < 0);
    assert_non_null(strstr(err.text, "byte 3 is a line feed"));
    assert_true(token("abc\n\n", 5, tok, &err) < 0);
    assert_true(token("a c", 3, tok, &err) < 0);
    assert_true(token("\n", 1, tok, &err) < 0);
    char big[100];
    memset(big, 'x', sizeof big);
    assert_true(token(big, sizeof big, tok, &err) < 0);
    assert_non_null(strstr(err.text, "longer than"));
}

/* Nodes n0, n1; running v0, v1 on n0 (priority 0); pending (priority 100):
 * S on n0 committed first, P on n0 preempting v0 and v1, Q on n0 after P,
 * R on n1. */
static ss_cluster_t *preempt_cluster(ss_placements_t **pp)
{
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    int32_t topo[4] = {S(c, "r"), S(c, "z"), S(c, "b"), S(c, "k")};
    for (int i = 0; i < 2; i++) {
        char nm[8];
        snprintf(nm, sizeof nm, "n%d", i);
        assert_true(ss_cluster_add_node(c, S(c, nm), topo, 64000, 1LL << 36, 110, NULL, false, 0, 0,
                                        0, 0, 0, 0) == i);
    }
    ss_template_t t;
    memset(&t, 0, sizeof t);
    t.req.cpu_milli = 100;
    t.workload = S(c, "deploy/x");
    int32_t tm = ss_cluster_add_template(c, &t);
    assert_true(ss_cluster_add_pod(c, S(c, "v0"), S(c, "ns"), tm, 0, -1, 0, 0) == 0);
    assert_true(ss_cluster_add_pod(c, S(c, "v1"), S(c, "ns"), tm, 0, -1, 0, 0) == 1);
    const char *pend[4] = {"S", "P", "Q", "R"};
    for (int i = 0; i < 4; i++)
        assert_true(ss_cluster_add_pod(c, S(c, pend[i]), S(c, "ns"), tm, 100, -1, -1, 0) == 2 + i);
    ss_placements_t *p = ss_placements_create(4);
    assert_non_null(p);
    assert_non_null(p->seq); /* ss_placements_create makes it */
    const int32_t node[4] = {0, 0, 0, 1}, seq[4] = {0, 2, 3, 1};
    for (int i = 0; i < 4; i++) {
        p->pod[i] = 2 + i;
        p->node[i] = node[i];
        p->seq[i] = seq[i];
    }
    assert_int_equal(ss_placements_add_victim(p, 1, 0), 0);
    assert_int_equal(ss_placements_add_victim(p, 1, 1), 0);
    *pp = p;
    return c;
}

/* Evicting the victims of a plan computed with soft PDBs (pdb_hard 0) is
 * refused, naming the file and the options; a pdb_hard plan, DELETE, a
 * plan without victims and allow_soft (--allow-soft-pdb) pass. */
static void test_pdb_mode(void **state)
{
    (void)state;
    ss_placements_t *p = NULL;
    ss_cluster_t *c = preempt_cluster(&p);
    ss_error_t err = {{0}};
    assert_int_equal(p->pdb_hard, 0); /* ss_placements_create: soft, as an old file */
    assert_int_equal(ss_bind_check_pdb_mode(p, "plan.h5", true, false, &err), SS_EINVAL);
    assert_non_null(strstr(err.text, "plan.h5: refusing to evict 2 preemption victim(s)"));
    assert_non_null(strstr(err.text, "--preempt-with evict"));
    assert_non_null(strstr(err.text, "--allow-soft-pdb"));
    assert_int_equal(ss_bind_check_pdb_mode(p, "plan.h5", true, true, &err), 0);
    assert_int_equal(ss_bind_check_pdb_mode(p, "plan.h5", false, false, &err), 0);
    p->pdb_hard = 1;
    assert_int_equal(ss_bind_check_pdb_mode(p, "plan.h5", true, false, &err), 0);
    p->pdb_hard = 0;
    p->n_victims = 0;
    assert_int_equal(ss_bind_check_pdb_mode(p, "plan.h5", true, false, &err), 0);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void build_log(const ss_cluster_t *c, const ss_placements_t *p, bool evict, ss_bind_log_t *l)
{
    ss_binding_t *b = NULL;
    int32_t n = 0;
    ss_bind_summary_t s;
    memset(&s, 0, sizeof s);
    ss_error_t err = {{0}};
    assert_int_equal(ss_bind_collect(c, p, &b, &n, &s, &err), 0);
    assert_int_equal(n, 4);
    assert_true(ss_bind_has_victims(c, p));
    ss_bind_opts_t o;
    ss_bind_opts_default(&o);
    o.preempt_evict = evict;
    o.evict_wait_s = 42;
    int rc = ss_bind_log_build(c, p, b, n, &o, l, &err);
    if (rc != 0)
        fail_msg("%s", err.text);
    free(b);
}

static void expect_line(const ss_bind_line_t *x, int32_t unit, int op, const char *method,
                        const char *path, const char *ctype, const char *body_has)
{
    if (x->unit != unit || x->op != op || strcmp(x->method, method) || strcmp(x->path, path) ||
        strcmp(x->ctype, ctype) || (body_has && (!x->body || !strstr(x->body, body_has))) ||
        (!body_has && x->body))
        fail_msg("got unit %d op %d %s %s [%s] %s; want unit %d op %d %s %s [%s] ~%s", x->unit,
                 x->op, x->method, x->path, x->ctype, x->body ? x->body : "null", unit, op, method,
                 path, ctype, body_has ? body_has : "null");
}

#define PP "/api/v1/namespaces/ns/pods/"
static const char *const MERGE = "application/merge-patch+json";
static const char *const SMP = "application/strategic-merge-patch+json";
static const char *const JS = "application/json";

/* Commit order: S (n0: before the preemption, so it binds first), R (n1: a
 * unit of its own), P (nominate; DisruptionTarget + DELETE per victim; the
 * last one waits for both; bind), Q (n0: after P's removals, in n0's unit). */
static void check_delete_log(const ss_bind_log_t *l)
{
    assert_int_equal(l->n, 9);
    assert_int_equal(l->n_units, 2);
    assert_int_equal(l->n_victims, 2);
    const ss_bind_line_t *x = l->line;
    expect_line(&x[0], 0, SS_REQ_BIND, "POST", PP "S/binding", JS, "\"name\":\"n0\"");
    expect_line(&x[1], 1, SS_REQ_BIND, "POST", PP "R/binding", JS, "\"name\":\"n1\"");
    expect_line(&x[2], 0, SS_REQ_NOMINATE, "PATCH", PP "P/status", MERGE,
                "{\"status\":{\"nominatedNodeName\":\"n0\"}}");
    expect_line(&x[3], 0, SS_REQ_DISRUPT, "PATCH", PP "v0/status", SMP,
                "\"reason\":\"PreemptionByScheduler\"");
    assert_non_null(strstr(x[3].body, "\"type\":\"DisruptionTarget\""));
    expect_line(&x[4], 0, SS_REQ_DELETE, "DELETE", PP "v0", JS, NULL);
    expect_line(&x[5], 0, SS_REQ_DISRUPT, "PATCH", PP "v1/status", SMP, "ns/P");
    expect_line(&x[6], 0, SS_REQ_DELETE, "DELETE", PP "v1", JS, NULL);
    expect_line(&x[7], 0, SS_REQ_BIND, "POST", PP "P/binding", JS, "\"name\":\"n0\"");
    expect_line(&x[8], 0, SS_REQ_BIND, "POST", PP "Q/binding", JS, "\"name\":\"n0\"");
    for (int i = 0; i < 9; i++)
        assert_int_equal(x[i].n_gone, i == 6 ? 2 : 0);
    assert_string_equal(x[6].gone[0], PP "v0");
    assert_string_equal(x[6].gone[1], PP "v1");
    assert_true(x[6].wait_s == 42);
    assert_string_equal(x[7].node, "n0");
    assert_string_equal(x[2].name, "P");
}

static void test_log_build(void **state)
{
    (void)state;
    ss_placements_t *p = NULL;
    ss_cluster_t *c = preempt_cluster(&p);
    ss_bind_log_t l;
    build_log(c, p, false, &l);
    check_delete_log(&l);
    /* written and read back: the same requests */
    char path[] = "/tmp/test_bind_logXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    ss_error_t err = {{0}};
    assert_int_equal(ss_bind_log_write(&l, path, &err), 0);
    ss_bind_log_t r;
    int rc = ss_bind_log_read(path, &r, &err);
    if (rc != 0)
        fail_msg("%s", err.text);
    check_delete_log(&r);
    for (int i = 0; i < 9; i++)
        if ((l.line[i].body || r.line[i].body) && strcmp(l.line[i].body, r.line[i].body))
            fail_msg("line %d: %s != %s", i, l.line[i].body, r.line[i].body);
    ss_bind_log_free(&r);
    ss_bind_log_free(&l);
    /* evict: one Eviction per victim, the last waits */
    build_log(c, p, true, &l);
    assert_int_equal(l.n, 7);
    expect_line(&l.line[3], 0, SS_REQ_EVICT, "POST", PP "v0/eviction", JS,
                "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":"
                "\"v0\",\"namespace\":\"ns\"}}");
    expect_line(&l.line[4], 0, SS_REQ_EVICT, "POST", PP "v1/eviction", JS, "\"v1\"");
    assert_int_equal(l.line[3].n_gone, 0);
    assert_int_equal(l.line[4].n_gone, 2);
    ss_bind_log_free(&l);
    /* a victim that does not run on its preemptor's node is refused */
    p->victim_pod[1] = 4; /* Q: pending */
    ss_binding_t *b = NULL;
    int32_t n = 0;
    ss_bind_summary_t s;
    memset(&s, 0, sizeof s);
    assert_int_equal(ss_bind_collect(c, p, &b, &n, &s, &err), 0);
    ss_bind_opts_t o;
    ss_bind_opts_default(&o);
    assert_int_equal(ss_bind_log_build(c, p, b, n, &o, &l, &err), SS_EFORMAT);
    assert_non_null(strstr(err.text, "victim 1 (row 1, pod 4) is not a running pod"));
    free(b);
    unlink(path);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static int read_text(const char *text, ss_error_t *err)
{
    char path[] = "/tmp/test_bind_badXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    ss_bind_log_t l;
    int rc = ss_bind_log_read(path, &l, err);
    if (rc == 0)
        ss_bind_log_free(&l);
    unlink(path);
    return rc;
}

static void test_log_read_bad(void **state)
{
    (void)state;
#define OK_BIND                                                                                    \
    "{\"unit\":0,\"op\":\"bind\",\"method\":\"POST\",\"path\":\"" PP "a/binding\","                \
    "\"contentType\":\"application/json\",\"body\":{\"target\":{\"name\":\"n\"}},\"wait\":null}\n"
    static const struct {
        const char *text, *why;
    } rows[] = {
        {OK_BIND, NULL},
        {"", "has no requests"},
        {"{\"unit\":0", "truncated"},
        {"[1]\n", ":1: not a request of a shardsched request log: not a JSON object"},
        {OK_BIND "{\"unit\":-1,\"op\":\"bind\"}\n", ":2: not a request of a shardsched request "
                                                    "log: unit is not an integer"},
        {"{\"unit\":0,\"op\":\"kill\"}\n", "op is not nominate"},
        {"{\"unit\":0,\"op\":\"delete\",\"method\":\"POST\"}\n", "method does not match op"},
        {"{\"unit\":0,\"op\":\"delete\",\"method\":\"DELETE\",\"path\":\"" PP "a/binding\"}\n",
         "path is not the op's"},
        {"{\"unit\":0,\"op\":\"delete\",\"method\":\"DELETE\",\"path\":\"/api/v1/namespaces/"
         "ns/pods/..\"}\n",
         "path is not the op's"},
        {"{\"unit\":0,\"op\":\"delete\",\"method\":\"DELETE\",\"path\":\"/api/v1/namespaces/"
         "ns/pods/a%2\"}\n",
         "path is not the op's"},
        {"{\"unit\":0,\"op\":\"delete\",\"method\":\"DELETE\",\"path\":\"" PP "a\","
         "\"contentType\":\"application/json\",\"body\":{}}\n",
         "body is not an object (null for delete)"},
        {"{\"unit\":0,\"op\":\"bind\",\"method\":\"POST\",\"path\":\"" PP "a/binding\","
         "\"contentType\":\"application/json\",\"body\":{}}\n",
         "the body names no node"},
        {"{\"unit\":0,\"op\":\"delete\",\"method\":\"DELETE\",\"path\":\"" PP "a\","
         "\"contentType\":\"application/json\",\"body\":null,\"wait\":{\"gone\":[\"/x\"],"
         "\"timeoutSeconds\":5}}\n",
         "wait.gone holds a path"},
        {"{\"unit\":0,\"op\":\"delete\",\"method\":\"DELETE\",\"path\":\"" PP "a\","
         "\"contentType\":\"application/json\",\"body\":null,\"wait\":{\"gone\":[]}}\n",
         "wait is not null or"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ss_error_t err = {{0}};
        int rc = read_text(rows[i].text, &err);
        if (!rows[i].why ? rc != 0 : (rc == 0 || !strstr(err.text, rows[i].why)))
            fail_msg("row %zu: rc %d: %s", i, rc, err.text);
    }
}

static enum ss_bind_verdict step(int op, long code, const char *body)
{
    char why[400];
    return ss_bind_classify_step(op, code, "application/json", body, strlen(body), why, sizeof why);
}

static void test_classify_step(void **state)
{
    (void)state;
    const char *ok = "{\"kind\":\"Status\",\"status\":\"Success\",\"code\":201}";
    const char *pod = "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"v\"}}";
    const char *nf = "{\"kind\":\"Status\",\"reason\":\"NotFound\",\"code\":404}";
    const char *pdb = "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"TooManyRequests\","
                      "\"message\":\"Cannot evict pod as it would violate the pod's disruption "
                      "budget.\",\"details\":{\"causes\":[{\"type\":\"DisruptionBudget\","
                      "\"message\":\"The disruption budget b needs 2 healthy pods\"}]},"
                      "\"code\":429}";
    const char *cause_only = "{\"kind\":\"Status\",\"reason\":\"TooManyRequests\",\"details\":{"
                             "\"causes\":[{\"type\":\"DisruptionBudget\"}]}}";
    const char *rate = "{\"kind\":\"Status\",\"reason\":\"TooManyRequests\",\"message\":\"Too "
                       "many requests, please try again later.\"}";
    const char *multi = "{\"kind\":\"Status\",\"reason\":\"InternalError\",\"message\":\"Internal "
                        "error occurred: This pod has more than one PodDisruptionBudget, which "
                        "the eviction subresource does not support.\"}";
    const char *ise = "{\"kind\":\"Status\",\"reason\":\"InternalError\",\"message\":\"etcd\"}";
    const char *forb = "{\"kind\":\"Status\",\"reason\":\"Forbidden\"}";
    assert_int_equal(step(SS_REQ_EVICT, 201, ok), SS_VERDICT_BOUND);
    assert_int_equal(step(SS_REQ_EVICT, 200, ok), SS_VERDICT_BOUND);
    assert_int_equal(step(SS_REQ_EVICT, 404, nf), SS_VERDICT_GONE);
    assert_int_equal(step(SS_REQ_EVICT, 429, pdb), SS_VERDICT_BUDGET);
    assert_int_equal(step(SS_REQ_EVICT, 429, cause_only), SS_VERDICT_BUDGET);
    assert_int_equal(step(SS_REQ_EVICT, 429, rate), SS_VERDICT_RETRY);
    assert_int_equal(step(SS_REQ_EVICT, 500, multi), SS_VERDICT_BUDGET);
    assert_int_equal(step(SS_REQ_EVICT, 500, ise), SS_VERDICT_RETRY);
    assert_int_equal(step(SS_REQ_EVICT, 403, forb), SS_VERDICT_REFUSED);
    assert_int_equal(step(SS_REQ_DELETE, 429, pdb), SS_VERDICT_RETRY); /* not an eviction */
    assert_int_equal(step(SS_REQ_DELETE, 200, pod), SS_VERDICT_BOUND);
    assert_int_equal(step(SS_REQ_DELETE, 404, nf), SS_VERDICT_GONE);
    assert_int_equal(step(SS_REQ_NOMINATE, 200, pod), SS_VERDICT_BOUND);
    assert_int_equal(step(SS_REQ_DISRUPT, 409, "{\"kind\":\"Status\",\"reason\":\"Conflict\"}"),
                     SS_VERDICT_RETRY);
    assert_int_equal(step(SS_REQ_NOMINATE, 200, "<html>proxy</html>"), SS_VERDICT_ALIEN);
    assert_int_equal(step(SS_REQ_DELETE, 404, "404 page not found"), SS_VERDICT_ALIEN);
    assert_int_equal(step(SS_REQ_EVICT, 502, "<html>bad gateway</html>"), SS_VERDICT_RETRY);
    /* the GET of a wait: gone only on a NotFound Status */
    assert_int_equal(step(-1, 200, pod), SS_VERDICT_PRESENT);
    assert_int_equal(step(-1, 404, nf), SS_VERDICT_GONE);
    assert_int_equal(step(-1, 404, "404 page not found"), SS_VERDICT_ALIEN);
    assert_int_equal(step(-1, 200, ok), SS_VERDICT_ALIEN);
}

/* n0: one H100 whole GPU re-laid out as 2x 3g.40gb, with MIG pods M0, M1
 * and a CPU pod C0; n1: a whole H100 kept, pod W (1 GPU); n2: an H100 at
 * 7x 1g.10gb kept, n3: an H100 in MIG mode re-laid out, pod C3 (CPU only:
 * needs no label). */
static ss_cluster_t *mig_cluster(ss_placements_t **pp)
{
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    int32_t topo[4] = {S(c, "r"), S(c, "z"), S(c, "b"), S(c, "k")};
    int mi = ss_mig_find_model("H100-80GB");
    assert_true(mi >= 0);
    const ss_mig_model_t *m = ss_mig_model(mi);
    for (int i = 0; i < 4; i++) {
        char nm[8];
        snprintf(nm, sizeof nm, "n%d", i);
        int32_t g = ss_cluster_add_gpu(c, S(c, "H100-80GB"), 1000);
        assert_true(ss_cluster_add_node(c, S(c, nm), topo, 64000, 1LL << 36, 110, NULL, false, 0, 0,
                                        0, 0, g, 1) == i);
    }
    ss_mig_instance_t seven[7];
    for (int k = 0; k < 7; k++)
        seven[k] = (ss_mig_instance_t){S(c, "1g.10gb"), k};
    assert_int_equal(ss_cluster_set_gpu_mig(c, 2, S(c, "H100-80GB"), seven, 7), 0);
    assert_int_equal(ss_cluster_set_gpu_mig(c, 3, S(c, "H100-80GB"), seven, 7), 0);
    ss_template_t t;
    memset(&t, 0, sizeof t);
    t.req.cpu_milli = 100;
    t.workload = S(c, "deploy/cpu");
    int32_t tc = ss_cluster_add_template(c, &t);
    t.workload = S(c, "deploy/mig");
    t.mig_profile = S(c, "3g.40gb");
    t.mig_count = 1;
    int32_t tm = ss_cluster_add_template(c, &t);
    t.mig_profile = t.mig_count = 0;
    t.req.gpu_count = 1;
    t.req.gpu_milli = 1000;
    t.workload = S(c, "deploy/gpu");
    int32_t tg = ss_cluster_add_template(c, &t);
    const char *names[5] = {"M0", "W", "M1", "C0", "C3"};
    const int32_t tmpl[5] = {tm, tg, tm, tc, tc}, node[5] = {0, 1, 0, 0, 3};
    const uint64_t mask[5] = {1, 1, 2, 0, 0};
    ss_placements_t *p = ss_placements_create(5);
    assert_non_null(p);
    for (int i = 0; i < 5; i++) {
        assert_true(ss_cluster_add_pod(c, S(c, names[i]), S(c, "ns"), tmpl[i], 0, -1, -1, 0) == i);
        p->pod[i] = i;
        p->node[i] = node[i];
        p->gpu_mask[i] = mask[i];
        p->seq[i] = i;
    }
    /* the re-layout rows (as schedule --mig-relayout fills them) */
    int32_t counts[SS_MIG_MAX_PROFILES] = {0};
    counts[ss_mig_find_profile(m, "3g.40gb")] = 2;
    p->n_relayout = p->cap_relayout = 2;
    p->relayout_gpu = malloc(2 * sizeof *p->relayout_gpu);
    p->relayout_model = malloc(2 * sizeof *p->relayout_model);
    p->relayout = calloc(2, sizeof *p->relayout);
    assert_non_null(p->relayout);
    ss_error_t err = {{0}};
    assert_int_equal(ss_mig_canonical(m, counts, &p->relayout[0], &err), 0);
    p->relayout[1] = p->relayout[0];
    p->relayout_gpu[0] = 0;
    p->relayout_gpu[1] = 3;
    p->relayout_model[0] = p->relayout_model[1] = mi;
    *pp = p;
    return c;
}

static void check_mig_log(const ss_bind_log_t *l)
{
    /* unit 0 (n0): mig-config, M0, C0 ... M1 in commit order; W and C3 alone */
    assert_int_equal(l->n, 6);
    assert_int_equal(l->n_units, 3);
    const ss_bind_line_t *x = l->line;
    expect_line(&x[0], 0, SS_REQ_MIGCONFIG, "PATCH", "/api/v1/nodes/n0", MERGE,
                "{\"metadata\":{\"labels\":{\"nvidia.com/mig.config\":\"shardsched-");
    expect_line(&x[1], 0, SS_REQ_BIND, "POST", PP "M0/binding", JS, "\"name\":\"n0\"");
    expect_line(&x[2], 1, SS_REQ_BIND, "POST", PP "W/binding", JS, "\"name\":\"n1\"");
    expect_line(&x[3], 0, SS_REQ_BIND, "POST", PP "M1/binding", JS, "\"name\":\"n0\"");
    expect_line(&x[4], 0, SS_REQ_BIND, "POST", PP "C0/binding", JS, "\"name\":\"n0\"");
    expect_line(&x[5], 2, SS_REQ_BIND, "POST", PP "C3/binding", JS, "\"name\":\"n3\"");
    assert_string_equal(x[0].node, "n0");
    assert_int_equal(strlen(x[0].entry), strlen("shardsched-") + 16);
    assert_non_null(strstr(x[0].body, x[0].entry));
    assert_true(x[0].wait_s == 17);
    assert_int_equal(x[0].n_alloc, 2);
    assert_string_equal(x[0].alloc_key[0], "nvidia.com/gpu");
    assert_int_equal(x[0].alloc_val[0], 0);
    assert_string_equal(x[0].alloc_key[1], "nvidia.com/mig-3g.40gb");
    assert_int_equal(x[0].alloc_val[1], 2);
}

static void test_log_mig(void **state)
{
    (void)state;
    ss_placements_t *p = NULL;
    ss_cluster_t *c = mig_cluster(&p);
    ss_binding_t *b = NULL;
    int32_t n = 0;
    ss_bind_summary_t s;
    memset(&s, 0, sizeof s);
    ss_error_t err = {{0}};
    assert_int_equal(ss_bind_collect(c, p, &b, &n, &s, &err), 0);
    assert_int_equal(n, 5);
    assert_false(ss_bind_has_victims(c, p));
    assert_true(ss_bind_needs_log(c, p, b, n));
    ss_bind_opts_t o;
    ss_bind_opts_default(&o);
    assert_true(o.mig_wait_s == 300);
    o.mig_wait_s = 17;
    ss_bind_log_t l, r;
    int rc = ss_bind_log_build(c, p, b, n, &o, &l, &err);
    if (rc != 0)
        fail_msg("%s", err.text);
    check_mig_log(&l);
    char path[] = "/tmp/test_bind_migXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(ss_bind_log_write(&l, path, &err), 0);
    rc = ss_bind_log_read(path, &r, &err);
    if (rc != 0)
        fail_msg("%s", err.text);
    check_mig_log(&r);
    assert_string_equal(l.line[0].entry, r.line[0].entry);
    /* the entry names the layout: another layout, another entry */
    p->relayout[0].n = 1;
    ss_bind_log_t l2;
    assert_int_equal(ss_bind_log_build(c, p, b, n, &o, &l2, &err), 0);
    assert_string_not_equal(l2.line[0].entry, l.line[0].entry);
    assert_int_equal(l2.line[0].alloc_val[1], 1);
    ss_bind_log_free(&l2);
    /* judging a GET of the node */
    char seen[600];
    const char *ok =
        "{\"kind\":\"Node\",\"metadata\":{\"labels\":{\"nvidia.com/mig.config\":\"%s\","
        "\"nvidia.com/mig.config.state\":\"%s\"}},\"status\":{\"allocatable\":{"
        "\"cpu\":\"64\",\"nvidia.com/mig-3g.40gb\":\"%s\"%s}}}";
    char body[800];
    const struct {
        const char *entry, *state, *n3g, *extra;
        enum ss_bind_mig_seen want;
        const char *seen_has;
    } cases[] = {
        {l.line[0].entry, "success", "2", "", SS_MIG_READY, "state=success"},
        {l.line[0].entry, "success", "2", ",\"nvidia.com/gpu\":\"0\"", SS_MIG_READY, ""},
        {l.line[0].entry, "pending", "2", "", SS_MIG_WAITING, "state=pending"},
        {l.line[0].entry, "success", "1", "", SS_MIG_WAITING,
         "allocatable nvidia.com/mig-3g.40gb=1 (want 2)"},
        {l.line[0].entry, "success", "2", ",\"nvidia.com/mig-1g.10gb\":\"7\"", SS_MIG_WAITING,
         "nvidia.com/mig-1g.10gb=7 (want 0)"},
        {l.line[0].entry, "success", "2", ",\"nvidia.com/gpu\":\"1\"", SS_MIG_WAITING,
         "nvidia.com/gpu=1 (want 0)"},
        {"all-1g.10gb", "success", "2", "", SS_MIG_WAITING, "mig.config=all-1g.10gb"},
        {"all-1g.10gb", "failed", "2", "", SS_MIG_WAITING, ""}, /* another entry's failure */
        {l.line[0].entry, "failed", "0", "", SS_MIG_FAILED, "state=failed"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        snprintf(body, sizeof body, ok, cases[k].entry, cases[k].state, cases[k].n3g,
                 cases[k].extra);
        enum ss_bind_mig_seen v =
            ss_bind_mig_check(&l.line[0], 200, JS, body, strlen(body), seen, sizeof seen);
        if (v != cases[k].want || !strstr(seen, cases[k].seen_has))
            fail_msg("case %zu: got %d (%s), want %d (~%s)", k, v, seen, cases[k].want,
                     cases[k].seen_has);
    }
    const char *nf = "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"NotFound\"}";
    assert_int_equal(ss_bind_mig_check(&l.line[0], 404, JS, nf, strlen(nf), seen, sizeof seen),
                     SS_MIG_GONE);
    assert_int_equal(
        ss_bind_mig_check(&l.line[0], 502, "text/html", "<html>", 6, seen, sizeof seen),
        SS_MIG_RETRY);
    assert_int_equal(
        ss_bind_mig_check(&l.line[0], 200, "text/html", "<html>", 6, seen, sizeof seen),
        SS_MIG_ALIEN);
    /* a re-layout row outside the cluster is refused, naming it */
    p->relayout_gpu[1] = 9;
    assert_int_equal(ss_bind_log_build(c, p, b, n, &o, &l2, &err), SS_EFORMAT);
    assert_non_null(strstr(err.text, "MIG re-layout row 1 names GPU record 9"));
    /* malformed mig-config lines are refused, naming the line and the field */
    const char *bad[][2] = {
        {"{\"unit\":0,\"op\":\"mig-config\",\"method\":\"PATCH\",\"path\":\"/api/v1/nodes/n0\","
         "\"contentType\":\"application/merge-patch+json\",\"body\":{\"metadata\":{\"labels\":{"
         "\"nvidia.com/mig.config\":\"e\"}}},\"wait\":null}\n",
         ":1: not a request of a shardsched request log: a mig-config wait is not"},
        {"{\"unit\":0,\"op\":\"mig-config\",\"method\":\"PATCH\",\"path\":\"/api/v1/nodes/n0/x\","
         "\"contentType\":\"application/merge-patch+json\",\"body\":{},\"wait\":null}\n",
         "path is not the op's /api/v1/nodes/NAME"},
        {"{\"unit\":0,\"op\":\"mig-config\",\"method\":\"PATCH\",\"path\":\"/api/v1/nodes/n0\","
         "\"contentType\":\"application/merge-patch+json\",\"body\":{\"metadata\":{\"labels\":{"
         "\"nvidia.com/mig.config\":\"e\"}}},\"wait\":{\"migConfig\":{\"node\":\"n0\",\"state\":"
         "\"success\",\"allocatable\":{\"cpu\":\"2\"}},\"timeoutSeconds\":5}}\n",
         "holds a key that is not nvidia.com/gpu or nvidia.com/mig-<profile>"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        memset(&err, 0, sizeof err);
        assert_int_equal(read_text(bad[k][0], &err), SS_EFORMAT);
        if (!strstr(err.text, bad[k][1]))
            fail_msg("bad mig line %zu: %s", k, err.text);
    }
    /* a plan whose re-layouts no bound pod needs binds as before */
    p->n_relayout = 1;
    p->relayout_gpu[0] = 3; /* n3: only C3, a CPU pod */
    assert_false(ss_bind_needs_log(c, p, b, n));
    ss_bind_log_free(&l);
    ss_bind_log_free(&r);
    free(b);
    unlink(path);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* --binder godel on the preemption plan: one godel line per pod in commit
 * order (S, R, P, Q); P preempts: nominated-node with both victims, no
 * assumed-node; the others assumed-node. Written and read back. */
static void test_godel_log(void **state)
{
    (void)state;
    ss_placements_t *p = NULL;
    ss_cluster_t *c = preempt_cluster(&p);
    ss_binding_t *b = NULL;
    int32_t n = 0;
    ss_bind_summary_t s;
    memset(&s, 0, sizeof s);
    ss_error_t err = {{0}};
    assert_int_equal(ss_bind_collect(c, p, &b, &n, &s, &err), 0);
    ss_bind_opts_t o;
    ss_bind_opts_default(&o);
    o.godel_scheduler = "sched-a";
    ss_bind_log_t l;
    memset(&l, 0, sizeof l);
    bool use_log = false;
    if (ss_bind_plan(c, p, b, n, &o, &l, &use_log, &err) != 0)
        fail_msg("%s", err.text);
    assert_true(use_log);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.n_units, 4);
    const char *order[4] = {"S", "R", "P", "Q"}, *nodes[4] = {"n0", "n1", "n0", "n0"};
    for (int i = 0; i < 4; i++) {
        char path[64];
        snprintf(path, sizeof path, PP "%s", order[i]);
        expect_line(&l.line[i], i, SS_REQ_GODEL, "PATCH", path, MERGE,
                    "\"godel.bytedance.com/pod-state\":\"assumed\","
                    "\"godel.bytedance.com/selected-scheduler\":\"sched-a\"");
        assert_string_equal(l.line[i].node, nodes[i]);
    }
    assert_string_equal(l.line[0].body,
                        "{\"metadata\":{\"annotations\":{\"godel.bytedance.com/assumed-node\":"
                        "\"n0\",\"godel.bytedance.com/nominated-node\":null,"
                        "\"godel.bytedance.com/pod-state\":\"assumed\","
                        "\"godel.bytedance.com/selected-scheduler\":\"sched-a\"}}}");
    assert_string_equal(l.line[2].body,
                        "{\"metadata\":{\"annotations\":{\"godel.bytedance.com/assumed-node\":null,"
                        "\"godel.bytedance.com/nominated-node\":\"{\\\"node\\\":\\\"n0\\\","
                        "\\\"victims\\\":[{\\\"name\\\":\\\"v0\\\",\\\"namespace\\\":\\\"ns\\\"},"
                        "{\\\"name\\\":\\\"v1\\\",\\\"namespace\\\":\\\"ns\\\"}]}\","
                        "\"godel.bytedance.com/pod-state\":\"assumed\","
                        "\"godel.bytedance.com/selected-scheduler\":\"sched-a\"}}}");
    char path[] = "/tmp/test_bind_godel_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(ss_bind_log_write(&l, path, &err), 0);
    ss_bind_log_t r;
    if (ss_bind_log_read(path, &r, &err) != 0)
        fail_msg("%s", err.text);
    unlink(path);
    assert_int_equal(r.n, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(r.line[i].op, SS_REQ_GODEL);
        assert_string_equal(r.line[i].node, nodes[i]);
        assert_string_equal(r.line[i].name, order[i]);
    }
    ss_bind_log_free(&r);
    ss_bind_log_free(&l);
    free(b);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* A gang below minMember: its members are not patched (godel), and
 * --write-status gives its PodGroup's status patch (v1alpha2:
 * PodGroupScheduled; v1beta1: PodGroupInitiallyScheduled) with the counts
 * and the engine's reasons. "ok" (minMember 1, placed) gets neither. */
static void test_godel_gang_status(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    int32_t topo[4] = {S(c, "r"), S(c, "z"), S(c, "b"), S(c, "k")};
    assert_true(ss_cluster_add_node(c, S(c, "n0"), topo, 64000, 1LL << 36, 110, NULL, false, 0, 0,
                                    0, 0, 0, 0) == 0);
    ss_template_t t;
    memset(&t, 0, sizeof t);
    t.req.cpu_milli = 100;
    t.workload = S(c, "deploy/x");
    int32_t tm = ss_cluster_add_template(c, &t);
    int32_t gs = ss_cluster_add_group(c, S(c, "team-a/short"), 3, 0, 0);
    int32_t go = ss_cluster_add_group(c, S(c, "team-a/ok"), 1, 0, 0);
    assert_true(ss_cluster_add_pod(c, S(c, "s-0"), S(c, "team-a"), tm, 0, gs, -1, 0) == 0);
    assert_true(ss_cluster_add_pod(c, S(c, "s-1"), S(c, "team-a"), tm, 0, gs, -1, 0) == 1);
    assert_true(ss_cluster_add_pod(c, S(c, "s-2"), S(c, "team-a"), tm, 0, gs, -1, 0) == 2);
    assert_true(ss_cluster_add_pod(c, S(c, "o-0"), S(c, "team-a"), tm, 0, go, -1, 0) == 3);
    ss_placements_t *p = ss_placements_create(4);
    const int32_t node[4] = {0, -1, -1, 0}, why[4] = {0, SS_REASON_GPU, SS_REASON_GPU, 0};
    for (int i = 0; i < 4; i++) {
        p->pod[i] = i;
        p->node[i] = node[i];
        p->reason[i] = why[i];
        p->seq[i] = node[i] >= 0 ? i : -1;
    }
    ss_binding_t *b = NULL;
    int32_t n = 0;
    ss_bind_summary_t s;
    memset(&s, 0, sizeof s);
    ss_error_t err = {{0}};
    assert_int_equal(ss_bind_collect(c, p, &b, &n, &s, &err), 0);
    assert_int_equal(s.held, 1);
    ss_bind_opts_t o;
    ss_bind_opts_default(&o);
    o.godel_scheduler = "shardsched";
    o.podgroup_status = "v1alpha2";
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
    ss_bind_log_t l;
    memset(&l, 0, sizeof l);
    bool use_log = false;
    if (ss_bind_plan(c, p, b, n, &o, &l, &use_log, &err) != 0)
        fail_msg("%s", err.text);
    assert_int_equal(l.n, 2); /* o-0's patch, short's status; s-0 is not patched */
    expect_line(&l.line[0], 0, SS_REQ_GODEL, "PATCH", "/api/v1/namespaces/team-a/pods/o-0", MERGE,
                "\"godel.bytedance.com/assumed-node\":\"n0\"");
    expect_line(&l.line[1], 1, SS_REQ_PGSTATUS, "PATCH",
                "/apis/scheduling.k8s.io/v1alpha2/namespaces/team-a/podgroups/short/status", SMP,
                "{\"status\":{\"conditions\":[{\"lastTransitionTime\":\"2023-11-14T22:13:20Z\","
                "\"message\":\"shardsched could not place the gang: placed 0 of minMember 3 (0 "
                "running, 0 placed then rolled back; 3 pending members, 2 of them unplaced): 2 "
                "insufficient nvidia.com/gpu\",\"reason\":\"Unschedulable\",\"status\":\"False\","
                "\"type\":\"PodGroupScheduled\"}]}}");
    ss_bind_log_free(&l);
    /* kube binder: the Bindings become a log because of the status line */
    o.godel_scheduler = NULL;
    o.podgroup_status = "v1beta1";
    if (ss_bind_plan(c, p, b, n, &o, &l, &use_log, &err) != 0)
        fail_msg("%s", err.text);
    assert_true(use_log);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.line[0].op, SS_REQ_BIND);
    assert_int_equal(l.line[1].op, SS_REQ_PGSTATUS);
    assert_non_null(strstr(l.line[1].body, "\"type\":\"PodGroupInitiallyScheduled\""));
    assert_non_null(strstr(l.line[1].path, "/v1beta1/"));
    ss_bind_log_free(&l);
    /* without --write-status: plain Bindings */
    o.podgroup_status = NULL;
    assert_int_equal(ss_bind_plan(c, p, b, n, &o, &l, &use_log, &err), 0);
    assert_false(use_log);
    o.podgroup_status = "v2";
    assert_int_equal(ss_bind_plan(c, p, b, n, &o, &l, &use_log, &err), SS_EINVAL);
    unsetenv("SOURCE_DATE_EPOCH");
    free(b);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collect_gangs),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_check_api),
        cmocka_unit_test(test_token),
        cmocka_unit_test(test_server_check),
        cmocka_unit_test(test_log_build),
        cmocka_unit_test(test_pdb_mode),
        cmocka_unit_test(test_log_read_bad),
        cmocka_unit_test(test_classify_step),
        cmocka_unit_test(test_log_mig),
        cmocka_unit_test(test_godel_log),
        cmocka_unit_test(test_godel_gang_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
