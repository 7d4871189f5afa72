/* shardsched inspect: a human summary of a snapshot file. For a cluster
 * snapshot: nodes (by zone, cordoned), GPUs by model, capacity totals and
 * what running pods already request, pods running/pending, templates,
 * groups and constraint pools. For a placements file: placed and
 * unschedulable pods by reason, the policy and the time the run took.
 * A single-process tool: rank 0 reads and prints, the other ranks wait for
 * its status (broadcast) so that all ranks exit alike under mpirun.
 * Exit 0 on success, 2 on bad usage or an unreadable file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_cli.h"
#include "ss_reason.h"
#include "ss_snapshot.h"

#define MAX_ROWS_SHOWN 32

static void usage(FILE *f)
{
    fprintf(f, "usage: shardsched inspect FILE.h5\n"
               "\n"
               "Prints a human summary of a shardsched HDF5 file:\n"
               "  a cluster snapshot (gen / import): nodes by zone, cordoned nodes, GPUs by\n"
               "    model, capacity totals and the share already requested by running pods,\n"
               "    pods running and pending, templates, pod groups;\n"
               "  a placements file (schedule): pods placed, unschedulable pods by reason,\n"
               "    the policy and the scheduling time.\n"
               "The format is described in docs/snapshot-format.md; h5dump shows every dataset.\n"
               "\n"
               "  -h, --help   this text\n"
               "\n"
               "Exit status: 0 success, 2 bad usage or unreadable file. Under mpirun, rank 0\n"
               "does the work and every rank exits with its status.\n");
}

/* A small (id -> counters) table kept in first-seen order. */
typedef struct {
    int32_t key;
    int64_t n, a, b, c, d;
} tally_t;

static tally_t *tally(tally_t **t, int *n, int *cap, int32_t key)
{
    for (int i = 0; i < *n; i++)
        if ((*t)[i].key == key)
            return &(*t)[i];
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 16;
        tally_t *q = realloc(*t, (size_t)nc * sizeof *q);
        if (!q)
            return NULL;
        *t = q;
        *cap = nc;
    }
    (*t)[*n] = (tally_t){.key = key};
    return &(*t)[(*n)++];
}

static double pct(double part, double whole)
{
    return whole > 0 ? 100.0 * part / whole : 0.0;
}

static double gib(int64_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0 * 1024.0);
}

/* Nodes by zone: nodes, cordoned, cpu milli, memory bytes, GPUs. */
static int print_zones(const ss_cluster_t *c)
{
    tally_t *z = NULL;
    int nz = 0, cap = 0;
    for (int32_t i = 0; i < c->n_nodes; i++) {
        tally_t *t = tally(&z, &nz, &cap, c->node_topo[(size_t)i * SS_TOPO_NLEVELS + SS_TOPO_ZONE]);
        if (!t) {
            free(z);
            return -1;
        }
        t->n++;
        t->a += c->node_unsched[i];
        t->b += c->node_cpu[i];
        t->c += c->node_mem[i];
        t->d += c->node_gpu_count[i];
    }
    printf("  %-24s %9s %9s %12s %12s %8s\n", "zone", "nodes", "cordoned", "cpu (cores)",
           "memory (GiB)", "GPUs");
    for (int i = 0; i < nz && i < MAX_ROWS_SHOWN; i++)
        printf("  %-24s %9lld %9lld %12.0f %12.0f %8lld\n", ss_cluster_strget(c, z[i].key),
               (long long)z[i].n, (long long)z[i].a, z[i].b / 1000.0, gib(z[i].c),
               (long long)z[i].d);
    if (nz > MAX_ROWS_SHOWN)
        printf("  ... and %d more zones\n", nz - MAX_ROWS_SHOWN);
    free(z);
    return 0;
}

static int print_gpus(const ss_cluster_t *c)
{
    tally_t *m = NULL;
    int nm = 0, cap = 0;
    for (int32_t g = 0; g < c->n_gpus; g++) {
        tally_t *t = tally(&m, &nm, &cap, c->gpu_model[g]);
        if (!t) {
            free(m);
            return -1;
        }
        t->n++;
    }
    printf("GPUs          %d", (int)c->n_gpus);
    for (int i = 0; i < nm && i < MAX_ROWS_SHOWN; i++)
        printf("%s%s %lld", i ? ", " : " (", ss_cluster_strget(c, m[i].key), (long long)m[i].n);
    printf("%s\n", nm > MAX_ROWS_SHOWN ? ", ...)" : nm ? ")" : "");
    free(m);
    return 0;
}

static void print_capacity(const ss_cluster_t *c)
{
    int64_t cpu = 0, mem = 0, pods = 0, ucpu = 0, umem = 0, ugpu = 0, running = 0;
    int64_t ext[SS_MAX_EXT] = {0}, uext[SS_MAX_EXT] = {0};
    for (int32_t i = 0; i < c->n_nodes; i++) {
        cpu += c->node_cpu[i];
        mem += c->node_mem[i];
        pods += c->node_pods[i];
        for (int k = 0; k < c->n_ext; k++)
            ext[k] += c->node_ext[(size_t)i * SS_MAX_EXT + k];
    }
    for (int32_t p = 0; p < c->n_pods; p++) {
        if (c->pod_node[p] < 0)
            continue;
        const ss_request_t *r = &c->templates[c->pod_template[p]].req;
        running++;
        ucpu += r->cpu_milli;
        umem += r->memory;
        ugpu += (int64_t)r->gpu_count * r->gpu_milli;
        for (int k = 0; k < c->n_ext; k++)
            uext[k] += r->ext[k];
    }
    printf("capacity      cpu %.0f cores, memory %.1f GiB, GPUs %d, pods %lld\n", cpu / 1000.0,
           gib(mem), (int)c->n_gpus, (long long)pods);
    printf("in use        cpu %.1f%%, memory %.1f%%, GPUs %.1f%%, pods %.1f%% (requests of "
           "running pods)\n",
           pct((double)ucpu, (double)cpu), pct((double)umem, (double)mem),
           pct((double)ugpu, (double)c->n_gpus * SS_GPU_MILLI), pct((double)running, (double)pods));
    for (int k = 0; k < c->n_ext; k++)
        printf("extended      %s: %lld allocatable, %.1f%% in use\n",
               ss_cluster_strget(c, c->ext_name[k]), (long long)ext[k],
               pct((double)uext[k], (double)ext[k]));
}

static int inspect_cluster(const char *path)
{
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    if (ss_snapshot_read(path, &c, &err) < 0) {
        fprintf(stderr, "shardsched inspect: %s\n", err.text);
        return 2;
    }
    int32_t cordoned = 0, running = 0, in_group = 0, pending_gpu = 0;
    for (int32_t i = 0; i < c->n_nodes; i++)
        cordoned += c->node_unsched[i];
    for (int32_t p = 0; p < c->n_pods; p++) {
        running += c->pod_node[p] >= 0;
        in_group += c->pod_group[p] >= 0;
        pending_gpu += c->pod_node[p] < 0 && c->templates[c->pod_template[p]].req.gpu_count > 0;
    }
    printf("%s: cluster snapshot (format_version %d), %.1f MiB in memory\n", path,
           SS_SNAPSHOT_FORMAT_VERSION, (double)ss_cluster_bytes(c) / (1024.0 * 1024.0));
    printf("nodes         %d (cordoned %d)\n", (int)c->n_nodes, (int)cordoned);
    int rc = print_zones(c);
    if (rc == 0)
        rc = print_gpus(c);
    if (rc < 0) {
        fprintf(stderr, "shardsched inspect: out of memory\n");
        ss_cluster_destroy(c);
        return 2;
    }
    print_capacity(c);
    printf("pods          %d (running %d, pending %d of which %d ask for GPUs)\n", (int)c->n_pods,
           (int)running, (int)(c->n_pods - running), (int)pending_gpu);
    printf("templates     %d\n", (int)c->n_templates);
    printf("pod groups    %d (%d pods are members)\n", (int)c->n_groups, (int)in_group);
    printf("pools         labels %d, taints %d, tolerations %d, affinity terms %d, "
           "expressions %d, strings %d\n",
           (int)c->n_labels, (int)c->n_taints, (int)c->n_tolerations, (int)c->n_terms,
           (int)c->n_exprs, (int)ss_strtab_count(c->strings));
    ss_cluster_destroy(c);
    return 0;
}

static int inspect_placements(const char *path)
{
    ss_placements_t *p = NULL;
    ss_error_t err = {{0}};
    if (ss_placements_read_unchecked(path, &p, &err) < 0) {
        fprintf(stderr, "shardsched inspect: %s\n", err.text);
        return 2;
    }
    int64_t by_reason[SS_REASON_COUNT] = {0};
    for (int32_t r = 0; r < p->n; r++)
        by_reason[p->reason[r]]++;
    int64_t placed = by_reason[SS_REASON_NONE];
    printf("%s: placements (format_version %d)\n", path, SS_SNAPSHOT_FORMAT_VERSION);
    printf("policy        %s%s\n", p->policy, p->exhaustive ? " (exhaustive reference)" : "");
    if (p->seconds > 0 && p->ranks > 0)
        printf("schedule time %.3f s (%.0f pods/s) on %d rank(s) x %d thread(s)\n", p->seconds,
               p->n / p->seconds, (int)p->ranks, (int)p->threads);
    else if (p->seconds > 0)
        printf("schedule time %.3f s (%.0f pods/s)\n", p->seconds, p->n / p->seconds);
    else
        printf("schedule time not recorded\n");
    printf("pending pods  %d\n", (int)p->n);
    printf("placed        %lld (%.2f%%)\n", (long long)placed, pct((double)placed, p->n));
    printf("unschedulable %lld\n", (long long)(p->n - placed));
    for (int k = 1; k < SS_REASON_COUNT; k++)
        if (by_reason[k])
            printf("  %-44s %lld\n", ss_reason_text(k), (long long)by_reason[k]);
    ss_placements_destroy(p);
    return 0;
}

static int inspect(const char *path)
{
    char kind[64] = "";
    ss_error_t err = {{0}};
    if (ss_snapshot_kind(path, kind, sizeof kind, &err) < 0) {
        fprintf(stderr, "shardsched inspect: %s\n", err.text);
        return 2;
    }
    if (!strcmp(kind, "cluster"))
        return inspect_cluster(path);
    if (!strcmp(kind, "placements"))
        return inspect_placements(path);
    printf("%s: a shardsched file of kind '%s'; inspect has no summary for it yet "
           "('h5dump -H %s' lists its contents)\n",
           path, kind, path);
    return 0;
}

int ss_cmd_inspect(int argc, char **argv, MPI_Comm comm)
{
    int rank = 0, status = 0, help = 0;
    const char *path = NULL;
    MPI_Comm_rank(comm, &rank);
    for (int i = 1; i < argc && status == 0; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            help = 1;
        else if (argv[i][0] == '-' || path) {
            if (rank == 0)
                fprintf(stderr, "shardsched inspect: unexpected argument '%s' (try --help)\n",
                        argv[i]);
            status = 2;
        } else
            path = argv[i];
    }
    if (status == 0 && help) {
        if (rank == 0)
            usage(stdout);
        return 0;
    }
    if (status == 0 && !path) {
        if (rank == 0)
            fprintf(stderr, "shardsched inspect: which file? usage: shardsched inspect FILE.h5\n");
        status = 2;
    }
    if (status == 0 && rank == 0) {
        status = inspect(path);
        fflush(stdout);
    }
    if (MPI_Bcast(&status, 1, MPI_INT, 0, comm) != MPI_SUCCESS && status == 0)
        status = 2;
    return status;
}
