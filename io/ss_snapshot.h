/* ss_snapshot: the HDF5 snapshot format (docs/snapshot-format.md): cluster
 * state in, placements out. Writers write to "<path>.tmp.<pid>" and rename,
 * so a failure never leaves a half-written file at path. Readers validate
 * everything (ss_cluster_validate) and refuse a newer format_version. */
#ifndef SS_SNAPSHOT_H
#define SS_SNAPSHOT_H

#include <mpi.h>
#include <stddef.h>

#include "ss_cluster.h"
#include "ss_placements.h"

#define SS_SNAPSHOT_FORMAT_VERSION 1

/* Reads the whole cluster. On success *out is a new cluster the caller owns.
 * On failure returns a negative code with a one-line message naming the file
 * and dataset, and *out is NULL. */
int ss_snapshot_read(const char *path, ss_cluster_t **out, ss_error_t *err);

/* Writes c (which must validate) to path atomically. */
int ss_snapshot_write(const char *path, const ss_cluster_t *c, ss_error_t *err);

/* Writes placements for the cluster c (pod names are copied in for human
 * readers) atomically. */
int ss_placements_write(const char *path, const ss_cluster_t *c, const ss_placements_t *p,
                        ss_error_t *err);

/* Reads placements, checking them against c (row count = pending pods, pod
 * indices pending and increasing, nodes in range, reasons known). */
int ss_placements_read(const char *path, const ss_cluster_t *c, ss_placements_t **out,
                       ss_error_t *err);

/* Reads a placements file on its own (for inspect): checks types, row
 * counts, reason codes and node >= -1, but not against a cluster. */
int ss_placements_read_unchecked(const char *path, ss_placements_t **out, ss_error_t *err);

/* Reads the root attribute `kind` ("cluster", "placements", ...) into kind
 * (n bytes) after checking format_version. Returns 0 or a negative code. */
int ss_snapshot_kind(const char *path, char *kind, size_t n, ss_error_t *err);

/* ---- parallel reading and writing (io/ss_snapshot_mpi.c) ----
 * Collective over comm: every rank calls them, with the same arguments. They
 * agree on errors among themselves, so every rank returns 0 or every rank
 * returns < 0; the rank that saw a problem holds its message, the others get
 * SS_EPEER ("another rank failed"). */

/* Reads a cluster snapshot with the MPI-IO driver. Every rank reads in full
 * the tables every engine needs (strings, templates, pods, pools, node
 * names, topology, cordon flags, label/taint/GPU ranges, GPU models) and the
 * capacity columns (/nodes cpu_milli, memory, pods, ext; /gpus milli) only
 * for its own nodes [*node_lo, *node_hi): its block of the virtual shards of
 * ss_sched_shards(c, shard_nodes) (0 = the default shard size), assigned as
 * ss_dist_owned does. Capacity rows outside that range are zero and must not
 * be used. The serial reader's checks run on what each rank read. On success
 * *out is a new cluster the caller owns; on failure *out is NULL. */
int ss_snapshot_read_mpi(const char *path, MPI_Comm comm, int32_t shard_nodes, ss_cluster_t **out,
                         int32_t *node_lo, int32_t *node_hi, ss_error_t *err);

/* Writes placements as ss_placements_write does (same datasets, types and
 * attributes) into "<path>.tmp.<pid of rank 0>", renamed to path by rank 0
 * when every rank succeeded; on any failure the temporary is removed and no
 * file is left at path. Each rank writes an even, contiguous slab of rows
 * (c and p must be the same on every rank) with collective writes. */
int ss_placements_write_mpi(const char *path, MPI_Comm comm, const ss_cluster_t *c,
                            const ss_placements_t *p, ss_error_t *err);

#endif
