/* ss_strtab: interned strings. Every name, label key/value, taint, model and
 * namespace in a cluster is stored once and referred to by a dense int32 id,
 * so that the hot loops compare integers. Built for ~1-2 million strings
 * (one per pod name); lookups are a hash probe, ids are assigned in order of
 * first insertion, so the same sequence of inserts gives the same ids.
 *
 * Id 0 is always the empty string "".
 */
#ifndef SS_STRTAB_H
#define SS_STRTAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct ss_strtab ss_strtab_t;

/* Returns a new table holding only "" (id 0), or NULL when out of memory. */
ss_strtab_t *ss_strtab_create(void);
void ss_strtab_destroy(ss_strtab_t *t); /* accepts NULL */

/* Returns the id of s (len bytes, need not be NUL-terminated), adding it if
 * new; -1 when out of memory. */
int32_t ss_strtab_intern_n(ss_strtab_t *t, const char *s, size_t len);
int32_t ss_strtab_intern(ss_strtab_t *t, const char *s);

/* Returns the id of s, or -1 if s was never interned. Never modifies t. */
int32_t ss_strtab_find(const ss_strtab_t *t, const char *s);

/* Borrowed NUL-terminated string for id; valid until the next intern call
 * (the storage may move) or destroy. NULL for an id out of range. */
const char *ss_strtab_get(const ss_strtab_t *t, int32_t id);
size_t ss_strtab_len(const ss_strtab_t *t, int32_t id);

int32_t ss_strtab_count(const ss_strtab_t *t);

/* The raw storage, for writers: the concatenation of all strings (each
 * followed by NUL) and count+1 offsets into it (offset[i] is where string i
 * starts, offset[count] is the total size). Borrowed, valid as for get. */
const char *ss_strtab_data(const ss_strtab_t *t, size_t *bytes);
const int64_t *ss_strtab_offsets(const ss_strtab_t *t);

/* Rebuilds a table from that raw form (as read back from a file). Checks that
 * offsets are increasing, in range and that every string ends in NUL; on bad
 * input returns NULL and sets *why to a static reason. */
ss_strtab_t *ss_strtab_from_raw(const char *data, size_t bytes, const int64_t *offsets,
                                int32_t count, const char **why);

#endif
