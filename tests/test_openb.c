/* test_openb: the OpenB CSV importer (io/ss_openb.c): a tiny good trace,
 * every kind of bad input (missing column, non-numeric field, negative
 * request, unknown GPU model), nothing written on error, the real trace's
 * counts, the published column sets, BOM and CR LF, and the messages. */
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
    int rc = ss_openb_import(n, p, out, NULL, &err);
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
    const char *p = write_file("pods.csv", "name,memory_mib,num_gpu,gpu_milli,gpu_spec,"
                                           "creation_time,deletion_time\npa,1,0,0,,0,1\n");
    ss_error_t err = {{0}};
    ss_cluster_t *c;
    ss_trace_t *t;
    assert_int_equal(ss_openb_load(n, p, &c, &t, &err), SS_EFORMAT);
    assert_non_null(strstr(err.text, "pods.csv:1: missing column 'cpu_milli'"));
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

/* Issue 10, item 19: the five-column pod lists (name .. gpu_milli) and the
 * simulator's "nomem" one import with the FGD simulator's defaults. */
static void test_openb_load_short_column_sets(void **state)
{
    (void)state;
    const char *n = write_file("nodes.csv", NODES);
    const char *p5 = write_file("p5.csv", "name,cpu_milli,memory_mib,num_gpu,gpu_milli\n"
                                          "pa,1000,512,1,500\n"
                                          "pb,2000,256,0,0\n"
                                          "pc,4000,128,2,1000\n");
    ss_cluster_t *c;
    ss_trace_t *t;
    ss_error_t err = {{0}};
    if (ss_openb_load(n, p5, &c, &t, &err))
        fail_msg("%s", err.text);
    assert_int_equal(c->n_pods, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(t->creation[i], 0); /* all at once, as the simulator creates them */
        assert_true(t->deletion[i] == SS_TRACE_NO_TIME);                   /* and never deleted */
        assert_int_equal(c->templates[c->pod_template[i]].model_count, 0); /* any model */
    }
    assert_int_equal(c->templates[c->pod_template[0]].req.gpu_milli, 500);
    assert_int_equal(c->templates[c->pod_template[2]].req.gpu_count, 2);
    ss_cluster_destroy(c);
    ss_trace_destroy(t);
    /* no memory_mib (the simulator's openb_pod_list_nomem.csv) and no
     * gpu_milli: memory 0, whole GPUs */
    const char *pn = write_file("pn.csv", "name,cpu_milli,num_gpu,gpu_spec,creation_time,"
                                          "deletion_time\n"
                                          "pa,1000,1,V100M16,5,9\n"
                                          "pb,2000,0,,7,\n");
    if (ss_openb_load(n, pn, &c, &t, &err))
        fail_msg("%s", err.text);
    assert_int_equal(c->templates[c->pod_template[0]].req.memory, 0);
    assert_int_equal(c->templates[c->pod_template[0]].req.gpu_milli, 1000);
    assert_int_equal(c->templates[c->pod_template[1]].req.gpu_milli, 0);
    assert_int_equal(c->templates[c->pod_template[0]].model_count, 1);
    assert_int_equal(t->creation[0], 5);
    assert_int_equal(t->deletion[0], 9);
    assert_true(t->deletion[1] == SS_TRACE_NO_TIME);
    ss_cluster_destroy(c);
    ss_trace_destroy(t);
    /* the columns still required */
    const char *bad = write_file("pbad.csv", "name,cpu_milli,memory_mib,gpu_milli\npa,1,1,0\n");
    assert_int_equal(ss_openb_load(n, bad, &c, &t, &err), SS_EFORMAT);
    assert_non_null(strstr(err.text, "pbad.csv:1: missing column 'num_gpu'"));
}

/* Issue 10, items 18 and 19: a UTF-8 byte order mark and CR LF line ends,
 * in both files, read like the plain file (the BOM used to hide the first
 * column: "missing column 'sn'"). */
static void test_openb_load_bom_crlf(void **state)
{
    (void)state;
    const char *n = write_file("nodes_bom.csv", "\xef\xbb\xbfsn,cpu_milli,memory_mib,gpu,model\r\n"
                                                "n0,64000,1024,2,V100M16\r\n"
                                                "n1,32000,2048,0,\r\n");
    const char *p = write_file("pods_bom.csv", "\xef\xbb\xbfname,cpu_milli,memory_mib,num_gpu,"
                                               "gpu_milli,gpu_spec,creation_time,deletion_time\r\n"
                                               "pa,1000,512,1,500,V100M16,3,9\r\n"
                                               "pb,2000,256,0,0,,4,\r\n");
    ss_cluster_t *c;
    ss_trace_t *t;
    ss_error_t err = {{0}};
    if (ss_openb_load(n, p, &c, &t, &err))
        fail_msg("%s", err.text);
    assert_int_equal(c->n_nodes, 2);
    assert_string_equal(ss_cluster_strget(c, c->node_name[0]), "n0");
    assert_string_equal(ss_cluster_strget(c, c->pod_name[0]), "pa");
    assert_int_equal(c->n_pods, 2);
    assert_int_equal(t->deletion[0], 9);
    assert_true(t->deletion[1] == SS_TRACE_NO_TIME); /* "\r" is no value */
    ss_cluster_destroy(c);
    ss_trace_destroy(t);
    /* line numbers still count CR LF lines */
    const char *q =
        write_file("pods_crlf_bad.csv", "name,cpu_milli,num_gpu\r\npa,1,0\r\npb,x,0\r\n");
    assert_int_equal(ss_openb_load(n, q, &c, &t, &err), SS_EFORMAT);
    if (!strstr(err.text, "pods_crlf_bad.csv:3: column 2 (cpu_milli): 'x' is not an integer"))
        fail_msg("%s", err.text);
}

/* Issue 10, item 18: every CSV error names the file, the line and the
 * column; a directory says so. */
static void test_openb_import_messages(void **state)
{
    (void)state;
    const char *n = write_file("nodes.csv", NODES);
    ss_cluster_t *c;
    ss_trace_t *t;
    ss_error_t err = {{0}};
    assert_int_equal(ss_openb_load(dir, n, &c, &t, &err), SS_EIO);
    if (!strstr(err.text, dir) || !strstr(err.text, "is a directory"))
        fail_msg("%s", err.text);
    assert_int_equal(ss_openb_load(n, dir, &c, &t, &err), SS_EIO);
    assert_non_null(strstr(err.text, "is a directory"));
    static const struct {
        const char *body, *want;
    } rows[] = {
        {"name,cpu_milli,num_gpu\npa,1,0\npb,1,0,7\n", "x.csv:3: more fields than the 3 of"},
        {"name,cpu_milli,num_gpu,name\npa,1,0,pb\n",
         "x.csv:1: column 'name' appears twice in the header (columns 1 and 4)"},
        {"name,cpu_milli,num_gpu\npa,1,0\n\"pb,1,0\n", "x.csv:3: field 1:"},
        {"name,cpu_milli,num_gpu\npa,1\n", "x.csv:2: column 3 (num_gpu) missing: row has 2"},
        {"", "x.csv:1: empty file"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        const char *p = write_file("x.csv", rows[i].body);
        assert_int_equal(ss_openb_load(n, p, &c, &t, &err) < 0, 1);
        if (!strstr(err.text, rows[i].want))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.text, rows[i].want);
        assert_null(c);
    }
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
        cmocka_unit_test(test_openb_load_short_column_sets),
        cmocka_unit_test(test_openb_load_bom_crlf),
        cmocka_unit_test(test_openb_import_messages),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}
