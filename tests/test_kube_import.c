/* Tests of the Kubernetes importer (ss_kube_import): the real OpenShift
 * samples in ../shared/data/kube, the hand-written objects in
 * tests/data/kube (one per rule), error texts, --strict, and the
 * export/import round trip. */
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

#define LAB SS_SHARED_DATA_DIR "/kube/openshift_insights_lab_2node"
#define GCP SS_SHARED_DATA_DIR "/kube/openshift_insights_gcp_6node"
#define FIX SS_TEST_DATA_DIR "/kube"

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
    return -1;
}

static int32_t node_by_name(const ss_cluster_t *c, const char *name)
{
    for (int32_t n = 0; n < c->n_nodes; n++)
        if (!strcmp(ss_cluster_strget(c, c->node_name[n]), name))
            return n;
    return -1;
}

static const ss_template_t *tmpl_of(const ss_cluster_t *c, const char *pod)
{
    int32_t p = pod_by_name(c, pod);
    if (p < 0)
        fail_msg("pod %s not imported", pod);
    return &c->templates[c->pod_template[p]];
}

static const char *node_label(const ss_cluster_t *c, int32_t n, const char *key)
{
    for (int32_t i = 0; i < c->node_label_count[n]; i++) {
        const ss_label_t *l = &c->labels[c->node_label_begin[n] + i];
        if (!strcmp(ss_cluster_strget(c, l->key), key))
            return ss_cluster_strget(c, l->value);
    }
    return NULL;
}

static void test_ss_kube_import_files_lab_sample(void **state)
{
    (void)state;
    ss_kube_opts_t o = quiet();
    ss_cluster_t *c = NULL;
    ss_kube_report_t rep;
    ss_error_t err = {{0}};
    int rc = ss_kube_import_files(LAB "/nodes.json", LAB "/pods.json", NULL, &o, &c, &rep, &err);
    if (rc)
        fail_msg("%s", err.text);
    assert_int_equal(c->n_nodes, 2);
    assert_int_equal(rep.running, 30);
    assert_int_equal(rep.pending, 1);
    assert_int_equal(rep.unknown_node, 4);
    assert_non_null(strstr(rep.unknown_names[0], "di-288312/"));
    assert_int_equal(c->n_pods, 31);
    /* the hostname label is implied by the name, never stored */
    for (int32_t n = 0; n < c->n_nodes; n++)
        assert_null(node_label(c, n, "kubernetes.io/hostname"));
    int32_t m = node_by_name(c, "master-0.imeixner20210707.lab.upshift.rdu2.redhat.com");
    assert_true(m >= 0);
    assert_int_equal(c->node_cpu[m], 7500);
    assert_int_equal(c->node_mem[m], INT64_C(15258956) * 1024);
    assert_int_equal(c->node_pods[m], 250);
    assert_int_equal(c->node_taint_count[m], 1);
    assert_int_equal(c->taints[c->node_taint_begin[m]].effect, SS_EFFECT_NO_SCHEDULE);
    /* running pods sit on their node */
    int32_t p = pod_by_name(c, "prometheus-k8s-0");
    assert_int_equal(
        ss_strtab_find(c->strings, "worker-0.imeixner20210707.lab.upshift.rdu2.redhat.com"),
        c->node_name[c->pod_node[p]]);
    /* the required pod anti-affinity is never dropped */
    assert_true(tmpl_of(c, "apiserver-695d9c5549-w7fjs")->unsupported & SS_RULE_POD_ANTI_AFFINITY);
    /* the pending router has hostPorts: reported unsupported */
    p = pod_by_name(c, "router-default-7bbdcfcf9b-7xdln");
    assert_int_equal(c->pod_node[p], -1);
    assert_true(tmpl_of(c, "router-default-7bbdcfcf9b-7xdln")->unsupported & SS_RULE_OTHER);
    assert_int_equal(rep.warn[SS_KUBE_WARN_HOST_PORT], 1);
    /* etcd: three containers (10m + 300m + 40m) outweigh its init containers */
    assert_int_equal(
        tmpl_of(c, "etcd-master-0.imeixner20210707.lab.upshift.rdu2.redhat.com")->req.cpu_milli,
        350);
    assert_int_equal(ss_cluster_validate(c, &err), 0);
    ss_cluster_destroy(c);

    /* --strict turns the hostPort warning into an error naming the pod */
    o.strict = true;
    rc = ss_kube_import_files(LAB "/nodes.json", LAB "/pods.json", NULL, &o, &c, &rep, &err);
    assert_int_equal(rc, SS_EUNSUPPORTED);
    assert_null(c);
    assert_non_null(strstr(err.text, "router-default-7bbdcfcf9b-7xdln"));
    assert_non_null(strstr(err.text, "hostPort"));
}

static void test_ss_kube_import_files_gcp_sample(void **state)
{
    (void)state;
    ss_kube_opts_t o = quiet();
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    if (ss_kube_import_files(GCP "/nodes.json", NULL, NULL, &o, &c, NULL, &err))
        fail_msg("%s", err.text);
    assert_int_equal(c->n_nodes, 6);
    int masters = 0;
    for (int32_t n = 0; n < c->n_nodes; n++) {
        const int32_t *topo = &c->node_topo[n * SS_TOPO_NLEVELS];
        assert_string_equal(ss_cluster_strget(c, topo[SS_TOPO_REGION]), "us-east1");
        assert_non_null(strstr(ss_cluster_strget(c, topo[SS_TOPO_ZONE]), "us-east1-"));
        assert_int_equal(c->node_cpu[n], 3500);
        if (strstr(ss_cluster_strget(c, c->node_name[n]), "master")) {
            masters++;
            assert_int_equal(c->node_taint_count[n], 1);
            assert_int_equal(c->taints[c->node_taint_begin[n]].effect, SS_EFFECT_NO_SCHEDULE);
        } else {
            assert_int_equal(c->node_taint_count[n], 0);
        }
    }
    assert_int_equal(masters, 3);
    /* sorted by zone: b, b, c, c, d, d */
    assert_string_equal(ss_cluster_strget(c, c->node_topo[1 * SS_TOPO_NLEVELS + SS_TOPO_ZONE]),
                        "us-east1-b");
    assert_string_equal(ss_cluster_strget(c, c->node_topo[4 * SS_TOPO_NLEVELS + SS_TOPO_ZONE]),
                        "us-east1-d");
    ss_cluster_destroy(c);
}

static ss_cluster_t *import_fixtures(ss_kube_opts_t *o, ss_kube_report_t *rep)
{
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    if (ss_kube_import_files(FIX "/nodes.json", FIX "/pods.json", FIX "/podgroups.json", o, &c, rep,
                             &err))
        fail_msg("%s", err.text);
    return c;
}

static void test_ss_kube_import_files_nodes(void **state)
{
    (void)state;
    ss_kube_opts_t o = quiet();
    ss_kube_report_t rep;
    ss_cluster_t *c = import_fixtures(&o, &rep);
    assert_int_equal(c->n_nodes, 3);
    assert_int_equal(rep.warn[SS_KUBE_WARN_HOSTNAME_MISMATCH], 1);
    int32_t g = node_by_name(c, "gpu-b"), a = node_by_name(c, "cpu-a"),
            x = node_by_name(c, "cordoned");
    assert_true(a < g && x < g); /* zone z1 sorts before z2 */
    const int32_t *topo = &c->node_topo[g * SS_TOPO_NLEVELS];
    assert_string_equal(ss_cluster_strget(c, topo[SS_TOPO_BLOCK]), "blk1");
    assert_string_equal(ss_cluster_strget(c, topo[SS_TOPO_RACK]), "rack7");
    assert_int_equal(c->node_gpu_count[g], 8);
    assert_string_equal(ss_cluster_strget(c, c->gpu_model[c->node_gpu_begin[g]]), "H100");
    assert_int_equal(c->gpu_milli[c->node_gpu_begin[g]], 1000);
    assert_int_equal(c->node_mem[g], INT64_C(1) << 40);
    assert_int_equal(c->node_cpu[g], 96000);
    /* only extended resources some pod requests are declared */
    assert_int_equal(c->n_ext, 1);
    assert_string_equal(ss_cluster_strget(c, c->ext_name[0]), "example.com/fpga");
    assert_int_equal(c->node_ext[g * SS_MAX_EXT], 2);
    assert_true(c->node_unsched[x]);
    assert_false(c->node_unsched[a]);
    assert_int_equal(c->node_cpu[x], 4000); /* from status.capacity */
    assert_int_equal(c->node_taint_count[x], 2);
    assert_int_equal(c->taints[c->node_taint_begin[x] + 1].effect, SS_EFFECT_PREFER_NO_SCHEDULE);
    assert_string_equal(node_label(c, g, "pool"), "gpu");
    ss_cluster_destroy(c);
}

static void test_ss_kube_import_files_pod_rules(void **state)
{
    (void)state;
    ss_kube_opts_t o = quiet();
    ss_kube_report_t rep;
    ss_cluster_t *c = import_fixtures(&o, &rep);
    assert_int_equal(rep.terminal, 2);
    assert_int_equal(rep.other_scheduler, 1); /* v-0 is volcano's */
    assert_int_equal(rep.unknown_node, 1);
    assert_int_equal(pod_by_name(c, "done"), -1);
    assert_int_equal(pod_by_name(c, "v-0"), -1);
    assert_int_equal(c->pod_template[pod_by_name(c, "web-1-a")],
                     c->pod_template[pod_by_name(c, "web-1-b")]);
    assert_string_equal(ss_cluster_strget(c, tmpl_of(c, "web-1-a")->workload), "ReplicaSet/web-1");
    assert_int_equal(tmpl_of(c, "init")->req.cpu_milli, 500);
    assert_int_equal(tmpl_of(c, "init")->req.memory, 64 << 20);
    assert_int_equal(tmpl_of(c, "sidecar")->req.cpu_milli, 460);
    assert_int_equal(tmpl_of(c, "sidecar")->req.memory, (150 << 20) + (1 << 20));
    assert_int_equal(tmpl_of(c, "limits")->req.cpu_milli, 2000);
    assert_int_equal(tmpl_of(c, "fpga")->req.ext[0], 1);
    assert_int_equal(c->pod_priority[pod_by_name(c, "fpga")], 1000);
    /* running GPU pod takes the first free GPUs */
    int32_t t0 = pod_by_name(c, "train-0");
    assert_int_equal(c->pod_gpu_mask[t0], 0xf);
    assert_int_equal(tmpl_of(c, "train-1")->req.gpu_count, 4);
    assert_int_equal(tmpl_of(c, "train-1")->tol_count, 1);
    /* pod groups: coscheduling label and Volcano annotation */
    int32_t g = c->pod_group[t0];
    assert_true(g >= 0);
    assert_int_equal(c->pod_group[pod_by_name(c, "train-1")], g);
    assert_int_equal(c->group_min_member[g], 2);
    assert_string_equal(ss_cluster_strget(c, c->group_name[g]), "ml/train");
    int32_t v = c->pod_group[pod_by_name(c, "v-1")];
    assert_true(v >= 0 && c->group_min_member[v] == 3);
    assert_int_equal(c->pod_group[pod_by_name(c, "nogroup")], -1);
    assert_int_equal(rep.warn[SS_KUBE_WARN_NO_POD_GROUP], 1);
    /* node affinity and tolerations */
    const ss_template_t *t = tmpl_of(c, "affinity");
    assert_int_equal(t->sel_count, 1);
    assert_int_equal(t->req_count, 2);
    assert_int_equal(c->terms[t->req_begin].expr_count, 2);
    const ss_expr_t *e = &c->exprs[c->terms[t->req_begin].expr_begin];
    assert_int_equal(e[0].op, SS_OP_IN);
    assert_int_equal(e[0].val_count, 2);
    assert_int_equal(e[1].op, SS_OP_DOES_NOT_EXIST);
    assert_int_equal(c->exprs[c->terms[t->req_begin + 1].expr_begin].is_field, 1);
    assert_int_equal(t->pref_count, 1);
    assert_int_equal(c->terms[t->pref_begin].weight, 50);
    assert_int_equal(c->exprs[c->terms[t->pref_begin].expr_begin].op, SS_OP_GT);
    assert_int_equal(t->tol_count, 2);
    assert_int_equal(c->tolerations[t->tol_begin].op, SS_TOL_EXISTS);
    assert_int_equal(c->tolerations[t->tol_begin].key, 0);
    assert_int_equal(c->tolerations[t->tol_begin].effect, SS_EFFECT_ANY);
    /* rules the engine does not implement are marked, never dropped */
    assert_int_equal(tmpl_of(c, "spread")->unsupported, SS_RULE_TOPOLOGY_SPREAD);
    assert_int_equal(tmpl_of(c, "podaff")->unsupported, SS_RULE_POD_AFFINITY);
    assert_int_equal(tmpl_of(c, "pvc")->unsupported, SS_RULE_OTHER);
    assert_int_equal(tmpl_of(c, "web-1-a")->unsupported, 0);
    assert_int_equal(rep.warn[SS_KUBE_WARN_TOPOLOGY_SPREAD], 1);
    assert_int_equal(rep.warn[SS_KUBE_WARN_PVC], 1);
    /* GPU sharing annotations */
    assert_int_equal(tmpl_of(c, "share")->req.gpu_count, 1);
    assert_int_equal(tmpl_of(c, "share")->req.gpu_milli, 500);
    ss_cluster_destroy(c);

    /* another scheduler name takes volcano's pod instead */
    o.scheduler_name = "volcano";
    c = import_fixtures(&o, &rep);
    assert_true(pod_by_name(c, "v-0") >= 0);
    assert_int_equal(pod_by_name(c, "web-1-a"), -1);
    ss_cluster_destroy(c);
}

static const struct {
    const char *pods;
    const char *msg;
} bad_pods[] = {
    {"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\"},\"spec\":{"
     "\"containers\":"
     "[{\"resources\":{\"requests\":{\"cpu\":\"1x\"}}}]}}",
     "<pods>: Pod ns/p: spec.containers[0].resources.requests.cpu: '1x' is not a quantity: unknown "
     "suffix 'x'"},
    {"[{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"overhead\":{\"memory\":\"1KB\"}}"
     "}]",
     "Pod p: spec.overhead.memory: '1KB' is not a quantity"},
    {"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"resources\":"
     "{\"requests\":{\"memory\":\"-1\"}}}]}}",
     "negative"},
    {"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"tolerations\":[{\"operator\":"
     "\"Maybe\"}]}}",
     "spec.tolerations[0]"},
    {"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"affinity\":{\"nodeAffinity\":{"
     "\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":[{"
     "\"matchExpressions\":"
     "[{\"key\":\"k\",\"operator\":\"Near\"}]}]}}}}}",
     "nodeSelectorTerms[0].matchExpressions[0]"},
    {"{\"kind\":\"Pod\",\"spec\":{}}", "Pod metadata.name: missing"},
    {"42", "expected a v1 List"},
    {"{\"kind\":\"List\",", "<pods>:1:"},
};

static void test_ss_kube_import_strings_bad_input(void **state)
{
    (void)state;
    ss_kube_opts_t o = quiet();
    const char *nodes =
        "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\"},\"status\":{\"allocatable\":"
        "{\"cpu\":\"2\"}}}";
    for (size_t i = 0; i < sizeof bad_pods / sizeof bad_pods[0]; i++) {
        ss_cluster_t *c = (ss_cluster_t *)1;
        ss_error_t err = {{0}};
        int rc = ss_kube_import_strings(nodes, bad_pods[i].pods, NULL, &o, &c, NULL, &err);
        if (rc >= 0 || !strstr(err.text, bad_pods[i].msg))
            fail_msg("case %zu: rc %d, message '%s', want '%s'", i, rc, err.text, bad_pods[i].msg);
        assert_null(c);
    }
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    assert_true(
        ss_kube_import_strings("{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\"},\"status\":"
                               "{\"allocatable\":{\"cpu\":\"two\"}}}",
                               NULL, NULL, &o, &c, NULL, &err) < 0);
    assert_non_null(
        strstr(err.text, "<nodes>: Node n: status.allocatable.cpu: 'two' is not a quantity"));
}

static void test_ss_kube_import_strings_strict(void **state)
{
    (void)state;
    ss_kube_opts_t o = quiet();
    const char *nodes =
        "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\"},\"status\":{\"allocatable\":"
        "{\"cpu\":\"2\",\"pods\":\"10\"}}}";
    const char *pods =
        "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[],"
        "\"schedulingGates\":[{\"name\":\"g\"}]}}";
    ss_cluster_t *c = NULL;
    ss_kube_report_t rep;
    ss_error_t err = {{0}};
    assert_int_equal(ss_kube_import_strings(nodes, pods, NULL, &o, &c, &rep, &err), 0);
    assert_int_equal(rep.warn[SS_KUBE_WARN_SCHEDULING_GATES], 1);
    assert_int_equal(c->templates[0].unsupported, SS_RULE_SCHEDULING_GATES);
    ss_cluster_destroy(c);
    o.strict = true;
    assert_int_equal(ss_kube_import_strings(nodes, pods, NULL, &o, &c, &rep, &err),
                     SS_EUNSUPPORTED);
    assert_non_null(strstr(err.text, "schedulingGates"));
}

/* Counts that import(export(c)) must preserve for every node and pod. */
static void assert_same_cluster(const ss_cluster_t *a, const ss_cluster_t *b)
{
    assert_int_equal(a->n_nodes, b->n_nodes);
    assert_int_equal(a->n_pods, b->n_pods);
    assert_int_equal(a->n_groups, b->n_groups);
    assert_int_equal(a->n_ext, b->n_ext);
    for (int32_t n = 0; n < a->n_nodes; n++) {
        assert_string_equal(ss_cluster_strget(a, a->node_name[n]),
                            ss_cluster_strget(b, b->node_name[n]));
        for (int l = 0; l < SS_TOPO_NLEVELS; l++)
            assert_string_equal(ss_cluster_strget(a, a->node_topo[n * SS_TOPO_NLEVELS + l]),
                                ss_cluster_strget(b, b->node_topo[n * SS_TOPO_NLEVELS + l]));
        assert_int_equal(a->node_cpu[n], b->node_cpu[n]);
        assert_int_equal(a->node_mem[n], b->node_mem[n]);
        assert_int_equal(a->node_pods[n], b->node_pods[n]);
        assert_int_equal(a->node_unsched[n], b->node_unsched[n]);
        assert_int_equal(a->node_label_count[n], b->node_label_count[n]);
        assert_int_equal(a->node_taint_count[n], b->node_taint_count[n]);
        assert_int_equal(a->node_gpu_count[n], b->node_gpu_count[n]);
        assert_memory_equal(&a->node_ext[n * SS_MAX_EXT], &b->node_ext[n * SS_MAX_EXT],
                            sizeof(int64_t) * SS_MAX_EXT);
    }
    for (int32_t p = 0; p < a->n_pods; p++) {
        assert_string_equal(ss_cluster_strget(a, a->pod_name[p]),
                            ss_cluster_strget(b, b->pod_name[p]));
        assert_int_equal(a->pod_node[p], b->pod_node[p]);
        assert_int_equal(a->pod_priority[p], b->pod_priority[p]);
        assert_int_equal(a->pod_group[p] < 0, b->pod_group[p] < 0);
        const ss_template_t *x = &a->templates[a->pod_template[p]],
                            *y = &b->templates[b->pod_template[p]];
        assert_memory_equal(&x->req, &y->req, sizeof x->req);
        assert_int_equal(x->unsupported, y->unsupported);
        assert_int_equal(x->sel_count, y->sel_count);
        assert_int_equal(x->req_count, y->req_count);
        assert_int_equal(x->pref_count, y->pref_count);
        assert_int_equal(x->tol_count, y->tol_count);
        assert_int_equal(x->plabel_count, y->plabel_count);
        assert_string_equal(ss_cluster_strget(a, x->workload), ss_cluster_strget(b, y->workload));
    }
    for (int32_t g = 0; g < a->n_groups; g++) {
        assert_int_equal(a->group_min_member[g], b->group_min_member[g]);
        assert_int_equal(a->group_topo_mode[g], b->group_topo_mode[g]);
        if (a->group_topo_mode[g] != SS_TOPO_MODE_NONE)
            assert_int_equal(a->group_topo_level[g], b->group_topo_level[g]);
    }
}

/* Kueue's podset topology annotations on a gang's pods: the node label key
 * names the level (--rack-label / --block-label included); export writes
 * them back; a key that names no level is an error, never dropped. */
static void test_ss_kube_import_strings_group_topology(void **state)
{
    (void)state;
    static const struct {
        const char *annotation, *key, *rack_label;
        int rc;
        int32_t level, mode;
    } rows[] = {
        {"", "", NULL, 0, SS_TOPO_NODE, SS_TOPO_MODE_NONE},
        {SS_KUBE_REQUIRED_TOPOLOGY_ANNOTATION, SS_KUBE_DEFAULT_RACK_LABEL, NULL, 0, SS_TOPO_RACK,
         SS_TOPO_MODE_REQUIRED},
        {SS_KUBE_PREFERRED_TOPOLOGY_ANNOTATION, SS_KUBE_ZONE_LABEL, NULL, 0, SS_TOPO_ZONE,
         SS_TOPO_MODE_PREFERRED},
        {SS_KUBE_REQUIRED_TOPOLOGY_ANNOTATION, SS_KUBE_DEFAULT_BLOCK_LABEL, NULL, 0, SS_TOPO_BLOCK,
         SS_TOPO_MODE_REQUIRED},
        {SS_KUBE_REQUIRED_TOPOLOGY_ANNOTATION, "example.com/nvlink", "example.com/nvlink", 0,
         SS_TOPO_RACK, SS_TOPO_MODE_REQUIRED},
        {SS_KUBE_REQUIRED_TOPOLOGY_ANNOTATION, "example.com/nvlink", NULL, SS_EUNSUPPORTED, 0, 0},
    };
    const char *nodes =
        "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\"},\"status\":{\"allocatable\":"
        "{\"cpu\":\"8\",\"pods\":\"10\"}}}";
    const char *pg = "{\"kind\":\"PodGroup\",\"metadata\":{\"name\":\"g\",\"namespace\":\"ns\"},"
                     "\"spec\":{\"minMember\":2}}";
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char ann[256] = "", pods[1024];
        if (rows[i].annotation[0])
            snprintf(ann, sizeof ann, ",\"%s\":\"%s\"", rows[i].annotation, rows[i].key);
        int len = 0;
        len += snprintf(pods + len, sizeof pods - (size_t)len, "[");
        for (int m = 0; m < 2; m++)
            len +=
                snprintf(pods + len, sizeof pods - (size_t)len,
                         "%s{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p%d\",\"namespace\":\"ns\","
                         "\"labels\":{\"" SS_KUBE_POD_GROUP_LABEL "\":\"g\"},\"annotations\":"
                         "{\"x\":\"y\"%s}},\"spec\":{\"containers\":[]}}",
                         m ? "," : "", m, ann);
        snprintf(pods + len, sizeof pods - (size_t)len, "]");
        ss_kube_opts_t o = quiet();
        if (rows[i].rack_label)
            o.rack_label = rows[i].rack_label;
        ss_cluster_t *c = NULL, *b = NULL;
        ss_error_t err = {{0}};
        int rc = ss_kube_import_strings(nodes, pods, pg, &o, &c, NULL, &err);
        assert_int_equal(rc, rows[i].rc);
        if (rc) {
            assert_null(c);
            assert_non_null(strstr(err.text, "Pod ns/p0: metadata.annotations."));
            assert_non_null(strstr(err.text, "'example.com/nvlink' is not a topology level"));
            continue;
        }
        assert_int_equal(c->n_groups, 1);
        assert_int_equal(c->group_topo_mode[0], rows[i].mode);
        assert_int_equal(c->group_topo_level[0], rows[i].level);
        /* the round trip keeps it (export names levels by the default label keys) */
        char dir[] = "/tmp/ss_kube_topoXXXXXX", np[64], pp[64];
        assert_non_null(mkdtemp(dir));
        snprintf(np, sizeof np, "%s/nodes.json", dir);
        snprintf(pp, sizeof pp, "%s/pods.json", dir);
        ss_kube_opts_default(&o);
        o.log = NULL;
        if (ss_kube_export_cluster(c, np, pp, &err) ||
            ss_kube_import_files(np, pp, NULL, &o, &b, NULL, &err))
            fail_msg("%s", err.text);
        assert_same_cluster(c, b);
        ss_cluster_destroy(b);
        ss_cluster_destroy(c);
        unlink(np);
        unlink(pp);
        rmdir(dir);
    }
}

static void test_ss_kube_export_cluster_roundtrip(void **state)
{
    (void)state;
    ss_kube_opts_t o = quiet();
    ss_kube_report_t rep;
    ss_cluster_t *a = import_fixtures(&o, &rep), *b = NULL;
    ss_error_t err = {{0}};
    char dir[] = "/tmp/ss_kube_rtXXXXXX", np[64], pp[64];
    assert_non_null(mkdtemp(dir));
    snprintf(np, sizeof np, "%s/nodes.json", dir);
    snprintf(pp, sizeof pp, "%s/pods.json", dir);
    if (ss_kube_export_cluster(a, np, pp, &err))
        fail_msg("%s", err.text);
    if (ss_kube_import_files(np, pp, NULL, &o, &b, &rep, &err))
        fail_msg("%s", err.text);
    assert_same_cluster(a, b);
    assert_int_equal(b->n_templates, a->n_templates);
    ss_cluster_destroy(b);
    /* unplaced, not-exportable directories are an error, nothing written */
    assert_true(ss_kube_export_cluster(a, "/nonexistent/dir/n.json", pp, &err) < 0);
    unlink(np);
    unlink(pp);
    rmdir(dir);
    ss_cluster_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ss_kube_import_files_lab_sample),
        cmocka_unit_test(test_ss_kube_import_files_gcp_sample),
        cmocka_unit_test(test_ss_kube_import_files_nodes),
        cmocka_unit_test(test_ss_kube_import_files_pod_rules),
        cmocka_unit_test(test_ss_kube_import_strings_bad_input),
        cmocka_unit_test(test_ss_kube_import_strings_strict),
        cmocka_unit_test(test_ss_kube_import_strings_group_topology),
        cmocka_unit_test(test_ss_kube_export_cluster_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
