/* ss_gen: options and driver of the synthetic generator (see ss_gen.h).
 * The driver checks the options, interns the strings every step shares, then
 * runs the steps in a fixed order (nodes, running pods, pending workloads)
 * from one seeded ss_rng_t, so the same options give the same cluster. */
#include "ss_gen.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "ss_gen_int.h"

void ss_gen_opts_default(ss_gen_opts_t *o)
{
    *o = (ss_gen_opts_t){
        .nodes = 2000,
        .pods = 20000,
        .seed = 1,
        .used = 0.40,
        .node_selector = true,
        .node_affinity = true,
        .taints_tolerations = true,
        .gpu = true,
        .fractional_gpu = true,
        .gpu_models = true,
        .gangs = true,
        .gang_topology = true,
        .extended_resources = true,
        .cordoned = true,
        .profile = SS_GEN_PROFILE_DEFAULT,
        .rules = SS_GEN_RULES_DEFAULT,
        .topology_spread = true,
        .pod_anti_affinity = true,
        .pod_affinity = true,
        .pdbs = true,
        .preemption = true,
        .mig = SS_GEN_MIG_DEFAULT,
    };
}

const ss_gen_prio_class_t ss_gen_prio_classes[SS_GEN_NPRIO_CLASSES] = {
    {"system-cluster-critical", SS_GEN_PRIO_SYSTEM, true, false,
     "Kubernetes' built-in class: cluster components (gen's DaemonSet and system-pool pods)"},
    {"production", SS_GEN_PRIO_PRODUCTION, false, false,
     "Services and training that must run: may preempt batch and best-effort pods"},
    {"batch", SS_GEN_PRIO_BATCH, false, false, "Batch jobs: preemptible by production"},
    {"best-effort", SS_GEN_PRIO_BEST_EFFORT, false, false,
     "Opportunistic work (spot, scavengers): preemptible by everything"},
};

const ss_gen_prio_class_t *ss_gen_prio_class(int32_t value)
{
    for (int i = 0; i < SS_GEN_NPRIO_CLASSES; i++)
        if (ss_gen_prio_classes[i].value == value)
            return &ss_gen_prio_classes[i];
    return NULL;
}

int ss_gen_opts_check(const ss_gen_opts_t *o, ss_error_t *err)
{
    if (!o)
        return ss_error_set(err, SS_EINVAL, "gen: no options");
    if (o->nodes < 1 || o->nodes > SS_GEN_MAX_NODES)
        return ss_error_set(err, SS_ERANGE, "gen: nodes must be 1..%d (got %lld)", SS_GEN_MAX_NODES,
                            (long long)o->nodes);
    if (o->pods < 0 || o->pods > SS_GEN_MAX_PODS)
        return ss_error_set(err, SS_ERANGE, "gen: pods must be 0..%d (got %lld)", SS_GEN_MAX_PODS,
                            (long long)o->pods);
    if (o->profile != SS_GEN_PROFILE_DEFAULT && o->profile != SS_GEN_PROFILE_AI)
        return ss_error_set(err, SS_EINVAL, "gen: profile must be default or ai (got %d)",
                            o->profile);
    if (o->rules != SS_GEN_RULES_NONE && o->rules != SS_GEN_RULES_DEFAULT)
        return ss_error_set(err, SS_EINVAL, "gen: rules must be none or default (got %d)",
                            o->rules);
    if (o->mig != SS_GEN_MIG_NONE && o->mig != SS_GEN_MIG_DEFAULT)
        return ss_error_set(err, SS_EINVAL, "gen: mig must be none or default (got %d)", o->mig);
    if (!(o->used >= 0.0 && o->used <= 0.9))
        return ss_error_set(err, SS_ERANGE, "gen: used capacity share must be 0..0.9 (got %g)",
                            o->used);
    return 0;
}

int ss_gen_oom(gen_t *g)
{
    return ss_error_set(g->err, SS_ENOMEM, "gen: out of memory (%d nodes, %d pods built so far)",
                        g->c->n_nodes, g->c->n_pods);
}

int32_t ss_gen_str(gen_t *g, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf)
        return -1;
    return ss_strtab_intern_n(g->c->strings, buf, (size_t)n);
}

static int pick(ss_rng_t *r, const int *w, int n)
{
    int64_t total = 0;
    for (int i = 0; i < n; i++)
        total += w[i];
    int64_t x = (int64_t)ss_rng_below(r, (uint64_t)total);
    for (int i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}

int ss_gen_pick(gen_t *g, const int *w, int n)
{
    return pick(&g->rng, w, n);
}

int ss_gen_chance(gen_t *g, double p)
{
    return ss_rng_uniform(&g->rng) < p;
}

int ss_gen_rpick(gen_t *g, const int *w, int n)
{
    return pick(&g->rrng, w, n);
}

int ss_gen_rchance(gen_t *g, double p)
{
    return ss_rng_uniform(&g->rrng) < p;
}

int64_t ss_gen_start_time(gen_t *g)
{
    const int64_t epoch = INT64_C(1767225600); /* 2026-01-01T00:00:00Z */
    double age = exp(log(60.0) + ss_rng_uniform(&g->trng) * (log(90.0 * 86400) - log(60.0)));
    return epoch - (int64_t)age;
}

/* One zone per 2,000 nodes, at least GEN_MIN_ZONES (so that zone spreading
 * shows even in the 2,000-node default cluster) and at most GEN_MAX_ZONES;
 * never more zones than nodes. Clusters of 6,000 nodes and more keep the
 * count they always had. */
int ss_gen_zone_count(int64_t nodes)
{
    int64_t nz = nodes / 2000;
    nz = nz < GEN_MIN_ZONES ? GEN_MIN_ZONES : nz > GEN_MAX_ZONES ? GEN_MAX_ZONES : nz;
    return (int)(nz > nodes ? nodes : nz);
}

/* Nodes per pool: 15% GPU, 10% spot, 12% high-memory, 5% system, the rest
 * general (which also takes the GPU share when GPUs are off); the AI
 * profile: 60% GPU, 5% spot, 5% high-memory, 5% system. */
static void pool_sizes(gen_t *g)
{
    static const double shares[2][NPOOLS] = {{0.15, 0.0, 0.12, 0.10, 0.05},
                                             {0.60, 0.0, 0.05, 0.05, 0.05}};
    const double *share = shares[g->ai];
    int64_t n = g->o->nodes, rest = n;
    for (int p = 0; p < NPOOLS; p++) {
        g->pool_nodes[p] = 0;
        if (p == POOL_GENERAL || (p == POOL_GPU && !g->o->gpu))
            continue;
        g->pool_nodes[p] = (int32_t)llround((double)n * share[p]);
        rest -= g->pool_nodes[p];
    }
    g->pool_nodes[POOL_GENERAL] = (int32_t)rest;
    if (rest < 1) { /* tiny clusters: everything general */
        for (int p = 0; p < NPOOLS; p++)
            g->pool_nodes[p] = 0;
        g->pool_nodes[POOL_GENERAL] = (int32_t)n;
    }
}

static int intern_common(gen_t *g)
{
    static const char *pools[NPOOLS] = {"gpu", "general", "high-memory", "spot", "system"};
    static const char *models[GEN_NMODELS] = {"H100-80GB", "A100-80GB", "V100M32"};
    int32_t *ids[] = {&g->region, &g->k_region,  &g->k_zone,    &g->k_itype,     &g->k_pool,
                      &g->k_disk, &g->k_cpugen,  &g->k_gpuprod, &g->k_app,       &g->k_team,
                      &g->v_ssd,  &g->v_hdd,     &g->v_true,    &g->k_sys_taint, &g->v_system,
                      &g->k_spot, &g->k_reclaim, &g->v_soon,    &g->k_gpu_taint, &g->v_present};
    static const char *text[] = {"region-01",
                                 "topology.kubernetes.io/region",
                                 "topology.kubernetes.io/zone",
                                 "node.kubernetes.io/instance-type",
                                 "pool",
                                 "disktype",
                                 "cpu-generation",
                                 "nvidia.com/gpu.product",
                                 "app",
                                 "team",
                                 "ssd",
                                 "hdd",
                                 "true",
                                 "dedicated",
                                 "system",
                                 "spot",
                                 "spot.example.com/reclaim",
                                 "soon",
                                 "nvidia.com/gpu",
                                 "present"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        GEN_TRY(g, *ids[i] = ss_cluster_str(g->c, text[i]));
    for (int p = 0; p < NPOOLS; p++)
        GEN_TRY(g, g->pool_name[p] = ss_cluster_str(g->c, pools[p]));
    for (int m = 0; m < GEN_NMODELS; m++)
        GEN_TRY(g, g->model[m] = ss_cluster_str(g->c, models[m]));
    for (int z = 0; z < g->nzones; z++)
        GEN_TRY(g, g->zone[z] = ss_gen_str(g, "zone-%02d", z));
    for (int t = 0; t < GEN_NTEAMS; t++)
        GEN_TRY(g, g->team[t] = ss_gen_str(g, "team-%02d", t));
    g->fpga = -1;
    if (g->o->extended_resources)
        GEN_TRY(g, g->fpga = ss_cluster_add_ext(g->c, "example.com/fpga"));
    return 0;
}

int ss_gen(const ss_gen_opts_t *o, ss_cluster_t **out, ss_error_t *err)
{
    int rc;
    *out = NULL;
    if ((rc = ss_gen_opts_check(o, err)) < 0)
        return rc;
    gen_t g = {.o = o, .err = err};
    g.c = ss_cluster_create();
    if (!g.c)
        return ss_error_set(err, SS_ENOMEM, "gen: out of memory");
    ss_rng_seed(&g.rng, o->seed);
    /* independent streams: the rules never shift the workload's draws */
    ss_rng_seed(&g.rrng, o->seed ^ UINT64_C(0x72756c6573000001));
    ss_rng_seed(&g.trng, o->seed ^ UINT64_C(0x7374617274000002));
    ss_rng_seed(&g.mrng, o->seed ^ UINT64_C(0x6d69670000000003));
    g.rules = o->rules == SS_GEN_RULES_DEFAULT;
    g.ai = o->profile == SS_GEN_PROFILE_AI;
    g.mig = g.ai && o->gpu && o->mig == SS_GEN_MIG_DEFAULT;
    g.c->default_spreading = g.rules ? SS_SPREAD_DEFAULT_SYSTEM : SS_SPREAD_DEFAULT_NONE;
    g.c->locality = g.rules && g.ai ? SS_LOCALITY_ZONE : SS_LOCALITY_OFF;
    g.nzones = ss_gen_zone_count(o->nodes);
    pool_sizes(&g);
    /* the hostname key is interned after the nodes, so that node, rack and
     * block string ids (the GPU racks' idle draw hashes them) are those of
     * the mix before issue 12 */
    if ((rc = intern_common(&g)) < 0 || (rc = ss_gen_nodes(&g)) < 0)
        goto fail;
    if ((g.k_host = ss_cluster_str(g.c, "kubernetes.io/hostname")) < 0) {
        rc = ss_gen_oom(&g);
        goto fail;
    }
    /* MIG after the other running pods and before the pending ones, from its
     * own stream; then a share of the pending GPU inference templates */
    int32_t first_pending_tmpl = 0;
    if ((rc = ss_gen_running(&g)) < 0 || (g.mig && (rc = ss_gen_mig_nodes(&g)) < 0))
        goto fail;
    first_pending_tmpl = g.c->n_templates;
    if ((rc = ss_gen_pending(&g)) < 0 ||
        (g.mig && (rc = ss_gen_mig_pending(&g, first_pending_tmpl)) < 0))
        goto fail;
    /* the level keys last, so that every other string id is as before */
    if ((rc = ss_cluster_set_legacy_levels(g.c, NULL, NULL, err)) < 0)
        goto fail;
    if ((rc = ss_cluster_validate(g.c, err)) < 0) {
        ss_error_prefix(err, rc, "gen: generated cluster is invalid (a bug)");
        goto fail;
    }
    *out = g.c;
    return 0;
fail:
    ss_cluster_destroy(g.c);
    return rc;
}
