/* ss_run_mig: `schedule --mig-relayout` (issue 15, docs/mig.md "Re-layout").
 * After the first pass every rank holds the whole placements and the whole
 * cluster (the option implies the serial read), so every rank computes the
 * same re-layout: the busy GPUs, the demand the first pass left unplaced
 * for want of a MIG instance or a GPU, the layouts (ss_mig_relayout_choose),
 * then the second pass on the re-laid-out cluster and the pruning of the
 * layouts it left unused. */
#include <stdlib.h>
#include <string.h>

#include "ss_dist.h"
#include "ss_mig_relayout.h"
#include "ss_queue.h"
#include "ss_reason.h"
#include "ss_run.h"
#include "ss_state.h"

/* The unplaced pods re-layout could serve, per template in queue order (by
 * decreasing priority): MIG pods short of an instance, GPU pods short of
 * GPUs. */
static int demand_of(const ss_cluster_t *c, const ss_placements_t *p, ss_relayout_demand_t **out,
                     int32_t *n_out, int64_t *pods, ss_error_t *err)
{
    *out = NULL;
    *n_out = 0;
    *pods = 0;
    ss_queue_t *q = ss_queue_build(c, err);
    int32_t *row_of = malloc((c->n_pods > 0 ? (size_t)c->n_pods : 1) * sizeof *row_of);
    int32_t *slot = malloc((c->n_templates > 0 ? (size_t)c->n_templates : 1) * sizeof *slot);
    ss_relayout_demand_t *d = malloc((c->n_templates > 0 ? (size_t)c->n_templates : 1) * sizeof *d);
    int rc =
        q && row_of && slot && d ? 0 : ss_error_set(err, SS_ENOMEM, "out of memory (re-layout)");
    for (int32_t r = 0; rc == 0 && r < p->n; r++)
        row_of[p->pod[r]] = r;
    for (int32_t t = 0; rc == 0 && t < c->n_templates; t++)
        slot[t] = -1;
    int32_t n = 0;
    for (int32_t i = 0; rc == 0 && i < q->n_order; i++) {
        int32_t pod = q->order[i], r = row_of[pod], t = c->pod_template[pod];
        const ss_template_t *tp = &c->templates[t];
        bool want = p->node[r] < 0 && ((tp->mig_count > 0 && p->reason[r] == SS_REASON_MIG) ||
                                       (tp->req.gpu_count > 0 && p->reason[r] == SS_REASON_GPU));
        if (!want)
            continue;
        if (slot[t] < 0) {
            slot[t] = n;
            d[n++] = (ss_relayout_demand_t){t, 0};
        }
        d[slot[t]].count++;
        (*pods)++;
    }
    ss_queue_destroy(q);
    free(row_of);
    free(slot);
    if (rc < 0) {
        free(d);
        return rc;
    }
    *out = d;
    *n_out = n;
    return 0;
}

/* The free capacity after the first pass: running pods, less the victims,
 * plus the placed rows. */
static ss_state_t *state_after(const ss_cluster_t *c, const ss_placements_t *p)
{
    ss_state_t *s = ss_state_create(c);
    if (!s)
        return NULL;
    for (int32_t v = 0; v < p->n_victims; v++) {
        int32_t q = p->victim_pod[v];
        ss_state_apply(s, &c->templates[c->pod_template[q]], c->pod_node[q], c->pod_gpu_mask[q],
                       -1);
    }
    for (int32_t r = 0; r < p->n; r++)
        if (p->node[r] >= 0)
            ss_state_apply(s, &c->templates[c->pod_template[p->pod[r]]], p->node[r], p->gpu_mask[r],
                           +1);
    return s;
}

/* Single-strategy nodes (nvidia.com/gpu.product ends in -MIG-<profile>:
 * one profile per node, counted as nvidia.com/gpu) are not re-laid-out:
 * their GPUs count as busy. */
static void keep_single_strategy(const ss_cluster_t *c, uint8_t *busy)
{
    for (int32_t n = 0; n < c->n_nodes; n++)
        for (int32_t i = 0; i < c->node_label_count[n]; i++) {
            const ss_label_t *l = &c->labels[c->node_label_begin[n] + i];
            if (strcmp(ss_cluster_strget(c, l->key), "nvidia.com/gpu.product") ||
                !strstr(ss_cluster_strget(c, l->value), "-MIG-"))
                continue;
            memset(busy + c->node_gpu_begin[n], 1, (size_t)c->node_gpu_count[n]);
        }
}

/* Chooses the re-layout into p1 (every rank alike). */
static int choose(const ss_cluster_t *c, ss_placements_t *p1, ss_run_relayout_stats_t *st,
                  ss_error_t *err)
{
    ss_relayout_demand_t *d = NULL;
    int32_t nd = 0;
    uint8_t *busy = calloc(c->n_gpus > 0 ? (size_t)c->n_gpus : 1, 1);
    ss_state_t *s = NULL;
    int rc = busy ? 0 : ss_error_set(err, SS_ENOMEM, "out of memory (re-layout)");
    if (rc == 0 && (rc = ss_mig_relayout_busy(c, p1, busy, err)) == 0)
        keep_single_strategy(c, busy);
    if (rc == 0)
        rc = demand_of(c, p1, &d, &nd, &st->demand, err);
    if (rc == 0 && nd > 0 && !(s = state_after(c, p1)))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory (re-layout)");
    if (rc == 0 && nd > 0) {
        ss_relayout_input_t in = {c, s, busy, d, nd};
        rc = ss_mig_relayout_choose(&in, p1, NULL, err);
    }
    st->chosen = p1->n_relayout;
    ss_state_destroy(s);
    free(d);
    free(busy);
    return rc;
}

/* Moves the re-layout rows of a to b (b has none). */
static void move_relayout(ss_placements_t *a, ss_placements_t *b)
{
    b->n_relayout = a->n_relayout;
    b->cap_relayout = a->cap_relayout;
    b->relayout_gpu = a->relayout_gpu;
    b->relayout_model = a->relayout_model;
    b->relayout = a->relayout;
    a->n_relayout = a->cap_relayout = 0;
    a->relayout_gpu = a->relayout_model = NULL;
    a->relayout = NULL;
}

static int32_t placed_of(const ss_placements_t *p)
{
    int32_t n = 0;
    for (int32_t r = 0; r < p->n; r++)
        n += p->node[r] >= 0;
    return n;
}

int ss_run_mig_relayout(MPI_Comm comm, const ss_run_opts_t *o, ss_cluster_t *c,
                        const ss_dist_part_t *part, ss_placements_t **pl,
                        ss_run_relayout_stats_t *st, ss_error_t *err)
{
    memset(st, 0, sizeof *st);
    double t0 = MPI_Wtime();
    ss_placements_t *p1 = *pl, *p2 = NULL;
    ss_mig_relayout_saved_t saved = {0};
    st->placed_before = placed_of(p1);
    int rc = choose(c, p1, st, err);
    if (rc == 0 && p1->n_relayout > 0 && (rc = ss_mig_relayout_save(c, p1, &saved, err)) == 0)
        rc = ss_mig_relayout_apply(c, p1, err);
    /* The same input on every rank gives the same outcome; agree anyway
     * before the collective second pass (out of memory may differ). */
    rc = ss_dist_agree_err(comm, rc, "MIG re-layout", err);
    if (rc == 0 && p1->n_relayout > 0) {
        rc = ss_run_schedule(comm, o, c, part, &p2, err);
        if (rc == 0) {
            move_relayout(p1, p2);
            rc = ss_mig_relayout_prune(c, &saved, p2, &st->dropped, err);
            rc = ss_dist_agree_err(comm, rc, "MIG re-layout", err);
        }
        if (rc == 0) {
            ss_placements_destroy(p1);
            *pl = p2;
            p2 = NULL;
        }
    }
    ss_placements_destroy(p2);
    ss_mig_relayout_saved_free(&saved);
    st->kept = (*pl)->n_relayout;
    st->placed_after = placed_of(*pl);
    st->seconds = MPI_Wtime() - t0;
    return rc;
}
