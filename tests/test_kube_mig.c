/* test_kube_mig: MIG nodes and pods in the Kubernetes importer (issue 15):
 * hand-written kubectl JSON (tests/data/mig/) in the mixed strategy
 * (nvidia.com/mig-<profile> allocatable) and the single strategy
 * (nvidia.com/gpu with a -MIG-<profile> product label), with and without a
 * mig-parted configuration (--mig-config), MIG requests of pods, bad
 * configurations (a clear error naming the file and entry, nothing
 * written), inline JSON for the cases the files lack (no gpu.count,
 * capacity only, a single-strategy 3g node), and the imported MIG state through a snapshot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ss_kube_import.h"
#include "ss_mig.h"
#include "ss_snapshot.h"
#include "ss_state.h"
#include "ss_verify.h"

#include "ss_test_files.h"

#define DATA SS_TEST_DATA_DIR "/mig/"

static ss_kube_opts_t quiet(const char *config)
{
    ss_kube_opts_t o;
    ss_kube_opts_default(&o);
    o.log = NULL;
    o.mig_config_path = config;
    return o;
}

static ss_cluster_t *import(const char *nodes, const char *pods, const char *config)
{
    ss_kube_opts_t o = quiet(config);
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    if (ss_kube_import_files(nodes, pods, NULL, &o, &c, NULL, &err) < 0)
        fail_msg("import: %s", err.text);
    return c;
}

static int32_t node_named(const ss_cluster_t *c, const char *name)
{
    for (int32_t i = 0; i < c->n_nodes; i++)
        if (!strcmp(ss_cluster_strget(c, c->node_name[i]), name))
            return i;
    fail_msg("no node %s", name);
    return -1;
}

static int32_t pod_named(const ss_cluster_t *c, const char *name)
{
    for (int32_t i = 0; i < c->n_pods; i++)
        if (!strcmp(ss_cluster_strget(c, c->pod_name[i]), name))
            return i;
    fail_msg("no pod %s", name);
    return -1;
}

/* GPU j of node: "-" when not partitioned, else "profile@start ..." */
static const char *gpu_layout(const ss_cluster_t *c, const char *node, int j)
{
    static char buf[256];
    int32_t g = c->node_gpu_begin[node_named(c, node)] + j;
    size_t at = 0;
    if (!c->gpu_mig_model[g])
        return "-";
    at += (size_t)snprintf(buf, sizeof buf, "%s:", ss_cluster_strget(c, c->gpu_mig_model[g]));
    for (int32_t i = 0; i < c->gpu_mig_count[g]; i++) {
        const ss_mig_instance_t *x = &c->mig_insts[c->gpu_mig_begin[g] + i];
        at += (size_t)snprintf(buf + at, sizeof buf - at, " %s@%d",
                               ss_cluster_strget(c, x->profile), (int)x->start);
    }
    return buf;
}

static void check_mixed(const ss_cluster_t *c, bool config)
{
    int32_t a = node_named(c, "a100-mixed"), h = node_named(c, "h100-mixed");
    assert_int_equal(c->node_gpu_count[a], 4); /* nvidia.com/gpu.count, not nvidia.com/gpu */
    assert_string_equal(gpu_layout(c, "a100-mixed", 0), "-");
    assert_string_equal(gpu_layout(c, "a100-mixed", 1), "-");
    assert_string_equal(gpu_layout(c, "a100-mixed", 2), "A100-40GB: 3g.20gb@0 3g.20gb@4");
    assert_string_equal(gpu_layout(c, "a100-mixed", 3),
                        "A100-40GB: 1g.5gb@0 1g.5gb@1 1g.5gb@2 1g.5gb@3 1g.5gb@4 1g.5gb@5 "
                        "1g.5gb@6");
    assert_int_equal(c->node_gpu_count[h], 2);
    /* the canonical split puts the whole GPUs first; the config says GPU 0 */
    assert_string_equal(gpu_layout(c, "h100-mixed", config ? 0 : 1),
                        "H100-80GB: 4g.40gb@0 3g.40gb@4");
    assert_string_equal(gpu_layout(c, "h100-mixed", config ? 1 : 0), "-");
    assert_string_equal(gpu_layout(c, "h200-me", 0), "H200-141GB: 1g.18gb+me@0");
    assert_int_equal(c->node_gpu_count[node_named(c, "plain")], 8);
    for (int j = 0; j < 8; j++)
        assert_string_equal(gpu_layout(c, "plain", j), "-");
}

static void check_pods(const ss_cluster_t *c)
{
    const ss_template_t *t = &c->templates[c->pod_template[pod_named(c, "infer-0")]];
    assert_string_equal(ss_cluster_strget(c, t->mig_profile), "1g.5gb");
    assert_int_equal(t->mig_count, 2);
    assert_int_equal(t->req.gpu_count, 0);
    assert_int_equal(t->unsupported, 0); /* the engine places MIG pods (format v4) */
    t = &c->templates[c->pod_template[pod_named(c, "media-0")]];
    assert_string_equal(ss_cluster_strget(c, t->mig_profile), "1g.18gb+me");
    assert_int_equal(c->n_ext, 0); /* MIG resources are no extended resources */
    int32_t run = pod_named(c, "infer-run");
    t = &c->templates[c->pod_template[run]];
    assert_string_equal(ss_cluster_strget(c, t->mig_profile), "3g.20gb");
    assert_int_equal(t->unsupported, 0);
    assert_int_equal(c->pod_gpu_mask[run], 1); /* the first free 3g.20gb instance */
    int32_t train = pod_named(c, "train-run"); /* a whole GPU: the first not in MIG mode */
    assert_int_equal(c->pod_gpu_mask[train], 1);
    assert_int_equal(c->templates[c->pod_template[train]].mig_count, 0);
}

static void test_mixed_canonical(void **state)
{
    (void)state;
    ss_cluster_t *c = import(DATA "nodes-mixed.json", DATA "pods.json", NULL);
    check_mixed(c, false);
    check_pods(c);
    ss_cluster_destroy(c);
}

static void test_mixed_config(void **state)
{
    (void)state;
    ss_cluster_t *c = import(DATA "nodes-mixed.json", DATA "pods.json", DATA "mig-config.yaml");
    check_mixed(c, true);
    check_pods(c);
    /* the MIG state survives a snapshot */
    ss_cluster_t *r = NULL;
    ss_error_t err = {{0}};
    assert_int_equal(ss_snapshot_write(wpath("mig.h5"), c, &err), 0);
    if (ss_snapshot_read(wpath("mig.h5"), &r, &err) < 0)
        fail_msg("%s", err.text);
    check_mixed(r, true);
    check_pods(r);
    ss_cluster_destroy(r);
    ss_cluster_destroy(c);
}

static void test_single(void **state)
{
    (void)state;
    for (int cfg = 0; cfg < 2; cfg++) {
        ss_cluster_t *c = import(DATA "nodes-single.json", DATA "pods-single.json",
                                 cfg ? DATA "mig-config.yaml" : NULL);
        int32_t n = node_named(c, "a100-single");
        assert_int_equal(c->node_gpu_count[n], 2); /* 14 MIG devices, 7 per GPU */
        for (int j = 0; j < 2; j++)
            assert_string_equal(gpu_layout(c, "a100-single", j),
                                "A100-40GB: 1g.5gb@0 1g.5gb@1 1g.5gb@2 1g.5gb@3 1g.5gb@4 "
                                "1g.5gb@5 1g.5gb@6");
        int32_t p = pod_named(c, "slice-run");
        const ss_template_t *t = &c->templates[c->pod_template[p]];
        assert_string_equal(ss_cluster_strget(c, t->mig_profile), "1g.5gb");
        assert_int_equal(t->mig_count, 2);
        assert_int_equal(t->req.gpu_count, 0);
        assert_int_equal(c->pod_gpu_mask[p], 3); /* the first two 1g.5gb instances */
        ss_cluster_destroy(c);
    }
}

static void expect_error(const char *nodes, const char *config, const char *const *want)
{
    ss_kube_opts_t o = quiet(config);
    ss_cluster_t *c = (ss_cluster_t *)1;
    ss_error_t err = {{0}};
    assert_true(ss_kube_import_strings(nodes, NULL, NULL, &o, &c, NULL, &err) < 0);
    assert_null(c);
    print_message("expected error: %s\n", err.text);
    for (; *want; want++)
        if (!strstr(err.text, *want))
            fail_msg("'%s' lacks '%s'", err.text, *want);
}

#define NODE(labels, alloc)                                                                        \
    "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\",\"labels\":{" labels "}},"                   \
    "\"status\":{\"allocatable\":{\"cpu\":\"8\"," alloc "}}}"

static void test_bad_input(void **state)
{
    (void)state;
    const char *cfg = DATA "mig-config.yaml", *bad = DATA "mig-config-bad.yaml";
    const char *a100 = "\"nvidia.com/gpu.product\":\"NVIDIA-A100-SXM4-40GB\","
                       "\"nvidia.com/gpu.count\":\"1\",";
    char nodes[1024];
    /* an entry naming a profile of another GPU */
    snprintf(
        nodes, sizeof nodes,
        NODE("%s\"nvidia.com/mig.config\":\"custom-a100\"", "\"nvidia.com/mig-3g.20gb\":\"2\""),
        a100);
    expect_error(nodes, bad,
                 (const char *const[]){bad, "mig-configs.custom-a100[0].mig-devices",
                                       "'3g.40gb' is not a MIG profile of A100-40GB", NULL});
    /* the label names no entry */
    snprintf(nodes, sizeof nodes,
             NODE("%s\"nvidia.com/mig.config\":\"all-9g\"", "\"nvidia.com/mig-3g.20gb\":\"2\""),
             a100);
    expect_error(nodes, cfg, (const char *const[]){cfg, "has no entry 'all-9g'", "Node n1", NULL});
    /* the entry disagrees with the allocatable */
    snprintf(nodes, sizeof nodes,
             NODE("%s\"nvidia.com/mig.config\":\"all-1g.5gb\"", "\"nvidia.com/mig-3g.20gb\":\"2\""),
             a100);
    expect_error(nodes, cfg,
                 (const char *const[]){cfg,
                                       "mig-configs.all-1g.5gb gives 0 whole GPU(s), "
                                       "7 1g.5gb on 1 GPU(s)",
                                       "shows 0 whole GPU(s), 2 3g.20gb", NULL});
    /* the counts fit no layout of the node's GPUs */
    snprintf(nodes, sizeof nodes, NODE("%s\"x\":\"y\"", "\"nvidia.com/mig-3g.20gb\":\"3\""), a100);
    expect_error(nodes, NULL,
                 (const char *const[]){"Node n1", "does not fit 1 A100-40GB GPU(s)", NULL});
    /* a profile the GPU does not have; a GPU without MIG */
    snprintf(nodes, sizeof nodes, NODE("%s\"x\":\"y\"", "\"nvidia.com/mig-3g.40gb\":\"1\""), a100);
    expect_error(nodes, NULL,
                 (const char *const[]){"Node n1", "status.allocatable.nvidia.com/mig-3g.40gb",
                                       "not a MIG profile", NULL});
    expect_error(NODE("\"nvidia.com/gpu.product\":\"Tesla-V100-SXM2-32GB-MIG-1g.5gb\"",
                      "\"nvidia.com/gpu\":\"7\""),
                 NULL, (const char *const[]){"Node n1", "names no MIG profile", NULL});
    /* a broken or missing config file */
    snprintf(nodes, sizeof nodes, NODE("%s\"x\":\"y\"", "\"nvidia.com/mig-3g.20gb\":\"2\""), a100);
    expect_error(nodes, DATA "nodes-mixed.json",
                 (const char *const[]){"nodes-mixed.json", "no mig-configs mapping", NULL});
    expect_error(nodes, DATA "no-such.yaml",
                 (const char *const[]){"no-such.yaml", "cannot open", NULL});
}

/* A GPU in MIG mode takes no whole-GPU or shared pod: a-100-mixed's two
 * whole GPUs are the only ones a GPU pod gets. */
static void test_mig_gpus_not_whole(void **state)
{
    (void)state;
    ss_cluster_t *c = import(DATA "nodes-mixed.json", NULL, NULL);
    ss_state_t *s = ss_state_create(c);
    assert_non_null(s);
    int32_t n = node_named(c, "a100-mixed");
    ss_template_t t = {0};
    t.req = (ss_request_t){.cpu_milli = 1000, .gpu_count = 2, .gpu_milli = 1000};
    assert_int_equal(ss_state_pick_gpus(s, &t, n), 3);
    t.req.gpu_count = 3;
    assert_true(ss_state_pick_gpus(s, &t, n) == UINT64_MAX);
    t.req.gpu_count = 1, t.req.gpu_milli = 500; /* time-sliced share */
    ss_state_apply(s, &t, n, 1, +1);
    ss_state_apply(s, &t, n, 2, +1);
    ss_state_apply(s, &t, n, 1, +1);
    ss_state_apply(s, &t, n, 2, +1);
    assert_true(ss_state_pick_gpus(s, &t, n) == UINT64_MAX);
    ss_state_destroy(s);
    ss_cluster_destroy(c);
}

/* verify refuses a whole-GPU pod on a GPU in MIG mode. */
static void test_verify_mig_gpu(void **state)
{
    (void)state;
    FILE *f = fopen(wpath("train.json"), "w");
    assert_non_null(f);
    fputs("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"train\",\"namespace\":\"ml\"},"
          "\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{\"limits\":"
          "{\"nvidia.com/gpu\":\"1\"}}}]}}",
          f);
    fclose(f);
    ss_cluster_t *c = import(DATA "nodes-mixed.json", wpath("train.json"), NULL);
    for (int bit = 0; bit < 4; bit++) {
        ss_placements_t *p = ss_placements_create(1);
        assert_non_null(p);
        p->pod[0] = pod_named(c, "train");
        p->node[0] = node_named(c, "a100-mixed");
        p->reason[0] = 0;
        p->gpu_mask[0] = UINT64_C(1) << bit;
        p->seq[0] = 0;
        ss_verify_report_t rep;
        ss_error_t err = {{0}};
        int64_t v = ss_verify(c, p, &rep, &err);
        assert_int_equal(v, bit >= 2); /* GPUs 2 and 3 are in MIG mode */
        if (v > 0)
            assert_non_null(strstr(rep.messages[0], "in MIG mode"));
        ss_verify_report_free(&rep);
        ss_placements_destroy(p);
    }
    ss_cluster_destroy(c);
}

/* The command line: a bad configuration writes nothing. */
static void test_cli_writes_nothing(void **state)
{
    (void)state;
    char cmd[2048];
    const char *out = wpath("bad.h5");
    snprintf(cmd, sizeof cmd,
             "%s import -q --nodes %s --pods %s --mig-config %s -o %s 2>%s; echo $? > %s",
             SS_BINARY, DATA "nodes-mixed.json", DATA "pods.json", DATA "mig-config-bad.yaml", out,
             wpath("stderr"), wpath("rc"));
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen(wpath("rc"), "r");
    int rc = -1;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d", &rc), 1);
    fclose(f);
    assert_int_equal(rc, 1);
    assert_false(exists(out));
    assert_false(tmp_left());
    char msg[2048] = {0};
    f = fopen(wpath("stderr"), "r");
    assert_non_null(f);
    size_t n = fread(msg, 1, sizeof msg - 1, f);
    fclose(f);
    msg[n] = 0;
    print_message("stderr: %s", msg);
    assert_non_null(strstr(msg, "mig-config-bad.yaml: mig-configs.custom-a100[0].mig-devices"));
    /* and the good one writes a snapshot */
    snprintf(cmd, sizeof cmd, "%s import -q --nodes %s --pods %s --mig-config %s -o %s", SS_BINARY,
             DATA "nodes-mixed.json", DATA "pods.json", DATA "mig-config.yaml", wpath("good.h5"));
    assert_int_equal(system(cmd), 0);
    assert_true(exists(wpath("good.h5")));
}

/* Hand-written kubectl JSON for what the files above lack: a mixed node
 * without nvidia.com/gpu.count (as few MIG GPUs as the counts need, first
 * fit, larger profiles first: the 3g and four 1g, whose canonical placement
 * moves the 3g to slice 4, then five 1g) whose counts are in status.capacity only; a
 * single-strategy node of a 3g profile with nvidia.com/gpu.count; pods
 * asking for MIG devices both ways. */
static void test_hand_written_strategies(void **state)
{
    (void)state;
    const char *nodes =
        "{\"kind\":\"List\",\"items\":["
        "{\"kind\":\"Node\",\"metadata\":{\"name\":\"mixed-nocount\",\"labels\":{"
        "\"nvidia.com/gpu.product\":\"NVIDIA-H100-80GB-HBM3\",\"nvidia.com/"
        "mig.strategy\":\"mixed\","
        "\"nvidia.com/mig.config\":\"custom\"}},"
        "\"status\":{\"capacity\":{\"cpu\":\"64\",\"memory\":\"512Gi\",\"pods\":\"110\","
        "\"nvidia.com/gpu\":\"1\",\"nvidia.com/mig-1g.10gb\":\"9\","
        "\"nvidia.com/mig-3g.40gb\":\"1\"}}},"
        "{\"kind\":\"Node\",\"metadata\":{\"name\":\"single-3g\",\"labels\":{"
        "\"nvidia.com/gpu.product\":\"NVIDIA-H100-80GB-HBM3-MIG-3g.40gb\","
        "\"nvidia.com/gpu.count\":\"2\",\"nvidia.com/mig.strategy\":\"single\","
        "\"nvidia.com/mig.config\":\"all-3g.40gb\"}},"
        "\"status\":{\"allocatable\":{\"cpu\":\"64\",\"memory\":\"512Gi\",\"pods\":\"110\","
        "\"nvidia.com/gpu\":\"4\"}}}]}";
    const char *pods =
        "{\"kind\":\"List\",\"items\":["
        "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"run-3g\",\"namespace\":\"ml\"},"
        "\"spec\":{\"nodeName\":\"single-3g\",\"containers\":[{\"name\":\"c\",\"resources\":"
        "{\"requests\":{\"nvidia.com/gpu\":\"1\"},\"limits\":{\"nvidia.com/gpu\":\"1\"}}}]},"
        "\"status\":{\"phase\":\"Running\"}},"
        "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"run-1g\",\"namespace\":\"ml\"},"
        "\"spec\":{\"nodeName\":\"mixed-nocount\",\"containers\":[{\"name\":\"c\",\"resources\":"
        "{\"limits\":{\"nvidia.com/mig-1g.10gb\":\"3\"}}}]},\"status\":{\"phase\":\"Running\"}},"
        "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"wait-3g\",\"namespace\":\"ml\"},"
        "\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":"
        "{\"cpu\":\"1\",\"nvidia.com/mig-3g.40gb\":\"1\"},\"limits\":"
        "{\"nvidia.com/mig-3g.40gb\":\"1\"}}}]},\"status\":{\"phase\":\"Pending\"}}]}";
    ss_kube_opts_t o = quiet(NULL);
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    if (ss_kube_import_strings(nodes, pods, NULL, &o, &c, NULL, &err) < 0)
        fail_msg("import: %s", err.text);
    assert_int_equal(c->node_gpu_count[node_named(c, "mixed-nocount")], 3);
    assert_string_equal(gpu_layout(c, "mixed-nocount", 0), "-");
    assert_string_equal(gpu_layout(c, "mixed-nocount", 1),
                        "H100-80GB: 1g.10gb@0 1g.10gb@1 1g.10gb@2 1g.10gb@3 3g.40gb@4");
    assert_string_equal(gpu_layout(c, "mixed-nocount", 2),
                        "H100-80GB: 1g.10gb@0 1g.10gb@1 1g.10gb@2 1g.10gb@3 1g.10gb@4");
    assert_int_equal(c->node_gpu_count[node_named(c, "single-3g")], 2);
    for (int j = 0; j < 2; j++)
        assert_string_equal(gpu_layout(c, "single-3g", j), "H100-80GB: 3g.40gb@0 3g.40gb@4");
    static const struct {
        const char *pod, *profile;
        int count;
        bool pending;
    } want[3] = {{"run-3g", "3g.40gb", 1, false},
                 {"run-1g", "1g.10gb", 3, false},
                 {"wait-3g", "3g.40gb", 1, true}};
    for (int i = 0; i < 3; i++) {
        int32_t p = pod_named(c, want[i].pod);
        const ss_template_t *t = &c->templates[c->pod_template[p]];
        assert_string_equal(ss_cluster_strget(c, t->mig_profile), want[i].profile);
        assert_int_equal(t->mig_count, want[i].count);
        assert_int_equal(t->req.gpu_count, 0);
        assert_int_equal(t->unsupported, 0); /* placed by the engine, pending or not */
        assert_int_equal(c->pod_node[p] < 0, want[i].pending);
    }
    assert_int_equal(c->n_ext, 0);
    ss_cluster_destroy(c);
}

static int setup(void **state)
{
    (void)state;
    return ss_test_workdir_make("ss_test_kube_mig");
}

static int teardown(void **state)
{
    (void)state;
    return ss_test_workdir_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mixed_canonical),
        cmocka_unit_test(test_mixed_config),
        cmocka_unit_test(test_single),
        cmocka_unit_test(test_hand_written_strategies),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_cli_writes_nothing),
        cmocka_unit_test(test_mig_gpus_not_whole),
        cmocka_unit_test(test_verify_mig_gpu),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
