/* ss_whatif_ffd: how many empty copies of a pool's first node the pods left
 * unplaced need -- first-fit decreasing by dominant share (Cluster
 * Autoscaler's estimator) and the volume lower bound -- and the expanders
 * that choose among pools (ss_whatif.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ss_match.h"
#include "ss_state.h"
#include "ss_whatif.h"

#define MAXPROF 16 /* MIG profiles on one node */

typedef struct {
    int64_t cpu, mem, ext[SS_MAX_EXT];
    int32_t pods;
    uint64_t mig_used;
    int32_t gpu_free[SS_MAX_GPUS_PER_NODE];
} bin_t;

/* The template node: its MIG instances (profile of each node-local
 * instance) and the room of an empty copy (its allocatable less what the
 * DaemonSet pods it runs take: a copy runs them too, ss_whatif_add). */
typedef struct {
    const ss_cluster_t *c;
    int32_t tmpl, ng, nmig;
    int32_t mig_prof[SS_MAX_MIG_PER_NODE];
    int32_t hostname;
    ss_match_ctx_t mx;
    bin_t room;
} tnode_t;

static void bin_take(const tnode_t *x, bin_t *b, const ss_template_t *t, uint64_t mask);

static void tnode_init(tnode_t *x, const ss_cluster_t *c, int32_t tmpl)
{
    memset(x, 0, sizeof *x);
    x->c = c;
    x->tmpl = tmpl;
    x->ng = c->node_gpu_count[tmpl];
    x->nmig = ss_cluster_node_mig_count(c, tmpl);
    for (int32_t i = 0; i < x->nmig; i++)
        x->mig_prof[i] = c->mig_insts[ss_cluster_node_mig_inst(c, tmpl, i, NULL)].profile;
    ss_match_ctx_init(&x->mx, c);
    x->hostname = x->mx.hostname;
    bin_t *b = &x->room;
    b->cpu = c->node_cpu[tmpl];
    b->mem = c->node_mem[tmpl];
    b->pods = c->node_pods[tmpl];
    memcpy(b->ext, c->node_ext + (size_t)tmpl * SS_MAX_EXT, sizeof b->ext);
    for (int32_t i = 0; i < x->ng; i++)
        b->gpu_free[i] = c->gpu_milli[c->node_gpu_begin[tmpl] + i];
    for (int32_t p = 0; p < c->n_pods; p++) { /* the DaemonSet pods of the template */
        const ss_template_t *t = &c->templates[c->pod_template[p]];
        if (c->pod_node[p] == tmpl && (t->flags & SS_TF_DAEMONSET))
            bin_take(x, b, t, c->pod_gpu_mask[p]);
    }
}

static void bin_empty(const tnode_t *x, bin_t *b)
{
    *b = x->room;
}

/* The capacity-independent filters of template ti on a copy (never cordoned). */
static bool static_ok(const tnode_t *x, int32_t ti)
{
    const ss_cluster_t *c = x->c;
    return ss_match_taints(&x->mx, c, ti, x->tmpl, NULL) &&
           ss_match_node_selector(&x->mx, c, ti, x->tmpl) &&
           ss_match_required_affinity(&x->mx, c, ti, x->tmpl) &&
           ss_match_gpu_model(&x->mx, c, ti, x->tmpl);
}

/* The MIG instances a pod of t would take in b, or UINT64_MAX. */
static uint64_t mig_pick(const tnode_t *x, const bin_t *b, const ss_template_t *t)
{
    uint64_t m = 0;
    int32_t need = t->mig_count;
    for (int32_t i = 0; i < x->nmig && need > 0; i++)
        if (x->mig_prof[i] == t->mig_profile && !(b->mig_used >> i & 1)) {
            m |= (uint64_t)1 << i;
            need--;
        }
    return need > 0 ? UINT64_MAX : m;
}

/* Whether a pod of t fits b; *mask: its GPUs (or MIG instances). */
static bool bin_fits(const tnode_t *x, const bin_t *b, const ss_template_t *t, uint64_t *mask)
{
    const ss_request_t *r = &t->req;
    if (b->pods < 1 || r->cpu_milli > b->cpu || r->memory > b->mem)
        return false;
    for (int32_t k = 0; k < x->c->n_ext; k++)
        if (r->ext[k] > b->ext[k])
            return false;
    *mask = 0;
    if (t->mig_count > 0)
        *mask = mig_pick(x, b, t);
    else if (r->gpu_count > 0)
        *mask = ss_state_pick_gpus_from(x->c, t, x->tmpl, b->gpu_free);
    return *mask != UINT64_MAX;
}

static void bin_take(const tnode_t *x, bin_t *b, const ss_template_t *t, uint64_t mask)
{
    b->pods--;
    b->cpu -= t->req.cpu_milli;
    b->mem -= t->req.memory;
    for (int32_t k = 0; k < x->c->n_ext; k++)
        b->ext[k] -= t->req.ext[k];
    if (t->mig_count > 0)
        b->mig_used |= mask;
    else
        for (int32_t i = 0; i < x->ng; i++)
            if (mask >> i & 1)
                b->gpu_free[i] -= t->req.gpu_milli;
}

/* Share of one resource: need / have (need > 0 and have 0: infinite). */
static double share(int64_t need, int64_t have)
{
    if (need <= 0)
        return 0;
    return have <= 0 ? 1e30 : (double)need / (double)have;
}

static double dominant(const tnode_t *x, const ss_template_t *t)
{
    const ss_cluster_t *c = x->c;
    const bin_t *r = &x->room;
    int64_t gpu = 0, mig = 0;
    for (int32_t i = 0; i < x->ng; i++)
        gpu += c->gpu_mig_model[c->node_gpu_begin[x->tmpl] + i] ? 0 : r->gpu_free[i];
    for (int32_t i = 0; i < x->nmig; i++)
        mig += x->mig_prof[i] == t->mig_profile && !(r->mig_used >> i & 1);
    double d = share(t->req.cpu_milli, r->cpu);
    double v[4] = {share(t->req.memory, r->mem), share(1, r->pods),
                   share((int64_t)t->req.gpu_count * t->req.gpu_milli, gpu),
                   share(t->mig_count, mig)};
    for (int i = 0; i < 4; i++)
        d = v[i] > d ? v[i] : d;
    for (int32_t k = 0; k < c->n_ext; k++) {
        double e = share(t->req.ext[k], r->ext[k]);
        d = e > d ? e : d;
    }
    return d;
}

/* A required anti-affinity term on the hostname: one pod of its template
 * per copy (the usual "one replica per node"). */
static bool one_per_node(const tnode_t *x, const ss_template_t *t)
{
    for (int32_t i = 0; i < t->pterm_count; i++) {
        const ss_podterm_t *pt = &x->c->pterms[t->pterm_begin + i];
        if (pt->kind == SS_PT_ANTI_AFFINITY && pt->weight == 0 && pt->key == x->hostname)
            return true;
    }
    return false;
}

typedef struct {
    double share;
    int32_t tmpl, pod, idx;
} ffd_key_t;

static int key_cmp(const void *a, const void *b)
{
    const ffd_key_t *x = a, *y = b;
    if (x->share != y->share)
        return x->share > y->share ? -1 : 1;
    if (x->tmpl != y->tmpl)
        return x->tmpl < y->tmpl ? -1 : 1;
    return (x->pod > y->pod) - (x->pod < y->pod);
}

/* Per template: -1 unknown, 0 fits no empty copy, 1 fits one. */
static int8_t empty_fit(const tnode_t *x, int8_t *cache, int32_t ti)
{
    if (cache[ti] < 0) {
        bin_t e;
        uint64_t m;
        bin_empty(x, &e);
        cache[ti] = static_ok(x, ti) && bin_fits(x, &e, &x->c->templates[ti], &m);
    }
    return cache[ti];
}

/* The FFD pass over the sorted keys; fills out. */
static void ffd_pass(const tnode_t *x, const ffd_key_t *key, int32_t n, int32_t max_nodes,
                     bin_t *bins, int32_t *start, int8_t *cache, ss_ffd_t *out)
{
    const ss_cluster_t *c = x->c;
    for (int32_t k = 0; k < n; k++) {
        int32_t ti = key[k].tmpl;
        if (!empty_fit(x, cache, ti))
            continue;
        const ss_template_t *t = &c->templates[ti];
        uint64_t mask = 0;
        int32_t b = start[ti];
        while (b < out->nodes && !bin_fits(x, &bins[b], t, &mask))
            b++;
        if (b == out->nodes) {
            if (max_nodes >= 0 && out->nodes >= max_nodes) {
                start[ti] = b; /* no more room for this template */
                continue;
            }
            bin_empty(x, &bins[out->nodes++]);
            bin_fits(x, &bins[b], t, &mask);
        }
        bin_take(x, &bins[b], t, mask);
        start[ti] = one_per_node(x, t) ? b + 1 : b;
        out->placed++;
        out->cpu_req += t->req.cpu_milli;
        out->mem_req += t->req.memory;
        if (out->fits)
            out->fits[key[k].idx] = 1;
    }
}

int ss_whatif_ffd(const ss_cluster_t *c, int32_t tmpl, const int32_t *pods, int32_t n,
                  int32_t max_nodes, ss_ffd_t *out, ss_error_t *err)
{
    uint8_t *fits = out->fits;
    memset(out, 0, sizeof *out);
    out->fits = fits;
    if (fits)
        memset(fits, 0, (size_t)n);
    tnode_t x;
    tnode_init(&x, c, tmpl);
    int32_t nb = max_nodes >= 0 && max_nodes < n ? max_nodes : n;
    ffd_key_t *key = malloc((size_t)(n ? n : 1) * sizeof *key);
    bin_t *bins = malloc((size_t)(nb ? nb : 1) * sizeof *bins);
    int32_t *start = calloc((size_t)c->n_templates + 1, sizeof *start);
    int8_t *cache = malloc((size_t)c->n_templates + 1);
    double *dom = malloc(((size_t)c->n_templates + 1) * sizeof *dom);
    int rc = key && bins && start && cache && dom
                 ? 0
                 : ss_error_set(err, SS_ENOMEM, "out of memory for the estimate");
    if (rc == 0) {
        memset(cache, -1, (size_t)c->n_templates + 1);
        for (int32_t ti = 0; ti < c->n_templates; ti++)
            dom[ti] = -1;
        for (int32_t i = 0; i < n; i++) {
            int32_t ti = c->pod_template[pods[i]];
            if (dom[ti] < 0)
                dom[ti] = dominant(&x, &c->templates[ti]);
            key[i] = (ffd_key_t){dom[ti], ti, pods[i], i};
        }
        qsort(key, (size_t)n, sizeof *key, key_cmp);
        ffd_pass(&x, key, n, nb, bins, start, cache, out);
        out->cpu_cap = (int64_t)out->nodes * c->node_cpu[tmpl];
        out->mem_cap = (int64_t)out->nodes * c->node_mem[tmpl];
        uint8_t *mask = malloc((size_t)(n ? n : 1));
        if (mask) {
            for (int32_t i = 0; i < n; i++)
                mask[i] = (uint8_t)empty_fit(&x, cache, c->pod_template[pods[i]]);
            out->lower_bound = ss_whatif_lower_bound(c, tmpl, pods, n, mask);
            free(mask);
        } else
            rc = ss_error_set(err, SS_ENOMEM, "out of memory for the estimate");
    }
    free(key);
    free(bins);
    free(start);
    free(cache);
    free(dom);
    return rc;
}

static int32_t ceil_div(int64_t need, int64_t have)
{
    if (need <= 0)
        return 0;
    if (have <= 0)
        return INT32_MAX;
    int64_t q = (need + have - 1) / have;
    return q > INT32_MAX ? INT32_MAX : (int32_t)q;
}

int32_t ss_whatif_lower_bound(const ss_cluster_t *c, int32_t tmpl, const int32_t *pods, int32_t n,
                              const uint8_t *mask)
{
    tnode_t x;
    tnode_init(&x, c, tmpl);
    int64_t cpu = 0, mem = 0, np = 0, gpu = 0, ext[SS_MAX_EXT] = {0}, gcap = 0;
    int32_t prof[MAXPROF], np_prof = 0;
    int64_t pneed[MAXPROF] = {0}, pcap[MAXPROF] = {0};
    for (int32_t i = 0; i < x.nmig; i++) {
        int32_t k = 0;
        if (x.room.mig_used >> i & 1)
            continue; /* a DaemonSet pod holds it */
        while (k < np_prof && prof[k] != x.mig_prof[i])
            k++;
        if (k == np_prof && np_prof < MAXPROF)
            prof[np_prof++] = x.mig_prof[i];
        if (k < np_prof)
            pcap[k]++;
    }
    for (int32_t i = 0; i < x.ng; i++) {
        int32_t g = c->node_gpu_begin[tmpl] + i;
        gcap += c->gpu_mig_model[g] ? 0 : x.room.gpu_free[i];
    }
    for (int32_t i = 0; i < n; i++) {
        if (mask && !mask[i])
            continue;
        const ss_template_t *t = &c->templates[c->pod_template[pods[i]]];
        cpu += t->req.cpu_milli;
        mem += t->req.memory;
        np++;
        gpu += (int64_t)t->req.gpu_count * t->req.gpu_milli;
        for (int32_t k = 0; k < c->n_ext; k++)
            ext[k] += t->req.ext[k];
        for (int32_t k = 0; k < np_prof; k++)
            pneed[k] += prof[k] == t->mig_profile ? t->mig_count : 0;
    }
    int32_t lb = ceil_div(cpu, x.room.cpu), v;
    int32_t vs[3] = {ceil_div(mem, x.room.mem), ceil_div(np, x.room.pods), ceil_div(gpu, gcap)};
    for (int i = 0; i < 3; i++)
        lb = vs[i] > lb ? vs[i] : lb;
    for (int32_t k = 0; k < c->n_ext; k++)
        if ((v = ceil_div(ext[k], x.room.ext[k])) > lb)
            lb = v;
    for (int32_t k = 0; k < np_prof; k++)
        if ((v = ceil_div(pneed[k], pcap[k])) > lb)
            lb = v;
    return lb;
}

/* least-waste's score: unused cpu share + unused memory share of the new nodes. */
static double waste(const ss_ffd_t *e)
{
    double w = 0;
    if (e->cpu_cap > 0)
        w += (double)(e->cpu_cap - e->cpu_req) / (double)e->cpu_cap;
    if (e->mem_cap > 0)
        w += (double)(e->mem_cap - e->mem_req) / (double)e->mem_cap;
    return w;
}

/* < 0 when a is better than b for the expander. */
static int better(int expander, const ss_whatif_option_t *a, const ss_whatif_option_t *b)
{
    if (expander == SS_EXP_PRIORITY && a->priority != b->priority)
        return a->priority > b->priority ? -1 : 1;
    if (expander == SS_EXP_MOST_PODS) {
        if (a->est.placed != b->est.placed)
            return a->est.placed > b->est.placed ? -1 : 1;
        return (a->est.nodes > b->est.nodes) - (a->est.nodes < b->est.nodes);
    }
    double wa = waste(&a->est), wb = waste(&b->est);
    if (wa != wb)
        return wa < wb ? -1 : 1;
    return (a->est.placed < b->est.placed) - (a->est.placed > b->est.placed);
}

int32_t ss_whatif_expand(int expander, const ss_whatif_option_t *opt, int32_t n)
{
    int32_t best = -1;
    for (int32_t i = 0; i < n; i++) {
        if (opt[i].est.placed <= 0)
            continue;
        if (best < 0 || better(expander, &opt[i], &opt[best]) < 0)
            best = i;
    }
    return best;
}
