/* ss_cluster_validate: every invariant the engine relies on, checked once
 * after a snapshot is read or built, so that the hot loops can trust indices
 * and quantities. Errors name the table, the row and the field. */
#include "ss_cluster.h"
#include "ss_mig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CPU_MILLI (INT64_C(1) << 40) /* ~1e12 milli-cpu: far beyond any machine */
#define MAX_MEMORY (INT64_C(1) << 56)    /* 64 PiB */
#define MAX_PODS_PER_NODE 1000000
#define MAX_EXT_QTY (INT64_C(1) << 56)

static bool str_ok(const ss_cluster_t *c, int32_t id)
{
    return id >= 0 && id < ss_strtab_count(c->strings);
}

/* A string for a message: the string id's text if it is valid, else "?". */
static const char *name_of(const ss_cluster_t *c, int32_t id)
{
    return str_ok(c, id) ? ss_cluster_strget(c, id) : "?";
}

/* Names the object a row is, for messages (issue 10 item 18: "/nodes/memory
 * row 0" must say which node): " (node n1)", " (pod ns/name)", " (pod group
 * g)", " (GPU 2 of node n1)", " (template of pod ns/name)"; "" for pools. */
static void who(const ss_cluster_t *c, const char *table, int64_t row, char *buf, size_t n)
{
    buf[0] = '\0';
    int32_t r = (int32_t)row;
    if (strcmp(table, "nodes") == 0) {
        snprintf(buf, n, " (node %s)", name_of(c, c->node_name[r]));
    } else if (strcmp(table, "pods") == 0) {
        snprintf(buf, n, " (pod %s/%s)", name_of(c, c->pod_ns[r]), name_of(c, c->pod_name[r]));
    } else if (strcmp(table, "groups") == 0) {
        snprintf(buf, n, " (pod group %s)", name_of(c, c->group_name[r]));
    } else if (strcmp(table, "gpus") == 0) {
        for (int32_t i = 0; i < c->n_nodes; i++)
            if (r >= c->node_gpu_begin[i] && r - c->node_gpu_begin[i] < c->node_gpu_count[i]) {
                snprintf(buf, n, " (GPU %d of node %s)", (int)(r - c->node_gpu_begin[i]),
                         name_of(c, c->node_name[i]));
                break;
            }
    } else if (strcmp(table, "namespaces") == 0) {
        snprintf(buf, n, " (namespace %s)", name_of(c, c->ns_name[r]));
    } else if (strcmp(table, "pdbs") == 0) {
        snprintf(buf, n, " (PodDisruptionBudget %s/%s)", name_of(c, c->pdbs[r].ns),
                 name_of(c, c->pdbs[r].name));
    } else if (strcmp(table, "templates") == 0) {
        for (int32_t p = 0; p < c->n_pods; p++)
            if (c->pod_template[p] == r) {
                snprintf(buf, n, " (template of pod %s/%s)", name_of(c, c->pod_ns[p]),
                         name_of(c, c->pod_name[p]));
                break;
            }
    }
}

static int bad(const ss_cluster_t *c, ss_error_t *err, const char *table, int64_t row,
               const char *field, const char *why)
{
    char obj[600];
    who(c, table, row, obj, sizeof obj);
    return ss_error_set(err, SS_EFORMAT, "/%s/%s row %lld%s: %s", table, field, (long long)row, obj,
                        why);
}

static bool range_ok(int32_t begin, int32_t count, int32_t pool)
{
    return begin >= 0 && count >= 0 && (int64_t)begin + count <= pool;
}

/* GPU records are grouped by node: no GPU row is in two nodes' ranges (the
 * engine keeps one free capacity per row, so a shared row would be handed
 * out twice). Runs after every range is known to lie inside /gpus. */
static int check_gpu_owners(const ss_cluster_t *c, ss_error_t *err)
{
    uint8_t *owned = calloc(c->n_gpus > 0 ? (size_t)c->n_gpus : 1, 1);
    if (!owned)
        return ss_error_set(err, SS_ENOMEM, "out of memory validating /gpus");
    int rc = 0;
    for (int32_t i = 0; i < c->n_nodes && rc == 0; i++)
        for (int32_t j = 0; j < c->node_gpu_count[i] && rc == 0; j++)
            if (owned[c->node_gpu_begin[i] + j]++)
                rc = bad(c, err, "nodes", i, "gpu_begin",
                         "range overlaps another node's GPUs in /gpus");
    free(owned);
    return rc;
}

static int check_levels(const ss_cluster_t *c, ss_error_t *err)
{
    if (c->n_levels < 1 || c->n_levels > SS_TOPO_MAX_LEVELS)
        return ss_error_set(err, SS_EFORMAT, "/topology/level_key: %d levels (1..%d allowed)",
                            c->n_levels, SS_TOPO_MAX_LEVELS);
    for (int l = 0; l < c->n_levels; l++) {
        if (!str_ok(c, c->level_key[l]))
            return ss_error_set(err, SS_EFORMAT, "/topology/level_key[%d]: string id out of range",
                                l);
        for (int k = 0; k < l; k++)
            if (c->level_key[k] == c->level_key[l] && c->level_key[l] != 0)
                return ss_error_set(err, SS_EFORMAT,
                                    "/topology/level_key[%d]: '%.80s' is also level %d", l,
                                    ss_cluster_strget(c, c->level_key[l]), k);
    }
    return 0;
}

static int check_nodes(const ss_cluster_t *c, ss_error_t *err)
{
    int rc = check_levels(c, err);
    if (rc < 0)
        return rc;
    for (int32_t i = 0; i < c->n_nodes; i++) {
        if (!str_ok(c, c->node_name[i]))
            return bad(c, err, "nodes", i, "name", "string id out of range");
        for (int l = 0; l < c->n_levels; l++)
            if (!str_ok(c, c->node_topo[(size_t)i * SS_TOPO_STRIDE + l]))
                return bad(c, err, "nodes", i, ss_topo_level_name(c, l), "string id out of range");
        if (c->node_topo[(size_t)i * SS_TOPO_STRIDE + c->n_levels - 1] != c->node_name[i])
            return bad(c, err, "nodes", i, "topo", "node level differs from the name");
        if (c->node_cpu[i] < 0 || c->node_cpu[i] > MAX_CPU_MILLI)
            return bad(c, err, "nodes", i, "cpu_milli", "negative or absurd value");
        if (c->node_mem[i] < 0 || c->node_mem[i] > MAX_MEMORY)
            return bad(c, err, "nodes", i, "memory", "negative or absurd value");
        if (c->node_pods[i] < 0 || c->node_pods[i] > MAX_PODS_PER_NODE)
            return bad(c, err, "nodes", i, "pods", "negative or absurd value");
        for (int k = 0; k < c->n_ext; k++) {
            int64_t v = c->node_ext[(size_t)i * SS_MAX_EXT + k];
            if (v < 0 || v > MAX_EXT_QTY)
                return bad(c, err, "nodes", i, "ext", "negative or absurd value");
        }
        if (c->node_unsched[i] > 1)
            return bad(c, err, "nodes", i, "unschedulable", "not 0 or 1");
        if (!range_ok(c->node_label_begin[i], c->node_label_count[i], c->n_labels))
            return bad(c, err, "nodes", i, "label_begin", "range outside /labels");
        if (!range_ok(c->node_taint_begin[i], c->node_taint_count[i], c->n_taints))
            return bad(c, err, "nodes", i, "taint_begin", "range outside /taints");
        if (!range_ok(c->node_gpu_begin[i], c->node_gpu_count[i], c->n_gpus))
            return bad(c, err, "nodes", i, "gpu_begin", "range outside /gpus");
        if (c->node_gpu_count[i] > SS_MAX_GPUS_PER_NODE)
            return bad(c, err, "nodes", i, "gpu_count", "more than 64 GPUs on one node");
    }
    rc = check_gpu_owners(c, err);
    if (rc < 0)
        return rc;
    for (int32_t g = 0; g < c->n_gpus; g++) {
        if (!str_ok(c, c->gpu_model[g]))
            return bad(c, err, "gpus", g, "model", "string id out of range");
        if (c->gpu_milli[g] <= 0 || c->gpu_milli[g] > SS_GPU_MILLI)
            return bad(c, err, "gpus", g, "milli", "capacity must be in 1..1000");
    }
    for (int32_t i = 0; i < c->n_labels; i++)
        if (!str_ok(c, c->labels[i].key) || !str_ok(c, c->labels[i].value))
            return bad(c, err, "labels", i, str_ok(c, c->labels[i].key) ? "value" : "key",
                       "string id out of range");
    for (int32_t i = 0; i < c->n_taints; i++) {
        if (!str_ok(c, c->taints[i].key) || !str_ok(c, c->taints[i].value))
            return bad(c, err, "taints", i, str_ok(c, c->taints[i].key) ? "value" : "key",
                       "string id out of range");
        if (c->taints[i].effect < SS_EFFECT_NO_SCHEDULE ||
            c->taints[i].effect > SS_EFFECT_NO_EXECUTE)
            return bad(c, err, "taints", i, "effect", "not NoSchedule/PreferNoSchedule/NoExecute");
    }
    return 0;
}

static int check_templates(const ss_cluster_t *c, ss_error_t *err)
{
    for (int32_t i = 0; i < c->n_tolerations; i++) {
        const ss_toleration_t *t = &c->tolerations[i];
        if (!str_ok(c, t->key) || !str_ok(c, t->value))
            return bad(c, err, "tolerations", i, str_ok(c, t->key) ? "value" : "key",
                       "string id out of range");
        if (t->op != SS_TOL_EQUAL && t->op != SS_TOL_EXISTS)
            return bad(c, err, "tolerations", i, "op", "not Equal or Exists");
        if (t->effect < SS_EFFECT_ANY || t->effect > SS_EFFECT_NO_EXECUTE)
            return bad(c, err, "tolerations", i, "effect", "unknown effect");
    }
    for (int32_t i = 0; i < c->n_expr_values; i++)
        if (!str_ok(c, c->expr_values[i]))
            return bad(c, err, "exprs", i, "values", "string id out of range");
    for (int32_t i = 0; i < c->n_models; i++)
        if (!str_ok(c, c->models[i]))
            return bad(c, err, "models", i, "model", "string id out of range");
    for (int32_t i = 0; i < c->n_exprs; i++) {
        const ss_expr_t *e = &c->exprs[i];
        if (!str_ok(c, e->key))
            return bad(c, err, "exprs", i, "key", "string id out of range");
        if (e->op < 0 || e->op >= SS_OP_COUNT)
            return bad(c, err, "exprs", i, "op", "unknown operator");
        if (e->is_field != 0 && e->is_field != 1)
            return bad(c, err, "exprs", i, "is_field", "not 0 or 1");
        if (!range_ok(e->val_begin, e->val_count, c->n_expr_values))
            return bad(c, err, "exprs", i, "val_begin", "range outside /exprs/values");
    }
    for (int32_t i = 0; i < c->n_terms; i++) {
        if (!range_ok(c->terms[i].expr_begin, c->terms[i].expr_count, c->n_exprs))
            return bad(c, err, "terms", i, "expr_begin", "range outside /exprs");
        if (c->terms[i].weight < 0 || c->terms[i].weight > 100)
            return bad(c, err, "terms", i, "weight", "must be 0..100");
    }
    for (int32_t i = 0; i < c->n_templates; i++) {
        const ss_template_t *t = &c->templates[i];
        const ss_request_t *r = &t->req;
        if (r->cpu_milli < 0 || r->cpu_milli > MAX_CPU_MILLI)
            return bad(c, err, "templates", i, "cpu_milli", "negative or absurd value");
        if (r->memory < 0 || r->memory > MAX_MEMORY)
            return bad(c, err, "templates", i, "memory", "negative or absurd value");
        if (r->gpu_count < 0 || r->gpu_count > SS_MAX_GPUS_PER_NODE)
            return bad(c, err, "templates", i, "gpu_count", "must be 0..64");
        if (r->gpu_count > 0 && (r->gpu_milli <= 0 || r->gpu_milli > SS_GPU_MILLI))
            return bad(c, err, "templates", i, "gpu_milli", "must be 1..1000 for a GPU pod");
        if (r->gpu_count > 1 && r->gpu_milli != SS_GPU_MILLI)
            return bad(c, err, "templates", i, "gpu_milli",
                       "a multi-GPU pod must ask whole GPUs (1000)");
        if (r->gpu_count == 0 && r->gpu_milli != 0)
            return bad(c, err, "templates", i, "gpu_milli", "set on a pod with no GPU");
        for (int k = 0; k < SS_MAX_EXT; k++)
            if (r->ext[k] < 0 || r->ext[k] > MAX_EXT_QTY || (k >= c->n_ext && r->ext[k] != 0))
                return bad(c, err, "templates", i, "ext",
                           "negative, absurd or undeclared resource");
        if (!range_ok(t->sel_begin, t->sel_count, c->n_labels))
            return bad(c, err, "templates", i, "sel_begin", "range outside /labels");
        if (!range_ok(t->plabel_begin, t->plabel_count, c->n_labels))
            return bad(c, err, "templates", i, "label_begin", "range outside /labels");
        if (!range_ok(t->req_begin, t->req_count, c->n_terms))
            return bad(c, err, "templates", i, "req_begin", "range outside /terms");
        if (!range_ok(t->pref_begin, t->pref_count, c->n_terms))
            return bad(c, err, "templates", i, "pref_begin", "range outside /terms");
        if (!range_ok(t->tol_begin, t->tol_count, c->n_tolerations))
            return bad(c, err, "templates", i, "tol_begin", "range outside /tolerations");
        if (!range_ok(t->model_begin, t->model_count, c->n_models))
            return bad(c, err, "templates", i, "model_begin", "range outside /models");
        if (!str_ok(c, t->workload))
            return bad(c, err, "templates", i, "workload", "string id out of range");
    }
    return 0;
}

static int check_pods(const ss_cluster_t *c, ss_error_t *err)
{
    for (int32_t g = 0; g < c->n_groups; g++) {
        if (!str_ok(c, c->group_name[g]))
            return bad(c, err, "groups", g, "name", "string id out of range");
        if (c->group_min_member[g] < 1)
            return bad(c, err, "groups", g, "min_member", "must be at least 1");
        if (c->group_topo_mode[g] < SS_TOPO_MODE_NONE ||
            c->group_topo_mode[g] > SS_TOPO_MODE_REQUIRED)
            return bad(c, err, "groups", g, "topo_mode", "must be 0, 1 or 2");
        if (c->group_topo_level[g] < 0 || c->group_topo_level[g] >= c->n_levels)
            return bad(c, err, "groups", g, "topo_level", "not a level of /topology/level_key");
        if (c->group_parent && (c->group_parent[g] < -1 || c->group_parent[g] >= g))
            return bad(c, err, "groups", g, "parent", "must be -1 or an earlier group");
        if (c->group_dialect && (c->group_dialect[g] < 0 || c->group_dialect[g] >= SS_GD_COUNT))
            return bad(c, err, "groups", g, "dialect", "not a dialect code (0..8)");
    }
    for (int32_t p = 0; p < c->n_pods; p++) {
        if (!str_ok(c, c->pod_name[p]) || !str_ok(c, c->pod_ns[p]))
            return bad(c, err, "pods", p, str_ok(c, c->pod_name[p]) ? "namespace" : "name",
                       "string id out of range");
        if (c->pod_template[p] < 0 || c->pod_template[p] >= c->n_templates)
            return bad(c, err, "pods", p, "template", "dangling reference to /templates");
        if (c->pod_group[p] < -1 || c->pod_group[p] >= c->n_groups)
            return bad(c, err, "pods", p, "group", "dangling reference to /groups");
        if (c->pod_node[p] < -1 || c->pod_node[p] >= c->n_nodes)
            return bad(c, err, "pods", p, "node", "dangling reference to /nodes");
        /* Any int32 is a valid priority: Kubernetes' system classes go above
         * 2e9 (system-node-critical is 2000001000). */
        int32_t n = c->pod_node[p];
        uint64_t m = c->pod_gpu_mask[p];
        const ss_request_t *r = &c->templates[c->pod_template[p]].req;
        if (n < 0 && m != 0)
            return bad(c, err, "pods", p, "gpu_mask", "set on a pending pod");
        if (n >= 0 && c->templates[c->pod_template[p]].mig_count > 0)
            continue; /* MIG instances, not GPUs: check_mig_pods */
        if (n >= 0) {
            int32_t ng = c->node_gpu_count[n];
            if (ng < 64 && (m >> ng) != 0)
                return bad(c, err, "pods", p, "gpu_mask", "names a GPU the node does not have");
            if (__builtin_popcountll(m) != r->gpu_count)
                return bad(c, err, "pods", p, "gpu_mask",
                           "number of GPUs differs from the request");
        }
    }
    return 0;
}

/* Kubernetes identity: a node name and a pod's namespace/name each name one
 * object (pod groups are checked at import, where their
 * namespace is known). A snapshot written by other tools could repeat
 * one (the pod would be placed and bound twice); the first repeat is an
 * error naming both rows. Keys are string ids, so sorting (key, row) pairs
 * finds repeats in O(n log n) without touching the text. */
typedef struct {
    uint64_t key;
    int32_t row;
} idkey_t;

static int idkey_cmp(const void *a, const void *b)
{
    const idkey_t *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

static int check_unique(const ss_cluster_t *c, const char *table, int32_t n, const int32_t *hi,
                        const int32_t *lo, ss_error_t *err)
{
    if (n < 2)
        return 0;
    idkey_t *k = malloc((size_t)n * sizeof *k);
    if (!k)
        return ss_error_set(err, SS_ENOMEM, "out of memory validating /%s names", table);
    for (int32_t i = 0; i < n; i++)
        k[i] = (idkey_t){(hi ? (uint64_t)(uint32_t)hi[i] << 32 : 0) | (uint32_t)lo[i], i};
    qsort(k, (size_t)n, sizeof *k, idkey_cmp);
    int rc = 0;
    for (int32_t i = 1; i < n && rc == 0; i++)
        if (k[i].key == k[i - 1].key) {
            char obj[600];
            who(c, table, k[i].row, obj, sizeof obj);
            rc = ss_error_set(err, SS_EFORMAT,
                              "/%s rows %lld and %lld%s: the same name twice (a name names one "
                              "object)",
                              table, (long long)k[i - 1].row, (long long)k[i].row, obj);
        }
    free(k);
    return rc;
}

/* ---- format version 2: the inter-pod rules (issue 12) ---- */

/* A selector whose fields are <prefix>begin/count/null: its requirements lie
 * in /exprs; null is 0 or 1, and a null selector has none. */
static int check_sel(const ss_cluster_t *c, ss_error_t *err, const char *table, int32_t row,
                     const char *prefix, const ss_selector_t *s)
{
    char f[48];
    if (!range_ok(s->begin, s->count, c->n_exprs)) {
        snprintf(f, sizeof f, "%sbegin", prefix);
        return bad(c, err, table, row, f, "range outside /exprs");
    }
    if (s->null != 0 && s->null != 1) {
        snprintf(f, sizeof f, "%snull", prefix);
        return bad(c, err, table, row, f, "not 0 or 1");
    }
    if (s->null && s->count != 0) {
        snprintf(f, sizeof f, "%scount", prefix);
        return bad(c, err, table, row, f, "requirements on a null (absent) selector");
    }
    return 0;
}

static bool is01(int32_t v)
{
    return v == 0 || v == 1;
}

static int check_spreads(const ss_cluster_t *c, ss_error_t *err)
{
    int rc;
    for (int32_t i = 0; i < c->n_spreads; i++) {
        const ss_spread_t *s = &c->spreads[i];
        if (s->max_skew < 1)
            return bad(c, err, "spreads", i, "max_skew", "must be at least 1");
        if (!str_ok(c, s->key))
            return bad(c, err, "spreads", i, "key", "string id out of range");
        if (!is01(s->when))
            return bad(c, err, "spreads", i, "when", "not 0 (DoNotSchedule) or 1 (ScheduleAnyway)");
        if (s->min_domains < 1)
            return bad(c, err, "spreads", i, "min_domains", "must be at least 1");
        if (!is01(s->node_affinity_policy))
            return bad(c, err, "spreads", i, "node_affinity_policy", "not 0 (Honor) or 1 (Ignore)");
        if (!is01(s->node_taints_policy))
            return bad(c, err, "spreads", i, "node_taints_policy", "not 0 (Honor) or 1 (Ignore)");
        if ((rc = check_sel(c, err, "spreads", i, "sel_", &s->sel)) < 0)
            return rc;
    }
    for (int32_t i = 0; i < c->n_pterms; i++) {
        const ss_podterm_t *t = &c->pterms[i];
        if (!is01(t->kind))
            return bad(c, err, "pterms", i, "kind", "not 0 (affinity) or 1 (anti-affinity)");
        if (t->weight < 0 || t->weight > 100)
            return bad(c, err, "pterms", i, "weight", "must be 0 (required) or 1..100");
        if (!str_ok(c, t->key))
            return bad(c, err, "pterms", i, "key", "string id out of range");
        if ((rc = check_sel(c, err, "pterms", i, "sel_", &t->sel)) < 0)
            return rc;
        if (!range_ok(t->ns_begin, t->ns_count, c->n_expr_values))
            return bad(c, err, "pterms", i, "ns_begin", "range outside /exprs/values");
        if ((rc = check_sel(c, err, "pterms", i, "ns_sel_", &t->ns_sel)) < 0)
            return rc;
    }
    return 0;
}

#define SS_TF_KNOWN SS_TF_KNOWN_BITS

/* A PDB's minAvailable / maxUnavailable: -1 (unset) or >= 0, a percentage
 * flag 0/1 (only on a set value) and then 0..100. */
static int check_budget(const ss_cluster_t *c, ss_error_t *err, int32_t i, const char *vf,
                        int32_t v, const char *pf, int32_t pct)
{
    if (v < -1)
        return bad(c, err, "pdbs", i, vf, "must be -1 (unset) or >= 0");
    if (!is01(pct) || (v == -1 && pct))
        return bad(c, err, "pdbs", i, pf, "not 0 or 1 (1 only on a set value)");
    if (pct && v > 100)
        return bad(c, err, "pdbs", i, vf, "a percentage must be 0..100");
    return 0;
}

static int check_rules(const ss_cluster_t *c, ss_error_t *err)
{
    int rc = check_spreads(c, err);
    if (rc < 0)
        return rc;
    for (int32_t i = 0; i < c->n_templates; i++) {
        const ss_template_t *t = &c->templates[i];
        if (!range_ok(t->spread_begin, t->spread_count, c->n_spreads))
            return bad(c, err, "templates", i, "spread_begin", "range outside /spreads");
        if (!range_ok(t->pterm_begin, t->pterm_count, c->n_pterms))
            return bad(c, err, "templates", i, "pterm_begin", "range outside /pterms");
        if (t->flags & ~(uint32_t)SS_TF_KNOWN)
            return bad(c, err, "templates", i, "flags", "unknown flag bits");
    }
    for (int32_t p = 0; c->pod_start && p < c->n_pods; p++)
        if (c->pod_start[p] < 0)
            return bad(c, err, "pods", p, "start", "negative start time");
    for (int32_t i = 0; i < c->n_namespaces; i++) {
        if (!str_ok(c, c->ns_name[i]))
            return bad(c, err, "namespaces", i, "name", "string id out of range");
        if (!range_ok(c->ns_label_begin[i], c->ns_label_count[i], c->n_labels))
            return bad(c, err, "namespaces", i, "label_begin", "range outside /labels");
    }
    for (int32_t i = 0; i < c->n_pdbs; i++) {
        const ss_pdb_t *d = &c->pdbs[i];
        if (!str_ok(c, d->name) || !str_ok(c, d->ns))
            return bad(c, err, "pdbs", i, str_ok(c, d->name) ? "ns" : "name",
                       "string id out of range");
        if ((rc = check_sel(c, err, "pdbs", i, "sel_", &d->sel)) < 0 ||
            (rc = check_budget(c, err, i, "min_available", d->min_available, "min_pct",
                               d->min_pct)) < 0 ||
            (rc = check_budget(c, err, i, "max_unavailable", d->max_unavailable, "max_pct",
                               d->max_pct)) < 0)
            return rc;
        if (d->min_available >= 0 && d->max_unavailable >= 0)
            return bad(c, err, "pdbs", i, "max_unavailable",
                       "set together with min_available (Kubernetes allows one)");
        if (d->allowed < -1)
            return bad(c, err, "pdbs", i, "allowed", "must be -1 (computed) or >= 0");
        if (!is01(d->always_allow))
            return bad(c, err, "pdbs", i, "always_allow", "not 0 or 1");
    }
    if (!is01(c->default_spreading))
        return ss_error_set(err, SS_EFORMAT,
                            "attribute default_spreading on /: %d is not 0 (none) or 1 (system)",
                            (int)c->default_spreading);
    if (!is01(c->locality))
        return ss_error_set(err, SS_EFORMAT,
                            "attribute locality on /: %d is not 0 (off) or 1 (zone)",
                            (int)c->locality);
    return 0;
}

/* Nodes hold at most SS_MAX_MIG_PER_NODE instances; a running MIG pod's
 * gpu_mask holds mig_count instances of its node, of its profile, that no
 * other pod holds (docs/mig.md). */
static int check_mig_pods(const ss_cluster_t *c, ss_error_t *err)
{
    for (int32_t n = 0; n < c->n_nodes; n++)
        if (ss_cluster_node_mig_count(c, n) > SS_MAX_MIG_PER_NODE)
            return bad(c, err, "nodes", n, "gpu_begin", "more than 64 MIG instances on one node");
    uint64_t *used = NULL;
    int rc = 0;
    for (int32_t p = 0; p < c->n_pods && rc == 0; p++) {
        const ss_template_t *t = &c->templates[c->pod_template[p]];
        int32_t n = c->pod_node[p];
        if (n < 0 || t->mig_count <= 0)
            continue;
        if (!used && !(used = calloc((size_t)c->n_nodes, sizeof *used)))
            return ss_error_set(err, SS_ENOMEM, "out of memory validating MIG pods");
        uint64_t m = c->pod_gpu_mask[p];
        int32_t ni = ss_cluster_node_mig_count(c, n);
        if (__builtin_popcountll(m) != t->mig_count)
            rc = bad(c, err, "pods", p, "gpu_mask",
                     "number of MIG instances differs from the request");
        else if (ni < 64 && (m >> ni) != 0)
            rc = bad(c, err, "pods", p, "gpu_mask", "names a MIG instance the node does not have");
        else if (m & used[n])
            rc = bad(c, err, "pods", p, "gpu_mask", "a MIG instance another running pod holds");
        for (uint64_t b = m; rc == 0 && b; b &= b - 1)
            if (c->mig_insts[ss_cluster_node_mig_inst(c, n, __builtin_ctzll(b), NULL)].profile !=
                t->mig_profile)
                rc = bad(c, err, "pods", p, "gpu_mask", "a MIG instance of another profile");
        used[n] |= m;
    }
    free(used);
    return rc;
}

/* The MIG state (issue 15): each partitioned GPU names a model of the
 * ss_mig table and holds a valid layout of its profiles, ordered by start;
 * no instance row belongs to two GPUs; MIG requests are well-formed. */
static int check_mig(const ss_cluster_t *c, ss_error_t *err)
{
    uint8_t *owned = calloc(c->n_mig_insts > 0 ? (size_t)c->n_mig_insts : 1, 1);
    char why[256];
    int rc = 0;
    if (!owned)
        return ss_error_set(err, SS_ENOMEM, "out of memory validating /mig_instances");
    for (int32_t g = 0; g < c->n_gpus && rc == 0; g++) {
        int32_t b = c->gpu_mig_begin[g], n = c->gpu_mig_count[g];
        int mi = c->gpu_mig_model[g] ? ss_mig_find_model(name_of(c, c->gpu_mig_model[g])) : -1;
        const ss_mig_model_t *m = ss_mig_model(mi);
        ss_mig_inst_t inst[SS_MIG_MAX_INSTANCES];
        if (!c->gpu_mig_model[g]) {
            if (n != 0)
                rc = bad(c, err, "gpus", g, "mig_count", "instances on a GPU not in MIG mode");
            continue;
        }
        if (!str_ok(c, c->gpu_mig_model[g]) || !m) {
            snprintf(why, sizeof why, "'%s' is not a MIG-capable GPU model",
                     name_of(c, c->gpu_mig_model[g]));
            rc = bad(c, err, "gpus", g, "mig_model", why);
        } else if (!range_ok(b, n, c->n_mig_insts) || n > SS_MIG_MAX_INSTANCES) {
            rc = bad(c, err, "gpus", g, "mig_begin", "range outside /mig_instances (or over 7)");
        }
        for (int32_t i = 0; rc == 0 && i < n; i++) {
            const ss_mig_instance_t *x = &c->mig_insts[b + i];
            int p = str_ok(c, x->profile) ? ss_mig_find_profile(m, name_of(c, x->profile)) : -1;
            if (owned[b + i]++)
                rc = bad(c, err, "gpus", g, "mig_begin", "range overlaps another GPU's instances");
            else if (p < 0) {
                snprintf(why, sizeof why, "instance %d: '%s' is not a %s profile", (int)i,
                         name_of(c, x->profile), m->name);
                rc = bad(c, err, "gpus", g, "mig_begin", why);
            } else if (x->start < 0 || x->start >= SS_MIG_MEM_SLICES ||
                       (i > 0 && x->start <= c->mig_insts[b + i - 1].start))
                rc = bad(c, err, "gpus", g, "mig_begin", "instances not ordered by start");
            inst[i] = (ss_mig_inst_t){(int8_t)p, (int8_t)x->start};
        }
        if (rc == 0 && !ss_mig_layout_valid(m, inst, n, why, sizeof why))
            rc = bad(c, err, "gpus", g, "mig_begin", why);
    }
    free(owned);
    for (int32_t i = 0; i < c->n_templates && rc == 0; i++) {
        const ss_template_t *t = &c->templates[i];
        if (t->mig_count < 0 || t->mig_count > SS_MIG_MAX_INSTANCES * SS_MAX_GPUS_PER_NODE)
            rc = bad(c, err, "templates", i, "mig_count", "must be 0..448");
        else if (!str_ok(c, t->mig_profile) || (t->mig_count > 0) != (t->mig_profile != 0))
            rc = bad(c, err, "templates", i, "mig_profile",
                     "a profile name exactly when mig_count > 0");
        else if (t->mig_count > 0 && t->req.gpu_count != 0)
            rc =
                bad(c, err, "templates", i, "mig_count",
                    "a MIG request together with nvidia.com/gpu (one kind of GPU request per pod)");
    }
    return rc < 0 ? rc : check_mig_pods(c, err);
}

int ss_cluster_validate(const ss_cluster_t *c, ss_error_t *err)
{
    int rc;
    if ((rc = check_nodes(c, err)) < 0 || (rc = check_templates(c, err)) < 0 ||
        (rc = check_pods(c, err)) < 0 || (rc = check_rules(c, err)) < 0 ||
        (rc = check_mig(c, err)) < 0)
        return rc;
    if ((rc = check_unique(c, "nodes", c->n_nodes, NULL, c->node_name, err)) < 0 ||
        (rc = check_unique(c, "pods", c->n_pods, c->pod_ns, c->pod_name, err)) < 0 ||
        (rc = check_unique(c, "namespaces", c->n_namespaces, NULL, c->ns_name, err)) < 0)
        return rc;
    if (!ss_cluster_nodes_sorted(c))
        return ss_error_set(err, SS_EFORMAT,
                            "/nodes: rows are not sorted by (region, zone, block, rack)");
    return 0;
}
