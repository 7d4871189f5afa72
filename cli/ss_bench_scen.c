/* ss_bench_scen: the scenarios of `shardsched bench` and their in-memory
 * clusters (see ss_bench.h): gen's default mix at the scenario's size, or
 * openb-x100, the OpenB trace's GPU nodes replicated into zones and blocks
 * with pending pods sampled (seeded) from the trace's pods. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ss_bench.h"
#include "ss_gen.h"
#include "ss_rng.h"
#include "ss_trace.h"

static const ss_bench_scen_t scen[] = {
    {"borg-cell",
     NULL,
     1,
     {10000},
     {100000},
     0,
     1,
     "10,000 nodes, 100,000 pending pods (a Borg cell), --exhaustive beside it"},
    {"hyperscale", NULL, 1, {100000}, {1000000}, 0, 0, "100,000 nodes, 1,000,000 pending pods"},
    {"growth",
     NULL,
     3,
     {1000, 10000, 100000},
     {10000, 100000, 1000000},
     0,
     0,
     "1,000 / 10,000 / 100,000 nodes at 10 pending pods per node (one line each)"},
    {"openb-x100",
     NULL,
     1,
     {100},
     {10},
     1,
     0,
     "the OpenB trace's 1,213 GPU nodes x 100 in zones and blocks, 10 pods per node"},
    {"default", NULL, 1, {2000}, {20000}, 0, 0, "2,000 nodes, 20,000 pending pods (gen's default)"},
    {"small", NULL, 1, {1000}, {10000}, 0, 0, "1,000 nodes, 10,000 pending pods"},
    {"medium", "borg-cell", 0, {0}, {0}, 0, 0, NULL},
    {"large", "hyperscale", 0, {0}, {0}, 0, 0, NULL},
};
#define NSCEN ((int)(sizeof scen / sizeof scen[0]))

const char *const ss_bench_names[] = {"borg-cell", "hyperscale", "growth", "openb-x100", "default",
                                      "small",     "medium",     "large",  NULL};

const ss_bench_scen_t *ss_bench_scenario(int i)
{
    if (i < 0 || i >= NSCEN)
        return NULL;
    if (!scen[i].alias_of)
        return &scen[i];
    for (int j = 0; j < NSCEN; j++)
        if (!scen[j].alias_of && !strcmp(scen[j].name, scen[i].alias_of))
            return &scen[j];
    return NULL;
}

void ss_bench_print_scenarios(FILE *f)
{
    for (int i = 0; i < NSCEN; i++)
        if (scen[i].alias_of)
            fprintf(f, "                         %-11s = %s\n", scen[i].name, scen[i].alias_of);
        else
            fprintf(f, "                         %-11s %s\n", scen[i].name, scen[i].what);
}

static int64_t scaled(int64_t n, double f)
{
    int64_t v = llround((double)n * f);
    return v < 1 ? 1 : v;
}

/* ---- openb-x100 ---- */

#define OPENB_NODES "openb_node_list_gpu_node.csv"
#define OPENB_PODS "openb_pod_list_default.csv"
#define OPENB_BLOCKS_PER_ZONE 10 /* one replica of the trace = one block */
#define OPENB_RACK 18            /* nodes per rack, as gen's NVLink domains */

/* src's string id s interned in c. */
static int32_t restr(ss_cluster_t *c, const ss_cluster_t *src, int32_t s)
{
    return ss_cluster_str(c, ss_cluster_strget(src, s));
}

/* src's templates into c, with their GPU model lists (the only list the
 * OpenB loader fills). */
static int copy_templates(ss_cluster_t *c, const ss_cluster_t *src, ss_error_t *err)
{
    for (int32_t i = 0; i < src->n_templates; i++) {
        ss_template_t t = src->templates[i];
        if (t.sel_count || t.req_count || t.pref_count || t.tol_count || t.plabel_count)
            return ss_error_set(err, SS_EINVAL, "openb-x100: template %d has rules it cannot copy",
                                i);
        t.model_begin = c->n_models;
        for (int32_t m = 0; m < t.model_count; m++)
            if (ss_cluster_add_model(c, restr(c, src, src->models[t.model_begin + m])) < 0)
                return SS_ENOMEM;
        t.workload = restr(c, src, t.workload);
        if (t.workload < 0 || ss_cluster_add_template(c, &t) < 0)
            return SS_ENOMEM;
    }
    return 0;
}

/* Node i of src as node i of block r (zone r / OPENB_BLOCKS_PER_ZONE). */
static int copy_node(ss_cluster_t *c, const ss_cluster_t *src, int32_t r, int32_t i)
{
    char buf[160];
    int32_t topo[4];
    topo[0] = ss_cluster_str(c, "region-01");
    snprintf(buf, sizeof buf, "zone-%02d", r / OPENB_BLOCKS_PER_ZONE);
    topo[1] = ss_cluster_str(c, buf);
    snprintf(buf, sizeof buf, "block-%03d", r);
    topo[2] = ss_cluster_str(c, buf);
    snprintf(buf, sizeof buf, "block-%03d-rack-%03d", r, i / OPENB_RACK);
    topo[3] = ss_cluster_str(c, buf);
    snprintf(buf, sizeof buf, "b%03d-%s", r, ss_cluster_strget(src, src->node_name[i]));
    int32_t name = ss_cluster_str(c, buf), g0 = c->n_gpus;
    for (int32_t g = 0; g < src->node_gpu_count[i]; g++) {
        int32_t sg = src->node_gpu_begin[i] + g;
        if (ss_cluster_add_gpu(c, restr(c, src, src->gpu_model[sg]), src->gpu_milli[sg]) < 0)
            return SS_ENOMEM;
    }
    if (name < 0 || topo[0] < 0 || topo[1] < 0 || topo[2] < 0 || topo[3] < 0 ||
        ss_cluster_add_node(c, name, topo, src->node_cpu[i], src->node_mem[i], src->node_pods[i],
                            NULL, false, 0, 0, 0, 0, g0, src->node_gpu_count[i]) < 0)
        return SS_ENOMEM;
    return 0;
}

/* c from src: replicas blocks of src's nodes, ppn pending pods per node
 * drawn uniformly (with replacement) from src's pods. */
static int replicate(ss_cluster_t *c, const ss_cluster_t *src, int64_t replicas, int64_t ppn,
                     uint64_t seed, ss_error_t *err)
{
    int rc = copy_templates(c, src, err);
    for (int32_t r = 0; r < replicas && !rc; r++)
        for (int32_t i = 0; i < src->n_nodes && !rc; i++)
            rc = copy_node(c, src, r, i);
    int64_t n = (int64_t)c->n_nodes * ppn;
    if (!rc && (n > SS_GEN_MAX_PODS || src->n_pods == 0))
        return ss_error_set(err, SS_ERANGE, "openb-x100: %lld pods (trace has %d)", (long long)n,
                            src->n_pods);
    ss_rng_t g;
    ss_rng_seed(&g, seed);
    int32_t ns = ss_cluster_str(c, "openb");
    for (int64_t p = 0; p < n && !rc; p++) {
        char buf[32];
        int32_t k = (int32_t)ss_rng_below(&g, (uint64_t)src->n_pods);
        snprintf(buf, sizeof buf, "p%07lld", (long long)p);
        if (ns < 0 || ss_cluster_add_pod(c, ss_cluster_str(c, buf), ns, src->pod_template[k],
                                         src->pod_priority[k], -1, -1, 0) < 0)
            rc = SS_ENOMEM;
    }
    if (rc == SS_ENOMEM)
        ss_error_set(err, rc, "openb-x100: out of memory");
    if (!rc)
        rc = ss_cluster_sort_nodes(c, err);
    return rc ? rc : ss_cluster_validate(c, err);
}

static int build_openb(const ss_bench_scen_t *s, const ss_bench_build_t *b, ss_cluster_t **out,
                       ss_error_t *err)
{
    char nodes[4096], pods[4096];
    snprintf(nodes, sizeof nodes, "%s/%s", b->openb_dir, OPENB_NODES);
    snprintf(pods, sizeof pods, "%s/%s", b->openb_dir, OPENB_PODS);
    ss_cluster_t *src = NULL;
    ss_trace_t *tr = NULL;
    int rc = ss_openb_load(nodes, pods, &src, &tr, err);
    ss_trace_destroy(tr);
    if (rc < 0)
        return rc;
    ss_cluster_t *c = ss_cluster_create();
    rc = c ? replicate(c, src, scaled(s->nodes[0], b->scale), s->pods[0], b->seed, err)
           : ss_error_set(err, SS_ENOMEM, "openb-x100: out of memory");
    ss_cluster_destroy(src);
    if (rc < 0) {
        ss_cluster_destroy(c);
        return rc;
    }
    *out = c;
    return 0;
}

int ss_bench_build(const ss_bench_scen_t *s, int k, const ss_bench_build_t *b, ss_cluster_t **out,
                   ss_error_t *err)
{
    *out = NULL;
    if (s->openb)
        return build_openb(s, b, out, err);
    ss_gen_opts_t o;
    ss_gen_opts_default(&o);
    o.nodes = scaled(s->nodes[k], b->scale);
    o.pods = scaled(s->pods[k], b->scale);
    o.seed = b->seed;
    o.rules = b->rules == 1 ? SS_GEN_RULES_NONE : SS_GEN_RULES_DEFAULT;
    return ss_gen(&o, out, err);
}
