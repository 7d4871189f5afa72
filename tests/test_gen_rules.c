/* test_gen_rules: the inter-pod rules in gen's default mix (issue 12,
 * jobs/ss_gen.h): their shares on the default cluster, every selector
 * matching its own workload's pods (the cache's affinity: its web's),
 * ranges inside their pools, priority classes, start times, determinism of
 * the new fields, --rules none giving the same workload with none of them,
 * and the ai profile's locality and cross-zone anti-affinity. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ss_cluster.h"
#include "ss_gen.h"
#include "ss_rules.h"

static ss_cluster_t *gen_with(const ss_gen_opts_t *o)
{
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    if (ss_gen(o, &c, &err) != 0)
        fail_msg("ss_gen: %s", err.text);
    if (ss_cluster_validate(c, &err) != 0)
        fail_msg("validate: %s", err.text);
    return c;
}

static ss_cluster_t *gen_seed(uint64_t seed, int rules, int profile)
{
    ss_gen_opts_t o;
    ss_gen_opts_default(&o);
    o.seed = seed;
    o.rules = rules;
    o.profile = profile;
    return gen_with(&o);
}

static bool is_class(const ss_cluster_t *c, const ss_template_t *t, const char *prefix)
{
    return !strncmp(ss_cluster_strget(c, t->workload), prefix, strlen(prefix));
}

static bool has_pterm(const ss_cluster_t *c, const ss_template_t *t, int kind, bool required)
{
    for (int32_t i = 0; i < t->pterm_count; i++) {
        const ss_podterm_t *pt = &c->pterms[t->pterm_begin + i];
        if (pt->kind == kind && (pt->weight == 0) == required)
            return true;
    }
    return false;
}

/* ---- shares ---- */

typedef struct {
    int64_t pending, spread, anti_req, aff, svc_tmpl, svc_pref_anti, svc_pdb, pdbs;
    int64_t when[2], host_spread, zone_spread, anti_zone, aff_req;
} rmix_t;

static rmix_t rmix_of(const ss_cluster_t *c)
{
    rmix_t m = {0};
    for (int32_t p = 0; p < c->n_pods; p++) {
        const ss_template_t *t = &c->templates[c->pod_template[p]];
        if (c->pod_node[p] >= 0)
            continue;
        m.pending++;
        m.spread += t->spread_count > 0;
        m.anti_req += has_pterm(c, t, SS_PT_ANTI_AFFINITY, true);
        m.aff += has_pterm(c, t, SS_PT_AFFINITY, true) || has_pterm(c, t, SS_PT_AFFINITY, false);
    }
    /* service templates carrying a PDB: PDB names are the app labels */
    uint8_t *pdb_app = calloc((size_t)ss_strtab_count(c->strings) + 1, 1);
    assert_non_null(pdb_app);
    for (int32_t i = 0; i < c->n_pdbs; i++)
        pdb_app[c->pdbs[i].name] = 1;
    for (int32_t i = 0; i < c->n_templates; i++) {
        const ss_template_t *t = &c->templates[i];
        for (int32_t s = 0; s < t->spread_count; s++) {
            const ss_spread_t *sp = &c->spreads[t->spread_begin + s];
            m.when[sp->when]++;
            m.host_spread += !strcmp(ss_cluster_strget(c, sp->key), "kubernetes.io/hostname");
            m.zone_spread += !strcmp(ss_cluster_strget(c, sp->key), "topology.kubernetes.io/zone");
        }
        for (int32_t k = 0; k < t->pterm_count; k++) {
            const ss_podterm_t *pt = &c->pterms[t->pterm_begin + k];
            bool zone = !strcmp(ss_cluster_strget(c, pt->key), "topology.kubernetes.io/zone");
            m.anti_zone += pt->kind == SS_PT_ANTI_AFFINITY && pt->weight == 0 && zone;
            m.aff_req += pt->kind == SS_PT_AFFINITY && pt->weight == 0;
        }
        if (!is_class(c, t, "deploy/web-"))
            continue;
        m.svc_tmpl++;
        m.svc_pref_anti += has_pterm(c, t, SS_PT_ANTI_AFFINITY, false);
        m.svc_pdb += pdb_app[c->labels[t->plabel_begin].value];
    }
    m.pdbs = c->n_pdbs;
    free(pdb_app);
    return m;
}

static double pct(int64_t x, int64_t of)
{
    return 100.0 * (double)x / (double)of;
}

#define BETWEEN(what, got, lo, hi)                                                                 \
    do {                                                                                           \
        double g_ = (got);                                                                         \
        if (g_ < (lo) || g_ > (hi))                                                                \
            fail_msg("%s: %.2f%%, want %g..%g%%", what, g_, (double)(lo), (double)(hi));           \
    } while (0)

static void test_rules_shares_on_default_cluster(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        ss_cluster_t *c = gen_seed(seed, SS_GEN_RULES_DEFAULT, SS_GEN_PROFILE_DEFAULT);
        rmix_t m = rmix_of(c);
        print_message(
            "seed %llu: of %lld pending pods: spread %lld (%.1f%%), required "
            "anti-affinity %lld (%.1f%%, %lld zone terms), pod affinity %lld (%.1f%%, "
            "%lld required); of %lld service templates: preferred anti-affinity %lld "
            "(%.1f%%), PDB %lld (%.1f%%); %lld PDBs in all; spread constraints: %lld "
            "DoNotSchedule, %lld ScheduleAnyway, %lld zone, %lld hostname\n",
            (unsigned long long)seed, (long long)m.pending, (long long)m.spread,
            pct(m.spread, m.pending), (long long)m.anti_req, pct(m.anti_req, m.pending),
            (long long)m.anti_zone, (long long)m.aff, pct(m.aff, m.pending), (long long)m.aff_req,
            (long long)m.svc_tmpl, (long long)m.svc_pref_anti, pct(m.svc_pref_anti, m.svc_tmpl),
            (long long)m.svc_pdb, pct(m.svc_pdb, m.svc_tmpl), (long long)m.pdbs,
            (long long)m.when[SS_WHEN_DO_NOT_SCHEDULE], (long long)m.when[SS_WHEN_SCHEDULE_ANYWAY],
            (long long)m.zone_spread, (long long)m.host_spread);
        BETWEEN("topology spread", pct(m.spread, m.pending), 15, 25);
        BETWEEN("required pod anti-affinity", pct(m.anti_req, m.pending), 1, 3);
        BETWEEN("pod affinity", pct(m.aff, m.pending), 1, 3);
        BETWEEN("preferred anti-affinity (service templates)", pct(m.svc_pref_anti, m.svc_tmpl), 20,
                40);
        BETWEEN("PDB (service templates)", pct(m.svc_pdb, m.svc_tmpl), 20, 40);
        /* every variant is present */
        assert_true(m.when[0] > 0 && m.when[1] > 0 && m.zone_spread > 0 && m.host_spread > 0);
        assert_true(m.anti_zone > 0 && m.aff_req > 0 && m.pdbs > m.svc_pdb);
        assert_int_equal(c->default_spreading, SS_SPREAD_DEFAULT_SYSTEM);
        assert_int_equal(c->locality, SS_LOCALITY_OFF);
        ss_cluster_destroy(c);
    }
}

/* ---- every selector means what it says ---- */

static void check_sel_in_pool(const ss_cluster_t *c, const ss_selector_t *s)
{
    assert_true(s->begin >= 0 && s->count >= 0 && s->begin + s->count <= c->n_exprs);
}

/* Pending pods of the template with app label `app` (its first pod), or -1. */
static int32_t first_pod_of_app(const ss_cluster_t *c, const int32_t *first, int32_t app)
{
    for (int32_t t = 0; t < c->n_templates; t++)
        if (c->templates[t].plabel_count > 0 &&
            c->labels[c->templates[t].plabel_begin].value == app)
            return first[t];
    return -1;
}

/* Matching pods of s: all of one template (returned), or -2 when pods of
 * several templates match; -1 when none. */
static int32_t matched_template(const ss_cluster_t *c, const ss_selector_t *s, int64_t *npods)
{
    int32_t tm = -1;
    *npods = 0;
    for (int32_t p = 0; p < c->n_pods; p++)
        if (ss_sel_match_pod(c, s, p)) {
            if (tm >= 0 && c->pod_template[p] != tm)
                return -2;
            tm = c->pod_template[p];
            ++*npods;
        }
    return tm;
}

static void check_selectors(const ss_cluster_t *c)
{
    int32_t *first = malloc((size_t)c->n_templates * sizeof *first);
    assert_non_null(first);
    for (int32_t t = 0; t < c->n_templates; t++)
        first[t] = -1;
    for (int32_t p = c->n_pods - 1; p >= 0; p--)
        first[c->pod_template[p]] = p;
    for (int32_t t = 0; t < c->n_templates; t++) {
        const ss_template_t *tp = &c->templates[t];
        assert_true(tp->spread_begin >= 0 && tp->spread_begin + tp->spread_count <= c->n_spreads);
        assert_true(tp->pterm_begin >= 0 && tp->pterm_begin + tp->pterm_count <= c->n_pterms);
        int64_t n;
        for (int32_t s = 0; s < tp->spread_count; s++) {
            const ss_spread_t *sp = &c->spreads[tp->spread_begin + s];
            check_sel_in_pool(c, &sp->sel);
            assert_true(sp->max_skew >= 1 && sp->min_domains >= 1);
            assert_int_equal(matched_template(c, &sp->sel, &n), t); /* its own pods, only */
        }
        for (int32_t k = 0; k < tp->pterm_count; k++) {
            const ss_podterm_t *pt = &c->pterms[tp->pterm_begin + k];
            check_sel_in_pool(c, &pt->sel);
            assert_true(pt->ns_sel.null); /* own namespace, or the web's (affinity) */
            assert_int_equal(pt->ns_count, pt->kind == SS_PT_AFFINITY);
            int32_t m = matched_template(c, &pt->sel, &n);
            if (pt->kind == SS_PT_ANTI_AFFINITY) {
                assert_int_equal(m, t);
                continue;
            }
            /* affinity: a web of another workload, in the namespace the
             * term lists; a required one is queued first (higher priority) */
            assert_true(m >= 0 && m != t);
            assert_true(is_class(c, &c->templates[m], "deploy/web-"));
            assert_int_equal(c->expr_values[pt->ns_begin], c->pod_ns[first[m]]);
            if (pt->weight == 0)
                assert_true(c->pod_priority[first[m]] > c->pod_priority[first[t]]);
        }
    }
    for (int32_t i = 0; i < c->n_pdbs; i++) {
        const ss_pdb_t *pd = &c->pdbs[i];
        check_sel_in_pool(c, &pd->sel);
        int64_t n;
        int32_t m = matched_template(c, &pd->sel, &n);
        assert_true(m >= 0);
        assert_int_equal(first_pod_of_app(c, first, pd->name), first[m]);
        assert_int_equal(c->pod_ns[first[m]], pd->ns);
        assert_true(ss_pdb_covers(c, pd, first[m]));
        assert_int_equal(pd->allowed, -1);
        assert_true((pd->min_available >= 0) != (pd->max_unavailable >= 0));
        if (pd->min_pct || pd->max_pct)
            assert_true((pd->min_pct ? pd->min_available : pd->max_unavailable) <= 100);
    }
    free(first);
}

static void test_rules_selectors_match_own_workload(void **state)
{
    (void)state;
    ss_cluster_t *c = gen_seed(1, SS_GEN_RULES_DEFAULT, SS_GEN_PROFILE_DEFAULT);
    check_selectors(c);
    ss_cluster_destroy(c);
    c = gen_seed(5, SS_GEN_RULES_DEFAULT, SS_GEN_PROFILE_AI);
    check_selectors(c);
    ss_cluster_destroy(c);
}

/* The cache's affinity term, with its namespaces, matches its web's pods
 * (ss_pterm_matches_pod, the engine's own meaning), or the rule would be
 * unsatisfiable by construction. */
static void test_rules_affinity_matches_web_pods(void **state)
{
    (void)state;
    ss_cluster_t *c = gen_seed(1, SS_GEN_RULES_DEFAULT, SS_GEN_PROFILE_DEFAULT);
    int64_t terms = 0;
    for (int32_t p = 0; p < c->n_pods; p++) {
        if (c->pod_node[p] >= 0 || (p > 0 && c->pod_template[p] == c->pod_template[p - 1]))
            continue;
        const ss_template_t *t = &c->templates[c->pod_template[p]];
        for (int32_t k = 0; k < t->pterm_count; k++) {
            const ss_podterm_t *pt = &c->pterms[t->pterm_begin + k];
            if (pt->kind != SS_PT_AFFINITY)
                continue;
            bool found = false;
            for (int32_t q = 0; q < c->n_pods && !found; q++)
                found = c->pod_template[q] != c->pod_template[p] &&
                        ss_pterm_matches_pod(c, pt, c->pod_ns[p], q);
            if (!found)
                fail_msg("pod %s: affinity term %d matches no other pod in its namespace",
                         ss_cluster_strget(c, c->pod_name[p]), k);
            terms++;
        }
    }
    assert_true(terms > 0);
    ss_cluster_destroy(c);
}

/* ---- priorities, flags, start times ---- */

static void test_rules_priorities_flags_start_times(void **state)
{
    (void)state;
    ss_cluster_t *c = gen_seed(1, SS_GEN_RULES_DEFAULT, SS_GEN_PROFILE_DEFAULT);
    int64_t run_by_class[SS_GEN_NPRIO_CLASSES] = {0}, never = 0, pending_tmpl = 0;
    int64_t prod_pending = 0;
    for (int32_t p = 0; p < c->n_pods; p++) {
        const ss_gen_prio_class_t *pc = ss_gen_prio_class(c->pod_priority[p]);
        if (!pc)
            fail_msg("pod %s: priority %d has no class", ss_cluster_strget(c, c->pod_name[p]),
                     c->pod_priority[p]);
        const ss_template_t *t = &c->templates[c->pod_template[p]];
        assert_true(t->flags & SS_TF_CONTROLLER);
        assert_int_equal((t->flags & SS_TF_DAEMONSET) != 0, is_class(c, t, "daemonset/"));
        if (c->pod_node[p] >= 0) {
            run_by_class[pc - ss_gen_prio_classes]++;
            assert_true(c->pod_start[p] > 1767225600 - 91 * 86400 &&
                        c->pod_start[p] <= 1767225600 - 60);
        } else {
            assert_int_equal(c->pod_start[p], 0);
            prod_pending += c->pod_priority[p] == SS_GEN_PRIO_PRODUCTION;
            if (p == 0 || c->pod_template[p] != c->pod_template[p - 1]) {
                pending_tmpl++;
                never += (t->flags & SS_TF_PREEMPT_NEVER) != 0;
            }
        }
    }
    /* running pods of every class: production pods may preempt batch and
     * best-effort ones */
    for (int i = 0; i < SS_GEN_NPRIO_CLASSES; i++)
        assert_true(run_by_class[i] > 0);
    assert_true(run_by_class[2] + run_by_class[3] > run_by_class[1]); /* mostly preemptible */
    assert_true(prod_pending > 0);
    assert_true(never > 0 && never < pending_tmpl / 10); /* a few non-preempting batch jobs */
    assert_non_null(ss_gen_prio_class(SS_GEN_PRIO_SYSTEM));
    assert_true(ss_gen_prio_class(SS_GEN_PRIO_SYSTEM)->builtin);
    assert_null(ss_gen_prio_class(7));
    ss_cluster_destroy(c);
}

/* ---- determinism ---- */

#define SAME(field, n)                                                                             \
    assert_int_equal((n) > 0 ? memcmp(a->field, b->field, (size_t)(n) * sizeof *a->field) : 0, 0)

static void assert_rules_equal(const ss_cluster_t *a, const ss_cluster_t *b)
{
    assert_int_equal(a->n_pods, b->n_pods);
    assert_int_equal(a->n_templates, b->n_templates);
    assert_int_equal(a->n_spreads, b->n_spreads);
    assert_int_equal(a->n_pterms, b->n_pterms);
    assert_int_equal(a->n_pdbs, b->n_pdbs);
    assert_int_equal(a->n_exprs, b->n_exprs);
    assert_int_equal(a->n_expr_values, b->n_expr_values);
    SAME(templates, a->n_templates);
    SAME(spreads, a->n_spreads);
    SAME(pterms, a->n_pterms);
    SAME(pdbs, a->n_pdbs);
    SAME(exprs, a->n_exprs);
    SAME(expr_values, a->n_expr_values);
    SAME(pod_priority, a->n_pods);
    SAME(pod_start, a->n_pods);
    assert_int_equal(a->default_spreading, b->default_spreading);
    assert_int_equal(a->locality, b->locality);
}

static void test_rules_deterministic(void **state)
{
    (void)state;
    for (int profile = 0; profile < 2; profile++) {
        ss_cluster_t *a = gen_seed(9, SS_GEN_RULES_DEFAULT, profile);
        ss_cluster_t *b = gen_seed(9, SS_GEN_RULES_DEFAULT, profile);
        ss_cluster_t *d = gen_seed(10, SS_GEN_RULES_DEFAULT, profile);
        assert_rules_equal(a, b);
        assert_true(a->n_spreads != d->n_spreads || a->n_pdbs != d->n_pdbs ||
                    memcmp(a->pod_start, d->pod_start, sizeof *a->pod_start * 100) != 0);
        ss_cluster_destroy(a);
        ss_cluster_destroy(b);
        ss_cluster_destroy(d);
    }
}

/* ---- --rules none: the same workload, none of the rules ---- */

static void test_rules_none_same_workload_no_rules(void **state)
{
    (void)state;
    ss_cluster_t *r = gen_seed(3, SS_GEN_RULES_DEFAULT, SS_GEN_PROFILE_DEFAULT);
    ss_cluster_t *n = gen_seed(3, SS_GEN_RULES_NONE, SS_GEN_PROFILE_DEFAULT);
    assert_int_equal(n->n_spreads + n->n_pterms + n->n_pdbs, 0);
    assert_int_equal(n->default_spreading, SS_SPREAD_DEFAULT_NONE);
    assert_int_equal(n->locality, SS_LOCALITY_OFF);
    /* same nodes, pods, names, placements of running pods, templates'
     * requests and node rules */
    assert_int_equal(r->n_nodes, n->n_nodes);
    assert_int_equal(r->n_pods, n->n_pods);
    assert_int_equal(r->n_templates, n->n_templates);
    assert_int_equal(r->n_labels, n->n_labels);
    assert_int_equal(r->n_terms, n->n_terms);
    assert_int_equal(ss_strtab_count(r->strings), ss_strtab_count(n->strings));
    assert_memory_equal(r->pod_name, n->pod_name, sizeof *r->pod_name * (size_t)r->n_pods);
    assert_memory_equal(r->pod_node, n->pod_node, sizeof *r->pod_node * (size_t)r->n_pods);
    assert_memory_equal(r->pod_ns, n->pod_ns, sizeof *r->pod_ns * (size_t)r->n_pods);
    assert_memory_equal(r->pod_start, n->pod_start, sizeof *r->pod_start * (size_t)r->n_pods);
    assert_memory_equal(r->labels, n->labels, sizeof *r->labels * (size_t)r->n_labels);
    for (int32_t t = 0; t < r->n_templates; t++) {
        const ss_template_t *a = &r->templates[t], *b = &n->templates[t];
        assert_memory_equal(&a->req, &b->req, sizeof a->req);
        assert_int_equal(a->sel_begin, b->sel_begin);
        assert_int_equal(a->req_count, b->req_count);
        assert_int_equal(a->pref_count, b->pref_count);
        assert_int_equal(a->tol_begin, b->tol_begin);
        assert_int_equal(a->model_begin, b->model_begin);
        assert_int_equal(a->plabel_begin, b->plabel_begin);
        assert_int_equal(a->workload, b->workload);
        assert_int_equal(a->flags & ~SS_TF_PREEMPT_NEVER, b->flags & ~SS_TF_PREEMPT_NEVER);
    }
    for (int32_t p = 0; p < n->n_pods; p++) {
        if (n->pod_node[p] >= 0) {
            assert_int_equal(n->pod_priority[p], SS_GEN_PRIO_BATCH);
        } else {
            assert_int_equal(n->pod_priority[p], r->pod_priority[p]); /* same queue order */
            assert_true(n->templates[n->pod_template[p]].flags & SS_TF_PREEMPT_NEVER);
        }
    }
    ss_cluster_destroy(r);
    ss_cluster_destroy(n);
}

/* ---- the ai profile ---- */

static void test_rules_ai_profile(void **state)
{
    (void)state;
    ss_cluster_t *c = gen_seed(1, SS_GEN_RULES_DEFAULT, SS_GEN_PROFILE_AI);
    assert_int_equal(c->locality, SS_LOCALITY_ZONE);
    assert_int_equal(c->default_spreading, SS_SPREAD_DEFAULT_SYSTEM);
    int32_t gpu_nodes = 0;
    for (int32_t i = 0; i < c->n_nodes; i++)
        gpu_nodes += c->node_gpu_count[i] > 0;
    BETWEEN("GPU nodes", pct(gpu_nodes, c->n_nodes), 55, 65);
    int64_t infer = 0, zone_anti = 0, gpu_pods = 0, gang_pods = 0, pending = 0;
    for (int32_t t = 0; t < c->n_templates; t++) {
        const ss_template_t *tp = &c->templates[t];
        if (!is_class(c, tp, "deploy/gpu-"))
            continue;
        infer++;
        for (int32_t k = 0; k < tp->pterm_count; k++) {
            const ss_podterm_t *pt = &c->pterms[tp->pterm_begin + k];
            zone_anti += pt->kind == SS_PT_ANTI_AFFINITY &&
                         !strcmp(ss_cluster_strget(c, pt->key), "topology.kubernetes.io/zone");
        }
    }
    for (int32_t p = 0; p < c->n_pods; p++) {
        if (c->pod_node[p] >= 0)
            continue;
        pending++;
        gpu_pods += c->templates[c->pod_template[p]].req.gpu_count > 0 ||
                    c->templates[c->pod_template[p]].mig_count > 0; /* or MIG instances */
        gang_pods += c->pod_group[p] >= 0;
    }
    print_message("ai: %d of %d nodes with GPUs; %lld pending pods, %lld with GPUs, %lld in "
                  "gangs; %lld inference templates, %lld with zone anti-affinity\n",
                  gpu_nodes, c->n_nodes, (long long)pending, (long long)gpu_pods,
                  (long long)gang_pods, (long long)infer, (long long)zone_anti);
    assert_true(infer > 0);
    assert_int_equal(zone_anti, infer); /* every inference workload spreads over zones */
    BETWEEN("GPU pods", pct(gpu_pods, pending), 30, 45);
    assert_true(gang_pods > 0);
    ss_cluster_destroy(c);
    c = gen_seed(1, SS_GEN_RULES_NONE, SS_GEN_PROFILE_AI);
    assert_int_equal(c->locality, SS_LOCALITY_OFF);
    assert_int_equal(c->n_pterms, 0);
    ss_cluster_destroy(c);
}

static void test_rules_bad_options(void **state)
{
    (void)state;
    ss_gen_opts_t o;
    ss_error_t err = {{0}};
    ss_gen_opts_default(&o);
    assert_int_equal(o.rules, SS_GEN_RULES_DEFAULT);
    o.rules = 7;
    assert_int_equal(ss_gen_opts_check(&o, &err), SS_EINVAL);
    assert_non_null(strstr(err.text, "rules"));
    ss_gen_opts_default(&o);
    o.profile = -1;
    assert_int_equal(ss_gen_opts_check(&o, &err), SS_EINVAL);
    assert_non_null(strstr(err.text, "profile"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_shares_on_default_cluster),
        cmocka_unit_test(test_rules_selectors_match_own_workload),
        cmocka_unit_test(test_rules_affinity_matches_web_pods),
        cmocka_unit_test(test_rules_priorities_flags_start_times),
        cmocka_unit_test(test_rules_deterministic),
        cmocka_unit_test(test_rules_none_same_workload_no_rules),
        cmocka_unit_test(test_rules_ai_profile),
        cmocka_unit_test(test_rules_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
