/* test_mig: engine/ss_mig, the MIG profile table (issue 15). The test keeps
 * its own copy of NVIDIA's MIG user guide tables (profile names, slices,
 * "Number of Instances Available", the -lgipp placements), checks the
 * engine's table against it, and enumerates every layout of each GPU model
 * with its own brute force over start positions, independent of the
 * engine's enumeration and validity check; then the hand cases of the
 * issue, the canonical placement and the GPU name look-up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ss_mig.h"

/* ---- the guide's tables, written out again ---- */
typedef struct {
    const char *name;
    int compute, mem, max, media;
    int starts[8], nstarts;
} gprof_t;

typedef struct {
    const char *model;
    const char *names[7]; /* 1g, 1g+me, 1g (2 eighths), 2g, 3g, 4g, 7g */
} gmodel_t;

static const gmodel_t guide_models[] = {
    {"A100-40GB", {"1g.5gb", "1g.5gb+me", "1g.10gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"}},
    {"A100-80GB", {"1g.10gb", "1g.10gb+me", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"}},
    {"H100-80GB", {"1g.10gb", "1g.10gb+me", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"}},
    {"H100-94GB", {"1g.12gb", "1g.12gb+me", "1g.24gb", "2g.24gb", "3g.47gb", "4g.47gb", "7g.94gb"}},
    {"H200-141GB",
     {"1g.18gb", "1g.18gb+me", "1g.35gb", "2g.35gb", "3g.71gb", "4g.71gb", "7g.141gb"}},
};

/* compute, memory eighths, instances available, media, -lgipp starts */
static const gprof_t guide_geometry[7] = {
    {NULL, 1, 1, 7, 0, {0, 1, 2, 3, 4, 5, 6}, 7},
    {NULL, 1, 1, 1, 1, {0, 1, 2, 3, 4, 5, 6}, 7},
    {NULL, 1, 2, 4, 0, {0, 2, 4, 6}, 4},
    {NULL, 2, 2, 3, 0, {0, 2, 4}, 3},
    {NULL, 3, 4, 2, 0, {0, 4}, 2},
    {NULL, 4, 4, 1, 0, {0}, 1},
    {NULL, 7, 8, 1, 0, {0}, 1},
};

static bool guide_may_start(int p, int s)
{
    for (int i = 0; i < guide_geometry[p].nstarts; i++)
        if (guide_geometry[p].starts[i] == s)
            return true;
    return false;
}

/* The test's own rule: memory overlap is excluded while building; here the
 * compute total, the media rule and (check_max) the per-profile counts. */
static bool guide_valid(const int *prof_at, bool check_max)
{
    int compute = 0, media = 0, n = 0, count[7] = {0};
    for (int s = 0; s < 8; s++) {
        int p = prof_at[s];
        if (p < 0)
            continue;
        n++;
        compute += guide_geometry[p].compute;
        media += guide_geometry[p].media;
        count[p]++;
    }
    if (n > 7 || compute > 7 || media > 1)
        return false;
    for (int p = 0; check_max && p < 7; p++)
        if (count[p] > guide_geometry[p].max)
            return false;
    return true;
}

typedef struct {
    int prof_at[8]; /* profile starting at each memory slice, -1 */
} glayout_t;

#define GMAX 32768
static glayout_t g_all[GMAX];
static int g_n;

/* Every assignment of "nothing or a profile" to each memory slice whose
 * memory does not overlap; leaves kept when valid (without check_max: the
 * geometry alone). only: restrict to that profile (-1: all). */
static void brute(int s, uint32_t used, int *prof_at, bool check_max, int only)
{
    if (s == 8) {
        if (guide_valid(prof_at, check_max) && g_n < GMAX)
            memcpy(g_all[g_n++].prof_at, prof_at, sizeof g_all[0].prof_at);
        return;
    }
    prof_at[s] = -1;
    brute(s + 1, used, prof_at, check_max, only);
    for (int p = 0; p < 7; p++) {
        uint32_t mask = ((1u << guide_geometry[p].mem) - 1u) << s;
        if ((only >= 0 && p != only) || !guide_may_start(p, s) || s + guide_geometry[p].mem > 8 ||
            (used & mask))
            continue;
        prof_at[s] = p;
        brute(s + 1, used | mask, prof_at, check_max, only);
        prof_at[s] = -1;
    }
}

static bool guide_maximal(const glayout_t *l)
{
    uint32_t used = 0;
    for (int s = 0; s < 8; s++)
        if (l->prof_at[s] >= 0)
            used |= ((1u << guide_geometry[l->prof_at[s]].mem) - 1u) << s;
    for (int p = 0; p < 7; p++)
        for (int s = 0; s < 8; s++) {
            uint32_t mask = ((1u << guide_geometry[p].mem) - 1u) << s;
            if (!guide_may_start(p, s) || s + guide_geometry[p].mem > 8 || (used & mask))
                continue;
            glayout_t t = *l;
            t.prof_at[s] = p;
            if (guide_valid(t.prof_at, true))
                return false;
        }
    return true;
}

static const ss_mig_model_t *model_named(const char *name)
{
    int i = ss_mig_find_model(name);
    assert_true(i >= 0);
    return ss_mig_model(i);
}

static void test_table_matches_guide(void **state)
{
    (void)state;
    assert_int_equal(ss_mig_model_count(), 5);
    for (int g = 0; g < 5; g++) {
        const ss_mig_model_t *m = model_named(guide_models[g].model);
        assert_string_equal(m->name, guide_models[g].model);
        assert_int_equal(m->n_profiles, 7);
        for (int p = 0; p < 7; p++) {
            const ss_mig_profile_t *pr = &m->profiles[p];
            const gprof_t *gp = &guide_geometry[p];
            assert_string_equal(pr->name, guide_models[g].names[p]);
            assert_int_equal(pr->compute, gp->compute);
            assert_int_equal(pr->mem, gp->mem);
            assert_int_equal(pr->max_count, gp->max);
            assert_int_equal(pr->media, gp->media);
            for (int s = 0; s < 8; s++)
                assert_int_equal(pr->starts >> s & 1, guide_may_start(p, s));
        }
    }
}

/* Each profile alone, by geometry only: as many as the guide's "Number of
 * Instances Available" (H100 80GB: 7x 1g.10gb, 1x +me, 4x 1g.20gb,
 * 3x 2g.20gb, 2x 3g.40gb, 1x 4g.40gb, 1x 7g.80gb). */
static void test_max_count_alone(void **state)
{
    (void)state;
    static const int expect[7] = {7, 1, 4, 3, 2, 1, 1};
    for (int p = 0; p < 7; p++) {
        int prof_at[8], best = 0;
        g_n = 0;
        brute(0, 0, prof_at, false, p);
        for (int i = 0; i < g_n; i++) {
            int n = 0;
            for (int s = 0; s < 8; s++)
                n += g_all[i].prof_at[s] >= 0;
            best = n > best ? n : best;
        }
        assert_int_equal(best, expect[p]);
        assert_int_equal(best, guide_geometry[p].max);
    }
}

static void to_insts(const glayout_t *l, ss_mig_inst_t *inst, int *n)
{
    *n = 0;
    for (int s = 0; s < 8; s++)
        if (l->prof_at[s] >= 0)
            inst[(*n)++] = (ss_mig_inst_t){(int8_t)l->prof_at[s], (int8_t)s};
}

/* The brute force's layouts against the engine's enumeration, validity,
 * maximality and canonical placement, on every model. */
static void test_enumeration_matches_brute_force(void **state)
{
    (void)state;
    static ss_mig_layout_t eng[GMAX];
    for (int g = 0; g < 5; g++) {
        const ss_mig_model_t *m = model_named(guide_models[g].model);
        int prof_at[8], n_max = 0;
        g_n = 0;
        brute(0, 0, prof_at, true, -1);
        int n_all = g_n;
        assert_true(n_all > 1 && n_all < GMAX);
        for (int i = 0; i < n_all; i++)
            n_max += guide_maximal(&g_all[i]);
        assert_int_equal(ss_mig_enumerate(m, false, NULL, 0), n_all);
        assert_int_equal(ss_mig_enumerate(m, true, eng, GMAX), n_max);
        assert_true(n_all <= SS_MIG_MAX_LAYOUTS);
        for (int i = 0; i < n_max; i++) { /* each engine maximal layout is one of ours */
            glayout_t l;
            memset(l.prof_at, -1, sizeof l.prof_at);
            for (int j = 0; j < eng[i].n; j++)
                l.prof_at[eng[i].inst[j].start] = eng[i].inst[j].profile;
            assert_true(guide_valid(l.prof_at, true));
            assert_true(guide_maximal(&l));
        }
        for (int i = 0; i < n_all; i++) {
            ss_mig_inst_t inst[8];
            ss_mig_layout_t l, c;
            int n, counts[SS_MIG_MAX_PROFILES] = {0};
            to_insts(&g_all[i], inst, &n);
            assert_true(ss_mig_layout_valid(m, inst, n, NULL, 0));
            l.n = n;
            memcpy(l.inst, inst, (size_t)n * sizeof *inst);
            assert_int_equal(ss_mig_layout_maximal(m, &l), guide_maximal(&g_all[i]));
            for (int j = 0; j < n; j++)
                counts[inst[j].profile]++;
            ss_error_t err;
            assert_int_equal(ss_mig_canonical(m, counts, &c, &err), 0); /* complete */
            assert_true(ss_mig_layout_valid(m, c.inst, c.n, NULL, 0));
            assert_int_equal(c.n, n);
        }
        /* The geometry alone (no count check) gives the same layouts: the
         * guide's counts are what the placements allow. */
        g_n = 0;
        brute(0, 0, prof_at, false, -1);
        for (int i = 0; i < g_n; i++) {
            ss_mig_inst_t inst[8];
            int n;
            to_insts(&g_all[i], inst, &n);
            bool ok = guide_valid(g_all[i].prof_at, true);
            assert_int_equal(ss_mig_layout_valid(m, inst, n, NULL, 0), ok);
            assert_true(ok);
        }
        assert_int_equal(g_n, n_all);
    }
}

static void test_hand_cases(void **state)
{
    (void)state;
    const ss_mig_model_t *m = model_named("NVIDIA-H100-80GB-HBM3");
    int p1 = ss_mig_find_profile(m, "1g.10gb"), p3 = ss_mig_find_profile(m, "3g.40gb");
    int p4 = ss_mig_find_profile(m, "4g.40gb"), p7 = ss_mig_find_profile(m, "7g.80gb");
    assert_true(p1 >= 0 && p3 >= 0 && p4 >= 0 && p7 >= 0);
    char why[160];
    ss_error_t err;
    ss_mig_layout_t l;
    int32_t counts[SS_MIG_MAX_PROFILES] = {0};

    /* A 3g and a 4g instance fit together on one H100. */
    ss_mig_inst_t a[2] = {{(int8_t)p4, 0}, {(int8_t)p3, 4}};
    assert_true(ss_mig_layout_valid(m, a, 2, why, sizeof why));
    counts[p3] = counts[p4] = 1;
    assert_int_equal(ss_mig_canonical(m, counts, &l, &err), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.inst[0].profile, p4);
    assert_int_equal(l.inst[1].start, 4);
    ss_mig_inst_t bad3[2] = {{(int8_t)p3, 0}, {(int8_t)p4, 4}}; /* 4g only starts at 0 */
    assert_false(ss_mig_layout_valid(m, bad3, 2, why, sizeof why));
    assert_non_null(strstr(why, "4g.40gb cannot start at memory slice 4"));

    /* A 7g cannot be placed when one 1g instance is present, wherever it is. */
    for (int s = 0; s < 7; s++) {
        ss_mig_inst_t b[2] = {{(int8_t)p1, (int8_t)s}, {(int8_t)p7, 0}};
        assert_false(ss_mig_layout_valid(m, b, 2, why, sizeof why));
        assert_non_null(strstr(why, "overlaps"));
    }
    memset(counts, 0, sizeof counts);
    counts[p1] = counts[p7] = 1;
    assert_int_equal(ss_mig_canonical(m, counts, &l, &err), SS_EINVAL);

    /* Two 3g.40gb fit (one compute slice unused), and so do 7x 1g.10gb
     * (one memory slice unused). */
    int uc, um;
    memset(counts, 0, sizeof counts);
    counts[p3] = 2;
    assert_int_equal(ss_mig_canonical(m, counts, &l, &err), 0);
    assert_int_equal(l.inst[0].start, 0);
    assert_int_equal(l.inst[1].start, 4);
    ss_mig_unused(m, &l, &uc, &um);
    assert_int_equal(uc, 1);
    assert_int_equal(um, 0);
    memset(counts, 0, sizeof counts);
    counts[p1] = 7;
    assert_int_equal(ss_mig_canonical(m, counts, &l, &err), 0);
    assert_int_equal(l.n, 7);
    ss_mig_unused(m, &l, &uc, &um);
    assert_int_equal(uc, 0);
    assert_int_equal(um, 1);
    counts[p1] = 8;
    assert_int_equal(ss_mig_canonical(m, counts, &l, &err), SS_EINVAL);
    assert_non_null(strstr(err.text, "1g.10gb"));

    /* Largest first at the lowest start needs backtracking for 3g + 2x 2g:
     * 2g at 0 and 2, 3g at 4. */
    int p2 = ss_mig_find_profile(m, "2g.20gb");
    memset(counts, 0, sizeof counts);
    counts[p3] = 1;
    counts[p2] = 2;
    assert_int_equal(ss_mig_canonical(m, counts, &l, &err), 0);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.inst[2].profile, p3);
    assert_int_equal(l.inst[2].start, 4);

    /* Two media-extension instances never fit. */
    int pme = ss_mig_find_profile(m, "1g.10gb.me");
    assert_int_equal(pme, ss_mig_find_profile(m, "1g.10gb+me"));
    ss_mig_inst_t c[2] = {{(int8_t)pme, 0}, {(int8_t)pme, 1}};
    assert_false(ss_mig_layout_valid(m, c, 2, NULL, 0));
}

static void test_model_names(void **state)
{
    (void)state;
    static const struct {
        const char *label, *model;
    } cases[] = {
        {"NVIDIA-A100-SXM4-40GB", "A100-40GB"},
        {"NVIDIA-A100-PCIE-40GB", "A100-40GB"},
        {"NVIDIA-A100-SXM4-80GB", "A100-80GB"},
        {"NVIDIA-A100-80GB-PCIe", "A100-80GB"},
        {"NVIDIA-H100-80GB-HBM3", "H100-80GB"},
        {"NVIDIA-H100-PCIe", "H100-80GB"},
        {"NVIDIA-H100-NVL", "H100-94GB"},
        {"NVIDIA-H200", "H200-141GB"},
        {"h200-141gb", "H200-141GB"},
        {"NVIDIA-A100-SXM4-40GB-MIG-1g.5gb", "A100-40GB"},
        {"Tesla-V100-SXM2-32GB", NULL},
        {"NVIDIA-GH200-480GB", NULL},
        {"NVIDIA-H100-96GB", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int m = ss_mig_find_model(cases[i].label);
        if (!cases[i].model)
            assert_int_equal(m, -1);
        else
            assert_string_equal(ss_mig_model(m)->name, cases[i].model);
    }
    int model;
    int p = ss_mig_label_profile("NVIDIA-A100-SXM4-40GB-MIG-1g.5gb", &model);
    assert_string_equal(ss_mig_model(model)->profiles[p].name, "1g.5gb");
    p = ss_mig_label_profile("NVIDIA-H100-80GB-HBM3-MIG-3g.40gb", &model);
    assert_string_equal(ss_mig_model(model)->profiles[p].name, "3g.40gb");
    assert_int_equal(ss_mig_label_profile("NVIDIA-A100-SXM4-40GB", &model), -1);
    assert_int_equal(ss_mig_label_profile("NVIDIA-A100-SXM4-40GB-MIG-3g.40gb", &model), -1);
    assert_true(ss_mig_model_has_device(model_named("A100-40GB"), 0x20B010DE));
    assert_false(ss_mig_model_has_device(model_named("A100-40GB"), 0x233010DE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_matches_guide),
        cmocka_unit_test(test_max_count_alone),
        cmocka_unit_test(test_enumeration_matches_brute_force),
        cmocka_unit_test(test_hand_cases),
        cmocka_unit_test(test_model_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
