/* ss_yaml: YAML documents into jansson trees (see ss_yaml.h). libyaml
 * parses (its event API); this file builds one tree per document, types the
 * scalars as Kubernetes does, and keeps each value's line and column in a
 * small hash table that lives as long as the documents. */
#include "ss_yaml.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_DEPTH 512 /* nesting deeper than this is refused (stack) */

/* Where a value was written: by the value's address (kh 0), or, for the
 * shared true/false/null, by its object's address and its key's hash. */
typedef struct {
    uintptr_t ptr; /* 0: empty slot */
    uint64_t kh;
    int32_t line, col;
} pos_t;

struct ss_yaml {
    json_t *docs; /* an array, one value per document */
    json_t *keep; /* `<<` sources outside the trees: their positions stay valid */
    pos_t *pos;
    size_t npos, cap; /* cap a power of two, or 0 */
    ss_yaml_t *next;  /* the loaded documents, for ss_yaml_where */
};

static ss_yaml_t *live;

typedef struct {
    char *name;
    json_t *v;   /* a reference */
    size_t size; /* nodes it stands for, aliases expanded */
} anchor_t;

typedef struct {
    const char *path, *buf;
    size_t len;
    yaml_parser_t p;
    ss_yaml_t *y;
    anchor_t *anchors;
    size_t nanchors, capanchors;
    size_t events, expanded; /* parser events, nodes reached through aliases */
    ss_error_t *err;
} build_t;

bool ss_yaml_text_is_json(const char *buf, size_t len)
{
    size_t i = len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3) ? 3 : 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
        i++;
    return i < len && (buf[i] == '{' || buf[i] == '[');
}

/* ---- positions ---- */

static uint64_t key_hash(const char *k)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (; *k; k++)
        h = (h ^ (uint8_t)*k) * UINT64_C(1099511628211);
    return h ? h : 1;
}

static size_t slot_of(const ss_yaml_t *y, uintptr_t ptr, uint64_t kh)
{
    uint64_t h =
        ((uint64_t)ptr ^ (kh * UINT64_C(0x9E3779B97F4A7C15))) * UINT64_C(0xff51afd7ed558ccd);
    return (size_t)(h ^ (h >> 29)) & (y->cap - 1);
}

static const pos_t *pos_get(const ss_yaml_t *y, uintptr_t ptr, uint64_t kh)
{
    if (!y->cap)
        return NULL;
    for (size_t s = slot_of(y, ptr, kh);; s = (s + 1) & (y->cap - 1)) {
        const pos_t *e = &y->pos[s];
        if (!e->ptr)
            return NULL;
        if (e->ptr == ptr && e->kh == kh)
            return e;
    }
}

static int pos_put(ss_yaml_t *y, const void *p, uint64_t kh, int32_t line, int32_t col)
{
    if (4 * (y->npos + 1) > 3 * y->cap) { /* at most 3/4 full */
        size_t cap = y->cap ? 2 * y->cap : 1024;
        pos_t *old = y->pos, *nv = calloc(cap, sizeof *nv);
        if (!nv)
            return SS_ENOMEM;
        size_t oldcap = y->cap;
        y->pos = nv;
        y->cap = cap;
        y->npos = 0;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].ptr)
                pos_put(y, (const void *)old[i].ptr, old[i].kh, old[i].line, old[i].col);
        free(old);
    }
    uintptr_t ptr = (uintptr_t)p;
    size_t s = slot_of(y, ptr, kh);
    while (y->pos[s].ptr && !(y->pos[s].ptr == ptr && y->pos[s].kh == kh))
        s = (s + 1) & (y->cap - 1);
    y->npos += !y->pos[s].ptr;
    y->pos[s] = (pos_t){ptr, kh, line, col};
    return 0;
}

static int lookup(uintptr_t ptr, uint64_t kh, int *line, int *col)
{
    for (const ss_yaml_t *y = live; y; y = y->next) {
        const pos_t *e = pos_get(y, ptr, kh);
        if (e) {
            *line = e->line;
            *col = e->col;
            return 0;
        }
    }
    return -1;
}

static bool shared_value(const json_t *v)
{
    return json_is_true(v) || json_is_false(v) || json_is_null(v);
}

int ss_yaml_where(const json_t *v, int *line, int *col)
{
    if (!v || shared_value(v))
        return -1;
    return lookup((uintptr_t)v, 0, line, col);
}

int ss_yaml_member_where(const json_t *obj, const char *key, int *line, int *col)
{
    if (!obj || !key)
        return -1;
    return lookup((uintptr_t)obj, key_hash(key), line, col);
}

/* ---- messages ---- */

static int at(build_t *b, yaml_mark_t m, int code, const char *what, const char *detail)
{
    return ss_error_set(b->err, code, "%s:%zu:%zu: %s%s%.200s%s", b->path, m.line + 1, m.column + 1,
                        what, detail ? " '" : "", detail ? detail : "", detail ? "'" : "");
}

/* libyaml's error, with a hint when the line holds a tab. */
static int parse_error(build_t *b)
{
    yaml_parser_t *p = &b->p;
    if (p->error == YAML_MEMORY_ERROR)
        return ss_error_set(b->err, SS_ENOMEM, "%s: out of memory parsing YAML", b->path);
    size_t line = p->problem_mark.line + 1, col = p->problem_mark.column + 1;
    if (p->error == YAML_READER_ERROR) { /* bad encoding: only a byte offset */
        line = col = 1;
        for (size_t i = 0; i < p->problem_offset && i < b->len; i++, col++)
            if (b->buf[i] == '\n') {
                line++;
                col = 0;
            }
    }
    const char *ls = b->buf;
    for (size_t l = 1; l < line && ls; l++) {
        ls = memchr(ls, '\n', (size_t)(b->buf + b->len - ls));
        ls = ls ? ls + 1 : NULL;
    }
    const char *le = ls ? memchr(ls, '\n', (size_t)(b->buf + b->len - ls)) : NULL;
    bool tab = ls && memchr(ls, '\t', (size_t)((le ? le : b->buf + b->len) - ls));
    char ctx[160] = "";
    if (p->context)
        snprintf(ctx, sizeof ctx, " (%s at line %zu, column %zu)", p->context,
                 p->context_mark.line + 1, p->context_mark.column + 1);
    return ss_error_set(b->err, SS_EFORMAT, "%s:%zu:%zu: YAML: %s%s%s", b->path, line, col,
                        p->problem ? p->problem : "syntax error", ctx,
                        tab ? "; the line holds a tab: YAML indents with spaces only" : "");
}

static int next_event(build_t *b, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&b->p, ev))
        return parse_error(b);
    b->events++;
    return 0;
}

/* ---- scalars ---- */

static bool is_one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(s, *list))
            return true;
    return false;
}

/* YAML 1.1's float form as go-yaml checks it: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
 */
static bool float_form(const char *s)
{
    const char *p = s + (*s == '+' || *s == '-');
    size_t d = 0;
    while (*p >= '0' && *p <= '9')
        p++, d++;
    if (*p == '.') {
        size_t f = 0;
        for (p++; *p >= '0' && *p <= '9'; p++)
            f++;
        if (!d && !f)
            return false;
    } else if (!d) {
        return false;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        p += (*p == '+' || *p == '-');
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0';
}

/* An integer as Go's strconv.ParseInt(s, 0, 64) reads it: a sign, then
 * 0x / 0o / 0b / 0 (octal) prefixes. -1: not one (or out of range). */
static int go_int(const char *s, json_int_t *out)
{
    const char *p = s + (*s == '+' || *s == '-');
    bool neg = *s == '-';
    int base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        base = 16, p += 2;
    else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
        base = 8, p += 2;
    else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
        base = 2, p += 2;
    else if (p[0] == '0' && p[1])
        base = 8, p++;
    if (!*p)
        return -1;
    for (const char *q = p; *q; q++) {
        int dv = (*q >= '0' && *q <= '9')   ? *q - '0'
                 : (*q >= 'a' && *q <= 'f') ? *q - 'a' + 10
                 : (*q >= 'A' && *q <= 'F') ? *q - 'A' + 10
                                            : 99;
        if (dv >= base)
            return -1;
    }
    errno = 0;
    unsigned long long u = strtoull(p, NULL, base);
    if (errno || u > (unsigned long long)INT64_MAX + (neg ? 1u : 0u))
        return -1;
    *out = neg ? (json_int_t)(0 - u) : (json_int_t)u;
    return 0;
}

enum { T_STR, T_NULL, T_BOOL, T_INT, T_FLOAT };

static const char *const trues[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                    "True", "TRUE", "on",  "On",  "ON",  NULL};
static const char *const falses[] = {"n",     "N",     "no",  "No",  "NO",  "false",
                                     "False", "FALSE", "off", "Off", "OFF", NULL};

/* The type of a plain scalar (YAML 1.1 as go-yaml v2 resolves it); *v: a
 * new value, or NULL for a number JSON cannot hold (.inf, .nan). */
static int resolve_plain(const char *s, size_t n, json_t **v)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const specials[] = {".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf",
                                           "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
                                           ".NaN",  ".NAN",  NULL};
    if (strlen(s) != n) { /* an escaped NUL cannot be plain, but be safe */
        *v = json_stringn(s, n);
        return T_STR;
    }
    if (is_one_of(s, nulls))
        return *v = json_null(), T_NULL;
    if (is_one_of(s, trues))
        return *v = json_true(), T_BOOL;
    if (is_one_of(s, falses))
        return *v = json_false(), T_BOOL;
    if (is_one_of(s, specials))
        return *v = NULL, T_FLOAT;
    if (strchr("+-.0123456789", s[0]) && n < 128) {
        char t[128];
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (s[i] != '_')
                t[m++] = s[i];
        t[m] = '\0';
        json_int_t iv;
        if (s[0] != '.' && go_int(t, &iv) == 0)
            return *v = json_integer(iv), T_INT;
        if (float_form(t))
            return *v = json_real(strtod(t, NULL)), T_FLOAT;
    }
    *v = json_stringn(s, n);
    return T_STR;
}

/* A scalar event into *out (a new reference). */
static int scalar(build_t *b, const yaml_event_t *ev, json_t **out)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    bool str_tag = tag && (!strcmp(tag, "!") || !strcmp(tag, YAML_STR_TAG));
    int type = T_STR;
    if (plain && !str_tag)
        type = resolve_plain(s, n, out);
    else if (tag && !str_tag &&
             (!strcmp(tag, YAML_INT_TAG) || !strcmp(tag, YAML_FLOAT_TAG) ||
              !strcmp(tag, YAML_BOOL_TAG) || !strcmp(tag, YAML_NULL_TAG)))
        type = resolve_plain(s, n, out); /* "!!int '5'" */
    else
        *out = json_stringn(s, n);
    if (tag && ((!strcmp(tag, YAML_INT_TAG) && type != T_INT) ||
                (!strcmp(tag, YAML_FLOAT_TAG) && type != T_INT && type != T_FLOAT) ||
                (!strcmp(tag, YAML_BOOL_TAG) && type != T_BOOL) ||
                (!strcmp(tag, YAML_NULL_TAG) && type != T_NULL))) {
        json_decref(*out);
        *out = NULL;
        return at(b, ev->start_mark, SS_EFORMAT, "YAML: a value that does not fit its tag", tag);
    }
    if (!*out)
        return type == T_FLOAT ? at(b, ev->start_mark, SS_EFORMAT,
                                    "YAML: a number JSON cannot hold (infinite or NaN):", s)
                               : ss_error_set(b->err, SS_ENOMEM, "%s: out of memory", b->path);
    return 0;
}

/* ---- nodes ---- */

static int build_node(build_t *b, yaml_event_t *ev, int depth, json_t **out, size_t *size);

static int add_anchor(build_t *b, const char *name, json_t *v, size_t size)
{
    if (b->nanchors == b->capanchors) {
        size_t cap = b->capanchors ? 2 * b->capanchors : 16;
        anchor_t *nv = realloc(b->anchors, cap * sizeof *nv);
        if (!nv)
            return SS_ENOMEM;
        b->anchors = nv;
        b->capanchors = cap;
    }
    char *nm = strdup(name);
    if (!nm)
        return SS_ENOMEM;
    b->anchors[b->nanchors++] = (anchor_t){nm, json_incref(v), size};
    return 0;
}

static void drop_anchors(build_t *b)
{
    for (size_t i = 0; i < b->nanchors; i++) {
        free(b->anchors[i].name);
        json_decref(b->anchors[i].v);
    }
    b->nanchors = 0;
}

static int alias(build_t *b, const yaml_event_t *ev, json_t **out, size_t *size)
{
    const char *name = (const char *)ev->data.alias.anchor;
    for (size_t i = b->nanchors; i-- > 0;) /* the latest anchor of that name */
        if (!strcmp(b->anchors[i].name, name)) {
            b->expanded += b->anchors[i].size;
            if (b->expanded > 1000000 + 10 * b->events)
                return at(b, ev->start_mark, SS_EFORMAT,
                          "YAML: aliases expand to too many nodes (an alias bomb?) at", name);
            *out = json_incref(b->anchors[i].v);
            *size = b->anchors[i].size;
            return 0;
        }
    return at(b, ev->start_mark, SS_EFORMAT, "YAML: unknown alias", name);
}

/* A `<<` value: a mapping or a list of mappings. */
static int check_merge(build_t *b, yaml_mark_t m, json_t *v)
{
    bool ok = json_is_object(v);
    if (json_is_array(v)) {
        ok = true;
        for (size_t i = 0; i < json_array_size(v); i++)
            ok &= json_is_object(json_array_get(v, i));
    }
    return ok ? 0 : at(b, m, SS_EFORMAT, "YAML: '<<' merges a mapping or a list of mappings", NULL);
}

/* The merged mappings' members that obj does not set itself. */
static int apply_merges(build_t *b, json_t *obj, json_t *merges)
{
    for (size_t i = 0; i < json_array_size(merges); i++) {
        json_t *m = json_array_get(merges, i);
        size_t n = json_is_array(m) ? json_array_size(m) : 1;
        for (size_t j = 0; j < n; j++) {
            json_t *src = json_is_array(m) ? json_array_get(m, j) : m, *v;
            const char *k;
            json_object_foreach(src, k, v)
            {
                if (json_object_get(obj, k))
                    continue;
                const pos_t *e = pos_get(b->y, (uintptr_t)src, key_hash(k));
                if (json_object_set(obj, k, v) < 0 ||
                    (e && pos_put(b->y, obj, key_hash(k), e->line, e->col) < 0))
                    return ss_error_set(b->err, SS_ENOMEM, "%s: out of memory", b->path);
            }
        }
    }
    return 0;
}

/* One key and its value into obj (or merges, for `<<`); kev is the key. */
static int member(build_t *b, json_t *obj, json_t *merges, yaml_event_t *kev, int depth,
                  size_t *size)
{
    if (kev->type != YAML_SCALAR_EVENT)
        return at(b, kev->start_mark, SS_EFORMAT, "YAML: a mapping key must be a scalar", NULL);
    const char *key = (const char *)kev->data.scalar.value;
    if (strlen(key) != kev->data.scalar.length)
        return at(b, kev->start_mark, SS_EFORMAT, "YAML: a key holds a NUL character", NULL);
    bool plain = kev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !kev->data.scalar.tag;
    bool merge = plain && !strcmp(key, "<<");
    if (plain && is_one_of(key, trues))
        key = "true"; /* as sigs.k8s.io/yaml names a boolean key */
    else if (plain && is_one_of(key, falses))
        key = "false";
    if (!merge && json_object_get(obj, key))
        return at(b, kev->start_mark, SS_EFORMAT, "YAML: duplicate key", key);
    yaml_event_t vev;
    json_t *v = NULL;
    size_t vs = 0;
    int rc = next_event(b, &vev);
    if (rc < 0)
        return rc;
    rc = build_node(b, &vev, depth + 1, &v, &vs);
    yaml_mark_t vm = vev.start_mark;
    yaml_event_delete(&vev);
    if (rc < 0)
        return rc;
    *size += vs;
    if (merge) {
        if ((rc = check_merge(b, kev->start_mark, v)) < 0) {
            json_decref(v);
            return rc;
        }
        return json_array_append_new(merges, v) < 0
                   ? ss_error_set(b->err, SS_ENOMEM, "%s: out of memory", b->path)
                   : 0;
    }
    bool shared = shared_value(v); /* its own entry cannot tell it apart: one by member */
    if (json_object_set_new(obj, key, v) < 0 ||
        (shared &&
         pos_put(b->y, obj, key_hash(key), (int32_t)vm.line + 1, (int32_t)vm.column + 1) < 0))
        return ss_error_set(b->err, SS_ENOMEM, "%s: out of memory", b->path);
    return 0;
}

static int mapping(build_t *b, int depth, json_t *obj, size_t *size)
{
    json_t *merges = json_array();
    int rc = merges ? 0 : ss_error_set(b->err, SS_ENOMEM, "%s: out of memory", b->path);
    while (rc == 0) {
        yaml_event_t kev;
        if ((rc = next_event(b, &kev)) < 0)
            break;
        bool end = kev.type == YAML_MAPPING_END_EVENT;
        if (!end)
            rc = member(b, obj, merges, &kev, depth, size);
        yaml_event_delete(&kev);
        if (end)
            break;
    }
    if (rc == 0)
        rc = apply_merges(b, obj, merges);
    if (rc == 0 && json_array_size(merges) && json_array_append(b->y->keep, merges) < 0)
        rc = ss_error_set(b->err, SS_ENOMEM, "%s: out of memory", b->path);
    json_decref(merges);
    return rc;
}

static int sequence(build_t *b, int depth, json_t *arr, size_t *size)
{
    for (;;) {
        yaml_event_t ev;
        json_t *v = NULL;
        size_t vs = 0;
        int rc = next_event(b, &ev);
        if (rc < 0)
            return rc;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        rc = build_node(b, &ev, depth + 1, &v, &vs);
        yaml_event_delete(&ev);
        if (rc < 0)
            return rc;
        *size += vs;
        if (json_array_append_new(arr, v) < 0)
            return ss_error_set(b->err, SS_ENOMEM, "%s: out of memory", b->path);
    }
}

/* The node that starts with ev into *out (a new reference). */
static int build_node(build_t *b, yaml_event_t *ev, int depth, json_t **out, size_t *size)
{
    const char *anchor = NULL;
    int rc = 0;
    *out = NULL;
    *size = 1;
    if (depth > MAX_DEPTH)
        return at(b, ev->start_mark, SS_EFORMAT, "YAML: nested too deeply", NULL);
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        return alias(b, ev, out, size);
    case YAML_SCALAR_EVENT:
        anchor = (const char *)ev->data.scalar.anchor;
        rc = scalar(b, ev, out);
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = (const char *)ev->data.sequence_start.anchor;
        if (!(*out = json_array()))
            return ss_error_set(b->err, SS_ENOMEM, "%s: out of memory", b->path);
        rc = sequence(b, depth, *out, size);
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = (const char *)ev->data.mapping_start.anchor;
        if (!(*out = json_object()))
            return ss_error_set(b->err, SS_ENOMEM, "%s: out of memory", b->path);
        rc = mapping(b, depth, *out, size);
        break;
    default:
        return at(b, ev->start_mark, SS_EFORMAT, "YAML: unexpected event", NULL);
    }
    if (rc == 0 && !shared_value(*out))
        rc = pos_put(b->y, *out, 0, (int32_t)ev->start_mark.line + 1,
                     (int32_t)ev->start_mark.column + 1) < 0
                 ? ss_error_set(b->err, SS_ENOMEM, "%s: out of memory", b->path)
                 : 0;
    if (rc == 0 && anchor && add_anchor(b, anchor, *out, *size) < 0)
        rc = ss_error_set(b->err, SS_ENOMEM, "%s: out of memory", b->path);
    if (rc < 0) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

/* Every document of the stream into b->y->docs. */
static int stream(build_t *b)
{
    yaml_event_t ev;
    int rc = next_event(b, &ev);
    if (rc < 0)
        return rc;
    yaml_event_delete(&ev); /* STREAM-START */
    for (;;) {
        if ((rc = next_event(b, &ev)) < 0)
            return rc;
        bool end = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev); /* DOCUMENT-START or STREAM-END */
        if (end)
            return 0;
        json_t *doc = NULL;
        size_t size = 0;
        if ((rc = next_event(b, &ev)) < 0)
            return rc;
        rc = build_node(b, &ev, 0, &doc, &size);
        yaml_event_delete(&ev);
        if (rc < 0)
            return rc;
        if (json_array_append_new(b->y->docs, doc) < 0)
            return ss_error_set(b->err, SS_ENOMEM, "%s: out of memory", b->path);
        drop_anchors(b); /* anchors are per document */
        if ((rc = next_event(b, &ev)) < 0)
            return rc;
        yaml_event_delete(&ev); /* DOCUMENT-END */
    }
}

int ss_yaml_load(const char *path, const char *buf, size_t len, ss_yaml_t **out, ss_error_t *err)
{
    *out = NULL;
    build_t b = {.path = path, .buf = buf, .len = len, .err = err};
    b.y = calloc(1, sizeof *b.y);
    if (!b.y || !(b.y->docs = json_array()) || !(b.y->keep = json_array()) ||
        !yaml_parser_initialize(&b.p)) {
        if (b.y) {
            json_decref(b.y->docs);
            json_decref(b.y->keep);
        }
        free(b.y);
        return ss_error_set(err, SS_ENOMEM, "%s: out of memory", path);
    }
    yaml_parser_set_input_string(&b.p, (const unsigned char *)buf, len);
    b.y->next = live; /* registered first: positions are looked up while building */
    live = b.y;
    int rc = stream(&b);
    drop_anchors(&b);
    free(b.anchors);
    yaml_parser_delete(&b.p);
    if (rc < 0) {
        ss_yaml_free(b.y);
        return rc;
    }
    *out = b.y;
    return 0;
}

size_t ss_yaml_count(const ss_yaml_t *y)
{
    return y ? json_array_size(y->docs) : 0;
}

json_t *ss_yaml_doc(const ss_yaml_t *y, size_t i)
{
    return y ? json_array_get(y->docs, i) : NULL;
}

void ss_yaml_free(ss_yaml_t *y)
{
    if (!y)
        return;
    for (ss_yaml_t **p = &live; *p; p = &(*p)->next)
        if (*p == y) {
            *p = y->next;
            break;
        }
    json_decref(y->docs);
    json_decref(y->keep);
    free(y->pos);
    free(y);
}
