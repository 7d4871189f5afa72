/* ss_kube_template: a Pod's scheduling spec as an ss_template_t: request,
 * nodeSelector, node affinity (required terms ORed, preferred weighted;
 * matchExpressions and matchFields), tolerations, the pod's labels, the
 * owning workload and its flags (controller, DaemonSet, preemptionPolicy),
 * spread constraints and pod (anti-)affinity terms (ss_kube_rules.c), host
 * ports as a synthetic label and anti-affinity term, and the `unsupported`
 * rule bits. Pods of one workload with
 * identical specs share one template: the spec is first encoded as a byte
 * key (int32 words) and looked up, and only a new key appends to the pools.
 * With ~50 pods per workload, most pods only cost the key lookup. */
#include "ss_kube_internal.h"

#include <stdlib.h>
#include <string.h>

/* The parts of a template before they go to the cluster's pools. */
typedef struct {
    kivec_t sel, plabels, tols; /* pairs; pairs; (key, value, op, effect) */
    kivec_t req, pref;       /* terms: weight, nexpr, then per expr: key, op, field, nval, vals */
    kivec_t spreads, pterms; /* ss_kube_rules.c's words */
    uint32_t unsupported;
    int32_t mig_profile, mig_count; /* the MIG request (string id, count) */
    uint32_t flags;                 /* ss_tmpl_flag */
    int32_t workload;
} tparts_t;

static int label_pairs(kctx_t *k, json_t *m, kivec_t *out, const kitem_t *it, const char *field,
                       ss_error_t *err)
{
    const char *key;
    json_t *v;
    char who[512];
    if (json_is_null(m))
        m = NULL; /* null is absent, as in Kubernetes */
    if (m && !json_is_object(m))
        return ss_error_set(err, SS_EFORMAT, "%s: %s: expected an object", kwho(it, who), field);
    json_object_foreach(m, key, v)
    {
        if (!json_is_string(v))
            return ss_error_set(err, SS_EFORMAT, "%s: %s.%s: expected a string", kwho(it, who),
                                field, key);
        int32_t kid = kstr_id(k, key, err), vid = kstr_id(k, json_string_value(v), err);
        if (kid < 0 || vid < 0)
            return SS_ENOMEM;
        kipush(out, kid);
        kipush(out, vid);
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

/* Whether s is an integer as Go's strconv.ParseInt(s, 10, 64) reads it. */
static bool int64_text(const char *s)
{
    const char *p = s + (*s == '+' || *s == '-');
    if (!*p || strlen(p) > 19)
        return false;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return false;
    if (strlen(p) < 19)
        return true;
    return strcmp(p, *s == '-' ? "9223372036854775808" : "9223372036854775807") <= 0;
}

/* The values of one requirement, checked as the API server checks them
 * (ValidateNodeSelectorRequirement, ValidateNodeFieldSelectorRequirement). */
static int expr_values(kctx_t *k, json_t *vals, int op, int is_field, kivec_t *out,
                       const kitem_t *it, const char *where, ss_error_t *err)
{
    size_t j, n = json_array_size(vals);
    json_t *val;
    char who[512];
    const char *bad = NULL;
    if (is_field && op != SS_OP_IN && op != SS_OP_NOT_IN)
        bad = "matchFields supports only the operators In and NotIn";
    else if (is_field && n != 1)
        bad = "must have exactly one value for matchFields";
    else if ((op == SS_OP_IN || op == SS_OP_NOT_IN) && n == 0)
        bad = "must have at least one value for In and NotIn";
    else if ((op == SS_OP_EXISTS || op == SS_OP_DOES_NOT_EXIST) && n != 0)
        bad = "must be empty for Exists and DoesNotExist";
    else if ((op == SS_OP_GT || op == SS_OP_LT) && n != 1)
        bad = "must have exactly one value for Gt and Lt";
    if (bad)
        return ss_error_set(err, SS_EFORMAT, "%s: %s.values: %s", kwho(it, who), where, bad);
    kipush(out, (int32_t)n);
    json_array_foreach(vals, j, val)
    {
        if (!json_is_string(val))
            return ss_error_set(err, SS_EFORMAT, "%s: %s.values[%zu]: expected a string, got %s",
                                kwho(it, who), where, j,
                                json_is_null(val) ? "null" : "another type");
        if ((op == SS_OP_GT || op == SS_OP_LT) && !int64_text(json_string_value(val)))
            return ss_error_set(err, SS_EFORMAT,
                                "%s: %s.values[0]: '%.60s' is not an integer (Gt and Lt compare "
                                "integers)",
                                kwho(it, who), where, json_string_value(val));
        int32_t vid = kstr_id(k, json_string_value(val), err);
        if (vid < 0)
            return SS_ENOMEM;
        kipush(out, vid);
    }
    return 0;
}

static int term_exprs(kctx_t *k, json_t *reqs, int is_field, kivec_t *out, int32_t *count,
                      const kitem_t *it, const char *field, ss_error_t *err)
{
    size_t i;
    json_t *e, *key, *opv, *vals;
    char who[512], where[260];
    if (json_is_null(reqs))
        reqs = NULL;
    if (reqs && !json_is_array(reqs))
        return ss_error_set(err, SS_EFORMAT, "%s: %s: expected an array", kwho(it, who), field);
    json_array_foreach(reqs, i, e)
    {
        snprintf(where, sizeof where, "%s[%zu]", field, i);
        int rc;
        if (!json_is_object(e))
            return ss_error_set(err, SS_EFORMAT, "%s: %s: expected an object", kwho(it, who),
                                where);
        if ((rc = kat(it, e, where, "key", NULL, NULL, KT_STR, &key, err)) < 0 ||
            (rc = kat(it, e, where, "operator", NULL, NULL, KT_STR, &opv, err)) < 0 ||
            (rc = kat(it, e, where, "values", NULL, NULL, KT_ARR, &vals, err)) < 0)
            return rc;
        int op = parse_op(json_string_value(opv));
        if (!key || op < 0 || (is_field && strcmp(json_string_value(key), "metadata.name")))
            return ss_error_set(err, SS_EFORMAT,
                                "%s: %s: needs a key%s and an operator In, NotIn, "
                                "Exists, DoesNotExist, Gt or Lt",
                                kwho(it, who), where,
                                is_field ? " (matchFields supports only metadata.name)" : "");
        int32_t kid = kstr_id(k, json_string_value(key), err);
        if (kid < 0)
            return SS_ENOMEM;
        kipush(out, is_field ? 0 : kid);
        kipush(out, op);
        kipush(out, is_field);
        if ((rc = expr_values(k, vals, op, is_field, out, it, where, err)) < 0)
            return rc;
        (*count)++;
    }
    return 0;
}

/* One NodeSelectorTerm. An empty term matches no node in Kubernetes: it
 * becomes `metadata.name In ()`, which matches none either. */
static int one_term(kctx_t *k, json_t *term, int32_t weight, kivec_t *out, const kitem_t *it,
                    const char *field, ss_error_t *err)
{
    char f[200], who[512];
    if (term && !json_is_object(term))
        return ss_error_set(err, SS_EFORMAT, "%s: %s: expected an object", kwho(it, who), field);
    size_t at = out->n;
    int32_t count = 0;
    kipush(out, weight);
    kipush(out, 0);
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
            kipush(out, none[i]);
        count = 1;
    }
    if (!out->oom)
        out->v[at + 1] = count;
    return 0;
}

static int node_affinity(kctx_t *k, const kitem_t *it, tparts_t *t, ss_error_t *err)
{
    static const char *const na_path = "spec.affinity.nodeAffinity";
    json_t *na, *req, *terms, *prefs, *x, *w, *pref;
    size_t i;
    char f[200], who[512];
    int rc;
    if ((rc = kat(it, it->obj, NULL, "spec", "affinity", "nodeAffinity", KT_OBJ, &na, err)) < 0 ||
        (rc = kat(it, na, na_path, "requiredDuringSchedulingIgnoredDuringExecution", NULL, NULL,
                  KT_OBJ, &req, err)) < 0 ||
        (rc = kat(it, req, "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution",
                  "nodeSelectorTerms", NULL, NULL, KT_ARR, &terms, err)) < 0 ||
        (rc = kat(it, na, na_path, "preferredDuringSchedulingIgnoredDuringExecution", NULL, NULL,
                  KT_ARR, &prefs, err)) < 0)
        return rc;
    /* As the API server: a required node selector needs at least one term. */
    if (req && json_array_size(terms) == 0)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
                            "nodeSelectorTerms: must have at least one node selector term",
                            kwho(it, who));
    json_array_foreach(terms, i, x)
    {
        snprintf(f, sizeof f, "nodeAffinity.required.nodeSelectorTerms[%zu]", i);
        if ((rc = one_term(k, x, 0, &t->req, it, f, err)) < 0)
            return rc;
    }
    json_array_foreach(prefs, i, x)
    {
        snprintf(f, sizeof f, "nodeAffinity.preferred[%zu]", i);
        if (!json_is_object(x))
            return ss_error_set(err, SS_EFORMAT, "%s: %s: expected an object", kwho(it, who), f);
        if ((rc = kat(it, x, f, "weight", NULL, NULL, KT_INT, &w, err)) < 0 ||
            (rc = kat(it, x, f, "preference", NULL, NULL, KT_OBJ, &pref, err)) < 0)
            return rc;
        if (!w || json_integer_value(w) < 1 || json_integer_value(w) > 100)
            return ss_error_set(err, SS_EFORMAT, "%s: %s.weight: must be an integer 1..100",
                                kwho(it, who), f);
        snprintf(f, sizeof f, "nodeAffinity.preferred[%zu].preference", i);
        if ((rc = one_term(k, pref, (int32_t)json_integer_value(w), &t->pref, it, f, err)) < 0)
            return rc;
    }
    return 0;
}

static int tolerations(kctx_t *k, const kitem_t *it, tparts_t *t, ss_error_t *err)
{
    size_t i;
    json_t *arr, *x, *opj, *efj, *key, *value;
    char who[512], where[64];
    int rc = kat(it, it->obj, NULL, "spec", "tolerations", NULL, KT_ARR, &arr, err);
    json_array_foreach(arr, i, x)
    {
        snprintf(where, sizeof where, "spec.tolerations[%zu]", i);
        if (rc == 0 && !json_is_object(x))
            rc = ss_error_set(err, SS_EFORMAT, "%s: %s: expected an object", kwho(it, who), where);
        if (rc < 0 || (rc = kat(it, x, where, "operator", NULL, NULL, KT_STR, &opj, err)) < 0 ||
            (rc = kat(it, x, where, "effect", NULL, NULL, KT_STR, &efj, err)) < 0 ||
            (rc = kat(it, x, where, "key", NULL, NULL, KT_STR, &key, err)) < 0 ||
            (rc = kat(it, x, where, "value", NULL, NULL, KT_STR, &value, err)) < 0)
            return rc;
        const char *op = json_string_value(opj), *ef = json_string_value(efj);
        int32_t effect, opv = (op && !strcmp(op, "Exists")) ? SS_TOL_EXISTS : SS_TOL_EQUAL;
        if ((op && opv == SS_TOL_EQUAL && strcmp(op, "Equal")) ||
            kube_effect(ef ? ef : "", &effect) < 0)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: %s: operator must be Equal or "
                                "Exists, effect NoSchedule, PreferNoSchedule, NoExecute or empty",
                                kwho(it, who), where);
        int32_t kid = kstr_id(k, json_string_value(key), err);
        int32_t vid = kstr_id(k, json_string_value(value), err);
        if (kid < 0 || vid < 0)
            return SS_ENOMEM;
        kipush(&t->tols, kid);
        kipush(&t->tols, vid);
        kipush(&t->tols, opv);
        kipush(&t->tols, effect);
    }
    return rc;
}

static bool has_items(json_t *o)
{
    return (json_is_array(o) && json_array_size(o) > 0) ||
           (json_is_object(o) && json_object_size(o) > 0);
}

/* The (protocol, hostPort) pairs the containers of arr (spec.containers or
 * initContainers) ask for, as words protocol * 65536 + port into ports
 * (hostPort 0 or absent: none). hostIP is not read: every hostIP is taken
 * to conflict with every other (docs/kubernetes.md, "Host ports"). */
static int host_ports(const kitem_t *it, const char *field, kivec_t *ports, ss_error_t *err)
{
    static const char *const proto[3] = {"TCP", "UDP", "SCTP"};
    size_t i, j;
    json_t *arr, *c, *cports, *p, *hp, *pr;
    char where[128], who[512];
    int rc = kat(it, it->obj, NULL, "spec", field, NULL, KT_ARR, &arr, err);
    json_array_foreach(arr, i, c)
    {
        snprintf(where, sizeof where, "spec.%s[%zu]", field, i);
        if (rc < 0 || !json_is_object(c) ||
            (rc = kat(it, c, where, "ports", NULL, NULL, KT_ARR, &cports, err)) < 0)
            return rc;
        json_array_foreach(cports, j, p)
        {
            snprintf(where, sizeof where, "spec.%s[%zu].ports[%zu]", field, i, j);
            if (!json_is_object(p))
                return ss_error_set(err, SS_EFORMAT, "%s: %s: expected an object", kwho(it, who),
                                    where);
            if ((rc = kat(it, p, where, "hostPort", NULL, NULL, KT_INT, &hp, err)) < 0 ||
                (rc = kat(it, p, where, "protocol", NULL, NULL, KT_STR, &pr, err)) < 0)
                return rc;
            json_int_t port = json_integer_value(hp);
            if (port < 0 || port > 65535)
                return ss_error_set(err, SS_EFORMAT, "%s: %s.hostPort: must be 0..65535 (got %lld)",
                                    kwho(it, who), where, (long long)port);
            int32_t x = 0;
            while (pr && x < 3 && strcmp(json_string_value(pr), proto[x]))
                x++;
            if (x == 3)
                return ss_error_set(err, SS_EFORMAT,
                                    "%s: %s.protocol: '%.40s' is not TCP, UDP or SCTP",
                                    kwho(it, who), where, json_string_value(pr));
            if (port > 0)
                kipush(ports, x * 65536 + (int32_t)port);
        }
    }
    return rc;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* The pod's host ports, sorted and unique (the same set gives the same
 * template whatever the order of the containers). */
static int pod_host_ports(const kitem_t *it, kivec_t *ports, ss_error_t *err)
{
    int rc;
    if ((rc = host_ports(it, "containers", ports, err)) < 0 ||
        (rc = host_ports(it, "initContainers", ports, err)) < 0)
        return rc;
    if (ports->oom)
        return SS_ENOMEM;
    if (ports->n)
        qsort(ports->v, ports->n, sizeof *ports->v, cmp_i32);
    size_t n = 0;
    for (size_t i = 0; i < ports->n; i++)
        if (n == 0 || ports->v[i] != ports->v[n - 1])
            ports->v[n++] = ports->v[i];
    ports->n = n;
    return 0;
}

static int claim_volume(const kitem_t *it, bool *on, ss_error_t *err)
{
    size_t i;
    json_t *vols, *v;
    char who[512];
    int rc = kat(it, it->obj, NULL, "spec", "volumes", NULL, KT_ARR, &vols, err);
    json_array_foreach(vols, i, v)
    {
        if (rc == 0 && !json_is_object(v))
            rc = ss_error_set(err, SS_EFORMAT, "%s: spec.volumes[%zu]: expected an object",
                              kwho(it, who), i);
        *on |= json_is_object(v) &&
               (kget(v, "persistentVolumeClaim", NULL, NULL) || kget(v, "ephemeral", NULL, NULL));
    }
    return rc;
}

/* Scheduling gates that hold the pod: all but Kueue's topology gate, which
 * Kueue lifts once it has chosen the domain the pod set's annotations ask
 * for (the choice the engine makes). */
static bool held_by_gates(json_t *gates)
{
    json_t *g;
    size_t i;
    json_array_foreach(gates, i, g) if (!json_is_object(g) ||
                                        !json_is_string(json_object_get(g, "name")) ||
                                        strcmp(kstr(g, "name", NULL, NULL),
                                               "kueue.x-k8s.io/topology")) return true;
    return false;
}

/* Rule bits, and warnings/SS_RULE_OTHER for unmodelled fields of pending pods. */
static int rules(kctx_t *k, const kitem_t *it, bool pending, tparts_t *t, ss_error_t *err)
{
    json_t *rcl, *gates;
    bool pvc = false;
    int rc;
    if ((rc = kat(it, it->obj, NULL, "spec", "resourceClaims", NULL, KT_ARR, &rcl, err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "spec", "schedulingGates", NULL, KT_ARR, &gates, err)) < 0 ||
        (rc = claim_volume(it, &pvc, err)) < 0)
        return rc;
    struct {
        bool on;
        int warn;
        uint32_t bit;
    } r[] = {
        {pvc, SS_KUBE_WARN_PVC, SS_RULE_OTHER},
        {has_items(rcl), SS_KUBE_WARN_RESOURCE_CLAIM, SS_RULE_OTHER},
        {held_by_gates(gates), SS_KUBE_WARN_SCHEDULING_GATES, SS_RULE_SCHEDULING_GATES},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        if (!r[i].on || !pending)
            continue;
        t->unsupported |= r[i].bit;
        if (kwarn(k, r[i].warn, it, err) < 0)
            return SS_EUNSUPPORTED;
    }
    return 0;
}

static int workload(kctx_t *k, const kitem_t *it, tparts_t *t, ss_error_t *err)
{
    json_t *refs, *ref = NULL, *x, *ctl, *kind, *name;
    size_t i;
    char where[64], who[512];
    int rc = kat(it, it->obj, NULL, "metadata", "ownerReferences", NULL, KT_ARR, &refs, err);
    json_array_foreach(refs, i, x)
    {
        snprintf(where, sizeof where, "metadata.ownerReferences[%zu]", i);
        if (rc == 0 && !json_is_object(x))
            rc = ss_error_set(err, SS_EFORMAT, "%s: %s: expected an object", kwho(it, who), where);
        if (rc < 0 || (rc = kat(it, x, where, "controller", NULL, NULL, KT_BOOL, &ctl, err)) < 0 ||
            (rc = kat(it, x, where, "kind", NULL, NULL, KT_STR, &kind, err)) < 0 ||
            (rc = kat(it, x, where, "name", NULL, NULL, KT_STR, &name, err)) < 0)
            return rc;
    }
    json_array_foreach(refs, i, x)
    {
        if (!ref || json_is_true(kget(x, "controller", NULL, NULL)))
            ref = x;
        if (json_is_true(kget(x, "controller", NULL, NULL)))
            break;
    }
    if (ref && json_is_true(kget(ref, "controller", NULL, NULL))) {
        const char *kind = kstr(ref, "kind", NULL, NULL);
        t->flags |= SS_TF_CONTROLLER | (kind && !strcmp(kind, "DaemonSet") ? SS_TF_DAEMONSET : 0);
    }
    char w[512];
    snprintf(w, sizeof w, "%s/%s",
             ref && kstr(ref, "kind", NULL, NULL) ? kstr(ref, "kind", NULL, NULL) : "",
             ref && kstr(ref, "name", NULL, NULL) ? kstr(ref, "name", NULL, NULL) : "");
    t->workload = kstr_id(k, ref ? w : "", err);
    return t->workload < 0 ? SS_ENOMEM : 0;
}

/* The eviction facts consolidate needs (issue 14, docs/consolidate.md),
 * as cluster-autoscaler's drain rules read them: a mirror pod (the
 * kubernetes.io/config.mirror annotation, or owned by its Node), local
 * storage (an emptyDir not in memory, a hostPath), a persistentVolumeClaim
 * or generic ephemeral volume, and the safe-to-evict / do-not-disrupt
 * annotations. Malformed volumes are the reader's business elsewhere; here a
 * non-object entry simply carries no fact. */
static void evict_facts(const kitem_t *it, tparts_t *t)
{
    static const char *const evict = "cluster-autoscaler.kubernetes.io/safe-to-evict";
    json_t *vols = kget(it->obj, "spec", "volumes", NULL), *v;
    size_t i;
    const char *safe = kstr(it->obj, "metadata", "annotations", evict);
    const char *dnd = kstr(it->obj, "metadata", "annotations", "karpenter.sh/do-not-disrupt");
    t->flags |= SS_TF_EVICT_FACTS;
    if (kget(it->obj, "metadata", "annotations", "kubernetes.io/config.mirror"))
        t->flags |= SS_TF_MIRROR;
    json_array_foreach(kget(it->obj, "metadata", "ownerReferences", NULL), i, v)
    {
        const char *kind = json_is_object(v) ? kstr(v, "kind", NULL, NULL) : NULL;
        if (kind && !strcmp(kind, "Node") && json_is_true(kget(v, "controller", NULL, NULL)))
            t->flags |= SS_TF_MIRROR;
    }
    json_array_foreach(json_is_array(vols) ? vols : NULL, i, v)
    {
        json_t *ed = json_is_object(v) ? kget(v, "emptyDir", NULL, NULL) : NULL;
        const char *medium = json_is_object(ed) ? kstr(ed, "medium", NULL, NULL) : NULL;
        if ((ed && !json_is_null(ed) && !(medium && !strcmp(medium, "Memory"))) ||
            (json_is_object(v) && json_is_object(kget(v, "hostPath", NULL, NULL))))
            t->flags |= SS_TF_LOCAL_STORAGE;
        if (json_is_object(v) && (json_is_object(kget(v, "persistentVolumeClaim", NULL, NULL)) ||
                                  json_is_object(kget(v, "ephemeral", NULL, NULL))))
            t->flags |= SS_TF_PVC;
    }
    if (safe && !strcmp(safe, "true"))
        t->flags |= SS_TF_SAFE_TO_EVICT;
    if (safe && !strcmp(safe, "false"))
        t->flags |= SS_TF_NOT_SAFE_EVICT;
    if (dnd && !strcmp(dnd, "true"))
        t->flags |= SS_TF_DO_NOT_DISRUPT;
}

/* The key: every field of the template as int32 words, each list preceded
 * by its length. */
static int make_key(const ss_request_t *req, const tparts_t *t, kivec_t *key)
{
    int32_t head[sizeof *req / sizeof(int32_t)];
    memcpy(head, req, sizeof head);
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        kipush(key, head[i]);
    kipush(key, (int32_t)t->unsupported);
    kipush(key, t->workload);
    kipush(key, (int32_t)t->flags);
    kipush(key, t->mig_profile);
    kipush(key, t->mig_count);
    const kivec_t *parts[7] = {&t->sel,  &t->plabels, &t->tols,  &t->req,
                               &t->pref, &t->spreads, &t->pterms};
    for (int p = 0; p < 7; p++) {
        kipush(key, (int32_t)parts[p]->n);
        for (size_t i = 0; i < parts[p]->n; i++)
            kipush(key, parts[p]->v[i]);
    }
    return key->oom ? SS_ENOMEM : 0;
}

static int add_pairs(ss_cluster_t *c, const kivec_t *v, int32_t *begin, int32_t *count)
{
    *begin = c->n_labels;
    *count = (int32_t)(v->n / 2);
    for (size_t i = 0; i + 1 < v->n; i += 2)
        if (ss_cluster_add_label(c, v->v[i], v->v[i + 1]) < 0)
            return SS_ENOMEM;
    return 0;
}

static int add_terms(ss_cluster_t *c, const kivec_t *v, int32_t *begin, int32_t *count)
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
    x.flags = t->flags;
    x.mig_profile = t->mig_profile;
    x.mig_count = t->mig_count;
    x.model_begin = c->n_models;
    if (add_pairs(c, &t->sel, &x.sel_begin, &x.sel_count) < 0 ||
        add_pairs(c, &t->plabels, &x.plabel_begin, &x.plabel_count) < 0 ||
        add_terms(c, &t->req, &x.req_begin, &x.req_count) < 0 ||
        add_terms(c, &t->pref, &x.pref_begin, &x.pref_count) < 0 ||
        kube_commit_rules(c, &t->spreads, &t->pterms, &x) < 0)
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
                            const kivec_t *key, int32_t *tmpl)
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
                      uint32_t rules_in, uint32_t flags_in, int32_t mig_profile, int32_t mig_count,
                      int32_t *tmpl, ss_error_t *err)
{
    tparts_t t;
    kivec_t key = {0}, ports = {0};
    memset(&t, 0, sizeof t);
    t.unsupported = rules_in;
    t.flags = flags_in;
    t.mig_profile = mig_profile;
    t.mig_count = mig_count;
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
    if (rc == 0)
        evict_facts(it, &t);
    if (rc == 0)
        rc = kube_pod_rules(k, it, &t.plabels, &t.spreads, &t.pterms, err);
    /* after the pod's own rules: their matchLabelKeys see only its labels */
    if (rc == 0)
        rc = pod_host_ports(it, &ports, err);
    if (rc == 0)
        rc = kube_host_port_rules(k, it, &ports, &t.plabels, &t.pterms, err);
    if (rc == 0 && (t.sel.oom || t.plabels.oom || t.tols.oom || t.req.oom || t.pref.oom ||
                    t.spreads.oom || t.pterms.oom))
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
    free(t.spreads.v);
    free(t.pterms.v);
    free(key.v);
    free(ports.v);
    return rc;
}
