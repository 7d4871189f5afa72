/* ss_count: a counter of the explicit MPI collective operations a process
 * makes, and of the time spent inside them, so that `bench` can report how
 * many collectives the schedule phase needs (issue 11: at most 200 + 2 per
 * pod group with pending members) and the exchange's share of the time.
 *
 * It is a PMPI wrapper (mpi/ss_count.c): it defines MPI_Allreduce,
 * MPI_Allgather, MPI_Bcast, ... (every blocking and non-blocking collective
 * of Open MPI 4's C interface, and MPI_Win_fence), each counting one call and
 * passing it on to PMPI_*. Linking it changes no behaviour; it also counts
 * the collectives HDF5 and MPI-IO make through the same symbols, which is
 * why a caller resets before and reads after the phase it measures. Time
 * spent in MPI_Wait / MPI_Waitall (completing non-blocking operations) is
 * added to the time but not to the count.
 *
 * Not thread-safe: MPI is called from one thread per rank
 * (MPI_THREAD_FUNNELED, cli/main.c). Every rank entering every collective
 * (the project's rule) makes the count the same on every rank. */
#ifndef SS_COUNT_H
#define SS_COUNT_H

#include <stdint.h>

/* Collective calls since the last ss_count_reset (or the start). */
int64_t ss_count_collectives(void);

/* Seconds spent inside those calls (and in MPI_Wait / MPI_Waitall). */
double ss_count_seconds(void);

void ss_count_reset(void);

#endif
