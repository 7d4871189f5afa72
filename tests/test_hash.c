/* test_hash: engine/ss_hash, the one hash function and id index behind the
 * string table, the verdict cache, the score signatures and the OpenB
 * template dedupe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ss_hash.h"
#include "ss_strtab.h"

/* Keys are the ids' values times a constant; many collide in the low bits. */
static const int64_t *g_keys;

static uint64_t key_hash(const void *ctx, int32_t id)
{
    const int64_t *keys = ctx;
    return ss_hash_bytes(SS_HASH_INIT, &keys[id], sizeof keys[id]) & 0xffff0fffull;
}

static int32_t find(const ss_hindex_t *ix, int64_t key, size_t *slot)
{
    size_t j = ss_hindex_first(ix, ss_hash_bytes(SS_HASH_INIT, &key, sizeof key) & 0xffff0fffull);
    int32_t id;
    while ((id = ix->slots[j]) >= 0 && g_keys[id] != key)
        j = ss_hindex_next(ix, j);
    *slot = j;
    return id;
}

static void test_fnv1a_known_values(void **state)
{
    (void)state;
    /* FNV-1a 64 of "" and "a" (the published test vectors). */
    assert_true(ss_hash_bytes(SS_HASH_INIT, "", 0) == 0xcbf29ce484222325ull);
    assert_true(ss_hash_bytes(SS_HASH_INIT, "a", 1) == 0xaf63dc4c8601ec8cull);
    /* Chaining equals hashing the concatenation. */
    assert_true(ss_hash_bytes(ss_hash_bytes(SS_HASH_INIT, "ab", 2), "cd", 2) ==
                ss_hash_bytes(SS_HASH_INIT, "abcd", 4));
}

static void test_index_grows_and_finds_every_id(void **state)
{
    (void)state;
    enum { N = 20000 };
    static int64_t keys[N];
    g_keys = keys;
    ss_hindex_t ix = {0};
    assert_int_equal(ss_hindex_init(&ix, 16), 0);
    int grew = 0;
    for (int32_t i = 0; i < N; i++) {
        keys[i] = (int64_t)i * 7919;
        int r = ss_hindex_reserve(&ix, (size_t)i + 1, i, key_hash, keys);
        assert_true(r >= 0);
        grew += r;
        size_t slot;
        assert_int_equal(find(&ix, keys[i], &slot), -1);
        ss_hindex_put(&ix, slot, i);
        assert_true(ix.nslots >= 2 * (size_t)(i + 1));
    }
    assert_true(grew >= 10);
    for (int32_t i = 0; i < N; i++) {
        size_t slot;
        assert_int_equal(find(&ix, keys[i], &slot), i);
    }
    size_t slot;
    assert_int_equal(find(&ix, 1, &slot), -1);
    ss_hindex_free(&ix);
    assert_null(ix.slots);
}

/* fuzz_snapshot found it: an inner offset past the data (the last offset
 * right) was used to read data[] before the table was rejected. */
static void test_strtab_from_raw_rejects_inner_offset_past_data(void **state)
{
    (void)state;
    static const char data[] = "\0a\0b"; /* "", "a", "b": 5 bytes with the final NUL */
    int64_t off[] = {0, 1, INT64_C(1) << 40, 5};
    const char *why = NULL;
    assert_null(ss_strtab_from_raw(data, sizeof data, off, 3, &why));
    assert_non_null(strstr(why, "past the end of /strings/data"));
    off[2] = 3;
    ss_strtab_t *t = ss_strtab_from_raw(data, sizeof data, off, 3, &why);
    assert_non_null(t);
    assert_string_equal(ss_strtab_get(t, 2), "b");
    ss_strtab_destroy(t);
}

static void test_strtab_ids_follow_insertion_order(void **state)
{
    (void)state;
    ss_strtab_t *t = ss_strtab_create();
    char buf[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(buf, sizeof buf, "s%d", i);
        assert_int_equal(ss_strtab_intern(t, buf), i + 1); /* id 0 is "" */
    }
    for (int i = 0; i < 5000; i++) {
        snprintf(buf, sizeof buf, "s%d", i);
        assert_int_equal(ss_strtab_find(t, buf), i + 1);
        assert_int_equal(ss_strtab_intern(t, buf), i + 1);
    }
    assert_int_equal(ss_strtab_find(t, "nope"), -1);
    ss_strtab_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fnv1a_known_values),
        cmocka_unit_test(test_index_grows_and_finds_every_id),
        cmocka_unit_test(test_strtab_ids_follow_insertion_order),
        cmocka_unit_test(test_strtab_from_raw_rejects_inner_offset_past_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
