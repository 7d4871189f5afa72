/* ss_kube_levels: the topology levels of an import (docs/gangs-and-topology.md
 * "Topology levels"): every node label key a group's topology names becomes a
 * level, beside the five legacy ones; at the end the engine orders them
 * coarse to fine and fills the nodes' values (ss_cluster_set_levels). */
#include "ss_kube_internal.h"

#include <string.h>

static int legacy_init(kctx_t *k, ss_error_t *err)
{
    const char *keys[SS_TOPO_LEGACY_LEVELS] = {SS_KUBE_REGION_LABEL, SS_KUBE_ZONE_LABEL,
                                               k->o->block_label, k->o->rack_label,
                                               SS_KUBE_HOSTNAME_LABEL};
    k->n_level_keys = 0;
    for (int l = 0; l < SS_TOPO_LEGACY_LEVELS; l++) {
        const char *key = keys[l]  ? keys[l]
                          : l == 2 ? SS_KUBE_DEFAULT_BLOCK_LABEL
                                   : SS_KUBE_DEFAULT_RACK_LABEL;
        int32_t id = kstr_id(k, key, err);
        if (id < 0)
            return SS_ENOMEM;
        bool seen = false; /* --block-label naming the zone label, say */
        for (int j = 0; j < k->n_level_keys; j++)
            seen |= k->level_keys[j] == id;
        if (!seen)
            k->level_keys[k->n_level_keys++] = id;
    }
    return 0;
}

int kube_level(kctx_t *k, const char *key, ss_error_t *err)
{
    int rc;
    if (k->n_level_keys == 0 && (rc = legacy_init(k, err)) < 0)
        return rc;
    for (int j = 0; j < k->n_level_keys; j++)
        if (!strcmp(ss_cluster_strget(k->c, k->level_keys[j]), key))
            return j;
    if (k->n_level_keys == SS_TOPO_MAX_LEVELS)
        return ss_error_set(err, SS_ERANGE,
                            "topology level '%.80s': the cluster already has %d levels (at most "
                            "%d, Kueue's limit)",
                            key, SS_TOPO_MAX_LEVELS, SS_TOPO_MAX_LEVELS);
    int32_t id = kstr_id(k, key, err);
    if (id < 0)
        return SS_ENOMEM;
    k->level_keys[k->n_level_keys] = id;
    return k->n_level_keys++;
}

int kube_set_levels(kctx_t *k, ss_error_t *err)
{
    int rc;
    if (k->n_level_keys == 0 && (rc = legacy_init(k, err)) < 0)
        return rc;
    uint8_t nests[SS_TOPO_MAX_LEVELS];
    if ((rc = ss_cluster_set_levels(k->c, k->level_keys, k->n_level_keys, nests, err)) < 0)
        return ss_error_prefix(err, rc, "topology levels");
    for (int j = SS_TOPO_LEGACY_LEVELS; j < k->n_level_keys; j++)
        if (!nests[j])
            fprintf(stderr,
                    "shardsched import: warning: topology level '%s' does not nest in the "
                    "coarser levels (a value under two coarser domains): its domains are split "
                    "by the coarser ones\n",
                    ss_cluster_strget(k->c, k->level_keys[j]));
    return 0;
}
