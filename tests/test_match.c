/* test_match: table-driven tests of the Kubernetes matching rules in
 * engine/ss_match.c: the worked examples of the Kubernetes documentation
 * (taints and tolerations page; node affinity page) and the corner cases
 * (empty toleration key / effect, Gt / Lt with bad integers, NotIn on a
 * missing label, empty terms, matchFields, implied hostname, cordon, GPU
 * models). Each row builds a tiny cluster with the builder API from short
 * text specs:
 *   labels   "k=v;k2=v2"
 *   taints   "key=value:Effect;key:Effect"
 *   tols     "key|Op|value|Effect;..." (empty effect = all effects)
 *   terms    "expr&expr;expr" (terms split by ';', expressions by '&'),
 *            expr "key Op v1,v2" (key metadata.name = matchFields; value ''
 *            is the empty string), "-" is a term with no expressions;
 *            preferred terms are "weight:term".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ss_cluster.h"
#include "ss_match.h"
#include "ss_reason.h"

#define MAXF 16

typedef struct {
    const char *name, *labels, *taints, *gpus; /* gpus: "A100,A100,V100" */
    int unsched;
} node_spec_t;

typedef struct {
    const char *selector, *tols, *required, *preferred, *models;
    int32_t gpus, gpu_milli;
} tmpl_spec_t;

/* Splits s in place at sep, keeping empty fields. Returns the field count. */
static int split(char *s, char sep, char **out, int max)
{
    int n = 0;
    out[n++] = s;
    for (char *p = s; *p && n < max; p++) {
        if (*p == sep) {
            *p = '\0';
            out[n++] = p + 1;
        }
    }
    return n;
}

static int32_t S(ss_cluster_t *c, const char *s)
{
    int32_t id = ss_cluster_str(c, strcmp(s, "''") == 0 ? "" : s);
    assert_true(id >= 0);
    return id;
}

static int32_t effect_of(const char *s)
{
    if (strcmp(s, "NoSchedule") == 0)
        return SS_EFFECT_NO_SCHEDULE;
    if (strcmp(s, "PreferNoSchedule") == 0)
        return SS_EFFECT_PREFER_NO_SCHEDULE;
    if (strcmp(s, "NoExecute") == 0)
        return SS_EFFECT_NO_EXECUTE;
    assert_string_equal(s, "");
    return SS_EFFECT_ANY;
}

static int32_t op_of(const char *s)
{
    static const char *names[SS_OP_COUNT] = {"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"};
    for (int i = 0; i < SS_OP_COUNT; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    fail_msg("unknown operator %s", s);
    return -1;
}

/* Appends "k=v;..." to the label pool; returns the range begin, count in *n. */
static int32_t add_labels(ss_cluster_t *c, const char *spec, int32_t *n)
{
    char buf[512], *f[MAXF];
    int32_t begin = c->n_labels;
    *n = 0;
    if (!spec || !*spec)
        return begin;
    snprintf(buf, sizeof buf, "%s", spec);
    int nf = split(buf, ';', f, MAXF);
    for (int i = 0; i < nf; i++) {
        char *kv[2] = {NULL, NULL};
        assert_int_equal(split(f[i], '=', kv, 2), 2);
        assert_true(ss_cluster_add_label(c, S(c, kv[0]), S(c, kv[1])) >= 0);
        (*n)++;
    }
    return begin;
}

static int32_t add_taints(ss_cluster_t *c, const char *spec, int32_t *n)
{
    char buf[512], *f[MAXF];
    int32_t begin = c->n_taints;
    *n = 0;
    if (!spec || !*spec)
        return begin;
    snprintf(buf, sizeof buf, "%s", spec);
    int nf = split(buf, ';', f, MAXF);
    for (int i = 0; i < nf; i++) {
        char *ke[2] = {NULL, NULL}, *kv[2] = {NULL, NULL};
        assert_int_equal(split(f[i], ':', ke, 2), 2);
        int nkv = split(ke[0], '=', kv, 2);
        int32_t value = nkv == 2 ? S(c, kv[1]) : 0;
        assert_true(ss_cluster_add_taint(c, S(c, kv[0]), value, effect_of(ke[1])) >= 0);
        (*n)++;
    }
    return begin;
}

static int32_t add_tols(ss_cluster_t *c, const char *spec, int32_t *n)
{
    char buf[512], *f[MAXF];
    int32_t begin = c->n_tolerations;
    *n = 0;
    if (!spec || !*spec)
        return begin;
    snprintf(buf, sizeof buf, "%s", spec);
    int nf = split(buf, ';', f, MAXF);
    for (int i = 0; i < nf; i++) {
        char *t[4] = {NULL, NULL, NULL, NULL};
        assert_int_equal(split(f[i], '|', t, 4), 4);
        int32_t op = strcmp(t[1], "Exists") == 0 ? SS_TOL_EXISTS : SS_TOL_EQUAL;
        assert_true(ss_cluster_add_toleration(c, S(c, t[0]), S(c, t[2]), op, effect_of(t[3])) >= 0);
        (*n)++;
    }
    return begin;
}

/* Appends one expression "key Op v1,v2" (values first); returns its index. */
static int32_t add_expr(ss_cluster_t *c, char *spec)
{
    char *tok[3] = {NULL, NULL, NULL}, *v[MAXF];
    int nt = split(spec, ' ', tok, 3);
    assert_true(nt >= 2);
    int32_t vb = c->n_expr_values, nv = 0;
    if (nt == 3) {
        nv = split(tok[2], ',', v, MAXF);
        for (int i = 0; i < nv; i++)
            assert_true(ss_cluster_add_expr_value(c, S(c, v[i])) >= 0);
    }
    int is_field = strcmp(tok[0], "metadata.name") == 0;
    int32_t e = ss_cluster_add_expr(c, S(c, tok[0]), op_of(tok[1]), is_field, vb, nv);
    assert_true(e >= 0);
    return e;
}

/* Appends the terms of spec (weighted if `weighted`); returns the range. */
static int32_t add_terms(ss_cluster_t *c, const char *spec, bool weighted, int32_t *n)
{
    char buf[512], *f[MAXF];
    int32_t eb[MAXF], ec[MAXF], w[MAXF];
    *n = 0;
    if (!spec || !*spec)
        return c->n_terms;
    snprintf(buf, sizeof buf, "%s", spec);
    int nf = split(buf, ';', f, MAXF);
    for (int i = 0; i < nf; i++) {
        char *body = f[i], *wp[2] = {NULL, NULL}, *ex[MAXF];
        w[i] = 0;
        if (weighted) {
            assert_int_equal(split(f[i], ':', wp, 2), 2);
            w[i] = atoi(wp[0]);
            body = wp[1];
        }
        eb[i] = c->n_exprs;
        ec[i] = 0;
        if (strcmp(body, "-") == 0)
            continue;
        int ne = split(body, '&', ex, MAXF);
        for (int k = 0; k < ne; k++, ec[i]++)
            add_expr(c, ex[k]);
    }
    int32_t begin = c->n_terms;
    for (int i = 0; i < nf; i++)
        assert_true(ss_cluster_add_term(c, eb[i], ec[i], w[i]) >= 0);
    *n = nf;
    return begin;
}

static int32_t add_node(ss_cluster_t *c, const node_spec_t *ns)
{
    int32_t lc, tc, gb = c->n_gpus, gc = 0;
    int32_t lb = add_labels(c, ns->labels, &lc);
    int32_t tb = add_taints(c, ns->taints, &tc);
    if (ns->gpus && *ns->gpus) {
        char buf[256], *m[MAXF];
        snprintf(buf, sizeof buf, "%s", ns->gpus);
        gc = split(buf, ',', m, MAXF);
        for (int i = 0; i < gc; i++)
            assert_true(ss_cluster_add_gpu(c, S(c, m[i]), SS_GPU_MILLI) >= 0);
    }
    const int32_t topo[4] = {0, 0, 0, 0};
    int32_t n = ss_cluster_add_node(c, S(c, ns->name), topo, 64000, INT64_C(1) << 36, 110, NULL,
                                    ns->unsched != 0, lb, lc, tb, tc, gb, gc);
    assert_true(n >= 0);
    return n;
}

static int32_t add_tmpl(ss_cluster_t *c, const tmpl_spec_t *ts)
{
    ss_template_t t;
    memset(&t, 0, sizeof t);
    t.req.cpu_milli = 100;
    t.req.gpu_count = ts->gpus;
    t.req.gpu_milli = ts->gpus > 0 ? (ts->gpu_milli ? ts->gpu_milli : SS_GPU_MILLI) : 0;
    t.sel_begin = add_labels(c, ts->selector, &t.sel_count);
    t.tol_begin = add_tols(c, ts->tols, &t.tol_count);
    t.req_begin = add_terms(c, ts->required, false, &t.req_count);
    t.pref_begin = add_terms(c, ts->preferred, true, &t.pref_count);
    t.model_begin = c->n_models;
    if (ts->models && *ts->models) {
        char buf[256], *m[MAXF];
        snprintf(buf, sizeof buf, "%s", ts->models);
        t.model_count = split(buf, ',', m, MAXF);
        for (int i = 0; i < t.model_count; i++)
            assert_true(ss_cluster_add_model(c, S(c, m[i])) >= 0);
    }
    t.workload = S(c, "deploy/test");
    int32_t id = ss_cluster_add_template(c, &t);
    assert_true(id >= 0);
    return id;
}

/* Builds a cluster of n nodes and one template (index 0), validates it and
 * fills ctx. */
static ss_cluster_t *build(const node_spec_t *nodes, int n, const tmpl_spec_t *ts,
                           ss_match_ctx_t *ctx)
{
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    for (int i = 0; i < n; i++)
        add_node(c, &nodes[i]);
    add_tmpl(c, ts);
    ss_error_t err = {{0}};
    if (ss_cluster_validate(c, &err) != 0)
        fail_msg("fixture invalid: %s", err.text);
    assert_int_equal(ss_match_ctx_init(ctx, c), 0);
    return c;
}

/* ---- ss_match_ctx_init ---- */

static void test_ss_match_ctx_init_bad_input(void **state)
{
    (void)state;
    ss_match_ctx_t x = {7, 7, 7, 7};
    assert_int_equal(ss_match_ctx_init(NULL, NULL), SS_EINVAL);
    assert_int_equal(ss_match_ctx_init(&x, NULL), SS_EINVAL);
    assert_int_equal(x.hostname, 7);
    ss_cluster_t *c = ss_cluster_create();
    assert_int_equal(ss_match_ctx_init(NULL, c), SS_EINVAL);
    assert_int_equal(ss_match_ctx_init(&x, c), 0);
    assert_int_equal(x.hostname, -1);
    assert_int_equal(x.unschedulable, -1);
    int32_t h = ss_cluster_str(c, "kubernetes.io/hostname");
    int32_t z = ss_cluster_str(c, "topology.kubernetes.io/zone");
    assert_int_equal(ss_match_ctx_init(&x, c), 0);
    assert_int_equal(x.hostname, h);
    assert_int_equal(x.zone, z);
    assert_int_equal(x.region, -1);
    ss_cluster_destroy(c);
}

/* ---- ss_match_toleration ---- */

typedef struct {
    const char *tol, *taint;
    bool want;
} tol_row_t;

static void test_ss_match_toleration_table(void **state)
{
    (void)state;
    static const tol_row_t rows[] = {
        /* taints page: taint key1=value1:NoSchedule and the two tolerations it shows */
        {"key1|Equal|value1|NoSchedule", "key1=value1:NoSchedule", true},
        {"key1|Exists||NoSchedule", "key1=value1:NoSchedule", true},
        {"key1|Equal|value2|NoSchedule", "key1=value1:NoSchedule", false},
        {"key2|Exists||NoSchedule", "key1=value1:NoSchedule", false},
        {"key1|Equal|value1|NoExecute", "key1=value1:NoSchedule", false},
        /* empty effect matches all effects with key key1 */
        {"key1|Exists||", "key1=value1:NoSchedule", true},
        {"key1|Exists||", "key1=value1:PreferNoSchedule", true},
        {"key1|Equal|value1|", "key1=value1:NoExecute", true},
        /* empty key with Exists matches all keys, values and effects */
        {"|Exists||", "key1=value1:NoSchedule", true},
        {"|Exists||", "other=x:NoExecute", true},
        {"|Exists||NoExecute", "key1=value1:NoSchedule", false},
        {"|Exists||NoExecute", "key1=value1:NoExecute", true},
        /* empty key with Equal is not a wildcard */
        {"|Equal||", "key1=value1:NoSchedule", false},
        /* Equal with an empty value matches only a taint without value */
        {"key1|Equal||NoSchedule", "key1:NoSchedule", true},
        {"key1|Equal||NoSchedule", "key1=value1:NoSchedule", false},
        {"key1|Equal|value1|NoSchedule", "key1:NoSchedule", false},
        /* Exists ignores a (meaningless) value */
        {"key1|Exists|zzz|NoSchedule", "key1=value1:NoSchedule", true},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        node_spec_t n = {"n1", NULL, rows[i].taint, NULL, 0};
        tmpl_spec_t t = {NULL, rows[i].tol, NULL, NULL, NULL, 0, 0};
        ss_match_ctx_t x;
        ss_cluster_t *c = build(&n, 1, &t, &x);
        bool got = ss_match_toleration(&c->tolerations[0], &c->taints[0]);
        if (got != rows[i].want)
            fail_msg("row %zu: %s vs %s: got %d", i, rows[i].tol, rows[i].taint, got);
        ss_cluster_destroy(c);
    }
}

static void test_ss_match_toleration_unknown_op(void **state)
{
    (void)state;
    ss_taint_t taint = {1, 2, SS_EFFECT_NO_SCHEDULE};
    ss_toleration_t t = {1, 2, 7, SS_EFFECT_ANY};
    assert_false(ss_match_toleration(&t, &taint));
    t.op = SS_TOL_EQUAL;
    assert_true(ss_match_toleration(&t, &taint));
}

/* ---- ss_match_taints ---- */

typedef struct {
    const char *taints, *tols;
    int want_ok;
    int32_t want_prefer;
    bool want_stay; /* every NoExecute taint tolerated: a running pod stays */
} taints_row_t;

static bool stays(const ss_cluster_t *c, int32_t node)
{
    const ss_template_t *tm = &c->templates[0];
    for (int32_t k = 0; k < c->node_taint_count[node]; k++) {
        const ss_taint_t *taint = &c->taints[c->node_taint_begin[node] + k];
        bool ok = taint->effect != SS_EFFECT_NO_EXECUTE;
        for (int32_t j = 0; j < tm->tol_count && !ok; j++)
            ok = ss_match_toleration(&c->tolerations[tm->tol_begin + j], taint);
        if (!ok)
            return false;
    }
    return true;
}

static void test_ss_match_taints_table(void **state)
{
    (void)state;
    static const char node1[] =
        "key1=value1:NoSchedule;key1=value1:NoExecute;key2=value1:NoSchedule";
    static const taints_row_t rows[] = {
        /* taints page: node1 and a pod tolerating the first two taints: it
         * cannot schedule (key2 untolerated) but, if running, stays */
        {node1, "key1|Equal|value1|NoSchedule;key1|Equal|value1|NoExecute", 0, 0, true},
        {node1, "key1|Equal|value1|NoSchedule", 0, 0, false},
        {node1, "key1|Equal|value1|NoSchedule;key1|Equal|value1|NoExecute;key2|Exists||NoSchedule",
         1, 0, true},
        {node1, "key1|Exists||;key2|Equal|value1|", 1, 0, true},
        {node1, "|Exists||", 1, 0, true},
        {node1, NULL, 0, 0, false},
        {NULL, NULL, 1, 0, true},
        /* PreferNoSchedule taints never block, they are counted */
        {"a=b:PreferNoSchedule;c=d:PreferNoSchedule;e=f:NoSchedule", "e|Exists||NoSchedule", 1, 2,
         true},
        {"a=b:PreferNoSchedule;c=d:PreferNoSchedule;e=f:NoSchedule",
         "a|Equal|b|PreferNoSchedule;e|Exists||", 1, 1, true},
        {"a=b:PreferNoSchedule;c=d:PreferNoSchedule;e=f:NoSchedule", "a|Exists||NoSchedule", 0, 2,
         true},
        {"a=b:PreferNoSchedule", "|Exists||", 1, 0, true},
        {"x=y:NoExecute", "x|Equal|y|NoSchedule", 0, 0, false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        node_spec_t n = {"node1", NULL, rows[i].taints, NULL, 0};
        tmpl_spec_t t = {NULL, rows[i].tols, NULL, NULL, NULL, 0, 0};
        ss_match_ctx_t x;
        ss_cluster_t *c = build(&n, 1, &t, &x);
        int32_t prefer = -1;
        int ok = ss_match_taints(&x, c, 0, 0, &prefer);
        if (ok != rows[i].want_ok || prefer != rows[i].want_prefer)
            fail_msg("row %zu: ok %d prefer %d", i, ok, prefer);
        assert_int_equal(ss_match_taints(&x, c, 0, 0, NULL), rows[i].want_ok);
        if (stays(c, 0) != rows[i].want_stay)
            fail_msg("row %zu: stay", i);
        ss_cluster_destroy(c);
    }
}

/* ---- ss_node_label ---- */

static void test_ss_node_label_hostname_from_name(void **state)
{
    (void)state;
    node_spec_t n[2] = {{"n1", "zone=z1", NULL, NULL, 0}, {"n2", NULL, NULL, NULL, 0}};
    tmpl_spec_t t = {"kubernetes.io/hostname=n2", NULL, NULL, NULL, NULL, 0, 0};
    ss_match_ctx_t x;
    ss_cluster_t *c = build(n, 2, &t, &x);
    int32_t v = -1;
    assert_true(ss_node_label(&x, c, 0, x.hostname, &v));
    assert_int_equal(v, c->node_name[0]);
    assert_true(ss_node_label(&x, c, 1, x.hostname, &v));
    assert_int_equal(v, c->node_name[1]);
    assert_true(ss_node_label(&x, c, 0, ss_strtab_find(c->strings, "zone"), &v));
    assert_string_equal(ss_cluster_strget(c, v), "z1");
    v = 99;
    assert_false(ss_node_label(&x, c, 1, ss_strtab_find(c->strings, "zone"), &v));
    assert_int_equal(v, 99);
    assert_true(ss_node_label(&x, c, 0, x.hostname, NULL));
    ss_cluster_destroy(c);
}

/* ---- ss_match_expr ---- */

typedef struct {
    const char *expr;
    bool want;
} expr_row_t;

static void test_ss_match_expr_table(void **state)
{
    (void)state;
    static const expr_row_t rows[] = {
        {"topology.kubernetes.io/zone In antarctica-east1,antarctica-west1", true},
        {"topology.kubernetes.io/zone In antarctica-west1", false},
        {"missing In x", false},
        {"topology.kubernetes.io/zone NotIn x,y", true},
        {"topology.kubernetes.io/zone NotIn antarctica-east1", false},
        {"missing NotIn x", true}, /* NotIn matches a missing label */
        {"topology.kubernetes.io/zone Exists", true},
        {"missing Exists", false},
        {"missing DoesNotExist", true},
        {"topology.kubernetes.io/zone DoesNotExist", false},
        {"num Gt 5", true},
        {"num Gt 10", false},
        {"num Lt 11", true},
        {"num Lt 10", false},
        {"neg Lt 0", true},
        {"neg Gt -6", true},
        {"plus Gt 6", true}, /* "+7" parses, as in Go's strconv.ParseInt */
        {"big Gt 9223372036854775806", true},
        {"min Lt -9223372036854775807", true},
        /* non-integers on either side: no match for Gt and Lt alike */
        {"num Gt abc", false},
        {"num Lt abc", false},
        {"str Gt 5", false},
        {"str Lt 5", false},
        {"space Gt 4", false},
        {"space Lt 6", false},
        {"num Gt 1.5", false},
        {"num Gt 0x1", false},
        {"num Gt ''", false},
        {"num Gt +", false},
        {"num Lt 9223372036854775808", false}, /* overflow */
        {"huge Gt 1", false},
        {"missing Gt 1", false},
        {"missing Lt 1", false},
        /* Gt / Lt need exactly one value */
        {"num Gt 1,2", false},
        {"num Lt 20,30", false},
        {"num Gt", false},
        /* requirements kube's parser rejects match nothing */
        {"topology.kubernetes.io/zone In", false},
        {"missing NotIn", false},
        {"topology.kubernetes.io/zone Exists x", false},
        {"missing DoesNotExist x", false},
        /* implied hostname label */
        {"kubernetes.io/hostname In node-a", true},
        {"kubernetes.io/hostname In node-b,node-c", false},
        {"kubernetes.io/hostname NotIn node-a", false},
        {"kubernetes.io/hostname Exists", true},
        /* matchFields metadata.name: In / NotIn with exactly one value */
        {"metadata.name In node-a", true},
        {"metadata.name In node-b", false},
        {"metadata.name NotIn node-a", false},
        {"metadata.name NotIn node-b", true},
        {"metadata.name In node-a,node-b", false},
        {"metadata.name Exists", false},
        {"metadata.name Gt 1", false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        node_spec_t n = {"node-a",
                         "topology.kubernetes.io/zone=antarctica-east1;num=10;neg=-5;plus=+7;"
                         "big=9223372036854775807;min=-9223372036854775808;str=abc;space= 5;"
                         "huge=99999999999999999999",
                         NULL, NULL, 0};
        tmpl_spec_t t = {NULL, NULL, rows[i].expr, NULL, NULL, 0, 0};
        ss_match_ctx_t x;
        ss_cluster_t *c = build(&n, 1, &t, &x);
        bool got = ss_match_expr(&x, c, &c->exprs[0], 0);
        if (got != rows[i].want)
            fail_msg("row %zu: %s: got %d", i, rows[i].expr, got);
        /* a one-expression term gives the same answer */
        assert_int_equal(ss_match_required_affinity(&x, c, 0, 0), rows[i].want);
        ss_cluster_destroy(c);
    }
}

static void test_ss_match_expr_unknown_op(void **state)
{
    (void)state;
    node_spec_t n = {"n1", "a=1", NULL, NULL, 0};
    tmpl_spec_t t = {NULL, NULL, "a In 1", NULL, NULL, 0, 0};
    ss_match_ctx_t x;
    ss_cluster_t *c = build(&n, 1, &t, &x);
    ss_expr_t e = c->exprs[0];
    assert_true(ss_match_expr(&x, c, &e, 0));
    e.op = SS_OP_COUNT;
    assert_false(ss_match_expr(&x, c, &e, 0));
    e.is_field = 1;
    assert_false(ss_match_expr(&x, c, &e, 0));
    ss_cluster_destroy(c);
}

/* ---- ss_match_node_selector ---- */

typedef struct {
    const char *labels, *selector;
    bool want;
} sel_row_t;

static void test_ss_match_node_selector_table(void **state)
{
    (void)state;
    static const sel_row_t rows[] = {
        {"disktype=ssd", "disktype=ssd", true},
        {"disktype=ssd;zone=z1", "disktype=ssd;zone=z1", true},
        {"disktype=ssd;zone=z1", "zone=z1;disktype=hdd", false},
        {"disktype=ssd", "disktype=ssd;zone=z1", false},
        {NULL, "disktype=ssd", false},
        {"disktype=ssd", NULL, true},
        {NULL, NULL, true},
        {"disktype=", "disktype=''", true}, /* empty value equals empty value */
        {"zone=z1", "kubernetes.io/hostname=worker-1", true},
        {"zone=z1", "kubernetes.io/hostname=worker-2", false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        node_spec_t n = {"worker-1", rows[i].labels, NULL, NULL, 0};
        tmpl_spec_t t = {rows[i].selector, NULL, NULL, NULL, NULL, 0, 0};
        ss_match_ctx_t x;
        ss_cluster_t *c = build(&n, 1, &t, &x);
        if (ss_match_node_selector(&x, c, 0, 0) != rows[i].want)
            fail_msg("row %zu: %s vs %s", i, rows[i].selector, rows[i].labels);
        ss_cluster_destroy(c);
    }
}

/* ---- ss_match_required_affinity ---- */

typedef struct {
    const char *labels, *required;
    bool want;
} req_row_t;

static void test_ss_match_required_affinity_table(void **state)
{
    (void)state;
    static const char zone[] = "topology.kubernetes.io/zone In antarctica-east1,antarctica-west1";
    static const req_row_t rows[] = {
        /* node affinity page: zone In [antarctica-east1, antarctica-west1] */
        {"topology.kubernetes.io/zone=antarctica-east1", zone, true},
        {"topology.kubernetes.io/zone=antarctica-west1", zone, true},
        {"topology.kubernetes.io/zone=antarctica-south1", zone, false},
        {"another-node-label-key=another-node-label-value", zone, false},
        /* terms are ORed, expressions ANDed */
        {"b=1", "a Exists;b Exists", true},
        {"a=1", "a Exists&b Exists", false},
        {"a=1;b=1", "a Exists&b Exists", true},
        {"a=1", "a Exists&b DoesNotExist", true},
        /* a term with no expressions matches nothing */
        {"a=1", "-", false},
        {"a=1", "-;a Exists", true},
        /* no required affinity: everything matches */
        {"a=1", NULL, true},
        /* one bad requirement fails its term, not the others */
        {"a=1;n=5", "n Gt x&a Exists;a In 1", true},
        {"a=1;n=5", "n Gt x&a Exists", false},
        /* matchFields and matchExpressions in one term */
        {"a=1", "metadata.name In n1&a Exists", true},
        {"a=1", "metadata.name NotIn n1&a Exists", false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        node_spec_t n = {"n1", rows[i].labels, NULL, NULL, 0};
        tmpl_spec_t t = {NULL, NULL, rows[i].required, NULL, NULL, 0, 0};
        ss_match_ctx_t x;
        ss_cluster_t *c = build(&n, 1, &t, &x);
        if (ss_match_required_affinity(&x, c, 0, 0) != rows[i].want)
            fail_msg("row %zu: %s", i, rows[i].required ? rows[i].required : "(none)");
        ss_cluster_destroy(c);
    }
}

/* ---- ss_match_preferred_weight ---- */

typedef struct {
    const char *labels, *preferred;
    int32_t want;
} pref_row_t;

static void test_ss_match_preferred_weight_table(void **state)
{
    (void)state;
    static const char another[] = "1:another-node-label-key In another-node-label-value";
    static const pref_row_t rows[] = {
        {"another-node-label-key=another-node-label-value", another, 1},
        {"another-node-label-key=other", another, 0},
        {NULL, another, 0},
        {"a=1;b=2", "10:a Exists;20:b In 2;40:c Exists", 30},
        {"a=1", "10:a Exists&b Exists", 0},
        {"a=1", "10:-", 0},       /* empty term matches nothing */
        {"a=1", "0:a Exists", 0}, /* weight 0 is a no-op */
        {"a=1", "7:missing NotIn x", 7},
        {"a=1", NULL, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        node_spec_t n = {"n1", rows[i].labels, NULL, NULL, 0};
        tmpl_spec_t t = {NULL, NULL, NULL, rows[i].preferred, NULL, 0, 0};
        ss_match_ctx_t x;
        ss_cluster_t *c = build(&n, 1, &t, &x);
        int32_t got = ss_match_preferred_weight(&x, c, 0, 0);
        if (got != rows[i].want)
            fail_msg("row %zu: %s: got %d", i, rows[i].preferred ? rows[i].preferred : "-", got);
        ss_cluster_destroy(c);
    }
}

/* Node affinity page, "node affinity weight": required kubernetes.io/os In
 * [linux], preferred label-1 In [key-1] (weight 1) and label-2 In [key-2]
 * (weight 50): of two feasible nodes, the one with label-2 scores higher. */
static void test_ss_match_preferred_weight_docs_higher_total(void **state)
{
    (void)state;
    node_spec_t n[4] = {
        {"node-1", "kubernetes.io/os=linux;label-1=key-1", NULL, NULL, 0},
        {"node-2", "kubernetes.io/os=linux;label-2=key-2", NULL, NULL, 0},
        {"node-3", "kubernetes.io/os=windows;label-1=key-1;label-2=key-2", NULL, NULL, 0},
        {"node-4", "kubernetes.io/os=linux;label-1=key-1;label-2=key-2", NULL, NULL, 0},
    };
    tmpl_spec_t t = {
        NULL, NULL, "kubernetes.io/os In linux", "1:label-1 In key-1;50:label-2 In key-2", NULL,
        0,    0};
    static const int32_t want_w[4] = {1, 50, 51, 51};
    static const bool want_req[4] = {true, true, false, true};
    ss_match_ctx_t x;
    ss_cluster_t *c = build(n, 4, &t, &x);
    for (int32_t i = 0; i < 4; i++) {
        assert_int_equal(ss_match_preferred_weight(&x, c, 0, i), want_w[i]);
        assert_int_equal(ss_match_required_affinity(&x, c, 0, i), want_req[i]);
    }
    /* among node-1 and node-2 only, the scheduler prefers node-2 */
    int32_t best = -1, best_w = -1;
    for (int32_t i = 0; i < 2; i++) {
        int32_t w = ss_match_preferred_weight(&x, c, 0, i);
        if (ss_match_required_affinity(&x, c, 0, i) && w > best_w) {
            best = i;
            best_w = w;
        }
    }
    assert_int_equal(best, 1);
    ss_cluster_destroy(c);
}

/* ---- ss_match_gpu_model ---- */

typedef struct {
    const char *node_gpus, *models;
    int32_t gpus, milli;
    bool want;
} gpu_row_t;

static void test_ss_match_gpu_model_table(void **state)
{
    (void)state;
    static const gpu_row_t rows[] = {
        {"A100,A100,V100", "A100", 2, 0, true},
        {"A100,A100,V100", "A100", 3, 0, false},
        {"A100,A100,V100", "A100,V100", 3, 0, true},
        {"A100,A100,V100", "H100", 1, 0, false},
        {"A100,A100,V100", "V100", 1, 500, true}, /* fractional GPU */
        {"A100,A100,V100", "H100", 0, 0, true},   /* no GPU request */
        {"A100,A100,V100", NULL, 3, 0, true},     /* no model list */
        {NULL, "A100", 1, 0, false},
        {NULL, NULL, 1, 0, true},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        node_spec_t n = {"g1", NULL, NULL, rows[i].node_gpus, 0};
        tmpl_spec_t t = {NULL, NULL, NULL, NULL, rows[i].models, rows[i].gpus, rows[i].milli};
        ss_match_ctx_t x;
        ss_cluster_t *c = build(&n, 1, &t, &x);
        if (ss_match_gpu_model(&x, c, 0, 0) != rows[i].want)
            fail_msg("row %zu", i);
        ss_cluster_destroy(c);
    }
}

/* ---- ss_match_static ---- */

typedef struct {
    node_spec_t node;
    tmpl_spec_t tmpl;
    int want;
} static_row_t;

static void test_ss_match_static_order(void **state)
{
    (void)state;
    static const static_row_t rows[] = {
        {{"n", NULL, NULL, NULL, 0}, {0}, SS_REASON_NONE},
        {{"n", NULL, NULL, NULL, 1}, {0}, SS_REASON_CORDONED},
        /* a cordoned node admits a pod tolerating the unschedulable taint */
        {{"n", NULL, NULL, NULL, 1},
         {NULL, "node.kubernetes.io/unschedulable|Exists||NoSchedule", NULL, NULL, NULL, 0, 0},
         SS_REASON_NONE},
        {{"n", NULL, NULL, NULL, 1},
         {NULL, "node.kubernetes.io/unschedulable|Equal||", NULL, NULL, NULL, 0, 0},
         SS_REASON_NONE},
        {{"n", NULL, NULL, NULL, 1}, {NULL, "|Exists||", NULL, NULL, NULL, 0, 0}, SS_REASON_NONE},
        {{"n", NULL, NULL, NULL, 1},
         {NULL, "node.kubernetes.io/unschedulable|Exists||NoExecute", NULL, NULL, NULL, 0, 0},
         SS_REASON_CORDONED},
        {{"n", NULL, NULL, NULL, 1},
         {NULL, "node.kubernetes.io/unschedulable|Equal|true|NoSchedule", NULL, NULL, NULL, 0, 0},
         SS_REASON_CORDONED},
        /* first failure wins, in kube-scheduler's filter order */
        {{"n", "a=1", "t=1:NoSchedule", "A100", 1},
         {"a=2", NULL, "a In 2", NULL, "H100", 1, 0},
         SS_REASON_CORDONED},
        {{"n", "a=1", "t=1:NoSchedule", "A100", 1},
         {"a=2", "node.kubernetes.io/unschedulable|Exists||", "a In 2", NULL, "H100", 1, 0},
         SS_REASON_TAINT},
        {{"n", "a=1", "t=1:NoSchedule", "A100", 0},
         {"a=2", "t|Exists||", "a In 2", NULL, "H100", 1, 0},
         SS_REASON_NODE_SELECTOR},
        {{"n", "a=1", "t=1:NoSchedule", "A100", 0},
         {"a=1", "t|Exists||", "a In 2", NULL, "H100", 1, 0},
         SS_REASON_NODE_AFFINITY},
        {{"n", "a=1", "t=1:NoSchedule", "A100", 0},
         {"a=1", "t|Exists||", "a In 1", NULL, "H100", 1, 0},
         SS_REASON_GPU_MODEL},
        {{"n", "a=1", "t=1:NoSchedule", "A100", 0},
         {"a=1", "t|Exists||", "a In 1", NULL, "A100", 1, 0},
         SS_REASON_NONE},
        /* PreferNoSchedule and preferred affinity never filter */
        {{"n", NULL, "p=1:PreferNoSchedule", NULL, 0},
         {NULL, NULL, NULL, "5:a Exists", NULL, 0, 0},
         SS_REASON_NONE},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ss_match_ctx_t x;
        ss_cluster_t *c = build(&rows[i].node, 1, &rows[i].tmpl, &x);
        int got = ss_match_static(&x, c, 0, 0);
        if (got != rows[i].want)
            fail_msg("row %zu: got %s, want %s", i, ss_reason_text(got),
                     ss_reason_text(rows[i].want));
        ss_cluster_destroy(c);
    }
}

/* The cordon key is interned by no one: only a wildcard toleration helps. */
static void test_ss_match_static_cordon_key_absent(void **state)
{
    (void)state;
    node_spec_t n = {"n", NULL, NULL, NULL, 1};
    tmpl_spec_t t = {NULL, "other|Exists||;|Equal||", NULL, NULL, NULL, 0, 0};
    ss_match_ctx_t x;
    ss_cluster_t *c = build(&n, 1, &t, &x);
    assert_int_equal(x.unschedulable, -1);
    assert_int_equal(ss_match_static(&x, c, 0, 0), SS_REASON_CORDONED);
    ss_cluster_destroy(c);
    t.tols = "|Exists||NoSchedule";
    c = build(&n, 1, &t, &x);
    assert_int_equal(ss_match_static(&x, c, 0, 0), SS_REASON_NONE);
    ss_cluster_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ss_match_ctx_init_bad_input),
        cmocka_unit_test(test_ss_match_toleration_table),
        cmocka_unit_test(test_ss_match_toleration_unknown_op),
        cmocka_unit_test(test_ss_match_taints_table),
        cmocka_unit_test(test_ss_node_label_hostname_from_name),
        cmocka_unit_test(test_ss_match_expr_table),
        cmocka_unit_test(test_ss_match_expr_unknown_op),
        cmocka_unit_test(test_ss_match_node_selector_table),
        cmocka_unit_test(test_ss_match_required_affinity_table),
        cmocka_unit_test(test_ss_match_preferred_weight_table),
        cmocka_unit_test(test_ss_match_preferred_weight_docs_higher_total),
        cmocka_unit_test(test_ss_match_gpu_model_table),
        cmocka_unit_test(test_ss_match_static_order),
        cmocka_unit_test(test_ss_match_static_cordon_key_absent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
