/* test_snapshot_hostile: regression tests for issue 10's snapshot items.
 * Hostile or careless contents inside a valid HDF5 file: string-table offsets
 * and lengths out of range, CSR ranges and row references out of range,
 * overlapping GPU ranges, unknown enumerations (item 12); datasets declaring
 * far more rows than they store (item 13); values whose sums overflow int64
 * in the engine's free capacity and the verifier's usage (item 9); the
 * snapshot fingerprint of placements (item 6); messages naming the object
 * (item 18). Every read must fail with one line naming the file, the dataset
 * and the object, never crash, and leave no file behind. */
#include <hdf5.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "ss_h5util.h"
#include "ss_reason.h"
#include "ss_snapshot.h"
#include "ss_state.h"
#include "ss_verify.h"

#include "ss_test_files.h"

/* Two nodes (one with two GPUs), a label, a taint, a toleration, an
 * expression, a template, a running and two pending pods, a pod group. */
static ss_cluster_t *small(void)
{
    ss_cluster_t *c = ss_cluster_create();
    assert_non_null(c);
#define S(x) ss_cluster_str(c, x)
    int32_t lab = ss_cluster_add_label(c, S("disk"), S("ssd"));
    int32_t tnt = ss_cluster_add_taint(c, S("gpu"), S("yes"), SS_EFFECT_NO_SCHEDULE);
    int32_t g0 = ss_cluster_add_gpu(c, S("A100"), 1000);
    ss_cluster_add_gpu(c, S("A100"), 1000);
    int32_t z[4] = {S("r"), S("z"), S("b"), S("k")};
    ss_cluster_add_node(c, S("node-a"), z, 8000, INT64_C(32) << 30, 110, NULL, false, lab, 1, tnt,
                        1, g0, 2);
    ss_cluster_add_node(c, S("node-b"), z, 8000, INT64_C(32) << 30, 110, NULL, false, 0, 0, 0, 0, 0,
                        0);
    int32_t tol = ss_cluster_add_toleration(c, S("gpu"), 0, SS_TOL_EXISTS, SS_EFFECT_ANY);
    int32_t v = ss_cluster_add_expr_value(c, S("ssd"));
    int32_t e = ss_cluster_add_expr(c, S("disk"), SS_OP_IN, 0, v, 1);
    int32_t term = ss_cluster_add_term(c, e, 1, 0);
    ss_template_t t = {0};
    t.req = (ss_request_t){.cpu_milli = 500, .memory = 1 << 30};
    t.tol_begin = tol, t.tol_count = 1, t.req_begin = term, t.req_count = 1;
    t.workload = S("deploy/web");
    ss_cluster_add_template(c, &t);
    int32_t grp = ss_cluster_add_group(c, S("gang"), 1, SS_TOPO_RACK, SS_TOPO_MODE_NONE);
    ss_cluster_add_pod(c, S("web-0"), S("default"), 0, 0, -1, 0, 0);
    ss_cluster_add_pod(c, S("web-1"), S("default"), 0, 0, grp, -1, 0);
    ss_cluster_add_pod(c, S("web-2"), S("default"), 0, 0, -1, -1, 0);
#undef S
    ss_error_t err = {{0}};
    assert_int_equal(ss_cluster_validate(c, &err), 0);
    return c;
}

static const char *write_small(const char *name)
{
    ss_cluster_t *c = small();
    ss_error_t err = {{0}};
    const char *path = wpath(name);
    assert_int_equal(ss_snapshot_write(path, c, &err), 0);
    ss_cluster_destroy(c);
    return path;
}

/* Reads path expecting failure with every NULL-terminated string in the
 * one-line message; nothing may be left behind. */
static void expect_read_error(const char *path, ...)
{
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    if (ss_snapshot_read(path, &c, &err) == 0)
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
    assert_false(tmp_left());
    assert_false(exists(wpath("out.h5")));
}

/* Overwrites element row of a 1-D column (or, with cols > 0, element
 * [row][col] of a 2-D one) in place. */
static void patch(const char *path, const char *dset, hsize_t row, hsize_t col, int rank, hid_t mt,
                  const void *v)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t d = H5Dopen2(f, dset, H5P_DEFAULT);
    assert_true(d >= 0);
    hsize_t start[2] = {row, col}, one[2] = {1, 1};
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(rank, one, NULL);
    assert_true(H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, one, NULL) >= 0);
    assert_true(H5Dwrite(d, mt, ms, fs, H5P_DEFAULT, v) >= 0);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
    H5Fclose(f);
}

static void patch_i32(const char *path, const char *dset, hsize_t row, int32_t v)
{
    patch(path, dset, row, 0, 1, H5T_NATIVE_INT32, &v);
}

static void patch_i64(const char *path, const char *dset, hsize_t row, int64_t v)
{
    patch(path, dset, row, 0, 1, H5T_NATIVE_INT64, &v);
}

/* ------------------------------------------------ item 12: offsets, ranges */

static void test_string_offsets_out_of_range(void **state)
{
    (void)state;
    const char *p = write_small("off1.h5");
    patch_i64(p, "/strings/offsets", 1, INT64_C(1) << 40); /* past the data */
    expect_read_error(p, "/strings/offsets", NULL);
    p = write_small("off2.h5");
    patch_i64(p, "/strings/offsets", 2, -7); /* negative */
    expect_read_error(p, "/strings/offsets", NULL);
    p = write_small("off3.h5");
    patch_i64(p, "/strings/offsets", 0, 3); /* does not start at 0 */
    expect_read_error(p, "/strings/offsets", NULL);
    p = write_small("off4.h5");
    patch_i64(p, "/strings/offsets", 3, 1); /* not increasing */
    expect_read_error(p, "/strings/offsets", NULL);
    /* the last offset must be the data size */
    p = write_small("off5.h5");
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "/strings/offsets", H5P_DEFAULT), sp = H5Dget_space(d);
    hsize_t n = 0;
    H5Sget_simple_extent_dims(sp, &n, NULL);
    H5Sclose(sp);
    H5Dclose(d);
    H5Fclose(f);
    patch_i64(p, "/strings/offsets", n - 1, INT64_MAX);
    expect_read_error(p, "/strings/offsets", NULL);
    /* a string id past the table, in every kind of column that holds one */
    static const char *const sid_cols[] = {
        "/pods/name", "/pods/namespace", "/labels/value", "/taints/key",         "/tolerations/key",
        "/exprs/key", "/exprs/values",   "/groups/name",  "/templates/workload", "/gpus/model"};
    p = write_small("sidtopo.h5");
    int32_t far = 1000000;
    patch(p, "/nodes/topo", 0, 1, 2, H5T_NATIVE_INT32, &far);
    expect_read_error(p, "/nodes/zone row 0 (node node-a): string id out of range", NULL);
    for (size_t i = 0; i < sizeof sid_cols / sizeof *sid_cols; i++) {
        char name[32];
        snprintf(name, sizeof name, "sid%zu.h5", i);
        p = write_small(name);
        patch_i32(p, sid_cols[i], 0, 1000000);
        expect_read_error(p, sid_cols[i], "string id out of range", NULL);
    }
}

static void test_ranges_and_references_out_of_range(void **state)
{
    (void)state;
    static const struct {
        const char *col, *want;
        int32_t v;
    } cases[] = {
        {"/nodes/label_begin", "/nodes/label_begin row 0 (node node-a)", INT32_MAX},
        {"/nodes/label_count", "/nodes/label_begin row 0 (node node-a)", -1},
        {"/nodes/taint_begin", "/nodes/taint_begin row 0 (node node-a)", 1},
        {"/nodes/gpu_begin", "/nodes/gpu_begin row 0 (node node-a)", INT32_MAX - 1},
        {"/nodes/gpu_count", "/nodes/gpu_begin row 0 (node node-a)", 3},
        {"/templates/tol_begin", "/templates/tol_begin row 0 (template of pod default/web-0)", -5},
        {"/templates/req_count", "/templates/req_begin row 0", INT32_MAX},
        {"/terms/expr_begin", "/terms/expr_begin row 0", 1},
        {"/exprs/val_count", "/exprs/val_begin row 0", 2},
        {"/pods/template", "/pods/template row 1 (pod default/web-1)", 1},
        {"/pods/group", "/pods/group row 1 (pod default/web-1)", -2},
        {"/pods/node", "/pods/node row 2 (pod default/web-2)", 2},
        {"/taints/effect", "/taints/effect row 0", 9},
        {"/tolerations/op", "/tolerations/op row 0", 7},
        {"/exprs/op", "/exprs/op row 0", 99},
        {"/groups/topo_mode", "/groups/topo_mode row 0 (pod group gang)", 5},
        {"/groups/topo_level", "/groups/topo_level row 0 (pod group gang)", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char name[32];
        snprintf(name, sizeof name, "rng%zu.h5", i);
        const char *p = write_small(name);
        hsize_t row = strstr(cases[i].want, "row 1") ? 1 : strstr(cases[i].want, "row 2") ? 2 : 0;
        patch_i32(p, cases[i].col, row, cases[i].v);
        expect_read_error(p, cases[i].want, NULL);
    }
    /* node-b's GPU range overlapping node-a's */
    const char *p = write_small("gpuover.h5");
    patch_i32(p, "/nodes/gpu_begin", 1, 1);
    patch_i32(p, "/nodes/gpu_count", 1, 1);
    expect_read_error(p, "/nodes/gpu_begin row 1 (node node-b)", "overlaps", NULL);
}

static void test_range_error_names_the_node(void **state)
{
    (void)state;
    const char *p = write_small("negmem.h5");
    patch_i64(p, "/nodes/memory", 1, -1);
    expect_read_error(p, "/nodes/memory row 1 (node node-b): negative or absurd value", NULL);
}

/* ------------------------------------------- item 13: declared sizes */

/* Replaces every column of group (all of whose columns are 1-D int32 or
 * int64 / uint64 / uint8 as listed) by chunked, compressed datasets of n rows
 * with nothing written: the file stays tiny and declares n rows. */
static void declare_rows(const char *path, const char *const *cols, const hid_t *types, int ncols,
                         hsize_t n)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    for (int i = 0; i < ncols; i++) {
        assert_true(H5Ldelete(f, cols[i], H5P_DEFAULT) >= 0);
        hsize_t chunk = n < 65536 ? n : 65536;
        hid_t sp = H5Screate_simple(1, &n, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_chunk(dcpl, 1, &chunk);
        H5Pset_deflate(dcpl, 1);
        hid_t d = H5Dcreate2(f, cols[i], types[i], sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        assert_true(d >= 0);
        H5Dclose(d);
        H5Pclose(dcpl);
        H5Sclose(sp);
    }
    H5Fclose(f);
}

static long maxrss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void test_declared_rows_beyond_storage(void **state)
{
    (void)state;
    static const char *const pods[] = {"/pods/name",     "/pods/namespace", "/pods/template",
                                       "/pods/priority", "/pods/group",     "/pods/node",
                                       "/pods/gpu_mask"};
    const hid_t types[] = {H5T_STD_I32LE, H5T_STD_I32LE, H5T_STD_I32LE, H5T_STD_I32LE,
                           H5T_STD_I32LE, H5T_STD_I32LE, H5T_STD_U64LE};
    const char *p = write_small("50m.h5");
    declare_rows(p, pods, types, 7, 50000000);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_true(st.st_size < 1 << 20);
    long before = maxrss_kib();
    expect_read_error(p, "dataset /pods/name declares 50000000 rows", "stores only", NULL);
    long grew = maxrss_kib() - before;
    print_message("peak RSS grew by %ld KiB\n", grew);
    assert_true(grew < 64 * 1024); /* the file used 1.5 GB */
    /* the string data has a bound too */
    static const char *const data[] = {"/strings/data"};
    const hid_t u8[] = {H5T_STD_U8LE};
    p = write_small("strdata.h5");
    declare_rows(p, data, u8, 1, (hsize_t)1 << 32);
    expect_read_error(p, "dataset /strings/data declares 4294967296 rows", NULL);
    /* more offsets than the data has bytes for */
    p = write_small("stroff.h5");
    static const char *const off[] = {"/strings/offsets"};
    const hid_t i64[] = {H5T_STD_I64LE};
    declare_rows(p, off, i64, 1, 4000);
    expect_read_error(p, "/strings/offsets declares 3999 strings", NULL);
    /* a legitimate, highly compressible column is not refused: 1M zero
     * GPU masks (8 MB in about 8 KB) are written and read back */
    ss_cluster_t *c = ss_cluster_create();
    int32_t z[4] = {0, 0, 0, 0};
    ss_cluster_add_node(c, ss_cluster_str(c, "n"), z, 1000, 1000, 110, NULL, false, 0, 0, 0, 0, 0,
                        0);
    ss_template_t t = {0};
    ss_cluster_add_template(c, &t);
    for (int i = 0; i < 1000000; i++) { /* one name a pod: a snapshot names a pod once */
        char nm[16];
        snprintf(nm, sizeof nm, "p%d", i);
        ss_cluster_add_pod(c, ss_cluster_str(c, nm), 0, 0, 0, -1, -1, 0);
    }
    ss_error_t err = {{0}};
    const char *big = wpath("zeros.h5");
    assert_int_equal(ss_snapshot_write(big, c, &err), 0);
    ss_cluster_t *back = NULL;
    if (ss_snapshot_read(big, &back, &err) != 0)
        fail_msg("%s", err.text);
    assert_int_equal(back->n_pods, 1000000);
    ss_cluster_destroy(back);
    ss_cluster_destroy(c);
}

/* ------------------------------------------- item 9: overflow */

/* One node with 2^56 bytes and 200 running pods of 2^56 bytes each: the
 * sum is -199 x 2^56, below INT64_MIN, and used to wrap to +4e18. */
static ss_cluster_t *overcommitted(void)
{
    ss_cluster_t *c = ss_cluster_create();
    int64_t big = INT64_C(1) << 56;
    int32_t z[4] = {0, 0, 0, 0};
    ss_cluster_add_node(c, ss_cluster_str(c, "fat"), z, INT64_C(1) << 40, big, 1000000, NULL, false,
                        0, 0, 0, 0, 0, 0);
    ss_template_t t = {0};
    t.req.memory = big; /* memory only: cpu, pods fit */
    ss_cluster_add_template(c, &t);
    t.req.memory = 1;
    t.req.cpu_milli = 1;
    ss_cluster_add_template(c, &t);
    for (int i = 0; i < 200; i++) {
        char name[16];
        snprintf(name, sizeof name, "run-%d", i);
        ss_cluster_add_pod(c, ss_cluster_str(c, name), 0, 0, 0, -1, 0, 0);
    }
    ss_cluster_add_pod(c, ss_cluster_str(c, "small"), 0, 1, 0, -1, -1, 0);
    ss_error_t err = {{0}};
    assert_int_equal(ss_cluster_validate(c, &err), 0); /* the format allows it */
    return c;
}

static void test_overcommitted_node_never_wraps(void **state)
{
    (void)state;
    ss_cluster_t *c = overcommitted();
    ss_state_t *s = ss_state_create(c);
    assert_non_null(s);
    assert_true(s->free_mem[0] < 0);
    assert_int_equal(ss_state_fit(s, &c->templates[1], 0), SS_REASON_MEMORY);
    ss_state_destroy(s);
    /* the verifier reports the overcommitment of a placement there */
    ss_placements_t *p = ss_placements_create(1);
    p->pod[0] = 200;
    p->node[0] = 0;
    p->reason[0] = SS_REASON_NONE;
    ss_verify_report_t rep;
    ss_error_t err = {{0}};
    int64_t nv = ss_verify(c, p, &rep, &err);
    assert_true(rep.by_rule[SS_VRULE_MEMORY] == 1);
    assert_true(nv >= 1);
    assert_true(rep.summary.res[SS_RES_MEMORY].before > 0); /* saturated, not wrapped */
    assert_true(rep.summary.res[SS_RES_MEMORY].after >= rep.summary.res[SS_RES_MEMORY].before);
    ss_verify_report_free(&rep);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* ------------------------------------------- item 6: fingerprint */

static void test_placements_fingerprint(void **state)
{
    (void)state;
    ss_cluster_t *c = small(), *d = small();
    ss_placements_t *p = ss_placements_create(2), *q = NULL;
    p->pod[0] = 1, p->pod[1] = 2;
    p->reason[0] = p->reason[1] = SS_REASON_CPU;
    snprintf(p->policy, sizeof p->policy, "least-allocated");
    ss_error_t err = {{0}};
    const char *path = wpath("fp.h5");
    assert_int_equal(ss_placements_write(path, c, p, &err), 0);
    assert_int_equal(ss_placements_read(path, c, &q, &err), 0);
    assert_int_equal(q->has_fingerprint, 1);
    assert_true(q->fingerprint == ss_cluster_fingerprint(c));
    ss_placements_destroy(q);
    /* the same shape, another pod name: another snapshot */
    d->pod_name[2] = ss_cluster_str(d, "web-9");
    assert_true(ss_cluster_fingerprint(d) != ss_cluster_fingerprint(c));
    assert_true(ss_placements_read(path, d, &q, &err) < 0);
    assert_null(q);
    print_message("expected error: %s\n", err.text);
    assert_non_null(strstr(err.text, "fp.h5 was computed for another snapshot (fingerprint "));
    assert_non_null(strstr(err.text, ", this snapshot is "));
    /* capacities are not identity: the fingerprint stays */
    d->pod_name[2] = c->pod_name[2];
    d->node_cpu[0] = 1;
    assert_true(ss_cluster_fingerprint(d) == ss_cluster_fingerprint(c));
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
    ss_cluster_destroy(d);
}

/* ---------------------------- format version 2: the inter-pod rules' tables */

/* small() plus one of each version 2 row: a spread constraint and a pod term
 * on template 0 (selector: the expression disk In (ssd)), a namespace with
 * the label, two PDBs, a start time and both modes. */
static const char *write_rules(const char *name)
{
    ss_cluster_t *c = small();
#define S(x) ss_cluster_str(c, x)
    ss_spread_t sp = {.max_skew = 1,
                      .key = S("zone"),
                      .when = SS_WHEN_DO_NOT_SCHEDULE,
                      .min_domains = 1,
                      .node_taints_policy = SS_INCL_IGNORE,
                      .sel = {0, 1, 0}};
    ss_podterm_t pt = {.kind = SS_PT_ANTI_AFFINITY,
                       .weight = 0,
                       .key = S("zone"),
                       .sel = {0, 1, 0},
                       .ns_begin = 0,
                       .ns_count = 1,
                       .ns_sel = {0, 0, 1}};
    c->templates[0].spread_begin = ss_cluster_add_spread(c, &sp);
    c->templates[0].spread_count = 1;
    c->templates[0].pterm_begin = ss_cluster_add_pterm(c, &pt);
    c->templates[0].pterm_count = 1;
    c->templates[0].flags = SS_TF_CONTROLLER;
    ss_cluster_add_namespace(c, S("default"), 0, 1);
    ss_cluster_add_namespace(c, S("other"), 0, 0);
    ss_pdb_t pdb = {.name = S("web"),
                    .ns = S("default"),
                    .sel = {0, 1, 0},
                    .min_available = 1,
                    .max_unavailable = -1,
                    .allowed = -1};
    ss_cluster_add_pdb(c, &pdb);
    ss_cluster_add_pdb(c, &pdb);
    c->pdbs[1].name = S("web-2");
    ss_cluster_set_pod_start(c, 0, 1700000000);
    c->default_spreading = SS_SPREAD_DEFAULT_SYSTEM;
    c->locality = SS_LOCALITY_ZONE;
#undef S
    ss_error_t err = {{0}};
    const char *path = wpath(name);
    if (ss_snapshot_write(path, c, &err) < 0)
        fail_msg("%s", err.text);
    ss_cluster_destroy(c);
    return path;
}

/* Every version 2 field out of its range, each refused by the reader with
 * the dataset, the row and what is wrong (and, for rows of named objects,
 * which one). */
static void test_rule_tables_hostile(void **state)
{
    (void)state;
    static const struct {
        const char *dset;
        int32_t row, v;
        const char *want;
    } cases[] = {
        {"/spreads/sel_begin", 0, 99, "/spreads/sel_begin row 0: range outside /exprs"},
        {"/spreads/sel_count", 0, -1, "/spreads/sel_begin row 0: range outside /exprs"},
        {"/spreads/sel_null", 0, 2, "/spreads/sel_null row 0: not 0 or 1"},
        {"/spreads/sel_null", 0, 1, "/spreads/sel_count row 0: requirements on a null"},
        {"/spreads/key", 0, 1 << 20, "/spreads/key row 0: string id out of range"},
        {"/spreads/when", 0, 2, "/spreads/when row 0: not 0 (DoNotSchedule) or 1"},
        {"/spreads/max_skew", 0, 0, "/spreads/max_skew row 0: must be at least 1"},
        {"/spreads/min_domains", 0, -3, "/spreads/min_domains row 0: must be at least 1"},
        {"/spreads/node_affinity_policy", 0, 2, "/spreads/node_affinity_policy row 0: not 0"},
        {"/spreads/node_taints_policy", 0, -1, "/spreads/node_taints_policy row 0: not 0"},
        {"/pterms/kind", 0, 2, "/pterms/kind row 0: not 0 (affinity) or 1 (anti-affinity)"},
        {"/pterms/weight", 0, 101, "/pterms/weight row 0: must be 0 (required) or 1..100"},
        {"/pterms/weight", 0, -1, "/pterms/weight row 0: must be 0"},
        {"/pterms/key", 0, -1, "/pterms/key row 0: string id out of range"},
        {"/pterms/sel_begin", 0, 1, "/pterms/sel_begin row 0: range outside /exprs"},
        {"/pterms/ns_begin", 0, 1, "/pterms/ns_begin row 0: range outside /exprs/values"},
        {"/pterms/ns_sel_null", 0, 3, "/pterms/ns_sel_null row 0: not 0 or 1"},
        {"/pterms/ns_sel_count", 0, 3, "/pterms/ns_sel_begin row 0: range outside /exprs"},
        {"/templates/spread_count", 0, 2,
         "/templates/spread_begin row 0 (template of pod default/web-0): range outside /spreads"},
        {"/templates/pterm_begin", 0, -1, "/templates/pterm_begin row 0 (template of pod "},
        /* bits 1 .. 512 are defined (format version 5) */
        {"/templates/flags", 0, 1 << 10, "/templates/flags row 0 (template of pod "},
        {"/namespaces/name", 1, 1 << 20,
         "/namespaces/name row 1 (namespace ?): string id out of range"},
        {"/namespaces/label_count", 0, 2,
         "/namespaces/label_begin row 0 (namespace default): range outside /labels"},
        {"/pdbs/name", 0, 1 << 20, "/pdbs/name row 0"},
        {"/pdbs/ns", 1, -2, "/pdbs/ns row 1"},
        {"/pdbs/sel_count", 0, 2,
         "/pdbs/sel_begin row 0 (PodDisruptionBudget default/web): range outside /exprs"},
        {"/pdbs/min_available", 0, -2, "/pdbs/min_available row 0 (PodDisruptionBudget "},
        {"/pdbs/min_pct", 0, 2, "/pdbs/min_pct row 0"},
        {"/pdbs/max_pct", 1, 1, "/pdbs/max_pct row 1 (PodDisruptionBudget default/web-2): not 0"},
        {"/pdbs/max_unavailable", 1, 0,
         "/pdbs/max_unavailable row 1 (PodDisruptionBudget "
         "default/web-2): set together with min_available"},
        {"/pdbs/allowed", 0, -2,
         "/pdbs/allowed row 0 (PodDisruptionBudget default/web): must "
         "be -1 (computed) or >= 0"},
        {"/pdbs/always_allow", 1, 3, "/pdbs/always_allow row 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = write_rules("rules.h5");
        patch_i32(p, cases[i].dset, (hsize_t)cases[i].row, cases[i].v);
        expect_read_error(p, cases[i].want, NULL);
    }
    /* a percentage above 100 */
    const char *p = write_rules("pct.h5");
    patch_i32(p, "/pdbs/min_pct", 0, 1);
    patch_i32(p, "/pdbs/min_available", 0, 101);
    expect_read_error(p,
                      "/pdbs/min_available row 0 (PodDisruptionBudget default/web): a "
                      "percentage must be 0..100",
                      NULL);
    /* a negative start time, a namespace twice, modes out of range */
    p = write_rules("start.h5");
    patch_i64(p, "/pods/start", 2, -1);
    expect_read_error(p, "/pods/start row 2 (pod default/web-2): negative start time", NULL);
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    p = write_rules("dupns.h5"); /* row 1 gets row 0's name */
    {
        hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
        int32_t ns0 = 0;
        assert_int_equal(
            ss_h5_col_read(f, p, "/namespaces/name", SS_H5_I32, 1, 0, 0, 1, &ns0, &err), 0);
        H5Fclose(f);
        patch_i32(p, "/namespaces/name", 1, ns0);
    }
    expect_read_error(p, "/namespaces rows 0 and 1 (namespace default): the same name twice", NULL);
    static const char *const modes[] = {"default_spreading", "locality"};
    for (int m = 0; m < 2; m++) {
        p = write_rules("mode.h5");
        hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
        assert_int_equal(ss_h5_attr_write_i32(f, p, "/", modes[m], 2, &err), 0);
        H5Fclose(f);
        expect_read_error(p, "attribute", modes[m], "on /: 2 is not 0", NULL);
    }
    assert_null(c);
}

/* The writer refuses the same values before writing anything. */
static void test_rule_tables_writer_refuses(void **state)
{
    (void)state;
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    const char *good = write_rules("good.h5");
    assert_int_equal(ss_snapshot_read(good, &c, &err), 0);
    const char *out = wpath("out.h5");
    c->pterms[0].weight = 1000;
    assert_true(ss_snapshot_write(out, c, &err) < 0);
    assert_non_null(strstr(err.text, "refusing to write an invalid cluster: /pterms/weight row 0"));
    assert_false(exists(out));
    c->pterms[0].weight = 0;
    c->spreads[0].key = -5;
    assert_true(ss_snapshot_write(out, c, &err) < 0);
    assert_non_null(strstr(err.text, "/spreads/key row 0: string id out of range"));
    assert_false(exists(out));
    assert_false(tmp_left());
    ss_cluster_destroy(c);
}

static int setup(void **state)
{
    (void)state;
    ss_h5_quiet();
    return ss_test_workdir_make("ss_test_hostile");
}

static int teardown(void **state)
{
    (void)state;
    return ss_test_workdir_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_offsets_out_of_range),
        cmocka_unit_test(test_ranges_and_references_out_of_range),
        cmocka_unit_test(test_range_error_names_the_node),
        cmocka_unit_test(test_declared_rows_beyond_storage),
        cmocka_unit_test(test_overcommitted_node_never_wraps),
        cmocka_unit_test(test_placements_fingerprint),
        cmocka_unit_test(test_rule_tables_hostile),
        cmocka_unit_test(test_rule_tables_writer_refuses),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
