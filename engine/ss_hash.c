/* ss_hash: FNV-1a and the open-addressing id index (see ss_hash.h). */
#include "ss_hash.h"

#include <stdlib.h>
#include <string.h>

uint64_t ss_hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

int ss_hindex_init(ss_hindex_t *ix, size_t nslots)
{
    ix->slots = malloc(nslots * sizeof *ix->slots);
    ix->nslots = ix->slots ? nslots : 0;
    if (!ix->slots)
        return -1;
    memset(ix->slots, 0xff, nslots * sizeof *ix->slots);
    return 0;
}

void ss_hindex_free(ss_hindex_t *ix)
{
    free(ix->slots);
    ix->slots = NULL;
    ix->nslots = 0;
}

int ss_hindex_rebuild(ss_hindex_t *ix, size_t nslots, int32_t have,
                      uint64_t (*hash_of)(const void *ctx, int32_t id), const void *ctx)
{
    ss_hindex_t fresh;
    if (ss_hindex_init(&fresh, nslots) < 0)
        return -1;
    for (int32_t id = 0; id < have; id++) {
        size_t j = ss_hindex_first(&fresh, hash_of(ctx, id));
        while (fresh.slots[j] >= 0)
            j = ss_hindex_next(&fresh, j);
        fresh.slots[j] = id;
    }
    ss_hindex_free(ix);
    *ix = fresh;
    return 0;
}

int ss_hindex_reserve(ss_hindex_t *ix, size_t n, int32_t have,
                      uint64_t (*hash_of)(const void *ctx, int32_t id), const void *ctx)
{
    size_t ns = ix->nslots ? ix->nslots : 16;
    while (n * 2 > ns)
        ns *= 2;
    if (ns == ix->nslots)
        return 0;
    return ss_hindex_rebuild(ix, ns, have, hash_of, ctx) < 0 ? -1 : 1;
}
