/* ss_fgd_policy: the replay's integer node scores for the policies of the
 * FGD paper as its public simulator computes them (integer truncation
 * included: it decides how many nodes tie, and ties decide how tightly pods
 * pack; see docs/evaluation.md) and the project's own "fgd-reserve". The
 * registry (engine/ss_policy.c) points to these; the kube policies' replay
 * scores live there, in the engine's kube arithmetic.
 *
 * Every score is a pure function of (node state, pod), so the scheduler
 * caches it per (node, pod shape) until the node changes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ss_fgd.h"

#define MAX_SCORE 100
#define NORM_CPU SS_FGD_NORM_CPU
#define NORM_GPU SS_FGD_NORM_GPU

static double sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

static int64_t pod_gpu(const ss_fgd_pod_t *p)
{
    return (int64_t)p->num_gpu * p->milli;
}

int32_t ss_fgd_score_dotprod(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p,
                             int32_t *gpu)
{
    *gpu = -1;
    double dot = (double)s->cpu_free[n] / NORM_CPU * ((double)p->cpu / NORM_CPU) +
                 (double)s->gpu_free_total[n] / NORM_GPU * ((double)pod_gpu(p) / NORM_GPU);
    return (int32_t)((double)MAX_SCORE * (1.0 - dot / 2.0));
}

int32_t ss_fgd_score_bestfit(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p,
                             int32_t *gpu)
{
    *gpu = -1;
    double r = 0.5 * (double)(s->cpu_free[n] - p->cpu) / NORM_CPU +
               0.5 * (double)(s->gpu_free_total[n] - pod_gpu(p)) / NORM_GPU;
    return (int32_t)((double)MAX_SCORE * (1.0 - r));
}

int32_t ss_fgd_score_clustering(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p,
                                int32_t *gpu)
{
    *gpu = -1;
    if (p->num_gpu == 0)
        return 0;
    int32_t b = (MAX_SCORE / 4) * (8000 - s->gpu_free_total[n]) / 8000;
    const int32_t *tc = s->tag_count + (size_t)n * SS_FGD_NTAGS;
    int tag = p->milli < SS_GPU_MILLI ? 0 : (p->num_gpu <= 8 ? p->num_gpu : SS_FGD_NTAGS - 1);
    int distinct = 0;
    for (int i = 0; i < SS_FGD_NTAGS; i++)
        distinct += tc[i] > 0;
    if (tc[tag] > 0)
        return b + (distinct == 1 ? MAX_SCORE * 3 / 4 : MAX_SCORE * 2 / 4);
    return b + (distinct == 0 ? MAX_SCORE / 4 : 0);
}

int32_t ss_fgd_packing_of(const int32_t *g, int32_t ng, int32_t n_full, const ss_fgd_pod_t *p)
{
    if (p->milli <= 0)
        return 0;
    if (n_full == ng) /* an idle node */
        return MAX_SCORE / 3 - ng > ng ? MAX_SCORE / 3 - ng : ng;
    /* the tightest fitting GPUs, ascending by free share (stable) */
    int32_t need = p->num_gpu, full_used = 0;
    int64_t ratio = 0;
    bool used[SS_MAX_GPUS_PER_NODE] = {false};
    while (need > 0) {
        int32_t best = -1;
        for (int32_t i = 0; i < ng; i++)
            if (!used[i] && g[i] >= p->milli && (best < 0 || g[i] < g[best]))
                best = i;
        if (best < 0)
            return 0; /* does not fit: the filter keeps this from happening */
        used[best] = true;
        need--;
        full_used += g[best] == SS_GPU_MILLI;
        ratio += (int64_t)g[best] * 100 / SS_GPU_MILLI;
    }
    if (full_used > 0)
        return MAX_SCORE / 2 - full_used > MAX_SCORE / 3 ? MAX_SCORE / 2 - full_used
                                                         : MAX_SCORE / 3;
    int32_t sc = MAX_SCORE - (int32_t)(ratio / 10);
    return sc > MAX_SCORE / 2 ? sc : MAX_SCORE / 2;
}

int32_t ss_fgd_score_packing(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p,
                             int32_t *gpu)
{
    *gpu = -1;
    return ss_fgd_packing_of(s->gpu_free + s->gpu_begin[n], s->ngpu[n], s->n_full[n], p);
}

static int32_t fgd_int(const ss_fgd_state_t *s, int64_t before, int64_t after)
{
    double df = (double)(before - after) / (double)s->typical_denom;
    return (int32_t)(sigmoid(df / 1000.0) * (double)MAX_SCORE);
}

int64_t ss_fgd_cpu_usable(int64_t usable, int64_t cpu_free, int64_t cpu, int64_t mem_free,
                          int64_t mem, int32_t num_gpu)
{
    int64_t copies = -1;
    if (cpu > 0)
        copies = cpu_free / cpu;
    if (mem > 0 && (copies < 0 || mem_free / mem < copies))
        copies = mem_free / mem;
    if (copies < 0)
        return usable;
    int64_t cap = copies * num_gpu * SS_FGD_CPU_COPY_MILLI;
    return usable < cap ? usable : cap;
}

/* FGD's score with the plain, the CPU-aware or the model-aware measure:
 * the fragmentation before minus after, through the integer sigmoid; a
 * shared pod tries each fitting GPU (first index on ties). fill (fgd-fill,
 * model-aware only): the node's dead share (ss_fgd_fill_dead) joins the
 * fragmentation, weighted by the typical count so it reads in milli-GPU. */
static int32_t score_frag(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p, int32_t *gpu,
                          ss_fgd_frag_mode_t mode, bool fill)
{
    int32_t tmp[SS_MAX_GPUS_PER_NODE];
    int32_t ng = s->ngpu[n], model = s->model[n];
    const int32_t *g = s->gpu_free + s->gpu_begin[n];
    int64_t cpu_after = s->cpu_free[n] - p->cpu, mem_after = s->mem_free[n] - p->mem;
    int64_t before = mode != SS_FGD_FRAG_PLAIN
                         ? ss_fgd_frag_of(s, model, s->cpu_free[n], s->mem_free[n], g, ng, mode)
                         : s->frag[n];
    const ss_fgd_fill_t *fl = fill && mode == SS_FGD_FRAG_MODEL ? s->fill : NULL;
    if (fl)
        before += s->typical_denom * ss_fgd_fill_dead(fl, g, ng, s->cpu_free[n]);
    memcpy(tmp, g, (size_t)ng * sizeof *tmp);
    *gpu = -1;
    if (p->num_gpu == 1 && p->milli < SS_GPU_MILLI) {
        int32_t best = 0;
        for (int32_t i = 0; i < ng; i++) {
            if (g[i] < p->milli)
                continue;
            tmp[i] -= p->milli;
            int64_t after = ss_fgd_frag_of(s, model, cpu_after, mem_after, tmp, ng, mode);
            if (fl)
                after += s->typical_denom * ss_fgd_fill_dead(fl, tmp, ng, cpu_after);
            int32_t sc = fgd_int(s, before, after);
            tmp[i] += p->milli;
            if (*gpu < 0 || sc > best) {
                best = sc;
                *gpu = i;
            }
        }
        return best;
    }
    int32_t need = p->num_gpu;
    for (int32_t i = 0; i < ng && need > 0; i++)
        if (tmp[i] == SS_GPU_MILLI) {
            tmp[i] = 0;
            need--;
        }
    int64_t after = ss_fgd_frag_of(s, model, cpu_after, mem_after, tmp, ng, mode);
    if (fl)
        after += s->typical_denom * ss_fgd_fill_dead(fl, tmp, ng, cpu_after);
    return fgd_int(s, before, after);
}

int32_t ss_fgd_score_fgd(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p, int32_t *gpu)
{
    return score_frag(s, n, p, gpu, SS_FGD_FRAG_PLAIN, false);
}

/* fgd-cpu (this project's policy): FGD's rule on the CPU-aware measure. */
int32_t ss_fgd_score_cpu(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p, int32_t *gpu)
{
    return score_frag(s, n, p, gpu, SS_FGD_FRAG_CPU, false);
}

/* fgd-fill (this project's policy): the model-aware measure plus the dead
 * share. */
int32_t ss_fgd_score_fill(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p, int32_t *gpu)
{
    return score_frag(s, n, p, gpu, SS_FGD_FRAG_MODEL, true);
}

/* fgd-reserve (this project's policy): FGD for GPU pods. For CPU-only pods,
 * FGD's score first (its integer ties are wide: a CPU pod rarely changes a
 * node's fragmentation), then, among the tied nodes, the one with the most
 * cpu to spare beyond what its idle GPUs will need (RESERVE_CPU_PER_GPU
 * milli-cpu per idle GPU, about the cluster's cpu per GPU). CPU pods then stop
 * eating the cpu that GPU pods need later, which otherwise strands idle GPUs
 * on cpu-exhausted nodes. Lexicographic: fgd * 4096 + spare cores (clamped). */
#define RESERVE_CPU_PER_GPU SS_FGD_RESERVE_CPU_PER_GPU

int32_t ss_fgd_score_reserve(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p,
                             int32_t *gpu)
{
    int32_t f = ss_fgd_score_fgd(s, n, p, gpu);
    if (p->num_gpu > 0)
        return f * 4096;
    int64_t need = (int64_t)s->gpu_free_total[n] * RESERVE_CPU_PER_GPU / SS_GPU_MILLI;
    int64_t spare = (s->cpu_free[n] - p->cpu - need) / 1000 + 2048;
    spare = spare < 0 ? 0 : spare > 4095 ? 4095 : spare;
    return f * 4096 + (int32_t)spare;
}
