/* ss_hash: the one hash function and the one open-addressing index behind
 * every hash table of the tree (string table, verdict cache, score
 * signatures, the OpenB template dedupe).
 *
 * The index maps a 64-bit hash to int32 ids 0..n-1 that the caller keeps in
 * its own arrays (so ids follow insertion order and nothing that iterates a
 * table depends on the hash): linear probing over a power-of-two slot array,
 * -1 = empty. The caller probes with ss_hindex_first/next and tests equality
 * itself, which keeps the hot lookup free of callbacks:
 *
 *     for (size_t j = ss_hindex_first(ix, h); (id = ix->slots[j]) >= 0;
 *          j = ss_hindex_next(ix, j))
 *         if (equal(id)) return id;
 *     // j is now the empty slot where a new id goes (ss_hindex_put)
 */
#ifndef SS_HASH_H
#define SS_HASH_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a, 64 bit: ss_hash_bytes(SS_HASH_INIT, p, n); chain calls to hash
 * several fields (pass the previous result as h). SS_HASH_INIT is the
 * published offset basis; the four copies this replaced had lost its last
 * digit (harmless: every table only looks up, ids follow insertion order). */
#define SS_HASH_INIT 14695981039346656037ull
uint64_t ss_hash_bytes(uint64_t h, const void *p, size_t n);

typedef struct {
    int32_t *slots; /* nslots entries: an id, or -1 */
    size_t nslots;  /* a power of two */
} ss_hindex_t;

/* Allocates nslots (a power of two) empty slots. Returns 0 or -1. */
int ss_hindex_init(ss_hindex_t *ix, size_t nslots);
void ss_hindex_free(ss_hindex_t *ix);

static inline size_t ss_hindex_first(const ss_hindex_t *ix, uint64_t h)
{
    return (size_t)h & (ix->nslots - 1);
}

static inline size_t ss_hindex_next(const ss_hindex_t *ix, size_t j)
{
    return (j + 1) & (ix->nslots - 1);
}

static inline void ss_hindex_put(ss_hindex_t *ix, size_t slot, int32_t id)
{
    ix->slots[slot] = id;
}

/* Replaces the slots by nslots (a power of two) slots holding ids
 * 0..have-1, inserted in id order with hash_of(ctx, id). Returns 0 or -1
 * (out of memory; the index is unchanged then). */
int ss_hindex_rebuild(ss_hindex_t *ix, size_t nslots, int32_t have,
                      uint64_t (*hash_of)(const void *ctx, int32_t id), const void *ctx);

/* Makes room for n ids: while n * 2 > nslots, doubles the slots and inserts
 * ids 0..have-1 again (in id order) with hash_of(ctx, id). Slots found
 * before a growth are stale after it. Returns 1 if it grew, 0 if not, -1
 * when out of memory (the index is unchanged then). */
int ss_hindex_reserve(ss_hindex_t *ix, size_t n, int32_t have,
                      uint64_t (*hash_of)(const void *ctx, int32_t id), const void *ctx);

#endif
