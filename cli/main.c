/* shardsched: one binary, a few commands (see --help). main initialises MPI,
 * duplicates the world communicator with MPI_ERRORS_RETURN, dispatches to the
 * command, checks that standard output was written, and is the only place
 * that aborts. --version, help and usage errors need no MPI. Before MPI
 * starts it makes ranks that share a node's cores safe (share_cores). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <errno.h>
#include <omp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ss_cli.h"
#include "ss_dist.h"
#include "ss_version.h"

static const struct {
    const char *name;
    int (*run)(int, char **, MPI_Comm);
    const char *summary;
} commands[] = {
    {"gen", ss_cmd_gen, "write a seeded synthetic cluster (HDF5 and/or Kubernetes JSON)"},
    {"import", ss_cmd_import, "Kubernetes JSON or OpenB trace CSVs into a snapshot"},
    {"schedule", ss_cmd_schedule, "place every pending pod of a snapshot (MPI x OpenMP)"},
    {"consolidate", ss_cmd_consolidate, "plan PDB-safe waves that empty nodes (or a pool)"},
    {"verify", ss_cmd_verify, "check placements independently and summarise the run"},
    {"explain", ss_cmd_explain, "why a pod was or was not placed (FailedScheduling style)"},
    {"inspect", ss_cmd_inspect, "summarise a snapshot or placements file"},
    {"bind", ss_cmd_bind, "placements into Kubernetes Bindings (file or API server)"},
    {"replay", ss_cmd_replay, "replay a trace against a policy, write metrics"},
    {"whatif", ss_cmd_whatif, "what the pending pods would do with more nodes of a pool"},
    {"bench", ss_cmd_bench, "in-memory benchmark of the engine on a generated cluster"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "shardsched: parallel placement engine for very large clusters\n\n"
               "usage: shardsched COMMAND [OPTIONS]\n"
               "       shardsched help COMMAND | shardsched --version\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'shardsched COMMAND --help' (or 'shardsched help COMMAND') describes a command.\n"
               "gen, schedule, replay and bench run under 'mpirun -n N'; the other commands do\n"
               "their work on rank 0. Documentation: README.md and docs/architecture.md.\n\n"
               "Examples:\n"
               "  shardsched gen --nodes 2000 --pods 20000 -o cluster.h5\n"
               "  mpirun -n 4 shardsched schedule -i cluster.h5 -o placements.h5\n"
               "  shardsched verify -i cluster.h5 -p placements.h5\n");
}

static int find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(name, commands[i].name))
            return (int)i;
    return -1;
}

static int fail(const char *what, const char *arg)
{
    fprintf(stderr, "shardsched: %s%s%s%s\nsee 'shardsched --help'\n", what, arg ? " '" : "",
            arg ? arg : "", arg ? "'" : "");
    return 2;
}

/* Flushes and closes stdout; returns 1 (after a message naming stdout) if
 * anything the command wrote there was lost (a full disk, a closed pipe). */
static int check_stdout(const char *cmd)
{
    const char *why = NULL;
    errno = 0;
    if (fflush(stdout) != 0)
        why = strerror(errno ? errno : EIO);
    else if (ferror(stdout))
        why = "write error"; /* an earlier write or flush failed */
    if (fclose(stdout) != 0 && !why)
        why = strerror(errno ? errno : EIO);
    if (!why)
        return 0;
    fprintf(stderr, "shardsched %s: error writing stdout: %s\n", cmd, why);
    return 1;
}

/* Ranks on this node, from the launcher (Open MPI, MPICH/Hydra); 0 unknown. */
static int local_ranks_env(void)
{
    const char *v = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    if (!v)
        v = getenv("MPI_LOCALNRANKS");
    return v ? atoi(v) : 0;
}

/* The cores this process may run on (its affinity mask: the node's cores,
 * or fewer under taskset, a cgroup cpuset or a launcher's binding). */
static int rank_cores(void)
{
    cpu_set_t set;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : (int)online;
    return n > 0 ? n : 1;
}

/* Safe defaults for ranks that share a node's cores (issue 10, item 16;
 * docs/architecture.md): without OMP_NUM_THREADS, threads per rank = the
 * cores a rank may run on over the node's local ranks, at least 1 (under
 * --bind-to none every rank sees the same cores; a rank bound to fewer gets
 * fewer, never more than it has); and when ranks x threads exceed those
 * cores, waiting is passive: Open MPI yields when idle and OpenMP threads
 * sleep instead of spinning. libgomp reads OMP_WAIT_POLICY only when it
 * loads, so that one is set by re-executing the binary once (SS_CORES_SET
 * marks it). late: called after MPI_Init with the count from
 * MPI_Comm_split_type, for launchers that do not export it: threads only
 * (Open MPI reads the yielding at MPI_Init, and a started MPI process cannot
 * be re-executed). */
static void share_cores(int local, int late, char **argv)
{
    int cores = rank_cores(), ranks = local > 0 ? local : 1;
    const char *env = getenv("OMP_NUM_THREADS");
    int threads = env && atoi(env) > 0 ? atoi(env) : (cores / ranks > 0 ? cores / ranks : 1);
    if (!env)
        omp_set_num_threads(threads);
    if ((long)ranks * threads <= cores || late)
        return;
    setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
    if (threads > 1 && !getenv("OMP_WAIT_POLICY") && !getenv("SS_CORES_SET")) {
        setenv("OMP_WAIT_POLICY", "passive", 1);
        setenv("SS_CORES_SET", "1", 1);
        execv("/proc/self/exe", argv); /* on failure: go on, spinning */
    }
}

/* The local rank count after MPI_Init, for launchers that do not export it. */
static int local_ranks_mpi(MPI_Comm comm)
{
    MPI_Comm node;
    int n = 0;
    if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) != MPI_SUCCESS)
        return 0;
    MPI_Comm_size(node, &n);
    MPI_Comm_free(&node);
    return n;
}

int main(int argc, char **argv)
{
    /* A file-size limit (ulimit -f) becomes a write error ("File too large")
     * that the writers report and clean up after, instead of a kill that
     * leaves the temporary file behind. */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2)
        return fail("no command given", NULL);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        (!strcmp(argv[1], "help") && argc == 2)) {
        usage(stdout);
        return check_stdout("--help");
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("shardsched %s\n", SS_VERSION);
        return check_stdout("version");
    }
    char *help_argv[3] = {NULL, "--help", NULL};
    int i;
    if (!strcmp(argv[1], "help")) {
        if (argc > 3)
            return fail("help takes one command, not", argv[3]);
        if ((i = find(argv[2])) < 0)
            return fail("unknown command", argv[2]);
        help_argv[0] = argv[2];
    } else if ((i = find(argv[1])) < 0) {
        return fail(argv[1][0] == '-' ? "unknown option" : "unknown command", argv[1]);
    }
    int local = local_ranks_env();
    if (local > 0)
        share_cores(local, 0, argv);
    int provided;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "shardsched: MPI_Init failed\n");
        return 1;
    }
    MPI_Comm comm;
    MPI_Comm_dup(MPI_COMM_WORLD, &comm);
    MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    if (local <= 0)
        share_cores(local_ranks_mpi(comm), 1, argv);
    int rc = help_argv[0] ? commands[i].run(2, help_argv, comm)
                          : commands[i].run(argc - 1, argv + 1, comm);
    if (check_stdout(commands[i].name) && rc == 0)
        rc = 1;
    /* A collective timed out (--collective-timeout, message printed): it can
     * never complete, so neither can MPI_Finalize. */
    if (ss_dist_timed_out())
        MPI_Abort(MPI_COMM_WORLD, rc ? rc : 1);
    /* Every command agrees on its status before returning; a rank that still
     * disagrees here means a bug, and only main may abort. */
    int worst = rc;
    if (MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS)
        MPI_Abort(MPI_COMM_WORLD, 1);
    MPI_Comm_free(&comm);
    MPI_Finalize();
    return worst;
}
