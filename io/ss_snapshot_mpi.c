/* ss_snapshot_mpi: the snapshot format v2 (docs/snapshot-format.md; v1 files
 * are read too) read and written by every rank of a communicator through
 * parallel HDF5 (MPI-IO).
 *
 * Built for `schedule` under mpirun at 100,000 nodes / 1,000,000 pods: each
 * rank reads in full only what every rank's engine uses (strings, templates,
 * pods, pools, node names, topology, and the node columns that define node
 * classes), and reads the capacity columns (cpu, memory, pods, extended
 * resources, GPU capacity) only for its own contiguous node range, as one
 * hyperslab per column. Placements are written by all ranks into one file,
 * each rank a contiguous slab of rows. Every data transfer is collective
 * (H5FD_MPIO_COLLECTIVE).
 *
 * The partition is the caller's (ss_snapshot_read_mpi_end takes this rank's
 * node range); this file computes none.
 *
 * Errors: every collective step is preceded and followed by an agreement
 * (ss_dist_agree_err, an MPI_Allreduce of the local status), so a bad row seen by one rank fails
 * every rank at the same step: the rank that saw it keeps its message, the
 * others return SS_EPEER. No rank is ever left inside a collective HDF5 call.
 *
 * The columns are the table of ss_snapshot_cols.c, shared with the serial
 * reader (a column's `since` says which file versions have it);
 * test_snapshot_mpi checks that a cluster read here at one rank rewrites
 * byte-identically to the one the serial reader returns, so a column added to
 * one table and not the other fails that test.
 */
#include <errno.h>
#include <mpi.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ss_atomic.h"
#include "ss_dist.h"
#include "ss_h5util.h"
#include "ss_reason.h"
#include "ss_snapshot_mpi.h"

#include "ss_snapshot_cols.h"

/* An open file and what every collective step needs. */
typedef struct {
    hid_t f, dxpl;
    MPI_Comm comm;
    const char *fname;
} pfile_t;

/* Selects rows [lo, hi) of a (rows x cols) space, or nothing when empty. */
static herr_t select_rows(hid_t space, int rank, hsize_t cols, hsize_t lo, hsize_t hi)
{
    hsize_t start[2] = {lo, 0}, count[2] = {hi - lo, cols};
    if (hi == lo || (rank == 2 && cols == 0))
        return H5Sselect_none(space);
    return H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL);
}

/* Collective: reads rows [lo, hi) of the column at path (checked as
 * ss_h5_col_rows does) into buf, packed. Every rank calls it for the same
 * path in the same order with its own range (possibly empty) and its status
 * so far (rc); returns the agreed status. */
static int pread_rows(const pfile_t *pf, const char *path, ss_h5_type_t t, int rank, hsize_t cols,
                      hsize_t lo, hsize_t hi, void *buf, int rc, ss_error_t *err)
{
    hid_t d = H5I_INVALID_HID, fs = H5I_INVALID_HID, ms = H5I_INVALID_HID;
    hsize_t rows = 0;
    if ((rc = ss_dist_agree_err(pf->comm, rc, pf->fname, err)) < 0)
        return rc;
    rc = ss_h5_col_rows(pf->f, pf->fname, path, t, rank, cols, &rows, err);
    if (rc == 0 && (lo > hi || hi > rows))
        rc = ss_error_set(err, SS_ERANGE, "%s: dataset %s has %llu rows, cannot read [%llu, %llu)",
                          pf->fname, path, (unsigned long long)rows, (unsigned long long)lo,
                          (unsigned long long)hi);
    if (rc == 0 && rows > 0 && !(rank == 2 && cols == 0)) {
        hsize_t mdims[2] = {hi > lo ? hi - lo : 1, cols > 0 ? cols : 1};
        if ((d = H5Dopen2(pf->f, path, H5P_DEFAULT)) < 0 || (fs = H5Dget_space(d)) < 0 ||
            select_rows(fs, rank, cols, lo, hi) < 0 ||
            (ms = H5Screate_simple(rank, mdims, NULL)) < 0 || (hi == lo && H5Sselect_none(ms) < 0))
            rc = ss_error_set(err, SS_EIO, "%s: dataset %s: cannot select rows", pf->fname, path);
    }
    if ((rc = ss_dist_agree_err(pf->comm, rc, pf->fname, err)) == 0 && d >= 0) {
        /* d is open on every rank here: rows and cols come from the file. */
        if (H5Dread(d, ss_h5_mem_type(t), ms, fs, pf->dxpl, buf) < 0) {
            char why[160];
            ss_h5_last_error(why, sizeof why);
            rc =
                ss_error_set(err, SS_EIO, "%s: dataset %s: read failed (%s)", pf->fname, path, why);
        }
        rc = ss_dist_agree_err(pf->comm, rc, pf->fname, err);
    }
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

/* ---------------------------------------------------------------- reader */

/* Reads rows [lo, hi) of col into the cluster's array at the same rows. */
static int read_col(const pfile_t *pf, ss_cluster_t *c, const col_t *col, int32_t lo, int32_t hi,
                    ss_error_t *err)
{
    char path[96];
    ss_snap_col_path(col, path, sizeof path);
    int w = ss_snap_col_width(c, col);
    size_t es = ss_h5_type_size(col->type);
    char *base = *(char **)((char *)c + col->arr_off);
    bool packed = col->field_off == 0 && col->stride == es * (size_t)w;
    size_t n = (size_t)(hi - lo) * (size_t)w;
    char *tmp = NULL;
    int rc = 0;
    if (!packed && n > 0 && !(tmp = malloc(n * es)))
        rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory reading %s", pf->fname, path);
    char *buf = packed ? base + (size_t)lo * col->stride : tmp;
    rc = pread_rows(pf, path, col->type, col->width == 1 ? 1 : 2, (hsize_t)w, (hsize_t)lo,
                    (hsize_t)hi, buf ? buf : base, rc, err);
    if (rc == 0 && tmp)
        for (int32_t i = lo; i < hi; i++)
            for (int k = 0; k < w; k++)
                memcpy(base + (size_t)i * col->stride + col->field_off + (size_t)k * es,
                       tmp + ((size_t)(i - lo) * w + k) * es, es);
    free(tmp);
    return rc;
}

static int read_strings(const pfile_t *pf, ss_cluster_t *c, ss_error_t *err)
{
    hsize_t nb = 0, no = 0;
    char *data = NULL;
    int64_t *off = NULL;
    int rc = ss_h5_col_rows(pf->f, pf->fname, "/strings/data", SS_H5_U8, 1, 0, &nb, err);
    if (rc == 0)
        rc = ss_h5_col_rows(pf->f, pf->fname, "/strings/offsets", SS_H5_I64, 1, 0, &no, err);
    if (rc == 0 && (no < 2 || no - 1 > INT32_MAX - 1))
        rc = ss_error_set(err, SS_EFORMAT,
                          "%s: dataset /strings/offsets has %llu rows, expected 2..2^31", pf->fname,
                          (unsigned long long)no);
    if (rc == 0 && no - 1 > nb) /* every string takes at least its NUL */
        rc = ss_error_set(err, SS_EFORMAT,
                          "%s: dataset /strings/offsets declares %llu strings in %llu bytes of "
                          "/strings/data",
                          pf->fname, (unsigned long long)(no - 1), (unsigned long long)nb);
    if (rc == 0 && (!(data = malloc(nb ? nb : 1)) || !(off = malloc(no * sizeof *off))))
        rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory reading /strings", pf->fname);
    char dummy[8];
    rc = pread_rows(pf, "/strings/data", SS_H5_U8, 1, 0, 0, rc == 0 ? nb : 0,
                    data ? (void *)data : dummy, rc, err);
    rc = pread_rows(pf, "/strings/offsets", SS_H5_I64, 1, 0, 0, rc == 0 ? no : 0,
                    off ? (void *)off : dummy, rc, err);
    if (rc == 0) {
        const char *why = NULL;
        ss_strtab_t *t = ss_strtab_from_raw(data, nb, off, (int32_t)(no - 1), &why);
        if (!t) {
            rc = ss_error_set(err, SS_EFORMAT, "%s: dataset /strings/offsets: %s", pf->fname, why);
        } else {
            ss_strtab_destroy(c->strings);
            c->strings = t;
        }
    }
    free(data);
    free(off);
    return rc;
}

static int read_resources(const pfile_t *pf, ss_cluster_t *c, ss_error_t *err)
{
    hsize_t n = 0;
    int rc = ss_h5_col_rows(pf->f, pf->fname, "/resources/name", SS_H5_I32, 1, 0, &n, err);
    if (rc == 0 && n > SS_MAX_EXT)
        rc = ss_error_set(err, SS_EFORMAT,
                          "%s: dataset /resources/name has %llu rows, at most %d are supported",
                          pf->fname, (unsigned long long)n, SS_MAX_EXT);
    if (rc == 0)
        c->n_ext = (int32_t)n;
    rc = pread_rows(pf, "/resources/name", SS_H5_I32, 1, 0, 0, rc == 0 ? n : 0, c->ext_name, rc,
                    err);
    for (int32_t k = 0; rc == 0 && k < c->n_ext; k++)
        if (c->ext_name[k] < 0 || c->ext_name[k] >= ss_strtab_count(c->strings))
            rc = ss_error_set(err, SS_EFORMAT,
                              "%s: dataset /resources/name row %d: string id out of range",
                              pf->fname, (int)k);
    return rc;
}

/* The GPU rows spanned by the ranges of nodes [lo, hi), clamped to the
 * table (a bad range is reported by validation, not here). */
static void owned_gpus(const ss_cluster_t *c, int32_t lo, int32_t hi, int32_t *glo, int32_t *ghi)
{
    int64_t a = c->n_gpus, b = 0;
    for (int32_t i = lo; i < hi; i++)
        if (c->node_gpu_count[i] > 0) {
            int64_t s = c->node_gpu_begin[i], e = s + c->node_gpu_count[i];
            a = s < a ? s : a;
            b = e > b ? e : b;
        }
    a = a < 0 ? 0 : a;
    b = b > c->n_gpus ? c->n_gpus : b;
    *glo = (int32_t)(a < b ? a : 0);
    *ghi = (int32_t)(a < b ? b : 0);
}

/* The checks of the serial reader, on what this rank read. ss_cluster_validate
 * walks every row; the capacity rows of nodes this rank did not read hold
 * zeros, which pass every node check, so only GPU capacity (1..1000) needs a
 * stand-in for the rows not read. */
static int validate_shard(const char *fname, const ss_cluster_t *c, int32_t glo, int32_t ghi,
                          ss_error_t *err)
{
    int rc = ss_snap_check_topo_names(fname, c, err);
    if (rc < 0)
        return rc;
    ss_cluster_t view = *c;
    int32_t *milli = malloc((c->n_gpus > 0 ? (size_t)c->n_gpus : 1) * sizeof *milli);
    if (!milli)
        return ss_error_set(err, SS_ENOMEM, "%s: out of memory validating", fname);
    for (int32_t g = 0; g < c->n_gpus; g++)
        milli[g] = g >= glo && g < ghi ? c->gpu_milli[g] : SS_GPU_MILLI;
    view.gpu_milli = milli;
    rc = ss_cluster_validate(&view, err);
    free(milli);
    return rc < 0 ? ss_error_prefix(err, rc, "%s", fname) : 0;
}

/* Collective open with the MPI-IO driver, after rank 0 checked the header. */
static int open_mpio(const char *path, MPI_Comm comm, pfile_t *pf, ss_error_t *err)
{
    int rank, rc = 0;
    char kind[64] = "";
    MPI_Comm_rank(comm, &rank);
    *pf = (pfile_t){H5I_INVALID_HID, H5I_INVALID_HID, comm, path};
    ss_h5_quiet();
    if (rank == 0 && (rc = ss_snapshot_kind(path, kind, sizeof kind, err)) == 0 &&
        strcmp(kind, "cluster") != 0)
        rc = ss_error_set(err, SS_EFORMAT, "%s: attribute kind on / is '%s', expected 'cluster'",
                          path, kind);
    if ((rc = ss_dist_agree_err(comm, rc, path, err)) < 0)
        return rc;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0 ||
        (pf->f = H5Fopen(path, H5F_ACC_RDONLY, fapl)) < 0) {
        char why[160];
        ss_h5_last_error(why, sizeof why);
        rc = ss_error_set(err, SS_EIO, "%s: cannot open with MPI-IO (HDF5 says: %s)", path, why);
    }
    if (fapl >= 0)
        H5Pclose(fapl);
    if (rc == 0 && ((pf->dxpl = H5Pcreate(H5P_DATASET_XFER)) < 0 ||
                    H5Pset_dxpl_mpio(pf->dxpl, H5FD_MPIO_COLLECTIVE) < 0))
        rc = ss_error_set(err, SS_EIO, "%s: cannot set up collective transfers", path);
    return ss_dist_agree_err(comm, rc, path, err);
}

static void close_pfile(pfile_t *pf)
{
    if (pf->dxpl >= 0)
        H5Pclose(pf->dxpl);
    if (pf->f >= 0)
        H5Fclose(pf->f); /* collective: every rank gets here */
}

struct ss_snapshot_mpi_reader {
    pfile_t pf;
    int32_t version; /* the file's format_version */
};

int ss_snapshot_read_mpi_begin(const char *path, MPI_Comm comm, ss_snapshot_mpi_reader_t **r,
                               ss_cluster_t **out, ss_error_t *err)
{
    *out = NULL;
    *r = NULL;
    ss_snapshot_mpi_reader_t *rd = malloc(sizeof *rd);
    ss_cluster_t *c = NULL;
    int rc = rd ? 0 : ss_error_set(err, SS_ENOMEM, "%s: out of memory", path);
    if ((rc = ss_dist_agree_err(comm, rc, path, err)) < 0) {
        free(rd);
        return rc;
    }
    /* Each step runs on every rank or on none: the status is agreed after
     * each one, so a rank never skips a collective the others enter. */
    rc = open_mpio(path, comm, &rd->pf, err);
    if (rc == 0 && !(c = ss_cluster_create()))
        rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory", path);
    rc = ss_dist_agree_err(comm, rc, path, err);
    int32_t version = 0; /* rank 0 checked it is 1..SS_SNAPSHOT_FORMAT_VERSION */
    if (rc == 0)
        rc = ss_dist_agree_err(
            comm, ss_h5_attr_read_i32(rd->pf.f, path, "/", "format_version", &version, err), path,
            err);
    if (rc == 0)
        rc = ss_dist_agree_err(comm, read_strings(&rd->pf, c, err), path, err);
    if (rc == 0)
        rc = ss_dist_agree_err(comm, read_resources(&rd->pf, c, err), path, err);
    if (rc == 0)
        rc =
            ss_dist_agree_err(comm, ss_snap_read_modes(rd->pf.f, path, version, c, err), path, err);
    if (rc == 0)
        rc = ss_dist_agree_err(comm, ss_snap_read_levels(rd->pf.f, path, version, c, err), path,
                               err);
    if (rc == 0)
        rc = ss_dist_agree_err(comm, ss_snap_size_tables(rd->pf.f, path, version, c, err), path,
                               err);
    rd->version = version;
    for (size_t i = 0; i < ss_snap_ncols && rc == 0; i++)
        if (ss_snap_cols[i].rows == R_ALL && ss_snap_col_in(&ss_snap_cols[i], version))
            rc = read_col(&rd->pf, c, &ss_snap_cols[i], 0,
                          *ss_snap_table_count(c, ss_snap_cols[i].table), err);
    if (rc < 0) {
        close_pfile(&rd->pf);
        free(rd);
        ss_cluster_destroy(c);
        return rc;
    }
    /* Every rank now has the topology and node ranges of all nodes. */
    *out = c;
    *r = rd;
    return 0;
}

int ss_snapshot_read_mpi_end(ss_snapshot_mpi_reader_t *r, ss_cluster_t *c, int32_t node_lo,
                             int32_t node_hi, ss_error_t *err)
{
    const char *path = r->pf.fname;
    int32_t glo = 0, ghi = 0;
    int rc = 0;
    if (node_lo < 0 || node_lo > node_hi || node_hi > c->n_nodes)
        rc = ss_error_set(err, SS_EINVAL, "%s: internal error: node range [%d, %d) of %d nodes",
                          path, (int)node_lo, (int)node_hi, (int)c->n_nodes);
    else
        owned_gpus(c, node_lo, node_hi, &glo, &ghi);
    rc = ss_dist_agree_err(r->pf.comm, rc, path, err);
    for (size_t i = 0; i < ss_snap_ncols && rc == 0; i++)
        if (ss_snap_cols[i].rows != R_ALL && ss_snap_col_in(&ss_snap_cols[i], r->version))
            rc = read_col(&r->pf, c, &ss_snap_cols[i],
                          ss_snap_cols[i].rows == R_NODES ? node_lo : glo,
                          ss_snap_cols[i].rows == R_NODES ? node_hi : ghi, err);
    if (rc == 0)
        rc = ss_dist_agree_err(r->pf.comm, ss_snap_upgrade(path, r->version, c, err), path, err);
    if (rc == 0)
        rc = ss_dist_agree_err(r->pf.comm, validate_shard(path, c, glo, ghi, err), path, err);
    close_pfile(&r->pf);
    free(r);
    return rc;
}

/* ------------------------------------------------------------ placements */

/* Collective: creates the 1-D dataset path of n elements of file type ft,
 * stored as ss_h5_col_write stores columns (chunked, shuffle + deflate 1, no
 * time stamps; contiguous when empty), and writes this rank's rows [lo, hi)
 * from buf (memory type mt) with one collective H5Dwrite. rc: this rank's
 * status so far; returns the agreed status. */
static int pwrite_rows(const pfile_t *pf, const char *path, hid_t ft, hid_t mt, hsize_t n,
                       hsize_t lo, hsize_t hi, const void *buf, int rc, ss_error_t *err)
{
    hid_t sp = H5I_INVALID_HID, ms = H5I_INVALID_HID, dcpl = H5I_INVALID_HID;
    hid_t d = H5I_INVALID_HID;
    hsize_t chunk = n < SS_H5_CHUNK_ROWS ? n : SS_H5_CHUNK_ROWS, mdim = hi > lo ? hi - lo : 1;
    if ((rc = ss_dist_agree_err(pf->comm, rc, pf->fname, err)) < 0)
        return rc;
    if ((sp = H5Screate_simple(1, &n, NULL)) < 0 || (dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0 ||
        H5Pset_obj_track_times(dcpl, 0) < 0 ||
        (n > 0 && (H5Pset_chunk(dcpl, 1, &chunk) < 0 || H5Pset_shuffle(dcpl) < 0 ||
                   H5Pset_deflate(dcpl, 1) < 0)) ||
        (d = H5Dcreate2(pf->f, path, ft, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0)
        rc = ss_error_set(err, SS_EIO, "%s: cannot create dataset %s", pf->fname, path);
    if ((rc = ss_dist_agree_err(pf->comm, rc, pf->fname, err)) == 0 && n > 0) {
        if (select_rows(sp, 1, 0, lo, hi) < 0 || (ms = H5Screate_simple(1, &mdim, NULL)) < 0 ||
            (hi == lo && H5Sselect_none(ms) < 0) ||
            (errno = 0, H5Dwrite(d, mt, ms, sp, pf->dxpl, buf)) < 0) {
            char why[256];
            ss_h5_write_why(why, sizeof why, errno, pf->fname);
            rc = ss_error_set(err, SS_EIO, "%s: cannot write dataset %s%s", pf->fname, path, why);
        }
        rc = ss_dist_agree_err(pf->comm, rc, pf->fname, err);
    }
    if (d >= 0 && H5Dclose(d) < 0 && rc == 0)
        rc = ss_error_set(err, SS_EIO, "%s: cannot write dataset %s", pf->fname, path);
    if (ms >= 0)
        H5Sclose(ms);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (sp >= 0)
        H5Sclose(sp);
    return ss_dist_agree_err(pf->comm, rc, pf->fname, err);
}

/* Collective: a column of n fixed-length strings; this rank holds rows
 * [lo, hi) in strs. The width (longest + 1 over all ranks) is agreed first. */
static int pwrite_strings(const pfile_t *pf, const char *path, hsize_t n, hsize_t lo, hsize_t hi,
                          const char *const *strs, int rc, ss_error_t *err)
{
    unsigned long long w = 1, width = 1;
    for (hsize_t i = 0; rc == 0 && i < hi - lo; i++)
        if (strlen(strs[i]) + 1 > w)
            w = strlen(strs[i]) + 1;
    if (MPI_Allreduce(&w, &width, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, pf->comm) != MPI_SUCCESS &&
        rc == 0)
        rc = ss_error_set(err, SS_EMPI, "%s: MPI_Allreduce failed", pf->fname);
    char *buf = rc == 0 ? calloc(hi > lo ? hi - lo : 1, width) : NULL;
    hid_t st = ss_h5_fixed_str_type(width);
    if (rc == 0 && (!buf || st < 0))
        rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory writing %s", pf->fname, path);
    for (hsize_t i = 0; rc == 0 && i < hi - lo; i++)
        memcpy(buf + i * width, strs[i], strlen(strs[i]));
    rc = pwrite_rows(pf, path, st, st, n, lo, hi, buf, rc, err);
    if (st >= 0)
        H5Tclose(st);
    free(buf);
    return rc;
}

/* Collective: /placements/pod_name and node_name for rows [lo, hi). */
static int write_names(const pfile_t *pf, const ss_cluster_t *c, const ss_placements_t *p,
                       int32_t lo, int32_t hi, int rc, ss_error_t *err)
{
    size_t n = hi > lo ? (size_t)(hi - lo) : 1, cap = 0, used = 0;
    const char **nodes = malloc(n * sizeof *nodes), **pods = malloc(n * sizeof *pods);
    for (int32_t r = lo; r < hi; r++)
        cap += strlen(ss_cluster_strget(c, c->pod_ns[p->pod[r]])) +
               strlen(ss_cluster_strget(c, c->pod_name[p->pod[r]])) + 2;
    char *full = malloc(cap ? cap : 1);
    if (rc == 0 && (!nodes || !pods || !full))
        rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory writing names", pf->fname);
    for (int32_t r = lo; rc == 0 && r < hi; r++) {
        const char *ns = ss_cluster_strget(c, c->pod_ns[p->pod[r]]);
        const char *nm = ss_cluster_strget(c, c->pod_name[p->pod[r]]);
        pods[r - lo] = full + used;
        used += (size_t)sprintf(full + used, "%s%s%s", ns, *ns ? "/" : "", nm) + 1;
        nodes[r - lo] = p->node[r] >= 0 ? ss_cluster_strget(c, c->node_name[p->node[r]]) : "";
    }
    rc = pwrite_strings(pf, "/placements/pod_name", (hsize_t)p->n, (hsize_t)lo, (hsize_t)hi, pods,
                        rc, err);
    rc = pwrite_strings(pf, "/placements/node_name", (hsize_t)p->n, (hsize_t)lo, (hsize_t)hi, nodes,
                        rc, err);
    free(nodes);
    free(pods);
    free(full);
    return rc;
}

/* Collective: the root attributes and every dataset of a placements file. */
static int write_all(const pfile_t *pf, const ss_cluster_t *c, const ss_placements_t *p, int32_t lo,
                     int32_t hi, ss_error_t *err)
{
    const char *fname = pf->fname;
    /* /run holds rank 0's values (they are the same on every rank but the
     * time); attribute and group creation are collective, with the same
     * values everywhere. */
    double run[3] = {p->seconds, p->ranks, p->threads};
    int rc = MPI_Bcast(run, 3, MPI_DOUBLE, 0, pf->comm) == MPI_SUCCESS
                 ? 0
                 : ss_error_set(err, SS_EMPI, "%s: MPI_Bcast failed", fname);
    if (rc == 0)
        rc = ss_h5_attr_write_i32(pf->f, fname, "/", "format_version", SS_SNAPSHOT_FORMAT_VERSION,
                                  err);
    if (rc == 0)
        rc = ss_h5_attr_write_str(pf->f, fname, "/", "kind", "placements", err);
    if (rc == 0)
        rc = ss_h5_attr_write_str(pf->f, fname, "/", "policy", p->policy, err);
    if (rc == 0)
        rc = ss_h5_attr_write_i32(pf->f, fname, "/", "exhaustive", p->exhaustive ? 1 : 0, err);
    if (rc == 0) /* the same on every rank: identity columns are read whole */
        rc = ss_h5_attr_write_u64(pf->f, fname, "/", "snapshot_fingerprint",
                                  ss_cluster_fingerprint(c), err);
    if (rc == 0) /* the same on every rank: ss_run_schedule's options */
        rc = ss_h5_attr_write_str(pf->f, fname, "/", "preempt_with",
                                  p->pdb_hard ? "evict" : "delete", err);
    if (rc == 0 && (run[0] > 0 || run[1] > 0 || run[2] > 0))
        rc = ss_h5_group(pf->f, fname, "/run", err);
    if (rc == 0 && run[0] > 0)
        rc = ss_h5_attr_write_f64(pf->f, fname, "/run", "schedule_seconds", run[0], err);
    if (rc == 0 && run[1] > 0)
        rc = ss_h5_attr_write_i32(pf->f, fname, "/run", "ranks", (int32_t)run[1], err);
    if (rc == 0 && run[2] > 0)
        rc = ss_h5_attr_write_i32(pf->f, fname, "/run", "threads", (int32_t)run[2], err);
    if (rc == 0)
        rc = ss_h5_group(pf->f, fname, "/placements", err);
    hsize_t n = (hsize_t)p->n, l = (hsize_t)lo, h = (hsize_t)hi;
    rc = pwrite_rows(pf, "/placements/pod", H5T_STD_I32LE, H5T_NATIVE_INT32, n, l, h, p->pod + lo,
                     rc, err);
    rc = pwrite_rows(pf, "/placements/node", H5T_STD_I32LE, H5T_NATIVE_INT32, n, l, h, p->node + lo,
                     rc, err);
    rc = pwrite_rows(pf, "/placements/reason", H5T_STD_I32LE, H5T_NATIVE_INT32, n, l, h,
                     p->reason + lo, rc, err);
    rc = pwrite_rows(pf, "/placements/gpu_mask", H5T_STD_U64LE, H5T_NATIVE_UINT64, n, l, h,
                     p->gpu_mask + lo, rc, err);
    rc = pwrite_rows(pf, "/placements/seq", H5T_STD_I32LE, H5T_NATIVE_INT32, n, l, h, p->seq + lo,
                     rc, err);
    /* reason_names: 18 rows, split over ranks like the others. */
    int rank, size;
    MPI_Comm_rank(pf->comm, &rank);
    MPI_Comm_size(pf->comm, &size);
    int32_t rlo = SS_REASON_COUNT * rank / size, rhi = SS_REASON_COUNT * (rank + 1) / size;
    const char *reasons[SS_REASON_COUNT];
    for (int32_t i = rlo; i < rhi; i++)
        reasons[i - rlo] = ss_reason_text(i);
    rc = pwrite_strings(pf, "/placements/reason_names", SS_REASON_COUNT, (hsize_t)rlo, (hsize_t)rhi,
                        reasons, rc, err);
    /* /victims: its rows split over ranks the same even way. */
    int32_t vlo = (int32_t)((int64_t)p->n_victims * rank / size);
    int32_t vhi = (int32_t)((int64_t)p->n_victims * (rank + 1) / size);
    hsize_t nv = (hsize_t)p->n_victims;
    if (rc == 0)
        rc = ss_h5_group(pf->f, fname, "/victims", err);
    rc = pwrite_rows(pf, "/victims/row", H5T_STD_I32LE, H5T_NATIVE_INT32, nv, (hsize_t)vlo,
                     (hsize_t)vhi, p->victim_row ? p->victim_row + vlo : NULL, rc, err);
    rc = pwrite_rows(pf, "/victims/pod", H5T_STD_I32LE, H5T_NATIVE_INT32, nv, (hsize_t)vlo,
                     (hsize_t)vhi, p->victim_pod ? p->victim_pod + vlo : NULL, rc, err);
    return write_names(pf, c, p, lo, hi, rc, err);
}

/* Collective: creates "<path>.tmp.<pid of rank 0>" with the MPI-IO driver;
 * fills tmp (n bytes) with that name on every rank. */
static int create_tmp(const char *path, MPI_Comm comm, char *tmp, size_t n, pfile_t *pf,
                      ss_error_t *err)
{
    int rank, rc = 0;
    MPI_Comm_rank(comm, &rank);
    *pf = (pfile_t){H5I_INVALID_HID, H5I_INVALID_HID, comm, path};
    ss_h5_quiet();
    memset(tmp, 0, n);
    if (rank == 0)
        rc = ss_atomic_tmpname(path, tmp, n, err);
    if (MPI_Bcast(tmp, (int)n, MPI_CHAR, 0, comm) != MPI_SUCCESS && rc == 0)
        rc = ss_error_set(err, SS_EMPI, "%s: MPI_Bcast failed", path);
    if ((rc = ss_dist_agree_err(comm, rc, path, err)) < 0)
        return rc;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (fapl < 0 || fcpl < 0 || H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0 ||
        H5Pset_obj_track_times(fcpl, 0) < 0 ||
        (pf->f = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl)) < 0) {
        char why[160];
        ss_h5_last_error(why, sizeof why);
        rc = ss_error_set(err, SS_EIO, "%s: cannot create %s (%s)", path, tmp, why);
    }
    if (fapl >= 0)
        H5Pclose(fapl);
    if (fcpl >= 0)
        H5Pclose(fcpl);
    if (rc == 0 && ((pf->dxpl = H5Pcreate(H5P_DATASET_XFER)) < 0 ||
                    H5Pset_dxpl_mpio(pf->dxpl, H5FD_MPIO_COLLECTIVE) < 0))
        rc = ss_error_set(err, SS_EIO, "%s: cannot set up collective transfers", path);
    return ss_dist_agree_err(comm, rc, path, err);
}

/* Collective: closes the file being written, so that no HDF5 handle
 * outlives an error (one left open crashed MPI_Finalize on a full disk).
 * After a failure rank 0 first truncates the temporary to 0 bytes, so that
 * the final metadata flush of the collective close finds room; a close that
 * still fails is retried once the same way. Returns the agreed status. */
static int close_written(pfile_t *pf, const char *tmp, int rank, int rc, ss_error_t *err)
{
    const char *path = pf->fname;
    if (pf->f < 0)
        return ss_dist_agree_err(pf->comm, rc, path, err);
    rc = ss_dist_agree_err(pf->comm, rc, path, err); /* every rank knows: a barrier too */
    if (rc < 0 && rank == 0 && tmp[0])
        (void)!truncate(tmp, 0);
    MPI_Barrier(pf->comm);
    errno = 0;
    int closed = H5Fclose(pf->f) >= 0 ? 0 : SS_EIO, e = errno;
    if (ss_dist_agree_err(pf->comm, closed, path, err) < 0) { /* some rank's close failed */
        if (rank == 0 && tmp[0])
            (void)!truncate(tmp, 0);
        MPI_Barrier(pf->comm);
        if (H5Iis_valid(pf->f) > 0)
            H5Fclose(pf->f);
        if (rc == 0 && closed < 0) {
            char why[256];
            ss_h5_write_why(why, sizeof why, e, path);
            rc = ss_error_set(err, SS_EIO, "%s: cannot close %s%s", path, tmp, why);
        }
    }
    pf->f = H5I_INVALID_HID;
    return ss_dist_agree_err(pf->comm, rc, path, err);
}

int ss_placements_write_mpi(const char *path, MPI_Comm comm, const ss_cluster_t *c,
                            const ss_placements_t *p, ss_error_t *err)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    if (p->n_relayout > 0) /* a MIG re-layout plan (small, whole on every rank): rank 0 writes it */
        return ss_dist_agree_err(comm, rank == 0 ? ss_placements_write(path, c, p, err) : 0, path,
                                 err);
    int32_t lo = (int32_t)((int64_t)p->n * rank / size);
    int32_t hi = (int32_t)((int64_t)p->n * (rank + 1) / size);
    int rc = ss_placements_check(path, c, p, lo, hi, err);
    if (rc == 0) /* p is whole on every rank */
        rc = ss_placements_check_order(path, c, p, err);
    if (rc < 0)
        ss_error_prefix(err, rc, "refusing to write placements");
    if ((rc = ss_dist_agree_err(comm, rc, path, err)) < 0)
        return rc;
    char tmp[4200];
    pfile_t pf;
    rc = create_tmp(path, comm, tmp, sizeof tmp, &pf, err);
    if (rc == 0)
        rc = write_all(&pf, c, p, lo, hi, err);
    if (pf.dxpl >= 0)
        H5Pclose(pf.dxpl);
    rc = close_written(&pf, tmp, rank, rc, err);
    if (rank == 0 && tmp[0])
        rc = ss_atomic_commit(tmp, path, rc, err); /* removes tmp on failure */
    return ss_dist_agree_err(comm, rc, path, err);
}
