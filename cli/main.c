/* shardsched: one binary, a few commands (see --help). main initialises MPI,
 * duplicates the world communicator with MPI_ERRORS_RETURN, dispatches to the
 * command, and is the only place that aborts. */
#include <stdio.h>
#include <string.h>

#include "ss_cli.h"

static const struct {
    const char *name;
    int (*run)(int, char **, MPI_Comm);
    const char *usage;
} commands[] = {
    {"gen", ss_cmd_gen, "gen --nodes N --pods M [--seed S] -o cluster.h5"},
    {"schedule", ss_cmd_schedule, "schedule -i cluster.h5 -o placements.h5 [--policy NAME]"},
    {"verify", ss_cmd_verify, "verify -i cluster.h5 -p placements.h5"},
    {"explain", ss_cmd_explain, "explain -i cluster.h5 -p placements.h5 [-o json] NAMESPACE/POD"},
    {"inspect", ss_cmd_inspect, "inspect FILE.h5"},
    {"import", ss_cmd_import,
     "import --nodes nodes.json --pods pods.json [--podgroups pg.json] -o cluster.h5\n"
     "  shardsched import --openb-nodes NODES.csv --openb-pods PODS.csv -o trace.h5"},
    {"replay", ss_cmd_replay, "replay -i trace.h5 -o metrics.h5 [--policy NAME] [--seed S]"},
    {"bind", ss_cmd_bind,
     "bind -i cluster.h5 -p placements.h5 (--emit bindings.json | --server URL)"},
    {"bench", ss_cmd_bench, "bench --scenario NAME"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "shardsched: parallel placement engine for very large clusters\n\nusage:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  shardsched %s\n", commands[i].usage);
    fprintf(f,
            "\n'shardsched COMMAND --help' describes a command. gen, schedule, replay and bench\n"
            "run under 'mpirun -n N'; the other commands do their work on rank 0.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    size_t i;
    for (i = 0; i < NCOMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name))
            break;
    if (i == NCOMMANDS) {
        fprintf(stderr, "shardsched: unknown command '%s' (try --help)\n", argv[1]);
        return 2;
    }
    int provided;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "shardsched: MPI_Init failed\n");
        return 1;
    }
    MPI_Comm comm;
    MPI_Comm_dup(MPI_COMM_WORLD, &comm);
    MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    int rc = commands[i].run(argc - 1, argv + 1, comm);
    /* Every command agrees on its status before returning; a rank that still
     * disagrees here means a bug, and only main may abort. */
    int worst = rc;
    if (MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS)
        MPI_Abort(MPI_COMM_WORLD, 1);
    MPI_Comm_free(&comm);
    MPI_Finalize();
    return worst;
}
