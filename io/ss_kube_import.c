/* ss_kube_import: the Kubernetes importer's entry points: loads the JSON
 * documents (v1 List, single object, or array), sorts objects by kind,
 * runs the passes (classify pods, scan requested resources, add nodes, add
 * pods and templates, sort nodes, validate), resolves pod groups, and keeps
 * the report. Node and pod details live in ss_kube_nodes.c / ss_kube_pods.c.
 */
#include "ss_kube_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
        snprintf(buf, 320, "%s/%s", ns, name ? name : "?");
    else
        snprintf(buf, 320, "%s", name ? name : "?");
    return buf;
}

static const char *type_name(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

static bool type_ok(json_t *v, int type)
{
    switch (type) {
    case KT_OBJ:
        return json_is_object(v);
    case KT_ARR:
        return json_is_array(v);
    case KT_STR:
        return json_is_string(v);
    case KT_BOOL:
        return json_is_boolean(v);
    case KT_INT:
        return json_is_integer(v);
    default:
        return json_is_string(v) || json_is_number(v);
    }
}

const char *kwho(const kitem_t *it, char *buf)
{
    char nb[320];
    size_t n = strlen(it->path);
    snprintf(buf, 512, "%s%s: %s %s", n > 160 ? "..." : "", it->path + (n > 160 ? n - 157 : 0),
             it->kind, kname(it->obj, nb));
    return buf;
}

const char *kwho_at(const kitem_t *it, json_t *obj, const char *key, json_t *v, char *buf)
{
    int line, col;
    if (ss_yaml_where(v, &line, &col) < 0 && ss_yaml_member_where(obj, key, &line, &col) < 0)
        return kwho(it, buf);
    char nb[320];
    size_t n = strlen(it->path);
    snprintf(buf, 512, "%s%s:%d:%d: %s %s", n > 150 ? "..." : "",
             it->path + (n > 150 ? n - 147 : 0), line, col, it->kind, kname(it->obj, nb));
    return buf;
}

int kat(const kitem_t *it, json_t *base, const char *where, const char *k1, const char *k2,
        const char *k3, int type, json_t **out, ss_error_t *err)
{
    static const char *const want[] = {"an object",  "an array",
                                       "a string",   "true or false",
                                       "an integer", "a quantity (a string or number)"};
    const char *ks[3] = {k1, k2, k3};
    json_t *v = base, *parent;
    *out = NULL;
    for (int i = 0; i < 3 && ks[i]; i++) {
        v = json_object_get(parent = v, ks[i]);
        if (!v || json_is_null(v))
            return 0;
        bool last = (i == 2 || !ks[i + 1]);
        if (last ? type_ok(v, type) : json_is_object(v))
            continue;
        /* the message only: the field's path up to here */
        char field[400], who[512];
        size_t n = (size_t)snprintf(field, sizeof field, "%s", where ? where : "");
        for (int j = 0; j <= i && n < sizeof field; j++)
            n += (size_t)snprintf(field + n, sizeof field - n, "%s%s", n ? "." : "", ks[j]);
        return ss_error_set(err, SS_EFORMAT, "%s: %s: expected %s, got %s",
                            kwho_at(it, parent, ks[i], v, who), field,
                            last ? want[type] : "an object", type_name(v));
    }
    *out = v;
    return 0;
}

int kqty(const kitem_t *it, const char *field, json_t *v, int scale, int64_t *out, ss_error_t *err)
{
    char text[64], who[512];
    const char *s = text;
    if (json_is_string(v))
        s = json_string_value(v);
    else if (json_is_integer(v))
        snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(text, sizeof text, "%.17g", json_real_value(v));
    else
        return ss_error_set(err, SS_EFORMAT,
                            "%s: %s: expected a quantity (a string or number), got %s",
                            kwho_at(it, NULL, NULL, v, who), field, type_name(v));
    ss_error_t why;
    int rc = ss_quantity_parse(s, scale, out, &why);
    if (rc < 0)
        return ss_error_set(err, rc, "%s: %s: %.200s", kwho_at(it, NULL, NULL, v, who), field,
                            why.text);
    return 0;
}

int klimit(const kitem_t *it, const char *field, int64_t v, int64_t max, ss_error_t *err)
{
    char who[512];
    if (v <= max)
        return 0;
    return ss_error_set(err, SS_ERANGE, "%s: %s: %lld is above the largest value supported (%lld)",
                        kwho(it, who), field, (long long)v, (long long)max);
}

int kwarn(kctx_t *k, int kind, const kitem_t *it, ss_error_t *err)
{
    char nb[320];
    k->rep->warn[kind]++;
    if (k->o->strict && kind != SS_KUBE_WARN_OTHER_KIND)
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

/* ---- identity: names as Kubernetes validates them ---- */

static bool dns_char(char c, bool dot)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || (dot && c == '.');
}

static bool alnum_lower(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* DNS-1123 label (dot false, at most 63) or subdomain (dot true, at most
 * 253): apimachinery's IsDNS1123Label / IsDNS1123Subdomain. */
static bool dns_name(const char *s, bool dot)
{
    size_t n = strlen(s);
    if (n == 0 || n > (dot ? 253u : 63u) || !alnum_lower(s[0]) || !alnum_lower(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!dns_char(s[i], dot))
            return false;
        if (s[i] == '.' && (!alnum_lower(s[i - 1]) || !alnum_lower(s[i + 1])))
            return false;
    }
    return true;
}

/* metadata, metadata.name and metadata.namespace of an item: types, and
 * names Kubernetes would accept. */
static int check_meta(const kitem_t *it, ss_error_t *err)
{
    json_t *md, *name, *ns;
    int rc;
    if ((rc = kat(it, it->obj, NULL, "metadata", NULL, NULL, KT_OBJ, &md, err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "metadata", "name", NULL, KT_STR, &name, err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "metadata", "namespace", NULL, KT_STR, &ns, err)) < 0)
        return rc;
    const char *nm = json_string_value(name);
    if (!nm || !*nm)
        return ss_error_set(err, SS_EFORMAT, "%s: items[%zu]: %s metadata.name: %s", it->path,
                            it->index, it->kind, nm ? "empty" : "missing");
    if (!dns_name(nm, true))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: items[%zu]: %s metadata.name '%.80s%s': not a valid name (a "
                            "DNS-1123 subdomain: at most 253 of a-z, 0-9, '-', '.', starting and "
                            "ending with a letter or digit)",
                            it->path, it->index, it->kind, nm, strlen(nm) > 80 ? "..." : "");
    const char *nsv = json_string_value(ns);
    if (strcmp(it->kind, "Node") && nsv && *nsv && !dns_name(nsv, false))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: items[%zu]: %s %.80s: metadata.namespace '%.80s%s': not a valid "
                            "namespace (a DNS-1123 label: at most 63 of a-z, 0-9, '-', starting "
                            "and ending with a letter or digit)",
                            it->path, it->index, it->kind, nm, nsv, strlen(nsv) > 80 ? "..." : "");
    return 0;
}

/* ---- documents ---- */

static int items_push(kitems_t *v, const kitem_t *it)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        kitem_t *nv = realloc(v->v, cap * sizeof *nv);
        if (!nv)
            return SS_ENOMEM;
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = *it;
    return 0;
}

/* Each item of a document: Nodes and PodGroups are kept, Pods are noted
 * (kube_pod_seen) and their tree freed. */
static int take_item(void *ctx, const kdoc_t *d, json_t *obj, size_t index, size_t off, size_t len,
                     ss_error_t *err)
{
    kctx_t *k = ctx;
    if (!json_is_object(obj))
        return ss_error_set(err, SS_EFORMAT, "%s: items[%zu]: expected an object, got %s", d->path,
                            index, type_name(obj));
    json_t *kindv = json_object_get(obj, "kind");
    if (kindv && !json_is_null(kindv) && !json_is_string(kindv))
        return ss_error_set(err, SS_EFORMAT, "%s: items[%zu]: kind: expected a string, got %s",
                            d->path, index, type_name(kindv));
    const char *kind = json_string_value(kindv);
    char role = !kind                   ? d->role
                : !strcmp(kind, "Node") ? 'N'
                : !strcmp(kind, "Pod")  ? 'P'
                : !strcmp(kind, "PodGroup") || !strcmp(kind, "Workload") ||
                        !strcmp(kind, "CompositePodGroup") || kube_topo_kind(kind)
                    ? 'G'
                : !strcmp(kind, "PriorityClass")       ? 'C'
                : !strcmp(kind, "PodDisruptionBudget") ? 'B'
                : !strcmp(kind, "Namespace")           ? 'S'
                                                       : 0;
    if (!role) {
        k->rep->warn[SS_KUBE_WARN_OTHER_KIND]++;
        return 0;
    }
    kitem_t it = {obj, d->path,
                  role == 'N'   ? "Node"
                  : role == 'P' ? "Pod"
                  : role == 'C' ? "PriorityClass"
                  : role == 'B' ? "PodDisruptionBudget"
                  : role == 'S' ? "Namespace"
                  : kind        ? kind
                                : "PodGroup",
                  index};
    int rc = check_meta(&it, err);
    if (rc < 0)
        return rc;
    if (role == 'P')
        return kube_pod_seen(k, &it, (int32_t)(d - k->docs), off, len, err);
    kitems_t *to = role == 'N'   ? &k->nodes
                   : role == 'C' ? &k->pcs
                   : role == 'B' ? &k->pdbs
                   : role == 'S' ? &k->nss
                                 : &k->pgs;
    if (items_push(to, &it) < 0)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    json_incref(obj);
    return 0;
}

static void ctx_free(kctx_t *k)
{
    for (size_t i = 0; i < k->nodes.n; i++)
        json_decref(k->nodes.v[i].obj);
    for (size_t i = 0; i < k->pgs.n; i++)
        json_decref(k->pgs.v[i].obj);
    kitems_t *more[3] = {&k->pcs, &k->pdbs, &k->nss};
    for (int m = 0; m < 3; m++) {
        for (size_t i = 0; i < more[m]->n; i++)
            json_decref(more[m]->v[i].obj);
        free(more[m]->v);
    }
    kube_policy_free(k);
    for (size_t d = 0; d < k->ndocs; d++)
        kube_file_free(&k->docs[d]);
    free(k->docs);
    free(k->nodes.v);
    free(k->pods.v);
    free(k->pgs.v);
    ss_strtab_destroy(k->podkeys);
    ss_strtab_destroy(k->podnodes);
    ss_strtab_destroy(k->resnames);
    ss_strtab_destroy(k->tkeys);
    kube_gangs_free(k);
    free(k->node_by_str);
    free(k->pod_class);
    free(k->gpu_used);
    free(k->tkey_tmpl);
    free(k->mig_single);
    kube_mig_free(k);
}

/* ---- orchestration ---- */

static int run_passes(kctx_t *k, ss_error_t *err)
{
    int rc;
    if ((rc = kube_gangs_index(k, err)) < 0 || (rc = kube_index_priority_classes(k, err)) < 0 ||
        (rc = kube_classify_pods(k, err)) < 0 || (rc = kube_scan_resources(k, err)) < 0 ||
        (rc = kube_add_nodes(k, err)) < 0 || (rc = kube_add_namespaces(k, err)) < 0 ||
        (rc = kube_add_pods(k, err)) < 0 || (rc = kube_gangs_finish(k, err)) < 0 ||
        (rc = kube_add_pdbs(k, err)) < 0 || (rc = kube_set_levels(k, err)) < 0)
        return rc;
    /* kube-scheduler's system default spreading, as a cluster has it
     * (docs/kubernetes.md, "Default spreading"). */
    k->c->default_spreading = SS_SPREAD_DEFAULT_SYSTEM;
    if ((rc = ss_cluster_sort_nodes(k->c, err)) < 0)
        return rc;
    if ((rc = ss_cluster_mig_assign_running(k->c, err)) < 0 ||
        (rc = ss_cluster_validate(k->c, err)) < 0)
        return ss_error_prefix(err, rc, "imported cluster is inconsistent");
    k->rep->nodes = k->c->n_nodes;
    k->rep->templates = k->c->n_templates;
    k->rep->groups = k->c->n_groups;
    return 0;
}

/* Reads the documents (the inputs' files, or strings when texts is not
 * NULL: one per input) and imports them. A file named twice (by device
 * and inode, so `x` and `./x` too, or a file in a folder also named) is
 * read once: `kubectl get nodes,pods -o json` gives one file for both. */
static int load_and_import(const ss_kube_input_t *in, size_t n, const char *const *texts,
                           const ss_kube_opts_t *o, ss_cluster_t **out, ss_kube_report_t *rep,
                           ss_error_t *err)
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
    kfile_t *files = NULL;
    size_t nf = 0, capf = 0;
    k.c = ss_cluster_create();
    k.resnames = ss_strtab_create();
    k.podkeys = ss_strtab_create();
    k.podnodes = ss_strtab_create();
    int rc = 0;
    if (!k.c || !k.resnames || !k.podkeys || !k.podnodes)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && rc == 0; i++)
        if (in[i].path && (!texts || texts[i]))
            rc = texts ? (nf = i + 1, 0)
                       : kube_input_files(in[i].path, in[i].role, &files, &nf, &capf, o->log, err);
    if (rc == 0 && !(k.docs = calloc(nf + 1, sizeof *k.docs)))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    k.ndocs = rc == 0 ? nf : 0;
    for (size_t d = 0; d < k.ndocs && rc == 0; d++) {
        kdoc_t *doc = &k.docs[d];
        if (texts) {
            if (!texts[d])
                continue;
            *doc = (kdoc_t){.path = in[d].path, .buf = (char *)texts[d], .len = strlen(texts[d])};
            doc->role = in[d].role;
        } else {
            struct stat st;
            const char *path = files[d].path;
            bool dup = false, have = !strcmp(path, "-") ? fstat(0, &st) == 0 : stat(path, &st) == 0;
            for (size_t e = 0; e < d && have; e++)
                dup |= k.docs[e].buf && k.docs[e].dev == st.st_dev && k.docs[e].ino == st.st_ino;
            if (dup)
                continue;
            if ((rc = kube_file_load(path, doc, err)) < 0)
                break;
            doc->role = files[d].role;
        }
        rc = kube_doc_scan(doc, take_item, &k, err);
    }
    if (rc == 0)
        rc = run_passes(&k, err);
    if (rc == 0) {
        *out = k.c;
        k.c = NULL;
    }
    ss_cluster_destroy(k.c);
    ctx_free(&k);
    for (size_t i = 0; i < nf && !texts; i++)
        free(files[i].path);
    free(files);
    return rc;
}

int ss_kube_import_inputs(const ss_kube_input_t *in, size_t n, const ss_kube_opts_t *o,
                          ss_cluster_t **out, ss_kube_report_t *rep, ss_error_t *err)
{
    return load_and_import(in, n, NULL, o, out, rep, err);
}

int ss_kube_import_files(const char *nodes_path, const char *pods_path, const char *podgroups_path,
                         const ss_kube_opts_t *o, ss_cluster_t **out, ss_kube_report_t *rep,
                         ss_error_t *err)
{
    const ss_kube_input_t in[3] = {{nodes_path, 'N'}, {pods_path, 'P'}, {podgroups_path, 'G'}};
    return load_and_import(in, 3, NULL, o, out, rep, err);
}

int ss_kube_import_strings(const char *nodes_json, const char *pods_json,
                           const char *podgroups_json, const ss_kube_opts_t *o, ss_cluster_t **out,
                           ss_kube_report_t *rep, ss_error_t *err)
{
    const char *texts[3] = {nodes_json, pods_json, podgroups_json};
    const ss_kube_input_t in[3] = {{"<nodes>", 'N'}, {"<pods>", 'P'}, {"<podgroups>", 'G'}};
    return load_and_import(in, 3, texts, o, out, rep, err);
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
        if (r->warn[w] > 0) {
            const char *first = w == SS_KUBE_WARN_TOPOLOGY_KEY             ? r->topology_key
                                : w == SS_KUBE_WARN_PRIORITY_CLASS_UNKNOWN ? r->priority_class
                                                                           : NULL;
            fprintf(f, "warning: %s: %d%s%s%s\n", ss_kube_warn_text(w), r->warn[w],
                    first ? " (first: " : "", first ? first : "", first ? ")" : "");
        }
}
