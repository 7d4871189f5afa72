/* test_bind: the parts of bind that need no server. Which gang members are
 * posted (a group reaching minMember with placed + running members, never
 * one below it), how names are escaped, how replies are classified (by
 * their Kubernetes body, not the status code alone), the GET /api check, and
 * which token files are refused. tests/e2e_bind.sh drives the rest against a
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collect_gangs), cmocka_unit_test(test_escape),
        cmocka_unit_test(test_classify),      cmocka_unit_test(test_check_api),
        cmocka_unit_test(test_token),         cmocka_unit_test(test_server_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
