/* Tests of the Kubernetes importer and exporter for issue 12's rules:
 * topologySpreadConstraints, pod (anti-)affinity terms (matchLabelKeys and
 * mismatchLabelKeys folded in), preemptionPolicy, PriorityClasses
 * (globalDefault, built-in system classes, unknown classes), owners,
 * status.startTime, Namespaces and PodDisruptionBudgets: one table case per
 * field, one per error (file, object and field named), and a cluster built
 * with the model's builders, exported, re-imported and compared field by
 * field. Host ports (NodePorts) as synthetic labels and anti-affinity
 * terms, imported and scheduled. */
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
#include "ss_queue.h"
#include "ss_reason.h"
#include "ss_sched.h"
#include "ss_verify.h"

#define NODE_OK                                                                                    \
    "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\",\"labels\":{\"topology.kubernetes.io/zone\":" \
    "\"z1\"}},\"status\":{\"allocatable\":{\"cpu\":\"4\",\"memory\":\"8Gi\",\"pods\":\"10\"}}}"
/* A pending pod ns/NAME with labels app=web, tier=fe and more spec members. */
#define PODN(name, meta_rest, spec_rest, status)                                                   \
    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name "\",\"namespace\":\"ns\",\"labels\":"       \
    "{\"app\":\"web\",\"tier\":\"fe\"}" meta_rest "},\"spec\":{\"containers\":[{\"name\":\"c\","   \
    "\"resources\":{\"requests\":{\"cpu\":\"1\"}}}]" spec_rest "},\"status\":{" status "}}"
#define POD(spec_rest) PODN("p", "", spec_rest, "")
#define LIST(items) "{\"kind\":\"List\",\"items\":[" items "]}"

static ss_kube_opts_t quiet(void)
{
    ss_kube_opts_t o;
    ss_kube_opts_default(&o);
    o.log = NULL;
    return o;
}

static ss_cluster_t *import_ok(const char *pods, ss_kube_report_t *rep)
{
    ss_kube_opts_t o = quiet();
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    if (ss_kube_import_strings(NODE_OK, pods, NULL, &o, &c, rep, &err))
        fail_msg("%s", err.text);
    return c;
}

static const ss_template_t *tmpl(const ss_cluster_t *c, int32_t pod)
{
    return &c->templates[c->pod_template[pod]];
}

static const char *str(const ss_cluster_t *c, int32_t id)
{
    return ss_cluster_strget(c, id);
}

/* "key op v1,v2;..." of a selector, "null" for a null one. */
static const char *sel_text(const ss_cluster_t *c, const ss_selector_t *s, char *buf, size_t n)
{
    static const char *ops[] = {"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"};
    if (s->null)
        return snprintf(buf, n, "null"), buf;
    size_t len = 0;
    buf[0] = '\0';
    for (int32_t i = 0; i < s->count; i++) {
        const ss_expr_t *e = &c->exprs[s->begin + i];
        len += (size_t)snprintf(buf + len, n - len, "%s%s %s ", i ? ";" : "", str(c, e->key),
                                ops[e->op]);
        for (int32_t v = 0; v < e->val_count; v++)
            len += (size_t)snprintf(buf + len, n - len, "%s%s", v ? "," : "",
                                    str(c, c->expr_values[e->val_begin + v]));
    }
    return buf;
}

/* ---- each field ---- */

static void test_ss_kube_import_strings_spread_fields(void **state)
{
    (void)state;
    char b[512];
    ss_kube_report_t rep;
    ss_cluster_t *c = import_ok(
        LIST(
            POD(",\"topologySpreadConstraints\":[{\"maxSkew\":2,\"topologyKey\":"
                "\"topology.kubernetes.io/zone\",\"whenUnsatisfiable\":\"ScheduleAnyway\","
                "\"labelSelector\":{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":"
                "[{\"key\":\"tier\",\"operator\":\"Exists\"}]},\"matchLabelKeys\":[\"tier\","
                "\"missing\",\"app\"],\"nodeAffinityPolicy\":\"Ignore\",\"nodeTaintsPolicy\":"
                "\"Honor\"},{\"maxSkew\":1,\"topologyKey\":\"kubernetes.io/hostname\","
                "\"whenUnsatisfiable\":\"DoNotSchedule\",\"minDomains\":3,\"labelSelector\":{}}]")),
        &rep);
    const ss_template_t *t = tmpl(c, 0);
    assert_int_equal(t->unsupported, 0);
    assert_int_equal(t->spread_count, 2);
    const ss_spread_t *s = &c->spreads[t->spread_begin];
    assert_int_equal(s[0].max_skew, 2);
    assert_string_equal(str(c, s[0].key), "topology.kubernetes.io/zone");
    assert_int_equal(s[0].when, SS_WHEN_SCHEDULE_ANYWAY);
    assert_int_equal(s[0].min_domains, 1);
    assert_int_equal(s[0].node_affinity_policy, SS_INCL_IGNORE);
    assert_int_equal(s[0].node_taints_policy, SS_INCL_HONOR);
    /* matchLabelKeys: tier In (fe) added, missing ignored, app In (web) already there */
    assert_string_equal(sel_text(c, &s[0].sel, b, sizeof b), "app In web;tier Exists ;tier In fe");
    assert_int_equal(s[1].max_skew, 1);
    assert_int_equal(s[1].when, SS_WHEN_DO_NOT_SCHEDULE);
    assert_int_equal(s[1].min_domains, 3);
    assert_int_equal(s[1].node_affinity_policy, SS_INCL_HONOR); /* the defaults */
    assert_int_equal(s[1].node_taints_policy, SS_INCL_IGNORE);
    assert_string_equal(sel_text(c, &s[1].sel, b, sizeof b), "");
    assert_int_equal(s[1].sel.null, 0);
    assert_int_equal(c->default_spreading, SS_SPREAD_DEFAULT_SYSTEM);
    ss_cluster_destroy(c);

    /* no labelSelector: null (matches nothing) */
    c = import_ok(POD(",\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":\"k\","
                      "\"whenUnsatisfiable\":\"DoNotSchedule\"}]"),
                  &rep);
    assert_int_equal(c->spreads[tmpl(c, 0)->spread_begin].sel.null, 1);
    ss_cluster_destroy(c);
}

static void test_ss_kube_import_strings_pod_term_fields(void **state)
{
    (void)state;
    char b[512];
    ss_kube_report_t rep;
    ss_cluster_t *c = import_ok(
        POD(",\"affinity\":{\"podAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
            "[{\"labelSelector\":{\"matchLabels\":{\"app\":\"db\"}},\"topologyKey\":"
            "\"topology.kubernetes.io/zone\"}],\"preferredDuringSchedulingIgnoredDuringExecution\":"
            "[{\"weight\":30,\"podAffinityTerm\":{\"topologyKey\":\"kubernetes.io/hostname\","
            "\"labelSelector\":{},\"namespaceSelector\":{}}}]},\"podAntiAffinity\":{"
            "\"preferredDuringSchedulingIgnoredDuringExecution\":[{\"weight\":100,"
            "\"podAffinityTerm\":{\"labelSelector\":{\"matchExpressions\":[{\"key\":\"app\","
            "\"operator\":\"In\",\"values\":[\"web\",\"api\"]}]},\"namespaces\":[\"a\",\"b\"],"
            "\"namespaceSelector\":{\"matchLabels\":{\"team\":\"x\"}},\"topologyKey\":"
            "\"kubernetes.io/hostname\",\"matchLabelKeys\":[\"tier\"],\"mismatchLabelKeys\":"
            "[\"app\",\"nope\"]}}],\"requiredDuringSchedulingIgnoredDuringExecution\":[{"
            "\"topologyKey\":\"kubernetes.io/hostname\"}]}}"),
        &rep);
    const ss_template_t *t = tmpl(c, 0);
    assert_int_equal(t->unsupported, 0);
    assert_int_equal(t->pterm_count, 4);
    const ss_podterm_t *p = &c->pterms[t->pterm_begin];
    /* affinity required, affinity preferred, anti-affinity required, preferred */
    assert_int_equal(p[0].kind, SS_PT_AFFINITY);
    assert_int_equal(p[0].weight, 0);
    assert_string_equal(str(c, p[0].key), "topology.kubernetes.io/zone");
    assert_string_equal(sel_text(c, &p[0].sel, b, sizeof b), "app In db");
    assert_int_equal(p[0].ns_count, 0);
    assert_int_equal(p[0].ns_sel.null, 1); /* the pod's own namespace */
    assert_int_equal(p[1].kind, SS_PT_AFFINITY);
    assert_int_equal(p[1].weight, 30);
    assert_int_equal(p[1].sel.null, 0);
    assert_int_equal(p[1].sel.count, 0);
    assert_int_equal(p[1].ns_sel.null, 0); /* {}: every namespace */
    assert_int_equal(p[1].ns_sel.count, 0);
    assert_int_equal(p[2].kind, SS_PT_ANTI_AFFINITY);
    assert_int_equal(p[2].weight, 0);
    assert_int_equal(p[2].sel.null, 1); /* no labelSelector: matches nothing */
    assert_int_equal(p[3].kind, SS_PT_ANTI_AFFINITY);
    assert_int_equal(p[3].weight, 100);
    assert_string_equal(sel_text(c, &p[3].sel, b, sizeof b),
                        "app In web,api;tier In fe;app NotIn web");
    assert_int_equal(p[3].ns_count, 2);
    assert_string_equal(str(c, c->expr_values[p[3].ns_begin]), "a");
    assert_string_equal(str(c, c->expr_values[p[3].ns_begin + 1]), "b");
    assert_string_equal(sel_text(c, &p[3].ns_sel, b, sizeof b), "team In x");
    ss_cluster_destroy(c);
}

/* Pods that differ only in a rule never share a template; equal ones do. */
static void test_ss_kube_import_strings_rule_templates(void **state)
{
    (void)state;
#define SPREAD(skew)                                                                               \
    ",\"topologySpreadConstraints\":[{\"maxSkew\":" skew ",\"topologyKey\":\"k\","                 \
    "\"whenUnsatisfiable\":\"DoNotSchedule\"}]"
#define ANTI(key)                                                                                  \
    ",\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[{"    \
    "\"topologyKey\":\"" key "\"}]}}"
#define OWNER(kind, ctl) ",\"ownerReferences\":[{\"kind\":\"" kind "\",\"name\":\"r\"" ctl "}]"
    static const char *const pods = LIST(
        PODN("a", "", SPREAD("1"), "") "," PODN("b", "", SPREAD("1"), "") "," PODN("c", "", SPREAD("2"), "") "," PODN(
            "d", "",
            ANTI("x"),
            "") "," PODN("e", "", ANTI("y"),
                         "") "," PODN("f", "", ",\"preemptionPolicy\":\"Never\"",
                                      "") "," PODN("g", "", "",
                                                   "") "," PODN("h",
                                                                OWNER("ReplicaSet",
                                                                      ",\"controller\":true"),
                                                                "",
                                                                "") "," PODN("i",
                                                                             OWNER("ReplicaSet",
                                                                                   ""),
                                                                             "",
                                                                             "") "," PODN("j",
                                                                                          OWNER(
                                                                                              "Daem"
                                                                                              "onSe"
                                                                                              "t",
                                                                                              ",\"c"
                                                                                              "ontr"
                                                                                              "olle"
                                                                                              "r\":"
                                                                                              "tru"
                                                                                              "e"),
                                                                                          "", ""));
    ss_kube_report_t rep;
    ss_cluster_t *c = import_ok(pods, &rep);
    assert_int_equal(c->n_pods, 10);
    assert_int_equal(c->pod_template[0], c->pod_template[1]);
    for (int32_t p = 1; p < 10; p++) /* every other pair differs */
        for (int32_t q = 1; q < p; q++)
            assert_int_not_equal(c->pod_template[q], c->pod_template[p]);
    /* the importer always knows the eviction facts (format version 5) */
    assert_int_equal(tmpl(c, 5)->flags, SS_TF_PREEMPT_NEVER | SS_TF_EVICT_FACTS);
    assert_int_equal(tmpl(c, 6)->flags, SS_TF_EVICT_FACTS);
    assert_int_equal(tmpl(c, 7)->flags, SS_TF_CONTROLLER | SS_TF_EVICT_FACTS);
    assert_int_equal(tmpl(c, 8)->flags, SS_TF_EVICT_FACTS); /* an owner that is no controller */
    assert_string_equal(str(c, tmpl(c, 8)->workload), "ReplicaSet/r");
    assert_int_equal(tmpl(c, 9)->flags, SS_TF_CONTROLLER | SS_TF_DAEMONSET | SS_TF_EVICT_FACTS);
    ss_cluster_destroy(c);
#undef SPREAD
#undef ANTI
#undef OWNER
}

#define PC(name, rest)                                                                             \
    "{\"apiVersion\":\"scheduling.k8s.io/v1\",\"kind\":\"PriorityClass\",\"metadata\":{\"name\":"  \
    "\"" name "\"}" rest "}"

static void test_ss_kube_import_strings_priority_classes(void **state)
{
    (void)state;
    static const struct {
        const char *classes, *spec;
        int32_t prio;
        uint32_t flags;
        int unknown, mismatch;
    } cases[] = {
        {"", "", 0, 0, 0, 0},
        {"", ",\"priority\":2000001000", 2000001000, 0, 0, 0}, /* kept, never clamped */
        {"", ",\"priority\":-7", -7, 0, 0, 0},
        {"", ",\"priorityClassName\":\"system-node-critical\"", 2000001000, 0, 0, 0},
        {"", ",\"priorityClassName\":\"system-cluster-critical\"", 2000000000, 0, 0, 0},
        {PC("high", ",\"value\":1000,\"preemptionPolicy\":\"Never\"") ",",
         ",\"priorityClassName\":\"high\"", 1000, SS_TF_PREEMPT_NEVER, 0, 0},
        /* the pod's own preemptionPolicy wins over its class's */
        {PC("high", ",\"value\":1000,\"preemptionPolicy\":\"Never\"") ",",
         ",\"priorityClassName\":\"high\",\"preemptionPolicy\":\"PreemptLowerPriority\"", 1000, 0,
         0, 0},
        {"", ",\"preemptionPolicy\":\"Never\"", 0, SS_TF_PREEMPT_NEVER, 0, 0},
        /* globalDefault: pods without a class and without spec.priority */
        {PC("d", ",\"value\":10,\"globalDefault\":true,\"preemptionPolicy\":\"Never\"") ",", "", 10,
         SS_TF_PREEMPT_NEVER, 0, 0},
        {PC("d", ",\"value\":10,\"globalDefault\":true") ",", ",\"priority\":3", 3, 0, 0, 0},
        /* unknown: warned, spec.priority kept */
        {"", ",\"priorityClassName\":\"gone\",\"priority\":5", 5, 0, 1, 0},
        /* spec.priority is what kube-scheduler reads: kept, warned when it differs */
        {PC("high", ",\"value\":1000") ",", ",\"priorityClassName\":\"high\",\"priority\":1000",
         1000, 0, 0, 0},
        {PC("high", ",\"value\":1000") ",", ",\"priorityClassName\":\"high\",\"priority\":4", 4, 0,
         0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("case %zu\n", i);
        char pods[2048];
        snprintf(pods, sizeof pods,
                 "{\"kind\":\"List\",\"items\":[%s{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
                 "\"namespace\":\"ns\"},\"spec\":{\"containers\":[]%s}}]}",
                 cases[i].classes, cases[i].spec);
        ss_kube_report_t rep;
        ss_cluster_t *c = import_ok(pods, &rep);
        assert_int_equal(c->pod_priority[0], cases[i].prio);
        assert_int_equal(tmpl(c, 0)->flags, cases[i].flags | SS_TF_EVICT_FACTS);
        assert_int_equal(rep.warn[SS_KUBE_WARN_PRIORITY_CLASS_UNKNOWN], cases[i].unknown);
        assert_int_equal(rep.warn[SS_KUBE_WARN_PRIORITY_MISMATCH], cases[i].mismatch);
        if (cases[i].unknown)
            assert_string_equal(rep.priority_class, "'gone' of <pods>: Pod ns/p");
        ss_cluster_destroy(c);
    }
    /* --strict: an unknown class is an error naming the pod */
    ss_kube_opts_t o = quiet();
    o.strict = true;
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    assert_int_equal(ss_kube_import_strings(NODE_OK, POD(",\"priorityClassName\":\"gone\""), NULL,
                                            &o, &c, NULL, &err),
                     SS_EUNSUPPORTED);
    assert_null(c);
    assert_non_null(strstr(err.text, "<pods>: ns/p: pods whose priorityClassName names no"));
}

static void test_ss_kube_import_strings_start_time(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t want;
    } cases[] = {
        {"2021-07-07T11:28:34Z", 1625657314},
        {"2021-07-07T11:28:34.123456Z", 1625657314},
        {"2021-07-07T13:28:34+02:00", 1625657314},
        {"2021-07-07T06:28:34-05:00", 1625657314},
        {"1970-01-01T00:00:00Z", 0},
        {"2024-02-29T00:00:00Z", 1709164800},
        {"1969-12-31T23:59:59Z", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t t = 42;
        assert_int_equal(ss_kube_rfc3339(cases[i].text, &t), 0);
        assert_int_equal(t, cases[i].want);
    }
    static const char *bad[] = {"2021-07-07",
                                "2021-07-07 11:28:34Z",
                                "2021-13-07T11:28:34Z",
                                "2023-02-29T00:00:00Z",
                                "2021-07-07T11:28:34",
                                "2021-07-07T11:28:34.Z",
                                "2021-07-07T11:28:34+0200",
                                "yesterday"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t t;
        print_message("bad %s\n", bad[i]);
        assert_int_equal(ss_kube_rfc3339(bad[i], &t), -1);
    }
    ss_kube_report_t rep;
    ss_cluster_t *c = import_ok(
        LIST(PODN("a", "", "", "\"startTime\":\"2021-07-07T11:28:34Z\"") "," PODN("b", "", "", "")),
        &rep);
    assert_int_equal(c->pod_start[0], 1625657314);
    assert_int_equal(c->pod_start[1], 0); /* unknown */
    assert_int_equal(c->pod_template[0], c->pod_template[1]);
    ss_cluster_destroy(c);
}

#define NS(name, labels)                                                                           \
    "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" name "\","           \
    "\"labels\":" labels "}}"
#define PDB(name, spec, rest)                                                                      \
    "{\"apiVersion\":\"policy/v1\",\"kind\":\"PodDisruptionBudget\",\"metadata\":{\"name\":"       \
    "\"" name "\",\"namespace\":\"ns\"},\"spec\":" spec rest "}"

static void test_ss_kube_import_strings_namespaces_pdbs(void **state)
{
    (void)state;
    char b[256];
    ss_kube_report_t rep;
    ss_cluster_t *c =
        import_ok(LIST(NS("ns", "{\"team\":\"x\",\"kubernetes.io/metadata.name\":\"ns\"}") "," NS(
                      "empty", "{}") "," PDB("a",
                                             "{\"minAvailable\":\"50%\",\"selector\":{"
                                             "\"matchLabels\":"
                                             "{\"app\":\"web\"}}}",
                                             "") "," PDB("b",
                                                         "{\"maxUnavailable\":1,\"selector\":{}"
                                                         ","
                                                         "\"unhealthyPodEvictionPolicy\":"
                                                         "\"AlwaysAllow\"}",
                                                         ",\"status\":{\"disruptionsAllowed\":"
                                                         "2}") "," PDB("c", "{\"minAvailable\":0}",
                                                                       "") "," POD("")),
                  &rep);
    assert_int_equal(c->n_namespaces, 2);
    assert_string_equal(str(c, c->ns_name[0]), "ns");
    assert_int_equal(c->ns_label_count[0], 1); /* metadata.name is implied */
    assert_string_equal(str(c, c->labels[c->ns_label_begin[0]].key), "team");
    assert_int_equal(c->ns_label_count[1], 0);
    assert_int_equal(c->n_pdbs, 3);
    const ss_pdb_t *p = c->pdbs;
    assert_string_equal(str(c, p[0].name), "a");
    assert_string_equal(str(c, p[0].ns), "ns");
    assert_int_equal(p[0].min_available, 50);
    assert_int_equal(p[0].min_pct, 1);
    assert_int_equal(p[0].max_unavailable, -1);
    assert_int_equal(p[0].allowed, -1); /* no status: computed */
    assert_int_equal(p[0].always_allow, 0);
    assert_string_equal(sel_text(c, &p[0].sel, b, sizeof b), "app In web");
    assert_int_equal(p[1].min_available, -1);
    assert_int_equal(p[1].max_unavailable, 1);
    assert_int_equal(p[1].max_pct, 0);
    assert_int_equal(p[1].allowed, 2);
    assert_int_equal(p[1].always_allow, 1);
    assert_int_equal(p[1].sel.null, 0);
    assert_int_equal(p[1].sel.count, 0);
    assert_int_equal(p[2].min_available, 0);
    assert_int_equal(p[2].sel.null, 1); /* no selector: no pod */
    assert_int_equal(rep.warn[SS_KUBE_WARN_OTHER_KIND], 0);
    ss_cluster_destroy(c);
}

/* --priority-classes and --pdbs: kind-less objects take their input's role. */
static void test_ss_kube_import_inputs_roles(void **state)
{
    (void)state;
    char dir[] = "/tmp/ss_kube_rolesXXXXXX", n[64], p[64], k[64], d[64];
    assert_non_null(mkdtemp(dir));
    const char *texts[4] = {NODE_OK, POD(",\"priorityClassName\":\"hi\""),
                            "[{\"metadata\":{\"name\":\"hi\"},\"value\":77}]",
                            "[{\"metadata\":{\"name\":\"b\",\"namespace\":\"ns\"},\"spec\":"
                            "{\"minAvailable\":1}}]"};
    char *paths[4] = {n, p, k, d};
    const char *names[4] = {"n.json", "p.json", "k.json", "d.json"};
    for (int i = 0; i < 4; i++) {
        snprintf(paths[i], 64, "%s/%s", dir, names[i]);
        FILE *f = fopen(paths[i], "w");
        assert_non_null(f);
        fputs(texts[i], f);
        fclose(f);
    }
    const ss_kube_input_t in[4] = {{n, 'N'}, {p, 'P'}, {k, 'C'}, {d, 'B'}};
    ss_kube_opts_t o = quiet();
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    if (ss_kube_import_inputs(in, 4, &o, &c, NULL, &err))
        fail_msg("%s", err.text);
    assert_int_equal(c->pod_priority[0], 77);
    assert_int_equal(c->n_pdbs, 1);
    assert_int_equal(c->pdbs[0].min_available, 1);
    ss_cluster_destroy(c);
    for (int i = 0; i < 4; i++)
        unlink(paths[i]);
    rmdir(dir);
}

/* ---- each error: file, object and field named; no cluster ---- */

static void test_ss_kube_import_strings_rule_errors(void **state)
{
    (void)state;
#define TSC(x) POD(",\"topologySpreadConstraints\":[" x "]")
#define TSC_OK "\"maxSkew\":1,\"topologyKey\":\"k\",\"whenUnsatisfiable\":\"DoNotSchedule\""
#define PA(kind, list, x) POD(",\"affinity\":{\"" kind "\":{\"" list "\":[" x "]}}")
#define REQD "requiredDuringSchedulingIgnoredDuringExecution"
#define PREF "preferredDuringSchedulingIgnoredDuringExecution"
    static const struct {
        const char *pods, *msg;
    } cases[] = {
        {TSC("{\"maxSkew\":0,\"topologyKey\":\"k\",\"whenUnsatisfiable\":\"DoNotSchedule\"}"),
         "<pods>: Pod ns/p: spec.topologySpreadConstraints[0].maxSkew: must be an integer >= 1 "
         "(got 0)"},
        {TSC("{\"topologyKey\":\"k\",\"whenUnsatisfiable\":\"DoNotSchedule\"}"),
         "<pods>: Pod ns/p: spec.topologySpreadConstraints[0].maxSkew: required"},
        {TSC("{\"maxSkew\":\"1\",\"topologyKey\":\"k\",\"whenUnsatisfiable\":\"DoNotSchedule\"}"),
         "<pods>: Pod ns/p: spec.topologySpreadConstraints[0].maxSkew: expected an integer, got a "
         "string"},
        {TSC("{\"maxSkew\":1,\"topologyKey\":\"\",\"whenUnsatisfiable\":\"DoNotSchedule\"}"),
         "<pods>: Pod ns/p: spec.topologySpreadConstraints[0].topologyKey: must be a non-empty "
         "string"},
        {TSC("{\"maxSkew\":1,\"topologyKey\":\"k\",\"whenUnsatisfiable\":\"Sometimes\"}"),
         "<pods>: Pod ns/p: spec.topologySpreadConstraints[0].whenUnsatisfiable: 'Sometimes' is "
         "not DoNotSchedule or ScheduleAnyway"},
        {TSC("{\"maxSkew\":1,\"topologyKey\":\"k\"}"),
         "<pods>: Pod ns/p: spec.topologySpreadConstraints[0].whenUnsatisfiable: required "
         "(DoNotSchedule or ScheduleAnyway)"},
        {TSC("{" TSC_OK ",\"minDomains\":0}"),
         "<pods>: Pod ns/p: spec.topologySpreadConstraints[0].minDomains: must be an integer >= 1 "
         "(got 0)"},
        {TSC("{\"maxSkew\":1,\"topologyKey\":\"k\",\"whenUnsatisfiable\":\"ScheduleAnyway\","
             "\"minDomains\":2}"),
         "<pods>: Pod ns/p: spec.topologySpreadConstraints[0].minDomains: can only be set with "
         "whenUnsatisfiable DoNotSchedule"},
        {TSC("{" TSC_OK ",\"nodeAffinityPolicy\":\"honor\"}"),
         "<pods>: Pod ns/p: spec.topologySpreadConstraints[0].nodeAffinityPolicy: 'honor' is not "
         "Honor or Ignore"},
        {TSC("{" TSC_OK ",\"nodeTaintsPolicy\":\"Always\"}"),
         "<pods>: Pod ns/p: spec.topologySpreadConstraints[0].nodeTaintsPolicy: 'Always' is not "
         "Honor or Ignore"},
        {TSC("{" TSC_OK "},{" TSC_OK ",\"maxSkew\":2}"),
         "<pods>: Pod ns/p: spec.topologySpreadConstraints[1]: the same topologyKey and "
         "whenUnsatisfiable as [0]"},
        {TSC("{" TSC_OK ",\"matchLabelKeys\":[\"app\"]}"),
         "<pods>: Pod ns/p: spec.topologySpreadConstraints[0].matchLabelKeys: must not be set "
         "without labelSelector"},
        {TSC("{" TSC_OK ",\"labelSelector\":{},\"matchLabelKeys\":[\"\"]}"),
         "<pods>: Pod ns/p: spec.topologySpreadConstraints[0].matchLabelKeys[0]: must be a "
         "non-empty string"},
        {TSC("{" TSC_OK ",\"labelSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":"
             "\"In\"}]}}"),
         "<pods>: Pod ns/p: spec.topologySpreadConstraints[0].labelSelector.matchExpressions[0]."
         "values: must have at least one value for In and NotIn"},
        {TSC("{" TSC_OK ",\"labelSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":"
             "\"Exists\",\"values\":[\"x\"]}]}}"),
         "<pods>: Pod ns/p: spec.topologySpreadConstraints[0].labelSelector.matchExpressions[0]."
         "values: must be empty for Exists and DoesNotExist"},
        {TSC("{" TSC_OK ",\"labelSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":"
             "\"Gt\",\"values\":[\"1\"]}]}}"),
         "<pods>: Pod ns/p: spec.topologySpreadConstraints[0].labelSelector.matchExpressions[0]."
         "operator: must be In, NotIn, Exists or DoesNotExist"},
        {TSC("{" TSC_OK ",\"labelSelector\":{\"matchLabels\":{\"a\":1}}}"),
         "<pods>: Pod ns/p: spec.topologySpreadConstraints[0].labelSelector.matchLabels.a: "
         "expected a string"},
        {TSC("{" TSC_OK ",\"labelSelector\":[]}"),
         "<pods>: Pod ns/p: spec.topologySpreadConstraints[0].labelSelector: expected an object"},
        {TSC("7"), "<pods>: Pod ns/p: spec.topologySpreadConstraints[0]: expected an object"},
        {PA("podAntiAffinity", REQD, "{\"labelSelector\":{}}"),
         "<pods>: Pod ns/p: spec.affinity.podAntiAffinity.required[0].topologyKey: must be a "
         "non-empty string"},
        {PA("podAffinity", PREF, "{\"weight\":0,\"podAffinityTerm\":{\"topologyKey\":\"k\"}}"),
         "<pods>: Pod ns/p: spec.affinity.podAffinity.preferred[0].weight: must be an integer >= "
         "1 (got 0)"},
        {PA("podAffinity", PREF, "{\"weight\":101,\"podAffinityTerm\":{\"topologyKey\":\"k\"}}"),
         "<pods>: Pod ns/p: spec.affinity.podAffinity.preferred[0].weight: must be an integer "
         "1..100"},
        {PA("podAffinity", PREF, "{\"podAffinityTerm\":{\"topologyKey\":\"k\"}}"),
         "<pods>: Pod ns/p: spec.affinity.podAffinity.preferred[0].weight: required"},
        {PA("podAffinity", PREF, "{\"weight\":5}"),
         "<pods>: Pod ns/p: spec.affinity.podAffinity.preferred[0].podAffinityTerm: required"},
        {PA("podAffinity", PREF, "{\"weight\":5,\"podAffinityTerm\":{\"topologyKey\":\"\"}}"),
         "<pods>: Pod ns/p: spec.affinity.podAffinity.preferred[0].podAffinityTerm.topologyKey: "
         "must be a non-empty string"},
        {PA("podAffinity", REQD, "{\"topologyKey\":\"k\",\"namespaces\":[\"a\",3]}"),
         "<pods>: Pod ns/p: spec.affinity.podAffinity.required[0].namespaces[1]: must be a "
         "non-empty string"},
        {PA("podAffinity", REQD, "{\"topologyKey\":\"k\",\"namespaceSelector\":\"all\"}"),
         "<pods>: Pod ns/p: spec.affinity.podAffinity.required[0].namespaceSelector: expected an "
         "object"},
        {PA("podAffinity", REQD,
            "{\"topologyKey\":\"k\",\"labelSelector\":{},\"matchLabelKeys\":[\"app\"],"
            "\"mismatchLabelKeys\":[\"app\"]}"),
         "<pods>: Pod ns/p: spec.affinity.podAffinity.required[0].mismatchLabelKeys[0]: 'app' is "
         "in both matchLabelKeys and mismatchLabelKeys"},
        {POD(",\"affinity\":{\"podAffinity\":[]}"),
         "<pods>: Pod ns/p: spec.affinity.podAffinity: expected an object, got an array"},
        {POD(",\"affinity\":{\"podAntiAffinity\":{\"" REQD "\":{}}}"),
         "<pods>: Pod ns/p: spec.affinity.podAntiAffinity."
         "requiredDuringSchedulingIgnoredDuringExecution: expected an array, got an object"},
        {POD(",\"preemptionPolicy\":\"Sometimes\""),
         "<pods>: Pod ns/p: spec.preemptionPolicy: 'Sometimes' is not Never or "
         "PreemptLowerPriority"},
        {POD(",\"priorityClassName\":1"),
         "<pods>: Pod ns/p: spec.priorityClassName: expected a string, got an integer"},
        {POD(",\"priority\":3000000000"),
         "<pods>: Pod ns/p: spec.priority: out of range (an int32)"},
        {PODN("p", "", "", "\"startTime\":\"yesterday\""),
         "<pods>: Pod ns/p: status.startTime: 'yesterday' is not an RFC 3339 time "
         "(2006-01-02T15:04:05Z)"},
        {PODN("p", "", "", "\"startTime\":5"),
         "<pods>: Pod ns/p: status.startTime: expected a string, got an integer"},
        {LIST(PC("a", ",\"value\":\"1\"")),
         "<pods>: PriorityClass a: value: expected an integer, got a string"},
        {LIST(PC("a", "")), "<pods>: PriorityClass a: value: required"},
        {LIST(PC("a", ",\"value\":1,\"preemptionPolicy\":\"never\"")),
         "<pods>: PriorityClass a: preemptionPolicy: 'never' is not Never or PreemptLowerPriority"},
        {LIST(PC("a", ",\"value\":1") "," PC("a", ",\"value\":2")),
         "<pods>: items[1]: PriorityClass a appears twice (first at <pods>: items[0])"},
        {LIST(PC("a", ",\"value\":1,\"globalDefault\":true") "," PC(
             "b", ",\"value\":2,\"globalDefault\":true")),
         "<pods>: PriorityClass b: globalDefault: PriorityClass a is already the global default "
         "(only one may be)"},
        {LIST(PDB("b", "[]", "")),
         "<pods>: PodDisruptionBudget ns/b: spec: expected an object, got an array"},
        {LIST(PDB("b", "{\"minAvailable\":1,\"maxUnavailable\":1}", "")),
         "<pods>: PodDisruptionBudget ns/b: spec: minAvailable and maxUnavailable cannot both be "
         "set"},
        {LIST(PDB("b", "{\"minAvailable\":-1}", "")),
         "<pods>: PodDisruptionBudget ns/b: spec.minAvailable: must be an integer >= 0"},
        {LIST(PDB("b", "{\"maxUnavailable\":\"5\"}", "")),
         "<pods>: PodDisruptionBudget ns/b: spec.maxUnavailable: must be an integer >= 0 or a "
         "percentage \"N%\" (N 0..100)"},
        {LIST(PDB("b", "{\"maxUnavailable\":\"101%\"}", "")),
         "<pods>: PodDisruptionBudget ns/b: spec.maxUnavailable: must be an integer >= 0 or a "
         "percentage \"N%\" (N 0..100)"},
        {LIST(PDB("b", "{\"unhealthyPodEvictionPolicy\":\"Never\"}", "")),
         "<pods>: PodDisruptionBudget ns/b: spec.unhealthyPodEvictionPolicy: 'Never' is not "
         "IfHealthyBudget or AlwaysAllow"},
        {LIST(PDB("b",
                  "{\"selector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":"
                  "\"Near\"}]}}",
                  "")),
         "<pods>: PodDisruptionBudget ns/b: spec.selector.matchExpressions[0].operator: must be "
         "In, NotIn, Exists or DoesNotExist"},
        {LIST(PDB("b", "{}", ",\"status\":{\"disruptionsAllowed\":-1}")),
         "<pods>: PodDisruptionBudget ns/b: status.disruptionsAllowed: must be an integer >= 0"},
        {LIST(PDB("b", "{}", ",\"status\":{\"disruptionsAllowed\":\"1\"}")),
         "<pods>: PodDisruptionBudget ns/b: status.disruptionsAllowed: expected an integer, got a "
         "string"},
        {LIST(PDB("b", "{}", "") "," PDB("b", "{}", "")),
         "<pods>: items[1]: PodDisruptionBudget ns/b appears twice"},
        {LIST(NS("a", "{\"x\":1}")), "<pods>: Namespace a: metadata.labels.x: expected a string"},
        {LIST(NS("a", "{}") "," NS("a", "{}")),
         "<pods>: items[1]: Namespace a appears twice (first at <pods>: items[0])"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("case %zu\n", i);
        ss_kube_opts_t o = quiet();
        ss_cluster_t *c = (ss_cluster_t *)1;
        ss_error_t err = {{0}};
        int rc = ss_kube_import_strings(NODE_OK, cases[i].pods, NULL, &o, &c, NULL, &err);
        if (rc >= 0 || strcmp(err.text, cases[i].msg))
            fail_msg("rc %d\n  got  '%s'\n  want '%s'", rc, err.text, cases[i].msg);
        assert_null(c);
    }
#undef TSC
#undef TSC_OK
#undef PA
#undef REQD
#undef PREF
}

/* ---- export: a cluster built with the model's builders round-trips ---- */

static int32_t S_(ss_cluster_t *c, const char *s)
{
    return ss_cluster_str(c, s);
}

/* A selector of n requirements "key op value" (value NULL: none). */
static ss_selector_t sel_of(ss_cluster_t *c, int n, const char *const *keys, const int *ops,
                            const char *const *vals)
{
    ss_selector_t s = {c->n_exprs, n, 0};
    for (int i = 0; i < n; i++) {
        int32_t vb = c->n_expr_values;
        if (vals[i])
            ss_cluster_add_expr_value(c, S_(c, vals[i]));
        ss_cluster_add_expr(c, S_(c, keys[i]), ops[i], 0, vb, vals[i] ? 1 : 0);
    }
    return s;
}

static int32_t add_tmpl(ss_cluster_t *c, const char *app, const char *workload, uint32_t flags,
                        int32_t sb, int32_t sn, int32_t pb, int32_t pn)
{
    ss_template_t t;
    memset(&t, 0, sizeof t);
    t.req.cpu_milli = 500;
    t.req.memory = 1 << 20;
    t.plabel_begin = c->n_labels;
    t.plabel_count = 1;
    ss_cluster_add_label(c, S_(c, "app"), S_(c, app));
    t.workload = S_(c, workload);
    t.flags = flags;
    t.spread_begin = sb;
    t.spread_count = sn;
    t.pterm_begin = pb;
    t.pterm_count = pn;
    t.sel_begin = t.req_begin = t.pref_begin = t.tol_begin = t.model_begin = 0;
    return ss_cluster_add_template(c, &t);
}

static ss_cluster_t *build_cluster(void)
{
    ss_cluster_t *c = ss_cluster_create();
    const char *zones[3] = {"z1", "z1", "z2"}, *names[3] = {"n0", "n1", "n2"};
    for (int n = 0; n < 3; n++) {
        int32_t topo[4] = {S_(c, "r"), S_(c, zones[n]), 0, 0};
        ss_cluster_add_node(c, S_(c, names[n]), topo, 8000, INT64_C(8) << 30, 110, NULL, false,
                            c->n_labels, 0, c->n_taints, 0, c->n_gpus, 0);
    }
    /* web: two spreads, a required anti-affinity and a preferred affinity */
    static const char *k1[] = {"app"}, *v1[] = {"web"}, *k2[] = {"team", "tier"},
                      *v2[] = {"a", NULL};
    static const int in[] = {SS_OP_IN}, in_ex[] = {SS_OP_IN, SS_OP_EXISTS};
    int32_t sb = c->n_spreads;
    ss_spread_t s1 = {1,
                      S_(c, "topology.kubernetes.io/zone"),
                      SS_WHEN_DO_NOT_SCHEDULE,
                      2,
                      SS_INCL_IGNORE,
                      SS_INCL_HONOR,
                      sel_of(c, 1, k1, in, v1)};
    ss_spread_t s2 = {3,
                      S_(c, "kubernetes.io/hostname"),
                      SS_WHEN_SCHEDULE_ANYWAY,
                      1,
                      SS_INCL_HONOR,
                      SS_INCL_IGNORE,
                      {c->n_exprs, 0, 0}};
    ss_cluster_add_spread(c, &s1);
    ss_cluster_add_spread(c, &s2);
    int32_t pb = c->n_pterms;
    ss_podterm_t anti = {SS_PT_ANTI_AFFINITY,
                         0,
                         S_(c, "kubernetes.io/hostname"),
                         sel_of(c, 1, k1, in, v1),
                         0,
                         0,
                         {0, 0, 1}};
    ss_podterm_t aff = {SS_PT_AFFINITY,
                        30,
                        S_(c, "topology.kubernetes.io/zone"),
                        sel_of(c, 2, k2, in_ex, v2),
                        c->n_expr_values,
                        2,
                        {0, 0, 1}};
    ss_cluster_add_expr_value(c, S_(c, "db"));
    ss_cluster_add_expr_value(c, S_(c, "cache"));
    aff.ns_sel = sel_of(c, 1, k2, in, v2);
    /* import's order: affinity (required, preferred), then anti-affinity */
    ss_cluster_add_pterm(c, &aff);
    ss_cluster_add_pterm(c, &anti);
    int32_t web = add_tmpl(c, "web", "ReplicaSet/web", SS_TF_CONTROLLER, sb, 2, pb, 2);
    int32_t agent =
        add_tmpl(c, "agent", "DaemonSet/agent",
                 SS_TF_CONTROLLER | SS_TF_DAEMONSET | SS_TF_PREEMPT_NEVER, 0, 0, c->n_pterms, 0);
    /* batch: a preferred anti-affinity that matches nothing, in every namespace */
    pb = c->n_pterms;
    ss_podterm_t none = {SS_PT_ANTI_AFFINITY, 100, S_(c, "kubernetes.io/hostname"), {0, 0, 1}, 0, 0,
                         {c->n_exprs, 0, 0}};
    ss_cluster_add_pterm(c, &none);
    int32_t batch = add_tmpl(c, "batch", "", 0, c->n_spreads, 0, pb, 1);
    ss_cluster_add_pod(c, S_(c, "web-0"), S_(c, "apps"), web, 1000, -1, 0, 0);
    ss_cluster_add_pod(c, S_(c, "web-1"), S_(c, "apps"), web, 1000, -1, -1, 0);
    ss_cluster_add_pod(c, S_(c, "agent-0"), S_(c, "kube-system"), agent, 2000001000, -1, 2, 0);
    ss_cluster_add_pod(c, S_(c, "batch-0"), S_(c, "batch"), batch, -5, -1, 1, 0);
    ss_cluster_add_pod(c, S_(c, "batch-1"), S_(c, "batch"), batch, 0, -1, -1, 0);
    ss_cluster_set_pod_start(c, 0, 1625657314);
    ss_cluster_set_pod_start(c, 2, 1600000000);
    ss_cluster_set_pod_start(c, 3, 1700000000);
    int32_t lb = c->n_labels;
    ss_cluster_add_label(c, S_(c, "team"), S_(c, "a"));
    ss_cluster_add_namespace(c, S_(c, "apps"), lb, 1);
    ss_cluster_add_namespace(c, S_(c, "db"), c->n_labels, 0);
    ss_pdb_t p1 = {S_(c, "web-pdb"), S_(c, "apps"), sel_of(c, 1, k1, in, v1), 50, 1, -1, 0, -1, 0};
    ss_pdb_t p2 = {S_(c, "batch-pdb"), S_(c, "batch"), {c->n_exprs, 0, 0}, -1, 0, 1, 0, 3, 1};
    ss_cluster_add_pdb(c, &p1);
    ss_cluster_add_pdb(c, &p2);
    c->default_spreading = SS_SPREAD_DEFAULT_SYSTEM;
    return c;
}

static void same_sel(const ss_cluster_t *a, const ss_selector_t *x, const ss_cluster_t *b,
                     const ss_selector_t *y)
{
    char s1[512], s2[512];
    assert_int_equal(x->null, y->null);
    assert_string_equal(sel_text(a, x, s1, sizeof s1), sel_text(b, y, s2, sizeof s2));
}

static void same_rules(const ss_cluster_t *a, const ss_template_t *x, const ss_cluster_t *b,
                       const ss_template_t *y)
{
    /* import always knows the eviction facts (the hand-built side did not say) */
    assert_int_equal(x->flags | SS_TF_EVICT_FACTS, y->flags);
    assert_string_equal(str(a, x->workload), str(b, y->workload));
    assert_int_equal(x->spread_count, y->spread_count);
    for (int32_t i = 0; i < x->spread_count; i++) {
        const ss_spread_t *s = &a->spreads[x->spread_begin + i],
                          *t = &b->spreads[y->spread_begin + i];
        assert_int_equal(s->max_skew, t->max_skew);
        assert_string_equal(str(a, s->key), str(b, t->key));
        assert_int_equal(s->when, t->when);
        assert_int_equal(s->min_domains, t->min_domains);
        assert_int_equal(s->node_affinity_policy, t->node_affinity_policy);
        assert_int_equal(s->node_taints_policy, t->node_taints_policy);
        same_sel(a, &s->sel, b, &t->sel);
    }
    assert_int_equal(x->pterm_count, y->pterm_count);
    for (int32_t i = 0; i < x->pterm_count; i++) {
        const ss_podterm_t *s = &a->pterms[x->pterm_begin + i], *t = &b->pterms[y->pterm_begin + i];
        assert_int_equal(s->kind, t->kind);
        assert_int_equal(s->weight, t->weight);
        assert_string_equal(str(a, s->key), str(b, t->key));
        same_sel(a, &s->sel, b, &t->sel);
        assert_int_equal(s->ns_count, t->ns_count);
        for (int32_t j = 0; j < s->ns_count; j++)
            assert_string_equal(str(a, a->expr_values[s->ns_begin + j]),
                                str(b, b->expr_values[t->ns_begin + j]));
        same_sel(a, &s->ns_sel, b, &t->ns_sel);
    }
}

/* ---- host ports (NodePorts) ---- */

#define HP_NODE(name)                                                                              \
    "{\"kind\":\"Node\",\"metadata\":{\"name\":\"" name "\",\"labels\":{\"kubernetes.io/"          \
    "hostname\":\"" name "\"}},\"status\":{\"allocatable\":{\"cpu\":\"8\",\"memory\":\"8Gi\","     \
    "\"pods\":\"10\"}}}"
/* A pod ns/NAME asking for hostPort PORT (protocol PROTO, "" for the
 * default) in spec.containers (where = "containers") or initContainers. */
#define HP_POD(ns, name, where, port, proto, rest, status)                                         \
    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name "\",\"namespace\":\"" ns "\",\"labels\":"   \
    "{\"app\":\"x\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{"     \
    "\"cpu\":\"1\"}}}],\"" where "\":[{\"name\":\"h\",\"ports\":[{\"containerPort\":1,"            \
    "\"hostPort\":" port proto "}]}]" rest "},\"status\":{" status "}}"

static int32_t pod_named(const ss_cluster_t *c, const char *name)
{
    for (int32_t p = 0; p < c->n_pods; p++)
        if (!strcmp(str(c, c->pod_name[p]), name))
            return p;
    fail_msg("no pod %s", name);
    return -1;
}

/* The host port term of t for key, asserting its shape. */
static void assert_host_port(const ss_cluster_t *c, const ss_template_t *t, const char *key)
{
    char buf[256], want[128];
    bool label = false, term = false;
    for (int32_t i = 0; i < t->plabel_count; i++) {
        const ss_label_t *l = &c->labels[t->plabel_begin + i];
        label |= !strcmp(str(c, l->key), key) && !strcmp(str(c, l->value), "true");
    }
    snprintf(want, sizeof want, "%s Exists ", key);
    for (int32_t i = 0; i < t->pterm_count; i++) {
        const ss_podterm_t *pt = &c->pterms[t->pterm_begin + i];
        if (strcmp(sel_text(c, &pt->sel, buf, sizeof buf), want))
            continue;
        assert_int_equal(pt->kind, SS_PT_ANTI_AFFINITY);
        assert_int_equal(pt->weight, 0);
        assert_string_equal(str(c, pt->key), "kubernetes.io/hostname");
        assert_int_equal(pt->ns_count, 0);
        assert_int_equal(pt->ns_sel.null, 0); /* {}: every namespace */
        assert_int_equal(pt->ns_sel.count, 0);
        term = true;
    }
    if (!label || !term)
        fail_msg("template lacks the %s%s%s", label ? "" : "label ", term ? "" : "term ", key);
}

static void test_ss_kube_import_strings_host_ports(void **state)
{
    (void)state;
    const char *nodes = LIST(HP_NODE("a") "," HP_NODE("b"));
    /* clang-format off */
    const char *pods = LIST(
        HP_POD("ns1", "run", "containers", "8080", "", ",\"nodeName\":\"a\"", "\"phase\":\"Running\"") ","
        HP_POD("ns2", "p1", "containers", "8080", ",\"protocol\":\"TCP\"", "", "") ","
        HP_POD("ns3", "p2", "initContainers", "8080", "", "", "") ","
        HP_POD("ns2", "q", "containers", "9090", "", "", "") ","
        HP_POD("ns2", "u", "containers", "8080", ",\"protocol\":\"UDP\"", "", "") ","
        HP_POD("ns2", "z", "containers", "0", "", "", "") ","
        HP_POD("ns2", "p3", "containers", "8080", ",\"protocol\":\"TCP\"", "", ""));
    /* clang-format on */
    ss_kube_opts_t o = quiet();
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    if (ss_kube_import_strings(nodes, pods, NULL, &o, &c, NULL, &err))
        fail_msg("%s", err.text);
    int32_t run = pod_named(c, "run"), p1 = pod_named(c, "p1"), p2 = pod_named(c, "p2");
    int32_t q = pod_named(c, "q"), u = pod_named(c, "u"), z = pod_named(c, "z");
    assert_int_equal(tmpl(c, p1)->unsupported, 0);
    assert_host_port(c, tmpl(c, run), "shardsched.io/host-port-tcp-8080");
    assert_host_port(c, tmpl(c, p1), "shardsched.io/host-port-tcp-8080");
    assert_host_port(c, tmpl(c, p2), "shardsched.io/host-port-tcp-8080");
    assert_host_port(c, tmpl(c, q), "shardsched.io/host-port-tcp-9090");
    assert_host_port(c, tmpl(c, u), "shardsched.io/host-port-udp-8080");
    assert_int_equal(tmpl(c, p1)->pterm_count, 1);
    assert_int_equal(tmpl(c, z)->pterm_count, 0); /* hostPort 0: nothing */
    assert_int_equal(tmpl(c, z)->plabel_count, 1);
    /* p1 and q (same namespace, workload, spec but the port) differ; p3,
     * p1's spec again, shares p1's template */
    int32_t p3 = pod_named(c, "p3");
    assert_int_not_equal(c->pod_template[p1], c->pod_template[q]);
    assert_int_equal(c->pod_template[p1], c->pod_template[p3]);

    ss_queue_t *qu = ss_queue_build(c, &err);
    assert_non_null(qu);
    ss_layout_t l;
    ss_layout_build(c, 100000, 1, &l);
    ss_sched_t *s = ss_sched_create(c, ss_policy_find("most-allocated"), &l, 0, l.n_parts, &err);
    assert_non_null(s);
    ss_placements_t *got = ss_placements_create(qu->n_order);
    assert_int_equal(ss_sched_run(s, qu->order, qu->units, qu->n_units, NULL, got, &err), 0);
    ss_sched_destroy(s);
    int32_t a = c->pod_node[run], node[7], reason[7], placed_8080 = 0;
    for (int32_t i = 0; i < got->n; i++)
        for (int j = 0; j < 7; j++)
            if (got->pod[i] == (int32_t[]){run, p1, p2, q, u, z, p3}[j]) {
                node[j] = got->node[i];
                reason[j] = got->reason[i];
            }
    for (int j = 1; j <= 6; j += j == 2 ? 4 : 1) { /* p1, p2, p3 */
        if (node[j] >= 0) {
            assert_int_not_equal(node[j], a); /* the running pod holds 8080 on a */
            placed_8080++;
        } else if (reason[j] != SS_REASON_POD_ANTI_AFFINITY &&
                   reason[j] != SS_REASON_EXISTING_ANTI_AFFINITY)
            fail_msg("p%d: reason %s", j, ss_reason_text(reason[j]));
    }
    assert_int_equal(placed_8080, 1); /* only b is free for 8080 */
    assert_true(node[3] >= 0);        /* 9090 anywhere */
    assert_true(node[4] >= 0);        /* UDP 8080 does not conflict with TCP 8080 */
    assert_true(node[5] >= 0);
    ss_verify_report_t rep = {0};
    assert_int_equal(ss_verify(c, got, &rep, &err), 0);
    ss_verify_report_free(&rep);
    ss_placements_destroy(got);
    ss_queue_destroy(qu);

    /* the export writes the label and term, not the port; imported again,
     * the pods have the same rules (no second term) */
    char dir[] = "/tmp/ss_kube_portsXXXXXX", np[64], pp[64], text[65536];
    assert_non_null(mkdtemp(dir));
    snprintf(np, sizeof np, "%s/nodes.json", dir);
    snprintf(pp, sizeof pp, "%s/pods.json", dir);
    ss_cluster_t *b = NULL;
    if (ss_kube_export_cluster(c, np, pp, &err) ||
        ss_kube_import_files(np, pp, NULL, &o, &b, NULL, &err))
        fail_msg("%s", err.text);
    FILE *f = fopen(pp, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    assert_null(strstr(text, "hostPort"));
    assert_non_null(strstr(text, "shardsched.io/host-port-tcp-8080"));
    for (int j = 0; j < 7; j++) {
        int32_t pa = (int32_t[]){run, p1, p2, q, u, z, p3}[j];
        int32_t pb = pod_named(b, str(c, c->pod_name[pa]));
        assert_int_equal(tmpl(b, pb)->pterm_count, tmpl(c, pa)->pterm_count);
        assert_int_equal(tmpl(b, pb)->plabel_count, tmpl(c, pa)->plabel_count);
    }
    assert_host_port(b, tmpl(b, pod_named(b, "p1")), "shardsched.io/host-port-tcp-8080");
    ss_cluster_destroy(b);
    unlink(np);
    unlink(pp);
    rmdir(dir);
    ss_cluster_destroy(c);

    /* errors name the pod and the field */
    const char *bad = LIST(HP_POD("ns2", "bad", "containers", "8080", ",\"protocol\":\"tcp\"", "",
                                  "") "," HP_POD("ns2", "big", "containers", "70000", "", "", ""));
    assert_int_not_equal(ss_kube_import_strings(nodes, bad, NULL, &o, &c, NULL, &err), 0);
    assert_non_null(strstr(err.text, "ns2/bad"));
    assert_non_null(strstr(err.text, "protocol"));
}

static void test_ss_kube_export_cluster_rules_roundtrip(void **state)
{
    (void)state;
    ss_cluster_t *a = build_cluster(), *b = NULL;
    ss_error_t err = {{0}};
    const ss_kube_priority_class_t classes[] = {
        {"web-high", 1000, false, false},
        {"system-node-critical", 2000001000, false, false},
        {"batch-default", 0, true, true}, /* the pods at 0 write PreemptLowerPriority */
        {"unused", 77, false, false},
    };
    const ss_kube_export_opts_t eo = {.classes = classes, .n_classes = 4};
    char dir[] = "/tmp/ss_kube_rulesXXXXXX", np[64], pp[64];
    assert_non_null(mkdtemp(dir));
    snprintf(np, sizeof np, "%s/nodes.json", dir);
    snprintf(pp, sizeof pp, "%s/pods.json", dir);
    if (ss_kube_export_cluster_opts(a, np, pp, &eo, &err))
        fail_msg("%s", err.text);
    ss_kube_opts_t o = quiet();
    ss_kube_report_t rep;
    if (ss_kube_import_files(np, pp, NULL, &o, &b, &rep, &err))
        fail_msg("%s", err.text);
    for (int w = 0; w < SS_KUBE_WARN_COUNT; w++)
        assert_int_equal(rep.warn[w], 0);
    assert_int_equal(b->n_pods, a->n_pods);
    for (int32_t p = 0; p < a->n_pods; p++) {
        print_message("pod %s\n", str(a, a->pod_name[p]));
        assert_string_equal(str(a, a->pod_name[p]), str(b, b->pod_name[p]));
        assert_string_equal(str(a, a->pod_ns[p]), str(b, b->pod_ns[p]));
        assert_int_equal(a->pod_node[p], b->pod_node[p]);
        assert_int_equal(a->pod_priority[p], b->pod_priority[p]);
        assert_int_equal(a->pod_start[p], b->pod_start[p]);
        same_rules(a, tmpl(a, p), b, tmpl(b, p));
    }
    assert_int_equal(b->n_namespaces, a->n_namespaces);
    for (int32_t i = 0; i < a->n_namespaces; i++) {
        assert_string_equal(str(a, a->ns_name[i]), str(b, b->ns_name[i]));
        assert_int_equal(a->ns_label_count[i], b->ns_label_count[i]);
        for (int32_t l = 0; l < a->ns_label_count[i]; l++) {
            assert_string_equal(str(a, a->labels[a->ns_label_begin[i] + l].key),
                                str(b, b->labels[b->ns_label_begin[i] + l].key));
            assert_string_equal(str(a, a->labels[a->ns_label_begin[i] + l].value),
                                str(b, b->labels[b->ns_label_begin[i] + l].value));
        }
    }
    assert_int_equal(b->n_pdbs, a->n_pdbs);
    for (int32_t i = 0; i < a->n_pdbs; i++) {
        const ss_pdb_t *x = &a->pdbs[i], *y = &b->pdbs[i];
        assert_string_equal(str(a, x->name), str(b, y->name));
        assert_string_equal(str(a, x->ns), str(b, y->ns));
        same_sel(a, &x->sel, b, &y->sel);
        assert_int_equal(x->min_available, y->min_available);
        assert_int_equal(x->min_pct, y->min_pct);
        assert_int_equal(x->max_unavailable, y->max_unavailable);
        assert_int_equal(x->max_pct, y->max_pct);
        assert_int_equal(x->allowed, y->allowed);
        assert_int_equal(x->always_allow, y->always_allow);
    }
    assert_int_equal(b->default_spreading, a->default_spreading);
    /* the classes used are written, and named on their pods; the unused one is not */
    FILE *f = fopen(pp, "r");
    char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    assert_non_null(strstr(text, "\"priorityClassName\":\"web-high\""));
    assert_non_null(
        strstr(text, "\"kind\":\"PriorityClass\",\"metadata\":{\"name\":\"web-high\"}"));
    assert_non_null(strstr(text, "\"globalDefault\":true"));
    assert_null(strstr(text, "unused"));
    assert_non_null(strstr(text, "\"startTime\":\"2021-07-07T11:28:34Z\""));
    /* without classes: spec.priority only, and still the same priorities */
    ss_cluster_destroy(b);
    b = NULL;
    if (ss_kube_export_cluster(a, np, pp, &err) ||
        ss_kube_import_files(np, pp, NULL, &o, &b, NULL, &err))
        fail_msg("%s", err.text);
    for (int32_t p = 0; p < a->n_pods; p++) {
        assert_int_equal(a->pod_priority[p], b->pod_priority[p]);
        assert_int_equal(tmpl(a, p)->flags | SS_TF_EVICT_FACTS, tmpl(b, p)->flags);
    }
    f = fopen(pp, "r");
    n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    assert_null(strstr(text, "PriorityClass"));
    ss_cluster_destroy(b);
    ss_cluster_destroy(a);
    unlink(np);
    unlink(pp);
    rmdir(dir);
}

/* The eviction facts of format version 5 (issue 14): mirror pods (the
 * annotation, or owned by their Node), emptyDir not in memory and hostPath
 * (local storage; an in-memory emptyDir is none), persistentVolumeClaim and
 * ephemeral volumes, the safe-to-evict and do-not-disrupt annotations. */
static void test_import_eviction_facts(void **state)
{
    (void)state;
#define ANN(k, v) ",\"annotations\":{\"" k "\":\"" v "\"}"
#define VOL(v) ",\"volumes\":[{\"name\":\"v\"," v "}]"
    static const char *const pods = LIST(PODN("a", ANN("kubernetes.io/config.mirror", "x"), "", "") "," PODN(
        "b", ",\"ownerReferences\":[{\"kind\":\"Node\",\"name\":\"n\",\"controller\":true}]", "",
        "") "," PODN("c", "", VOL("\"emptyDir\":{}"),
                     "") "," PODN("d", "", VOL("\"emptyDir\":{\"medium\":\"Memory\"}"),
                                  "") "," PODN("e", "", VOL("\"hostPath\":{\"path\":\"/x\"}"),
                                               "") "," PODN("f", "",
                                                            VOL("\"persistentVolumeClaim\":{"
                                                                "\"claimName\":\"c\"}"),
                                                            "") "," PODN("g",
                                                                         ANN("cluster-autoscaler."
                                                                             "kubernetes.io/"
                                                                             "safe-to-evict",
                                                                             "true"),
                                                                         "",
                                                                         "") "," PODN("h",
                                                                                      ANN("cluster-"
                                                                                          "autoscal"
                                                                                          "er."
                                                                                          "kubernet"
                                                                                          "es.io/"
                                                                                          "safe-to-"
                                                                                          "evict",
                                                                                          "false"),
                                                                                      "",
                                                                                      "") "," PODN("i",
                                                                                                   ANN("karpenter.sh/do-not-disrupt",
                                                                                                       "true"),
                                                                                                   "",
                                                                                                   "") "," PODN("j",
                                                                                                                ANN("karpenter.sh/do-not-disrupt",
                                                                                                                    "false"),
                                                                                                                "",
                                                                                                                ""));
    static const uint32_t want[] = {SS_TF_MIRROR,         SS_TF_MIRROR | SS_TF_CONTROLLER,
                                    SS_TF_LOCAL_STORAGE,  0,
                                    SS_TF_LOCAL_STORAGE,  SS_TF_PVC,
                                    SS_TF_SAFE_TO_EVICT,  SS_TF_NOT_SAFE_EVICT,
                                    SS_TF_DO_NOT_DISRUPT, 0};
    ss_kube_report_t rep;
    ss_cluster_t *c = import_ok(pods, &rep);
    assert_int_equal(c->n_pods, 10);
    for (int32_t p = 0; p < 10; p++)
        if (tmpl(c, p)->flags != (want[p] | SS_TF_EVICT_FACTS))
            fail_msg("pod %d: flags 0x%x, want 0x%x", (int)p, (unsigned)tmpl(c, p)->flags,
                     (unsigned)(want[p] | SS_TF_EVICT_FACTS));
    ss_cluster_destroy(c);
#undef ANN
#undef VOL
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_eviction_facts),
        cmocka_unit_test(test_ss_kube_import_strings_spread_fields),
        cmocka_unit_test(test_ss_kube_import_strings_pod_term_fields),
        cmocka_unit_test(test_ss_kube_import_strings_rule_templates),
        cmocka_unit_test(test_ss_kube_import_strings_priority_classes),
        cmocka_unit_test(test_ss_kube_import_strings_start_time),
        cmocka_unit_test(test_ss_kube_import_strings_namespaces_pdbs),
        cmocka_unit_test(test_ss_kube_import_inputs_roles),
        cmocka_unit_test(test_ss_kube_import_strings_rule_errors),
        cmocka_unit_test(test_ss_kube_import_strings_host_ports),
        cmocka_unit_test(test_ss_kube_export_cluster_rules_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
