/* Tests of the importer's gang dialects (io/ss_kube_gangs.c): the same four
 * gangs written as coscheduling, Volcano, KAI, upstream PodGroup, upstream
 * Workload and Kueue objects (tests/data/kube/gangs) import as the same
 * groups (minimum, topology level and mode, members); topology keys and
 * forms the engine cannot honour leave the pods unsupported with a warning;
 * bad forms are errors naming the file, the object and the field.
 * tests/e2e_kube_dialects.sh checks that they schedule to the same
 * placements. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ss_kube_import.h"

#define GANGS SS_TEST_DATA_DIR "/kube/gangs"

static const char *const dialects[] = {"coscheduling", "volcano",  "kai",
                                       "upstream",     "workload", "kueue"};

static ss_kube_opts_t quiet(void)
{
    ss_kube_opts_t o;
    ss_kube_opts_default(&o);
    o.log = NULL;
    return o;
}

static int32_t pod_by_name(const ss_cluster_t *c, const char *name)
{
    for (int32_t p = 0; p < c->n_pods; p++)
        if (!strcmp(ss_cluster_strget(c, c->pod_name[p]), name))
            return p;
    fail_msg("pod %s not imported", name);
    return -1;
}

static ss_cluster_t *import_dialect(const char *d, bool strict, ss_kube_report_t *rep)
{
    char path[512];
    snprintf(path, sizeof path, GANGS "/%s.json", d);
    ss_kube_opts_t o = quiet();
    o.strict = strict;
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    if (ss_kube_import_files(GANGS "/nodes.json", path, NULL, &o, &c, rep, &err))
        fail_msg("%s: %s", d, err.text);
    return c;
}

/* Every dialect gives the same groups: alpha (4, required rack), beta (3,
 * preferred block), gamma (5), delta (2); solo in none; no rule bits. */
static void test_ss_kube_import_files_dialects_same_gangs(void **state)
{
    (void)state;
    static const struct {
        const char *pod;
        int32_t min, members, level, mode;
    } want[] = {
        {"alpha-0", 4, 4, SS_TOPO_RACK, SS_TOPO_MODE_REQUIRED},
        {"beta-2", 3, 3, SS_TOPO_BLOCK, SS_TOPO_MODE_PREFERRED},
        {"gamma-4", 5, 5, SS_TOPO_NODE, SS_TOPO_MODE_NONE},
        {"delta-1", 2, 2, SS_TOPO_NODE, SS_TOPO_MODE_NONE},
    };
    for (size_t d = 0; d < sizeof dialects / sizeof dialects[0]; d++) {
        print_message("dialect %s\n", dialects[d]);
        ss_kube_report_t rep;
        ss_cluster_t *c = import_dialect(dialects[d], true, &rep); /* --strict: nothing unread */
        assert_int_equal(c->n_groups, 4);
        assert_int_equal(rep.pending, 15);
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
            int32_t g = c->pod_group[pod_by_name(c, want[i].pod)], members = 0;
            assert_true(g >= 0);
            assert_int_equal(c->group_min_member[g], want[i].min);
            assert_int_equal(c->group_topo_mode[g], want[i].mode);
            if (want[i].mode != SS_TOPO_MODE_NONE)
                assert_int_equal(c->group_topo_level[g], want[i].level);
            for (int32_t p = 0; p < c->n_pods; p++)
                members += c->pod_group[p] == g;
            assert_int_equal(members, want[i].members);
        }
        assert_int_equal(c->pod_group[pod_by_name(c, "solo")], -1);
        for (int32_t t = 0; t < c->n_templates; t++)
            assert_int_equal(c->templates[t].unsupported, 0);
        for (int w = 0; w < SS_KUBE_WARN_COUNT; w++)
            assert_int_equal(rep.warn[w], 0);
        ss_cluster_destroy(c);
    }
}

#define NODE                                                                                       \
    "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\",\"labels\":{\"topology.kubernetes.io/"        \
    "rack\":\"k1\"}},\"status\":{\"allocatable\":{\"cpu\":\"8\",\"pods\":\"10\"}}}"
/* A pending pod ml/NAME with metadata members META and spec members SPEC. */
#define POD(name, meta, spec)                                                                      \
    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name "\",\"namespace\":\"ml\"" meta "},"         \
    "\"spec\":{\"containers\":[]" spec "}}"
#define PG(api, name, spec)                                                                        \
    "{\"apiVersion\":\"" api "\",\"kind\":\"PodGroup\",\"metadata\":{\"name\":\"" name "\","       \
    "\"namespace\":\"ml\"},\"spec\":" spec "}"
#define WL(spec)                                                                                   \
    "{\"apiVersion\":\"scheduling.k8s.io/v1alpha1\",\"kind\":\"Workload\",\"metadata\":{\"name\":" \
    "\"w\",\"namespace\":\"ml\"},\"spec\":" spec "}"
#define VOLCANO "scheduling.volcano.sh/v1beta1"
#define KAI "scheduling.run.ai/v2alpha2"
#define UP "scheduling.k8s.io/v1alpha2"
#define KUEUE(count)                                                                               \
    ",\"labels\":{\"kueue.x-k8s.io/pod-group-name\":\"q\"},\"annotations\":{"                      \
    "\"kueue.x-k8s.io/pod-group-total-count\":" count "}"

static void expect_error(const char *pods, const char *msg)
{
    ss_kube_opts_t o = quiet();
    ss_cluster_t *c = (ss_cluster_t *)1;
    ss_error_t err = {{0}};
    int rc = ss_kube_import_strings(NODE, pods, NULL, &o, &c, NULL, &err);
    if (rc >= 0 || strcmp(err.text, msg))
        fail_msg("rc %d\n  got  '%s'\n  want '%s'", rc, err.text, msg);
    assert_null(c);
}

static void test_ss_kube_import_strings_gang_bad_forms(void **state)
{
    (void)state;
    static const struct {
        const char *pods, *msg;
    } cases[] = {
        {"[" PG(VOLCANO, "g", "{\"networkTopology\":{\"mode\":\"strict\"}}") "]",
         "<pods>: PodGroup ml/g: spec.networkTopology.mode: 'strict' is not hard or soft"},
        {"[" PG(VOLCANO, "g", "{\"minMember\":-1}") "]",
         "<pods>: PodGroup ml/g: spec.minMember: must be an integer >= 0"},
        {"[" PG(KAI, "g", "{\"minMember\":\"4\"}") "]",
         "<pods>: PodGroup ml/g: spec.minMember: expected an integer, got a string"},
        {"[" PG(KAI, "g", "{\"topologyConstraint\":{\"requiredTopologyLevel\":3}}") "]",
         "<pods>: PodGroup ml/g: spec.topologyConstraint.requiredTopologyLevel: expected a "
         "string, got an integer"},
        {"[" PG(KAI, "g", "{\"subGroups\":{}}") "]",
         "<pods>: PodGroup ml/g: spec.subGroups: expected an array, got an object"},
        {"[" PG(UP, "g", "{}") "]",
         "<pods>: PodGroup ml/g: spec.schedulingPolicy: exactly one of gang and basic must be "
         "set"},
        {"[" PG(UP, "g", "{\"schedulingPolicy\":{\"gang\":{\"minCount\":0}}}") "]",
         "<pods>: PodGroup ml/g: spec.schedulingPolicy.gang.minCount: must be an integer >= 1"},
        {"[" PG(UP, "g",
                "{\"schedulingPolicy\":{\"basic\":{}},\"schedulingConstraints\":{\"topology\":[{"
                "\"key\":\"a\"},{\"key\":\"b\"}]}}") "]",
         "<pods>: PodGroup ml/g: spec.schedulingConstraints.topology: 2 constraints; the API "
         "allows one"},
        {"[" PG(UP, "g",
                "{\"schedulingPolicy\":{\"basic\":{}},\"schedulingConstraints\":{\"topology\":[{"
                "}]}}") "]",
         "<pods>: PodGroup ml/g: spec.schedulingConstraints.topology[0].key: missing"},
        {"[" WL("{\"podGroups\":[{\"name\":\"a\",\"policy\":{\"gang\":{\"minCount\":2},"
                "\"basic\":{}}}]}") "]",
         "<pods>: Workload ml/w: spec.podGroups[0].policy: exactly one of gang and basic must "
         "be set"},
        {"[" WL("{\"podGroups\":[{\"name\":\"a\",\"policy\":{\"basic\":{}}},{\"name\":\"a\","
                "\"policy\":{\"basic\":{}}}]}") "]",
         "<pods>: Workload ml/w: spec.podGroups[1].name: 'a' is also spec.podGroups[0].name"},
        {"[" WL("{\"podGroups\":[]}") "," WL("{\"podGroups\":[]}") "]",
         "<pods>: items[1]: Workload ml/w appears twice (first at <pods>: items[0])"},
        {"[" POD("a", "", ",\"workloadRef\":{\"name\":\"w\"}") "]",
         "<pods>: Pod ml/a: spec.workloadRef.podGroup: missing"},
        {"[" POD("a", "", ",\"schedulingGroup\":{\"podGroupName\":7}") "]",
         "<pods>: Pod ml/a: spec.schedulingGroup.podGroupName: expected a string, got an "
         "integer"},
        {"[" POD("a", ",\"labels\":{\"kueue.x-k8s.io/pod-group-name\":\"q\"}", "") "]",
         "<pods>: Pod ml/a: metadata.annotations.kueue.x-k8s.io/pod-group-total-count: missing "
         "(Kueue needs it with the kueue.x-k8s.io/pod-group-name label)"},
        {"[" POD("a", KUEUE("2"), "") "]",
         "<pods>: Pod ml/a: metadata.annotations.kueue.x-k8s.io/pod-group-total-count: expected "
         "a string"},
        {"[" POD("a", KUEUE("\"two\""), "") "]",
         "<pods>: Pod ml/a: metadata.annotations.kueue.x-k8s.io/pod-group-total-count: 'two' is "
         "not a positive integer"},
        {"[" POD("a", KUEUE("\"2\""), "") "," POD("b", KUEUE("\"3\""), "") "]",
         "<pods>: Pod ml/b: metadata.annotations.kueue.x-k8s.io/pod-group-total-count: 3, but "
         "the group's first member says 2"},
        {"[" PG(VOLCANO, "g", "{\"minMember\":1}") "," PG(KAI, "h", "{\"minMember\":1}") "," POD(
             "a",
             ",\"annotations\":{\"scheduling.k8s.io/group-name\":\"g\",\"pod-group-name\":\"h\"}",
             "") "]",
         "<pods>: Pod ml/a: scheduling.k8s.io/group-name and pod-group-name name two different "
         "pod groups"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("case %zu\n", i);
        expect_error(cases[i].pods, cases[i].msg);
    }
}

static ss_cluster_t *import_ok(const char *pods, bool strict, ss_kube_report_t *rep)
{
    ss_kube_opts_t o = quiet();
    o.strict = strict;
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    if (ss_kube_import_strings(NODE, pods, NULL, &o, &c, rep, &err))
        fail_msg("%s", err.text);
    return c;
}

/* What the engine cannot honour: the pods are unsupported, with a warning
 * (an error with --strict); where Kubernetes keeps pods pending, a warning. */
static void test_ss_kube_import_strings_gang_unsupported(void **state)
{
    (void)state;
#define MEMBER(ann) POD("a", ",\"annotations\":{" ann "}", "")
    static const struct {
        const char *pods;
        int warn;
        uint32_t bit;
        int32_t groups;
    } cases[] = {
        /* a Volcano HyperNode tier no node is in (no HyperNode objects) */
        {"[" PG(
             VOLCANO, "g",
             "{\"networkTopology\":{\"mode\":\"hard\",\"highestTierAllowed\":1}}") "," MEMBER("\"sc"
                                                                                              "hedu"
                                                                                              "ling"
                                                                                              ".vol"
                                                                                              "cano"
                                                                                              ".sh/"
                                                                                              "grou"
                                                                                              "p-"
                                                                                              "name"
                                                                                              "\":"
                                                                                              "\"g"
                                                                                              "\"") "]",
         SS_KUBE_WARN_TOPOLOGY_KEY, SS_RULE_TOPOLOGY, 1},
        /* sub-groups of which fewer than all are needed (KAI minSubGroup,
         * upstream minGroupCount): not modelled */
        {"[" PG(KAI, "g",
                "{\"minSubGroup\":1,\"subGroups\":[{\"name\":\"s\",\"minMember\":1},{\"name\":"
                "\"t\",\"minMember\":1}]}") "," POD("a",
                                                    ",\"annotations\":{\"pod-group-name\":\"g\"},"
                                                    "\"labels\":{\"kai.scheduler/subgroup-name\":"
                                                    "\"s\"}",
                                                    "") "]",
         SS_KUBE_WARN_SUBGROUPS, SS_RULE_POD_GROUP, 3},
        {"[{\"apiVersion\":\"scheduling.k8s.io/v1alpha3\",\"kind\":\"CompositePodGroup\","
         "\"metadata\":{\"name\":\"c\",\"namespace\":\"ml\"},\"spec\":{\"schedulingPolicy\":{"
         "\"gang\":{\"minGroupCount\":1}}}}," PG(
             "scheduling.k8s.io/v1beta1", "g",
             "{\"schedulingPolicy\":{\"gang\":{\"minCount\":1}},"
             "\"parentCompositePodGroupName\":\"c\"}") "," PG("scheduling.k8s.io/v1beta1", "h",
                                                              "{\"schedulingPolicy\":{\"gang\":{"
                                                              "\"minCount\":1}},"
                                                              "\"parentCompositePodGroupName\":"
                                                              "\"c\"}") "," POD("a", "",
                                                                                ",\"schedulingGroup"
                                                                                "\":{"
                                                                                "\"podGroupName\":"
                                                                                "\"g\"}") "]",
         SS_KUBE_WARN_SUBGROUPS, SS_RULE_POD_GROUP, 3},
        /* a topology key that is no level */
        {"[" PG(UP, "g",
                "{\"schedulingPolicy\":{\"gang\":{\"minCount\":1}},\"schedulingConstraints\":{"
                "\"topology\":[{\"key\":\"example.com/nvlink\"}]}}") "," POD("a", "",
                                                                             ",\"schedulingGroup\":"
                                                                             "{\"podGroupName\":"
                                                                             "\"g\"}") "]",
         SS_KUBE_WARN_TOPOLOGY_KEY, SS_RULE_TOPOLOGY, 1},
        /* names of groups not in the input: Kubernetes keeps the pods pending */
        {"[" MEMBER("\"scheduling.volcano.sh/group-name\":\"none\"") "]", SS_KUBE_WARN_FOREIGN_GANG,
         SS_RULE_POD_GROUP, 0},
        {"[" WL("{\"podGroups\":[{\"name\":\"a\",\"policy\":{\"basic\":{}}}]}") "," POD(
             "a", "", ",\"workloadRef\":{\"name\":\"w\",\"podGroup\":\"b\"}") "]",
         SS_KUBE_WARN_WORKLOAD_REF, SS_RULE_WORKLOAD_REF, 0},
        /* KAI's own topology annotations outside a KAI group */
        {"[" MEMBER("\"kai.scheduler/topology-required-placement\":\"topology.kubernetes.io/"
                    "rack\"") "]",
         SS_KUBE_WARN_TOPOLOGY_REF, SS_RULE_TOPOLOGY, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("case %zu\n", i);
        ss_kube_report_t rep;
        ss_cluster_t *c = import_ok(cases[i].pods, false, &rep);
        assert_int_equal(rep.warn[cases[i].warn], 1);
        assert_int_equal(c->templates[c->pod_template[0]].unsupported, cases[i].bit);
        assert_int_equal(c->n_groups, cases[i].groups);
        ss_cluster_destroy(c);
        ss_kube_opts_t o = quiet();
        o.strict = true;
        ss_error_t err = {{0}};
        c = (ss_cluster_t *)1;
        assert_int_equal(ss_kube_import_strings(NODE, cases[i].pods, NULL, &o, &c, &rep, &err),
                         SS_EUNSUPPORTED);
        assert_null(c);
        assert_non_null(strstr(err.text, "<pods>: "));
        assert_non_null(strstr(err.text, "(--strict)"));
    }
    /* the unmapped key is named in the report */
    ss_kube_report_t rep;
    ss_cluster_t *c = import_ok(cases[3].pods, false, &rep);
    assert_string_equal(rep.topology_key, "'example.com/nvlink' in PodGroup ml/g "
                                          "spec.schedulingConstraints.topology[0].key");
    ss_cluster_destroy(c);
#undef MEMBER
}

/* Read forms that are not errors: a group with fewer members than its
 * minimum (Kubernetes keeps it pending: a warning), basic policies (single
 * pods), a pod held only by Kueue's topology gate, an upstream priority, a
 * replica key splitting one Workload pod group into two gangs. */
static void test_ss_kube_import_strings_gang_read_forms(void **state)
{
    (void)state;
    ss_kube_report_t rep;
    ss_cluster_t *c =
        import_ok("[" PG(VOLCANO, "g", "{\"minMember\":3}") "," POD(
                      "a", ",\"annotations\":{\"scheduling.volcano.sh/group-name\":\"g\"}", "") "]",
                  false, &rep);
    assert_int_equal(rep.warn[SS_KUBE_WARN_SHORT_GANG], 1);
    assert_int_equal(c->group_min_member[0], 3);
    ss_cluster_destroy(c);
    ss_kube_opts_t o = quiet();
    o.strict = true;
    ss_error_t err = {{0}};
    c = (ss_cluster_t *)1;
    assert_true(
        ss_kube_import_strings(
            NODE,
            "[" PG(VOLCANO, "g", "{\"minMember\":3}") "," POD(
                "a", ",\"annotations\":{\"scheduling.volcano.sh/group-name\":\"g\"}", "") "]",
            NULL, &o, &c, &rep, &err) == SS_EUNSUPPORTED);
    assert_string_equal(err.text, "<pods>: pod group ml/g: 1 members in the input, fewer than its "
                                  "minimum 3: pod groups with fewer members in the input than "
                                  "their minimum (Kubernetes keeps them pending) (--strict)");

    c = import_ok(
        "[" PG(UP, "b", "{\"schedulingPolicy\":{\"basic\":{}}}") "," POD(
            "a", "",
            ",\"schedulingGroup\":{\"podGroupName\":\"b\"}") "," POD("k", "",
                                                                     ",\"schedulingGates\":[{"
                                                                     "\"name\":\"kueue.x-k8s.io/"
                                                                     "topology\"}]") "]",
        true, &rep);
    assert_int_equal(c->n_groups, 0);
    assert_int_equal(c->templates[c->pod_template[1]].unsupported, 0);
    ss_cluster_destroy(c);

    c = import_ok(
        "[" PG(UP, "g", "{\"schedulingPolicy\":{\"gang\":{\"minCount\":1}},\"priority\":500}") "," POD(
            "a", "", ",\"priority\":7,\"schedulingGroup\":{\"podGroupName\":\"g\"}") "]",
        true, &rep);
    assert_int_equal(c->pod_priority[0], 500);
    ss_cluster_destroy(c);

#define REPLICA(name, key)                                                                         \
    POD(name, "",                                                                                  \
        ",\"workloadRef\":{\"name\":\"w\",\"podGroup\":\"p\",\"podGroupReplicaKey\":\"" key "\"}")
    c = import_ok(
        "[" WL("{\"podGroups\":[{\"name\":\"p\",\"policy\":{\"gang\":{\"minCount\":2}}}]"
               "}") "," REPLICA("a", "0") "," REPLICA("b",
                                                      "0") "," REPLICA("c",
                                                                       "1") "," REPLICA("d",
                                                                                        "1") "]",
        true, &rep);
    assert_int_equal(c->n_groups, 2);
    assert_int_equal(c->pod_group[0], c->pod_group[1]);
    assert_int_equal(c->pod_group[2], c->pod_group[3]);
    assert_true(c->pod_group[0] != c->pod_group[2]);
    assert_string_equal(ss_cluster_strget(c, c->group_name[c->pod_group[2]]), "ml/w.p.1");
    ss_cluster_destroy(c);
#undef REPLICA
}

/* Export writes every gang rule bit as a form import maps back to it, with
 * or without a group (gen --emit-kube, the round trip). */
static void test_ss_kube_export_cluster_gang_rules(void **state)
{
    (void)state;
#define G ",\"labels\":{\"scheduling.x-k8s.io/pod-group\":\"g\"}"
    ss_kube_report_t rep;
    ss_cluster_t *a = import_ok(
        "[" PG("scheduling.x-k8s.io/v1alpha1", "g", "{\"minMember\":1}") "," POD("a", "", ",\"workloadRef\":{\"name\":\"w\",\"podGroup\":\"p\"}") "," POD(
            "b", "",
            ",\"schedulingGroup\":{\"podGroupName\":\"x\"}") "," POD("c",
                                                                     ",\"annotations\":{\"pod-"
                                                                     "group-name\":\"x\"}",
                                                                     "") "," POD("d",
                                                                                 G
                                                                                 ",\"annotations\":"
                                                                                 "{\"kai.scheduler/"
                                                                                 "topology\":"
                                                                                 "\"t\"}",
                                                                                 "") "," POD("e", G,
                                                                                             ",\"sc"
                                                                                             "hedul"
                                                                                             "ingGa"
                                                                                             "tes\""
                                                                                             ":[{"
                                                                                             "\"nam"
                                                                                             "e\":"
                                                                                             "\"x."
                                                                                             "io/"
                                                                                             "g\"}]"
                                                                                             ",\"wo"
                                                                                             "rkloa"
                                                                                             "dRef"
                                                                                             "\":{"
                                                                                             "\"nam"
                                                                                             "e\":"
                                                                                             "\"w\""
                                                                                             ",\"po"
                                                                                             "dGrou"
                                                                                             "p\":"
                                                                                             "\"p\""
                                                                                             "}") "]",
        false, &rep);
    static const uint32_t want[5] = {SS_RULE_WORKLOAD_REF, SS_RULE_SCHEDULING_GROUP,
                                     SS_RULE_POD_GROUP, SS_RULE_TOPOLOGY,
                                     SS_RULE_SCHEDULING_GATES | SS_RULE_WORKLOAD_REF};
    char dir[] = "/tmp/ss_kube_gangsXXXXXX", np[64], pp[64];
    assert_non_null(mkdtemp(dir));
    snprintf(np, sizeof np, "%s/nodes.json", dir);
    snprintf(pp, sizeof pp, "%s/pods.json", dir);
    ss_error_t err = {{0}};
    ss_kube_opts_t o = quiet();
    ss_cluster_t *b = NULL;
    if (ss_kube_export_cluster(a, np, pp, &err) ||
        ss_kube_import_files(np, pp, NULL, &o, &b, &rep, &err))
        fail_msg("%s", err.text);
    const ss_cluster_t *cs[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        const ss_cluster_t *c = cs[k];
        assert_int_equal(c->n_pods, 5);
        for (int32_t p = 0; p < 5; p++)
            assert_int_equal(c->templates[c->pod_template[p]].unsupported, want[p]);
        assert_int_equal(c->n_groups, 1);
        assert_int_equal(c->pod_group[3], 0);
        assert_int_equal(c->pod_group[4], 0);
    }
    ss_cluster_destroy(a);
    ss_cluster_destroy(b);
    unlink(np);
    unlink(pp);
    rmdir(dir);
#undef G
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ss_kube_import_files_dialects_same_gangs),
        cmocka_unit_test(test_ss_kube_import_strings_gang_bad_forms),
        cmocka_unit_test(test_ss_kube_import_strings_gang_unsupported),
        cmocka_unit_test(test_ss_kube_import_strings_gang_read_forms),
        cmocka_unit_test(test_ss_kube_export_cluster_gang_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
