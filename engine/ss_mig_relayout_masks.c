/* ss_mig_relayout_masks: keeping MIG masks right across re-layouts
 * (ss_mig_relayout.h). A MIG pod's mask names node-local instances (the
 * node's GPUs in order, each GPU's instances in order), so a GPU whose
 * instance count changes shifts the numbers of the instances after it:
 * apply() renumbers the running pods' masks (and refuses a running pod on a
 * re-laid-out GPU), prune() drops the re-layouts no placement uses and
 * renumbers the placements' and running pods' masks back. */
#include <stdlib.h>
#include <string.h>

#include "ss_mig_relayout_int.h"

int ss_mig_remap_mask(uint64_t mask, int32_t k, const int32_t *cnt_old, const int32_t *cnt_new,
                      const uint8_t *moved, uint64_t *out)
{
    uint64_t r = 0;
    int32_t off_old = 0, off_new = 0;
    for (int32_t j = 0; j < k; j++) {
        for (int32_t i = 0; i < cnt_old[j]; i++)
            if (off_old + i < 64 && (mask >> (off_old + i) & 1u)) {
                if (moved[j])
                    return -2;
                if (off_new + i >= 64)
                    return -1;
                r |= 1ull << (off_new + i);
            }
        off_old += cnt_old[j];
        off_new += cnt_new[j];
    }
    if (off_old < 64 && (mask >> off_old))
        return -1; /* a bit past the node's instances */
    *out = r;
    return 0;
}

/* Per GPU of node: instance counts now and after p, and whether p changes
 * it. False when p changes no GPU of the node. */
static bool node_counts(const ss_cluster_t *c, const ss_placements_t *p, int32_t node,
                        int32_t *cnt_old, int32_t *cnt_new, uint8_t *moved)
{
    bool any = false;
    for (int32_t j = 0; j < c->node_gpu_count[node] && j < SS_MAX_GPUS_PER_NODE; j++) {
        int32_t g = c->node_gpu_begin[node] + j;
        int r = ss_mig_relayout_find(p, g);
        cnt_old[j] = c->gpu_mig_model[g] ? c->gpu_mig_count[g] : 0;
        cnt_new[j] = r >= 0 ? p->relayout[r].n : cnt_old[j];
        moved[j] = r >= 0;
        any |= r >= 0;
    }
    return any;
}

int ss_mig_relayout_running_masks(const ss_cluster_t *c, const ss_placements_t *p, uint64_t **out,
                                  ss_error_t *err)
{
    int32_t cnt_old[SS_MAX_GPUS_PER_NODE], cnt_new[SS_MAX_GPUS_PER_NODE];
    uint8_t moved[SS_MAX_GPUS_PER_NODE];
    uint64_t *m = malloc((size_t)(c->n_pods ? c->n_pods : 1) * sizeof *m);
    if (!m)
        return ss_error_set(err, SS_ENOMEM, "re-layout: out of memory");
    for (int32_t i = 0; i < c->n_pods; i++) {
        int32_t node = c->pod_node[i];
        m[i] = c->pod_gpu_mask[i];
        if (node < 0 || !m[i] || !node_counts(c, p, node, cnt_old, cnt_new, moved))
            continue;
        const ss_template_t *t = &c->templates[c->pod_template[i]];
        int32_t k = c->node_gpu_count[node], rc = 0;
        if (t->mig_count > 0)
            rc = ss_mig_remap_mask(c->pod_gpu_mask[i], k, cnt_old, cnt_new, moved, &m[i]);
        else
            for (int32_t j = 0; j < k && j < 64; j++)
                if (moved[j] && (m[i] >> j & 1u))
                    rc = -2;
        if (rc < 0) {
            free(m);
            return ss_error_set(err, SS_EINVAL, "re-layout: running pod %s/%s on node %s: %s",
                                ss_cluster_strget(c, c->pod_ns[i]),
                                ss_cluster_strget(c, c->pod_name[i]),
                                ss_cluster_strget(c, c->node_name[node]),
                                rc == -2 ? "it holds a GPU the re-layout changes"
                                         : "its GPU mask names a MIG instance the node lacks");
        }
    }
    *out = m;
    return 0;
}

int ss_mig_relayout_save(const ss_cluster_t *c, const ss_placements_t *p,
                         ss_mig_relayout_saved_t *s, ss_error_t *err)
{
    size_t n = (size_t)(p->n_relayout > 0 ? p->n_relayout : 1);
    memset(s, 0, sizeof *s);
    s->model = malloc(n * sizeof *s->model);
    s->begin = malloc(n * sizeof *s->begin);
    s->count = malloc(n * sizeof *s->count);
    if (!s->model || !s->begin || !s->count) {
        ss_mig_relayout_saved_free(s);
        return ss_error_set(err, SS_ENOMEM, "re-layout: out of memory");
    }
    for (int32_t i = 0; i < p->n_relayout; i++) {
        int32_t g = p->relayout_gpu[i];
        if (g < 0 || g >= c->n_gpus) {
            ss_mig_relayout_saved_free(s);
            return ss_error_set(err, SS_EINVAL, "re-layout row %d: GPU record %d out of range",
                                (int)i, (int)g);
        }
        s->model[i] = c->gpu_mig_model[g];
        s->begin[i] = c->gpu_mig_begin[g];
        s->count[i] = c->gpu_mig_count[g];
    }
    s->n = p->n_relayout;
    return 0;
}

void ss_mig_relayout_saved_free(ss_mig_relayout_saved_t *s)
{
    free(s->model);
    free(s->begin);
    free(s->count);
    memset(s, 0, sizeof *s);
}

/* Per GPU of node: counts as applied, after reverting the unused rows
 * (keep[row] 0), and which GPUs revert. False when none does. */
static bool revert_counts(const ss_cluster_t *c, const ss_mig_relayout_saved_t *s,
                          const ss_placements_t *p, const uint8_t *keep, int32_t node,
                          int32_t *cnt_old, int32_t *cnt_new, uint8_t *moved)
{
    bool any = false;
    for (int32_t j = 0; j < c->node_gpu_count[node] && j < SS_MAX_GPUS_PER_NODE; j++) {
        int32_t g = c->node_gpu_begin[node] + j;
        int r = ss_mig_relayout_find(p, g);
        cnt_old[j] = c->gpu_mig_model[g] ? c->gpu_mig_count[g] : 0;
        moved[j] = r >= 0 && !keep[r];
        cnt_new[j] = moved[j] ? (s->model[r] ? s->count[r] : 0) : cnt_old[j];
        any |= moved[j];
    }
    return any;
}

/* keep[row] = 1 when a placed row of p holds the re-laid-out GPU (one of
 * its new instances, or the GPU itself for a GPU pod). */
static void mark_used(const ss_cluster_t *c, const ss_placements_t *p, uint8_t *keep)
{
    for (int32_t r = 0; r < p->n; r++) {
        int32_t node = p->node[r], pod = p->pod[r];
        if (node < 0 || !p->gpu_mask[r] || pod < 0 || pod >= c->n_pods)
            continue;
        bool mig = c->templates[c->pod_template[pod]].mig_count > 0;
        int32_t off = 0;
        for (int32_t j = 0; j < c->node_gpu_count[node] && j < 64; j++) {
            int32_t g = c->node_gpu_begin[node] + j;
            int32_t n = c->gpu_mig_model[g] ? c->gpu_mig_count[g] : 0;
            uint64_t bits = mig ? 0 : 1ull << j;
            for (int32_t i = 0; mig && i < n && off + i < 64; i++)
                bits |= 1ull << (off + i);
            int row = ss_mig_relayout_find(p, g);
            if (row >= 0 && (p->gpu_mask[r] & bits))
                keep[row] = 1;
            off += n;
        }
    }
}

int ss_mig_relayout_prune(ss_cluster_t *c, const ss_mig_relayout_saved_t *s, ss_placements_t *p,
                          int32_t *dropped, ss_error_t *err)
{
    int32_t cnt_old[SS_MAX_GPUS_PER_NODE], cnt_new[SS_MAX_GPUS_PER_NODE];
    uint8_t moved[SS_MAX_GPUS_PER_NODE];
    if (s->n != p->n_relayout)
        return ss_error_set(err, SS_EINVAL, "re-layout: %d rows saved, the placements have %d",
                            (int)s->n, (int)p->n_relayout);
    uint8_t *keep = calloc((size_t)(p->n_relayout ? p->n_relayout : 1), 1);
    uint64_t *pm = malloc((size_t)(p->n ? p->n : 1) * sizeof *pm), *rm = NULL;
    int rc = 0;
    if (!keep || !pm) {
        rc = ss_error_set(err, SS_ENOMEM, "re-layout: out of memory");
        goto done;
    }
    mark_used(c, p, keep);
    for (int32_t r = 0; r < p->n && rc == 0; r++) { /* the placements' MIG masks */
        int32_t node = p->node[r];
        pm[r] = p->gpu_mask[r];
        if (node < 0 || !pm[r] || c->templates[c->pod_template[p->pod[r]]].mig_count <= 0 ||
            !revert_counts(c, s, p, keep, node, cnt_old, cnt_new, moved))
            continue;
        if (ss_mig_remap_mask(p->gpu_mask[r], c->node_gpu_count[node], cnt_old, cnt_new, moved,
                              &pm[r]) < 0)
            rc = ss_error_set(err, SS_EINVAL,
                              "re-layout: placement row %d: its MIG mask names an instance node "
                              "%s lacks",
                              (int)r, ss_cluster_strget(c, c->node_name[node]));
    }
    if (rc == 0 && !(rm = malloc((size_t)(c->n_pods ? c->n_pods : 1) * sizeof *rm)))
        rc = ss_error_set(err, SS_ENOMEM, "re-layout: out of memory");
    for (int32_t i = 0; rc == 0 && i < c->n_pods; i++) { /* the running pods' */
        int32_t node = c->pod_node[i];
        rm[i] = c->pod_gpu_mask[i];
        if (node < 0 || !rm[i] || c->templates[c->pod_template[i]].mig_count <= 0 ||
            !revert_counts(c, s, p, keep, node, cnt_old, cnt_new, moved))
            continue;
        if (ss_mig_remap_mask(c->pod_gpu_mask[i], c->node_gpu_count[node], cnt_old, cnt_new, moved,
                              &rm[i]) < 0)
            rc = ss_error_set(err, SS_EINVAL, "re-layout: running pod %s/%s: bad MIG mask",
                              ss_cluster_strget(c, c->pod_ns[i]),
                              ss_cluster_strget(c, c->pod_name[i]));
    }
    if (rc < 0)
        goto done;
    memcpy(p->gpu_mask, pm, (size_t)p->n * sizeof *pm);
    memcpy(c->pod_gpu_mask, rm, (size_t)c->n_pods * sizeof *rm);
    int32_t w = 0;
    for (int32_t i = 0; i < p->n_relayout; i++) {
        int32_t g = p->relayout_gpu[i];
        if (!keep[i]) { /* back as it was: its old instances are still in the pool */
            c->gpu_mig_model[g] = s->model[i];
            c->gpu_mig_begin[g] = s->begin[i];
            c->gpu_mig_count[g] = s->count[i];
            continue;
        }
        p->relayout_gpu[w] = g;
        p->relayout_model[w] = p->relayout_model[i];
        p->relayout[w] = p->relayout[i];
        w++;
    }
    if (dropped)
        *dropped = p->n_relayout - w;
    p->n_relayout = w;
done:
    free(keep);
    free(pm);
    free(rm);
    return rc;
}
