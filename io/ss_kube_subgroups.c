/* ss_kube_subgroups: gangs inside gangs, read into the engine's sub-groups
 * (ss_cluster_add_subgroup: a group commits only when every sub-group
 * reaches its own minimum, each sub-group in one domain of its own level
 * when required; docs/kubernetes.md "Gang dialects", "Sub-groups"):
 *
 *   - KAI PodGroup spec.subGroups[] {name, minMember, minSubGroup, parent,
 *     topologyConstraint}: a tree; pods join a leaf by the label
 *     kai.scheduler/subgroup-name;
 *   - Volcano PodGroup spec.minTaskMember {task: min}: pods join a task by
 *     the annotation volcano.sh/task-spec; spec.subGroupPolicy[] {name,
 *     subGroupSize, minSubGroups, labelSelector, matchLabelKeys,
 *     networkTopology}: the pods the selector matches, split by their
 *     values of matchLabelKeys, each part a sub-group of subGroupSize;
 *   - upstream CompositePodGroup (scheduling.k8s.io/v1alpha3) with
 *     schedulingPolicy gang.minGroupCount or basic: the PodGroups and
 *     composites whose spec.parentCompositePodGroupName names it are its
 *     sub-groups;
 *   - Kueue slices (podset-slice-size, read in ss_kube_gangs.c): the
 *     members split by index into slices of that many pods.
 *
 * Sub-groups are entries of the gang table (tag "S") whose parent is the
 * enclosing entry. */
#include "ss_kube_gangs_int.h"

#include <stdlib.h>
#include <string.h>

#define KAI_SUBGROUP_LABEL "kai.scheduler/subgroup-name"
#define VOLCANO_TASK_ANNOTATION "volcano.sh/task-spec"
#define KUEUE_POD_INDEX_LABEL "kueue.x-k8s.io/pod-index"
#define JOB_INDEX_LABEL "batch.kubernetes.io/job-completion-index"

/* The sub-group entry "S\x01<parent key's name>\x01sub" (added when add). */
static int32_t sub_entry(kgangs_t *g, int32_t parent, const char *sub, bool add, bool *fresh)
{
    char key[900];
    snprintf(key, sizeof key, "S\x01%s\x01%s", ss_strtab_get(g->keys, parent) + 2, sub);
    return kube_gang_entry(g, key, add, fresh);
}

static int nomem(ss_error_t *err)
{
    return ss_error_set(err, SS_ENOMEM, "out of memory");
}

/* An optional integer >= lo at base.key into *out (dflt when absent). */
static int opt_int(const kitem_t *it, json_t *base, const char *where, const char *key,
                   json_int_t lo, int32_t dflt, int32_t *out, bool *set, ss_error_t *err)
{
    json_t *v;
    char who[512];
    int rc = kat(it, base, where, key, NULL, NULL, KT_INT, &v, err);
    if (rc < 0)
        return rc;
    if (set)
        *set = v != NULL;
    json_int_t x = v ? json_integer_value(v) : dflt;
    if (x < lo || x > INT32_MAX)
        return ss_error_set(err, SS_EFORMAT, "%s: %s.%s: must be an integer >= %lld", kwho(it, who),
                            where, key, (long long)lo);
    *out = (int32_t)x;
    return 0;
}

/* ---- KAI ---- */

/* One spec.subGroups[i]: its entry, minimum and topology (parents later). */
static int kai_sub(kctx_t *k, const kitem_t *it, int32_t id, json_t *x, size_t i, ss_error_t *err)
{
    char who[512], where[64];
    json_t *name, *parent;
    bool fresh, has_min, has_subs;
    int32_t min, min_subs;
    int rc;
    snprintf(where, sizeof where, "spec.subGroups[%zu]", i);
    if (!json_is_object(x))
        return ss_error_set(err, SS_EFORMAT, "%s: %s: expected an object", kwho(it, who), where);
    if ((rc = kat(it, x, where, "name", NULL, NULL, KT_STR, &name, err)) < 0 ||
        (rc = kat(it, x, where, "parent", NULL, NULL, KT_STR, &parent, err)) < 0 ||
        (rc = opt_int(it, x, where, "minMember", 0, 0, &min, &has_min, err)) < 0 ||
        (rc = opt_int(it, x, where, "minSubGroup", 0, 0, &min_subs, &has_subs, err)) < 0)
        return rc;
    const char *nm = json_string_value(name);
    if (!nm || !*nm)
        return ss_error_set(err, SS_EFORMAT, "%s: %s.name: missing", kwho(it, who), where);
    if (has_min && has_subs)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: %s: minMember and minSubGroup are mutually exclusive",
                            kwho(it, who), where);
    int32_t s = sub_entry(k->gangs, id, nm, true, &fresh);
    if (s < 0)
        return nomem(err);
    if (!fresh)
        return ss_error_set(err, SS_EFORMAT, "%s: %s.name: '%.80s' names two sub-groups",
                            kwho(it, who), where, nm);
    kgang_t *e = &k->gangs->v[s];
    e->kind = KG_SUB;
    e->dialect = KD_KAI;
    e->item = k->gangs->v[id].item;
    e->path = it->path;
    e->min = min;
    e->min_groups = min_subs;
    e->mode = SS_TOPO_MODE_NONE;
    return kube_kai_topology(k, it, x, where, e, err);
}

/* A sub-group's or the group's minSubGroup below its sub-group count is
 * not modelled (the engine needs every sub-group). */
static void kai_partial(kgang_t *top, const kgang_t *e)
{
    if (e->min_groups > 0 && e->min_groups < e->nchild) {
        top->rules |= SS_RULE_POD_GROUP;
        top->warn = SS_KUBE_WARN_SUBGROUPS;
    }
}

int kube_sub_kai(kctx_t *k, const kitem_t *it, int32_t id, ss_error_t *err)
{
    json_t *subs, *x, *v;
    size_t i;
    char who[512];
    int rc;
    if ((rc = kat(it, it->obj, NULL, "spec", "subGroups", NULL, KT_ARR, &subs, err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "spec", "minSubGroup", NULL, KT_INT, &v, err)) < 0)
        return rc;
    k->gangs->v[id].min_groups = v ? (int32_t)json_integer_value(v) : 0;
    if (!json_array_size(subs))
        return 0;
    k->gangs->v[id].split = KS_KAI;
    json_array_foreach(subs, i, x)
    {
        if ((rc = kai_sub(k, it, id, x, i, err)) < 0)
            return rc;
    }
    /* parents: another sub-group or the group; no cycles */
    size_t n = json_array_size(subs);
    int32_t *par = calloc(n + 1, sizeof *par), *sub = calloc(n + 1, sizeof *sub);
    if (!par || !sub) {
        free(par);
        free(sub);
        return nomem(err);
    }
    json_array_foreach(subs, i, x)
    {
        const char *p = kstr(x, "parent", NULL, NULL);
        sub[i] = sub_entry(k->gangs, id, kstr(x, "name", NULL, NULL), false, NULL);
        par[i] = p && *p ? sub_entry(k->gangs, id, p, false, NULL) : id;
        if (par[i] <= 0)
            rc = ss_error_set(err, SS_EFORMAT,
                              "%s: spec.subGroups[%zu].parent: '%.80s' names no sub-group",
                              kwho(it, who), i, p);
        if (rc < 0)
            break;
        k->gangs->v[sub[i]].parent = par[i];
    }
    for (i = 0; i < n && rc == 0; i++) {
        int32_t a = par[i];
        for (size_t depth = 0; a != id && rc == 0; a = k->gangs->v[a].parent, depth++)
            if (a == sub[i] || depth > n)
                rc = ss_error_set(
                    err, SS_EFORMAT, "%s: spec.subGroups[%zu].parent: '%.80s' makes a cycle",
                    kwho(it, who), i, kstr(json_array_get(subs, i), "parent", NULL, NULL));
    }
    for (i = 0; i < n && rc == 0; i++) {
        k->gangs->v[sub[i]].parent = 0;
        kube_gang_adopt(k->gangs, par[i], sub[i]);
    }
    free(par);
    free(sub);
    if (rc < 0)
        return rc;
    kgang_t *top = &k->gangs->v[id];
    kai_partial(top, top);
    json_array_foreach(subs, i, x)
    {
        kai_partial(
            &k->gangs->v[id],
            &k->gangs->v[sub_entry(k->gangs, id, kstr(x, "name", NULL, NULL), false, NULL)]);
    }
    return 0;
}

/* ---- Volcano ---- */

/* A label selector {matchLabels, matchExpressions} at where: checked. */
int kube_check_selector(const kitem_t *it, json_t *sel, const char *where, ss_error_t *err)
{
    json_t *ml, *me, *x, *v;
    const char *key;
    size_t i;
    char who[512], at[200];
    int rc;
    if ((rc = kat(it, sel, where, "matchLabels", NULL, NULL, KT_OBJ, &ml, err)) < 0 ||
        (rc = kat(it, sel, where, "matchExpressions", NULL, NULL, KT_ARR, &me, err)) < 0)
        return rc;
    json_object_foreach(ml, key, v)
    {
        if (!json_is_string(v))
            return ss_error_set(err, SS_EFORMAT, "%s: %s.matchLabels.%s: expected a string",
                                kwho(it, who), where, key);
    }
    json_array_foreach(me, i, x)
    {
        snprintf(at, sizeof at, "%s.matchExpressions[%zu]", where, i);
        const char *op = kstr(x, "operator", NULL, NULL);
        json_t *vals = kget(x, "values", NULL, NULL);
        bool set = op && (!strcmp(op, "In") || !strcmp(op, "NotIn"));
        bool ex = op && (!strcmp(op, "Exists") || !strcmp(op, "DoesNotExist"));
        if (!json_is_object(x) || !kstr(x, "key", NULL, NULL) || !(set || ex) ||
            (vals && !json_is_array(vals)) || (set && !json_array_size(vals)) ||
            (ex && json_array_size(vals)))
            return ss_error_set(err, SS_EFORMAT,
                                "%s: %s: needs a key and an operator In/NotIn with values or "
                                "Exists/DoesNotExist without",
                                kwho(it, who), at);
    }
    return 0;
}

/* Whether the pod's labels match a checked selector. */
bool kube_selector_matches(json_t *sel, json_t *labels)
{
    json_t *x, *v;
    const char *key;
    size_t i, j;
    json_object_foreach(kget(sel, "matchLabels", NULL, NULL), key, v)
    {
        const char *pv = json_string_value(json_object_get(labels, key));
        if (!pv || strcmp(pv, json_string_value(v)))
            return false;
    }
    json_array_foreach(kget(sel, "matchExpressions", NULL, NULL), i, x)
    {
        const char *op = kstr(x, "operator", NULL, NULL);
        const char *pv = json_string_value(json_object_get(labels, kstr(x, "key", NULL, NULL)));
        bool in = false;
        json_t *val;
        json_array_foreach(kget(x, "values", NULL, NULL), j, val)
        {
            in |= pv && json_is_string(val) && !strcmp(pv, json_string_value(val));
        }
        if ((!strcmp(op, "In") && !in) || (!strcmp(op, "NotIn") && in) ||
            (!strcmp(op, "Exists") && !pv) || (!strcmp(op, "DoesNotExist") && pv))
            return false;
    }
    return true;
}

/* One spec.subGroupPolicy[i]: fields checked (sub-groups are made from
 * the members, kube_sub_pod). */
static int volcano_policy(kctx_t *k, const kitem_t *it, json_t *x, size_t i, ss_error_t *err)
{
    char who[512], where[64], at[96];
    json_t *name, *sel, *keys, *key;
    int32_t n;
    size_t j;
    int rc;
    kgang_t probe = {.mode = SS_TOPO_MODE_NONE};
    snprintf(where, sizeof where, "spec.subGroupPolicy[%zu]", i);
    if (!json_is_object(x))
        return ss_error_set(err, SS_EFORMAT, "%s: %s: expected an object", kwho(it, who), where);
    if ((rc = kat(it, x, where, "name", NULL, NULL, KT_STR, &name, err)) < 0 ||
        (rc = opt_int(it, x, where, "subGroupSize", 1, 1, &n, NULL, err)) < 0 ||
        (rc = opt_int(it, x, where, "minSubGroups", 0, 0, &n, NULL, err)) < 0 ||
        (rc = kat(it, x, where, "labelSelector", NULL, NULL, KT_OBJ, &sel, err)) < 0 ||
        (rc = kat(it, x, where, "matchLabelKeys", NULL, NULL, KT_ARR, &keys, err)) < 0 ||
        (rc = kube_volcano_topology(k, it, x, where, &probe, err)) < 0)
        return rc;
    if (!name || !*json_string_value(name))
        return ss_error_set(err, SS_EFORMAT, "%s: %s.name: missing", kwho(it, who), where);
    snprintf(at, sizeof at, "%s.labelSelector", where);
    if (sel && (rc = kube_check_selector(it, sel, at, err)) < 0)
        return rc;
    json_array_foreach(keys, j, key)
    {
        if (!json_is_string(key))
            return ss_error_set(err, SS_EFORMAT, "%s: %s.matchLabelKeys[%zu]: expected a string",
                                kwho(it, who), where, j);
    }
    return 0;
}

int kube_sub_volcano(kctx_t *k, const kitem_t *it, int32_t id, ss_error_t *err)
{
    json_t *mtm, *sgp, *v, *x;
    const char *task;
    char who[512];
    size_t i;
    int rc;
    if ((rc = kat(it, it->obj, NULL, "spec", "minTaskMember", NULL, KT_OBJ, &mtm, err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "spec", "subGroupPolicy", NULL, KT_ARR, &sgp, err)) < 0)
        return rc;
    json_array_foreach(sgp, i, x)
    {
        if ((rc = volcano_policy(k, it, x, i, err)) < 0)
            return rc;
    }
    if (json_object_size(mtm) && json_array_size(sgp))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: spec: minTaskMember and subGroupPolicy both set (the pods' "
                            "sub-groups would be ambiguous)",
                            kwho(it, who));
    k->gangs->v[id].split = json_object_size(mtm)  ? KS_TASK
                            : json_array_size(sgp) ? KS_POLICY
                                                   : KS_NONE;
    json_object_foreach(mtm, task, v)
    {
        json_int_t m = json_is_integer(v) ? json_integer_value(v) : -1;
        if (m < 0 || m > INT32_MAX)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: spec.minTaskMember.%s: must be an integer >= 0", kwho(it, who),
                                task);
        bool fresh;
        int32_t s = sub_entry(k->gangs, id, task, true, &fresh);
        if (s < 0)
            return nomem(err);
        kgang_t *e = &k->gangs->v[s];
        e->kind = KG_SUB;
        e->dialect = KD_VOLCANO;
        e->item = k->gangs->v[id].item;
        e->path = it->path;
        e->min = (int32_t)m;
        e->mode = SS_TOPO_MODE_NONE;
        kube_gang_adopt(k->gangs, id, s);
    }
    return 0;
}

/* The subGroupPolicy sub-group of a pod (0: none matches it): the first
 * policy whose selector matches and whose matchLabelKeys the pod has all. */
static int volcano_policy_pod(kctx_t *k, const kitem_t *it, int32_t id, int32_t *out,
                              ss_error_t *err)
{
    json_t *pol = kget(k->pgs.v[k->gangs->v[id].item].obj, "spec", "subGroupPolicy", NULL), *x,
           *key;
    json_t *labels = kget(it->obj, "metadata", "labels", NULL);
    const kitem_t *obj = &k->pgs.v[k->gangs->v[id].item];
    size_t i, j;
    *out = 0;
    json_array_foreach(pol, i, x)
    {
        json_t *sel = kget(x, "labelSelector", NULL, NULL);
        if (sel && !kube_selector_matches(sel, labels))
            continue;
        char sub[600];
        size_t n = (size_t)snprintf(sub, sizeof sub, "%s", kstr(x, "name", NULL, NULL));
        bool all = true;
        json_array_foreach(kget(x, "matchLabelKeys", NULL, NULL), j, key)
        {
            const char *v = json_string_value(json_object_get(labels, json_string_value(key)));
            all &= v != NULL;
            if (v && n < sizeof sub)
                n += (size_t)snprintf(sub + n, sizeof sub - n, "\x01%s", v);
        }
        if (!all)
            continue;
        bool fresh;
        int32_t s = sub_entry(k->gangs, id, sub, true, &fresh);
        if (s < 0)
            return nomem(err);
        if (fresh) {
            kgang_t *e = &k->gangs->v[s];
            char where[64];
            snprintf(where, sizeof where, "spec.subGroupPolicy[%zu]", i);
            e->kind = KG_SUB;
            e->dialect = KD_VOLCANO;
            e->item = k->gangs->v[id].item;
            e->path = obj->path;
            e->parent = id;
            e->mode = SS_TOPO_MODE_NONE;
            json_t *size = kget(x, "subGroupSize", NULL, NULL);
            e->min = size ? (int32_t)json_integer_value(size) : 1;
            int rc = kube_volcano_topology(k, obj, x, where, e, err);
            if (rc < 0)
                return rc;
        }
        *out = s;
        return 0;
    }
    return 0;
}

/* ---- Kueue slices ---- */

/* The pod's index: kueue.x-k8s.io/pod-index or the Job's completion index
 * (label or annotation); -1 when it has none. */
static int pod_index(const kitem_t *it, long long *out, ss_error_t *err)
{
    static const char *const keys[2] = {KUEUE_POD_INDEX_LABEL, JOB_INDEX_LABEL};
    static const char *const maps[2] = {"labels", "annotations"};
    char who[512], *end = "";
    *out = -1;
    for (int i = 0; i < 2; i++)
        for (int m = 0; m < 2; m++) {
            const char *s = kstr(it->obj, "metadata", maps[m], keys[i]);
            if (!s)
                continue;
            long long n = *s >= '0' && *s <= '9' ? strtoll(s, &end, 10) : -1;
            if (n < 0 || n > INT32_MAX || *end)
                return ss_error_set(err, SS_EFORMAT,
                                    "%s: metadata.%s.%s: '%.40s' is not an index (an integer "
                                    ">= 0)",
                                    kwho(it, who), maps[m], keys[i], s);
            *out = n;
            return 0;
        }
    return 0;
}

static int slice_pod(kctx_t *k, const kitem_t *it, int32_t id, int32_t *out, ss_error_t *err)
{
    kgang_t *e = &k->gangs->v[id];
    long long idx;
    char who[512], sub[32];
    int rc = pod_index(it, &idx, err);
    if (rc < 0)
        return rc;
    int8_t indexed = idx >= 0;
    if (e->slice_indexed >= 0 && e->slice_indexed != indexed)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: %s: some members of its sliced group have a pod index "
                            "(" KUEUE_POD_INDEX_LABEL " or " JOB_INDEX_LABEL ") and some not",
                            kwho(it, who), indexed ? "has one" : "has none");
    e->slice_indexed = indexed;
    if (!indexed)
        idx = e->slices_seen++;
    snprintf(sub, sizeof sub, "slice-%lld", idx / e->slice_size);
    bool fresh;
    int32_t s = sub_entry(k->gangs, id, sub, true, &fresh);
    if (s < 0)
        return nomem(err);
    kgang_t *x = &k->gangs->v[s], *top = &k->gangs->v[id];
    if (fresh) {
        x->kind = KG_SUB;
        x->item = top->item;
        x->path = top->path ? top->path : it->path;
        x->parent = id;
        x->min = top->slice_size;
        x->key_sid = top->slice_key_sid;
        x->mode = SS_TOPO_MODE_REQUIRED;
        x->topo_field = "metadata.annotations.kueue.x-k8s.io/podset-slice-required-topology";
    }
    *out = s;
    return 0;
}

/* ---- a pod's innermost group ---- */

int kube_sub_pod(kctx_t *k, const kitem_t *it, int32_t id, int32_t *out, ss_error_t *err)
{
    kgang_t *e = &k->gangs->v[id];
    const char *name;
    char who[512];
    *out = id;
    switch (e->split) {
    case KS_KAI:
    case KS_TASK: {
        bool kai = e->split == KS_KAI;
        name = kai ? kstr(it->obj, "metadata", "labels", KAI_SUBGROUP_LABEL)
                   : kstr(it->obj, "metadata", "annotations", VOLCANO_TASK_ANNOTATION);
        if (!name)
            return 0;
        int32_t s = sub_entry(k->gangs, id, name, false, NULL);
        if (s <= 0 && kai)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: metadata.labels." KAI_SUBGROUP_LABEL
                                ": '%.80s' is no sub-group of its PodGroup",
                                kwho(it, who), name);
        if (s > 0 && kai && k->gangs->v[s].nchild > 0)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: metadata.labels." KAI_SUBGROUP_LABEL
                                ": '%.80s' has sub-groups (pods join leaf sub-groups)",
                                kwho(it, who), name);
        *out = s > 0 ? s : id;
        return 0;
    }
    case KS_POLICY: {
        int32_t s;
        int rc = volcano_policy_pod(k, it, id, &s, err);
        if (rc == 0 && s > 0)
            *out = s;
        return rc;
    }
    case KS_SLICE:
        return slice_pod(k, it, id, out, err);
    default:
        return 0;
    }
}

/* ---- upstream composite pod groups ---- */

int kube_sub_composite(kctx_t *k, const kitem_t *it, int32_t i, ss_error_t *err)
{
    json_t *pol, *gang, *basic, *v;
    char key[600], who[512];
    bool fresh;
    int32_t m;
    int rc;
    kube_gang_key(key, sizeof key, 'C', it->obj, NULL);
    int32_t id = kube_gang_entry(k->gangs, key, true, &fresh);
    if (id < 0)
        return nomem(err);
    if (!fresh) {
        const kitem_t *f = &k->pgs.v[k->gangs->v[id].item];
        return ss_error_set(err, SS_EFORMAT,
                            "%s: items[%zu]: %s %s appears twice (first at %s: items[%zu])",
                            it->path, it->index, it->kind, key + 2, f->path, f->index);
    }
    kgang_t *e = &k->gangs->v[id];
    e->item = i;
    e->path = it->path;
    e->kind = KG_COMPOSITE;
    e->dialect = KD_UPSTREAM;
    e->mode = SS_TOPO_MODE_NONE;
    if ((rc = kat(it, it->obj, NULL, "spec", "schedulingPolicy", NULL, KT_OBJ, &pol, err)) < 0 ||
        (rc = kat(it, pol, "spec.schedulingPolicy", "gang", NULL, NULL, KT_OBJ, &gang, err)) < 0 ||
        (rc = kat(it, pol, "spec.schedulingPolicy", "basic", NULL, NULL, KT_OBJ, &basic, err)) <
            0 ||
        (rc = kat(it, it->obj, NULL, "spec", "parentCompositePodGroupName", NULL, KT_STR, &v,
                  err)) < 0)
        return rc;
    if (!pol || !gang == !basic)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: spec.schedulingPolicy: exactly one of gang and basic must be set",
                            kwho(it, who));
    if (gang && (rc = opt_int(it, gang, "spec.schedulingPolicy.gang", "minGroupCount", 1, 0, &m,
                              NULL, err)) < 0)
        return rc;
    e->min_groups = gang ? m : 0; /* 0: basic */
    e->min = gang ? 1 : 0;
    return kube_upstream_topology(k, it, e, err);
}

/* The composite a PodGroup or composite names (0: none or a basic one). */
static int link_parent(kctx_t *k, int32_t id, ss_error_t *err)
{
    const kitem_t *it = &k->pgs.v[k->gangs->v[id].item];
    const char *p = kstr(it->obj, "spec", "parentCompositePodGroupName", NULL);
    char key[600], who[512];
    if (!p || !*p)
        return 0;
    kube_gang_key(key, sizeof key, 'C', it->obj, p);
    int32_t c = kube_gang_entry(k->gangs, key, false, NULL);
    if (c <= 0)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: spec.parentCompositePodGroupName: '%.80s' names no "
                            "CompositePodGroup in the input",
                            kwho(it, who), p);
    if (k->gangs->v[c].min_groups > 0)
        kube_gang_adopt(k->gangs, c, id);
    return 0;
}

/* A composite's minimum: its sub-groups' (composites first, depth-first). */
static int composite_min(kctx_t *k, int32_t id, int depth, ss_error_t *err)
{
    kgang_t *e = &k->gangs->v[id];
    const kitem_t *it = &k->pgs.v[e->item];
    char who[512];
    if (depth > 64)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: spec.parentCompositePodGroupName: a cycle of composite groups",
                            kwho(it, who));
    int64_t sum = 0;
    for (int32_t c = e->child; c > 0; c = k->gangs->v[c].next) {
        int rc = k->gangs->v[c].kind == KG_COMPOSITE ? composite_min(k, c, depth + 1, err) : 0;
        if (rc < 0)
            return rc;
        sum += k->gangs->v[c].min;
    }
    e = &k->gangs->v[id];
    if (e->min_groups > e->nchild)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: spec.schedulingPolicy.gang.minGroupCount: %d, but %d pod groups "
                            "name it as their parent",
                            kwho(it, who), e->min_groups, e->nchild);
    if (e->min_groups < e->nchild) {
        e->rules |= SS_RULE_POD_GROUP;
        e->warn = SS_KUBE_WARN_SUBGROUPS;
    }
    e->min = sum > 0 && sum <= INT32_MAX ? (int32_t)sum : 1;
    return 0;
}

int kube_sub_link(kctx_t *k, ss_error_t *err)
{
    kgangs_t *g = k->gangs;
    int32_t n = ss_strtab_count(g->keys);
    int rc;
    for (int32_t id = 1; id < n; id++) {
        const kgang_t *e = &g->v[id];
        bool upstream =
            (e->kind == KG_PODGROUP && e->dialect == KD_UPSTREAM) || e->kind == KG_COMPOSITE;
        if (upstream && (rc = link_parent(k, id, err)) < 0)
            return rc;
    }
    for (int32_t id = 1; id < n; id++) {
        int depth = 0;
        for (int32_t a = g->v[id].parent; a > 0 && depth <= 64; a = g->v[a].parent)
            depth++;
        if (depth > 64) {
            char who[512];
            return ss_error_set(err, SS_EFORMAT,
                                "%s: spec.parentCompositePodGroupName: a cycle of composite "
                                "groups (or more than 64 levels)",
                                kwho(&k->pgs.v[g->v[id].item], who));
        }
    }
    for (int32_t id = 1; id < n; id++)
        if (g->v[id].kind == KG_COMPOSITE && g->v[id].parent == 0 && g->v[id].min_groups > 0 &&
            (rc = composite_min(k, id, 0, err)) < 0)
            return rc;
    return 0;
}
