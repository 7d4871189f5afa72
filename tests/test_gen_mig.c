/* test_gen_mig: MIG in gen's AI profile and in --emit-kube (issue 15,
 * docs/mig.md "gen and export"): MIG nodes and pods exist, are valid and
 * deterministic; --mig none (and every other profile) has none, and MIG
 * leaves the nodes, the other running pods and the pending pods' names as
 * they were; gen -> export -> import, with and without the exported
 * mig-parted configuration, gives back every GPU's MIG state (model,
 * instances and their starts) and every pod's MIG request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ss_gen.h"
#include "ss_kube_import.h"
#include "ss_mig.h"

#include "ss_test_files.h"

static ss_cluster_t *gen(int profile, int mig)
{
    ss_gen_opts_t o;
    ss_gen_opts_default(&o);
    o.nodes = 300;
    o.pods = 3000;
    o.seed = 5;
    o.profile = profile;
    o.mig = mig;
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    if (ss_gen(&o, &c, &err) < 0)
        fail_msg("gen: %s", err.text);
    return c;
}

static int32_t mig_gpus(const ss_cluster_t *c)
{
    int32_t n = 0;
    for (int32_t g = 0; g < c->n_gpus; g++)
        n += c->gpu_mig_model[g] != 0;
    return n;
}

/* MIG pods: running (pod_node >= 0) or pending. */
static void mig_pods(const ss_cluster_t *c, int32_t *running, int32_t *pending)
{
    *running = *pending = 0;
    for (int32_t p = 0; p < c->n_pods; p++)
        if (c->templates[c->pod_template[p]].mig_count > 0)
            ++*(c->pod_node[p] >= 0 ? running : pending);
}

/* GPU g as "model: profile@start ..." ("-" when not partitioned). */
static const char *gpu_text(const ss_cluster_t *c, int32_t g, char *buf, size_t n)
{
    if (!c->gpu_mig_model[g])
        return "-";
    size_t at = (size_t)snprintf(buf, n, "%s:", ss_cluster_strget(c, c->gpu_mig_model[g]));
    for (int32_t i = 0; i < c->gpu_mig_count[g] && at < n; i++) {
        const ss_mig_instance_t *x = &c->mig_insts[c->gpu_mig_begin[g] + i];
        at += (size_t)snprintf(buf + at, n - at, " %s@%d", ss_cluster_strget(c, x->profile),
                               (int)x->start);
    }
    return buf;
}

static void test_mig_present(void **state)
{
    (void)state;
    ss_cluster_t *c = gen(SS_GEN_PROFILE_AI, SS_GEN_MIG_DEFAULT);
    ss_error_t err = {{0}};
    assert_int_equal(ss_cluster_validate(c, &err), 0);
    int32_t run, pend, nodes = 0, half = 0, profiles[8] = {0};
    mig_pods(c, &run, &pend);
    for (int32_t n = 0; n < c->n_nodes; n++) {
        int32_t k = 0, b = c->node_gpu_begin[n];
        for (int32_t j = 0; j < c->node_gpu_count[n]; j++)
            k += c->gpu_mig_model[b + j] != 0;
        nodes += k > 0;
        half += k > 0 && k < c->node_gpu_count[n];
    }
    for (int32_t p = 0; p < c->n_pods; p++) {
        const ss_template_t *t = &c->templates[c->pod_template[p]];
        if (t->mig_count == 0)
            continue;
        assert_int_equal(t->mig_count, 1);
        assert_int_equal(t->req.gpu_count, 0);
        assert_int_equal(t->model_count, 0);
        profiles[ss_cluster_strget(c, t->mig_profile)[0] - '0']++;
    }
    print_message("MIG: %d nodes (%d half), %d GPUs, %d instances, %d running + %d pending pods; "
                  "1g %d 2g %d 3g %d 4g %d 7g %d\n",
                  nodes, half, mig_gpus(c), c->n_mig_insts, run, pend, profiles[1], profiles[2],
                  profiles[3], profiles[4], profiles[7]);
    assert_true(nodes > 0 && half > 0 && half < nodes);
    assert_true(run > 0 && pend > 0);
    assert_true(profiles[1] > 0 && profiles[2] > 0 && profiles[3] > 0 && profiles[7] > 0);
    /* running MIG pods sit on MIG nodes, each on its own instance of its profile */
    for (int32_t p = 0; p < c->n_pods; p++) {
        const ss_template_t *t = &c->templates[c->pod_template[p]];
        if (t->mig_count == 0 || c->pod_node[p] < 0)
            continue;
        int32_t n = c->pod_node[p], have = 0, used = 0;
        for (int32_t j = 0; j < c->node_gpu_count[n]; j++) {
            int32_t g = c->node_gpu_begin[n] + j;
            for (int32_t i = 0; i < c->gpu_mig_count[g]; i++)
                have += c->mig_insts[c->gpu_mig_begin[g] + i].profile == t->mig_profile;
        }
        for (int32_t q = 0; q < c->n_pods; q++)
            used += c->pod_node[q] == n &&
                    c->templates[c->pod_template[q]].mig_profile == t->mig_profile;
        assert_true(used <= have);
        /* ss_cluster_mig_assign_running gave it one instance of its profile */
        uint64_t m = c->pod_gpu_mask[p];
        assert_int_equal(__builtin_popcountll(m), 1);
        int32_t i = ss_cluster_node_mig_inst(c, n, __builtin_ctzll(m), NULL);
        assert_int_equal(c->mig_insts[i].profile, t->mig_profile);
    }
    /* deterministic */
    ss_cluster_t *d = gen(SS_GEN_PROFILE_AI, SS_GEN_MIG_DEFAULT);
    assert_int_equal(d->n_mig_insts, c->n_mig_insts);
    assert_int_equal(d->n_pods, c->n_pods);
    assert_memory_equal(d->gpu_mig_model, c->gpu_mig_model, sizeof(int32_t) * (size_t)c->n_gpus);
    assert_memory_equal(d->mig_insts, c->mig_insts, sizeof *c->mig_insts * (size_t)c->n_mig_insts);
    assert_memory_equal(d->pod_node, c->pod_node, sizeof(int32_t) * (size_t)c->n_pods);
    ss_cluster_destroy(d);
    ss_cluster_destroy(c);
}

static void test_mig_off(void **state)
{
    (void)state;
    ss_cluster_t *with = gen(SS_GEN_PROFILE_AI, SS_GEN_MIG_DEFAULT);
    ss_cluster_t *none = gen(SS_GEN_PROFILE_AI, SS_GEN_MIG_NONE);
    ss_cluster_t *def = gen(SS_GEN_PROFILE_DEFAULT, SS_GEN_MIG_DEFAULT);
    int32_t run, pend;
    assert_int_equal(mig_gpus(none), 0);
    assert_int_equal(mig_gpus(def), 0);
    mig_pods(none, &run, &pend);
    assert_int_equal(run + pend, 0);
    mig_pods(def, &run, &pend);
    assert_int_equal(run + pend, 0);
    /* MIG adds running pods after the others and keeps everything else */
    assert_int_equal(with->n_nodes, none->n_nodes);
    assert_int_equal(with->n_gpus, none->n_gpus);
    for (int32_t n = 0; n < none->n_nodes; n++)
        assert_string_equal(ss_cluster_strget(with, with->node_name[n]),
                            ss_cluster_strget(none, none->node_name[n]));
    mig_pods(with, &run, &pend);
    assert_int_equal(with->n_pods, none->n_pods + run);
    int32_t r0 = 0;
    while (r0 < none->n_pods && none->pod_node[r0] >= 0)
        r0++;
    for (int32_t p = 0; p < none->n_pods; p++) {
        int32_t q = p < r0 ? p : p + run; /* the MIG running pods sit in between */
        assert_string_equal(ss_cluster_strget(with, with->pod_name[q]),
                            ss_cluster_strget(none, none->pod_name[p]));
        assert_int_equal(with->pod_node[q], none->pod_node[p]);
        assert_int_equal(with->pod_priority[q], none->pod_priority[p]);
    }
    ss_cluster_destroy(with);
    ss_cluster_destroy(none);
    ss_cluster_destroy(def);
}

static ss_cluster_t *import(const char *config)
{
    ss_kube_opts_t o;
    ss_kube_opts_default(&o);
    o.log = NULL;
    o.mig_config_path = config;
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    if (ss_kube_import_files(wpath("nodes.json"), wpath("pods.json"), NULL, &o, &c, NULL, &err) < 0)
        fail_msg("import: %s", err.text);
    return c;
}

/* The same MIG state per GPU (nodes by name: import keeps gen's order) and
 * the same MIG request per pod (by namespace and name). */
static void same_mig(const ss_cluster_t *a, const ss_cluster_t *b)
{
    char x[256], y[256];
    assert_int_equal(a->n_nodes, b->n_nodes);
    for (int32_t n = 0; n < a->n_nodes; n++) {
        assert_string_equal(ss_cluster_strget(a, a->node_name[n]),
                            ss_cluster_strget(b, b->node_name[n]));
        assert_int_equal(a->node_gpu_count[n], b->node_gpu_count[n]);
        for (int32_t j = 0; j < a->node_gpu_count[n]; j++)
            assert_string_equal(gpu_text(a, a->node_gpu_begin[n] + j, x, sizeof x),
                                gpu_text(b, b->node_gpu_begin[n] + j, y, sizeof y));
    }
    assert_int_equal(a->n_pods, b->n_pods);
    for (int32_t p = 0; p < a->n_pods; p++) {
        const ss_template_t *s = &a->templates[a->pod_template[p]];
        const ss_template_t *t = &b->templates[b->pod_template[p]];
        assert_string_equal(ss_cluster_strget(a, a->pod_name[p]),
                            ss_cluster_strget(b, b->pod_name[p]));
        assert_int_equal(s->mig_count, t->mig_count);
        assert_string_equal(ss_cluster_strget(a, s->mig_profile),
                            ss_cluster_strget(b, t->mig_profile));
        assert_int_equal(s->unsupported & SS_RULE_MIG, t->unsupported & SS_RULE_MIG);
        assert_int_equal(a->pod_node[p], b->pod_node[p]);
        if (s->mig_count > 0)
            assert_true(a->pod_gpu_mask[p] == b->pod_gpu_mask[p]);
    }
}

static void test_round_trip(void **state)
{
    (void)state;
    ss_cluster_t *c = gen(SS_GEN_PROFILE_AI, SS_GEN_MIG_DEFAULT);
    ss_error_t err = {{0}};
    bool written = false;
    assert_int_equal(ss_kube_export_cluster(c, wpath("nodes.json"), wpath("pods.json"), &err), 0);
    assert_int_equal(ss_kube_export_mig_config(c, wpath("mig-config.yaml"), &written, &err), 0);
    assert_true(written);
    ss_cluster_t *plain = import(NULL), *cfg = import(wpath("mig-config.yaml"));
    same_mig(c, plain);
    same_mig(c, cfg);
    ss_cluster_destroy(plain);
    ss_cluster_destroy(cfg);
    /* no MIG: no configuration file */
    ss_cluster_t *none = gen(SS_GEN_PROFILE_AI, SS_GEN_MIG_NONE);
    assert_int_equal(ss_kube_export_mig_config(none, wpath("none.yaml"), &written, &err), 0);
    assert_false(written);
    assert_false(exists(wpath("none.yaml")));
    ss_cluster_destroy(none);
    ss_cluster_destroy(c);
}

/* An imported cluster with other models, whole GPUs before and between
 * MIG ones, a +me profile (tests/data/mig): exported with its
 * configuration and imported again with it, every GPU keeps its layout. */
static void test_export_imported(void **state)
{
    (void)state;
    ss_kube_opts_t o;
    ss_kube_opts_default(&o);
    o.log = NULL;
    o.mig_config_path = SS_TEST_DATA_DIR "/mig/mig-config.yaml";
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    if (ss_kube_import_files(SS_TEST_DATA_DIR "/mig/nodes-mixed.json",
                             SS_TEST_DATA_DIR "/mig/pods.json", NULL, &o, &c, NULL, &err) < 0)
        fail_msg("import: %s", err.text);
    bool written = false;
    assert_int_equal(ss_kube_export_cluster(c, wpath("nodes.json"), wpath("pods.json"), &err), 0);
    assert_int_equal(ss_kube_export_mig_config(c, wpath("mig-config.yaml"), &written, &err), 0);
    assert_true(written);
    ss_cluster_t *back = import(wpath("mig-config.yaml"));
    same_mig(c, back);
    ss_cluster_destroy(back);
    ss_cluster_destroy(c);
}

/* The command: gen --emit-kube writes DIR/mig-config.yaml only with MIG
 * nodes, and import --mig-config reads it. */
static void test_cli(void **state)
{
    (void)state;
    char cmd[4096], k[300];
    const char *common = "--profile ai --nodes 300 --pods 3000 --seed 5 -q";
    snprintf(k, sizeof k, "%s", wpath("k")); /* wpath keeps only 4 results */
    snprintf(cmd, sizeof cmd,
             "%s gen %s --emit-kube %s && %s import -q --nodes %s/nodes.json --pods %s/pods.json "
             "--mig-config %s/mig-config.yaml -o %s",
             SS_BINARY, common, k, SS_BINARY, k, k, k, wpath("k.h5"));
    assert_int_equal(system(cmd), 0);
    assert_true(exists(wpath("k/mig-config.yaml")));
    assert_true(exists(wpath("k.h5")));
    snprintf(cmd, sizeof cmd, "%s gen %s --mig none --emit-kube %s", SS_BINARY, common, wpath("n"));
    assert_int_equal(system(cmd), 0);
    assert_true(exists(wpath("n/nodes.json")));
    assert_false(exists(wpath("n/mig-config.yaml")));
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", wpath("k"), wpath("n"));
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
    (void)state;
    return ss_test_workdir_make("ss_test_gen_mig");
}

static int teardown(void **state)
{
    (void)state;
    return ss_test_workdir_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mig_present), cmocka_unit_test(test_mig_off),
        cmocka_unit_test(test_round_trip),  cmocka_unit_test(test_export_imported),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
