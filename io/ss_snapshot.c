/* ss_snapshot: the HDF5 snapshot format v3 (docs/snapshot-format.md),
 * cluster state in and placements out; version 1 and 2 files are still read, the
 * version 2 and 3 fields taking their neutral values (no inter-pod rules, modes
 * off, placements committed in row order, no victims, no GPU partitioned).
 *
 * Built for 100,000 nodes and 1,000,000 pods: every column of ss_cluster_t
 * is one dataset, written with one H5Dwrite and read with one hyperslab
 * read (ss_h5util), so a snapshot loads in about the time it takes to
 * inflate it. The cluster's columns are described once, in `cols` below;
 * the writer, the reader and the row-count checks all walk that table, so
 * a new column is one line here plus one in the docs (and a version bump).
 */
#include "ss_snapshot.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_h5util.h"
#include "ss_mig_plan_io.h"
#include "ss_reason.h"

#include "ss_snapshot_cols.h"

/* True when the column's memory is exactly rows x width packed elements. */
static bool col_packed(const ss_cluster_t *c, const col_t *col)
{
    return col->field_off == 0 &&
           col->stride == ss_h5_type_size(col->type) * (size_t)ss_snap_col_width(c, col);
}

/* Copies between the cluster's layout and a packed buffer (to_packed: gather). */
static void col_copy(ss_cluster_t *c, const col_t *col, char *packed, bool to_packed)
{
    int32_t rows = *ss_snap_table_count(c, col->table);
    int w = ss_snap_col_width(c, col);
    size_t es = ss_h5_type_size(col->type);
    char *base = *ss_snap_col_array(c, col);
    for (int32_t i = 0; i < rows; i++)
        for (int k = 0; k < w; k++) {
            char *m = base + (size_t)i * col->stride + col->field_off + (size_t)k * es;
            char *p = packed + ((size_t)i * w + k) * es;
            memcpy(to_packed ? p : m, to_packed ? m : p, es);
        }
}

/* ---------------------------------------------------------------- writer */

static int write_col(hid_t f, const char *fname, const ss_cluster_t *cc, const col_t *col,
                     ss_error_t *err)
{
    ss_cluster_t *c = (ss_cluster_t *)cc; /* only read through col_copy(to_packed) */
    char path[96];
    ss_snap_col_path(col, path, sizeof path);
    int32_t rows = *ss_snap_table_count(c, col->table);
    int w = ss_snap_col_width(c, col);
    const char *buf = *ss_snap_col_array(c, col);
    char *tmp = NULL;
    if (rows > 0 && w > 0 && !col_packed(c, col)) {
        tmp = malloc((size_t)rows * (size_t)w * ss_h5_type_size(col->type));
        if (!tmp)
            return ss_error_set(err, SS_ENOMEM, "%s: out of memory writing %s", fname, path);
        col_copy(c, col, tmp, true);
        buf = tmp;
    }
    int rc = ss_h5_col_write(f, fname, path, col->type, col->width == 1 ? 1 : 2, (hsize_t)rows,
                             (hsize_t)w, buf, err);
    free(tmp);
    return rc;
}

static int write_cluster(hid_t f, const char *fname, const ss_cluster_t *c, ss_error_t *err)
{
    static const char *groups[] = {
        "/strings", "/resources", "/nodes",  "/gpus",        "/templates", "/pods",
        "/groups",  "/labels",    "/taints", "/tolerations", "/terms",     "/exprs",
        "/models",  "/spreads",   "/pterms", "/namespaces",  "/pdbs",      "/mig_instances"};
    int rc;
    if ((rc = ss_h5_attr_write_i32(f, fname, "/", "format_version", SS_SNAPSHOT_FORMAT_VERSION,
                                   err)) < 0 ||
        (rc = ss_h5_attr_write_str(f, fname, "/", "kind", "cluster", err)) < 0 ||
        (rc = ss_h5_attr_write_i32(f, fname, "/", "default_spreading", c->default_spreading, err)) <
            0 ||
        (rc = ss_h5_attr_write_i32(f, fname, "/", "locality", c->locality, err)) < 0)
        return rc;
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
        if ((rc = ss_h5_group(f, fname, groups[g], err)) < 0)
            return rc;
    size_t bytes;
    const char *data = ss_strtab_data(c->strings, &bytes);
    int32_t nstr = ss_strtab_count(c->strings);
    if ((rc = ss_h5_col_write(f, fname, "/strings/data", SS_H5_U8, 1, bytes, 0, data, err)) < 0 ||
        (rc = ss_h5_col_write(f, fname, "/strings/offsets", SS_H5_I64, 1, (hsize_t)nstr + 1, 0,
                              ss_strtab_offsets(c->strings), err)) < 0 ||
        (rc = ss_h5_col_write(f, fname, "/resources/name", SS_H5_I32, 1, (hsize_t)c->n_ext, 0,
                              c->ext_name, err)) < 0)
        return rc;
    if ((rc = ss_snap_write_levels(f, fname, c, err)) < 0)
        return rc;
    for (size_t i = 0; i < ss_snap_ncols; i++)
        if ((rc = write_col(f, fname, c, &ss_snap_cols[i], err)) < 0)
            return rc;
    return 0;
}

int ss_snapshot_write(const char *path, const ss_cluster_t *c, ss_error_t *err)
{
    int rc = ss_cluster_validate(c, err);
    if (rc < 0)
        return ss_error_prefix(err, rc, "%s: refusing to write an invalid cluster", path);
    char tmp[4200];
    hid_t f = ss_h5_create_tmp(path, tmp, sizeof tmp, err);
    if (f < 0)
        return (int)f;
    rc = write_cluster(f, path, c, err);
    return ss_h5_finish_tmp(f, tmp, path, rc, err);
}

/* ---------------------------------------------------------------- reader */

/* Reads format_version and kind from the root group and checks them; the
 * version goes to *version when version is not NULL. */
static int check_header(hid_t f, const char *fname, const char *want_kind, int *version,
                        ss_error_t *err)
{
    int32_t v = 0;
    char kind[64] = "";
    int rc = ss_h5_attr_read_i32(f, fname, "/", "format_version", &v, err);
    if (rc == SS_ENOTFOUND)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: attribute format_version missing on / (not a shardsched snapshot)",
                            fname);
    if (rc < 0)
        return rc;
    if (v > SS_SNAPSHOT_FORMAT_VERSION)
        return ss_error_set(err, SS_EVERSION,
                            "%s: format_version %d is newer than this shardsched supports (%d); "
                            "upgrade shardsched",
                            fname, (int)v, SS_SNAPSHOT_FORMAT_VERSION);
    if (v < 1)
        return ss_error_set(err, SS_EVERSION, "%s: format_version %d is not a valid version", fname,
                            (int)v);
    rc = ss_h5_attr_read_str(f, fname, "/", "kind", kind, sizeof kind, err);
    if (rc == SS_ENOTFOUND)
        return ss_error_set(err, SS_EFORMAT, "%s: attribute kind missing on /", fname);
    if (rc < 0)
        return rc;
    if (want_kind && strcmp(kind, want_kind) != 0)
        return ss_error_set(err, SS_EFORMAT, "%s: attribute kind on / is '%s', expected '%s'",
                            fname, kind, want_kind);
    if (version)
        *version = (int)v;
    return 0;
}

static int read_strings(hid_t f, const char *fname, ss_cluster_t *c, ss_error_t *err)
{
    hsize_t nb = 0, no = 0;
    char *data = NULL;
    int64_t *off = NULL;
    int rc;
    if ((rc = ss_h5_col_rows(f, fname, "/strings/data", SS_H5_U8, 1, 0, &nb, err)) < 0 ||
        (rc = ss_h5_col_rows(f, fname, "/strings/offsets", SS_H5_I64, 1, 0, &no, err)) < 0)
        return rc;
    if (no < 2 || no - 1 > INT32_MAX - 1)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: dataset /strings/offsets has %llu rows, expected 2..2^31", fname,
                            (unsigned long long)no);
    if (no - 1 > nb) /* every string takes at least its NUL */
        return ss_error_set(err, SS_EFORMAT,
                            "%s: dataset /strings/offsets declares %llu strings in %llu bytes of "
                            "/strings/data",
                            fname, (unsigned long long)(no - 1), (unsigned long long)nb);
    data = malloc(nb ? nb : 1);
    off = malloc(no * sizeof *off);
    if (!data || !off) {
        rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory reading /strings", fname);
        goto done;
    }
    if ((rc = ss_h5_col_read(f, fname, "/strings/data", SS_H5_U8, 1, 0, 0, nb, data, err)) < 0 ||
        (rc = ss_h5_col_read(f, fname, "/strings/offsets", SS_H5_I64, 1, 0, 0, no, off, err)) < 0)
        goto done;
    const char *why = NULL;
    ss_strtab_t *t = ss_strtab_from_raw(data, nb, off, (int32_t)(no - 1), &why);
    if (!t) {
        rc = ss_error_set(err, SS_EFORMAT, "%s: dataset /strings/offsets: %s", fname, why);
        goto done;
    }
    ss_strtab_destroy(c->strings);
    c->strings = t;
done:
    free(data);
    free(off);
    return rc;
}

static int read_resources(hid_t f, const char *fname, ss_cluster_t *c, ss_error_t *err)
{
    hsize_t n = 0;
    int rc = ss_h5_col_rows(f, fname, "/resources/name", SS_H5_I32, 1, 0, &n, err);
    if (rc < 0)
        return rc;
    if (n > SS_MAX_EXT)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: dataset /resources/name has %llu rows, at most %d are supported",
                            fname, (unsigned long long)n, SS_MAX_EXT);
    c->n_ext = (int32_t)n;
    rc = ss_h5_col_read(f, fname, "/resources/name", SS_H5_I32, 1, 0, 0, n, c->ext_name, err);
    for (int32_t k = 0; rc == 0 && k < c->n_ext; k++)
        if (c->ext_name[k] < 0 || c->ext_name[k] >= ss_strtab_count(c->strings))
            rc = ss_error_set(err, SS_EFORMAT,
                              "%s: dataset /resources/name row %d: string id out of range", fname,
                              (int)k);
    return rc;
}

static int read_col(hid_t f, const char *fname, ss_cluster_t *c, const col_t *col, ss_error_t *err)
{
    char path[96];
    ss_snap_col_path(col, path, sizeof path);
    int32_t rows = *ss_snap_table_count(c, col->table);
    int w = ss_snap_col_width(c, col);
    char *buf = *ss_snap_col_array(c, col), *tmp = NULL;
    if (rows > 0 && w > 0 && !col_packed(c, col)) {
        tmp = malloc((size_t)rows * (size_t)w * ss_h5_type_size(col->type));
        if (!tmp)
            return ss_error_set(err, SS_ENOMEM, "%s: out of memory reading %s", fname, path);
        buf = tmp;
    }
    int rc = ss_h5_col_read(f, fname, path, col->type, col->width == 1 ? 1 : 2, (hsize_t)w, 0,
                            (hsize_t)rows, buf, err);
    if (rc == 0 && tmp)
        col_copy(c, col, tmp, false);
    free(tmp);
    return rc;
}

int ss_snapshot_read(const char *path, ss_cluster_t **out, ss_error_t *err)
{
    *out = NULL;
    ss_cluster_t *c = NULL;
    int version = 0;
    hid_t f = ss_h5_open(path, err);
    if (f < 0)
        return (int)f;
    int rc = check_header(f, path, "cluster", &version, err);
    if (rc < 0)
        goto done;
    if (!(c = ss_cluster_create())) {
        rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if ((rc = read_strings(f, path, c, err)) < 0 || (rc = read_resources(f, path, c, err)) < 0 ||
        (rc = ss_snap_read_modes(f, path, version, c, err)) < 0 ||
        (rc = ss_snap_read_levels(f, path, version, c, err)) < 0 ||
        (rc = ss_snap_size_tables(f, path, version, c, err)) < 0)
        goto done;
    for (size_t i = 0; i < ss_snap_ncols; i++)
        if (ss_snap_col_in(&ss_snap_cols[i], version) &&
            (rc = read_col(f, path, c, &ss_snap_cols[i], err)) < 0)
            goto done;
    if ((rc = ss_snap_check_topo_names(path, c, err)) < 0 ||
        (rc = ss_snap_upgrade(path, version, c, err)) < 0)
        goto done;
    if ((rc = ss_cluster_validate(c, err)) < 0) {
        ss_error_prefix(err, rc, "%s", path);
        goto done;
    }
    *out = c;
    c = NULL;
done:
    ss_cluster_destroy(c);
    H5Fclose(f);
    return rc;
}

/* ------------------------------------------------------------ placements */

/* The checks of one row that need no cluster. */
static int check_row(const char *fname, const ss_placements_t *p, int32_t r, ss_error_t *err)
{
    if (p->reason[r] < 0 || p->reason[r] >= SS_REASON_COUNT)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: dataset /placements/reason row %d: unknown reason code %d", fname,
                            (int)r, (int)p->reason[r]);
    if (p->node[r] < -1)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: dataset /placements/node row %d: %d is not a node (-1 = "
                            "unschedulable)",
                            fname, (int)r, (int)p->node[r]);
    if ((p->node[r] >= 0) != (p->reason[r] == SS_REASON_NONE))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: dataset /placements/reason row %d: reason %d does not agree "
                            "with node %d",
                            fname, (int)r, (int)p->reason[r], (int)p->node[r]);
    if (p->node[r] < 0 && p->gpu_mask[r] != 0)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: dataset /placements/gpu_mask row %d set on an unschedulable pod",
                            fname, (int)r);
    if (p->seq[r] < -1 || p->seq[r] >= p->n || (p->node[r] < 0 && p->seq[r] != -1))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: dataset /placements/seq row %d: %d is not -1 (unplaced) or a "
                            "commit position 0..%d of a placed pod",
                            fname, (int)r, (int)p->seq[r], (int)p->n - 1);
    return 0;
}

/* seq: every placed row has a position (unique), or none has (-1 for all:
 * read as row order). */
static int check_seq(const char *fname, const ss_placements_t *p, ss_error_t *err)
{
    uint8_t *seen = calloc(p->n > 0 ? (size_t)p->n : 1, 1);
    if (!seen)
        return ss_error_set(err, SS_ENOMEM, "%s: out of memory checking /placements/seq", fname);
    int32_t with = 0, placed = 0, first_without = -1;
    int rc = 0;
    for (int32_t r = 0; r < p->n && rc == 0; r++) {
        if (p->node[r] < 0 || p->seq[r] < 0 || p->seq[r] >= p->n) {
            if (p->node[r] >= 0 && first_without < 0)
                first_without = r;
            placed += p->node[r] >= 0;
            continue;
        }
        placed++;
        with++;
        if (seen[p->seq[r]]++)
            rc = ss_error_set(err, SS_EFORMAT,
                              "%s: dataset /placements/seq row %d: commit position %d appears "
                              "twice",
                              fname, (int)r, (int)p->seq[r]);
    }
    free(seen);
    if (rc == 0 && with > 0 && with < placed)
        rc = ss_error_set(err, SS_EFORMAT,
                          "%s: dataset /placements/seq row %d: a placed pod without a commit "
                          "position (-1) while others have one",
                          fname, (int)first_without);
    return rc;
}

int ss_placements_check(const char *fname, const ss_cluster_t *c, const ss_placements_t *p,
                        int32_t lo, int32_t hi, ss_error_t *err)
{
    int32_t pending = 0, q = 0;
    if (c) {
        for (int32_t i = 0; i < c->n_pods; i++)
            pending += c->pod_node[i] < 0;
        if (p->n != pending)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: dataset /placements/pod has %d rows, the cluster has %d "
                                "pending pods",
                                fname, (int)p->n, (int)pending);
        for (int32_t seen = 0; q < c->n_pods; q++) /* q: the pending pod of row lo */
            if (c->pod_node[q] < 0 && seen++ == lo)
                break;
    }
    for (int32_t r = lo; r < hi; r++, q++) {
        int rc = check_row(fname, p, r, err);
        if (rc < 0)
            return rc;
        if (!c)
            continue;
        while (q < c->n_pods && c->pod_node[q] >= 0)
            q++;
        int32_t node = p->node[r];
        if (p->pod[r] != q)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: dataset /placements/pod row %d is %d, expected pending pod %d",
                                fname, (int)r, (int)p->pod[r], (int)q);
        if (node >= c->n_nodes)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: dataset /placements/node row %d: node %d out of range "
                                "(%d nodes)",
                                fname, (int)r, (int)node, (int)c->n_nodes);
        /* A MIG pod's mask names MIG instances, of the layout after the
         * file's re-layout if any: verify checks those. */
        if (node >= 0 && c->node_gpu_count[node] < 64 &&
            c->templates[c->pod_template[q]].mig_count == 0 &&
            (p->gpu_mask[r] >> c->node_gpu_count[node]) != 0)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: dataset /placements/gpu_mask row %d names a GPU node %d "
                                "does not have",
                                fname, (int)r, (int)node);
    }
    return 0;
}

/* One victim row: the preemptor row is placed; with c, the pod is a running
 * pod on the preemptor's node. */
static int check_victim(const char *fname, const ss_cluster_t *c, const ss_placements_t *p,
                        int32_t v, ss_error_t *err)
{
    int32_t row = p->victim_row[v], pod = p->victim_pod[v];
    if (row < 0 || row >= p->n || p->node[row] < 0)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: dataset /victims/row row %d: %d is not a placed row of "
                            "/placements",
                            fname, (int)v, (int)row);
    if (pod < 0 || (c && pod >= c->n_pods))
        return ss_error_set(err, SS_EFORMAT, "%s: dataset /victims/pod row %d: pod %d out of range",
                            fname, (int)v, (int)pod);
    if (c && c->pod_node[pod] < 0)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: dataset /victims/pod row %d: pod %d (%s/%s) is not running", fname,
                            (int)v, (int)pod, ss_cluster_strget(c, c->pod_ns[pod]),
                            ss_cluster_strget(c, c->pod_name[pod]));
    if (c && c->pod_node[pod] != p->node[row])
        return ss_error_set(err, SS_EFORMAT,
                            "%s: dataset /victims/pod row %d: pod %d (%s/%s) runs on another "
                            "node than its preemptor (row %d)",
                            fname, (int)v, (int)pod, ss_cluster_strget(c, c->pod_ns[pod]),
                            ss_cluster_strget(c, c->pod_name[pod]), (int)row);
    return 0;
}

int ss_placements_check_order(const char *fname, const ss_cluster_t *c, const ss_placements_t *p,
                              ss_error_t *err)
{
    int rc = check_seq(fname, p, err);
    uint8_t *seen = c ? calloc(c->n_pods > 0 ? (size_t)c->n_pods : 1, 1) : NULL;
    if (rc == 0 && c && !seen)
        rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory checking /victims", fname);
    for (int32_t v = 0; v < p->n_victims && rc == 0; v++)
        if ((rc = check_victim(fname, c, p, v, err)) == 0 && seen && seen[p->victim_pod[v]]++)
            rc = ss_error_set(err, SS_EFORMAT,
                              "%s: dataset /victims/pod row %d: pod %d is a victim twice", fname,
                              (int)v, (int)p->victim_pod[v]);
    free(seen);
    return rc;
}

/* Human-readable names: "namespace/name" per row and the node's name. */
static int write_names(hid_t f, const char *fname, const ss_cluster_t *c, const ss_placements_t *p,
                       ss_error_t *err)
{
    size_t n = p->n > 0 ? (size_t)p->n : 1;
    const char **nodes = malloc(n * sizeof *nodes);
    const char **pods = malloc(n * sizeof *pods);
    char *full = NULL;
    size_t cap = 0, used = 0;
    int rc = 0;
    for (int32_t r = 0; r < p->n; r++) {
        const char *ns = ss_cluster_strget(c, c->pod_ns[p->pod[r]]);
        const char *nm = ss_cluster_strget(c, c->pod_name[p->pod[r]]);
        cap += strlen(ns) + strlen(nm) + 2;
    }
    full = malloc(cap ? cap : 1);
    if (!nodes || !pods || !full) {
        rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory writing names", fname);
        goto done;
    }
    for (int32_t r = 0; r < p->n; r++) {
        const char *ns = ss_cluster_strget(c, c->pod_ns[p->pod[r]]);
        const char *nm = ss_cluster_strget(c, c->pod_name[p->pod[r]]);
        pods[r] = full + used;
        used += (size_t)sprintf(full + used, "%s%s%s", ns, *ns ? "/" : "", nm) + 1;
        nodes[r] = p->node[r] >= 0 ? ss_cluster_strget(c, c->node_name[p->node[r]]) : "";
    }
    if ((rc = ss_h5_strcol_write(f, fname, "/placements/pod_name", pods, (hsize_t)p->n, err)) < 0)
        goto done;
    rc = ss_h5_strcol_write(f, fname, "/placements/node_name", nodes, (hsize_t)p->n, err);
done:
    free(nodes);
    free(pods);
    free(full);
    return rc;
}

/* /run: what the run measured (docs/snapshot-format.md, "/run group"), the
 * one part of a placements file that depends on the run rather than the
 * snapshot. Written only when something was measured. */
static int write_run(hid_t f, const char *fname, const ss_placements_t *p, ss_error_t *err)
{
    int rc = 0;
    if (p->seconds <= 0 && p->ranks <= 0 && p->threads <= 0)
        return 0;
    if ((rc = ss_h5_group(f, fname, "/run", err)) < 0)
        return rc;
    if (p->seconds > 0 &&
        (rc = ss_h5_attr_write_f64(f, fname, "/run", "schedule_seconds", p->seconds, err)) < 0)
        return rc;
    if (p->ranks > 0 && (rc = ss_h5_attr_write_i32(f, fname, "/run", "ranks", p->ranks, err)) < 0)
        return rc;
    if (p->threads > 0)
        rc = ss_h5_attr_write_i32(f, fname, "/run", "threads", p->threads, err);
    return rc;
}

/* Reads /run when present (all of it is optional; absent = 0). */
/* The optional root attribute preempt_with ("delete" | "evict"): how the
 * run meant its victims to be removed, i.e. whether PDBs were hard. Absent
 * (a file written before it existed): "delete". Anything else is an error. */
static int read_preempt_with(hid_t f, const char *fname, ss_placements_t *p, ss_error_t *err)
{
    char v[32] = "";
    int rc = ss_h5_attr_read_str(f, fname, "/", "preempt_with", v, sizeof v, err);
    p->pdb_hard = 0;
    if (rc == SS_ENOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    if (strcmp(v, "delete") && strcmp(v, "evict"))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: attribute preempt_with on / is '%s', expected 'delete' or 'evict'",
                            fname, v);
    p->pdb_hard = strcmp(v, "evict") == 0;
    return 0;
}

static int read_run(hid_t f, const char *fname, ss_placements_t *p, ss_error_t *err)
{
    int rc = ss_h5_attr_read_f64(f, fname, "/run", "schedule_seconds", &p->seconds, err);
    if (rc == SS_ENOTFOUND) /* where the first description of v1 put it */
        rc = ss_h5_attr_read_f64(f, fname, "/", "schedule_seconds", &p->seconds, err);
    if (rc == 0 || rc == SS_ENOTFOUND)
        rc = ss_h5_attr_read_i32(f, fname, "/run", "ranks", &p->ranks, err);
    if (rc == 0 || rc == SS_ENOTFOUND)
        rc = ss_h5_attr_read_i32(f, fname, "/run", "threads", &p->threads, err);
    return rc == SS_ENOTFOUND ? 0 : rc;
}

static int write_placements(hid_t f, const char *fname, const ss_cluster_t *c,
                            const ss_placements_t *p, ss_error_t *err)
{
    const char *reasons[SS_REASON_COUNT];
    for (int i = 0; i < SS_REASON_COUNT; i++)
        reasons[i] = ss_reason_text(i);
    hsize_t n = (hsize_t)p->n;
    int rc;
    if ((rc = ss_h5_attr_write_i32(f, fname, "/", "format_version", SS_SNAPSHOT_FORMAT_VERSION,
                                   err)) < 0 ||
        (rc = ss_h5_attr_write_str(f, fname, "/", "kind", "placements", err)) < 0 ||
        (rc = ss_h5_attr_write_str(f, fname, "/", "policy", p->policy, err)) < 0 ||
        (rc = ss_h5_attr_write_i32(f, fname, "/", "exhaustive", p->exhaustive ? 1 : 0, err)) < 0 ||
        (rc = ss_h5_attr_write_u64(f, fname, "/", "snapshot_fingerprint", ss_cluster_fingerprint(c),
                                   err)) < 0 ||
        (rc = ss_h5_attr_write_str(f, fname, "/", "preempt_with", p->pdb_hard ? "evict" : "delete",
                                   err)) < 0)
        return rc;
    if ((rc = write_run(f, fname, p, err)) < 0)
        return rc;
    if ((rc = ss_h5_group(f, fname, "/placements", err)) < 0 ||
        (rc = ss_h5_col_write(f, fname, "/placements/pod", SS_H5_I32, 1, n, 0, p->pod, err)) < 0 ||
        (rc = ss_h5_col_write(f, fname, "/placements/node", SS_H5_I32, 1, n, 0, p->node, err)) <
            0 ||
        (rc = ss_h5_col_write(f, fname, "/placements/reason", SS_H5_I32, 1, n, 0, p->reason, err)) <
            0 ||
        (rc = ss_h5_col_write(f, fname, "/placements/gpu_mask", SS_H5_U64, 1, n, 0, p->gpu_mask,
                              err)) < 0 ||
        (rc = ss_h5_col_write(f, fname, "/placements/seq", SS_H5_I32, 1, n, 0, p->seq, err)) < 0 ||
        (rc = ss_h5_strcol_write(f, fname, "/placements/reason_names", reasons, SS_REASON_COUNT,
                                 err)) < 0)
        return rc;
    hsize_t nv = (hsize_t)p->n_victims;
    if ((rc = ss_h5_group(f, fname, "/victims", err)) < 0 ||
        (rc = ss_h5_col_write(f, fname, "/victims/row", SS_H5_I32, 1, nv, 0, p->victim_row, err)) <
            0 ||
        (rc = ss_h5_col_write(f, fname, "/victims/pod", SS_H5_I32, 1, nv, 0, p->victim_pod, err)) <
            0 ||
        (rc = ss_mig_plan_write(f, fname, p, err)) < 0)
        return rc;
    return write_names(f, fname, c, p, err);
}

int ss_placements_write(const char *path, const ss_cluster_t *c, const ss_placements_t *p,
                        ss_error_t *err)
{
    int rc;
    if ((rc = ss_placements_check(path, c, p, 0, p->n, err)) < 0 ||
        (rc = ss_placements_check_order(path, c, p, err)) < 0 ||
        (rc = ss_placements_check_relayout(path, c, p, err)) < 0)
        return ss_error_prefix(err, rc, "refusing to write placements");
    char tmp[4200];
    hid_t f = ss_h5_create_tmp(path, tmp, sizeof tmp, err);
    if (f < 0)
        return (int)f;
    rc = write_placements(f, path, c, p, err);
    return ss_h5_finish_tmp(f, tmp, path, rc, err);
}

static int read_placement_cols(hid_t f, const char *fname, ss_placements_t **out, ss_error_t *err)
{
    static const struct {
        const char *path;
        ss_h5_type_t type;
    } pc[] = {{"/placements/pod", SS_H5_I32},
              {"/placements/node", SS_H5_I32},
              {"/placements/reason", SS_H5_I32},
              {"/placements/gpu_mask", SS_H5_U64}};
    hsize_t n = 0, m = 0;
    int rc;
    for (int i = 0; i < 4; i++) {
        if ((rc = ss_h5_col_rows(f, fname, pc[i].path, pc[i].type, 1, 0, i ? &m : &n, err)) < 0)
            return rc;
        if (i && m != n)
            return ss_error_set(err, SS_EFORMAT, "%s: dataset %s has %llu rows, %s has %llu", fname,
                                pc[i].path, (unsigned long long)m, pc[0].path,
                                (unsigned long long)n);
    }
    if (n > INT32_MAX - 1)
        return ss_error_set(err, SS_EFORMAT, "%s: dataset /placements/pod has too many rows",
                            fname);
    ss_placements_t *p = ss_placements_create((int32_t)n);
    if (!p)
        return ss_error_set(err, SS_ENOMEM, "%s: out of memory for %llu placements", fname,
                            (unsigned long long)n);
    void *bufs[4] = {p->pod, p->node, p->reason, p->gpu_mask};
    for (int i = 0; i < 4; i++)
        if ((rc = ss_h5_col_read(f, fname, pc[i].path, pc[i].type, 1, 0, 0, n, bufs[i], err)) < 0) {
            ss_placements_destroy(p);
            return rc;
        }
    *out = p;
    return 0;
}

/* No commit order recorded (a version 1 file, or -1 on every placed row):
 * the placed rows are taken as committed in row order. */
static void default_seq(ss_placements_t *p)
{
    int32_t k = 0;
    for (int32_t r = 0; r < p->n; r++)
        if (p->node[r] >= 0 && p->seq[r] >= 0)
            return;
    for (int32_t r = 0; r < p->n; r++)
        p->seq[r] = p->node[r] >= 0 ? k++ : -1;
}

/* The version 2 datasets: /placements/seq and /victims (row, pod). */
static int read_order(hid_t f, const char *fname, int version, ss_placements_t *p, ss_error_t *err)
{
    hsize_t n = 0, m = 0;
    int rc = 0;
    if (version >= 2) {
        if ((rc = ss_h5_col_rows(f, fname, "/placements/seq", SS_H5_I32, 1, 0, &n, err)) < 0)
            return rc;
        if (n != (hsize_t)p->n)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: dataset /placements/seq has %llu rows, /placements/pod has %d",
                                fname, (unsigned long long)n, (int)p->n);
        if ((rc = ss_h5_col_read(f, fname, "/placements/seq", SS_H5_I32, 1, 0, 0, n, p->seq, err)) <
                0 ||
            (rc = ss_h5_col_rows(f, fname, "/victims/row", SS_H5_I32, 1, 0, &n, err)) < 0 ||
            (rc = ss_h5_col_rows(f, fname, "/victims/pod", SS_H5_I32, 1, 0, &m, err)) < 0)
            return rc;
        if (n != m || n > INT32_MAX / 2)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: dataset /victims/pod has %llu rows, /victims/row has %llu",
                                fname, (unsigned long long)m, (unsigned long long)n);
        size_t sz = (n ? (size_t)n : 1) * sizeof(int32_t);
        if (!(p->victim_row = malloc(sz)) || !(p->victim_pod = malloc(sz)))
            return ss_error_set(err, SS_ENOMEM, "%s: out of memory for %llu victims", fname,
                                (unsigned long long)n);
        p->n_victims = p->cap_victims = (int32_t)n;
        if ((rc = ss_h5_col_read(f, fname, "/victims/row", SS_H5_I32, 1, 0, 0, n, p->victim_row,
                                 err)) < 0 ||
            (rc = ss_h5_col_read(f, fname, "/victims/pod", SS_H5_I32, 1, 0, 0, n, p->victim_pod,
                                 err)) < 0)
            return rc;
    }
    default_seq(p);
    return 0;
}

int ss_placements_read_unchecked(const char *path, ss_placements_t **out, ss_error_t *err)
{
    int version = 0;
    *out = NULL;
    ss_placements_t *p = NULL;
    int32_t exh = 0;
    hid_t f = ss_h5_open(path, err);
    if (f < 0)
        return (int)f;
    int rc = check_header(f, path, "placements", &version, err);
    if (rc < 0 || (rc = read_placement_cols(f, path, &p, err)) < 0)
        goto done;
    rc = ss_h5_attr_read_str(f, path, "/", "policy", p->policy, sizeof p->policy, err);
    if (rc == 0)
        rc = ss_h5_attr_read_i32(f, path, "/", "exhaustive", &exh, err);
    if (rc == SS_ENOTFOUND)
        rc = ss_error_set(err, SS_EFORMAT, "%s: attribute policy or exhaustive missing on /", path);
    if (rc < 0)
        goto done;
    p->exhaustive = exh != 0;
    rc = ss_h5_attr_read_u64(f, path, "/", "snapshot_fingerprint", &p->fingerprint, err);
    p->has_fingerprint = rc == 0;
    if (rc == SS_ENOTFOUND) /* written before the attribute existed: accepted */
        rc = 0;
    if (rc < 0 || (rc = read_preempt_with(f, path, p, err)) < 0 ||
        (rc = read_run(f, path, p, err)) < 0 || (rc = read_order(f, path, version, p, err)) < 0 ||
        (rc = ss_mig_plan_read(f, path, version, p, err)) < 0 ||
        (rc = ss_placements_check(path, NULL, p, 0, p->n, err)) < 0 ||
        (rc = ss_placements_check_order(path, NULL, p, err)) < 0)
        goto done;
    *out = p;
    p = NULL;
done:
    ss_placements_destroy(p);
    H5Fclose(f);
    return rc;
}

int ss_placements_read(const char *path, const ss_cluster_t *c, ss_placements_t **out,
                       ss_error_t *err)
{
    ss_placements_t *p = NULL;
    int rc = ss_placements_read_unchecked(path, &p, err);
    uint64_t want = rc == 0 && p->has_fingerprint ? ss_cluster_fingerprint(c) : 0;
    if (rc == 0 && p->has_fingerprint && p->fingerprint != want)
        rc = ss_error_set(err, SS_EFORMAT,
                          "%s was computed for another snapshot (fingerprint %016llx, this "
                          "snapshot is %016llx)",
                          path, (unsigned long long)p->fingerprint, (unsigned long long)want);
    if (rc == 0)
        rc = ss_placements_check(path, c, p, 0, p->n, err);
    if (rc == 0)
        rc = ss_placements_check_order(path, c, p, err);
    if (rc == 0)
        rc = ss_placements_check_relayout(path, c, p, err);
    if (rc < 0 && p) {
        ss_placements_destroy(p);
        p = NULL;
    }
    *out = p;
    return rc;
}

int ss_snapshot_kind(const char *path, char *kind, size_t n, ss_error_t *err)
{
    hid_t f = ss_h5_open(path, err);
    if (f < 0)
        return (int)f;
    int rc = check_header(f, path, NULL, NULL, err);
    if (rc == 0)
        rc = ss_h5_attr_read_str(f, path, "/", "kind", kind, n, err);
    H5Fclose(f);
    return rc;
}
