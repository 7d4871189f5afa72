/* ss_h5util: column helpers for the HDF5 snapshot format
 * (docs/snapshot-format.md). A "column" is one dataset of fixed-width
 * integers, 1-D (rows) or 2-D (rows x cols). Writers create it chunked
 * (min(rows, 65536) rows per chunk) with shuffle + deflate level 1 and no
 * object time stamps, so that identical content gives identical bytes;
 * readers check type class, size, signedness and rank before reading, and
 * can read any row range [lo, hi) as one hyperslab, which is what a rank
 * reading its shard of the nodes needs.
 *
 * Every error is one line naming the file and the dataset
 * ("c.h5: dataset /pods/node has type float64, expected int32").
 * `fname` arguments are only used in those messages.
 */
#ifndef SS_H5UTIL_H
#define SS_H5UTIL_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "ss_error.h"

/* Element types of columns. On disk they are little-endian with the width
 * in the name; in memory the native type of the same width. */
typedef enum { SS_H5_I32, SS_H5_I64, SS_H5_U8, SS_H5_U64, SS_H5_F64 } ss_h5_type_t;

#define SS_H5_CHUNK_ROWS 65536

/* Size in bytes of one element of type t. */
size_t ss_h5_type_size(ss_h5_type_t t);

/* Turns off HDF5's automatic error printing (readers report one line). */
void ss_h5_quiet(void);

/* Copies the innermost message of HDF5's current error stack into buf
 * ("" when there is none). */
void ss_h5_last_error(char *buf, size_t n);

/* Why a write failed, for messages: " (HDF5 says: file write failed; No
 * space left on device)" into buf, from HDF5's error stack and e, the errno
 * saved right after the failing call (0: look for one in the stack, then, if
 * path is given, whether path's file system is full: the MPI-IO driver
 * drops errno). "" when nothing says anything. */
void ss_h5_write_why(char *buf, size_t n, int e, const char *path);

/* Closes a file being written after a failure (failed != 0) or for good:
 * when the write failed, the temporary tmp is first truncated to 0 bytes so
 * that a full disk has room again for HDF5's final metadata flush, and the
 * close is retried once the same way if HDF5 still holds the file; so no
 * HDF5 handle outlives an error (one left open crashed MPI_Finalize, issue
 * 10 item 14). Returns H5Fclose's status (the first attempt's). Serial files
 * only; the parallel writer does the same collectively. */
herr_t ss_h5_close_written(hid_t file, const char *tmp, int failed);

/* Opens an existing file read-only with the default (serial) driver. Missing
 * file, not an HDF5 file and truncated/corrupt files each get a one-line
 * message. Returns the file id (>= 0) or a negative SS_E* code. */
hid_t ss_h5_open(const char *fname, ss_error_t *err);

/* Creates a group (no time stamps). Returns 0 or SS_EIO. */
int ss_h5_group(hid_t file, const char *fname, const char *path, ss_error_t *err);

/* Writes a column at path (its group must exist): rank 1 (rows elements;
 * cols is ignored) or rank 2 (rows x cols, row-major) elements of t from buf.
 * A dataset with no elements is written contiguous, unfiltered. Returns 0 or
 * SS_EIO. */
int ss_h5_col_write(hid_t file, const char *fname, const char *path, ss_h5_type_t t, int rank,
                    hsize_t rows, hsize_t cols, const void *buf, ss_error_t *err);

/* Writes n strings as a 1-D dataset of fixed-length NUL-terminated strings
 * (width = longest + 1), chunked and compressed like a column. h5dump and
 * h5py show them as text. */
int ss_h5_strcol_write(hid_t file, const char *fname, const char *path, const char *const *strs,
                       hsize_t n, ss_error_t *err);

/* Checks that the dataset at path exists, holds elements of type t, and has
 * the given rank (1, or 2 with exactly cols columns); stores its row count in
 * *rows. Returns 0, SS_ENOTFOUND (missing) or SS_EFORMAT. */
int ss_h5_col_rows(hid_t file, const char *fname, const char *path, ss_h5_type_t t, int rank,
                   hsize_t cols, hsize_t *rows, ss_error_t *err);

/* Reads rows [lo, hi) of the column at path into buf ((hi - lo) elements
 * of t for rank 1, (hi - lo) x cols for rank 2, row-major) after the checks
 * of ss_h5_col_rows; hi must not exceed the row count. This is the one
 * hyperslab read a rank uses for its shard. Works on a file opened with any
 * driver (with MPI-IO it reads independently). Returns 0 or a negative code. */
int ss_h5_col_read(hid_t file, const char *fname, const char *path, ss_h5_type_t t, int rank,
                   hsize_t cols, hsize_t lo, hsize_t hi, void *buf, ss_error_t *err);

/* Attributes on the object at obj_path ("/" for the root group). */
int ss_h5_attr_write_i32(hid_t file, const char *fname, const char *obj_path, const char *name,
                         int32_t v, ss_error_t *err);
int ss_h5_attr_write_f64(hid_t file, const char *fname, const char *obj_path, const char *name,
                         double v, ss_error_t *err);
int ss_h5_attr_write_u64(hid_t file, const char *fname, const char *obj_path, const char *name,
                         uint64_t v, ss_error_t *err);
int ss_h5_attr_write_str(hid_t file, const char *fname, const char *obj_path, const char *name,
                         const char *v, ss_error_t *err);

/* Readers return 0, SS_ENOTFOUND when the attribute does not exist (no
 * message is set then, so optional attributes are easy), or SS_EFORMAT when
 * it has the wrong type or shape. Integer attributes of any width and
 * strings both fixed-length and variable-length (h5py's default) are
 * accepted. */
int ss_h5_attr_read_i32(hid_t file, const char *fname, const char *obj_path, const char *name,
                        int32_t *v, ss_error_t *err);
int ss_h5_attr_read_u64(hid_t file, const char *fname, const char *obj_path, const char *name,
                        uint64_t *v, ss_error_t *err);
int ss_h5_attr_read_f64(hid_t file, const char *fname, const char *obj_path, const char *name,
                        double *v, ss_error_t *err);
int ss_h5_attr_read_str(hid_t file, const char *fname, const char *obj_path, const char *name,
                        char *buf, size_t n, ss_error_t *err);

/* A fixed-length, NUL-terminated string type of width bytes (the caller
 * closes it), or H5I_INVALID_HID. The one string type of the format. */
hid_t ss_h5_fixed_str_type(size_t width);

/* Writes to "<path>.tmp.<pid>" (ss_atomic_tmpname): fills tmp (size n) and creates the file
 * (no time stamps on the root group). Returns the file id or a negative code
 * with a message (e.g. the directory does not exist). */
hid_t ss_h5_create_tmp(const char *path, char *tmp, size_t n, ss_error_t *err);

/* Closes file and, when rc == 0, commits tmp to path (ss_atomic_commit:
 * fsync, rename); otherwise (or if the
 * close or rename fails) removes tmp. Returns rc or the new error code. */
int ss_h5_finish_tmp(hid_t file, const char *tmp, const char *path, int rc, ss_error_t *err);

/* The native memory type for a column type (H5I_INVALID_HID if unknown). */
hid_t ss_h5_mem_type(ss_h5_type_t t);

#endif
