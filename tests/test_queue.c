/* The queue order (jobs/ss_queue.c) against an independent reference: the
 * order written out as a sort (priority descending, then the position of
 * the unit's first pending pod, then pod index; a gang takes its highest
 * member priority), on generated clusters with few and with many distinct
 * priorities (the bucket path and the sorting path). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ss_gen.h"
#include "ss_queue.h"

typedef struct {
    int32_t prio, pos, pod;
} ref_key_t;

static int ref_cmp(const void *a, const void *b)
{
    const ref_key_t *x = a, *y = b;
    if (x->prio != y->prio)
        return y->prio < x->prio ? -1 : 1;
    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    return x->pod < y->pod ? -1 : x->pod > y->pod;
}

static void check_against_reference(const ss_cluster_t *c)
{
    ss_error_t err;
    ss_queue_t *q = ss_queue_build(c, &err);
    assert_non_null(q);
    int32_t *gprio = malloc(((size_t)c->n_groups + 1) * sizeof *gprio);
    int32_t *gpos = malloc(((size_t)c->n_groups + 1) * sizeof *gpos);
    ref_key_t *k = malloc(((size_t)c->n_pods + 1) * sizeof *k);
    for (int32_t g = 0; g < c->n_groups; g++) {
        gprio[g] = INT32_MIN;
        gpos[g] = INT32_MAX;
    }
    for (int32_t p = 0; p < c->n_pods; p++) {
        int32_t g = c->pod_group[p];
        if (c->pod_node[p] < 0 && g >= 0) {
            gprio[g] = c->pod_priority[p] > gprio[g] ? c->pod_priority[p] : gprio[g];
            gpos[g] = p < gpos[g] ? p : gpos[g];
        }
    }
    int32_t n = 0;
    for (int32_t p = 0; p < c->n_pods; p++) {
        if (c->pod_node[p] >= 0)
            continue;
        int32_t g = c->pod_group[p];
        k[n++] = (ref_key_t){g >= 0 ? gprio[g] : c->pod_priority[p], g >= 0 ? gpos[g] : p, p};
    }
    qsort(k, (size_t)n, sizeof *k, ref_cmp);
    assert_int_equal(q->n_order, n);
    for (int32_t i = 0; i < n; i++)
        assert_int_equal(q->order[i], k[i].pod);
    free(gprio);
    free(gpos);
    free(k);
    ss_queue_destroy(q);
}

static void test_queue_order_matches_the_reference_sort(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        ss_gen_opts_t o;
        ss_gen_opts_default(&o);
        o.nodes = 300;
        o.pods = 3000;
        o.seed = seed;
        ss_cluster_t *c = NULL;
        ss_error_t err;
        assert_int_equal(ss_gen(&o, &c, &err), 0);
        assert_true(c->n_groups > 0);
        check_against_reference(c);             /* gen's few priorities: buckets */
        for (int32_t p = 0; p < c->n_pods; p++) /* 97 priorities: the sort */
            c->pod_priority[p] = (int32_t)((p * 7919u) % 97u) - 40;
        check_against_reference(c);
        ss_cluster_destroy(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_order_matches_the_reference_sort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
