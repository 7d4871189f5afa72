/* Tests of the Kubernetes importer (ss_kube_import): the real OpenShift
 * samples in tests/data/kube/openshift_insights_* (copies of
 * ../shared/data/kube, see tests/data/README.md), the hand-written objects
 * in tests/data/kube (one per rule), error texts, --strict, and the
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

#include <sys/stat.h>

#include "ss_kube_import.h"
#include "ss_reason.h"
#include "ss_sched.h"

#define LAB SS_TEST_DATA_DIR "/kube/openshift_insights_lab_2node"
#define GCP SS_TEST_DATA_DIR "/kube/openshift_insights_gcp_6node"
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
    /* the required pod anti-affinity is read (issue 12), no longer unsupported */
    const ss_template_t *api = tmpl_of(c, "apiserver-695d9c5549-w7fjs");
    assert_int_equal(api->unsupported, 0);
    assert_int_equal(api->pterm_count, 1);
    const ss_podterm_t *pt = &c->pterms[api->pterm_begin];
    assert_int_equal(pt->kind, SS_PT_ANTI_AFFINITY);
    assert_int_equal(pt->weight, 0);
    assert_string_equal(ss_cluster_strget(c, pt->key), "kubernetes.io/hostname");
    assert_int_equal(pt->sel.null, 0);
    assert_int_equal(pt->sel.count, 3); /* matchLabels: apiserver, app, oauth-...-anti-affinity */
    assert_int_equal(pt->ns_count, 0);
    assert_int_equal(pt->ns_sel.null, 1);
    assert_true(api->flags & SS_TF_CONTROLLER);
    /* system-node-critical resolves without PriorityClass objects; kept as it is */
    p = pod_by_name(c, "apiserver-695d9c5549-w7fjs");
    assert_int_equal(c->pod_priority[p], 2000001000);
    assert_int_equal(c->pod_start[p], 1625657314); /* 2021-07-07T11:28:34Z */
    /* prometheus: a preferred anti-affinity term with a namespace list */
    const ss_template_t *prom = tmpl_of(c, "prometheus-k8s-0");
    assert_int_equal(prom->pterm_count, 1);
    assert_int_equal(c->pterms[prom->pterm_begin].weight, 100);
    assert_int_equal(c->pterms[prom->pterm_begin].ns_count, 1);
    assert_int_equal(rep.warn[SS_KUBE_WARN_PRIORITY_CLASS_UNKNOWN], 0);
    assert_int_equal(rep.warn[SS_KUBE_WARN_PRIORITY_MISMATCH], 0);
    assert_int_equal(c->default_spreading, SS_SPREAD_DEFAULT_SYSTEM);
    /* the pending router's hostPorts 80, 443, 1936 (TCP): a synthetic label
     * and a required anti-affinity term (hostname, all namespaces) each */
    p = pod_by_name(c, "router-default-7bbdcfcf9b-7xdln");
    assert_int_equal(c->pod_node[p], -1);
    const ss_template_t *rt = tmpl_of(c, "router-default-7bbdcfcf9b-7xdln");
    assert_int_equal(rt->unsupported, 0);
    assert_int_equal(rt->pterm_count, 3);
    static const char *const rkeys[3] = {"shardsched.io/host-port-tcp-80",
                                         "shardsched.io/host-port-tcp-443",
                                         "shardsched.io/host-port-tcp-1936"};
    for (int i = 0; i < 3; i++) {
        const ss_podterm_t *h = &c->pterms[rt->pterm_begin + i];
        assert_int_equal(h->kind, SS_PT_ANTI_AFFINITY);
        assert_int_equal(h->weight, 0);
        assert_string_equal(ss_cluster_strget(c, h->key), "kubernetes.io/hostname");
        assert_int_equal(h->ns_sel.null, 0);
        assert_int_equal(h->ns_sel.count, 0);
        assert_int_equal(h->sel.count, 1);
        assert_string_equal(ss_cluster_strget(c, c->exprs[h->sel.begin].key), rkeys[i]);
        assert_int_equal(c->exprs[h->sel.begin].op, SS_OP_EXISTS);
        bool found = false;
        for (int32_t l = 0; l < rt->plabel_count; l++) {
            const ss_label_t *lb = &c->labels[rt->plabel_begin + l];
            found |= !strcmp(ss_cluster_strget(c, lb->key), rkeys[i]) &&
                     !strcmp(ss_cluster_strget(c, lb->value), "true");
        }
        assert_true(found);
    }
    /* etcd: three containers (10m + 300m + 40m) outweigh its init containers */
    assert_int_equal(
        tmpl_of(c, "etcd-master-0.imeixner20210707.lab.upshift.rdu2.redhat.com")->req.cpu_milli,
        350);
    assert_int_equal(ss_cluster_validate(c, &err), 0);
    ss_cluster_destroy(c);

    /* hostPort is no longer a warning: --strict imports the sample too */
    o.strict = true;
    rc = ss_kube_import_files(LAB "/nodes.json", LAB "/pods.json", NULL, &o, &c, &rep, &err);
    if (rc)
        fail_msg("%s", err.text);
    ss_cluster_destroy(c);
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
        const int32_t *topo = &c->node_topo[n * SS_TOPO_STRIDE];
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
    assert_string_equal(ss_cluster_strget(c, c->node_topo[1 * SS_TOPO_STRIDE + SS_TOPO_ZONE]),
                        "us-east1-b");
    assert_string_equal(ss_cluster_strget(c, c->node_topo[4 * SS_TOPO_STRIDE + SS_TOPO_ZONE]),
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
    const int32_t *topo = &c->node_topo[g * SS_TOPO_STRIDE];
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
    /* spread and pod affinity are read (issue 12); volumes stay unsupported */
    const ss_template_t *sp = tmpl_of(c, "spread");
    assert_int_equal(sp->unsupported, 0);
    assert_int_equal(sp->spread_count, 1);
    assert_int_equal(c->spreads[sp->spread_begin].max_skew, 1);
    assert_int_equal(c->spreads[sp->spread_begin].when, SS_WHEN_DO_NOT_SCHEDULE);
    assert_int_equal(c->spreads[sp->spread_begin].sel.count, 1);
    assert_int_equal(tmpl_of(c, "podaff")->unsupported, 0);
    assert_int_equal(tmpl_of(c, "podaff")->pterm_count, 1);
    assert_int_equal(c->pterms[tmpl_of(c, "podaff")->pterm_begin].kind, SS_PT_AFFINITY);
    assert_int_equal(tmpl_of(c, "pvc")->unsupported, SS_RULE_OTHER);
    assert_int_equal(tmpl_of(c, "web-1-a")->unsupported, 0);
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
        for (int l = 0; l < a->n_levels; l++)
            assert_string_equal(ss_cluster_strget(a, a->node_topo[n * SS_TOPO_STRIDE + l]),
                                ss_cluster_strget(b, b->node_topo[n * SS_TOPO_STRIDE + l]));
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
        /* a key no level is built from: the pods are unsupported (reason topology) */
        {SS_KUBE_REQUIRED_TOPOLOGY_ANNOTATION, "example.com/nvlink", NULL, 0, SS_TOPO_NODE,
         SS_TOPO_MODE_NONE},
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
        ss_kube_report_t rep;
        int rc = ss_kube_import_strings(nodes, pods, pg, &o, &c, &rep, &err);
        assert_int_equal(rc, rows[i].rc);
        bool unmapped = rows[i].key[0] && !rows[i].rack_label && strstr(rows[i].key, "example");
        assert_int_equal(rep.warn[SS_KUBE_WARN_TOPOLOGY_KEY], unmapped ? 2 : 0);
        assert_int_equal(c->templates[c->pod_template[0]].unsupported,
                         unmapped ? SS_RULE_TOPOLOGY : 0);
        if (unmapped) {
            assert_string_equal(rep.topology_key,
                                "'example.com/nvlink' in its first member "
                                "metadata.annotations.kueue.x-k8s.io/podset-required-topology");
            /* --strict: an error naming the pod, the field and the key */
            o.strict = true;
            ss_cluster_t *d = (ss_cluster_t *)1;
            assert_int_equal(ss_kube_import_strings(nodes, pods, pg, &o, &d, &rep, &err),
                             SS_EUNSUPPORTED);
            assert_null(d);
            assert_non_null(strstr(err.text, "<pods>: Pod ns/p0: its first member "
                                             "metadata.annotations.kueue.x-k8s.io/"
                                             "podset-required-topology: no node carries the "
                                             "label 'example.com/nvlink'"));
            o.strict = false;
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

/* ---- issue 10: bad input is an error naming the file, object and field ---- */

#define NODE_OK                                                                                    \
    "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\"},\"status\":{\"allocatable\":"                \
    "{\"cpu\":\"4\",\"memory\":\"8Gi\",\"pods\":\"10\"}}}"
/* A pending pod ns/p with the given spec members after its containers. */
#define POD(spec_rest)                                                                             \
    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\"},\"spec\":{"              \
    "\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"1\"}}}]" spec_rest     \
    "}}"

/* The import fails with exactly msg and returns no cluster. */
static void expect_error(const char *nodes, const char *pods, const char *pgs, int code,
                         const char *msg)
{
    ss_kube_opts_t o = quiet();
    ss_cluster_t *c = (ss_cluster_t *)1;
    ss_error_t err = {{0}};
    int rc = ss_kube_import_strings(nodes, pods, pgs, &o, &c, NULL, &err);
    if (rc != code || strcmp(err.text, msg))
        fail_msg("rc %d (want %d)\n  got  '%s'\n  want '%s'", rc, code, err.text, msg);
    assert_null(c);
}

static void test_ss_kube_import_strings_wrong_types(void **state)
{
    (void)state;
    static const struct {
        const char *nodes, *pods, *msg;
    } cases[] = {
        {"{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\"},\"spec\":{\"unschedulable\":\"true\"}}",
         NULL, "<nodes>: Node n: spec.unschedulable: expected true or false, got a string"},
        {"{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\"},\"spec\":{\"taints\":{\"key\":\"a\"}}}",
         NULL, "<nodes>: Node n: spec.taints: expected an array, got an object"},
        {"{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\"},\"spec\":{\"taints\":[\"a\"]}}", NULL,
         "<nodes>: Node n: spec.taints[0]: expected an object"},
        {"{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\"},\"status\":{\"allocatable\":[1]}}", NULL,
         "<nodes>: Node n: status.allocatable: expected an object, got an array"},
        {"{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\",\"labels\":{\"a\":1}}}", NULL,
         "<nodes>: Node n: metadata.labels.a: expected a string"},
        {"{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\"},\"status\":{\"allocatable\":"
         "{\"cpu\":true}}}",
         NULL,
         "<nodes>: Node n: status.allocatable.cpu: expected a quantity (a string or number), "
         "got a boolean"},
        {"{\"kind\":\"List\",\"items\":null}", NULL,
         "<nodes>: a List whose items is null, not an array"},
        {"{\"kind\":\"List\",\"items\":{}}", NULL,
         "<nodes>:1:24: items: expected an array of objects"},
        {NODE_OK,
         "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\"},\"spec\":"
         "{\"containers\":{\"name\":\"c\"}}}",
         "<pods>: Pod ns/p: spec.containers: expected an array, got an object"},
        {NODE_OK,
         "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\"},\"spec\":"
         "{\"containers\":[{\"resources\":{\"requests\":[\"1\"]}}]}}",
         "<pods>: Pod ns/p: spec.containers[0].resources.requests: expected an object, got an "
         "array"},
        {NODE_OK, POD(",\"priority\":\"100\""),
         "<pods>: Pod ns/p: spec.priority: expected an integer, got a string"},
        {NODE_OK, POD(",\"nodeName\":7"),
         "<pods>: Pod ns/p: spec.nodeName: expected a string, got an integer"},
        {NODE_OK, POD(",\"nodeSelector\":[\"a\"]"),
         "<pods>: Pod ns/p: spec.nodeSelector: expected an object"},
        {NODE_OK, POD(",\"tolerations\":{\"key\":\"a\"}"),
         "<pods>: Pod ns/p: spec.tolerations: expected an array, got an object"},
        {NODE_OK, POD(",\"tolerations\":[{\"key\":\"a\",\"effect\":1}]"),
         "<pods>: Pod ns/p: spec.tolerations[0].effect: expected a string, got an integer"},
        {NODE_OK, POD(",\"affinity\":{\"nodeAffinity\":[]}"),
         "<pods>: Pod ns/p: spec.affinity.nodeAffinity: expected an object, got an array"},
        {NODE_OK, POD(",\"topologySpreadConstraints\":{}"),
         "<pods>: Pod ns/p: spec.topologySpreadConstraints: expected an array, got an object"},
        {NODE_OK, POD(",\"schedulingGates\":\"g\""),
         "<pods>: Pod ns/p: spec.schedulingGates: expected an array, got a string"},
        {NODE_OK,
         "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"ownerReferences\":"
         "[{\"kind\":\"Job\",\"name\":\"j\",\"controller\":\"yes\"}]},\"spec\":{}}",
         "<pods>: Pod ns/p: metadata.ownerReferences[0].controller: expected true or false, got a "
         "string"},
        {NODE_OK,
         "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"annotations\":"
         "{\"a\":1}},\"spec\":{}}",
         "<pods>: Pod ns/p: metadata.annotations.a: expected a string"},
        {NODE_OK, "{\"kind\":\"Pod\",\"metadata\":[],\"spec\":{}}",
         "<pods>: Pod ?: metadata: expected an object, got an array"},
        {NODE_OK, "{\"kind\":7,\"metadata\":{\"name\":\"p\"}}",
         "<pods>: items[0]: kind: expected a string, got an integer"},
        {NODE_OK, "[{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}, 3]",
         "<pods>: items[1]: expected an object, got an integer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("case %zu\n", i);
        expect_error(cases[i].nodes, cases[i].pods, NULL, SS_EFORMAT, cases[i].msg);
    }
    /* null is absent, as in Kubernetes */
    ss_kube_opts_t o = quiet();
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    assert_int_equal(
        ss_kube_import_strings(
            "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\",\"labels\":null},"
            "\"spec\":{\"taints\":null,\"unschedulable\":null}}",
            POD(",\"nodeSelector\":null,\"tolerations\":null,\"affinity\":{"
                "\"nodeAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":"
                "[{\"weight\":1,\"preference\":{\"matchExpressions\":null}}]}}"),
            NULL, &o, &c, NULL, &err),
        0);
    ss_cluster_destroy(c);
    expect_error(NODE_OK, NULL,
                 "{\"kind\":\"PodGroup\",\"metadata\":{\"name\":\"g\",\"namespace\":\"ns\"},"
                 "\"spec\":{\"minMember\":\"4\"}}",
                 SS_EFORMAT,
                 "<podgroups>: PodGroup ns/g: spec.minMember: expected an integer, got a string");
}

static void test_ss_kube_import_strings_selector_rules(void **state)
{
    (void)state;
#define REQ(terms)                                                                                 \
    POD(",\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"     \
        "{\"nodeSelectorTerms\":" terms "}}}")
#define EXPR(e) REQ("[{\"matchExpressions\":[" e "]}]")
    static const struct {
        const char *pods, *msg;
    } cases[] = {
        {REQ("[]"), "<pods>: Pod ns/p: nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
                    "nodeSelectorTerms: must have at least one node selector term"},
        {POD(",\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
             "{}}}"),
         "<pods>: Pod ns/p: nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
         "nodeSelectorTerms: must have at least one node selector term"},
        {EXPR("{\"key\":\"cores\",\"operator\":\"Gt\",\"values\":[\"eight\"]}"),
         "<pods>: Pod ns/p: nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0]."
         "values[0]: 'eight' is not an integer (Gt and Lt compare integers)"},
        {EXPR("{\"key\":\"cores\",\"operator\":\"Lt\",\"values\":[\"1.5\"]}"),
         "<pods>: Pod ns/p: nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0]."
         "values[0]: '1.5' is not an integer (Gt and Lt compare integers)"},
        {EXPR("{\"key\":\"cores\",\"operator\":\"Gt\",\"values\":[\"1\",\"2\"]}"),
         "<pods>: Pod ns/p: nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0]."
         "values: must have exactly one value for Gt and Lt"},
        {EXPR("{\"key\":\"zone\",\"operator\":\"In\",\"values\":[]}"),
         "<pods>: Pod ns/p: nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0]."
         "values: must have at least one value for In and NotIn"},
        {EXPR("{\"key\":\"zone\",\"operator\":\"Exists\",\"values\":[\"a\"]}"),
         "<pods>: Pod ns/p: nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0]."
         "values: must be empty for Exists and DoesNotExist"},
        {EXPR("{\"key\":\"zone\",\"operator\":\"In\",\"values\":\"a\"}"),
         "<pods>: Pod ns/p: nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0]."
         "values: expected an array, got a string"},
        {REQ("[{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":"
             "[\"a\",\"b\"]}]}]"),
         "<pods>: Pod ns/p: nodeAffinity.required.nodeSelectorTerms[0].matchFields[0].values: "
         "must have exactly one value for matchFields"},
        {REQ("[\"x\"]"),
         "<pods>: Pod ns/p: nodeAffinity.required.nodeSelectorTerms[0]: expected an object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("case %zu\n", i);
        expect_error(NODE_OK, cases[i].pods, NULL, SS_EFORMAT, cases[i].msg);
    }
    /* Gt with an integer is accepted */
    ss_kube_opts_t o = quiet();
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    assert_int_equal(
        ss_kube_import_strings(NODE_OK,
                               EXPR("{\"key\":\"cores\",\"operator\":\"Gt\",\"values\":[\"-8\"]}"),
                               NULL, &o, &c, NULL, &err),
        0);
    ss_cluster_destroy(c);
#undef EXPR
#undef REQ
}

static void test_ss_kube_import_strings_duplicates(void **state)
{
    (void)state;
    const char *pod = "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\"}}";
    const char *other = "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"q\",\"namespace\":\"ns\"}}";
    char text[1024];
    snprintf(text, sizeof text, "[%s,%s,%s]", pod, other, pod);
    expect_error(NODE_OK, text, NULL, SS_EFORMAT,
                 "<pods>: items[2]: Pod ns/p appears twice (first at <pods>: items[0])");
    /* the same name in another namespace is another pod */
    snprintf(text, sizeof text, "[%s,{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}]", pod);
    ss_kube_opts_t o = quiet();
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    assert_int_equal(ss_kube_import_strings(NODE_OK, text, NULL, &o, &c, NULL, &err), 0);
    assert_int_equal(c->n_pods, 2);
    ss_cluster_destroy(c);
    /* a Pod in the nodes file and the same Pod in the pods file */
    snprintf(text, sizeof text, "[%s,%s]", NODE_OK, pod);
    expect_error(text, pod, NULL, SS_EFORMAT,
                 "<pods>: items[0]: Pod ns/p appears twice (first at <nodes>: items[1])");
    snprintf(text, sizeof text, "{\"kind\":\"List\",\"items\":[%s,%s]}", NODE_OK, NODE_OK);
    expect_error(text, NULL, NULL, SS_EFORMAT,
                 "<nodes>: items[1]: Node n appears twice (first at <nodes>: items[0])");
    const char *pg =
        "{\"kind\":\"PodGroup\",\"metadata\":{\"name\":\"g\",\"namespace\":\"ns\"},\"spec\":{}}";
    snprintf(text, sizeof text, "[%s,%s]", pg, pg);
    expect_error(NODE_OK, NULL, text, SS_EFORMAT,
                 "<podgroups>: items[1]: PodGroup ns/g appears twice (first at <podgroups>: "
                 "items[0])");
    expect_error(NODE_OK, "[{\"kind\":\"Pod\",\"metadata\":{\"name\":\"\"}}]", NULL, SS_EFORMAT,
                 "<pods>: items[0]: Pod metadata.name: empty");
    expect_error("{\"kind\":\"Node\",\"metadata\":{\"name\":\"\"}}", NULL, NULL, SS_EFORMAT,
                 "<nodes>: items[0]: Node metadata.name: empty");
    expect_error(NODE_OK, NULL, "[{\"kind\":\"PodGroup\",\"metadata\":{}}]", SS_EFORMAT,
                 "<podgroups>: items[0]: PodGroup metadata.name: missing");
}

static void test_ss_kube_import_strings_bad_names(void **state)
{
    (void)state;
    expect_error(NODE_OK, "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a/../../nodes/x\"}}", NULL,
                 SS_EFORMAT,
                 "<pods>: items[0]: Pod metadata.name 'a/../../nodes/x': not a valid name (a "
                 "DNS-1123 subdomain: at most 253 of a-z, 0-9, '-', '.', starting and ending with "
                 "a letter or digit)");
    expect_error(NODE_OK, "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"Web-1\"}}", NULL, SS_EFORMAT,
                 "<pods>: items[0]: Pod metadata.name 'Web-1': not a valid name (a DNS-1123 "
                 "subdomain: at most 253 of a-z, 0-9, '-', '.', starting and ending with a letter "
                 "or digit)");
    expect_error(NODE_OK,
                 "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"team.a\"}}", NULL,
                 SS_EFORMAT,
                 "<pods>: items[0]: Pod p: metadata.namespace 'team.a': not a valid namespace (a "
                 "DNS-1123 label: at most 63 of a-z, 0-9, '-', starting and ending with a letter "
                 "or digit)");
    expect_error("{\"kind\":\"Node\",\"metadata\":{\"name\":\"node_1\"}}", NULL, NULL, SS_EFORMAT,
                 "<nodes>: items[0]: Node metadata.name 'node_1': not a valid name (a DNS-1123 "
                 "subdomain: at most 253 of a-z, 0-9, '-', '.', starting and ending with a letter "
                 "or digit)");
    /* lengths: a 253-character pod name and a 63-character namespace are fine, one more is not */
    char name[300], text[700];
    memset(name, 'a', 254);
    name[254] = '\0';
    ss_kube_opts_t o = quiet();
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    snprintf(text, sizeof text,
             "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"%.253s\",\"namespace\":\"%.63s\"}}", name,
             name);
    assert_int_equal(ss_kube_import_strings(NODE_OK, text, NULL, &o, &c, NULL, &err), 0);
    ss_cluster_destroy(c);
    snprintf(text, sizeof text, "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\"}}", name);
    assert_int_equal(ss_kube_import_strings(NODE_OK, text, NULL, &o, &c, NULL, &err), SS_EFORMAT);
    assert_non_null(strstr(err.text, "not a valid name"));
    snprintf(text, sizeof text,
             "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"%.64s\"}}", name);
    assert_int_equal(ss_kube_import_strings(NODE_OK, text, NULL, &o, &c, NULL, &err), SS_EFORMAT);
    assert_non_null(strstr(err.text, "not a valid namespace"));
}

static void test_ss_kube_import_strings_request_overflow(void **state)
{
    (void)state;
    char ctrs[4096] = "", text[8192];
    for (int i = 0; i < 16; i++)
        snprintf(ctrs + strlen(ctrs), sizeof ctrs - strlen(ctrs),
                 "%s{\"name\":\"c%d\",\"resources\":{\"requests\":{\"memory\":\"1Ei\"}}}",
                 i ? "," : "", i);
    snprintf(text, sizeof text,
             "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\"},\"spec\":{"
             "\"containers\":[%s]}}",
             ctrs);
    expect_error(NODE_OK, text, NULL, SS_ERANGE,
                 "<pods>: Pod ns/p: spec.containers[7]: memory: the pod's total request overflows "
                 "(over 9223372036854775807 bytes)");
    /* sidecars (restartPolicy Always) are summed too */
    snprintf(text, sizeof text,
             "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\"},\"spec\":{"
             "\"containers\":[{\"resources\":{\"requests\":{\"cpu\":\"9000000000000000\"}}}],"
             "\"initContainers\":[{\"restartPolicy\":\"Always\",\"resources\":{\"requests\":"
             "{\"cpu\":\"9000000000000000\"}}}]}}");
    expect_error(NODE_OK, text, NULL, SS_ERANGE,
                 "<pods>: Pod ns/p: spec.initContainers[0]: cpu: the pod's total request overflows "
                 "(over 9223372036854775807 millicores)");
    snprintf(text, sizeof text,
             "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\"},\"spec\":{"
             "\"containers\":[{\"resources\":{\"requests\":{\"example.com/foo\":\"8E\"}}}],"
             "\"overhead\":{\"example.com/foo\":\"2E\"}}}");
    expect_error(NODE_OK, text, NULL, SS_ERANGE,
                 "<pods>: Pod ns/p: spec.overhead: example.com/foo: the pod's total request "
                 "overflows (over 9223372036854775807 units)");
    expect_error(NODE_OK, POD(",\"overhead\":{\"memory\":\"9Ei\"}"), NULL, SS_ERANGE,
                 "<pods>: Pod ns/p: spec.overhead.memory: '9Ei' is too large");
}

/* Each gang or topology reference the importer does not read: the pod is
 * imported with its rule bit (never placed), warned about, an error with
 * --strict. */
static void test_ss_kube_import_strings_unread_gangs(void **state)
{
    (void)state;
#define META(m)                                                                                    \
    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\"," m "},\"spec\":{}}"
    static const struct {
        const char *pods;
        int warn;
        uint32_t bit;
        int reason;
    } cases[] = {
        {POD(",\"workloadRef\":{\"name\":\"w\",\"podGroup\":\"workers\"}"),
         SS_KUBE_WARN_WORKLOAD_REF, SS_RULE_WORKLOAD_REF, SS_REASON_UNSUPPORTED_WORKLOAD_REF},
        {POD(",\"schedulingGroup\":{\"podGroupName\":\"g\"}"), SS_KUBE_WARN_SCHEDULING_GROUP,
         SS_RULE_SCHEDULING_GROUP, SS_REASON_UNSUPPORTED_SCHEDULING_GROUP},
        {META("\"labels\":{\"pod-group.scheduling.run.ai/name\":\"g\"}"), SS_KUBE_WARN_FOREIGN_GANG,
         SS_RULE_POD_GROUP, SS_REASON_UNSUPPORTED_POD_GROUP},
        {META("\"annotations\":{\"scheduling.volcano.sh/group-name\":\"g\"}"),
         SS_KUBE_WARN_FOREIGN_GANG, SS_RULE_POD_GROUP, SS_REASON_UNSUPPORTED_POD_GROUP},
        {META("\"annotations\":{\"pod-group-name\":\"g\"}"), SS_KUBE_WARN_FOREIGN_GANG,
         SS_RULE_POD_GROUP, SS_REASON_UNSUPPORTED_POD_GROUP},
        {META("\"annotations\":{\"kueue.x-k8s.io/podset-required-topology\":"
              "\"topology.kubernetes.io/rack\"}"),
         SS_KUBE_WARN_TOPOLOGY_REF, SS_RULE_TOPOLOGY, SS_REASON_UNSUPPORTED_TOPOLOGY},
        {META("\"annotations\":{\"kueue.x-k8s.io/podset-slice-required-topology\":"
              "\"topology.kubernetes.io/rack\"}"),
         SS_KUBE_WARN_TOPOLOGY_REF, SS_RULE_TOPOLOGY, SS_REASON_UNSUPPORTED_TOPOLOGY},
        {META("\"annotations\":{\"kai.scheduler/topology-required-placement\":\"rack\"}"),
         SS_KUBE_WARN_TOPOLOGY_REF, SS_RULE_TOPOLOGY, SS_REASON_UNSUPPORTED_TOPOLOGY},
        {POD(",\"schedulingGates\":[{\"name\":\"kueue.x-k8s.io/topology\"},{\"name\":\"x.io/g\"}]"),
         SS_KUBE_WARN_SCHEDULING_GATES, SS_RULE_SCHEDULING_GATES,
         SS_REASON_UNSUPPORTED_SCHEDULING_GATES},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("case %zu\n", i);
        ss_kube_opts_t o = quiet();
        ss_cluster_t *c = NULL;
        ss_kube_report_t rep;
        ss_error_t err = {{0}};
        int rc = ss_kube_import_strings(NODE_OK, cases[i].pods, NULL, &o, &c, &rep, &err);
        if (rc)
            fail_msg("%s", err.text);
        assert_int_equal(rep.warn[cases[i].warn], 1);
        assert_int_equal(c->templates[c->pod_template[0]].unsupported, cases[i].bit);
        assert_int_equal(ss_sched_unsupported_reason(cases[i].bit), cases[i].reason);
        assert_int_equal(strncmp(ss_reason_text(cases[i].reason), "unsupported: ", 13), 0);
        ss_cluster_destroy(c);
        o.strict = true;
        c = (ss_cluster_t *)1;
        assert_int_equal(ss_kube_import_strings(NODE_OK, cases[i].pods, NULL, &o, &c, &rep, &err),
                         SS_EUNSUPPORTED);
        assert_null(c);
        char want[400];
        snprintf(want, sizeof want, "<pods>: ns/p: %s (--strict)",
                 ss_kube_warn_text(cases[i].warn));
        assert_string_equal(err.text, want);
    }
    /* the Kueue topology annotation of a member of a PodGroup that is read is read */
    ss_kube_opts_t o = quiet();
    ss_cluster_t *c = NULL;
    ss_kube_report_t rep;
    ss_error_t err = {{0}};
    assert_int_equal(
        ss_kube_import_strings(
            NODE_OK,
            META("\"labels\":{\"scheduling.x-k8s.io/pod-group\":\"g\"},\"annotations\":{"
                 "\"kueue.x-k8s.io/podset-required-topology\":\"topology.kubernetes.io/rack\"}"),
            "{\"kind\":\"PodGroup\",\"metadata\":{\"name\":\"g\",\"namespace\":\"ns\"},\"spec\":"
            "{\"minMember\":1}}",
            &o, &c, &rep, &err),
        0);
    assert_int_equal(c->templates[c->pod_template[0]].unsupported, 0);
    assert_int_equal(c->group_topo_mode[0], SS_TOPO_MODE_REQUIRED);
    ss_cluster_destroy(c);
#undef META
}

static void test_ss_kube_import_strings_list_structure(void **state)
{
    (void)state;
    expect_error(
        NODE_OK,
        "{\"kind\":\"List\",\"items\":[\n" POD("") ",\n{\"metadata\":{\"name\":\"q\"}}\n]} x", NULL,
        SS_EFORMAT, "<pods>:4:4: unexpected text after the document");
    expect_error(NODE_OK, "{\"kind\":\"List\",\"items\":[\n" POD(""), NULL, SS_EFORMAT,
                 "<pods>:2:130: unexpected end of file (truncated file?)");
    expect_error(NODE_OK, "{\"kind\":\"List\",\"items\":[\n" POD("") ",\n{\"kind\":\"Pod\",\"meta",
                 NULL, SS_EFORMAT, "<pods>:3:1: unterminated value (truncated file?)");
    expect_error(NODE_OK,
                 "{\"kind\":\"List\",\"items\":[\n{\"kind\":\"Pod\",\n\"metadata\":{\"name\":p}}]}",
                 NULL, SS_EFORMAT, "<pods>:3:20: invalid token near 'p'");
    expect_error(NODE_OK, "{\"kind\":\"List\",\"metadata\":{\"x\":},\"items\":[]}", NULL,
                 SS_EFORMAT, "<pods>:1:32: unexpected token near '}'");
    expect_error(NODE_OK, "", NULL, SS_EFORMAT,
                 "<pods>: empty file: expected a v1 List, an object or a JSON array of objects");
    expect_error(NODE_OK, "\"Pod\"", NULL, SS_EFORMAT,
                 "<pods>:1:1: expected a v1 List, an object or a JSON array of objects");
    /* a UTF-8 BOM and CRLF line ends are accepted */
    ss_kube_opts_t ob = quiet();
    ss_cluster_t *cb = NULL;
    ss_error_t eb = {{0}};
    assert_int_equal(ss_kube_import_strings("\xEF\xBB\xBF[\r\n" NODE_OK "\r\n]\r\n",
                                            "\xEF\xBB\xBF" POD(""), NULL, &ob, &cb, NULL, &eb),
                     0);
    assert_int_equal(cb->n_pods, 1);
    ss_cluster_destroy(cb);
    /* a List's other members may come after items; an item's own items member is its own */
    ss_kube_opts_t o = quiet();
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    assert_int_equal(
        ss_kube_import_strings(
            NODE_OK,
            "{\"items\":[" POD("") ", {\"kind\":\"Pod\",\"metadata\":{\"name\":\"q\"},"
                                   "\"spec\":{\"items\":[1]}}],\"kind\":\"PodList\",\"metadata\":"
                                   "{\"resourceVersion\":\"1\"}}",
            NULL, &o, &c, NULL, &err),
        0);
    assert_int_equal(c->n_pods, 2);
    ss_cluster_destroy(c);
}

/* A temporary directory for the file tests, removed by the caller. */
static void tmp_dir(char *dir)
{
    strcpy(dir, "/tmp/ss_kube_test_XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void test_ss_kube_import_files_directory(void **state)
{
    (void)state;
    ss_kube_opts_t o = quiet();
    ss_cluster_t *c = (ss_cluster_t *)1;
    ss_error_t err = {{0}};
    /* a folder: its .json/.yaml/.yml files in name order, the rest skipped */
    assert_int_equal(ss_kube_import_files(FIX, NULL, NULL, &o, &c, NULL, &err), 0);
    assert_int_equal(c->n_nodes, 3);
    assert_int_equal(c->n_groups, 2);
    ss_cluster_destroy(c);
    char dir[64];
    tmp_dir(dir);
    char note[96];
    snprintf(note, sizeof note, "%s/notes.txt", dir);
    write_text(note, "not an input");
    assert_int_equal(ss_kube_import_files(dir, NULL, NULL, &o, &c, NULL, &err), SS_EINVAL);
    char want[160];
    snprintf(want, sizeof want, "%s: folder holds no .json, .yaml or .yml file", dir);
    assert_string_equal(err.text, want);
    assert_null(c);
    remove(note);
    rmdir(dir);
    assert_int_equal(ss_kube_import_files(FIX "/none.json", NULL, NULL, &o, &c, NULL, &err),
                     SS_EIO);
    assert_string_equal(err.text, FIX "/none.json: cannot open: No such file or directory");
}

/* The same file by two names (x and ./x, or a/../a/x) is read once. */
static void test_ss_kube_import_files_same_file_twice(void **state)
{
    (void)state;
    ss_kube_opts_t o = quiet();
    ss_cluster_t *c = NULL;
    ss_kube_report_t rep;
    ss_error_t err = {{0}};
    int rc = ss_kube_import_files(FIX "/nodes.json", FIX "/../kube/./nodes.json", NULL, &o, &c,
                                  &rep, &err);
    if (rc)
        fail_msg("%s", err.text);
    int32_t nodes = c->n_nodes;
    ss_cluster_destroy(c);
    assert_int_equal(ss_kube_import_files(FIX "/nodes.json", NULL, NULL, &o, &c, &rep, &err), 0);
    assert_int_equal(c->n_nodes, nodes);
    ss_cluster_destroy(c);
}

/* A long path does not cut off the object, field and reason. */
static void test_ss_kube_import_files_long_path(void **state)
{
    (void)state;
    char dir[64], path[1200];
    tmp_dir(dir);
    snprintf(path, sizeof path, "%s", dir);
    for (int i = 0; i < 4; i++) {
        snprintf(path + strlen(path), sizeof path - strlen(path), "/%0200d", i);
        assert_int_equal(mkdir(path, 0700), 0);
    }
    strcat(path, "/nodes.json");
    write_text(path, "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\"},\"spec\":"
                     "{\"unschedulable\":\"true\"}}");
    ss_kube_opts_t o = quiet();
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    assert_int_equal(ss_kube_import_files(path, NULL, NULL, &o, &c, NULL, &err), SS_EFORMAT);
    char want[400];
    snprintf(want, sizeof want,
             "...%s: Node n: spec.unschedulable: expected true or false, got a string",
             path + strlen(path) - 157);
    assert_string_equal(err.text, want);
    char cmd[1300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
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
        cmocka_unit_test(test_ss_kube_import_strings_wrong_types),
        cmocka_unit_test(test_ss_kube_import_strings_selector_rules),
        cmocka_unit_test(test_ss_kube_import_strings_duplicates),
        cmocka_unit_test(test_ss_kube_import_strings_bad_names),
        cmocka_unit_test(test_ss_kube_import_strings_request_overflow),
        cmocka_unit_test(test_ss_kube_import_strings_unread_gangs),
        cmocka_unit_test(test_ss_kube_import_strings_list_structure),
        cmocka_unit_test(test_ss_kube_import_files_directory),
        cmocka_unit_test(test_ss_kube_import_files_same_file_twice),
        cmocka_unit_test(test_ss_kube_import_files_long_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
