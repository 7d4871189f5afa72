/* ss_count: the PMPI wrapper behind ss_count.h. Each MPI_<collective> below
 * counts one call, times it and calls PMPI_<collective> with the same
 * arguments; nothing else changes. The list is every collective of Open MPI
 * 4.1's C interface (blocking and non-blocking) plus MPI_Win_fence. */
#include "ss_count.h"

#include <mpi.h>

static int64_t n_calls;
static double in_calls;

int64_t ss_count_collectives(void)
{
    return n_calls;
}

double ss_count_seconds(void)
{
    return in_calls;
}

void ss_count_reset(void)
{
    n_calls = 0;
    in_calls = 0;
}

/* Counts (when counted) and times one PMPI call, returning its status. */
#define SS_PASS(counted, call)                                                                     \
    do {                                                                                           \
        double t0_ = PMPI_Wtime();                                                                 \
        int rc_ = (call);                                                                          \
        in_calls += PMPI_Wtime() - t0_;                                                            \
        n_calls += (counted);                                                                      \
        return rc_;                                                                                \
    } while (0)

int MPI_Barrier(MPI_Comm comm)
{
    SS_PASS(1, PMPI_Barrier(comm));
}

int MPI_Ibarrier(MPI_Comm comm, MPI_Request *req)
{
    SS_PASS(1, PMPI_Ibarrier(comm, req));
}

int MPI_Bcast(void *buf, int n, MPI_Datatype t, int root, MPI_Comm comm)
{
    SS_PASS(1, PMPI_Bcast(buf, n, t, root, comm));
}

int MPI_Ibcast(void *buf, int n, MPI_Datatype t, int root, MPI_Comm comm, MPI_Request *req)
{
    SS_PASS(1, PMPI_Ibcast(buf, n, t, root, comm, req));
}

int MPI_Allreduce(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op, MPI_Comm comm)
{
    SS_PASS(1, PMPI_Allreduce(s, r, n, t, op, comm));
}

int MPI_Iallreduce(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op, MPI_Comm comm,
                   MPI_Request *req)
{
    SS_PASS(1, PMPI_Iallreduce(s, r, n, t, op, comm, req));
}

int MPI_Reduce(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op, int root, MPI_Comm comm)
{
    SS_PASS(1, PMPI_Reduce(s, r, n, t, op, root, comm));
}

int MPI_Ireduce(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op, int root, MPI_Comm comm,
                MPI_Request *req)
{
    SS_PASS(1, PMPI_Ireduce(s, r, n, t, op, root, comm, req));
}

int MPI_Reduce_scatter(const void *s, void *r, const int rn[], MPI_Datatype t, MPI_Op op,
                       MPI_Comm comm)
{
    SS_PASS(1, PMPI_Reduce_scatter(s, r, rn, t, op, comm));
}

int MPI_Reduce_scatter_block(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op,
                             MPI_Comm comm)
{
    SS_PASS(1, PMPI_Reduce_scatter_block(s, r, n, t, op, comm));
}

int MPI_Scan(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op, MPI_Comm comm)
{
    SS_PASS(1, PMPI_Scan(s, r, n, t, op, comm));
}

int MPI_Exscan(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op, MPI_Comm comm)
{
    SS_PASS(1, PMPI_Exscan(s, r, n, t, op, comm));
}

int MPI_Allgather(const void *s, int sn, MPI_Datatype st, void *r, int rn, MPI_Datatype rt,
                  MPI_Comm comm)
{
    SS_PASS(1, PMPI_Allgather(s, sn, st, r, rn, rt, comm));
}

int MPI_Iallgather(const void *s, int sn, MPI_Datatype st, void *r, int rn, MPI_Datatype rt,
                   MPI_Comm comm, MPI_Request *req)
{
    SS_PASS(1, PMPI_Iallgather(s, sn, st, r, rn, rt, comm, req));
}

int MPI_Allgatherv(const void *s, int sn, MPI_Datatype st, void *r, const int rn[],
                   const int displs[], MPI_Datatype rt, MPI_Comm comm)
{
    SS_PASS(1, PMPI_Allgatherv(s, sn, st, r, rn, displs, rt, comm));
}

int MPI_Iallgatherv(const void *s, int sn, MPI_Datatype st, void *r, const int rn[],
                    const int displs[], MPI_Datatype rt, MPI_Comm comm, MPI_Request *req)
{
    SS_PASS(1, PMPI_Iallgatherv(s, sn, st, r, rn, displs, rt, comm, req));
}

int MPI_Gather(const void *s, int sn, MPI_Datatype st, void *r, int rn, MPI_Datatype rt, int root,
               MPI_Comm comm)
{
    SS_PASS(1, PMPI_Gather(s, sn, st, r, rn, rt, root, comm));
}

int MPI_Gatherv(const void *s, int sn, MPI_Datatype st, void *r, const int rn[], const int displs[],
                MPI_Datatype rt, int root, MPI_Comm comm)
{
    SS_PASS(1, PMPI_Gatherv(s, sn, st, r, rn, displs, rt, root, comm));
}

int MPI_Scatter(const void *s, int sn, MPI_Datatype st, void *r, int rn, MPI_Datatype rt, int root,
                MPI_Comm comm)
{
    SS_PASS(1, PMPI_Scatter(s, sn, st, r, rn, rt, root, comm));
}

int MPI_Scatterv(const void *s, const int sn[], const int displs[], MPI_Datatype st, void *r,
                 int rn, MPI_Datatype rt, int root, MPI_Comm comm)
{
    SS_PASS(1, PMPI_Scatterv(s, sn, displs, st, r, rn, rt, root, comm));
}

int MPI_Alltoall(const void *s, int sn, MPI_Datatype st, void *r, int rn, MPI_Datatype rt,
                 MPI_Comm comm)
{
    SS_PASS(1, PMPI_Alltoall(s, sn, st, r, rn, rt, comm));
}

int MPI_Ialltoall(const void *s, int sn, MPI_Datatype st, void *r, int rn, MPI_Datatype rt,
                  MPI_Comm comm, MPI_Request *req)
{
    SS_PASS(1, PMPI_Ialltoall(s, sn, st, r, rn, rt, comm, req));
}

int MPI_Alltoallv(const void *s, const int sn[], const int sd[], MPI_Datatype st, void *r,
                  const int rn[], const int rd[], MPI_Datatype rt, MPI_Comm comm)
{
    SS_PASS(1, PMPI_Alltoallv(s, sn, sd, st, r, rn, rd, rt, comm));
}

int MPI_Ialltoallv(const void *s, const int sn[], const int sd[], MPI_Datatype st, void *r,
                   const int rn[], const int rd[], MPI_Datatype rt, MPI_Comm comm, MPI_Request *req)
{
    SS_PASS(1, PMPI_Ialltoallv(s, sn, sd, st, r, rn, rd, rt, comm, req));
}

int MPI_Alltoallw(const void *s, const int sn[], const int sd[], const MPI_Datatype st[], void *r,
                  const int rn[], const int rd[], const MPI_Datatype rt[], MPI_Comm comm)
{
    SS_PASS(1, PMPI_Alltoallw(s, sn, sd, st, r, rn, rd, rt, comm));
}

int MPI_Win_fence(int assert_, MPI_Win win)
{
    SS_PASS(1, PMPI_Win_fence(assert_, win));
}

/* Completion of non-blocking operations: timed, not counted. */
int MPI_Wait(MPI_Request *req, MPI_Status *st)
{
    SS_PASS(0, PMPI_Wait(req, st));
}

int MPI_Waitall(int n, MPI_Request reqs[], MPI_Status sts[])
{
    SS_PASS(0, PMPI_Waitall(n, reqs, sts));
}
