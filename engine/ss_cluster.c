/* ss_cluster: construction, sorting and validation of the cluster model
 * (see ss_cluster.h). Builders append rows with amortised doubling; the
 * validator is what every reader runs before the engine trusts the data. */
#include "ss_cluster.h"

#include "ss_hash.h"

#include <stdlib.h>
#include <string.h>

static const char *topo_names[SS_TOPO_LEGACY_LEVELS] = {"region", "zone", "block", "rack", "node"};

/* True iff c has the five legacy levels (keys unnamed, or region, zone,
 * any, any, hostname). */
static bool legacy_levels(const ss_cluster_t *c)
{
    if (c->n_levels != SS_TOPO_LEGACY_LEVELS)
        return false;
    if (c->level_key[0] == 0 && c->level_key[SS_TOPO_NODE] == 0)
        return true;
    return !strcmp(ss_cluster_strget(c, c->level_key[SS_TOPO_REGION]), SS_TOPO_REGION_KEY) &&
           !strcmp(ss_cluster_strget(c, c->level_key[SS_TOPO_ZONE]), SS_TOPO_ZONE_KEY) &&
           !strcmp(ss_cluster_strget(c, c->level_key[SS_TOPO_NODE]), SS_TOPO_HOSTNAME_KEY);
}

const char *ss_topo_level_name(const ss_cluster_t *c, int level)
{
    if (level < 0 || level >= c->n_levels)
        return "?";
    if (legacy_levels(c))
        return topo_names[level];
    const char *key = ss_cluster_strget(c, c->level_key[level]);
    if (level == c->n_levels - 1)
        return "node";
    if (!strcmp(key, SS_TOPO_REGION_KEY))
        return "region";
    if (!strcmp(key, SS_TOPO_ZONE_KEY))
        return "zone";
    return key;
}

int ss_cluster_level_of_key(const ss_cluster_t *c, int32_t key)
{
    for (int l = 0; l < c->n_levels; l++)
        if (c->level_key[l] == key)
            return l;
    return -1;
}

int ss_cluster_zone_level(const ss_cluster_t *c)
{
    if (legacy_levels(c))
        return SS_TOPO_ZONE;
    for (int l = 0; l + 1 < c->n_levels; l++)
        if (!strcmp(ss_cluster_strget(c, c->level_key[l]), SS_TOPO_ZONE_KEY))
            return l;
    return -1;
}

int ss_cluster_set_legacy_levels(ss_cluster_t *c, const char *block_key, const char *rack_key,
                                 ss_error_t *err)
{
    const char *keys[SS_TOPO_LEGACY_LEVELS] = {
        SS_TOPO_REGION_KEY, SS_TOPO_ZONE_KEY, block_key ? block_key : SS_TOPO_BLOCK_KEY,
        rack_key ? rack_key : SS_TOPO_RACK_KEY, SS_TOPO_HOSTNAME_KEY};
    c->n_levels = SS_TOPO_LEGACY_LEVELS;
    for (int l = 0; l < SS_TOPO_LEGACY_LEVELS; l++)
        if ((c->level_key[l] = ss_cluster_str(c, keys[l])) < 0)
            return ss_error_set(err, SS_ENOMEM, "out of memory naming topology levels");
    return 0;
}

/* Grows *p (elements of size sz) so that it holds at least need elements. */
static int grow(void **p, size_t sz, int32_t need, int32_t cap)
{
    void *q = realloc(*p, (size_t)cap * sz);
    if (!q)
        return -1;
    *p = q;
    (void)need;
    return 0;
}

static int32_t next_cap(int32_t cap, int32_t need)
{
    int64_t c = cap ? cap : 16;
    while (c < need)
        c *= 2;
    if (c > INT32_MAX)
        c = INT32_MAX;
    return (int32_t)c;
}

#define GROW1(c, cnt, cap, arr)                                                                    \
    do {                                                                                           \
        if ((c)->cnt + 1 > (c)->cap) {                                                             \
            int32_t nc = next_cap((c)->cap, (c)->cnt + 1);                                         \
            if (grow((void **)&(c)->arr, sizeof *(c)->arr, (c)->cnt + 1, nc) < 0)                  \
                return -1;                                                                         \
            (c)->cap = nc;                                                                         \
        }                                                                                          \
    } while (0)

ss_cluster_t *ss_cluster_create(void)
{
    ss_cluster_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->strings = ss_strtab_create();
    if (!c->strings) {
        free(c);
        return NULL;
    }
    c->n_levels = SS_TOPO_LEGACY_LEVELS; /* keys unnamed until set */
    return c;
}

void ss_cluster_destroy(ss_cluster_t *c)
{
    if (!c)
        return;
    ss_strtab_destroy(c->strings);
    void *arrays[] = {c->node_name,
                      c->node_topo,
                      c->node_cpu,
                      c->node_mem,
                      c->node_pods,
                      c->node_ext,
                      c->node_unsched,
                      c->node_label_begin,
                      c->node_label_count,
                      c->node_taint_begin,
                      c->node_taint_count,
                      c->node_gpu_begin,
                      c->node_gpu_count,
                      c->gpu_model,
                      c->gpu_milli,
                      c->templates,
                      c->pod_name,
                      c->pod_ns,
                      c->pod_template,
                      c->pod_priority,
                      c->pod_group,
                      c->pod_node,
                      c->pod_gpu_mask,
                      c->group_name,
                      c->group_min_member,
                      c->group_topo_level,
                      c->group_topo_mode,
                      c->group_parent,
                      c->group_dialect,
                      c->labels,
                      c->taints,
                      c->tolerations,
                      c->terms,
                      c->exprs,
                      c->expr_values,
                      c->models,
                      c->pod_start,
                      c->spreads,
                      c->pterms,
                      c->ns_name,
                      c->ns_label_begin,
                      c->ns_label_count,
                      c->pdbs,
                      c->gpu_mig_model,
                      c->gpu_mig_begin,
                      c->gpu_mig_count,
                      c->mig_insts};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        free(arrays[i]);
    free(c);
}

int ss_cluster_add_ext(ss_cluster_t *c, const char *name)
{
    if (c->n_nodes > 0 || c->n_ext >= SS_MAX_EXT)
        return -1;
    int32_t id = ss_cluster_str(c, name);
    if (id < 0)
        return -1;
    for (int k = 0; k < c->n_ext; k++)
        if (c->ext_name[k] == id)
            return k;
    c->ext_name[c->n_ext] = id;
    return c->n_ext++;
}

static int grow_nodes(ss_cluster_t *c)
{
    if (c->n_nodes < c->cap_nodes)
        return 0;
    int32_t nc = next_cap(c->cap_nodes, c->n_nodes + 1);
    if (grow((void **)&c->node_name, sizeof(int32_t), 0, nc) ||
        grow((void **)&c->node_topo, sizeof(int32_t) * SS_TOPO_STRIDE, 0, nc) ||
        grow((void **)&c->node_cpu, sizeof(int64_t), 0, nc) ||
        grow((void **)&c->node_mem, sizeof(int64_t), 0, nc) ||
        grow((void **)&c->node_pods, sizeof(int32_t), 0, nc) ||
        grow((void **)&c->node_ext, sizeof(int64_t) * SS_MAX_EXT, 0, nc) ||
        grow((void **)&c->node_unsched, sizeof(uint8_t), 0, nc) ||
        grow((void **)&c->node_label_begin, sizeof(int32_t), 0, nc) ||
        grow((void **)&c->node_label_count, sizeof(int32_t), 0, nc) ||
        grow((void **)&c->node_taint_begin, sizeof(int32_t), 0, nc) ||
        grow((void **)&c->node_taint_count, sizeof(int32_t), 0, nc) ||
        grow((void **)&c->node_gpu_begin, sizeof(int32_t), 0, nc) ||
        grow((void **)&c->node_gpu_count, sizeof(int32_t), 0, nc))
        return -1;
    c->cap_nodes = nc;
    return 0;
}

int32_t ss_cluster_add_node(ss_cluster_t *c, int32_t name, const int32_t topo[4], int64_t cpu_milli,
                            int64_t memory, int32_t pods, const int64_t *ext, bool unschedulable,
                            int32_t label_begin, int32_t label_count, int32_t taint_begin,
                            int32_t taint_count, int32_t gpu_begin, int32_t gpu_count)
{
    if (grow_nodes(c) < 0)
        return -1;
    int32_t i = c->n_nodes++;
    c->node_name[i] = name;
    for (int l = 0; l < SS_TOPO_STRIDE; l++)
        c->node_topo[(size_t)i * SS_TOPO_STRIDE + l] = l + 1 < c->n_levels ? topo[l] : 0;
    c->node_topo[(size_t)i * SS_TOPO_STRIDE + c->n_levels - 1] = name;
    c->node_cpu[i] = cpu_milli;
    c->node_mem[i] = memory;
    c->node_pods[i] = pods;
    for (int k = 0; k < SS_MAX_EXT; k++)
        c->node_ext[(size_t)i * SS_MAX_EXT + k] = (ext && k < c->n_ext) ? ext[k] : 0;
    c->node_unsched[i] = unschedulable ? 1 : 0;
    c->node_label_begin[i] = label_begin;
    c->node_label_count[i] = label_count;
    c->node_taint_begin[i] = taint_begin;
    c->node_taint_count[i] = taint_count;
    c->node_gpu_begin[i] = gpu_begin;
    c->node_gpu_count[i] = gpu_count;
    return i;
}

int32_t ss_cluster_add_gpu(ss_cluster_t *c, int32_t model, int32_t milli)
{
    if (c->n_gpus + 1 > c->cap_gpus) {
        int32_t nc = next_cap(c->cap_gpus, c->n_gpus + 1);
        if (grow((void **)&c->gpu_model, sizeof(int32_t), 0, nc) ||
            grow((void **)&c->gpu_milli, sizeof(int32_t), 0, nc) ||
            grow((void **)&c->gpu_mig_model, sizeof(int32_t), 0, nc) ||
            grow((void **)&c->gpu_mig_begin, sizeof(int32_t), 0, nc) ||
            grow((void **)&c->gpu_mig_count, sizeof(int32_t), 0, nc))
            return -1;
        c->cap_gpus = nc;
    }
    c->gpu_model[c->n_gpus] = model;
    c->gpu_milli[c->n_gpus] = milli;
    c->gpu_mig_model[c->n_gpus] = 0;
    c->gpu_mig_begin[c->n_gpus] = 0;
    c->gpu_mig_count[c->n_gpus] = 0;
    return c->n_gpus++;
}

int32_t ss_cluster_add_mig_instance(ss_cluster_t *c, int32_t profile, int32_t start)
{
    GROW1(c, n_mig_insts, cap_mig_insts, mig_insts);
    c->mig_insts[c->n_mig_insts] = (ss_mig_instance_t){profile, start};
    return c->n_mig_insts++;
}

int ss_cluster_set_gpu_mig(ss_cluster_t *c, int32_t gpu, int32_t model,
                           const ss_mig_instance_t *inst, int32_t n)
{
    int32_t begin = c->n_mig_insts;
    for (int32_t i = 0; i < n; i++)
        if (ss_cluster_add_mig_instance(c, inst[i].profile, inst[i].start) < 0)
            return -1;
    c->gpu_mig_model[gpu] = model;
    c->gpu_mig_begin[gpu] = begin;
    c->gpu_mig_count[gpu] = n;
    return 0;
}

int32_t ss_cluster_add_template(ss_cluster_t *c, const ss_template_t *t)
{
    GROW1(c, n_templates, cap_templates, templates);
    c->templates[c->n_templates] = *t;
    return c->n_templates++;
}

int32_t ss_cluster_add_pod(ss_cluster_t *c, int32_t name, int32_t ns, int32_t tmpl,
                           int32_t priority, int32_t group, int32_t node, uint64_t gpu_mask)
{
    if (c->n_pods + 1 > c->cap_pods) {
        int32_t nc = next_cap(c->cap_pods, c->n_pods + 1);
        if (grow((void **)&c->pod_name, sizeof(int32_t), 0, nc) ||
            grow((void **)&c->pod_ns, sizeof(int32_t), 0, nc) ||
            grow((void **)&c->pod_template, sizeof(int32_t), 0, nc) ||
            grow((void **)&c->pod_priority, sizeof(int32_t), 0, nc) ||
            grow((void **)&c->pod_group, sizeof(int32_t), 0, nc) ||
            grow((void **)&c->pod_node, sizeof(int32_t), 0, nc) ||
            grow((void **)&c->pod_gpu_mask, sizeof(uint64_t), 0, nc) ||
            grow((void **)&c->pod_start, sizeof(int64_t), 0, nc))
            return -1;
        c->cap_pods = nc;
    }
    int32_t i = c->n_pods++;
    c->pod_name[i] = name;
    c->pod_ns[i] = ns;
    c->pod_template[i] = tmpl;
    c->pod_priority[i] = priority;
    c->pod_group[i] = group;
    c->pod_node[i] = node;
    c->pod_gpu_mask[i] = gpu_mask;
    c->pod_start[i] = 0;
    return i;
}

void ss_cluster_set_pod_start(ss_cluster_t *c, int32_t pod, int64_t start)
{
    c->pod_start[pod] = start;
}

int32_t ss_cluster_add_spread(ss_cluster_t *c, const ss_spread_t *s)
{
    GROW1(c, n_spreads, cap_spreads, spreads);
    c->spreads[c->n_spreads] = *s;
    return c->n_spreads++;
}

int32_t ss_cluster_add_pterm(ss_cluster_t *c, const ss_podterm_t *t)
{
    GROW1(c, n_pterms, cap_pterms, pterms);
    c->pterms[c->n_pterms] = *t;
    return c->n_pterms++;
}

int32_t ss_cluster_add_pdb(ss_cluster_t *c, const ss_pdb_t *p)
{
    GROW1(c, n_pdbs, cap_pdbs, pdbs);
    c->pdbs[c->n_pdbs] = *p;
    return c->n_pdbs++;
}

int32_t ss_cluster_add_namespace(ss_cluster_t *c, int32_t name, int32_t label_begin,
                                 int32_t label_count)
{
    if (c->n_namespaces + 1 > c->cap_namespaces) {
        int32_t nc = next_cap(c->cap_namespaces, c->n_namespaces + 1);
        if (grow((void **)&c->ns_name, sizeof(int32_t), 0, nc) ||
            grow((void **)&c->ns_label_begin, sizeof(int32_t), 0, nc) ||
            grow((void **)&c->ns_label_count, sizeof(int32_t), 0, nc))
            return -1;
        c->cap_namespaces = nc;
    }
    int32_t i = c->n_namespaces++;
    c->ns_name[i] = name;
    c->ns_label_begin[i] = label_begin;
    c->ns_label_count[i] = label_count;
    return i;
}

int32_t ss_cluster_add_group(ss_cluster_t *c, int32_t name, int32_t min_member, int32_t topo_level,
                             int32_t topo_mode)
{
    if (c->n_groups + 1 > c->cap_groups) {
        int32_t nc = next_cap(c->cap_groups, c->n_groups + 1);
        if (grow((void **)&c->group_name, sizeof(int32_t), 0, nc) ||
            grow((void **)&c->group_min_member, sizeof(int32_t), 0, nc) ||
            grow((void **)&c->group_topo_level, sizeof(int32_t), 0, nc) ||
            grow((void **)&c->group_topo_mode, sizeof(int32_t), 0, nc) ||
            grow((void **)&c->group_parent, sizeof(int32_t), 0, nc) ||
            grow((void **)&c->group_dialect, sizeof(int32_t), 0, nc))
            return -1;
        c->cap_groups = nc;
    }
    int32_t i = c->n_groups++;
    c->group_name[i] = name;
    c->group_min_member[i] = min_member;
    c->group_topo_level[i] = topo_level;
    c->group_topo_mode[i] = topo_mode;
    c->group_parent[i] = -1;
    c->group_dialect[i] = SS_GD_UNKNOWN;
    return i;
}

int32_t ss_cluster_add_subgroup(ss_cluster_t *c, int32_t parent, int32_t name, int32_t min_member,
                                int32_t topo_level, int32_t topo_mode)
{
    if (parent < 0 || parent >= c->n_groups)
        return -1;
    int32_t i = ss_cluster_add_group(c, name, min_member, topo_level, topo_mode);
    if (i >= 0) {
        c->group_parent[i] = parent;
        c->group_dialect[i] = SS_GD_SUBGROUP;
    }
    return i;
}

int32_t ss_cluster_add_label(ss_cluster_t *c, int32_t key, int32_t value)
{
    GROW1(c, n_labels, cap_labels, labels);
    c->labels[c->n_labels] = (ss_label_t){key, value};
    return c->n_labels++;
}

int32_t ss_cluster_add_taint(ss_cluster_t *c, int32_t key, int32_t value, int32_t effect)
{
    GROW1(c, n_taints, cap_taints, taints);
    c->taints[c->n_taints] = (ss_taint_t){key, value, effect};
    return c->n_taints++;
}

int32_t ss_cluster_add_toleration(ss_cluster_t *c, int32_t key, int32_t value, int32_t op,
                                  int32_t effect)
{
    GROW1(c, n_tolerations, cap_tolerations, tolerations);
    c->tolerations[c->n_tolerations] = (ss_toleration_t){key, value, op, effect};
    return c->n_tolerations++;
}

int32_t ss_cluster_add_term(ss_cluster_t *c, int32_t expr_begin, int32_t expr_count, int32_t weight)
{
    GROW1(c, n_terms, cap_terms, terms);
    c->terms[c->n_terms] = (ss_term_t){expr_begin, expr_count, weight};
    return c->n_terms++;
}

int32_t ss_cluster_add_expr(ss_cluster_t *c, int32_t key, int32_t op, int32_t is_field,
                            int32_t val_begin, int32_t val_count)
{
    GROW1(c, n_exprs, cap_exprs, exprs);
    c->exprs[c->n_exprs] = (ss_expr_t){key, op, is_field, val_begin, val_count};
    return c->n_exprs++;
}

int32_t ss_cluster_add_expr_value(ss_cluster_t *c, int32_t value)
{
    GROW1(c, n_expr_values, cap_expr_values, expr_values);
    c->expr_values[c->n_expr_values] = value;
    return c->n_expr_values++;
}

int32_t ss_cluster_add_model(ss_cluster_t *c, int32_t model)
{
    GROW1(c, n_models, cap_models, models);
    c->models[c->n_models] = model;
    return c->n_models++;
}

int32_t ss_cluster_str(ss_cluster_t *c, const char *s)
{
    return ss_strtab_intern(c->strings, s);
}

const char *ss_cluster_strget(const ss_cluster_t *c, int32_t id)
{
    const char *s = ss_strtab_get(c->strings, id);
    return s ? s : "?";
}

static int topo_cmp(const ss_cluster_t *c, int32_t a, int32_t b)
{
    for (int l = 0; l + 1 < c->n_levels; l++) {
        int32_t x = c->node_topo[(size_t)a * SS_TOPO_STRIDE + l];
        int32_t y = c->node_topo[(size_t)b * SS_TOPO_STRIDE + l];
        if (x != y) {
            int r = strcmp(ss_cluster_strget(c, x), ss_cluster_strget(c, y));
            if (r)
                return r;
        }
    }
    return 0;
}

bool ss_cluster_nodes_sorted(const ss_cluster_t *c)
{
    for (int32_t i = 1; i < c->n_nodes; i++)
        if (topo_cmp(c, i - 1, i) > 0)
            return false;
    return true;
}

/* Merge sort of a permutation (stable). */
static void msort(const ss_cluster_t *c, int32_t *a, int32_t *tmp, int32_t n)
{
    if (n < 2)
        return;
    int32_t h = n / 2;
    msort(c, a, tmp, h);
    msort(c, a + h, tmp, n - h);
    int32_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = topo_cmp(c, a[j], a[i]) < 0 ? a[j++] : a[i++];
    while (i < h)
        tmp[k++] = a[i++];
    while (j < n)
        tmp[k++] = a[j++];
    memcpy(a, tmp, (size_t)n * sizeof *a);
}

int ss_cluster_gather_nodes(ss_cluster_t *c, const int32_t *order, int32_t n, ss_error_t *err)
{
    void *tmp = malloc((size_t)(n > 0 ? n : 1) * SS_MAX_EXT * sizeof(int64_t));
    if (!tmp)
        return ss_error_set(err, SS_ENOMEM, "out of memory moving %d nodes", (int)n);
#define GATHER(col, type, w)                                                                       \
    do {                                                                                           \
        type *t_ = tmp;                                                                            \
        for (int32_t k_ = 0; k_ < n; k_++)                                                         \
            memcpy(t_ + (size_t)k_ * (w), c->col + (size_t)order[k_] * (w), (w) * sizeof(type));   \
        memcpy(c->col, t_, (size_t)n *(w) * sizeof(type));                                         \
    } while (0)
    GATHER(node_name, int32_t, 1);
    GATHER(node_topo, int32_t, SS_TOPO_STRIDE);
    GATHER(node_cpu, int64_t, 1);
    GATHER(node_mem, int64_t, 1);
    GATHER(node_pods, int32_t, 1);
    GATHER(node_ext, int64_t, SS_MAX_EXT);
    GATHER(node_unsched, uint8_t, 1);
    GATHER(node_label_begin, int32_t, 1);
    GATHER(node_label_count, int32_t, 1);
    GATHER(node_taint_begin, int32_t, 1);
    GATHER(node_taint_count, int32_t, 1);
    GATHER(node_gpu_begin, int32_t, 1);
    GATHER(node_gpu_count, int32_t, 1);
#undef GATHER
    free(tmp);
    return 0;
}

int ss_cluster_sort_nodes(ss_cluster_t *c, ss_error_t *err)
{
    int32_t n = c->n_nodes;
    if (ss_cluster_nodes_sorted(c))
        return 0;
    int32_t *perm = malloc((size_t)n * sizeof *perm);
    int32_t *tmp = malloc((size_t)n * sizeof *tmp);
    if (!perm || !tmp)
        goto oom;
    for (int32_t i = 0; i < n; i++)
        perm[i] = i;
    msort(c, perm, tmp, n);
    if (ss_cluster_gather_nodes(c, perm, n, err) < 0) {
        free(perm);
        free(tmp);
        return SS_ENOMEM;
    }
    /* tmp becomes the inverse permutation: old index -> new index. */
    for (int32_t i = 0; i < n; i++)
        tmp[perm[i]] = i;
    for (int32_t p = 0; p < c->n_pods; p++)
        if (c->pod_node[p] >= 0 && c->pod_node[p] < n)
            c->pod_node[p] = tmp[c->pod_node[p]];
    free(perm);
    free(tmp);
    return 0;
oom:
    free(perm);
    free(tmp);
    return ss_error_set(err, SS_ENOMEM, "out of memory sorting %d nodes", n);
}

size_t ss_cluster_bytes(const ss_cluster_t *c)
{
    size_t b = 0, dummy;
    ss_strtab_data(c->strings, &dummy);
    b += dummy + (size_t)ss_strtab_count(c->strings) * (8 + 8);
    b += (size_t)c->cap_nodes * (4 * (1 + SS_TOPO_STRIDE) + 8 * 2 + 4 + 8 * SS_MAX_EXT + 1 + 4 * 6);
    b += (size_t)c->cap_gpus * (8 + 12);
    b += (size_t)c->cap_mig_insts * sizeof(ss_mig_instance_t);
    b += (size_t)c->cap_templates * sizeof(ss_template_t);
    b += (size_t)c->cap_pods * (4 * 6 + 8);
    b += (size_t)c->cap_groups * 16;
    b += (size_t)c->cap_labels * sizeof(ss_label_t) + (size_t)c->cap_taints * sizeof(ss_taint_t);
    b += (size_t)c->cap_tolerations * sizeof(ss_toleration_t);
    b += (size_t)c->cap_terms * sizeof(ss_term_t) + (size_t)c->cap_exprs * sizeof(ss_expr_t);
    b += (size_t)(c->cap_expr_values + c->cap_models) * 4;
    return b;
}

/* Hashes a length-prefixed string (so "ab","c" and "a","bc" differ). */
static uint64_t hash_str(uint64_t h, const ss_cluster_t *c, int32_t id)
{
    uint32_t len = (uint32_t)ss_strtab_len(c->strings, id);
    const char *s = ss_cluster_strget(c, id);
    h = ss_hash_bytes(h, &len, sizeof len);
    return ss_hash_bytes(h, s ? s : "", len);
}

uint64_t ss_cluster_fingerprint(const ss_cluster_t *c)
{
    uint64_t h = SS_HASH_INIT;
    h = ss_hash_bytes(h, &c->n_nodes, sizeof c->n_nodes);
    for (int32_t i = 0; i < c->n_nodes; i++)
        h = hash_str(h, c, c->node_name[i]);
    h = ss_hash_bytes(h, &c->n_pods, sizeof c->n_pods);
    for (int32_t p = 0; p < c->n_pods; p++) {
        h = hash_str(h, c, c->pod_ns[p]);
        h = hash_str(h, c, c->pod_name[p]);
        h = ss_hash_bytes(h, &c->pod_node[p], sizeof c->pod_node[p]);
    }
    return h;
}

/* ---------- MIG instances of a node (issue 15) ---------- */

int32_t ss_cluster_node_mig_count(const ss_cluster_t *c, int32_t node)
{
    int32_t n = 0;
    for (int32_t g = c->node_gpu_begin[node]; g < c->node_gpu_begin[node] + c->node_gpu_count[node];
         g++)
        n += c->gpu_mig_model[g] ? c->gpu_mig_count[g] : 0;
    return n;
}

int32_t ss_cluster_node_mig_inst(const ss_cluster_t *c, int32_t node, int32_t i, int32_t *gpu)
{
    for (int32_t g = c->node_gpu_begin[node]; g < c->node_gpu_begin[node] + c->node_gpu_count[node];
         g++) {
        int32_t n = c->gpu_mig_model[g] ? c->gpu_mig_count[g] : 0;
        if (i < n) {
            if (gpu)
                *gpu = g;
            return c->gpu_mig_begin[g] + i;
        }
        i -= n;
    }
    return -1;
}

/* The first `need` free instances of profile on node (used: node-local
 * bits taken), or 0 when there are fewer. */
static uint64_t first_free_mig(const ss_cluster_t *c, int32_t node, int32_t profile, int32_t need,
                               uint64_t used)
{
    uint64_t mask = 0;
    int32_t got = 0, n = ss_cluster_node_mig_count(c, node);
    for (int32_t i = 0; i < n && i < SS_MAX_MIG_PER_NODE && got < need; i++)
        if (!(used >> i & 1) &&
            c->mig_insts[ss_cluster_node_mig_inst(c, node, i, NULL)].profile == profile) {
            mask |= UINT64_C(1) << i;
            got++;
        }
    return got == need ? mask : 0;
}

int ss_cluster_mig_assign_running(ss_cluster_t *c, ss_error_t *err)
{
    uint64_t *used = calloc(c->n_nodes > 0 ? (size_t)c->n_nodes : 1, sizeof *used);
    uint64_t *mask = NULL;
    int rc = 0;
    if (!used)
        return ss_error_set(err, SS_ENOMEM, "out of memory assigning MIG instances");
    int32_t todo = 0;
    for (int32_t p = 0; p < c->n_pods; p++) {
        int32_t n = c->pod_node[p];
        if (n < 0 || n >= c->n_nodes || c->templates[c->pod_template[p]].mig_count <= 0)
            continue;
        used[n] |= c->pod_gpu_mask[p];
        todo += c->pod_gpu_mask[p] == 0;
    }
    if (todo > 0 && !(mask = calloc((size_t)c->n_pods, sizeof *mask)))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory assigning MIG instances");
    for (int32_t p = 0; p < c->n_pods && todo > 0 && rc == 0; p++) {
        int32_t n = c->pod_node[p];
        const ss_template_t *t = &c->templates[c->pod_template[p]];
        if (n < 0 || n >= c->n_nodes || t->mig_count <= 0 || c->pod_gpu_mask[p] != 0)
            continue;
        mask[p] = first_free_mig(c, n, t->mig_profile, t->mig_count, used[n]);
        if (mask[p] == 0)
            rc = ss_error_set(err, SS_EFORMAT,
                              "pod %s/%s: runs on node %s with %d nvidia.com/mig-%s, but the node "
                              "has fewer free instances of that profile",
                              ss_cluster_strget(c, c->pod_ns[p]),
                              ss_cluster_strget(c, c->pod_name[p]),
                              ss_cluster_strget(c, c->node_name[n]), (int)t->mig_count,
                              ss_cluster_strget(c, t->mig_profile));
        used[n] |= mask[p];
    }
    for (int32_t p = 0; p < c->n_pods && todo > 0 && rc == 0; p++)
        if (mask[p])
            c->pod_gpu_mask[p] = mask[p];
    free(mask);
    free(used);
    return rc;
}
