/* ss_kube_nodes: Node objects into cluster rows: allocatable resources,
 * GPUs (nvidia.com/gpu, model from nvidia.com/gpu.product; MIG GPUs and
 * their instances by ss_kube_mig.c), labels (minus
 * the hostname label, which the node name implies), topology levels from
 * labels, taints and spec.unschedulable. One pass over ~10,000 nodes. */
#include "ss_kube_internal.h"

#include <stdlib.h>
#include <string.h>

#include "ss_quantity.h"

int kube_index_node_names(kctx_t *k, ss_error_t *err)
{
    int32_t cap = 64;
    k->node_by_str = malloc((size_t)cap * sizeof *k->node_by_str);
    if (!k->node_by_str)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    for (int32_t i = 0; i < cap; i++)
        k->node_by_str[i] = -1;
    for (size_t n = 0; n < k->nodes.n; n++) {
        const kitem_t *it = &k->nodes.v[n];
        const char *name = kstr(it->obj, "metadata", "name", NULL);
        int32_t id = kstr_id(k, name, err);
        if (id < 0)
            return SS_ENOMEM;
        while (id >= cap) {
            int32_t *nv = realloc(k->node_by_str, (size_t)cap * 2 * sizeof *nv);
            if (!nv)
                return ss_error_set(err, SS_ENOMEM, "out of memory");
            for (int32_t i = cap; i < cap * 2; i++)
                nv[i] = -1;
            k->node_by_str = nv;
            cap *= 2;
        }
        if (k->node_by_str[id] >= 0) {
            const kitem_t *f = &k->nodes.v[k->node_by_str[id]];
            return ss_error_set(err, SS_EFORMAT,
                                "%s: items[%zu]: Node %s appears twice (first at %s: items[%zu])",
                                it->path, it->index, name, f->path, f->index);
        }
        k->node_by_str[id] = (int32_t)n;
    }
    k->node_by_str_len = cap;
    return 0;
}

int32_t kube_node_row(const kctx_t *k, const char *name)
{
    int32_t id = ss_strtab_find(k->c->strings, name);
    return (id > 0 && id < k->node_by_str_len) ? k->node_by_str[id] : -1;
}

static int parse_effect(const char *s, int32_t *effect)
{
    if (!s)
        return -1;
    if (!strcmp(s, "NoSchedule"))
        *effect = SS_EFFECT_NO_SCHEDULE;
    else if (!strcmp(s, "PreferNoSchedule"))
        *effect = SS_EFFECT_PREFER_NO_SCHEDULE;
    else if (!strcmp(s, "NoExecute"))
        *effect = SS_EFFECT_NO_EXECUTE;
    else if (!*s)
        *effect = SS_EFFECT_ANY;
    else
        return -1;
    return 0;
}

int kube_effect(const char *s, int32_t *effect)
{
    return parse_effect(s, effect);
}

static int add_node_labels(kctx_t *k, const kitem_t *it, int32_t topo[4], int32_t *begin,
                           int32_t *count, ss_error_t *err)
{
    const char *keys[4] = {SS_KUBE_REGION_LABEL, SS_KUBE_ZONE_LABEL, k->o->block_label,
                           k->o->rack_label};
    const char *name = kstr(it->obj, "metadata", "name", NULL);
    json_t *labels, *v;
    const char *key;
    char who[512];
    int rc = kat(it, it->obj, NULL, "metadata", "labels", NULL, KT_OBJ, &labels, err);
    if (rc < 0)
        return rc;
    *begin = k->c->n_labels;
    *count = 0;
    memset(topo, 0, 4 * sizeof *topo);
    json_object_foreach(labels, key, v)
    {
        const char *val = json_string_value(v);
        if (!val)
            return ss_error_set(err, SS_EFORMAT, "%s: metadata.labels.%s: expected a string",
                                kwho(it, who), key);
        if (!strcmp(key, SS_KUBE_HOSTNAME_LABEL)) {
            if (strcmp(val, name) && kwarn(k, SS_KUBE_WARN_HOSTNAME_MISMATCH, it, err) < 0)
                return SS_EUNSUPPORTED;
            continue;
        }
        int32_t kid = kstr_id(k, key, err), vid = kstr_id(k, val, err);
        if (kid < 0 || vid < 0)
            return SS_ENOMEM;
        for (int l = 0; l < 4; l++)
            if (keys[l] && !strcmp(key, keys[l]))
                topo[l] = vid;
        if (ss_cluster_add_label(k->c, kid, vid) < 0)
            return ss_error_set(err, SS_ENOMEM, "out of memory");
        (*count)++;
    }
    return kube_topo_node_labels(k, it, count, err);
}

static int add_node_taints(kctx_t *k, const kitem_t *it, int32_t *begin, int32_t *count,
                           ss_error_t *err)
{
    json_t *taints, *t, *key, *value, *ef;
    size_t i;
    char who[512], where[64];
    *begin = k->c->n_taints;
    *count = 0;
    int rc = kat(it, it->obj, NULL, "spec", "taints", NULL, KT_ARR, &taints, err);
    json_array_foreach(taints, i, t)
    {
        int32_t effect;
        snprintf(where, sizeof where, "spec.taints[%zu]", i);
        if (rc == 0 && !json_is_object(t))
            rc = ss_error_set(err, SS_EFORMAT, "%s: %s: expected an object", kwho(it, who), where);
        if (rc < 0 || (rc = kat(it, t, where, "key", NULL, NULL, KT_STR, &key, err)) < 0 ||
            (rc = kat(it, t, where, "value", NULL, NULL, KT_STR, &value, err)) < 0 ||
            (rc = kat(it, t, where, "effect", NULL, NULL, KT_STR, &ef, err)) < 0)
            return rc;
        if (parse_effect(json_string_value(ef), &effect) < 0 || effect == SS_EFFECT_ANY || !key)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: %s: needs a key and an effect "
                                "NoSchedule, PreferNoSchedule or NoExecute",
                                kwho(it, who), where);
        int32_t kid = kstr_id(k, json_string_value(key), err);
        int32_t vid = kstr_id(k, json_string_value(value), err);
        if (kid < 0 || vid < 0 || ss_cluster_add_taint(k->c, kid, vid, effect) < 0)
            return ss_error_set(err, SS_ENOMEM, "out of memory");
        (*count)++;
    }
    return rc;
}

/* Reads allocatable[name] (falling back to capacity) at scale; 0 if absent. */
static int node_res(const kitem_t *it, const char *name, int scale, int64_t *out, ss_error_t *err)
{
    json_t *alloc, *v;
    const char *where = "status.allocatable";
    char who[512];
    *out = 0;
    int rc = kat(it, it->obj, NULL, "status", "allocatable", NULL, KT_OBJ, &alloc, err);
    if (rc == 0 && !alloc) {
        rc = kat(it, it->obj, NULL, "status", "capacity", NULL, KT_OBJ, &alloc, err);
        where = "status.capacity";
    }
    if (rc < 0 || (rc = kat(it, alloc, where, name, NULL, NULL, KT_QTY, &v, err)) < 0 || !v)
        return rc;
    char field[256];
    snprintf(field, sizeof field, "%s.%s", where, name);
    rc = kqty(it, field, v, scale, out, err);
    if (rc == 0 && *out < 0)
        rc = ss_error_set(err, SS_ERANGE, "%s: %s: negative", kwho(it, who), field);
    return rc;
}

static int add_node_gpus(kctx_t *k, const kitem_t *it, int32_t nidx, int32_t *begin, int32_t *count,
                         ss_error_t *err)
{
    int64_t n;
    int rc = node_res(it, SS_KUBE_GPU, 0, &n, err);
    if (rc == 0 && n == 0)
        rc = node_res(it, SS_KUBE_ALI_GPU_COUNT, 0, &n, err);
    if (rc < 0)
        return rc;
    const char *model = kstr(it->obj, "metadata", "labels", SS_KUBE_GPU_PRODUCT_LABEL);
    if (!model)
        model = kstr(it->obj, "metadata", "labels", SS_KUBE_ALI_GPU_MODEL_LABEL);
    int32_t mid = kstr_id(k, model ? model : "unknown", err);
    if (mid < 0)
        return SS_ENOMEM;
    bool mig;
    if ((rc = kube_node_mig(k, it, nidx, n, mid, begin, count, &mig, err)) < 0 || mig)
        return rc;
    if (n > SS_MAX_GPUS_PER_NODE)
        return ss_error_set(err, SS_ERANGE, "%s: Node %s: %lld GPUs; at most %d are supported",
                            it->path, kstr(it->obj, "metadata", "name", NULL), (long long)n,
                            SS_MAX_GPUS_PER_NODE);
    *begin = k->c->n_gpus;
    *count = (int32_t)n;
    for (int64_t g = 0; g < n; g++)
        if (ss_cluster_add_gpu(k->c, mid, SS_GPU_MILLI) < 0)
            return ss_error_set(err, SS_ENOMEM, "out of memory");
    return 0;
}

static int add_node(kctx_t *k, const kitem_t *it, int32_t nidx, ss_error_t *err)
{
    int64_t cpu, mem, pods, ext[SS_MAX_EXT] = {0};
    int32_t topo[4], lb = 0, lc = 0, tb = 0, tc = 0, gb = 0, gc = 0;
    int rc;
    if ((rc = node_res(it, "cpu", SS_QTY_MILLI, &cpu, err)) < 0 ||
        (rc = node_res(it, "memory", 0, &mem, err)) < 0 ||
        (rc = node_res(it, "pods", 0, &pods, err)) < 0)
        return rc;
    for (int e = 0; e < k->c->n_ext; e++)
        if ((rc = node_res(it, ss_cluster_strget(k->c, k->c->ext_name[e]), 0, &ext[e], err)) < 0)
            return rc;
    if ((rc = klimit(it, "allocatable cpu in millicores", cpu, KMAX_CPU_MILLI, err)) < 0 ||
        (rc = klimit(it, "allocatable memory in bytes", mem, KMAX_MEMORY, err)) < 0 ||
        (rc = klimit(it, "allocatable pods", pods, KMAX_PODS, err)) < 0)
        return rc;
    for (int e = 0; e < k->c->n_ext; e++) {
        char field[300];
        snprintf(field, sizeof field, "allocatable %s", ss_cluster_strget(k->c, k->c->ext_name[e]));
        if ((rc = klimit(it, field, ext[e], KMAX_EXT, err)) < 0)
            return rc;
    }
    if ((rc = add_node_labels(k, it, topo, &lb, &lc, err)) < 0 ||
        (rc = add_node_taints(k, it, &tb, &tc, err)) < 0 ||
        (rc = add_node_gpus(k, it, nidx, &gb, &gc, err)) < 0)
        return rc;
    json_t *u;
    if ((rc = kat(it, it->obj, NULL, "spec", "unschedulable", NULL, KT_BOOL, &u, err)) < 0)
        return rc;
    int32_t name = kstr_id(k, kstr(it->obj, "metadata", "name", NULL), err);
    if (name < 0 || ss_cluster_add_node(k->c, name, topo, cpu, mem, (int32_t)pods, ext,
                                        json_is_true(u), lb, lc, tb, tc, gb, gc) < 0)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    return 0;
}

int kube_add_nodes(kctx_t *k, ss_error_t *err)
{
    k->mig_single = calloc(k->nodes.n + 1, sizeof *k->mig_single);
    if (!k->mig_single)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    int rc0 = kube_mig_config_load(k, err);
    if (rc0 < 0)
        return rc0;
    for (size_t n = 0; n < k->nodes.n; n++) {
        if ((n & 1023) == 0)
            ss_progress_tick(k->o->progress, (int64_t)n, (int64_t)(k->nodes.n + k->pods.n));
        int rc = add_node(k, &k->nodes.v[n], (int32_t)n, err);
        if (rc < 0)
            return rc;
    }
    k->gpu_used = calloc((size_t)k->c->n_gpus + 1, sizeof *k->gpu_used);
    if (!k->gpu_used)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    return 0;
}
