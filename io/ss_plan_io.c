/* ss_plan_io: the consolidate plan file and its JSON form (ss_plan_io.h).
 *
 * Root attributes: format_version (5), kind "plan", snapshot_fingerprint
 * (the cluster's ss_cluster_fingerprint), waves, allow (the --allow words).
 * /drain: node, wave (int32), name (string, for humans). /moves: pod, from,
 * to, wave (int32), gpu_mask (uint64), name ("namespace/name", for humans);
 * rows in commit order. */
#include "ss_plan_io.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ss_atomic.h"
#include "ss_h5util.h"
#include "ss_snapshot.h"

static int write_names(hid_t f, const char *fname, const char *path, const ss_cluster_t *c,
                       const int32_t *rows, int32_t n, bool pods, ss_error_t *err)
{
    const char **v = malloc((n ? (size_t)n : 1) * sizeof *v);
    char *buf = malloc((n ? (size_t)n : 1) * 512);
    if (!v || !buf) {
        free(v);
        free(buf);
        return ss_error_set(err, SS_ENOMEM, "%s: out of memory writing %s", fname, path);
    }
    for (int32_t i = 0; i < n; i++) {
        char *s = buf + (size_t)i * 512;
        if (pods)
            snprintf(s, 512, "%s/%s", ss_cluster_strget(c, c->pod_ns[rows[i]]),
                     ss_cluster_strget(c, c->pod_name[rows[i]]));
        else
            snprintf(s, 512, "%s", ss_cluster_strget(c, c->node_name[rows[i]]));
        v[i] = s;
    }
    int rc = ss_h5_strcol_write(f, fname, path, v, (hsize_t)n, err);
    free(v);
    free(buf);
    return rc;
}

static int write_plan(hid_t f, const char *fname, const ss_cluster_t *c, const ss_cplan_t *p,
                      ss_error_t *err)
{
    char allow[256];
    ss_allow_format(p->allow, allow, sizeof allow);
    hsize_t nd = (hsize_t)p->n_drain, nm = (hsize_t)p->n_moves;
    int rc;
    if ((rc = ss_h5_attr_write_i32(f, fname, "/", "format_version", SS_SNAPSHOT_FORMAT_VERSION,
                                   err)) < 0 ||
        (rc = ss_h5_attr_write_str(f, fname, "/", "kind", "plan", err)) < 0 ||
        (rc = ss_h5_attr_write_u64(f, fname, "/", "snapshot_fingerprint", ss_cluster_fingerprint(c),
                                   err)) < 0 ||
        (rc = ss_h5_attr_write_i32(f, fname, "/", "waves", p->n_waves, err)) < 0 ||
        (rc = ss_h5_attr_write_str(f, fname, "/", "allow", allow, err)) < 0 ||
        (rc = ss_h5_group(f, fname, "/drain", err)) < 0 ||
        (rc = ss_h5_group(f, fname, "/moves", err)) < 0 ||
        (rc = ss_h5_col_write(f, fname, "/drain/node", SS_H5_I32, 1, nd, 0, p->drain_node, err)) <
            0 ||
        (rc = ss_h5_col_write(f, fname, "/drain/wave", SS_H5_I32, 1, nd, 0, p->drain_wave, err)) <
            0 ||
        (rc = write_names(f, fname, "/drain/name", c, p->drain_node, p->n_drain, false, err)) < 0 ||
        (rc = ss_h5_col_write(f, fname, "/moves/pod", SS_H5_I32, 1, nm, 0, p->move_pod, err)) < 0 ||
        (rc = ss_h5_col_write(f, fname, "/moves/from", SS_H5_I32, 1, nm, 0, p->move_from, err)) <
            0 ||
        (rc = ss_h5_col_write(f, fname, "/moves/to", SS_H5_I32, 1, nm, 0, p->move_to, err)) < 0 ||
        (rc = ss_h5_col_write(f, fname, "/moves/wave", SS_H5_I32, 1, nm, 0, p->move_wave, err)) <
            0 ||
        (rc = ss_h5_col_write(f, fname, "/moves/gpu_mask", SS_H5_U64, 1, nm, 0, p->move_gpu_mask,
                              err)) < 0)
        return rc;
    return write_names(f, fname, "/moves/name", c, p->move_pod, p->n_moves, true, err);
}

int ss_plan_write(const char *path, const ss_cluster_t *c, const ss_cplan_t *p, ss_error_t *err)
{
    char tmp[4200];
    hid_t f = ss_h5_create_tmp(path, tmp, sizeof tmp, err);
    if (f < 0)
        return (int)f;
    int rc = write_plan(f, path, c, p, err);
    return ss_h5_finish_tmp(f, tmp, path, rc, err);
}

/* ---------------------------------------------------------------- reader */

static int header(hid_t f, const char *fname, const ss_cluster_t *c, ss_cplan_t *p, ss_error_t *err)
{
    int32_t v = 0;
    uint64_t fp = 0;
    char kind[32] = "", allow[256] = "";
    int rc = ss_h5_attr_read_i32(f, fname, "/", "format_version", &v, err);
    if (rc < 0)
        return rc == SS_ENOTFOUND ? ss_error_set(err, SS_EFORMAT,
                                                 "%s: attribute format_version missing on /", fname)
                                  : rc;
    if (v != SS_SNAPSHOT_FORMAT_VERSION)
        return ss_error_set(err, SS_EVERSION,
                            "%s: format_version %d: plan files exist from version %d only", fname,
                            (int)v, SS_SNAPSHOT_FORMAT_VERSION);
    if ((rc = ss_h5_attr_read_str(f, fname, "/", "kind", kind, sizeof kind, err)) < 0 ||
        strcmp(kind, "plan") != 0)
        return ss_error_set(err, SS_EFORMAT, "%s: attribute kind on / is '%s', expected 'plan'",
                            fname, kind);
    if ((rc = ss_h5_attr_read_u64(f, fname, "/", "snapshot_fingerprint", &fp, err)) < 0 ||
        (rc = ss_h5_attr_read_i32(f, fname, "/", "waves", &p->n_waves, err)) < 0 ||
        (rc = ss_h5_attr_read_str(f, fname, "/", "allow", allow, sizeof allow, err)) < 0)
        return rc == SS_ENOTFOUND
                   ? ss_error_set(err, SS_EFORMAT,
                                  "%s: attribute snapshot_fingerprint, waves or allow missing on /",
                                  fname)
                   : rc;
    if (fp != ss_cluster_fingerprint(c))
        return ss_error_set(err, SS_EFORMAT,
                            "%s was computed for another snapshot (fingerprint %016llx, this "
                            "snapshot's %016llx)",
                            fname, (unsigned long long)fp,
                            (unsigned long long)ss_cluster_fingerprint(c));
    return ss_allow_parse(allow, &p->allow, err) < 0
               ? ss_error_prefix(err, SS_EFORMAT, "%s: attribute allow", fname)
               : 0;
}

/* Reads an int32 (or uint64: t) column of *n rows (*n < 0: any) at path. */
static int col(hid_t f, const char *fname, const char *path, ss_h5_type_t t, int32_t *n, void **out,
               ss_error_t *err)
{
    hsize_t rows = 0;
    int rc = ss_h5_col_rows(f, fname, path, t, 1, 0, &rows, err);
    if (rc < 0)
        return rc == SS_ENOTFOUND
                   ? ss_error_set(err, SS_EFORMAT, "%s: dataset %s is missing", fname, path)
                   : rc;
    if (*n >= 0 && rows != (hsize_t)*n)
        return ss_error_set(err, SS_EFORMAT, "%s: dataset %s has %llu rows, expected %d", fname,
                            path, (unsigned long long)rows, (int)*n);
    if (rows > INT32_MAX)
        return ss_error_set(err, SS_EFORMAT, "%s: dataset %s: too many rows", fname, path);
    *n = (int32_t)rows;
    *out = malloc((rows ? rows : 1) * ss_h5_type_size(t));
    if (!*out)
        return ss_error_set(err, SS_ENOMEM, "%s: out of memory reading %s", fname, path);
    return ss_h5_col_read(f, fname, path, t, 1, 0, 0, rows, *out, err);
}

static int check(const char *fname, const ss_cluster_t *c, const ss_cplan_t *p, ss_error_t *err)
{
    for (int32_t i = 0; i < p->n_drain; i++)
        if (p->drain_node[i] < 0 || p->drain_node[i] >= c->n_nodes || p->drain_wave[i] < 1 ||
            p->drain_wave[i] > p->n_waves)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: /drain row %d: node %d or wave %d out of range", fname, (int)i,
                                (int)p->drain_node[i], (int)p->drain_wave[i]);
    for (int32_t i = 0; i < p->n_moves; i++) {
        int32_t q = p->move_pod[i];
        if (q < 0 || q >= c->n_pods || c->pod_node[q] < 0)
            return ss_error_set(err, SS_EFORMAT, "%s: /moves/pod row %d: %d is not a running pod",
                                fname, (int)i, (int)q);
        if (p->move_from[i] < 0 || p->move_from[i] >= c->n_nodes || p->move_to[i] < 0 ||
            p->move_to[i] >= c->n_nodes || p->move_wave[i] < 1 || p->move_wave[i] > p->n_waves)
            return ss_error_set(
                err, SS_EFORMAT, "%s: /moves row %d: from %d, to %d or wave %d out of range", fname,
                (int)i, (int)p->move_from[i], (int)p->move_to[i], (int)p->move_wave[i]);
    }
    return 0;
}

int ss_plan_read(const char *path, const ss_cluster_t *c, ss_cplan_t *p, ss_error_t *err)
{
    memset(p, 0, sizeof *p);
    hid_t f = ss_h5_open(path, err);
    if (f < 0)
        return (int)f;
    int32_t nd = -1, nm = -1;
    int rc = header(f, path, c, p, err);
    if (rc == 0)
        rc = col(f, path, "/drain/node", SS_H5_I32, &nd, (void **)&p->drain_node, err);
    if (rc == 0)
        rc = col(f, path, "/drain/wave", SS_H5_I32, &nd, (void **)&p->drain_wave, err);
    if (rc == 0)
        rc = col(f, path, "/moves/pod", SS_H5_I32, &nm, (void **)&p->move_pod, err);
    if (rc == 0)
        rc = col(f, path, "/moves/from", SS_H5_I32, &nm, (void **)&p->move_from, err);
    if (rc == 0)
        rc = col(f, path, "/moves/to", SS_H5_I32, &nm, (void **)&p->move_to, err);
    if (rc == 0)
        rc = col(f, path, "/moves/wave", SS_H5_I32, &nm, (void **)&p->move_wave, err);
    if (rc == 0)
        rc = col(f, path, "/moves/gpu_mask", SS_H5_U64, &nm, (void **)&p->move_gpu_mask, err);
    H5Fclose(f);
    p->n_drain = nd < 0 ? 0 : nd;
    p->n_moves = nm < 0 ? 0 : nm;
    if (rc == 0)
        rc = check(path, c, p, err);
    if (rc < 0)
        ss_cplan_free(p);
    return rc;
}

/* ---------------------------------------------------------------- JSON */

static json_t *wave_json(const ss_cluster_t *c, const ss_cplan_t *p, int32_t w)
{
    json_t *drain = json_array(), *moves = json_array(), *ev = json_array();
    for (int32_t i = 0; i < p->n_drain; i++)
        if (p->drain_wave[i] == w)
            json_array_append_new(
                drain, json_string(ss_cluster_strget(c, c->node_name[p->drain_node[i]])));
    for (int32_t i = 0; i < p->n_moves; i++) {
        if (p->move_wave[i] != w)
            continue;
        const char *ns = ss_cluster_strget(c, c->pod_ns[p->move_pod[i]]);
        const char *name = ss_cluster_strget(c, c->pod_name[p->move_pod[i]]);
        json_array_append_new(moves,
                              json_pack("{ssssssss}", "namespace", ns, "name", name, "from",
                                        ss_cluster_strget(c, c->node_name[p->move_from[i]]), "to",
                                        ss_cluster_strget(c, c->node_name[p->move_to[i]])));
        json_array_append_new(ev, json_pack("{sssss{ssss}}", "apiVersion", "policy/v1", "kind",
                                            "Eviction", "metadata", "name", name, "namespace", ns));
    }
    return json_pack("{sisososo}", "wave", (int)w, "drain", drain, "moves", moves, "evictions", ev);
}

int ss_plan_emit_json(const char *path, const ss_cluster_t *c, const ss_cplan_t *p, ss_error_t *err)
{
    json_t *waves = json_array(), *doc = NULL;
    for (int32_t w = 1; waves && w <= p->n_waves; w++) {
        json_t *j = wave_json(c, p, w);
        if (!j || json_array_append_new(waves, j) < 0) {
            json_decref(waves);
            waves = NULL;
        }
    }
    if (waves)
        doc = json_pack("{so}", "waves", waves);
    if (!doc)
        return ss_error_set(err, SS_ENOMEM, "%s: out of memory building the plan JSON", path);
    char tmp[4200];
    FILE *fp = ss_atomic_fopen(path, tmp, sizeof tmp, err);
    if (!fp) {
        json_decref(doc);
        return SS_EIO;
    }
    int rc = json_dumpf(doc, fp, JSON_INDENT(2) | JSON_SORT_KEYS) < 0 ? SS_EIO : 0;
    if (rc == 0 && fputc('\n', fp) == EOF)
        rc = SS_EIO;
    if (rc < 0)
        ss_error_set(err, rc, "%s: write failed", path);
    json_decref(doc);
    return ss_atomic_fclose(fp, tmp, path, rc, err);
}
