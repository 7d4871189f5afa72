/* ss_volume: nodes used against the volume lower bound (see ss_volume.h). */
#include "ss_volume.h"

#include <stdlib.h>
#include <string.h>

#define NFIXED 4 /* cpu, memory, GPU, pods; then the extended resources */

static int cmp_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Capacity of node n in resource r. */
static int64_t capacity(const ss_cluster_t *c, int32_t n, int r)
{
    if (r == 0)
        return c->node_cpu[n];
    if (r == 1)
        return c->node_mem[n];
    if (r == 3)
        return c->node_pods[n];
    if (r > 3)
        return c->node_ext[(size_t)n * SS_MAX_EXT + (r - NFIXED)];
    int64_t g = 0;
    for (int32_t i = 0; i < c->node_gpu_count[n]; i++)
        g += c->gpu_milli[c->node_gpu_begin[n] + i];
    return g;
}

/* Request of one pod of template t in resource r. */
static int64_t request(const ss_template_t *t, int r)
{
    if (r == 0)
        return t->req.cpu_milli;
    if (r == 1)
        return t->req.memory;
    if (r == 3)
        return 1;
    if (r > 3)
        return t->req.ext[r - NFIXED];
    return (int64_t)t->req.gpu_count * t->req.gpu_milli;
}

/* The fewest of the n capacities in cap (sorted here, largest first) that
 * add up to need; n + 1 when even all of them do not. */
static int32_t fewest(int64_t *cap, int32_t n, int64_t need)
{
    qsort(cap, (size_t)n, sizeof *cap, cmp_desc);
    int64_t sum = 0;
    int32_t k = 0;
    while (sum < need && k < n)
        sum += cap[k++];
    return sum >= need ? k : n + 1;
}

int ss_volume_bound(const ss_cluster_t *c, const ss_placements_t *p, ss_volume_t *out,
                    ss_error_t *err)
{
    memset(out, 0, sizeof *out);
    int nres = NFIXED + c->n_ext, rc = 0;
    uint8_t *busy = calloc((size_t)c->n_nodes + 1, 1), *hit = calloc((size_t)c->n_nodes + 1, 1);
    int64_t *cap = malloc(((size_t)c->n_nodes + 1) * sizeof *cap);
    int64_t need[NFIXED + SS_MAX_EXT] = {0};
    if (!busy || !hit || !cap) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory for the volume bound");
        goto out;
    }
    for (int32_t i = 0; i < c->n_pods; i++)
        if (c->pod_node[i] >= 0 && c->pod_node[i] < c->n_nodes)
            busy[c->pod_node[i]] = 1;
    for (int32_t row = 0; row < p->n; row++) {
        int32_t pod = p->pod[row], n = p->node[row];
        if (pod < 0 || pod >= c->n_pods || c->pod_node[pod] >= 0 || n < 0 || n >= c->n_nodes ||
            busy[n])
            continue;
        const ss_template_t *t = &c->templates[c->pod_template[pod]];
        out->used += !hit[n];
        hit[n] = 1;
        for (int r = 0; r < nres; r++)
            need[r] += request(t, r);
    }
    for (int r = 0; r < nres; r++) {
        int32_t m = 0;
        for (int32_t n = 0; n < c->n_nodes; n++)
            if (!busy[n])
                cap[m++] = capacity(c, n, r);
        out->empty_nodes = m;
        int32_t k = fewest(cap, m, need[r]);
        if (k > out->bound) {
            out->bound = k;
            out->bound_res = r;
        }
    }
out:
    free(busy);
    free(hit);
    free(cap);
    return rc;
}

const char *ss_volume_res_name(const ss_cluster_t *c, int32_t res)
{
    static const char *fixed[NFIXED] = {"cpu", "memory", "gpu", "pods"};
    if (res >= 0 && res < NFIXED)
        return fixed[res];
    if (res >= NFIXED && res < NFIXED + c->n_ext)
        return ss_cluster_strget(c, c->ext_name[res - NFIXED]);
    return "unknown";
}
