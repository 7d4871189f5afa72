/* shardsched verify: reads a cluster snapshot and a placements file, runs the
 * independent checker (engine/ss_verify.h) and prints every violation (the
 * first 20, then a count) and the run summary. A single-process tool: rank 0
 * does the work, the other ranks wait for its status (broadcast), so that all
 * ranks exit alike under mpirun. Exit 0 iff no violation, 1 on violations,
 * 2 on bad usage or unreadable input. */
#include <stdio.h>
#include <string.h>

#include "ss_cli.h"
#include "ss_snapshot.h"
#include "ss_verify.h"

typedef struct {
    const char *cluster, *placements;
    int quiet, help;
} opts_t;

static void usage(FILE *f)
{
    fprintf(f, "usage: shardsched verify -i cluster.h5 -p placements.h5 [--quiet]\n"
               "\n"
               "Checks every placement against the snapshot with code independent of the\n"
               "scheduler (taints and tolerations, cordoned nodes, nodeSelector, required node\n"
               "affinity, GPU models, cpu/memory/pods/extended resources, per-GPU sharing,\n"
               "gangs all-or-nothing and their required topology domain, reason codes) and\n"
               "prints the violations, then a summary: pods placed and unschedulable by\n"
               "reason, utilisation per resource and zone, gangs, stranded GPUs.\n"
               "\n"
               "  -i, --input FILE        cluster snapshot (shardsched gen / import)\n"
               "  -p, --placements FILE   result of shardsched schedule on that snapshot\n"
               "  -q, --quiet             print violations and the verdict only, no summary\n"
               "  -h, --help              this text\n"
               "\n"
               "Exit status: 0 no violation, 1 violations found, 2 bad usage or unreadable input.\n"
               "Under mpirun, rank 0 does the work and every rank exits with its status.\n");
}

/* Returns 0 when the options are usable, 2 (after a message on stderr from
 * rank 0) when not. Every rank parses the same argv, so all agree. */
static int parse(int argc, char **argv, opts_t *o, int rank)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            o->help = 1;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
            o->quiet = 1;
        else if (!strcmp(a, "-i") || !strcmp(a, "--input"))
            dst = &o->cluster;
        else if (!strcmp(a, "-p") || !strcmp(a, "--placements"))
            dst = &o->placements;
        else {
            if (rank == 0)
                fprintf(stderr, "shardsched verify: unknown argument '%s' (try --help)\n", a);
            return 2;
        }
        if (dst) {
            if (i + 1 >= argc) {
                if (rank == 0)
                    fprintf(stderr, "shardsched verify: %s needs a file name\n", a);
                return 2;
            }
            *dst = argv[++i];
        }
    }
    if (o->help)
        return 0;
    if (!o->cluster || !o->placements) {
        if (rank == 0)
            fprintf(stderr, "shardsched verify: both -i cluster.h5 and -p placements.h5 are "
                            "needed (try --help)\n");
        return 2;
    }
    return 0;
}

static void print_header(const opts_t *o, const ss_placements_t *p)
{
    printf("verify: %s with %s (policy %s%s)\n", o->cluster, o->placements,
           p->policy[0] ? p->policy : "?", p->exhaustive ? ", exhaustive" : "");
    if (p->seconds > 0) /* 0: the run did not record its time */
        printf("schedule time: %.3f s\n", p->seconds);
}

/* The work of rank 0; returns the exit status. */
static int run(const opts_t *o)
{
    ss_error_t err = {{0}};
    ss_cluster_t *c = NULL;
    ss_placements_t *p = NULL;
    ss_verify_report_t rep;
    memset(&rep, 0, sizeof rep);
    int status = 2;
    if (ss_snapshot_read(o->cluster, &c, &err) < 0) {
        fprintf(stderr, "shardsched verify: %s\n", err.text);
        goto out;
    }
    if (ss_placements_read(o->placements, c, &p, &err) < 0) {
        fprintf(stderr, "shardsched verify: %s\n", err.text);
        goto out;
    }
    int64_t nv = ss_verify(c, p, &rep, &err);
    if (nv < 0) {
        fprintf(stderr, "shardsched verify: %s\n", err.text);
        goto out;
    }
    if (!o->quiet)
        print_header(o, p);
    ss_verify_print_violations(stdout, &rep);
    if (!o->quiet)
        ss_verify_print_summary(stdout, &rep);
    if (nv == 0)
        printf("verify: OK, no violation\n");
    else
        printf("verify: FAILED, %lld violation(s)\n", (long long)nv);
    status = nv == 0 ? 0 : 1;
out:
    fflush(stdout);
    ss_verify_report_free(&rep);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
    return status;
}

int ss_cmd_verify(int argc, char **argv, MPI_Comm comm)
{
    int rank = 0;
    if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS) {
        fprintf(stderr, "shardsched verify: MPI_Comm_rank failed\n");
        return 2;
    }
    opts_t o;
    int status = parse(argc, argv, &o, rank);
    if (status == 0 && o.help) {
        if (rank == 0)
            usage(stdout);
    } else if (status == 0 && rank == 0) {
        status = run(&o);
    }
    /* The other ranks wait here for rank 0's verdict. */
    if (MPI_Bcast(&status, 1, MPI_INT, 0, comm) != MPI_SUCCESS) {
        fprintf(stderr, "shardsched verify: MPI_Bcast of the status failed\n");
        return 2;
    }
    return status;
}
