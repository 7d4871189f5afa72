/* ss_openb: importer of the Alibaba OpenB GPU trace CSVs (issue 5). */
#ifndef SS_OPENB_H
#define SS_OPENB_H

#include "ss_error.h"
#include "ss_progress.h"

/* Reads NODES.csv and PODS.csv and writes a trace snapshot to out_path
 * (atomically). Malformed rows give an error naming file, line and column,
 * and nothing is written. progress (may be NULL) is ticked over the pod
 * rows. */
int ss_openb_import(const char *nodes_csv, const char *pods_csv, const char *out_path,
                    const ss_progress_t *progress, ss_error_t *err);

#endif
