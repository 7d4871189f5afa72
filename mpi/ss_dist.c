/* ss_dist: MPI helpers (see ss_dist.h). */
#include "ss_dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

int ss_dist_agree(MPI_Comm comm, int rc)
{
    int worst = rc;
    if (MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS)
        return SS_EMPI;
    return worst;
}

int ss_dist_check(int mpi_rc, const char *what, ss_error_t *err)
{
    if (mpi_rc == MPI_SUCCESS)
        return 0;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(mpi_rc, text, &len);
    return ss_error_set(err, SS_EMPI, "%s failed: %s", what, text);
}

void ss_dist_owned(MPI_Comm comm, int32_t n_shards, int32_t *lo, int32_t *hi)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    *lo = (int32_t)((int64_t)n_shards * rank / size);
    *hi = (int32_t)((int64_t)n_shards * (rank + 1) / size);
}

static int gather(void *ctx, const ss_cand_t *mine, int32_t n, ss_cand_t **all, int32_t *n_all,
                  ss_error_t *err)
{
    MPI_Comm comm = *(MPI_Comm *)ctx;
    int size;
    MPI_Comm_size(comm, &size);
    int *counts = malloc((size_t)size * 2 * sizeof(int));
    if (!counts)
        return ss_error_set(err, SS_ENOMEM, "out of memory gathering proposals");
    int *displs = counts + size;
    int bytes = (int)(n * (int32_t)sizeof(ss_cand_t));
    int rc = ss_dist_check(MPI_Allgather(&bytes, 1, MPI_INT, counts, 1, MPI_INT, comm),
                           "MPI_Allgather", err);
    if (rc < 0) {
        free(counts);
        return rc;
    }
    int64_t total = 0;
    for (int r = 0; r < size; r++) {
        displs[r] = (int)total;
        total += counts[r];
    }
    *all = malloc(total > 0 ? (size_t)total : 1);
    if (!*all) {
        free(counts);
        return ss_error_set(err, SS_ENOMEM, "out of memory gathering proposals");
    }
    rc = ss_dist_check(MPI_Allgatherv(mine, bytes, MPI_BYTE, *all, counts, displs, MPI_BYTE, comm),
                       "MPI_Allgatherv", err);
    free(counts);
    *n_all = (int32_t)(total / (int64_t)sizeof(ss_cand_t));
    return rc;
}

static int sum(void *ctx, int64_t *counts, int32_t n, ss_error_t *err)
{
    MPI_Comm comm = *(MPI_Comm *)ctx;
    return ss_dist_check(MPI_Allreduce(MPI_IN_PLACE, counts, n, MPI_INT64_T, MPI_SUM, comm),
                         "MPI_Allreduce", err);
}

void ss_dist_sched_comm(MPI_Comm *comm, ss_sched_comm_t *ops)
{
    ops->ctx = comm;
    ops->gather = gather;
    ops->sum = sum;
}

int ss_dist_fail(MPI_Comm comm, const char *cmd, int rc, const ss_error_t *err)
{
    /* One message: from the lowest rank that saw an error. */
    int rank, size, first;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    /* A rank that saw the cause (not just "another rank failed") speaks. */
    int mine[2] = {rc < 0 && rc != SS_EPEER ? rank : size, rc < 0 ? rank : size}, firsts[2];
    if (MPI_Allreduce(mine, firsts, 2, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS)
        firsts[0] = firsts[1] = rank;
    first = firsts[0] < size ? firsts[0] : firsts[1];
    if (rc < 0 && rank == first) {
        if (size > 1)
            fprintf(stderr, "shardsched %s: rank %d: %s\n", cmd, rank, err->text);
        else
            fprintf(stderr, "shardsched %s: %s\n", cmd, err->text);
    }
    return ss_dist_agree(comm, rc);
}

double ss_dist_peak_mib(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_maxrss / 1024.0;
}
