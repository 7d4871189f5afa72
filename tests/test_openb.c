/* test_openb: the OpenB CSV importer (io/ss_openb.c): a tiny good trace,
 * every kind of bad input (missing column, non-numeric field, negative
 * request, unknown GPU model), nothing written on error, and the real trace's
 * counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ss_openb.h"
#include "ss_trace.h"

static char dir[256];

static const char *write_file(const char *name, const char *text)
{
    static char path[8][512];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 512, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static const char *NODES = "sn,cpu_milli,memory_mib,gpu,model\n"
                           "n0,64000,1024,2,V100M16\n"
                           "n1,32000,2048,0,\n";
static const char *PODS_HDR =
    "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,"
    "deletion_time,scheduled_time\n";

static void load_expect_error(const char *pods_body, const char *want1, const char *want2)
{
    char text[2048];
    snprintf(text, sizeof text, "%s%s", PODS_HDR, pods_body);
    const char *n = write_file("nodes.csv", NODES), *p = write_file("pods.csv", text);
    char out[512];
    snprintf(out, sizeof out, "%s/out.h5", dir);
    unlink(out);
    ss_error_t err = {{0}};
    int rc = ss_openb_import(n, p, out, &err);
    assert_int_equal(rc, SS_EFORMAT);
    if (!strstr(err.text, want1) || (want2 && !strstr(err.text, want2)))
        fail_msg("message '%s' lacks '%s' / '%s'", err.text, want1, want2 ? want2 : "");
    assert_int_not_equal(access(out, F_OK), 0); /* nothing written */
}

static void test_openb_load_good(void **state)
{
    (void)state;
    char text[1024];
    snprintf(text, sizeof text, "%s%s", PODS_HDR,
             "pb,1000,512,1,500,,LS,Running,5,,\n"
             "pa,1000,512,1,500,,LS,Running,3,9,3\n"
             "pc,2000,256,0,0,,BE,Pending,7,8,\n"
             "pd,1000,512,1,500,V100M16,LS,Failed,1,2,1\n");
    const char *n = write_file("nodes.csv", NODES), *p = write_file("trace_x.csv", text);
    ss_cluster_t *c;
    ss_trace_t *t;
    ss_error_t err = {{0}};
    assert_int_equal(ss_openb_load(n, p, &c, &t, &err), 0);
    assert_int_equal(c->n_nodes, 2);
    assert_int_equal(c->n_gpus, 2);
    assert_int_equal(c->node_mem[1], 2048ll << 20);
    assert_int_equal(c->n_pods, 4);
    assert_int_equal(c->n_templates, 3); /* pa and pb share a shape; pd's gpu_spec differs */
    assert_int_equal(c->pod_template[0], c->pod_template[1]);
    assert_int_equal(c->templates[c->pod_template[3]].model_count, 1);
    assert_int_equal(t->creation[1], 3);
    assert_int_equal(t->deletion[1], 9);
    assert_true(t->deletion[0] == SS_TRACE_NO_TIME);
    assert_string_equal(t->name, "trace_x");
    for (int i = 0; i < 4; i++)
        assert_int_equal(c->pod_node[i], -1);
    ss_cluster_destroy(c);
    ss_trace_destroy(t);
}

static void test_openb_import_missing_column(void **state)
{
    (void)state;
    const char *n = write_file("nodes.csv", NODES);
    const char *p = write_file("pods.csv", "name,cpu_milli,num_gpu,gpu_milli,gpu_spec,"
                                           "creation_time,deletion_time\npa,1,0,0,,0,1\n");
    ss_error_t err = {{0}};
    ss_cluster_t *c;
    ss_trace_t *t;
    assert_int_equal(ss_openb_load(n, p, &c, &t, &err), SS_EFORMAT);
    assert_non_null(strstr(err.text, "pods.csv:1: missing column 'memory_mib'"));
    assert_null(c);
}

static void test_openb_import_non_numeric(void **state)
{
    (void)state;
    load_expect_error("pa,1000,512,0,0,,LS,Running,0,1,0\npb,12x,512,0,0,,LS,Running,0,1,0\n",
                      "pods.csv:3: column 2 (cpu_milli): '12x' is not an integer", NULL);
}

static void test_openb_import_negative_request(void **state)
{
    (void)state;
    load_expect_error("pa,1000,-5,0,0,,LS,Running,0,1,0\n",
                      "pods.csv:2: column 3 (memory_mib): '-5' is negative", NULL);
}

static void test_openb_import_unknown_model(void **state)
{
    (void)state;
    load_expect_error("pa,1000,5,1,500,V100M16|H100,LS,Running,0,1,0\n", "pods.csv:2: column 6",
                      "unknown GPU model 'H100'");
}

static void test_openb_import_bad_gpu_request(void **state)
{
    (void)state;
    load_expect_error("pa,1000,5,2,500,,LS,Running,0,1,0\n", "column 5 (gpu_milli)",
                      "must be 1000");
}

static void test_openb_load_real_trace(void **state)
{
    (void)state;
    ss_cluster_t *c;
    ss_trace_t *t;
    ss_error_t err = {{0}};
    int rc = ss_openb_load(SS_TEST_DATA_DIR "/openb/openb_node_list_gpu_node.csv",
                           SS_TEST_DATA_DIR "/openb/openb_pod_list_default.csv", &c, &t, &err);
    if (rc)
        fail_msg("%s", err.text);
    assert_int_equal(c->n_nodes, 1213);
    assert_int_equal(c->n_gpus, 6212);
    assert_int_equal(c->n_pods, 8152);
    assert_string_equal(t->name, "openb_pod_list_default");
    ss_cluster_destroy(c);
    ss_trace_destroy(t);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/test_openb.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openb_load_good),
        cmocka_unit_test(test_openb_import_missing_column),
        cmocka_unit_test(test_openb_import_non_numeric),
        cmocka_unit_test(test_openb_import_negative_request),
        cmocka_unit_test(test_openb_import_unknown_model),
        cmocka_unit_test(test_openb_import_bad_gpu_request),
        cmocka_unit_test(test_openb_load_real_trace),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}
