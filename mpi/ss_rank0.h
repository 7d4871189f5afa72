/* ss_rank0: the pattern of the single-process commands (verify, inspect,
 * import, replay, bind, gen): rank 0 does the work, every other rank waits
 * for its status, and all ranks return the same one, so that under mpirun
 * every rank exits alike and nothing is done twice. */
#ifndef SS_RANK0_H
#define SS_RANK0_H

#include <mpi.h>

/* Runs fn(ctx) on rank 0 of comm only and broadcasts the exit status it
 * returns; returns that status on every rank. If the broadcast fails, a
 * rank returns its own status, or 1 where that was 0 (after a message on
 * stderr naming cmd). */
int ss_dist_on_rank0(MPI_Comm comm, const char *cmd, int (*fn)(void *ctx), void *ctx);

#endif
