/* ss_kube_gangs: the gang (pod group) dialects of the Kubernetes importer,
 * read into the engine's one gang model (a group with a minimum, an
 * optional required or preferred topology level named by a node label key,
 * and sub-groups, docs/kubernetes.md "Gang dialects"):
 *
 *   - scheduler-plugins coscheduling: PodGroup (scheduling.x-k8s.io) with
 *     spec.minMember, pods labelled scheduling.x-k8s.io/pod-group;
 *   - Volcano: PodGroup (scheduling.volcano.sh) with spec.minMember,
 *     networkTopology (HyperNode tiers, ss_kube_topo.c), minTaskMember and
 *     subGroupPolicy (ss_kube_subgroups.c), pods annotated
 *     scheduling.k8s.io/group-name or scheduling.volcano.sh/group-name;
 *   - NVIDIA KAI-Scheduler: PodGroup (scheduling.run.ai) with spec.minMember,
 *     spec.topologyConstraint and spec.subGroups, pods annotated pod-group-name;
 *   - upstream KEP-4671: Workload (scheduling.k8s.io/v1alpha1) pod groups
 *     named by a pod's spec.workloadRef, PodGroup (scheduling.k8s.io
 *     v1alpha2/v1alpha3/v1beta1) named by spec.schedulingGroup.podGroupName,
 *     grouped by CompositePodGroup objects;
 *   - Kueue: pods labelled kueue.x-k8s.io/pod-group-name with the
 *     kueue.x-k8s.io/pod-group-total-count annotation (no object);
 *   - Kueue's podset-*-topology annotations on the members of any of these.
 *
 * A topology key may be any node label (a level of the cluster, made by
 * kube_level); a key no node carries leaves the pods `unsupported` with a
 * warning. PodGroup objects of every API group share one "namespace/name"
 * space, as before. The file loading and the other passes live in
 * ss_kube_import.c. */
#include "ss_kube_gangs_int.h"

#include <stdlib.h>
#include <string.h>

#define KUEUE_GROUP_LABEL "kueue.x-k8s.io/pod-group-name"
#define KUEUE_TOTAL_ANNOTATION "kueue.x-k8s.io/pod-group-total-count"
#define KUEUE_UNCONSTRAINED_ANNOTATION "kueue.x-k8s.io/podset-unconstrained-topology"
#define KUEUE_SLICE_TOPOLOGY_ANNOTATION "kueue.x-k8s.io/podset-slice-required-topology"
#define KUEUE_SLICE_SIZE_ANNOTATION "kueue.x-k8s.io/podset-slice-size"
#define VOLCANO_GROUP_ANNOTATION2 "scheduling.volcano.sh/group-name"
#define KAI_GROUP_ANNOTATION "pod-group-name"

void kube_gangs_free(kctx_t *k)
{
    kube_topo_free(k);
    if (!k->gangs)
        return;
    ss_strtab_destroy(k->gangs->keys);
    free(k->gangs->v);
    free(k->gangs);
    k->gangs = NULL;
}

/* The entry of key (added when add is true and it is new): its id, 0 when
 * absent, -1 out of memory. *fresh says whether it was added. */
int32_t kube_gang_entry(kgangs_t *g, const char *key, bool add, bool *fresh)
{
    int32_t before = ss_strtab_count(g->keys);
    int32_t id = add ? ss_strtab_intern(g->keys, key) : ss_strtab_find(g->keys, key);
    if (fresh)
        *fresh = add && id >= before;
    if (id <= 0)
        return id < 0 && add ? -1 : 0;
    if (id >= g->cap) {
        int32_t cap = g->cap ? g->cap * 2 : 64;
        while (cap <= id)
            cap *= 2;
        kgang_t *nv = realloc(g->v, (size_t)cap * sizeof *nv);
        if (!nv)
            return -1;
        g->v = nv;
        g->cap = cap;
    }
    if (id >= before)
        g->v[id] = (kgang_t){.item = -1, .warn = -1, .mode = -1, .row = -1, .slice_indexed = -1};
    return id;
}

void kube_gang_adopt(kgangs_t *g, int32_t parent, int32_t child)
{
    int32_t *at = &g->v[parent].child;
    while (*at > 0)
        at = &g->v[*at].next;
    *at = child;
    g->v[child].parent = parent;
    g->v[parent].nchild++;
}

void kube_gang_key(char *buf, size_t n, char tag, json_t *obj, const char *name)
{
    const char *ns = kstr(obj, "metadata", "namespace", NULL);
    snprintf(buf, n, "%c\x01%s/%s", tag, ns && *ns ? ns : "default",
             name ? name : kstr(obj, "metadata", "name", NULL));
}

/* A constraint on key at mode; the level is made when the group's row is
 * (kube_gang_join), once the nodes are known to carry the key. */
int kube_gang_set_topology(kctx_t *k, kgang_t *e, const char *key, int mode, const char *field,
                           ss_error_t *err)
{
    e->key_sid = kstr_id(k, key, err);
    if (e->key_sid < 0)
        return SS_ENOMEM;
    e->mode = mode;
    e->level = 0;
    e->topo_field = field;
    return 0;
}

static int int_field(const kitem_t *it, const char *where, const char *k1, const char *k2,
                     const char *k3, json_int_t lo, json_int_t dflt, int32_t *out, ss_error_t *err)
{
    json_t *v;
    char who[512], field[200];
    int rc = kat(it, it->obj, where, k1, k2, k3, KT_INT, &v, err);
    if (rc < 0)
        return rc;
    json_int_t x = v ? json_integer_value(v) : dflt;
    if (x < lo || x > INT32_MAX) {
        snprintf(field, sizeof field, "%s.%s%s%s%s%s", where, k1, k2 ? "." : "", k2 ? k2 : "",
                 k3 ? "." : "", k3 ? k3 : "");
        return ss_error_set(err, SS_EFORMAT, "%s: %s: must be an integer >= %lld", kwho(it, who),
                            field + (*where ? 0 : 1), (long long)lo);
    }
    *out = (int32_t)x;
    return 0;
}

/* Volcano: minMember (0 is no minimum), networkTopology, minTaskMember and
 * subGroupPolicy (sub-groups, ss_kube_subgroups.c). */
static int read_volcano(kctx_t *k, const kitem_t *it, int32_t id, ss_error_t *err)
{
    kgang_t *e = &k->gangs->v[id];
    json_t *v;
    int rc;
    if ((rc = int_field(it, "", "spec", "minMember", NULL, 0, 0, &e->min, err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "spec", "queue", NULL, KT_STR, &v, err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "spec", "priorityClassName", NULL, KT_STR, &v, err)) < 0 ||
        (rc = kube_volcano_topology(k, it, kget(it->obj, "spec", NULL, NULL), "spec", e, err)) < 0)
        return rc;
    if (e->min == 0)
        e->min = 1;
    return kube_sub_volcano(k, it, id, err);
}

/* KAI: minMember, topologyConstraint (kube_kai_topology), subGroups
 * (ss_kube_subgroups.c). */
static int read_kai(kctx_t *k, const kitem_t *it, int32_t id, ss_error_t *err)
{
    kgang_t *e = &k->gangs->v[id];
    json_t *v;
    int rc;
    if ((rc = int_field(it, "", "spec", "minMember", NULL, 0, 0, &e->min, err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "spec", "queue", NULL, KT_STR, &v, err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "spec", "priorityClassName", NULL, KT_STR, &v, err)) < 0 ||
        (rc = kube_kai_topology(k, it, kget(it->obj, "spec", NULL, NULL), "spec", e, err)) < 0)
        return rc;
    if (e->min == 0)
        e->min = 1;
    return kube_sub_kai(k, it, id, err);
}

/* A policy object (Workload pod group or upstream PodGroup): exactly one of
 * gang {minCount >= 1} and basic {}; *min 0 for basic. */
static int read_policy(const kitem_t *it, json_t *pol, const char *where, int32_t *min,
                       ss_error_t *err)
{
    json_t *gang, *basic, *mc;
    char who[512];
    int rc;
    if ((rc = kat(it, pol, where, "gang", NULL, NULL, KT_OBJ, &gang, err)) < 0 ||
        (rc = kat(it, pol, where, "basic", NULL, NULL, KT_OBJ, &basic, err)) < 0 ||
        (rc = kat(it, pol, where, "gang", "minCount", NULL, KT_INT, &mc, err)) < 0)
        return rc;
    if (!pol || !gang == !basic)
        return ss_error_set(err, SS_EFORMAT, "%s: %s: exactly one of gang and basic must be set",
                            kwho(it, who), where);
    *min = 0;
    if (!gang)
        return 0;
    json_int_t m = mc ? json_integer_value(mc) : 0;
    if (m < 1 || m > INT32_MAX)
        return ss_error_set(err, SS_EFORMAT, "%s: %s.gang.minCount: must be an integer >= 1",
                            kwho(it, who), where);
    *min = (int32_t)m;
    return 0;
}

/* spec.schedulingConstraints.topology: at most one, its key a required
 * domain. */
int kube_upstream_topology(kctx_t *k, const kitem_t *it, kgang_t *e, ss_error_t *err)
{
    json_t *topo, *c, *key;
    char who[512];
    int rc =
        kat(it, it->obj, NULL, "spec", "schedulingConstraints", "topology", KT_ARR, &topo, err);
    if (rc < 0)
        return rc;
    if (json_array_size(topo) > 1)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: spec.schedulingConstraints.topology: %zu constraints; the API "
                            "allows one",
                            kwho(it, who), json_array_size(topo));
    if ((c = json_array_get(topo, 0)) == NULL)
        return 0;
    if (!json_is_object(c))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: spec.schedulingConstraints.topology[0]: expected an object",
                            kwho(it, who));
    if ((rc = kat(it, c, "spec.schedulingConstraints.topology[0]", "key", NULL, NULL, KT_STR, &key,
                  err)) < 0)
        return rc;
    if (!key || !*json_string_value(key))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: spec.schedulingConstraints.topology[0].key: missing",
                            kwho(it, who));
    return kube_gang_set_topology(k, e, json_string_value(key), SS_TOPO_MODE_REQUIRED,
                                  "spec.schedulingConstraints.topology[0].key", err);
}

/* Upstream PodGroup (v1alpha2 / v1alpha3 / v1beta1): schedulingPolicy, one
 * topology constraint, priority; its parentCompositePodGroupName is linked
 * by kube_sub_link. */
static int read_upstream(kctx_t *k, const kitem_t *it, kgang_t *e, ss_error_t *err)
{
    json_t *pol, *prio, *v;
    char who[512];
    int rc;
    if ((rc = kat(it, it->obj, NULL, "spec", "schedulingPolicy", NULL, KT_OBJ, &pol, err)) < 0 ||
        (rc = read_policy(it, pol, "spec.schedulingPolicy", &e->min, err)) < 0 ||
        (rc = kube_upstream_topology(k, it, e, err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "spec", "priority", NULL, KT_INT, &prio, err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "spec", "priorityClassName", NULL, KT_STR, &v, err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "spec", "parentCompositePodGroupName", NULL, KT_STR, &v,
                  err)) < 0)
        return rc;
    if (prio) {
        json_int_t p = json_integer_value(prio);
        if (p > INT32_MAX || p < INT32_MIN)
            return ss_error_set(err, SS_ERANGE, "%s: spec.priority: out of range", kwho(it, who));
        e->has_prio = true;
        e->prio = (int32_t)p;
    }
    return 0;
}

/* A Workload's pod groups: names unique, each with one policy. */
static int check_workload(const kitem_t *it, ss_error_t *err)
{
    json_t *pgs, *x, *name, *pol;
    size_t i, j;
    char who[512], where[64];
    int32_t min;
    int rc = kat(it, it->obj, NULL, "spec", "podGroups", NULL, KT_ARR, &pgs, err);
    json_array_foreach(pgs, i, x)
    {
        snprintf(where, sizeof where, "spec.podGroups[%zu]", i);
        if (rc == 0 && !json_is_object(x))
            rc = ss_error_set(err, SS_EFORMAT, "%s: %s: expected an object", kwho(it, who), where);
        if (rc < 0 || (rc = kat(it, x, where, "name", NULL, NULL, KT_STR, &name, err)) < 0)
            return rc;
        if (!name || !*json_string_value(name))
            return ss_error_set(err, SS_EFORMAT, "%s: %s.name: missing", kwho(it, who), where);
        for (j = 0; j < i; j++)
            if (!strcmp(json_string_value(name), kstr(json_array_get(pgs, j), "name", NULL, NULL)))
                return ss_error_set(err, SS_EFORMAT,
                                    "%s: %s.name: '%.80s' is also spec.podGroups[%zu].name",
                                    kwho(it, who), where, json_string_value(name), j);
        snprintf(where, sizeof where, "spec.podGroups[%zu].policy", i);
        if ((rc = kat(it, x, NULL, "policy", NULL, NULL, KT_OBJ, &pol, err)) < 0 ||
            (rc = read_policy(it, pol, where, &min, err)) < 0)
            return rc;
    }
    return rc;
}

static int index_object(kctx_t *k, const kitem_t *it, int32_t i, ss_error_t *err)
{
    kgangs_t *g = k->gangs;
    bool workload = !strcmp(it->kind, "Workload"), fresh;
    if (kube_topo_kind(it->kind))
        return 0; /* read before (kube_topo_object) */
    if (!strcmp(it->kind, "CompositePodGroup"))
        return kube_sub_composite(k, it, i, err);
    char key[600];
    kube_gang_key(key, sizeof key, workload ? 'W' : 'P', it->obj, NULL);
    int32_t id = kube_gang_entry(g, key, true, &fresh);
    if (id < 0)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    if (!fresh) {
        const kitem_t *f = &k->pgs.v[g->v[id].item];
        return ss_error_set(err, SS_EFORMAT,
                            "%s: items[%zu]: %s %s appears twice (first at %s: items[%zu])",
                            it->path, it->index, it->kind, key + 2, f->path, f->index);
    }
    kgang_t *e = &g->v[id];
    e->item = i;
    e->path = it->path;
    e->kind = workload ? KG_WORKLOAD : KG_PODGROUP;
    if (workload)
        return check_workload(it, err);
    const char *api = kstr(it->obj, "apiVersion", NULL, NULL);
    size_t n = api && strchr(api, '/') ? (size_t)(strchr(api, '/') - api) : 0;
    e->dialect = n == 21 && !strncmp(api, "scheduling.volcano.sh", n) ? KD_VOLCANO
                 : n == 17 && !strncmp(api, "scheduling.run.ai", n)   ? KD_KAI
                 : n == 17 && !strncmp(api, "scheduling.k8s.io", n)   ? KD_UPSTREAM
                                                                      : KD_COSCHED;
    switch (e->dialect) {
    case KD_VOLCANO:
        return read_volcano(k, it, id, err);
    case KD_KAI:
        return read_kai(k, it, id, err);
    case KD_UPSTREAM:
        return read_upstream(k, it, e, err);
    default:
        return int_field(it, "", "spec", "minMember", NULL, 1, 1, &e->min, err);
    }
}

/* Topology objects first (the HyperNode tree gives Volcano's tiers), then
 * the groups, then the links between them. */
int kube_gangs_index(kctx_t *k, ss_error_t *err)
{
    k->gangs = calloc(1, sizeof *k->gangs);
    int rc = 0;
    if (!k->gangs || !(k->gangs->keys = ss_strtab_create()))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    for (size_t i = 0; i < k->pgs.n && rc == 0; i++)
        if (kube_topo_kind(k->pgs.v[i].kind))
            rc = kube_topo_object(k, &k->pgs.v[i], err);
    if (rc == 0)
        rc = kube_topo_finish(k, err);
    for (size_t i = 0; i < k->pgs.n && rc == 0; i++)
        rc = index_object(k, &k->pgs.v[i], (int32_t)i, err);
    if (rc == 0)
        rc = kube_sub_link(k, err);
    return rc;
}

/* ---- pods: which group a pod is in ---- */

/* One gang reference of a pod. */
typedef struct {
    const char *field; /* where (messages) */
    int32_t id;        /* entry id; 0: names an object not in the input */
    bool basic;        /* a pod group with the basic policy: no gang */
    uint32_t bit;      /* the rule when it names nothing (0: scheduled singly) */
    int warn;          /* the warning then */
} kref_t;

/* A string member at k1.k2.k3 of the pod (type-checked), NULL if absent. */
static int pod_str(const kitem_t *it, const char *k1, const char *k2, const char *k3,
                   const char **out, ss_error_t *err)
{
    json_t *v;
    int rc = kat(it, it->obj, NULL, k1, k2, k3, KT_STR, &v, err);
    *out = json_string_value(v);
    return rc;
}

static int32_t find_key(kctx_t *k, const kitem_t *it, char tag, const char *name)
{
    char key[600];
    kube_gang_key(key, sizeof key, tag, it->obj, name);
    return kube_gang_entry(k->gangs, key, false, NULL);
}

/* spec.workloadRef: the Workload's pod group (replicated by the replica key). */
static int ref_workload(kctx_t *k, const kitem_t *it, kref_t *r, ss_error_t *err)
{
    const char *wl, *pg, *rk;
    char who[512], key[900];
    int rc;
    if ((rc = pod_str(it, "spec", "workloadRef", "name", &wl, err)) < 0 ||
        (rc = pod_str(it, "spec", "workloadRef", "podGroup", &pg, err)) < 0 ||
        (rc = pod_str(it, "spec", "workloadRef", "podGroupReplicaKey", &rk, err)) < 0)
        return rc;
    if (!wl || !*wl || !pg || !*pg)
        return ss_error_set(err, SS_EFORMAT, "%s: spec.workloadRef.%s: missing", kwho(it, who),
                            !wl || !*wl ? "name" : "podGroup");
    int32_t w = find_key(k, it, 'W', wl);
    json_t *x, *found = NULL;
    size_t i;
    json_t *pgs = w > 0 ? kget(k->pgs.v[k->gangs->v[w].item].obj, "spec", "podGroups", NULL) : NULL;
    json_array_foreach(pgs, i, x)
    {
        if (!strcmp(kstr(x, "name", NULL, NULL), pg))
            found = x;
    }
    if (!found)
        return 0;
    json_t *mc = kget(found, "policy", "gang", "minCount");
    if (!mc) {
        r->basic = true;
        return 0;
    }
    const char *ns = kstr(it->obj, "metadata", "namespace", NULL);
    snprintf(key, sizeof key, "w\x01%s/%s.%s%s%s", ns && *ns ? ns : "default", wl, pg,
             rk && *rk ? "." : "", rk && *rk ? rk : "");
    bool fresh;
    if ((r->id = kube_gang_entry(k->gangs, key, true, &fresh)) < 0)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    if (fresh) {
        kgang_t *e = &k->gangs->v[r->id];
        e->kind = KG_WGANG;
        e->min = (int32_t)json_integer_value(mc);
        e->path = it->path;
    }
    return 0;
}

/* Kueue: the pod-group-name label with the total count annotation. */
static int ref_kueue(kctx_t *k, const kitem_t *it, const char *name, kref_t *r, ss_error_t *err)
{
    const char *tc;
    char who[512], *end = "";
    int rc = pod_str(it, "metadata", "annotations", KUEUE_TOTAL_ANNOTATION, &tc, err);
    if (rc < 0)
        return rc;
    if (!tc)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: metadata.annotations." KUEUE_TOTAL_ANNOTATION
                            ": missing (Kueue needs it with the " KUEUE_GROUP_LABEL " label)",
                            kwho(it, who));
    long long n = *tc >= '0' && *tc <= '9' ? strtoll(tc, &end, 10) : 0;
    if (n < 1 || n > INT32_MAX || *end)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: metadata.annotations." KUEUE_TOTAL_ANNOTATION
                            ": '%.40s' is not a positive integer",
                            kwho(it, who), tc);
    char key[600];
    bool fresh;
    kube_gang_key(key, sizeof key, 'K', it->obj, name);
    if ((r->id = kube_gang_entry(k->gangs, key, true, &fresh)) < 0)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    kgang_t *e = &k->gangs->v[r->id];
    if (fresh) {
        e->kind = KG_KUEUE;
        e->min = (int32_t)n;
        e->path = it->path;
    } else if (e->min != n) {
        return ss_error_set(err, SS_EFORMAT,
                            "%s: metadata.annotations." KUEUE_TOTAL_ANNOTATION
                            ": %lld, but the group's first member says %d",
                            kwho(it, who), n, e->min);
    }
    return 0;
}

/* The pod's gang references, in the order they take precedence. */
static int pod_refs(kctx_t *k, const kitem_t *it, kref_t *r, int *n, ss_error_t *err)
{
    static const struct {
        const char *map, *key;
        uint32_t bit;
        int warn;
    } named[] = {
        {"labels", SS_KUBE_POD_GROUP_LABEL, 0, SS_KUBE_WARN_NO_POD_GROUP},
        {"annotations", SS_KUBE_VOLCANO_GROUP_ANNOTATION, SS_RULE_POD_GROUP,
         SS_KUBE_WARN_FOREIGN_GANG},
        {"annotations", VOLCANO_GROUP_ANNOTATION2, SS_RULE_POD_GROUP, SS_KUBE_WARN_FOREIGN_GANG},
        {"annotations", KAI_GROUP_ANNOTATION, SS_RULE_POD_GROUP, SS_KUBE_WARN_FOREIGN_GANG},
    };
    const char *s;
    json_t *wref;
    int rc = 0;
    *n = 0;
    for (size_t i = 0; i < sizeof named / sizeof named[0] && rc == 0; i++) {
        if ((rc = pod_str(it, "metadata", named[i].map, named[i].key, &s, err)) < 0 || !s || !*s)
            continue;
        r[*n] = (kref_t){named[i].key, find_key(k, it, 'P', s), false, named[i].bit, named[i].warn};
        (*n)++;
    }
    if (rc == 0 && (rc = pod_str(it, "spec", "schedulingGroup", "podGroupName", &s, err)) == 0 &&
        kget(it->obj, "spec", "schedulingGroup", NULL)) {
        char who[512];
        if (!s || !*s)
            return ss_error_set(err, SS_EFORMAT, "%s: spec.schedulingGroup.podGroupName: missing",
                                kwho(it, who));
        r[(*n)++] = (kref_t){"spec.schedulingGroup", find_key(k, it, 'P', s), false,
                             SS_RULE_SCHEDULING_GROUP, SS_KUBE_WARN_SCHEDULING_GROUP};
    }
    if (rc == 0 &&
        (rc = kat(it, it->obj, NULL, "spec", "workloadRef", NULL, KT_OBJ, &wref, err)) == 0 &&
        wref) {
        r[*n] =
            (kref_t){"spec.workloadRef", 0, false, SS_RULE_WORKLOAD_REF, SS_KUBE_WARN_WORKLOAD_REF};
        rc = ref_workload(k, it, &r[(*n)++], err);
    }
    if (rc == 0 && (rc = pod_str(it, "metadata", "labels", KUEUE_GROUP_LABEL, &s, err)) == 0 && s &&
        *s) {
        r[*n] = (kref_t){KUEUE_GROUP_LABEL, 0, false, 0, 0};
        rc = ref_kueue(k, it, s, &r[(*n)++], err);
    }
    return rc;
}

/* A Kueue annotation key of the pod (type-checked), NULL if absent. */
static int ann(const kitem_t *it, const char *key, const char **out, ss_error_t *err)
{
    return pod_str(it, "metadata", "annotations", key, out, err);
}

/* Kueue's slices, read from a group's first member: podset-slice-size pods
 * a slice, each slice a sub-group required in one domain of the
 * podset-slice-required-topology level (ss_kube_subgroups.c places the
 * members). */
static int member_slices(kctx_t *k, const kitem_t *it, kgang_t *e, ss_error_t *err)
{
    const char *topo, *size;
    char who[512], *end = "";
    int rc;
    if ((rc = ann(it, KUEUE_SLICE_TOPOLOGY_ANNOTATION, &topo, err)) < 0 ||
        (rc = ann(it, KUEUE_SLICE_SIZE_ANNOTATION, &size, err)) < 0)
        return rc;
    if (!topo && !size)
        return 0;
    if (!topo || !*topo || !size)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: metadata.annotations." KUEUE_SLICE_TOPOLOGY_ANNOTATION
                            " and " KUEUE_SLICE_SIZE_ANNOTATION ": %s without the other",
                            kwho(it, who), topo && *topo ? "the topology" : "the size");
    long long n = *size >= '0' && *size <= '9' ? strtoll(size, &end, 10) : 0;
    if (n < 1 || n > INT32_MAX || *end)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: metadata.annotations." KUEUE_SLICE_SIZE_ANNOTATION
                            ": '%.40s' is not a positive integer",
                            kwho(it, who), size);
    if (e->split != KS_NONE)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: metadata.annotations." KUEUE_SLICE_SIZE_ANNOTATION
                            ": the pod's group already has sub-groups",
                            kwho(it, who));
    e->split = KS_SLICE;
    e->slice_size = (int32_t)n;
    e->slice_key_sid = kstr_id(k, topo, err);
    return e->slice_key_sid < 0 ? SS_ENOMEM : 0;
}

/* The topology of a group whose object gives none: its first member's
 * Kueue annotations (required, preferred, or unconstrained: none). */
static int member_topology(kctx_t *k, const kitem_t *it, kgang_t *e, ss_error_t *err)
{
    static const char *const fields[2] = {
        "metadata.annotations." SS_KUBE_REQUIRED_TOPOLOGY_ANNOTATION,
        "metadata.annotations." SS_KUBE_PREFERRED_TOPOLOGY_ANNOTATION};
    const char *req, *pref, *unc;
    char who[512];
    int rc;
    if ((rc = ann(it, SS_KUBE_REQUIRED_TOPOLOGY_ANNOTATION, &req, err)) < 0 ||
        (rc = ann(it, SS_KUBE_PREFERRED_TOPOLOGY_ANNOTATION, &pref, err)) < 0 ||
        (rc = ann(it, KUEUE_UNCONSTRAINED_ANNOTATION, &unc, err)) < 0)
        return rc;
    if (unc && strcmp(unc, "true") && strcmp(unc, "false"))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: metadata.annotations." KUEUE_UNCONSTRAINED_ANNOTATION
                            ": '%.40s' is not true or false",
                            kwho(it, who), unc);
    if ((req != NULL) + (pref != NULL) + (unc && !strcmp(unc, "true")) > 1)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: metadata.annotations: more than one of "
                            "podset-required-topology, podset-preferred-topology and "
                            "podset-unconstrained-topology",
                            kwho(it, who));
    e->level = 0;
    e->mode = SS_TOPO_MODE_NONE;
    if (!req && !pref)
        return 0;
    return kube_gang_set_topology(k, e, req ? req : pref,
                                  req ? SS_TOPO_MODE_REQUIRED : SS_TOPO_MODE_PREFERRED,
                                  fields[req ? 0 : 1], err);
}

/* The level of e's topology key once nodes are known: a key no node
 * carries leaves the group's pending pods unsupported (Kubernetes keeps
 * them pending), any other becomes a level. */
static int resolve_level(kctx_t *k, kgang_t *e, ss_error_t *err)
{
    if (e->resolved || e->mode <= SS_TOPO_MODE_NONE || e->key_sid <= 0)
        return 0;
    e->resolved = true;
    int l = kube_topo_carried(k, e->key_sid)
                ? kube_level(k, ss_cluster_strget(k->c, e->key_sid), err)
                : -1;
    if (l < -1) { /* more than 16 levels: name the group's object */
        char who[512];
        if (e->item >= 0)
            return ss_error_prefix(err, l, "%s", kwho(&k->pgs.v[e->item], who));
        return ss_error_prefix(err, l, "%s: its first member's %s", e->path, e->topo_field);
    }
    if (l >= 0) {
        e->level = l;
        return 0;
    }
    e->mode = SS_TOPO_MODE_NONE;
    e->rules |= SS_RULE_TOPOLOGY;
    e->warn = SS_KUBE_WARN_TOPOLOGY_KEY;
    return 0;
}

/* Whether a static sub-group is one its group needs: a minimum, or a
 * needed sub-group of its own. */
static bool needed(const kgangs_t *g, int32_t id)
{
    if (g->v[id].min > 0)
        return true;
    for (int32_t c = g->v[id].child; c > 0; c = g->v[c].next)
        if (needed(g, c))
            return true;
    return false;
}

/* The snapshot's ss_group_dialect of a top-level entry. */
static int32_t kube_group_dialect(const kgang_t *e)
{
    static const int32_t objects[] = {[KD_COSCHED] = SS_GD_COSCHEDULING,
                                      [KD_VOLCANO] = SS_GD_VOLCANO,
                                      [KD_KAI] = SS_GD_KAI,
                                      [KD_UPSTREAM] = SS_GD_PODGROUP};
    switch (e->kind) {
    case KG_PODGROUP:
        return e->dialect >= 0 && e->dialect <= KD_UPSTREAM ? objects[e->dialect] : SS_GD_UNKNOWN;
    case KG_WGANG:
        return SS_GD_WORKLOAD;
    case KG_KUEUE:
        return SS_GD_KUEUE;
    case KG_COMPOSITE:
        return SS_GD_COMPOSITE;
    default:
        return SS_GD_UNKNOWN;
    }
}

/* The row of entry id under parent (-1: a top-level group), then the rows
 * of its static sub-groups: a sub-group named by an object is one the group
 * needs, members or not. */
static int add_row(kctx_t *k, int32_t id, int32_t parent, ss_error_t *err)
{
    kgangs_t *g = k->gangs;
    char name[700];
    int rc;
    if ((rc = resolve_level(k, &g->v[id], err)) < 0)
        return rc;
    snprintf(name, sizeof name, "%s", ss_strtab_get(g->keys, id) + 2);
    for (char *c = name; *c; c++)
        if (*c == '\x01')
            *c = '/';
    int32_t sid = kstr_id(k, name, err);
    if (sid < 0)
        return SS_ENOMEM;
    kgang_t *e = &g->v[id];
    if (e->mode < 0) /* a sub-group no member has reached yet */
        e->mode = SS_TOPO_MODE_NONE;
    int32_t level =
        e->mode > SS_TOPO_MODE_NONE ? e->level : kube_level(k, SS_KUBE_HOSTNAME_LABEL, err);
    if (level < 0)
        return level;
    int32_t min = e->min > 0 ? e->min : 1;
    e->row = parent < 0 ? ss_cluster_add_group(k->c, sid, min, level, e->mode)
                        : ss_cluster_add_subgroup(k->c, parent, sid, min, level, e->mode);
    if (e->row < 0)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    if (parent < 0) /* where it came from: what a status write-back may patch */
        k->c->group_dialect[e->row] = kube_group_dialect(e);
    for (int32_t c = e->child; c > 0; c = g->v[c].next)
        if (g->v[c].row < 0 && needed(g, c) && (rc = add_row(k, c, g->v[id].row, err)) < 0)
            return rc;
    return 0;
}

/* The group row of entry id (its enclosing groups' first), made when its
 * first member is added (after the member's template, so that strings keep
 * the order they had). */
int kube_gang_join(kctx_t *k, int32_t id, int32_t *group, ss_error_t *err)
{
    kgangs_t *g = k->gangs;
    int32_t parent = -1;
    int rc;
    *group = -1;
    if (id <= 0)
        return 0;
    if (g->v[id].row < 0) {
        if (g->v[id].parent > 0 && (rc = kube_gang_join(k, g->v[id].parent, &parent, err)) < 0)
            return rc;
        if (g->v[id].row < 0 && (rc = add_row(k, id, parent, err)) < 0)
            return rc;
    }
    *group = g->v[id].row;
    return 0;
}

/* A warning for a pending member; a topology key no node carries is named. */
static int member_warn(kctx_t *k, const kitem_t *it, const kgang_t *e, ss_error_t *err)
{
    if (e->warn != SS_KUBE_WARN_TOPOLOGY_KEY)
        return kwarn(k, e->warn, it, err);
    char where[700], who[512];
    if (e->item >= 0 && strncmp(e->topo_field, "metadata.", 9)) /* the object's, not a member's */
        snprintf(where, sizeof where, "%s %s", k->pgs.v[e->item].kind,
                 kname(k->pgs.v[e->item].obj, who));
    else
        snprintf(where, sizeof where, "its first member");
    const char *key = ss_cluster_strget(k->c, e->key_sid);
    if (!k->rep->topology_key[0])
        snprintf(k->rep->topology_key, sizeof k->rep->topology_key, "'%.60s' in %.60s %.60s", key,
                 where, e->topo_field);
    if (kwarn(k, e->warn, it, err) == 0)
        return 0;
    return ss_error_set(err, SS_EUNSUPPORTED,
                        "%s: %s %s: no node carries the label '%.80s' (--strict)", kwho(it, who),
                        where, e->topo_field, key);
}

/* Topology annotations and gang keys no group read explains. */
static bool unread_topology(const kitem_t *it, const kgang_t *gang)
{
    bool topo = false, kai = gang && gang->kind == KG_PODGROUP && gang->dialect == KD_KAI;
    const char *maps[2] = {"labels", "annotations"}, *key;
    json_t *v;
    for (int m = 0; m < 2; m++)
        json_object_foreach(kget(it->obj, "metadata", maps[m], NULL), key, v)
        {
            size_t n = strlen(key);
            bool read = gang && m == 1 &&
                        (!strcmp(key, SS_KUBE_REQUIRED_TOPOLOGY_ANNOTATION) ||
                         !strcmp(key, SS_KUBE_PREFERRED_TOPOLOGY_ANNOTATION) ||
                         !strcmp(key, KUEUE_UNCONSTRAINED_ANNOTATION) ||
                         !strcmp(key, KUEUE_SLICE_TOPOLOGY_ANNOTATION));
            if (!read && !strncmp(key, "kueue.x-k8s.io/podset-", 22) && n > 31 &&
                !strcmp(key + n - 9, "-topology"))
                topo = true;
            if (!kai && !strncmp(key, "kai.scheduler/topology", 22))
                topo = true;
        }
    return topo;
}

static bool unread_gang_key(const kitem_t *it)
{
    static const char *const keys[] = {SS_KUBE_FOREIGN_GANG_KEYS};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (kstr(it->obj, "metadata", "labels", keys[i]) ||
            kstr(it->obj, "metadata", "annotations", keys[i]))
            return true;
    return false;
}

int kube_gang_pod(kctx_t *k, const kitem_t *it, bool pending, int32_t *gang, uint32_t *rules,
                  int32_t *prio, ss_error_t *err)
{
    kref_t r[8];
    int n, rc, primary = -1;
    char who[512];
    *gang = 0;
    *rules = 0;
    if ((rc = kube_topo_levels(k, err)) < 0 || (rc = pod_refs(k, it, r, &n, err)) < 0)
        return rc;
    for (int i = 0; i < n; i++) {
        bool gang = r[i].id > 0 && !r[i].basic &&
                    (k->gangs->v[r[i].id].min > 0 || k->gangs->v[r[i].id].parent > 0);
        if (gang && primary < 0)
            primary = i;
        else if (gang && r[i].id != r[primary].id)
            return ss_error_set(err, SS_EFORMAT, "%s: %s and %s name two different pod groups",
                                kwho(it, who), r[primary].field, r[i].field);
        else if (r[i].id == 0 && !r[i].basic && (pending || !r[i].bit)) {
            *rules |= r[i].bit;
            if ((rc = kwarn(k, r[i].warn, it, err)) < 0)
                return rc;
        }
    }
    kgang_t *e = primary >= 0 ? &k->gangs->v[r[primary].id] : NULL;
    if (e && e->mode < 0 && (rc = member_topology(k, it, e, err)) < 0)
        return rc;
    if (e && e->members == 0 && (rc = member_slices(k, it, e, err)) < 0)
        return rc;
    int32_t inner = 0;
    if (e && (rc = kube_sub_pod(k, it, r[primary].id, &inner, err)) < 0)
        return rc;
    e = primary >= 0 ? &k->gangs->v[r[primary].id] : NULL; /* the table may have grown */
    *gang = inner;
    bool warned = false;
    for (int32_t id = inner; id > 0; id = k->gangs->v[id].parent) {
        kgang_t *x = &k->gangs->v[id];
        if ((rc = resolve_level(k, x, err)) < 0)
            return rc;
        x->members++;
        if (x->has_prio)
            *prio = x->prio;
        if (pending && x->rules) {
            *rules |= x->rules;
            if (!warned && (rc = member_warn(k, it, x, err)) < 0)
                return rc;
            warned = true;
        }
    }
    if (!pending)
        return 0;
    if (unread_topology(it, e)) {
        *rules |= SS_RULE_TOPOLOGY;
        if ((rc = kwarn(k, SS_KUBE_WARN_TOPOLOGY_REF, it, err)) < 0)
            return rc;
    }
    if (unread_gang_key(it)) {
        *rules |= SS_RULE_POD_GROUP;
        if ((rc = kwarn(k, SS_KUBE_WARN_FOREIGN_GANG, it, err)) < 0)
            return rc;
    }
    return 0;
}

int kube_gangs_finish(kctx_t *k, ss_error_t *err)
{
    kgangs_t *g = k->gangs;
    int32_t n = ss_strtab_count(g->keys);
    for (int32_t id = 1; id < n; id++) {
        const kgang_t *e = &g->v[id];
        if (e->row < 0 || e->members >= e->min)
            continue;
        k->rep->warn[SS_KUBE_WARN_SHORT_GANG]++;
        if (k->o->strict)
            return ss_error_set(err, SS_EUNSUPPORTED,
                                "%s: pod group %s: %d members in the input, fewer than its "
                                "minimum %d: %s (--strict)",
                                e->path, ss_cluster_strget(k->c, k->c->group_name[e->row]),
                                e->members, e->min, ss_kube_warn_text(SS_KUBE_WARN_SHORT_GANG));
    }
    return 0;
}
