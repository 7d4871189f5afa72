/* ss_sched_class: node classes (see ss_sched_class.h). Built once per run of
 * the engine in O(nodes) with a hash of each node's static signature. */
#include "ss_sched_class.h"

#include <stdlib.h>
#include <string.h>

#include "ss_policy.h"
#include "ss_reason.h"

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
}

static uint64_t node_sig(const ss_cluster_t *c, int32_t n)
{
    uint64_t h = mix(0, c->node_unsched[n]);
    for (int32_t i = 0; i < c->node_label_count[n]; i++) {
        const ss_label_t *l = &c->labels[c->node_label_begin[n] + i];
        h = mix(mix(h, (uint64_t)l->key), (uint64_t)l->value);
    }
    h = mix(h, 0xabcdef);
    for (int32_t i = 0; i < c->node_taint_count[n]; i++) {
        const ss_taint_t *t = &c->taints[c->node_taint_begin[n] + i];
        h = mix(mix(mix(h, (uint64_t)t->key), (uint64_t)t->value), (uint64_t)t->effect);
    }
    h = mix(h, 0x123457);
    for (int32_t i = 0; i < c->node_gpu_count[n]; i++)
        h = mix(h, (uint64_t)c->gpu_model[c->node_gpu_begin[n] + i]);
    return h;
}

static bool same_sig(const ss_cluster_t *c, int32_t a, int32_t b)
{
    if (c->node_unsched[a] != c->node_unsched[b] ||
        c->node_label_count[a] != c->node_label_count[b] ||
        c->node_taint_count[a] != c->node_taint_count[b] ||
        c->node_gpu_count[a] != c->node_gpu_count[b])
        return false;
    for (int32_t i = 0; i < c->node_label_count[a]; i++) {
        const ss_label_t *x = &c->labels[c->node_label_begin[a] + i];
        const ss_label_t *y = &c->labels[c->node_label_begin[b] + i];
        if (x->key != y->key || x->value != y->value)
            return false;
    }
    for (int32_t i = 0; i < c->node_taint_count[a]; i++) {
        const ss_taint_t *x = &c->taints[c->node_taint_begin[a] + i];
        const ss_taint_t *y = &c->taints[c->node_taint_begin[b] + i];
        if (x->key != y->key || x->value != y->value || x->effect != y->effect)
            return false;
    }
    for (int32_t i = 0; i < c->node_gpu_count[a]; i++)
        if (c->gpu_model[c->node_gpu_begin[a] + i] != c->gpu_model[c->node_gpu_begin[b] + i])
            return false;
    return true;
}

int ss_classes_build(const ss_cluster_t *c, ss_classes_t *cl, ss_error_t *err)
{
    memset(cl, 0, sizeof *cl);
    size_t n = c->n_nodes > 0 ? (size_t)c->n_nodes : 1;
    size_t nslots = 64;
    while (nslots < n * 2)
        nslots *= 2;
    int32_t *slots = malloc(nslots * sizeof *slots);
    uint64_t *sigs = malloc(n * sizeof *sigs);
    cl->node_class = malloc(n * sizeof *cl->node_class);
    cl->rep = malloc(n * sizeof *cl->rep);
    if (!slots || !sigs || !cl->node_class || !cl->rep) {
        free(slots);
        free(sigs);
        ss_classes_free(cl);
        return ss_error_set(err, SS_ENOMEM, "out of memory building node classes");
    }
    memset(slots, 0xff, nslots * sizeof *slots);
    for (int32_t i = 0; i < c->n_nodes; i++) {
        uint64_t h = node_sig(c, i);
        size_t s = h & (nslots - 1);
        int32_t k;
        while ((k = slots[s]) >= 0 && !(sigs[k] == h && same_sig(c, cl->rep[k], i)))
            s = (s + 1) & (nslots - 1);
        if (k < 0) {
            k = cl->n_classes++;
            cl->rep[k] = i;
            sigs[k] = h;
            slots[s] = k;
        }
        cl->node_class[i] = k;
        int32_t prefer = 0;
        for (int32_t t = 0; t < c->node_taint_count[i]; t++)
            prefer += c->taints[c->node_taint_begin[i] + t].effect == SS_EFFECT_PREFER_NO_SCHEDULE;
        if (prefer > cl->max_untolerated_prefer)
            cl->max_untolerated_prefer = prefer;
    }
    free(slots);
    free(sigs);
    cl->hostname_key = ss_strtab_find(c->strings, "kubernetes.io/hostname");
    return 0;
}

void ss_classes_free(ss_classes_t *cl)
{
    free(cl->node_class);
    free(cl->rep);
    memset(cl, 0, sizeof *cl);
}

int ss_verdict_alloc(const ss_classes_t *cl, ss_verdict_t *v)
{
    size_t k = cl->n_classes > 0 ? (size_t)cl->n_classes : 1;
    v->node_specific = 0;
    v->reason = malloc(k);
    v->bonus = malloc(k * sizeof *v->bonus);
    if (!v->reason || !v->bonus) {
        ss_verdict_free(v);
        return SS_ENOMEM;
    }
    return 0;
}

void ss_verdict_free(ss_verdict_t *v)
{
    free(v->reason);
    free(v->bonus);
    v->reason = NULL;
    v->bonus = NULL;
}

/* A template whose selectors name the hostname label or metadata.name gives
 * different verdicts on nodes of one class. */
static int refers_to_node(const ss_cluster_t *c, const ss_classes_t *cl, const ss_template_t *t)
{
    for (int32_t i = 0; i < t->sel_count; i++)
        if (c->labels[t->sel_begin + i].key == cl->hostname_key)
            return 1;
    int32_t ranges[2][2] = {{t->req_begin, t->req_count}, {t->pref_begin, t->pref_count}};
    for (int r = 0; r < 2; r++)
        for (int32_t i = 0; i < ranges[r][1]; i++) {
            const ss_term_t *term = &c->terms[ranges[r][0] + i];
            for (int32_t e = 0; e < term->expr_count; e++) {
                const ss_expr_t *x = &c->exprs[term->expr_begin + e];
                if (x->is_field || x->key == cl->hostname_key)
                    return 1;
            }
        }
    return 0;
}

int ss_static_eval(const ss_match_ctx_t *x, const ss_cluster_t *c, int32_t max_untolerated,
                   int32_t t, int32_t node, int64_t *bonus)
{
    int reason = ss_match_static(x, c, t, node);
    if (reason != SS_REASON_NONE)
        return reason;
    const ss_template_t *tp = &c->templates[t];
    int32_t total = 0;
    for (int32_t i = 0; i < tp->pref_count; i++)
        total += c->terms[tp->pref_begin + i].weight;
    int32_t untolerated = 0;
    ss_match_taints(x, c, t, node, &untolerated);
    *bonus = ss_policy_static_score(ss_match_preferred_weight(x, c, t, node), total, untolerated,
                                    max_untolerated);
    return SS_REASON_NONE;
}

void ss_verdict_compute(const ss_match_ctx_t *x, const ss_cluster_t *c, const ss_classes_t *cl,
                        int32_t t, ss_verdict_t *v)
{
    v->node_specific = refers_to_node(c, cl, &c->templates[t]);
    if (v->node_specific)
        return;
    for (int32_t k = 0; k < cl->n_classes; k++) {
        int64_t bonus = 0;
        v->reason[k] =
            (uint8_t)ss_static_eval(x, c, cl->max_untolerated_prefer, t, cl->rep[k], &bonus);
        v->bonus[k] = bonus;
    }
}
