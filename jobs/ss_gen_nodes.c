/* ss_gen_nodes: the generator's nodes and the pods already running on them.
 *
 * Nodes are emitted zone by zone and, inside a zone, pool by pool in the
 * order their block names sort (see enum gen_pool), racks numbered with
 * zero-padded counters, so the node table comes out sorted by topology with
 * no sort pass. GPU nodes sit in racks of 18 (an NVLink domain) and blocks of
 * 32 racks (an InfiniBand block), one GPU model per rack.
 *
 * Running pods then fill each node once to a drawn target (mean: opts->used
 * of its cpu, memory and GPUs), from small per-pool menus of shapes, so that
 * no node's cpu, memory, pods, or any GPU's milli capacity is ever exceeded.
 */
#include <stdio.h>

#include "ss_gen_int.h"

typedef struct {
    int64_t cpu, mem;
    int32_t pods;
    const char *itype[3]; /* by cpu generation 3, 4, 5 */
} pool_spec_t;

static const pool_spec_t pool_spec[NPOOLS] = {
    [POOL_GPU] = {96000, 1024 * GIB, 110, {"p3dn.24xlarge", "p4de.24xlarge", "p5.48xlarge"}},
    [POOL_GENERAL] = {32000, 128 * GIB, 110, {"m5.8xlarge", "m6i.8xlarge", "m7i.8xlarge"}},
    [POOL_HIGHMEM] = {64000, 512 * GIB, 110, {"r5.16xlarge", "r6i.16xlarge", "r7i.16xlarge"}},
    [POOL_SPOT] = {32000, 128 * GIB, 110, {"m5.8xlarge", "m6i.8xlarge", "m7i.8xlarge"}},
    [POOL_SYSTEM] = {16000, 64 * GIB, 110, {"m5.4xlarge", "m6i.4xlarge", "m7i.4xlarge"}},
};

/* Where a node goes and what its rack shares. */
typedef struct {
    int pool, zone;
    int32_t block, rack; /* string ids */
    int gen;             /* cpu generation index 0..2 (= 3..5) */
    int model;           /* GPU model index, GPU pool only */
} slot_t;

static int node_labels(gen_t *g, const slot_t *s, int32_t *begin, int32_t *count)
{
    ss_cluster_t *c = g->c;
    int32_t first, id;
    const char *itype = s->pool == POOL_GPU ? pool_spec[POOL_GPU].itype[2 - s->model]
                                            : pool_spec[s->pool].itype[s->gen];
    GEN_TRY(g, first = ss_cluster_add_label(c, g->k_region, g->region));
    GEN_TRY(g, ss_cluster_add_label(c, g->k_zone, g->zone[s->zone]));
    GEN_TRY(g, id = ss_cluster_str(c, itype));
    GEN_TRY(g, ss_cluster_add_label(c, g->k_itype, id));
    GEN_TRY(g, ss_cluster_add_label(c, g->k_pool, g->pool_name[s->pool]));
    GEN_TRY(g, id = ss_gen_str(g, "%d", s->gen + 3));
    GEN_TRY(g, ss_cluster_add_label(c, g->k_cpugen, id));
    double u = ss_rng_uniform(&g->rng); /* disktype: 60% ssd, 30% hdd, 10% none */
    if (s->pool == POOL_GPU || u < 0.6)
        GEN_TRY(g, ss_cluster_add_label(c, g->k_disk, g->v_ssd));
    else if (u < 0.9)
        GEN_TRY(g, ss_cluster_add_label(c, g->k_disk, g->v_hdd));
    if (s->pool == POOL_GPU)
        GEN_TRY(g, ss_cluster_add_label(c, g->k_gpuprod, g->model[s->model]));
    *begin = first;
    *count = c->n_labels - first;
    return 0;
}

static int node_taints(gen_t *g, int pool, int32_t *begin, int32_t *count)
{
    ss_cluster_t *c = g->c;
    *begin = c->n_taints;
    *count = 0;
    if (!g->o->taints_tolerations)
        return 0;
    if (pool == POOL_SYSTEM)
        GEN_TRY(g, ss_cluster_add_taint(c, g->k_sys_taint, g->v_system, SS_EFFECT_NO_SCHEDULE));
    if (pool == POOL_SPOT) {
        GEN_TRY(g, ss_cluster_add_taint(c, g->k_spot, g->v_true, SS_EFFECT_NO_SCHEDULE));
        if (ss_gen_chance(g, 0.3))
            GEN_TRY(g,
                    ss_cluster_add_taint(c, g->k_reclaim, g->v_soon, SS_EFFECT_PREFER_NO_SCHEDULE));
    }
    if (pool == POOL_GPU)
        GEN_TRY(g, ss_cluster_add_taint(c, g->k_gpu_taint, g->v_present, SS_EFFECT_NO_SCHEDULE));
    *count = c->n_taints - *begin;
    return 0;
}

static int add_node(gen_t *g, const slot_t *s, int32_t seq)
{
    ss_cluster_t *c = g->c;
    const pool_spec_t *ps = &pool_spec[s->pool];
    int32_t name, lb = 0, lc = 0, tb = 0, tc = 0, gb = c->n_gpus, gc = 0;
    int64_t ext[SS_MAX_EXT] = {0};
    GEN_TRY(g, name = ss_gen_str(g, "%s-z%02d-%07d", ss_cluster_strget(c, g->pool_name[s->pool]),
                                 s->zone, seq));
    int rc;
    if ((rc = node_labels(g, s, &lb, &lc)) < 0 || (rc = node_taints(g, s->pool, &tb, &tc)) < 0)
        return rc;
    int64_t mem = ps->mem;
    if (s->pool == POOL_GPU) {
        for (gc = 0; gc < GEN_GPUS_PER_NODE; gc++)
            GEN_TRY(g, ss_cluster_add_gpu(c, g->model[s->model], SS_GPU_MILLI));
        if (s->model == 2)
            mem = 768 * GIB; /* the V100 generation */
    }
    if (g->fpga >= 0 && s->pool == POOL_GENERAL && ss_gen_chance(g, 0.03)) {
        ext[g->fpga] = 4;
        g->fpga_nodes++;
    }
    bool cordon = g->o->cordoned && ss_gen_chance(g, 0.03);
    int32_t topo[4] = {g->region, g->zone[s->zone], s->block, s->rack};
    GEN_TRY(g, ss_cluster_add_node(c, name, topo, ps->cpu, mem, ps->pods, ext, cordon, lb, lc, tb,
                                   tc, gb, gc));
    return 0;
}

/* One zone's GPU nodes: racks of 18, blocks of 32 racks, a model per rack
 * (an NVLink domain is one kind of GPU; a block may mix them, which keeps
 * every model present even in a one-block cluster). */
static int gpu_zone(gen_t *g, int zone, int32_t count, int32_t *rack_ctr, int32_t *block_ctr,
                    int32_t *seq)
{
    static const int model_w[GEN_NMODELS] = {45, 40, 15};
    slot_t s = {.pool = POOL_GPU, .zone = zone};
    for (int32_t i = 0; i < count; i++) {
        int rc;
        if (i % (GEN_RACK_GPU * GEN_BLOCK_RACKS) == 0)
            GEN_TRY(g, s.block = ss_gen_str(g, "block-%04d", (*block_ctr)++));
        if (i % GEN_RACK_GPU == 0) {
            GEN_TRY(g, s.rack = ss_gen_str(g, "rack-%05d", (*rack_ctr)++));
            s.model = ss_gen_pick(g, model_w, GEN_NMODELS);
            s.gen = 2 - s.model;
        }
        if ((rc = add_node(g, &s, (*seq)++)) < 0)
            return rc;
    }
    return 0;
}

/* One zone's nodes of a CPU pool: block "<pool>-zNN", racks of 40 with one
 * instance generation each. */
static int cpu_zone(gen_t *g, int pool, int zone, int32_t count, int32_t *seq)
{
    static const int gen_w[3] = {25, 45, 30};
    slot_t s = {.pool = pool, .zone = zone};
    const char *pname = ss_cluster_strget(g->c, g->pool_name[pool]);
    char pbuf[32];
    snprintf(pbuf, sizeof pbuf, "%s", pname); /* the table may move while interning */
    GEN_TRY(g, s.block = ss_gen_str(g, "%s-z%02d", pbuf, zone));
    for (int32_t i = 0; i < count; i++) {
        int rc;
        if (i % GEN_RACK_CPU == 0) {
            GEN_TRY(g, s.rack = ss_gen_str(g, "%s-z%02d-rack-%05d", pbuf, zone, i / GEN_RACK_CPU));
            s.gen = ss_gen_pick(g, gen_w, 3);
        }
        if ((rc = add_node(g, &s, (*seq)++)) < 0)
            return rc;
    }
    return 0;
}

int ss_gen_nodes(gen_t *g)
{
    int32_t rack_ctr = 0, block_ctr = 0, seq[NPOOLS] = {0};
    for (int z = 0; z < g->nzones; z++) {
        for (int p = 0; p < NPOOLS; p++) {
            int64_t n = g->pool_nodes[p];
            int32_t cnt = (int32_t)(n * (z + 1) / g->nzones - n * z / g->nzones);
            int rc = p == POOL_GPU ? gpu_zone(g, z, cnt, &rack_ctr, &block_ctr, &seq[p])
                                   : cpu_zone(g, p, z, cnt, &seq[p]);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}
