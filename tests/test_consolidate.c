/* test_consolidate: the consolidation planner (engine/ss_consolidate*.c) and
 * its verifier (engine/ss_verify_plan.c) on hand-written clusters whose best
 * plan is known: three half-full nodes that fit on two; a PDB that allows one
 * disruption, so two replicas take two waves; a gang that cannot move and one
 * that moves whole; a DaemonSet pod that keeps its node; the drain
 * conventions one by one and --allow; --max-waves; then the verifier catching
 * hand-broken plans, and a plan's round trip through its file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ss_consolidate.h"
#include "ss_consolidate_rules.h"
#include "ss_plan_io.h"
#include "ss_test_consolidate.h"
#include "ss_verify_plan.h"

static int32_t S(ss_cluster_t *c, const char *s)
{
    int32_t id = ss_cluster_str(c, s);
    assert_true(id >= 0);
    return id;
}

static int32_t node(ss_cluster_t *c, const char *name, int64_t cpu)
{
    int32_t topo[4] = {S(c, "r"), S(c, "z"), S(c, "b"), S(c, "k")};
    int32_t i = ss_cluster_add_node(c, S(c, name), topo, cpu, INT64_C(1) << 36, 110, NULL, false, 0,
                                    0, 0, 0, c->n_gpus, 0);
    assert_true(i >= 0);
    return i;
}

/* A template of cpu milli with flags and one label app=<app>. */
static int32_t tmpl(ss_cluster_t *c, int64_t cpu, uint32_t flags, const char *app)
{
    ss_template_t t;
    memset(&t, 0, sizeof t);
    t.req.cpu_milli = cpu;
    t.req.memory = 1 << 20;
    t.plabel_begin = c->n_labels;
    assert_true(ss_cluster_add_label(c, S(c, "app"), S(c, app)) >= 0);
    t.plabel_count = 1;
    t.flags = flags | SS_TF_EVICT_FACTS;
    t.workload = S(c, app);
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
    int32_t v = ss_cluster_add_expr_value(c, S(c, app));
    int32_t e = ss_cluster_add_expr(c, S(c, "app"), SS_OP_IN, 0, v, 1);
    assert_true(v >= 0 && e >= 0);
    ss_pdb_t p = {S(c, app), S(c, "default"), {e, 1, 0}, -1, 0, -1, 0, allowed, 0};
    assert_true(ss_cluster_add_pdb(c, &p) >= 0);
}

/* Three nodes of 4 cpu, each with two pods of 1 cpu: 6 cpu fit on two
 * nodes. The plan frees exactly one node (the lower bound is 2) and moves
 * its two pods into the tightest room: both onto n2. */
static void test_three_half_full_fit_on_two(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    int32_t n[3] = {node(c, "n1", 4000), node(c, "n2", 4000), node(c, "n3", 4000)};
    int32_t t = tmpl(c, 1000, SS_TF_CONTROLLER, "web");
    char name[16];
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "p%d", i);
        pod(c, name, t, n[i / 2]);
    }
    ss_consolidate_opts_t o = {0};
    ss_cplan_t p = plan_of(c, &o);
    assert_int_equal(p.n_drain, 1);
    assert_int_equal(p.drain_node[0], n[0]);
    assert_int_equal(p.n_moves, 2);
    assert_int_equal(p.move_to[0], n[1]);
    assert_int_equal(p.move_to[1], n[1]);
    assert_int_equal(p.n_waves, 1);
    assert_int_equal(ss_consolidate_lower_bound(c), 2);
    assert_int_equal(verify(c, &p, NULL), 0);
    ss_cplan_free(&p);
    ss_cluster_destroy(c);
}

/* Two replicas under a PDB that allows one disruption: two waves, one move
 * each; a bare pod keeps n2 from being freed (and is never moved). */
static ss_cluster_t *pdb_cluster(void)
{
    ss_cluster_t *c = ss_cluster_create();
    int32_t n1 = node(c, "n1", 4000), n2 = node(c, "n2", 8000);
    int32_t web = tmpl(c, 1000, SS_TF_CONTROLLER, "web"), bare = tmpl(c, 1000, 0, "bare");
    pod(c, "web-1", web, n1);
    pod(c, "web-2", web, n1);
    pod(c, "lonely", bare, n2);
    pdb(c, "web", 1);
    return c;
}

static void test_pdb_two_waves(void **state)
{
    (void)state;
    ss_cluster_t *c = pdb_cluster();
    ss_consolidate_opts_t o = {0};
    ss_cplan_t p = plan_of(c, &o);
    assert_int_equal(p.n_drain, 1);
    assert_int_equal(p.drain_node[0], 0);
    assert_int_equal(p.drain_wave[0], 1);
    assert_int_equal(p.n_moves, 2);
    assert_int_equal(p.n_waves, 2);
    assert_int_equal(p.move_wave[0], 1);
    assert_int_equal(p.move_wave[1], 2);
    assert_int_equal(p.unmovable[SS_MOVE_BARE], 1);
    assert_int_equal(verify(c, &p, NULL), 0);
    /* one wave only: n1 cannot be emptied */
    o.max_waves = 1;
    ss_cplan_t q = plan_of(c, &o);
    assert_int_equal(q.n_drain, 0);
    assert_int_equal(q.n_moves, 0);
    assert_int_equal(q.not_freed, 2);
    ss_cplan_free(&q);
    /* the verifier catches both moves in one wave */
    p.move_wave[1] = 1;
    p.n_waves = 1;
    assert_int_equal(verify(c, &p, "PDB default/web loses 2 pods, disruptionsAllowed 1"), 1);
    ss_cplan_free(&p);
    ss_cluster_destroy(c);
}

/* A PDB with no budget fixes its pods. */
static void test_pdb_zero(void **state)
{
    (void)state;
    ss_cluster_t *c = pdb_cluster();
    c->pdbs[0].allowed = 0;
    ss_consolidate_opts_t o = {0};
    ss_cplan_t p = plan_of(c, &o);
    assert_int_equal(p.n_drain, 0);
    assert_int_equal(p.unmovable[SS_MOVE_PDB_ZERO], 2);
    ss_cplan_free(&p);
    ss_cluster_destroy(c);
}

/* A gang of two on n1 and n2, room for both on n3. It moves whole (both
 * members, one wave) when n1 is drained; with one member annotated
 * safe-to-evict "false" it cannot move, and n1 is kept. */
static ss_cluster_t *gang_cluster(uint32_t flags2)
{
    ss_cluster_t *c = ss_cluster_create();
    int32_t n1 = node(c, "n1", 4000), n2 = node(c, "n2", 4000), n3 = node(c, "n3", 8000);
    int32_t g = ss_cluster_add_group(c, S(c, "train"), 2, SS_TOPO_NODE, SS_TOPO_MODE_NONE);
    int32_t t1 = tmpl(c, 2000, SS_TF_CONTROLLER, "train");
    int32_t t2 = tmpl(c, 2000, SS_TF_CONTROLLER | flags2, "train");
    int32_t other = tmpl(c, 1000, 0, "bare");
    assert_true(ss_cluster_add_pod(c, S(c, "w0"), S(c, "default"), t1, 0, g, n1, 0) >= 0);
    assert_true(ss_cluster_add_pod(c, S(c, "w1"), S(c, "default"), t2, 0, g, n2, 0) >= 0);
    pod(c, "keep2", other, n2);
    pod(c, "keep3", other, n3);
    return c;
}

static void test_gang(void **state)
{
    (void)state;
    int32_t only = 0;
    ss_consolidate_opts_t o = {.only = &only, .n_only = 1};
    ss_cluster_t *c = gang_cluster(0);
    ss_cplan_t p = plan_of(c, &o);
    assert_int_equal(p.n_drain, 1);
    assert_int_equal(p.n_moves, 2); /* w0 from n1 and w1 from n2, both to n3 */
    assert_int_equal(p.move_to[0], 2);
    assert_int_equal(p.move_to[1], 2);
    assert_int_equal(p.move_wave[0], p.move_wave[1]);
    assert_int_equal(verify(c, &p, NULL), 0);
    /* the verifier catches a gang split over two waves */
    p.move_wave[1] = 2;
    p.n_waves = 2;
    assert_true(verify(c, &p, "not moved whole in one wave") >= 1);
    ss_cplan_free(&p);
    ss_cluster_destroy(c);

    c = gang_cluster(SS_TF_NOT_SAFE_EVICT);
    p = plan_of(c, &o);
    assert_int_equal(p.n_drain, 0);
    assert_int_equal(p.n_moves, 0);
    assert_int_equal(p.unmovable[SS_MOVE_NOT_SAFE], 1);
    assert_int_equal(p.unmovable[SS_MOVE_GANG], 1);
    ss_cplan_free(&p);
    ss_cluster_destroy(c);
}

/* A DaemonSet pod stays, so its node is not freed and its other pod does
 * not move either; moving it by hand is a violation. */
static void test_daemonset_stays(void **state)
{
    (void)state;
    ss_cluster_t *c = ss_cluster_create();
    int32_t n1 = node(c, "n1", 4000), n2 = node(c, "n2", 8000);
    int32_t ds = tmpl(c, 100, SS_TF_CONTROLLER | SS_TF_DAEMONSET, "agent");
    int32_t web = tmpl(c, 1000, SS_TF_CONTROLLER, "web"), bare = tmpl(c, 1000, 0, "bare");
    int32_t agent = pod(c, "agent-1", ds, n1);
    pod(c, "web-1", web, n1);
    pod(c, "lonely", bare, n2);
    ss_consolidate_opts_t o = {0};
    ss_cplan_t p = plan_of(c, &o);
    assert_int_equal(p.n_drain, 0);
    assert_int_equal(p.n_moves, 0);
    assert_int_equal(p.unmovable[SS_MOVE_DAEMONSET], 1);
    ss_cplan_free(&p);
    /* hand-broken: the DaemonSet pod moved, n1 drained with web-1 left */
    int32_t drain[1] = {n1}, dw[1] = {1}, mp[1] = {agent}, mf[1] = {n1}, mt[1] = {n2}, mw[1] = {1};
    uint64_t mm[1] = {0};
    ss_cplan_t bad = {.n_waves = 1,
                      .n_drain = 1,
                      .drain_node = drain,
                      .drain_wave = dw,
                      .n_moves = 1,
                      .move_pod = mp,
                      .move_from = mf,
                      .move_to = mt,
                      .move_wave = mw,
                      .move_gpu_mask = mm};
    assert_int_equal(verify(c, &bad, "may not move: a DaemonSet pod"), 2);
    assert_int_equal(verify(c, &bad, "web-1 is still on n1, which the plan drains"), 2);
    /* a target without room, and a target that is drained */
    mp[0] = 1; /* web-1 */
    c->node_cpu[n2] = 1500;
    assert_true(verify(c, &bad, "does not fit on n2 after the earlier moves: cpu") >= 1);
    mt[0] = n1;
    assert_true(verify(c, &bad, "goes to n1, which it is on") >= 1);
    ss_cluster_destroy(c);
}

/* The conventions one by one, and --allow relaxing them. */
static void test_conventions(void **state)
{
    (void)state;
    static const struct {
        uint32_t flags;
        const char *ns;
        int reason;
        uint32_t allow;
    } rows[] = {
        {SS_TF_CONTROLLER | SS_TF_MIRROR, "default", SS_MOVE_MIRROR, 0},
        {0, "default", SS_MOVE_BARE, SS_ALLOW_BARE},
        {SS_TF_CONTROLLER | SS_TF_LOCAL_STORAGE, "default", SS_MOVE_LOCAL_STORAGE,
         SS_ALLOW_LOCAL_STORAGE},
        {SS_TF_CONTROLLER | SS_TF_PVC, "default", SS_MOVE_PVC, SS_ALLOW_PVC},
        {SS_TF_CONTROLLER | SS_TF_NOT_SAFE_EVICT, "default", SS_MOVE_NOT_SAFE, SS_ALLOW_NOT_SAFE},
        {SS_TF_CONTROLLER | SS_TF_DO_NOT_DISRUPT, "default", SS_MOVE_DO_NOT_DISRUPT,
         SS_ALLOW_DO_NOT_DISRUPT},
        {SS_TF_CONTROLLER, "kube-system", SS_MOVE_KUBE_SYSTEM, SS_ALLOW_KUBE_SYSTEM},
        {SS_TF_CONTROLLER | SS_TF_LOCAL_STORAGE | SS_TF_SAFE_TO_EVICT, "default", SS_MOVE_OK, 0},
        {SS_TF_CONTROLLER, "default", SS_MOVE_OK, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ss_cluster_t *c = ss_cluster_create();
        int32_t n1 = node(c, "n1", 4000);
        int32_t t = tmpl(c, 1000, rows[i].flags, "x");
        int32_t q = ss_cluster_add_pod(c, S(c, "p"), S(c, rows[i].ns), t, 0, -1, n1, 0);
        assert_int_equal(ss_consolidate_movable(c, q, 0, NULL), rows[i].reason);
        if (rows[i].allow)
            assert_int_equal(ss_consolidate_movable(c, q, rows[i].allow, NULL), SS_MOVE_OK);
        ss_cluster_destroy(c);
    }
    uint32_t allow = 0;
    ss_error_t err = {{0}};
    assert_int_equal(ss_allow_parse("pvc,kube-system", &allow, &err), 0);
    assert_int_equal(allow, SS_ALLOW_PVC | SS_ALLOW_KUBE_SYSTEM);
    char buf[64];
    ss_allow_format(allow, buf, sizeof buf);
    assert_string_equal(buf, "kube-system,pvc");
    assert_int_equal(ss_allow_parse("pvc,nope", &allow, &err), SS_EINVAL);
    assert_non_null(strstr(err.text, "'nope'"));
}

/* The plan file keeps every dataset; a plan for another snapshot is refused. */
static void test_plan_file_round_trip(void **state)
{
    (void)state;
    ss_cluster_t *c = pdb_cluster();
    ss_consolidate_opts_t o = {.allow = SS_ALLOW_PVC};
    ss_cplan_t p = plan_of(c, &o), q;
    ss_error_t err = {{0}};
    char path[] = "/tmp/test_consolidate_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(ss_plan_write(path, c, &p, &err), 0);
    assert_int_equal(ss_plan_read(path, c, &q, &err), 0);
    assert_int_equal(q.n_waves, p.n_waves);
    assert_int_equal(q.allow, SS_ALLOW_PVC);
    assert_int_equal(q.n_moves, p.n_moves);
    assert_int_equal(q.n_drain, p.n_drain);
    assert_memory_equal(q.move_pod, p.move_pod, (size_t)p.n_moves * sizeof *p.move_pod);
    assert_memory_equal(q.move_to, p.move_to, (size_t)p.n_moves * sizeof *p.move_to);
    assert_memory_equal(q.move_wave, p.move_wave, (size_t)p.n_moves * sizeof *p.move_wave);
    assert_memory_equal(q.drain_node, p.drain_node, (size_t)p.n_drain * sizeof *p.drain_node);
    ss_cplan_free(&q);
    ss_cluster_t *c2 = pdb_cluster();
    c2->pod_node[2] = 0; /* another snapshot */
    assert_true(ss_plan_read(path, c2, &q, &err) < 0);
    assert_non_null(strstr(err.text, "another snapshot"));
    ss_cluster_destroy(c2);
    remove(path);
    ss_cplan_free(&p);
    ss_cluster_destroy(c);
}

static int rnd(uint64_t *r, int n)
{
    *r = *r * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int)((*r >> 33) % (uint64_t)n);
}

/* One required inter-pod rule of kind k (0..5) on template t, over app
 * <own> or app=web: a DoNotSchedule spread on the zone (maxSkew 1 + skew)
 * or the hostname, a required zone anti-affinity or affinity, a required
 * hostname anti-affinity; 5: none. */
static void random_rule(ss_cluster_t *c, ss_template_t *t, int k, const char *own, int skew)
{
    int32_t zone = S(c, "topology.kubernetes.io/zone"), host = S(c, "kubernetes.io/hostname");
    int32_t v = ss_cluster_add_expr_value(c, S(c, k == 3 ? "web" : own));
    int32_t e = ss_cluster_add_expr(c, S(c, "app"), SS_OP_IN, 0, v, 1);
    assert_true(v >= 0 && e >= 0);
    ss_selector_t sel = {e, 1, 0};
    t->spread_begin = c->n_spreads;
    t->pterm_begin = c->n_pterms;
    if (k <= 1) {
        ss_spread_t sp = {1 + skew, k == 0 ? zone : host, SS_WHEN_DO_NOT_SCHEDULE,
                          1,        SS_INCL_HONOR,        SS_INCL_IGNORE,
                          sel};
        assert_true(ss_cluster_add_spread(c, &sp) >= 0);
        t->spread_count = 1;
    } else if (k <= 4) {
        ss_podterm_t pt = {k == 3 ? SS_PT_AFFINITY : SS_PT_ANTI_AFFINITY,
                           0,
                           k == 4 ? host : zone,
                           sel,
                           0,
                           0,
                           {0, 0, 1}};
        assert_true(ss_cluster_add_pterm(c, &pt) >= 0);
        t->pterm_count = 1;
    }
}

/* After plan p: for every running pod q and node n, the planner's rules
 * (ss_consol_rules_ok, q lifted) and verify --plan's own recount (the plan
 * plus the move q -> n) agree on whether q's replacement may go to n.
 * Returns the number of (pod, node) pairs the rules refused. */
static int64_t rules_agree(const ss_cluster_t *c, ss_cplan_t *p)
{
    ss_consol_rules_t *rl = NULL;
    assert_int_equal(ss_consol_rules_create(c, &rl), 0);
    int32_t *at = malloc((size_t)c->n_pods * sizeof *at), k = p->n_moves, refused = 0;
    for (int32_t q = 0; q < c->n_pods; q++)
        at[q] = c->pod_node[q];
    for (int32_t i = 0; i < k; i++) {
        ss_consol_rules_move(rl, p->move_pod[i], p->move_to[i]);
        at[p->move_pod[i]] = p->move_to[i];
    }
    ss_cplan_t x = *p;
    x.move_pod = malloc(((size_t)k + 1) * sizeof(int32_t));
    x.move_from = malloc(((size_t)k + 1) * sizeof(int32_t));
    x.move_to = malloc(((size_t)k + 1) * sizeof(int32_t));
    x.move_wave = malloc(((size_t)k + 1) * sizeof(int32_t));
    x.move_gpu_mask = calloc((size_t)k + 1, sizeof(uint64_t));
    x.n_drain = 0; /* no "left on a drained node" messages */
    x.n_waves = p->n_waves > 0 ? p->n_waves : 1;
    x.n_moves = k + 1;
    for (int32_t i = 0; i < k; i++) {
        x.move_pod[i] = p->move_pod[i];
        x.move_from[i] = p->move_from[i];
        x.move_to[i] = p->move_to[i];
        x.move_wave[i] = p->move_wave[i];
    }
    ss_vplan_report_t *r = calloc(1, sizeof *r);
    char want[32];
    snprintf(want, sizeof want, "move %d: ", (int)k);
    for (int32_t q = 0; q < c->n_pods; q++)
        for (int32_t n = 0; at[q] >= 0 && n < c->n_nodes; n++) {
            if (n == at[q])
                continue;
            ss_consol_rules_lift(rl, q);
            bool ok = ss_consol_rules_ok(rl, q, n);
            ss_consol_rules_put(rl, q, at[q]);
            x.move_pod[k] = q;
            x.move_from[k] = at[q];
            x.move_to[k] = n;
            x.move_wave[k] = x.n_waves;
            ss_error_t err = {{0}};
            assert_true(ss_verify_plan(c, &x, r, &err) >= 0);
            bool vok = true;
            for (int32_t i = 0; i < r->n_messages; i++)
                if (!strncmp(r->messages[i], want, strlen(want)) &&
                    strstr(r->messages[i], "cannot go to"))
                    vok = false;
            if (ok != vok)
                fail_msg("pod row %d to node row %d: the planner says %s, verify says %s", (int)q,
                         (int)n, ok ? "yes" : "no", vok ? "yes" : "no");
            refused += !ok;
        }
    free(r);
    free(x.move_pod);
    free(x.move_from);
    free(x.move_to);
    free(x.move_wave);
    free(x.move_gpu_mask);
    free(at);
    ss_consol_rules_destroy(rl);
    return refused;
}

/* Random clusters (nodes of random size, some labelled; pods with random
 * requests, owners, local storage, nodeSelectors, gangs; two PDBs with
 * small budgets): every plan -- automatic, a random --drain list, a wave
 * limit -- verifies clean, and frees no more nodes than the lower bound
 * allows. Rounds 60..139 add three zones and the required inter-pod rules
 * (random_rule) on about half the templates: verify --plan recounts them
 * with its own code. */
static void test_random_plans_verify(void **state)
{
    (void)state;
    uint64_t r = 12345;
    int64_t drained = 0, moved = 0, waves2 = 0, rule_moves = 0, refused = 0;
#define RND(n) rnd(&r, (n))
    for (int round = 0; round < 140; round++) {
        bool rules = round >= 60;
        ss_cluster_t *c = ss_cluster_create();
        int nn = 4 + RND(12);
        char name[32];
        for (int i = 0; i < nn; i++) {
            snprintf(name, sizeof name, "n%02d", i);
            int32_t topo[4] = {S(c, "r"), S(c, "z"), S(c, "b"), S(c, "k")};
            int32_t lb = c->n_labels, nl = 0;
            if (RND(2)) {
                assert_true(ss_cluster_add_label(c, S(c, "disk"), S(c, "ssd")) >= 0);
                nl = 1;
            }
            if (rules) {
                snprintf(name, sizeof name, "z%d", RND(3));
                assert_true(
                    ss_cluster_add_label(c, S(c, "topology.kubernetes.io/zone"), S(c, name)) >= 0);
                nl++;
                snprintf(name, sizeof name, "n%02d", i);
            }
            assert_true(ss_cluster_add_node(c, S(c, name), topo, 1000 * (2 + RND(7)),
                                            INT64_C(1) << 36, 4 + RND(8), NULL, false, lb, nl, 0, 0,
                                            c->n_gpus, 0) >= 0);
        }
        int32_t g = ss_cluster_add_group(c, S(c, "gang"), 2, SS_TOPO_NODE, SS_TOPO_MODE_NONE);
        static const uint32_t kinds[] = {SS_TF_CONTROLLER,
                                         SS_TF_CONTROLLER,
                                         SS_TF_CONTROLLER,
                                         0,
                                         SS_TF_CONTROLLER | SS_TF_DAEMONSET,
                                         SS_TF_CONTROLLER | SS_TF_LOCAL_STORAGE};
        static const char *const apps[] = {"web", "api", "db"};
        int np = nn * (1 + RND(4));
        for (int i = 0; i < np; i++) {
            ss_template_t t;
            memset(&t, 0, sizeof t);
            t.req.cpu_milli = 100 * (1 + RND(15));
            t.req.memory = 1 << 20;
            t.plabel_begin = c->n_labels;
            assert_true(ss_cluster_add_label(c, S(c, "app"), S(c, apps[RND(3)])) >= 0);
            t.plabel_count = 1;
            t.sel_begin = c->n_labels;
            if (RND(5) == 0) {
                assert_true(ss_cluster_add_label(c, S(c, "disk"), S(c, "ssd")) >= 0);
                t.sel_count = 1;
            }
            t.flags = kinds[RND(6)] | SS_TF_EVICT_FACTS;
            t.workload = S(c, "w");
            const char *app = ss_cluster_strget(c, c->labels[t.plabel_begin].value);
            if (rules)
                random_rule(c, &t, RND(10) % 6, app, RND(2));
            int32_t ti = ss_cluster_add_template(c, &t);
            int32_t on = RND(nn), grp = RND(12) == 0 ? g : -1;
            snprintf(name, sizeof name, "p%03d", i);
            /* only where it fits, so the cluster starts valid and not over-committed */
            int64_t used = 0;
            int32_t cnt = 0;
            for (int32_t q = 0; q < c->n_pods; q++)
                if (c->pod_node[q] == on) {
                    used += c->templates[c->pod_template[q]].req.cpu_milli;
                    cnt++;
                }
            if (used + t.req.cpu_milli > c->node_cpu[on] || cnt + 1 > c->node_pods[on])
                continue;
            assert_true(ss_cluster_add_pod(c, S(c, name), S(c, "default"), ti, 0, grp, on, 0) >= 0);
        }
        pdb(c, "web", RND(3));
        pdb(c, "api", 1 + RND(2));
        ss_consolidate_opts_t o = {0};
        int32_t only[4];
        if (round % 3 == 1) {
            o.n_only = 1 + RND(4);
            for (int i = 0; i < o.n_only; i++)
                only[i] = RND(nn);
            o.only = only;
        }
        if (round % 4 == 2)
            o.max_waves = 1 + RND(2);
        if (round % 5 == 3)
            o.targets = SS_TARGET_LEAST_ALLOCATED;
        ss_cplan_t p = plan_of(c, &o);
        if (verify(c, &p, NULL) != 0)
            fail_msg("round %d: the plan does not verify", round);
        assert_true(p.n_drain <= c->n_nodes - ss_consolidate_lower_bound(c));
        assert_true(o.max_waves == 0 || p.n_waves <= o.max_waves);
        if (rules)
            refused += rules_agree(c, &p);
        drained += p.n_drain;
        moved += p.n_moves;
        for (int32_t i = 0; i < p.n_moves; i++) {
            const ss_template_t *tm = &c->templates[c->pod_template[p.move_pod[i]]];
            rule_moves += tm->spread_count + tm->pterm_count > 0;
        }
        waves2 += p.n_waves >= 2;
        ss_cplan_free(&p);
        ss_cluster_destroy(c);
    }
    print_message("random plans: %lld nodes freed, %lld moves (%lld of pods with inter-pod "
                  "rules), %lld plans of 2+ waves\n",
                  (long long)drained, (long long)moved, (long long)rule_moves, (long long)waves2);
    print_message("rules: the planner and verify agree; %lld (pod, node) pairs refused\n",
                  (long long)refused);
    /* the rounds exercise the planner */
    assert_true(drained > 0 && moved > 0 && waves2 > 0 && rule_moves > 0 && refused > 0);
#undef RND
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_half_full_fit_on_two),
        cmocka_unit_test(test_pdb_two_waves),
        cmocka_unit_test(test_pdb_zero),
        cmocka_unit_test(test_gang),
        cmocka_unit_test(test_daemonset_stays),
        cmocka_unit_test(test_conventions),
        cmocka_unit_test(test_plan_file_round_trip),
        cmocka_unit_test(test_random_plans_verify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
