/* ss_gen_running: the pods already running when the snapshot is taken.
 *
 * Each node is filled once, in node order, to a drawn target share of its
 * capacity (uniform in [0.35, 1.85] x opts->used: a little over opts->used
 * on average, as the last pod rarely fits exactly) from a small per-pool
 * menu of shapes; a shape that would pass the target of cpu, memory or GPUs
 * is skipped, and the node is done after a few skips. Fits are checked against the node's real
 * capacity too, per GPU for fractional pods, so running usage is never over allocatable. Running
 * pods' templates are made on first use: one per (pool, shape), tolerating
 * the pool's taints and selecting the pool, like the workloads that put them
 * there.
 *
 * Every running pod gets a start time (g->trng). With rules DEFAULT,
 * running pods' priorities are drawn per pod from the classes a pool runs
 * (system pods system-cluster-critical; general, high-memory and GPU pods
 * production, batch or best-effort; spot pods mostly best-effort), so that
 * production pods that fit nowhere can preempt batch ones, and ~30% of the
 * general, high-memory and GPU templates get a PDB; with rules NONE every
 * running pod is batch (1000), as before issue 12.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_gen_int.h"

#define NCPU_SHAPES 8
#define NGPU_SHAPES 6
#define MAX_MISSES 6

typedef struct {
    int64_t cpu, mem; /* mem per general node ratio; high-memory doubles it */
} cpu_shape_t;

static const cpu_shape_t cpu_shapes[NCPU_SHAPES] = {
    {250, 1 * GIB},  {500, 2 * GIB},   {1000, 4 * GIB},  {1000, 2 * GIB},
    {2000, 8 * GIB}, {2000, 12 * GIB}, {4000, 16 * GIB}, {8000, 32 * GIB},
};
static const int cpu_shape_w[NCPU_SHAPES] = {20, 20, 20, 10, 12, 8, 6, 4};

/* GPU shapes: gpus x milli; cpu and memory per shape. */
static const struct {
    int32_t count, milli;
    int64_t cpu, mem;
} gpu_shapes[NGPU_SHAPES] = {
    {1, 1000, 12000, 120 * GIB}, {2, 1000, 24000, 240 * GIB}, {4, 1000, 48000, 480 * GIB},
    {8, 1000, 96000, 960 * GIB}, {1, 500, 6000, 60 * GIB},    {1, 250, 3000, 30 * GIB},
};
static const int gpu_shape_w[NGPU_SHAPES] = {30, 20, 12, 6, 12, 10};

typedef struct {
    int32_t tmpl[NPOOLS][NCPU_SHAPES]; /* template index, or -1 until first use */
    int32_t seq[NPOOLS][NCPU_SHAPES];  /* next pod number of that template */
    char base[NPOOLS][NCPU_SHAPES][32];
    int32_t ns[NPOOLS][NCPU_SHAPES];
} run_t;

/* The pool of node n, from its "pool" label (labels are made in a fixed
 * order: region, zone, instance-type, pool, ...). */
static int node_pool(const gen_t *g, int32_t n)
{
    int32_t v = g->c->labels[g->c->node_label_begin[n] + 3].value;
    for (int p = 0; p < NPOOLS; p++)
        if (g->pool_name[p] == v)
            return p;
    return POOL_GENERAL;
}

static int32_t make_template(gen_t *g, run_t *r, int pool, int s)
{
    ss_template_t t = {0};
    if (pool == POOL_GPU) {
        t.req.cpu_milli = gpu_shapes[s].cpu;
        t.req.memory = gpu_shapes[s].mem;
        t.req.gpu_count = gpu_shapes[s].count;
        t.req.gpu_milli = gpu_shapes[s].milli;
    } else {
        t.req.cpu_milli = cpu_shapes[s].cpu;
        t.req.memory = cpu_shapes[s].mem * (pool == POOL_HIGHMEM ? 2 : 1);
    }
    unsigned tol = pool == POOL_GPU      ? TOL_GPU
                   : pool == POOL_SPOT   ? TOL_SPOT | TOL_SPOT_PREFER
                   : pool == POOL_SYSTEM ? TOL_SYSTEM
                                         : 0;
    int rc;
    if ((rc = ss_gen_rule_tolerations(g, &t, tol)) < 0 ||
        (rc = ss_gen_rule_selector(g, &t, SEL_POOL_GPU + pool)) < 0)
        return rc;
    snprintf(r->base[pool][s], sizeof r->base[pool][s], "run-%s-%d",
             ss_cluster_strget(g->c, g->pool_name[pool]), s);
    r->ns[pool][s] = g->team[ss_rng_below(&g->rng, GEN_NTEAMS)];
    int32_t app;
    GEN_TRY(g, app = ss_cluster_str(g->c, r->base[pool][s]));
    GEN_TRY(g, t.plabel_begin = ss_cluster_add_label(g->c, g->k_app, app));
    GEN_TRY(g, ss_cluster_add_label(g->c, g->k_team, r->ns[pool][s]));
    t.plabel_count = 2;
    GEN_TRY(g, t.workload = ss_gen_str(g, "deploy/%s", r->base[pool][s]));
    t.flags = SS_TF_CONTROLLER | SS_TF_EVICT_FACTS;
    t.spread_begin = g->c->n_spreads;
    t.pterm_begin = g->c->n_pterms;
    bool pdb_pool = pool == POOL_GENERAL || pool == POOL_HIGHMEM || pool == POOL_GPU;
    if (g->rules && g->o->pdbs && pdb_pool && ss_gen_rchance(g, 0.3) &&
        (rc = ss_gen_rule_pdb(g, app, r->ns[pool][s], 0)) < 0)
        return rc;
    GEN_TRY(g, r->tmpl[pool][s] = ss_cluster_add_template(g->c, &t));
    return 0;
}

/* A running pod's priority: batch with rules NONE (or preemption off),
 * else drawn from its pool's classes. */
static int32_t running_priority(gen_t *g, int pool)
{
    static const int32_t prio[3] = {SS_GEN_PRIO_PRODUCTION, SS_GEN_PRIO_BATCH,
                                    SS_GEN_PRIO_BEST_EFFORT};
    static const int w[NPOOLS][3] = {[POOL_GPU] = {30, 70, 0},
                                     [POOL_GENERAL] = {30, 50, 20},
                                     [POOL_HIGHMEM] = {30, 50, 20},
                                     [POOL_SPOT] = {0, 30, 70},
                                     [POOL_SYSTEM] = {1, 0, 0}};
    if (!g->rules || !g->o->preemption)
        return SS_GEN_PRIO_BATCH;
    if (pool == POOL_SYSTEM)
        return SS_GEN_PRIO_SYSTEM;
    return prio[ss_gen_rpick(g, w[pool], 3)];
}

static int add_running(gen_t *g, run_t *r, int pool, int s, int32_t node, uint64_t mask)
{
    int rc;
    if (r->tmpl[pool][s] < 0 && (rc = make_template(g, r, pool, s)) < 0)
        return rc;
    int32_t name, pod;
    GEN_TRY(g, name = ss_gen_str(g, "%s-%d", r->base[pool][s], r->seq[pool][s]++));
    GEN_TRY(g, pod = ss_cluster_add_pod(g->c, name, r->ns[pool][s], r->tmpl[pool][s],
                                        running_priority(g, pool), -1, node, mask));
    ss_cluster_set_pod_start(g->c, pod, ss_gen_start_time(g));
    return 0;
}

static double draw_target(gen_t *g)
{
    return g->o->used * (0.35 + 1.5 * ss_rng_uniform(&g->rng));
}

static int fill_cpu_node(gen_t *g, run_t *r, int32_t n, int pool)
{
    const ss_cluster_t *c = g->c;
    double t = draw_target(g);
    int64_t tcpu = (int64_t)(t * (double)c->node_cpu[n]);
    int64_t tmem = (int64_t)(t * (double)c->node_mem[n]);
    int64_t cpu = 0, mem = 0;
    int32_t pods = 0;
    for (int miss = 0; miss < MAX_MISSES && pods < c->node_pods[n];) {
        int s = ss_gen_pick(g, cpu_shape_w, NCPU_SHAPES);
        int64_t pc = cpu_shapes[s].cpu;
        int64_t pm = cpu_shapes[s].mem * (pool == POOL_HIGHMEM ? 2 : 1);
        if (cpu + pc > tcpu || mem + pm > tmem) {
            miss++;
            continue;
        }
        int rc = add_running(g, r, pool, s, n, 0);
        if (rc < 0)
            return rc;
        cpu += pc;
        mem += pm;
        pods++;
    }
    return 0;
}

/* GPUs for shape s on a node whose per-GPU use is used[0..ng-1]: whole GPUs
 * take the lowest free ones; a fraction prefers a GPU already shared. Returns
 * the mask, or 0 if it does not fit. */
static uint64_t fit_gpus(const int32_t *used, int ng, int s)
{
    uint64_t mask = 0;
    if (gpu_shapes[s].milli == SS_GPU_MILLI) {
        int got = 0;
        for (int i = 0; i < ng && got < gpu_shapes[s].count; i++)
            if (used[i] == 0) {
                mask |= UINT64_C(1) << i;
                got++;
            }
        return got == gpu_shapes[s].count ? mask : 0;
    }
    int free_gpu = -1;
    for (int i = 0; i < ng; i++) {
        if (used[i] > 0 && used[i] + gpu_shapes[s].milli <= SS_GPU_MILLI)
            return UINT64_C(1) << i;
        if (used[i] == 0 && free_gpu < 0)
            free_gpu = i;
    }
    return free_gpu >= 0 ? UINT64_C(1) << free_gpu : 0;
}

static int fill_gpu_node(gen_t *g, run_t *r, int32_t n)
{
    const ss_cluster_t *c = g->c;
    int ng = c->node_gpu_count[n];
    int32_t used[SS_MAX_GPUS_PER_NODE] = {0};
    /* GPU clusters pack their work: about a quarter of the racks (NVLink
     * domains) sit idle, room for training gangs; the others carry a third
     * more. The draw is per rack, from the seed and the rack's name. */
    ss_rng_t rack_rng;
    ss_rng_seed(&rack_rng, g->o->seed * 0x9e3779b97f4a7c15ull +
                               (uint64_t)c->node_topo[(size_t)n * SS_TOPO_STRIDE + SS_TOPO_RACK]);
    if (ss_rng_uniform(&rack_rng) < 0.25)
        return 0;
    int64_t tgpu = (int64_t)(draw_target(g) / 0.75 * ng * SS_GPU_MILLI);
    int64_t gpu = 0, cpu = 0, mem = 0;
    int32_t pods = 0;
    int nshapes = g->o->fractional_gpu ? NGPU_SHAPES : NGPU_SHAPES - 2;
    for (int miss = 0; miss < MAX_MISSES && pods < c->node_pods[n];) {
        int s = ss_gen_pick(g, gpu_shape_w, nshapes);
        int64_t need = (int64_t)gpu_shapes[s].count * gpu_shapes[s].milli;
        uint64_t mask = gpu + need <= tgpu ? fit_gpus(used, ng, s) : 0;
        if (!mask || cpu + gpu_shapes[s].cpu > c->node_cpu[n] ||
            mem + gpu_shapes[s].mem > c->node_mem[n]) {
            miss++;
            continue;
        }
        int rc = add_running(g, r, POOL_GPU, s, n, mask);
        if (rc < 0)
            return rc;
        for (int i = 0; i < ng; i++)
            if (mask >> i & 1)
                used[i] += gpu_shapes[s].milli;
        gpu += need;
        cpu += gpu_shapes[s].cpu;
        mem += gpu_shapes[s].mem;
        pods++;
    }
    return 0;
}

int ss_gen_running(gen_t *g)
{
    run_t *r = calloc(1, sizeof *r);
    if (!r)
        return ss_gen_oom(g);
    memset(r->tmpl, 0xff, sizeof r->tmpl);
    int rc = 0;
    for (int32_t n = 0; n < g->c->n_nodes && rc == 0; n++) {
        if ((n & 255) == 0)
            ss_progress_tick(g->o->progress, n, g->o->nodes + g->o->pods);
        int pool = node_pool(g, n);
        rc = pool == POOL_GPU ? fill_gpu_node(g, r, n) : fill_cpu_node(g, r, n, pool);
    }
    free(r);
    return rc;
}
