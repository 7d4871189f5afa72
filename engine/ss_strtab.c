/* ss_strtab: interned strings (see ss_strtab.h). Open-addressing hash table
 * of ids over one growing character buffer; built for a few million strings,
 * where inserts happen once at load time and lookups dominate. */
#include "ss_strtab.h"

#include "ss_hash.h"

#include <stdlib.h>
#include <string.h>

struct ss_strtab {
    char *data; /* all strings, each NUL-terminated */
    size_t bytes, cap_bytes;
    int64_t *offsets; /* count+1 entries */
    int32_t count, cap_count;
    ss_hindex_t ix; /* string ids by hash (ss_hash) */
};

static uint64_t hash_id(const void *ctx, int32_t id)
{
    const ss_strtab_t *t = ctx;
    return ss_hash_bytes(SS_HASH_INIT, t->data + t->offsets[id],
                         (size_t)(t->offsets[id + 1] - t->offsets[id] - 1));
}

ss_strtab_t *ss_strtab_create(void)
{
    ss_strtab_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cap_bytes = 4096;
    t->cap_count = 256;
    t->data = malloc(t->cap_bytes);
    t->offsets = malloc((size_t)(t->cap_count + 1) * sizeof *t->offsets);
    if (!t->data || !t->offsets)
        goto fail;
    t->offsets[0] = 0;
    if (ss_hindex_init(&t->ix, 512) < 0)
        goto fail;
    if (ss_strtab_intern_n(t, "", 0) != 0)
        goto fail;
    return t;
fail:
    ss_strtab_destroy(t);
    return NULL;
}

void ss_strtab_destroy(ss_strtab_t *t)
{
    if (!t)
        return;
    free(t->data);
    free(t->offsets);
    ss_hindex_free(&t->ix);
    free(t);
}

static int32_t lookup(const ss_strtab_t *t, const char *s, size_t len, size_t *slot)
{
    size_t i = ss_hindex_first(&t->ix, ss_hash_bytes(SS_HASH_INIT, s, len));
    for (;;) {
        int32_t id = t->ix.slots[i];
        if (id < 0) {
            if (slot)
                *slot = i;
            return -1;
        }
        if ((size_t)(t->offsets[id + 1] - t->offsets[id] - 1) == len &&
            memcmp(t->data + t->offsets[id], s, len) == 0)
            return id;
        i = ss_hindex_next(&t->ix, i);
    }
}

int32_t ss_strtab_intern_n(ss_strtab_t *t, const char *s, size_t len)
{
    size_t slot;
    int32_t id = lookup(t, s, len, &slot);
    if (id >= 0)
        return id;
    if (t->count == INT32_MAX - 1)
        return -1;
    if (t->bytes + len + 1 > t->cap_bytes) {
        size_t cap = t->cap_bytes * 2;
        while (cap < t->bytes + len + 1)
            cap *= 2;
        char *d = realloc(t->data, cap);
        if (!d)
            return -1;
        t->data = d;
        t->cap_bytes = cap;
    }
    if (t->count + 1 > t->cap_count) {
        int32_t cap = t->cap_count * 2;
        int64_t *o = realloc(t->offsets, (size_t)(cap + 1) * sizeof *o);
        if (!o)
            return -1;
        t->offsets = o;
        t->cap_count = cap;
    }
    memcpy(t->data + t->bytes, s, len);
    t->data[t->bytes + len] = '\0';
    t->bytes += len + 1;
    id = t->count++;
    t->offsets[t->count] = (int64_t)t->bytes;
    int grew = ss_hindex_reserve(&t->ix, (size_t)t->count, t->count, hash_id, t);
    if (grew != 0) {
        if (grew < 0) {
            t->count--; /* keep the table consistent */
            t->bytes -= len + 1;
            return -1;
        }
    } else {
        ss_hindex_put(&t->ix, slot, id);
    }
    return id;
}

int32_t ss_strtab_intern(ss_strtab_t *t, const char *s)
{
    return ss_strtab_intern_n(t, s, strlen(s));
}

int32_t ss_strtab_find(const ss_strtab_t *t, const char *s)
{
    return lookup(t, s, strlen(s), NULL);
}

const char *ss_strtab_get(const ss_strtab_t *t, int32_t id)
{
    if (id < 0 || id >= t->count)
        return NULL;
    return t->data + t->offsets[id];
}

size_t ss_strtab_len(const ss_strtab_t *t, int32_t id)
{
    if (id < 0 || id >= t->count)
        return 0;
    return (size_t)(t->offsets[id + 1] - t->offsets[id] - 1);
}

int32_t ss_strtab_count(const ss_strtab_t *t)
{
    return t->count;
}

const char *ss_strtab_data(const ss_strtab_t *t, size_t *bytes)
{
    *bytes = t->bytes;
    return t->data;
}

const int64_t *ss_strtab_offsets(const ss_strtab_t *t)
{
    return t->offsets;
}

ss_strtab_t *ss_strtab_from_raw(const char *data, size_t bytes, const int64_t *offsets,
                                int32_t count, const char **why)
{
    if (count < 1 || offsets[0] != 0 || (size_t)offsets[count] != bytes) {
        *why = "string table offsets do not start at 0 and end at the data size";
        return NULL;
    }
    if (bytes < 1 || data[0] != '\0') {
        *why = "string 0 is not the empty string";
        return NULL;
    }
    for (int32_t i = 0; i < count; i++) {
        /* Each offset in range before it is used: increasing offsets that
         * end at the data size are in range only once all are checked. */
        if (offsets[i + 1] > (int64_t)bytes) {
            *why = "a string table offset lies past the end of /strings/data";
            return NULL;
        }
        if (offsets[i + 1] <= offsets[i]) {
            *why = "string table offsets are not increasing within the data";
            return NULL;
        }
        if (data[offsets[i + 1] - 1] != '\0' ||
            memchr(data + offsets[i], '\0', (size_t)(offsets[i + 1] - offsets[i] - 1))) {
            *why = "a string in the string table is not NUL-terminated exactly once";
            return NULL;
        }
    }
    ss_strtab_t *t = calloc(1, sizeof *t);
    if (!t) {
        *why = "out of memory";
        return NULL;
    }
    t->cap_bytes = bytes;
    t->cap_count = count;
    t->bytes = bytes;
    t->count = count;
    t->data = malloc(bytes);
    t->offsets = malloc((size_t)(count + 1) * sizeof *t->offsets);
    size_t nslots = 512;
    while (nslots < (size_t)count * 2 + 2)
        nslots *= 2;
    if (!t->data || !t->offsets) {
        ss_strtab_destroy(t);
        *why = "out of memory";
        return NULL;
    }
    memcpy(t->data, data, bytes);
    memcpy(t->offsets, offsets, (size_t)(count + 1) * sizeof *offsets);
    if (ss_hindex_rebuild(&t->ix, nslots, count, hash_id, t) < 0) {
        ss_strtab_destroy(t);
        *why = "out of memory";
        return NULL;
    }
    return t;
}
