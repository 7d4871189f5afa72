/* ss_summary: the run summary of the independent verifier (see ss_summary.h).
 * Plain loops over pods, placement rows, nodes and GPUs; nothing here calls
 * the engine's state or matching code. */
#include "ss_summary.h"

#include "ss_mig.h"

#include <stdlib.h>
#include <string.h>

int32_t ss_summary_row_pod(const ss_cluster_t *c, const ss_placements_t *p, int32_t row)
{
    int32_t pod = p->pod[row];
    if (pod < 0 || pod >= c->n_pods || c->pod_node[pod] != -1)
        return -1;
    return pod;
}

int ss_summary_topo_common(const ss_cluster_t *c, int32_t a, int32_t b)
{
    const int32_t *ta = &c->node_topo[(size_t)a * SS_TOPO_STRIDE];
    const int32_t *tb = &c->node_topo[(size_t)b * SS_TOPO_STRIDE];
    int l = 0;
    while (l < c->n_levels && ta[l] == tb[l])
        l++;
    return l;
}

/* ---- usage ---- */

void ss_usage_free(ss_usage_t *u)
{
    for (int k = 0; k < 2; k++) {
        free(u->cpu[k]);
        free(u->mem[k]);
        free(u->pods[k]);
        free(u->ext[k]);
        free(u->gpu[k]);
        free(u->mig[k]);
    }
    memset(u, 0, sizeof *u);
}

static void usage_add(ss_usage_t *u, int k, const ss_cluster_t *c, int32_t pod, int32_t node,
                      uint64_t mask)
{
    const ss_request_t *r = &c->templates[c->pod_template[pod]].req;
    /* saturating: the sums of what the format allows do not fit in int64 */
    u->cpu[k][node] = ss_sat_add64(u->cpu[k][node], r->cpu_milli);
    u->mem[k][node] = ss_sat_add64(u->mem[k][node], r->memory);
    u->pods[k][node] = ss_sat_add32(u->pods[k][node], 1);
    for (int e = 0; e < c->n_ext; e++) {
        int64_t *x = &u->ext[k][(size_t)node * SS_MAX_EXT + e];
        *x = ss_sat_add64(*x, r->ext[e]);
    }
    if (c->templates[c->pod_template[pod]].mig_count > 0) { /* mask: MIG instances */
        u->mig[k][node] |= mask;
        return;
    }
    int32_t ng = c->node_gpu_count[node], gb = c->node_gpu_begin[node];
    for (int32_t b = 0; b < ng && b < 64; b++)
        if (mask >> b & 1)
            u->gpu[k][gb + b] = ss_sat_add32(u->gpu[k][gb + b], r->gpu_milli);
}

int ss_usage_compute(const ss_cluster_t *c, const ss_placements_t *p, ss_usage_t *u,
                     ss_error_t *err)
{
    memset(u, 0, sizeof *u);
    size_t nn = c->n_nodes > 0 ? (size_t)c->n_nodes : 1;
    size_t ng = c->n_gpus > 0 ? (size_t)c->n_gpus : 1;
    for (int k = 0; k < 2; k++) {
        u->cpu[k] = calloc(nn, sizeof(int64_t));
        u->mem[k] = calloc(nn, sizeof(int64_t));
        u->pods[k] = calloc(nn, sizeof(int32_t));
        u->ext[k] = calloc(nn * SS_MAX_EXT, sizeof(int64_t));
        u->gpu[k] = calloc(ng, sizeof(int32_t));
        u->mig[k] = calloc(nn, sizeof(uint64_t));
        if (!u->cpu[k] || !u->mem[k] || !u->pods[k] || !u->ext[k] || !u->gpu[k] || !u->mig[k]) {
            ss_usage_free(u);
            return ss_error_set(err, SS_ENOMEM, "verify: out of memory for %d nodes", c->n_nodes);
        }
    }
    for (int32_t pod = 0; pod < c->n_pods; pod++)
        if (c->pod_node[pod] >= 0 && c->pod_node[pod] < c->n_nodes)
            usage_add(u, 0, c, pod, c->pod_node[pod], c->pod_gpu_mask[pod]);
    for (int32_t row = 0; row < p->n; row++) {
        int32_t pod = ss_summary_row_pod(c, p, row), node = p->node[row];
        if (pod >= 0 && node >= 0 && node < c->n_nodes)
            usage_add(u, 1, c, pod, node, p->gpu_mask[row]);
    }
    return 0;
}

/* ---- summary ---- */

void ss_summary_free(ss_summary_t *s)
{
    free(s->zones);
    memset(s, 0, sizeof *s);
}

static void count_rows(const ss_cluster_t *c, const ss_placements_t *p, ss_summary_t *s)
{
    for (int32_t pod = 0; pod < c->n_pods; pod++)
        s->pending += c->pod_node[pod] == -1;
    for (int32_t row = 0; row < p->n; row++) {
        if (ss_summary_row_pod(c, p, row) < 0)
            continue;
        int32_t node = p->node[row], why = p->reason[row];
        if (node >= 0 && node < c->n_nodes)
            s->placed++;
        else if (why >= 0 && why < SS_REASON_COUNT)
            s->unsched[why]++;
        else
            s->unsched_bad_reason++;
    }
}

/* Node n's GPUs in MIG mode: instances, held ones, unused slices. */
static void count_mig(const ss_cluster_t *c, const ss_usage_t *u, int32_t n, ss_summary_t *s)
{
    uint64_t held = u->mig[0][n] | u->mig[1][n];
    int32_t idx = 0;
    for (int32_t g = c->node_gpu_begin[n]; g < c->node_gpu_begin[n] + c->node_gpu_count[n]; g++) {
        if (!c->gpu_mig_model[g])
            continue;
        const ss_mig_model_t *m =
            ss_mig_model(ss_mig_find_model(ss_cluster_strget(c, c->gpu_mig_model[g])));
        int compute = SS_MIG_COMPUTE_SLICES, mem = SS_MIG_MEM_SLICES;
        for (int32_t j = 0; j < c->gpu_mig_count[g]; j++, idx++) {
            s->mig_insts++;
            if (idx >= 64 || !(held >> idx & 1))
                continue;
            s->mig_held++;
            int p = m ? ss_mig_find_profile(
                            m, ss_cluster_strget(c, c->mig_insts[c->gpu_mig_begin[g] + j].profile))
                      : -1;
            if (p >= 0) {
                compute -= m->profiles[p].compute;
                mem -= m->profiles[p].mem;
            }
        }
        s->mig_gpus++;
        s->mig_unused_compute += compute;
        s->mig_unused_mem += mem;
    }
}

static void count_resources(const ss_cluster_t *c, const ss_usage_t *u, ss_summary_t *s)
{
    for (int32_t n = 0; n < c->n_nodes; n++) {
        int64_t cap[SS_RES_COUNT] = {c->node_cpu[n], c->node_mem[n], 0, c->node_pods[n]};
        int64_t run[SS_RES_COUNT] = {u->cpu[0][n], u->mem[0][n], 0, u->pods[0][n]};
        int64_t put[SS_RES_COUNT] = {u->cpu[1][n], u->mem[1][n], 0, u->pods[1][n]};
        count_mig(c, u, n, s);
        for (int32_t g = c->node_gpu_begin[n]; g < c->node_gpu_begin[n] + c->node_gpu_count[n];
             g++) {
            if (c->gpu_mig_model[g])
                continue;                       /* its units are instances: count_mig */
            cap[SS_RES_GPU] += c->gpu_milli[g]; /* <= 64 x 1000 per node */
            run[SS_RES_GPU] += u->gpu[0][g];    /* int32 each: no int64 overflow */
            put[SS_RES_GPU] += u->gpu[1][g];
            int64_t free_milli = (int64_t)c->gpu_milli[g] - u->gpu[0][g] - u->gpu[1][g];
            s->free_gpu_milli = ss_sat_add64(s->free_gpu_milli, free_milli > 0 ? free_milli : 0);
        }
        for (int r = 0; r < SS_RES_COUNT; r++) {
            s->res[r].capacity = ss_sat_add64(s->res[r].capacity, cap[r]);
            s->res[r].before = ss_sat_add64(s->res[r].before, run[r]);
            s->res[r].after = ss_sat_add64(s->res[r].after, ss_sat_add64(run[r], put[r]));
        }
    }
}

static int count_zones(const ss_cluster_t *c, const ss_usage_t *u, ss_summary_t *s, ss_error_t *err)
{
    int zl = ss_cluster_zone_level(c);
    int32_t cap = 0, cur = -1, prev_id = -1;
    for (int32_t n = 0; n < c->n_nodes; n++) {
        int32_t id = zl < 0 ? 0 : c->node_topo[(size_t)n * SS_TOPO_STRIDE + zl];
        if (n == 0 || id != prev_id) {
            for (cur = 0; cur < s->n_zones; cur++)
                if (s->zones[cur].id == id)
                    break;
            if (cur == s->n_zones) {
                if (s->n_zones == cap) {
                    cap = cap ? 2 * cap : 8;
                    ss_zone_use_t *z = realloc(s->zones, (size_t)cap * sizeof *z);
                    if (!z)
                        return ss_error_set(err, SS_ENOMEM, "verify: out of memory for zones");
                    s->zones = z;
                }
                memset(&s->zones[cur], 0, sizeof s->zones[cur]);
                snprintf(s->zones[cur].name, sizeof s->zones[cur].name, "%s",
                         ss_cluster_strget(c, id));
                s->zones[cur].id = id;
                s->n_zones++;
            }
            prev_id = id;
        }
        ss_zone_use_t *z = &s->zones[cur];
        z->nodes++;
        z->cpu_capacity = ss_sat_add64(z->cpu_capacity, c->node_cpu[n]);
        z->cpu_after = ss_sat_add64(z->cpu_after, ss_sat_add64(u->cpu[0][n], u->cpu[1][n]));
        for (int32_t g = c->node_gpu_begin[n]; g < c->node_gpu_begin[n] + c->node_gpu_count[n];
             g++) {
            z->gpu_capacity += c->gpu_milli[g];
            z->gpu_after = ss_sat_add64(z->gpu_after, (int64_t)u->gpu[0][g] + u->gpu[1][g]);
        }
    }
    return 0;
}

/* Gangs: per group with pending members, how many were placed, and the
 * deepest topology level all placed members share (via the first one). */
static int count_gangs(const ss_cluster_t *c, const ss_placements_t *p, ss_summary_t *s,
                       ss_error_t *err)
{
    size_t ng = c->n_groups > 0 ? (size_t)c->n_groups : 1;
    int32_t *pending = calloc(ng, sizeof *pending), *placed = calloc(ng, sizeof *placed);
    int32_t *first = malloc(ng * sizeof *first), *common = malloc(ng * sizeof *common);
    if (!pending || !placed || !first || !common) {
        free(pending), free(placed), free(first), free(common);
        return ss_error_set(err, SS_ENOMEM, "verify: out of memory for %d groups", c->n_groups);
    }
    for (int32_t row = 0; row < p->n; row++) {
        int32_t pod = ss_summary_row_pod(c, p, row), node = p->node[row];
        if (pod < 0 || c->pod_group[pod] < 0 || c->pod_group[pod] >= c->n_groups)
            continue;
        int32_t g = c->pod_group[pod];
        pending[g]++;
        if (node < 0 || node >= c->n_nodes)
            continue;
        if (placed[g]++ == 0) {
            first[g] = node;
            common[g] = c->n_levels;
        } else {
            int l = ss_summary_topo_common(c, first[g], node);
            common[g] = l < common[g] ? l : common[g];
        }
    }
    for (int32_t g = 0; g < c->n_groups; g++) {
        if (!pending[g])
            continue;
        s->gangs++;
        if (!placed[g]) {
            s->gangs_rejected++;
            continue;
        }
        s->gangs_placed++;
        for (int l = 0; l < common[g]; l++)
            s->gangs_in_one[l]++;
    }
    free(pending), free(placed), free(first), free(common);
    return 0;
}

/* A GPU request shape: k GPUs of m milli each, plus cpu, memory, ext. */
typedef struct {
    int64_t cpu, mem;
    int32_t k, m;
    int64_t ext[SS_MAX_EXT];
} shape_t;

static int shape_cmp(const void *pa, const void *pb)
{
    const shape_t *a = pa, *b = pb;
    if (a->k != b->k)
        return a->k < b->k ? -1 : 1;
    if (a->m != b->m)
        return a->m < b->m ? -1 : 1;
    if (a->cpu != b->cpu)
        return a->cpu < b->cpu ? -1 : 1;
    if (a->mem != b->mem)
        return a->mem < b->mem ? -1 : 1;
    for (int e = 0; e < SS_MAX_EXT; e++)
        if (a->ext[e] != b->ext[e])
            return a->ext[e] < b->ext[e] ? -1 : 1;
    return 0;
}

/* True iff a asks no more than b in every component (so b fitting implies
 * a fitting). */
static bool shape_le(const shape_t *a, const shape_t *b)
{
    if (a->k > b->k || a->m > b->m || a->cpu > b->cpu || a->mem > b->mem)
        return false;
    for (int e = 0; e < SS_MAX_EXT; e++)
        if (a->ext[e] > b->ext[e])
            return false;
    return true;
}

/* Collects the distinct, Pareto-minimal GPU shapes of pending pods' templates
 * into *out (caller frees). Returns the count, or -1 when out of memory. */
static int32_t collect_shapes(const ss_cluster_t *c, shape_t **out)
{
    size_t nt = c->n_templates > 0 ? (size_t)c->n_templates : 1;
    uint8_t *used = calloc(nt, 1);
    shape_t *sh = malloc(nt * sizeof *sh);
    if (!used || !sh) {
        free(used), free(sh);
        return -1;
    }
    for (int32_t pod = 0; pod < c->n_pods; pod++)
        if (c->pod_node[pod] == -1)
            used[c->pod_template[pod]] = 1;
    int32_t n = 0;
    for (int32_t t = 0; t < c->n_templates; t++) {
        const ss_request_t *r = &c->templates[t].req;
        if (!used[t] || r->gpu_count <= 0)
            continue;
        shape_t s = {r->cpu_milli, r->memory, r->gpu_count, r->gpu_milli, {0}};
        for (int e = 0; e < c->n_ext; e++)
            s.ext[e] = r->ext[e];
        sh[n++] = s;
    }
    free(used);
    qsort(sh, (size_t)n, sizeof *sh, shape_cmp);
    int32_t u = 0;
    for (int32_t i = 0; i < n; i++)
        if (u == 0 || shape_cmp(&sh[u - 1], &sh[i]) != 0)
            sh[u++] = sh[i];
    int32_t m = 0; /* keep shapes that no other (distinct) shape is <= */
    for (int32_t i = 0; i < u; i++) {
        bool dominated = false;
        for (int32_t j = 0; j < u && !dominated; j++)
            dominated = j != i && shape_le(&sh[j], &sh[i]);
        if (!dominated)
            sh[m++] = sh[i];
    }
    *out = sh;
    return m;
}

static bool shape_fits(const ss_cluster_t *c, const ss_usage_t *u, int32_t n, const shape_t *s)
{
    if (u->pods[0][n] + u->pods[1][n] + 1 > c->node_pods[n])
        return false;
    if (s->cpu > 0 && s->cpu > c->node_cpu[n] - u->cpu[0][n] - u->cpu[1][n])
        return false;
    if (s->mem > 0 && s->mem > c->node_mem[n] - u->mem[0][n] - u->mem[1][n])
        return false;
    for (int e = 0; e < c->n_ext; e++) {
        size_t x = (size_t)n * SS_MAX_EXT + e;
        if (s->ext[e] > 0 && s->ext[e] > c->node_ext[x] - u->ext[0][x] - u->ext[1][x])
            return false;
    }
    int32_t ok = 0;
    for (int32_t g = c->node_gpu_begin[n]; g < c->node_gpu_begin[n] + c->node_gpu_count[n]; g++)
        ok += c->gpu_milli[g] - u->gpu[0][g] - u->gpu[1][g] >= s->m;
    return ok >= s->k;
}

static int count_stranded(const ss_cluster_t *c, const ss_usage_t *u, ss_summary_t *s,
                          ss_error_t *err)
{
    shape_t *sh = NULL;
    int32_t ns = collect_shapes(c, &sh);
    if (ns < 0)
        return ss_error_set(err, SS_ENOMEM, "verify: out of memory for GPU shapes");
    s->gpu_shapes = ns;
    for (int32_t n = 0; n < c->n_nodes; n++) {
        int64_t free_milli = 0;
        for (int32_t g = c->node_gpu_begin[n]; g < c->node_gpu_begin[n] + c->node_gpu_count[n];
             g++) {
            if (c->gpu_mig_model[g])
                continue; /* MIG: counted in slices */
            int64_t f = (int64_t)c->gpu_milli[g] - u->gpu[0][g] - u->gpu[1][g];
            free_milli += f > 0 ? f : 0;
        }
        if (free_milli == 0)
            continue;
        bool fits = false;
        for (int32_t i = 0; i < ns && !fits; i++)
            fits = shape_fits(c, u, n, &sh[i]);
        if (!fits) {
            s->stranded_gpu_milli += free_milli;
            s->stranded_nodes++;
        }
    }
    free(sh);
    return 0;
}

typedef struct {
    int32_t workload, ns, zone;
} wz_t;

static int cmp_wz(const void *a, const void *b)
{
    const wz_t *x = a, *y = b;
    if (x->workload != y->workload)
        return x->workload < y->workload ? -1 : 1;
    if (x->ns != y->ns)
        return x->ns < y->ns ? -1 : 1;
    return (x->zone > y->zone) - (x->zone < y->zone);
}

/* Same-workload pod pairs, and those across zones (see ss_summary_t). */
static int count_workload_pairs(const ss_cluster_t *c, const ss_placements_t *p, ss_summary_t *s,
                                ss_error_t *err)
{
    int32_t key = ss_strtab_find(c->strings, "topology.kubernetes.io/zone");
    wz_t *v = malloc(((size_t)c->n_pods + 1) * sizeof *v);
    if (!v)
        return ss_error_set(err, SS_ENOMEM, "out of memory counting workload pairs");
    int64_t n = 0;
    for (int32_t i = 0; i < c->n_pods + p->n; i++) {
        int32_t pod = i < c->n_pods ? i : p->pod[i - c->n_pods];
        int32_t node = i < c->n_pods ? c->pod_node[i] : p->node[i - c->n_pods];
        int32_t w = c->templates[c->pod_template[pod]].workload;
        if (node < 0 || node >= c->n_nodes || w <= 0 || (i < c->n_pods && c->pod_node[i] < 0))
            continue;
        int32_t zone = -1 - node; /* no label: a zone of its own */
        for (int32_t l = 0; l < c->node_label_count[node]; l++)
            if (c->labels[c->node_label_begin[node] + l].key == key)
                zone = c->labels[c->node_label_begin[node] + l].value;
        v[n++] = (wz_t){w, c->pod_ns[pod], zone};
    }
    qsort(v, (size_t)n, sizeof *v, cmp_wz);
    for (int64_t i = 0; i < n;) {
        int64_t j = i, same = 0;
        while (j < n && v[j].workload == v[i].workload && v[j].ns == v[i].ns) {
            int64_t k = j;
            while (k < n && cmp_wz(&v[k], &v[j]) == 0)
                k++;
            same += (k - j) * (k - j - 1) / 2;
            j = k;
        }
        int64_t all = (j - i) * (j - i - 1) / 2;
        s->workload_pairs += all;
        s->workload_pairs_cross += all - same;
        i = j;
    }
    free(v);
    return 0;
}

int ss_summary_compute(const ss_cluster_t *c, const ss_placements_t *p, const ss_usage_t *u,
                       ss_summary_t *s, ss_error_t *err)
{
    memset(s, 0, sizeof *s);
    count_rows(c, p, s);
    count_resources(c, u, s);
    int rc;
    s->n_levels = c->n_levels;
    s->legacy_levels = c->n_levels == SS_TOPO_LEGACY_LEVELS &&
                       !strcmp(ss_topo_level_name(c, SS_TOPO_RACK), "rack");
    for (int l = 0; l < c->n_levels; l++)
        s->level_name[l] = ss_topo_level_name(c, l);
    if ((rc = count_zones(c, u, s, err)) < 0 || (rc = count_gangs(c, p, s, err)) < 0 ||
        (rc = count_stranded(c, u, s, err)) < 0 || (rc = count_workload_pairs(c, p, s, err)) < 0) {
        ss_summary_free(s);
        return rc;
    }
    return 0;
}

/* ---- printing ---- */

static double pct(int64_t part, int64_t whole)
{
    return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

static void print_resources(FILE *f, const ss_summary_t *s)
{
    static const char *names[SS_RES_COUNT] = {"cpu", "memory", "gpu", "pods"};
    fprintf(f, "utilisation        before     after   capacity\n");
    for (int r = 0; r < SS_RES_COUNT; r++) {
        const ss_res_use_t *u = &s->res[r];
        char cap[32];
        if (r == SS_RES_CPU)
            snprintf(cap, sizeof cap, "%.1f cores", (double)u->capacity / 1000.0);
        else if (r == SS_RES_MEMORY)
            snprintf(cap, sizeof cap, "%.1f GiB", (double)u->capacity / (1024.0 * 1024 * 1024));
        else if (r == SS_RES_GPU)
            snprintf(cap, sizeof cap, "%.1f GPUs", (double)u->capacity / SS_GPU_MILLI);
        else
            snprintf(cap, sizeof cap, "%lld pods", (long long)u->capacity);
        fprintf(f, "  %-14s %6.1f%%   %6.1f%%   %s\n", names[r], pct(u->before, u->capacity),
                pct(u->after, u->capacity), cap);
    }
}

static void print_zones(FILE *f, const ss_summary_t *s)
{
    enum { MAX_ZONES_SHOWN = 32 };
    fprintf(f, "per zone (after)    nodes      cpu      gpu\n");
    for (int32_t z = 0; z < s->n_zones && z < MAX_ZONES_SHOWN; z++) {
        const ss_zone_use_t *u = &s->zones[z];
        char gpu[16] = "-";
        if (u->gpu_capacity > 0)
            snprintf(gpu, sizeof gpu, "%.1f%%", pct(u->gpu_after, u->gpu_capacity));
        fprintf(f, "  %-16.16s %7d   %5.1f%%   %6s\n", u->name, u->nodes,
                pct(u->cpu_after, u->cpu_capacity), gpu);
    }
    if (s->n_zones > MAX_ZONES_SHOWN)
        fprintf(f, "  ... and %d more zones\n", s->n_zones - MAX_ZONES_SHOWN);
}

void ss_summary_print(FILE *f, const ss_summary_t *s)
{
    int64_t unsched = s->unsched_bad_reason;
    for (int r = 0; r < SS_REASON_COUNT; r++)
        unsched += s->unsched[r];
    fprintf(f, "pending pods: %lld   placed: %lld (%.1f%%)   unschedulable: %lld\n",
            (long long)s->pending, (long long)s->placed, pct(s->placed, s->pending),
            (long long)unsched);
    for (int r = 0; r < SS_REASON_COUNT; r++)
        if (s->unsched[r])
            fprintf(f, "  %-48s %lld\n", ss_reason_text(r), (long long)s->unsched[r]);
    if (s->unsched_bad_reason)
        fprintf(f, "  %-48s %lld\n", "unknown reason code", (long long)s->unsched_bad_reason);
    print_resources(f, s);
    print_zones(f, s);
    fprintf(f, "workload pod pairs across zones: %lld of %lld (%.1f%%)\n",
            (long long)s->workload_pairs_cross, (long long)s->workload_pairs,
            pct(s->workload_pairs_cross, s->workload_pairs));
    fprintf(f, "gangs: %lld with pending members, %lld placed, %lld rejected\n",
            (long long)s->gangs, (long long)s->gangs_placed, (long long)s->gangs_rejected);
    if (s->gangs_placed > 0 && s->legacy_levels)
        fprintf(f, "  placed gangs within one rack %.1f%%, one block %.1f%%, one zone %.1f%%\n",
                pct(s->gangs_in_one[SS_TOPO_RACK], s->gangs_placed),
                pct(s->gangs_in_one[SS_TOPO_BLOCK], s->gangs_placed),
                pct(s->gangs_in_one[SS_TOPO_ZONE], s->gangs_placed));
    else if (s->gangs_placed > 0) {
        fprintf(f, "  placed gangs within one");
        for (int l = s->n_levels - 2; l >= 0; l--)
            fprintf(f, "%s %s %.1f%%", l == s->n_levels - 2 ? "" : ",", s->level_name[l],
                    pct(s->gangs_in_one[l], s->gangs_placed));
        fprintf(f, "\n");
    }
    fprintf(f,
            "GPUs: %.1f free after the run, %.1f stranded on %d nodes "
            "(no pending GPU request shape fits; %d shapes)\n",
            (double)s->free_gpu_milli / SS_GPU_MILLI, (double)s->stranded_gpu_milli / SS_GPU_MILLI,
            s->stranded_nodes, s->gpu_shapes);
    if (s->mig_gpus > 0)
        fprintf(f,
                "MIG: %d GPUs in MIG mode, %lld instances (%lld held after the run); unused "
                "slices %lld of %lld compute, %lld of %lld memory\n",
                s->mig_gpus, (long long)s->mig_insts, (long long)s->mig_held,
                (long long)s->mig_unused_compute, (long long)s->mig_gpus * SS_MIG_COMPUTE_SLICES,
                (long long)s->mig_unused_mem, (long long)s->mig_gpus * SS_MIG_MEM_SLICES);
}

/* ---- the inter-pod rules a snapshot holds (inspect) ---- */

void ss_rule_counts(const ss_cluster_t *c, ss_rule_counts_t *r)
{
    memset(r, 0, sizeof *r);
    r->spreads = c->n_spreads;
    for (int32_t i = 0; i < c->n_spreads; i++)
        r->spreads_hard += c->spreads[i].when == SS_WHEN_DO_NOT_SCHEDULE;
    for (int32_t i = 0; i < c->n_pterms; i++) {
        const ss_podterm_t *t = &c->pterms[i];
        bool req = t->weight == 0;
        if (t->kind == SS_PT_AFFINITY)
            *(req ? &r->affinity_req : &r->affinity_pref) += 1;
        else
            *(req ? &r->anti_req : &r->anti_pref) += 1;
    }
    for (int32_t p = 0; p < c->n_pods; p++) {
        const ss_template_t *t = &c->templates[c->pod_template[p]];
        r->pods_spread += t->spread_count > 0;
        r->pods_pterm += t->pterm_count > 0;
        r->pods_started += c->pod_start[p] > 0;
    }
    r->pdbs = c->n_pdbs;
    for (int32_t i = 0; i < c->n_pdbs; i++)
        r->pdbs_from_status += c->pdbs[i].allowed >= 0;
    r->namespaces = c->n_namespaces;
    r->default_spreading = c->default_spreading;
    r->locality = c->locality;
}

const char *ss_default_spreading_name(int32_t mode)
{
    return mode == SS_SPREAD_DEFAULT_NONE     ? "none"
           : mode == SS_SPREAD_DEFAULT_SYSTEM ? "system"
                                              : "?";
}

const char *ss_locality_name(int32_t mode)
{
    return mode == SS_LOCALITY_OFF ? "off" : mode == SS_LOCALITY_ZONE ? "zone" : "?";
}

void ss_rule_counts_print(FILE *f, const ss_rule_counts_t *r)
{
    fprintf(f,
            "spread        %d constraints (%d DoNotSchedule), on %lld pods\n"
            "pod terms     affinity %d required + %d preferred, anti-affinity %d required + %d "
            "preferred, on %lld pods\n"
            "PDBs          %d (%d with disruptionsAllowed from status); namespaces with labels "
            "%d; pods with a start time %lld\n"
            "modes         default spreading %s, locality %s\n",
            (int)r->spreads, (int)r->spreads_hard, (long long)r->pods_spread, (int)r->affinity_req,
            (int)r->affinity_pref, (int)r->anti_req, (int)r->anti_pref, (long long)r->pods_pterm,
            (int)r->pdbs, (int)r->pdbs_from_status, (int)r->namespaces, (long long)r->pods_started,
            ss_default_spreading_name(r->default_spreading), ss_locality_name(r->locality));
}
