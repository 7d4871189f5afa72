/* ss_sched_shard: one virtual shard's share of a run (see ss_sched.h).
 *
 * Each shard keeps, per score signature, a max-heap of its feasible nodes'
 * scores (score desc, node asc), reused across runs: a heap is built once in
 * O(shard nodes), and afterwards only the nodes in the shard's change log
 * since its last use are re-scored and pushed, so a signature seen again
 * costs O(changes log n) instead of a rescan. Stale entries (their node's
 * version moved on) are dropped when they surface. A few heaps per shard are
 * kept, least recently used evicted. */
#include <stdlib.h>
#include <string.h>

#include "ss_reason.h"
#include "ss_sched_int.h"

static inline bool better(const hent_t *a, const hent_t *b)
{
    return a->score > b->score || (a->score == b->score && a->node < b->node);
}

static void sift_down(hent_t *h, int32_t n, int32_t i)
{
    hent_t x = h[i];
    for (;;) {
        int32_t l = 2 * i + 1, m = l;
        if (l >= n)
            break;
        if (l + 1 < n && better(&h[l + 1], &h[l]))
            m = l + 1;
        if (!better(&h[m], &x))
            break;
        h[i] = h[m];
        i = m;
    }
    h[i] = x;
}

static void sift_up(hent_t *h, int32_t i)
{
    hent_t x = h[i];
    while (i > 0) {
        int32_t p = (i - 1) / 2;
        if (!better(&x, &h[p]))
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

static int slot_push(slot_t *sl, hent_t e)
{
    if (sl->n == sl->cap) {
        int32_t cap = sl->cap ? sl->cap * 2 : 64;
        hent_t *h = realloc(sl->heap, (size_t)cap * sizeof *h);
        if (!h)
            return -1;
        sl->heap = h;
        sl->cap = cap;
    }
    sl->heap[sl->n] = e;
    if (e.score > sl->bound)
        sl->bound = e.score;
    sl->best = -1;
    if (sl->heapified)
        sift_up(sl->heap, sl->n);
    sl->n++;
    return 0;
}

/* Pops the best entry. Most shards take one entry per run, so the first pop
 * of a run on an unordered array is a linear scan; the heap is built only
 * when a second one is wanted. */
static hent_t slot_pop(const ss_sched_t *s, slot_t *sl)
{
    if (!sl->heapified && sl->pops++ == 0) {
        int32_t b = sl->best;
        sl->best = -1;
        if (b >= 0) {
            hent_t e = sl->heap[b];
            sl->heap[b] = sl->heap[--sl->n];
            return e;
        }
        sl->bound_ok = 0; /* scanning: no bound is tracked */
        for (int32_t i = 0; i < sl->n; i++) {
            if (sl->heap[i].ver != s->st->version[sl->heap[i].node]) {
                sl->heap[i--] = sl->heap[--sl->n]; /* drop a stale entry */
                continue;
            }
            if (b < 0 || better(&sl->heap[i], &sl->heap[b]))
                b = i;
        }
        if (b < 0)
            return (hent_t){-1, -1, 0}; /* nothing fresh left */
        hent_t e = sl->heap[b];
        sl->heap[b] = sl->heap[--sl->n];
        return e;
    }
    if (!sl->heapified) {
        for (int32_t i = sl->n / 2 - 1; i >= 0; i--)
            sift_down(sl->heap, sl->n, i);
        sl->heapified = 1;
    }
    hent_t top = sl->heap[0];
    sl->heap[0] = sl->heap[--sl->n];
    if (sl->n > 0)
        sift_down(sl->heap, sl->n, 0);
    return top;
}

/* Groups the shard's nodes by class, keeping node order inside a class, so
 * that a run skips whole classes its template cannot use. */
static int group_by_class(shard_t *h, const int32_t *node_class)
{
    int32_t n = h->hi - h->lo;
    h->by_class = malloc((size_t)(n + 1) * sizeof(int32_t));
    h->run_class = malloc((size_t)(n + 1) * sizeof(int32_t));
    h->run_end = malloc((size_t)(n + 1) * sizeof(int32_t));
    if (!h->by_class || !h->run_class || !h->run_end)
        return SS_ENOMEM;
    h->n_runs = 0;
    for (int32_t i = h->lo; i < h->hi; i++) { /* distinct classes, first-seen order */
        int32_t r = 0;
        while (r < h->n_runs && h->run_class[r] != node_class[i])
            r++;
        if (r == h->n_runs)
            h->run_class[h->n_runs++] = node_class[i];
    }
    int32_t m = 0;
    for (int32_t r = 0; r < h->n_runs; r++) {
        for (int32_t i = h->lo; i < h->hi; i++)
            if (node_class[i] == h->run_class[r])
                h->by_class[m++] = i;
        h->run_end[r] = m;
    }
    return 0;
}

int ss_shard_init(shard_t *h, int32_t lo, int32_t hi, const int32_t *node_class)
{
    memset(h, 0, sizeof *h);
    h->lo = lo;
    h->hi = hi;
    for (int i = 0; i < SS_SHARD_SLOTS; i++)
        h->slot[i].sig = h->slot_sig[i] = -1;
    h->scratch.sig = -1;
    h->log_cap = 64;
    h->chg_cap = 1024;
    h->log = malloc((size_t)h->log_cap * sizeof *h->log);
    h->chg = malloc((size_t)h->chg_cap * sizeof *h->chg);
    if (!h->log || !h->chg)
        return SS_ENOMEM;
    return group_by_class(h, node_class);
}

void ss_shard_free(shard_t *h)
{
    for (int i = 0; i < SS_SHARD_SLOTS; i++)
        free(h->slot[i].heap);
    free(h->scratch.heap);
    free(h->log);
    free(h->chg);
    free(h->by_class);
    free(h->run_class);
    free(h->run_end);
    memset(h, 0, sizeof *h);
}

int ss_sched_node_static(const ss_sched_t *s, const ss_work_t *w, int32_t t, int32_t node,
                         int64_t *bonus)
{
    if (w->v.node_specific)
        return ss_static_eval(&s->mx, s->c, s->cl.max_untolerated_prefer, t, node, bonus);
    int32_t k = s->cl.node_class[node];
    *bonus = w->v.bonus[k];
    return w->v.reason[k];
}

/* Score of node for template t now, or -1 if it is not feasible. */
static int64_t node_eval(const ss_sched_t *s, const ss_work_t *w, int32_t t, int32_t node)
{
    const ss_template_t *tp = &s->c->templates[t];
    int64_t bonus;
    if (ss_sched_node_static(s, w, t, node, &bonus) != SS_REASON_NONE ||
        ss_state_fit(s->st, tp, node) != SS_REASON_NONE)
        return -1;
    return SS_WEIGHT_FIT * ss_policy_fit(s->policy->id, s->pctx, s->st, tp, node) + bonus;
}

/* Appends a candidate to an unordered array, tracking the best entry's index
 * and the best score among the others (the bound once the best is taken). */
static inline void append_cand(slot_t *sl, hent_t e, int32_t *n, int32_t *best, int32_t *second)
{
    if (*best < 0 || better(&e, &sl->heap[*best])) {
        if (*best >= 0 && sl->heap[*best].score > *second)
            *second = sl->heap[*best].score;
        *best = *n;
    } else if (e.score > *second) {
        *second = e.score;
    }
    sl->heap[(*n)++] = e;
}

/* Builds the heap from scratch: every feasible node of the shard inside the
 * work's node range. */
static int slot_build(ss_sched_t *s, const ss_work_t *w, shard_t *h, slot_t *sl, int32_t t)
{
    int32_t lo = w->lo > h->lo ? w->lo : h->lo;
    int32_t hi = w->hi < h->hi ? w->hi : h->hi;
    int32_t need = h->hi - h->lo + 16;
    if (sl->cap < need) {
        hent_t *p = realloc(sl->heap, (size_t)need * sizeof *p);
        if (!p)
            return SS_ENOMEM;
        sl->heap = p;
        sl->cap = need;
    }
    int32_t n = 0, best = -1, second = INT32_MIN;
    const ss_template_t *tp = &s->c->templates[t];
    bool plain = !w->v.node_specific && tp->req.gpu_count == 0 && tp->mig_count == 0 && lo < hi;
    for (int k = 0; plain && k < s->c->n_ext; k++)
        plain = tp->req.ext[k] == 0;
    if (plain) {
        /* The common case, with the class verdict and the fit inlined. */
        const ss_state_t *st = s->st;
        const int pid = s->policy->id;
        int32_t begin = 0;
        for (int32_t r = 0; r < h->n_runs; begin = h->run_end[r++]) {
            int32_t k = h->run_class[r];
            if (w->v.reason[k] != SS_REASON_NONE)
                continue; /* the whole class is filtered out */
            int64_t bonus = w->v.bonus[k];
            for (int32_t j = begin; j < h->run_end[r]; j++) {
                int32_t i = h->by_class[j];
                if (i < lo || i >= hi || st->free_pods[i] < 1 ||
                    st->free_cpu[i] < tp->req.cpu_milli || st->free_mem[i] < tp->req.memory)
                    continue;
                int64_t sc = SS_WEIGHT_FIT * ss_policy_fit(pid, s->pctx, st, tp, i) + bonus;
                append_cand(sl, (hent_t){(int32_t)sc, i, st->version[i]}, &n, &best, &second);
            }
        }
    } else {
        for (int32_t i = lo; i < hi; i++) {
            int64_t sc = node_eval(s, w, t, i);
            if (sc < 0)
                continue;
            append_cand(sl, (hent_t){(int32_t)sc, i, s->st->version[i]}, &n, &best, &second);
        }
    }
    sl->n = n;
    sl->best = best;
    sl->bound = second; /* best score left once `best` is taken */
    sl->bound_ok = 1;
    sl->heapified = 0;
    sl->pos = h->n_chg;
    return 0;
}

/* Re-scores the nodes changed since the heap was last synced. */
static int slot_sync(ss_sched_t *s, const ss_work_t *w, shard_t *h, slot_t *sl, int32_t t)
{
    int64_t pending = h->n_chg - sl->pos;
    int32_t size = h->hi - h->lo;
    if (pending > size || sl->n > 3 * size + 64)
        return slot_build(s, w, h, sl, t);
    if (!sl->heapified) { /* reused: worth ordering once for good */
        for (int32_t i = sl->n / 2 - 1; i >= 0; i--)
            sift_down(sl->heap, sl->n, i);
        sl->heapified = 1;
        sl->best = -1;
    }
    h->stamp_gen++;
    for (int64_t j = sl->pos; j < h->n_chg; j++) {
        int32_t node = h->chg[j];
        if (s->stamp[node] == h->stamp_gen)
            continue;
        s->stamp[node] = h->stamp_gen;
        int64_t sc = node_eval(s, w, t, node);
        if (sc >= 0 && slot_push(sl, (hent_t){(int32_t)sc, node, s->st->version[node]}) < 0)
            return SS_ENOMEM;
    }
    sl->pos = h->n_chg;
    return 0;
}

int ss_shard_begin(ss_sched_t *s, const ss_work_t *w, shard_t *h, int32_t t, int32_t sig)
{
    h->n_log = h->consumed = 0;
    h->exhausted = 0;
    h->failed = 0;
    if (w->lo > h->lo || w->hi < h->hi) {
        /* A run restricted to a topology domain: a one-off heap, not cached. */
        slot_t *sc = &h->scratch;
        sc->pops = 0;
        h->cur = sc;
        if (w->hi <= h->lo || w->lo >= h->hi) {
            sc->n = 0;
            sc->best = -1;
            sc->heapified = 0;
            return 0;
        }
        return slot_build(s, w, h, sc, t);
    }
    /* Signatures of the slots sit in their own small array so the lookup is
     * one tight compare loop; the LRU victim is searched only on a miss. */
    slot_t *sl = NULL;
    for (int i = 0; i < SS_SHARD_SLOTS; i++)
        if (h->slot_sig[i] == sig) {
            sl = &h->slot[i];
            break;
        }
    slot_t *lru = &h->slot[0];
    if (!sl)
        for (int i = 1; i < SS_SHARD_SLOTS; i++)
            if (h->slot[i].used < lru->used)
                lru = &h->slot[i];
    int rc;
    if (sl) {
        rc = slot_sync(s, w, h, sl, t);
    } else {
        sl = lru;
        sl->sig = sig;
        rc = slot_build(s, w, h, sl, t);
    }
    sl->used = ++h->clock;
    sl->pops = 0;
    h->cur = sl;
    if (rc < 0)
        sl->sig = -1;
    h->slot_sig[sl - h->slot] = sl->sig;
    return rc;
}

static int log_reserve(shard_t *h, int32_t need)
{
    if (need <= h->log_cap)
        return 0;
    int32_t cap = h->log_cap * 2;
    while (cap < need)
        cap *= 2;
    ss_cand_t *l = realloc(h->log, (size_t)cap * sizeof *l);
    if (!l)
        return -1;
    h->log = l;
    h->log_cap = cap;
    return 0;
}

int ss_shard_apply(ss_sched_t *s, shard_t *h, const ss_template_t *tp, int32_t node, uint64_t mask,
                   int sign)
{
    if (h->n_chg == h->chg_cap) {
        int32_t *c = realloc(h->chg, (size_t)h->chg_cap * 2 * sizeof *c);
        if (!c)
            return SS_ENOMEM;
        h->chg = c;
        h->chg_cap *= 2;
    }
    h->chg[h->n_chg++] = node;
    ss_state_apply(s->st, tp, node, mask, sign);
    return 0;
}

int ss_shard_extend(ss_sched_t *s, const ss_work_t *w, shard_t *h, int32_t t, int32_t ahead)
{
    const ss_template_t *tp = &s->c->templates[t];
    slot_t *sl = h->cur;
    while (!h->exhausted && h->n_log - h->consumed < ahead) {
        if (sl->n == 0) {
            h->exhausted = 1;
            break;
        }
        hent_t e = slot_pop(s, sl);
        if (e.node < 0) {
            h->exhausted = 1;
            break;
        }
        if (e.ver != s->st->version[e.node])
            continue; /* stale: the node changed after this entry was scored */
        uint64_t mask = ss_policy_pick_gpus(s->pctx, s->st, t, e.node);
        if (log_reserve(h, h->n_log + 1) < 0 || ss_shard_apply(s, h, tp, e.node, mask, +1) < 0)
            return SS_ENOMEM;
        h->log[h->n_log++] = (ss_cand_t){e.score, e.node, (int32_t)(h - s->sh), mask};
        int64_t sc = node_eval(s, w, t, e.node);
        if (sc >= 0 && slot_push(sl, (hent_t){(int32_t)sc, e.node, s->st->version[e.node]}) < 0)
            return SS_ENOMEM;
    }
    sl->pos = h->n_chg; /* its own changes are already in the heap */
    /* What the shard would propose next, for the merge: once the heap is
     * built, its top after dropping stale entries is exactly the next
     * proposal (score and node); before, an upper bound on the score (the
     * best score left), with the shard's first node as the node. */
    h->bound_node = h->lo;
    if (sl->heapified)
        while (sl->n > 0 && sl->heap[0].ver != s->st->version[sl->heap[0].node])
            slot_pop(s, sl); /* stale for good: its node has a fresher entry */
    if (h->exhausted || sl->n == 0) {
        h->bound = INT32_MIN;
    } else if (sl->heapified) {
        h->bound = sl->heap[0].score;
        h->bound_node = sl->heap[0].node;
    } else if (sl->best >= 0) /* nothing taken yet */
        h->bound = sl->heap[sl->best].score > sl->bound ? sl->heap[sl->best].score : sl->bound;
    else if (sl->bound_ok)
        h->bound = sl->bound;
    else
        h->bound = INT32_MAX; /* unknown */
    return 0;
}

void ss_shard_rewind(ss_sched_t *s, shard_t *h, int32_t t)
{
    const ss_template_t *tp = &s->c->templates[t];
    for (int32_t i = h->n_log - 1; i >= h->consumed; i--)
        if (ss_shard_apply(s, h, tp, h->log[i].node, h->log[i].gpu_mask, -1) < 0)
            h->failed = 1;
    h->n_log = h->consumed;
}
