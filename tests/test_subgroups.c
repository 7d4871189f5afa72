/* Topology levels named by node labels and sub-groups (a gang inside the
 * gang, format version 6): a hand-made cluster whose answer is computed by
 * hand in the comments, the fast engine at several shard sizes and thread
 * counts against the naive reference, and the verifier catching a broken
 * placement of a sub-group. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <omp.h>

#include "ss_cluster.h"
#include "ss_queue.h"
#include "ss_reason.h"
#include "ss_sched.h"
#include "ss_test_gangs.h"
#include "ss_verify.h"

#define BLOCK_KEY "example.com/block"
#define RACK_KEY "example.com/rack"

/* Eight nodes of 4 cpu in zone z1: block b1 holds racks r1 (n1, n2) and r2
 * (n3, n4), block b2 racks r3 (n5, n6) and r4 (n7, n8); the levels come
 * from the labels (zone, block, rack, hostname). Running pods take 0.5 cpu
 * of n2 and of n4. The gang "train" (min 4, required: one block) has
 * sub-groups "a" and "b" (min 2 each; sub_mode at the rack level), two pods
 * of 3 cpu each. */
static ss_cluster_t *cluster_with(int sub_mode, int empty_sub, bool c_runs)
{
    ss_cluster_t *c = ss_cluster_create();
    int32_t zk = S(c, SS_TOPO_ZONE_KEY), bk = S(c, BLOCK_KEY), rk = S(c, RACK_KEY);
    for (int i = 0; i < 8; i++) {
        char name[8], block[8], rack[8];
        snprintf(name, sizeof name, "n%d", i + 1);
        snprintf(block, sizeof block, "b%d", i / 4 + 1);
        snprintf(rack, sizeof rack, "r%d", i / 2 + 1);
        int32_t lb = c->n_labels;
        ss_cluster_add_label(c, zk, S(c, "z1"));
        ss_cluster_add_label(c, bk, S(c, block));
        ss_cluster_add_label(c, rk, S(c, rack));
        int32_t topo[4] = {0, 0, 0, 0};
        ss_cluster_add_node(c, S(c, name), topo, 4000, (int64_t)1 << 34, 110, NULL, false, lb, 3,
                            c->n_taints, 0, c->n_gpus, 0);
    }
    ss_template_t t = {.req = {.cpu_milli = 3000, .memory = 1 << 20}};
    ss_template_t small = {.req = {.cpu_milli = 500, .memory = 1 << 20}};
    int32_t ti = ss_cluster_add_template(c, &t), ts = ss_cluster_add_template(c, &small);
    ss_cluster_add_pod(c, S(c, "busy-2"), S(c, "default"), ts, 0, -1, 1, 0);
    ss_cluster_add_pod(c, S(c, "busy-4"), S(c, "default"), ts, 0, -1, 3, 0);
    /* levels as an importer gives them: indices into keys until set */
    int32_t keys[4] = {zk, bk, rk, S(c, SS_TOPO_HOSTNAME_KEY)};
    int32_t g = ss_cluster_add_group(c, S(c, "ml/train"), 4, 1, SS_TOPO_MODE_REQUIRED);
    int32_t a = ss_cluster_add_subgroup(c, g, S(c, "ml/train/a"), 2, 2, sub_mode);
    int32_t b = ss_cluster_add_subgroup(c, g, S(c, "ml/train/b"), 2, 2, sub_mode);
    const char *names[4] = {"a0", "b0", "a1", "b1"}; /* interleaved in the snapshot */
    for (int i = 0; i < 4; i++)
        ss_cluster_add_pod(c, S(c, names[i]), S(c, "ml"), ti, 10, i % 2 ? b : a, -1, 0);
    if (empty_sub) { /* sub-group "c": no pending member; one running on n8 if c_runs */
        int32_t sc = ss_cluster_add_subgroup(c, g, S(c, "ml/train/c"), 1, 3, SS_TOPO_MODE_NONE);
        if (c_runs)
            ss_cluster_add_pod(c, S(c, "c0"), S(c, "ml"), ts, 10, sc, 7, 0);
    }
    ss_error_t err = {{0}};
    uint8_t nests[4];
    assert_int_equal(ss_cluster_set_levels(c, keys, 4, nests, &err), 0);
    assert_int_equal(ss_cluster_sort_nodes(c, &err), 0);
    assert_int_equal(ss_cluster_validate(c, &err), 0);
    assert_int_equal(c->n_levels, 4);
    assert_string_equal(ss_topo_level_name(c, 2), RACK_KEY);
    assert_true(nests[0] && nests[1] && nests[2]);
    return c;
}

static ss_cluster_t *cluster(int sub_mode)
{
    return cluster_with(sub_mode, 0, false);
}

static ss_placements_t *schedule(const ss_cluster_t *c)
{
    ss_error_t err;
    ss_queue_t *q = ss_queue_build(c, &err);
    assert_non_null(q);
    assert_int_equal(q->n_units, 1); /* one gang with its sub-groups */
    ss_queue_destroy(q);
    static const int32_t sizes[] = {1, 2, 8};
    return ss_test_schedule(c, sizes, 3);
}

static const char *where(const ss_cluster_t *c, const ss_placements_t *p, const char *pod)
{
    for (int32_t i = 0; i < p->n; i++)
        if (!strcmp(ss_cluster_strget(c, c->pod_name[p->pod[i]]), pod))
            return p->node[i] < 0 ? "-" : ss_cluster_strget(c, c->node_name[p->node[i]]);
    fail_msg("no pending pod %s", pod);
    return NULL;
}

/* By hand: the queue puts a0, a1 before b0, b1; block b1 first. Sub-group
 * a needs one rack (the finest level above the node) with two slots of 3
 * cpu: r1 (n1, n2) and r2 (n3, n4) have two each, left 0: the lower index,
 * r1; least-allocated puts a0 on n1 (4 cpu free), a1 on n2. b goes to r2:
 * n3, n4. (Pod by pod, a1 would take n3, 4 cpu free against n2's 3.5, and
 * split a over two racks.) */
static void test_subgroups_golden(void **state)
{
    (void)state;
    ss_cluster_t *c = cluster(SS_TOPO_MODE_REQUIRED);
    ss_placements_t *p = schedule(c);
    assert_string_equal(where(c, p, "a0"), "n1");
    assert_string_equal(where(c, p, "a1"), "n2");
    assert_string_equal(where(c, p, "b0"), "n3");
    assert_string_equal(where(c, p, "b1"), "n4");
    ss_verify_report_t rep = {0};
    ss_error_t err;
    assert_int_equal(ss_verify(c, p, &rep, &err), 0);
    ss_verify_report_free(&rep);
    /* b split over two racks (b1 swapped with a1): only the sub-group
     * rule breaks, and the verifier names the sub-group */
    for (int32_t i = 0; i < p->n; i++) {
        const char *n = ss_cluster_strget(c, c->pod_name[p->pod[i]]);
        if (!strcmp(n, "b1") || !strcmp(n, "a1"))
            p->node[i] = !strcmp(n, "b1") ? 1 : 3; /* n2, n4 */
    }
    memset(&rep, 0, sizeof rep);
    assert_int_equal(ss_verify(c, p, &rep, &err), 2);
    assert_int_equal(rep.by_rule[SS_VRULE_TOPOLOGY], 2);
    assert_non_null(strstr(rep.messages[0], "group ml/train/"));
    assert_non_null(strstr(rep.messages[0], "requires one " RACK_KEY));
    ss_verify_report_free(&rep);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* Without the sub-groups' rack rule, the pods go one by one inside the
 * first block (least-allocated: the most cpu free first, ties to the lower
 * index): a0 n1, a1 n3, b0 n2, b1 n4. */
static void test_subgroups_without_levels(void **state)
{
    (void)state;
    ss_cluster_t *c = cluster(SS_TOPO_MODE_NONE);
    ss_placements_t *p = schedule(c);
    assert_string_equal(where(c, p, "a0"), "n1");
    assert_string_equal(where(c, p, "a1"), "n3");
    assert_string_equal(where(c, p, "b0"), "n2");
    assert_string_equal(where(c, p, "b1"), "n4");
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* A sub-group's minimum it cannot reach: nothing of the gang is placed. */
static void test_subgroups_min_unreachable(void **state)
{
    (void)state;
    ss_cluster_t *c = cluster(SS_TOPO_MODE_REQUIRED);
    c->group_min_member[1] = 3; /* sub-group a has 2 pods */
    c->group_min_member[0] = 2;
    ss_placements_t *p = schedule(c);
    const char *pods[4] = {"a0", "a1", "b0", "b1"};
    for (int i = 0; i < 4; i++)
        assert_string_equal(where(c, p, pods[i]), "-");
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

/* A sub-group with no pending member counts its running ones: none (as
 * Kubernetes, the gang stays pending) or one on n8 (min 1 reached: the gang
 * places as in the golden case). */
static void test_subgroups_without_pending_members(void **state)
{
    (void)state;
    ss_cluster_t *c = cluster_with(SS_TOPO_MODE_REQUIRED, 1, false);
    ss_placements_t *p = schedule(c);
    const char *pods[4] = {"a0", "a1", "b0", "b1"};
    for (int i = 0; i < 4; i++)
        assert_string_equal(where(c, p, pods[i]), "-");
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
    c = cluster_with(SS_TOPO_MODE_REQUIRED, 1, true);
    p = schedule(c);
    assert_string_equal(where(c, p, "a0"), "n1");
    assert_string_equal(where(c, p, "b1"), "n4");
    ss_verify_report_t rep = {0};
    ss_error_t err;
    assert_int_equal(ss_verify(c, p, &rep, &err), 0);
    ss_verify_report_free(&rep);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subgroups_golden),
        cmocka_unit_test(test_subgroups_without_levels),
        cmocka_unit_test(test_subgroups_min_unreachable),
        cmocka_unit_test(test_subgroups_without_pending_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
