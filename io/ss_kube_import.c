/* ss_kube_import: the Kubernetes importer's entry points: loads the JSON
 * documents (v1 List, single object, or array), sorts objects by kind,
 * runs the passes (classify pods, scan requested resources, add nodes, add
 * pods and templates, sort nodes, validate), resolves pod groups, and keeps
 * the report. Node and pod details live in ss_kube_nodes.c / ss_kube_pods.c.
 */
#include "ss_kube_internal.h"

#include <stdlib.h>
#include <string.h>

#include "ss_quantity.h"

static const char *const warn_text[] = {
#define SS_KUBE_WARN_TEXT(name, text) text,
    SS_KUBE_WARN_MAP(SS_KUBE_WARN_TEXT)
#undef SS_KUBE_WARN_TEXT
};

const char *ss_kube_warn_text(int kind)
{
    return (kind >= 0 && kind < SS_KUBE_WARN_COUNT) ? warn_text[kind] : "";
}

void ss_kube_opts_default(ss_kube_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->scheduler_name = SS_KUBE_DEFAULT_SCHEDULER;
    o->rack_label = SS_KUBE_DEFAULT_RACK_LABEL;
    o->block_label = SS_KUBE_DEFAULT_BLOCK_LABEL;
    o->log = stderr;
}

/* ---- small JSON helpers ---- */

json_t *kget(json_t *o, const char *k1, const char *k2, const char *k3)
{
    const char *ks[3] = {k1, k2, k3};
    for (int i = 0; i < 3 && ks[i] && o; i++)
        o = json_is_object(o) ? json_object_get(o, ks[i]) : NULL;
    return o;
}

const char *kstr(json_t *o, const char *k1, const char *k2, const char *k3)
{
    return json_string_value(kget(o, k1, k2, k3));
}

const char *kname(json_t *o, char *buf)
{
    const char *ns = kstr(o, "metadata", "namespace", NULL);
    const char *name = kstr(o, "metadata", "name", NULL);
    if (ns && *ns)
        snprintf(buf, 256, "%s/%s", ns, name ? name : "?");
    else
        snprintf(buf, 256, "%s", name ? name : "?");
    return buf;
}

int kqty(const kitem_t *it, const char *field, json_t *v, int scale, int64_t *out, ss_error_t *err)
{
    char text[64], nb[256];
    const char *s = text;
    if (json_is_string(v))
        s = json_string_value(v);
    else if (json_is_integer(v))
        snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(text, sizeof text, "%.17g", json_real_value(v));
    else
        return ss_error_set(
            err, SS_EFORMAT, "%s: %s %s: %s: not a quantity (a string or number)", it->path,
            kstr(it->obj, "kind", NULL, NULL) ? kstr(it->obj, "kind", NULL, NULL) : "object",
            kname(it->obj, nb), field);
    int rc = ss_quantity_parse(s, scale, out, err);
    if (rc < 0)
        return ss_error_prefix(err, rc, "%s: %s %s: %s", it->path,
                               kstr(it->obj, "kind", NULL, NULL) ? kstr(it->obj, "kind", NULL, NULL)
                                                                 : "object",
                               kname(it->obj, nb), field);
    return 0;
}

int kwarn(kctx_t *k, int kind, const kitem_t *it, ss_error_t *err)
{
    char nb[256];
    k->rep->warn[kind]++;
    if (k->o->strict && kind != SS_KUBE_WARN_OTHER_KIND && kind != SS_KUBE_WARN_PRIORITY_CLAMPED)
        return ss_error_set(err, SS_EUNSUPPORTED, "%s: %s: %s (--strict)", it->path,
                            kname(it->obj, nb), ss_kube_warn_text(kind));
    return 0;
}

int32_t kstr_id(kctx_t *k, const char *s, ss_error_t *err)
{
    int32_t id = ss_cluster_str(k->c, s ? s : "");
    if (id < 0)
        ss_error_set(err, SS_ENOMEM, "out of memory interning a string");
    return id;
}

/* ---- documents ---- */

static int items_push(kitems_t *v, json_t *obj, const char *path)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        kitem_t *nv = realloc(v->v, cap * sizeof *nv);
        if (!nv)
            return SS_ENOMEM;
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = (kitem_t){obj, path};
    return 0;
}

/* role: 'N' nodes, 'P' pods, 'G' podgroups: the role of kind-less objects. */
static int sort_object(kctx_t *k, json_t *obj, const char *path, char role, ss_error_t *err)
{
    if (!json_is_object(obj))
        return ss_error_set(err, SS_EFORMAT, "%s: an item is not a JSON object", path);
    const char *kind = kstr(obj, "kind", NULL, NULL);
    kitems_t *dst = NULL;
    if (!kind)
        dst = role == 'N' ? &k->nodes : role == 'P' ? &k->pods : &k->pgs;
    else if (!strcmp(kind, "Node"))
        dst = &k->nodes;
    else if (!strcmp(kind, "Pod"))
        dst = &k->pods;
    else if (!strcmp(kind, "PodGroup"))
        dst = &k->pgs;
    if (!dst) {
        k->rep->warn[SS_KUBE_WARN_OTHER_KIND]++;
        return 0;
    }
    if (!json_is_object(kget(obj, "metadata", NULL, NULL)) || !kstr(obj, "metadata", "name", NULL))
        return ss_error_set(err, SS_EFORMAT, "%s: a %s object has no metadata.name", path,
                            kind ? kind : "kind-less");
    return items_push(dst, obj, path) < 0 ? ss_error_set(err, SS_ENOMEM, "out of memory") : 0;
}

static int sort_document(kctx_t *k, json_t *doc, const char *path, char role, ss_error_t *err)
{
    json_t *items = doc;
    if (json_is_object(doc)) {
        const char *kind = kstr(doc, "kind", NULL, NULL);
        json_t *it = json_object_get(doc, "items");
        if (json_is_array(it) ||
            (kind && strlen(kind) > 4 && !strcmp(kind + strlen(kind) - 4, "List")))
            items = it;
        else
            return sort_object(k, doc, path, role, err);
    }
    if (!json_is_array(items))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: expected a v1 List, an object or a JSON array of objects", path);
    size_t i;
    json_t *obj;
    json_array_foreach(items, i, obj)
    {
        int rc = sort_object(k, obj, path, role, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void ctx_free(kctx_t *k)
{
    free(k->nodes.v);
    free(k->pods.v);
    free(k->pgs.v);
    ss_strtab_destroy(k->resnames);
    ss_strtab_destroy(k->tkeys);
    ss_strtab_destroy(k->pgkeys);
    free(k->node_by_str);
    free(k->pod_class);
    free(k->gpu_used);
    free(k->tkey_tmpl);
    free(k->pg_min);
    free(k->pg_group);
}

/* ---- pod groups ---- */

static int index_podgroups(kctx_t *k, ss_error_t *err)
{
    k->pgkeys = ss_strtab_create();
    k->pg_cap = (int32_t)k->pgs.n + 1;
    k->pg_min = calloc((size_t)k->pg_cap, sizeof *k->pg_min);
    k->pg_group = malloc((size_t)k->pg_cap * sizeof *k->pg_group);
    if (!k->pgkeys || !k->pg_min || !k->pg_group)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    for (size_t i = 0; i < k->pgs.n; i++) {
        const kitem_t *it = &k->pgs.v[i];
        char nb[256];
        json_t *mm = kget(it->obj, "spec", "minMember", NULL);
        json_int_t m = mm ? json_integer_value(mm) : 1;
        if ((mm && !json_is_integer(mm)) || m < 1 || m > INT32_MAX)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: PodGroup %s: spec.minMember: must be an integer >= 1",
                                it->path, kname(it->obj, nb));
        kname(it->obj, nb);
        if (!kstr(it->obj, "metadata", "namespace", NULL))
            snprintf(nb, sizeof nb, "default/%s", kstr(it->obj, "metadata", "name", NULL));
        int32_t id = ss_strtab_intern(k->pgkeys, nb);
        if (id < 0 || id >= k->pg_cap)
            return ss_error_set(err, id < 0 ? SS_ENOMEM : SS_EFORMAT, "%s: PodGroup %s: %s",
                                it->path, nb, id < 0 ? "out of memory" : "internal index error");
        k->pg_min[id] = (int32_t)m;
        k->pg_group[id] = -1;
    }
    return 0;
}

/* The group's topology from its (first) member's Kueue annotation: the node
 * label key names the level. A key that is no level the engine knows is an
 * error: placing the gang without its constraint would ignore it. */
static int group_topology(kctx_t *k, const kitem_t *it, int32_t *level, int32_t *mode,
                          ss_error_t *err)
{
    const char *req =
        kstr(it->obj, "metadata", "annotations", SS_KUBE_REQUIRED_TOPOLOGY_ANNOTATION);
    const char *pref =
        kstr(it->obj, "metadata", "annotations", SS_KUBE_PREFERRED_TOPOLOGY_ANNOTATION);
    const char *key = req ? req : pref;
    const char *keys[SS_TOPO_NLEVELS] = {SS_KUBE_REGION_LABEL, SS_KUBE_ZONE_LABEL,
                                         k->o->block_label, k->o->rack_label,
                                         SS_KUBE_HOSTNAME_LABEL};
    *level = SS_TOPO_NODE;
    *mode = SS_TOPO_MODE_NONE;
    if (!key)
        return 0;
    for (int l = 0; l < SS_TOPO_NLEVELS; l++)
        if (keys[l] && !strcmp(key, keys[l])) {
            *level = l;
            *mode = req ? SS_TOPO_MODE_REQUIRED : SS_TOPO_MODE_PREFERRED;
            return 0;
        }
    char nb[256];
    return ss_error_set(err, SS_EUNSUPPORTED,
                        "%s: Pod %s: metadata.annotations.%s: '%s' is not a topology level "
                        "(%s, %s, --block-label %s, --rack-label %s, %s)",
                        it->path, kname(it->obj, nb),
                        req ? SS_KUBE_REQUIRED_TOPOLOGY_ANNOTATION
                            : SS_KUBE_PREFERRED_TOPOLOGY_ANNOTATION,
                        key, SS_KUBE_REGION_LABEL, SS_KUBE_ZONE_LABEL, k->o->block_label,
                        k->o->rack_label, SS_KUBE_HOSTNAME_LABEL);
}

int kube_pod_group(kctx_t *k, const kitem_t *it, int32_t *group, ss_error_t *err)
{
    *group = -1;
    const char *g = kstr(it->obj, "metadata", "labels", SS_KUBE_POD_GROUP_LABEL);
    if (!g || !*g)
        g = kstr(it->obj, "metadata", "annotations", SS_KUBE_VOLCANO_GROUP_ANNOTATION);
    if (!g || !*g)
        return 0;
    const char *ns = kstr(it->obj, "metadata", "namespace", NULL);
    char key[512];
    snprintf(key, sizeof key, "%s/%s", ns && *ns ? ns : "default", g);
    int32_t id = ss_strtab_find(k->pgkeys, key);
    if (id <= 0)
        return kwarn(k, SS_KUBE_WARN_NO_POD_GROUP, it, err);
    if (k->pg_group[id] < 0) {
        int32_t level, mode, rc = group_topology(k, it, &level, &mode, err);
        if (rc < 0)
            return rc;
        int32_t name = kstr_id(k, key, err);
        if (name < 0)
            return SS_ENOMEM;
        k->pg_group[id] = ss_cluster_add_group(k->c, name, k->pg_min[id], level, mode);
        if (k->pg_group[id] < 0)
            return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    *group = k->pg_group[id];
    return 0;
}

/* ---- orchestration ---- */

static int run_passes(kctx_t *k, ss_error_t *err)
{
    int rc;
    if ((rc = index_podgroups(k, err)) < 0 || (rc = kube_classify_pods(k, err)) < 0 ||
        (rc = kube_scan_resources(k, err)) < 0 || (rc = kube_add_nodes(k, err)) < 0 ||
        (rc = kube_add_pods(k, err)) < 0)
        return rc;
    if ((rc = ss_cluster_sort_nodes(k->c, err)) < 0)
        return rc;
    if ((rc = ss_cluster_validate(k->c, err)) < 0)
        return ss_error_prefix(err, rc, "imported cluster is inconsistent");
    k->rep->nodes = k->c->n_nodes;
    k->rep->templates = k->c->n_templates;
    k->rep->groups = k->c->n_groups;
    return 0;
}

/* docs[i] with role "NPG"[i] and name paths[i]; any may be NULL. */
static int import_docs(json_t *docs[3], const char *const *paths, const ss_kube_opts_t *o,
                       ss_cluster_t **out, ss_kube_report_t *rep, ss_error_t *err)
{
    ss_kube_report_t local;
    ss_kube_opts_t defaults;
    if (!o) {
        ss_kube_opts_default(&defaults);
        o = &defaults;
    }
    if (!rep)
        rep = &local;
    memset(rep, 0, sizeof *rep);
    *out = NULL;
    kctx_t k = {.o = o, .rep = rep};
    k.c = ss_cluster_create();
    k.resnames = ss_strtab_create();
    int rc = 0;
    if (!k.c || !k.resnames)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    for (int d = 0; d < 3 && rc == 0; d++)
        if (docs[d])
            rc = sort_document(&k, docs[d], paths[d], "NPG"[d], err);
    if (rc == 0)
        rc = run_passes(&k, err);
    if (rc == 0) {
        *out = k.c;
        k.c = NULL;
    }
    ss_cluster_destroy(k.c);
    ctx_free(&k);
    return rc;
}

/* Parses the three documents (from files, or from strings when texts is not
 * NULL), then imports them. A file named twice is read once:
 * `kubectl get nodes,pods -o json` gives one file for both. */
static int load_and_import(const char *const *paths, const char *const *texts,
                           const ss_kube_opts_t *o, ss_cluster_t **out, ss_kube_report_t *rep,
                           ss_error_t *err)
{
    json_t *docs[3] = {NULL, NULL, NULL};
    int rc = 0;
    *out = NULL;
    for (int d = 0; d < 3 && rc == 0; d++) {
        if (texts ? !texts[d] : !paths[d])
            continue;
        bool dup = false;
        for (int e = 0; e < d && !texts; e++)
            dup |= (paths[e] && !strcmp(paths[e], paths[d]));
        if (dup)
            continue;
        json_error_t je;
        docs[d] = texts ? json_loads(texts[d], JSON_DECODE_ANY, &je)
                        : json_load_file(paths[d], JSON_DECODE_ANY, &je);
        if (!docs[d])
            rc = ss_error_set(err, SS_EFORMAT, "%s:%d:%d: %s", paths[d], je.line, je.column,
                              je.text);
    }
    if (rc == 0)
        rc = import_docs(docs, paths, o, out, rep, err);
    for (int d = 0; d < 3; d++)
        json_decref(docs[d]);
    return rc;
}

int ss_kube_import_files(const char *nodes_path, const char *pods_path, const char *podgroups_path,
                         const ss_kube_opts_t *o, ss_cluster_t **out, ss_kube_report_t *rep,
                         ss_error_t *err)
{
    const char *paths[3] = {nodes_path, pods_path, podgroups_path};
    return load_and_import(paths, NULL, o, out, rep, err);
}

int ss_kube_import_strings(const char *nodes_json, const char *pods_json,
                           const char *podgroups_json, const ss_kube_opts_t *o, ss_cluster_t **out,
                           ss_kube_report_t *rep, ss_error_t *err)
{
    const char *texts[3] = {nodes_json, pods_json, podgroups_json};
    const char *paths[3] = {"<nodes>", "<pods>", "<podgroups>"};
    return load_and_import(paths, texts, o, out, rep, err);
}

void ss_kube_report_print(const ss_kube_report_t *r, FILE *f)
{
    if (!f)
        return;
    fprintf(f,
            "imported %d nodes, %d running and %d pending pods (%d templates, %d pod groups); "
            "ignored %d Succeeded/Failed pods, %d pending pods for other schedulers\n",
            r->nodes, r->running, r->pending, r->templates, r->groups, r->terminal,
            r->other_scheduler);
    if (r->unknown_node > 0) {
        fprintf(f, "warning: skipped %d pods bound to nodes not in the input:", r->unknown_node);
        for (int i = 0; i < r->unknown_node && i < SS_KUBE_MAX_REPORTED; i++)
            fprintf(f, "%s %s", i ? "," : "", r->unknown_names[i]);
        fprintf(f, "%s\n", r->unknown_node > SS_KUBE_MAX_REPORTED ? ", ..." : "");
    }
    for (int w = 0; w < SS_KUBE_WARN_COUNT; w++)
        if (r->warn[w] > 0)
            fprintf(f, "warning: %s: %d\n", ss_kube_warn_text(w), r->warn[w]);
}
