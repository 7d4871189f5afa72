/* ss_fgd_policy: the registry of replay placement policies and their integer
 * node scores: the six policies of the FGD paper as its public simulator
 * computes them (integer truncation included: it decides how many nodes tie,
 * and ties decide how tightly pods pack; see docs/evaluation.md), the
 * project's own "fgd-reserve", and simple kube-style cpu+memory scores for
 * least-allocated, most-allocated and balanced.
 *
 * Every score is a pure function of (node state, pod), so the scheduler
 * caches it per (node, pod shape) until the node changes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ss_fgd.h"

#define MAX_SCORE 100
#define NORM_CPU 128000.0 /* the simulator's normalisers: largest node */
#define NORM_GPU 8000.0

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

int32_t ss_fgd_score_packing(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p,
                             int32_t *gpu)
{
    *gpu = -1;
    if (p->milli <= 0)
        return 0;
    int32_t ng = s->ngpu[n];
    if (s->n_full[n] == ng) /* an idle node */
        return MAX_SCORE / 3 - ng > ng ? MAX_SCORE / 3 - ng : ng;
    /* the tightest fitting GPUs, ascending by free share (stable) */
    const int32_t *g = s->gpu_free + s->gpu_begin[n];
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

static int32_t fgd_int(const ss_fgd_state_t *s, int64_t before, int64_t after)
{
    double df = (double)(before - after) / (double)s->typical_denom;
    return (int32_t)(sigmoid(df / 1000.0) * (double)MAX_SCORE);
}

int32_t ss_fgd_score_fgd(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p, int32_t *gpu)
{
    int32_t tmp[SS_MAX_GPUS_PER_NODE];
    int32_t ng = s->ngpu[n];
    const int32_t *g = s->gpu_free + s->gpu_begin[n];
    int64_t before = s->frag[n], cpu_after = s->cpu_free[n] - p->cpu;
    memcpy(tmp, g, (size_t)ng * sizeof *tmp);
    *gpu = -1;
    if (p->num_gpu == 1 && p->milli < SS_GPU_MILLI) {
        int32_t best = 0;
        for (int32_t i = 0; i < ng; i++) {
            if (g[i] < p->milli)
                continue;
            tmp[i] -= p->milli;
            int32_t sc = fgd_int(s, before, ss_fgd_frag_of(s, s->model[n], cpu_after, tmp, ng));
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
    return fgd_int(s, before, ss_fgd_frag_of(s, s->model[n], cpu_after, tmp, ng));
}

/* fgd-reserve (this project's policy): FGD for GPU pods. For CPU-only pods,
 * FGD's score first (its integer ties are wide: a CPU pod rarely changes a
 * node's fragmentation), then, among the tied nodes, the one with the most
 * cpu to spare beyond what its idle GPUs will need (RESERVE_CPU_PER_GPU
 * milli-cpu per idle GPU, about the cluster's cpu per GPU). CPU pods then stop
 * eating the cpu that GPU pods need later, which otherwise strands idle GPUs
 * on cpu-exhausted nodes. Lexicographic: fgd * 4096 + spare cores (clamped). */
#define RESERVE_CPU_PER_GPU 12000

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

/* kube-style scores on cpu and memory, 0..100, integer as kube-scheduler's */
static int32_t score_least(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p, int32_t *gpu)
{
    *gpu = -1;
    int64_t c = s->cpu_cap[n] ? (s->cpu_free[n] - p->cpu) * 100 / s->cpu_cap[n] : 0;
    int64_t m = s->mem_cap[n] ? (s->mem_free[n] - p->mem) * 100 / s->mem_cap[n] : 0;
    return (int32_t)((c + m) / 2);
}

static int32_t score_most(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p, int32_t *gpu)
{
    *gpu = -1;
    int64_t c = s->cpu_cap[n] ? (s->cpu_cap[n] - s->cpu_free[n] + p->cpu) * 100 / s->cpu_cap[n] : 0;
    int64_t m = s->mem_cap[n] ? (s->mem_cap[n] - s->mem_free[n] + p->mem) * 100 / s->mem_cap[n] : 0;
    return (int32_t)((c + m) / 2);
}

static int32_t score_balanced(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p,
                              int32_t *gpu)
{
    *gpu = -1;
    double c = s->cpu_cap[n]
                   ? (double)(s->cpu_cap[n] - s->cpu_free[n] + p->cpu) / (double)s->cpu_cap[n]
                   : 0;
    double m = s->mem_cap[n]
                   ? (double)(s->mem_cap[n] - s->mem_free[n] + p->mem) / (double)s->mem_cap[n]
                   : 0;
    return (int32_t)((1.0 - fabs(c - m)) * MAX_SCORE);
}

static const ss_fgd_policy_t policies[] = {
    {1, "random", "uniform choice among the nodes that fit", NULL, true},
    {1, "dotprod", "Tetris dot product of free and requested (cpu, gpu)", ss_fgd_score_dotprod,
     false},
    {1, "gpuclustering", "keep GPU pods of one kind together", ss_fgd_score_clustering, false},
    {1, "gpupacking", "shared GPUs first, then used nodes, then idle nodes", ss_fgd_score_packing,
     false},
    {1, "bestfit", "least free cpu and GPU left after placement", ss_fgd_score_bestfit, false},
    {1, "fgd", "fragmentation gradient descent (ATC'23)", ss_fgd_score_fgd, false},
    {1, "fgd-reserve", "FGD; CPU pods keep cpu for idle GPUs (this project)", ss_fgd_score_reserve,
     false},
    {1, "least-allocated", "most free cpu+memory after placement", score_least, false},
    {1, "most-allocated", "least free cpu+memory after placement", score_most, false},
    {1, "balanced", "cpu and memory fractions closest", score_balanced, false},
};
#define NPOLICIES ((int)(sizeof policies / sizeof policies[0]))

const ss_fgd_policy_t *ss_fgd_policy_find(const char *name)
{
    for (int i = 0; i < NPOLICIES; i++)
        if (name && !strcasecmp(name, policies[i].name))
            return &policies[i];
    return NULL;
}

const ss_fgd_policy_t *ss_fgd_policy_at(int i)
{
    return i >= 0 && i < NPOLICIES ? &policies[i] : NULL;
}

int ss_fgd_policy_count(void)
{
    return NPOLICIES;
}
