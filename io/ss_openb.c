/* ss_openb: importer of the Alibaba OpenB GPU trace (cluster-trace-gpu-v2023,
 * ../shared/data/openb/SOURCES.md) into a trace snapshot.
 *
 * Nodes become nodes with one GPU record per GPU (model, 1000 milli), cpu in
 * milli and memory MiB -> bytes; pods become pending pods (priority 0) whose
 * templates are deduplicated by shape (cpu, memory, GPUs, milli, gpu_spec);
 * gpu_spec's '|'-separated models become the template's allowed models, and
 * must name models of the node list. creation/deletion times go to /trace.
 * Every column set of the published files is read (pod_cols below; missing
 * optional columns take the FGD simulator's defaults, docs/evaluation.md),
 * with or without a UTF-8 BOM and CR LF line ends.
 *
 * Workload: files of ~10^4 rows (the real trace); parsed with libcsv into
 * memory, everything is validated before anything is written, and every error
 * names file, line and column. */
#include <csv.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ss_hash.h"
#include "ss_openb.h"
#include "ss_trace.h"

/* The whole file, parsed: every field NUL-terminated in one buffer (so the
 * memory is the file's size plus one offset per field, and grows with the
 * rows really read; nothing is sized from what the file says). */
typedef struct {
    const char *path;
    char *chars; /* all fields, each NUL-terminated */
    size_t n_chars, cap_chars;
    size_t *field; /* offset of each field in chars, row after row */
    size_t n_fields, cap_fields;
    size_t *row_begin, *row_line; /* per row: first field, line number */
    size_t *row_count;
    size_t n_rows, cap_rows;
    size_t line, cur_begin, width; /* width: the header's fields (0 until read) */
    size_t wide_line;              /* first row with more fields than the header */
    int oom;
} table_t;

/* At most this many rows (pods or nodes) per file: the cluster's int32
 * indexes, with room to spare. */
#define SS_OPENB_MAX_ROWS ((size_t)1 << 30)

static void table_free(table_t *t)
{
    free(t->chars);
    free(t->field);
    free(t->row_begin);
    free(t->row_line);
    free(t->row_count);
}

static const char *field_at(const table_t *t, size_t i)
{
    return t->chars + t->field[i];
}

static int grow(void **p, size_t *cap, size_t need, size_t size, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t cap2 = *cap ? *cap : first;
    while (cap2 < need) {
        if (cap2 > SIZE_MAX / 2 / size)
            return -1;
        cap2 *= 2;
    }
    void *q = realloc(*p, cap2 * size);
    if (!q)
        return -1;
    *p = q;
    *cap = cap2;
    return 0;
}

static void on_field(void *s, size_t len, void *data)
{
    table_t *t = data;
    if (t->oom || t->wide_line)
        return;
    if (t->width && t->n_fields - t->cur_begin >= t->width) {
        t->wide_line = t->line; /* more fields than the header: stop storing */
        return;
    }
    if (len > SIZE_MAX / 2 ||
        grow((void **)&t->field, &t->cap_fields, t->n_fields + 1, sizeof *t->field, 1024) < 0 ||
        grow((void **)&t->chars, &t->cap_chars, t->n_chars + len + 1, 1, 65536) < 0) {
        t->oom = 1;
        return;
    }
    if (len)
        memcpy(t->chars + t->n_chars, s, len);
    t->chars[t->n_chars + len] = 0;
    t->field[t->n_fields++] = t->n_chars;
    t->n_chars += len + 1;
}

static void on_row(int c, void *data)
{
    table_t *t = data;
    if (t->oom || t->wide_line)
        return;
    size_t cnt = t->n_fields - t->cur_begin;
    if (cnt > 0) {
        size_t cap = t->cap_rows;
        if (t->n_rows >= SS_OPENB_MAX_ROWS ||
            grow((void **)&t->row_begin, &cap, t->n_rows + 1, sizeof(size_t), 256) < 0 ||
            (cap = t->cap_rows,
             grow((void **)&t->row_line, &cap, t->n_rows + 1, sizeof(size_t), 256) < 0) ||
            (cap = t->cap_rows,
             grow((void **)&t->row_count, &cap, t->n_rows + 1, sizeof(size_t), 256) < 0)) {
            t->oom = 1;
            return;
        }
        t->cap_rows = cap;
        if (t->n_rows == 0)
            t->width = cnt;
        t->row_begin[t->n_rows] = t->cur_begin;
        t->row_count[t->n_rows] = cnt;
        t->row_line[t->n_rows++] = t->line;
    }
    t->cur_begin = t->n_fields;
    if (c == '\n')
        t->line++;
}

/* Opens path for reading; a directory or an unreadable file is an error
 * that says so. */
static FILE *open_csv(const char *path, ss_error_t *err)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        ss_error_set(err, SS_EIO, "%s: is a directory, expected a CSV file", path);
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        ss_error_set(err, SS_EIO, "%s: %s", path, strerror(errno));
    return f;
}

/* Feeds the file to the parser; a UTF-8 byte order mark at the start is
 * dropped (CR LF line ends are libcsv's own). Returns 0 or an error. */
static int parse_csv(FILE *f, struct csv_parser *p, table_t *t, ss_error_t *err)
{
    static const unsigned char bom[3] = {0xef, 0xbb, 0xbf};
    char buf[65536];
    size_t n, have = 0;
    int first = 1;
    while ((n = fread(buf + have, 1, sizeof buf - have, f)) > 0 || have) {
        n += have;
        have = 0;
        size_t skip = 0;
        if (first) {
            if (n < 3 && !feof(f) && !ferror(f)) {
                have = n; /* too short to tell yet */
                continue;
            }
            first = 0;
            if (n >= 3 && !memcmp(buf, bom, 3))
                skip = 3;
        }
        if (csv_parse(p, buf + skip, n - skip, on_field, on_row, t) != n - skip)
            return ss_error_set(err, SS_EFORMAT, "%s:%zu: field %zu: %s", t->path, t->line,
                                t->n_fields - t->cur_begin + 1, csv_strerror(csv_error(p)));
        if (t->oom || t->wide_line)
            break;
    }
    if (ferror(f))
        return ss_error_set(err, SS_EIO, "%s:%zu: read error: %s", t->path, t->line,
                            strerror(errno));
    return 0;
}

/* Reads a whole CSV file into t. */
static int table_read(const char *path, table_t *t, ss_error_t *err)
{
    memset(t, 0, sizeof *t);
    t->path = path;
    t->line = 1;
    FILE *f = open_csv(path, err);
    if (!f)
        return SS_EIO;
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_REPALL_NL | CSV_STRICT_FINI) != 0) {
        fclose(f);
        return ss_error_set(err, SS_ENOMEM, "%s: cannot start the CSV parser", path);
    }
    int rc = parse_csv(f, &p, t, err);
    if (!rc && !t->oom && !t->wide_line && csv_fini(&p, on_field, on_row, t) != 0)
        rc = ss_error_set(err, SS_EFORMAT, "%s:%zu: field %zu: %s", path, t->line,
                          t->n_fields - t->cur_begin + 1, csv_strerror(csv_error(&p)));
    if (!rc && t->wide_line)
        rc = ss_error_set(err, SS_EFORMAT, "%s:%zu: more fields than the %zu of the header", path,
                          t->wide_line, t->width);
    if (!rc && t->oom)
        rc = t->n_rows >= SS_OPENB_MAX_ROWS
                 ? ss_error_set(err, SS_ERANGE, "%s:%zu: more than %zu rows", path, t->line,
                                SS_OPENB_MAX_ROWS)
                 : ss_error_set(err, SS_ENOMEM, "%s:%zu: out of memory", path, t->line);
    if (!rc && t->n_rows == 0)
        rc = ss_error_set(err, SS_EFORMAT, "%s:1: empty file, expected a header row", path);
    csv_free(&p);
    fclose(f);
    if (rc)
        table_free(t);
    return rc;
}

/* A column of the header: its name, whether the file must have it, and
 * the FGD simulator's default when it has not (docs/evaluation.md). */
typedef struct {
    const char *name;
    int required;
} column_t;

/* Finds the header's columns; col[i] = index of cols[i].name, -1 for an
 * optional column the file lacks. A column named twice is an error. */
static int find_columns(const table_t *t, const column_t *cols, int n, int *col, ss_error_t *err)
{
    for (int i = 0; i < n; i++) {
        col[i] = -1;
        for (size_t j = 0; j < t->row_count[0]; j++) {
            if (strcmp(field_at(t, t->row_begin[0] + j), cols[i].name))
                continue;
            if (col[i] >= 0)
                return ss_error_set(err, SS_EFORMAT,
                                    "%s:%zu: column '%s' appears twice in the header (columns "
                                    "%d and %zu)",
                                    t->path, t->row_line[0], cols[i].name, col[i] + 1, j + 1);
            col[i] = (int)j;
        }
        if (col[i] < 0 && cols[i].required)
            return ss_error_set(err, SS_EFORMAT, "%s:%zu: missing column '%s' in the header",
                                t->path, t->row_line[0], cols[i].name);
    }
    return 0;
}

typedef struct {
    const table_t *t;
    const char *path;
    size_t row;
} cursor_t;

/* The row's field in column col; NULL when the file has no such column
 * (col < 0) or the row is shorter. */
static const char *cell(const cursor_t *cu, int col)
{
    if (col < 0 || (size_t)col >= cu->t->row_count[cu->row])
        return NULL;
    return field_at(cu->t, cu->t->row_begin[cu->row] + (size_t)col);
}

static int bad(const cursor_t *cu, int col, const char *name, ss_error_t *err, const char *what)
{
    const char *v = cell(cu, col);
    return ss_error_set(err, SS_EFORMAT, "%s:%zu: column %d (%s): '%s' %s", cu->path,
                        cu->t->row_line[cu->row], col + 1, name, v ? v : "", what);
}

/* Integer cell in [lo, hi]; empty allowed (gives dflt) when allow_empty;
 * a column the file lacks (col < 0, optional columns only) gives dflt. */
static int get_int(const cursor_t *cu, int col, const char *name, int64_t lo, int64_t hi,
                   int allow_empty, int64_t dflt, int64_t *out, ss_error_t *err)
{
    if (col < 0) {
        *out = dflt;
        return 0;
    }
    const char *v = cell(cu, col);
    if (!v)
        return ss_error_set(err, SS_EFORMAT, "%s:%zu: column %d (%s) missing: row has %zu fields",
                            cu->path, cu->t->row_line[cu->row], col + 1, name,
                            cu->t->row_count[cu->row]);
    if (!*v) {
        if (allow_empty) {
            *out = dflt;
            return 0;
        }
        return bad(cu, col, name, err, "is empty, expected an integer");
    }
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (*end || errno)
        return bad(cu, col, name, err, "is not an integer");
    if (x < lo)
        return bad(cu, col, name, err, lo == 0 ? "is negative" : "is too small");
    if (x > hi)
        return bad(cu, col, name, err, "is too large");
    *out = x;
    return 0;
}

/* Every published node list (openb_node_list_all_node.csv, _gpu_node.csv)
 * has all five; model may be left out of a list of CPU-only nodes. */
static const column_t node_cols[] = {
    {"sn", 1}, {"cpu_milli", 1}, {"memory_mib", 1}, {"gpu", 1}, {"model", 0}};
enum { NC_SN, NC_CPU, NC_MEM, NC_GPU, NC_MODEL, NC_N };

static int load_nodes(const char *path, ss_cluster_t *c, ss_error_t *err)
{
    table_t t;
    int rc = table_read(path, &t, err), col[NC_N];
    if (rc)
        return rc;
    if ((rc = find_columns(&t, node_cols, NC_N, col, err)))
        goto out;
    static const int32_t topo[4] = {0, 0, 0, 0};
    for (size_t r = 1; r < t.n_rows && !rc; r++) {
        cursor_t cu = {&t, path, r};
        int64_t cpu, mem, gpu;
        const char *sn = cell(&cu, col[NC_SN]), *model = cell(&cu, col[NC_MODEL]);
        if ((rc = get_int(&cu, col[NC_CPU], "cpu_milli", 0, INT64_MAX / 2, 0, 0, &cpu, err)) ||
            (rc = get_int(&cu, col[NC_MEM], "memory_mib", 0, INT64_MAX >> 21, 0, 0, &mem, err)) ||
            (rc = get_int(&cu, col[NC_GPU], "gpu", 0, SS_MAX_GPUS_PER_NODE, 0, 0, &gpu, err)))
            break;
        if (!sn || !*sn) {
            rc = bad(&cu, col[NC_SN], "sn", err, "is empty, expected a node name");
            break;
        }
        if (gpu > 0 && (!model || !*model)) {
            rc = bad(&cu, col[NC_MODEL], "model", err, "is empty on a node with GPUs");
            break;
        }
        int32_t name = ss_cluster_str(c, sn), m = gpu > 0 ? ss_cluster_str(c, model) : 0;
        int32_t g0 = c->n_gpus;
        for (int64_t i = 0; i < gpu; i++)
            if (ss_cluster_add_gpu(c, m, SS_GPU_MILLI) < 0)
                rc = SS_ENOMEM;
        if (rc || name < 0 || m < 0 ||
            ss_cluster_add_node(c, name, topo, cpu, mem << 20, 1000, NULL, false, 0, 0, 0, 0, g0,
                                (int32_t)gpu) < 0)
            rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory", path);
    }
out:
    table_free(&t);
    return rc;
}

/* The column sets of the published pod lists: the full one (name,
 * cpu_milli, memory_mib, num_gpu, gpu_milli, gpu_spec, qos, pod_phase,
 * creation_time, deletion_time, scheduled_time), the five-column one (name
 * .. gpu_milli) and the simulator's "nomem" one (no memory_mib). Missing
 * optional columns take the FGD simulator's defaults (pod_csv_to_yaml.py):
 * memory 0, gpu_milli 1000 on a GPU pod (0 on a CPU pod), gpu_spec any
 * model; and, since the simulator creates every pod at once and deletes
 * none: creation_time 0, deletion_time never. qos, pod_phase and
 * scheduled_time are history and not read. */
static const column_t pod_cols[] = {{"name", 1},          {"cpu_milli", 1},    {"memory_mib", 0},
                                    {"num_gpu", 1},       {"gpu_milli", 0},    {"gpu_spec", 0},
                                    {"creation_time", 0}, {"deletion_time", 0}};
enum { PC_NAME, PC_CPU, PC_MEM, PC_NUM, PC_MILLI, PC_SPEC, PC_CREATE, PC_DELETE, PC_N };

/* Template dedupe: open addressing on the shape key. */
typedef struct {
    int64_t cpu, mem;
    int32_t num, milli, spec; /* spec: id in a local string table */
} shape_t;

typedef struct {
    shape_t *key;  /* by id, in first-seen order */
    int32_t *tmpl; /* the template of each id */
    int32_t n, cap;
    ss_hindex_t ix; /* ids by hash (ss_hash) */
} shape_map_t;

static uint64_t shape_hash(const shape_t *k)
{
    const int64_t v[5] = {k->cpu, k->mem, k->num, k->milli, k->spec};
    return ss_hash_bytes(SS_HASH_INIT, v, sizeof v);
}

static uint64_t shape_hash_id(const void *ctx, int32_t id)
{
    return shape_hash(&((const shape_map_t *)ctx)->key[id]);
}

static int shape_eq(const shape_t *a, const shape_t *b)
{
    return a->cpu == b->cpu && a->mem == b->mem && a->num == b->num && a->milli == b->milli &&
           a->spec == b->spec;
}

/* The id of k, or -1 when k is new (*slot is then where shape_add puts it),
 * or -2 when out of memory. */
static int32_t shape_find(shape_map_t *m, const shape_t *k, size_t *slot)
{
    if ((!m->ix.slots && ss_hindex_init(&m->ix, 256) < 0) ||
        ss_hindex_reserve(&m->ix, (size_t)m->n + 1, m->n, shape_hash_id, m) < 0)
        return -2;
    size_t j = ss_hindex_first(&m->ix, shape_hash(k));
    int32_t id;
    while ((id = m->ix.slots[j]) >= 0 && !shape_eq(&m->key[id], k))
        j = ss_hindex_next(&m->ix, j);
    *slot = j;
    return id;
}

static int shape_add(shape_map_t *m, const shape_t *k, int32_t tmpl, size_t slot)
{
    if (m->n == m->cap) {
        int32_t cap = m->cap ? 2 * m->cap : 256;
        shape_t *key = realloc(m->key, (size_t)cap * sizeof *key);
        if (key)
            m->key = key;
        int32_t *tm = key ? realloc(m->tmpl, (size_t)cap * sizeof *tm) : NULL;
        if (!tm)
            return -1;
        m->tmpl = tm;
        m->cap = cap;
    }
    m->key[m->n] = *k;
    m->tmpl[m->n] = tmpl;
    ss_hindex_put(&m->ix, slot, m->n++);
    return 0;
}

/* Appends the models of gpu_spec to c->models, checking each against the
 * node list; begin and count receive the range. */
static int spec_models(const cursor_t *cu, int col, ss_cluster_t *c, int32_t *begin, int32_t *count,
                       ss_error_t *err)
{
    const char *spec = cell(cu, col);
    *begin = c->n_models;
    *count = 0;
    if (!spec || !*spec)
        return 0;
    char buf[256];
    const char *p = spec;
    while (1) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == 0 || len >= sizeof buf)
            return bad(cu, col, "gpu_spec", err, "has an empty or overlong model name");
        memcpy(buf, p, len);
        buf[len] = 0;
        int32_t id = ss_strtab_find(c->strings, buf);
        int known = 0;
        for (int32_t g = 0; id > 0 && g < c->n_gpus && !known; g++)
            known = c->gpu_model[g] == id;
        if (!known)
            return ss_error_set(err, SS_EFORMAT,
                                "%s:%zu: column %d (gpu_spec): unknown GPU model '%s' (no node "
                                "in the node list has it)",
                                cu->path, cu->t->row_line[cu->row], col + 1, buf);
        int dup = 0;
        for (int32_t i = *begin; i < c->n_models; i++)
            dup |= c->models[i] == id;
        if (!dup) {
            if (ss_cluster_add_model(c, id) < 0)
                return ss_error_set(err, SS_ENOMEM, "%s: out of memory", cu->path);
            (*count)++;
        }
        if (!bar)
            return 0;
        p = bar + 1;
    }
}

/* Reads one pod row's numbers; checks the GPU request is well-formed. */
static int pod_row(const cursor_t *cu, const int *col, shape_t *k, int64_t *cr, int64_t *del,
                   ss_error_t *err)
{
    int64_t num, milli;
    int rc;
    if ((rc = get_int(cu, col[PC_CPU], "cpu_milli", 0, INT64_MAX / 2, 0, 0, &k->cpu, err)) ||
        (rc = get_int(cu, col[PC_MEM], "memory_mib", 0, INT64_MAX >> 21, 0, 0, &k->mem, err)) ||
        (rc = get_int(cu, col[PC_NUM], "num_gpu", 0, SS_MAX_GPUS_PER_NODE, 0, 0, &num, err)) ||
        (rc = get_int(cu, col[PC_MILLI], "gpu_milli", 0, SS_GPU_MILLI, 0, -1, &milli, err)) ||
        (rc = get_int(cu, col[PC_CREATE], "creation_time", 0, SS_TRACE_MAX_TIME, 0, 0, cr, err)) ||
        (rc = get_int(cu, col[PC_DELETE], "deletion_time", 0, SS_TRACE_MAX_TIME, 1,
                      SS_TRACE_NO_TIME, del, err)))
        return rc;
    k->mem <<= 20;
    if (milli < 0) /* no gpu_milli column: whole GPUs */
        milli = num > 0 ? SS_GPU_MILLI : 0;
    if (num > 0 && milli == 0)
        return bad(cu, col[PC_MILLI], "gpu_milli", err, "is 0 on a pod that asks for GPUs");
    if (num == 0 && milli != 0)
        return bad(cu, col[PC_MILLI], "gpu_milli", err, "is set on a pod with num_gpu 0");
    if (num > 1 && milli != SS_GPU_MILLI)
        return bad(cu, col[PC_MILLI], "gpu_milli", err, "must be 1000 when num_gpu > 1");
    if (*del != SS_TRACE_NO_TIME && *del < *cr)
        return bad(cu, col[PC_DELETE], "deletion_time", err, "is before creation_time");
    k->num = (int32_t)num;
    k->milli = (int32_t)milli;
    return 0;
}

static int add_pods(const char *path, const table_t *t, const int *col, ss_cluster_t *c,
                    ss_trace_t *tr, const ss_progress_t *pg, ss_error_t *err)
{
    shape_map_t map = {0};
    ss_strtab_t *specs = ss_strtab_create();
    int rc = specs ? 0 : ss_error_set(err, SS_ENOMEM, "%s: out of memory", path);
    int32_t ns = ss_cluster_str(c, "openb");
    for (size_t r = 1; r < t->n_rows && !rc; r++) {
        if ((r & 1023) == 1)
            ss_progress_tick(pg, (int64_t)r - 1, (int64_t)t->n_rows - 1);
        cursor_t cu = {t, path, r};
        shape_t k;
        int64_t cr, del;
        const char *name = cell(&cu, col[PC_NAME]), *spec = cell(&cu, col[PC_SPEC]);
        if ((rc = pod_row(&cu, col, &k, &cr, &del, err)))
            break;
        if (!name || !*name) {
            rc = bad(&cu, col[PC_NAME], "name", err, "is empty, expected a pod name");
            break;
        }
        k.spec = ss_strtab_intern(specs, spec ? spec : "");
        size_t slot = 0;
        int32_t id = shape_find(&map, &k, &slot), ti = id >= 0 ? map.tmpl[id] : -1;
        if (k.spec < 0 || id == -2 || ns < 0) {
            rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory", path);
            break;
        }
        if (id < 0) {
            ss_template_t tp;
            memset(&tp, 0, sizeof tp);
            tp.req.cpu_milli = k.cpu;
            tp.req.memory = k.mem;
            tp.req.gpu_count = k.num;
            tp.req.gpu_milli = k.milli;
            if ((rc = spec_models(&cu, col[PC_SPEC], c, &tp.model_begin, &tp.model_count, err)))
                break;
            ti = ss_cluster_add_template(c, &tp);
            if (ti < 0 || shape_add(&map, &k, ti, slot) < 0) {
                rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory", path);
                break;
            }
        }
        int32_t pi = ss_cluster_add_pod(c, ss_cluster_str(c, name), ns, ti, 0, -1, -1, 0);
        if (pi < 0) {
            rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory", path);
            break;
        }
        tr->creation[pi] = cr;
        tr->deletion[pi] = del;
    }
    free(map.key);
    free(map.tmpl);
    ss_hindex_free(&map.ix);
    ss_strtab_destroy(specs);
    return rc;
}

static int load_pods(const char *path, ss_cluster_t *c, ss_trace_t **out, const ss_progress_t *pg,
                     ss_error_t *err)
{
    table_t t;
    int rc = table_read(path, &t, err), col[PC_N];
    if (rc)
        return rc;
    ss_trace_t *tr = NULL;
    if ((rc = find_columns(&t, pod_cols, PC_N, col, err)))
        goto out;
    if (t.n_rows - 1 > INT32_MAX / 2) {
        rc = ss_error_set(err, SS_ERANGE, "%s: too many rows", path);
        goto out;
    }
    tr = ss_trace_create((int32_t)(t.n_rows - 1), 0);
    if (!tr) {
        rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    if ((rc = add_pods(path, &t, col, c, tr, pg, err)))
        goto out;
    /* the trace's name: the pod file's base name without its extension */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(tr->name, sizeof tr->name, "%s", base);
    char *dot = strrchr(tr->name, '.');
    if (dot && dot != tr->name)
        *dot = 0;
    *out = tr;
    tr = NULL;
out:
    ss_trace_destroy(tr);
    table_free(&t);
    return rc;
}

/* ss_openb_load with progress over the pod rows (pg may be NULL). */
static int load_all(const char *nodes_csv, const char *pods_csv, ss_cluster_t **c_out,
                    ss_trace_t **t_out, const ss_progress_t *pg, ss_error_t *err)
{
    *c_out = NULL;
    *t_out = NULL;
    ss_cluster_t *c = ss_cluster_create();
    if (!c)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    ss_trace_t *t = NULL;
    int rc = load_nodes(nodes_csv, c, err);
    if (!rc)
        rc = load_pods(pods_csv, c, &t, pg, err);
    if (!rc)
        rc = ss_cluster_validate(c, err);
    if (rc) {
        ss_cluster_destroy(c);
        ss_trace_destroy(t);
        return rc;
    }
    *c_out = c;
    *t_out = t;
    return 0;
}

int ss_openb_load(const char *nodes_csv, const char *pods_csv, ss_cluster_t **c_out,
                  ss_trace_t **t_out, ss_error_t *err)
{
    return load_all(nodes_csv, pods_csv, c_out, t_out, NULL, err);
}

int ss_openb_import(const char *nodes_csv, const char *pods_csv, const char *out_path,
                    const ss_progress_t *progress, ss_error_t *err)
{
    ss_cluster_t *c;
    ss_trace_t *t;
    int rc = load_all(nodes_csv, pods_csv, &c, &t, progress, err);
    if (rc)
        return rc;
    rc = ss_trace_snapshot_write(out_path, c, t, err);
    ss_cluster_destroy(c);
    ss_trace_destroy(t);
    return rc;
}
