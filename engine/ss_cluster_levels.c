/* ss_cluster_levels: the topology levels named by node label keys (format
 * version 6, docs/gangs-and-topology.md "Topology levels"): ordering the
 * keys coarse to fine, filling each node's level values from its labels and
 * the nesting check. Kept apart from ss_cluster.c's builders. */
#include "ss_cluster.h"

#include <stdlib.h>
#include <string.h>

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Number of distinct values of v[0..n) (sorts tmp). */
static int32_t distinct(const uint64_t *v, uint64_t *tmp, int32_t n)
{
    memcpy(tmp, v, (size_t)n * sizeof *tmp);
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_u64);
    int32_t d = 0;
    for (int32_t i = 0; i < n; i++)
        d += i == 0 || tmp[i] != tmp[i - 1];
    return d;
}

/* The value of label key on node i, 0 ("") when the node lacks it. */
static int32_t node_value(const ss_cluster_t *c, int32_t i, int32_t key)
{
    const ss_label_t *l = c->labels + c->node_label_begin[i];
    for (int32_t k = 0; k < c->node_label_count[i]; k++)
        if (l[k].key == key)
            return l[k].value;
    return 0;
}

/* True when every value of a (over the nodes) comes with one value of b:
 * a's domains nest in b's. */
static bool nests_in(const uint64_t *a, const uint64_t *b, uint64_t *tmp, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        tmp[i] = (a[i] << 32) | (uint32_t)b[i];
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_u64);
    for (int32_t i = 1; i < n; i++)
        if ((tmp[i] >> 32) == (tmp[i - 1] >> 32) && tmp[i] != tmp[i - 1])
            return false;
    return true;
}

/* path[i] becomes a dense id of (path[i], value[i]); returns the count. */
static int32_t extend_paths(uint32_t *path, const uint64_t *val, uint64_t *tmp, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        tmp[i] = ((uint64_t)path[i] << 32) | (uint32_t)val[i];
    uint64_t *sorted = tmp + n;
    memcpy(sorted, tmp, (size_t)n * sizeof *tmp);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_u64);
    int32_t d = 0;
    for (int32_t i = 0; i < n; i++)
        if (i == 0 || sorted[i] != sorted[i - 1])
            sorted[d++] = sorted[i];
    for (int32_t i = 0; i < n; i++) {
        const uint64_t *hit = bsearch(&tmp[i], sorted, (size_t)d, sizeof *sorted, cmp_u64);
        path[i] = (uint32_t)(hit - sorted);
    }
    return d;
}

static int check_keys(const ss_cluster_t *c, const int32_t *keys, int n, int *host,
                      ss_error_t *err)
{
    if (n < 1 || n > SS_TOPO_MAX_LEVELS)
        return ss_error_set(err, SS_EINVAL, "%d topology levels: between 1 and %d allowed", n,
                            SS_TOPO_MAX_LEVELS);
    *host = -1;
    for (int i = 0; i < n; i++) {
        const char *k = ss_cluster_strget(c, keys[i]);
        if (!strcmp(k, SS_TOPO_HOSTNAME_KEY))
            *host = i;
        for (int j = 0; j < i; j++)
            if (keys[j] == keys[i])
                return ss_error_set(err, SS_EINVAL, "topology level '%.80s' named twice", k);
    }
    if (*host < 0)
        return ss_error_set(err, SS_EINVAL, "topology levels lack %s", SS_TOPO_HOSTNAME_KEY);
    return 0;
}

int ss_cluster_set_levels(ss_cluster_t *c, const int32_t *keys, int n, uint8_t *nests,
                          ss_error_t *err)
{
    int host = -1, rc = check_keys(c, keys, n, &host, err);
    if (rc < 0)
        return rc;
    int32_t nn = c->n_nodes, cnt[SS_TOPO_MAX_LEVELS];
    size_t rows = (size_t)(nn > 0 ? nn : 1);
    uint64_t *val = malloc(rows * (size_t)n * sizeof *val), *tmp = malloc(rows * 2 * sizeof *tmp);
    uint32_t *path = calloc(rows, sizeof *path);
    if (!val || !tmp || !path) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory ordering %d topology levels", n);
        goto done;
    }
    for (int k = 0; k < n; k++) {
        for (int32_t i = 0; i < nn; i++)
            val[(size_t)k * rows + i] =
                (uint32_t)(k == host ? c->node_name[i] : node_value(c, i, keys[k]));
        cnt[k] = distinct(val + (size_t)k * rows, tmp, nn);
    }
    /* Order: keys in the order given, each one placed before the first key
     * already placed that is strictly finer (its domains nest in the new
     * key's and are more); the hostname last. */
    int order[SS_TOPO_MAX_LEVELS], m = 0, newidx[SS_TOPO_MAX_LEVELS];
    for (int k = 0; k < n; k++) {
        if (k == host)
            continue;
        int at = m;
        for (int j = 0; j < m && at == m && cnt[k] > 1; j++)
            if (cnt[order[j]] > cnt[k] &&
                nests_in(val + (size_t)order[j] * rows, val + (size_t)k * rows, tmp, nn))
                at = j;
        for (int j = m; j > at; j--)
            order[j] = order[j - 1];
        order[at] = k;
        m++;
    }
    order[m++] = host;
    c->n_levels = n;
    for (int l = 0; l < n; l++) {
        int k = order[l];
        newidx[k] = l;
        c->level_key[l] = keys[k];
        const uint64_t *v = val + (size_t)k * rows;
        for (int32_t i = 0; i < nn; i++)
            c->node_topo[(size_t)i * SS_TOPO_STRIDE + l] = (int32_t)v[i];
        int32_t paths = extend_paths(path, v, tmp, nn);
        if (nests)
            nests[k] = paths == cnt[k];
    }
    for (int32_t i = 0; i < nn; i++)
        for (int l = n; l < SS_TOPO_STRIDE; l++)
            c->node_topo[(size_t)i * SS_TOPO_STRIDE + l] = 0;
    for (int32_t g = 0; g < c->n_groups; g++) {
        int32_t lv = c->group_topo_level[g];
        c->group_topo_level[g] = lv >= 0 && lv < n ? newidx[lv] : n - 1;
    }
done:
    free(val);
    free(tmp);
    free(path);
    return rc;
}
