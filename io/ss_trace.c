/* ss_trace: reads and writes the /trace group of a trace snapshot (layout in
 * ss_trace.h and docs/snapshot-format.md). A trace snapshot is an ordinary
 * cluster snapshot (ss_snapshot) plus this group, so every other command
 * reads it as a cluster. Sizes: one int64 pair per pod, three columns per
 * node event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_atomic.h"
#include "ss_h5util.h"
#include "ss_snapshot.h"
#include "ss_trace.h"

int ss_trace_write_group(hid_t file, const char *fname, const ss_trace_t *t, ss_error_t *err)
{
    int64_t *del = malloc((size_t)(t->n_pods > 0 ? t->n_pods : 1) * sizeof *del);
    if (!del)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    for (int32_t i = 0; i < t->n_pods; i++)
        del[i] = t->deletion[i] == SS_TRACE_NO_TIME ? -1 : t->deletion[i];
    int rc;
    if ((rc = ss_h5_group(file, fname, "/trace", err)) ||
        (rc = ss_h5_group(file, fname, "/trace/events", err)) ||
        (rc = ss_h5_attr_write_i32(file, fname, "/trace", "format_version", SS_TRACE_FORMAT_VERSION,
                                   err)) ||
        (rc = ss_h5_attr_write_str(file, fname, "/trace", "name", t->name, err)) ||
        (rc = ss_h5_attr_write_str(file, fname, "/trace", "event_kinds", "add,remove,cordon",
                                   err)) ||
        (rc = ss_h5_col_write(file, fname, "/trace/creation_time", SS_H5_I64, 1, (hsize_t)t->n_pods,
                              0, t->creation, err)) ||
        (rc = ss_h5_col_write(file, fname, "/trace/deletion_time", SS_H5_I64, 1, (hsize_t)t->n_pods,
                              0, del, err)) ||
        (rc = ss_h5_col_write(file, fname, "/trace/events/time", SS_H5_I64, 1, (hsize_t)t->n_events,
                              0, t->ev_time, err)) ||
        (rc = ss_h5_col_write(file, fname, "/trace/events/kind", SS_H5_I32, 1, (hsize_t)t->n_events,
                              0, t->ev_kind, err)) ||
        (rc = ss_h5_col_write(file, fname, "/trace/events/node", SS_H5_I32, 1, (hsize_t)t->n_events,
                              0, t->ev_node, err))) {
    }
    free(del);
    return rc;
}

int ss_trace_snapshot_write(const char *path, const ss_cluster_t *c, const ss_trace_t *t,
                            ss_error_t *err)
{
    int rc = ss_trace_validate(t, c, err);
    if (rc)
        return rc;
    char tmp[4096];
    if ((rc = ss_atomic_tmpname(path, tmp, sizeof tmp, err)) < 0)
        return rc;
    if ((rc = ss_snapshot_write(tmp, c, err)))
        return ss_atomic_commit(tmp, path, rc, err); /* unregisters tmp (nothing to remove) */
    ss_h5_quiet();
    hid_t f = H5Fopen(tmp, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0)
        return ss_atomic_commit(
            tmp, path,
            ss_error_set(err, SS_EIO, "%s: cannot reopen the snapshot to add /trace", path), err);
    rc = ss_trace_write_group(f, path, t, err);
    if (ss_h5_close_written(f, tmp, rc != 0) < 0 && !rc) /* no handle outlives an error */
        rc = ss_error_set(err, SS_EIO, "%s: cannot close the file", path);
    return ss_atomic_commit(tmp, path, rc, err);
}

static int read_col(hid_t f, const char *path, const char *ds, ss_h5_type_t ty, hsize_t want,
                    void *buf, ss_error_t *err)
{
    hsize_t rows;
    int rc = ss_h5_col_rows(f, path, ds, ty, 1, 0, &rows, err);
    if (rc)
        return rc;
    if (rows != want)
        return ss_error_set(err, SS_EFORMAT, "%s: dataset %s has %llu rows, expected %llu", path,
                            ds, (unsigned long long)rows, (unsigned long long)want);
    return rows ? ss_h5_col_read(f, path, ds, ty, 1, 0, 0, rows, buf, err) : 0;
}

int ss_trace_read(const char *path, int32_t n_pods, ss_trace_t **out, ss_error_t *err)
{
    *out = NULL;
    hid_t f = ss_h5_open(path, err);
    if (f < 0)
        return (int)f;
    ss_trace_t *t = NULL;
    int32_t ver = 0;
    hsize_t nev = 0;
    int rc = ss_h5_attr_read_i32(f, path, "/trace", "format_version", &ver, err);
    if (rc == SS_ENOTFOUND || H5Lexists(f, "/trace", H5P_DEFAULT) <= 0) {
        rc = ss_error_set(err, SS_ENOTFOUND,
                          "%s: no /trace group (not a trace snapshot; make one "
                          "with 'shardsched import --openb-nodes ...')",
                          path);
        goto out;
    }
    if (rc)
        goto out;
    if (ver > SS_TRACE_FORMAT_VERSION) {
        rc = ss_error_set(err, SS_EVERSION, "%s: /trace format_version %d is newer than %d", path,
                          ver, SS_TRACE_FORMAT_VERSION);
        goto out;
    }
    if ((rc = ss_h5_col_rows(f, path, "/trace/events/time", SS_H5_I64, 1, 0, &nev, err)))
        goto out;
    if (!(t = ss_trace_create(n_pods, (int32_t)nev))) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = read_col(f, path, "/trace/creation_time", SS_H5_I64, (hsize_t)n_pods, t->creation,
                       err)) ||
        (rc = read_col(f, path, "/trace/deletion_time", SS_H5_I64, (hsize_t)n_pods, t->deletion,
                       err)) ||
        (rc = read_col(f, path, "/trace/events/time", SS_H5_I64, nev, t->ev_time, err)) ||
        (rc = read_col(f, path, "/trace/events/kind", SS_H5_I32, nev, t->ev_kind, err)) ||
        (rc = read_col(f, path, "/trace/events/node", SS_H5_I32, nev, t->ev_node, err)))
        goto out;
    rc = ss_h5_attr_read_str(f, path, "/trace", "name", t->name, sizeof t->name, err);
    if (rc == SS_ENOTFOUND)
        rc = 0;
    for (int32_t i = 0; i < n_pods && !rc; i++)
        if (t->deletion[i] == -1)
            t->deletion[i] = SS_TRACE_NO_TIME;
out:
    H5Fclose(f);
    if (rc) {
        ss_trace_destroy(t);
        return rc;
    }
    *out = t;
    return 0;
}
