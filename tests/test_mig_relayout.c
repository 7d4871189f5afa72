/* test_mig_relayout: MIG re-layout (issue 15, docs/mig.md "Re-layout"):
 * the choice on hand-made clusters with hand-computed layouts (2x 3g over
 * 7x 1g for a pair of 3g pods, a 7g pod blocked by a running 1g instance,
 * busy GPUs never touched, fewest GPUs, MIG disabled for whole-GPU pods,
 * the node's free room), apply() and its refusals (nothing changed), the
 * placements file's /mig_relayout round trip and its bad input, and the
 * mig-parted configuration read back by the importer's --mig-config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <hdf5.h>

#include "ss_kube_import.h"
#include "ss_mig.h"
#include "ss_mig_relayout.h"
#include "ss_reason.h"
#include "ss_snapshot.h"
#include "ss_state.h"

#include "ss_test_files.h"

#define H100 "NVIDIA-H100-80GB-HBM3"

static int32_t S(ss_cluster_t *c, const char *s)
{
    int32_t id = ss_cluster_str(c, s);
    assert_true(id >= 0);
    return id;
}

/* A node of n GPUs of board product (cpu milli as given). */
static int32_t add_node(ss_cluster_t *c, const char *name, int n, const char *product, int64_t cpu)
{
    int32_t topo[4] = {S(c, "r"), S(c, "z"), S(c, "b"), S(c, "k")};
    int32_t begin = c->n_gpus;
    for (int i = 0; i < n; i++)
        assert_true(ss_cluster_add_gpu(c, S(c, product), SS_GPU_MILLI) >= 0);
    int32_t id = ss_cluster_add_node(c, S(c, name), topo, cpu, 1LL << 38, 110, NULL, false, 0, 0, 0,
                                     0, begin, n);
    assert_true(id >= 0);
    return id;
}

/* Puts GPU g in MIG mode with the canonical layout of "profile:count"
 * pairs ("1g.10gb:7", "" = no instance), on the board's model. */
static void set_mig(ss_cluster_t *c, int32_t g, const char *spec)
{
    int mi = ss_mig_find_model(ss_cluster_strget(c, c->gpu_model[g]));
    const ss_mig_model_t *m = ss_mig_model(mi);
    assert_non_null(m);
    int32_t counts[SS_MIG_MAX_PROFILES] = {0};
    char buf[256], *save = NULL;
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *colon = strchr(tok, ':');
        assert_non_null(colon);
        *colon = 0;
        int p = ss_mig_find_profile(m, tok);
        assert_true(p >= 0);
        counts[p] += atoi(colon + 1);
    }
    ss_mig_layout_t l;
    ss_error_t err = {{0}};
    assert_int_equal(ss_mig_canonical(m, counts, &l, &err), 0);
    ss_mig_instance_t inst[SS_MIG_MAX_INSTANCES];
    for (int i = 0; i < l.n; i++)
        inst[i] = (ss_mig_instance_t){S(c, m->profiles[l.inst[i].profile].name), l.inst[i].start};
    assert_int_equal(ss_cluster_set_gpu_mig(c, g, S(c, m->name), inst, l.n), 0);
}

static int32_t mig_tmpl(ss_cluster_t *c, const char *profile, int32_t count)
{
    ss_template_t t;
    memset(&t, 0, sizeof t);
    t.req.cpu_milli = 1000;
    t.req.memory = 1LL << 30;
    t.mig_profile = S(c, profile);
    t.mig_count = count;
    return ss_cluster_add_template(c, &t);
}

static int32_t gpu_tmpl(ss_cluster_t *c, int32_t gpus)
{
    ss_template_t t;
    memset(&t, 0, sizeof t);
    t.req.cpu_milli = 1000;
    t.req.memory = 1LL << 30;
    t.req.gpu_count = gpus;
    t.req.gpu_milli = SS_GPU_MILLI;
    return ss_cluster_add_template(c, &t);
}

/* "-" (not in MIG mode) or "model: profile@start ..." */
static const char *show_layout(int model, const ss_mig_layout_t *l)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    const ss_mig_model_t *m = ss_mig_model(model);
    if (!m)
        return "-";
    size_t at = (size_t)snprintf(buf[k], sizeof buf[k], "%s:", m->name);
    for (int i = 0; i < l->n; i++)
        at += (size_t)snprintf(buf[k] + at, sizeof buf[k] - at, " %s@%d",
                               m->profiles[l->inst[i].profile].name, (int)l->inst[i].start);
    return buf[k];
}

/* GPU g of c as show_layout writes it. */
static const char *show_gpu(const ss_cluster_t *c, int32_t g)
{
    ss_mig_layout_t l = {0};
    if (!c->gpu_mig_model[g])
        return "-";
    const ss_mig_model_t *m =
        ss_mig_model(ss_mig_find_model(ss_cluster_strget(c, c->gpu_mig_model[g])));
    assert_non_null(m);
    for (int32_t i = 0; i < c->gpu_mig_count[g]; i++) {
        const ss_mig_instance_t *x = &c->mig_insts[c->gpu_mig_begin[g] + i];
        l.inst[l.n++] = (ss_mig_inst_t){
            (int8_t)ss_mig_find_profile(m, ss_cluster_strget(c, x->profile)), (int8_t)x->start};
    }
    return show_layout(ss_mig_find_model(m->name), &l);
}

static const char *show_row(const ss_placements_t *p, int32_t i)
{
    return show_layout(p->relayout_model[i], &p->relayout[i]);
}

/* Runs the choice on a fresh state of c. */
static ss_placements_t *choose(const ss_cluster_t *c, const uint8_t *busy,
                               const ss_relayout_demand_t *d, int32_t nd, int32_t *served)
{
    ss_state_t *s = ss_state_create(c);
    assert_non_null(s);
    ss_placements_t *p = ss_placements_create(0);
    assert_non_null(p);
    ss_relayout_input_t in = {.c = c, .s = s, .gpu_busy = busy, .demand = d, .n_demand = nd};
    ss_error_t err = {{0}};
    if (ss_mig_relayout_choose(&in, p, served, &err) < 0)
        fail_msg("choose: %s", err.text);
    ss_state_destroy(s);
    return p;
}

/* Issue 15: one idle H100 laid out 7x 1g, a pending pair of 3g pods: the
 * GPU becomes 2x 3g (3g.40gb at 0 and 4). Applied, the cluster validates. */
static void test_pair_of_3g(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    add_node(c, "n0", 1, H100, 64000);
    set_mig(c, 0, "1g.10gb:7");
    ss_relayout_demand_t d[] = {{mig_tmpl(c, "3g.40gb", 1), 2}};
    int32_t served[1];
    ss_placements_t *p = choose(c, NULL, d, 1, served);
    assert_int_equal(p->n_relayout, 1);
    assert_int_equal(p->relayout_gpu[0], 0);
    assert_string_equal(show_row(p, 0), "H100-80GB: 3g.40gb@0 3g.40gb@4");
    assert_int_equal(served[0], 2);
    ss_error_t err = {{0}};
    assert_int_equal(ss_mig_relayout_apply(c, p, &err), 0);
    assert_string_equal(show_gpu(c, 0), "H100-80GB: 3g.40gb@0 3g.40gb@4");
    if (ss_cluster_validate(c, &err) < 0)
        fail_msg("validate: %s", err.text);
    ss_placements_destroy(p);
    /* the same demand again: the GPU has that layout now, nothing changes */
    p = choose(c, NULL, d, 1, served);
    assert_int_equal(p->n_relayout, 0);
    assert_int_equal(served[0], 2);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* Issue 15: a 7g pod blocked by one running 1g instance. The busy GPU is
 * not re-laid out; an idle second GPU is chosen, or nothing if none. */
static void test_7g_blocked_by_1g(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    add_node(c, "n0", 2, H100, 64000);
    set_mig(c, 0, "1g.10gb:7");
    set_mig(c, 1, "1g.10gb:7");
    ss_relayout_demand_t d[] = {{mig_tmpl(c, "7g.80gb", 1), 1}};
    uint8_t busy[2] = {1, 0};
    int32_t served[1];
    ss_placements_t *p = choose(c, busy, d, 1, served);
    assert_int_equal(p->n_relayout, 1);
    assert_int_equal(p->relayout_gpu[0], 1);
    assert_string_equal(show_row(p, 0), "H100-80GB: 7g.80gb@0");
    assert_int_equal(served[0], 1);
    ss_placements_destroy(p);
    busy[1] = 1; /* no idle GPU: nothing */
    p = choose(c, busy, d, 1, served);
    assert_int_equal(p->n_relayout, 0);
    assert_int_equal(served[0], 0);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* Busy GPUs are never touched, whatever the demand (MIG or whole). */
static void test_busy_never_touched(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    add_node(c, "n0", 3, H100, 64000);
    add_node(c, "n1", 2, H100, 64000);
    for (int g = 0; g < 5; g++)
        set_mig(c, g, g % 2 ? "1g.10gb:7" : "3g.40gb:1 4g.40gb:1");
    ss_relayout_demand_t d[] = {
        {gpu_tmpl(c, 1), 3}, {mig_tmpl(c, "7g.80gb", 1), 5}, {mig_tmpl(c, "2g.20gb", 2), 5}};
    uint8_t busy[5] = {1, 1, 0, 1, 1};
    int32_t served[3];
    ss_placements_t *p = choose(c, busy, d, 3, served);
    for (int32_t i = 0; i < p->n_relayout; i++)
        assert_int_equal(p->relayout_gpu[i], 2); /* the one idle GPU */
    assert_int_equal(p->n_relayout, 1);
    /* whole-GPU demand first: the idle GPU goes MIG disabled */
    assert_string_equal(show_row(p, 0), "-");
    assert_int_equal(served[0], 1);
    assert_int_equal(served[1], 0);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* Fewest GPUs: 2x 3g and 1x 7g on a node with 3 idle GPUs take 2 (2x 3g
 * first: two wanted instances, two pods, 2*(128+4*8+3) = 326 > 128+8*8+7 =
 * 199), the third keeps its layout. */
static void test_fewest_gpus(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    add_node(c, "n0", 3, H100, 64000);
    for (int g = 0; g < 3; g++)
        set_mig(c, g, "1g.10gb:7");
    ss_relayout_demand_t d[] = {{mig_tmpl(c, "3g.40gb", 1), 2}, {mig_tmpl(c, "7g.80gb", 1), 1}};
    int32_t served[2];
    ss_placements_t *p = choose(c, NULL, d, 2, served);
    assert_int_equal(p->n_relayout, 2);
    assert_int_equal(p->relayout_gpu[0], 0);
    assert_string_equal(show_row(p, 0), "H100-80GB: 3g.40gb@0 3g.40gb@4");
    assert_int_equal(p->relayout_gpu[1], 1);
    assert_string_equal(show_row(p, 1), "H100-80GB: 7g.80gb@0");
    assert_int_equal(served[0], 2);
    assert_int_equal(served[1], 1);
    ss_placements_destroy(p);
    /* a 3g and a 4g pod: one GPU, 4g at 0 and 3g at 4 (71 > 36 or 35) */
    ss_relayout_demand_t d2[] = {{mig_tmpl(c, "3g.40gb", 1), 1}, {mig_tmpl(c, "4g.40gb", 1), 1}};
    p = choose(c, NULL, d2, 2, served);
    assert_int_equal(p->n_relayout, 1);
    assert_string_equal(show_row(p, 0), "H100-80GB: 4g.40gb@0 3g.40gb@4");
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* Whole-GPU pods: idle MIG GPUs go MIG disabled (a whole GPU free already
 * is used first), and a whole idle GPU goes into MIG mode for MIG pods. */
static void test_whole_gpu_demand(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    add_node(c, "n0", 3, H100, 64000);
    set_mig(c, 0, "1g.10gb:7");
    set_mig(c, 2, "2g.20gb:3");
    ss_relayout_demand_t d[] = {{gpu_tmpl(c, 2), 1}};
    int32_t served[1];
    ss_placements_t *p = choose(c, NULL, d, 1, served);
    assert_int_equal(p->n_relayout, 1); /* GPU 1 is whole and free: GPU 0 joins it */
    assert_int_equal(p->relayout_gpu[0], 0);
    assert_int_equal(p->relayout_model[0], -1);
    assert_int_equal(served[0], 1);
    ss_error_t err = {{0}};
    assert_int_equal(ss_mig_relayout_apply(c, p, &err), 0);
    assert_int_equal(c->gpu_mig_model[0], 0);
    assert_int_equal(c->gpu_mig_count[0], 0);
    assert_string_equal(show_gpu(c, 2), "H100-80GB: 2g.20gb@0 2g.20gb@2 2g.20gb@4");
    if (ss_cluster_validate(c, &err) < 0)
        fail_msg("validate: %s", err.text);
    ss_placements_destroy(p);
    /* a pod of two 3g instances: a GPU in MIG mode is re-laid out before a
     * whole one (whole GPUs stay whole for training) */
    ss_relayout_demand_t d2[] = {{mig_tmpl(c, "3g.40gb", 2), 1}};
    uint8_t busy[3] = {1, 0, 0};
    p = choose(c, busy, d2, 1, served);
    assert_int_equal(p->n_relayout, 1);
    assert_int_equal(p->relayout_gpu[0], 2);
    assert_string_equal(show_row(p, 0), "H100-80GB: 3g.40gb@0 3g.40gb@4");
    ss_placements_destroy(p);
    /* the reverse: only the whole GPU is idle, it goes into MIG mode */
    busy[2] = 1;
    p = choose(c, busy, d2, 1, served);
    assert_int_equal(p->n_relayout, 1);
    assert_int_equal(p->relayout_gpu[0], 1);
    assert_string_equal(show_row(p, 0), "H100-80GB: 3g.40gb@0 3g.40gb@4");
    assert_int_equal(served[0], 1);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* A node whose free cpu cannot hold the pods is not laid out; the next one
 * is. Pods of another GPU's profile, or on a board that is not MIG-capable,
 * are not served. */
static void test_room_and_boards(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    add_node(c, "small", 1, H100, 500);
    add_node(c, "v100", 1, "V100M32", 64000);
    add_node(c, "big", 1, H100, 64000);
    set_mig(c, 0, "1g.10gb:7");
    set_mig(c, 2, "1g.10gb:7");
    ss_relayout_demand_t d[] = {{mig_tmpl(c, "3g.40gb", 1), 2}, {mig_tmpl(c, "3g.20gb", 1), 2}};
    int32_t served[2];
    ss_placements_t *p = choose(c, NULL, d, 2, served);
    assert_int_equal(p->n_relayout, 1);
    assert_int_equal(p->relayout_gpu[0], 2);
    assert_int_equal(served[0], 2);
    assert_int_equal(served[1], 0); /* 3g.20gb is an A100 40GB profile */
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* The busy flags from running pods and the first pass: a MIG pod's mask
 * names node-local instances (GPU 1's second instance is bit 8 after GPU
 * 0's seven), a running MIG pod without a mask makes every GPU with an
 * instance of its profile busy, a GPU pod's mask names GPUs. */
static void test_busy_flags(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    add_node(c, "a", 3, H100, 64000);
    add_node(c, "b", 2, H100, 64000);
    set_mig(c, 0, "1g.10gb:7");
    set_mig(c, 1, "1g.10gb:7");
    set_mig(c, 2, "3g.40gb:2");
    set_mig(c, 3, "3g.40gb:2");
    int32_t t1 = mig_tmpl(c, "1g.10gb", 1), t3 = mig_tmpl(c, "3g.40gb", 1), tg = gpu_tmpl(c, 1);
    assert_true(ss_cluster_add_pod(c, S(c, "r1"), S(c, "ns"), t1, 0, -1, 0, 1ull << 8) >= 0);
    assert_true(ss_cluster_add_pod(c, S(c, "r3"), S(c, "ns"), t3, 0, -1, 1, 0) >= 0);
    assert_true(ss_cluster_add_pod(c, S(c, "pg"), S(c, "ns"), tg, 0, -1, -1, 0) >= 0);
    ss_placements_t *p1 = ss_placements_create(1);
    p1->pod[0] = 2;
    p1->node[0] = 1;
    p1->gpu_mask[0] = 2; /* b's second GPU, not in MIG mode */
    uint8_t busy[5] = {0};
    ss_error_t err = {{0}};
    assert_int_equal(ss_mig_relayout_busy(c, p1, busy, &err), 0);
    const uint8_t want[5] = {0, 1, 0, 1, 1};
    assert_memory_equal(busy, want, 5);
    assert_int_equal(ss_mig_relayout_node_instances(c, NULL, 0), 16);
    c->pod_gpu_mask[0] = 1ull << 16; /* a has 16 instances: bit 16 is none */
    assert_int_equal(ss_mig_relayout_busy(c, NULL, busy, &err), SS_EINVAL);
    assert_non_null(strstr(err.text, "running pod ns/r1"));
    ss_placements_destroy(p1);
    ss_cluster_destroy(c);
}

/* Bad input to choose(): an error, p unchanged. */
static void test_choose_bad_input(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    add_node(c, "n0", 1, H100, 64000);
    ss_template_t t;
    memset(&t, 0, sizeof t);
    int32_t plain = ss_cluster_add_template(c, &t);
    ss_relayout_demand_t d[] = {{plain, 1}};
    ss_placements_t *p = ss_placements_create(0);
    ss_relayout_input_t in = {.c = c, .demand = d, .n_demand = 1};
    ss_error_t err = {{0}};
    assert_int_equal(ss_mig_relayout_choose(&in, p, NULL, &err), SS_EINVAL);
    assert_non_null(strstr(err.text, "demand[0]"));
    d[0].tmpl = 7;
    assert_int_equal(ss_mig_relayout_choose(&in, p, NULL, &err), SS_EINVAL);
    assert_int_equal(p->n_relayout, 0);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* The GPU columns, to see that a refused apply() changed nothing. */
static uint64_t gpu_state_hash(const ss_cluster_t *c)
{
    uint64_t h = 1469598103934665603ull;
    for (int32_t g = 0; g < c->n_gpus; g++) {
        int32_t v[3] = {c->gpu_mig_model[g], c->gpu_mig_begin[g], c->gpu_mig_count[g]};
        for (int i = 0; i < 3; i++)
            h = (h ^ (uint32_t)v[i]) * 1099511628211ull;
    }
    return (h ^ (uint32_t)c->n_mig_insts) * 1099511628211ull;
}

static void one_row(ss_placements_t *p, int32_t i, int32_t gpu, int model, const char *spec)
{
    if (p->cap_relayout <= i) {
        p->cap_relayout = 16;
        p->relayout_gpu = realloc(p->relayout_gpu, 16 * sizeof *p->relayout_gpu);
        p->relayout_model = realloc(p->relayout_model, 16 * sizeof *p->relayout_model);
        p->relayout = realloc(p->relayout, 16 * sizeof *p->relayout);
    }
    p->n_relayout = i + 1;
    p->relayout_gpu[i] = gpu;
    p->relayout_model[i] = model;
    p->relayout[i].n = 0;
    const ss_mig_model_t *m = ss_mig_model(model);
    char buf[200], *save = NULL;
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *at = strchr(tok, '@');
        *at = 0;
        p->relayout[i].inst[p->relayout[i].n++] =
            (ss_mig_inst_t){(int8_t)ss_mig_find_profile(m, tok), (int8_t)atoi(at + 1)};
    }
}

static void expect_refused(ss_cluster_t *c, ss_placements_t *p, const char *want)
{
    uint64_t before = gpu_state_hash(c);
    ss_error_t err = {{0}};
    assert_int_equal(ss_mig_relayout_apply(c, p, &err), SS_EINVAL);
    if (!strstr(err.text, want))
        fail_msg("expected '%s' in: %s", want, err.text);
    assert_int_equal(gpu_state_hash(c), before);
}

/* apply() refuses bad rows, naming the row, GPU record and node, and
 * changes nothing. */
static void test_apply_refuses(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    add_node(c, "v", 1, "V100M32", 64000);
    add_node(c, "big", 10, H100, 64000);
    for (int g = 1; g < 10; g++)
        set_mig(c, g, "1g.10gb:7"); /* 63 instances */
    int h100 = ss_mig_find_model("H100-80GB"), a100 = ss_mig_find_model("A100-80GB");
    ss_placements_t *p = ss_placements_create(0);
    one_row(p, 0, 11, h100, "7g.80gb@0");
    expect_refused(c, p, "GPU record 11 is not a GPU of any node");
    one_row(p, 0, 0, h100, "7g.80gb@0");
    expect_refused(c, p, "GPU record 0 (node v GPU 0): model 'V100M32' is not MIG-capable");
    one_row(p, 0, 1, a100, "7g.80gb@0");
    expect_refused(c, p, "GPU record 1 (node big GPU 0): a layout of A100-80GB on a H100-80GB");
    one_row(p, 0, 1, h100, "3g.40gb@4");
    expect_refused(c, p, "not the canonical placement");
    one_row(p, 0, 1, h100, "4g.40gb@0 4g.40gb@0");
    expect_refused(c, p, "re-layout row 0 (GPU record 1)");
    one_row(p, 0, 2, h100, "7g.80gb@0");
    one_row(p, 1, 1, h100, "7g.80gb@0");
    expect_refused(c, p, "re-layout row 1 (GPU record 1): GPU records must be >= 0 and increasing");
    one_row(p, 0, 1, h100, "7g.80gb@0");
    one_row(p, 1, 10, h100,
            "1g.10gb@0 1g.10gb@1 1g.10gb@2 1g.10gb@3 1g.10gb@4 1g.10gb@5 1g.10gb@6");
    /* GPU 1: 7 -> 1, GPU 10: 0 -> 7: 63 - 7 + 1 + 7 = 64 holds */
    ss_error_t err = {{0}};
    ss_placements_t *over = ss_placements_create(0);
    one_row(over, 0, 10, h100,
            "1g.10gb@0 1g.10gb@1 1g.10gb@2 1g.10gb@3 1g.10gb@4 1g.10gb@5 1g.10gb@6");
    expect_refused(c, over, "GPU record 10 (node big GPU 9): the node would hold 70 MIG instances");
    if (ss_mig_relayout_apply(c, p, &err) < 0)
        fail_msg("apply: %s", err.text);
    assert_string_equal(show_gpu(c, 1), "H100-80GB: 7g.80gb@0");
    assert_int_equal(c->gpu_mig_count[10], 7);
    assert_string_equal(show_gpu(c, 2), "H100-80GB: 1g.10gb@0 1g.10gb@1 1g.10gb@2 1g.10gb@3 "
                                        "1g.10gb@4 1g.10gb@5 1g.10gb@6");
    ss_placements_destroy(over);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* apply() renumbers running MIG pods' masks; prune() drops the re-layouts
 * the second pass left unused and renumbers masks back. Node n0: GPUs 0
 * and 1 idle 7x 1g, GPU 2 busy 7x 1g with a running 1g pod on its first
 * instance (bit 14). The choice: GPU 0 2x 3g, GPU 1 7g; applied, the
 * running pod is bit 3 (2 + 1 instances before it). The second pass
 * places the 7g pod on GPU 1 (bit 2) and not the 3g pods: GPU 0 goes back
 * to 7x 1g, the 7g pod becomes bit 7, the running pod bit 8. */
static void test_masks_apply_prune(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    add_node(c, "n0", 3, H100, 64000);
    for (int g = 0; g < 3; g++)
        set_mig(c, g, "1g.10gb:7");
    int32_t t1 = mig_tmpl(c, "1g.10gb", 1), t3 = mig_tmpl(c, "3g.40gb", 1),
            t7 = mig_tmpl(c, "7g.80gb", 1);
    assert_true(ss_cluster_add_pod(c, S(c, "run"), S(c, "ns"), t1, 0, -1, 0, 1ull << 14) >= 0);
    for (int i = 0; i < 3; i++) {
        char nm[8];
        snprintf(nm, sizeof nm, "p%d", i);
        assert_true(ss_cluster_add_pod(c, S(c, nm), S(c, "ns"), i < 2 ? t3 : t7, 0, -1, -1, 0) >=
                    0);
    }
    uint8_t busy[3] = {0};
    ss_error_t err = {{0}};
    assert_int_equal(ss_mig_relayout_busy(c, NULL, busy, &err), 0);
    assert_int_equal(busy[2], 1);
    ss_relayout_demand_t d[] = {{t3, 2}, {t7, 1}};
    ss_placements_t *p = choose(c, busy, d, 2, NULL);
    assert_int_equal(p->n_relayout, 2);
    /* a running pod on a GPU the re-layout changes: refused, nothing changed */
    c->pod_gpu_mask[0] = 1ull << 3;
    uint64_t before = gpu_state_hash(c);
    assert_int_equal(ss_mig_relayout_apply(c, p, &err), SS_EINVAL);
    assert_non_null(strstr(err.text, "running pod ns/run on node n0: it holds a GPU"));
    assert_int_equal(gpu_state_hash(c), before);
    assert_int_equal(c->pod_gpu_mask[0], 1ull << 3);
    c->pod_gpu_mask[0] = 1ull << 14;
    ss_mig_relayout_saved_t saved;
    assert_int_equal(ss_mig_relayout_save(c, p, &saved, &err), 0);
    assert_int_equal(ss_mig_relayout_apply(c, p, &err), 0);
    assert_int_equal(c->pod_gpu_mask[0], 1ull << 3);
    /* the second pass, by hand */
    ss_placements_t *p2 = ss_placements_create(3);
    for (int i = 0; i < 3; i++) {
        p2->pod[i] = 1 + i;
        p2->node[i] = i == 2 ? 0 : -1;
        p2->reason[i] = i == 2 ? SS_REASON_NONE : SS_REASON_MIG;
        p2->gpu_mask[i] = i == 2 ? 1ull << 2 : 0;
    }
    p2->n_relayout = p->n_relayout; /* the rows travel with the placements */
    p2->cap_relayout = p->cap_relayout;
    p2->relayout_gpu = p->relayout_gpu;
    p2->relayout_model = p->relayout_model;
    p2->relayout = p->relayout;
    p->relayout_gpu = p->relayout_model = NULL;
    p->relayout = NULL;
    int32_t dropped = -1;
    assert_int_equal(ss_mig_relayout_prune(c, &saved, p2, &dropped, &err), 0);
    assert_int_equal(dropped, 1);
    assert_int_equal(p2->n_relayout, 1);
    assert_int_equal(p2->relayout_gpu[0], 1);
    assert_int_equal(p2->gpu_mask[2], 1ull << 7);
    assert_int_equal(p2->gpu_mask[0], 0);
    assert_int_equal(c->pod_gpu_mask[0], 1ull << 8);
    assert_string_equal(show_gpu(c, 0), "H100-80GB: 1g.10gb@0 1g.10gb@1 1g.10gb@2 1g.10gb@3 "
                                        "1g.10gb@4 1g.10gb@5 1g.10gb@6");
    assert_string_equal(show_gpu(c, 1), "H100-80GB: 7g.80gb@0");
    /* (ss_cluster_validate reads MIG masks as instance masks once the
     * engine's MIG contract is in; until then it reads them as GPU masks) */
    ss_mig_relayout_saved_free(&saved);
    ss_placements_destroy(p2);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* A cluster with one pending 3g pod and placements re-laying out its two
 * GPUs: GPU 0 to 2x 3g, GPU 1 to MIG disabled. */
static ss_placements_t *file_case(ss_cluster_t *c)
{
    add_node(c, "n0", 2, H100, 64000);
    set_mig(c, 0, "1g.10gb:7");
    set_mig(c, 1, "7g.80gb:1");
    int32_t t = mig_tmpl(c, "3g.40gb", 1);
    assert_true(ss_cluster_add_pod(c, S(c, "p0"), S(c, "ns"), t, 0, -1, -1, 0) >= 0);
    ss_placements_t *p = ss_placements_create(1);
    p->pod[0] = 0;
    p->reason[0] = SS_REASON_GPU;
    snprintf(p->policy, sizeof p->policy, "most-allocated");
    one_row(p, 0, 0, ss_mig_find_model("H100-80GB"), "3g.40gb@0 3g.40gb@4");
    one_row(p, 1, 1, -1, "");
    return p;
}

static bool has_group(const char *path)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    bool yes = H5Lexists(f, "/mig_relayout", H5P_DEFAULT) > 0;
    H5Fclose(f);
    return yes;
}

static void patch_i32(const char *path, const char *dset, hsize_t row, int32_t v)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT), d = H5Dopen2(f, dset, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(1, (hsize_t[]){1}, NULL);
    hsize_t one = 1;
    assert_true(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &row, NULL, &one, NULL) >= 0);
    assert_true(H5Dwrite(d, H5T_NATIVE_INT32, ms, fs, H5P_DEFAULT, &v) >= 0);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
    H5Fclose(f);
}

static void expect_read_error(const ss_cluster_t *c, const char *path, const char *want)
{
    ss_placements_t *q = NULL;
    ss_error_t err = {{0}};
    assert_true(ss_placements_read(path, c, &q, &err) < 0);
    assert_null(q);
    if (!strstr(err.text, want) || !strstr(err.text, path))
        fail_msg("expected '%s' and the path in: %s", want, err.text);
}

/* /mig_relayout: written only with re-layouts, read back the same, bad
 * values refused naming the file and dataset. */
static void test_file_round_trip(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    ss_placements_t *p = file_case(c);
    ss_error_t err = {{0}};
    const char *path = wpath("relayout.h5");
    if (ss_placements_write(path, c, p, &err) < 0)
        fail_msg("write: %s", err.text);
    assert_true(has_group(path));
    ss_placements_t *q = NULL;
    if (ss_placements_read(path, c, &q, &err) < 0)
        fail_msg("read: %s", err.text);
    assert_int_equal(q->n_relayout, 2);
    for (int32_t i = 0; i < 2; i++) {
        assert_int_equal(q->relayout_gpu[i], p->relayout_gpu[i]);
        assert_int_equal(q->relayout_model[i], p->relayout_model[i]);
        assert_string_equal(show_row(q, i), show_row(p, i));
    }
    ss_placements_destroy(q);
    /* no re-layout: no group, and a file without it reads as none */
    int32_t n = p->n_relayout;
    p->n_relayout = 0;
    const char *plain = wpath("plain.h5");
    assert_int_equal(ss_placements_write(plain, c, p, &err), 0);
    assert_false(has_group(plain));
    assert_int_equal(ss_placements_read(plain, c, &q, &err), 0);
    assert_int_equal(q->n_relayout, 0);
    ss_placements_destroy(q);
    p->n_relayout = n;
    /* bad values */
    char bad[600];
    snprintf(bad, sizeof bad, "cp %s %s", path, wpath("bad.h5"));
    assert_int_equal(system(bad), 0);
    patch_i32(wpath("bad.h5"), "/mig_relayout/inst_start", 1, 5);
    expect_read_error(c, wpath("bad.h5"), "/mig_relayout: re-layout row 0 (GPU record 0)");
    assert_int_equal(system(bad), 0);
    patch_i32(wpath("bad.h5"), "/mig_relayout/inst_count", 0, 3);
    expect_read_error(c, wpath("bad.h5"), "dataset /mig_relayout/inst_count row 0: 3 instances");
    assert_int_equal(system(bad), 0);
    patch_i32(wpath("bad.h5"), "/mig_relayout/gpu", 1, 7);
    expect_read_error(c, wpath("bad.h5"), "GPU record 7 is not a GPU of any node");
    assert_int_equal(ss_placements_read_unchecked(wpath("bad.h5"), &q, &err), 0); /* no cluster */
    ss_placements_destroy(q);
    /* the writer refuses what apply() would */
    p->relayout_gpu[1] = 9;
    assert_true(ss_placements_write(wpath("never.h5"), c, p, &err) < 0);
    assert_non_null(strstr(err.text, "GPU record 9"));
    assert_false(exists(wpath("never.h5")));
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* The kubectl node the re-laid-out node n of c becomes: its allocatable
 * from its GPUs (whole ones as nvidia.com/gpu, instances as
 * nvidia.com/mig-<profile>), labelled with its mig-parted entry. */
static size_t node_json(const ss_cluster_t *c, int32_t n, const char *entry, char *buf, size_t len)
{
    int32_t whole = 0, counts[SS_MIG_MAX_PROFILES] = {0};
    const ss_mig_model_t *m = ss_mig_model(ss_mig_find_model(H100));
    for (int32_t j = 0; j < c->node_gpu_count[n]; j++) {
        int32_t g = c->node_gpu_begin[n] + j;
        whole += !c->gpu_mig_model[g];
        for (int32_t i = 0; i < c->gpu_mig_count[g]; i++)
            counts[ss_mig_find_profile(
                m, ss_cluster_strget(c, c->mig_insts[c->gpu_mig_begin[g] + i].profile))]++;
    }
    size_t at = (size_t)snprintf(
        buf, len,
        "{\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\",\"labels\":{\"nvidia.com/gpu.product\":"
        "\"" H100 "\",\"nvidia.com/gpu.count\":\"%d\",\"nvidia.com/mig.strategy\":\"mixed\","
        "\"nvidia.com/mig.config\":\"%s\"}},\"status\":{\"allocatable\":{\"cpu\":\"64\","
        "\"memory\":\"256Gi\",\"pods\":\"110\",\"nvidia.com/gpu\":\"%d\"",
        ss_cluster_strget(c, c->node_name[n]), (int)c->node_gpu_count[n], entry, (int)whole);
    for (int p = 0; p < m->n_profiles; p++)
        if (counts[p])
            at += (size_t)snprintf(buf + at, len - at, ",\"nvidia.com/mig-%s\":\"%d\"",
                                   m->profiles[p].name, (int)counts[p]);
    return at + (size_t)snprintf(buf + at, len - at, "}}}");
}

/* The mig-parted configuration: one entry per distinct node layout (n2 and
 * n3 share one), the node's GPUs not re-laid out kept as they are (n4's
 * busy GPU), and the importer's --mig-config reads it back to the same
 * layouts. */
static void test_config_round_trip(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    const char *names[4] = {"n1", "n2", "n3", "n4"};
    for (int i = 0; i < 4; i++)
        add_node(c, names[i], 2, H100, 64000);
    for (int g = 0; g < 8; g++)
        set_mig(c, g, "1g.10gb:7");
    ss_relayout_demand_t d[] = {{gpu_tmpl(c, 1), 2}, {mig_tmpl(c, "3g.40gb", 1), 10}};
    uint8_t busy[8] = {0, 0, 0, 0, 0, 0, 1, 0};
    int32_t served[2];
    ss_placements_t *p = choose(c, busy, d, 2, served);
    assert_int_equal(served[0], 2);
    assert_int_equal(served[1], 10);
    /* n1: both whole; n2, n3: 2x 3g twice; n4: GPU 7 2x 3g, GPU 6 busy */
    const int32_t want_gpu[7] = {0, 1, 2, 3, 4, 5, 7};
    assert_int_equal(p->n_relayout, 7);
    for (int32_t i = 0; i < 7; i++) {
        assert_int_equal(p->relayout_gpu[i], want_gpu[i]);
        assert_string_equal(show_row(p, i), i < 2 ? "-" : "H100-80GB: 3g.40gb@0 3g.40gb@4");
    }
    char e[4][64];
    for (int32_t n = 0; n < 4; n++)
        ss_mig_plan_entry_name(c, p, n, e[n], sizeof e[n]);
    assert_string_equal(e[1], e[2]);
    assert_string_not_equal(e[0], e[1]);
    assert_string_not_equal(e[3], e[1]);
    assert_int_equal(strlen(e[0]), 27);
    assert_int_equal(strncmp(e[0], "shardsched-", 11), 0);
    const char *yaml = wpath("mig-config.yaml");
    FILE *f = fopen(yaml, "w");
    ss_error_t err = {{0}};
    assert_int_equal(ss_mig_plan_write_config(f, c, p, &err), 0);
    fclose(f);
    /* applied, the entry names stay */
    assert_int_equal(ss_mig_relayout_apply(c, p, &err), 0);
    char after[64];
    ss_mig_plan_entry_name(c, p, 1, after, sizeof after);
    assert_string_equal(after, e[1]);
    /* the YAML: three entries, n2 and n3 under one */
    size_t len = 0;
    char *text = NULL;
    FILE *r = fopen(yaml, "r");
    assert_non_null(r);
    text = calloc(1, 1 << 16);
    len = fread(text, 1, (1 << 16) - 1, r);
    fclose(r);
    assert_true(len > 0);
    int entries = 0;
    for (const char *s = text; (s = strstr(s, "  shardsched-")); s++)
        entries++;
    assert_int_equal(entries, 3);
    assert_non_null(strstr(text, "# nodes: n2 n3\n"));
    assert_non_null(strstr(text, "    - devices: [0]\n      mig-enabled: true\n      mig-devices:\n"
                                 "        \"1g.10gb\": 7\n    - devices: [1]\n"));
    free(text);
    /* the importer reads it back */
    char *nodes = calloc(1, 1 << 14);
    size_t at = (size_t)snprintf(nodes, 1 << 14, "{\"kind\":\"List\",\"items\":[");
    for (int32_t n = 0; n < 4; n++) {
        at += node_json(c, n, e[n], nodes + at, (1 << 14) - at);
        at += (size_t)snprintf(nodes + at, (1 << 14) - at, n < 3 ? "," : "]}");
    }
    ss_kube_opts_t o;
    ss_kube_opts_default(&o);
    o.log = NULL;
    o.mig_config_path = yaml;
    ss_cluster_t *back = NULL;
    if (ss_kube_import_strings(nodes, NULL, NULL, &o, &back, NULL, &err) < 0)
        fail_msg("import: %s\n%s", err.text, nodes);
    assert_int_equal(back->n_nodes, 4);
    for (int32_t n = 0; n < 4; n++) {
        const char *nm = ss_cluster_strget(back, back->node_name[n]);
        int32_t src = -1;
        for (int32_t k = 0; k < 4; k++)
            if (!strcmp(nm, names[k]))
                src = k;
        assert_true(src >= 0);
        assert_int_equal(back->node_gpu_count[n], 2);
        for (int32_t j = 0; j < 2; j++)
            assert_string_equal(show_gpu(back, back->node_gpu_begin[n] + j),
                                show_gpu(c, c->node_gpu_begin[src] + j));
    }
    free(nodes);
    ss_cluster_destroy(back);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

static int setup(void **state)
{
    (void)state;
    return ss_test_workdir_make("ss_test_mig_relayout");
}

static int teardown(void **state)
{
    (void)state;
    return ss_test_workdir_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pair_of_3g),         cmocka_unit_test(test_7g_blocked_by_1g),
        cmocka_unit_test(test_busy_never_touched), cmocka_unit_test(test_fewest_gpus),
        cmocka_unit_test(test_whole_gpu_demand),   cmocka_unit_test(test_room_and_boards),
        cmocka_unit_test(test_busy_flags),         cmocka_unit_test(test_choose_bad_input),
        cmocka_unit_test(test_apply_refuses),      cmocka_unit_test(test_masks_apply_prune),
        cmocka_unit_test(test_file_round_trip),    cmocka_unit_test(test_config_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
