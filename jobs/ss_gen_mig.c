/* ss_gen_mig: MIG (Multi-Instance GPU) nodes and pods in gen's AI profile
 * (issue 15, docs/mig.md "gen and export").
 *
 * After the other running pods are placed, about half of the idle GPU nodes
 * (no running pod) whose GPUs are MIG-capable (H100 80GB, A100 80GB) go into
 * MIG mode, each with one mig-parted-style entry drawn from a small menu:
 * all-1g.10gb, all-2g.20gb, all-3g.40gb, all-balanced (2x 1g.10gb, 2g.20gb,
 * 3g.40gb), all-7g.80gb, or half-balanced (GPUs 0-3 whole, 4-7
 * all-balanced). Every MIG GPU of a node holds the canonical placement
 * (ss_mig_canonical) of the entry's counts, so the importer, reading the
 * counts back, finds the same layout. A share of the instances (mean:
 * opts->used) then holds running inference pods requesting
 * nvidia.com/mig-<profile>: 1, appended after every other running pod in
 * node order, mask 0 (ss_cluster_mig_assign_running gives each the first
 * free instance of its profile). After the pending pods exist, a share of
 * the pending GPU inference workloads ("deploy/gpu-*", one GPU) becomes MIG
 * requests: a quarter GPU mostly 1g.10gb, a half GPU 2g.20gb or 3g.40gb, a
 * few whole-GPU ones 3g.40gb, 4g.40gb or 7g.80gb; they lose their GPU model
 * lists and product selectors (MIG pods ask for a profile instead).
 *
 * Every draw is from g->mrng, and the strings are interned after the nodes
 * and running pods: nodes, the other running pods and the pending pods'
 * names, sizes, priorities and rules are those of opts->mig NONE. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_gen_int.h"
#include "ss_mig.h"

#define NENTRIES 6
#define MIG_SHARE 0.5 /* of the idle MIG-capable GPU nodes */

/* An entry: profile counts of its MIG GPUs, and the first GPU in MIG mode
 * (the GPUs before it stay whole: the importer puts whole GPUs first). */
static const struct {
    const char *name;
    int32_t first_mig;
    struct {
        const char *profile;
        int32_t count;
    } dev[3];
    int w;
} entries[NENTRIES] = {
    {"all-1g.10gb", 0, {{"1g.10gb", 7}}, 20},
    {"all-2g.20gb", 0, {{"2g.20gb", 3}}, 10},
    {"all-3g.40gb", 0, {{"3g.40gb", 2}}, 20},
    {"all-balanced", 0, {{"1g.10gb", 2}, {"2g.20gb", 1}, {"3g.40gb", 1}}, 30},
    {"all-7g.80gb", 0, {{"7g.80gb", 1}}, 5},
    {"half-balanced", 4, {{"1g.10gb", 2}, {"2g.20gb", 1}, {"3g.40gb", 1}}, 15},
};

static int mpick(gen_t *g, const int *w, int n)
{
    int total = 0;
    for (int i = 0; i < n; i++)
        total += w[i];
    int x = (int)ss_rng_below(&g->mrng, (uint64_t)total);
    for (int i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}

/* The ss_mig model of node n's GPUs, or NULL when not MIG-capable. */
static const ss_mig_model_t *node_model(const gen_t *g, int32_t n)
{
    const ss_cluster_t *c = g->c;
    if (c->node_gpu_count[n] == 0)
        return NULL;
    return ss_mig_model(
        ss_mig_find_model(ss_cluster_strget(c, c->gpu_model[c->node_gpu_begin[n]])));
}

/* Puts node n's GPUs from entry e's first MIG GPU on in MIG mode. */
static int set_node(gen_t *g, int32_t n, const ss_mig_model_t *m, int e)
{
    ss_cluster_t *c = g->c;
    int32_t counts[SS_MIG_MAX_PROFILES] = {0}, model;
    for (int d = 0; d < 3 && entries[e].dev[d].profile; d++) {
        int p = ss_mig_find_profile(m, entries[e].dev[d].profile);
        if (p < 0)
            return ss_error_set(g->err, SS_EINVAL, "gen: %s has no MIG profile %s (a bug)", m->name,
                                entries[e].dev[d].profile);
        counts[p] = entries[e].dev[d].count;
    }
    ss_mig_layout_t l;
    int rc = ss_mig_canonical(m, counts, &l, g->err);
    if (rc < 0)
        return rc;
    ss_mig_instance_t inst[SS_MIG_MAX_INSTANCES];
    for (int32_t i = 0; i < l.n; i++) {
        GEN_TRY(g, inst[i].profile = ss_cluster_str(c, m->profiles[l.inst[i].profile].name));
        inst[i].start = l.inst[i].start;
    }
    GEN_TRY(g, model = ss_cluster_str(c, m->name));
    for (int32_t j = entries[e].first_mig; j < c->node_gpu_count[n]; j++)
        GEN_TRY(g, ss_cluster_set_gpu_mig(c, c->node_gpu_begin[n] + j, model, inst, l.n));
    return 0;
}

/* Running MIG templates: one per profile name (string id), made on first
 * use, like gen's other running templates (tolerate the GPU taint, select
 * the GPU pool). */
typedef struct {
    int32_t profile[16], tmpl[16], ns[16], seq[16];
    int n;
} run_mig_t;

static int run_template(gen_t *g, run_mig_t *r, int32_t profile, const ss_mig_profile_t *pr)
{
    for (int i = 0; i < r->n; i++)
        if (r->profile[i] == profile)
            return i;
    if (r->n == 16)
        return ss_error_set(g->err, SS_EINVAL, "gen: too many MIG profiles (a bug)");
    ss_template_t t = {0};
    t.req.cpu_milli = 1500 * pr->compute;
    t.req.memory = 10 * GIB * pr->mem;
    t.mig_profile = profile;
    t.mig_count = 1;
    int rc, i = r->n;
    if ((rc = ss_gen_rule_tolerations(g, &t, TOL_GPU)) < 0 ||
        (rc = ss_gen_rule_selector(g, &t, SEL_POOL_GPU)) < 0)
        return rc;
    r->ns[i] = g->team[ss_rng_below(&g->mrng, GEN_NTEAMS)];
    int32_t app;
    GEN_TRY(g, app = ss_gen_str(g, "run-mig-%s", pr->name));
    GEN_TRY(g, t.plabel_begin = ss_cluster_add_label(g->c, g->k_app, app));
    GEN_TRY(g, ss_cluster_add_label(g->c, g->k_team, r->ns[i]));
    t.plabel_count = 2;
    GEN_TRY(g, t.workload = ss_gen_str(g, "deploy/run-mig-%s", pr->name));
    t.flags = SS_TF_CONTROLLER;
    t.spread_begin = g->c->n_spreads;
    t.pterm_begin = g->c->n_pterms;
    GEN_TRY(g, r->tmpl[i] = ss_cluster_add_template(g->c, &t));
    r->profile[i] = profile;
    r->n++;
    return i;
}

/* A running MIG pod's priority: like the GPU pool's (production or batch)
 * with rules DEFAULT and preemption, else batch; a start time like
 * ss_gen_start_time's. Both from g->mrng. */
static int32_t run_priority(gen_t *g)
{
    static const int w[2] = {30, 70};
    if (!g->rules || !g->o->preemption)
        return SS_GEN_PRIO_BATCH;
    return mpick(g, w, 2) == 0 ? SS_GEN_PRIO_PRODUCTION : SS_GEN_PRIO_BATCH;
}

static int64_t run_start(gen_t *g)
{
    const int64_t epoch = INT64_C(1767225600); /* 2026-01-01T00:00:00Z */
    double age = exp(log(60.0) + ss_rng_uniform(&g->mrng) * (log(90.0 * 86400) - log(60.0)));
    return epoch - (int64_t)age;
}

/* Running pods on a MIG node: each instance holds one with probability
 * target (drawn per node, mean opts->used). */
static int fill_node(gen_t *g, run_mig_t *r, int32_t n, const ss_mig_model_t *m)
{
    ss_cluster_t *c = g->c;
    double target = g->o->used * (0.35 + 1.5 * ss_rng_uniform(&g->mrng));
    for (int32_t j = 0; j < c->node_gpu_count[n]; j++) {
        int32_t gpu = c->node_gpu_begin[n] + j;
        for (int32_t i = 0; i < c->gpu_mig_count[gpu]; i++) {
            if (ss_rng_uniform(&g->mrng) >= target)
                continue;
            int32_t prof = c->mig_insts[c->gpu_mig_begin[gpu] + i].profile;
            int p = ss_mig_find_profile(m, ss_cluster_strget(c, prof));
            int k = run_template(g, r, prof, &m->profiles[p]);
            if (k < 0)
                return k;
            int32_t name, pod;
            GEN_TRY(g, name = ss_gen_str(g, "run-mig-%s-%d", m->profiles[p].name, r->seq[k]++));
            GEN_TRY(g, pod = ss_cluster_add_pod(c, name, r->ns[k], r->tmpl[k], run_priority(g), -1,
                                                n, 0));
            ss_cluster_set_pod_start(c, pod, run_start(g));
        }
    }
    return 0;
}

int ss_gen_mig_nodes(gen_t *g)
{
    ss_cluster_t *c = g->c;
    uint8_t *busy = calloc((size_t)c->n_nodes + 1, 1);
    run_mig_t *r = calloc(1, sizeof *r);
    int rc = 0, w[NENTRIES];
    if (!busy || !r) {
        free(busy);
        free(r);
        return ss_gen_oom(g);
    }
    for (int e = 0; e < NENTRIES; e++)
        w[e] = entries[e].w;
    for (int32_t p = 0; p < c->n_pods; p++)
        if (c->pod_node[p] >= 0)
            busy[c->pod_node[p]] = 1;
    for (int32_t n = 0; n < c->n_nodes && rc == 0; n++) {
        const ss_mig_model_t *m = busy[n] ? NULL : node_model(g, n);
        if (!m || ss_rng_uniform(&g->mrng) >= MIG_SHARE)
            continue;
        int e = mpick(g, w, NENTRIES);
        if (entries[e].first_mig >= c->node_gpu_count[n])
            e = 3; /* all-balanced: a node of at most 4 GPUs cannot be half */
        if ((rc = set_node(g, n, m, e)) == 0)
            rc = fill_node(g, r, n, m);
        g->mig_nodes++;
    }
    free(busy);
    free(r);
    if (rc < 0)
        return rc;
    if ((rc = ss_cluster_mig_assign_running(c, g->err)) < 0)
        ss_error_prefix(g->err, rc, "gen: running MIG pods (a bug)");
    return rc;
}

/* The MIG request a pending GPU inference template of one GPU becomes (a
 * profile name), or NULL to keep it: a quarter GPU 60%, a half GPU 60%, a
 * whole GPU 15%. */
static const char *pending_profile(gen_t *g, const ss_request_t *q)
{
    static const char *quarter[3] = {"1g.10gb", "1g.20gb", "2g.20gb"};
    static const int quarter_w[3] = {70, 15, 15};
    static const char *half[2] = {"2g.20gb", "3g.40gb"};
    static const char *whole[3] = {"3g.40gb", "4g.40gb", "7g.80gb"};
    static const int whole_w[3] = {40, 20, 40};
    double u = ss_rng_uniform(&g->mrng);
    if (q->gpu_count != 1)
        return NULL;
    if (q->gpu_milli <= 250)
        return u < 0.6 ? quarter[mpick(g, quarter_w, 3)] : NULL;
    if (q->gpu_milli <= 500)
        return u < 0.6 ? half[ss_rng_below(&g->mrng, 2)] : NULL;
    return u < 0.15 ? whole[mpick(g, whole_w, 3)] : NULL;
}

int ss_gen_mig_pending(gen_t *g, int32_t first_tmpl)
{
    ss_cluster_t *c = g->c;
    static const char prefix[] = "deploy/gpu-";
    if (g->mig_nodes == 0) /* nothing could serve them */
        return 0;
    for (int32_t i = first_tmpl; i < c->n_templates; i++) {
        ss_template_t *t = &c->templates[i];
        if (strncmp(ss_cluster_strget(c, t->workload), prefix, sizeof prefix - 1) != 0)
            continue;
        const char *prof = pending_profile(g, &t->req);
        if (!prof)
            continue;
        int32_t id;
        GEN_TRY(g, id = ss_cluster_str(c, prof));
        t = &c->templates[i];
        t->req.gpu_count = 0;
        t->req.gpu_milli = 0;
        t->mig_profile = id;
        t->mig_count = 1;
        t->model_count = 0; /* a profile instead of GPU models */
        t->sel_count = 0;   /* gen's GPU templates select only nvidia.com/gpu.product */
    }
    return 0;
}
