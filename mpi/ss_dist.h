/* ss_dist: MPI plumbing shared by the commands: error agreement across
 * ranks, MPI call wrapping, the shard-to-rank assignment and the collective
 * operations the engine's ss_sched_comm_t needs. Only mpi/ talks MPI. */
#ifndef SS_DIST_H
#define SS_DIST_H

#include <mpi.h>

#include "ss_error.h"
#include "ss_sched.h"

/* Agrees on a status: returns the worst (most negative) rc over all ranks.
 * Call it before any collective step that follows work that may fail, so no
 * rank waits in a collective that another rank will never enter. */
int ss_dist_agree(MPI_Comm comm, int rc);

/* Agrees on a status and keeps the messages apart: returns rc on a rank that
 * failed (its message kept), SS_EPEER with "WHAT: another rank failed" in err
 * on a rank that did not while another did, 0 when no rank failed (and
 * SS_EMPI if the agreement itself fails). Every rank returns < 0 or every
 * rank returns 0, so ss_dist_fail prints the message of a rank that saw the
 * cause. */
int ss_dist_agree_err(MPI_Comm comm, int rc, const char *what, ss_error_t *err);

/* --collective-timeout: every collective of this file (the agreements, the
 * exchange, ss_dist_bcast/ss_dist_barrier) gives up after `seconds` (<= 0:
 * never, the default, plain blocking calls). On a timeout the lowest rank
 * still waiting prints "shardsched: rank R: STEP: no answer within
 * --collective-timeout S s; rank(s) that did not arrive: LIST" once, every
 * later collective of this file fails at once, and ss_dist_timed_out()
 * returns 1: main must then MPI_Abort, since the pending collective can
 * never complete (a stopped rank never enters it). Not thread-safe; call
 * these from the thread that called MPI_Init. */
void ss_dist_set_timeout(double seconds);
int ss_dist_timed_out(void);

/* Collectives with the deadline above; step names the step in messages.
 * Return 0 or SS_EMPI with a message in err. */
int ss_dist_allreduce(MPI_Comm comm, const void *in, void *out, int n, MPI_Datatype type, MPI_Op op,
                      const char *step, ss_error_t *err);
int ss_dist_bcast(MPI_Comm comm, void *buf, int n, MPI_Datatype type, int root, const char *step,
                  ss_error_t *err);
int ss_dist_barrier(MPI_Comm comm, const char *step, ss_error_t *err);

/* Converts an MPI error code into SS_EMPI with a message. */
int ss_dist_check(int mpi_rc, const char *what, ss_error_t *err);

/* The partition of a cluster over the ranks of comm, as plain data: the
 * layout (ss_layout_build, from the cluster alone), this rank's contiguous
 * block of its partitions and the node rows that block covers. Computed
 * once per run and handed to the parallel reader (node range), the engine
 * (partition range) and the exchange. */
typedef struct {
    ss_layout_t lay;
    int32_t part_lo, part_hi; /* this rank's partitions [lo, hi) */
    int32_t node_lo, node_hi; /* their node rows [lo, hi) */
} ss_dist_part_t;

void ss_dist_partition(MPI_Comm comm, const ss_layout_t *l, ss_dist_part_t *part);

/* State of the engine's exchanges: one receive buffer that grows. */
typedef struct {
    MPI_Comm comm;
    void *buf; /* gathered records; valid until the next gather */
    size_t cap;
    int *counts; /* 2 x ranks: counts and displacements */
} ss_dist_ctx_t;

/* Fills ops for the engine: each gather is one MPI_Allgather of counts and
 * one MPI_Allgatherv (plus one agreement when the buffer grows), sum is one
 * MPI_Allreduce. ctx must outlive the use of ops; free it with
 * ss_dist_ctx_free. Returns 0 or SS_ENOMEM. */
int ss_dist_sched_comm(MPI_Comm comm, ss_dist_ctx_t *ctx, ss_sched_comm_t *ops);
void ss_dist_ctx_free(ss_dist_ctx_t *ctx);

/* Prints "shardsched CMD: message" on stderr from the rank that saw the
 * error, then agrees on failure; returns the agreed status. */
int ss_dist_fail(MPI_Comm comm, const char *cmd, int rc, const ss_error_t *err);

/* Peak resident set size of this process in MiB (from getrusage). */
double ss_dist_peak_mib(void);

#endif
