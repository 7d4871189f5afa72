/* ss_subgroups: see ss_subgroups.h. */
#include "ss_subgroups.h"

#include <stdlib.h>

/* Whether group g is nested (at any depth) in root. */
static bool nested_in(const ss_cluster_t *c, int32_t g, int32_t root)
{
    for (int32_t h = c->group_parent[g]; h >= 0; h = c->group_parent[h])
        if (h == root)
            return true;
    return false;
}

bool ss_gang_has_subgroups(const ss_cluster_t *c, const int32_t *running, const int32_t *pods,
                           int32_t n)
{
    if (!running || n <= 0)
        return false;
    int32_t root = ss_cluster_gang_of(c, pods[0]);
    for (int32_t g = root + 1; root >= 0 && g < c->n_groups; g++)
        if (nested_in(c, g, root))
            return true;
    return false;
}

/* Nodes a and b in one domain of level l (their values at 0..l agree). */
static bool same_domain(const ss_cluster_t *c, int32_t a, int32_t b, int l)
{
    for (int k = 0; k <= l; k++)
        if (c->node_topo[(size_t)a * SS_TOPO_STRIDE + k] !=
            c->node_topo[(size_t)b * SS_TOPO_STRIDE + k])
            return false;
    return true;
}

int ss_subgroups_running(const ss_cluster_t *c, int32_t **out)
{
    *out = NULL;
    bool any = false;
    for (int32_t g = 0; c->group_parent && g < c->n_groups && !any; g++)
        any = c->group_parent[g] >= 0;
    if (!any)
        return 0;
    int32_t *r = calloc((size_t)c->n_groups, sizeof *r);
    if (!r)
        return SS_ENOMEM;
    for (int32_t p = 0; p < c->n_pods; p++)
        if (c->pod_node[p] >= 0)
            for (int32_t g = c->pod_group[p]; g >= 0; g = c->group_parent[g])
                r[g]++;
    *out = r;
    return 0;
}

typedef struct {
    int32_t group, placed, first;
    bool split;
} sub_t;

int ss_subgroups_ok(const ss_cluster_t *c, const int32_t *pods, int32_t n,
                    const ss_placements_t *out, const int32_t *row_of_pod, const int32_t *running)
{
    if (!running || n <= 0)
        return 1;
    int32_t root = ss_cluster_gang_of(c, pods[0]), m = 0;
    for (int32_t g = root + 1; g < c->n_groups; g++)
        m += nested_in(c, g, root);
    if (m == 0)
        return 1;
    sub_t *v = malloc((size_t)m * sizeof *v);
    if (!v)
        return SS_ENOMEM;
    m = 0;
    for (int32_t g = root + 1; g < c->n_groups; g++)
        if (nested_in(c, g, root))
            v[m++] = (sub_t){g, 0, -1, false};
    for (int32_t i = 0; i < n; i++) {
        int32_t node = out->node[row_of_pod[pods[i]]];
        if (node < 0)
            continue;
        for (int32_t g = c->pod_group[pods[i]]; g >= 0 && g != root; g = c->group_parent[g]) {
            int32_t lo = 0, hi = m - 1; /* v is by group index */
            while (lo < hi) {
                int32_t mid = (lo + hi) / 2;
                if (v[mid].group < g)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            sub_t *e = &v[lo];
            e->placed++;
            if (e->first < 0)
                e->first = node;
            else if (c->group_topo_mode[g] == SS_TOPO_MODE_REQUIRED &&
                     !same_domain(c, e->first, node, c->group_topo_level[g]))
                e->split = true;
        }
    }
    int ok = 1;
    for (int32_t j = 0; j < m && ok; j++)
        ok = !v[j].split && v[j].placed + running[v[j].group] >= c->group_min_member[v[j].group];
    free(v);
    return ok;
}
