/* ss_state: free capacity per node and GPU (see ss_state.h). */
#include "ss_state.h"

#include <stdlib.h>
#include <string.h>

#include "ss_mig.h"
#include "ss_reason.h"

void ss_state_destroy(ss_state_t *s)
{
    if (!s)
        return;
    free(s->free_cpu);
    free(s->free_mem);
    free(s->free_pods);
    free(s->free_ext);
    free(s->gpu_free);
    free(s->version);
    free(s->tags);
    free(s->mig_used);
    free(s->mig_mem);
    free(s);
}

ss_state_t *ss_state_create(const ss_cluster_t *c)
{
    return ss_state_create_range(c, 0, c->n_nodes);
}

/* The MIG arrays: each instance's memory slices, from the profile table. */
static int mig_init(ss_state_t *s, int32_t lo, int32_t hi)
{
    const ss_cluster_t *c = s->c;
    s->mig_used = calloc(c->n_nodes > 0 ? (size_t)c->n_nodes : 1, sizeof *s->mig_used);
    s->mig_mem = calloc((size_t)c->n_mig_insts, sizeof *s->mig_mem);
    if (!s->mig_used || !s->mig_mem)
        return -1;
    int32_t glo = lo < hi ? c->node_gpu_begin[lo] : 0;
    int32_t ghi = lo < hi ? c->node_gpu_begin[hi - 1] + c->node_gpu_count[hi - 1] : 0;
    for (int32_t g = glo; g < ghi; g++) {
        if (!c->gpu_mig_model[g])
            continue;
        const ss_mig_model_t *m =
            ss_mig_model(ss_mig_find_model(ss_cluster_strget(c, c->gpu_mig_model[g])));
        for (int32_t i = c->gpu_mig_begin[g]; m && i < c->gpu_mig_begin[g] + c->gpu_mig_count[g];
             i++) {
            int p = ss_mig_find_profile(m, ss_cluster_strget(c, c->mig_insts[i].profile));
            s->mig_mem[i] = p >= 0 ? m->profiles[p].mem : 0;
        }
    }
    return 0;
}

ss_state_t *ss_state_create_range(const ss_cluster_t *c, int32_t lo, int32_t hi)
{
    ss_state_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    size_t n = c->n_nodes > 0 ? (size_t)c->n_nodes : 1;
    size_t g = c->n_gpus > 0 ? (size_t)c->n_gpus : 1;
    s->c = c;
    /* Zeroed, and written only for [lo, hi): the pages of other nodes are
     * never touched, so they take no memory. */
    s->free_cpu = calloc(n, sizeof *s->free_cpu);
    s->free_mem = calloc(n, sizeof *s->free_mem);
    s->free_pods = calloc(n, sizeof *s->free_pods);
    s->free_ext = calloc(n * SS_MAX_EXT, sizeof *s->free_ext);
    s->gpu_free = calloc(g, sizeof *s->gpu_free);
    s->version = calloc(n, sizeof *s->version);
    s->tags = calloc(n * SS_STATE_NTAGS, sizeof *s->tags);
    if (!s->free_cpu || !s->free_mem || !s->free_pods || !s->free_ext || !s->gpu_free ||
        !s->version || !s->tags) {
        ss_state_destroy(s);
        return NULL;
    }
    if (c->n_mig_insts > 0 && mig_init(s, lo, hi) != 0) {
        ss_state_destroy(s);
        return NULL;
    }
    size_t m = hi > lo ? (size_t)(hi - lo) : 0;
    if (m > 0) { /* a cluster without nodes has no arrays to copy from */
        memcpy(s->free_cpu + lo, c->node_cpu + lo, m * sizeof(int64_t));
        memcpy(s->free_mem + lo, c->node_mem + lo, m * sizeof(int64_t));
        memcpy(s->free_ext + (size_t)lo * SS_MAX_EXT, c->node_ext + (size_t)lo * SS_MAX_EXT,
               m * SS_MAX_EXT * sizeof(int64_t));
    }
    for (int32_t i = lo; i < hi; i++)
        s->free_pods[i] = c->node_pods[i];
    for (int32_t i = lo; i < hi; i++)
        for (int32_t k = c->node_gpu_begin[i]; k < c->node_gpu_begin[i] + c->node_gpu_count[i]; k++)
            s->gpu_free[k] = c->gpu_mig_model[k] ? 0 : c->gpu_milli[k]; /* MIG: instances only */
    for (int32_t p = 0; p < c->n_pods; p++)
        if (c->pod_node[p] >= lo && c->pod_node[p] < hi)
            ss_state_apply(s, &c->templates[c->pod_template[p]], c->pod_node[p], c->pod_gpu_mask[p],
                           +1);
    memset(s->version + lo, 0, m * sizeof *s->version);
    return s;
}

static bool model_allowed(const ss_cluster_t *c, const ss_template_t *t, int32_t gpu)
{
    if (t->model_count == 0)
        return true;
    for (int32_t k = 0; k < t->model_count; k++)
        if (c->models[t->model_begin + k] == c->gpu_model[gpu])
            return true;
    return false;
}

/* A MIG pod's instances (see ss_state_pick_gpus). */
static uint64_t pick_mig(const ss_state_t *s, const ss_template_t *t, int32_t node)
{
    const ss_cluster_t *c = s->c;
    int32_t b = c->node_gpu_begin[node], n = c->node_gpu_count[node];
    int32_t base[SS_MAX_GPUS_PER_NODE], slices[SS_MAX_GPUS_PER_NODE], avail[SS_MAX_GPUS_PER_NODE];
    uint64_t used = s->mig_used ? s->mig_used[node] : 0;
    int32_t idx = 0, total = 0;
    for (int32_t i = 0; i < n; i++) {
        int32_t g = b + i, k = c->gpu_mig_model[g] ? c->gpu_mig_count[g] : 0;
        base[i] = idx;
        slices[i] = avail[i] = 0;
        for (int32_t j = 0; j < k && idx + j < SS_MAX_MIG_PER_NODE; j++) {
            if (used >> (idx + j) & 1)
                continue;
            slices[i] += s->mig_mem[c->gpu_mig_begin[g] + j];
            avail[i] += c->mig_insts[c->gpu_mig_begin[g] + j].profile == t->mig_profile;
        }
        idx += k;
        total += avail[i];
    }
    if (total < t->mig_count)
        return UINT64_MAX;
    uint64_t mask = 0;
    for (int32_t got = 0; got < t->mig_count;) {
        int32_t best = -1;
        for (int32_t i = 0; i < n; i++)
            if (avail[i] > 0 && (best < 0 || slices[i] < slices[best]))
                best = i;
        int32_t g = b + best;
        for (int32_t j = 0; j < c->gpu_mig_count[g] && got < t->mig_count; j++) {
            int32_t bit = base[best] + j;
            if (!(used >> bit & 1) &&
                c->mig_insts[c->gpu_mig_begin[g] + j].profile == t->mig_profile) {
                mask |= UINT64_C(1) << bit;
                got++;
            }
        }
        avail[best] = 0;
    }
    return mask;
}

uint64_t ss_state_pick_gpus_from(const ss_cluster_t *c, const ss_template_t *t, int32_t node,
                                 const int32_t *free)
{
    if (t->mig_count > 0)
        return UINT64_MAX;
    int32_t need = t->req.gpu_count;
    if (need == 0)
        return 0;
    int32_t b = c->node_gpu_begin[node], n = c->node_gpu_count[node];
    if (n < need)
        return UINT64_MAX;
    uint64_t mask = 0;
    if (t->req.gpu_milli >= SS_GPU_MILLI) {
        int32_t got = 0;
        for (int32_t i = 0; i < n && got < need; i++)
            if (free[i] >= c->gpu_milli[b + i] && c->gpu_milli[b + i] >= SS_GPU_MILLI &&
                model_allowed(c, t, b + i)) {
                mask |= UINT64_C(1) << i;
                got++;
            }
        return got == need ? mask : UINT64_MAX;
    }
    int32_t best = -1;
    for (int32_t i = 0; i < n; i++) {
        int32_t f = free[i];
        if (f >= t->req.gpu_milli && model_allowed(c, t, b + i) && (best < 0 || f < free[best]))
            best = i;
    }
    return best < 0 ? UINT64_MAX : UINT64_C(1) << best;
}

uint64_t ss_state_pick_gpus(const ss_state_t *s, const ss_template_t *t, int32_t node)
{
    if (t->mig_count > 0)
        return s->mig_mem ? pick_mig(s, t, node) : UINT64_MAX;
    return ss_state_pick_gpus_from(s->c, t, node, s->gpu_free + s->c->node_gpu_begin[node]);
}

int ss_state_fit(const ss_state_t *s, const ss_template_t *t, int32_t node)
{
    const ss_request_t *r = &t->req;
    if (s->free_pods[node] < 1)
        return SS_REASON_PODS;
    if (s->free_cpu[node] < r->cpu_milli)
        return SS_REASON_CPU;
    if (s->free_mem[node] < r->memory)
        return SS_REASON_MEMORY;
    if (r->gpu_count > 0 && ss_state_pick_gpus(s, t, node) == UINT64_MAX)
        return SS_REASON_GPU;
    if (t->mig_count > 0 && ss_state_pick_gpus(s, t, node) == UINT64_MAX)
        return SS_REASON_MIG;
    for (int k = 0; k < s->c->n_ext; k++)
        if (r->ext[k] > 0 && s->free_ext[(size_t)node * SS_MAX_EXT + k] < r->ext[k])
            return SS_REASON_EXT;
    return SS_REASON_NONE;
}

/* The lowest free milli-GPU of an over-shared GPU: 64 of them still sum
 * within int32 (the policies add a node's GPUs up). */
#define GPU_FREE_MIN (-(INT32_C(1) << 24))

void ss_state_apply(ss_state_t *s, const ss_template_t *t, int32_t node, uint64_t gpu_mask,
                    int sign)
{
    const ss_cluster_t *c = s->c;
    /* Saturating: running pods may over-commit a node beyond int64 (the
     * format allows it); a clamped free capacity is hugely negative, so
     * nothing more fits, and the engine only undoes its own placements,
     * which fitted and so never clamp. */
    s->free_cpu[node] = ss_sat_sub64(s->free_cpu[node], sign * t->req.cpu_milli);
    s->free_mem[node] = ss_sat_sub64(s->free_mem[node], sign * t->req.memory);
    s->free_pods[node] = ss_sat_add32(s->free_pods[node], -sign);
    for (int k = 0; k < c->n_ext; k++) {
        int64_t *f = &s->free_ext[(size_t)node * SS_MAX_EXT + k];
        *f = ss_sat_sub64(*f, sign * t->req.ext[k]);
    }
    if (t->mig_count > 0) { /* gpu_mask holds node-local MIG instances */
        if (s->mig_used)
            s->mig_used[node] =
                sign > 0 ? s->mig_used[node] | gpu_mask : s->mig_used[node] & ~gpu_mask;
        s->version[node]++;
        return;
    }
    int32_t b = c->node_gpu_begin[node];
    for (uint64_t m = gpu_mask; m; m &= m - 1) {
        int32_t *f = &s->gpu_free[b + __builtin_ctzll(m)];
        *f = ss_sat_add32(*f, -(int64_t)sign * t->req.gpu_milli);
        if (*f < GPU_FREE_MIN) /* so that sums over a node's 64 GPUs fit in int32 */
            *f = GPU_FREE_MIN;
    }
    if (t->req.gpu_count > 0)
        s->tags[(size_t)node * SS_STATE_NTAGS + ss_state_tag(t)] += sign;
    s->version[node]++;
}

static int64_t fit_count(int64_t free, int64_t req, int64_t best)
{
    if (req <= 0)
        return best;
    int64_t k = free > 0 ? free / req : 0;
    return k < best ? k : best;
}

int64_t ss_state_slots(const ss_state_t *s, const ss_template_t *t, int32_t node)
{
    const ss_cluster_t *c = s->c;
    int64_t k = s->free_pods[node] > 0 ? s->free_pods[node] : 0;
    k = fit_count(s->free_cpu[node], t->req.cpu_milli, k);
    k = fit_count(s->free_mem[node], t->req.memory, k);
    for (int e = 0; e < c->n_ext; e++)
        k = fit_count(s->free_ext[(size_t)node * SS_MAX_EXT + e], t->req.ext[e], k);
    if (t->mig_count > 0) {
        int64_t free = 0;
        uint64_t used = s->mig_used ? s->mig_used[node] : UINT64_MAX;
        int32_t n = ss_cluster_node_mig_count(c, node);
        for (int32_t i = 0; i < n && i < SS_MAX_MIG_PER_NODE; i++)
            free +=
                !(used >> i & 1) &&
                c->mig_insts[ss_cluster_node_mig_inst(c, node, i, NULL)].profile == t->mig_profile;
        k = fit_count(free, t->mig_count, k);
    }
    if (t->req.gpu_count > 0) {
        int64_t gpus = 0;
        int32_t b = c->node_gpu_begin[node];
        for (int32_t i = 0; i < c->node_gpu_count[node]; i++) {
            if (!model_allowed(c, t, b + i))
                continue;
            if (t->req.gpu_milli >= SS_GPU_MILLI)
                gpus += s->gpu_free[b + i] >= c->gpu_milli[b + i] &&
                        c->gpu_milli[b + i] >= SS_GPU_MILLI;
            else
                gpus += s->gpu_free[b + i] >= t->req.gpu_milli;
        }
        k = fit_count(gpus, t->req.gpu_milli >= SS_GPU_MILLI ? t->req.gpu_count : 1, k);
    }
    return k;
}
