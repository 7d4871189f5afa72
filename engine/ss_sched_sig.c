/* ss_sigtab: score signatures (see ss_sched_class.h). A hash table over the
 * signature's key material, kept in full so equality is exact, not a hash
 * match. ~20,000 templates give a few thousand signatures. */
#include <stdlib.h>
#include <string.h>

#include "ss_hash.h"
#include "ss_sched_class.h"

typedef struct {
    uint64_t hash;
    int32_t tmpl; /* >= 0: node-specific signature of this template */
    ss_request_t req;
    int32_t *models; /* allowed models (copy), n_models entries */
    int32_t n_models;
    uint8_t *reason; /* [n_classes] */
    int64_t *bonus;  /* [n_classes] */
} sig_t;

struct ss_sigtab {
    int32_t n_classes;
    sig_t *sigs;
    int32_t n, cap;
    ss_hindex_t ix; /* sig ids by hash (ss_hash) */
};

ss_sigtab_t *ss_sigtab_create(int32_t n_classes)
{
    ss_sigtab_t *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->n_classes = n_classes;
    if (ss_hindex_init(&st->ix, 1024) < 0) {
        free(st);
        return NULL;
    }
    return st;
}

void ss_sigtab_destroy(ss_sigtab_t *st)
{
    if (!st)
        return;
    for (int32_t i = 0; i < st->n; i++) {
        free(st->sigs[i].models);
        free(st->sigs[i].reason);
        free(st->sigs[i].bonus);
    }
    free(st->sigs);
    ss_hindex_free(&st->ix);
    free(st);
}

static void key_of(const ss_cluster_t *c, int32_t t, const ss_verdict_t *v, int32_t k,
                   const uint64_t *vhash, sig_t *key)
{
    const ss_template_t *tp = &c->templates[t];
    memset(key, 0, sizeof *key);
    key->tmpl = v->node_specific || tp->mig_count > 0 ? t : -1; /* MIG: fit by instances */
    key->req = tp->req;
    key->models = c->models + tp->model_begin;
    key->n_models = tp->model_count;
    key->reason = v->reason;
    key->bonus = v->bonus;
    uint64_t h = SS_HASH_INIT;
    h = ss_hash_bytes(h, &key->tmpl, sizeof key->tmpl);
    h = ss_hash_bytes(h, &key->req, sizeof key->req);
    h = ss_hash_bytes(h, key->models, (size_t)key->n_models * sizeof(int32_t));
    if (key->tmpl < 0 && vhash) {
        h = ss_hash_bytes(h, vhash, sizeof *vhash);
    } else if (key->tmpl < 0) {
        uint64_t vh = ss_sigtab_verdict_hash(v, k);
        h = ss_hash_bytes(h, &vh, sizeof vh);
    }
    key->hash = h;
}

static int same(const sig_t *a, const sig_t *b, int32_t k)
{
    if (a->hash != b->hash || a->tmpl != b->tmpl || memcmp(&a->req, &b->req, sizeof a->req) ||
        a->n_models != b->n_models ||
        (a->n_models > 0 && memcmp(a->models, b->models, (size_t)a->n_models * sizeof(int32_t))))
        return 0;
    if (a->tmpl >= 0 || k == 0)
        return 1;
    return !memcmp(a->reason, b->reason, (size_t)k) &&
           !memcmp(a->bonus, b->bonus, (size_t)k * sizeof(int64_t));
}

static uint64_t sig_hash(const void *ctx, int32_t id)
{
    return ((const ss_sigtab_t *)ctx)->sigs[id].hash;
}

static int32_t add(ss_sigtab_t *st, const sig_t *key, size_t slot)
{
    int32_t k = st->n_classes;
    if (st->n == st->cap) {
        int32_t cap = st->cap ? st->cap * 2 : 64;
        sig_t *s = realloc(st->sigs, (size_t)cap * sizeof *s);
        if (!s)
            return -1;
        st->sigs = s;
        st->cap = cap;
    }
    sig_t *s = &st->sigs[st->n];
    *s = *key;
    s->models = malloc((size_t)(key->n_models + 1) * sizeof(int32_t));
    s->reason = malloc((size_t)k + 1);
    s->bonus = malloc(((size_t)k + 1) * sizeof(int64_t));
    if (!s->models || !s->reason || !s->bonus) {
        free(s->models);
        free(s->reason);
        free(s->bonus);
        return -1;
    }
    /* a signature without models has key->models == NULL: memcpy(dst, NULL, 0)
     * is undefined behaviour (UBSan's nonnull-attribute check) */
    if (key->n_models > 0)
        memcpy(s->models, key->models, (size_t)key->n_models * sizeof(int32_t));
    if (key->tmpl < 0 && k > 0) {
        memcpy(s->reason, key->reason, (size_t)k);
        memcpy(s->bonus, key->bonus, (size_t)k * sizeof(int64_t));
    }
    ss_hindex_put(&st->ix, slot, st->n);
    return st->n++;
}

uint64_t ss_sigtab_verdict_hash(const ss_verdict_t *v, int32_t k)
{
    uint64_t h = ss_hash_bytes(SS_HASH_INIT, v->reason, (size_t)k);
    return ss_hash_bytes(h, v->bonus, (size_t)k * sizeof(int64_t));
}

int32_t ss_sigtab_id(ss_sigtab_t *st, const ss_cluster_t *c, int32_t t, const ss_verdict_t *v)
{
    return ss_sigtab_id_hashed(st, c, t, v, NULL);
}

int32_t ss_sigtab_id_hashed(ss_sigtab_t *st, const ss_cluster_t *c, int32_t t,
                            const ss_verdict_t *v, const uint64_t *vhash)
{
    if (ss_hindex_reserve(&st->ix, (size_t)st->n + 1, st->n, sig_hash, st) < 0)
        return -1;
    sig_t key;
    key_of(c, t, v, st->n_classes, vhash, &key);
    size_t j = ss_hindex_first(&st->ix, key.hash);
    int32_t id;
    while ((id = st->ix.slots[j]) >= 0) {
        if (same(&st->sigs[id], &key, st->n_classes))
            return id;
        j = ss_hindex_next(&st->ix, j);
    }
    return add(st, &key, j);
}
