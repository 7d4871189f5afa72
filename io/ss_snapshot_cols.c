/* ss_snapshot_cols: the snapshot format's column table (see the header). */
#include "ss_snapshot_cols.h"

#include <stdio.h>
#include <stdlib.h>

/* clang-format off */
const table_t ss_snap_tables[T_COUNT] = {
#define TAB(g, n, cap) {g, offsetof(ss_cluster_t, n), offsetof(ss_cluster_t, cap)}
    TAB("/nodes", n_nodes, cap_nodes),
    TAB("/gpus", n_gpus, cap_gpus),
    TAB("/templates", n_templates, cap_templates),
    TAB("/pods", n_pods, cap_pods),
    TAB("/groups", n_groups, cap_groups),
    TAB("/labels", n_labels, cap_labels),
    TAB("/taints", n_taints, cap_taints),
    TAB("/tolerations", n_tolerations, cap_tolerations),
    TAB("/terms", n_terms, cap_terms),
    TAB("/exprs", n_exprs, cap_exprs),
    TAB("/exprs", n_expr_values, cap_expr_values),
    TAB("/models", n_models, cap_models),
    TAB("/spreads", n_spreads, cap_spreads),
    TAB("/pterms", n_pterms, cap_pterms),
    TAB("/namespaces", n_namespaces, cap_namespaces),
    TAB("/pdbs", n_pdbs, cap_pdbs),
    TAB("/mig_instances", n_mig_insts, cap_mig_insts),
#undef TAB
};

#define MSZ(m) sizeof(*((ss_cluster_t *)0)->m)
#define COLV(t, nm, ty, r, m, v) {t, nm, ty, 1, r, offsetof(ss_cluster_t, m), 0, MSZ(m), v}
#define FLDV(t, nm, ty, m, st, f, v) \
    {t, nm, ty, 1, R_ALL, offsetof(ss_cluster_t, m), offsetof(st, f), sizeof(st), v}
#define COL(t, nm, ty, r, m) COLV(t, nm, ty, r, m, 1)
#define FLD(t, nm, ty, m, st, f) FLDV(t, nm, ty, m, st, f, 1)
#define TPL(nm, ty, f) FLD(T_TEMPLATES, nm, ty, templates, ss_template_t, f)
/* version 2 (issue 12): inter-pod rules */
#define TPL2(nm, f) FLDV(T_TEMPLATES, nm, SS_H5_I32, templates, ss_template_t, f, 2)
#define SPR(nm, f) FLDV(T_SPREADS, nm, SS_H5_I32, spreads, ss_spread_t, f, 2)
#define PTM(nm, f) FLDV(T_PTERMS, nm, SS_H5_I32, pterms, ss_podterm_t, f, 2)
#define PDB(nm, f) FLDV(T_PDBS, nm, SS_H5_I32, pdbs, ss_pdb_t, f, 2)
/* version 3 (issue 15): MIG state of GPUs, MIG requests of templates */
#define TPL3(nm, f) FLDV(T_TEMPLATES, nm, SS_H5_I32, templates, ss_template_t, f, 3)
#define MIG(nm, f) FLDV(T_MIG_INSTS, nm, SS_H5_I32, mig_insts, ss_mig_instance_t, f, 3)

/* Node columns read in full are those every rank needs: names and topology
 * (shards, hostname matching) and the class signature (cordon flag, label,
 * taint and GPU ranges, GPU models), since node classes and the largest
 * PreferNoSchedule count are computed over all nodes (ss_sched_class.c). */
const col_t ss_snap_cols[] = {
    COL(T_NODES, "name", SS_H5_I32, R_ALL, node_name),
    {T_NODES, "topo", SS_H5_I32, W_LEVELS, R_ALL, offsetof(ss_cluster_t, node_topo), 0,
     sizeof(int32_t) * SS_TOPO_STRIDE, 1},
    COL(T_NODES, "cpu_milli", SS_H5_I64, R_NODES, node_cpu),
    COL(T_NODES, "memory", SS_H5_I64, R_NODES, node_mem),
    COL(T_NODES, "pods", SS_H5_I32, R_NODES, node_pods),
    {T_NODES, "ext", SS_H5_I64, W_EXT, R_NODES, offsetof(ss_cluster_t, node_ext), 0,
     sizeof(int64_t) * SS_MAX_EXT, 1},
    COL(T_NODES, "unschedulable", SS_H5_U8, R_ALL, node_unsched),
    COL(T_NODES, "label_begin", SS_H5_I32, R_ALL, node_label_begin),
    COL(T_NODES, "label_count", SS_H5_I32, R_ALL, node_label_count),
    COL(T_NODES, "taint_begin", SS_H5_I32, R_ALL, node_taint_begin),
    COL(T_NODES, "taint_count", SS_H5_I32, R_ALL, node_taint_count),
    COL(T_NODES, "gpu_begin", SS_H5_I32, R_ALL, node_gpu_begin),
    COL(T_NODES, "gpu_count", SS_H5_I32, R_ALL, node_gpu_count),
    COL(T_GPUS, "model", SS_H5_I32, R_ALL, gpu_model),
    COL(T_GPUS, "milli", SS_H5_I32, R_GPUS, gpu_milli),
    COLV(T_GPUS, "mig_model", SS_H5_I32, R_ALL, gpu_mig_model, 3),
    COLV(T_GPUS, "mig_begin", SS_H5_I32, R_ALL, gpu_mig_begin, 3),
    COLV(T_GPUS, "mig_count", SS_H5_I32, R_ALL, gpu_mig_count, 3),
    TPL("cpu_milli", SS_H5_I64, req.cpu_milli),
    TPL("memory", SS_H5_I64, req.memory),
    TPL("gpu_count", SS_H5_I32, req.gpu_count),
    TPL("gpu_milli", SS_H5_I32, req.gpu_milli),
    {T_TEMPLATES, "ext", SS_H5_I64, W_EXT, R_ALL, offsetof(ss_cluster_t, templates),
     offsetof(ss_template_t, req.ext), sizeof(ss_template_t), 1},
    TPL("sel_begin", SS_H5_I32, sel_begin),
    TPL("sel_count", SS_H5_I32, sel_count),
    TPL("req_begin", SS_H5_I32, req_begin),
    TPL("req_count", SS_H5_I32, req_count),
    TPL("pref_begin", SS_H5_I32, pref_begin),
    TPL("pref_count", SS_H5_I32, pref_count),
    TPL("tol_begin", SS_H5_I32, tol_begin),
    TPL("tol_count", SS_H5_I32, tol_count),
    TPL("model_begin", SS_H5_I32, model_begin),
    TPL("model_count", SS_H5_I32, model_count),
    TPL("label_begin", SS_H5_I32, plabel_begin),
    TPL("label_count", SS_H5_I32, plabel_count),
    TPL("unsupported", SS_H5_I32, unsupported),
    TPL("workload", SS_H5_I32, workload),
    TPL2("spread_begin", spread_begin),
    TPL2("spread_count", spread_count),
    TPL2("pterm_begin", pterm_begin),
    TPL2("pterm_count", pterm_count),
    TPL2("flags", flags),
    TPL3("mig_profile", mig_profile),
    TPL3("mig_count", mig_count),
    COL(T_PODS, "name", SS_H5_I32, R_ALL, pod_name),
    COL(T_PODS, "namespace", SS_H5_I32, R_ALL, pod_ns),
    COL(T_PODS, "template", SS_H5_I32, R_ALL, pod_template),
    COL(T_PODS, "priority", SS_H5_I32, R_ALL, pod_priority),
    COL(T_PODS, "group", SS_H5_I32, R_ALL, pod_group),
    COL(T_PODS, "node", SS_H5_I32, R_ALL, pod_node),
    COL(T_PODS, "gpu_mask", SS_H5_U64, R_ALL, pod_gpu_mask),
    COLV(T_PODS, "start", SS_H5_I64, R_ALL, pod_start, 2),
    COL(T_GROUPS, "name", SS_H5_I32, R_ALL, group_name),
    COL(T_GROUPS, "min_member", SS_H5_I32, R_ALL, group_min_member),
    COL(T_GROUPS, "topo_level", SS_H5_I32, R_ALL, group_topo_level),
    COL(T_GROUPS, "topo_mode", SS_H5_I32, R_ALL, group_topo_mode),
    COLV(T_GROUPS, "parent", SS_H5_I32, R_ALL, group_parent, 6),
    COLV(T_GROUPS, "dialect", SS_H5_I32, R_ALL, group_dialect, 6),
    FLD(T_LABELS, "key", SS_H5_I32, labels, ss_label_t, key),
    FLD(T_LABELS, "value", SS_H5_I32, labels, ss_label_t, value),
    FLD(T_TAINTS, "key", SS_H5_I32, taints, ss_taint_t, key),
    FLD(T_TAINTS, "value", SS_H5_I32, taints, ss_taint_t, value),
    FLD(T_TAINTS, "effect", SS_H5_I32, taints, ss_taint_t, effect),
    FLD(T_TOLERATIONS, "key", SS_H5_I32, tolerations, ss_toleration_t, key),
    FLD(T_TOLERATIONS, "value", SS_H5_I32, tolerations, ss_toleration_t, value),
    FLD(T_TOLERATIONS, "op", SS_H5_I32, tolerations, ss_toleration_t, op),
    FLD(T_TOLERATIONS, "effect", SS_H5_I32, tolerations, ss_toleration_t, effect),
    FLD(T_TERMS, "expr_begin", SS_H5_I32, terms, ss_term_t, expr_begin),
    FLD(T_TERMS, "expr_count", SS_H5_I32, terms, ss_term_t, expr_count),
    FLD(T_TERMS, "weight", SS_H5_I32, terms, ss_term_t, weight),
    FLD(T_EXPRS, "key", SS_H5_I32, exprs, ss_expr_t, key),
    FLD(T_EXPRS, "op", SS_H5_I32, exprs, ss_expr_t, op),
    FLD(T_EXPRS, "is_field", SS_H5_I32, exprs, ss_expr_t, is_field),
    FLD(T_EXPRS, "val_begin", SS_H5_I32, exprs, ss_expr_t, val_begin),
    FLD(T_EXPRS, "val_count", SS_H5_I32, exprs, ss_expr_t, val_count),
    COL(T_VALUES, "values", SS_H5_I32, R_ALL, expr_values),
    COL(T_MODELS, "model", SS_H5_I32, R_ALL, models),
    SPR("max_skew", max_skew),
    SPR("key", key),
    SPR("when", when),
    SPR("min_domains", min_domains),
    SPR("node_affinity_policy", node_affinity_policy),
    SPR("node_taints_policy", node_taints_policy),
    SPR("sel_begin", sel.begin),
    SPR("sel_count", sel.count),
    SPR("sel_null", sel.null),
    PTM("kind", kind),
    PTM("weight", weight),
    PTM("key", key),
    PTM("sel_begin", sel.begin),
    PTM("sel_count", sel.count),
    PTM("sel_null", sel.null),
    PTM("ns_begin", ns_begin),
    PTM("ns_count", ns_count),
    PTM("ns_sel_begin", ns_sel.begin),
    PTM("ns_sel_count", ns_sel.count),
    PTM("ns_sel_null", ns_sel.null),
    COLV(T_NAMESPACES, "name", SS_H5_I32, R_ALL, ns_name, 2),
    COLV(T_NAMESPACES, "label_begin", SS_H5_I32, R_ALL, ns_label_begin, 2),
    COLV(T_NAMESPACES, "label_count", SS_H5_I32, R_ALL, ns_label_count, 2),
    PDB("name", name),
    PDB("ns", ns),
    PDB("sel_begin", sel.begin),
    PDB("sel_count", sel.count),
    PDB("sel_null", sel.null),
    PDB("min_available", min_available),
    PDB("min_pct", min_pct),
    PDB("max_unavailable", max_unavailable),
    PDB("max_pct", max_pct),
    PDB("allowed", allowed),
    PDB("always_allow", always_allow),
    MIG("profile", profile),
    MIG("start", start),
};
/* clang-format on */
const size_t ss_snap_ncols = sizeof ss_snap_cols / sizeof ss_snap_cols[0];

int32_t *ss_snap_table_count(ss_cluster_t *c, int t)
{
    return (int32_t *)((char *)c + ss_snap_tables[t].count_off);
}

char **ss_snap_col_array(ss_cluster_t *c, const col_t *col)
{
    return (char **)((char *)c + col->arr_off);
}

int ss_snap_col_width(const ss_cluster_t *c, const col_t *col)
{
    return col->width == W_EXT ? c->n_ext : col->width == W_LEVELS ? c->n_levels : col->width;
}

void ss_snap_col_path(const col_t *col, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", ss_snap_tables[col->table].group, col->name);
}

/* Checks that every column of every table has the same row count and
 * allocates the cluster's arrays for them (zeroed). */
int ss_snap_size_tables(hid_t f, const char *fname, int version, ss_cluster_t *c, ss_error_t *err)
{
    hsize_t rows[T_COUNT];
    int first[T_COUNT];
    for (int t = 0; t < T_COUNT; t++) {
        first[t] = -1;
        rows[t] = 0; /* a table with no column in the file (v1: /spreads...) */
    }
    for (size_t i = 0; i < ss_snap_ncols; i++) {
        const col_t *col = &ss_snap_cols[i];
        if (!ss_snap_col_in(col, version))
            continue;
        char path[96];
        hsize_t n = 0;
        ss_snap_col_path(col, path, sizeof path);
        int rc = ss_h5_col_rows(f, fname, path, col->type, col->width == 1 ? 1 : 2,
                                (hsize_t)ss_snap_col_width(c, col), &n, err);
        if (rc < 0)
            return rc;
        if (first[col->table] < 0) {
            if (n > INT32_MAX - 1)
                return ss_error_set(err, SS_EFORMAT, "%s: dataset %s has %llu rows, too many",
                                    fname, path, (unsigned long long)n);
            first[col->table] = (int)i;
            rows[col->table] = n;
        } else if (n != rows[col->table]) {
            char ref[96];
            ss_snap_col_path(&ss_snap_cols[first[col->table]], ref, sizeof ref);
            return ss_error_set(err, SS_EFORMAT, "%s: dataset %s has %llu rows, %s has %llu", fname,
                                path, (unsigned long long)n, ref,
                                (unsigned long long)rows[col->table]);
        }
    }
    for (size_t i = 0; i < ss_snap_ncols; i++) {
        const col_t *col = &ss_snap_cols[i];
        size_t n = (size_t)rows[col->table];
        char **arr = ss_snap_col_array(c, col);
        if (!*arr && !(*arr = calloc(n ? n : 1, col->stride)))
            return ss_error_set(err, SS_ENOMEM, "%s: out of memory for %llu rows of %s", fname,
                                (unsigned long long)n, ss_snap_tables[col->table].group);
        *ss_snap_table_count(c, col->table) = (int32_t)n;
        *(int32_t *)((char *)c + ss_snap_tables[col->table].cap_off) = (int32_t)n;
    }
    return 0;
}

int ss_snap_read_modes(hid_t f, const char *fname, int version, ss_cluster_t *c, ss_error_t *err)
{
    c->default_spreading = SS_SPREAD_DEFAULT_NONE;
    c->locality = SS_LOCALITY_OFF;
    if (version < 2)
        return 0;
    int rc = ss_h5_attr_read_i32(f, fname, "/", "default_spreading", &c->default_spreading, err);
    if (rc == 0)
        rc = ss_h5_attr_read_i32(f, fname, "/", "locality", &c->locality, err);
    if (rc == SS_ENOTFOUND)
        rc = ss_error_set(err, SS_EFORMAT,
                          "%s: attribute default_spreading or locality missing on / (required "
                          "in format_version 2)",
                          fname);
    return rc;
}

int ss_snap_read_levels(hid_t f, const char *fname, int version, ss_cluster_t *c, ss_error_t *err)
{
    if (version < 6) /* the five legacy levels, keys by their defaults */
        return ss_cluster_set_legacy_levels(c, NULL, NULL, err);
    hsize_t n = 0;
    int rc = ss_h5_col_rows(f, fname, "/topology/level_key", SS_H5_I32, 1, 0, &n, err);
    if (rc < 0)
        return rc;
    if (n < 1 || n > SS_TOPO_MAX_LEVELS)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: dataset /topology/level_key has %llu rows, 1 to %d allowed", fname,
                            (unsigned long long)n, SS_TOPO_MAX_LEVELS);
    c->n_levels = (int32_t)n;
    rc = ss_h5_col_read(f, fname, "/topology/level_key", SS_H5_I32, 1, 0, 0, n, c->level_key, err);
    for (int l = 0; rc == 0 && l < c->n_levels; l++)
        if (c->level_key[l] < 0 || c->level_key[l] >= ss_strtab_count(c->strings))
            rc = ss_error_set(err, SS_EFORMAT,
                              "%s: dataset /topology/level_key row %d: string id out of range",
                              fname, l);
    return rc;
}

int ss_snap_write_levels(hid_t f, const char *fname, const ss_cluster_t *c, ss_error_t *err)
{
    int rc = ss_h5_group(f, fname, "/topology", err);
    if (rc == 0)
        rc = ss_h5_col_write(f, fname, "/topology/level_key", SS_H5_I32, 1, (hsize_t)c->n_levels, 0,
                             c->level_key, err);
    return rc;
}

int ss_snap_check_topo_names(const char *fname, const ss_cluster_t *c, ss_error_t *err)
{
    int node = c->n_levels - 1;
    for (int32_t i = 0; i < c->n_nodes; i++)
        if (c->node_topo[(size_t)i * SS_TOPO_STRIDE + node] != c->node_name[i])
            return ss_error_set(err, SS_EFORMAT,
                                "%s: dataset /nodes/topo row %d column %d (node) differs from "
                                "/nodes/name",
                                fname, (int)i, node);
    return 0;
}

int ss_snap_upgrade(const char *fname, int version, ss_cluster_t *c, ss_error_t *err)
{
    for (int32_t g = 0; version < 6 && g < c->n_groups; g++)
        c->group_parent[g] = -1; /* no sub-groups before version 6 */
    /* Before version 5 only the flag bits 1, 2 and 4 existed: the eviction
     * facts read as unknown (SS_TF_EVICT_FACTS 0), and a later bit is an
     * error, as it was for a version 4 reader. */
    const uint32_t v4_bits = SS_TF_CONTROLLER | SS_TF_PREEMPT_NEVER | SS_TF_DAEMONSET;
    for (int32_t t = 0; version < 5 && t < c->n_templates; t++)
        if (c->templates[t].flags & ~v4_bits)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: /templates/flags row %d: bits 0x%x are not defined in format "
                                "version %d",
                                fname, (int)t, (unsigned)(c->templates[t].flags & ~v4_bits),
                                version);
    if (version != 3)
        return 0; /* versions 1 and 2 have no MIG state; 4 and 5 have it */
    for (int32_t t = 0; t < c->n_templates; t++)
        c->templates[t].unsupported &= ~(uint32_t)SS_RULE_MIG;
    int rc = ss_cluster_mig_assign_running(c, err);
    return rc < 0 ? ss_error_prefix(err, rc, "%s (format version 3)", fname) : 0;
}
