/* ss_kube_read: the Kubernetes importer's input files, read so that memory
 * stays near the input's size: a file is read into one buffer, only the
 * outer structure (a v1 List's members, a JSON array's elements) is scanned
 * here, and each item is handed to jansson on its own (json_loadb) and
 * freed once the importer has taken what it needs. jansson validates every
 * item and every other member of a List; this file only finds where values
 * begin and end (strings with escapes, nesting), so it is not a parser. A
 * 531 MB `kubectl get pods -o json` costs the buffer plus one item's tree
 * instead of a tree of the whole file (~12x the text). YAML (a text that
 * does not start with '{' or '[') is turned into trees by ss_yaml.c, kept
 * whole while the import runs. Inputs may also be standard input ("-") or
 * folders (kube_input_files). */
#include "ss_kube_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ---- inputs: files, folders, standard input ---- */

static int push_file(kfile_t **files, size_t *n, size_t *cap, const char *path, char role)
{
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 8;
        kfile_t *nv = realloc(*files, nc * sizeof *nv);
        if (!nv)
            return SS_ENOMEM;
        *files = nv;
        *cap = nc;
    }
    char *p = strdup(path);
    if (!p)
        return SS_ENOMEM;
    (*files)[(*n)++] = (kfile_t){p, role};
    return 0;
}

static bool input_name(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && !strcasecmp(name + n - 5, ".json")) ||
           (n > 5 && !strcasecmp(name + n - 5, ".yaml")) ||
           (n > 4 && !strcasecmp(name + n - 4, ".yml"));
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A folder's input files, in strcmp order (the same on every machine). */
static int folder_files(const char *dir, char role, kfile_t **files, size_t *n, size_t *cap,
                        FILE *log, ss_error_t *err)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return ss_error_set(err, SS_EIO, "%s: cannot open folder: %s", dir, strerror(errno));
    char **names = NULL, path[4096];
    size_t nn = 0, capn = 0, before = *n;
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(dp))) {
        if (de->d_name[0] == '.') /* ., .., hidden files */
            continue;
        if (nn == capn) {
            char **nv = realloc(names, (capn = capn ? 2 * capn : 64) * sizeof *nv);
            if (!nv) {
                rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory", dir);
                break;
            }
            names = nv;
        }
        if (!(names[nn] = strdup(de->d_name)))
            rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory", dir);
        else
            nn++;
    }
    closedir(dp);
    if (nn)
        qsort(names, nn, sizeof *names, cmp_names);
    for (size_t i = 0; i < nn && rc == 0; i++) {
        struct stat st;
        snprintf(path, sizeof path, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
                 names[i]);
        bool reg = stat(path, &st) == 0 && S_ISREG(st.st_mode);
        if (reg && input_name(names[i]))
            rc = push_file(files, n, cap, path, role) < 0
                     ? ss_error_set(err, SS_ENOMEM, "%s: out of memory", dir)
                     : 0;
        else if (log)
            fprintf(log, "note: skipped %s (%s)\n", path,
                    reg ? "not .json, .yaml or .yml" : "not a regular file");
    }
    for (size_t i = 0; i < nn; i++)
        free(names[i]);
    free(names);
    if (rc == 0 && *n == before)
        rc = ss_error_set(err, SS_EINVAL, "%s: folder holds no .json, .yaml or .yml file", dir);
    return rc;
}

int kube_input_files(const char *path, char role, kfile_t **files, size_t *n, size_t *cap,
                     FILE *log, ss_error_t *err)
{
    struct stat st;
    if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return folder_files(path, role, files, n, cap, log, err);
    if (push_file(files, n, cap, path, role) < 0)
        return ss_error_set(err, SS_ENOMEM, "%s: out of memory", path);
    return 0;
}

int kube_file_load(const char *path, kdoc_t *f, ss_error_t *err)
{
    struct stat st;
    memset(f, 0, sizeof *f);
    bool in = !strcmp(path, "-");
    f->path = path = in ? "<stdin>" : path;
    FILE *fp = in ? stdin : fopen(path, "rb");
    if (!fp)
        return ss_error_set(err, SS_EIO, "%s: cannot open: %s", path, strerror(errno));
    int rc = 0;
    if (fstat(fileno(fp), &st) < 0) {
        rc = ss_error_set(err, SS_EIO, "%s: cannot stat: %s", path, strerror(errno));
        goto done;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = ss_error_set(err, SS_EINVAL, "%s: is a directory, not a JSON file", path);
        goto done;
    }
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
    f->buf = malloc(cap);
    if (!f->buf) {
        rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory reading %zu bytes", path, cap);
        goto done;
    }
    for (;;) {
        if (f->len + 1 >= cap) { /* a pipe, or a file that grew */
            char *nb = realloc(f->buf, cap * 2);
            if (!nb) {
                rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory reading", path);
                goto done;
            }
            f->buf = nb;
            cap *= 2;
        }
        size_t got = fread(f->buf + f->len, 1, cap - 1 - f->len, fp);
        f->len += got;
        if (got == 0)
            break;
    }
    if (ferror(fp)) {
        rc = ss_error_set(err, SS_EIO, "%s: read error: %s", path, strerror(errno));
        goto done;
    }
    f->buf[f->len] = '\0';
    f->owned = true;
done:
    if (!in)
        fclose(fp);
    if (rc < 0) {
        free(f->buf);
        f->buf = NULL;
    }
    return rc;
}

void kube_file_free(kdoc_t *f)
{
    if (f->owned)
        free(f->buf);
    f->buf = NULL;
    ss_yaml_free(f->yaml);
    f->yaml = NULL;
    json_decref(f->yitems);
    f->yitems = NULL;
}

/* ---- outer structure ---- */

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* p at '"': the position after the closing quote, or NULL. */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* The end of the value at p (brackets counted, strings skipped), or NULL
 * when it does not end. Whether the value is valid JSON is jansson's call. */
static const char *skip_value(const char *p, const char *end)
{
    if (p >= end)
        return NULL;
    if (*p == '"')
        return skip_string(p, end);
    if (*p != '{' && *p != '[') {
        while (p < end && !strchr(",]} \t\r\n", *p))
            p++;
        return p;
    }
    size_t depth = 0;
    for (; p < end; p++) {
        if (*p == '"') {
            p = skip_string(p, end);
            if (!p)
                return NULL;
            p--;
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            if (--depth == 0)
                return p + 1;
        }
    }
    return NULL;
}

static void line_col(const char *buf, const char *at, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (const char *p = buf; p < at; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static int syntax(const kdoc_t *d, const char *at, const char *what, ss_error_t *err)
{
    int line, col;
    line_col(d->buf, at, &line, &col);
    return ss_error_set(err, SS_EFORMAT, "%s:%d:%d: %s", d->path, line, col, what);
}

/* Parses the value in [p, q) with jansson; errors give the file's line. */
static json_t *load_span(const kdoc_t *d, const char *p, const char *q, ss_error_t *err)
{
    json_error_t je;
    json_t *v = json_loadb(p, (size_t)(q - p), JSON_DECODE_ANY, &je);
    if (!v) {
        int line, col;
        line_col(d->buf, p, &line, &col);
        if (je.line > 1)
            col = je.column;
        else
            col += je.column > 0 ? je.column - 1 : 0;
        line += je.line > 1 ? je.line - 1 : 0;
        ss_error_set(err, SS_EFORMAT, "%s:%d:%d: %s", d->path, line, col, je.text);
    }
    return v;
}

/* Each element of the array at p ('['); *endp: after the ']'. */
static int scan_array(const kdoc_t *d, const char *p, const char *end, kdoc_fn fn, void *ctx,
                      const char **endp, ss_error_t *err)
{
    size_t index = 0;
    p = skip_ws(p + 1, end);
    if (p < end && *p == ']') {
        *endp = p + 1;
        return 0;
    }
    for (;;) {
        const char *q = skip_value(p, end);
        if (!q || q == p)
            return syntax(d, p, q ? "expected a value" : "unterminated value (truncated file?)",
                          err);
        json_t *obj = load_span(d, p, q, err);
        if (!obj)
            return SS_EFORMAT;
        int rc = fn(ctx, d, obj, index++, (size_t)(p - d->buf), (size_t)(q - p), err);
        json_decref(obj);
        if (rc < 0)
            return rc;
        p = skip_ws(q, end);
        if (p < end && *p == ']') {
            *endp = p + 1;
            return 0;
        }
        if (p >= end || *p != ',')
            return syntax(d, p,
                          p >= end ? "unexpected end of file (truncated file?)"
                                   : "expected ',' or ']' between items",
                          err);
        p = skip_ws(p + 1, end);
    }
}

/* A top-level object: a List when it has an `items` member or a kind
 * ending in "List", else one object. Members other than items are parsed
 * (and so validated) one by one. */
static int scan_object(const kdoc_t *d, const char *p, const char *end, kdoc_fn fn, void *ctx,
                       const char **endp, ss_error_t *err)
{
    const char *start = p, *items = NULL;
    bool list_kind = false, items_null = false;
    p = skip_ws(p + 1, end);
    while (p < end && *p != '}') {
        const char *kq = *p == '"' ? skip_string(p, end) : NULL;
        if (!kq)
            return syntax(d, p, "expected a member name", err);
        const char *colon = skip_ws(kq, end);
        if (colon >= end || *colon != ':')
            return syntax(d, colon, "expected ':'", err);
        const char *v = skip_ws(colon + 1, end), *vq;
        bool is_items = (kq - p == 7 && !memcmp(p, "\"items\"", 7));
        if (is_items && v < end && *v == '[') { /* the items, one by one, as they come */
            int rc = scan_array(d, v, end, fn, ctx, &vq, err);
            if (rc < 0)
                return rc;
            items = v;
        } else if (!(vq = skip_value(v, end)) || vq == v) {
            return syntax(d, v, vq ? "expected a value" : "unterminated value (truncated file?)",
                          err);
        } else {
            json_t *x = load_span(d, v, vq, err);
            if (!x)
                return SS_EFORMAT;
            const char *s =
                (kq - p == 6 && !memcmp(p, "\"kind\"", 6)) ? json_string_value(x) : NULL;
            list_kind |= s && strlen(s) > 4 && !strcmp(s + strlen(s) - 4, "List");
            bool is_null = json_is_null(x);
            json_decref(x);
            if (is_items && !is_null)
                return syntax(d, v, "items: expected an array of objects", err);
            items_null |= is_items;
        }
        p = skip_ws(vq, end);
        if (p < end && *p == ',')
            p = skip_ws(p + 1, end);
        else if (p < end && *p != '}')
            return syntax(d, p, "expected ',' or '}'", err);
    }
    if (p >= end)
        return syntax(d, p, "unterminated object (truncated file?)", err);
    *endp = p + 1;
    if (items)
        return 0;
    if (items_null || list_kind)
        return ss_error_set(err, SS_EFORMAT, "%s: a List whose items is %s, not an array", d->path,
                            items_null ? "null" : "missing");
    json_t *obj = load_span(d, start, *endp, err);
    if (!obj)
        return SS_EFORMAT;
    int rc = fn(ctx, d, obj, 0, (size_t)(start - d->buf), (size_t)(*endp - start), err);
    json_decref(obj);
    return rc;
}

/* ---- YAML: documents already parsed into trees ---- */

static int yaml_error(const kdoc_t *d, json_t *obj, const char *key, json_t *v, const char *what,
                      ss_error_t *err)
{
    int line = 1, col = 1;
    if (ss_yaml_where(v, &line, &col) < 0)
        ss_yaml_member_where(obj, key, &line, &col);
    return ss_error_set(err, SS_EFORMAT, "%s:%d:%d: %s", d->path, line, col, what);
}

static int yaml_item(kdoc_t *d, json_t *obj, size_t *index, kdoc_fn fn, void *ctx, ss_error_t *err)
{
    size_t slot = json_array_size(d->yitems);
    if (json_array_append(d->yitems, obj) < 0)
        return ss_error_set(err, SS_ENOMEM, "%s: out of memory", d->path);
    return fn(ctx, d, obj, (*index)++, slot, 0, err);
}

/* One document: an array of objects, a List, or one object (as JSON). */
static int yaml_doc(kdoc_t *d, json_t *doc, size_t *index, kdoc_fn fn, void *ctx, ss_error_t *err)
{
    int rc = 0;
    json_t *items = json_object_get(doc, "items"), *v;
    size_t i;
    if (json_is_array(doc) || json_is_array(items)) {
        json_array_foreach(json_is_array(doc) ? doc : items, i, v)
        {
            if ((rc = yaml_item(d, v, index, fn, ctx, err)) < 0)
                return rc;
        }
        return 0;
    }
    if (!json_is_object(doc))
        return yaml_error(d, NULL, NULL, doc,
                          "expected a v1 List, an object or a JSON array of objects", err);
    const char *kind = json_string_value(json_object_get(doc, "kind"));
    bool list_kind = kind && strlen(kind) > 4 && !strcmp(kind + strlen(kind) - 4, "List");
    if (items && !json_is_null(items))
        return yaml_error(d, doc, "items", items, "items: expected an array of objects", err);
    if (items || list_kind)
        return ss_error_set(err, SS_EFORMAT, "%s: a List whose items is %s, not an array", d->path,
                            items ? "null" : "missing");
    return yaml_item(d, doc, index, fn, ctx, err);
}

static int scan_yaml(kdoc_t *d, kdoc_fn fn, void *ctx, ss_error_t *err)
{
    int rc = ss_yaml_load(d->path, d->buf, d->len, &d->yaml, err);
    if (rc < 0)
        return rc;
    if (!(d->yitems = json_array()))
        return ss_error_set(err, SS_ENOMEM, "%s: out of memory", d->path);
    size_t index = 0, docs = 0;
    for (size_t i = 0; i < ss_yaml_count(d->yaml) && rc == 0; i++) {
        json_t *doc = ss_yaml_doc(d->yaml, i);
        if (json_is_null(doc)) /* an empty document (a `---` at the end) */
            continue;
        docs++;
        rc = yaml_doc(d, doc, &index, fn, ctx, err);
    }
    if (rc == 0 && docs == 0)
        rc = ss_error_set(err, SS_EFORMAT,
                          "%s: empty file: expected a v1 List, an object or "
                          "a JSON array of objects",
                          d->path);
    return rc;
}

int kube_doc_scan(kdoc_t *d, kdoc_fn fn, void *ctx, ss_error_t *err)
{
    const char *end = d->buf + d->len, *p = d->buf, *after = NULL;
    int rc;
    if (!ss_yaml_text_is_json(d->buf, d->len) && skip_ws(p, end) < end)
        return scan_yaml(d, fn, ctx, err);
    if (d->len >= 3 &&
        !memcmp(p, "\xEF\xBB\xBF", 3)) /* a UTF-8 BOM (RFC 8259 allows skipping it) */
        p += 3;
    p = skip_ws(p, end);
    if (p >= end)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: empty file: expected a v1 List, an object or "
                            "a JSON array of objects",
                            d->path);
    if (*p == '[')
        rc = scan_array(d, p, end, fn, ctx, &after, err);
    else if (*p == '{')
        rc = scan_object(d, p, end, fn, ctx, &after, err);
    else
        return syntax(d, p, "expected a v1 List, an object or a JSON array of objects", err);
    if (rc < 0)
        return rc;
    p = skip_ws(after, end);
    if (p < end)
        return syntax(d, p, "unexpected text after the document", err);
    return 0;
}

json_t *kube_doc_item(const kdoc_t *d, size_t off, size_t len, ss_error_t *err)
{
    if (d->yitems) {
        json_t *v = json_array_get(d->yitems, off);
        if (!v)
            ss_error_set(err, SS_EINVAL, "%s: no item %zu", d->path, off);
        return json_incref(v);
    }
    return load_span(d, d->buf + off, d->buf + off + len, err);
}
