/* ss_mig_relayout_choose: the choice of new MIG layouts for idle GPUs
 * (ss_mig_relayout.h; the rule in docs/mig.md "Re-layout").
 *
 * A greedy over nodes in index order. On each node with idle MIG-capable
 * GPUs: (1) the whole-GPU pods the node's free room holds take GPUs not in
 * MIG mode that are wholly free, then idle GPUs in MIG mode switched to MIG
 * disabled (lowest index first); (2) the MIG pods the room still holds add
 * their instances to a want per profile (the node's GPU model: that of its
 * first idle MIG-capable GPU); (3) while something is wanted, the next GPU
 * gets the candidate layout (every canonical layout of the model, from
 * ss_mig_enumerate) that covers most of the want: most instances wanted
 * (pods placed), then the most wanted memory, then compute slices; ties: fewest unused slices
 * (ss_mig_unused), fewest instances, enumeration order. The GPU is the
 * first idle one whose layout is that already (no change), else the first
 * in MIG mode, else the first not in MIG mode; (4) the pods the node's idle
 * GPUs now hold are served (in demand order), and chosen GPUs whose new
 * instances no served pod needs go back to their old layout. */
#include <stdlib.h>
#include <string.h>

#include "ss_match.h"
#include "ss_mig_relayout_int.h"
#include "ss_reason.h"

#define NMAX_MODELS 8

typedef struct {
    bool built;
    int32_t n;
    ss_mig_layout_t *lay;                   /* canonical layouts, enumeration order */
    int32_t (*counts)[SS_MIG_MAX_PROFILES]; /* instances per profile */
    int8_t *unused;                         /* unused compute + memory slices */
} cands_t;

typedef struct {
    int64_t cpu, mem, ext[SS_MAX_EXT];
    int32_t pods;
} room_t;

typedef struct {
    const ss_relayout_input_t *in;
    const ss_cluster_t *c;
    ss_match_ctx_t mx;
    cands_t cands[NMAX_MODELS];
    int32_t *rem, *served;
    int32_t n_out, cap_out;
    int32_t *out_gpu, *out_model;
    ss_mig_layout_t *out_lay;
} choose_t;

/* The state of one GPU of the node being planned. */
typedef struct {
    int32_t g;
    int board;           /* ss_mig model of the board, -1: not MIG-capable */
    bool idle, whole;    /* whole: not in MIG mode and wholly free */
    bool taken;          /* given a role by this plan */
    int cur_model;       /* now: -1 not in MIG mode */
    ss_mig_layout_t cur; /* now */
    int new_model;
    ss_mig_layout_t lay; /* after the plan */
    bool changed;
} gpu_t;

static int build_cands(cands_t *k, const ss_mig_model_t *m)
{
    ss_mig_layout_t *all = malloc(SS_MIG_MAX_LAYOUTS * sizeof *all);
    int n = all ? ss_mig_enumerate(m, false, all, SS_MIG_MAX_LAYOUTS) : 0;
    k->lay = malloc((size_t)(n ? n : 1) * sizeof *k->lay);
    k->counts = malloc((size_t)(n ? n : 1) * sizeof *k->counts);
    k->unused = malloc((size_t)(n ? n : 1));
    if (!all || !k->lay || !k->counts || !k->unused) {
        free(all);
        return SS_ENOMEM;
    }
    k->n = 0;
    for (int i = 0; i < n && i < SS_MIG_MAX_LAYOUTS; i++) {
        if (!all[i].n || !ss_mig_layout_is_canonical(m, &all[i]))
            continue; /* the empty layout serves nothing */
        int uc, um;
        ss_mig_unused(m, &all[i], &uc, &um);
        k->lay[k->n] = all[i];
        ss_mig_layout_counts(&all[i], k->counts[k->n]);
        k->unused[k->n] = (int8_t)(uc + um);
        k->n++;
    }
    k->built = true;
    free(all);
    return 0;
}

static void room_init(const choose_t *x, int32_t node, room_t *r)
{
    const ss_state_t *s = x->in->s;
    r->cpu = s ? s->free_cpu[node] : INT64_MAX;
    r->mem = s ? s->free_mem[node] : INT64_MAX;
    r->pods = s ? s->free_pods[node] : INT32_MAX;
    for (int e = 0; e < SS_MAX_EXT; e++)
        r->ext[e] = s && e < x->c->n_ext ? s->free_ext[(size_t)node * SS_MAX_EXT + e] : INT64_MAX;
}

/* Takes one pod of t from the room when it fits. */
static bool room_take(room_t *r, const ss_template_t *t)
{
    if (r->pods < 1 || r->cpu < t->req.cpu_milli || r->mem < t->req.memory)
        return false;
    for (int e = 0; e < SS_MAX_EXT; e++)
        if (r->ext[e] < t->req.ext[e])
            return false;
    r->pods--;
    r->cpu -= t->req.cpu_milli;
    r->mem -= t->req.memory;
    for (int e = 0; e < SS_MAX_EXT; e++)
        r->ext[e] -= t->req.ext[e];
    return true;
}

static bool model_allowed(const ss_cluster_t *c, const ss_template_t *t, int32_t g)
{
    if (!t->model_count)
        return true;
    for (int32_t i = 0; i < t->model_count; i++)
        if (c->models[t->model_begin + i] == c->gpu_model[g])
            return true;
    return false;
}

static bool is_mig_pod(const ss_template_t *t)
{
    return t->mig_count > 0;
}

/* Step 1: whole-GPU pods. */
static void plan_whole(choose_t *x, int32_t node, gpu_t *gp, int32_t k, room_t *room, int32_t *got)
{
    const ss_cluster_t *c = x->c;
    for (int32_t j = 0; j < x->in->n_demand; j++) {
        const ss_template_t *t = &c->templates[x->in->demand[j].tmpl];
        if (is_mig_pod(t) || x->rem[j] <= 0 ||
            ss_match_static(&x->mx, c, x->in->demand[j].tmpl, node) != SS_REASON_NONE)
            continue;
        while (got[j] < x->rem[j]) {
            int32_t pick[SS_MAX_GPUS_PER_NODE], np = 0;
            for (int pass = 0; pass < 2; pass++) /* free whole GPUs, then switched ones */
                for (int32_t i = 0; i < k && np < t->req.gpu_count; i++)
                    if (!gp[i].taken && gp[i].idle && model_allowed(c, t, gp[i].g) &&
                        (pass ? gp[i].cur_model >= 0 && gp[i].board >= 0 : gp[i].whole))
                        pick[np++] = i;
            room_t r = *room;
            if (np < t->req.gpu_count || !room_take(&r, t))
                break;
            *room = r;
            for (int32_t q = 0; q < np; q++) {
                gpu_t *u = &gp[pick[q]];
                u->taken = true;
                u->changed = u->cur_model >= 0;
                u->new_model = -1;
                u->lay.n = 0;
            }
            got[j]++;
        }
    }
}

/* The candidate covering most of want (see the file comment); -1 if none
 * covers anything. */
static int32_t best_cand(const ss_mig_model_t *m, const cands_t *k, const int32_t *want)
{
    int32_t best = -1;
    int64_t bv = 0;
    for (int32_t i = 0; i < k->n; i++) {
        int64_t v = 0;
        for (int p = 0; p < m->n_profiles; p++) {
            int32_t use = k->counts[i][p] < want[p] ? k->counts[i][p] : want[p];
            /* pods first (an instance a pod; a slice score < 128 breaks ties) */
            v += (int64_t)use * (128 + m->profiles[p].mem * 8 + m->profiles[p].compute);
        }
        if (v <= 0)
            continue;
        if (best < 0 || v > bv ||
            (v == bv && (k->unused[i] < k->unused[best] ||
                         (k->unused[i] == k->unused[best] && k->lay[i].n < k->lay[best].n)))) {
            best = i;
            bv = v;
        }
    }
    return best;
}

/* The GPU for layout l of model mi: one that has it already, else the first
 * in MIG mode, else the first. -1 when none is left. */
static int32_t pick_gpu(const gpu_t *gp, int32_t k, int mi, const ss_mig_layout_t *l)
{
    int32_t first_mig = -1, first = -1;
    for (int32_t i = 0; i < k; i++) {
        if (gp[i].taken || !gp[i].idle || gp[i].board != mi ||
            !(gp[i].whole || gp[i].cur_model >= 0))
            continue;
        if (gp[i].cur_model == mi && ss_mig_layout_same(&gp[i].cur, l))
            return i;
        if (first_mig < 0 && gp[i].cur_model >= 0)
            first_mig = i;
        if (first < 0)
            first = i;
    }
    return first_mig >= 0 ? first_mig : first;
}

/* Instances of the node's GPUs in their planned (or current) state. */
static int32_t node_insts(const gpu_t *gp, int32_t k)
{
    int32_t n = 0;
    for (int32_t i = 0; i < k; i++)
        n += gp[i].taken ? gp[i].lay.n : gp[i].cur.n;
    return n;
}

/* Instances per profile of model mi on the node's idle GPUs as planned. */
static void idle_avail(const gpu_t *gp, int32_t k, int mi, int32_t *avail)
{
    memset(avail, 0, SS_MIG_MAX_PROFILES * sizeof *avail);
    for (int32_t i = 0; i < k; i++) {
        int model = gp[i].taken ? gp[i].new_model : gp[i].cur_model;
        const ss_mig_layout_t *l = gp[i].taken ? &gp[i].lay : &gp[i].cur;
        if (!gp[i].idle || model != mi)
            continue;
        for (int q = 0; q < l->n; q++)
            avail[l->inst[q].profile]++;
    }
}

/* Steps 2 and 3: the MIG pods' want, then layouts for it. tent[j]: MIG pods
 * of demand j the room holds. */
static void plan_mig(choose_t *x, int32_t node, gpu_t *gp, int32_t k, room_t *room, int mi,
                     int32_t *tent)
{
    const ss_cluster_t *c = x->c;
    const ss_mig_model_t *m = ss_mig_model(mi);
    const cands_t *cd = &x->cands[mi];
    int32_t want[SS_MIG_MAX_PROFILES] = {0}, ncand = 0;
    for (int32_t i = 0; i < k; i++)
        ncand += !gp[i].taken && gp[i].idle && gp[i].board == mi &&
                 (gp[i].whole || gp[i].cur_model >= 0);
    for (int32_t j = 0; j < x->in->n_demand; j++) {
        const ss_template_t *t = &c->templates[x->in->demand[j].tmpl];
        int pr = is_mig_pod(t) ? ss_mig_find_profile(m, ss_cluster_strget(c, t->mig_profile)) : -1;
        if (pr < 0 || x->rem[j] <= 0 ||
            ss_match_static(&x->mx, c, x->in->demand[j].tmpl, node) != SS_REASON_NONE)
            continue;
        while (tent[j] < x->rem[j] &&
               want[pr] + t->mig_count <= m->profiles[pr].max_count * ncand && room_take(room, t)) {
            want[pr] += t->mig_count;
            tent[j]++;
        }
    }
    for (;;) {
        int32_t b = best_cand(m, cd, want);
        int32_t i = b < 0 ? -1 : pick_gpu(gp, k, mi, &cd->lay[b]);
        if (i < 0 || node_insts(gp, k) - gp[i].cur.n + cd->lay[b].n > SS_MIG_NODE_MAX_INSTANCES)
            break;
        gp[i].taken = true;
        gp[i].new_model = mi;
        gp[i].lay = cd->lay[b];
        gp[i].changed = !(gp[i].cur_model == mi && ss_mig_layout_same(&gp[i].cur, &gp[i].lay));
        for (int p = 0; p < m->n_profiles; p++)
            want[p] -= cd->counts[b][p] < want[p] ? cd->counts[b][p] : want[p];
    }
}

/* Step 4: the MIG pods served; chosen GPUs no served pod needs go back. */
static void serve_mig(choose_t *x, gpu_t *gp, int32_t k, int mi, const int32_t *tent, int32_t *got)
{
    const ss_cluster_t *c = x->c;
    const ss_mig_model_t *m = ss_mig_model(mi);
    int32_t avail[SS_MIG_MAX_PROFILES], need[SS_MIG_MAX_PROFILES] = {0};
    idle_avail(gp, k, mi, avail);
    for (int32_t j = 0; j < x->in->n_demand; j++) {
        const ss_template_t *t = &c->templates[x->in->demand[j].tmpl];
        int pr = tent[j] ? ss_mig_find_profile(m, ss_cluster_strget(c, t->mig_profile)) : -1;
        for (int32_t q = 0; pr >= 0 && q < tent[j]; q++) {
            if (avail[pr] - need[pr] < t->mig_count)
                break;
            need[pr] += t->mig_count;
            got[j]++;
        }
    }
    for (int32_t i = k - 1; i >= 0; i--) {
        if (!gp[i].taken || gp[i].new_model != mi || !gp[i].changed)
            continue;
        int32_t left[SS_MIG_MAX_PROFILES], cur[SS_MIG_MAX_PROFILES], now[SS_MIG_MAX_PROFILES];
        bool enough = true;
        ss_mig_layout_counts(&gp[i].lay, now);
        ss_mig_layout_counts(gp[i].cur_model == mi ? &gp[i].cur : &(ss_mig_layout_t){0}, cur);
        for (int p = 0; p < m->n_profiles; p++) {
            left[p] = avail[p] - now[p] + cur[p];
            enough &= left[p] >= need[p];
        }
        if (!enough)
            continue;
        memcpy(avail, left, sizeof avail);
        gp[i].taken = gp[i].changed = false;
    }
}

static int emit(choose_t *x, const gpu_t *u)
{
    if (x->n_out == x->cap_out) {
        int32_t nc = x->cap_out ? x->cap_out * 2 : 16;
        int32_t *a = realloc(x->out_gpu, (size_t)nc * sizeof *a);
        if (a)
            x->out_gpu = a;
        int32_t *b = a ? realloc(x->out_model, (size_t)nc * sizeof *b) : NULL;
        if (b)
            x->out_model = b;
        ss_mig_layout_t *l = b ? realloc(x->out_lay, (size_t)nc * sizeof *l) : NULL;
        if (!l)
            return SS_ENOMEM;
        x->out_lay = l;
        x->cap_out = nc;
    }
    x->out_gpu[x->n_out] = u->g;
    x->out_model[x->n_out] = u->new_model;
    x->out_lay[x->n_out] = u->lay;
    x->n_out++;
    return 0;
}

/* The node's GPUs as the plan sees them; the model of its first idle
 * MIG-capable GPU (-1: nothing to re-lay out here). */
static int node_gpus(const choose_t *x, int32_t node, gpu_t *gp, int32_t k)
{
    const ss_cluster_t *c = x->c;
    int mi = -1;
    for (int32_t i = 0; i < k; i++) {
        gpu_t *u = &gp[i];
        memset(u, 0, sizeof *u);
        u->g = c->node_gpu_begin[node] + i;
        u->board = ss_mig_board_model(c, u->g);
        u->idle = !(x->in->gpu_busy && x->in->gpu_busy[u->g]);
        if (!ss_mig_gpu_current(c, u->g, &u->cur_model, &u->cur) ||
            (u->cur_model >= 0 && u->cur_model != u->board))
            u->idle = false, u->board = -1; /* a state the table lacks: left alone */
        u->whole = u->idle && u->cur_model < 0 &&
                   (!x->in->s || x->in->s->gpu_free[u->g] >= c->gpu_milli[u->g]);
        u->new_model = u->cur_model;
        u->lay = u->cur;
        if (mi < 0 && u->idle && u->board >= 0 && (u->whole || u->cur_model >= 0))
            mi = u->board;
    }
    return mi;
}

static int plan_node(choose_t *x, int32_t node, int32_t *got, int32_t *tent)
{
    const ss_cluster_t *c = x->c;
    int32_t k = c->node_gpu_count[node];
    gpu_t gp[SS_MAX_GPUS_PER_NODE];
    if (k <= 0 || k > SS_MAX_GPUS_PER_NODE)
        return 0;
    int mi = node_gpus(x, node, gp, k);
    if (mi < 0)
        return 0;
    if (!x->cands[mi].built && build_cands(&x->cands[mi], ss_mig_model(mi)) < 0)
        return SS_ENOMEM;
    room_t room;
    room_init(x, node, &room);
    memset(tent, 0, (size_t)x->in->n_demand * sizeof *tent);
    plan_whole(x, node, gp, k, &room, got);
    plan_mig(x, node, gp, k, &room, mi, tent);
    serve_mig(x, gp, k, mi, tent, got);
    for (int32_t i = 0; i < k; i++)
        if (gp[i].taken && gp[i].changed && emit(x, &gp[i]) < 0)
            return SS_ENOMEM;
    for (int32_t j = 0; j < x->in->n_demand; j++) {
        x->rem[j] -= got[j];
        x->served[j] += got[j];
    }
    return 0;
}

static int check_input(const ss_relayout_input_t *in, const ss_placements_t *p, ss_error_t *err)
{
    const ss_cluster_t *c = in ? in->c : NULL;
    if (!c || !p || in->n_demand < 0 || (in->n_demand && !in->demand) || (in->s && in->s->c != c))
        return ss_error_set(err, SS_EINVAL, "re-layout: bad input (cluster, state or demand)");
    if (ss_mig_model_count() > NMAX_MODELS)
        return ss_error_set(err, SS_EINVAL, "re-layout: more MIG models than %d", NMAX_MODELS);
    for (int32_t j = 0; j < in->n_demand; j++) {
        int32_t ti = in->demand[j].tmpl;
        if (ti < 0 || ti >= c->n_templates || in->demand[j].count < 0)
            return ss_error_set(err, SS_EINVAL,
                                "re-layout: demand[%d]: template %d, count %d out of range", (int)j,
                                (int)ti, (int)in->demand[j].count);
        const ss_template_t *t = &c->templates[ti];
        if (!is_mig_pod(t) && t->req.gpu_count <= 0)
            return ss_error_set(err, SS_EINVAL,
                                "re-layout: demand[%d]: template %d asks for neither MIG instances "
                                "nor GPUs",
                                (int)j, (int)ti);
    }
    return 0;
}

/* Appends the chosen rows to p (all or nothing). */
static int append_rows(const choose_t *x, ss_placements_t *p, ss_error_t *err)
{
    int32_t n = p->n_relayout + x->n_out;
    if (x->n_out == 0)
        return 0;
    if (p->n_relayout && p->relayout_gpu[p->n_relayout - 1] >= x->out_gpu[0])
        return ss_error_set(err, SS_EINVAL,
                            "re-layout: GPU record %d chosen, but the placements already re-lay "
                            "out GPU record %d",
                            (int)x->out_gpu[0], (int)p->relayout_gpu[p->n_relayout - 1]);
    if (n > p->cap_relayout) {
        int32_t *a = realloc(p->relayout_gpu, (size_t)n * sizeof *a);
        if (a)
            p->relayout_gpu = a;
        int32_t *b = a ? realloc(p->relayout_model, (size_t)n * sizeof *b) : NULL;
        if (b)
            p->relayout_model = b;
        ss_mig_layout_t *l = b ? realloc(p->relayout, (size_t)n * sizeof *l) : NULL;
        if (!l)
            return ss_error_set(err, SS_ENOMEM, "re-layout: out of memory");
        p->relayout = l;
        p->cap_relayout = n;
    }
    memcpy(p->relayout_gpu + p->n_relayout, x->out_gpu, (size_t)x->n_out * sizeof(int32_t));
    memcpy(p->relayout_model + p->n_relayout, x->out_model, (size_t)x->n_out * sizeof(int32_t));
    memcpy(p->relayout + p->n_relayout, x->out_lay, (size_t)x->n_out * sizeof(ss_mig_layout_t));
    p->n_relayout = n;
    return 0;
}

static int gpu_cmp(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Sorts the rows by GPU record (nodes were visited in node order; their
 * GPU ranges need not be). */
static int sort_rows(choose_t *x)
{
    if (x->n_out == 0) /* nothing chosen: the arrays may be NULL */
        return 0;
    int32_t *ord = malloc((size_t)(x->n_out ? x->n_out : 1) * 2 * sizeof *ord);
    int32_t *mo = malloc((size_t)(x->n_out ? x->n_out : 1) * sizeof *mo);
    ss_mig_layout_t *lo = malloc((size_t)(x->n_out ? x->n_out : 1) * sizeof *lo);
    if (!ord || !mo || !lo) {
        free(ord);
        free(mo);
        free(lo);
        return SS_ENOMEM;
    }
    for (int32_t i = 0; i < x->n_out; i++) {
        ord[2 * i] = x->out_gpu[i];
        ord[2 * i + 1] = i;
    }
    qsort(ord, (size_t)x->n_out, 2 * sizeof *ord, gpu_cmp); /* GPU records are unique */
    for (int32_t i = 0; i < x->n_out; i++) {
        mo[i] = x->out_model[ord[2 * i + 1]];
        lo[i] = x->out_lay[ord[2 * i + 1]];
        x->out_gpu[i] = ord[2 * i];
    }
    memcpy(x->out_model, mo, (size_t)x->n_out * sizeof *mo);
    memcpy(x->out_lay, lo, (size_t)x->n_out * sizeof *lo);
    free(ord);
    free(mo);
    free(lo);
    return 0;
}

int ss_mig_relayout_choose(const ss_relayout_input_t *in, ss_placements_t *p, int32_t *served,
                           ss_error_t *err)
{
    int rc = check_input(in, p, err);
    if (rc < 0)
        return rc;
    choose_t x = {.in = in, .c = in->c};
    size_t nd = (size_t)(in->n_demand ? in->n_demand : 1);
    int32_t *got = malloc(nd * sizeof *got), *tent = malloc(nd * sizeof *tent);
    x.rem = malloc(nd * sizeof *x.rem);
    x.served = calloc(nd, sizeof *x.served);
    if (!got || !tent || !x.rem || !x.served || ss_match_ctx_init(&x.mx, in->c) < 0) {
        rc = ss_error_set(err, SS_ENOMEM, "re-layout: out of memory");
        goto done;
    }
    int64_t left = 0;
    for (int32_t j = 0; j < in->n_demand; j++)
        left += x.rem[j] = in->demand[j].count;
    for (int32_t node = 0; node < in->c->n_nodes && left > 0 && rc == 0; node++) {
        memset(got, 0, nd * sizeof *got);
        rc = plan_node(&x, node, got, tent);
        for (int32_t j = 0; j < in->n_demand; j++)
            left -= got[j];
    }
    if (rc == 0)
        rc = sort_rows(&x);
    if (rc < 0)
        ss_error_set(err, rc, "re-layout: out of memory");
    else if ((rc = append_rows(&x, p, err)) == 0 && served)
        memcpy(served, x.served, (size_t)in->n_demand * sizeof *served);
done:
    for (int i = 0; i < NMAX_MODELS; i++) {
        free(x.cands[i].lay);
        free(x.cands[i].counts);
        free(x.cands[i].unused);
    }
    free(got);
    free(tent);
    free(x.rem);
    free(x.served);
    free(x.out_gpu);
    free(x.out_model);
    free(x.out_lay);
    return rc;
}
