/* ss_kube_template: a Pod's scheduling spec as an ss_template_t: request,
 * nodeSelector, node affinity (required terms ORed, preferred weighted;
 * matchExpressions and matchFields), tolerations, the pod's labels, the
 * owning workload and the `unsupported` rule bits. Pods of one workload with
 * identical specs share one template: the spec is first encoded as a byte
 * key (int32 words) and looked up, and only a new key appends to the pools.
 * With ~50 pods per workload, most pods only cost the key lookup. */
#include "ss_kube_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int32_t *v;
    size_t n, cap;
    bool oom;
} ivec_t;

static void ipush(ivec_t *a, int32_t x)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 32;
        int32_t *nv = realloc(a->v, cap * sizeof *nv);
        if (!nv) {
            a->oom = true;
            return;
        }
        a->v = nv;
        a->cap = cap;
    }
    a->v[a->n++] = x;
}

/* The parts of a template before they go to the cluster's pools. */
typedef struct {
    ivec_t sel, plabels, tols; /* pairs; pairs; (key, value, op, effect) */
    ivec_t req, pref;          /* terms: weight, nexpr, then per expr: key, op, field, nval, vals */
    uint32_t unsupported;
    int32_t workload;
} tparts_t;

static int label_pairs(kctx_t *k, json_t *m, ivec_t *out, const kitem_t *it, const char *field,
                       ss_error_t *err)
{
    const char *key;
    json_t *v;
    char nb[256];
    json_object_foreach(m, key, v)
    {
        if (!json_is_string(v))
            return ss_error_set(err, SS_EFORMAT, "%s: Pod %s: %s.%s: not a string", it->path,
                                kname(it->obj, nb), field, key);
        int32_t kid = kstr_id(k, key, err), vid = kstr_id(k, json_string_value(v), err);
        if (kid < 0 || vid < 0)
            return SS_ENOMEM;
        ipush(out, kid);
        ipush(out, vid);
    }
    return 0;
}

static int parse_op(const char *s)
{
    static const char *const ops[SS_OP_COUNT] = {"In",           "NotIn", "Exists",
                                                 "DoesNotExist", "Gt",    "Lt"};
    for (int i = 0; s && i < SS_OP_COUNT; i++)
        if (!strcmp(s, ops[i]))
            return i;
    return -1;
}

static int term_exprs(kctx_t *k, json_t *reqs, int is_field, ivec_t *out, int32_t *count,
                      const kitem_t *it, const char *field, ss_error_t *err)
{
    size_t i, j;
    json_t *e, *val;
    char nb[256];
    json_array_foreach(reqs, i, e)
    {
        const char *key = kstr(e, "key", NULL, NULL);
        int op = parse_op(kstr(e, "operator", NULL, NULL));
        if (!key || op < 0 || (is_field && strcmp(key, "metadata.name")))
            return ss_error_set(err, SS_EFORMAT,
                                "%s: Pod %s: %s[%zu]: needs a key%s and an operator In, NotIn, "
                                "Exists, DoesNotExist, Gt or Lt",
                                it->path, kname(it->obj, nb), field, i,
                                is_field ? " (matchFields supports only metadata.name)" : "");
        int32_t kid = kstr_id(k, key, err);
        if (kid < 0)
            return SS_ENOMEM;
        json_t *vals = kget(e, "values", NULL, NULL);
        ipush(out, is_field ? 0 : kid);
        ipush(out, op);
        ipush(out, is_field);
        ipush(out, (int32_t)json_array_size(vals));
        json_array_foreach(vals, j, val)
        {
            int32_t vid = kstr_id(k, json_string_value(val), err);
            if (vid < 0 || !json_is_string(val))
                return vid < 0 ? SS_ENOMEM
                               : ss_error_set(err, SS_EFORMAT,
                                              "%s: Pod %s: %s[%zu].values: not strings", it->path,
                                              kname(it->obj, nb), field, i);
            ipush(out, vid);
        }
        (*count)++;
    }
    return 0;
}

/* One NodeSelectorTerm. An empty term matches no node in Kubernetes: it
 * becomes `metadata.name In ()`, which matches none either. */
static int one_term(kctx_t *k, json_t *term, int32_t weight, ivec_t *out, const kitem_t *it,
                    const char *field, ss_error_t *err)
{
    char f[200];
    size_t at = out->n;
    int32_t count = 0;
    ipush(out, weight);
    ipush(out, 0);
    int rc;
    snprintf(f, sizeof f, "%s.matchExpressions", field);
    if ((rc = term_exprs(k, kget(term, "matchExpressions", NULL, NULL), 0, out, &count, it, f,
                         err)) < 0)
        return rc;
    snprintf(f, sizeof f, "%s.matchFields", field);
    if ((rc = term_exprs(k, kget(term, "matchFields", NULL, NULL), 1, out, &count, it, f, err)) < 0)
        return rc;
    if (count == 0) {
        const int32_t none[4] = {0, SS_OP_IN, 1, 0};
        for (int i = 0; i < 4; i++)
            ipush(out, none[i]);
        count = 1;
    }
    if (!out->oom)
        out->v[at + 1] = count;
    return 0;
}

static int node_affinity(kctx_t *k, const kitem_t *it, tparts_t *t, ss_error_t *err)
{
    json_t *na = kget(it->obj, "spec", "affinity", "nodeAffinity");
    json_t *terms =
        kget(na, "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms", NULL);
    size_t i;
    json_t *x;
    char f[200], nb[256];
    int rc;
    json_array_foreach(terms, i, x)
    {
        snprintf(f, sizeof f, "nodeAffinity.required.nodeSelectorTerms[%zu]", i);
        if ((rc = one_term(k, x, 0, &t->req, it, f, err)) < 0)
            return rc;
    }
    json_array_foreach(kget(na, "preferredDuringSchedulingIgnoredDuringExecution", NULL, NULL), i,
                       x)
    {
        json_t *w = kget(x, "weight", NULL, NULL);
        if (!json_is_integer(w) || json_integer_value(w) < 1 || json_integer_value(w) > 100)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: Pod %s: nodeAffinity.preferred[%zu].weight: "
                                "must be an integer 1..100",
                                it->path, kname(it->obj, nb), i);
        snprintf(f, sizeof f, "nodeAffinity.preferred[%zu].preference", i);
        if ((rc = one_term(k, kget(x, "preference", NULL, NULL), (int32_t)json_integer_value(w),
                           &t->pref, it, f, err)) < 0)
            return rc;
    }
    return 0;
}

static int tolerations(kctx_t *k, const kitem_t *it, tparts_t *t, ss_error_t *err)
{
    size_t i;
    json_t *x;
    char nb[256];
    json_array_foreach(kget(it->obj, "spec", "tolerations", NULL), i, x)
    {
        const char *op = kstr(x, "operator", NULL, NULL);
        int32_t effect, opv = (op && !strcmp(op, "Exists")) ? SS_TOL_EXISTS : SS_TOL_EQUAL;
        const char *ef = kstr(x, "effect", NULL, NULL);
        if ((op && opv == SS_TOL_EQUAL && strcmp(op, "Equal")) ||
            kube_effect(ef ? ef : "", &effect) < 0)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: Pod %s: spec.tolerations[%zu]: operator must be Equal or "
                                "Exists, effect NoSchedule, PreferNoSchedule, NoExecute or empty",
                                it->path, kname(it->obj, nb), i);
        int32_t kid = kstr_id(k, kstr(x, "key", NULL, NULL), err);
        int32_t vid = kstr_id(k, kstr(x, "value", NULL, NULL), err);
        if (kid < 0 || vid < 0)
            return SS_ENOMEM;
        ipush(&t->tols, kid);
        ipush(&t->tols, vid);
        ipush(&t->tols, opv);
        ipush(&t->tols, effect);
    }
    return 0;
}

static bool has_items(json_t *o)
{
    return (json_is_array(o) && json_array_size(o) > 0) ||
           (json_is_object(o) && json_object_size(o) > 0);
}

static bool has_host_port(json_t *ctrs)
{
    size_t i, j;
    json_t *c, *p;
    json_array_foreach(ctrs, i, c) json_array_foreach(kget(c, "ports", NULL, NULL), j, p)
    {
        if (json_integer_value(kget(p, "hostPort", NULL, NULL)) > 0)
            return true;
    }
    return false;
}

static bool has_claim_volume(json_t *vols)
{
    size_t i;
    json_t *v;
    json_array_foreach(vols, i, v)
    {
        if (kget(v, "persistentVolumeClaim", NULL, NULL) || kget(v, "ephemeral", NULL, NULL))
            return true;
    }
    return false;
}

/* Rule bits, and warnings/SS_RULE_OTHER for unmodelled fields of pending pods. */
static int rules(kctx_t *k, const kitem_t *it, bool pending, tparts_t *t, ss_error_t *err)
{
    json_t *spec = kget(it->obj, "spec", NULL, NULL), *aff = kget(spec, "affinity", NULL, NULL);
    struct {
        bool on;
        int warn;
        uint32_t bit;
    } r[] = {
        {has_items(kget(aff, "podAffinity", NULL, NULL)), SS_KUBE_WARN_POD_AFFINITY,
         SS_RULE_POD_AFFINITY},
        {has_items(kget(aff, "podAntiAffinity", NULL, NULL)), SS_KUBE_WARN_POD_ANTI_AFFINITY,
         SS_RULE_POD_ANTI_AFFINITY},
        {has_items(kget(spec, "topologySpreadConstraints", NULL, NULL)),
         SS_KUBE_WARN_TOPOLOGY_SPREAD, SS_RULE_TOPOLOGY_SPREAD},
        {has_host_port(kget(spec, "containers", NULL, NULL)) ||
             has_host_port(kget(spec, "initContainers", NULL, NULL)),
         SS_KUBE_WARN_HOST_PORT, SS_RULE_OTHER},
        {has_claim_volume(kget(spec, "volumes", NULL, NULL)), SS_KUBE_WARN_PVC, SS_RULE_OTHER},
        {has_items(kget(spec, "resourceClaims", NULL, NULL)), SS_KUBE_WARN_RESOURCE_CLAIM,
         SS_RULE_OTHER},
        {has_items(kget(spec, "schedulingGates", NULL, NULL)), SS_KUBE_WARN_SCHEDULING_GATES,
         SS_RULE_OTHER},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        if (!r[i].on)
            continue;
        /* Pod (anti-)affinity and spread are marked on running pods too, so
         * that a pod un-bound later is never placed without its rule. */
        if (r[i].bit != SS_RULE_OTHER || pending)
            t->unsupported |= r[i].bit;
        if (pending && kwarn(k, r[i].warn, it, err) < 0)
            return SS_EUNSUPPORTED;
    }
    const char *pp = kstr(spec, "preemptionPolicy", NULL, NULL);
    if (pending && pp && !strcmp(pp, "Never") && kwarn(k, SS_KUBE_WARN_PREEMPT_NEVER, it, err) < 0)
        return SS_EUNSUPPORTED;
    return 0;
}

static int workload(kctx_t *k, const kitem_t *it, tparts_t *t, ss_error_t *err)
{
    json_t *refs = kget(it->obj, "metadata", "ownerReferences", NULL), *ref = NULL, *x;
    size_t i;
    json_array_foreach(refs, i, x)
    {
        if (!ref || json_is_true(kget(x, "controller", NULL, NULL)))
            ref = x;
        if (json_is_true(kget(x, "controller", NULL, NULL)))
            break;
    }
    char w[512];
    snprintf(w, sizeof w, "%s/%s",
             ref && kstr(ref, "kind", NULL, NULL) ? kstr(ref, "kind", NULL, NULL) : "",
             ref && kstr(ref, "name", NULL, NULL) ? kstr(ref, "name", NULL, NULL) : "");
    t->workload = kstr_id(k, ref ? w : "", err);
    return t->workload < 0 ? SS_ENOMEM : 0;
}

/* The key: every field of the template as int32 words, each list preceded
 * by its length. */
static int make_key(const ss_request_t *req, const tparts_t *t, ivec_t *key)
{
    int32_t head[sizeof *req / sizeof(int32_t)];
    memcpy(head, req, sizeof head);
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        ipush(key, head[i]);
    ipush(key, (int32_t)t->unsupported);
    ipush(key, t->workload);
    const ivec_t *parts[5] = {&t->sel, &t->plabels, &t->tols, &t->req, &t->pref};
    for (int p = 0; p < 5; p++) {
        ipush(key, (int32_t)parts[p]->n);
        for (size_t i = 0; i < parts[p]->n; i++)
            ipush(key, parts[p]->v[i]);
    }
    return key->oom ? SS_ENOMEM : 0;
}

static int add_pairs(ss_cluster_t *c, const ivec_t *v, int32_t *begin, int32_t *count)
{
    *begin = c->n_labels;
    *count = (int32_t)(v->n / 2);
    for (size_t i = 0; i + 1 < v->n; i += 2)
        if (ss_cluster_add_label(c, v->v[i], v->v[i + 1]) < 0)
            return SS_ENOMEM;
    return 0;
}

static int add_terms(ss_cluster_t *c, const ivec_t *v, int32_t *begin, int32_t *count)
{
    *begin = c->n_terms;
    *count = 0;
    for (size_t i = 0; i < v->n;) {
        int32_t weight = v->v[i], nexpr = v->v[i + 1], eb = c->n_exprs;
        i += 2;
        for (int32_t e = 0; e < nexpr; e++) {
            int32_t key = v->v[i], op = v->v[i + 1], field = v->v[i + 2], nval = v->v[i + 3];
            int32_t vb = c->n_expr_values;
            i += 4;
            for (int32_t j = 0; j < nval; j++)
                if (ss_cluster_add_expr_value(c, v->v[i++]) < 0)
                    return SS_ENOMEM;
            if (ss_cluster_add_expr(c, key, op, field, vb, nval) < 0)
                return SS_ENOMEM;
        }
        if (ss_cluster_add_term(c, eb, nexpr, weight) < 0)
            return SS_ENOMEM;
        (*count)++;
    }
    return 0;
}

static int commit(kctx_t *k, const ss_request_t *req, const tparts_t *t, int32_t *tmpl)
{
    ss_cluster_t *c = k->c;
    ss_template_t x;
    memset(&x, 0, sizeof x);
    x.req = *req;
    x.unsupported = t->unsupported;
    x.workload = t->workload;
    x.model_begin = c->n_models;
    if (add_pairs(c, &t->sel, &x.sel_begin, &x.sel_count) < 0 ||
        add_pairs(c, &t->plabels, &x.plabel_begin, &x.plabel_count) < 0 ||
        add_terms(c, &t->req, &x.req_begin, &x.req_count) < 0 ||
        add_terms(c, &t->pref, &x.pref_begin, &x.pref_count) < 0)
        return SS_ENOMEM;
    x.tol_begin = c->n_tolerations;
    x.tol_count = (int32_t)(t->tols.n / 4);
    for (size_t i = 0; i + 3 < t->tols.n; i += 4)
        if (ss_cluster_add_toleration(c, t->tols.v[i], t->tols.v[i + 1], t->tols.v[i + 2],
                                      t->tols.v[i + 3]) < 0)
            return SS_ENOMEM;
    *tmpl = ss_cluster_add_template(c, &x);
    return *tmpl < 0 ? SS_ENOMEM : 0;
}

/* Finds or adds the template for key. */
static int lookup_or_commit(kctx_t *k, const ss_request_t *req, const tparts_t *t,
                            const ivec_t *key, int32_t *tmpl)
{
    if (!k->tkeys && !(k->tkeys = ss_strtab_create()))
        return SS_ENOMEM;
    int32_t before = ss_strtab_count(k->tkeys);
    int32_t id = ss_strtab_intern_n(k->tkeys, (const char *)key->v, key->n * sizeof(int32_t));
    if (id < 0)
        return SS_ENOMEM;
    if (id < before) {
        *tmpl = k->tkey_tmpl[id];
        return 0;
    }
    if (id >= k->tkey_cap) {
        int32_t cap = k->tkey_cap ? k->tkey_cap * 2 : 1024;
        while (cap <= id)
            cap *= 2;
        int32_t *nv = realloc(k->tkey_tmpl, (size_t)cap * sizeof *nv);
        if (!nv)
            return SS_ENOMEM;
        k->tkey_tmpl = nv;
        k->tkey_cap = cap;
    }
    int rc = commit(k, req, t, tmpl);
    k->tkey_tmpl[id] = *tmpl;
    return rc;
}

int kube_pod_template(kctx_t *k, const kitem_t *it, const ss_request_t *req, bool pending,
                      int32_t *tmpl, ss_error_t *err)
{
    tparts_t t;
    ivec_t key = {0};
    memset(&t, 0, sizeof t);
    int rc = label_pairs(k, kget(it->obj, "spec", "nodeSelector", NULL), &t.sel, it,
                         "spec.nodeSelector", err);
    if (rc == 0)
        rc = label_pairs(k, kget(it->obj, "metadata", "labels", NULL), &t.plabels, it,
                         "metadata.labels", err);
    if (rc == 0)
        rc = node_affinity(k, it, &t, err);
    if (rc == 0)
        rc = tolerations(k, it, &t, err);
    if (rc == 0)
        rc = rules(k, it, pending, &t, err);
    if (rc == 0)
        rc = workload(k, it, &t, err);
    if (rc == 0 && (t.sel.oom || t.plabels.oom || t.tols.oom || t.req.oom || t.pref.oom))
        rc = SS_ENOMEM;
    if (rc == 0)
        rc = make_key(req, &t, &key);
    if (rc == 0)
        rc = lookup_or_commit(k, req, &t, &key, tmpl);
    if (rc == SS_ENOMEM)
        ss_error_set(err, rc, "out of memory building pod templates");
    free(t.sel.v);
    free(t.plabels.v);
    free(t.tols.v);
    free(t.req.v);
    free(t.pref.v);
    free(key.v);
    return rc;
}
