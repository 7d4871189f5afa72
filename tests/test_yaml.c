/* Tests of io/ss_yaml.c (YAML documents into jansson trees with
 * Kubernetes' scalar typing and kept positions) and of YAML through the
 * Kubernetes importer (ss_kube_import_strings): the same objects in JSON
 * and YAML give the same cluster, and errors name <input>:line:column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ss_kube_import.h"
#include "ss_yaml.h"

static ss_yaml_t *load_ok(const char *text)
{
    ss_yaml_t *y = NULL;
    ss_error_t err = {{0}};
    int rc = ss_yaml_load("t.yaml", text, strlen(text), &y, &err);
    if (rc != 0)
        fail_msg("%s", err.text);
    return y;
}

static void expect_load_error(const char *text, const char *want)
{
    ss_yaml_t *y = (ss_yaml_t *)1;
    ss_error_t err = {{0}};
    assert_int_equal(ss_yaml_load("t.yaml", text, strlen(text), &y, &err), SS_EFORMAT);
    assert_null(y);
    if (!strstr(err.text, want))
        fail_msg("got '%s', want '%s'", err.text, want);
}

static void test_ss_yaml_load_scalar_types(void **state)
{
    (void)state;
    ss_yaml_t *y = load_ok("q: \"1\"\n"
                           "i: 1\n"
                           "f: 1.5\n"
                           "t: true\n"
                           "yes1: yes\n"
                           "off1: Off\n"
                           "nil: ~\n"
                           "empty:\n"
                           "milli: 100m\n"
                           "gi: 1Gi\n"
                           "hex: 0x10\n"
                           "oct: 017\n"
                           "under: 1_000\n"
                           "qt: 'true'\n"
                           "ts: 2023-01-01T00:00:00Z\n"
                           "lit: |\n  text\n"
                           "dot: .5\n"
                           "exp: 1e3\n"
                           "neg: -7\n"
                           "str: !!str 5\n"
                           "ip: 192.168.0.100\n"
                           "blank: ''\n");
    json_t *d = ss_yaml_doc(y, 0);
    assert_int_equal(ss_yaml_count(y), 1);
    assert_string_equal(json_string_value(json_object_get(d, "q")), "1");
    assert_true(json_is_integer(json_object_get(d, "i")));
    assert_int_equal(json_integer_value(json_object_get(d, "i")), 1);
    assert_true(json_is_real(json_object_get(d, "f")));
    assert_true(json_is_true(json_object_get(d, "t")));
    assert_true(json_is_true(json_object_get(d, "yes1")));
    assert_true(json_is_false(json_object_get(d, "off1")));
    assert_true(json_is_null(json_object_get(d, "nil")));
    assert_true(json_is_null(json_object_get(d, "empty")));
    assert_string_equal(json_string_value(json_object_get(d, "milli")), "100m");
    assert_string_equal(json_string_value(json_object_get(d, "gi")), "1Gi");
    assert_int_equal(json_integer_value(json_object_get(d, "hex")), 16);
    assert_int_equal(json_integer_value(json_object_get(d, "oct")), 15);
    assert_int_equal(json_integer_value(json_object_get(d, "under")), 1000);
    assert_string_equal(json_string_value(json_object_get(d, "qt")), "true");
    assert_string_equal(json_string_value(json_object_get(d, "ts")), "2023-01-01T00:00:00Z");
    assert_string_equal(json_string_value(json_object_get(d, "lit")), "text\n");
    assert_true(json_real_value(json_object_get(d, "dot")) == 0.5);
    assert_true(json_real_value(json_object_get(d, "exp")) == 1000.0);
    assert_int_equal(json_integer_value(json_object_get(d, "neg")), -7);
    assert_string_equal(json_string_value(json_object_get(d, "str")), "5");
    assert_string_equal(json_string_value(json_object_get(d, "ip")), "192.168.0.100");
    assert_string_equal(json_string_value(json_object_get(d, "blank")), "");
    ss_yaml_free(y);
}

static void test_ss_yaml_load_documents_and_positions(void **state)
{
    (void)state;
    ss_yaml_t *y = load_ok("# a comment\n"
                           "---\n"
                           "kind: Node\n"
                           "metadata:\n"
                           "  name: n1\n"
                           "  flag: true\n"
                           "---\n"
                           "---\n"
                           "- a\n"
                           "- {b: 1}\n");
    assert_int_equal(ss_yaml_count(y), 3);
    json_t *d = ss_yaml_doc(y, 0), *md = json_object_get(d, "metadata");
    assert_true(json_is_null(ss_yaml_doc(y, 1)));
    assert_true(json_is_array(ss_yaml_doc(y, 2)));
    int line = 0, col = 0;
    assert_int_equal(ss_yaml_where(json_object_get(md, "name"), &line, &col), 0);
    assert_int_equal(line, 5);
    assert_int_equal(col, 9);
    assert_int_equal(ss_yaml_where(md, &line, &col), 0);
    assert_int_equal(line, 5);
    assert_int_equal(col, 3);
    /* true is shared by every tree: asked by its member */
    assert_int_equal(ss_yaml_where(json_object_get(md, "flag"), &line, &col), -1);
    assert_int_equal(ss_yaml_member_where(md, "flag", &line, &col), 0);
    assert_int_equal(line, 6);
    assert_int_equal(col, 9);
    json_t *b = json_array_get(ss_yaml_doc(y, 2), 1);
    assert_int_equal(ss_yaml_where(b, &line, &col), 0);
    assert_int_equal(line, 10);
    assert_int_equal(col, 3);
    json_incref(md);
    ss_yaml_free(y);
    /* positions are forgotten with their documents */
    assert_int_equal(ss_yaml_where(md, &line, &col), -1);
    json_decref(md);
}

static void test_ss_yaml_load_anchors_and_merges(void **state)
{
    (void)state;
    ss_yaml_t *y = load_ok("base: &b {a: 1, b: 2}\n"
                           "der:\n"
                           "  <<: *b\n"
                           "  b: 3\n"
                           "list: [*b, *b]\n"
                           "y: 4\n"
                           "'n': 5\n");
    json_t *d = ss_yaml_doc(y, 0), *der = json_object_get(d, "der");
    assert_int_equal(json_integer_value(json_object_get(der, "a")), 1);
    assert_int_equal(json_integer_value(json_object_get(der, "b")), 3);
    /* a plain key that is a YAML 1.1 boolean is named as sigs.k8s.io/yaml names it */
    assert_int_equal(json_integer_value(json_object_get(d, "true")), 4);
    assert_int_equal(json_integer_value(json_object_get(d, "n")), 5);
    assert_null(json_object_get(der, "<<"));
    assert_int_equal(json_array_size(json_object_get(d, "list")), 2);
    ss_yaml_free(y);
}

static void test_ss_yaml_load_errors(void **state)
{
    (void)state;
    expect_load_error("a: 1\na: 2\n", "t.yaml:2:1: YAML: duplicate key 'a'");
    expect_load_error("a: *nope\n", "t.yaml:1:4: YAML: unknown alias 'nope'");
    expect_load_error("a:\n\tb: 1\n", "t.yaml:2:1: YAML: found character that cannot start any "
                                      "token");
    expect_load_error("a:\n\tb: 1\n", "the line holds a tab");
    expect_load_error("a: \"open\nb: 1\n", "t.yaml:3:1: YAML: found unexpected end of stream "
                                           "(while scanning a quoted scalar at line 1, column 4)");
    expect_load_error("a:\n  b: 1\n   c: 2\n",
                      "t.yaml:3:5: YAML: mapping values are not allowed in this context");
    expect_load_error("a: .inf\n", "t.yaml:1:4: YAML: a number JSON cannot hold");
    expect_load_error("? [1]\n: 2\n", "t.yaml:1:3: YAML: a mapping key must be a scalar");
    expect_load_error("a: !!int x\n", "t.yaml:1:4: YAML: a value that does not fit its tag");
    expect_load_error("a: &x [1]\nb:\n  <<: [*x]\n", "YAML: '<<' merges a mapping");
}

static void test_ss_yaml_text_is_json(void **state)
{
    (void)state;
    assert_true(ss_yaml_text_is_json(" \n{", 3));
    assert_true(ss_yaml_text_is_json("\xEF\xBB\xBF[", 4));
    assert_false(ss_yaml_text_is_json("kind: Pod", 9));
    assert_false(ss_yaml_text_is_json("---\n{}", 6));
    assert_false(ss_yaml_text_is_json("  ", 2));
}

#define NODE_JSON                                                                                  \
    "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\",\"labels\":{\"zone\":\"a\"}},"               \
    "\"status\":{\"allocatable\":{\"cpu\":\"4\",\"memory\":\"8Gi\",\"pods\":\"110\"}}}"
#define NODE_YAML                                                                                  \
    "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n  labels:\n    zone: a\n"                  \
    "status:\n  allocatable:\n    cpu: \"4\"\n    memory: 8Gi\n    pods: '110'\n"
#define PODS_JSON                                                                                  \
    "{\"kind\":\"List\",\"items\":[{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":"  \
    "\"ns\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":"      \
    "\"500m\",\"memory\":\"1Gi\"}}}]}},{\"kind\":\"Pod\",\"metadata\":{\"name\":\"q\","            \
    "\"namespace\":\"ns\"},\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\","         \
    "\"resources\":{\"requests\":{\"cpu\":1}}}]},\"status\":{\"phase\":\"Running\"}}]}"
#define PODS_YAML                                                                                  \
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: ns\nspec:\n  containers:\n"     \
    "  - name: c\n    resources:\n      requests:\n        cpu: 500m\n        memory: 1Gi\n"       \
    "---\n"                                                                                        \
    "kind: Pod\nmetadata: {name: q, namespace: ns}\nspec:\n  nodeName: n1\n  containers:\n"        \
    "  - name: c\n    resources:\n      requests:\n        cpu: 1\nstatus:\n  phase: Running\n"

static ss_kube_opts_t quiet(void)
{
    ss_kube_opts_t o;
    ss_kube_opts_default(&o);
    o.log = NULL;
    return o;
}

static void test_ss_kube_import_strings_yaml_like_json(void **state)
{
    (void)state;
    ss_kube_opts_t o = quiet();
    ss_cluster_t *a = NULL, *b = NULL;
    ss_kube_report_t ra, rb;
    ss_error_t err = {{0}};
    if (ss_kube_import_strings(NODE_JSON, PODS_JSON, NULL, &o, &a, &ra, &err))
        fail_msg("%s", err.text);
    if (ss_kube_import_strings(NODE_YAML, PODS_YAML, NULL, &o, &b, &rb, &err))
        fail_msg("%s", err.text);
    assert_int_equal(a->n_nodes, 1);
    assert_int_equal(b->n_nodes, 1);
    assert_int_equal(ra.running, 1);
    assert_int_equal(rb.running, 1);
    assert_int_equal(ra.pending, 1);
    assert_int_equal(rb.pending, 1);
    assert_int_equal(a->node_cpu[0], 4000);
    assert_int_equal(b->node_cpu[0], a->node_cpu[0]);
    assert_int_equal(b->node_mem[0], a->node_mem[0]);
    assert_int_equal(b->node_pods[0], a->node_pods[0]);
    assert_int_equal(b->n_templates, a->n_templates);
    for (int32_t t = 0; t < a->n_templates; t++) {
        assert_int_equal(b->templates[t].req.cpu_milli, a->templates[t].req.cpu_milli);
        assert_int_equal(b->templates[t].req.memory, a->templates[t].req.memory);
    }
    ss_cluster_destroy(a);
    ss_cluster_destroy(b);
}

static void expect_import_error(const char *nodes, const char *pods, const char *want)
{
    ss_kube_opts_t o = quiet();
    ss_cluster_t *c = (ss_cluster_t *)1;
    ss_error_t err = {{0}};
    assert_true(ss_kube_import_strings(nodes, pods, NULL, &o, &c, NULL, &err) < 0);
    assert_null(c);
    if (strcmp(err.text, want))
        fail_msg("got '%s', want '%s'", err.text, want);
}

static void test_ss_kube_import_strings_yaml_errors(void **state)
{
    (void)state;
    /* a wrong type names the line and column of the value */
    expect_import_error(NODE_YAML,
                        "kind: Pod\nmetadata: {name: p, namespace: ns}\nspec:\n"
                        "  containers:\n    name: c\n",
                        "<pods>:5:5: Pod ns/p: spec.containers: expected an array, got an object");
    expect_import_error("kind: Node\nmetadata:\n  name: n1\nspec:\n  unschedulable: \"yes\"\n",
                        NULL,
                        "<nodes>:5:18: Node n1: spec.unschedulable: expected true or false, got a "
                        "string");
    expect_import_error("kind: Node\nmetadata:\n  name: n1\nstatus:\n  allocatable:\n"
                        "    cpu: 4x\n",
                        NULL,
                        "<nodes>:6:10: Node n1: status.allocatable.cpu: '4x' is not a quantity: "
                        "unknown suffix 'x' (allowed: m k M G T P E, Ki Mi Gi Ti Pi Ei, "
                        "e<exponent>)");
    /* a List without items, a scalar document, no document */
    expect_import_error(NODE_YAML, "kind: PodList\nitems:\n",
                        "<pods>: a List whose items is null, not an array");
    expect_import_error(NODE_YAML, "kind: List\nitems: 3\n",
                        "<pods>:2:8: items: expected an array of objects");
    expect_import_error(NODE_YAML, "just text\n",
                        "<pods>:1:1: expected a v1 List, an object or a JSON array of objects");
    expect_import_error(NODE_YAML, "# nothing\n---\n",
                        "<pods>: empty file: expected a v1 List, an object or a JSON array of "
                        "objects");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ss_yaml_load_scalar_types),
        cmocka_unit_test(test_ss_yaml_load_documents_and_positions),
        cmocka_unit_test(test_ss_yaml_load_anchors_and_merges),
        cmocka_unit_test(test_ss_yaml_load_errors),
        cmocka_unit_test(test_ss_yaml_text_is_json),
        cmocka_unit_test(test_ss_kube_import_strings_yaml_like_json),
        cmocka_unit_test(test_ss_kube_import_strings_yaml_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
