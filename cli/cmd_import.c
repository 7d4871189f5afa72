/* shardsched import: Kubernetes JSON (Node, Pod, PodGroup objects) or the
 * OpenB trace CSVs into a snapshot. A single-process tool: rank 0 does the
 * work, the other ranks wait and return the same status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_cli.h"
#include "ss_kube_import.h"
#include "ss_openb.h"
#include "ss_snapshot.h"

static const char usage_text[] =
    "usage: shardsched import --nodes nodes.json --pods pods.json [--podgroups pg.json] -o "
    "cluster.h5\n"
    "                         [--scheduler-name NAME] [--rack-label KEY] [--block-label KEY] "
    "[--strict]\n"
    "       shardsched import --openb-nodes NODES.csv --openb-pods PODS.csv -o trace.h5\n"
    "\n"
    "Kubernetes input is what `kubectl get nodes -o json` / `kubectl get pods -A -o json` print\n"
    "(a v1 List, one object, or a JSON array; --nodes and --pods may name the same file).\n"
    "  --scheduler-name NAME  schedule only pending pods with this spec.schedulerName\n"
    "                         (default " SS_KUBE_DEFAULT_SCHEDULER ")\n"
    "  --rack-label KEY       node label naming the rack / NVLink domain\n"
    "                         (default " SS_KUBE_DEFAULT_RACK_LABEL ")\n"
    "  --block-label KEY      node label naming the InfiniBand block\n"
    "                         (default " SS_KUBE_DEFAULT_BLOCK_LABEL ")\n"
    "  --strict               fail on any field the engine does not model (see "
    "docs/kubernetes.md)\n";

typedef struct {
    const char *nodes, *pods, *podgroups, *out, *openb_nodes, *openb_pods;
    ss_kube_opts_t kube;
    int help;
} import_args_t;

static int parse_args(int argc, char **argv, import_args_t *a)
{
    ss_kube_opts_default(&a->kube);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char **dst = NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            a->help = 1;
            return 0;
        }
        if (!strcmp(o, "--strict")) {
            a->kube.strict = true;
            continue;
        }
        if (!strcmp(o, "--nodes"))
            dst = &a->nodes;
        else if (!strcmp(o, "--pods"))
            dst = &a->pods;
        else if (!strcmp(o, "--podgroups"))
            dst = &a->podgroups;
        else if (!strcmp(o, "-o") || !strcmp(o, "--output"))
            dst = &a->out;
        else if (!strcmp(o, "--openb-nodes"))
            dst = &a->openb_nodes;
        else if (!strcmp(o, "--openb-pods"))
            dst = &a->openb_pods;
        else if (!strcmp(o, "--scheduler-name"))
            dst = &a->kube.scheduler_name;
        else if (!strcmp(o, "--rack-label"))
            dst = &a->kube.rack_label;
        else if (!strcmp(o, "--block-label"))
            dst = &a->kube.block_label;
        if (!dst) {
            fprintf(stderr, "shardsched import: unknown option '%s'\n%s", o, usage_text);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "shardsched import: %s needs a value\n", o);
            return 2;
        }
        *dst = argv[++i];
    }
    int kube = a->nodes || a->pods || a->podgroups, openb = a->openb_nodes || a->openb_pods;
    if (!a->out || kube == openb || (kube && !a->nodes) ||
        (openb && (!a->openb_nodes || !a->openb_pods))) {
        fprintf(stderr,
                "shardsched import: need -o and either --nodes [--pods] [--podgroups] "
                "or --openb-nodes and --openb-pods\n%s",
                usage_text);
        return 2;
    }
    return 0;
}

static int run_kube(const import_args_t *a)
{
    ss_error_t err = {{0}};
    ss_cluster_t *c = NULL;
    ss_kube_report_t rep;
    int rc = ss_kube_import_files(a->nodes, a->pods, a->podgroups, &a->kube, &c, &rep, &err);
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

int ss_cmd_import(int argc, char **argv, MPI_Comm comm)
{
    int rank = 0, status = 0;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0) {
        import_args_t a;
        memset(&a, 0, sizeof a);
        status = parse_args(argc, argv, &a);
        if (status == 0 && a.help)
            fputs(usage_text, stdout);
        else if (status == 0 && a.openb_nodes) {
            ss_error_t err = {{0}};
            if (ss_openb_import(a.openb_nodes, a.openb_pods, a.out, &err) < 0) {
                fprintf(stderr, "shardsched import: %s\n", err.text);
                status = 1;
            }
        } else if (status == 0)
            status = run_kube(&a);
        fflush(stdout);
    }
    if (MPI_Bcast(&status, 1, MPI_INT, 0, comm) != MPI_SUCCESS && status == 0)
        status = 1;
    return status;
}
