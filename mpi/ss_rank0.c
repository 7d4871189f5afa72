/* ss_rank0: rank 0 works, the others wait for its status (ss_rank0.h). */
#include "ss_rank0.h"

#include <stdio.h>

int ss_dist_on_rank0(MPI_Comm comm, const char *cmd, int (*fn)(void *ctx), void *ctx)
{
    int rank = 0, status = 0;
    if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS) {
        fprintf(stderr, "shardsched %s: MPI_Comm_rank failed\n", cmd);
        return 1;
    }
    if (rank == 0)
        status = fn(ctx);
    int mine = status;
    if (MPI_Bcast(&status, 1, MPI_INT, 0, comm) != MPI_SUCCESS) {
        fprintf(stderr, "shardsched %s: MPI_Bcast of the status failed\n", cmd);
        return mine ? mine : 1;
    }
    return status;
}
