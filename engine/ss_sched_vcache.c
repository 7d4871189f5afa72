/* ss_vcache: verdicts cached by template constraints (see ss_sched_class.h).
 * The key is the constraint lists serialised to int32 words (string ids and
 * operators), compared exactly. */
#include <stdlib.h>
#include <string.h>

#include "ss_hash.h"
#include "ss_sched_class.h"

typedef struct {
    uint64_t hash;
    int32_t *key;
    int32_t klen;
    uint8_t *reason;
    int64_t *bonus;
    int node_specific;
    int32_t tmpl; /* a template with these constraints */
} ventry_t;

struct ss_vcache {
    ventry_t *e;
    int32_t n, cap;
    ss_hindex_t ix; /* entry ids by hash (ss_hash) */
    int32_t *buf;   /* serialisation scratch */
    int32_t buf_cap;
};

ss_vcache_t *ss_vcache_create(void)
{
    ss_vcache_t *vc = calloc(1, sizeof *vc);
    if (!vc)
        return NULL;
    if (ss_hindex_init(&vc->ix, 256) < 0) {
        free(vc);
        return NULL;
    }
    return vc;
}

void ss_vcache_destroy(ss_vcache_t *vc)
{
    if (!vc)
        return;
    for (int32_t i = 0; i < vc->n; i++) {
        free(vc->e[i].key);
        free(vc->e[i].reason);
        free(vc->e[i].bonus);
    }
    free(vc->e);
    ss_hindex_free(&vc->ix);
    free(vc->buf);
    free(vc);
}

static int put(ss_vcache_t *vc, int32_t *n, int32_t w)
{
    if (*n == vc->buf_cap) {
        int32_t cap = vc->buf_cap ? vc->buf_cap * 2 : 256;
        int32_t *b = realloc(vc->buf, (size_t)cap * sizeof *b);
        if (!b)
            return -1;
        vc->buf = b;
        vc->buf_cap = cap;
    }
    vc->buf[(*n)++] = w;
    return 0;
}

static int put_terms(ss_vcache_t *vc, const ss_cluster_t *c, int32_t *n, int32_t begin,
                     int32_t count)
{
    int rc = put(vc, n, count);
    for (int32_t i = 0; i < count && rc == 0; i++) {
        const ss_term_t *t = &c->terms[begin + i];
        rc |= put(vc, n, t->weight) | put(vc, n, t->expr_count);
        for (int32_t e = 0; e < t->expr_count && rc == 0; e++) {
            const ss_expr_t *x = &c->exprs[t->expr_begin + e];
            rc |= put(vc, n, x->key) | put(vc, n, x->op) | put(vc, n, x->is_field) |
                  put(vc, n, x->val_count);
            for (int32_t v = 0; v < x->val_count && rc == 0; v++)
                rc |= put(vc, n, c->expr_values[x->val_begin + v]);
        }
    }
    return rc;
}

/* Serialises t's constraints into vc->buf; returns the length or -1. */
static int32_t serialise(ss_vcache_t *vc, const ss_cluster_t *c, int32_t t)
{
    const ss_template_t *tp = &c->templates[t];
    int32_t n = 0;
    int rc = put(vc, &n, tp->req.gpu_count) | put(vc, &n, tp->sel_count);
    for (int32_t i = 0; i < tp->sel_count && rc == 0; i++)
        rc |= put(vc, &n, c->labels[tp->sel_begin + i].key) |
              put(vc, &n, c->labels[tp->sel_begin + i].value);
    rc |= put_terms(vc, c, &n, tp->req_begin, tp->req_count);
    rc |= put_terms(vc, c, &n, tp->pref_begin, tp->pref_count);
    rc |= put(vc, &n, tp->tol_count);
    for (int32_t i = 0; i < tp->tol_count && rc == 0; i++) {
        const ss_toleration_t *o = &c->tolerations[tp->tol_begin + i];
        rc |= put(vc, &n, o->key) | put(vc, &n, o->value) | put(vc, &n, o->op) |
              put(vc, &n, o->effect);
    }
    rc |= put(vc, &n, tp->model_count);
    for (int32_t i = 0; i < tp->model_count && rc == 0; i++)
        rc |= put(vc, &n, c->models[tp->model_begin + i]);
    return rc ? -1 : n;
}

static uint64_t entry_hash(const void *ctx, int32_t id)
{
    return ((const ss_vcache_t *)ctx)->e[id].hash;
}

static void copy_out(const ventry_t *e, int32_t k, ss_verdict_t *v)
{
    v->node_specific = e->node_specific;
    memcpy(v->reason, e->reason, (size_t)k);
    memcpy(v->bonus, e->bonus, (size_t)k * sizeof(int64_t));
}

/* The entry of template t's constraints, added (verdict not computed) if
 * new; *fresh = 1 then. Returns its id or SS_ENOMEM. */
static int find_or_add(ss_vcache_t *vc, const ss_cluster_t *c, const ss_classes_t *cl, int32_t t,
                       int *fresh)
{
    int32_t k = cl->n_classes, n = serialise(vc, c, t);
    *fresh = 0;
    if (n < 0 || ss_hindex_reserve(&vc->ix, (size_t)vc->n + 1, vc->n, entry_hash, vc) < 0)
        return SS_ENOMEM;
    uint64_t h = ss_hash_bytes(SS_HASH_INIT, vc->buf, (size_t)n * sizeof(int32_t));
    size_t j = ss_hindex_first(&vc->ix, h);
    for (int32_t id; (id = vc->ix.slots[j]) >= 0; j = ss_hindex_next(&vc->ix, j)) {
        const ventry_t *e = &vc->e[id];
        if (e->hash == h && e->klen == n && !memcmp(e->key, vc->buf, (size_t)n * sizeof(int32_t)))
            return id;
    }
    if (vc->n == vc->cap) {
        int32_t cap = vc->cap ? vc->cap * 2 : 64;
        ventry_t *e = realloc(vc->e, (size_t)cap * sizeof *e);
        if (!e)
            return SS_ENOMEM;
        vc->e = e;
        vc->cap = cap;
    }
    ventry_t *e = &vc->e[vc->n];
    e->hash = h;
    e->klen = n;
    e->node_specific = 0;
    e->tmpl = t;
    e->key = malloc((size_t)(n + 1) * sizeof(int32_t));
    e->reason = calloc((size_t)k + 1, 1);
    e->bonus = calloc((size_t)k + 1, sizeof(int64_t));
    if (!e->key || !e->reason || !e->bonus) {
        free(e->key);
        free(e->reason);
        free(e->bonus);
        return SS_ENOMEM;
    }
    memcpy(e->key, vc->buf, (size_t)n * sizeof(int32_t));
    ss_hindex_put(&vc->ix, j, vc->n);
    *fresh = 1;
    return vc->n++;
}

int ss_vcache_get(ss_vcache_t *vc, const ss_match_ctx_t *x, const ss_cluster_t *c,
                  const ss_classes_t *cl, int32_t t, ss_verdict_t *v)
{
    int fresh;
    int id = find_or_add(vc, c, cl, t, &fresh);
    if (id < 0)
        return id;
    if (fresh)
        ss_vcache_compute(vc, x, c, cl, id);
    copy_out(&vc->e[id], cl->n_classes, v);
    return id;
}

int ss_vcache_reserve(ss_vcache_t *vc, const ss_cluster_t *c, const ss_classes_t *cl, int32_t t)
{
    int fresh;
    return find_or_add(vc, c, cl, t, &fresh);
}

void ss_vcache_compute(ss_vcache_t *vc, const ss_match_ctx_t *x, const ss_cluster_t *c,
                       const ss_classes_t *cl, int32_t id)
{
    ventry_t *e = &vc->e[id];
    ss_verdict_t v = {0, e->reason, e->bonus};
    ss_verdict_compute(x, c, cl, e->tmpl, &v);
    e->node_specific = v.node_specific;
}

void ss_vcache_set_node_specific(ss_vcache_t *vc, int32_t id, int node_specific)
{
    vc->e[id].node_specific = node_specific;
}

void ss_vcache_view(const ss_vcache_t *vc, int32_t id, ss_verdict_t *v)
{
    const ventry_t *e = &vc->e[id];
    v->node_specific = e->node_specific;
    v->reason = e->reason;
    v->bonus = e->bonus;
}

int32_t ss_vcache_count(const ss_vcache_t *vc)
{
    return vc->n;
}
