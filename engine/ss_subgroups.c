/* ss_subgroups: see ss_subgroups.h. */
#include "ss_subgroups.h"

#include <stdlib.h>

bool ss_gang_has_subgroups(const ss_cluster_t *c, const int32_t *pods, int32_t n)
{
    if (!c->group_parent)
        return false;
    for (int32_t i = 0; i < n; i++) {
        int32_t g = c->pod_group[pods[i]];
        if (g >= 0 && c->group_parent[g] >= 0)
            return true;
    }
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

typedef struct {
    int32_t group, placed, first;
    bool split;
} sub_t;

int ss_subgroups_ok(const ss_cluster_t *c, const int32_t *pods, int32_t n,
                    const ss_placements_t *out, const int32_t *row_of_pod)
{
    if (!ss_gang_has_subgroups(c, pods, n))
        return 1;
    int32_t cap = n > c->n_groups ? c->n_groups : n, m = 0;
    sub_t *v = malloc(((size_t)cap + 1) * sizeof *v);
    if (!v)
        return SS_ENOMEM;
    for (int32_t i = 0; i < n; i++) {
        int32_t node = out->node[row_of_pod[pods[i]]];
        for (int32_t g = c->pod_group[pods[i]]; g >= 0 && c->group_parent[g] >= 0;
             g = c->group_parent[g]) {
            int32_t j = 0;
            while (j < m && v[j].group != g)
                j++;
            if (j == m) {
                if (m == cap)
                    break; /* cannot happen: at most one entry per group */
                v[m++] = (sub_t){g, 0, -1, false};
            }
            if (node < 0)
                continue;
            v[j].placed++;
            if (v[j].first < 0)
                v[j].first = node;
            else if (c->group_topo_mode[g] == SS_TOPO_MODE_REQUIRED &&
                     !same_domain(c, v[j].first, node, c->group_topo_level[g]))
                v[j].split = true;
        }
    }
    int ok = 1;
    for (int32_t j = 0; j < m && ok; j++)
        ok = !v[j].split && v[j].placed >= c->group_min_member[v[j].group];
    free(v);
    return ok;
}
