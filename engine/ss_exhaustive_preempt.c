/* ss_exhaustive_preempt: kube-scheduler's DefaultPreemption in the naive
 * reference (docs/kubernetes.md, "Preemption"): candidate nodes from the
 * search offset, wrapping, until enough candidates are found; on each, every
 * lower-priority running pod is removed, then reprieved one by one (PDB
 * violating victims first, each group by importance) while the pod still
 * fits with every rule; the node is chosen in pickOneNodeForPreemption's
 * order. Everything is recounted from scratch for each check. */
#include <stdlib.h>
#include <string.h>

#include "ss_exhaustive_int.h"
#include "ss_reason.h"
#include "ss_rules.h"

typedef struct {
    int32_t node;
    int32_t *victims; /* by importance, highest first */
    int32_t n;
    int32_t viol;  /* victims whose PDB had no budget left */
    int64_t high;  /* the highest victim priority */
    int64_t sum;   /* sum of (priority + 2^31) */
    int64_t start; /* earliest start among the highest-priority victims */
} cand_t;

/* A pod's start time for the importance order; unknown (0, or no column:
 * a snapshot reader that does not fill it) reads as now, i.e. after every
 * known start, as kube's GetPodStartTime. */
static int64_t start_of(const ss_cluster_t *c, int32_t q)
{
    return c->pod_start && c->pod_start[q] > 0 ? c->pod_start[q] : INT64_MAX;
}

/* kube's MoreImportantPod: priority descending, then start ascending (then
 * the pod index, for a total order). True when x goes before y. */
static bool more_important(const ss_cluster_t *c, int32_t x, int32_t y)
{
    if (c->pod_priority[x] != c->pod_priority[y])
        return c->pod_priority[x] > c->pod_priority[y];
    int64_t sx = start_of(c, x), sy = start_of(c, y);
    if (sx != sy)
        return sx < sy;
    return x < y;
}

/* Insertion sort: a node holds few pods. */
static void sort_importance(const ss_cluster_t *c, int32_t *pods, int32_t n)
{
    for (int32_t i = 1; i < n; i++) {
        int32_t x = pods[i], j = i;
        for (; j > 0 && more_important(c, x, pods[j - 1]); j--)
            pods[j] = pods[j - 1];
        pods[j] = x;
    }
}

static bool resolvable(int why)
{
    switch (why) {
    case SS_REASON_CPU:
    case SS_REASON_MEMORY:
    case SS_REASON_GPU:
    case SS_REASON_PODS:
    case SS_REASON_EXT:
    case SS_REASON_SPREAD:
    case SS_REASON_POD_AFFINITY:
    case SS_REASON_POD_ANTI_AFFINITY:
    case SS_REASON_EXISTING_ANTI_AFFINITY:
        return true;
    default:
        return false;
    }
}

/* Takes running pod q off its node (sign -1) or puts it back (+1). */
static void move_running(ss_exh_t *r, int32_t q, int sign)
{
    const ss_cluster_t *c = r->c;
    ss_state_apply(r->st, &c->templates[c->pod_template[q]], c->pod_node[q], c->pod_gpu_mask[q],
                   sign);
    r->where[q] = sign > 0 ? c->pod_node[q] : -1;
}

/* Does pod fit node now, with every rule recounted? */
static int fits(ss_exh_t *r, int32_t pod, int32_t node, bool *ok)
{
    ss_exh_prep_t p = {0};
    int rc = ss_exh_prep(r, pod, &p);
    *ok = rc == 0 && ss_exh_filter(r, &p, pod, node) == SS_REASON_NONE;
    ss_exh_prep_free(&p);
    return rc;
}

/* PDB violating victims first (filterPodsWithPDBViolation over the sorted
 * list, against the budgets left in this run); marks viol[i]. */
static int classify(ss_exh_t *r, const int32_t *pods, int32_t n, uint8_t *viol)
{
    const ss_cluster_t *c = r->c;
    int32_t *left = malloc((c->n_pdbs > 0 ? (size_t)c->n_pdbs : 1) * sizeof *left);
    if (!left)
        return SS_ENOMEM;
    memcpy(left, r->pdb_left, (size_t)c->n_pdbs * sizeof *left);
    for (int32_t i = 0; i < n; i++) {
        viol[i] = 0;
        for (int32_t k = 0; k < c->n_pdbs; k++)
            if (ss_pdb_covers_victim(c, &c->pdbs[k], pods[i]) && --left[k] < 0)
                viol[i] = 1;
    }
    free(left);
    return 0;
}

/* Reprieves pods[] of group `want` (viol flag) in order; the ones that must
 * go are appended to k->victims. */
static int reprieve(ss_exh_t *r, int32_t pod, const int32_t *pods, const uint8_t *viol, int32_t n,
                    int want, cand_t *k)
{
    for (int32_t i = 0; i < n; i++) {
        if (viol[i] != want)
            continue;
        bool ok;
        move_running(r, pods[i], +1);
        int rc = fits(r, pod, k->node, &ok);
        if (rc)
            return rc;
        if (!ok) {
            move_running(r, pods[i], -1);
            k->victims[k->n++] = pods[i];
            k->viol += want;
        }
    }
    return 0;
}

static void summarise(const ss_cluster_t *c, cand_t *k)
{
    sort_importance(c, k->victims, k->n);
    k->high = c->pod_priority[k->victims[0]];
    k->sum = 0;
    k->start = INT64_MAX;
    for (int32_t i = 0; i < k->n; i++) {
        int32_t q = k->victims[i];
        k->sum += (int64_t)c->pod_priority[q] + ((int64_t)1 << 31);
        if (c->pod_priority[q] == k->high && start_of(c, q) < k->start)
            k->start = start_of(c, q);
    }
}

/* SelectVictimsOnNode as a dry run: *found = 1 with k filled when node is a
 * candidate. The state is unchanged on return. */
static int select_victims(ss_exh_t *r, int32_t pod, int32_t node, cand_t *k, int *found)
{
    const ss_cluster_t *c = r->c;
    *found = 0;
    const int32_t *on = r->run_pods + r->run_first[node];
    int32_t n = 0, m = r->run_first[node + 1] - r->run_first[node];
    for (int32_t i = 0; i < m; i++)
        n += r->where[on[i]] == node && c->pod_priority[on[i]] < c->pod_priority[pod];
    if (n == 0)
        return 0;
    int32_t *pods = malloc((size_t)n * sizeof *pods);
    uint8_t *viol = malloc((size_t)n);
    k->victims = malloc((size_t)n * sizeof *k->victims);
    int rc = pods && viol && k->victims ? 0 : SS_ENOMEM;
    bool ok = false;
    n = 0;
    for (int32_t i = 0; i < m && !rc; i++)
        if (r->where[on[i]] == node && c->pod_priority[on[i]] < c->pod_priority[pod])
            pods[n++] = on[i];
    for (int32_t i = 0; i < n && !rc; i++)
        move_running(r, pods[i], -1);
    if (!rc)
        rc = fits(r, pod, node, &ok);
    if (!rc && ok) {
        sort_importance(c, pods, n);
        k->node = node;
        k->n = k->viol = 0;
        rc = classify(r, pods, n, viol);
        if (!rc)
            rc = reprieve(r, pod, pods, viol, n, 1, k);
        if (!rc)
            rc = reprieve(r, pod, pods, viol, n, 0, k);
        for (int32_t i = 0; i < k->n; i++) /* the dry run leaves the state as it was */
            move_running(r, k->victims[i], +1);
        if (!rc && k->n > 0) {
            summarise(c, k);
            *found = 1;
        }
    } else if (pods) {
        for (int32_t i = 0; i < n; i++)
            move_running(r, pods[i], +1);
    }
    free(pods);
    free(viol);
    if (!*found) {
        free(k->victims);
        k->victims = NULL;
    }
    return rc;
}

/* pickOneNodeForPreemption: < 0 when a is the better candidate. */
static int cmp_cand(const cand_t *a, const cand_t *b)
{
    if (a->viol != b->viol)
        return a->viol < b->viol ? -1 : 1;
    if (a->high != b->high)
        return a->high < b->high ? -1 : 1;
    if (a->sum != b->sum)
        return a->sum < b->sum ? -1 : 1;
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    if (a->start != b->start)
        return a->start > b->start ? -1 : 1;
    return (a->node > b->node) - (a->node < b->node);
}

/* Removes the chosen victims for good, then places the pod. */
static int cmp_pod(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int apply(ss_exh_t *r, int32_t pod, const cand_t *k)
{
    const ss_cluster_t *c = r->c;
    qsort(k->victims, (size_t)k->n, sizeof *k->victims, cmp_pod); /* the file lists them by pod */
    for (int32_t i = 0; i < k->n; i++) {
        int32_t q = k->victims[i];
        int rc = ss_placements_add_victim(r->out, r->row_of_pod[pod], q);
        if (rc)
            return rc;
        move_running(r, q, -1);
        for (int32_t p = 0; p < c->n_pdbs; p++)
            r->pdb_left[p] -= ss_pdb_covers_victim(c, &c->pdbs[p], q);
    }
    ss_exh_commit(r, pod, k->node);
    return 1;
}

int ss_exh_preempt(ss_exh_t *r, int32_t pod)
{
    const ss_cluster_t *c = r->c;
    if (c->n_nodes == 0)
        return 0;
    /* kube's DryRunPreemption: the potential nodes (not unresolvable), in
     * node order; numCandidates of them from the offset, until at least one
     * candidate breaks no PDB. */
    int32_t *pot = malloc((size_t)c->n_nodes * sizeof *pot), np = 0;
    if (!pot)
        return SS_ENOMEM;
    for (int32_t n = 0; n < c->n_nodes; n++)
        if (resolvable(r->node_reason[n]))
            pot[np++] = n;
    int64_t want = (int64_t)np * r->o.min_candidate_pct / 100;
    if (want < r->o.min_candidate_abs)
        want = r->o.min_candidate_abs;
    if (want > np)
        want = np;
    int64_t off = np > 0 ? r->o.seed_offset % np : 0;
    if (off < 0)
        off += np;
    cand_t best = {0}, k = {0};
    int64_t found = 0, nonviol = 0;
    int rc = 0, any = 0;
    for (int32_t i = 0; i < np && !(nonviol > 0 && found >= want) && !rc; i++) {
        int32_t node = pot[(off + i) % np], ok = 0;
        rc = select_victims(r, pod, node, &k, &ok);
        if (rc || !ok)
            continue;
        if (r->o.pdb_hard && k.viol > 0) { /* evictions the API server would refuse */
            free(k.victims);
            continue;
        }
        found++;
        nonviol += k.viol == 0;
        if (!any || cmp_cand(&k, &best) < 0) {
            free(best.victims);
            best = k;
            any = 1;
        } else {
            free(k.victims);
        }
        k.victims = NULL;
    }
    free(pot);
    if (!rc && any)
        rc = apply(r, pod, &best);
    free(best.victims);
    return rc;
}

void ss_exh_restore_victims(ss_exh_t *r, int32_t keep)
{
    const ss_cluster_t *c = r->c;
    for (int32_t i = r->out->n_victims - 1; i >= keep; i--) {
        int32_t q = r->out->victim_pod[i];
        move_running(r, q, +1);
        for (int32_t p = 0; p < c->n_pdbs; p++)
            r->pdb_left[p] += ss_pdb_covers_victim(c, &c->pdbs[p], q);
    }
    if (r->out->n_victims > keep)
        r->out->n_victims = keep;
}
