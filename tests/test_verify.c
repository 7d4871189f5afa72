/* test_verify: the independent checker (engine/ss_verify.h) and the run
 * summary (engine/ss_summary.h). Per rule, a tiny cluster built with the
 * builder API and a hand-made placement: the violating placement is detected
 * under exactly that rule and the correct one passes. The summary figures are
 * checked on a small case computed by hand (see test_summary_hand_computed). */
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

#include "ss_snapshot.h"
#include "ss_verify.h"

#define GiB (INT64_C(1) << 30)

/* ---- builders ---- */

static int32_t S(ss_cluster_t *c, const char *s)
{
    int32_t id = ss_cluster_str(c, s);
    assert_true(id >= 0);
    return id;
}

static int32_t effect_of(const char *e)
{
    if (!strcmp(e, "NoSchedule"))
        return SS_EFFECT_NO_SCHEDULE;
    if (!strcmp(e, "PreferNoSchedule"))
        return SS_EFFECT_PREFER_NO_SCHEDULE;
    if (!strcmp(e, "NoExecute"))
        return SS_EFFECT_NO_EXECUTE;
    return SS_EFFECT_ANY;
}

/* Calls add(c, item) for each comma-separated item of spec; returns the
 * begin index in the pool (whose size is *pool before). */
static int32_t each(ss_cluster_t *c, const char *spec, int32_t pool, int32_t *count,
                    void (*add)(ss_cluster_t *, char *))
{
    char buf[256];
    int32_t begin = pool, n = 0;
    snprintf(buf, sizeof buf, "%s", spec ? spec : "");
    for (char *save = NULL, *it = strtok_r(buf, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
        add(c, it);
        n++;
    }
    *count = n;
    return begin;
}

static void add_label(ss_cluster_t *c, char *kv) /* "key=value" */
{
    char *eq = strchr(kv, '=');
    assert_non_null(eq);
    *eq = 0;
    assert_true(ss_cluster_add_label(c, S(c, kv), S(c, eq + 1)) >= 0);
}

static void add_taint(ss_cluster_t *c, char *s) /* "key=value:Effect" */
{
    char *colon = strrchr(s, ':'), *eq = strchr(s, '=');
    assert_non_null(colon);
    *colon = 0;
    if (eq)
        *eq = 0;
    assert_true(ss_cluster_add_taint(c, S(c, s), S(c, eq ? eq + 1 : ""), effect_of(colon + 1)) >=
                0);
}

/* "key=value:Effect" is Equal, "key:Effect" is Exists; key and Effect may be
 * empty (":" tolerates everything). */
static void add_tol(ss_cluster_t *c, char *s)
{
    char *colon = strrchr(s, ':'), *eq = strchr(s, '=');
    assert_non_null(colon);
    *colon = 0;
    if (eq)
        *eq = 0;
    assert_true(ss_cluster_add_toleration(c, S(c, s), S(c, eq ? eq + 1 : ""),
                                          eq ? SS_TOL_EQUAL : SS_TOL_EXISTS,
                                          effect_of(colon + 1)) >= 0);
}

static void add_model(ss_cluster_t *c, char *m)
{
    assert_true(ss_cluster_add_model(c, S(c, m)) >= 0);
}

typedef struct {
    const char *name, *zone, *block, *rack;
    int64_t cpu, mem;
    int32_t pods, gpus, gpu_milli;
    bool cordoned;
    const char *labels, *taints;
} node_spec_t;

static int32_t node(ss_cluster_t *c, const node_spec_t *n, const int64_t *ext)
{
    int32_t topo[4] = {S(c, "r1"), S(c, n->zone ? n->zone : "z1"), S(c, n->block ? n->block : "b1"),
                       S(c, n->rack ? n->rack : "k1")};
    int32_t nl, nt;
    int32_t lb = each(c, n->labels, c->n_labels, &nl, add_label);
    int32_t tb = each(c, n->taints, c->n_taints, &nt, add_taint);
    int32_t gb = c->n_gpus;
    for (int g = 0; g < n->gpus; g++)
        assert_true(ss_cluster_add_gpu(c, S(c, "A100"), n->gpu_milli ? n->gpu_milli : 1000) >= 0);
    int32_t i = ss_cluster_add_node(c, S(c, n->name), topo, n->cpu ? n->cpu : 4000,
                                    n->mem ? n->mem : 8 * GiB, n->pods ? n->pods : 110, ext,
                                    n->cordoned, lb, nl, tb, nt, gb, n->gpus);
    assert_true(i >= 0);
    return i;
}

typedef struct {
    int64_t cpu, mem;
    int32_t gpus, gpu_milli;
    const char *selector, *tolerations, *models;
    uint32_t unsupported;
    int64_t ext0;
} tmpl_spec_t;

static int32_t tmpl(ss_cluster_t *c, const tmpl_spec_t *s)
{
    ss_template_t t;
    memset(&t, 0, sizeof t);
    t.req.cpu_milli = s->cpu;
    t.req.memory = s->mem;
    t.req.gpu_count = s->gpus;
    t.req.gpu_milli = s->gpus ? (s->gpu_milli ? s->gpu_milli : 1000) : 0;
    t.req.ext[0] = s->ext0;
    t.sel_begin = each(c, s->selector, c->n_labels, &t.sel_count, add_label);
    t.tol_begin = each(c, s->tolerations, c->n_tolerations, &t.tol_count, add_tol);
    t.model_begin = each(c, s->models, c->n_models, &t.model_count, add_model);
    t.unsupported = s->unsupported;
    t.workload = S(c, "deploy/test");
    int32_t i = ss_cluster_add_template(c, &t);
    assert_true(i >= 0);
    return i;
}

static int32_t pod(ss_cluster_t *c, const char *name, int32_t t, int32_t group, int32_t on,
                   uint64_t mask)
{
    int32_t i = ss_cluster_add_pod(c, S(c, name), S(c, "default"), t, 0, group, on, mask);
    assert_true(i >= 0);
    return i;
}

/* Placements with one row per pending pod, all unplaced (reason cpu). */
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

static void put(ss_placements_t *p, int32_t row, int32_t node, uint64_t mask)
{
    p->node[row] = node;
    p->reason[row] = SS_REASON_NONE;
    p->gpu_mask[row] = mask;
}

/* Runs the verifier on a valid cluster; returns the count under rule (or the
 * total when rule < 0) and checks that no other rule fired. */
static int64_t check(const ss_cluster_t *c, const ss_placements_t *p, int rule)
{
    ss_error_t err = {{0}};
    assert_int_equal(ss_cluster_validate(c, &err), 0);
    ss_verify_report_t rep;
    int64_t n = ss_verify(c, p, &rep, &err);
    assert_true(n >= 0);
    int64_t mine = rule >= 0 ? rep.by_rule[rule] : n;
    if (rule >= 0 && n != mine) {
        for (int i = 0; i < rep.n_messages; i++)
            print_message("unexpected: %s\n", rep.messages[i]);
        fail_msg("expected only '%s' violations", ss_verify_rule_text(rule));
    }
    ss_verify_report_free(&rep);
    return mine;
}

/* One node, one pending pod of template spec t placed on it: violations under rule. */
static int64_t one(const node_spec_t *ns, const tmpl_spec_t *ts, uint64_t mask, int rule)
{
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    int32_t n = node(c, ns, NULL);
    pod(c, "p0", tmpl(c, ts), -1, -1, 0);
    ss_placements_t *p = plan(c);
    put(p, 0, n, mask);
    int64_t v = check(c, p, rule);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
    return v;
}

/* ---- taints, tolerations, cordon ---- */

static void test_verify_taints(void **state)
{
    (void)state;
    static const struct {
        const char *taint, *tols;
        int64_t expect;
    } rows[] = {
        {"gpu=yes:NoSchedule", NULL, 1},
        {"gpu=yes:NoSchedule", "gpu=yes:NoSchedule", 0},
        {"gpu=yes:NoSchedule", "gpu=no:NoSchedule", 1},
        {"gpu=yes:NoSchedule", "gpu:NoSchedule", 0},    /* Exists: any value */
        {"gpu=yes:NoSchedule", "gpu=yes:", 0},          /* empty effect: all */
        {"gpu=yes:NoSchedule", "gpu=yes:NoExecute", 1}, /* other effect */
        {"gpu=yes:NoSchedule", ":", 0},                 /* empty key + Exists */
        {"gpu=yes:NoSchedule", "other:NoSchedule", 1},
        {"gpu=yes:NoExecute", NULL, 1},
        {"gpu=yes:NoExecute", "gpu:", 0},
        {"gpu=yes:NoExecute", "gpu:NoSchedule", 1},
        {"gpu=yes:PreferNoSchedule", NULL, 0},               /* only a score */
        {"a=1:NoSchedule,b=2:NoExecute", "a:NoSchedule", 1}, /* b left */
        {"a=1:NoSchedule,b=2:NoExecute", "a:,b=2:NoExecute", 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        node_spec_t ns = {.name = "n0", .taints = rows[i].taint};
        tmpl_spec_t ts = {.cpu = 100, .tolerations = rows[i].tols};
        if (one(&ns, &ts, 0, SS_VRULE_TAINT) != rows[i].expect)
            fail_msg("row %zu: taint %s, tolerations %s", i, rows[i].taint,
                     rows[i].tols ? rows[i].tols : "(none)");
    }
}

static void test_verify_cordoned(void **state)
{
    (void)state;
    node_spec_t ns = {.name = "n0", .cordoned = true};
    tmpl_spec_t plain = {.cpu = 100};
    tmpl_spec_t tol = {.cpu = 100, .tolerations = "node.kubernetes.io/unschedulable:NoSchedule"};
    tmpl_spec_t any = {.cpu = 100, .tolerations = ":"};
    tmpl_spec_t wrong = {.cpu = 100, .tolerations = "node.kubernetes.io/unschedulable:NoExecute"};
    assert_int_equal(one(&ns, &plain, 0, SS_VRULE_CORDONED), 1);
    assert_int_equal(one(&ns, &tol, 0, SS_VRULE_CORDONED), 0);
    assert_int_equal(one(&ns, &any, 0, SS_VRULE_CORDONED), 0);
    assert_int_equal(one(&ns, &wrong, 0, SS_VRULE_CORDONED), 1);
    node_spec_t open = {.name = "n0"};
    assert_int_equal(one(&open, &plain, 0, -1), 0);
}

/* ---- selector and affinity ---- */

static void test_verify_selector(void **state)
{
    (void)state;
    node_spec_t ns = {.name = "n0", .labels = "disk=ssd,zone=a"};
    static const struct {
        const char *sel;
        int64_t expect;
    } rows[] = {
        {"disk=ssd", 0},
        {"disk=ssd,zone=a", 0},
        {"disk=hdd", 1},
        {"disk=ssd,zone=b", 1},
        {"gpu=yes", 1},
        {"kubernetes.io/hostname=n0", 0}, /* implied by the node name */
        {"kubernetes.io/hostname=n1", 1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tmpl_spec_t ts = {.cpu = 100, .selector = rows[i].sel};
        if (one(&ns, &ts, 0, SS_VRULE_SELECTOR) != rows[i].expect)
            fail_msg("row %zu: selector %s", i, rows[i].sel);
    }
}

/* One required term with one expression (or none when key is NULL). */
static int64_t affinity_case(const char *key, int op, const char *vals, int is_field)
{
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    node_spec_t ns = {.name = "n0", .labels = "tier=gold,cores=16"};
    int32_t n = node(c, &ns, NULL);
    int32_t t = tmpl(c, &(tmpl_spec_t){.cpu = 100});
    int32_t eb = c->n_exprs, ne = 0;
    if (key) {
        char buf[128];
        int32_t vb = c->n_expr_values, nv = 0;
        snprintf(buf, sizeof buf, "%s", vals);
        for (char *save = NULL, *v = strtok_r(buf, "|", &save); v;
             v = strtok_r(NULL, "|", &save), nv++)
            assert_true(ss_cluster_add_expr_value(c, S(c, v)) >= 0);
        assert_true(ss_cluster_add_expr(c, S(c, key), op, is_field, vb, nv) >= 0);
        ne = 1;
    }
    c->templates[t].req_begin = c->n_terms;
    c->templates[t].req_count = 1;
    assert_true(ss_cluster_add_term(c, eb, ne, 0) >= 0);
    pod(c, "p0", t, -1, -1, 0);
    ss_placements_t *p = plan(c);
    put(p, 0, n, 0);
    int64_t v = check(c, p, SS_VRULE_AFFINITY);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
    return v;
}

static void test_verify_affinity(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        int op;
        const char *vals;
        int is_field;
        int64_t expect; /* 0 = matches, 1 = violation */
    } rows[] = {
        {"tier", SS_OP_IN, "gold|silver", 0, 0},
        {"tier", SS_OP_IN, "silver", 0, 1},
        {"tier", SS_OP_NOT_IN, "silver", 0, 0},
        {"tier", SS_OP_NOT_IN, "gold", 0, 1},
        {"gpu", SS_OP_NOT_IN, "yes", 0, 0}, /* NotIn matches a missing label */
        {"gpu", SS_OP_IN, "yes", 0, 1},
        {"tier", SS_OP_EXISTS, "", 0, 0},
        {"gpu", SS_OP_EXISTS, "", 0, 1},
        {"gpu", SS_OP_DOES_NOT_EXIST, "", 0, 0},
        {"tier", SS_OP_DOES_NOT_EXIST, "", 0, 1},
        {"cores", SS_OP_GT, "8", 0, 0},
        {"cores", SS_OP_GT, "16", 0, 1}, /* strict */
        {"cores", SS_OP_LT, "17", 0, 0},
        {"cores", SS_OP_LT, "16", 0, 1},
        {"cores", SS_OP_GT, "-5", 0, 0},
        {"cores", SS_OP_GT, "8x", 0, 1},                   /* value not an integer */
        {"cores", SS_OP_GT, "8|9", 0, 1},                  /* not exactly one value */
        {"tier", SS_OP_GT, "1", 0, 1},                     /* label not an integer */
        {"gpu", SS_OP_LT, "1", 0, 1},                      /* label missing */
        {"cores", SS_OP_LT, "99999999999999999999", 0, 1}, /* overflows int64 */
        {"kubernetes.io/hostname", SS_OP_IN, "n0", 0, 0},
        {"kubernetes.io/hostname", SS_OP_IN, "n1", 0, 1},
        {"metadata.name", SS_OP_IN, "n0", 1, 0}, /* matchFields */
        {"metadata.name", SS_OP_NOT_IN, "n0", 1, 1},
        {NULL, 0, NULL, 0, 1}, /* an empty term matches nothing */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (affinity_case(rows[i].key, rows[i].op, rows[i].vals, rows[i].is_field) !=
            rows[i].expect)
            fail_msg("row %zu: %s op %d %s", i, rows[i].key ? rows[i].key : "(empty term)",
                     rows[i].op, rows[i].vals ? rows[i].vals : "");
}

static void test_verify_affinity_terms_ored(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    int32_t n = node(c, &(node_spec_t){.name = "n0", .labels = "tier=gold"}, NULL);
    int32_t t = tmpl(c, &(tmpl_spec_t){.cpu = 100});
    int32_t v0 = ss_cluster_add_expr_value(c, S(c, "silver"));
    int32_t v1 = ss_cluster_add_expr_value(c, S(c, "gold"));
    int32_t e0 = ss_cluster_add_expr(c, S(c, "tier"), SS_OP_IN, 0, v0, 1);
    int32_t e1 = ss_cluster_add_expr(c, S(c, "tier"), SS_OP_IN, 0, v1, 1);
    c->templates[t].req_begin = ss_cluster_add_term(c, e0, 1, 0); /* no match */
    ss_cluster_add_term(c, e1, 1, 0);                             /* matches */
    c->templates[t].req_count = 2;
    pod(c, "p0", t, -1, -1, 0);
    ss_placements_t *p = plan(c);
    put(p, 0, n, 0);
    assert_int_equal(check(c, p, SS_VRULE_AFFINITY), 0);
    c->templates[t].req_count = 1; /* only the failing term */
    assert_int_equal(check(c, p, SS_VRULE_AFFINITY), 1);
    /* Both expressions in one term are ANDed: silver AND gold fails. */
    c->templates[t].req_begin = ss_cluster_add_term(c, e0, 2, 0);
    assert_int_equal(check(c, p, SS_VRULE_AFFINITY), 1);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* ---- GPUs ---- */

static void test_verify_gpu_model(void **state)
{
    (void)state;
    node_spec_t ns = {.name = "n0", .gpus = 2};
    tmpl_spec_t h100 = {.cpu = 100, .gpus = 1, .models = "H100"};
    tmpl_spec_t a100 = {.cpu = 100, .gpus = 1, .models = "H100,A100"};
    tmpl_spec_t any = {.cpu = 100, .gpus = 2};
    assert_int_equal(one(&ns, &h100, 0x1, SS_VRULE_GPU_MODEL), 1);
    assert_int_equal(one(&ns, &a100, 0x2, SS_VRULE_GPU_MODEL), 0);
    assert_int_equal(one(&ns, &any, 0x3, -1), 0);
}

static void test_verify_gpu_mask_wrong(void **state)
{
    (void)state;
    node_spec_t ns = {.name = "n0", .gpus = 2};
    tmpl_spec_t two = {.cpu = 100, .gpus = 2};
    tmpl_spec_t none = {.cpu = 100};
    assert_int_equal(one(&ns, &two, 0x1, SS_VRULE_GPU_MASK), 1); /* one bit for two GPUs */
    assert_int_equal(one(&ns, &two, 0x7, SS_VRULE_GPU_MASK), 1); /* three bits */
    assert_int_equal(one(&ns, &two, 0x6, SS_VRULE_GPU_MASK), 1); /* GPU 2 does not exist */
    assert_int_equal(one(&ns, &two, 0x3, SS_VRULE_GPU_MASK), 0);
    assert_int_equal(one(&ns, &none, 0x1, SS_VRULE_GPU_MASK), 1); /* GPUs for a cpu pod */
}

/* Node with 2 GPUs; a running pod of share `running` on GPU 0; a pending pod
 * of share `placed` put on the GPUs in mask. */
static int64_t gpu_share_case(int32_t running, int32_t placed, uint64_t mask)
{
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    int32_t n = node(c, &(node_spec_t){.name = "n0", .gpus = 2}, NULL);
    pod(c, "run", tmpl(c, &(tmpl_spec_t){.cpu = 100, .gpus = 1, .gpu_milli = running}), -1, n, 0x1);
    pod(c, "p0", tmpl(c, &(tmpl_spec_t){.cpu = 100, .gpus = 1, .gpu_milli = placed}), -1, -1, 0);
    ss_placements_t *p = plan(c);
    put(p, 0, n, mask);
    int64_t v = check(c, p, SS_VRULE_GPU_SHARE);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
    return v;
}

static void test_verify_gpu_over_shared(void **state)
{
    (void)state;
    assert_int_equal(gpu_share_case(600, 500, 0x1), 1);
    assert_int_equal(gpu_share_case(600, 400, 0x1), 0);
    assert_int_equal(gpu_share_case(600, 500, 0x2), 0);
}

static void test_verify_gpu_whole_on_shared(void **state)
{
    (void)state;
    assert_int_equal(gpu_share_case(300, 1000, 0x1), 1);
    assert_int_equal(gpu_share_case(300, 1000, 0x2), 0);
    assert_int_equal(gpu_share_case(1000, 100, 0x1), 1); /* fraction on a whole-used GPU */
}

/* ---- MIG instances (issue 15) ----
 * n0's H100 80GB: 3g.40gb@0 (instance 0), 1g.10gb@4, @5, @6 (1, 2, 3);
 * the running pod holds instance 1. Pending pods of `count` x `profile` go
 * on n0 with masks m0 and m1 (m1 = 0: the second pod is not placed). */
static int64_t mig_case(const char *profile, int32_t count, uint64_t m0, uint64_t m1)
{
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    S(c, "");
    int32_t g = c->n_gpus;
    assert_true(ss_cluster_add_gpu(c, S(c, "H100-80GB"), 1000) >= 0);
    ss_mig_instance_t inst[4] = {
        {S(c, "3g.40gb"), 0}, {S(c, "1g.10gb"), 4}, {S(c, "1g.10gb"), 5}, {S(c, "1g.10gb"), 6}};
    assert_int_equal(ss_cluster_set_gpu_mig(c, g, S(c, "H100-80GB"), inst, 4), 0);
    int32_t topo[4] = {S(c, "r1"), S(c, "z1"), S(c, "b1"), S(c, "k1")};
    int32_t n =
        ss_cluster_add_node(c, S(c, "n0"), topo, 4000, 8 * GiB, 110, NULL, false, 0, 0, 0, 0, g, 1);
    int32_t one = tmpl(c, &(tmpl_spec_t){.cpu = 100});
    c->templates[one].mig_profile = S(c, "1g.10gb");
    c->templates[one].mig_count = 1;
    int32_t mine = tmpl(c, &(tmpl_spec_t){.cpu = 100});
    c->templates[mine].mig_profile = S(c, profile);
    c->templates[mine].mig_count = count;
    pod(c, "run", one, -1, n, 0x2);
    pod(c, "p0", mine, -1, -1, 0);
    pod(c, "p1", mine, -1, -1, 0);
    ss_placements_t *p = plan(c);
    put(p, 0, n, m0);
    p->seq[0] = 0;
    if (m1) {
        put(p, 1, n, m1);
        p->seq[1] = 1;
    }
    int64_t v = check(c, p, SS_VRULE_MIG);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
    return v;
}

static void test_verify_mig(void **state)
{
    (void)state;
    assert_int_equal(mig_case("1g.10gb", 1, 0x4, 0x8), 0);
    assert_int_equal(mig_case("1g.10gb", 1, 0x2, 0), 1);   /* the running pod's instance */
    assert_int_equal(mig_case("1g.10gb", 1, 0x4, 0x4), 1); /* both pending pods on one */
    assert_int_equal(mig_case("1g.10gb", 1, 0x1, 0), 1);   /* instance 0 is a 3g.40gb */
    assert_int_equal(mig_case("1g.10gb", 2, 0x4, 0), 1);   /* one instance for two */
    assert_int_equal(mig_case("1g.10gb", 1, 0x10, 0), 1);  /* n0 has 4 instances */
    assert_int_equal(mig_case("3g.40gb", 1, 0x1, 0), 0);
}

/* ---- resources, counting running pods ---- */

/* Node n0 (cpu 4000, mem 8 GiB, pods 3, fpga 2) runs one pod of `run`; two
 * pending pods of `pend` go on it. */
static int64_t resource_case(const tmpl_spec_t *run, const tmpl_spec_t *pend, int places, int rule)
{
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    assert_int_equal(ss_cluster_add_ext(c, "example.com/fpga"), 0);
    int64_t ext[SS_MAX_EXT] = {2};
    int32_t n = node(c, &(node_spec_t){.name = "n0", .pods = 3}, ext);
    pod(c, "run", tmpl(c, run), -1, n, 0);
    int32_t t = tmpl(c, pend);
    pod(c, "p0", t, -1, -1, 0);
    pod(c, "p1", t, -1, -1, 0);
    ss_placements_t *p = plan(c);
    for (int i = 0; i < places; i++)
        put(p, i, n, 0);
    int64_t v = check(c, p, rule);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
    return v;
}

static void test_verify_resources_count_running(void **state)
{
    (void)state;
    tmpl_spec_t small = {.cpu = 100, .mem = GiB};
    /* cpu: 3000 running + 2 x 600 > 4000; + 1 x 600 fits; 2 x 500 fits exactly */
    assert_int_equal(
        resource_case(&(tmpl_spec_t){.cpu = 3000}, &(tmpl_spec_t){.cpu = 600}, 2, SS_VRULE_CPU), 1);
    assert_int_equal(
        resource_case(&(tmpl_spec_t){.cpu = 3000}, &(tmpl_spec_t){.cpu = 600}, 1, SS_VRULE_CPU), 0);
    assert_int_equal(
        resource_case(&(tmpl_spec_t){.cpu = 3000}, &(tmpl_spec_t){.cpu = 500}, 2, SS_VRULE_CPU), 0);
    /* memory */
    assert_int_equal(resource_case(&(tmpl_spec_t){.mem = 6 * GiB}, &(tmpl_spec_t){.mem = 2 * GiB},
                                   2, SS_VRULE_MEMORY),
                     1);
    assert_int_equal(resource_case(&(tmpl_spec_t){.mem = 6 * GiB}, &(tmpl_spec_t){.mem = GiB}, 2,
                                   SS_VRULE_MEMORY),
                     0);
    /* pods: 3 allowed, 1 running + 2 placed fits; an extra running pod would not */
    assert_int_equal(resource_case(&small, &small, 2, SS_VRULE_PODS), 0);
    /* extended resource: 2 fpga, 1 running + 2 placed */
    assert_int_equal(
        resource_case(&(tmpl_spec_t){.ext0 = 1}, &(tmpl_spec_t){.ext0 = 1}, 2, SS_VRULE_EXT), 1);
    assert_int_equal(
        resource_case(&(tmpl_spec_t){.ext0 = 1}, &(tmpl_spec_t){.ext0 = 1}, 1, SS_VRULE_EXT), 0);
    /* a zero request is never refused, even on a node over-committed before */
    assert_int_equal(resource_case(&(tmpl_spec_t){.cpu = 5000}, &(tmpl_spec_t){.mem = GiB}, 2, -1),
                     0);
}

static void test_verify_pods_overcommit(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    int32_t n = node(c, &(node_spec_t){.name = "n0", .pods = 2}, NULL);
    int32_t t = tmpl(c, &(tmpl_spec_t){.cpu = 10});
    pod(c, "run", t, -1, n, 0);
    pod(c, "p0", t, -1, -1, 0);
    pod(c, "p1", t, -1, -1, 0);
    ss_placements_t *p = plan(c);
    put(p, 0, n, 0);
    assert_int_equal(check(c, p, SS_VRULE_PODS), 0);
    put(p, 1, n, 0);
    assert_int_equal(check(c, p, SS_VRULE_PODS), 1);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* ---- gangs ---- */

/* Two nodes, n0 in rack k1 and n1 in rack k2 (same block); a group of three
 * pending members with minMember 3; rows placed on nodes[i] (-1: unplaced). */
static int64_t gang_case(int mode, const int32_t nodes[3], int rule)
{
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    node(c, &(node_spec_t){.name = "n0", .rack = "k1"}, NULL);
    node(c, &(node_spec_t){.name = "n1", .rack = "k2"}, NULL);
    int32_t g = ss_cluster_add_group(c, S(c, "train"), 3, SS_TOPO_RACK, mode);
    int32_t t = tmpl(c, &(tmpl_spec_t){.cpu = 100});
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "w%d", i);
        pod(c, name, t, g, -1, 0);
    }
    ss_placements_t *p = plan(c);
    for (int i = 0; i < 3; i++)
        if (nodes[i] >= 0)
            put(p, i, nodes[i], 0);
        else
            p->reason[i] = SS_REASON_GANG;
    int64_t v = check(c, p, rule);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
    return v;
}

static void test_verify_gang_partly_placed(void **state)
{
    (void)state;
    assert_int_equal(gang_case(SS_TOPO_MODE_NONE, (int32_t[]){0, 0, -1}, SS_VRULE_GANG), 1);
    assert_int_equal(gang_case(SS_TOPO_MODE_NONE, (int32_t[]){0, 1, 0}, SS_VRULE_GANG), 0);
    assert_int_equal(gang_case(SS_TOPO_MODE_NONE, (int32_t[]){-1, -1, -1}, SS_VRULE_GANG), 0);
}

static void test_verify_gang_straddles_racks(void **state)
{
    (void)state;
    const int32_t split[3] = {0, 1, 0}, one_rack[3] = {1, 1, 1};
    assert_int_equal(gang_case(SS_TOPO_MODE_REQUIRED, split, SS_VRULE_TOPOLOGY), 1);
    assert_int_equal(gang_case(SS_TOPO_MODE_REQUIRED, one_rack, SS_VRULE_TOPOLOGY), 0);
    assert_int_equal(gang_case(SS_TOPO_MODE_PREFERRED, split, SS_VRULE_TOPOLOGY), 0);
}

/* ---- reasons, unsupported rules, rows ---- */

static void test_verify_unsupported_placed(void **state)
{
    (void)state;
    node_spec_t ns = {.name = "n0"};
    tmpl_spec_t ts = {.cpu = 100, .unsupported = SS_RULE_TOPOLOGY_SPREAD};
    assert_int_equal(one(&ns, &ts, 0, SS_VRULE_UNSUPPORTED), 1);
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    node(c, &ns, NULL);
    pod(c, "p0", tmpl(c, &ts), -1, -1, 0);
    ss_placements_t *p = plan(c);
    p->reason[0] = SS_REASON_UNSUPPORTED_SPREAD;
    assert_int_equal(check(c, p, -1), 0);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_verify_wrong_reason(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    int32_t n = node(c, &(node_spec_t){.name = "n0"}, NULL);
    int32_t t = tmpl(c, &(tmpl_spec_t){.cpu = 100});
    pod(c, "p0", t, -1, -1, 0);
    pod(c, "p1", t, -1, -1, 0);
    ss_placements_t *p = plan(c);
    put(p, 0, n, 0);
    assert_int_equal(check(c, p, -1), 0);
    p->reason[0] = SS_REASON_CPU;  /* placed, yet a reason */
    p->reason[1] = SS_REASON_NONE; /* unplaced, yet "placed" */
    assert_int_equal(check(c, p, SS_VRULE_REASON), 2);
    p->reason[0] = SS_REASON_NONE;
    p->reason[1] = 999; /* unknown code */
    assert_int_equal(check(c, p, SS_VRULE_REASON), 1);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_verify_rows_not_pending_pods(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    int32_t n = node(c, &(node_spec_t){.name = "n0"}, NULL);
    int32_t t = tmpl(c, &(tmpl_spec_t){.cpu = 100});
    pod(c, "run", t, -1, n, 0);
    pod(c, "p0", t, -1, -1, 0);
    pod(c, "p1", t, -1, -1, 0);
    ss_placements_t *p = plan(c);
    assert_int_equal(check(c, p, -1), 0);
    p->pod[0] = 2, p->pod[1] = 1; /* swapped */
    assert_int_equal(check(c, p, SS_VRULE_ROWS), 1);
    p->pod[0] = 1, p->pod[1] = 1; /* twice; pod 2 missing */
    assert_int_equal(check(c, p, SS_VRULE_ROWS), 2);
    p->pod[0] = 0, p->pod[1] = 2; /* a running pod; pod 1 missing */
    assert_int_equal(check(c, p, SS_VRULE_ROWS), 2);
    p->pod[0] = 1, p->node[0] = 7; /* node out of range */
    assert_int_equal(check(c, p, SS_VRULE_ROWS), 1);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_verify_messages_capped(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    int32_t n = node(c, &(node_spec_t){.name = "gpu-node-7", .taints = "gpu=yes:NoSchedule"}, NULL);
    int32_t t = tmpl(c, &(tmpl_spec_t){.cpu = 1});
    for (int i = 0; i < 30; i++) {
        char name[16];
        snprintf(name, sizeof name, "web-%d", i);
        pod(c, name, t, -1, -1, 0);
    }
    ss_placements_t *p = plan(c);
    for (int i = 0; i < 30; i++)
        put(p, i, n, 0);
    ss_verify_report_t rep;
    ss_error_t err;
    assert_int_equal(ss_verify(c, p, &rep, &err), 30);
    assert_int_equal(rep.n_messages, SS_VERIFY_MAX_MESSAGES);
    assert_non_null(strstr(rep.messages[0], "default/web-0"));
    assert_non_null(strstr(rep.messages[0], "gpu-node-7"));
    assert_non_null(strstr(rep.messages[0], "untolerated taint"));
    assert_non_null(strstr(rep.messages[0], "gpu=yes:NoSchedule"));
    ss_verify_report_free(&rep);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_verify_bad_input(void **state)
{
    (void)state;
    ss_verify_report_t rep;
    ss_error_t err = {{0}};
    assert_int_equal(ss_verify(NULL, NULL, &rep, &err), SS_EINVAL);
    assert_true(strlen(err.text) > 0);
    ss_verify_report_free(&rep);
}

/* ---- summary ---- */

/* Hand-computed case. Nodes (cpu, mem, GPUs): n0 and n1 in rack k1 (4000, 8 GiB,
 * 2), n2 in rack k2 (4000, 8 GiB, 0), all zone z1; n3 in zone z2 (8000, 16 GiB,
 * 4). Running: one 1-GPU pod (1000 cpu, 1 GiB) on n0 GPU 0, one 7000-cpu pod on
 * n3. Pending: gang G1 (rack required) on n0/GPU1 + n1/GPU0; gang G2 on
 * n1/GPU1 + n3/GPU0; gang G3 unplaced; a 2000-cpu pod on n2; a half-GPU pod
 * and a 2-GPU pod unplaced. */
static ss_cluster_t *summary_cluster(void)
{
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    node(c, &(node_spec_t){.name = "n0", .rack = "k1", .gpus = 2}, NULL);
    node(c, &(node_spec_t){.name = "n1", .rack = "k1", .gpus = 2}, NULL);
    node(c, &(node_spec_t){.name = "n2", .rack = "k2"}, NULL);
    node(c,
         &(node_spec_t){.name = "n3",
                        .zone = "z2",
                        .block = "b2",
                        .rack = "k3",
                        .cpu = 8000,
                        .mem = 16 * GiB,
                        .gpus = 4},
         NULL);
    int32_t trg = tmpl(c, &(tmpl_spec_t){.cpu = 1000, .mem = GiB, .gpus = 1});
    int32_t trc = tmpl(c, &(tmpl_spec_t){.cpu = 7000, .mem = GiB});
    int32_t tg = tmpl(c, &(tmpl_spec_t){.cpu = 1000, .mem = GiB, .gpus = 1});
    int32_t tc = tmpl(c, &(tmpl_spec_t){.cpu = 2000, .mem = 2 * GiB});
    int32_t tf = tmpl(c, &(tmpl_spec_t){.cpu = 100, .gpus = 1, .gpu_milli = 500});
    int32_t th = tmpl(c, &(tmpl_spec_t){.cpu = 50, .gpus = 2});
    int32_t g1 = ss_cluster_add_group(c, S(c, "G1"), 2, SS_TOPO_RACK, SS_TOPO_MODE_REQUIRED);
    int32_t g2 = ss_cluster_add_group(c, S(c, "G2"), 2, SS_TOPO_RACK, SS_TOPO_MODE_NONE);
    int32_t g3 = ss_cluster_add_group(c, S(c, "G3"), 2, SS_TOPO_RACK, SS_TOPO_MODE_NONE);
    pod(c, "r0", trg, -1, 0, 0x1);
    pod(c, "r1", trc, -1, 3, 0);
    pod(c, "g1a", tg, g1, -1, 0);
    pod(c, "g1b", tg, g1, -1, 0);
    pod(c, "g2a", tg, g2, -1, 0);
    pod(c, "g2b", tg, g2, -1, 0);
    pod(c, "g3a", tg, g3, -1, 0);
    pod(c, "g3b", tg, g3, -1, 0);
    pod(c, "cpu", tc, -1, -1, 0);
    pod(c, "half", tf, -1, -1, 0);
    pod(c, "two", th, -1, -1, 0);
    return c;
}

static void test_summary_hand_computed(void **state)
{
    (void)state;
    ss_cluster_t *c = summary_cluster();
    ss_placements_t *p = plan(c);
    put(p, 0, 0, 0x2);
    put(p, 1, 1, 0x1);
    put(p, 2, 1, 0x2);
    put(p, 3, 3, 0x1);
    p->reason[4] = p->reason[5] = SS_REASON_GANG;
    put(p, 6, 2, 0);
    p->reason[7] = p->reason[8] = SS_REASON_GPU;
    ss_verify_report_t rep;
    ss_error_t err;
    assert_int_equal(ss_verify(c, p, &rep, &err), 0);
    const ss_summary_t *s = &rep.summary;
    assert_int_equal(s->pending, 9);
    assert_int_equal(s->placed, 5);
    assert_int_equal(s->unsched[SS_REASON_GANG], 2);
    assert_int_equal(s->unsched[SS_REASON_GPU], 2);
    assert_int_equal(s->res[SS_RES_CPU].capacity, 20000);
    assert_int_equal(s->res[SS_RES_CPU].before, 8000);
    assert_int_equal(s->res[SS_RES_CPU].after, 14000);
    assert_int_equal(s->res[SS_RES_MEMORY].capacity, 40 * GiB);
    assert_int_equal(s->res[SS_RES_MEMORY].before, 2 * GiB);
    assert_int_equal(s->res[SS_RES_MEMORY].after, 8 * GiB);
    assert_int_equal(s->res[SS_RES_GPU].capacity, 8000);
    assert_int_equal(s->res[SS_RES_GPU].before, 1000);
    assert_int_equal(s->res[SS_RES_GPU].after, 5000);
    assert_int_equal(s->res[SS_RES_PODS].capacity, 4 * 110);
    assert_int_equal(s->res[SS_RES_PODS].before, 2);
    assert_int_equal(s->res[SS_RES_PODS].after, 7);
    assert_int_equal(s->n_zones, 2);
    assert_string_equal(s->zones[0].name, "z1");
    assert_int_equal(s->zones[0].nodes, 3);
    assert_int_equal(s->zones[0].cpu_capacity, 12000);
    assert_int_equal(s->zones[0].cpu_after, 6000);
    assert_int_equal(s->zones[0].gpu_capacity, 4000);
    assert_int_equal(s->zones[0].gpu_after, 4000);
    assert_string_equal(s->zones[1].name, "z2");
    assert_int_equal(s->zones[1].cpu_after, 8000);
    assert_int_equal(s->zones[1].gpu_after, 1000);
    assert_int_equal(s->gangs, 3);
    assert_int_equal(s->gangs_placed, 2);
    assert_int_equal(s->gangs_rejected, 1);
    assert_int_equal(s->gangs_in_one[SS_TOPO_RACK], 1); /* G1 */
    assert_int_equal(s->gangs_in_one[SS_TOPO_BLOCK], 1);
    assert_int_equal(s->gangs_in_one[SS_TOPO_ZONE], 1); /* G2 spans z1 and z2 */
    assert_int_equal(s->gangs_in_one[SS_TOPO_REGION], 2);
    /* Only n3 has free GPUs (3). Minimal GPU shapes: the half GPU (100 cpu)
     * and the 2-GPU pod (50 cpu); the 1-GPU gang shape is dominated by the
     * half GPU. n3 has no cpu left (7000 + 1000 of 8000): all 3 stranded. */
    assert_int_equal(s->gpu_shapes, 2);
    assert_int_equal(s->free_gpu_milli, 3000);
    assert_int_equal(s->stranded_gpu_milli, 3000);
    assert_int_equal(s->stranded_nodes, 1);
    ss_verify_report_free(&rep);
    /* With 100 cpu free on n3 the half-GPU shape fits: nothing stranded. */
    c->templates[1].req.cpu_milli = 6900;
    assert_int_equal(ss_verify(c, p, &rep, &err), 0);
    assert_int_equal(rep.summary.stranded_gpu_milli, 0);
    assert_int_equal(rep.summary.stranded_nodes, 0);
    ss_verify_report_free(&rep);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_summary_print(void **state)
{
    (void)state;
    ss_cluster_t *c = summary_cluster();
    ss_placements_t *p = plan(c);
    put(p, 0, 0, 0x2);
    put(p, 1, 2, 0); /* G1 split over racks, and a GPU pod without GPUs */
    ss_verify_report_t rep;
    ss_error_t err;
    assert_true(ss_verify(c, p, &rep, &err) > 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    ss_verify_print_violations(f, &rep);
    ss_verify_print_summary(f, &rep);
    fclose(f);
    assert_non_null(strstr(buf, "violation: pod default/g1b on node n2"));
    assert_non_null(strstr(buf, "pending pods: 9"));
    assert_non_null(strstr(buf, "utilisation"));
    assert_non_null(strstr(buf, "stranded"));
    free(buf);
    ss_verify_report_free(&rep);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* ---- the command line: files written with the snapshot writer ---- */

static int run_cli(const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 %s verify %s"
             " >/dev/null 2>&1",
             SS_BINARY, args);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_verify_cli_exit_status(void **state)
{
    (void)state;
    if (access(SS_BINARY, X_OK) != 0)
        skip(); /* shardsched not built yet */
    char dir[] = "/tmp/test_verify.XXXXXX", cl[64], ok[64], bad[64], args[256];
    assert_non_null(mkdtemp(dir));
    snprintf(cl, sizeof cl, "%s/c.h5", dir);
    snprintf(ok, sizeof ok, "%s/ok.h5", dir);
    snprintf(bad, sizeof bad, "%s/bad.h5", dir);
    ss_cluster_t *c = summary_cluster();
    ss_placements_t *p = plan(c);
    ss_error_t err;
    put(p, 6, 2, 0); /* the cpu pod on n2: fine */
    assert_int_equal(ss_snapshot_write(cl, c, &err), 0);
    assert_int_equal(ss_placements_write(ok, c, p, &err), 0);
    put(p, 0, 0, 0x2);
    put(p, 1, 3, 0x1); /* G1 (rack required) split over k1 and k3 */
    assert_int_equal(ss_placements_write(bad, c, p, &err), 0);
    snprintf(args, sizeof args, "-i %s -p %s", cl, ok);
    assert_int_equal(run_cli(args), 0);
    snprintf(args, sizeof args, "-i %s -p %s --quiet", cl, bad);
    assert_int_equal(run_cli(args), 1);
    snprintf(args, sizeof args, "-i %s -p %s/missing.h5", cl, dir);
    assert_int_equal(run_cli(args), 2);
    assert_int_equal(run_cli("-i only-one.h5"), 2);
    assert_int_equal(run_cli("--help"), 0);
    unlink(cl), unlink(ok), unlink(bad), rmdir(dir);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_taints),
        cmocka_unit_test(test_verify_cordoned),
        cmocka_unit_test(test_verify_selector),
        cmocka_unit_test(test_verify_affinity),
        cmocka_unit_test(test_verify_affinity_terms_ored),
        cmocka_unit_test(test_verify_gpu_model),
        cmocka_unit_test(test_verify_gpu_mask_wrong),
        cmocka_unit_test(test_verify_gpu_over_shared),
        cmocka_unit_test(test_verify_gpu_whole_on_shared),
        cmocka_unit_test(test_verify_mig),
        cmocka_unit_test(test_verify_resources_count_running),
        cmocka_unit_test(test_verify_pods_overcommit),
        cmocka_unit_test(test_verify_gang_partly_placed),
        cmocka_unit_test(test_verify_gang_straddles_racks),
        cmocka_unit_test(test_verify_unsupported_placed),
        cmocka_unit_test(test_verify_wrong_reason),
        cmocka_unit_test(test_verify_rows_not_pending_pods),
        cmocka_unit_test(test_verify_messages_capped),
        cmocka_unit_test(test_verify_bad_input),
        cmocka_unit_test(test_summary_hand_computed),
        cmocka_unit_test(test_summary_print),
        cmocka_unit_test(test_verify_cli_exit_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
