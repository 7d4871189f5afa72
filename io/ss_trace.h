/* ss_trace: the /trace group of a trace snapshot (docs/snapshot-format.md,
 * section "/trace group"): per-pod creation_time and deletion_time, node
 * events (add / remove / cordon) and the trace name, next to the cluster
 * that ss_snapshot reads and writes. Also the in-memory OpenB loader that the
 * importer and the tests share.
 *
 * Layout (all int64 little-endian unless said):
 *   /trace                attrs: format_version (int32) = 1, name (string),
 *                         event_kinds = "add,remove,cordon"
 *   /trace/creation_time  [n_pods]  seconds from trace start
 *   /trace/deletion_time  [n_pods]  seconds, -1 = never deleted
 *   /trace/events/time    [n_events]
 *   /trace/events/kind    [n_events] int32: 0 add, 1 remove, 2 cordon
 *   /trace/events/node    [n_events] int32: node row
 */
#ifndef SS_TRACE_H
#define SS_TRACE_H

#include <hdf5.h>

#include "ss_cluster.h"
#include "ss_error.h"
#include "ss_replay.h"

#define SS_TRACE_FORMAT_VERSION 1

/* Writes the /trace group into an open file (fname for messages). */
int ss_trace_write_group(hid_t file, const char *fname, const ss_trace_t *t, ss_error_t *err);

/* Writes cluster c and trace t to path atomically (snapshot first, then the
 * /trace group, then one rename). On failure nothing is left at path. */
int ss_trace_snapshot_write(const char *path, const ss_cluster_t *c, const ss_trace_t *t,
                            ss_error_t *err);

/* Reads the /trace group of path for a cluster of n_pods pods. A snapshot
 * without /trace gets SS_ENOTFOUND. *out is owned by the caller. */
int ss_trace_read(const char *path, int32_t n_pods, ss_trace_t **out, ss_error_t *err);

/* Reads the OpenB CSVs into a new cluster and trace (nothing written).
 * Errors name file, line and column. */
int ss_openb_load(const char *nodes_csv, const char *pods_csv, ss_cluster_t **c_out,
                  ss_trace_t **t_out, ss_error_t *err);

#endif
