/* Tests of the HDF5 snapshot format (io/ss_snapshot.c, io/ss_h5util.c):
 * round trips of a hand-built cluster that has every kind of field and of
 * placements, byte-identical rewrites, row-range reads, and bad input
 * (truncated file, missing dataset, wrong type, disagreeing lengths,
 * negative/absurd values, dangling references, newer versions, unwritable
 * paths), each giving one line that names the file and dataset and leaving
 * no file behind at the output path. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ss_h5util.h"
#include "ss_reason.h"
#include "ss_snapshot.h"
#include "ss_summary.h"

#include "ss_test_files.h"

/* A small cluster with every kind of field: two extended resources, nodes in
 * two zones (given out of order, then sorted), labels, taints, GPUs, a
 * cordoned node, templates with selectors, required and preferred affinity,
 * tolerations, models, pod labels and an unsupported rule, running pods with
 * a GPU mask, pending pods and a pod group. */
static ss_cluster_t *build(void)
{
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
    assert_int_equal(ss_cluster_add_ext(c, "example.com/fpga"), 0);
    assert_int_equal(ss_cluster_add_ext(c, "hugepages-2Mi"), 1);
#define S(x) ss_cluster_str(c, x)
    int32_t lz = ss_cluster_add_label(c, S("disk"), S("ssd"));
    ss_cluster_add_label(c, S("pool"), S("gpu"));
    int32_t tz = ss_cluster_add_taint(c, S("nvidia.com/gpu"), S("present"), SS_EFFECT_NO_SCHEDULE);
    ss_cluster_add_taint(c, S("spot"), S(""), SS_EFFECT_PREFER_NO_SCHEDULE);
    int32_t g0 = ss_cluster_add_gpu(c, S("A100"), 1000);
    ss_cluster_add_gpu(c, S("A100"), 1000);
    ss_cluster_add_gpu(c, S("V100M32"), 1000);
    int32_t gm = ss_cluster_add_gpu(c, S("NVIDIA-H100-80GB-HBM3"), 1000); /* MIG: 4g + 3g */
    ss_mig_instance_t mig[2] = {{S("4g.40gb"), 0}, {S("3g.40gb"), 4}};
    assert_int_equal(ss_cluster_set_gpu_mig(c, gm, S("H100-80GB"), mig, 2), 0);
    int64_t ext1[2] = {4, 1 << 20}, ext0[2] = {0, 0};
    int32_t zb[4] = {S("eu"), S("eu-b"), S("blk1"), S("rack1")};
    int32_t za[4] = {S("eu"), S("eu-a"), S("blk0"), S("rack0")};
    ss_cluster_add_node(c, S("n-b0"), zb, 64000, INT64_C(256) << 30, 110, ext1, false, lz, 2, tz, 2,
                        g0, 2);
    ss_cluster_add_node(c, S("n-a0"), za, 32000, INT64_C(128) << 30, 110, ext0, true, lz, 1, 0, 0,
                        0, 0);
    ss_cluster_add_node(c, S("n-a1"), za, 16000, INT64_C(64) << 30, 58, NULL, false, 0, 0, tz + 1,
                        1, g0 + 2, 2);
    int32_t v0 = ss_cluster_add_expr_value(c, S("eu-a"));
    ss_cluster_add_expr_value(c, S("eu-b"));
    int32_t e0 = ss_cluster_add_expr(c, S("topology.kubernetes.io/zone"), SS_OP_IN, 0, v0, 2);
    ss_cluster_add_expr(c, S(""), SS_OP_NOT_IN, 1, v0, 1);
    ss_cluster_add_expr(c, S("disk"), SS_OP_EXISTS, 0, 0, 0);
    int32_t t0 = ss_cluster_add_term(c, e0, 2, 0);
    ss_cluster_add_term(c, e0 + 2, 1, 50);
    int32_t tol =
        ss_cluster_add_toleration(c, S("nvidia.com/gpu"), 0, SS_TOL_EXISTS, SS_EFFECT_ANY);
    ss_cluster_add_toleration(c, S("spot"), S(""), SS_TOL_EQUAL, SS_EFFECT_PREFER_NO_SCHEDULE);
    int32_t m0 = ss_cluster_add_model(c, S("A100"));
    int32_t pl = ss_cluster_add_label(c, S("app"), S("train"));
    /* format v2: spread constraints, pod terms, namespaces, PDBs, modes */
    int32_t vw = ss_cluster_add_expr_value(c, S("web"));
    int32_t vns = ss_cluster_add_expr_value(c, S("ml"));
    int32_t es = ss_cluster_add_expr(c, S("app"), SS_OP_IN, 0, vw, 1);
    ss_cluster_add_expr(c, S("team"), SS_OP_EXISTS, 0, 0, 0);
    int32_t sp0 = ss_cluster_add_spread(c, &(ss_spread_t){.max_skew = 1,
                                                          .key = S("topology.kubernetes.io/zone"),
                                                          .when = SS_WHEN_DO_NOT_SCHEDULE,
                                                          .min_domains = 2,
                                                          .node_affinity_policy = SS_INCL_IGNORE,
                                                          .node_taints_policy = SS_INCL_HONOR,
                                                          .sel = {es, 1, 0}});
    ss_cluster_add_spread(c, &(ss_spread_t){.max_skew = 3,
                                            .key = S("kubernetes.io/hostname"),
                                            .when = SS_WHEN_SCHEDULE_ANYWAY,
                                            .min_domains = 1,
                                            .node_affinity_policy = SS_INCL_HONOR,
                                            .node_taints_policy = SS_INCL_IGNORE,
                                            .sel = {0, 0, 1}});
    int32_t pt0 = ss_cluster_add_pterm(c, &(ss_podterm_t){.kind = SS_PT_ANTI_AFFINITY,
                                                          .weight = 0,
                                                          .key = S("kubernetes.io/hostname"),
                                                          .sel = {es, 1, 0},
                                                          .ns_begin = vns,
                                                          .ns_count = 1,
                                                          .ns_sel = {es + 1, 1, 0}});
    ss_cluster_add_pterm(c, &(ss_podterm_t){.kind = SS_PT_AFFINITY,
                                            .weight = 70,
                                            .key = S("topology.kubernetes.io/zone"),
                                            .sel = {es, 2, 0},
                                            .ns_sel = {0, 0, 1}});
    int32_t nsl = ss_cluster_add_label(c, S("team"), S("ml"));
    ss_cluster_add_namespace(c, S("ml"), nsl, 1);
    ss_cluster_add_namespace(c, S("default"), 0, 0);
    ss_cluster_add_pdb(c, &(ss_pdb_t){.name = S("web-pdb"),
                                      .ns = S("default"),
                                      .sel = {es, 1, 0},
                                      .min_available = 50,
                                      .min_pct = 1,
                                      .max_unavailable = -1,
                                      .allowed = -1,
                                      .always_allow = 1});
    ss_cluster_add_pdb(c, &(ss_pdb_t){.name = S("train-pdb"),
                                      .ns = S("ml"),
                                      .sel = {0, 0, 0},
                                      .min_available = -1,
                                      .max_unavailable = 1,
                                      .allowed = 2});
    c->default_spreading = SS_SPREAD_DEFAULT_SYSTEM;
    c->locality = SS_LOCALITY_ZONE;
    ss_template_t t = {0};
    t.req = (ss_request_t){.cpu_milli = 500, .memory = 1 << 30};
    t.workload = S("deploy/web");
    t.sel_begin = lz;
    t.sel_count = 1;
    t.spread_begin = sp0, t.spread_count = 2, t.pterm_begin = pt0, t.pterm_count = 2;
    t.flags = SS_TF_CONTROLLER;
    t.mig_profile = S("3g.40gb"), t.mig_count = 1; /* web-0 holds n-a1's 3g.40gb@4 */
    ss_cluster_add_template(c, &t);
    t = (ss_template_t){0};
    t.req = (ss_request_t){.cpu_milli = 8000,
                           .memory = INT64_C(64) << 30,
                           .gpu_count = 2,
                           .gpu_milli = 1000,
                           .ext = {1, 4096}};
    t.req_begin = t0, t.req_count = 1, t.pref_begin = t0 + 1, t.pref_count = 1;
    t.tol_begin = tol, t.tol_count = 2, t.model_begin = m0, t.model_count = 1;
    t.plabel_begin = pl, t.plabel_count = 1;
    t.unsupported = SS_RULE_TOPOLOGY_SPREAD | SS_RULE_POD_AFFINITY;
    t.workload = S("job/train");
    t.pterm_begin = pt0 + 1, t.pterm_count = 1;
    t.flags = SS_TF_PREEMPT_NEVER | SS_TF_DAEMONSET;
    ss_cluster_add_template(c, &t);
    int32_t grp = ss_cluster_add_group(c, S("train-gang"), 2, SS_TOPO_RACK, SS_TOPO_MODE_REQUIRED);
    ss_cluster_add_pod(c, S("web-0"), S("default"), 0, 100, -1, 2, 2); /* MIG instance 1 */
    ss_cluster_add_pod(c, S("train-0"), S("ml"), 1, 1000, grp, 0, 3);  /* on n-b0, GPUs 0,1 */
    ss_cluster_add_pod(c, S("web-1"), S("default"), 0, 100, -1, -1, 0);
    ss_cluster_add_pod(c, S("train-1"), S("ml"), 1, 1000, grp, -1, 0);
    ss_cluster_add_pod(c, S("train-2"), S("ml"), 1, -5, grp, -1, 0);
    ss_cluster_set_pod_start(c, 0, INT64_C(1764000000));
    ss_cluster_set_pod_start(c, 1, INT64_C(1764003600));
#undef S
    ss_error_t err = {{0}};
    assert_int_equal(ss_cluster_set_legacy_levels(c, NULL, NULL, &err), 0);
    assert_int_equal(ss_cluster_sort_nodes(c, &err), 0);
    assert_int_equal(ss_cluster_validate(c, &err), 0);
    return c;
}

#define SAME(a, b, field, n)                                                                       \
    assert_memory_equal((a)->field, (b)->field, (size_t)(n) * sizeof *(a)->field)

static void assert_same_cluster(const ss_cluster_t *a, const ss_cluster_t *b)
{
    size_t ba, bb;
    const char *da = ss_strtab_data(a->strings, &ba), *db = ss_strtab_data(b->strings, &bb);
    assert_int_equal(ss_strtab_count(a->strings), ss_strtab_count(b->strings));
    assert_int_equal(ba, bb);
    assert_memory_equal(da, db, ba);
    assert_int_equal(a->n_ext, b->n_ext);
    assert_memory_equal(a->ext_name, b->ext_name, (size_t)a->n_ext * sizeof(int32_t));
    assert_int_equal(a->n_nodes, b->n_nodes);
    int32_t n = a->n_nodes;
    SAME(a, b, node_name, n);
    SAME(a, b, node_topo, n * SS_TOPO_STRIDE);
    SAME(a, b, node_cpu, n);
    SAME(a, b, node_mem, n);
    SAME(a, b, node_pods, n);
    SAME(a, b, node_ext, n * SS_MAX_EXT);
    SAME(a, b, node_unsched, n);
    SAME(a, b, node_label_begin, n);
    SAME(a, b, node_label_count, n);
    SAME(a, b, node_taint_begin, n);
    SAME(a, b, node_taint_count, n);
    SAME(a, b, node_gpu_begin, n);
    SAME(a, b, node_gpu_count, n);
    assert_int_equal(a->n_gpus, b->n_gpus);
    SAME(a, b, gpu_model, a->n_gpus);
    SAME(a, b, gpu_milli, a->n_gpus);
    SAME(a, b, gpu_mig_model, a->n_gpus);
    SAME(a, b, gpu_mig_begin, a->n_gpus);
    SAME(a, b, gpu_mig_count, a->n_gpus);
    assert_int_equal(a->n_mig_insts, b->n_mig_insts);
    SAME(a, b, mig_insts, a->n_mig_insts);
    assert_int_equal(a->n_templates, b->n_templates);
    SAME(a, b, templates, a->n_templates);
    assert_int_equal(a->n_pods, b->n_pods);
    int32_t p = a->n_pods;
    SAME(a, b, pod_name, p);
    SAME(a, b, pod_ns, p);
    SAME(a, b, pod_template, p);
    SAME(a, b, pod_priority, p);
    SAME(a, b, pod_group, p);
    SAME(a, b, pod_node, p);
    SAME(a, b, pod_gpu_mask, p);
    assert_int_equal(a->n_groups, b->n_groups);
    SAME(a, b, group_name, a->n_groups);
    SAME(a, b, group_min_member, a->n_groups);
    SAME(a, b, group_topo_level, a->n_groups);
    SAME(a, b, group_topo_mode, a->n_groups);
    SAME(a, b, group_parent, a->n_groups);
    SAME(a, b, group_dialect, a->n_groups);
    assert_int_equal(a->n_levels, b->n_levels);
    assert_memory_equal(a->level_key, b->level_key, (size_t)a->n_levels * sizeof(int32_t));
    assert_int_equal(a->n_labels, b->n_labels);
    SAME(a, b, labels, a->n_labels);
    assert_int_equal(a->n_taints, b->n_taints);
    SAME(a, b, taints, a->n_taints);
    assert_int_equal(a->n_tolerations, b->n_tolerations);
    SAME(a, b, tolerations, a->n_tolerations);
    assert_int_equal(a->n_terms, b->n_terms);
    SAME(a, b, terms, a->n_terms);
    assert_int_equal(a->n_exprs, b->n_exprs);
    SAME(a, b, exprs, a->n_exprs);
    assert_int_equal(a->n_expr_values, b->n_expr_values);
    SAME(a, b, expr_values, a->n_expr_values);
    assert_int_equal(a->n_models, b->n_models);
    SAME(a, b, models, a->n_models);
    SAME(a, b, pod_start, p);
    assert_int_equal(a->n_spreads, b->n_spreads);
    SAME(a, b, spreads, a->n_spreads);
    assert_int_equal(a->n_pterms, b->n_pterms);
    SAME(a, b, pterms, a->n_pterms);
    assert_int_equal(a->n_namespaces, b->n_namespaces);
    SAME(a, b, ns_name, a->n_namespaces);
    SAME(a, b, ns_label_begin, a->n_namespaces);
    SAME(a, b, ns_label_count, a->n_namespaces);
    assert_int_equal(a->n_pdbs, b->n_pdbs);
    SAME(a, b, pdbs, a->n_pdbs);
    assert_int_equal(a->default_spreading, b->default_spreading);
    assert_int_equal(a->locality, b->locality);
}

static void test_snapshot_round_trip_every_field(void **state)
{
    (void)state;
    ss_cluster_t *c = build(), *r = NULL;
    ss_error_t err = {{0}};
    const char *path = wpath("rt.h5");
    assert_int_equal(ss_snapshot_write(path, c, &err), 0);
    assert_false(tmp_left());
    int rc = ss_snapshot_read(path, &r, &err);
    if (rc)
        fail_msg("%s", err.text);
    assert_same_cluster(c, r);
    char kind[32];
    assert_int_equal(ss_snapshot_kind(path, kind, sizeof kind, &err), 0);
    assert_string_equal(kind, "cluster");
    ss_cluster_destroy(r);
    ss_cluster_destroy(c);
}

static void test_snapshot_round_trip_empty(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create(), *r = NULL;
    ss_error_t err = {{0}};
    assert_int_equal(ss_snapshot_write(wpath("empty.h5"), c, &err), 0);
    int rc = ss_snapshot_read(wpath("empty.h5"), &r, &err);
    if (rc)
        fail_msg("%s", err.text);
    assert_same_cluster(c, r);
    ss_cluster_destroy(r);
    ss_cluster_destroy(c);
}

static void *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    void *b = malloc(*n ? *n : 1);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static void test_snapshot_write_byte_identical(void **state)
{
    (void)state;
    ss_cluster_t *c = build();
    ss_error_t err = {{0}};
    assert_int_equal(ss_snapshot_write(wpath("same1.h5"), c, &err), 0);
    sleep(1); /* a time stamp would differ now */
    assert_int_equal(ss_snapshot_write(wpath("same2.h5"), c, &err), 0);
    size_t n1, n2;
    void *a = slurp(wpath("same1.h5"), &n1), *b = slurp(wpath("same2.h5"), &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1);
    free(a);
    free(b);
    ss_cluster_destroy(c);
}

static void test_h5_col_read_row_range(void **state)
{
    (void)state;
    ss_cluster_t *c = build();
    ss_error_t err = {{0}};
    const char *path = wpath("range.h5");
    assert_int_equal(ss_snapshot_write(path, c, &err), 0);
    hid_t f = ss_h5_open(path, &err);
    assert_true(f >= 0);
    int64_t cpu[2];
    assert_int_equal(ss_h5_col_read(f, path, "/nodes/cpu_milli", SS_H5_I64, 1, 0, 1, 3, cpu, &err),
                     0);
    assert_int_equal(cpu[0], c->node_cpu[1]);
    assert_int_equal(cpu[1], c->node_cpu[2]);
    int32_t topo[SS_TOPO_LEGACY_LEVELS];
    assert_int_equal(ss_h5_col_read(f, path, "/nodes/topo", SS_H5_I32, 2, SS_TOPO_LEGACY_LEVELS, 2,
                                    3, topo, &err),
                     0);
    assert_memory_equal(topo, c->node_topo + 2 * SS_TOPO_STRIDE, sizeof topo);
    assert_true(ss_h5_col_read(f, path, "/nodes/cpu_milli", SS_H5_I64, 1, 0, 2, 4, cpu, &err) < 0);
    assert_non_null(strstr(err.text, "/nodes/cpu_milli"));
    H5Fclose(f);
    ss_cluster_destroy(c);
}

/* ---------------------------------------------------------- placements */

static ss_placements_t *make_placements(const ss_cluster_t *c)
{
    ss_placements_t *p = ss_placements_create(3);
    assert_non_null(p);
    int32_t r = 0;
    for (int32_t i = 0; i < c->n_pods; i++)
        if (c->pod_node[i] < 0)
            p->pod[r++] = i;
    assert_int_equal(r, 3);
    p->node[0] = 2;
    p->reason[0] = SS_REASON_NONE;
    p->node[1] = 1; /* n-a1 (sorted: n-a0, n-a1, n-b0): its first GPU, not in MIG mode */
    p->gpu_mask[1] = 1;
    p->reason[1] = SS_REASON_NONE;
    p->node[2] = -1;
    p->reason[2] = SS_REASON_GPU;
    snprintf(p->policy, sizeof p->policy, "most-allocated");
    p->exhaustive = 1;
    p->seconds = 1.25;
    /* v2: commit order, and row 0 (on n-b0) preempted train-0 (pod 1, on n-b0) */
    p->seq[0] = 1, p->seq[1] = 0, p->seq[2] = -1;
    assert_int_equal(ss_placements_add_victim(p, 0, 1), 0);
    return p;
}

static void test_placements_round_trip(void **state)
{
    (void)state;
    ss_cluster_t *c = build();
    ss_placements_t *p = make_placements(c), *q = NULL;
    ss_error_t err = {{0}};
    const char *path = wpath("p.h5");
    int rc = ss_placements_write(path, c, p, &err);
    if (rc)
        fail_msg("%s", err.text);
    rc = ss_placements_read(path, c, &q, &err);
    if (rc)
        fail_msg("%s", err.text);
    assert_int_equal(q->n, p->n);
    assert_memory_equal(q->pod, p->pod, 3 * sizeof(int32_t));
    assert_memory_equal(q->node, p->node, 3 * sizeof(int32_t));
    assert_memory_equal(q->reason, p->reason, 3 * sizeof(int32_t));
    assert_memory_equal(q->gpu_mask, p->gpu_mask, 3 * sizeof(uint64_t));
    assert_memory_equal(q->seq, p->seq, 3 * sizeof(int32_t));
    assert_int_equal(q->n_victims, 1);
    assert_int_equal(q->victim_row[0], 0);
    assert_int_equal(q->victim_pod[0], 1);
    assert_string_equal(q->policy, "most-allocated");
    assert_int_equal(q->exhaustive, 1);
    assert_true(q->seconds == 1.25);
    char kind[32];
    assert_int_equal(ss_snapshot_kind(path, kind, sizeof kind, &err), 0);
    assert_string_equal(kind, "placements");
    /* A placements file is not a cluster, and the other way round. */
    ss_cluster_t *bad = NULL;
    assert_true(ss_snapshot_read(path, &bad, &err) < 0);
    assert_non_null(strstr(err.text, "kind"));
    ss_placements_destroy(q);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_placements_write_rejects_wrong_rows(void **state)
{
    (void)state;
    ss_cluster_t *c = build();
    ss_placements_t *p = make_placements(c);
    ss_error_t err = {{0}};
    const char *path = wpath("pbad.h5");
    p->pod[1] = 0; /* a running pod */
    assert_true(ss_placements_write(path, c, p, &err) < 0);
    assert_non_null(strstr(err.text, "/placements/pod"));
    assert_false(exists(path));
    p->pod[1] = p->pod[2] - 1;
    p->reason[2] = 999;
    assert_true(ss_placements_write(path, c, p, &err) < 0);
    assert_non_null(strstr(err.text, "/placements/reason"));
    assert_false(exists(path));
    assert_false(tmp_left());
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* The root attribute preempt_with (schedule --preempt-with): "evict" and
 * "delete" round trip into pdb_hard; a file without it (written before it
 * existed) reads as "delete"; another value is refused, naming it. */
static void test_placements_preempt_with(void **state)
{
    (void)state;
    ss_cluster_t *c = build();
    ss_placements_t *p = make_placements(c), *q = NULL;
    ss_error_t err = {{0}};
    const char *path = wpath("ppw.h5");
    char v[16] = "";
    for (int hard = 0; hard <= 1; hard++) {
        p->pdb_hard = hard;
        assert_int_equal(ss_placements_write(path, c, p, &err), 0);
        hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        assert_true(f >= 0);
        assert_int_equal(ss_h5_attr_read_str(f, path, "/", "preempt_with", v, sizeof v, &err), 0);
        H5Fclose(f);
        assert_string_equal(v, hard ? "evict" : "delete");
        assert_int_equal(ss_placements_read(path, c, &q, &err), 0);
        assert_int_equal(q->pdb_hard, hard);
        ss_placements_destroy(q);
        q = NULL;
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT); /* an "evict" file, attribute dropped */
    assert_true(f >= 0);
    assert_true(H5Adelete(f, "preempt_with") >= 0);
    H5Fclose(f);
    assert_int_equal(ss_placements_read(path, c, &q, &err), 0);
    assert_int_equal(q->pdb_hard, 0);
    ss_placements_destroy(q);
    q = NULL;
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    assert_int_equal(ss_h5_attr_write_str(f, path, "/", "preempt_with", "kill", &err), 0);
    H5Fclose(f);
    assert_true(ss_placements_read(path, c, &q, &err) < 0);
    assert_null(q);
    assert_non_null(strstr(err.text, "attribute preempt_with on / is 'kill'"));
    assert_non_null(strstr(err.text, path));
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static void test_placements_read_bad_input(void **state)
{
    (void)state;
    ss_cluster_t *c = build(), *other = ss_cluster_create();
    ss_placements_t *p = make_placements(c), *q = NULL;
    ss_error_t err = {{0}};
    const char *path = wpath("pread.h5");
    assert_int_equal(ss_placements_write(path, c, p, &err), 0);
    /* Checked against a cluster with no pending pods. */
    assert_true(ss_placements_read(path, other, &q, &err) < 0);
    assert_null(q);
    assert_non_null(strstr(err.text, path));
    assert_non_null(strstr(err.text, "was computed for another snapshot"));
    /* Without the fingerprint (a file of an older shardsched) the rows are
     * checked against the cluster. */
    hid_t f0 = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f0 >= 0);
    assert_true(H5Adelete(f0, "snapshot_fingerprint") >= 0);
    H5Fclose(f0);
    assert_true(ss_placements_read(path, other, &q, &err) < 0);
    assert_null(q);
    assert_non_null(strstr(err.text, "/placements/pod has 3 rows"));
    assert_int_equal(ss_placements_read(path, c, &q, &err), 0);
    assert_int_equal(q->has_fingerprint, 0);
    ss_placements_destroy(q);
    q = NULL;
    /* An unknown reason code. */
    int32_t bad = 77;
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t d = H5Dopen2(f, "/placements/reason", H5P_DEFAULT);
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(1, (hsize_t[]){1}, NULL);
    hsize_t row = 2, one = 1;
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &row, NULL, &one, NULL);
    assert_true(H5Dwrite(d, H5T_NATIVE_INT32, ms, fs, H5P_DEFAULT, &bad) >= 0);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
    /* And a missing column. */
    assert_true(H5Ldelete(f, "/placements/gpu_mask", H5P_DEFAULT) >= 0);
    H5Fclose(f);
    assert_true(ss_placements_read(path, c, &q, &err) < 0);
    assert_non_null(strstr(err.text, "dataset /placements/gpu_mask is missing"));
    ss_placements_destroy(p);
    ss_cluster_destroy(other);
    ss_cluster_destroy(c);
}

/* h5py writes string attributes as variable-length UTF-8: they must read. */
static void test_snapshot_read_vlen_kind(void **state)
{
    (void)state;
    ss_cluster_t *c = build(), *r = NULL;
    ss_error_t err = {{0}};
    const char *path = wpath("vlen.h5");
    assert_int_equal(ss_snapshot_write(path, c, &err), 0);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(H5Adelete(f, "kind") >= 0);
    hid_t st = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    H5Tset_size(st, H5T_VARIABLE);
    H5Tset_cset(st, H5T_CSET_UTF8);
    hid_t a = H5Acreate2(f, "kind", st, sp, H5P_DEFAULT, H5P_DEFAULT);
    const char *v = "cluster";
    assert_true(H5Awrite(a, st, &v) >= 0);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(st);
    H5Fclose(f);
    int rc = ss_snapshot_read(path, &r, &err);
    if (rc)
        fail_msg("%s", err.text);
    assert_same_cluster(c, r);
    ss_cluster_destroy(r);
    ss_cluster_destroy(c);
}

/* ---------------------------------------------------------- bad input */

static const char *write_good(const char *name)
{
    ss_cluster_t *c = build();
    ss_error_t err = {{0}};
    const char *path = wpath(name);
    assert_int_equal(ss_snapshot_write(path, c, &err), 0);
    ss_cluster_destroy(c);
    return path;
}

/* Reads path, expecting failure with a message containing each of the
 * NULL-terminated strings; then checks that a pipeline (read, then write
 * out) leaves no output file. */
static void expect_read_error(const char *path, ...)
{
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    int rc = ss_snapshot_read(path, &c, &err);
    if (rc == 0)
        fail_msg("reading %s succeeded", path);
    assert_null(c);
    print_message("expected error: %s\n", err.text);
    assert_null(strchr(err.text, '\n'));
    assert_non_null(strstr(err.text, path));
    va_list ap;
    va_start(ap, path);
    for (const char *s; (s = va_arg(ap, const char *));)
        if (!strstr(err.text, s))
            fail_msg("message '%s' lacks '%s'", err.text, s);
    va_end(ap);
    assert_false(exists(wpath("out.h5")));
    assert_false(tmp_left());
}

static hid_t open_rw(const char *path)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    return f;
}

/* Overwrites one element of a 1-D column in place. */
static void patch(const char *path, const char *dset, hsize_t row, hid_t mt, const void *v)
{
    hid_t f = open_rw(path), d = H5Dopen2(f, dset, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(1, (hsize_t[]){1}, NULL);
    hsize_t one = 1;
    assert_true(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &row, NULL, &one, NULL) >= 0);
    assert_true(H5Dwrite(d, mt, ms, fs, H5P_DEFAULT, v) >= 0);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
    H5Fclose(f);
}

/* Replaces a dataset by a 1-D one of type ft with n rows of zeros. */
static void replace(const char *path, const char *dset, hid_t ft, hsize_t n)
{
    hid_t f = open_rw(path);
    assert_true(H5Ldelete(f, dset, H5P_DEFAULT) >= 0);
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hid_t d = H5Dcreate2(f, dset, ft, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0);
    H5Dclose(d);
    H5Sclose(sp);
    H5Fclose(f);
}

static void test_snapshot_read_missing_file(void **state)
{
    (void)state;
    expect_read_error(wpath("nope.h5"), "No such file", NULL);
    FILE *f = fopen(wpath("text.h5"), "w");
    fputs("not hdf5\n", f);
    fclose(f);
    expect_read_error(wpath("text.h5"), "not an HDF5 file", NULL);
}

static void test_snapshot_read_truncated(void **state)
{
    (void)state;
    const char *path = write_good("trunc.h5");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size / 2), 0);
    expect_read_error(path, "truncated", NULL);
}

static void test_snapshot_read_missing_dataset(void **state)
{
    (void)state;
    const char *path = write_good("missing.h5");
    hid_t f = open_rw(path);
    assert_true(H5Ldelete(f, "/pods/template", H5P_DEFAULT) >= 0);
    H5Fclose(f);
    expect_read_error(path, "dataset /pods/template is missing", NULL);
}

static void test_snapshot_read_wrong_type(void **state)
{
    (void)state;
    const char *path = write_good("float.h5");
    replace(path, "/nodes/cpu_milli", H5T_IEEE_F64LE, 3);
    expect_read_error(path, "dataset /nodes/cpu_milli has type float64, expected int64", NULL);
    path = write_good("int8.h5");
    replace(path, "/nodes/memory", H5T_STD_I8LE, 3);
    expect_read_error(path, "dataset /nodes/memory has type int8, expected int64", NULL);
}

static void test_snapshot_read_disagreeing_lengths(void **state)
{
    (void)state;
    const char *path = write_good("len.h5");
    replace(path, "/pods/template", H5T_STD_I32LE, 4);
    expect_read_error(path, "dataset /pods/template has 4 rows, /pods/name has 5", NULL);
}

static void test_snapshot_read_bad_values(void **state)
{
    (void)state;
    int64_t neg = -5, huge = INT64_C(1) << 60;
    int32_t dangling = 99, bad_str = 100000;
    const char *path = write_good("negcpu.h5");
    patch(path, "/nodes/cpu_milli", 1, H5T_NATIVE_INT64, &neg);
    expect_read_error(path, "/nodes/cpu_milli row 1", "negative", NULL);
    path = write_good("absurdmem.h5");
    patch(path, "/templates/memory", 0, H5T_NATIVE_INT64, &huge);
    expect_read_error(path, "/templates/memory row 0", "absurd", NULL);
    path = write_good("dangling.h5");
    patch(path, "/pods/template", 2, H5T_NATIVE_INT32, &dangling);
    expect_read_error(path, "/pods/template row 2", "dangling", NULL);
    path = write_good("badstr.h5");
    patch(path, "/labels/value", 1, H5T_NATIVE_INT32, &bad_str);
    expect_read_error(path, "/labels/", "string id out of range", NULL);
}

/* Kubernetes identity in a snapshot written by another tool: two nodes or
 * two pods (namespace and name) with one name are refused, naming both rows
 * (the pod would otherwise be placed, and bound, twice). */
static void test_snapshot_read_duplicate_names(void **state)
{
    (void)state;
    int32_t same = 1; /* any valid string id, written into two pod rows */
    const char *path = write_good("duppod.h5");
    for (int row = 0; row < 2; row++) {
        patch(path, "/pods/name", row, H5T_NATIVE_INT32, &same);
        patch(path, "/pods/namespace", row, H5T_NATIVE_INT32, &same);
    }
    expect_read_error(path, "/pods rows 0 and 1", "the same name twice", NULL);
    /* Two nodes called alike: their names are also the node level of
     * /nodes/topo, so the writer is the simplest way to make one. */
    ss_cluster_t *c = build();
    c->node_name[2] = c->node_name[1];
    c->node_topo[2 * SS_TOPO_STRIDE + SS_TOPO_NODE] =
        c->node_topo[1 * SS_TOPO_STRIDE + SS_TOPO_NODE];
    ss_error_t err = {{0}};
    path = wpath("dupnode.h5");
    assert_true(ss_snapshot_write(path, c, &err) < 0);
    if (!strstr(err.text, "/nodes rows 1 and 2") || !strstr(err.text, "the same name twice"))
        fail_msg("unexpected message: %s", err.text);
    assert_false(exists(path));
    ss_cluster_destroy(c);
}

static void test_snapshot_read_newer_version(void **state)
{
    (void)state;
    const char *path = write_good("v4.h5");
    hid_t f = open_rw(path);
    ss_error_t err = {{0}};
    assert_int_equal(ss_h5_attr_write_i32(f, path, "/", "format_version", 7, &err), 0);
    H5Fclose(f);
    char want[600];
    snprintf(want, sizeof want,
             "%s: format_version 7 is newer than this shardsched supports (6); upgrade shardsched",
             path);
    ss_cluster_t *c = NULL;
    assert_int_equal(ss_snapshot_read(path, &c, &err), SS_EVERSION);
    assert_string_equal(err.text, want);
}

/* Invalid clusters are refused by the writer, which leaves nothing behind. */
static void test_snapshot_write_refuses_invalid(void **state)
{
    (void)state;
    static const struct {
        const char *field;
        const char *want;
    } rows[] = {{"cpu", "/nodes/cpu_milli"},
                {"memory", "/templates/memory"},
                {"template", "/pods/template"},
                {"string", "/labels/key"}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ss_cluster_t *c = build();
        if (!strcmp(rows[i].field, "cpu"))
            c->node_cpu[0] = -1;
        else if (!strcmp(rows[i].field, "memory"))
            c->templates[1].req.memory = INT64_C(1) << 62;
        else if (!strcmp(rows[i].field, "template"))
            c->pod_template[3] = 7;
        else
            c->labels[0].key = 12345;
        ss_error_t err = {{0}};
        const char *path = wpath("out.h5");
        assert_true(ss_snapshot_write(path, c, &err) < 0);
        print_message("expected error: %s\n", err.text);
        assert_non_null(strstr(err.text, path));
        if (!strstr(err.text, rows[i].want))
            fail_msg("'%s' lacks '%s'", err.text, rows[i].want);
        assert_false(exists(path));
        assert_false(tmp_left());
        ss_cluster_destroy(c);
    }
}

static void test_snapshot_write_missing_directory(void **state)
{
    (void)state;
    ss_cluster_t *c = build();
    ss_error_t err = {{0}};
    const char *path = wpath("no/such/dir/c.h5");
    assert_true(ss_snapshot_write(path, c, &err) < 0);
    print_message("expected error: %s\n", err.text);
    assert_non_null(strstr(err.text, path));
    assert_non_null(strstr(err.text, "does not exist"));
    assert_false(exists(path));
    ss_cluster_destroy(c);
}

/* ------------------------------------------------- format version 1 files */

/* The version 3 datasets (MIG, issue 15). */
static const char *const v3_only[] = {"/mig_instances",         "/gpus/mig_model",
                                      "/gpus/mig_begin",        "/gpus/mig_count",
                                      "/templates/mig_profile", "/templates/mig_count"};

/* Turns a version 3 file into the version 2 file an older shardsched would
 * have written: every version 3 dataset removed, format_version 2. */
static void make_v2(const char *path)
{
    ss_error_t err = {{0}};
    hid_t f = open_rw(path);
    for (size_t i = 0; i < sizeof v3_only / sizeof v3_only[0]; i++)
        assert_true(H5Ldelete(f, v3_only[i], H5P_DEFAULT) >= 0);
    assert_int_equal(ss_h5_attr_write_i32(f, path, "/", "format_version", 2, &err), 0);
    H5Fclose(f);
    char kind[32];
    assert_int_equal(ss_snapshot_kind(path, kind, sizeof kind, &err), 0);
    uint64_t none = 0; /* web-0 asked no MIG instance then */
    if (!strcmp(kind, "cluster"))
        patch(path, "/pods/gpu_mask", 0, H5T_NATIVE_UINT64, &none);
}

/* What a file without the version 3 datasets reads as: no GPU in MIG mode,
 * no MIG request. */
static void drop_mig(ss_cluster_t *c)
{
    for (int32_t g = 0; g < c->n_gpus; g++)
        c->gpu_mig_model[g] = c->gpu_mig_begin[g] = c->gpu_mig_count[g] = 0;
    c->n_mig_insts = 0;
    for (int32_t p = 0; p < c->n_pods; p++)
        if (c->templates[c->pod_template[p]].mig_count > 0)
            c->pod_gpu_mask[p] = 0;
    for (int32_t i = 0; i < c->n_templates; i++)
        c->templates[i].mig_profile = c->templates[i].mig_count = 0;
}

/* Turns a version 6 file into the version 5 file an older shardsched
 * would have written: no /topology, no /groups/parent, format_version 5. */
static void make_v5(const char *path)
{
    ss_error_t err = {{0}};
    hid_t f = open_rw(path);
    char kind[32];
    assert_int_equal(ss_snapshot_kind(path, kind, sizeof kind, &err), 0);
    if (!strcmp(kind, "cluster")) {
        assert_true(H5Ldelete(f, "/topology", H5P_DEFAULT) >= 0);
        assert_true(H5Ldelete(f, "/groups/parent", H5P_DEFAULT) >= 0);
    }
    assert_int_equal(ss_h5_attr_write_i32(f, path, "/", "format_version", 5, &err), 0);
    H5Fclose(f);
}

/* A version 5 file reads with the five legacy levels (region, zone, block,
 * rack, node, keyed by their default labels) and no sub-groups. */
static void test_snapshot_read_v5(void **state)
{
    (void)state;
    ss_cluster_t *c = build(), *r = NULL;
    ss_error_t err = {{0}};
    const char *path = wpath("v5.h5");
    assert_int_equal(ss_snapshot_write(path, c, &err), 0);
    make_v5(path);
    if (ss_snapshot_read(path, &r, &err) < 0)
        fail_msg("%s", err.text);
    assert_same_cluster(c, r);
    assert_int_equal(r->n_levels, SS_TOPO_LEGACY_LEVELS);
    assert_string_equal(ss_cluster_strget(r, r->level_key[SS_TOPO_RACK]), SS_TOPO_RACK_KEY);
    assert_string_equal(ss_topo_level_name(r, SS_TOPO_RACK), "rack");
    assert_int_equal(r->group_parent[0], -1);
    ss_cluster_destroy(r);
    ss_cluster_destroy(c);
}

/* Version 6: levels named by any node label keys and sub-groups survive the
 * round trip; a sub-group whose parent comes after it, a level index past
 * the levels and a level key out of the string table are refused. */
static void test_snapshot_levels_subgroups(void **state)
{
    (void)state;
    ss_cluster_t *c = build(), *r = NULL;
    ss_error_t err = {{0}};
    int32_t nv = ss_cluster_str(c, "example.com/nvlink");
    int32_t keys[] = {c->level_key[0], c->level_key[1], nv, c->level_key[SS_TOPO_NODE]};
    int32_t sub = ss_cluster_add_subgroup(c, 0, ss_cluster_str(c, "train-gang/w"), 1, 3,
                                          SS_TOPO_MODE_REQUIRED);
    assert_int_equal(sub, 1);
    c->pod_group[4] = sub; /* train-2 */
    assert_int_equal(ss_cluster_set_levels(c, keys, 4, NULL, &err), 0);
    assert_int_equal(c->n_levels, 4);
    assert_int_equal(c->group_topo_level[sub], 3); /* the node level, remapped */
    assert_int_equal(ss_cluster_sort_nodes(c, &err), 0);
    assert_int_equal(ss_cluster_validate(c, &err), 0);
    assert_int_equal(ss_cluster_gang_of(c, 4), 0);
    const char *path = wpath("v6.h5");
    assert_int_equal(ss_snapshot_write(path, c, &err), 0);
    if (ss_snapshot_read(path, &r, &err) < 0)
        fail_msg("%s", err.text);
    assert_same_cluster(c, r);
    assert_string_equal(ss_topo_level_name(r, 2), "example.com/nvlink");
    ss_cluster_destroy(r);
    ss_cluster_destroy(c);
    int32_t v = 1; /* the sub-group made its own parent */
    patch(path, "/groups/parent", 1, H5T_NATIVE_INT32, &v);
    expect_read_error(path, "groups", "parent", NULL);
    path = wpath("v6b.h5");
    c = build();
    assert_int_equal(ss_snapshot_write(path, c, &err), 0);
    ss_cluster_destroy(c);
    v = 5; /* level 5 of five */
    patch(path, "/groups/topo_level", 0, H5T_NATIVE_INT32, &v);
    expect_read_error(path, "topo_level", NULL);
    path = wpath("v6c.h5");
    c = build();
    assert_int_equal(ss_snapshot_write(path, c, &err), 0);
    ss_cluster_destroy(c);
    v = 1 << 30;
    patch(path, "/topology/level_key", 2, H5T_NATIVE_INT32, &v);
    expect_read_error(path, "/topology/level_key row 2: string id out of range", NULL);
}

/* A version 4 file reads as version 5 with the eviction facts unknown
 * (SS_TF_EVICT_FACTS 0, which the writer of build() never sets either); a
 * version 4 file with a version 5 flag bit is refused, as a version 4
 * reader refused it. */
static void test_snapshot_read_v4(void **state)
{
    (void)state;
    ss_cluster_t *c = build(), *r = NULL;
    ss_error_t err = {{0}};
    const char *path = wpath("v4.h5");
    assert_int_equal(ss_snapshot_write(path, c, &err), 0);
    hid_t f = open_rw(path);
    assert_int_equal(ss_h5_attr_write_i32(f, path, "/", "format_version", 4, &err), 0);
    H5Fclose(f);
    if (ss_snapshot_read(path, &r, &err) < 0)
        fail_msg("%s", err.text);
    assert_same_cluster(c, r);
    assert_int_equal(r->templates[0].flags, SS_TF_CONTROLLER);
    ss_cluster_destroy(r);
    ss_cluster_destroy(c);
    int32_t flags = SS_TF_CONTROLLER | SS_TF_PVC;
    patch(path, "/templates/flags", 0, H5T_NATIVE_INT32, &flags);
    expect_read_error(path, "/templates/flags row 0: bits 0x20 are not defined in format version 4",
                      NULL);
}

/* A version 3 file: running MIG pods held no mask (they take the first
 * free instances of their profile) and bit 512 meant "not placed yet"
 * (cleared); with too few free instances the read fails naming the pod. */
static void test_snapshot_read_v3(void **state)
{
    (void)state;
    ss_cluster_t *c = build(), *r = NULL;
    ss_error_t err = {{0}};
    const char *path = wpath("v3.h5");
    assert_int_equal(ss_snapshot_write(path, c, &err), 0);
    hid_t f = open_rw(path);
    assert_int_equal(ss_h5_attr_write_i32(f, path, "/", "format_version", 3, &err), 0);
    H5Fclose(f);
    uint64_t none = 0;
    int32_t bit = SS_RULE_MIG;
    patch(path, "/pods/gpu_mask", 0, H5T_NATIVE_UINT64, &none);
    patch(path, "/templates/unsupported", 0, H5T_NATIVE_INT32, &bit);
    if (ss_snapshot_read(path, &r, &err) < 0)
        fail_msg("%s", err.text);
    assert_int_equal(r->pod_gpu_mask[0], 2); /* 3g.40gb@4: n-a1's instance 1 (4g.40gb@0 is 0) */
    assert_same_cluster(c, r);
    ss_cluster_destroy(r);
    ss_cluster_destroy(c);
    int32_t four = 4; /* web-0 now asks four 3g.40gb: n-a1 has one */
    patch(path, "/templates/mig_count", 0, H5T_NATIVE_INT32, &four);
    expect_read_error(path, "pod default/web-0: runs on node n-a1 with 4 nvidia.com/mig-3g.40gb",
                      NULL);
}

/* Turns a version 3 file into the version 1 file an older shardsched would
 * have written: every version 2 and 3 dataset, group and attribute removed,
 * format_version 1. */
static void make_v1(const char *path)
{
    static const char *const gone[] = {"/spreads",
                                       "/pterms",
                                       "/namespaces",
                                       "/pdbs",
                                       "/templates/spread_begin",
                                       "/templates/spread_count",
                                       "/templates/pterm_begin",
                                       "/templates/pterm_count",
                                       "/templates/flags",
                                       "/pods/start"};
    static const char *const gone_p[] = {"/placements/seq", "/victims"};
    char kind[32];
    ss_error_t err = {{0}};
    assert_int_equal(ss_snapshot_kind(path, kind, sizeof kind, &err), 0);
    if (!strcmp(kind, "cluster"))
        make_v2(path);
    hid_t f = open_rw(path);
    if (!strcmp(kind, "cluster")) {
        for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
            assert_true(H5Ldelete(f, gone[i], H5P_DEFAULT) >= 0);
        assert_true(H5Adelete(f, "default_spreading") >= 0);
        assert_true(H5Adelete(f, "locality") >= 0);
    } else {
        for (size_t i = 0; i < sizeof gone_p / sizeof gone_p[0]; i++)
            assert_true(H5Ldelete(f, gone_p[i], H5P_DEFAULT) >= 0);
    }
    assert_int_equal(ss_h5_attr_write_i32(f, path, "/", "format_version", 1, &err), 0);
    H5Fclose(f);
}

/* A version 2 snapshot reads with every GPU not partitioned and no MIG
 * request; a version 3 file lacking a version 3 dataset is refused. */
static void test_snapshot_read_v2(void **state)
{
    (void)state;
    ss_cluster_t *c = build(), *r = NULL;
    ss_error_t err = {{0}};
    const char *path = wpath("v2.h5");
    assert_int_equal(ss_snapshot_write(path, c, &err), 0);
    make_v2(path);
    if (ss_snapshot_read(path, &r, &err) < 0)
        fail_msg("%s", err.text);
    assert_int_equal(c->gpu_mig_count[3], 2);
    drop_mig(c);
    assert_same_cluster(c, r);
    ss_cluster_destroy(r);
    ss_cluster_destroy(c);
    path = write_good("v3nomig.h5");
    hid_t f = open_rw(path);
    assert_true(H5Ldelete(f, "/gpus/mig_model", H5P_DEFAULT) >= 0);
    H5Fclose(f);
    expect_read_error(path, "dataset /gpus/mig_model is missing", NULL);
}

/* A bad MIG layout or name in a file is refused, naming the GPU. */
static void test_snapshot_read_bad_mig(void **state)
{
    (void)state;
    int32_t v = 2; /* 3g.40gb at slice 2: not a valid start */
    const char *path = write_good("badmig.h5");
    patch(path, "/mig_instances/start", 1, H5T_NATIVE_INT32, &v);
    expect_read_error(path, "/gpus/mig_begin row 3 (GPU 1 of node n-a1)",
                      "3g.40gb cannot start at memory slice 2", NULL);
    path = write_good("badmig2.h5");
    v = 1; /* string id 1: not a model of the MIG table */
    patch(path, "/gpus/mig_model", 3, H5T_NATIVE_INT32, &v);
    expect_read_error(path, "/gpus/mig_model row 3", "is not a MIG-capable GPU model", NULL);
    path = write_good("badmig3.h5");
    v = 0; /* instances on a GPU not in MIG mode */
    patch(path, "/gpus/mig_model", 3, H5T_NATIVE_INT32, &v);
    expect_read_error(path, "/gpus/mig_count row 3", "instances on a GPU not in MIG mode", NULL);
}

/* A version 1 snapshot reads with every version 1 field as written and the
 * version 2 ones neutral: no rules, start 0, modes off. */
static void test_snapshot_read_v1(void **state)
{
    (void)state;
    ss_cluster_t *c = build(), *r = NULL;
    ss_error_t err = {{0}};
    const char *path = wpath("v1.h5");
    assert_int_equal(ss_snapshot_write(path, c, &err), 0);
    make_v1(path);
    if (ss_snapshot_read(path, &r, &err) < 0)
        fail_msg("%s", err.text);
    c->n_spreads = c->n_pterms = c->n_namespaces = c->n_pdbs = 0;
    for (int32_t i = 0; i < c->n_templates; i++) {
        ss_template_t *t = &c->templates[i];
        t->spread_begin = t->spread_count = t->pterm_begin = t->pterm_count = 0;
        t->flags = 0;
    }
    for (int32_t i = 0; i < c->n_pods; i++)
        c->pod_start[i] = 0;
    c->default_spreading = SS_SPREAD_DEFAULT_NONE;
    c->locality = SS_LOCALITY_OFF;
    drop_mig(c);
    assert_same_cluster(c, r);
    assert_non_null(r->pod_start);
    ss_cluster_destroy(r);
    ss_cluster_destroy(c);
}

/* A version 2 file lacking a version 2 dataset or attribute is refused. */
static void test_snapshot_read_v2_incomplete(void **state)
{
    (void)state;
    const char *path = write_good("v2nostart.h5");
    hid_t f = open_rw(path);
    assert_true(H5Ldelete(f, "/pods/start", H5P_DEFAULT) >= 0);
    H5Fclose(f);
    expect_read_error(path, "dataset /pods/start is missing", NULL);
    path = write_good("v2nomode.h5");
    f = open_rw(path);
    assert_true(H5Adelete(f, "locality") >= 0);
    H5Fclose(f);
    expect_read_error(path, "attribute default_spreading or locality missing on /", NULL);
}

/* A version 1 placements file: no victims, and the placed rows read as
 * committed in row order. */
static void test_placements_read_v1(void **state)
{
    (void)state;
    ss_cluster_t *c = build();
    ss_placements_t *p = make_placements(c), *q = NULL;
    ss_error_t err = {{0}};
    const char *path = wpath("pv1.h5");
    p->n_victims = 0;
    assert_int_equal(ss_placements_write(path, c, p, &err), 0);
    make_v1(path);
    if (ss_placements_read(path, c, &q, &err) < 0)
        fail_msg("%s", err.text);
    assert_int_equal(q->n_victims, 0);
    assert_int_equal(q->seq[0], 0);
    assert_int_equal(q->seq[1], 1);
    assert_int_equal(q->seq[2], -1);
    assert_memory_equal(q->node, p->node, 3 * sizeof(int32_t));
    ss_placements_destroy(q);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* The writer refuses a bad commit order or victim, naming the dataset and
 * row, and leaves nothing. */
static void test_placements_write_rejects_bad_order(void **state)
{
    (void)state;
    static const struct {
        int32_t seq0, seq1, seq2, vrow, vpod;
        const char *want;
    } cases[] = {
        {0, 0, -1, 0, 1, "/placements/seq row 1: commit position 0 appears twice"},
        {1, 0, 2, 0, 1, "/placements/seq row 2: 2 is not -1 (unplaced)"},
        {1, -1, -1, 0, 1, "/placements/seq row 1: a placed pod without a commit position"},
        {1, 0, -1, 2, 1, "/victims/row row 0: 2 is not a placed row"},
        {1, 0, -1, 0, 3, "/victims/pod row 0: pod 3 (ml/train-1) is not running"},
        {1, 0, -1, 0, 9, "/victims/pod row 0: pod 9 out of range"},
        {1, 0, -1, 1, 1, "/victims/pod row 0: pod 1 (ml/train-0) runs on another node"},
    };
    ss_cluster_t *c = build();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ss_placements_t *p = make_placements(c);
        ss_error_t err = {{0}};
        const char *path = wpath("pord.h5");
        p->seq[0] = cases[i].seq0, p->seq[1] = cases[i].seq1, p->seq[2] = cases[i].seq2;
        p->victim_row[0] = cases[i].vrow, p->victim_pod[0] = cases[i].vpod;
        assert_true(ss_placements_write(path, c, p, &err) < 0);
        print_message("expected error: %s\n", err.text);
        if (!strstr(err.text, cases[i].want))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.text, cases[i].want);
        assert_false(exists(path));
        assert_false(tmp_left());
        ss_placements_destroy(p);
    }
    /* the same victim twice */
    ss_placements_t *p = make_placements(c);
    ss_error_t err = {{0}};
    assert_int_equal(ss_placements_add_victim(p, 0, 1), 0);
    assert_true(ss_placements_write(wpath("pord.h5"), c, p, &err) < 0);
    assert_non_null(strstr(err.text, "/victims/pod row 1: pod 1 is a victim twice"));
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* The reader checks victims against the cluster too (a file written by
 * another tool). */
static void test_placements_read_bad_victim(void **state)
{
    (void)state;
    ss_cluster_t *c = build();
    ss_placements_t *p = make_placements(c), *q = NULL;
    ss_error_t err = {{0}};
    const char *path = wpath("pvict.h5");
    assert_int_equal(ss_placements_write(path, c, p, &err), 0);
    int32_t pending = 2; /* web-1 */
    patch(path, "/victims/pod", 0, H5T_NATIVE_INT32, &pending);
    assert_true(ss_placements_read(path, c, &q, &err) < 0);
    assert_null(q);
    assert_non_null(strstr(err.text, path));
    assert_non_null(strstr(err.text, "/victims/pod row 0: pod 2 (default/web-1) is not running"));
    int32_t dup = 0;
    patch(path, "/placements/seq", 0, H5T_NATIVE_INT32, &dup);
    assert_true(ss_placements_read_unchecked(path, &q, &err) < 0);
    assert_non_null(strstr(err.text, "commit position 0 appears twice"));
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* inspect's counts of the rules (ss_rule_counts), on a file read back. */
static void test_rule_counts(void **state)
{
    (void)state;
    ss_cluster_t *c = build(), *r = NULL;
    ss_error_t err = {{0}};
    assert_int_equal(ss_snapshot_write(wpath("rc.h5"), c, &err), 0);
    assert_int_equal(ss_snapshot_read(wpath("rc.h5"), &r, &err), 0);
    ss_rule_counts_t n;
    ss_rule_counts(r, &n);
    assert_int_equal(n.spreads, 2);
    assert_int_equal(n.spreads_hard, 1);
    assert_int_equal(n.affinity_req, 0);
    assert_int_equal(n.affinity_pref, 1);
    assert_int_equal(n.anti_req, 1);
    assert_int_equal(n.anti_pref, 0);
    assert_int_equal(n.pods_spread, 2); /* web-0, web-1 */
    assert_int_equal(n.pods_pterm, 5);
    assert_int_equal(n.pods_started, 2);
    assert_int_equal(n.pdbs, 2);
    assert_int_equal(n.pdbs_from_status, 1);
    assert_int_equal(n.namespaces, 2);
    assert_string_equal(ss_default_spreading_name(n.default_spreading), "system");
    assert_string_equal(ss_locality_name(n.locality), "zone");
    ss_cluster_destroy(r);
    ss_cluster_destroy(c);
}

static int setup(void **state)
{
    (void)state;
    return ss_test_workdir_make("ss_test_snapshot");
}

static int teardown(void **state)
{
    (void)state;
    return ss_test_workdir_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_round_trip_every_field),
        cmocka_unit_test(test_snapshot_round_trip_empty),
        cmocka_unit_test(test_snapshot_write_byte_identical),
        cmocka_unit_test(test_h5_col_read_row_range),
        cmocka_unit_test(test_placements_round_trip),
        cmocka_unit_test(test_placements_write_rejects_wrong_rows),
        cmocka_unit_test(test_placements_read_bad_input),
        cmocka_unit_test(test_placements_preempt_with),
        cmocka_unit_test(test_snapshot_read_vlen_kind),
        cmocka_unit_test(test_snapshot_read_v1),
        cmocka_unit_test(test_snapshot_read_v2_incomplete),
        cmocka_unit_test(test_snapshot_read_v2),
        cmocka_unit_test(test_snapshot_read_v3),
        cmocka_unit_test(test_snapshot_read_v4),
        cmocka_unit_test(test_snapshot_read_v5),
        cmocka_unit_test(test_snapshot_levels_subgroups),
        cmocka_unit_test(test_snapshot_read_bad_mig),
        cmocka_unit_test(test_placements_read_v1),
        cmocka_unit_test(test_placements_write_rejects_bad_order),
        cmocka_unit_test(test_placements_read_bad_victim),
        cmocka_unit_test(test_rule_counts),
        cmocka_unit_test(test_snapshot_read_missing_file),
        cmocka_unit_test(test_snapshot_read_truncated),
        cmocka_unit_test(test_snapshot_read_missing_dataset),
        cmocka_unit_test(test_snapshot_read_wrong_type),
        cmocka_unit_test(test_snapshot_read_disagreeing_lengths),
        cmocka_unit_test(test_snapshot_read_bad_values),
        cmocka_unit_test(test_snapshot_read_duplicate_names),
        cmocka_unit_test(test_snapshot_read_newer_version),
        cmocka_unit_test(test_snapshot_write_refuses_invalid),
        cmocka_unit_test(test_snapshot_write_missing_directory),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
