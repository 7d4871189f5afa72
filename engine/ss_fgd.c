/* ss_fgd: per-GPU node state, the typical-pod table and node fragmentation
 * (FGD paper, section 3), kept up to date one node at a time.
 *
 * Workload: ~10,000 placements on ~1,200 nodes per run; ss_fgd_apply runs
 * once per placement and recomputes only that node's fragmentation
 * (typical pods x GPUs, about 300 operations). */
#include "ss_fgd.h"

#include <stdlib.h>
#include <string.h>

void ss_fgd_state_destroy(ss_fgd_state_t *s)
{
    if (!s)
        return;
    free(s->cpu_cap);
    free(s->mem_cap);
    free(s->cpu_free);
    free(s->mem_free);
    free(s->model);
    free(s->gpu_begin);
    free(s->ngpu);
    free(s->gpu_free);
    free(s->gpu_cap);
    free(s->gpu_free_total);
    free(s->n_full);
    free(s->max_free);
    free(s->tag_count);
    free(s->frag);
    free(s->version);
    free(s->blocked);
    free(s->typical);
    free(s->fill);
    free(s);
}

static int model_index(ss_fgd_state_t *s, int32_t str)
{
    for (int32_t m = 0; m < s->n_models; m++)
        if (s->model_str[m] == str)
            return m;
    if (s->n_models == SS_FGD_MAX_MODELS)
        return -1;
    s->model_str[s->n_models] = str;
    return s->n_models++;
}

/* Recomputes the derived per-node aggregates (free total, fully free GPUs,
 * largest free share) from gpu_free. */
static void node_aggregates(ss_fgd_state_t *s, int32_t n)
{
    const int32_t *g = s->gpu_free + s->gpu_begin[n];
    int32_t tot = 0, full = 0, mx = 0;
    for (int32_t i = 0; i < s->ngpu[n]; i++) {
        tot += g[i];
        full += g[i] >= SS_GPU_MILLI;
        if (g[i] > mx)
            mx = g[i];
    }
    s->gpu_free_total[n] = tot;
    s->n_full[n] = full;
    s->max_free[n] = mx;
}

static int alloc_arrays(ss_fgd_state_t *s, int32_t nn, int32_t ng)
{
    size_t n = (size_t)(nn > 0 ? nn : 1), g = (size_t)(ng > 0 ? ng : 1);
    s->cpu_cap = calloc(n, sizeof(int64_t));
    s->mem_cap = calloc(n, sizeof(int64_t));
    s->cpu_free = calloc(n, sizeof(int64_t));
    s->mem_free = calloc(n, sizeof(int64_t));
    s->model = calloc(n, sizeof(int32_t));
    s->gpu_begin = calloc(n, sizeof(int32_t));
    s->ngpu = calloc(n, sizeof(int32_t));
    s->gpu_free = calloc(g, sizeof(int32_t));
    s->gpu_cap = calloc(g, sizeof(int32_t));
    s->gpu_free_total = calloc(n, sizeof(int32_t));
    s->n_full = calloc(n, sizeof(int32_t));
    s->max_free = calloc(n, sizeof(int32_t));
    s->tag_count = calloc(n * SS_FGD_NTAGS, sizeof(int32_t));
    s->frag = calloc(n, sizeof(int64_t));
    s->version = calloc(n, sizeof(uint32_t));
    s->blocked = calloc(n, 1);
    return s->blocked && s->cpu_cap && s->mem_cap && s->cpu_free && s->mem_free && s->model &&
           s->gpu_begin && s->ngpu && s->gpu_free && s->gpu_cap && s->gpu_free_total && s->n_full &&
           s->max_free && s->tag_count && s->frag && s->version;
}

int ss_fgd_state_create(const ss_cluster_t *c, ss_fgd_state_t **out, ss_error_t *err)
{
    *out = NULL;
    ss_fgd_state_t *s = calloc(1, sizeof *s);
    if (!s || !alloc_arrays(s, c->n_nodes, c->n_gpus)) {
        ss_fgd_state_destroy(s);
        return ss_error_set(err, SS_ENOMEM, "fgd state: out of memory");
    }
    s->n_nodes = c->n_nodes;
    int32_t g = 0;
    for (int32_t n = 0; n < c->n_nodes; n++) {
        s->cpu_cap[n] = s->cpu_free[n] = c->node_cpu[n];
        s->mem_cap[n] = s->mem_free[n] = c->node_mem[n];
        s->gpu_begin[n] = g;
        s->ngpu[n] = c->node_gpu_count[n];
        s->model[n] = -1;
        for (int32_t i = 0; i < c->node_gpu_count[n]; i++, g++) {
            int32_t rec = c->node_gpu_begin[n] + i;
            int m = model_index(s, c->gpu_model[rec]);
            if (m < 0 || (i > 0 && m != s->model[n])) {
                const char *nm = ss_cluster_strget(c, c->node_name[n]);
                int rc = m < 0 ? ss_error_set(err, SS_EUNSUPPORTED,
                                              "node %s: more than %d GPU models in the cluster", nm,
                                              SS_FGD_MAX_MODELS)
                               : ss_error_set(err, SS_EUNSUPPORTED,
                                              "node %s: GPUs of different models on one node", nm);
                ss_fgd_state_destroy(s);
                return rc;
            }
            s->model[n] = m;
            s->gpu_cap[g] = c->gpu_milli[rec];
            s->gpu_free[g] = c->gpu_mig_model[rec] ? 0 : c->gpu_milli[rec]; /* MIG: no whole use */
            s->gpu_cap_total += c->gpu_milli[rec];
        }
        s->cpu_cap_total += c->node_cpu[n];
        s->mem_cap_total += c->node_mem[n];
        node_aggregates(s, n);
    }
    *out = s;
    return 0;
}

void ss_fgd_pod_from_template(const ss_fgd_state_t *s, const ss_cluster_t *c, int32_t t,
                              ss_fgd_pod_t *p)
{
    const ss_template_t *tp = &c->templates[t];
    memset(p, 0, sizeof *p);
    p->cpu = tp->req.cpu_milli;
    p->mem = tp->req.memory;
    p->num_gpu = tp->req.gpu_count;
    p->milli = tp->req.gpu_count > 0 ? tp->req.gpu_milli : 0;
    for (int32_t i = 0; i < tp->model_count; i++) {
        int32_t str = c->models[tp->model_begin + i];
        uint64_t bit = SS_FGD_NO_MODEL;
        for (int32_t m = 0; m < s->n_models; m++)
            if (s->model_str[m] == str)
                bit = 1ull << m;
        p->models |= bit;
    }
}

static bool model_ok(uint64_t models, int32_t node_model)
{
    if (!models)
        return true;
    return node_model >= 0 && (models >> node_model & 1);
}

bool ss_fgd_fits(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p)
{
    if (s->cpu_free[n] < p->cpu || s->mem_free[n] < p->mem || s->blocked[n])
        return false;
    if (p->num_gpu == 0)
        return true;
    if (!model_ok(p->models, s->model[n]))
        return false;
    if (p->num_gpu == 1)
        return s->max_free[n] >= p->milli;
    return s->n_full[n] >= p->num_gpu;
}

int64_t ss_fgd_frag_of(const ss_fgd_state_t *s, int32_t model, int64_t cpu_free, int64_t mem_free,
                       const int32_t *gpu_free, int32_t ngpu, ss_fgd_frag_mode_t mode)
{
    int64_t total = 0;
    for (int32_t i = 0; i < ngpu; i++)
        total += gpu_free[i];
    if (total == 0)
        return 0;
    int64_t sum = 0;
    for (int32_t t = 0; t < s->n_typical; t++) {
        const ss_fgd_typical_t *tp = &s->typical[t];
        int64_t amount = total;
        if (mode == SS_FGD_FRAG_MODEL && tp->milli > 0 && !model_ok(tp->models, model))
            continue; /* this node is none of its business */
        if (tp->milli > 0 && model_ok(tp->models, model) && cpu_free >= tp->cpu) {
            int32_t fit = 0;
            int64_t usable = 0;
            for (int32_t i = 0; i < ngpu; i++)
                if (gpu_free[i] >= tp->milli) {
                    fit++;
                    usable += gpu_free[i];
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

static int64_t node_frag(const ss_fgd_state_t *s, int32_t n)
{
    return ss_fgd_frag_of(s, s->model[n], s->cpu_free[n], s->mem_free[n],
                          s->gpu_free + s->gpu_begin[n], s->ngpu[n], SS_FGD_FRAG_PLAIN);
}

static int typical_cmp(const void *a, const void *b)
{
    const ss_fgd_typical_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    /* ties: larger (cpu, milli, num_gpu, models) first */
    if (x->cpu != y->cpu)
        return x->cpu > y->cpu ? -1 : 1;
    if (x->milli != y->milli)
        return x->milli > y->milli ? -1 : 1;
    if (x->num_gpu != y->num_gpu)
        return x->num_gpu > y->num_gpu ? -1 : 1;
    if (x->models != y->models)
        return x->models > y->models ? -1 : 1;
    return 0;
}

static int key_cmp(const void *a, const void *b)
{
    const ss_fgd_typical_t *x = a, *y = b;
    if (x->cpu != y->cpu)
        return x->cpu < y->cpu ? -1 : 1;
    if (x->milli != y->milli)
        return x->milli < y->milli ? -1 : 1;
    if (x->num_gpu != y->num_gpu)
        return x->num_gpu < y->num_gpu ? -1 : 1;
    if (x->models != y->models)
        return x->models < y->models ? -1 : 1;
    return 0;
}

int ss_fgd_typical_build(const ss_fgd_pod_t *pods, int32_t n, bool all, ss_fgd_typical_t **table,
                         int32_t *n_typical, int64_t *denom, ss_error_t *err)
{
    ss_fgd_typical_t *t = calloc((size_t)(n > 0 ? n : 1), sizeof *t);
    if (!t)
        return ss_error_set(err, SS_ENOMEM, "typical pods: out of memory");
    for (int32_t i = 0; i < n; i++) {
        t[i].cpu = pods[i].cpu;
        t[i].milli = pods[i].milli;
        t[i].num_gpu = pods[i].num_gpu;
        t[i].models = pods[i].models;
        t[i].count = 1;
        t[i].mem = pods[i].mem;
    }
    qsort(t, (size_t)n, sizeof *t, key_cmp);
    int32_t k = 0; /* merge equal keys */
    for (int32_t i = 0; i < n; i++) {
        if (k > 0 && key_cmp(&t[k - 1], &t[i]) == 0) {
            t[k - 1].count++;
            t[k - 1].mem += t[i].mem; /* summed here, the mean below */
        } else
            t[k++] = t[i];
    }
    for (int32_t i = 0; i < k; i++)
        t[i].mem /= t[i].count;
    qsort(t, (size_t)k, sizeof *t, typical_cmp);
    int64_t cum = 0;
    int32_t keep = 0;
    while (keep < k && (all || cum * 100 < (int64_t)SS_FGD_COVERAGE_PCT * n))
        cum += t[keep++].count;
    *table = t;
    *n_typical = keep;
    *denom = cum > 0 ? cum : 1;
    return 0;
}

int ss_fgd_set_typical(ss_fgd_state_t *s, const ss_fgd_pod_t *pods, int32_t n, bool all,
                       ss_error_t *err)
{
    ss_fgd_typical_t *t = NULL;
    int32_t keep = 0;
    int64_t denom = 1;
    int rc = ss_fgd_typical_build(pods, n, all, &t, &keep, &denom, err);
    if (rc)
        return rc;
    if (!s->fill && !(s->fill = malloc(sizeof *s->fill))) {
        free(t);
        return ss_error_set(err, SS_ENOMEM, "typical pods: out of memory");
    }
    ss_fgd_fill_build(t, keep, s->fill);
    free(s->typical);
    s->typical = t;
    s->n_typical = keep;
    s->typical_denom = denom;
    s->frag_total = 0;
    for (int32_t i = 0; i < s->n_nodes; i++) {
        s->frag[i] = node_frag(s, i);
        s->frag_total += s->frag[i];
        s->version[i]++;
    }
    return 0;
}

int32_t ss_fgd_tightest_gpu(const ss_fgd_state_t *s, int32_t n, int32_t milli)
{
    const int32_t *g = s->gpu_free + s->gpu_begin[n];
    int32_t best = -1;
    for (int32_t i = 0; i < s->ngpu[n]; i++)
        if (g[i] >= milli && (best < 0 || g[i] < g[best]))
            best = i;
    return best;
}

uint64_t ss_fgd_gpu_mask(const ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p, int32_t gpu)
{
    if (p->num_gpu == 0)
        return 0;
    if (p->num_gpu == 1 && p->milli < SS_GPU_MILLI)
        return gpu >= 0 ? 1ull << gpu : 0;
    const int32_t *g = s->gpu_free + s->gpu_begin[n];
    uint64_t mask = 0;
    int32_t need = p->num_gpu;
    for (int32_t i = 0; i < s->ngpu[n] && need > 0; i++)
        if (g[i] == SS_GPU_MILLI) {
            mask |= 1ull << i;
            need--;
        }
    return need == 0 ? mask : 0;
}

static int tag_of(const ss_fgd_pod_t *p)
{
    if (p->milli < SS_GPU_MILLI)
        return 0;
    return p->num_gpu <= 8 ? p->num_gpu : SS_FGD_NTAGS - 1;
}

void ss_fgd_apply(ss_fgd_state_t *s, int32_t n, const ss_fgd_pod_t *p, uint64_t mask, int sign)
{
    s->cpu_free[n] -= sign * p->cpu;
    s->mem_free[n] -= sign * p->mem;
    s->cpu_alloc += sign * p->cpu;
    s->mem_alloc += sign * p->mem;
    int32_t *g = s->gpu_free + s->gpu_begin[n];
    for (int32_t i = 0; i < s->ngpu[n]; i++)
        if (mask >> i & 1) {
            g[i] -= sign * p->milli;
            s->gpu_alloc += sign * p->milli;
        }
    if (p->num_gpu > 0)
        s->tag_count[(size_t)n * SS_FGD_NTAGS + tag_of(p)] += sign;
    node_aggregates(s, n);
    int64_t f = node_frag(s, n);
    s->frag_total += f - s->frag[n];
    s->frag[n] = f;
    s->version[n]++;
}

void ss_fgd_set_blocked(ss_fgd_state_t *s, int32_t n, bool blocked)
{
    s->blocked[n] = blocked;
    s->version[n]++;
}

double ss_fgd_frag_rate(const ss_fgd_state_t *s)
{
    int64_t idle = s->gpu_cap_total - s->gpu_alloc;
    if (idle <= 0)
        return 0.0;
    return 100.0 * ((double)s->frag_total / (double)s->typical_denom) / (double)idle;
}
