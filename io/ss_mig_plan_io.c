/* ss_mig_plan_io: /mig_relayout of a placements file (see ss_mig_plan_io.h).
 *
 * One row per re-laid-out GPU, by increasing GPU record: gpu (int32, the
 * global GPU record), model (string: the ss_mig model name, "" for MIG
 * disabled), inst_begin and inst_count (int32, a range in the instance
 * datasets); one row per new instance: inst_profile (string, the profile
 * name) and inst_start (int32, its first memory slice). */
#include "ss_mig_plan_io.h"

#include <stdlib.h>
#include <string.h>

#include "ss_h5util.h"
#include "ss_mig_relayout.h"
#include "ss_snapshot.h"

#define G "/mig_relayout"
#define NAME_MAX_BYTES 64 /* model and profile names are short */

void ss_mig_plan_cols_free(ss_mig_plan_cols_t *k)
{
    free(k->model);
    free(k->inst_begin);
    free(k->inst_count);
    free(k->inst_profile);
    free(k->inst_start);
    memset(k, 0, sizeof *k);
}

int ss_mig_plan_cols(const char *fname, const ss_placements_t *p, ss_mig_plan_cols_t *k,
                     ss_error_t *err)
{
    memset(k, 0, sizeof *k);
    int rc = ss_mig_relayout_check(NULL, p, err);
    if (rc < 0)
        return ss_error_prefix(err, rc, "%s: " G, fname);
    int32_t n = p->n_relayout, m = 0;
    for (int32_t i = 0; i < n; i++)
        m += p->relayout[i].n;
    size_t nn = n ? (size_t)n : 1, mm = m ? (size_t)m : 1;
    k->n = n;
    k->m = m;
    k->gpu = p->relayout_gpu;
    k->model = malloc(nn * sizeof *k->model);
    k->inst_begin = malloc(nn * sizeof *k->inst_begin);
    k->inst_count = malloc(nn * sizeof *k->inst_count);
    k->inst_profile = malloc(mm * sizeof *k->inst_profile);
    k->inst_start = malloc(mm * sizeof *k->inst_start);
    if (!k->model || !k->inst_begin || !k->inst_count || !k->inst_profile || !k->inst_start) {
        ss_mig_plan_cols_free(k);
        return ss_error_set(err, SS_ENOMEM, "%s: out of memory writing " G, fname);
    }
    for (int32_t i = 0, at = 0; i < n; i++) {
        const ss_mig_model_t *mdl = ss_mig_model(p->relayout_model[i]);
        k->model[i] = mdl ? mdl->name : "";
        k->inst_begin[i] = at;
        k->inst_count[i] = p->relayout[i].n;
        for (int q = 0; q < p->relayout[i].n; q++, at++) {
            k->inst_profile[at] = mdl->profiles[p->relayout[i].inst[q].profile].name;
            k->inst_start[at] = p->relayout[i].inst[q].start;
        }
    }
    return 0;
}

int ss_mig_plan_write(hid_t f, const char *fname, const ss_placements_t *p, ss_error_t *err)
{
    if (p->n_relayout <= 0)
        return 0;
    ss_mig_plan_cols_t k;
    int rc = ss_mig_plan_cols(fname, p, &k, err);
    if (rc < 0)
        return rc;
    hsize_t hn = (hsize_t)k.n, hm = (hsize_t)k.m;
    if ((rc = ss_h5_group(f, fname, G, err)) == 0 &&
        (rc = ss_h5_col_write(f, fname, G "/gpu", SS_H5_I32, 1, hn, 0, k.gpu, err)) == 0 &&
        (rc = ss_h5_strcol_write(f, fname, G "/model", k.model, hn, err)) == 0 &&
        (rc = ss_h5_col_write(f, fname, G "/inst_begin", SS_H5_I32, 1, hn, 0, k.inst_begin, err)) ==
            0 &&
        (rc = ss_h5_col_write(f, fname, G "/inst_count", SS_H5_I32, 1, hn, 0, k.inst_count, err)) ==
            0 &&
        (rc = ss_h5_strcol_write(f, fname, G "/inst_profile", k.inst_profile, hm, err)) == 0)
        rc = ss_h5_col_write(f, fname, G "/inst_start", SS_H5_I32, 1, hm, 0, k.inst_start, err);
    ss_mig_plan_cols_free(&k);
    return rc;
}

/* Reads a 1-D dataset of fixed-length strings of want rows into *out
 * (rows x width bytes, each NUL-terminated). */
static int read_strcol(hid_t f, const char *fname, const char *path, hsize_t want, char **out,
                       size_t *width, ss_error_t *err)
{
    *out = NULL;
    if (H5Lexists(f, path, H5P_DEFAULT) <= 0)
        return ss_error_set(err, SS_EFORMAT, "%s: dataset %s is missing", fname, path);
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT), ft = H5I_INVALID_HID, sp = H5I_INVALID_HID;
    hsize_t rows = 0;
    int rc = ss_error_set(
        err, SS_EFORMAT, "%s: dataset %s: expected %llu fixed-length strings (of at most %d bytes)",
        fname, path, (unsigned long long)want, NAME_MAX_BYTES);
    if (d < 0 || (ft = H5Dget_type(d)) < 0 || (sp = H5Dget_space(d)) < 0)
        goto done;
    if (H5Tget_class(ft) != H5T_STRING || H5Tis_variable_str(ft) != 0 ||
        H5Sget_simple_extent_ndims(sp) != 1 || H5Sget_simple_extent_dims(sp, &rows, NULL) != 1 ||
        rows != want || H5Tget_size(ft) < 1 || H5Tget_size(ft) > NAME_MAX_BYTES)
        goto done;
    *width = H5Tget_size(ft) + 1;
    hid_t mt = ss_h5_fixed_str_type(*width);
    char *buf = calloc(rows ? rows : 1, *width);
    if (mt < 0 || !buf) {
        rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory reading %s", fname, path);
        free(buf);
    } else if (rows && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        rc = ss_error_set(err, SS_EIO, "%s: dataset %s: read failed", fname, path);
        free(buf);
    } else {
        rc = 0;
        *out = buf;
    }
    if (mt >= 0)
        H5Tclose(mt);
done:
    if (sp >= 0)
        H5Sclose(sp);
    if (ft >= 0)
        H5Tclose(ft);
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

/* The int32 column at path, which must have want rows, into buf. */
static int read_i32(hid_t f, const char *fname, const char *path, hsize_t want, int32_t *buf,
                    ss_error_t *err)
{
    hsize_t rows = 0;
    int rc = ss_h5_col_rows(f, fname, path, SS_H5_I32, 1, 0, &rows, err);
    if (rc == SS_ENOTFOUND)
        rc = SS_EFORMAT;
    if (rc < 0)
        return rc;
    if (rows != want)
        return ss_error_set(err, SS_EFORMAT, "%s: dataset %s has %llu rows, expected %llu", fname,
                            path, (unsigned long long)rows, (unsigned long long)want);
    return ss_h5_col_read(f, fname, path, SS_H5_I32, 1, 0, 0, rows, buf, err);
}

/* Row i's instances into p->relayout[i] (names and ranges checked). */
static int fill_row(const char *fname, ss_placements_t *p, int32_t i, const char *model,
                    int32_t begin, int32_t count, int32_t at, int32_t n_inst, const char *prof,
                    size_t pw, const int32_t *start, ss_error_t *err)
{
    int mi = *model ? ss_mig_find_model(model) : -1;
    const ss_mig_model_t *m = ss_mig_model(mi);
    if (*model && (!m || strcmp(m->name, model)))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: dataset " G
                            "/model row %d: '%s' is not an ss_mig model name (\"\" "
                            "= MIG disabled)",
                            fname, (int)i, model);
    if (count < 0 || count > (m ? SS_MIG_MAX_INSTANCES : 0))
        return ss_error_set(err, SS_EFORMAT, "%s: dataset " G "/inst_count row %d: %d is not 0..%d",
                            fname, (int)i, (int)count, m ? SS_MIG_MAX_INSTANCES : 0);
    if (count > n_inst - at)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: dataset " G
                            "/inst_count row %d: %d instances from %d pass the end "
                            "of " G "/inst_start (%d rows)",
                            fname, (int)i, (int)count, (int)at, (int)n_inst);
    if (begin != at)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: dataset " G "/inst_begin row %d: %d, expected %d (the ranges "
                            "follow each other)",
                            fname, (int)i, (int)begin, (int)at);
    p->relayout_model[i] = mi;
    p->relayout[i].n = count;
    for (int32_t k = 0; k < count; k++) {
        const char *name = prof + (size_t)(at + k) * pw;
        int pr = ss_mig_find_profile(m, name);
        if (pr < 0 || strcmp(m->profiles[pr].name, name))
            return ss_error_set(err, SS_EFORMAT,
                                "%s: dataset " G "/inst_profile row %d: '%s' is not a MIG "
                                "profile of %s",
                                fname, (int)(at + k), name, m->name);
        if (start[at + k] < 0 || start[at + k] >= SS_MIG_MEM_SLICES)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: dataset " G "/inst_start row %d: %d is not a memory slice "
                                "0..7",
                                fname, (int)(at + k), (int)start[at + k]);
        p->relayout[i].inst[k] = (ss_mig_inst_t){(int8_t)pr, (int8_t)start[at + k]};
    }
    return 0;
}

int ss_mig_plan_read(hid_t f, const char *fname, int version, ss_placements_t *p, ss_error_t *err)
{
    hsize_t n = 0, m = 0;
    p->n_relayout = 0;
    if (H5Lexists(f, G, H5P_DEFAULT) <= 0)
        return 0;
    if (version < 4 && SS_SNAPSHOT_FORMAT_VERSION >= 4)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: group " G " in a format version %d file (re-layouts came with "
                            "version 4)",
                            fname, version);
    int rc = ss_h5_col_rows(f, fname, G "/gpu", SS_H5_I32, 1, 0, &n, err);
    if (rc == 0)
        rc = ss_h5_col_rows(f, fname, G "/inst_start", SS_H5_I32, 1, 0, &m, err);
    if (rc == SS_ENOTFOUND)
        rc = SS_EFORMAT;
    if (rc < 0)
        return rc;
    if (n > (1u << 24) || m > n * SS_MIG_MAX_INSTANCES)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: dataset " G "/gpu has %llu rows and " G "/inst_start %llu: too "
                            "many",
                            fname, (unsigned long long)n, (unsigned long long)m);
    size_t nn = n ? (size_t)n : 1, mm = m ? (size_t)m : 1, mw = 0, pw = 0;
    int32_t *begin = malloc(nn * sizeof *begin), *count = malloc(nn * sizeof *count);
    int32_t *start = malloc(mm * sizeof *start);
    char *model = NULL, *prof = NULL;
    p->relayout_gpu = malloc(nn * sizeof *p->relayout_gpu);
    p->relayout_model = malloc(nn * sizeof *p->relayout_model);
    p->relayout = calloc(nn, sizeof *p->relayout);
    if (!begin || !count || !start || !p->relayout_gpu || !p->relayout_model || !p->relayout) {
        rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory reading " G, fname);
        goto done;
    }
    p->cap_relayout = (int32_t)nn;
    if ((rc = read_i32(f, fname, G "/gpu", n, p->relayout_gpu, err)) < 0 ||
        (rc = read_i32(f, fname, G "/inst_begin", n, begin, err)) < 0 ||
        (rc = read_i32(f, fname, G "/inst_count", n, count, err)) < 0 ||
        (rc = read_i32(f, fname, G "/inst_start", m, start, err)) < 0 ||
        (rc = read_strcol(f, fname, G "/model", n, &model, &mw, err)) < 0 ||
        (rc = read_strcol(f, fname, G "/inst_profile", m, &prof, &pw, err)) < 0)
        goto done;
    int32_t at = 0;
    for (int32_t i = 0; i < (int32_t)n && rc == 0; i++) {
        rc = fill_row(fname, p, i, model + (size_t)i * mw, begin[i], count[i], at, (int32_t)m, prof,
                      pw, start, err);
        at += count[i];
    }
    if (rc == 0 && (hsize_t)at != m)
        rc = ss_error_set(err, SS_EFORMAT,
                          "%s: dataset " G "/inst_start has %llu rows, the ranges cover %d", fname,
                          (unsigned long long)m, (int)at);
    if (rc == 0) {
        p->n_relayout = (int32_t)n;
        if ((rc = ss_mig_relayout_check(NULL, p, err)) < 0) {
            p->n_relayout = 0;
            rc = ss_error_prefix(err, rc, "%s: " G, fname);
        }
    }
done:
    free(begin);
    free(count);
    free(start);
    free(model);
    free(prof);
    return rc;
}

int ss_placements_check_relayout(const char *fname, const ss_cluster_t *c, const ss_placements_t *p,
                                 ss_error_t *err)
{
    int rc = ss_mig_relayout_check(c, p, err);
    return rc < 0 ? ss_error_prefix(err, SS_EFORMAT, "%s: " G, fname) : 0;
}
