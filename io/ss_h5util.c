/* ss_h5util: typed, checked column and attribute helpers over HDF5 (see
 * ss_h5util.h). Used by the snapshot reader/writer and, later, by ranks that
 * read their own row range of the node table. Columns hold up to millions of
 * rows (one per pod); they are written in one H5Dwrite each and read as one
 * hyperslab, so the per-call overhead here does not matter. */
#include "ss_h5util.h"

#include "ss_atomic.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

size_t ss_h5_type_size(ss_h5_type_t t)
{
    static const size_t sz[] = {4, 8, 1, 8, 8};
    return sz[t];
}

/* clang-format off */
static hid_t file_type(ss_h5_type_t t)
{
    switch (t) {
    case SS_H5_I32: return H5T_STD_I32LE;
    case SS_H5_I64: return H5T_STD_I64LE;
    case SS_H5_U8: return H5T_STD_U8LE;
    case SS_H5_U64: return H5T_STD_U64LE;
    case SS_H5_F64: return H5T_IEEE_F64LE;
    }
    return H5I_INVALID_HID;
}

hid_t ss_h5_mem_type(ss_h5_type_t t)
{
    switch (t) {
    case SS_H5_I32: return H5T_NATIVE_INT32;
    case SS_H5_I64: return H5T_NATIVE_INT64;
    case SS_H5_U8: return H5T_NATIVE_UINT8;
    case SS_H5_U64: return H5T_NATIVE_UINT64;
    case SS_H5_F64: return H5T_NATIVE_DOUBLE;
    }
    return H5I_INVALID_HID;
}

/* clang-format on */

static const char *type_name(ss_h5_type_t t)
{
    static const char *names[] = {"int32", "int64", "uint8", "uint64", "float64"};
    return names[t];
}

void ss_h5_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    char *buf = data;
    if (n == 0 && e->desc)
        snprintf(buf, 160, "%s", e->desc);
    return 0;
}

void ss_h5_last_error(char *buf, size_t n)
{
    char inner[160] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, inner);
    snprintf(buf, n, "%s", inner);
}

/* The errno a system call failed with, as HDF5's drivers record it deep in
 * the error stack ("... errno = 28, error message = '...'"); 0 if none. */
static herr_t errno_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    (void)n;
    const char *s = e->desc ? strstr(e->desc, "errno = ") : NULL;
    if (s && *(int *)data == 0)
        *(int *)data = atoi(s + 8);
    return 0;
}

/* ENOSPC when the file system holding path has no block left (the MPI-IO
 * driver reports a failed write without its errno), else 0. */
static int full_disk(const char *path)
{
    char dir[4096];
    struct statvfs v;
    snprintf(dir, sizeof dir, "%s", path ? path : ".");
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        *(slash == dir ? slash + 1 : slash) = '\0';
    return statvfs(dir, &v) == 0 && v.f_bavail == 0 ? ENOSPC : 0;
}

void ss_h5_write_why(char *buf, size_t n, int e, const char *path)
{
    char h5[160];
    ss_h5_last_error(h5, sizeof h5);
    if (e == 0)
        H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, errno_cb, &e);
    if (e == 0 && path)
        e = full_disk(path);
    h5[strcspn(h5, ":\n")] = '\0'; /* the drivers' long "failed: time = ..., errno = ..." */
    if (h5[0] && e)
        snprintf(buf, n, " (HDF5 says: %s; %s)", h5, strerror(e));
    else if (h5[0] || e)
        snprintf(buf, n, " (%s)", h5[0] ? h5 : strerror(e));
    else if (n > 0)
        buf[0] = '\0';
}

herr_t ss_h5_close_written(hid_t file, const char *tmp, int failed)
{
    if (failed && tmp && tmp[0])
        (void)!truncate(tmp, 0);
    herr_t e = H5Fclose(file);
    int saved = errno; /* the caller's message names the first failure */
    if (e < 0 && H5Iis_valid(file) > 0) {
        if (tmp && tmp[0])
            (void)!truncate(tmp, 0);
        H5Fclose(file);
    }
    errno = saved;
    return e;
}

/* Describes a file datatype as "int8", "uint64", "float32", "string"... */
static void describe_type(hid_t ft, char *buf, size_t n)
{
    H5T_class_t cls = H5Tget_class(ft);
    size_t bits = H5Tget_size(ft) * 8;
    if (cls == H5T_INTEGER)
        snprintf(buf, n, "%sint%zu", H5Tget_sign(ft) == H5T_SGN_NONE ? "u" : "", bits);
    else if (cls == H5T_FLOAT)
        snprintf(buf, n, "float%zu", bits);
    else if (cls == H5T_STRING)
        snprintf(buf, n, "string");
    else if (cls == H5T_COMPOUND)
        snprintf(buf, n, "compound");
    else
        snprintf(buf, n, "class %d", (int)cls);
}

static bool type_matches(hid_t ft, ss_h5_type_t t)
{
    H5T_class_t cls = H5Tget_class(ft);
    if (H5Tget_size(ft) != ss_h5_type_size(t))
        return false;
    if (t == SS_H5_F64)
        return cls == H5T_FLOAT;
    if (cls != H5T_INTEGER)
        return false;
    bool want_signed = t == SS_H5_I32 || t == SS_H5_I64;
    return (H5Tget_sign(ft) == H5T_SGN_2) == want_signed;
}

hid_t ss_h5_open(const char *fname, ss_error_t *err)
{
    ss_h5_quiet();
    struct stat st;
    if (stat(fname, &st) != 0)
        return ss_error_set(err, SS_EIO, "%s: cannot open: %s", fname, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return ss_error_set(err, SS_EIO, "%s: not a regular file", fname);
    if (access(fname, R_OK) != 0)
        return ss_error_set(err, SS_EIO, "%s: cannot read: %s", fname, strerror(errno));
    htri_t is = H5Fis_hdf5(fname);
    if (is <= 0)
        return ss_error_set(err, SS_EFORMAT, "%s: not an HDF5 file", fname);
    hid_t f = H5Fopen(fname, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        char why[160];
        ss_h5_last_error(why, sizeof why);
        return ss_error_set(err, SS_EFORMAT,
                            "%s: HDF5 cannot open the file; it is truncated or corrupt (%lld "
                            "bytes; HDF5 says: %s)",
                            fname, (long long)st.st_size, why);
    }
    return f;
}

static hid_t ocpl(hid_t cls)
{
    hid_t p = H5Pcreate(cls);
    if (p >= 0 && H5Pset_obj_track_times(p, 0) < 0) {
        H5Pclose(p);
        return H5I_INVALID_HID;
    }
    return p;
}

int ss_h5_group(hid_t file, const char *fname, const char *path, ss_error_t *err)
{
    hid_t gcpl = ocpl(H5P_GROUP_CREATE);
    hid_t g = gcpl < 0 ? H5I_INVALID_HID : H5Gcreate2(file, path, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    if (gcpl >= 0)
        H5Pclose(gcpl);
    if (g < 0) {
        char why[256];
        ss_h5_write_why(why, sizeof why, errno, fname);
        return ss_error_set(err, SS_EIO, "%s: cannot create group %s%s", fname, path, why);
    }
    H5Gclose(g);
    return 0;
}

/* Creates and writes a dataset of element type ft/mt with dims[rank]. */
static int write_dataset(hid_t file, const char *fname, const char *path, hid_t ft, hid_t mt,
                         int rank, const hsize_t *dims, const void *buf, ss_error_t *err)
{
    int rc = SS_EIO;
    hid_t space = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, d = H5I_INVALID_HID;
    errno = 0;
    hsize_t total = 1;
    for (int i = 0; i < rank; i++)
        total *= dims[i];
    if ((space = H5Screate_simple(rank, dims, NULL)) < 0 || (dcpl = ocpl(H5P_DATASET_CREATE)) < 0)
        goto done;
    if (total > 0) {
        hsize_t chunk[2] = {dims[0] < SS_H5_CHUNK_ROWS ? dims[0] : SS_H5_CHUNK_ROWS,
                            rank > 1 ? dims[1] : 1};
        if (H5Pset_chunk(dcpl, rank, chunk) < 0 || H5Pset_shuffle(dcpl) < 0 ||
            H5Pset_deflate(dcpl, 1) < 0)
            goto done;
    }
    d = H5Dcreate2(file, path, ft, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d < 0)
        goto done;
    if (total > 0 && H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        goto done;
    rc = 0;
done:;
    char why[256] = ""; /* taken before the next HDF5 call clears the error stack */
    if (rc < 0)
        ss_h5_write_why(why, sizeof why, errno, fname);
    if (d >= 0 && (errno = 0, H5Dclose(d)) < 0 && rc == 0) {
        ss_h5_write_why(why, sizeof why, errno, fname);
        rc = SS_EIO;
    }
    if (rc < 0)
        rc = ss_error_set(err, SS_EIO, "%s: cannot write dataset %s%s", fname, path, why);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    return rc;
}

int ss_h5_col_write(hid_t file, const char *fname, const char *path, ss_h5_type_t t, int rank,
                    hsize_t rows, hsize_t cols, const void *buf, ss_error_t *err)
{
    hsize_t dims[2] = {rows, cols};
    return write_dataset(file, fname, path, file_type(t), ss_h5_mem_type(t), rank, dims, buf, err);
}

hid_t ss_h5_fixed_str_type(size_t width)
{
    hid_t st = H5Tcopy(H5T_C_S1);
    if (st >= 0 && (H5Tset_size(st, width) < 0 || H5Tset_strpad(st, H5T_STR_NULLTERM) < 0)) {
        H5Tclose(st);
        return H5I_INVALID_HID;
    }
    return st;
}

int ss_h5_strcol_write(hid_t file, const char *fname, const char *path, const char *const *strs,
                       hsize_t n, ss_error_t *err)
{
    size_t width = 1;
    for (hsize_t i = 0; i < n; i++) {
        size_t l = strlen(strs[i]) + 1;
        if (l > width)
            width = l;
    }
    char *buf = calloc(n ? n : 1, width);
    hid_t st = ss_h5_fixed_str_type(width);
    int rc;
    if (!buf || st < 0) {
        rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory writing %s", fname, path);
    } else {
        for (hsize_t i = 0; i < n; i++)
            memcpy(buf + i * width, strs[i], strlen(strs[i]));
        rc = write_dataset(file, fname, path, st, st, 1, &n, buf, err);
    }
    if (st >= 0)
        H5Tclose(st);
    free(buf);
    return rc;
}

/* Opens the dataset at path, reporting a missing group or dataset. */
static hid_t open_dataset(hid_t file, const char *fname, const char *path, ss_error_t *err)
{
    char group[256];
    snprintf(group, sizeof group, "%s", path);
    char *slash = strrchr(group, '/');
    if (slash && slash != group) {
        *slash = '\0';
        if (H5Lexists(file, group, H5P_DEFAULT) <= 0)
            return ss_error_set(err, SS_ENOTFOUND, "%s: dataset %s is missing (no group %s)", fname,
                                path, group);
    }
    if (H5Lexists(file, path, H5P_DEFAULT) <= 0)
        return ss_error_set(err, SS_ENOTFOUND, "%s: dataset %s is missing", fname, path);
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    if (d < 0)
        return ss_error_set(err, SS_EFORMAT, "%s: %s is not a dataset", fname, path);
    return d;
}

/* The most bytes a dataset may declare per byte it stores: deflate cannot
 * compress better than 1032:1, so a column declaring more than that (plus a
 * little slack for tiny, unallocated or fill-valued datasets) is hostile or
 * corrupt, and is refused before anything is allocated for it (issue 10,
 * item 13: 206 KB declaring 50 million rows). */
#define SS_H5_MAX_RATIO 1100
#define SS_H5_SLACK_BYTES ((hsize_t)1 << 16)

/* Checks that rows x cols elements of t are backed by storage in the file:
 * at most SS_H5_MAX_RATIO x what the dataset stores (never more than the
 * file holds) plus the slack. */
static int check_extent(hid_t d, const char *fname, const char *path, ss_h5_type_t t, hsize_t rows,
                        hsize_t cols, ss_error_t *err)
{
    hsize_t bytes;
    if (__builtin_mul_overflow(rows, cols, &bytes) ||
        __builtin_mul_overflow(bytes, (hsize_t)ss_h5_type_size(t), &bytes))
        return ss_error_set(err, SS_EFORMAT, "%s: dataset %s declares %llu rows, too many", fname,
                            path, (unsigned long long)rows);
    if (bytes <= SS_H5_SLACK_BYTES)
        return 0;
    hsize_t stored = H5Dget_storage_size(d), fsize = 0;
    hid_t f = H5Iget_file_id(d);
    if (f >= 0) {
        if (H5Fget_filesize(f, &fsize) >= 0 && stored > fsize)
            stored = fsize;
        H5Fclose(f);
    }
    if (stored > (bytes - SS_H5_SLACK_BYTES) / SS_H5_MAX_RATIO)
        return 0;
    return ss_error_set(err, SS_EFORMAT,
                        "%s: dataset %s declares %llu rows (%llu bytes) but stores only %llu "
                        "bytes; the file is corrupt or forged",
                        fname, path, (unsigned long long)rows, (unsigned long long)bytes,
                        (unsigned long long)stored);
}

/* Checks d's type and shape; fills *rows. */
static int check_col(hid_t d, const char *fname, const char *path, ss_h5_type_t t, int want_rank,
                     hsize_t cols, hsize_t *rows, ss_error_t *err)
{
    int rc = 0;
    hid_t ft = H5Dget_type(d), sp = H5Dget_space(d);
    if (ft < 0 || sp < 0) {
        rc = ss_error_set(err, SS_EFORMAT, "%s: dataset %s: cannot read its type", fname, path);
        goto done;
    }
    if (!type_matches(ft, t)) {
        char got[32];
        describe_type(ft, got, sizeof got);
        rc = ss_error_set(err, SS_EFORMAT, "%s: dataset %s has type %s, expected %s", fname, path,
                          got, type_name(t));
        goto done;
    }
    int rank = H5Sget_simple_extent_ndims(sp);
    hsize_t dims[2] = {0, 0};
    if (rank != want_rank) {
        rc = ss_error_set(err, SS_EFORMAT, "%s: dataset %s has %d dimensions, expected %d", fname,
                          path, rank, want_rank);
        goto done;
    }
    H5Sget_simple_extent_dims(sp, dims, NULL);
    if (rank == 2 && dims[1] != cols) {
        rc = ss_error_set(err, SS_EFORMAT, "%s: dataset %s has %llu columns, expected %llu", fname,
                          path, (unsigned long long)dims[1], (unsigned long long)cols);
        goto done;
    }
    if ((rc = check_extent(d, fname, path, t, dims[0], rank == 2 ? cols : 1, err)) < 0)
        goto done;
    *rows = dims[0];
done:
    if (ft >= 0)
        H5Tclose(ft);
    if (sp >= 0)
        H5Sclose(sp);
    return rc;
}

int ss_h5_col_rows(hid_t file, const char *fname, const char *path, ss_h5_type_t t, int rank,
                   hsize_t cols, hsize_t *rows, ss_error_t *err)
{
    hid_t d = open_dataset(file, fname, path, err);
    if (d < 0)
        return (int)d;
    int rc = check_col(d, fname, path, t, rank, cols, rows, err);
    H5Dclose(d);
    return rc;
}

int ss_h5_col_read(hid_t file, const char *fname, const char *path, ss_h5_type_t t, int rank,
                   hsize_t cols, hsize_t lo, hsize_t hi, void *buf, ss_error_t *err)
{
    hsize_t rows = 0;
    hid_t fs = H5I_INVALID_HID, ms = H5I_INVALID_HID;
    hid_t d = open_dataset(file, fname, path, err);
    if (d < 0)
        return (int)d;
    int rc = check_col(d, fname, path, t, rank, cols, &rows, err);
    if (rc < 0)
        goto done;
    if (lo > hi || hi > rows) {
        rc = ss_error_set(err, SS_ERANGE, "%s: dataset %s has %llu rows, cannot read [%llu, %llu)",
                          fname, path, (unsigned long long)rows, (unsigned long long)lo,
                          (unsigned long long)hi);
        goto done;
    }
    if (hi == lo || (rank == 2 && cols == 0))
        goto done; /* nothing to read */
    hsize_t start[2] = {lo, 0}, count[2] = {hi - lo, cols};
    rc = ss_error_set(err, SS_EIO, "%s: dataset %s: read failed", fname, path);
    if ((fs = H5Dget_space(d)) < 0 ||
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
        (ms = H5Screate_simple(rank, count, NULL)) < 0)
        goto done;
    if (H5Dread(d, ss_h5_mem_type(t), ms, fs, H5P_DEFAULT, buf) < 0) {
        char why[160];
        ss_h5_last_error(why, sizeof why);
        rc = ss_error_set(err, SS_EIO, "%s: dataset %s: read failed (%s)", fname, path, why);
        goto done;
    }
    rc = 0;
done:
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    H5Dclose(d);
    return rc;
}

/* Creates (replacing) attribute name of type ft on obj_path and writes v. */
static int attr_write(hid_t file, const char *fname, const char *obj_path, const char *name,
                      hid_t ft, hid_t mt, const void *v, ss_error_t *err)
{
    int rc = SS_EIO;
    errno = 0;
    hid_t sp = H5Screate(H5S_SCALAR), a = H5I_INVALID_HID;
    if (sp < 0)
        return ss_error_set(err, SS_EIO, "%s: cannot write attribute %s on %s", fname, name,
                            obj_path);
    if (H5Aexists_by_name(file, obj_path, name, H5P_DEFAULT) > 0)
        H5Adelete_by_name(file, obj_path, name, H5P_DEFAULT);
    a = H5Acreate_by_name(file, obj_path, name, ft, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0 && H5Awrite(a, mt, v) >= 0)
        rc = 0;
    char why[256] = "";
    if (rc < 0)
        ss_h5_write_why(why, sizeof why, errno, fname);
    if (a >= 0 && H5Aclose(a) < 0 && rc == 0) {
        ss_h5_write_why(why, sizeof why, errno, fname);
        rc = SS_EIO;
    }
    H5Sclose(sp);
    if (rc < 0) {
        rc = ss_error_set(err, SS_EIO, "%s: cannot write attribute %s on %s%s", fname, name,
                          obj_path, why);
    }
    return rc;
}

int ss_h5_attr_write_i32(hid_t file, const char *fname, const char *obj_path, const char *name,
                         int32_t v, ss_error_t *err)
{
    return attr_write(file, fname, obj_path, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &v, err);
}

int ss_h5_attr_write_f64(hid_t file, const char *fname, const char *obj_path, const char *name,
                         double v, ss_error_t *err)
{
    return attr_write(file, fname, obj_path, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v, err);
}

int ss_h5_attr_write_u64(hid_t file, const char *fname, const char *obj_path, const char *name,
                         uint64_t v, ss_error_t *err)
{
    return attr_write(file, fname, obj_path, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &v, err);
}

int ss_h5_attr_write_str(hid_t file, const char *fname, const char *obj_path, const char *name,
                         const char *v, ss_error_t *err)
{
    hid_t st = ss_h5_fixed_str_type(strlen(v) + 1);
    if (st < 0)
        return ss_error_set(err, SS_EIO, "%s: cannot write attribute %s", fname, name);
    int rc = attr_write(file, fname, obj_path, name, st, st, v, err);
    H5Tclose(st);
    return rc;
}

/* Opens attribute name on obj_path: >= 0, or SS_ENOTFOUND without a message. */
static hid_t attr_open(hid_t file, const char *obj_path, const char *name)
{
    if (H5Lexists(file, obj_path, H5P_DEFAULT) <= 0 && strcmp(obj_path, "/") != 0)
        return SS_ENOTFOUND;
    if (H5Aexists_by_name(file, obj_path, name, H5P_DEFAULT) <= 0)
        return SS_ENOTFOUND;
    hid_t a = H5Aopen_by_name(file, obj_path, name, H5P_DEFAULT, H5P_DEFAULT);
    return a < 0 ? SS_ENOTFOUND : a;
}

/* Reads a scalar (or one-element) numeric attribute of class cls as mt. */
static int attr_read_num(hid_t file, const char *fname, const char *obj_path, const char *name,
                         H5T_class_t cls, hid_t mt, void *v, ss_error_t *err)
{
    hid_t a = attr_open(file, obj_path, name);
    if (a < 0)
        return (int)a;
    int rc = ss_error_set(err, SS_EFORMAT, "%s: attribute %s on %s is not a single %s", fname, name,
                          obj_path, cls == H5T_INTEGER ? "integer" : "number");
    hid_t ft = H5Aget_type(a), sp = H5Aget_space(a);
    H5T_class_t got = ft >= 0 ? H5Tget_class(ft) : H5T_NO_CLASS;
    bool ok_class = got == cls || (cls == H5T_FLOAT && got == H5T_INTEGER);
    if (ok_class && sp >= 0 && H5Sget_simple_extent_npoints(sp) == 1 && H5Aread(a, mt, v) >= 0)
        rc = 0;
    if (ft >= 0)
        H5Tclose(ft);
    if (sp >= 0)
        H5Sclose(sp);
    H5Aclose(a);
    return rc;
}

int ss_h5_attr_read_i32(hid_t file, const char *fname, const char *obj_path, const char *name,
                        int32_t *v, ss_error_t *err)
{
    return attr_read_num(file, fname, obj_path, name, H5T_INTEGER, H5T_NATIVE_INT32, v, err);
}

int ss_h5_attr_read_u64(hid_t file, const char *fname, const char *obj_path, const char *name,
                        uint64_t *v, ss_error_t *err)
{
    return attr_read_num(file, fname, obj_path, name, H5T_INTEGER, H5T_NATIVE_UINT64, v, err);
}

int ss_h5_attr_read_f64(hid_t file, const char *fname, const char *obj_path, const char *name,
                        double *v, ss_error_t *err)
{
    return attr_read_num(file, fname, obj_path, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, v, err);
}

int ss_h5_attr_read_str(hid_t file, const char *fname, const char *obj_path, const char *name,
                        char *buf, size_t n, ss_error_t *err)
{
    hid_t a = attr_open(file, obj_path, name);
    if (a < 0)
        return (int)a;
    int rc = ss_error_set(err, SS_EFORMAT, "%s: attribute %s on %s is not a single string", fname,
                          name, obj_path);
    hid_t ft = H5Aget_type(a), sp = H5Aget_space(a), mt = H5I_INVALID_HID;
    if (ft < 0 || sp < 0 || H5Tget_class(ft) != H5T_STRING || H5Sget_simple_extent_npoints(sp) != 1)
        goto done;
    if (H5Tis_variable_str(ft) > 0) {
        char *s = NULL;
        if ((mt = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 ||
            H5Tset_cset(mt, H5Tget_cset(ft)) < 0 || H5Aread(a, mt, &s) < 0)
            goto done;
        snprintf(buf, n, "%s", s ? s : "");
        H5free_memory(s);
    } else {
        size_t w = H5Tget_size(ft);
        char *tmp = calloc(w + 1, 1);
        if (!tmp || H5Aread(a, ft, tmp) < 0) {
            free(tmp);
            goto done;
        }
        snprintf(buf, n, "%s", tmp);
        free(tmp);
    }
    rc = 0;
done:
    if (mt >= 0)
        H5Tclose(mt);
    if (ft >= 0)
        H5Tclose(ft);
    if (sp >= 0)
        H5Sclose(sp);
    H5Aclose(a);
    return rc;
}

hid_t ss_h5_create_tmp(const char *path, char *tmp, size_t n, ss_error_t *err)
{
    ss_h5_quiet();
    int rc = ss_atomic_tmpname(path, tmp, n, err);
    if (rc < 0)
        return rc;
    hid_t fcpl = ocpl(H5P_FILE_CREATE);
    errno = 0;
    hid_t f = fcpl < 0 ? H5I_INVALID_HID : H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    int e = errno;
    if (fcpl >= 0)
        H5Pclose(fcpl);
    if (f < 0) {
        char why[256];
        ss_h5_write_why(why, sizeof why, e, path);
        rc = ss_error_set(err, SS_EIO, "%s: cannot create %s%s", path, tmp, why);
        return ss_atomic_commit(tmp, path, rc, err); /* removes and unregisters tmp */
    }
    return f;
}

int ss_h5_finish_tmp(hid_t file, const char *tmp, const char *path, int rc, ss_error_t *err)
{
    errno = 0;
    if (ss_h5_close_written(file, tmp, rc != 0) < 0 && rc == 0) {
        char why[256];
        ss_h5_write_why(why, sizeof why, errno, path);
        rc = ss_error_set(err, SS_EIO, "%s: cannot close %s%s", path, tmp, why);
    }
    return ss_atomic_commit(tmp, path, rc, err);
}
