/* ss_policy_fgd: the FGD paper's policies, fgd-reserve, fgd-cpu and fgd-fill scored on the
 * engine's own state (ss_state.h: free cpu and memory, free milli per GPU,
 * GPU models, GPU pods per kind), for `schedule` and `bench`. The formulas
 * are the replay's (ss_fgd_policy.c, docs/evaluation.md) computed from a
 * different state; tests/test_fgd.c checks both agree on equal states.
 *
 * Every score is a pure function of (this node's state, the template), as
 * the engine's per-shard heaps and exact merge need: FGD's fragmentation is
 * measured against the typical-pod table built once per run
 * (ss_policy_ctx_create), and random hashes the template's key with the
 * node's index and its free capacity, so the fast engine and the exhaustive
 * reference draw the same numbers whatever order they score in. */
#include <math.h>
#include <string.h>

#include "ss_policy_int.h"

#define MAX_SCORE 100

static bool shared_gpu(const ss_template_t *tp)
{
    return tp->req.gpu_count == 1 && tp->req.gpu_milli < SS_GPU_MILLI;
}

static int64_t free_gpu_total(const ss_state_t *s, int32_t n)
{
    const int32_t *g = s->gpu_free + s->c->node_gpu_begin[n];
    int64_t tot = 0;
    for (int32_t i = 0; i < s->c->node_gpu_count[n]; i++)
        tot += g[i];
    return tot;
}

static bool model_allowed(const ss_cluster_t *c, const ss_template_t *tp, int32_t rec)
{
    if (tp->model_count == 0)
        return true;
    for (int32_t k = 0; k < tp->model_count; k++)
        if (c->models[tp->model_begin + k] == c->gpu_model[rec])
            return true;
    return false;
}

int64_t ss_policy_score_random(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t, int32_t n,
                               int32_t *gpu)
{
    uint64_t h = ss_policy_mix(x->tkey[t], (uint64_t)n);
    h = ss_policy_mix(h, (uint64_t)s->free_pods[n]);
    h = ss_policy_mix(h, (uint64_t)s->free_cpu[n]);
    h = ss_policy_mix(h, (uint64_t)s->free_mem[n]);
    const ss_template_t *tp = &s->c->templates[t];
    if (gpu) {
        *gpu = -1;
        if (shared_gpu(tp)) { /* a fitting GPU drawn from the same hash */
            int32_t b = s->c->node_gpu_begin[n], fit[SS_MAX_GPUS_PER_NODE], nf = 0;
            for (int32_t i = 0; i < s->c->node_gpu_count[n]; i++)
                if (s->gpu_free[b + i] >= tp->req.gpu_milli && model_allowed(s->c, tp, b + i))
                    fit[nf++] = i;
            if (nf > 0)
                *gpu = fit[ss_policy_mix(h, 1) % (uint64_t)nf];
        }
    }
    return (int64_t)(h >> 44); /* 0 .. 2^20 - 1 */
}

int64_t ss_policy_score_dotprod(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t, int32_t n,
                                int32_t *gpu)
{
    const ss_fgd_pod_t *p = &x->pod[t];
    if (gpu)
        *gpu = -1;
    double dot = (double)s->free_cpu[n] / SS_FGD_NORM_CPU * ((double)p->cpu / SS_FGD_NORM_CPU) +
                 (double)free_gpu_total(s, n) / SS_FGD_NORM_GPU *
                     ((double)((int64_t)p->num_gpu * p->milli) / SS_FGD_NORM_GPU);
    return (int64_t)(int32_t)((double)MAX_SCORE * (1.0 - dot / 2.0));
}

int64_t ss_policy_score_bestfit(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t, int32_t n,
                                int32_t *gpu)
{
    const ss_fgd_pod_t *p = &x->pod[t];
    if (gpu)
        *gpu = -1;
    double r =
        0.5 * (double)(s->free_cpu[n] - p->cpu) / SS_FGD_NORM_CPU +
        0.5 * (double)(free_gpu_total(s, n) - (int64_t)p->num_gpu * p->milli) / SS_FGD_NORM_GPU;
    return (int64_t)(int32_t)((double)MAX_SCORE * (1.0 - r));
}

int64_t ss_policy_score_clustering(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t,
                                   int32_t n, int32_t *gpu)
{
    (void)x;
    if (gpu)
        *gpu = -1;
    const ss_template_t *tp = &s->c->templates[t];
    if (tp->req.gpu_count == 0)
        return 0;
    int64_t b = (MAX_SCORE / 4) * (8000 - free_gpu_total(s, n)) / 8000;
    const int32_t *tc = s->tags + (size_t)n * SS_STATE_NTAGS;
    int tag = ss_state_tag(tp), distinct = 0;
    for (int i = 0; i < SS_STATE_NTAGS; i++)
        distinct += tc[i] > 0;
    if (tc[tag] > 0)
        return b + (distinct == 1 ? MAX_SCORE * 3 / 4 : MAX_SCORE * 2 / 4);
    return b + (distinct == 0 ? MAX_SCORE / 4 : 0);
}

int64_t ss_policy_score_packing(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t, int32_t n,
                                int32_t *gpu)
{
    const ss_fgd_pod_t *p = &x->pod[t];
    if (gpu)
        *gpu = -1;
    int32_t ng = s->c->node_gpu_count[n], full = 0;
    const int32_t *g = s->gpu_free + s->c->node_gpu_begin[n];
    for (int32_t i = 0; i < ng; i++)
        full += g[i] >= SS_GPU_MILLI;
    return ss_fgd_packing_of(g, ng, full, p);
}

static bool models_ok(uint64_t models, int32_t m)
{
    return !models || (m >= 0 && (models >> m & 1));
}

/* Fragmentation numerator of a node whose GPUs (records rec0..) have free
 * shares g and cpu_free: sum over typical pods of count x the free milli
 * the pod cannot use (all of it if the pod does not fit). A GPU serves a
 * typical pod if its model is allowed and its free share is large enough.
 * mode (ss_fgd.h): CPU or MODEL (fgd-cpu, fgd-fill): a fitting pod uses at
 * most what the cpu and memory let copies of it take (ss_fgd_cpu_usable);
 * MODEL also leaves out a typical GPU pod that no GPU of the node's models
 * may serve. */
static int64_t frag_of(const ss_policy_ctx_t *x, int32_t rec0, int64_t cpu_free, int64_t mem_free,
                       const int32_t *g, int32_t ng, ss_fgd_frag_mode_t mode)
{
    int64_t total = 0;
    for (int32_t i = 0; i < ng; i++)
        total += g[i];
    if (total == 0)
        return 0;
    int64_t sum = 0;
    for (int32_t k = 0; k < x->n_typical; k++) {
        const ss_fgd_typical_t *tp = &x->typical[k];
        int64_t amount = total;
        if (mode == SS_FGD_FRAG_MODEL && tp->milli > 0 && tp->models) {
            bool any = false;
            for (int32_t i = 0; i < ng && !any; i++)
                any = models_ok(tp->models, x->gpu_model[rec0 + i]);
            if (!any)
                continue; /* this node is none of its business */
        }
        if (tp->milli > 0 && cpu_free >= tp->cpu) {
            int32_t fit = 0;
            int64_t usable = 0;
            for (int32_t i = 0; i < ng; i++)
                if (g[i] >= tp->milli && models_ok(tp->models, x->gpu_model[rec0 + i])) {
                    fit++;
                    usable += g[i];
                }
            if (fit >= tp->num_gpu)
                amount = total - (mode != SS_FGD_FRAG_PLAIN
                                      ? ss_fgd_cpu_usable(usable, cpu_free, tp->cpu, mem_free,
                                                          tp->mem, tp->num_gpu)
                                      : usable);
        }
        sum += tp->count * amount;
    }
    return sum;
}

static int64_t fgd_int(const ss_policy_ctx_t *x, int64_t before, int64_t after)
{
    double df = (double)(before - after) / (double)x->typical_denom;
    return (int32_t)(1.0 / (1.0 + exp(-df / 1000.0)) * (double)MAX_SCORE);
}

/* FGD's score on the plain or the CPU-aware measure (fgd, fgd-cpu), and on
 * the model-aware one with the dead share added (fill: fgd-fill,
 * ss_fgd_fill_dead). */
static int64_t score_frag(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t, int32_t n,
                          int32_t *gpu, ss_fgd_frag_mode_t ca, bool fill)
{
    const ss_cluster_t *c = s->c;
    const ss_template_t *tp = &c->templates[t];
    int32_t tmp[SS_MAX_GPUS_PER_NODE], ng = c->node_gpu_count[n], b = c->node_gpu_begin[n];
    const int32_t *g = s->gpu_free + b;
    int64_t before = frag_of(x, b, s->free_cpu[n], s->free_mem[n], g, ng, ca);
    int64_t cpu_after = s->free_cpu[n] - tp->req.cpu_milli;
    int64_t mem_after = s->free_mem[n] - tp->req.memory;
    const ss_fgd_fill_t *fl = fill ? x->fill : NULL;
    if (fl)
        before += x->typical_denom * ss_fgd_fill_dead(fl, g, ng, s->free_cpu[n]);
    memcpy(tmp, g, (size_t)ng * sizeof *tmp);
    if (gpu)
        *gpu = -1;
    if (shared_gpu(tp)) { /* try each fitting GPU, first index on ties */
        int64_t best = 0;
        int32_t arg = -1, milli = tp->req.gpu_milli;
        for (int32_t i = 0; i < ng; i++) {
            if (g[i] < milli || !models_ok(x->pod[t].models, x->gpu_model[b + i]))
                continue;
            tmp[i] -= milli;
            int64_t after = frag_of(x, b, cpu_after, mem_after, tmp, ng, ca);
            if (fl)
                after += x->typical_denom * ss_fgd_fill_dead(fl, tmp, ng, cpu_after);
            int64_t sc = fgd_int(x, before, after);
            tmp[i] += milli;
            if (arg < 0 || sc > best) {
                best = sc;
                arg = i;
            }
        }
        if (gpu)
            *gpu = arg;
        return best;
    }
    if (tp->req.gpu_count > 0) { /* the GPUs the engine would give it */
        uint64_t mask = ss_state_pick_gpus(s, tp, n);
        for (int32_t i = 0; mask != UINT64_MAX && i < ng; i++)
            if (mask >> i & 1)
                tmp[i] -= tp->req.gpu_milli;
    }
    int64_t after = frag_of(x, b, cpu_after, mem_after, tmp, ng, ca);
    if (fl)
        after += x->typical_denom * ss_fgd_fill_dead(fl, tmp, ng, cpu_after);
    return fgd_int(x, before, after);
}

int64_t ss_policy_score_fgd(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t, int32_t n,
                            int32_t *gpu)
{
    return score_frag(x, s, t, n, gpu, SS_FGD_FRAG_PLAIN, false);
}

int64_t ss_policy_score_cpu(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t, int32_t n,
                            int32_t *gpu)
{
    return score_frag(x, s, t, n, gpu, SS_FGD_FRAG_CPU, false);
}

int64_t ss_policy_score_fill(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t, int32_t n,
                             int32_t *gpu)
{
    return score_frag(x, s, t, n, gpu, SS_FGD_FRAG_MODEL, true);
}

int64_t ss_policy_score_reserve(const ss_policy_ctx_t *x, const ss_state_t *s, int32_t t, int32_t n,
                                int32_t *gpu)
{
    int64_t f = ss_policy_score_fgd(x, s, t, n, gpu);
    const ss_template_t *tp = &s->c->templates[t];
    if (tp->req.gpu_count > 0)
        return f * 4096;
    int64_t need = free_gpu_total(s, n) * SS_FGD_RESERVE_CPU_PER_GPU / SS_GPU_MILLI;
    int64_t spare = (s->free_cpu[n] - tp->req.cpu_milli - need) / 1000 + 2048;
    spare = spare < 0 ? 0 : spare > 4095 ? 4095 : spare;
    return f * 4096 + spare;
}
