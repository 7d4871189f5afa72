/* ss_snapshot_mpi: the snapshot format (docs/snapshot-format.md) read and
 * written by every rank of a communicator with parallel HDF5. The one io/
 * header that includes mpi.h; io/ss_snapshot_mpi.c is the one io/ source
 * that talks MPI (error agreement through mpi/ss_dist.h).
 *
 * Every function here is collective over comm: every rank calls it, with the
 * same arguments except where said. Ranks agree on errors among themselves,
 * so every rank returns 0 or every rank returns < 0; the rank that saw a
 * problem holds its message, the others get SS_EPEER ("another rank
 * failed"). The partition (which nodes a rank owns) is the caller's: the
 * reader takes it as plain data between its two steps. */
#ifndef SS_SNAPSHOT_MPI_H
#define SS_SNAPSHOT_MPI_H

#include <mpi.h>

#include "ss_snapshot.h"

typedef struct ss_snapshot_mpi_reader ss_snapshot_mpi_reader_t;

/* Step 1: opens path with the MPI-IO driver and reads in full the tables
 * every engine needs (strings, templates, pods, pools, node names, topology,
 * cordon flags, label/taint/GPU ranges, GPU models). On success *out is a
 * new cluster (the caller owns it) whose capacity columns are still zero and
 * *r the open reader; the caller computes its partition from *out (e.g.
 * ss_dist_partition) and calls ss_snapshot_read_mpi_end. On failure *r and
 * *out are NULL. */
int ss_snapshot_read_mpi_begin(const char *path, MPI_Comm comm, ss_snapshot_mpi_reader_t **r,
                               ss_cluster_t **out, ss_error_t *err);

/* Step 2: reads the capacity columns (/nodes cpu_milli, memory, pods, ext;
 * /gpus milli) for this rank's nodes [node_lo, node_hi) only (its own range;
 * ranges may differ per rank), runs the serial reader's checks on what this
 * rank read, and closes r (always, also on failure). Capacity rows outside
 * the range stay zero and must not be used. On failure c is left for the
 * caller to destroy. */
int ss_snapshot_read_mpi_end(ss_snapshot_mpi_reader_t *r, ss_cluster_t *c, int32_t node_lo,
                             int32_t node_hi, ss_error_t *err);

/* Writes placements as ss_placements_write does (same datasets, types and
 * attributes) into "<path>.tmp.<pid of rank 0>", renamed to path by rank 0
 * when every rank succeeded; on any failure the temporary is removed and no
 * file is left at path. Each rank writes an even, contiguous slab of rows
 * (c and p must be the same on every rank) with collective writes; the /run
 * attributes hold rank 0's values. */
int ss_placements_write_mpi(const char *path, MPI_Comm comm, const ss_cluster_t *c,
                            const ss_placements_t *p, ss_error_t *err);

#endif
