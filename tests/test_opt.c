/* Tests of cli/ss_opt: the shared option parser (typed values, ranges, the
 * --no- form of switches, the operand, --help, and that every bad input is a
 * usage error with exit status 2). Messages are not printed (loud = false). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ss_opt.h"

typedef struct {
    const char *in, *operand;
    int quiet, format;
    bool sw;
    int64_t n;
    uint64_t seed;
    double share;
} vals_t;

static const char *const formats[] = {"text", "json", NULL};

/* Parses the space-separated words of line (argv[0] = "cmd"). */
static int parse(const char *line, vals_t *v)
{
    static char buf[512];
    char *argv[32];
    int argc = 0;
    snprintf(buf, sizeof buf, "cmd %s", line);
    for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " "))
        argv[argc++] = t;
    argv[argc] = NULL;
    memset(v, 0, sizeof *v);
    v->sw = true;
    const ss_opt_t opts[] = {
        SS_O_STR('i', "input", &v->in),
        SS_O_FLAG('q', "quiet", &v->quiet),
        SS_O_CHOICE('o', "output", &v->format, formats),
        SS_O_SWITCH("gpu", &v->sw),
        SS_O_INT(0, "nodes", &v->n, 1, 1000),
        SS_O_U64(0, "seed", &v->seed),
        SS_O_DOUBLE(0, "used", &v->share, 0, 0.9),
        SS_O_END,
    };
    const ss_opt_spec_t spec = {"cmd", opts, NULL, &v->operand};
    return ss_opt_parse(&spec, argc, argv, false);
}

static void test_opt_values(void **state)
{
    (void)state;
    vals_t v;
    assert_int_equal(parse("-i a.h5 -q -o JSON --no-gpu --nodes 7 --seed 18446744073709551615 "
                           "--used 0.25 file.h5",
                           &v),
                     SS_OPT_RUN);
    assert_string_equal(v.in, "a.h5");
    assert_string_equal(v.operand, "file.h5");
    assert_int_equal(v.quiet, 1);
    assert_int_equal(v.format, 1);
    assert_false(v.sw);
    assert_int_equal(v.n, 7);
    assert_true(v.seed == UINT64_MAX);
    assert_true(v.share == 0.25);
    assert_int_equal(parse("--input=b.h5 --quiet --output text --gpu", &v), SS_OPT_RUN);
    assert_string_equal(v.in, "b.h5");
    assert_int_equal(v.format, 0);
    assert_true(v.sw);
    assert_null(v.operand);
}

static void test_opt_help(void **state)
{
    (void)state;
    vals_t v;
    assert_int_equal(parse("--help", &v), 0);
    assert_int_equal(parse("-i x -h", &v), 0);
}

static void test_opt_usage_errors(void **state)
{
    (void)state;
    static const char *bad[] = {
        "--bogus",     "-x",
        "-i",          "--nodes",
        "--nodes 0",   "--nodes 1001",
        "--nodes 1e3", "--nodes 12abc",
        "--seed -1",   "--seed 18446744073709551616",
        "--seed x",    "--used 1",
        "--used nan",  "--used inf",
        "--used -0.1", "-o xml",
        "a b",         "--gpu=1",
    };
    vals_t v;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse(bad[i], &v) != 2)
            fail_msg("'%s' was accepted", bad[i]);
    assert_int_equal(ss_opt_fail("cmd", false, "x %d", 1), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opt_values),
        cmocka_unit_test(test_opt_help),
        cmocka_unit_test(test_opt_usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
