/* ss_gen_work: the pending work of a generated cluster, as workloads.
 *
 * A workload is one template whose replicas are consecutive pending pods
 * named "<workload>-<i>" in the namespace of its team. Sizes are heavy
 * tailed (most 1-10 replicas, a few thousands; ~50 on average), so 1,000,000
 * pods come from ~20,000 templates. Each class gets a pod budget (services
 * ~60%, batch ~25%, GPU ~10%, gang members ~3%, system, spot, and ~1% that
 * fit nowhere), and workloads are drawn until the budget is spent, then
 * shuffled so that the queue does not see one class after another.
 *
 * Constraint shares (nodeSelector, node affinity, extra tolerations, spread,
 * anti-affinity, fractional GPUs, model lists, extended resources) are kept
 * on target with error diffusion over pods (quota_take), not a coin per
 * template: with heavy-tailed sizes a coin would let one large workload swing
 * a share by several points.
 *
 * Which workloads get spread and required anti-affinity is decided on the
 * workload's stream in every mode; the rules themselves (and pod affinity,
 * preferred anti-affinity, PDBs, non-preempting batch) are drawn on the
 * rules' stream (g->rrng) only with rules DEFAULT, so that rules NONE gives
 * the same workload without them. Pod affinity: a "cache" workload next to
 * the most recent earlier service of higher priority (its "web", queued
 * before it): required on the zone, or preferred (weight 100) on the
 * hostname when no such web exists or by draw; the term names the web's
 * namespace (namespaces: [ns]), as a cache of another team's web would.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ss_gen_int.h"

enum wclass { W_GANG, W_GPU, W_SYS, W_SPOT, W_INFEAS, W_BATCH, W_SVC, NCLASS };
static const char *class_prefix[NCLASS] = {"train", "gpu", "sys", "spot", "huge", "batch", "web"};
static const char *class_kind[NCLASS] = {"podgroup", "deploy", "daemonset", "deploy",
                                         "deploy",   "job",    "deploy"};

enum quota { Q_SEL, Q_REQ, Q_PREF, Q_TOL, Q_SPREAD, Q_ANTI, Q_FRAC, Q_MODEL, Q_FPGA, NQUOTA };

typedef struct {
    double target; /* share of eligible pods that should get the feature */
    int64_t have, seen;
} quota_t;

typedef struct {
    int32_t tmpl, size, priority, group, ns, id;
    int32_t sub[2]; /* --subgroups: the gang's halves (groups), -1 */
    int cls;
    bool want_spread, want_anti; /* drawn on the workload's stream */
} workload_t;

#define NWEBS 8 /* recent services a cache may sit next to */
typedef struct {
    int64_t budget[NCLASS];
    quota_t q[NQUOTA];
    quota_t q_paff; /* pod affinity, on the rules' stream */
    workload_t *w;
    int64_t n, cap;
    int32_t web_app[NWEBS], web_prio[NWEBS], web_ns[NWEBS];
    int nweb;
} work_t;

/* Error diffusion: gives the feature to this workload iff that keeps the
 * eligible pods with the feature nearest the target, with a random threshold
 * (a quarter to three quarters of the workload) so that the choice does not
 * follow a fixed pattern of sizes. The share is off by at most 3/4 of the
 * largest workload. */
static bool quota_take_r(ss_rng_t *r, quota_t *q, int32_t size)
{
    double u = 0.25 + 0.5 * ss_rng_uniform(r);
    bool give = (double)q->have + u * size < q->target * (double)(q->seen + size);
    q->seen += size;
    if (give)
        q->have += size;
    return give;
}

static bool quota_take(gen_t *g, quota_t *q, int32_t size)
{
    return quota_take_r(&g->rng, q, size);
}

static void budgets(gen_t *g, work_t *w)
{
    double s[NCLASS] = {[W_GANG] = 0.03,   [W_GPU] = 0.10,   [W_SYS] = 0.01, [W_SPOT] = 0.01,
                        [W_INFEAS] = 0.01, [W_BATCH] = 0.25, [W_SVC] = 0.0};
    if (g->ai) { /* training gangs and GPU inference; batch is data preparation */
        s[W_GANG] = 0.06;
        s[W_GPU] = 0.30;
        s[W_BATCH] = 0.20;
    }
    if (!g->o->gpu) {
        s[W_BATCH] += s[W_GANG] + 0.04;
        s[W_GANG] = s[W_GPU] = 0;
    } else if (!g->o->gangs) {
        s[W_GPU] += s[W_GANG];
        s[W_GANG] = 0;
    }
    int64_t m = g->o->pods, rest = m;
    for (int c = 0; c < NCLASS; c++) {
        w->budget[c] = (int64_t)floor((double)m * s[c]);
        rest -= w->budget[c];
    }
    w->budget[W_SVC] = rest;
}

/* Quota targets, as shares of the pods of the classes that may carry them. */
static void quotas(gen_t *g, work_t *w)
{
    const int64_t *b = w->budget;
    double m = (double)g->o->pods;
    double sbg = (double)(b[W_SVC] + b[W_BATCH] + b[W_GPU]);
    double sb = (double)(b[W_SVC] + b[W_BATCH]);
    double tol_by_class =
        g->o->taints_tolerations ? (double)(b[W_GPU] + b[W_GANG] + b[W_SYS] + b[W_SPOT]) : 0.0;
    double want[NQUOTA] = {
        [Q_SEL] = 0.06 * m / sbg,
        [Q_REQ] = 0.05 * m / sb,
        /* preferred only where no required term: the two are disjoint */
        [Q_PREF] = 0.05 * m / (sbg + (double)b[W_SPOT] - 0.05 * m),
        [Q_TOL] = fmax(0.0, 0.15 * m - tol_by_class) / sb,
        [Q_SPREAD] = 0.20 * m / (sb + (double)b[W_SPOT]),
        [Q_ANTI] = 0.02 * m / (double)b[W_SVC],
        [Q_FRAC] = 0.35,
        [Q_MODEL] = 0.40,
        [Q_FPGA] = 0.005 * m / sb,
    };
    for (int i = 0; i < NQUOTA; i++)
        w->q[i].target = isfinite(want[i]) ? fmin(1.0, want[i]) : 0.0;
    double paff = 0.02 * m / (double)b[W_SVC];
    w->q_paff.target = isfinite(paff) ? fmin(1.0, paff) : 0.0;
}

static double log_uniform(gen_t *g, double a, double b)
{
    return exp(log(a) + ss_rng_uniform(&g->rng) * (log(b) - log(a)));
}

/* Heavy-tailed replica count before the cap: services, batch and spot
 * 1..5,000 (~59 on average), GPU 1..512 (~44), system 1..20, the pods that
 * fit nowhere 1..10. */
static double draw_raw_size(gen_t *g, int cls)
{
    static const int tail_w[4] = {78, 15, 6, 1};
    static const int gpu_w[3] = {50, 35, 15};
    if (cls == W_SYS || cls == W_INFEAS)
        return 1 + (double)ss_rng_below(&g->rng, cls == W_SYS ? 20 : 10);
    if (cls == W_GPU) {
        switch (ss_gen_pick(g, gpu_w, 3)) {
        case 0:
            return 1 + (double)ss_rng_below(&g->rng, 8);
        case 1:
            return log_uniform(g, 8, 64);
        default:
            return log_uniform(g, 64, 512);
        }
    }
    switch (ss_gen_pick(g, tail_w, 4)) {
    case 0:
        return 1 + (double)ss_rng_below(&g->rng, 10);
    case 1:
        return log_uniform(g, 11, 100);
    case 2:
        return log_uniform(g, 100, 1000);
    default:
        return log_uniform(g, 1000, 5000);
    }
}

/* Replica count for a class (gangs are drawn elsewhere), capped so that no
 * workload is more than 1% of the pending pods (small clusters). */
static int64_t draw_size(gen_t *g, int cls)
{
    int64_t cap = g->o->pods / 100 > 10 ? g->o->pods / 100 : 10;
    int64_t n = llround(draw_raw_size(g, cls));
    return n < cap ? n : cap;
}

static int32_t draw_priority(gen_t *g, int cls)
{
    static const int32_t prio[3] = {SS_GEN_PRIO_BEST_EFFORT, SS_GEN_PRIO_BATCH,
                                    SS_GEN_PRIO_PRODUCTION};
    static const int w[NCLASS][3] = {
        [W_GANG] = {0, 0, 1},   [W_GPU] = {0, 70, 30},  [W_SYS] = {0, 0, 1},
        [W_SPOT] = {1, 0, 0},   [W_INFEAS] = {0, 1, 0}, [W_BATCH] = {80, 20, 0},
        [W_SVC] = {20, 70, 10},
    };
    int32_t p = prio[ss_gen_pick(g, w[cls], 3)];
    return cls == W_SYS ? SS_GEN_PRIO_SYSTEM : p; /* DaemonSets: system-cluster-critical */
}

/* Request menus: real deployments repeat a few shapes. */
typedef struct {
    int64_t cpu, mem;
    int w;
} shape_t;
static const shape_t svc_menu[] = {
    {100, 128 * MIB, 10}, {250, 256 * MIB, 15}, {250, 512 * MIB, 10}, {500, 512 * MIB, 15},
    {500, 1 * GIB, 15},   {1000, 1 * GIB, 8},   {1000, 2 * GIB, 10},  {2000, 4 * GIB, 8},
    {2000, 8 * GIB, 4},   {4000, 8 * GIB, 4},   {4000, 16 * GIB, 3},  {8000, 32 * GIB, 2},
    {16000, 64 * GIB, 1},
};
static const shape_t batch_menu[] = {
    {1000, 2 * GIB, 15}, {1000, 4 * GIB, 15}, {2000, 4 * GIB, 15},
    {2000, 8 * GIB, 15}, {4000, 8 * GIB, 10}, {4000, 16 * GIB, 10},
    {8000, 16 * GIB, 8}, {8000, 32 * GIB, 6}, {16000, 64 * GIB, 6},
};
static const shape_t sys_menu[] = {
    {100, 128 * MIB, 30},
    {250, 256 * MIB, 30},
    {500, 512 * MIB, 25},
    {1000, 1 * GIB, 15},
};
#define MENU(m) (m), (int)(sizeof(m) / sizeof((m)[0]))

static void draw_shape(gen_t *g, const shape_t *menu, int n, ss_request_t *r)
{
    int w[16];
    for (int i = 0; i < n; i++)
        w[i] = menu[i].w;
    int k = ss_gen_pick(g, w, n);
    r->cpu_milli = menu[k].cpu;
    r->memory = menu[k].mem;
}

/* Services (and batch): cpu/memory from a menu, and every optional rule. */
static int tmpl_service(gen_t *g, work_t *w, workload_t *wl, ss_template_t *t)
{
    static const int sel_w[4] = {40, 25, 15, 20};
    static const int sel_kind[4] = {SEL_SSD, SEL_ZONE, SEL_SSD_GEN5, SEL_POOL_HIGHMEM};
    const int32_t size = wl->size;
    bool svc = wl->cls == W_SVC;
    int rc = 0;
    if (svc)
        draw_shape(g, MENU(svc_menu), &t->req);
    else
        draw_shape(g, MENU(batch_menu), &t->req);
    if (quota_take(g, &w->q[Q_FPGA], size) && g->fpga >= 0)
        t->req.ext[g->fpga] = 1;
    if (quota_take(g, &w->q[Q_SEL], size))
        rc = ss_gen_rule_selector(g, t, sel_kind[ss_gen_pick(g, sel_w, 4)]);
    if (quota_take(g, &w->q[Q_REQ], size))
        rc = rc < 0 ? rc : ss_gen_rule_required(g, t);
    else if (quota_take(g, &w->q[Q_PREF], size))
        rc = rc < 0 ? rc : ss_gen_rule_preferred(g, t);
    if (rc == 0 && quota_take(g, &w->q[Q_TOL], size))
        rc = ss_gen_rule_tolerations(g, t, TOL_SPOT | TOL_SPOT_PREFER);
    wl->want_spread = quota_take(g, &w->q[Q_SPREAD], size);
    wl->want_anti = svc && quota_take(g, &w->q[Q_ANTI], size);
    return rc;
}

/* GPU workloads: whole GPUs (1/2/4/8) or a fraction of one; model lists. */
static int tmpl_gpu(gen_t *g, work_t *w, const workload_t *wl, ss_template_t *t)
{
    static const int whole_w[4] = {55, 20, 15, 10}; /* most inference pods use one GPU */
    int rc;
    if (g->o->fractional_gpu && quota_take(g, &w->q[Q_FRAC], wl->size)) {
        bool half = ss_gen_chance(g, 0.6);
        t->req = (ss_request_t){.cpu_milli = half ? 4000 : 2000,
                                .memory = half ? 16 * GIB : 8 * GIB,
                                .gpu_count = 1,
                                .gpu_milli = half ? 500 : 250};
    } else {
        int32_t k = 1 << ss_gen_pick(g, whole_w, 4);
        t->req = (ss_request_t){.cpu_milli = 8000 * k,
                                .memory = 64 * GIB * k,
                                .gpu_count = k,
                                .gpu_milli = SS_GPU_MILLI};
    }
    if ((rc = ss_gen_rule_tolerations(g, t, TOL_GPU)) < 0)
        return rc;
    bool models = quota_take(g, &w->q[Q_MODEL], wl->size);
    bool sel = quota_take(g, &w->q[Q_SEL], wl->size);
    if (models)
        rc = ss_gen_rule_models(g, t);
    else if (sel) /* never both: they could disagree */
        rc = ss_gen_rule_selector(g, t, SEL_GPU_PRODUCT);
    if (rc == 0 && quota_take(g, &w->q[Q_PREF], wl->size))
        rc = ss_gen_rule_preferred(g, t);
    return rc;
}

/* Gang members: 8 whole GPUs each, one pod group per gang (minMember = all
 * of it), a topology level that fits the gang when gang_topology is on. */
static int tmpl_gang(gen_t *g, workload_t *wl, ss_template_t *t)
{
    static const int mode_w[3] = {10, 35, 55}; /* none, preferred, required */
    int rc;
    t->req = (ss_request_t){
        .cpu_milli = 64000, .memory = 512 * GIB, .gpu_count = 8, .gpu_milli = SS_GPU_MILLI};
    if ((rc = ss_gen_rule_tolerations(g, t, TOL_GPU)) < 0)
        return rc;
    if (ss_gen_chance(g, 0.5) && (rc = ss_gen_rule_models(g, t)) < 0)
        return rc;
    int32_t level = SS_TOPO_REGION, mode = SS_TOPO_MODE_NONE, name;
    if (g->o->gang_topology) {
        int32_t rack = GEN_RACK_GPU, block = GEN_RACK_GPU * GEN_BLOCK_RACKS;
        level = wl->size <= rack ? SS_TOPO_RACK : wl->size <= block ? SS_TOPO_BLOCK : SS_TOPO_ZONE;
        mode = ss_gen_pick(g, mode_w, 3);
        if (level == SS_TOPO_ZONE && mode == SS_TOPO_MODE_REQUIRED)
            mode = SS_TOPO_MODE_PREFERRED;
    }
    GEN_TRY(g, name = ss_gen_str(g, "%s-%06d", class_prefix[wl->cls], wl->id));
    GEN_TRY(g, wl->group = ss_cluster_add_group(g->c, name, wl->size, level, mode));
    wl->sub[0] = wl->sub[1] = -1;
    if (g->o->subgroups && wl->size >= 4) /* no draw: the mix is as without */
        for (int h = 0; h < 2; h++) {
            int32_t k = h ? wl->size - wl->size / 2 : wl->size / 2, sname;
            int32_t rack = GEN_RACK_GPU, block = GEN_RACK_GPU * GEN_BLOCK_RACKS;
            int32_t sl = k <= rack ? SS_TOPO_RACK : k <= block ? SS_TOPO_BLOCK : SS_TOPO_ZONE;
            int sm = sl == SS_TOPO_ZONE ? SS_TOPO_MODE_PREFERRED : SS_TOPO_MODE_REQUIRED;
            GEN_TRY(g, sname = ss_gen_str(g, "%s-%06d/%c", class_prefix[wl->cls], wl->id, 'a' + h));
            GEN_TRY(g, wl->sub[h] = ss_cluster_add_subgroup(g->c, wl->group, sname, k, sl, sm));
        }
    return 0;
}

/* Work that fits nowhere: a request no node has, or a selector no node
 * matches. */
static int tmpl_infeasible(gen_t *g, ss_template_t *t)
{
    int w[4] = {40, 30, g->o->node_selector ? 20 : 0, g->o->gpu ? 10 : 0};
    switch (ss_gen_pick(g, w, 4)) {
    case 0:
        t->req = (ss_request_t){.cpu_milli = 500000, .memory = 64 * GIB};
        return 0;
    case 1:
        t->req = (ss_request_t){.cpu_milli = 8000, .memory = 4096 * GIB};
        return 0;
    case 2:
        draw_shape(g, MENU(svc_menu), &t->req);
        return ss_gen_rule_selector(g, t, SEL_NOWHERE);
    default:
        t->req = (ss_request_t){
            .cpu_milli = 16000, .memory = 64 * GIB, .gpu_count = 16, .gpu_milli = SS_GPU_MILLI};
        return ss_gen_rule_tolerations(g, t, TOL_GPU);
    }
}

static int tmpl_class(gen_t *g, work_t *w, workload_t *wl, ss_template_t *t)
{
    int rc = 0;
    switch (wl->cls) {
    case W_GANG:
        return tmpl_gang(g, wl, t);
    case W_GPU:
        return tmpl_gpu(g, w, wl, t);
    case W_SYS:
        draw_shape(g, MENU(sys_menu), &t->req);
        if ((rc = ss_gen_rule_tolerations(g, t, TOL_SYSTEM)) < 0)
            return rc;
        return ss_gen_rule_selector(g, t, SEL_POOL_SYSTEM);
    case W_SPOT:
        draw_shape(g, MENU(svc_menu), &t->req);
        if ((rc = ss_gen_rule_tolerations(g, t, TOL_SPOT | TOL_SPOT_PREFER)) < 0)
            return rc;
        if (ss_gen_chance(g, 0.5) && (rc = ss_gen_rule_selector(g, t, SEL_POOL_SPOT)) < 0)
            return rc;
        if (quota_take(g, &w->q[Q_PREF], wl->size) && (rc = ss_gen_rule_preferred(g, t)) < 0)
            return rc;
        wl->want_spread = quota_take(g, &w->q[Q_SPREAD], wl->size);
        return 0;
    case W_INFEAS:
        return tmpl_infeasible(g, t);
    default:
        return tmpl_service(g, w, wl, t);
    }
}

/* A "web" for a cache of priority prio: the ring slot of the most recent
 * earlier service of higher priority (queued before it), else -1. */
static int find_web(const work_t *w, int32_t prio)
{
    for (int i = 1; i <= w->nweb && i <= NWEBS; i++) {
        int k = (w->nweb - i) % NWEBS;
        if (w->web_prio[k] > prio)
            return k;
    }
    return -1;
}

/* Pod anti-affinity (below): required on a service picked by quota
 * (hostname, or the zone for workloads no larger than the zones), else
 * preferred on the hostname (weight 100) on ~30% of the other services; AI
 * inference replicas anti-affine across zones (required when they fit the
 * zones, else preferred). */
/* The inter-pod rules of a pending workload whose app label is app (rules
 * DEFAULT), and its flags (every mode). */
static int pod_rules(gen_t *g, work_t *w, const workload_t *wl, ss_template_t *t, int32_t app)
{
    const ss_gen_opts_t *o = g->o;
    ss_cluster_t *c = g->c;
    bool svc = wl->cls == W_SVC, infer = g->ai && wl->cls == W_GPU, pre = g->rules && o->preemption;
    int rc = 0;
    t->flags = SS_TF_CONTROLLER | SS_TF_EVICT_FACTS | (wl->cls == W_SYS ? SS_TF_DAEMONSET : 0u);
    if (!pre || (wl->cls == W_BATCH && ss_gen_rchance(g, 0.1))) /* non-preempting batch */
        t->flags |= SS_TF_PREEMPT_NEVER;
    t->spread_begin = c->n_spreads;
    t->pterm_begin = c->n_pterms;
    if (!g->rules)
        return 0;
    if (wl->want_spread && o->topology_spread)
        rc = ss_gen_rule_spread(g, t, app);
    if (rc == 0 && o->pod_anti_affinity) {
        if (infer) {
            bool hard = wl->size <= g->nzones && ss_gen_rchance(g, 0.5);
            rc = ss_gen_rule_pterm(g, SS_PT_ANTI_AFFINITY, hard ? 0 : 100, g->k_zone, app, -1);
        } else if (wl->want_anti) {
            bool zone = wl->size <= g->nzones && ss_gen_rchance(g, 0.5);
            rc =
                ss_gen_rule_pterm(g, SS_PT_ANTI_AFFINITY, 0, zone ? g->k_zone : g->k_host, app, -1);
        } else if (svc && ss_gen_rchance(g, 0.33)) {
            rc = ss_gen_rule_pterm(g, SS_PT_ANTI_AFFINITY, 100, g->k_host, app, -1);
        }
    }
    if (rc == 0 && o->pod_affinity && svc && !wl->want_anti &&
        quota_take_r(&g->rrng, &w->q_paff, wl->size)) {
        int k = find_web(w, wl->priority), last = (w->nweb - 1) % NWEBS;
        if (k >= 0 && ss_gen_rchance(g, 0.6))
            rc = ss_gen_rule_pterm(g, SS_PT_AFFINITY, 0, g->k_zone, w->web_app[k], w->web_ns[k]);
        else if (w->nweb > 0)
            rc = ss_gen_rule_pterm(g, SS_PT_AFFINITY, 100, g->k_host, w->web_app[last],
                                   w->web_ns[last]);
    }
    if (rc == 0 && o->pdbs && (svc || infer) && ss_gen_rchance(g, 0.3))
        rc = ss_gen_rule_pdb(g, app, wl->ns, wl->size);
    if (svc) {
        w->web_app[w->nweb % NWEBS] = app;
        w->web_prio[w->nweb % NWEBS] = wl->priority;
        w->web_ns[w->nweb % NWEBS] = wl->ns;
        w->nweb++;
    }
    t->spread_count = c->n_spreads - t->spread_begin;
    t->pterm_count = c->n_pterms - t->pterm_begin;
    return rc;
}

/* The workload's one template: requests and rules by class, then its pod
 * labels (app, team) and owner. Sets wl->tmpl (and wl->group for gangs). */
static int make_template(gen_t *g, work_t *w, workload_t *wl)
{
    ss_template_t t = {0};
    int rc;
    if ((rc = tmpl_class(g, w, wl, &t)) < 0)
        return rc;
    int32_t app;
    GEN_TRY(g, app = ss_gen_str(g, "%s-%06d", class_prefix[wl->cls], wl->id));
    if ((rc = pod_rules(g, w, wl, &t, app)) < 0)
        return rc;
    GEN_TRY(g, t.plabel_begin = ss_cluster_add_label(g->c, g->k_app, app));
    GEN_TRY(g, ss_cluster_add_label(g->c, g->k_team, wl->ns));
    t.plabel_count = 2;
    GEN_TRY(g, t.workload =
                   ss_gen_str(g, "%s/%s-%06d", class_kind[wl->cls], class_prefix[wl->cls], wl->id));
    GEN_TRY(g, wl->tmpl = ss_cluster_add_template(g->c, &t));
    return 0;
}

static int push(gen_t *g, work_t *w, const workload_t *wl)
{
    if (w->n == w->cap) {
        int64_t nc = w->cap ? w->cap * 2 : 1024;
        workload_t *p = realloc(w->w, (size_t)nc * sizeof *p);
        if (!p)
            return ss_gen_oom(g);
        w->w = p;
        w->cap = nc;
    }
    w->w[w->n++] = *wl;
    return 0;
}

/* Gang sizes: powers of two 8..1,024, smaller ones more common. */
static int32_t gang_size(gen_t *g, int64_t left)
{
    static const int w[8] = {30, 25, 18, 12, 7, 4, 2, 2};
    int32_t size = 8 << ss_gen_pick(g, w, 8);
    while (size > left && size > 8)
        size /= 2;
    return size;
}

static int gen_class(gen_t *g, work_t *w, int cls, int32_t *next_id)
{
    int rc;
    while (w->budget[cls] > 0) {
        int64_t left = w->budget[cls];
        if (cls == W_GANG && left < 8) {
            w->budget[W_BATCH] += left; /* too few for a gang: batch takes them */
            w->budget[cls] = 0;
            break;
        }
        int64_t size = cls == W_GANG ? gang_size(g, left) : draw_size(g, cls);
        if (size > left)
            size = left;
        workload_t wl = {.size = (int32_t)size, .cls = cls, .id = (*next_id)++, .group = -1};
        wl.priority = draw_priority(g, cls);
        wl.ns = g->team[ss_rng_below(&g->rng, GEN_NTEAMS)];
        if ((rc = make_template(g, w, &wl)) < 0 || (rc = push(g, w, &wl)) < 0)
            return rc;
        w->budget[cls] -= size;
    }
    return 0;
}

static int emit_pods(gen_t *g, work_t *w)
{
    for (int64_t i = w->n - 1; i > 0; i--) { /* Fisher-Yates */
        int64_t j = (int64_t)ss_rng_below(&g->rng, (uint64_t)i + 1);
        workload_t t = w->w[i];
        w->w[i] = w->w[j];
        w->w[j] = t;
    }
    int64_t emitted = 0, total = g->o->nodes + g->o->pods;
    for (int64_t k = 0; k < w->n; k++) {
        const workload_t *wl = &w->w[k];
        if ((k & 255) == 0)
            ss_progress_tick(g->o->progress, g->o->nodes + emitted, total);
        emitted += wl->size;
        for (int32_t i = 0; i < wl->size; i++) {
            int32_t name;
            GEN_TRY(g, name = ss_gen_str(g, "%s-%06d-%d", class_prefix[wl->cls], wl->id, i));
            int32_t grp =
                wl->group >= 0 && wl->sub[0] >= 0 ? wl->sub[i >= wl->size / 2] : wl->group;
            GEN_TRY(g, ss_cluster_add_pod(g->c, name, wl->ns, wl->tmpl, wl->priority, grp, -1, 0));
        }
    }
    return 0;
}

int ss_gen_pending(gen_t *g)
{
    work_t w = {0};
    int rc = 0;
    int32_t next_id = 0;
    budgets(g, &w);
    quotas(g, &w);
    for (int cls = 0; cls < NCLASS && rc == 0; cls++)
        rc = gen_class(g, &w, cls, &next_id);
    if (rc == 0)
        rc = emit_pods(g, &w);
    free(w.w);
    return rc;
}
