/* Tests of the gang dialects the Kubernetes exporter writes
 * (io/ss_kube_export_gangs.c, gen --gang-dialect): for two small gangs (one
 * requiring a rack, one preferring a block), each dialect's objects and pod
 * fields, checked field by field against the JSON names the dialects use,
 * and import --strict of what was written gives back the same groups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

#include "ss_kube_export_gangs.h"
#include "ss_kube_import.h"
#include "ss_test_files.h"
#include "ss_test_gangs.h"

#define RACK "topology.kubernetes.io/rack"
#define BLOCK "topology.kubernetes.io/block"
#define REQ_ANN "kueue.x-k8s.io/podset-required-topology"
#define PREF_ANN "kueue.x-k8s.io/podset-preferred-topology"

/* obj at the keys (NULL-terminated; "#N" indexes an array), NULL if absent. */
static json_t *at(json_t *o, ...)
{
    va_list ap;
    va_start(ap, o);
    for (const char *k; o && (k = va_arg(ap, const char *));)
        o = k[0] == '#' ? json_array_get(o, (size_t)atoi(k + 1)) : json_object_get(o, k);
    va_end(ap);
    return o;
}

static const char *str(json_t *o)
{
    return json_is_string(o) ? json_string_value(o) : "(not a string)";
}

/* The item of kind named name in the List at path (NULL if none). */
static json_t *item(json_t *list, const char *kind, const char *name)
{
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(list, "items"), i, x)
    {
        if (!strcmp(str(at(x, "kind", NULL)), kind) &&
            !strcmp(str(at(x, "metadata", "name", NULL)), name))
            return x;
    }
    return NULL;
}

static int count_kind(json_t *list, const char *kind)
{
    size_t i;
    json_t *x;
    int n = 0;
    json_array_foreach(json_object_get(list, "items"), i, x) n +=
        !strcmp(str(at(x, "kind", NULL)), kind);
    return n;
}

/* 4 GPU nodes (2 a rack, 2 racks a block); gangs alpha (2 pods, min 2,
 * required rack) and beta (2 pods, min 2, preferred block). */
static ss_cluster_t *two_gangs(void)
{
    ss_cluster_t *c = gpu_cluster(4, 2, 2, NULL);
    add_gang(c, "alpha", 2, 2, SS_TOPO_RACK, SS_TOPO_MODE_REQUIRED);
    add_gang(c, "beta", 2, 2, SS_TOPO_BLOCK, SS_TOPO_MODE_PREFERRED);
    return c;
}

/* Exports c in dialect d; returns pods.json's List. */
static json_t *export_as(const ss_cluster_t *c, int d)
{
    ss_kube_export_opts_t eo = {.gang_dialect = d};
    ss_error_t err = {{0}};
    assert_int_equal(
        ss_kube_export_cluster_opts(c, wpath("nodes.json"), wpath("pods.json"), &eo, &err), 0);
    json_error_t jerr;
    json_t *list = json_load_file(wpath("pods.json"), 0, &jerr);
    assert_non_null(list);
    return list;
}

/* import --strict of the export: the two groups, named as the dialect
 * names them, with their minimum, level and mode. */
static void check_import(int d)
{
    ss_kube_opts_t o;
    ss_kube_opts_default(&o);
    o.strict = true;
    o.log = NULL;
    ss_cluster_t *back = NULL;
    ss_error_t err = {{0}};
    int rc =
        ss_kube_import_files(wpath("nodes.json"), wpath("pods.json"), NULL, &o, &back, NULL, &err);
    if (rc != 0)
        fail_msg("%s: import: %s", ss_kube_dialect_names[d], err.text);
    assert_int_equal(back->n_groups, 2);
    for (int32_t g = 0; g < 2; g++) {
        const char *name = ss_cluster_strget(back, back->group_name[g]);
        bool alpha = strstr(name, "alpha") != NULL;
        char want[64];
        snprintf(want, sizeof want, "default/%s%s", alpha ? "alpha" : "beta",
                 d == SS_KUBE_DIALECT_WORKLOAD ? "." SS_KUBE_EXPORT_WORKLOAD_PODGROUP : "");
        assert_string_equal(name, want);
        assert_int_equal(back->group_min_member[g], 2);
        assert_int_equal(back->group_topo_level[g], alpha ? SS_TOPO_RACK : SS_TOPO_BLOCK);
        assert_int_equal(back->group_topo_mode[g],
                         alpha ? SS_TOPO_MODE_REQUIRED : SS_TOPO_MODE_PREFERRED);
        assert_int_equal(back->group_parent[g], -1);
    }
    ss_cluster_destroy(back);
}

static void test_coscheduling(void **state)
{
    (void)state;
    ss_cluster_t *c = two_gangs();
    json_t *l = export_as(c, SS_KUBE_DIALECT_COSCHEDULING);
    json_t *pod = item(l, "Pod", "alpha-0"), *pg = item(l, "PodGroup", "alpha");
    assert_string_equal(str(at(pod, "metadata", "labels", "scheduling.x-k8s.io/pod-group", NULL)),
                        "alpha");
    assert_string_equal(str(at(pod, "metadata", "annotations", REQ_ANN, NULL)), RACK);
    assert_string_equal(
        str(at(item(l, "Pod", "beta-1"), "metadata", "annotations", PREF_ANN, NULL)), BLOCK);
    assert_string_equal(str(at(pg, "apiVersion", NULL)), "scheduling.x-k8s.io/v1alpha1");
    assert_string_equal(str(at(pg, "metadata", "namespace", NULL)), "default");
    assert_int_equal(json_integer_value(at(pg, "spec", "minMember", NULL)), 2);
    json_decref(l);
    check_import(SS_KUBE_DIALECT_COSCHEDULING);
    ss_cluster_destroy(c);
}

static void test_volcano(void **state)
{
    (void)state;
    ss_cluster_t *c = two_gangs();
    json_t *l = export_as(c, SS_KUBE_DIALECT_VOLCANO);
    json_t *pod = item(l, "Pod", "alpha-1"), *pg = item(l, "PodGroup", "alpha");
    assert_string_equal(
        str(at(pod, "metadata", "annotations", "scheduling.k8s.io/group-name", NULL)), "alpha");
    assert_string_equal(
        str(at(pod, "metadata", "annotations", "scheduling.volcano.sh/group-name", NULL)), "alpha");
    assert_null(at(pod, "metadata", "labels", "scheduling.x-k8s.io/pod-group", NULL));
    assert_string_equal(str(at(pod, "metadata", "annotations", REQ_ANN, NULL)), RACK);
    assert_string_equal(str(at(pg, "apiVersion", NULL)), "scheduling.volcano.sh/v1beta1");
    assert_int_equal(json_integer_value(at(pg, "spec", "minMember", NULL)), 2);
    assert_string_equal(str(at(pg, "spec", "queue", NULL)), "default");
    assert_null(at(pg, "spec", "networkTopology", NULL)); /* HyperNode tiers: none */
    json_decref(l);
    check_import(SS_KUBE_DIALECT_VOLCANO);
    ss_cluster_destroy(c);
}

static void test_kai(void **state)
{
    (void)state;
    ss_cluster_t *c = two_gangs();
    json_t *l = export_as(c, SS_KUBE_DIALECT_KAI);
    json_t *pod = item(l, "Pod", "alpha-0"), *a = item(l, "PodGroup", "alpha"),
           *b = item(l, "PodGroup", "beta");
    assert_string_equal(str(at(pod, "metadata", "annotations", "pod-group-name", NULL)), "alpha");
    assert_null(at(pod, "metadata", "annotations", REQ_ANN, NULL)); /* the PodGroup says it */
    assert_null(at(item(l, "Pod", "beta-0"), "metadata", "annotations", PREF_ANN, NULL));
    assert_string_equal(str(at(a, "apiVersion", NULL)), "scheduling.run.ai/v2alpha2");
    assert_int_equal(json_integer_value(at(a, "spec", "minMember", NULL)), 2);
    assert_string_equal(str(at(a, "spec", "topologyConstraint", "requiredTopologyLevel", NULL)),
                        RACK);
    assert_null(at(a, "spec", "topologyConstraint", "preferredTopologyLevel", NULL));
    assert_string_equal(str(at(b, "spec", "topologyConstraint", "preferredTopologyLevel", NULL)),
                        BLOCK);
    assert_null(at(b, "spec", "topologyConstraint", "requiredTopologyLevel", NULL));
    json_decref(l);
    check_import(SS_KUBE_DIALECT_KAI);
    ss_cluster_destroy(c);
}

static void test_workload(void **state)
{
    (void)state;
    ss_cluster_t *c = two_gangs();
    json_t *l = export_as(c, SS_KUBE_DIALECT_WORKLOAD);
    json_t *pod = item(l, "Pod", "alpha-0"), *w = item(l, "Workload", "alpha");
    assert_string_equal(str(at(pod, "spec", "workloadRef", "name", NULL)), "alpha");
    assert_string_equal(str(at(pod, "spec", "workloadRef", "podGroup", NULL)), "workers");
    assert_string_equal(str(at(pod, "metadata", "annotations", REQ_ANN, NULL)), RACK);
    assert_string_equal(str(at(w, "apiVersion", NULL)), "scheduling.k8s.io/v1alpha1");
    assert_string_equal(str(at(w, "spec", "podGroups", "#0", "name", NULL)), "workers");
    assert_int_equal(
        json_integer_value(at(w, "spec", "podGroups", "#0", "policy", "gang", "minCount", NULL)),
        2);
    assert_int_equal(count_kind(l, "PodGroup"), 0);
    assert_int_equal(count_kind(l, "Workload"), 2);
    json_decref(l);
    check_import(SS_KUBE_DIALECT_WORKLOAD);
    ss_cluster_destroy(c);
}

static void test_podgroup(void **state)
{
    (void)state;
    ss_cluster_t *c = two_gangs();
    json_t *l = export_as(c, SS_KUBE_DIALECT_PODGROUP);
    json_t *pod = item(l, "Pod", "alpha-0"), *a = item(l, "PodGroup", "alpha"),
           *b = item(l, "PodGroup", "beta"), *bpod = item(l, "Pod", "beta-0");
    assert_string_equal(str(at(pod, "spec", "schedulingGroup", "podGroupName", NULL)), "alpha");
    assert_null(at(pod, "metadata", "annotations", REQ_ANN, NULL));
    assert_string_equal(str(at(a, "apiVersion", NULL)), "scheduling.k8s.io/v1alpha2");
    assert_int_equal(
        json_integer_value(at(a, "spec", "schedulingPolicy", "gang", "minCount", NULL)), 2);
    assert_string_equal(str(at(a, "spec", "schedulingConstraints", "topology", "#0", "key", NULL)),
                        RACK);
    assert_int_equal(json_array_size(at(a, "spec", "schedulingConstraints", "topology", NULL)), 1);
    /* preferred: the API has no form for it; the members' Kueue annotation */
    assert_null(at(b, "spec", "schedulingConstraints", NULL));
    assert_string_equal(str(at(bpod, "metadata", "annotations", PREF_ANN, NULL)), BLOCK);
    json_decref(l);
    check_import(SS_KUBE_DIALECT_PODGROUP);
    ss_cluster_destroy(c);
}

static void test_kueue(void **state)
{
    (void)state;
    ss_cluster_t *c = two_gangs();
    json_t *l = export_as(c, SS_KUBE_DIALECT_KUEUE);
    json_t *pod = item(l, "Pod", "alpha-1"), *bpod = item(l, "Pod", "beta-0");
    assert_string_equal(str(at(pod, "metadata", "labels", "kueue.x-k8s.io/pod-group-name", NULL)),
                        "alpha");
    assert_string_equal(
        str(at(pod, "metadata", "annotations", "kueue.x-k8s.io/pod-group-total-count", NULL)), "2");
    assert_string_equal(str(at(pod, "metadata", "annotations", REQ_ANN, NULL)), RACK);
    assert_string_equal(str(at(bpod, "metadata", "annotations", PREF_ANN, NULL)), BLOCK);
    assert_string_equal(str(at(pod, "spec", "schedulingGates", "#0", "name", NULL)),
                        "kueue.x-k8s.io/topology");
    assert_int_equal(count_kind(l, "PodGroup") + count_kind(l, "Workload"), 0);
    json_decref(l);
    check_import(SS_KUBE_DIALECT_KUEUE);
    ss_cluster_destroy(c);
}

/* The default: today's output (coscheduling PodGroups, Volcano's annotation). */
static void test_default(void **state)
{
    (void)state;
    ss_cluster_t *c = two_gangs();
    json_t *l = export_as(c, SS_KUBE_DIALECT_DEFAULT);
    json_t *pod = item(l, "Pod", "alpha-0"), *pg = item(l, "PodGroup", "alpha");
    assert_string_equal(
        str(at(pod, "metadata", "annotations", "scheduling.k8s.io/group-name", NULL)), "alpha");
    assert_null(at(pod, "metadata", "annotations", "scheduling.volcano.sh/group-name", NULL));
    assert_string_equal(str(at(pod, "metadata", "annotations", REQ_ANN, NULL)), RACK);
    assert_string_equal(str(at(pg, "apiVersion", NULL)), "scheduling.x-k8s.io/v1alpha1");
    json_decref(l);
    check_import(SS_KUBE_DIALECT_DEFAULT);
    ss_cluster_destroy(c);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(ss_kube_dialect_names[SS_KUBE_DIALECT_KAI], "kai");
    assert_string_equal(ss_kube_dialect_names[SS_KUBE_DIALECT_PODGROUP], "podgroup");
    assert_null(ss_kube_dialect_names[SS_KUBE_DIALECT_COUNT]);
}

static int setup(void **state)
{
    (void)state;
    return ss_test_workdir_make("ss_kexp_gangs");
}

static int teardown(void **state)
{
    (void)state;
    return ss_test_workdir_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default),  cmocka_unit_test(test_coscheduling),
        cmocka_unit_test(test_volcano),  cmocka_unit_test(test_kai),
        cmocka_unit_test(test_workload), cmocka_unit_test(test_podgroup),
        cmocka_unit_test(test_kueue),    cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
