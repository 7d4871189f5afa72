/* ss_replay_mig: the MIG what-if of the FGD protocol (see ss_replay_mig.h
 * and docs/evaluation.md, "MIG what-if").
 *
 * Workload: the OpenB trace, ~10,500 pods on 1,213 nodes (6,212 GPUs), of
 * which ~4,000 are MIG pods; each costs one filter test and one score-cache
 * probe per node (the cache is keyed by (template, node) and invalidated by
 * the state's node version), like ss_fgd_sched. */
#include "ss_replay_mig.h"

#include <stdlib.h>
#include <string.h>

#define NPROF 7              /* profiles of A100-80GB */
#define MIG_VIEW_MAX 999     /* a MIG GPU never looks fully free */
#define SEED_MIG 0x6d6967ull /* Random's own stream for MIG pods */

const char *const ss_replay_mig_modes[] = {"off",      "fixed:all-1g.10gb", "fixed:half-3g.40gb",
                                           "relayout", "fixed:trace-mix",   NULL};

struct ss_replay_mig {
    ss_fgd_state_t *s;
    const ss_mig_model_t *model;
    int mode;
    ss_fgd_score_f score;
    int32_t n_shapes;
    const int32_t *rank;
    ss_rng_t rng;
    uint8_t *mig;                /* [gpu]: 1 = in MIG mode */
    uint8_t *held;               /* [gpu]: instance bits held by pods */
    ss_mig_layout_t *layout;     /* [gpu] */
    int16_t *free_cnt;           /* [node * NPROF + profile]: free instances */
    int32_t *cache_score;        /* [shape * n_nodes + node] */
    uint32_t *cache_ver;         /* node version + 1, 0 = empty */
    int32_t *buf;                /* feasible nodes (Random) */
    ss_mig_layout_t best[NPROF]; /* relayout's layout per profile */
    int32_t unused_c, unused_m, n_mig;
    int64_t relayouts;
};

static const ss_mig_model_t *a100(void)
{
    return ss_mig_model(ss_mig_find_model("A100-80GB"));
}

int ss_replay_mig_profile(int32_t milli)
{
    const ss_mig_model_t *m = a100();
    int best = -1;
    if (milli <= 0 || milli >= SS_GPU_MILLI)
        return -1;
    for (int p = 0; p < m->n_profiles; p++) {
        const ss_mig_profile_t *q = &m->profiles[p];
        if (q->media || q->compute * 1000 < 7 * milli || q->mem * 1000 < 8 * milli)
            continue;
        if (best < 0 || q->mem < m->profiles[best].mem ||
            (q->mem == m->profiles[best].mem && q->compute < m->profiles[best].compute))
            best = p;
    }
    return best;
}

int32_t ss_replay_mig_milli(int p)
{
    int32_t v = a100()->profiles[p].compute * SS_GPU_MILLI / SS_MIG_COMPUTE_SLICES;
    return v > MIG_VIEW_MAX ? MIG_VIEW_MAX : v;
}

bool ss_replay_mig_pod(const ss_fgd_pod_t *p)
{
    return p->num_gpu == 1 && p->milli > 0 && p->milli < SS_GPU_MILLI;
}

void ss_replay_mig_view(ss_fgd_pod_t *pods, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        if (ss_replay_mig_pod(&pods[i]))
            pods[i].milli = ss_replay_mig_milli(ss_replay_mig_profile(pods[i].milli));
}

void ss_replay_mig_destroy(ss_replay_mig_t *m)
{
    if (!m)
        return;
    free(m->mig);
    free(m->held);
    free(m->layout);
    free(m->free_cnt);
    free(m->cache_score);
    free(m->cache_ver);
    free(m->buf);
    free(m);
}

/* The state's view of GPU g: the compute share of its unused instances. */
static int32_t gpu_view(const ss_replay_mig_t *m, int32_t g)
{
    int32_t v = 0;
    const ss_mig_layout_t *l = &m->layout[g];
    for (int i = 0; i < l->n; i++)
        if (!(m->held[g] >> i & 1))
            v += m->model->profiles[l->inst[i].profile].compute * SS_GPU_MILLI /
                 SS_MIG_COMPUTE_SLICES;
    return v > MIG_VIEW_MAX ? MIG_VIEW_MAX : v;
}

/* Moves GPU i of node n to the view's free share: a pod-less adjustment
 * (cpu 0; the allocation total is left as it was). */
static void set_view(ss_replay_mig_t *m, int32_t n, int32_t i, int32_t target)
{
    ss_fgd_state_t *s = m->s;
    int32_t delta = s->gpu_free[s->gpu_begin[n] + i] - target;
    if (delta == 0)
        return;
    ss_fgd_pod_t adj = {0, 0, 0, delta, 0, 0};
    ss_fgd_apply(s, n, &adj, 1ull << i, +1);
    s->gpu_alloc -= delta;
}

/* Puts GPU i of node n (whole, free) in MIG mode with layout l. */
static void make_mig(ss_replay_mig_t *m, int32_t n, int32_t i, const ss_mig_layout_t *l)
{
    int32_t g = m->s->gpu_begin[n] + i;
    int uc, um;
    m->mig[g] = 1;
    m->held[g] = 0;
    m->layout[g] = *l;
    ss_mig_unused(m->model, l, &uc, &um);
    m->unused_c += uc;
    m->unused_m += um;
    for (int k = 0; k < l->n; k++) {
        const ss_mig_profile_t *q = &m->model->profiles[l->inst[k].profile];
        m->unused_c += q->compute;
        m->unused_m += q->mem;
        m->free_cnt[(size_t)n * NPROF + l->inst[k].profile]++;
    }
    m->n_mig++;
    set_view(m, n, i, gpu_view(m, g));
}

/* A maximal canonical layout of A100-80GB without media profiles. */
typedef struct {
    ss_mig_layout_t l;
    int32_t cnt[NPROF];
    int uncovered; /* compute slices no instance covers */
} cand_t;

/* The candidates in enumeration order into c (SS_MIG_MAX_LAYOUTS); their
 * count. */
static int candidates(const ss_mig_model_t *md, cand_t *c, ss_mig_layout_t *all)
{
    int nl = ss_mig_enumerate(md, true, all, SS_MIG_MAX_LAYOUTS), nc = 0;
    for (int k = 0; k < nl; k++) {
        cand_t x = {.cnt = {0}};
        bool media = false;
        for (int i = 0; i < all[k].n; i++) {
            x.cnt[all[k].inst[i].profile]++;
            media |= md->profiles[all[k].inst[i].profile].media != 0;
        }
        int um;
        if (media || ss_mig_canonical(md, x.cnt, &x.l, NULL))
            continue;
        ss_mig_unused(md, &x.l, &x.uncovered, &um);
        c[nc++] = x;
    }
    return nc;
}

/* Relayout's rule: of the candidates holding an instance of profile p, the
 * one whose other instances are worth most, an instance being worth its
 * compute slices x w[its profile] (the trace's MIG pods asking for that
 * profile: size times how often pods want it); ties: fewer uncovered
 * compute slices, then the first in enumeration order. */
static void choose_best(ss_replay_mig_t *m, const cand_t *c, int nc, const int64_t *w)
{
    int64_t best_v[NPROF], own[NPROF];
    int best_u[NPROF];
    for (int q = 0; q < NPROF; q++) {
        best_v[q] = -1, best_u[q] = 0;
        own[q] = w[q] * m->model->profiles[q].compute;
    }
    for (int k = 0; k < nc; k++) {
        int64_t v = 0;
        for (int q = 0; q < NPROF; q++)
            v += c[k].cnt[q] * own[q];
        for (int p = 0; p < NPROF; p++)
            if (c[k].cnt[p] > 0 && (v - own[p] > best_v[p] ||
                                    (v - own[p] == best_v[p] && c[k].uncovered < best_u[p]))) {
                best_v[p] = v - own[p];
                best_u[p] = c[k].uncovered;
                m->best[p] = c[k].l;
            }
    }
}

/* trace-mix: the candidate that serves most of what the trace's mix still
 * lacks. Profile q should get w[q] x n_mig / W instances (W = the GPUs all
 * MIG pods fill, sum w[q] x compute[q] / 7) and has got sup[q]; a layout is
 * worth sum compute[q] x min(its q instances, the shortfall), in units of
 * 1 / (7 W); ties: fewer uncovered compute slices, then enumeration order.
 * Adds the choice to sup. */
static const ss_mig_layout_t *mix_layout(const ss_replay_mig_t *m, const cand_t *c, int nc,
                                         const int64_t *w, int64_t n_mig, int64_t *sup)
{
    int64_t w7 = 0, best_v = -1;
    int best = 0;
    for (int q = 0; q < NPROF; q++)
        w7 += w[q] * m->model->profiles[q].compute;
    for (int k = 0; k < nc; k++) {
        int64_t v = 0;
        for (int q = 0; q < NPROF; q++) {
            int64_t lack = w[q] * n_mig * 7 - sup[q] * w7, have = c[k].cnt[q] * w7;
            v += m->model->profiles[q].compute * (lack <= 0 ? 0 : have < lack ? have : lack);
        }
        if (v > best_v || (v == best_v && c[k].uncovered < c[best].uncovered)) {
            best_v = v;
            best = k;
        }
    }
    for (int q = 0; q < NPROF; q++)
        sup[q] += c[best].cnt[q];
    return &c[best].l;
}

/* Whether node n's GPUs go MIG in a fixed mode: when that brings the MIG
 * GPUs closer to share num/den of the GPUs so far (error diffusion in node
 * order; *cum and *mig: GPUs so far, MIG GPUs so far, updated). */
static bool node_goes_mig(int32_t ng, int64_t num, int64_t den, int64_t *cum, int64_t *mig)
{
    if (ng == 0 || den <= 0)
        return false;
    *cum += ng;
    if ((2 * *mig + ng) * den >= 2 * *cum * num)
        return false;
    *mig += ng;
    return true;
}

/* Fixed modes: the nodes node_goes_mig picks; all-1g: every MIG GPU 7 x
 * 1g.10gb; half-3g: the MIG GPUs alternate 2 x 3g.40gb, 7 x 1g.10gb in GPU
 * order, starting with 3g; trace-mix: mix_layout in GPU order. */
static void lay_fixed(ss_replay_mig_t *m, int64_t num, int64_t den, const cand_t *c, int nc,
                      const int64_t *w)
{
    ss_fgd_state_t *s = m->s;
    int32_t c1[NPROF] = {0}, c3[NPROF] = {0};
    ss_mig_layout_t l1, l3;
    c1[ss_mig_find_profile(m->model, "1g.10gb")] = 7;
    c3[ss_mig_find_profile(m->model, "3g.40gb")] = 2;
    ss_mig_canonical(m->model, c1, &l1, NULL);
    ss_mig_canonical(m->model, c3, &l3, NULL);
    int64_t cum = 0, n_mig = 0, k = 0, sup[NPROF] = {0};
    for (int32_t n = 0; n < s->n_nodes; n++) /* first pass: how many */
        node_goes_mig(s->ngpu[n], num, den, &cum, &n_mig);
    int64_t cum2 = 0, mig2 = 0;
    for (int32_t n = 0; n < s->n_nodes; n++) {
        if (!node_goes_mig(s->ngpu[n], num, den, &cum2, &mig2))
            continue;
        for (int32_t i = 0; i < s->ngpu[n]; i++, k++) {
            const ss_mig_layout_t *l = &l1;
            if (m->mode == SS_REPLAY_MIG_HALF_3G && k % 2 == 0)
                l = &l3;
            else if (m->mode == SS_REPLAY_MIG_TRACE_MIX)
                l = mix_layout(m, c, nc, w, n_mig, sup);
            make_mig(m, n, i, l);
        }
    }
}

/* The trace's MIG pods per profile (w), and the share of GPUs the fixed
 * modes lay out: the MIG pods' share of the trace's GPU milli (all-1g,
 * half-3g), or, for trace-mix, their instances' share (compute / 7 each)
 * next to the whole-GPU pods' GPUs. */
static int setup(ss_replay_mig_t *m, const ss_fgd_pod_t *orig, int32_t n, ss_error_t *err)
{
    int64_t w[NPROF] = {0}, frac = 0, total = 0, inst7 = 0;
    for (int32_t i = 0; i < n; i++) {
        total += (int64_t)orig[i].num_gpu * orig[i].milli;
        if (ss_replay_mig_pod(&orig[i])) {
            int q = ss_replay_mig_profile(orig[i].milli);
            w[q]++;
            frac += orig[i].milli;
            inst7 += m->model->profiles[q].compute * SS_GPU_MILLI;
        }
    }
    cand_t *c = malloc(SS_MIG_MAX_LAYOUTS * sizeof *c);
    ss_mig_layout_t *all = malloc(SS_MIG_MAX_LAYOUTS * sizeof *all);
    if (!c || !all) {
        free(c);
        free(all);
        return ss_error_set(err, SS_ENOMEM, "mig replay: out of memory");
    }
    int nc = candidates(m->model, c, all);
    if (m->mode == SS_REPLAY_MIG_RELAYOUT)
        choose_best(m, c, nc, w);
    else if (m->mode == SS_REPLAY_MIG_TRACE_MIX)
        lay_fixed(m, inst7, inst7 + 7 * (total - frac), c, nc, w);
    else
        lay_fixed(m, frac, total, c, nc, w);
    free(c);
    free(all);
    return 0;
}

int ss_replay_mig_create(ss_fgd_state_t *s, int mode, const ss_fgd_pod_t *orig, int32_t n,
                         ss_fgd_score_f score, int32_t n_shapes, const int32_t *rank, uint64_t seed,
                         ss_replay_mig_t **out, ss_error_t *err)
{
    *out = NULL;
    if (mode <= SS_REPLAY_MIG_OFF || mode > SS_REPLAY_MIG_TRACE_MIX)
        return ss_error_set(err, SS_EINVAL, "mig replay: unknown mode %d", mode);
    ss_replay_mig_t *m = calloc(1, sizeof *m);
    size_t ng =
        (size_t)(s->n_nodes > 0 ? s->gpu_begin[s->n_nodes - 1] + s->ngpu[s->n_nodes - 1] : 0) + 1;
    size_t nn = (size_t)(s->n_nodes > 0 ? s->n_nodes : 1);
    size_t cells = nn * (size_t)(n_shapes > 0 ? n_shapes : 1);
    if (m) {
        m->mig = calloc(ng, 1);
        m->held = calloc(ng, 1);
        m->layout = calloc(ng, sizeof *m->layout);
        m->free_cnt = calloc(nn * NPROF, sizeof *m->free_cnt);
        m->cache_score = malloc(cells * sizeof *m->cache_score);
        m->cache_ver = calloc(cells, sizeof *m->cache_ver);
        m->buf = malloc(nn * sizeof *m->buf);
    }
    if (!m || !m->mig || !m->held || !m->layout || !m->free_cnt || !m->cache_score ||
        !m->cache_ver || !m->buf) {
        ss_replay_mig_destroy(m);
        return ss_error_set(err, SS_ENOMEM, "mig replay: out of memory");
    }
    m->s = s;
    m->model = a100();
    m->mode = mode;
    m->score = score;
    m->n_shapes = n_shapes;
    m->rank = rank;
    ss_rng_seed(&m->rng, seed ^ SEED_MIG);
    int rc = setup(m, orig, n, err);
    if (rc) {
        ss_replay_mig_destroy(m);
        return rc;
    }
    *out = m;
    return 0;
}

/* Whether node n can serve profile p: a free instance (idle = false), or
 * an idle whole GPU to lay out (idle = true). */
static bool serves(const ss_replay_mig_t *m, int32_t n, int p, bool idle)
{
    return idle ? m->s->n_full[n] > 0 : m->free_cnt[(size_t)n * NPROF + p] > 0;
}

/* The policy's node for q among the nodes that serve profile p; -1 none. */
static int32_t pick_node(ss_replay_mig_t *m, const ss_fgd_pod_t *q, int p, bool idle)
{
    const ss_fgd_state_t *s = m->s;
    size_t base = (size_t)q->shape * (size_t)s->n_nodes;
    int32_t best_n = -1, best = 0, cnt = 0;
    for (int32_t n = 0; n < s->n_nodes; n++) {
        if (!serves(m, n, p, idle) || !ss_fgd_fits(s, n, q))
            continue;
        if (!m->score) {
            m->buf[cnt++] = n;
            continue;
        }
        size_t idx = base + (size_t)n;
        if (m->cache_ver[idx] != s->version[n] + 1u) {
            int32_t g = -1;
            m->cache_score[idx] = m->score(s, n, q, &g);
            m->cache_ver[idx] = s->version[n] + 1u;
        }
        int32_t sc = m->cache_score[idx];
        if (best_n < 0 || sc > best || (sc == best && m->rank[n] < m->rank[best_n])) {
            best_n = n;
            best = sc;
        }
    }
    if (!m->score && cnt > 0)
        best_n = m->buf[ss_rng_below(&m->rng, (uint64_t)cnt)];
    return best_n;
}

/* Free memory slices in GPU g's unused instances. */
static int free_mem(const ss_replay_mig_t *m, int32_t g)
{
    int v = 0;
    for (int i = 0; i < m->layout[g].n; i++)
        if (!(m->held[g] >> i & 1))
            v += m->model->profiles[m->layout[g].inst[i].profile].mem;
    return v;
}

/* The first free instance of profile p on GPU g, or -1. */
static int free_inst(const ss_replay_mig_t *m, int32_t g, int p)
{
    for (int i = 0; m->mig[g] && i < m->layout[g].n; i++)
        if (m->layout[g].inst[i].profile == p && !(m->held[g] >> i & 1))
            return i;
    return -1;
}

/* Node n's GPU (local index) for profile p: tightest with a free instance,
 * ties by index; or, with idle, the first idle whole GPU after laying it out. */
static int32_t choose_gpu(ss_replay_mig_t *m, int32_t n, int p, bool idle)
{
    const ss_fgd_state_t *s = m->s;
    int32_t best = -1, best_mem = 0;
    for (int32_t i = 0; i < s->ngpu[n]; i++) {
        int32_t g = s->gpu_begin[n] + i;
        if (idle) {
            if (!m->mig[g] && s->gpu_free[g] >= SS_GPU_MILLI) {
                make_mig(m, n, i, &m->best[p]);
                m->relayouts++;
                return i;
            }
        } else if (free_inst(m, g, p) >= 0 && (best < 0 || free_mem(m, g) < best_mem)) {
            best = i;
            best_mem = free_mem(m, g);
        }
    }
    return best;
}

int32_t ss_replay_mig_place(ss_replay_mig_t *m, const ss_fgd_pod_t *p)
{
    int prof = ss_replay_mig_profile(p->milli);
    if (prof < 0 || p->num_gpu != 1)
        return -1;
    ss_fgd_pod_t q = *p;
    q.milli = ss_replay_mig_milli(prof);
    q.models = 0;
    bool idle = false;
    int32_t n = pick_node(m, &q, prof, false);
    if (n < 0 && m->mode == SS_REPLAY_MIG_RELAYOUT) {
        idle = true;
        n = pick_node(m, &q, prof, true);
    }
    if (n < 0)
        return -1;
    int32_t i = choose_gpu(m, n, prof, idle);
    int32_t g = m->s->gpu_begin[n] + i;
    int k = free_inst(m, g, prof);
    const ss_mig_profile_t *pr = &m->model->profiles[prof];
    m->held[g] |= (uint8_t)(1u << k);
    m->free_cnt[(size_t)n * NPROF + prof]--;
    m->unused_c -= pr->compute;
    m->unused_m -= pr->mem;
    ss_fgd_state_t *s = m->s;
    ss_fgd_pod_t hold = q; /* cpu, memory, a shared-GPU tag; milli = the view's drop */
    hold.milli = s->gpu_free[g] - gpu_view(m, g);
    ss_fgd_apply(s, n, &hold, 1ull << i, +1);
    s->gpu_alloc += p->milli - hold.milli; /* allocation counts the request */
    return n;
}

const ss_mig_layout_t *ss_replay_mig_layout(const ss_replay_mig_t *m, int p)
{
    return p >= 0 && p < NPROF ? &m->best[p] : NULL;
}

void ss_replay_mig_unused(const ss_replay_mig_t *m, int32_t *compute, int32_t *mem)
{
    *compute = m->unused_c;
    *mem = m->unused_m;
}

int32_t ss_replay_mig_gpus(const ss_replay_mig_t *m)
{
    return m->n_mig;
}

int64_t ss_replay_mig_relayouts(const ss_replay_mig_t *m)
{
    return m->relayouts;
}
