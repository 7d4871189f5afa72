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
 * (ss_dist_on_rank0), and every rank returns it: 0 done, 1 failed (out of memory,
 * unwritable file), 2 bad usage. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ss_cli.h"
#include "ss_gen.h"
#include "ss_kube_export_gangs.h"
#include "ss_kube_import.h"
#include "ss_opt.h"
#include "ss_progress.h"
#include "ss_rank0.h"
#include "ss_snapshot.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: shardsched gen [--nodes N] [--pods M] [--seed S] -o cluster.h5 [switches]\n"
            "       shardsched gen [--nodes N] [--pods M] [--seed S] [-o cluster.h5]\n"
            "                      --emit-kube DIR [switches]\n"
            "\n"
            "Generates a synthetic cluster with running pods (~40%% of capacity used) and M\n"
            "pending pods in the default workload mix (jobs/ss_gen.h describes it), and\n"
            "writes it as an HDF5 snapshot and/or as Kubernetes JSON. The same options and\n"
            "seed give an identical file.\n"
            "\n"
            "  --nodes N      nodes, 1..%d (default 2000, or M/10 when only --pods is given)\n"
            "  --pods M       pending pods, 0..%d (default 20000, or 10 x N when only --nodes\n"
            "                 is given)\n"
            "  --seed S       seed of the generator, an unsigned integer (default 1)\n"
            "  --used F       share of capacity already used by running pods, 0..0.9 (0.4)\n"
            "  --profile P    default (the default mix) or ai: GPU-heavy nodes (60%% 8-GPU),\n"
            "                 training gangs and GPU inference services whose replicas\n"
            "                 anti-affine across zones; the snapshot's locality is zone;\n"
            "                 about half of the idle H100/A100 80GB nodes in MIG mode,\n"
            "                 inference pods asking nvidia.com/mig-<profile> (docs/mig.md);\n"
            "                 or fragmented: the default mix with every node (GPU racks\n"
            "                 too) filled to [0.85, 1.35] x --used, so the used capacity is\n"
            "                 spread evenly over all nodes: consolidate's benchmark input\n"
            "                 (docs/consolidate.md; e.g. --profile fragmented --pods 0)\n"
            "  --mig M        default: MIG in the ai profile as above; none: the ai profile\n"
            "                 without MIG (as before MIG existed). Other profiles: no MIG\n"
            "  --rules R      default: the inter-pod rules below, default spreading system;\n"
            "                 none: the same workload (nodes, pods, requests, node rules)\n"
            "                 without them (no spread, pod (anti-)affinity or PDBs, every\n"
            "                 running pod batch, pending pods preemptionPolicy Never,\n"
            "                 default spreading and locality off), for side-by-side runs\n"
            "  -o, --output PATH  the snapshot to write (written to a temporary file, then\n"
            "                 renamed); optional when --emit-kube is given\n"
            "  --emit-kube DIR  also write the cluster as kubectl-style v1 Lists:\n"
            "                 DIR/nodes.json (Nodes) and DIR/pods.json (running and pending\n"
            "                 Pods, PodGroups), each atomically; DIR is created if missing.\n"
            "                 `shardsched import --nodes DIR/nodes.json --pods DIR/pods.json`\n"
            "                 reads them back (docs/kubernetes.md); with MIG nodes also\n"
            "                 DIR/mig-config.yaml, the mig-parted entries their\n"
            "                 nvidia.com/mig.config labels name (import --mig-config)\n"
            "  --gang-dialect D  how --emit-kube writes pod groups (docs/kubernetes.md\n"
            "                 \"gen --gang-dialect\"): default (coscheduling PodGroups, members\n"
            "                 by annotation scheduling.k8s.io/group-name), coscheduling, volcano,\n"
            "                 kai (topologyConstraint), workload (v1alpha1 Workload,\n"
            "                 spec.workloadRef), podgroup (v1alpha2 PodGroup,\n"
            "                 spec.schedulingGroup), kueue (pod-group-name label, total-count\n"
            "                 = the minimum). Topology: KAI's required/preferredTopologyLevel,\n"
            "                 podgroup's schedulingConstraints.topology for a required level;\n"
            "                 otherwise (and podgroup's preferred) the members' Kueue\n"
            "                 podset-required/preferred-topology annotations. Every dialect\n"
            "                 imports to the same gangs and placements\n"
            "  -q, --quiet    no summary line and no progress\n"
            "  -h, --help     this text\n"
            "\n"
            "Rule families (default: all on):\n"
            "  --no-node-selector  --no-node-affinity  --no-taints  --no-gpu\n"
            "  --no-fractional-gpu  --no-gpu-models  --no-gangs  --no-extended-resources\n"
            "  --no-cordoned\n"
            "  --no-gang-topology  no required/preferred rack/block topology on pod groups\n"
            "  --subgroups     (off by default) every gang of 4 pods or more in two\n"
            "                  sub-groups, halves of it (gangs inside the gang: each\n"
            "                  must reach its size, in one rack or block that holds it,\n"
            "                  docs/gangs-and-topology.md \"Sub-groups\")\n"
            "  --no-spread         no topologySpreadConstraints (~20%% of pending pods)\n"
            "  --no-anti-affinity  no pod anti-affinity (required ~2%% of pods, preferred on\n"
            "                      ~30%% of service templates, inference across zones)\n"
            "  --no-pod-affinity   no pod affinity (~2%% of pods: a cache next to its web)\n"
            "  --no-pdbs           no PodDisruptionBudgets (~30%% of services)\n"
            "  --no-preemption     running pods all batch, pending pods never preempt\n"
            "  (each also has the opposite form: --node-selector, --no-spread, ...)\n"
            "\n"
            "Exit status: 0 success, 1 generation or write failed, 2 bad usage.\n"
            "Under mpirun, rank 0 generates and writes; every rank exits with its status.\n"
            "\n"
            "Examples:\n"
            "  shardsched gen --nodes 2000 --pods 20000 --seed 7 -o cluster.h5\n"
            "  shardsched gen --nodes 100 --pods 1000 --emit-kube kube/ --no-gangs\n"
            "  shardsched gen --rules none -o norules.h5\n"
            "  shardsched gen --profile ai --nodes 10000 -o ai.h5\n"
            "  shardsched gen --profile fragmented --nodes 100000 --pods 0 -o frag.h5\n"
            "  mpirun -n 2 shardsched gen --nodes 100000 --pods 1000000 -o large.h5\n",
            SS_GEN_MAX_NODES, SS_GEN_MAX_PODS);
}

typedef struct {
    ss_gen_opts_t o;
    const char *out;
    const char *kube_dir; /* --emit-kube DIR, or NULL */
    int dialect;          /* --gang-dialect (ss_kube_dialect_t) */
    int have_nodes, have_pods, quiet;
    ss_cli_progress_t progress;
} args_t;

/* Returns SS_OPT_RUN, or the exit status after --help or a usage error
 * (same argv, same verdict on every rank; only the loud one prints). */
static int parse_args(args_t *a, int argc, char **argv, bool loud)
{
    static const char *const profiles[] = {"default", "ai", "fragmented", NULL};
    static const char *const rules[] = {"none", "default", NULL};
    static const char *const migs[] = {"none", "default", NULL};
    int64_t nodes = 0, pods = 0;
    ss_gen_opts_t *o = &a->o;
    ss_gen_opts_default(o);
    const ss_opt_t opts[] = {
        SS_O_INT(0, "nodes", &nodes, 0, SS_GEN_MAX_NODES),
        SS_O_INT(0, "pods", &pods, 0, SS_GEN_MAX_PODS),
        SS_O_U64(0, "seed", &o->seed),
        SS_O_DOUBLE(0, "used", &o->used, 0, 0.9),
        SS_O_CHOICE(0, "profile", &o->profile, profiles),
        SS_O_CHOICE(0, "rules", &o->rules, rules),
        SS_O_CHOICE(0, "mig", &o->mig, migs),
        SS_O_STR('o', "output", &a->out),
        SS_O_STR(0, "emit-kube", &a->kube_dir),
        SS_O_CHOICE(0, "gang-dialect", &a->dialect, ss_kube_dialect_names),
        SS_O_FLAG('q', "quiet", &a->quiet),
        SS_O_SWITCH("node-selector", &o->node_selector),
        SS_O_SWITCH("node-affinity", &o->node_affinity),
        SS_O_SWITCH("taints", &o->taints_tolerations),
        SS_O_SWITCH("gpu", &o->gpu),
        SS_O_SWITCH("fractional-gpu", &o->fractional_gpu),
        SS_O_SWITCH("gpu-models", &o->gpu_models),
        SS_O_SWITCH("gangs", &o->gangs),
        SS_O_SWITCH("gang-topology", &o->gang_topology),
        SS_O_SWITCH("subgroups", &o->subgroups),
        SS_O_SWITCH("extended-resources", &o->extended_resources),
        SS_O_SWITCH("cordoned", &o->cordoned),
        SS_O_SWITCH("spread", &o->topology_spread),
        SS_O_SWITCH("anti-affinity", &o->pod_anti_affinity),
        SS_O_SWITCH("pod-affinity", &o->pod_affinity),
        SS_O_SWITCH("pdbs", &o->pdbs),
        SS_O_SWITCH("preemption", &o->preemption),
        SS_O_END,
    };
    ss_opt_t with_seen[sizeof opts / sizeof opts[0]];
    memcpy(with_seen, opts, sizeof opts);
    with_seen[0].seen = &a->have_nodes;
    with_seen[1].seen = &a->have_pods;
    const ss_opt_spec_t spec = {"gen", with_seen, usage, NULL};
    int st = ss_opt_parse(&spec, argc, argv, loud);
    if (st != SS_OPT_RUN)
        return st;
    if (a->have_nodes)
        o->nodes = nodes;
    if (a->have_pods)
        o->pods = pods;
    if (!a->out && !a->kube_dir)
        return ss_opt_fail("gen", loud, "missing -o cluster.h5 or --emit-kube DIR");
    if (a->dialect != SS_KUBE_DIALECT_DEFAULT && !a->kube_dir)
        return ss_opt_fail("gen", loud, "--gang-dialect: needs --emit-kube DIR");
    if (o->subgroups && a->kube_dir) /* no dialect written has them: they would be lost */
        return ss_opt_fail("gen", loud,
                           "--subgroups: not with --emit-kube (the Kubernetes output writes no "
                           "sub-groups)");
    if (a->have_nodes && !a->have_pods)
        o->pods = o->nodes * 10 > SS_GEN_MAX_PODS ? SS_GEN_MAX_PODS : o->nodes * 10;
    if (a->have_pods && !a->have_nodes)
        o->nodes = o->pods / 10 > 0 ? o->pods / 10 : 1;
    if (o->nodes < 1)
        return ss_opt_fail("gen", loud, "--nodes: must be at least 1");
    ss_error_t err = {{0}};
    if (ss_gen_opts_check(o, &err) < 0)
        return ss_opt_fail("gen", loud, "%s", err.text);
    return SS_OPT_RUN;
}

static void report(const args_t *a, const ss_cluster_t *c, double t_gen, double t_write,
                   double t_kube)
{
    int64_t pending = 0, zones = 0;
    for (int32_t p = 0; p < c->n_pods; p++)
        pending += c->pod_node[p] < 0;
    for (int32_t n = 0; n < c->n_nodes; n++)
        zones += n == 0 || c->node_topo[(size_t)n * SS_TOPO_STRIDE + SS_TOPO_ZONE] !=
                               c->node_topo[(size_t)(n - 1) * SS_TOPO_STRIDE + SS_TOPO_ZONE];
    fprintf(stderr,
            "shardsched gen: seed %llu: %d nodes in %lld zone%s (%d GPUs), %lld pending + %lld "
            "running pods from %d templates (%s rules: %d spread constraints, %d pod "
            "(anti-)affinity terms, %d PDBs), %d pod groups -> %s%s%s in %.2f s (generate %.2f s, "
            "write %.2f s, Kubernetes JSON %.2f s)\n",
            (unsigned long long)a->o.seed, c->n_nodes, (long long)zones, zones == 1 ? "" : "s",
            c->n_gpus, (long long)pending, (long long)(c->n_pods - pending), c->n_templates,
            a->o.rules == SS_GEN_RULES_NONE ? "no" : "default", c->n_spreads, c->n_pterms,
            c->n_pdbs, c->n_groups, a->out ? a->out : "", a->out && a->kube_dir ? " and " : "",
            a->kube_dir ? a->kube_dir : "", t_gen + t_write + t_kube, t_gen, t_write, t_kube);
    int64_t mig_gpus = 0, mig_run = 0, mig_pend = 0;
    for (int32_t g = 0; g < c->n_gpus; g++)
        mig_gpus += c->gpu_mig_model[g] != 0;
    for (int32_t p = 0; p < c->n_pods; p++)
        if (c->templates[c->pod_template[p]].mig_count > 0)
            *(c->pod_node[p] >= 0 ? &mig_run : &mig_pend) += 1;
    if (mig_gpus + mig_run + mig_pend > 0)
        fprintf(stderr,
                "shardsched gen: MIG: %lld GPUs in MIG mode with %d instances, %lld running + "
                "%lld pending pods requesting nvidia.com/mig-<profile>\n",
                (long long)mig_gpus, c->n_mig_insts, (long long)mig_run, (long long)mig_pend);
}

/* Writes DIR/nodes.json and DIR/pods.json (each atomically: the exporter
 * writes a temporary file and renames it), creating DIR if it is missing. */
static int emit_kube(const char *dir, int dialect, const ss_cluster_t *c, ss_error_t *err)
{
    char nodes[4096], pods[4096], mig[4096];
    bool mig_written = false;
    if (snprintf(nodes, sizeof nodes, "%s/nodes.json", dir) >= (int)sizeof nodes ||
        snprintf(pods, sizeof pods, "%s/pods.json", dir) >= (int)sizeof pods ||
        snprintf(mig, sizeof mig, "%s/mig-config.yaml", dir) >= (int)sizeof mig)
        return ss_error_set(err, SS_EINVAL, "--emit-kube: directory name too long");
    bool created = mkdir(dir, 0777) == 0;
    if (!created && errno != EEXIST)
        return ss_error_set(err, SS_EIO, "--emit-kube: cannot create %s: %s", dir, strerror(errno));
    /* gen's priority classes (not the built-in system ones) become objects. */
    ss_kube_priority_class_t cls[SS_GEN_NPRIO_CLASSES];
    int32_t ncls = 0;
    for (int i = 0; i < SS_GEN_NPRIO_CLASSES; i++)
        if (!ss_gen_prio_classes[i].builtin)
            cls[ncls++] = (ss_kube_priority_class_t){ss_gen_prio_classes[i].name,
                                                     ss_gen_prio_classes[i].value,
                                                     ss_gen_prio_classes[i].global_default, false};
    ss_kube_export_opts_t eo = {.classes = cls, .n_classes = ncls, .gang_dialect = dialect};
    int rc = ss_kube_export_cluster_opts(c, nodes, pods, &eo, err);
    if (rc == 0)
        rc = ss_kube_export_mig_config(c, mig, &mig_written, err);
    if (rc < 0) { /* leave nothing behind: this run's files, and DIR if it made it */
        remove(nodes);
        remove(pods);
        if (mig_written)
            remove(mig);
        if (created)
            rmdir(dir);
    }
    return rc;
}

/* Rank 0's work: generate, write, report. Returns the exit status. */
static int generate(void *arg)
{
    args_t *a = arg;
    ss_error_t err = {{0}};
    ss_cluster_t *c = NULL;
    double t0 = MPI_Wtime();
    ss_cli_progress_begin(&a->progress, "gen", !a->quiet);
    a->o.progress = ss_cli_progress_get(&a->progress);
    int rc = ss_gen(&a->o, &c, &err);
    ss_cli_progress_end(&a->progress);
    double t1 = MPI_Wtime();
    if (rc == 0 && a->out)
        rc = ss_snapshot_write(a->out, c, &err);
    double t2 = MPI_Wtime();
    if (rc == 0 && a->kube_dir)
        rc = emit_kube(a->kube_dir, a->dialect, c, &err);
    double t3 = MPI_Wtime();
    if (rc < 0)
        fprintf(stderr, "shardsched gen: %s\n", err.text);
    else if (!a->quiet)
        report(a, c, t1 - t0, t2 - t1, t3 - t2);
    ss_cluster_destroy(c);
    return rc < 0 ? 1 : 0;
}

int ss_cmd_gen(int argc, char **argv, MPI_Comm comm)
{
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    args_t a;
    memset(&a, 0, sizeof a);
    int st = parse_args(&a, argc, argv, rank == 0);
    if (st != SS_OPT_RUN)
        return st;
    return ss_dist_on_rank0(comm, "gen", generate, &a);
}
