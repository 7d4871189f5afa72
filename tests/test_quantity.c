/* Tests of ss_quantity: Kubernetes quantity parsing and rounding, table-driven
 * from the cases apimachinery's quantity_test.go covers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ss_quantity.h"

static const struct {
    const char *in;
    int scale;
    int64_t want;
} good[] = {
    {"0", 0, 0},
    {"1", 0, 1},
    {"2", SS_QTY_MILLI, 2000},
    {"500m", SS_QTY_MILLI, 500},
    {"0.5", SS_QTY_MILLI, 500},
    {".5", SS_QTY_MILLI, 500},
    {"1.", SS_QTY_MILLI, 1000},
    {"7500m", SS_QTY_MILLI, 7500},
    {"0.1m", SS_QTY_MILLI, 1},      /* rounded up */
    {"1.0001", SS_QTY_MILLI, 1001}, /* rounded up */
    {"100m", 0, 1},                 /* memory: 0.1 byte rounds up to 1 */
    {"1k", 0, 1000},
    {"1M", 0, 1000000},
    {"1G", 0, 1000000000},
    {"1T", 0, 1000000000000},
    {"1P", 0, 1000000000000000},
    {"1E", 0, 1000000000000000000},
    {"1Ki", 0, 1024},
    {"1Mi", 0, 1048576},
    {"1.5Gi", 0, 1610612736},
    {"1Ti", 0, INT64_C(1) << 40},
    {"1Pi", 0, INT64_C(1) << 50},
    {"4Ei", 0, INT64_C(1) << 62},
    {"15258956Ki", 0, INT64_C(15625170944)},
    {"1e3", 0, 1000},
    {"1E3", 0, 1000},
    {"1e-3", SS_QTY_MILLI, 1},
    {"1.5e+2", 0, 150},
    {"+5", 0, 5},
    {"-5", 0, -5},
    {"-0.5", SS_QTY_MILLI, -500},
    {"0.000000000000000000000000000000000000000001", 0, 1},
    {"12345678901234567890123456789012345678901234567890e-40", 0, 1234567891},
    {"37087380622", 0, INT64_C(37087380622)},
    {"9223372036854775807", 0, INT64_MAX},
};

static void test_ss_quantity_parse_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t v = -42;
        ss_error_t err = {{0}};
        int rc = ss_quantity_parse(good[i].in, good[i].scale, &v, &err);
        if (rc != 0 || v != good[i].want)
            print_error("case '%s' scale %d: rc %d (%s) value %lld want %lld\n", good[i].in,
                        good[i].scale, rc, err.text, (long long)v, (long long)good[i].want);
        assert_int_equal(rc, 0);
        assert_int_equal(v, good[i].want);
    }
}

static const struct {
    const char *in;
    int code;
    const char *msg; /* substring of the message */
} bad[] = {
    {"", SS_EFORMAT, "empty"},
    {"abc", SS_EFORMAT, "not a quantity"},
    {"1K", SS_EFORMAT, "unknown suffix 'K'"},
    {"1mi", SS_EFORMAT, "unknown suffix"},
    {"1.5.2", SS_EFORMAT, "unknown suffix '.2'"},
    {"1 ", SS_EFORMAT, "unknown suffix"},
    {" 1", SS_EFORMAT, "not a quantity"},
    {"1e", SS_EFORMAT, "unknown suffix"},
    {"1e+", SS_EFORMAT, "unknown suffix"},
    {"1Gb", SS_EFORMAT, "unknown suffix"},
    {".", SS_EFORMAT, "not a quantity"},
    {"+", SS_EFORMAT, "not a quantity"},
    {"--1", SS_EFORMAT, "not a quantity"},
    {"1ki", SS_EFORMAT, "unknown suffix"},
    {"8Ei", SS_ERANGE, "too large"},
    {"10E", SS_ERANGE, "too large"},
    {"1e30", SS_ERANGE, "too large"},
    {"9223372036854775808", SS_ERANGE, "too large"},
};

static void test_ss_quantity_parse_invalid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 0;
        ss_error_t err = {{0}};
        int rc = ss_quantity_parse(bad[i].in, 0, &v, &err);
        if (rc != bad[i].code || !strstr(err.text, bad[i].msg))
            print_error("case '%s': rc %d message '%s'\n", bad[i].in, rc, err.text);
        assert_int_equal(rc, bad[i].code);
        assert_non_null(strstr(err.text, bad[i].msg));
    }
}

static void test_ss_quantity_format_roundtrip(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(ss_quantity_format(1500, SS_QTY_MILLI, 0, buf), "1500m");
    assert_string_equal(ss_quantity_format(2000, SS_QTY_MILLI, 0, buf), "2");
    assert_string_equal(ss_quantity_format(INT64_C(4) << 30, 0, 1, buf), "4Gi");
    assert_string_equal(ss_quantity_format(1000, 0, 1, buf), "1000");
    const int64_t vals[] = {0, 1, 999, 1024, 1536, INT64_C(15625170944), INT64_MAX};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        int64_t back;
        for (int bin = 0; bin < 2; bin++) {
            assert_int_equal(
                ss_quantity_parse(ss_quantity_format(vals[i], 0, bin, buf), 0, &back, NULL), 0);
            assert_int_equal(back, vals[i]);
        }
        assert_int_equal(
            ss_quantity_parse(ss_quantity_format(vals[i] / 4, 3, 0, buf), 3, &back, NULL), 0);
        assert_int_equal(back, vals[i] / 4);
    }
}

/* Long texts and huge exponents never overflow the parser's own counters:
 * they are too large, or round up to one unit. */
static void test_ss_quantity_parse_huge_text(void **state)
{
    (void)state;
    size_t n = 1000000;
    char *s = malloc(n + 16);
    assert_non_null(s);
    int64_t v = 0;
    ss_error_t err = {{0}};
    memset(s, '0', n + 2);
    s[0] = '1';
    s[n + 2] = '\0';
    assert_int_equal(ss_quantity_parse(s, 0, &v, &err), SS_ERANGE);
    s[0] = '0';
    s[1] = '.';
    s[n + 1] = '1';
    assert_int_equal(ss_quantity_parse(s, 0, &v, &err), 0);
    assert_int_equal(v, 1);
    strcpy(s + n + 2, "e999999"); /* 1e-1000000 * 1e999999 = 0.1: one unit */
    assert_int_equal(ss_quantity_parse(s, 0, &v, &err), 0);
    assert_int_equal(v, 1);
    strcpy(s + n + 2, "e1000019"); /* 1e19: too large (was read as 1e-900000) */
    assert_int_equal(ss_quantity_parse(s, 0, &v, &err), SS_ERANGE);
    assert_int_equal(ss_quantity_parse("1e999999999999", 0, &v, &err), SS_ERANGE);
    assert_int_equal(ss_quantity_parse("1e-999999999999", 0, &v, &err), 0);
    assert_int_equal(v, 1);
    assert_int_equal(ss_quantity_parse("8Ei", 0, &v, &err), SS_ERANGE);
    assert_int_equal(ss_quantity_parse("9223372036854775808", 0, &v, &err), SS_ERANGE);
    assert_int_equal(ss_quantity_parse("9223372036854775.808k", 0, &v, &err), SS_ERANGE);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ss_quantity_parse_valid),
        cmocka_unit_test(test_ss_quantity_parse_invalid),
        cmocka_unit_test(test_ss_quantity_format_roundtrip),
        cmocka_unit_test(test_ss_quantity_parse_huge_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
