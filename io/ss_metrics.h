/* ss_metrics: HDF5 metrics files written by `shardsched replay`: one
 * dataset per column under /metrics (all of one length), run parameters and
 * summary values as attributes of the root group, which also carries
 * format_version (int32) and kind = "metrics". Written to a temporary file
 * and renamed, without object time stamps, so the same run gives the same
 * bytes (h5diff compares files across rank counts).
 *
 * Workload: ~10^4 rows (FGD protocol, one per pod) to ~10^5 rows (time
 * replay, one per batch); columns are small. */
#ifndef SS_METRICS_H
#define SS_METRICS_H

#include <stdint.h>

#include "ss_error.h"

#define SS_METRICS_FORMAT_VERSION 1

typedef enum { SS_METRIC_I32, SS_METRIC_I64, SS_METRIC_F64 } ss_metric_type_t;

typedef struct {
    const char *name; /* dataset name under /metrics */
    ss_metric_type_t type;
    const void *data; /* rows elements; borrowed for the call */
} ss_metric_col_t;

typedef struct {
    const char *name;
    const char *str; /* string attribute when not NULL, else num */
    double num;
} ss_metric_attr_t;

/* Writes path atomically. Returns 0 or a negative code with a message
 * naming the file. */
int ss_metrics_write(const char *path, int64_t rows, const ss_metric_col_t *cols, int ncols,
                     const ss_metric_attr_t *attrs, int nattrs, ss_error_t *err);

#endif
