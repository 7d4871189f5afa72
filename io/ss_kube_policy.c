/* ss_kube_policy: the objects around pods that issue 12's rules read:
 * scheduling.k8s.io/v1 PriorityClasses (a pod's priorityClassName resolved,
 * globalDefault, a class's preemptionPolicy), v1 Namespaces (their labels,
 * for namespaceSelector), policy/v1 PodDisruptionBudgets (minAvailable /
 * maxUnavailable as integers or percentages, selector,
 * unhealthyPodEvictionPolicy, status.disruptionsAllowed), and a pod's
 * status.startTime (RFC 3339). Bad forms are errors naming the file, the
 * object and the field, as the API server would refuse them. */
#include "ss_kube_internal.h"

#include <stdlib.h>
#include <string.h>

/* The PriorityClasses by name (id in names = index + 1), with Kubernetes'
 * two built-in system classes, which every cluster has. */
struct kprio {
    ss_strtab_t *names;
    int32_t *value;
    uint8_t *never;
    const kitem_t **item; /* NULL for a built-in */
    int32_t n, cap;
    int32_t global; /* index of the globalDefault class, -1 */
};

static int prio_put(struct kprio *p, const char *name, int32_t value, bool never, const kitem_t *it)
{
    int32_t id = ss_strtab_intern(p->names, name);
    if (id < 0)
        return SS_ENOMEM;
    if (id - 1 >= p->cap) {
        int32_t cap = p->cap ? p->cap * 2 : 16;
        int32_t *v = realloc(p->value, (size_t)cap * sizeof *v);
        if (v)
            p->value = v;
        uint8_t *nv = realloc(p->never, (size_t)cap);
        if (nv)
            p->never = nv;
        const kitem_t **iv = realloc(p->item, (size_t)cap * sizeof *iv);
        if (iv)
            p->item = iv;
        if (!v || !nv || !iv)
            return SS_ENOMEM;
        p->cap = cap;
    }
    if (id > p->n)
        p->n = id;
    p->value[id - 1] = value;
    p->never[id - 1] = never;
    p->item[id - 1] = it;
    return id - 1;
}

static int one_class(kctx_t *k, const kitem_t *it, ss_error_t *err)
{
    struct kprio *p = k->prio;
    json_t *v, *gd, *pp;
    char who[512];
    int rc;
    if ((rc = kat(it, it->obj, NULL, "value", NULL, NULL, KT_INT, &v, err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "globalDefault", NULL, NULL, KT_BOOL, &gd, err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "preemptionPolicy", NULL, NULL, KT_STR, &pp, err)) < 0)
        return rc;
    if (!v || json_integer_value(v) > INT32_MAX || json_integer_value(v) < INT32_MIN)
        return ss_error_set(err, SS_EFORMAT, "%s: value: %s", kwho(it, who),
                            v ? "out of range (an int32)" : "required");
    const char *pps = json_string_value(pp);
    if (pps && strcmp(pps, "Never") && strcmp(pps, "PreemptLowerPriority"))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: preemptionPolicy: '%.60s' is not Never or PreemptLowerPriority",
                            kwho(it, who), pps);
    const char *name = kstr(it->obj, "metadata", "name", NULL);
    int32_t id = ss_strtab_find(p->names, name);
    if (id > 0 && p->item[id - 1])
        return ss_error_set(err, SS_EFORMAT,
                            "%s: items[%zu]: PriorityClass %s appears twice (first at %s: "
                            "items[%zu])",
                            it->path, it->index, name, p->item[id - 1]->path,
                            p->item[id - 1]->index);
    int32_t i = prio_put(p, name, (int32_t)json_integer_value(v), pps && !strcmp(pps, "Never"), it);
    if (i < 0)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    if (json_is_true(gd)) {
        if (p->global >= 0)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: globalDefault: PriorityClass %s is already the global default "
                                "(only one may be)",
                                kwho(it, who), ss_strtab_get(p->names, p->global + 1));
        p->global = i;
    }
    return 0;
}

int kube_index_priority_classes(kctx_t *k, ss_error_t *err)
{
    if (!(k->prio = calloc(1, sizeof *k->prio)) || !(k->prio->names = ss_strtab_create()))
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    k->prio->global = -1;
    if (prio_put(k->prio, "system-cluster-critical", 2000000000, false, NULL) < 0 ||
        prio_put(k->prio, "system-node-critical", 2000001000, false, NULL) < 0)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    for (size_t i = 0; i < k->pcs.n; i++) {
        int rc = one_class(k, &k->pcs.v[i], err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void kube_policy_free(kctx_t *k)
{
    if (!k->prio)
        return;
    ss_strtab_destroy(k->prio->names);
    free(k->prio->value);
    free(k->prio->never);
    free(k->prio->item);
    free(k->prio);
    k->prio = NULL;
}

int kube_pod_priority(kctx_t *k, const kitem_t *it, int32_t *prio, bool *never, ss_error_t *err)
{
    char who[512];
    json_t *v, *cls, *pp;
    int rc;
    if ((rc = kat(it, it->obj, NULL, "spec", "priority", NULL, KT_INT, &v, err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "spec", "priorityClassName", NULL, KT_STR, &cls, err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "spec", "preemptionPolicy", NULL, KT_STR, &pp, err)) < 0)
        return rc;
    /* Kubernetes priorities are int32 (system-node-critical is 2000001000):
     * every value is kept as it is. */
    if (v && (json_integer_value(v) > INT32_MAX || json_integer_value(v) < INT32_MIN))
        return ss_error_set(err, SS_ERANGE, "%s: spec.priority: out of range (an int32)",
                            kwho(it, who));
    const char *pps = json_string_value(pp), *name = json_string_value(cls);
    if (pps && strcmp(pps, "Never") && strcmp(pps, "PreemptLowerPriority"))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: spec.preemptionPolicy: '%.60s' is not Never or "
                            "PreemptLowerPriority",
                            kwho(it, who), pps);
    const struct kprio *p = k->prio;
    int32_t c = -1;
    if (name && *name) {
        int32_t id = ss_strtab_find(p->names, name);
        c = id > 0 ? id - 1 : -1;
        if (c < 0) {
            if (!k->rep->priority_class[0])
                snprintf(k->rep->priority_class, sizeof k->rep->priority_class, "'%.80s' of %.150s",
                         name, kwho(it, who));
            if (kwarn(k, SS_KUBE_WARN_PRIORITY_CLASS_UNKNOWN, it, err) < 0)
                return SS_EUNSUPPORTED;
        }
    } else if (!v) {
        c = p->global; /* the admission plugin gives class-less pods the default */
    }
    *prio = v ? (int32_t)json_integer_value(v) : c >= 0 ? p->value[c] : 0;
    if (v && c >= 0 && p->value[c] != *prio &&
        kwarn(k, SS_KUBE_WARN_PRIORITY_MISMATCH, it, err) < 0)
        return SS_EUNSUPPORTED;
    *never = pps ? !strcmp(pps, "Never") : c >= 0 && p->never[c];
    return 0;
}

/* ---- RFC 3339 ---- */

static int digits(const char *s, int n, int *out)
{
    *out = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *out = *out * 10 + (s[i] - '0');
    }
    return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int ss_kube_rfc3339(const char *s, int64_t *out)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec))
        return -1;
    const char *p = s + 19;
    if (*p == '.') { /* fractional seconds: dropped */
        const char *q = ++p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == q)
            return -1;
    }
    if ((*p == 'Z' || *p == 'z') && !p[1])
        sign = 0;
    else if ((*p == '+' || *p == '-') && strlen(p) == 6 && !digits(p + 1, 2, &oh) && p[3] == ':' &&
             !digits(p + 4, 2, &om) && oh < 24 && om < 60)
        sign = *p == '+' ? 1 : -1;
    else
        return -1;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
        h > 23 || mi > 59 || sec > 60)
        return -1;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + (sec == 60 ? 59 : sec) -
           sign * (oh * 3600 + om * 60);
    return 0;
}

int kube_pod_start(const kitem_t *it, int64_t *start, ss_error_t *err)
{
    json_t *v;
    char who[512];
    int rc = kat(it, it->obj, NULL, "status", "startTime", NULL, KT_STR, &v, err);
    *start = 0;
    if (rc < 0 || !v)
        return rc;
    if (ss_kube_rfc3339(json_string_value(v), start) < 0)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: status.startTime: '%.60s' is not an RFC 3339 time "
                            "(2006-01-02T15:04:05Z)",
                            kwho(it, who), json_string_value(v));
    return 0;
}

/* ---- Namespaces ---- */

int kube_add_namespaces(kctx_t *k, ss_error_t *err)
{
    ss_cluster_t *c = k->c;
    for (size_t i = 0; i < k->nss.n; i++) {
        const kitem_t *it = &k->nss.v[i];
        json_t *labels, *v;
        const char *key;
        char who[512];
        int rc = kat(it, it->obj, NULL, "metadata", "labels", NULL, KT_OBJ, &labels, err);
        if (rc < 0)
            return rc;
        int32_t name = kstr_id(k, kstr(it->obj, "metadata", "name", NULL), err);
        if (name < 0)
            return SS_ENOMEM;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(kstr(k->nss.v[j].obj, "metadata", "name", NULL),
                        ss_cluster_strget(c, name)))
                return ss_error_set(err, SS_EFORMAT,
                                    "%s: items[%zu]: Namespace %s appears twice (first at %s: "
                                    "items[%zu])",
                                    it->path, it->index, ss_cluster_strget(c, name),
                                    k->nss.v[j].path, k->nss.v[j].index);
        int32_t begin = c->n_labels, count = 0;
        json_object_foreach(labels, key, v)
        {
            if (!json_is_string(v))
                return ss_error_set(err, SS_EFORMAT, "%s: metadata.labels.%s: expected a string",
                                    kwho(it, who), key);
            if (!strcmp(key, "kubernetes.io/metadata.name")) /* implied by the name */
                continue;
            int32_t kid = kstr_id(k, key, err), vid = kstr_id(k, json_string_value(v), err);
            if (kid < 0 || vid < 0 || ss_cluster_add_label(c, kid, vid) < 0)
                return ss_error_set(err, SS_ENOMEM, "out of memory");
            count++;
        }
        if (ss_cluster_add_namespace(c, name, begin, count) < 0)
            return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    return 0;
}

/* ---- PodDisruptionBudgets ---- */

/* An IntOrString of a PDB: an integer >= 0, or "N%" with N 0..100. */
static int int_or_pct(const kitem_t *it, const char *field, int32_t *val, int32_t *pct,
                      ss_error_t *err)
{
    json_t *v = kget(it->obj, "spec", field, NULL);
    char who[512];
    *val = -1;
    *pct = 0;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        if (n < 0 || n > INT32_MAX)
            return ss_error_set(err, SS_EFORMAT, "%s: spec.%s: must be an integer >= 0",
                                kwho(it, who), field);
        *val = (int32_t)n;
        return 0;
    }
    const char *s = json_string_value(v);
    int n = 0;
    size_t len = s ? strlen(s) : 0;
    if (!s || len < 2 || len > 4 || s[len - 1] != '%' || digits(s, (int)len - 1, &n) || n > 100)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: spec.%s: must be an integer >= 0 or a percentage \"N%%\" (N "
                            "0..100)",
                            kwho(it, who), field);
    *val = n;
    *pct = 1;
    return 0;
}

static int one_pdb(kctx_t *k, const kitem_t *it, ss_strtab_t *seen, ss_error_t *err)
{
    ss_pdb_t b;
    json_t *uh, *st, *da, *spec;
    char who[512], key[512];
    kivec_t words = {0};
    int rc;
    memset(&b, 0, sizeof b);
    const char *ns = kstr(it->obj, "metadata", "namespace", NULL);
    ns = ns && *ns ? ns : "default";
    snprintf(key, sizeof key, "%s/%s", ns, kstr(it->obj, "metadata", "name", NULL));
    int32_t before = ss_strtab_count(seen), id = ss_strtab_intern(seen, key);
    if (id < 0)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    if (id < before)
        return ss_error_set(err, SS_EFORMAT, "%s: items[%zu]: PodDisruptionBudget %s appears twice",
                            it->path, it->index, key);
    if ((rc = kat(it, it->obj, NULL, "spec", NULL, NULL, KT_OBJ, &spec, err)) < 0 ||
        (rc = int_or_pct(it, "minAvailable", &b.min_available, &b.min_pct, err)) < 0 ||
        (rc = int_or_pct(it, "maxUnavailable", &b.max_unavailable, &b.max_pct, err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "spec", "unhealthyPodEvictionPolicy", NULL, KT_STR, &uh,
                  err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "status", NULL, NULL, KT_OBJ, &st, err)) < 0 ||
        (rc = kat(it, st, "status", "disruptionsAllowed", NULL, NULL, KT_INT, &da, err)) < 0)
        return rc;
    if (b.min_available >= 0 && b.max_unavailable >= 0)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: spec: minAvailable and maxUnavailable cannot both be set",
                            kwho(it, who));
    const char *uhs = json_string_value(uh);
    if (uhs && strcmp(uhs, "IfHealthyBudget") && strcmp(uhs, "AlwaysAllow"))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: spec.unhealthyPodEvictionPolicy: '%.60s' is not IfHealthyBudget "
                            "or AlwaysAllow",
                            kwho(it, who), uhs);
    b.always_allow = uhs && !strcmp(uhs, "AlwaysAllow");
    if (da && (json_integer_value(da) < 0 || json_integer_value(da) > INT32_MAX))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: status.disruptionsAllowed: must be an integer >= 0",
                            kwho(it, who));
    b.allowed = da ? (int32_t)json_integer_value(da) : -1;
    size_t pos = 0;
    rc =
        kube_selector(k, it, kget(it->obj, "spec", "selector", NULL), "spec.selector", &words, err);
    if (rc == 0 && words.oom)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    if (rc == 0 &&
        ((b.name = kstr_id(k, kstr(it->obj, "metadata", "name", NULL), err)) < 0 ||
         (b.ns = kstr_id(k, ns, err)) < 0 ||
         kube_commit_selector(k->c, words.v, &pos, &b.sel) < 0 || ss_cluster_add_pdb(k->c, &b) < 0))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    free(words.v);
    return rc;
}

int kube_add_pdbs(kctx_t *k, ss_error_t *err)
{
    ss_strtab_t *seen = ss_strtab_create();
    if (!seen)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < k->pdbs.n && rc == 0; i++)
        rc = one_pdb(k, &k->pdbs.v[i], seen, err);
    ss_strtab_destroy(seen);
    return rc;
}
