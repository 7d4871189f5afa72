/* ss_gen_rules: the constraints a generated template carries: nodeSelector,
 * required and preferred node affinity, allowed GPU models and tolerations.
 * Each draws one of a few realistic variants (the ones real deployments
 * repeat) that refer only to labels, zones, models and taints the generated
 * nodes have, except SEL_NOWHERE, which is meant to match nothing. A rule
 * family whose switch is off leaves the template's range empty.
 *
 * The inter-pod rules (topology spread, pod (anti-)affinity terms, PDBs)
 * are at the end: they draw from the rules' own stream (g->rrng), and every
 * selector they make is `app In (<the workload's app label>)`, as Helm
 * charts write them. */
#include "ss_gen_int.h"

static int empty_range(int32_t *begin, int32_t *count, int32_t pool)
{
    *begin = pool;
    *count = 0;
    return 0;
}

int ss_gen_rule_selector(gen_t *g, ss_template_t *t, int kind)
{
    ss_cluster_t *c = g->c;
    empty_range(&t->sel_begin, &t->sel_count, c->n_labels);
    if (!g->o->node_selector)
        return 0;
    static const int model_w[GEN_NMODELS] = {50, 40, 10};
    int32_t v;
    switch (kind) {
    case SEL_SSD:
        GEN_TRY(g, ss_cluster_add_label(c, g->k_disk, g->v_ssd));
        break;
    case SEL_ZONE:
        GEN_TRY(g, ss_cluster_add_label(c, g->k_zone,
                                        g->zone[ss_rng_below(&g->rng, (uint64_t)g->nzones)]));
        break;
    case SEL_GPU_PRODUCT:
        GEN_TRY(g, ss_cluster_add_label(c, g->k_gpuprod, g->model[ss_gen_pick(g, model_w, 3)]));
        break;
    case SEL_SSD_GEN5:
        GEN_TRY(g, ss_cluster_add_label(c, g->k_disk, g->v_ssd));
        GEN_TRY(g, v = ss_cluster_str(c, "5"));
        GEN_TRY(g, ss_cluster_add_label(c, g->k_cpugen, v));
        break;
    case SEL_NOWHERE:
        GEN_TRY(g, v = ss_cluster_str(c, "legacy"));
        GEN_TRY(g, ss_cluster_add_label(c, g->k_pool, v));
        break;
    default: /* SEL_POOL_GPU + pool */
        GEN_TRY(g, ss_cluster_add_label(c, g->k_pool, g->pool_name[kind - SEL_POOL_GPU]));
        break;
    }
    t->sel_count = c->n_labels - t->sel_begin;
    return 0;
}

/* Appends one expression with up to 4 string values; returns its index. */
static int32_t expr(gen_t *g, int32_t key, int op, const int32_t *vals, int nvals)
{
    ss_cluster_t *c = g->c;
    int32_t vb = c->n_expr_values;
    for (int i = 0; i < nvals; i++)
        if (ss_cluster_add_expr_value(c, vals[i]) < 0)
            return -1;
    return ss_cluster_add_expr(c, key, op, 0, vb, nvals);
}

/* Appends a term made of the variant's expressions; returns 0 or SS_ENOMEM. */
static int term(gen_t *g, int variant, int32_t weight)
{
    ss_cluster_t *c = g->c;
    int32_t eb = c->n_exprs, v[4];
    int nz = g->nzones;
    switch (variant) {
    case 0: /* disktype In [ssd] */
        GEN_TRY(g, expr(g, g->k_disk, SS_OP_IN, &g->v_ssd, 1));
        break;
    case 1: /* cpu-generation Gt 3 */
        GEN_TRY(g, v[0] = ss_cluster_str(c, "3"));
        GEN_TRY(g, expr(g, g->k_cpugen, SS_OP_GT, v, 1));
        break;
    case 2: /* zone In [two zones] */
        v[0] = g->zone[ss_rng_below(&g->rng, (uint64_t)nz)];
        v[1] = g->zone[ss_rng_below(&g->rng, (uint64_t)nz)];
        GEN_TRY(g, expr(g, g->k_zone, SS_OP_IN, v, v[0] == v[1] ? 1 : 2));
        break;
    case 3: /* pool NotIn [spot, system], disktype Exists */
        v[0] = g->pool_name[POOL_SPOT];
        v[1] = g->pool_name[POOL_SYSTEM];
        GEN_TRY(g, expr(g, g->k_pool, SS_OP_NOT_IN, v, 2));
        GEN_TRY(g, expr(g, g->k_disk, SS_OP_EXISTS, NULL, 0));
        break;
    case 4: /* cpu-generation Gt 4 */
        GEN_TRY(g, v[0] = ss_cluster_str(c, "4"));
        GEN_TRY(g, expr(g, g->k_cpugen, SS_OP_GT, v, 1));
        break;
    default: /* instance-type In [the newer general and high-memory types] */
        GEN_TRY(g, v[0] = ss_cluster_str(c, "m6i.8xlarge"));
        GEN_TRY(g, v[1] = ss_cluster_str(c, "m7i.8xlarge"));
        GEN_TRY(g, v[2] = ss_cluster_str(c, "r6i.16xlarge"));
        GEN_TRY(g, v[3] = ss_cluster_str(c, "r7i.16xlarge"));
        GEN_TRY(g, expr(g, g->k_itype, SS_OP_IN, v, 4));
        break;
    }
    GEN_TRY(g, ss_cluster_add_term(c, eb, c->n_exprs - eb, weight));
    return 0;
}

int ss_gen_rule_required(gen_t *g, ss_template_t *t)
{
    static const int w[6] = {30, 20, 15, 15, 10, 10};
    empty_range(&t->req_begin, &t->req_count, g->c->n_terms);
    if (!g->o->node_affinity)
        return 0;
    int rc, ntermsx = ss_gen_chance(g, 0.2) ? 2 : 1; /* some ORed pairs */
    for (int i = 0; i < ntermsx; i++)
        if ((rc = term(g, ss_gen_pick(g, w, 6), 0)) < 0)
            return rc;
    t->req_count = g->c->n_terms - t->req_begin;
    return 0;
}

int ss_gen_rule_preferred(gen_t *g, ss_template_t *t)
{
    static const int w[6] = {30, 10, 25, 5, 20, 10};
    static const int32_t weights[4] = {10, 20, 50, 80};
    empty_range(&t->pref_begin, &t->pref_count, g->c->n_terms);
    if (!g->o->node_affinity)
        return 0;
    int rc, n = ss_gen_chance(g, 0.3) ? 2 : 1;
    for (int i = 0; i < n; i++)
        if ((rc = term(g, ss_gen_pick(g, w, 6), weights[ss_rng_below(&g->rng, 4)])) < 0)
            return rc;
    t->pref_count = g->c->n_terms - t->pref_begin;
    return 0;
}

int ss_gen_rule_models(gen_t *g, ss_template_t *t)
{
    /* Allowed-model lists, as indices into g->model (H100, A100, V100M32). */
    static const int lists[4][3] = {{0, -1, -1}, {0, 1, -1}, {1, -1, -1}, {1, 2, -1}};
    static const int w[4] = {30, 40, 15, 15};
    empty_range(&t->model_begin, &t->model_count, g->c->n_models);
    if (!g->o->gpu_models)
        return 0;
    const int *l = lists[ss_gen_pick(g, w, 4)];
    for (int i = 0; i < 3 && l[i] >= 0; i++)
        GEN_TRY(g, ss_cluster_add_model(g->c, g->model[l[i]]));
    t->model_count = g->c->n_models - t->model_begin;
    return 0;
}

int ss_gen_rule_tolerations(gen_t *g, ss_template_t *t, unsigned which)
{
    ss_cluster_t *c = g->c;
    empty_range(&t->tol_begin, &t->tol_count, c->n_tolerations);
    if (!g->o->taints_tolerations)
        return 0;
    if (which & TOL_SYSTEM)
        GEN_TRY(g, ss_cluster_add_toleration(c, g->k_sys_taint, g->v_system, SS_TOL_EQUAL,
                                             SS_EFFECT_NO_SCHEDULE));
    if (which & TOL_SPOT)
        GEN_TRY(g, ss_cluster_add_toleration(c, g->k_spot, g->v_true, SS_TOL_EQUAL,
                                             SS_EFFECT_NO_SCHEDULE));
    if (which & TOL_SPOT_PREFER)
        GEN_TRY(g, ss_cluster_add_toleration(c, g->k_reclaim, 0, SS_TOL_EXISTS,
                                             SS_EFFECT_PREFER_NO_SCHEDULE));
    if (which & TOL_GPU)
        GEN_TRY(g, ss_cluster_add_toleration(c, g->k_gpu_taint, 0, SS_TOL_EXISTS,
                                             SS_EFFECT_NO_SCHEDULE));
    t->tol_count = c->n_tolerations - t->tol_begin;
    return 0;
}

/* ---- inter-pod rules ---- */

int ss_gen_rule_app_sel(gen_t *g, int32_t app, ss_selector_t *sel)
{
    int32_t e;
    GEN_TRY(g, e = expr(g, g->k_app, SS_OP_IN, &app, 1));
    *sel = (ss_selector_t){.begin = e, .count = 1, .null = 0};
    return 0;
}

static int spread(gen_t *g, int32_t app, int32_t key, int32_t skew, int32_t when, int32_t min_dom)
{
    ss_spread_t s = {.max_skew = skew,
                     .key = key,
                     .when = when,
                     .min_domains = min_dom,
                     .node_affinity_policy = SS_INCL_HONOR,
                     .node_taints_policy = SS_INCL_IGNORE};
    int rc;
    if ((rc = ss_gen_rule_app_sel(g, app, &s.sel)) < 0)
        return rc;
    GEN_TRY(g, ss_cluster_add_spread(g->c, &s));
    return 0;
}

/* Variants: zone maxSkew 1 ScheduleAnyway (the most common chart default),
 * zone maxSkew 1 DoNotSchedule (some with minDomains = the zones), hostname
 * maxSkew 1-2 DoNotSchedule, and the zone-hard + hostname-soft pair. */
int ss_gen_rule_spread(gen_t *g, ss_template_t *t, int32_t app)
{
    static const int w[4] = {40, 25, 20, 15};
    ss_cluster_t *c = g->c;
    int rc = 0;
    t->spread_begin = c->n_spreads;
    switch (ss_gen_rpick(g, w, 4)) {
    case 0:
        rc = spread(g, app, g->k_zone, 1, SS_WHEN_SCHEDULE_ANYWAY, 1);
        break;
    case 1:
        rc = spread(g, app, g->k_zone, 1, SS_WHEN_DO_NOT_SCHEDULE,
                    ss_gen_rchance(g, 0.2) ? g->nzones : 1);
        break;
    case 2:
        rc = spread(g, app, g->k_host, 1 + (int32_t)ss_rng_below(&g->rrng, 2),
                    SS_WHEN_DO_NOT_SCHEDULE, 1);
        break;
    default:
        if ((rc = spread(g, app, g->k_zone, 1, SS_WHEN_DO_NOT_SCHEDULE, 1)) == 0)
            rc = spread(g, app, g->k_host, 1, SS_WHEN_SCHEDULE_ANYWAY, 1);
        break;
    }
    t->spread_count = c->n_spreads - t->spread_begin;
    return rc;
}

int ss_gen_rule_pterm(gen_t *g, int kind, int32_t weight, int32_t key, int32_t app, int32_t ns)
{
    ss_podterm_t p = {.kind = kind,
                      .weight = weight,
                      .key = key,
                      .ns_begin = g->c->n_expr_values,
                      .ns_count = 0,
                      .ns_sel = {.begin = g->c->n_exprs, .count = 0, .null = 1}};
    int rc;
    if (ns >= 0) {
        GEN_TRY(g, ss_cluster_add_expr_value(g->c, ns));
        p.ns_count = 1;
    }
    if ((rc = ss_gen_rule_app_sel(g, app, &p.sel)) < 0)
        return rc;
    GEN_TRY(g, ss_cluster_add_pterm(g->c, &p));
    return 0;
}

int ss_gen_rule_pdb(gen_t *g, int32_t app, int32_t ns, int32_t size)
{
    static const int w[4] = {30, 30, 25, 15};
    static const int32_t pcts[3] = {50, 80, 90};
    ss_pdb_t p = {.min_available = -1, .max_unavailable = -1, .allowed = -1};
    int rc;
    p.name = app;
    p.ns = ns;
    if ((rc = ss_gen_rule_app_sel(g, app, &p.sel)) < 0)
        return rc;
    int v = ss_gen_rpick(g, w, 4);
    if (v == 0 && size <= 0) /* replicas unknown (running workloads) */
        v = 2;
    switch (v) {
    case 0: /* minAvailable: an integer below the replicas (a budget of 1+) */
        p.min_available =
            size > 1 ? size - 1 - (int32_t)ss_rng_below(&g->rrng, (uint64_t)size / 2) : 1;
        break;
    case 1:
        p.min_available = pcts[ss_rng_below(&g->rrng, 3)];
        p.min_pct = 1;
        break;
    case 2:
        p.max_unavailable = 1;
        break;
    default:
        p.max_unavailable = ss_gen_rchance(g, 0.5) ? 10 : 25;
        p.max_pct = 1;
        break;
    }
    GEN_TRY(g, ss_cluster_add_pdb(g->c, &p));
    return 0;
}
