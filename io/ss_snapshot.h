/* ss_snapshot: the HDF5 snapshot format (docs/snapshot-format.md): cluster
 * state in, placements out. Writers write to "<path>.tmp.<pid>" and rename
 * (io/ss_atomic.h), so a failure never leaves a half-written file at path. Readers validate
 * everything (ss_cluster_validate) and refuse a newer format_version. */
#ifndef SS_SNAPSHOT_H
#define SS_SNAPSHOT_H

#include <stddef.h>

#include "ss_cluster.h"
#include "ss_placements.h"

/* 2: issue 12's inter-pod rules (/spreads, /pterms, /namespaces, /pdbs, the
 * template and pod columns, the modes; placements' seq and /victims).
 * Version 1 files are still read (docs/snapshot-format.md). */
/* 5: issue 14's eviction facts (template flag bits 8..512, docs/snapshot-format.md
 * "Changes from version 4"); the consolidate plan file (kind "plan"). */
#define SS_SNAPSHOT_FORMAT_VERSION 6

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

/* The one placements validator: every reader and writer of placements
 * (serial and parallel) checks rows [lo, hi) of p with it. Without a cluster
 * (c == NULL): reason codes are known, node >= -1, reason agrees with node
 * (placed exactly when node >= 0), no GPU mask on an unplaced pod. With c,
 * also: p->n is the number of pending pods, row r names the r-th pending pod
 * (so pods increase), node < c->n_nodes and the mask names only GPUs the node
 * has. Always: seq is -1 on an unplaced row, in -1..n-1 on a placed one. Messages name fname and
 * the dataset. Returns 0 or SS_EFORMAT. */
int ss_placements_check(const char *fname, const ss_cluster_t *c, const ss_placements_t *p,
                        int32_t lo, int32_t hi, ss_error_t *err);

/* The checks of the whole table that rows [lo, hi) cannot make: the commit
 * order (/placements/seq) holds a unique position for every placed row, or
 * none (-1 everywhere: read as row order); every victim names a placed
 * preemptor row and, with c, a running pod of c on the preemptor's node,
 * each pod at most once. Every reader and writer of placements calls it
 * after ss_placements_check (the parallel writer on every rank: p is whole
 * there). Returns 0 or SS_EFORMAT (SS_ENOMEM). */
int ss_placements_check_order(const char *fname, const ss_cluster_t *c, const ss_placements_t *p,
                              ss_error_t *err);

/* The MIG re-layout of placements (issue 15, /mig_relayout, io/ss_mig_plan_io.c):
 * ss_mig_relayout_check against c (GPU records in range and MIG-capable,
 * layouts of the board's model, valid and canonical, at most 64 instances
 * per node). Every reader and writer of placements with a cluster calls it
 * after ss_placements_check_order. Returns 0 or SS_EFORMAT (message names
 * fname, /mig_relayout, the row, GPU record and node). */
int ss_placements_check_relayout(const char *fname, const ss_cluster_t *c, const ss_placements_t *p,
                                 ss_error_t *err);

/* The parallel reader and writer are in io/ss_snapshot_mpi.h. */

#endif
