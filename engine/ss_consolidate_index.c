/* ss_consolidate_index: nodes by capacity class and free-cpu bucket, for
 * consolidate's target search (ss_consolidate_index.h says how and why the
 * answer equals a scan's). */
#include "ss_consolidate_index.h"

#include <stdlib.h>
#include <string.h>

/* at most this many cells in all (classes x cpu rows x memory columns) */
#define MAX_CELLS (INT32_C(1) << 20)
#define MAX_SIDE 256

struct ss_cidx {
    const ss_cluster_t *c;
    const ss_state_t *s;
    int32_t n_cls, side, words; /* classes; rows = columns per class; bitmap words per row */
    int32_t *cls;               /* [n_nodes] class of each node */
    int64_t *ccpu, *cmem;       /* [n_cls] the class's capacity */
    int64_t *cmax_fc, *cmax_fm; /* [n_cls] loose upper bounds of its members' free room */
    int32_t *rows, *cols;       /* [n_cls * side] members per cpu row, per memory column */
    uint64_t *rbusy, *kbusy;    /* [n_cls * words] non-empty rows, columns */
    uint64_t *cbusy;            /* [n_cls * side * words] non-empty cells of each row */
    int32_t *head;              /* [cells] first node of a cell, -1: empty */
    int32_t *nxt, *prv, *at;    /* [n_nodes] list links; cell (-1: not in the index) */
    /* [cells] loose bounds over a cell's members (exact after a read) */
    int64_t *min_fc, *max_fc, *min_fm, *max_fm;
    int32_t *max_fp;
};

static const ss_cluster_t *sort_c;

/* Nodes of one class have equal cpu, memory, taints and cordon (a node
 * pool; cordoned nodes apart, so that a search skips them as a class). */
static int cmp_cap(const void *a, const void *b)
{
    int32_t i = *(const int32_t *)a, j = *(const int32_t *)b;
    const ss_cluster_t *c = sort_c;
    if (c->node_cpu[i] != c->node_cpu[j])
        return c->node_cpu[i] < c->node_cpu[j] ? -1 : 1;
    if (c->node_mem[i] != c->node_mem[j])
        return c->node_mem[i] < c->node_mem[j] ? -1 : 1;
    if (c->node_unsched[i] != c->node_unsched[j])
        return c->node_unsched[i] < c->node_unsched[j] ? -1 : 1;
    int32_t ni = c->node_taint_count[i], nj = c->node_taint_count[j];
    if (ni != nj)
        return ni < nj ? -1 : 1;
    for (int32_t t = 0; t < ni; t++) {
        const ss_taint_t *x = &c->taints[c->node_taint_begin[i] + t];
        const ss_taint_t *y = &c->taints[c->node_taint_begin[j] + t];
        if (x->key != y->key)
            return x->key < y->key ? -1 : 1;
        if (x->value != y->value)
            return x->value < y->value ? -1 : 1;
        if (x->effect != y->effect)
            return x->effect < y->effect ? -1 : 1;
    }
    return 0;
}

static int cmp_row(const void *a, const void *b)
{
    int r = cmp_cap(a, b);
    int32_t i = *(const int32_t *)a, j = *(const int32_t *)b;
    return r ? r : i < j ? -1 : i > j;
}

/* Classes, numbered in their sort order. */
static int classes(ss_cidx_t *ix)
{
    const ss_cluster_t *c = ix->c;
    int32_t n = c->n_nodes;
    size_t N = n > 0 ? (size_t)n : 1;
    int32_t *ord = malloc(N * sizeof *ord);
    ix->ccpu = malloc(N * sizeof *ix->ccpu);
    ix->cmem = malloc(N * sizeof *ix->cmem);
    if (!ord || !ix->ccpu || !ix->cmem) {
        free(ord);
        return -1;
    }
    for (int32_t i = 0; i < n; i++)
        ord[i] = i;
    sort_c = c;
    qsort(ord, (size_t)n, sizeof *ord, cmp_row);
    for (int32_t i = 0; i < n; i++) {
        int32_t v = ord[i];
        if (i == 0 || cmp_cap(&ord[i - 1], &v) != 0) {
            ix->ccpu[ix->n_cls] = c->node_cpu[v];
            ix->cmem[ix->n_cls++] = c->node_mem[v];
        }
        ix->cls[v] = ix->n_cls - 1;
    }
    free(ord);
    return 0;
}

ss_cidx_t *ss_cidx_create(const ss_cluster_t *c, const ss_state_t *s)
{
    size_t N = c->n_nodes ? (size_t)c->n_nodes : 1;
    ss_cidx_t *ix = calloc(1, sizeof *ix);
    if (!ix)
        return NULL;
    ix->c = c;
    ix->s = s;
    ix->cls = malloc(N * sizeof *ix->cls);
    if (!ix->cls || classes(ix) < 0)
        goto fail;
    size_t K = ix->n_cls ? (size_t)ix->n_cls : 1;
    ix->side = MAX_SIDE;
    while (ix->side > 1 && (int64_t)ix->side * ix->side * (int64_t)K > MAX_CELLS)
        ix->side /= 2;
    ix->words = (ix->side + 63) / 64;
    size_t S = (size_t)ix->side, B = K * S * S, W = (size_t)ix->words;
    ix->cmax_fc = calloc(K, sizeof *ix->cmax_fc);
    ix->cmax_fm = calloc(K, sizeof *ix->cmax_fm);
    ix->rows = calloc(K * S, sizeof *ix->rows);
    ix->rbusy = calloc(K * W, sizeof *ix->rbusy);
    ix->cols = calloc(K * S, sizeof *ix->cols);
    ix->kbusy = calloc(K * W, sizeof *ix->kbusy);
    ix->cbusy = calloc(K * S * W, sizeof *ix->cbusy);
    ix->head = malloc(B * sizeof *ix->head);
    ix->min_fc = calloc(B, sizeof *ix->min_fc);
    ix->max_fc = calloc(B, sizeof *ix->max_fc);
    ix->min_fm = calloc(B, sizeof *ix->min_fm);
    ix->max_fm = calloc(B, sizeof *ix->max_fm);
    ix->max_fp = calloc(B, sizeof *ix->max_fp);
    ix->nxt = malloc(N * sizeof *ix->nxt);
    ix->prv = malloc(N * sizeof *ix->prv);
    ix->at = malloc(N * sizeof *ix->at);
    if (!ix->cmax_fc || !ix->cmax_fm || !ix->rows || !ix->rbusy || !ix->cols || !ix->kbusy ||
        !ix->cbusy || !ix->head || !ix->min_fc || !ix->max_fc || !ix->min_fm || !ix->max_fm ||
        !ix->max_fp || !ix->nxt || !ix->prv || !ix->at)
        goto fail;
    memset(ix->head, 0xff, B * sizeof *ix->head);
    memset(ix->at, 0xff, N * sizeof *ix->at);
    return ix;
fail:
    ss_cidx_destroy(ix);
    return NULL;
}

void ss_cidx_destroy(ss_cidx_t *ix)
{
    if (!ix)
        return;
    void *all[] = {ix->cls,    ix->ccpu,   ix->cmem,   ix->cmax_fc, ix->cmax_fm,
                   ix->rows,   ix->rbusy,  ix->cbusy,  ix->head,    ix->nxt,
                   ix->prv,    ix->at,     ix->min_fc, ix->max_fc,  ix->min_fm,
                   ix->max_fm, ix->max_fp, ix->cols,   ix->kbusy};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
    free(ix);
}

int32_t ss_cidx_classes(const ss_cidx_t *ix)
{
    return ix->n_cls;
}

int32_t ss_cidx_class_of(const ss_cidx_t *ix, int32_t n)
{
    return ix->cls[n];
}

/* The row (column) of free cpu (memory) f in a class of capacity cap:
 * f * side / (cap + 1), the top one also for f >= cap. */
static int32_t bucket_of(const ss_cidx_t *ix, int64_t cap, int64_t f)
{
    if (f <= 0 || cap < 0)
        return 0;
    if (f >= cap)
        return ix->side - 1;
    return (int32_t)(f * ix->side / (cap + 1));
}

/* The least f >= 0 of row (column) b: every f >= 0 there is >= it. */
static int64_t bucket_lo(const ss_cidx_t *ix, int64_t cap, int32_t b)
{
    if (cap < 0)
        return 0;
    int64_t lo = ((int64_t)b * (cap + 1) + ix->side - 1) / ix->side;
    return b == ix->side - 1 && lo > cap ? cap : lo;
}

static void bit_set(uint64_t *w, int32_t b, bool on)
{
    if (on)
        w[b / 64] |= UINT64_C(1) << (b % 64);
    else
        w[b / 64] &= ~(UINT64_C(1) << (b % 64));
}

static uint64_t *row_bits(ss_cidx_t *ix, int32_t k)
{
    return ix->rbusy + (size_t)k * (size_t)ix->words;
}

static uint64_t *col_bits(ss_cidx_t *ix, int32_t k)
{
    return ix->kbusy + (size_t)k * (size_t)ix->words;
}

static uint64_t *cell_bits(ss_cidx_t *ix, int32_t k, int32_t r)
{
    return ix->cbusy + ((size_t)k * (size_t)ix->side + (size_t)r) * (size_t)ix->words;
}

static void unlink_node(ss_cidx_t *ix, int32_t n)
{
    int32_t gb = ix->at[n];
    if (gb < 0)
        return;
    if (ix->prv[n] >= 0)
        ix->nxt[ix->prv[n]] = ix->nxt[n];
    else
        ix->head[gb] = ix->nxt[n];
    if (ix->nxt[n] >= 0)
        ix->prv[ix->nxt[n]] = ix->prv[n];
    int32_t side = ix->side, k = gb / (side * side), r = gb / side % side;
    if (ix->head[gb] < 0)
        bit_set(cell_bits(ix, k, r), gb % side, false);
    if (--ix->rows[k * side + r] == 0)
        bit_set(row_bits(ix, k), r, false);
    if (--ix->cols[k * side + gb % side] == 0)
        bit_set(col_bits(ix, k), gb % side, false);
    ix->at[n] = -1;
}

static void widen(ss_cidx_t *ix, int32_t gb, int64_t fc, int64_t fm, int32_t fp)
{
    ix->min_fc[gb] = fc < ix->min_fc[gb] ? fc : ix->min_fc[gb];
    ix->max_fc[gb] = fc > ix->max_fc[gb] ? fc : ix->max_fc[gb];
    ix->min_fm[gb] = fm < ix->min_fm[gb] ? fm : ix->min_fm[gb];
    ix->max_fm[gb] = fm > ix->max_fm[gb] ? fm : ix->max_fm[gb];
    ix->max_fp[gb] = fp > ix->max_fp[gb] ? fp : ix->max_fp[gb];
}

void ss_cidx_set(ss_cidx_t *ix, int32_t n, bool in)
{
    const ss_state_t *s = ix->s;
    int32_t k = ix->cls[n], side = ix->side;
    int64_t fc = s->free_cpu[n], fm = s->free_mem[n];
    int32_t fp = s->free_pods[n];
    int32_t r = bucket_of(ix, ix->ccpu[k], fc), col = bucket_of(ix, ix->cmem[k], fm);
    int32_t want = in ? (k * side + r) * side + col : -1;
    if (ix->at[n] != want) {
        unlink_node(ix, n);
        if (want < 0)
            return;
        if (ix->head[want] < 0) { /* an empty cell: its bounds start afresh */
            bit_set(cell_bits(ix, k, r), col, true);
            ix->min_fc[want] = ix->max_fc[want] = fc;
            ix->min_fm[want] = ix->max_fm[want] = fm;
            ix->max_fp[want] = fp;
        }
        if (ix->rows[k * side + r]++ == 0)
            bit_set(row_bits(ix, k), r, true);
        if (ix->cols[k * side + col]++ == 0)
            bit_set(col_bits(ix, k), col, true);
        ix->nxt[n] = ix->head[want];
        ix->prv[n] = -1;
        if (ix->head[want] >= 0)
            ix->prv[ix->head[want]] = n;
        ix->head[want] = n;
        ix->at[n] = want;
    }
    if (want < 0)
        return;
    widen(ix, want, fc, fm, fp);
    ix->cmax_fc[k] = fc > ix->cmax_fc[k] ? fc : ix->cmax_fc[k];
    ix->cmax_fm[k] = fm > ix->cmax_fm[k] ? fm : ix->cmax_fm[k];
}

/* The next set bit of w from b up (side: none). */
static int32_t next_bit(const ss_cidx_t *ix, const uint64_t *w, int32_t b)
{
    for (int32_t i = b / 64; b < ix->side && i < ix->words; i++, b = i * 64) {
        uint64_t m = w[i] & (~UINT64_C(0) << (b % 64));
        if (m)
            return i * 64 + __builtin_ctzll(m);
    }
    return ix->side;
}

/* The next set bit of w from b down (-1: none). */
static int32_t prev_bit(const uint64_t *w, int32_t b)
{
    for (int32_t i = b / 64; b >= 0; i--, b = i * 64 + 63) {
        uint64_t m = w[i] & (~UINT64_C(0) >> (63 - b % 64));
        if (m)
            return i * 64 + 63 - __builtin_clzll(m);
    }
    return -1;
}

typedef struct {
    int32_t best;
    int64_t score;
} best_t;

/* Reads cell gb of class k: every member that fits by cpu, memory and a pod
 * slot and would beat the best is offered to the caller; the cell's bounds
 * become exact. */
static void read_cell(ss_cidx_t *ix, const ss_cidx_query_t *q, int32_t k, int32_t gb, best_t *b)
{
    const ss_state_t *s = ix->s;
    bool first = true;
    for (int32_t n = ix->head[gb]; n >= 0; n = ix->nxt[n]) {
        int64_t fc = s->free_cpu[n], fm = s->free_mem[n];
        int32_t fp = s->free_pods[n];
        if (first) {
            ix->min_fc[gb] = ix->max_fc[gb] = fc;
            ix->min_fm[gb] = ix->max_fm[gb] = fm;
            ix->max_fp[gb] = fp;
            first = false;
        }
        widen(ix, gb, fc, fm, fp);
        if (fc < q->cpu || fm < q->mem || fp < 1)
            continue;
        int64_t sc = ss_cidx_score(ix->ccpu[k], ix->cmem[k], fc - q->cpu, fm - q->mem, q->most);
        if (b->best >= 0 && (sc > b->score || (sc == b->score && n > b->best)))
            continue;
        if (q->accept(q->ctx, n)) {
            b->best = n;
            b->score = sc;
        }
    }
}

/* The cpu (memory) part of the score for free f (>= the request req). */
static int64_t cpu_part(const ss_cidx_t *ix, int32_t k, int64_t f, int64_t req)
{
    int64_t c = ix->ccpu[k];
    return c > 0 && f > req ? (f - req) * 1000 / c : 0;
}

static int64_t mem_part(const ss_cidx_t *ix, int32_t k, int64_t f, int64_t req)
{
    int64_t m = ix->cmem[k];
    return m > 0 && f > req ? (f - req) / (m / 1000 + 1) : 0;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* A cell that cannot hold the pod, or whose bound is worse than the best. */
static bool cell_out(const ss_cidx_t *ix, const ss_cidx_query_t *q, int32_t k, int32_t gb,
                     const best_t *b)
{
    if (ix->max_fc[gb] < q->cpu || ix->max_fm[gb] < q->mem || ix->max_fp[gb] < 1)
        return true;
    if (b->best < 0)
        return false;
    if (q->most)
        return -(cpu_part(ix, k, ix->max_fc[gb], q->cpu) +
                 mem_part(ix, k, ix->max_fm[gb], q->mem)) > b->score;
    return cpu_part(ix, k, max64(ix->min_fc[gb], q->cpu), q->cpu) +
               mem_part(ix, k, max64(ix->min_fm[gb], q->mem), q->mem) >
           b->score;
}

/* Tightest: rows and columns from the pod's requests up; both parts of the
 * score only grow with them, so a row (a column) whose least score is over
 * the best ends the class (the row). */
static void search_least(ss_cidx_t *ix, const ss_cidx_query_t *q, int32_t k, best_t *b)
{
    int64_t cc = ix->ccpu[k], cm = ix->cmem[k];
    int32_t side = ix->side, c0 = bucket_of(ix, cm, q->mem);
    for (int32_t r = next_bit(ix, row_bits(ix, k), bucket_of(ix, cc, q->cpu)); r < side;
         r = next_bit(ix, row_bits(ix, k), r + 1)) {
        int64_t fpart = cpu_part(ix, k, max64(bucket_lo(ix, cc, r), q->cpu), q->cpu);
        if (b->best >= 0 && fpart > b->score)
            return;
        const uint64_t *cells = cell_bits(ix, k, r);
        for (int32_t col = next_bit(ix, cells, c0); col < side;
             col = next_bit(ix, cells, col + 1)) {
            if (b->best >= 0 &&
                fpart + mem_part(ix, k, max64(bucket_lo(ix, cm, col), q->mem), q->mem) > b->score)
                break;
            int32_t gb = (k * side + r) * side + col;
            if (!cell_out(ix, q, k, gb, b))
                read_cell(ix, q, k, gb, b);
        }
    }
}

/* The most free cpu (memory) in row (column) b and below. */
static int64_t bucket_hi(const ss_cidx_t *ix, int64_t cap, int32_t b, int64_t top)
{
    return b < ix->side - 1 ? bucket_lo(ix, cap, b + 1) - 1 : top;
}

/* Least-allocated (score negated): rows and columns from the top down. */
static void search_most(ss_cidx_t *ix, const ss_cidx_query_t *q, int32_t k, best_t *b)
{
    int64_t cc = ix->ccpu[k], cm = ix->cmem[k];
    int32_t side = ix->side, r0 = bucket_of(ix, cc, q->cpu), c0 = bucket_of(ix, cm, q->mem);
    /* the class's most free memory: under its top non-empty column's bound */
    int32_t top = prev_bit(col_bits(ix, k), side - 1);
    if (top < c0)
        return;
    int64_t fm_hi = bucket_hi(ix, cm, top, ix->cmax_fm[k]);
    int64_t gmax = mem_part(ix, k, fm_hi < ix->cmax_fm[k] ? fm_hi : ix->cmax_fm[k], q->mem);
    for (int32_t r = prev_bit(row_bits(ix, k), side - 1); r >= r0;
         r = prev_bit(row_bits(ix, k), r - 1)) {
        int64_t fpart = cpu_part(ix, k, bucket_hi(ix, cc, r, ix->cmax_fc[k]), q->cpu);
        if (b->best >= 0 && -(fpart + gmax) > b->score)
            return;
        const uint64_t *cells = cell_bits(ix, k, r);
        for (int32_t col = prev_bit(cells, side - 1); col >= c0; col = prev_bit(cells, col - 1)) {
            if (b->best >= 0 && -(fpart + mem_part(ix, k, bucket_hi(ix, cm, col, ix->cmax_fm[k]),
                                                   q->mem)) > b->score)
                break;
            int32_t gb = (k * side + r) * side + col;
            if (!cell_out(ix, q, k, gb, b))
                read_cell(ix, q, k, gb, b);
        }
    }
}

int32_t ss_cidx_best(ss_cidx_t *ix, const ss_cidx_query_t *q)
{
    best_t b = {-1, 0};
    for (int32_t k = 0; k < ix->n_cls; k++) {
        if (q->cls_ok && !q->cls_ok[k])
            continue;
        if (q->most)
            search_most(ix, q, k, &b);
        else
            search_least(ix, q, k, &b);
    }
    return b.best;
}
