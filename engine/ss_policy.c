/* ss_policy: the one registry of placement policies (ss_policy.h) for every
 * command, the kube policies' scores on both states (kube-scheduler's
 * NodeResourcesFit LeastAllocated / MostAllocated and
 * NodeResourcesBalancedAllocation over cpu and memory with weight 1 each, in
 * its integer arithmetic), and the engine context the FGD-paper scorers
 * (ss_policy_fgd.c) read: dense GPU models, each template's FGD view and the
 * typical-pod table of the snapshot's pending pods. */
#include "ss_policy.h"

#include <stddef.h>
#include <stdlib.h>
#include <strings.h>

#include "ss_policy_int.h"

/* ---------- the kube policies on the engine's state ---------- */

static int64_t least_allocated(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t, int32_t n,
                               int32_t *gpu)
{
    (void)x;
    if (gpu)
        *gpu = -1;
    return ss_policy_least_allocated(s, &s->c->templates[t], n);
}

static int64_t most_allocated(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t, int32_t n,
                              int32_t *gpu)
{
    (void)x;
    if (gpu)
        *gpu = -1;
    return ss_policy_most_allocated(s, &s->c->templates[t], n);
}

static int64_t balanced(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t, int32_t n,
                        int32_t *gpu)
{
    (void)x;
    if (gpu)
        *gpu = -1;
    return ss_policy_balanced(s, &s->c->templates[t], n);
}

static int64_t kube_default(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t, int32_t n,
                            int32_t *gpu)
{
    (void)x;
    if (gpu)
        *gpu = -1;
    return ss_policy_kube_default(s, &s->c->templates[t], n);
}

/* ---------- the same kube arithmetic on the replay's state ---------- */

#define REPLAY_ARGS_(s, n, p)                                                                      \
    (s)->cpu_cap[n], (s)->cpu_free[n], (p)->cpu, (s)->mem_cap[n], (s)->mem_free[n], (p)->mem

static int32_t replay_least(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p, int32_t *gpu)
{
    *gpu = -1;
    return (int32_t)ss_policy_least_raw(REPLAY_ARGS_(s, n, p));
}

static int32_t replay_most(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p, int32_t *gpu)
{
    *gpu = -1;
    return (int32_t)ss_policy_most_raw(REPLAY_ARGS_(s, n, p));
}

static int32_t replay_balanced(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p,
                               int32_t *gpu)
{
    *gpu = -1;
    return (int32_t)ss_policy_balanced_raw(REPLAY_ARGS_(s, n, p));
}

/* The replay has no taints or node affinity: kube-default's static part is
 * the same on every node there, so only the resource part ranks. */
static int32_t replay_kube_default(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p,
                                   int32_t *gpu)
{
    *gpu = -1;
    return (int32_t)(ss_policy_least_raw(REPLAY_ARGS_(s, n, p)) +
                     ss_policy_balanced_raw(REPLAY_ARGS_(s, n, p)));
}

/* ---------- the registry ---------- */

static const ss_policy_t policies[] = {
    {2, SS_POLICY_LEAST_ALLOCATED, "least-allocated",
     "spread: prefer nodes with the most free cpu and memory (NodeResourcesFit)", least_allocated,
     replay_least},
    {2, SS_POLICY_MOST_ALLOCATED, "most-allocated",
     "bin-packing: prefer the fullest nodes that fit", most_allocated, replay_most},
    {2, SS_POLICY_BALANCED, "balanced", "prefer nodes whose cpu and memory use stay balanced",
     balanced, replay_balanced},
    {2, SS_POLICY_KUBE_DEFAULT, "kube-default",
     "kube-scheduler's default profile: least-allocated + balanced + taints x3 + affinity x2",
     kube_default, replay_kube_default},
    {2, SS_POLICY_RANDOM, "random", "FGD paper: uniform choice among the nodes that fit",
     ss_policy_score_random, NULL},
    {2, SS_POLICY_DOTPROD, "dotprod",
     "FGD paper: Tetris dot product of free and requested (cpu, gpu)", ss_policy_score_dotprod,
     ss_fgd_score_dotprod},
    {2, SS_POLICY_GPUCLUSTERING, "gpuclustering", "FGD paper: keep GPU pods of one kind together",
     ss_policy_score_clustering, ss_fgd_score_clustering},
    {2, SS_POLICY_GPUPACKING, "gpupacking",
     "FGD paper: shared GPUs first, then used nodes, then idle nodes", ss_policy_score_packing,
     ss_fgd_score_packing},
    {2, SS_POLICY_BESTFIT, "bestfit", "FGD paper: least free cpu and GPU left after placement",
     ss_policy_score_bestfit, ss_fgd_score_bestfit},
    {2, SS_POLICY_FGD, "fgd", "FGD paper: fragmentation gradient descent (ATC'23)",
     ss_policy_score_fgd, ss_fgd_score_fgd},
    {2, SS_POLICY_FGD_RESERVE, "fgd-reserve", "FGD; CPU pods keep cpu for idle GPUs (this project)",
     ss_policy_score_reserve, ss_fgd_score_reserve},
    {2, SS_POLICY_FGD_CPU, "fgd-cpu",
     "FGD on a fragmentation that counts GPUs stranded by cpu or memory (this project)",
     ss_policy_score_cpu, ss_fgd_score_cpu},
    {2, SS_POLICY_FGD_FILL, "fgd-fill",
     "fgd-cpu that also counts GPU shares no typical pod can fill, by size or cpu, and leaves out "
     "pods barred from the node's GPU model (this project)",
     ss_policy_score_fill, ss_fgd_score_fill},
};
#define NPOLICIES ((int)(sizeof policies / sizeof policies[0]))
_Static_assert(NPOLICIES == SS_POLICY_COUNT, "one registry entry per policy id");
_Static_assert(SS_STATE_NTAGS == SS_FGD_NTAGS, "GpuClustering tags agree");

const ss_policy_t *ss_policy_find(const char *name)
{
    for (int i = 0; name && i < NPOLICIES; i++)
        if (!strcasecmp(name, policies[i].name))
            return &policies[i];
    return NULL;
}

const ss_policy_t *ss_policy_at(int i)
{
    return i >= 0 && i < NPOLICIES ? &policies[i] : NULL;
}

int ss_policy_count(void)
{
    return NPOLICIES;
}

int64_t ss_policy_static_score(int32_t pref_weight, int32_t total_weight, int32_t untolerated,
                               int32_t max_untolerated)
{
    int64_t aff = total_weight > 0 ? (int64_t)pref_weight * 100 / total_weight : 0;
    int64_t taint = max_untolerated > 0 ? 100 - (int64_t)untolerated * 100 / max_untolerated : 100;
    return SS_WEIGHT_AFFINITY * aff + SS_WEIGHT_TAINT * taint;
}

/* ---------- the engine context ---------- */

void ss_policy_ctx_destroy(ss_policy_ctx_t *x)
{
    if (!x)
        return;
    free(x->pod);
    free(x->tkey);
    free(x->gpu_model);
    free(x->typical);
    free(x->fill);
    free(x);
}

/* Dense model indices in node order, as ss_fgd_state_create assigns them. */
static int dense_models(ss_policy_ctx_t *x, ss_error_t *err)
{
    const ss_cluster_t *c = x->c;
    x->gpu_model = malloc((size_t)(c->n_gpus > 0 ? c->n_gpus : 1) * sizeof *x->gpu_model);
    if (!x->gpu_model)
        return ss_error_set(err, SS_ENOMEM, "policy %s: out of memory", x->pol->name);
    for (int32_t n = 0; n < c->n_nodes; n++)
        for (int32_t i = 0; i < c->node_gpu_count[n]; i++) {
            int32_t rec = c->node_gpu_begin[n] + i, m = 0;
            while (m < x->n_models && x->model_str[m] != c->gpu_model[rec])
                m++;
            if (m == x->n_models) {
                if (m == SS_FGD_MAX_MODELS)
                    return ss_error_set(
                        err, SS_EUNSUPPORTED,
                        "policy %s: node %s: more than %d GPU models in the cluster", x->pol->name,
                        ss_cluster_strget(c, c->node_name[n]), SS_FGD_MAX_MODELS);
                x->model_str[x->n_models++] = c->gpu_model[rec];
            }
            x->gpu_model[rec] = m;
        }
    return 0;
}

/* Each template as the FGD scores see it, and random's key (the request and
 * the allowed models: what a score signature holds, so templates sharing a
 * cached heap share their scores). */
static void template_views(ss_policy_ctx_t *x)
{
    const ss_cluster_t *c = x->c;
    for (int32_t t = 0; t < c->n_templates; t++) {
        const ss_template_t *tp = &c->templates[t];
        ss_fgd_pod_t *p = &x->pod[t];
        p->cpu = tp->req.cpu_milli;
        p->mem = tp->req.memory;
        p->num_gpu = tp->req.gpu_count;
        p->milli = tp->req.gpu_count > 0 ? tp->req.gpu_milli : 0;
        uint64_t h = ss_policy_mix(SS_POLICY_RANDOM_SEED, (uint64_t)tp->req.cpu_milli);
        h = ss_policy_mix(h, (uint64_t)tp->req.memory);
        h = ss_policy_mix(h, (uint64_t)tp->req.gpu_count << 32 | (uint32_t)tp->req.gpu_milli);
        for (int k = 0; k < c->n_ext; k++)
            h = ss_policy_mix(h, (uint64_t)tp->req.ext[k]);
        for (int32_t i = 0; i < tp->model_count; i++) {
            int32_t str = c->models[tp->model_begin + i];
            h = ss_policy_mix(h, (uint64_t)(uint32_t)str);
            uint64_t bit = SS_FGD_NO_MODEL;
            for (int32_t m = 0; m < x->n_models; m++)
                if (x->model_str[m] == str)
                    bit = UINT64_C(1) << m;
            p->models |= bit;
        }
        x->tkey[t] = h;
    }
}

/* The typical pods of the snapshot's pending pods (replay: of the trace). */
static int typical_pods(ss_policy_ctx_t *x, ss_error_t *err)
{
    const ss_cluster_t *c = x->c;
    ss_fgd_pod_t *pend = malloc((size_t)(c->n_pods > 0 ? c->n_pods : 1) * sizeof *pend);
    if (!pend)
        return ss_error_set(err, SS_ENOMEM, "policy %s: out of memory", x->pol->name);
    int32_t n = 0;
    for (int32_t p = 0; p < c->n_pods; p++)
        if (c->pod_node[p] < 0)
            pend[n++] = x->pod[c->pod_template[p]];
    int rc =
        ss_fgd_typical_build(pend, n, false, &x->typical, &x->n_typical, &x->typical_denom, err);
    free(pend);
    if (!rc && x->pol->id == SS_POLICY_FGD_FILL) {
        if (!(x->fill = malloc(sizeof *x->fill)))
            return ss_error_set(err, SS_ENOMEM, "policy %s: out of memory", x->pol->name);
        ss_fgd_fill_build(x->typical, x->n_typical, x->fill);
    }
    return rc;
}

int ss_policy_ctx_create(const ss_policy_t *pol, const ss_cluster_t *c, ss_policy_ctx_t **out,
                         ss_error_t *err)
{
    *out = NULL;
    ss_policy_ctx_t *x = calloc(1, sizeof *x);
    size_t nt = (size_t)(c->n_templates > 0 ? c->n_templates : 1);
    if (x) {
        x->pol = pol;
        x->c = c;
        x->pod = calloc(nt, sizeof *x->pod);
        x->tkey = calloc(nt, sizeof *x->tkey);
    }
    int rc = 0;
    bool fgd = pol->id == SS_POLICY_FGD || pol->id == SS_POLICY_FGD_RESERVE ||
               pol->id == SS_POLICY_FGD_CPU || pol->id == SS_POLICY_FGD_FILL;
    if (!x || !x->pod || !x->tkey)
        rc = ss_error_set(err, SS_ENOMEM, "policy %s: out of memory", pol->name);
    else if (fgd)
        rc = dense_models(x, err);
    if (!rc)
        template_views(x);
    if (!rc && fgd)
        rc = typical_pods(x, err);
    if (rc) {
        ss_policy_ctx_destroy(x);
        return rc;
    }
    *out = x;
    return 0;
}

int64_t ss_policy_ctx_score(const ss_policy_ctx_t *x, const ss_state_t *s, const ss_template_t *tp,
                            int32_t node)
{
    return x->pol->score(x, s, (int32_t)(tp - s->c->templates), node, NULL);
}

uint64_t ss_policy_pick_gpus(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t, int32_t node)
{
    const ss_template_t *tp = &s->c->templates[t];
    int id = x->pol->id;
    if (tp->req.gpu_count == 1 && tp->req.gpu_milli < SS_GPU_MILLI &&
        (id == SS_POLICY_FGD || id == SS_POLICY_FGD_RESERVE || id == SS_POLICY_FGD_CPU ||
         id == SS_POLICY_FGD_FILL || id == SS_POLICY_RANDOM)) {
        int32_t g = -1;
        x->pol->score(x, s, t, node, &g);
        if (g >= 0)
            return UINT64_C(1) << g;
    }
    return ss_state_pick_gpus(s, tp, node);
}
