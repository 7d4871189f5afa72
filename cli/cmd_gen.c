/* shardsched gen: writes a seeded synthetic cluster and its pending work
 * (jobs/ss_gen.h: PRODUCT.md's default workload) to an HDF5 snapshot and/or,
 * with --emit-kube DIR, as Kubernetes JSON (DIR/nodes.json, DIR/pods.json:
 * what `kubectl get ... -o json` prints), so that large realistic inputs for
 * `shardsched import` exist.
 *
 * Every rank parses the same arguments, so bad usage is seen (and exits 2)
 * on all ranks alike with no communication; rank 0 prints the message. Rank 0
 * then generates and writes (the generator is one sequential RNG stream: that
 * is what makes a seed name one cluster), the other ranks wait for its status
 * (broadcast), and every rank returns it: 0 done, 1 failed (out of memory,
 * unwritable file), 2 bad usage. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ss_cli.h"
#include "ss_gen.h"
#include "ss_kube_import.h"
#include "ss_snapshot.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: shardsched gen [--nodes N] [--pods M] [--seed S] -o cluster.h5 [switches]\n"
            "       shardsched gen [--nodes N] [--pods M] [--seed S] [-o cluster.h5]\n"
            "                      --emit-kube DIR [switches]\n"
            "\n"
            "Generates a synthetic cluster with running pods (~40%% of capacity used) and M\n"
            "pending pods in the default workload mix (docs: PRODUCT.md), and writes it as an\n"
            "HDF5 snapshot and/or as Kubernetes JSON. The same options and seed give an\n"
            "identical file.\n"
            "\n"
            "  --nodes N      nodes, 1..%d (default 2000, or M/10 when only --pods is given)\n"
            "  --pods M       pending pods, 0..%d (default 20000, or 10 x N when only --nodes\n"
            "                 is given)\n"
            "  --seed S       seed of the generator, an unsigned integer (default 1)\n"
            "  --used F       share of capacity already used by running pods, 0..0.9 (0.4)\n"
            "  -o, --output PATH  the snapshot to write (written to a temporary file, then\n"
            "                 renamed); optional when --emit-kube is given\n"
            "  --emit-kube DIR  also write the cluster as kubectl-style v1 Lists:\n"
            "                 DIR/nodes.json (Nodes) and DIR/pods.json (running and pending\n"
            "                 Pods, PodGroups), each atomically; DIR is created if missing.\n"
            "                 `shardsched import --nodes DIR/nodes.json --pods DIR/pods.json`\n"
            "                 reads them back (docs/kubernetes.md)\n"
            "  -h, --help     this text\n"
            "\n"
            "Rule families (default: on, except those the engine does not implement yet):\n"
            "  --no-node-selector  --no-node-affinity  --no-taints  --no-gpu\n"
            "  --no-fractional-gpu  --no-gpu-models  --no-gangs  --no-extended-resources\n"
            "  --no-cordoned\n"
            "  --no-gang-topology  no required/preferred rack/block topology on pod groups\n"
            "  --spread            topology spread constraints on ~20%% of pods (off)\n"
            "  --anti-affinity     required pod anti-affinity on ~2%% of pods (off)\n"
            "  (each also has the opposite form: --node-selector, --no-spread, ...)\n"
            "\n"
            "Exit status: 0 success, 1 generation or write failed, 2 bad usage.\n"
            "Under mpirun, rank 0 generates and writes; every rank exits with its status.\n",
            SS_GEN_MAX_NODES, SS_GEN_MAX_PODS);
}

static const struct {
    const char *name; /* the "on" form; "--no-" + name is the "off" form */
    size_t field;
} switches[] = {
    {"node-selector", offsetof(ss_gen_opts_t, node_selector)},
    {"node-affinity", offsetof(ss_gen_opts_t, node_affinity)},
    {"taints", offsetof(ss_gen_opts_t, taints_tolerations)},
    {"gpu", offsetof(ss_gen_opts_t, gpu)},
    {"fractional-gpu", offsetof(ss_gen_opts_t, fractional_gpu)},
    {"gpu-models", offsetof(ss_gen_opts_t, gpu_models)},
    {"gangs", offsetof(ss_gen_opts_t, gangs)},
    {"gang-topology", offsetof(ss_gen_opts_t, gang_topology)},
    {"extended-resources", offsetof(ss_gen_opts_t, extended_resources)},
    {"cordoned", offsetof(ss_gen_opts_t, cordoned)},
    {"spread", offsetof(ss_gen_opts_t, topology_spread)},
    {"anti-affinity", offsetof(ss_gen_opts_t, pod_anti_affinity)},
};
#define NSWITCHES (sizeof switches / sizeof switches[0])

/* Sets a switch from "--X" or "--no-X"; returns 0, or -1 if arg is none. */
static int set_switch(ss_gen_opts_t *o, const char *arg)
{
    if (strncmp(arg, "--", 2) != 0)
        return -1;
    const char *name = arg + 2;
    bool on = strncmp(name, "no-", 3) != 0;
    if (!on)
        name += 3;
    for (size_t i = 0; i < NSWITCHES; i++)
        if (!strcmp(name, switches[i].name)) {
            *(bool *)((char *)o + switches[i].field) = on;
            return 0;
        }
    return -1;
}

/* A whole non-negative decimal number no larger than max. */
static int parse_count(const char *opt, const char *s, unsigned long long max,
                       unsigned long long *out, ss_error_t *err)
{
    char *end;
    errno = 0;
    if (!s)
        return ss_error_set(err, SS_EINVAL, "%s needs a value", opt);
    if (s[0] < '0' || s[0] > '9')
        return ss_error_set(err, SS_EINVAL, "%s: '%s' is not a non-negative integer", opt, s);
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0')
        return ss_error_set(err, SS_EINVAL, "%s: '%s' is not a non-negative integer", opt, s);
    if (errno == ERANGE || v > max)
        return ss_error_set(err, SS_ERANGE, "%s: %s is more than %llu", opt, s, max);
    *out = v;
    return 0;
}

typedef struct {
    ss_gen_opts_t o;
    const char *out;
    const char *kube_dir; /* --emit-kube DIR, or NULL */
    bool help, have_nodes, have_pods;
} args_t;

static int parse_one(args_t *a, int argc, char **argv, int *i, ss_error_t *err)
{
    const char *opt = argv[*i], *val = *i + 1 < argc ? argv[*i + 1] : NULL;
    unsigned long long v;
    int rc;
    if (!strcmp(opt, "-h") || !strcmp(opt, "--help")) {
        a->help = true;
        return 0;
    }
    if (set_switch(&a->o, opt) == 0)
        return 0;
    (*i)++;
    if (!strcmp(opt, "-o") || !strcmp(opt, "--output")) {
        if (!val || !val[0])
            return ss_error_set(err, SS_EINVAL, "%s needs a file name", opt);
        a->out = val;
    } else if (!strcmp(opt, "--emit-kube")) {
        if (!val || !val[0])
            return ss_error_set(err, SS_EINVAL, "%s needs a directory", opt);
        a->kube_dir = val;
    } else if (!strcmp(opt, "--nodes")) {
        if ((rc = parse_count(opt, val, SS_GEN_MAX_NODES, &v, err)) < 0)
            return rc;
        a->o.nodes = (int64_t)v;
        a->have_nodes = true;
    } else if (!strcmp(opt, "--pods")) {
        if ((rc = parse_count(opt, val, SS_GEN_MAX_PODS, &v, err)) < 0)
            return rc;
        a->o.pods = (int64_t)v;
        a->have_pods = true;
    } else if (!strcmp(opt, "--seed")) {
        if ((rc = parse_count(opt, val, UINT64_MAX, &v, err)) < 0)
            return rc;
        a->o.seed = (uint64_t)v;
    } else if (!strcmp(opt, "--used")) {
        char *end;
        a->o.used = val ? strtod(val, &end) : -1;
        if (!val || *end != '\0' || !(a->o.used >= 0 && a->o.used <= 0.9))
            return ss_error_set(err, SS_EINVAL, "--used: '%s' is not a share in 0..0.9",
                                val ? val : "");
    } else {
        return ss_error_set(err, SS_EINVAL, "unknown option '%s' (try --help)", opt);
    }
    return 0;
}

static int parse_args(args_t *a, int argc, char **argv, ss_error_t *err)
{
    int rc;
    ss_gen_opts_default(&a->o);
    for (int i = 1; i < argc; i++)
        if ((rc = parse_one(a, argc, argv, &i, err)) < 0)
            return rc;
    if (a->help)
        return 0;
    if (!a->out && !a->kube_dir)
        return ss_error_set(err, SS_EINVAL,
                            "missing -o cluster.h5 or --emit-kube DIR (try --help)");
    if (a->have_nodes && !a->have_pods)
        a->o.pods = a->o.nodes * 10 > SS_GEN_MAX_PODS ? SS_GEN_MAX_PODS : a->o.nodes * 10;
    if (a->have_pods && !a->have_nodes)
        a->o.nodes = a->o.pods / 10 > 0 ? a->o.pods / 10 : 1;
    if (a->o.nodes < 1)
        return ss_error_set(err, SS_ERANGE, "--nodes: must be at least 1");
    return ss_gen_opts_check(&a->o, err);
}

static void report(const args_t *a, const ss_cluster_t *c, double t_gen, double t_write,
                   double t_kube)
{
    int64_t pending = 0, zones = 0;
    for (int32_t p = 0; p < c->n_pods; p++)
        pending += c->pod_node[p] < 0;
    for (int32_t n = 0; n < c->n_nodes; n++)
        zones += n == 0 || c->node_topo[(size_t)n * SS_TOPO_NLEVELS + SS_TOPO_ZONE] !=
                               c->node_topo[(size_t)(n - 1) * SS_TOPO_NLEVELS + SS_TOPO_ZONE];
    fprintf(stderr,
            "shardsched gen: seed %llu: %d nodes in %lld zone%s (%d GPUs), %lld pending + %lld "
            "running pods from %d templates, %d pod groups -> %s%s%s in %.2f s (generate %.2f s, "
            "write %.2f s, Kubernetes JSON %.2f s)\n",
            (unsigned long long)a->o.seed, c->n_nodes, (long long)zones, zones == 1 ? "" : "s",
            c->n_gpus, (long long)pending, (long long)(c->n_pods - pending), c->n_templates,
            c->n_groups, a->out ? a->out : "", a->out && a->kube_dir ? " and " : "",
            a->kube_dir ? a->kube_dir : "", t_gen + t_write + t_kube, t_gen, t_write, t_kube);
}

/* Writes DIR/nodes.json and DIR/pods.json (each atomically: the exporter
 * writes a temporary file and renames it), creating DIR if it is missing. */
static int emit_kube(const char *dir, const ss_cluster_t *c, ss_error_t *err)
{
    char nodes[4096], pods[4096];
    if (snprintf(nodes, sizeof nodes, "%s/nodes.json", dir) >= (int)sizeof nodes ||
        snprintf(pods, sizeof pods, "%s/pods.json", dir) >= (int)sizeof pods)
        return ss_error_set(err, SS_EINVAL, "--emit-kube: directory name too long");
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return ss_error_set(err, SS_EIO, "--emit-kube: cannot create %s: %s", dir, strerror(errno));
    return ss_kube_export_cluster(c, nodes, pods, err);
}

/* Rank 0's work: generate, write, report. Returns the exit status. */
static int generate(const args_t *a)
{
    ss_error_t err = {{0}};
    ss_cluster_t *c = NULL;
    double t0 = MPI_Wtime();
    int rc = ss_gen(&a->o, &c, &err);
    double t1 = MPI_Wtime();
    if (rc == 0 && a->out)
        rc = ss_snapshot_write(a->out, c, &err);
    double t2 = MPI_Wtime();
    if (rc == 0 && a->kube_dir)
        rc = emit_kube(a->kube_dir, c, &err);
    double t3 = MPI_Wtime();
    if (rc < 0)
        fprintf(stderr, "shardsched gen: %s\n", err.text);
    else
        report(a, c, t1 - t0, t2 - t1, t3 - t2);
    ss_cluster_destroy(c);
    return rc < 0 ? 1 : 0;
}

int ss_cmd_gen(int argc, char **argv, MPI_Comm comm)
{
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    args_t a = {0};
    ss_error_t err = {{0}};
    if (parse_args(&a, argc, argv, &err) < 0) { /* same argv, same verdict on every rank */
        if (rank == 0)
            fprintf(stderr, "shardsched gen: %s\n", err.text);
        return 2;
    }
    if (a.help) {
        if (rank == 0)
            usage(stdout);
        return 0;
    }
    int status = rank == 0 ? generate(&a) : 0;
    if (MPI_Bcast(&status, 1, MPI_INT, 0, comm) != MPI_SUCCESS) {
        if (rank == 0)
            fprintf(stderr, "shardsched gen: MPI_Bcast of the status failed\n");
        return 1;
    }
    return status;
}
