/* ss_match: Kubernetes matching rules (taints/tolerations, nodeSelector, node
 * affinity, cordon, GPU model list) on interned string ids. See ss_match.h for
 * the exact semantics; this file is the straight implementation, built for
 * being called once per (template, node) pair in the filter cascade: small
 * linear scans over a node's few labels and taints, no allocation. */
#include "ss_match.h"

#include <limits.h>

#include "ss_reason.h"

int ss_match_ctx_init(ss_match_ctx_t *ctx, const ss_cluster_t *c)
{
    if (!ctx || !c || !c->strings)
        return SS_EINVAL;
    ctx->hostname = ss_strtab_find(c->strings, "kubernetes.io/hostname");
    ctx->unschedulable = ss_strtab_find(c->strings, "node.kubernetes.io/unschedulable");
    ctx->zone = ss_strtab_find(c->strings, "topology.kubernetes.io/zone");
    ctx->region = ss_strtab_find(c->strings, "topology.kubernetes.io/region");
    return 0;
}

bool ss_match_toleration(const ss_toleration_t *t, const ss_taint_t *taint)
{
    if (t->effect != SS_EFFECT_ANY && t->effect != taint->effect)
        return false;
    if (t->op == SS_TOL_EXISTS)
        return t->key == 0 || t->key == taint->key;
    if (t->op == SS_TOL_EQUAL)
        return t->key == taint->key && t->value == taint->value;
    return false;
}

/* True iff some toleration of template tm tolerates taint. */
static bool tolerated(const ss_cluster_t *c, const ss_template_t *tm, const ss_taint_t *taint)
{
    const ss_toleration_t *tol = c->tolerations + tm->tol_begin;
    for (int32_t i = 0; i < tm->tol_count; i++)
        if (ss_match_toleration(&tol[i], taint))
            return true;
    return false;
}

int ss_match_taints(const ss_match_ctx_t *x, const ss_cluster_t *c, int32_t tmpl, int32_t node,
                    int32_t *prefer_untolerated)
{
    (void)x;
    const ss_template_t *tm = &c->templates[tmpl];
    const ss_taint_t *taint = c->taints + c->node_taint_begin[node];
    int32_t n = c->node_taint_count[node];
    int ok = 1;
    int32_t prefer = 0;
    for (int32_t i = 0; i < n; i++) {
        if (taint[i].effect == SS_EFFECT_PREFER_NO_SCHEDULE) {
            if (prefer_untolerated && !tolerated(c, tm, &taint[i]))
                prefer++;
        } else if (ok && !tolerated(c, tm, &taint[i])) {
            ok = 0;
            if (!prefer_untolerated)
                break;
        }
    }
    if (prefer_untolerated)
        *prefer_untolerated = prefer;
    return ok;
}

bool ss_node_label(const ss_match_ctx_t *x, const ss_cluster_t *c, int32_t node, int32_t key,
                   int32_t *value)
{
    const ss_label_t *l = c->labels + c->node_label_begin[node];
    int32_t n = c->node_label_count[node];
    for (int32_t i = 0; i < n; i++) {
        if (l[i].key == key) {
            if (value)
                *value = l[i].value;
            return true;
        }
    }
    if (key >= 0 && key == x->hostname) {
        if (value)
            *value = c->node_name[node];
        return true;
    }
    return false;
}

/* Go's strconv.ParseInt(s, 10, 64) == nil error: optional sign, one or more
 * decimal digits, nothing else, within int64. */
static bool parse_int64(const char *s, int64_t *out)
{
    if (!s)
        return false;
    bool neg = false;
    if (*s == '+' || *s == '-')
        neg = (*s++ == '-');
    if (*s == '\0')
        return false;
    /* Accumulate as a negative number so INT64_MIN is representable. */
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        int d = *s - '0';
        if (v < (INT64_MIN + d) / 10)
            return false;
        v = v * 10 - d;
    }
    if (!neg) {
        if (v == INT64_MIN)
            return false;
        v = -v;
    }
    *out = v;
    return true;
}

/* True iff id is among the n string ids at vals. */
static bool in_values(const int32_t *vals, int32_t n, int32_t id)
{
    for (int32_t i = 0; i < n; i++)
        if (vals[i] == id)
            return true;
    return false;
}

/* matchFields: only metadata.name, In / NotIn with exactly one value. */
static bool match_field(const ss_cluster_t *c, const ss_expr_t *e, int32_t node)
{
    if (e->val_count != 1)
        return false;
    bool eq = c->expr_values[e->val_begin] == c->node_name[node];
    if (e->op == SS_OP_IN)
        return eq;
    if (e->op == SS_OP_NOT_IN)
        return !eq;
    return false;
}

/* Gt / Lt on a label value id: both sides must parse as int64. */
static bool match_cmp(const ss_cluster_t *c, const ss_expr_t *e, int32_t label_value)
{
    if (e->val_count != 1)
        return false;
    int64_t want, have;
    if (!parse_int64(ss_strtab_get(c->strings, c->expr_values[e->val_begin]), &want))
        return false;
    if (!parse_int64(ss_strtab_get(c->strings, label_value), &have))
        return false;
    return e->op == SS_OP_GT ? have > want : have < want;
}

bool ss_match_set_op(const ss_cluster_t *c, const ss_expr_t *e, bool has, int32_t value)
{
    const int32_t *vals = c->expr_values + e->val_begin;
    switch (e->op) {
    case SS_OP_IN:
        return e->val_count > 0 && has && in_values(vals, e->val_count, value);
    case SS_OP_NOT_IN:
        return e->val_count > 0 && (!has || !in_values(vals, e->val_count, value));
    case SS_OP_EXISTS:
        return e->val_count == 0 && has;
    case SS_OP_DOES_NOT_EXIST:
        return e->val_count == 0 && !has;
    default:
        return false;
    }
}

bool ss_match_expr(const ss_match_ctx_t *x, const ss_cluster_t *c, const ss_expr_t *e, int32_t node)
{
    if (e->is_field)
        return match_field(c, e, node);
    int32_t value = -1;
    bool has = ss_node_label(x, c, node, e->key, &value);
    if (e->op != SS_OP_GT && e->op != SS_OP_LT)
        return ss_match_set_op(c, e, has, value);
    return has && match_cmp(c, e, value);
}

bool ss_match_node_selector(const ss_match_ctx_t *x, const ss_cluster_t *c, int32_t tmpl,
                            int32_t node)
{
    const ss_template_t *tm = &c->templates[tmpl];
    const ss_label_t *sel = c->labels + tm->sel_begin;
    for (int32_t i = 0; i < tm->sel_count; i++) {
        int32_t value;
        if (!ss_node_label(x, c, node, sel[i].key, &value) || value != sel[i].value)
            return false;
    }
    return true;
}

/* True iff term t has at least one expression and all of them match. */
static bool match_term(const ss_match_ctx_t *x, const ss_cluster_t *c, const ss_term_t *t,
                       int32_t node)
{
    if (t->expr_count <= 0)
        return false;
    const ss_expr_t *e = c->exprs + t->expr_begin;
    for (int32_t i = 0; i < t->expr_count; i++)
        if (!ss_match_expr(x, c, &e[i], node))
            return false;
    return true;
}

bool ss_match_required_affinity(const ss_match_ctx_t *x, const ss_cluster_t *c, int32_t tmpl,
                                int32_t node)
{
    const ss_template_t *tm = &c->templates[tmpl];
    if (tm->req_count == 0)
        return true;
    const ss_term_t *t = c->terms + tm->req_begin;
    for (int32_t i = 0; i < tm->req_count; i++)
        if (match_term(x, c, &t[i], node))
            return true;
    return false;
}

int32_t ss_match_preferred_weight(const ss_match_ctx_t *x, const ss_cluster_t *c, int32_t tmpl,
                                  int32_t node)
{
    const ss_template_t *tm = &c->templates[tmpl];
    const ss_term_t *t = c->terms + tm->pref_begin;
    int32_t sum = 0;
    for (int32_t i = 0; i < tm->pref_count; i++)
        if (t[i].weight != 0 && match_term(x, c, &t[i], node))
            sum += t[i].weight;
    return sum;
}

bool ss_match_gpu_model(const ss_match_ctx_t *x, const ss_cluster_t *c, int32_t tmpl, int32_t node)
{
    (void)x;
    const ss_template_t *tm = &c->templates[tmpl];
    if (tm->req.gpu_count <= 0 || tm->model_count <= 0)
        return true;
    const int32_t *models = c->models + tm->model_begin;
    const int32_t *gm = c->gpu_model + c->node_gpu_begin[node];
    int32_t n = c->node_gpu_count[node], found = 0;
    for (int32_t i = 0; i < n && found < tm->req.gpu_count; i++)
        if (in_values(models, tm->model_count, gm[i]))
            found++;
    return found >= tm->req.gpu_count;
}

int ss_match_static(const ss_match_ctx_t *x, const ss_cluster_t *c, int32_t tmpl, int32_t node)
{
    if (c->node_unsched[node]) {
        /* NodeUnschedulable: the pod may tolerate the implied cordon taint. */
        ss_taint_t cordon = {x->unschedulable, 0, SS_EFFECT_NO_SCHEDULE};
        if (!tolerated(c, &c->templates[tmpl], &cordon))
            return SS_REASON_CORDONED;
    }
    if (!ss_match_taints(x, c, tmpl, node, NULL))
        return SS_REASON_TAINT;
    if (!ss_match_node_selector(x, c, tmpl, node))
        return SS_REASON_NODE_SELECTOR;
    if (!ss_match_required_affinity(x, c, tmpl, node))
        return SS_REASON_NODE_AFFINITY;
    if (!ss_match_gpu_model(x, c, tmpl, node))
        return SS_REASON_GPU_MODEL;
    return SS_REASON_NONE;
}
