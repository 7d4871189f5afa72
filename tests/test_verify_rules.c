/* test_verify_rules: the verifier's replay of the inter-pod rules and of
 * preemption (engine/ss_verify_rules.c), against docs/kubernetes.md
 * "Inter-pod rules". Golden cases built by hand from the Kubernetes
 * documentation's examples (spread over 2 zones x 2 nodes, minDomains,
 * nodeAffinityPolicy, the web-store / redis-cache example, the symmetric
 * rule), victims, PDBs and commit order; then a random property test that
 * compares the checker's figures with a naive reference written here, which
 * recounts every domain from scratch by brute force at every placement. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/wait.h>
#include <unistd.h>

#include "ss_rules.h"
#include "ss_snapshot.h"
#include "ss_verify.h"

#define ZONE "topology.kubernetes.io/zone"
#define HOST "kubernetes.io/hostname"
#define RACK "rack"

/* ---- builders ---- */

static int32_t S(ss_cluster_t *c, const char *s)
{
    int32_t id = ss_cluster_str(c, s);
    assert_true(id >= 0);
    return id;
}

/* matchLabels "k=v,k2=v2" as In requirements; NULL: the null selector
 * (matches nothing); "": {} (matches everything). */
static ss_selector_t sel(ss_cluster_t *c, const char *spec)
{
    ss_selector_t s = {c->n_exprs, 0, spec == NULL};
    char buf[128];
    snprintf(buf, sizeof buf, "%s", spec ? spec : "");
    for (char *save = NULL, *it = strtok_r(buf, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(it, '=');
        assert_non_null(eq);
        *eq = 0;
        int32_t v = ss_cluster_add_expr_value(c, S(c, eq + 1));
        assert_true(v >= 0);
        assert_true(ss_cluster_add_expr(c, S(c, it), SS_OP_IN, 0, v, 1) >= 0);
        s.count++;
    }
    return s;
}

/* "k=v,..." labels; returns the begin index, *n the count. */
static int32_t labels(ss_cluster_t *c, const char *spec, int32_t *n)
{
    int32_t b = c->n_labels;
    char buf[128];
    *n = 0;
    snprintf(buf, sizeof buf, "%s", spec ? spec : "");
    for (char *save = NULL, *it = strtok_r(buf, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(it, '=');
        assert_non_null(eq);
        *eq = 0;
        assert_true(ss_cluster_add_label(c, S(c, it), S(c, eq + 1)) >= 0);
        (*n)++;
    }
    return b;
}

/* A node in zone (NULL: no zone label; add those last, they sort after the
 * zones), with extra labels and an optional NoSchedule taint key. */
static int32_t node(ss_cluster_t *c, const char *name, const char *zone, const char *extra,
                    const char *taint, int64_t cpu)
{
    char spec[160];
    snprintf(spec, sizeof spec, "%s%s%s%s%s", zone ? ZONE "=" : "", zone ? zone : "",
             zone && extra ? "," : "", extra ? extra : "", "");
    int32_t nl, lb = labels(c, spec, &nl);
    int32_t tb = c->n_taints, nt = 0;
    if (taint) {
        assert_true(ss_cluster_add_taint(c, S(c, taint), S(c, ""), SS_EFFECT_NO_SCHEDULE) >= 0);
        nt = 1;
    }
    int32_t topo[4] = {S(c, "r1"), S(c, zone ? zone : "~none"), S(c, "b1"), S(c, "k1")};
    int32_t i = ss_cluster_add_node(c, S(c, name), topo, cpu ? cpu : 64000, INT64_C(1) << 40, 110,
                                    NULL, false, lb, nl, tb, nt, c->n_gpus, 0);
    assert_true(i >= 0);
    return i;
}

static ss_spread_t spread(ss_cluster_t *c, const char *key, int skew, const char *selector)
{
    ss_spread_t s = {skew,          S(c, key),      SS_WHEN_DO_NOT_SCHEDULE, 1,
                     SS_INCL_HONOR, SS_INCL_IGNORE, sel(c, selector)};
    return s;
}

static ss_podterm_t term(ss_cluster_t *c, int kind, const char *key, const char *selector)
{
    ss_podterm_t t = {kind, 0, S(c, key), sel(c, selector), 0, 0, {0, 0, 1}};
    return t;
}

typedef struct {
    const char *labels;   /* the pod's labels */
    const char *selector; /* nodeSelector */
    int64_t cpu;
    uint32_t flags;
    const ss_spread_t *sp;
    int nsp;
    const ss_podterm_t *pt;
    int npt;
} tspec_t;

static int32_t tmpl(ss_cluster_t *c, const tspec_t *ts)
{
    ss_template_t t;
    memset(&t, 0, sizeof t);
    t.req.cpu_milli = ts->cpu ? ts->cpu : 100;
    t.req.memory = 1 << 20;
    t.plabel_begin = labels(c, ts->labels, &t.plabel_count);
    t.sel_begin = labels(c, ts->selector, &t.sel_count);
    t.spread_begin = c->n_spreads;
    for (int i = 0; i < ts->nsp; i++)
        assert_true(ss_cluster_add_spread(c, &ts->sp[i]) >= 0);
    t.spread_count = ts->nsp;
    t.pterm_begin = c->n_pterms;
    for (int i = 0; i < ts->npt; i++)
        assert_true(ss_cluster_add_pterm(c, &ts->pt[i]) >= 0);
    t.pterm_count = ts->npt;
    t.flags = ts->flags;
    t.workload = S(c, "deploy/x");
    int32_t i = ss_cluster_add_template(c, &t);
    assert_true(i >= 0);
    return i;
}

static int32_t pod(ss_cluster_t *c, const char *name, int32_t t, int32_t prio, int32_t on)
{
    int32_t i = ss_cluster_add_pod(c, S(c, name), S(c, "default"), t, prio, -1, on, 0);
    assert_true(i >= 0);
    return i;
}

/* One row per pending pod, all unplaced. */
static ss_placements_t *plan(const ss_cluster_t *c)
{
    int32_t n = 0;
    for (int32_t i = 0; i < c->n_pods; i++)
        n += c->pod_node[i] == -1;
    ss_placements_t *p = ss_placements_create(n);
    assert_non_null(p);
    for (int32_t i = 0, r = 0; i < c->n_pods; i++)
        if (c->pod_node[i] == -1) {
            p->pod[r] = i;
            p->reason[r++] = SS_REASON_CPU;
        }
    return p;
}

static void put(ss_placements_t *p, int32_t row, int32_t node, int32_t seq)
{
    p->node[row] = node;
    p->reason[row] = SS_REASON_NONE;
    p->seq[row] = seq;
}

/* Verifies; returns the violations under rule (all when rule < 0) and fails
 * when another rule fired. rep (if not NULL) keeps the report. */
static int64_t check_hard(const ss_cluster_t *c, const ss_placements_t *p, int rule, int hard,
                          ss_verify_report_t *keep)
{
    ss_error_t err = {{0}};
    if (ss_cluster_validate(c, &err) != 0)
        fail_msg("invalid test cluster: %s", err.text);
    ss_verify_report_t rep;
    int64_t n = ss_verify_with(c, p, hard, &rep, &err);
    assert_true(n >= 0);
    int64_t mine = rule >= 0 ? rep.by_rule[rule] : n;
    if (rule >= 0 && n != mine) {
        for (int i = 0; i < rep.n_messages; i++)
            print_message("unexpected: %s\n", rep.messages[i]);
        fail_msg("expected only '%s' violations", ss_verify_rule_text(rule));
    }
    if (keep)
        *keep = rep;
    else
        ss_verify_report_free(&rep);
    return mine;
}

static int64_t check(const ss_cluster_t *c, const ss_placements_t *p, int rule)
{
    return check_hard(c, p, rule, 0, NULL);
}

/* ---- topology spread ---- */

/* 2 zones x 2 nodes (n0 n1 in zA, n2 n3 in zB), four pending app=web pods
 * with zone maxSkew 1. */
static ss_cluster_t *two_by_two(int pending)
{
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    node(c, "n0", "zA", NULL, NULL, 0);
    node(c, "n1", "zA", NULL, NULL, 0);
    node(c, "n2", "zB", NULL, NULL, 0);
    node(c, "n3", "zB", NULL, NULL, 0);
    ss_spread_t sp = spread(c, ZONE, 1, "app=web");
    int32_t t = tmpl(c, &(tspec_t){.labels = "app=web", .sp = &sp, .nsp = 1});
    for (int i = 0; i < pending; i++) {
        char name[8];
        snprintf(name, sizeof name, "w%d", i);
        pod(c, name, t, 0, -1);
    }
    return c;
}

static void test_spread_two_zones(void **state)
{
    (void)state;
    ss_cluster_t *c = two_by_two(4);
    ss_placements_t *p = plan(c);
    /* zA, zB, zA, zB: skews 1, 0+1-0... never above 1 */
    put(p, 0, 0, 0), put(p, 1, 2, 1), put(p, 2, 1, 2), put(p, 3, 3, 3);
    ss_verify_report_t rep;
    assert_int_equal(check_hard(c, p, -1, 0, &rep), 0);
    assert_int_equal(rep.rules.spread_checked, 4);
    assert_int_equal(rep.rules.order_by_seq, 1);
    ss_verify_report_free(&rep);
    /* zA, zA (0 + 1 - 0 ... second: 1 + 1 - 0 = 2 > 1), zB, zB (1 + 1 - 1 = 1) */
    put(p, 1, 1, 1), put(p, 2, 2, 2);
    assert_int_equal(check_hard(c, p, SS_VRULE_SPREAD, 0, &rep), 1);
    assert_int_equal(rep.rules.spread_violated, 1);
    assert_non_null(strstr(rep.messages[0], "default/w1"));
    assert_non_null(strstr(rep.messages[0], "skew 2 > maxSkew 1"));
    ss_verify_report_free(&rep);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* The docs' example: foo=bar pods running on n0, n1 (zA) and n2 (zB); the
 * incoming pod must go to zB. */
static void test_spread_docs_example(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    for (int i = 0; i < 4; i++)
        node(c, (const char *[]){"n0", "n1", "n2", "n3"}[i], i < 2 ? "zA" : "zB", NULL, NULL, 0);
    int32_t plain = tmpl(c, &(tspec_t){.labels = "foo=bar"});
    ss_spread_t sp = spread(c, ZONE, 1, "foo=bar");
    int32_t t = tmpl(c, &(tspec_t){.labels = "foo=bar", .sp = &sp, .nsp = 1});
    pod(c, "r0", plain, 0, 0), pod(c, "r1", plain, 0, 1), pod(c, "r2", plain, 0, 2);
    pod(c, "mypod", t, 0, -1);
    ss_placements_t *p = plan(c);
    for (int32_t n = 0; n < 4; n++) {
        put(p, 0, n, 0);
        assert_int_equal(check(c, p, SS_VRULE_SPREAD), n < 2 ? 1 : 0);
    }
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* minDomains 3 with only 2 zones: the global minimum is 0. */
static void test_spread_min_domains(void **state)
{
    (void)state;
    for (int md = 1; md <= 3; md++) {
        ss_cluster_t *c = ss_cluster_create();
        assert_non_null(c);
        node(c, "n0", "zA", NULL, NULL, 0);
        node(c, "n1", "zB", NULL, NULL, 0);
        ss_spread_t sp = spread(c, ZONE, 1, "app=web");
        sp.min_domains = md;
        int32_t t = tmpl(c, &(tspec_t){.labels = "app=web", .sp = &sp, .nsp = 1});
        pod(c, "r0", t, 0, 0), pod(c, "r1", t, 0, 1);
        pod(c, "w", t, 0, -1);
        ss_placements_t *p = plan(c);
        put(p, 0, 0, 0); /* 1 + 1 - min: min 1 (md <= 2) or 0 (md 3) */
        assert_int_equal(check(c, p, SS_VRULE_SPREAD), md == 3 ? 1 : 0);
        ss_placements_destroy(p);
        ss_cluster_destroy(c);
    }
}

/* nodeAffinityPolicy: zC's node lacks disk=ssd, which the pod's
 * nodeSelector needs. Honor: zC is not a domain (min 1); Ignore: zC counts
 * with 0 pods. Likewise nodeTaintsPolicy with a taint on zC's node. */
static int64_t policy_case(int naff, int ntaint, bool taint)
{
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    node(c, "n0", "zA", "disk=ssd", NULL, 0);
    node(c, "n1", "zB", "disk=ssd", NULL, 0);
    node(c, "n2", "zC", taint ? "disk=ssd" : NULL, taint ? "dedicated" : NULL, 0);
    ss_spread_t sp = spread(c, ZONE, 1, "app=web");
    sp.node_affinity_policy = naff, sp.node_taints_policy = ntaint;
    int32_t t =
        tmpl(c, &(tspec_t){.labels = "app=web", .selector = "disk=ssd", .sp = &sp, .nsp = 1});
    int32_t other = tmpl(c, &(tspec_t){.labels = "app=web"});
    pod(c, "r0", other, 0, 0), pod(c, "r1", other, 0, 1);
    pod(c, "w", t, 0, -1);
    ss_placements_t *p = plan(c);
    put(p, 0, 0, 0);
    int64_t v = check(c, p, SS_VRULE_SPREAD);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
    return v;
}

static void test_spread_inclusion_policies(void **state)
{
    (void)state;
    assert_int_equal(policy_case(SS_INCL_HONOR, SS_INCL_IGNORE, false), 0);
    assert_int_equal(policy_case(SS_INCL_IGNORE, SS_INCL_IGNORE, false), 1);
    assert_int_equal(policy_case(SS_INCL_HONOR, SS_INCL_HONOR, true), 0);
    assert_int_equal(policy_case(SS_INCL_HONOR, SS_INCL_IGNORE, true), 1);
}

/* A node without the key cannot take the pod, and pods on such nodes are in
 * no domain. */
static void test_spread_missing_key(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    node(c, "n0", "zA", NULL, NULL, 0);
    node(c, "n1", "zB", NULL, NULL, 0);
    node(c, "n2", NULL, NULL, NULL, 0);
    ss_spread_t sp = spread(c, ZONE, 1, "app=web");
    int32_t t = tmpl(c, &(tspec_t){.labels = "app=web", .sp = &sp, .nsp = 1});
    pod(c, "r0", t, 0, 2), pod(c, "r1", t, 0, 2), pod(c, "r2", t, 0, 2);
    pod(c, "w", t, 0, -1);
    ss_placements_t *p = plan(c);
    put(p, 0, 0, 0); /* the three on n2 do not count: 0 + 1 - 0 */
    assert_int_equal(check(c, p, SS_VRULE_SPREAD), 0);
    put(p, 0, 2, 0);
    ss_verify_report_t rep;
    assert_int_equal(check_hard(c, p, SS_VRULE_SPREAD, 0, &rep), 1);
    assert_non_null(strstr(rep.messages[0], "no label " ZONE));
    ss_verify_report_free(&rep);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* Valid in seq order, invalid in another: the replay uses seq. */
static void test_spread_order_matters(void **state)
{
    (void)state;
    ss_cluster_t *c = two_by_two(3);
    ss_placements_t *p = plan(c);
    put(p, 0, 0, 0), put(p, 1, 2, 1), put(p, 2, 1, 2); /* zA zB zA */
    assert_int_equal(check(c, p, -1), 0);
    p->seq[1] = 2, p->seq[2] = 1; /* zA zA (skew 2) zB */
    assert_int_equal(check(c, p, SS_VRULE_SPREAD), 1);
    /* no seq at all: queue order (same priority: pod order) is valid */
    p->seq[0] = p->seq[1] = p->seq[2] = -1;
    ss_verify_report_t rep;
    assert_int_equal(check_hard(c, p, -1, 0, &rep), 0);
    assert_int_equal(rep.rules.order_by_seq, 0);
    ss_verify_report_free(&rep);
    /* queue order is by priority: w2 above the others goes first, then
     * w0 (zA), w1 (zB): zA zA for w2, w0 -> skew 2 */
    c->pod_priority[2] = 10;
    assert_int_equal(check(c, p, SS_VRULE_SPREAD), 1);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_seq_inconsistent(void **state)
{
    (void)state;
    ss_cluster_t *c = two_by_two(3);
    ss_placements_t *p = plan(c);
    put(p, 0, 0, 0), put(p, 1, 2, 0); /* the same seq twice */
    assert_int_equal(check(c, p, SS_VRULE_SEQ), 1);
    put(p, 1, 2, -1); /* placed without seq while others have one */
    assert_int_equal(check(c, p, SS_VRULE_SEQ), 1);
    put(p, 1, 2, 1);
    p->seq[2] = 5; /* unplaced with a seq */
    assert_int_equal(check(c, p, SS_VRULE_SEQ), 1);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* ---- pod affinity and anti-affinity ---- */

/* The docs' web-store / redis-cache example on 3 nodes: cache replicas
 * (app=store) repel each other by hostname; web replicas (app=web-store)
 * repel each other and want an app=store pod on their node. Rows 0..2 are
 * the caches, 3..5 the webs. */
static ss_cluster_t *web_store(void)
{
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    for (int i = 0; i < 3; i++)
        node(c, (const char *[]){"n0", "n1", "n2"}[i], "zA", NULL, NULL, 0);
    ss_podterm_t cache_t = term(c, SS_PT_ANTI_AFFINITY, HOST, "app=store");
    ss_podterm_t web_t[2] = {term(c, SS_PT_ANTI_AFFINITY, HOST, "app=web-store"),
                             term(c, SS_PT_AFFINITY, HOST, "app=store")};
    int32_t cache = tmpl(c, &(tspec_t){.labels = "app=store", .pt = &cache_t, .npt = 1});
    int32_t web = tmpl(c, &(tspec_t){.labels = "app=web-store", .pt = web_t, .npt = 2});
    pod(c, "cache-0", cache, 0, -1), pod(c, "cache-1", cache, 0, -1);
    pod(c, "cache-2", cache, 0, -1);
    pod(c, "web-0", web, 0, -1), pod(c, "web-1", web, 0, -1), pod(c, "web-2", web, 0, -1);
    return c;
}

static void test_web_store_redis_cache(void **state)
{
    (void)state;
    ss_cluster_t *c = web_store();
    ss_placements_t *p = plan(c);
    for (int i = 0; i < 3; i++)
        put(p, i, i, i), put(p, 3 + i, i, 3 + i);
    ss_verify_report_t rep;
    assert_int_equal(check_hard(c, p, -1, 0, &rep), 0);
    /* own: 3 cache anti + 3 web anti + 3 web affinity; symmetric: each web
     * meets the web holders' term, each cache the cache holders' term */
    assert_int_equal(rep.rules.affinity_checked, 3);
    assert_int_equal(rep.rules.anti_checked, 6 + 6);
    ss_verify_report_free(&rep);
    /* two caches on n0: cache-1 breaks its own anti-affinity, and the
     * running cache-0's term repels it (the symmetric rule) */
    put(p, 1, 0, 1);
    assert_int_equal(check_hard(c, p, -1, 0, &rep), 3);
    assert_int_equal(rep.by_rule[SS_VRULE_POD_ANTI_AFFINITY], 1);
    assert_int_equal(rep.by_rule[SS_VRULE_SYMMETRIC], 1);
    /* web-1 on n1 now has no cache there */
    assert_int_equal(rep.by_rule[SS_VRULE_POD_AFFINITY], 1);
    assert_int_equal(rep.violations, 3);
    ss_verify_report_free(&rep);
    put(p, 1, 1, 1);
    /* webs before the caches (seq): web-0 finds no app=store pod and does
     * not match its own term, so the first-pod exception does not apply */
    for (int i = 0; i < 3; i++)
        p->seq[i] = 3 + i, p->seq[3 + i] = i;
    assert_int_equal(check(c, p, SS_VRULE_POD_AFFINITY), 3);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* The first pod of a group with affinity to its own kind may go anywhere;
 * the second must join it. */
static void test_affinity_first_pod(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    node(c, "n0", "zA", NULL, NULL, 0);
    node(c, "n1", "zA", NULL, NULL, 0);
    ss_podterm_t t = term(c, SS_PT_AFFINITY, HOST, "app=x");
    int32_t x = tmpl(c, &(tspec_t){.labels = "app=x", .pt = &t, .npt = 1});
    pod(c, "x0", x, 0, -1), pod(c, "x1", x, 0, -1);
    ss_placements_t *p = plan(c);
    put(p, 0, 1, 0);
    assert_int_equal(check(c, p, -1), 0);
    put(p, 1, 1, 1);
    assert_int_equal(check(c, p, -1), 0);
    put(p, 1, 0, 1);
    assert_int_equal(check(c, p, SS_VRULE_POD_AFFINITY), 1);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* A running pod's required anti-affinity repels a matching newcomer that
 * carries no term itself, by hostname and by zone. */
static void test_symmetric_rule(void **state)
{
    (void)state;
    const char *keys[2] = {HOST, ZONE};
    for (int k = 0; k < 2; k++) {
        ss_cluster_t *c = ss_cluster_create();
        assert_non_null(c);
        node(c, "n0", "zA", NULL, NULL, 0);
        node(c, "n1", "zA", NULL, NULL, 0);
        node(c, "n2", "zB", NULL, NULL, 0);
        ss_podterm_t t = term(c, SS_PT_ANTI_AFFINITY, keys[k], "app=web");
        int32_t db = tmpl(c, &(tspec_t){.labels = "app=db", .pt = &t, .npt = 1});
        int32_t web = tmpl(c, &(tspec_t){.labels = "app=web"});
        pod(c, "db", db, 0, 0);
        pod(c, "web", web, 0, -1);
        ss_placements_t *p = plan(c);
        int64_t want[3] = {1, k == 1, 0};
        for (int32_t n = 0; n < 3; n++) {
            put(p, 0, n, 0);
            ss_verify_report_t rep;
            assert_int_equal(check_hard(c, p, SS_VRULE_SYMMETRIC, 0, &rep), want[n]);
            if (want[n])
                assert_non_null(strstr(rep.messages[0], "default/db repels it"));
            ss_verify_report_free(&rep);
        }
        ss_placements_destroy(p);
        ss_cluster_destroy(c);
    }
}

/* ---- victims, resources with victims, PDBs ---- */

/* n0 (4 cpu) runs low (3 cpu, priority 1); n1 runs keep (priority 1);
 * pending: hi (2 cpu, priority prio) and small (cpu_small). Rows: 0 hi,
 * 1 small. */
static ss_cluster_t *preempt_cluster(int32_t prio, int64_t cpu_small)
{
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    node(c, "n0", "zA", NULL, NULL, 4000);
    node(c, "n1", "zA", NULL, NULL, 4000);
    int32_t low = tmpl(c, &(tspec_t){.labels = "app=batch", .cpu = 3000});
    int32_t hi = tmpl(c, &(tspec_t){.labels = "app=hi", .cpu = 2000});
    int32_t small = tmpl(c, &(tspec_t){.labels = "app=small", .cpu = cpu_small});
    pod(c, "low", low, 1, 0);
    pod(c, "keep", low, 1, 1);
    pod(c, "hi", hi, prio, -1);
    pod(c, "small", small, 0, -1);
    return c;
}

static void test_victims(void **state)
{
    (void)state;
    ss_cluster_t *c = preempt_cluster(100, 100);
    ss_placements_t *p = plan(c);
    put(p, 0, 0, 0);
    assert_int_equal(check(c, p, SS_VRULE_CPU), 1); /* no victim: 5 cpu on 4 */
    assert_int_equal(ss_placements_add_victim(p, 0, 0), 0);
    ss_verify_report_t rep;
    assert_int_equal(check_hard(c, p, -1, 0, &rep), 0);
    assert_int_equal(rep.rules.victims, 1);
    assert_int_equal(rep.rules.preemptors, 1);
    ss_verify_report_free(&rep);
    /* equal priority */
    c->pod_priority[2] = 1;
    assert_int_equal(check(c, p, SS_VRULE_VICTIM), 1);
    c->pod_priority[2] = 100;
    /* preemptionPolicy Never */
    c->templates[c->pod_template[2]].flags |= SS_TF_PREEMPT_NEVER;
    assert_int_equal(check(c, p, SS_VRULE_VICTIM), 1);
    c->templates[c->pod_template[2]].flags = 0;
    /* a victim that was not running (the pending pod small), and one on
     * another node (keep, on n1): each flagged once */
    p->victim_pod[0] = 3;
    assert_int_equal(check_hard(c, p, -1, 0, &rep), 2);
    assert_int_equal(rep.by_rule[SS_VRULE_VICTIM], 1);
    assert_non_null(strstr(rep.messages[0], "not a running pod"));
    assert_int_equal(rep.by_rule[SS_VRULE_CPU], 1);
    ss_verify_report_free(&rep);
    p->victim_pod[0] = 1;
    assert_int_equal(check_hard(c, p, -1, 0, &rep), 2);
    assert_int_equal(rep.by_rule[SS_VRULE_VICTIM], 1);
    assert_non_null(strstr(rep.messages[0], "not on its preemptor"));
    ss_verify_report_free(&rep);
    /* removed twice */
    p->victim_pod[0] = 0;
    assert_int_equal(ss_placements_add_victim(p, 0, 0), 0);
    assert_int_equal(check(c, p, SS_VRULE_VICTIM), 1);
    /* victims of an unplaced row */
    p->n_victims = 1;
    p->node[0] = -1, p->seq[0] = -1, p->reason[0] = SS_REASON_CPU;
    assert_int_equal(check(c, p, SS_VRULE_VICTIM), 1);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* Resources hold at each placement: small (2 cpu) placed on n0 before the
 * victim leaves does not fit then (3 + 2 > 4), although the final state
 * (2 + 2) would; after it, it fits. */
static void test_victims_resources_in_order(void **state)
{
    (void)state;
    ss_cluster_t *c = preempt_cluster(100, 2000);
    ss_placements_t *p = plan(c);
    put(p, 0, 0, 1), put(p, 1, 0, 0);
    assert_int_equal(ss_placements_add_victim(p, 0, 0), 0);
    assert_int_equal(check(c, p, SS_VRULE_CPU), 1);
    p->seq[0] = 0, p->seq[1] = 1;
    assert_int_equal(check(c, p, -1), 0);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_pdb(void **state)
{
    (void)state;
    ss_cluster_t *c = preempt_cluster(100, 100);
    ss_pdb_t b = {S(c, "batch-pdb"), S(c, "default"), sel(c, "app=batch"), 1, 0, -1, 0, 0, 0};
    assert_true(ss_cluster_add_pdb(c, &b) >= 0);
    ss_placements_t *p = plan(c);
    put(p, 0, 0, 0);
    assert_int_equal(ss_placements_add_victim(p, 0, 0), 0);
    ss_verify_report_t rep;
    assert_int_equal(check_hard(c, p, -1, 0, &rep), 0); /* best effort */
    assert_int_equal(rep.rules.pdb_exceeded, 1);
    assert_int_equal(rep.rules.pdbs, 1);
    ss_verify_report_free(&rep);
    assert_int_equal(check_hard(c, p, SS_VRULE_PDB, 1, &rep), 1);
    assert_int_equal(rep.rules.pdb_exceeded, 1);
    ss_verify_report_free(&rep);
    c->pdbs[0].allowed = 1; /* one disruption allowed */
    assert_int_equal(check_hard(c, p, -1, 1, &rep), 0);
    assert_int_equal(rep.rules.pdb_exceeded, 0);
    ss_verify_report_free(&rep);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* A victim that leaves lowers a spread constraint's global minimum: zones
 * zA zB zC each run one app=web pod; w0 goes to zA (1 + 1 - 1), then h
 * preempts zB's pod (min 0), so w1 in zC has skew 1 + 1 - 0 = 2. */
static void test_victim_lowers_spread_min(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    node(c, "n0", "zA", NULL, NULL, 0);
    node(c, "n1", "zB", NULL, NULL, 0);
    node(c, "n2", "zC", NULL, NULL, 0);
    int32_t plain = tmpl(c, &(tspec_t){.labels = "app=web"});
    int32_t other = tmpl(c, &(tspec_t){.labels = "app=other"});
    ss_spread_t sp = spread(c, ZONE, 1, "app=web");
    int32_t t = tmpl(c, &(tspec_t){.labels = "app=web", .sp = &sp, .nsp = 1});
    pod(c, "a", plain, 0, 0), pod(c, "b", plain, 0, 1), pod(c, "c", plain, 0, 2);
    pod(c, "w0", t, 0, -1), pod(c, "h", other, 10, -1), pod(c, "w1", t, 0, -1);
    ss_placements_t *p = plan(c);
    put(p, 0, 0, 0), put(p, 1, 1, 1), put(p, 2, 2, 2);
    assert_int_equal(check(c, p, -1), 0);
    assert_int_equal(ss_placements_add_victim(p, 1, 1), 0);
    assert_int_equal(check(c, p, SS_VRULE_SPREAD), 1);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* A gang's victims all leave at its first member: member g0 (seq 0, on n0)
 * has anti-affinity by zone to app=batch, and the only app=batch pod, on n1
 * in the same zone, is the victim of member g1 (seq 1, on n1). */
static void test_gang_victims(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    node(c, "n0", "zA", NULL, NULL, 4000);
    node(c, "n1", "zA", NULL, NULL, 4000);
    int32_t low = tmpl(c, &(tspec_t){.labels = "app=batch", .cpu = 3000});
    ss_podterm_t t = term(c, SS_PT_ANTI_AFFINITY, ZONE, "app=batch");
    int32_t mem = tmpl(c, &(tspec_t){.labels = "app=train", .cpu = 2000, .pt = &t, .npt = 1});
    int32_t g = ss_cluster_add_group(c, S(c, "train"), 2, SS_TOPO_ZONE, SS_TOPO_MODE_NONE);
    pod(c, "low", low, 1, 1);
    assert_true(ss_cluster_add_pod(c, S(c, "g0"), S(c, "default"), mem, 50, g, -1, 0) >= 0);
    assert_true(ss_cluster_add_pod(c, S(c, "g1"), S(c, "default"), mem, 50, g, -1, 0) >= 0);
    ss_placements_t *p = plan(c);
    put(p, 0, 0, 0), put(p, 1, 1, 1);
    assert_int_equal(ss_placements_add_victim(p, 1, 0), 0);
    assert_int_equal(check(c, p, -1), 0);
    /* the same pods without a group: low is still there for g0 */
    c->pod_group[1] = c->pod_group[2] = -1;
    assert_int_equal(check(c, p, SS_VRULE_POD_ANTI_AFFINITY), 1);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* ---- random property test against a naive reference ---- */

typedef struct {
    int64_t spread_checked, spread_violated, aff_checked, aff_violated, anti_checked, symmetric,
        anti_own;
} naive_t;

/* Label key on node, hostname implied; -1 when absent. */
static int32_t nlabel(const ss_cluster_t *c, int32_t n, int32_t key)
{
    for (int32_t i = c->node_label_begin[n]; i < c->node_label_begin[n] + c->node_label_count[n];
         i++)
        if (c->labels[i].key == key)
            return c->labels[i].value;
    return key == ss_strtab_find(c->strings, HOST) ? c->node_name[n] : -1;
}

static bool n_eligible(const ss_cluster_t *c, const ss_template_t *t, const ss_spread_t *s,
                       int32_t n)
{
    for (int32_t i = t->spread_begin; i < t->spread_begin + t->spread_count; i++)
        if (c->spreads[i].when == SS_WHEN_DO_NOT_SCHEDULE && nlabel(c, n, c->spreads[i].key) < 0)
            return false;
    if (s->node_affinity_policy == SS_INCL_HONOR)
        for (int32_t i = t->sel_begin; i < t->sel_begin + t->sel_count; i++)
            if (nlabel(c, n, c->labels[i].key) != c->labels[i].value)
                return false;
    if (s->node_taints_policy == SS_INCL_HONOR && c->node_taint_count[n] > 0)
        return false; /* the random templates tolerate nothing */
    return true;
}

/* Pods matching s (in ns) on eligible nodes whose key value is val. */
static int64_t n_count(const ss_cluster_t *c, const int32_t *on, const ss_template_t *t,
                       const ss_spread_t *s, int32_t ns, int32_t val)
{
    int64_t k = 0;
    for (int32_t q = 0; q < c->n_pods; q++)
        if (on[q] >= 0 && n_eligible(c, t, s, on[q]) && nlabel(c, on[q], s->key) == val &&
            c->pod_ns[q] == ns && ss_sel_match_pod(c, &s->sel, q))
            k++;
    return k;
}

static void n_spread(const ss_cluster_t *c, const int32_t *on, int32_t q, int32_t node, naive_t *r)
{
    const ss_template_t *t = &c->templates[c->pod_template[q]];
    for (int32_t i = t->spread_begin; i < t->spread_begin + t->spread_count; i++) {
        const ss_spread_t *s = &c->spreads[i];
        if (s->when != SS_WHEN_DO_NOT_SCHEDULE)
            continue;
        r->spread_checked++;
        int32_t mine = nlabel(c, node, s->key);
        if (mine < 0) {
            r->spread_violated++;
            continue;
        }
        int64_t min = INT64_MAX, domains = 0;
        for (int32_t n = 0; n < c->n_nodes; n++) {
            int32_t v = nlabel(c, n, s->key);
            bool first = true; /* the first eligible node of its domain */
            for (int32_t m = 0; m < n && first; m++)
                first = !(nlabel(c, m, s->key) == v && n_eligible(c, t, s, m));
            if (v < 0 || !n_eligible(c, t, s, n) || !first)
                continue;
            domains++;
            int64_t k = n_count(c, on, t, s, c->pod_ns[q], v);
            min = k < min ? k : min;
        }
        if (domains < s->min_domains)
            min = 0;
        int64_t skew = n_count(c, on, t, s, c->pod_ns[q], mine) +
                       (ss_sel_match_pod(c, &s->sel, q) ? 1 : 0) - min;
        r->spread_violated += skew > s->max_skew;
    }
}

/* Some pod on a node whose key value equals node's matches term t of a pod
 * in ns. */
static bool n_term_present(const ss_cluster_t *c, const int32_t *on, const ss_podterm_t *t,
                           int32_t ns, int32_t node)
{
    int32_t v = nlabel(c, node, t->key);
    for (int32_t e = 0; e < c->n_pods && v >= 0; e++)
        if (on[e] >= 0 && nlabel(c, on[e], t->key) == v && ss_pterm_matches_pod(c, t, ns, e))
            return true;
    return false;
}

static void n_terms(const ss_cluster_t *c, const int32_t *on, int32_t q, int32_t node, naive_t *r)
{
    const ss_template_t *t = &c->templates[c->pod_template[q]];
    int32_t ns = c->pod_ns[q];
    bool self_all = true, other_all = false;
    for (int32_t i = t->pterm_begin; i < t->pterm_begin + t->pterm_count; i++)
        if (c->pterms[i].kind == SS_PT_AFFINITY)
            self_all = self_all && ss_pterm_matches_pod(c, &c->pterms[i], ns, q);
    /* the exception: no pod on a node with a term's key matches that term */
    for (int32_t e = 0; e < c->n_pods && !other_all; e++)
        for (int32_t i = t->pterm_begin; on[e] >= 0 && i < t->pterm_begin + t->pterm_count; i++)
            if (c->pterms[i].kind == SS_PT_AFFINITY &&
                ss_pterm_matches_pod(c, &c->pterms[i], ns, e) &&
                nlabel(c, on[e], c->pterms[i].key) >= 0)
                other_all = true;
    for (int32_t i = t->pterm_begin; i < t->pterm_begin + t->pterm_count; i++) {
        const ss_podterm_t *pt = &c->pterms[i];
        bool present = n_term_present(c, on, pt, ns, node);
        if (pt->kind == SS_PT_ANTI_AFFINITY) {
            r->anti_checked++;
            r->anti_own += present;
        } else {
            r->aff_checked++;
            r->aff_violated +=
                !present && !(self_all && !other_all && nlabel(c, node, pt->key) >= 0);
        }
    }
    /* symmetric: per distinct (anti term, holder namespace) of any pod */
    for (int32_t i = 0; i < c->n_pterms; i++) {
        if (c->pterms[i].kind != SS_PT_ANTI_AFFINITY)
            continue;
        for (int32_t h = 0; h < c->n_pods; h++) {
            const ss_template_t *ht = &c->templates[c->pod_template[h]];
            bool owns = i >= ht->pterm_begin && i < ht->pterm_begin + ht->pterm_count;
            bool first = true; /* h is the first pod of this (term, ns) */
            for (int32_t e = 0; e < h && first; e++)
                first = !(c->pod_template[e] == c->pod_template[h] && c->pod_ns[e] == c->pod_ns[h]);
            if (!owns || !first || !ss_pterm_matches_pod(c, &c->pterms[i], c->pod_ns[h], q))
                continue;
            r->anti_checked++;
            int32_t v = nlabel(c, node, c->pterms[i].key);
            bool hit = false;
            for (int32_t e = 0; e < c->n_pods && v >= 0 && !hit; e++)
                hit = on[e] >= 0 && c->pod_template[e] == c->pod_template[h] &&
                      c->pod_ns[e] == c->pod_ns[h] && nlabel(c, on[e], c->pterms[i].key) == v;
            r->symmetric += hit;
        }
    }
}

static void naive(const ss_cluster_t *c, const ss_placements_t *p, naive_t *r)
{
    memset(r, 0, sizeof *r);
    int32_t *on = malloc((size_t)c->n_pods * sizeof *on);
    assert_non_null(on);
    for (int32_t q = 0; q < c->n_pods; q++)
        on[q] = c->pod_node[q];
    for (int32_t s = 0; s < p->n; s++)
        for (int32_t row = 0; row < p->n; row++) {
            if (p->seq[row] != s)
                continue;
            for (int32_t v = 0; v < p->n_victims; v++)
                if (p->victim_row[v] == row)
                    on[p->victim_pod[v]] = -1;
            n_spread(c, on, p->pod[row], p->node[row], r);
            n_terms(c, on, p->pod[row], p->node[row], r);
            on[p->pod[row]] = p->node[row];
        }
    free(on);
}

static const char *pick(unsigned *seed, const char *const *v, int n)
{
    return v[rand_r(seed) % n];
}

/* A random cluster: 3..6 nodes over zones zA zB zC (some without a zone),
 * racks and an ssd label; 3 templates with random spread constraints and
 * pod terms; running and pending pods in two namespaces; a random commit
 * order and a few victims. */
static ss_cluster_t *random_cluster(unsigned *seed, ss_placements_t **out)
{
    static const char *const zones[] = {"zA", "zB", "zC"};
    static const char *const keys[] = {ZONE, HOST, RACK};
    static const char *const apps[] = {"app=a", "app=b", "app=c"};
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    int nn = 3 + rand_r(seed) % 4, nozone = rand_r(seed) % 2;
    for (int i = 0; i < nn; i++) {
        char name[8], extra[32];
        snprintf(name, sizeof name, "n%d", i);
        snprintf(extra, sizeof extra, "rack=r%d%s", rand_r(seed) % 3,
                 rand_r(seed) % 2 ? ",disk=ssd" : "");
        const char *z = i >= nn - nozone ? NULL : zones[i * 3 / nn];
        node(c, name, z, rand_r(seed) % 4 ? extra : NULL, rand_r(seed) % 5 ? NULL : "t", 0);
    }
    int32_t tm[3];
    for (int k = 0; k < 3; k++) {
        ss_spread_t sp[2];
        ss_podterm_t pt[2];
        int nsp = rand_r(seed) % 3, npt = rand_r(seed) % 3;
        for (int i = 0; i < nsp; i++) {
            sp[i] = spread(c, pick(seed, keys, 3), 1 + rand_r(seed) % 2, pick(seed, apps, 3));
            sp[i].min_domains = 1 + rand_r(seed) % 3;
            sp[i].node_affinity_policy = rand_r(seed) % 2;
            sp[i].node_taints_policy = rand_r(seed) % 2;
            sp[i].when = rand_r(seed) % 4 == 0;
        }
        for (int i = 0; i < npt; i++)
            pt[i] = term(c, rand_r(seed) % 2, pick(seed, keys, 3), pick(seed, apps, 3));
        tm[k] = tmpl(c, &(tspec_t){.labels = apps[k],
                                   .selector = rand_r(seed) % 3 ? NULL : "disk=ssd",
                                   .sp = sp,
                                   .nsp = nsp,
                                   .pt = pt,
                                   .npt = npt});
    }
    int np = 4 + rand_r(seed) % 8;
    for (int i = 0; i < np; i++) {
        char name[8];
        snprintf(name, sizeof name, "p%d", i);
        int32_t on = rand_r(seed) % 3 == 0 ? (int32_t)(rand_r(seed) % nn) : -1;
        assert_true(ss_cluster_add_pod(c, S(c, name), S(c, rand_r(seed) % 4 ? "default" : "other"),
                                       tm[rand_r(seed) % 3], on >= 0 ? 0 : 10, -1, on, 0) >= 0);
    }
    ss_placements_t *p = plan(c);
    int32_t *perm = malloc((size_t)(p->n > 0 ? p->n : 1) * sizeof *perm), k = 0;
    assert_non_null(perm);
    for (int32_t i = 0; i < p->n; i++)
        perm[i] = i;
    for (int32_t i = p->n - 1; i > 0; i--) {
        int32_t j = rand_r(seed) % (i + 1), x = perm[i];
        perm[i] = perm[j], perm[j] = x;
    }
    for (int32_t i = 0; i < p->n; i++)
        if (rand_r(seed) % 5)
            put(p, perm[i], rand_r(seed) % nn, k++);
    for (int32_t q = 0; q < c->n_pods; q++) /* each running pod maybe a victim */
        if (c->pod_node[q] >= 0 && rand_r(seed) % 3 == 0)
            for (int32_t row = 0; row < p->n; row++)
                if (p->node[row] == c->pod_node[q]) {
                    assert_int_equal(ss_placements_add_victim(p, row, q), 0);
                    break;
                }
    free(perm);
    *out = p;
    return c;
}

static void test_random_against_naive(void **state)
{
    (void)state;
    unsigned seed = 12345;
    int64_t seen_spread = 0, seen_aff = 0, seen_anti = 0, seen_sym = 0;
    for (int round = 0; round < 3000; round++) {
        ss_placements_t *p;
        ss_cluster_t *c = random_cluster(&seed, &p);
        ss_error_t err = {{0}};
        if (ss_cluster_validate(c, &err) != 0)
            fail_msg("round %d: invalid cluster: %s", round, err.text);
        ss_verify_report_t rep;
        assert_true(ss_verify(c, p, &rep, &err) >= 0);
        naive_t n;
        naive(c, p, &n);
        const ss_verify_rules_t *r = &rep.rules;
        if (r->spread_checked != n.spread_checked || r->spread_violated != n.spread_violated ||
            r->affinity_checked != n.aff_checked || r->affinity_violated != n.aff_violated ||
            r->anti_checked != n.anti_checked ||
            rep.by_rule[SS_VRULE_POD_ANTI_AFFINITY] != n.anti_own ||
            rep.by_rule[SS_VRULE_SYMMETRIC] != n.symmetric ||
            r->anti_violated != n.anti_own + n.symmetric)
            fail_msg("round %d: checker spread %lld/%lld aff %lld/%lld anti %lld own %lld sym "
                     "%lld; naive spread %lld/%lld aff %lld/%lld anti %lld own %lld sym %lld",
                     round, (long long)r->spread_checked, (long long)r->spread_violated,
                     (long long)r->affinity_checked, (long long)r->affinity_violated,
                     (long long)r->anti_checked, (long long)rep.by_rule[SS_VRULE_POD_ANTI_AFFINITY],
                     (long long)rep.by_rule[SS_VRULE_SYMMETRIC], (long long)n.spread_checked,
                     (long long)n.spread_violated, (long long)n.aff_checked,
                     (long long)n.aff_violated, (long long)n.anti_checked, (long long)n.anti_own,
                     (long long)n.symmetric);
        seen_spread += n.spread_violated, seen_aff += n.aff_violated;
        seen_anti += n.anti_own, seen_sym += n.symmetric;
        ss_verify_report_free(&rep);
        ss_placements_destroy(p);
        ss_cluster_destroy(c);
    }
    /* the random cases exercise every rule both ways */
    print_message("violations seen: spread %lld, affinity %lld, anti %lld, symmetric %lld\n",
                  (long long)seen_spread, (long long)seen_aff, (long long)seen_anti,
                  (long long)seen_sym);
    assert_true(seen_spread > 100 && seen_aff > 100 && seen_anti > 100 && seen_sym > 100);
}

/* Runs `shardsched verify args`; returns the exit status, the first bytes of
 * stdout in out. */
static int run_cli(const char *args, char *out, size_t len)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 %s verify %s 2>/dev/null",
             SS_BINARY, args);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, len - 1, f);
    out[n] = 0;
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The CLI prints the rules' lines and the json rules object through the
 * files (snapshot v2 keeps the rules, the placements their commit order);
 * --pdb-hard is reported. */
static void test_cli_rules_summary(void **state)
{
    (void)state;
    if (access(SS_BINARY, X_OK) != 0)
        skip(); /* shardsched not built yet */
    char dir[] = "/tmp/test_verify_rules.XXXXXX", cl[64], pl[64], args[256], out[8192];
    assert_non_null(mkdtemp(dir));
    snprintf(cl, sizeof cl, "%s/c.h5", dir);
    snprintf(pl, sizeof pl, "%s/p.h5", dir);
    ss_cluster_t *c = two_by_two(2);
    ss_placements_t *p = plan(c);
    put(p, 0, 0, -1), put(p, 1, 2, -1);
    ss_error_t err;
    assert_int_equal(ss_snapshot_write(cl, c, &err), 0);
    assert_int_equal(ss_placements_write(pl, c, p, &err), 0);
    snprintf(args, sizeof args, "-i %s -p %s", cl, pl);
    assert_int_equal(run_cli(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "commit order: seq"));
    assert_non_null(strstr(out, "spread constraints (DoNotSchedule): 2 checked, 0 violated"));
    assert_non_null(strstr(out, "preemption: 0 victims of 0 preemptors"));
    assert_non_null(strstr(out, "PDB budget exceeded: 0 of 0 (best effort)"));
    snprintf(args, sizeof args, "-i %s -p %s -o json --pdb-hard", cl, pl);
    assert_int_equal(run_cli(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "\"rules\":{\"order\":\"seq\",\"spread_checked\":2"));
    assert_non_null(strstr(out, "\"pdb_hard\":true"));
    unlink(cl), unlink(pl), rmdir(dir);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spread_two_zones),
        cmocka_unit_test(test_spread_docs_example),
        cmocka_unit_test(test_spread_min_domains),
        cmocka_unit_test(test_spread_inclusion_policies),
        cmocka_unit_test(test_spread_missing_key),
        cmocka_unit_test(test_spread_order_matters),
        cmocka_unit_test(test_seq_inconsistent),
        cmocka_unit_test(test_web_store_redis_cache),
        cmocka_unit_test(test_affinity_first_pod),
        cmocka_unit_test(test_symmetric_rule),
        cmocka_unit_test(test_victims),
        cmocka_unit_test(test_victims_resources_in_order),
        cmocka_unit_test(test_pdb),
        cmocka_unit_test(test_victim_lowers_spread_min),
        cmocka_unit_test(test_gang_victims),
        cmocka_unit_test(test_random_against_naive),
        cmocka_unit_test(test_cli_rules_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
