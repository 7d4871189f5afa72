/* ss_cli: the commands of the shardsched binary. Each takes the arguments
 * after the command name (argv[0] is the command name) and the
 * communicator of all ranks, and returns the process exit status. MPI is
 * initialised by main before and finalised after. Single-process tools
 * (verify, explain, inspect, import, bind) do their work on rank 0 only; the other
 * ranks return the same status. */
#ifndef SS_CLI_H
#define SS_CLI_H

#include <mpi.h>

int ss_cmd_gen(int argc, char **argv, MPI_Comm comm);
int ss_cmd_schedule(int argc, char **argv, MPI_Comm comm);
int ss_cmd_consolidate(int argc, char **argv, MPI_Comm comm);
int ss_cmd_verify(int argc, char **argv, MPI_Comm comm);
int ss_cmd_explain(int argc, char **argv, MPI_Comm comm);
int ss_cmd_inspect(int argc, char **argv, MPI_Comm comm);
int ss_cmd_import(int argc, char **argv, MPI_Comm comm);
int ss_cmd_replay(int argc, char **argv, MPI_Comm comm);
int ss_cmd_bind(int argc, char **argv, MPI_Comm comm);
int ss_cmd_bench(int argc, char **argv, MPI_Comm comm);
int ss_cmd_whatif(int argc, char **argv, MPI_Comm comm);

#endif
