/* ss_whatif: node pools, copies of a pool's first node added to a cluster
 * in place and taken out again, the volume lower bound, the first-fit-
 * decreasing estimate and the expanders of `shardsched whatif`
 * (ss_whatif.h, docs/whatif.md). */
#include "ss_whatif.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_match.h"
#include "ss_state.h"

const char *const ss_whatif_pool_labels[] = {"karpenter.sh/nodepool",
                                             "cloud.google.com/gke-nodepool",
                                             "eks.amazonaws.com/nodegroup",
                                             "kubernetes.azure.com/agentpool",
                                             "pool",
                                             NULL};

const char *const ss_expander_names[] = {"least-waste", "most-pods", "priority", NULL};

/* The value of label key on node, or -1. */
static int32_t node_value(const ss_cluster_t *c, int32_t node, int32_t key)
{
    int32_t b = c->node_label_begin[node], n = c->node_label_count[node];
    for (int32_t i = 0; i < n; i++)
        if (c->labels[b + i].key == key)
            return c->labels[b + i].value;
    return -1;
}

static int32_t pick_label(const ss_cluster_t *c, const char *label)
{
    if (label)
        return ss_strtab_find(c->strings, label);
    for (int k = 0; ss_whatif_pool_labels[k]; k++) {
        int32_t id = ss_strtab_find(c->strings, ss_whatif_pool_labels[k]);
        for (int32_t i = 0; id >= 0 && i < c->n_nodes; i++)
            if (node_value(c, i, id) >= 0)
                return id;
    }
    return -1;
}

int ss_pools_find(const ss_cluster_t *c, const char *label, ss_pools_t *p, ss_error_t *err)
{
    memset(p, 0, sizeof *p);
    p->label = pick_label(c, label);
    if (p->label < 0 || c->n_nodes == 0)
        return 0;
    p->name = malloc((size_t)c->n_nodes * sizeof *p->name);
    p->first = malloc((size_t)c->n_nodes * sizeof *p->first);
    p->nodes = calloc((size_t)c->n_nodes, sizeof *p->nodes);
    if (!p->name || !p->first || !p->nodes) {
        ss_pools_free(p);
        return ss_error_set(err, SS_ENOMEM, "out of memory for the node pools");
    }
    for (int32_t i = 0; i < c->n_nodes; i++) {
        int32_t v = node_value(c, i, p->label), k = 0;
        if (v < 0)
            continue;
        while (k < p->n && p->name[k] != v)
            k++; /* pools are few: a scan is fine */
        if (k == p->n) {
            p->name[k] = v;
            p->first[k] = i;
            p->n++;
        }
        p->nodes[k]++;
    }
    return 0;
}

void ss_pools_free(ss_pools_t *p)
{
    free(p->name);
    free(p->first);
    free(p->nodes);
    memset(p, 0, sizeof *p);
    p->label = -1;
}

int32_t ss_pools_index(const ss_pools_t *p, const ss_cluster_t *c, const char *name)
{
    for (int32_t k = 0; k < p->n; k++)
        if (strcmp(ss_cluster_strget(c, p->name[k]), name) == 0)
            return k;
    return -1;
}

/* ---- copies in place ---- */

/* Renumbers pod_node by newrow[old row] (old rows < n_old: the rows
 * before the move, copies included). */
static void renumber_pods(ss_cluster_t *c, const int32_t *newrow, int32_t n_old)
{
    for (int32_t p = 0; p < c->n_pods; p++)
        if (c->pod_node[p] >= 0 && c->pod_node[p] < n_old)
            c->pod_node[p] = newrow[c->pod_node[p]];
}

/* The last row of node's finest domain above the node (the run of rows
 * with its values of every level but the node's). */
static int32_t rack_end(const ss_cluster_t *c, int32_t node, int32_t n)
{
    const int32_t *t = c->node_topo + (size_t)node * SS_TOPO_STRIDE;
    int32_t e = node;
    while (e + 1 < n && memcmp(c->node_topo + (size_t)(e + 1) * SS_TOPO_STRIDE, t,
                               (size_t)(c->n_levels - 1) * sizeof(int32_t)) == 0)
        e++;
    return e;
}

/* Appends to dst one copy of src's node t named name (its GPUs and MIG
 * layouts too; labels and taints are the same ranges, so dst shares src's
 * pools). Returns the row or -1 (out of memory). */
static int32_t append_copy(ss_cluster_t *dst, const ss_cluster_t *src, int32_t t, int32_t name)
{
    int32_t topo[SS_TOPO_STRIDE];
    int64_t ext[SS_MAX_EXT];
    memcpy(topo, src->node_topo + (size_t)t * SS_TOPO_STRIDE, sizeof topo);
    memcpy(ext, src->node_ext + (size_t)t * SS_MAX_EXT, sizeof ext);
    int32_t gb = dst->n_gpus, gn = src->node_gpu_count[t], g0 = src->node_gpu_begin[t];
    for (int32_t j = 0; j < gn; j++) {
        int32_t g = ss_cluster_add_gpu(dst, src->gpu_model[g0 + j], src->gpu_milli[g0 + j]);
        if (g < 0)
            return -1;
        if (src->gpu_mig_model[g0 + j]) {
            ss_mig_instance_t inst[8];
            int32_t mn = src->gpu_mig_count[g0 + j];
            if (mn > 8)
                mn = 8;
            memcpy(inst, src->mig_insts + src->gpu_mig_begin[g0 + j], (size_t)mn * sizeof *inst);
            if (ss_cluster_set_gpu_mig(dst, g, src->gpu_mig_model[g0 + j], inst, mn) < 0)
                return -1;
        }
    }
    return ss_cluster_add_node(dst, name, topo, src->node_cpu[t], src->node_mem[t],
                               src->node_pods[t], ext, false, src->node_label_begin[t],
                               src->node_label_count[t], src->node_taint_begin[t],
                               src->node_taint_count[t], gb, gn);
}

int32_t ss_whatif_ds_pods(const ss_cluster_t *c, int32_t node, int32_t *out, int32_t max)
{
    int32_t k = 0;
    for (int32_t p = 0; p < c->n_pods; p++)
        if (c->pod_node[p] == node && (c->templates[c->pod_template[p]].flags & SS_TF_DAEMONSET)) {
            if (k < max)
                out[k] = p;
            k++;
        }
    return k;
}

/* Gives node row `node` of dst (a copy named `copy` of src's node tmpl)
 * the DaemonSet pods ds[0 .. n) of src that run on tmpl: same template,
 * namespace, priority, GPUs (node-local masks: the layout is copied),
 * start time, named "<pod>-<copy>". Returns 0 or -1 (out of memory). */
static int copy_ds(ss_cluster_t *dst, const ss_cluster_t *src, const int32_t *ds, int32_t n,
                   int32_t node, int32_t copy)
{
    for (int32_t i = 0; i < n; i++) {
        char buf[1024];
        int32_t p = ds[i];
        snprintf(buf, sizeof buf, "%s-%s", ss_cluster_strget(src, src->pod_name[p]),
                 ss_cluster_strget(dst, copy));
        int32_t name = ss_cluster_str(dst, buf);
        int32_t q = name < 0
                        ? -1
                        : ss_cluster_add_pod(dst, name, src->pod_ns[p], src->pod_template[p],
                                             src->pod_priority[p], -1, node, src->pod_gpu_mask[p]);
        if (q < 0)
            return -1;
        ss_cluster_set_pod_start(dst, q, src->pod_start[p]);
    }
    return 0;
}

/* Appends count[i] copies of pool i's first node of src to dst, named
 * names[] in order, each with its template's DaemonSet pods; tend (may be
 * NULL): the last row of each template's rack in src's first n_src rows
 * (dst may be src). */
static int append_all(ss_cluster_t *dst, const ss_cluster_t *src, int32_t n_src,
                      const ss_pools_t *p, const int32_t *count, const int32_t *names,
                      int32_t *tend, ss_error_t *err)
{
    int32_t *ds = NULL, nds = 0;
    int rc = 0;
    for (int32_t i = 0, k = 0; rc == 0 && i < p->n; i++) {
        if (count[i] <= 0)
            continue;
        nds = ss_whatif_ds_pods(src, p->first[i], NULL, 0);
        free(ds);
        ds = malloc(((size_t)nds + 1) * sizeof *ds);
        if (!ds)
            return ss_error_set(err, SS_ENOMEM, "out of memory for the added nodes");
        ss_whatif_ds_pods(src, p->first[i], ds, nds);
        for (int32_t j = 0; rc == 0 && j < count[i]; j++, k++) {
            if (tend)
                tend[k] = rack_end(src, p->first[i], n_src);
            int32_t row = append_copy(dst, src, p->first[i], names[k]);
            if (row < 0 || copy_ds(dst, src, ds, nds, row, names[k]) < 0)
                rc = ss_error_set(err, SS_ENOMEM, "out of memory for the added nodes");
        }
    }
    free(ds);
    return rc;
}

/* Whether a copy's name id is a node of c: like[0 .. n_like) are the ids
 * of c's node names that contain "-whatif-" (usually none). */
static bool name_taken(const int32_t *like, int32_t n_like, int32_t id)
{
    for (int32_t i = 0; i < n_like; i++)
        if (like[i] == id)
            return true;
    return false;
}

/* The names of the copies; fails when one names a node of c. One scan of
 * c's node names, not one per copy (the search builds copies often). */
static int copy_names(ss_cluster_t *c, const ss_pools_t *p, const int32_t *count, int32_t *names,
                      ss_error_t *err)
{
    int32_t k = 0, n_like = 0, *like = malloc(((size_t)c->n_nodes + 1) * sizeof *like);
    if (!like)
        return ss_error_set(err, SS_ENOMEM, "out of memory for node names");
    for (int32_t n = 0; n < c->n_nodes; n++)
        if (strstr(ss_cluster_strget(c, c->node_name[n]), "-whatif-"))
            like[n_like++] = c->node_name[n];
    int rc = 0;
    for (int32_t i = 0; rc == 0 && i < p->n; i++)
        for (int32_t j = 0; rc == 0 && j < count[i]; j++) {
            char buf[512];
            snprintf(buf, sizeof buf, "%s-whatif-%d", ss_cluster_strget(c, p->name[i]), j + 1);
            int32_t old = ss_strtab_find(c->strings, buf);
            if (old >= 0 && name_taken(like, n_like, old))
                rc = ss_error_set(err, SS_EINVAL,
                                  "node %s is in the snapshot already: cannot name a copy of "
                                  "pool %s by it",
                                  buf, ss_cluster_strget(c, p->name[i]));
            else if ((names[k++] = ss_cluster_str(c, buf)) < 0)
                rc = ss_error_set(err, SS_ENOMEM, "out of memory for node names");
        }
    free(like);
    return rc;
}

/* The order that puts appended rows n0 .. n0+na right after their
 * template's rack (tmpl_end[j]: the rack's last row). */
static void insert_order(int32_t n0, int32_t na, const int32_t *tmpl_end, int32_t *order)
{
    int32_t k = 0, j = 0;
    /* the appended rows, sorted by rack end (stable): racks are visited in
     * row order, so a pass per row would be quadratic; sort instead */
    int32_t *idx = order + n0 + na; /* scratch after order (caller allots 2x) */
    for (int32_t a = 0; a < na; a++)
        idx[a] = a;
    for (int32_t a = 1; a < na; a++) { /* insertion sort: na is small next to n0 */
        int32_t v = idx[a], b = a;
        while (b > 0 && tmpl_end[idx[b - 1]] > tmpl_end[v]) {
            idx[b] = idx[b - 1];
            b--;
        }
        idx[b] = v;
    }
    for (int32_t r = 0; r < n0; r++) {
        order[k++] = r;
        while (j < na && tmpl_end[idx[j]] == r)
            order[k++] = n0 + idx[j++];
    }
}

int ss_whatif_add(ss_cluster_t *c, const ss_pools_t *p, const int32_t *count, ss_whatif_undo_t *u,
                  ss_error_t *err)
{
    memset(u, 0, sizeof *u);
    int32_t n0 = c->n_nodes, na = 0;
    for (int32_t i = 0; i < p->n; i++)
        na += count[i];
    u->n_nodes0 = n0;
    u->n_gpus0 = c->n_gpus;
    u->n_mig0 = c->n_mig_insts;
    u->n_pods0 = c->n_pods;
    if (na == 0)
        return 0;
    int32_t *names = malloc((size_t)na * sizeof *names);
    int32_t *tend = malloc((size_t)na * sizeof *tend);
    int32_t *order = malloc((size_t)(n0 + 2 * na) * sizeof *order);
    int32_t *newrow = malloc((size_t)(n0 + na) * sizeof *newrow);
    u->added = malloc((size_t)na * sizeof *u->added);
    int rc = (names && tend && order && newrow && u->added)
                 ? 0
                 : ss_error_set(err, SS_ENOMEM, "out of memory for the added nodes");
    if (rc == 0)
        rc = copy_names(c, p, count, names, err);
    if (rc == 0)
        rc = append_all(c, c, n0, p, count, names, tend, err);
    if (rc == 0) {
        insert_order(n0, na, tend, order);
        if (ss_cluster_gather_nodes(c, order, n0 + na, err) < 0)
            rc = ss_error_set(err, SS_ENOMEM, "out of memory for the added nodes");
    }
    if (rc == 0) {
        for (int32_t k = 0; k < n0 + na; k++) {
            newrow[order[k]] = k;
            if (order[k] >= n0)
                u->added[u->n_added++] = k;
        }
        renumber_pods(c, newrow, n0 + na);
    }
    if (rc < 0) { /* appended rows only: drop them */
        c->n_pods = u->n_pods0;
        c->n_nodes = n0;
        c->n_gpus = u->n_gpus0;
        c->n_mig_insts = u->n_mig0;
        ss_whatif_undo_free(u);
    }
    free(names);
    free(tend);
    free(order);
    free(newrow);
    return rc;
}

void ss_whatif_remove(ss_cluster_t *c, ss_whatif_undo_t *u)
{
    int32_t n = c->n_nodes, k = 0, a = 0;
    if (u->n_added > 0) {
        int32_t *order = malloc((size_t)n * sizeof *order);
        int32_t *newrow = malloc((size_t)n * sizeof *newrow);
        if (order && newrow) {
            for (int32_t r = 0; r < n; r++) {
                if (a < u->n_added && u->added[a] == r) {
                    a++;
                    newrow[r] = -1;
                    continue;
                }
                newrow[r] = k;
                order[k++] = r;
            }
            ss_error_t e2 = {{0}}; /* out of memory: the copies stay (a void undo) */
            if (ss_cluster_gather_nodes(c, order, k, &e2) == 0) {
                c->n_pods = u->n_pods0; /* the copies' DaemonSet pods */
                renumber_pods(c, newrow, n);
                c->n_nodes = u->n_nodes0;
                c->n_gpus = u->n_gpus0;
                c->n_mig_insts = u->n_mig0;
            }
        }
        free(order);
        free(newrow);
    }
    ss_whatif_undo_free(u);
}

void ss_whatif_undo_free(ss_whatif_undo_t *u)
{
    free(u->added);
    u->added = NULL;
    u->n_added = 0;
}

/* ---- the probe cluster: the new nodes and the pods left over ---- */

/* The pools a probe borrows from its cluster (ss_whatif_probe_free gives
 * them back before destroying the rest). */
static void borrow(ss_cluster_t *s, const ss_cluster_t *c, bool give_back)
{
    ss_cluster_t z;
    memset(&z, 0, sizeof z);
    const ss_cluster_t *f = give_back ? &z : c;
    s->strings = f->strings;
#define B(n, cap, arr)                                                                             \
    s->n = f->n;                                                                                   \
    s->cap = f->cap;                                                                               \
    s->arr = f->arr
    B(n_templates, cap_templates, templates);
    B(n_labels, cap_labels, labels);
    B(n_taints, cap_taints, taints);
    B(n_tolerations, cap_tolerations, tolerations);
    B(n_terms, cap_terms, terms);
    B(n_exprs, cap_exprs, exprs);
    B(n_expr_values, cap_expr_values, expr_values);
    B(n_models, cap_models, models);
    B(n_spreads, cap_spreads, spreads);
    B(n_pterms, cap_pterms, pterms);
    B(n_pdbs, cap_pdbs, pdbs);
    B(n_namespaces, cap_namespaces, ns_name);
    B(n_groups, cap_groups, group_name);
#undef B
    s->ns_label_begin = f->ns_label_begin;
    s->ns_label_count = f->ns_label_count;
    s->group_min_member = f->group_min_member;
    s->group_topo_level = f->group_topo_level;
    s->group_topo_mode = f->group_topo_mode;
    s->group_parent = f->group_parent;
    s->group_dialect = f->group_dialect;
}

/* c's pods pods[0 .. n), pending, appended to s in that order. */
static int add_pending(ss_cluster_t *s, const ss_cluster_t *c, const int32_t *pods, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        int32_t p = pods[i];
        int32_t q = ss_cluster_add_pod(s, c->pod_name[p], c->pod_ns[p], c->pod_template[p],
                                       c->pod_priority[p], c->pod_group[p], -1, 0);
        if (q < 0)
            return -1;
        ss_cluster_set_pod_start(s, q, c->pod_start[p]);
    }
    return 0;
}

int ss_whatif_probe(ss_cluster_t *c, const ss_pools_t *p, const int32_t *count, const int32_t *pods,
                    int32_t n, ss_cluster_t **out, ss_error_t *err)
{
    *out = NULL;
    ss_cluster_t *s = ss_cluster_create();
    int32_t na = 0;
    for (int32_t i = 0; i < p->n; i++)
        na += count[i];
    int32_t *names = malloc(((size_t)na + 1) * sizeof *names);
    if (!s || !names) {
        ss_cluster_destroy(s);
        free(names);
        return ss_error_set(err, SS_ENOMEM, "out of memory for the probe cluster");
    }
    ss_strtab_destroy(s->strings);
    borrow(s, c, false);
    s->n_ext = c->n_ext;
    memcpy(s->ext_name, c->ext_name, sizeof s->ext_name);
    s->default_spreading = c->default_spreading;
    s->locality = c->locality;
    s->n_levels = c->n_levels;
    memcpy(s->level_key, c->level_key, sizeof s->level_key);
    int rc = copy_names(c, p, count, names, err);
    if (rc == 0 && add_pending(s, c, pods, n) < 0)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory for the probe cluster");
    if (rc == 0)
        rc = append_all(s, c, c->n_nodes, p, count, names, NULL, err);
    if (rc == 0)
        rc = ss_cluster_sort_nodes(s, err);
    free(names);
    if (rc < 0) {
        ss_whatif_probe_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void ss_whatif_probe_free(ss_cluster_t *s)
{
    if (!s)
        return;
    borrow(s, NULL, true);
    ss_cluster_destroy(s);
}
