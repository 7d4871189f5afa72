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

/* Renumbers pod_node by newrow[old row] (old rows < n_old). */
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

/* Appends one copy of node t named name (its GPUs and MIG layouts too). */
static int32_t append_copy(ss_cluster_t *c, int32_t t, int32_t name)
{
    int32_t topo[SS_TOPO_STRIDE];
    int64_t ext[SS_MAX_EXT];
    memcpy(topo, c->node_topo + (size_t)t * SS_TOPO_STRIDE, sizeof topo);
    memcpy(ext, c->node_ext + (size_t)t * SS_MAX_EXT, sizeof ext);
    int32_t gb = c->n_gpus, gn = c->node_gpu_count[t], g0 = c->node_gpu_begin[t];
    for (int32_t j = 0; j < gn; j++) {
        int32_t g = ss_cluster_add_gpu(c, c->gpu_model[g0 + j], c->gpu_milli[g0 + j]);
        if (g < 0)
            return -1;
        if (c->gpu_mig_model[g0 + j]) {
            ss_mig_instance_t inst[8];
            int32_t mn = c->gpu_mig_count[g0 + j];
            if (mn > 8)
                mn = 8;
            memcpy(inst, c->mig_insts + c->gpu_mig_begin[g0 + j], (size_t)mn * sizeof *inst);
            if (ss_cluster_set_gpu_mig(c, g, c->gpu_mig_model[g0 + j], inst, mn) < 0)
                return -1;
        }
    }
    return ss_cluster_add_node(c, name, topo, c->node_cpu[t], c->node_mem[t], c->node_pods[t], ext,
                               false, c->node_label_begin[t], c->node_label_count[t],
                               c->node_taint_begin[t], c->node_taint_count[t], gb, gn);
}

/* The names of the copies; fails when one names a node of c. */
static int copy_names(ss_cluster_t *c, const ss_pools_t *p, const int32_t *count, int32_t *names,
                      ss_error_t *err)
{
    int32_t k = 0;
    for (int32_t i = 0; i < p->n; i++)
        for (int32_t j = 0; j < count[i]; j++) {
            char buf[512];
            snprintf(buf, sizeof buf, "%s-whatif-%d", ss_cluster_strget(c, p->name[i]), j + 1);
            int32_t old = ss_strtab_find(c->strings, buf);
            for (int32_t n = 0; old >= 0 && n < c->n_nodes; n++)
                if (c->node_name[n] == old)
                    return ss_error_set(err, SS_EINVAL,
                                        "node %s is in the snapshot already: cannot name a copy "
                                        "of pool %s by it",
                                        buf, ss_cluster_strget(c, p->name[i]));
            if ((names[k++] = ss_cluster_str(c, buf)) < 0)
                return ss_error_set(err, SS_ENOMEM, "out of memory for node names");
        }
    return 0;
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
    for (int32_t i = 0, k = 0; rc == 0 && i < p->n; i++)
        for (int32_t j = 0; rc == 0 && j < count[i]; j++, k++) {
            tend[k] = rack_end(c, p->first[i], n0);
            if (append_copy(c, p->first[i], names[k]) < 0)
                rc = ss_error_set(err, SS_ENOMEM, "out of memory for the added nodes");
        }
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
        renumber_pods(c, newrow, n0);
    }
    if (rc < 0) { /* appended rows only: drop them */
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
