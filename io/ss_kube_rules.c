/* ss_kube_rules: a Pod's inter-pod rules (issue 12) as the importer reads
 * them: metav1 label selectors, topologySpreadConstraints (matchLabelKeys
 * folded into the selector as `key In (the pod's value)`, a key the pod
 * lacks ignored, as kube-scheduler does) and pod (anti-)affinity terms,
 * required and preferred (matchLabelKeys as In, mismatchLabelKeys as NotIn).
 * Each is validated as the API server validates it, with errors naming the
 * file, the pod and the field; the parts become int32 words (so that they
 * are part of the template's dedupe key) and are appended to the cluster's
 * pools only for a new template. docs/kubernetes.md ("Inter-pod rules") is
 * the contract. */
#include "ss_kube_internal.h"

#include <stdlib.h>
#include <string.h>

void kipush(kivec_t *a, int32_t x)
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

static int sel_op(const char *s)
{
    static const char *const ops[4] = {"In", "NotIn", "Exists", "DoesNotExist"};
    for (int i = 0; s && i < 4; i++)
        if (!strcmp(s, ops[i]))
            return i;
    return -1;
}

/* One matchExpressions entry: key, op, nval, values. */
static int sel_expr(kctx_t *k, const kitem_t *it, json_t *e, const char *where, kivec_t *out,
                    ss_error_t *err)
{
    json_t *key, *opv, *vals, *x;
    char who[512];
    size_t j;
    int rc;
    if (!json_is_object(e))
        return ss_error_set(err, SS_EFORMAT, "%s: %s: expected an object", kwho(it, who), where);
    if ((rc = kat(it, e, where, "key", NULL, NULL, KT_STR, &key, err)) < 0 ||
        (rc = kat(it, e, where, "operator", NULL, NULL, KT_STR, &opv, err)) < 0 ||
        (rc = kat(it, e, where, "values", NULL, NULL, KT_ARR, &vals, err)) < 0)
        return rc;
    int op = sel_op(json_string_value(opv));
    size_t n = json_array_size(vals);
    if (!key || !*json_string_value(key))
        return ss_error_set(err, SS_EFORMAT, "%s: %s.key: must be a non-empty string",
                            kwho(it, who), where);
    if (op < 0)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: %s.operator: must be In, NotIn, Exists or DoesNotExist",
                            kwho(it, who), where);
    if ((op == SS_OP_IN || op == SS_OP_NOT_IN) && n == 0)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: %s.values: must have at least one value for In and NotIn",
                            kwho(it, who), where);
    if ((op == SS_OP_EXISTS || op == SS_OP_DOES_NOT_EXIST) && n != 0)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: %s.values: must be empty for Exists and DoesNotExist",
                            kwho(it, who), where);
    int32_t kid = kstr_id(k, json_string_value(key), err);
    if (kid < 0)
        return SS_ENOMEM;
    kipush(out, kid);
    kipush(out, op);
    kipush(out, (int32_t)n);
    json_array_foreach(vals, j, x)
    {
        if (!json_is_string(x))
            return ss_error_set(err, SS_EFORMAT, "%s: %s.values[%zu]: expected a string",
                                kwho(it, who), where, j);
        int32_t vid = kstr_id(k, json_string_value(x), err);
        if (vid < 0)
            return SS_ENOMEM;
        kipush(out, vid);
    }
    return 0;
}

int kube_selector(kctx_t *k, const kitem_t *it, json_t *sel, const char *field, kivec_t *out,
                  ss_error_t *err)
{
    json_t *ml, *me, *v;
    const char *key;
    char who[512], where[300];
    size_t i;
    int rc;
    if (json_is_null(sel))
        sel = NULL;
    if (sel && !json_is_object(sel))
        return ss_error_set(err, SS_EFORMAT, "%s: %s: expected an object", kwho(it, who), field);
    kipush(out, sel ? 0 : 1);
    size_t at = out->n;
    kipush(out, 0);
    if (!sel)
        return 0;
    if ((rc = kat(it, sel, field, "matchLabels", NULL, NULL, KT_OBJ, &ml, err)) < 0 ||
        (rc = kat(it, sel, field, "matchExpressions", NULL, NULL, KT_ARR, &me, err)) < 0)
        return rc;
    int32_t count = 0;
    json_object_foreach(ml, key, v)
    {
        if (!json_is_string(v))
            return ss_error_set(err, SS_EFORMAT, "%s: %s.matchLabels.%s: expected a string",
                                kwho(it, who), field, key);
        if (!*key)
            return ss_error_set(err, SS_EFORMAT, "%s: %s.matchLabels: a key is empty",
                                kwho(it, who), field);
        int32_t kid = kstr_id(k, key, err), vid = kstr_id(k, json_string_value(v), err);
        if (kid < 0 || vid < 0)
            return SS_ENOMEM;
        const int32_t w[4] = {kid, SS_OP_IN, 1, vid};
        for (int j = 0; j < 4; j++)
            kipush(out, w[j]);
        count++;
    }
    json_array_foreach(me, i, v)
    {
        snprintf(where, sizeof where, "%s.matchExpressions[%zu]", field, i);
        if ((rc = sel_expr(k, it, v, where, out, err)) < 0)
            return rc;
        count++;
    }
    if (!out->oom)
        out->v[at] = count;
    return 0;
}

/* The pod's value of label key kid, or -1. */
static int32_t label_value(const kivec_t *plabels, int32_t kid)
{
    for (size_t i = 0; i + 1 < plabels->n; i += 2)
        if (plabels->v[i] == kid)
            return plabels->v[i + 1];
    return -1;
}

/* Adds `key op (value)` to the selector whose words start at sel (null,
 * count, ...), unless it is null (matches nothing either way) or already
 * has that requirement (an API server that merged the keys at admission). */
static void fold_req(kivec_t *out, size_t sel, int32_t key, int32_t op, int32_t value)
{
    if (out->oom || out->v[sel])
        return;
    size_t p = sel + 2;
    for (int32_t i = 0; i < out->v[sel + 1]; i++) {
        if (out->v[p] == key && out->v[p + 1] == op && out->v[p + 2] == 1 && out->v[p + 3] == value)
            return;
        p += 3 + (size_t)out->v[p + 2];
    }
    const int32_t w[4] = {key, op, 1, value};
    for (int j = 0; j < 4; j++)
        kipush(out, w[j]);
    if (!out->oom)
        out->v[sel + 1]++;
}

/* matchLabelKeys (op In) or mismatchLabelKeys (op NotIn) of x into the
 * selector at sel; other: the other list, whose keys must not repeat. */
static int fold_keys(kctx_t *k, const kitem_t *it, json_t *x, const char *where, const char *name,
                     json_t *other, int32_t op, const kivec_t *plabels, kivec_t *out, size_t sel,
                     ss_error_t *err)
{
    json_t *keys, *v, *o;
    char who[512];
    size_t i, j;
    int rc = kat(it, x, where, name, NULL, NULL, KT_ARR, &keys, err);
    if (rc < 0)
        return rc;
    if (out->oom)
        return SS_ENOMEM;
    if (json_array_size(keys) && out->v[sel])
        return ss_error_set(err, SS_EFORMAT, "%s: %s.%s: must not be set without labelSelector",
                            kwho(it, who), where, name);
    json_array_foreach(keys, i, v)
    {
        if (!json_is_string(v) || !*json_string_value(v))
            return ss_error_set(err, SS_EFORMAT, "%s: %s.%s[%zu]: must be a non-empty string",
                                kwho(it, who), where, name, i);
        json_array_foreach(
            other, j,
            o) if (json_is_string(o) &&
                   !strcmp(json_string_value(o),
                           json_string_value(v))) return ss_error_set(err, SS_EFORMAT,
                                                                      "%s: %s.%s[%zu]: '%.80s' is "
                                                                      "in both matchLabelKeys and "
                                                                      "mismatchLabelKeys",
                                                                      kwho(it, who), where, name, i,
                                                                      json_string_value(v));
        int32_t kid = kstr_id(k, json_string_value(v), err);
        if (kid < 0)
            return SS_ENOMEM;
        int32_t val = label_value(plabels, kid);
        if (val >= 0) /* a key the pod lacks is ignored */
            fold_req(out, sel, kid, op, val);
    }
    return 0;
}

/* An int32 member >= lo, or def when absent. */
static int int_at(const kitem_t *it, json_t *x, const char *where, const char *name, int32_t lo,
                  int32_t def, bool required, int32_t *out, ss_error_t *err)
{
    json_t *v;
    char who[512];
    int rc = kat(it, x, where, name, NULL, NULL, KT_INT, &v, err);
    if (rc < 0)
        return rc;
    if (!v && required)
        return ss_error_set(err, SS_EFORMAT, "%s: %s.%s: required", kwho(it, who), where, name);
    json_int_t n = v ? json_integer_value(v) : def;
    if (n < lo || n > INT32_MAX)
        return ss_error_set(err, SS_EFORMAT, "%s: %s.%s: must be an integer >= %d (got %lld)",
                            kwho(it, who), where, name, (int)lo, (long long)n);
    *out = (int32_t)n;
    return 0;
}

/* A string member that must be one of a[0] / a[1] (index into *out), or
 * def when absent. */
static int enum_at(const kitem_t *it, json_t *x, const char *where, const char *name,
                   const char *a0, const char *a1, int32_t def, int32_t *out, ss_error_t *err)
{
    json_t *v;
    char who[512];
    int rc = kat(it, x, where, name, NULL, NULL, KT_STR, &v, err);
    if (rc < 0)
        return rc;
    const char *s = json_string_value(v);
    if (!s && def < 0)
        return ss_error_set(err, SS_EFORMAT, "%s: %s.%s: required (%s or %s)", kwho(it, who), where,
                            name, a0, a1);
    if (s && strcmp(s, a0) && strcmp(s, a1))
        return ss_error_set(err, SS_EFORMAT, "%s: %s.%s: '%.60s' is not %s or %s", kwho(it, who),
                            where, name, s, a0, a1);
    *out = !s ? def : !strcmp(s, a0) ? 0 : 1;
    return 0;
}

static int topology_key(kctx_t *k, const kitem_t *it, json_t *x, const char *where, int32_t *kid,
                        ss_error_t *err)
{
    json_t *v;
    char who[512];
    int rc = kat(it, x, where, "topologyKey", NULL, NULL, KT_STR, &v, err);
    if (rc < 0)
        return rc;
    if (!v || !*json_string_value(v))
        return ss_error_set(err, SS_EFORMAT, "%s: %s.topologyKey: must be a non-empty string",
                            kwho(it, who), where);
    *kid = kstr_id(k, json_string_value(v), err);
    return *kid < 0 ? SS_ENOMEM : 0;
}

/* One constraint: max_skew, key, when, min_domains, nap, ntp, selector. */
static int one_spread(kctx_t *k, const kitem_t *it, json_t *x, const char *where,
                      const kivec_t *plabels, kivec_t *out, ss_error_t *err)
{
    char who[512];
    int32_t w[6];
    json_t *md;
    int rc;
    if (!json_is_object(x))
        return ss_error_set(err, SS_EFORMAT, "%s: %s: expected an object", kwho(it, who), where);
    if ((rc = int_at(it, x, where, "maxSkew", 1, 0, true, &w[0], err)) < 0 ||
        (rc = topology_key(k, it, x, where, &w[1], err)) < 0 ||
        (rc = enum_at(it, x, where, "whenUnsatisfiable", "DoNotSchedule", "ScheduleAnyway", -1,
                      &w[2], err)) < 0 ||
        (rc = int_at(it, x, where, "minDomains", 1, 1, false, &w[3], err)) < 0 ||
        (rc = enum_at(it, x, where, "nodeAffinityPolicy", "Honor", "Ignore", SS_INCL_HONOR, &w[4],
                      err)) < 0 ||
        (rc = enum_at(it, x, where, "nodeTaintsPolicy", "Honor", "Ignore", SS_INCL_IGNORE, &w[5],
                      err)) < 0 ||
        (rc = kat(it, x, where, "minDomains", NULL, NULL, KT_INT, &md, err)) < 0)
        return rc;
    if (md && w[2] != SS_WHEN_DO_NOT_SCHEDULE)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: %s.minDomains: can only be set with whenUnsatisfiable "
                            "DoNotSchedule",
                            kwho(it, who), where);
    for (int i = 0; i < 6; i++)
        kipush(out, w[i]);
    char f[320];
    snprintf(f, sizeof f, "%s.labelSelector", where);
    size_t sel = out->n;
    if ((rc = kube_selector(k, it, kget(x, "labelSelector", NULL, NULL), f, out, err)) < 0)
        return rc;
    return fold_keys(k, it, x, where, "matchLabelKeys", NULL, SS_OP_IN, plabels, out, sel, err);
}

static int spreads(kctx_t *k, const kitem_t *it, const kivec_t *plabels, kivec_t *out,
                   ss_error_t *err)
{
    json_t *arr, *x, *y;
    size_t i, j;
    char where[96], who[512];
    int rc = kat(it, it->obj, NULL, "spec", "topologySpreadConstraints", NULL, KT_ARR, &arr, err);
    json_array_foreach(arr, i, x)
    {
        snprintf(where, sizeof where, "spec.topologySpreadConstraints[%zu]", i);
        if (rc < 0 || (rc = one_spread(k, it, x, where, plabels, out, err)) < 0)
            return rc;
        /* As the API server: one constraint per (topologyKey, whenUnsatisfiable). */
        for (j = 0; j < i; j++) {
            y = json_array_get(arr, j);
            if (json_equal(kget(x, "topologyKey", NULL, NULL),
                           kget(y, "topologyKey", NULL, NULL)) &&
                json_equal(kget(x, "whenUnsatisfiable", NULL, NULL),
                           kget(y, "whenUnsatisfiable", NULL, NULL)))
                return ss_error_set(err, SS_EFORMAT,
                                    "%s: %s: the same topologyKey and whenUnsatisfiable as "
                                    "[%zu]",
                                    kwho(it, who), where, j);
        }
    }
    return rc;
}

/* One PodAffinityTerm: kind, weight, key, selector, nns, ns ids,
 * namespace selector. */
static int one_pterm(kctx_t *k, const kitem_t *it, json_t *x, const char *where, int32_t kind,
                     int32_t weight, const kivec_t *plabels, kivec_t *out, ss_error_t *err)
{
    char who[512], f[320];
    json_t *nss, *v, *mlk;
    size_t i;
    int32_t key;
    int rc;
    if (!json_is_object(x))
        return ss_error_set(err, SS_EFORMAT, "%s: %s: expected an object", kwho(it, who), where);
    if ((rc = topology_key(k, it, x, where, &key, err)) < 0 ||
        (rc = kat(it, x, where, "namespaces", NULL, NULL, KT_ARR, &nss, err)) < 0 ||
        (rc = kat(it, x, where, "matchLabelKeys", NULL, NULL, KT_ARR, &mlk, err)) < 0)
        return rc;
    kipush(out, kind);
    kipush(out, weight);
    kipush(out, key);
    snprintf(f, sizeof f, "%s.labelSelector", where);
    size_t sel = out->n;
    if ((rc = kube_selector(k, it, kget(x, "labelSelector", NULL, NULL), f, out, err)) < 0 ||
        (rc = fold_keys(k, it, x, where, "matchLabelKeys", NULL, SS_OP_IN, plabels, out, sel,
                        err)) < 0 ||
        (rc = fold_keys(k, it, x, where, "mismatchLabelKeys", mlk, SS_OP_NOT_IN, plabels, out, sel,
                        err)) < 0)
        return rc;
    kipush(out, (int32_t)json_array_size(nss));
    json_array_foreach(nss, i, v)
    {
        if (!json_is_string(v) || !*json_string_value(v))
            return ss_error_set(err, SS_EFORMAT,
                                "%s: %s.namespaces[%zu]: must be a non-empty string", kwho(it, who),
                                where, i);
        int32_t id = kstr_id(k, json_string_value(v), err);
        if (id < 0)
            return SS_ENOMEM;
        kipush(out, id);
    }
    snprintf(f, sizeof f, "%s.namespaceSelector", where);
    return kube_selector(k, it, kget(x, "namespaceSelector", NULL, NULL), f, out, err);
}

/* podAffinity or podAntiAffinity: required terms, then preferred ones. */
static int pterms(kctx_t *k, const kitem_t *it, const char *name, int32_t kind,
                  const kivec_t *plabels, kivec_t *out, ss_error_t *err)
{
    json_t *pa, *req, *pref, *x, *term;
    char base[96], where[200], who[512];
    size_t i;
    int rc;
    snprintf(base, sizeof base, "spec.affinity.%s", name);
    if ((rc = kat(it, it->obj, NULL, "spec", "affinity", name, KT_OBJ, &pa, err)) < 0 ||
        (rc = kat(it, pa, base, "requiredDuringSchedulingIgnoredDuringExecution", NULL, NULL,
                  KT_ARR, &req, err)) < 0 ||
        (rc = kat(it, pa, base, "preferredDuringSchedulingIgnoredDuringExecution", NULL, NULL,
                  KT_ARR, &pref, err)) < 0)
        return rc;
    json_array_foreach(req, i, x)
    {
        snprintf(where, sizeof where, "%s.required[%zu]", base, i);
        if ((rc = one_pterm(k, it, x, where, kind, 0, plabels, out, err)) < 0)
            return rc;
    }
    json_array_foreach(pref, i, x)
    {
        int32_t weight;
        snprintf(where, sizeof where, "%s.preferred[%zu]", base, i);
        if (!json_is_object(x))
            return ss_error_set(err, SS_EFORMAT, "%s: %s: expected an object", kwho(it, who),
                                where);
        if ((rc = int_at(it, x, where, "weight", 1, 0, true, &weight, err)) < 0 ||
            (rc = kat(it, x, where, "podAffinityTerm", NULL, NULL, KT_OBJ, &term, err)) < 0)
            return rc;
        if (weight > 100)
            return ss_error_set(err, SS_EFORMAT, "%s: %s.weight: must be an integer 1..100",
                                kwho(it, who), where);
        if (!term)
            return ss_error_set(err, SS_EFORMAT, "%s: %s.podAffinityTerm: required", kwho(it, who),
                                where);
        snprintf(where, sizeof where, "%s.preferred[%zu].podAffinityTerm", base, i);
        if ((rc = one_pterm(k, it, term, where, kind, weight, plabels, out, err)) < 0)
            return rc;
    }
    return 0;
}

int kube_pod_rules(kctx_t *k, const kitem_t *it, const kivec_t *plabels, kivec_t *sp, kivec_t *pt,
                   ss_error_t *err)
{
    int rc;
    if ((rc = spreads(k, it, plabels, sp, err)) < 0 ||
        (rc = pterms(k, it, "podAffinity", SS_PT_AFFINITY, plabels, pt, err)) < 0 ||
        (rc = pterms(k, it, "podAntiAffinity", SS_PT_ANTI_AFFINITY, plabels, pt, err)) < 0)
        return rc;
    return sp->oom || pt->oom ? SS_ENOMEM : 0;
}

/* ---- into the pools ---- */

int kube_commit_selector(ss_cluster_t *c, const int32_t *w, size_t *pos, ss_selector_t *s)
{
    size_t p = *pos;
    s->null = w[p];
    s->count = w[p + 1];
    s->begin = c->n_exprs;
    p += 2;
    for (int32_t i = 0; i < s->count; i++) {
        int32_t key = w[p], op = w[p + 1], nval = w[p + 2], vb = c->n_expr_values;
        p += 3;
        for (int32_t j = 0; j < nval; j++)
            if (ss_cluster_add_expr_value(c, w[p++]) < 0)
                return SS_ENOMEM;
        if (ss_cluster_add_expr(c, key, op, 0, vb, nval) < 0)
            return SS_ENOMEM;
    }
    *pos = p;
    return 0;
}

int kube_commit_rules(ss_cluster_t *c, const kivec_t *sp, const kivec_t *pt, ss_template_t *x)
{
    size_t p = 0;
    x->spread_begin = c->n_spreads;
    x->spread_count = 0;
    while (p < sp->n) {
        ss_spread_t s = {sp->v[p],     sp->v[p + 1], sp->v[p + 2], sp->v[p + 3],
                         sp->v[p + 4], sp->v[p + 5], {0, 0, 1}};
        p += 6;
        if (kube_commit_selector(c, sp->v, &p, &s.sel) < 0 || ss_cluster_add_spread(c, &s) < 0)
            return SS_ENOMEM;
        x->spread_count++;
    }
    p = 0;
    x->pterm_begin = c->n_pterms;
    x->pterm_count = 0;
    while (p < pt->n) {
        ss_podterm_t t;
        memset(&t, 0, sizeof t);
        t.kind = pt->v[p];
        t.weight = pt->v[p + 1];
        t.key = pt->v[p + 2];
        p += 3;
        if (kube_commit_selector(c, pt->v, &p, &t.sel) < 0)
            return SS_ENOMEM;
        t.ns_count = pt->v[p++];
        t.ns_begin = c->n_expr_values;
        for (int32_t i = 0; i < t.ns_count; i++)
            if (ss_cluster_add_expr_value(c, pt->v[p++]) < 0)
                return SS_ENOMEM;
        if (kube_commit_selector(c, pt->v, &p, &t.ns_sel) < 0 || ss_cluster_add_pterm(c, &t) < 0)
            return SS_ENOMEM;
        x->pterm_count++;
    }
    return 0;
}

/* ---- host ports (NodePorts) ---- */

int kube_host_port_rules(kctx_t *k, const kitem_t *it, const kivec_t *ports, kivec_t *plabels,
                         kivec_t *pt, ss_error_t *err)
{
    static const char *const proto[3] = {"tcp", "udp", "sctp"};
    char key[96], where[96];
    int32_t tru = ports->n ? kstr_id(k, "true", err) : 0;
    if (tru < 0)
        return SS_ENOMEM;
    for (size_t i = 0; i < ports->n; i++) {
        int32_t p = ports->v[i] & 0xffff, pr = ports->v[i] >> 16;
        snprintf(key, sizeof key, "%s%s-%d", SS_KUBE_HOST_PORT_PREFIX, proto[pr], (int)p);
        int32_t kid = kstr_id(k, key, err);
        if (kid < 0)
            return SS_ENOMEM;
        if (label_value(plabels, kid) < 0) { /* a label the pod has is not repeated */
            kipush(plabels, kid);
            kipush(plabels, tru);
        }
        /* hostname, `key Exists`, namespaceSelector {}: every namespace */
        json_t *term = json_pack("{s:s, s:{s:[{s:s, s:s}]}, s:{}}", "topologyKey",
                                 SS_KUBE_HOSTNAME_LABEL, "labelSelector", "matchExpressions", "key",
                                 key, "operator", "Exists", "namespaceSelector");
        if (!term)
            return SS_ENOMEM;
        snprintf(where, sizeof where, "hostPort %s/%d", proto[pr], (int)p);
        int rc = one_pterm(k, it, term, where, SS_PT_ANTI_AFFINITY, 0, plabels, pt, err);
        json_decref(term);
        if (rc < 0)
            return rc;
    }
    return plabels->oom || pt->oom ? SS_ENOMEM : 0;
}
