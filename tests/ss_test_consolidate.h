/* ss_test_consolidate: the plan and verify helpers the consolidate tests
 * share (test_consolidate.c, test_consolidate_rules.c). Include after
 * cmocka. */
#ifndef SS_TEST_CONSOLIDATE_H
#define SS_TEST_CONSOLIDATE_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ss_consolidate.h"
#include "ss_verify_plan.h"

/* The plan of c under o (c must be valid). */
static inline ss_cplan_t plan_of(const ss_cluster_t *c, const ss_consolidate_opts_t *o)
{
    ss_error_t err = {{0}};
    if (ss_cluster_validate(c, &err) != 0)
        fail_msg("invalid test cluster: %s", err.text);
    ss_cplan_t p;
    assert_int_equal(ss_consolidate(c, o, &p, &err), 0);
    return p;
}

/* The verifier's violations; with want, one must mention it. */
static inline int64_t verify(const ss_cluster_t *c, const ss_cplan_t *p, const char *want)
{
    ss_error_t err = {{0}};
    ss_vplan_report_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    int64_t n = ss_verify_plan(c, p, r, &err);
    assert_true(n >= 0);
    bool found = want == NULL;
    for (int32_t i = 0; i < r->n_messages; i++) {
        if (want && strstr(r->messages[i], want))
            found = true;
        else if (!want)
            print_message("violation: %s\n", r->messages[i]);
    }
    if (!found)
        fail_msg("no violation mentions '%s' (%lld violations)", want, (long long)n);
    free(r);
    return n;
}

#endif
