/* Tests of the importer's sub-groups and topology objects
 * (io/ss_kube_subgroups.c, io/ss_kube_topo.c): hand-written KAI, Volcano,
 * upstream and Kueue objects in tests/data/kube/subgroups, each in JSON and
 * in YAML, import as the same groups (names, minimums, members, parents,
 * levels by node label); a HyperNode tree that does not nest leaves its
 * groups unsupported with a warning; bad forms are errors naming the file,
 * the object and the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ss_kube_import.h"

#define DIR SS_TEST_DATA_DIR "/kube/subgroups"

static ss_kube_opts_t quiet(void)
{
    ss_kube_opts_t o;
    ss_kube_opts_default(&o);
    o.log = NULL;
    return o;
}

static ss_cluster_t *import(const char *file, bool strict, ss_kube_report_t *rep)
{
    char path[512];
    snprintf(path, sizeof path, DIR "/%s", file);
    ss_kube_opts_t o = quiet();
    o.strict = strict;
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    if (ss_kube_import_files(DIR "/nodes.json", path, NULL, &o, &c, rep, &err))
        fail_msg("%s: %s", file, err.text);
    return c;
}

static int32_t group(const ss_cluster_t *c, const char *name)
{
    for (int32_t g = 0; g < c->n_groups; g++)
        if (!strcmp(ss_cluster_strget(c, c->group_name[g]), name))
            return g;
    fail_msg("group %s not imported", name);
    return -1;
}

static int32_t pod_group(const ss_cluster_t *c, const char *pod)
{
    for (int32_t p = 0; p < c->n_pods; p++)
        if (!strcmp(ss_cluster_strget(c, c->pod_name[p]), pod))
            return c->pod_group[p];
    fail_msg("pod %s not imported", pod);
    return -2;
}

/* One expected group: name, minimum, parent name (NULL: top level), topology
 * key (NULL: no constraint) and mode, its pods (own members). */
typedef struct {
    const char *name;
    int32_t min;
    const char *parent, *key;
    int32_t mode;
    const char *pods[4];
} want_t;

static void check(const char *file, const want_t *w, size_t n)
{
    print_message("%s\n", file);
    ss_kube_report_t rep;
    ss_cluster_t *c = import(file, true, &rep); /* --strict: nothing left unread */
    assert_int_equal(c->n_groups, (int32_t)n);
    for (size_t i = 0; i < n; i++) {
        int32_t g = group(c, w[i].name);
        assert_int_equal(c->group_min_member[g], w[i].min);
        for (int j = 0; j < 4 && w[i].pods[j]; j++)
            assert_int_equal(pod_group(c, w[i].pods[j]), g);
        assert_int_equal(c->group_parent[g], w[i].parent ? group(c, w[i].parent) : -1);
        assert_int_equal(c->group_topo_mode[g], w[i].mode);
        if (w[i].key)
            assert_string_equal(ss_cluster_strget(c, c->level_key[c->group_topo_level[g]]),
                                w[i].key);
        if (w[i].parent)
            assert_true(group(c, w[i].parent) < g); /* parents first */
    }
    for (int32_t t = 0; t < c->n_templates; t++)
        assert_int_equal(c->templates[t].unsupported, 0);
    for (int k = 0; k < SS_KUBE_WARN_COUNT; k++)
        if (k != SS_KUBE_WARN_OTHER_KIND)
            assert_int_equal(rep.warn[k], 0);
    ss_cluster_destroy(c);
}

#define REQ SS_TOPO_MODE_REQUIRED
#define PREF SS_TOPO_MODE_PREFERRED
#define NONE SS_TOPO_MODE_NONE

/* KAI: a tree of sub-groups under a PodGroup, levels of a KAI Topology. */
static void test_ss_kube_import_files_kai_subgroups(void **state)
{
    (void)state;
    static const want_t w[] = {
        {"ml/job", 5, NULL, "topology.kubernetes.io/zone", REQ, {NULL}},
        {"ml/job/decode", 1, "ml/job", NULL, NONE, {NULL}},
        {"ml/job/d0", 2, "ml/job/decode", "example.com/nvlink", REQ, {"d0-a", "d0-b"}},
        {"ml/job/d1", 2, "ml/job/decode", "example.com/nvlink", PREF, {"d1-a", "d1-b"}},
        {"ml/job/prefill", 1, "ml/job", NULL, NONE, {"pre-a"}},
    };
    check("kai.json", w, 5);
    check("kai.yaml", w, 5);
}

/* Volcano: tasks (minTaskMember), subGroupPolicy instances by replica,
 * networkTopology tiers of a HyperNode tree. */
static void test_ss_kube_import_files_volcano_subgroups(void **state)
{
    (void)state;
    static const want_t w[] = {
        {"ml/tasks", 4, NULL, "shardsched.io/hypernode-tier-1", REQ, {NULL}},
        {"ml/tasks/ps", 1, "ml/tasks", NULL, NONE, {"ps-0"}},
        {"ml/tasks/worker", 3, "ml/tasks", NULL, NONE, {"worker-0", "worker-1", "worker-2"}},
        {"ml/reps", 4, NULL, "shardsched.io/hypernode-tier-1", PREF, {NULL}},
        {"ml/reps/rep/0",
         2,
         "ml/reps",
         "shardsched.io/hypernode-tier-1",
         REQ,
         {"rep0-0", "rep0-1"}},
        {"ml/reps/rep/1",
         2,
         "ml/reps",
         "shardsched.io/hypernode-tier-1",
         REQ,
         {"rep1-0", "rep1-1"}},
    };
    check("volcano.json", w, 6);
    check("volcano.yaml", w, 6);
}

/* The HyperNode tree as node labels: tier 1 s0 (n0..n3 by regex), s1
 * (n4..n7 by labels), tier 2 s2 (both, by name). */
static void test_ss_kube_import_files_hypernode_labels(void **state)
{
    (void)state;
    ss_kube_report_t rep;
    ss_cluster_t *c = import("volcano.yaml", false, &rep);
    for (int32_t n = 0; n < c->n_nodes; n++) {
        const char *name = ss_cluster_strget(c, c->node_name[n]), *t1 = NULL, *t2 = NULL;
        for (int32_t l = 0; l < c->node_label_count[n]; l++) {
            const ss_label_t *x = &c->labels[c->node_label_begin[n] + l];
            const char *key = ss_cluster_strget(c, x->key);
            if (!strcmp(key, "shardsched.io/hypernode-tier-1"))
                t1 = ss_cluster_strget(c, x->value);
            if (!strcmp(key, "shardsched.io/hypernode-tier-2"))
                t2 = ss_cluster_strget(c, x->value);
        }
        assert_non_null(t1);
        assert_non_null(t2);
        assert_string_equal(t1, name[1] < '4' ? "s0" : "s1");
        assert_string_equal(t2, "s2");
    }
    ss_cluster_destroy(c);
}

/* Upstream: a CompositePodGroup whose PodGroups are its sub-groups. */
static void test_ss_kube_import_files_composite(void **state)
{
    (void)state;
    static const want_t w[] = {
        {"ml/root", 3, NULL, "example.com/spine", REQ, {NULL}},
        {"ml/workers", 2, "ml/root", "example.com/nvlink", REQ, {"w-0", "w-1"}},
        {"ml/driver", 1, "ml/root", NULL, NONE, {"drv"}},
    };
    check("upstream.json", w, 3);
    check("upstream.yaml", w, 3);
}

/* Kueue: slices by the Job's completion index (not input order), each
 * required in one nvlink domain, the gang in one spine; an unconstrained
 * group; a Topology and its ResourceFlavor. */
static void test_ss_kube_import_files_kueue_slices(void **state)
{
    (void)state;
    static const want_t w[] = {
        {"ml/sliced", 4, NULL, "example.com/spine", REQ, {NULL}},
        {"ml/sliced/slice-0", 2, "ml/sliced", "example.com/nvlink", REQ, {"s-0", "s-1"}},
        {"ml/sliced/slice-1", 2, "ml/sliced", "example.com/nvlink", REQ, {"s-2", "s-3"}},
        {"ml/free", 2, NULL, NULL, NONE, {"u-0", "u-1"}},
    };
    check("kueue.json", w, 4);
    check("kueue.yaml", w, 4);
}

/* A node in two HyperNodes of one tier: the tree does not nest; the groups
 * asking for a tier are unsupported (reason topology), with a warning;
 * --strict makes it an error naming the pod. */
static void test_ss_kube_import_files_hypernode_not_nested(void **state)
{
    (void)state;
    static const char *const files[2] = {"hypernode_not_nested.json", "hypernode_not_nested.yaml"};
    for (int f = 0; f < 2; f++) {
        ss_kube_report_t rep;
        ss_cluster_t *c = import(files[f], false, &rep);
        assert_int_equal(rep.warn[SS_KUBE_WARN_VOLCANO_TOPOLOGY], 2);
        assert_int_equal(c->templates[c->pod_template[0]].unsupported, SS_RULE_TOPOLOGY);
        for (int32_t n = 0; n < c->n_nodes; n++)
            for (int32_t l = 0; l < c->node_label_count[n]; l++)
                assert_null(strstr(ss_cluster_strget(c, c->labels[c->node_label_begin[n] + l].key),
                                   "hypernode"));
        ss_cluster_destroy(c);
        char path[512];
        snprintf(path, sizeof path, DIR "/%s", files[f]);
        ss_kube_opts_t o = quiet();
        o.strict = true;
        ss_error_t err = {{0}};
        c = (ss_cluster_t *)1;
        assert_int_equal(ss_kube_import_files(DIR "/nodes.json", path, NULL, &o, &c, &rep, &err),
                         SS_EUNSUPPORTED);
        assert_null(c);
        assert_non_null(strstr(err.text, "ml/g-0"));
        assert_non_null(strstr(err.text, "(--strict)"));
    }
}

#define NODE                                                                                       \
    "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\",\"labels\":{\"example.com/nvlink\":\"a\"}},"  \
    "\"status\":{\"allocatable\":{\"cpu\":\"8\",\"pods\":\"10\"}}}"
#define POD(name, meta, spec)                                                                      \
    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name "\",\"namespace\":\"ml\"" meta "},"         \
    "\"spec\":{\"containers\":[]" spec "}}"
#define OBJ(api, kind, name, spec)                                                                 \
    "{\"apiVersion\":\"" api "\",\"kind\":\"" kind "\",\"metadata\":{\"name\":\"" name "\","       \
    "\"namespace\":\"ml\"},\"spec\":" spec "}"
#define KAI_PG(spec) OBJ("scheduling.run.ai/v2alpha2", "PodGroup", "g", spec)
#define KAI_POD(sub)                                                                               \
    POD("a",                                                                                       \
        ",\"annotations\":{\"pod-group-name\":\"g\"},\"labels\":{\"kai.scheduler/subgroup-name\":" \
        "\"" sub "\"}",                                                                            \
        "")
#define VC_PG(spec) OBJ("scheduling.volcano.sh/v1beta1", "PodGroup", "g", spec)
#define VC_POD POD("a", ",\"annotations\":{\"scheduling.k8s.io/group-name\":\"g\"}", "")
#define HN(name, spec) OBJ("topology.volcano.sh/v1alpha1", "HyperNode", name, spec)
#define KQ_POD(ann)                                                                                \
    POD("a",                                                                                       \
        ",\"labels\":{\"kueue.x-k8s.io/pod-group-name\":\"q\"},\"annotations\":{"                  \
        "\"kueue.x-k8s.io/pod-group-total-count\":\"2\"" ann "}",                                  \
        "")

/* Bad forms: errors naming the file, the object and the field. */
static void test_ss_kube_import_strings_subgroup_bad_forms(void **state)
{
    (void)state;
    static const struct {
        const char *pods, *msg;
    } cases[] = {
        {"[" KAI_PG("{\"subGroups\":[{\"name\":\"s\",\"parent\":\"x\"}]}") "," KAI_POD("s") "]",
         "PodGroup ml/g: spec.subGroups[0].parent: 'x' names no sub-group"},
        {"[" KAI_PG("{\"subGroups\":[{\"name\":\"s\",\"parent\":\"t\"},{\"name\":\"t\",\"parent\":"
                    "\"s\"}]}") "]",
         "spec.subGroups[0].parent: 't' makes a cycle"},
        {"[" KAI_PG("{\"subGroups\":[{\"name\":\"s\"},{\"name\":\"s\"}]}") "]",
         "spec.subGroups[1].name: 's' names two sub-groups"},
        {"[" KAI_PG("{\"subGroups\":[{\"name\":\"s\",\"minMember\":1,\"minSubGroup\":1}]}") "]",
         "spec.subGroups[0]: minMember and minSubGroup are mutually exclusive"},
        {"[" KAI_PG("{\"subGroups\":[{\"name\":\"s\",\"minMember\":-1}]}") "]",
         "spec.subGroups[0].minMember: must be an integer >= 0"},
        {"[" KAI_PG("{\"subGroups\":[{\"name\":\"s\"}]}") "," KAI_POD("t") "]",
         "Pod ml/a: metadata.labels.kai.scheduler/subgroup-name: 't' is no sub-group"},
        {"[" KAI_PG("{\"subGroups\":[{\"name\":\"s\"},{\"name\":\"t\",\"parent\":\"s\"}]}") "," KAI_POD(
             "s") "]",
         "'s' has sub-groups (pods join leaf sub-groups)"},
        {"[" KAI_PG("{\"topologyConstraint\":{\"topology\":\"f\",\"requiredTopologyLevel\":"
                    "\"x\"}}") "," OBJ("kai.scheduler/v1alpha1", "Topology", "f",
                                       "{\"levels\":[{\"nodeLabel\":\"y\"}]}") "]",
         "spec.topologyConstraint.requiredTopologyLevel: 'x' is no level of Topology f"},
        {"[" VC_PG("{\"minTaskMember\":{\"w\":1},\"subGroupPolicy\":[{\"name\":\"p\"}]}") "]",
         "spec: minTaskMember and subGroupPolicy both set"},
        {"[" VC_PG("{\"minTaskMember\":{\"w\":\"1\"}}") "]",
         "spec.minTaskMember.w: must be an integer >= 0"},
        {"[" VC_PG("{\"subGroupPolicy\":[{\"name\":\"p\",\"subGroupSize\":0}]}") "]",
         "spec.subGroupPolicy[0].subGroupSize: must be an integer >= 1"},
        {"[" VC_PG("{\"subGroupPolicy\":[{\"name\":\"p\",\"labelSelector\":{\"matchExpressions\":"
                   "[{\"key\":\"r\",\"operator\":\"In\"}]}}]}") "]",
         "spec.subGroupPolicy[0].labelSelector.matchExpressions[0]: needs a key"},
        {"[" VC_PG(
             "{\"networkTopology\":{\"highestTierAllowed\":1,\"highestTierName\":\"x\"}}") "]",
         "highestTierAllowed and highestTierName cannot both be set"},
        {"[" VC_PG("{\"subGroupPolicy\":[{\"name\":\"p\",\"networkTopology\":{\"mode\":\"x\"}}]"
                   "}") "]",
         "spec.subGroupPolicy[0].networkTopology.mode: 'x' is not hard or soft"},
        {"[" HN("h", "{\"tier\":1,\"members\":[{\"type\":\"Node\",\"selector\":{\"regexMatch\":{"
                     "\"pattern\":\"(\"}}}]}") "]",
         "HyperNode ml/h: spec.members[0].selector.regexMatch.pattern: '(' is not a valid "
         "regular "
         "expression"},
        {"[" HN("h", "{\"tier\":1,\"members\":[{\"type\":\"Rack\",\"selector\":{\"exactMatch\":{"
                     "\"name\":\"n\"}}}]}") "]",
         "spec.members[0].type: must be Node or HyperNode"},
        {"[" HN("h", "{\"tier\":1,\"members\":[{\"type\":\"HyperNode\",\"selector\":{"
                     "\"labelMatch\":{}}}]}") "]",
         "spec.members[0].selector.labelMatch: only for members of type Node"},
        {"[" HN("h", "{\"tier\":1,\"members\":[{\"type\":\"Node\",\"selector\":{}}]}") "]",
         "spec.members[0].selector: exactly one of exactMatch.name, regexMatch.pattern and "
         "labelMatch must be set"},
        {"[" HN("h", "{\"tier\":\"x\"}") "]", "HyperNode ml/h: spec.tier: must be an integer >= 0"},
        {"[" OBJ("kueue.x-k8s.io/v1beta1", "Topology", "t",
                 "{\"levels\":[{\"nodeLabel\":\"a\"},{\"nodeLabel\":\"a\"}]}") "]",
         "Topology ml/t: spec.levels[1].nodeLabel: 'a' is also spec.levels[0]'s"},
        {"[" OBJ("kueue.x-k8s.io/v1beta1", "Topology", "t", "{\"levels\":[]}") "]",
         "spec.levels: 0 levels (1 to 16 allowed)"},
        {"[" OBJ("kueue.x-k8s.io/v1beta1", "ResourceFlavor", "f", "{\"topologyName\":\"t\"}") "]",
         "ResourceFlavor ml/f: spec.topologyName: 't' names no Kueue Topology in the input"},
        {"[" OBJ("scheduling.k8s.io/v1beta1", "PodGroup", "g",
                 "{\"schedulingPolicy\":{\"gang\":{\"minCount\":1}},"
                 "\"parentCompositePodGroupName\":\"c\"}") "]",
         "PodGroup ml/g: spec.parentCompositePodGroupName: 'c' names no CompositePodGroup"},
        {"[" OBJ(
             "scheduling.k8s.io/v1alpha3", "CompositePodGroup", "c",
             "{\"schedulingPolicy\":{\"gang\":{\"minGroupCount\":2}}}") "," OBJ("scheduling."
                                                                                "k8s.io/"
                                                                                "v1beta1",
                                                                                "PodGroup", "g",
                                                                                "{\"schedulingP"
                                                                                "olicy\":{"
                                                                                "\"gang\":{"
                                                                                "\"minCount\":"
                                                                                "1}},"
                                                                                "\"parentCompos"
                                                                                "itePodGroupNam"
                                                                                "e\":\"c\"}") "]",
         "CompositePodGroup ml/c: spec.schedulingPolicy.gang.minGroupCount: 2, but 1 pod "
         "groups "
         "name it"},
        {"[" OBJ(
             "scheduling.k8s.io/v1alpha3", "CompositePodGroup", "c",
             "{\"schedulingPolicy\":{\"gang\":{\"minGroupCount\":1}},"
             "\"parentCompositePodGroupName\":\"d\"}") "," OBJ("scheduling.k8s.io/v1alpha3",
                                                               "CompositePodGroup", "d",
                                                               "{\"schedulingPolicy\":{\"gang\":{"
                                                               "\"minGroupCount\":1}},"
                                                               "\"parentCompositePodGroupName\":"
                                                               "\"c\"}") "]",
         "spec.parentCompositePodGroupName: a cycle of composite groups"},
        {"[" OBJ("scheduling.k8s.io/v1alpha3", "CompositePodGroup", "c",
                 "{\"schedulingPolicy\":{}}") "]",
         "CompositePodGroup ml/c: spec.schedulingPolicy: exactly one of gang and basic"},
        {"[" KQ_POD(",\"kueue.x-k8s.io/podset-slice-size\":\"2\"") "]",
         "podset-slice-size: the size without the other"},
        {"[" KQ_POD(",\"kueue.x-k8s.io/podset-slice-size\":\"0\",\"kueue.x-k8s.io/"
                    "podset-slice-required-topology\":\"example.com/nvlink\"") "]",
         "podset-slice-size: '0' is not a positive integer"},
        {"[" KQ_POD(",\"kueue.x-k8s.io/podset-unconstrained-topology\":\"true\",\"kueue.x-k8s.io/"
                    "podset-required-topology\":\"example.com/nvlink\"") "]",
         "more than one of podset-required-topology"},
        {"[" KQ_POD(",\"kueue.x-k8s.io/podset-unconstrained-topology\":\"yes\"") "]",
         "podset-unconstrained-topology: 'yes' is not true or false"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("case %zu\n", i);
        ss_kube_opts_t o = quiet();
        ss_cluster_t *c = (ss_cluster_t *)1;
        ss_error_t err = {{0}};
        int rc = ss_kube_import_strings(NODE, cases[i].pods, NULL, &o, &c, NULL, &err);
        if (rc == 0 || !strstr(err.text, cases[i].msg) || !strstr(err.text, "<pods>"))
            fail_msg("case %zu: rc %d, '%s'", i, rc, err.text);
        assert_null(c);
    }
}

/* Kueue slices: members without an index are sliced in input order; a
 * group mixing indexed and unindexed members is an error naming the pod. */
static void test_ss_kube_import_strings_slice_order(void **state)
{
    (void)state;
#define SLICED(name, idx)                                                                          \
    POD(name,                                                                                      \
        ",\"labels\":{\"kueue.x-k8s.io/pod-group-name\":\"q\"" idx "},\"annotations\":{"           \
        "\"kueue.x-k8s.io/pod-group-total-count\":\"4\",\"kueue.x-k8s.io/podset-slice-size\":"     \
        "\"2\",\"kueue.x-k8s.io/podset-slice-required-topology\":\"example.com/nvlink\"}",         \
        "")
    const char *pods =
        "[" SLICED("d", "") "," SLICED("c", "") "," SLICED("b", "") "," SLICED("a", "") "]";
    ss_kube_opts_t o = quiet();
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    assert_int_equal(ss_kube_import_strings(NODE, pods, NULL, &o, &c, NULL, &err), 0);
    assert_int_equal(c->n_groups, 3);
    assert_int_equal(pod_group(c, "d"), group(c, "ml/q/slice-0"));
    assert_int_equal(pod_group(c, "c"), group(c, "ml/q/slice-0"));
    assert_int_equal(pod_group(c, "b"), group(c, "ml/q/slice-1"));
    assert_int_equal(pod_group(c, "a"), group(c, "ml/q/slice-1"));
    ss_cluster_destroy(c);
    const char *mixed = "[" SLICED("d", "") "," SLICED(
        "c", ",\"batch.kubernetes.io/job-completion-index\":\"1\"") "]";
    c = (ss_cluster_t *)1;
    assert_true(ss_kube_import_strings(NODE, mixed, NULL, &o, &c, NULL, &err) < 0);
    assert_null(c);
    assert_non_null(strstr(err.text, "Pod ml/c: has one: some members of its sliced group have a "
                                     "pod index"));
#undef SLICED
}

/* A sub-group with fewer members in the input than its minimum: a warning
 * with a count (Kubernetes keeps the gang pending), an error with --strict;
 * a needed sub-group no pod is in is still a group (the gang cannot place). */
static void test_ss_kube_import_strings_short_subgroup(void **state)
{
    (void)state;
    const char *pods = "[" KAI_PG("{\"minMember\":1,\"subGroups\":[{\"name\":\"s\",\"minMember\":"
                                  "2},{\"name\":\"t\",\"minMember\":1}]}") "," KAI_POD("s") "]";
    ss_kube_opts_t o = quiet();
    ss_cluster_t *c = NULL;
    ss_kube_report_t rep;
    ss_error_t err = {{0}};
    assert_int_equal(ss_kube_import_strings(NODE, pods, NULL, &o, &c, &rep, &err), 0);
    assert_int_equal(c->n_groups, 3);
    assert_int_equal(rep.warn[SS_KUBE_WARN_SHORT_GANG], 2);
    assert_int_equal(c->group_min_member[group(c, "ml/g/t")], 1);
    ss_cluster_destroy(c);
    o.strict = true;
    c = (ss_cluster_t *)1;
    assert_int_equal(ss_kube_import_strings(NODE, pods, NULL, &o, &c, &rep, &err), SS_EUNSUPPORTED);
    assert_null(c);
    assert_non_null(strstr(err.text, "pod group ml/g/s: 1 members in the input, fewer than its "
                                     "minimum 2"));
}

/* More than 16 levels in all (the five legacy ones and 12 of two Kueue
 * Topology objects): an error naming the object. */
static void test_ss_kube_import_strings_too_many_levels(void **state)
{
    (void)state;
    char node[2048], pods[4096];
    int n =
        snprintf(node, sizeof node, "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\",\"labels\":{");
    for (int i = 0; i < 12; i++)
        n += snprintf(node + n, sizeof node - (size_t)n, "%s\"x.io/l%d\":\"v\"", i ? "," : "", i);
    snprintf(node + n, sizeof node - (size_t)n,
             "}},\"status\":{\"allocatable\":{\"cpu\":\"8\",\"pods\":\"10\"}}}");
    n = snprintf(pods, sizeof pods, "[");
    for (int t = 0; t < 2; t++) {
        n += snprintf(pods + n, sizeof pods - (size_t)n,
                      "{\"apiVersion\":\"kueue.x-k8s.io/v1beta1\",\"kind\":\"Topology\","
                      "\"metadata\":{\"name\":\"t%d\"},\"spec\":{\"levels\":[",
                      t + 1);
        for (int i = 0; i < 6; i++)
            n += snprintf(pods + n, sizeof pods - (size_t)n, "%s{\"nodeLabel\":\"x.io/l%d\"}",
                          i ? "," : "", t * 6 + i);
        n += snprintf(pods + n, sizeof pods - (size_t)n, "]}},");
    }
    snprintf(pods + n, sizeof pods - (size_t)n, "%s]", KQ_POD(""));
    ss_kube_opts_t o = quiet();
    ss_cluster_t *c = (ss_cluster_t *)1;
    ss_error_t err = {{0}};
    assert_true(ss_kube_import_strings(node, pods, NULL, &o, &c, NULL, &err) < 0);
    assert_null(c);
    if (!strstr(err.text, "<pods>: Topology t2") || !strstr(err.text, "x.io/l11"))
        fail_msg("%s", err.text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ss_kube_import_files_kai_subgroups),
        cmocka_unit_test(test_ss_kube_import_files_volcano_subgroups),
        cmocka_unit_test(test_ss_kube_import_files_hypernode_labels),
        cmocka_unit_test(test_ss_kube_import_files_composite),
        cmocka_unit_test(test_ss_kube_import_files_kueue_slices),
        cmocka_unit_test(test_ss_kube_import_files_hypernode_not_nested),
        cmocka_unit_test(test_ss_kube_import_strings_subgroup_bad_forms),
        cmocka_unit_test(test_ss_kube_import_strings_slice_order),
        cmocka_unit_test(test_ss_kube_import_strings_short_subgroup),
        cmocka_unit_test(test_ss_kube_import_strings_too_many_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
