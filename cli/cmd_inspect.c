/* shardsched inspect: a human summary of a snapshot file. For a cluster
 * snapshot: nodes (by zone, cordoned), GPUs by model, capacity totals and
 * what running pods already request, pods running/pending, templates,
 * groups and constraint pools. For a placements file: placed and
 * unschedulable pods by reason, the policy and the time the run took.
 * With -o json, the same figures as one JSON object on stdout.
 * A single-process tool: rank 0 reads and prints, the other ranks wait for
 * its status (ss_dist_on_rank0) so that all ranks exit alike under mpirun.
 * Exit 0 on success, 2 on bad usage or an unreadable file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_cli.h"
#include "ss_json_out.h"
#include "ss_mig.h"
#include "ss_opt.h"
#include "ss_rank0.h"
#include "ss_reason.h"
#include "ss_snapshot.h"
#include "ss_summary.h"

#define MAX_ROWS_SHOWN 32

static void usage(FILE *f)
{
    fprintf(f, "usage: shardsched inspect [-i] FILE.h5 [-o text|json]\n"
               "\n"
               "Prints a summary of a shardsched HDF5 file:\n"
               "  a cluster snapshot (gen / import): nodes by zone, cordoned nodes, GPUs by\n"
               "    model, capacity totals and the share already requested by running pods,\n"
               "    pods running and pending, templates, pod groups;\n"
               "  a placements file (schedule): pods placed, unschedulable pods by reason,\n"
               "    the policy and the scheduling time.\n"
               "The format is described in docs/snapshot-format.md; h5dump shows every dataset.\n"
               "\n"
               "  -i, --input FILE     the file (or give it as the only argument)\n"
               "  -o, --output FORMAT  text (default) or json: one JSON object on stdout with\n"
               "                       \"kind\" (cluster, placements, ...) and the counts\n"
               "  -q, --quiet          accepted for uniformity (inspect prints only its summary)\n"
               "  -h, --help           this text\n"
               "\n"
               "Exit status: 0 success, 2 bad usage or unreadable file. Under mpirun, rank 0\n"
               "does the work and every rank exits with its status.\n"
               "\n"
               "Examples:\n"
               "  shardsched inspect cluster.h5\n"
               "  shardsched inspect -i placements.h5\n"
               "  shardsched inspect cluster.h5 -o json | jq .nodes\n");
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
    int zl = ss_cluster_zone_level(c);
    for (int32_t i = 0; i < c->n_nodes; i++) {
        tally_t *t =
            tally(&z, &nz, &cap, zl < 0 ? 0 : c->node_topo[(size_t)i * SS_TOPO_STRIDE + zl]);
        if (!t) {
            free(z);
            return -1;
        }
        t->n++;
        t->a += c->node_unsched[i];
        t->b = ss_sat_add64(t->b, c->node_cpu[i]); /* saturating: never negative */
        t->c = ss_sat_add64(t->c, c->node_mem[i]);
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
        cpu = ss_sat_add64(cpu, c->node_cpu[i]); /* saturating: totals never wrap negative */
        mem = ss_sat_add64(mem, c->node_mem[i]);
        pods += c->node_pods[i];
        for (int k = 0; k < c->n_ext; k++)
            ext[k] = ss_sat_add64(ext[k], c->node_ext[(size_t)i * SS_MAX_EXT + k]);
    }
    for (int32_t p = 0; p < c->n_pods; p++) {
        if (c->pod_node[p] < 0)
            continue;
        const ss_request_t *r = &c->templates[c->pod_template[p]].req;
        running++;
        ucpu = ss_sat_add64(ucpu, r->cpu_milli);
        umem = ss_sat_add64(umem, r->memory);
        ugpu += (int64_t)r->gpu_count * r->gpu_milli;
        for (int k = 0; k < c->n_ext; k++)
            uext[k] = ss_sat_add64(uext[k], r->ext[k]);
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
    printf("levels        %d:", (int)c->n_levels);
    for (int l = 0; l < c->n_levels; l++)
        printf(" %s%s", l ? "> " : "", ss_cluster_strget(c, c->level_key[l]));
    printf("\n");
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
    ss_rule_counts_t rules;
    ss_rule_counts(c, &rules);
    ss_rule_counts_print(stdout, &rules);
    ss_cluster_destroy(c);
    return 0;
}

/* Reads a placements file on its own and counts its rows per reason code
 * (the reader has checked every code is in range). NULL after printing the
 * reason it could not be read. */
static ss_placements_t *read_counted(const char *path, int64_t by_reason[SS_REASON_COUNT])
{
    ss_placements_t *p = NULL;
    ss_error_t err = {{0}};
    if (ss_placements_read_unchecked(path, &p, &err) < 0) {
        fprintf(stderr, "shardsched inspect: %s\n", err.text);
        return NULL;
    }
    for (int32_t r = 0; r < p->n; r++)
        by_reason[p->reason[r]]++;
    return p;
}

/* Rows that preempted at least one victim (a row's victims are adjacent:
 * /victims is in commit order). */
static int32_t preemptors(const ss_placements_t *p)
{
    int32_t n = 0;
    for (int32_t v = 0; v < p->n_victims; v++)
        n += v == 0 || p->victim_row[v] != p->victim_row[v - 1];
    return n;
}

static int inspect_placements(const char *path)
{
    int64_t by_reason[SS_REASON_COUNT] = {0};
    ss_placements_t *p = read_counted(path, by_reason);
    if (!p)
        return 2;
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
    printf("victims       %d (of %d preemptors)\n", (int)p->n_victims, (int)preemptors(p));
    printf("preempt with  %s (%s)\n", p->pdb_hard ? "evict" : "delete",
           p->pdb_hard ? "PodDisruptionBudgets were hard" : "PodDisruptionBudgets best effort");
    if (p->n_relayout > 0)
        printf("MIG re-layout %d GPU(s) (schedule --mig-relayout; GPU record: new layout)\n",
               (int)p->n_relayout);
    for (int32_t r = 0; r < p->n_relayout; r++) {
        const ss_mig_model_t *m = ss_mig_model(p->relayout_model[r]);
        printf("  GPU %-8d %s", (int)p->relayout_gpu[r], m ? m->name : "MIG disabled");
        for (int32_t i = 0; m && i < p->relayout[r].n; i++)
            printf(" %s@%d", m->profiles[p->relayout[r].inst[i].profile].name,
                   (int)p->relayout[r].inst[i].start);
        printf("\n");
    }
    ss_placements_destroy(p);
    return 0;
}

/* The figures of a cluster snapshot, for -o json. */
static int json_cluster(const char *path, json_t *j)
{
    ss_cluster_t *c = NULL;
    ss_error_t err = {{0}};
    if (ss_snapshot_read(path, &c, &err) < 0) {
        fprintf(stderr, "shardsched inspect: %s\n", err.text);
        return 2;
    }
    int64_t cordoned = 0, running = 0, in_group = 0, pending_gpu = 0, cpu = 0, mem = 0, pods = 0;
    int64_t ucpu = 0, umem = 0, ugpu = 0, zones = 0;
    int zl = ss_cluster_zone_level(c);
    for (int32_t n = 0; n < c->n_nodes; n++) {
        cordoned += c->node_unsched[n];
        cpu = ss_sat_add64(cpu, c->node_cpu[n]); /* saturating: totals never wrap negative */
        mem = ss_sat_add64(mem, c->node_mem[n]);
        pods += c->node_pods[n];
        zones += n == 0 || (zl >= 0 && c->node_topo[(size_t)n * SS_TOPO_STRIDE + zl] !=
                                           c->node_topo[(size_t)(n - 1) * SS_TOPO_STRIDE + zl]);
    }
    for (int32_t p = 0; p < c->n_pods; p++) {
        const ss_request_t *r = &c->templates[c->pod_template[p]].req;
        in_group += c->pod_group[p] >= 0;
        if (c->pod_node[p] < 0) {
            pending_gpu += r->gpu_count > 0;
            continue;
        }
        running++;
        ucpu = ss_sat_add64(ucpu, r->cpu_milli);
        umem = ss_sat_add64(umem, r->memory);
        ugpu += (int64_t)r->gpu_count * r->gpu_milli;
    }
    int rc =
        ss_json_set(j, "kind", json_string("cluster")) |
        ss_json_set(j, "format_version", json_integer(SS_SNAPSHOT_FORMAT_VERSION)) |
        ss_json_set(j, "nodes", json_integer(c->n_nodes)) |
        ss_json_set(j, "cordoned", json_integer(cordoned)) |
        ss_json_set(j, "zones", json_integer(zones)) |
        ss_json_set(j, "gpus", json_integer(c->n_gpus)) |
        ss_json_set(j, "capacity",
                    json_pack("{sIsIsIsI}", "cpu_milli", (json_int_t)cpu, "memory_bytes",
                              (json_int_t)mem, "gpu_milli", (json_int_t)c->n_gpus * SS_GPU_MILLI,
                              "pods", (json_int_t)pods)) |
        ss_json_set(j, "in_use_pct",
                    json_pack("{sfsfsfsf}", "cpu", pct((double)ucpu, (double)cpu), "memory",
                              pct((double)umem, (double)mem), "gpu",
                              pct((double)ugpu, (double)c->n_gpus * SS_GPU_MILLI), "pods",
                              pct((double)running, (double)pods))) |
        ss_json_set(j, "pods", json_integer(c->n_pods)) |
        ss_json_set(j, "running", json_integer(running)) |
        ss_json_set(j, "pending", json_integer(c->n_pods - running)) |
        ss_json_set(j, "pending_gpu", json_integer(pending_gpu)) |
        ss_json_set(j, "templates", json_integer(c->n_templates)) |
        ss_json_set(j, "pod_groups", json_integer(c->n_groups)) |
        ss_json_set(j, "pod_group_members", json_integer(in_group));
    ss_rule_counts_t r;
    ss_rule_counts(c, &r);
    rc |=
        ss_json_set(
            j, "rules",
            json_pack("{sisisisisisisIsIsIsisisi}", "spread_constraints", (int)r.spreads,
                      "spread_do_not_schedule", (int)r.spreads_hard, "pod_affinity_required",
                      (int)r.affinity_req, "pod_affinity_preferred", (int)r.affinity_pref,
                      "pod_anti_affinity_required", (int)r.anti_req, "pod_anti_affinity_preferred",
                      (int)r.anti_pref, "pods_with_spread", (json_int_t)r.pods_spread,
                      "pods_with_pod_terms", (json_int_t)r.pods_pterm, "pods_with_start_time",
                      (json_int_t)r.pods_started, "pdbs", (int)r.pdbs, "pdbs_allowed_from_status",
                      (int)r.pdbs_from_status, "namespaces", (int)r.namespaces)) |
        ss_json_set(j, "default_spreading",
                    json_string(ss_default_spreading_name(r.default_spreading))) |
        ss_json_set(j, "locality", json_string(ss_locality_name(r.locality)));
    ss_cluster_destroy(c);
    return rc ? 1 : 0;
}

/* The figures of a placements file, for -o json. */
static int json_placements(const char *path, json_t *j)
{
    int64_t by_reason[SS_REASON_COUNT] = {0};
    ss_placements_t *p = read_counted(path, by_reason);
    if (!p)
        return 2;
    json_t *by = json_object();
    int rc = by ? 0 : -1;
    for (int k = 1; k < SS_REASON_COUNT && rc == 0; k++)
        if (by_reason[k])
            rc = ss_json_set(by, ss_json_reason_key(k), json_integer(by_reason[k]));
    rc |= ss_json_set(j, "kind", json_string("placements")) |
          ss_json_set(j, "format_version", json_integer(SS_SNAPSHOT_FORMAT_VERSION)) |
          ss_json_set(j, "policy", json_string(p->policy)) |
          ss_json_set(j, "exhaustive", json_boolean(p->exhaustive)) |
          ss_json_set(j, "schedule_seconds", p->seconds > 0 ? json_real(p->seconds) : json_null()) |
          ss_json_set(j, "pending", json_integer(p->n)) |
          ss_json_set(j, "placed", json_integer(by_reason[SS_REASON_NONE])) |
          ss_json_set(j, "unschedulable", json_integer(p->n - by_reason[SS_REASON_NONE])) |
          ss_json_set(j, "unschedulable_by_reason", by) |
          ss_json_set(j, "victims", json_integer(p->n_victims)) |
          ss_json_set(j, "preempt_with", json_string(p->pdb_hard ? "evict" : "delete")) |
          ss_json_set(j, "preemptors", json_integer(preemptors(p)));
    ss_placements_destroy(p);
    return rc ? 1 : 0;
}

static int inspect_json(const char *path, const char *kind)
{
    json_t *j = json_object();
    if (!j)
        return ss_json_emit("inspect", NULL, -1) < 0 ? 1 : 0;
    int st = ss_json_set(j, "file", json_string(path)) ? 1 : 0;
    if (st == 0 && !strcmp(kind, "cluster"))
        st = json_cluster(path, j);
    else if (st == 0 && !strcmp(kind, "placements"))
        st = json_placements(path, j);
    else if (st == 0)
        st = ss_json_set(j, "kind", json_string(kind)) ? 1 : 0;
    if (st == 2) {
        json_decref(j);
        return 2;
    }
    return ss_json_emit("inspect", j, st) < 0 ? 1 : 0;
}

typedef struct {
    const char *path;
    int format, quiet; /* format: 0 text, 1 json */
} opts_t;

static const char *const formats[] = {"text", "json", NULL};

static int inspect(void *arg)
{
    const opts_t *o = arg;
    const char *path = o->path;
    char kind[64] = "";
    ss_error_t err = {{0}};
    if (ss_snapshot_kind(path, kind, sizeof kind, &err) < 0) {
        fprintf(stderr, "shardsched inspect: %s\n", err.text);
        return 2;
    }
    if (o->format == 1)
        return inspect_json(path, kind);
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
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    opts_t o = {NULL, 0, 0};
    const char *operand = NULL;
    const ss_opt_t opts[] = {
        SS_O_STR('i', "input", &o.path),
        SS_O_CHOICE('o', "output", &o.format, formats),
        SS_O_FLAG('q', "quiet", &o.quiet),
        SS_O_END,
    };
    const ss_opt_spec_t spec = {"inspect", opts, usage, &operand};
    int st = ss_opt_parse(&spec, argc, argv, rank == 0);
    if (st != SS_OPT_RUN)
        return st;
    if (o.path && operand)
        return ss_opt_fail("inspect", rank == 0, "give the file once: -i %s or %s", o.path,
                           operand);
    if (!o.path)
        o.path = operand;
    if (!o.path)
        return ss_opt_fail("inspect", rank == 0, "which file? (shardsched inspect FILE.h5)");
    return ss_dist_on_rank0(comm, "inspect", inspect, &o);
}
