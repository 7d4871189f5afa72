/* ss_queue: queue order of pending pods (see ss_queue.h). O(pods) for a few
 * distinct priorities, else a sort. */
#include "ss_queue.h"

#include <stdlib.h>

typedef struct {
    int32_t prio;
    int32_t pos; /* snapshot position of the unit's first pod */
    int32_t sub; /* the pod's own group: a gang's sub-groups go one after another */
    int32_t pod;
} key_t_;

static int cmp_key(const void *a, const void *b)
{
    const key_t_ *x = a, *y = b;
    if (x->prio != y->prio)
        return x->prio > y->prio ? -1 : 1;
    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    if (x->sub != y->sub)
        return x->sub < y->sub ? -1 : 1;
    return (x->pod > y->pod) - (x->pod < y->pod);
}

#define MAX_BUCKETS 64

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* A gang's members (snapshot order) sub-group by sub-group, as cmp_key
 * orders them: by their own group (parents before sub-groups), then in
 * snapshot order. Returns 1 when out of memory. */
static int sub_order(const ss_cluster_t *c, int32_t *m, int32_t n)
{
    bool subs = false;
    for (int32_t i = 1; i < n && !subs; i++)
        subs = c->pod_group[m[i]] != c->pod_group[m[0]];
    if (!subs)
        return 0;
    int64_t *k = malloc((size_t)n * sizeof *k);
    if (!k)
        return 1;
    for (int32_t i = 0; i < n; i++)
        k[i] = ((int64_t)c->pod_group[m[i]] << 32) | (uint32_t)m[i];
    qsort(k, (size_t)n, sizeof *k, cmp_i64);
    for (int32_t i = 0; i < n; i++)
        m[i] = (int32_t)(k[i] & 0xffffffff);
    free(k);
    return 0;
}

/* The order of cmp_key without a sort, for the usual case of a few distinct
 * priorities: one bucket per priority (highest first), filled in snapshot
 * order; a gang's members go together at its first member. keys[0..n) are
 * in snapshot order. Returns 1 (nothing written) when there are more than
 * MAX_BUCKETS priorities or memory runs out. */
static int bucket_order(const ss_cluster_t *c, const key_t_ *keys, int32_t n, const int32_t *gfirst,
                        int32_t *order)
{
    int32_t prio[MAX_BUCKETS], nb = 0;
    for (int32_t i = 0; i < n; i++) {
        int32_t b = 0;
        while (b < nb && prio[b] != keys[i].prio)
            b++;
        if (b == nb) {
            if (nb == MAX_BUCKETS)
                return 1;
            prio[nb++] = keys[i].prio;
        }
    }
    for (int32_t a = 1; a < nb; a++) /* descending, insertion sort */
        for (int32_t b = a; b > 0 && prio[b] > prio[b - 1]; b--) {
            int32_t t = prio[b];
            prio[b] = prio[b - 1];
            prio[b - 1] = t;
        }
    int32_t *bucket = malloc(((size_t)n + 1) * sizeof *bucket);
    int32_t *gcount = calloc((size_t)c->n_groups + 1, sizeof *gcount);
    int32_t *gstart = malloc(((size_t)c->n_groups + 1) * sizeof *gstart);
    int32_t *members = malloc(((size_t)n + 1) * sizeof *members);
    int64_t off[MAX_BUCKETS + 1] = {0};
    int rc = !bucket || !gcount || !gstart || !members;
    for (int32_t i = 0; i < n && !rc; i++) {
        int32_t b = 0;
        while (prio[b] != keys[i].prio)
            b++;
        bucket[i] = b;
        off[b + 1]++;
        int32_t g = ss_cluster_gang_of(c, keys[i].pod);
        if (g >= 0)
            gcount[g]++;
    }
    if (!rc) {
        for (int32_t b = 0; b < nb; b++)
            off[b + 1] += off[b];
        int32_t acc = 0;
        for (int32_t g = 0; g < c->n_groups; g++) {
            gstart[g] = acc;
            acc += gcount[g];
            gcount[g] = 0;
        }
        for (int32_t i = 0; i < n; i++) { /* members of each group, snapshot order */
            int32_t g = ss_cluster_gang_of(c, keys[i].pod);
            if (g >= 0)
                members[gstart[g] + gcount[g]++] = keys[i].pod;
        }
        for (int32_t g = 0; g < c->n_groups && !rc; g++)
            rc = sub_order(c, members + gstart[g], gcount[g]);
        for (int32_t i = 0; i < n; i++) {
            int32_t p = keys[i].pod, g = ss_cluster_gang_of(c, p);
            if (g < 0)
                order[off[bucket[i]]++] = p;
            else if (gfirst[g] == p)
                for (int32_t j = 0; j < gcount[g]; j++)
                    order[off[bucket[i]]++] = members[gstart[g] + j];
        }
    }
    free(bucket);
    free(gcount);
    free(gstart);
    free(members);
    return rc;
}

void ss_queue_destroy(ss_queue_t *q)
{
    if (!q)
        return;
    free(q->order);
    free(q->units);
    free(q);
}

ss_queue_t *ss_queue_build(const ss_cluster_t *c, ss_error_t *err)
{
    ss_queue_t *q = calloc(1, sizeof *q);
    size_t np = c->n_pods > 0 ? (size_t)c->n_pods : 1;
    size_t ng = c->n_groups > 0 ? (size_t)c->n_groups : 1;
    key_t_ *keys = malloc(np * sizeof *keys);
    int32_t *gfirst = malloc(ng * sizeof *gfirst), *gprio = malloc(ng * sizeof *gprio);
    if (q) {
        q->order = malloc(np * sizeof *q->order);
        q->units = malloc(np * sizeof *q->units);
    }
    if (!q || !keys || !gfirst || !gprio || !q->order || !q->units) {
        ss_error_set(err, SS_ENOMEM, "out of memory building the queue");
        ss_queue_destroy(q);
        q = NULL;
        goto out;
    }
    /* A gang takes the position and the highest priority of its members. */
    for (int32_t g = 0; g < c->n_groups; g++) {
        gfirst[g] = -1;
        gprio[g] = INT32_MIN;
    }
    for (int32_t p = 0; p < c->n_pods; p++) {
        int32_t g = ss_cluster_gang_of(c, p);
        if (c->pod_node[p] >= 0 || g < 0)
            continue;
        if (gfirst[g] < 0)
            gfirst[g] = p;
        if (c->pod_priority[p] > gprio[g])
            gprio[g] = c->pod_priority[p];
    }
    int32_t n = 0;
    for (int32_t p = 0; p < c->n_pods; p++) {
        if (c->pod_node[p] >= 0)
            continue;
        int32_t g = ss_cluster_gang_of(c, p);
        keys[n++] = (key_t_){g >= 0 ? gprio[g] : c->pod_priority[p], g >= 0 ? gfirst[g] : p,
                             c->pod_group[p], p};
    }
    q->n_order = n;
    if (n > 0 && bucket_order(c, keys, n, gfirst, q->order) != 0) {
        /* Many distinct priorities: the general sort. */
        qsort(keys, (size_t)n, sizeof *keys, cmp_key);
        for (int32_t i = 0; i < n; i++)
            q->order[i] = keys[i].pod;
    }
    /* Units: one per gang; otherwise runs of one template and priority. */
    for (int32_t i = 0; i < n;) {
        int32_t p = q->order[i], g = ss_cluster_gang_of(c, p), j = i + 1;
        if (g >= 0)
            while (j < n && ss_cluster_gang_of(c, q->order[j]) == g)
                j++;
        else
            while (j < n && c->pod_group[q->order[j]] < 0 &&
                   c->pod_template[q->order[j]] == c->pod_template[p] &&
                   c->pod_priority[q->order[j]] == c->pod_priority[p])
                j++;
        q->units[q->n_units++] = (ss_unit_t){i, j - i, g};
        i = j;
    }
out:
    free(keys);
    free(gfirst);
    free(gprio);
    return q;
}
