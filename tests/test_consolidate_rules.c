/* test_consolidate_rules: consolidate's required inter-pod rules
 * (engine/ss_consolidate_rules.c) and verify --plan's own recount of them
 * (engine/ss_verify_plan.c) on hand-written clusters whose plan is computed
 * by hand: a DoNotSchedule zone spread that forbids the obvious (tightest)
 * target; a zone anti-affinity pair that must not land together, and a
 * running pod whose anti-affinity repels a mover without rules of its own; a
 * required-affinity pod that may go only where its peer is, including after
 * its peer moved earlier in the same plan; the plan's order kept for the
 * rules across waves; counts given back when a node cannot be freed. Each
 * time the verifier catches the hand-broken plan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ss_consolidate.h"
#include "ss_test_consolidate.h"
#include "ss_verify_plan.h"

#define ZONE "topology.kubernetes.io/zone"

static int32_t S(ss_cluster_t *c, const char *s)
{
    int32_t id = ss_cluster_str(c, s);
    assert_true(id >= 0);
    return id;
}

/* A node of cpu milli in zone (label topology.kubernetes.io/zone). */
static int32_t znode(ss_cluster_t *c, const char *name, const char *zone, int64_t cpu)
{
    int32_t topo[4] = {S(c, "r"), S(c, "z"), S(c, "b"),
                       S(c, "k")}; /* one topology domain: rows in any order */
    int32_t lb = c->n_labels;
    assert_true(ss_cluster_add_label(c, S(c, ZONE), S(c, zone)) >= 0);
    int32_t i = ss_cluster_add_node(c, S(c, name), topo, cpu, INT64_C(1) << 36, 110, NULL, false,
                                    lb, 1, 0, 0, c->n_gpus, 0);
    assert_true(i >= 0);
    return i;
}

/* A selector app In (app). */
static ss_selector_t app_is(ss_cluster_t *c, const char *app)
{
    int32_t v = ss_cluster_add_expr_value(c, S(c, app));
    int32_t e = ss_cluster_add_expr(c, S(c, "app"), SS_OP_IN, 0, v, 1);
    assert_true(v >= 0 && e >= 0);
    return (ss_selector_t){e, 1, 0};
}

enum { NONE, SPREAD, SPREAD_SOFT, ANTI, AFFINITY };

/* A template of cpu milli, label app=<app>, a controller unless bare, and
 * one zone rule over app=<peer>: a spread constraint of maxSkew 1, a
 * required anti-affinity or a required affinity term. */
static int32_t tmpl(ss_cluster_t *c, int64_t cpu, bool bare, const char *app, int rule,
                    const char *peer)
{
    ss_template_t t;
    memset(&t, 0, sizeof t);
    t.req.cpu_milli = cpu;
    t.req.memory = 1 << 20;
    t.flags = (bare ? 0 : SS_TF_CONTROLLER) | SS_TF_EVICT_FACTS;
    t.workload = S(c, app);
    t.spread_begin = c->n_spreads;
    t.pterm_begin = c->n_pterms;
    if (rule == SPREAD || rule == SPREAD_SOFT) {
        ss_spread_t s = {1,
                         S(c, ZONE),
                         rule == SPREAD ? SS_WHEN_DO_NOT_SCHEDULE : SS_WHEN_SCHEDULE_ANYWAY,
                         1,
                         SS_INCL_HONOR,
                         SS_INCL_IGNORE,
                         app_is(c, peer)};
        assert_true(ss_cluster_add_spread(c, &s) >= 0);
        t.spread_count = 1;
    } else if (rule == ANTI || rule == AFFINITY) {
        ss_podterm_t pt = {rule == ANTI ? SS_PT_ANTI_AFFINITY : SS_PT_AFFINITY,
                           0,
                           S(c, ZONE),
                           app_is(c, peer),
                           0,
                           0,
                           {0, 0, 1}};
        assert_true(ss_cluster_add_pterm(c, &pt) >= 0);
        t.pterm_count = 1;
    }
    t.plabel_begin = c->n_labels;
    assert_true(ss_cluster_add_label(c, S(c, "app"), S(c, app)) >= 0);
    t.plabel_count = 1;
    int32_t i = ss_cluster_add_template(c, &t);
    assert_true(i >= 0);
    return i;
}

static int32_t pod(ss_cluster_t *c, const char *name, int32_t t, int32_t on)
{
    int32_t i = ss_cluster_add_pod(c, S(c, name), S(c, "default"), t, 0, -1, on, 0);
    assert_true(i >= 0);
    return i;
}

/* A PDB over app=<app> with disruptionsAllowed `allowed`. */
static void pdb(ss_cluster_t *c, const char *app, int32_t allowed)
{
    ss_pdb_t p = {S(c, app), S(c, "default"), app_is(c, app), -1, 0, -1, 0, allowed, 0};
    assert_true(ss_cluster_add_pdb(c, &p) >= 0);
}

/* n1 (zone a) holds web-1 alone and is tried first (fewest pods). web has a
 * DoNotSchedule zone spread of maxSkew 1 over app=web. n2 (zone b) has 1
 * cpu free (web-2, web-3, a bare filler): the tightest target, but with
 * web-1 evicted zone a counts 1 (web-4) and zone b 2, so web-1 on n2 would
 * make 3 - 1 = 2 > 1. n3 (zone a, 2 cpu free) is allowed: 1 + 1 - 1 = 1.
 * The plan, by hand: drain n1, move web-1 n1 -> n3 in wave 1; n2 and n3
 * keep their bare fillers. With ScheduleAnyway the obvious n2 is taken. */
static ss_cluster_t *spread_cluster(int rule, int32_t *web1)
{
    ss_cluster_t *c = ss_cluster_create();
    int32_t n1 = znode(c, "n1", "a", 4000), n2 = znode(c, "n2", "b", 4000);
    int32_t n3 = znode(c, "n3", "a", 4000);
    int32_t web = tmpl(c, 1000, false, "web", rule, "web");
    int32_t fill1 = tmpl(c, 1000, true, "fill", NONE, NULL);
    *web1 = pod(c, "web-1", web, n1);
    pod(c, "web-2", web, n2);
    pod(c, "web-3", web, n2);
    pod(c, "fill-2", fill1, n2);
    pod(c, "web-4", web, n3);
    pod(c, "fill-3", fill1, n3);
    return c;
}

static void test_spread_forbids_obvious_target(void **state)
{
    (void)state;
    int32_t web1;
    ss_cluster_t *c = spread_cluster(SPREAD, &web1);
    ss_consolidate_opts_t o = {0};
    ss_cplan_t p = plan_of(c, &o);
    assert_int_equal(p.unmovable[SS_MOVE_RULES], 0);
    assert_int_equal(p.n_drain, 1);
    assert_int_equal(p.drain_node[0], 0);
    assert_int_equal(p.n_moves, 1);
    assert_int_equal(p.move_pod[0], web1);
    assert_int_equal(p.move_from[0], 0);
    assert_int_equal(p.move_to[0], 2); /* n3, not the tighter n2 */
    assert_int_equal(p.n_waves, 1);
    assert_int_equal(verify(c, &p, NULL), 0);
    /* hand-broken: the obvious target */
    p.move_to[0] = 1;
    assert_int_equal(verify(c, &p, "DoNotSchedule topology spread (skew)"), 1);
    ss_cplan_free(&p);
    ss_cluster_destroy(c);

    /* ScheduleAnyway does not change the choice: the tightest, n2 */
    c = spread_cluster(SPREAD_SOFT, &web1);
    p = plan_of(c, &o);
    assert_int_equal(p.n_moves, 1);
    assert_int_equal(p.move_to[0], 1);
    assert_int_equal(verify(c, &p, NULL), 0);
    ss_cplan_free(&p);
    ss_cluster_destroy(c);
}

/* db-1 (n1, zone a) and db-2 (n2, zone b) are anti-affine across zones. n2
 * is the tightest room for db-1 (1 cpu free) but holds db-2's zone; n3
 * (zone a, 2 cpu free) is allowed (db-1 itself is evicted). By hand: drain
 * n1, db-1 -> n3. Then the symmetric rule: x-1 has no rule of its own, but
 * the bare guard on n2 has a required zone anti-affinity against app=x, so
 * x-1 too goes to n3. */
static void test_anti_affinity_pair(void **state)
{
    (void)state;
    for (int sym = 0; sym < 2; sym++) {
        ss_cluster_t *c = ss_cluster_create();
        int32_t n1 = znode(c, "n1", "a", 4000), n2 = znode(c, "n2", "b", 4000);
        int32_t n3 = znode(c, "n3", "a", 4000);
        int32_t db = tmpl(c, 1000, false, sym ? "x" : "db", sym ? NONE : ANTI, "db");
        int32_t guard = tmpl(c, 1000, true, "guard", sym ? ANTI : NONE, "x");
        int32_t fill = tmpl(c, 1000, true, "fill", NONE, NULL);
        int32_t db2 = tmpl(c, 1000, true, "db", NONE, NULL); /* bare: stays */
        int32_t m = pod(c, "m-1", db, n1);
        pod(c, sym ? "guard" : "db-2", sym ? guard : db2, n2);
        pod(c, "fill-2a", fill, n2);
        pod(c, "fill-2b", fill, n2);
        pod(c, "fill-3a", fill, n3);
        pod(c, "fill-3b", fill, n3);
        ss_consolidate_opts_t o = {.only = &n1, .n_only = 1};
        ss_cplan_t p = plan_of(c, &o);
        assert_int_equal(p.n_drain, 1);
        assert_int_equal(p.n_moves, 1);
        assert_int_equal(p.move_pod[0], m);
        assert_int_equal(p.move_to[0], n3);
        assert_int_equal(verify(c, &p, NULL), 0);
        p.move_to[0] = n2; /* hand-broken: together */
        assert_int_equal(verify(c, &p,
                                sym ? "required pod anti-affinity of pod default/guard on n2"
                                    : "required pod anti-affinity (a matching pod"),
                         1);
        ss_cplan_free(&p);
        ss_cluster_destroy(c);
    }
}

/* cache-1 (n1, zone a) needs a web pod in its zone. n2 (zone b, 1 cpu
 * free) is the tightest but has no web; n3 (zone c, 2 cpu free) holds the
 * bare web-0: by hand, cache-1 -> n3. Then, on another cluster, --drain n4
 * (zone a), which holds web-1 and then cache-2: web-1 goes first, to the
 * tightest node, n3 (zone c, 1 cpu free); cache-2 must follow it into zone
 * c: n5 (3 cpu free), not the tighter n2 (zone b, 2 cpu free). The two
 * moves swapped (the cache's replacement before its peer's) are caught. */
static void test_affinity_follows_peer(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    int32_t n1 = znode(c, "n1", "a", 4000), n2 = znode(c, "n2", "b", 4000);
    int32_t n3 = znode(c, "n3", "c", 4000);
    int32_t cache = tmpl(c, 1000, false, "cache", AFFINITY, "web");
    int32_t bweb = tmpl(c, 1000, true, "web", NONE, NULL);
    int32_t fill = tmpl(c, 1000, true, "fill", NONE, NULL);
    int32_t c1 = pod(c, "cache-1", cache, n1);
    pod(c, "fill-2a", fill, n2);
    pod(c, "fill-2b", fill, n2);
    pod(c, "fill-2c", fill, n2);
    pod(c, "web-0", bweb, n3);
    pod(c, "fill-3", fill, n3);
    ss_consolidate_opts_t o = {.only = &n1, .n_only = 1};
    ss_cplan_t p = plan_of(c, &o);
    assert_int_equal(p.n_moves, 1);
    assert_int_equal(p.move_pod[0], c1);
    assert_int_equal(p.move_to[0], n3);
    assert_int_equal(verify(c, &p, NULL), 0);
    p.move_to[0] = n2;
    assert_int_equal(verify(c, &p, "required pod affinity (no matching pod"), 1);
    ss_cplan_free(&p);
    ss_cluster_destroy(c);

    /* the peer moves first, the cache follows it */
    c = ss_cluster_create();
    int32_t n4 = znode(c, "n4", "a", 4000);
    n2 = znode(c, "n2", "b", 4000);
    n3 = znode(c, "n3", "c", 4000);
    int32_t n5 = znode(c, "n5", "c", 4000);
    cache = tmpl(c, 1000, false, "cache", AFFINITY, "web");
    int32_t web = tmpl(c, 1000, false, "web", NONE, NULL);
    fill = tmpl(c, 1000, true, "fill", NONE, NULL);
    int32_t w1 = pod(c, "web-1", web, n4), c2 = pod(c, "cache-2", cache, n4);
    pod(c, "fill-2a", fill, n2);
    pod(c, "fill-2b", fill, n2);
    pod(c, "fill-3a", fill, n3);
    pod(c, "fill-3b", fill, n3);
    pod(c, "fill-3c", fill, n3);
    pod(c, "fill-5", fill, n5);
    o.only = &n4;
    p = plan_of(c, &o);
    assert_int_equal(p.n_drain, 1);
    assert_int_equal(p.n_moves, 2);
    assert_int_equal(p.move_pod[0], w1);
    assert_int_equal(p.move_to[0], n3);
    assert_int_equal(p.move_pod[1], c2);
    assert_int_equal(p.move_to[1], n5);
    assert_int_equal(p.move_wave[0], p.move_wave[1]);
    assert_int_equal(verify(c, &p, NULL), 0);
    /* hand-broken: the cache's replacement before its peer's */
    p.move_pod[0] = c2;
    p.move_to[0] = n5;
    p.move_pod[1] = w1;
    p.move_to[1] = n3;
    assert_int_equal(verify(c, &p, "required pod affinity (no matching pod"), 1);
    ss_cplan_free(&p);
    ss_cluster_destroy(c);
}

/* The plan's order is the order the rules were checked in. --drain n4
 * (zone a): web-1 and web-2 under a PDB allowing one disruption, and
 * cache-2 with a required zone affinity to app=web. web-1 takes the
 * tightest room, n2 (zone b, then full), in wave 1; web-2 the next, n3
 * (zone c, 2 cpu free), in wave 2 (the PDB); cache-2 must join a web pod:
 * n3, after web-2. Its budget (no PDB) would allow wave 1, but then it would
 * come before web-2 in the plan, into a zone without web: it goes in wave 2.
 * By hand: web-1 -> n2 (1), web-2 -> n3 (2), cache-2 -> n3 (2). The
 * verifier catches cache-2 moved up into wave 1. */
static void test_rules_keep_plan_order(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    int32_t n4 = znode(c, "n4", "a", 4000), n2 = znode(c, "n2", "b", 4000);
    int32_t n3 = znode(c, "n3", "c", 4000);
    int32_t web = tmpl(c, 1000, false, "web", NONE, NULL);
    int32_t cache = tmpl(c, 1000, false, "cache", AFFINITY, "web");
    int32_t fill = tmpl(c, 1000, true, "fill", NONE, NULL);
    int32_t w1 = pod(c, "web-1", web, n4), w2 = pod(c, "web-2", web, n4);
    int32_t c2 = pod(c, "cache-2", cache, n4);
    pod(c, "fill-2a", fill, n2);
    pod(c, "fill-2b", fill, n2);
    pod(c, "fill-2c", fill, n2);
    pod(c, "fill-3a", fill, n3);
    pod(c, "fill-3b", fill, n3);
    pdb(c, "web", 1);
    ss_consolidate_opts_t o = {.only = &n4, .n_only = 1};
    ss_cplan_t p = plan_of(c, &o);
    assert_int_equal(p.n_drain, 1);
    assert_int_equal(p.n_moves, 3);
    assert_int_equal(p.n_waves, 2);
    int32_t want_pod[3] = {w1, w2, c2}, want_to[3] = {n2, n3, n3}, want_wave[3] = {1, 2, 2};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(p.move_pod[i], want_pod[i]);
        assert_int_equal(p.move_to[i], want_to[i]);
        assert_int_equal(p.move_wave[i], want_wave[i]);
    }
    assert_int_equal(verify(c, &p, NULL), 0);
    /* hand-broken: cache-2 in wave 1, listed before web-2 */
    int32_t bp[3] = {w1, c2, w2}, bf[3] = {n4, n4, n4}, bt[3] = {n2, n3, n3}, bw[3] = {1, 1, 2};
    uint64_t bm[3] = {0};
    ss_cplan_t bad = p;
    bad.move_pod = bp;
    bad.move_from = bf;
    bad.move_to = bt;
    bad.move_wave = bw;
    bad.move_gpu_mask = bm;
    assert_int_equal(verify(c, &bad, "move 1: pod default/cache-2 cannot go to n3"), 1);
    ss_cplan_free(&p);
    ss_cluster_destroy(c);
}

/* A node that cannot be freed gives its counts back. --drain n1,n2. n1
 * (zone a) holds db-1 (2 cpu, zone anti-affinity to app=db) and a bare pod:
 * db-1 is placed on n3 (zone c, the only room for 2 cpu), then the bare pod
 * keeps n1, and db-1 is back on n1. n2 (zone b) holds db-2 (1 cpu, the same
 * rule): n5 (zone a, 1 cpu free) is tighter, but db-1 is in zone a again;
 * n3 (zone c) is allowed. By hand: drain n2, db-2 -> n3. */
static void test_rules_undone_with_node(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    int32_t n1 = znode(c, "n1", "a", 4000), n2 = znode(c, "n2", "b", 4000);
    int32_t n3 = znode(c, "n3", "c", 4000), n5 = znode(c, "n5", "a", 4000);
    int32_t big = tmpl(c, 2000, false, "db", ANTI, "db");
    int32_t small = tmpl(c, 1000, false, "db", ANTI, "db");
    int32_t fill = tmpl(c, 1000, true, "fill", NONE, NULL);
    pod(c, "db-1", big, n1);
    pod(c, "bare-1", fill, n1);
    int32_t d2 = pod(c, "db-2", small, n2);
    pod(c, "fill-3a", fill, n3);
    pod(c, "fill-3b", fill, n3);
    pod(c, "fill-5a", fill, n5);
    pod(c, "fill-5b", fill, n5);
    pod(c, "fill-5c", fill, n5);
    int32_t only[2] = {n1, n2};
    ss_consolidate_opts_t o = {.only = only, .n_only = 2};
    ss_cplan_t p = plan_of(c, &o);
    assert_int_equal(p.n_drain, 1);
    assert_int_equal(p.drain_node[0], n2);
    assert_int_equal(p.n_moves, 1);
    assert_int_equal(p.move_pod[0], d2);
    assert_int_equal(p.move_to[0], n3);
    assert_int_equal(verify(c, &p, NULL), 0);
    p.move_to[0] = n5; /* its own term, and db-1's (the symmetric rule) */
    assert_int_equal(verify(c, &p, "required pod anti-affinity (a matching pod"), 2);
    assert_int_equal(verify(c, &p, "required pod anti-affinity of pod default/db-1 on n1"), 2);
    ss_cplan_free(&p);
    ss_cluster_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spread_forbids_obvious_target),
        cmocka_unit_test(test_anti_affinity_pair),
        cmocka_unit_test(test_affinity_follows_peer),
        cmocka_unit_test(test_rules_keep_plan_order),
        cmocka_unit_test(test_rules_undone_with_node),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
