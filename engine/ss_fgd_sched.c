/* ss_fgd_sched: one-pod-at-a-time node choice for the replay policies, with
 * a score cache per (pod shape, node) that a node's version counter
 * invalidates.
 *
 * Workload: ~10,000 pods x ~1,200 nodes per run. Only the node that received
 * the previous pod changed, so almost every probe hits the cache and a pod
 * costs about one filter test and one cache read per node. */
#include <stdlib.h>

#include "ss_fgd.h"

struct ss_fgd_sched {
    ss_fgd_state_t *s;
    ss_fgd_score_f fn; /* NULL: Random */
    int32_t n_shapes;
    int32_t *rank;  /* tie-break: lower wins */
    int32_t *score; /* [shape * n_nodes + node] */
    int8_t *gpu;    /* cached GPU choice for shared pods */
    uint32_t *ver;  /* node version + 1 when the entry was filled; 0 = empty */
    int32_t *buf;   /* feasible nodes (Random) */
    ss_rng_t rng;
};

void ss_fgd_sched_destroy(ss_fgd_sched_t *k)
{
    if (!k)
        return;
    free(k->rank);
    free(k->score);
    free(k->gpu);
    free(k->ver);
    free(k->buf);
    free(k);
}

ss_fgd_sched_t *ss_fgd_sched_create(ss_fgd_state_t *s, ss_fgd_score_f score, int32_t n_shapes,
                                    const int32_t *node_rank, const ss_rng_t *rng)
{
    ss_fgd_sched_t *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    size_t nn = (size_t)(s->n_nodes > 0 ? s->n_nodes : 1);
    size_t cells = nn * (size_t)(n_shapes > 0 ? n_shapes : 1);
    k->s = s;
    k->fn = score;
    k->n_shapes = n_shapes;
    k->rank = malloc(nn * sizeof *k->rank);
    k->buf = malloc(nn * sizeof *k->buf);
    if (score) {
        k->score = malloc(cells * sizeof *k->score);
        k->gpu = malloc(cells * sizeof *k->gpu);
        k->ver = calloc(cells, sizeof *k->ver);
    }
    if (!k->rank || !k->buf || (score && (!k->score || !k->gpu || !k->ver))) {
        ss_fgd_sched_destroy(k);
        return NULL;
    }
    for (int32_t n = 0; n < s->n_nodes; n++)
        k->rank[n] = node_rank ? node_rank[n] : n;
    if (rng)
        k->rng = *rng;
    else
        ss_rng_seed(&k->rng, 0);
    return k;
}

/* Random policy: a uniform feasible node, then a uniform fitting GPU. */
static int32_t pick_random(ss_fgd_sched_t *k, const ss_fgd_pod_t *p, uint64_t *mask)
{
    const ss_fgd_state_t *s = k->s;
    int32_t cnt = 0;
    for (int32_t n = 0; n < s->n_nodes; n++)
        if (ss_fgd_fits(s, n, p))
            k->buf[cnt++] = n;
    if (cnt == 0)
        return -1;
    int32_t n = k->buf[ss_rng_below(&k->rng, (uint64_t)cnt)];
    int32_t gpu = -1;
    if (p->num_gpu == 1 && p->milli < SS_GPU_MILLI) {
        const int32_t *g = s->gpu_free + s->gpu_begin[n];
        int32_t fit[SS_MAX_GPUS_PER_NODE], nf = 0;
        for (int32_t i = 0; i < s->ngpu[n]; i++)
            if (g[i] >= p->milli)
                fit[nf++] = i;
        gpu = fit[ss_rng_below(&k->rng, (uint64_t)nf)];
    }
    *mask = ss_fgd_gpu_mask(s, n, p, gpu);
    return n;
}

int32_t ss_fgd_sched_pick(ss_fgd_sched_t *k, const ss_fgd_pod_t *p, uint64_t *mask)
{
    *mask = 0;
    if (!k->fn)
        return pick_random(k, p, mask);
    const ss_fgd_state_t *s = k->s;
    size_t base = (size_t)p->shape * (size_t)s->n_nodes;
    int32_t best_n = -1, best = 0, best_gpu = -1;
    for (int32_t n = 0; n < s->n_nodes; n++) {
        if (!ss_fgd_fits(s, n, p))
            continue;
        size_t idx = base + (size_t)n;
        if (k->ver[idx] != s->version[n] + 1u) {
            int32_t g = -1;
            k->score[idx] = k->fn(s, n, p, &g);
            k->gpu[idx] = (int8_t)g;
            k->ver[idx] = s->version[n] + 1u;
        }
        int32_t sc = k->score[idx];
        if (best_n < 0 || sc > best || (sc == best && k->rank[n] < k->rank[best_n])) {
            best_n = n;
            best = sc;
            best_gpu = k->gpu[idx];
        }
    }
    if (best_n < 0)
        return -1;
    if (p->num_gpu == 1 && p->milli < SS_GPU_MILLI && best_gpu < 0)
        best_gpu = ss_fgd_tightest_gpu(s, best_n, p->milli);
    *mask = ss_fgd_gpu_mask(s, best_n, p, best_gpu);
    return best_n;
}
