/* ss_metrics: the HDF5 metrics writer (layout in ss_metrics.h), built on the
 * column helpers of ss_h5util (chunked, compressed, no time stamps). */
#include <stdio.h>

#include "ss_h5util.h"
#include "ss_metrics.h"

static ss_h5_type_t h5type(ss_metric_type_t t)
{
    return t == SS_METRIC_I32 ? SS_H5_I32 : t == SS_METRIC_I64 ? SS_H5_I64 : SS_H5_F64;
}

int ss_metrics_write(const char *path, int64_t rows, const ss_metric_col_t *cols, int ncols,
                     const ss_metric_attr_t *attrs, int nattrs, ss_error_t *err)
{
    if (rows < 0 || ncols < 0 || nattrs < 0)
        return ss_error_set(err, SS_EINVAL, "%s: bad metrics table", path);
    char tmp[4096], ds[512];
    ss_h5_quiet();
    hid_t f = ss_h5_create_tmp(path, tmp, sizeof tmp, err);
    if (f < 0)
        return (int)f;
    int rc = ss_h5_attr_write_i32(f, path, "/", "format_version", SS_METRICS_FORMAT_VERSION, err);
    if (!rc)
        rc = ss_h5_attr_write_str(f, path, "/", "kind", "metrics", err);
    for (int i = 0; i < nattrs && !rc; i++)
        rc = attrs[i].str ? ss_h5_attr_write_str(f, path, "/", attrs[i].name, attrs[i].str, err)
                          : ss_h5_attr_write_f64(f, path, "/", attrs[i].name, attrs[i].num, err);
    if (!rc)
        rc = ss_h5_group(f, path, "/metrics", err);
    for (int i = 0; i < ncols && !rc; i++) {
        if ((size_t)snprintf(ds, sizeof ds, "/metrics/%s", cols[i].name) >= sizeof ds) {
            rc = ss_error_set(err, SS_EINVAL, "%s: column name too long", path);
            break;
        }
        rc = ss_h5_col_write(f, path, ds, h5type(cols[i].type), 1, (hsize_t)rows, 0, cols[i].data,
                             err);
    }
    return ss_h5_finish_tmp(f, tmp, path, rc, err);
}
