/* ss_openb: importer of the Alibaba OpenB GPU trace CSVs (issue 5). */
#ifndef SS_OPENB_H
#define SS_OPENB_H

#include "ss_error.h"

/* Reads NODES.csv and PODS.csv and writes a trace snapshot to out_path
 * (atomically). Malformed rows give an error naming file, line and column,
 * and nothing is written. */
int ss_openb_import(const char *nodes_csv, const char *pods_csv, const char *out_path,
                    ss_error_t *err);

#endif
