/* shardsched import: Kubernetes JSON or YAML (Node, Pod, PodGroup,
 * PriorityClass, PodDisruptionBudget and Namespace objects; files, folders
 * or standard input) or the OpenB trace CSVs into a snapshot. A single-process tool:
 * rank 0 does the work, the other ranks wait and return the same status (ss_dist_on_rank0). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_cli.h"
#include "ss_kube_import.h"
#include "ss_openb.h"
#include "ss_opt.h"
#include "ss_progress.h"
#include "ss_rank0.h"
#include "ss_snapshot.h"

static void usage(FILE *f)
{
    fputs("usage: shardsched import --nodes IN [--pods IN] [--podgroups IN]\n"
          "                         [--priority-classes IN] [--pdbs IN]\n"
          "                         -o cluster.h5 [--strict] [-q]\n"
          "                         [--scheduler-name NAME] [--rack-label KEY]\n"
          "                         [--block-label KEY] [--mig-config FILE]\n"
          "       shardsched import --openb-nodes NODES.csv --openb-pods PODS.csv\n"
          "                         -o trace.h5 [-q]\n"
          "\n"
          "Kubernetes input is what `kubectl get nodes -o json|yaml` and\n"
          "`kubectl get pods -A -o json|yaml` print (a v1 List, one object, a JSON array,\n"
          "or several `---`-separated YAML documents; a text starting with '{' or '[' is\n"
          "JSON, any other YAML). IN is a file, `-` for standard input, or a folder (its\n"
          "*.json, *.yaml and *.yml files in name order); each flag may be repeated, and\n"
          "--nodes and --pods may name the same input. The OpenB CSVs are the Alibaba GPU\n"
          "trace; the result is a trace snapshot for `shardsched replay`.\n"
          "\n"
          "  --nodes IN             Node objects (and any object with a kind)\n"
          "  --pods IN              Pod objects (running and pending)\n"
          "  --podgroups IN         PodGroup and Workload objects of any gang dialect\n"
          "                         (docs/kubernetes.md; they may also go in --pods)\n"
          "  --priority-classes IN  scheduling.k8s.io/v1 PriorityClass objects (pods'\n"
          "                         priorityClassName, globalDefault, preemptionPolicy)\n"
          "  --pdbs IN              policy/v1 PodDisruptionBudget objects\n"
          "                         (PriorityClass, PodDisruptionBudget and Namespace\n"
          "                         objects are read from any input)\n"
          "  -o, --output FILE      the snapshot to write (atomically)\n"
          "  --scheduler-name NAME  schedule only pending pods with this spec.schedulerName\n"
          "                         (default " SS_KUBE_DEFAULT_SCHEDULER ")\n"
          "  --rack-label KEY       node label naming the rack / NVLink domain\n"
          "                         (default " SS_KUBE_DEFAULT_RACK_LABEL ")\n"
          "  --block-label KEY      node label naming the InfiniBand block\n"
          "                         (default " SS_KUBE_DEFAULT_BLOCK_LABEL ")\n"
          "  --mig-config FILE      NVIDIA mig-parted configuration: the entry a node's\n"
          "                         nvidia.com/mig.config label names gives its MIG\n"
          "                         layout (default: NVIDIA's canonical placement of the\n"
          "                         nvidia.com/mig-* allocatable counts; docs/mig.md)\n"
          "  --strict               fail on any field the engine does not model\n"
          "                         (docs/kubernetes.md)\n"
          "  --openb-nodes FILE     OpenB node list CSV\n"
          "  --openb-pods FILE      OpenB pod list CSV\n"
          "  -q, --quiet            no progress\n"
          "  -h, --help             this text\n"
          "\n"
          "Exit status: 0 success, 1 import or write failed, 2 bad usage. Under mpirun,\n"
          "rank 0 does the work and every rank exits with its status.\n"
          "\n"
          "Examples:\n"
          "  shardsched import --nodes nodes.json --pods pods.json -o cluster.h5\n"
          "  shardsched import --nodes all.json --pods all.json --strict -o cluster.h5\n"
          "  shardsched import --nodes nodes.json --pods pods.json \\\n"
          "      --priority-classes pc.json --pdbs pdbs.json -o cluster.h5\n"
          "      # kubectl get priorityclasses -o json > pc.json\n"
          "      # kubectl get pdb -A -o json > pdbs.json\n"
          "  kubectl get nodes,pods -A -o yaml | shardsched import --nodes - -o cluster.h5\n"
          "  shardsched import --nodes fgd_cluster/ -o cluster.h5   # one object a file\n"
          "  shardsched import --nodes n1.yaml --nodes n2.yaml --pods pods/ -o c.h5\n"
          "  shardsched import --openb-nodes nodes.csv --openb-pods pods.csv -o trace.h5\n",
          f);
}

typedef struct {
    ss_opt_strs_t nodes, pods, podgroups, classes, pdbs;
    const char *out, *openb_nodes, *openb_pods;
    ss_kube_opts_t kube;
    int quiet;
    ss_cli_progress_t progress;
} import_args_t;

/* Returns SS_OPT_RUN, or the exit status after --help or a usage error. */
static int parse_args(int argc, char **argv, import_args_t *a, bool loud)
{
    ss_kube_opts_default(&a->kube);
    int strict = 0;
    const ss_opt_t opts[] = {
        SS_O_STRS(0, "nodes", &a->nodes),
        SS_O_STRS(0, "pods", &a->pods),
        SS_O_STRS(0, "podgroups", &a->podgroups),
        SS_O_STRS(0, "priority-classes", &a->classes),
        SS_O_STRS(0, "pdbs", &a->pdbs),
        SS_O_STR('o', "output", &a->out),
        SS_O_STR(0, "openb-nodes", &a->openb_nodes),
        SS_O_STR(0, "openb-pods", &a->openb_pods),
        SS_O_STR(0, "scheduler-name", &a->kube.scheduler_name),
        SS_O_STR(0, "rack-label", &a->kube.rack_label),
        SS_O_STR(0, "block-label", &a->kube.block_label),
        SS_O_STR(0, "mig-config", &a->kube.mig_config_path),
        SS_O_FLAG(0, "strict", &strict),
        SS_O_FLAG('q', "quiet", &a->quiet),
        SS_O_END,
    };
    const ss_opt_spec_t spec = {"import", opts, usage, NULL};
    int st = ss_opt_parse(&spec, argc, argv, loud);
    if (st != SS_OPT_RUN)
        return st;
    a->kube.strict = strict;
    int kube = a->nodes.n || a->pods.n || a->podgroups.n || a->classes.n || a->pdbs.n,
        openb = a->openb_nodes || a->openb_pods;
    if (!a->out)
        return ss_opt_fail("import", loud, "-o FILE is required");
    if (kube && openb)
        return ss_opt_fail("import", loud,
                           "Kubernetes (--nodes ...) and OpenB (--openb-...) "
                           "input cannot be mixed");
    if (!kube && !openb)
        return ss_opt_fail("import", loud, "need --nodes FILE, or --openb-nodes and --openb-pods");
    if (kube && !a->nodes.n)
        return ss_opt_fail("import", loud,
                           "--nodes FILE is required with --pods/--podgroups/--priority-classes/"
                           "--pdbs");
    if (openb && (!a->openb_nodes || !a->openb_pods))
        return ss_opt_fail("import", loud, "--openb-nodes and --openb-pods go together");
    const char *in[5 * SS_OPT_STRS_MAX + 2];
    int n = 0;
    const ss_opt_strs_t *lists[5] = {&a->nodes, &a->pods, &a->podgroups, &a->classes, &a->pdbs};
    for (int l = 0; l < 5; l++)
        for (int i = 0; i < lists[l]->n; i++)
            in[n++] = lists[l]->v[i];
    in[n++] = a->openb_nodes;
    in[n++] = a->openb_pods;
    return ss_opt_distinct_files("import", loud, a->out, in, n);
}

static int run_kube(import_args_t *a)
{
    ss_error_t err = {{0}};
    ss_cluster_t *c = NULL;
    ss_kube_report_t rep;
    ss_cli_progress_begin(&a->progress, "import", !a->quiet);
    a->kube.progress = ss_cli_progress_get(&a->progress);
    ss_kube_input_t in[5 * SS_OPT_STRS_MAX];
    size_t n = 0;
    const ss_opt_strs_t *lists[5] = {&a->nodes, &a->pods, &a->podgroups, &a->classes, &a->pdbs};
    for (int l = 0; l < 5; l++)
        for (int i = 0; i < lists[l]->n; i++)
            in[n++] = (ss_kube_input_t){lists[l]->v[i], "NPGCB"[l]};
    int rc = ss_kube_import_inputs(in, n, &a->kube, &c, &rep, &err);
    ss_cli_progress_end(&a->progress);
    if (rc == 0) {
        ss_kube_report_print(&rep, stdout);
        rc = ss_snapshot_write(a->out, c, &err);
    }
    ss_cluster_destroy(c);
    if (rc < 0) {
        fprintf(stderr, "shardsched import: %s\n", err.text);
        return 1;
    }
    printf("wrote %s\n", a->out);
    return 0;
}

static int run_openb(import_args_t *a)
{
    ss_error_t err = {{0}};
    ss_cli_progress_begin(&a->progress, "import", !a->quiet);
    int rc = ss_openb_import(a->openb_nodes, a->openb_pods, a->out,
                             ss_cli_progress_get(&a->progress), &err);
    ss_cli_progress_end(&a->progress);
    if (rc < 0) {
        fprintf(stderr, "shardsched import: %s\n", err.text);
        return 1;
    }
    return 0;
}

/* Rank 0's work; returns the exit status. */
static int work(void *arg)
{
    import_args_t *a = arg;
    return a->openb_nodes ? run_openb(a) : run_kube(a);
}

int ss_cmd_import(int argc, char **argv, MPI_Comm comm)
{
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    import_args_t a;
    memset(&a, 0, sizeof a);
    int st = parse_args(argc, argv, &a, rank == 0);
    if (st != SS_OPT_RUN)
        return st;
    return ss_dist_on_rank0(comm, "import", work, &a);
}
